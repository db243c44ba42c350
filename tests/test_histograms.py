"""The histogram containers (pymva.histograms) against numpy's histograms and hand computations."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import uproot

from pymva.histograms import Graph, Histogram, Profile, bin_edges, find_bins
from pymva.io.output.writer import OutputFile


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


def test_regular_1d_against_numpy():
    rng = np.random.default_rng(3)
    x = rng.normal(size=1000)
    w = rng.uniform(0.5, 2.0, 1000)
    counts, edges = np.histogram(x, bins=20, range=(-2.0, 3.0), weights=w)
    sumw2, _ = np.histogram(x, bins=20, range=(-2.0, 3.0), weights=w * w)
    h = Histogram.regular("h", "a title", -2.0, 3.0, counts, sumw2, x_title="x", y_title="y")
    assert (h.name, h.title, h.x_title, h.y_title) == ("h", "a title", "x", "y")
    assert (h.ndim, h.shape, h.nbins) == (1, (20,), 20)
    np.testing.assert_allclose(h.edges, edges, rtol=0, atol=1e-15)
    np.testing.assert_allclose(h.centers, 0.5 * (edges[1:] + edges[:-1]), rtol=0, atol=1e-15)
    np.testing.assert_allclose(h.widths, 0.25, rtol=1e-13)
    np.testing.assert_array_equal(h.errors, np.sqrt(sumw2))
    assert h.integral() == pytest.approx(w[(x >= -2) & (x < 3)].sum(), rel=1e-13)
    assert h.integral(width=True) == pytest.approx(0.25 * h.integral(), rel=1e-13)
    c, e = h.to_numpy()
    np.testing.assert_array_equal(c, counts)
    assert e is h.edges
    assert h.root_type == "TH1F"
    assert Histogram.regular("h", "", 0.0, 1.0, [1.0], precision="D").root_type == "TH1D"


def test_flow_bins_are_optional():
    edges = np.array([0.0, 1.0, 3.0])
    inner = Histogram("a", "", edges, np.array([2.0, 3.0]))
    flowed = Histogram("b", "", edges, np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 4.0, 9.0, 16.0]))
    np.testing.assert_array_equal(inner.values(flow=True), [0.0, 2.0, 3.0, 0.0])
    np.testing.assert_array_equal(flowed.values(), [2.0, 3.0])
    np.testing.assert_array_equal(flowed.values(flow=True), [1.0, 2.0, 3.0, 4.0])
    assert (inner.sum(), inner.sum(flow=True)) == (5.0, 5.0)
    assert (flowed.sum(), flowed.sum(flow=True)) == (5.0, 10.0)
    assert flowed.integral() == 5.0
    assert flowed.integral(width=True) == 2.0 * 1 + 3.0 * 2
    np.testing.assert_array_equal(flowed.sumw2(), [4.0, 9.0])
    np.testing.assert_array_equal(flowed.errors, [2.0, 3.0])
    # without Sumw2 the errors are ROOT's sqrt(|content|)
    neg = Histogram("c", "", edges, np.array([-4.0, 9.0]))
    np.testing.assert_array_equal(neg.sumw2(flow=True), [0.0, 4.0, 9.0, 0.0])
    np.testing.assert_array_equal(neg.errors, [2.0, 3.0])
    assert flowed.to_numpy()[0].shape == (2,)


def test_two_dimensional_against_numpy():
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 2, 500), rng.uniform(-1, 1, 500)
    xe, ye = np.array([0.0, 0.5, 2.0]), np.linspace(-1, 1, 5)
    counts, _, _ = np.histogram2d(x, y, bins=(xe, ye))
    h = Histogram("h2", "", xe, counts, counts, "x", "y", y_edges=ye, z_title="z")
    assert (h.ndim, h.shape, h.nbins, h.root_type) == (2, (2, 4), 2, "TH2F")
    assert h.x_edges is h.edges
    assert h.integral() == 500
    areas = np.outer(np.diff(xe), np.diff(ye))
    assert h.integral(width=True) == pytest.approx(float(np.sum(counts * areas)), rel=1e-14)
    c, e1, e2 = h.to_numpy()
    np.testing.assert_array_equal(c, counts)
    assert (e1 is h.edges, e2 is h.y_edges) == (True, True)
    assert h.values(flow=True).shape == (4, 6)
    assert h.values(flow=True)[1:-1, 1:-1].sum() == 500
    assert repr(h) == "Histogram('h2', 2x4 bins on [0, 2]x[-1, 1], integral=500, TH2F)"


def test_inputs_become_float64_arrays_and_histograms_are_frozen():
    h = Histogram("h", "", [0, 1, 2], [1, 2], [1, 4])
    assert h.edges.dtype == h.counts.dtype == np.float64
    assert h.variances is not None
    assert h.variances.dtype == np.float64
    a = np.array([1.0, 2.0])
    assert Histogram("h", "", np.array([0.0, 1.0, 2.0]), a).counts is a  # no copy
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.name = "other"  # type: ignore[misc]
    assert repr(h) == "Histogram('h', 2 bins on [0, 2], integral=3, TH1F)"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"counts": np.ones(3)}, r"histogram 'bad': counts has shape \(3,\); expected \(2,\) or.*\(4,\)"),
        ({"variances": np.ones(5)}, "histogram 'bad': variances has shape"),
        ({"edges": np.array([0.0])}, "histogram 'bad': edges must be a 1-D array of at least two"),
        ({"x_labels": ["a"]}, "1 x bin labels for an axis with 2 bins"),
        ({"y_labels": ["a", "b"]}, "y bin labels need a 2-D histogram"),
        ({"stats": (1.0, 2.0)}, "1-D stats need 4 numbers, got 2"),
        ({"precision": "I"}, "precision must be 'F' or 'D', not 'I'"),
        ({"y_edges": np.array([0.0, 1.0])}, r"counts has shape \(2,\); expected \(2, 1\)"),
    ],
)
def test_invalid_histograms_are_refused(kwargs, match):
    args = {"name": "bad", "title": "", "edges": np.array([0.0, 1.0, 2.0]), "counts": np.ones(2), **kwargs}
    with pytest.raises(ValueError, match=match):
        Histogram(**args)


def test_profile_means_and_flow():
    # events (x, y, w): bin 1 gets (1, 2) and (3, 1); bin 2 nothing; underflow (5, 1)
    edges = np.array([0.0, 1.0, 2.0])
    sum_w = np.array([1.0, 3.0, 0.0, 0.0])
    sum_wy = np.array([5.0, 2.0 * 1 + 3.0 * 1, 0.0, 0.0])
    p = Profile("p", "t", edges, sum_w, sum_w, sum_wy, sum_wy, 3.0, (3.0, 5.0, 1.0, 1.0, 5.0, 5.0), "x", "y")
    np.testing.assert_array_equal(p.means(), [5.0 / 3.0, 0.0])
    assert p.nbins == 2
    np.testing.assert_array_equal(p.centers, [0.5, 1.5])
    # in-range arrays are accepted and padded with empty flow bins
    q = Profile("q", "", edges, sum_w[1:-1], sum_w[1:-1], sum_wy[1:-1], sum_wy[1:-1], 3.0, (0.0,) * 6)
    np.testing.assert_array_equal(q.means(), p.means())
    np.testing.assert_array_equal(q.sums()[0], [0.0, 3.0, 0.0, 0.0])
    assert repr(p) == "Profile('p', 2 bins on [0, 2], entries=3)"
    with pytest.raises(ValueError, match="profile 'r': sum_wy has shape"):
        Profile("r", "", edges, sum_w, sum_w, np.ones(3), sum_wy, 3.0, (0.0,) * 6)
    with pytest.raises(ValueError, match="stats need 6 numbers"):
        Profile("r", "", edges, sum_w, sum_w, sum_wy, sum_wy, 3.0, (0.0,) * 4)  # type: ignore[arg-type]


def test_graph():
    g = Graph("g", "t", [0, 1], [1.0, 0.5], "eff", "rej")
    assert g.x.dtype == np.float64
    assert repr(g) == "Graph('g', 2 points)"
    with pytest.raises(ValueError, match="graph 'g': x and y must be non-empty 1-D arrays of one length"):
        Graph("g", "", [0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="non-empty"):
        Graph("g", "", [], [])


def test_written_as_root_reads_them(tmp_path):
    edges = np.array([0.0, 1.0, 3.0])
    h1 = Histogram("h1", "one", edges, np.array([2.0, 3.0]), np.array([4.0, 5.0]), "x", "y", precision="D")
    h2 = Histogram(
        "h2",
        "two",
        edges,
        np.arange(16, dtype=np.float64).reshape(4, 4),
        y_edges=edges,
        x_labels=["a", "b"],
        y_labels=["c", "d"],
        entries=7.0,
        minimum=-1.0,
        maximum=20.0,
    )
    p = Profile("p", "prof", edges, np.ones(4), np.ones(4), np.arange(4.0), np.arange(4.0), 4.0, (1.0,) * 6)
    g = Graph("g", "graph", [0.0, 1.0], [1.0, 0.0], "eff", "rej")
    path = tmp_path / "h.root"
    with OutputFile(path) as out:
        out.write_histograms("d", [h1, h2, p, g])
    with uproot.open(path) as f:
        assert {k: f.classnames()[k] for k in ("d/h1;1", "d/h2;1", "d/p;1", "d/g;1")} == {
            "d/h1;1": "TH1D",
            "d/h2;1": "TH2F",
            "d/p;1": "TProfile",
            "d/g;1": "TGraph",
        }
        r1 = f["d/h1"]
        np.testing.assert_array_equal(r1.values(flow=True), [0.0, 2.0, 3.0, 0.0])
        np.testing.assert_array_equal(r1.variances(), [4.0, 5.0])
        np.testing.assert_array_equal(r1.axis().edges(), edges)  # variable bins
        assert r1.member("fEntries") == 5.0  # sum of the contents when entries is None
        assert r1.member("fTsumwx") == 2.0 * 0.5 + 3.0 * 2.0
        r2 = f["d/h2"]
        np.testing.assert_array_equal(r2.values(flow=True), np.arange(16).reshape(4, 4))
        assert r2.axis(0).labels() == ["a", "b"]
        assert r2.axis(1).labels() == ["c", "d"]
        assert (r2.member("fEntries"), r2.member("fMinimum"), r2.member("fMaximum")) == (7.0, -1.0, 20.0)
        np.testing.assert_array_equal(f["d/p"].member("fBinEntries"), np.ones(4))
        np.testing.assert_array_equal(f["d/g"].values()[1], [1.0, 0.0])


def test_writing_needs_increasing_edges(tmp_path):
    h = Histogram("h", "", np.array([0.0, 2.0, 1.0]), np.ones(2))  # a valid container, not a valid TAxis
    with (
        OutputFile(tmp_path / "h.root") as out,
        pytest.raises(ValueError, match="histogram 'h': xaxis bin edges"),
    ):
        out.write_histogram("", h)
