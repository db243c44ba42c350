"""Real ROOT as the oracle: TTreeFormula against pymva's expressions, TFile/TTree::Draw on pymva's output.

ROOT (the PyPI package ``root``, ROOT 6.40 with PyROOT; extra ``pymva[root-tests]``) evaluates every
expression with ``TTreeFormula`` — ``GetNdata()`` instances per entry, ``EvalInstance(i)`` each — on
the files in ``../shared/data`` and on small trees that ROOT itself writes here; pymva must give the
same instances and values.  TMVA's event building (``DataSetFactory::BuildEventVector``) is replayed
on ROOT's formulas entry by entry and compared with :func:`pymva.data.expression.build_events`.
Finally ROOT opens a file written by a pymva Factory job and draws its trees and histograms.
"""

from __future__ import annotations

import array
import contextlib
import logging
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
import uproot

from pymva.data.expression import Formula, build_events
from pymva.data.sources import FileTreeSource

pytestmark = pytest.mark.realdata

#: instances of an expression: (number of instances per entry, int64; their values, float64)
Instances = tuple[np.ndarray, np.ndarray]


@contextlib.contextmanager
def _quiet(ROOT: Any) -> Iterator[None]:
    """ROOT prints an error for every out-of-range index it evaluates; not needed here."""
    before = ROOT.gErrorIgnoreLevel
    ROOT.gErrorIgnoreLevel = ROOT.kFatal
    try:
        yield
    finally:
        ROOT.gErrorIgnoreLevel = before


class _RootTree:
    """A tree opened in ROOT, with its formulas' instances per entry."""

    def __init__(self, ROOT: Any, path: Path, name: str) -> None:
        self.ROOT = ROOT
        self.file = ROOT.TFile.Open(str(path))
        assert self.file, path
        assert not self.file.IsZombie(), path
        self.tree = self.file.Get(name)
        assert self.tree, f"no tree {name} in {path}"
        self.n = int(self.tree.GetEntries())

    def formula(self, text: str) -> Any:
        with _quiet(self.ROOT):
            f = self.ROOT.TTreeFormula("f", text, self.tree)
        return f if f.GetNdim() > 0 else None

    def instances(self, text: str) -> Instances | None:
        """ROOT's instances of ``text`` in every entry; None when ROOT refuses the expression."""
        f = self.formula(text)
        if f is None:
            return None
        counts: list[int] = []
        values: list[float] = []
        with _quiet(self.ROOT):
            for i in range(self.n):
                self.tree.LoadTree(i)
                nd = f.GetNdata()
                counts.append(nd)
                values.extend(f.EvalInstance(k) for k in range(nd))
        return np.array(counts, dtype=np.int64), np.array(values, dtype=np.float64)


_ARRAYS: dict[tuple[Path, str], dict[str, Any]] = {}


def _pymva_instances(path: Path, tree: str, text: str) -> Instances:
    """pymva's instances of ``text``, read as a DataLoader reads (FileTreeSource, one chunk)."""
    key = (path, tree)
    if key not in _ARRAYS:  # read every branch once
        source = FileTreeSource(str(path), tree)
        names = [b for b, (kind, _) in source.branch_kinds().items() if kind in ("number", "array", "string")]
        (_ARRAYS[key],) = list(source.iterate(names, 10**9))
    value = Formula(text).evaluate(_ARRAYS[key])
    if value.ndim == 1:  # one value per entry, None without instance
        counts = np.asarray(~ak.is_none(value), dtype=np.int64)
        return counts, np.asarray(ak.drop_none(value), dtype=np.float64)
    return np.asarray(ak.num(value, axis=1), dtype=np.int64), np.asarray(ak.flatten(value), dtype=np.float64)


def _assert_same(root: Instances, mine: Instances, text: str) -> None:
    (rn, rv), (mn, mv) = root, mine
    bad = np.flatnonzero(rn != mn)
    assert len(bad) == 0, (
        f"{text!r}: numbers of instances differ in entries {bad[:5]}: ROOT {rn[bad[:5]]}, pymva {mn[bad[:5]]}"
    )
    # both compute in double precision from the same stored numbers; the libm functions may differ
    # in the last bit
    np.testing.assert_allclose(
        mv, rv, rtol=4 * np.finfo(np.float64).eps, atol=0, equal_nan=True, err_msg=text
    )


# --------------------------------------------------------------------------------------------------
# trees written by ROOT for these tests


@pytest.fixture(scope="session")
def hzz(ROOT: Any, shared_data: Path) -> _RootTree:
    return _RootTree(ROOT, shared_data / "uproot-HZZ.root", "events")


@pytest.fixture(scope="session")
def lengths_file(ROOT: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three variable-size arrays a[na], b[nb], c[nc] in every combination of lengths 0..3 (ROOT-written)."""
    path = tmp_path_factory.mktemp("oracle") / "lengths.root"
    f = ROOT.TFile(str(path), "RECREATE")
    t = ROOT.TTree("t", "arrays of different lengths")
    sizes = {k: array.array("i", [0]) for k in "abc"}
    data = {k: array.array("d", [0.0] * 4) for k in "abc"}
    for k in "abc":
        t.Branch(f"n{k}", sizes[k], f"n{k}/I")
        t.Branch(k, data[k], f"{k}[n{k}]/D")
    for na in range(4):
        for nb in range(4):
            for nc in range(4):
                for k, n, base in (("a", na, 100.0), ("b", nb, 200.0), ("c", nc, 300.0)):
                    sizes[k][0] = n
                    for i in range(4):
                        data[k][i] = base + i
                t.Fill()
    t.Write()
    f.Close()
    return path


@pytest.fixture(scope="session")
def objects_file(ROOT: Any, shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``uproot-HZZ-objects.root`` as scikit-hep-testdata has it, rewritten here by ROOT from
    uproot-HZZ.root: ``MET`` (TVector2) and ``muonp4`` (std::vector<TLorentzVector>) per event."""
    src = uproot.open(shared_data / "uproot-HZZ.root")["events"]
    a = src.arrays(["MET_px", "MET_py", "Muon_Px", "Muon_Py", "Muon_Pz", "Muon_E"], library="np")
    path = tmp_path_factory.mktemp("oracle") / "uproot-HZZ-objects.root"
    f = ROOT.TFile(str(path), "RECREATE")
    t = ROOT.TTree("events", "HZZ with objects")
    met = ROOT.TVector2()
    mu = ROOT.std.vector("TLorentzVector")()
    t.Branch("MET", met, 32000, 99)
    t.Branch("muonp4", mu, 32000, 0)  # TLorentzVector has a custom streamer: not split
    for i in range(len(a["MET_px"])):
        met.Set(float(a["MET_px"][i]), float(a["MET_py"][i]))
        mu.clear()
        for px, py, pz, e in zip(
            a["Muon_Px"][i], a["Muon_Py"][i], a["Muon_Pz"][i], a["Muon_E"][i], strict=True
        ):
            mu.push_back(ROOT.TLorentzVector(float(px), float(py), float(pz), float(e)))
        t.Fill()
    t.Write()
    f.Close()
    return path


# --------------------------------------------------------------------------------------------------
# TTreeFormula

HZZ_EXPRESSIONS = [
    # plain, indexed and jagged
    "NMuon", "Muon_Px", "Muon_Px[0]", "Muon_Px[1]", "Muon_Px[2]", "Muon_Px*2 + NMuon",
    "sqrt(Muon_Px[0]^2 + Muon_Py[0]^2)", "Muon_Px - Muon_Px[0]", "Muon_Px - Muon_Px[1]",
    # an index past the end inside && and ?:  -> no instance at all (issue: 1413, not 2421)
    "NMuon>1 && Muon_Px[1]>10", "NMuon>1 ? Muon_Px[1] : -1", "NMuon<2 || Muon_Px[1]>0",
    "Muon_Px[1]||1", "!(Muon_Px[1]>0)",
    # computed indices out of range (negative, past the end) -> NaN, one instance
    "Muon_Px[NMuon-1]", "Muon_Px[NJet]", "Muon_Px[NJet]>0", "(Muon_Px[NJet]>0)||1", "1||Muon_Px[NJet]>0",
    "Jet_Px[NMuon-1]*Muon_Px",
    # arrays of different lengths: ROOT's count (1 is overridden by the next length)
    "Muon_Px+Jet_Px", "Jet_Px+Muon_Px", "Muon_Px*Jet_Px*Photon_Px", "Muon_Px[0]+Jet_Px",
    "Muon_Px[NJet]+Jet_Px",
    # special functions
    "Alt$(Muon_Px[1],0)", "Alt$(Muon_Px[1],NMuon)", "Alt$(Jet_Px,-1)", "Alt$(Jet_Px,-1)+Muon_Px",
    "Length$(Muon_Px)", "Length$(Muon_Px[1])", "Length$(Muon_Px+Jet_Px)", "Sum$(Muon_Px>0)",
    "Sum$(Muon_Px+Jet_Px)", "Max$(Jet_Px)+Muon_Px[1]", "Min$(Muon_Px)", "MaxIf$(Jet_Px, Jet_Px>0)",
    # functions: TMath's are std's (NaN outside the domain), ROOT's own names are guarded
    "TMath::ASin(Muon_Px/10)", "TMath::ACos(Muon_Px/10)", "asin(Muon_Px/10)", "acos(Muon_Px/10)",
    "TMath::Sqrt(Muon_Px)", "sqrt(Muon_Px)", "log(Muon_Px)", "TMath::Log(Muon_Px)",
    "TMath::ATan2(Muon_Py, Muon_Px)", "atan2(MET_py, MET_px)", "TMath::Abs(Muon_Charge)",
    "Muon_Px/(NJet-1)", "NJet%2", "int(Muon_Px)", "TMath::Max(Muon_Px, Muon_Py)",
    # operator grouping
    "-NJet>>1", "-NJet<<1", "-NJet%2", "2*-NJet>>1", "-NJet*2", "NJet - -NMuon", "NJet-2^2",
    "NJet/-2", "1-NJet>>1", "NJet*-NMuon%3", "2^NJet^2", "NJet&3==3", "NJet|NMuon==1",
    "NJet>NMuon>=1", "NJet>=NMuon>1", "NJet<NMuon<3", "NJet==NMuon<2", "NJet<NMuon==1", "NJet>NMuon<2",
    "NJet<=NMuon<2", "NJet<NMuon<=2", "NJet!=NMuon==0", "NJet==NMuon!=0", "NJet>=1==NMuon>1",
    "triggerIsoMu24 && NMuon>=2", "EventWeight*(NMuon>=2)",
]  # fmt: skip


@pytest.mark.parametrize("text", HZZ_EXPRESSIONS)
def test_ttreeformula_on_hzz(hzz: _RootTree, shared_data: Path, text: str) -> None:
    root = hzz.instances(text)
    assert root is not None, f"ROOT refuses {text!r}"
    _assert_same(root, _pymva_instances(shared_data / "uproot-HZZ.root", "events", text), text)


LENGTH_EXPRESSIONS = [
    "a+b", "b+a", "a+b+c", "c+b+a", "a*b*c", "a+b-a", "a*(b>0)", "(a>0)+b", "a-a[1]", "a[1]+b",
    "b+a[1]", "a+b[0]", "a[na-1]", "a[nb]", "b[na]", "a[nb]+b", "a+b[nb-1]", "a[2]+0*b",
    "na>1 && a[1]>0", "na<5 && a[1]>0", "na>5 && b>0", "na>1 ? a[1] : b", "Alt$(b,0)+a",
    "Alt$(a[1],-1)+Alt$(b[2],-2)", "Sum$(a)+b", "Sum$(a+b)", "Length$(a+b)", "MinIf$(a,b>0)",
    "Max$(a*b)", "a[nb]>0", "!(a[nb])", "int(a[nb])",
]  # fmt: skip


@pytest.mark.parametrize("text", LENGTH_EXPRESSIONS)
def test_ttreeformula_on_arrays_of_every_length(ROOT: Any, lengths_file: Path, text: str) -> None:
    root = _RootTree(ROOT, lengths_file, "t").instances(text)
    assert root is not None, f"ROOT refuses {text!r}"
    _assert_same(root, _pymva_instances(lengths_file, "t", text), text)


@pytest.mark.parametrize(
    ("file", "tree", "texts"),
    [
        ("uproot-Zmumu.root", "events", ["M", "abs(M-91.19)<10", "sqrt(px1^2+py1^2)", "Q1*Q2<0", "E1+E2",
                                         "TMath::Log(E1)", "Q1>0 ? pt1 : pt2", "eta1>eta2>0"]),
        ("uproot-sample-6.20.04-zlib.root", "sample", ["i4", "f8*2", "af8", "af8[1]", "Af8", "Af8[1]",
                                                      "Af8[n]", "af8+Af8", "Af8+af8", "Sum$(Af8)", "u8+i8",
                                                      "b && i4>0", "ai4[2]%3"]),
        ("rntuple/root_ttree_events_twin.root", "events", ["var1", "jet_pt", "jet_pt[0]", "jet_pt[njet-1]",
                                                           "Max$(jet_pt)", "jet_pt*var2", "njet>1 && jet_pt[1]>20"]),
    ],
)  # fmt: skip
def test_ttreeformula_on_shared_files(
    ROOT: Any, shared_data: Path, file: str, tree: str, texts: Sequence[str]
) -> None:
    rt = _RootTree(ROOT, shared_data / file, tree)
    known = set(uproot.open(shared_data / file)[tree].keys())
    for text in texts:
        if not Formula(text).branches <= known:  # a name in the list not in this file
            pytest.fail(f"{text!r} reads a branch that {file} does not have")
        root = rt.instances(text)
        assert root is not None, f"ROOT refuses {text!r}"
        _assert_same(root, _pymva_instances(shared_data / file, tree, text), text)


OBJECT_EXPRESSIONS = [
    "MET.fX", "MET.fY", "sqrt(MET.fX^2+MET.fY^2)", "muonp4.fE", "muonp4.fP.fX", "muonp4.fE[1]",
    "muonp4.fE+MET.fX", "muonp4.fP.fZ/muonp4.fE", "Sum$(muonp4.fE)", "Length$(muonp4.fE)>1 && muonp4.fE[1]>40",
]  # fmt: skip


@pytest.mark.parametrize("text", OBJECT_EXPRESSIONS)
def test_ttreeformula_object_members(ROOT: Any, objects_file: Path, text: str) -> None:
    root = _RootTree(ROOT, objects_file, "events").instances(text)
    assert root is not None, f"ROOT refuses {text!r}"
    _assert_same(root, _pymva_instances(objects_file, "events", text), text)


@pytest.mark.parametrize(
    "text",
    [
        "NJet<NMuon>=1",  # ROOT reads '<NMuon>' as template arguments
        "NJet>=NMuon>=1",  # ROOT's split lands inside the second '>='
        "NJet<=NMuon<=1",
        "(Muon_Px*2)[1]",  # ROOT indexes branches only
    ],
)
def test_expressions_root_refuses_are_accepted_and_documented(hzz: _RootTree, text: str) -> None:
    assert hzz.formula(text) is None
    Formula(text)  # pymva accepts them ...
    docs = (Path(__file__).resolve().parents[1] / "docs" / "expressions.md").read_text()
    assert text.replace("|", "\\|") in docs  # ... and says how it groups them


# --------------------------------------------------------------------------------------------------
# TMVA's event building, replayed on ROOT's formulas


def _tmva_events(
    rt: _RootTree, inputs: Sequence[str], spectators: Sequence[str], cut: str | None
) -> tuple[list[tuple[int, list[float]]], dict[str, int], int]:
    """DataSetFactory::BuildEventVector's loop, entry by entry, with ROOT's TTreeFormula.

    Returns the selected events (entry, input and spectator values as Float_t), the NaN counts of
    selected events per expression (TMVA's errors) and the number of candidates.
    """
    fin = [rt.formula(t) for t in inputs]
    fsp = [rt.formula(t) for t in spectators]
    fcut = rt.formula(cut) if cut else None
    events: list[tuple[int, list[float]]] = []
    nan_errors: dict[str, int] = {}
    n_candidates = 0
    with _quiet(rt.ROOT):
        for entry in range(rt.n):
            rt.tree.LoadTree(entry)
            rt.tree.GetEntry(entry)  # as TMVA does: a formula loads its branches only at instance 0
            size = 1
            for f in fin:
                nd = f.GetNdata()
                if nd == 1:
                    continue
                if size == 1:
                    size = nd
                else:
                    assert size == nd, "TMVA: multiple array-type expressions of different length"
            for idata in range(size):

                def value(f: Any, i: int = idata) -> float:
                    return float(np.float32(f.EvalInstance(0 if f.GetNdata() == 1 else i)))

                cut_value = 1.0 if fcut is None else value(fcut)
                if math.isnan(cut_value):
                    nan_errors[cut or ""] = nan_errors.get(cut or "", 0) + 1
                n_candidates += 1
                if cut_value < 0.5:
                    continue
                vals = [value(f) for f in (*fin, *fsp)]
                for text, v in zip((*inputs, *spectators), vals, strict=True):
                    if math.isnan(v):
                        nan_errors[text] = nan_errors.get(text, 0) + 1
                events.append((entry, vals))
    return events, nan_errors, n_candidates


@pytest.mark.parametrize(
    ("inputs", "spectators", "cut"),
    [
        (["NMuon>1 ? Muon_Px[1] : -1"], [], None),
        (["Muon_Px[1]", "Muon_Py[1]"], ["NJet"], "NMuon>=2"),
        (["Muon_Px", "Muon_Py"], ["Jet_Px[0]", "NMuon"], "Muon_Px>0"),
        (["Muon_Px", "NJet"], ["Jet_Px"], None),
        (["MET_px"], ["Muon_Px[1]"], "NMuon>1 && Muon_Px[1]>10"),
        (["MET_px"], ["Muon_Px[1]"], "Muon_Px[1]>10"),
        (["Muon_Px+Jet_Px"], [], "NJet>0"),
    ],
)
def test_event_building_as_tmva(
    hzz: _RootTree, shared_data: Path, inputs: list[str], spectators: list[str], cut: str | None
) -> None:
    events, nan_errors, n_candidates = _tmva_events(hzz, inputs, spectators, cut)
    columns = [("Input", Formula(t)) for t in inputs] + [("Spectator", Formula(t)) for t in spectators]
    formulas = [f for _, f in columns] + ([Formula(cut)] if cut else [])
    branches = frozenset().union(*(f.branches for f in formulas))
    (arrays,) = list(FileTreeSource(str(shared_data / "uproot-HZZ.root"), "events").iterate(branches, 10**9))
    blk = build_events(
        arrays,
        columns,
        cut=Formula(cut) if cut else None,
        out=lambda n: np.empty((n, len(columns)), np.float32),
    )
    assert blk.entry.tolist() == [e for e, _ in events]
    np.testing.assert_array_equal(
        blk.values, np.array([v for _, v in events], dtype=np.float32).reshape(-1, len(columns))
    )
    assert blk.n_candidates == n_candidates
    mine = {text: nn for (_, text), (nn, _) in blk.nan_selected.items()}
    assert mine == nan_errors


# --------------------------------------------------------------------------------------------------
# pymva's output file in ROOT


@pytest.fixture(scope="module")
def fisher_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TMVA.root of a small Fisher classification job on pymva.toydata data."""
    from pymva import TMVA
    from pymva.tcut import TCut
    from pymva.toydata import create_class_example

    d = tmp_path_factory.mktemp("fisher")
    data = uproot.open(create_class_example(d / "toy.root", n_events=600))
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"], 1.0)
    loader.AddBackgroundTree(data["TreeB"], 1.0)
    loader.PrepareTrainingAndTestTree(
        TCut(""), "nTrain_Signal=400:nTrain_Background=400:SplitMode=Random:NormMode=NumEvents:!V"
    )
    out = d / "TMVA.root"
    # the Factory configures the "pymva" logger; this fixture outlives the per-test reset
    logger = logging.getLogger("pymva")
    handlers, level = list(logger.handlers), logger.level
    factory = TMVA.Factory(
        "TMVAClassification", str(out), "!V:Silent:!Color:!DrawProgressBar:AnalysisType=Classification"
    )
    factory.BookMethod(loader, "Fisher", "Fisher", "!H:!V:Fisher")
    try:
        factory.TrainAllMethods()
        factory.TestAllMethods()
        factory.EvaluateAllMethods()
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
    return out


def _walk(directory: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key in directory.GetListOfKeys():
        obj = key.ReadObj()
        if obj.InheritsFrom("TDirectory"):
            yield from _walk(obj, f"{prefix}{key.GetName()}/")
        else:
            yield f"{prefix}{key.GetName()}", obj


def test_output_trees_draw_in_root(ROOT: Any, fisher_output: Path, capfd: pytest.CaptureFixture[str]) -> None:
    f = ROOT.TFile.Open(str(fisher_output))
    assert f
    assert not f.IsZombie()
    up = uproot.open(fisher_output)
    capfd.readouterr()
    for name, n_expected in (("dataset/TestTree", 400), ("dataset/TrainTree", 800)):
        tree = f.Get(name)
        assert tree.GetEntries() == n_expected
        ref = up[name].arrays(library="np")
        branches = [b.GetName() for b in tree.GetListOfBranches()]
        assert branches == ["classID", "className", "var1", "var2", "var3", "var4", "weight", "Fisher"]
        for b in ("classID", "var1", "var2", "var3", "var4", "weight", "Fisher"):
            n = tree.Draw(b, "", "goff")
            assert n == n_expected, b
            v1 = tree.GetV1()
            drawn = np.array([v1[i] for i in range(n)])
            np.testing.assert_array_equal(drawn, ref[b].astype(np.float64), err_msg=f"{name}:{b}")
        # a selection on the class name string and on the response, as in TMVA's macros
        n_sig = int(np.sum(ref["classID"] == 0))
        assert tree.Draw("Fisher", 'className=="Signal"', "goff") == n_sig
        assert tree.Draw("Fisher", "classID==0", "goff") == n_sig
        assert tree.Draw("var1:var2", "Fisher>0", "goff") == int(np.sum(ref["Fisher"] > 0))
    out, err = capfd.readouterr()
    assert "Warning" not in out + err
    assert "Error" not in out + err


@pytest.fixture
def canvas(ROOT: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A ROOT canvas named after the test, closed afterwards.

    A TCanvas registers itself in gROOT's list of canvases and outlives its Python proxy; a second
    canvas of the same name makes ROOT warn "Deleting canvas with same name" (an error here).
    """
    name = "c_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)
    c = ROOT.TCanvas(name, name, 400, 300)
    yield c
    c.Close()


def test_output_histograms_read_and_draw_in_root(
    ROOT: Any, fisher_output: Path, canvas: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    f = ROOT.TFile.Open(str(fisher_output))
    up = uproot.open(fisher_output)
    capfd.readouterr()
    seen = 0
    for name, obj in _walk(f):
        if not obj.InheritsFrom("TH1"):
            assert obj.ClassName() in ("TTree", "TObjString"), name
            continue
        seen += 1
        obj.Draw("COLZ" if obj.InheritsFrom("TH2") else "HIST")
        canvas.Update()
        if obj.InheritsFrom("TH2") or obj.InheritsFrom("TProfile"):
            continue
        # the bin contents and errors ROOT reads are the ones pymva wrote
        counts, edges = up[name].to_numpy(flow=True)
        nb = obj.GetNbinsX()
        assert len(counts) == nb + 2, name
        np.testing.assert_array_equal([obj.GetBinContent(i) for i in range(nb + 2)], counts, err_msg=name)
        axis = obj.GetXaxis()
        if axis.GetXbins().GetSize():  # variable bins: the edges themselves
            np.testing.assert_array_equal([axis.GetBinLowEdge(i) for i in range(1, nb + 2)], edges[1:-1])
        else:  # uniform bins: ROOT keeps the range
            assert (axis.GetXmin(), axis.GetXmax()) == (edges[1], edges[-2]), name
        np.testing.assert_allclose(
            [obj.GetBinError(i) for i in range(1, nb + 1)],
            np.sqrt(up[name].variances()),
            rtol=1e-12,
            err_msg=name,
        )
    assert seen >= 20
    out, err = capfd.readouterr()
    assert "Warning" not in out + err
    assert "Error" not in out + err
    # the normalised response histograms integrate to 1 in ROOT too
    for cls in "SB":
        h = f.Get(f"dataset/Method_Fisher/Fisher/MVA_Fisher_{cls}")
        assert h.Integral("width") == pytest.approx(1.0, rel=1e-6)


def _run_job(out: Path, analysis: str, loader: Any, methods: Sequence[tuple[str, str, str]]) -> Path:
    from pymva import TMVA

    logger = logging.getLogger("pymva")
    handlers, level = list(logger.handlers), logger.level
    factory = TMVA.Factory("TMVAJob", str(out), f"!V:Silent:!Color:!DrawProgressBar:AnalysisType={analysis}")
    for kind, title, options in methods:
        factory.BookMethod(loader, kind, title, options)
    try:
        factory.TrainAllMethods()
        factory.TestAllMethods()
        factory.EvaluateAllMethods()
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
    return out


@pytest.fixture(scope="module")
def multiclass_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TMVAMulticlass.root of a small BDTG job on four classes (pymva.toydata)."""
    from pymva import TMVA
    from pymva.tcut import TCut
    from pymva.toydata import create_multiple_background

    d = tmp_path_factory.mktemp("multiclass")
    data = uproot.open(create_multiple_background(d / "toy.root", n_events=200))
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    for tree, name in (("TreeS", "Signal"), ("TreeB0", "bg0"), ("TreeB1", "bg1"), ("TreeB2", "bg2")):
        loader.AddTree(data[tree], name)
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    return _run_job(d / "TMVA.root", "Multiclass", loader, [("BDT", "BDTG", "!H:!V:NTrees=5:BoostType=Grad")])


@pytest.fixture(scope="module")
def regression_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TMVAReg.root of a two-target KNN and a one-target-per-method LD job (pymva.toydata)."""
    from pymva import TMVA
    from pymva.tcut import TCut
    from pymva.toydata import create_regression_example

    d = tmp_path_factory.mktemp("regression")
    data = uproot.open(create_regression_example(d / "toy.root", n_events=400))
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("var1")
    loader.AddVariable("var2")
    loader.AddTarget("fvalue")
    loader.AddTarget("var1 + var2")
    loader.AddRegressionTree(data["TreeR"], 1.0)
    loader.PrepareTrainingAndTestTree(
        TCut(""), "nTrain_Regression=300:SplitMode=Random:NormMode=NumEvents:!V"
    )
    return _run_job(d / "TMVA.root", "Regression", loader, [("KNN", "KNN", "!H:!V:nkNN=10")])


@pytest.mark.parametrize("job", ["fisher_output", "multiclass_output", "regression_output"])
def test_every_branch_and_histogram_of_each_kind_of_output_reads_in_root(
    ROOT: Any, job: str, request: pytest.FixtureRequest, canvas: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    path: Path = request.getfixturevalue(job)
    f = ROOT.TFile.Open(str(path))
    assert f
    assert not f.IsZombie()
    up = uproot.open(path)
    capfd.readouterr()
    n_trees = n_hists = 0
    for name, obj in _walk(f):
        if obj.InheritsFrom("TTree"):
            n_trees += 1
            ref = up[name]
            for br in obj.GetListOfBranches():
                b = br.GetName()
                values = ref[b].array(library="np")
                if b == "className":  # a string: drawn through a comparison, as TMVA's macros select
                    drawn = {f'className=="{values[0]}"': (values == values[0]).astype(np.float64)}
                elif values.dtype.names:  # a leaf list (multiclass, regression): each leaf by name
                    drawn = {f"{b}.{leaf}": values[leaf].astype(np.float64) for leaf in values.dtype.names}
                else:
                    drawn = {b: np.asarray(values, dtype=np.float64).ravel()}
                for what, expected in drawn.items():
                    n = obj.Draw(what, "", "goff")
                    assert n == expected.shape[0], f"{name}:{what}"
                    v1 = obj.GetV1()
                    np.testing.assert_array_equal(
                        [v1[i] for i in range(n)], expected, err_msg=f"{name}:{what}"
                    )
        elif obj.InheritsFrom("TH1"):
            n_hists += 1
            obj.Draw("COLZ" if obj.InheritsFrom("TH2") else "HIST")
            canvas.Update()
            members = up[name].all_members
            # the entries and the mean ROOT shows are the ones written (TMVA's fill statistics)
            assert obj.GetEntries() == members["fEntries"], name
            if not obj.InheritsFrom("TH2") and not obj.InheritsFrom("TProfile") and members["fTsumw"] != 0:
                assert obj.GetMean() == pytest.approx(members["fTsumwx"] / members["fTsumw"], rel=1e-12), name
    assert n_trees >= 2
    assert n_hists >= 10
    out, err = capfd.readouterr()
    assert "Warning" not in out + err
    assert "Error" not in out + err


def test_multiclass_and_regression_leaves_draw_by_name_in_root(
    ROOT: Any, multiclass_output: Path, regression_output: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """``TestTree->Draw("BDTG.Signal")`` and ``Draw("KNN.fvalue")`` as on a TestTree of ROOT's TMVA.

    The branches as ``DataSet::GetTree`` books them: one per method, its title the leaf list of the
    class names or the targets' internal names; each leaf drawn in ROOT gives what uproot reads, and
    the multiclass leaves drawn together are BDTG's softmax (summing to one per event).
    """

    capfd.readouterr()
    for path, title, leaves in (
        (multiclass_output, "BDTG", ["Signal", "bg0", "bg1", "bg2"]),
        (regression_output, "KNN", ["fvalue", "var1_P_var2"]),
    ):
        f = ROOT.TFile.Open(str(path))
        for tree_name in ("TestTree", "TrainTree"):
            tree = f.Get(f"dataset/{tree_name}")
            branch = tree.GetBranch(title)
            assert branch.GetTitle() == ":".join(f"{leaf}/F" for leaf in leaves)
            got = [(x.GetName(), x.ClassName(), x.GetLen(), x.GetOffset()) for x in branch.GetListOfLeaves()]
            assert got == [(leaf, "TLeafF", 1, 4 * k) for k, leaf in enumerate(leaves)]
            assert tree.GetLeaf(f"{title}.{leaves[1]}").GetBranch().GetName() == title
            arrays = uproot.open(path)[f"dataset/{tree_name}"].arrays(library="np")
            for leaf in leaves:
                n = tree.Draw(f"{title}.{leaf}", "", "goff")
                assert n == tree.GetEntries()
                v1 = tree.GetV1()
                np.testing.assert_array_equal(
                    [v1[i] for i in range(n)],
                    arrays[title][leaf].astype(np.float64),
                    err_msg=f"{title}.{leaf}",
                )
            if title == "BDTG":
                n = tree.Draw("+".join(f"{title}.{leaf}" for leaf in leaves), "", "goff")
                v1 = tree.GetV1()
                # four float32 softmax values, each within eps32 of its exact value
                np.testing.assert_allclose([v1[i] for i in range(n)], 1.0, rtol=0, atol=8 * 2.0**-24)
        f.Close()
    out, err = capfd.readouterr()
    assert "Warning" not in out + err
    assert "Error" not in out + err


def test_smooth_array_is_root_th1_smootharray(ROOT: Any) -> None:
    """pymva's ``TH1::SmoothArray`` (TMVA's PDF smoothing: Likelihood's ``NSmooth``, the MVA PDFs)
    against ROOT's own on random histogram contents with ties and flat segments (rounded
    exponential counts), 1, 3 and 10 passes: the same operations in the same order in double, so
    equal to the last bit but for the hanning sums (1e-12 absolute on contents of a few units)."""
    from pymva.methods.pdf import smooth_array

    rng = np.random.default_rng(2026)
    for _ in range(120):
        n = int(rng.integers(5, 40))
        x = np.round(rng.exponential(3.0, n))
        for ntimes in (1, 3, 10):
            buf = array.array("d", x.tolist())
            ROOT.TH1.SmoothArray(n, buf, ntimes)
            np.testing.assert_allclose(smooth_array(x, ntimes), np.array(buf), rtol=0, atol=1e-12)
