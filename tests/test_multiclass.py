# TMVA's printf formats are kept verbatim in the expected table rows.
# ruff: noqa: UP031
"""Multiclass end to end: Factory, output file, weights file and Reader (core.md §2.5, §5.7, §6).

Expectations come from outside the code under test: ROOT's acceptance rule of
``testPyTorchMulticlass.C`` (pytorch.md §7.6), scikit-learn's weighted one-vs-rest ``roc_auc_score`` and
``roc_curve`` on the TestTree/TrainTree read back with uproot, TMVA's table layout (core.md §2.5) and the
Reader reproducing the TestTree.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch
import uproot
from numpy.lib.recfunctions import structured_to_unstructured
from sklearn.metrics import roc_auc_score, roc_curve

import pymva.pytorch as pmt
from pymva import TMVA, TCut
from pymva.factory import Factory
from pymva.io.weights import load_method
from pymva.toydata import create_multiple_background
from pymva.types import EMVA, EAnalysisType, ETreeType
from tolerances import EPS32, assert_within, network_atol, softmax_sum_atol

CLASSES = ["Signal", "Background_0", "Background_1", "Background_2"]
TREES = ["TreeS", "TreeB0", "TreeB1", "TreeB2"]
VARIABLES = ["var1", "var2", "var3", "var4"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _cross_entropy_on_argmax(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The tutorial's loss: CrossEntropyLoss with the class index of the one-hot target."""
    return torch.nn.functional.cross_entropy(output, torch.max(y, 1)[1])


@pytest.fixture
def custom_objects(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    objs = {
        "optimizer": torch.optim.Adam,  # as testPyTorchMulticlass.C
        "criterion": _cross_entropy_on_argmax,
        "train_func": pmt.train,
        "predict_func": pmt.predict,
    }
    monkeypatch.setitem(sys.modules["__main__"].__dict__, "load_model_custom_objects", objs)
    return objs


def _save_model(path: str) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4), torch.nn.Softmax(dim=1)
    )
    torch.jit.save(torch.jit.script(model), path)


def _loader(n_events: int = 500) -> Any:
    create_multiple_background("tmva_example_multiple_background.root", n_events=n_events)
    data = uproot.open("tmva_example_multiple_background.root")
    loader = TMVA.DataLoader("dataset")
    for branch in data["TreeS"].branches:
        loader.AddVariable(branch.name)
    for tree, name in zip(TREES, CLASSES, strict=True):
        loader.AddTree(data[tree], name)
        loader.SetWeightExpression("1 + 0.5*abs(var2)", name)  # unequal event weights
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    return loader


def _tmva_roc_integral(
    values: npt.NDArray[Any], weights: npt.NDArray[Any], is_signal: npt.NDArray[Any]
) -> float:
    """TMVA's ROCCurve::GetROCIntegral (core.md §5.1) written out with numpy: events sorted by value,
    TP_k = signal weight at index >= k, TN_k = background weight at index <= k, trapezoids."""
    order = np.argsort(values, kind="stable")
    w = np.asarray(weights, np.float64)[order]
    s = np.asarray(is_signal, bool)[order]
    tp = np.cumsum(np.where(s, w, 0.0)[::-1])[::-1]
    tn = np.cumsum(np.where(s, 0.0, w))
    sens = np.r_[1.0, tp / w[s].sum(), 0.0]
    spec = np.r_[0.0, tn / w[~s].sum(), 1.0]
    return float(np.sum(0.5 * (sens[:-1] - sens[1:]) * (spec[:-1] + spec[1:])))


def _eff_s_at(
    values: npt.NDArray[Any], is_signal: npt.NDArray[np.bool_], w: npt.NDArray[Any], eff_b: float
) -> float:
    """Signal efficiency at a background efficiency, from scikit-learn's weighted ROC curve."""
    fpr, tpr, _ = roc_curve(is_signal, values, sample_weight=w, drop_intermediate=False)
    return float(np.interp(eff_b, fpr, tpr))


@pytest.mark.slow
def test_multiclass_job_end_to_end(
    workdir: Path,
    custom_objects: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _save_model("model.pt")
    loader = _loader()
    factory = Factory(
        "TMVAMulticlass",
        "TMVAMulticlass.root",
        "!V:Silent:!Color:!DrawProgressBar:Transformations=I:AnalysisType=multiclass",
    )
    # the tutorial books Fisher: TMVA refuses it for multiclass with a warning, BookMethod returns None
    with caplog.at_level(logging.WARNING, logger="pymva"):
        assert factory.BookMethod(loader, EMVA.kFisher, "Fisher", "!H:!V:Fisher:VarTransform=D,G") is None
    assert "Method Fisher is not capable of handling multiclass classification with 4 classes" in caplog.text
    factory.BookMethod(
        loader,
        EMVA.kPyTorch,
        "PyTorch",
        "!H:!V:VarTransform=D,G:FilenameModel=model.pt:NumEpochs=20:BatchSize=32",
    )
    factory.BookMethod(loader, "BDT", "BDTG", "!H:!V:NTrees=20:BoostType=Grad:Shrinkage=0.3:MaxDepth=2")
    assert not factory.HasMethod(loader, "Fisher")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    printed = capsys.readouterr().out

    f = uproot.open("TMVAMulticlass.root")
    test_tree, train_tree = f["dataset/TestTree"], f["dataset/TrainTree"]
    assert list(test_tree.keys()) == ["classID", "className", *VARIABLES, "weight", "BDTG", "PyTorch"]
    test = test_tree.arrays(library="np")
    train = train_tree.arrays(library="np")
    # DataSet::GetTree: one branch per method with a leaf per class, named as the class
    for arrays in (test, train):
        for title in ("BDTG", "PyTorch"):
            assert arrays[title].dtype.names == tuple(CLASSES)
            arrays[title] = structured_to_unstructured(arrays[title])
    assert len(test["classID"]) == len(train["classID"]) == 1000
    # classes in order of first mention; className matches classID
    for k, name in enumerate(CLASSES):
        assert set(test["className"][test["classID"] == k]) == {name}
    assert test["PyTorch"].shape == (1000, 4)
    # softmax outputs: one value per class, summing to one
    assert_within(test["PyTorch"].sum(axis=1), 1.0, softmax_sum_atol(4))
    assert len(np.unique(test["weight"])) > 100  # the weight expression gives every event its own weight
    for k in range(4):  # NormMode=NumEvents: training weights sum to the class's training events
        sel = train["classID"] == k
        # each float32 weight is the float64 product w·N/Σw rounded once: the float64 sum is within eps32
        assert train["weight"][sel].astype(np.float64).sum() == pytest.approx(
            np.count_nonzero(sel), rel=EPS32
        )

    # one-vs-rest ROC integrals: scikit-learn's weighted AUC, GetROCIntegral(loader, title, iClass), the result
    result = factory.GetResults(loader, "PyTorch")
    assert result.class_names == tuple(CLASSES)
    for k in range(4):
        for sample, arrays, tree_type, aucs in (
            ("test", test, ETreeType.kTesting, result.test_roc_integral),
            ("train", train, ETreeType.kTraining, result.train_roc_integral),
        ):
            expected = roc_auc_score(
                arrays["classID"] == k, arrays["PyTorch"][:, k], sample_weight=arrays["weight"]
            )
            got = factory.GetROCIntegral(loader, "PyTorch", k, tree_type)
            assert got == pytest.approx(expected, abs=1e-3), (sample, k)
            exact = _tmva_roc_integral(arrays["PyTorch"][:, k], arrays["weight"], arrays["classID"] == k)
            assert got == pytest.approx(exact, abs=1e-9), (sample, k)
            assert aucs[k] == pytest.approx(got, abs=1e-12)
        assert result.test_roc_integral[k] > 0.85
        eff10 = _eff_s_at(test["PyTorch"][:, k], test["classID"] == k, test["weight"], 0.10)
        assert result.test_eff_at_10[k] == pytest.approx(eff10, abs=0.01)

    # the confusion matrices, printed under a " test (train)" header: test value first
    lines = [ln[27:] for ln in printed.splitlines()]
    start = lines.index("=== Showing confusion matrix for method : PyTorch        ")
    block = lines[start : start + 1 + 3 * 9]
    assert block[1] == "(Signal Efficiency for Background Efficiency 0.01%)"
    header, info = block[3], block[4]
    assert header.split() == CLASSES
    assert info.split() == ["test", "(train)"] * 4
    cells_differ = 0.0
    for i, eff_b in enumerate((0.01, 0.10, 0.30)):
        rows = block[3 + 9 * i + 2 : 3 + 9 * i + 6]
        for r, row in enumerate(rows):
            assert row[:15] == " %-14s" % CLASSES[r]
            cells = [row[15 + 15 * c : 15 + 15 * (c + 1)] for c in range(4)]
            for c, cell in enumerate(cells):
                if r == c:
                    assert cell.strip() == "-"
                    continue
                test_v, train_v = result.confusion_test[eff_b][r, c], result.confusion_train[eff_b][r, c]
                assert cell == " %-14s" % ("%-5.3f (%-5.3f)" % (test_v, train_v))
                if eff_b >= 0.1:  # independent check on the two-class events (coarse at 0.01)
                    for arrays, value in ((test, test_v), (train, train_v)):
                        sel = (arrays["classID"] == r) | (arrays["classID"] == c)
                        ref = _eff_s_at(
                            arrays["PyTorch"][sel, r],
                            arrays["classID"][sel] == r,
                            arrays["weight"][sel],
                            eff_b,
                        )
                        assert value == pytest.approx(ref, abs=0.01)
                    cells_differ = max(cells_differ, abs(test_v - train_v))
    assert cells_differ > 0.02  # so a swapped test/train would have been caught above

    # the 1-vs-rest table lists the classes under each method, booking order
    table = "\n".join(lines)
    assert table.index("dataset        PyTorch") < table.index("dataset        BDTG")
    row = "%-15s%-15s%-15s" % (
        "",
        "Background_1",
        "%5.3f (%5.3f)" % (result.test_roc_integral[2], result.train_roc_integral[2]),
    )
    assert row in lines[lines.index("dataset        PyTorch        ") + 4]

    # histograms of §5.7
    d = "dataset/Method_PyTorch/PyTorch/"
    counts, edges = f[d + "MVA_PyTorch_Test_Background_2_prob_for_Signal"].to_numpy()
    assert len(counts) == 40
    # unit area: each stored bin rounds once, a float32 normalisation sum adds at most len(counts)·eps32
    assert float(np.sum(counts * np.diff(edges))) == pytest.approx(1.0, rel=(len(counts) + 1) * EPS32)
    assert d + "MVA_PyTorch_Train_Signal_prob_for_Background_1" in f
    for name in CLASSES:
        assert f"dataset/CorrelationMatrix{name}" in f

    # weights file and Reader
    weights = Path("dataset/weights/TMVAMulticlass_PyTorch.weights.xml")
    text = weights.read_text()
    assert '<Info name="AnalysisType" value="Multiclass"/>' in text
    assert '<Classes NClass="4">' in text
    for k, name in enumerate(CLASSES):
        assert f'<Class Name="{name}" Index="{k}"/>' in text
    bufs = {v: np.zeros(1, np.float32) for v in VARIABLES}
    reader = TMVA.Reader("!Color:Silent")
    for v, buf in bufs.items():
        reader.AddVariable(v, buf)
    reader.BookMVA("PyTorch", str(weights))
    X = np.column_stack([test[v] for v in VARIABLES]).astype(np.float32)
    # the Reader repeats the Factory's arithmetic; the D,G transforms round from float64 once, the network's
    # dot products may be added in another order for another batch shape: network_atol (tests/tolerances.py)
    atol = network_atol(
        torch.jit.load(str(next(Path("dataset/weights").glob("*_PyTorch.TrainedModel.pt")))),  # type: ignore[no-untyped-call]
        load_method(weights).transformations.transform_variables(X),
    )
    vectorised = reader.EvaluateMulticlass(X, "PyTorch")
    assert_within(vectorised, test["PyTorch"], atol)

    # ROOT's acceptance rule (testPyTorchMulticlass.C): mean response of class k on class-k events >= 0.3,
    # event by event through the bound buffers, for every class (ROOT's test re-checks class 0 by mistake)
    for k in range(4):
        idx = np.flatnonzero(test["classID"] == k)[:50]
        responses = []
        for i in idx:
            for v, value in zip(VARIABLES, X[i], strict=True):
                bufs[v][0] = value
            out = reader.EvaluateMulticlass("PyTorch")
            assert len(out) == 4
            assert reader.EvaluateMulticlass(k, "PyTorch") == out[k]
            assert_within(out, test["PyTorch"][i], atol[i])
            responses.append(out[k])
        assert float(np.mean(responses)) >= 0.3, CLASSES[k]
        assert float(vectorised[test["classID"] == k, k].mean()) >= 0.3
    with caplog.at_level(logging.WARNING, logger="pymva"):
        assert reader.EvaluateMulticlass(4, "PyTorch") == 0.0
    assert "class-number 4" in caplog.text
    # EvaluateMVA on a multiclass method: the raw output of class 0
    assert_within(reader.EvaluateMVA(X, "PyTorch"), test["PyTorch"][:, 0], atol[:, 0])


def test_auto_analysis_type_with_named_classes(workdir: Path) -> None:
    """AnalysisType=Auto: two classes named other than Signal/Background, or three classes -> multiclass."""
    for names in (("Signal", "Background", "Other"), ("A", "B")):
        loader = TMVA.DataLoader(f"dataset_{len(names)}")
        loader.AddVariable("x")
        for i, name in enumerate(names):
            loader.AddTree({"x": np.arange(20, dtype=np.float32) + i}, name)
        factory = Factory("Job", options="Silent:!DrawProgressBar")
        factory.BookMethod(loader, "BDT", "BDTG", "NTrees=5:BoostType=Grad")
        assert factory.analysis_type == EAnalysisType.kMulticlass
    loader = TMVA.DataLoader("binary")
    loader.AddVariable("x")
    loader.AddTree({"x": np.arange(20, dtype=np.float32)}, "Background")
    loader.AddTree({"x": np.arange(20, dtype=np.float32)}, "Signal")
    factory = Factory("Job", options="Silent:!DrawProgressBar")
    factory.BookMethod(loader, "BDT", "BDT", "NTrees=5")
    assert factory.analysis_type == EAnalysisType.kClassification
