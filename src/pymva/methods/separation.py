"""TMVA's node-splitting criteria (``SeparationBase`` and its subclasses), vectorised over cut candidates.

Each criterion has a *separation index* of a sample with signal weight ``s`` and background weight
``b`` and the *separation gain* of splitting a parent ``(S, B)`` into ``(s, b)`` and
``(S − s, B − b)``, as TMVA defines them (``tmva/tmva/src/SeparationBase.cxx``, ``GiniIndex.cxx``,
``GiniIndexWithLaplace.cxx``, ``CrossEntropy.cxx``, ``MisClassificationError.cxx``,
``SdivSqrtSplusB.cxx``, ``RegressionVariance.cxx``):

=========================  ===============================================================
criterion                  index ``I(s, b)`` (``p = s/(s+b)``)
=========================  ===============================================================
GiniIndex                  ``2 s b / (s+b) / (s+b)`` (0 unless ``s > 0`` and ``b > 0``)
GiniIndexWithLaplace       ``(s b + s + b + 1) / (s+b+2) / (s+b+2)`` (same conditions)
CrossEntropy               ``−(p log₂ p + (1−p) log₂(1−p))`` (0 for ``p`` outside (0, 1))
MisClassificationError     ``1 − max(p, 1−p)``
SDivSqrtSPlusB             ``s / sqrt(s+b)``
=========================  ===============================================================

Gain (all classification criteria): 0 when the two daughters are identical
(``S−s == s`` and ``B−b == b``), else ``I(S,B) − (S−s + B−b)/(S+B)·I(S−s,B−b) − (s+b)/(S+B)·I(s,b)``,
set to 0 below ``sqrt(ε_double)``.  Regression (``RegressionVariance``): index
``(Σwt² − (Σwt)²/n)/n``; gain ``(n·I − n_r·I_r − n_l·I_l)/(n·I)``, 0 when a daughter is empty.

The arithmetic follows TMVA's C++ expressions operation by operation (double precision, same order),
so that ties between cut candidates break as in TMVA.  Every function takes numpy arrays (any shape,
broadcast) of float64 and returns float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = [
    "SEPARATION_INDEX",
    "SEPARATION_TYPES",
    "regression_variance_gain",
    "regression_variance_index",
    "separation_gain",
]

F64 = npt.NDArray[np.float64]

#: TMVA's ``fPrecisionCut``: gains below it count as zero.
PRECISION_CUT = float(np.sqrt(np.finfo(np.float64).eps))


def _gini(s: F64, b: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 2 * s * b / (s + b) / (s + b)
    return np.where((s + b > 0) & (s > 0) & (b > 0), value, 0.0)


def _gini_laplace(s: F64, b: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (s * b + s + b + 1) / (s + b + 2) / (s + b + 2)
    return np.where((s + b > 0) & (s > 0) & (b > 0), value, 0.0)


def _cross_entropy(s: F64, b: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = s / (s + b)
        value = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.where((s + b > 0) & (p > 0) & (p < 1), value, 0.0)


def _misclassification(s: F64, b: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = s / (s + b)
    value = np.where(p >= 1 - p, 1 - p, p)
    return np.where(s + b > 0, value, 0.0)


def _sdivsqrt(s: F64, b: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = s / np.sqrt(s + b)
    return np.where(s + b > 0, value, 0.0)


#: Separation index by (lower-case) ``SeparationType`` name.
SEPARATION_INDEX: dict[str, Callable[[F64, F64], F64]] = {
    "giniindex": _gini,
    "giniindexwithlaplace": _gini_laplace,
    "crossentropy": _cross_entropy,
    "misclassificationerror": _misclassification,
    "sdivsqrtsplusb": _sdivsqrt,
}

#: The ``SeparationType`` values TMVA declares (canonical spelling).
SEPARATION_TYPES = (
    "CrossEntropy",
    "GiniIndex",
    "GiniIndexWithLaplace",
    "MisClassificationError",
    "SDivSqrtSPlusB",
    "RegressionVariance",
)


def separation_gain(index: Callable[[F64, F64], F64], sel_s: F64, sel_b: F64, tot_s: F64, tot_b: F64) -> F64:
    """``SeparationBase::GetSeparationGain`` for arrays of candidates.

    Parameters
    ----------
    index : callable
        One of :data:`SEPARATION_INDEX`.
    sel_s, sel_b : ndarray of float64
        Signal and background weight on one side of each candidate cut.
    tot_s, tot_b : ndarray or float
        The parent's signal and background weight (broadcast).

    Returns
    -------
    ndarray of float64
        The gains (0 for identical daughters and below TMVA's precision cut).
    """
    sel_s = np.asarray(sel_s, dtype=np.float64)
    sel_b = np.asarray(sel_b, dtype=np.float64)
    tot_s = np.asarray(tot_s, dtype=np.float64)
    tot_b = np.asarray(tot_b, dtype=np.float64)
    parent = index(tot_s, tot_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        left = ((tot_s - sel_s) + (tot_b - sel_b)) / (tot_s + tot_b) * index(tot_s - sel_s, tot_b - sel_b)
        right = (sel_s + sel_b) / (tot_s + tot_b) * index(sel_s, sel_b)
    diff = parent - left - right
    same = ((tot_s - sel_s) == sel_s) & ((tot_b - sel_b) == sel_b)
    return np.where(same | ~(diff >= PRECISION_CUT), 0.0, diff)


def regression_variance_index(n: F64, target: F64, target2: F64) -> F64:
    """``RegressionVariance::GetSeparationIndex``: ``(Σwt² − (Σwt)²/n)/n``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (target2 - target * target / n) / n


def regression_variance_gain(
    n_left: F64, t_left: F64, t2_left: F64, n_tot: F64, t_tot: F64, t2_tot: F64
) -> F64:
    """``RegressionVariance::GetSeparationGain`` for arrays of candidates (0 for an empty side)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        parent = n_tot * regression_variance_index(n_tot, t_tot, t2_tot)
        left = (n_tot - n_left) * regression_variance_index(n_tot - n_left, t_tot - t_left, t2_tot - t2_left)
        right = n_left * regression_variance_index(n_left, t_left, t2_left)
        gain = (parent - left - right) / parent
    return np.where((n_tot == n_left) | (n_left == 0), 0.0, gain)
