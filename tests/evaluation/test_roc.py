"""TMVA's ROCCurve (core.md §5.1): exact hand computation, scikit-learn, closed forms."""

from __future__ import annotations

import sys
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from pymva.errors import DataError, PyMVAError
from pymva.evaluation import MissingExtraError, ROCCurve, roc_curve


def tmva_auc_by_hand(values: list[float], weights: list[int], signal: list[bool]) -> Fraction:
    """TMVA's ROCCurve::GetROCIntegral written out with exact fractions (events sorted by value)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    s_tot = sum(Fraction(weights[i]) for i in order if signal[i])
    b_tot = sum(Fraction(weights[i]) for i in order if not signal[i])
    sens = [Fraction(1)]
    spec = [Fraction(0)]
    for k in range(len(order)):
        tp = sum(Fraction(weights[i]) for i in order[k:] if signal[i])
        tn = sum(Fraction(weights[i]) for i in order[: k + 1] if not signal[i])
        sens.append(tp / s_tot)
        spec.append(tn / b_tot)
    sens.append(Fraction(0))
    spec.append(Fraction(1))
    return sum(
        (Fraction(1, 2) * (sens[k] - sens[k + 1]) * (spec[k] + spec[k + 1]) for k in range(len(sens) - 1)),
        Fraction(0),
    )


def test_tiny_sample_matches_hand_computation_exactly() -> None:
    # sorted: 0.1 (B, w1), 0.2 (S, w1), 0.3 (B, w1), 0.4 (S, w3); S = 4, B = 2 (exact binary fractions)
    values = [0.3, 0.1, 0.4, 0.2]
    weights = [1, 1, 3, 1]
    signal = [False, False, True, True]
    curve = roc_curve(values, weights, signal)
    np.testing.assert_array_equal(curve.sensitivity, [1, 1, 1, 0.75, 0.75, 0])
    np.testing.assert_array_equal(curve.specificity, [0, 0.5, 0.5, 1, 1, 1])
    # trapezoids: (1 - 0.75)(0.5 + 1)/2 + (0.75 - 0)(1 + 1)/2 = 0.1875 + 0.75
    assert curve.auc == 0.9375
    assert curve.auc == float(tmva_auc_by_hand(values, weights, signal))
    # the weighted Mann-Whitney AUC is 7/8: TMVA adds w_s w_b / (2 S B) = 1/16 for the signal event
    # at 0.2 directly followed by the background event at 0.3
    mw = roc_auc_score(signal, values, sample_weight=weights)
    assert mw == pytest.approx(0.875, abs=1e-15)
    assert curve.auc - mw == pytest.approx(1 / 16, abs=1e-15)


def test_eff_s_for_eff_b_interpolates_the_curve() -> None:
    curve = roc_curve([0.3, 0.1, 0.4, 0.2], [1, 1, 3, 1], [False, False, True, True])
    # effB points (ascending) 0, 0, 0, 0.5, 0.5, 1 with effS 0, 0.75, 0.75, 1, 1, 1
    assert curve.eff_s_for_eff_b(0.25) == pytest.approx(0.875, abs=1e-15)
    assert curve.eff_s_for_eff_b(0.0) == 0.75
    assert curve.eff_s_for_eff_b(0.5) == 1.0
    assert curve.GetEffSForEffB(1.0) == 1.0
    assert curve.GetROCIntegral() == curve.auc
    with pytest.raises(ValueError, match="outside"):
        curve.eff_s_for_eff_b(1.5)


def test_random_tiny_samples_match_the_exact_formula() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(2, 9))
        values = [float(v) for v in rng.permutation(n)]  # distinct values
        weights = [int(w) for w in rng.integers(1, 4, n)]
        signal = [bool(s) for s in rng.integers(0, 2, n)]
        signal[0], signal[-1] = True, False
        exact = tmva_auc_by_hand(values, weights, signal)
        assert roc_curve(values, weights, signal).auc == pytest.approx(float(exact), abs=1e-14)


def test_agrees_with_sklearn_on_continuous_weighted_scores() -> None:
    """TMVA's AUC is not exactly scikit-learn's: an event's own weight enters both sides of its cut,
    which adds w_s w_b / (2 S B) per adjacent signal-background pair, O(1/n) in total."""
    rng = np.random.default_rng(7)
    n = 20000
    is_signal = rng.random(n) < 0.4
    values = rng.normal(np.where(is_signal, 1.0, 0.0), 1.0)
    weights = rng.uniform(0.5, 2.0, n)
    ours = roc_curve(values, weights, is_signal).auc
    ref = roc_auc_score(is_signal, values, sample_weight=weights)
    assert len(np.unique(values)) == n  # no ties: the event order is unique
    # the excess, from TMVA's definition: w_s w_b / (2 S B) for every signal event directly followed
    # (in ascending order of the response) by a background event
    order = np.argsort(values)
    s, w = is_signal[order], weights[order]
    pair = s[:-1] & ~s[1:]
    excess = np.sum(w[:-1][pair] * w[1:][pair]) / (2 * weights[is_signal].sum() * weights[~is_signal].sum())
    assert 1e-5 < excess < 1e-3
    assert ours == pytest.approx(ref + excess, abs=1e-12)


def test_gaussian_closed_form() -> None:
    rng = np.random.default_rng(11)
    d, n = 1.2, 200000
    values = np.concatenate([rng.normal(d, 1, n), rng.normal(0, 1, n)])
    is_signal = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    curve = roc_curve(values, None, is_signal)
    assert curve.auc == pytest.approx(norm.cdf(d / np.sqrt(2)), abs=4e-3)
    for b in (0.01, 0.10, 0.30):
        expected = 1 - norm.cdf(norm.ppf(1 - b) - d)
        assert curve.eff_s_for_eff_b(b) == pytest.approx(expected, abs=0.01)


def test_anti_separated_sample_gives_a_tiny_positive_auc() -> None:
    n = 100
    values = np.r_[np.arange(n), np.arange(n) + n]  # all signal below all background
    is_signal = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    auc = roc_curve(values, np.ones(2 * n), is_signal).auc
    assert auc == pytest.approx(1 / (2 * n * n), rel=1e-12)


def test_perfect_separation_gives_one_and_order_of_events_does_not_matter() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(size=500)
    is_signal = values > 0.1
    weights = rng.uniform(0.1, 1.0, 500)
    assert roc_curve(values, weights, is_signal).auc == pytest.approx(1.0, abs=1e-15)
    perm = rng.permutation(500)
    a = roc_curve(values, weights, values > 0)
    b = roc_curve(values[perm], weights[perm], (values > 0)[perm])
    assert a.auc == pytest.approx(b.auc, abs=1e-14)


def test_curve_shape_and_end_points() -> None:
    curve = roc_curve(np.linspace(0, 1, 50), np.ones(50), np.arange(50) % 2 == 0)
    assert isinstance(curve, ROCCurve)
    assert curve.sensitivity.shape == curve.specificity.shape == (52,)
    assert (curve.sensitivity[0], curve.sensitivity[-1]) == (1.0, 0.0)
    assert (curve.specificity[0], curve.specificity[-1]) == (0.0, 1.0)
    assert np.all(np.diff(curve.sensitivity) <= 0)
    assert np.all(np.diff(curve.specificity) >= 0)
    np.testing.assert_allclose(curve.background_efficiency, 1 - curve.specificity)
    assert "ROC integral" in curve._repr_html_()


def test_one_class_only_gives_zero_efficiencies_like_tmva() -> None:
    curve = roc_curve([0.1, 0.2], [1.0, 1.0], [True, True])
    np.testing.assert_array_equal(curve.specificity, [0, 0, 0, 1])


def test_bad_input_raises() -> None:
    with pytest.raises(DataError, match="NaN"):
        roc_curve([0.1, np.nan], None, [True, False])
    with pytest.raises(DataError, match="2 entries"):
        roc_curve([0.1, 0.2], None, [True])
    with pytest.raises(DataError, match="different lengths"):
        roc_curve([0.1, 0.2], [1.0], [True, False])


def test_plot_draws_on_matplotlib_axes() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = roc_curve([0.3, 0.1, 0.4, 0.2], None, [False, False, True, True])
    before = plt.get_fignums()
    fig = curve.plot(label="PyTorch")
    assert plt.get_fignums() == before  # a Figure that pyplot does not hold
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Signal efficiency (Sensitivity)"
    assert ax.get_ylabel() == "Background rejection (Specificity)"
    assert ax.get_title() == "Signal efficiency vs. Background rejection (PyTorch)"
    assert ax.get_lines()[0].get_label().startswith("PyTorch (AUC ")
    # on given axes: drawn there, the axes' figure returned
    _, own = plt.subplots()
    assert curve.plot(ax=own) is own.figure
    assert len(own.get_lines()) == 1
    plt.close("all")


def test_missing_matplotlib_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    curve = roc_curve([0.3, 0.1], None, [False, True])
    with pytest.raises(MissingExtraError, match=r"pip install pymva\[plot\]") as info:
        curve.plot()
    assert isinstance(info.value, PyMVAError)
    assert isinstance(info.value, ModuleNotFoundError)


def test_integral_in_blocks_is_tmvas_loop_bit_for_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The block-wise integral (bounded memory) is ``ROCCurve::GetROCIntegral``'s left-to-right loop.

    Blocks of 7 curve points over 1003 events cross many block boundaries; float32 responses give
    the curve of their exact float64 values.
    """
    from pymva.evaluation import roc as roc_module

    monkeypatch.setattr(roc_module, "_BLOCK", 7)
    rng = np.random.default_rng(11)
    n = 1003
    sig = rng.random(n) < 0.4
    y = (rng.normal(size=n) + sig).astype(np.float32)
    w = rng.uniform(0.2, 3.0, n).astype(np.float32)
    curve = roc_curve(y, w, sig)
    integral = 0.0
    sens, spec = curve.sensitivity.tolist(), curve.specificity.tolist()
    for i in range(len(sens) - 1):  # the C++ loop, in Python floats (IEEE doubles)
        integral += 0.5 * ((1 - sens[i + 1]) - (1 - sens[i])) * (spec[i] + spec[i + 1])
    assert curve.auc == integral
    as64 = roc_curve(y.astype(np.float64), w.astype(np.float64), sig)
    np.testing.assert_array_equal(as64.sensitivity, curve.sensitivity)
    np.testing.assert_array_equal(as64.specificity, curve.specificity)
    assert as64.auc == curve.auc
    with pytest.raises(DataError, match="1 NaN or infinite"):
        roc_curve(np.where(np.arange(n) == 5, np.float32("nan"), y), w, sig)
