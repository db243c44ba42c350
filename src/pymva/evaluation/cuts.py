"""Evaluation of a ``Cuts`` method: TMVA's ``MethodCuts::GetEfficiency`` and ``GetTrainingEfficiency``.

MethodCuts replaces the response-based evaluation of ``MethodBase`` (its response is only 1/0 for one
working point): the efficiencies come from the cuts of the method's signal-efficiency bins applied
to the test and the training sample.  With ``(effS_i, effB_i)`` the efficiencies of the cuts of bin
``i = 1 … nbins`` (:meth:`pymva.methods.cuts.MethodCuts.bin_efficiencies`):

* test sample: the graph ``(0, 0), (effS_1, effB_1), …, (effS_n, effB_n), (1, 1)`` interpolated
  linearly (``TSpline1``, the points in bin order) gives ``MVA_<T>_effBvsS`` at the bin centres and
  ``rejBvsS = 1 − effBvsS``; ``MVA_<T>_effS``/``_effB`` hold ``effS_i``/``effB_i`` (axis
  ``[0, 1.000001]``);
* the signal efficiency at background efficiency ``b`` is TMVA's 1000-point scan of that graph
  (the first point with ``(effB − b)(effB_prev − b) < 0``, the mean of the two points), its error
  ``sqrt(e(1 − e)/N_S)`` with ``N_S`` the number of signal test events; ``effArea`` is the mean of
  ``1 − effB`` over the scan (the "ROC-integ" column of TMVA's table for Cuts);
* training sample: ``MVA_<T>_trainingEffBvsS`` holds ``effB_i`` where ``effS_i`` falls into bin ``i``
  (``-0.1`` elsewhere; a warning counts the bins left out) and its bin-centre graph gives the
  training efficiencies at ``b`` by the same scan.

Separation and significance are ``-1`` (TMVA's ``GetSeparation``/``GetSignificance`` for Cuts).
"""

from __future__ import annotations

from typing import Any

import hist
import numpy as np
import numpy.typing as npt

from ..histograms import fixed_axis, new_hist
from ..logger import get_logger
from ._util import F64, as_bool_array, as_float_array
from .classification import EFF_B_POINTS, ClassificationResult
from .roc import roc_curve

__all__ = ["cuts_eff_s_at_eff_b", "evaluate_cuts", "tspline1_eval"]


def tspline1_eval(xs: npt.ArrayLike, ys: npt.ArrayLike, x: float) -> float:
    """``TMVA::TSpline1::Eval`` on a graph whose points need not be sorted.

    The bracketing point is found by the binary search of ``std::lower_bound`` on the reversed
    points (as TMVA does), so that for unsorted points the same segment is chosen.

    Parameters
    ----------
    xs, ys : array_like, shape (n,)
    x : float

    Returns
    -------
    float
        ``inf``/``nan`` where the segment has zero width (TMVA divides by zero there too).
    """
    fx = [float(v) for v in np.asarray(xs, dtype=np.float64)]
    fy = [float(v) for v in np.asarray(ys, dtype=np.float64)]
    n = len(fx)
    # std::lower_bound(rbegin, rend, x, greater): first k with !(r[k] > x), r[k] = fx[n-1-k]
    first, count = 0, n
    while count > 0:
        step = count // 2
        k = first + step
        if fx[n - 1 - k] > x:
            first = k + 1
            count -= step + 1
        else:
            count = step
    ibin = n - first - 1
    ibin = min(max(ibin, 0), n - 1)
    nxt = ibin + 1 if ((x > fx[ibin] and ibin != n - 1) or ibin == 0) else ibin - 1
    dx = fx[ibin] - fx[nxt]
    dy = fy[ibin] - fy[nxt]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = float(np.float64(dy) / np.float64(dx))
    return fy[ibin] + (x - fx[ibin]) * slope


def cuts_eff_s_at_eff_b(xs: F64, ys: F64, eff_b: float) -> float:
    """TMVA's scan for the signal efficiency at background efficiency ``eff_b`` (1000 points).

    Parameters
    ----------
    xs, ys : ndarray
        The graph (signal efficiency, background efficiency).
    eff_b : float
        The background efficiency (TMVA reads it into a ``Float_t``).

    Returns
    -------
    float
    """
    ref = float(np.float32(eff_b))
    es = es_prev = 0.0
    eb_prev = 0.0
    for k in range(1, 1001):
        es = (k - 0.5) / 1000.0
        eb = tspline1_eval(xs, ys, es)
        if (eb - ref) * (eb_prev - ref) < 0:
            break
        es_prev, eb_prev = es, eb
    return 0.5 * (es + es_prev)


def _th1f(name: str, title: str, lo: float, hi: float, counts: F64, entries: float) -> hist.Hist[Any]:
    """A TH1F filled with ``SetBinContent`` (each call one entry, no fill statistics, no Sumw2)."""
    return new_hist(
        name,
        title,
        [fixed_axis(counts.shape[0], lo, hi)],
        counts,
        None,
        classname="TH1F",
        entries=float(entries),
        stats=(0.0, 0.0, 0.0, 0.0),
    )


def evaluate_cuts(
    title: str,
    dataset_name: str,
    test_efficiencies: tuple[npt.ArrayLike, npt.ArrayLike],
    train_efficiencies: tuple[npt.ArrayLike, npt.ArrayLike],
    *,
    n_signal_test: int,
    test_values: npt.ArrayLike,
    test_weights: npt.ArrayLike,
    test_is_signal: npt.ArrayLike,
    eff_b_local: npt.ArrayLike | None = None,
) -> ClassificationResult:
    """The Factory's evaluation of a Cuts method (see the module docstring).

    Parameters
    ----------
    title, dataset_name : str
    test_efficiencies, train_efficiencies : (eff_s, eff_b), each array_like of shape (nbins,)
        The efficiencies of each bin's cuts on the test and on the training sample.
    n_signal_test : int
        Number of signal events in the test sample (``DataSet::GetNEvtSigTest``).
    test_values, test_weights, test_is_signal : array_like, shape (n_test,)
        The TestTree responses (0 for every event in the Factory), their weights and classes: the
        ROC curve of the result (``Factory::GetROCIntegral``).
    eff_b_local : array_like, shape (nbins,), optional
        The method's ``fEffBvsSLocal`` (written as ``MVA_<T>_effBvsSLocal``).

    Returns
    -------
    ClassificationResult
        ``eff_area`` the area of the ``effBvsS`` curve, ``separation = significance = -1``.

    Raises
    ------
    DataError
        For non-finite efficiencies or arrays of different lengths.
    """
    es_t = as_float_array(test_efficiencies[0], "test signal efficiencies of the cuts")
    eb_t = as_float_array(test_efficiencies[1], "test background efficiencies of the cuts")
    es_r = as_float_array(train_efficiencies[0], "training signal efficiencies of the cuts")
    eb_r = as_float_array(train_efficiencies[1], "training background efficiencies of the cuts")
    nbins = es_t.shape[0]
    tv = f"MVA_{title}"
    log = get_logger(title, "pymva.method.Cuts")

    # GetEfficiency: the graph (0,0), bins, (1,1), evaluated at the bin centres
    gx = np.concatenate(([0.0], es_t, [1.0]))
    gy = np.concatenate(([0.0], eb_t, [1.0]))
    centres = (np.arange(1, nbins + 1, dtype=np.float64) - 0.5) / float(np.float32(nbins))
    eff_bvss = np.array([tspline1_eval(gx, gy, float(c)) for c in centres])
    scan = (np.arange(1, 1001, dtype=np.float64) - 0.5) / 1000.0
    area = 0.0
    for e in scan.tolist():
        area += 1.0 - tspline1_eval(gx, gy, e)
    eff_area = area / 1000
    effs = [cuts_eff_s_at_eff_b(gx, gy, b) for b in EFF_B_POINTS]
    errs = [float(np.sqrt(e * (1.0 - e) / n_signal_test)) if n_signal_test > 0 else 0.0 for e in effs]

    # GetTrainingEfficiency: bins whose training effS falls into the bin, then the bin-centre graph
    from ..methods.cuts import find_bin

    ok = find_bin(es_r, nbins) == np.arange(1, nbins + 1)
    n_failed = int(np.count_nonzero(~ok))
    if n_failed:
        log.warning(" unable to fill %d efficiency bins ", n_failed)
    tr_bvss = np.where(ok, eb_r, float(np.float32(-0.1)))
    tr_rej = np.where(ok, 1.0 - eb_r, 0.0)
    tr_centres = 0.0 + (np.arange(nbins, dtype=np.float64) + 0.5) * (1.0 / nbins)  # TAxis::GetBinCenter
    tr_y = tr_bvss.astype(np.float32).astype(np.float64)  # the graph reads the TH1F contents
    train_effs = [cuts_eff_s_at_eff_b(tr_centres, tr_y, b) for b in EFF_B_POINTS]

    hists: dict[str, hist.Hist[Any]] = {}
    if eff_b_local is not None:
        local = np.asarray(eff_b_local, dtype=np.float64)
        hists[f"{tv}_effBvsSLocal"] = _th1f(
            f"{tv}_effBvsSLocal", f"{title} efficiency of B vs S", 0.0, 1.0, local, 2 * local.shape[0]
        )
    hists[f"{tv}_effBvsS"] = _th1f(f"{tv}_effBvsS", tv, 0.0, 1.0, eff_bvss, 2 * nbins)
    hists[f"{tv}_rejBvsS"] = _th1f(f"{tv}_rejBvsS", tv, 0.0, 1.0, 1.0 - eff_bvss, 2 * nbins)
    hists[f"{tv}_effS"] = _th1f(f"{tv}_effS", f"{tv} (signal)", 0.0, 1.000001, es_t, 2 * nbins)
    hists[f"{tv}_effB"] = _th1f(f"{tv}_effB", f"{tv} (background)", 0.0, 1.000001, eb_t, 2 * nbins)
    n_filled = nbins + int(np.count_nonzero(ok))
    hists[f"{tv}_trainingEffBvsS"] = _th1f(f"{tv}_trainingEffBvsS", tv, 0.0, 1.0, tr_bvss, n_filled)
    hists[f"{tv}_trainingRejBvsS"] = _th1f(f"{tv}_trainingRejBvsS", tv, 0.0, 1.0, tr_rej, n_filled)

    yt = as_float_array(np.asarray(test_values).reshape(-1), f"test responses of '{title}'")
    wt = as_float_array(test_weights, "test weights")
    st = as_bool_array(test_is_signal, "test signal flags", yt.shape[0])
    curve = roc_curve(yt, wt, st)
    return ClassificationResult(
        title=title,
        dataset=dataset_name,
        roc_integral=curve.auc,
        roc_curve=curve,
        train_roc_integral=float("nan"),
        eff_at_01=effs[0],
        eff_at_10=effs[1],
        eff_at_30=effs[2],
        eff_at_01_error=errs[0],
        eff_at_10_error=errs[1],
        eff_at_30_error=errs[2],
        train_eff_at_01=train_effs[0],
        train_eff_at_10=train_effs[1],
        train_eff_at_30=train_effs[2],
        eff_area=eff_area,
        separation=-1.0,
        separation_hist=-1.0,
        significance=-1.0,
        ks_signal=-1.0,
        ks_background=-1.0,
        signal_reference_cut=0.0,
        cut_orientation=1,
        mean_signal=0.0,
        mean_background=0.0,
        rms_signal=0.0,
        rms_background=0.0,
        xmin=0.0,
        xmax=1.0,
        method_type="Cuts",
        histograms=hists,
    )
