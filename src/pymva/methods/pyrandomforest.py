"""``PyRandomForest`` (``Types.kPyRandomForest``): scikit-learn's ``RandomForestClassifier``.

TMVA ``MethodPyRandomForest`` (``../shared/tmva/pytorch.md`` §8.2): every option with TMVA's default
and check; the values TMVA evaluates as Python are read with :func:`ast.literal_eval`.  The forest
is fitted on all training events with their weights and written with skops to
``<weight dir>/<job>_<title>.PyRFModel.skops`` (and to ``FilenameClassifier`` when set).  MVA value = the signal class's probability; multiclass
= the probability row.  Ranking = ``feature_importances_``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import OptionError
from ..options import option
from ..types import EMVA
from .base import BaseMethodOptions
from .registry import register_method
from .sklearn_common import (
    SklearnMethodBase,
    class_weight_option,
    filename_classifier_option,
    int_or_none_option,
    max_features_option,
    random_state_option,
    random_state_value,
)

__all__ = ["MethodPyRandomForest", "PyRandomForestOptions"]


def _gt0(name: str) -> Any:
    return lambda v: None if v > 0 else f"{name} <=0... that does not work !!"


def _ge0(name: str) -> Any:
    return lambda v: None if v >= 0 else f"{name} < 0... that does not work !!"


@dataclass(frozen=True)
class PyRandomForestOptions(BaseMethodOptions):
    """Options of PyRandomForest (TMVA's names, defaults and checks)."""

    NEstimators: int = option(
        10, "Integer, optional (default=10). The number of trees in the forest.", check=_gt0("NEstimators")
    )
    Criterion: str = option(
        "gini",
        "The function to measure the quality of a split: 'gini' (Gini impurity) "
        "or 'entropy' (information gain)",
        allowed=("gini", "entropy"),
    )
    MaxDepth: str = option(
        "None",
        "integer or None (default=None): the maximum depth of the tree; None "
        "expands nodes until all leaves are pure or hold less than MinSamplesSplit events",
    )
    MinSamplesSplit: int = option(
        2,
        "integer (default=2): the minimum number of samples required to split an internal node",
        check=_ge0("MinSamplesSplit"),
    )
    MinSamplesLeaf: int = option(
        1,
        "integer (default=1): the minimum number of samples in newly created leaves",
        check=_ge0("MinSamplesLeaf"),
    )
    MinWeightFractionLeaf: float = option(
        0.0,
        "float (default=0.): the minimum weighted fraction of the "
        "input samples required to be at a leaf node",
        check=_ge0("MinWeightFractionLeaf"),
    )
    MaxFeatures: str = option(
        "'sqrt'",
        "The number of features to consider when looking for the best "
        "split: None, 'sqrt', 'log2', an integer or a fraction (float)",
    )
    MaxLeafNodes: str = option(
        "None",
        "int or None (default=None): grow trees with MaxLeafNodes in "
        "best-first fashion; None means unlimited",
    )
    Bootstrap: bool = option(True, "Whether bootstrap samples are used when building trees")
    OoBScore: bool = option(False, "Whether to use out-of-bag samples to estimate the generalization error")
    NJobs: int = option(
        1,
        "integer (default=1): the number of jobs to run in parallel for both fit and predict",
        check=lambda v: (
            None if v >= 1 else f"NJobs = {v}... that does not work !! Value has to be greater than zero."
        ),
    )
    RandomState: str = random_state_option()
    Verbose: int = option(0, "int (default=0): controls the verbosity of the tree building process")
    WarmStart: bool = option(
        False,
        "When True, reuse the solution of the previous call to fit and add more estimators to the ensemble",
    )
    ClassWeight: str = option(
        "None",
        "None, 'balanced', 'balanced_subsample', {class index or name: "
        "weight} or a list of one weight per class",
    )
    FilenameClassifier: str = filename_classifier_option()


@register_method
class MethodPyRandomForest(SklearnMethodBase):
    """TMVA's PyRandomForest on scikit-learn's ``RandomForestClassifier``."""

    method_type = EMVA.kPyRandomForest
    Options = PyRandomForestOptions
    model_prefix: ClassVar[str] = "PyRFModel"
    help_text: ClassVar[str] = (
        "A random forest is a meta estimator that fits a number of decision\n"
        "tree classifiers on various sub-samples of the dataset and use\n"
        "averaging to improve the predictive accuracy and control over-fitting.\n"
        "\n"
        "Check out the scikit-learn documentation for more information."
    )

    def _make_estimator(self) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        o = self.options
        assert isinstance(o, PyRandomForestOptions)
        c = self.component
        if o.OoBScore and not o.Bootstrap:
            raise OptionError(
                f"OoBScore needs Bootstrap ({c}): out-of-bag estimates exist only for bootstrap samples"
            )
        return RandomForestClassifier(
            n_estimators=o.NEstimators,
            criterion=o.Criterion,
            max_depth=int_or_none_option(o.MaxDepth, name="MaxDepth", component=c, minimum=1),
            min_samples_split=o.MinSamplesSplit,
            min_samples_leaf=o.MinSamplesLeaf,
            min_weight_fraction_leaf=o.MinWeightFractionLeaf,
            max_features=max_features_option(
                o.MaxFeatures,
                name="MaxFeatures",
                component=c,
                n_variables=self.context.n_variables,
                log=self.log,
            ),
            max_leaf_nodes=int_or_none_option(o.MaxLeafNodes, name="MaxLeafNodes", component=c, minimum=2),
            bootstrap=o.Bootstrap,
            oob_score=o.OoBScore,
            n_jobs=o.NJobs,
            random_state=random_state_value(o.RandomState, name="RandomState", component=c),
            verbose=o.Verbose,
            warm_start=o.WarmStart,
            class_weight=class_weight_option(
                o.ClassWeight,
                name="ClassWeight",
                component=c,
                class_names=self.context.class_names,
                log=self.log,
            ),
        )
