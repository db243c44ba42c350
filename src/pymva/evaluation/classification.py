"""Evaluation of a two-class classifier (``../shared/tmva/core.md`` §5.2–§5.5).

:func:`evaluate_classification` reproduces what TMVA's ``MethodBase::TestClassification``,
``GetEfficiency``, ``GetTrainingEfficiency``, ``GetSignificance``, ``GetSeparation`` and
``GetKSTrainingVsTest`` compute from the responses and weights of the test and training samples,
plus ``Factory::GetROCIntegral``.  The steps, with ``y`` the response and ``w`` the weight:

1. Weighted mean and spread of ``y`` per class (``σ = sqrt(|<y²> - <y>²|)``); plot range
   ``xmin = max(min(μS-10σS, μB-10σB), min y)``, ``xmax = min(max(μS+10σS, μB+10σB), max y)``;
   cut orientation positive if ``μS > μB``.
2. ``MVA_<T>_S/_B`` (40 bins) and ``MVA_<T>_S_high/_B_high`` (10000 bins) on
   ``[xmin, xmax + 1e-5]``, normalised to unit area.
3. Cumulative efficiency histograms ``MVA_<T>_effS/_effB`` (10000 bins), divided by their
   maximum; their linear interpolation gives ``effS(cut)`` and ``effB(cut)``.
4. ``MVA_<T>_effBvsS`` (100 bins): for each bin centre ``e`` the cut with ``effS(cut) = e``
   (``effS`` forced to 1/0 within ``1e-5`` of the range ends), then ``effB(cut)``; also
   ``_rejBvsS`` and ``_invBeffvsSeff``.
5. Signal efficiency at background efficiency ``b``: scan ``e_i = (i - 0.5)/1000`` and stop at the
   first sign change of ``effBvsS(e_i) - b``; the result is the mean of the two scan points.
   Error ``sqrt(e (1 - e) / ΣwS)``.  ``effArea = mean over the scan of (1 - effBvsS)``.
6. Signal reference cut: the cut where ``effS = 1 - effB``.
7. The same on the training sample (``_Train_S/_B``, ``_trainingEffS/_B``,
   ``_trainingEffBvsS``, ``_trainingRejBvsS``), on the test sample's axis and orientation.
8. Kolmogorov–Smirnov probabilities between ``MVA_<T>_S`` and ``MVA_<T>_Train_S`` (and ``_B``),
   ROOT's ``TH1::KolmogorovTest`` without the random "X" option, so the numbers are reproducible.

As in TMVA, the cuts of the *training* ``effBvsS`` curve are found on the *test* signal-efficiency
curve (``GetValueForRoot`` always evaluates the test spline); ``training_cut_from_test_sample=False``
finds them on the training curve instead.  Cuts are found with a port of TMVA's ``RootFinder``
(Brent's method, absolute tolerance 0), so on plateaus of the efficiency curve the cut is the
point where TMVA's search stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hist
import numpy as np
import numpy.typing as npt

from .._html import html_table
from ..errors import DataError
from ..histograms import fixed_axis, new_hist, sumw2
from ._util import (
    F64,
    as_bool_array,
    as_float_array,
    bin_centers,
    check_same_length,
    norm_hist,
    sequential_sum,
    spline1,
    weighted_mean_rms,
)
from .roc import ROCCurve, roc_curve

__all__ = [
    "EFF_B_POINTS",
    "NBINS_HIGH",
    "NBINS_MVA",
    "NBINS_ROC",
    "ClassificationResult",
    "evaluate_classification",
    "kolmogorov_test",
    "separation_from_histograms",
    "separation_from_pdfs",
    "significance",
]

#: Bins of the response histograms ``MVA_<T>_S/_B`` (TMVA's ``fNbinsMVAoutput``).
NBINS_MVA = 40
#: Bins of the high-resolution and efficiency histograms (TMVA's ``NBIN_HIST_HIGH``).
NBINS_HIGH = 10000
#: Bins of the ``effBvsS`` curves (TMVA's ``fNbinsXOfROCCurve``).
NBINS_ROC = 100
#: The background efficiencies of TMVA's tables.
EFF_B_POINTS = (0.01, 0.10, 0.30)

_EPS_FORCE = 1.0e-5  # MethodBase::GetValueForRoot
_DBL_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, eq=False)
class ClassificationResult:
    """Evaluation of one classifier on its test and training samples.

    Attributes
    ----------
    title, dataset : str
        Method title and dataset (loader) name.
    roc_integral : float
        Area under TMVA's ROC curve on the test sample (``Factory::GetROCIntegral``): the
        "ROC-integ" column.
    roc_curve : ROCCurve
        The test-sample ROC curve (``sensitivity``, ``specificity`` arrays).
    train_roc_integral : float
        The same area on the training sample (not printed by TMVA).
    eff_at_01, eff_at_10, eff_at_30 : float
        Signal efficiency on the test sample at background efficiency 0.01, 0.10, 0.30.
    eff_at_01_error, eff_at_10_error, eff_at_30_error : float
        Their binomial errors ``sqrt(e (1 - e) / ΣwS)``.
    train_eff_at_01, train_eff_at_10, train_eff_at_30 : float
        The same on the training sample (overtraining check).
    eff_area : float
        Mean background rejection over the signal efficiency, TMVA's ranking key.
    separation : float
        ``½ ∫ (S - B)² / (S + B)``, with S and B linear-interpolation PDFs of the 40-bin test
        response histograms integrated in 100 steps (TMVA's ``GetSeparation()`` uses quadratic
        splines; expect agreement to about 1e-2).
    separation_hist : float
        The same from the 40-bin histograms directly (``Tools::GetSeparation(TH1*, TH1*)``).
    significance : float
        ``|μS - μB| / sqrt(σS² + σB²)`` on the test sample.
    ks_signal, ks_background : float
        Kolmogorov–Smirnov probabilities that the test and training response histograms of
        signal (background) come from the same distribution.
    signal_reference_cut : float
        The cut where ``effS = 1 - effB``; an event with ``orientation * y > orientation * cut`` is
        "signal-like".
    cut_orientation : int
        +1 if the signal mean response is larger than the background one, else -1.
    mean_signal, mean_background, rms_signal, rms_background : float
        Weighted mean and spread of the test response per class.
    xmin, xmax : float
        Range of the response histograms (before the ``1e-5`` added to the upper edge).
    method_type : str
        The method's type name (``"PyTorch"``, ``"Variable"``...); results of type ``Variable`` are
        listed under "Input Variables:" in the tables.
    histograms : dict of str to hist.Hist
        The histograms TMVA writes to ``Method_<Type>/<Title>/``, by name (TH1D, ``Weight`` storage;
        see :mod:`pymva.histograms`).
    """

    title: str
    dataset: str
    roc_integral: float
    roc_curve: ROCCurve = field(repr=False)
    train_roc_integral: float
    eff_at_01: float
    eff_at_10: float
    eff_at_30: float
    eff_at_01_error: float
    eff_at_10_error: float
    eff_at_30_error: float
    train_eff_at_01: float
    train_eff_at_10: float
    train_eff_at_30: float
    eff_area: float
    separation: float
    separation_hist: float
    significance: float
    ks_signal: float
    ks_background: float
    signal_reference_cut: float
    cut_orientation: int
    mean_signal: float
    mean_background: float
    rms_signal: float
    rms_background: float
    xmin: float
    xmax: float
    method_type: str = ""
    histograms: dict[str, hist.Hist[Any]] = field(default_factory=dict, repr=False)

    @property
    def testvar(self) -> str:
        """``MVA_<title>``, the prefix of the histogram names."""
        return f"MVA_{self.title}"

    def eff_at(self, eff_b: float, sample: str = "test") -> float:
        """Signal efficiency at one of the background efficiencies 0.01, 0.10, 0.30.

        Parameters
        ----------
        eff_b : float
            0.01, 0.10 or 0.30.
        sample : {"test", "train"}
        """
        key = {0.01: "01", 0.10: "10", 0.30: "30"}.get(round(eff_b, 2))
        if key is None:
            raise ValueError(f"eff_b={eff_b}: only 0.01, 0.10 and 0.30 are evaluated")
        prefix = "" if sample == "test" else "train_"
        return float(getattr(self, f"{prefix}eff_at_{key}"))

    def is_signal_like(self, values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """``MethodBase::IsSignalLike`` for responses ``values``."""
        y = np.asarray(values, np.float64)
        o = self.cut_orientation
        return np.asarray(y * o > self.signal_reference_cut * o)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the test-sample ROC curve (needs the ``plot`` extra); returns the Figure.

        Without ``ax`` a new figure titled as TMVA's graph, ``Signal efficiency vs. Background
        rejection (<title>)``; it is not held by pyplot, so in Jupyter it is shown once.
        """
        return self.roc_curve.plot(ax=ax, label=self.title, **kwargs)

    def _repr_html_(self) -> str:
        rows: list[tuple[object, ...]] = [
            ("ROC integral", self.roc_integral, self.train_roc_integral),
        ]
        for b, key in zip(EFF_B_POINTS, ("01", "10", "30"), strict=True):
            rows.append(
                (
                    f"signal efficiency @ B={b:.2f}",
                    f"{getattr(self, f'eff_at_{key}'):.3f} ± {getattr(self, f'eff_at_{key}_error'):.3f}",
                    getattr(self, f"train_eff_at_{key}"),
                )
            )
        rows += [
            ("effArea", self.eff_area, ""),
            ("separation", self.separation, ""),
            ("significance", self.significance, ""),
            ("KS probability signal (background)", f"{self.ks_signal:.3g} ({self.ks_background:.3g})", ""),
            ("signal-like cut", self.signal_reference_cut, ""),
        ]
        return html_table(
            f"Classification: {self.title} [{self.dataset}]", rows, header=("quantity", "test", "training")
        )


# ----------------------------------------------------------------------------------------------
# separation, significance, Kolmogorov–Smirnov
# ----------------------------------------------------------------------------------------------
def significance(mean_s: float, mean_b: float, rms_s: float, rms_b: float) -> float:
    """``MethodBase::GetSignificance``: ``|μS - μB| / sqrt(σS² + σB²)``, 0 if the denominator is 0."""
    rms = float(np.sqrt(rms_s * rms_s + rms_b * rms_b))
    return abs(mean_s - mean_b) / rms if rms > 0 else 0.0


def separation_from_histograms(s_counts: F64, b_counts: F64, lo: float, hi: float) -> float:
    """``Tools::GetSeparation(TH1*, TH1*)``: ``½ Σ (s - b)² / (s + b) Δ`` of unit-area densities.

    Parameters
    ----------
    s_counts, b_counts : ndarray, shape (nbins,)
        Bin contents of two histograms with the same equidistant binning on ``[lo, hi]``.

    Returns
    -------
    float
        0 for identical shapes, 1 for shapes without common bins; 0 if a histogram is empty.
    """
    s_counts = np.asarray(s_counts, np.float64)
    b_counts = np.asarray(b_counts, np.float64)
    if s_counts.shape != b_counts.shape or s_counts.size == 0:
        raise ValueError("signal and background histograms must have the same non-zero number of bins")
    step = (hi - lo) / s_counts.shape[0]
    ns = float(np.sum(s_counts)) * step
    nb = float(np.sum(b_counts)) * step
    if not (ns > 0 and nb > 0):
        return 0.0
    s = s_counts / ns
    b = b_counts / nb
    tot = s + b
    ok = tot > 0
    return float(sequential_sum((s[ok] - b[ok]) ** 2 / tot[ok]) * 0.5 * step)


def separation_from_pdfs(s_counts: F64, b_counts: F64, lo: float, hi: float, nsteps: int = 100) -> float:
    """Separation of two PDFs built from histograms, as ``Tools::GetSeparation(PDF, PDF)``.

    Each histogram is turned into a density by linear interpolation between its bin centres
    (``TSpline1``; TMVA's PDFs use a quadratic spline), floored at ``1e-12`` and normalised to unit
    area on the ``nsteps`` midpoints of ``[lo, hi]``, where ``½ Σ (S - B)² / (S + B) Δ`` is summed.
    """
    s_counts = np.asarray(s_counts, np.float64)
    b_counts = np.asarray(b_counts, np.float64)
    if s_counts.shape != b_counts.shape or s_counts.size == 0:
        raise ValueError("signal and background histograms must have the same non-zero number of bins")
    if not (np.sum(s_counts) > 0 and np.sum(b_counts) > 0):
        return 0.0
    centers = bin_centers(lo, hi, s_counts.shape[0])
    step = (hi - lo) / nsteps
    x = (np.arange(nsteps, dtype=np.float64) + 0.5) * step + lo
    s = np.maximum(spline1(centers, s_counts, x), 1e-12)
    b = np.maximum(spline1(centers, b_counts, x), 1e-12)
    s /= np.sum(s) * step
    b /= np.sum(b) * step
    return sequential_sum((s - b) ** 2 / (s + b)) * 0.5 * step


def kolmogorov_test(h1: hist.Hist[Any], h2: hist.Hist[Any]) -> float:
    """ROOT's ``TH1::KolmogorovTest(h2)`` (no options): probability that both come from one distribution.

    ``D`` is the largest difference of the cumulative normalised contents over bins ``1..N``; the
    effective numbers of entries are ``n_i = (Σ content)² / Σ variance``;
    ``z = D sqrt(n1 n2 / (n1 + n2))`` (``D sqrt(n)`` of the other histogram when one has no errors)
    and the probability is the Kolmogorov distribution ``scipy.special.kolmogorov(z)``
    (ROOT's ``TMath::KolmogorovProb``).  Deterministic: ROOT's pseudo-experiment option "X" is not
    used.  Returns 0 if a histogram is empty or both have zero errors, as ROOT does.  Only 1-D
    histograms of the same binning make sense; the under- and overflow bins are not used, and a
    histogram without ``variances`` has ROOT's errors ``sqrt(|content|)``.

    Raises
    ------
    ValueError
        If the histograms have different numbers of bins.
    """
    c1 = np.asarray(h1.values(), dtype=np.float64)
    c2 = np.asarray(h2.values(), dtype=np.float64)
    if c1.shape != c2.shape:
        raise ValueError(f"KolmogorovTest: different numbers of bins {c1.shape} and {c2.shape}")
    sum1 = float(np.sum(c1))
    sum2 = float(np.sum(c2))
    if sum1 == 0.0 or sum2 == 0.0:
        return 0.0
    w1 = float(np.sum(sumw2(h1)))
    w2 = float(np.sum(sumw2(h2)))
    afunc1 = not w1 > 0
    afunc2 = not w2 > 0
    if afunc1 and afunc2:
        return 0.0
    esum1 = 0.0 if afunc1 else sum1 * sum1 / w1
    esum2 = 0.0 if afunc2 else sum2 * sum2 / w2
    rsum1 = np.add.accumulate(c1 * (1.0 / sum1))
    rsum2 = np.add.accumulate(c2 * (1.0 / sum2))
    dfmax = float(np.max(np.abs(rsum1 - rsum2)))
    if afunc1:
        z = dfmax * np.sqrt(esum2)
    elif afunc2:
        z = dfmax * np.sqrt(esum1)
    else:
        z = dfmax * np.sqrt(esum1 * esum2 / (esum1 + esum2))
    from scipy.special import kolmogorov  # here: `import pymva` does not load scipy

    prob: float = float(kolmogorov(z))
    return prob


# ----------------------------------------------------------------------------------------------
# efficiency machinery (GetEfficiency / GetTrainingEfficiency)
# ----------------------------------------------------------------------------------------------
def _cumulative_efficiency(y: F64, w: F64, lo: float, hi: float, positive: bool) -> F64:
    """Cumulative efficiency histogram of ``NBINS_HIGH`` bins, normalised to its maximum.

    An event falls in ``m = int((y - lo) / (hi - lo) * N) + 1``; with positive orientation it adds
    its weight to bins ``1..m`` (skipped if ``m > N``; ``m < 1`` counts as 1), with negative
    orientation to bins ``m+1..N`` (skipped if ``m < 1``; ``m > N`` counts as ``N``).
    Returns the contents.  TMVA fills them with ``AddBinContent``, which counts no entries, so
    the ``Sumw2`` that ``TH1::Scale`` then creates is all zeros (see :func:`_efficiency_hist`).
    """
    n = NBINS_HIGH
    t = np.clip((y - lo) / (hi - lo) * n, -4.0 * n, 4.0 * n) if hi > lo else np.zeros_like(y)
    m = np.trunc(t).astype(np.int64) + 1
    if positive:
        keep = m <= n
        m = np.maximum(m[keep], 1)
        per_m = np.bincount(m, weights=w[keep], minlength=n + 1)[1 : n + 1]
        raw = np.add.accumulate(per_m[::-1])[::-1]
    else:
        keep = m >= 1
        m = np.minimum(m[keep], n)
        per_m = np.bincount(m, weights=w[keep], minlength=n + 1)[1 : n + 1]
        raw = np.concatenate(([0.0], np.add.accumulate(per_m)[:-1]))
    scale = 1.0 / max(_DBL_EPS, float(np.max(raw)))
    return raw * scale


def _efficiency_hist(name: str, title: str, lo: float, hi: float, counts: F64) -> hist.Hist[Any]:
    """``MVA_<T>_effS``-type histogram as ROOT leaves it: contents set with ``AddBinContent`` and
    scaled (``MethodBase::GetEfficiency``): no entries, no fill statistics (mean and RMS 0) and an
    all-zero ``Sumw2`` (``TH1::Sumw2`` copies the contents only when there are entries)."""
    return new_hist(
        name,
        title,
        [fixed_axis(counts.shape[0], lo, hi)],
        counts,
        np.zeros_like(counts),
        classname="TH1D",
        entries=0.0,
        stats=(0.0, 0.0, 0.0, 0.0),
    )


def _set_bin_hist(
    name: str, title: str, counts: F64, n_set: int, x_title: str = "", y_title: str = ""
) -> hist.Hist[Any]:
    """``MVA_<T>_effBvsS``-type histogram on [0, 1] filled with ``SetBinContent``: each call counts
    one entry and clears the fill statistics (ROOT computes mean and RMS from the bins), no
    ``Sumw2`` (errors ``sqrt(content)``)."""
    return new_hist(
        name,
        title,
        [fixed_axis(counts.shape[0], 0.0, 1.0, x_title)],
        counts,
        None,
        classname="TH1D",
        value_title=y_title,
        entries=float(n_set),
        stats=(0.0, 0.0, 0.0, 0.0),
    )


#: ``RootFinder``'s defaults as ``MethodBase::GetEfficiency`` constructs it (RootFinder.h)
_ROOT_MAX_ITER = 100
_ROOT_ABS_TOL = 0.0


def _find_cuts(targets: F64, g: Callable[[F64], F64], a: float, b: float) -> F64:
    """Solve ``g(cut) = target`` on ``[a, b]`` for every target as TMVA's ``RootFinder::Root`` does.

    A port of ``tmva/tmva/src/RootFinder.cxx`` (Brent's method after CERNLIB's ``RZERO``; at most
    100 iterations, absolute tolerance 0, relative tolerance ``eps/2 |b|``), run for all targets at
    once: each target follows its own sequence of trial points, so on a plateau of ``g`` (where
    every point of an interval solves the equation) it stops at the same point as TMVA.  Like TMVA,
    returns 1 for a target that ``[a, b]`` does not bracket.
    """
    t = np.asarray(targets, np.float64)
    n = t.shape
    xa = np.full(n, float(a))
    xb = np.full(n, float(b))
    fa = g(xa) - t
    fb = g(xb) - t
    unbracketed = fb * fa > 0
    done = unbracketed.copy()
    result = np.ones(n)
    ac_equal = np.zeros(n, dtype=bool)
    fc = fb.copy()
    c = np.zeros(n)
    d = np.zeros(n)
    e = np.zeros(n)
    for _ in range(_ROOT_MAX_ITER + 1):
        live = ~done
        same = live & (((fb < 0) & (fc < 0)) | ((fb > 0) & (fc > 0)))
        ac_equal |= same
        c = np.where(same, xa, c)
        fc = np.where(same, fa, fc)
        d = np.where(same, xb - xa, d)
        e = np.where(same, xb - xa, e)
        swap = live & (np.abs(fc) < np.abs(fb))
        ac_equal |= swap
        xa, xb, c = np.where(swap, xb, xa), np.where(swap, c, xb), np.where(swap, xb, c)
        fa, fb, fc = np.where(swap, fb, fa), np.where(swap, fc, fb), np.where(swap, fb, fc)
        tol = 0.5 * _DBL_EPS * np.abs(xb)
        m = 0.5 * (c - xb)
        converged = live & ((fb == 0) | (np.abs(m) <= tol) | (np.abs(fb) < _ROOT_ABS_TOL))
        result = np.where(converged, xb, result)
        done |= converged
        live = ~done
        if not live.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            bisect = (np.abs(e) < tol) | (np.abs(fa) <= np.abs(fb))
            s_ = fb / fa
            q1 = fa / fc
            r = fb / fc
            p = np.where(ac_equal, 2 * m * s_, s_ * (2 * m * q1 * (q1 - r) - (xb - xa) * (r - 1)))
            q = np.where(ac_equal, 1 - s_, (q1 - 1) * (r - 1) * (s_ - 1))
            q = np.where(p > 0, -q, q)
            p = np.abs(p)
            min1 = 3 * m * q - np.abs(tol * q)
            min2 = np.abs(e * q)
            accept = ~bisect & (2 * p < np.minimum(min1, min2))
            d_new = np.where(accept, p / q, m)
        e = np.where(live, np.where(accept, d, m), e)
        d = np.where(live, d_new, d)
        xa = np.where(live, xb, xa)
        fa = np.where(live, fb, fa)
        step = np.where(np.abs(d) > tol, d, np.where(m > 0, tol, -tol))
        xb = np.where(live, xb + step, xb)
        fb = np.where(live, g(xb) - t, fb)
    # out of iterations: TMVA returns its last trial point
    return np.where(done, result, xb)


@dataclass(frozen=True, eq=False)
class _EffCurve:
    """Efficiency splines of one sample on the test sample's high-resolution axis."""

    centers: F64  # bin centres of the NBINS_HIGH axis [lo, hi]
    eff_s: F64
    eff_b: F64

    def eff_s_at(self, cut: F64) -> F64:
        return spline1(self.centers, self.eff_s, cut)

    def eff_b_at(self, cut: F64) -> F64:
        return spline1(self.centers, self.eff_b, cut)


def _value_for_root(curve: _EffCurve, xmin: float, xmax: float, positive: bool) -> Callable[[F64], F64]:
    """``MethodBase::GetValueForRoot``: ``effS(cut)``, forced to 1/0 within 1e-5 of the range ends."""
    at_min, at_max = (1.0, 0.0) if positive else (0.0, 1.0)

    def g(cut: F64) -> F64:
        val = curve.eff_s_at(cut)
        return np.where(cut - xmin < _EPS_FORCE, at_min, np.where(xmax - cut < _EPS_FORCE, at_max, val))

    return g


_ROC_CENTERS = bin_centers(0.0, 1.0, NBINS_ROC)


def _eff_b_vs_s(root_curve: _EffCurve, b_curve: _EffCurve, xmin: float, xmax: float, positive: bool) -> F64:
    """Background efficiency at the ``NBINS_ROC`` signal-efficiency bin centres."""
    cuts = _find_cuts(_ROC_CENTERS, _value_for_root(root_curve, xmin, xmax, positive), xmin, xmax)
    return b_curve.eff_b_at(cuts)


def _eff_s_at_eff_b(eff_b_vs_s: F64, eff_b: float) -> float:
    """Signal efficiency where the ``effBvsS`` curve crosses ``eff_b`` (1000-point scan)."""
    es = (np.arange(1, 1001, dtype=np.float64) - 0.5) / 1000.0
    f = spline1(_ROC_CENTERS, eff_b_vs_s, es)
    f_prev = np.concatenate(([0.0], f[:-1]))
    es_prev = np.concatenate(([0.0], es[:-1]))
    hit = np.flatnonzero((f - eff_b) * (f_prev - eff_b) <= 0)
    k = int(hit[0]) if hit.size else es.shape[0] - 1
    return 0.5 * (float(es[k]) + float(es_prev[k]))


def _eff_area(eff_b_vs_s: F64) -> float:
    es = (np.arange(1, 1001, dtype=np.float64) - 0.5) / 1000.0
    return sequential_sum(1.0 - spline1(_ROC_CENTERS, eff_b_vs_s, es)) / 1000.0


def _reference_cut(eff_b_vs_s: F64, g: Callable[[F64], F64], xmin: float, xmax: float) -> float:
    """The cut where ``effS = 1 - effB`` (5000-point scan, then the root of its effS)."""
    es = (np.arange(1, 5001, dtype=np.float64) - 0.5) / 5000.0
    d = es - (1.0 - spline1(_ROC_CENTERS, eff_b_vs_s, es))
    d_prev = np.concatenate(([0.0], d[:-1]))
    es_prev = np.concatenate(([0.0], es[:-1]))
    hit = np.flatnonzero(d * d_prev < 0)
    k = int(hit[0]) if hit.size else es.shape[0] - 1
    target = np.array([0.5 * (es[k] + es_prev[k])])
    return float(_find_cuts(target, g, xmin, xmax)[0])


def _as_response(x: npt.ArrayLike, what: str) -> F64:
    a = np.asarray(x)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    return as_float_array(a, what)


# ----------------------------------------------------------------------------------------------
# the entry point
# ----------------------------------------------------------------------------------------------
def evaluate_classification(
    title: str,
    dataset_name: str,
    test_values: npt.ArrayLike,
    test_weights: npt.ArrayLike,
    test_is_signal: npt.ArrayLike,
    train_values: npt.ArrayLike,
    train_weights: npt.ArrayLike,
    train_is_signal: npt.ArrayLike,
    *,
    method_type: str = "",
    training_cut_from_test_sample: bool = True,
    test_proba: npt.ArrayLike | None = None,
    test_rarity: npt.ArrayLike | None = None,
) -> ClassificationResult:
    """Evaluate a two-class classifier as TMVA's ``EvaluateAllMethods`` does (core.md §5.1–§5.5).

    Parameters
    ----------
    title : str
        Method title (histograms are named ``MVA_<title>_...``).
    dataset_name : str
        Dataset (loader) name, shown in the tables.
    test_values, train_values : array_like, shape (n,) or (n, 1)
        Classifier responses on the test and the training sample.
    test_weights, train_weights : array_like, shape (n,)
        Event weights (the training weights renormalised as the Factory uses them).
    test_is_signal, train_is_signal : array_like of bool, shape (n,)
        True for events of the signal class.
    method_type : str, optional
        The method's type name; ``"Variable"`` puts the result in the "Input Variables" part of
        the tables.
    training_cut_from_test_sample : bool, optional
        TMVA's rule (default True): the cuts of the training ``effBvsS`` come from the *test*
        signal efficiency (``MethodBase::GetTrainingEfficiency`` calls ``GetValueForRoot``, which
        evaluates the test spline).  False finds them on the training signal efficiency, which
        makes the "from training sample" column a training-sample ROC on its own.
    test_proba, test_rarity : array_like, shape (n,), optional
        For a method with MVA PDFs (``CreateMVAPdfs``): ``GetProba`` and ``GetRarity`` of each test
        event, histogrammed as TMVA's ``MVA_<T>_Proba_S/_B`` and ``MVA_<T>_Rarity_S/_B`` (40 bins on
        [0, 1], normalised to unit area).

    Returns
    -------
    ClassificationResult

    Raises
    ------
    DataError
        On arrays of inconsistent lengths, non-finite responses or weights, or a test sample
        without signal or without background weight.
    """
    yt = _as_response(test_values, f"test responses of '{title}'")
    wt = as_float_array(test_weights, "test weights")
    st = as_bool_array(test_is_signal, "test signal flags", yt.shape[0])
    check_same_length(f"test sample of '{title}'", yt, wt, st)
    yr = _as_response(train_values, f"training responses of '{title}'")
    wr = as_float_array(train_weights, "training weights")
    sr = as_bool_array(train_is_signal, "training signal flags", yr.shape[0])
    check_same_length(f"training sample of '{title}'", yr, wr, sr)
    if not st.any() or st.all():
        raise DataError(
            f"test sample of '{title}' has {int(st.sum())} signal and {int((~st).sum())} background events; "
            "classification evaluation needs both"
        )

    # 1. statistics and range (Tools::ComputeStat, TestClassification)
    mean_s, rms_s = weighted_mean_rms(yt[st], wt[st])
    mean_b, rms_b = weighted_mean_rms(yt[~st], wt[~st])
    xmin = max(min(mean_s - 10 * rms_s, mean_b - 10 * rms_b), float(np.min(yt)))
    xmax = min(max(mean_s + 10 * rms_s, mean_b + 10 * rms_b), float(np.max(yt)))
    positive = mean_s > mean_b
    hi = xmax + 0.00001
    tv = f"MVA_{title}"
    hists: dict[str, hist.Hist[Any]] = {}

    def response_hist(name: str, y: F64, w: F64, nbins: int) -> hist.Hist[Any]:
        hists[name] = norm_hist(name, name, y, w, xmin, hi, nbins, classname="TH1D")
        return hists[name]

    # 2. response histograms
    h_s = response_hist(f"{tv}_S", yt[st], wt[st], NBINS_MVA)
    h_b = response_hist(f"{tv}_B", yt[~st], wt[~st], NBINS_MVA)
    pdf_suffixes: list[str] = []
    if test_proba is not None and test_rarity is not None:
        # TestClassification with MVA PDFs: probability and rarity of the test events, on [0, 1]
        for kind, values in (("Proba", test_proba), ("Rarity", test_rarity)):
            v = as_float_array(values, f"test {kind.lower()} of '{title}'")
            check_same_length(f"test {kind.lower()} of '{title}'", yt, v)
            for cls, mask in (("S", st), ("B", ~st)):
                name = f"{tv}_{kind}_{cls}"
                hists[name] = norm_hist(name, name, v[mask], wt[mask], 0.0, 1.0, NBINS_MVA, classname="TH1D")
                pdf_suffixes.append(f"_{kind}_{cls}")
    for cls, mask in (("S", st), ("B", ~st)):
        response_hist(f"{tv}_{cls}_high", yt[mask], wt[mask], NBINS_HIGH)

    # 3. cumulative efficiencies
    centers = bin_centers(xmin, hi, NBINS_HIGH)
    es_c = _cumulative_efficiency(yt[st], wt[st], xmin, hi, positive)
    eb_c = _cumulative_efficiency(yt[~st], wt[~st], xmin, hi, positive)
    hists[f"{tv}_effS"] = _efficiency_hist(f"{tv}_effS", f"{tv} (signal)", xmin, hi, es_c)
    hists[f"{tv}_effB"] = _efficiency_hist(f"{tv}_effB", f"{tv} (background)", xmin, hi, eb_c)
    test_curve = _EffCurve(centers, es_c, eb_c)

    # 4. effBvsS, rejBvsS, invBeffvsSeff
    eff_bvss = _eff_b_vs_s(test_curve, test_curve, xmin, xmax, positive)
    rej = 1.0 - eff_bvss
    inv = np.where(eff_bvss > _DBL_EPS, 1.0 / np.where(eff_bvss > _DBL_EPS, eff_bvss, 1.0), 0.0)
    n_bins = eff_bvss.shape[0]
    for suffix, counts, ytitle, n_set in (
        ("effBvsS", eff_bvss, "Backgr eff", n_bins),
        ("rejBvsS", rej, "Backgr rejection (1-eff)", n_bins),
        ("invBeffvsSeff", inv, "Inverse backgr. eff (1/eff)", int(np.count_nonzero(eff_bvss > _DBL_EPS))),
    ):
        name = f"{tv}_{suffix}"
        hists[name] = _set_bin_hist(name, tv, counts, n_set, x_title="Signal eff", y_title=ytitle)

    # 5.–6. working points, area, reference cut
    nevt_s = float(np.sum(wt[st]))
    effs: list[float] = []
    errs: list[float] = []
    for b in EFF_B_POINTS:
        e = _eff_s_at_eff_b(eff_bvss, float(np.float32(b)))
        effs.append(e)
        errs.append(float(np.sqrt(e * (1.0 - e) / nevt_s)) if nevt_s > 0 else 0.0)
    eff_area = _eff_area(eff_bvss)
    ref_cut = _reference_cut(eff_bvss, _value_for_root(test_curve, xmin, xmax, positive), xmin, xmax)

    # 7. training sample
    h_trs = response_hist(f"{tv}_Train_S", yr[sr], wr[sr], NBINS_MVA)
    h_trb = response_hist(f"{tv}_Train_B", yr[~sr], wr[~sr], NBINS_MVA)
    ts_c = _cumulative_efficiency(yr[sr], wr[sr], xmin, hi, positive)
    tb_c = _cumulative_efficiency(yr[~sr], wr[~sr], xmin, hi, positive)
    hists[f"{tv}_trainingEffS"] = _efficiency_hist(f"{tv}_trainingEffS", f"{tv} (signal)", xmin, hi, ts_c)
    hists[f"{tv}_trainingEffB"] = _efficiency_hist(f"{tv}_trainingEffB", f"{tv} (background)", xmin, hi, tb_c)
    train_curve = _EffCurve(centers, ts_c, tb_c)
    root_curve = test_curve if training_cut_from_test_sample else train_curve
    tr_bvss = _eff_b_vs_s(root_curve, train_curve, xmin, xmax, positive)
    for suffix, counts in (("trainingEffBvsS", tr_bvss), ("trainingRejBvsS", 1.0 - tr_bvss)):
        name = f"{tv}_{suffix}"
        hists[name] = _set_bin_hist(name, tv, counts, counts.shape[0])
    train_effs = [_eff_s_at_eff_b(tr_bvss, float(np.float32(b))) for b in EFF_B_POINTS]

    # 8. separation, significance, KS, ROC integrals
    s_counts = np.asarray(h_s.values(), dtype=np.float64)
    b_counts = np.asarray(h_b.values(), dtype=np.float64)
    sep = separation_from_pdfs(s_counts, b_counts, xmin, hi)
    sep_hist = separation_from_histograms(s_counts, b_counts, xmin, hi)
    curve = roc_curve(yt, wt, st)
    train_auc = roc_curve(yr, wr, sr).auc if yr.size else float("nan")

    # order of the dictionary: as TMVA stores them in the results of the method
    order = [
        "_S", "_B", "_S_high", "_B_high", "_effS", "_effB", "_effBvsS", "_rejBvsS", "_invBeffvsSeff",
        "_Train_S", "_Train_B", "_trainingEffS", "_trainingEffB", "_trainingEffBvsS", "_trainingRejBvsS",
    ]  # fmt: skip
    order[2:2] = pdf_suffixes  # stored after MVA_S/_B (Prob_S, Prob_B, Rar_S, Rar_B)
    ordered = {f"{tv}{s}": hists[f"{tv}{s}"] for s in order}

    return ClassificationResult(
        title=title,
        dataset=dataset_name,
        roc_integral=curve.auc,
        roc_curve=curve,
        train_roc_integral=train_auc,
        eff_at_01=effs[0],
        eff_at_10=effs[1],
        eff_at_30=effs[2],
        eff_at_01_error=errs[0],
        eff_at_10_error=errs[1],
        eff_at_30_error=errs[2],
        train_eff_at_01=train_effs[0],
        train_eff_at_10=train_effs[1],
        train_eff_at_30=train_effs[2],
        eff_area=eff_area,
        separation=sep,
        separation_hist=sep_hist,
        significance=significance(mean_s, mean_b, rms_s, rms_b),
        ks_signal=kolmogorov_test(h_s, h_trs),
        ks_background=kolmogorov_test(h_b, h_trb),
        signal_reference_cut=ref_cut,
        cut_orientation=1 if positive else -1,
        mean_signal=mean_s,
        mean_background=mean_b,
        rms_signal=rms_s,
        rms_background=rms_b,
        xmin=xmin,
        xmax=xmax,
        method_type=method_type,
        histograms=ordered,
    )
