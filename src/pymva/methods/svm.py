"""``SVM`` (``Types.kSVM``): TMVA's support vector machine (``MethodSVM.cxx``, ``SVWorkingSet.cxx``,
``SVEvent.cxx``, ``SVKernelFunction.cxx``), with scikit-learn's libsvm (``SVC``/``SVR``) solving the
dual problem.

Training (``MethodSVM::Train``): the events with a non-zero weight, each with its own cost

* classification: ``C_i = C_class · w_i`` with, from the numbers of signal and background training
  events ``N_S``, ``N_B`` (counted, not weighted), ``C_S = C, C_B = C·N_S/N_B`` if ``N_S < N_B`` and
  ``C_B = C, C_S = C·N_S/N_B`` otherwise (TMVA's rule, also when it raises ``C_S`` above ``C``);
* regression: ``C_i = C · w_i`` (``C`` defaults to 0.002 there, to 1 in classification);

and the kernel of ``Kernel`` (:mod:`pymva.methods.svkernelfunction`).  TMVA's SMO stops when the
largest KKT violation ``b_low − b_up`` drops below ``2·Tol``; libsvm's stopping criterion is the
same gap, so ``tol = 2·Tol``.  TMVA's ``MaxIter`` bounds passes over the events, each of at most one
optimisation step per event: libsvm gets ``max_iter = MaxIter · n_events`` steps.  Regression is
TMVA's ε-insensitive SVR with the tube ``ε = 0.001·Tol`` of ``SVWorkingSet::TakeStepReg``.

Response (``GetMvaValue``), with TMVA's type flags ``y_i = −1`` for signal and ``+1`` for background
support vectors and ``b = fBparm``: ``f(x) = Σ_i α_i y_i K(x_i, x) − b`` and the response
``1 / (1 + exp(f))`` — signal-like events above ½.  In scikit-learn's terms ``f = −d(x)`` with ``d``
the decision function of an ``SVC`` trained with signal as the positive class, so the response is
``sigmoid(d(x))`` and ``b`` is its ``intercept_``.  Regression (``GetRegressionValues``):
``Σ_i (α_i − α*_i) K(x_i, x) + b``, passed back through the inverse target transformation.  The
kernel values, ``α_i y_i`` and ``b`` are float32 (TMVA's ``Float_t``), the sum float64.

Weights file (``AddWeightsXMLTo``): ``<Weights fBparm fGamma fGammaList fTheta fOrder NSupVec>`` with
one ``<SupportVector Rows="1" Columns="nvar+4">`` per support vector holding its index among the
training events, type flag, ``α``, ``α*`` and variables, then ``<Maxima Var0…>`` and
``<Minima Var0…>`` (the training range of the transformed variables).  No ranking (as TMVA).
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, OptionError
from ..options import option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .registry import register_method
from .svkernelfunction import KERNELS, SVKernelFunction, make_kernel_list, parse_gamma_list

__all__ = ["MethodSVM", "SVMOptions", "SVMRegressionOptions", "svm_class_costs"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Kernel values computed at once when applying the method (events × support vectors).
_BLOCK = 1 << 22


def _positive(v: float) -> str | None:
    return None if v > 0 else "must be > 0"


def _non_negative(v: float) -> str | None:
    return None if v >= 0 else "must be >= 0"


def _at_least_one(v: int) -> str | None:
    return None if v >= 1 else "must be >= 1"


@dataclass(frozen=True)
class SVMOptions(BaseMethodOptions):
    """Options of SVM (TMVA ``MethodSVM::DeclareOptions``), classification defaults."""

    Kernel: str = option("RBF", "Pick which kernel ( RBF or MultiGauss )", allowed=KERNELS)
    Gamma: float = option(1.0, "RBF kernel parameter: Gamma (size of the Kernel)", check=_non_negative)
    Order: int = option(3, "Polynomial Kernel parameter: polynomial order", check=_non_negative)
    Theta: float = option(1.0, "Polynomial Kernel parameter: polynomial theta")
    GammaList: str = option("", "MultiGauss parameters")
    Tune: str = option("All", "Tune Parameters")
    KernelList: str = option("None", "Sum or product of kernels")
    Loss: str = option("hinge", "Loss function", allowed=("hinge", "exp", "binomial"))
    C: float = option(1.0, "Cost parameter", check=_positive)
    Tol: float = option(0.01, "Tolerance parameter", check=_positive)
    MaxIter: int = option(1000, "Maximum number of training loops", check=_at_least_one)


@dataclass(frozen=True)
class SVMRegressionOptions(SVMOptions):
    """SVM options with TMVA's regression default of ``C``."""

    C: float = option(0.002, "Cost parameter", check=_positive)


def svm_class_costs(cost: float, n_signal: int, n_background: int) -> tuple[float, float]:
    """``MethodSVM::Train``'s costs of signal and background events.

    Parameters
    ----------
    cost : float
        The ``C`` option.
    n_signal, n_background : int
        Numbers of signal and background training events (counted, not weighted).

    Returns
    -------
    (float, float)
        ``(C_S, C_B)``: ``(C, C·N_S/N_B)`` if ``N_S < N_B``, else ``(C·N_S/N_B, C)``.

    Raises
    ------
    ModelError
        If there is no background event (TMVA divides by ``N_B``).
    """
    if n_background <= 0:
        raise ModelError("method SVM: no background training events, the costs C·N_S/N_B are undefined")
    ratio = float(n_signal) / float(n_background)
    if n_signal < n_background:
        return float(cost), float(cost) * ratio
    return float(cost) * ratio, float(cost)


@register_method
class MethodSVM(MethodBase):
    """TMVA's support vector machine (classification with 2 classes, regression with one target).

    Attributes
    ----------
    support_vectors_ : ndarray of float32, shape (n_sv, n_variables) or None
        The support vectors (transformed variables).
    alpha_, alpha_p_ : ndarray of float32, shape (n_sv,) or None
        Their Lagrange multipliers ``α`` and (regression) ``α*``.
    type_flag_ : ndarray of int32, shape (n_sv,) or None
        TMVA's type flags: −1 signal, +1 background (−1 for every event in regression).
    ns_ : ndarray of int64, shape (n_sv,) or None
        Their indices among the training events with a non-zero weight.
    bparm_ : float
        TMVA's ``fBparm`` (float32 value).
    kernel_ : SVKernelFunction or None
        The kernel with its parameters.
    xmin_, xmax_ : ndarray of float64, shape (n_variables,) or None
        The training range of the transformed variables (``<Minima>``/``<Maxima>``).
    """

    method_type = EMVA.kSVM
    Options = SVMOptions
    compatibility_options: ClassVar[frozenset[str]] = frozenset({"nsubsets", "sigma", "kappa"})
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "The Support Vector Machine (SVM) builds a hyperplance separating\n"
        "signal and background events (vectors) using the minimal subset of \n"
        "all vectors used for training (support vectors). The extension to\n"
        "the non-linear case is performed by mapping input vectors into a \n"
        "higher-dimensional feature space in which linear separation is \n"
        "possible. The use of the kernel functions thereby eliminates the \n"
        "explicit transformation to the feature space. The implemented SVM \n"
        "algorithm performs the classification tasks using linear, polynomial, \n"
        "Gaussian and sigmoidal kernel functions. The Gaussian kernel allows \n"
        "to apply any discriminant shape in the input space.\n"
        "\n"
        "--- Performance optimisation:\n"
        "\n"
        "SVM is a general purpose non-linear classification method, which \n"
        "does not require data preprocessing like decorrelation or Principal \n"
        "Component Analysis. It generalises quite well and can handle analyses \n"
        "with large numbers of input variables.\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "Optimal performance requires primarily a proper choice of the kernel \n"
        'parameters (the width "Sigma" in case of Gaussian kernel) and the\n'
        'cost parameter "C". The user must optimise them empirically by running\n'
        "SVM several times with different parameter sets. The time needed for \n"
        "each evaluation scales like the square of the number of training \n"
        "events so that a coarse preliminary tuning should be performed on \n"
        "reduced data sets."
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        if self.options.IgnoreNegWeightsInTraining:
            raise OptionError(
                f"method SVM ('{title}'): the mechanism to ignore events with negative weights in training "
                'is not available for method SVM (as in TMVA); remove "IgnoreNegWeightsInTraining" from '
                "the booking string"
            )
        self.support_vectors_: F32 | None = None
        self.alpha_: F32 | None = None
        self.alpha_p_: F32 | None = None
        self.type_flag_: npt.NDArray[np.int32] | None = None
        self.ns_: npt.NDArray[np.int64] | None = None
        self.bparm_: float = 0.0
        self.kernel_: SVKernelFunction | None = None
        self.xmin_: F64 | None = None
        self.xmax_: F64 | None = None

    @classmethod
    def options_class(cls, context: MethodContext) -> type[BaseMethodOptions]:
        """TMVA's regression default ``C=0.002``: :class:`SVMRegressionOptions` then."""
        return SVMRegressionOptions if context.analysis_type == EAnalysisType.kRegression else SVMOptions

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes or regression with one target (as TMVA's)."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type == EAnalysisType.kRegression and n_targets == 1

    def _opts(self) -> SVMOptions:
        o = self.options
        assert isinstance(o, SVMOptions)
        return o

    @property
    def _regression(self) -> bool:
        return self.context.analysis_type == EAnalysisType.kRegression

    def setup(self) -> None:
        """Check the kernel options at booking (TMVA only finds a bad kernel when it trains, then exits)."""
        self._make_kernel(self._opts().GammaList, float(self._opts().Gamma))

    # ------------------------------------------------------------------ kernel
    def _make_kernel(
        self, gamma_list: str, gamma: float, order: int | None = None, theta: float | None = None
    ) -> SVKernelFunction:
        o = self._opts()
        nvar = self.context.n_variables
        kernels: tuple[str, ...] = ()
        if o.Kernel in ("Prod", "Sum"):
            kernels = make_kernel_list(o.KernelList, o.Kernel)
        uses_multigauss = o.Kernel == "MultiGauss" or "MultiGauss" in kernels
        gammas = parse_gamma_list(gamma_list)
        if uses_multigauss:
            if not gammas and o.Kernel == "MultiGauss":
                gammas = [1.0] * nvar
            if len(gammas) != nvar:
                raise OptionError(
                    f"option GammaList of method SVM ('{self.title}'): {len(gammas)} gammas for {nvar} input "
                    "variables; the MultiGauss kernel needs one per variable, e.g. GammaList="
                    + ",".join(["0.5"] * nvar)
                )
            if any(g < 0 for g in gammas):
                raise OptionError(
                    f"option GammaList of method SVM ('{self.title}'): every gamma must be >= 0"
                )
        return SVKernelFunction(
            kernel=o.Kernel,
            gamma=float(np.float32(gamma)),
            gammas=tuple(float(np.float32(g)) for g in gammas),
            order=int(o.Order if order is None else order),
            theta=float(np.float32(o.Theta if theta is None else theta)),
            kernels=kernels,
        )

    def _gamma_list_text(self) -> str:
        """``fGammaList`` as TMVA writes it: the option as given, or ``1,1,…`` for a MultiGauss default."""
        o = self._opts()
        if o.GammaList.strip():
            return o.GammaList
        if o.Kernel == "MultiGauss":
            return ",".join(["1"] * self.context.n_variables)
        return ""

    # ------------------------------------------------------------------ training
    def _train(self, sample: Sample) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.svm import SVC, SVR

        o = self._opts()
        kernel = self._make_kernel(o.GammaList, float(o.Gamma))
        w = np.asarray(sample.weights, dtype=np.float64)
        is_signal = np.asarray(sample.class_id) == self.context.signal_class
        if self._regression:
            cost = np.full(len(w), float(np.float32(o.C)))
        else:
            c_sig, c_bkg = svm_class_costs(float(o.C), int(is_signal.sum()), int((~is_signal).sum()))
            cost = np.where(is_signal, float(np.float32(c_sig)), float(np.float32(c_bkg)))
        negative = w < 0
        if negative.any():
            self.log.warning(
                "%d training events with negative weights: they are left out of the SVM training (a negative "
                "cost C_i = C w_i has no meaning; TMVA would use it)",
                int(negative.sum()),
            )
        keep = w > 0
        X = np.asarray(sample.X[keep], dtype=np.float32)
        ci = (cost[keep] * w[keep]).astype(np.float32).astype(np.float64)  # TMVA's Float_t fCweight
        if len(X) < 2:
            raise ModelError(f"method {self.method_name}: {len(X)} training events with a non-zero weight")
        xt = np.asarray(sample.X, dtype=np.float64)
        self.xmin_ = xt.min(axis=0)
        self.xmax_ = xt.max(axis=0)
        self.log.info("Building SVM Working Set...with %d event instances", len(X))
        self.log.info("Sorry, no computing time forecast available for SVM, please wait ...")
        common: dict[str, Any] = {
            "C": 1.0,
            "tol": 2.0 * float(np.float32(o.Tol)),
            "max_iter": int(o.MaxIter) * len(X),
            "cache_size": 500,
        }
        params = kernel.sklearn_kernel()
        if params is None:
            fit_x: F64 = kernel.evaluate(X, X).astype(np.float64)
            common["kernel"] = "precomputed"
        else:
            fit_x = kernel.sklearn_inputs(X)
            common.update(params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            if self._regression:
                target = np.asarray(sample.targets[keep, 0], dtype=np.float32).astype(np.float64)
                model: Any = SVR(epsilon=0.001 * float(np.float32(o.Tol)), **common)
                model.fit(fit_x, target, sample_weight=ci)
            else:
                y = is_signal[keep].astype(np.int64)
                if y.min() == y.max():
                    raise ModelError(f"method {self.method_name}: the training events are all of one class")
                model = SVC(**common)
                model.fit(fit_x, y, sample_weight=ci)
        if any(issubclass(c.category, ConvergenceWarning) for c in caught):
            self.log.warning(
                "Max number of iterations exceeded. Training may not be completed. Try use less Cost parameter"
            )
        idx = np.asarray(model.support_, dtype=np.int64)
        coef = np.asarray(model.dual_coef_, dtype=np.float64)[0]
        self.ns_ = idx
        self.support_vectors_ = X[idx]
        if self._regression:
            self.alpha_ = np.maximum(coef, 0.0).astype(np.float32)
            self.alpha_p_ = np.maximum(-coef, 0.0).astype(np.float32)
            self.type_flag_ = np.full(len(idx), -1, dtype=np.int32)
        else:
            sig = is_signal[keep][idx]
            # scikit-learn's dual coefficients are α·(+1 signal, −1 background)
            self.alpha_ = np.abs(coef).astype(np.float32)
            self.alpha_p_ = np.zeros(len(idx), dtype=np.float32)
            self.type_flag_ = np.where(sig, -1, 1).astype(np.int32)
        self.bparm_ = float(np.float32(model.intercept_[0]))
        self.kernel_ = kernel
        self.log.info("Number of support vectors: %d, b = %g", len(idx), self.bparm_)

    # ------------------------------------------------------------------ response
    def decision_values(self, X: npt.ArrayLike) -> F64:
        """TMVA's ``Σ_i c_i K(x_i, x)`` for transformed inputs, before the offset.

        ``c_i = α_i y_i`` (classification) or ``α_i − α*_i`` (regression), float32 products summed
        in float64.

        Parameters
        ----------
        X : array, shape (n_events, n_variables)
            Transformed input variables.

        Returns
        -------
        ndarray of float64, shape (n_events,)

        Raises
        ------
        ModelError
            If the method holds no support vectors.
        """
        if (
            self.support_vectors_ is None
            or self.alpha_ is None
            or self.alpha_p_ is None
            or self.type_flag_ is None
            or self.kernel_ is None
        ):
            raise ModelError(f"method {self.method_name}: no support vectors (train or read a weights file)")
        x = np.asarray(X, dtype=np.float32)
        if self._regression:
            coef = (self.alpha_ - self.alpha_p_).astype(np.float32)
        else:
            coef = (self.alpha_ * self.type_flag_.astype(np.float32)).astype(np.float32)
        n_sv = max(len(coef), 1)
        step = max(1, _BLOCK // n_sv)
        out = np.zeros(len(x), dtype=np.float64)
        for a in range(0, len(x), step):
            K = self.kernel_.evaluate(x[a : a + step], self.support_vectors_)
            out[a : a + step] = (K * coef[None, :]).sum(axis=1, dtype=np.float64)
        return out

    def _predict(self, X: F32) -> F32:
        self.check_trained()
        s = self.decision_values(X)
        if self._regression:
            return (s + self.bparm_).astype(np.float32)[:, None]
        f = s - self.bparm_
        with np.errstate(over="ignore"):
            value = 1.0 / (1.0 + np.exp(f))
        out = np.empty((len(value), self.context.n_classes), dtype=np.float32)
        out[:] = (1.0 - value)[:, None]
        out[:, self.context.signal_class] = value
        return out

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``fBparm fGamma fGammaList fTheta fOrder NSupVec``, the support vectors, ``Maxima``, ``Minima``."""
        if (
            self.support_vectors_ is None
            or self.alpha_ is None
            or self.alpha_p_ is None
            or self.type_flag_ is None
            or self.ns_ is None
            or self.kernel_ is None
            or self.xmin_ is None
            or self.xmax_ is None
        ):
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        parent.set("fBparm", f"{self.bparm_:.16e}")
        parent.set("fGamma", f"{self.kernel_.gamma:.16e}")
        parent.set("fGammaList", self._gamma_list_text())
        parent.set("fTheta", f"{self.kernel_.theta:.16e}")
        parent.set("fOrder", str(int(self.kernel_.order)))
        parent.set("NSupVec", str(len(self.alpha_)))
        nvar = self.support_vectors_.shape[1]
        rows = np.column_stack(
            [
                self.ns_.astype(np.float64),
                self.type_flag_.astype(np.float64),
                self.alpha_.astype(np.float64),
                self.alpha_p_.astype(np.float64),
                self.support_vectors_.astype(np.float64),
            ]
        )
        for row in rows:
            sv = ET.SubElement(parent, "SupportVector", Rows="1", Columns=str(nvar + 4))
            sv.text = "".join(f"{v:.15e} " for v in row.tolist())
        maxima = ET.SubElement(parent, "Maxima")
        minima = ET.SubElement(parent, "Minima")
        for j in range(nvar):
            maxima.set(f"Var{j}", f"{float(self.xmax_[j]):.16e}")
        for j in range(nvar):
            minima.set(f"Var{j}", f"{float(self.xmin_[j]):.16e}")

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the support vectors and kernel parameters back (TMVA ``ReadWeightsFromXML``)."""
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        o = self._opts()

        def number(name: str, default: float | None) -> float:
            text = weights.get(name)
            if text is None:
                if default is None:
                    raise ModelError(f"{where}: <Weights> has no attribute {name}")
                return default
            try:
                return float(text)
            except ValueError:
                raise ModelError(f"{where}: <Weights {name}='{text}'> is not a number") from None

        bparm = number("fBparm", None)
        gamma = number("fGamma", float(o.Gamma))
        theta = number("fTheta", float(o.Theta))
        order_value = number("fOrder", float(o.Order))
        n_sv = number("NSupVec", None)
        if not (n_sv >= 0 and n_sv == math.floor(n_sv)) or not order_value == math.floor(order_value):
            raise ModelError(f"{where}: NSupVec and fOrder must be non-negative integers")
        gamma_list = weights.get("fGammaList", o.GammaList)
        nvar = self.context.n_variables
        nodes = weights.findall("SupportVector")
        if len(nodes) != int(n_sv):
            raise ModelError(f"{where}: NSupVec={int(n_sv)} but {len(nodes)} <SupportVector> elements")
        for node in nodes:
            if node.get("Columns", str(nvar + 4)) != str(nvar + 4):
                raise ModelError(
                    f"{where}: a <SupportVector> has Columns={node.get('Columns')}, expected nvar+4 = {nvar + 4}"
                )
        try:
            values = np.array(" ".join(n.text or "" for n in nodes).split(), dtype=np.float64)
        except ValueError:
            raise ModelError(f"{where}: a <SupportVector> holds a value that is not a number") from None
        if values.size != len(nodes) * (nvar + 4):
            raise ModelError(f"{where}: every <SupportVector> must hold nvar+4 = {nvar + 4} numbers")
        rows = values.reshape(len(nodes), nvar + 4)
        ranges = []
        for tag in ("Maxima", "Minima"):
            el = weights.find(tag)
            if el is None:
                raise ModelError(f"{where}: no <{tag}> element")
            try:
                ranges.append(np.array([float(el.get(f"Var{j}", "")) for j in range(nvar)], dtype=np.float64))
            except ValueError:
                raise ModelError(f"{where}: <{tag}> needs a number in Var0 … Var{nvar - 1}") from None
        try:
            kernel = self._make_kernel(gamma_list, gamma, int(order_value), theta)
        except OptionError as exc:
            raise ModelError(f"{where}: {exc}") from None
        self.ns_ = rows[:, 0].astype(np.int64)
        self.type_flag_ = rows[:, 1].astype(np.int32)
        self.alpha_ = rows[:, 2].astype(np.float32)
        self.alpha_p_ = rows[:, 3].astype(np.float32)
        self.support_vectors_ = rows[:, 4:].astype(np.float32)
        self.bparm_ = float(np.float32(bparm))
        self.kernel_ = kernel
        self.xmax_, self.xmin_ = ranges
        super().read_weights_xml(weights)
