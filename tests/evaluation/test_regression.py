"""Regression evaluation (core.md §5.6): hand-computed small samples, mutual information, histograms."""

from __future__ import annotations

import hist
import numpy as np
import pytest

from pymva.errors import DataError
from pymva.evaluation import (
    RegressionResult,
    evaluate_regression,
    mutual_information,
    regression_stats,
)


def test_bias_deviation_rms_and_truncation_by_hand() -> None:
    r = [1.0, 2.0, 3.0, 4.0, 10.0]
    t = [1.0, 1.0, 3.0, 5.0, 4.0]
    w = [1.0, 1.0, 2.0, 1.0, 1.0]
    # d = (0, 1, 0, -1, 6), sum w = 6
    s = regression_stats(r, t, w)
    assert s.bias == pytest.approx(6 / 6, rel=1e-15)
    assert s.dev == pytest.approx(8 / 6, rel=1e-15)
    rms = np.sqrt(38 / 6 - 1)
    assert s.rms == pytest.approx(rms, rel=1e-15)
    # window [1 - 2 rms, 1 + 2 rms] = [-3.62, 5.62] drops d = 6: d = (0, 1, 0, -1), w = (1, 1, 2, 1)
    assert s.n_truncated == 4
    assert s.bias_t == pytest.approx(0.0, abs=1e-15)
    assert s.dev_t == pytest.approx(2 / 5, rel=1e-15)
    assert s.rms_t == pytest.approx(np.sqrt(2 / 5), rel=1e-15)
    assert s.n_events == 5


def test_rms_is_the_weighted_standard_deviation_of_the_deviation() -> None:
    rng = np.random.default_rng(2)
    t = rng.normal(size=5000)
    r = t + rng.normal(0.3, 0.5, 5000)
    w = rng.uniform(0.2, 3.0, 5000)
    s = regression_stats(r, t, w)
    d = r - t
    assert s.bias == pytest.approx(np.average(d, weights=w), rel=1e-12)
    assert s.rms == pytest.approx(np.sqrt(np.cov(d, aweights=w, ddof=0)), rel=1e-10)
    assert s.dev == pytest.approx(np.average(np.abs(d), weights=w), rel=1e-12)
    inside = np.abs(d - s.bias) <= 2 * s.rms
    assert s.rms_t == pytest.approx(np.sqrt(np.cov(d[inside], aweights=w[inside], ddof=0)), rel=1e-10)
    m1, m2 = np.average(t, weights=w), np.average(r, weights=w)
    rho = np.average((t - m1) * (r - m2), weights=w) / np.sqrt(
        np.average((t - m1) ** 2, weights=w) * np.average((r - m2) ** 2, weights=w)
    )
    assert s.correlation == pytest.approx(rho, rel=1e-10)


def test_mutual_information_by_hand() -> None:
    # range [0, 1]: 0 -> cell (0, 0); 0.5 -> x bin 76, y bin 51 -> rebinned cell (37, 25);
    # 1.0 sits on the upper edge -> overflow, not counted (as in ROOT).  Two equiprobable cells on
    # the diagonal: MI = 2 * 0.5 * ln(0.5 / 0.25) = ln 2
    assert mutual_information([0.0, 0.5, 1.0], [0.0, 0.5, 1.0]) == pytest.approx(np.log(2), rel=1e-15)
    # weights change the probabilities: p = (1/4, 3/4) -> MI = H = -(1/4 ln 1/4 + 3/4 ln 3/4)
    h = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    assert mutual_information([0.0, 0.5, 1.0], [0.0, 0.5, 1.0], [1.0, 3.0, 5.0]) == pytest.approx(
        h, rel=1e-14
    )
    # events in one x column but two y cells: p_x = 1 -> MI = 0
    assert mutual_information([0.0, 0.001, 1.0], [0.0, 0.5, 1.0]) == pytest.approx(0.0, abs=1e-15)
    assert mutual_information([], []) == -1.0
    assert mutual_information([2.0, 2.0], [2.0, 2.0]) == 0.0


def test_mutual_information_of_independent_and_identical_variables() -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(size=200000)
    y = rng.uniform(size=200000)
    assert 0.0 <= mutual_information(x, y) < 0.02  # histogram bias ~ (75-1)(50-1)/(2N)
    # identical: of every 3 x cells (width R/75) covering 2 y cells (width R/50), the middle one is
    # split in two -> MI = H(Y) - H(Y|X) = ln 50 - ln(2) / 3
    assert mutual_information(x, x) == pytest.approx(np.log(50) - np.log(2) / 3, abs=0.01)


Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _regression_samples() -> tuple[Arrays, Arrays]:
    rng = np.random.default_rng(6)
    n = 4000

    def sample() -> Arrays:
        x = rng.normal(size=(n, 3))
        tgt = np.column_stack([x[:, 0] * 2 + x[:, 1], x[:, 2] ** 2])
        # the two targets have different biases and noise: a figure of merit of the wrong target shows
        pred = tgt + rng.normal([0.1, -0.5], [0.3, 0.8], (n, 2))
        return pred, tgt, rng.uniform(0.5, 1.5, n), x

    return sample(), sample()


@pytest.fixture(scope="module")
def result() -> RegressionResult:
    (pt, tt, wt, xt), (pr, tr, wr, xr) = _regression_samples()
    return evaluate_regression(
        "PyTorch",
        "dataset",
        pt,
        tt,
        wt,
        pr,
        tr,
        wr,
        test_inputs=xt,
        train_inputs=xr,
        variable_names=["var1", "var2", "var3"],
        target_names=["fvalue", "fsq"],
    )


def test_first_target_only_for_the_figures_of_merit(result: RegressionResult) -> None:
    (pt, tt, wt, _), (pr, tr, wr, _) = _regression_samples()
    for stats, (p, t, w) in ((result.test, (pt, tt, wt)), (result.train, (pr, tr, wr))):
        d = p[:, 0] - t[:, 0]  # core.md §5.6: first target only
        bias = np.average(d, weights=w)
        rms = np.sqrt(np.average((d - bias) ** 2, weights=w))
        assert stats.bias == pytest.approx(bias, rel=1e-10)
        assert stats.rms == pytest.approx(rms, rel=1e-10)
        assert stats.dev == pytest.approx(np.average(np.abs(d), weights=w), rel=1e-10)
        assert stats.n_events == len(d)
    assert result.test.rms == pytest.approx(0.3, abs=0.02)
    assert result.train.bias == pytest.approx(0.1, abs=0.02)
    assert result.target_names == ("fvalue", "fsq")
    assert result.test.mutual_info > 1.0


def test_histogram_names_and_contents(result: RegressionResult) -> None:
    names = set(result.histograms)
    for sample in ("test", "train"):
        p = f"MVA_PyTorch{sample}"
        for i in range(3):
            for j in range(2):
                assert f"{p}_reg_var{i}_rtgt{j}" in names
        for i in range(2):
            for j in range(2):
                assert f"{p}_reg_tgt{i}_rtgt{j}" in names
        for j in range(2):
            assert f"{p}_Quadr_Deviation_target_{j}_" in names
            assert f"{p}_Quadr_Dev_best90perc_target_{j}_" in names
    assert len(names) == 2 * (6 + 4 + 4)
    h2 = result.histograms["MVA_PyTorchtest_reg_var0_rtgt1"]
    assert isinstance(h2, hist.Hist)
    assert h2.ndim == 2
    assert h2.values().shape == (50, 50)
    assert h2.values().sum() == 4000  # unweighted, all events inside the widened ranges
    assert h2.axes[0].label == "var1"
    assert h2.axes[1].label == "fsq_{regression} - fsq_{true}"
    assert h2.metadata["classname"] == "TH2F"
    q = result.histograms["MVA_PyTorchtest_Quadr_Deviation_target_0_"]
    assert isinstance(q, hist.Hist)
    assert q.axes[0].size == 500
    assert q.axes[0].edges[0] == 0.0
    assert q.metadata["classname"] == "TH1F"
    assert (q.axes[0].label, q.metadata["fYaxis.fTitle"]) == ("Quadratic Deviation", "Weighted Entries")
    q90 = result.histograms["MVA_PyTorchtest_Quadr_Dev_best90perc_target_0_"]
    assert q90.values().sum() == pytest.approx(0.9 * q.values().sum(), rel=0.01)
    assert q90.axes[0].edges[-1] < q.axes[0].edges[-1]


def test_quadratic_deviation_histogram_by_hand() -> None:
    pred = np.array([1.0, 2.0, 3.0, 5.0])
    tgt = np.array([1.0, 1.0, 1.0, 1.0])  # d^2 = 0, 1, 4, 16
    w = np.array([1.0, 2.0, 3.0, 4.0])
    r = evaluate_regression("M", "ds", pred, tgt, w, pred, tgt, w)
    q = r.histograms["MVA_Mtest_Quadr_Deviation_target_0_"]
    assert q.axes[0].edges[-1] == pytest.approx(16 * 1.1, rel=1e-15)
    assert q.values().sum() == 10.0
    assert q.variances().sum() == 1 + 4 + 9 + 16
    # TH1::GetQuantiles: cumulative 0.6 below the bin of d^2 = 16 (bin 455 of width 17.6/500), 1.0
    # after it -> q90 = low edge + 0.75 width, just above 16: every event is kept
    width = 17.6 / 500
    q90 = r.histograms["MVA_Mtest_Quadr_Dev_best90perc_target_0_"]
    assert q90.axes[0].edges[-1] == pytest.approx(1.1 * (454 * width + 0.75 * width), rel=1e-12)
    assert q90.values().sum() == 10.0
    assert "MVA_Mtest_reg_var0_rtgt0" not in r.histograms  # no inputs given
    # a lighter last event: cumulative 6/6.5 = 0.923 already after d^2 = 4 -> the event at 16 is dropped
    w2 = np.array([1.0, 2.0, 3.0, 0.5])
    r2 = evaluate_regression("M", "ds", pred, tgt, w2, pred, tgt, w2)
    assert r2.histograms["MVA_Mtest_Quadr_Dev_best90perc_target_0_"].values().sum() == 6.0


def test_html_and_plot(result: RegressionResult) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert "mutual information" in result._repr_html_()
    before = plt.get_fignums()
    fig = result.plot()
    assert plt.get_fignums() == before  # not held by pyplot: shown once in Jupyter
    ax = fig.axes[0]  # the deviation histogram; fig.axes[1] is its colour bar
    assert ax.get_xlabel() == "fvalue"


def test_bad_inputs() -> None:
    with pytest.raises(DataError, match="differ in shape"):
        evaluate_regression(
            "M", "ds", np.ones((3, 2)), np.ones(3), np.ones(3), np.ones(3), np.ones(3), np.ones(3)
        )
    with pytest.raises(DataError, match="empty"):
        evaluate_regression("M", "ds", [], [], [], [1.0], [1.0], [1.0])
    with pytest.raises(DataError, match="NaN"):
        regression_stats([1.0, np.nan], [1.0, 2.0], [1.0, 1.0])
    with pytest.raises(DataError, match="sum of event weights"):
        regression_stats([1.0], [1.0], [0.0])
