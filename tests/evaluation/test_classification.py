"""Classification evaluation (core.md §5.2–§5.5) against closed forms, hand computations and a
scalar port of TMVA's C++ loops (GetEfficiency with its Brent root finder and TSpline1)."""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable

import hist
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import kolmogorov
from scipy.stats import norm

from pymva.errors import DataError
from pymva.evaluation import (
    ClassificationResult,
    evaluate_classification,
    kolmogorov_test,
    separation_from_histograms,
    separation_from_pdfs,
    significance,
)
from pymva.evaluation.classification import _find_cuts
from pymva.histograms import regular


def gaussian_sample(rng: np.random.Generator, n: int, d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.concatenate([rng.normal(d, 1.0, n), rng.normal(0.0, 1.0, n)]).astype(np.float32)
    is_signal = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    return values, np.ones(2 * n, np.float32), is_signal


@pytest.fixture(scope="module")
def gauss() -> tuple[ClassificationResult, float, int]:
    rng = np.random.default_rng(2024)
    d, n = 1.5, 200000
    test = gaussian_sample(rng, n, d)
    train = gaussian_sample(rng, n, d)
    return evaluate_classification("PyTorch", "dataset", *test, *train), d, n


# ----------------------------------------------------------------------------------------------
# closed forms on two unit Gaussians separated by d
# ----------------------------------------------------------------------------------------------
def test_gaussian_auc_and_area(gauss: tuple[ClassificationResult, float, int]) -> None:
    r, d, _ = gauss
    auc = norm.cdf(d / np.sqrt(2))
    assert r.roc_integral == pytest.approx(auc, abs=3e-3)
    assert r.train_roc_integral == pytest.approx(auc, abs=3e-3)
    assert r.eff_area == pytest.approx(auc, abs=3e-3)


def test_gaussian_significance(gauss: tuple[ClassificationResult, float, int]) -> None:
    r, d, n = gauss
    assert r.significance == pytest.approx(d / np.sqrt(2), abs=0.01)
    assert r.mean_signal == pytest.approx(d, abs=0.01)
    assert r.rms_background == pytest.approx(1.0, abs=0.01)
    assert r.cut_orientation == 1
    # exactly core.md §5.3 on the test sample: |mu_S - mu_B| / sqrt(sigma_S^2 + sigma_B^2)
    y, _, sig = gaussian_sample(np.random.default_rng(2024), n, d)  # the fixture's test sample
    ys, yb = y[sig].astype(np.float64), y[~sig].astype(np.float64)
    assert r.mean_signal == pytest.approx(ys.mean(), rel=1e-9)
    assert r.rms_background == pytest.approx(yb.std(), rel=1e-9)
    expected = abs(ys.mean() - yb.mean()) / np.sqrt(ys.var() + yb.var())
    assert r.significance == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("b", "key"), [(0.01, "01"), (0.10, "10"), (0.30, "30")])
def test_gaussian_signal_efficiency_at_background_efficiency(
    gauss: tuple[ClassificationResult, float, int], b: float, key: str
) -> None:
    r, d, n = gauss
    expected = 1 - norm.cdf(norm.ppf(1 - b) - d)
    # statistical error of effS and of the effB working point, plus the 1/1000 scan
    tol = 0.008 if b == 0.01 else 0.005
    eff = getattr(r, f"eff_at_{key}")
    assert eff == pytest.approx(expected, abs=tol)
    assert getattr(r, f"train_eff_at_{key}") == pytest.approx(expected, abs=tol)
    assert getattr(r, f"eff_at_{key}_error") == pytest.approx(np.sqrt(eff * (1 - eff) / n), rel=1e-12)
    assert r.eff_at(b) == eff


def test_gaussian_separation_matches_numerical_integral(
    gauss: tuple[ClassificationResult, float, int],
) -> None:
    r, d, n = gauss

    def integrand(x: float) -> float:
        s, b = norm.pdf(x, d), norm.pdf(x)
        return float((s - b) ** 2 / (s + b))

    expected = 0.5 * quad(integrand, -15, 15)[0]
    assert r.separation_hist == pytest.approx(expected, abs=0.01)
    assert r.separation == pytest.approx(expected, abs=0.01)
    # the histogram version exactly (core.md §5.3): 40 bins on [xmin, xmax + 1e-5] of the test sample,
    # s_i, b_i = content / (sum * width), separation = sum (s - b)^2 / (s + b) * width / 2
    y, _, sig = gaussian_sample(np.random.default_rng(2024), n, d)
    edges = np.linspace(r.xmin, r.xmax + 0.00001, 41)
    width = edges[1] - edges[0]
    hs = np.histogram(y[sig].astype(np.float64), edges)[0] / (sig.sum() * width)
    hb = np.histogram(y[~sig].astype(np.float64), edges)[0] / ((~sig).sum() * width)
    ok = hs + hb > 0
    by_hand = 0.5 * width * np.sum((hs[ok] - hb[ok]) ** 2 / (hs[ok] + hb[ok]))
    assert r.separation_hist == pytest.approx(by_hand, rel=1e-6)


def test_gaussian_reference_cut_is_where_eff_s_equals_background_rejection(
    gauss: tuple[ClassificationResult, float, int],
) -> None:
    r, d, _ = gauss
    # effS(c) = 1 - Phi(c - d) = 1 - effB(c) = Phi(c)  =>  c = d / 2
    assert r.signal_reference_cut == pytest.approx(d / 2, abs=0.01)
    assert r.is_signal_like([d, 0.0]).tolist() == [True, False]


def test_gaussian_ks_probabilities_match_a_hand_computation(
    gauss: tuple[ClassificationResult, float, int],
) -> None:
    """core.md §5.5: binned KS of the 40-bin test and training histograms on the test range, unit weights:
    n_eff = in-range entries, z = D sqrt(n1 n2 / (n1 + n2)), p = kolmogorov(z)."""
    r, d, n = gauss
    rng = np.random.default_rng(2024)  # the fixture's samples, drawn again
    test = gaussian_sample(rng, n, d)
    train = gaussian_sample(rng, n, d)
    edges = np.linspace(r.xmin, r.xmax + 0.00001, 41)
    for flag, got in ((True, r.ks_signal), (False, r.ks_background)):
        h_test = np.histogram(test[0][test[2] == flag].astype(np.float64), edges)[0]
        h_train = np.histogram(train[0][train[2] == flag].astype(np.float64), edges)[0]
        n1, n2 = h_test.sum(), h_train.sum()
        dist = np.max(np.abs(np.cumsum(h_test) / n1 - np.cumsum(h_train) / n2))
        expected = kolmogorov(dist * np.sqrt(n1 * n2 / (n1 + n2)))
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert r.ks_signal != r.ks_background


def test_overtrained_response_has_tiny_ks_probability() -> None:
    rng = np.random.default_rng(1)
    test = gaussian_sample(rng, 20000, 1.0)
    yr, wr, sr = gaussian_sample(rng, 20000, 1.0)
    yr = np.where(sr, yr + 0.3, yr)  # signal better separated in training: overtraining
    r = evaluate_classification("T", "ds", *test, yr, wr, sr)
    assert r.ks_signal < 1e-6
    assert r.ks_background > 1e-3
    # the training-curve efficiencies show it; TMVA's (cuts from the test curve) see only the
    # training background, which is not overtrained
    own = evaluate_classification("T", "ds", *test, yr, wr, sr, training_cut_from_test_sample=False)
    assert own.train_eff_at_10 > own.eff_at_10 + 0.05
    assert r.train_eff_at_10 == pytest.approx(r.eff_at_10, abs=0.02)


# ----------------------------------------------------------------------------------------------
# separation, significance and KS on small inputs
# ----------------------------------------------------------------------------------------------
def test_separation_of_identical_and_disjoint_distributions() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(size=4000).astype(np.float32)
    same = evaluate_classification("T", "ds", np.r_[y, y], np.ones(8000), np.r_[np.ones(4000, bool), np.zeros(4000, bool)],
                                   np.r_[y, y], np.ones(8000), np.r_[np.ones(4000, bool), np.zeros(4000, bool)])  # fmt: skip
    assert same.separation_hist == 0.0
    assert same.separation == 0.0
    assert same.significance == 0.0
    u = rng.uniform(size=4000)
    disjoint_values = np.r_[u + 2.0, u]  # signal in [2, 3], background in [0, 1]
    flags = np.r_[np.ones(4000, bool), np.zeros(4000, bool)]
    dis = evaluate_classification(
        "T", "ds", disjoint_values, np.ones(8000), flags, disjoint_values, np.ones(8000), flags
    )
    assert dis.separation_hist == pytest.approx(1.0, abs=1e-12)
    assert dis.separation == pytest.approx(1.0, abs=0.03)
    assert dis.roc_integral == pytest.approx(1.0, abs=1e-12)
    assert dis.eff_at_01 == pytest.approx(1.0, abs=0.002)


def test_separation_functions_by_hand() -> None:
    # unit-area densities on [0, 2] with 2 bins: s = (1, 0), b = (0, 1) -> 1/2 * (1 + 1) * 1
    assert separation_from_histograms(np.array([3.0, 0.0]), np.array([0.0, 5.0]), 0.0, 2.0) == 1.0
    # s = (0.75, 0.25), b = (0.25, 0.75): 1/2 * 2 * (0.5^2 / 1) * width 1 = 0.25
    assert separation_from_histograms(np.array([3.0, 1.0]), np.array([1.0, 3.0]), 0.0, 2.0) == 0.25
    assert separation_from_histograms(np.array([0.0, 0.0]), np.array([1.0, 3.0]), 0.0, 2.0) == 0.0
    same = np.array([1.0, 4.0, 2.0])
    assert separation_from_pdfs(same, 2 * same, -1.0, 1.0) == pytest.approx(0.0, abs=1e-14)
    assert significance(1.0, 0.0, 0.0, 0.0) == 0.0
    assert significance(3.0, 0.0, 3.0, 4.0) == pytest.approx(0.6, abs=1e-15)


def _hist(counts: list[float], variances: list[float]) -> hist.Hist:
    return regular("h", "h", 0.0, 1.0, np.array(counts), np.array(variances))


def test_kolmogorov_test_by_hand() -> None:
    h1 = _hist([1, 2, 3, 4], [1, 2, 3, 4])  # unit weights: n_eff = 10
    h2 = _hist([2, 2, 2, 2], [2, 2, 2, 2])  # n_eff = 8
    # cumulative: (.1, .3, .6, 1) vs (.25, .5, .75, 1) -> D = 0.2
    z = 0.2 * np.sqrt(10 * 8 / (10 + 8))
    assert kolmogorov_test(h1, h2) == pytest.approx(kolmogorov(z), rel=1e-12)
    # weighted: n_eff = (sum w)^2 / sum w^2
    h3 = _hist([2, 4, 6, 8], [4, 8, 12, 16])  # n_eff = 400 / 40 = 10, same shape as h1
    assert kolmogorov_test(h1, h3) == 1.0
    h4 = _hist([1, 1, 0, 0], [0.5, 0.5, 0, 0])  # n_eff = 4 / 1 = 4; cumulative (.5, 1, 1, 1)
    z = 0.7 * np.sqrt(10 * 4 / 14)  # D = |0.3 - 1| = 0.7
    assert kolmogorov_test(h1, h4) == pytest.approx(kolmogorov(z), rel=1e-12)
    # a histogram without errors counts as exact: z = D sqrt(n_other)
    h5 = _hist([2, 2, 2, 2], [0, 0, 0, 0])
    assert kolmogorov_test(h1, h5) == pytest.approx(kolmogorov(0.2 * np.sqrt(10)), rel=1e-12)
    assert kolmogorov_test(h5, h5) == 0.0
    assert kolmogorov_test(_hist([0, 0, 0, 0], [0, 0, 0, 0]), h1) == 0.0
    with pytest.raises(ValueError, match="numbers of bins"):
        kolmogorov_test(h1, _hist([1, 2], [1, 2]))


def test_ks_is_deterministic_and_uses_the_test_and_training_histograms() -> None:
    rng = np.random.default_rng(9)
    test = gaussian_sample(rng, 3000, 1.0)
    train = gaussian_sample(rng, 3000, 1.0)
    r1 = evaluate_classification("T", "ds", *test, *train)
    r2 = evaluate_classification("T", "ds", *test, *train)
    assert (r1.ks_signal, r1.ks_background) == (r2.ks_signal, r2.ks_background)
    h = r1.histograms
    assert r1.ks_signal == kolmogorov_test(h["MVA_T_S"], h["MVA_T_Train_S"])
    assert r1.ks_background == kolmogorov_test(h["MVA_T_B"], h["MVA_T_Train_B"])


# ----------------------------------------------------------------------------------------------
# histograms
# ----------------------------------------------------------------------------------------------
def test_histogram_names_binning_and_normalisation(gauss: tuple[ClassificationResult, float, int]) -> None:
    r, _, _ = gauss
    t = "MVA_PyTorch"
    suffixes = ["_S", "_B", "_S_high", "_B_high", "_effS", "_effB", "_effBvsS", "_rejBvsS", "_invBeffvsSeff",
                "_Train_S", "_Train_B", "_trainingEffS", "_trainingEffB", "_trainingEffBvsS", "_trainingRejBvsS"]  # fmt: skip
    assert list(r.histograms) == [t + s for s in suffixes]
    h = r.histograms
    for name, nbins in ((t + "_S", 40), (t + "_B_high", 10000), (t + "_effS", 10000), (t + "_Train_B", 40)):
        assert h[name].axes[0].size == nbins
        assert h[name].axes[0].edges[0] == r.xmin
        assert h[name].axes[0].edges[-1] == r.xmax + 0.00001
    for name in (t + "_S", t + "_B", t + "_S_high", t + "_Train_S"):
        assert np.sum(h[name].values() * h[name].axes[0].widths) == pytest.approx(1.0, rel=1e-12)
        assert h[name].label == name
    for name in (t + "_effBvsS", t + "_rejBvsS", t + "_trainingEffBvsS"):
        assert h[name].axes[0].size == 100
        assert (h[name].axes[0].edges[0], h[name].axes[0].edges[-1]) == (0.0, 1.0)
        assert h[name].label == t
    assert h[t + "_effS"].label == t + " (signal)"
    assert h[t + "_trainingEffB"].label == t + " (background)"
    assert h[t + "_effBvsS"].axes[0].label == "Signal eff"
    assert h[t + "_rejBvsS"].metadata["fYaxis.fTitle"] == "Backgr rejection (1-eff)"
    assert h[t + "_invBeffvsSeff"].metadata["fYaxis.fTitle"] == "Inverse backgr. eff (1/eff)"
    assert float(np.max(h[t + "_effS"].values())) == 1.0
    np.testing.assert_allclose(h[t + "_rejBvsS"].values(), 1 - h[t + "_effBvsS"].values())
    eff_b = h[t + "_effBvsS"].values()
    inv = h[t + "_invBeffvsSeff"].values()
    np.testing.assert_allclose(inv[eff_b > 0], 1 / eff_b[eff_b > 0])
    # effBvsS rises with the signal efficiency
    assert np.all(np.diff(eff_b) >= -1e-12)
    assert all(x.metadata["classname"] == "TH1D" for x in h.values())


def test_response_histogram_variances_are_sum_of_squared_weights() -> None:
    y = np.array([0.1, 0.2, 0.25, 0.9, 0.8, 0.7])
    w = np.array([1.0, 2.0, 3.0, 1.0, 1.0, 2.0])
    s = np.array([False, False, False, True, True, True])
    r = evaluate_classification("T", "ds", y, w, s, y, w, s)
    hb = r.histograms["MVA_T_B"]
    edges = hb.axes[0].edges
    scale = 1.0 / (6.0 * (edges[-1] - edges[0]) / 40)  # NormHist: 1 / (sum of weights * bin width)
    assert hb.values().sum() == pytest.approx(6.0 * scale, rel=1e-12)
    assert hb.variances().sum() == pytest.approx((1 + 4 + 9) * scale**2, rel=1e-12)


# ----------------------------------------------------------------------------------------------
# a scalar port of TMVA's loops (MethodBase::GetEfficiency, RootFinder::Root, TSpline1::Eval)
# ----------------------------------------------------------------------------------------------
def tspline1(xs: list[float], ys: list[float], x: float) -> float:
    n = len(xs)
    ibin = min(max(bisect.bisect_right(xs, x) - 1, 0), n - 1)
    nxt = ibin + 1 if ((x > xs[ibin] and ibin != n - 1) or ibin == 0) else ibin - 1
    return ys[ibin] + (x - xs[ibin]) * (ys[ibin] - ys[nxt]) / (xs[ibin] - xs[nxt])


def brent_root(g: Callable[[float], float], a: float, b: float, ref: float, max_iter: int = 100) -> float:
    """RootFinder::Root (CERNLIB RZERO), line by line."""
    fa, fb = g(a) - ref, g(b) - ref
    if fb * fa > 0:
        return 1.0
    ac_equal = False
    fc, c, d, e = fb, 0.0, 0.0, 0.0
    for _ in range(max_iter + 1):
        if (fb < 0 and fc < 0) or (fb > 0 and fc > 0):
            ac_equal = True
            c, fc, d, e = a, fa, b - a, b - a
        if abs(fc) < abs(fb):
            ac_equal = True
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 0.5 * 2.2204460492503131e-16 * abs(b)
        m = 0.5 * (c - b)
        if fb == 0 or abs(m) <= tol:
            return b
        if abs(e) < tol or abs(fa) <= abs(fb):
            d = e = m
        else:
            s = fb / fa
            if ac_equal:
                p, q = 2 * m * s, 1 - s
            else:
                q, r = fa / fc, fb / fc
                p = s * (2 * m * q * (q - r) - (b - a) * (r - 1))
                q = (q - 1) * (r - 1) * (s - 1)
            if p > 0:
                q = -q
            else:
                p = -p
            min1, min2 = 3 * m * q - abs(tol * q), abs(e * q)
            if 2 * p < min(min1, min2):
                e, d = d, p / q
            else:
                d = e = m
        a, fa = b, fb
        b += d if abs(d) > tol else (tol if m > 0 else -tol)
        fb = g(b) - ref
    return b


def tmva_reference(y: np.ndarray, w: np.ndarray, s: np.ndarray) -> dict[str, float]:
    ys, ws = y[s], w[s]
    yb, wb = y[~s], w[~s]

    def mean_rms(v: np.ndarray, ww: np.ndarray) -> tuple[float, float]:
        m = float(np.sum(v * ww) / np.sum(ww))
        return m, float(np.sqrt(abs(np.sum(v * v * ww) / np.sum(ww) - m * m)))

    ms, rs = mean_rms(ys, ws)
    mb, rb = mean_rms(yb, wb)
    xmin = max(min(ms - 10 * rs, mb - 10 * rb), float(y.min()))
    xmax = min(max(ms + 10 * rs, mb + 10 * rb), float(y.max()))
    pos = ms > mb
    lo, hi, nh = xmin, xmax + 0.00001, 10000

    def cumulative(vals: np.ndarray, weights: np.ndarray) -> list[float]:
        h = np.zeros(nh)
        for v, ww in zip(vals, weights, strict=True):
            maxbin = int((v - lo) / (hi - lo) * nh) + 1
            if (pos and maxbin > nh) or (not pos and maxbin < 1):
                continue
            maxbin = max(maxbin, 1) if pos else min(maxbin, nh)
            if pos:
                h[:maxbin] += ww
            else:
                h[maxbin:] += ww
        return list(h * (1.0 / max(np.finfo(float).eps, h.max())))  # TH1::Scale multiplies

    eff_s, eff_b = cumulative(ys, ws), cumulative(yb, wb)
    centers = [lo + (i - 0.5) * ((hi - lo) / nh) for i in range(1, nh + 1)]

    def value_for_root(cut: float) -> float:
        val = tspline1(centers, eff_s, cut)
        if cut - xmin < 1e-5:
            return 1.0 if pos else 0.0
        if xmax - cut < 1e-5:
            return 0.0 if pos else 1.0
        return val

    roc_centers = [(i - 0.5) * 0.01 for i in range(1, 101)]
    bvss = [tspline1(centers, eff_b, brent_root(value_for_root, xmin, xmax, e)) for e in roc_centers]
    out: dict[str, float] = {}
    for b, key in ((0.01, "01"), (0.10, "10"), (0.30, "30")):
        ref = float(np.float32(b))
        es = eb_ = es_ = 0.0
        for i in range(1, 1001):
            es = (i - 0.5) / 1000.0
            eb = tspline1(roc_centers, bvss, es)
            if (eb - ref) * (eb_ - ref) <= 0:
                break
            es_, eb_ = es, eb
        out[f"eff_at_{key}"] = 0.5 * (es + es_)
    out["eff_area"] = (
        sum(1.0 - tspline1(roc_centers, bvss, (i - 0.5) / 1000.0) for i in range(1, 1001)) / 1000
    )
    es = es_ = rej_ = 0.0
    for i in range(1, 5001):
        es = (i - 0.5) / 5000.0
        rej = 1.0 - tspline1(roc_centers, bvss, es)
        if (es - rej) * (es_ - rej_) < 0:
            break
        es_, rej_ = es, rej
    out["signal_reference_cut"] = brent_root(value_for_root, xmin, xmax, 0.5 * (es + es_))
    return out


@pytest.mark.parametrize("flip", [False, True])
def test_vectorised_efficiencies_match_tmva_loops(flip: bool) -> None:
    rng = np.random.default_rng(17 if flip else 23)
    n = 300
    y = np.concatenate([rng.normal(0.8, 0.7, n), rng.normal(0.0, 1.0, n)])
    w = rng.uniform(0.5, 1.5, 2 * n)
    s = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    if flip:  # negative cut orientation
        y = -y
    r = evaluate_classification("T", "ds", y, w, s, y, w, s)
    ref = tmva_reference(y, w, s)
    assert r.cut_orientation == (-1 if flip else 1)
    for key in ("eff_at_01", "eff_at_10", "eff_at_30", "eff_area"):
        assert getattr(r, key) == pytest.approx(ref[key], abs=1e-9), key
    for key in ("eff_at_01", "eff_at_10", "eff_at_30"):  # error: sqrt(eff (1 - eff) / sum of signal weights)
        eff = getattr(r, key)
        assert getattr(r, f"{key}_error") == pytest.approx(np.sqrt(eff * (1 - eff) / w[s].sum()), rel=1e-12)
    assert r.signal_reference_cut == pytest.approx(ref["signal_reference_cut"], abs=1e-9)
    assert (r.train_eff_at_01, r.train_eff_at_10, r.train_eff_at_30) == (
        r.eff_at_01,
        r.eff_at_10,
        r.eff_at_30,
    )


def test_negative_orientation_mirrors_the_positive_one() -> None:
    rng = np.random.default_rng(4)
    y, w, s = gaussian_sample(rng, 20000, 1.0)
    yr, wr, sr = gaussian_sample(rng, 20000, 1.0)
    pos = evaluate_classification("T", "ds", y, w, s, yr, wr, sr)
    neg = evaluate_classification("T", "ds", -y, w, s, -yr, wr, sr)
    assert neg.cut_orientation == -1
    for key in ("eff_at_01", "eff_at_10", "eff_at_30", "eff_area", "train_eff_at_10"):
        assert getattr(neg, key) == pytest.approx(getattr(pos, key), abs=0.003), key
    # TMVA's ROC curve always takes large responses as signal-like
    assert neg.roc_integral == pytest.approx(1 - pos.roc_integral, abs=1e-3)
    assert neg.signal_reference_cut == pytest.approx(-pos.signal_reference_cut, abs=0.01)


def test_training_cut_from_test_sample_is_tmvas_default() -> None:
    rng = np.random.default_rng(8)
    test = gaussian_sample(rng, 5000, 1.0)
    yr, wr, sr = gaussian_sample(rng, 5000, 1.0)
    yr = np.where(sr, yr + 0.5, yr)
    tmva = evaluate_classification("T", "ds", *test, yr, wr, sr)
    explicit = evaluate_classification("T", "ds", *test, yr, wr, sr, training_cut_from_test_sample=True)
    own = evaluate_classification("T", "ds", *test, yr, wr, sr, training_cut_from_test_sample=False)
    assert tmva.train_eff_at_10 == explicit.train_eff_at_10
    assert (own.eff_at_10, own.eff_area) == (tmva.eff_at_10, tmva.eff_area)
    # with TMVA's test-sample cuts the training numbers only see the training background
    assert own.train_eff_at_10 > tmva.train_eff_at_10 + 0.05
    # identical samples: both conventions agree
    same = evaluate_classification("T", "ds", *test, *test)
    same_own = evaluate_classification("T", "ds", *test, *test, training_cut_from_test_sample=False)
    assert same.train_eff_at_30 == same_own.train_eff_at_30 == same.eff_at_30


def test_root_finder_stops_where_tmvas_brent_does_on_a_plateau() -> None:
    # effS(cut) = 1 - 6 cut on [0, 0.1], 0.4 on [0.1, 0.9], 0.4 - 4 (cut - 0.9) on [0.9, 1]
    def g(x: np.ndarray) -> np.ndarray:
        return np.where(x < 0.1, 1 - 6 * x, np.where(x <= 0.9, 0.4, 0.4 - 4 * (x - 0.9)))

    # target 0.4, by hand: f(0) = 0.6, f(1) = -0.4; |f(0)| > |f(1)|, so RZERO's first step is the
    # secant through (0, 0.6) and (1, -0.4), which lands at 0.6 on the plateau (f = 0): the root.
    # (Bisection would stop at 0.5.)  Target 0.7 is crossed once, at 0.05; target 2 is not
    # bracketed, for which TMVA returns 1.
    cuts = _find_cuts(np.array([0.4, 0.7, 2.0]), g, 0.0, 1.0)
    assert cuts[0] == pytest.approx(0.6, abs=4 * np.finfo(float).eps)
    assert cuts[1] == pytest.approx(0.05, abs=4 * np.finfo(float).eps)
    assert cuts[2] == 1.0
    # scipy's Brent (with its smallest relative tolerance) takes the same first step
    assert brentq(lambda x: float(g(np.array(x))) - 0.4, 0.0, 1.0, xtol=1e-300) == pytest.approx(cuts[0])
    # on a smooth, strictly monotone curve both converge to the unique root (RZERO: eps/2 |x|)
    f = lambda x: 0.5 + 0.5 * np.tanh(3 * (0.5 - np.asarray(x)))
    targets = np.array([0.1, 0.3, 0.5, 0.77, 0.9])
    ours = _find_cuts(targets, f, 0.0, 1.0)
    for t, c in zip(targets, ours, strict=True):
        assert c == pytest.approx(brentq(lambda x, t=t: float(f(x)) - t, 0.0, 1.0, xtol=1e-300), abs=4e-16)


def test_unit_weight_plateaus_match_tmva_loops() -> None:
    # unit weights and 200 events per class: effS(cut) is a staircase of steps 1/200, so every
    # target k/200 + 1/400 ... lies on a plateau and the cut is wherever TMVA's Brent stops
    rng = np.random.default_rng(0)
    n = 200
    y = np.concatenate([rng.normal(1.0, 1.0, n), rng.normal(0.0, 1.0, n)]).round(2)
    w = np.ones(2 * n)
    s = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    r = evaluate_classification("T", "ds", y, w, s, y, w, s)
    ref = tmva_reference(y, w, s)
    for key in ("eff_at_01", "eff_at_10", "eff_at_30", "eff_area", "signal_reference_cut"):
        assert getattr(r, key) == pytest.approx(ref[key], abs=1e-12), key


def test_result_object_conveniences(gauss: tuple[ClassificationResult, float, int]) -> None:
    r, _, _ = gauss
    assert r.testvar == "MVA_PyTorch"
    assert r.eff_at(0.3, "train") == r.train_eff_at_30
    with pytest.raises(ValueError, match=r"0\.01, 0\.10 and 0\.30"):
        r.eff_at(0.2)
    html = r._repr_html_()
    assert "PyTorch" in html
    assert "signal efficiency @ B=0.10" in html
    assert "roc_curve" not in repr(r)  # no arrays in the repr
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.title = "other"  # type: ignore[misc]


def test_plot_returns_a_figure_that_pyplot_does_not_hold(
    gauss: tuple[ClassificationResult, float, int],
) -> None:
    """In Jupyter the returned Figure is shown once: not also as a pyplot figure at the end of the cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    fig = gauss[0].plot()
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before
    (ax,) = fig.axes
    assert "PyTorch" in ax.get_lines()[0].get_label()
    assert ax.get_title() == "Signal efficiency vs. Background rejection (PyTorch)"  # TMVA's graph title
    curve = gauss[0].roc_curve
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), curve.sensitivity)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), curve.specificity)


def test_bad_inputs_raise_data_errors() -> None:
    y = np.array([0.1, 0.2, 0.3])
    w = np.ones(3)
    with pytest.raises(DataError, match="needs both"):
        evaluate_classification("T", "ds", y, w, [True, True, True], y, w, [True, False, True])
    with pytest.raises(DataError, match="NaN"):
        evaluate_classification(
            "T", "ds", [0.1, np.nan, 0.3], w, [True, False, True], y, w, [True, False, True]
        )
    with pytest.raises(DataError, match="different lengths"):
        evaluate_classification("T", "ds", y, np.ones(2), [True, False, True], y, w, [True, False, True])
    # (n, 1) responses are accepted
    r = evaluate_classification("T", "ds", y[:, None], w, [True, False, True], y, w, [True, False, True])
    assert r.roc_integral == 0.5 + 0.5 * (1 / 2)  # one signal event below the background event at 0.2
