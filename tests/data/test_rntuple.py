"""RNTuple as a first-class input: every form that takes a TTree takes an RNTuple.

Expectations are independent of pymva: ROOT wrote ``root_rntuple_events.root`` (an RNTuple) and
``root_ttree_events_twin.root`` (a TTree with exactly the same values, written by ROOT from the
RNTuple; ``../shared/data/rntuple/README.md``), so every DataSet built from the RNTuple must equal the
one built from the TTree; files written here with uproot are compared with the numpy arrays written.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from pymva import TFile
from pymva.data.loader import DataLoader
from pymva.errors import DataError

pytestmark = pytest.mark.realdata

VARIABLES = ["var1", "var2", "njet", "Sum$(jet_pt)", "jet_pt[0]", "Length$(jet_pt)"]


@pytest.fixture(scope="module")
def rntuple_dir() -> Path:
    from conftest import SHARED_DATA

    return SHARED_DATA / "rntuple"


def _dataset(signal: object, background: object, cut: str = "njet>0", weight: str = "weight") -> object:
    loader = DataLoader("rn")
    for v in VARIABLES:
        loader.AddVariable(v)
    loader.AddSpectator("eventNumber")
    loader.AddSignalTree(signal)
    loader.AddBackgroundTree(background)
    loader.SetWeightExpression(weight)
    loader.PrepareTrainingAndTestTree(cut, "SplitMode=Alternate:NormMode=None:!V:!CalcCorrelations")
    return loader.GetDataSetInfo().GetDataSet()


def _same(a: object, b: object) -> None:
    for part in ("train", "test"):
        sa, sb = getattr(a, part), getattr(b, part)
        np.testing.assert_array_equal(sa.X, sb.X)
        np.testing.assert_array_equal(sa.weights, sb.weights)
        np.testing.assert_array_equal(sa.class_id, sb.class_id)
        np.testing.assert_array_equal(sa.spectators, sb.spectators)


def test_root_written_rntuple_builds_the_dataset_of_its_ttree_twin(rntuple_dir: Path) -> None:
    rn = f"{rntuple_dir}/root_rntuple_events.root:events"
    tt = f"{rntuple_dir}/root_ttree_events_twin.root:events"
    ds_rn = _dataset(rn, rn)
    ds_tt = _dataset(tt, tt)
    _same(ds_rn, ds_tt)
    # and the values are the file's: the selected entries of the twin, read with uproot
    twin = uproot.open(tt).arrays(["var1", "njet", "weight"], library="np")
    keep = twin["njet"] > 0
    n_sel = int(keep.sum())
    assert len(ds_rn.train) + len(ds_rn.test) == 2 * n_sel
    # Alternate split: the first selected entry goes to training
    assert ds_rn.train.X[:, 0].dtype == np.float32
    assert set(ds_rn.train.X[:, 0].tolist()) <= set(twin["var1"][keep].tolist())


def test_bare_path_uproot_objects_and_tfile_get_take_rntuples(rntuple_dir: Path) -> None:
    bare = str(rntuple_dir / "root_rntuple_sig.root")  # the only tree in the file
    up = uproot.open(rntuple_dir / "root_rntuple_bkg.root")["bkg"]
    wrapped = TFile.Open(str(rntuple_dir / "root_rntuple_bkg.root")).Get("bkg")
    loader_vars = ["var1", "var2", "Sum$(jet_pt)"]
    results = []
    for bkg in (up, wrapped, f"{rntuple_dir}/root_rntuple_bkg.root:bkg"):
        loader = DataLoader("rn")
        for v in loader_vars:
            loader.AddVariable(v)
        loader.AddSignalTree(bare)
        loader.AddBackgroundTree(bkg)
        loader.PrepareTrainingAndTestTree("", "SplitMode=Block:NormMode=None:!V:!CalcCorrelations")
        results.append(loader.GetDataSetInfo().GetDataSet())
    for other in results[1:]:
        _same(results[0], other)
    sig = uproot.open(bare)["sig"].arrays(["var1", "jet_pt"], library="ak")
    bkg = up.arrays(["var1"], library="np")
    n_sig = len(sig)
    ds = results[0]
    x = np.concatenate([ds.train.X, ds.test.X])
    cls = np.concatenate([ds.train.class_id, ds.test.class_id])
    np.testing.assert_array_equal(np.sort(x[cls == 0, 0]), np.sort(np.asarray(sig["var1"], dtype=np.float32)))
    np.testing.assert_array_equal(np.sort(x[cls == 1, 0]), np.sort(bkg["var1"].astype(np.float32)))
    sums = np.asarray(ak.sum(sig["jet_pt"], axis=1), dtype=np.float64).astype(np.float32)
    np.testing.assert_allclose(np.sort(x[cls == 0, 2]), np.sort(sums), rtol=1e-6)
    assert (cls == 0).sum() == n_sig


def test_a_chain_may_mix_ttrees_and_rntuples(rntuple_dir: Path) -> None:
    rn = f"{rntuple_dir}/root_rntuple_events.root:events"
    tt = f"{rntuple_dir}/root_ttree_events_twin.root:events"
    mixed = _dataset([rn, tt], [tt, rn], cut="", weight="")
    twice = _dataset([tt, tt], [tt, tt], cut="", weight="")
    _same(mixed, twice)
    # jet_pt[0] gives no event for entries without jets (as TTreeFormula): 4 files' worth of the rest
    njet = uproot.open(tt)["njet"].array(library="np")
    assert len(mixed.train) + len(mixed.test) == 4 * int((njet > 0).sum())


def test_uproot_written_rntuple_with_nested_and_jagged_fields(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 300
    x = rng.normal(size=n).astype(np.float32)
    counts = rng.integers(0, 4, size=n)
    jets = ak.unflatten(rng.exponential(20.0, size=int(counts.sum())).astype(np.float32), counts)
    a = rng.normal(size=n)
    path = tmp_path / "nt.root"
    with uproot.recreate(path) as f:
        f["events"] = {
            "x": x,
            "jet": jets,
            "s": ak.zip({"a": a, "b": np.arange(n)}),
        }  # uproot >= 5.7: RNTuple
    assert uproot.open(path).classnames() == {"events;1": "ROOT::RNTuple"}
    loader = DataLoader("nt")
    for v in ("x", "s.a", "Sum$(jet)", "jet[1]"):
        loader.AddVariable(v)
    loader.AddRegressionTree(f"{path}:events")
    loader.AddTarget("s.b")
    loader.PrepareTrainingAndTestTree("Length$(jet)>1", "nTrain_Regression=0:SplitMode=Block:!V")
    ds = loader.GetDataSetInfo().GetDataSet()
    keep = counts > 1
    X = np.concatenate([ds.train.X, ds.test.X])
    np.testing.assert_array_equal(X[:, 0], x[keep])
    np.testing.assert_array_equal(X[:, 1], a[keep].astype(np.float32))
    expected_sum = np.asarray(ak.sum(jets, axis=1), dtype=np.float64)[keep].astype(np.float32)
    np.testing.assert_allclose(X[:, 2], expected_sum, rtol=1e-6)
    np.testing.assert_array_equal(X[:, 3], np.asarray(jets[keep][:, 1], dtype=np.float32))
    np.testing.assert_array_equal(
        np.concatenate([ds.train.targets, ds.test.targets])[:, 0], np.arange(n)[keep]
    )


def test_errors_list_the_ttrees_and_the_rntuples(tmp_path: Path) -> None:
    path = tmp_path / "both.root"
    with uproot.recreate(path) as f:
        f.mktree("TreeS", {"x": np.float32}).extend({"x": np.arange(3, dtype=np.float32)})
        f["ntupleB"] = {"x": np.arange(3, dtype=np.float32)}
        f["h"] = np.histogram(np.arange(3.0), bins=3)
    loader = DataLoader("e")
    loader.AddVariable("x")
    with pytest.raises(DataError, match=r"TTrees and RNTuples in the file: ") as info:
        loader.AddSignalTree(f"{path}:TreeB")
    assert "'TreeS'" in str(info.value)
    assert "ntupleB" in str(info.value)
    with pytest.raises(DataError, match=r"several trees \(TTrees and RNTuples: "):
        loader.AddSignalTree(str(path))
    with pytest.raises(DataError, match=r"'h' .* is a TH1D, not a TTree or RNTuple"):
        loader.AddSignalTree(f"{path}:h")


def test_pyroot_style_loop_over_an_rntuple_reads_the_twin_values(rntuple_dir: Path) -> None:
    t = TFile.Open(str(rntuple_dir / "root_rntuple_events.root")).Get("events")
    twin = uproot.open(rntuple_dir / "root_ttree_events_twin.root")["events"].arrays(library="ak")
    assert [b.GetName() for b in t.GetListOfBranches()] == [
        "var1",
        "var2",
        "weight",
        "njet",
        "jet_pt",
        "eventNumber",
    ]
    assert t.GetEntries() == len(twin)
    v = array("f", [0.0])
    nj = np.zeros(1, np.int32)
    jp = np.zeros(64, np.float32)
    ev = np.zeros(1, np.uint64)
    t.SetBranchAddress("var1", v)
    t.SetBranchAddress("njet", nj)
    t.SetBranchAddress("jet_pt", jp)
    t.SetBranchAddress("eventNumber", ev)
    for i in (0, 17, 4999, 2500):
        t.GetEntry(i)
        assert v[0] == pytest.approx(float(twin["var1"][i]), abs=0)
        assert nj[0] == twin["njet"][i]
        np.testing.assert_array_equal(jp[: nj[0]], np.asarray(twin["jet_pt"][i], dtype=np.float32))
        assert ev[0] == twin["eventNumber"][i]
