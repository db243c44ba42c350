"""TMVA's envelopes: algorithms that drive the Factory over one DataLoader (``tmva/tmva/src/Envelope.cxx``).

=========================  =========================================================================
``envelope``               :class:`Envelope`: booked methods, the options every envelope has
``parallel``               the worker processes (``NumWorkers``), deterministic whatever their number
``jobs``                   one training: a method trained, tested and evaluated by a Factory
``cvsplit``                ``CvSplitKFolds``: the folds of a cross-validation
``crossvalidation``        ``TMVA.CrossValidation`` and ``CrossValidationResult``
``classification``         ``TMVA.Experimental.Classification``
``variableimportance``     ``TMVA.VariableImportance``
``hyperparameters``        ``TMVA.HyperParameterOptimisation``
=========================  =========================================================================

The envelopes sit on top of the Factory (the face layer of ``docs/architecture.md``); ``docs/crossvalidation.md``
describes them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Classification",
    "CrossValidation",
    "CrossValidationResult",
    "HyperParameterOptimisation",
    "VIType",
    "VariableImportance",
]

_LAZY = {
    "CrossValidation": "crossvalidation",
    "CrossValidationResult": "crossvalidation",
    "Classification": "classification",
    "VariableImportance": "variableimportance",
    "VIType": "variableimportance",
    "HyperParameterOptimisation": "hyperparameters",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'pymva.envelope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
