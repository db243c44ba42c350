"""Fitting N, D and P transformations in one pass over chunks of events (a pymva extension).

:meth:`VariableTransform.fit` needs all training events at once.  :func:`fit_streaming` fits the
same parameters from an iterable of chunks ``(Z, weights, class_id)``, keeping only running
statistics per parameter set (each class, and all classes):

* ``N`` (:class:`~pymva.transforms.normalize.Normalize`): minimum and maximum — exact, identical to
  the in-memory fit bit for bit;
* ``D`` (:class:`~pymva.transforms.decorrelate.Decorrelate`): weighted mean and covariance,
  ``P`` (:class:`~pymva.transforms.pca.PCA`): unweighted ones — per chunk in float64 with two passes
  (the mean, then the centred scatter, as :func:`pymva.transforms.base.moments`), merged across
  chunks with the pairwise update of Chan, Golub & LeVeque (1979)
  ``M = M_a + M_b + δδᵀ·w_a w_b / (w_a + w_b)``; the parameters then agree with the in-memory ones to
  float64 rounding (relative ~ n_chunks × eps64), not bit for bit.

``G`` and ``U`` (:class:`~pymva.transforms.gauss.Gauss`, :class:`~pymva.transforms.gauss.Uniform`)
place their CDF bin edges at quantiles of the sorted training values (TMVA's
``VariableGaussTransform::GetCumulativeDist``), which a single pass cannot reproduce exactly; they
raise :class:`~pymva.errors.OptionError` here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError, OptionError
from .base import F32, F64, VariableTransform, log
from .decorrelate import MAX_INPUTS, Decorrelate, inverse_sqrt_matrix
from .normalize import Normalize
from .pca import PCA, principal_axes

__all__ = ["RunningMoments", "fit_streaming", "fit_streaming_passes"]


class RunningMoments:
    """Sum of weights, mean, centred scatter, minimum and maximum of rows seen chunk by chunk.

    Parameters
    ----------
    n_columns : int
    weighted : bool
        Whether :meth:`update` uses the weights (``False``: every row counts 1, as PCA's fit).

    Attributes
    ----------
    n : int
        Rows seen.
    sw : float
        Their sum of weights (``n`` when unweighted).
    mean : ndarray of float64, shape (n_columns,)
    scatter : ndarray of float64, shape (n_columns, n_columns)
        ``Σ w (x − mean)(x − mean)ᵀ``.
    lo, hi : ndarray of float64, shape (n_columns,)
        Column minimum and maximum (±inf before any row).
    """

    def __init__(self, n_columns: int, *, weighted: bool = True) -> None:
        self.weighted = weighted
        self.n = 0
        self.sw = 0.0
        self.mean: F64 = np.zeros(n_columns)
        self.scatter: F64 = np.zeros((n_columns, n_columns))
        self.lo: F64 = np.full(n_columns, np.inf)
        self.hi: F64 = np.full(n_columns, -np.inf)

    def update(self, Z: F32, w: F32) -> None:
        """Add the rows ``Z`` (float32, ``(n, n_columns)``) with weights ``w`` (``(n,)``)."""
        n = len(Z)
        if n == 0:
            return
        self.n += n
        np.minimum(self.lo, Z.min(axis=0), out=self.lo)
        np.maximum(self.hi, Z.max(axis=0), out=self.hi)
        block = Z.astype(np.float64)
        if self.weighted:
            wb = w.astype(np.float64)
            sw_b = float(wb.sum())
            if sw_b == 0.0:
                return
            mean_b = wb @ block / sw_b
            d = block - mean_b
            scatter_b = (d * wb[:, None]).T @ d
        else:
            sw_b = float(n)
            mean_b = block.sum(axis=0) / sw_b
            d = block - mean_b
            scatter_b = d.T @ d
        sw_a = self.sw
        if sw_a == 0.0:
            self.sw, self.mean, self.scatter = sw_b, mean_b, scatter_b
            return
        total = sw_a + sw_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (sw_b / total)
        self.scatter = self.scatter + scatter_b + np.outer(delta, delta) * (sw_a * sw_b / total)
        self.sw = total

    @property
    def cov(self) -> F64:
        """Covariance normalised by the sum of weights (NaN without rows)."""
        if self.sw == 0.0:
            return np.full(self.scatter.shape, np.nan)
        out: F64 = self.scatter / self.sw
        return out


def fit_streaming(
    transform: VariableTransform, chunks: Iterable[tuple[F32, F32, npt.NDArray[np.integer[Any]]]]
) -> None:
    """Fit ``transform`` (N, D or P) on chunks of training events, as :meth:`~VariableTransform.fit`.

    Parameters
    ----------
    transform : Normalize, Decorrelate or PCA
        Its ``params_`` are set: one set per class and one for all classes (one set for one class);
        a class without events gets the all-classes parameters (with a warning), as in ``fit``.
    chunks : iterable of (Z, weights, class_id)
        ``Z`` float32 ``(n, n_inputs)`` (the transformation's selected inputs), ``weights`` ``(n,)``,
        ``class_id`` int ``(n,)``; iterated once.

    Raises
    ------
    OptionError
        For ``G``, ``U`` and other transformations without a one-pass fit.
    DataError
        No events at all; for D a class whose weights sum to zero or less.
    """
    if not isinstance(transform, (Normalize, Decorrelate, PCA)):
        raise OptionError(
            f"variable transformation {transform.letter} has no one-pass (streaming) fit: Gauss (G) and "
            "Uniform (U) place their bins at quantiles of the sorted training values; N, D and P are "
            "accepted"
        )
    k = transform.n_inputs
    n_sets = transform.n_sets
    if isinstance(transform, (Decorrelate, PCA)) and k > MAX_INPUTS:  # as their fit: no matrix, identity
        log.info(": More than %d variables, no %s matrix is calculated", MAX_INPUTS, transform.xml_name)
        transform.params_ = [None] * n_sets
        return
    weighted = not isinstance(transform, PCA)
    stats = [RunningMoments(k, weighted=weighted) for _ in range(n_sets)]
    for Z, w, cls in chunks:
        Z = np.asarray(Z, dtype=np.float32)
        w = np.asarray(w, dtype=np.float32)
        cls = np.asarray(cls)
        for s, idx in transform.class_subsets(cls):
            stats[s].update(Z if idx is None else Z[idx], w if idx is None else w[idx])
    all_set = transform.all_classes_set
    if stats[all_set].n == 0:
        raise DataError(f"variable transformation {transform.letter}: no training events to fit on")
    params: list[Any] = [None] * n_sets
    for s in [all_set] + [i for i in range(n_sets) if i != all_set]:
        st = stats[s]
        if st.n == 0:
            log.warning(
                "Variable transformation %s: class %d has no training events; it uses the parameters "
                "of all classes",
                transform.letter,
                s,
            )
            params[s] = params[all_set]
        elif isinstance(transform, Normalize):
            const = np.flatnonzero(st.hi <= st.lo)
            if const.size:
                log.warning(
                    "Normalize: input(s) %s are constant on the training events of a class; they are "
                    "mapped to 0",
                    ", ".join(str(int(i)) for i in const),
                )
            params[s] = (st.lo.copy(), st.hi.copy())
        elif isinstance(transform, Decorrelate):
            if not st.sw > 0:
                raise DataError(
                    f"Decorrelate: the sum of event weights is {st.sw}; the weighted covariance is undefined"
                )
            params[s] = inverse_sqrt_matrix(st.cov)
        else:
            _eigval, vec = principal_axes(st.cov)
            params[s] = (st.mean.copy(), vec)
    transform.params_ = params


Chunks = Iterable[tuple[F32, F32, npt.NDArray[np.integer[Any]]]]


def fit_streaming_passes(transform: VariableTransform, source: Callable[[], Chunks]) -> None:
    """Fit ``transform`` on chunks of training events, reading them as many times as it needs.

    N, D and P read the chunks once (:func:`fit_streaming`).

    Parameters
    ----------
    transform : VariableTransform
    source : callable
        ``source()`` returns a fresh iterable of ``(Z, weights, class_id)`` chunks (as
        :func:`fit_streaming`), the same events in the same order at every call.

    Raises
    ------
    OptionError
        For a transformation without a streaming fit.
    DataError
        As :func:`fit_streaming`.
    """
    fit_streaming(transform, source())
