"""``BDT`` (``Types.kBDT``): TMVA's boosted decision trees, grown and boosted as TMVA does.

This is TMVA's ``MethodBDT`` (``tmva/tmva/src/MethodBDT.cxx``) on numpy: the trees are TMVA's
(:mod:`pymva.methods.decisiontree`: node-local cut grid, separation gain, ``MinNodeSize``), the
boosting is TMVA's, and the forest is stored in TMVA's XML layout inside the weights file, so that
ROOT's ``TMVA::Reader`` reads a pymva-trained BDT and pymva's Reader reads a ROOT-trained one.

Training (``MethodBDT::Train``):

* ``InitEventSample`` drops events of weight 0 (and negative ones with
  ``NegWeightTreatment=IgnoreNegWeightsInTraining``/``NoNegWeightsInTraining``), pairs negative
  with positive events for ``PairNegWeightsGlobal``, and for classification sets the boost weights
  so that signal and background sum to ``N·f/(1+f)`` and ``N/(1+f)`` (``f = SigToBkgFraction``)
  unless ``SkipNormalization``;
* with ``UseBaggedBoost`` (implied by ``BoostType=Bagging``) tree ``k`` is grown on a resampled
  copy of the training events: each event ``PoissonD(BaggedSampleFraction)`` times, drawn from
  ``TRandom3(100·k + 1234)`` exactly as TMVA draws them (:mod:`pymva.methods.trandom3`);
* ``AdaBoost``: ``err`` = misclassified weight fraction, boost weight ``β·ln((1−err)/err)``,
  misclassified events × ``e^{boost weight}`` (negative-weight events ÷ with
  ``InverseBoostNegWeights``), then all renormalised to the sample size; ``RealAdaBoost`` (leaf
  purities): ``err = Σ w·y·(2p−1)/Σ w``, weight ``β·ln((1+err)/(1−err))``, events ×
  ``e^{−weight·y·(2p−1)}``; ``AdaCost`` with the ``Css…Cbb`` cost matrix; ``AdaBoostR2``
  (Drucker) with the linear/quadratic/exponential loss; ``Bagging`` (weight 1);
  ``Grad``: binary (targets ``y − ½`` then ``y − p``, leaf value
  ``Shrinkage/K · Σ r w / Σ |r|(1−|r|) w²``), multiclass (one tree per class and iteration) and
  regression (:mod:`pymva.methods.lossfunction`);
* with ``UseYesNoLeaf`` (AdaBoost classification) sibling leaves of one type are merged
  (``CleanTree``); ``PruneMethod=CostComplexity`` prunes after boosting.

Response: AdaBoost/Bagging ``Σ α_t v_t / Σ α_t`` with ``v_t`` the leaf type ±1 (``UseYesNoLeaf``) or
purity; Grad ``2/(1+e^{−2F})−1``; multiclass ``1/(1+Σ_{j≠i} e^{F_j−F_i})``; regression: the
weighted median of the trees (AdaBoostR2), ``F`` plus the initial value (Grad) or the weighted mean.
Ranking: ``sqrt(Σ_t α_t · importance_t)``, normalised, with a tree's importance its summed
``gain²·(S+B)²`` per variable.  Options without a faithful implementation (``DoPreselection``,
``PruneMethod=ExpectedError``, automatic pruning) are refused with an :class:`OptionError`;
``docs/methods-bdt.md`` lists every option and difference.

The module is long (options, the boosting algorithms and the forest's XML); the tree itself lives in
:mod:`pymva.methods.decisiontree`.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, NotTrainedError, OptionError
from ..options import option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .decisiontree import (
    DecisionTree,
    GrowthCache,
    TreeConfig,
    clean_tree,
    cost_complexity_prune,
    grow_tree,
    tree_from_xml,
    tree_to_xml,
)
from .forestevent import forest_event_function
from .forestwalk import forest_walk_batch, forest_walk_function
from .lossfunction import make_loss
from .nodehistograms import kernels
from .ranking import Ranking
from .registry import register_method
from .separation import SEPARATION_INDEX, SEPARATION_TYPES
from .trandom3 import poisson_counts

__all__ = ["BDTOptions", "BDTRegressionOptions", "MethodBDT", "normalise_weights", "parse_min_node_size"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
IntA = npt.NDArray[np.intp]
#: which events of the sample a boosting update applies to: a mask, or all of them (``_ALL``)
_Sel = npt.NDArray[np.bool_] | slice
_ALL = slice(None)
_A = TypeVar("_A", bound="np.ndarray[Any, Any]")

_BOOST_TYPES = ("AdaBoost", "RealAdaBoost", "AdaCost", "Bagging", "AdaBoostR2", "Grad")
_SEPARATION_TYPES = SEPARATION_TYPES
_NEG_WEIGHT_TREATMENTS = (
    "InverseBoostNegWeights",
    "IgnoreNegWeightsInTraining",
    "NoNegWeightsInTraining",
    "PairNegWeightsGlobal",
    "Pray",
    "IgnoreNegWeights",  # accepted on reading only (TMVA's compatibility value)
)
#: ROOT_VERSION(5,34,4): weights files up to this release cut with ``x > cut``.
_ROOT_5_34_04 = (5 << 16) + (34 << 8) + 4
_EPS = float(np.finfo(np.float64).eps)


def _gt0(value: Any) -> str | None:
    return None if value > 0 else "must be greater than zero"


def _fraction(value: Any) -> str | None:
    return None if 0.0 < value <= 1.0 else "must be in (0, 1]"


@dataclass(frozen=True)
class BDTOptions(BaseMethodOptions):
    """Options of BDT: TMVA's ``MethodBDT::DeclareOptions`` (classification defaults)."""

    NTrees: int = option(800, "Number of trees in the forest", check=_gt0)
    MaxDepth: int = option(3, "Max depth of the decision tree allowed", check=_gt0)
    MinNodeSize: str = option(
        "5%",
        "Minimum percentage of training events required in a leaf node (default: Classification: 5%, "
        "Regression: 0.2%)",
    )
    nCuts: int = option(
        20, "Number of grid points in variable range used in finding optimal cut in node splitting"
    )
    BoostType: str = option(
        "AdaBoost",
        "Boosting type for the trees in the forest (note: AdaCost is still experimental)",
        allowed=_BOOST_TYPES,
    )
    AdaBoostR2Loss: str = option(
        "Quadratic", "Type of Loss function in AdaBoostR2", allowed=("Linear", "Quadratic", "Exponential")
    )
    UseBaggedBoost: bool = option(
        False, "Use only a random subsample of all events for growing the trees in each boost iteration."
    )
    Shrinkage: float = option(1.0, "Learning rate for GradBoost algorithm", check=_gt0)
    AdaBoostBeta: float = option(0.5, "Learning rate  for AdaBoost algorithm", check=_gt0)
    UseRandomisedTrees: bool = option(
        False,
        "Determine at each node splitting the cut variable only as the best out of a random subset of "
        "variables (like in RandomForests)",
    )
    UseNvars: int = option(
        0,
        "Size of the subset of variables used with RandomisedTree option (0: int(sqrt(NVar)+0.6), TMVA's default)",
    )
    UsePoissonNvars: bool = option(
        True,
        'Interpret "UseNvars" not as fixed number but as mean of a Poisson distribution in each split '
        "with RandomisedTree option",
    )
    BaggedSampleFraction: float = option(
        0.6,
        "Relative size of bagged event sample to original size of the data sample (used whenever bagging "
        "is used (i.e. UseBaggedBoost, Bagging,)",
        check=_fraction,
    )
    UseYesNoLeaf: bool = option(
        True,
        "Use Sig or Bkg categories, or the purity=S/(S+B) as classification of the leaf node -> "
        "Real-AdaBoost",
    )
    NegWeightTreatment: str = option(
        "InverseBoostNegWeights",
        "How to treat events with negative weights in the BDT training (particular the boosting) : "
        "IgnoreInTraining;  Boost With inverse boostweight; Pair events with negative and positive weights "
        "in training sample and *annihilate* them (experimental!)",
        allowed=_NEG_WEIGHT_TREATMENTS,
    )
    Css: float = option(1.0, "AdaCost: cost of true signal selected signal")
    Cts_sb: float = option(1.0, "AdaCost: cost of true signal selected bkg")
    Ctb_ss: float = option(1.0, "AdaCost: cost of true bkg    selected signal")
    Cbb: float = option(1.0, "AdaCost: cost of true bkg    selected bkg ")
    NodePurityLimit: float = option(
        0.5, "In boosting/pruning, nodes with purity > NodePurityLimit are signal; background otherwise."
    )
    SeparationType: str = option(
        "GiniIndex", "Separation criterion for node splitting", allowed=_SEPARATION_TYPES
    )
    RegressionLossFunctionBDTG: str = option(
        "Huber", "Loss function for BDTG regression.", allowed=("Huber", "AbsoluteDeviation", "LeastSquares")
    )
    HuberQuantile: float = option(
        0.7,
        "In the Huber loss function this is the quantile that separates the core from the tails in the "
        "residuals distribution.",
        check=lambda v: None if 0.0 <= v <= 1.0 else "Huber Quantile must be in range [0,1]",
    )
    DoBoostMonitor: bool = option(False, "Create control plot with ROC integral vs tree number")
    UseFisherCuts: bool = option(False, "Use multivariate splits using the Fisher criterion")
    MinLinCorrForFisher: float = option(
        0.8,
        "The minimum linear correlation between two variables demanded for use in Fisher criterion in "
        "node splitting",
    )
    UseExclusiveVars: bool = option(
        False,
        "Variables already used in fisher criterion are not anymore analysed individually for node splitting",
    )
    DoPreselection: bool = option(
        False, "and and apply automatic pre-selection for 100% efficient signal (bkg) cuts prior to training"
    )
    SigToBkgFraction: float = option(
        1.0,
        "Sig to Bkg ratio used in Training (similar to NodePurityLimit, which cannot be used in real "
        "adaboost",
        check=_gt0,
    )
    PruneMethod: str = option(
        "NoPruning",
        "Note: for BDTs use small trees (e.g.MaxDepth=3) and NoPruning:  Pruning: Method used for pruning "
        "(removal) of statistically insignificant branches ",
        allowed=("NoPruning", "ExpectedError", "CostComplexity"),
    )
    PruneStrength: float = option(0.0, "Pruning strength")
    PruningValFraction: float = option(0.5, "Fraction of events to use for optimizing automatic pruning.")
    SkipNormalization: bool = option(
        False,
        "Skip normalization at initialization, to keep expectation value of BDT output according to the "
        "fraction of events",
    )
    nEventsMin: int = option(0, "deprecated: Use MinNodeSize (in % of training events) instead")
    UseBaggedGrad: bool = option(
        False,
        "deprecated: Use *UseBaggedBoost* instead:  Use only a random subsample of all events for growing "
        "the trees in each iteration.",
    )
    GradBaggingFraction: float = option(
        0.6,
        "deprecated: Use *BaggedSampleFraction* instead: Defines the fraction of events to be used in each "
        "iteration, e.g. when UseBaggedGrad=kTRUE. ",
        check=_fraction,
    )
    UseNTrainEvents: int = option(
        0,
        "deprecated: Use *BaggedSampleFraction* instead: Number of randomly picked training events used in "
        "randomised (and bagged) trees",
    )
    NNodesMax: int = option(0, "deprecated: Use MaxDepth instead to limit the tree size")


@dataclass(frozen=True)
class BDTRegressionOptions(BDTOptions):
    """BDT options with TMVA's regression defaults."""

    MaxDepth: int = option(50, "Max depth of the decision tree allowed", check=_gt0)
    MinNodeSize: str = option(
        "0.2%",
        "Minimum percentage of training events required in a leaf node (default: Classification: 5%, "
        "Regression: 0.2%)",
    )
    BoostType: str = option(
        "AdaBoostR2",
        "Boosting type for the trees in the forest (note: AdaCost is still experimental)",
        allowed=_BOOST_TYPES,
    )
    UseYesNoLeaf: bool = option(
        False,
        "Use Sig or Bkg categories, or the purity=S/(S+B) as classification of the leaf node -> "
        "Real-AdaBoost",
    )
    SeparationType: str = option(
        "RegressionVariance", "Separation criterion for node splitting", allowed=_SEPARATION_TYPES
    )


def parse_min_node_size(text: str, component: str) -> float:
    """``MinNodeSize`` in percent: ``"5%"``, ``"5"``, ``" 2.5 % "``; must lie in (0, 50) as in TMVA.

    Raises
    ------
    OptionError
        For a text that is not a number or a value outside (0, 50).
    """
    raw = text.replace("%", "").replace(" ", "")
    try:
        value = float(raw)
    except ValueError:
        raise OptionError(
            f"I had problems reading the option MinNodeSize of {component}, which after removing a possible "
            f"% sign now reads '{raw}'; give a percentage such as 2.5%"
        ) from None
    if not 0.0 < value < 50.0:
        raise OptionError(
            f"you have demanded a minimal node size of {value:g}% of the training events ({component}): that "
            "somehow does not make sense; MinNodeSize must lie in (0%, 50%)"
        )
    return value


def normalise_weights(
    class_id: npt.NDArray[Any],
    weights: npt.NDArray[np.float64],
    signal_class: int,
    sig_to_bkg: float,
    log: Any = None,
) -> npt.NDArray[np.float64]:
    """TMVA's BDT weight normalisation: signal to ``N f/(1+f)``, all other classes to ``N/(1+f)``.

    ``N`` is the number of events; unchanged if either sum of weights is zero.  Returns the
    normalised weights (float64).
    """
    w = np.asarray(weights, dtype=np.float64)
    factors = _normalisation_factors(np.asarray(class_id) == signal_class, w, sig_to_bkg, log)
    return w * factors


def _normalisation_factors(is_sig: npt.NDArray[np.bool_], w: F64, sig_to_bkg: float, log: Any = None) -> F64:
    n = float(len(w))
    sum_s = _seqsum(w[is_sig])
    sum_b = _seqsum(w[~is_sig])
    if sum_s == 0 or sum_b == 0:
        if log is not None:
            log.info(
                "--> could not determine scaling factors as either there are no signal events (sumSigW=%g) "
                "or no bkg ev. (sumBkgW=%g)",
                sum_s,
                sum_b,
            )
        return np.ones_like(w)
    norm_s = n / ((1 + sig_to_bkg) * sum_s) * sig_to_bkg
    norm_b = n / ((1 + sig_to_bkg) * sum_b)
    if log is not None:
        log.header("#events: (reweighted) sig: %g bkg: %g", sum_s * norm_s, sum_b * norm_b)
        log.info("#events: (unweighted) sig: %d bkg: %d", int(is_sig.sum()), int((~is_sig).sum()))
    return np.where(is_sig, norm_s, norm_b)


def _seqsum(a: npt.ArrayLike) -> float:
    """Left-to-right sum, as TMVA's loops add."""
    arr = np.asarray(a, dtype=np.float64)
    return float(np.cumsum(arr)[-1]) if arr.size else 0.0


@dataclass(frozen=True)
class _Settings:
    """The options after TMVA's ``ProcessOptions`` (what training and evaluation use)."""

    boost: str  # AdaBoost (RealAdaBoost mapped to it), AdaCost, Bagging, AdaBoostR2, Grad
    yes_no_leaf: bool
    sep: str  # lower-case SeparationType; 'regressionvariance' for regression trees
    n_cuts: int
    min_node_size: float | None  # None: from nEventsMin at training
    max_depth: int
    bagged: bool
    fraction: float | None  # None: from UseNTrainEvents at training
    prune: str  # nopruning, costcomplexity
    neg: str  # lower-case NegWeightTreatment
    fisher: bool


@register_method
class MethodBDT(MethodBase):
    """TMVA's BDT (see the module docstring).

    Attributes
    ----------
    forest_ : list of DecisionTree
        The trees (multiclass: ``n_classes`` per boosting iteration, class-major within one).
    boost_weights_ : list of float
        One per tree (Grad regression: the first is the initial value, as in TMVA).
    strict_cuts_ : bool
        Compare ``x > cut`` (weights files of ROOT <= 5.34/04) instead of ``x >= cut``.
    """

    method_type = EMVA.kBDT
    Options = BDTOptions
    ranking_criterion: ClassVar[str] = "Variable Importance"
    #: Options TMVA reads from old weights files only (``DeclareCompatibilityOptions``).
    compatibility_options: ClassVar[frozenset[str]] = frozenset(
        {"useweightedtrees", "prunebeforeboost", "renormbyclass"}
    )
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "Boosted Decision Trees are a collection of individual decision\n"
        "trees which form a multivariate classifier by (weighted) majority \n"
        "vote of the individual trees. Consecutive decision trees are  \n"
        "trained using the original training data set with re-weighted \n"
        "events. By default, the AdaBoost method is employed, which gives \n"
        "events that were misclassified in the previous tree a larger \n"
        "weight in the training of the following tree.\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "The two most important parameters in the configuration are the  \n"
        "minimal number of events requested by a leaf node as percentage of the \n"
        'number of training events (option "MinNodeSize") and the maximal tree \n'
        'depth ("MaxDepth"); typical values for MinNodeSize are 0.5(%) to 10(%).'
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.forest_: list[DecisionTree] = []
        self.boost_weights_: list[float] = []
        self.strict_cuts_ = False
        self._settings_cache: _Settings | None = None

    @classmethod
    def options_class(cls, context: MethodContext) -> type[BaseMethodOptions]:
        """TMVA declares different defaults for regression: :class:`BDTRegressionOptions` then."""
        return BDTRegressionOptions if context.analysis_type == EAnalysisType.kRegression else BDTOptions

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes, multiclass, regression with one target (as TMVA's BDT)."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        if analysis_type == EAnalysisType.kMulticlass:
            return True
        return analysis_type == EAnalysisType.kRegression and n_targets == 1

    # ------------------------------------------------------------------ options
    def _opts(self) -> BDTOptions:
        o = self.options
        assert isinstance(o, BDTOptions)
        return o

    @property
    def component(self) -> str:
        """``method BDT ('<title>')``, for messages."""
        return f"method BDT ('{self.title}')"

    @property
    def _regression(self) -> bool:
        return self.context.analysis_type == EAnalysisType.kRegression

    @property
    def _multiclass(self) -> bool:
        return self.context.analysis_type == EAnalysisType.kMulticlass

    def setup(self) -> None:
        """Check the options as TMVA's ``ProcessOptions`` does (errors at booking)."""
        self._settings(training=True)

    def _settings(self, training: bool = False) -> _Settings:
        if self._settings_cache is not None and not training:
            return self._settings_cache
        o = self._opts()
        c = self.component
        boost = o.BoostType
        yes_no = o.UseYesNoLeaf
        if boost == "RealAdaBoost":
            boost, yes_no = "AdaBoost", False
        elif boost == "AdaCost":
            yes_no = False
        sep = o.SeparationType.lower()
        if self._regression:
            if yes_no and training:
                self.log.warning(
                    "Regression Trees do not work with fUseYesNoLeaf=TRUE --> I will set it to FALSE"
                )
            yes_no = False
            if sep != "regressionvariance":
                if training:
                    self.log.warning(
                        "Regression Trees do not work with Separation type other than <RegressionVariance> "
                        "--> I will use it instead"
                    )
                sep = "regressionvariance"
        n_cuts = o.nCuts
        fisher = o.UseFisherCuts
        if self._regression:
            if fisher:
                self.log.warning(
                    "Sorry, UseFisherCuts is not available for regression analysis, I will ignore it!"
                )
                fisher = False
            if n_cuts < 0:
                self.log.warning("nCuts<0 is not implemented for regression: --> I switch to nCuts = 20")
                n_cuts = 20
        if fisher:
            n_cuts = 20
        if training:
            if self._multiclass and boost != "Grad":
                raise OptionError(
                    f"Multiclass is currently only supported by gradient boost. Please change boost option "
                    f"accordingly (BoostType=Grad) ({c}: BoostType={o.BoostType})"
                )
            if not self._regression and boost == "AdaBoostR2":
                raise OptionError(
                    f"Somehow you chose a regression boost method for a classification job ({c}: "
                    "BoostType=AdaBoostR2); use AdaBoost, RealAdaBoost, AdaCost, Bagging or Grad"
                )
            if self._regression and boost == "AdaCost":
                raise OptionError(
                    f"AdaCost not implemented for regression ({c}); use AdaBoostR2, Grad or Bagging"
                )
            if sep == "regressionvariance" and not self._regression and boost != "Grad":
                raise OptionError(
                    f"<ProcessOptions> SeparationType=RegressionVariance of {c} is for regression trees; "
                    f"with BoostType={o.BoostType} use CrossEntropy, GiniIndex, GiniIndexWithLaplace, "
                    "MisClassificationError or SDivSqrtSPlusB"
                )
            if o.DoPreselection:
                raise OptionError(
                    f"option DoPreselection of {c} is not implemented in pymva (TMVA's automatic 100%-efficient "
                    "pre-selection cuts); remove it"
                )
            if o.NegWeightTreatment == "IgnoreNegWeights":
                raise OptionError(
                    f"<ProcessOptions> unknown option for treating negative event weights during training "
                    f"NegWeightTreatment=IgnoreNegWeights ({c}); use InverseBoostNegWeights, "
                    "IgnoreNegWeightsInTraining, NoNegWeightsInTraining, PairNegWeightsGlobal or Pray"
                )
            if o.NTrees == 0:
                self.log.error(" Zero Decision Trees demanded... that does not work !! I set it to 1")
        prune = o.PruneMethod.lower()
        if boost == "Grad" or o.UseRandomisedTrees:
            prune = "nopruning"
        if training and prune != "nopruning":
            if prune == "expectederror":
                raise OptionError(
                    f"option PruneMethod=ExpectedError of {c} is not implemented in pymva; use CostComplexity "
                    "or NoPruning (TMVA recommends small trees without pruning)"
                )
            if o.PruneStrength < 0:
                raise OptionError(
                    f"option PruneStrength={o.PruneStrength} of {c}: automatic pruning (PruneStrength < 0) is not "
                    "implemented in pymva; give a fixed strength >= 0"
                )
        if training and o.DoBoostMonitor:
            self.log.warning(
                "DoBoostMonitor: pymva does not write TMVA's BoostMonitor histograms; the training is unchanged"
            )
        neg = o.NegWeightTreatment.lower()
        if boost == "Grad" and neg == "inverseboostnegweights":
            neg = "pray"
        min_node: float | None = None
        if o.nEventsMin <= 0:
            min_node = parse_min_node_size(o.MinNodeSize, c)
        max_depth = o.MaxDepth
        if o.NNodesMax > 0:
            nodes, max_depth = 1, 0
            while nodes < o.NNodesMax:
                nodes += 2 * nodes
                max_depth += 1
            if training:
                self.log.warning(
                    "You have specified a deprecated option *NNodesMax=%d* this has been translated to MaxDepth=%d",
                    o.NNodesMax,
                    max_depth,
                )
        bagged = o.UseBaggedBoost or boost == "Bagging" or o.UseBaggedGrad
        if o.UseBaggedGrad and training:
            self.log.warning(
                "You have specified a deprecated option *UseBaggedGrad* --> please use  *UseBaggedBoost* instead"
            )
        fraction: float | None = o.BaggedSampleFraction
        if "GradBaggingFraction" in o.modified_options and "BaggedSampleFraction" not in o.modified_options:
            fraction = o.GradBaggingFraction
        if o.UseNTrainEvents > 0:
            fraction = None
        settings = _Settings(
            boost=boost,
            yes_no_leaf=yes_no,
            sep=sep,
            n_cuts=n_cuts,
            min_node_size=min_node,
            max_depth=max_depth,
            bagged=bagged,
            fraction=fraction,
            prune=prune,
            neg=neg,
            fisher=fisher,
        )
        self._settings_cache = settings
        return settings

    # ------------------------------------------------------------------ training
    def _train(self, sample: Sample) -> None:
        st = self._settings(training=True)
        o = self._opts()
        n_all = len(sample)
        w0 = sample.weights.astype(np.float64)
        keep = w0 != 0
        if not keep.all():
            self.log.info("Events with weight == 0 are going to be simply ignored ")
        neg = w0 < 0
        if neg.any():
            if st.neg in ("ignorenegweightsintraining", "nonegweightsintraining"):
                self.log.warning(
                    " Note, you have events with negative event weight in the sample, but you've chosen to ignore them"
                )
                keep &= ~neg
            elif st.neg == "pairnegweightsglobal":
                self.log.warning(
                    "Events with negative event weights are found and will be removed prior to the actual BDT "
                    "training by global paring (and subsequent annihilation) with positiv weight events"
                )
            else:
                self.log.warning(
                    "Events with negative event weights are USED during the BDT training. This might cause "
                    "problems with small node sizes or with the boosting. Please remove negative events from "
                    "training using the option *IgnoreEventsWithNegWeightsInTraining* in case you observe "
                    "problems with the boosting"
                )
        X = np.ascontiguousarray(sample.X[keep], dtype=np.float32)
        cls = sample.class_id[keep].astype(np.intp)
        w0 = w0[keep]
        y = sample.targets[keep, 0].astype(np.float32) if self._regression else None
        boost = np.ones(len(X))
        if st.neg == "pairnegweightsglobal" and (w0 < 0).any():
            X, cls, w0, y, boost = _pair_negative_weights(X, cls, w0, y, boost, self.log)
        if len(X) == 0:
            raise ModelError(f"method {self.method_name}: no training events with non-zero weight")
        sig_class = self.context.signal_class
        is_sig = cls == sig_class
        if not self._regression and not o.SkipNormalization:
            boost = _normalisation_factors(is_sig, w0 * boost, o.SigToBkgFraction, self.log) * boost
        min_node = st.min_node_size
        if min_node is None:
            min_node = o.nEventsMin * 100.0 / n_all
            self.log.warning(
                "You have explicitly set ** nEventsMin = %d ** the min absolute number of events in a leaf node. "
                "This is DEPRECATED, please use the option *MinNodeSize* (in %% of training events) instead: "
                "nEventsMin=%d --> MinNodeSize=%g%%",
                o.nEventsMin,
                o.nEventsMin,
                min_node,
            )
        fraction = st.fraction if st.fraction is not None else o.UseNTrainEvents / n_all
        n_trees = max(o.NTrees, 1)
        self.log.info("Training %d Decision Trees ... patience please", n_trees)
        trainer = _Trainer(self, st, X, cls, w0, boost, y, min_node, fraction)
        trainer.run(n_trees)
        self.forest_ = trainer.forest
        self.boost_weights_ = trainer.boost_weights[: len(trainer.forest)]
        self.strict_cuts_ = False
        self.__dict__.pop("_batch_walk", None)  # a new forest: the compiled walk is prepared again

    # ------------------------------------------------------------------ application
    def _predict(self, X: F32) -> F32:
        self.check_trained()
        if not self.forest_:
            raise NotTrainedError(
                f"method {self.method_name}: the forest is empty (train or read a weights file)"
            )
        st = self._settings()
        X = np.ascontiguousarray(X, dtype=np.float32)
        n = len(X)
        k = self.context.n_classes
        if self._multiclass:
            walk = self._walk_batch("response", k)
            if walk is not None:
                sums = walk(X)
            else:
                sums = np.zeros((n, k))
                for t, tree in enumerate(self.forest_):
                    sums[:, t % k] += tree.response.astype(np.float64)[
                        tree.apply(X, strict=self.strict_cuts_)
                    ]
            out = np.empty((n, k))
            for i in range(k):
                norm = np.zeros(n)
                for j in range(k):
                    if j != i:
                        norm += np.exp(sums[:, j] - sums[:, i])
                out[:, i] = 1.0 / (1.0 + norm)
            return np.asarray(out, dtype=np.float32)
        if self._regression:
            return np.asarray(self._regression_values(X, st).reshape(-1, 1), dtype=np.float32)
        if st.boost == "Grad":
            total = self._response_sum(X)
            mva = 2.0 / (1.0 + np.exp(-2.0 * total)) - 1
        else:
            mva = self._weighted_average(X, st.yes_no_leaf)
        res = np.empty((n, k), dtype=np.float32)
        res[:] = (-mva)[:, None]
        res[:, self.context.signal_class] = mva
        return res

    def mva_event_function(self) -> Callable[[list[float]], float] | None:
        """Per-event value of the whole forest, summed as :meth:`_predict` sums (Reader).

        Two-class classification with plain cuts (no Fisher cuts in nodes).  With numba installed
        the forest is prepared once as complete padded trees walked by a compiled kernel
        (:func:`~pymva.methods.forestwalk.forest_walk_function`); without it (or where the padded
        trees would be too large) as per-variable rank tables of leaf bit masks
        (:func:`~pymva.methods.forestevent.forest_event_function`).  Either finds the leaves
        :meth:`~pymva.methods.decisiontree.DecisionTree.apply` finds, and the boost-weighted
        average (or the gradient-boost sum and its ``2/(1+e^{-2F})-1``) is accumulated tree by tree
        in float64 as the array path does, so the value is the same bit for bit.  ``None`` otherwise
        (the Reader uses one-row arrays).
        """
        self.check_trained()
        if self._multiclass or self._regression or not self.forest_:
            return None
        if any(bool((tree.n_coef > 0).any()) for tree in self.forest_):
            return None
        st = self._settings()
        grad = st.boost == "Grad"
        if grad:
            values = [tree.response.astype(np.float64) for tree in self.forest_]
            norm = 1.0
        else:
            # bw·v per leaf: the products the array path forms before summing them tree by tree
            values = [
                bw * tree.leaf_values(st.yes_no_leaf)
                for tree, bw in zip(self.forest_, self.boost_weights_, strict=True)
            ]
            norm = 0.0
            for bw in self.boost_weights_:
                norm += bw
        n_var = self.context.n_variables
        walk = forest_walk_function(
            self.forest_, values, n_var, strict=self.strict_cuts_, norm=None if grad else norm
        )
        if walk is not None and not grad:
            return walk  # float32(Σ bw·v / Σ bw), 0.0 when Σ bw <= eps, as bdt_event below
        forest = walk or forest_event_function(self.forest_, values, n_var, strict=self.strict_cuts_)
        if forest is None:
            return None
        f32 = np.float32
        exp = np.exp

        if grad:

            def bdt_grad_event(x: list[float]) -> float:
                total = forest(x)
                return float(f32((2.0 / (1.0 + exp(np.array([-2.0 * total]))) - 1)[0]))

            return bdt_grad_event

        def bdt_event(x: list[float]) -> float:
            return float(f32(forest(x) / norm)) if norm > _EPS else 0.0

        return bdt_event

    def _weighted_average(self, X: F32, yes_no_leaf: bool) -> F64:
        walk = self._walk_batch("yes-no" if yes_no_leaf else "purity", 1)
        norm = 0.0
        if walk is not None:
            total = walk(X)[:, 0]
            for bw in self.boost_weights_:
                norm += bw
        else:
            total = np.zeros(len(X))
            for tree, bw in zip(self.forest_, self.boost_weights_, strict=True):
                total += bw * tree.leaf_values(yes_no_leaf)[tree.apply(X, strict=self.strict_cuts_)]
                norm += bw
        return total / norm if norm > _EPS else np.zeros(len(X))

    def _response_sum(self, X: F32) -> F64:
        """``Σ_t response_t(leaf_t(x))`` in tree order (gradient boosting), float64 of shape (n,)."""
        walk = self._walk_batch("response", 1)
        if walk is not None:
            return walk(X)[:, 0]
        total = np.zeros(len(X))
        for tree in self.forest_:
            total += tree.response.astype(np.float64)[tree.apply(X, strict=self.strict_cuts_)]
        return total

    def _walk_batch(self, kind: str, n_slots: int) -> Callable[[F32], F64] | None:
        """The compiled walk of the whole forest over a matrix of events, or ``None``.

        :func:`~pymva.methods.forestwalk.forest_walk_batch` (numba installed and enabled, no
        Fisher-cut nodes) with the values the array path sums per tree: ``kind`` is ``"response"``
        (the leaves' responses) or ``"yes-no"``/``"purity"`` (boost weight × leaf value).  The
        same sums bit for bit, event by event in compiled code instead of tree by tree in numpy.
        Prepared once per forest (cached while the forest and its boost weights are unchanged).
        """
        key = (
            kind,
            n_slots,
            id(self.forest_),
            len(self.forest_),
            tuple(self.boost_weights_),
            self.strict_cuts_,
        )
        cached = self.__dict__.get("_batch_walk")
        if cached is not None and cached[0] == key:
            return cached[1]  # type: ignore[no-any-return]
        walk = None
        if not any(bool((tree.n_coef > 0).any()) for tree in self.forest_):
            if kind == "response":
                values = [tree.response.astype(np.float64) for tree in self.forest_]
            else:
                values = [
                    bw * tree.leaf_values(kind == "yes-no")
                    for tree, bw in zip(self.forest_, self.boost_weights_, strict=True)
                ]
            walk = forest_walk_batch(
                self.forest_, values, self.context.n_variables, strict=self.strict_cuts_, n_slots=n_slots
            )
        self.__dict__["_batch_walk"] = (key, walk)
        return walk

    def _regression_values(self, X: F32, st: _Settings) -> F64:
        if st.boost == "Grad":
            return self._response_sum(X) + self.boost_weights_[0]
        if st.boost != "AdaBoostR2":
            return self._weighted_average(X, False)
        # H. Drucker's weighted median of the trees (MethodBDT::GetRegressionValues)
        n_trees = len(self.forest_)
        bw = np.asarray(self.boost_weights_, dtype=np.float64)
        total_w = float(np.cumsum(bw)[-1])
        out = np.empty(len(X))
        for start in range(0, len(X), 4096):
            xs = X[start : start + 4096]
            resp = np.stack(
                [t.response.astype(np.float64)[t.apply(xs, strict=self.strict_cuts_)] for t in self.forest_],
                axis=1,
            )
            order = np.argsort(resp, axis=1, kind="stable")
            r = np.take_along_axis(resp, order, axis=1)
            cw = np.cumsum(bw[order], axis=1)
            before = np.concatenate([np.zeros((len(xs), 1)), cw[:, :-1]], axis=1)
            # t: number of trees added while the running sum is <= half of the total
            t = np.argmax(before > total_w / 2.0, axis=1)
            t = np.where((before > total_w / 2.0).any(axis=1), t, n_trees)
            sixth = n_trees // 6
            lo = np.where(t - sixth >= 1, t - sixth - 1, 0)
            hi = np.minimum(n_trees, t + sixth)
            cr = np.concatenate([np.zeros((len(xs), 1)), np.cumsum(r, axis=1)], axis=1)
            rows = np.arange(len(xs))
            count = np.maximum(hi - lo, 1)
            out[start : start + 4096] = (cr[rows, hi] - cr[rows, lo]) / count
        return out

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``<Weights NTrees AnalysisType>`` with one ``<BinaryTree>`` per tree (TMVA's layout)."""
        if not self.forest_:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        parent.set("NTrees", str(len(self.forest_)))
        parent.set("AnalysisType", "1" if self.forest_[-1].regression else "0")
        for i, tree in enumerate(self.forest_):
            el = tree_to_xml(tree, parent)
            el.set("boostWeight", f"{self.boost_weights_[i]:.16e}")
            el.set("itree", str(i))

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the forest (``MethodBDT::ReadWeightsFromXML``); boost weights are read as float32.

        Raises
        ------
        ModelError
            For a missing ``<Weights>``, preselection cuts (not supported), a malformed tree or a
            tree count that differs from ``NTrees``.
        """
        src = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{src}: no <Weights> element")
        if weights.get("PreselectionLowBkgVar0") is not None:
            raise ModelError(
                f"{src}: the <Weights> element holds DoPreselection cuts (PreselectionLowBkgVar0...), which "
                "pymva does not implement"
            )
        at_text = weights.get("AnalysisType", weights.get("TreeType"))
        try:
            tree_type = int(at_text) if at_text is not None else 0
            n_trees = int(weights.get("NTrees", "-1"))
        except ValueError:
            raise ModelError(
                f"{src}: <Weights NTrees AnalysisType> are not integers ({weights.attrib})"
            ) from None
        regression_trees = tree_type == 1
        forest, bws = [], []
        for child in weights:
            if child.tag != "BinaryTree":
                raise ModelError(
                    f"{src}: unexpected element <{child.tag}> in <Weights> (expected <BinaryTree>)"
                )
            if child.get("type", "DecisionTree") != "DecisionTree":
                raise ModelError(f"{src}: <BinaryTree type={child.get('type')!r}> is not a DecisionTree")
            forest.append(tree_from_xml(child, self.context.n_variables, regression_trees, src))
            try:
                bws.append(float(np.float32(float(child.get("boostWeight", "nan")))))
            except ValueError:
                raise ModelError(f"{src}: <BinaryTree boostWeight={child.get('boostWeight')!r}>") from None
        if n_trees >= 0 and n_trees != len(forest):
            raise ModelError(f"{src}: <Weights NTrees={n_trees}> holds {len(forest)} <BinaryTree> elements")
        if not forest:
            raise ModelError(f"{src}: <Weights> holds no tree")
        self.forest_, self.boost_weights_ = forest, bws
        self.__dict__.pop("_batch_walk", None)
        code = _release_code(getattr(self, "general_info_", {}).get("ROOT Release", ""))
        self.strict_cuts_ = code is not None and code <= _ROOT_5_34_04
        super().read_weights_xml(weights)

    # ------------------------------------------------------------------ ranking
    def variable_importance(self) -> F64:
        """``MethodBDT::GetVariableImportance``: ``sqrt(Σ_t α_t·relative importance_t)``, normalised."""
        nvar = self.context.n_variables
        total = np.zeros(nvar)
        for tree, bw in zip(self.forest_, self.boost_weights_, strict=True):
            rel = tree.relative_importance()
            if rel.size == nvar:
                total += bw * rel
        total = np.sqrt(np.maximum(total, 0.0))
        s = total.sum()
        return total / s if s > 0 else total

    def ranking(self) -> list[tuple[str, float]] | None:
        """ "Variable Importance" per variable, best first (after training, as in TMVA)."""
        if not self.forest_ or not any(t.importance.any() for t in self.forest_):
            return None
        labels = [v.label for v in self.context.variables]
        return list(Ranking.from_values(labels, self.variable_importance(), self.ranking_criterion).entries)


def _release_code(text: str) -> int | None:
    """The version code in brackets of a ``ROOT Release`` text (``"5.34/04 [336388]"`` -> 336388)."""
    if "[" not in text or "]" not in text:
        return None
    try:
        return int(text[text.index("[") + 1 : text.index("]")])
    except ValueError:
        return None


def _pair_negative_weights(
    X: F32, cls: IntA, w0: F64, y: F32 | None, boost: F64, log: Any
) -> tuple[F32, IntA, F64, F32 | None, F64]:
    """``MethodBDT::PreProcessNegativeEventWeights``: annihilate negative weights with the nearest
    (Mahalanobis distance, per-class inverse covariance) positive events of the same class."""
    weight = w0 * boost
    inv_cov: dict[int, F64] = {}
    for c in np.unique(cls):
        sel = cls == c
        xc = X[sel].astype(np.float64)
        wc = weight[sel]
        mean = wc @ xc / wc.sum()
        d = xc - mean
        cov = (d * wc[:, None]).T @ d / wc.sum()
        inv_cov[int(c)] = np.linalg.pinv(cov)
    for i in np.flatnonzero(weight < 0):
        ic = inv_cov[int(cls[i])]
        while weight[i] < 0:
            cand = np.flatnonzero((cls == cls[i]) & (weight > 0))
            if cand.size == 0:
                raise ModelError("BDT PairNegWeightsGlobal: no positive-weight event left to pair with")
            d = X[cand].astype(np.float64) - X[i].astype(np.float64)
            dist = np.einsum("ij,jk,ik->i", d, ic, d)
            j = int(cand[int(np.argmin(dist))])
            new = weight[i] + weight[j]
            if new > 0:
                boost[i], boost[j] = 0.0, new / w0[j]
            else:
                boost[i], boost[j] = new / w0[i], 0.0
            weight = w0 * boost
    keep = weight > 0
    log.info(" after PreProcessing, the Event sample is left with %d events (unweighted)", int(keep.sum()))
    return X[keep], cls[keep], w0[keep], (y[keep] if y is not None else None), boost[keep]


class _Trainer:
    """The boosting loop of ``MethodBDT::Train`` over flat per-event arrays."""

    def __init__(
        self,
        method: MethodBDT,
        st: _Settings,
        X: F32,
        cls: IntA,
        w0: F64,
        boost: F64,
        y: F32 | None,
        min_node: float,
        fraction: float,
    ) -> None:
        self.m, self.st, self.o = method, st, method._opts()
        self.X, self.cls, self.w0, self.boost, self.y = X, cls, w0, boost, y
        self.XT = np.ascontiguousarray(X.T, dtype=np.float64)
        self.n = len(X)
        self.is_sig = cls == method.context.signal_class
        self.min_node, self.fraction = min_node, fraction
        self.forest: list[DecisionTree] = []
        self.boost_weights: list[float] = []
        self.regression = method._regression
        self.k = method.context.n_classes
        ints = tuple(v.type == "I" for v in method.context.variables)
        self.integer_vars = ints
        self._runs_cache: tuple[IntA, IntA, IntA, bool] | None = None
        self.cache = GrowthCache()  # the trees' common root grid (unchanged trees, less work)
        self.sample = self._bagged() if st.bagged else np.arange(self.n)

    @property
    def weights(self) -> F64:
        return self.w0 * self.boost

    def _bagged(self) -> IntA:
        counts = poisson_counts(100 * len(self.forest) + 1234, self.fraction, self.n)
        return np.repeat(np.arange(self.n), counts)

    def _config(self, seed: int, regression_tree: bool) -> TreeConfig:
        o, st = self.o, self.st
        return TreeConfig(
            sep_index=None if regression_tree else SEPARATION_INDEX[st.sep],
            n_cuts=st.n_cuts,
            min_node_size=self.min_node,
            max_depth=st.max_depth,
            purity_limit=o.NodePurityLimit,
            randomised=o.UseRandomisedTrees,
            use_nvars=o.UseNvars,
            use_poisson_nvars=o.UsePoissonNvars,
            seed=seed,
            use_fisher_cuts=st.fisher,
            min_lin_corr_fisher=o.MinLinCorrForFisher,
            use_exclusive_vars=o.UseExclusiveVars,
            integer_vars=self.integer_vars,
        )

    def run(self, n_trees: int) -> None:
        st = self.st
        if st.boost == "Grad":
            if self.regression:
                self._run_grad_regression(n_trees)
            elif self.m._multiclass:
                self._run_grad_multiclass(n_trees)
            else:
                self._run_grad(n_trees)
            return
        boost_fn: Callable[[DecisionTree], float] = {
            "AdaBoost": self._adaboost,
            "AdaCost": self._adacost,
            "Bagging": lambda _tree: 1.0,
            "AdaBoostR2": self._adaboost_r2,
        }[st.boost]
        clean = st.yes_no_leaf and not self.regression
        target = self.y.astype(np.float64) if self.y is not None else None
        is_sig = np.ones(self.n, dtype=bool) if self.regression else self.is_sig
        for itree in range(n_trees):
            tree = grow_tree(
                self._config(itree, self.regression),
                self.X,
                self.XT,
                is_sig,
                self.weights,
                self.sample,
                target,
                cache=self.cache,
            )
            if clean:
                tree = clean_tree(tree, self.o.NodePurityLimit)
            self.forest.append(tree)
            bw = boost_fn(tree)
            if st.bagged:
                self.sample = self._bagged()
            if st.prune == "costcomplexity":
                tree = cost_complexity_prune(tree, self.o.PruneStrength, self.o.NodePurityLimit)
                if clean:
                    tree = clean_tree(tree, self.o.NodePurityLimit)
                self.forest[-1] = tree
            self.forest[-1].event_leaf = None  # training only: not kept in the forest
            if bw > 0:
                self.boost_weights.append(bw)
            else:
                self.boost_weights.append(0.0)
                self.m.log.warning("stopped boosting at itree=%d", itree)
                break

    # -------------------------------------------------------------- sample helpers
    def _runs(self) -> tuple[IntA, IntA]:
        """The distinct events of the sample (in order) and how often each appears (bagged copies
        are consecutive, as TMVA pushes them); kept until the sample changes."""
        cached = self._runs_cache
        if cached is not None and cached[0] is self.sample:
            return cached[1], cached[2]
        counts = np.bincount(self.sample, minlength=self.n)
        ev = np.flatnonzero(counts)
        cnt = counts[ev]
        self._runs_cache = (self.sample, ev, cnt, bool((cnt == 1).all()))
        return ev, cnt

    def _once(self, cnt: IntA) -> bool:
        """Whether every event of the sample appears once (the counts ``cnt`` of :meth:`_runs`)."""
        cached = self._runs_cache
        return cached is not None and cached[2] is cnt and cached[3]

    def _entries(self, values: _A, cnt: IntA) -> _A:
        """Per-event ``values`` repeated for each entry of the sample (``np.repeat``)."""
        return values if self._once(cnt) else np.repeat(values, cnt)  # type: ignore[return-value]

    def _leaves(self, tree: DecisionTree, rows: IntA | None = None) -> IntA:
        """Leaf of the training events ``rows`` (all when ``None``): where the growth put them
        (``DecisionTree.event_leaf``), walked with :meth:`DecisionTree.apply` for the others."""
        el = tree.event_leaf
        if el is None:
            return tree.apply(self.X if rows is None else self.X[rows])
        leaf = el if rows is None else el[rows]
        miss = np.flatnonzero(leaf < 0)
        if miss.size:
            leaf = leaf.copy()
            leaf[miss] = tree.apply(self.X[miss] if rows is None else self.X[rows[miss]])
        return leaf

    def _leaf_values(self, tree: DecisionTree, ev: IntA, yes_no: bool) -> F64:
        return tree.leaf_values(yes_no)[self._leaves(tree, ev)]

    def _repeat(self, ev: IntA, cnt: IntA, update: Callable[[F64, _Sel], F64]) -> F64:
        """Apply ``update`` to the boost weights of the sample's entries one after the other (an event
        present ``c`` times is updated ``c`` times) and return the entries' weights after their update,
        in sample order."""
        if self._once(cnt):  # one update per event: the same operations on whole arrays
            cur = update(self.boost[ev], _ALL)
            self.boost[ev] = cur
            return self.w0[ev] * cur
        cur = self.boost[ev].copy()
        maxc = int(cnt.max()) if cnt.size else 0
        contrib = np.zeros((len(ev), maxc))
        for k in range(maxc):
            m = cnt > k
            cur[m] = update(cur[m], m)
            contrib[m, k] = self.w0[ev][m] * cur[m]
        self.boost[ev] = cur
        mask = np.arange(maxc)[None, :] < cnt[:, None]
        return contrib[mask]

    def _scale_entries(self, ev: IntA, cnt: IntA, factor: F64) -> None:
        """``ScaleBoostWeight(factor)`` once per sample entry (repeated multiplication)."""
        if self._once(cnt):
            self.boost[ev] = self.boost[ev] * factor
            return
        cur = self.boost[ev].copy()
        for k in range(int(cnt.max()) if cnt.size else 0):
            m = cnt > k
            cur[m] = cur[m] * factor[m]
        self.boost[ev] = cur

    # -------------------------------------------------------------- AdaBoost family
    def _adaboost(self, tree: DecisionTree) -> float:
        o, st = self.o, self.st
        ev, cnt = self._runs()
        inverse_neg = st.neg == "inverseboostnegweights"
        # numba: the discrete AdaBoost of a sample without copies in two compiled passes (the same
        # operations, in the same order, as the array expressions below)
        kern = kernels() if st.yes_no_leaf and not self.regression and self._once(cnt) else None
        if kern is not None:
            mis = np.empty(len(ev), dtype=bool)
            sumw, wrong_w = kern["adaboost_error"](
                ev,
                self.w0,
                self.boost,
                self._leaves(tree, ev),
                tree.leaf_values(True),
                self.is_sig,
                float(o.NodePurityLimit),
                mis,
            )
            err = wrong_w / sumw
        else:
            w = self.weights[ev]
            entry_w = self._entries(w, cnt)
            sumw = _seqsum(entry_w)
            is_sig = self.is_sig[ev]
            if self.regression:
                assert self.y is not None
                dev = np.abs(self._leaf_values(tree, ev, False) - self.y[ev].astype(np.float64))
                max_dev = float(dev.max())
                loss = o.AdaBoostR2Loss.lower()
                err = self._r2_error(loss, self._entries(dev, cnt), entry_w, sumw, max_dev)
                wrong_w = _seqsum(self._entries(w * dev, cnt))
            elif st.yes_no_leaf:
                mis = (self._leaf_values(tree, ev, True) > o.NodePurityLimit) != is_sig
                wrong_w = _seqsum(self._entries(np.where(mis, w, 0.0), cnt))
                err = wrong_w / sumw
            else:
                out = (self._leaf_values(tree, ev, False) - 0.5) * 2.0
                y = np.where(is_sig, 1.0, -1.0)
                wrong_w = _seqsum(self._entries(w * y * out, cnt))
                err = wrong_w / sumw
        self.m.log.debug("BDT AdaBoos  wrong/all: %g/%g", wrong_w, sumw)
        if err >= 0.5 and st.yes_no_leaf:
            if tree.n_nodes == 1:
                self.m.log.error(
                    " YOUR tree has only 1 Node... kind of a funny *tree*. I cannot boost such a thing... if after "
                    "1 step the error rate is == 0.5 please check why this happens, maybe too many events per "
                    "node requested ?"
                )
                err = 0.5
            else:
                self.m.log.error(
                    " The error rate in the BDT boosting is > 0.5. (%g) ... I stop boosting here", err
                )
                return -1.0
        elif err < 0:
            self.m.log.error(
                " The error rate in the BDT boosting is < 0 (negative weights?): using its absolute value"
            )
            err = abs(err)
        if st.yes_no_leaf or self.regression:
            boost_weight = math.log((1.0 - err) / err) * o.AdaBoostBeta if err > 0 else math.inf
        else:
            boost_weight = math.log((1.0 + err) / (1 - err)) * o.AdaBoostBeta
        if kern is not None:
            f = math.exp(boost_weight)
            new_sum = kern["adaboost_update"](ev, self.w0, self.boost, mis, f, 1.0 / f, inverse_neg)
            g = float(len(self.sample)) / new_sum
            kern["scale"](ev, self.boost, self.is_sig, g * o.SigToBkgFraction, g)
            return boost_weight
        positive = self.w0[ev] * self.boost[ev] > 0
        if st.yes_no_leaf or self.regression:
            factor = np.full(len(ev), math.exp(boost_weight))
            if self.regression:
                factor = np.power(1 / boost_weight, 1.0 - dev / max_dev)
                hit = np.ones(len(ev), dtype=bool)
            else:
                hit = mis
        else:
            factor = np.exp(-1 * boost_weight * y * out)
            hit = np.ones(len(ev), dtype=bool)

        def update(b: F64, m: _Sel) -> F64:
            f, h, pos = factor[m], hit[m], positive[m]
            new = np.where(pos | (not inverse_neg), b * f, b * (1.0 / f))
            return np.where(h, new, b)

        new_sum = _seqsum(self._repeat(ev, cnt, update))
        g = float(len(self.sample)) / new_sum
        self._scale_entries(ev, cnt, np.where(is_sig, g * o.SigToBkgFraction, g))
        return boost_weight

    @staticmethod
    def _r2_error(loss: str, dev: F64, w: F64, sumw: float, max_dev: float) -> float:
        if loss == "linear":
            return _seqsum(w * dev) / max_dev / sumw
        if loss == "quadratic":
            return _seqsum(w * dev * dev) / max_dev / max_dev / sumw
        return _seqsum(w * (1 - np.exp(-dev / max_dev)) / sumw)

    def _adacost(self, tree: DecisionTree) -> float:
        o = self.o
        ev, cnt = self._runs()
        w = self.weights[ev]
        sumw = _seqsum(self._entries(w, cnt))
        out = (self._leaf_values(tree, ev, False) - 0.5) * 2.0
        true_sig = self.is_sig[ev]
        sel_sig = out > 0
        cost = np.where(true_sig, np.where(sel_sig, o.Css, o.Cts_sb), np.where(sel_sig, o.Ctb_ss, o.Cbb))
        y = np.where(true_sig, 1.0, -1.0)
        total_cost = _seqsum(self._entries(w * y * out * cost, cnt)) / sumw
        boost_weight = math.log((1 + total_cost) / (1 - total_cost)) * o.AdaBoostBeta
        factor = np.exp(-1 * boost_weight * y * out * cost)
        positive = w > 0
        inverse_neg = self.st.neg == "inverseboostnegweights"

        def update(b: F64, m: _Sel) -> F64:
            f, pos = factor[m], positive[m]
            return np.where(pos, b * f, np.where(inverse_neg, b * (1.0 / f), b))

        new_sum = _seqsum(self._repeat(ev, cnt, update))
        g = float(len(self.sample)) / new_sum
        self._scale_entries(ev, cnt, np.where(true_sig, g * o.SigToBkgFraction, g))
        return boost_weight

    def _adaboost_r2(self, tree: DecisionTree) -> float:
        assert self.y is not None
        ev, cnt = self._runs()
        w = self.weights[ev]
        entry_w = self._entries(w, cnt)
        sumw = _seqsum(entry_w)
        dev = np.abs(self._leaf_values(tree, ev, False) - self.y[ev].astype(np.float64))
        max_dev = float(dev.max())
        err = self._r2_error(self.o.AdaBoostR2Loss.lower(), self._entries(dev, cnt), entry_w, sumw, max_dev)
        if err >= 0.5:
            if tree.n_nodes == 1:
                self.m.log.error(" YOUR tree has only 1 Node... I cannot boost such a thing")
                err = 0.5
            else:
                self.m.log.error(
                    " The error rate in the BDT boosting is > 0.5. (%g) That should not happen, but is possible "
                    "for regression trees, and should trigger a stop for the boosting.",
                    err,
                )
                return -1.0
        elif err < 0:
            err = abs(err)
        boost_weight = err / (1.0 - err)
        with np.errstate(divide="ignore"):
            factor = np.power(boost_weight, 1.0 - dev / max_dev)
        positive = w > 0

        def update(b: F64, m: _Sel) -> F64:
            f = factor[m]
            return np.where(positive[m], (b * f).astype(np.float32).astype(np.float64), b / f)

        new_sum = _seqsum(self._repeat(ev, cnt, update))
        self._scale_entries(ev, cnt, np.full(len(ev), sumw / new_sum))
        return math.log(1.0 / boost_weight) if boost_weight > 0 else math.inf

    # -------------------------------------------------------------- gradient boosting
    def _leaf_sums(self, tree: DecisionTree, ev: IntA, cnt: IntA, values: F64) -> F64:
        """Per-leaf sums over the sample's entries, in sample order (bincount adds in order)."""
        leaf = self._leaves(tree, ev)
        sums = np.bincount(
            self._entries(leaf, cnt), weights=self._entries(values, cnt), minlength=tree.n_nodes
        )
        return np.asarray(sums, dtype=np.float64)

    def _grad_leaves(self, tree: DecisionTree, t: F64) -> None:
        """``MethodBDT::GradBoost``: leaf value Shrinkage/K · Σ t w / Σ |t|(1−|t|) w²."""
        ev, cnt = self._runs()
        w = self.weights[ev]
        te = t[ev]
        num = self._leaf_sums(tree, ev, cnt, te * w)
        den = self._leaf_sums(tree, ev, cnt, np.abs(te) * (1.0 - np.abs(te)) * w * w)
        leaves = np.unique(self._leaves(tree, ev))
        den = np.where(den < 1e-30, 1e-30, den)
        resp = tree.response.copy()
        resp[leaves] = (self.o.Shrinkage / self.k * num[leaves] / den[leaves]).astype(np.float32)
        tree.response = resp

    def _run_grad(self, n_trees: int) -> None:
        t = (np.where(self.is_sig, 1.0, 0.0) - 0.5).astype(np.float32).astype(np.float64)
        resid = np.zeros(self.n)
        for itree in range(n_trees):
            tree = grow_tree(
                self._config(itree, True),
                self.X,
                self.XT,
                self.is_sig,
                self.weights,
                self.sample,
                t,
                cache=self.cache,
            )
            self._grad_leaves(tree, t)
            self.forest.append(tree)
            resid += tree.response.astype(np.float64)[self._leaves(tree)]
            tree.event_leaf = None  # training only: not kept in the forest
            p = 1.0 / (1.0 + np.exp(-2.0 * resid))
            t = (np.where(self.is_sig, 1.0, 0.0) - p).astype(np.float32).astype(np.float64)
            if self.st.bagged:
                self.sample = self._bagged()
            self.boost_weights.append(1.0)

    def _run_grad_multiclass(self, n_trees: int) -> None:
        k = self.k
        onehot = self.cls[:, None] == np.arange(k)[None, :]
        t = np.where(onehot, 1 - 1.0 / k, -1.0 / k).astype(np.float32).astype(np.float64)
        resid = np.zeros((self.n, k))
        for itree in range(n_trees):
            for i in range(k):
                # TMVA grows every class's tree on target 0 (DecisionTree::BuildTree reads GetTarget(0))
                # and fits the leaves to the residuals of class i
                tree = grow_tree(
                    self._config(itree * k + i, True),
                    self.X,
                    self.XT,
                    self.cls == i,
                    self.weights,
                    self.sample,
                    t[:, 0].copy(),
                    cache=self.cache,
                )
                self._grad_leaves(tree, t[:, i].copy())
                self.forest.append(tree)
                resid[:, i] += tree.response.astype(np.float64)[self._leaves(tree)]
                tree.event_leaf = None
                if i == k - 1:
                    e = np.exp(resid)
                    for c in range(k):
                        norm = np.zeros(self.n)
                        for j in range(k):
                            if j != c:
                                norm += e[:, j] / e[:, c]
                        p = 1.0 / (1.0 + norm)
                        t[:, c] = (onehot[:, c] - p).astype(np.float32).astype(np.float64)
                if self.st.bagged:
                    self.sample = self._bagged()
                self.boost_weights.append(1.0)

    def _run_grad_regression(self, n_trees: int) -> None:
        assert self.y is not None
        o = self.o
        loss = make_loss(o.RegressionLossFunctionBDTG, o.HuberQuantile)
        y = self.y.astype(np.float64)
        info_w = self.weights.copy()  # LossFunctionEventInfo keeps the weight of InitGradBoost
        init = loss.initial(y, info_w)
        self.boost_weights.append(init)
        pred = np.full(self.n, init)
        target = y.copy()  # events never in a sample keep their true target (TMVA's Event target)

        def set_targets() -> None:
            s = self.sample
            new = loss.targets(y[s] - pred[s], self.weights[s])
            target[s] = new.astype(np.float32)

        set_targets()
        all_sig = np.ones(self.n, dtype=bool)
        for itree in range(n_trees):
            tree = grow_tree(
                self._config(itree, True),
                self.X,
                self.XT,
                all_sig,
                self.weights,
                self.sample,
                target,
                cache=self.cache,
            )
            leaf_of_entry = self._leaves(tree, self.sample)
            resp = tree.response.copy()
            order = np.argsort(leaf_of_entry, kind="stable")
            leaves, first = np.unique(leaf_of_entry[order], return_index=True)
            bounds = [*first.tolist(), len(order)]
            for j, leaf in enumerate(leaves):
                ent = self.sample[order[bounds[j] : bounds[j + 1]]]
                resp[leaf] = np.float32(o.Shrinkage * loss.fit(y[ent] - pred[ent], info_w[ent]))
            tree.response = resp
            self.forest.append(tree)
            pred += resp.astype(np.float64)[self._leaves(tree)]
            tree.event_leaf = None
            set_targets()
            if self.st.bagged:
                self.sample = self._bagged()
            self.boost_weights.append(1.0)
