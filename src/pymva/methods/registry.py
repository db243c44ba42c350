"""The registry of method types: which class implements ``Types.kPyTorch``, ``"BDT"``, ….

A method module registers its class with :func:`register_method`; :func:`get_method_class` finds it
by ``Types`` member, integer value or name (``"PyTorch"``), with a "did you mean" on a typo.  pymva's
own methods are listed in :data:`BUILTIN_METHODS` (type → module) and imported on first use, so that
``import pymva`` stays light and a new method is one line here plus its module.
"""

from __future__ import annotations

import importlib
from typing import TypeVar

from ..errors import OptionError, did_you_mean
from ..types import EMVA
from .base import MethodBase

__all__ = ["BUILTIN_METHODS", "available_methods", "get_method_class", "register_method"]

#: pymva's own methods: type → the module that registers its class.
BUILTIN_METHODS: dict[EMVA, str] = {
    EMVA.kPyTorch: "pymva.methods.pytorch",
    EMVA.kPyRandomForest: "pymva.methods.pyrandomforest",
    EMVA.kPyAdaBoost: "pymva.methods.pyadaboost",
    EMVA.kPyGTB: "pymva.methods.pygtb",
    EMVA.kFisher: "pymva.methods.fisher",
    EMVA.kBDT: "pymva.methods.bdt",
    EMVA.kCrossValidation: "pymva.methods.crossvalidation",
    EMVA.kLikelihood: "pymva.methods.likelihood",
    EMVA.kLD: "pymva.methods.ld",
    EMVA.kKNN: "pymva.methods.knn",
    EMVA.kDL: "pymva.methods.dl",
    EMVA.kPyKeras: "pymva.methods.pykeras",
    EMVA.kMLP: "pymva.methods.mlp",
    EMVA.kPDERS: "pymva.methods.pders",
    EMVA.kCategory: "pymva.methods.category",
    EMVA.kCuts: "pymva.methods.cuts",
    EMVA.kHMatrix: "pymva.methods.hmatrix",
    EMVA.kFDA: "pymva.methods.fda",
    EMVA.kSVM: "pymva.methods.svm",
    EMVA.kRuleFit: "pymva.methods.rulefit",
    EMVA.kPDEFoam: "pymva.methods.pdefoam",
    EMVA.kBoost: "pymva.methods.boost",
}

M = TypeVar("M", bound="type[MethodBase]")
_REGISTRY: dict[EMVA, type[MethodBase]] = {}


def register_method(cls: M) -> M:
    """Class decorator: register a method class under its ``method_type``."""
    _REGISTRY[cls.method_type] = cls
    return cls


def available_methods() -> list[str]:
    """Names of the registered method types (``["BDT", "Fisher", "PyTorch", …]``)."""
    _load_builtin_methods()
    return sorted(m.type_name for m in _REGISTRY)


def get_method_class(method: EMVA | int | str) -> type[MethodBase]:
    """Find the method class for a ``Types`` member, its integer value or its name.

    Parameters
    ----------
    method : EMVA, int or str
        ``Types.kPyTorch``, ``27`` or ``"PyTorch"`` (case-insensitive; ``"kPyTorch"`` too).

    Returns
    -------
    type
        The registered :class:`MethodBase` subclass.

    Raises
    ------
    OptionError
        For an unknown or unimplemented method type, listing the available ones.
    """
    _load_builtin_methods()
    names = available_methods()
    if isinstance(method, str):
        key = method.strip()
        low = key.lower()
        for m, cls in _REGISTRY.items():
            if low in (m.type_name.lower(), m.name.lower()):
                return cls
        raise OptionError(
            f"unknown method '{key}'{did_you_mean(key, names)} Available methods: {', '.join(names)}"
        )
    try:
        emva = EMVA(int(method))
    except ValueError:
        raise OptionError(f"unknown method type {method!r}; available methods: {', '.join(names)}") from None
    if emva not in _REGISTRY:
        raise OptionError(
            f"method type {emva.type_name} is not implemented in pymva; available methods: {', '.join(names)}"
        )
    return _REGISTRY[emva]


def _load_builtin_methods() -> None:
    """Import the modules of pymva's own methods (:data:`BUILTIN_METHODS`) so that they register
    themselves; each is imported once, on first use of the registry."""
    for module in BUILTIN_METHODS.values():
        importlib.import_module(module)
