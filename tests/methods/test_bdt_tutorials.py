"""Every BDT booking of ROOT's tutorials trains, tests and evaluates through the Factory on toy data
(NTrees reduced to keep it fast), with TMVA's response scale."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import uproot

from pymva import TMVA, TCut
from pymva.toydata import create_class_example, create_multiple_background, create_regression_example

CLASSIFICATION = {
    # TMVAClassification.C
    "BDT": "!H:!V:NTrees=850:MinNodeSize=2.5%:MaxDepth=3:BoostType=AdaBoost:AdaBoostBeta=0.5:"
    "UseBaggedBoost:BaggedSampleFraction=0.5:SeparationType=GiniIndex:nCuts=20",
    "BDTG": "!H:!V:NTrees=1000:MinNodeSize=2.5%:BoostType=Grad:Shrinkage=0.10:UseBaggedBoost:"
    "BaggedSampleFraction=0.5:nCuts=20:MaxDepth=2",
    "BDTB": "!H:!V:NTrees=400:BoostType=Bagging:SeparationType=GiniIndex:nCuts=20",
    "BDTD": "!H:!V:NTrees=400:MinNodeSize=5%:MaxDepth=3:BoostType=AdaBoost:SeparationType=GiniIndex:"
    "nCuts=20:VarTransform=Decorrelate",
    "BDTF": "!H:!V:NTrees=50:MinNodeSize=2.5%:UseFisherCuts:MaxDepth=3:BoostType=AdaBoost:AdaBoostBeta=0.5:"
    "SeparationType=GiniIndex:nCuts=20",
    # TMVA_Higgs_Classification.py and TMVA_CNN_Classification.py
    "BDTHiggs": "!V:NTrees=200:MinNodeSize=2.5%:MaxDepth=2:BoostType=AdaBoost:AdaBoostBeta=0.5:"
    "UseBaggedBoost:BaggedSampleFraction=0.5:SeparationType=GiniIndex:nCuts=20",
    "BDTCNN": "!V:NTrees=400:MinNodeSize=2.5%:MaxDepth=2:BoostType=AdaBoost:AdaBoostBeta=0.5:"
    "UseBaggedBoost:BaggedSampleFraction=0.5:SeparationType=GiniIndex:nCuts=20",
    # TMVAMultipleBackgroundExample.C
    "BDTGMulti": "!H:!V:NTrees=1000:BoostType=Grad:Shrinkage=0.30:UseBaggedBoost:BaggedSampleFraction=0.6:"
    "SeparationType=GiniIndex:nCuts=20:MaxDepth=2",
}
REGRESSION = {  # TMVARegression.C
    "BDT": "!H:!V:NTrees=100:MinNodeSize=1.0%:BoostType=AdaBoostR2:SeparationType=RegressionVariance:"
    "nCuts=20:PruneMethod=CostComplexity:PruneStrength=30",
    "BDTG": "!H:!V:NTrees=2000::BoostType=Grad:Shrinkage=0.1:UseBaggedBoost:BaggedSampleFraction=0.5:"
    "nCuts=20:MaxDepth=3:MaxDepth=4",
}
MULTICLASS = {  # TMVAMulticlass.C
    "BDTG": "!H:!V:NTrees=1000:BoostType=Grad:Shrinkage=0.10:UseBaggedBoost:BaggedSampleFraction=0.50:"
    "nCuts=20:MaxDepth=2",
}


def _few_trees(options: str, n: int = 4) -> str:
    return re.sub(r"NTrees=\d+", f"NTrees={n}", options)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_classification_bookings(workdir: Path) -> None:
    create_class_example("toy.root", n_events=400)
    data = uproot.open("toy.root")
    out = TMVA.TFile.Open("out.root", "RECREATE") if hasattr(TMVA, "TFile") else None
    factory = TMVA.Factory("TMVAClassification", out, "Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"])
    loader.AddBackgroundTree(data["TreeB"])
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    for title, options in CLASSIFICATION.items():
        factory.BookMethod(loader, TMVA.Types.kBDT, title, _few_trees(options))
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    for title in CLASSIFICATION:
        assert factory.GetROCIntegral(loader, title) > 0.7, title
        xml = Path("dataset/weights") / f"TMVAClassification_{title}.weights.xml"
        assert "<BinaryTree" in xml.read_text()
    reader = TMVA.Reader("Silent")
    for v in ("var1", "var2", "var3", "var4"):
        reader.AddVariable(v)
    reader.BookMVA("BDT", "dataset/weights/TMVAClassification_BDT.weights.xml")
    reader.BookMVA("BDTG", "dataset/weights/TMVAClassification_BDTG.weights.xml")
    X = np.stack([data["TreeS"][v].array(library="np") for v in ("var1", "var2", "var3", "var4")], 1)
    for tag in ("BDT", "BDTG"):
        r = reader.EvaluateMVA(X.astype(np.float32), tag)
        assert r.min() >= -1
        assert r.max() <= 1


def test_regression_bookings(workdir: Path) -> None:
    create_regression_example("reg.root", n_events=500)
    data = uproot.open("reg.root")
    factory = TMVA.Factory("TMVARegression", None, "Silent:!DrawProgressBar:AnalysisType=Regression")
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("var1")
    loader.AddVariable("var2")
    loader.AddTarget("fvalue")
    loader.AddRegressionTree(data["TreeR"], 1.0)
    loader.PrepareTrainingAndTestTree(TCut(""), "nTrain_Regression=300:nTest_Regression=0:SplitMode=Random")
    for title, options in REGRESSION.items():
        factory.BookMethod(loader, TMVA.Types.kBDT, title, _few_trees(options, 10))
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    for title in REGRESSION:
        assert Path(f"dataset/weights/TMVARegression_{title}.weights.xml").exists()


def test_multiclass_booking(workdir: Path) -> None:
    create_multiple_background("multi.root", n_events=300)
    data = uproot.open("multi.root")
    factory = TMVA.Factory("TMVAMulticlass", None, "Silent:!DrawProgressBar:AnalysisType=Multiclass")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    for tree, name in (("TreeS", "Signal"), ("TreeB0", "bg0"), ("TreeB1", "bg1"), ("TreeB2", "bg2")):
        loader.AddTree(data[tree], name)
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    factory.BookMethod(loader, TMVA.Types.kBDT, "BDTG", _few_trees(MULTICLASS["BDTG"]))
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    reader = TMVA.Reader("Silent")
    for v in ("var1", "var2", "var3", "var4"):
        reader.AddVariable(v)
    reader.BookMVA("BDTG", "dataset/weights/TMVAMulticlass_BDTG.weights.xml")
    X = np.stack([data["TreeS"][v].array(library="np") for v in ("var1", "var2", "var3", "var4")], 1)
    p = reader.EvaluateMulticlass(X.astype(np.float32), "BDTG")
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
