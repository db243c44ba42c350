"""``Types``: TMVA's enumerations (method types, analysis types, tree types).

``Types.kPyTorch`` and friends are members of :class:`EMVA`; ``Types.kClassification`` etc. of
:class:`EAnalysisType`; ``Types.kTraining``/``kTesting`` of :class:`ETreeType`.  The integer values
follow the order of TMVA's ``Types::EMVA`` (``../shared/tmva/core.md`` §2.2, with ``PyTorch`` after
``PyKeras`` as in newer releases).
"""

from __future__ import annotations

import enum
from typing import ClassVar

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


_EMVA = EMVA
_EAnalysisType = EAnalysisType
_ETreeType = ETreeType


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

    kVariable: ClassVar[_EMVA] = _EMVA.kVariable
    kCuts: ClassVar[_EMVA] = _EMVA.kCuts
    kLikelihood: ClassVar[_EMVA] = _EMVA.kLikelihood
    kPDERS: ClassVar[_EMVA] = _EMVA.kPDERS
    kHMatrix: ClassVar[_EMVA] = _EMVA.kHMatrix
    kFisher: ClassVar[_EMVA] = _EMVA.kFisher
    kKNN: ClassVar[_EMVA] = _EMVA.kKNN
    kCFMlpANN: ClassVar[_EMVA] = _EMVA.kCFMlpANN
    kTMlpANN: ClassVar[_EMVA] = _EMVA.kTMlpANN
    kBDT: ClassVar[_EMVA] = _EMVA.kBDT
    kDT: ClassVar[_EMVA] = _EMVA.kDT
    kRuleFit: ClassVar[_EMVA] = _EMVA.kRuleFit
    kSVM: ClassVar[_EMVA] = _EMVA.kSVM
    kMLP: ClassVar[_EMVA] = _EMVA.kMLP
    kBayesClassifier: ClassVar[_EMVA] = _EMVA.kBayesClassifier
    kFDA: ClassVar[_EMVA] = _EMVA.kFDA
    kBoost: ClassVar[_EMVA] = _EMVA.kBoost
    kPDEFoam: ClassVar[_EMVA] = _EMVA.kPDEFoam
    kLD: ClassVar[_EMVA] = _EMVA.kLD
    kPlugins: ClassVar[_EMVA] = _EMVA.kPlugins
    kCategory: ClassVar[_EMVA] = _EMVA.kCategory
    kDNN: ClassVar[_EMVA] = _EMVA.kDNN
    kDL: ClassVar[_EMVA] = _EMVA.kDL
    kPyRandomForest: ClassVar[_EMVA] = _EMVA.kPyRandomForest
    kPyAdaBoost: ClassVar[_EMVA] = _EMVA.kPyAdaBoost
    kPyGTB: ClassVar[_EMVA] = _EMVA.kPyGTB
    kPyKeras: ClassVar[_EMVA] = _EMVA.kPyKeras
    kPyTorch: ClassVar[_EMVA] = _EMVA.kPyTorch
    kC50: ClassVar[_EMVA] = _EMVA.kC50
    kRSNNS: ClassVar[_EMVA] = _EMVA.kRSNNS
    kRSVM: ClassVar[_EMVA] = _EMVA.kRSVM
    kRXGB: ClassVar[_EMVA] = _EMVA.kRXGB
    kCrossValidation: ClassVar[_EMVA] = _EMVA.kCrossValidation
    kMaxMethod: ClassVar[_EMVA] = _EMVA.kMaxMethod
    kClassification: ClassVar[_EAnalysisType] = _EAnalysisType.kClassification
    kRegression: ClassVar[_EAnalysisType] = _EAnalysisType.kRegression
    kMulticlass: ClassVar[_EAnalysisType] = _EAnalysisType.kMulticlass
    kNoAnalysisType: ClassVar[_EAnalysisType] = _EAnalysisType.kNoAnalysisType
    kMaxAnalysisType: ClassVar[_EAnalysisType] = _EAnalysisType.kMaxAnalysisType
    kTraining: ClassVar[_ETreeType] = _ETreeType.kTraining
    kTesting: ClassVar[_ETreeType] = _ETreeType.kTesting
    kMaxTreeType: ClassVar[_ETreeType] = _ETreeType.kMaxTreeType
    kValidation: ClassVar[_ETreeType] = _ETreeType.kValidation
    kTrainingOriginal: ClassVar[_ETreeType] = _ETreeType.kTrainingOriginal
