"""TMVA's ``ROCCurve`` (``../shared/tmva/core.md`` §5.1).

The curve has one point per event plus the two end points.  With the events sorted by ascending
response ``y`` and weights ``w``:

* sensitivity (signal efficiency) ``[1, TP_0/S, ..., TP_{n-1}/S, 0]`` with ``TP_k`` the signal
  weight of the events at sorted index ``>= k``;
* specificity (background rejection) ``[0, TN_0/B, ..., TN_{n-1}/B, 1]`` with ``TN_k`` the
  background weight at index ``<= k``;
* ``auc = sum_k (sens_k - sens_{k+1}) (spec_k + spec_{k+1}) / 2`` (``ROCCurve::GetROCIntegral``).

An event's own weight appears on both sides of its cut (index ``>= k`` and ``<= k``), so this AUC
is not exactly the weighted Mann–Whitney statistic that scikit-learn's ``roc_auc_score`` computes:
every signal event directly followed (in sorted order) by a background event adds an extra
``w_s w_b / (2 S B)``, and ties are broken by position instead of being averaged.  On continuous
responses the two agree to ``O(1/n)``; a perfectly anti-separated sample gets a tiny positive AUC.

Ties in ``y`` are kept in input order (a stable sort); TMVA's ``std::sort`` leaves their order
unspecified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .._html import html_table
from ..errors import DataError
from ..extras import new_axes
from ._util import F64, as_bool_array, as_float_array, check_same_length, spline1

__all__ = ["ROC_TITLE", "ROCCurve", "roc_curve"]

#: The title of TMVA's ROC canvas (``Factory::GetROCCurve``); one method's graph appends ``(<title>)``.
ROC_TITLE = "Signal efficiency vs. Background rejection"

_DBL_MIN = float(np.finfo(np.float64).tiny)


@dataclass(frozen=True, eq=False)
class ROCCurve:
    """A ROC curve as TMVA's ``ROCCurve`` builds it.

    Attributes
    ----------
    sensitivity : ndarray of float64, shape (n + 2,)
        Signal efficiency at each cut, from 1 down to 0 (the graph's x).
    specificity : ndarray of float64, shape (n + 2,)
        Background rejection ``1 - effB`` at each cut, from 0 up to 1 (the graph's y).
    auc : float
        The area under the curve, ``ROCCurve::GetROCIntegral`` (TMVA's "ROC-integ").
    """

    sensitivity: F64 = field(repr=False)
    specificity: F64 = field(repr=False)
    auc: float

    @property
    def background_efficiency(self) -> F64:
        """``1 - specificity``."""
        return 1.0 - self.specificity

    def eff_s_for_eff_b(self, eff_b: float) -> float:
        """Signal efficiency at background efficiency ``eff_b`` (``ROCCurve::GetEffSForEffB``).

        Linear interpolation of sensitivity against ``1 - specificity`` between the bracketing
        curve points.

        Parameters
        ----------
        eff_b : float
            Background efficiency in [0, 1].

        Returns
        -------
        float
        """
        if not 0.0 <= eff_b <= 1.0:
            raise ValueError(f"eff_b={eff_b} is outside [0, 1]")
        x = (1.0 - self.specificity)[::-1]
        y = self.sensitivity[::-1]
        return float(spline1(x, y, float(eff_b)))

    def GetROCIntegral(self) -> float:
        """TMVA's name for :attr:`auc`."""
        return self.auc

    def GetEffSForEffB(self, effB: float) -> float:
        """TMVA's name for :meth:`eff_s_for_eff_b`."""
        return self.eff_s_for_eff_b(effB)

    def plot(self, ax: Any = None, label: str | None = None, **kwargs: Any) -> Any:
        """Draw the curve (x: signal efficiency, y: background rejection) as TMVA's ROC graph.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure if omitted.
        label : str, optional
            Legend label; the AUC is appended.
        **kwargs
            Passed to ``Axes.plot``.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax.figure``; a new one, not held by pyplot, without ``ax``).
        """

        fresh = ax is None
        ax = new_axes(ax)
        text = f"AUC {self.auc:.3f}" if label is None else f"{label} (AUC {self.auc:.3f})"
        ax.plot(self.sensitivity, self.specificity, label=text, **kwargs)
        if fresh:
            style_roc_axes(ax, ROC_TITLE if label is None else f"{ROC_TITLE} ({label})")
            ax.legend(loc="lower left", title="MVA Method")
            ax.figure.tight_layout()
        return ax.figure

    def _repr_html_(self) -> str:
        rows = [("ROC integral", self.auc)] + [
            (f"signal efficiency at background efficiency {b:.2f}", self.eff_s_for_eff_b(b))
            for b in (0.01, 0.10, 0.30)
        ]
        return html_table(f"ROCCurve ({self.sensitivity.shape[0]} points)", rows)


def roc_curve(values: npt.ArrayLike, weights: npt.ArrayLike | None, is_signal: npt.ArrayLike) -> ROCCurve:
    """Build TMVA's ROC curve of a response.

    Parameters
    ----------
    values : array_like, shape (n,)
        Classifier response per event (larger = more signal-like).
    weights : array_like, shape (n,), or None
        Event weights (None: all 1).
    is_signal : array_like of bool, shape (n,)
        True for signal events.

    Returns
    -------
    ROCCurve

    Raises
    ------
    DataError
        On arrays of different lengths or non-finite values.
    """
    y = _finite(values, "ROC curve values")
    n = y.shape[0]
    w = np.ones(n) if weights is None else _finite(weights, "ROC curve weights")
    sig = as_bool_array(is_signal, "ROC curve signal flags", n)
    check_same_length("roc_curve", y, w, sig)
    # bounded memory (a few arrays of n values at a time; float32 inputs are sorted as float32,
    # which orders them as their exact float64 values): the same float64 operations in the same
    # order as the plain formulas, so the curve and its integral are the same bit for bit
    order = np.argsort(y, kind="stable")
    del y
    sig_sorted = sig[order]
    w_sorted = w[order].astype(np.float64, copy=False)
    del order
    tp = np.add.accumulate(np.where(sig_sorted, w_sorted, 0.0)[::-1])[::-1] if n else np.zeros(0)
    tn = np.add.accumulate(np.where(sig_sorted, 0.0, w_sorted)) if n else np.zeros(0)
    del w_sorted, sig_sorted
    total_s = float(tp[0]) if n else 0.0
    total_b = float(tn[-1]) if n else 0.0
    sens = np.empty(n + 2)
    spec = np.empty(n + 2)
    sens[0], sens[-1] = 1.0, 0.0
    spec[0], spec[-1] = 0.0, 1.0
    if total_s <= _DBL_MIN:
        sens[1:-1] = 0.0
    else:
        np.divide(tp, total_s, out=sens[1:-1])
    del tp
    if total_b <= _DBL_MIN:
        spec[1:-1] = 0.0
    else:
        np.divide(tn, total_b, out=spec[1:-1])
    del tn
    return ROCCurve(sens, spec, _trapezoid_integral(sens, spec))


#: Curve points per block of the integral (bounded temporaries).
_BLOCK = 1 << 20


def _trapezoid_integral(sens: F64, spec: F64) -> float:
    """``Σ_i ½ (fnr_{i+1} − fnr_i)(spec_i + spec_{i+1})`` with ``fnr = 1 − sens``, summed left to right.

    ``ROCCurve::GetROCIntegral``'s loop, block by block: each block's terms are accumulated after
    the running sum of the blocks before it, the same additions in the same order as one
    accumulation over all terms.
    """
    n_terms = sens.shape[0] - 1
    total: float | None = None
    for a in range(0, n_terms, _BLOCK):
        b = min(a + _BLOCK, n_terms)
        fnr = 1.0 - sens[a : b + 1]
        terms = 0.5 * (fnr[1:] - fnr[:-1]) * (spec[a:b] + spec[a + 1 : b + 1])
        if total is not None:
            terms = np.concatenate([[total], terms])
        total = float(np.add.accumulate(terms)[-1])
    return 0.0 if total is None else total


def _finite(x: npt.ArrayLike, what: str) -> npt.NDArray[np.floating[Any]]:
    """``x`` as a 1-D float32 array if it is one (no copy), else float64; checked to be finite.

    Raises
    ------
    DataError
        If the array is not 1-D or holds NaN or infinity.
    """
    a = np.asarray(x)
    if a.dtype != np.float32:
        return as_float_array(a, what)
    if a.ndim != 1:
        raise DataError(f"{what} must be a 1-dimensional array, got shape {a.shape}")
    if a.size and not np.isfinite(a).all():
        bad = int(np.count_nonzero(~np.isfinite(a)))
        raise DataError(f"{what} contains {bad} NaN or infinite value(s); evaluation needs finite numbers")
    return a


def style_roc_axes(ax: Any, title: str) -> None:
    """Axis titles and ranges of TMVA's ROC canvas (``Factory::GetROCCurve``)."""
    ax.set_xlabel("Signal efficiency (Sensitivity)")
    ax.set_ylabel("Background rejection (Specificity)")
    ax.set_title(title)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.grid(True, alpha=0.3)
