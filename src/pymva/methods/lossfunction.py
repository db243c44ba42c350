"""TMVA's loss functions of gradient-boosted regression trees (``LossFunction.cxx``, the ``…BDT`` classes).

For ``BoostType=Grad`` regression, ``RegressionLossFunctionBDTG`` chooses how the initial value,
the pseudo-targets of each tree and the leaf values are computed, from residuals ``r = y − F``
with per-event weights ``w``:

=================  ==========================  ===========================  ==========================
loss               initial value               target                       leaf value
=================  ==========================  ===========================  ==========================
Huber              weighted median of ``y``    ``r`` clipped to ``±δ``      median ``m`` of ``r`` plus
                                                                            ``mean(sign(r−m)·min(δ, |r−m|))``
LeastSquares       weighted mean of ``y``      ``r``                        weighted mean of ``r``
AbsoluteDeviation  weighted median of ``y``    ``sign(r)`` (±1)             weighted median of ``r``
=================  ==========================  ===========================  ==========================

``δ`` (Huber's transition point) is the ``HuberQuantile`` quantile of ``|r|`` over the tree's
training sample (the first non-zero ``|r|`` if that is 0), recomputed whenever the targets are set.
TMVA's weighted quantile walks the sorted values adding weights while the running sum is
``<= W·q`` and returns the value *after* the last one added; that is reproduced here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["LossFunctionBDT", "make_loss"]

F64 = npt.NDArray[np.float64]


def weighted_quantile(values: F64, weights: F64, q: float, *, cap_last: bool = True) -> float:
    """TMVA's ``CalculateQuantile`` (``cap_last``) or AbsoluteDeviation's median walk.

    Sort ``values``; add weights while the running sum is ``<= W·q`` (and, with ``cap_last``,
    stop before the last value); return the value at the stopping index (0 past the end).
    """
    n = len(values)
    if n == 0:
        return 0.0
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    total = float(np.cumsum(weights)[-1])
    cum = np.cumsum(w)
    limit = n - 1 if cap_last else n
    # i advances while i < limit and the running sum before adding w[i] is <= total*q
    before = np.concatenate([[0.0], cum[:-1]])
    passes = before[:limit] <= total * q
    stop = np.flatnonzero(~passes)
    i = int(stop[0]) if stop.size else limit
    if q == 0:
        i = 0
    if i >= n:
        return 0.0
    return float(v[i])


class LossFunctionBDT:
    """One of TMVA's BDT regression loss functions (see the module docstring).

    Parameters
    ----------
    kind : {'huber', 'leastsquares', 'absolutedeviation'}
    quantile : float
        ``HuberQuantile``.
    """

    def __init__(self, kind: str, quantile: float = 0.7) -> None:
        self.kind = kind
        self.quantile = quantile
        self.transition = -9999.0

    def initial(self, y: F64, w: F64) -> float:
        """The initial prediction (``Init``): weighted median (Huber, AbsoluteDeviation) or mean."""
        if self.kind == "leastsquares":
            return float(np.cumsum(w * y)[-1] / np.cumsum(w)[-1])
        if self.kind == "huber":
            return weighted_quantile(y, w, 0.5)
        return weighted_quantile(y, w, 0.5, cap_last=False)

    def targets(self, residual: F64, w: F64) -> F64:
        """Pseudo-targets of the next tree for the sample's residuals (``SetTargets``/``Target``)."""
        if self.kind == "leastsquares":
            return residual
        if self.kind == "absolutedeviation":
            return np.where(residual < 0, -1.0, 1.0)
        a = np.abs(residual)
        tp = weighted_quantile(a, w, self.quantile)
        if tp == 0:
            nz = np.sort(a)[np.sort(a) != 0]
            if nz.size:
                tp = float(nz[0])
        self.transition = tp
        return np.where(a <= tp, residual, tp * np.where(residual < 0, -1.0, 1.0))

    def fit(self, residual: F64, w: F64) -> float:
        """The value of one leaf from its events' residuals and weights (``Fit``)."""
        if len(residual) == 0:
            return 0.0
        if self.kind == "leastsquares":
            return float(np.cumsum(w * residual)[-1] / np.cumsum(w)[-1])
        if self.kind == "absolutedeviation":
            return weighted_quantile(residual, w, 0.5, cap_last=False)
        median = weighted_quantile(residual, w, 0.5)
        diff = residual - median
        terms = (
            1.0 / len(residual) * np.where(diff < 0, -1.0, 1.0) * np.minimum(self.transition, np.abs(diff))
        )
        return float(median + np.cumsum(terms)[-1])


def make_loss(name: str, quantile: float) -> LossFunctionBDT:
    """The loss of ``RegressionLossFunctionBDTG`` (case-insensitive name)."""
    return LossFunctionBDT(name.lower(), quantile)
