"""``HMatrix`` (``Types.kHMatrix``): TMVA's H-matrix χ² discriminant (``MethodHMatrix.cxx``).

For each of the two classes ``η ∈ {S, B}`` (signal and background), from the training events of
that class with weights ``w`` (events with weight ``<= 0`` skipped under
``IgnoreNegWeightsInTraining``), each event transformed with its own class's ``VarTransform``
parameters (``SetTransformationReferenceClass(class of the event)``):

* the mean ``m_η = Σ w x / Σ w`` and the covariance ``C_η = Σ w x xᵀ / Σ w − m_η m_ηᵀ``
  (``ComputeCovariance``: one pass of sums in double precision);
* ``|det C_η| < 1e-23`` warns "almost singular", ``< 1e-119`` is an error; then ``H_η = C_η⁻¹``.

The response of an event ``x``: ``χ²_η = (x_η − m_η)ᵀ H_η (x_η − m_η)`` with ``x_η`` the event
transformed with class ``η``'s parameters, and

    ``(χ²_B − χ²_S) / (χ²_S + χ²_B)``

in ``[−1, 1]``, signal-like events near 1 (``GetMvaValue``; the signal reference cut is 0).  A
negative ``χ²`` is an error, as TMVA's fatal "negative chi2".

Weights file: ``<Weights>`` with the children ``<VecMeanS Rows="1" Columns="nvar">``,
``<VecMeanB …>``, ``<InvHMatS Rows="nvar" Columns="nvar">``, ``<InvHMatB …>`` in this order, each
holding its values row by row, blank-separated (TMVA ``Tools::WriteTMatrixDToXML``).  Options: the
base options only (TMVA declares none).  TMVA makes no variable ranking for HMatrix.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError
from ..transforms.base import fmt_array, int_attr, parse_numbers
from ..types import EMVA, EAnalysisType
from .base import MethodBase, MethodContext
from .registry import register_method

__all__ = ["MethodHMatrix", "hmatrix_class_moments", "hmatrix_response"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: The weights file's children, in the order TMVA writes and reads them.
_XML_NAMES = ("VecMeanS", "VecMeanB", "InvHMatS", "InvHMatB")


def hmatrix_class_moments(X: npt.ArrayLike, weights: npt.ArrayLike) -> tuple[F64, F64]:
    """Weighted mean and covariance of one class as TMVA's ``MethodHMatrix::ComputeCovariance``.

    Parameters
    ----------
    X : array, shape (n_events, n_variables)
        The class's (transformed) training events.
    weights : array, shape (n_events,)

    Returns
    -------
    mean : ndarray of float64, shape (n_variables,)
    covariance : ndarray of float64, shape (n_variables, n_variables)
        ``Σ w x xᵀ / Σ w − m mᵀ`` (the sums in double precision, as TMVA's one pass).

    Raises
    ------
    ModelError
        If the sum of weights is not positive.
    """
    x = np.asarray(X, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    sw = float(w.sum())
    if not sw > 0:
        raise ModelError(f"HMatrix: the sum of weights of a class is {sw:g}; it must be positive")
    vec = w @ x
    mat2 = (x * w[:, None]).T @ x
    return vec / sw, mat2 / sw - np.outer(vec, vec) / (sw * sw)


def hmatrix_response(
    xs: npt.ArrayLike, xb: npt.ArrayLike, mean_s: F64, mean_b: F64, inv_s: F64, inv_b: F64
) -> F64:
    """``(χ²_B − χ²_S) / (χ²_S + χ²_B)`` per event (TMVA ``MethodHMatrix::GetMvaValue``).

    Parameters
    ----------
    xs, xb : array, shape (n_events, n_variables)
        The events transformed with the signal and with the background class's parameters.
    mean_s, mean_b : ndarray of float64, shape (n_variables,)
    inv_s, inv_b : ndarray of float64, shape (n_variables, n_variables)
        The inverse covariance matrices (H-matrices).

    Returns
    -------
    ndarray of float64, shape (n_events,)

    Raises
    ------
    ModelError
        If a ``χ²`` is negative (the matrices are not positive definite; TMVA's fatal error).
    """
    ds = np.asarray(xs, dtype=np.float64) - mean_s
    db = np.asarray(xb, dtype=np.float64) - mean_b
    chi_s = np.einsum("ij,jk,ik->i", ds, inv_s, ds)
    chi_b = np.einsum("ij,jk,ik->i", db, inv_b, db)
    if (chi_s < 0).any() or (chi_b < 0).any():
        worst = float(min(chi_s.min(initial=0.0), chi_b.min(initial=0.0)))
        raise ModelError(f"HMatrix <GetChi2>: negative chi2: {worst:g}")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((chi_b - chi_s) / (chi_s + chi_b), dtype=np.float64)


@register_method
class MethodHMatrix(MethodBase):
    """TMVA's H-matrix discriminant (classification with 2 classes); see the module docstring.

    Attributes
    ----------
    mean_s_, mean_b_ : ndarray of float64, shape (n_variables,) or None
        Signal and background means (training or weights file).
    inv_s_, inv_b_ : ndarray of float64, shape (n_variables, n_variables) or None
        Inverse covariance matrices of signal and background.
    """

    method_type = EMVA.kHMatrix
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "HMatrix compares two chi-squared distances of an event: to the mean of\n"
        "the signal and to the mean of the background training events, each\n"
        "measured with the inverse covariance matrix (the H-matrix) of its class.\n"
        "The response (chi2_B - chi2_S)/(chi2_S + chi2_B) lies in [-1, 1].\n"
        "\n"
        "--- Performance optimisation:\n"
        "\n"
        "The method assumes Gaussian classes; it usually does no better than the\n"
        "Fisher discriminant, and non-linear classifiers suit non-Gaussian data.\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "None"
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.mean_s_: F64 | None = None
        self.mean_b_: F64 | None = None
        self.inv_s_: F64 | None = None
        self.inv_b_: F64 | None = None
        self._raw_training: Sample | None = None

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes only (as TMVA's)."""
        return analysis_type == EAnalysisType.kClassification and n_classes == 2

    def _classes(self) -> tuple[int, int]:
        s = self.context.signal_class
        return s, 1 - s

    def train(self, sample: Sample) -> None:
        """Fit the transformations, then the class means and H-matrices (see the module docstring)."""
        self._raw_training = sample
        try:
            super().train(sample)
        finally:
            self._raw_training = None

    def _train(self, sample: Sample) -> None:
        raw = self._raw_training if self._raw_training is not None else sample
        sig, bkg = self._classes()
        X = np.ascontiguousarray(raw.X, dtype=np.float32)
        w = np.asarray(sample.weights, dtype=np.float64)
        cid = np.asarray(sample.class_id)
        keep = w > 0 if self.options.IgnoreNegWeightsInTraining else np.ones(len(w), dtype=bool)
        results: dict[int, tuple[F64, F64]] = {}
        for cls_index, label in ((sig, "S"), (bkg, "B")):
            rows = keep & (cid == cls_index)
            # each event is transformed with its own class's parameters
            xt = self.transformations.transform_variables(X[rows], class_index=cls_index)
            mean, cov = hmatrix_class_moments(xt, w[rows])
            det = abs(float(np.linalg.det(cov)))
            if det < 10e-24:
                self.log.warning(
                    "<Train> H-matrix  %s is almost singular with determinant= %g did you use the variables "
                    "that are linear combinations or highly correlated ???",
                    label,
                    det,
                )
            if det < 10e-120:
                raise ModelError(
                    f"method {self.method_name} <Train>: H-matrix {label} is singular with determinant= "
                    f"{det:g}: did you use variables that are linear combinations of others?"
                )
            results[cls_index] = (mean, np.asarray(np.linalg.inv(cov), dtype=np.float64))
        self.mean_s_, self.inv_s_ = results[sig]
        self.mean_b_, self.inv_b_ = results[bkg]

    def _parameters(self) -> tuple[F64, F64, F64, F64]:
        self.check_trained()
        if self.mean_s_ is None or self.mean_b_ is None or self.inv_s_ is None or self.inv_b_ is None:
            raise ModelError(f"method {self.method_name}: no H-matrices (train or read a weights file)")
        return self.mean_s_, self.mean_b_, self.inv_s_, self.inv_b_

    def _columns(self, r: F64) -> F32:
        out = np.empty((len(r), self.context.n_classes), dtype=np.float32)
        out[:] = (-r)[:, None]
        out[:, self.context.signal_class] = r
        return out

    def raw_outputs(self, X: F32) -> F32:
        """The response for untransformed inputs, each χ² with its class's transformation parameters."""
        ms, mb, hs, hb = self._parameters()
        Xa = np.ascontiguousarray(X, dtype=np.float32)
        sig, bkg = self._classes()
        xs = self.transformations.transform_variables(Xa, class_index=sig)
        xb = self.transformations.transform_variables(Xa, class_index=bkg)
        return self._columns(hmatrix_response(xs, xb, ms, mb, hs, hb))

    def _predict(self, X: F32) -> F32:
        """The response for inputs already transformed (both χ² from the same values)."""
        ms, mb, hs, hb = self._parameters()
        return self._columns(hmatrix_response(X, X, ms, mb, hs, hb))

    def add_weights_xml(self, parent: ET.Element) -> None:
        """``<VecMeanS>``, ``<VecMeanB>``, ``<InvHMatS>``, ``<InvHMatB>`` (TMVA ``AddWeightsXMLTo``)."""
        if self.mean_s_ is None or self.mean_b_ is None or self.inv_s_ is None or self.inv_b_ is None:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        for name, value in zip(
            _XML_NAMES, (self.mean_s_, self.mean_b_, self.inv_s_, self.inv_b_), strict=True
        ):
            a = np.atleast_2d(value)
            node = ET.SubElement(parent, name, Rows=str(a.shape[0]), Columns=str(a.shape[1]))
            node.text = fmt_array(a)

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the means and H-matrices back (TMVA ``ReadWeightsFromXML``: the four children in order)."""
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        children = list(weights)
        n = self.context.n_variables
        if len(children) < 4:
            raise ModelError(f"{where}: <Weights> needs the children {', '.join(_XML_NAMES)}")
        values: list[F64] = []
        for child, name in zip(children[:4], _XML_NAMES, strict=True):
            rows, cols = int_attr(child, "Rows"), int_attr(child, "Columns")
            expected = (1, n) if name.startswith("Vec") else (n, n)
            if (rows, cols) != expected:
                raise ModelError(
                    f"{where}: <{child.tag}> is {rows}x{cols}, expected {expected[0]}x{expected[1]} for "
                    f"{n} variables"
                )
            data = parse_numbers(child.text, rows * cols, f"<{child.tag}>")
            values.append(data if rows == 1 else data.reshape(rows, cols))
        self.mean_s_, self.mean_b_, self.inv_s_, self.inv_b_ = values
        super().read_weights_xml(weights)
