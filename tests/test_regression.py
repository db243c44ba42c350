# TMVA's printf formats are kept verbatim in the expected table rows.
# ruff: noqa: UP031
"""Regression end to end: Factory, output file, weights file and Reader (core.md §2.5, §4.2, §5.6, §6).

Expectations come from outside the code under test: ROOT's acceptance rule of
``testPyTorchRegression.C`` (pytorch.md §7.6), bias, RMS and mutual information recomputed here with
numpy from the TestTree/TrainTree read back with uproot, a scikit-learn regressor trained on the same
split, the Reader reproducing the TestTree, and the normalisation of the targets recomputed from the
TrainTree.  The real-data test regresses the dimuon mass of CMS events written by ROOT.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch
import uproot
from numpy.lib.recfunctions import structured_to_unstructured
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

import pymva.pytorch as pmt
from pymva import TMVA, OptionError, TCut
from pymva.factory import Factory
from pymva.io.weights import load_method
from pymva.toydata import create_regression_example
from pymva.types import EMVA
from tolerances import EPS32, assert_within, network_atol

F64 = npt.NDArray[np.float64]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def custom_objects(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``load_model_custom_objects`` in ``__main__``: Adam and MSE through pymva's ready-made loop."""
    objs = {
        "optimizer": torch.optim.Adam,
        "criterion": torch.nn.MSELoss(),
        "train_func": functools.partial(pmt.train, lr=0.1, log_every=None),
        "predict_func": pmt.predict,
    }
    monkeypatch.setitem(sys.modules["__main__"].__dict__, "load_model_custom_objects", objs)
    return objs


def _save_model(path: str, n_in: int, n_out: int, hidden: int = 64, layers: int = 1) -> None:
    torch.manual_seed(0)
    mods: list[torch.nn.Module] = [torch.nn.Linear(n_in, hidden), torch.nn.Tanh()]
    for _ in range(layers - 1):
        mods += [torch.nn.Linear(hidden, hidden), torch.nn.Tanh()]
    mods.append(torch.nn.Linear(hidden, n_out))
    torch.jit.save(torch.jit.script(torch.nn.Sequential(*mods)), path)


def _reg_loader(targets: tuple[str, ...] = ("fvalue",), n_events: int = 1500, weight: str = "") -> Any:
    create_regression_example("tmva_reg_example.root", n_events=n_events)
    tree = uproot.open("tmva_reg_example.root")["TreeR"]
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("var1")
    loader.AddVariable("var2")
    for t in targets:
        loader.AddTarget(t)
    loader.AddRegressionTree(tree, 1.0)
    if weight:
        loader.SetWeightExpression(weight, "Regression")  # as TMVARegression.C does
    loader.PrepareTrainingAndTestTree(
        TCut(""), f"nTrain_Regression={n_events * 2 // 3}:SplitMode=Random:NormMode=NumEvents:!V"
    )
    return loader


# ---------------------------------------------------------------------------------------------- by hand
def _stats_by_hand(r: F64, t: F64, w: F64) -> dict[str, float]:
    """TestRegression (core.md §5.6), written independently with numpy's weighted averages."""
    d = r - t
    bias = float(np.average(d, weights=w))
    dev = float(np.average(np.abs(d), weights=w))
    rms = float(np.sqrt(np.average((d - bias) ** 2, weights=w)))
    keep = np.abs(d - bias) <= 2 * rms
    bias_t = float(np.average(d[keep], weights=w[keep]))
    rms_t = float(np.sqrt(np.average((d[keep] - bias_t) ** 2, weights=w[keep])))
    lo, hi = float(min(r.min(), t.min())), float(max(r.max(), t.max()))
    return {
        "bias": bias,
        "dev": dev,
        "rms": rms,
        "bias_t": bias_t,
        "rms_t": rms_t,
        "mutual_info": _mutual_information_by_hand(r, t, w, lo, hi),
        "mutual_info_t": _mutual_information_by_hand(r[keep], t[keep], w[keep], lo, hi),
    }


def _mutual_information_by_hand(r: F64, t: F64, w: F64, lo: float, hi: float) -> float:
    """150×100 weighted histogram on [lo, hi) (ROOT: the top edge is overflow), rebinned 2×2."""
    inside = (r < hi) & (t < hi)
    h, _, _ = np.histogram2d(
        r[inside], t[inside], bins=(150, 100), range=((lo, hi), (lo, hi)), weights=w[inside]
    )
    h = h.reshape(75, 2, 50, 2).sum(axis=(1, 3))
    p = h / h.sum()
    px = p.sum(axis=1, keepdims=True)
    py = p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / (px * py)[nz])))


def _hgb_rms(train: dict[str, Any], test: dict[str, Any], variables: list[str], target: str) -> float:
    """RMS of the deviation of scikit-learn's HistGradientBoostingRegressor on the TestTree."""
    X_train = np.column_stack([train[v] for v in variables])
    X_test = np.column_stack([test[v] for v in variables])
    with threadpool_limits(1):  # OpenMP beside torch's threads on two cores is slow, not better
        model = HistGradientBoostingRegressor(random_state=0).fit(X_train, train[target])
        d = model.predict(X_test) - test[target]
    return float(np.std(d))


def _assert_stats(result_stats: Any, expected: dict[str, float]) -> None:
    # float64 sums over n = 500 events, in another order and form (E[d²] - bias² against E[(d - bias)²]):
    # they agree to n·eps64·E[d²]/rms² ≲ 1e-10 here; rel=1e-6 is far above that, and what it still
    # guards against is an event exactly on the 2·rms cut or a bin edge (a chance ~1e-13 per event)
    for key, value in expected.items():
        assert getattr(result_stats, key) == pytest.approx(value, rel=1e-6, abs=1e-9), key


# ---------------------------------------------------------------------------------------------- tests
@pytest.mark.slow
def test_regression_job_end_to_end(
    workdir: Path, custom_objects: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _save_model("model.pt", 2, 1)
    loader = _reg_loader()
    factory = Factory(
        "TMVARegression",
        "TMVAReg.root",
        "!V:Silent:!Color:!DrawProgressBar:Transformations=I:AnalysisType=Regression",
    )
    factory.BookMethod(
        loader,
        EMVA.kPyTorch,
        "PyTorch",
        "!H:!V:VarTransform=D,G:FilenameModel=model.pt:NumEpochs=10:BatchSize=32",
    )
    factory.BookMethod(loader, "BDT", "BDTG", "!H:!V:NTrees=60:BoostType=Grad:Shrinkage=0.3:MaxDepth=3")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    printed = capsys.readouterr().out

    f = uproot.open("TMVAReg.root")
    test_tree, train_tree = f["dataset/TestTree"], f["dataset/TrainTree"]
    assert list(test_tree.keys()) == [
        "classID",
        "className",
        "var1",
        "var2",
        "fvalue",
        "weight",
        "BDTG",
        "PyTorch",
    ]
    assert test_tree.num_entries == 500
    assert train_tree.num_entries == 1000
    test = test_tree.arrays(library="np")
    train = train_tree.arrays(library="np")
    assert set(test["classID"]) == {0}
    assert set(test["className"]) == {"Regression"}
    np.testing.assert_allclose(train["weight"], 1.0)  # NormMode=NumEvents, one class, no weights

    # bias, RMS, mutual information by hand on both samples, against the Factory's RegressionResult
    hand: dict[str, dict[str, dict[str, float]]] = {}
    for title in ("PyTorch", "BDTG"):
        result = factory.GetResults(loader, title)
        hand[title] = {}
        for sample, tree_arrays, stats in (("test", test, result.test), ("train", train, result.train)):
            r = tree_arrays[title].astype(np.float64)
            t = tree_arrays["fvalue"].astype(np.float64)
            expected = _stats_by_hand(r, t, tree_arrays["weight"].astype(np.float64))
            _assert_stats(stats, expected)
            hand[title][sample] = expected
    pt = hand["PyTorch"]["test"]
    # a useful regression: fvalue spreads by ~50 around its mean, the noise is 2
    assert float(np.std(test["fvalue"])) > 40
    assert pt["rms"] < 6.0
    assert abs(pt["bias"]) < 2.0
    assert pt["rms_t"] < pt["rms"]
    assert pt["mutual_info"] > 1.5

    # the printed table: TMVA's row format, ranked by the test-sample mean |deviation|
    rows = [ln for ln in printed.splitlines() if re.match(r"^ {25}: dataset {14}(PyTorch|BDTG) ", ln)]
    assert len(rows) == 4  # test table and training table
    ranked = sorted(("PyTorch", "BDTG"), key=lambda t: hand[t]["test"]["dev"])
    assert [ln.split()[2] for ln in rows[:2]] == ranked
    e = hand["PyTorch"]["test"]
    row = "%-20s %-15s:%#9.3g%#9.3g%#9.3g%#9.3g  |  %#5.3f  %#5.3f" % (
        "dataset",
        "PyTorch",
        e["bias"],
        e["bias_t"],
        e["rms"],
        e["rms_t"],
        e["mutual_info"],
        e["mutual_info_t"],
    )
    assert " " * 25 + ": " + row in rows

    # close to scikit-learn on the same split: HistGradientBoosting is not beaten by a 64-unit network
    # trained for 10 epochs on 1000 events, but the two must be of the same quality (both are limited by
    # the noise, σ = 2, and the sample size); a broken split, target or inverse transform gives RMS ~ 50
    sk_rms = _hgb_rms(train, test, ["var1", "var2"], "fvalue")
    assert sk_rms < 5.0
    assert pt["rms"] < 1.5 * sk_rms

    # histograms of §5.6 in the method directory
    d = "dataset/Method_PyTorch/PyTorch/"
    counts, _ = f[d + "MVA_PyTorchtest_Quadr_Deviation_target_0_"].to_numpy()
    # every bin is a float64 sum of weights rounded once to float32: the float64 totals agree to eps32
    assert counts.astype(np.float64).sum() == pytest.approx(
        test["weight"].astype(np.float64).sum(), rel=EPS32
    )
    counts2d, _, _ = f[d + "MVA_PyTorchtest_reg_tgt0_rtgt0"].to_numpy()
    assert counts2d.sum() == 500
    # ResultsRegression::DeviationAsAFunctionOf: x axis from the training range (VariableInfo) and the
    # sample's own, widened by 1.01 bin widths of 1/49 of the range on both sides
    for i, v in enumerate(("var1", "var2")):
        _, x_edges, _ = f[d + f"MVA_PyTorchtest_reg_var{i}_rtgt0"].to_numpy()
        lo = min(float(train[v].min()), float(test[v].min()))
        hi = max(float(train[v].max()), float(test[v].max()))
        eps = (hi - lo) / 49
        # computed in float64 from the same float32 extremes; at most one rounding to float32 on the way
        assert (x_edges[0], x_edges[-1]) == pytest.approx((lo - 1.01 * eps, hi + 1.01 * eps), rel=EPS32)
    for name in (
        "MVA_PyTorchtest_reg_var0_rtgt0",
        "MVA_PyTorchtrain_reg_var1_rtgt0",
        "MVA_PyTorchtrain_Quadr_Dev_best90perc_target_0_",
    ):
        assert d + name in f
    assert "dataset/CorrelationMatrix" in f

    # the weights file and the Reader
    weights = Path("dataset/weights/TMVARegression_PyTorch.weights.xml")
    text = weights.read_text()
    assert '<Info name="AnalysisType" value="Regression"/>' in text
    assert '<Targets NTrgt="1">' in text
    bufs = {v: np.zeros(1, np.float32) for v in ("var1", "var2")}
    reader = TMVA.Reader("!Color:Silent")
    for v, buf in bufs.items():
        reader.AddVariable(v, buf)
    reader.BookMVA("PyTorch", str(weights))
    X = np.column_stack([test["var1"], test["var2"]]).astype(np.float32)
    regression = reader.EvaluateRegression(X, "PyTorch")
    assert regression.shape == (500, 1)
    # D,G on the variables only (rounded from float64 once): the Reader and the Factory differ only in
    # the order the network's dot products are added for another batch shape (tests/tolerances.py)
    atol = network_atol(
        torch.jit.load(str(next(Path("dataset/weights").glob("*_PyTorch.TrainedModel.pt")))),  # type: ignore[no-untyped-call]
        load_method(weights).transformations.transform_variables(X),
    )[:, 0]
    assert_within(regression[:, 0], test["PyTorch"], atol)

    # ROOT's acceptance rule (testPyTorchRegression.C): mean (fvalue - EvaluateMVA)^2 over 100 events <= 30,
    # event by event through the bound buffers
    mva = np.empty(100)
    per_event = np.empty(100)
    for i in range(100):
        bufs["var1"][0], bufs["var2"][0] = X[i]
        mva[i] = reader.EvaluateMVA("PyTorch")
        per_event[i] = reader.EvaluateRegression("PyTorch")[0]
        assert reader.EvaluateRegression(0, "PyTorch") == per_event[i]
    assert float(np.mean((test["fvalue"][:100] - mva) ** 2)) <= 30.0
    # D,G transform the variables only: the raw first output is the target itself
    assert_within(mva, per_event, atol[:100])
    assert_within(per_event, test["PyTorch"][:100], atol[:100])

    with pytest.raises(OptionError, match="kClassification"):
        factory.GetROCIntegral(loader, "PyTorch")


@pytest.mark.slow
def test_two_targets_through_the_inverse_normalisation(workdir: Path, custom_objects: dict[str, Any]) -> None:
    """VarTransform=N normalises the targets too: the network learns [-1, 1] targets, the Factory and
    EvaluateRegression see them in their own units, EvaluateMVA returns the raw first output."""
    custom_objects["train_func"] = functools.partial(pmt.train, lr=0.02, log_every=None)
    _save_model("model.pt", 2, 2)
    loader = _reg_loader(targets=("fvalue", "2*var1-var2"), weight="0.5+var1")
    factory = Factory("Reg2", "Reg2.root", "!V:Silent:!DrawProgressBar:AnalysisType=Regression")
    factory.BookMethod(
        loader, "PyTorch", "PyTorch", "!H:!V:VarTransform=N:FilenameModel=model.pt:NumEpochs=20:BatchSize=32"
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()

    test_tree = uproot.open("Reg2.root")["dataset/TestTree"]
    names = list(test_tree.keys())
    assert names[:4] == ["classID", "className", "var1", "var2"]
    target_branches = names[4:6]
    assert target_branches == ["fvalue", "2_T_var1_M_var2"]  # internal names of the target expressions
    assert names[6:] == ["weight", "PyTorch"]
    test = test_tree.arrays(library="np")
    train = uproot.open("Reg2.root")["dataset/TrainTree"].arrays(library="np")
    second = 2 * test["var1"].astype(np.float64) - test["var2"]
    # the expression in float32 (two roundings) or float64 and rounded once: ≤ 2·eps32·(2|var1| + |var2|)
    var1, var2 = test["var1"].astype(np.float64), test["var2"].astype(np.float64)
    assert_within(test[target_branches[1]], second, 2 * EPS32 * (2 * np.abs(var1) + np.abs(var2)))
    # DataSet::GetTree: one branch with a leaf per target, named as the target
    assert test["PyTorch"].dtype.names == tuple(target_branches)
    assert test_tree["PyTorch"].title == ":".join(f"{t}/F" for t in target_branches)
    out = structured_to_unstructured(test["PyTorch"])
    assert out.shape == (500, 2)
    # test weights: not renormalised; 0.5+var1 rounded at most twice to float32
    assert_within(test["weight"], 0.5 + var1, 2 * EPS32 * (0.5 + np.abs(var1)))
    # NormMode=NumEvents on the training sample: each weight the float64 w·N/Σw rounded once
    assert train["weight"].astype(np.float64).sum() == pytest.approx(1000, rel=EPS32)

    # TestRegression evaluates the first target only
    result = factory.GetResults(loader, "PyTorch")
    expected = _stats_by_hand(
        out[:, 0].astype(np.float64), test["fvalue"].astype(np.float64), test["weight"].astype(np.float64)
    )
    _assert_stats(result.test, expected)
    assert expected["rms"] < 10.0  # in fvalue's units: the inverse transform was applied
    rms_second = float(np.std(out[:, 1] - second))
    assert rms_second < 0.1 * float(np.std(second))
    assert "dataset/Method_PyTorch/PyTorch/MVA_PyTorchtest_reg_tgt1_rtgt1" in uproot.open("Reg2.root")

    reader = TMVA.Reader("!Color:Silent")
    reader.AddVariable("var1", np.zeros(1, np.float32))
    reader.AddVariable("var2", np.zeros(1, np.float32))
    reader.BookMVA("PyTorch", "dataset/weights/Reg2_PyTorch.weights.xml")
    X = np.column_stack([test["var1"], test["var2"]]).astype(np.float32)
    regression = reader.EvaluateRegression(X, "PyTorch")
    # the network's outputs differ by network_atol (summation order for another batch shape); the
    # inverse normalisation scales them by (max - min)/2 of each target's training range, in float64,
    # and rounds once to float32
    net_atol = network_atol(
        torch.jit.load(str(next(Path("dataset/weights").glob("*_PyTorch.TrainedModel.pt")))),  # type: ignore[no-untyped-call]
        load_method("dataset/weights/Reg2_PyTorch.weights.xml").transformations.transform_variables(X),
    )
    ranges = np.array([np.ptp(train[b].astype(np.float64)) for b in target_branches])
    atol = net_atol * ranges / 2 + EPS32 * np.abs(out)
    assert_within(regression, out, atol)
    assert_within(reader.EvaluateRegression(X[0], "PyTorch"), out[0], atol[0])
    # EvaluateMVA: the raw network output, i.e. fvalue normalised with the training range (Normalize, §4.3);
    # out carries one float32 rounding (eps32·|out|), which the normalisation scales by 2/(max - min)
    lo, hi = float(train["fvalue"].min()), float(train["fvalue"].max())
    raw = reader.EvaluateMVA(X, "PyTorch")
    back = 2 * (out[:, 0].astype(np.float64) - lo) / (hi - lo) - 1
    assert_within(raw, back, net_atol[:, 0] + 2 * EPS32 * np.abs(out[:, 0]) / (hi - lo) + EPS32)
    assert float(np.max(np.abs(raw))) < 1.5


@pytest.mark.slow
@pytest.mark.realdata
def test_dimuon_mass_from_the_muon_momenta(
    shared_data: Path, workdir: Path, custom_objects: dict[str, Any]
) -> None:
    """Regress the dimuon mass M of CMS 2010 events (a ROOT file) from the two muons' four-momenta."""
    custom_objects["train_func"] = functools.partial(pmt.train, lr=0.003, log_every=None)
    variables = ["E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2"]
    _save_model("model.pt", len(variables), 1, hidden=64, layers=2)
    tree = uproot.open(shared_data / "uproot-Zmumu.root")["events"]
    loader = TMVA.DataLoader("dataset")
    for v in variables:
        loader.AddVariable(v)
    loader.AddTarget("M")
    loader.AddRegressionTree(tree)
    loader.PrepareTrainingAndTestTree(
        TCut(""), "nTrain_Regression=1500:SplitMode=Random:SplitSeed=1:NormMode=NumEvents:!V"
    )
    factory = Factory("Zmumu", "Zmumu.root", "!V:Silent:!DrawProgressBar:AnalysisType=Regression")
    factory.BookMethod(
        loader, "PyTorch", "PyTorch", "!H:!V:VarTransform=N:FilenameModel=model.pt:NumEpochs=200:BatchSize=32"
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()

    f = uproot.open("Zmumu.root")
    test = f["dataset/TestTree"].arrays(library="np")
    train = f["dataset/TrainTree"].arrays(library="np")
    assert len(test["M"]) == 2304 - 1500
    # the TestTree holds the file's values (as float32), event for event
    source = tree.arrays([*variables, "M"], library="np")
    as_f32 = {v: source[v].astype(np.float32) for v in ("E1", "pz2", "M")}
    key = set(zip(as_f32["E1"].tolist(), as_f32["pz2"].tolist(), as_f32["M"].tolist(), strict=True))
    assert set(zip(test["E1"].tolist(), test["pz2"].tolist(), test["M"].tolist(), strict=True)) <= key

    result = factory.GetResults(loader, "PyTorch")
    m_true = test["M"].astype(np.float64)
    expected = _stats_by_hand(test["PyTorch"].astype(np.float64), m_true, test["weight"].astype(np.float64))
    _assert_stats(result.test, expected)
    spread = float(np.std(m_true))  # ~22 GeV: the Z peak plus the Drell-Yan continuum
    assert expected["rms"] < 0.35 * spread
    assert abs(expected["bias"]) < 0.1 * spread
    # comparable to scikit-learn's gradient boosting on the same split (≈ 5.6 GeV here); the factor allows
    # for a small network and a fixed number of epochs, it fails for a network that learnt the mean only
    sk_rms = _hgb_rms(train, test, variables, "M")
    assert sk_rms < 0.35 * spread
    assert expected["rms"] < 1.5 * sk_rms
