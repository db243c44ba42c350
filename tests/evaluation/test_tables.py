# The expected lines are built with TMVA's own printf formats, hence the %-formatting.
# ruff: noqa: UP031
"""TMVA's evaluation tables (core.md §2.5): golden strings built from TMVA's printf formats."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pytest

import pymva.evaluation as ev
from pymva.evaluation import (
    ClassificationResult,
    MulticlassResult,
    RegressionResult,
    RegressionStats,
    evaluate_classification,
    evaluate_correlations,
    evaluate_multiclass,
    evaluate_regression,
    format_classification_tables,
    format_correlation_tables,
    format_ks_table,
    format_multiclass_tables,
    format_regression_tables,
    rank_classification,
)
from pymva.logger import TMVAFormatter

H115 = "-" * 115
H98 = "-" * 98
H103 = "-" * 103


@pytest.fixture(scope="module")
def base() -> ClassificationResult:
    rng = np.random.default_rng(0)
    y = np.r_[rng.normal(1, 1, 500), rng.normal(0, 1, 500)]
    s = np.r_[np.ones(500, bool), np.zeros(500, bool)]
    return evaluate_classification("X", "dataset", y, np.ones(1000), s, y, np.ones(1000), s)


def classification(
    base: ClassificationResult, title: str, area: float, roc: float, **kw: float | str
) -> ClassificationResult:
    effs: dict[str, float | str] = {"eff_at_01": 0.1, "eff_at_10": 0.5, "eff_at_30": 0.8,
                                    "train_eff_at_01": 0.11, "train_eff_at_10": 0.52, "train_eff_at_30": 0.81,
                                    "ks_signal": 0.5, "ks_background": 0.25}  # fmt: skip
    effs.update(kw)
    return replace(base, title=title, eff_area=area, roc_integral=roc, **effs)  # type: ignore[arg-type]


def roc_row(ds: str, title: str, value: float) -> str:
    return "%-13s %-15s: %#1.3f" % (ds, title, value)


def eff_row(ds: str, title: str, e: tuple[float, ...]) -> str:
    return "%-20s %-15s: %#1.3f (%#1.3f)       %#1.3f (%#1.3f)      %#1.3f (%#1.3f)" % (ds, title, *e)


def ks_row(ds: str, title: str, s: float, b: float) -> str:
    return "%-20s %-15s: %#.3g (%#.3g)" % (ds, title, s, b)


def test_classification_tables_golden(base: ClassificationResult) -> None:
    a = classification(base, "PyTorch", 0.90, 0.9123, ks_background=1.234e-5)
    b = classification(base, "BDT", 0.95, 0.9361, eff_at_01=0.25, train_eff_at_01=0.3)
    c = classification(base, "Fisher", 0.95, 0.9300)  # same area as BDT: stays behind it (stable)
    text = format_classification_tables([a, b, c])
    e = (0.1, 0.11, 0.5, 0.52, 0.8, 0.81)
    expected = [
        "",
        "Evaluation results ranked by best signal efficiency and purity (area)",
        H115,
        "DataSet       MVA                       ",
        "Name:         Method:          ROC-integ",
        roc_row("dataset", "BDT", 0.9361),
        roc_row("dataset", "Fisher", 0.9300),
        roc_row("dataset", "PyTorch", 0.9123),
        H115,
        "",
        "Testing efficiency compared to training efficiency (overtraining check)",
        H115,
        "DataSet              MVA              Signal efficiency: from test sample (from training sample) ",
        "Name:                Method:          @B=0.01             @B=0.10            @B=0.30   ",
        H115,
        eff_row("dataset", "BDT", (0.25, 0.3, *e[2:])),
        eff_row("dataset", "Fisher", e),
        eff_row("dataset", "PyTorch", e),
        H115,
        "",
        "Kolmogorov-Smirnov test of the response, test vs. training sample (overtraining check)",
        H115,
        "DataSet              MVA              KS probability: signal (background)",
        "Name:                Method:",
        H115,
        ks_row("dataset", "BDT", 0.5, 0.25),
        ks_row("dataset", "Fisher", 0.5, 0.25),
        ks_row("dataset", "PyTorch", 0.5, 1.234e-5),
        H115,
        "",
    ]
    assert text.split("\n") == expected
    # the literal rows, to be sure of the printf translation
    assert "dataset       BDT            : 0.936" in text
    assert (
        "dataset              BDT            : 0.250 (0.300)       0.500 (0.520)      0.800 (0.810)" in text
    )
    assert "dataset              PyTorch        : 0.500 (1.23e-05)" in text
    assert format_ks_table([a, b, c]) == "\n".join(expected[20:])


def test_classification_ranking_is_stable_descending_area(base: ClassificationResult) -> None:
    rs = [classification(base, t, area, 0.5) for t, area in (("a", 0.5), ("b", 0.7), ("c", 0.5), ("d", 0.9))]
    assert [r.title for r in rank_classification(rs)] == ["d", "b", "a", "c"]


def test_input_variables_section_and_datasets_in_byte_order(base: ClassificationResult) -> None:
    m = classification(base, "PyTorch", 0.9, 0.91)
    v = replace(classification(base, "Variable_var1", 0.7, 0.71), method_type="Variable")
    other = replace(classification(base, "PyTorch", 0.8, 0.81), dataset="Aset")
    lines = format_classification_tables([m, v, other]).split("\n")
    # "Aset" < "dataset" in byte order: its block comes first
    assert lines[5] == roc_row("Aset", "PyTorch", 0.81)
    block = lines[lines.index(roc_row("dataset", "PyTorch", 0.91)) :]
    assert block[1:5] == [H115, "Input Variables: ", H115, roc_row("dataset", "var1", 0.71)]
    assert eff_row("dataset", "var1", (0.1, 0.11, 0.5, 0.52, 0.8, 0.81)) in lines
    # a method without separation/significance (Cuts) shows effArea in the ROC column
    cuts = replace(classification(base, "Cuts", 0.66, 0.5), separation=-1.0)
    assert roc_row("dataset", "Cuts", 0.66) in format_classification_tables([cuts])


def reg_row(ds: str, title: str, s: RegressionStats) -> str:
    return "%-20s %-15s:%#9.3g%#9.3g%#9.3g%#9.3g  |  %#5.3f  %#5.3f" % (
        ds, title, s.bias, s.bias_t, s.rms, s.rms_t, s.mutual_info, s.mutual_info_t,
    )  # fmt: skip


def test_regression_tables_golden() -> None:
    x = np.linspace(0, 1, 50)
    r0 = evaluate_regression("X", "dataset", x, x, np.ones(50), x, x, np.ones(50))
    s1 = RegressionStats(0.0123, -0.00045, 0.5, 0.4, 0.61, 0.52, 1.234, 1.5, 0.9, 100, 95)
    s2 = RegressionStats(-1.5, 2.0, 0.3, 0.2, 0.4, 0.35, 2.0, 2.1, 0.95, 100, 96)
    t1 = replace(s1, bias=0.02)
    a = replace(r0, title="PyTorch", test=s1, train=t1)
    b = replace(r0, title="BDTG", test=s2, train=s2)
    expected = [
        "",
        "Evaluation results ranked by smallest RMS on test sample:",
        '("Bias" quotes the mean deviation of the regression from true target.',
        ' "MutInf" is the "Mutual Information" between regression and target.',
        ' Indicated by "_T" are the corresponding "truncated" quantities ob-',
        " tained when removing events deviating more than 2sigma from average.)",
        H98,
        H98,
        reg_row("dataset", "BDTG", s2),  # smaller mean |deviation| on the test sample first
        reg_row("dataset", "PyTorch", s1),
        H98,
        "",
        "Evaluation results ranked by smallest RMS on training sample:",
        "(overtraining check)",
        H98,
        "DataSet Name:         MVA Method:        <Bias>   <Bias_T>    RMS    RMS_T  |  MutInf MutInf_T",
        H98,
        reg_row("dataset", "BDTG", s2),
        reg_row("dataset", "PyTorch", t1),
        H98,
        "",
    ]
    text = format_regression_tables([a, b])
    assert text.split("\n") == expected
    assert (
        "dataset              PyTorch        :   0.0123-0.000450    0.610    0.520  |  1.234  1.500" in text
    )


def test_multiclass_tables_golden_with_correct_test_train_order() -> None:
    rng = np.random.default_rng(1)
    out = rng.uniform(size=(40, 2))
    cls = np.arange(40) % 2
    r0 = evaluate_multiclass(
        "X", "dataset", ["Signal", "Background"], out, cls, np.ones(40), out, cls, np.ones(40)
    )
    nan = np.nan
    conf_test = {b: np.array([[nan, 0.1 + b], [0.2 + b, nan]]) for b in (0.01, 0.10, 0.30)}
    conf_train = {b: np.array([[nan, 0.5 + b], [0.6 + b, nan]]) for b in (0.01, 0.10, 0.30)}
    r = replace(
        r0,
        title="PyTorch",
        test_roc_integral=np.array([0.9, 0.8]),
        train_roc_integral=np.array([0.91, 0.81]),
        test_eff_at_01=np.array([0.1, 0.2]),
        train_eff_at_01=np.array([0.11, 0.21]),
        test_eff_at_10=np.array([0.3, 0.4]),
        train_eff_at_10=np.array([0.31, 0.41]),
        test_eff_at_30=np.array([0.5, 0.6]),
        train_eff_at_30=np.array([0.51, 0.61]),
        confusion_test=conf_test,
        confusion_train=conf_train,
    )
    fmt6 = "%-15s" * 6

    def cls_row(name: str, k: int) -> str:
        pairs = [(r.test_roc_integral, r.train_roc_integral), (r.test_eff_at_01, r.train_eff_at_01),
                 (r.test_eff_at_10, r.train_eff_at_10), (r.test_eff_at_30, r.train_eff_at_30)]  # fmt: skip
        return fmt6 % ("", name, *("%5.3f (%5.3f)" % (t[k], tr[k]) for t, tr in pairs))

    def matrix(b: float) -> list[str]:
        return [
            " %-14s" % " " + " %-14s" % "Signal" + " %-14s" % "Background",
            " %-14s" % " " + " %-14s" % " test (train)" + " %-14s" % " test (train)",
            " %-14s" % "Signal" + " %-14s" % "-" + " %-14s" % ("%-5.3f (%-5.3f)" % (0.1 + b, 0.5 + b)),
            " %-14s" % "Background" + " %-14s" % ("%-5.3f (%-5.3f)" % (0.2 + b, 0.6 + b)) + " %-14s" % "-",
        ]

    expected = [
        "",
        "1-vs-rest performance metrics per class",
        H103,
        "",
        "Considers the listed class as signal and the other classes",
        "as background, reporting the resulting binary performance.",
        "A score of 0.820 (0.850) means 0.820 was acheived on the",
        "test set and 0.850 on the training set.",
        "",
        fmt6 % ("Dataset", "MVA Method", "ROC AUC", "Sig eff@B=0.01", "Sig eff@B=0.10", "Sig eff@B=0.30"),
        fmt6 % ("Name:", "/ Class:", "test  (train)", "test  (train)", "test  (train)", "test  (train)"),
        "",
        "%-15s%-15s" % ("dataset", "PyTorch"),
        "------------------------------",
        cls_row("Signal", 0),
        cls_row("Background", 1),
        "",
        H103,
        "",
        "",
        "Confusion matrices for all methods",
        H103,
        "",
        "Does a binary comparison between the two classes given by a ",
        "particular row-column combination. In each case, the class ",
        "given by the row is considered signal while the class given ",
        "by the column index is considered background.",
        "",
        "=== Showing confusion matrix for method : " + "%-15s" % "PyTorch",
        "(Signal Efficiency for Background Efficiency 0.01%)",
        "---------------------------------------------------",
        *matrix(0.01),
        "",
        "(Signal Efficiency for Background Efficiency 0.10%)",
        "---------------------------------------------------",
        *matrix(0.10),
        "",
        "(Signal Efficiency for Background Efficiency 0.30%)",
        "---------------------------------------------------",
        *matrix(0.30),
        "",
        H103,
        "",
    ]
    text = format_multiclass_tables([r])
    assert text.split("\n") == expected
    # the test value comes first, under the " test (train)" header
    assert " Signal" + " " * 9 + "-" + " " * 14 + "0.110 (0.510) \n" in text
    assert " Background" + " " * 5 + "0.210 (0.610)" + " " * 2 + "-" + " " * 13 + "\n" in text
    assert (
        "               Signal         0.900 (0.910)  0.100 (0.110)  0.300 (0.310)  0.500 (0.510)  " in text
    )


def test_correlation_tables_golden() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.5])
    responses = np.column_stack([x, -x])  # PyTorch = var1, BDT = -var1
    is_signal = np.r_[np.ones(4, bool), np.zeros(4, bool)]
    text = format_correlation_tables(
        "dataset", ["PyTorch", "BDT"], responses, x[:, None], ["var1"], is_signal, [2.5, -2.5]
    )
    p = "Dataset[dataset] : "
    square = [
        "-" * 24,
        "         PyTorch     BDT",
        "PyTorch:  +1.000  -1.000",
        "    BDT:  -1.000  +1.000",
        "-" * 24,
    ]
    rect = ["-" * 24, "         PyTorch     BDT", "   var1:  +1.000  -1.000", "-" * 24]
    # (y1 - 2.5)(y2 + 2.5) = -(x - 2.5)^2 < 0: the two methods never agree; each agrees with itself
    overlap = [
        "-" * 24,
        "         PyTorch     BDT",
        "PyTorch:  +1.000  +0.000",
        "    BDT:  +0.000  +1.000",
        "-" * 24,
    ]
    cuts = [
        "-" * 20,
        " Method:  Cut value:",
        "-" * 20,
        "PyTorch:     +2.500",
        "    BDT:     -2.500",
        "-" * 20,
    ]
    expected = [
        "",
        p + "Inter-MVA correlation matrix (signal):",
        *square,
        "",
        p + "Inter-MVA correlation matrix (background):",
        *square,
        "",
        p + "Correlations between input variables and MVA response (signal):",
        *rect,
        "",
        p + "Correlations between input variables and MVA response (background):",
        *rect,
        "",
        p + 'The following "overlap" matrices contain the fraction of events for which ',
        p + "the MVAs 'i' and 'j' have returned conform answers about \"signal-likeness\"",
        p + "An event is signal-like, if its MVA output exceeds the following value:",
        *cuts,
        p + "which correspond to the working point: eff(signal) = 1 - eff(background)",
        "",
        p + "Inter-MVA overlap matrix (signal):",
        *overlap,
        "",
        p + "Inter-MVA overlap matrix (background):",
        *overlap,
    ]
    assert text.split("\n") == expected


def test_correlations_of_one_method_and_long_names() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 2))
    y = x[:, 0] + 0.5 * rng.normal(size=200)
    s = rng.random(200) < 0.5
    corr = evaluate_correlations("ds", ["AVeryLongMethodTitle"], y[:, None], x, ["v1", "v2"], s, [0.0])
    ref = np.corrcoef(np.column_stack([y[s], x[s]]).T)
    np.testing.assert_allclose(corr.variable_mva_correlation_signal[:, 0], ref[1:, 0], rtol=1e-12)
    ref_b = np.corrcoef(np.column_stack([y[~s], x[~s]]).T)
    np.testing.assert_allclose(corr.variable_mva_correlation_background[:, 0], ref_b[1:, 0], rtol=1e-12)
    assert corr.mva_correlation_signal.shape == (1, 1)
    assert corr.overlap_signal[0, 0] == 1.0  # a method always agrees with itself
    text = ev.render_correlation_tables(corr)
    assert "Inter-MVA" not in text  # only with more than one method
    assert "       AVeryLongMethodTitle" in text
    assert "AVeryLongMethodTitle:" in text
    assert "ds" in corr._repr_html_()


def test_correlations_and_overlaps_of_two_methods_by_hand() -> None:
    """core.md §2.5: Pearson correlations per class, and the overlap = fraction of the class's test events
    with (y_i - cut_i)(y_j - cut_j) > 0."""
    rng = np.random.default_rng(3)
    n = 500
    x = rng.normal(size=(n, 2))
    s = rng.random(n) < 0.4
    y = np.column_stack([x[:, 0] + 0.7 * rng.normal(size=n), x[:, 1] - x[:, 0] + rng.normal(size=n)])
    cuts = [0.2, -0.3]
    corr = evaluate_correlations("ds", ["A", "B"], y, x, ["v1", "v2"], s, cuts)
    for mask, mva, var, overlap in (
        (s, corr.mva_correlation_signal, corr.variable_mva_correlation_signal, corr.overlap_signal),
        (
            ~s,
            corr.mva_correlation_background,
            corr.variable_mva_correlation_background,
            corr.overlap_background,
        ),
    ):
        ref = np.corrcoef(np.column_stack([y[mask], x[mask]]).T)
        np.testing.assert_allclose(mva, ref[:2, :2], rtol=1e-12)
        np.testing.assert_allclose(var, ref[2:, :2], rtol=1e-12)  # rows: variables, columns: methods
        agree = np.mean((y[mask, 0] - cuts[0]) * (y[mask, 1] - cuts[1]) > 0)
        assert 0.2 < agree < 0.8
        np.testing.assert_allclose(overlap, [[1.0, agree], [agree, 1.0]], rtol=1e-12)


def test_tables_through_the_tmva_logger_prefix(base: ClassificationResult) -> None:
    text = format_classification_tables([classification(base, "PyTorch", 0.9, 0.9123)])
    record = logging.LogRecord("pymva", logging.INFO, __file__, 1, "%s", (text,), None)
    out = TMVAFormatter().format(record).split("\n")
    assert out[0] == " " * 25 + ": "
    assert out[5] == " " * 25 + ": dataset       PyTorch        : 0.912"


def test_regression_ranking_is_ascending_test_deviation() -> None:
    x = np.linspace(0, 1, 20)
    r0: RegressionResult = evaluate_regression("X", "ds", x, x, np.ones(20), x, x, np.ones(20))
    rs = [replace(r0, title=t, test=replace(r0.test, dev=d)) for t, d in (("a", 0.3), ("b", 0.1), ("c", 0.3))]
    assert [r.title for r in ev.rank_regression(rs)] == ["b", "a", "c"]


def test_package_namespace() -> None:
    assert set(ev.__all__) <= set(dir(ev))
    assert dir(ev) == sorted(ev.__all__)
    for name in ev.__all__:
        assert getattr(ev, name) is not None
    assert ev.MulticlassResult is MulticlassResult
