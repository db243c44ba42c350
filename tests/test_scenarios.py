"""Scenarios a long-time TMVA user writes, combining features the module tests exercise separately.

Each test is a whole job (DataLoader, Factory, weights file, Reader) on a small sample, checked
against TMVA's documented behaviour (``../shared/tmva/core.md``, ``pytorch.md``) or against the same
job written another way whose result must be identical.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from pymva import TMVA, TCut


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _events_with_negative_weights(seed: int = 7) -> dict[str, dict[str, np.ndarray]]:
    """Signal and background with two correlated variables and ~25 % negative weights (NLO-like)."""
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, mu, rho, n in (("S", 0.5, 0.7, 600), ("B", -0.5, -0.4, 700)):
        z = rng.normal(size=(n, 2))
        x = z[:, 0] + mu
        y = rho * z[:, 0] + np.sqrt(1 - rho * rho) * z[:, 1] + mu
        w = np.where(rng.random(n) < 0.25, -rng.uniform(0.2, 1.0, n), rng.uniform(0.5, 2.0, n))
        out[name] = {"x": x.astype(np.float32), "y": y.astype(np.float32), "w": w.astype(np.float32)}
    return out


def _transformations_xml(path: Path) -> str:
    node = ET.parse(path).getroot().find("Transformations")
    assert node is not None
    return ET.tostring(node, encoding="unicode")


def test_ignore_neg_weights_applies_to_the_var_transform_fit(workdir: Path) -> None:
    """TMVA's ``MethodBase::TrainMethod`` switches ``Event::SetIsTraining(kTRUE)`` *before*
    ``CalcTransformations``, so with ``IgnoreNegWeightsInTraining`` the weighted transformations
    (Decorrelate, Gauss) are fitted with negative weights read as 0 (core.md §3.5).  The job must
    therefore equal the same job whose weight expression already zeroes the negative weights."""
    data = _events_with_negative_weights()
    files = {}
    for tag, weight, option in (("ignore", "w", "IgnoreNegWeightsInTraining"), ("zeroed", "(w>0)*w", "")):
        factory = TMVA.Factory(f"J{tag}", options="Silent:!DrawProgressBar:AnalysisType=Classification")
        loader = TMVA.DataLoader("neg")
        loader.AddVariable("x")
        loader.AddVariable("y")
        loader.AddSignalTree(data["S"])
        loader.AddBackgroundTree(data["B"])
        loader.SetWeightExpression(weight)
        loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Block:NormMode=None")
        factory.BookMethod(loader, TMVA.Types.kFisher, "Fisher", f"{option}:VarTransform=D,G")
        factory.TrainAllMethods()
        files[tag] = Path("neg/weights") / f"J{tag}_Fisher.weights.xml"
    assert _transformations_xml(files["ignore"]) == _transformations_xml(files["zeroed"])


@pytest.mark.parametrize(("method", "options"), [(TMVA.Types.kPyRandomForest, "NEstimators=3")])
def test_negative_weights_refused_by_scikit_learn_name_the_cause_and_the_option(
    workdir: Path, method: TMVA.Types, options: str
) -> None:
    """MC@NLO-style samples carry negative weights.  TMVA hands them to scikit-learn as they are
    (PyRandomForest) or boosts them inversely (BDT's default ``NegWeightTreatment``); scikit-learn's
    forests, bagging and AdaBoost refuse them.  The error must say that negative weights are the cause
    and name the booking option that reads them as 0 -- and that option must then train."""
    from pymva import ModelError

    data = _events_with_negative_weights()

    loaders = []

    def job(extra: str) -> float:
        factory = TMVA.Factory("J", options="Silent:!DrawProgressBar:AnalysisType=Classification")
        loader = TMVA.DataLoader("neg")
        loaders.append(loader)
        loader.AddVariable("x")
        loader.AddVariable("y")
        loader.AddSignalTree(data["S"])
        loader.AddBackgroundTree(data["B"])
        loader.SetWeightExpression("w")
        loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Alternate:NormMode=None")
        factory.BookMethod(loader, method, "M", f"{options}{extra}")
        factory.TrainAllMethods()
        factory.TestAllMethods()
        return factory.GetROCIntegral(loader, "M")

    with pytest.raises(ModelError, match=r"negative (event )?weights") as err:
        job("")
    train = loaders[0].GetDataSetInfo().GetDataSet().train
    assert f"{int((train.weights < 0).sum())} of {len(train)} training events" in str(err.value)
    assert "IgnoreNegWeightsInTraining" in str(err.value)
    assert job(":IgnoreNegWeightsInTraining") > 0.6


def test_bdt_trains_with_negative_weights_as_tmva(workdir: Path) -> None:
    """TMVA's BDT keeps negative-weight events (NegWeightTreatment=InverseBoostNegWeights, its
    default): the job trains and separates; IgnoreNegWeightsInTraining drops them and trains too."""
    data = _events_with_negative_weights()
    rocs = []
    for extra in (
        "",
        ":NegWeightTreatment=IgnoreNegWeightsInTraining",
        ":NegWeightTreatment=PairNegWeightsGlobal",
    ):
        factory = TMVA.Factory("J", options="Silent:!DrawProgressBar:AnalysisType=Classification")
        loader = TMVA.DataLoader("negbdt")
        loader.AddVariable("x")
        loader.AddVariable("y")
        loader.AddSignalTree(data["S"])
        loader.AddBackgroundTree(data["B"])
        loader.SetWeightExpression("w")
        loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Alternate:NormMode=None")
        factory.BookMethod(loader, TMVA.Types.kBDT, "M", f"NTrees=5:MaxDepth=2{extra}")
        factory.TrainAllMethods()
        factory.TestAllMethods()
        rocs.append(factory.GetROCIntegral(loader, "M"))
    assert min(rocs) > 0.6


def test_without_model_persistence_no_model_files_are_written(workdir: Path) -> None:
    """``ModelPersistence=False``: TMVA writes no weights file and its PyMVA scikit-learn methods do
    not serialise the fitted estimator (``if (IsModelPersistence()) Serialize(...)``); testing and
    evaluation use the in-memory model.  Nothing may appear on disk for Fisher, BDT and PyRandomForest."""
    data = _events_with_negative_weights()
    factory = TMVA.Factory(
        "J", options="Silent:!DrawProgressBar:AnalysisType=Classification:!ModelPersistence"
    )
    loader = TMVA.DataLoader("nopersist")
    loader.AddVariable("x")
    loader.AddVariable("y")
    loader.AddSignalTree(data["S"])
    loader.AddBackgroundTree(data["B"])
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Alternate:NormMode=NumEvents")
    factory.BookMethod(loader, TMVA.Types.kFisher, "Fisher")
    factory.BookMethod(loader, TMVA.Types.kBDT, "BDT", "NTrees=5:BoostType=Grad")
    factory.BookMethod(loader, TMVA.Types.kPyRandomForest, "RF", "NEstimators=5")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    assert sorted(p.name for p in workdir.rglob("*")) == []
    for title in ("Fisher", "BDT", "RF"):
        assert factory.GetROCIntegral(loader, title) > 0.7


def test_tmva_classification_tutorial_declarations_and_reader(workdir: Path) -> None:
    """ROOT's TMVAClassification tutorial, verbatim: ``AddVariable(expr, 'F')``,
    ``AddVariable(expr, title, unit, 'F')`` and ``AddSpectator(expr, title, unit, 'F')`` (the
    spectator signature has no type: C++ turns the char into the placeholder minimum, which is
    recomputed from the data anyway), labelled expressions, a background weight expression, two
    class cuts; then the application tutorial's Reader with the same declarations reproduces the
    TestTree and the spectators come out as their expressions."""
    import uproot

    rng = np.random.default_rng(3)

    def sample(mu: float, n: int = 800) -> dict[str, np.ndarray]:
        cols = {f"var{i}": rng.normal(mu, 1.0, n).astype(np.float32) for i in range(1, 5)}
        cols["weight"] = rng.uniform(0.5, 1.5, n).astype(np.float32)
        return cols

    factory = TMVA.Factory(
        "TMVAClassification", "TMVA.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification"
    )
    dataloader = TMVA.DataLoader("dataset")
    dataloader.AddVariable("myvar1 := var1+var2", "F")
    dataloader.AddVariable("myvar2 := var1-var2", "Expression 2", "", "F")
    dataloader.AddVariable("var3", "Variable 3", "units", "F")
    dataloader.AddVariable("var4", "Variable 4", "units", "F")
    dataloader.AddSpectator("spec1 := var1*2", "Spectator 1", "units", "F")
    dataloader.AddSpectator("spec2 := var1*3", "Spectator 2", "units", "F")
    dataloader.AddBackgroundTree(sample(-0.3), 1.0)
    dataloader.AddSignalTree(sample(0.3), 1.0)
    dataloader.SetBackgroundWeightExpression("weight")
    dataloader.PrepareTrainingAndTestTree(
        TCut("var4>-2"),
        TCut("var3<2"),
        "nTrain_Signal=300:nTrain_Background=300:SplitMode=Random:NormMode=NumEvents:!V",
    )
    factory.BookMethod(dataloader, TMVA.Types.kFisher, "Fisher", "H:!V:Fisher:VarTransform=None")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()

    test = uproot.open("TMVA.root")["dataset/TestTree"].arrays(library="np")
    sig = test["className"] == "Signal"
    assert set(zip(test["classID"][sig], test["className"][sig], strict=True)) == {(1, "Signal")}
    np.testing.assert_allclose(test["spec1"], test["myvar1"] + test["myvar2"], rtol=1e-5, atol=1e-5)  # 2*var1
    assert test["var4"][sig].min() > -2
    assert test["var3"][~sig].max() < 2

    reader = TMVA.Reader("!Color:Silent")
    bufs = {name: np.zeros(1, np.float32) for name in ("myvar1", "myvar2", "var3", "var4", "spec1", "spec2")}
    reader.AddVariable("myvar1 := var1+var2", bufs["myvar1"])
    reader.AddVariable("myvar2 := var1-var2", bufs["myvar2"])
    reader.AddVariable("var3", bufs["var3"])
    reader.AddVariable("var4", bufs["var4"])
    reader.AddSpectator("spec1 := var1*2", bufs["spec1"])
    reader.AddSpectator("spec2 := var1*3", bufs["spec2"])
    reader.BookMVA("Fisher method", "dataset/weights/TMVAClassification_Fisher.weights.xml")
    for i in range(5):
        for name in ("myvar1", "myvar2", "var3", "var4"):
            bufs[name][0] = test[name][i]
        assert reader.EvaluateMVA("Fisher method") == pytest.approx(float(test["Fisher"][i]), abs=1e-5)


def test_spectator_and_target_placeholder_range_must_be_numbers(workdir: Path) -> None:
    from pymva import DataError

    loader = TMVA.DataLoader("dataset")
    with pytest.raises(DataError, match=r"min of spectator 's := x\*2'.*'lo'"):
        loader.AddSpectator("s := x*2", "S", "", "lo")
    with pytest.raises(DataError, match=r"max of target 't'"):
        loader.AddTarget("t", "T", "", 0.0, "hi")
    with pytest.raises(DataError, match=r"min of input variable 'v'"):
        loader.AddVariable("v", "V", "", "F", "lo")


def test_create_mva_pdfs_with_the_tutorial_pdf_options(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """TMVAClassification's Fisher booking ``CreateMVAPdfs:PDFInterpolMVAPdf=Spline2:NbinsMVAPdf=50:
    NsmoothMVAPdf=10``: with ``CreateMVAPdfs`` TMVA's method reads the options of its response PDFs
    (``PDF::DeclareOptions``, suffixes ``MVAPdf``/``MVAPdfBkg``/``MVAPdfSig``), with their predefined
    values; without it they are unknown options.  Training builds the PDFs with those options and the
    Reader's ``GetProba`` and ``GetRarity`` read them from the weights file."""
    import logging

    from pymva import OptionError

    data = _events_with_negative_weights()

    def book(options: str, **kwargs: object) -> tuple[object, object]:
        factory = TMVA.Factory("J", options="!Silent:!DrawProgressBar:!Color:AnalysisType=Classification")
        loader = TMVA.DataLoader("pdf")
        loader.AddVariable("x")
        loader.AddVariable("y")
        loader.AddSignalTree({k: v for k, v in data["S"].items() if k != "w"})
        loader.AddBackgroundTree({k: v for k, v in data["B"].items() if k != "w"})
        loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Alternate")
        factory.BookMethod(loader, TMVA.Types.kFisher, "Fisher", options, **kwargs)
        return factory, loader

    tutorial = "H:!V:Fisher:VarTransform=None:CreateMVAPdfs:PDFInterpolMVAPdf=Spline2:NbinsMVAPdf=50:NsmoothMVAPdf=10"
    factory, loader = book(tutorial, KDEborderMVAPdfSig="Mirror", MaxNSmoothMVAPdfBkg=15)
    with caplog.at_level(logging.WARNING, logger="pymva"):
        factory.TrainAllMethods()
    assert not any("CreateMVAPdfs" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    assert factory.GetROCIntegral(loader, "Fisher") > 0.7

    reader = TMVA.Reader("!Color:Silent")
    reader.AddVariable("x", np.zeros(1, np.float32))
    reader.AddVariable("y", np.zeros(1, np.float32))
    reader.BookMVA("Fisher", "pdf/weights/J_Fisher.weights.xml")
    proba = reader.GetProba("Fisher", 0.5, np.array([-3.0, 0.0, 3.0]))
    assert np.all((proba >= 0) & (proba <= 1))
    assert 0.0 <= reader.GetRarity("Fisher") <= 1.0
    pdfs = ET.parse("pdf/weights/J_Fisher.weights.xml").getroot().findall("MVAPdfs/PDF")
    assert [p.get("KDE_border") for p in pdfs] == ["3", "1"]  # KDEborderMVAPdfSig=Mirror
    assert [p.get("MaxNSmooth") for p in pdfs] == ["10", "15"]  # MaxNSmoothMVAPdfBkg=15
    assert [p.find("Histogram").get("NBins") for p in pdfs] == ["50", "50"]  # type: ignore[union-attr]

    # TMVA's background PDF starts from the default PDF's MinNSmooth = 10: a maximum of 5 is fatal
    with pytest.raises(OptionError, match="MaxNSmooth = 5 < MinNSmooth = 10"):
        book(tutorial, MaxNSmoothMVAPdfBkg=5)
    with pytest.raises(OptionError, match="PDFInterpolMVAPdf"):  # not read without CreateMVAPdfs
        book("PDFInterpolMVAPdf=Spline2")
    with pytest.raises(OptionError, match=r"Spline4.*did you mean 'Spline[0-5]'"):
        book("CreateMVAPdfs:PDFInterpolMVAPdf=Spline4")
    with pytest.raises(OptionError, match="PDFInterpolMVAPdx"):
        book("CreateMVAPdfs:PDFInterpolMVAPdx=Spline2")


def test_multiclass_bdtg_default_shrinkage_takes_tmvas_step(workdir: Path) -> None:
    """TMVA's multiclass gradient boost sets each leaf to ``Shrinkage·(K−1)/K·Σwr/Σw|r|(1−|r|)``
    (``MethodBDT::GradBoost``, Friedman's factor).  With TMVA's default ``Shrinkage=1.0`` a
    four-class BDTG must therefore learn as scikit-learn's ``GradientBoostingClassifier`` (same
    factor, pymva's ``UseBaggedBoost`` mapping) does, whichever estimator pymva maps it onto,
    instead of taking the full Newton step that overshoots."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(11)
    means = {"Signal": (0.8, 0.8), "bkg0": (-0.8, 0.8), "bkg1": (0.8, -0.8), "bkg2": (-0.8, -0.8)}
    trees = {
        c: {
            "x": rng.normal(m[0], 1.0, 1200).astype(np.float32),
            "y": rng.normal(m[1], 1.0, 1200).astype(np.float32),
        }
        for c, m in means.items()
    }
    aucs = {}
    for title, options in (
        ("hist", "NTrees=20:BoostType=Grad"),
        ("bagged", "NTrees=20:BoostType=Grad:UseBaggedBoost:BaggedSampleFraction=1"),
    ):
        factory = TMVA.Factory(title, options="Silent:!DrawProgressBar:AnalysisType=Multiclass")
        loader = TMVA.DataLoader("mc")
        loader.AddVariable("x")
        loader.AddVariable("y")
        for c, t in trees.items():
            loader.AddTree(t, c)
        loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Alternate:NormMode=NumEvents")
        factory.BookMethod(loader, TMVA.Types.kBDT, "BDTG", options)
        factory.TrainAllMethods()
        factory.TestAllMethods()
        test = loader.GetDataSetInfo().GetDataSet().test
        values = factory.GetMethod(loader, "BDTG").evaluate(test.X)
        aucs[title] = [roc_auc_score(test.class_id == k, values[:, k]) for k in range(4)]
    # four Gaussians at (±0.8, ±0.8): each class against the rest is separable to an AUC of ~0.84
    assert min(aucs["bagged"]) > 0.8
    np.testing.assert_allclose(aucs["hist"], aucs["bagged"], atol=0.03)


def test_pytorch_file_name_typos_suggest_the_closest_file(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo in ``FilenameModel`` or ``UserCode`` names the file and suggests the closest one."""
    import sys

    import torch

    import pymva.pytorch as pmt
    from pymva import ModelError

    torch.jit.save(
        torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softmax(dim=1))), "model.pt"
    )
    Path("generate_model.py").write_text("load_model_custom_objects = None\n", encoding="utf-8")
    objs = {
        "optimizer": torch.optim.SGD,
        "criterion": torch.nn.MSELoss(),
        "train_func": pmt.train,
        "predict_func": pmt.predict,
    }
    monkeypatch.setitem(sys.modules["__main__"].__dict__, "load_model_custom_objects", objs)
    data = _events_with_negative_weights()
    factory = TMVA.Factory("J", options="Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("typo")
    loader.AddVariable("x")
    loader.AddVariable("y")
    loader.AddSignalTree(data["S"])
    loader.AddBackgroundTree(data["B"])
    with pytest.raises(ModelError, match=r"modle\.pt.*did you mean 'model\.pt'"):
        factory.BookMethod(loader, TMVA.Types.kPyTorch, "PyTorch", FilenameModel="modle.pt")
    with pytest.raises(ModelError, match=r"generate_modle\.py.*did you mean 'generate_model\.py'"):
        factory.BookMethod(
            loader, TMVA.Types.kPyTorch, "PyTorch", FilenameModel="model.pt", UserCode="generate_modle.py"
        )
