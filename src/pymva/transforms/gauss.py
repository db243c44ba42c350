"""``G`` / ``Gauss`` and ``U`` / ``Uniform``: each input through its cumulative distribution
(TMVA ``VariableGaussTransform``, ``PDF`` with ``kSpline1``, ROOT ``TH1::Smooth``).

The cumulative distribution of every input and parameter set is built exactly as TMVA builds it
(``../shared/tmva/core.md`` §4.3):

1. the (value, weight) pairs are sorted (stable, like ``std::list::sort``); bin edges are
   ``first − 1e-4`` (float32), ``first``, then — walking the sorted values and summing weights —
   the current value whenever the sum since the last edge reaches
   ``max(10 × smallest weight, Σw / 2000)`` and the value is larger than the last edge; the last
   value closes the binning when weight is left over;
2. a variable-bin histogram is filled with the weights (values equal to the top edge fall into the
   overflow and are lost), smoothed once with ROOT's ``TH1::Smooth`` (algorithm 353QH twice,
   :func:`smooth_353qh`), and turned into the cumulative sum of its positive contents divided by
   their total (float32 contents, as in a ``TH1F``);
3. the PDF object interpolates linearly between the bin **centres** (``TSpline1``), samples that
   on a 10000-bin reference histogram (values ≤ 1e-12 replaced by the coarse bin content, then at
   least 1e-12, stored as float32) and evaluates by linear interpolation between the centres of
   the reference bins, extrapolating linearly beyond them (``PDF::GetVal``);
4. ``c = clip(CDF(x), 1e-9, 1 − 1e-9)``; Uniform gives ``c``, Gauss
   ``1.414213562 · erfinv(clip(2c − 1, ±0.99999999))``.

The inverse follows ``PDF::GetValInverse`` (a binary search in the reference histogram, linear
between its bin centres).  Because of the clipping the inverse does not recover values above the
centre of the last coarse bin (at most ``Σw/4000`` of the weight, the largest values): they all map
to the clipped maximum, in pymva as in TMVA.

Deviations (see ``docs/transforms.md``): sums of weights are accumulated in float64 (TMVA: float32),
a constant input or a set without positive histogram content gives ``c = 0.5`` (TMVA: NaN), and the
smoothing is the ROOT 6.2x–6.30 form of ``TH1::SmoothArray``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..errors import DataError, ModelError
from .base import (
    F32,
    F64,
    VariableTransform,
    fmt_array,
    fmt_number,
    int_attr,
    log,
    map_columns,
    ordered_sets,
    parse_numbers,
)

__all__ = [
    "CumulativeDistribution",
    "Gauss",
    "Uniform",
    "cumulative_distribution",
    "distribution_from_edges",
    "smooth_353qh",
    "stable_argsort",
    "sum_per_bin",
]

#: Bins of the PDF reference histogram (``PDF::fgNbin_PdfHist``).
N_FINE_BINS = 10000
#: Smallest value of the PDF (``PDF::fgEpsilon``).
PDF_EPSILON = 1.0e-12
#: Clipping of the cumulant before the Gauss/Uniform output (``10e-10`` in TMVA).
CUMULANT_CLIP = 1.0e-9
#: Clipping of the argument of the inverse error function.
ERFINV_CLIP = 0.99999999
#: TMVA's value of √2.
SQRT2_TMVA = 1.414213562
_EPS_EDGE = np.float32(1.0e-4)
_NBINS_MAX = np.float32(2000.0)
_NEV_MIN = np.float32(10.0)


# ---------------------------------------------------------------------------------------------- smoothing
def _med3(a: Any, b: Any, c: Any) -> Any:
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def smooth_353qh(values: npt.ArrayLike, ntimes: int = 1) -> F64:
    """ROOT's ``TH1::SmoothArray``: the "353QH twice" smoother of J. Friedman (HBOOK ``hsmoof``).

    Running medians of 3, 5 and 3, quadratic interpolation of flat segments, a running mean
    (1/4, 1/2, 1/4); the same again on the residuals, added back; negative results are set to zero
    unless the input has negative values.  Arrays with fewer than 3 values are returned unchanged
    (ROOT prints an error and does nothing).  This is the ROOT 6.2x–6.30 form; ROOT 6.32 changed a
    comparison in the flat-segment step (``|h0| > |h0|``), which this function does not copy.

    Parameters
    ----------
    values : array_like
        The bin contents.
    ntimes : int
        Number of passes.

    Returns
    -------
    ndarray of float64
    """
    xx = np.array(values, dtype=np.float64)
    nn = len(xx)
    if nn < 3:
        return xx
    for _ in range(ntimes):
        zz = xx.copy()
        rr = zz
        for noent in range(2):
            for kk in range(3):
                yy = zz.copy()
                if kk != 1:
                    zz[1 : nn - 1] = _med3(yy[0 : nn - 2], yy[1 : nn - 1], yy[2:nn])
                elif nn > 4:
                    stack = np.stack(
                        [yy[0 : nn - 4], yy[1 : nn - 3], yy[2 : nn - 2], yy[3 : nn - 1], yy[4:nn]]
                    )
                    zz[2 : nn - 2] = np.sort(stack, axis=0)[2]
                if kk == 0:
                    zz[0] = _med3(zz[1], zz[0], 3 * zz[1] - 2 * zz[2])
                    zz[nn - 1] = _med3(zz[nn - 2], zz[nn - 1], 3 * zz[nn - 2] - 2 * zz[nn - 3])
                elif kk == 1:
                    zz[1] = _med3(yy[0], yy[1], yy[2])
                    zz[nn - 2] = _med3(yy[nn - 3], yy[nn - 2], yy[nn - 1])
            yy = zz.copy()
            if nn > 4:
                mid = zz[2 : nn - 2]
                flat = (
                    (zz[1 : nn - 3] == mid)
                    & (mid == zz[3 : nn - 1])
                    & ((zz[0 : nn - 4] - mid) * (zz[4:nn] - mid) > 0)
                )
                for ii in (np.flatnonzero(flat) + 2).tolist():
                    h0 = zz[ii - 2] - zz[ii]
                    h1 = zz[ii + 2] - zz[ii]
                    jk = -1 if abs(h1) > abs(h0) else 1
                    yy[ii] = -0.5 * zz[ii - 2 * jk] + zz[ii] / 0.75 + zz[ii + 2 * jk] / 6.0
                    yy[ii + jk] = 0.5 * (zz[ii + 2 * jk] - zz[ii - 2 * jk]) + zz[ii]
            zz = yy.copy()
            zz[1 : nn - 1] = 0.25 * yy[0 : nn - 2] + 0.5 * yy[1 : nn - 1] + 0.25 * yy[2:nn]
            if noent == 0:
                rr = zz.copy()
                zz = xx - zz
        total = rr + zz
        xx = total if xx.min() < 0 else np.maximum(total, 0.0)
    return xx


# ---------------------------------------------------------------------------------------------- sorting
def stable_argsort(x: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """``np.argsort(x, kind="stable")``, faster: a quicksort, then ties put back in index order."""
    order = np.argsort(x, kind="quicksort")
    s = x[order]
    tie = np.flatnonzero(s[1:] == s[:-1])  # s[i] == s[i+1]
    if tie.size == 0:
        return order
    if tie.size > len(x) // 4:
        return np.argsort(x, kind="stable")
    idx = np.union1d(tie, tie + 1)  # positions inside groups of equal values
    prev_tied = np.zeros(idx.size, dtype=bool)
    inner = idx > 0
    prev_tied[inner] = s[idx[inner] - 1] == s[idx[inner]]
    gid = np.cumsum(~prev_tied)
    sub = np.lexsort((order[idx], gid))
    order[idx] = order[idx][sub]
    return order


# ---------------------------------------------------------------------------------------------- binning
def _first_reach(C: F64, R: F64, lo: int, target: float) -> int:
    """First index ``j >= lo`` with ``C[j] >= target`` (``len(C)`` if none); ``R`` = running max of C."""
    n = len(C)
    if lo >= n:
        return n
    if lo == 0 or R[lo - 1] < target:
        return int(R.searchsorted(target, side="left"))
    step = 4096
    a = lo
    while a < n:
        hit = np.flatnonzero(C[a : a + step] >= target)
        if hit.size:
            return a + int(hit[0])
        a += step
        step *= 2
    return n


def cdf_bin_edges(v: F32, w: F32, sum_per_bin: float, cumw: F64 | None = None) -> F32:
    """Bin edges of the cumulative histogram for sorted values ``v`` with weights ``w`` (step 1).

    ``cumw`` is ``np.cumsum(w)`` in float64 when already known.
    """
    n = len(v)
    C = np.cumsum(w, dtype=np.float64) if cumw is None else cumw
    R = C if bool((w >= 0).all()) else np.maximum.accumulate(C)
    v0 = v[0]
    edges = [np.float32(v0 - _EPS_EDGE), v0]
    base = 0.0
    start = 0
    last = v0
    while start < n:
        # first index with a value above the last edge (skip the search when there is no tie)
        k = start if (start > 0 and v[start] > last) else int(v.searchsorted(last, side="right"))
        j = _first_reach(C, R, max(start, k), base + sum_per_bin)
        if j >= n:
            break
        last = v[j]
        edges.append(last)
        base = float(C[j])
        start = j + 1
    if float(C[-1]) - base != 0:
        edges.append(v[-1])
    return np.asarray(edges, dtype=np.float32)


# ---------------------------------------------------------------------------------------------- the PDF
def _spline1(x: F64, xp: F64, fp: F64) -> F64:
    """``TMVA::TSpline1::Eval``: linear interpolation through (xp, fp), linear extrapolation."""
    n = len(xp)
    ib = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, n - 1)
    up = ((x > xp[ib]) & (ib != n - 1)) | (ib == 0)
    nb = np.where(up, ib + 1, ib - 1)
    return np.asarray(fp[ib] + (x - xp[ib]) * (fp[ib] - fp[nb]) / (xp[ib] - xp[nb]), dtype=np.float64)


@dataclass
class CumulativeDistribution:
    """One cumulative distribution: the coarse histogram and TMVA's reference histogram built from it.

    Attributes
    ----------
    edges : ndarray of float64
        Bin edges of the cumulative histogram (float32 values).
    contents : ndarray of float64
        Its bin contents: the normalised cumulative sums (float32 values).
    fine : ndarray of float64
        Contents of the 10000-bin reference histogram (float32 values), ``fine[0]`` is bin 1.
    degenerate : bool
        A constant input or no positive content: every value maps to ``c = 0.5``.
    """

    edges: F64
    contents: F64
    fine: F64 = field(init=False, repr=False)
    degenerate: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.edges = np.asarray(self.edges, dtype=np.float64)
        self.contents = np.asarray(self.contents, dtype=np.float64)
        if len(self.edges) != len(self.contents) + 1:
            raise ValueError("a histogram needs one edge more than it has bins")
        self.xmin = float(self.edges[0])
        self.xmax = float(self.edges[-1])
        ok = (
            len(self.contents) >= 2
            and self.xmax > self.xmin
            and bool(np.all(np.isfinite(self.contents)))
            and bool(np.any(self.contents > 0))
        )
        self.degenerate = not ok
        if self.degenerate:
            self.fine = np.zeros(N_FINE_BINS)
            self.width = 0.0
            self._fine_full = np.zeros(N_FINE_BINS + 1)
            self._slope = np.zeros(N_FINE_BINS - 1)
            return
        self.width = (self.xmax - self.xmin) / N_FINE_BINS
        centres_coarse: F64 = 0.5 * (self.edges[:-1] + self.edges[1:])
        centres_fine: F64 = self.xmin + (np.arange(1, N_FINE_BINS + 1, dtype=np.float64) - 0.5) * self.width
        y = _spline1(centres_fine, centres_coarse, self.contents)
        low = y <= PDF_EPSILON
        if low.any():
            coarse_bin = np.clip(
                np.searchsorted(self.edges, centres_fine[low], side="right"), 1, len(self.contents)
            )
            y[low] = self.contents[coarse_bin - 1]
        self.fine = np.maximum(y, PDF_EPSILON).astype(np.float32).astype(np.float64)
        # contents with the underflow bin in front (index = ROOT bin number)
        self._fine_full = np.concatenate(([0.0], self.fine))
        self._slope = np.diff(self.fine)

    def _centre(self, b: npt.NDArray[np.intp]) -> F64:
        return np.asarray(self.xmin + (b - 0.5) * self.width, dtype=np.float64)

    def cdf(self, x: npt.ArrayLike) -> F64:
        """``PDF::GetVal``: the cumulative distribution at ``x`` (float64), at least 1e-12.

        Linear interpolation between the centres of the reference bins, linear extrapolation
        beyond the first and last centre — TMVA's ``FindBin`` + neighbour-bin formula written as
        one expression (equal to it up to rounding in the last bits of a double).
        """
        xa = np.asarray(x, dtype=np.float64)
        if self.degenerate:
            return np.full(xa.shape, 0.5)
        t = xa - (self.xmin + 0.5 * self.width)
        t /= self.width
        bad = ~np.isfinite(t)
        any_bad = bool(bad.any())
        if any_bad:
            t[bad] = 0.0
        i = np.floor(t)
        np.clip(i, 0, N_FINE_BINS - 2, out=i)
        ii = i.astype(np.intp)
        t -= i
        t *= self._slope[ii]
        t += self.fine[ii]
        np.maximum(t, PDF_EPSILON, out=t)
        if any_bad:
            t[bad] = np.where(np.isnan(xa[bad]), np.nan, np.where(xa[bad] > 0, 1.0, PDF_EPSILON))
        return t

    def cdf_inverse(self, y: F64) -> F64:
        """``PDF::GetValInverse(y, monotonic=true)``: the value whose cumulative distribution is ``y``."""
        y = np.asarray(y, dtype=np.float64)
        if self.degenerate:
            return np.full(y.shape, self.xmin)
        nbin = N_FINE_BINS
        full = self._fine_full
        lower = np.searchsorted(full[1:nbin], y, side="right")
        higher = lower + 1
        lv = full[lower]
        hv = np.where(higher < nbin, full[np.minimum(higher, nbin)], 0.0)
        length = hv - lv
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(length > 1.0e-10, (y - lv) / np.where(length > 1.0e-10, length, 1.0), lv)
        xl = self._centre(lower)
        xh = self._centre(higher)
        return np.asarray(xl + (xh - xl) * fraction, dtype=np.float64)


def cumulative_distribution(
    v: F32, w: F32, min_weight: float, sum_of_weights: float
) -> CumulativeDistribution:
    """Build one :class:`CumulativeDistribution` from sorted values ``v`` and their weights ``w``.

    ``min_weight`` and ``sum_of_weights`` are those of the parameter set (TMVA takes the smallest
    weight of each class, and the smallest over classes for the all-classes set).
    """
    C = np.cumsum(w, dtype=np.float64)
    edges = cdf_bin_edges(v, w, sum_per_bin(min_weight, sum_of_weights), C)
    pos = np.searchsorted(v, edges, side="left")
    below = np.where(pos > 0, C[np.maximum(pos - 1, 0)], 0.0)  # weight of the values below each edge
    return distribution_from_edges(edges, below)


def sum_per_bin(min_weight: float, sum_of_weights: float) -> float:
    """TMVA's weight per bin of the cumulative histogram: ``max(10 × smallest weight, Σw / 2000)``."""
    return float(max(np.float32(min_weight) * _NEV_MIN, np.float32(sum_of_weights) / _NBINS_MAX))


def distribution_from_edges(edges: F32, below: F64) -> CumulativeDistribution:
    """Steps 2–3 of the module docstring: the smoothed, normalised cumulative histogram on ``edges``.

    ``below[i]`` is the sum of the weights of the values below ``edges[i]`` (float64).
    """
    contents = np.diff(below).astype(np.float32)
    if len(contents) >= 3:
        contents = smooth_353qh(contents.astype(np.float64)).astype(np.float32)
    positive = np.where(contents > 0, contents, np.float32(0)).astype(np.float64)
    total = float(positive.sum())
    if total > 0:
        cum = (np.cumsum(positive) / total).astype(np.float32)
    else:
        cum = np.zeros(len(contents), dtype=np.float32)
    dist = CumulativeDistribution(edges.astype(np.float64), cum.astype(np.float64))
    if dist.degenerate:
        log.warning(
            "Gauss/Uniform transformation: an input is constant (or has no positive weight) in a class; "
            "it is mapped to the middle of the distribution"
        )
    return dist


# ---------------------------------------------------------------------------------------------- transform
class Gauss(VariableTransform):
    """TMVA's ``Gauss`` transformation; parameters: one :class:`CumulativeDistribution` per input per set."""

    letter = "G"
    xml_name = "Gauss"
    short_name = "Gauss"
    #: Uniform output (TMVA's ``FlatOrGauss="Flat"``) instead of Gaussian.
    flat: ClassVar[bool] = False
    preparing_message = "Preparing the Gaussian transformation..."

    def _extra_attributes(self) -> dict[str, str]:
        return {"FlatOrGauss": "Flat" if self.flat else "Gauss"}

    # ------------------------------------------------------------------ fitting
    def _fit_all(self, Z: F32, weights: F32, class_id: npt.NDArray[np.integer[Any]]) -> list[Any]:
        if self.n_inputs > 200:
            log.warning(": More than 200 variables, I hope you have enough memory!!!!")
        n_sets = self.n_sets
        cls = np.asarray(class_id)
        masks = [None if s == self.all_classes_set else cls == s for s in range(n_sets)]
        w_all = np.asarray(weights, dtype=np.float32)
        stats: list[tuple[float, float, int]] = []
        for m in masks:
            ws = w_all if m is None else w_all[m]
            if ws.size and not float(np.sum(ws, dtype=np.float64)) > 0:
                raise DataError(
                    "Gauss/Uniform transformation: the sum of event weights of a class is not positive; "
                    "the cumulative distribution is undefined"
                )
            stats.append(
                (float(ws.min()) if ws.size else 0.0, float(np.sum(ws, dtype=np.float64)), int(ws.size))
            )
        empty = [s for s, (_mw, _sw, n) in enumerate(stats) if n == 0]
        for s in empty:
            log.warning(
                "Variable transformation %s: class %d has no training events; it uses the parameters "
                "of all classes",
                self.letter,
                s,
            )

        def fit_column(j: int) -> list[CumulativeDistribution]:
            x = np.ascontiguousarray(Z[:, j])
            order = stable_argsort(x)
            xs, ws, cs = x[order], w_all[order], cls[order]
            out: list[CumulativeDistribution | None] = [None] * n_sets
            for s in range(n_sets):
                if s in empty:
                    continue
                if s == self.all_classes_set:
                    v, w = xs, ws
                else:
                    sel = cs == s
                    v, w = xs[sel], ws[sel]
                min_w, sum_w, _n = stats[s]
                out[s] = cumulative_distribution(v, w, min_w, sum_w)
            for s in empty:
                out[s] = out[self.all_classes_set]
            return [d for d in out if d is not None]

        per_input = map_columns(fit_column, self.n_inputs, len(Z))
        # params_[set][input]
        return [[per_input[j][s] for j in range(self.n_inputs)] for s in range(n_sets)]

    def _fit_set(self, Z: F32, w: F32) -> Any:  # pragma: no cover - _fit_all is overridden
        raise NotImplementedError

    # ------------------------------------------------------------------ application
    def _columns(self, columns: Sequence[int] | None, k: int) -> list[int]:
        return list(range(k)) if columns is None else [int(c) for c in columns]

    def _forward_set(
        self, params: list[CumulativeDistribution], Z: F32, columns: Sequence[int] | None
    ) -> F32:
        from scipy import special  # here: `import pymva` does not load scipy

        cols = self._columns(columns, Z.shape[1])
        out = np.empty(Z.shape, dtype=np.float32)

        def one(j: int) -> None:
            c = params[cols[j]].cdf(Z[:, j])
            np.clip(c, CUMULANT_CLIP, 1.0 - CUMULANT_CLIP, out=c)
            if not self.flat:
                c *= 2.0
                c -= 1.0
                np.clip(c, -ERFINV_CLIP, ERFINV_CLIP, out=c)
                special.erfinv(c, out=c)
                c *= SQRT2_TMVA
            out[:, j] = c

        map_columns(one, Z.shape[1], len(Z))
        return out

    def event_function(
        self, columns: Sequence[int] | None = None
    ) -> Callable[[list[float]], list[float]] | None:
        """Per-event cumulative distribution (then ``√2 erfinv(2c − 1)`` for Gauss), as :meth:`forward`.

        The reference histograms are looked up as Python lists; the arithmetic is
        :meth:`CumulativeDistribution.cdf`'s, step by step, so the results are the same.
        """
        self._check_fitted()
        params = self.params_[self.set_index()]
        cols = self._columns(columns, self.n_inputs)
        tables: list[tuple[float, float, list[float], list[float], CumulativeDistribution] | None] = []
        for c in cols:
            cd = params[c]
            if cd.degenerate:
                tables.append(None)
            else:
                tables.append((cd.xmin + 0.5 * cd.width, cd.width, cd._slope.tolist(), cd.fine.tolist(), cd))
        flat = self.flat
        top = N_FINE_BINS - 2
        lo_clip, hi_clip = CUMULANT_CLIP, 1.0 - CUMULANT_CLIP
        from scipy.special import erfinv  # here: `import pymva` does not load scipy

        def gauss_event(x: list[float]) -> list[float]:
            out = []
            for v, tab in zip(x, tables, strict=True):
                if tab is None:
                    c = 0.5
                else:
                    start, width, slope, fine, cd = tab
                    t = (v - start) / width
                    if not math.isfinite(t):
                        c = float(cd.cdf(np.array([v]))[0])
                    else:
                        i = min(max(math.floor(t), 0), top)
                        c = max((t - i) * slope[i] + fine[i], PDF_EPSILON)
                c = min(max(c, lo_clip), hi_clip)
                if not flat:
                    c = min(max(c * 2.0 - 1.0, -ERFINV_CLIP), ERFINV_CLIP)
                out.append(c)
            if flat:
                return out
            return [float(e) * SQRT2_TMVA for e in erfinv(np.array(out))]

        return gauss_event

    def _inverse_set(
        self, params: list[CumulativeDistribution], Z: F32, columns: Sequence[int] | None
    ) -> F32:
        from scipy import special  # here: `import pymva` does not load scipy

        cols = self._columns(columns, Z.shape[1])
        out = np.empty(Z.shape, dtype=np.float32)
        for j, c in enumerate(cols):
            y = Z[:, j].astype(np.float64)
            if not self.flat:
                y = (special.erf(y / SQRT2_TMVA) + 1.0) / 2.0
            out[:, j] = params[c].cdf_inverse(y)
        return out

    # ------------------------------------------------------------------ XML
    def _params_to_xml(self, el: ET.Element) -> None:
        for j in range(self.n_inputs):
            var = ET.SubElement(el, "Variable", {"VarIndex": str(j)})
            for s in range(self.n_sets):
                dist: CumulativeDistribution = self.params_[s][j]
                holder = ET.SubElement(var, f"CumulativePDF_cls{s}")
                pdf = ET.SubElement(
                    holder,
                    "PDF",
                    {
                        "Name": f"GaussTransform var{j} cls{s}",
                        "MinNSmooth": "0",
                        "MaxNSmooth": "0",
                        "InterpolMethod": "1",
                        "KDE_type": "0",
                        "KDE_iter": "1",
                        "KDE_border": "1",
                        "KDE_finefactor": fmt_number(0.0),
                    },
                )
                nb = len(dist.contents)
                hist = ET.SubElement(
                    pdf,
                    "Histogram",
                    {
                        "Name": f"Cumulative_Var{j}_cls{s}_original",
                        "NBins": str(nb),
                        "XMin": fmt_number(dist.edges[0]),
                        "XMax": fmt_number(dist.edges[-1]),
                        "HasEquidistantBins": "0",
                    },
                )
                hist.text = fmt_array(dist.contents)
                binning = ET.SubElement(pdf, "HistogramBinning", {"NBins": str(nb)})
                binning.text = fmt_array(dist.edges)

    def _params_from_xml(self, el: ET.Element) -> None:
        flat = el.get("FlatOrGauss", "Gauss") == "Flat"
        if flat != self.flat:
            raise ModelError("weights file: FlatOrGauss does not match the transformation type")
        per_input: dict[int, dict[int, CumulativeDistribution]] = {}
        for var in el.findall("Variable"):
            j = int_attr(var, "VarIndex")
            if not 0 <= j < self.n_inputs:
                raise ModelError(f"weights file: Gauss <Variable VarIndex='{j}'> out of range")
            sets: dict[int, CumulativeDistribution] = {}
            for holder in var:
                if not holder.tag.startswith("CumulativePDF_cls"):
                    continue
                try:
                    s = int(holder.tag[len("CumulativePDF_cls") :])
                except ValueError:
                    raise ModelError(f"weights file: unexpected element <{holder.tag}>") from None
                pdf = holder.find("PDF")
                if pdf is None:
                    raise ModelError(f"weights file: <{holder.tag}> has no <PDF>")
                sets[s] = _read_pdf(pdf)
            per_input[j] = sets
        if sorted(per_input) != list(range(self.n_inputs)):
            raise ModelError(
                f"weights file: Gauss transformation holds distributions for inputs {sorted(per_input)}, "
                f"expected {self.n_inputs}"
            )
        by_set: dict[int, list[CumulativeDistribution]] = {}
        if self.n_inputs == 0:
            by_set = {s: [] for s in range(self.n_sets)}
        else:
            for s in per_input[0]:
                if all(s in per_input[j] for j in range(self.n_inputs)):
                    by_set[s] = [per_input[j][s] for j in range(self.n_inputs)]
        self.params_ = ordered_sets(by_set, self.n_sets, "Gauss")


def _read_pdf(pdf: ET.Element) -> CumulativeDistribution:
    if pdf.get("InterpolMethod", "1").strip() != "1":
        raise ModelError(
            f"weights file: PDF InterpolMethod={pdf.get('InterpolMethod')} is not supported "
            "(TMVA's Gauss transformation uses 1 = Spline1)"
        )
    for name in ("MinNSmooth", "MaxNSmooth"):
        if int_attr(pdf, name) > 0:
            raise ModelError(f"weights file: PDF {name}={pdf.get(name)} is not supported (expected 0)")
    hist = pdf.find("Histogram")
    if hist is None:
        raise ModelError("weights file: <PDF> has no <Histogram>")
    nb = int_attr(hist, "NBins")
    contents = parse_numbers(hist.text, nb, "a cumulative <Histogram>")
    equidistant = hist.get("HasEquidistantBins", "0").strip().lower() in ("1", "true")
    binning = pdf.find("HistogramBinning")
    if binning is not None and not equidistant:
        edges = parse_numbers(binning.text, nb + 1, "a <HistogramBinning>")
    else:
        try:
            xmin, xmax = float(hist.get("XMin", "")), float(hist.get("XMax", ""))
        except ValueError:
            raise ModelError("weights file: <Histogram> XMin/XMax missing or not numbers") from None
        edges = xmin + (xmax - xmin) * np.arange(nb + 1) / nb
    return CumulativeDistribution(edges, contents)


class Uniform(Gauss):
    """TMVA's ``Uniform`` transformation (written as ``Name="Gauss" FlatOrGauss="Flat"``)."""

    letter = "U"
    short_name = "Uniform"
    flat: ClassVar[bool] = True
