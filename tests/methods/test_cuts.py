"""Cuts: a hand-computed event scan, the closed-form optimum of a one-variable window, the options of
MethodCuts, the weights file (layout and round trip), the response for a requested signal efficiency
(Reader ``aux``), and the TMVAClassification.C bookings through the Factory."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import uproot

from pymva import TMVA, Reader, TCut
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.io.weights import (
    build_weights_xml,
    method_from_content,
    parse_weights_xml,
    weights_xml_bytes,
    write_weights_file,
)
from pymva.methods.base import MethodContext
from pymva.methods.cuts import MAX_ABS_CUT, MethodCuts, find_bin, selection_efficiencies
from pymva.toydata import create_class_example
from pymva.types import EAnalysisType


def _ctx(tmp_path: Path, n_vars: int = 1) -> MethodContext:
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kClassification,
        variables=tuple(VariableInfo(f"x{i}", f"x{i}", f"x{i}") for i in range(n_vars)),
        class_names=("Signal", "Background"),
        weight_dir=tmp_path / "weights",
    )


def _sample(
    xs: np.ndarray, xb: np.ndarray, ws: np.ndarray | None = None, wb: np.ndarray | None = None
) -> Sample:
    xs = np.asarray(xs, dtype=np.float64).reshape(len(xs), -1)
    xb = np.asarray(xb, dtype=np.float64).reshape(len(xb), -1)
    n = len(xs) + len(xb)
    w = np.concatenate([np.ones(len(xs)) if ws is None else ws, np.ones(len(xb)) if wb is None else wb])
    return Sample(
        X=np.vstack([xs, xb]).astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=w.astype(np.float32),
        class_id=np.r_[np.zeros(len(xs)), np.ones(len(xb))].astype(np.int32),
    )


# ------------------------------------------------------------------ hand-computed event scan
def _tiny_scan(tmp_path: Path) -> MethodCuts:
    """Signal at 1, 2, 3, 4 and background at 2.5, 3.5; every pair of signal events spans a window."""
    m = MethodCuts("Cuts", _ctx(tmp_path), "FitMethod=EventScan")
    m.train(_sample(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.5, 3.5])))
    return m


def test_event_scan_by_hand(tmp_path: Path) -> None:
    # windows lo < x <= hi (TMVA's InVolume): (1,2] effS 1/4 effB 0 -> bin 26; (1,3] 1/2, 1/2 -> bin 51;
    # (1,4] 3/4, 1 -> bin 76; (2,3], (2,4], (3,4] never beat what their bins hold already
    m = _tiny_scan(tmp_path)
    assert m.eff_b_local_ is not None
    assert m.cut_min_ is not None
    assert m.cut_max_ is not None
    expected = np.full(100, np.float32(-0.1), np.float32)
    expected[[25, 50, 75]] = [0.0, 0.5, 1.0]
    np.testing.assert_array_equal(m.eff_b_local_, expected)
    np.testing.assert_array_equal(m.cut_min_[[25, 50, 75], 0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(m.cut_max_[[25, 50, 75], 0], [2.0, 3.0, 4.0])
    assert m.GetCuts(0.255) == (0.25, [1.0], [2.0])  # the lower edge of bin 26 and its cuts


def test_response_uses_the_array_index_findbin(tmp_path: Path) -> None:
    """TMVA's GetMvaValue indexes the cut arrays with FindBin(effS): effS = 0.245 (bin 25) applies the
    cuts stored for bin 26, (1, 2]; before any efficiency is set the response is 0."""
    m = _tiny_scan(tmp_path)
    x = np.array([[1.0], [1.5], [2.0], [2.5]], dtype=np.float32)
    np.testing.assert_array_equal(m.evaluate(x), [0, 0, 0, 0])
    m.SetTestSignalEfficiency(0.245)
    np.testing.assert_array_equal(m.evaluate(x), [0, 1, 1, 0])
    m.SetTestSignalEfficiency(0.255)  # index 26: no cuts found there (0 < x <= 0)
    np.testing.assert_array_equal(m.evaluate(x), [0, 0, 0, 0])


def test_find_bin_is_root_taxis() -> None:
    np.testing.assert_array_equal(
        find_bin([-1e-9, 0.0, 0.0099, 0.01, 0.5, 0.99999, 1.0, 2.0]), [0, 1, 1, 2, 51, 100, 101, 101]
    )


def test_selection_efficiencies_float32_and_boundaries() -> None:
    # weights 0.1 (not representable): nSel and nTot are float32 and divided in float32
    X = np.array([[0.0], [1.0], [2.0], [3.0]], dtype=np.float32)
    w = np.full(4, 0.1, dtype=np.float32)
    sig = np.array([True, True, True, False])
    es, eb = selection_efficiencies(X, w, sig, [[0.0], [-1.0]], [[2.0], [3.0]])
    w64 = float(np.float32(0.1))
    assert es[0] == float(np.float32(np.float32(2 * w64) / np.float32(3 * w64)))  # 0 excluded, 2 included
    assert es[1] == 1.0
    assert eb[0] == 0.0
    assert eb[1] == 1.0
    # a cut between two float32 values: 1 + 1e-12 excludes the event at 1 from below, includes none above
    es2, _ = selection_efficiencies(X, w, sig, [[1.0 + 1e-12]], [[2.0 - 1e-12]])
    assert es2[0] == 0.0


# ------------------------------------------------------------------ closed form
def test_one_sided_window_reaches_the_closed_form_optimum(tmp_path: Path) -> None:
    """Signal uniform on (0, 1), background on (0.5, 1.5), the lower cut fixed (FMin): a cut x <= c has
    effS = c and effB = max(0, c - 0.5), so the best background efficiency of the bin starting at s is
    max(0, s - 0.5).  With N = 1000 evenly spaced events per class the efficiencies move in steps of
    1/N (and the float32 bin edges shift a bin's lowest reachable effS by one step): tolerance 2/N."""
    n = 1000
    xs = (np.arange(n) + 0.5) / n
    m = MethodCuts("Cuts", _ctx(tmp_path), "FitMethod=MC:SampleSize=20000:VarProp=FMin")
    m.train(_sample(xs, xs + 0.5))
    assert m.eff_b_local_ is not None
    assert m.cut_min_ is not None
    s_low = np.arange(100) / 100.0
    np.testing.assert_allclose(m.eff_b_local_, np.maximum(0.0, s_low - 0.5), atol=2.0 / n, rtol=0)
    assert np.all(m.cut_min_[:, 0] == -MAX_ABS_CUT)  # FMin: written as -1e30
    # the cut of the bin of effS = 0.7 lies at c in [0.70, 0.71)
    _, _, cmax = m.GetCuts(0.7001)
    assert 0.70 - 1.0 / n <= cmax[0] < 0.71 + 1.0 / n


def test_fsmart_picks_the_side_from_the_means(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    xs = np.column_stack([rng.normal(1, 1, 300), rng.normal(-1, 1, 300)])
    xb = np.column_stack([rng.normal(-1, 1, 300), rng.normal(1, 1, 300)])
    m = MethodCuts("Cuts", _ctx(tmp_path, 2), "FitMethod=MC:SampleSize=2000:VarProp=FSmart")
    m.train(_sample(xs, xb))
    assert m.cut_max_ is not None
    assert m.cut_min_ is not None
    assert np.all(m.cut_max_[:, 0] == MAX_ABS_CUT)  # signal above: FMax, only a lower cut
    assert np.all(m.cut_min_[:, 1] == -MAX_ABS_CUT)  # signal below: FMin, only an upper cut


# ------------------------------------------------------------------ options
def test_options(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ctx = _ctx(tmp_path, 2)
    m = MethodCuts("Cuts", ctx, "VarProp[1]=FMax:CutRangeMin[0]=-10:CutRangeMax[0]=10")
    assert m.options.FitMethod == "GA"
    assert m.options.EffMethod == "EffSel"
    assert m.options.VarProp == ("NotEnforced", "FMax")  # type: ignore[attr-defined]
    assert m.options.CutRangeMin == (-10.0, -1.0)  # type: ignore[attr-defined]
    with pytest.raises(OptionError, match="PopSize"):
        MethodCuts("Cuts", ctx, "FitMethod=MC:PopSize=10")  # a GA option for the MC fitter
    with pytest.raises(OptionError, match="SampleSize"):
        MethodCuts("Cuts", ctx, "FitMethod=MC:SampleSize=-1")
    with pytest.raises(OptionError, match="VarProp"):
        MethodCuts("Cuts", ctx, "VarProp=FBoth")
    with pytest.raises(OptionError, match="IgnoreNegWeightsInTraining"):
        MethodCuts("Cuts", ctx, "IgnoreNegWeightsInTraining")
    with pytest.raises(OptionError, match="CutRangeMax"):
        MethodCuts("Cuts", ctx, "CutRangeMin[0]=2:CutRangeMax[0]=1").setup()
    with caplog.at_level(logging.WARNING):
        MethodCuts("Cuts", ctx, "FitMethod=MINUIT").setup()
        MethodCuts("Cuts", ctx, "EffMethod=EffPDF").setup()
    assert "poor performance of MINUIT in MethodCuts" in caplog.text
    assert "EFFPDF" in caplog.text


def test_effpdf_runs_the_event_selection_as_tmva(tmp_path: Path) -> None:
    a = MethodCuts("Cuts", _ctx(tmp_path), "FitMethod=EventScan:EffMethod=EffPDF")
    a.train(_sample(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.5, 3.5])))
    b = _tiny_scan(tmp_path)
    assert a.eff_b_local_ is not None
    assert b.eff_b_local_ is not None
    np.testing.assert_array_equal(a.eff_b_local_, b.eff_b_local_)
    assert build_weights_xml(a).find("Weights").get("OptimisationMethod") == "0"  # type: ignore[union-attr]


# ------------------------------------------------------------------ weights file and Reader
def test_weights_layout_round_trip_and_reader(tmp_path: Path) -> None:
    m = _tiny_scan(tmp_path)
    root = build_weights_xml(m)
    w = root.find("Weights")
    assert w is not None
    assert (w.get("OptimisationMethod"), w.get("FitMethod"), w.get("nbins")) == ("0", "4", "100")
    bins = w.findall("Bin")
    assert [b.get("ibin") for b in bins] == [str(i) for i in range(1, 101)]
    b26 = bins[25]
    assert float(b26.get("effS", "")) == 0.25
    assert float(b26.get("effB", "")) == 0.0
    cuts = b26.find("Cuts")
    assert cuts is not None
    assert float(cuts.get("cutMin_0", "")) == 1.0
    assert float(cuts.get("cutMax_0", "")) == 2.0
    assert float(bins[0].get("effS", "")) == 0.0
    assert float(bins[0].get("effB", "")) == pytest.approx(-0.1)
    options = {o.get("name") for o in root.iter("Option")}
    assert {"FitMethod", "EffMethod", "CutRangeMin", "CutRangeMax", "VarProp"} <= options

    back = method_from_content(parse_weights_xml(weights_xml_bytes(root)))
    assert isinstance(back, MethodCuts)
    assert back.cut_min_ is not None
    assert back.cut_max_ is not None
    assert back.eff_b_local_ is not None
    np.testing.assert_array_equal(back.cut_min_, m.cut_min_)  # type: ignore[arg-type]
    np.testing.assert_array_equal(back.cut_max_, m.cut_max_)  # type: ignore[arg-type]
    np.testing.assert_array_equal(back.eff_b_local_, m.eff_b_local_)  # type: ignore[arg-type]

    path = write_weights_file(m, tmp_path / "weights" / "job_Cuts.weights.xml", job_name="job")
    reader = Reader("Silent")
    reader.AddVariable("x0")
    reader.BookMVA("Cuts", str(path))
    x = np.array([[1.0], [1.5], [2.0], [2.5]], dtype=np.float32)
    np.testing.assert_array_equal(reader.EvaluateMVA(x, "Cuts", 0.245), [0, 1, 1, 0])
    np.testing.assert_array_equal(reader.EvaluateMVA(x, "Cuts"), [0, 0, 0, 0])  # aux 0: TMVA returns 0
    assert reader.EvaluateMVA([1.5], "Cuts", aux=0.245) == 1.0
    buf = np.zeros(1, dtype=np.float32)
    reader2 = Reader("Silent")
    reader2.AddVariable("x0", buf)
    reader2.BookMVA("Cuts", str(path))
    buf[0] = 1.5
    assert reader2.EvaluateMVA("Cuts", 0.245) == 1.0
    assert reader2.EvaluateMVA("Cuts") == 0.0


def test_weights_errors(tmp_path: Path) -> None:
    m = _tiny_scan(tmp_path)
    root = build_weights_xml(m)
    w = root.find("Weights")
    assert w is not None
    w.find("Bin").set("ibin", "101")  # type: ignore[union-attr]
    with pytest.raises(ModelError, match="Mismatch in bins"):
        method_from_content(parse_weights_xml(weights_xml_bytes(root)))
    root = build_weights_xml(m)
    root.find("Weights/Bin/Cuts").attrib.pop("cutMax_0")  # type: ignore[union-attr]
    with pytest.raises(ModelError, match="cutMax_0"):
        method_from_content(parse_weights_xml(weights_xml_bytes(root)))


# ------------------------------------------------------------------ the Factory
BOOKINGS = {
    "Cuts": "!H:!V:FitMethod=MC:EffSel:SampleSize=200000:VarProp=FSmart",
    "CutsD": "!H:!V:FitMethod=MC:EffSel:SampleSize=200000:VarProp=FSmart:VarTransform=Decorrelate",
    "CutsGA": "H:!V:FitMethod=GA:CutRangeMin[0]=-10:CutRangeMax[0]=10:VarProp[1]=FMax:EffSel:Steps=30:Cycles=3:"
    "PopSize=400:SC_steps=10:SC_rate=5:SC_factor=0.95",
    "CutsSA": "!H:!V:FitMethod=SA:EffSel:MaxCalls=150000:KernelTemp=IncAdaptive:InitialTemp=1e+6:MinTemp=1e-6:"
    "Eps=1e-10:UseDefaultScale",
}


@pytest.mark.slow
def test_tutorial_bookings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    create_class_example("toy.root", n_events=200)
    data = uproot.open("toy.root")
    factory = TMVA.Factory("TMVAClassification", None, "Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"])
    loader.AddBackgroundTree(data["TreeB"])
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    for title, opts in BOOKINGS.items():
        factory.BookMethod(loader, TMVA.Types.kCuts, title, opts)
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    for title in BOOKINGS:
        result = factory.GetResults(loader, title)
        assert result.separation == -1.0
        assert result.significance == -1.0
        assert 0.5 < result.eff_area <= 1.0  # the toy classes separate well
        # (no ordering of the three: with 100 test events per class effB moves in steps of 0.01, and
        # TMVA's scan needs a strict sign change, which a curve resting on 0.10 never gives)
        assert all(0.0 <= e <= 1.0 for e in (result.eff_at_01, result.eff_at_10, result.eff_at_30))
        xml = Path(f"dataset/weights/TMVAClassification_{title}.weights.xml")
        assert ET.parse(xml).getroot().find("Weights").get("nbins") == "100"  # type: ignore[union-attr]
    # MVA_Cuts_effS holds the test-signal fraction passing each bin's cuts: the Reader's response with
    # aux in bin i applies the cuts of bin i + 1 (TMVA's index), so the two must agree
    ds = factory._dataset(loader)
    sig = ds.test.class_id == ds.signal_class
    effs = factory.GetResults(loader, "CutsD").histograms["MVA_CutsD_effS"].values()
    reader = Reader("Silent")
    for v in ("var1", "var2", "var3", "var4"):
        reader.AddVariable(v)
    reader.BookMVA("CutsD", "dataset/weights/TMVAClassification_CutsD.weights.xml")
    for i in (10, 40, 70, 90):
        passed = reader.EvaluateMVA(ds.test.X[sig], "CutsD", (i - 0.5) / 100)
        assert float(np.mean(passed)) == pytest.approx(effs[i], abs=1e-6)


@pytest.mark.parametrize("fit", ["EventScan", "MCEvents:SampleSize=500:Seed=7"])
def test_fsmart_leaves_scans_unforced(tmp_path: Path, fit: str) -> None:
    """TMVA's ``Train`` turns FSmart into FMin/FMax only while building the fitters' intervals; the
    event scans never do, and the final forcing loop knows FMin/FMax only, so FSmart cuts equal the
    NotEnforced ones (here the signal mean 2.5 is below the background mean 3, FMin if resolved)."""
    xs, xb = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.5, 3.5])
    smart = MethodCuts("Cuts", _ctx(tmp_path), f"FitMethod={fit}:VarProp=FSmart")
    smart.train(_sample(xs, xb))
    plain = MethodCuts("Cuts", _ctx(tmp_path), f"FitMethod={fit}")
    plain.train(_sample(xs, xb))
    assert smart.cut_min_ is not None
    assert plain.cut_min_ is not None
    assert not np.any(smart.cut_min_ == -MAX_ABS_CUT)
    np.testing.assert_array_equal(smart.cut_min_, plain.cut_min_)
    np.testing.assert_array_equal(smart.cut_max_, plain.cut_max_)  # type: ignore[arg-type]
