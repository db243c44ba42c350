"""``DataLoader`` and ``DataSetInfo``: TMVA's input description and data-set construction.

A :class:`DataLoader` collects what TMVA's ``DataLoader`` collects — input variables, regression
targets, spectators, trees per class (with weights, cuts and tree types), event-wise input, weight
expressions, cuts and the options of ``PrepareTrainingAndTestTree`` — and builds from them, on first
use, a :class:`~pymva.dataset.DataSet` (``loader.GetDataSetInfo().GetDataSet()``) the way TMVA's
``DataSetFactory`` does (``../shared/tmva/core.md`` §3):

1. the split options are parsed (unknown options raise :class:`~pymva.errors.OptionError` here, as
   in TMVA, not when ``PrepareTrainingAndTestTree`` is called);
2. every tree of every class is read in chunks (:mod:`pymva.treesource`), only the branches the
   expressions name; :func:`pymva.expression.build_events` builds the events (flattening of
   multi-valued inputs, the class cut, the weight expression); NaN or ±inf in a selected event is a
   :class:`~pymva.errors.DataError` naming each expression and how often it happened;
3. the events are split into training and testing samples, the training weights renormalised and the
   classes mixed (:mod:`pymva.split`);
4. training ranges of every variable and the weighted correlation matrix of every class are computed
   (one pass over the training events, :func:`pymva.split.weighted_moments`).

How the event values travel: when the numbers of events are known before reading (no class or tree
cut, every expression one value per entry), the split and the mixing are decided first, with the same
random draws in the same order, and every block of events goes straight from the branches to its
final row (``_DirectPlan``).  Otherwise the events are kept in float32 slabs while reading and
scattered to their rows after the split (:func:`pymva.split.scatter_rows`).  Both give the same
DataSet.  The training and testing arrays (``X``, ``targets``, ``spectators``) are the two parts of
one array each (views).

The TMVA log lines go through :mod:`logging` (logger ``pymva.dataloader``) with TMVA's source names
``DataLoader``, ``DataSetInfo`` and ``DataSetFactory`` (see :mod:`pymva.logger`).

The DataSet is cached.  Any later change to the loader (variables, trees, events, cuts, weights,
split options) marks it for rebuilding, and the next ``GetDataSet()`` builds it again (printing TMVA's
``Rebuilding Dataset <name>``); DataSets handed out before are not modified.
"""

from __future__ import annotations

import copy
import ctypes
import logging
import math
import sys
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from .dataset import DataSet, Sample, VariableInfo
from .errors import DataError, did_you_mean
from .expression import EventBlock, Formula, array_length_check, build_events, parse_formula
from .logger import get_logger
from .options import kwargs_to_tokens
from .split import (
    Chunk,
    ClassCounts,
    ClassSplit,
    SplitConfig,
    as_rows,
    is_constant,
    make_rng,
    mix_order,
    parse_split_options,
    renormalisation_factors,
    requested_numbers,
    scatter_rows,
    split_classes,
    training_ranges,
    weighted_moments,
)
from .tcut import TCut
from .treesource import MemorySource, TreeSource, open_source
from .types import ETreeType

__all__ = ["ClassInfo", "DataLoader", "DataSetInfo", "internal_name"]

_MODULE = "pymva.dataloader"
_log_loader = get_logger("DataLoader", _MODULE)
_log_info = get_logger("DataSetInfo", _MODULE)
_log_factory = get_logger("DataSetFactory", _MODULE)
_log_split = logging.getLogger("pymva.split")

#: Bytes of float64 event values built per chunk; sets the number of entries read at a time.
CHUNK_BYTES = 16 * 1024 * 1024
#: Bounds of the number of entries per chunk.
MIN_CHUNK_ENTRIES, MAX_CHUNK_ENTRIES = 4096, 1 << 20
_SCATTER_ROWS: int | None = None  # automatic (see pymva.split.scatter_rows)
#: Minimum size of the slabs that hold event values while reading (above glibc's largest mmap threshold).
SLAB_BYTES = 33 * 1024 * 1024

_SPECIAL = "$&|!%^()'<>?= "


def internal_name(label: str) -> str:
    """TMVA's internal name of a variable label (``Tools::ReplaceRegularExpressions(label, "_")``).

    Each of ``$&|!%^()'<>?=`` and the blank becomes ``_``, then ``::`` becomes ``_``, ``*`` becomes
    ``_T_``, ``/`` ``_D_``, ``+`` ``_P_``, ``-`` ``_M_``, and ``[``, ``]`` become ``_``.

    Examples
    --------
    >>> internal_name("var[0]"), internal_name("abs(x)"), internal_name("a*b"), internal_name("x-y")
    ('var_0_', 'abs_x_', 'a_T_b', 'x_M_y')
    """
    out = label
    for ch in _SPECIAL:
        out = out.replace(ch, "_")
    out = out.replace("::", "_")
    for old, new in (("*", "_T_"), ("/", "_D_"), ("+", "_P_"), ("-", "_M_"), ("[", "_"), ("]", "_")):
        out = out.replace(old, new)
    return out


def _release_free_memory() -> None:
    """Hand memory that was freed but kept by the C allocator back to the system (glibc only).

    Building a DataSet frees many medium-sized temporaries (chunks of branches, index arrays).  glibc
    keeps such blocks in its heap after they are freed, so the process's resident memory would stay
    near its high-water mark while the final arrays are being filled; ``malloc_trim(0)`` returns the
    free pages.  Does nothing where glibc is not the allocator.
    """
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        _MALLOC_TRIM = False
        if sys.platform.startswith("linux"):
            try:
                _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
            except (OSError, AttributeError):
                _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM: Any = None


def _formula(text: str, what: str) -> Formula:
    try:
        return parse_formula(text)
    except DataError as exc:
        raise DataError(f"{what}: {exc}") from None


def _cut_text(cut: Any) -> str:
    if cut is None:
        return ""
    if not isinstance(cut, str):
        raise DataError(f"a cut must be a string or a TCut, not {type(cut).__name__} ({cut!r})")
    return str(cut).strip()


def _tree_type(treetype: Any) -> ETreeType:
    """``Types.kTraining``/``kTesting``/``kMaxTreeType`` (or their values), or TMVA's strings."""
    if isinstance(treetype, str):
        low = treetype.lower()
        if "train" in low and "test" in low:
            return ETreeType.kMaxTreeType
        if "train" in low:
            return ETreeType.kTraining
        if "test" in low:
            return ETreeType.kTesting
        raise DataError(
            f'<AddTree> cannot interpret tree type: "{treetype}" should be "Training" or "Test" or '
            '"Training and Testing"'
        )
    allowed = (ETreeType.kTraining, ETreeType.kTesting, ETreeType.kMaxTreeType)
    try:
        tt = ETreeType(int(treetype))
    except (TypeError, ValueError):
        tt = ETreeType.kValidation
    if tt not in allowed:
        raise DataError(
            f"<AddTree> cannot interpret tree type {treetype!r}; use Types.kTraining, Types.kTesting or "
            "Types.kMaxTreeType (both), or the strings 'Training', 'Test', 'Training and Testing'"
        )
    return tt


@dataclass
class ClassInfo:
    """One event class (TMVA's ``ClassInfo``).

    Attributes
    ----------
    name : str
    number : int
        TMVA class index (order of first mention).
    cut : TCut
        The class cut (``SetCut``/``AddCut``/``PrepareTrainingAndTestTree``).
    weight : str
        The weight expression (``SetWeightExpression``), empty for none.
    correlation_matrix : ndarray or None
        Weighted correlation matrix of the input variables on the training events, once built.
    """

    name: str
    number: int
    cut: TCut = field(default_factory=TCut)
    weight: str = ""
    correlation_matrix: npt.NDArray[np.float64] | None = None

    def GetName(self) -> str:
        """The class name."""
        return self.name

    def GetNumber(self) -> int:
        """The class index."""
        return self.number

    def GetCut(self) -> TCut:
        """The class cut."""
        return self.cut

    def GetWeight(self) -> str:
        """The weight expression."""
        return self.weight


@dataclass
class _TreeInfo:
    source: TreeSource
    class_name: str
    weight: float
    cut: str
    tree_type: ETreeType


@dataclass
class _AssignedEvents:
    """Event-wise input of one class (TMVA's ``TrainAssignTree_<c>``/``TestAssignTree_<c>``)."""

    train: list[tuple[tuple[float, ...], float]] = field(default_factory=list)
    test: list[tuple[tuple[float, ...], float]] = field(default_factory=list)


@dataclass
class _ColumnSpec:
    """How one column of the event matrix is computed: an expression, or element ``index`` of one."""

    kind: str  # "Input", "Target", "Spectator"
    expression: str
    index: int | None = None
    size: int | None = None

    @property
    def text(self) -> str:
        return self.expression if self.index is None else f"{self.expression}[{self.index}]"


class DataSetInfo:
    """What TMVA's ``DataSetInfo`` holds: variables, classes, cuts, weights, split options, the DataSet.

    Obtained from :meth:`DataLoader.GetDataSetInfo`.
    """

    def __init__(self, name: str, loader: DataLoader) -> None:
        self._name = name
        self._loader = loader
        self.variables: list[VariableInfo] = []
        self.targets: list[VariableInfo] = []
        self.spectators: list[VariableInfo] = []
        self._columns: list[_ColumnSpec] = []  # per variable: element of an array expression?
        self.classes: list[ClassInfo] = []
        self.split_options: str = ""
        self._dataset: DataSet | None = None
        self._needs_rebuilding = True
        self.training_sum_signal_weights = -1.0
        self.training_sum_backgr_weights = -1.0
        self.testing_sum_signal_weights = -1.0
        self.testing_sum_backgr_weights = -1.0
        self.normalization = "NONE"

    # ------------------------------------------------------------------ names and sizes
    def GetName(self) -> str:
        """The data-set (DataLoader) name."""
        return self._name

    def GetNVariables(self) -> int:
        """Number of input variables."""
        return len(self.variables)

    def GetNTargets(self) -> int:
        """Number of regression targets."""
        return len(self.targets)

    def GetNSpectators(self) -> int:
        """Number of spectators."""
        return len(self.spectators)

    def GetNClasses(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def GetVariableInfos(self) -> list[VariableInfo]:
        """The input variables."""
        return self.variables

    def GetTargetInfos(self) -> list[VariableInfo]:
        """The regression targets."""
        return self.targets

    def GetSpectatorInfos(self) -> list[VariableInfo]:
        """The spectators."""
        return self.spectators

    def GetVariableInfo(self, i: int) -> VariableInfo:
        """Input variable ``i``."""
        return self.variables[i]

    def GetTargetInfo(self, i: int) -> VariableInfo:
        """Target ``i``."""
        return self.targets[i]

    def GetSpectatorInfo(self, i: int) -> VariableInfo:
        """Spectator ``i``."""
        return self.spectators[i]

    def GetListOfVariables(self) -> list[str]:
        """Internal names of the input variables."""
        return [v.internal_name for v in self.variables]

    def GetClassNames(self) -> list[str]:
        """Class names in class-index order."""
        return [c.name for c in self.classes]

    def GetClassInfo(self, cls: str | int) -> ClassInfo | None:
        """The class called ``cls`` (or with index ``cls``); ``None`` when there is none (as TMVA)."""
        if isinstance(cls, str):
            return next((c for c in self.classes if c.name == cls), None)
        return self.classes[cls] if 0 <= cls < len(self.classes) else None

    def GetSignalClassIndex(self) -> int:
        """Index of the class named ``Signal`` (0 when there is none)."""
        return next((c.number for c in self.classes if c.name == "Signal"), 0)

    def GetClassNameMaxLength(self) -> int:
        """Length of the longest class name."""
        return max((len(c.name) for c in self.classes), default=0)

    def GetSplitOptions(self) -> str:
        """The stored options of ``PrepareTrainingAndTestTree``."""
        return self.split_options

    def SetSplitOptions(self, opts: str) -> None:
        """Store the split options (parsed when the DataSet is built)."""
        self.split_options = str(opts)
        self._changed()

    def HasCuts(self) -> bool:
        """Whether any class has a cut."""
        return any(str(c.cut) for c in self.classes)

    def GetNormalization(self) -> str:
        """The NormMode used for the last build (upper case, as TMVA stores it)."""
        return self.normalization

    def GetTrainingSumSignalWeights(self) -> float:
        """Sum of the training weights of class ``Signal`` (after renormalisation)."""
        self.GetDataSet()
        return self.training_sum_signal_weights

    def GetTrainingSumBackgrWeights(self) -> float:
        """Sum of the training weights of all other classes (after renormalisation)."""
        self.GetDataSet()
        return self.training_sum_backgr_weights

    def GetTestingSumSignalWeights(self) -> float:
        """Sum of the test weights of class ``Signal``."""
        self.GetDataSet()
        return self.testing_sum_signal_weights

    def GetTestingSumBackgrWeights(self) -> float:
        """Sum of the test weights of all other classes."""
        self.GetDataSet()
        return self.testing_sum_backgr_weights

    # ------------------------------------------------------------------ classes, cuts, weights
    def AddClass(self, className: str) -> ClassInfo:
        """Return the class ``className``, creating it (TMVA prints ``Added class``) if needed."""
        name = str(className)
        if not name:
            raise DataError("a class name must not be empty")
        found = self.GetClassInfo(name)
        if found is not None:
            return found
        info = ClassInfo(name, len(self.classes))
        self.classes.append(info)
        _log_info.header('[%s] : Added class "%s"', self._name, name)
        _log_info.debug("\t with internal class number %d", info.number)
        self._changed()
        return info

    def PrintClasses(self) -> None:
        """Log ``Class index : i  name : c`` for every class."""
        for c in self.classes:
            _log_info.info("Dataset[%s] : Class index : %d  name : %s", self._name, c.number, c.name)

    def SetCut(self, cut: str | TCut, className: str = "") -> None:
        """Replace the cut of one class, or of every class registered so far (``className=""``)."""
        text = _cut_text(cut)
        if text:
            _formula(text, f"cut '{text}'")
        targets = self.classes if not className else [self.AddClass(className)]
        for c in targets:
            c.cut = TCut(text)
        self._changed()

    def AddCut(self, cut: str | TCut, className: str = "") -> None:
        """AND a cut to that of one class, or of every class registered so far (``className=""``)."""
        text = _cut_text(cut)
        if text:
            _formula(text, f"cut '{text}'")
        targets = self.classes if not className else [self.AddClass(className)]
        for c in targets:
            c.cut = TCut(c.cut) + TCut(text)
        self._changed()

    def SetWeightExpression(self, expr: str, className: str = "") -> None:
        """Set the weight expression of one class, or of every class registered so far."""
        text = str(expr).strip()
        if text:
            _formula(text, f"weight expression '{text}'")
        if className:
            self.AddClass(className).weight = text
        else:
            if not self.classes:
                _log_info.warning(
                    "Dataset[%s] : No classes registered yet, cannot specify weight expression!", self._name
                )
            for c in self.classes:
                c.weight = text
        self._changed()

    # ------------------------------------------------------------------ the data set
    def _changed(self) -> None:
        self._needs_rebuilding = True

    @property
    def needs_rebuilding(self) -> bool:
        """Whether the next :meth:`GetDataSet` builds the DataSet (again)."""
        return self._needs_rebuilding or self._dataset is None

    def GetDataSet(self) -> DataSet:
        """The DataSet, built on first use and after any change to the loader.

        Raises
        ------
        OptionError
            Split options that cannot be interpreted.
        DataError
            Any problem with the input data or the requested split.
        """
        if self._dataset is None or self._needs_rebuilding:
            _log_info.info("Rebuilding Dataset %s", self._name)
            self._dataset = None
            self._dataset = _DataSetBuilder(self, self._loader).build()
            self._needs_rebuilding = False
        return self._dataset

    def GetCorrelationMatrix(self, className: str) -> npt.NDArray[np.float64]:
        """Weighted correlation matrix of the input variables for one class (training events).

        TMVA returns a ``TH2``; pymva returns the matrix itself (rows/columns in variable order).

        Raises
        ------
        DataError
            For an unknown class, or when ``CalcCorrelations`` was switched off.
        """
        ds = self.GetDataSet()
        if className not in ds.class_names:
            raise DataError(
                f"no class '{className}' in dataset '{self._name}'{did_you_mean(className, ds.class_names)} "
                f"(classes: {', '.join(ds.class_names)})"
            )
        if className not in ds.correlations:
            raise DataError(
                f"dataset '{self._name}' has no correlation matrices (split option !CalcCorrelations, or "
                "fewer than two training events)"
            )
        return np.array(ds.correlations[className], dtype=np.float64)

    def __repr__(self) -> str:
        return (
            f"DataSetInfo({self._name!r}, variables={self.GetListOfVariables()}, "
            f"classes={self.GetClassNames()})"
        )


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
        The data-set name: directory of the output file and of the weight files.

    Examples
    --------
    >>> loader = DataLoader("dataset")
    >>> loader.AddVariable("var1 := x + y", "F")
    >>> loader.AddVariable("abs(z)", "|z|", "cm")
    >>> loader.AddSignalTree("tmva_class_example.root:TreeS", 1.0)        # doctest: +SKIP
    >>> loader.AddBackgroundTree("tmva_class_example.root:TreeB", 1.0)    # doctest: +SKIP
    >>> loader.PrepareTrainingAndTestTree("", "SplitMode=Random:NormMode=NumEvents:!V")
    """

    def __init__(self, thedlName: str = "default") -> None:
        self._name = str(thedlName)
        self._dsi = DataSetInfo(self._name, self)
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
        text = expression.replace(" ", "")
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
        info = VariableInfo(
            expression=expr,
            label=label,
            internal_name=internal_name(label),
            title=str(title or ""),
            unit=str(unit or ""),
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
            (dict of arrays, pandas DataFrame, awkward record array); see :mod:`pymva.treesource`.
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
            tree of the same class, a tree type that cannot be interpreted, a cut that does not parse.
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
        w = float(weight)
        if not math.isfinite(w):
            raise DataError(
                f"the weight of tree {source.name} of class {className} must be finite, not {weight!r}"
            )
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
        ws = float(args[2]) if len(args) > 2 else 1.0
        wb = float(args[3]) if len(args) > 3 else 1.0
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
        values = tuple(float(v) for v in event)
        n_expected = len(self.variables) + len(self.targets) + len(self.spectators)
        if len(values) != n_expected:
            raise DataError(
                f"an event of class {className} has {len(values)} values; expected {n_expected} "
                f"({len(self.variables)} variables, {len(self.targets)} targets, {len(self.spectators)} "
                "spectators, in this order)"
            )
        self._dsi.AddClass(className)
        store = self._assigned.setdefault(str(className), _AssignedEvents())
        (store.train if ttype == ETreeType.kTraining else store.test).append((values, float(weight)))
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

    def MakeCopy(self, name: str) -> DataLoader:
        """A new loader named ``name`` with the same variables, classes, trees, events, cuts and options."""
        new = DataLoader(name)
        new._dsi.variables = [copy.copy(v) for v in self.variables]
        new._dsi.targets = [copy.copy(v) for v in self.targets]
        new._dsi.spectators = [copy.copy(v) for v in self.spectators]
        new._dsi._columns = list(self._dsi._columns)
        new._dsi.classes = [ClassInfo(c.name, c.number, TCut(c.cut), c.weight) for c in self._dsi.classes]
        new._dsi.split_options = self._dsi.split_options
        new._trees = list(self._trees)
        new._explicit_type = dict(self._explicit_type)
        new._assigned = {k: _AssignedEvents(list(v.train), list(v.test)) for k, v in self._assigned.items()}
        return new


def _looks_like_file(text: str) -> bool:
    return ".root" in text or "/" in text or "*" in text


# ---------------------------------------------------------------------------------------------------
# building the DataSet
# ---------------------------------------------------------------------------------------------------


_TYPE_ORDER = (ETreeType.kTraining, ETreeType.kTesting, ETreeType.kMaxTreeType)


class _Slabs:
    """Rows of float32 event values, stored in slabs of at least :data:`SLAB_BYTES`.

    Slabs this large are always memory-mapped by the C allocator, so each is returned to the
    operating system as soon as it is released, and pages of a slab become resident only when rows
    are written into them.  Many small chunks would instead stay in the allocator's heap after being
    freed, keeping the process's resident memory high while the final arrays are filled.
    """

    def __init__(self) -> None:
        self.slabs: deque[npt.NDArray[np.float32]] = deque()
        self.filled: deque[int] = deque()

    def reserve(self, n: int, ncols: int) -> npt.NDArray[np.float32]:
        """The next ``n`` rows, to be written by the caller: in the current slab if they fit, else in a new one.

        The rows of a block stay contiguous; the unused tail of a slab is never written, so its pages
        never become resident.
        """
        if n <= 0:
            return np.empty((0, ncols), dtype=np.float32)
        if not self.slabs or self.slabs[-1].shape[0] - self.filled[-1] < n:
            rows = max(SLAB_BYTES // (4 * max(ncols, 1)), 1024, n)
            self.slabs.append(np.empty((rows, ncols), dtype=np.float32))
            self.filled.append(0)
        slab, f = self.slabs[-1], self.filled[-1]
        self.filled[-1] = f + n
        return slab[f : f + n]

    def drain(self) -> Iterator[npt.NDArray[np.float32]]:
        """Yield the filled part of every slab, dropping the store's reference to it."""
        while self.slabs:
            slab, f = self.slabs.popleft(), self.filled.popleft()
            yield slab[:f]
            del slab


@dataclass
class _ClassStore:
    """Events of one class while reading: event values per tree type (in slabs), weights, counts."""

    name: str
    index: int = 0
    chunks: dict[ETreeType, _Slabs] = field(default_factory=lambda: {t: _Slabs() for t in _TYPE_ORDER})
    weights: dict[ETreeType, list[npt.NDArray[np.float32]]] = field(
        default_factory=lambda: {t: [] for t in _TYPE_ORDER}
    )
    counts: ClassCounts = field(default_factory=lambda: ClassCounts(""))


class _PlanMismatch(Exception):
    """The events read differ from the numbers a :class:`_DirectPlan` was made for (internal)."""


@dataclass
class _DirectPlan:
    """The split and mixing decided before reading, when the numbers of events are known in advance.

    Without cuts and with expressions that give exactly one value per entry, every entry of every
    tree is one event, so the numbers of events per class and tree type are the numbers of entries.
    The split (same random draws, same order as after reading) then tells the final row of every
    event, and each block of events is written straight to its rows while the trees are read: no
    intermediate copy of the events, and nothing but the final arrays held.

    Attributes
    ----------
    counts : list of ClassCounts
        The numbers the plan was made for; the events read must match them.
    splits : list of ClassSplit
    warnings : list of (format, args)
        The split's warnings, logged after reading where TMVA logs them.
    order : (train_src, test_src, train_cls, test_cls)
        See :func:`_final_order`.
    destination : ndarray of int
        Final row (training rows first, then testing rows) of every global event index, -1 if unused.
    outputs : list of (array, first column, end column)
        The final float32 X, targets and spectators (training rows, then testing rows) and which
        event columns go into each.
    arrays : list (train, test) of [X, targets, spectators]
        The views of ``outputs`` that make up the two samples.
    n_train : int
        Training events (rows of ``destination`` at or above it are testing rows).
    starts : list of dict
        Per class, the class-local index of the first event of each tree type.
    """

    counts: list[ClassCounts]
    splits: list[ClassSplit]
    warnings: list[tuple[str, tuple[Any, ...]]]
    order: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int32]]
    destination: npt.NDArray[np.integer[Any]]
    outputs: list[tuple[npt.NDArray[np.float32], int, int]]
    arrays: list[list[npt.NDArray[np.float32]]]
    n_train: int
    offsets: npt.NDArray[np.int64]
    starts: list[dict[ETreeType, int]]
    written: list[dict[ETreeType, int]] = field(default_factory=list)
    stage: npt.NDArray[np.float32] = field(default_factory=lambda: np.empty((0, 0), dtype=np.float32))

    def buffer(self, n: int, ncols: int) -> npt.NDArray[np.float32]:
        """A reusable float32 block of ``n`` rows that :func:`build_events` fills."""
        if self.stage.shape[0] < n or self.stage.shape[1] != ncols:
            self.stage = np.empty((max(n, self.stage.shape[0]), ncols), dtype=np.float32)
        return self.stage[:n]

    def write(self, cls: int, tt: ETreeType, values: npt.NDArray[np.floating[Any]]) -> None:
        """Copy the next events of class ``cls`` from tree type ``tt`` to their final rows."""
        n = values.shape[0]
        done = self.written[cls][tt]
        expected = getattr(self.counts[cls], _COUNT_FIELD[tt])
        if done + n > expected:
            raise _PlanMismatch
        self.written[cls][tt] = done + n
        g0 = int(self.offsets[cls]) + self.starts[cls][tt] + done
        dest = self.destination[g0 : g0 + n]
        if n and int(dest.min()) < 0:  # events left out by the split
            sel = np.flatnonzero(dest >= 0)
            dest = dest[sel]
            values = np.take(values, sel, axis=0)
        for arr, c0, c1 in self.outputs:
            if c1 > c0:
                part = np.ascontiguousarray(values[:, c0:c1], dtype=np.float32)
                # rows as single items: numpy copies them ~3x faster than rows of a 2-d array
                np.put(as_rows(arr), dest, as_rows(part))


_COUNT_FIELD = {
    ETreeType.kTraining: "n_train_typed",
    ETreeType.kTesting: "n_test_typed",
    ETreeType.kMaxTreeType: "n_undefined",
}


def _chunk_entries(n_columns: int, n_branches: int) -> int:
    per_entry = 8 * (n_columns + n_branches + 2)
    return int(min(MAX_CHUNK_ENTRIES, max(MIN_CHUNK_ENTRIES, CHUNK_BYTES // per_entry)))


def _any_nonzero(value: Any) -> npt.NDArray[np.bool_]:
    """Entry mask of ROOT's ``TTree::CopyTree(selection)``: any value of the selection non-zero."""
    import awkward as ak

    arr = value if isinstance(value, ak.Array) else ak.Array(value)
    if arr.ndim > 1:
        flat = ak.fill_none(arr, 0.0)
        return np.asarray(ak.to_numpy(ak.any(flat != 0, axis=-1)), dtype=bool)
    return np.asarray(ak.to_numpy(ak.fill_none(arr, 0.0)) != 0, dtype=bool)


def _mask_arrays(arrays: Mapping[str, Any], mask: npt.NDArray[np.bool_]) -> dict[str, Any]:
    return {k: v[mask] for k, v in arrays.items()}


def _add_count(c: ClassCounts, tt: ETreeType, n: int) -> None:
    """Count ``n`` events of tree type ``tt`` that all pass (no cut)."""
    setattr(c, _COUNT_FIELD[tt], getattr(c, _COUNT_FIELD[tt]) + n)
    c.n_before_cut += n
    c.n_after_cut += n


def _same_counts(a: ClassCounts, b: ClassCounts) -> bool:
    return (a.n_train_typed, a.n_test_typed, a.n_undefined, a.n_before_cut, a.n_after_cut) == (
        b.n_train_typed,
        b.n_test_typed,
        b.n_undefined,
        b.n_before_cut,
        b.n_after_cut,
    )


def _final_order(
    splits: Sequence[ClassSplit], offsets: npt.NDArray[np.int64], mix: str, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Global index and class of the event at every row of the training and the testing sample.

    Mixes the training sample, then the testing sample (:func:`~pymva.split.mix_order`, in that order
    of random draws).
    """
    result: list[Any] = []
    classes = np.arange(len(splits), dtype=np.int32)
    for part in ("train", "test"):
        pieces = [offsets[k] + getattr(sp, part) for k, sp in enumerate(splits)]
        sizes = [len(p) for p in pieces]
        order = mix_order(sizes, mix, rng)
        cat = np.concatenate(pieces or [np.zeros(0, np.int64)])
        result.append((cat[order], np.repeat(classes, sizes)[order]))
    (train_src, train_cls), (test_src, test_cls) = result
    return train_src, test_src, train_cls, test_cls


def _destination(
    train_src: npt.NDArray[np.int64], test_src: npt.NDArray[np.int64], n_events: int
) -> npt.NDArray[np.integer[Any]]:
    """Row of every global event index: training rows, then testing rows after them; -1 if unused."""
    n_train, n_test = len(train_src), len(test_src)
    index_type = np.int32 if n_train + n_test < np.iinfo(np.int32).max else np.int64
    destination = np.full(n_events, -1, dtype=index_type)
    destination[train_src] = np.arange(n_train, dtype=index_type)
    destination[test_src] = n_train + np.arange(n_test, dtype=index_type)
    return destination


class _DataSetBuilder:
    """TMVA's ``DataSetFactory``: from the loader's description to a :class:`DataSet`."""

    #: Write events straight to their final rows when their numbers are known before reading.
    direct = True

    def __init__(self, dsi: DataSetInfo, loader: DataLoader) -> None:
        self.dsi = dsi
        self.loader = loader
        self.name = dsi.GetName()
        self.nan_errors: dict[str, int] = {}
        self.nan_warnings: dict[str, int] = {}
        self.plan: _DirectPlan | None = None
        self.n_columns = len(dsi.variables) + len(dsi.targets) + len(dsi.spectators)

    # -------------------------------------------------------------- entry point
    def build(self) -> DataSet:
        dsi, loader = self.dsi, self.loader
        if not loader._trees and not any(a.train or a.test for a in loader._assigned.values()):
            raise DataError(
                f"Dataset[{self.name}] : no input data: add trees (AddTree, AddSignalTree, "
                "AddBackgroundTree, AddRegressionTree) or events (AddSignalTrainingEvent, …) to the DataLoader"
            )
        if not dsi.variables:
            raise DataError(f"Dataset[{self.name}] : no input variables: call AddVariable before training")
        class_names = dsi.GetClassNames()
        config = parse_split_options(dsi.split_options, class_names, dataset=self.name)
        opts = config.options
        if opts.MixMode != "SameAsSplitMode" and opts.MixMode != opts.SplitMode:
            _log_factory.info(
                "Dataset[%s] : DataSet splitmode=%s differs from mixmode=%s",
                self.name,
                opts.SplitMode.upper(),
                opts.MixMode.upper(),
            )
        self.plan = self._plan_direct(config) if self.direct else None
        try:
            stores = [self._read_class(c, k) for k, c in enumerate(dsi.classes)]
            if self.plan is not None and any(
                not _same_counts(s.counts, c) for s, c in zip(stores, self.plan.counts, strict=True)
            ):
                raise _PlanMismatch
        except _PlanMismatch:  # a tree gave other numbers of events than announced
            _log_factory.debug(
                "Dataset[%s] : the numbers of events changed while reading; reading again", self.name
            )
            self.plan = None
            self.nan_errors.clear()
            self.nan_warnings.clear()
            stores = [self._read_class(c, k) for k, c in enumerate(dsi.classes)]
        _release_free_memory()
        self._report_nan()
        self._report_counts(stores, opts.ScaleWithPreselEff)
        empty = [s.name for s in stores if s.counts.n_total == 0 and s.counts.n_before_cut == 0]
        if empty:
            raise DataError(
                f"Dataset[{self.name}] : class(es) {', '.join(repr(e) for e in empty)} have no events: no tree "
                "or event was added for them (SetCut/AddCut/SetWeightExpression with a class name create a "
                "class, and SetWeightExpression without class name creates 'Signal' and 'Background')"
            )
        return self._split_and_assemble(stores, config)

    # -------------------------------------------------------------- reading
    def _columns(self) -> list[tuple[str, Formula]]:
        dsi = self.dsi
        cols: list[tuple[str, Formula]] = []
        for spec, var in zip(dsi._columns, dsi.variables, strict=True):
            cols.append(("Input", _formula(spec.text, f"input variable '{var.label}'")))
        cols += [("Target", _formula(t.expression, f"target '{t.label}'")) for t in dsi.targets]
        cols += [("Spectator", _formula(s.expression, f"spectator '{s.label}'")) for s in dsi.spectators]
        return cols

    def _read_class(self, cinfo: ClassInfo, index: int) -> _ClassStore:
        store = _ClassStore(cinfo.name, index)
        store.counts = ClassCounts(cinfo.name)
        _log_factory.debug("\tWeight expression for class '%s': \"%s\"", cinfo.name, cinfo.weight)
        columns = self._columns()
        cut = _formula(str(cinfo.cut), f"cut of class '{cinfo.name}'") if str(cinfo.cut) else None
        weight = (
            _formula(cinfo.weight, f"weight expression of class '{cinfo.name}'") if cinfo.weight else None
        )
        arrays_specs = [s for s in self.dsi._columns if s.index == 0]
        for tinfo in (t for t in self.loader._trees if t.class_name == cinfo.name):
            _log_factory.info("Building event vectors for type %d %s", int(tinfo.tree_type), cinfo.name)
            _log_factory.info(
                "Dataset[%s] :  create input formulas for tree %s", self.name, tinfo.source.name
            )
            try:
                self._read_tree(store, tinfo, columns, cut, weight, arrays_specs)
            except DataError as exc:
                raise DataError(
                    f"{exc} (reading {tinfo.source.description} for class '{cinfo.name}')"
                ) from None
        assigned = self.loader._assigned.get(cinfo.name)
        if assigned is not None:
            for tt, events in ((ETreeType.kTraining, assigned.train), (ETreeType.kTesting, assigned.test)):
                if events:
                    self._read_assigned(store, tt, events, cut)
        return store

    def _read_tree(
        self,
        store: _ClassStore,
        tinfo: _TreeInfo,
        columns: list[tuple[str, Formula]],
        cut: Formula | None,
        weight: Formula | None,
        arrays_specs: list[_ColumnSpec],
    ) -> None:
        tree_cut = _formula(tinfo.cut, f"cut of tree {tinfo.source.name}") if tinfo.cut else None
        array_formulas = [
            (s, _formula(s.expression, f"input variable array '{s.expression}'")) for s in arrays_specs
        ]
        uses: list[tuple[str, frozenset[str]]] = [
            (f"{k} expression '{f.text}'", f.branches) for k, f in columns
        ]
        uses += [(f"input variable array '{s.expression}'", f.branches) for s, f in array_formulas]
        if cut is not None:
            uses.append((f"the cut '{cut.text}' of class '{store.name}'", cut.branches))
        if weight is not None:
            uses.append((f"the weight expression '{weight.text}' of class '{store.name}'", weight.branches))
        if tree_cut is not None:
            uses.append((f"the cut '{tree_cut.text}' of tree {tinfo.source.name}", tree_cut.branches))
        tinfo.source.check_branches(uses)
        branches = frozenset().union(*(b for _, b in uses))
        step = _chunk_entries(len(columns), len(branches))
        warned_longer = False
        n_missing = 0
        for arrays in tinfo.source.iterate(branches, step):
            if tree_cut is not None:
                keep = _any_nonzero(tree_cut.evaluate(arrays))
                arrays = _mask_arrays(arrays, keep)
            for spec, f in array_formulas:
                shorter, longer = array_length_check(arrays, f, int(spec.size or 0))
                if shorter:
                    raise DataError(
                        f"Size of array {spec.expression} in the current tree {tinfo.source.name} is smaller than "
                        f"{spec.size} (the size given to AddVariablesArray) in {shorter} entries"
                    )
                if longer and not warned_longer:
                    _log_factory.warning(
                        "Size of array %s in the current tree %s is larger than %d in %d entries",
                        spec.expression,
                        tinfo.source.name,
                        spec.size,
                        longer,
                    )
                    _log_factory.warning(
                        "Some data will then be ignored. This WARNING is printed only once,  check in case "
                        "for the other variables and events "
                    )
                    warned_longer = True
            block = build_events(
                arrays, columns, weight=weight, cut=cut, out=self._values_out(store, tinfo.tree_type)
            )
            self._add_block(store, block, tinfo.weight, tinfo.tree_type)
            n_missing += block.n_entries_missing
        if n_missing:
            _log_factory.warning(
                "Dataset[%s] : %d entries of %s give no event: an expression reads an array element that "
                "does not exist (e.g. arr[4] when arr has only 3 elements). If you want to take these "
                'entries into account you can do something like: "Alt$(arr[4],0)" where in cases where arr '
                "doesn't have a 4th element, 0 is taken as an alternative.",
                self.name,
                n_missing,
                tinfo.source.description,
            )

    def _add_block(self, store: _ClassStore, block: EventBlock, tree_weight: float, tt: ETreeType) -> None:
        c = store.counts
        c.n_before_cut += block.n_candidates
        c.sumw_before_cut += tree_weight * block.sumw_candidates
        for (kind, expr), (n_nan, n_inf) in block.nan_selected.items():
            self._note_nan(self.nan_errors, kind, expr, n_nan, n_inf)
        for (kind, expr), (n_nan, n_inf) in block.nan_rejected.items():
            self._note_nan(self.nan_warnings, kind, expr, n_nan, n_inf)
        n = len(block.weights)
        if n == 0:
            return
        weights = (block.weights * tree_weight).astype(np.float32)
        c.n_after_cut += n
        c.sumw_after_cut += float(np.sum(weights, dtype=np.float64))
        if tt == ETreeType.kTraining:
            c.n_train_typed += n
        elif tt == ETreeType.kTesting:
            c.n_test_typed += n
        else:
            c.n_undefined += n
        if self.plan is not None:  # else the values are in the store's slabs already (_values_out)
            self.plan.write(store.index, tt, block.values)
        store.weights[tt].append(weights)

    def _values_out(self, store: _ClassStore, tt: ETreeType) -> Callable[[int], npt.NDArray[np.float32]]:
        """Where :func:`build_events` writes the values of a block: the plan's buffer, or the store's slabs."""
        ncols = self.n_columns
        if self.plan is not None:
            plan = self.plan
            return lambda n: plan.buffer(n, ncols)
        slabs = store.chunks[tt]
        return lambda n: slabs.reserve(n, ncols)

    def _note_nan(self, target: dict[str, int], kind: str, expr: str, n_nan: int, n_inf: int) -> None:
        if n_nan:
            key = f"Dataset[{self.name}] : {kind} expression resolves to indeterminate value (NaN): {expr}"
            target[key] = target.get(key, 0) + n_nan
        if n_inf:
            key = (
                f"Dataset[{self.name}] : {kind} expression resolves to infinite value (+inf or -inf): {expr}"
            )
            target[key] = target.get(key, 0) + n_inf

    def _read_assigned(
        self,
        store: _ClassStore,
        tt: ETreeType,
        events: list[tuple[tuple[float, ...], float]],
        cut: Formula | None,
    ) -> None:
        dsi = self.dsi
        infos = dsi.variables + dsi.targets + dsi.spectators
        values = np.asarray([e for e, _ in events], dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != len(infos):
            raise DataError(
                f"events added one by one for class '{store.name}' have {values.shape[-1]} values, but the "
                f"loader now has {len(dsi.variables)} variables, {len(dsi.targets)} targets and "
                f"{len(dsi.spectators)} spectators (add all of them before the events)"
            )
        weights = np.asarray([w for _, w in events], dtype=np.float64)
        arrays: dict[str, Any] = {}
        for j, info in enumerate(infos):
            for key in (info.expression, info.label, info.internal_name):
                arrays.setdefault(key, values[:, j])
        arrays.setdefault("weight", weights)
        arrays.setdefault("type", np.full(len(weights), float(dsi.GetClassNames().index(store.name))))
        cols: list[tuple[str, Formula]] = []
        kinds = (
            ["Input"] * len(dsi.variables)
            + ["Target"] * len(dsi.targets)
            + ["Spectator"] * len(dsi.spectators)
        )
        for j, kind in enumerate(kinds):
            key = f"pymva_event_column_{j}"
            arrays[key] = values[:, j]
            cols.append((kind, parse_formula(key)))
        arrays["pymva_event_weight"] = weights
        if cut is not None:
            missing = sorted(b for b in cut.branches if b not in arrays)
            if missing:
                usable = sorted(k for k in arrays if not k.startswith("pymva_"))
                raise DataError(
                    f"the cut '{cut.text}' of class '{store.name}' reads {', '.join(missing)}, which events added "
                    f"one by one do not have (they have: {', '.join(usable)})"
                )
        block = build_events(
            arrays, cols, weight=parse_formula("pymva_event_weight"), cut=cut, out=self._values_out(store, tt)
        )
        self._add_block(store, block, 1.0, tt)

    def _report_nan(self) -> None:
        if self.nan_warnings:
            _log_factory.warning("Found events with NaN and/or +-inf values")
            for msg, n in self.nan_warnings.items():
                _log_factory.warning("%s%s", msg, f" ({n} times)" if n > 1 else "")
            _log_factory.warning("These NaN and/or +-infs were all removed by the specified cut, continuing.")
            _log_factory.info("")
        if self.nan_errors:
            _log_factory.warning("Found events with NaN and/or +-inf values (not removed by cut)")
            lines = []
            for msg, n in self.nan_errors.items():
                line = msg + (f" ({n} times)" if n > 1 else "")
                lines.append(line)
                _log_factory.warning("%s", line)
            raise DataError(
                "Found events with NaN and/or +-inf values (not removed by cut): "
                + "; ".join(lines)
                + ". How am I supposed to train a NaN or +-inf?! (select the events with a cut, or use "
                "a default value, e.g. with Alt$ or a conditional expression)"
            )

    def _report_counts(self, stores: list[_ClassStore], scale: bool) -> None:
        dsi = self.dsi
        max_l = dsi.GetClassNameMaxLength()
        _log_factory.header("[%s] : Number of events in input trees", self.name)
        _log_factory.debug("(after possible flattening of arrays):")
        for s in stores:
            _log_factory.debug(
                "    %s      -- number of events       : %-5d  / sum of weights: %-5s",
                f"{s.name:<{max_l}}",
                s.counts.n_before_cut,
                f"{s.counts.sumw_before_cut:g}",
            )
        if scale:
            _log_factory.debug(
                "\tPreselection: (will affect number of requested training and testing events)"
            )
        else:
            _log_factory.debug(
                "\tPreselection: (will NOT affect number of requested training and testing events)"
            )
        if dsi.HasCuts():
            for s in stores:
                c = s.counts
                cinfo = dsi.GetClassInfo(s.name)
                name = f"{s.name:<{max_l}}"
                eff = c.sumw_after_cut / c.sumw_before_cut if c.sumw_before_cut else math.nan
                _log_factory.info(
                    'Dataset[%s] :     %s requirement: "%s"', self.name, name, cinfo.cut if cinfo else ""
                )
                _log_factory.info(
                    "Dataset[%s] :     %s      -- number of events passed: %-5d  / sum of weights: %-5s",
                    self.name,
                    name,
                    c.n_after_cut,
                    f"{c.sumw_after_cut:g}",
                )
                _log_factory.info(
                    "Dataset[%s] :     %s      -- efficiency             : %-6s", self.name, name, f"{eff:g}"
                )
        else:
            _log_factory.debug("    No preselection cuts applied on event classes")

    # -------------------------------------------------------------- split and assembly
    def _plan_direct(self, config: SplitConfig) -> _DirectPlan | None:
        """The split decided before reading (see :class:`_DirectPlan`), or ``None`` when it cannot be.

        Possible when no class and no tree has a cut and every expression (inputs, targets,
        spectators, weights) reads only branches with one number per entry, without indexing or
        special functions: then each entry gives exactly one event.  Anything that the split would
        reject (too many events requested, …) also gives ``None``: the DataSet is then built the
        ordinary way, which reports the problem after reading, as TMVA does.
        """
        dsi, loader = self.dsi, self.loader
        if any(str(c.cut) for c in dsi.classes) or any(t.cut for t in loader._trees):
            return None
        try:
            columns = self._columns()
            weights = {c.name: (parse_formula(c.weight) if c.weight else None) for c in dsi.classes}
            counts = [ClassCounts(c.name) for c in dsi.classes]
            for t in loader._trees:
                k = dsi.GetClassNames().index(t.class_name)
                formulas = [f for _, f in columns] + [f for f in (weights[t.class_name],) if f is not None]
                if any("[" in f.text or "$" in f.text for f in formulas):
                    return None
                if not t.source.scalar_branches(frozenset().union(*(f.branches for f in formulas))):
                    return None
                _add_count(counts[k], t.tree_type, t.source.num_entries)
            for name, assigned in loader._assigned.items():
                k = dsi.GetClassNames().index(name)
                _add_count(counts[k], ETreeType.kTraining, len(assigned.train))
                _add_count(counts[k], ETreeType.kTesting, len(assigned.test))
            opts = config.options
            requested = [
                requested_numbers(req, c, opts.ScaleWithPreselEff, dataset=self.name)
                for req, c in zip(config.requests, counts, strict=True)
            ]
            rng = make_rng(opts.SplitSeed)
            warnings: list[tuple[str, tuple[Any, ...]]] = []
            splits = split_classes(
                counts, requested, opts.SplitMode, rng, dataset=self.name, warnings=warnings
            )
        except DataError:
            return None
        offsets = np.concatenate([[0], np.cumsum([c.n_total for c in counts])]).astype(np.int64)
        order = _final_order(splits, offsets, opts.mix_mode, rng)
        n_train, n_test = len(order[0]), len(order[1])
        arrays, outputs = self._final_arrays(n_train, n_test)
        return _DirectPlan(
            counts=counts,
            splits=splits,
            warnings=warnings,
            order=order,
            destination=_destination(order[0], order[1], int(offsets[-1])),
            outputs=outputs,
            arrays=arrays,
            n_train=n_train,
            offsets=offsets,
            starts=[
                {
                    ETreeType.kTraining: 0,
                    ETreeType.kTesting: c.n_train_typed,
                    ETreeType.kMaxTreeType: c.n_train_typed + c.n_test_typed,
                }
                for c in counts
            ],
            written=[dict.fromkeys(_TYPE_ORDER, 0) for _ in counts],
        )

    def _final_arrays(
        self, n_train: int, n_test: int
    ) -> tuple[list[list[npt.NDArray[np.float32]]], list[tuple[npt.NDArray[np.float32], int, int]]]:
        """The empty X, targets and spectators of both samples, and which event columns go into each.

        Each of X, targets, spectators is one array of ``n_train + n_test`` rows, of which the
        training sample gets the first rows and the testing sample a view of the others: an event is
        written to its row with one copy, wherever it goes.

        Returns
        -------
        (per sample [X, targets, spectators], [(whole array, first column, end column)])
        """
        dsi = self.dsi
        nvar, ntgt, nspec = len(dsi.variables), len(dsi.targets), len(dsi.spectators)
        whole = [np.empty((n_train + n_test, m), dtype=np.float32) for m in (nvar, ntgt, nspec)]
        out = [[a[:n_train] for a in whole], [a[n_train:] for a in whole]]
        col = [(0, nvar), (nvar, nvar + ntgt), (nvar + ntgt, nvar + ntgt + nspec)]
        return out, [(arr, c0, c1) for arr, (c0, c1) in zip(whole, col, strict=True)]

    def _split_and_assemble(self, stores: list[_ClassStore], config: SplitConfig) -> DataSet:
        dsi = self.dsi
        opts = config.options
        plan = self.plan
        counts = [s.counts for s in stores]
        rng = make_rng(opts.SplitSeed)  # used when the split was not planned before reading
        requested = []
        for req, c in zip(config.requests, counts, strict=True):
            scaling = c.cut_scaling()
            if opts.ScaleWithPreselEff and scaling < 1:
                _log_factory.info(
                    "Dataset[%s] :  you have opted for scaling the number of requested training/testing events\n"
                    " to be scaled by the preselection efficiency",
                    self.name,
                )
            elif not opts.ScaleWithPreselEff and scaling < 1:
                _log_factory.info(
                    "Dataset[%s] :  you have opted for interpreting the requested number of training/testing "
                    "events\n to be the number of events AFTER your preselection cuts",
                    self.name,
                )
            if plan is None:
                requested.append(requested_numbers(req, c, opts.ScaleWithPreselEff, dataset=self.name))
        if plan is None:
            splits = split_classes(counts, requested, opts.SplitMode, rng, dataset=self.name)
        else:
            splits = plan.splits
            for fmt, args in plan.warnings:
                _log_split.warning(fmt, *args)

        # weights of every event, global index = class offset + class-local index
        offsets = np.concatenate([[0], np.cumsum([c.n_total for c in counts])]).astype(np.int64)
        w_all = np.concatenate(
            [w for s in stores for t in _TYPE_ORDER for w in s.weights[t]] or [np.zeros(0, np.float32)]
        ).astype(np.float32, copy=False)
        for s in stores:
            s.weights = {t: [] for t in _TYPE_ORDER}

        train_sizes = [len(sp.train) for sp in splits]
        test_sizes = [len(sp.test) for sp in splits]
        if sum(train_sizes) > 0:
            for c, n in zip(counts, train_sizes, strict=True):
                if n > 0:
                    continue
                why = (
                    f"class '{c.name}' has no training events ({c.n_after_cut} events passed the cuts, "
                    f"{c.n_train_typed} from training trees, {c.n_test_typed} from testing trees, "
                    f"{c.n_undefined} from trees for both)"
                )
                if c is counts[0] and opts.NormMode == "EqualNumEvents":
                    raise DataError(
                        f"Dataset[{self.name}] : {why}; NormMode=EqualNumEvents scales every class to the "
                        "training events of the first class, which would give all weights 0. Check its cut, "
                        f"tree types and nTrain_{c.name}, or use NormMode=NumEvents or None"
                    )
                _log_factory.warning("Dataset[%s] : %s", self.name, why)
        train_sums = [
            float(np.sum(w_all[offsets[k] + sp.train], dtype=np.float64)) for k, sp in enumerate(splits)
        ]
        test_sums = [
            float(np.sum(w_all[offsets[k] + sp.test], dtype=np.float64)) for k, sp in enumerate(splits)
        ]
        factors = renormalisation_factors(train_sizes, train_sums, opts.NormMode, dsi.GetClassNames())
        self._report_renormalisation(
            opts.NormMode, counts, train_sizes, test_sizes, train_sums, test_sums, factors, config
        )

        # mixing
        mix = opts.mix_mode
        if mix == "Alternate":
            for k in range(1, len(stores)):
                if train_sizes[k] != train_sizes[0]:
                    _log_factory.info(
                        "Dataset[%s] : Training sample: You are trying to mix events in alternate mode although "
                        "the classes have different event numbers. This works but the alternation stops at the "
                        "last event of the smaller class.",
                        self.name,
                    )
                if test_sizes[k] != test_sizes[0]:
                    _log_factory.info(
                        "Dataset[%s] : Testing sample: You are trying to mix events in alternate mode although "
                        "the classes have different event numbers. This works but the alternation stops at the "
                        "last event of the smaller class.",
                        self.name,
                    )
        if plan is None:
            train_src, test_src, train_cls, test_cls = _final_order(splits, offsets, mix, rng)
        else:
            train_src, test_src, train_cls, test_cls = plan.order
        del splits
        n_train, n_test = len(train_src), len(test_src)
        if n_train < 1:
            raise DataError(
                f"Dataset {self.name} does not have any training events, I better stop here and let you fix "
                "that one first (check the cuts, nTrain_<class>/nTest_<class> and the tree types)"
            )
        if n_test < 1:
            _log_factory.error(
                "Dataset %s does not have any testing events, guess that will cause problems later..but for "
                "now, I continue ",
                self.name,
            )

        # weights (training ones renormalised)
        train_w = w_all[train_src]
        if any(f != 1.0 for f in factors):
            factor_arr = np.asarray(factors, dtype=np.float64)
            train_w = np.multiply(train_w, factor_arr[train_cls]).astype(np.float32)
        test_w = w_all[test_src]
        del w_all

        # values: already in place (plan), or written block by block while the chunks are released
        if plan is None:
            destination = _destination(train_src, test_src, int(offsets[-1]))
            del train_src, test_src
            out, whole = self._final_arrays(n_train, n_test)
            _release_free_memory()
            scatter_rows(
                self._drain(stores, offsets), destination, [whole], [n_train + n_test], _SCATTER_ROWS
            )
            del destination
        else:
            out = plan.arrays
            self.plan = None
            del plan, train_src, test_src

        train = Sample(
            X=out[0][0], targets=out[0][1], spectators=out[0][2], weights=train_w, class_id=train_cls
        )
        test = Sample(X=out[1][0], targets=out[1][1], spectators=out[1][2], weights=test_w, class_id=test_cls)
        variables = [copy.copy(v) for v in dsi.variables]
        targets = [copy.copy(v) for v in dsi.targets]
        spectators = [copy.copy(v) for v in dsi.spectators]
        correlations: dict[str, npt.NDArray[np.float64]] = {}
        if opts.CalcCorrelations and n_train > 1:
            # one pass over the training events: ranges of the variables and moments of every class
            x_ranges = (np.zeros(train.X.shape[1]), np.zeros(train.X.shape[1]))
            moments = weighted_moments(
                train.X, train.weights, train.class_id, len(dsi.classes), ranges=x_ranges
            )
            self._ranges(train, x_ranges, variables, targets, spectators)
            correlations = self._correlations(moments, dsi.GetClassNames(), opts.Correlations)
        return DataSet(
            name=self.name,
            train=train,
            test=test,
            class_names=dsi.GetClassNames(),
            variables=variables,
            targets=targets,
            spectators=spectators,
            correlations=correlations,
        )

    @staticmethod
    def _drain(stores: list[_ClassStore], offsets: npt.NDArray[np.int64]) -> Iterator[Chunk]:
        """The chunks in global-index order, each removed from its store as it is handed out."""
        for k, s in enumerate(stores):
            first = int(offsets[k])
            for t in _TYPE_ORDER:
                for values in s.chunks[t].drain():
                    yield Chunk(values, first)
                    first += values.shape[0]
                    del values

    def _report_renormalisation(
        self,
        norm_mode: str,
        counts: list[ClassCounts],
        train_sizes: list[int],
        test_sizes: list[int],
        train_sums: list[float],
        test_sums: list[float],
        factors: list[float],
        config: SplitConfig,
    ) -> None:
        dsi = self.dsi
        sig = dsi.GetSignalClassIndex()
        self.dsi.normalization = norm_mode.upper()

        def store_sums(tr: list[float], te: list[float]) -> None:
            dsi.training_sum_signal_weights = sum(v for k, v in enumerate(tr) if k == sig)
            dsi.training_sum_backgr_weights = sum(v for k, v in enumerate(tr) if k != sig)
            dsi.testing_sum_signal_weights = sum(v for k, v in enumerate(te) if k == sig)
            dsi.testing_sum_backgr_weights = sum(v for k, v in enumerate(te) if k != sig)

        store_sums(train_sums, test_sums)
        if norm_mode == "None":
            _log_factory.info(
                "Dataset[%s] : No weight renormalisation applied: use original global and event weights",
                self.name,
            )
            return
        if norm_mode == "NumEvents":
            for line in (
                '\tWeight renormalisation mode: "NumEvents": renormalises all event classes ',
                " such that the effective (weighted) number of events in each class equals the respective ",
                ' number of events (entries) that you demanded in PrepareTrainingAndTestTree("","nTrain_Signal=.. )',
                " ... i.e. such that Sum[i=1..N_j]{w_i} = N_j, j=0,1,2...",
                " ... (note that N_j is the sum of TRAINING events (nTrain_j...with j=Signal,Background..",
                " ..... Testing events are not renormalised nor included in the renormalisation factor! )",
            ):
                _log_factory.debug("%s", line)
        else:
            for line in (
                'Weight renormalisation mode: "EqualNumEvents": renormalises all event classes ...',
                " such that the effective (weighted) number of events in each class is the same ",
                " (and equals the number of events (entries) given for class=0 )",
                "... i.e. such that Sum[i=1..N_j]{w_i} = N_classA, j=classA, classB, ...",
                "... (note that N_j is the sum of TRAINING events",
                " ..... Testing events are not renormalised nor included in the renormalisation factor!)",
            ):
                _log_factory.info("Dataset[%s] : %s", self.name, line)
        max_l = dsi.GetClassNameMaxLength()
        names = dsi.GetClassNames()
        for k, f in enumerate(factors):
            _log_factory.debug("--> Rescale %s event weights by factor: %g", f"{names[k]:<{max_l}}", f)
        new_train = [s * f for s, f in zip(train_sums, factors, strict=True)]
        store_sums(new_train, test_sums)
        _log_factory.info("Number of training and testing events")
        _log_factory.debug("\tafter rescaling:")
        _log_factory.info("-" * 75)
        for k, name in enumerate(names):
            pad = f"{name:<{max_l}}"
            _log_factory.info("%s -- training events            : %d", pad, train_sizes[k])
            _log_factory.debug(
                "\t(sum of weights: %g) - requested were %d events", new_train[k], config.requests[k].n_train
            )
            _log_factory.info("%s -- testing events             : %d", pad, test_sizes[k])
            _log_factory.debug(
                "\t(sum of weights: %g) - requested were %d events", test_sums[k], config.requests[k].n_test
            )
            _log_factory.info("%s -- training and testing events: %d", pad, train_sizes[k] + test_sizes[k])
            _log_factory.debug("\t(sum of weights: %g)", new_train[k] + test_sums[k])
            if counts[k].n_after_cut < counts[k].n_before_cut:
                _log_factory.info(
                    "Dataset[%s] : %s -- due to the preselection a scaling factor has been applied to the numbers "
                    "of requested events: %g",
                    self.name,
                    pad,
                    counts[k].cut_scaling(),
                )
        _log_factory.info("")

    def _ranges(
        self,
        train: Sample,
        x_ranges: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
        variables: list[VariableInfo],
        targets: list[VariableInfo],
        spectators: list[VariableInfo],
    ) -> None:
        """Training minimum and maximum of every variable (``x_ranges``), target and spectator."""
        dsi = self.dsi
        for arr, infos, live, kind in (
            (train.X, variables, dsi.variables, "Variable"),
            (train.targets, targets, dsi.targets, "Target"),
            (train.spectators, spectators, dsi.spectators, "Spectator"),
        ):
            if not infos:
                continue
            lo, hi = x_ranges if kind == "Variable" else training_ranges(arr)
            for j, info in enumerate(infos):
                info.min, info.max = float(lo[j]), float(hi[j])
                live[j].min, live[j].max = info.min, info.max
                if not is_constant(info.min, info.max):
                    continue
                if kind == "Variable":
                    _log_factory.warning(
                        "Dataset[%s] : Variable %s is constant. Please remove the variable.",
                        self.name,
                        info.expression,
                    )
                elif kind == "Target":
                    raise DataError(
                        f"Dataset[{self.name}] : Target {info.expression} is constant. Please remove the variable. "
                        f"(all {len(arr)} training events have the value {info.min:g})"
                    )

    def _correlations(
        self,
        moments: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]],
        class_names: list[str],
        show: bool,
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Weighted correlation matrices of the input variables per class.

        ``moments`` are ``Σw``, ``Σw·x``, ``Σw·x·xᵀ`` of every class over the training events,
        accumulated in float64 (:func:`~pymva.split.weighted_moments`).
        """
        sw, sx, sxx = moments
        nvar = sx.shape[1]
        out: dict[str, npt.NDArray[np.float64]] = {}
        for k, name in enumerate(class_names):
            if sw[k] == 0:
                rho = np.eye(nvar)
                cov = np.zeros((nvar, nvar))
            else:
                cov = sxx[k] / sw[k] - np.outer(sx[k], sx[k]) / (sw[k] * sw[k])
                d = np.outer(np.diag(cov), np.diag(cov))
                with np.errstate(divide="ignore", invalid="ignore"):
                    rho = np.where(d > 0, cov / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
                np.fill_diagonal(rho, 1.0)
                for i in range(nvar):
                    for j in range(nvar):
                        if i != j and not d[i, j] > 0:
                            _log_factory.warning(
                                "Dataset[%s] : <GetCorrelationMatrix> Zero variances for variables (%d, %d) = %g",
                                self.name,
                                i,
                                j,
                                d[i, j],
                            )
            out[name] = np.asarray(rho, dtype=np.float64)
            cinfo = self.dsi.GetClassInfo(name)
            if cinfo is not None:
                cinfo.correlation_matrix = out[name]
            if show:
                _log_info.header("Correlation matrix (%s):", name)
                for line in format_correlation_matrix(out[name], self.dsi.GetListOfVariables()):
                    _log_info.info("%s", line)
        if out:
            _log_factory.header("[%s] :  ", self.name)
            _log_factory.info("")
        return out


def format_correlation_matrix(matrix: npt.NDArray[np.float64], names: Sequence[str]) -> list[str]:
    """TMVA's ``Tools::FormattedOutput`` of a correlation matrix: the lines, without the log prefix."""
    lengths = [max(len(n), 7) for n in names]
    max_l = max(lengths, default=7)
    clen = max_l + 1 + sum(n + 1 for n in lengths)
    lines = ["-" * clen]
    lines.append(" " * (max_l + 1) + "".join(f"{n:>{w + 1}}" for n, w in zip(names, lengths, strict=True)))
    for i, n in enumerate(names):
        row = f"{n:>{max_l}}:" + "".join(f"{f'{matrix[i, j]:+1.3f}':>{w + 1}}" for j, w in enumerate(lengths))
        lines.append(row)
    lines.append("-" * clen)
    return lines
