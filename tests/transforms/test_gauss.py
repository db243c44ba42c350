"""Gauss and Uniform transformations: TMVA's cumulative-distribution machinery and ROOT's smoothing."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy import stats

from pymva.data.dataset import Sample, VariableInfo
from pymva.transforms import Gauss, InputRef, TransformationHandler, Uniform, smooth_353qh
from pymva.transforms.gauss import (
    N_FINE_BINS,
    CumulativeDistribution,
    cdf_bin_edges,
    cumulative_distribution,
    stable_argsort,
)
from tolerances import EPS32, assert_within


def _sample(X: np.ndarray, w: np.ndarray | None = None, cls: np.ndarray | None = None) -> Sample:
    n = len(X)
    return Sample(
        X=np.asarray(X, np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=np.ones(n, np.float32) if w is None else np.asarray(w, np.float32),
        class_id=np.zeros(n, np.int32) if cls is None else np.asarray(cls, np.int32),
    )


def _infos(k: int) -> list[VariableInfo]:
    return [VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(k)]


def _inputs(k: int) -> list[InputRef]:
    return [InputRef("v", i) for i in range(k)]


# ------------------------------------------------------------------ literal references of the C++ code
def _edges_literal(v: np.ndarray, w: np.ndarray, sum_per_bin: float) -> np.ndarray:
    """VariableGaussTransform::GetCumulativeDist's binning loop, statement by statement (float32 sums)."""
    f32 = np.float32
    s = f32(0)
    ev_value = v[0]
    last = ev_value
    edges = [f32(ev_value - f32(1e-4)), ev_value]
    for value, weight in zip(v, w, strict=True):
        s = f32(s + weight)
        if s >= sum_per_bin:
            ev_value = value
            if ev_value > last:
                edges.append(ev_value)
                s = f32(0)
                last = ev_value
    if s != 0:
        edges.append(v[-1])
    return np.array(edges, np.float32)


def _getval_literal(x: float, fine: np.ndarray, xmin: float, xmax: float) -> float:
    """TMVA::PDF::GetVal with TH1F::FindBin on the 10000-bin reference histogram."""
    nb = len(fine)
    width = (xmax - xmin) / nb
    if x < xmin:
        b = 0
    elif not x < xmax:
        b = nb + 1
    else:
        b = 1 + int(nb * (x - xmin) / (xmax - xmin))
    b = min(max(b, 1), nb)

    def centre(i: int) -> float:
        return xmin + (i - 0.5) * width

    nxt = b + 1 if (x > centre(b) and b != nb) or b == 1 else b - 1
    dx = centre(b) - centre(nxt)
    dy = fine[b - 1] - fine[nxt - 1]
    return max(float(fine[b - 1] + (x - centre(b)) * dy / dx), 1e-12)


# ------------------------------------------------------------------ smoothing
def test_smooth_353qh_matches_root_reference_values() -> None:
    # TH1::SmoothArray output computed by ROOT (published with the histogram-smoothing port)
    hist = [7.82272339, 20.79126453, 55.58607231, 80.9790969, 61.72924992, 48.02962419, 55.53139849,
            38.1122083, 37.5203016, 24.89442078, 33.42130301, 34.15961964, 11.99455817, 90.5479646,
            18.71481196, 88.95821081]  # fmt: skip
    ref = [7.822723, 26.247831, 51.234443, 68.039891, 66.855977, 55.680763, 45.094336, 38.695053,
           36.060684, 34.446053, 33.421303, 33.421303, 33.605882, 47.674688, 75.258563, 88.958211]  # fmt: skip
    np.testing.assert_allclose(smooth_353qh(hist), ref, atol=1e-6)  # ref printed with 6 decimals
    np.testing.assert_allclose(smooth_353qh([1, 2, 7, 4, 5]), [1, 2.25, 3.75, 4.75, 5])


def test_smooth_353qh_short_and_constant_arrays() -> None:
    np.testing.assert_array_equal(smooth_353qh([3.0, 1.0]), [3.0, 1.0])  # < 3 points: unchanged
    np.testing.assert_allclose(smooth_353qh(np.full(50, 7.0)), 7.0)
    assert (smooth_353qh([0.0, 5.0, 0.0, 0.0, 9.0, 0.0]) >= 0).all()  # non-negative input stays so


# ------------------------------------------------------------------ sorting and binning
def test_stable_argsort_equals_numpy_stable() -> None:
    rng = np.random.default_rng(3)
    for x in (rng.normal(size=5000).astype(np.float32), rng.integers(0, 40, 5000).astype(np.float32),
              np.round(rng.normal(size=5000), 2).astype(np.float32)):  # fmt: skip
        np.testing.assert_array_equal(stable_argsort(x), np.argsort(x, kind="stable"))


@pytest.mark.parametrize("case", ["unit", "weighted", "ties", "negative"])
def test_bin_edges_equal_the_literal_tmva_loop(case: str) -> None:
    rng = np.random.default_rng(7)
    n = 20000
    v = np.sort(rng.normal(size=n).astype(np.float32))
    w = np.ones(n, np.float32)
    if case == "weighted":
        w = rng.uniform(0.2, 3.0, n).astype(np.float32)
    elif case == "ties":
        v = np.sort(rng.integers(0, 300, n).astype(np.float32) / 10)
        w = rng.choice(np.array([0.5, 1.0, 2.0], np.float32), n)
    elif case == "negative":
        w = rng.uniform(-0.5, 1.5, n).astype(np.float32)
    s = float(
        max(np.float32(w.min()) * np.float32(10), np.float32(w.sum(dtype=np.float64)) / np.float32(2000))
    )
    ours = cdf_bin_edges(v, w, s)
    ref = _edges_literal(v, w, s)
    if case in ("weighted", "negative"):
        # float32 running sums (TMVA) against float64 cumulative sums (pymva): a bin may close one value
        # earlier or later; the binning must otherwise be the same
        assert abs(len(ours) - len(ref)) <= 2
        common = min(len(ours), len(ref))
        assert np.mean(ours[:common] == ref[:common]) > 0.95
    else:
        np.testing.assert_array_equal(ours, ref)


def test_histogram_bins_hold_the_requested_weight() -> None:
    rng = np.random.default_rng(5)
    v = np.sort(rng.normal(size=100_000).astype(np.float32))
    w = np.ones_like(v)
    edges = cdf_bin_edges(v, w, 50.0)
    assert len(edges) == 2002  # first-1e-4, first, 1999 breaks of 50 events, the maximum
    counts = np.histogram(v, edges.astype(np.float64))[0]
    # the event that closes a bin opens the next one: 49 events in the first bin, then 50 each (±1 where
    # a float32 value occurs twice at a bin edge)
    assert counts[0] == 0
    assert counts[1] == 49
    assert (np.abs(counts[2:-1] - 50) <= 1).all()
    assert np.mean(counts[2:-1] == 50) > 0.99


# ------------------------------------------------------------------ the PDF
def test_cdf_equals_tmva_getval_literal() -> None:
    rng = np.random.default_rng(11)
    v = np.sort(rng.gamma(2.0, size=30000).astype(np.float32))
    dist = cumulative_distribution(v, np.ones_like(v), 1.0, float(len(v)))
    assert len(dist.fine) == N_FINE_BINS
    pts = np.concatenate(
        [rng.uniform(dist.xmin - 1, dist.xmax + 1, 400), [dist.xmin, dist.xmax], v[:5], v[-5:]]
    )
    ours = dist.cdf(pts.astype(np.float64))
    ref = np.array([_getval_literal(float(p), dist.fine, dist.xmin, dist.xmax) for p in pts])
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


def test_cdf_fine_histogram_follows_coarse_points() -> None:
    # the reference histogram is the linear interpolation between coarse bin centres, sampled at its centres
    edges = np.array([0.0, 1.0, 2.0, 4.0], np.float64)
    cum = np.array([0.2, 0.5, 1.0])
    dist = CumulativeDistribution(edges, cum)
    width = 4.0 / N_FINE_BINS
    x = 1.2
    i = int(x / width)
    centre = (i + 0.5) * width
    expected = 0.2 + (centre - 0.5) * (0.5 - 0.2) / (1.5 - 0.5)
    assert dist.fine[i] == pytest.approx(np.float32(expected), rel=1e-6)
    assert dist.cdf(np.array([x]))[0] == pytest.approx(0.2 + (x - 0.5) * 0.3, abs=1e-6)


def test_inverse_cdf_recovers_values() -> None:
    rng = np.random.default_rng(2)
    v = np.sort(rng.normal(size=50000).astype(np.float32))
    dist = cumulative_distribution(v, np.ones_like(v), 1.0, float(len(v)))
    x = v[100:-100].astype(np.float64)
    # the cumulative values are stored in float32 (eps32/2 on values ≤ 1) and read back through the
    # slope of the distribution, the normal density φ(x) here (within a few per cent: 50000 events):
    # |x' - x| ≤ 2·(eps32/2)/φ(x), doubled for the sampling of the slope
    atol = 2 * EPS32 / stats.norm.pdf(x)
    assert_within(dist.cdf_inverse(dist.cdf(x)), x, atol)


# ------------------------------------------------------------------ the transformations
def test_gauss_output_is_standard_normal_ks() -> None:
    rng = np.random.default_rng(42)
    n = 100_000
    X = np.column_stack([rng.exponential(size=n), rng.uniform(-3, 8, n), rng.normal(5, 2, n) ** 3])
    h = TransformationHandler.parse("G", variables=_infos(3))
    h.fit(_sample(X))
    out = h.transform(_sample(X)).X
    for j in range(3):
        res = stats.kstest(out[:, j], "norm")
        assert res.pvalue > 0.01, (j, res)


def test_uniform_output_is_uniform_ks() -> None:
    rng = np.random.default_rng(43)
    n = 100_000
    X = np.column_stack([rng.exponential(size=n), rng.normal(size=n)])
    h = TransformationHandler.parse("U", variables=_infos(2))
    h.fit(_sample(X))
    out = h.transform(_sample(X)).X
    for j in range(2):
        res = stats.kstest(out[:, j], "uniform")
        assert res.pvalue > 0.01, (j, res)
    assert out.min() >= 1e-9
    assert out.max() <= 1.0


def test_gauss_saturates_like_tmva_at_the_top() -> None:
    # values above the centre of the last coarse bin map to the clipped cumulant: 1.414213562·erfinv(0.99999999)
    rng = np.random.default_rng(8)
    X = rng.normal(size=(40000, 1))
    h = TransformationHandler.parse("G", variables=_infos(1))
    h.fit(_sample(X))
    out = h.transform(_sample(X)).X[:, 0]
    top = 1.414213562 * 4.052237243871  # erfinv(0.99999999)
    assert out.max() == pytest.approx(top, rel=1e-6)
    assert f"{out.max():#11.5g}".strip() == "5.7307"
    assert (out == out.max()).sum() <= 40000 / 4000 + 1


@pytest.mark.parametrize("cls", [Gauss, Uniform])
def test_inverse_after_forward_is_identity_below_saturation(cls: type[Gauss]) -> None:
    rng = np.random.default_rng(12)
    n = 30000
    X = np.column_stack([rng.normal(size=n), rng.exponential(2.0, n)]).astype(np.float32)
    w = rng.uniform(0.5, 1.5, n).astype(np.float32)
    t = cls(_inputs(2), n_classes=1)
    t.fit(X, w, np.zeros(n, np.int32))
    y = t.forward(X)
    back = t.inverse(y)
    saturated = y >= y.max(axis=0)
    span = X.max(axis=0) - X.min(axis=0)
    err = np.abs(back - X) / span
    assert err[~saturated].max() < 1e-4
    # only the largest values (upper half of the last coarse bin, ≤ Σw/4000) saturate
    assert saturated.sum(axis=0).max() <= n / 4000 * 1.6 + 1
    for j in range(2):
        assert X[saturated[:, j], j].min() >= np.quantile(X[:, j], 0.999)


def test_constant_input_maps_to_the_middle(caplog: pytest.LogCaptureFixture) -> None:
    X = np.column_stack([np.full(1000, 3.0), np.arange(1000.0)])
    h = TransformationHandler.parse("G", variables=_infos(2))
    h.fit(_sample(X))
    out = h.transform(_sample(X)).X
    assert np.all(out[:, 0] == 0.0)
    assert np.isfinite(out).all()
    assert "constant" in caplog.text


def test_gauss_class_sets_and_xml_round_trip() -> None:
    rng = np.random.default_rng(9)
    n = 8000
    cls = (rng.random(n) < 0.4).astype(np.int32)
    X = rng.normal(size=(n, 2)) + cls[:, None] * 2.0
    w = rng.uniform(0.5, 2.0, n)
    for spec in ("G_Signal", "U_Background", "G"):
        h = TransformationHandler.parse(spec, variables=_infos(2), class_names=["Signal", "Background"])
        h.fit(_sample(X, w, cls))
        el = h.elements[0]
        assert len(el.params_) == 3
        a = el.forward(X.astype(np.float32), class_index=0)
        b = el.forward(X.astype(np.float32), class_index=2)
        assert not np.allclose(a, b)
        # parameter set k comes from the events of class k alone; the last one from all events
        for k, mask in ((0, cls == 0), (1, cls == 1), (2, np.ones(n, bool))):
            alone = type(el)(_inputs(2), n_classes=1)
            alone.fit(X[mask].astype(np.float32), w[mask].astype(np.float32), np.zeros(mask.sum(), np.int32))
            np.testing.assert_array_equal(
                el.forward(X.astype(np.float32), class_index=k), alone.forward(X.astype(np.float32))
            )
        text = ET.tostring(h.to_xml())
        h2 = TransformationHandler.from_xml(
            ET.fromstring(text), variables=_infos(2), class_names=["Signal", "Background"]
        )
        np.testing.assert_array_equal(h2.transform(_sample(X, w, cls)).X, h.transform(_sample(X, w, cls)).X)


def test_gauss_xml_has_tmva_layout() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 2))
    h = TransformationHandler.parse("U", variables=_infos(2))
    h.fit(_sample(X))
    root = h.to_xml()
    trf = root.find("Transform")
    assert trf is not None
    assert trf.get("Name") == "Gauss"
    assert trf.get("FlatOrGauss") == "Flat"
    pdf = trf.find("Variable/CumulativePDF_cls0/PDF")
    assert pdf is not None
    assert pdf.get("InterpolMethod") == "1"
    hist = pdf.find("Histogram")
    binning = pdf.find("HistogramBinning")
    assert hist is not None
    assert binning is not None
    nb = int(hist.get("NBins", "0"))
    assert len((hist.text or "").split()) == nb
    assert len((binning.text or "").split()) == nb + 1
    assert math.isclose(float(hist.get("XMin", "nan")), float((binning.text or "").split()[0]))
