"""pymva.histograms: ROOT's histograms on hist, against numpy's histograms, hand sums and uproot's reading."""

from __future__ import annotations

import hist
import numpy as np
import pytest
import uproot

from pymva.histograms import (
    AUTO_RANGE,
    Graph,
    axis_title,
    bin_edges,
    fill_th1,
    fill_th2,
    fill_tprofile,
    find_bins,
    fixed_axis,
    labelled_axis,
    new_hist,
    new_profile,
    regular,
    root_class,
    sumw2,
    to_writable,
)
from pymva.io.output.writer import OutputFile

EPS = np.finfo(np.float64).eps


def test_find_bins_follows_root():
    x = np.array([-1.0, 0.0, 0.49, 0.5, 0.999999, 1.0, 2.0, np.nan])
    np.testing.assert_array_equal(find_bins(x, 2, 0.0, 1.0), [0, 1, 1, 2, 2, 3, 3, 3])
    # an empty axis: nothing is inside
    np.testing.assert_array_equal(find_bins([-1.0, 1.0, 2.0], 4, 1.0, 1.0), [0, 5, 5])


def test_bin_edges_as_taxis():
    edges = bin_edges(-1.0, 2.0, 3)
    np.testing.assert_array_equal(edges, [-1.0, 0.0, 1.0, 2.0])
    edges = bin_edges(0.1, 0.7, 6)
    assert edges[-1] == 0.7  # the last edge is exactly hi
    np.testing.assert_array_equal(edges[:-1], 0.1 + np.arange(6) * ((0.7 - 0.1) / 6))


def test_fixed_axis_keeps_roots_edges_exactly():
    # boost-histogram's Regular axis stores lo and hi - lo: its upper edge misses hi here
    lo, hi = -158.93701172906796, 13.152330518026808
    assert hist.axis.Regular(40, lo, hi).edges[-1] != hi
    ax = fixed_axis(40, lo, hi, "x [GeV]")
    expected = lo + np.arange(41) * ((hi - lo) / 40)  # TAxis::GetBinLowEdge, the last edge is fXmax
    expected[-1] = hi
    np.testing.assert_array_equal(ax.edges, expected)
    assert (ax.edges[0], ax.edges[-1], ax.label) == (lo, hi, "x [GeV]")
    with pytest.raises(ValueError, match=r"needs at least one bin and lo < hi; got 300 bins on \[1.0, 1.0\]"):
        fixed_axis(300, 1.0, 1.0)


def test_regular_against_numpy():
    rng = np.random.default_rng(3)
    x = rng.normal(size=1000)
    w = rng.uniform(0.5, 2.0, 1000)
    counts, edges = np.histogram(x, bins=20, range=(-2.0, 3.0), weights=w)
    variances, _ = np.histogram(x, bins=20, range=(-2.0, 3.0), weights=w * w)
    h = regular("h", "a title", -2.0, 3.0, counts, variances, x_title="x", y_title="y")
    assert isinstance(h, hist.Hist)
    assert (h.name, h.label, h.axes[0].label, h.metadata["fYaxis.fTitle"]) == ("h", "a title", "x", "y")
    assert (axis_title(h, 0), axis_title(h, 1)) == ("x", "y")
    assert (h.ndim, h.axes[0].size) == (1, 20)
    np.testing.assert_allclose(h.axes[0].edges, edges, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(h.values(), counts)
    np.testing.assert_array_equal(h.variances(), variances)
    np.testing.assert_array_equal(h.values(flow=True)[[0, -1]], [0.0, 0.0])
    np.testing.assert_array_equal(sumw2(h), variances)
    assert h.sum().value == pytest.approx(w[(x >= -2) & (x < 3)].sum(), rel=1e-13)
    assert (root_class(h), h.metadata["fMinimum"], h.metadata["fMaximum"]) == ("TH1F", AUTO_RANGE, AUTO_RANGE)
    assert "fEntries" not in h.metadata  # written as the sum of the contents
    assert root_class(regular("h", "", 0.0, 1.0, [1.0], classname="TH1D")) == "TH1D"


def test_storage_follows_sumw2_and_flow_bins_are_optional():
    ax = hist.axis.Variable([0.0, 1.0, 3.0])
    inner = new_hist("a", "", [ax], np.array([2.0, 3.0]))
    flowed = new_hist("b", "", [ax], np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 4.0, 9.0, 16.0]))
    assert inner.storage_type is hist.storage.Double
    assert flowed.storage_type is hist.storage.Weight
    np.testing.assert_array_equal(inner.values(flow=True), [0.0, 2.0, 3.0, 0.0])
    np.testing.assert_array_equal(flowed.values(), [2.0, 3.0])
    np.testing.assert_array_equal(flowed.values(flow=True), [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(sumw2(flowed, flow=True), [1.0, 4.0, 9.0, 16.0])
    # without Sumw2 the errors are ROOT's sqrt(|content|)
    neg = new_hist("c", "", [ax], np.array([-4.0, 9.0]))
    np.testing.assert_array_equal(sumw2(neg, flow=True), [0.0, 4.0, 9.0, 0.0])


def test_two_dimensional_against_numpy():
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 2, 500), rng.uniform(-1, 1, 500)
    xe, ye = np.array([0.0, 0.5, 2.0]), np.linspace(-1, 1, 5)
    counts, _, _ = np.histogram2d(x, y, bins=(xe, ye))
    h = new_hist(
        "h2",
        "",
        [hist.axis.Variable(xe, label="x"), hist.axis.Variable(ye, label="y")],
        counts,
        counts,
        value_title="z",
    )
    assert (h.ndim, h.values().shape, root_class(h)) == (2, (2, 4), "TH2F")
    assert [axis_title(h, i) for i in range(3)] == ["x", "y", "z"]
    np.testing.assert_array_equal(h.values(), counts)
    assert h.values(flow=True).shape == (4, 6)
    assert h.values(flow=True)[1:-1, 1:-1].sum() == 500


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": np.ones(3)}, r"histogram 'bad': values has shape \(3,\); expected \(2,\) or.*\(4,\)"),
        ({"variances": np.ones(5)}, "histogram 'bad': variances has shape"),
        ({"variances": np.ones(4)}, r"values of shape \(2,\) and variances of shape \(4,\)"),
        ({"stats": (1.0, 2.0)}, r"stats need 4 numbers \(fTsumw, fTsumw2, fTsumwx, fTsumwx2\), got 2"),
        ({"classname": "TH1I"}, "classname 'TH1I' does not fit 1 axes; expected TH1F or TH1D"),
        ({"classname": "TH2F"}, "classname 'TH2F' does not fit 1 axes"),
        ({"style": {"fLineColour": 2}}, "unknown style attribute 'fLineColour'"),
        ({"axes": []}, "a TH1 or TH2 has one or two axes, got 0"),
    ],
)
def test_invalid_histograms_are_refused(kwargs, match):
    args = {"name": "bad", "title": "", "axes": [fixed_axis(2, 0.0, 2.0)], "values": np.ones(2), **kwargs}
    with pytest.raises(ValueError, match=match):
        new_hist(**args)


def test_unlabelled_axes_have_empty_titles():
    h = new_hist("h", "", [fixed_axis(2, 0.0, 1.0), fixed_axis(2, 0.0, 1.0)], np.ones((2, 2)))
    assert [ax.label for ax in h.axes] == ["", ""]
    # hist.Hist names unlabelled axes "Axis <i>" (e.g. after a copy through hist.Hist(h)); ROOT's are empty
    plain = hist.Hist(hist.axis.Regular(2, 0.0, 1.0))
    assert plain.axes[0].label == "Axis 0"
    assert axis_title(plain, 0) == ""


# --------------------------------------------------------------------------------------------------
# filling as TH1::Fill


def _events(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 1.0, n)
    y = 2 * x + rng.normal(size=n)
    w = rng.uniform(0.2, 2.0, n).astype(np.float32)
    x[:3] = [-10.0, 3.0, np.nan]  # underflow, exactly the upper edge (overflow), NaN (overflow)
    return x, y, w


def test_fill_th1_against_numpy_and_hand_sums():
    x, _, w = _events(2000, 5)
    w64 = w.astype(np.float64)
    h = fill_th1("h", "t", x, w, 25, -2.0, 3.0, x_title="x", y_title="Events")
    finite = np.isfinite(x)
    sel = finite & (x != 3.0)  # numpy's last bin is closed, ROOT's half-open
    counts, _ = np.histogram(x[sel], bins=25, range=(-2.0, 3.0), weights=w64[sel])
    np.testing.assert_allclose(h.values(), counts, rtol=1e-13)
    inside = (x >= -2.0) & (x < 3.0)
    assert h.values(flow=True)[0] == pytest.approx(w64[x < -2.0].sum(), rel=1e-13)
    assert h.values(flow=True)[-1] == pytest.approx(w64[~finite | (x >= 3.0)].sum(), rel=1e-13)
    assert h.variances(flow=True).sum() == pytest.approx(np.sum(w64 * w64), rel=1e-13)
    m = h.metadata
    assert (m["classname"], m["fEntries"]) == ("TH1F", 2000.0)
    assert m["fTsumw"] == pytest.approx(w64[inside].sum(), rel=1e-13)
    assert m["fTsumw2"] == pytest.approx((w64[inside] ** 2).sum(), rel=1e-13)
    assert m["fTsumwx"] == pytest.approx((w64 * x)[inside].sum(), rel=1e-12)
    assert m["fTsumwx2"] == pytest.approx((w64 * x * x)[inside].sum(), rel=1e-12)


def test_fill_th2_against_numpy():
    x, y, w = _events(3000, 6)
    w64 = w.astype(np.float64)
    h = fill_th2("h2", "t", x, y, w, (30, -2.0, 3.0), (20, -4.0, 6.0), x_title="x", y_title="y")
    sel = np.isfinite(x) & (x != 3.0)  # numpy's last bin is closed, ROOT's half-open
    counts, _, _ = np.histogram2d(x[sel], y[sel], bins=(30, 20), range=((-2, 3), (-4, 6)), weights=w64[sel])
    np.testing.assert_allclose(h.values(), counts, rtol=1e-12, atol=1e-12)
    assert h.values(flow=True).sum() == pytest.approx(w64.sum(), rel=1e-12)
    inside = (x >= -2) & (x < 3) & (y >= -4) & (y < 6)
    assert h.metadata["fTsumwxy"] == pytest.approx((w64 * x * y)[inside].sum(), rel=1e-12)
    assert (h.axes[0].label, h.axes[1].label, root_class(h)) == ("x", "y", "TH2F")


def test_fill_tprofile_against_hand_sums():
    x, y, w = _events(2000, 7)
    w64 = w.astype(np.float64)
    h = fill_tprofile("p", "prof", x, y, w, 10, -2.0, 3.0, x_title="x", y_title="y")
    assert h.storage_type is hist.storage.WeightedMean
    b = find_bins(x, 10, -2.0, 3.0)
    view = h.view(flow=True)
    for k in (0, 1, 5, 10, 11):
        sel = b == k
        assert view["sum_of_weights"][k] == pytest.approx(w64[sel].sum(), rel=1e-13)
        assert view["value"][k] == pytest.approx(np.average(y[sel], weights=w64[sel]), rel=1e-12)
    assert root_class(h) == "TProfile"
    assert (h.metadata["fEntries"], h.metadata["fYaxis.fTitle"]) == (2000.0, "y")


def test_profile_means_and_flow():
    # events (x, y, w): bin 1 gets (1, 2) and (3, 1); bin 2 nothing; underflow (5, 1)
    ax = hist.axis.Variable([0.0, 1.0, 2.0])
    sum_w = np.array([1.0, 3.0, 0.0, 0.0])
    sum_wy = np.array([5.0, 2.0 * 1 + 3.0 * 1, 0.0, 0.0])
    p = new_profile(
        "p", "t", ax, sum_w, sum_w, sum_wy, sum_wy, entries=3.0, stats=(3.0, 5.0, 1.0, 1.0, 5.0, 5.0)
    )
    np.testing.assert_array_equal(p.values(), [5.0 / 3.0, 0.0])
    # in-range arrays are accepted and leave the flow bins empty
    q = new_profile("q", "", ax, sum_w[1:-1], sum_w[1:-1], sum_wy[1:-1], sum_wy[1:-1])
    np.testing.assert_array_equal(q.values(), p.values())
    np.testing.assert_array_equal(q.view(flow=True)["sum_of_weights"], [0.0, 3.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="profile 'r': sum_wy has shape"):
        new_profile("r", "", ax, sum_w, sum_w, np.ones(3), sum_wy)
    with pytest.raises(ValueError, match="stats need 6 numbers"):
        new_profile("r", "", ax, sum_w, sum_w, sum_wy, sum_wy, stats=(0.0,) * 4)


def test_graph():
    g = Graph("g", "t", [0, 1], [1.0, 0.5], "eff", "rej")
    assert g.x.dtype == np.float64
    assert repr(g) == "Graph('g', 2 points)"
    with pytest.raises(ValueError, match="graph 'g': x and y must be non-empty 1-D arrays of one length"):
        Graph("g", "", [0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="non-empty"):
        Graph("g", "", [], [])


# --------------------------------------------------------------------------------------------------
# written and read back with uproot


def test_written_as_root_reads_them(tmp_path):
    x, y, w = _events(4000, 8)
    w64 = w.astype(np.float64)
    finite = np.isfinite(x)
    sel = finite & (x != 3.0)  # numpy's last bin is closed, ROOT's half-open
    lo, hi = -158.93701172906796, 13.152330518026808  # a range boost's Regular axis does not keep
    h1 = fill_th1("h1", "one", x, w, 40, -2.0, 3.0, x_title="x", y_title="Events")
    h1d = regular("h1d", "d", lo, hi, np.arange(4.0), np.arange(4.0) * 2, classname="TH1D")
    h2 = fill_th2("h2", "two", x, y, w, (30, -2.0, 3.0), (20, -4.0, 6.0), x_title="x", y_title="y")
    labels = ["a", "b", "a"]  # ROOT allows repeated bin labels
    c = new_hist(
        "c",
        "corr",
        [labelled_axis(labels), labelled_axis(labels)],
        np.arange(9.0).reshape(3, 3),
        classname="TH2F",
        entries=18.0,
        minimum=-100.0,
        maximum=100.0,
        style={"fMarkerSize": 1.5, "fMarkerColor": 0, "fXaxis.fLabelSize": 0.055, "fYaxis.fLabelSize": 0.05},
    )
    p = fill_tprofile("p", "prof", x, y, w, 10, -2.0, 3.0, x_title="x", y_title="y")
    g = Graph("g", "graph", [0.0, 1.0], [1.0, 0.0], "eff", "rej")
    path = tmp_path / "h.root"
    with OutputFile(path) as out:
        out.write_histograms("d", [h1, h1d, h2, c, p, g])
    with uproot.open(path) as f:
        assert {k: v for k, v in f.classnames().items() if k.startswith("d/")} == {
            "d/h1;1": "TH1F",
            "d/h1d;1": "TH1D",
            "d/h2;1": "TH2F",
            "d/c;1": "TH2F",
            "d/p;1": "TProfile",
            "d/g;1": "TGraph",
        }
        r1 = f["d/h1"]
        counts, edges = np.histogram(x[sel], bins=40, range=(-2.0, 3.0), weights=w64[sel])
        # TH1F: float32 contents; Sumw2 in double
        np.testing.assert_allclose(r1.values(), counts, rtol=2e-7)
        assert r1.values(flow=True)[0] == pytest.approx(w64[x < -2].sum(), rel=2e-7)
        assert r1.values(flow=True)[-1] == pytest.approx(w64[~finite | (x >= 3)].sum(), rel=2e-7)
        sumw2_inside, _ = np.histogram(x[sel], bins=40, range=(-2.0, 3.0), weights=w64[sel] ** 2)
        np.testing.assert_allclose(r1.variances(), sumw2_inside, rtol=1e-13)
        assert r1.variances(flow=True)[0] == pytest.approx(np.sum(w64[x < -2] ** 2), rel=1e-13)
        assert r1.variances(flow=True)[-1] == pytest.approx(np.sum(w64[~finite | (x >= 3)] ** 2), rel=1e-13)
        np.testing.assert_allclose(r1.axis().edges(), edges, rtol=0, atol=1e-15)
        assert len(r1.member("fXaxis").member("fXbins")) == 0  # a fixed-bin axis
        assert (r1.member("fTitle"), r1.member("fEntries"), r1.member("fMinimum")) == ("one", 4000.0, -1111.0)
        assert r1.member("fXaxis").member("fTitle") == "x"
        assert r1.member("fYaxis").member("fTitle") == "Events"
        inside = (x >= -2) & (x < 3)
        assert r1.member("fTsumw2") == pytest.approx((w64[inside] ** 2).sum(), rel=1e-13)
        # as uproot reads it back: name, label and axis labels are ours
        back = r1.to_hist()
        assert (back.name, back.label, back.axes[0].label) == (h1.name, h1.label, h1.axes[0].label)

        rd = f["d/h1d"]
        assert (rd.member("fXaxis").member("fXmin"), rd.member("fXaxis").member("fXmax")) == (lo, hi)
        np.testing.assert_array_equal(rd.values(), np.arange(4.0))
        assert rd.member("fEntries") == 6.0  # no entries given: the sum of the contents
        centres = lo + (np.arange(4) + 0.5) * ((hi - lo) / 4)
        assert rd.member("fTsumwx") == pytest.approx(float(np.sum(np.arange(4.0) * centres)), rel=1e-14)
        assert rd.member("fTsumw2") == 12.0  # Σ variances, not Σ contents

        r2 = f["d/h2"]
        counts2, _, _ = np.histogram2d(
            x[sel], y[sel], bins=(30, 20), range=((-2, 3), (-4, 6)), weights=w64[sel]
        )
        np.testing.assert_allclose(r2.values(), counts2, rtol=2e-7, atol=1e-6)
        assert r2.member("fEntries") == 4000.0

        rc = f["d/c"]
        np.testing.assert_array_equal(rc.values(), np.arange(9.0).reshape(3, 3))
        assert rc.axis(0).labels() == labels
        assert rc.axis(1).labels() == labels
        np.testing.assert_array_equal(rc.axis(0).edges(), [0.0, 1.0, 2.0, 3.0])
        assert len(rc.member("fSumw2")) == 0
        assert (rc.member("fEntries"), rc.member("fMinimum"), rc.member("fMaximum")) == (18.0, -100.0, 100.0)
        assert (rc.member("fMarkerSize"), rc.member("fMarkerColor")) == (1.5, 0)
        assert rc.member("fXaxis").member("fLabelSize") == pytest.approx(0.055)
        assert rc.member("fYaxis").member("fLabelSize") == pytest.approx(0.05)

        rp = f["d/p"]
        b = find_bins(x, 10, -2.0, 3.0)
        sum_w = np.array([w64[b == k].sum() for k in range(12)])
        sum_wy2 = np.array([np.sum((w64 * y * y)[b == k]) for k in range(12)])
        np.testing.assert_allclose(rp.member("fBinEntries"), sum_w, rtol=1e-13)
        np.testing.assert_allclose(
            rp.member("fBinSumw2"), [np.sum(w64[b == k] ** 2) for k in range(12)], rtol=1e-13
        )
        np.testing.assert_allclose(rp.member("fSumw2"), sum_wy2, rtol=1e-13)
        means = np.array([np.average(y[b == k], weights=w64[b == k]) for k in range(1, 11)])
        np.testing.assert_allclose(rp.values(), means, rtol=1e-12)
        assert (rp.member("fEntries"), rp.member("fYaxis").member("fTitle")) == (4000.0, "y")
        assert rp.member("fTsumwy") == pytest.approx((w64 * y)[inside].sum(), rel=1e-12)

        rg = f["d/g"]
        np.testing.assert_array_equal(rg.values()[1], [1.0, 0.0])
        assert rg.member("fTitle") == "graph;eff;rej"


def test_a_plain_hist_is_written_as_uproot_would(tmp_path):
    h = hist.Hist(
        hist.axis.Regular(4, 0.0, 2.0, label="x"), storage=hist.storage.Weight(), name="plain", label="T"
    )
    h.fill([0.1, 0.6, 0.6, 1.9, 5.0], weight=[1.0, 2.0, 2.0, 1.0, 3.0])
    path = tmp_path / "p.root"
    with OutputFile(path) as out:
        out.write_histogram("", h)
    with uproot.open(path) as f:
        r = f["plain"]
        assert r.classname == "TH1D"  # float64 contents, as uproot writes a hist
        np.testing.assert_array_equal(r.values(flow=True), [0.0, 1.0, 4.0, 0.0, 1.0, 3.0])
        np.testing.assert_array_equal(r.variances(flow=True), [0.0, 1.0, 8.0, 0.0, 1.0, 9.0])
        assert r.member("fEntries") == 9.0
        assert r.member("fTsumw2") == 1.0 + 8.0 + 1.0
        assert (r.member("fTitle"), r.member("fXaxis").member("fTitle")) == ("T", "x")


def test_what_cannot_be_written(tmp_path):
    ax = fixed_axis(2, 0.0, 1.0)
    with pytest.raises(ValueError, match="needs a name"):
        to_writable(hist.Hist(ax))
    with pytest.raises(ValueError, match="only 1-D and 2-D histograms"):
        to_writable(hist.Hist(ax, ax, ax, name="h3"))
    with pytest.raises(ValueError, match="a mean storage is written as a 1-D TProfile"):
        to_writable(hist.Hist(ax, ax, storage=hist.storage.WeightedMean(), name="p2"))
    h = regular("h", "", 0.0, 1.0, [1.0, 2.0])
    h.metadata["fLineColour"] = 2
    with pytest.raises(
        ValueError, match=r"metadata key 'fLineColour' is not a ROOT member.*did you mean 'fLineColor'"
    ):
        to_writable(h)
    h = regular("h", "", 0.0, 1.0, [1.0, 2.0])
    h.metadata["className"] = "TH1F"
    with pytest.raises(ValueError, match="did you mean 'classname'"):
        to_writable(h)
    h = regular("h", "", 0.0, 1.0, [1.0, 2.0])
    h.metadata["fTsumw"] = 3.0
    with pytest.raises(ValueError, match="has fTsumw but not fTsumw2, fTsumwx, fTsumwx2"):
        to_writable(h)
    h.metadata = {"experiment": "x"}  # keys that are no ROOT members are the user's own
    assert to_writable(h).classname == "TH1D"
    with OutputFile(tmp_path / "x.root") as out, pytest.raises(TypeError, match="neither a histogram"):
        out.write_histogram("", np.ones(3))  # type: ignore[arg-type]
