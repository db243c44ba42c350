"""``Types``: TMVA's enumerations (method types, analysis types, tree types).

``Types.kPyTorch`` and friends are members of :class:`EMVA`; ``Types.kClassification`` etc. of
:class:`EAnalysisType`; ``Types.kTraining``/``kTesting`` of :class:`ETreeType`.  The integer values
follow the order of TMVA's ``Types::EMVA`` (``../shared/tmva/core.md`` §2.2, with ``PyTorch`` after
``PyKeras`` as in newer releases).
"""

from __future__ import annotations

import enum

__all__ = ["EMVA", "EAnalysisType", "ETreeType", "Types"]


class EMVA(enum.IntEnum):
    """Method types (``TMVA::Types::EMVA``); the name without ``k`` is the method type name."""

    kVariable = 0
    kCuts = 1
    kLikelihood = 2
    kPDERS = 3
    kHMatrix = 4
    kFisher = 5
    kKNN = 6
    kCFMlpANN = 7
    kTMlpANN = 8
    kBDT = 9
    kDT = 10
    kRuleFit = 11
    kSVM = 12
    kMLP = 13
    kBayesClassifier = 14
    kFDA = 15
    kBoost = 16
    kPDEFoam = 17
    kLD = 18
    kPlugins = 19
    kCategory = 20
    kDNN = 21
    kDL = 22
    kPyRandomForest = 23
    kPyAdaBoost = 24
    kPyGTB = 25
    kPyKeras = 26
    kPyTorch = 27
    kC50 = 28
    kRSNNS = 29
    kRSVM = 30
    kRXGB = 31
    kCrossValidation = 32
    kMaxMethod = 33

    @property
    def type_name(self) -> str:
        """The method type name as TMVA prints it (``"PyTorch"`` for ``kPyTorch``)."""
        return self.name[1:]


class EAnalysisType(enum.IntEnum):
    """Analysis types (``TMVA::Types::EAnalysisType``)."""

    kClassification = 0
    kRegression = 1
    kMulticlass = 2
    kNoAnalysisType = 3
    kMaxAnalysisType = 4

    @property
    def type_name(self) -> str:
        """``"Classification"``, ``"Regression"`` or ``"Multiclass"``."""
        return self.name[1:]


class ETreeType(enum.IntEnum):
    """Tree types (``TMVA::Types::ETreeType``)."""

    kTraining = 0
    kTesting = 1
    kMaxTreeType = 2
    kValidation = 3
    kTrainingOriginal = 4


class Types:
    """TMVA's ``Types`` namespace: ``Types.kPyTorch``, ``Types.kClassification``, ``Types.kTesting`` …

    ``Types.Instance()`` returns the class itself, for scripts that call it.
    """

    EMVA = EMVA
    EAnalysisType = EAnalysisType
    ETreeType = ETreeType

    @classmethod
    def Instance(cls) -> type[Types]:
        """Return the ``Types`` namespace (TMVA's singleton accessor)."""
        return cls


for _enum in (EMVA, EAnalysisType, ETreeType):
    for _name, _value in _enum.__members__.items():
        setattr(Types, _name, _value)
