"""``DataSet``: the events of one DataLoader after selection and train/test split.

The arrays every later stage works on (transforms, methods, evaluation, output file) live here, as
plain numpy arrays:

* :class:`VariableInfo` — one input variable, target or spectator (TMVA's ``VariableInfo``);
* :class:`Sample` — the training or the test events: ``X``, ``targets``, ``spectators``,
  ``weights``, ``class_id``;
* :class:`DataSet` — both samples plus class names, variable descriptions and the weighted
  correlation matrices per class (``../shared/tmva/core.md`` §3.4 step 8).

Data flows one way: trees → :class:`~pymva.data.loader.DataLoader` → :class:`DataSet` →
transforms → method → evaluation → outputs.  Nothing here reads files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["DataSet", "Sample", "VariableInfo", "weighted_correlation"]

F32 = npt.NDArray[np.float32]


@dataclass
class VariableInfo:
    """Description of one input variable, regression target or spectator.

    Attributes
    ----------
    expression : str
        The TTreeFormula expression evaluated on the trees (blanks removed).
    label : str
        The label (``label := expression``); defaults to the expression.
    internal_name : str
        ``label`` with special characters rewritten as TMVA does (``var[0]`` → ``var_0_``); the
        TrainTree/TestTree branch name.
    title : str
        Title for plots; defaults to the label.
    unit : str
        Unit, for axis titles.
    type : {'F', 'I'}
        TMVA's variable type; ``'I'`` only changes plot binning.
    min, max : float
        Range over the training events, filled when the DataSet is built (TMVA's ``Min``/``Max``
        in the weights file); 0 before that.
    kind : {'variable', 'target', 'spectator'}
        Which list the entry belongs to.
    """

    expression: str
    label: str
    internal_name: str
    title: str = ""
    unit: str = ""
    type: str = "F"
    min: float = 0.0
    max: float = 0.0
    kind: Literal["variable", "target", "spectator"] = "variable"

    def __post_init__(self) -> None:
        if not self.title:
            self.title = self.label


@dataclass(frozen=True)
class Sample:
    """The events of one tree type (training or testing), all classes mixed in TMVA's order.

    Attributes
    ----------
    X : ndarray of float32, shape (n_events, n_variables)
        Input variables, in declaration order.
    targets : ndarray of float32, shape (n_events, n_targets)
        Regression targets (``n_targets`` is 0 for classification).
    spectators : ndarray of float32, shape (n_events, n_spectators)
        Spectator values.
    weights : ndarray of float32, shape (n_events,)
        Event weights: tree weight × weight expression; for the training sample renormalised as
        ``NormMode`` says (§3.4 step 5); test weights are never renormalised.
    class_id : ndarray of int32, shape (n_events,)
        TMVA class index of each event (order of first mention of the class).
    """

    X: F32
    targets: F32
    spectators: F32
    weights: F32
    class_id: npt.NDArray[np.int32]

    def __post_init__(self) -> None:
        n = len(self.X)
        for name in ("targets", "spectators", "weights", "class_id"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Sample.{name} has {len(getattr(self, name))} rows, X has {n}")

    def __len__(self) -> int:
        return len(self.X)

    @property
    def n_events(self) -> int:
        """Number of events."""
        return len(self.X)

    def subset(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_] | slice) -> Sample:
        """Return the events selected by ``index`` (an index array, boolean mask or slice)."""
        return Sample(
            X=self.X[index],
            targets=self.targets[index],
            spectators=self.spectators[index],
            weights=self.weights[index],
            class_id=self.class_id[index],
        )

    def replace(self, **changes: np.ndarray) -> Sample:
        """Return a copy with some arrays replaced (e.g. transformed ``X``)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def empty(cls, n_variables: int, n_targets: int = 0, n_spectators: int = 0) -> Sample:
        """Return a sample with no events and the given numbers of columns."""
        return cls(
            X=np.zeros((0, n_variables), np.float32),
            targets=np.zeros((0, n_targets), np.float32),
            spectators=np.zeros((0, n_spectators), np.float32),
            weights=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int32),
        )

    def sum_of_weights(self, class_index: int | None = None) -> float:
        """Sum of event weights (float64), of one class or of all events."""
        w = self.weights if class_index is None else self.weights[self.class_id == class_index]
        return float(np.sum(w, dtype=np.float64))


def weighted_correlation(x: npt.NDArray[np.floating], w: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Weighted linear correlation matrix, as TMVA's DataSetFactory computes it (§3.4 step 8).

    ``C_ij = <x_i x_j>_w − <x_i>_w <x_j>_w`` and ``ρ_ij = C_ij / sqrt(C_ii C_jj)``; ``ρ_ij = 0`` when a
    variance is zero, ``ρ_ii = 1``.

    Parameters
    ----------
    x : ndarray, shape (n_events, n_columns)
    w : ndarray, shape (n_events,)

    Returns
    -------
    ndarray of float64, shape (n_columns, n_columns)
    """
    x64 = np.asarray(x, dtype=np.float64)
    w64 = np.asarray(w, dtype=np.float64)
    sw = w64.sum()
    if x64.shape[0] == 0 or sw == 0:
        return np.eye(x64.shape[1])
    mean = (w64 @ x64) / sw
    cov = (x64 * w64[:, None]).T @ x64 / sw - np.outer(mean, mean)
    var = np.diag(cov).copy()
    denom = np.sqrt(np.outer(var, var))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(denom > 0, cov / np.where(denom > 0, denom, 1.0), 0.0)
    np.fill_diagonal(rho, 1.0)
    return np.asarray(rho, dtype=np.float64)


@dataclass
class DataSet:
    """The train and test samples of one DataLoader and their description.

    Built by the DataLoader on first use (``loader.GetDataSetInfo().GetDataSet()``).

    Attributes
    ----------
    name : str
        The DataLoader name (output-file and weight-file directory).
    train, test : Sample
        The training and the test events (TMVA's final mixed order).
    class_names : list of str
        Class names in TMVA class-index order.
    variables, targets, spectators : list of VariableInfo
        With training-sample ``min``/``max`` filled in.
    correlations : dict of str to ndarray
        Weighted correlation matrix of the input variables per class name, from training events
        (empty if ``CalcCorrelations`` is off).
    """

    name: str
    train: Sample
    test: Sample
    class_names: list[str]
    variables: list[VariableInfo]
    targets: list[VariableInfo] = field(default_factory=list)
    spectators: list[VariableInfo] = field(default_factory=list)
    correlations: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    def class_index(self, name: str) -> int:
        """Index of the class called ``name``.

        Raises
        ------
        KeyError
            If there is no such class (the message lists the classes).
        """
        try:
            return self.class_names.index(name)
        except ValueError:
            raise KeyError(
                f"no class '{name}' in dataset '{self.name}'; classes: {self.class_names}"
            ) from None

    @property
    def signal_class(self) -> int:
        """Index of the class named ``Signal`` (0 when there is none)."""
        return self.class_names.index("Signal") if "Signal" in self.class_names else 0

    def sample(self, tree_type: Literal["train", "test"]) -> Sample:
        """The training (``"train"``) or the test (``"test"``) sample."""
        return self.train if tree_type == "train" else self.test

    def with_samples(self, train: Sample, test: Sample) -> DataSet:
        """The same description with other training and test events (TMVA ``DataSet::SetEventCollection``).

        What describes the data stays as it is: the class names, the variables, targets and
        spectators with the training ranges of this DataSet, and its correlation matrices.  This is
        how TMVA's ``CvSplit::PrepareFoldDataSet`` builds the DataSet of one cross-validation fold
        from the events of one loaded DataSet.

        Parameters
        ----------
        train, test : Sample
            Events with the columns of this DataSet (``X`` of shape (n, n_variables), ``targets``
            (n, n_targets), ``spectators`` (n, n_spectators)).

        Returns
        -------
        DataSet

        Raises
        ------
        ValueError
            If a sample's columns do not match the variables, targets or spectators.
        """
        for what, s in (("train", train), ("test", test)):
            shape = (s.X.shape[1], s.targets.shape[1], s.spectators.shape[1])
            expected = (len(self.variables), len(self.targets), len(self.spectators))
            if shape != expected:
                raise ValueError(
                    f"DataSet '{self.name}': the {what} sample has (variables, targets, spectators) columns "
                    f"{shape}, expected {expected}"
                )
        return dataclasses.replace(self, train=train, test=test)

    def select_variables(self, indices: npt.ArrayLike, name: str | None = None) -> DataSet:
        """The DataSet with only some of its input variables (the same events, the same split).

        TMVA's ``VariableImportance`` builds a new DataLoader with a subset of the variables for
        every subset it trains (``DataLoaderCopy``); the events and their split are those of the
        full loader, so selecting the columns of the built DataSet gives the same DataSet.

        Parameters
        ----------
        indices : array_like of int
            Positions of the variables to keep, in the order to keep them.
        name : str, optional
            The new DataSet's name (default: this one's).

        Returns
        -------
        DataSet
            ``X`` columns, variable descriptions and correlation matrices restricted to ``indices``.

        Raises
        ------
        ValueError
            For no index, a repeated index or one out of range.
        """
        idx = np.asarray(indices, dtype=np.intp).reshape(-1)
        n = len(self.variables)
        if idx.size == 0 or len(set(idx.tolist())) != idx.size or idx.min() < 0 or idx.max() >= n:
            raise ValueError(
                f"DataSet '{self.name}': variable indices {idx.tolist()} must be distinct, in [0, {n}), "
                "and at least one"
            )
        return dataclasses.replace(
            self,
            name=self.name if name is None else name,
            train=self.train.replace(X=np.ascontiguousarray(self.train.X[:, idx])),
            test=self.test.replace(X=np.ascontiguousarray(self.test.X[:, idx])),
            variables=[dataclasses.replace(self.variables[i]) for i in idx],
            correlations={c: m[np.ix_(idx, idx)] for c, m in self.correlations.items()},
        )
