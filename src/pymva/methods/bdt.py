"""``BDT`` (``Types.kBDT``): TMVA's boosted decision trees, mapped onto scikit-learn.

TMVA grows its own trees; pymva maps TMVA's options onto scikit-learn's ensembles and refuses, with
an :class:`~pymva.errors.OptionError`, every option value that has no faithful counterpart (nothing
is silently ignored).  The estimator is chosen by ``BoostType``, the analysis type and
``UseBaggedBoost``:

==============  =====================  ===============  ==========================================
BoostType       analysis               UseBaggedBoost   scikit-learn estimator
==============  =====================  ===============  ==========================================
Grad            classification,        no               ``HistGradientBoostingClassifier``
                multiclass
Grad            classification,        yes              ``GradientBoostingClassifier(subsample)``
                multiclass
Grad            regression             either           ``GradientBoostingRegressor`` (Huber loss)
AdaBoost        classification         no               ``AdaBoostClassifier(DecisionTreeClassifier)``
AdaBoostR2      regression             no               ``AdaBoostRegressor(DecisionTreeRegressor)``
Bagging         classification         (implied)        ``BaggingClassifier(DecisionTreeClassifier)``
Bagging         regression             (implied)        ``BaggingRegressor(DecisionTreeRegressor)``
==============  =====================  ===============  ==========================================

As in TMVA, training drops events with zero weight, and for classification rescales the weights so
that signal and background have sums ``N·f/(1+f)`` and ``N/(1+f)`` (``f = SigToBkgFraction``, N the
number of events) unless ``SkipNormalization``.  ``Shrinkage`` is the learning rate, times
Friedman's ``(K−1)/K`` for multiclass histogram gradient boosting (TMVA's multiclass leaf value
carries that factor; ``GradientBoostingClassifier`` applies it itself).  The defaults depend on
the analysis type as TMVA's do: regression uses ``MaxDepth=50``, ``MinNodeSize=0.2%``, ``BoostType=AdaBoostR2``,
``SeparationType=RegressionVariance`` and ``!UseYesNoLeaf``.

The fitted estimator is pickled to ``<weight dir>/BDTModel_<title>.PyData``; the weights file
records that path in its ``<Weights>`` element (TMVA writes the trees into the XML instead).
Responses are scikit-learn's class probabilities (TMVA's BDT output lies in [-1, 1]; for
``BoostType=Grad`` it is ``2p−1`` of the same probability ``p``), regression the predicted target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, OptionError
from ..options import option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodContext
from .registry import register_method
from .sklearn_common import SklearnMethodBase, adaboost_algorithm_kwargs, proba_by_class

__all__ = ["SUPPORTED_OPTIONS", "UNSUPPORTED_OPTIONS", "BDTOptions", "BDTRegressionOptions", "MethodBDT"]

F32 = npt.NDArray[np.float32]

_BOOST_TYPES = ("AdaBoost", "RealAdaBoost", "AdaCost", "Bagging", "AdaBoostR2", "Grad")
_SEPARATION_TYPES = (
    "CrossEntropy",
    "GiniIndex",
    "GiniIndexWithLaplace",
    "MisClassificationError",
    "SDivSqrtSPlusB",
    "RegressionVariance",
)
_NEG_WEIGHT_TREATMENTS = (
    "InverseBoostNegWeights",
    "IgnoreNegWeightsInTraining",
    "NoNegWeightsInTraining",
    "PairNegWeightsGlobal",
    "Pray",
)


def _gt0(value: Any) -> str | None:
    return None if value > 0 else "must be greater than zero"


def _fraction(value: Any) -> str | None:
    return None if 0.0 < value <= 1.0 else "must be in (0, 1]"


@dataclass(frozen=True)
class BDTOptions(BaseMethodOptions):
    """Options of BDT: TMVA's declarations (classification defaults) plus ``RandomState``."""

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
        0, "Size of the subset of variables used with RandomisedTree option (0: TMVA's int(sqrt(NVar)+0.6))"
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
    RandomState: int = option(
        0,
        "Seed of scikit-learn's random numbers (pymva; TMVA's BDT uses fixed internal seeds)",
        check=lambda v: None if 0 <= v < 2**32 else "must be in [0, 2**32)",
    )


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


#: Options that have no scikit-learn counterpart: any value but the default raises OptionError.
UNSUPPORTED_OPTIONS = (
    "Css",
    "Cts_sb",
    "Ctb_ss",
    "Cbb",
    "NodePurityLimit",
    "DoBoostMonitor",
    "UseFisherCuts",
    "MinLinCorrForFisher",
    "UseExclusiveVars",
    "DoPreselection",
    "PruneMethod",
    "PruneStrength",
    "PruningValFraction",
)

#: Options (and values) that are mapped onto scikit-learn.
SUPPORTED_OPTIONS = (
    "NTrees",
    "MaxDepth",
    "MinNodeSize",
    "nCuts",
    "BoostType=AdaBoost|AdaBoostR2|Grad|Bagging",
    "AdaBoostR2Loss",
    "UseBaggedBoost",
    "Shrinkage",
    "AdaBoostBeta",
    "UseRandomisedTrees (with !UsePoissonNvars)",
    "UseNvars",
    "BaggedSampleFraction",
    "UseYesNoLeaf",
    "NegWeightTreatment=InverseBoostNegWeights|IgnoreNegWeightsInTraining|NoNegWeightsInTraining|Pray",
    "SeparationType=GiniIndex|CrossEntropy|RegressionVariance",
    "RegressionLossFunctionBDTG",
    "HuberQuantile",
    "SigToBkgFraction",
    "SkipNormalization",
    "RandomState",
    "nEventsMin",
    "UseBaggedGrad",
    "GradBaggingFraction",
    "UseNTrainEvents",
    "NNodesMax",
)

_SUPPORTED_TEXT = "Supported BDT options: " + ", ".join(SUPPORTED_OPTIONS)


def parse_min_node_size(text: str, component: str) -> float:
    """``MinNodeSize`` in percent: ``"5%"``, ``"5"``, ``" 2.5 % "``; must lie in (0, 50) as in TMVA."""
    raw = text.replace("%", "").replace(" ", "")
    try:
        value = float(raw)
    except ValueError:
        raise OptionError(
            f"I had problems reading the option MinNodeSize of {component}, which after removing a possible "
            f"% sign now reads '{raw}'"
        ) from None
    if not 0.0 < value < 50.0:
        raise OptionError(
            f"you have demanded a minimal node size of {value:g}% of the training events ({component}): that "
            "somehow does not make sense; MinNodeSize must lie in (0%, 50%)"
        )
    return value


@dataclass(frozen=True)
class _Plan:
    """What :meth:`MethodBDT.setup` decided (kept for training and for messages)."""

    kind: str  # 'hist_grad', 'grad', 'grad_reg', 'ada', 'ada_r2', 'bagging', 'bagging_reg'
    leaf_param: str
    fraction_param: str | None


@register_method
class MethodBDT(SklearnMethodBase):
    """TMVA's BDT on scikit-learn's tree ensembles (see the module docstring for the mapping).

    Attributes
    ----------
    plan_ : _Plan or None
        The estimator kind and its data-dependent parameter names (set by :meth:`setup`).
    """

    method_type = EMVA.kBDT
    Options = BDTOptions
    model_prefix: ClassVar[str] = "BDTModel"
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
        "pymva trains scikit-learn's ensembles; see docs/methods.md for the option mapping."
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.plan_: _Plan | None = None

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

    # ------------------------------------------------------------------ options -> estimator
    def _opts(self) -> BDTOptions:
        o = self.options
        assert isinstance(o, BDTOptions)
        return o

    def _unsupported(self, name: str, value: Any, why: str) -> OptionError:
        return OptionError(
            f"option {name}={value} of {self.component} has no faithful scikit-learn counterpart: {why}. "
            + _SUPPORTED_TEXT
        )

    def _check_unsupported(self) -> None:
        o = self._opts()
        defaults = {d.name: d.default for d in type(o).declarations()}
        for name in UNSUPPORTED_OPTIONS:
            value = getattr(o, name)
            if value != defaults[name]:
                raise self._unsupported(name, value, f"it must stay at its default {defaults[name]}")

    def _make_estimator(self) -> Any:
        o = self._opts()
        c = self.component
        at = self.context.analysis_type
        regression = at == EAnalysisType.kRegression
        multiclass = at == EAnalysisType.kMulticlass
        self._check_unsupported()
        boost = o.BoostType
        if boost in ("RealAdaBoost", "AdaCost"):
            raise self._unsupported(
                "BoostType",
                boost,
                "scikit-learn has neither Real AdaBoost (SAMME.R, removed in 1.6) nor AdaCost",
            )
        if multiclass and boost != "Grad":
            raise OptionError(
                f"Multiclass is currently only supported by gradient boost. Please change boost option "
                f"accordingly (BoostType=Grad) ({c}: BoostType={boost})"
            )
        if regression and boost == "AdaBoost":
            raise OptionError(
                f"BoostType=AdaBoost is for classification ({c}); for regression use AdaBoostR2, Grad "
                "or Bagging"
            )
        if not regression and boost == "AdaBoostR2":
            raise OptionError(
                f"BoostType=AdaBoostR2 is for regression ({c}); for classification use AdaBoost, Grad "
                "or Bagging"
            )
        if o.NegWeightTreatment == "PairNegWeightsGlobal":
            raise self._unsupported(
                "NegWeightTreatment", "PairNegWeightsGlobal", "pairing events is not implemented"
            )

        bagged = o.UseBaggedBoost
        if o.UseBaggedGrad:
            self.log.warning(
                "You have specified a deprecated option *UseBaggedGrad* --> please use  "
                "*UseBaggedBoost* instead"
            )
            bagged = True
        if boost == "Bagging":
            bagged = True
        if bagged and boost in ("AdaBoost", "AdaBoostR2"):
            raise self._unsupported(
                "UseBaggedBoost", True, f"scikit-learn's {boost} cannot grow each tree on a bagged subsample"
            )
        fraction = self._bagged_fraction()

        max_depth = o.MaxDepth
        if o.NNodesMax > 0:
            nodes, max_depth = 1, 0
            while nodes < o.NNodesMax:
                nodes += 2 * nodes
                max_depth += 1
            self.log.warning(
                "You have specified a deprecated option *NNodesMax=%d* this has been translated to "
                "MaxDepth=%d",
                o.NNodesMax,
                max_depth,
            )
        parse_min_node_size(o.MinNodeSize, c)  # checked now, applied at training
        if o.nCuts == 0:
            raise OptionError(
                f"option nCuts of {c} = 0: give the number of grid points (> 0) or -1 for all values"
            )

        nvar = self.context.n_variables
        n_features: int | None = None
        if o.UseRandomisedTrees:
            if o.UsePoissonNvars:
                raise self._unsupported(
                    "UsePoissonNvars",
                    True,
                    "scikit-learn draws a fixed number of variables per split; add !UsePoissonNvars to use "
                    "UseNvars variables",
                )
            n_features = o.UseNvars if o.UseNvars > 0 else int(math.sqrt(nvar) + 0.6)
            if not 1 <= n_features <= nvar:
                raise OptionError(f"option UseNvars of {c} = {o.UseNvars}: must lie in [1, {nvar}]")
        elif "UseNvars" in o.modified_options or "UsePoissonNvars" in o.modified_options:
            self.log.info("UseNvars/UsePoissonNvars are used only with UseRandomisedTrees")

        seed = o.RandomState
        if boost == "Grad":
            return self._make_grad(regression, bagged, fraction, max_depth, n_features, seed)
        criterion = self._criterion(regression)
        self._require_exact_cuts(boost)
        if boost == "AdaBoost":
            if not o.UseYesNoLeaf:
                raise self._unsupported(
                    "UseYesNoLeaf",
                    False,
                    "AdaBoost with leaf purities is Real AdaBoost (SAMME.R), gone from scikit-learn",
                )
            from sklearn.ensemble import AdaBoostClassifier
            from sklearn.tree import DecisionTreeClassifier

            self.plan_ = _Plan("ada", "estimator__min_samples_leaf", None)
            tree = DecisionTreeClassifier(
                max_depth=max_depth, criterion=criterion, max_features=n_features, random_state=seed
            )
            return AdaBoostClassifier(
                estimator=tree,
                n_estimators=o.NTrees,
                learning_rate=o.AdaBoostBeta,
                random_state=seed,
                **adaboost_algorithm_kwargs(),
            )
        if boost == "AdaBoostR2":
            from sklearn.ensemble import AdaBoostRegressor
            from sklearn.tree import DecisionTreeRegressor

            self.plan_ = _Plan("ada_r2", "estimator__min_samples_leaf", None)
            loss = {"Linear": "linear", "Quadratic": "square", "Exponential": "exponential"}[o.AdaBoostR2Loss]
            tree_r = DecisionTreeRegressor(
                max_depth=max_depth, criterion=criterion, max_features=n_features, random_state=seed
            )
            return AdaBoostRegressor(
                estimator=tree_r,
                n_estimators=o.NTrees,
                learning_rate=o.AdaBoostBeta,
                loss=loss,
                random_state=seed,
            )
        # Bagging
        from sklearn.ensemble import BaggingClassifier, BaggingRegressor
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        if regression:
            self.plan_ = _Plan("bagging_reg", "estimator__min_samples_leaf", "max_samples")
            tree_b: Any = DecisionTreeRegressor(
                max_depth=max_depth, criterion=criterion, max_features=n_features
            )
            return BaggingRegressor(
                estimator=tree_b,
                n_estimators=o.NTrees,
                max_samples=fraction,
                bootstrap=True,
                random_state=seed,
            )
        self.plan_ = _Plan("bagging", "estimator__min_samples_leaf", "max_samples")
        tree_b = DecisionTreeClassifier(max_depth=max_depth, criterion=criterion, max_features=n_features)
        return BaggingClassifier(
            estimator=tree_b, n_estimators=o.NTrees, max_samples=fraction, bootstrap=True, random_state=seed
        )

    def _bagged_fraction(self) -> float:
        o = self._opts()
        if "GradBaggingFraction" in o.modified_options and "BaggedSampleFraction" not in o.modified_options:
            self.log.warning(
                "You have specified a deprecated option *GradBaggingFraction* --> please use "
                "*BaggedSampleFraction* instead"
            )
            return o.GradBaggingFraction
        return o.BaggedSampleFraction

    def _criterion(self, regression: bool) -> str:
        o = self._opts()
        if regression:
            if o.SeparationType != "RegressionVariance":
                self.log.warning(
                    "Regression Trees do not work with Separation type other than <RegressionVariance> --> I "
                    "will use it instead"
                )
            return "squared_error"
        mapping = {"GiniIndex": "gini", "CrossEntropy": "entropy"}
        if o.SeparationType not in mapping:
            raise self._unsupported(
                "SeparationType",
                o.SeparationType,
                "scikit-learn's trees split on the Gini index or the cross entropy only",
            )
        return mapping[o.SeparationType]

    def _require_exact_cuts(self, boost: str) -> None:
        o = self._opts()
        if o.nCuts < 0:
            return
        if "nCuts" in o.modified_options and o.nCuts != 20:
            raise self._unsupported(
                "nCuts",
                o.nCuts,
                f"with BoostType={boost} scikit-learn's trees try every cut value (TMVA's nCuts=-1); remove "
                "nCuts, set nCuts=-1, or use BoostType=Grad without UseBaggedBoost (binned cuts)",
            )
        self.log.info("nCuts=%d: scikit-learn's trees try every cut value (TMVA's nCuts=-1)", o.nCuts)

    def _make_grad(
        self,
        regression: bool,
        bagged: bool,
        fraction: float,
        max_depth: int,
        n_features: int | None,
        seed: int,
    ) -> Any:
        o = self._opts()
        c = self.component
        if "SeparationType" in o.modified_options:
            self.log.info(
                "SeparationType is not used by BoostType=Grad (TMVA grows regression trees on the gradients)"
            )
        if regression:
            from sklearn.ensemble import GradientBoostingRegressor

            self._require_exact_cuts("Grad for regression")
            loss = {"Huber": "huber", "LeastSquares": "squared_error", "AbsoluteDeviation": "absolute_error"}[
                o.RegressionLossFunctionBDTG
            ]
            if loss == "huber" and not 0.0 < o.HuberQuantile < 1.0:
                raise OptionError(
                    f"option HuberQuantile of {c} = {o.HuberQuantile}: must lie in (0, 1) for the Huber loss"
                )
            self.plan_ = _Plan("grad_reg", "min_samples_leaf", "subsample" if bagged else None)
            return GradientBoostingRegressor(
                loss=loss,
                alpha=o.HuberQuantile if loss == "huber" else 0.9,
                learning_rate=o.Shrinkage,
                n_estimators=o.NTrees,
                subsample=fraction if bagged else 1.0,
                max_depth=max_depth,
                max_features=n_features,
                random_state=seed,
            )
        if bagged:
            from sklearn.ensemble import GradientBoostingClassifier

            self._require_exact_cuts("Grad with UseBaggedBoost")
            self.plan_ = _Plan("grad", "min_samples_leaf", "subsample")
            return GradientBoostingClassifier(
                loss="log_loss",
                learning_rate=o.Shrinkage,
                n_estimators=o.NTrees,
                subsample=fraction,
                max_depth=max_depth,
                max_features=n_features,
                random_state=seed,
            )
        from sklearn.ensemble import HistGradientBoostingClassifier

        max_bins = 255 if o.nCuts < 0 else min(o.nCuts + 1, 255)
        if o.nCuts < 0 or o.nCuts + 1 > 255:
            self.log.info("nCuts=%d: using scikit-learn's maximum of 255 bins per variable", o.nCuts)
        kwargs: dict[str, Any] = {}
        if n_features is not None:
            if "max_features" not in HistGradientBoostingClassifier().get_params():
                raise self._unsupported(
                    "UseRandomisedTrees",
                    True,
                    "this scikit-learn's HistGradientBoostingClassifier has no max_features",
                )
            kwargs["max_features"] = n_features / self.context.n_variables
        self.plan_ = _Plan("hist_grad", "min_samples_leaf", None)
        # TMVA's multiclass leaf value is Shrinkage·(K−1)/K times the Newton step (Friedman's factor,
        # which GradientBoostingClassifier applies itself); histogram boosting takes the plain Newton
        # step, so the factor goes into its learning rate.  Binary: TMVA's step is the Newton step.
        k = self.context.n_classes
        rate = o.Shrinkage * (k - 1) / k if k > 2 else o.Shrinkage
        return HistGradientBoostingClassifier(
            loss="log_loss",
            learning_rate=rate,
            max_iter=o.NTrees,
            max_leaf_nodes=None,
            max_depth=max_depth,
            l2_regularization=0.0,
            max_bins=max_bins,
            early_stopping=False,
            random_state=seed,
            **kwargs,
        )

    # ------------------------------------------------------------------ training
    def _data_params(self, n_events: int) -> dict[str, Any]:
        o = self._opts()
        assert self.plan_ is not None
        params: dict[str, Any] = {}
        if o.nEventsMin > 0:
            self.log.warning(
                "You have explicitly set ** nEventsMin = %d ** the min absolute number of events in "
                "a leaf node. "
                "This is DEPRECATED, please use the option *MinNodeSize* giving the relative number as "
                "percentage of training events instead.",
                o.nEventsMin,
            )
            params[self.plan_.leaf_param] = o.nEventsMin
        else:
            percent = parse_min_node_size(o.MinNodeSize, self.component)
            params[self.plan_.leaf_param] = max(1, math.ceil(percent / 100.0 * n_events - 1e-9))
        if o.UseNTrainEvents > 0 and self.plan_.fraction_param is not None:
            fraction = min(1.0, o.UseNTrainEvents / max(n_events, 1))
            self.log.warning(
                "You have specified a deprecated option *UseNTrainEvents=%d* this has been translated to "
                "BaggedSampleFraction=%g",
                o.UseNTrainEvents,
                fraction,
            )
            params[self.plan_.fraction_param] = fraction
        return params

    def _training_arrays(self, sample: Sample) -> tuple[F32, npt.NDArray[Any], npt.NDArray[np.float32]]:
        o = self._opts()
        regression = self.context.analysis_type == EAnalysisType.kRegression
        X, w = sample.X, sample.weights.astype(np.float64)
        y: npt.NDArray[Any] = sample.targets[:, 0] if regression else sample.class_id.astype(np.int64)
        keep = w != 0
        if not keep.all():
            self.log.info("Events with weight == 0 are going to be simply ignored ")
        negative = w < 0
        if negative.any():
            if o.NegWeightTreatment in ("IgnoreNegWeightsInTraining", "NoNegWeightsInTraining"):
                self.log.warning(
                    " Note, you have events with negative event weight in the sample, but you've "
                    "chosen to ignore them"
                )
                keep &= ~negative
            else:
                self.log.warning(
                    "Events with negative event weights are USED during the BDT training (passed to "
                    "scikit-learn as they are). This might cause problems; remove them from training with "
                    "NegWeightTreatment=IgnoreNegWeightsInTraining or the option IgnoreNegWeightsInTraining"
                )
        X, y, w = X[keep], y[keep], w[keep]
        if not regression and not o.SkipNormalization:
            w = normalise_weights(y, w, self.context.signal_class, o.SigToBkgFraction, self.log)
        return X, y, w.astype(np.float32)

    def _fit(self, estimator: Any, X: F32, y: npt.NDArray[Any], w: npt.NDArray[np.float32]) -> Any:
        if len(X) == 0:
            raise ModelError(f"method {self.method_name}: no training events with non-zero weight")
        return super()._fit(estimator, X, y, w)

    # ------------------------------------------------------------------ application
    def _outputs(self, clf: Any, X: F32) -> F32:
        if self.context.analysis_type == EAnalysisType.kRegression:
            return np.asarray(clf.predict(X), dtype=np.float32).reshape(-1, 1)
        if self._opts().UseYesNoLeaf and _is_bagging_classifier(clf):
            return bagging_votes(clf, X, self.context.n_classes)
        return proba_by_class(clf, clf.predict_proba(X), self.context.n_classes)

    # ------------------------------------------------------------------ ranking
    def feature_importances(self) -> npt.NDArray[np.float64] | None:
        """Impurity-based importances; histogram gradient boosting: summed split gains (normalised)."""
        clf = self._classifier()
        if hasattr(clf, "estimators_features_"):  # bagging: average over the trees
            total = np.zeros(self.context.n_variables)
            for est, feats in zip(clf.estimators_, clf.estimators_features_, strict=True):
                total[np.asarray(feats)] += np.asarray(est.feature_importances_, dtype=np.float64)
            s = total.sum()
            return total / s if s > 0 else total
        if hasattr(clf, "_predictors"):  # HistGradientBoosting: no feature_importances_
            return _hist_gain_importances(clf, self.context.n_variables)
        return super().feature_importances()


def normalise_weights(
    class_id: npt.NDArray[Any],
    weights: npt.NDArray[np.float64],
    signal_class: int,
    sig_to_bkg: float,
    log: Any = None,
) -> npt.NDArray[np.float64]:
    """TMVA's BDT weight normalisation: signal to ``N f/(1+f)``, all other classes to ``N/(1+f)``.

    ``N`` is the number of events; unchanged if either sum of weights is zero.
    """
    w = np.asarray(weights, dtype=np.float64)
    is_sig = np.asarray(class_id) == signal_class
    n = float(len(w))
    sum_s, sum_b = float(w[is_sig].sum()), float(w[~is_sig].sum())
    if sum_s == 0 or sum_b == 0:
        if log is not None:
            log.info(
                "--> could not determine scaling factors as either there are no signal events "
                "(sumSigW=%g) or "
                "no bkg ev. (sumBkgW=%g)",
                sum_s,
                sum_b,
            )
        return w
    norm_s = n / ((1 + sig_to_bkg) * sum_s) * sig_to_bkg
    norm_b = n / ((1 + sig_to_bkg) * sum_b)
    if log is not None:
        log.header("#events: (reweighted) sig: %g bkg: %g", sum_s * norm_s, sum_b * norm_b)
        log.info("#events: (unweighted) sig: %d bkg: %d", int(is_sig.sum()), int((~is_sig).sum()))
    return np.where(is_sig, w * norm_s, w * norm_b)


def _is_bagging_classifier(clf: Any) -> bool:
    return hasattr(clf, "estimators_features_") and hasattr(clf, "classes_")


def bagging_votes(clf: Any, X: F32, n_classes: int) -> F32:
    """Fraction of the trees of a fitted ``BaggingClassifier`` voting for each class (TMVA's YesNoLeaf)."""
    X = np.asarray(X)
    classes = np.asarray(clf.classes_).astype(np.int64)
    votes = np.zeros((len(X), n_classes), dtype=np.float64)
    rows = np.arange(len(X))
    for est, feats in zip(clf.estimators_, clf.estimators_features_, strict=True):
        pred = np.asarray(est.predict(X[:, feats])).astype(np.int64)
        np.add.at(votes, (rows, classes[pred]), 1.0)
    return (votes / max(len(clf.estimators_), 1)).astype(np.float32)


def _hist_gain_importances(clf: Any, n_variables: int) -> npt.NDArray[np.float64] | None:
    """Normalised sum of split gains per variable over all trees of a histogram gradient boosting model."""
    try:
        total = np.zeros(n_variables)
        for iteration in clf._predictors:
            for predictor in iteration:
                nodes = predictor.nodes
                split = ~nodes["is_leaf"].astype(bool)
                np.add.at(total, nodes["feature_idx"][split].astype(np.int64), nodes["gain"][split])
    except (AttributeError, KeyError, ValueError, IndexError, TypeError):  # private layout changed
        return None
    s = total.sum()
    return total / s if s > 0 else total
