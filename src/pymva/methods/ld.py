"""``LD`` (``Types.kLD``): TMVA's linear discriminant, a weighted least-squares fit (``MethodLD.cxx``).

With ``X̃ = [1, x]`` the events' (transformed) variables with a leading 1 and ``W`` their weights
(events with weight ``<= 0`` skipped under ``IgnoreNegWeightsInTraining``):

* ``S = X̃ᵀ W X̃`` (``GetSum``) and ``V = X̃ᵀ W y`` (``GetSumVal``) with ``y`` the regression target, or
  1 for signal and 0 for background events in classification;
* the coefficients ``c = S⁻¹ V`` (``GetLDCoeff``; ``|det S| < 1e-23`` warns "almost singular",
  ``< 1e-119`` is an error);
* classification replaces the offset by ``c_0 = −½ Σ_j c_j m_j`` with ``m`` the weighted mean of the
  variables over both classes — the response is then centred between the classes, positive for
  signal-like events;
* the response ``c_0 + Σ_j c_j x_j``, accumulated in float32 as TMVA's ``Float_t`` return value;
  regression passes it back through the inverse target transformation.

Ranking "Discr. power": ``|c_j|``.  Weights file: ``<Weights NOut NCoeff="nvar+1">`` with one
``<Coefficient IndexOut IndexCoeff Value/>`` per output and coefficient (index 0 the offset).
Options: the base options only (TMVA declares none of its own).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError
from ..types import EMVA, EAnalysisType
from .base import MethodBase, MethodContext
from .ranking import Ranking, formatted_table
from .registry import register_method

__all__ = ["MethodLD", "ld_coefficients"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


def ld_coefficients(
    X: npt.ArrayLike, y: npt.ArrayLike, weights: npt.ArrayLike, classification: bool, log: Any = None
) -> F64:
    """TMVA's LD coefficients for one output.

    Parameters
    ----------
    X : array, shape (n_events, n_variables)
    y : array, shape (n_events,)
        Target values (regression) or 1/0 for signal/background (classification).
    weights : array, shape (n_events,)
    classification : bool
        Replace the offset by ``−½ Σ c_j m_j`` (TMVA's classification).
    log : logger, optional
        Receives the "almost singular" warning.

    Returns
    -------
    ndarray of float64, shape (n_variables + 1,)
        Offset first.

    Raises
    ------
    ModelError
        If ``X̃ᵀ W X̃`` is singular (``|det| < 1e-119``) or no event has a non-zero weight.
    """
    x = np.asarray(X, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    t = np.asarray(y, dtype=np.float64)
    xt = np.hstack([np.ones((len(x), 1)), x])
    S = (xt * w[:, None]).T @ xt
    V = (xt * w[:, None]).T @ t
    det = abs(float(np.linalg.det(S)))
    if det < 10e-120:
        raise ModelError(
            f"<GetCoeff> matrix is singular with determinant={det:g}: did you use variables that are "
            "linear combinations of others?"
        )
    if det < 10e-24 and log is not None:
        log.warning(
            "<GetCoeff> matrix is almost singular with determinant=%g did you use the variables that are "
            "linear combinations or highly correlated?",
            det,
        )
    coeff = np.linalg.solve(S, V)
    if classification:
        coeff[0] = -0.5 * float(coeff[1:] @ (S[0, 1:] / S[0, 0]))
    return np.asarray(coeff, dtype=np.float64)


def _float_accumulate(coeff: F64, X: F32) -> F32:
    """``c_0 + Σ c_j x_j`` added up in float32, one variable after the other (TMVA's ``Float_t``)."""
    out = np.full(len(X), np.float32(coeff[0]), dtype=np.float32)
    for j in range(X.shape[1]):
        out = (out.astype(np.float64) + coeff[j + 1] * X[:, j].astype(np.float64)).astype(np.float32)
    return out


@register_method
class MethodLD(MethodBase):
    """TMVA's linear discriminant (classification with 2 classes, regression with one target).

    Attributes
    ----------
    coefficients_ : ndarray of float64, shape (n_outputs, n_variables + 1) or None
        Offset first (training or weights file).
    """

    method_type = EMVA.kLD
    ranking_criterion: ClassVar[str] = "Discr. power"
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "Linear discriminants select events by distinguishing the mean \n"
        "values of the signal and background distributions in a trans- \n"
        "formed variable space where linear correlations are removed.\n"
        'The LD implementation here is equivalent to the "Fisher" discriminant\n'
        "for classification, but also provides linear regression.\n"
        "\n"
        '   (More precisely: the "linear discriminator" determines\n'
        "    an hyperplane in the variable space such that the event density\n"
        "    at the hyperplane is maximal for signal and background separated\n"
        "    by the hyperplane.)\n"
        "\n"
        "--- Performance optimisation:\n"
        "\n"
        "Optimal performance for the linear discriminant is obtained for \n"
        "linearly correlated Gaussian-distributed variables. Any deviation\n"
        "from this ideal reduces the achievable separation power. \n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "<None>"
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.coefficients_: F64 | None = None

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes or regression with one target (as TMVA's)."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type == EAnalysisType.kRegression and n_targets == 1

    @property
    def _regression(self) -> bool:
        return self.context.analysis_type == EAnalysisType.kRegression

    def _train(self, sample: Sample) -> None:
        w = np.asarray(sample.weights, dtype=np.float64)
        keep = w > 0 if self.options.IgnoreNegWeightsInTraining else np.ones(len(w), dtype=bool)
        X = sample.X[keep]
        if self._regression:
            targets = [sample.targets[keep, k] for k in range(self.context.n_targets)]
        else:
            targets = [(sample.class_id[keep] == self.context.signal_class).astype(np.float64)]
        self.coefficients_ = np.vstack(
            [ld_coefficients(X, t, w[keep], not self._regression, self.log) for t in targets]
        )
        self._print_coefficients()

    def _print_coefficients(self) -> None:
        assert self.coefficients_ is not None
        self.log.info("Results for LD coefficients:")
        spec = self.options.VarTransform.strip()
        if spec and spec.lower() not in ("none", "i", "ident", "identity"):
            self.log.info("NOTE: The coefficients must be applied to TRANFORMED variables")
            self.log.info("      List of the transformation: ")
            for token in spec.split(","):
                self.log.info("  -- %s", token.strip())
        names = [v.label for v in self.context.variables] + ["(offset)"]
        values = [*self.coefficients_[0, 1:].tolist(), float(self.coefficients_[0, 0])]
        for line in formatted_table(values, names, "Variable", "Coefficient"):
            self.log.info("%s", line)

    def _predict(self, X: F32) -> F32:
        self.check_trained()
        if self.coefficients_ is None:
            raise ModelError(f"method {self.method_name}: no LD coefficients (train or read a weights file)")
        Xa = np.asarray(X, dtype=np.float32)
        if self._regression:
            return np.stack([_float_accumulate(c, Xa) for c in self.coefficients_], axis=1)
        value = _float_accumulate(self.coefficients_[0], Xa)
        out = np.empty((len(value), self.context.n_classes), dtype=np.float32)
        out[:] = (-value)[:, None]
        out[:, self.context.signal_class] = value
        return out

    def mva_event_function(self) -> Callable[[list[float]], float] | None:
        """Per-event ``c_0 + Σ c_j x_j`` rounded to float32 after each term, as :meth:`_predict` (Reader)."""
        self.check_trained()
        if self.coefficients_ is None or self._regression:
            return None
        offset, *terms = self.coefficients_[0].tolist()
        f32 = np.float32

        def ld_event(x: list[float]) -> float:
            value = float(f32(offset))
            for v, c in zip(x, terms, strict=True):
                value = float(f32(value + c * v))
            return value

        return ld_event

    def add_weights_xml(self, parent: ET.Element) -> None:
        """``NOut``, ``NCoeff`` and one ``<Coefficient IndexOut IndexCoeff Value/>`` per coefficient."""
        if self.coefficients_ is None:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        parent.set("NOut", str(self.coefficients_.shape[0]))
        parent.set("NCoeff", str(self.coefficients_.shape[1]))
        for iout, row in enumerate(self.coefficients_):
            for icoeff, value in enumerate(row):
                ET.SubElement(
                    parent, "Coefficient", IndexOut=str(iout), IndexCoeff=str(icoeff), Value=f"{value:.16e}"
                )

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the coefficients back (TMVA ``ReadWeightsFromXML``)."""
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        try:
            n_out = int(weights.get("NOut", ""))
            n_coeff = int(weights.get("NCoeff", ""))
        except ValueError:
            raise ModelError(f"{where}: <Weights> needs integer NOut and NCoeff attributes") from None
        if n_coeff != self.context.n_variables + 1:
            raise ModelError(
                f"{where}: mismatch in number of output variables/coefficients: {n_coeff} != "
                f"{self.context.n_variables + 1}"
            )
        if n_out < 1:
            raise ModelError(f"{where}: NOut={n_out}, expected at least 1")
        coeff = np.zeros((n_out, n_coeff), dtype=np.float64)
        for child in weights.findall("Coefficient"):
            try:
                iout = int(child.get("IndexOut", ""))
                icoeff = int(child.get("IndexCoeff", ""))
                value = float(child.get("Value", ""))
            except ValueError:
                raise ModelError(f"{where}: a <Coefficient> has malformed attributes") from None
            if not (0 <= iout < n_out and 0 <= icoeff < n_coeff):
                raise ModelError(f"{where}: coefficient ({iout}, {icoeff}) out of range")
            coeff[iout, icoeff] = value
        self.coefficients_ = coeff
        super().read_weights_xml(weights)

    def ranking(self) -> list[tuple[str, float]] | None:
        """ "Discr. power" ``|c_j|`` per variable, best first."""
        if self.coefficients_ is None:
            return None
        labels = [v.label for v in self.context.variables]
        values = np.abs(self.coefficients_[0, 1:])
        return list(Ranking.from_values(labels, values, self.ranking_criterion).entries)
