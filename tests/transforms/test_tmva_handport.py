"""Gauss, Uniform and PCA against a hand-port of TMVA's procedure, on skewed, multi-modal data.

The port below follows the C++ statement by statement, in plain loops, and is independent of
pymva's vectorised code; where TMVA calls ROOT it calls real ROOT (the ``ROOT`` fixture):

* ``VariableGaussTransform::GetCumulativeDist``: (value, weight) pairs sorted stably by value, the
  binning walk with float32 sums (``sumPerBin = max(10·min weight, Σw/2000)``, first edge
  ``first − 1e-4``), a ``TH1F`` with those edges filled with the weights, ``TH1::Smooth()``, the
  running sum of its positive contents over their total written back into the bins;
* ``PDF(…, kSpline1, 0, 0)``: ``TGraph(hist)`` (bin centres, contents), ``TMVA::TSpline1::Eval``
  (``TMath::BinarySearch``, linear inter- and extrapolation), ``FillSplineToHist`` into a 10000-bin
  ``TH1F`` on the histogram's range (values ≤ 1e-12 replaced by the coarse bin's content, then at
  least 1e-12), and ``PDF::GetVal`` (``FindBin``, the neighbour-bin rule, at least 1e-12);
* ``VariableGaussTransform::Transform``: the cumulant clipped to [1e-9, 1 − 1e-9]; Uniform returns
  it, Gauss ``1.414213562·TMath::ErfInverse(2c − 1)`` with the argument clipped to ±0.99999999;
  the results go into a ``std::vector<Float_t>``;
* ``VariablePCATransform::CalculatePrincipalComponents``: a ``TPrincipal(n, "")`` per class and one for
  all events, fed the float32 inputs as doubles (``AddRow``), ``MakePrincipals``, then ``X2P``:
  ``p_i = Σ_j (x_j − m_j)·E_ji`` stored as float32.

The weights are multiples of 1/16, so that every sum of them is exact in float32 and float64: pymva
accumulates weights in float64 where TMVA uses float32 (a documented difference), which this test
is not about.  The data mix a gamma, a narrow normal peak and a log-normal tail, with one variable
on a coarse grid (many ties, the binning's ``ev_value > lastev_value`` protection).
"""

from __future__ import annotations

import array
import bisect
from typing import Any

import numpy as np
import pytest

from pymva.transforms import PCA, Gauss, InputRef, Uniform
from tolerances import EPS32, EPS64

N_PER_CLASS = 1500


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20261204)
    n = 2 * N_PER_CLASS
    cls = np.repeat([0, 1], N_PER_CLASS).astype(np.int32)
    rng.shuffle(cls)
    pick = rng.integers(0, 3, n)
    skewed = np.where(
        pick == 0,
        rng.gamma(2.0, 1.5, n),
        np.where(pick == 1, rng.normal(8.0, 0.3, n), rng.lognormal(1.5, 0.6, n)),
    )
    skewed += 2.5 * cls
    bimodal = np.where(rng.random(n) < 0.35, rng.normal(-4.0, 0.5, n), rng.exponential(2.0, n)) - cls
    gridded = np.round(rng.gamma(1.5 + cls, 2.0, n) * 4.0) / 4.0  # values on a 0.25 grid: ties
    X = np.column_stack([skewed, bimodal, gridded]).astype(np.float32)
    # class 0: weights 1/16 … 2 (Σw/2000 decides the bin content), class 1: 1/2 … 3/2 (10·min weight)
    w0 = rng.integers(1, 33, n) / 16.0
    w1 = rng.integers(8, 25, n) / 16.0
    w = np.where(cls == 0, w0, w1).astype(np.float32)
    return X, w, cls


# --------------------------------------------------------------------------------------------------
# the hand-port of TMVA's Gauss/Uniform transformation


class _TmvaCumulativePdf:
    """One ``PDF`` of ``VariableGaussTransform``, built as ``GetCumulativeDist`` builds it."""

    _count = 0

    def __init__(
        self, ROOT: Any, values: list[float], weights: list[float], min_w: float, sum_w: float
    ) -> None:
        f32 = np.float32
        _TmvaCumulativePdf._count += 1
        tag = _TmvaCumulativePdf._count
        pairs = sorted(zip(values, weights, strict=True), key=lambda p: p[0])  # stable, as list::sort
        sum_per_bin = f32(f32(sum_w) / f32(2000))
        sum_per_bin = max(f32(f32(min_w) * f32(10)), sum_per_bin)
        total = f32(0)
        ev_value = f32(pairs[0][0])
        last = ev_value
        edges = [f32(ev_value - f32(1.0e-4)), ev_value]
        for value, weight in pairs:
            total = f32(total + f32(weight))
            if total >= sum_per_bin:
                ev_value = f32(value)
                if ev_value > last:
                    edges.append(ev_value)
                    total = f32(0)
                    last = ev_value
        if total != 0:
            edges.append(f32(pairs[-1][0]))
        self.edges = np.array(edges, np.float32)
        hist = ROOT.TH1F(f"cum{tag}", "", len(edges) - 1, array.array("f", edges))
        for value, weight in zip(values, weights, strict=True):  # event order
            hist.Fill(float(value), float(weight))
        hist.Smooth()
        nb = hist.GetNbinsX()
        positive_total = 0.0
        for b in range(1, nb + 1):
            val = float(f32(hist.GetBinContent(b)))
            if val > 0:
                positive_total += val
        running = 0.0
        for b in range(1, nb + 1):
            val = float(f32(hist.GetBinContent(b)))
            if val > 0:
                running += val
            hist.SetBinContent(b, running / positive_total)
        self.cumulative = np.array([hist.GetBinContent(b) for b in range(1, nb + 1)])
        # PDF::BuildSplinePDF with kSpline1 and no smoothing: TGraph(hist), TSpline1, FillSplineToHist
        graph = ROOT.TGraph(hist)
        self._gx = [graph.GetX()[i] for i in range(graph.GetN())]
        self._gy = [graph.GetY()[i] for i in range(graph.GetN())]
        axis = hist.GetXaxis()
        self.fine = ROOT.TH1F(f"fine{tag}", "", 10000, axis.GetXmin(), axis.GetXmax())
        for b in range(1, 10001):
            x = self.fine.GetBinCenter(b)
            y = self._spline1(x)
            if y <= 1.0e-12:
                y = hist.GetBinContent(hist.FindBin(x))
            self.fine.SetBinContent(b, max(y, 1.0e-12))
        self.fine_contents = np.array([self.fine.GetBinContent(b) for b in range(1, 10001)])
        self._hist = hist  # keep it alive with the graph

    def _spline1(self, x: float) -> float:
        """``TMVA::TSpline1::Eval``."""
        xs, ys = self._gx, self._gy
        n = len(xs)
        ibin = bisect.bisect_right(xs, x) - 1  # TMath::BinarySearch: last index with xs[i] <= x
        ibin = min(max(ibin, 0), n - 1)
        nextbin = ibin + 1 if (x > xs[ibin] and ibin != n - 1) or ibin == 0 else ibin - 1
        dx = xs[ibin] - xs[nextbin]
        dy = ys[ibin] - ys[nextbin]
        return ys[ibin] + (x - xs[ibin]) * dy / dx

    def get_val(self, x: float) -> float:
        """``PDF::GetVal``."""
        h = self.fine
        nb = h.GetNbinsX()
        b = min(max(h.FindBin(x), 1), nb)
        nextbin = b + 1 if (x > h.GetBinCenter(b) and b != nb) or b == 1 else b - 1
        dx = h.GetBinCenter(b) - h.GetBinCenter(nextbin)
        dy = h.GetBinContent(b) - h.GetBinContent(nextbin)
        return max(h.GetBinContent(b) + (x - h.GetBinCenter(b)) * dy / dx, 1.0e-12)


def _tmva_gauss_sets(
    ROOT: Any, X: np.ndarray, w: np.ndarray, cls: np.ndarray
) -> list[list[_TmvaCumulativePdf]]:
    """The PDFs per set (class 0, class 1, all classes) and variable."""
    sets: list[list[_TmvaCumulativePdf]] = []
    for members in (cls == 0, cls == 1, np.ones(len(cls), bool)):
        idx = np.flatnonzero(members)
        if members.all():  # the all-classes set takes the smallest weight of the classes
            min_w = min(float(w[cls == 0].min()), float(w[cls == 1].min()))
        else:
            min_w = float(w[idx].min())
        sum_w = np.float32(0)
        for i in idx:  # Float_t sumOfWeights
            sum_w = np.float32(sum_w + w[i])
        sets.append(
            [
                _TmvaCumulativePdf(ROOT, X[idx, j].tolist(), w[idx].tolist(), min_w, float(sum_w))
                for j in range(X.shape[1])
            ]
        )
    return sets


def _tmva_transform(ROOT: Any, pdf: _TmvaCumulativePdf, x: float, flat: bool) -> float:
    cumulant = pdf.get_val(x)
    cumulant = min(cumulant, 1.0 - 10e-10)
    cumulant = max(cumulant, 0.0 + 10e-10)
    if flat:
        return float(np.float32(cumulant))
    arg = 2.0 * cumulant - 1.0
    arg = max(min(arg, 0.99999999), -0.99999999)
    return float(np.float32(1.414213562 * ROOT.TMath.ErfInverse(arg)))


@pytest.fixture(scope="module")
def gauss_port(ROOT: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[_TmvaCumulativePdf]]]:
    ROOT.TH1.AddDirectory(False)
    X, w, cls = _data()
    return X, w, cls, _tmva_gauss_sets(ROOT, X, w, cls)


def test_gauss_cumulative_histograms_as_tmva_builds_them(gauss_port: Any) -> None:
    """Edges, smoothed cumulative contents and the 10000-bin reference histogram, bin for bin."""
    X, w, cls, port = gauss_port
    t = Gauss([InputRef("v", j) for j in range(3)], n_classes=2)
    t.fit(X, w, cls)
    for s in range(3):
        for j in range(3):
            mine, ref = t.params_[s][j], port[s][j]
            np.testing.assert_array_equal(
                mine.edges, ref.edges.astype(np.float64), err_msg=f"set {s} var {j}"
            )
            # both are float32 numbers made from the same float64 running sums: equal
            np.testing.assert_array_equal(mine.contents, ref.cumulative, err_msg=f"set {s} var {j}")
            # the spline sampled in float64 on the same centres, stored as float32: one float32 rounding
            # apart at most (ROOT's bin centres and pymva's differ in the last bits of a double)
            np.testing.assert_allclose(
                mine.fine, ref.fine_contents, rtol=EPS32, atol=0, err_msg=f"set {s} var {j}"
            )
    # the ties of the gridded variable leave fewer, wider bins; the smooth variables get ~Σw/sumPerBin
    assert len(port[2][2].edges) < len(port[2][0].edges) / 2


@pytest.mark.parametrize("kind", [Gauss, Uniform])
def test_gauss_and_uniform_outputs_equal_the_hand_port(ROOT: Any, gauss_port: Any, kind: type[Gauss]) -> None:
    X, w, cls, port = gauss_port
    t = kind([InputRef("v", j) for j in range(3)], n_classes=2)
    t.fit(X, w, cls)
    flat = kind is Uniform
    # the training values and points beyond both ends (the linear extrapolation, then the clipping)
    lo, hi = X.min(axis=0), X.max(axis=0)
    outside = np.array([lo - 3.0, lo - 1e-3, hi + 1e-3, hi + 5.0], np.float32)
    points = np.concatenate([X[::5], outside]).astype(np.float32)
    for s in range(3):
        got = t.forward(points, class_index=s)
        ref = np.array(
            [[_tmva_transform(ROOT, port[s][j], float(p[j]), flat) for j in range(3)] for p in points],
            np.float32,
        )
        # the same cumulant up to the last bits of a double, rounded once to float32 (one ulp); for Gauss
        # scipy's and ROOT's inverse error functions agree to ~1e-15 relative, well inside that
        np.testing.assert_allclose(got, ref, rtol=EPS32, atol=1e-12, err_msg=f"set {s}")
        # the clipping: below the range the smallest cumulant, above it the largest
        top = 1.0 - 1e-9 if flat else 1.414213562 * float(ROOT.TMath.ErfInverse(0.99999999))
        bottom = 1e-9 if flat else -top
        np.testing.assert_allclose(got[-1], top, rtol=EPS32)
        np.testing.assert_allclose(got[-4], bottom, rtol=EPS32)


# --------------------------------------------------------------------------------------------------
# PCA: TPrincipal


def test_pca_equals_tprincipal_per_class_and_for_all(ROOT: Any) -> None:
    X, w, cls = _data()
    X = X.copy()
    X[:, 2] += 0.4 * X[:, 0] - 0.2 * X[:, 1]  # correlated inputs
    t = PCA([InputRef("v", j) for j in range(3)], n_classes=2)
    t.fit(X, w, cls)
    for s, members in enumerate((cls == 0, cls == 1, np.ones(len(cls), bool))):
        rows = X[members]
        principal = ROOT.TPrincipal(3, "")
        for row in rows:
            principal.AddRow(array.array("d", [float(v) for v in row]))
        principal.MakePrincipals()
        mean_ref = np.array([principal.GetMeanValues()[j] for j in range(3)])
        vec_ref = np.array([[principal.GetEigenVectors()(i, j) for j in range(3)] for i in range(3)])
        lam = np.array([principal.GetEigenValues()[j] for j in range(3)])
        mean, vec = t.params_[s]
        # TPrincipal's running sums against numpy's: a few eps64 of the values' scale
        scale = np.abs(rows).max(axis=0)
        assert np.all(np.abs(mean - mean_ref) <= 64 * EPS64 * scale), mean - mean_ref
        # the eigenvectors up to the sign ROOT's solver leaves to chance (pymva fixes it: docs/transforms.md);
        # two float64 solvers agree to ~eps64·λ_max/gap per component (Davis-Kahan), times 100 for the sums
        gaps = np.array([np.min(np.abs(np.delete(lam, i) - lam[i])) for i in range(3)])
        signs = np.sign(np.sum(vec * vec_ref, axis=0))
        assert np.all(np.abs(signs) == 1)
        np.testing.assert_allclose(
            vec * signs, vec_ref, rtol=0, atol=float(np.max(100 * EPS64 * lam.max() / gaps))
        )
        # X2P on every event of the set (and on the others: the set is applied to any event)
        ref = np.empty(X.shape, np.float64)
        for e, x in enumerate(X):
            for i in range(3):
                pv = 0.0
                for j in range(3):
                    pv += (float(x[j]) - mean_ref[j]) * vec_ref[j, i]
                ref[e, i] = pv
        got = t.forward(X, class_index=s).astype(np.float64) * signs
        centred = np.abs(X - mean_ref).sum(axis=1, keepdims=True)
        atol = EPS32 * np.abs(ref) + centred * 100 * EPS64 * lam.max() / gaps + 64 * EPS64 * scale.sum()
        assert np.all(np.abs(got - ref) <= atol), float(np.max(np.abs(got - ref) / atol))
