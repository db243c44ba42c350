"""The Factory end to end: booking, training, testing, evaluation, output file, weights file, Reader.

Expectations come from outside the code under test: scikit-learn's weighted ``roc_auc_score`` on the
TestTree read back with uproot, TMVA's booking rules and messages (core.md §2), ROOT's acceptance
rule of ``testPyTorchClassification.C`` (pytorch.md §7.6), and the Reader reproducing the TestTree.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import uproot
from sklearn.metrics import roc_auc_score

import pymva.pytorch as pmt
from pymva import TMVA, DataError, NotTrainedError, OptionError, TCut
from pymva.factory import Factory
from pymva.io.weights import load_method
from pymva.toydata import create_class_example
from tolerances import EPS32, assert_within, network_atol


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def custom_objects(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``load_model_custom_objects`` in ``__main__``, as a script at top level defines it."""
    objs = {
        "optimizer": torch.optim.Adam,
        "criterion": torch.nn.MSELoss(),
        "train_func": pmt.train,
        "predict_func": pmt.predict,
    }
    monkeypatch.setitem(sys.modules["__main__"].__dict__, "load_model_custom_objects", objs)
    return objs


def _save_model(path: str, n_in: int = 4, n_out: int = 2) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(n_in, 32), torch.nn.ReLU(), torch.nn.Linear(32, n_out), torch.nn.Softmax(dim=1)
    )
    torch.jit.save(torch.jit.script(model), path)


def tmva_roc_integral(values: np.ndarray, weights: np.ndarray, is_signal: np.ndarray) -> float:
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


def _class_loader(n_events: int = 2000) -> Any:
    create_class_example("tmva_class_example.root", n_events=n_events)
    data = uproot.open("tmva_class_example.root")
    loader = TMVA.DataLoader("dataset")
    for branch in data["TreeS"].branches:
        loader.AddVariable(branch.name)
    loader.AddSignalTree(data["TreeS"], 1.0)
    loader.AddBackgroundTree(data["TreeB"], 1.0)
    n_train = n_events * 2 // 3
    loader.PrepareTrainingAndTestTree(
        TCut(""),
        f"nTrain_Signal={n_train}:nTrain_Background={n_train}:SplitMode=Random:NormMode=NumEvents:!V",
    )
    return loader


@pytest.mark.slow
def test_classification_job_end_to_end(workdir: Path, custom_objects: dict[str, Any]) -> None:
    _save_model("model.pt")
    loader = _class_loader()
    factory = Factory(
        "TMVAClassification",
        "TMVA.root",
        "!V:Silent:!Color:!DrawProgressBar:Transformations=I;D:AnalysisType=Classification",
    )
    method = factory.BookMethod(
        loader,
        TMVA.Types.kPyTorch,
        "PyTorch",
        "!H:!V:VarTransform=D,G:FilenameModel=model.pt:NumEpochs=8:BatchSize=32",
    )
    assert method is not None
    factory.BookMethod(loader, "Fisher", "Fisher", "!H:!V:Fisher")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()

    # the output file, re-read with uproot
    f = uproot.open("TMVA.root")
    test_tree = f["dataset/TestTree"]
    train_tree = f["dataset/TrainTree"]
    assert test_tree.classname == "TTree"
    assert list(test_tree.keys()) == [
        "classID",
        "className",
        "var1",
        "var2",
        "var3",
        "var4",
        "weight",
        "Fisher",
        "PyTorch",
    ]
    assert test_tree.num_entries == 2 * (2000 - 1333)
    assert train_tree.num_entries == 2 * 1333
    t = test_tree.arrays(library="np")
    assert set(np.unique(t["classID"])) == {0, 1}
    # NormMode=NumEvents: each class's training weights sum to its number of training events
    tr = train_tree.arrays(["classID", "weight"], library="np")
    for c in (0, 1):
        # each float32 weight is the float64 product w·N/Σw rounded once: the float64 sum is within eps32
        assert tr["weight"][tr["classID"] == c].astype(np.float64).sum() == pytest.approx(1333, rel=EPS32)
    for name in ("MVA_PyTorch_S", "MVA_PyTorch_B", "MVA_PyTorch_effBvsS", "MVA_PyTorch_Train_S"):
        assert f"dataset/Method_PyTorch/PyTorch/{name}" in f
    counts, edges = f["dataset/Method_PyTorch/PyTorch/MVA_PyTorch_S"].to_numpy()
    # normalised to unit area: every stored bin rounds once, and a float32 normalisation sum over the
    # bins adds at most len(counts)·eps32
    assert float(np.sum(counts * np.diff(edges))) == pytest.approx(1.0, rel=(len(counts) + 1) * EPS32)
    assert "dataset/CorrelationMatrixS" in f
    assert "dataset/InputVariables_Deco/var1__Signal_Deco" in f

    # ROC integral: the Factory's value against scikit-learn on the TestTree (TMVA's trapezoids count an
    # event's own weight on both sides, hence the small tolerance), and exactly against TMVA's definition
    is_signal = t["classID"] == 0
    for title in ("PyTorch", "Fisher"):
        expected = roc_auc_score(is_signal, t[title], sample_weight=t["weight"])
        assert factory.GetROCIntegral(loader, title) == pytest.approx(expected, abs=2e-3)
        exact = tmva_roc_integral(t[title], t["weight"], is_signal)
        assert factory.GetROCIntegral(loader, title) == pytest.approx(exact, abs=1e-9)
    assert factory.GetROCIntegral(loader, "PyTorch") > 0.8
    curve = factory.GetROCCurve(loader, "PyTorch")
    assert curve.sensitivity[0] == 1.0
    assert curve.specificity[0] == 0.0

    # GetROCCurve(loader): one Figure that pyplot does not hold, so that as the last line of a Jupyter
    # cell it is shown once (a pyplot figure is shown again when the cell ends); TMVA's canvas title
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = factory.GetROCCurve(loader)
    assert plt.get_fignums() == before
    (ax,) = fig.axes
    assert ax.get_title() == "Signal efficiency vs. Background rejection"
    assert ax.get_legend().get_title().get_text() == "MVA Method"
    lines = {line.get_label().split(" (AUC ")[0]: line for line in ax.get_lines()}
    assert set(lines) == {"Fisher", "PyTorch"}
    np.testing.assert_array_equal(lines["PyTorch"].get_xdata(), curve.sensitivity)
    np.testing.assert_array_equal(lines["PyTorch"].get_ydata(), curve.specificity)

    # the weights file, and the Reader reproducing the TestTree's PyTorch branch for every event
    weights = Path("dataset/weights/TMVAClassification_PyTorch.weights.xml")
    assert weights.is_file()
    ref = {v: np.zeros(1, np.float32) for v in ("var1", "var2", "var3", "var4")}
    reader = TMVA.Reader("!Color:Silent")
    for v, buf in ref.items():
        reader.AddVariable(v, buf)
    reader.BookMVA("PyTorch", str(weights))
    X = np.column_stack([t[v] for v in ref]).astype(np.float32)
    # The Reader repeats the Factory's arithmetic: the D,G transforms compute in float64 and round to
    # float32 once (other summation orders change a value only when its float64 result lies within
    # ~1e-16 of a float32 rounding boundary, a chance of ~1e-9 per value), then the network, whose
    # dot products a batch of one event adds in another order than the whole test sample: network_atol.
    atol = network_atol(
        torch.jit.load(str(next(Path("dataset/weights").glob("*_PyTorch.TrainedModel.pt")))),  # type: ignore[no-untyped-call]
        load_method(weights).transformations.transform_variables(X),
    )[:, 0]
    vectorised = reader.EvaluateMVA(X, "PyTorch")
    assert_within(vectorised, t["PyTorch"], atol)
    per_event = np.empty(len(X), np.float32)
    for i, row in enumerate(X):
        for (_, buf), value in zip(ref.items(), row, strict=True):
            buf[0] = value
        per_event[i] = reader.EvaluateMVA("PyTorch")
    assert_within(per_event, t["PyTorch"], atol)

    # ROOT's acceptance rule (testPyTorchClassification.C): first 100 signal / background test events
    sig_first = vectorised[is_signal][:100]
    bkg_first = vectorised[~is_signal][:100]
    assert sig_first.mean() >= 0.6
    assert bkg_first.mean() <= 0.4

    # results objects
    result = factory.GetResults(loader, "PyTorch")
    assert result.roc_integral == pytest.approx(factory.GetROCIntegral(loader, "PyTorch"))
    assert 0 <= result.eff_at_01 <= result.eff_at_10 <= result.eff_at_30 <= 1


@pytest.mark.slow
def test_keyword_options_and_output_file_untouched_on_error(
    workdir: Path, custom_objects: dict[str, Any]
) -> None:
    Path("TMVA.root").write_bytes(b"earlier good file")
    _save_model("model.pt")
    loader = _class_loader(500)
    factory = Factory("Job", "TMVA.root", Silent=True, DrawProgressBar=False, AnalysisType="Classification")
    factory.BookMethod(
        loader,
        TMVA.Types.kPyTorch,
        "PyTorch",
        H=False,
        V=False,
        VarTransform="N",
        FilenameModel="model.pt",
        NumEpochs=1,
        BatchSize=50,
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    custom_objects["predict_func"] = None  # irrelevant here: responses are computed already
    record = factory._methods["dataset"]["PyTorch"]
    record.test_values = record.test_values[:-1]  # break the TestTree on purpose
    with pytest.raises(DataError, match=r"333 entries, got shape \(334,\)"):
        factory.EvaluateAllMethods()
    assert Path("TMVA.root").read_bytes() == b"earlier good file"
    assert not [p for p in Path().iterdir() if p.name.startswith(".TMVA.root")]


def test_booking_rules(workdir: Path) -> None:
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    loader.AddSignalTree({"x": np.arange(20, dtype=np.float32)})
    loader.AddBackgroundTree({"x": -np.arange(20, dtype=np.float32)})
    factory = Factory("Job", options="Silent:!DrawProgressBar")
    assert factory.analysis_type is None
    factory.BookMethod(loader, TMVA.Types.kFisher, "Fisher")
    assert factory.analysis_type == TMVA.Types.kClassification
    with pytest.raises(OptionError, match="already exists"):
        factory.BookMethod(loader, "Fisher", "Fisher")
    with pytest.raises(OptionError, match=r"did you mean 'PyTorch'"):
        factory.BookMethod(loader, "PyTorhc", "X")
    with pytest.raises(OptionError, match="could not be interpreted"):
        factory.BookMethod(loader, "Fisher", "Fisher2", "NumEpochs=3")
    with pytest.raises(NotTrainedError, match="Fisher"):
        factory.GetROCIntegral(loader, "Fisher")
    with pytest.raises(KeyError, match="did you mean 'Fisher'"):
        factory.GetROCIntegral(loader, "Fishr")


def test_two_argument_form_and_auto_analysis_type(workdir: Path) -> None:
    f = Factory("Job", "!V:Silent:AnalysisType=Multiclass")
    assert f.output_path is None
    assert f.options.Silent
    assert f.analysis_type == TMVA.Types.kMulticlass

    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    loader.AddTree({"x": np.arange(20, dtype=np.float32)}, "A")
    loader.AddTree({"x": np.arange(20, dtype=np.float32)}, "B")
    g = Factory("Job", options="Silent")
    g.BookMethod(loader, "BDT", "BDT", "NTrees=5:BoostType=Grad")
    assert g.analysis_type == TMVA.Types.kMulticlass

    reg = TMVA.DataLoader("reg")
    reg.AddVariable("x")
    reg.AddTarget("y")
    reg.AddRegressionTree({"x": np.arange(20.0), "y": np.arange(20.0)})
    h = Factory("Job", options="Silent")
    with pytest.raises(OptionError, match="No analysis type for 1 classes and 1 regression targets"):
        h.BookMethod(reg, "BDT", "BDT")


def test_fisher_refuses_multiclass_with_a_warning(workdir: Path, caplog: pytest.LogCaptureFixture) -> None:
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    for c in ("A", "B", "C"):
        loader.AddTree({"x": np.arange(20, dtype=np.float32)}, c)
    f = Factory("Job", options="!Silent:!Color:AnalysisType=Multiclass")
    assert f.BookMethod(loader, "Fisher", "Fisher") is None
    assert "not capable of handling multiclass classification with 3 classes" in caplog.text


def test_one_class_classification_is_refused_at_booking(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    loader.AddSignalTree({"x": np.arange(20, dtype=np.float32)})
    f = Factory("Job", options="!Silent:!Color:AnalysisType=Classification")
    assert f.BookMethod(loader, "Fisher", "Fisher") is None
    assert "not capable of handling classification with 1 classes" in caplog.text
    assert not f.HasMethod(loader, "Fisher")
    f.TrainAllMethods()
    assert "nothing found to train" in caplog.text


@pytest.mark.slow
@pytest.mark.realdata
def test_real_zmumu_z_window_against_scikit_learn(
    workdir: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Z window (|M - 91.19| < 10 GeV) against the rest, from the muon four-momenta of CMS dimuon events.

    The PyTorch method is compared with scikit-learn's MLPClassifier of the same architecture,
    optimiser settings and number of epochs, trained on the same split (the DataSet's arrays with
    the same Normalize transform).  Tolerance 0.04: different initialisation and loss (BCE on the
    softmax vs log-loss on a logistic output) on 1152 test events, where the AUC's statistical
    uncertainty alone is about 0.006.
    """
    import warnings

    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import MinMaxScaler

    objs = {
        "optimizer": torch.optim.Adam,
        "criterion": torch.nn.BCELoss(),
        "train_func": pmt.train,
        "predict_func": pmt.predict,
    }
    monkeypatch.setitem(sys.modules["__main__"].__dict__, "load_model_custom_objects", objs)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 2),
        torch.nn.Softmax(dim=1),
    )
    torch.jit.save(torch.jit.script(model), "model.pt")
    tree = f"{shared_data / 'uproot-Zmumu.root'}:events"
    loader = TMVA.DataLoader("zmumu")
    for v in ("E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2"):
        loader.AddVariable(v)
    loader.AddSignalTree(tree)
    loader.AddBackgroundTree(tree)
    loader.PrepareTrainingAndTestTree(
        "abs(M-91.19)<10", "abs(M-91.19)>=10", "SplitMode=Random:NormMode=None:!V"
    )
    factory = Factory("Zmumu", options="Silent:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(
        loader,
        TMVA.Types.kPyTorch,
        "PyTorch",
        "VarTransform=N:FilenameModel=model.pt:NumEpochs=30:BatchSize=32:ValidationSize=10%",
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    ds = loader.GetDataSetInfo().GetDataSet()
    # the selection itself, checked against the M branch read independently
    m = uproot.open(tree).arrays(["M"], library="np")["M"]
    assert len(ds.train) + len(ds.test) == len(m)
    assert int(np.sum(ds.train.class_id == 0) + np.sum(ds.test.class_id == 0)) == int(
        np.sum(np.abs(m - 91.19) < 10)
    )
    auc = factory.GetROCIntegral(loader, "PyTorch")

    scaler = MinMaxScaler((-1, 1)).fit(ds.train.X)
    clf = MLPClassifier((64, 64), max_iter=30, batch_size=32, learning_rate_init=0.01, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after the fixed number of epochs
        clf.fit(scaler.transform(ds.train.X), ds.train.class_id == 0)
    y_test = ds.test.class_id == 0
    auc_sklearn = roc_auc_score(
        y_test, clf.predict_proba(scaler.transform(ds.test.X))[:, 1], sample_weight=ds.test.weights
    )
    assert auc > 0.9
    assert auc == pytest.approx(auc_sklearn, abs=0.04)


def test_correlations_tables_and_silent_still_prints_the_final_tables(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(5)
    sig = {f"x{i}": rng.normal(0.5, 1, 600).astype(np.float32) for i in range(3)}
    bkg = {f"x{i}": rng.normal(-0.5, 1, 600).astype(np.float32) for i in range(3)}
    loader = TMVA.DataLoader("dataset")
    for i in range(3):
        loader.AddVariable(f"x{i}")
    loader.AddSignalTree(sig)
    loader.AddBackgroundTree(bkg)
    loader.PrepareTrainingAndTestTree("", "SplitMode=Alternate:NormMode=None")
    factory = Factory("Job", options="Silent:!Color:Correlations:AnalysisType=Classification")
    factory.BookMethod(loader, "Fisher", "Fisher")
    factory.BookMethod(loader, "BDT", "BDT", "NTrees=20:MaxDepth=2")
    factory.TrainAllMethods()
    html = factory._repr_html_()
    assert "<td>Fisher</td>" in html
    assert "<td>trained</td>" in html
    factory.TestAllMethods()
    capsys.readouterr()
    factory.EvaluateAllMethods()
    assert f"<td>{factory.GetROCIntegral(loader, 'BDT'):.3f}</td>" in factory._repr_html_()
    out = capsys.readouterr().out
    assert "Evaluation results ranked by best signal efficiency and purity (area)" in out
    assert "Inter-MVA correlation matrix (signal)" in out
    assert "Inter-MVA overlap matrix" in out
    # nothing but the tables while Silent
    assert "Evaluate all methods" not in out
    # three independent unit Gaussians separated by 1 each: the optimal (Fisher) AUC is Phi(sqrt(3)/sqrt(2))
    from scipy.stats import norm

    res = factory.GetResults(loader, "Fisher")
    assert res.roc_integral == pytest.approx(norm.cdf(np.sqrt(3) / np.sqrt(2)), abs=0.03)


class _Terminal(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("options", "terminal", "expect_bar"),
    [
        ("!Silent:!Color:DrawProgressBar", True, True),
        ("!Silent:!Color:!DrawProgressBar", True, False),
        ("Silent:!Color:DrawProgressBar", True, False),
        # a log file, a pipe, a notebook: plain log lines, no bar and no carriage-return redraws
        ("!Silent:!Color:DrawProgressBar", False, False),
    ],
)
def test_progress_bar_only_when_asked_and_on_a_terminal(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: str,
    terminal: bool,
    expect_bar: bool,
) -> None:
    rng = np.random.default_rng(3)
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    loader.AddSignalTree({"x": rng.normal(1, 1, 200).astype(np.float32)})
    loader.AddBackgroundTree({"x": rng.normal(-1, 1, 200).astype(np.float32)})
    err = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    factory = Factory("Job", options=options + ":AnalysisType=Classification")
    factory.BookMethod(loader, "Fisher", "Fisher")
    factory.TrainAllMethods()
    out = capsys.readouterr().out
    assert ("Train method: Fisher for Classification" in out) is ("!Silent" in options)
    assert ("Training dataset" in err.getvalue()) is expect_bar
    assert ("method/s" in err.getvalue()) is expect_bar
    if not expect_bar:
        assert "\r" not in err.getvalue() + out
