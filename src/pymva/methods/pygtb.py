"""``PyGTB`` (``Types.kPyGTB``): scikit-learn's ``GradientBoostingClassifier``.

TMVA ``MethodPyGTB`` (``../shared/tmva/pytorch.md`` §8.2).  ``Loss=deviance`` (older ROOT and
scikit-learn < 1.1) is the loss scikit-learn now calls ``log_loss``: it is accepted and mapped with a
logged warning.  ``Init`` is ``None``, ``'zero'`` or a call of a whitelisted estimator with literal
keyword arguments (``Init=DummyClassifier(strategy='prior')``), parsed, never evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import OptionError
from ..options import option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions
from .registry import register_method
from .sklearn_common import (
    SklearnMethodBase,
    estimator_option,
    filename_classifier_option,
    int_or_none_option,
    max_features_option,
    random_state_option,
    random_state_value,
)

__all__ = ["MethodPyGTB", "PyGTBOptions"]

#: Estimators that ``Init`` may name (they have ``fit`` and ``predict_proba``).
INIT_ESTIMATORS = ("DummyClassifier", "DecisionTreeClassifier", "ExtraTreeClassifier", "LogisticRegression")


def _gt0(name: str) -> Any:
    return lambda v: None if v > 0 else f"{name} <= 0 ... that does not work!"


def _ge0(name: str) -> Any:
    return lambda v: None if v >= 0 else f"{name} < 0 ... that does not work!"


@dataclass(frozen=True)
class PyGTBOptions(BaseMethodOptions):
    """Options of PyGTB (TMVA's names, defaults and checks)."""

    Loss: str = option(
        "log_loss",
        "{'log_loss', 'exponential'} (default='log_loss'): loss function to be "
        "optimized; the old name 'deviance' means 'log_loss'",
        allowed=("log_loss", "exponential", "deviance"),
    )
    LearningRate: float = option(
        0.1, "float (default=0.1): shrinks the contribution of each tree", check=_gt0("LearningRate")
    )
    NEstimators: int = option(
        100, "int (default=100): the number of boosting stages to perform", check=_gt0("NEstimators")
    )
    Subsample: float = option(
        1.0,
        "float (default=1.0): the fraction of samples used for fitting the "
        "individual base learners; < 1.0 gives Stochastic Gradient Boosting",
        check=_ge0("Subsample"),
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
    MaxDepth: int = option(
        3,
        "integer (default=3): the maximum depth of the individual regression estimators",
        check=lambda v: None if v > 0 else " MaxDepth <= 0 ... that does not work !! ",
    )
    Init: str = option(
        "None",
        "None, 'zero' or an estimator such as DummyClassifier(strategy='prior') that "
        "computes the initial predictions",
    )
    RandomState: str = random_state_option()
    MaxFeatures: str = option(
        "None",
        "The number of features to consider when looking for the best split: "
        "None, 'sqrt', 'log2', an integer or a fraction (float)",
    )
    Verbose: int = option(0, "int (default=0): controls the verbosity of the tree building process")
    MaxLeafNodes: str = option(
        "None",
        "int or None (default=None): grow trees with MaxLeafNodes in "
        "best-first fashion; None means unlimited",
    )
    WarmStart: bool = option(
        False,
        "When True, reuse the solution of the previous call to fit and add more estimators to the ensemble",
    )
    FilenameClassifier: str = filename_classifier_option()


@register_method
class MethodPyGTB(SklearnMethodBase):
    """TMVA's PyGTB on scikit-learn's ``GradientBoostingClassifier``."""

    method_type = EMVA.kPyGTB
    Options = PyGTBOptions
    model_prefix: ClassVar[str] = "PyGTBModel"
    help_text: ClassVar[str] = (
        "Decision Trees and Gradient Boosting are a type of machine learning\n"
        "algorithm that use a forest of weak decision trees, built stage-wise,\n"
        "each one fitted on the negative gradient of the loss of the previous ones.\n"
        "\n"
        "Check out the scikit-learn documentation for more information."
    )

    def _make_estimator(self) -> Any:
        from sklearn.ensemble import GradientBoostingClassifier

        o = self.options
        assert isinstance(o, PyGTBOptions)
        c = self.component
        loss = o.Loss
        if loss == "deviance":
            self.log.warning(
                "Loss='deviance' is called 'log_loss' in scikit-learn today; using 'log_loss' (%s)", c
            )
            loss = "log_loss"
        if loss == "exponential" and (
            self.context.analysis_type == EAnalysisType.kMulticlass or self.context.n_classes != 2
        ):
            raise OptionError(
                f"Loss = exponential ... that does not work for {self.context.n_classes} classes ({c}): "
                "the exponential loss is only defined for two classes; use Loss=log_loss"
            )
        if not 0.0 < o.Subsample <= 1.0:
            raise OptionError(f"option 'Subsample' of {c} = {o.Subsample!r}: must be in (0, 1]")
        return GradientBoostingClassifier(
            loss=loss,
            learning_rate=o.LearningRate,
            n_estimators=o.NEstimators,
            subsample=o.Subsample,
            min_samples_split=o.MinSamplesSplit,
            min_samples_leaf=o.MinSamplesLeaf,
            min_weight_fraction_leaf=o.MinWeightFractionLeaf,
            max_depth=o.MaxDepth,
            init=estimator_option(
                o.Init, name="Init", component=c, allowed=INIT_ESTIMATORS, constants=("zero",)
            ),
            random_state=random_state_value(o.RandomState, name="RandomState", component=c),
            max_features=max_features_option(
                o.MaxFeatures,
                name="MaxFeatures",
                component=c,
                n_variables=self.context.n_variables,
                log=self.log,
            ),
            verbose=o.Verbose,
            max_leaf_nodes=int_or_none_option(o.MaxLeafNodes, name="MaxLeafNodes", component=c, minimum=2),
            warm_start=o.WarmStart,
        )
