"""Evaluation of a regression method (``../shared/tmva/core.md`` §5.6).

:func:`regression_stats` is TMVA's ``MethodBase::TestRegression`` for the first target: with the
deviation ``d = r - t`` of the regression output ``r`` from the true target ``t`` and weights ``w``,

* ``bias = Σ w d / Σ w`` (mean deviation), ``dev = Σ w |d| / Σ w`` (mean absolute deviation),
  ``rms = sqrt(Σ w d² / Σ w - bias²)`` (the spread of the deviation);
* the truncated ``bias_t``, ``dev_t``, ``rms_t`` from the events with
  ``bias - 2 rms <= d <= bias + 2 rms``;
* the mutual information between ``r`` and ``t`` (:func:`mutual_information`), on all events and
  on the truncated ones.

:func:`evaluate_regression` computes them on the test and the training sample and builds the
histograms TMVA's ``ResultsRegression::CreateDeviationHistograms`` writes (prefix
``MVA_<T>test`` / ``MVA_<T>train``, no underscore): ``_reg_var<i>_rtgt<j>`` and
``_reg_tgt<i>_rtgt<j>`` (deviation of target ``j`` against input variable / target ``i``, 50×50
bins, unweighted), ``_Quadr_Deviation_target_<j>_`` (500 bins of ``d²``, weighted) and
``_Quadr_Dev_best90perc_target_<j>_`` (the same below the 90 % quantile of ``d²``).

Everything is computed in double precision (TMVA keeps some intermediate values in ``float``,
so bin edges can differ from TMVA's in the seventh digit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import hist
import numpy as np
import numpy.typing as npt

from .._html import html_table
from ..errors import DataError
from ..extras import new_axes
from ..histograms import axis_title, bin_edges, fill_th1, fill_th2
from ._util import F64, as_float_array, fill2d, sequential_sum

__all__ = [
    "RegressionResult",
    "RegressionStats",
    "evaluate_regression",
    "mutual_information",
    "regression_stats",
]


@dataclass(frozen=True)
class RegressionStats:
    """TMVA's regression figures of merit on one sample (first target).

    Attributes
    ----------
    bias, bias_t : float
        Weighted mean deviation ``<r - t>``, all events and truncated at ±2 rms.
    dev, dev_t : float
        Weighted mean absolute deviation ``<|r - t|>`` (TMVA's ranking key on the test sample).
    rms, rms_t : float
        Weighted standard deviation of ``r - t``.
    mutual_info, mutual_info_t : float
        Mutual information between ``r`` and ``t`` (nats); -1 if the histogram is empty.
    correlation : float
        Weighted linear correlation of ``r`` and ``t`` (computed, not printed, by TMVA, whose
        cross term is unweighted).
    n_events, n_truncated : int
        Events used, and events inside the ±2 rms window.
    """

    bias: float
    bias_t: float
    dev: float
    dev_t: float
    rms: float
    rms_t: float
    mutual_info: float
    mutual_info_t: float
    correlation: float
    n_events: int
    n_truncated: int


def mutual_information(
    r: npt.ArrayLike,
    t: npt.ArrayLike,
    w: npt.ArrayLike | None = None,
    lo: float | None = None,
    hi: float | None = None,
) -> float:
    """Mutual information of ``r`` and ``t`` as ``TMVA::Tools::GetMutualInformation`` estimates it.

    A weighted 2-D histogram with 150 (``r``) × 100 (``t``) bins, both axes on ``[lo, hi]``
    (default ``[min(r, t), max(r, t)]``; as in ROOT the upper edge is exclusive, so the events at
    the maximum fall in the overflow), is rebinned 2×2 to 75×50 and
    ``MI = Σ p_xy ln(p_xy / (p_x p_y))`` is summed over the bins where all three are positive.

    Returns
    -------
    float
        In nats; -1 if the histogram is empty (as TMVA), 0 if all values are equal.
    """
    rr = as_float_array(r, "regression output")
    tt = as_float_array(t, "regression target")
    ww = np.ones(rr.shape) if w is None else as_float_array(w, "weights")
    if rr.size == 0:
        return -1.0
    if lo is None:
        lo = float(min(rr.min(), tt.min()))
    if hi is None:
        hi = float(max(rr.max(), tt.max()))
    if not hi > lo:
        return 0.0 if np.sum(ww) > 0 else -1.0
    counts, _ = fill2d(rr, tt, ww, (lo, hi, 150), (lo, hi, 100))
    total = float(np.sum(counts))
    if total == 0.0:
        return -1.0
    h = counts.reshape(75, 2, 50, 2).sum(axis=(1, 3))
    pxy = h / total
    px = h.sum(axis=1) / total
    py = h.sum(axis=0) / total
    ok = (px[:, None] > 0) & (py[None, :] > 0) & (pxy > 0)
    ratio = np.where(ok, pxy, 1.0) / np.where(ok, px[:, None] * py[None, :], 1.0)
    return sequential_sum(np.where(ok, pxy * np.log(ratio), 0.0).ravel())


def regression_stats(pred: npt.ArrayLike, target: npt.ArrayLike, weights: npt.ArrayLike) -> RegressionStats:
    """TMVA's ``TestRegression`` on one sample: bias, deviation, RMS, mutual information.

    Parameters
    ----------
    pred, target : array_like, shape (n,)
        Regression output (after the inverse target transformation) and true target.
    weights : array_like, shape (n,)

    Returns
    -------
    RegressionStats

    Raises
    ------
    DataError
        For an empty sample, different lengths, non-finite values or a non-positive weight sum.
    """
    r = as_float_array(pred, "regression output")
    t = as_float_array(target, "regression target")
    w = as_float_array(weights, "weights")
    if not r.shape == t.shape == w.shape:
        raise DataError(
            f"regression output, target and weights differ in length: {r.shape}, {t.shape}, {w.shape}"
        )
    if r.size == 0:
        raise DataError("regression evaluation of an empty sample")
    sumw = float(np.sum(w))
    if not sumw > 0:
        raise DataError(f"sum of event weights is {sumw:g}: cannot compute the regression bias")
    d = r - t
    bias = float(np.sum(w * d)) / sumw
    dev = float(np.sum(w * np.abs(d))) / sumw
    rms = float(np.sqrt(max(float(np.sum(w * d * d)) / sumw - bias * bias, 0.0)))
    keep = (d >= bias - 2 * rms) & (d <= bias + 2 * rms)
    wt, dt = w[keep], d[keep]
    sumwt = float(np.sum(wt))
    if sumwt != 0.0:
        bias_t = float(np.sum(wt * dt)) / sumwt
        dev_t = float(np.sum(wt * np.abs(dt))) / sumwt
        rms_t = float(np.sqrt(max(float(np.sum(wt * dt * dt)) / sumwt - bias_t * bias_t, 0.0)))
    else:
        bias_t = dev_t = rms_t = float("nan")
    lo = float(min(r.min(), t.min()))
    hi = float(max(r.max(), t.max()))
    m1 = float(np.sum(w * t)) / sumw
    m2 = float(np.sum(w * r)) / sumw
    var1 = float(np.sum(w * (t - m1) ** 2)) / sumw
    var2 = float(np.sum(w * (r - m2) ** 2)) / sumw
    cov = float(np.sum(w * (t - m1) * (r - m2))) / sumw
    corr = cov / float(np.sqrt(var1 * var2)) if var1 > 0 and var2 > 0 else float("nan")
    return RegressionStats(
        bias=bias,
        bias_t=bias_t,
        dev=dev,
        dev_t=dev_t,
        rms=rms,
        rms_t=rms_t,
        mutual_info=mutual_information(r, t, w, lo, hi),
        mutual_info_t=mutual_information(r[keep], t[keep], wt, lo, hi),
        correlation=corr,
        n_events=int(r.size),
        n_truncated=int(np.count_nonzero(keep)),
    )


@dataclass(frozen=True, eq=False)
class RegressionResult:
    """Evaluation of one regression method.

    Attributes
    ----------
    title, dataset : str
    target_names : tuple of str
    test, train : RegressionStats
        Figures of merit of the first target on the test and the training sample.
    histograms : dict of str to hist.Hist
        The histograms TMVA writes to ``Method_<Type>/<Title>/``, by name (TH2F and TH1F, ``Weight``
        storage; see :mod:`pymva.histograms`).
    """

    title: str
    dataset: str
    target_names: tuple[str, ...]
    test: RegressionStats
    train: RegressionStats
    histograms: dict[str, hist.Hist[Any]] = field(default_factory=dict, repr=False)

    def plot(self, ax: Any = None, sample: str = "test", target: int = 0) -> Any:
        """Draw the deviation of target ``target`` against its true value (needs the ``plot`` extra).

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (a new one, not held by pyplot, without ``ax``).
        """

        ax = new_axes(ax)
        name = f"MVA_{self.title}{sample}_reg_tgt{target}_rtgt{target}"
        h = self.histograms[name]
        mesh = ax.pcolormesh(h.axes[0].edges, h.axes[1].edges, h.values().T, cmap="viridis")
        ax.figure.colorbar(mesh, ax=ax, label="events")
        ax.set_xlabel(axis_title(h, 0))
        ax.set_ylabel(axis_title(h, 1))
        ax.set_title(f"Regression deviation ({self.title}, {sample} sample)")
        return ax.figure

    def _repr_html_(self) -> str:
        rows = [
            (name, getattr(self.test, attr), getattr(self.train, attr))
            for name, attr in (
                ("bias", "bias"),
                ("bias (truncated)", "bias_t"),
                ("mean |deviation|", "dev"),
                ("mean |deviation| (truncated)", "dev_t"),
                ("RMS", "rms"),
                ("RMS (truncated)", "rms_t"),
                ("mutual information", "mutual_info"),
                ("mutual information (truncated)", "mutual_info_t"),
                ("correlation", "correlation"),
            )
        ]
        return html_table(
            f"Regression: {self.title} [{self.dataset}]", rows, header=("quantity", "test", "training")
        )


# ----------------------------------------------------------------------------------------------
# histograms of ResultsRegression
# ----------------------------------------------------------------------------------------------
def _widen(lo: float, hi: float) -> tuple[float, float]:
    """An axis for a constant quantity (ROOT would switch to automatic binning)."""
    if hi > lo:
        return lo, hi
    half = 0.5 if lo == 0 else abs(lo) * 0.01
    return lo - half, hi + half


def _deviation_hist(
    name: str, x: F64, diff: F64, x_range: tuple[float, float] | None, x_title: str, y_title: str
) -> hist.Hist[Any]:
    """``ResultsRegression::DeviationAsAFunctionOf``: 50×50 bins, unweighted."""
    xmin, xmax = float(x.min()), float(x.max())
    if x_range is not None:
        xmin, xmax = min(xmin, x_range[0]), max(xmax, x_range[1])
    eps = abs(xmax - xmin) / 49.0
    xmin, xmax = _widen(xmin - 1.01 * eps, xmax + 1.01 * eps)
    ymin, ymax = float(diff.min()), float(diff.max())
    eps = (ymax - ymin) / 49.0
    ymin, ymax = _widen(ymin - 1.01 * eps, ymax + 1.01 * eps)
    # unit weights; fEntries = every Fill call, statistics of the in-range fills (as ROOT)
    return fill_th2(
        name,
        name,
        x,
        diff,
        np.ones_like(x),
        (50, xmin, xmax),
        (50, ymin, ymax),
        x_title=x_title,
        y_title=y_title,
    )


def _quantile(counts: F64, edges: F64, prob: float) -> float:
    """``TH1::GetQuantiles`` for one probability."""
    nb = counts.shape[0]
    cum = np.concatenate(([0.0], np.add.accumulate(counts)))
    total = cum[-1]
    if total == 0:
        return 0.0
    cum = cum / total
    pos = int(np.searchsorted(cum[:nb], prob, side="left"))
    ibin = pos if pos < nb and cum[pos] == prob else pos - 1
    while ibin < nb - 1 and cum[ibin + 1] == prob:
        if cum[ibin + 2] == prob:
            ibin += 1
        else:
            break
    q = float(edges[ibin])
    dint = cum[ibin + 1] - cum[ibin]
    if dint > 0:
        q += float(edges[ibin + 1] - edges[ibin]) * (prob - cum[ibin]) / dint
    return q


def _quadratic_deviation_hists(prefix: str, j: int, d2: F64, w: F64) -> tuple[hist.Hist[Any], hist.Hist[Any]]:
    """``_Quadr_Deviation_target_<j>_`` and ``_Quadr_Dev_best90perc_target_<j>_`` (TH1F, 500 bins)."""
    hi = max(float(d2.max()), 0.0) * 1.1
    if not hi > 0:
        hi = 1.0
    name = f"{prefix}_Quadr_Deviation_target_{j}_"
    full = fill_th1(
        name,
        name,
        d2,
        w,
        500,
        0.0,
        hi,
        x_title="Quadratic Deviation",
        y_title="Weighted Entries",
        classname="TH1F",
    )
    c = np.asarray(full.values(), dtype=np.float64)
    q90 = _quantile(c, bin_edges(0.0, hi, 500), 0.9)
    hi_t = q90 * 1.1 if q90 > 0 else 1.0
    keep = d2 <= q90
    name = f"{prefix}_Quadr_Dev_best90perc_target_{j}_"
    trunc = fill_th1(
        name,
        name,
        d2[keep],
        w[keep],
        500,
        0.0,
        hi_t,
        x_title="Quadratic Deviation",
        y_title="Weighted Entries",
        classname="TH1F",
    )
    return full, trunc


def _as_2d(x: npt.ArrayLike, what: str) -> F64:
    a = np.asarray(x, np.float64)
    if a.ndim == 1:
        a = a[:, None]
    return as_float_array(a, what, ndim=2)


def _regression_histograms(
    prefix: str,
    pred: F64,
    target: F64,
    weights: F64,
    inputs: F64 | None,
    variable_names: Sequence[str],
    target_names: Sequence[str],
    variable_ranges: Sequence[tuple[float, float]] | None,
    target_ranges: Sequence[tuple[float, float]] | None,
) -> dict[str, hist.Hist[Any]]:
    out: dict[str, hist.Hist[Any]] = {}
    ntgt = target.shape[1]
    diffs = [pred[:, j] - target[:, j] for j in range(ntgt)]
    ytitles = [f"{target_names[j]}_{{regression}} - {target_names[j]}_{{true}}" for j in range(ntgt)]
    if inputs is not None:
        for i in range(inputs.shape[1]):
            for j in range(ntgt):
                name = f"{prefix}_reg_var{i}_rtgt{j}"
                rng = None if variable_ranges is None else variable_ranges[i]
                out[name] = _deviation_hist(name, inputs[:, i], diffs[j], rng, variable_names[i], ytitles[j])
    for i in range(ntgt):
        for j in range(ntgt):
            name = f"{prefix}_reg_tgt{i}_rtgt{j}"
            rng = None if target_ranges is None else target_ranges[i]
            out[name] = _deviation_hist(name, target[:, i], diffs[j], rng, target_names[i], ytitles[j])
    for j in range(ntgt):
        full, trunc = _quadratic_deviation_hists(prefix, j, diffs[j] ** 2, weights)
        out[f"{prefix}_Quadr_Deviation_target_{j}_"] = full
        out[f"{prefix}_Quadr_Dev_best90perc_target_{j}_"] = trunc
    return out


def evaluate_regression(
    title: str,
    dataset_name: str,
    test_pred: npt.ArrayLike,
    test_target: npt.ArrayLike,
    test_weights: npt.ArrayLike,
    train_pred: npt.ArrayLike,
    train_target: npt.ArrayLike,
    train_weights: npt.ArrayLike,
    *,
    test_inputs: npt.ArrayLike | None = None,
    train_inputs: npt.ArrayLike | None = None,
    variable_names: Sequence[str] | None = None,
    target_names: Sequence[str] | None = None,
    variable_ranges: Sequence[tuple[float, float]] | None = None,
    target_ranges: Sequence[tuple[float, float]] | None = None,
) -> RegressionResult:
    """Evaluate a regression method as TMVA's ``EvaluateAllMethods`` does (core.md §5.6).

    Parameters
    ----------
    title, dataset_name : str
        Method title and dataset (loader) name.
    test_pred, train_pred : array_like, shape (n,) or (n, n_targets)
        Regression outputs, after the inverse target transformation.
    test_target, train_target : array_like, same shapes
        True targets.
    test_weights, train_weights : array_like, shape (n,)
    test_inputs, train_inputs : array_like, shape (n, n_variables), optional
        Input variables, for the ``_reg_var<i>_rtgt<j>`` histograms (left out without them).
    variable_names, target_names : sequence of str, optional
        Axis titles (default ``var<i>``, ``target<j>``).
    variable_ranges, target_ranges : sequence of (min, max), optional
        The dataset's variable and target ranges (TMVA's ``VariableInfo`` min/max), which widen
        the histogram axes; by default the sample's own range.

    Returns
    -------
    RegressionResult
        Figures of merit of the first target; histograms of all targets.

    Raises
    ------
    DataError
        On inconsistent shapes, non-finite values or empty samples.
    """
    samples: dict[str, tuple[F64, F64, F64, F64 | None]] = {}
    for label, p, t, w, x in (
        ("test", test_pred, test_target, test_weights, test_inputs),
        ("train", train_pred, train_target, train_weights, train_inputs),
    ):
        pp = _as_2d(p, f"{label} regression output of '{title}'")
        tt = _as_2d(t, f"{label} regression targets")
        ww = as_float_array(w, f"{label} weights")
        xx = None if x is None else as_float_array(x, f"{label} input variables", ndim=2)
        if pp.shape != tt.shape:
            raise DataError(
                f"{label} sample of '{title}': outputs {pp.shape} and targets {tt.shape} differ in shape"
            )
        if ww.shape[0] != pp.shape[0] or (xx is not None and xx.shape[0] != pp.shape[0]):
            raise DataError(f"{label} sample of '{title}': arrays of different lengths")
        if pp.shape[0] == 0:
            raise DataError(f"{label} sample of '{title}' is empty")
        samples[label] = (pp, tt, ww, xx)
    ntgt = samples["test"][1].shape[1]
    tnames = list(target_names) if target_names is not None else [f"target{j}" for j in range(ntgt)]
    nvar = next((x.shape[1] for *_, x in samples.values() if x is not None), 0)
    vnames = list(variable_names) if variable_names is not None else [f"var{i}" for i in range(nvar)]
    stats = {k: regression_stats(p[:, 0], t[:, 0], w) for k, (p, t, w, _) in samples.items()}
    hists: dict[str, hist.Hist[Any]] = {}
    for label in ("test", "train"):
        p, t, w, x = samples[label]
        hists.update(
            _regression_histograms(
                f"MVA_{title}{label}", p, t, w, x, vnames, tnames, variable_ranges, target_ranges
            )
        )
    return RegressionResult(
        title=title,
        dataset=dataset_name,
        target_names=tuple(tnames),
        test=stats["test"],
        train=stats["train"],
        histograms=hists,
    )
