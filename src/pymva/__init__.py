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

Submodules, one TMVA concept each:

=====================  =====================================================================
``options``            the option-string grammar shared by every component
``expression``         ROOT TTreeFormula expressions evaluated on awkward arrays
``treesource``         reading trees (uproot), chains, in-memory inputs
``dataloader``         ``DataLoader`` and ``DataSetInfo``
``split``              the train/test split, NormMode, MixMode
``dataset``            ``DataSet``, ``Sample``, ``VariableInfo``
``transforms``         VarTransform chains: Normalize, Decorrelate, PCA, Gauss, Uniform
``methods``            method plugins: PyTorch, PyRandomForest, PyAdaBoost, PyGTB, Fisher, BDT
``pytorch``            ready-made ``train``/``predict`` for ``load_model_custom_objects``
``evaluation``         ROC, efficiencies, separation, KS test, regression and multiclass metrics
``histogram``          ROOT histograms, profiles and graphs as numpy arrays
``factory``            ``Factory``
``outputfile``         the output ROOT file (``outputwriter`` assembles it for the Factory)
``weightsfile``        the weights XML file
``reader``             ``Reader`` and ``Experimental.RReader``
``tfile``              ROOT's ``TFile``, ``TTree``, ``TString`` for scripts written for PyROOT
``toydata``            toy input files like ROOT's ``createData.C``
=====================  =====================================================================

Heavy modules (torch, uproot) are imported on first use of the names that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import DataError, ModelError, NotTrainedError, OptionError, PyMVAError
from .tcut import TCut
from .tmva import TMVA
from .types import Types

if TYPE_CHECKING:
    from .dataloader import DataLoader
    from .factory import Factory
    from .reader import Reader
    from .tfile import TFile, TString, TTree

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
    "DataLoader": "dataloader",
    "Reader": "reader",
    # ROOT has these in ROOT, not in TMVA: from pymva import TMVA, TFile, TTree, TCut, TString
    "TFile": "tfile",
    "TString": "tfile",
    "TTree": "tfile",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'pymva' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
