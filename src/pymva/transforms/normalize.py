"""``N`` / ``Norm``: linear map of each input to [−1, 1] (TMVA ``VariableNormalizeTransform``).

Per parameter set and input: ``min`` and ``max`` over the training events (unweighted), then
``x' = 2 (x − min) / (max − min) − 1``; values outside the training range extrapolate linearly.
The inverse is ``x = min + (x' + 1) (max − min) / 2``.

Computed in float64 and rounded to float32 once, so the training minimum and maximum map to
exactly −1 and +1 (TMVA's float32 arithmetic can be one unit in the last place off at +1).  An
input that is constant in a parameter set maps to 0 (TMVA divides by zero there).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ModelError
from .base import F32, F64, VariableTransform, fmt_number, int_attr, log, ordered_sets

__all__ = ["Normalize"]

_CHUNK = 1 << 16


class Normalize(VariableTransform):
    """TMVA's ``Normalize`` transformation; parameters ``(min, max)`` arrays per set."""

    letter = "N"
    xml_name = "Normalize"
    short_name = "Norm"
    preparing_message = ""

    def _fit_set(self, Z: F32, w: F32) -> tuple[F64, F64]:
        lo = Z.min(axis=0).astype(np.float64)
        hi = Z.max(axis=0).astype(np.float64)
        const = np.flatnonzero(hi <= lo)
        if const.size:
            log.warning(
                "Normalize: input(s) %s are constant on the training events of a class; they are mapped to 0",
                ", ".join(str(int(i)) for i in const),
            )
        return lo, hi

    def _select(self, params: tuple[F64, F64], columns: Sequence[int] | None) -> tuple[F64, F64]:
        lo, hi = params
        if columns is not None:
            idx = np.asarray(columns, dtype=np.intp)
            return lo[idx], hi[idx]
        return lo, hi

    def _forward_set(self, params: tuple[F64, F64], Z: F32, columns: Sequence[int] | None) -> F32:
        lo, hi = self._select(params, columns)
        rng = hi - lo
        ok = rng > 0
        safe = np.where(ok, rng, 1.0)
        out = np.empty(Z.shape, dtype=np.float32)
        for a in range(0, len(Z), _CHUNK):
            block = Z[a : a + _CHUNK].astype(np.float64)
            block -= lo
            block /= safe
            block *= 2.0
            block -= 1.0
            out[a : a + _CHUNK] = block
        if not ok.all():
            out[:, ~ok] = 0.0
        return out

    def event_function(
        self, columns: Sequence[int] | None = None
    ) -> Callable[[list[float]], list[float]] | None:
        """Per-event ``2 (x − min) / (max − min) − 1`` (0 for a constant input), as :meth:`forward`."""
        self._check_fitted()
        lo, hi = self._select(self.params_[self.set_index()], columns)
        rng = hi - lo
        ok = rng > 0
        terms = list(zip(lo.tolist(), np.where(ok, rng, 1.0).tolist(), ok.tolist(), strict=True))

        def normalize_event(x: list[float]) -> list[float]:
            return [((v - a) / s) * 2.0 - 1.0 if o else 0.0 for v, (a, s, o) in zip(x, terms, strict=True)]

        return normalize_event

    def _inverse_set(self, params: tuple[F64, F64], Z: F32, columns: Sequence[int] | None) -> F32:
        lo, hi = self._select(params, columns)
        out = lo + (Z.astype(np.float64) + 1.0) * 0.5 * (hi - lo)
        return out.astype(np.float32)

    # ------------------------------------------------------------------ XML
    def _params_to_xml(self, el: ET.Element) -> None:
        for s, (lo, hi) in enumerate(self.params_):
            cls = ET.SubElement(el, "Class", {"ClassIndex": str(s)})
            ranges = ET.SubElement(cls, "Ranges")
            for i in range(self.n_inputs):
                ET.SubElement(
                    ranges, "Range", {"Index": str(i), "Min": fmt_number(lo[i]), "Max": fmt_number(hi[i])}
                )

    def _params_from_xml(self, el: ET.Element) -> None:
        sets: dict[int, tuple[F64, F64]] = {}
        for cls in el.findall("Class"):
            s = int_attr(cls, "ClassIndex")
            lo = np.zeros(self.n_inputs)
            hi = np.zeros(self.n_inputs)
            seen = np.zeros(self.n_inputs, dtype=bool)
            for rng in cls.iter("Range"):
                i = int_attr(rng, "Index")
                if not 0 <= i < self.n_inputs:
                    raise ModelError(f"weights file: Normalize <Range Index='{i}'> out of range")
                try:
                    lo[i] = float(rng.get("Min", "nan"))
                    hi[i] = float(rng.get("Max", "nan"))
                except ValueError:
                    raise ModelError(
                        "weights file: Normalize <Range> with a Min/Max that is not a number"
                    ) from None
                seen[i] = True
            if not seen.all():
                raise ModelError(
                    f"weights file: Normalize class {s} lacks ranges for some of its {self.n_inputs} inputs"
                )
            sets[s] = (lo, hi)
        self.params_ = ordered_sets(sets, self.n_sets, "Normalize")
