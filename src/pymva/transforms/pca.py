"""``P`` / ``PCA``: principal-component rotation (TMVA ``VariablePCATransform``, ROOT ``TPrincipal``).

Per parameter set: the **unweighted** mean ``m`` and covariance (normalised by 1/N) of the selected
inputs; its eigenvectors, sorted by decreasing eigenvalue, are the columns of ``E``; then
``x'_i = Σ_j (x_j − m_j) E_ji`` (a rotation, no scaling).  The inverse is ``x = E x' + m``.

Eigenvector signs: ROOT's eigen solver leaves them to chance; pymva makes the component with the
largest absolute value of every eigenvector positive (the first one on a tie) — the convention of
scikit-learn's ``PCA`` — so results are reproducible.  At least two inputs are required and
variables and targets cannot be mixed (as in TMVA); with more than 200 inputs the rotation is not
computed and the inputs pass through.

Applied in double precision, as ``VariablePCATransform::X2P`` computes (``P2X`` for the inverse),
and rounded to float32 once.  The array path works in blocks of :data:`~pymva.transforms.base.BLOCK_ROWS` rows so that its
float64 temporaries stay in the L2 cache: the block converted to float64 into a preallocated
buffer, the mean subtracted in place, the matrix product into a second buffer, then rounded into
the float32 result (the same operations on every row as a whole-array product, so the same values).
"""

from __future__ import annotations

import operator
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelError
from .base import (
    F32,
    F64,
    VariableTransform,
    blocked_product,
    fmt_array,
    int_attr,
    log,
    moments,
    ordered_sets,
    parse_numbers,
)
from .decorrelate import MAX_INPUTS

__all__ = ["PCA", "principal_axes"]

_CLASS_LABELS = ("Signal", "Background")


def principal_axes(cov: F64) -> tuple[F64, F64]:
    """Eigenvalues (decreasing) and eigenvectors (columns, largest-|component| positive) of ``cov``."""
    eigval, vec = np.linalg.eigh(cov)
    order = np.argsort(-eigval, kind="stable")
    eigval, vec = eigval[order], vec[:, order]
    pivot = np.argmax(np.abs(vec), axis=0)
    signs = np.sign(vec[pivot, np.arange(vec.shape[1])])
    signs[signs == 0] = 1.0
    return eigval, np.asarray(vec * signs, dtype=np.float64)


class PCA(VariableTransform):
    """TMVA's ``PCA``; parameters ``(mean, eigenvectors)`` per set (``None`` when skipped)."""

    letter = "P"
    xml_name = "PCA"
    short_name = "PCA"
    elementwise = False
    preparing_message = "Preparing the Principle Component (PCA) transformation..."

    def _fit_all(self, Z: F32, weights: F32, class_id: npt.NDArray[np.integer[Any]]) -> list[Any]:
        if self.n_inputs > MAX_INPUTS:
            log.info(": More than %d variables, will not calculate PCA!", MAX_INPUTS)
            return [None] * self.n_sets
        return super()._fit_all(Z, weights, class_id)

    def _fit_set(self, Z: F32, w: F32) -> tuple[F64, F64]:
        _n, mean, cov = moments(Z, None)
        _eigval, vec = principal_axes(cov)
        return mean, vec

    def _forward_set(self, params: tuple[F64, F64] | None, Z: F32, columns: Sequence[int] | None) -> F32:
        if params is None:
            return np.array(Z, dtype=np.float32, copy=True)
        mean, vec = params
        mean = np.asarray(mean, dtype=np.float64)
        vec = np.ascontiguousarray(vec, dtype=np.float64)
        return blocked_product(Z, vec, before=mean, after=None)

    def event_function(
        self, columns: Sequence[int] | None = None
    ) -> Callable[[list[float]], list[float]] | None:
        """Per-event ``x'_i = Σ_j (x_j − m_j) E_ji`` in float64, as :meth:`forward`."""
        self._check_fitted()
        params = self.params_[self.set_index()]
        if params is None:
            return list
        mean = np.asarray(params[0], dtype=np.float64).tolist()
        cols = np.asarray(params[1], dtype=np.float64).T.tolist()

        def pca_event(x: list[float]) -> list[float]:
            centred = list(map(operator.sub, x, mean))
            return [sum(map(operator.mul, centred, col)) for col in cols]

        return pca_event

    def _inverse_set(self, params: tuple[F64, F64] | None, Z: F32, columns: Sequence[int] | None) -> F32:
        if params is None:
            return np.array(Z, dtype=np.float32, copy=True)
        mean, vec = params
        mean = np.asarray(mean, dtype=np.float64)
        vec_t = np.ascontiguousarray(np.asarray(vec, dtype=np.float64).T)
        return blocked_product(Z, vec_t, before=None, after=mean)

    # ------------------------------------------------------------------ XML
    def _params_to_xml(self, el: ET.Element) -> None:
        for s, p in enumerate(self.params_):
            if p is None:
                continue
            st = ET.SubElement(
                el, "Statistics", {"Class": _label(s), "ClassIndex": str(s), "NRows": str(self.n_inputs)}
            )
            st.text = fmt_array(p[0])
        for s, p in enumerate(self.params_):
            if p is None:
                continue
            ev = ET.SubElement(
                el,
                "Eigenvectors",
                {
                    "Class": _label(s),
                    "ClassIndex": str(s),
                    "NRows": str(self.n_inputs),
                    "NCols": str(self.n_inputs),
                },
            )
            ev.text = fmt_array(p[1])

    def _params_from_xml(self, el: ET.Element) -> None:
        means: dict[int, F64] = {}
        vecs: dict[int, F64] = {}
        k = self.n_inputs
        for st in el.findall("Statistics"):
            s = int_attr(st, "ClassIndex")
            if int_attr(st, "NRows") != k:
                raise ModelError(f"weights file: PCA <Statistics> has NRows={st.get('NRows')}, expected {k}")
            means[s] = parse_numbers(st.text, k, "a PCA <Statistics>")
        for ev in el.findall("Eigenvectors"):
            s = int_attr(ev, "ClassIndex")
            if int_attr(ev, "NRows") != k or int_attr(ev, "NCols") != k:
                raise ModelError(f"weights file: PCA <Eigenvectors> is not {k}x{k}")
            vecs[s] = parse_numbers(ev.text, k * k, "a PCA <Eigenvectors>").reshape(k, k)
        if not means and not vecs:
            self.params_ = [None] * self.n_sets
            return
        if sorted(means) != sorted(vecs):
            raise ModelError("weights file: PCA <Statistics> and <Eigenvectors> cover different classes")
        self.params_ = ordered_sets({s: (means[s], vecs[s]) for s in means}, self.n_sets, "PCA")


def _label(s: int) -> str:
    # TMVA labels the sets by position, whatever the class names are
    return _CLASS_LABELS[s] if s < len(_CLASS_LABELS) else "Combined"
