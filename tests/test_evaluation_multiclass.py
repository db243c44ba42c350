"""Multiclass evaluation (core.md §2.5, §5.7): 1-vs-rest against scikit-learn, confusion matrices."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from pymva.errors import DataError
from pymva.evaluation import MulticlassResult, evaluate_multiclass, roc_curve

CLASSES = ["Signal", "bg0", "bg1", "bg2"]


def softmax_sample(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cls = rng.integers(0, 4, n)
    logits = rng.normal(size=(n, 4))
    logits[np.arange(n), cls] += np.array([1.5, 1.0, 0.7, 1.2])[cls]
    out = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return out.astype(np.float32), cls.astype(np.int32), rng.uniform(0.5, 2.0, n).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> tuple[MulticlassResult, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(12)
    test = softmax_sample(rng, 20000)
    train = softmax_sample(rng, 20000)
    return evaluate_multiclass("PyTorch", "dataset", CLASSES, *test, *train), test


def test_one_vs_rest_auc_matches_sklearn(data: tuple[MulticlassResult, tuple[np.ndarray, ...]]) -> None:
    r, (out, cls, w) = data
    for k in range(4):
        ref = roc_auc_score(cls == k, out[:, k], sample_weight=w)
        assert r.test_roc_integral[k] == pytest.approx(ref, abs=1e-3)
        assert r.roc_integral(k) == r.test_roc_integral[k]
    assert r.train_roc_integral.shape == (4,)
    assert np.all(np.abs(r.train_roc_integral - r.test_roc_integral) < 0.02)


def test_one_vs_rest_efficiencies_come_from_the_roc_curve(
    data: tuple[MulticlassResult, tuple[np.ndarray, ...]],
) -> None:
    r, (out, cls, w) = data
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
        assert r.test_eff_at_10[k] == pytest.approx(eff, abs=0.01)


def test_confusion_matrices(data: tuple[MulticlassResult, tuple[np.ndarray, ...]]) -> None:
    r, (out, cls, w) = data
    assert set(r.confusion_test) == {0.01, 0.10, 0.30}
    for b in (0.01, 0.10, 0.30):
        m = r.confusion_test[b]
        assert m.shape == (4, 4)
        assert np.all(np.isnan(np.diag(m)))
    # cell (row 1, column 3): output 1, class 1 as signal against class 3 only
    sel = (cls == 1) | (cls == 3)
    expected = roc_curve(out[sel, 1], w[sel], cls[sel] == 1).eff_s_for_eff_b(0.10)
    assert r.confusion_test[0.10][1, 3] == expected
    assert r.confusion_train[0.10][1, 3] != expected


def test_histograms_and_graphs(data: tuple[MulticlassResult, tuple[np.ndarray, ...]]) -> None:
    r, (out, cls, w) = data
    assert len(r.histograms) == 2 * 16
    h = r.histograms["MVA_PyTorch_Test_bg1_prob_for_Signal"]  # output bg1 for Signal events
    assert h.nbins == 40
    assert h.edges[0] == float(np.float32(-0.0002))
    assert h.edges[-1] == float(np.float32(1.0002))
    assert h.integral(width=True) == pytest.approx(1.0, rel=1e-12)
    assert h.root_type == "TH1F"
    counts, _ = np.histogram(out[cls == 0, 2], bins=h.edges, weights=w[cls == 0].astype(np.float64))
    np.testing.assert_allclose(h.counts / h.counts.sum(), counts / counts.sum(), rtol=1e-9)
    assert "MVA_PyTorch_Train_Signal_prob_for_bg2" in r.histograms
    g = r.graphs["MVA_PyTorch_Test_rejBvsS_bg0"]
    assert g.title == "MVA_PyTorch_Test_bg0"
    np.testing.assert_array_equal(g.x, r.test_roc_curves[1].sensitivity)
    assert "MVA_PyTorch_Train_1v1rejBvsS_Signal_vs_bg2" in r.graphs
    assert len(r.graphs) == 2 * (4 + 12)


def test_html_and_plot(data: tuple[MulticlassResult, tuple[np.ndarray, ...]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r, _ = data
    assert "bg2" in r._repr_html_()
    ax = r.plot()
    assert len(ax.get_lines()) == 4
    plt.close("all")


def test_bad_inputs() -> None:
    out = np.full((3, 2), 0.5)
    w = np.ones(3)
    with pytest.raises(DataError, match="class ids"):
        evaluate_multiclass("T", "ds", ["a", "b"], out, [0, 1, 2], w, out, [0, 1, 1], w)
    with pytest.raises(DataError, match="3 classes"):
        evaluate_multiclass("T", "ds", ["a", "b", "c"], out, [0, 1, 2], w, out, [0, 1, 1], w)
    with pytest.raises(DataError, match="at least two"):
        evaluate_multiclass("T", "ds", ["a"], out[:, :1], [0, 0, 0], w, out[:, :1], [0, 0, 0], w)
