"""``MLP`` (``Types.kMLP``): TMVA's multilayer perceptron (``MethodMLP.cxx``, ``MethodANNBase.cxx``) on
torch.

* The network is TMVA's (:mod:`pymva.methods.annbase`): ``HiddenLayers`` (``N,N-1`` …), a bias neuron
  per layer, ``NeuronType``/``NeuronInputType``, initial weights ``4·Rndm() − 2`` of ``TRandom3(RandomSeed)``.
* Estimator (``MethodANNBase::ProcessOptions``): TMVA sets it from the analysis type whatever
  ``EstimatorType`` says: ``CE`` (cross entropy, sigmoid output neuron) for classification, ``MSE``
  (linear output neurons) for regression and multiclass.  The error of an event is
  ``w·½Σ(y − t)²`` (MSE; targets, or 1/0 per class) or ``−w·(d·ln y + (1 − d)·ln(1 − y))`` (CE, ``d`` = 1
  for signal); the response is the output neuron (classification), the outputs through the inverse
  target transformation (regression) or their softmax (multiclass, ``GetMulticlassValues``).
* ``TrainingMethod=BP`` (``BackPropagationMinimize``): ``NCycles`` epochs over the events in a shuffled
  order; ``BPMode=batch`` updates ``w −= η·mean(w_ev·∇E_ev)`` every ``BatchSize`` events (an incomplete
  last batch carries over into the next epoch, as TMVA's synapse counters do); ``BPMode=sequential``
  (TMVA: one update per event) updates with the *sum* over chunks of :data:`SEQUENTIAL_CHUNK` events —
  TMVA's per-event updates to first order in ``η``, vectorised.  After each epoch the learning rate
  ``η`` is multiplied by ``1 − DecayRate`` (``1 − √DecayRate`` in the last 5 % of the epochs).
* ``TrainingMethod=BFGS`` (``BFGSMinimize``): TMVA's own BFGS — the gradient of the summed error over
  the number of events, the inverse-Hessian update of ``GetHessian``, a steepest-descent restart every
  ``ResetStep`` epochs in the first half, and TMVA's line search (``Tau``, the parabola through three
  points, ``fLastAlpha``).  ``UseRegulator`` adds the Bayesian regulators (``UpdatePriors``,
  ``UpdateRegulators``: one per input neuron and one per hidden layer, re-estimated from the
  approximate inverse Hessian), and with ``UseRegulator`` or ``CalculateErrors`` the approximate
  inverse Hessian is written to the weights file (``<InverseHessian>``).
* ``TrainingMethod=GA`` is refused (:class:`~pymva.errors.OptionError`): TMVA itself calls it
  "slower and worse"; book BFGS instead.
* Every ``TestRate`` epochs the estimator (``CalculateEstimator``) is recorded in the training history
  (``trainingError``) and fed to TMVA's convergence test (``ConvergenceTests`` epochs-tests without an
  improvement above ``ConvergenceImprove``).  TMVA computes that test estimator on the *test* sample;
  methods in pymva only see the training sample, so pymva uses the training sample.
* ``Sampling``/``SamplingEpoch``: during the first ``SamplingEpoch·NCycles`` epochs a random fraction
  ``Sampling`` of the training events is used, redrawn every ``TestRate`` epochs
  (``SamplingImportance`` is read and not used).
* Weights file: TMVA's ``<Weights><Layout NLayers><Layer Index NNeurons><Neuron NSynapses>`` layout,
  read from ROOT-written files too.

Training and application are in float64 like TMVA's ``Double_t`` (the networks are small; float32
would change ROOT-written responses by ~1e-7).  Differences from TMVA: ``docs/methods-mlp.md``.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, OptionError
from ..options import option
from ..types import EMVA, EAnalysisType
from . import annbase
from .base import BaseMethodOptions, MethodBase, MethodContext
from .ranking import Ranking
from .registry import register_method

if TYPE_CHECKING:
    import torch

__all__ = ["SEQUENTIAL_CHUNK", "MLPOptions", "MethodMLP"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Events per update in ``BPMode=sequential`` (see the module docstring).
SEQUENTIAL_CHUNK = 16
#: TMVA 4.2.1's version code: older weights files use the exact tanh (``ReadWeightsFromXML``).
_FAST_TANH_SINCE = (4 << 16) + (2 << 8) + 1


@dataclass(frozen=True)
class MLPOptions(BaseMethodOptions):
    """Options of ``MethodMLP`` (``MethodANNBase::DeclareOptions`` then ``MethodMLP::DeclareOptions``)."""

    NCycles: int = option(500, "Number of training cycles")
    HiddenLayers: str = option("N,N-1", "Specification of hidden layer architecture")
    NeuronType: str = option("sigmoid", "Neuron activation function type", allowed=annbase.ACTIVATIONS)
    RandomSeed: int = option(
        1, "Random seed for initial synapse weights (0 means unique seed for each run; default value '1')"
    )
    EstimatorType: str = option(
        "MSE",
        "MSE (Mean Square Estimator) for Gaussian Likelihood or CE(Cross-Entropy) for Bernoulli Likelihood",
        allowed=("MSE", "CE"),
    )
    NeuronInputType: str = option("sum", "Neuron input function type", allowed=annbase.NEURON_INPUTS)
    TrainingMethod: str = option(
        "BP",
        "Train with Back-Propagation (BP), BFGS Algorithm (BFGS), or Genetic Algorithm (GA - slower and worse)",
        allowed=("BP", "GA", "BFGS"),
    )
    LearningRate: float = option(0.02, "ANN learning rate parameter")
    DecayRate: float = option(0.01, "Decay rate for learning parameter")
    TestRate: int = option(10, "Test for overtraining performed at each #th epochs")
    EpochMonitoring: bool = option(
        False,
        "Provide epoch-wise monitoring plots according to TestRate (caution: causes big ROOT output file!)",
    )
    Sampling: float = option(1.0, "Only 'Sampling' (randomly selected) events are trained each epoch")
    SamplingEpoch: float = option(
        1.0,
        "Sampling is used for the first 'SamplingEpoch' epochs, afterwards, all events are taken for training",
    )
    SamplingImportance: float = option(
        1.0,
        " The sampling weights of events in epochs which successful (worse estimator than before) are multiplied "
        "with SamplingImportance, else they are divided.",
    )
    SamplingTraining: bool = option(True, "The training sample is sampled")
    SamplingTesting: bool = option(False, "The testing sample is sampled")
    ResetStep: int = option(50, "How often BFGS should reset history")
    Tau: float = option(3.0, 'LineSearch "size step"')
    BPMode: str = option(
        "sequential", "Back-propagation learning mode: sequential or batch", allowed=("sequential", "batch")
    )
    BatchSize: int = option(
        -1, "Batch size: number of events/batch, only set if in Batch Mode, -1 for BatchSize=number_of_events"
    )
    ConvergenceImprove: float = option(
        1e-30,
        "Minimum improvement which counts as improvement (<0 means automatic convergence check is turned off)",
    )
    ConvergenceTests: int = option(
        -1,
        "Number of steps (without improvement) required for convergence (<0 means automatic convergence "
        "check is turned off)",
    )
    UseRegulator: bool = option(False, "Use regulator to avoid over-training")
    UpdateLimit: int = option(10000, "Maximum times of regulator update")
    CalculateErrors: bool = option(
        False,
        "Calculates inverse Hessian matrix at the end of the training to be able to calculate the uncertainties "
        "of an MVA value",
    )
    WeightRange: float = option(
        1.0,
        "Take the events for the estimator calculations from small deviations from the desired value to large "
        "deviations only over the weight range",
    )


class _Convergence:
    """TMVA's ``ConvergenceTest`` (``HasConverged`` without the convergence band)."""

    def __init__(self, steps: int, improvement: float) -> None:
        self.steps, self.improvement = steps, improvement
        self.counter, self.conv_value, self.current = -1, float(np.finfo(np.float32).max), 0.0

    def has_converged(self) -> bool:
        if self.steps < 0 or self.improvement < 0:
            return False
        if self.counter < 0:
            self.conv_value = self.current
        improvement = float(np.float32(self.conv_value - self.current))  # TMVA: a Float_t
        if improvement <= self.improvement:
            self.counter += 1
        else:
            self.counter, self.conv_value = 0, self.current
        return self.counter >= self.steps

    def reset(self) -> None:
        self.counter = -1


@register_method
class MethodMLP(MethodBase):
    """TMVA's MLP: classification (2 classes), multiclass and regression.

    Attributes
    ----------
    layout_ : list of int
        Neurons per layer without the bias neurons (set by :meth:`setup` or the weights file).
    weights_ : list of ndarray of float64 or None
        ``W[l]`` of shape ``(n_l + 1, n_{l+1})`` (last row: the bias neuron), see
        :mod:`pymva.methods.annbase`.
    inverse_hessian_ : ndarray of float64 or None
        TMVA's approximate inverse Hessian (``UseRegulator`` or ``CalculateErrors``).
    regulators_ : ndarray of float64 or None
        The Bayesian regulators after training with ``UseRegulator``.
    """

    method_type = EMVA.kMLP
    Options: ClassVar[type[BaseMethodOptions]] = MLPOptions
    ranking_criterion: ClassVar[str] = "Importance"
    help_text: ClassVar[str] = (
        "--- Short description:\n\n"
        "The MLP artificial neural network (ANN) is a traditional feed-forward multilayer perceptron. The MLP\n"
        "has a user-defined hidden layer architecture, while the number of input (output) nodes is determined\n"
        "by the input variables (output classes or targets).\n\n"
        "--- Performance tuning via configuration options:\n\n"
        'The hidden layer architecture is defined by the option "HiddenLayers=N+1,N,...", where the first\n'
        "hidden layer has N+1 neurons and the second N neurons (and so on), and where N is the number of input\n"
        "variables. The number of cycles should be above 500."
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.layout_: list[int] = []
        self.weights_: list[F64] | None = None
        self.inverse_hessian_: F64 | None = None
        self.regulators_: F64 | None = None
        self._fast_tanh = True
        self._ranking: list[tuple[str, float]] | None = None

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes, multiclass and regression (``MethodMLP::HasAnalysisType``)."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type in (EAnalysisType.kMulticlass, EAnalysisType.kRegression)

    # ------------------------------------------------------------------ options
    @property
    def estimator(self) -> str:
        """``"CE"`` for classification, ``"MSE"`` otherwise (TMVA's ``ProcessOptions`` overrides the option)."""
        return "CE" if self.context.analysis_type == EAnalysisType.kClassification else "MSE"

    @property
    def output_type(self) -> str:
        """Activation of the output neurons: ``sigmoid`` with CE, ``linear`` with MSE."""
        return "sigmoid" if self.estimator == "CE" else "linear"

    def _n_out(self) -> int:
        at = self.context.analysis_type
        if at == EAnalysisType.kRegression:
            return self.context.n_targets
        if at == EAnalysisType.kMulticlass:
            return self.context.n_classes
        return 1

    def setup(self) -> None:
        """Check the options and lay out the network (``MethodMLP::ProcessOptions``).

        Raises
        ------
        OptionError
            For ``TrainingMethod=GA``, a ``HiddenLayers`` layer without neurons, ``NCycles < 1`` or
            ``TestRate < 1``.
        """
        opts: Any = self.options
        if opts.TrainingMethod == "GA":
            raise OptionError(
                f"method MLP ('{self.title}'): TrainingMethod=GA (genetic algorithm) is not available in pymva "
                "(TMVA calls it slower and worse); use TrainingMethod=BFGS or TrainingMethod=BP"
            )
        if opts.NCycles < 1:
            raise OptionError(f"method MLP ('{self.title}'): NCycles={opts.NCycles}, expected at least 1")
        if opts.TestRate < 1:
            raise OptionError(f"method MLP ('{self.title}'): TestRate={opts.TestRate}, expected at least 1")
        if opts.EstimatorType != self.estimator and self.context.caller_set("EstimatorType"):
            self.log.info(
                "EstimatorType=%s is replaced by %s for this analysis type (as TMVA's MethodANNBase does)",
                opts.EstimatorType,
                self.estimator,
            )
        if opts.IgnoreNegWeightsInTraining:
            self.log.info("Will ignore negative events in training!")
        self.layout_ = annbase.parse_hidden_layers(opts.HiddenLayers, self.context.n_variables, self._n_out())

    # ------------------------------------------------------------------ training
    def _targets(self, sample: Sample) -> F64:
        at = self.context.analysis_type
        if at == EAnalysisType.kRegression:
            return np.asarray(sample.targets, dtype=np.float64)
        if at == EAnalysisType.kMulticlass:
            return np.asarray(
                np.eye(self.context.n_classes, dtype=np.float64)[sample.class_id], dtype=np.float64
            )
        return np.asarray(sample.class_id == self.context.signal_class, dtype=np.float64)[:, None]

    def _train(self, sample: Sample) -> None:
        import torch

        opts: Any = self.options
        if not self.layout_:
            self.setup()
        w = np.asarray(sample.weights, dtype=np.float64)
        keep = w > 0 if opts.IgnoreNegWeightsInTraining else np.ones(len(w), dtype=bool)
        X = torch.from_numpy(np.asarray(sample.X, dtype=np.float64)[keep])
        T = torch.from_numpy(self._targets(sample)[keep])
        W = torch.from_numpy(w[keep])
        if len(X) == 0:
            raise ModelError(f"method {self.method_name}: no training events with positive weight")
        seed = int(opts.RandomSeed)
        weights = annbase.initial_weights(self.layout_, seed)
        n_syn = sum(m.size for m in weights)
        if n_syn > len(X):
            self.log.warning("ANN too complicated: #events=%d\t#synapses=%d", len(X), n_syn)
        self.log.info("Building Network: layers %s (bias neurons not counted)", self.layout_)
        trainer = _Trainer(self, X, T, W, weights, seed)
        if opts.TrainingMethod == "BFGS":
            trainer.bfgs()
        else:
            trainer.back_propagation()
        if opts.UseRegulator:
            trainer.sample_all()
            trainer.update_regulators()
            self.regulators_ = trainer.regulators.copy()
        self.inverse_hessian_ = (
            trainer.approx_inverse_hessian(regulate=False)
            if (opts.CalculateErrors or opts.UseRegulator)
            else None
        )
        self.weights_ = trainer.weights_numpy()
        self._fast_tanh = True
        self._ranking = self._compute_ranking(sample)

    def _compute_ranking(self, sample: Sample) -> list[tuple[str, float]]:
        """TMVA ``MethodANNBase::CreateRanking``: Σ_k w_ik² · avg_i² with avg_i the larger of the mean of
        |mean_S|, |mean_B| and of rms_S, rms_B of variable i (transformed training events)."""
        assert self.weights_ is not None
        sig = sample.class_id == self.context.signal_class
        X = np.asarray(sample.X, dtype=np.float64)
        wts = np.asarray(sample.weights, dtype=np.float64)

        def stats(m: npt.NDArray[np.bool_]) -> tuple[F64, F64]:
            if not m.any() or wts[m].sum() == 0:
                return np.zeros(X.shape[1]), np.zeros(X.shape[1])
            mean = np.average(X[m], axis=0, weights=wts[m])
            rms = np.sqrt(np.maximum(np.average((X[m] - mean) ** 2, axis=0, weights=wts[m]), 0.0))
            return mean, rms

        (ms, rs), (mb, rb) = stats(sig), stats(~sig)
        avg = np.maximum((np.abs(ms) + np.abs(mb)) / 2, (np.abs(rs) + np.abs(rb)) / 2)
        importance = (self.weights_[0][: X.shape[1]] ** 2).sum(axis=1) * avg**2
        labels = [v.label for v in self.context.variables]
        return list(Ranking.from_values(labels, importance, self.ranking_criterion).entries)

    def ranking(self) -> list[tuple[str, float]] | None:
        """TMVA's "Importance" ranking (after training; ``None`` for a method read from a file)."""
        return self._ranking

    # ------------------------------------------------------------------ application
    def _outputs(self, X: npt.ArrayLike) -> F64:
        self.check_trained()
        if self.weights_ is None:
            raise ModelError(f"method {self.method_name}: no network (train or read a weights file)")
        opts: Any = self.options
        return annbase.forward(
            X,
            self.weights_,
            opts.NeuronType,
            self.output_type,
            opts.NeuronInputType,
            fast_tanh=self._fast_tanh,
        )

    def _predict(self, X: F32) -> F32:
        out = self._outputs(X)
        at = self.context.analysis_type
        if at == EAnalysisType.kClassification:
            res = np.empty((len(out), self.context.n_classes), dtype=np.float32)
            res[:] = (1.0 - out).astype(np.float32)
            res[:, self.context.signal_class] = out[:, 0].astype(np.float32)
            return res
        if at == EAnalysisType.kMulticlass:  # GetMulticlassValues: 1 / (1 + Σ_j≠i exp(o_j − o_i))
            e = np.exp(out - out.max(axis=1, keepdims=True))
            return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)
        return out.astype(np.float32)

    def mva_event_function(self) -> Callable[[list[float]], float] | None:
        """The signal output for one event, from the same float64 forward pass (Reader)."""
        if self.context.analysis_type != EAnalysisType.kClassification:
            return None

        def mlp_event(x: list[float]) -> float:
            return float(np.float32(self._outputs(np.asarray([x], dtype=np.float64))[0, 0]))

        return mlp_event

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """TMVA's ``<Layout>`` and, when computed, ``<InverseHessian NElements NRows NCols><Row Index>``."""
        if self.weights_ is None:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        annbase.write_layout_xml(parent, self.weights_)
        H = self.inverse_hessian_
        if H is not None:
            el = ET.SubElement(
                parent, "InverseHessian", NElements=str(H.size), NRows=str(H.shape[0]), NCols=str(H.shape[1])
            )
            for i, row in enumerate(H):
                ET.SubElement(el, "Row", Index=str(i)).text = "".join(f"{v:.16e} " for v in row)

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the network back (``MethodANNBase::ReadWeightsFromXML``), ROOT-written files included.

        Raises
        ------
        ModelError
            When ``<Weights>`` is missing, its layout is malformed, or the layer sizes do not match the
            variables and outputs of the file.
        """
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        mats = annbase.read_layout_xml(weights, where)
        n_var, n_out = self.context.n_variables, self._n_out()
        if mats[0].shape[0] != n_var + 1 or mats[-1].shape[1] != n_out:
            raise ModelError(
                f"{where}: the network has {mats[0].shape[0] - 1} inputs and {mats[-1].shape[1]} outputs, the "
                f"file describes {n_var} variables and {n_out} outputs"
            )
        self.weights_ = mats
        self.layout_ = [m.shape[0] - 1 for m in mats] + [n_out]
        release = self.general_info_.get("TMVA Release", "")
        m = re.search(r"\[(\d+)\]", release)
        self._fast_tanh = not (m is not None and int(m.group(1)) < _FAST_TANH_SINCE)
        self.inverse_hessian_ = _read_inverse_hessian(weights.find("InverseHessian"), where)
        super().read_weights_xml(weights)


def _read_inverse_hessian(el: ET.Element | None, where: str) -> F64 | None:
    if el is None:
        return None
    try:
        n_rows, n_cols = int(el.get("NRows", "")), int(el.get("NCols", ""))
    except ValueError:
        raise ModelError(f"{where}: <InverseHessian> needs integer NRows and NCols") from None
    rows = el.findall("Row")
    if not 0 < n_rows <= 100_000 or n_rows != n_cols or len(rows) != n_rows:
        raise ModelError(f"{where}: <InverseHessian> has {len(rows)} rows for NRows={n_rows}, NCols={n_cols}")
    try:
        H = np.array([np.array((r.text or "").split(), dtype=np.float64) for r in rows], dtype=np.float64)
    except ValueError:
        raise ModelError(f"{where}: <InverseHessian> rows must hold {n_cols} numbers each") from None
    if H.shape != (n_rows, n_cols):
        raise ModelError(f"{where}: <InverseHessian> rows must hold {n_cols} numbers each")
    return H


class _Trainer:
    """The training state of one MLP: flat float64 weights, the events, TMVA's minimisers."""

    def __init__(self, method: MethodMLP, X: torch.Tensor, T: torch.Tensor, W: torch.Tensor,
                 weights: list[F64], seed: int) -> None:  # fmt: skip
        import torch

        self.m = method
        opts: Any = method.options
        self.opts: Any = opts
        self.X_all, self.T_all, self.W_all = X, T, W
        self.X, self.T, self.W = X, T, W
        self.shapes = [w.shape for w in weights]
        self.theta = torch.from_numpy(np.concatenate([w.ravel() for w in weights]))
        self.groups = annbase.regulator_groups(method.layout_)
        self.regulators = np.zeros(int(self.groups.max()) + 1, dtype=np.float64)
        self.rng = np.random.default_rng(seed if seed else None)
        self.conv = _Convergence(int(opts.ConvergenceTests), float(opts.ConvergenceImprove))
        self.history: list[tuple[int, float]] = []
        method.training_history = {"trainingError": self.history}

    # ---------------------------------------------------------------- network
    def unflatten(self, theta: torch.Tensor) -> list[torch.Tensor]:
        out, pos = [], 0
        for a, b in self.shapes:
            out.append(theta[pos : pos + a * b].view(a, b))
            pos += a * b
        return out

    def weights_numpy(self) -> list[F64]:
        return [w.detach().numpy().copy() for w in self.unflatten(self.theta)]

    def logits(self, theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        return annbase.torch_forward(
            X, self.unflatten(theta), self.opts.NeuronType, self.opts.NeuronInputType
        )

    def event_errors(self, z: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
        """Per-event error (``GetMSEErr``/``GetCEErr``), from the output neurons' inputs ``z``."""
        import torch

        if self.m.estimator == "CE":
            return torch.nn.functional.binary_cross_entropy_with_logits(z, T, reduction="none").sum(dim=1)
        return 0.5 * ((z - T) ** 2).sum(dim=1)

    def prior(self, theta: torch.Tensor) -> torch.Tensor:
        """``fPrior`` = Σ ½·α_g·w² (``UpdatePriors``)."""
        import torch

        alpha = torch.from_numpy(self.regulators[self.groups])
        return 0.5 * (alpha * theta * theta).sum()

    def error(self, theta: torch.Tensor) -> float:
        """TMVA ``GetError``: Σ w_ev·E_ev (+ the prior with ``UseRegulator``)."""
        import torch

        with torch.no_grad():
            e = (self.event_errors(self.logits(theta, self.X), self.T) * self.W).sum()
            if self.opts.UseRegulator:
                e = e + self.prior(theta)
        return float(e)

    def gradient(self, theta: torch.Tensor) -> torch.Tensor:
        """TMVA ``ComputeDEDw``: (∇Σ w_ev·E_ev + α·w) / n_events."""
        import torch

        t = theta.detach().clone().requires_grad_(True)
        e = (self.event_errors(self.logits(t, self.X), self.T) * self.W).sum()
        if self.opts.UseRegulator:
            e = e + self.prior(t)
        (g,) = torch.autograd.grad(e, t)
        return g / len(self.X)

    def estimator(self) -> float:
        """TMVA ``CalculateEstimator`` on the (current) training events: weighted mean deviation."""
        import torch

        with torch.no_grad():
            z = self.logits(self.theta, self.X)
            if self.m.estimator == "CE":
                y = torch.sigmoid(z)[:, 0]
                d = self.T[:, 0]
                dev = -2 * (d * torch.log(y) + (1 - d) * torch.log(1 - y))
            elif self.m.context.analysis_type == EAnalysisType.kMulticlass:
                dev = (self.T[:, -1] - z[:, -1]) ** 2  # TMVA keeps the last class's term only
            else:
                dev = ((z - self.T) ** 2).sum(dim=1)
            return float((dev * self.W).sum() / self.W.sum())

    # ---------------------------------------------------------------- sampling and monitoring
    def sample_all(self) -> None:
        self.X, self.T, self.W = self.X_all, self.T_all, self.W_all

    def maybe_sample(self, i: int, n_epochs: int) -> None:
        """TMVA's ``InitSampling``/``CreateSampling`` at the start of epoch ``i``."""
        if i / n_epochs < self.opts.SamplingEpoch:
            if ((i + 1) % self.opts.TestRate == 0 or i == 0) and self.opts.SamplingTraining:
                n = len(self.X_all)
                k = max(1, round(float(self.opts.Sampling) * n))
                if k < n:
                    idx = np.sort(self.rng.choice(n, size=k, replace=False))
                    self.X, self.T, self.W = self.X_all[idx], self.T_all[idx], self.W_all[idx]
                else:
                    self.sample_all()
        else:
            self.sample_all()

    def monitor(self, i: int, n_epochs: int) -> tuple[bool, int]:
        """Every ``TestRate`` epochs: record the estimator and run the convergence test.

        Returns (stop, next epoch index).
        """
        if (i + 1) % self.opts.TestRate != 0:
            return False, i
        value = self.estimator()
        self.history.append((i + 1, value))
        self.conv.current = value
        if self.conv.has_converged():
            if i / n_epochs < self.opts.SamplingEpoch:
                self.conv.reset()
                return False, int(self.opts.SamplingEpoch * n_epochs)
            return True, i
        return False, i

    # ---------------------------------------------------------------- back-propagation
    def back_propagation(self) -> None:
        """TMVA ``BackPropagationMinimize`` (see the module docstring for ``BPMode``)."""
        import torch

        opts = self.opts
        n_epochs = int(opts.NCycles)
        late_epoch = int(n_epochs * 0.95) - 1
        lr = float(opts.LearningRate)
        carry = torch.zeros_like(self.theta)
        carry_n = 0
        i = 0
        while i < n_epochs:
            self.maybe_sample(i, n_epochs)
            n = len(self.X)
            order = torch.from_numpy(self.rng.permutation(n))
            if opts.BPMode == "batch":
                bs = n if (opts.BatchSize < 1 or opts.BatchSize > n) else int(opts.BatchSize)
                for lo in range(0, n, bs):
                    idx = order[lo : lo + bs]
                    g = self._summed_gradient(idx)
                    carry += g
                    carry_n += len(idx)
                    if carry_n >= bs:
                        self.theta = self.theta - lr * carry / carry_n
                        carry.zero_()
                        carry_n = 0
            else:
                for lo in range(0, n, SEQUENTIAL_CHUNK):
                    self.theta = self.theta - lr * self._summed_gradient(order[lo : lo + SEQUENTIAL_CHUNK])
            lr *= 1.0 - (math.sqrt(opts.DecayRate) if i >= late_epoch else opts.DecayRate)
            if not bool(torch.isfinite(self.theta).all()):
                raise ModelError(
                    f"method {self.m.method_name}: the network weights diverged in epoch {i + 1}; lower "
                    f"LearningRate (now {opts.LearningRate}) or use VarTransform=N"
                )
            stop, i_next = self.monitor(i, n_epochs)
            if stop:
                if late_epoch > i:
                    late_epoch = i
                else:
                    break
            i = i_next + 1

    def _summed_gradient(self, idx: torch.Tensor) -> torch.Tensor:
        """∇ Σ_{events idx} w_ev·E_ev at the current weights."""
        import torch

        t = self.theta.detach().clone().requires_grad_(True)
        e = (self.event_errors(self.logits(t, self.X[idx]), self.T[idx]) * self.W[idx]).sum()
        (g,) = torch.autograd.grad(e, t)
        return g

    # ---------------------------------------------------------------- BFGS
    def bfgs(self) -> None:
        """TMVA ``BFGSMinimize`` with its line search and, with ``UseRegulator``, the regulator updates."""
        import torch

        opts = self.opts
        n_epochs = int(opts.NCycles)
        P = len(self.theta)
        H = np.eye(P)
        dedw = np.zeros(P)
        buffer = np.zeros(P)
        self.last_alpha = 0.0
        reg_cd = reg_times = 0
        accu = 0.0
        i = 0
        while i < n_epochs:
            self.maybe_sample(i, n_epochs)
            if opts.UseRegulator:
                reg_cd += 1
            new = self.gradient(self.theta).numpy()
            gamma, delta, dedw = new - dedw, buffer.copy(), new
            if i % opts.ResetStep == 0 and i < 0.5 * n_epochs:
                direction, H, reg_cd = -dedw, np.eye(P), 0
            else:
                gd = float(gamma @ delta)
                if gd == 0.0:
                    direction, H, reg_cd = -dedw, np.eye(P), 0
                else:  # GetHessian: the BFGS update of the inverse Hessian
                    Hg = H @ gamma
                    a = 1.0 / gd
                    f = 1.0 + float(gamma @ Hg) * a
                    H = H + a * (
                        f * np.outer(delta, delta) - np.outer(delta, gamma @ H) - np.outer(Hg, delta)
                    )
                    direction = -(H @ dedw)
            if float(direction @ dedw) > 0:
                direction, H, reg_cd = -dedw, np.eye(P), 0
            ok, d_error, buffer = self.line_search(direction)
            if not ok:
                H, direction, reg_cd = np.eye(P), -dedw, 0
                ok, d_error, buffer = self.line_search(direction)
                if not ok:
                    raise ModelError(
                        f"method {self.m.method_name}: Line search failed! Huge troubles somewhere..."
                    )
            accu += d_error
            if (opts.UseRegulator and reg_times < opts.UpdateLimit and reg_cd >= 5
                    and abs(d_error) < 0.1 * accu):  # fmt: skip
                self.update_regulators()
                H, reg_cd, accu = np.eye(P), 0, 0.0
                reg_times += 1
            if not bool(torch.isfinite(self.theta).all()):
                raise ModelError(
                    f"method {self.m.method_name}: the network weights diverged in epoch {i + 1}"
                )
            stop, i_next = self.monitor(i, n_epochs)
            if stop:
                break
            i = i_next + 1

    def line_search(self, direction: F64) -> tuple[bool, float, F64]:
        """TMVA ``LineSearch``: returns (success, relative error decrease, weight change)."""
        import torch

        tau = float(self.opts.Tau)
        origin = self.theta.clone()
        d = torch.from_numpy(direction)

        def at(alpha: float) -> float:
            self.theta = origin + d * alpha
            return self.error(self.theta)

        err1 = err_origin = at(0.0)
        alpha1, alpha2 = 0.0, min(max(self.last_alpha, 0.01), 2.0)
        alpha_original = alpha3 = alpha2
        err2 = at(alpha2)
        err3 = err2
        bingo = False
        if err1 > err2:
            for _ in range(100):
                alpha3 *= tau
                err3 = at(alpha3)
                if err3 > err2:
                    bingo = True
                    break
                alpha1, err1, alpha2, err2 = alpha2, err2, alpha3, err3
            if not bingo:
                self.theta = origin
                return False, 0.0, np.zeros(len(direction))
        else:
            for k in range(100):
                alpha2 /= tau
                if k == 50:
                    self.m.log.warning(
                        "linesearch, starting to investigate direction opposite of steepestDIR"
                    )
                    alpha2 = -alpha_original
                err2 = at(alpha2)
                if err1 > err2:
                    bingo = True
                    break
                alpha3, err3 = alpha2, err2
            if not bingo:
                self.theta = origin
                self.m.log.warning("linesearch, failed even in opposite direction of steepestDIR")
                self.last_alpha = 0.05
                return False, 0.0, np.zeros(len(direction))
        if alpha1 > 0 and alpha2 > 0 and alpha3 > 0:
            denom = (err3 - err2) / (alpha3 - alpha2) - (err2 - err1) / (alpha2 - alpha1)
            self.last_alpha = 0.5 * (alpha1 + alpha3 - (err3 - err1) / denom) if denom != 0 else alpha2
        else:
            self.last_alpha = alpha2
        self.last_alpha = min(self.last_alpha, 10000.0)
        final = at(self.last_alpha)
        if final > err1:
            self.m.log.warning(
                "Line search increased error! Something is wrong.fLastAlpha=%g al123=%g %g %g err1=%g errfinal=%g",
                self.last_alpha, alpha1, alpha2, alpha3, err1, final,
            )  # fmt: skip
        d_error = (err_origin - final) / final if final != 0 else 0.0
        return True, d_error, (self.theta - origin).numpy()

    # ---------------------------------------------------------------- Bayesian regulators
    def approx_inverse_hessian(self, regulate: bool) -> F64:
        """TMVA ``GetApproxInvHessian``: (Σ_ev c_ev·s sᵀ + diag)⁻¹ with s = ∂z_out/∂w, over all events.

        ``c_ev`` is 1 (MSE) or y(1 − y) (CE); the diagonal holds the regulators (``regulate``) or 1e-6.
        TMVA uses the first output neuron and no event weights.
        """
        import torch

        def z0(theta: torch.Tensor) -> torch.Tensor:
            return self.logits(theta, self.X)[:, 0]

        J = torch.autograd.functional.jacobian(z0, self.theta.detach(), vectorize=True).numpy()  # type: ignore[no-untyped-call]
        if self.m.estimator == "CE":
            with torch.no_grad():
                y = torch.sigmoid(z0(self.theta)).numpy()
            J = J * np.sqrt(y * (1 - y))[:, None]
        A = J.T @ J
        A[np.diag_indices_from(A)] += self.regulators[self.groups] if regulate else 1e-6
        try:
            return np.asarray(np.linalg.inv(A), dtype=np.float64)
        except np.linalg.LinAlgError:
            raise ModelError(f"method {self.m.method_name}: the approximate Hessian is singular") from None

    def update_regulators(self) -> None:
        """TMVA ``UpdateRegulators``: α_g = σ²·n_g / (Σ_g w² + σ²·tr_g(H⁻¹)), clipped at 0."""
        inv = self.approx_inverse_hessian(regulate=True)
        diag = np.diag(inv)
        theta = self.theta.numpy()
        n_reg = len(self.regulators)
        n_wdp = np.bincount(self.groups, minlength=n_reg).astype(np.float64)
        trace = np.bincount(self.groups, weights=diag, minlength=n_reg)
        weight_sum = np.bincount(self.groups, weights=theta * theta, minlength=n_reg)
        gamma = float(np.float32(np.sum(1.0 - self.regulators[self.groups] * diag)))
        variance = 1.0
        if self.m.estimator == "MSE":
            n = len(self.X)
            variance = self.estimator() / (1 - gamma / n) if n > gamma else self.estimator()
        self.regulators = np.maximum(variance * n_wdp / (weight_sum + variance * trace), 0.0)
