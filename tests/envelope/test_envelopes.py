"""Experimental.Classification, VariableImportance, HyperParameterOptimisation, and PyTorch folds.

Expectations come from plain Factory runs on the same DataSet, from hand computations of TMVA's
importance sums, and from a toy where one variable carries all the separation and one is pure noise.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import pymva.pytorch as ppt
from cvtoy import make_loader
from pymva import TMVA
from pymva.data.loader import DataLoader
from pymva.envelope.hyperparameters import Interval, default_tune_parameters
from pymva.envelope.variableimportance import importances
from pymva.errors import NotTrainedError, OptionError

BDT = "!H:!V:NTrees=10:MaxDepth=2:BoostType=Grad:Shrinkage=0.3"


# ------------------------------------------------------------------ Experimental.Classification
@pytest.fixture(scope="module")
def classification(workdir: Path) -> Any:
    loader = make_loader("dscl", n=200, n_test=100)
    cl = TMVA.Experimental.Classification(loader, "Jobs=2:!Silent")
    cl.BookMethod(TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")
    cl.BookMethod(TMVA.Types.kBDT, "BDTG", BDT)
    cl.Evaluate()
    return loader, cl


def test_classification_matches_a_plain_factory(classification: Any) -> None:
    loader, cl = classification
    factory = TMVA.Factory("ref", options="!V:Silent:!ModelPersistence:AnalysisType=Classification")
    ref = DataLoader.from_dataset(loader.GetDataSetInfo().GetDataSet())
    factory.BookMethod(ref, TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    results = cl.GetResults()
    assert [(r.GetMethodName(), r.GetMethodTitle()) for r in results] == [
        ("Fisher", "Fisher"),
        ("BDT", "BDTG"),
    ]
    assert results[0].GetROCIntegral() == pytest.approx(factory.GetROCIntegral(ref, "Fisher"), abs=1e-12)
    assert results[0].IsMethod("Fisher", "Fisher")
    assert not results[0].IsCutsMethod()
    graph = results[1].GetROCGraph()
    assert graph.name == "BDT/BDTG"
    assert results[1].GetROCIntegral(0, TMVA.Types.kTraining) >= results[1].GetROCIntegral() - 0.05
    method = cl.GetMethod("BDT", "BDTG")  # from its weights file: trained in a worker
    ds = loader.GetDataSetInfo().GetDataSet()
    np.testing.assert_allclose(
        method.evaluate(ds.test.X), cl._outcomes[("BDT", "BDTG")].test_values, atol=1e-6
    )
    assert Path("dscl/weights/Classification_BDTG.weights.xml").is_file()


def test_classification_is_the_same_with_one_job(
    classification: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    loader, cl = classification
    one = TMVA.Experimental.Classification(loader, "Jobs=1:Silent:!ModelPersistence")
    one.BookMethod(TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")
    one.BookMethod(TMVA.Types.kBDT, "BDTG", BDT)
    one.Evaluate()
    out = capsys.readouterr().out
    assert "Name:                Method/Title:    ROC-integ     :" in out  # printed even when Silent
    for a, b in zip(one.GetResults(), cl.GetResults(), strict=True):
        assert a.GetROCIntegral() == b.GetROCIntegral()
        assert (
            f"{'dscl':<20} {a.GetMethodName() + '/' + a.GetMethodTitle():<15}  {a.GetROCIntegral():.3f}"
            in out
        )
    with pytest.raises(KeyError, match="not booked"):
        one.GetMethod("BDT", "nope")


def test_classification_cuts_reports_the_efficiency_area(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TMVA's ``ClassificationResult::GetROCIntegral`` returns, for Cuts, the ``fROCIntegral`` that
    ``TestMethod`` set to ``effArea`` (the mean of 1 − effB over ``GetEfficiency``'s scan) for any class
    and tree type, and the summary table prints it; the ROC integral of the TestTree response (0 for
    every event) would be about 0.5."""
    loader = make_loader("dscuts", n=200, n_test=100)
    cl = TMVA.Experimental.Classification(loader, "Jobs=1:Silent:!ModelPersistence")
    cl.BookMethod(TMVA.Types.kCuts, "Cuts", "!H:!V:FitMethod=MC:SampleSize=5000:VarProp=FSmart")
    cl.Evaluate()
    out = capsys.readouterr().out
    (result,) = cl.GetResults()
    assert result.IsCutsMethod()
    area = result.evaluation.eff_area
    assert 0.6 < area <= 1.0  # the toy's classes sit at x, y = +1 and -1
    assert result.GetROCIntegral() == area
    assert result.GetROCIntegral(0, TMVA.Types.kTraining) == area
    assert abs(result.GetROC().auc - 0.5) < 0.05  # the constant response, not what TMVA reports
    assert f"{'dscuts':<20} {'Cuts/Cuts':<15}  {area:.3f}" in out


def test_classification_output_file(workdir: Path) -> None:
    import uproot

    loader = make_loader("dsclout", n=100, n_test=50)
    cl = TMVA.Experimental.Classification(loader, str(workdir / "TMVAClass.root"), "Jobs=1:Silent")
    cl.BookMethod(TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")
    with pytest.raises(NotTrainedError):
        cl.GetResults()
    cl.Evaluate()
    f = uproot.open(workdir / "TMVAClass.root")
    assert "Fisher" in f["dsclout/TestTree"]
    assert "dsclout/Method_Fisher/Fisher" in [k.split(";")[0] for k in f]


# ------------------------------------------------------------------ VariableImportance
def test_importance_sums_follow_tmva_by_hand() -> None:
    roc = {0b01: 0.8, 0b10: 0.6, 0b11: 0.85}
    # All: x=01 -> a: .8-.5; x=10 -> b: .6-.5; x=11 -> a: .85-.6, b: .85-.8
    np.testing.assert_allclose(importances(2, [1, 2, 3], roc), [0.3 + 0.25, 0.1 + 0.05])
    np.testing.assert_allclose(importances(2, [3], roc), [0.25, 0.05])  # Short


@pytest.fixture(scope="module")
def vi_loader(workdir: Path) -> Any:
    return make_loader("dsvi", n=250, noise=True, n_test=150)  # x separates, y is pure noise


@pytest.mark.parametrize("kind", ["Short", "All"])
def test_variable_importance_sees_the_noise(vi_loader: Any, kind: str) -> None:
    vi = TMVA.VariableImportance(vi_loader, f"VariableImportanceType={kind}")
    vi.BookMethod(TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")
    vi.Evaluate()
    result = vi.GetResults()
    values = result.GetImportanceValues()
    assert sum(values.values()) == pytest.approx(100.0)
    assert abs(values["y"]) < 5.0  # pure noise: ~0 %
    assert values["x"] > 95.0  # all the separation
    # by hand from the subsets' ROC integrals, each from a plain Factory on x alone / y alone / both
    ds = vi_loader.GetDataSetInfo().GetDataSet()
    roc = {}
    for mask, cols in ((1, [0]), (2, [1]), (3, [0, 1])):
        sub = DataLoader.from_dataset(ds.select_variables(cols, name=f"m{mask}"))
        f = TMVA.Factory("ref", options="!V:Silent:!ModelPersistence:AnalysisType=Classification")
        f.BookMethod(sub, TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")
        f.TrainAllMethods()
        f.TestAllMethods()
        roc[mask] = f.GetROCIntegral(sub, "Fisher")
    assert result.rocs == pytest.approx({m: roc[m] for m in result.rocs}, abs=1e-12)
    masks = [3] if kind == "Short" else [1, 2, 3]
    raw = importances(2, masks, roc)
    assert values["x"] == pytest.approx(100 * raw[0] / raw.sum(), abs=1e-9)
    hist = result.GetImportanceHist()
    np.testing.assert_allclose(hist.values(), [values["x"], values["y"]])
    assert result.Draw().axes[0].get_ylabel() == " Importance (%) "


def test_random_importance_is_deterministic_whatever_the_workers(
    vi_loader: Any, caplog: pytest.LogCaptureFixture
) -> None:
    out = []
    for workers in (1, 2):
        vi = TMVA.VariableImportance(vi_loader, f"NumWorkers={workers}:NumRandom=6")
        vi.SetType(TMVA.VIType.kRandom)
        assert vi.GetType() == TMVA.VIType.kRandom
        vi.BookMethod(TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")
        vi.Evaluate()
        out.append(vi.GetResults().GetImportanceValues())
    assert out[0] == out[1]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pymva"):
        vi.GetResults().Print()
    text = [r.getMessage() for r in caplog.records if r.name.startswith("pymva.envelope")]
    assert text[0] == "Variable Importance Results (Random)"
    assert text[1] == f"x: {out[0]['x']:.6g} % "


# ------------------------------------------------------------------ HyperParameterOptimisation
def test_tmva_default_tuning_ranges_for_bdt() -> None:
    from pymva.methods.bdt import MethodBDT

    grad = MethodBDT.Options.parse("BoostType=Grad")
    tune = default_tune_parameters("BDT", grad, 4)
    assert tune["NTrees"].elements() == [10.0, 257.5, 505.0, 752.5, 1000.0]
    assert tune["MaxDepth"].elements() == [2.0, 3.0, 4.0]
    assert tune["MinNodeSize"].log
    assert tune["MinNodeSize"].elements()[-1] == pytest.approx(30.0)
    assert set(tune) == {"NTrees", "MaxDepth", "MinNodeSize", "Shrinkage"}
    assert Interval(1, 30, 30, log=True).mean == pytest.approx(np.sqrt(30))


def test_scan_picks_the_best_point_of_the_grid(workdir: Path) -> None:
    loader = make_loader("dshpo", n=150)
    hpo = TMVA.HyperParameterOptimisation(
        loader, "FitType=Scan:NumFolds=2:FigureOfMerit=ROCIntegral:NumWorkers=2"
    )
    hpo.BookMethod(TMVA.Types.kBDT, "BDT", BDT)
    grid = {"NTrees": (2, 12, 2), "MaxDepth": (1, 3, 2)}
    hpo.SetTuneParameters("BDT", grid)
    hpo.Evaluate()
    result = hpo.GetResults()
    assert result.GetNumTrainings() == [4, 4]
    # by hand: every grid point trained by a plain Factory on fold 1's events, the best ROC integral
    from pymva.envelope.cvsplit import CvSplitKFolds

    ds = loader.GetDataSetInfo().GetDataSet()
    split = CvSplitKFolds(2, "", stratified=True, seed=100)
    fold = split.fold_datasets(ds, split.fold_assignment(ds.train, ds.spectators))[0]
    best: tuple[float, dict[str, float]] | None = None
    points = [(d, n) for n in (2, 12) for d in (1, 3)]  # MaxDepth (first by name) varies fastest
    for depth, ntrees in points:
        f = TMVA.Factory("ref", options="!V:Silent:!ModelPersistence:AnalysisType=Classification")
        ref = DataLoader.from_dataset(fold)
        f.BookMethod(ref, TMVA.Types.kBDT, "BDT", f"{BDT}:NTrees={ntrees}:MaxDepth={depth}")
        f.TrainAllMethods()
        f.TestAllMethods()
        auc = f.GetROCIntegral(ref, "BDT")
        if best is None or auc > best[0]:
            best = (auc, {"MaxDepth": float(depth), "NTrees": float(ntrees)})
    assert best is not None
    assert result.GetFoldParameters()[0] == best[1]
    assert result.GetFOMValues()[0] == pytest.approx(best[0], abs=1e-12)


def test_fits_stay_inside_the_intervals_and_bad_names_are_refused(workdir: Path) -> None:
    loader = make_loader("dshpo2", n=100)
    hpo = TMVA.HyperParameterOptimisation(loader)
    assert (hpo.GetFitter(), hpo.GetFOMType(), hpo.GetNumFolds()) == ("Minuit", "Separation", 5)
    hpo.SetNumFolds(2)
    hpo.SetFitter("FitGA")
    with pytest.raises(OptionError, match="FitType 'Simplex' is not known"):
        hpo.SetFitter("Simplex")
    with pytest.raises(OptionError, match="no method"):
        hpo.SetTuneParameters("BDT", {"NTrees": (2, 4, 2)})
    hpo.BookMethod(TMVA.Types.kBDT, "BDT", BDT)
    with pytest.raises(OptionError, match="no numeric option 'NTree'"):
        hpo.SetTuneParameters("BDT", {"NTree": (2, 4, 2)})
    hpo.SetTuneParameters("BDT", {"NTrees": (2, 6, 3)})
    hpo.SetFitter("Minuit")
    hpo.Evaluate()
    for params in hpo.GetResults().GetFoldParameters():
        assert 2 <= params["NTrees"] <= 6
        assert params["NTrees"] == int(params["NTrees"])


# ------------------------------------------------------------------ PyTorch folds
def _train_copy(model: Any, train_loader: Any, val_loader: Any, **kwargs: Any) -> Any:
    return ppt.train(model, train_loader, val_loader, **kwargs)


def test_every_fold_trains_a_fresh_copy_of_the_initial_pytorch_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    main.load_model_custom_objects = {  # type: ignore[attr-defined]
        "optimizer": torch.optim.SGD,
        "criterion": nn.MSELoss(),
        "train_func": ppt.train,
        "predict_func": ppt.predict,
    }
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2), nn.Softmax(dim=1))
    torch.jit.save(torch.jit.script(model), "model.pt")
    before = hashlib.sha256(Path("model.pt").read_bytes()).hexdigest()
    loader = make_loader("dstorch", n=60)
    cv = TMVA.CrossValidation(
        "CVTorch", loader, "!V:Silent:NumFolds=2:SplitType=Deterministic:SplitExpr=int([eventID])%2"
    )
    cv.BookMethod(TMVA.Types.kPyTorch, "PyTorch", "!H:!V:FilenameModel=model.pt:NumEpochs=1:BatchSize=16")
    cv.Evaluate()
    assert (
        hashlib.sha256(Path("model.pt").read_bytes()).hexdigest() == before
    )  # the initial model is untouched
    trained = [Path(f"dstorch/weights/CVTorch_PyTorch_fold{k}.TrainedModel.pt") for k in (1, 2)]
    assert all(p.is_file() for p in trained)
    assert (
        hashlib.sha256(trained[0].read_bytes()).digest() != hashlib.sha256(trained[1].read_bytes()).digest()
    )
    reader = TMVA.Reader("Silent")
    reader.AddVariable("x")
    reader.AddVariable("y")
    reader.AddSpectator("eventID")
    reader.BookMVA("PyTorch", "dstorch/weights/CVTorch_PyTorch.weights.xml")
    values = reader.EvaluateMVA(np.array([[1.0, 1.0, 2], [1.0, 1.0, 3]], np.float32), "PyTorch")
    assert values.shape == (2,)
    assert values[0] != values[1]
