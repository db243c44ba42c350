"""``DataLoader``: TMVA's input description (``tmva/tmva/src/DataLoader.cxx``).

A :class:`DataLoader` collects what TMVA's ``DataLoader`` collects — input variables, regression
targets, spectators, trees per class (with weights, cuts and tree types), event-wise input, weight
expressions, cuts and the options of ``PrepareTrainingAndTestTree`` — and builds from them, on first
use, a :class:`~pymva.data.dataset.DataSet` (``loader.GetDataSetInfo().GetDataSet()``) the way TMVA's
``DataSetFactory`` does (``../shared/tmva/core.md`` §3):

1. the split options are parsed (unknown options raise :class:`~pymva.errors.OptionError` here, as
   in TMVA, not when ``PrepareTrainingAndTestTree`` is called);
2. every tree of every class is read in chunks (:mod:`pymva.data.sources`), only the branches the
   expressions name; :func:`pymva.data.expression.build_events` builds the events (flattening of
   multi-valued inputs, the class cut, the weight expression); NaN or ±inf in a selected event is a
   :class:`~pymva.errors.DataError` naming each expression and how often it happened;
3. the events are split into training and testing samples, the training weights renormalised and the
   classes mixed (:mod:`pymva.data.split`);
4. training ranges of every variable and the weighted correlation matrix of every class are computed
   (one pass over the training events, :func:`pymva.data.split.weighted_moments`).

The building itself is :mod:`pymva.data.build`; what is described is kept in a
:class:`~pymva.data.info.DataSetInfo`.

The TMVA log lines go through :mod:`logging` (loggers ``pymva.data.loader``, ``pymva.data.info`` and ``pymva.data.build``) with TMVA's source names
``DataLoader``, ``DataSetInfo`` and ``DataSetFactory`` (see :mod:`pymva.logger`).

The DataSet is cached.  Any later change to the loader (variables, trees, events, cuts, weights,
split options) marks it for rebuilding, and the next ``GetDataSet()`` builds it again (printing TMVA's
``Rebuilding Dataset <name>``); DataSets handed out before are not modified.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from ..errors import DataError, did_you_mean
from ..logger import get_logger
from ..options import kwargs_to_tokens
from ..safety import check_name, check_text
from ..stl import StdVector
from ..tcut import TCut
from ..types import ETreeType
from .build import _DataSetBuilder
from .dataset import DataSet, VariableInfo
from .executor import DaskExecutor, as_executor
from .info import (
    ClassInfo,
    DataSetInfo,
    _AssignedEvents,
    _ColumnSpec,
    _cut_text,
    _formula,
    _tree_type,
    _TreeInfo,
    internal_name,
)
from .sources import MemorySource, TreeSource, open_source
from .stream import StreamChunk, StreamedDataSet, _StreamingBuilder, streaming_requested

_MODULE = "pymva.data.loader"
_log_loader = get_logger("DataLoader", _MODULE)


#: Blanks removed from variable, target and spectator declarations (TMVA removes ' '; the expression
#: grammar ignores all of these).
_BLANKS = re.compile(r"[ \t\n\r\f\v]+")


def _number(value: Any, what: str, *, finite: bool = True) -> float:
    """``value`` as a (finite) float; a :class:`DataError` naming ``what`` otherwise."""
    if isinstance(value, (bool, np.bool_)):
        raise DataError(f"{what} must be a number, not the boolean {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{what} must be a number, not {type(value).__name__} {value!r}") from None
    if finite and not math.isfinite(number):
        raise DataError(f"{what} must be finite, not {value!r}")
    return number


def _placeholder_number(value: Any, name: str, what: str, expression: str) -> float:
    """``min``/``max`` of a declaration as a float (a placeholder: ranges come from the data)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(
            f"{name} of {what} '{expression}' must be a number (a placeholder: the range is recomputed "
            f"from the training events), not {value!r}"
        ) from None


class DataLoader:
    """TMVA's ``DataLoader``: which variables to read from which trees, and how to split them.

    Parameters
    ----------
    thedlName : str
        The data-set name: directory of the output file and of the weight files
        (``<name>/weights/``).  A name, not a path: no ``/``, ``\\`` or ``..``, no control
        characters, at most 200 bytes in UTF-8 (:func:`pymva.safety.check_name`).  ``""`` is
        allowed, as in TMVA: the weights files then go to ``weights/``.
    Executor : distributed.Client, str or None, keyword only
        A pymva extension: read and select the trees on a Dask cluster (``pymva[dask]``,
        :mod:`pymva.data.executor`): a ``distributed.Client``, or the address of a Dask scheduler
        (``"tcp://host:8786"``).  The DataSet is the one built without it, bit for bit.  ``None``
        (the default) reads in this process.

    Raises
    ------
    OptionError
        If ``thedlName`` is not such a name, or ``Executor`` is none of the above.
    MissingExtraError
        If ``Executor`` is given and dask's ``distributed`` is not installed
        (``pip install pymva[dask]``).

    Examples
    --------
    >>> loader = DataLoader("dataset")
    >>> loader.AddVariable("var1 := x + y", "F")
    >>> loader.AddVariable("abs(z)", "|z|", "cm")
    >>> loader.AddSignalTree("tmva_class_example.root:TreeS", 1.0)        # doctest: +SKIP
    >>> loader.AddBackgroundTree("tmva_class_example.root:TreeB", 1.0)    # doctest: +SKIP
    >>> loader.PrepareTrainingAndTestTree("", "SplitMode=Random:NormMode=NumEvents:!V")
    """

    def __init__(self, thedlName: str = "default", *, Executor: Any = None) -> None:
        # "" is allowed: TMVA scripts use DataLoader("") (the weights then go to weights/)
        self._name = check_name(
            thedlName, argument="DataLoader(thedlName): the data-set name", allow_empty=True
        )
        self._executor: DaskExecutor | None = as_executor(Executor)
        self._dsi = DataSetInfo(self._name, self._build_dataset)
        self._trees: list[_TreeInfo] = []
        self._explicit_type: dict[str, bool] = {}
        self._assigned: dict[str, _AssignedEvents] = {}

    # ------------------------------------------------------------------ names
    def GetName(self) -> str:
        """The data-set name."""
        return self._name

    @property
    def name(self) -> str:
        """The data-set name."""
        return self._name

    def _build_dataset(self, dsi: DataSetInfo) -> DataSet:
        """Build the DataSet of ``dsi`` from this loader's trees and events (``DataSetFactory``)."""
        if streaming_requested(dsi.split_options, dsi.GetClassNames(), self._name):
            return _StreamingBuilder(dsi, self._trees, self._assigned, self._executor).build()
        return _DataSetBuilder(dsi, self._trees, self._assigned, self._executor).build()

    @property
    def executor(self) -> DaskExecutor | None:
        """The Dask executor that reads the trees (``DataLoader(..., Executor=client)``), or ``None``."""
        return self._executor

    def stream(self, which: str = "train") -> Iterator[StreamChunk]:
        """The training or testing events chunk by chunk, without building the DataSet (pymva extension).

        The events are read and split as with the split option ``Streaming=True`` (see
        :mod:`pymva.data.stream`; ``ChunkSize`` sets the chunk size, the per-class ``nTrain``/``nTest``
        the fractions) and nothing is kept between chunks, so memory stays that of one chunk whatever
        the size of the trees.  Call :meth:`PrepareTrainingAndTestTree` first (``Streaming=True`` is
        implied here).  Each call reads the trees again.

        Parameters
        ----------
        which : {"train", "test"}

        Yields
        ------
        pymva.data.stream.StreamChunk
            ``X``, ``targets``, ``spectators`` (float32), input ``weights`` (not renormalised),
            ``class_id``; the classes interleaved in about their proportions.

        Raises
        ------
        OptionError
            Bad split options, ``SplitMode`` other than Random, events added one by one, a bad ``which``.
        DataError
            As building the DataSet (missing branches, NaN in selected events, …).
        """
        return _StreamingBuilder(self._dsi, self._trees, self._assigned, self._executor).iter_chunks(which)

    def is_streaming(self) -> bool:
        """Whether the split options ask for ``Streaming=True`` (pymva extension).

        Raises
        ------
        OptionError
            Split options that cannot be interpreted.
        """
        return streaming_requested(self._dsi.split_options, self._dsi.GetClassNames(), self._name)

    def streamed_dataset(self) -> StreamedDataSet:
        """One pass over the ``Streaming=True`` stream: the DataSet without its events (pymva extension).

        What the Factory trains, tests and evaluates from when the loader streams: TMVA's tables are
        logged, the training ranges and correlation matrices are computed chunk by chunk, and only the
        weights, class indices and targets of the events are kept
        (:class:`pymva.data.stream.StreamedDataSet`; :meth:`~StreamedDataSet.chunks` reads the events
        again).  Each call reads the trees again.

        Raises
        ------
        OptionError, DataError
            As :meth:`stream`.
        """
        return _StreamingBuilder(self._dsi, self._trees, self._assigned, self._executor).scan()

    def GetDataSetInfo(self) -> DataSetInfo:
        """The :class:`DataSetInfo` (``GetDataSet()`` builds the DataSet)."""
        return self._dsi

    DefaultDataSetInfo = GetDataSetInfo

    @property
    def variables(self) -> list[VariableInfo]:
        """The input variables (training min/max filled in once the DataSet is built)."""
        return self._dsi.variables

    @property
    def targets(self) -> list[VariableInfo]:
        """The regression targets."""
        return self._dsi.targets

    @property
    def spectators(self) -> list[VariableInfo]:
        """The spectators."""
        return self._dsi.spectators

    @property
    def class_names(self) -> list[str]:
        """Class names in class-index order (order of first mention)."""
        return self._dsi.GetClassNames()

    def __repr__(self) -> str:
        return (
            f"DataLoader({self._name!r}: {len(self.variables)} variables, {len(self.targets)} targets, "
            f"{len(self.spectators)} spectators, classes {self.class_names}, {len(self._trees)} trees)"
        )

    # ------------------------------------------------------------------ variables
    def _make_info(
        self,
        expression: str,
        title: str,
        unit: str,
        vtype: str,
        vmin: float,
        vmax: float,
        kind: str,
        what: str,
    ) -> VariableInfo:
        if not isinstance(expression, str):
            raise DataError(f"{what} must be a string expression, not {type(expression).__name__}")
        check_text(expression, argument=f"{what} expression", blanks=True)
        text = _BLANKS.sub("", expression)
        if ":=" in text:
            label, _, expr = text.partition(":=")
        else:
            label = expr = text
        if not expr or not label:
            raise DataError(f"{what} '{expression}' is empty (use 'label := expression' or 'expression')")
        _formula(expr, f"{what} '{expression}'")
        vt = str(vtype).upper()
        if vt not in ("F", "I"):
            raise DataError(f"{what} '{expression}': type must be 'F' or 'I', not {vtype!r}")
        title_text = check_text(str(title or ""), argument=f"{what} '{text}': the title")
        unit_text = check_text(str(unit or ""), argument=f"{what} '{text}': the unit")
        info = VariableInfo(
            expression=expr,
            label=label,
            internal_name=internal_name(label),
            title=title_text,
            unit=unit_text,
            type=vt,
            min=float(vmin),
            max=float(vmax),
            kind=kind,  # type: ignore[arg-type]
        )
        for existing in self.variables + self.targets + self.spectators:
            if existing.internal_name == info.internal_name:
                _log_loader.warning(
                    "%s '%s' has the same internal name '%s' as the %s '%s'",
                    what,
                    expression,
                    info.internal_name,
                    existing.kind,
                    existing.expression,
                )
        return info

    @overload
    def AddVariable(
        self, expression: str, title: str, unit: str = "", type: str = "F", min: float = 0.0, max: float = 0.0
    ) -> None: ...

    @overload
    def AddVariable(self, expression: str, type: str = "F", min: float = 0.0, max: float = 0.0) -> None: ...

    def AddVariable(self, expression: str, *args: Any, **kwargs: Any) -> None:
        """Add an input variable (TMVA's two signatures).

        ``AddVariable(expression, title, unit, type='F', min=0, max=0)`` or
        ``AddVariable(expression, type='F', min=0, max=0)``.  ``expression`` may be
        ``"label := expression"``; blanks are removed.  The label defaults to the expression, the title to
        the label; the internal name (TrainTree/TestTree branch) is the label with special characters
        rewritten (:func:`internal_name`).  ``type`` ``'F'`` or ``'I'`` only changes plot binning.
        ``min``/``max`` are placeholders: the ranges are recomputed from the training events.

        Raises
        ------
        DataError
            An expression that does not parse (the message shows where), a type other than F/I, or a
            ``min``/``max`` that is not a number.
        OptionError
            A control character in the expression (blanks aside), label, title or unit
            (:func:`pymva.safety.check_text`): it could not be written into the weights file.
        """
        title, unit, vtype, vmin, vmax = self._variable_args(args, kwargs, expression)
        info = self._make_info(expression, title, unit, vtype, vmin, vmax, "variable", "input variable")
        self._dsi.variables.append(info)
        self._dsi._columns.append(_ColumnSpec("Input", info.expression))
        self._dsi._changed()

    @staticmethod
    def _variable_args(
        args: tuple[Any, ...], kwargs: dict[str, Any], expression: str = ""
    ) -> tuple[str, str, str, float, float]:
        names_long = ["title", "unit", "type", "min", "max"]
        names_short = ["type", "min", "max"]
        type_form = (
            bool(args)
            and isinstance(args[0], str)
            and len(args[0]) == 1
            and (len(args) == 1 or not isinstance(args[1], str))
        )
        if not args and "title" not in kwargs and "unit" not in kwargs:
            type_form = True
        names = names_short if type_form else names_long
        if len(args) > len(names):
            raise DataError(f"AddVariable takes at most {len(names) + 1} positional arguments")
        values: dict[str, Any] = {"title": "", "unit": "", "type": "F", "min": 0.0, "max": 0.0}
        values.update(zip(names, args, strict=False))
        for k, v in kwargs.items():
            if k not in values:
                raise DataError(
                    f"AddVariable got an unexpected keyword argument '{k}'{did_you_mean(k, values)}"
                )
            values[k] = v
        vmin = _placeholder_number(values["min"], "min", "input variable", expression)
        vmax = _placeholder_number(values["max"], "max", "input variable", expression)
        return str(values["title"]), str(values["unit"]), str(values["type"]), vmin, vmax

    def AddVariablesArray(
        self, expression: str, size: int, type: str = "F", min: float = 0.0, max: float = 0.0
    ) -> None:
        """Add ``size`` input variables reading elements ``0 … size-1`` of one array expression.

        The internal names are ``<internal name>[i]``.  An entry whose array is shorter than ``size`` is a
        :class:`~pymva.errors.DataError` (TMVA aborts), a longer one a warning (extra elements ignored).
        """
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)):
            raise DataError(
                f"AddVariablesArray('{expression}', {size!r}): the size must be a positive integer, "
                f"not {size.__class__.__name__}"
            )
        n = int(size)
        if n <= 0:
            raise DataError(f"AddVariablesArray('{expression}', {size}): the size must be positive")
        base = self._make_info(expression, "", "", type, min, max, "variable", "input variable array")
        for i in range(n):
            info = copy.copy(base)
            info.title = f"{base.label}[{i}]"
            info.internal_name = f"{base.internal_name}[{i}]"
            self._dsi.variables.append(info)
            self._dsi._columns.append(_ColumnSpec("Input", base.expression, index=i, size=n))
        self._dsi._changed()

    def SetInputVariables(self, theVariables: Sequence[str]) -> None:
        """Add every expression of a list as an input variable."""
        for v in theVariables:
            self.AddVariable(v)

    @staticmethod
    def _placeholder_range(expression: str, what: str, vmin: Any, vmax: Any) -> tuple[float, float]:
        """``min``/``max`` of ``AddSpectator``/``AddTarget`` as floats.

        TMVA's tutorials call ``AddSpectator(expr, title, unit, 'F')`` although the signature has no
        type: C++ turns the char into the placeholder minimum (recomputed from the data anyway).  A
        type letter ``'F'``/``'I'`` there is therefore accepted and read as 0.
        """
        if isinstance(vmin, str) and vmin.upper() in ("F", "I"):
            vmin = 0.0
        return (
            _placeholder_number(vmin, "min", what, expression),
            _placeholder_number(vmax, "max", what, expression),
        )

    def AddSpectator(
        self, expression: str, title: str = "", unit: str = "", min: float = 0.0, max: float = 0.0
    ) -> None:
        """Add a spectator: read and carried along (TrainTree/TestTree), never used for training.

        ``min``/``max`` are placeholders; a type letter in their place (``AddSpectator(expr, title,
        unit, 'F')``, as TMVA's tutorials write it) is accepted.

        Raises
        ------
        DataError
            An expression that does not parse, or a ``min``/``max`` that is not a number.
        """
        vmin, vmax = self._placeholder_range(expression, "spectator", min, max)
        self._dsi.spectators.append(
            self._make_info(expression, title, unit, "F", vmin, vmax, "spectator", "spectator")
        )
        self._dsi._changed()

    def AddTarget(
        self, expression: str, title: str = "", unit: str = "", min: float = 0.0, max: float = 0.0
    ) -> None:
        """Add a regression target (an expression, like a variable).

        ``min``/``max`` as in :meth:`AddSpectator`.

        Raises
        ------
        DataError
            An expression that does not parse, or a ``min``/``max`` that is not a number.
        """
        vmin, vmax = self._placeholder_range(expression, "target", min, max)
        self._dsi.targets.append(
            self._make_info(expression, title, unit, "F", vmin, vmax, "target", "target")
        )
        self._dsi._changed()

    AddRegressionTarget = AddTarget

    # ------------------------------------------------------------------ trees
    def AddTree(
        self,
        tree: Any,
        className: str,
        weight: float = 1.0,
        cut: str | TCut = "",
        treetype: ETreeType | int | str = ETreeType.kMaxTreeType,
    ) -> None:
        """Add a tree of events of class ``className``.

        Parameters
        ----------
        tree : object
            An uproot TTree, ``"file.root:tree"``, a glob or list of those (a chain), or events in memory
            (dict of arrays, pandas DataFrame, awkward record array); see :mod:`pymva.data.sources`.
        className : str
            The class; classes get their index in order of first mention.
        weight : float
            Tree weight, multiplied with the class's weight expression.
        cut : str or TCut
            Selection applied to this tree only (before the class cut is counted): an entry is kept
            when any value of the expression is non-zero (ROOT's ``TTree::CopyTree``).
        treetype : Types.kTraining, Types.kTesting, Types.kMaxTreeType or str
            Events for training only, testing only, or both (split by ``PrepareTrainingAndTestTree``);
            strings as TMVA reads them (``"Training"``, ``"Test"``, ``"Training and Testing"``).

        Raises
        ------
        DataError
            A file, tree or glob that cannot be found (naming what exists), an empty tree
            (``Encountered empty TTree or TChain of class <c>``), an untyped tree after a typed first
            tree of the same class, a tree type that cannot be interpreted, a cut that does not parse,
            a weight that is not a finite number, a class name that is not a string.
        OptionError
            A control character in the class name or the cut.
        """
        self._add_tree(open_source(tree), className, weight, cut, treetype)

    def _add_tree(
        self,
        source: TreeSource,
        className: str,
        weight: float,
        cut: str | TCut,
        treetype: ETreeType | int | str,
    ) -> None:
        tt = _tree_type(treetype)
        cut_text = _cut_text(cut)
        if cut_text:
            _formula(cut_text, f"cut '{cut_text}' of tree {source.name}")
        w = _number(weight, f"the weight of tree {source.name} of class {className}")
        self._dsi.AddClass(className)
        n = source.num_entries
        _log_loader.info("Add Tree %s of type %s with %d events", source.name, className, n)
        if n == 0:
            raise DataError(f"Encountered empty TTree or TChain of class {className} ({source.description})")
        first = [t for t in self._trees if t.class_name == className]
        if not first:
            self._explicit_type[className] = tt != ETreeType.kMaxTreeType
        elif self._explicit_type[className] and tt == ETreeType.kMaxTreeType:
            raise DataError(
                f"For the tree {source.name} of class {className} you did not specify a type, while you did "
                f"for the first tree {first[0].source.name} of class {className}; give every tree of the class "
                "a type (Types.kTraining or Types.kTesting)"
            )
        self._trees.append(_TreeInfo(source, className, w, cut_text, tt))
        self._dsi._changed()

    def _add_class_tree(
        self,
        tree: Any,
        class_name: str,
        weight: float,
        treetype: ETreeType | int | str,
        ascii_name: str,
        label: str,
    ) -> None:
        # the weight first: AddSignalTree(t, "abc") must not open files before saying so
        weight = _number(weight, f"Add{label}Tree(tree, weight): the weight")
        source = open_source(tree, ascii_name=ascii_name)
        if isinstance(source, MemorySource) and source.name == ascii_name:
            _log_loader.info(
                'Create TTree objects from ASCII input files ... \n- %s file    : "%s', label, tree
            )
        self._add_tree(source, class_name, weight, "", treetype)

    def AddSignalTree(
        self, signal: Any, weight: float = 1.0, treetype: ETreeType | int | str = ETreeType.kMaxTreeType
    ) -> None:
        """``AddTree(signal, "Signal", weight, "", treetype)``; a path to a text file is read as ``TreeS``."""
        self._add_class_tree(signal, "Signal", weight, treetype, "TreeS", "Signal")

    def AddBackgroundTree(
        self, background: Any, weight: float = 1.0, treetype: ETreeType | int | str = ETreeType.kMaxTreeType
    ) -> None:
        """``AddTree(background, "Background", weight, "", treetype)``; a text file is read as ``TreeB``."""
        self._add_class_tree(background, "Background", weight, treetype, "TreeB", "Background")

    def AddRegressionTree(
        self, tree: Any, weight: float = 1.0, treetype: ETreeType | int | str = ETreeType.kMaxTreeType
    ) -> None:
        """``AddTree(tree, "Regression", weight, "", treetype)``."""
        self.AddTree(tree, "Regression", weight, "", treetype)

    def SetSignalTree(self, tree: Any, weight: float = 1.0) -> None:
        """``AddTree(tree, "Signal", weight)``."""
        self.AddTree(tree, "Signal", weight)

    def SetBackgroundTree(self, tree: Any, weight: float = 1.0) -> None:
        """``AddTree(tree, "Background", weight)``."""
        self.AddTree(tree, "Background", weight)

    def SetTree(self, tree: Any, className: str, weight: float = 1.0) -> None:
        """``AddTree(tree, className, weight)``."""
        self.AddTree(tree, className, weight)

    def SetInputTrees(self, *args: Any) -> None:
        """Signal and background trees in one call (TMVA's two forms).

        ``SetInputTrees(signal, background, signalWeight=1, backgroundWeight=1)``, or
        ``SetInputTrees(tree, sigCut, bkgCut)``: one tree whose events the two cuts assign to the classes.
        """
        if (
            len(args) == 3
            and isinstance(args[1], str)
            and isinstance(args[2], str)
            and not _looks_like_file(args[1])
        ):
            tree, sig_cut, bkg_cut = args
            source = open_source(tree)
            self._add_tree(source, "Signal", 1.0, sig_cut, ETreeType.kMaxTreeType)
            self._add_tree(source, "Background", 1.0, bkg_cut, ETreeType.kMaxTreeType)
            return
        if not 2 <= len(args) <= 4:
            raise DataError(
                "SetInputTrees(signal, background, signalWeight=1, backgroundWeight=1) or "
                "SetInputTrees(tree, sigCut, bkgCut)"
            )
        sig, bkg = args[0], args[1]
        ws = _number(args[2], "SetInputTrees: the signal weight") if len(args) > 2 else 1.0
        wb = _number(args[3], "SetInputTrees: the background weight") if len(args) > 3 else 1.0
        self.AddTree(sig, "Signal", ws, "", ETreeType.kMaxTreeType)
        self.AddTree(bkg, "Background", wb, "", ETreeType.kMaxTreeType)

    # ------------------------------------------------------------------ event-wise input
    def AddEvent(
        self, className: str, tt: ETreeType | int | str, event: Sequence[float], weight: float = 1.0
    ) -> None:
        """Add one event: ``event`` holds the variables, then the targets, then the spectators."""
        ttype = _tree_type(tt)
        if ttype == ETreeType.kMaxTreeType:
            raise DataError(
                "an event added one by one goes to training (Types.kTraining) or testing (Types.kTesting)"
            )
        if isinstance(event, (str, bytes)) or not hasattr(event, "__iter__"):
            raise DataError(
                f"an event of class {className} must be a sequence of numbers, not {type(event).__name__}"
            )
        values = tuple(
            _number(v, f"value {i} of an event of class {className}", finite=False)
            for i, v in enumerate(event)
        )
        w = _number(weight, f"the weight of an event of class {className}")
        n_expected = len(self.variables) + len(self.targets) + len(self.spectators)
        if len(values) != n_expected:
            raise DataError(
                f"an event of class {className} has {len(values)} values; expected {n_expected} "
                f"({len(self.variables)} variables, {len(self.targets)} targets, {len(self.spectators)} "
                "spectators, in this order)"
            )
        self._dsi.AddClass(className)
        store = self._assigned.setdefault(str(className), _AssignedEvents())
        (store.train if ttype == ETreeType.kTraining else store.test).append((values, w))
        self._dsi._changed()

    def AddSignalTrainingEvent(self, event: Sequence[float], weight: float = 1.0) -> None:
        """Add one signal event for training."""
        self.AddEvent("Signal", ETreeType.kTraining, event, weight)

    def AddSignalTestEvent(self, event: Sequence[float], weight: float = 1.0) -> None:
        """Add one signal event for testing."""
        self.AddEvent("Signal", ETreeType.kTesting, event, weight)

    def AddBackgroundTrainingEvent(self, event: Sequence[float], weight: float = 1.0) -> None:
        """Add one background event for training."""
        self.AddEvent("Background", ETreeType.kTraining, event, weight)

    def AddBackgroundTestEvent(self, event: Sequence[float], weight: float = 1.0) -> None:
        """Add one background event for testing."""
        self.AddEvent("Background", ETreeType.kTesting, event, weight)

    def AddTrainingEvent(self, className: str, event: Sequence[float], weight: float = 1.0) -> None:
        """Add one event of class ``className`` for training."""
        self.AddEvent(className, ETreeType.kTraining, event, weight)

    def AddTestEvent(self, className: str, event: Sequence[float], weight: float = 1.0) -> None:
        """Add one event of class ``className`` for testing."""
        self.AddEvent(className, ETreeType.kTesting, event, weight)

    # ------------------------------------------------------------------ weights and cuts
    def SetWeightExpression(self, variable: str, className: str = "") -> None:
        """Set the weight expression of a class; without class name of ``Signal`` **and** ``Background``.

        As in TMVA, an empty class name creates the classes ``Signal`` and ``Background`` if they do not
        exist yet (for multiclass, name the class).
        """
        if not className:
            self._dsi.SetWeightExpression(variable, "Signal")
            self._dsi.SetWeightExpression(variable, "Background")
        else:
            self._dsi.SetWeightExpression(variable, className)

    def SetSignalWeightExpression(self, variable: str) -> None:
        """Weight expression of class ``Signal``."""
        self._dsi.SetWeightExpression(variable, "Signal")

    def SetBackgroundWeightExpression(self, variable: str) -> None:
        """Weight expression of class ``Background``."""
        self._dsi.SetWeightExpression(variable, "Background")

    def SetCut(self, cut: str | TCut, className: str = "") -> None:
        """Replace the cut of a class; an empty class name means every class registered so far."""
        self._dsi.SetCut(cut, className)

    def AddCut(self, cut: str | TCut, className: str = "") -> None:
        """AND a cut to that of a class (``(old)&&(new)``); empty class name: classes registered so far."""
        self._dsi.AddCut(cut, className)

    # ------------------------------------------------------------------ split
    def PrepareTrainingAndTestTree(self, *args: Any, **kwargs: Any) -> None:
        """Set the cuts and store the split options (TMVA's four forms).

        * ``PrepareTrainingAndTestTree(cut, opts="")`` — ``AddCut(cut)`` for every class;
        * ``PrepareTrainingAndTestTree(sigCut, bkgCut, opts)``;
        * ``PrepareTrainingAndTestTree(cut, nSigTrain, nBkgTrain, nSigTest, nBkgTest,
          otherOpt="SplitMode=Random:!V")``;
        * ``PrepareTrainingAndTestTree(cut, Ntrain, Ntest=-1)`` (deprecated; its ``EqualTrainSample``
          option is rejected when the DataSet is built, as in TMVA).

        Keyword arguments are options (``nTrain_Signal=1000``, ``SplitMode="Random"``, ``V=False``) and
        are appended to the option string.  The options are only stored here; they are parsed when the
        DataSet is built (first training), where an unknown option raises
        :class:`~pymva.errors.OptionError`.
        """
        extra = ":".join(kwargs_to_tokens(kwargs))

        def with_kwargs(opts: str) -> str:
            return f"{opts}:{extra}" if extra and opts else (extra or opts)

        def is_number(x: Any) -> bool:
            return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

        if not args:
            args = ("",)
        cut = args[0]
        rest = args[1:]
        if len(rest) in (4, 5) and all(is_number(x) for x in rest[:4]):
            other = str(rest[4]) if len(rest) == 5 else "SplitMode=Random:!V"
            opts = (
                f"nTrain_Signal={int(rest[0])}:nTrain_Background={int(rest[1])}:nTest_Signal={int(rest[2])}:"
                f"nTest_Background={int(rest[3])}:{other}"
            )
            self.AddCut(cut)
            self._dsi.SetSplitOptions(with_kwargs(opts))
        elif 1 <= len(rest) <= 2 and all(is_number(x) for x in rest):
            n_train = int(rest[0])
            n_test = int(rest[1]) if len(rest) == 2 else -1
            self.AddCut(cut)
            self._dsi.SetSplitOptions(
                with_kwargs(
                    f"nTrain_Signal={n_train}:nTrain_Background={n_train}:nTest_Signal={n_test}:"
                    f"nTest_Background={n_test}:SplitMode=Random:EqualTrainSample:!V"
                )
            )
        elif len(rest) == 2:
            sig_cut, bkg_cut, opts = cut, rest[0], rest[1]
            _log_loader.info("Preparing trees for training and testing...")
            self.AddCut(sig_cut, "Signal")
            self.AddCut(bkg_cut, "Background")
            self._dsi.SetSplitOptions(with_kwargs(str(opts)))
        elif len(rest) <= 1:
            opts = str(rest[0]) if rest else ""
            self._dsi.PrintClasses()
            self.AddCut(cut)
            self._dsi.SetSplitOptions(with_kwargs(opts))
        else:
            raise DataError(
                "PrepareTrainingAndTestTree(cut, opts), (sigCut, bkgCut, opts), "
                "(cut, nSigTrain, nBkgTrain, nSigTest, nBkgTest, otherOpt) or (cut, Ntrain, Ntest); got "
                f"{len(args)} arguments"
            )

    # ------------------------------------------------------------------ results
    def GetCorrelationMatrix(self, className: str) -> npt.NDArray[np.float64]:
        """Weighted correlation matrix of the input variables of one class (see :class:`DataSetInfo`)."""
        return self._dsi.GetCorrelationMatrix(className)

    @classmethod
    def from_dataset(cls, dataset: DataSet) -> DataLoader:
        """A loader whose DataSet is ``dataset``, already built (pymva; no trees are read).

        TMVA's envelopes train methods on DataSets made from the events of one loaded DataSet
        (``DataLoader::PrepareFoldDataSet`` for cross-validation folds, ``DataLoaderCopy`` for the
        variable subsets of ``VariableImportance``).  Such a loader hands them to a
        :class:`~pymva.factory.Factory` as any loader would: its name, variables, targets,
        spectators and classes are the DataSet's, and ``GetDataSetInfo().GetDataSet()`` returns
        ``dataset`` itself.  Declare nothing more on it: variables, trees or cuts added later would
        make the DataSet be rebuilt from trees the loader does not have.

        Parameters
        ----------
        dataset : DataSet
            The built DataSet (its ``name`` becomes the loader's).

        Returns
        -------
        DataLoader
        """
        new = cls(dataset.name)
        dsi = new._dsi
        dsi.variables = StdVector(copy.copy(v) for v in dataset.variables)
        dsi.targets = StdVector(copy.copy(v) for v in dataset.targets)
        dsi.spectators = StdVector(copy.copy(v) for v in dataset.spectators)
        dsi.classes = [ClassInfo(name, i) for i, name in enumerate(dataset.class_names)]
        dsi._dataset = dataset
        dsi._needs_rebuilding = False
        return new

    def MakeCopy(self, name: str) -> DataLoader:
        """A new loader named ``name`` with the same variables, classes, trees, events, cuts and options."""
        new = DataLoader(name, Executor=self._executor)
        new._dsi.variables = StdVector(copy.copy(v) for v in self.variables)
        new._dsi.targets = StdVector(copy.copy(v) for v in self.targets)
        new._dsi.spectators = StdVector(copy.copy(v) for v in self.spectators)
        new._dsi._columns = list(self._dsi._columns)
        new._dsi.classes = [ClassInfo(c.name, c.number, TCut(c.cut), c.weight) for c in self._dsi.classes]
        new._dsi.split_options = self._dsi.split_options
        new._trees = list(self._trees)
        new._explicit_type = dict(self._explicit_type)
        new._assigned = {k: _AssignedEvents(list(v.train), list(v.test)) for k, v in self._assigned.items()}
        return new


def _looks_like_file(text: str) -> bool:
    return ".root" in text or "/" in text or "*" in text
