"""``Boost`` (``Types.kBoost``): a method trained again and again on re-weighted events (TMVA's
``tmva/tmva/src/MethodBoost.cxx``, ``MethodCompositeBase.cxx``, ``inc/TMVA/MethodBoost.h``).

A boosted method is booked as the method it boosts, with ``Boost_*`` options; the Factory sees
``Boost_Num`` > 0 in the option string and books a Boost instead (TMVA ``Factory::BookMethod``)::

    factory.BookMethod(loader, TMVA.Types.kFisher, "BoostedFisher",
                       "H:!V:Boost_Num=20:Boost_Transform=log:Boost_Type=AdaBoost:Boost_AdaBoostBeta=0.2")

As TMVA does it:

* The option string goes to the Boost (its ``Boost_*`` options and the base options, among them
  ``VarTransform``) and, without the ``Boost_*`` tokens and ``VarTransform``, to each of the
  ``Boost_Num`` sub-methods, titled ``<title>_B0000``, ``<title>_B0001``, …  The sub-methods train
  on the Boost's transformed variables (TMVA reroutes their transformation handler to the Boost's).
* ``Boost_Type=AdaBoost``: after each training the sub-method's MVA values on the training events
  give its cut (``FindMVACut``): a 10001-bin histogram of the values, weighted, between their
  minimum and their maximum plus one bin width; the cut is the upper edge of the bin whose
  cumulative signal/background weights give the largest Gini-index separation gain (the lowest
  edge if no bin gains), the orientation −1 when the events below the cut are the more signal-like.
  An event is misclassified when its class differs from ``value·o > cut·o``; with the weighted
  fraction ``err`` of misclassified events the boost weight is ``β·ln((1−err)/err)``; the weights
  of the misclassified events are multiplied by ``exp(boost weight)`` (divided, for negative
  weights), the sum of all weights is restored, then each class is scaled to half of it.  The
  boost weight is the sub-method's weight in the response.  Boosting stops after a sub-method with
  ``err > 0.49999`` (kept); ``err == 0`` gives weight 0 and no re-weighting.
* ``Boost_Type=RealAdaBoost``: no cut is searched (the cut stays TMVA's default, 0.5 with
  orientation 1); each training event's MVA value gets a signal probability ``p`` from its
  neighbours in MVA value (``QuickMVAProbEstimator``); with ``m = 2p − 1`` and ``y = ±1`` the class,
  ``err = Σ w y m / Σ w``, the boost weight is ``β·ln((1+err)/(1−err))`` and every event's weight is
  multiplied by ``exp(−boost weight · y · m)``, then normalised as for AdaBoost.
* ``Boost_Type=Bagging``: sub-method ``i`` trains with the event weights multiplied by
  ``TRandom3(Boost_RandomSeed + i + 1).PoissonD(Boost_BaggedSampleFraction)``, one draw per
  training event in order; every weight is 1 and the cut stays TMVA's default (0.5, orientation 1).
* One sub-method only: its weight is 1.
* Response (``GetMvaValue``): ``Σ_i w_i t(v_i) / Σ_i w_i`` over the sub-methods' MVA values ``v_i``
  with their cuts ``c_i``, ``t`` the ``Boost_Transform``: ``linear`` ``v``; ``log``
  ``ln(max(v, c) − c + e⁻¹)``; ``step`` ``±1`` as ``v·o > c·o``; ``gauss`` ``exp(−(v − c)²/2)``.
* Weights file (``MethodCompositeBase::AddWeightsXMLTo``): ``<Weights NMethods="n">`` with one
  ``<Method Index Weight MethodSigCut MethodSigCutOrientation MethodTypeName MethodName JobName
  Options UseMainMethodTransformation="true">`` per sub-method, holding that sub-method's own
  ``<Weights>`` element.

The weights-file-only values ``HighEdgeGauss``/``HighEdgeCoPara`` of ``Boost_Type``,
``Boost_DetailedMonitoring`` and a booking with the weights-file-only options
``Boost_MethodWeightType``/``Boost_RecalculateMVACut`` are refused with an :class:`OptionError`.
No monitoring histograms (``MonitorBoost`` tree, ``BoostWeight``, ``ErrFraction``, per-sub-method
MVA histograms) are written to the output file.
"""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, OptionError
from ..logger import get_logger
from ..options import non_negative, option, positive
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext, _is_mva_pdf_option
from .registry import get_method_class, register_method
from .separation import SEPARATION_INDEX, separation_gain
from .trandom3 import poisson_counts

__all__ = [
    "BoostOptions",
    "MethodBoost",
    "adaboost_reweight",
    "boost_num",
    "find_mva_cut",
    "quick_mva_probability",
    "real_adaboost_reweight",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Bins of the histograms ``FindMVACut`` scans.
MVA_CUT_BINS = 10001
#: ``MethodBase``'s default signal reference cut and orientation (kept by Bagging).
DEFAULT_SIGNAL_CUT = 0.5
#: Boosting stops after a sub-method with a larger error fraction.
MAX_ERROR = 0.49999
#: The sub-methods log here, below WARNING silenced (TMVA ``MsgLogger::InhibitOutput``).
_SUB_LOGGER = "pymva.method.Boost.sub"
logging.getLogger(_SUB_LOGGER).setLevel(logging.WARNING)


@dataclass(frozen=True)
class BoostOptions(BaseMethodOptions):
    """Options of Boost (TMVA ``MethodBoost::DeclareOptions``)."""

    Boost_Num: int = option(1, "Number of times the classifier is boosted", check=positive)
    Boost_MonitorMethod: bool = option(True, "Write monitoring histograms for each boosted classifier")
    Boost_DetailedMonitoring: bool = option(False, "Produce histograms for detailed boost  monitoring")
    Boost_Type: str = option(
        "AdaBoost",
        "Boosting type for the classifiers",
        allowed=("RealAdaBoost", "AdaBoost", "Bagging", "HighEdgeGauss", "HighEdgeCoPara"),
    )
    Boost_BaggedSampleFraction: float = option(
        0.6,
        "Relative size of bagged event sample to original size of the data sample (used whenever "
        "bagging is used)",
        check=positive,
    )
    Boost_AdaBoostBeta: float = option(
        1.0, "The ADA boost parameter that sets the effect of every boost step on the events' weights"
    )
    Boost_Transform: str = option(
        "step",
        "Type of transform applied to every boosted method linear, log, step",
        allowed=("step", "linear", "log", "gauss"),
    )
    Boost_RandomSeed: int = option(0, "Seed for random number generator used for bagging", check=non_negative)


_BOOST_NAMES = frozenset(d.name.lower() for d in BoostOptions.declarations())
#: TMVA's ``DeclareCompatibilityOptions``: read from old weights files only.
_COMPAT = frozenset({"boost_methodweighttype", "boost_recalculatemvacut"})


def _token_name(token: str) -> str:
    name = token.strip().lstrip("~").lstrip("!").lstrip("~").partition("=")[0]
    return name.partition("[")[0].strip().lower()


def boost_num(options: str, **kwargs: Any) -> int:
    """The ``Boost_Num`` of an option string (0 without one), as ``Factory::BookMethod`` reads it.

    Parameters
    ----------
    options : str
        A method's booking options.
    **kwargs
        Options as keyword arguments.

    Returns
    -------
    int
        The last ``Boost_Num`` given (case-insensitive), 0 when there is none.

    Raises
    ------
    OptionError
        When the value is not an integer.
    """
    value: object = 0
    for token in str(options).split(":"):
        if _token_name(token) == "boost_num":
            value = token.partition("=")[2].strip()
    for key, val in kwargs.items():
        if key.lower() == "boost_num":
            value = val
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        raise OptionError(f"value '{value}' of option 'Boost_Num' is not an integer") from None


def find_mva_cut(
    values: npt.ArrayLike, weights: npt.ArrayLike, is_signal: npt.ArrayLike
) -> tuple[float, float]:
    """The cut that separates signal from background best on a sub-method's MVA values.

    TMVA ``MethodBoost::FindMVACut``: histograms of ``MVA_CUT_BINS`` bins between the minimum and
    the maximum plus one bin width, filled with the weights; the cumulative signal and background
    weights up to each bin give a Gini-index separation gain; the cut is the upper edge of the
    first bin with the largest gain (the lower edge of bin 1 when no bin gains).

    Parameters
    ----------
    values : array_like of float, shape (n_events,)
        The MVA values.
    weights : array_like of float, shape (n_events,)
        The (boosted) event weights.
    is_signal : array_like of bool, shape (n_events,)

    Returns
    -------
    cut : float
    orientation : float
        −1 when the events below the cut are more signal-like than those above, else 1.
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    sig = np.asarray(is_signal, dtype=bool)
    lo, hi = float(v.min()), float(v.max())
    hi = hi + (hi - lo) / MVA_CUT_BINS
    if not hi > lo:  # all values equal: no bin to scan
        return lo, 1.0
    # TAxis::FindFixBin for 1 + int(nbins (x - xmin) / (xmax - xmin)), bins 1..nbins
    index = np.floor(MVA_CUT_BINS * (v - lo) / (hi - lo)).astype(np.intp)
    index = np.clip(index, 0, MVA_CUT_BINS - 1)
    s_hist = np.bincount(index[sig], weights=w[sig], minlength=MVA_CUT_BINS)
    b_hist = np.bincount(index[~sig], weights=w[~sig], minlength=MVA_CUT_BINS)
    s_cum = np.cumsum(s_hist, dtype=np.float64)
    b_cum = np.cumsum(b_hist, dtype=np.float64)
    s_tot, b_tot = float(s_hist.sum()), float(b_hist.sum())
    gains = separation_gain(SEPARATION_INDEX["giniindex"], s_cum, b_cum, np.float64(s_tot), np.float64(b_tot))
    best = int(np.argmax(gains))
    if not gains[best] > 0.0:
        return lo, 1.0
    width = (hi - lo) / MVA_CUT_BINS
    cut = lo + (best + 1) * width  # GetBinLowEdge(ibin + 1)
    s_sel, b_sel = float(s_cum[best]), float(b_cum[best])
    orientation = -1.0 if s_sel * (b_tot - b_sel) > (s_tot - s_sel) * b_sel else 1.0
    return cut, orientation


def adaboost_reweight(
    boost_weights: npt.ArrayLike,
    original: npt.ArrayLike,
    wrong: npt.ArrayLike,
    class_id: npt.ArrayLike,
    beta: float,
) -> tuple[F64, float, float]:
    """One step of TMVA's discrete AdaBoost on the event weights (``MethodBoost::AdaBoost``).

    Parameters
    ----------
    boost_weights : array_like of float, shape (n_events,)
        The events' boost weights before the step (1 at the start).
    original : array_like of float, shape (n_events,)
        The events' own weights; an event weighs ``original · boost``.
    wrong : array_like of bool, shape (n_events,)
        Which events the sub-method misclassifies.
    class_id : array_like of int, shape (n_events,)
    beta : float
        ``Boost_AdaBoostBeta``.

    Returns
    -------
    boost_weights : ndarray of float64, shape (n_events,)
        The new boost weights (the input ones when ``err`` is 0).
    error : float
        The weighted fraction ``err`` of misclassified events.
    boost_weight : float
        ``β·ln((1−err)/err)``; 0 when ``err`` is 0.
    """
    boost = np.array(boost_weights, dtype=np.float64)
    w0 = np.asarray(original, dtype=np.float64)
    bad = np.asarray(wrong, dtype=bool)
    cls = np.asarray(class_id)
    w = (w0 * boost).astype(np.float32).astype(np.float64)  # Float_t w = ev->GetWeight()
    error = float(w[bad].sum() / w.sum())
    if error == 0.0:
        return boost, error, 0.0
    boost_weight = math.log((1.0 - error) / error) * beta
    if boost_weight != 0.0:
        factor = math.exp(boost_weight)
        weight = w0 * boost
        boost = np.where(bad, np.where(weight > 0, boost * factor, boost / factor), boost)
    old_sum = float((w0 * np.asarray(boost_weights, dtype=np.float64)).sum())
    boost = boost * (old_sum / float((w0 * boost).sum()))
    other = cls != 0
    weight = w0 * boost
    sum_other, sum_zero = float(weight[other].sum()), float(weight[~other].sum())
    boost = np.where(other, boost * (old_sum / sum_other / 2), boost * (old_sum / sum_zero / 2))
    return boost, error, boost_weight


def quick_mva_probability(
    values: npt.ArrayLike, weights: npt.ArrayLike, class_id: npt.ArrayLike, at: npt.ArrayLike
) -> F64:
    """TMVA's ``QuickMVAProbEstimator::GetMVAProbAt``: the signal fraction of the MVA values near ``at``.

    The events are sorted by value; for a query ``x`` with ``u`` the first event above ``x``
    (``std::upper_bound``) the events ``u+1, u+2, …`` and ``u−1, u−2, …`` are taken in turn, one on
    each side while there are any, until at least ``nRange = min(5000, max(40, int(0.1 n)))``
    (``int(n/3)`` if that exceeds ``n``) are taken; event ``u`` itself is not (as in TMVA).  Class 0
    counts as signal.

    Parameters
    ----------
    values, weights : array_like of float, shape (n_events,)
        The MVA values and weights of the events the estimate is built from.
    class_id : array_like of int, shape (n_events,)
    at : array_like of float, shape (n_queries,)

    Returns
    -------
    ndarray of float64, shape (n_queries,)
        ``s / (s + b)`` of the weights taken, −1 where they sum to 0.

    Raises
    ------
    ModelError
        With fewer than 4 events (TMVA's loop never ends there).
    """
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n < 4:
        raise ModelError(f"RealAdaBoost: {n} training events are too few for the MVA probability estimate")
    order = np.argsort(v, kind="stable")
    v_sorted = v[order]
    w = np.asarray(weights, dtype=np.float64)[order]
    is_sig = np.asarray(class_id)[order] == 0
    n_range = min(5000, max(40, int(n * 0.1)))
    if n_range > n:
        n_range = int(n / 3.0)
    cum_s = np.concatenate([[0.0], np.cumsum(np.where(is_sig, w, 0.0))])  # cum[i]: events 0..i-1
    cum_b = np.concatenate([[0.0], np.cumsum(np.where(is_sig, 0.0, w))])
    u = np.searchsorted(v_sorted, np.asarray(at, dtype=np.float64), side="right")
    right_avail = np.maximum(n - 1 - u, 0)
    left_avail = u
    low = np.minimum(right_avail, left_avail)
    steps = np.where(2 * low >= n_range, (n_range + 1) // 2, n_range - low)
    n_right = np.minimum(steps, right_avail)
    n_left = np.minimum(steps, left_avail)
    # right: events u+1 .. u+n_right; left: events u-n_left .. u-1
    lo_r, hi_r = np.minimum(u + 1, n), np.minimum(u + 1 + n_right, n)
    sig = cum_s[hi_r] - cum_s[lo_r] + cum_s[u] - cum_s[u - n_left]
    bkg = cum_b[hi_r] - cum_b[lo_r] + cum_b[u] - cum_b[u - n_left]
    total = sig + bkg
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total != 0, sig / np.where(total != 0, total, 1.0), -1.0)


def real_adaboost_reweight(
    boost_weights: npt.ArrayLike,
    original: npt.ArrayLike,
    values: npt.ArrayLike,
    class_id: npt.ArrayLike,
    signal_class: int,
    beta: float,
) -> tuple[F64, float, float]:
    """One step of TMVA's real AdaBoost (``MethodBoost::AdaBoost`` with ``discreteAdaBoost`` false).

    With ``p`` the :func:`quick_mva_probability` of each event's MVA value (built from the same
    events and their current weights), ``m = 2p − 1`` and ``y`` +1 for signal, −1 otherwise:
    ``err = Σ w y m / Σ w``, boost weight ``β·ln((1+err)/(1−err))``, every weight multiplied by
    ``exp(−boost weight · y · m)`` (divided, for negative weights), then normalised as in
    :func:`adaboost_reweight`.

    Returns
    -------
    boost_weights : ndarray of float64
    error : float
    boost_weight : float
    """
    boost = np.array(boost_weights, dtype=np.float64)
    w0 = np.asarray(original, dtype=np.float64)
    cls = np.asarray(class_id)
    v = np.asarray(values, dtype=np.float32).astype(np.float64)  # (Float_t) fMVAvalues
    weight = w0 * boost
    prob = 2.0 * (quick_mva_probability(v, weight, cls, v) - 0.5)
    true_type = np.where(cls == signal_class, 1.0, -1.0)
    w = weight.astype(np.float32).astype(np.float64)  # Float_t w = ev->GetWeight()
    error = float((w * true_type * prob).sum() / w.sum())
    if error == 0.0:
        return boost, error, 0.0
    boost_weight = math.log((1.0 + error) / (1.0 - error)) * beta
    factor = np.exp(-boost_weight * true_type * prob)
    boost = np.where(weight > 0, boost * factor, boost / factor)
    old_sum = float(weight.sum())
    boost = boost * (old_sum / float((w0 * boost).sum()))
    other = cls != 0
    new = w0 * boost
    sum_other, sum_zero = float(new[other].sum()), float(new[~other].sum())
    boost = np.where(other, boost * (old_sum / sum_other / 2), boost * (old_sum / sum_zero / 2))
    return boost, error, boost_weight


@register_method
class MethodBoost(MethodBase):
    """TMVA's Boost: ``Boost_Num`` copies of a method, each trained on re-weighted events.

    Parameters
    ----------
    title, context, options, **kwargs
        As every method; ``options`` holds the Boost's options and those of the boosted method.
    boosted_method : Types member, int or str, optional
        The method to boost (``TMVA.Types.kFisher``); ``None`` for a Boost read from a weights file.

    Attributes
    ----------
    sub_methods : list of MethodBase
        The trained sub-methods, in training order.
    method_weights : list of float
        Their weights in the response.
    signal_cuts, cut_orientations : list of float
        Their cuts and orientations (``SetSignalReferenceCut``/``…Orientation``).
    boosted_type : type or None
        The class of the boosted method.
    boosted_options : str
        The options each sub-method is booked with.

    Raises
    ------
    OptionError
        For an option that is not faithful (see the module docstring), a method that cannot be
        boosted, and the boosted method's own option errors.
    """

    method_type = EMVA.kBoost
    Options = BoostOptions
    compatibility_options: ClassVar[frozenset[str]] = _COMPAT
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "This method combines several classifier of one species in a \n"
        "single multivariate quantity via the boost algorithm.\n"
        "the output is a weighted sum over all individual classifiers\n"
        "By default, the AdaBoost method is employed, which gives \n"
        "events that were misclassified in the previous tree a larger \n"
        "weight in the training of the following classifier.\n"
        "Optionally, Bagged boosting can also be applied.\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "The most important parameter in the configuration is the \n"
        "number of boosts applied (Boost_Num) and the choice of boosting\n"
        "(Boost_Type), which can be set to either AdaBoost or Bagging.\n"
        "AdaBoosting: The most important parameters in this configuration\n"
        "is the beta parameter (Boost_AdaBoostBeta)  \n"
        "When boosting a linear classifier, it is sometimes advantageous\n"
        "to transform the MVA output non-linearly. The following options\n"
        "are available: step, log, and minmax, the default is no transform."
    )

    def __init__(
        self,
        title: str,
        context: MethodContext,
        options: str = "",
        boosted_method: EMVA | int | str | None = None,
        **kwargs: Any,
    ) -> None:
        own, sub = [], []
        for token in (t for t in str(options).split(":") if t.strip()):
            name = _token_name(token)
            if name in _COMPAT:
                raise OptionError(
                    f"method Boost ('{title}'): option {token.strip()} is one that TMVA reads from old weights "
                    "files only (DeclareCompatibilityOptions); remove it from the booking"
                )
            if name in _BOOST_NAMES or name.startswith("boost_") or _is_mva_pdf_option(token):
                own.append(token.strip().lstrip("~"))
            if (
                name.startswith("boost_")
                or name in ("vartransform", "h", "createmvapdfs")
                or _is_mva_pdf_option(token)
            ):
                continue
            sub.append(token.strip().lstrip("~"))
        own_kwargs = {k: v for k, v in kwargs.items() if k.lower() in _BOOST_NAMES}
        sub_kwargs = {k: v for k, v in kwargs.items() if k.lower() not in _BOOST_NAMES}
        super().__init__(title, context, ":".join(own), **own_kwargs)
        self.boosted_options = ":".join(sub)
        self._sub_kwargs = sub_kwargs
        self.boosted_type: type[MethodBase] | None = None
        if boosted_method is not None:
            self.boosted_type = self._check_boostable(get_method_class(boosted_method))
        self.sub_methods: list[MethodBase] = []
        self.method_weights: list[float] = []
        self.signal_cuts: list[float] = []
        self.cut_orientations: list[float] = []
        self.error_fractions: list[float] = []

    @property
    def opts(self) -> BoostOptions:
        """The options, typed."""
        assert isinstance(self.options, BoostOptions)
        return self.options

    def _check_boostable(self, cls: type[MethodBase]) -> type[MethodBase]:
        if cls.method_type in (EMVA.kBoost, EMVA.kCategory, EMVA.kCrossValidation):
            raise OptionError(
                f"method {self.method_name}: a {cls.method_type.type_name} method cannot be boosted; book a "
                "single method (Fisher, LD, Likelihood, …) with Boost_Num"
            )
        return cls

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes only (TMVA ``MethodBoost::HasAnalysisType``)."""
        return analysis_type == EAnalysisType.kClassification and n_classes == 2

    def setup(self) -> None:
        """Refuse what pymva does not do as TMVA and check the boosted method's options.

        Raises
        ------
        OptionError
            For ``Boost_Type`` HighEdgeGauss or HighEdgeCoPara,
            ``Boost_DetailedMonitoring``, and the boosted method's option errors (a first sub-method
            is booked to check them, as TMVA books each at training).
        """
        o = self.opts
        if o.Boost_Type in ("HighEdgeGauss", "HighEdgeCoPara"):
            raise OptionError(
                f"method {self.method_name}: Boost_Type={o.Boost_Type} is a value TMVA accepts in old weights files "
                "only; use Boost_Type=AdaBoost or Bagging"
            )
        if o.Boost_DetailedMonitoring:
            raise OptionError(
                f"method {self.method_name}: Boost_DetailedMonitoring: pymva writes no boost monitoring "
                "histograms; use !Boost_DetailedMonitoring"
            )
        if self.boosted_type is not None:
            self._new_sub(0).setup()

    def _new_sub(self, index: int) -> MethodBase:
        assert self.boosted_type is not None
        title = f"{self.title}_B{index:04d}"
        method = self.boosted_type(title, self.context, self.boosted_options, **self._sub_kwargs)
        method.log = get_logger(title, _SUB_LOGGER)
        return method

    # ------------------------------------------------------------------ training
    def _train(self, sample: Sample) -> None:
        if self.boosted_type is None:
            raise ModelError(
                f"method {self.method_name}: no method to boost (book it with Factory.BookMethod)"
            )
        o = self.opts
        n_boost = o.Boost_Num
        self.log.info(
            "Training %d %s with title %s Classifiers ... patience please",
            n_boost,
            self.boosted_type.method_type.type_name,
            self.title,
        )
        self.sub_methods, self.method_weights = [], []
        self.signal_cuts, self.cut_orientations, self.error_fractions = [], [], []
        w0 = sample.weights.astype(np.float64)
        is_signal = sample.class_id == self.context.signal_class
        boost: F64 = np.ones(len(sample), dtype=np.float64)
        bagging = o.Boost_Type == "Bagging"
        for i in range(n_boost):
            method = self._new_sub(i)
            method.setup()
            if bagging:
                counts = poisson_counts(o.Boost_RandomSeed + i + 1, o.Boost_BaggedSampleFraction, len(sample))
                boost = counts.astype(np.float64)
            method.train(sample.replace(weights=(w0 * boost).astype(np.float32)))
            self.sub_methods.append(method)
            values = np.asarray(method.mva_value(sample.X), dtype=np.float64)
            if bagging:
                cut, orientation, weight, error = DEFAULT_SIGNAL_CUT, 1.0, 1.0, 0.0
            elif o.Boost_Type == "RealAdaBoost":  # no FindMVACut: MethodBase's default cut stays
                cut, orientation = DEFAULT_SIGNAL_CUT, 1.0
                boost, error, weight = real_adaboost_reweight(
                    boost, w0, values, sample.class_id, self.context.signal_class, o.Boost_AdaBoostBeta
                )
            else:
                cut, orientation = find_mva_cut(values, w0 * boost, is_signal)
                wrong = is_signal != (values * orientation > cut * orientation)
                boost, error, weight = adaboost_reweight(
                    boost, w0, wrong, sample.class_id, o.Boost_AdaBoostBeta
                )
                if error == 0.0:
                    self.log.warning(
                        "Your classifier worked perfectly on the training sample --> serious overtraining "
                        "expected and no boosting done "
                    )
            self.signal_cuts.append(cut)
            self.cut_orientations.append(orientation)
            self.method_weights.append(weight)
            self.error_fractions.append(error)
            self.log.debug("AdaBoost (methodErr) err = %g", error)
            if error > MAX_ERROR and not bagging:
                n_boost = i + 1
                self.log.info(
                    "Error rate has reached 0.5 (%g), boosting process stopped at #%d classifier",
                    error,
                    n_boost,
                )
                if n_boost < 5:
                    self.log.info(
                        "The classifier might be too strong to boost with Beta = %g, try reducing it.",
                        o.Boost_AdaBoostBeta,
                    )
                self.options = o.replace(Boost_Num=n_boost)
                break
        if len(self.sub_methods) == 1:
            self.method_weights[0] = 1.0

    # ------------------------------------------------------------------ application
    def boosted_mva_values(self, Xt: npt.ArrayLike) -> F64:
        """TMVA ``MethodBoost::GetMvaValue`` on transformed variables.

        Parameters
        ----------
        Xt : array_like of float32, shape (n_events, n_variables)
            The variables after the Boost's ``VarTransform``.

        Returns
        -------
        ndarray of float64, shape (n_events,)
            ``Σ w_i t(v_i) / Σ w_i``.
        """
        self.check_trained()
        X = np.ascontiguousarray(Xt, dtype=np.float32)
        total = np.zeros(len(X), dtype=np.float64)
        norm = 0.0
        transform = self.opts.Boost_Transform
        eps = math.exp(-1.0)
        for method, weight, cut, orient in zip(
            self.sub_methods, self.method_weights, self.signal_cuts, self.cut_orientations, strict=True
        ):
            v = np.asarray(method.mva_value(X), dtype=np.float64)
            if transform == "log":
                v = np.log(np.maximum(v, cut) - cut + eps)
            elif transform == "step":
                v = np.where(v * orient > cut * orient, 1.0, -1.0)
            elif transform == "gauss":
                v = np.exp(-0.5 * (v - cut) ** 2)
            total += v * weight
            norm += weight
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / norm

    def _predict(self, X: F32) -> F32:
        value = self.boosted_mva_values(X)
        out = np.empty((len(value), self.context.n_classes), dtype=np.float32)
        out[:] = (-value)[:, None]
        out[:, self.context.signal_class] = value
        return out

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``NMethods`` and one ``<Method …>`` per sub-method with its ``<Weights>`` inside."""
        if not self.sub_methods:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        parent.set("NMethods", str(len(self.sub_methods)))
        for i, method in enumerate(self.sub_methods):
            elem = ET.SubElement(
                parent,
                "Method",
                {
                    "Index": str(i),
                    "Weight": f"{self.method_weights[i]:.16e}",
                    "MethodSigCut": f"{self.signal_cuts[i]:.16e}",
                    "MethodSigCutOrientation": f"{self.cut_orientations[i]:.16e}",
                    "MethodTypeName": method.method_type.type_name,
                    "MethodName": method.title,
                    "JobName": self.context.job_name,
                    "Options": self.boosted_options,
                    "UseMainMethodTransformation": "true",
                },
            )
            method.add_weights_xml(ET.SubElement(elem, "Weights"))

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Re-create the sub-methods (TMVA ``MethodCompositeBase::ReadWeightsFromXML``).

        The ``Options`` of each ``<Method>`` are read as TMVA reads them: ``~`` marks dropped, the
        ``Boost_*`` options, ``VarTransform`` and options the sub-method does not declare ignored.

        Raises
        ------
        ModelError
            For a missing ``<Weights>``, an ``NMethods`` that is not the number of ``<Method>``
            elements, a ``<Method>`` without its attributes or with numbers that do not read, a
            method type that is unknown or cannot be boosted, and the sub-method's own errors.
        """
        what = f"method {self.method_name}"
        expected = (
            'expected <Weights NMethods="n"> with n <Method Index Weight MethodSigCut MethodSigCutOrientation '
            "MethodTypeName MethodName Options> elements, each holding the sub-method's <Weights>"
        )
        if weights is None:
            raise ModelError(f"{what}: the weights file has no <Weights> element; {expected}")
        text = weights.get("NMethods", "")
        try:
            n_methods = int(text)
        except ValueError:
            raise ModelError(f'{what}: <Weights NMethods="{text}"> is not an integer; {expected}') from None
        elems = weights.findall("Method")
        if n_methods != len(elems) or n_methods < 1:
            raise ModelError(f"{what}: NMethods={n_methods} but {len(elems)} <Method> elements; {expected}")
        subs: list[MethodBase] = []
        mweights, cuts, orients = [], [], []
        for elem in elems:
            missing = [
                a
                for a in ("Weight", "MethodSigCut", "MethodSigCutOrientation", "MethodTypeName", "MethodName")
                if a not in elem.attrib
            ]
            if missing:
                raise ModelError(f"{what}: a <Method> lacks the attributes {missing}; {expected}")
            try:
                numbers = [
                    float(elem.attrib[a]) for a in ("Weight", "MethodSigCut", "MethodSigCutOrientation")
                ]
            except ValueError:
                raise ModelError(
                    f"{what}: a <Method> has a Weight or cut that is not a number; {expected}"
                ) from None
            if not all(math.isfinite(x) for x in numbers):
                raise ModelError(f"{what}: a <Method> has a Weight or cut that is not finite; {expected}")
            try:
                cls = self._check_boostable(get_method_class(elem.attrib["MethodTypeName"]))
            except OptionError as exc:
                raise ModelError(f"{what}: {exc}") from None
            if self.boosted_type is not None and cls is not self.boosted_type:
                raise ModelError(f"{what}: the sub-methods are not all of one type; {expected}")
            self.boosted_type = cls
            declared = {d.name.lower() for d in cls.options_class(self.context).declarations()}
            tokens = [
                t.strip().replace("~", "")
                for t in elem.get("Options", "").split(":")
                if t.strip() and _token_name(t) in declared and _token_name(t) not in ("vartransform", "h")
            ]
            self.boosted_options = ":".join(tokens)
            try:
                sub = cls(elem.attrib["MethodName"], self.context, self.boosted_options)
            except OptionError as exc:
                raise ModelError(f"{what}: sub-method {elem.attrib['MethodName']}: {exc}") from exc
            sub.log = get_logger(sub.title, _SUB_LOGGER)
            sub.setup()
            sub.read_weights_xml(elem.find("Weights"))
            subs.append(sub)
            mweights.append(numbers[0])
            cuts.append(numbers[1])
            orients.append(numbers[2])
        self.sub_methods, self.method_weights = subs, mweights
        self.signal_cuts, self.cut_orientations = cuts, orients
        super().read_weights_xml(weights)

    def ranking(self) -> list[tuple[str, float]] | None:
        """None: TMVA's Boost supplies no ranking (``CreateRanking`` returns 0)."""
        return None
