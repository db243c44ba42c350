"""``DataSetInfo`` and ``ClassInfo``: what TMVA's ``DataSetInfo`` describes of a data set.

Variables, targets and spectators (:class:`~pymva.data.dataset.VariableInfo`), the classes with their
cuts and weight expressions, the trees per class, and the split options; ``GetDataSet()`` hands the
building to the :class:`~pymva.data.loader.DataLoader` that owns it (:mod:`pymva.data.build`).
Mirrors ``tmva/tmva/src/DataSetInfo.cxx`` and ``ClassInfo.cxx``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError, did_you_mean
from ..logger import get_logger
from ..safety import check_text
from ..stl import StdVector
from ..tcut import TCut
from ..types import ETreeType
from .dataset import DataSet, VariableInfo
from .expression import Formula, parse_formula
from .sources import TreeSource

_MODULE = "pymva.data.info"
_log_info = get_logger("DataSetInfo", _MODULE)


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


def _formula(text: str, what: str) -> Formula:
    # ``what`` is "<kind> '<text>' ...": name the kind; check_text shows the text itself (repr)
    check_text(text, argument=what.partition(" '")[0] or what, blanks=True)
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

    def __init__(self, name: str, build: Callable[[DataSetInfo], DataSet]) -> None:
        self._name = name
        self._build = build
        # std::vector in TMVA: PyROOT's size()/at()/push_back() work on what the getters return
        self.variables: StdVector[VariableInfo] = StdVector()
        self.targets: StdVector[VariableInfo] = StdVector()
        self.spectators: StdVector[VariableInfo] = StdVector()
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

    def GetVariableInfos(self) -> StdVector[VariableInfo]:
        """The input variables."""
        return self.variables

    def GetTargetInfos(self) -> StdVector[VariableInfo]:
        """The regression targets."""
        return self.targets

    def GetSpectatorInfos(self) -> StdVector[VariableInfo]:
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

    def GetListOfVariables(self) -> StdVector[str]:
        """Internal names of the input variables (a ``std::vector<TString>`` in TMVA, a copy)."""
        return StdVector(v.internal_name for v in self.variables)

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
        """Store the split options (parsed when the DataSet is built; control characters refused now).

        Raises
        ------
        OptionError
            If ``opts`` is not a string or holds a control character other than blanks.
        """
        self.split_options = check_text(
            opts, argument="PrepareTrainingAndTestTree: the split options", blanks=True
        )
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
        if not isinstance(className, str):
            raise DataError(f"a class name must be a string, not {type(className).__name__} ({className!r})")
        name = check_text(className, argument="the class name")
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
        if not isinstance(expr, str):
            raise DataError(f"a weight expression must be a string, not {type(expr).__name__} ({expr!r})")
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
            self._dataset = self._build(self)
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
