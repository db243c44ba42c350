# TMVA's printf formats are kept verbatim, hence the %-formatting.
# ruff: noqa: UP031
"""TMVA's evaluation tables (``../shared/tmva/core.md`` §2.5), rendered from the result objects.

Every function returns the lines of the message TMVA logs, joined with ``"\\n"`` and *without*
the logger prefix: the Factory logs the text at INFO level and :mod:`pymva.logger` puts
``"<25 blanks>: "`` in front of every line, exactly as TMVA's ``MsgLogger`` does.  Lines keep
TMVA's trailing blanks.

Methods are ranked as TMVA ranks them, per dataset (datasets in byte order of their names, as
TMVA's ``std::map`` of loaders):

* classification: descending ``eff_area`` (TMVA's stable bubble sort); results with method type
  ``Variable`` are ranked separately and listed under ``Input Variables:``;
* regression: ascending mean absolute deviation on the test sample (despite the title's "RMS");
* multiclass: booking order.

Beyond TMVA, :func:`format_classification_tables` adds a third table with the Kolmogorov–Smirnov
probabilities of the test-vs-training comparison, and the multiclass confusion matrices are printed
as their header says, ``test (train)`` (TMVA prints the training value first there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import numpy.typing as npt

from ._util import F64
from .classification import ClassificationResult
from .correlations import CorrelationResult, evaluate_correlations
from .multiclass import MulticlassResult
from .regression import RegressionResult

__all__ = [
    "format_classification_tables",
    "format_correlation_tables",
    "format_ks_table",
    "format_multiclass_tables",
    "format_regression_tables",
    "rank_classification",
    "rank_regression",
    "render_correlation_tables",
]

#: The separator lines of the three kinds of tables.
HLINE_CLASSIFICATION = "-" * 115
HLINE_REGRESSION = "-" * 98
HLINE_MULTICLASS = "-" * 103

T = TypeVar("T")


def _useful_sort(items: Sequence[T], key: Callable[[T], float], descending: bool) -> list[T]:
    """``Tools::UsefulSortAscending/Descending``: a stable bubble sort (NaN keys stay put)."""
    out = list(items)
    keys = [key(x) for x in out]
    n = len(out)
    for i in range(n):
        for j in range(n - 1, i, -1):
            swap = keys[j - 1] < keys[j] if descending else keys[j - 1] > keys[j]
            if swap:
                keys[j - 1], keys[j] = keys[j], keys[j - 1]
                out[j - 1], out[j] = out[j], out[j - 1]
    return out


def rank_classification(results: Sequence[ClassificationResult]) -> list[ClassificationResult]:
    """Classification results in TMVA's order: descending ``eff_area``, stable."""
    return _useful_sort(results, lambda r: r.eff_area, descending=True)


def rank_regression(results: Sequence[RegressionResult]) -> list[RegressionResult]:
    """Regression results in TMVA's order: ascending mean |deviation| on the test sample, stable."""
    return _useful_sort(results, lambda r: r.test.dev, descending=False)


def _by_dataset(results: Iterable[T], dataset: Callable[[T], str]) -> list[tuple[str, list[T]]]:
    groups: dict[str, list[T]] = {}
    for r in results:
        groups.setdefault(dataset(r), []).append(r)
    return [(name, groups[name]) for name in sorted(groups, key=lambda s: s.encode())]


def _is_variable(r: ClassificationResult) -> bool:
    return "Variable" in r.method_type


def _display_title(r: ClassificationResult) -> str:
    return r.title.replace("Variable_", "") if _is_variable(r) else r.title


def _ranked_sections(
    results: Sequence[ClassificationResult],
) -> tuple[list[ClassificationResult], list[ClassificationResult]]:
    methods = rank_classification([r for r in results if not _is_variable(r)])
    variables = rank_classification([r for r in results if _is_variable(r)])
    return methods, variables


# ----------------------------------------------------------------------------------------------
# classification
# ----------------------------------------------------------------------------------------------
def _section_rows(
    methods: Sequence[ClassificationResult],
    variables: Sequence[ClassificationResult],
    row: Callable[[ClassificationResult], str],
) -> list[str]:
    """One row per method, then TMVA's ``Input Variables:`` section for ``Variable`` methods."""
    lines = [row(r) for r in methods]
    if variables:
        h = HLINE_CLASSIFICATION
        lines += [h, "Input Variables: ", h, *(row(r) for r in variables)]
    return lines


def _classification_block(dataset: str, results: Sequence[ClassificationResult]) -> list[str]:
    h = HLINE_CLASSIFICATION
    methods, variables = _ranked_sections(results)
    lines = [
        "",
        "Evaluation results ranked by best signal efficiency and purity (area)",
        h,
        "DataSet       MVA                       ",
        "Name:         Method:          ROC-integ",
    ]
    lines += _section_rows(
        methods,
        variables,
        lambda r: (
            "%-13s %-15s: %#1.3f"
            % (
                dataset,
                _display_title(r),
                r.eff_area if (r.separation < 0 or r.significance < 0) else r.roc_integral,
            )
        ),
    )
    lines += [
        h,
        "",
        "Testing efficiency compared to training efficiency (overtraining check)",
        h,
        "DataSet              MVA              Signal efficiency: from test sample (from training sample) ",
        "Name:                Method:          @B=0.01             @B=0.10            @B=0.30   ",
        h,
    ]
    lines += _section_rows(
        methods,
        variables,
        lambda r: (
            "%-20s %-15s: %#1.3f (%#1.3f)       %#1.3f (%#1.3f)      %#1.3f (%#1.3f)"
            % (
                dataset,
                _display_title(r),
                r.eff_at_01,
                r.train_eff_at_01,
                r.eff_at_10,
                r.train_eff_at_10,
                r.eff_at_30,
                r.train_eff_at_30,
            )
        ),
    )
    lines += [h, ""]
    return lines


def _ks_block(dataset: str, results: Sequence[ClassificationResult]) -> list[str]:
    h = HLINE_CLASSIFICATION
    methods, variables = _ranked_sections(results)
    lines = [
        "Kolmogorov-Smirnov test of the response, test vs. training sample (overtraining check)",
        h,
        "DataSet              MVA              KS probability: signal (background)",
        "Name:                Method:",
        h,
    ]
    lines += _section_rows(
        methods,
        variables,
        lambda r: "%-20s %-15s: %#.3g (%#.3g)" % (dataset, _display_title(r), r.ks_signal, r.ks_background),
    )
    lines += [h, ""]
    return lines


def format_ks_table(results: Sequence[ClassificationResult]) -> str:
    """The Kolmogorov–Smirnov table (beyond TMVA): test-vs-training probabilities per method.

    One row ``"%-20s %-15s: %#.3g (%#.3g)"`` (dataset, title, signal, background) per method,
    ranked as the classification tables.
    """
    lines: list[str] = []
    for dataset, group in _by_dataset(results, lambda r: r.dataset):
        lines += _ks_block(dataset, group)
    return "\n".join(lines)


def format_classification_tables(results: Sequence[ClassificationResult]) -> str:
    """TMVA's two classification tables, then the Kolmogorov–Smirnov table, per dataset.

    Layout (core.md §2.5): the "ROC-integ" table with rows ``"%-13s %-15s: %#1.3f"`` and the
    overtraining table with rows
    ``"%-20s %-15s: %#1.3f (%#1.3f)       %#1.3f (%#1.3f)      %#1.3f (%#1.3f)"``, each framed by
    115-dash lines; then :func:`format_ks_table`'s table.

    Parameters
    ----------
    results : sequence of ClassificationResult
        In booking order (the ranking is done here).

    Returns
    -------
    str
        Lines without the logger prefix.
    """
    lines: list[str] = []
    for dataset, group in _by_dataset(results, lambda r: r.dataset):
        lines += _classification_block(dataset, group)
        lines += _ks_block(dataset, group)
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# regression
# ----------------------------------------------------------------------------------------------
_REG_ROW = "%-20s %-15s:%#9.3g%#9.3g%#9.3g%#9.3g  |  %#5.3f  %#5.3f"


def format_regression_tables(results: Sequence[RegressionResult]) -> str:
    """TMVA's two regression tables (test sample, then training sample), per dataset.

    Rows ``"%-20s %-15s:%#9.3g%#9.3g%#9.3g%#9.3g  |  %#5.3f  %#5.3f"`` with bias, truncated bias,
    RMS, truncated RMS, mutual information and its truncated value; 98-dash separators; methods
    ranked by the test-sample mean absolute deviation.
    """
    h = HLINE_REGRESSION
    lines: list[str] = []
    for dataset, group in _by_dataset(results, lambda r: r.dataset):
        ranked = rank_regression(group)
        lines += [
            "",
            "Evaluation results ranked by smallest RMS on test sample:",
            '("Bias" quotes the mean deviation of the regression from true target.',
            ' "MutInf" is the "Mutual Information" between regression and target.',
            ' Indicated by "_T" are the corresponding "truncated" quantities ob-',
            " tained when removing events deviating more than 2sigma from average.)",
            h,
            h,
        ]
        for r in ranked:
            s = r.test
            lines.append(
                _REG_ROW
                % (dataset, r.title, s.bias, s.bias_t, s.rms, s.rms_t, s.mutual_info, s.mutual_info_t)
            )
        lines += [
            h,
            "",
            "Evaluation results ranked by smallest RMS on training sample:",
            "(overtraining check)",
            h,
            "DataSet Name:         MVA Method:        <Bias>   <Bias_T>    RMS    RMS_T  |  MutInf MutInf_T",
            h,
        ]
        for r in ranked:
            s = r.train
            lines.append(
                _REG_ROW
                % (dataset, r.title, s.bias, s.bias_t, s.rms, s.rms_t, s.mutual_info, s.mutual_info_t)
            )
        lines += [h, ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# multiclass
# ----------------------------------------------------------------------------------------------
def _row15(*cells: str) -> str:
    return "".join("%-15s" % c for c in cells)


def _confusion_lines(test: F64, train: F64, names: Sequence[str]) -> list[str]:
    header = " %-14s" % " " + "".join(" %-14s" % n for n in names)
    info = " %-14s" % " " + "".join(" %-14s" % " test (train)" for _ in names)
    lines = [header, info]
    for r, name in enumerate(names):
        row = " %-14s" % name
        for c in range(len(names)):
            if r == c:
                row += " %-14s" % "-"
            else:
                row += " %-14s" % ("%-5.3f (%-5.3f)" % (test[r, c], train[r, c]))
        lines.append(row)
    return lines


def format_multiclass_tables(results: Sequence[MulticlassResult]) -> str:
    """TMVA's multiclass tables: 1-vs-rest metrics per class, then the confusion matrices.

    Methods in booking order, per dataset; 103-dash separators.  The confusion-matrix cells are
    ``"%-5.3f (%-5.3f)" % (test, train)``, matching the `` test (train)`` header (TMVA swaps them).
    """
    h = HLINE_MULTICLASS
    lines: list[str] = []
    for dataset, group in _by_dataset(results, lambda r: r.dataset):
        lines += [
            "",
            "1-vs-rest performance metrics per class",
            h,
            "",
            "Considers the listed class as signal and the other classes",
            "as background, reporting the resulting binary performance.",
            "A score of 0.820 (0.850) means 0.820 was acheived on the",
            "test set and 0.850 on the training set.",
            "",
            _row15("Dataset", "MVA Method", "ROC AUC", "Sig eff@B=0.01", "Sig eff@B=0.10", "Sig eff@B=0.30"),
            _row15("Name:", "/ Class:", "test  (train)", "test  (train)", "test  (train)", "test  (train)"),
        ]
        for r in group:
            lines += ["", "%-15s%-15s" % (dataset, r.title), "-" * 30]
            for k, name in enumerate(r.class_names):
                lines.append(
                    _row15(
                        "",
                        name,
                        "%5.3f (%5.3f)" % (r.test_roc_integral[k], r.train_roc_integral[k]),
                        "%5.3f (%5.3f)" % (r.test_eff_at_01[k], r.train_eff_at_01[k]),
                        "%5.3f (%5.3f)" % (r.test_eff_at_10[k], r.train_eff_at_10[k]),
                        "%5.3f (%5.3f)" % (r.test_eff_at_30[k], r.train_eff_at_30[k]),
                    )
                )
        lines += ["", h, ""]
        lines += [
            "",
            "Confusion matrices for all methods",
            h,
            "",
            "Does a binary comparison between the two classes given by a ",
            "particular row-column combination. In each case, the class ",
            "given by the row is considered signal while the class given ",
            "by the column index is considered background.",
            "",
        ]
        for r in group:
            lines.append("=== Showing confusion matrix for method : " + "%-15s" % r.title)
            for b, label in ((0.01, "0.01"), (0.10, "0.10"), (0.30, "0.30")):
                lines.append(f"(Signal Efficiency for Background Efficiency {label}%)")
                lines.append("-" * 51)
                lines += _confusion_lines(r.confusion_test[b], r.confusion_train[b], r.class_names)
                lines.append("")
        lines += [h, ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# correlations (Tools::FormattedOutput)
# ----------------------------------------------------------------------------------------------
def _matrix_lines(m: F64, labels: Sequence[str]) -> list[str]:
    """``Tools::FormattedOutput(TMatrixD, labels)``: a square matrix with labelled rows and columns."""
    widths = [max(len(v), 7) for v in labels]
    maxl = max([7, *widths])
    clen = maxl + 1 + sum(w + 1 for w in widths)
    lines = [
        "-" * clen,
        " ".rjust(maxl + 1) + "".join(v.rjust(w + 1) for v, w in zip(labels, widths, strict=True)),
    ]
    for i, v in enumerate(labels):
        lines.append(
            v.rjust(maxl) + ":" + "".join(("%+1.3f" % m[i, j]).rjust(w + 1) for j, w in enumerate(widths))
        )
    lines.append("-" * clen)
    return lines


def _rect_lines(m: F64, vert: Sequence[str], horiz: Sequence[str]) -> list[str]:
    """``Tools::FormattedOutput(TMatrixD, vert, horiz)``: rows ``vert``, columns ``horiz``."""
    vwidths = [max(len(v), 7) for v in vert]
    maxl = max([7, *vwidths])
    hwidths = [max(len(v), 7) for v in horiz]
    maxlh = max([7, *hwidths])
    clen = maxlh + 1 + sum(w + 1 for w in hwidths)
    lines = [
        "-" * clen,
        " ".rjust(maxl + 1) + "".join(v.rjust(w + 1) for v, w in zip(horiz, hwidths, strict=True)),
    ]
    for i, v in enumerate(vert):
        lines.append(
            v.rjust(maxl) + ":" + "".join(("%+1.3f" % m[i, j]).rjust(w + 1) for j, w in enumerate(hwidths))
        )
    lines.append("-" * clen)
    return lines


def _vector_lines(values: F64, labels: Sequence[str], title_vars: str, title_values: str) -> list[str]:
    """``Tools::FormattedOutput(vector, labels, titleVars, titleValues)`` with format ``%+1.3f``."""
    maxl = max([7, len(title_vars), *(len(v) for v in labels)])
    maxv = max(len(title_values) + 1, maxl)
    clen = maxl + maxv + 3
    lines = ["-" * clen, title_vars.rjust(maxl) + ":" + title_values.rjust(maxv + 1) + ":", "-" * clen]
    for v, x in zip(labels, values, strict=True):
        lines.append(v.rjust(maxl) + ":" + ("%+1.3f" % x).rjust(maxv + 1))
    lines.append("-" * clen)
    return lines


def render_correlation_tables(corr: CorrelationResult) -> str:
    """The ``Correlations`` output of ``EvaluateAllMethods`` for one dataset (core.md §2.5).

    Inter-MVA correlation matrices (signal, background; only with more than one method), the
    correlations between input variables and responses, the signal-like cuts and the inter-MVA
    overlap matrices (more than one method), each announced by a ``Dataset[<name>] : `` line.
    """
    p = f"Dataset[{corr.dataset}] : "
    titles = list(corr.method_titles)
    many = len(titles) > 1
    lines: list[str] = []
    if many:
        lines += ["", p + "Inter-MVA correlation matrix (signal):"]
        lines += _matrix_lines(corr.mva_correlation_signal, titles)
        lines += ["", p + "Inter-MVA correlation matrix (background):"]
        lines += _matrix_lines(corr.mva_correlation_background, titles)
        lines += [""]
    lines += [p + "Correlations between input variables and MVA response (signal):"]
    lines += _rect_lines(corr.variable_mva_correlation_signal, corr.variable_labels, titles)
    lines += ["", p + "Correlations between input variables and MVA response (background):"]
    lines += _rect_lines(corr.variable_mva_correlation_background, corr.variable_labels, titles)
    lines += [
        "",
        p + 'The following "overlap" matrices contain the fraction of events for which ',
        p + "the MVAs 'i' and 'j' have returned conform answers about \"signal-likeness\"",
        p + "An event is signal-like, if its MVA output exceeds the following value:",
    ]
    lines += _vector_lines(corr.signal_reference_cuts, titles, "Method", "Cut value")
    lines += [p + "which correspond to the working point: eff(signal) = 1 - eff(background)"]
    if many:
        lines += ["", p + "Inter-MVA overlap matrix (signal):"]
        lines += _matrix_lines(corr.overlap_signal, titles)
        lines += ["", p + "Inter-MVA overlap matrix (background):"]
        lines += _matrix_lines(corr.overlap_background, titles)
    return "\n".join(lines)


def format_correlation_tables(
    dataset_name: str,
    method_titles: Sequence[str],
    responses: npt.ArrayLike,
    inputs: npt.ArrayLike,
    variable_labels: Sequence[str],
    is_signal: npt.ArrayLike,
    results: Sequence[ClassificationResult | float],
) -> str:
    """Compute (:func:`~pymva.evaluation.evaluate_correlations`) and render the correlation tables.

    Parameters
    ----------
    dataset_name : str
    method_titles : sequence of str, length m
    responses : array_like, shape (n_test, m)
        Test-sample responses, one column per method.
    inputs : array_like, shape (n_test, n_variables)
    variable_labels : sequence of str
    is_signal : array_like of bool, shape (n_test,)
    results : sequence of ClassificationResult (or of the signal-like cuts), length m

    Returns
    -------
    str
        Lines without the logger prefix.
    """
    cuts = [r.signal_reference_cut if isinstance(r, ClassificationResult) else float(r) for r in results]
    corr = evaluate_correlations(
        dataset_name, method_titles, responses, inputs, variable_labels, is_signal, cuts
    )
    return render_correlation_tables(corr)
