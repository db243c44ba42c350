"""``D`` / ``Deco``: linear decorrelation by the inverse square root of the covariance matrix
(TMVA ``VariableDecorrTransform``).

Per parameter set: the **weighted** covariance ``C = Σw (x−μ)(x−μ)ᵀ / Σw`` of the selected inputs;
``C = S D Sᵀ`` (eigen-decomposition), ``M = C^{-1/2} = S D^{-1/2} Sᵀ``; then ``x' = M x`` — the
mean is **not** subtracted, as in TMVA.  After the transform the weighted covariance of the
training events of the fitted class is the identity.

There is no inverse (TMVA aborts when it would need one): a chain that must invert regression
targets cannot contain ``D`` on targets.  With more than 200 inputs the matrix is not computed and
the transform passes its inputs through, as TMVA does.  Eigenvalues that are not positive (a
constant input, linearly dependent inputs, negative weights) get a warning and a zero in ``D^{-1/2}``
(a pseudo-inverse; TMVA would produce NaN there).
"""

from __future__ import annotations

import operator
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError, ModelError
from .base import (
    F32,
    F64,
    VariableTransform,
    blocked_product,
    fmt_array,
    int_attr,
    log,
    moments,
    parse_numbers,
)

__all__ = ["MAX_INPUTS", "Decorrelate", "inverse_sqrt_matrix"]

#: Above this number of inputs TMVA does not compute the matrix (D and P).
MAX_INPUTS = 200


def inverse_sqrt_matrix(cov: F64, what: str = "covariance") -> F64:
    """``C^{-1/2} = S D^{-1/2} Sᵀ`` of a symmetric matrix (zero for non-positive eigenvalues)."""
    eigval, vec = np.linalg.eigh(cov)
    scale = float(np.max(np.abs(eigval))) if eigval.size else 0.0
    bad = eigval <= 1e-12 * scale if scale > 0 else np.ones_like(eigval, dtype=bool)
    if bad.any():
        log.warning(
            "Decorrelate: the %s matrix has %d non-positive eigenvalue(s) (smallest %.3g); "
            "those directions are set to zero (constant or linearly dependent inputs?)",
            what,
            int(bad.sum()),
            float(eigval.min()) if eigval.size else 0.0,
        )
    inv = np.where(bad, 0.0, 1.0 / np.sqrt(np.where(bad, 1.0, eigval)))
    return np.asarray((vec * inv) @ vec.T, dtype=np.float64)


class Decorrelate(VariableTransform):
    """TMVA's ``Decorrelation``; parameters: one ``(k, k)`` matrix per set (``None`` when skipped)."""

    letter = "D"
    xml_name = "Decorrelation"
    short_name = "Deco"
    elementwise = False
    invertible = False
    preparing_message = "Preparing the Decorrelation transformation..."

    def _fit_all(self, Z: F32, weights: F32, class_id: npt.NDArray[np.integer[Any]]) -> list[Any]:
        if self.n_inputs > MAX_INPUTS:
            log.info(": More than %d variables, will not calculate decorrelation matrix !", MAX_INPUTS)
            return [None] * self.n_sets
        return super()._fit_all(Z, weights, class_id)

    def _fit_set(self, Z: F32, w: F32) -> F64:
        sw, _mean, cov = moments(Z, w)
        if not sw > 0:
            raise DataError(
                f"Decorrelate: the sum of event weights is {sw}; the weighted covariance is undefined"
            )
        return inverse_sqrt_matrix(cov)

    def _forward_set(self, params: F64 | None, Z: F32, columns: Sequence[int] | None) -> F32:
        if params is None:
            return np.array(Z, dtype=np.float32, copy=True)
        # float64 products in cache-sized row blocks, rounded to float32 once (as PCA's)
        return blocked_product(Z, np.asarray(params, dtype=np.float64).T, before=None, after=None)

    def event_function(
        self, columns: Sequence[int] | None = None
    ) -> Callable[[list[float]], list[float]] | None:
        """Per-event ``x' = M x`` (float64 sums over the inputs in order), as :meth:`forward`."""
        self._check_fitted()
        params = self.params_[self.set_index()]
        if params is None:
            return list
        rows = np.asarray(params, dtype=np.float64).tolist()

        def decorrelate_event(x: list[float]) -> list[float]:
            return [sum(map(operator.mul, x, row)) for row in rows]

        return decorrelate_event

    def _inverse_set(self, params: Any, Z: F32, columns: Sequence[int] | None) -> F32:
        raise ModelError(
            "the Decorrelate (D) transformation has no inverse, so it cannot transform regression targets "
            "(TMVA aborts there too); select only variables for it, e.g. 'D(_V_)'"
        )

    # ------------------------------------------------------------------ XML
    def _params_to_xml(self, el: ET.Element) -> None:
        for mat in self.params_:
            if mat is None:
                continue
            m = ET.SubElement(el, "Matrix", {"Rows": str(mat.shape[0]), "Columns": str(mat.shape[1])})
            m.text = fmt_array(mat)

    def _params_from_xml(self, el: ET.Element) -> None:
        mats = el.findall("Matrix")
        if not mats:
            self.params_ = [None] * self.n_sets
            return
        if len(mats) != self.n_sets:
            raise ModelError(
                f"weights file: Decorrelation holds {len(mats)} matrices, expected {self.n_sets}"
            )
        params = []
        for m in mats:
            rows, cols = int_attr(m, "Rows"), int_attr(m, "Columns")
            if rows != self.n_inputs or cols != self.n_inputs:
                raise ModelError(
                    f"weights file: Decorrelation matrix is {rows}x{cols}, the selection has {self.n_inputs} inputs"
                )
            params.append(parse_numbers(m.text, rows * cols, "a Decorrelation <Matrix>").reshape(rows, cols))
        self.params_ = params
