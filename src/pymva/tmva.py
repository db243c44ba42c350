"""The ``TMVA`` namespace: ``from pymva import TMVA`` replaces ``from ROOT import TMVA``.

It holds the same names as ROOT's ``TMVA`` namespace that TMVA scripts use — ``TMVA.Factory``,
``TMVA.DataLoader``, ``TMVA.Reader``, ``TMVA.Types``, ``TMVA.Experimental.RReader``, ``TMVA.Config``
and ``TMVA.gConfig()`` (:mod:`pymva.config`: weight-file directories, the progress-bar, colour and
silent flags), the envelopes
``TMVA.CrossValidation``, ``TMVA.VariableImportance`` (with ``TMVA.VIType``),
``TMVA.HyperParameterOptimisation`` and ``TMVA.Experimental.Classification``, the fitters
``TMVA.Interval``, ``TMVA.IFitterTarget``, ``TMVA.MCFitter``, ``TMVA.GeneticFitter``,
``TMVA.SimulatedAnnealingFitter``, ``TMVA.MinuitFitter`` (:mod:`pymva.methods.fitters`),
``TMVA.TMVAGui`` (which writes TMVAGui's plots as PNG and PDF with an ``index.html``,
:func:`pymva.plotting.TMVAGui`) — plus
``TMVA.Tools.Instance()`` and ``TMVA.PyMethodBase.PyInitialize()``, which do nothing in pymva and are
kept so that existing scripts run unchanged.  ``TMVA.TCut`` is pymva's :class:`~pymva.tcut.TCut`
(ROOT scripts use ``ROOT.TCut``; the TMVA tutorials' ``TCut('')`` maps onto it).
"""

from __future__ import annotations

from typing import Any

from .config import Config, gConfig
from .tcut import TCut
from .types import Types

__all__ = ["TMVA"]


class _Tools:
    """``TMVA.Tools``: only ``Instance()`` is used by scripts (it initialises TMVA's singletons)."""

    @staticmethod
    def Instance() -> _Tools:
        """Return the (stateless) tools object; nothing needs initialising in pymva."""
        return _TOOLS


_TOOLS = _Tools()


class _PyMethodBase:
    """``TMVA.PyMethodBase``: ``PyInitialize()`` starts ROOT's embedded Python; here it is a no-op."""

    @staticmethod
    def PyInitialize() -> None:
        """Do nothing: pymva already runs inside Python."""

    @staticmethod
    def PyIsInitialized() -> bool:
        """Always ``True``."""
        return True


class _Experimental:
    """``TMVA.Experimental``: holds ``RReader`` and ``Classification``."""

    def __getattr__(self, name: str) -> Any:
        if name == "RReader":
            from .reader import RReader

            return RReader
        if name == "Classification":
            from .envelope.classification import Classification

            return Classification
        raise AttributeError(
            f"TMVA.Experimental has no attribute {name!r}; available: {', '.join(self.__dir__())}"
        )

    def __dir__(self) -> list[str]:
        return ["Classification", "RReader"]


#: The envelopes: ``TMVA.<name>`` -> (module, attribute).
_ENVELOPES = {
    "CrossValidation": ("crossvalidation", "CrossValidation"),
    "CrossValidationResult": ("crossvalidation", "CrossValidationResult"),
    "VariableImportance": ("variableimportance", "VariableImportance"),
    "VIType": ("variableimportance", "VIType"),
    "HyperParameterOptimisation": ("hyperparameters", "HyperParameterOptimisation"),
}

#: TMVA's fitter classes: ``TMVA.<name>`` -> attribute of ``pymva.methods.fitters``.
_FITTERS = (
    "FitterBase",
    "GeneticFitter",
    "IFitterTarget",
    "Interval",
    "MCFitter",
    "MinuitFitter",
    "SimulatedAnnealingFitter",
)


class _TMVANamespace:
    """ROOT's ``TMVA`` namespace, pymva flavour (see the module docstring)."""

    Types = Types
    TCut = TCut
    Tools = _Tools
    Config = Config
    gConfig = staticmethod(gConfig)
    PyMethodBase = _PyMethodBase
    Experimental = _Experimental()

    def __getattr__(self, name: str) -> Any:
        if name == "Factory":
            from .factory import Factory

            return Factory
        if name == "DataLoader":
            from .data.loader import DataLoader

            return DataLoader
        if name == "Reader":
            from .reader import Reader

            return Reader
        if name == "TMVAGui":
            from .plotting import TMVAGui

            return TMVAGui
        if name in _ENVELOPES:
            import importlib

            module, attr = _ENVELOPES[name]
            return getattr(importlib.import_module(f"pymva.envelope.{module}"), attr)
        if name in _FITTERS:
            from .methods import fitters

            return getattr(fitters, name)
        from .errors import did_you_mean

        raise AttributeError(
            f"pymva's TMVA namespace has no attribute {name!r}{did_you_mean(name, self.__dir__())}"
        )

    def __dir__(self) -> list[str]:
        return sorted(
            [
                "Config",
                "DataLoader",
                "Experimental",
                "Factory",
                "PyMethodBase",
                "Reader",
                "TCut",
                "TMVAGui",
                "Tools",
                "Types",
                "gConfig",
                *_ENVELOPES,
                *_FITTERS,
            ]
        )

    def __repr__(self) -> str:
        return "<pymva TMVA namespace>"


#: The namespace object: ``from pymva import TMVA``.
TMVA = _TMVANamespace()
