"""The PyROOT surface TMVA scripts touch besides TMVA itself: TMVA.Config, std::vector-like containers,
ROOT's Info/Warning/Error and thread-pool functions, and the errors for ROOT's global objects."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pymva
from pymva import TMVA
from pymva.config import Config
from pymva.stl import StdVector


@pytest.fixture
def fresh_config() -> Iterator[Config]:
    """A TMVA.Config with TMVA's defaults, forgotten again after the test."""
    Config.DestroyInstance()
    yield Config.Instance()
    Config.DestroyInstance()


def test_config_defaults_are_tmvas(fresh_config: Config) -> None:
    # tmva/tmva/src/Config.cxx
    assert TMVA.Config.Instance() is fresh_config
    assert TMVA.gConfig() is fresh_config
    io = fresh_config.GetIONames()
    assert (io.fWeightFileDirPrefix, io.fWeightFileDir, io.fWeightFileExtension) == ("", "weights", "weights")
    assert io.fOptionsReferenceFileDir == "optionInfo"
    vp = fresh_config.GetVariablePlotting()
    assert (vp.fNbins1D, vp.fNbins2D, vp.fNbinsMVAoutput, vp.fNbinsXOfROCCurve) == (40, 300, 40, 100)
    assert vp.fTimesRMS == 8.0
    assert not fresh_config.DrawProgressBar()
    assert fresh_config.UseColor()
    assert not fresh_config.IsSilent()
    assert not fresh_config.WriteOptionsReference()
    assert fresh_config.GetNumWorkers() == 1
    fresh_config.SetDrawProgressBar(True)
    assert TMVA.gConfig().DrawProgressBar()
    fresh_config.SetSilent(True)
    fresh_config.SetUseColor(False)
    fresh_config.SetNumWorkers(3)
    assert (fresh_config.IsSilent(), fresh_config.UseColor(), fresh_config.GetNumWorkers()) == (
        True,
        False,
        3,
    )


def test_factory_hands_its_options_to_the_config(fresh_config: Config) -> None:
    fresh_config.SetDrawProgressBar(True)
    TMVA.Factory("job", options="!V:Silent:!Color:!DrawProgressBar:AnalysisType=Classification")
    # TMVA's Factory constructor: gConfig().SetDrawProgressBar(fDrawProgressBar), SetSilent, SetUseColor
    assert not fresh_config.DrawProgressBar()
    assert fresh_config.IsSilent()
    assert not fresh_config.UseColor()


@pytest.mark.parametrize(
    ("prefix", "subdir", "expected"),
    [("", "weights", "dataset/weights"), ("", "myW", "dataset/myW"), ("results", "w", "results/dataset/w")],
)
def test_weight_file_directory_follows_the_config(
    fresh_config: Config,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    prefix: str,
    subdir: str,
    expected: str,
) -> None:
    from pymva.toydata import create_class_example

    monkeypatch.chdir(tmp_path)
    create_class_example("toy.root", n_events=200)
    fresh_config.GetIONames().fWeightFileDirPrefix = prefix
    fresh_config.GetIONames().fWeightFileDir = subdir
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2"):
        loader.AddVariable(v)
    loader.AddSignalTree("toy.root:TreeS")
    loader.AddBackgroundTree("toy.root:TreeB")
    loader.PrepareTrainingAndTestTree("", "SplitMode=Block:!V")
    logger = logging.getLogger("pymva")
    handlers, level = list(logger.handlers), logger.level
    factory = TMVA.Factory(
        "TMVAClassification", options="!V:Silent:!Color:!DrawProgressBar:AnalysisType=Classification"
    )
    factory.BookMethod(loader, "Fisher", "Fisher")
    factory.TrainAllMethods()
    logger.handlers[:], _ = handlers, logger.setLevel(level)
    assert os.path.isfile(f"{expected}/TMVAClassification_Fisher.weights.xml")


def test_std_vector_members() -> None:
    v: StdVector[str] = StdVector(["a", "b"])
    assert isinstance(v, list)
    assert v.size() == len(v) == 2
    assert (v.at(0), v.front(), v.back()) == ("a", "a", "b")
    with pytest.raises(IndexError, match="out of range"):
        v.at(2)
    with pytest.raises(IndexError):
        v.at(-1)  # std::vector::at does not count from the end
    v.push_back("c")
    v.emplace_back("d")
    assert v == ["a", "b", "c", "d"]
    v.pop_back()
    assert v.data() == ["a", "b", "c"]
    assert not v.empty()
    v.clear()
    assert v.empty()
    with pytest.raises(IndexError):
        v.pop_back()


def test_dataset_info_returns_vectors() -> None:
    loader = TMVA.DataLoader("dataset")
    for name in ("x", "y", "abs(z)"):
        loader.AddVariable(name)
    loader.AddSpectator("s")
    dsi = loader.GetDataSetInfo()
    names = dsi.GetListOfVariables()
    assert names.size() == 3
    assert names.at(2) == "abs_z_"  # TMVA's internal name
    assert list(names) == ["x", "y", "abs_z_"]
    assert dsi.GetVariableInfos().size() == 3
    assert dsi.GetVariableInfos().at(1).expression == "y"
    assert dsi.GetSpectatorInfos().size() == 1
    assert dsi.GetTargetInfos().empty()
    # a copy, as TMVA returns the vector by value
    names.push_back("w")
    assert dsi.GetListOfVariables().size() == 3
    copy = loader.MakeCopy("other")
    assert copy.GetDataSetInfo().GetVariableInfos().size() == 3


def test_root_messages_go_to_logging(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pymva.root"):
        pymva.Info("myMacro", "starting")
        pymva.Warning("myMacro", "careful")
        pymva.Error("myMacro", "broken")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "Info in <myMacro>: starting"),
        (logging.WARNING, "Warning in <myMacro>: careful"),
        (logging.ERROR, "Error in <myMacro>: broken"),
    ]


def test_thread_pool_size() -> None:
    ncpu = len(os.sched_getaffinity(0))
    pymva.DisableImplicitMT()
    try:
        assert pymva.GetThreadPoolSize() == 0
        assert not pymva.IsImplicitMTEnabled()
        assert TMVA.gConfig().GetNCpu() == 0
        pymva.EnableImplicitMT()
        assert pymva.GetThreadPoolSize() == ncpu
        pymva.EnableImplicitMT(ncpu + 5)  # ROOT caps the pool at the usable CPUs
        assert pymva.GetThreadPoolSize() == ncpu
        pymva.EnableImplicitMT(1)
        assert pymva.GetThreadPoolSize() == 1
        assert pymva.IsImplicitMTEnabled()
        assert TMVA.gConfig().GetNCpu() == 1
    finally:
        pymva.DisableImplicitMT()


@pytest.mark.parametrize(
    ("name", "hint"), [("gROOT", "MPLBACKEND"), ("gSystem", "os.path.exists"), ("gRandom", "numpy")]
)
def test_root_globals_say_what_to_use(name: str, hint: str) -> None:
    with pytest.raises(AttributeError, match=f"pymva has no {name}.*{hint}"):
        getattr(pymva, name)
    with pytest.raises(AttributeError, match="no attribute 'gNothing'"):
        pymva.gNothing  # noqa: B018


def test_tstring_append_returns_the_new_string() -> None:
    from pymva import TString

    s = TString("dataset/weights/")
    t = s.Append("TMVAClassification").Append("_Fisher.weights.xml.gz", 19)
    assert t == "dataset/weights/TMVAClassification_Fisher.weights.xml"
    assert isinstance(t, TString)
    assert s == "dataset/weights/"  # a Python string does not change
    assert isinstance(s + "x", TString)
    assert isinstance("x" + s, TString)
    assert t.EndsWith(".xml")
    assert t.BeginsWith("dataset")
    assert t.Contains("Fisher")
    assert TString("").IsNull()


@pytest.mark.realdata
def test_tree_print_matches_root(ROOT: Any, shared_data: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = shared_data / "uproot-HZZ.root"
    capfd.readouterr()
    f = ROOT.TFile.Open(str(path))
    f.Get("events").Print()
    root_out = capfd.readouterr().out.splitlines()
    pymva.TFile.Open(str(path)).Get("events").Print()
    mine = capfd.readouterr().out.splitlines()

    def blocks(lines: list[str]) -> list[str]:
        # the tree line, every branch line and the entries of each branch (sizes are ROOT's own
        # bookkeeping: uproot reports basket bytes)
        out = [ln for ln in lines if ln.startswith(("*Tree", "*Br"))]
        out += [ln.split(":")[1].strip() for ln in lines if ln.startswith("*Entries")]
        return out

    assert blocks(mine) == blocks(root_out)
    assert all(len(ln) == 78 for ln in mine if ln.startswith(("*Tree", "*Br")))
    assert np.all([len(ln) == 78 for ln in root_out if ln.startswith("*Br")])
