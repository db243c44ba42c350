"""``PyAdaBoost`` (``Types.kPyAdaBoost``): scikit-learn's ``AdaBoostClassifier``.

TMVA ``MethodPyAdaBoost`` (``../shared/tmva/pytorch.md`` §8.2).  Today's scikit-learn has only the
SAMME algorithm (``SAMME.R`` was removed in 1.6), so TMVA's default ``Algorithm=SAMME.R`` runs SAMME:
a logged warning says so when ``SAMME.R`` is asked for explicitly (an INFO line when it is only the
default).  ``BaseEstimator`` is ``None`` (scikit-learn's default: a depth-1 decision tree) or a call
of a whitelisted estimator with literal keyword arguments, e.g.
``BaseEstimator=DecisionTreeClassifier(max_depth=3)`` — parsed, never evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..options import option
from ..types import EMVA
from .base import BaseMethodOptions
from .registry import register_method
from .sklearn_common import (
    SklearnMethodBase,
    adaboost_algorithm_kwargs,
    estimator_option,
    filename_classifier_option,
    random_state_option,
    random_state_value,
)

__all__ = ["MethodPyAdaBoost", "PyAdaBoostOptions"]

#: Estimators that ``BaseEstimator`` may name (they accept sample weights and have ``classes_``).
BASE_ESTIMATORS = ("DecisionTreeClassifier", "ExtraTreeClassifier", "LogisticRegression")


@dataclass(frozen=True)
class PyAdaBoostOptions(BaseMethodOptions):
    """Options of PyAdaBoost (TMVA's names, defaults and checks)."""

    BaseEstimator: str = option(
        "None",
        "The base estimator from which the boosted ensemble is built: None (a depth-1 decision tree) or "
        "e.g. DecisionTreeClassifier(max_depth=3)",
    )
    NEstimators: int = option(
        50,
        "integer (default=50): the maximum number of estimators at which boosting is terminated",
        check=lambda v: None if v > 0 else "NEstimators <=0 ... that does not work!",
    )
    LearningRate: float = option(
        1.0,
        "float (default=1.): shrinks the contribution of each classifier",
        check=lambda v: None if v > 0 else "LearningRate <=0 ... that does not work!",
    )
    Algorithm: str = option(
        "SAMME.R",
        "{'SAMME', 'SAMME.R'} (default='SAMME.R'); scikit-learn >= 1.6 has only SAMME, used for both",
        allowed=("SAMME", "SAMME.R"),
    )
    RandomState: str = random_state_option()
    FilenameClassifier: str = filename_classifier_option()


@register_method
class MethodPyAdaBoost(SklearnMethodBase):
    """TMVA's PyAdaBoost on scikit-learn's ``AdaBoostClassifier``."""

    method_type = EMVA.kPyAdaBoost
    Options = PyAdaBoostOptions
    model_prefix: ClassVar[str] = "PyAdaBoostModel"
    help_text: ClassVar[str] = (
        "An AdaBoost classifier is a meta-estimator that begins by fitting\n"
        "a classifier on the original dataset and then fits additional copies\n"
        "of the classifier on the same dataset but where the weights of incorrectly\n"
        "classified instances are adjusted such that subsequent classifiers focus\n"
        "more on difficult cases.\n"
        "\n"
        "Check out the scikit-learn documentation for more information."
    )

    def _make_estimator(self) -> Any:
        from sklearn.ensemble import AdaBoostClassifier

        o = self.options
        assert isinstance(o, PyAdaBoostOptions)
        c = self.component
        if o.Algorithm == "SAMME.R":
            if "Algorithm" in o.modified_options:
                self.log.warning(
                    "Algorithm=SAMME.R no longer exists in scikit-learn (removed in 1.6); using SAMME (%s)", c
                )
            else:
                self.log.info("TMVA's default Algorithm=SAMME.R is not in scikit-learn any more; using SAMME")
        base = estimator_option(o.BaseEstimator, name="BaseEstimator", component=c, allowed=BASE_ESTIMATORS)
        return AdaBoostClassifier(
            estimator=base,
            n_estimators=o.NEstimators,
            learning_rate=o.LearningRate,
            random_state=random_state_value(o.RandomState, name="RandomState", component=c),
            **adaboost_algorithm_kwargs(),
        )
