"""``Fisher`` (``Types.kFisher``): TMVA's Fisher and Mahalanobis linear discriminants, in closed form.

As TMVA's ``MethodFisher`` computes them, with event weights ``w`` and the signal class ``S``
against the other class ``B`` (two classes only):

* class means ``m_S``, ``m_B`` (weighted) and the overall mean ``m`` (weighted over both);
  ``W_S``, ``W_B`` the classes' sums of weights;
* within-class matrix ``W_xy = Σ_S w (x−m_S)_x (x−m_S)_y / W_S + Σ_B w (x−m_B)_x (x−m_B)_y / W_B``
  (the sum of the two class covariance matrices);
* between-class matrix ``B_xy = (W_S (m_S−m)_x (m_S−m)_y + W_B (m_B−m)_x (m_B−m)_y) / (W_S + W_B)``;
  full matrix ``C = W + B``;
* coefficients ``F = sqrt(W_S W_B) / (W_S + W_B) · M⁻¹ (m_S − m_B)`` with ``M = W`` (``Method=Fisher``)
  or ``M = C`` (``Method=Mahalanobis``), and offset ``F0 = −F·(m_S + m_B) / 2``;
* response ``F0 + F·x`` (no fixed range, signal-like events large);
* ranking "Discr. power": ``B_ii / C_ii`` (0 where ``C_ii`` is 0).

A matrix with ``|det| < 1e-23`` gives TMVA's warning "matrix is almost singular"; ``|det| < 1e-119``
is an error.  The weights file holds ``<Weights NCoeff="nvar+1">`` with ``<Coefficient Index="0"
Value="F0"/>`` and ``Index=i+1`` for ``F_i``, values written with 17 significant digits so that they
read back exactly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError
from ..options import option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .ranking import Ranking, formatted_table
from .registry import register_method

__all__ = ["FisherOptions", "MethodFisher", "fisher_coefficients"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FisherOptions(BaseMethodOptions):
    """Options of Fisher."""

    Method: str = option("Fisher", "Discrimination method", allowed=("Fisher", "Mahalanobis"))


@dataclass(frozen=True)
class FisherResult:
    """What the closed-form training computes.

    Attributes
    ----------
    coefficients : ndarray of float64, shape (n_variables,)
    offset : float
        ``F0``.
    within, between : ndarray of float64, shape (n_variables, n_variables)
        ``W`` and ``B``.
    discrimination_power : ndarray of float64, shape (n_variables,)
        ``B_ii / (W + B)_ii``.
    """

    coefficients: F64
    offset: float
    within: F64
    between: F64
    discrimination_power: F64


def fisher_coefficients(
    X: npt.ArrayLike,
    is_signal: npt.ArrayLike,
    weights: npt.ArrayLike,
    method: str = "Fisher",
    log: Any = None,
) -> FisherResult:
    """Compute TMVA's Fisher (or Mahalanobis) discriminant on weighted events.

    Parameters
    ----------
    X : array, shape (n_events, n_variables)
    is_signal : array of bool, shape (n_events,)
    weights : array, shape (n_events,)
    method : {'Fisher', 'Mahalanobis'}
    log : logger, optional
        Receives TMVA's "almost singular" warning.

    Returns
    -------
    FisherResult

    Raises
    ------
    ModelError
        If a class has no (positive) sum of weights, or the matrix is singular.
    """
    x = np.asarray(X, dtype=np.float64)
    sig = np.asarray(is_signal, dtype=bool)
    w = np.asarray(weights, dtype=np.float64)
    ws, wb = float(w[sig].sum()), float(w[~sig].sum())
    if not (ws > 0 and wb > 0):
        raise ModelError(
            f"Fisher needs a positive sum of weights in both classes (signal {ws:g}, background {wb:g})"
        )
    mean_s = w[sig] @ x[sig] / ws
    mean_b = w[~sig] @ x[~sig] / wb
    mean = (w[sig] @ x[sig] + w[~sig] @ x[~sig]) / (ws + wb)
    ds = x[sig] - mean_s
    db = x[~sig] - mean_b
    within = (ds * w[sig, None]).T @ ds / ws + (db * w[~sig, None]).T @ db / wb
    between = (ws * np.outer(mean_s - mean, mean_s - mean) + wb * np.outer(mean_b - mean, mean_b - mean)) / (
        ws + wb
    )
    full = within + between
    matrix = within if method == "Fisher" else full
    det = abs(float(np.linalg.det(matrix)))
    if det < 10e-120:
        raise ModelError(
            f"<GetFisherCoeff> matrix is singular with determinant={det:g}: did you use variables that are "
            "linear combinations of others?"
        )
    if det < 10e-24 and log is not None:
        log.warning(
            "<GetFisherCoeff> matrix is almost singular with determinant=%g did you use the variables that "
            "are linear combinations or highly correlated?",
            det,
        )
    xfact = np.sqrt(ws * wb) / (ws + wb)
    coeff = xfact * (np.linalg.inv(matrix) @ (mean_s - mean_b))
    offset = -float(coeff @ (mean_s + mean_b)) / 2.0
    diag = np.diag(full)
    with np.errstate(divide="ignore", invalid="ignore"):
        power = np.where(diag != 0, np.diag(between) / np.where(diag != 0, diag, 1.0), 0.0)
    return FisherResult(
        coefficients=np.asarray(coeff, dtype=np.float64),
        offset=offset,
        within=within,
        between=between,
        discrimination_power=np.asarray(power, dtype=np.float64),
    )


@register_method
class MethodFisher(MethodBase):
    """TMVA's Fisher discriminant (``Method=Fisher``) and its Mahalanobis variant.

    Attributes
    ----------
    coefficients_ : ndarray of float64 or None
        Fisher coefficients ``F_i`` (set by training or read from the weights file).
    offset_ : float or None
        ``F0``.
    discrimination_power_ : ndarray of float64 or None
        Per-variable ``B_ii / C_ii`` (training only; not in the weights file, as in TMVA).
    """

    method_type = EMVA.kFisher
    Options = FisherOptions
    ranking_criterion: ClassVar[str] = "Discr. power"
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "Fisher discriminants select events by distinguishing the mean \n"
        "values of the signal and background distributions in a trans- \n"
        "formed variable space where linear correlations are removed.\n"
        "\n"
        "--- Performance optimisation:\n"
        "\n"
        "Optimal performance for Fisher discriminants is obtained for \n"
        "linearly correlated Gaussian-distributed variables. Any deviation\n"
        "from this ideal reduces the achievable separation power. Fisher \n"
        "discriminants often benefit from suitable transformations of the \n"
        "input variables.\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "<None>"
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.coefficients_: F64 | None = None
        self.offset_: float | None = None
        self.discrimination_power_: F64 | None = None
        self.result_: FisherResult | None = None

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Fisher can only handle classification with 2 classes (as TMVA's)."""
        return analysis_type == EAnalysisType.kClassification and n_classes == 2

    def _train(self, sample: Sample) -> None:
        opts = self.options
        assert isinstance(opts, FisherOptions)
        result = fisher_coefficients(
            sample.X, sample.class_id == self.context.signal_class, sample.weights, opts.Method, self.log
        )
        self.result_ = result
        self.coefficients_ = result.coefficients
        self.offset_ = result.offset
        self.discrimination_power_ = result.discrimination_power
        self._print_coefficients()

    def _print_coefficients(self) -> None:
        assert self.coefficients_ is not None
        assert self.offset_ is not None
        self.log.info("Results for Fisher coefficients:")
        spec = self.options.VarTransform.strip()
        if spec and spec.lower() not in ("none", "i", "ident", "identity"):
            self.log.info("NOTE: The coefficients must be applied to TRANFORMED variables")
            self.log.info("  List of the transformation: ")
            for token in spec.split(","):
                self.log.info("  -- %s", token.strip())
        names = [v.label for v in self.context.variables] + ["(offset)"]
        values = [*self.coefficients_.tolist(), self.offset_]
        for line in formatted_table(values, names, "Variable", "Coefficient"):
            self.log.info("%s", line)

    def _predict(self, X: F32) -> F32:
        self.check_trained()
        if self.coefficients_ is None or self.offset_ is None:
            raise ModelError(
                f"method {self.method_name}: no Fisher coefficients (train or read a weights file)"
            )
        # F0 + Σ_j c_j x_j, summed over the variables in order: the per-event form below gives the
        # same values bit for bit (a BLAS product may round differently for one row and for many)
        X64 = np.asarray(X, dtype=np.float64)
        value = np.full(len(X64), float(self.offset_))
        for j, c in enumerate(self.coefficients_.tolist()):
            value += X64[:, j] * c
        out = np.empty((len(value), self.context.n_classes), dtype=np.float32)
        # the discriminant in the signal column, its negative in the other one
        out[:] = (-value)[:, None]
        out[:, self.context.signal_class] = value
        return out

    def mva_event_function(self) -> Callable[[list[float]], float] | None:
        """Per-event ``F0 + Σ_j c_j x_j`` (float64, rounded to float32), as :meth:`_predict`."""
        self.check_trained()
        if self.coefficients_ is None or self.offset_ is None:
            return None
        offset = float(self.offset_)
        terms = self.coefficients_.tolist()
        f32 = np.float32

        def fisher_event(x: list[float]) -> float:
            value = offset
            for v, c in zip(x, terms, strict=True):
                value += v * c
            return float(f32(value))

        return fisher_event

    def add_weights_xml(self, parent: ET.Element) -> None:
        """``NCoeff`` and one ``<Coefficient Index Value/>`` per coefficient, offset first."""
        if self.coefficients_ is None or self.offset_ is None:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        parent.set("NCoeff", str(len(self.coefficients_) + 1))
        values = [self.offset_, *self.coefficients_.tolist()]
        for index, value in enumerate(values):
            ET.SubElement(parent, "Coefficient", Index=str(index), Value=f"{value:.16e}")

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read ``F0`` and the coefficients back (TMVA ``MethodFisher::ReadWeightsFromXML``).

        Raises
        ------
        ModelError
            When ``<Weights>`` is missing, ``NCoeff`` is not the number of variables + 1, a
            ``<Coefficient>`` has an ``Index`` or ``Value`` that is not a number, a coefficient is
            NaN or infinite, an index repeats or lies outside ``[0, NCoeff)``, or one is missing.
        """
        what = f"method {self.method_name}"
        expected = (
            f'expected <Weights NCoeff="{self.context.n_variables + 1}"> with one <Coefficient Index="i" '
            'Value="…"/> per index, the offset at Index 0'
        )
        if weights is None:
            raise ModelError(f"{what}: the weights file has no <Weights> element; {expected}")
        text = weights.get("NCoeff", "")
        try:
            n_coeff = int(text)
        except ValueError:
            raise ModelError(f'{what}: <Weights NCoeff="{text}"> is not an integer; {expected}') from None
        if n_coeff != self.context.n_variables + 1:
            raise ModelError(
                f"{what}: the weights file has {n_coeff - 1} coefficients for "
                f"{self.context.n_variables} variables; {expected}"
            )
        values: dict[int, float] = {}
        for child in weights.findall("Coefficient"):
            raw_index, raw_value = child.get("Index", ""), child.get("Value", "")
            try:
                index = int(raw_index)
            except ValueError:
                raise ModelError(
                    f'{what}: <Coefficient Index="{raw_index}"> is not an integer; {expected}'
                ) from None
            try:
                value = float(raw_value)
            except ValueError:
                raise ModelError(
                    f'{what}: <Coefficient Index="{index}" Value="{raw_value}"> is not a number; {expected}'
                ) from None
            if not np.isfinite(value):
                raise ModelError(
                    f'{what}: <Coefficient Index="{index}" Value="{raw_value}"> is not a finite number: the '
                    "weights file is broken (a Fisher training with a singular covariance matrix?)"
                )
            if not 0 <= index < n_coeff:
                raise ModelError(f"{what}: coefficient index {index} out of range [0, {n_coeff}); {expected}")
            if index in values:
                raise ModelError(f"{what}: coefficient index {index} appears twice; {expected}")
            values[index] = value
        missing = [i for i in range(n_coeff) if i not in values]
        if missing:
            raise ModelError(
                f"{what}: the weights file has no coefficient for the indices {missing}; {expected}"
            )
        self.offset_ = values[0]
        self.coefficients_ = np.array([values[i] for i in range(1, n_coeff)], dtype=np.float64)
        super().read_weights_xml(weights)

    def ranking(self) -> list[tuple[str, float]] | None:
        """ "Discr. power" per variable, best first (only after training, as in TMVA)."""
        if self.discrimination_power_ is None:
            return None
        labels = [v.label for v in self.context.variables]
        return list(Ranking.from_values(labels, self.discrimination_power_, self.ranking_criterion).entries)
