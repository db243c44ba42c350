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
``VariableGaussTransform::GetCumulativeDist``), which a single pass cannot reproduce; they raise
:class:`~pymva.errors.OptionError` in :func:`fit_streaming`.  :func:`fit_streaming_passes` reads the
chunks twice for them (the range, then a fine histogram over it) and walks TMVA's binning over the
fine bins: identical to the in-memory fit where every fine bin holds a single value (discrete inputs,
ties), and otherwise within about the weight of a fine bin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError, OptionError
from .base import F32, F64, VariableTransform, log
from .decorrelate import MAX_INPUTS, Decorrelate, inverse_sqrt_matrix
from .gauss import CumulativeDistribution, Gauss, distribution_from_edges, sum_per_bin
from .normalize import Normalize
from .pca import PCA, principal_axes

__all__ = [
    "GAUSS_FINE_BINS",
    "RunningMoments",
    "fit_from_moments",
    "fit_streaming",
    "fit_streaming_passes",
    "moment_partials",
]


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
        if len(Z):
            self.merge(RunningMoments.of(Z, w, weighted=self.weighted))

    @classmethod
    def of(cls, Z: F32, w: F32, *, weighted: bool = True) -> RunningMoments:
        """The moments of one chunk of rows (what :meth:`update` merges; picklable, small)."""
        n, k = Z.shape
        out = cls(k, weighted=weighted)
        if n == 0:
            return out
        out.n = n
        out.lo = Z.min(axis=0).astype(np.float64)
        out.hi = Z.max(axis=0).astype(np.float64)
        block = Z.astype(np.float64)
        if weighted:
            wb = w.astype(np.float64)
            sw_b = float(wb.sum())
            if sw_b == 0.0:
                return out
            mean_b = wb @ block / sw_b
            d = block - mean_b
            scatter_b = (d * wb[:, None]).T @ d
        else:
            sw_b = float(n)
            mean_b = block.sum(axis=0) / sw_b
            d = block - mean_b
            scatter_b = d.T @ d
        out.sw, out.mean, out.scatter = sw_b, mean_b, scatter_b
        return out

    def merge(self, other: RunningMoments) -> None:
        """Add the rows ``other`` has seen after those seen here (Chan, Golub & LeVeque's update)."""
        if other.n == 0:
            return
        self.n += other.n
        np.minimum(self.lo, other.lo, out=self.lo)
        np.maximum(self.hi, other.hi, out=self.hi)
        sw_b = other.sw
        if sw_b == 0.0:
            return
        sw_a = self.sw
        if sw_a == 0.0:
            self.sw, self.mean, self.scatter = sw_b, other.mean, other.scatter
            return
        total = sw_a + sw_b
        delta = other.mean - self.mean
        self.mean = self.mean + delta * (sw_b / total)
        self.scatter = self.scatter + other.scatter + np.outer(delta, delta) * (sw_a * sw_b / total)
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
            "Uniform (U) place their bins at quantiles of the sorted training values and need two passes "
            "(fit_streaming_passes); N, D and P are accepted here"
        )
    fit_from_moments(transform, (moment_partials(transform, Z, w, cls) for Z, w, cls in chunks))


def moment_partials(
    transform: VariableTransform, Z: F32, w: F32, cls: npt.NDArray[np.integer[Any]]
) -> list[RunningMoments]:
    """The moments of one chunk for each parameter set of ``transform`` (N, D or P).

    What :func:`fit_streaming` adds chunk by chunk; picklable and small (``k × k`` per set), so it
    can be computed where the chunk is read (:func:`fit_from_moments` adds them in order).
    """
    Z = np.asarray(Z, dtype=np.float32)
    w = np.asarray(w, dtype=np.float32)
    weighted = not isinstance(transform, PCA)
    out = [RunningMoments(transform.n_inputs, weighted=weighted) for _ in range(transform.n_sets)]
    for s, idx in transform.class_subsets(np.asarray(cls)):
        zs = Z if idx is None else Z[idx]
        if len(zs):
            out[s] = RunningMoments.of(zs, w if idx is None else w[idx], weighted=weighted)
    return out


def fit_from_moments(transform: VariableTransform, partials: Iterable[list[RunningMoments]]) -> None:
    """Fit ``transform`` (N, D or P) from the :func:`moment_partials` of its chunks, in stream order.

    Raises
    ------
    OptionError, DataError
        As :func:`fit_streaming`.
    """
    if not isinstance(transform, (Normalize, Decorrelate, PCA)):
        raise OptionError(f"variable transformation {transform.letter} has no one-pass (streaming) fit")
    k = transform.n_inputs
    n_sets = transform.n_sets
    if isinstance(transform, (Decorrelate, PCA)) and k > MAX_INPUTS:  # as their fit: no matrix, identity
        log.info(": More than %d variables, no %s matrix is calculated", MAX_INPUTS, transform.xml_name)
        transform.params_ = [None] * n_sets
        return  # the partials are not read
    weighted = not isinstance(transform, PCA)
    stats = [RunningMoments(k, weighted=weighted) for _ in range(n_sets)]
    for part in partials:
        for s in range(n_sets):
            stats[s].merge(part[s])
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

    N, D and P read the chunks once (:func:`fit_streaming`).  G and U read them twice: the range,
    sum and smallest weight of every input and parameter set, then a histogram of
    :data:`GAUSS_FINE_BINS` equal bins over that range holding the sum of the weights and the largest
    value of each bin.  TMVA's binning walk (:func:`pymva.transforms.gauss.cdf_bin_edges`) then runs
    over the occupied fine bins as if each were one event at its largest value, and the cumulative
    histogram is smoothed and normalised as in memory
    (:func:`~pymva.transforms.gauss.distribution_from_edges`).  The edges are therefore data values,
    as TMVA's, but chosen to the resolution of a fine bin: the cumulative distribution differs from
    the in-memory one by about the weight of a fine bin (plus one event) over the sum of weights,
    and agrees exactly only where the sorted events would put the edges at the same values.

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
    if isinstance(transform, Gauss):  # Uniform too
        _fit_gauss(transform, source)
        return
    fit_streaming(transform, source())


#: Equal bins per input and parameter set of the second pass of the streamed G and U fits.
GAUSS_FINE_BINS = 1 << 16


def _fit_gauss(transform: Gauss, source: Callable[[], Chunks]) -> None:
    """The two-pass streamed fit of G and U (see :func:`fit_streaming_passes`)."""
    k, n_sets, all_set = transform.n_inputs, transform.n_sets, transform.all_classes_set
    n = np.zeros(n_sets, np.int64)
    sw = np.zeros(n_sets)
    min_w = np.full(n_sets, np.inf)
    lo = np.full((n_sets, k), np.inf, np.float32)
    hi = np.full((n_sets, k), -np.inf, np.float32)

    def subsets() -> Iterable[tuple[int, F32, F32]]:
        for Z, w, cls in source():
            Z = np.asarray(Z, dtype=np.float32)
            w = np.asarray(w, dtype=np.float32)
            for s, idx in transform.class_subsets(np.asarray(cls)):
                Zs, ws = (Z, w) if idx is None else (Z[idx], w[idx])
                if len(ws):
                    yield s, Zs, ws

    for s, Zs, ws in subsets():  # pass 1: ranges, sums and smallest weights
        n[s] += len(ws)
        sw[s] += float(np.sum(ws, dtype=np.float64))
        min_w[s] = min(min_w[s], float(ws.min()))
        np.minimum(lo[s], Zs.min(axis=0), out=lo[s])
        np.maximum(hi[s], Zs.max(axis=0), out=hi[s])
    if n[all_set] == 0:
        raise DataError(f"variable transformation {transform.letter}: no training events to fit on")
    for s in range(n_sets):
        if n[s] and not sw[s] > 0:
            raise DataError(
                "Gauss/Uniform transformation: the sum of event weights of a class is not positive; "
                "the cumulative distribution is undefined"
            )
    nb = GAUSS_FINE_BINS
    width = hi.astype(np.float64) - lo.astype(np.float64)
    scale = np.where(width > 0, nb / np.where(width > 0, width, 1.0), 0.0)
    bins = [[_FineBins(nb) for _ in range(k)] for _ in range(n_sets)]
    for s, Zs, ws in subsets():  # pass 2: the fine histograms
        t = (Zs.astype(np.float64) - lo[s]) * scale[s]
        b = np.clip(np.floor(t), 0, nb - 1).astype(np.intp)
        for j in range(k):
            bins[s][j].add(b[:, j], Zs[:, j], ws)
    params: list[list[CumulativeDistribution] | None] = [None] * n_sets
    for s in [all_set] + [i for i in range(n_sets) if i != all_set]:
        if n[s] == 0:
            log.warning(
                "Variable transformation %s: class %d has no training events; it uses the parameters "
                "of all classes",
                transform.letter,
                s,
            )
            params[s] = params[all_set]
            continue
        spb = sum_per_bin(min_w[s], sw[s])
        params[s] = [bins[s][j].distribution(float(lo[s, j]), spb) for j in range(k)]
    transform.params_ = params


class _FineBins:
    """One input's fine histogram for the streamed G/U fit: per bin the sum of weights, the largest
    value, the sum of the weights of the events at that value and the weight of the first of them
    (in stream order, which is the order of a stable sort among equal values)."""

    def __init__(self, nb: int) -> None:
        self.weight = np.zeros(nb)
        self.count = np.zeros(nb, np.int64)
        self.top = np.full(nb, -np.inf, np.float32)
        self.at_top = np.zeros(nb)
        self.first_at_top = np.zeros(nb)

    def add(self, b: npt.NDArray[np.intp], z: F32, w: F32) -> None:
        nb = len(self.weight)
        self.weight += np.bincount(b, weights=w, minlength=nb)
        self.count += np.bincount(b, minlength=nb)
        top = np.full(nb, -np.inf, np.float32)
        np.maximum.at(top, b, z)
        eq = z == top[b]
        at_top = np.bincount(b[eq], weights=w[eq], minlength=nb)
        first = np.zeros(nb)
        ub, idx = np.unique(b[eq], return_index=True)
        first[ub] = w[eq][idx]
        higher = top > self.top
        same = (top == self.top) & (top > -np.inf)
        self.top[higher] = top[higher]
        self.at_top[higher] = at_top[higher]
        self.first_at_top[higher] = first[higher]
        self.at_top[same] += at_top[same]

    def distribution(self, lo: float, spb: float) -> CumulativeDistribution:
        """TMVA's binning walk (:func:`pymva.transforms.gauss.cdf_bin_edges`) over the fine bins.

        Each edge is the largest value of the fine bin in which the running sum of weights reaches
        the next threshold.  Where a bin holds one value only (ties, discrete inputs), the event that
        reaches the threshold is found as in memory if the events at that value have equal weights;
        otherwise the sum at the edge is taken as the threshold itself.
        """
        occ = np.flatnonzero(self.top > -np.inf)
        top = self.top[occ]
        W = self.weight[occ]
        at_top, first, count = self.at_top[occ], self.first_at_top[occ], self.count[occ]
        C = np.cumsum(W)
        R = C if bool((W >= 0).all()) else np.maximum.accumulate(C)
        total = float(C[-1])
        edges = [np.float32(np.float32(lo) - np.float32(1.0e-4)), np.float32(lo)]
        below = [0.0, 0.0]
        # the first event (value lo) is where the walk starts: its weight is in the first sum
        i0 = 0
        if top[0] == np.float32(lo):  # the first bin holds only lo: the walk starts on its first event
            base = float(first[0])
        else:
            base = float(first[0]) if W[0] == at_top[0] else 0.0
        last = np.float32(lo)
        while True:
            i0 = int(np.searchsorted(top, last, side="right"))
            target = base + spb
            i = i0 + int(np.searchsorted(R[i0:], target, side="left")) if i0 < len(R) else len(R)
            if i >= len(R):
                break
            last = top[i]
            edges.append(last)
            before = float(C[i] - W[i])
            below.append(float(C[i] - at_top[i]))
            # the m-th event of the bin reaches the target: exact when its events have equal weights
            step = float(first[i]) if W[i] == at_top[i] else float(W[i]) / float(count[i])
            if step > 0:
                m = max(np.ceil((target - before) / step), 1.0)
                base = min(before + m * step, float(C[i]))
            else:
                base = max(target, before)
        if total - base != 0:
            edges.append(top[-1])
            below.append(float(C[-1] - at_top[-1]))
        return distribution_from_edges(np.asarray(edges, np.float32), np.asarray(below))
