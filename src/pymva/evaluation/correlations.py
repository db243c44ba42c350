"""Inter-method correlations and overlaps (``Correlations=True``, ``../shared/tmva/core.md`` §2.5).

TMVA's ``Factory::EvaluateAllMethods`` with ``Correlations`` computes, on the test sample and per
class (signal, background):

* the linear correlation matrix of the method responses and the input variables together
  (unweighted, as ``TPrincipal`` computes it), from which it prints the inter-method block and the
  variable-vs-method block;
* the "signal-like" reference cut of each method (:attr:`ClassificationResult.signal_reference_cut`);
* the overlap matrix: the fraction of events (unweighted, divided by the number of events of the
  class) for which methods ``i`` and ``j`` agree on signal-likeness,
  ``(y_i - cut_i)(y_j - cut_j) > 0``.

A NaN response is counted as 0, as in TMVA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._html import html_table
from ..errors import DataError
from ._util import F64, as_bool_array

__all__ = ["CorrelationResult", "correlation_matrix", "evaluate_correlations"]


@dataclass(frozen=True, eq=False)
class CorrelationResult:
    """Correlations and overlaps of the classifiers of one dataset.

    Attributes
    ----------
    dataset : str
    method_titles : tuple of str
    variable_labels : tuple of str
    mva_correlation_signal, mva_correlation_background : ndarray (n_methods, n_methods)
    variable_mva_correlation_signal, variable_mva_correlation_background : ndarray (n_variables, n_methods)
    signal_reference_cuts : ndarray (n_methods,)
    overlap_signal, overlap_background : ndarray (n_methods, n_methods)
    """

    dataset: str
    method_titles: tuple[str, ...]
    variable_labels: tuple[str, ...]
    mva_correlation_signal: F64
    mva_correlation_background: F64
    variable_mva_correlation_signal: F64
    variable_mva_correlation_background: F64
    signal_reference_cuts: F64
    overlap_signal: F64
    overlap_background: F64

    def _repr_html_(self) -> str:
        rows = [
            (t, c, *(f"{x:+.3f}" for x in self.overlap_signal[i]))
            for i, (t, c) in enumerate(zip(self.method_titles, self.signal_reference_cuts, strict=True))
        ]
        return html_table(
            f"Signal-like cuts and overlap (signal) [{self.dataset}]",
            rows,
            header=("method", "cut", *self.method_titles),
        )


def correlation_matrix(data: F64) -> F64:
    """Correlation matrix of the columns of ``data`` as ``TPrincipal`` + ``Tools::GetCorrelationMatrix``.

    Unweighted; off-diagonal elements with ``var_i var_j <= 1e-20`` are 0; the diagonal is 1.
    """
    n, m = data.shape
    if n == 0:
        out = np.zeros((m, m))
        np.fill_diagonal(out, 1.0)
        return out
    centred = data - data.mean(axis=0)
    cov = centred.T @ centred / n
    var = np.diag(cov)
    d = var[:, None] * var[None, :]
    ok = d > 1e-20
    corr = np.where(ok, cov / np.sqrt(np.where(ok, d, 1.0)), 0.0)
    np.fill_diagonal(corr, 1.0)
    return corr


def _overlap(y: F64, cuts: F64) -> F64:
    a = y - cuts
    pos = (a > 0).astype(np.float64)
    neg = (a < 0).astype(np.float64)
    n = y.shape[0]
    counts = pos.T @ pos + neg.T @ neg
    return counts / n if n else np.full(counts.shape, np.nan)


def evaluate_correlations(
    dataset_name: str,
    method_titles: Sequence[str],
    responses: npt.ArrayLike,
    inputs: npt.ArrayLike,
    variable_labels: Sequence[str],
    is_signal: npt.ArrayLike,
    reference_cuts: Sequence[float] | npt.ArrayLike,
) -> CorrelationResult:
    """Correlations and overlaps of the methods of one dataset on its test sample.

    Parameters
    ----------
    dataset_name : str
    method_titles : sequence of str, length m
    responses : array_like, shape (n, m)
        Test-sample responses, one column per method.
    inputs : array_like, shape (n, n_variables)
        Test-sample input variables.
    variable_labels : sequence of str
    is_signal : array_like of bool, shape (n,)
    reference_cuts : sequence of float, length m
        The signal-like cut of each method.

    Returns
    -------
    CorrelationResult

    Raises
    ------
    DataError
        On inconsistent shapes.
    """
    y = np.asarray(responses, np.float64)
    if y.ndim == 1:
        y = y[:, None]
    x = np.asarray(inputs, np.float64)
    if x.ndim == 1:
        x = x[:, None]
    titles = tuple(str(t) for t in method_titles)
    labels = tuple(str(v) for v in variable_labels)
    cuts = np.asarray(reference_cuts, np.float64).reshape(-1)
    if y.ndim != 2 or y.shape[1] != len(titles) or cuts.shape[0] != len(titles):
        raise DataError(f"responses {y.shape} and cuts {cuts.shape} do not match {len(titles)} methods")
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[1] != len(labels):
        raise DataError(f"inputs {x.shape} do not match {y.shape[0]} events and {len(labels)} variables")
    sig = as_bool_array(is_signal, "signal flags", y.shape[0])
    y = np.where(np.isnan(y), 0.0, y)
    m = len(titles)
    out: dict[str, F64] = {}
    for cls, mask in (("signal", sig), ("background", ~sig)):
        corr = correlation_matrix(np.hstack([y[mask], x[mask]]))
        out[f"mva_{cls}"] = corr[:m, :m]
        out[f"var_{cls}"] = corr[m:, :m]
        out[f"overlap_{cls}"] = _overlap(y[mask], cuts)
    return CorrelationResult(
        dataset=dataset_name,
        method_titles=titles,
        variable_labels=labels,
        mva_correlation_signal=out["mva_signal"],
        mva_correlation_background=out["mva_background"],
        variable_mva_correlation_signal=out["var_signal"],
        variable_mva_correlation_background=out["var_background"],
        signal_reference_cuts=cuts,
        overlap_signal=out["overlap_signal"],
        overlap_background=out["overlap_background"],
    )
