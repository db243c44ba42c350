"""Evaluation of trained methods: TMVA's numbers, histograms and tables (core.md §2.5, §5).

Pure functions on numpy arrays; no files, no torch, no Factory.  The Factory calls the
``evaluate_*`` functions after testing and prints the ``format_*`` tables; the output-file writer
turns the histograms of the results into ROOT objects.

================================  =============================================================
module                            contents
================================  =============================================================
:mod:`~.roc`                      :class:`ROCCurve`, :func:`roc_curve` (§5.1)
:mod:`~.classification`           :func:`evaluate_classification`, :class:`ClassificationResult`,
                                  separation, significance, :func:`kolmogorov_test` (§5.2–§5.5)
:mod:`~.regression`               :func:`evaluate_regression`, :class:`RegressionResult`,
                                  :func:`regression_stats`, :func:`mutual_information` (§5.6)
:mod:`~.multiclass`               :func:`evaluate_multiclass`, :class:`MulticlassResult` (§5.7)
:mod:`~.correlations`             :func:`evaluate_correlations` (``Correlations=True``)
:mod:`~.tables`                   the printed tables (``format_*``), TMVA's ranking
:mod:`~.plotting`                 matplotlib helpers (optional extra ``plot``)
================================  =============================================================

The histograms of the results are :class:`hist.Hist` objects and the graphs
:class:`pymva.histograms.Graph` objects, named exactly as TMVA names them (``h.name``; the title is
``h.label``; core.md §5.2, §5.4, §5.6, §5.7, §6), written as the ROOT class TMVA uses
(``h.metadata["classname"]``: TH1D, TH1F or TH2F) or as TGraph.  They fill only the in-range bins
(the flow bins are 0); their ``Weight`` storage's ``variances()`` are ROOT's ``fSumw2``: the sum of
squared weights of a filled histogram, scaled like the contents, or ``|content|`` (ROOT's default
error) for histograms whose contents TMVA sets directly.  See ``docs/evaluation.md`` for what every number means.
"""

from __future__ import annotations

from ..errors import MissingExtraError
from .classification import (
    ClassificationResult,
    evaluate_classification,
    kolmogorov_test,
    separation_from_histograms,
    separation_from_pdfs,
    significance,
)
from .correlations import CorrelationResult, evaluate_correlations
from .multiclass import MulticlassResult, evaluate_multiclass
from .plotting import plot_roc_curves
from .regression import (
    RegressionResult,
    RegressionStats,
    evaluate_regression,
    mutual_information,
    regression_stats,
)
from .roc import ROC_TITLE, ROCCurve, roc_curve
from .tables import (
    format_classification_tables,
    format_correlation_tables,
    format_ks_table,
    format_multiclass_tables,
    format_regression_tables,
    rank_classification,
    rank_regression,
    render_correlation_tables,
)

__all__ = [
    "ROC_TITLE",
    "ClassificationResult",
    "CorrelationResult",
    "MissingExtraError",
    "MulticlassResult",
    "ROCCurve",
    "RegressionResult",
    "RegressionStats",
    "evaluate_classification",
    "evaluate_correlations",
    "evaluate_multiclass",
    "evaluate_regression",
    "format_classification_tables",
    "format_correlation_tables",
    "format_ks_table",
    "format_multiclass_tables",
    "format_regression_tables",
    "kolmogorov_test",
    "mutual_information",
    "plot_roc_curves",
    "rank_classification",
    "rank_regression",
    "regression_stats",
    "render_correlation_tables",
    "roc_curve",
    "separation_from_histograms",
    "separation_from_pdfs",
    "significance",
]


def __dir__() -> list[str]:
    return sorted(__all__)
