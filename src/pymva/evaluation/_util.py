"""Private numerical helpers shared by the evaluation modules.

Everything here reproduces one piece of ROOT/TMVA arithmetic on whole arrays:

* :func:`fill` / :func:`fill2d` — ``TH1::Fill`` / ``TH2::Fill`` with weights, in-range bins only
  (bins found with :func:`pymva.histograms.find_bins`, ``TAxis::FindBin``);
* :func:`bin_centers` — ``TAxis::GetBinCenter``;
* :func:`spline1` — ``TMVA::TSpline1::Eval`` (linear interpolation of a graph, linear
  extrapolation with the end segments);
* :func:`norm_factor` — the scale factor of ``TMVA::Tools::NormHist``;
* :func:`norm_hist` — a ``TH1`` filled event by event and normalised by ``Tools::NormHist``, with
  the entries and statistics ROOT keeps;
* :func:`weighted_mean_rms` — ``TMVA::Tools::Mean`` and ``TMVA::Tools::RMS``;
* :func:`sequential_sum` — a left-to-right sum, as a C++ loop accumulates it.
"""

from __future__ import annotations

from typing import Any

import hist
import numpy as np
import numpy.typing as npt

from ..errors import DataError
from ..histograms import find_bins, fixed_axis, new_hist

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


def as_float_array(x: npt.ArrayLike, what: str, ndim: int | None = 1) -> F64:
    """Return ``x`` as a float64 array, checking its dimension and that it is finite.

    Raises
    ------
    DataError
        If the array has the wrong number of dimensions or contains NaN or infinity.
    """
    a = np.asarray(x, dtype=np.float64)
    if ndim is not None and a.ndim != ndim:
        raise DataError(f"{what} must be a {ndim}-dimensional array, got shape {a.shape}")
    if a.size and not np.all(np.isfinite(a)):
        bad = int(np.count_nonzero(~np.isfinite(a)))
        raise DataError(f"{what} contains {bad} NaN or infinite value(s); evaluation needs finite numbers")
    return a


def as_bool_array(x: npt.ArrayLike, what: str, n: int) -> B:
    """Return ``x`` as a 1-D boolean array of length ``n``."""
    a = np.asarray(x)
    if a.ndim != 1 or a.shape[0] != n:
        raise DataError(f"{what} must be a 1-dimensional array of {n} entries, got shape {a.shape}")
    return a.astype(bool)


def check_same_length(what: str, *arrays: npt.NDArray[np.generic]) -> int:
    """Return the common first dimension of ``arrays``; raise :class:`DataError` if they differ."""
    lengths = {a.shape[0] for a in arrays}
    if len(lengths) != 1:
        raise DataError(f"{what}: arrays of different lengths {[a.shape[0] for a in arrays]}")
    return int(lengths.pop())


def fill(x: F64, w: F64 | None, lo: float, hi: float, nbins: int) -> tuple[F64, F64]:
    """Weighted 1-D histogram as ``TH1::Fill`` makes it: (sum of weights, sum of squared weights).

    Only the bins ``1..nbins`` are returned; under- and overflow are dropped.
    """
    idx = find_bins(x, nbins, lo, hi)
    ww = np.ones(idx.shape, np.float64) if w is None else np.asarray(w, np.float64)
    counts = np.bincount(idx, weights=ww, minlength=nbins + 2)[1 : nbins + 1]
    sumw2 = np.bincount(idx, weights=ww * ww, minlength=nbins + 2)[1 : nbins + 1]
    return counts.astype(np.float64), sumw2.astype(np.float64)


def fill2d(
    x: F64,
    y: F64,
    w: F64 | None,
    xaxis: tuple[float, float, int],
    yaxis: tuple[float, float, int],
) -> tuple[F64, F64]:
    """Weighted 2-D histogram as ``TH2::Fill`` makes it; returns (counts, sumw2) of shape (nx, ny)."""
    (xlo, xhi, nx), (ylo, yhi, ny) = xaxis, yaxis
    ix = find_bins(x, nx, xlo, xhi)
    iy = find_bins(y, ny, ylo, yhi)
    inside = (ix >= 1) & (ix <= nx) & (iy >= 1) & (iy <= ny)
    flat = (ix[inside] - 1) * ny + (iy[inside] - 1)
    ww = np.ones(flat.shape, np.float64) if w is None else np.asarray(w, np.float64)[inside]
    counts = np.bincount(flat, weights=ww, minlength=nx * ny).reshape(nx, ny)
    sumw2 = np.bincount(flat, weights=ww * ww, minlength=nx * ny).reshape(nx, ny)
    return counts.astype(np.float64), sumw2.astype(np.float64)


def bin_centers(lo: float, hi: float, nbins: int) -> F64:
    """``TAxis::GetBinCenter`` of every bin: ``lo + (i - 0.5) * (hi - lo) / nbins``."""
    width = (hi - lo) / nbins
    return lo + (np.arange(1, nbins + 1, dtype=np.float64) - 0.5) * width


def spline1(xs: F64, ys: F64, x: F64 | float) -> F64:
    """``TMVA::TSpline1::Eval``: linear interpolation of the graph ``(xs, ys)`` at ``x``.

    ``xs`` must be ascending.  The bracketing point is the last ``xs[i] <= x``; beyond the ends
    the first or last segment is extended linearly.  Where ``x`` equals a graph point the graph
    value is returned (for a graph with repeated ``xs`` this is the value at the last repeat;
    TMVA would divide by zero there).
    """
    xq = np.asarray(x, dtype=np.float64)
    n = xs.shape[0]
    if n < 2:
        return np.full(xq.shape, ys[0] if n else 0.0)
    ibin = np.clip(np.searchsorted(xs, xq, side="right") - 1, 0, n - 1)
    xi = xs[ibin]
    up = ((xq > xi) & (ibin != n - 1)) | (ibin == 0)
    nxt = np.where(up, ibin + 1, ibin - 1)
    dx = xi - xs[nxt]
    dy = ys[ibin] - ys[nxt]
    with np.errstate(divide="ignore", invalid="ignore"):
        val = ys[ibin] + (xq - xi) * dy / dx
    return np.where(xq == xi, ys[ibin], val)


def norm_factor(counts: F64, lo: float, hi: float) -> float:
    """Scale factor applied by ``TMVA::Tools::NormHist`` (1 when it leaves the histogram alone).

    NormHist scales by ``1 / (sum of in-range contents * bin width)`` if that product is positive.
    """
    total = float(np.sum(counts))
    if total == 0.0:
        return 1.0
    w = total * (hi - lo) / counts.shape[0]
    return 1.0 / w if w > 0 else 1.0


def norm_hist(
    name: str, title: str, x: F64, w: F64, lo: float, hi: float, nbins: int, classname: str = "TH1D"
) -> hist.Hist[Any]:
    """``TH1D(name, title, nbins, lo, hi)``, ``Sumw2()``, ``Fill(x, w)`` per event, ``Tools::NormHist``.

    As ``MethodBase::TestClassification``/``GetTrainingEfficiency`` (and
    ``ResultsMulticlass::CreateMulticlassHistos``) leave their response histograms:
    ``NormHist`` calls ``TH1::Scale(f)`` with ``f = 1 / (Σ in-range contents × bin width)``, which
    multiplies the contents and the fill statistics Σw, Σwx, Σwx² by ``f`` and Σw² (and ``Sumw2``)
    by ``f²`` but keeps ``fEntries``, the number of ``Fill`` calls (``len(x)``, under- and overflow
    included).  The mean and RMS ROOT shows are therefore those of the in-range fills.  Only the
    in-range bins are kept (the flow bins are 0; see :func:`fill`).

    Parameters
    ----------
    x, w : ndarray of float64, shape (n,)
        Values and weights.
    lo, hi : float
        Axis range; ``nbins`` equal bins.

    Returns
    -------
    hist.Hist
        ``Weight`` storage with ``metadata["fEntries"]`` and the statistics ``fTsumw``, ``fTsumw2``,
        ``fTsumwx``, ``fTsumwx2``.
    """
    counts, var = fill(x, w, lo, hi, nbins)
    idx = find_bins(x, nbins, lo, hi)
    inside = (idx >= 1) & (idx <= nbins)
    wi, xi = np.asarray(w, np.float64)[inside], np.asarray(x, np.float64)[inside]
    f = norm_factor(counts, lo, hi)
    stats = (
        float(wi.sum()) * f,
        float((wi * wi).sum()) * f * f,
        float((wi * xi).sum()) * f,
        float((wi * xi * xi).sum()) * f,
    )
    return new_hist(
        name,
        title,
        [fixed_axis(nbins, lo, hi)],
        counts * f,
        var * f * f,
        classname=classname,
        entries=float(np.asarray(x).shape[0]),
        stats=stats,
    )


def weighted_mean_rms(x: F64, w: F64) -> tuple[float, float]:
    """``TMVA::Tools::Mean`` and ``TMVA::Tools::RMS``: weighted mean and ``sqrt(|<x²> - <x>²|)``."""
    sumw = float(np.sum(w))
    if sumw <= 0:
        raise DataError(f"sum of event weights is {sumw:g} <= 0: cannot compute a weighted mean")
    mean = float(np.sum(w * x)) / sumw
    mean2 = float(np.sum(w * x * x)) / sumw
    return mean, float(np.sqrt(abs(mean2 - mean * mean)))


def sequential_sum(x: F64) -> float:
    """Left-to-right sum (as a C++ ``for`` loop accumulates), not numpy's pairwise sum."""
    if x.size == 0:
        return 0.0
    return float(np.add.accumulate(x)[-1])
