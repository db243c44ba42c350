"""ROOT-wide functions that TMVA scripts call on ``ROOT``: ``Info``, ``Warning``, ``Error``,
``EnableImplicitMT``, ``GetThreadPoolSize``; and what to use instead of ``gROOT``, ``gSystem``, ...

``import pymva as ROOT`` (or ``from pymva import ...``) finds them at package level.  ROOT's global
objects (``gROOT``, ``gSystem``, ``gStyle``, ``gPad``, ``gDirectory``, ``gRandom``,
``gInterpreter``, ``gBenchmark``, ``gEnv``) belong to ROOT, not to TMVA: asking pymva for one raises
an :class:`AttributeError` that says what plain Python uses for what scripts do with it
(:func:`missing_global`).
"""

from __future__ import annotations

import logging

from .config import implicit_mt_pool_size, set_implicit_mt_pool_size, usable_cpus

__all__ = [
    "DisableImplicitMT",
    "EnableImplicitMT",
    "Error",
    "GetThreadPoolSize",
    "Info",
    "IsImplicitMTEnabled",
    "Warning",
    "missing_global",
]

_log = logging.getLogger("pymva.root")


def Info(location: str, msg: str) -> None:
    """ROOT's ``Info(location, msg)``: ``Info in <location>: msg``, logged at INFO on ``pymva.root``."""
    _log.info("Info in <%s>: %s", location, msg)


def Warning(location: str, msg: str) -> None:
    """ROOT's ``Warning(location, msg)``: ``Warning in <location>: msg``, logged at WARNING."""
    _log.warning("Warning in <%s>: %s", location, msg)


def Error(location: str, msg: str) -> None:
    """ROOT's ``Error(location, msg)``: ``Error in <location>: msg``, logged at ERROR.

    As in ROOT this only reports; it raises nothing.
    """
    _log.error("Error in <%s>: %s", location, msg)


def EnableImplicitMT(numthreads: int = 0) -> None:
    """ROOT's ``EnableImplicitMT``: records a pool of ``numthreads`` threads (0: one per usable CPU).

    As ROOT does, the pool is never larger than the number of usable CPUs.  pymva's own
    parallelism (basket decompression, transforms, torch's ``NumThreads``) does not depend on it;
    it is what :func:`GetThreadPoolSize` and ``TMVA.gConfig().GetNCpu()`` report.
    """
    n = int(numthreads)
    ncpu = usable_cpus()
    set_implicit_mt_pool_size(ncpu if n <= 0 else min(n, ncpu))


def DisableImplicitMT() -> None:
    """ROOT's ``DisableImplicitMT``: :func:`GetThreadPoolSize` is 0 again."""
    set_implicit_mt_pool_size(0)


def IsImplicitMTEnabled() -> bool:
    """Whether :func:`EnableImplicitMT` was called (and not undone)."""
    return implicit_mt_pool_size() > 0


def GetThreadPoolSize() -> int:
    """ROOT's ``GetThreadPoolSize``: the implicit-multithreading pool size, 0 when disabled."""
    return implicit_mt_pool_size()


_GLOBALS = {
    "gROOT": "batch mode is the default (matplotlib draws without a display; set MPLBACKEND=Agg "
    "instead of gROOT.SetBatch), files are opened with pymva.TFile.Open, and gROOT.ProcessLine "
    "has no equivalent: call Python directly",
    "gSystem": "use os.path.exists(path) instead of gSystem.AccessPathName (note the reversed "
    "result), os.makedirs for mkdir, os.environ for Getenv/Setenv, subprocess.run for Exec, "
    "os.getcwd/os.chdir for pwd/cd; gSystem.Load is not needed",
    "gStyle": "style the matplotlib figures pymva returns (matplotlib.pyplot.style.use, rcParams)",
    "gPad": "the ROC figure from Factory.GetROCCurve is a matplotlib Figure; draw on its axes",
    "gDirectory": "pymva writes the output file itself; read it back with uproot or pymva.TFile.Open",
    "gRandom": "use numpy.random.default_rng(seed)",
    "gInterpreter": "Python is the interpreter: import the module or call the function directly",
    "gBenchmark": "use time.perf_counter()",
    "gEnv": "use os.environ or the options of the Factory, DataLoader and methods",
}


def missing_global(name: str) -> AttributeError | None:
    """The error for ROOT's global object ``name``, saying what plain Python uses; None otherwise."""
    hint = _GLOBALS.get(name)
    if hint is None:
        return None
    return AttributeError(f"pymva has no {name} (it is ROOT's, not TMVA's): {hint}")
