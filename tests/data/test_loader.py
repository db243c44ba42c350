"""DataLoader: variables, trees, cuts, weights, event-wise input and the built DataSet.

Expected values are computed independently with numpy/awkward on the arrays that were written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import uproot

import pymva.data.build as dl
from pymva import TCut, Types
from pymva.data.dataset import weighted_correlation
from pymva.data.info import format_correlation_matrix, internal_name
from pymva.data.loader import DataLoader
from pymva.errors import DataError, OptionError
from pymva.types import ETreeType

RNG = np.random.default_rng(12345)


def make_arrays(n: int, mu: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(mu, 1.0, n).astype(np.float32),
        "y": rng.normal(0.0, 2.0, n),
        "w": rng.uniform(0.5, 2.0, n).astype(np.float32),
        "k": rng.integers(0, 5, n).astype(np.int32),
    }


@pytest.fixture
def sb_file(tmp_path: Path) -> tuple[Path, dict[str, dict[str, np.ndarray]]]:
    """A file with TreeS (600 entries) and TreeB (400 entries)."""
    path = tmp_path / "sb.root"
    data = {"TreeS": make_arrays(600, 1.0, 1), "TreeB": make_arrays(400, -1.0, 2)}
    with uproot.recreate(path) as f:
        for name, arrs in data.items():
            t = f.mktree(name, {k: v.dtype for k, v in arrs.items()})
            t.extend(arrs)
    return path, data


def loader_xy(path: Path, name: str = "dataset") -> DataLoader:
    loader = DataLoader(name)
    loader.AddVariable("x")
    loader.AddVariable("y")
    loader.AddSignalTree(f"{path}:TreeS")
    loader.AddBackgroundTree(f"{path}:TreeB")
    return loader


def rows(a: np.ndarray) -> set[tuple[float, ...]]:
    return {tuple(r) for r in np.asarray(a, dtype=np.float64).tolist()}


# --------------------------------------------------------------------------- variables


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("var[0]", "var_0_"),
        ("abs(x)", "abs_x_"),
        ("a*b", "a_T_b"),
        ("x/y", "x_D_y"),
        ("x+y", "x_P_y"),
        ("x-y", "x_M_y"),
        ("TMath::Abs(x)", "TMath_Abs_x_"),
        ("x>0&&y<1", "x_0__y_1"),
        ("sqrt(x)%2", "sqrt_x__2"),
        ("a|b", "a_b"),
        ("x==1?y:z", "x__1_y:z"),
    ],
)
def test_internal_names(label: str, name: str) -> None:
    assert internal_name(label) == name


def test_add_variable_signatures() -> None:
    loader = DataLoader()
    loader.AddVariable("x", "F")
    loader.AddVariable("y", "I", 0.0, 10.0)
    loader.AddVariable("my var := x + y", "The sum", "GeV")
    loader.AddVariable("abs( x )", "|x|", "cm", "F", -1, 1)
    loader.AddVariable("z", type="I")
    loader.AddVariable("x*y", title="product")
    v = loader.variables
    assert [i.expression for i in v] == ["x", "y", "x+y", "abs(x)", "z", "x*y"]
    assert [i.label for i in v] == ["x", "y", "myvar", "abs(x)", "z", "x*y"]
    assert [i.internal_name for i in v] == ["x", "y", "myvar", "abs_x_", "z", "x_T_y"]
    assert [i.title for i in v] == ["x", "y", "The sum", "|x|", "z", "product"]
    assert [i.unit for i in v] == ["", "", "GeV", "cm", "", ""]
    assert [i.type for i in v] == ["F", "I", "F", "F", "I", "F"]
    assert (v[1].min, v[1].max, v[3].min, v[3].max) == (0.0, 10.0, -1.0, 1.0)
    assert loader.GetDataSetInfo().GetListOfVariables() == ["x", "y", "myvar", "abs_x_", "z", "x_T_y"]


def test_add_variable_errors() -> None:
    loader = DataLoader()
    with pytest.raises(DataError, match="type must be 'F' or 'I'"):
        loader.AddVariable("x", "X")
    with pytest.raises(DataError, match=r"input variable 'x\+\+\*'"):
        loader.AddVariable("x++*")
    with pytest.raises(DataError, match="is empty"):
        loader.AddVariable("lab := ")
    with pytest.raises(DataError, match="unexpected keyword argument 'titel'"):
        loader.AddVariable("x", titel="t")  # type: ignore[call-overload]


def test_spectators_and_targets() -> None:
    loader = DataLoader()
    loader.AddSpectator("s := a - b", "spec", "u")
    loader.AddTarget("t1")
    loader.AddRegressionTarget("2*t2", "twice")
    assert [(s.kind, s.internal_name, s.title) for s in loader.spectators] == [("spectator", "s", "spec")]
    assert [(t.kind, t.expression, t.internal_name) for t in loader.targets] == [
        ("target", "t1", "t1"),
        ("target", "2*t2", "2_T_t2"),
    ]


# --------------------------------------------------------------------------- trees and classes


def test_classes_and_log_lines(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, _ = sb_file
    with caplog.at_level(logging.DEBUG, logger="pymva"):
        loader = DataLoader("ds")
        loader.AddVariable("x")
        loader.AddTree(f"{path}:TreeB", "Bkg")
        loader.AddTree(uproot.open(path)["TreeS"], "Sig")
        loader.AddTree(f"{path}:TreeS", "Bkg")
        loader.PrepareTrainingAndTestTree("", "")
    assert loader.class_names == ["Bkg", "Sig"]
    text = caplog.text
    assert '[ds] : Added class "Bkg"' in text
    assert "\t with internal class number 1" in text
    assert "Add Tree TreeB of type Bkg with 400 events" in text
    assert "Add Tree TreeS of type Sig with 600 events" in text
    assert "Dataset[ds] : Class index : 0  name : Bkg" in text
    assert "Dataset[ds] : Class index : 1  name : Sig" in text
    sources = {r.tmva_source for r in caplog.records}  # type: ignore[attr-defined]
    assert {"DataLoader", "DataSetInfo"} <= sources


def test_empty_tree(tmp_path: Path) -> None:
    path = tmp_path / "e.root"
    with uproot.recreate(path) as f:
        f.mktree("T", {"x": np.float32})
    loader = DataLoader()
    loader.AddVariable("x")
    with pytest.raises(DataError, match="Encountered empty TTree or TChain of class Signal"):
        loader.AddSignalTree(f"{path}:T")
    with pytest.raises(DataError, match="Encountered empty TTree or TChain of class Foo"):
        loader.AddTree({"x": np.zeros(0)}, "Foo")


def test_tree_types(sb_file: Any) -> None:
    path, data = sb_file
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTree(f"{path}:TreeS", "Signal", 1.0, "", ETreeType.kTraining)
    loader.AddTree(f"{path}:TreeB", "Signal", 1.0, "", "Test")
    loader.AddTree(f"{path}:TreeB", "Background", 1.0, "", "Training and Testing")
    with pytest.raises(DataError, match="you did not specify a type, while you did for the first tree TreeS"):
        loader.AddTree(f"{path}:TreeS", "Signal")
    with pytest.raises(DataError, match='cannot interpret tree type: "Validation"'):
        loader.AddTree(f"{path}:TreeS", "Signal", 1.0, "", "Validation")
    with pytest.raises(DataError, match="cannot interpret tree type 7"):
        loader.AddTree(f"{path}:TreeS", "Signal", 1.0, "", 7)
    loader.PrepareTrainingAndTestTree("", "SplitMode=Block:NormMode=None")
    ds = loader.GetDataSetInfo().GetDataSet()
    sig_train = ds.train.X[ds.train.class_id == 0, 0]
    sig_test = ds.test.X[ds.test.class_id == 0, 0]
    np.testing.assert_array_equal(sig_train, data["TreeS"]["x"])
    np.testing.assert_array_equal(sig_test, data["TreeB"]["x"])
    assert (ds.train.class_id == 1).sum() == 200
    assert (ds.test.class_id == 1).sum() == 200


def test_weights_tree_weight_times_expression(sb_file: Any) -> None:
    path, data = sb_file
    loader = loader_xy(path)
    loader.AddTree(f"{path}:TreeS", "Signal", 3.0)
    loader.SetWeightExpression("w*k")
    loader.PrepareTrainingAndTestTree("", "NormMode=None")
    ds = loader.GetDataSetInfo().GetDataSet()
    s, b = data["TreeS"], data["TreeB"]
    ws = (s["w"] * s["k"]).astype(np.float64)
    wb = (b["w"] * b["k"]).astype(np.float64)
    total_s = ds.train.sum_of_weights(0) + ds.test.sum_of_weights(0)
    total_b = ds.train.sum_of_weights(1) + ds.test.sum_of_weights(1)
    assert np.bincount(ds.train.class_id).tolist() == [600, 200]  # two signal trees of 600 entries
    assert total_s == pytest.approx(ws.sum() * 4.0, rel=1e-6)  # weight 1 tree + weight 3 tree
    assert total_b == pytest.approx(wb.sum(), rel=1e-6)


def test_signal_background_weight_expressions(sb_file: Any) -> None:
    path, data = sb_file
    loader = loader_xy(path)
    loader.SetSignalWeightExpression("w")
    loader.SetBackgroundWeightExpression("2")
    loader.PrepareTrainingAndTestTree("", "NormMode=None")
    ds = loader.GetDataSetInfo().GetDataSet()
    assert ds.train.sum_of_weights(0) + ds.test.sum_of_weights(0) == pytest.approx(
        data["TreeS"]["w"].astype(np.float64).sum(), rel=1e-6
    )
    assert np.all(ds.train.weights[ds.train.class_id == 1] == 2.0)


def test_set_weight_expression_without_class_creates_signal_and_background() -> None:
    loader = DataLoader()
    loader.SetWeightExpression("w")
    assert loader.class_names == ["Signal", "Background"]
    info = loader.GetDataSetInfo()
    assert info.GetClassInfo("Signal").weight == "w"  # type: ignore[union-attr]
    with pytest.raises(DataError, match="weight expression 'w\\*\\*'"):
        loader.SetWeightExpression("w**")


def test_cuts(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, data = sb_file
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddSignalTree(f"{path}:TreeS")
    loader.SetCut("k>0")  # applies to the classes registered so far: Signal only
    loader.AddBackgroundTree(f"{path}:TreeB")
    loader.AddCut(TCut("y<1"), "Background")
    loader.AddCut("x>-2")  # all classes registered so far
    info = loader.GetDataSetInfo()
    assert str(info.GetClassInfo("Signal").cut) == "(k>0)&&(x>-2)"  # type: ignore[union-attr]
    assert str(info.GetClassInfo("Background").cut) == "(y<1)&&(x>-2)"  # type: ignore[union-attr]
    loader.PrepareTrainingAndTestTree("abs(y)<3", "NormMode=None:SplitMode=Block")
    with caplog.at_level(logging.INFO, logger="pymva"):
        ds = info.GetDataSet()
    s, b = data["TreeS"], data["TreeB"]
    sel_s = (s["k"] > 0) & (s["x"] > -2) & (np.abs(s["y"]) < 3)
    sel_b = (b["y"] < 1) & (b["x"] > -2) & (np.abs(b["y"]) < 3)
    n_s, n_b = int(sel_s.sum()), int(sel_b.sum())
    assert np.bincount(ds.train.class_id).tolist() == [n_s // 2, n_b // 2]
    assert np.bincount(ds.test.class_id).tolist() == [n_s // 2, n_b // 2]
    # Block split without shuffling: the first half of the selected events trains
    np.testing.assert_array_equal(ds.train.X[ds.train.class_id == 0, 0], s["x"][sel_s][: n_s // 2])
    text = caplog.text
    assert 'Signal     requirement: "((k>0)&&(x>-2))&&(abs(y)<3)"' in text
    assert f"Signal          -- number of events passed: {n_s:<5d}  / sum of weights: {n_s:<5g}" in text
    assert f"Background      -- efficiency             : {n_b / 400:<6g}" in text


def test_per_tree_cut_and_set_input_trees(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, data = sb_file
    loader = DataLoader()
    loader.AddVariable("x")
    loader.SetInputTrees(f"{path}:TreeS", "k==1", "k>=3")
    loader.PrepareTrainingAndTestTree("", "NormMode=None")
    with caplog.at_level(logging.DEBUG, logger="pymva"):
        ds = loader.GetDataSetInfo().GetDataSet()
    k, x = data["TreeS"]["k"], data["TreeS"]["x"]
    n_s, n_b = int((k == 1).sum()), int((k >= 3).sum())
    assert len(ds.train) + len(ds.test) == n_s // 2 * 2 + n_b // 2 * 2
    # the signal cut selects signal, the background cut background: the events themselves
    for cls, sel in ((0, k == 1), (1, k >= 3)):
        got = np.concatenate([ds.train.X[ds.train.class_id == cls, 0], ds.test.X[ds.test.class_id == cls, 0]])
        assert len(got) == int(sel.sum()) // 2 * 2
        assert set(got.tolist()) <= set(x[sel].tolist())
    # tree cuts are applied before counting (TMVA copies the tree with the cut): no requirement lines
    assert "requirement" not in caplog.text
    loader2 = DataLoader()
    loader2.AddVariable("x")
    loader2.SetInputTrees(f"{path}:TreeS", f"{path}:TreeB", 2.0, 0.5)
    loader2.PrepareTrainingAndTestTree("", "NormMode=None")
    ds2 = loader2.GetDataSetInfo().GetDataSet()
    assert set(np.unique(ds2.train.weights).tolist()) == {0.5, 2.0}


def test_tree_cut_on_jagged_keeps_entries_with_any_nonzero() -> None:
    arrays = {"a": ak.Array([[0.0, 1.0], [0.0], [], [2.0]]), "x": np.arange(4.0)}
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTree(arrays, "Signal", 1.0, "a", ETreeType.kTraining)
    loader.AddTree({"x": np.arange(4.0)}, "Signal", 1.0, "", ETreeType.kTesting)
    loader.PrepareTrainingAndTestTree("", "NormMode=None")
    ds = loader.GetDataSetInfo().GetDataSet()
    assert sorted(ds.train.X[:, 0].tolist()) == [0.0, 3.0]


# --------------------------------------------------------------------------- PrepareTrainingAndTestTree


def test_prepare_forms(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("y>-100", 100, 50, 20, 30)
    info = loader.GetDataSetInfo()
    assert info.GetSplitOptions() == (
        "nTrain_Signal=100:nTrain_Background=50:nTest_Signal=20:nTest_Background=30:SplitMode=Random:!V"
    )
    ds = info.GetDataSet()
    assert np.bincount(ds.train.class_id).tolist() == [100, 50]
    assert np.bincount(ds.test.class_id).tolist() == [20, 30]

    loader = loader_xy(path)
    with caplog.at_level(logging.INFO, logger="pymva"):
        loader.PrepareTrainingAndTestTree("x>0", "x<0", "SplitMode=Block", NormMode="None", nTrain_Signal=10)
    assert "Preparing trees for training and testing..." in caplog.text
    info = loader.GetDataSetInfo()
    assert info.GetSplitOptions() == "SplitMode=Block:NormMode=None:nTrain_Signal=10"
    assert str(info.GetClassInfo("Signal").cut) == "x>0"  # type: ignore[union-attr]
    assert str(info.GetClassInfo("Background").cut) == "x<0"  # type: ignore[union-attr]
    assert np.bincount(info.GetDataSet().train.class_id)[0] == 10

    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("", 100)  # deprecated form: stored, rejected when built
    with pytest.raises(OptionError, match="EqualTrainSample"):
        loader.GetDataSetInfo().GetDataSet()


def test_split_options_are_parsed_when_built(sb_file: Any) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("", "SplitMode=Random:NormMod=None")  # no error yet
    with pytest.raises(OptionError, match="did you mean 'NormMode'"):
        loader.GetDataSetInfo().GetDataSet()


@pytest.mark.parametrize(
    ("opts", "n_train", "n_test"),
    [
        ("", [300, 200], [300, 200]),
        ("nTrain_Signal=100:nTrain_Background=100", [100, 100], [500, 300]),
        ("nTest_Signal=50", [550, 200], [50, 200]),
        ("TrainTestSplit_Signal=0.7:TrainTestSplit_Background=0.25", [420, 100], [180, 300]),
        ("nTrain_Signal=100:nTest_Signal=100:nTrain_Background=10:nTest_Background=20", [100, 10], [100, 20]),
    ],
)
@pytest.mark.parametrize("mode", ["Random", "Block"])
def test_numbers_of_events(sb_file: Any, opts: str, n_train: list[int], n_test: list[int], mode: str) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("", f"{opts}:SplitMode={mode}")
    ds = loader.GetDataSetInfo().GetDataSet()
    assert np.bincount(ds.train.class_id, minlength=2).tolist() == n_train
    assert np.bincount(ds.test.class_id, minlength=2).tolist() == n_test
    assert not rows(ds.train.X) & rows(ds.test.X)


def test_split_errors(sb_file: Any) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("", "nTrain_Signal=700")
    with pytest.raises(
        DataError, match=r"More events requested for training \(700\) than available \(600\)!"
    ):
        loader.GetDataSetInfo().GetDataSet()
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("", "TrainTestSplit_Signal=1")
    with pytest.raises(DataError, match="TrainTestSplit_<class> has to be in range"):
        loader.GetDataSetInfo().GetDataSet()
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("x>100", "")
    with pytest.raises(DataError, match="Dataset dataset does not have any training events"):
        loader.GetDataSetInfo().GetDataSet()


def test_no_test_events_is_only_an_error_message(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, _ = sb_file
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddSignalTree(f"{path}:TreeS", 1.0, ETreeType.kTraining)
    loader.AddBackgroundTree(f"{path}:TreeB", 1.0, "Training")
    with caplog.at_level(logging.ERROR, logger="pymva"):
        ds = loader.GetDataSetInfo().GetDataSet()
    assert len(ds.test) == 0
    assert len(ds.train) == 1000
    assert "does not have any testing events" in caplog.text


# --------------------------------------------------------------------------- normalisation and mixing


@pytest.mark.parametrize("mode", ["None", "NumEvents", "EqualNumEvents"])
def test_norm_modes(sb_file: Any, mode: str) -> None:
    path, data = sb_file
    loader = loader_xy(path)
    loader.SetWeightExpression("w")
    loader.PrepareTrainingAndTestTree("", f"NormMode={mode}:nTrain_Signal=250:nTrain_Background=150")
    ds = loader.GetDataSetInfo().GetDataSet()
    train_s, train_b = ds.train.sum_of_weights(0), ds.train.sum_of_weights(1)
    if mode == "NumEvents":
        assert (train_s, train_b) == pytest.approx((250.0, 150.0), rel=1e-6)
    elif mode == "EqualNumEvents":
        assert (train_s, train_b) == pytest.approx((250.0, 250.0), rel=1e-6)
    # test weights are never renormalised: they are the original weights of the test events
    for cls, tree in ((0, "TreeS"), (1, "TreeB")):
        test_x = ds.test.X[ds.test.class_id == cls, 0]
        w_by_x = dict(zip(data[tree]["x"].tolist(), data[tree]["w"].tolist(), strict=True))
        expected = sum(w_by_x[v] for v in test_x.tolist())
        assert ds.test.sum_of_weights(cls) == pytest.approx(expected, rel=1e-6)
    # every training weight is the event's own weight times one factor per class (core.md §3.4 step 5)
    targets = {"None": None, "NumEvents": (250.0, 150.0), "EqualNumEvents": (250.0, 250.0)}[mode]
    for cls, tree in ((0, "TreeS"), (1, "TreeB")):
        w_by_x = dict(zip(data[tree]["x"].tolist(), data[tree]["w"].tolist(), strict=True))
        sel = ds.train.class_id == cls
        original = np.array([w_by_x[v] for v in ds.train.X[sel, 0].tolist()])
        factor = 1.0 if targets is None else targets[cls] / original.sum()
        np.testing.assert_allclose(ds.train.weights[sel], original * factor, rtol=1e-6)


def test_norm_table(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("x>-5", "nTrain_Signal=100:nTest_Signal=200")
    with caplog.at_level(logging.INFO, logger="pymva"):
        loader.GetDataSetInfo().GetDataSet()
    lines = [r.getMessage() for r in caplog.records]
    i = lines.index("Number of training and testing events")
    assert lines[i + 1] == "-" * 75
    assert lines[i + 2 : i + 5] == [
        "Signal     -- training events            : 100",
        "Signal     -- testing events             : 200",
        "Signal     -- training and testing events: 300",
    ]
    assert lines[i + 5 : i + 8] == [
        "Background -- training events            : 200",
        "Background -- testing events             : 200",
        "Background -- training and testing events: 400",
    ]


def test_norm_none_message(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("", "NormMode=None")
    with caplog.at_level(logging.INFO, logger="pymva"):
        loader.GetDataSetInfo().GetDataSet()
    assert "No weight renormalisation applied: use original global and event weights" in caplog.text
    assert "Number of training and testing events" not in caplog.text


@pytest.mark.parametrize("mix", ["Block", "Alternate", "Random", "SameAsSplitMode"])
def test_mix_modes(sb_file: Any, mix: str) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("", f"SplitMode=Block:MixMode={mix}:nTrain_Background=300")
    cid = loader.GetDataSetInfo().GetDataSet().train.class_id
    assert np.bincount(cid).tolist() == [300, 300]
    if mix in ("Block", "SameAsSplitMode"):
        assert cid.tolist() == [0] * 300 + [1] * 300
    elif mix == "Alternate":
        assert cid.tolist() == [0, 1] * 300
    else:
        assert 100 < int(np.abs(np.diff(cid)).sum()) < 500


def test_split_is_reproducible(sb_file: Any) -> None:
    path, _ = sb_file
    xs = []
    for seed in (5, 5, 6):
        loader = loader_xy(path)
        loader.PrepareTrainingAndTestTree("", f"SplitSeed={seed}")
        xs.append(loader.GetDataSetInfo().GetDataSet().train.X)
    np.testing.assert_array_equal(xs[0], xs[1])
    assert not np.array_equal(xs[0], xs[2])


# --------------------------------------------------------------------------- NaN and inf


def test_nan_in_selected_events_is_an_error() -> None:
    x = np.array([1.0, np.nan, 3.0, np.nan, 5.0, 6.0])
    y = np.array([1.0, 2.0, np.inf, 4.0, 5.0, 6.0])
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddVariable("y")
    loader.AddTree({"x": x, "y": y}, "Signal")
    loader.AddTree({"x": x[::-1].copy(), "y": y}, "Background")
    with pytest.raises(DataError) as exc:
        loader.GetDataSetInfo().GetDataSet()
    msg = str(exc.value)
    assert "Dataset[default] : Input expression resolves to indeterminate value (NaN): x (4 times)" in msg
    assert "Dataset[default] : Input expression resolves to infinite value (+inf or -inf): y (2 times)" in msg
    assert "How am I supposed to train a NaN or +-inf?!" in msg


def test_nan_removed_by_cut_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    x = np.array([1.0, np.nan, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTree({"x": x, "c": np.array([1, 0, 1, 1, 1, 1, 1, 1])}, "Signal")
    loader.AddTree({"x": x + 1, "c": np.array([1, 0, 1, 1, 1, 1, 1, 1])}, "Background")
    loader.SetCut("c>0")
    with caplog.at_level(logging.WARNING, logger="pymva"):
        ds = loader.GetDataSetInfo().GetDataSet()
    assert len(ds.train) + len(ds.test) == 12
    assert "Found events with NaN and/or +-inf values" in caplog.text
    assert "Input expression resolves to indeterminate value (NaN): x" in caplog.text
    assert "These NaN and/or +-infs were all removed by the specified cut, continuing." in caplog.text


def test_nan_weight_and_cut() -> None:
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTree({"x": np.arange(6.0), "w": np.array([1, 1, np.nan, 1, 1, 1.0])}, "Signal")
    loader.AddTree({"x": np.arange(6.0)}, "Background")
    loader.SetWeightExpression("w", "Signal")
    with pytest.raises(DataError, match=r"Weight expression resolves to indeterminate value \(NaN\): w"):
        loader.GetDataSetInfo().GetDataSet()
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTree({"x": np.arange(6.0), "c": np.array([1, 1, np.nan, 1, 1, 1.0])}, "Signal")
    loader.AddTree({"x": np.arange(6.0), "c": np.ones(6)}, "Background")
    loader.SetCut("c")
    with pytest.raises(DataError, match=r"Cut expression resolves to indeterminate value \(NaN\): c"):
        loader.GetDataSetInfo().GetDataSet()


# --------------------------------------------------------------------------- expressions, types, jagged


@pytest.mark.realdata
def test_missing_branch_and_string_branch(sb_file: Any, shared_data: Path) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.AddVariable("xx+1")
    with pytest.raises(DataError) as exc:
        loader.GetDataSetInfo().GetDataSet()
    msg = str(exc.value)
    assert "branch 'xx' used in Input expression 'xx+1' does not exist in tree 'TreeS'" in msg
    assert "did you mean 'x'" in msg
    assert "class 'Signal'" in msg
    zmumu = f"{shared_data / 'uproot-Zmumu.root'}:events"
    loader = DataLoader()
    loader.AddVariable("Type")
    loader.AddTree(zmumu, "Signal")
    loader.AddTree(zmumu, "Background")
    with pytest.raises(DataError, match="branch 'Type' holds strings and cannot be used as a number"):
        loader.GetDataSetInfo().GetDataSet()


@pytest.mark.realdata
def test_string_branch_in_cut_zmumu(shared_data: Path) -> None:
    path = shared_data / "uproot-Zmumu.root"
    arrays = uproot.open(path)["events"].arrays(["Type", "M", "pt1"], library="np")
    loader = DataLoader()
    loader.AddVariable("pt1")
    loader.AddTarget("M")
    loader.AddRegressionTree(f"{path}:events")
    loader.PrepareTrainingAndTestTree('Type=="GG"', "SplitMode=Block:NormMode=None")
    ds = loader.GetDataSetInfo().GetDataSet()
    gg = arrays["Type"] == "GG"
    n = int(gg.sum())
    assert len(ds.train) == n // 2
    assert len(ds.test) == n // 2
    np.testing.assert_allclose(ds.train.targets[:, 0], arrays["M"][gg][: n // 2].astype(np.float32))
    assert ds.targets[0].min == pytest.approx(float(arrays["M"][gg][: n // 2].astype(np.float32).min()))


@pytest.mark.realdata
def test_every_numeric_type(shared_data: Path) -> None:
    path = shared_data / "uproot-sample-6.20.04-zlib.root"
    names = ["b", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8"]
    arrays = uproot.open(path)["sample"].arrays([*names, "af4", "Ai4"], library="ak")
    loader = DataLoader()
    for n in names:
        loader.AddVariable(n)
    loader.AddVariable("af4[1]")
    loader.AddSpectator("Alt$(Ai4[2],-1)")
    loader.AddTree(f"{path}:sample", "A", 1.0, "", ETreeType.kTraining)
    loader.AddTree(f"{path}:sample", "B", 1.0, "", ETreeType.kTesting)
    loader.PrepareTrainingAndTestTree("", "MixMode=Block")
    ds = loader.GetDataSetInfo().GetDataSet()
    expected = np.column_stack(
        [np.asarray(arrays[n], dtype=np.float64) for n in names] + [ak.to_numpy(arrays["af4"][:, 1])]
    ).astype(np.float32)
    np.testing.assert_array_equal(ds.train.X, expected)
    np.testing.assert_array_equal(ds.test.X, expected)
    alt = [lst[2] if len(lst) > 2 else -1 for lst in ak.to_list(arrays["Ai4"])]
    np.testing.assert_array_equal(ds.train.spectators[:, 0], np.asarray(alt, dtype=np.float32))


@pytest.mark.realdata
def test_hzz_indexed_jagged(shared_data: Path) -> None:
    path = shared_data / "uproot-HZZ.root"
    a = uproot.open(path)["events"].arrays(
        ["Muon_Px", "Muon_Py", "NMuon", "EventWeight", "Jet_Px"], library="ak"
    )
    loader = DataLoader()
    loader.AddVariable("Muon_Px[0]")
    loader.AddVariable("pt1 := sqrt(Muon_Px[0]**2 + Muon_Py[0]**2)")
    loader.AddVariable("Muon_Px[1]")
    loader.AddTree(f"{path}:events", "Signal")
    loader.AddTree(f"{path}:events", "Background", 2.0)
    loader.SetWeightExpression("EventWeight")
    loader.PrepareTrainingAndTestTree("NMuon>=2", "SplitMode=Block:NormMode=None")
    ds = loader.GetDataSetInfo().GetDataSet()
    sel = np.asarray(a["NMuon"] >= 2)
    px0 = ak.to_numpy(a["Muon_Px"][sel][:, 0])
    n = int(sel.sum())
    train_s = ds.train.X[ds.train.class_id == 0]
    test_s = ds.test.X[ds.test.class_id == 0]
    np.testing.assert_array_equal(np.concatenate([train_s[:, 0], test_s[:, 0]]), px0[: (n // 2) * 2])
    pt = np.sqrt(px0.astype(np.float64) ** 2 + ak.to_numpy(a["Muon_Py"][sel][:, 0]).astype(np.float64) ** 2)
    np.testing.assert_allclose(train_s[:, 1], pt[: n // 2].astype(np.float32), rtol=1e-6)
    assert ds.variables[1].internal_name == "pt1"
    w = np.asarray(a["EventWeight"])[sel].astype(np.float64)
    total_b = ds.train.sum_of_weights(1) + ds.test.sum_of_weights(1)
    assert total_b == pytest.approx(2.0 * w[: (n // 2) * 2].sum(), rel=1e-5)

    # an unindexed jagged variable gives one event per element (TMVA's flattening)
    loader = DataLoader()
    loader.AddVariable("Jet_Px")
    loader.AddSpectator("NMuon")
    loader.AddTree(f"{path}:events", "Signal", 1.0, "", ETreeType.kTraining)
    loader.AddTree(f"{path}:events", "Background", 1.0, "", ETreeType.kTesting)
    loader.PrepareTrainingAndTestTree("", "MixMode=Block")
    ds = loader.GetDataSetInfo().GetDataSet()
    np.testing.assert_array_equal(ds.train.X[:, 0], ak.to_numpy(ak.flatten(a["Jet_Px"])))
    np.testing.assert_array_equal(
        ds.train.spectators[:, 0], np.repeat(np.asarray(a["NMuon"]), ak.to_numpy(ak.num(a["Jet_Px"])))
    )


def test_missing_element_warns(caplog: pytest.LogCaptureFixture) -> None:
    arr = {"a": ak.Array([[1.0, 2.0], [3.0], [4.0, 5.0], [6.0, 7.0]])}
    loader = DataLoader()
    loader.AddVariable("a[1]")
    loader.AddTree(arr, "Signal", 1.0, "", "Training")
    loader.AddTree(arr, "Background", 1.0, "", "Testing")
    loader.PrepareTrainingAndTestTree("", "MixMode=Block")
    with caplog.at_level(logging.WARNING, logger="pymva"):
        ds = loader.GetDataSetInfo().GetDataSet()
    assert ds.train.X[:, 0].tolist() == [2.0, 5.0, 7.0]
    assert "1 entries of in-memory dict give no event" in caplog.text
    assert "Alt$(arr[4],0)" in caplog.text


def test_efficiency_after_missing_elements_says_relative_to_what(caplog: pytest.LogCaptureFixture) -> None:
    """Entries without the indexed element give no event before the cut: the efficiency is of the rest."""
    arr = {"a": ak.Array([[1.0, 2.0], [3.0], [4.0, 5.0], [6.0, 7.0], [8.0], [9.0, -1.0]])}
    loader = DataLoader()
    loader.AddVariable("a[1]")
    loader.AddTree(arr, "Signal", 1.0, "", "Training")
    loader.AddTree(arr, "Background", 1.0, "", "Testing")
    loader.PrepareTrainingAndTestTree("a[1]>0", "MixMode=Block")
    with caplog.at_level(logging.INFO, logger="pymva"):
        ds = loader.GetDataSetInfo().GetDataSet()
    assert ds.train.X[:, 0].tolist() == [2.0, 5.0, 7.0]
    # 6 entries, 2 without a[1]: 4 events before the cut, 3 pass it
    assert "Signal          -- efficiency             : 0.75" in caplog.text
    assert (
        "Signal          -- (relative to the 4 events before the cut; 2 tree entries gave no event "
        "because an indexed array element is missing)"
    ) in caplog.text


def test_variables_array(caplog: pytest.LogCaptureFixture) -> None:
    arr = np.arange(24, dtype=np.float32).reshape(8, 3)
    loader = DataLoader()
    loader.AddVariablesArray("v", 3)
    assert [v.internal_name for v in loader.variables] == ["v[0]", "v[1]", "v[2]"]
    loader.AddTree({"v": arr}, "Signal", 1.0, "", "Training")
    loader.AddTree({"v": arr + 1}, "Background", 1.0, "", "Testing")
    loader.PrepareTrainingAndTestTree("", "MixMode=Block")
    ds = loader.GetDataSetInfo().GetDataSet()
    np.testing.assert_array_equal(ds.train.X, arr)

    jag = ak.Array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]])
    loader = DataLoader()
    loader.AddVariablesArray("j", 3)
    loader.AddTree({"j": jag}, "Signal", 1.0, "", "Training")
    loader.AddTree({"j": jag}, "Background", 1.0, "", "Testing")
    loader.PrepareTrainingAndTestTree("", "MixMode=Block")
    with caplog.at_level(logging.WARNING, logger="pymva"):
        ds = loader.GetDataSetInfo().GetDataSet()
    assert ds.train.X.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert "Size of array j in the current tree dict is larger than 3 in 1 entries" in caplog.text

    loader = DataLoader()
    loader.AddVariablesArray("j", 4)
    loader.AddTree({"j": jag}, "Signal")
    loader.AddTree({"j": jag}, "Background")
    with pytest.raises(DataError, match="Size of array j in the current tree dict is smaller than 4"):
        loader.GetDataSetInfo().GetDataSet()


# --------------------------------------------------------------------------- in-memory and chains


def test_in_memory_inputs() -> None:
    n = 40
    base = make_arrays(n, 0.0, 7)
    df = pd.DataFrame(dict(base.items()))
    rec = ak.Array(dict(base.items()))
    for signal in (base, df, rec):
        loader = DataLoader()
        loader.AddVariable("x")
        loader.AddVariable("y*k")
        loader.AddTree(signal, "Signal", 1.0, "", "Training")
        loader.AddTree(signal, "Background", 1.0, "", "Test")
        loader.PrepareTrainingAndTestTree("", "MixMode=Block")
        ds = loader.GetDataSetInfo().GetDataSet()
        expected = np.column_stack([base["x"], base["y"] * base["k"]]).astype(np.float32)
        np.testing.assert_array_equal(ds.train.X[ds.train.class_id == 0], expected)


def test_chain_from_glob_and_list(tmp_path: Path) -> None:
    parts = []
    for k in range(3):
        arrs = make_arrays(50, k, 20 + k)
        parts.append(arrs)
        with uproot.recreate(tmp_path / f"c{k}.root") as f:
            f.mktree("T", {kk: v.dtype for kk, v in arrs.items()}).extend(arrs)
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTree(f"{tmp_path}/c*.root:T", "Signal", 1.0, "", "Training")
    loader.AddTree([f"{tmp_path / 'c2.root'}:T", tmp_path / "c0.root"], "Background", 1.0, "", "Training")
    loader.AddTree(f"{tmp_path / 'c1.root'}:T", "Signal", 1.0, "", "Testing")
    loader.AddTree(f"{tmp_path / 'c1.root'}:T", "Background", 1.0, "", "Testing")
    loader.PrepareTrainingAndTestTree("", "MixMode=Block:NormMode=None")
    ds = loader.GetDataSetInfo().GetDataSet()
    np.testing.assert_array_equal(ds.train.X[:150, 0], np.concatenate([p["x"] for p in parts]))
    np.testing.assert_array_equal(ds.train.X[150:, 0], np.concatenate([parts[2]["x"], parts[0]["x"]]))


def test_ascii_signal_tree(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "s.txt").write_text("x/F:y/F\n" + "\n".join(f"{i} {2 * i}" for i in range(10)))
    (tmp_path / "b.txt").write_text("x/F:y/F\n" + "\n".join(f"{-i} {i}" for i in range(10)))
    loader = DataLoader()
    loader.AddVariable("x+y")
    with caplog.at_level(logging.INFO, logger="pymva"):
        loader.AddSignalTree(str(tmp_path / "s.txt"))
        loader.AddBackgroundTree(str(tmp_path / "b.txt"))
    assert "Add Tree TreeS of type Signal with 10 events" in caplog.text
    assert "Add Tree TreeB of type Background with 10 events" in caplog.text
    ds = loader.GetDataSetInfo().GetDataSet()
    assert (
        sorted(ds.train.X[ds.train.class_id == 1, 0].tolist() + ds.test.X[ds.test.class_id == 1, 0].tolist())
        == [0.0] * 10
    )
    signal = ds.train.X[ds.train.class_id == 0, 0].tolist() + ds.test.X[ds.test.class_id == 0, 0].tolist()
    assert sorted(signal) == [3.0 * i for i in range(10)]  # x + y = i + 2i


# --------------------------------------------------------------------------- event-wise input


def test_event_wise_input() -> None:
    loader = DataLoader()
    loader.AddVariable("a")
    loader.AddVariable("b := a*2")
    loader.AddTarget("t")
    loader.AddSpectator("s")
    for i in range(6):
        loader.AddSignalTrainingEvent([i, 2 * i, 10 + i, -i], 1.0 + i)
        loader.AddSignalTestEvent([100 + i, 0, 0, 0])
        loader.AddBackgroundTrainingEvent([-i, 0, 0, 0], 2.0)
        loader.AddBackgroundTestEvent([-100 - i, 0, 0, 0])
    loader.AddTrainingEvent("Third", [7, 7, 7, 7], 0.5)
    loader.AddTestEvent("Third", [8, 8, 8, 8], 0.25)
    with pytest.raises(DataError, match="has 2 values; expected 4"):
        loader.AddSignalTrainingEvent([1, 2])
    loader.PrepareTrainingAndTestTree("a!=5", "NormMode=None:MixMode=Block")
    ds = loader.GetDataSetInfo().GetDataSet()
    assert ds.class_names == ["Signal", "Background", "Third"]
    sig = ds.train.class_id == 0
    assert ds.train.X[sig].tolist() == [[i, 2 * i] for i in range(5)]
    assert ds.train.targets[sig, 0].tolist() == [10 + i for i in range(5)]
    assert ds.train.spectators[sig, 0].tolist() == [-i for i in range(5)]
    assert ds.train.weights[sig].tolist() == [1.0 + i for i in range(5)]
    assert ds.test.X[ds.test.class_id == 0, 0].tolist() == [100.0 + i for i in range(6)]
    assert ds.test.weights[ds.test.class_id == 0].tolist() == [1.0] * 6
    assert ds.test.weights[ds.test.class_id == 2].tolist() == [0.25]


def test_event_wise_cut_on_unknown_name() -> None:
    loader = DataLoader()
    loader.AddVariable("a")
    loader.AddSignalTrainingEvent([1.0])
    loader.AddSignalTestEvent([2.0])
    loader.AddBackgroundTrainingEvent([1.0])
    loader.AddBackgroundTestEvent([2.0])
    loader.PrepareTrainingAndTestTree("zz>1", "")
    with pytest.raises(DataError, match="reads zz, which events added one by one do not have"):
        loader.GetDataSetInfo().GetDataSet()


# --------------------------------------------------------------------------- regression and multiclass


def test_regression_and_constant_target(sb_file: Any) -> None:
    path, data = sb_file
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTarget("y*2")
    loader.AddRegressionTree(f"{path}:TreeS")
    ds = loader.GetDataSetInfo().GetDataSet()
    assert ds.class_names == ["Regression"]
    assert ds.train.targets.shape == (300, 1)
    np.testing.assert_allclose(
        np.sort(np.concatenate([ds.train.targets[:, 0], ds.test.targets[:, 0]])),
        np.sort((data["TreeS"]["y"] * 2).astype(np.float32)),
    )
    assert ds.train.sum_of_weights() == pytest.approx(300.0)
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTarget("3")
    loader.AddRegressionTree(f"{path}:TreeS")
    with pytest.raises(DataError, match="Target 3 is constant"):
        loader.GetDataSetInfo().GetDataSet()


def test_constant_variable_warns(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.AddVariable("x*0")
    with caplog.at_level(logging.WARNING, logger="pymva"):
        ds = loader.GetDataSetInfo().GetDataSet()
    assert "Variable x*0 is constant. Please remove the variable." in caplog.text
    assert "<GetCorrelationMatrix> Zero variances for variables (0, 2) = 0" in caplog.text
    assert ds.correlations["Signal"][0, 2] == 0.0


def test_multiclass_equal_num_events(sb_file: Any) -> None:
    path, _ = sb_file
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTree(f"{path}:TreeB", "c0", 1.0, "k<2")
    loader.AddTree(f"{path}:TreeS", "c1", 2.0)
    loader.AddTree(f"{path}:TreeS", "c2", 1.0, "k>=2")
    loader.SetWeightExpression("w", "c1")
    ds = loader.GetDataSetInfo().GetDataSet()
    n0 = int((ds.train.class_id == 0).sum())
    for c in range(3):
        assert ds.train.sum_of_weights(c) == pytest.approx(n0, rel=1e-6)
    # one factor per class: c0 and c2 have equal weights, c1 weights proportional to w
    _, data = sb_file
    w_by_x = dict(zip(data["TreeS"]["x"].tolist(), data["TreeS"]["w"].tolist(), strict=True))
    for c in (0, 2):
        expected = n0 / (ds.train.class_id == c).sum()
        np.testing.assert_allclose(ds.train.weights[ds.train.class_id == c], expected, rtol=1e-6)
    sel = ds.train.class_id == 1
    w1 = np.array([w_by_x[v] for v in ds.train.X[sel, 0].tolist()])
    np.testing.assert_allclose(ds.train.weights[sel], w1 * n0 / w1.sum(), rtol=1e-6)
    info = loader.GetDataSetInfo()
    assert info.GetSignalClassIndex() == 0  # no class named Signal: class 0 counts as signal
    assert info.GetTrainingSumSignalWeights() == pytest.approx(n0, rel=1e-6)
    assert info.GetTrainingSumBackgrWeights() == pytest.approx(2 * n0, rel=1e-6)


# --------------------------------------------------------------------------- step 8 and caching


def test_ranges_and_correlations(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.AddVariable("x+y")
    loader.SetWeightExpression("w")
    with caplog.at_level(logging.INFO, logger="pymva"):
        ds = loader.GetDataSetInfo().GetDataSet()
    for j, v in enumerate(ds.variables):
        assert (v.min, v.max) == (float(ds.train.X[:, j].min()), float(ds.train.X[:, j].max()))
        assert (loader.variables[j].min, loader.variables[j].max) == (v.min, v.max)
    for c, name in enumerate(ds.class_names):
        m = ds.train.class_id == c
        # core.md §3.4 step 8: C_ij = <x_i x_j>_w - <x_i>_w <x_j>_w, rho_ij = C_ij / sqrt(C_ii C_jj)
        x = ds.train.X[m].astype(np.float64)
        w = ds.train.weights[m].astype(np.float64)
        mean = w @ x / w.sum()
        cov = (x * w[:, None]).T @ x / w.sum() - np.outer(mean, mean)
        expected = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
        assert abs(expected[0, 2]) > 0.3  # x+y is correlated with x: a non-trivial matrix
        np.testing.assert_allclose(ds.correlations[name], expected, atol=1e-9)
        np.testing.assert_allclose(loader.GetCorrelationMatrix(name), expected, atol=1e-9)
        np.testing.assert_allclose(
            weighted_correlation(ds.train.X[m], ds.train.weights[m]), expected, atol=1e-9
        )
    assert "Correlation matrix (Signal):" in caplog.text
    for line in format_correlation_matrix(ds.correlations["Signal"], ["x", "y", "x_P_y"]):
        assert line in caplog.text
    with pytest.raises(DataError, match="no class 'Signl'"):
        loader.GetCorrelationMatrix("Signl")


def test_correlation_table_layout() -> None:
    # TMVA's Tools::FormattedOutput: columns at least 7 wide, right-aligned, "%+1.3f"
    lines = format_correlation_matrix(np.array([[1.0, -0.5], [-0.5, 1.0]]), ["var1", "longvariable"])
    assert lines == [
        "-" * 34,
        " " * 13 + "    var1" + " longvariable",
        "        var1:" + "  +1.000" + "       -0.500",
        "longvariable:" + "  -0.500" + "       +1.000",
        "-" * 34,
    ]


def test_no_correlations(sb_file: Any) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("", "!CalcCorrelations")
    ds = loader.GetDataSetInfo().GetDataSet()
    assert ds.correlations == {}
    assert ds.variables[0].min == 0.0
    with pytest.raises(DataError, match="no correlation matrices"):
        loader.GetCorrelationMatrix("Signal")


def test_dataset_is_cached_and_rebuilt(sb_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    info = loader.GetDataSetInfo()
    with caplog.at_level(logging.INFO, logger="pymva"):
        first = info.GetDataSet()
    assert "Rebuilding Dataset dataset" in caplog.text
    assert info.GetDataSet() is first
    assert not info.needs_rebuilding
    loader.AddVariable("x*y")
    assert info.needs_rebuilding
    second = info.GetDataSet()
    assert second is not first
    assert second.train.X.shape[1] == 3
    assert first.train.X.shape[1] == 2


def test_no_input() -> None:
    loader = DataLoader()
    loader.AddVariable("x")
    with pytest.raises(DataError, match="no input data"):
        loader.GetDataSetInfo().GetDataSet()
    loader = DataLoader()
    loader.AddTree({"x": np.arange(3.0)}, "Signal")
    with pytest.raises(DataError, match="no input variables"):
        loader.GetDataSetInfo().GetDataSet()
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddTree({"x": np.arange(3.0)}, "Signal")
    loader.SetCut("x>0", "Ghost")
    with pytest.raises(DataError, match="'Ghost' have no events"):
        loader.GetDataSetInfo().GetDataSet()


def test_small_chunks_give_the_same_dataset(sb_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = sb_file
    results = []
    for chunk in (None, 7):
        if chunk is not None:
            monkeypatch.setattr(dl, "MIN_CHUNK_ENTRIES", chunk)
            monkeypatch.setattr(dl, "MAX_CHUNK_ENTRIES", chunk)
            monkeypatch.setattr(dl, "_SCATTER_ROWS", 5)
        loader = loader_xy(path)
        loader.SetWeightExpression("w")
        loader.PrepareTrainingAndTestTree("k!=2", "NormMode=NumEvents")
        results.append(loader.GetDataSetInfo().GetDataSet())
    a, b = results
    for sa, sb in ((a.train, b.train), (a.test, b.test)):
        np.testing.assert_array_equal(sa.X, sb.X)
        np.testing.assert_array_equal(sa.weights, sb.weights)
        np.testing.assert_array_equal(sa.class_id, sb.class_id)


def test_make_copy(sb_file: Any) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.PrepareTrainingAndTestTree("x>0", "NormMode=None")
    other = loader.MakeCopy("copy")
    assert other.GetName() == "copy"
    assert other.class_names == loader.class_names
    a = loader.GetDataSetInfo().GetDataSet()
    b = other.GetDataSetInfo().GetDataSet()
    np.testing.assert_array_equal(a.train.X, b.train.X)
    other.AddVariable("x*x")
    assert len(loader.variables) == 2


def test_public_api() -> None:
    import pymva

    assert Types.kTraining is ETreeType.kTraining  # type: ignore[attr-defined]

    assert pymva.DataLoader is DataLoader
    assert pymva.TMVA.DataLoader is DataLoader
    assert "DataLoader" in repr(DataLoader("x"))


def test_first_class_without_training_events(sb_file: Any) -> None:
    path, _ = sb_file
    loader = DataLoader()
    loader.AddVariable("x")
    loader.AddSignalTree(f"{path}:TreeS", 1.0, "Test")
    loader.AddBackgroundTree(f"{path}:TreeB", 1.0, "Training")
    with pytest.raises(DataError, match="class 'Signal' has no training events"):
        loader.GetDataSetInfo().GetDataSet()
    loader.PrepareTrainingAndTestTree("", "NormMode=NumEvents")
    ds = loader.GetDataSetInfo().GetDataSet()  # only a warning with another NormMode
    assert np.bincount(ds.train.class_id, minlength=2).tolist() == [0, 400]


def test_api_errors_and_getters(sb_file: Any) -> None:
    path, _ = sb_file
    loader = loader_xy(path)
    loader.AddSpectator("k")
    with pytest.raises(DataError, match="goes to training"):
        loader.AddEvent("Signal", ETreeType.kMaxTreeType, [1.0, 2.0, 3.0])
    with pytest.raises(DataError, match="SetInputTrees"):
        loader.SetInputTrees(f"{path}:TreeS")
    with pytest.raises(DataError, match="got 7 arguments"):
        loader.PrepareTrainingAndTestTree("", 1, 2, 3, 4, "x", "y")
    with pytest.raises(DataError, match="weight of tree TreeS"):
        loader.AddTree(f"{path}:TreeS", "Signal", float("nan"))
    with pytest.raises(DataError, match="a cut must be a string"):
        loader.SetCut(3)  # type: ignore[arg-type]
    loader.AddTree(f"{path}:TreeS", "Signal", 1.0, "", 2)  # kMaxTreeType as a number
    info = loader.GetDataSetInfo()
    assert (info.GetNVariables(), info.GetNTargets(), info.GetNSpectators(), info.GetNClasses()) == (
        2,
        0,
        1,
        2,
    )
    assert info.GetClassInfo("nope") is None
    assert info.GetClassInfo(5) is None
    assert info.GetClassInfo(1).GetName() == "Background"  # type: ignore[union-attr]
    assert info.GetVariableInfo(1).expression == "y"
    assert info.GetSpectatorInfo(0).internal_name == "k"
    assert info.GetClassNameMaxLength() == len("Background")
    assert not info.HasCuts()
    assert "DataSetInfo('dataset'" in repr(info)
