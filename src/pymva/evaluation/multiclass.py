"""Evaluation of a multiclass method (``../shared/tmva/core.md`` §2.5, §5.7).

For every class ``k`` the output column ``k`` is treated as a binary classifier of class ``k``
against all other classes ("1-vs-rest"): TMVA's :class:`~pymva.evaluation.ROCCurve` gives the ROC
integral and the signal efficiency at background efficiency 0.01, 0.10 and 0.30, on the test and
the training sample.  The confusion matrix at background efficiency ``b`` has in row ``r``,
column ``c`` the signal efficiency of output ``r`` separating class ``r`` (signal) from class
``c`` (background), using only the events of these two classes; the diagonal is NaN.

Histograms (prefix ``MVA_<T>_Test`` / ``MVA_<T>_Train``): ``<prefix>_<clsJ>_prob_for_<clsI>``, the
distribution of output ``J`` for the events of class ``I`` (40 bins on ``[-0.0002, 1.0002]``,
unit area, ``TH1F``), and the ROC graphs ``<prefix>_rejBvsS_<cls>`` (1-vs-rest) and
``<prefix>_1v1rejBvsS_<clsI>_vs_<clsJ>`` (x signal efficiency, y background rejection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import hist
import numpy as np
import numpy.typing as npt

from .._html import html_table
from ..errors import DataError
from ..extras import new_axes
from ..histograms import Graph
from ._util import F64, as_float_array, norm_hist
from .classification import EFF_B_POINTS, NBINS_MVA
from .roc import ROC_TITLE, ROCCurve, roc_curve, style_roc_axes

__all__ = ["MulticlassResult", "evaluate_multiclass"]

# ResultsMulticlass::CreateMulticlassHistos keeps the range in Float_t
_PROB_LO = float(np.float32(0.0 - 0.0002))
_PROB_HI = float(np.float32(1.0 + 0.0002))


@dataclass(frozen=True, eq=False)
class MulticlassResult:
    """Evaluation of one multiclass method.

    Attributes
    ----------
    title, dataset : str
    class_names : tuple of str
    test_roc_integral, train_roc_integral : ndarray, shape (n_classes,)
        1-vs-rest ROC integral per class.
    test_eff_at_01, test_eff_at_10, test_eff_at_30 : ndarray, shape (n_classes,)
        1-vs-rest signal efficiency at background efficiency 0.01, 0.10, 0.30 (test sample).
    train_eff_at_01, train_eff_at_10, train_eff_at_30 : ndarray, shape (n_classes,)
        The same on the training sample.
    confusion_test, confusion_train : dict of float to ndarray (n_classes, n_classes)
        Confusion matrices keyed by the background efficiency (0.01, 0.10, 0.30); row = signal
        class, column = background class, NaN on the diagonal.
    test_roc_curves, train_roc_curves : tuple of ROCCurve
        The 1-vs-rest curves per class.
    histograms : dict of str to hist.Hist
        The ``prob_for`` histograms (TH1F, ``Weight`` storage; see :mod:`pymva.histograms`), by name.
    graphs : dict of str to Graph
        The ROC graphs TMVA stores (``rejBvsS`` and ``1v1rejBvsS``), by name.
    """

    title: str
    dataset: str
    class_names: tuple[str, ...]
    test_roc_integral: F64
    train_roc_integral: F64
    test_eff_at_01: F64
    test_eff_at_10: F64
    test_eff_at_30: F64
    train_eff_at_01: F64
    train_eff_at_10: F64
    train_eff_at_30: F64
    confusion_test: dict[float, F64] = field(repr=False)
    confusion_train: dict[float, F64] = field(repr=False)
    test_roc_curves: tuple[ROCCurve, ...] = field(repr=False)
    train_roc_curves: tuple[ROCCurve, ...] = field(repr=False)
    histograms: dict[str, hist.Hist[Any]] = field(default_factory=dict, repr=False)
    graphs: dict[str, Graph] = field(default_factory=dict, repr=False)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    def roc_integral(self, iClass: int = 0, sample: str = "test") -> float:
        """1-vs-rest ROC integral of class ``iClass`` (``Factory::GetROCIntegral(loader, title, iClass)``)."""
        arr = self.test_roc_integral if sample == "test" else self.train_roc_integral
        return float(arr[iClass])

    def eff_at(self, eff_b: float, sample: str = "test") -> F64:
        """Per-class signal efficiency at background efficiency 0.01, 0.10 or 0.30."""
        key = {0.01: "01", 0.10: "10", 0.30: "30"}.get(round(eff_b, 2))
        if key is None:
            raise ValueError(f"eff_b={eff_b}: only 0.01, 0.10 and 0.30 are evaluated")
        arr: F64 = getattr(self, f"{sample}_eff_at_{key}")
        return arr

    def plot(self, ax: Any = None, sample: str = "test") -> Any:
        """Draw the 1-vs-rest ROC curve of every class (needs the ``plot`` extra); returns the Figure.

        Titled ``Signal efficiency vs. Background rejection (<title>, <sample> sample)``, one
        curve per signal class; a new figure (without ``ax``) is not held by pyplot.
        """

        ax = new_axes(ax)
        curves = self.test_roc_curves if sample == "test" else self.train_roc_curves
        for name, curve in zip(self.class_names, curves, strict=True):
            curve.plot(ax=ax, label=name)
        style_roc_axes(ax, f"{ROC_TITLE} ({self.title}, {sample} sample)")
        ax.legend(loc="lower left", title="Signal class (1 vs rest)")
        ax.figure.tight_layout()
        return ax.figure

    def _repr_html_(self) -> str:
        rows = []
        for k, name in enumerate(self.class_names):
            rows.append(
                (
                    name,
                    f"{self.test_roc_integral[k]:.3f} ({self.train_roc_integral[k]:.3f})",
                    f"{self.test_eff_at_01[k]:.3f} ({self.train_eff_at_01[k]:.3f})",
                    f"{self.test_eff_at_10[k]:.3f} ({self.train_eff_at_10[k]:.3f})",
                    f"{self.test_eff_at_30[k]:.3f} ({self.train_eff_at_30[k]:.3f})",
                )
            )
        return html_table(
            f"Multiclass: {self.title} [{self.dataset}], test (train)",
            rows,
            header=("class", "ROC AUC", "effS@B=0.01", "effS@B=0.10", "effS@B=0.30"),
        )


@dataclass(frozen=True, eq=False)
class _SampleEval:
    auc: F64
    effs: dict[float, F64]
    confusion: dict[float, F64]
    curves: tuple[ROCCurve, ...]
    histograms: dict[str, hist.Hist[Any]]
    graphs: dict[str, Graph]


def _evaluate_sample(
    prefix: str, names: Sequence[str], out: F64, cls: npt.NDArray[np.int64], w: F64
) -> _SampleEval:
    k = len(names)
    curves = tuple(roc_curve(out[:, i], w, cls == i) for i in range(k))
    auc = np.array([c.auc for c in curves])
    effs = {b: np.array([c.eff_s_for_eff_b(b) for c in curves]) for b in EFF_B_POINTS}
    pair: dict[tuple[int, int], ROCCurve] = {}
    for i in range(k):
        for j in range(k):
            if i != j:
                sel = (cls == i) | (cls == j)
                pair[(i, j)] = roc_curve(out[sel, i], w[sel], cls[sel] == i)
    confusion: dict[float, F64] = {}
    for b in EFF_B_POINTS:
        mat = np.full((k, k), np.nan)
        for (i, j), c in pair.items():
            mat[i, j] = c.eff_s_for_eff_b(b)
        confusion[b] = mat
    hists: dict[str, hist.Hist[Any]] = {}
    for i in range(k):
        mask = cls == i
        for j in range(k):
            name = f"{prefix}_{names[j]}_prob_for_{names[i]}"
            hists[name] = norm_hist(name, name, out[mask, j], w[mask], _PROB_LO, _PROB_HI, NBINS_MVA, "TH1F")
    graphs: dict[str, Graph] = {}
    for i in range(k):
        name = f"{prefix}_rejBvsS_{names[i]}"
        graphs[name] = Graph(name, f"{prefix}_{names[i]}", curves[i].sensitivity, curves[i].specificity)
    for (i, j), c in pair.items():
        name = f"{prefix}_1v1rejBvsS_{names[i]}_vs_{names[j]}"
        graphs[name] = Graph(name, f"{prefix}_{names[i]}_vs_{names[j]}", c.sensitivity, c.specificity)
    return _SampleEval(auc, effs, confusion, curves, hists, graphs)


def _check_sample(
    what: str, outputs: npt.ArrayLike, class_id: npt.ArrayLike, weights: npt.ArrayLike, k: int
) -> tuple[F64, npt.NDArray[np.int64], F64]:
    out = as_float_array(outputs, f"{what} outputs", ndim=2)
    cls = np.asarray(class_id)
    w = as_float_array(weights, f"{what} weights")
    if out.shape[1] != k:
        raise DataError(f"{what} outputs have {out.shape[1]} columns for {k} classes")
    if cls.ndim != 1 or not (cls.shape[0] == w.shape[0] == out.shape[0]):
        raise DataError(f"{what}: outputs, class ids and weights of different lengths")
    cls = cls.astype(np.int64)
    if cls.size and (cls.min() < 0 or cls.max() >= k):
        raise DataError(f"{what}: class ids must be in 0..{k - 1}, found {cls.min()}..{cls.max()}")
    return out, cls, w


def evaluate_multiclass(
    title: str,
    dataset_name: str,
    class_names: Sequence[str],
    test_outputs: npt.ArrayLike,
    test_class_id: npt.ArrayLike,
    test_weights: npt.ArrayLike,
    train_outputs: npt.ArrayLike,
    train_class_id: npt.ArrayLike,
    train_weights: npt.ArrayLike,
) -> MulticlassResult:
    """Evaluate a multiclass method as TMVA's ``EvaluateAllMethods`` does (core.md §2.5, §5.7).

    Parameters
    ----------
    title, dataset_name : str
        Method title and dataset (loader) name.
    class_names : sequence of str
        Class names in class-index order.
    test_outputs, train_outputs : array_like, shape (n, n_classes)
        Per-class outputs.
    test_class_id, train_class_id : array_like of int, shape (n,)
        True class index of each event.
    test_weights, train_weights : array_like, shape (n,)

    Returns
    -------
    MulticlassResult

    Raises
    ------
    DataError
        On inconsistent shapes, class ids out of range or non-finite values.
    """
    names = [str(n) for n in class_names]
    k = len(names)
    if k < 2:
        raise DataError(f"multiclass evaluation needs at least two classes, got {names}")
    test = _evaluate_sample(
        f"MVA_{title}_Test", names, *_check_sample("test", test_outputs, test_class_id, test_weights, k)
    )
    train = _evaluate_sample(
        f"MVA_{title}_Train",
        names,
        *_check_sample("training", train_outputs, train_class_id, train_weights, k),
    )
    return MulticlassResult(
        title=title,
        dataset=dataset_name,
        class_names=tuple(names),
        test_roc_integral=test.auc,
        train_roc_integral=train.auc,
        test_eff_at_01=test.effs[0.01],
        test_eff_at_10=test.effs[0.10],
        test_eff_at_30=test.effs[0.30],
        train_eff_at_01=train.effs[0.01],
        train_eff_at_10=train.effs[0.10],
        train_eff_at_30=train.effs[0.30],
        confusion_test=test.confusion,
        confusion_train=train.confusion,
        test_roc_curves=test.curves,
        train_roc_curves=train.curves,
        histograms={**test.histograms, **train.histograms},
        graphs={**test.graphs, **train.graphs},
    )
