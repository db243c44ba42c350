"""Category (``Types.kCategory``): sub-methods per category of events, against Fisher discriminants
computed by hand on each category's training events; TMVA's routing of events; the weights file in
TMVA's layout and its round trip through the Reader."""

from __future__ import annotations

import dataclasses
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from pymva import TMVA
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, NotTrainedError, OptionError
from pymva.methods.base import MethodContext
from pymva.methods.category import MethodCategory
from pymva.methods.fisher import MethodFisher
from pymva.types import EAnalysisType

VARS = ("var1", "var2", "var3")
JOB = "TMVACategory"


def _trees(n: int = 600, seed: int = 7) -> dict[str, dict[str, np.ndarray]]:
    """Signal and background whose means move with |eta| (as ROOT's category toy data)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, mean in (("S", np.array([0.4, 0.2, 0.6])), ("B", np.array([-0.3, -0.2, -0.4]))):
        eta = rng.uniform(-2.5, 2.5, n)
        outer = np.abs(eta) > 1.3
        x = rng.normal(size=(n, 3)) @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.4], [0.0, 0.0, 1.0]])
        x = x + mean + np.where(outer, 0.9, -0.9)[:, None] * np.array([1.0, -1.0, 0.5])
        tree = {v: x[:, i].astype(np.float32) for i, v in enumerate(VARS)}
        tree["eta"] = eta.astype(np.float32)
        out[name] = tree
    return out


def _hand_fisher(X: np.ndarray, sig: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """TMVA's Fisher discriminant from its definition (MethodFisher): means, within-class matrix,
    coefficients ``sqrt(W_S W_B)/(W_S+W_B) W⁻¹ (m_S - m_B)`` and offset ``-F·(m_S+m_B)/2``."""
    X = X.astype(np.float64)
    w = w.astype(np.float64)
    ws, wb = w[sig].sum(), w[~sig].sum()
    ms = np.average(X[sig], axis=0, weights=w[sig])
    mb = np.average(X[~sig], axis=0, weights=w[~sig])
    within = np.cov(X[sig].T, aweights=w[sig], bias=True) + np.cov(X[~sig].T, aweights=w[~sig], bias=True)
    F = np.sqrt(ws * wb) / (ws + wb) * np.linalg.solve(within, ms - mb)
    return F, float(-F @ (ms + mb) / 2)


def _job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cat2_vars: str = "var1:var2") -> tuple:
    monkeypatch.chdir(tmp_path)
    trees = _trees()
    factory = TMVA.Factory(JOB, None, "Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in VARS:
        loader.AddVariable(v, "F")
    loader.AddSpectator("eta")
    loader.AddSignalTree(trees["S"], 1.0)
    loader.AddBackgroundTree(trees["B"], 1.0)
    loader.PrepareTrainingAndTestTree(TMVA.TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    cat = factory.BookMethod(loader, TMVA.Types.kCategory, "FisherCat", "")
    assert isinstance(cat, MethodCategory)
    sub1 = cat.AddMethod(
        TMVA.TCut("abs(eta)<=1.3"), "var1:var2:var3", TMVA.Types.kFisher, "Cat_Fisher_1", "!H:Fisher"
    )
    sub2 = cat.AddMethod("abs(eta)>1.3", cat2_vars, TMVA.Types.kFisher, "Cat_Fisher_2", "!H:Fisher")
    assert isinstance(sub1, MethodFisher)
    assert isinstance(sub2, MethodFisher)
    assert [v.label for v in sub2.context.variables] == cat2_vars.split(":")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    return factory, loader


@pytest.mark.parametrize("cat2_vars", ["var1:var2", "var3:eta"])
def test_category_response_is_a_fisher_per_category(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cat2_vars: str
) -> None:
    factory, loader = _job(tmp_path, monkeypatch, cat2_vars)
    ds = loader.GetDataSetInfo().GetDataSet()
    columns = [*list(VARS), "eta"]
    pick = [columns.index(v) for v in cat2_vars.split(":")]
    train_full = np.hstack([ds.train.X, ds.train.spectators])
    test_full = np.hstack([ds.test.X, ds.test.spectators])
    sig_train = ds.train.class_id == ds.signal_class
    inner_train = np.abs(ds.train.spectators[:, 0]) <= np.float32(1.3)
    F1, F01 = _hand_fisher(
        train_full[inner_train][:, :3], sig_train[inner_train], ds.train.weights[inner_train]
    )
    F2, F02 = _hand_fisher(
        train_full[~inner_train][:, pick], sig_train[~inner_train], ds.train.weights[~inner_train]
    )
    inner = np.abs(ds.test.spectators[:, 0]) <= np.float32(1.3)
    assert 50 < inner.sum() < len(inner) - 50  # both categories hold test events
    expected = np.where(inner, F01 + test_full[:, :3] @ F1, F02 + test_full[:, pick] @ F2)
    got = factory.get_responses(loader, "FisherCat")
    # the response is float32: |value| < 10 gives an absolute rounding error below 1e-6
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)
    # the response is not that of one Fisher over both categories
    F, F0 = _hand_fisher(ds.train.X, sig_train, ds.train.weights)
    assert np.abs(got - (F0 + ds.test.X @ F)).max() > 0.1


def test_weights_file_layout_and_reader_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    factory, loader = _job(tmp_path, monkeypatch)
    path = tmp_path / "dataset" / "weights" / f"{JOB}_FisherCat.weights.xml"
    root = ET.parse(path).getroot()
    assert root.get("Method") == "Category::FisherCat"
    weights = root.find("Weights")
    assert weights is not None
    assert weights.get("NSubMethods") == "2"
    subs = weights.findall("SubMethod")
    assert [(s.get("Index"), s.get("Method"), s.get("Cut"), s.get("Variables")) for s in subs] == [
        ("0", "Fisher::Cat_Fisher_1", "abs(eta)<=1.3", "var1:var2:var3"),
        ("1", "Fisher::Cat_Fisher_2", "abs(eta)>1.3", "var1:var2"),
    ]
    # each sub-method's whole state, as in a weights file of its own (TMVA WriteStateToXML)
    assert [c.tag for c in subs[1]] == [
        "GeneralInfo", "Options", "Variables", "Spectators", "Classes", "Transformations", "MVAPdfs", "Weights"
    ]  # fmt: skip
    assert subs[1].find("Variables").get("NVar") == "2"  # type: ignore[union-attr]
    assert subs[1].find("Weights").get("NCoeff") == "3"  # type: ignore[union-attr]

    ds = loader.GetDataSetInfo().GetDataSet()
    reader = TMVA.Reader("!Color:Silent")
    buffers = {name: np.zeros(1, np.float32) for name in (*VARS, "eta")}
    for v in VARS:
        reader.AddVariable(v, buffers[v])
    reader.AddSpectator("eta", buffers["eta"])
    reader.BookMVA("FisherCat", str(path))
    X = np.hstack([ds.test.X, ds.test.spectators])
    expected = factory.get_responses(loader, "FisherCat")
    np.testing.assert_array_equal(np.asarray(reader.EvaluateMVA(X, "FisherCat")), expected)
    for i in range(0, len(X), 97):  # the per-event path through the bound buffers
        for j, name in enumerate((*VARS, "eta")):
            buffers[name][0] = X[i, j]
        assert reader.EvaluateMVA("FisherCat") == pytest.approx(float(expected[i]), abs=1e-6)


def _context(tmp_path: Path) -> MethodContext:
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kClassification,
        variables=tuple(VariableInfo(v, v, v) for v in ("x", "y")),
        spectators=(VariableInfo("eta", "eta", "eta", kind="spectator"),),
        class_names=("Signal", "Background"),
        weight_dir=tmp_path,
    )


def _sample(n: int = 200, seed: int = 3) -> Sample:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    cid = (np.arange(n) % 2).astype(np.int32)
    X[cid == 0] += 1.0
    return Sample(
        X=X,
        targets=np.zeros((n, 0), np.float32),
        spectators=np.linspace(-2, 2, n, dtype=np.float32)[:, None],
        weights=np.ones(n, np.float32),
        class_id=cid,
    )


def test_events_in_no_category_score_zero_and_overlaps_are_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cat = MethodCategory("Cat", _context(tmp_path))
    cat.AddMethod("eta < 0", "x:y", "Fisher", "low")
    cat.AddMethod("eta > 0.5", "x", "Fisher", "high")
    cat.train(_sample())
    events = np.array([[1.0, 2.0, -1.0], [1.0, 2.0, 0.25], [1.0, 2.0, 1.0]], np.float32)
    low, high = cat.sub_methods
    assert cat.category_of(events).tolist() == [0, -1, 1]
    with caplog.at_level(logging.WARNING, logger="pymva"):
        values = cat.mva_value(events)
    assert "Event does not lie within the cut of any sub-classifier." in caplog.text
    assert values[1] == 0.0
    assert values[0] == low.mva_value(events[:1, :2])[0]
    assert values[2] == high.mva_value(events[2:, :1])[0]

    overlapping = MethodCategory("Over", _context(tmp_path))
    overlapping.AddMethod("eta < 0.5", "", "Fisher", "a")  # "": all the variables
    overlapping.AddMethod("eta > -0.5", "", "Fisher", "b")
    overlapping.train(_sample())
    assert overlapping.mva_value(events[[0, 2]]).shape == (2,)  # disjoint events are fine
    with pytest.raises(ModelError, match="not disjoint"):
        overlapping.mva_value(events)


def test_booking_errors(tmp_path: Path) -> None:
    cat = MethodCategory("Cat", _context(tmp_path))
    with pytest.raises(NotTrainedError):
        cat.mva_value(np.zeros((1, 3), np.float32))
    with pytest.raises(OptionError, match="The variable z was not found"):
        cat.AddMethod("eta < 0", "x:z", "Fisher", "a")
    with pytest.raises(OptionError, match="neither a variable nor a spectator"):
        cat.AddMethod("phi < 0", "x", "Fisher", "a")
    with pytest.raises(OptionError, match="not a valid TTreeFormula"):
        cat.AddMethod("eta <", "x", "Fisher", "a")
    with pytest.raises(OptionError, match="unknown method"):
        cat.AddMethod("eta < 0", "x", "NoSuchMethod", "a")
    with pytest.raises(OptionError, match="VarTransform"):
        MethodCategory("Cat", _context(tmp_path), "VarTransform=D").setup()
    cat.AddMethod("eta < -1.95", "x", "Fisher", "tiny")  # 3 training events
    with pytest.raises(ModelError, match="less entries"):
        cat.train(_sample())


def test_regression_category_of_least_squares_fits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LD per category for regression: each is the weighted least-squares fit on its category's events."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(11)
    n = 800
    x1, x2, s = rng.normal(size=n), rng.normal(size=n), rng.uniform(-1, 1, n)
    y = np.where(s < 0, 2 + 3 * x1 - x2, -1 + 0.5 * x1 + 2 * x2) + rng.normal(0, 0.1, n)
    w = rng.uniform(0.5, 1.5, n)
    tree = {k: v.astype(np.float32) for k, v in {"x1": x1, "x2": x2, "s": s, "y": y, "w": w}.items()}
    factory = TMVA.Factory("TMVARegCat", None, "Silent:!DrawProgressBar:AnalysisType=Regression")
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x1")
    loader.AddVariable("x2")
    loader.AddSpectator("s")
    loader.AddTarget("y")
    loader.AddRegressionTree(tree, 1.0)
    loader.SetWeightExpression("w", "Regression")
    loader.PrepareTrainingAndTestTree(TMVA.TCut(""), "nTrain_Regression=500:SplitMode=Random:!V")
    cat = factory.BookMethod(loader, TMVA.Types.kCategory, "LDCat", "")
    cat.AddMethod("s<0", "x1:x2", TMVA.Types.kLD, "LD_neg", "!H:VarTransform=None")
    cat.AddMethod("s>=0", "x1:x2", TMVA.Types.kLD, "LD_pos", "!H:VarTransform=None")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    ds = loader.GetDataSetInfo().GetDataSet()
    neg_train = ds.train.spectators[:, 0] < 0
    expected = np.zeros(len(ds.test))
    neg_test = ds.test.spectators[:, 0] < 0
    for train_mask, test_mask in ((neg_train, neg_test), (~neg_train, ~neg_test)):
        A = np.column_stack([np.ones(train_mask.sum()), ds.train.X[train_mask]]).astype(np.float64)
        sw = np.sqrt(ds.train.weights[train_mask].astype(np.float64))
        coef = np.linalg.lstsq(A * sw[:, None], ds.train.targets[train_mask, 0] * sw, rcond=None)[0]
        expected[test_mask] = coef[0] + ds.test.X[test_mask].astype(np.float64) @ coef[1:]
    got = factory.get_responses(loader, "LDCat")
    assert got.shape == (len(ds.test), 1)
    # float32 responses of size ~10: rounding below 1e-5; the two solvers agree far closer
    np.testing.assert_allclose(got[:, 0], expected, rtol=0, atol=1e-5)

    reader = TMVA.Reader("!Color:Silent")
    reader.AddVariable("x1", np.zeros(1, np.float32))
    reader.AddVariable("x2", np.zeros(1, np.float32))
    reader.AddSpectator("s", np.zeros(1, np.float32))
    reader.BookMVA("LDCat", "dataset/weights/TMVARegCat_LDCat.weights.xml")
    X = np.hstack([ds.test.X, ds.test.spectators])
    np.testing.assert_array_equal(np.asarray(reader.EvaluateRegression(X, "LDCat")).reshape(-1), got[:, 0])


def test_cut_on_variables_without_spectators_round_trips_through_xml_text(tmp_path: Path) -> None:
    from pymva.io.weights import build_weights_xml, weights_xml_bytes

    ctx = dataclasses.replace(_context(tmp_path), spectators=())
    cat = MethodCategory("Cat", ctx)
    cat.AddMethod("x>0", "x:y", "Fisher", "right", "VarTransform=D")
    cat.AddMethod("x<=0", "y", "Fisher", "left")
    sample = _sample()
    cat.train(sample.replace(spectators=np.zeros((len(sample), 0), np.float32)))
    assert not cat.uses_spectators
    X = sample.X
    values = cat.mva_value(X)
    right, left = cat.sub_methods
    pos = X[:, 0] > 0
    np.testing.assert_array_equal(values[pos], right.mva_value(X[pos]))
    np.testing.assert_array_equal(values[~pos], left.mva_value(X[~pos, 1:]))
    xml = weights_xml_bytes(build_weights_xml(cat))
    reader = TMVA.Reader("!Color:Silent")
    reader.AddVariable("x", np.zeros(1, np.float32))
    reader.AddVariable("y", np.zeros(1, np.float32))
    booked = reader.BookMVA(TMVA.Types.kCategory, xml)
    assert isinstance(booked, MethodCategory)
    assert [m.method_name for m in booked.sub_methods] == ["Fisher::right", "Fisher::left"]
    np.testing.assert_array_equal(np.asarray(booked.mva_value(X)), values)
    # a <SubMethod> whose state selects other variables than its Variables attribute is refused
    broken = xml.replace(b'Variables="y"', b'Variables="x"')
    other = TMVA.Reader("!Color:Silent")
    other.AddVariable("x", np.zeros(1, np.float32))
    other.AddVariable("y", np.zeros(1, np.float32))
    with pytest.raises(ModelError, match="selects"):
        other.BookMVA(TMVA.Types.kCategory, broken)
