"""PyRandomForest, PyAdaBoost, PyGTB: options (TMVA defaults and checks), training with weights,
atomic skops model files reloaded exactly, the ROC integral of scikit-learn trained directly, ranking."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import AdaBoostClassifier, GradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier

from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, NotTrainedError, OptionError
from pymva.methods.base import MethodContext
from pymva.methods.modelfiles import load_estimator, save_skops
from pymva.methods.pyadaboost import MethodPyAdaBoost, PyAdaBoostOptions
from pymva.methods.pygtb import MethodPyGTB, PyGTBOptions
from pymva.methods.pyrandomforest import MethodPyRandomForest, PyRandomForestOptions
from pymva.methods.registry import get_method_class
from pymva.methods.sklearn_common import (
    SklearnMethodBase,
    estimator_option,
    literal_option,
)
from pymva.types import EAnalysisType, Types

CLASSES2 = ("Signal", "Background")
CLASSES3 = ("Signal", "Background_0", "Background_1")


def _context(tmp_path: Path, classes: tuple[str, ...] = CLASSES2, n_vars: int = 3) -> MethodContext:
    at = EAnalysisType.kClassification if len(classes) == 2 else EAnalysisType.kMulticlass
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=at,
        variables=tuple(VariableInfo(f"var{i}", f"lab{i}", f"lab{i}") for i in range(n_vars)),
        class_names=classes,
        weight_dir=tmp_path / "dataset" / "weights",
    )


def _sample(n: int = 200, n_classes: int = 2, n_vars: int = 3, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.6 * (k == 0) - 0.3 * k, 1.0, (n, n_vars)) for k in range(n_classes)])
    X[:, -1] = rng.normal(0, 1, len(X))  # one useless variable
    cid = np.repeat(np.arange(n_classes), n)
    perm = rng.permutation(len(X))
    m = len(X)
    return Sample(
        X=X[perm].astype(np.float32),
        targets=np.zeros((m, 0), np.float32),
        spectators=np.zeros((m, 0), np.float32),
        weights=rng.uniform(0.5, 2.0, m).astype(np.float32),
        class_id=cid[perm].astype(np.int32),
    )


def _trained(
    cls: type[SklearnMethodBase],
    tmp_path: Path,
    options: str,
    sample: Sample,
    classes: tuple[str, ...] = CLASSES2,
    title: str = "M",
) -> SklearnMethodBase:
    m = cls(title, _context(tmp_path, classes), options)
    m.setup()
    m.train(sample)
    return m


# ----------------------------------------------------------------------------- defaults
def test_registered_by_name_and_type() -> None:
    assert get_method_class("PyRandomForest") is MethodPyRandomForest
    assert get_method_class(Types.EMVA.kPyAdaBoost) is MethodPyAdaBoost
    assert get_method_class("pygtb") is MethodPyGTB


def test_tmva_defaults() -> None:
    rf = PyRandomForestOptions()
    assert (rf.NEstimators, rf.Criterion, rf.MaxDepth, rf.MinSamplesSplit, rf.MinSamplesLeaf) == (
        10,
        "gini",
        "None",
        2,
        1,
    )
    assert (rf.MinWeightFractionLeaf, rf.MaxFeatures, rf.MaxLeafNodes, rf.Bootstrap, rf.OoBScore) == (
        0.0,
        "'sqrt'",
        "None",
        True,
        False,
    )
    assert (rf.NJobs, rf.RandomState, rf.Verbose, rf.WarmStart, rf.ClassWeight, rf.FilenameClassifier) == (
        1,
        "None",
        0,
        False,
        "None",
        "",
    )
    ada = PyAdaBoostOptions()
    assert (ada.BaseEstimator, ada.NEstimators, ada.LearningRate, ada.Algorithm, ada.RandomState) == (
        "None",
        50,
        1.0,
        "SAMME.R",
        "None",
    )
    gtb = PyGTBOptions()
    assert (gtb.Loss, gtb.LearningRate, gtb.NEstimators, gtb.Subsample, gtb.MinSamplesSplit) == (
        "log_loss",
        0.1,
        100,
        1.0,
        2,
    )
    assert (gtb.MinSamplesLeaf, gtb.MinWeightFractionLeaf, gtb.MaxDepth, gtb.Init, gtb.RandomState) == (
        1,
        0.0,
        3,
        "None",
        "None",
    )
    assert (gtb.MaxFeatures, gtb.Verbose, gtb.MaxLeafNodes, gtb.WarmStart) == ("None", 0, "None", False)


def test_default_estimators(tmp_path: Path) -> None:
    rf = MethodPyRandomForest("RF", _context(tmp_path))
    rf.setup()
    assert isinstance(rf.estimator, RandomForestClassifier)
    p = rf.estimator.get_params()
    assert (p["n_estimators"], p["max_depth"], p["max_features"], p["n_jobs"], p["class_weight"]) == (
        10,
        None,
        "sqrt",
        1,
        None,
    )
    ada = MethodPyAdaBoost("Ada", _context(tmp_path))
    ada.setup()
    assert isinstance(ada.estimator, AdaBoostClassifier)
    assert ada.estimator.get_params()["estimator"] is None
    gtb = MethodPyGTB("GTB", _context(tmp_path))
    gtb.setup()
    assert isinstance(gtb.estimator, GradientBoostingClassifier)
    assert gtb.estimator.get_params()["loss"] == "log_loss"


def test_analysis_types() -> None:
    for cls in (MethodPyRandomForest, MethodPyAdaBoost, MethodPyGTB):
        assert cls.has_analysis_type(EAnalysisType.kClassification, 2, 0)
        assert not cls.has_analysis_type(EAnalysisType.kClassification, 3, 0)
        assert cls.has_analysis_type(EAnalysisType.kMulticlass, 4, 0)
        assert not cls.has_analysis_type(EAnalysisType.kRegression, 0, 1)


# ----------------------------------------------------------------------------- option errors
@pytest.mark.parametrize(
    ("cls", "options", "match"),
    [
        (MethodPyRandomForest, "NEstimator=5", "did you mean 'NEstimators'"),
        (MethodPyRandomForest, "NEstimators=0", "NEstimators <=0"),
        (MethodPyRandomForest, "Criterion=gina", "did you mean 'gini'"),
        (MethodPyRandomForest, "MinSamplesLeaf=-1", "MinSamplesLeaf < 0"),
        (MethodPyRandomForest, "MinWeightFractionLeaf=-0.1", "MinWeightFractionLeaf < 0"),
        (MethodPyRandomForest, "NJobs=-1", "greater than zero"),
        (MethodPyAdaBoost, "LearningRate=0", "LearningRate <=0"),
        (MethodPyAdaBoost, "NEstimators=-3", "NEstimators <=0"),
        (MethodPyAdaBoost, "Algorithm=SAMMER", "did you mean 'SAMME.R'"),
        (MethodPyAdaBoost, "BaseEstimater=None", "did you mean 'BaseEstimator'"),
        (MethodPyGTB, "LearningRate=-1", "LearningRate <= 0"),
        (MethodPyGTB, "MaxDepth=0", "MaxDepth <= 0"),
        (MethodPyGTB, "Subsample=-0.5", "Subsample < 0"),
        (MethodPyGTB, "Loss=hinge", "does not have predefined value"),
    ],
)
def test_option_errors_at_booking(
    tmp_path: Path, cls: type[SklearnMethodBase], options: str, match: str
) -> None:
    with pytest.raises(OptionError, match=match):
        cls("M", _context(tmp_path), options)


@pytest.mark.parametrize(
    ("cls", "options", "match"),
    [
        (MethodPyRandomForest, "MaxDepth=0", "None or an integer >= 1"),
        (MethodPyRandomForest, "MaxDepth=three", "not a Python literal"),
        (MethodPyRandomForest, "MaxDepth=__import__('os').getcwd()", "not a Python literal"),
        (MethodPyRandomForest, "MaxLeafNodes=1", "integer >= 2"),
        (MethodPyRandomForest, "MaxFeatures=7", r"integer in \[1, 3\]"),
        (MethodPyRandomForest, "MaxFeatures=1.5", "float in"),
        (MethodPyRandomForest, "RandomState=-1", "seed"),
        (MethodPyRandomForest, "ClassWeight=heavy", "not a Python literal"),
        (MethodPyRandomForest, "!Bootstrap:OoBScore", "OoBScore needs Bootstrap"),
        (MethodPyRandomForest, "MinSamplesSplit=1", "min_samples_split"),  # scikit-learn's own check
        (MethodPyAdaBoost, "BaseEstimator=os.system('ls')", "not an accepted estimator"),
        (MethodPyAdaBoost, "BaseEstimator=DecisionTreeClassifier(max_dept=3)", "did you mean 'max_depth'"),
        (MethodPyAdaBoost, "BaseEstimator=DecisionTreeClassifier(3)", "as keywords"),
        (MethodPyAdaBoost, "BaseEstimator=DecisionTreeClassifier(max_depth=-2)", "max_depth"),
        (
            MethodPyAdaBoost,
            "BaseEstimator=DecisionTreeClassifier(max_depth=int('3'))",
            "not a Python literal",
        ),
        (MethodPyAdaBoost, "BaseEstimator=RandomForestClasifier()", "not an accepted estimator"),
        (MethodPyGTB, "Subsample=0", r"must be in \(0, 1\]"),
        (MethodPyGTB, "Init=GradientBoostingClassifier()", "not an accepted estimator"),
        (MethodPyGTB, "MaxFeatures=log3", "not a Python literal"),
    ],
)
def test_option_errors_at_setup(
    tmp_path: Path, cls: type[SklearnMethodBase], options: str, match: str
) -> None:
    m = cls("M", _context(tmp_path), options)
    with pytest.raises(OptionError, match=match):
        m.setup()


def test_scikit_learn_validation_runs_at_setup(tmp_path: Path) -> None:
    m = MethodPyRandomForest("RF", _context(tmp_path), "MinWeightFractionLeaf=0.7")
    with pytest.raises(OptionError, match="min_weight_fraction_leaf"):
        m.setup()
    m2 = MethodPyRandomForest("RF", _context(tmp_path), "ClassWeight=1;3")
    m2.setup()
    assert m2.estimator.get_params()["class_weight"] == {0: 1.0, 1: 3.0}
    with pytest.raises(OptionError, match="3 class weights given for 2 classes"):
        MethodPyRandomForest("RF", _context(tmp_path), "ClassWeight=1;3;4").setup()
    with pytest.raises(OptionError, match="no class 'Signl'; did you mean 'Signal'"):
        MethodPyRandomForest("RF", _context(tmp_path), ClassWeight={"Signl": 2}).setup()


def test_exponential_loss_needs_two_classes(tmp_path: Path) -> None:
    m = MethodPyGTB("GTB", _context(tmp_path, CLASSES3), "Loss=exponential")
    with pytest.raises(OptionError, match="only defined for two classes"):
        m.setup()
    m = MethodPyGTB("GTB", _context(tmp_path), "Loss=exponential")
    m.setup()
    assert m.estimator.get_params()["loss"] == "exponential"


def test_python_valued_options_are_parsed(tmp_path: Path) -> None:
    m = MethodPyRandomForest(
        "RF",
        _context(tmp_path),
        "MaxDepth=4:MaxFeatures=0.5:MaxLeafNodes=20:RandomState=7:ClassWeight=balanced",
    )
    m.setup()
    p = m.estimator.get_params()
    assert (p["max_depth"], p["max_features"], p["max_leaf_nodes"], p["random_state"], p["class_weight"]) == (
        4,
        0.5,
        20,
        7,
        "balanced",
    )
    m = MethodPyRandomForest("RF", _context(tmp_path), "MaxFeatures=log2", ClassWeight={"Background": 2.0})
    m.setup()
    assert m.estimator.get_params()["max_features"] == "log2"
    assert m.estimator.get_params()["class_weight"] == {1: 2.0}
    m = MethodPyRandomForest("RF", _context(tmp_path), ClassWeight=[1.0, 3.0], MaxFeatures="None")
    assert m.options.ClassWeight == "1.0;3.0"  # type: ignore[attr-defined]
    m.setup()
    assert m.estimator.get_params()["class_weight"] == {0: 1.0, 1: 3.0}
    assert m.estimator.get_params()["max_features"] is None
    ada = MethodPyAdaBoost(
        "Ada", _context(tmp_path), "BaseEstimator=DecisionTreeClassifier(max_depth=3, criterion='entropy')"
    )
    ada.setup()
    base = ada.estimator.get_params()["estimator"]
    assert isinstance(base, DecisionTreeClassifier)
    assert (base.max_depth, base.criterion) == (3, "entropy")
    gtb = MethodPyGTB("GTB", _context(tmp_path), "Init=zero:MaxFeatures=sqrt:MaxLeafNodes=8")
    gtb.setup()
    assert (gtb.estimator.init, gtb.estimator.max_features, gtb.estimator.max_leaf_nodes) == (
        "zero",
        "sqrt",
        8,
    )


def test_literal_and_estimator_parsers_never_evaluate() -> None:
    assert literal_option(" {0: 1.5} ", name="X", component="c", expected="e") == {0: 1.5}
    with pytest.raises(OptionError, match="not a Python literal"):
        literal_option("open('/etc/passwd')", name="X", component="c", expected="e")
    est = estimator_option(
        "sklearn.tree.DecisionTreeClassifier(max_depth=2)",
        name="B",
        component="c",
        allowed=("DecisionTreeClassifier",),
    )
    assert isinstance(est, DecisionTreeClassifier)
    with pytest.raises(OptionError, match="not an accepted"):
        estimator_option(
            "evil.DecisionTreeClassifier()", name="B", component="c", allowed=("DecisionTreeClassifier",)
        )
    with pytest.raises(OptionError, match=r"'\*\*' arguments"):
        estimator_option(
            "DecisionTreeClassifier(**{'max_depth': 2})",
            name="B",
            component="c",
            allowed=("DecisionTreeClassifier",),
        )
    assert estimator_option("None", name="B", component="c", allowed=()) is None


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_old_values_map_with_a_logged_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pymva")
    m = MethodPyAdaBoost("Ada", _context(tmp_path), "Algorithm=SAMME.R")
    m.setup()
    assert any("SAMME.R" in w for w in _warnings(caplog))
    assert "algorithm" not in m.estimator.get_params() or m.estimator.get_params()["algorithm"] == "SAMME"
    caplog.clear()
    MethodPyAdaBoost("Ada", _context(tmp_path)).setup()  # only TMVA's default: an INFO line, no warning
    assert not _warnings(caplog)
    m2 = MethodPyGTB("GTB", _context(tmp_path), "Loss=deviance")
    m2.setup()
    assert m2.estimator.get_params()["loss"] == "log_loss"
    assert any("deviance" in w for w in _warnings(caplog))
    caplog.clear()
    m3 = MethodPyRandomForest("RF", _context(tmp_path), "MaxFeatures=auto:ClassWeight=subsample")
    m3.setup()
    assert m3.estimator.get_params()["max_features"] == "sqrt"
    assert m3.estimator.get_params()["class_weight"] == "balanced_subsample"
    assert len(_warnings(caplog)) == 2


# ----------------------------------------------------------------------------- training and files
CASES = [
    (
        MethodPyRandomForest,
        "NEstimators=15:RandomState=3:MaxDepth=5",
        "PyRFModel",
        lambda: RandomForestClassifier(n_estimators=15, random_state=3, max_depth=5, n_jobs=1),
    ),
    (
        MethodPyAdaBoost,
        "NEstimators=15:RandomState=3:BaseEstimator=DecisionTreeClassifier(max_depth=2)",
        "PyAdaBoostModel",
        lambda: AdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=15, random_state=3),
    ),
    (
        MethodPyGTB,
        "NEstimators=15:RandomState=3:Subsample=0.7",
        "PyGTBModel",
        lambda: GradientBoostingClassifier(n_estimators=15, random_state=3, subsample=0.7),
    ),
]


@pytest.mark.parametrize(("cls", "options", "prefix", "direct"), CASES)
def test_roc_integral_equals_scikit_learn_trained_directly(
    tmp_path: Path, cls: type[SklearnMethodBase], options: str, prefix: str, direct: Any
) -> None:
    train, test = _sample(seed=1), _sample(seed=2)
    m = _trained(cls, tmp_path, options, train)
    clf = direct().fit(train.X, train.class_id, sample_weight=train.weights)
    y_test = test.class_id == 0
    ours = roc_auc_score(y_test, m.evaluate(test.X), sample_weight=test.weights)
    theirs = roc_auc_score(y_test, clf.predict_proba(test.X)[:, 0], sample_weight=test.weights)
    assert ours == pytest.approx(theirs, abs=1e-6)
    assert ours > 0.6
    np.testing.assert_allclose(m.evaluate(test.X), clf.predict_proba(test.X)[:, 0].astype(np.float32))


def test_event_weights_are_used(tmp_path: Path) -> None:
    train = _sample(seed=4)
    w = train.weights.copy()
    w[train.class_id == 1] *= 10.0
    a = _trained(MethodPyGTB, tmp_path, "NEstimators=5:RandomState=1", train)
    b = _trained(MethodPyGTB, tmp_path, "NEstimators=5:RandomState=1", train.replace(weights=w), title="B")
    assert b.evaluate(train.X).mean() < a.evaluate(train.X).mean()


@pytest.mark.parametrize(("cls", "options", "prefix", "direct"), CASES)
def test_model_file_reloads_exactly(
    tmp_path: Path, cls: type[SklearnMethodBase], options: str, prefix: str, direct: Any
) -> None:
    train, test = _sample(seed=5), _sample(seed=6)
    m = _trained(cls, tmp_path, options, train, title="Title")
    path = tmp_path / "dataset" / "weights" / f"job_Title.{prefix}.skops"  # <job>_<title>.<kind>.skops
    assert path.is_file()
    assert path.read_bytes()[:4] == b"PK\x03\x04"  # a skops (zip) archive, not a pickle
    assert m.model_path_ == path
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    weights = ET.Element("Weights")
    m.add_weights_xml(weights)
    assert weights.get("ModelFile") == path.name  # relative to the weights file's directory
    assert weights.get("Format") == "skops"
    assert weights.get("Estimator") == type(m.classifier_).__name__

    m2 = cls("Title", _context(tmp_path), options)
    with pytest.raises(NotTrainedError, match="not been trained"):
        m2.evaluate(test.X)
    m2.read_weights_xml(ET.fromstring(ET.tostring(weights)))
    assert m2.classifier_ is not None
    np.testing.assert_array_equal(m2.evaluate(test.X), m.evaluate(test.X))
    assert m2.ranking() == m.ranking()


def test_filename_classifier_is_written_and_the_copy_beside_the_weights_file_is_read(tmp_path: Path) -> None:
    train = _sample(seed=7)
    target = tmp_path / "elsewhere" / "rf.model"
    m = _trained(MethodPyRandomForest, tmp_path, f"NEstimators=3:FilenameClassifier={target}", train)
    assert target.is_file()
    beside = tmp_path / "dataset" / "weights" / "job_M.PyRFModel.skops"
    assert beside.read_bytes() == target.read_bytes()
    weights = ET.Element("Weights")
    m.add_weights_xml(weights)
    # a method without the option finds the file beside the weights file
    other = MethodPyRandomForest("M", _context(tmp_path), "NEstimators=3")
    other.read_weights_xml(weights)
    np.testing.assert_array_equal(other.evaluate(train.X), m.evaluate(train.X))


def test_missing_model_file(tmp_path: Path) -> None:
    m = MethodPyGTB("GTB", _context(tmp_path))
    with pytest.raises(ModelError, match=r"PyGTBModel_GTB\.PyData.*not there"):
        m.read_weights_xml(ET.Element("Weights"))


def test_skops_helpers(tmp_path: Path) -> None:
    clf = DecisionTreeClassifier(max_depth=2).fit(np.eye(3), [0, 1, 1])
    path = tmp_path / "sub" / "obj.skops"
    save_skops(clf, {"format": "pymva-model-file", "n": 1}, path)
    save_skops(clf, {"format": "pymva-model-file", "n": 2}, path)
    back, record = load_estimator(path, allow_pickle=False)
    assert record == {"format": "pymva-model-file", "n": 2}
    np.testing.assert_array_equal(back.predict_proba(np.eye(3)), clf.predict_proba(np.eye(3)))
    assert sorted(p.name for p in path.parent.iterdir()) == ["obj.skops"]
    with pytest.raises(ModelError, match="skops cannot store it"):
        save_skops((x for x in ()), {}, path)  # a generator cannot be stored
    assert load_estimator(path, allow_pickle=False)[1] == {"format": "pymva-model-file", "n": 2}  # intact
    assert sorted(p.name for p in path.parent.iterdir()) == ["obj.skops"]
    (tmp_path / "bad.skops").write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"Failed to load classifier from file.*AllowPickle"):
        load_estimator(tmp_path / "bad.skops", allow_pickle=False)


# ----------------------------------------------------------------------------- multiclass, ranking
@pytest.mark.parametrize(
    ("cls", "direct"),
    [
        (MethodPyRandomForest, lambda: RandomForestClassifier(n_estimators=5, random_state=0, n_jobs=1)),
        (MethodPyAdaBoost, lambda: AdaBoostClassifier(n_estimators=5, random_state=0)),
        (MethodPyGTB, lambda: GradientBoostingClassifier(n_estimators=5, random_state=0)),
    ],
)
def test_multiclass_rows(tmp_path: Path, cls: type[SklearnMethodBase], direct: Any) -> None:
    train, test = _sample(n=80, n_classes=3, seed=8), _sample(n=30, n_classes=3, seed=9)
    m = _trained(cls, tmp_path, "NEstimators=5:RandomState=0", train, classes=CLASSES3)
    out = m.evaluate(test.X)
    assert out.shape == (len(test), 3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    # one column per class index, as scikit-learn trained directly with the event weights gives them
    clf = direct().fit(train.X, train.class_id, sample_weight=train.weights)
    np.testing.assert_allclose(out, clf.predict_proba(test.X).astype(np.float32), atol=1e-6)


def test_ranking_from_feature_importances(tmp_path: Path) -> None:
    train = _sample(n=300, seed=9)
    m = _trained(MethodPyRandomForest, tmp_path, "NEstimators=20:RandomState=0", train)
    ranking = m.ranking()
    assert ranking is not None
    imp = m.classifier_.feature_importances_
    assert [name for name, _ in ranking] == [f"lab{i}" for i in np.argsort(-imp, kind="stable")]
    np.testing.assert_allclose([v for _, v in ranking], np.sort(imp)[::-1], rtol=1e-12)
    assert ranking[-1][0] == "lab2"  # the useless variable ranks last
    assert MethodPyRandomForest.ranking_criterion == "Variable Importance"


def test_adaboost_without_importances_gives_no_ranking(tmp_path: Path) -> None:
    m = _trained(
        MethodPyAdaBoost, tmp_path, "NEstimators=3:BaseEstimator=LogisticRegression()", _sample(seed=10)
    )
    assert m.ranking() is None
