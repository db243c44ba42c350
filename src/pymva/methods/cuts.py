"""``Cuts`` (``Types.kCuts``): TMVA's rectangular cut optimisation (``MethodCuts.cxx``, ``MethodCuts.h``).

For every one of ``NBINS = 100`` signal-efficiency bins on ``[0, 1]`` (TMVA's ``fNbins``, the
``fNbinsXOfROCCurve`` of its configuration) the method keeps the cut set ``cutMin_j < x_j <= cutMax_j``
with the lowest background efficiency found so far (the histogram ``fEffBvsSLocal``):

* the fit parameters are, per variable, the lower cut and the width of the window
  (``MatchParsToCuts``), searched in the variable's cut range: ``CutRangeMin[i]``/``CutRangeMax[i]``
  or, where they are equal (the default ``-1``), the training range widened by 1 % on each side;
  ``VarProp[i]=FMin`` fixes the lower cut at the range minimum (written as ``-1e30``), ``FMax`` the
  width at the full range (upper cut written as ``+1e30``), ``FSmart`` picks ``FMax`` where the
  signal mean is larger than the background mean, else ``FMin`` (for the fitters only: with
  ``EventScan`` and ``MCEvents`` TMVA leaves an ``FSmart`` variable unforced);
* each parameter set the fitter tries is scored by ``ComputeEstimator``: the signal and background
  efficiencies of the cut set (``GetEffsfromSelection``: weighted counts of the training events
  inside the box, as float32 ratios), the bin of the signal efficiency, and TMVA's estimator
  ``(−|effBH − avg| + 1 − (effBH − effB)) / (1 + effS)`` with a penalty pushing the fit out of the
  first bin; a cut set that beats the stored background efficiency of its bin replaces it;
* the fitters are pymva's (:mod:`pymva.methods.fitters`): ``FitMethod=MC`` (``MCFitter``, TMVA's
  random draws, the whole sample scored in vectorised batches), ``GA`` (``GeneticFitter``), ``SA``
  (``SimulatedAnnealingFitter``), ``MINUIT`` (``MinuitFitter``, with TMVA's warning), and TMVA's
  deprecated ``MCEvents`` (cuts from random pairs of training events, ``SampleSize=200000``,
  ``Seed=100``) and ``EventScan`` (every pair of signal events).

Response (``GetMvaValue``): 1 if the event passes the cuts of the requested signal efficiency, else
0; the efficiency is set with :meth:`MethodCuts.SetTestSignalEfficiency` (the Reader's
``EvaluateMVA(tag, aux=effS)``), and is ``-1`` otherwise, so that the Factory's TestTree holds 0 for
every event, as TMVA's does.  As TMVA, the cuts used for ``effS`` are those of the array index
``FindBin(effS)``, i.e. of the histogram bin one above the bin of ``effS``.

Evaluation (the Factory): TMVA's ``MethodCuts::GetEfficiency`` and ``GetTrainingEfficiency`` replace
the response-based efficiencies (:func:`pymva.evaluation.cuts.evaluate_cuts`, called by the Factory with :meth:`MethodCuts.cut_efficiencies`).

Weights file: ``<Weights OptimisationMethod FitMethod nbins>`` with one ``<Bin ibin effS effB>``
holding ``<Cuts cutMin_0 cutMax_0 …/>`` per bin.  No ranking (TMVA's ``CreateRanking`` returns none).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, OptionError
from ..options import OptionsBase, kwargs_to_tokens, non_negative, option, parse_option_string
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .fitters import FITTERS, FitterBase, Interval
from .fitters.base import split_fitter_options
from .registry import register_method
from .trandom3 import TRandom3

__all__ = [
    "FIT_METHOD_CODES",
    "MAX_ABS_CUT",
    "NBINS",
    "CutsEstimator",
    "CutsOptions",
    "MethodCuts",
    "find_bin",
    "selection_efficiencies",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Signal-efficiency bins of the optimisation (TMVA's ``fNbins`` = ``fNbinsXOfROCCurve``).
NBINS = 100
#: ``MethodCuts::fgMaxAbsCutVal``: the cut written for a side that ``FMin``/``FMax`` leaves open.
MAX_ABS_CUT = 1.0e30
#: ``EFitMethodType``: the ``FitMethod`` attribute of the weights file.
FIT_METHOD_CODES: dict[str, int] = {"MC": 0, "GA": 1, "SA": 2, "MINUIT": 3, "EventScan": 4, "MCEvents": 5}
#: ``EEffMethod``: the ``OptimisationMethod`` attribute (TMVA always ends up with 0, see below).
EFF_METHOD_CODES: dict[str, int] = {"EffSel": 0, "EffPDF": 1}
_READ_MESSAGES = {
    0: "Read cuts optimised using sample of MC events",
    5: "Read cuts optimised using sample of MC-Event events",
    1: "Read cuts optimised using Genetic Algorithm",
    2: "Read cuts optimised using Simulated Annealing algorithm",
    4: "Read cuts optimised using Full Event Scan",
}
_VAR_PROPS = ("NotEnforced", "FMax", "FMin", "FSmart")
_CHUNK_CELLS = 1 << 22  # candidate cut sets x events evaluated at once


@dataclass(frozen=True)
class CutsOptions(BaseMethodOptions):
    """Options of ``MethodCuts::DeclareOptions`` (the per-variable arrays are added per job)."""

    FitMethod: str = option(
        "GA",
        "Minimisation Method (GA, SA, and MC are the primary methods to be used; the others have been "
        "introduced for testing purposes and are depreciated)",
        allowed=tuple(FIT_METHOD_CODES),
    )
    EffMethod: str = option("EffSel", "Selection Method", allowed=tuple(EFF_METHOD_CODES))


@functools.lru_cache(maxsize=64)
def _options_for(n_vars: int) -> type[CutsOptions]:
    """``CutsOptions`` plus ``CutRangeMin``, ``CutRangeMax`` and ``VarProp`` with one element per variable."""
    fields = [
        (
            "CutRangeMin",
            tuple[float, ...],
            option((-1.0,) * n_vars, "Minimum of allowed cut range (set per variable)", size=n_vars),
        ),
        (
            "CutRangeMax",
            tuple[float, ...],
            option((-1.0,) * n_vars, "Maximum of allowed cut range (set per variable)", size=n_vars),
        ),
        (
            "VarProp",
            tuple[str, ...],
            option(("NotEnforced",) * n_vars, "Categorisation of cuts", allowed=_VAR_PROPS, size=n_vars),
        ),
    ]
    cls = dataclasses.make_dataclass(f"CutsOptions{n_vars}", fields, bases=(CutsOptions,), frozen=True)
    return typing.cast("type[CutsOptions]", cls)


@dataclass(frozen=True)
class _MCEventsOptions(OptionsBase):
    """The two options ``MethodCuts::Train`` declares for ``FitMethod=MCEvents``."""

    component_name = "MCEvents"
    SampleSize: int = option(200000, "Number of Monte-Carlo-Event samples", check=non_negative)
    Seed: int = option(100, "Seed for the random generator (0 takes random seeds)", check=non_negative)


def _fitter_options_class(fit_method: str) -> type[OptionsBase] | None:
    if fit_method == "MCEvents":
        return _MCEventsOptions
    if fit_method == "EventScan":
        return None
    return FITTERS[fit_method].Options


_FITTER_NAMES = frozenset(
    d.name.lower()
    for cls in (*FITTERS.values(), None)
    for d in (cls.Options.declarations() if cls is not None else _MCEventsOptions.declarations())
)


def find_bin(x: npt.ArrayLike, nbins: int = NBINS) -> npt.NDArray[np.intp]:
    """ROOT's ``TAxis::FindBin`` on ``nbins`` bins of ``[0, 1]``: 0 below, ``nbins + 1`` from 1 on.

    Parameters
    ----------
    x : array_like of float
    nbins : int

    Returns
    -------
    ndarray of intp, same shape as ``x``
    """
    a = np.asarray(x, dtype=np.float64)
    inner = (
        1 + np.floor(nbins * a / 1.0).astype(np.intp, copy=False) if a.size else np.zeros(a.shape, np.intp)
    )
    return np.where(a < 0.0, 0, np.where(a >= 1.0, nbins + 1, inner)).astype(np.intp)


def selection_efficiencies(
    X: npt.ArrayLike,
    weights: npt.ArrayLike,
    is_signal: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
) -> tuple[F64, F64]:
    """Signal and background efficiencies of many cut sets (``MethodCuts::GetEffsfromSelection``).

    An event passes a cut set when ``lower_j < x_j <= upper_j`` for every variable ``j`` (TMVA's
    ``BinarySearchTree::InVolume``); the efficiency is the passing weight over the total weight of
    the class, both rounded to float32 and divided in float32 (TMVA's ``Float_t`` counters).
    Negative efficiencies become 0.

    Parameters
    ----------
    X : array_like, shape (n_events, n_variables)
        Events (float32, as TMVA's ``Event`` values).
    weights : array_like, shape (n_events,)
    is_signal : array_like of bool, shape (n_events,)
    lower, upper : array_like, shape (n_sets, n_variables)
        The cut sets.

    Returns
    -------
    eff_s, eff_b : ndarray of float64, shape (n_sets,)
        Each a float32 value.

    Raises
    ------
    ModelError
        If neither class has any weight (TMVA's fatal "zero total number of events").
    """
    x = np.asarray(X, dtype=np.float32)
    w = np.asarray(weights, dtype=np.float32).astype(np.float64)
    sig = np.asarray(is_signal, dtype=bool)
    # lo < x and x <= hi for float32 x, compared exactly in float32 (half the memory traffic)
    lo = _float32_above(np.atleast_2d(np.asarray(lower, dtype=np.float64)))
    hi = _float32_at_or_below(np.atleast_2d(np.asarray(upper, dtype=np.float64)))
    tot_s = np.float32(np.sum(w[sig]))
    tot_b = np.float32(np.sum(w[~sig]))
    if tot_s == 0 and tot_b == 0:
        raise ModelError(
            "<GetEffsfromSelection> fatal error in zero total number of events: nTotS, nTotB: 0 0 ***"
        )
    m = lo.shape[0]
    sel_s = np.zeros(m, dtype=np.float64)
    sel_b = np.zeros(m, dtype=np.float64)
    for mask, out in ((sig, sel_s), (~sig, sel_b)):
        xc, wc = x[mask], w[mask]
        if xc.shape[0] == 0:
            continue
        # equal weights (NormMode=NumEvents, unweighted trees): count × weight is the exact sum
        uniform = bool(np.all(wc == wc[0]))
        step = max(1, _CHUNK_CELLS // xc.shape[0])
        for start in range(0, m, step):
            sl = slice(start, min(m, start + step))
            inside = np.ones((sl.stop - sl.start, xc.shape[0]), dtype=bool)
            for j in range(x.shape[1]):
                col = xc[:, j]
                inside &= lo[sl, j, None] <= col
                inside &= col <= hi[sl, j, None]
            if uniform:
                out[sl] = np.count_nonzero(inside, axis=1) * wc[0]
            else:
                out[sl] = inside @ wc
    with np.errstate(divide="ignore", invalid="ignore"):
        eff_s = (sel_s.astype(np.float32) / tot_s) if tot_s != 0 else np.zeros(m, np.float32)
        eff_b = (sel_b.astype(np.float32) / tot_b) if tot_b != 0 else np.zeros(m, np.float32)
    eff_s = np.maximum(np.asarray(eff_s, dtype=np.float32), np.float32(0))
    eff_b = np.maximum(np.asarray(eff_b, dtype=np.float32), np.float32(0))
    return eff_s.astype(np.float64), eff_b.astype(np.float64)


def _float32_above(lower: F64) -> F32:
    """The smallest float32 ``c > lower`` (elementwise): ``lower < x`` ⇔ ``x >= c`` for float32 ``x``."""
    c = lower.astype(np.float32)
    low = c.astype(np.float64) <= lower
    c[low] = np.nextafter(c[low], np.float32(np.inf))
    return c


def _float32_at_or_below(upper: F64) -> F32:
    """The largest float32 ``d <= upper`` (elementwise): ``x <= upper`` ⇔ ``x <= d`` for float32 ``x``."""
    d = upper.astype(np.float32)
    high = d.astype(np.float64) > upper
    d[high] = np.nextafter(d[high], np.float32(-np.inf))
    return d


class CutsEstimator:
    """TMVA's ``MethodCuts::ComputeEstimator`` and the ``fEffBvsSLocal`` table it fills.

    A fitter target (``EstimatorFunction``); :meth:`EstimatorFunctionBatch` scores many parameter
    sets at once (their efficiencies computed together, the table updated set after set in order,
    so that the result is that of as many single calls).

    Parameters
    ----------
    X : ndarray of float32, shape (n_events, n_variables)
        The (transformed) training events.
    weights : ndarray, shape (n_events,)
    is_signal : ndarray of bool, shape (n_events,)
    cut_range : sequence of (float, float)
        ``fCutRange``: the range of each variable (for the penalty of the first bin).
    nbins : int

    Attributes
    ----------
    eff_b : ndarray of float32, shape (nbins + 2,)
        ``fEffBvsSLocal`` with its under- and overflow bins (in-range bins start at ``-0.1``).
    cut_min, cut_max : ndarray of float64, shape (nbins, n_variables)
        ``fCutMin``, ``fCutMax`` (index ``ibin − 1`` for histogram bin ``ibin``).
    n_updates : int
        How often a bin was improved (each is a ``SetBinContent`` in TMVA).
    """

    def __init__(
        self,
        X: F32,
        weights: npt.ArrayLike,
        is_signal: npt.ArrayLike,
        cut_range: Sequence[tuple[float, float]],
        nbins: int = NBINS,
    ) -> None:
        self.X = np.asarray(X, dtype=np.float32)
        self.weights = np.asarray(weights, dtype=np.float32)
        self.is_signal = np.asarray(is_signal, dtype=bool)
        self.nvar = self.X.shape[1]
        self.nbins = int(nbins)
        self.range_min = np.array([r[0] for r in cut_range], dtype=np.float64)
        self.range_max = np.array([r[1] for r in cut_range], dtype=np.float64)
        self.eff_b = np.zeros(self.nbins + 2, dtype=np.float32)
        self.eff_b[1 : self.nbins + 1] = np.float32(-0.1)
        self.cut_min = np.zeros((self.nbins, self.nvar), dtype=np.float64)
        self.cut_max = np.zeros((self.nbins, self.nvar), dtype=np.float64)
        self.n_updates = 0

    def pars_to_cuts(self, pars: npt.ArrayLike) -> tuple[F64, F64]:
        """``MatchParsToCuts``: (lower, upper) of shape (n_sets, n_variables) from (lower, width) pairs."""
        p = np.atleast_2d(np.asarray(pars, dtype=np.float64))
        lower = p[:, 0::2]
        return lower.copy(), lower + p[:, 1::2]

    def EstimatorFunction(self, parameters: Sequence[float]) -> float:
        """The estimator for one parameter set ``(min_0, width_0, min_1, width_1, …)``."""
        return float(self.EstimatorFunctionBatch(np.asarray(parameters, dtype=np.float64)[None, :])[0])

    def EstimatorFunctionBatch(self, parameters: npt.ArrayLike) -> F64:
        """The estimators of parameter sets of shape (n_sets, 2·n_variables), scored in order.

        Returns
        -------
        ndarray of float64, shape (n_sets,)
        """
        lower, upper = self.pars_to_cuts(parameters)
        return self.score_cuts(lower, upper)

    def score_cuts(self, lower: F64, upper: F64) -> F64:
        """Score cut sets given as lower and upper cuts (shape (n_sets, n_variables)), in order."""
        eff_s, eff_b = selection_efficiencies(self.X, self.weights, self.is_signal, lower, upper)
        bins = find_bin(eff_s, self.nbins).tolist()
        hist = self.eff_b.astype(np.float64).tolist()  # float32 values: Python floats hold them exactly
        nb = self.nbins
        out = [0.0] * len(bins)
        first_bin: list[int] = []  # the sets of the first bin (penalty), computed afterwards
        updated: dict[int, int] = {}  # bin -> the last set that improved it
        for k, (ib, es, eb) in enumerate(zip(bins, eff_s.tolist(), eff_b.tolist(), strict=True)):
            bh = hist[ib]
            if bh < eb:
                average = bh
            else:
                left = hist[ib - 1] if ib > 1 else bh
                right = hist[ib + 1] if ib < nb else bh
                average = 0.5 * (left + right)
            if bh < 0 or bh > eb:
                hist[ib] = eb  # eb is a float32 value, as the TH1F stores it
                updated[ib] = k
            if ib <= 1:
                first_bin.append(k)
            else:
                out[k] = (-abs(bh - average) + (1.0 - (bh - eb))) / (1.0 + es)
        self.eff_b[:] = np.asarray(hist, dtype=np.float32)
        if updated:
            ib_arr = np.fromiter(updated.keys(), dtype=np.intp)
            k_arr = np.fromiter(updated.values(), dtype=np.intp)
            self.cut_min[ib_arr - 1] = lower[k_arr]
            self.cut_max[ib_arr - 1] = upper[k_arr]
            self.n_updates += len(updated)
        result = np.asarray(out, dtype=np.float64)
        if first_bin:
            idx = np.asarray(first_bin, dtype=np.intp)
            width = self.range_max - self.range_min
            d_max = (self.range_max - upper[idx]) / width
            d_min = (self.range_min - lower[idx]) / width
            penalty = np.zeros(len(idx), dtype=np.float64)
            for j in range(self.nvar):  # accumulated variable after variable, as TMVA's loop
                penalty += d_max[:, j] * d_max[:, j]
                penalty += 4.0 * d_min[:, j] * d_min[:, j]
            es_first = eff_s[idx]
            result[idx] = np.where(es_first < 1.0e-4, 10.0 + penalty, 10.0 * (1.0 - 10.0 * es_first))
        return result


def _float32_mean(x: F32, w: F32) -> float:
    """``BinarySearchTree::Mean``: Σwx/Σw in double, stored as float32."""
    xd = x.astype(np.float64)
    wd = w.astype(np.float64)
    total = float(np.sum(wd))
    return float(np.float32(float(np.sum(xd * wd)) / total)) if total != 0 else 0.0


@register_method
class MethodCuts(MethodBase):
    """TMVA's rectangular cut optimisation (classification with 2 classes); see the module docstring.

    Attributes
    ----------
    cut_min_, cut_max_ : ndarray of float64, shape (nbins, n_variables) or None
        The cuts of each signal-efficiency bin (training or weights file).
    eff_b_local_ : ndarray of float32, shape (nbins,) or None
        The best background efficiency of each bin (``fEffBvsSLocal``, ``-0.1`` where none was found).
    fit_method_code_ : int
        ``EFitMethodType`` of the training (or the weights file).
    test_signal_efficiency : float
        ``fTestSignalEff``; ``-1`` until :meth:`SetTestSignalEfficiency`.
    """

    method_type = EMVA.kCuts
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "The optimisation of rectangular cuts performed by TMVA maximises \n"
        "the background rejection at given signal efficiency, and scans \n"
        "over the full range of the latter quantity. Three optimisation\n"
        "methods are optional: Monte Carlo sampling (MC), a Genetics\n"
        "Algorithm (GA), and Simulated Annealing (SA). GA and SA are\n"
        "expected to perform best.\n"
        "\n"
        "The difficulty to find the optimal cuts strongly increases with\n"
        "the dimensionality (number of input variables) of the problem.\n"
        "This behavior is due to the non-uniqueness of the solution space.\n"
        "\n"
        "--- Performance optimisation:\n"
        "\n"
        "If the dimensionality exceeds, say, 4 input variables, it is \n"
        "advisable to scrutinize the separation power of the variables,\n"
        "and to remove the weakest ones. If some among the input variables\n"
        "can be described by a single cut (e.g., because signal tends to be\n"
        "larger than background), this can be indicated to MethodCuts via\n"
        'the "Fsmart" options (see option string). Choosing this option\n'
        "reduces the number of requirements for the variable from 2 (min/max)\n"
        "to a single one (TMVA finds out whether it is to be interpreted as\n"
        "min or max).\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "Monte Carlo sampling:\n"
        "\n"
        'Apart form the "Fsmart" option for the variables, the only way\n'
        "to improve the MC sampling is to increase the sampling rate. This\n"
        'is done via the configuration option "MC_NRandCuts". The execution\n'
        "time scales linearly with the sampling rate.\n"
        "\n"
        "Genetic Algorithm:\n"
        "\n"
        "The algorithm terminates if no significant fitness increase has\n"
        'been achieved within the last "nsteps" steps of the calculation.\n'
        "Wiggles in the ROC curve or constant background rejection of 1\n"
        "indicate that the GA failed to always converge at the true maximum\n"
        "fitness. In such a case, it is recommended to broaden the search \n"
        'by increasing the population size ("popSize") and to give the GA \n'
        "more time to find improvements by increasing the number of steps\n"
        '("nsteps")\n'
        '  -> increase "popSize" (at least >10 * number of variables)\n'
        '  -> increase "nsteps"\n'
        "\n"
        "Simulated Annealing (SA) algorithm:\n"
        "\n"
        '"Increasing Adaptive" approach:\n'
        "\n"
        "The algorithm seeks local minima and explores their neighborhood, while\n"
        "changing the ambient temperature depending on the number of failures\n"
        "in the previous steps. The performance can be improved by increasing\n"
        'the number of iteration steps ("MaxCalls"), or by adjusting the\n'
        'minimal temperature ("MinTemperature"). Manual adjustments of the\n'
        'speed of the temperature increase ("TemperatureScale" and "AdaptiveSpeed")\n'
        "to individual data sets should also help. Summary:\n"
        '  -> increase "MaxCalls"\n'
        '  -> adjust   "MinTemperature"\n'
        '  -> adjust   "TemperatureScale"\n'
        '  -> adjust   "AdaptiveSpeed"'
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        # the fitter's options share the method's option string (TMVA passes GetOptions() to the
        # fitter): they are split off here and checked against the chosen fitter below
        fitter_text, rest = _split_tokens_by_name(str(options), _FITTER_NAMES)
        fitter_kwargs = {k: v for k, v in kwargs.items() if str(k).lower() in _FITTER_NAMES}
        method_kwargs = {k: v for k, v in kwargs.items() if str(k).lower() not in _FITTER_NAMES}
        super().__init__(title, context, rest, **method_kwargs)
        self.fitter_options_text = ":".join(t for t in [fitter_text, *kwargs_to_tokens(fitter_kwargs)] if t)
        self.cut_min_: F64 | None = None
        self.cut_max_: F64 | None = None
        self.eff_b_local_: F32 | None = None
        self.nbins_ = NBINS
        self.fit_method_code_ = FIT_METHOD_CODES[self._opts().FitMethod]
        self.eff_method_code_ = 0
        self.test_signal_efficiency = -1.0
        self.n_bin_updates_ = 0
        self._check_options()

    @classmethod
    def options_class(cls, context: MethodContext) -> type[BaseMethodOptions]:
        """The options with one ``CutRangeMin``/``CutRangeMax``/``VarProp`` element per input variable."""
        return _options_for(context.n_variables)

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes only (as TMVA's)."""
        return analysis_type == EAnalysisType.kClassification and n_classes == 2

    @property
    def written_options(self) -> frozenset[str]:
        """The options of the weights file: the method's own (the fitter's are not TMVA's method options)."""
        return frozenset(d.name for d in type(self.options).declarations())

    def _opts(self) -> CutsOptions:
        o = self.options
        assert isinstance(o, CutsOptions)
        return o

    # ------------------------------------------------------------------ options
    def _check_options(self) -> None:
        """TMVA's ``ProcessOptions`` checks that can be made at booking (the fitter's options too)."""
        o = self._opts()
        if o.IgnoreNegWeightsInTraining:
            raise OptionError(
                "Mechanism to ignore events with negative weights in training not yet available for method: "
                'Cuts --> Please remove "IgnoreNegWeightsInTraining" option from booking string.'
            )
        opts_cls = _fitter_options_class(o.FitMethod)
        component = f"fitter of method Cuts ('{self.title}', FitMethod={o.FitMethod})"
        if opts_cls is None:
            if self.fitter_options_text:
                raise OptionError(
                    f"The following options were specified, but could not be interpreted: "
                    f"'{self.fitter_options_text}', please check! (FitMethod=EventScan takes no fitter options)"
                )
        else:
            mine, other = split_fitter_options(self.fitter_options_text, opts_cls)
            if other:
                raise OptionError(
                    f"The following options were specified, but could not be interpreted: '{other}', please "
                    f"check! ({component}; it declares {', '.join(d.name for d in opts_cls.declarations())})"
                )
            parse_option_string(opts_cls.declarations(), mine, component=component)

    def _cut_ranges(self) -> list[Interval]:
        """``fCutRange`` as ``ProcessOptions`` makes it (``OptionError`` for a maximum below the minimum)."""
        o = self.options
        out = []
        for i, (lo, hi) in enumerate(zip(o.CutRangeMin, o.CutRangeMax, strict=True)):  # type: ignore[attr-defined]
            if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
                raise OptionError(
                    f"method Cuts ('{self.title}'): CutRangeMin[{i}]={lo:g}, CutRangeMax[{i}]={hi:g}: the cut "
                    "range needs finite limits with CutRangeMax[i] >= CutRangeMin[i] (TMVA's Interval: maximum "
                    "lower than minimum)"
                )
            out.append(Interval(lo, hi))
        return out

    def setup(self) -> None:
        """TMVA's ``ProcessOptions`` log lines (the choices of fitter, efficiency method and VarProp)."""
        o = self._opts()
        self._cut_ranges()
        if o.FitMethod == "MINUIT":
            self.log.warning("poor performance of MINUIT in MethodCuts; preferred fit method: GA")
        # TMVA's message maps every other method (SA, MCEvents too) to "Genetic Algorithm"
        label = {"MC": "Monte Carlo", "EventScan": "Full Event Scan (slow)", "MINUIT": "MINUIT"}
        self.log.info('Use optimization method: "%s"', label.get(o.FitMethod, "Genetic Algorithm"))
        if o.EffMethod == "EffPDF":
            self.log.warning(
                'EffMethod=EffPDF: TMVA\'s ProcessOptions compares the value with "EFFPDF" and so always uses '
                "the event selection; pymva does the same"
            )
        self.log.info('Use efficiency computation method: "%s"', "Event Selection")
        for i, prop in enumerate(o.VarProp):  # type: ignore[attr-defined]
            if prop != "NotEnforced":
                self.log.info("Use \"%s\" cuts for variable: '%s'", prop, self.context.variables[i].label)

    def SetTestSignalEfficiency(self, effS: float) -> None:
        """Set the signal efficiency whose cuts :meth:`_predict` applies (TMVA ``SetTestSignalEfficiency``)."""
        self.test_signal_efficiency = float(effS)

    # ------------------------------------------------------------------ training
    def _train(self, sample: Sample) -> None:
        o = self._opts()
        X = np.asarray(sample.X, dtype=np.float32)
        w = np.asarray(sample.weights, dtype=np.float32)
        sig = np.asarray(sample.class_id == self.context.signal_class)
        if not sig.any() or sig.all():
            raise ModelError(
                f"method {self.method_name}: the training sample needs signal and background events "
                f"(it has {int(sig.sum())} signal and {int((~sig).sum())} background events)"
            )
        nvar = X.shape[1]
        ranges = [(r.GetMin(), r.GetMax()) for r in self._cut_ranges()]
        props = list(o.VarProp)  # type: ignore[attr-defined]
        for ivar in range(nvar):
            xs, xb = X[sig, ivar], X[~sig, ivar]
            lo = float(min(xs.min(), xb.min()))
            hi = float(max(xs.max(), xb.max()))
            eps = 0.01 * (hi - lo)
            lo -= eps
            hi += eps
            rmin, rmax = ranges[ivar]
            if abs(rmin - rmax) < 1.0e-300:
                ranges[ivar] = (lo, hi)
            elif lo > rmin:  # TMVA narrows one side only
                ranges[ivar] = (lo, rmax)
            elif hi < rmax:
                ranges[ivar] = (rmin, hi)
            # TMVA resolves FSmart only where it builds the fitter's intervals: with EventScan and
            # MCEvents the variable stays unforced (both cuts free, no +-1e30 written)
            if props[ivar] == "FSmart" and o.FitMethod in ("MC", "GA", "SA", "MINUIT"):
                mean_s = _float32_mean(xs, w[sig])
                mean_b = _float32_mean(xb, w[~sig])
                props[ivar] = "FMax" if mean_s > mean_b else "FMin"
        estimator = CutsEstimator(X, w, sig, ranges, NBINS)
        if o.FitMethod in ("MC", "GA", "SA", "MINUIT"):
            intervals: list[Interval] = []
            for ivar, (rmin, rmax) in enumerate(ranges):
                nb = int(rmax - rmin) + 1 if self.context.variables[ivar].type == "I" else 0
                if nb == 1:
                    nb = 0  # a one-value integer range: TMVA's Interval would refuse one bin
                if props[ivar] == "FMin":
                    intervals += [Interval(rmin, rmin, nb), Interval(0.0, rmax - rmin, nb)]
                elif props[ivar] == "FMax":
                    intervals += [Interval(rmin, rmax, nb), Interval(rmax - rmin, rmax - rmin, nb)]
                else:
                    intervals += [Interval(rmin, rmax, nb), Interval(0.0, rmax - rmin, nb)]
            fitter: FitterBase = FITTERS[o.FitMethod](
                estimator, f"{self.title}Fitter_{o.FitMethod}", intervals, self.fitter_options_text
            )
            fitter.Run()
        elif o.FitMethod == "EventScan":
            self._event_scan(estimator, X, sig)
        else:
            self._mc_events(estimator, X)
        cut_min, cut_max = estimator.cut_min.copy(), estimator.cut_max.copy()
        for ivar in range(nvar):
            if props[ivar] == "FMin":
                cut_min[:, ivar] = np.minimum(cut_min[:, ivar], -MAX_ABS_CUT)
            if props[ivar] == "FMax":
                cut_max[:, ivar] = np.maximum(cut_max[:, ivar], MAX_ABS_CUT)
        self.cut_min_, self.cut_max_ = cut_min, cut_max
        self.eff_b_local_ = estimator.eff_b[1 : NBINS + 1].copy()
        self.nbins_ = NBINS
        self.n_bin_updates_ = estimator.n_updates
        self.fit_method_code_ = FIT_METHOD_CODES[o.FitMethod]
        eff = 0.1
        while eff < 0.95:  # TMVA's loop, accumulated in double
            self.PrintCuts(eff + 0.0001)
            eff += 0.1

    def _event_scan(self, estimator: CutsEstimator, X: F32, sig: npt.NDArray[np.bool_]) -> None:
        """``FitMethod=EventScan``: the box spanned by every pair of signal events (in event order)."""
        self.log.info("Running full event scan: ")
        idx = np.flatnonzero(sig)
        for start in range(0, len(idx), 256):
            first = idx[start : start + 256]
            i1, i2 = np.meshgrid(first, idx, indexing="ij")
            keep = i2 > i1
            a, b = X[i1[keep]].astype(np.float64), X[i2[keep]].astype(np.float64)
            if len(a):
                estimator.score_cuts(np.minimum(a, b), np.maximum(a, b))

    def _mc_events(self, estimator: CutsEstimator, X: F32) -> None:
        """``FitMethod=MCEvents``: cuts between the values of two random training events per variable."""
        values, _ = parse_option_string(
            _MCEventsOptions.declarations(),
            self.fitter_options_text,
            component=f"method Cuts ('{self.title}')",
        )
        n, seed = int(values["SampleSize"]), int(values["Seed"])
        nvar = X.shape[1]
        nevents = X.shape[0]
        self.log.info("Running Monte-Carlo-Event sampling over %d events", n)
        rng = TRandom3(seed)
        chunk = 4096
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            u = rng.uniforms(m * nvar * 2).reshape(m, nvar, 2)
            ev = np.minimum((u * nevents).astype(np.intp), nevents - 1)
            cols = np.arange(nvar)[None, :]
            e1 = X[ev[:, :, 0], cols].astype(np.float64)
            e2 = X[ev[:, :, 1], cols].astype(np.float64)
            lo, hi = np.minimum(e1, e2), np.maximum(e1, e2)
            estimator.score_cuts(lo, lo + (hi - lo))

    # ------------------------------------------------------------------ cuts
    def _check_cuts(self) -> tuple[F64, F64, F32]:
        if self.cut_min_ is None or self.cut_max_ is None or self.eff_b_local_ is None:
            self.check_trained()
            raise ModelError(f"method {self.method_name}: no cuts (train or read a weights file)")
        return self.cut_min_, self.cut_max_, self.eff_b_local_

    def GetCuts(self, effS: float) -> tuple[float, list[float], list[float]]:
        """The cuts for signal efficiency ``effS`` (TMVA ``MethodCuts::GetCuts``).

        Returns
        -------
        true_eff_s : float
            The lower edge of the bin of ``effS``.
        cut_min, cut_max : list of float
            One per variable.

        Raises
        ------
        ModelError
            Before training or reading a weights file.
        """
        cut_min, cut_max, _ = self._check_cuts()
        nb = self.nbins_
        ibin = int(find_bin(effS, nb))
        true_eff = 0.0 + (ibin - 1) * (1.0 / nb)
        index = min(max(ibin - 1, 0), nb - 1)
        return true_eff, cut_min[index].tolist(), cut_max[index].tolist()

    def cut_table(self) -> list[str]:
        """The lines ``PrintCuts`` logs for ``effS`` = 0.1, 0.2, … 0.9 (as after the training)."""
        lines: list[str] = []
        eff = 0.1
        while eff < 0.95:
            lines += self._cuts_lines(eff + 0.0001)
            eff += 0.1
        return lines

    def _cuts_lines(self, effS: float) -> list[str]:
        _, _, eff_b = self._check_cuts()
        true_eff, cmin, cmax = self.GetCuts(effS)
        ibin = int(find_bin(effS, self.nbins_))
        n_trafo = len(self.transformations)
        labels = [v.label for v in self.context.variables]
        if n_trafo > 0:
            labels = [f"{label} [transformed]" for label in labels]
        max_l = max((len(s) for s in labels), default=0)
        dashes = "-" * (20 + max_l + 16)
        effb = float(eff_b[ibin - 1]) if 1 <= ibin <= self.nbins_ else 0.0
        lines = [
            dashes,
            f"Cut values for requested signal efficiency: {_cpp(true_eff)}",
            f"Corresponding background efficiency       : {_cpp(effb)}",
        ]
        if n_trafo == 1:
            lines.append(f'Transformation applied to input variables : "{self.transformations.short_name}"')
        elif n_trafo > 1:
            lines.append(
                f"[ More than one (={n_trafo})  transformations applied in transformation chain; cuts applied "
                "on transformed quantities ] "
            )
        else:
            lines.append("Transformation applied to input variables : None")
        lines.append(dashes)
        for i, label in enumerate(labels):
            lines.append(f"Cut[{i:2d}]: {_cpp(cmin[i]):>10} < {label:>{max_l}} <= {_cpp(cmax[i]):>10}")
        lines.append(dashes)
        return lines

    def PrintCuts(self, effS: float) -> None:
        """Log the cuts for signal efficiency ``effS`` as TMVA's ``PrintCuts``.

        Raises
        ------
        ModelError
            Before training or reading a weights file.
        """
        for line in self._cuts_lines(effS):
            self.log.info("%s", line)

    def bin_efficiencies(self, sample: Sample) -> tuple[F64, F64]:
        """Signal and background efficiency of every bin's cuts on ``sample`` (untransformed events).

        Returns
        -------
        eff_s, eff_b : ndarray of float64, shape (nbins,)

        Raises
        ------
        ModelError
            Before training or reading a weights file, or for a sample without weight.
        """
        cut_min, cut_max, _ = self._check_cuts()
        X = self.transformations.transform_variables(np.ascontiguousarray(sample.X, dtype=np.float32))
        sig = np.asarray(sample.class_id == self.context.signal_class)
        return selection_efficiencies(X, sample.weights, sig, cut_min, cut_max)

    # ------------------------------------------------------------------ response
    def _predict(self, X: F32) -> F32:
        cut_min, cut_max, _ = self._check_cuts()
        Xa = np.asarray(X, dtype=np.float32)
        out = np.zeros((len(Xa), self.context.n_classes), dtype=np.float32)
        eff = self.test_signal_efficiency
        if eff > 0:
            nb = self.nbins_
            ibin = int(find_bin(eff, nb))
            ibin = 0 if ibin < 0 else (nb - 1 if ibin >= nb else ibin)  # TMVA indexes the array by FindBin
            x = Xa.astype(np.float64)
            passed = np.all((x > cut_min[ibin]) & (x <= cut_max[ibin]), axis=1)
            out[:] = passed.astype(np.float32)[:, None]
        return out

    def cut_efficiencies(self, test: Sample, train: Sample) -> dict[str, Any]:
        """What TMVA's ``MethodCuts::GetEfficiency``/``GetTrainingEfficiency`` evaluate, for the Factory.

        Returns
        -------
        dict
            ``test_efficiencies`` and ``train_efficiencies`` (:meth:`bin_efficiencies` of the
            untransformed test and training samples) and ``eff_b_local``: the keyword arguments
            of :func:`pymva.evaluation.cuts.evaluate_cuts` that depend on the cuts.

        Raises
        ------
        NotTrainedError
            Before the cuts were optimised or read from a weights file.
        """
        _, _, eff_b_local = self._check_cuts()
        return {
            "test_efficiencies": self.bin_efficiencies(test),
            "train_efficiencies": self.bin_efficiencies(train),
            "eff_b_local": eff_b_local,
        }

    # ------------------------------------------------------------------ weights file
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``OptimisationMethod``, ``FitMethod``, ``nbins`` and one ``<Bin>`` with its ``<Cuts>`` per bin."""
        cut_min, cut_max, eff_b = self._check_cuts()
        nvar = cut_min.shape[1]
        parent.set("OptimisationMethod", str(self.eff_method_code_))
        parent.set("FitMethod", str(self.fit_method_code_))
        parent.set("nbins", str(self.nbins_))
        parent.append(
            ET.Comment(
                f"Below are the optimised cuts for {nvar} variables: Format: ibin(hist) effS effB cutMin[ivar=0] "
                "cutMax[ivar=0] ... cutMin[ivar=n-1] cutMax[ivar=n-1]"
            )
        )
        for ibin in range(self.nbins_):
            true_eff = 0.0 + ibin * (1.0 / self.nbins_)
            if abs(true_eff) < 1e-10:
                true_eff = 0.0
            b = ET.SubElement(
                parent,
                "Bin",
                ibin=str(ibin + 1),
                effS=f"{true_eff:.16e}",
                effB=f"{float(eff_b[ibin]):.16e}",
            )
            cuts = ET.SubElement(b, "Cuts")
            for ivar in range(nvar):
                cuts.set(f"cutMin_{ivar}", f"{float(cut_min[ibin, ivar]):.16e}")
                cuts.set(f"cutMax_{ivar}", f"{float(cut_max[ibin, ivar]):.16e}")

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the cuts back (TMVA ``ReadWeightsFromXML``).

        Raises
        ------
        ModelError
            For a missing ``<Weights>``, malformed attributes, a bin outside ``1 … nbins`` or a
            missing cut.
        """
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        try:
            eff_method = int(weights.get("OptimisationMethod", ""))
            fit_method = int(weights.get("FitMethod", ""))
            nbins = int(weights.get("nbins", ""))
        except ValueError:
            raise ModelError(
                f"{where}: <Weights> needs integer OptimisationMethod, FitMethod and nbins attributes"
            ) from None
        if nbins < 1:
            raise ModelError(f"{where}: nbins={nbins}, expected at least 1")
        message = _READ_MESSAGES.get(fit_method)
        if message is None:
            self.log.warning("unknown method: %d", fit_method)
        else:
            self.log.info("%s", message)
        nvar = self.context.n_variables
        self.log.info("Reading %d signal efficiency bins for %d variables", nbins, nvar)
        eff_b = np.full(nbins, np.float32(-0.1), dtype=np.float32)
        cut_min = np.zeros((nbins, nvar), dtype=np.float64)
        cut_max = np.zeros((nbins, nvar), dtype=np.float64)
        for b in weights.findall("Bin"):
            try:
                ibin = int(b.get("ibin", ""))
                eb = float(b.get("effB", ""))
            except ValueError:
                raise ModelError(f"{where}: a <Bin> needs integer ibin and numeric effB attributes") from None
            if not 1 <= ibin <= nbins:
                raise ModelError(f"{where}: Mismatch in bins: {ibin - 1} >= {nbins}")
            eff_b[ibin - 1] = np.float32(eb)  # TMVA reads effB into a Float_t
            cuts = b.find("Cuts")
            if cuts is None:
                raise ModelError(f"{where}: <Bin ibin={ibin}> has no <Cuts> element")
            for ivar in range(nvar):
                cut_min[ibin - 1, ivar] = _float_attr(
                    cuts, f"cutMin_{ivar}", f"{where}: <Bin ibin={ibin}><Cuts>"
                )
                cut_max[ibin - 1, ivar] = _float_attr(
                    cuts, f"cutMax_{ivar}", f"{where}: <Bin ibin={ibin}><Cuts>"
                )
        self.cut_min_, self.cut_max_, self.eff_b_local_ = cut_min, cut_max, eff_b
        self.nbins_ = nbins
        self.fit_method_code_ = fit_method
        self.eff_method_code_ = eff_method
        super().read_weights_xml(weights)


def _float_attr(element: ET.Element, name: str, where: str) -> float:
    """The number in attribute ``name`` of ``element`` (``ModelError`` naming it when missing or malformed)."""
    try:
        return float(element.get(name, ""))
    except ValueError:
        raise ModelError(f"{where} needs a numeric attribute {name}, got {element.get(name)!r}") from None


def _split_tokens_by_name(text: str, names: frozenset[str]) -> tuple[str, str]:
    """Split ``text`` into the tokens whose option name is in ``names`` (lower case) and the rest."""
    mine: list[str] = []
    rest: list[str] = []
    for token in (t.strip() for t in text.split(":")):
        if not token:
            continue
        key = token.lstrip("!").partition("=")[0].partition("[")[0].strip().lower()
        (mine if key in names else rest).append(token)
    return ":".join(mine), ":".join(rest)


def _cpp(value: float) -> str:
    """A double as ``std::ostream`` writes it by default (``%g``, 6 significant digits)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:g}"
