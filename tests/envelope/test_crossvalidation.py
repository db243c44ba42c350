"""TMVA.CrossValidation: fold assignment, out-of-fold scoring, the combined TestTree, results, the Reader.

One deterministic cross-validation (Fisher and a small BDT, three folds, split expression on the
event number) is run once per module; the tests check it against expectations computed by hand: the
fold of every event from its eventID, a Fisher trained by a plain Factory on exactly the events of the
other folds, the Hanley–McNeil error of a ROC integral.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uproot

from cvtoy import gen_tree, make_loader
from pymva import TMVA
from pymva.data.loader import DataLoader
from pymva.errors import ModelError, NotTrainedError, OptionError
from pymva.evaluation import roc_curve
from pymva.io.weights import load_method, read_weights_file

K = 3
EXPR = "int(fabs([eventID]))%int([NumFolds])"
CV_OPTIONS = f"!V:!Silent:ModelPersistence:AnalysisType=Classification:SplitType=Deterministic:NumFolds={K}:SplitExpr={EXPR}"
BDT_OPTIONS = "!H:!V:NTrees=10:MinNodeSize=2.5%:BoostType=Grad:Shrinkage=0.10:nCuts=20:MaxDepth=2"


@dataclass
class Run:
    cv: Any
    loader: Any
    tree: dict[str, np.ndarray]
    path: Path


def _run(
    path: Path, name: str, options: str, methods: tuple[str, ...] = ("Fisher", "BDTG"), **kw: Any
) -> Run:
    loader = make_loader(**kw)
    out = path / f"{name}.root"
    cv = TMVA.CrossValidation(name, loader, str(out), options)
    if "Fisher" in methods:
        cv.BookMethod(TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher:VarTransform=None")
    if "BDTG" in methods:
        cv.BookMethod(TMVA.Types.kBDT, "BDTG", BDT_OPTIONS)
    cv.Evaluate()
    tree = uproot.open(out)[f"{loader.GetName()}/TestTree"].arrays(library="np")
    return Run(cv, loader, tree, path)


@pytest.fixture(scope="module")
def run(workdir: Path) -> Run:
    return _run(workdir, "TMVACrossValidation", CV_OPTIONS)


def _fold_of(event_id: np.ndarray) -> np.ndarray:
    return np.abs(event_id.astype(np.int64)) % K  # the split expression, by hand


def test_the_combined_testtree_holds_every_training_event_fold_by_fold(run: Run) -> None:
    ds = run.loader.GetDataSetInfo().GetDataSet()
    t = run.tree
    assert len(t["x"]) == len(ds.train) == 2 * 300 - 2
    folds = _fold_of(t["eventID"])
    assert np.all(np.diff(folds) >= 0)  # TMVA's RecombineKFoldDataSet: fold 0, then fold 1, …
    # every training event once: (class, eventID) pairs are unique and complete
    pairs = set(zip(t["classID"].tolist(), t["eventID"].tolist(), strict=True))
    expected = set(
        zip(ds.train.class_id.tolist(), ds.train.spectators[:, 0].astype(int).tolist(), strict=True)
    )
    assert pairs == expected
    train = uproot.open(run.path / "TMVACrossValidation.root")["datasetcv/TrainTree"].arrays(library="np")
    np.testing.assert_array_equal(train["Fisher"], t["Fisher"])  # TMVA: training = test = all events


def test_each_event_is_scored_by_the_fold_model_that_did_not_train_on_it(run: Run) -> None:
    t = run.tree
    folds = _fold_of(t["eventID"])
    X = np.column_stack([t["x"], t["y"]]).astype(np.float32)
    ds = run.loader.GetDataSetInfo().GetDataSet()
    for k in range(K):
        model = load_method(f"datasetcv/weights/TMVACrossValidation_Fisher_fold{k + 1}.weights.xml")
        assert model.n_training_events_ == int(np.sum(_fold_of(ds.train.spectators[:, 0]) != k))
        mine = folds == k
        np.testing.assert_array_equal(model.evaluate(X[mine]), t["Fisher"][mine])
        # an independent Fisher, trained by a plain Factory on the events of the other folds only
        keep = _fold_of(ds.train.spectators[:, 0]) != k
        fold_ds = ds.with_samples(ds.train.subset(keep), ds.train.subset(~keep))
        factory = TMVA.Factory(f"ref{k}", options="!V:Silent:!ModelPersistence:AnalysisType=Classification")
        ref_loader = DataLoader.from_dataset(fold_ds)
        factory.BookMethod(ref_loader, TMVA.Types.kFisher, "ref", "!H:!V:Fisher:VarTransform=None")
        factory.TrainAllMethods()
        reference = factory.GetMethod(ref_loader, "ref").evaluate(X[mine])
        np.testing.assert_allclose(t["Fisher"][mine], reference, rtol=0, atol=1e-5)


def _hanley_mcneil(auc: float, n_s: int, n_b: int) -> float:
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    return float(
        np.sqrt((auc * (1 - auc) + (n_s - 1) * (q1 - auc**2) + (n_b - 1) * (q2 - auc**2)) / (n_s * n_b))
    )


@pytest.mark.parametrize("title", ["Fisher", "BDTG"])
def test_the_combined_roc_is_the_mean_of_the_fold_rocs_within_statistics(run: Run, title: str) -> None:
    t = run.tree
    signal = t["classID"] == 0
    combined = roc_curve(t[title], t["weight"], signal).auc
    result = next(r for r in run.cv.GetResults() if r.title == title)
    mean = result.GetROCAverage()
    sigma = _hanley_mcneil(combined, int(signal.sum()), int((~signal).sum()))
    assert abs(combined - mean) < 3 * sigma
    assert combined > 0.85


def test_results_have_tmva_getters(run: Run) -> None:
    results = run.cv.GetResults()
    assert [r.title for r in results] == ["Fisher", "BDTG"]
    fisher = results[0]
    rocs = fisher.GetROCValues()
    assert sorted(rocs) == list(range(K))
    t = run.tree
    folds = _fold_of(t["eventID"])
    for k in range(K):  # each fold's ROC on its own events, from the TestTree by hand
        m = folds == k
        assert rocs[k] == pytest.approx(
            roc_curve(t["Fisher"][m], t["weight"][m], t["classID"][m] == 0).auc, abs=1e-12
        )
    values = np.array(list(rocs.values()))
    assert fisher.GetROCAverage() == pytest.approx(values.mean(), abs=1e-12)
    assert fisher.GetROCStandardDeviation() == pytest.approx(values.std(ddof=1), abs=1e-12)
    for getter in (
        "Sig",
        "Sep",
        "Eff01",
        "Eff10",
        "Eff30",
        "EffArea",
        "TrainEff01",
        "TrainEff10",
        "TrainEff30",
    ):
        assert len(getattr(fisher, f"Get{getter}Values")()) == K
    eff30 = fisher.GetEff30Values()
    for k, fold in enumerate(fisher.GetFoldResults()):
        assert fold.title == f"Fisher_fold{k + 1}"
        assert eff30[k] == fold.evaluation.eff_at_30
        assert 0.0 <= eff30[k] <= 1.0
    assert len(fisher.GetROCCurves()) == K
    g = fisher.GetAvgROCCurve(11)
    assert g.x.tolist() == pytest.approx(np.linspace(0, 1, 11).tolist())
    assert np.all(np.diff(g.y) <= 1e-12)  # background rejection falls as the signal efficiency rises
    assert "ROC-integ" in fisher._repr_html_()
    assert run.cv.GetNumFolds() == K
    assert [m.GetValue["TString"]("MethodName") for m in run.cv.GetMethods()] == ["Fisher", "BDT"]


def test_print_is_tmva_table(run: Run, caplog: pytest.LogCaptureFixture) -> None:
    result = run.cv.GetResults()[0]
    with caplog.at_level(logging.INFO, logger="pymva"):
        result.Print()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("pymva.envelope")]
    rocs = result.GetROCValues()
    assert lines == [
        " ==== Results ====",
        *[f"Fold  {k} ROC-Int : {rocs[k]:.4f}" for k in range(K)],
        "------------------------",
        f"Average ROC-Int : {result.GetROCAverage():.4f}",
        f"Std-Dev ROC-Int : {result.GetROCStandardDeviation():.4f}",
    ]


def test_draw_gives_figures(run: Run) -> None:
    result = run.cv.GetResults()[1]
    fig = result.Draw()
    assert len(fig.axes[0].lines) == K
    avg = result.DrawAvgROCCurve(True, "Avg ROC for BDTG")
    assert len(avg.axes[0].lines) == K + 1
    assert avg.axes[0].get_title() == "Avg ROC for BDTG"


def test_the_weights_file_names_the_fold_files_and_the_split(run: Run) -> None:
    content = read_weights_file("datasetcv/weights/TMVACrossValidation_BDTG.weights.xml")
    assert content.method_type == "CrossValidation"
    assert content.title == "BDTG"
    assert content.weights is not None
    assert content.weights.attrib == {
        "JobName": "TMVACrossValidation",
        "SplitExpr": EXPR,
        "NumFolds": str(K),
        "EncapsulatedMethodName": "BDTG",
        "EncapsulatedMethodTypeName": "BDT",
        "OutputEnsembling": "None",
    }
    assert [v.expression for v in content.spectators] == ["eventID"]
    for k in range(1, K + 1):
        fold = read_weights_file(f"datasetcv/weights/TMVACrossValidation_BDTG_fold{k}.weights.xml")
        assert fold.method_type == "BDT"
        assert fold.title == f"BDTG_fold{k}"


def test_the_reader_scores_each_event_with_its_fold_vectorised_and_event_by_event(run: Run) -> None:
    t = run.tree
    x, y = np.zeros(1, np.float32), np.zeros(1, np.float32)
    event_id = np.zeros(1, np.int32)
    reader = TMVA.Reader("!Color:Silent")
    reader.AddVariable("x", x)
    reader.AddVariable("y", y)
    reader.AddSpectator("eventID", event_id)
    for title in ("Fisher", "BDTG"):
        reader.BookMVA(title, f"datasetcv/weights/TMVACrossValidation_{title}.weights.xml")
    values = np.column_stack([t["x"], t["y"], t["eventID"]])
    for title in ("Fisher", "BDTG"):
        np.testing.assert_array_equal(reader.EvaluateMVA(values, title), t[title])
    for i in (0, 7, len(t["x"]) - 1):
        x[0], y[0], event_id[0] = t["x"][i], t["y"][i], t["eventID"][i]
        assert reader.EvaluateMVA("BDTG") == pytest.approx(float(t["BDTG"][i]), abs=1e-6)
    with pytest.raises(Exception, match="variables then spectators"):
        reader.EvaluateMVA(values[:, :2], "Fisher")


def test_new_events_go_to_the_fold_of_their_expression(run: Run) -> None:
    new = gen_tree(30, 0.0, 7)
    values = np.column_stack([new["x"], new["y"], new["eventID"] + 1000]).astype(np.float32)
    reader = TMVA.Reader("Silent")
    reader.AddVariable("x")
    reader.AddVariable("y")
    reader.AddSpectator("eventID")
    reader.BookMVA("Fisher", "datasetcv/weights/TMVACrossValidation_Fisher.weights.xml")
    got = reader.EvaluateMVA(values, "Fisher")
    folds = _fold_of(values[:, 2])
    for k in range(K):
        model = load_method(f"datasetcv/weights/TMVACrossValidation_Fisher_fold{k + 1}.weights.xml")
        np.testing.assert_array_equal(got[folds == k], model.evaluate(values[folds == k, :2]))


def test_workers_give_identical_results(run: Run, workdir: Path) -> None:
    sub = workdir / "two_workers"
    sub.mkdir()
    import os

    old = os.getcwd()
    os.chdir(sub)
    try:
        other = _run(sub, "TMVACrossValidation", CV_OPTIONS + ":NumWorkers=2")
    finally:
        os.chdir(old)
    for title in ("Fisher", "BDTG"):
        np.testing.assert_array_equal(other.tree[title], run.tree[title])
    assert [r.GetROCValues() for r in other.cv.GetResults()] == [
        r.GetROCValues() for r in run.cv.GetResults()
    ]


def test_avg_ensembling_averages_every_fold_model(workdir: Path) -> None:
    sub = workdir / "avg"
    sub.mkdir()
    import os

    old = os.getcwd()
    os.chdir(sub)
    try:
        avg = _run(
            sub, "CVAvg", "!V:Silent:SplitType=Random:NumFolds=2:OutputEnsembling=Avg", methods=("Fisher",)
        )
        t = avg.tree
        X = np.column_stack([t["x"], t["y"]]).astype(np.float32)
        models = [load_method(f"datasetcv/weights/CVAvg_Fisher_fold{k}.weights.xml") for k in (1, 2)]
        expected = (models[0].evaluate(X).astype(np.float64) + models[1].evaluate(X)) / 2
        np.testing.assert_allclose(t["Fisher"], expected, rtol=0, atol=1e-6)
        reader = TMVA.Reader("Silent")
        reader.AddVariable("x")
        reader.AddVariable("y")
        reader.AddSpectator("eventID")
        reader.BookMVA("Fisher", "datasetcv/weights/CVAvg_Fisher.weights.xml")
        np.testing.assert_allclose(reader.EvaluateMVA(X, "Fisher"), expected, rtol=0, atol=1e-6)
    finally:
        os.chdir(old)


def test_random_splits_balance_the_folds_and_cannot_be_applied_per_fold(workdir: Path) -> None:
    sub = workdir / "random"
    sub.mkdir()
    import os

    old = os.getcwd()
    os.chdir(sub)
    try:
        rnd = _run(
            sub,
            "CVRnd",
            "!V:Silent:SplitType=RandomStratified:NumFolds=4:FoldFileOutput",
            methods=("Fisher",),
        )
        ds = rnd.loader.GetDataSetInfo().GetDataSet()
        sizes = [len(f.evaluation.histograms) > 0 for f in rnd.cv.GetResults()[0].GetFoldResults()]
        assert all(sizes)
        for k in range(1, 5):
            assert (sub / f"Fisher_fold{k}.root").is_file()  # FoldFileOutput: <dir>/<title>_fold<k>.root
            fold = uproot.open(sub / f"Fisher_fold{k}.root")["datasetcv/TestTree"]
            n_sig = int(np.sum(fold["classID"].array(library="np") == 0))
            assert n_sig in (len(ds.train) // 2 // 4, len(ds.train) // 2 // 4 + 1)  # stratified: balanced
        reader = TMVA.Reader("Silent")
        reader.AddVariable("x")
        reader.AddVariable("y")
        reader.AddSpectator("eventID")
        reader.BookMVA("Fisher", "datasetcv/weights/CVRnd_Fisher.weights.xml")
        with pytest.raises(ModelError, match="random split"):
            reader.EvaluateMVA(np.zeros((2, 2), np.float32), "Fisher")
    finally:
        os.chdir(old)


def test_option_errors() -> None:
    loader = make_loader("dsopt", n=20)
    with pytest.raises(OptionError, match="only be used with Deterministic"):
        TMVA.CrossValidation("J", loader, f"SplitType=Random:SplitExpr={EXPR}")
    with pytest.raises(OptionError, match="No output file"):
        TMVA.CrossValidation("J", loader, "Silent:FoldFileOutput")
    with pytest.raises(OptionError, match='Spectator "evt" not found'):
        TMVA.CrossValidation("J", loader, "SplitType=Deterministic:SplitExpr=int([evt])%2")
    with pytest.raises(OptionError, match="disagree"):
        TMVA.CrossValidation("J", loader, "NumWorkers=2:NumWorkerProcs=3")
    cv = TMVA.CrossValidation("J", loader, "Silent")
    with pytest.raises(NotTrainedError, match="No cross-validation results"):
        cv.GetResults()
    with pytest.raises(OptionError, match="no method booked"):
        cv.Evaluate()
    cv.BookMethod(TMVA.Types.kFisher, "F")
    with pytest.raises(OptionError, match="already exists"):
        cv.BookMethod("BDT", "F")


def test_a_tampered_weights_file_cannot_reach_outside_its_directory(run: Run, tmp_path: Path) -> None:
    source = Path("datasetcv/weights/TMVACrossValidation_Fisher.weights.xml")
    root = ET.fromstring(source.read_bytes())
    weights = root.find("Weights")
    assert weights is not None
    weights.set("JobName", "../../elsewhere")
    bad = tmp_path / "bad.weights.xml"
    bad.write_bytes(ET.tostring(root))
    reader = TMVA.Reader("Silent")
    reader.AddVariable("x")
    reader.AddVariable("y")
    reader.AddSpectator("eventID")
    with pytest.raises(ModelError, match="plain name"):
        reader.BookMVA("bad", bad)
    weights.set("JobName", "TMVACrossValidation")
    weights.set("EncapsulatedMethodTypeName", "CrossValidation")
    bad.write_bytes(ET.tostring(root))
    with pytest.raises(ModelError, match="cannot be CrossValidation"):
        reader.BookMVA("bad2", bad)
    weights.set("EncapsulatedMethodTypeName", "BDT")  # the fold files hold Fisher methods
    selfref = tmp_path / "TMVACrossValidation_Fisher.weights.xml"
    selfref.write_bytes(ET.tostring(root))
    with pytest.raises(ModelError, match=r"unable to open|expected BDT"):
        reader.BookMVA("bad3", selfref)


def test_regression_cross_validation_writes_per_fold_results(workdir: Path) -> None:
    rng = np.random.default_rng(5)
    n = 300
    v1, v2 = rng.uniform(0, 5, n).astype(np.float32), rng.uniform(0, 5, n).astype(np.float32)
    loader = TMVA.DataLoader("dsreg")
    loader.AddVariable("var1", "Variable 1", "units", "F")
    loader.AddVariable("var2", "Variable 2", "units", "F")
    loader.AddTarget("fvalue")
    loader.AddRegressionTree({"var1": v1, "var2": v2, "fvalue": (2 * v1 + v2).astype(np.float32)}, 1.0)
    loader.PrepareTrainingAndTestTree("", "nTest_Regression=1:SplitMode=Block:NormMode=NumEvents:!V")
    cv = TMVA.CrossValidation(
        "CVReg", loader, str(workdir / "reg.root"), "!V:Silent:AnalysisType=Regression:NumFolds=2"
    )
    cv.BookMethod(TMVA.Types.kBDT, "BDTG", "!H:!V:NTrees=20:BoostType=Grad:Shrinkage=0.3:MaxDepth=3")
    cv.Evaluate()
    result = cv.GetResults()[0]
    assert len(result.GetFoldResults()) == 2
    with pytest.raises(OptionError, match="regression"):
        result.GetROCValues()
    t = uproot.open(workdir / "reg.root")["dsreg/TestTree"].arrays(library="np")
    assert len(t["BDTG"]) == n - 1
    rms = float(np.sqrt(np.mean((t["BDTG"] - t["fvalue"]) ** 2)))
    assert rms < 0.5 * float(np.std(t["fvalue"]))  # the out-of-fold predictions follow the target
