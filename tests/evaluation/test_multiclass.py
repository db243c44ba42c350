"""Multiclass evaluation (core.md §2.5, §5.7): 1-vs-rest against scikit-learn, confusion matrices."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from pymva.errors import DataError
from pymva.evaluation import MulticlassResult, evaluate_multiclass, roc_curve

CLASSES = ["Signal", "bg0", "bg1", "bg2"]
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]
Data = tuple[MulticlassResult, Arrays, Arrays]


def softmax_sample(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cls = rng.integers(0, 4, n)
    logits = rng.normal(size=(n, 4))
    logits[np.arange(n), cls] += np.array([1.5, 1.0, 0.7, 1.2])[cls]
    out = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return out.astype(np.float32), cls.astype(np.int32), rng.uniform(0.5, 2.0, n).astype(np.float32)


def tmva_roc_integral(values: np.ndarray, weights: np.ndarray, is_signal: np.ndarray) -> float:
    """TMVA's ROCCurve::GetROCIntegral (core.md §5.1) written out with numpy: events sorted by value,
    TP_k = signal weight at index >= k, TN_k = background weight at index <= k, trapezoids."""
    order = np.argsort(values, kind="stable")
    w = np.asarray(weights, np.float64)[order]
    s = np.asarray(is_signal, bool)[order]
    tp = np.cumsum(np.where(s, w, 0.0)[::-1])[::-1]
    tn = np.cumsum(np.where(s, 0.0, w))
    sens = np.r_[1.0, tp / w[s].sum(), 0.0]
    spec = np.r_[0.0, tn / w[~s].sum(), 1.0]
    return float(np.sum(0.5 * (sens[:-1] - sens[1:]) * (spec[:-1] + spec[1:])))


def sklearn_eff_s_at(values: np.ndarray, is_signal: np.ndarray, w: np.ndarray, eff_b: float) -> float:
    """Signal efficiency at a background efficiency, interpolated on scikit-learn's weighted ROC curve."""
    fpr, tpr, _ = sk_roc_curve(is_signal, values, sample_weight=w, drop_intermediate=False)
    return float(np.interp(eff_b, fpr, tpr))


@pytest.fixture(scope="module")
def data() -> Data:
    rng = np.random.default_rng(12)
    test = softmax_sample(rng, 20000)
    train = softmax_sample(rng, 20000)
    return evaluate_multiclass("PyTorch", "dataset", CLASSES, *test, *train), test, train


def test_one_vs_rest_auc_matches_sklearn(data: Data) -> None:
    r, (out, cls, w), train = data
    for k in range(4):
        ref = roc_auc_score(cls == k, out[:, k], sample_weight=w)
        # TMVA's trapezoids count an event's own weight on both sides: O(1/n) above Mann-Whitney
        assert r.test_roc_integral[k] == pytest.approx(ref, abs=1e-4)
        assert r.test_roc_integral[k] == pytest.approx(tmva_roc_integral(out[:, k], w, cls == k), abs=1e-12)
        assert r.roc_integral(k) == r.test_roc_integral[k]
    assert r.train_roc_integral.shape == (4,)
    t_out, t_cls, t_w = train
    for k in range(4):
        expected = tmva_roc_integral(t_out[:, k], t_w, t_cls == k)
        assert r.train_roc_integral[k] == pytest.approx(expected, abs=1e-12)


def test_one_vs_rest_efficiencies_come_from_the_roc_curve(
    data: Data,
) -> None:
    r, (out, cls, w), train = data
    for k in range(4):
        curve = roc_curve(out[:, k], w, cls == k)
        assert r.test_eff_at_10[k] == curve.eff_s_for_eff_b(0.10)
        assert r.eff_at(0.3)[k] == curve.eff_s_for_eff_b(0.30)
        # independent estimate: the weighted 90% quantile of the background output, then the
        # signal weight above it
        bkg = cls != k
        order = np.argsort(out[bkg, k])
        cw = np.cumsum(w[bkg][order]) / w[bkg].sum()
        cut = out[bkg, k][order][np.searchsorted(cw, 0.90)]
        eff = w[(cls == k) & (out[:, k] > cut)].sum() / w[cls == k].sum()
        assert r.test_eff_at_10[k] == pytest.approx(eff, abs=1e-3)
        assert r.test_eff_at_30[k] == pytest.approx(sklearn_eff_s_at(out[:, k], cls == k, w, 0.30), abs=1e-3)
        t_out, t_cls, t_w = train
        expected_train = sklearn_eff_s_at(t_out[:, k], t_cls == k, t_w, 0.10)
        assert r.train_eff_at_10[k] == pytest.approx(expected_train, abs=1e-3)


def test_confusion_matrices(data: Data) -> None:
    r, (out, cls, w), train = data
    assert set(r.confusion_test) == {0.01, 0.10, 0.30}
    for b in (0.01, 0.10, 0.30):
        m = r.confusion_test[b]
        assert m.shape == (4, 4)
        assert np.all(np.isnan(np.diag(m)))
    # cell (row i, column j): output i, class i as signal against class j only (core.md §2.5), checked
    # against scikit-learn's weighted ROC curve on the two-class events, for every cell and sample
    t_out, t_cls, t_w = train
    for b in (0.01, 0.10, 0.30):
        for i in range(4):
            for j in range(4):
                if i == j:
                    continue
                for (o, c, ww), matrix in (
                    ((out, cls, w), r.confusion_test),
                    ((t_out, t_cls, t_w), r.confusion_train),
                ):
                    sel = (c == i) | (c == j)
                    expected = sklearn_eff_s_at(o[sel, i], c[sel] == i, ww[sel], b)
                    assert matrix[b][i, j] == pytest.approx(expected, abs=1e-3), (b, i, j)
    # and exactly TMVA's ROCCurve::GetEffSForEffB on those events
    sel = (cls == 1) | (cls == 3)
    assert r.confusion_test[0.10][1, 3] == roc_curve(out[sel, 1], w[sel], cls[sel] == 1).eff_s_for_eff_b(0.10)


def test_histograms_and_graphs(data: Data) -> None:
    r, (out, cls, w), _ = data
    assert len(r.histograms) == 2 * 16
    h = r.histograms["MVA_PyTorch_Test_bg1_prob_for_Signal"]  # output bg1 for Signal events
    assert h.axes[0].size == 40
    assert h.axes[0].edges[0] == float(np.float32(-0.0002))
    assert h.axes[0].edges[-1] == float(np.float32(1.0002))
    assert np.sum(h.values() * h.axes[0].widths) == pytest.approx(1.0, rel=1e-12)
    assert h.metadata["classname"] == "TH1F"
    counts, _ = np.histogram(out[cls == 0, 2], bins=h.axes[0].edges, weights=w[cls == 0].astype(np.float64))
    np.testing.assert_allclose(h.values() / h.values().sum(), counts / counts.sum(), rtol=1e-9)
    assert "MVA_PyTorch_Train_Signal_prob_for_bg2" in r.histograms
    g = r.graphs["MVA_PyTorch_Test_rejBvsS_bg0"]
    assert g.title == "MVA_PyTorch_Test_bg0"
    np.testing.assert_array_equal(g.x, r.test_roc_curves[1].sensitivity)
    assert "MVA_PyTorch_Train_1v1rejBvsS_Signal_vs_bg2" in r.graphs
    assert len(r.graphs) == 2 * (4 + 12)


def test_html_and_plot(data: Data) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r, _, _ = data
    assert "bg2" in r._repr_html_()
    before = plt.get_fignums()
    fig = r.plot()
    assert plt.get_fignums() == before  # not held by pyplot: shown once in Jupyter
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 4
    assert ax.get_title().startswith("Signal efficiency vs. Background rejection (")


def test_bad_inputs() -> None:
    out = np.full((3, 2), 0.5)
    w = np.ones(3)
    with pytest.raises(DataError, match="class ids"):
        evaluate_multiclass("T", "ds", ["a", "b"], out, [0, 1, 2], w, out, [0, 1, 1], w)
    with pytest.raises(DataError, match="3 classes"):
        evaluate_multiclass("T", "ds", ["a", "b", "c"], out, [0, 1, 2], w, out, [0, 1, 1], w)
    with pytest.raises(DataError, match="at least two"):
        evaluate_multiclass("T", "ds", ["a"], out[:, :1], [0, 0, 0], w, out[:, :1], [0, 0, 0], w)
