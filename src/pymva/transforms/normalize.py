"""``N`` / ``Norm``: linear map of each input to [−1, 1] (TMVA ``VariableNormalizeTransform``).

Per parameter set and input: ``min`` and ``max`` over the training events (unweighted), then
``x' = 2 (x − min) / (max − min) − 1``; values outside the training range extrapolate linearly.
The inverse is ``x = min + (x' + 1) (max − min) / 2``.

Computed in TMVA's own float32 arithmetic (``VariableNormalizeTransform::Transform`` and
``InverseTransform``, where every quantity is a ``Float_t``): the range ``max − min`` in float32,
``scale = (float)(1.0 / (max − min))`` (a double division rounded to float32 once), then
``x' = ((x − min)·scale)·2 − 1`` and ``x = min + (x' + 1)/(scale·2)``, each operation rounded to
float32.  ``·2`` is exact, so ``(d·scale)·2 = d·(2·scale)``: the array path computes
``(x − min)·s2 − 1`` with ``s2 = 2·scale``, in cache-sized row blocks.  The training minimum maps
to exactly −1; the maximum to +1 or one float32 unit in the last place beside it, as in TMVA.
An input that is constant in a parameter set maps to 0 (TMVA divides by zero there).
"""

from __future__ import annotations

import array
import operator
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from ..errors import ModelError
from .base import F32, F64, VariableTransform, fmt_number, int_attr, log, ordered_sets

__all__ = ["Normalize", "float32_terms"]

#: Rows per block of the array paths (8192 rows of 10 float32 inputs: 320 kB, in L2 while the
#: three passes over the block run; 4k-16k rows were equally fast, see benchmarks/README.md).
_BLOCK = 8192


def float32_terms(lo: F64, hi: F64) -> tuple[F32, F32, npt.NDArray[np.bool_]]:
    """TMVA's float32 parameters of Normalize: ``(min, 2·scale, ok)`` per input.

    Parameters
    ----------
    lo, hi : ndarray of float64, shape (k,)
        Minimum and maximum per input (rounded to float32 here, as TMVA holds them).

    Returns
    -------
    lo32 : ndarray of float32
        The minima.
    s2 : ndarray of float32
        ``2·(float)(1.0/(max − min))`` with ``max − min`` computed in float32
        (``VariableNormalizeTransform::Transform``); ``inf`` where the range is not positive.
    ok : ndarray of bool
        Whether the float32 range is positive (a constant input maps to 0).
    """
    lo32 = np.asarray(lo, dtype=np.float64).astype(np.float32)
    hi32 = np.asarray(hi, dtype=np.float64).astype(np.float32)
    with np.errstate(over="ignore"):
        rng32 = hi32 - lo32  # float32 subtraction (an overflow to inf gives scale 0, as in TMVA)
    ok = rng32 > 0
    with np.errstate(divide="ignore"):
        scale = (1.0 / np.where(ok, rng32, 0.0).astype(np.float64)).astype(np.float32)
    return lo32, scale * np.float32(2.0), ok


def _blocked(Z: F32, lo32: F32, s2: F32, apply: Callable[[F32, F32, F32, F32], None]) -> F32:
    """Run ``apply(z, out, lo, s2)`` over blocks of :data:`_BLOCK` rows, on flat contiguous views.

    The per-input parameters are tiled to one block's length, so that each float32 pass is one
    contiguous loop (a ``(rows, k)`` array against a ``(k,)`` row would run numpy's inner loop
    ``k`` elements at a time, several times slower for a few inputs).
    """
    Z = np.ascontiguousarray(Z, dtype=np.float32)
    n, k = Z.shape
    out = np.empty((n, k), dtype=np.float32)
    rows = min(_BLOCK, n)
    lo_t, s2_t = np.tile(lo32, rows), np.tile(s2, rows)
    zf, of = Z.reshape(-1), out.reshape(-1)
    step = rows * k
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for a in range(0, n * k, step or 1):
            o = of[a : a + step]
            m = len(o)
            apply(zf[a : a + step], o, lo_t[:m], s2_t[:m])
    return out


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
        lo32, s2, ok = float32_terms(*self._select(params, columns))
        s2 = np.where(ok, s2, np.float32(0.0))
        one = np.float32(1.0)

        def forward_block(z: F32, o: F32, lo_t: F32, s2_t: F32) -> None:
            np.subtract(z, lo_t, out=o)
            np.multiply(o, s2_t, out=o)
            np.subtract(o, one, out=o)

        out = _blocked(Z, lo32, s2, forward_block)
        if not ok.all():
            out[:, ~ok] = 0.0
        return out

    def event_function(
        self, columns: Sequence[int] | None = None
    ) -> Callable[[list[float]], list[float]] | None:
        """Per-event ``((x − min)·s2) − 1`` in float32 steps (0 for a constant input), as :meth:`forward`.

        Each step is computed on Python floats (doubles) and rounded to float32 before the next
        (``array('f')``); a double holds more than twice float32's precision plus two bits, so an
        addition or multiplication rounded this way equals the float32 operation.  The last
        subtraction is rounded by the caller (the chain rounds every element's output).
        """
        self._check_fitted()
        lo32, s2, ok = float32_terms(*self._select(self.params_[self.set_index()], columns))
        lo_l, s2_l, ok_l = lo32.tolist(), np.where(ok, s2, np.float32(0.0)).tolist(), ok.tolist()
        ones = [1.0] * len(lo_l)
        f32, sub, mul = array.array, operator.sub, operator.mul

        if all(ok_l):

            def normalize_event(x: list[float]) -> list[float]:
                # array('f') rounds to float32 (±inf beyond its range, as a float32 operation)
                return list(map(sub, f32("f", map(mul, f32("f", map(sub, x, lo_l)), s2_l)), ones))

        else:

            def normalize_event(x: list[float]) -> list[float]:
                p = f32("f", map(mul, f32("f", map(sub, x, lo_l)), s2_l))
                return [q - 1.0 if o else 0.0 for q, o in zip(p, ok_l, strict=True)]

        return normalize_event

    def _inverse_set(self, params: tuple[F64, F64], Z: F32, columns: Sequence[int] | None) -> F32:
        # TMVA's InverseTransform: min + (x' + 1)/(scale·2) in float32 (a constant input: s2 = inf,
        # so every value maps back to min)
        lo32, s2, _ = float32_terms(*self._select(params, columns))
        one = np.float32(1.0)

        def inverse_block(z: F32, o: F32, lo_t: F32, s2_t: F32) -> None:
            np.add(z, one, out=o)
            np.divide(o, s2_t, out=o)
            np.add(o, lo_t, out=o)

        return _blocked(Z, lo32, s2, inverse_block)

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
