"""pymva.io.rootfile: ROOT's TFile/TTree/TString on uproot, as the TMVA tutorials use them.

Expectations come from uproot reading the same real ROOT files independently (branch lists, entry
counts, every value of every entry), from ROOT's documented behaviour (``GetEntry`` returns 0 past
the end, ``GetBranch`` returns None for a missing branch, ``Get`` returns the same tree object) and
from the DataLoader fed with the plain uproot tree.
"""

from __future__ import annotations

import pickle
from array import array
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import uproot

from pymva import TMVA, DataError, OptionError, TCut, TFile, TString, TTree
from pymva.factory import Factory
from pymva.io.rootfile import TBranch, canvas_class, output_file_path
from pymva.toydata import create_class_example

SAMPLE = "uproot-sample-6.20.04-zlib.root"
HZZ = "uproot-HZZ.root"

#: array.array typecode that holds each scalar branch of the sample file exactly
_TYPECODES = {
    "n": "i", "b": "b", "i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I",
    "i8": "q", "u8": "Q", "f4": "f", "f8": "d",
}  # fmt: skip


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ------------------------------------------------------------------------------------------- TFile
def test_open_get_and_list_keys_like_uproot(shared_data: Path) -> None:
    path = str(shared_data / HZZ)
    ref = uproot.open(path)
    with TFile.Open(path) as f:
        assert f.GetName() == path
        assert f.GetOption() == "READ"
        assert f.IsOpen()
        assert not f.IsZombie()
        assert not f.IsWritable()
        keys = f.GetListOfKeys()
        assert [k.GetName() for k in keys] == [k.split(";")[0] for k in ref.keys(recursive=False)]
        assert [k.GetClassName() for k in keys] == list(ref.classnames(recursive=False).values())
        assert keys.GetEntries() == len(keys) == 1
        assert keys.At(0) is keys[0]
        assert keys.At(1) is None
        assert keys.FindObject("events") is keys[0]
        tree = f.Get("events")
        assert isinstance(tree, TTree)
        assert f.Get("events") is tree  # ROOT returns the same in-memory tree
        assert f.Get("events;1") is tree
        assert f.events is tree  # PyROOT's attribute access
        assert keys[0].ReadObj().GetEntries() == tree.GetEntries()
        assert tree.uproot_tree.num_entries == ref["events"].num_entries
    assert not f.IsOpen()
    f.Close()  # twice is harmless
    TFile(path, "read").Close()  # constructor form, case-insensitive option


def test_tree_description_like_uproot(shared_data: Path) -> None:
    ref = uproot.open(shared_data / SAMPLE)["sample"]
    tree = TFile.Open(str(shared_data / SAMPLE)).Get("sample")
    assert tree.GetName() == "sample" == ref.name
    assert tree.GetTitle() == ref.title
    assert tree.GetEntries() == tree.GetEntriesFast() == ref.num_entries == 30
    branches = tree.GetListOfBranches()
    assert [b.GetName() for b in branches] == [b.name for b in ref.branches]
    assert [b.GetTitle() for b in branches] == [b.title for b in ref.branches]
    assert branches.GetEntries() == len(ref.branches)
    assert branches.FindObject("f4").GetTitle() == "f4/F"
    assert all(b.GetEntries() == 30 for b in branches)
    af4 = tree.GetBranch("Af4")
    assert isinstance(af4, TBranch)
    assert af4.GetTitle() == "Af4[n]/F"
    assert af4.GetListOfBranches() == []
    assert tree.GetBranch("nope") is None  # ROOT: a null pointer


def test_tree_in_a_subdirectory_and_after_close(workdir: Path) -> None:
    with uproot.recreate("nested.root") as out:
        out.mkdir("dir")
        t = out.mktree("dir/T", {"x": np.float64})
        t.extend({"x": np.arange(5.0)})
    f = TFile.Open("nested.root")
    tree = f.Get("dir/T")
    assert isinstance(tree, TTree)
    assert f.Get("/dir/T;1") is tree
    assert [(k.GetName(), k.GetClassName()) for k in f.GetListOfKeys()] == [("dir", "TDirectory")]
    x = array("d", [0])
    tree.SetBranchAddress("x", x)
    tree.chunk_entries = 2
    tree.GetEntry(3)
    assert x[0] == 3.0
    f.Close()
    tree.GetEntry(2)  # still in memory
    assert x[0] == 2.0
    with pytest.raises(DataError, match=r"tree 'T': cannot read entries 4\.\.4 of branch 'x'.*closed"):
        tree.GetEntry(4)


def test_file_errors_name_what_exists(shared_data: Path, workdir: Path) -> None:
    with pytest.raises(DataError, match=r"uproot-HZ\.root' does not exist; did you mean .*uproot-HZZ\.root"):
        TFile.Open(str(shared_data / "uproot-HZ.root"))
    Path("not_root.root").write_bytes(b"plain text, not a ROOT file" * 20)
    with pytest.raises(DataError, match=r"cannot open 'not_root\.root' as a ROOT file"):
        TFile.Open("not_root.root")
    f = TFile.Open(str(shared_data / HZZ))
    with pytest.raises(DataError, match=r"no key 'event' in file .*did you mean 'events'\?.*keys: events"):
        f.Get("event")
    with pytest.raises(AttributeError, match=r"no key 'evnts'.*did you mean 'events'"):
        _ = f.evnts
    with pytest.raises(OptionError, match=r"UPDATE.*cannot add objects"):
        TFile.Open("x.root", "UPDATE")
    with pytest.raises(OptionError, match=r"unknown option; did you mean 'RECREATE'"):
        TFile.Open("x.root", "RECRATE")
    Path("exists.root").write_bytes(b"")
    for option in ("NEW", "CREATE"):
        with pytest.raises(DataError, match=r"exists already.*use 'RECREATE'"):
            TFile.Open("exists.root", option)
    f.Close()
    with pytest.raises(DataError, match=r"is closed"):
        f.Get("events")


def test_output_file_handle(workdir: Path) -> None:
    out = TFile.Open("out.root", "RECREATE")
    assert out.IsOpen()
    assert out.IsWritable()
    assert out.GetOption() == "RECREATE"
    assert output_file_path(out) == "out.root"
    assert not Path("out.root").exists()  # the Factory writes it, at the end of EvaluateAllMethods
    assert TFile("new.root", "NEW").GetOption() == "CREATE"
    with pytest.raises(DataError, match=r"opened RECREATE as a Factory's output file"):
        out.Get("TreeS")
    out.Close()
    assert not out.IsOpen()
    assert not out.IsWritable()
    with pytest.raises(OptionError, match=r"'out\.root' is closed; open it with TFile\.Open"):
        output_file_path(out)
    with pytest.raises(OptionError, match=r"outputFile must be a path, a TFile .* got int"):
        output_file_path(3)


def test_tstring_is_a_str() -> None:
    s = TString("dataset/weights/TMVAClassification_PyTorch.weights.xml")
    assert isinstance(s, str)
    assert s.Data() == s == "dataset/weights/TMVAClassification_PyTorch.weights.xml"
    assert s.Length() == len(s)
    assert TString() == ""


def test_ttree_cannot_be_created() -> None:
    with pytest.raises(DataError, match=r"pymva cannot create trees"):
        TTree("t", "a new tree")
    with pytest.raises(DataError, match=r"wraps an uproot TTree or RNTuple, got dict"):
        TTree({})


# ------------------------------------------------------------------------------------------- GetEntry
@pytest.mark.parametrize("chunk", [7, 10_000])
def test_getentry_loop_scalars_of_every_type(shared_data: Path, chunk: int) -> None:
    ref = uproot.open(shared_data / SAMPLE)["sample"].arrays(list(_TYPECODES), library="np")
    tree = TFile.Open(str(shared_data / SAMPLE)).Get("sample")
    tree.chunk_entries = chunk  # 7: the 30 entries cross four chunk boundaries
    buffers = {name: array(code, [0]) for name, code in _TYPECODES.items()}
    as_numpy = {name: np.zeros(2, dtype=ref[name].dtype) for name in ("f8", "u8", "b")}
    for name, buf in buffers.items():
        assert tree.SetBranchAddress(name, buf) == 0
    for name, nbuf in as_numpy.items():
        tree.SetBranchAddress(name, nbuf)  # rebinding replaces the array.array buffer
    got: dict[str, list[Any]] = {name: [] for name in _TYPECODES}
    assert tree.GetReadEntry() == -1
    for i in range(tree.GetEntries()):
        assert tree.GetEntry(i) > 0
        assert tree.GetReadEntry() == i
        for name in _TYPECODES:
            got[name].append(as_numpy[name][0] if name in as_numpy else buffers[name][0])
    for name in _TYPECODES:
        np.testing.assert_array_equal(np.array(got[name], dtype=ref[name].dtype), ref[name], err_msg=name)
    assert tree.GetEntry(30) == 0
    assert tree.GetEntry(-1) == 0
    assert tree.GetReadEntry() == 29


def test_getentry_fixed_size_arrays_and_conversion(shared_data: Path) -> None:
    ref = uproot.open(shared_data / SAMPLE)["sample"].arrays(["af8", "ai4", "f8"], library="np")
    tree = TFile.Open(str(shared_data / SAMPLE)).Get("sample")
    tree.chunk_entries = 4
    af8 = np.zeros(3)
    ai4 = array("i", [0, 0, 0, -1])  # room for more: the rest stays untouched
    f8_as_float = array("f", [0])  # converted to the buffer's type (ROOT needs a matching type)
    tree.SetBranchAddress("af8", af8)
    tree.SetBranchAddress("ai4", ai4)
    tree.SetBranchAddress("f8", f8_as_float)
    for i in reversed(range(tree.GetEntries())):  # backwards across chunks
        tree.GetEntry(i)
        np.testing.assert_array_equal(af8, ref["af8"][i])
        np.testing.assert_array_equal(ai4[:3], ref["ai4"][i])
        assert ai4[3] == -1
        assert f8_as_float[0] == np.float32(ref["f8"][i])
    with pytest.raises(DataError, match=r"each entry of 'af4' holds 3 values, the buffer only 2"):
        tree.SetBranchAddress("af4", np.zeros(2, np.float32))


def test_getentry_leaf_list_branch_written_by_root(ROOT: Any, tmp_path: Path) -> None:
    """A branch with a leaf list (TMVA's multiclass response ``Signal/F:Bkg0/F:Bkg1/F``), written by
    ROOT: SetBranchAddress with a buffer of one float per leaf gets the leaves in order, as in ROOT."""
    path = tmp_path / "leaflist.root"
    f = ROOT.TFile(str(path), "RECREATE")
    t = ROOT.TTree("TestTree", "TestTree")
    values = array("f", [0.0, 0.0, 0.0])
    t.Branch("DNN", values, "Signal/F:Bkg0/F:Bkg1/F")
    expected = [[0.5 * i, -float(i), 3.0 + i] for i in range(7)]
    for row in expected:
        values[0], values[1], values[2] = row
        t.Fill()
    t.Write()
    f.Close()
    tree = TFile.Open(str(path)).Get("TestTree")
    tree.chunk_entries = 3
    buf = np.zeros(3, np.float32)
    tree.SetBranchAddress("DNN", buf)
    for i in reversed(range(tree.GetEntries())):
        tree.GetEntry(i)
        np.testing.assert_array_equal(buf, np.asarray(expected[i], np.float32))
    with pytest.raises(DataError, match="holds 3 values, the buffer only 2"):
        tree.SetBranchAddress("DNN", np.zeros(2, np.float32))


def test_getentry_jagged_branches(shared_data: Path) -> None:
    names = ["Jet_Px", "Muon_Charge", "Jet_ID", "NJet", "MET_px"]
    ref = uproot.open(shared_data / HZZ)["events"].arrays(names, library="np")
    tree = TFile.Open(str(shared_data / HZZ)).Get("events")
    tree.chunk_entries = 1000  # 2421 entries: three chunks
    jets = np.full(16, -1.0, np.float32)
    charges = array("i", [0] * 16)
    jet_id = np.zeros(16, bool)
    njet = array("i", [0])
    met = array("d", [0])
    for name, buf in zip(names, (jets, charges, jet_id, njet, met), strict=True):
        tree.SetBranchAddress(name, buf)
    n_charges = 0
    for i in range(tree.GetEntries()):
        assert tree.GetEntry(i) > 0
        n = njet[0]
        assert n == ref["NJet"][i] == len(ref["Jet_Px"][i])
        np.testing.assert_array_equal(jets[:n], ref["Jet_Px"][i])
        np.testing.assert_array_equal(jet_id[:n], ref["Jet_ID"][i])
        m = len(ref["Muon_Charge"][i])
        np.testing.assert_array_equal(np.asarray(charges[:m]), ref["Muon_Charge"][i])
        n_charges += m
        assert met[0] == float(ref["MET_px"][i])
    assert n_charges > 2000  # the loop saw real, non-empty jagged entries
    small = np.zeros(1, np.float32)
    tree.ResetBranchAddresses()
    tree.SetBranchAddress("Jet_Px", small)
    big = int(np.argmax([len(x) for x in ref["Jet_Px"]]))
    with pytest.raises(DataError, match=rf"entry {big} of branch 'Jet_Px' holds \d+ values.*room for 1"):
        tree.GetEntry(big)


def test_getentry_reads_in_chunks(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = TFile.Open(str(shared_data / HZZ)).Get("events")
    reads: list[tuple[str, int, int]] = []
    branch_class = type(tree.uproot_tree["MET_px"])
    original = branch_class.array

    def counting_array(self: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append((self.name, kwargs["entry_start"], kwargs["entry_stop"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(branch_class, "array", counting_array)
    met, mety = array("f", [0]), array("f", [0])
    tree.SetBranchAddress("MET_px", met)
    tree.SetBranchAddress("MET_py", mety)
    tree.chunk_entries = 1000
    for i in range(tree.GetEntries()):
        tree.GetEntry(i)
    assert sorted(reads) == sorted(
        (name, start, min(start + 1000, 2421)) for name in ("MET_px", "MET_py") for start in (0, 1000, 2000)
    )


def test_iteration_and_attribute_access(shared_data: Path) -> None:
    ref = uproot.open(shared_data / SAMPLE)["sample"].arrays(["i4", "af4", "Af8", "str", "b"], library="np")
    tree = TFile.Open(str(shared_data / SAMPLE)).Get("sample")
    with pytest.raises(DataError, match=r"tree\.i4: no entry has been read yet; call GetEntry"):
        _ = tree.i4
    tree.chunk_entries = 8
    seen = 0
    for i, event in enumerate(tree):
        assert event is tree
        assert event.i4 == ref["i4"][i]
        assert isinstance(event.i4, int)
        assert event.b is bool(ref["b"][i])
        np.testing.assert_array_equal(event.af4, ref["af4"][i])
        np.testing.assert_array_equal(event.Af8, ref["Af8"][i])
        assert event.str == ref["str"][i]
        seen += 1
    assert seen == 30
    with pytest.raises(AttributeError, match=r"no branch 'I4'; did you mean 'i4'"):
        _ = tree.I4


def test_setbranchaddress_errors(shared_data: Path) -> None:
    tree = TFile.Open(str(shared_data / HZZ)).Get("events")
    with pytest.raises(DataError, match=r"no branch 'Jet_px' in tree 'events'; did you mean 'Jet_Px'"):
        tree.SetBranchAddress("Jet_px", array("f", [0]))
    with pytest.raises(DataError, match=r"must be an array\.array .* got list"):
        tree.SetBranchAddress("MET_px", [0.0])
    with pytest.raises(DataError, match=r"the buffer is empty"):
        tree.SetBranchAddress("MET_px", array("f"))
    with pytest.raises(DataError, match=r"numeric or bool dtype"):
        tree.SetBranchAddress("MET_px", np.zeros(1, dtype="U3"))
    with pytest.raises(DataError, match=r"writeable and C-contiguous"):
        tree.SetBranchAddress("Jet_Px", np.zeros((4, 4), np.float32)[:, 0])
    sample = TFile.Open(str(shared_data / SAMPLE)).Get("sample")
    with pytest.raises(DataError, match=r"'str' is a string branch.*read it as tree\.str"):
        sample.SetBranchAddress("str", array("b", [0] * 8))


# ------------------------------------------------------------------------------------------- with TMVA
def _loader(signal: Any, background: Any) -> Any:
    loader = TMVA.DataLoader("dataset")
    for branch in signal.GetListOfBranches() if isinstance(signal, TTree) else signal.branches:
        loader.AddVariable(branch.GetName() if isinstance(branch, TBranch) else branch.name)
    loader.AddSignalTree(signal, 1.0)
    loader.AddBackgroundTree(background, 1.0)
    loader.PrepareTrainingAndTestTree(TCut(""), "nTrain_Signal=200:nTrain_Background=200:SplitMode=Random:!V")
    return loader


def test_dataloader_reads_a_wrapped_tree_as_the_uproot_tree(workdir: Path) -> None:
    create_class_example("in.root", n_events=400)
    wrapped = TFile.Open("in.root")
    plain = uproot.open("in.root")
    a = _loader(wrapped.Get("TreeS"), wrapped.Get("TreeB")).GetDataSetInfo().GetDataSet()
    b = _loader(plain["TreeS"], plain["TreeB"]).GetDataSetInfo().GetDataSet()
    for sa, sb in ((a.train, b.train), (a.test, b.test)):
        assert len(sa.X) > 0
        np.testing.assert_array_equal(sa.X, sb.X)
        np.testing.assert_array_equal(sa.weights, sb.weights)
        np.testing.assert_array_equal(sa.class_id, sb.class_id)


def test_factory_takes_a_recreate_tfile_and_roc_saveas(workdir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    create_class_example("in.root", n_events=400)
    data = TFile.Open("in.root")
    output = TFile.Open("out.root", "RECREATE")
    factory = TMVA.Factory("Job", output, "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = _loader(data.Get("TreeS"), data.Get("TreeB"))
    factory.BookMethod(loader, TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    assert not Path("out.root").exists()
    factory.EvaluateAllMethods()
    output.Close()
    written = uproot.open("out.root")
    assert written["dataset/TestTree"].num_entries == 400
    assert "Fisher" in written["dataset/TestTree"]

    roc = factory.GetROCCurve(loader)
    assert isinstance(cast(object, roc), Figure)  # cast: keep the TCanvas methods visible to mypy
    assert roc.Draw() is None
    roc.SaveAs("roc.png")
    assert Path("roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    roc.Print(TString("roc.pdf"))
    assert Path("roc.pdf").read_bytes()[:5] == b"%PDF-"
    roc.savefig("plain.png")  # still a matplotlib figure
    assert Path("plain.png").stat().st_size > 1000
    with pytest.raises(OptionError, match=r"cannot save a figure as '\.C'"):
        roc.SaveAs("roc.C")
    assert not [p for p in Path().iterdir() if p.name.endswith(".tmp")]
    again = pickle.loads(pickle.dumps(roc))
    assert type(again) is canvas_class()
    assert hasattr(again, "SaveAs")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_factory_refuses_a_file_opened_for_reading(workdir: Path) -> None:
    create_class_example("in.root", n_events=50)
    with pytest.raises(OptionError, match=r"output file 'in\.root' was opened READ.*'RECREATE'"):
        Factory("Job", TFile.Open("in.root"), "Silent")
    with pytest.raises(OptionError, match=r"outputFile must be a path"):
        Factory("Job", object(), "Silent")  # type: ignore[arg-type]
