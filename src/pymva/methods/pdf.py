"""TMVA's ``PDF``: a one-dimensional probability density built from a reference histogram.

As TMVA's ``PDF`` class (``tmva/tmva/src/PDF.cxx``) builds it, with the helpers it relies on —
ROOT's ``TH1::Smooth`` (``TH1::SmoothArray``, the 353QH-twice smoother), TMVA's ``TSpline1`` /
``TSpline2``, ROOT's ``TSpline3`` (de Boor's ``cubspl``, not-a-knot ends) and TMVA's ``KDEKernel``:

* the *original* histogram (``TH1F``: float32 contents on an equidistant axis) is cloned into the
  *smoothed* one, smoothed ``NSmooth`` times (or between ``MinNSmooth`` and ``MaxNSmooth`` times,
  bin by bin, from the bins' relative errors);
* ``Spline0`` uses the smoothed histogram itself; ``Spline1``/``2``/``3``/``5`` interpolate the points
  (bin centre, content) and fill a 10000-bin histogram (``fgNbin_PdfHist``) over the same range with the
  spline at the bin centres (a value ``<= 1e-12`` replaced by the smoothed bin content, at least
  ``1e-12``); ``KDE`` fills the 10000-bin histogram with Gaussian-kernel integrals of the (finer,
  5× binned) original histogram, non-adaptive or adaptive, with the border treatments ``None``,
  ``Renorm`` and ``Mirror``;
* the fine histogram is normalised to unit integral (``Σ contents × bin width``);
* :meth:`PDF.value` is ``PDF::GetVal``: linear interpolation between the centres of the fine bins
  (the bin content for ``Spline0``), at least ``1e-12``.

A PDF is stored as TMVA stores it (``PDF::AddXMLTo`` / ``ReadXML``): ``<PDF Name MinNSmooth MaxNSmooth
InterpolMethod KDE_type KDE_iter KDE_border KDE_finefactor>`` holding the *original* histogram
``<Histogram Name NBins XMin XMax HasEquidistantBins>`` (contents as text, ``<HistogramBinning>`` for
variable bins); reading rebuilds the PDF from it.  ``InterpolMethod`` is TMVA's enum (``Spline0``…
``Spline3`` = 0…3, ``Spline5`` = 4, ``KDE`` = 5), ``KDE_type`` 1 = Gauss, ``KDE_iter`` 1 = non-adaptive,
2 = adaptive, ``KDE_border`` 1 = none, 2 = renormalise, 3 = mirror.

Differences from TMVA (docs/methods.md, Likelihood):

* ``Spline5`` is scipy's natural quintic interpolating spline (``make_interp_spline(k=5)`` with zero
  third and fourth derivatives at the ends), the spline ``TSpline5`` defines; its evaluation beyond the
  outer knots (the outer half bins) continues the end pieces;
* ``TH1::SmoothArray`` is ROOT 6.40's: at a flat segment its step takes the side of the smaller step
  (checked against ROOT 6.40's own ``TH1::SmoothArray`` in tests/test_root_oracle.py;
  ``smooth_array(smaller_step_side=False)`` always takes the right side instead).  ROOT 5's
  smoother differed more: a ROOT 5.32 Likelihood file's PDFs are rebuilt with today's smoother, and
  its response differs from what ROOT 5.32 computed (by up to 0.04 in the bulk for ``NSmooth=20``).

The arithmetic on bins follows TMVA in float32 where TMVA stores float32 (``TH1F`` contents,
``TSpline2::Quadrax``); loops run over bins and knots, never over events.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelError, OptionError

__all__ = [
    "INTERPOL_CODES",
    "NBIN_PDF_HIST",
    "PDF",
    "PDFSettings",
    "smooth_array",
    "spline1_eval",
    "spline2_eval",
    "spline3_eval",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: ``PDF::fgNbin_PdfHist``: bins of the fine histogram a spline or KDE is filled into.
NBIN_PDF_HIST = 10000
#: ``PDF::fgEpsilon``.
PDF_EPSILON = 1.0e-12
#: TMVA's ``PDF::EInterpolateMethod`` values.
INTERPOL_CODES = {"Spline0": 0, "Spline1": 1, "Spline2": 2, "Spline3": 3, "Spline5": 4, "KDE": 5}
_INTERPOL_NAMES = {v: k for k, v in INTERPOL_CODES.items()}
KDE_ITER_CODES = {"Nonadaptive": 1, "Adaptive": 2}
KDE_BORDER_CODES = {"None": 1, "Renorm": 2, "Mirror": 3}
_KDE_ITER_NAMES = {v: k for k, v in KDE_ITER_CODES.items()}
_KDE_BORDER_NAMES = {v: k for k, v in KDE_BORDER_CODES.items()}


@dataclass(frozen=True)
class PDFSettings:
    """The configuration of one PDF (TMVA ``PDF::DeclareOptions``, before ``ProcessOptions``).

    Attributes
    ----------
    nsmooth, min_nsmooth, max_nsmooth : int
        ``NSmooth`` (default 0), ``MinNSmooth`` and ``MaxNSmooth`` (default -1: use ``NSmooth``).
    nav_evt_per_bin : int
        ``NAvEvtPerBin``: average number of events per bin of the reference histogram (default 50).
    nbins : int
        ``Nbins``: a fixed number of bins instead (0: from ``NAvEvtPerBin``).
    check_hist : bool
        ``CheckHist``: warn about more than 50 % empty bins.
    interpol : str
        ``PDFInterpol``: Spline0, Spline1, Spline2, Spline3, Spline5 or KDE.
    kde_type, kde_iter, kde_border : str
        ``KDEtype`` (Gauss), ``KDEiter`` (Nonadaptive, Adaptive), ``KDEborder`` (None, Renorm, Mirror).
    kde_fine_factor : float
        ``KDEFineFactor``: factor on the adaptive kernel widths.
    """

    nsmooth: int = 0
    min_nsmooth: int = -1
    max_nsmooth: int = -1
    nav_evt_per_bin: int = 50
    nbins: int = 0
    check_hist: bool = False
    interpol: str = "Spline2"
    kde_type: str = "Gauss"
    kde_iter: str = "Nonadaptive"
    kde_fine_factor: float = 1.0
    kde_border: str = "None"

    def processed(self, where: str = "PDF") -> PDFSettings:
        """``PDF::ProcessOptions``: ``MinNSmooth``/``MaxNSmooth`` from ``NSmooth`` where not given.

        Raises
        ------
        OptionError
            If ``MaxNSmooth < MinNSmooth``.
        """
        nsmooth = max(self.nsmooth, 0)
        lo, hi = self.min_nsmooth, self.max_nsmooth
        if hi < 0 or lo < 0:
            lo = hi = nsmooth
        if hi < lo:
            raise OptionError(
                f"{where}: MaxNSmooth = {hi} < MinNSmooth = {lo}; give MaxNSmooth >= MinNSmooth"
            )
        if self.interpol not in INTERPOL_CODES:
            raise OptionError(
                f"{where}: unknown PDFInterpol '{self.interpol}'; accepted: {', '.join(INTERPOL_CODES)}"
            )
        return replace(self, nsmooth=nsmooth, min_nsmooth=lo, max_nsmooth=hi)

    def hist_nbins(self, n_events: int, where: str = "PDF") -> int:
        """``PDF::GetHistNBins``: bins of the reference histogram for ``n_events`` events (×5 for KDE).

        Raises
        ------
        OptionError
            When neither ``Nbins`` nor ``NAvEvtPerBin`` gives a positive number of bins.
        """
        factor = 5 if self.interpol == "KDE" else 1
        if self.nbins > 0:
            return self.nbins * factor
        if n_events > 0 and self.nav_evt_per_bin > 0:
            n = (n_events // self.nav_evt_per_bin) * factor
            if n > 0:
                return n
        raise OptionError(
            f"{where}: no number of bins for the reference histogram ({n_events} events, "
            f"NAvEvtPerBin={self.nav_evt_per_bin}, Nbins={self.nbins}); give Nbins > 0 or a smaller NAvEvtPerBin"
        )


# --------------------------------------------------------------------------------------------- smoothing
def _median_filter(y: F64, width: int) -> F64:
    """Running medians of ``width`` (odd) consecutive values: element ``i`` is the median of
    ``y[i : i + width]``."""
    win = np.lib.stride_tricks.sliding_window_view(y, width)
    return np.median(win, axis=1)


def _smooth_353qh(x: F64, smaller_step_side: bool) -> F64:
    """One 353QH pass over ``x`` (medians 3, 5, 3 with end rules, flat-segment fix, hanning)."""
    nn = len(x)
    zz = x.copy()
    for kk in range(3):
        yy = zz.copy()
        if kk != 1:
            zz[1 : nn - 1] = _median_filter(yy, 3)
        else:
            if nn >= 5:
                zz[2 : nn - 2] = _median_filter(yy, 5)
        if kk == 0:
            zz[0] = np.median([zz[1], zz[0], 3 * zz[1] - 2 * zz[2]])
            zz[nn - 1] = np.median([zz[nn - 2], zz[nn - 1], 3 * zz[nn - 2] - 2 * zz[nn - 3]])
        if kk == 1:
            zz[1] = np.median(yy[0:3])
            zz[nn - 2] = np.median(yy[nn - 3 : nn])
    yy = zz.copy()
    # quadratic interpolation on flat segments (three equal medians with steps of one sign)
    if nn > 4:
        ii = np.arange(2, nn - 2)
        d0 = zz[ii - 2] - zz[ii]
        d1 = zz[ii + 2] - zz[ii]
        cand = ii[(zz[ii - 1] == zz[ii]) & (zz[ii] == zz[ii + 1]) & (d0 * d1 > 0)]
        for i in cand.tolist():  # few flat segments, in TMVA's order (later writes win)
            jk = -1 if (smaller_step_side and abs(zz[i + 2] - zz[i]) > abs(zz[i - 2] - zz[i])) else 1
            yy[i] = -0.5 * zz[i - 2 * jk] + zz[i] / 0.75 + zz[i + 2 * jk] / 6.0
            yy[i + jk] = 0.5 * (zz[i + 2 * jk] - zz[i - 2 * jk]) + zz[i]
    out = yy.copy()
    out[1 : nn - 1] = 0.25 * yy[: nn - 2] + 0.5 * yy[1 : nn - 1] + 0.25 * yy[2:]
    return np.asarray(out, dtype=np.float64)


def smooth_array(values: npt.ArrayLike, ntimes: int = 1, *, smaller_step_side: bool = True) -> F64:
    """ROOT's ``TH1::SmoothArray``: the 353QH-twice smoother, applied ``ntimes`` times.

    Each pass smooths the values (``r``), smooths the residuals ``x − r`` (``z``) and returns
    ``r + z``, clipped at 0 when no input value is negative.

    Parameters
    ----------
    values : array_like, shape (n,)
        At least 3 values.
    ntimes : int
        Number of passes (0: unchanged).
    smaller_step_side : bool
        The flat-segment fix of ROOT 6.40's ``TH1::SmoothArray`` (the side of the smaller step,
        True: the default) or the right side always (False).

    Returns
    -------
    ndarray of float64, shape (n,)

    Raises
    ------
    ValueError
        For fewer than 3 values.
    """
    xx = np.array(values, dtype=np.float64, copy=True)
    if xx.ndim != 1 or len(xx) < 3:
        raise ValueError(f"smoothing needs at least 3 points, got {xx.shape}")
    for _ in range(max(0, int(ntimes))):
        rr = _smooth_353qh(xx, smaller_step_side)
        zz = _smooth_353qh(xx - rr, smaller_step_side)
        xx = rr + zz if xx.min() < 0 else np.maximum(rr + zz, 0.0)
    return xx


def _smooth_hist(contents: F32, settings: PDFSettings, errors: F64) -> F32:
    """``PDF::SmoothHistogram`` on float32 contents (each ``TH1::Smooth`` call rounds to float32)."""
    nb = len(contents)
    lo, hi = settings.min_nsmooth, settings.max_nsmooth
    if nb == 1 or nb < 3:
        return contents
    if hi == lo:
        return smooth_array(contents, lo).astype(np.float32)
    c = contents.astype(np.float64)
    ok = c > errors
    rel = (errors[ok] / c[ok]).astype(np.float32)
    num = int(ok.sum())
    avg = np.float32(rel.sum(dtype=np.float32) / np.float32(num)) if num else np.float32(np.nan)
    rms = (
        np.float32(math.sqrt(max(float(np.sum(rel * rel, dtype=np.float32)) / num - float(avg) ** 2, 0.0)))
        if num
        else np.float32(np.nan)
    )
    max_err, min_err = np.float32(avg + rms), np.float32(avg - rms)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = (errors / np.where(c != 0, c, 1.0)).astype(np.float32)
        raw = (err - min_err) / (max_err - min_err) * np.float32(hi - lo)
    raw = np.where(np.isfinite(raw), raw, 0.0)
    nsm = np.where(ok, np.trunc(raw).astype(np.int64) + lo, hi)
    nsm = np.clip(nsm, lo, hi)
    out = contents.copy()
    for n in range(hi, -1, -1):
        if n <= lo:
            out = smooth_array(out, 1).astype(np.float32)
            continue
        min_bin = max_bin = -1
        for b in range(nb):  # regions of bins wanting >= n passes (TMVA smooths the whole histogram)
            if nsm[b] >= n:
                if min_bin == -1:
                    min_bin = b
                else:
                    max_bin = b
            elif max_bin >= 0:
                out = smooth_array(out, 1).astype(np.float32)
                min_bin = max_bin = -1
            else:
                min_bin = -1
    return np.asarray(out, dtype=np.float32)


# --------------------------------------------------------------------------------------------- splines
def spline1_eval(xk: F64, yk: F64, x: F64) -> F64:
    """TMVA's ``TSpline1::Eval``: linear interpolation between the knots around ``x`` (the two
    first or last knots extrapolate)."""
    n = len(xk)
    ib = np.clip(np.searchsorted(xk, x, side="right") - 1, 0, n - 1)
    up = ((x > xk[ib]) & (ib != n - 1)) | (ib == 0)
    nb = np.where(up, ib + 1, ib - 1)
    return yk[ib] + (x - xk[ib]) * (yk[ib] - yk[nb]) / (xk[ib] - xk[nb])


def _quadrax(dm: F32, x1: F32, x2: F32, x3: F32, c1: F32, c2: F32, c3: F32) -> F64:
    """``TSpline2::Quadrax`` in float32: the parabola through three points, at ``dm``."""
    a = c1 * (x2 - x3) + c2 * (x3 - x1) + c3 * (x1 - x2)
    b = c1 * (x2 * x2 - x3 * x3) + c2 * (x3 * x3 - x1 * x1) + c3 * (x1 * x1 - x2 * x2)
    c = c1 * (x2 - x3) * x2 * x3 + c2 * (x3 - x1) * x3 * x1 + c3 * (x1 - x2) * x1 * x2
    denom = (x2 - x3) * (x3 - x1) * (x1 - x2)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = ((-a) * dm * dm + b * dm - c) / denom
    return np.asarray(np.where(denom != 0, val, np.float32(0)), dtype=np.float64)


def spline2_eval(xk: F64, yk: F64, x: F64) -> F64:
    """TMVA's ``TSpline2::Eval``: the mean of the two parabolas through the knots around ``x``
    (one parabola at the first and last two knots), in float32 as TMVA computes it."""
    n = len(xk)
    if n < 3:
        ib = np.clip(np.searchsorted(xk, x, side="right") - 1, 0, n - 1)
        return np.asarray(yk[ib], dtype=np.float64)
    X = xk.astype(np.float32)
    Y = yk.astype(np.float32)
    d = np.asarray(x, dtype=np.float32)
    ib = np.clip(np.searchsorted(xk, x, side="right") - 1, 0, n - 1)
    out = np.empty(len(d), dtype=np.float64)
    first = ib == 0
    last = ib >= n - 2
    mid = ~(first | last)
    if first.any():
        out[first] = _quadrax(d[first], X[0], X[1], X[2], Y[0], Y[1], Y[2])
    if last.any():
        out[last] = _quadrax(d[last], X[n - 3], X[n - 2], X[n - 1], Y[n - 3], Y[n - 2], Y[n - 1])
    if mid.any():
        i = ib[mid]
        q1 = _quadrax(d[mid], X[i - 1], X[i], X[i + 1], Y[i - 1], Y[i], Y[i + 1])
        q2 = _quadrax(d[mid], X[i], X[i + 1], X[i + 2], Y[i], Y[i + 1], Y[i + 2])
        out[mid] = (q1 + q2) * 0.5
    return out


def _spline3_coefficients(xk: F64, yk: F64) -> tuple[F64, F64, F64]:
    """ROOT's ``TSpline3::BuildCoeff`` without end conditions (de Boor's ``cubspl``, not-a-knot):
    per knot the polynomial ``y + h (b + h (c + h d))``; the last knot keeps TSpline3's values."""
    n = len(xk)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    y = yk
    for m in range(1, n):
        c[m] = xk[m] - xk[m - 1]
        d[m] = (y[m] - y[m - 1]) / c[m]
    if n == 2:
        d[0], c[0], b[0] = 1.0, 1.0, 2.0 * d[1]
    else:
        d[0] = c[2]
        c[0] = c[1] + c[2]
        b[0] = ((c[1] + 2.0 * c[0]) * d[1] * c[2] + c[1] * c[1] * d[2]) / c[0]
    g = 0.0
    skip_forward = False
    if n > 2:
        for m in range(1, n - 1):
            g = -c[m + 1] / d[m - 1]
            b[m] = g * b[m - 1] + 3.0 * (c[m] * d[m + 1] + c[m + 1] * d[m])
            d[m] = g * c[m - 1] + 2.0 * (c[m] + c[m + 1])
        if n > 3:
            g = c[n - 2] + c[n - 1]
            b[n - 1] = (
                (c[n - 1] + 2.0 * g) * d[n - 1] * c[n - 2]
                + c[n - 1] * c[n - 1] * (y[n - 2] - y[n - 3]) / c[n - 2]
            ) / g
            g = -g / d[n - 2]
            d[n - 1] = c[n - 2]
        else:
            b[n - 1] = 2.0 * d[n - 1]
            d[n - 1] = 1.0
            g = -1.0 / d[n - 2]
    else:
        b[n - 1] = d[n - 1]
        skip_forward = True
    if not skip_forward:
        d[n - 1] = g * c[n - 2] + d[n - 1]
        b[n - 1] = (g * b[n - 2] + b[n - 1]) / d[n - 1]
    for j in range(n - 2, -1, -1):
        b[j] = (b[j] - c[j] * b[j + 1]) / d[j]
    for i in range(1, n):
        dtau = c[i]
        divdf1 = (y[i] - y[i - 1]) / dtau
        divdf3 = b[i - 1] + b[i] - 2.0 * divdf1
        c[i - 1] = (divdf1 - b[i - 1] - divdf3) / dtau
        d[i - 1] = (divdf3 / dtau) / dtau
    return b, c, d


def spline3_eval(xk: F64, yk: F64, x: F64) -> F64:
    """ROOT's ``TSpline3(title, TGraph*)`` at ``x``: the not-a-knot cubic spline through the knots;
    ``x`` at or beyond the last knot uses the last knot's polynomial, as ``TSpline3::Eval`` does."""
    b, c, d = _spline3_coefficients(xk, yk)
    n = len(xk)
    k = np.clip(np.searchsorted(xk, x, side="left") - 1, 0, n - 1)
    k = np.where(x <= xk[0], 0, np.where(x >= xk[-1], n - 1, k))
    h = x - xk[k]
    return yk[k] + h * (b[k] + h * (c[k] + h * d[k]))


def _spline5_eval(xk: F64, yk: F64, x: F64) -> F64:
    """Natural quintic interpolating spline (``TSpline5``'s definition) through scipy."""
    from scipy.interpolate import make_interp_spline

    if len(xk) < 6:
        return spline3_eval(xk, yk, x)
    bc = ([(3, 0.0), (4, 0.0)], [(3, 0.0), (4, 0.0)])
    spl = make_interp_spline(xk, yk, k=5, bc_type=bc)
    return np.asarray(spl(x, extrapolate=True), dtype=np.float64)


# --------------------------------------------------------------------------------------------- the PDF
def _centres(lo: float, hi: float, n: int) -> F64:
    width = (hi - lo) / n
    return lo + (np.arange(1, n + 1, dtype=np.float64) - 0.5) * width


def _find_bin(x: F64, lo: float, hi: float, n: int) -> npt.NDArray[np.intp]:
    """``TAxis::FindBin`` (0 underflow, ``n + 1`` overflow)."""
    out = np.full(x.shape, n + 1, dtype=np.intp)
    out[x < lo] = 0
    inside = (x >= lo) & (x < hi)
    out[inside] = 1 + (n * (x[inside] - lo) / (hi - lo)).astype(np.intp)
    return out


class PDF:
    """One TMVA PDF: a reference histogram, its smoothing and interpolation, the fine histogram.

    Parameters
    ----------
    name : str
        ``Name`` attribute (``"Likelihood PDF Sig[0]"``).
    settings : PDFSettings
        Processed settings (:meth:`PDFSettings.processed`).
    contents : array_like, shape (nbins,)
        The original histogram's bin contents (stored as float32, as in a TH1F).
    xmin, xmax : float
        Its axis range (equidistant bins).
    hist_name : str
        ``Name`` of the ``<Histogram>`` element (``"<var>_sig_original"``).
    sumw2 : array_like, optional
        Sums of squared weights per bin (bin errors for ``MinNSmooth < MaxNSmooth``); default the
        contents (errors ``sqrt(content)``, as for a histogram filled without weights or read back).
    rms, integral : float, optional
        The histogram's RMS and integral for the KDE width; default from the bins (as after reading).
    normalize : bool
        Scale the fine histogram to unit integral (TMVA's default).
    check_entries : bool
        Refuse an empty histogram (``BuildPDF``; reading a weights file does not check).

    Attributes
    ----------
    original : ndarray of float32, shape (nbins,)
    smoothed : ndarray of float32, shape (nbins,)
    pdf_hist : ndarray of float32, shape (n_pdf_bins,)
        The fine histogram (the smoothed one for ``Spline0``), normalised.
    pdf_lo, pdf_hi : float
        Its range (= the original's).

    Raises
    ------
    ModelError
        For an empty histogram or a negative integral (TMVA's fatal errors).
    """

    def __init__(
        self,
        name: str,
        settings: PDFSettings,
        contents: npt.ArrayLike,
        xmin: float,
        xmax: float,
        *,
        hist_name: str = "",
        sumw2: npt.ArrayLike | None = None,
        rms: float | None = None,
        integral: float | None = None,
        normalize: bool = True,
        check_entries: bool = True,
    ) -> None:
        self.name = name
        self.settings = settings
        self.hist_name = hist_name or f"{name}_original"
        self.original: F32 = np.asarray(contents, dtype=np.float32).copy()
        self.xmin = float(xmin)
        self.xmax = float(xmax)
        self.nbins = len(self.original)
        if self.nbins < 1 or not self.xmax > self.xmin:
            raise ModelError(f"PDF '{name}': invalid histogram ({self.nbins} bins on [{xmin}, {xmax}])")
        self._sumw2 = None if sumw2 is None else np.asarray(sumw2, dtype=np.float64)
        self._rms = rms
        self._integral = integral
        self.normalize = normalize
        self.smoothed: F32 = self.original.copy()
        self.pdf_hist: F32 = np.zeros(0, dtype=np.float32)
        self._build(check_entries)

    # ------------------------------------------------------------------ building
    @property
    def interpol(self) -> str:
        """The interpolation method (``Spline2``, ``KDE``, …)."""
        return self.settings.interpol

    @property
    def n_pdf_bins(self) -> int:
        """Bins of the fine histogram."""
        return len(self.pdf_hist)

    def _build(self, check_entries: bool) -> None:
        if check_entries and not np.any(self.original != 0):
            raise ModelError(f"PDF '{self.name}': number of entries <= 0 in histogram '{self.hist_name}'")
        if self.interpol == "KDE":
            self._build_kde()
        else:
            self._build_spline()
        width = (self.xmax - self.xmin) / self.n_pdf_bins
        total = float(np.sum(self.pdf_hist, dtype=np.float64)) * width
        if total < 0:
            raise ModelError(f"PDF '{self.name}': integral {total:g} <= 0")
        if self.normalize and total > 0:
            self.pdf_hist = (self.pdf_hist.astype(np.float64) * (1.0 / total)).astype(np.float32)

    def _build_spline(self) -> None:
        s = self.settings
        if s.min_nsmooth < 0:
            raise ModelError(f"PDF '{self.name}': construction called with MinNSmooth < 0")
        if s.max_nsmooth > 0 and s.min_nsmooth >= 0 and self.nbins >= 3:
            errors = np.sqrt(np.abs(self.original.astype(np.float64) if self._sumw2 is None else self._sumw2))
            self.smoothed = _smooth_hist(self.original, s, errors)
        if self.interpol == "Spline0":
            self.pdf_hist = self.smoothed.copy()
            return
        xk = _centres(self.xmin, self.xmax, self.nbins)
        yk = self.smoothed.astype(np.float64)
        x = _centres(self.xmin, self.xmax, NBIN_PDF_HIST)
        if self.interpol == "Spline1":
            y = spline1_eval(xk, yk, x)
        elif self.interpol == "Spline2":
            y = spline2_eval(xk, yk, x)
        elif self.interpol == "Spline3":
            y = spline3_eval(xk, yk, x)
        else:
            y = _spline5_eval(xk, yk, x)
        small = ~(y > PDF_EPSILON)
        if small.any():
            b = np.clip(_find_bin(x[small], self.xmin, self.xmax, self.nbins), 1, self.nbins)
            y[small] = self.smoothed[b - 1]
        self.pdf_hist = np.maximum(y, PDF_EPSILON).astype(np.float32)

    def _kde_sigma(self) -> float:
        c = self.original.astype(np.float64)
        centres = _centres(self.xmin, self.xmax, self.nbins)
        total = float(c.sum()) if self._integral is None else float(self._integral)
        if self._rms is not None:
            rms = float(self._rms)
        else:
            sw = float(c.sum())
            mean = float(c @ centres) / sw if sw else 0.0
            rms = math.sqrt(max(float(c @ (centres * centres)) / sw - mean * mean, 0.0)) if sw else 0.0
        sigma = math.sqrt(2.0) * (4.0 / 3.0) ** 0.2 * rms * total**-0.2 if total > 0 else 0.0
        if not sigma > 0:
            raise ModelError(f"PDF '{self.name}': KDE sigma has invalid value ( <=0 )")
        return float(np.float32(sigma))

    def _kernel_fill(
        self, target_edges: F64, means: F64, sigmas: F64, weights: F64, lower: float, upper: float
    ) -> F64:
        """Σ_i w_i ∫ kernel_i over each target bin but the last (TMVA's loops skip it)."""
        from scipy.special import erf  # here: `import pymva` does not load scipy

        border = self.settings.kde_border
        out = np.zeros(len(target_edges) - 1, dtype=np.float64)
        e32 = target_edges.astype(np.float32)
        chunk = 64
        for a in range(0, len(means), chunk):
            m = means[a : a + chunk, None].astype(np.float32)
            sg = sigmas[a : a + chunk, None].astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                xs = ((e32[None, :] - m) / sg).astype(np.float32)
                cdf = 0.5 * erf(xs.astype(np.float64))
                integ = np.diff(cdf, axis=1)
                if border == "Renorm":
                    lo = ((np.float32(lower) - m) / sg).astype(np.float32).astype(np.float64)
                    hi = ((np.float32(upper) - m) / sg).astype(np.float32).astype(np.float64)
                    integ = integ / (0.5 * (erf(hi) - erf(lo)))
            integ = np.where(np.isfinite(integ) & (sg > 0), integ, 0.0).astype(np.float32)
            out += weights[a : a + chunk] @ integ.astype(np.float64)
        out[-1] = 0.0
        return out

    def _kde_density(self, target_edges: F64, sigma_src: F64) -> F64:
        """The KDE filled into bins ``target_edges`` from the source bins 1 … n−1 (+ mirrors)."""
        n = self.nbins
        centres = _centres(self.xmin, self.xmax, n)
        w = self.original.astype(np.float64)
        idx = np.arange(n - 1)  # TMVA's loop skips the last source bin
        lower = float(np.float32(self.xmin))
        upper = float(np.float32(self.xmax))
        dens = self._kernel_fill(target_edges, centres[idx], sigma_src[idx], w[idx], lower, upper)
        if self.settings.kde_border == "Mirror":
            i1 = idx + 1  # 1-based bin numbers
            left = idx[i1 < n // 5]
            right = idx[i1 > 4 * n // 5]
            if left.size:
                dens += self._kernel_fill(
                    target_edges, 2 * lower - centres[left], sigma_src[left], w[left], lower, upper
                )
            if right.size:
                dens += self._kernel_fill(
                    target_edges, 2 * upper - centres[right], sigma_src[right], w[right], lower, upper
                )
        return dens

    def _build_kde(self) -> None:
        sigma = self._kde_sigma()
        n = self.nbins
        sig = np.full(n, sigma)
        if self.settings.kde_iter == "Adaptive":
            src_edges = np.asarray(
                self.xmin + np.arange(n + 1) * ((self.xmax - self.xmin) / n), dtype=np.float64
            )
            first = self._kde_density(src_edges, sig).astype(np.float32)
            width = np.float32((self.xmax - self.xmin) / n)
            integ = float(np.sum(first[: n - 1] * width, dtype=np.float32))
            first = (first.astype(np.float64) / integ).astype(np.float32)
            with np.errstate(divide="ignore"):
                adaptive = self.settings.kde_fine_factor * sigma / np.sqrt(first.astype(np.float64))
            adaptive[n - 1] = 0.0
            sig = adaptive.astype(np.float32).astype(np.float64)
        edges = np.asarray(
            self.xmin + np.arange(NBIN_PDF_HIST + 1) * ((self.xmax - self.xmin) / NBIN_PDF_HIST),
            dtype=np.float64,
        )
        self.pdf_hist = self._kde_density(edges, sig).astype(np.float32)

    # ------------------------------------------------------------------ evaluation
    def value(self, x: npt.ArrayLike, floor: float = PDF_EPSILON, *, bins_only: bool | None = None) -> F64:
        """``PDF::GetVal``: the density at ``x`` (linear between fine-bin centres), at least ``floor``.

        Parameters
        ----------
        x : array_like, shape (n,)
        floor : float
            The smallest value returned (TMVA: ``1e-12``).
        bins_only : bool, optional
            Use the bin contents without interpolation (default: for ``Spline0``; MethodLikelihood
            decides it from the signal PDF for both).

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        xv = np.asarray(x, dtype=np.float64)
        n = self.n_pdf_bins
        h = self.pdf_hist.astype(np.float64)
        b = np.clip(_find_bin(xv, self.xmin, self.xmax, n), 1, n)
        if self.interpol == "Spline0" if bins_only is None else bins_only:
            return np.maximum(h[b - 1], floor)
        width = (self.xmax - self.xmin) / n
        cb = self.xmin + (b - 0.5) * width
        up = ((xv > cb) & (b != n)) | (b == 1)
        nb = np.where(up, b + 1, b - 1)
        cn = self.xmin + (nb - 0.5) * width
        val = h[b - 1] + (xv - cb) * (h[b - 1] - h[nb - 1]) / (cb - cn)
        return np.asarray(np.maximum(val, floor), dtype=np.float64)

    def integral(self, xmin: float, xmax: npt.ArrayLike) -> F64:
        """``PDF::GetIntegral(xmin, xmax)``: the fine histogram summed from ``xmin`` to each ``xmax``.

        TMVA's manual integration (``fgManualIntegration``): the bins from ``FindBin(xmin)`` (at
        least 1) to ``FindBin(xmax)`` (at most the last bin), each ``content × width`` with the
        first bin's width measured from ``xmin`` to its upper edge and the last bin's from its lower
        edge to ``xmax`` (a float32 width, as TMVA's ``Float_t dx``).  An ``xmax`` below the
        histogram gives 0; one above it extends the last bin's width beyond the upper edge.

        Parameters
        ----------
        xmin : float
            Lower end (the rarity uses the histogram's lower edge).
        xmax : array_like, shape (n,)
            Upper ends.

        Returns
        -------
        ndarray of float64, shape (n,)

        Raises
        ------
        ModelError
            For a bin width below -1e-8 (TMVA's fatal ``<GetIntegral> dx < 0``).
        """
        xv = np.atleast_1d(np.asarray(xmax, dtype=np.float64))
        n = self.n_pdf_bins
        width = (self.xmax - self.xmin) / n
        h = self.pdf_hist.astype(np.float64)
        imin = max(int(_find_bin(np.array([float(xmin)]), self.xmin, self.xmax, n)[0]), 1)
        imax = np.minimum(_find_bin(xv, self.xmin, self.xmax, n), n)
        if imin > n:
            return np.zeros(xv.shape, dtype=np.float64)

        def low_edge(i: Any) -> Any:
            return self.xmin + (np.asarray(i) - 1) * width

        def clean(dx: Any) -> Any:
            dx = np.where((dx < 0) & (dx > -1.0e-8), 0.0, dx)
            if np.any(dx < 0):
                raise ModelError(f"PDF '{self.name}': <GetIntegral> bin width dx < 0")
            return dx

        full = float(np.float32(width))
        first = float(clean(np.float32(low_edge(imin + 1) - float(xmin))))
        terms = h * full
        terms[imin - 1] = h[imin - 1] * first
        cum = np.concatenate(([0.0], np.cumsum(terms[imin - 1 :])))  # cum[k]: bins imin .. imin+k-1
        out = np.zeros(xv.shape, dtype=np.float64)
        single = imax == imin
        out[single] = terms[imin - 1]
        many = imax > imin
        if many.any():
            last = imax[many]
            dx = clean((xv[many] - low_edge(last)).astype(np.float32).astype(np.float64))
            out[many] = cum[last - imin] + h[last - 1] * dx
        return out

    # ------------------------------------------------------------------ XML
    def to_xml(self, parent: ET.Element) -> ET.Element:
        """Append ``<PDF>`` with the original histogram (``PDF::AddXMLTo``)."""
        s = self.settings
        el = ET.SubElement(
            parent,
            "PDF",
            {
                "Name": self.name,
                "MinNSmooth": str(s.min_nsmooth),
                "MaxNSmooth": str(s.max_nsmooth),
                "InterpolMethod": str(INTERPOL_CODES[s.interpol]),
                "KDE_type": "1",
                "KDE_iter": str(KDE_ITER_CODES[s.kde_iter]),
                "KDE_border": str(KDE_BORDER_CODES[s.kde_border]),
                "KDE_finefactor": f"{s.kde_fine_factor:.16e}",
            },
        )
        h = ET.SubElement(
            el,
            "Histogram",
            {
                "Name": self.hist_name,
                "NBins": str(self.nbins),
                "XMin": f"{self.xmin:.16e}",
                "XMax": f"{self.xmax:.16e}",
                "HasEquidistantBins": "1",
            },
        )
        h.text = " ".join(f"{float(v):.8e}" for v in self.original) + " "
        return el

    @classmethod
    def from_xml(cls, el: ET.Element, *, where: str = "weights file") -> PDF:
        """Rebuild a PDF from its ``<PDF>`` element (``PDF::ReadXML``).

        Raises
        ------
        ModelError
            For missing or malformed attributes, an unknown interpolation code or a histogram whose
            number of values differs from ``NBins``.
        """
        if el.tag != "PDF":
            raise ModelError(f"{where}: expected a <PDF> element, found <{el.tag}>")
        name = el.get("Name", "")

        def attr(key: str, conv: Any) -> Any:
            raw = el.get(key)
            if raw is None:
                raise ModelError(f"{where}: <PDF Name='{name}'> has no attribute {key}")
            try:
                return conv(raw)
            except ValueError:
                raise ModelError(
                    f"{where}: <PDF Name='{name}'> attribute {key}='{raw}' is not a number"
                ) from None

        code = attr("InterpolMethod", int)
        if code not in _INTERPOL_NAMES:
            raise ModelError(
                f"{where}: <PDF Name='{name}'> has InterpolMethod={code}; known: "
                + ", ".join(f"{v}={k}" for k, v in INTERPOL_CODES.items())
            )
        kiter = attr("KDE_iter", int)
        kborder = attr("KDE_border", int)
        settings = PDFSettings(
            min_nsmooth=attr("MinNSmooth", int),
            max_nsmooth=attr("MaxNSmooth", int),
            interpol=_INTERPOL_NAMES[code],
            kde_iter=_KDE_ITER_NAMES.get(kiter, "Nonadaptive"),
            kde_border=_KDE_BORDER_NAMES.get(kborder, "None"),
            kde_fine_factor=attr("KDE_finefactor", float),
        )
        hist = el.find("Histogram")
        if hist is None:
            raise ModelError(f"{where}: <PDF Name='{name}'> has no <Histogram>")
        try:
            nbins = int(hist.get("NBins", ""))
            xmin = float(hist.get("XMin", ""))
            xmax = float(hist.get("XMax", ""))
            values = [float(t) for t in (hist.text or "").split()]
        except ValueError:
            raise ModelError(
                f"{where}: <Histogram> of PDF '{name}' has malformed attributes or values"
            ) from None
        if len(values) != nbins:
            raise ModelError(
                f"{where}: <Histogram> of PDF '{name}' holds {len(values)} values for NBins={nbins}"
            )
        if hist.get("HasEquidistantBins", "1") not in ("1", "true", "True"):
            binning = el.find("HistogramBinning")
            edges = [float(t) for t in ((binning.text if binning is not None else "") or "").split()]
            if len(edges) != nbins + 1 or not np.allclose(np.diff(edges), (xmax - xmin) / nbins, rtol=1e-6):
                raise ModelError(
                    f"{where}: PDF '{name}' has a histogram with variable bins, which pymva does not support"
                )
        return cls(name, settings, values, xmin, xmax, hist_name=hist.get("Name", ""), check_entries=False)
