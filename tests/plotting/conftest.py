"""Fixtures of the plotting tests: an output file written by pymva and two written by ROOT's TMVA.

The pymva file comes from a tiny Fisher + PyTorch job on ``pymva.toydata`` events (about 10 s),
trained once per session.  The ROOT files are in ``../shared/data/tmva-written`` (see its README):
``inutard`` (ROOT 5.32, Fisher with probability and rarity, Likelihood; four transformations) and
``annikamonari`` (ROOT 5.34, BDT with its control histograms).  Both are of ROOT 5: the dataset is
the top level of the file.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import pytest

matplotlib.use("Agg")

N_EPOCHS = 4


@pytest.fixture(scope="session")
def pymva_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``TMVA.root`` of a Fisher + PyTorch classification job, written by pymva's Factory."""
    import torch

    import pymva.pytorch as pmt
    from pymva import TMVA, TCut
    from pymva.toydata import create_class_example

    workdir = tmp_path_factory.mktemp("plotting_job")
    # the Factory attaches a handler to the "pymva" logger; a session fixture runs before the
    # function-scoped reset in tests/conftest.py, so it restores the logger itself
    logger = logging.getLogger("pymva")
    handlers, level = list(logger.handlers), logger.level
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(workdir)
            mp.setitem(
                sys.modules["__main__"].__dict__,
                "load_model_custom_objects",
                {
                    "optimizer": torch.optim.Adam,
                    "criterion": torch.nn.MSELoss(),
                    "train_func": pmt.train,
                    "predict_func": pmt.predict,
                },
            )
            torch.manual_seed(0)
            model = torch.nn.Sequential(
                torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2), torch.nn.Softmax(dim=1)
            )
            torch.jit.save(torch.jit.script(model), "model.pt")
            create_class_example("tmva_class_example.root", n_events=600)
            factory = TMVA.Factory(
                "TMVAClassification",
                "TMVA.root",
                "!V:Silent:!Color:!DrawProgressBar:Transformations=I:AnalysisType=Classification",
            )
            loader = TMVA.DataLoader("dataset")
            loader.AddVariable("var1", "Variable 1", "GeV", "F")
            loader.AddVariable("var2", "#Delta#eta_{jj}", "", "F")
            loader.AddVariable("var3")
            loader.AddVariable("var4")
            loader.AddSignalTree("tmva_class_example.root:TreeS")
            loader.AddBackgroundTree("tmva_class_example.root:TreeB")
            loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:SplitSeed=3:NormMode=NumEvents:!V")
            factory.BookMethod(loader, TMVA.Types.kFisher, "Fisher", "!H:!V")
            factory.BookMethod(
                loader,
                TMVA.Types.kPyTorch,
                "PyTorch",
                f"!H:!V:FilenameModel=model.pt:NumEpochs={N_EPOCHS}:BatchSize=50",
            )
            factory.TrainAllMethods()
            factory.TestAllMethods()
            factory.EvaluateAllMethods()
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
    return workdir / "TMVA.root"


@pytest.fixture(scope="session")
def root_output(shared_data: Path) -> Path:
    """ROOT 5.32's TMVA.root: Fisher (with MVA_Fisher_Proba/_Rarity) and Likelihood."""
    return shared_data / "tmva-written" / "inutard+tmva-studies" / "9184b38" / "TMVA.root"


@pytest.fixture(scope="session")
def root_bdt_output(shared_data: Path) -> Path:
    """ROOT 5.34's output of a BDT job, with BoostWeight, ErrFractHist, NodesBefore/AfterPruning."""
    return (
        shared_data
        / "tmva-written"
        / "annikamonari+ICMSciThesisHiggsInv"
        / "c60e64c"
        / "bg_zll"
        / "TMVA_signalSel.root"
    )


@pytest.fixture
def uproot_file() -> Iterator[Any]:
    """Open files with uproot and close them after the test: ``f = uproot_file(path)``."""
    import uproot

    opened: list[Any] = []

    def open_(path: Path) -> Any:
        f = uproot.open(path)
        opened.append(f)
        return f

    yield open_
    for f in opened:
        f.close()
