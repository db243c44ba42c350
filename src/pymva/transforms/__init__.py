"""Variable transformations (TMVA ``VarTransform`` chains).

NOTE: interim identity-only handler; the full implementation (N, D, P, G, U and chains) replaces
this module, keeping the :class:`TransformationHandler` API below.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..dataset import Sample, VariableInfo
from ..errors import OptionError

__all__ = ["TransformationHandler"]


class TransformationHandler:
    """A chain of variable transformations applied in order."""

    def __init__(self, spec: str, variables: Sequence[VariableInfo], targets: Sequence[VariableInfo],
                 spectators: Sequence[VariableInfo], class_names: Sequence[str], method_title: str = "") -> None:
        self.spec = spec
        self.variables = list(variables)
        self.targets = list(targets)
        self.spectators = list(spectators)
        self.class_names = list(class_names)
        self.method_title = method_title

    @classmethod
    def parse(cls, spec: str, *, variables: Sequence[VariableInfo], targets: Sequence[VariableInfo] = (),
              spectators: Sequence[VariableInfo] = (), class_names: Sequence[str] = (),
              method_title: str = "") -> TransformationHandler:
        if spec.strip().lower() not in ("", "none", "i", "ident", "identity"):
            raise OptionError(f"VarTransform '{spec}' not available yet")
        return cls(spec, variables, targets, spectators, class_names, method_title)

    def fit(self, sample: Sample) -> None:
        pass

    def transform(self, sample: Sample) -> Sample:
        return sample

    def transform_variables(self, X: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return X

    def inverse_targets(self, targets: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return targets

    def to_xml(self) -> ET.Element:
        return ET.Element("Transformations", NTransformations="0")

    @classmethod
    def from_xml(cls, element: ET.Element, *, variables: Sequence[VariableInfo],
                 targets: Sequence[VariableInfo] = (), spectators: Sequence[VariableInfo] = (),
                 class_names: Sequence[str] = (), method_title: str = "") -> TransformationHandler:
        return cls("None", variables, targets, spectators, class_names, method_title)
