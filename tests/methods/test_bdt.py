"""BDT: TMVA's options mapped onto scikit-learn, refused where there is no faithful mapping, the same ROC
integral (and predictions) as the scikit-learn estimator trained directly, reload, ranking."""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import (
    AdaBoostClassifier,
    AdaBoostRegressor,
    BaggingClassifier,
    BaggingRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
)
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.methods.base import MethodContext
from pymva.methods.bdt import BDTOptions, BDTRegressionOptions, MethodBDT, normalise_weights
from pymva.methods.registry import get_method_class
from pymva.types import EAnalysisType, Types

CLASSES2 = ("Signal", "Background")
TUTORIAL_BDTG = (
    "!H:!V:VarTransform=D,G:NTrees=1000:BoostType=Grad:Shrinkage=0.1:UseBaggedBoost:"
    "BaggedSampleFraction=0.5:nCuts=20:MaxDepth=4"
)


def _context(
    tmp_path: Path, at: EAnalysisType = EAnalysisType.kClassification, n_classes: int = 2, n_vars: int = 3
) -> MethodContext:
    classes = CLASSES2 if n_classes == 2 else ("Signal", *(f"Background_{i}" for i in range(n_classes - 1)))
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=at,
        variables=tuple(VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(n_vars)),
        class_names=classes if at != EAnalysisType.kRegression else (),
        targets=(VariableInfo("fvalue", "fvalue", "fvalue", kind="target"),)
        if at == EAnalysisType.kRegression
        else (),
        weight_dir=tmp_path / "weights",
    )


def _sample(n: int = 200, n_classes: int = 2, n_vars: int = 3, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.7 * (k == 0) - 0.2 * k, 1.0, (n, n_vars)) for k in range(n_classes)])
    X[:, -1] = rng.normal(0, 1, len(X))
    cid = np.repeat(np.arange(n_classes), n)
    perm = rng.permutation(len(X))
    m = len(X)
    w = rng.uniform(0.5, 2.0, m)
    w[cid[perm] == 0] *= 3.0  # unequal class sums, to see the normalisation
    return Sample(
        X=X[perm].astype(np.float32),
        targets=np.zeros((m, 0), np.float32),
        spectators=np.zeros((m, 0), np.float32),
        weights=w.astype(np.float32),
        class_id=cid[perm].astype(np.int32),
    )


def _regression_sample(n: int = 300, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, 2)).astype(np.float32)
    y = (np.sin(X[:, 0]) * 3 + X[:, 1] ** 2 + rng.normal(0, 0.1, n)).astype(np.float32)
    return Sample(
        X=X,
        targets=y[:, None],
        spectators=np.zeros((n, 0), np.float32),
        weights=np.ones(n, np.float32),
        class_id=np.zeros(n, np.int32),
    )


def _tmva_weights(s: Sample, sig_to_bkg: float = 1.0) -> np.ndarray:
    """TMVA's BDT normalisation by hand: Σw(signal) = N f/(1+f), Σw(background) = N/(1+f)."""
    w = s.weights.astype(np.float64)
    sig = s.class_id == 0
    n = len(w)
    out = w.copy()
    out[sig] *= n * sig_to_bkg / (1 + sig_to_bkg) / w[sig].sum()
    out[~sig] *= n / (1 + sig_to_bkg) / w[~sig].sum()
    return np.asarray(out, dtype=np.float32)


def _trained(
    tmp_path: Path,
    options: str,
    sample: Sample,
    at: EAnalysisType = EAnalysisType.kClassification,
    n_classes: int = 2,
    title: str = "BDT",
) -> MethodBDT:
    m = MethodBDT(title, _context(tmp_path, at, n_classes, sample.X.shape[1]), options)
    m.setup()
    m.train(sample)
    return m


# ----------------------------------------------------------------------------- options
def test_registered_and_tmva_defaults(tmp_path: Path) -> None:
    assert get_method_class("BDT") is MethodBDT
    assert get_method_class(Types.EMVA.kBDT) is MethodBDT
    o = BDTOptions()
    assert (o.NTrees, o.MaxDepth, o.MinNodeSize, o.nCuts, o.BoostType) == (800, 3, "5%", 20, "AdaBoost")
    assert (o.UseBaggedBoost, o.Shrinkage, o.AdaBoostBeta, o.BaggedSampleFraction) == (False, 1.0, 0.5, 0.6)
    assert (o.SeparationType, o.UseYesNoLeaf, o.NegWeightTreatment) == (
        "GiniIndex",
        True,
        "InverseBoostNegWeights",
    )
    r = MethodBDT("BDT", _context(tmp_path, EAnalysisType.kRegression, n_vars=2)).options
    assert isinstance(r, BDTRegressionOptions)
    assert (r.MaxDepth, r.MinNodeSize, r.BoostType, r.SeparationType, r.UseYesNoLeaf) == (
        50,
        "0.2%",
        "AdaBoostR2",
        "RegressionVariance",
        False,
    )
    assert r.modified_options == frozenset()


def test_analysis_types() -> None:
    assert MethodBDT.has_analysis_type(EAnalysisType.kClassification, 2, 0)
    assert MethodBDT.has_analysis_type(EAnalysisType.kMulticlass, 4, 0)
    assert MethodBDT.has_analysis_type(EAnalysisType.kRegression, 0, 1)
    assert not MethodBDT.has_analysis_type(EAnalysisType.kRegression, 0, 2)


def test_tutorial_bdtg_string_is_accepted(tmp_path: Path) -> None:
    opts = BDTRegressionOptions.parse(TUTORIAL_BDTG)
    assert (opts.NTrees, opts.BoostType, opts.Shrinkage, opts.UseBaggedBoost) == (1000, "Grad", 0.1, True)
    assert (opts.BaggedSampleFraction, opts.nCuts, opts.MaxDepth, opts.VarTransform) == (0.5, 20, 4, "D,G")
    # the interim transforms package knows only None: train with that, and few trees
    text = TUTORIAL_BDTG.replace("VarTransform=D,G", "VarTransform=None").replace("NTrees=1000", "NTrees=25")
    m = _trained(tmp_path, text, _regression_sample(), EAnalysisType.kRegression)
    est = m.classifier_
    assert isinstance(est, GradientBoostingRegressor)
    assert (est.loss, est.alpha, est.learning_rate, est.subsample, est.max_depth, est.n_estimators) == (
        "huber",
        0.7,
        0.1,
        0.5,
        4,
        25,
    )
    assert est.min_samples_leaf == 1  # 0.2% of 300 events, rounded up
    out = m.evaluate(_regression_sample(seed=1).X)
    assert out.shape == (300, 1)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ("NTree=10", "did you mean 'NTrees'"),
        ("NTrees=0", "greater than zero"),
        ("BoostType=Gradient", "did you mean 'Grad'"),
        ("Shrinkage=0", "greater than zero"),
        ("BaggedSampleFraction=1.5", r"\(0, 1\]"),
        ("HuberQuantile=2", "Huber Quantile"),
        ("!UseFisherCuts:UseFisherCut", "did you mean 'UseFisherCuts'"),
    ],
)
def test_option_errors_at_booking(tmp_path: Path, options: str, match: str) -> None:
    with pytest.raises(OptionError, match=match):
        MethodBDT("BDT", _context(tmp_path), options)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ("UseFisherCuts", "UseFisherCuts=True .*no faithful scikit-learn counterpart"),
        ("PruneMethod=CostComplexity", "PruneMethod=CostComplexity"),
        ("PruneStrength=5", "PruneStrength"),
        ("NodePurityLimit=0.6", "NodePurityLimit"),
        ("DoBoostMonitor", "DoBoostMonitor"),
        ("Css=2", "Css"),
        ("BoostType=RealAdaBoost", "Real AdaBoost"),
        ("BoostType=AdaCost", "AdaCost"),
        ("BoostType=AdaBoostR2", "for regression"),
        ("SeparationType=SDivSqrtSPlusB", "Gini index or the cross entropy"),
        ("SeparationType=MisClassificationError", "SeparationType=MisClassificationError"),
        ("BoostType=AdaBoost:UseBaggedBoost", "bagged subsample"),
        ("BoostType=AdaBoost:!UseYesNoLeaf", "SAMME.R"),
        ("nCuts=30", "nCuts=30"),
        ("BoostType=Grad:UseBaggedBoost:nCuts=40", "nCuts=40"),
        ("nCuts=0", "nCuts"),
        ("UseRandomisedTrees", "UsePoissonNvars"),
        ("UseRandomisedTrees:!UsePoissonNvars:UseNvars=5", r"\[1, 3\]"),
        ("NegWeightTreatment=PairNegWeightsGlobal", "PairNegWeightsGlobal"),
        ("MinNodeSize=60%", "does not make sense"),
        ("MinNodeSize=five", "MinNodeSize"),
    ],
)
def test_options_without_faithful_mapping_raise(tmp_path: Path, options: str, match: str) -> None:
    m = MethodBDT("BDT", _context(tmp_path), options)
    with pytest.raises(OptionError, match=match) as info:
        m.setup()
    if "counterpart" in str(info.value):
        assert "Supported BDT options: NTrees, MaxDepth" in str(info.value)


def test_multiclass_needs_grad(tmp_path: Path) -> None:
    m = MethodBDT("BDT", _context(tmp_path, EAnalysisType.kMulticlass, 3))
    with pytest.raises(OptionError, match="only supported by gradient boost"):
        m.setup()


def test_regression_adaboost_is_refused(tmp_path: Path) -> None:
    m = MethodBDT("BDT", _context(tmp_path, EAnalysisType.kRegression, n_vars=2), "BoostType=AdaBoost")
    with pytest.raises(OptionError, match="AdaBoostR2"):
        m.setup()


def test_regression_separation_type_warns_as_tmva(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pymva")
    m = MethodBDT(
        "BDT",
        _context(tmp_path, EAnalysisType.kRegression, n_vars=2),
        "BoostType=Bagging:SeparationType=GiniIndex",
    )
    m.setup()
    assert m.estimator.estimator.criterion == "squared_error"
    assert any("RegressionVariance" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_mapping_of_parameters(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pymva")
    m = MethodBDT(
        "BDT", _context(tmp_path), "BoostType=Grad:NTrees=7:nCuts=30:MaxDepth=2:Shrinkage=0.2:RandomState=4"
    )
    m.setup()
    est = m.estimator
    assert isinstance(est, HistGradientBoostingClassifier)
    p = est.get_params()
    assert (p["max_iter"], p["max_bins"], p["max_depth"], p["learning_rate"], p["random_state"]) == (
        7,
        31,
        2,
        0.2,
        4,
    )
    assert (p["early_stopping"], p["max_leaf_nodes"], p["l2_regularization"]) == (False, None, 0.0)
    m = MethodBDT("BDT", _context(tmp_path), "BoostType=Grad:nCuts=-1:UseRandomisedTrees:!UsePoissonNvars")
    m.setup()
    assert m.estimator.get_params()["max_bins"] == 255
    assert m.estimator.get_params()["max_features"] == pytest.approx(2 / 3)  # int(sqrt(3)+0.6) = 2 of 3
    m = MethodBDT(
        "BDT", _context(tmp_path), "SeparationType=CrossEntropy:AdaBoostBeta=0.3:NTrees=9:MaxDepth=2"
    )
    m.setup()
    assert isinstance(m.estimator, AdaBoostClassifier)
    tree = m.estimator.estimator
    assert (tree.criterion, tree.max_depth, m.estimator.learning_rate, m.estimator.n_estimators) == (
        "entropy",
        2,
        0.3,
        9,
    )
    m = MethodBDT(
        "BDT", _context(tmp_path), "NNodesMax=10:UseBaggedGrad:BoostType=Grad:GradBaggingFraction=0.4"
    )
    m.setup()
    assert isinstance(m.estimator, GradientBoostingClassifier)
    assert (m.estimator.max_depth, m.estimator.subsample) == (3, 0.4)  # 1 -> 3 -> 9 -> 27 nodes: depth 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("NNodesMax" in w for w in warnings)
    assert any("UseBaggedGrad" in w for w in warnings)
    assert any("GradBaggingFraction" in w for w in warnings)


def test_min_node_size_becomes_min_samples_leaf(tmp_path: Path) -> None:
    s = _sample(n=100)  # 200 events
    m = _trained(tmp_path, "BoostType=Grad:NTrees=2:MinNodeSize=2.5%", s)
    assert m.classifier_.min_samples_leaf == 5
    m = _trained(tmp_path, "BoostType=Grad:NTrees=2:MinNodeSize=3", s)
    assert m.classifier_.min_samples_leaf == 6
    m = _trained(tmp_path, "NTrees=2:nEventsMin=17", s)
    assert m.classifier_.estimator.min_samples_leaf == 17
    assert m.classifier_.estimators_[0].min_samples_leaf == 17


# ----------------------------------------------------------------------------- weights
def test_normalisation_and_zero_weights() -> None:
    cid = np.array([0, 0, 1, 1, 1])
    w = np.array([1.0, 3.0, 1.0, 1.0, 2.0])
    out = normalise_weights(cid, w, 0, 1.0)
    assert out[:2].sum() == pytest.approx(2.5)
    assert out[2:].sum() == pytest.approx(2.5)
    out = normalise_weights(cid, w, 0, 4.0)
    assert out[:2].sum() == pytest.approx(4.0)
    assert out[2:].sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(
        normalise_weights(cid, np.r_[0.0, 0.0, w[2:]], 0, 1.0), np.r_[0.0, 0.0, w[2:]]
    )


def test_training_drops_zero_and_optionally_negative_weights(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pymva")
    s = _sample(n=60)
    w = s.weights.copy()
    w[:5] = 0
    w[5:8] = -1
    m = MethodBDT(
        "BDT", _context(tmp_path), "BoostType=Grad:NTrees=2:NegWeightTreatment=IgnoreNegWeightsInTraining"
    )
    m.setup()
    X, _, wt = m._training_arrays(s.replace(weights=w))
    assert len(X) == len(s) - 8
    assert (wt > 0).all()
    msgs = [r.getMessage() for r in caplog.records]
    assert any("weight == 0" in msg for msg in msgs)
    m = MethodBDT("BDT", _context(tmp_path), "BoostType=Grad:NTrees=2")
    m.setup()
    X, _, wt = m._training_arrays(s.replace(weights=w))
    assert len(X) == len(s) - 5
    assert (wt < 0).sum() == 3
    assert any(
        "negative event weights are USED" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
    )
    zero = s.replace(weights=np.zeros(len(s), np.float32))
    with pytest.raises(ModelError, match="no training events"):
        m.train(zero)


# ----------------------------------------------------------------------------- same as scikit-learn
def _auc(y: np.ndarray, score: np.ndarray, w: np.ndarray) -> float:
    return float(roc_auc_score(y, score, sample_weight=w))


CLASSIFICATION_CASES = [
    (
        "BoostType=Grad:NTrees=20:MaxDepth=3:Shrinkage=0.3:MinNodeSize=5%:nCuts=20:RandomState=1",
        lambda n: HistGradientBoostingClassifier(
            max_iter=20,
            max_depth=3,
            learning_rate=0.3,
            min_samples_leaf=math.ceil(0.05 * n),
            max_bins=21,
            max_leaf_nodes=None,
            early_stopping=False,
            random_state=1,
        ),
    ),
    (
        "BoostType=Grad:NTrees=20:UseBaggedBoost:BaggedSampleFraction=0.5:Shrinkage=0.3:RandomState=2",
        lambda n: GradientBoostingClassifier(
            n_estimators=20,
            subsample=0.5,
            learning_rate=0.3,
            max_depth=3,
            min_samples_leaf=math.ceil(0.05 * n),
            random_state=2,
        ),
    ),
    (
        "BoostType=AdaBoost:NTrees=20:AdaBoostBeta=0.5:MaxDepth=2:RandomState=3",
        lambda n: AdaBoostClassifier(
            DecisionTreeClassifier(max_depth=2, min_samples_leaf=math.ceil(0.05 * n), random_state=3),
            n_estimators=20,
            learning_rate=0.5,
            random_state=3,
        ),
    ),
    (
        "BoostType=Bagging:NTrees=15:!UseYesNoLeaf:BaggedSampleFraction=0.6:RandomState=4",
        lambda n: BaggingClassifier(
            DecisionTreeClassifier(max_depth=3, min_samples_leaf=math.ceil(0.05 * n)),
            n_estimators=15,
            max_samples=0.6,
            random_state=4,
        ),
    ),
]


@pytest.mark.parametrize(("options", "direct"), CLASSIFICATION_CASES)
def test_roc_integral_equals_scikit_learn_trained_directly(
    tmp_path: Path, options: str, direct: object
) -> None:
    train, test = _sample(seed=1), _sample(seed=2)
    m = _trained(tmp_path, options, train)
    clf = direct(len(train)).fit(train.X, train.class_id, sample_weight=_tmva_weights(train))  # type: ignore[operator]
    y = test.class_id == 0
    ours = _auc(y, m.evaluate(test.X), test.weights)
    theirs = _auc(y, clf.predict_proba(test.X)[:, 0], test.weights)
    assert ours == pytest.approx(theirs, abs=1e-6)
    assert ours > 0.65
    np.testing.assert_allclose(
        m.evaluate(test.X), clf.predict_proba(test.X)[:, 0].astype(np.float32), atol=1e-6
    )


def test_bagging_yes_no_leaf_votes(tmp_path: Path) -> None:
    train, test = _sample(seed=3), _sample(seed=4)
    m = _trained(tmp_path, "BoostType=Bagging:NTrees=11:RandomState=5", train)
    clf = m.classifier_
    votes = np.mean([t.predict(test.X) == 0 for t in clf.estimators_], axis=0)
    np.testing.assert_allclose(m.evaluate(test.X), votes.astype(np.float32))
    assert _auc(test.class_id == 0, m.evaluate(test.X), test.weights) > 0.65


@pytest.mark.parametrize(
    ("options", "direct"),
    [
        (
            "BoostType=Grad:NTrees=30:Shrinkage=0.2:MaxDepth=3:RegressionLossFunctionBDTG=LeastSquares:RandomState=1",
            lambda n: GradientBoostingRegressor(
                loss="squared_error",
                n_estimators=30,
                learning_rate=0.2,
                max_depth=3,
                min_samples_leaf=math.ceil(0.002 * n),
                random_state=1,
            ),
        ),
        (
            "NTrees=10:MaxDepth=4:AdaBoostBeta=0.8:AdaBoostR2Loss=Linear:RandomState=2",
            lambda n: AdaBoostRegressor(
                DecisionTreeRegressor(max_depth=4, min_samples_leaf=math.ceil(0.002 * n), random_state=2),
                n_estimators=10,
                learning_rate=0.8,
                loss="linear",
                random_state=2,
            ),
        ),
        (
            "BoostType=Bagging:NTrees=10:MaxDepth=5:RandomState=3",
            lambda n: BaggingRegressor(
                DecisionTreeRegressor(max_depth=5, min_samples_leaf=1),
                n_estimators=10,
                max_samples=0.6,
                random_state=3,
            ),
        ),
    ],
)
def test_regression_equals_scikit_learn_trained_directly(
    tmp_path: Path, options: str, direct: object
) -> None:
    train, test = _regression_sample(seed=5), _regression_sample(seed=6)
    m = _trained(tmp_path, options, train, EAnalysisType.kRegression)
    reg = direct(len(train)).fit(train.X, train.targets[:, 0], sample_weight=train.weights)  # type: ignore[operator]
    np.testing.assert_allclose(
        m.evaluate(test.X)[:, 0], reg.predict(test.X).astype(np.float32), rtol=1e-6, atol=1e-6
    )


def test_multiclass_grad(tmp_path: Path) -> None:
    train, test = _sample(n=80, n_classes=3, seed=7), _sample(n=50, n_classes=3, seed=8)
    m = _trained(tmp_path, "BoostType=Grad:NTrees=10:RandomState=3", train, EAnalysisType.kMulticlass, 3)
    out = m.evaluate(test.X)
    assert out.shape == (150, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    # the same as scikit-learn trained directly, with TMVA's defaults (MaxDepth=3, MinNodeSize=5%,
    # nCuts=20, Shrinkage=1) and TMVA's normalisation: signal (class 0) against all other classes;
    # TMVA's multiclass leaf value carries Friedman's factor (K-1)/K (MethodBDT::GradBoost), which
    # histogram boosting takes through its learning rate: Shrinkage*(K-1)/K = 2/3 for three classes
    clf = HistGradientBoostingClassifier(
        max_iter=10,
        max_depth=3,
        learning_rate=1.0 * (3 - 1) / 3,
        min_samples_leaf=math.ceil(0.05 * len(train)),
        max_bins=21,
        max_leaf_nodes=None,
        early_stopping=False,
        random_state=3,
    ).fit(train.X, train.class_id, sample_weight=_tmva_weights(train))
    np.testing.assert_allclose(out, clf.predict_proba(test.X).astype(np.float32), atol=1e-6)
    assert (out.argmax(axis=1) == test.class_id).mean() > 0.4  # three classes: chance is 1/3


# ----------------------------------------------------------------------------- files and ranking
@pytest.mark.parametrize(
    ("options", "at"),
    [
        ("BoostType=Grad:NTrees=10", EAnalysisType.kClassification),
        ("BoostType=Bagging:NTrees=5", EAnalysisType.kClassification),
        ("BoostType=Grad:NTrees=10", EAnalysisType.kRegression),
        ("BoostType=Grad:NTrees=5", EAnalysisType.kMulticlass),
    ],
)
def test_reload_reproduces_responses_exactly(tmp_path: Path, options: str, at: EAnalysisType) -> None:
    n_classes = 3 if at == EAnalysisType.kMulticlass else 2
    train = _regression_sample() if at == EAnalysisType.kRegression else _sample(n=60, n_classes=n_classes)
    m = _trained(tmp_path, options, train, at, n_classes, title="MyBDT")
    path = tmp_path / "weights" / "job_MyBDT.BDTModel.skops"
    assert path.is_file()
    weights = ET.Element("Weights")
    m.add_weights_xml(weights)
    assert weights.get("ModelFile") == path.name
    m2 = MethodBDT("MyBDT", _context(tmp_path, at, n_classes, n_vars=train.X.shape[1]), options)
    m2.read_weights_xml(ET.fromstring(ET.tostring(weights)))
    np.testing.assert_array_equal(m2.evaluate(train.X), m.evaluate(train.X))


@pytest.mark.parametrize("boost", ["Grad", "Grad:UseBaggedBoost", "AdaBoost", "Bagging"])
def test_ranking_covers_every_variable(tmp_path: Path, boost: str) -> None:
    m = _trained(tmp_path, f"BoostType={boost}:NTrees=10", _sample(n=300, seed=9))
    ranking = m.ranking()
    assert ranking is not None
    assert sorted(name for name, _ in ranking) == ["var0", "var1", "var2"]
    assert sum(v for _, v in ranking) == pytest.approx(1.0)
    assert ranking[-1][0] == "var2"  # the useless variable
    assert MethodBDT.ranking_criterion == "Variable Importance"
    clf = m.classifier_
    if boost == "Bagging":  # scikit-learn's bagging has no feature_importances_: the trees' mean
        imp = np.mean([t.feature_importances_ for t in clf.estimators_], axis=0)
        assert all(len(f) == 3 for f in clf.estimators_features_)  # every tree sees every variable
    elif boost == "Grad":  # histogram gradient boosting has none either: split gains, summed
        imp = np.zeros(3)
        for predictors in clf._predictors:
            for p in predictors:
                split = ~p.nodes["is_leaf"].astype(bool)
                np.add.at(imp, p.nodes["feature_idx"][split], p.nodes["gain"][split])
    else:
        imp = clf.feature_importances_
    imp = imp / imp.sum()
    assert dict(ranking) == pytest.approx({f"var{i}": imp[i] for i in range(3)}, rel=1e-9)
    assert [v for _, v in ranking] == sorted((v for _, v in ranking), reverse=True)
