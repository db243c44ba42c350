"""pymva — ROOT's TMVA with its PyMVA methods (PyTorch first), in pure Python.

A TMVA script runs with only its ROOT import line changed::

    from pymva import TMVA, TFile, TCut           # was: from ROOT import TMVA, TFile, TCut
    output = TFile.Open("TMVA.root", "RECREATE")
    factory = TMVA.Factory("TMVAClassification", output, "!V:AnalysisType=Classification")
    data = TFile.Open("tmva_class_example.root")
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("var1")
    loader.AddSignalTree(data.Get("TreeS"))       # or simply "tmva_class_example.root:TreeS"
    ...

The package follows the data flow (``docs/architecture.md``); one TMVA concept per module:

=======================  ===================================================================
``tmva``, ``types``      the ``TMVA`` namespace and ``Types`` (the face, with ``factory`` and
                         ``reader``)
``errors``, ``options``  the exception hierarchy; the option-string grammar of every component
``logger``, ``tcut``     TMVA-style log lines; ``TCut``
``safety``               the rules for names, paths and atomic writes
``extras``               optional dependencies, each with the pip command that installs it
``histograms``           ROOT histograms on ``hist``: bin arithmetic, ``TH1::Fill``, ROOT objects
``data``                 sources (uproot trees, chains, in-memory) → ``expression``
                         (TTreeFormula) → ``loader`` (``DataLoader``) → ``info``
                         (``DataSetInfo``) → ``build`` → ``split`` → ``dataset``
``transforms``           VarTransform chains: Normalize, Decorrelate, PCA, Gauss, Uniform
``methods``              ``base`` and ``registry``; one module per method: PyTorch,
                         PyRandomForest, PyAdaBoost, PyGTB, Fisher, BDT; ``ranking``
``pytorch``              ready-made ``train``/``predict`` for ``load_model_custom_objects``
``evaluation``           ROC, efficiencies, separation, KS test, regression and multiclass
``io``                   ``rootfile`` (PyROOT-style ``TFile``/``TTree``), ``weights`` (the
                         weights XML), ``output`` (the Factory's output ROOT file)
``plotting``             TMVAGui's plots of an output file (matplotlib, extra ``plot``)
``factory``              ``Factory``
``reader``               ``Reader`` and ``Experimental.RReader``
``toydata``              toy input files like ROOT's ``createData.C``
``envelope``             TMVA's envelopes on top of the Factory: ``CrossValidation``,
                         ``Experimental.Classification``, ``VariableImportance``,
                         ``HyperParameterOptimisation``
``cli``                  the ``pymva`` command (``python -m pymva gui TMVA.root``)
=======================  ===================================================================

Heavy modules (torch, uproot) are imported on first use of the names that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import DataError, ModelError, NotTrainedError, OptionError, PyMVAError
from .extras import default_keras_backend as _default_keras_backend
from .tcut import TCut
from .tmva import TMVA
from .types import Types

# Keras 3 reads KERAS_BACKEND when first imported: a script that imports pymva before keras (as
# ROOT's Keras tutorials import ROOT first) gets the torch backend unless it chose another one
_default_keras_backend()

if TYPE_CHECKING:
    from .data.loader import DataLoader
    from .factory import Factory
    from .io.rootfile import TFile, TString, TTree
    from .reader import Reader

__all__ = [
    "TMVA",
    "DataError",
    "DataLoader",
    "Factory",
    "ModelError",
    "NotTrainedError",
    "OptionError",
    "PyMVAError",
    "Reader",
    "TCut",
    "TFile",
    "TString",
    "TTree",
    "Types",
    "__version__",
]

_LAZY = {
    "Factory": "factory",
    "DataLoader": "data.loader",
    "Reader": "reader",
    # ROOT has these in ROOT, not in TMVA: from pymva import TMVA, TFile, TTree, TCut, TString
    "TFile": "io.rootfile",
    "TString": "io.rootfile",
    "TTree": "io.rootfile",
}


#: ROOT-wide functions that TMVA scripts call on ``ROOT`` (``import pymva as ROOT``): pymva.root
_ROOT_FUNCTIONS = frozenset(
    {
        "Info",
        "Warning",
        "Error",
        "EnableImplicitMT",
        "DisableImplicitMT",
        "IsImplicitMTEnabled",
        "GetThreadPoolSize",
    }
)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    root = importlib.import_module(".root", __name__)

    if name in _ROOT_FUNCTIONS:
        return getattr(root, name)
    error = root.missing_global(name)
    if error is not None:
        raise error
    raise AttributeError(f"module 'pymva' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
