"""``TMVA::Config``: the global settings singleton (``TMVA.Config.Instance()``, ``TMVA.gConfig()``).

Scripts reach it to change where weight files go::

    TMVA.gConfig().GetIONames().fWeightFileDir = "myWeights"
    TMVA.gConfig().GetIONames().fWeightFileDirPrefix = "results"   # results/<dataset>/myWeights

Mirrors ``tmva/tmva/inc/TMVA/Config.h`` and ``src/Config.cxx`` (defaults included).  What pymva
uses: ``fWeightFileDirPrefix`` and ``fWeightFileDir`` set the directory the Factory writes weight
files to (``Factory::BookMethod``); the Factory sets ``DrawProgressBar``, ``UseColor`` and
``IsSilent`` from its own options when it is created, as TMVA's does.  The plotting settings and the
number of workers are kept and returned but change nothing in pymva (its histograms have TMVA's
default binning); ``docs/differences-from-tmva.md`` lists this.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Config",
    "IONames",
    "VariablePlotting",
    "gConfig",
    "implicit_mt_pool_size",
    "set_implicit_mt_pool_size",
    "usable_cpus",
]


@dataclass
class IONames:
    """``TMVA::Config::IONames``: directory and file-name parts (TMVA's defaults).

    The Factory's weight-file directory follows :attr:`fWeightFileDirPrefix` and
    :attr:`fWeightFileDir` (see :meth:`weight_dir`).  :attr:`fWeightFileExtension` and
    :attr:`fOptionsReferenceFileDir` are kept so that scripts setting them run, but pymva does not
    read them: weights files are always ``<job>_<title>.weights.xml`` and no options reference is
    written.
    """

    fWeightFileDirPrefix: str = ""
    fWeightFileDir: str = "weights"
    fWeightFileExtension: str = "weights"
    fOptionsReferenceFileDir: str = "optionInfo"

    def weight_dir(self, dataset: str) -> Path:
        """The weight-file directory of data set ``dataset``: ``[prefix/]dataset/fWeightFileDir``.

        As ``Factory::BookMethod`` builds it from :attr:`fWeightFileDirPrefix` and
        :attr:`fWeightFileDir`.
        """
        path = Path(str(dataset)) / str(self.fWeightFileDir)
        prefix = str(self.fWeightFileDirPrefix)
        return Path(prefix) / path if prefix else path


@dataclass
class VariablePlotting:
    """``TMVA::Config::VariablePlotting`` with TMVA's defaults (kept, not used by pymva)."""

    fTimesRMS: float = 8.0
    fNbins1D: int = 40
    fNbins2D: int = 300
    fMaxNumOfAllowedVariablesForScatterPlots: int = 20
    fNbinsMVAoutput: int = 40
    fNbinsXOfROCCurve: int = 100
    fUsePaperStyle: bool = False


class Config:
    """``TMVA::Config``: one instance per process, :meth:`Instance` returns it."""

    _instance: Config | None = None

    def __init__(self) -> None:
        self.fDrawProgressBar = False
        self.fNWorkers = 1
        self.fUseColoredConsole = True
        self.fSilent = False
        self.fWriteOptionsReference = False
        self.fVariablePlotting = VariablePlotting()
        self.fIONames = IONames()

    @classmethod
    def Instance(cls) -> Config:
        """The process-wide instance (created on first use)."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    @classmethod
    def DestroyInstance(cls) -> None:
        """Forget the instance: the next :meth:`Instance` has TMVA's defaults again."""
        cls._instance = None

    def GetIONames(self) -> IONames:
        """The directory and file-name settings (mutable, as TMVA's reference)."""
        return self.fIONames

    def GetVariablePlotting(self) -> VariablePlotting:
        """The plotting settings (mutable)."""
        return self.fVariablePlotting

    def DrawProgressBar(self) -> bool:
        """Whether progress bars are drawn (the Factory's ``DrawProgressBar`` sets it)."""
        return self.fDrawProgressBar

    def SetDrawProgressBar(self, d: bool) -> None:
        """Set :meth:`DrawProgressBar`."""
        self.fDrawProgressBar = bool(d)

    def UseColor(self) -> bool:
        """Whether the console output is coloured (the Factory's ``Color`` sets it)."""
        return self.fUseColoredConsole

    def SetUseColor(self, uc: bool) -> None:
        """Set :meth:`UseColor`."""
        self.fUseColoredConsole = bool(uc)

    def IsSilent(self) -> bool:
        """Whether output is suppressed (the Factory's ``Silent`` sets it)."""
        return self.fSilent

    def SetSilent(self, s: bool) -> None:
        """Set :meth:`IsSilent`."""
        self.fSilent = bool(s)

    def WriteOptionsReference(self) -> bool:
        """Whether option reference files are written (never, in pymva)."""
        return self.fWriteOptionsReference

    def SetWriteOptionsReference(self, w: bool) -> None:
        """Set :meth:`WriteOptionsReference` (kept; pymva writes no option reference files)."""
        self.fWriteOptionsReference = bool(w)

    def GetNumWorkers(self) -> int:
        """Number of workers (kept; pymva's own parallelism does not depend on it)."""
        return self.fNWorkers

    def SetNumWorkers(self, n: int) -> None:
        """Set :meth:`GetNumWorkers`."""
        self.fNWorkers = int(n)

    def GetNCpu(self) -> int:
        """The size of the implicit-multithreading pool (0 unless ``ROOT.EnableImplicitMT()``)."""
        return implicit_mt_pool_size()

    def __repr__(self) -> str:
        return f"<TMVA::Config weights in [{self.fIONames.fWeightFileDirPrefix}/]<dataset>/{self.fIONames.fWeightFileDir}>"


_IMT_POOL_SIZE = 0


def usable_cpus() -> int:
    """Number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def set_implicit_mt_pool_size(n: int) -> None:
    """Record ``ROOT.EnableImplicitMT(n)`` (0 disables); see :mod:`pymva.root`."""
    global _IMT_POOL_SIZE
    _IMT_POOL_SIZE = max(int(n), 0)


def implicit_mt_pool_size() -> int:
    """The recorded implicit-multithreading pool size (0 when disabled)."""
    return _IMT_POOL_SIZE


def gConfig() -> Config:
    """``TMVA::gConfig()``: :meth:`Config.Instance`."""
    return Config.Instance()
