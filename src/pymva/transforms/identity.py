"""``I`` / ``Ident`` / ``Identity``: the pass-through transformation (TMVA ``VariableIdentityTransform``).

It exists for the Factory's ``Transformations`` option (``InputVariables_Id`` plots) and has no
parameters; like TMVA it writes nothing into the weights file (it is only counted in
``NTransformations``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..data.dataset import VariableInfo
from .base import F32, VariableTransform

__all__ = ["Identity"]


class Identity(VariableTransform):
    """The identity; always fitted."""

    letter = "I"
    xml_name = "Identity"
    short_name = "Id"

    def __init__(
        self, inputs: Sequence[Any] = (), *, n_classes: int = 1, reference_class: int | None = None
    ) -> None:
        super().__init__(inputs, n_classes=n_classes, reference_class=reference_class)
        self.params_ = [None] * self.n_sets

    def fit(self, Z: F32, weights: F32, class_id: npt.NDArray[np.integer[Any]]) -> None:
        """Nothing to fit."""

    def _fit_set(self, Z: F32, w: F32) -> None:
        return None

    def _forward_set(self, params: Any, Z: F32, columns: Sequence[int] | None) -> F32:
        return np.array(Z, dtype=np.float32, copy=True)

    def event_function(
        self, columns: Sequence[int] | None = None
    ) -> Callable[[list[float]], list[float]] | None:
        """The values unchanged."""
        return list

    def _inverse_set(self, params: Any, Z: F32, columns: Sequence[int] | None) -> F32:
        return np.array(Z, dtype=np.float32, copy=True)

    def to_xml(
        self,
        parent: ET.Element,
        *,
        variables: Sequence[VariableInfo],
        targets: Sequence[VariableInfo],
        spectators: Sequence[VariableInfo],
        class_names: Sequence[str],
    ) -> ET.Element | None:
        """TMVA writes no element for the identity."""
        return None

    def _params_to_xml(self, el: ET.Element) -> None:
        pass

    def describe(self, class_names: Sequence[str] = ()) -> str:
        """``"I"``."""
        return "I"

    def _params_from_xml(self, el: ET.Element) -> None:
        pass
