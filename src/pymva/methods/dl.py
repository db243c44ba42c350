"""``MethodDL``: TMVA's deep-learning method (``Types.kDL``: dense, convolutional and recurrent
networks) trained with PyTorch.  Mirrors ``tmva/tmva/src/MethodDL.cxx``.

* Options (``DeclareOptions``): ``InputLayout``, ``BatchLayout``, ``Layout``, ``ErrorStrategy``,
  ``WeightInitialization``, ``RandomSeed``, ``ValidationSize``, ``Architecture``, ``TrainingStrategy``;
  their grammar is :mod:`pymva.methods.dl_layout`, the network :mod:`pymva.methods.dl_network`.
* Loss and output (``ProcessOptions``): classification — cross entropy on the sigmoid of the outputs
  (or sum of squares on the raw outputs) and the sigmoid as response; multiclass — the same, or
  ``MUTUALEXCLUSIVE`` (softmax cross entropy), and the softmax as response; regression — sum of squares
  and the raw outputs.  Each event's loss is multiplied by its weight and the sum divided by the
  number of values (TMVA ``TCpu::CrossEntropy``, ``MeanSquaredError``; ``SoftmaxCrossEntropy`` divides by
  the number of events).
* Training (``TrainDeepNet``): the last ``ValidationSize`` training events are the validation set;
  each phase of ``TrainingStrategy`` builds a fresh optimizer, starts from the best weights so far,
  shuffles the training events each epoch (``RandomSeed`` + phase) and runs the
  ``nTrain // BatchSize`` full batches; every ``TestRepetitions`` epochs it computes the validation
  error (plus the regularisation term), keeps the weights when it is below the minimum so far and
  otherwise adds ``TestRepetitions`` to the convergence count; the phase ends when that count exceeds
  ``ConvergenceSteps`` or after ``MaxEpochs`` epochs.  The trained method is the best network.
* Weights file (``AddWeightsXMLTo``/``ReadWeightsFromXML``): the network in TMVA's ``<Weights>`` layout
  (read from ROOT-written files too); when the weights file is written, also a TorchScript file
  ``<weightdir>/<job>_<title>.torchscript.pt`` beside it.

Differences from TMVA are listed in ``docs/methods-dl.md``.
"""

from __future__ import annotations

import copy
import math
import os
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
from .base import BaseMethodOptions, MethodBase, MethodContext
from .dl_layout import TrainingSettings, batch_layout, input_layout, parse_layout, parse_training_strategy
from .registry import register_method

if TYPE_CHECKING:
    import torch

    from .dl_network import DeepNet

__all__ = ["DLOptions", "MethodDL", "select_device"]

F32 = npt.NDArray[np.float32]

_DEFAULT_STRATEGY = (
    "LearningRate=1e-1,Momentum=0.3,Repetitions=3,ConvergenceSteps=50,BatchSize=30,TestRepetitions=7,"
    "WeightDecay=0.0,Regularization=None,DropConfig=0.0,DropRepetitions=5|LearningRate=1e-4,"
    "Momentum=0.3,Repetitions=3,ConvergenceSteps=50,MaxEpochs=2000,BatchSize=20,TestRepetitions=7,"
    "WeightDecay=0.001,Regularization=L2,DropConfig=0.0+0.5+0.5,DropRepetitions=5,Multithreading=True"
)

# TMVA's enum characters (TMVA/DNN/Functions.h) for the <Weights> attributes
_LOSS_CHAR = {"CROSSENTROPY": "C", "SUMOFSQUARES": "R", "MUTUALEXCLUSIVE": "S"}
_INIT_CHAR = {"XAVIER": "X", "XAVIERUNIFORM": "F", "GAUSS": "G", "UNIFORM": "U", "IDENTITY": "I", "ZERO": "Z"}
_REG_CHAR = {"NONE": "0", "L1": "1", "L2": "2"}


@dataclass(frozen=True)
class DLOptions(BaseMethodOptions):
    """Options of ``MethodDL`` in TMVA's declaration order (``MethodDL::DeclareOptions``)."""

    InputLayout: str = option("0|0|0", "The Layout of the input")
    BatchLayout: str = option("0|0|0", "The Layout of the batch")
    Layout: str = option("DENSE|(N+100)*2|SOFTSIGN,DENSE|0|LINEAR", "Layout of the network.")
    ErrorStrategy: str = option(
        "CROSSENTROPY",
        "Loss function: Mean squared error (regression) or cross entropy (binary classification).",
        allowed=("CROSSENTROPY", "SUMOFSQUARES", "MUTUALEXCLUSIVE"),
    )
    WeightInitialization: str = option(
        "XAVIER",
        "Weight initialization strategy",
        allowed=("XAVIER", "XAVIERUNIFORM", "GAUSS", "UNIFORM", "IDENTITY", "ZERO"),
    )
    RandomSeed: int = option(0, "Random seed used for weight initialization and batch shuffling")
    ValidationSize: str = option(
        "20%",
        "Part of the training data to use for validation. Specify as 0.2 or 20% to use a fifth of the "
        "data set as validation set. Specify as 100 to use exactly 100 events. (Default: 20%)",
    )
    Architecture: str = option(
        "CPU",
        "Which architecture to perform the training on.",
        allowed=("STANDARD", "CPU", "GPU", "OPENCL", "CUDNN"),
    )
    TrainingStrategy: str = option(_DEFAULT_STRATEGY, "Defines the training strategies.")


def select_device(architecture: str, log: Any) -> torch.device:
    """The torch device for ``Architecture`` (TMVA ``ProcessOptions``' fall-backs).

    ``GPU`` and ``CUDNN`` use CUDA when ``torch.cuda.is_available()``, otherwise log a warning and use
    the CPU (TMVA falls back to its CPU architecture the same way); ``CPU`` uses the CPU; ``STANDARD``
    (deprecated in TMVA) and ``OPENCL`` (not implemented in TMVA) use the CPU with a message.

    Parameters
    ----------
    architecture : str
        The ``Architecture`` option (any case).
    log : logging.Logger or adapter
        Where the messages go (the method's logger).

    Returns
    -------
    torch.device
        ``cuda`` or ``cpu``.
    """
    import torch

    arch = architecture.upper()
    if arch in ("GPU", "CUDNN"):
        if torch.cuda.is_available():
            log.info("Will now use the GPU architecture ! (CUDA device %s)", torch.cuda.get_device_name(0))
            return torch.device("cuda")
        log.warning(
            "Architecture=%s: CUDA is not available to torch (torch.cuda.is_available() is False), so the "
            "network is trained on the CPU instead. Will now use the CPU architecture !",
            architecture,
        )
    elif arch == "OPENCL":
        log.warning("The OPENCL architecture has not been implemented; using the CPU architecture")
    elif arch == "STANDARD":
        log.info("The STANDARD architecture has been deprecated; using the CPU architecture")
    return torch.device("cpu")


@register_method
class MethodDL(MethodBase):
    """TMVA's ``MethodDL`` (``Types.kDL``): a network described by option strings, trained in torch.

    Parameters
    ----------
    title : str
        The method title (``"DNN_CPU"``).
    context : MethodContext
    options : str
        TMVA option string, e.g. ``"Layout=DENSE|64|TANH,DENSE|1|LINEAR:TrainingStrategy=..."``.
    **kwargs
        Options as keyword arguments.

    Attributes
    ----------
    net_ : DeepNet or None
        The trained network (set by training or read from the weights file), on the CPU.
    phases_ : list of TrainingSettings
        The parsed ``TrainingStrategy`` (set by :meth:`setup`).
    """

    method_type: ClassVar[EMVA] = EMVA.kDL
    Options: ClassVar[type[BaseMethodOptions]] = DLOptions
    options: DLOptions
    help_text: ClassVar[str] = (
        "MethodDL: deep neural networks (dense, convolutional, recurrent) defined by the options\n"
        "InputLayout, Layout and TrainingStrategy, trained with PyTorch on the CPU or a CUDA GPU.\n"
        "See pymva's docs/methods-dl.md for the grammar and every option."
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.net_: DeepNet | None = None
        self.phases_: list[TrainingSettings] = []
        self.output_function_ = self._output_function()
        self.batch_layout_: tuple[int, int, int] = (0, 0, 0)
        self.input_shape_: tuple[int, int, int] = (1, 1, context.n_variables)
        self._set_up = False

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Two-class classification, multiclass and regression (TMVA ``MethodDL::HasAnalysisType``)."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type in (EAnalysisType.kMulticlass, EAnalysisType.kRegression)

    # ------------------------------------------------------------------ options
    def _output_function(self) -> str:
        at = self.context.analysis_type
        if at == EAnalysisType.kRegression:
            return "I"
        if at == EAnalysisType.kMulticlass:
            return "M"
        return "S"

    def _loss_name(self) -> str:
        strategy = self.options.ErrorStrategy
        at = self.context.analysis_type
        if at == EAnalysisType.kRegression:
            return "SUMOFSQUARES"
        if at == EAnalysisType.kClassification and strategy == "MUTUALEXCLUSIVE":
            return "CROSSENTROPY"
        return strategy

    def setup(self) -> None:
        """Check the options as TMVA's ``ProcessOptions`` does: layouts, strategy, network shape.

        Raises
        ------
        OptionError
            A malformed ``InputLayout``, ``BatchLayout``, ``Layout`` or ``TrainingStrategy``, or a network
            that does not fit the input or the number of outputs.
        """
        opts = self.options
        if opts.IgnoreNegWeightsInTraining:
            self.log.info("Will ignore negative events in training!")
        if self.context.analysis_type == EAnalysisType.kRegression and opts.ErrorStrategy != "SUMOFSQUARES":
            self.log.warning(
                "For regression only SUMOFSQUARES is a valid  neural net error function. Setting error "
                "function to  SUMOFSQUARES now."
            )
        if (
            self.context.analysis_type == EAnalysisType.kClassification
            and opts.ErrorStrategy == "MUTUALEXCLUSIVE"
        ):
            self.log.warning(
                "ErrorStrategy=MUTUALEXCLUSIVE (softmax cross entropy) is for multiclass; for two classes "
                "TMVA keeps its default, cross entropy, and so does pymva"
            )
        n_var = self.context.n_variables
        self.phases_ = parse_training_strategy(opts.TrainingStrategy)
        shape = input_layout(opts.InputLayout, n_var)
        if int(np.prod(shape)) != n_var:
            raise OptionError(
                f"InputLayout={opts.InputLayout} holds {int(np.prod(shape))} values per event but there are "
                f"{n_var} input variables (depth x height x width must equal the number of variables)"
            )
        self.input_shape_ = shape
        self.batch_layout_ = batch_layout(opts.BatchLayout, shape, self.phases_[0].batch_size)
        self._build()  # checks the layout against the input shape and the outputs
        self._set_up = True

    def _n_outputs(self) -> int:
        """TMVA's output width for a layer of width 0: 1 for two classes, classes or targets otherwise."""
        at = self.context.analysis_type
        if at == EAnalysisType.kRegression:
            return max(1, self.context.n_targets)
        if at == EAnalysisType.kMulticlass:
            return self.context.n_classes
        return 1

    def _build(self) -> DeepNet:
        from .dl_network import build_deep_net

        specs = parse_layout(self.options.Layout, self.context.n_variables)
        n_out = self._n_outputs()
        try:
            return build_deep_net(specs, self.input_shape_, n_out)
        except OptionError as first:
            if self.context.analysis_type != EAnalysisType.kClassification:
                raise
            # two classes: a last layer with one column per class (one-hot targets) is accepted too
            try:
                return build_deep_net(specs, self.input_shape_, self.context.n_classes)
            except OptionError:
                raise first from None

    # ------------------------------------------------------------------ training
    def _targets(self, sample: Sample, n_columns: int) -> F32:
        ctx = self.context
        n = len(sample)
        if ctx.analysis_type == EAnalysisType.kRegression:
            return np.require(sample.targets, np.float32, ["C"]).reshape(n, ctx.n_targets)
        class_id = np.asarray(sample.class_id, dtype=np.intp)
        if n_columns == 1:
            flag: F32 = (class_id == ctx.signal_class).astype(np.float32).reshape(n, 1)
            return flag
        y = np.zeros((n, n_columns), np.float32)
        y[np.arange(n), class_id] = 1.0
        return y

    def _loss_function(self) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
        """TMVA's weighted loss: ``sum_i w_i l_i / (n values)`` (softmax cross entropy: ``/ n events``)."""
        import torch
        from torch.nn import functional as F

        name = self._loss_name()

        if name == "CROSSENTROPY":

            def loss(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
                per = F.binary_cross_entropy_with_logits(out, y, reduction="none")
                return (per * w[:, None]).sum() / per.numel()

        elif name == "SUMOFSQUARES":

            def loss(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
                per = (out - y) ** 2
                return (per * w[:, None]).sum() / per.numel()

        else:

            def loss(out: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
                per = -(y * torch.log_softmax(out, dim=1)).sum(dim=1)
                return (per * w).sum() / per.numel()

        return loss

    @staticmethod
    def _regularization(net: DeepNet, settings: TrainingSettings) -> torch.Tensor | None:
        """``WeightDecay * sum |W|`` (L1) or ``WeightDecay * sum W²`` (L2) over the weight matrices."""
        if settings.regularization == "NONE" or settings.weight_decay == 0:
            return None
        mats = net.weight_matrices()
        if settings.regularization == "L1":
            total = sum(m.abs().sum() for m in mats)
        else:
            total = sum((m * m).sum() for m in mats)
        return settings.weight_decay * total  # type: ignore[return-value]

    def _optimizer(self, net: DeepNet, s: TrainingSettings) -> torch.optim.Optimizer:
        """The phase's optimizer with TMVA's parameters (``TSGD``, ``TAdam``, ``TAdagrad``, ...)."""
        import torch

        p = net.parameters()
        lr = s.learning_rate
        if s.optimizer == "SGD":
            return torch.optim.SGD(p, lr=lr, momentum=s.momentum)
        if s.optimizer == "ADAM":
            betas = (s.optimizer_param("ADAM_beta1"), s.optimizer_param("ADAM_beta2"))
            return torch.optim.Adam(p, lr=lr, betas=betas, eps=s.optimizer_param("ADAM_eps"))
        if s.optimizer == "ADAGRAD":
            return torch.optim.Adagrad(p, lr=lr, eps=s.optimizer_param("ADAGRAD_eps"))
        if s.optimizer == "RMSPROP":
            return torch.optim.RMSprop(
                p, lr=lr, alpha=s.optimizer_param("RMSPROP_rho"), eps=s.optimizer_param("RMSPROP_eps"),
                momentum=s.momentum,
            )  # fmt: skip
        return torch.optim.Adadelta(
            p, lr=lr, rho=s.optimizer_param("ADADELTA_rho"), eps=s.optimizer_param("ADADELTA_eps")
        )

    def _train(self, sample: Sample) -> None:
        import torch

        from ..logger import stderr_is_terminal
        from .dl_network import initialize
        from .pytorch import validation_size

        opts = self.options
        if not self._set_up:
            self.setup()
        device = select_device(opts.Architecture, self.log)
        n_all = len(sample)
        n_val = validation_size(opts.ValidationSize, n_all, method=f"DL ('{self.title}')")
        n_train = n_all - n_val
        self.log.info("Using %d events for training and %d for testing", n_train, n_val)

        seed = int(opts.RandomSeed) if opts.RandomSeed else int.from_bytes(os.urandom(4), "little")
        net = self._build()
        initialize(net, opts.WeightInitialization, seed)
        net.to(device)
        n_cols = net.output_width
        X = torch.from_numpy(np.require(sample.X, np.float32, ["C"])).to(device)
        Y = torch.from_numpy(self._targets(sample, n_cols)).to(device)
        W = torch.from_numpy(np.require(sample.weights, np.float32, ["C"])).to(device)
        Xt, Yt, Wt = X[:n_train], Y[:n_train], W[:n_train]
        Xv, Yv, Wv = X[n_train:], Y[n_train:], W[n_train:]
        loss_fn = self._loss_function()
        self.log.info("*****   Deep Learning Network *****")
        for line in net.describe():
            self.log.info("%s", line)

        best_state = copy.deepcopy(net.state_dict())
        history: dict[str, list[tuple[int, float]]] = {"trainingError": [], "valError": []}
        epochs_before = 0
        bar_wanted = self.context.draw_progress_bar and stderr_is_terminal()
        for phase, s in enumerate(self.phases_, 1):
            bs = s.batch_size
            if n_train < bs or n_val < bs:
                raise ModelError(
                    f"Number of samples in the datasets are train: ({n_train}) test: ({n_val}). One of these "
                    f"is smaller than the batch size of {bs} (TrainingStrategy phase {phase}). Please "
                    "decrease BatchSize or give more events (or change ValidationSize)."
                )
            if phase > 1:
                net.load_state_dict(best_state)
            net.set_dropout(s.dropout)
            optimizer = self._optimizer(net, s)

            def reg_term(s: TrainingSettings = s) -> float:
                r = self._regularization(net, s)
                return float(r) if r is not None else 0.0

            def mean_loss(Xs: torch.Tensor, Ys: torch.Tensor, Ws: torch.Tensor, bs: int = bs) -> float:
                """The mean loss of the full batches (TMVA: sum of batch losses / number of batches)."""
                n_full = (len(Xs) // bs) * bs
                net.eval()
                total = 0.0
                chunk = max(bs, (65536 // bs) * bs)
                with torch.no_grad():
                    for lo in range(0, n_full, chunk):
                        hi = min(lo + chunk, n_full)
                        total += float(loss_fn(net(Xs[lo:hi]), Ys[lo:hi], Ws[lo:hi])) * (hi - lo)
                return total / n_full

            min_val = mean_loss(Xv, Yv, Wv) + reg_term()
            self.log.info(
                "Training phase %d of %d:  Optimizer %s Learning rate = %g regularization %s minimum error = %g",
                phase, len(self.phases_), s.optimizer, s.learning_rate, s.regularization, min_val,
            )  # fmt: skip
            gen = torch.Generator(device="cpu").manual_seed(seed + phase)
            n_batches = n_train // bs
            bar = None
            if bar_wanted:
                from tqdm import tqdm

                bar = tqdm(total=s.max_epochs, desc=f"{self.title} phase {phase}", unit="epoch", leave=False)
            convergence = 0
            step = 0
            converged = False
            while not converged:
                step += 1
                net.train()
                perm = torch.randperm(n_train, generator=gen)[: n_batches * bs].to(device)
                xe, ye, we = Xt[perm], Yt[perm], Wt[perm]
                for b in range(n_batches):
                    lo, hi = b * bs, (b + 1) * bs
                    loss = loss_fn(net(xe[lo:hi]), ye[lo:hi], we[lo:hi])
                    reg = self._regularization(net, s)
                    if reg is not None:
                        loss = loss + reg
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()  # type: ignore[no-untyped-call]
                    optimizer.step()
                if step % s.test_interval == 0:
                    reg_value = reg_term()
                    val = mean_loss(Xv, Yv, Wv) + reg_value
                    if not math.isfinite(val):
                        raise ModelError(
                            f"method {self.method_name}: the validation error became {val} in epoch {step} "
                            f"of phase {phase}; lower the LearningRate or check the inputs"
                        )
                    if val < min_val:
                        convergence = 0
                        best_state = copy.deepcopy(net.state_dict())
                        min_val = val
                        self.log.debug("%10d Minimum Test error found - save the configuration", step)
                    else:
                        convergence += s.test_interval
                    train_err = mean_loss(Xt, Yt, Wt) + reg_value
                    history["trainingError"].append((epochs_before + step, train_err))
                    history["valError"].append((epochs_before + step, val))
                    converged = convergence > s.convergence_steps or step >= s.max_epochs
                    if bar is not None:
                        bar.set_postfix(train=f"{train_err:.4g}", val=f"{val:.4g}", conv=convergence)
                    else:
                        self.log.info(
                            "Epoch %6d | Train Err. %12.6g  Val. Err. %12.6g  Conv. Steps %4d",
                            step, train_err, val, convergence,
                        )  # fmt: skip
                if bar is not None:
                    bar.update(1)
            if bar is not None:
                bar.close()
            epochs_before += step
        net.load_state_dict(best_state)
        net.set_dropout(())
        net.eval()
        self.net_ = net.to("cpu")
        self.training_history = history

    @property
    def torchscript_path(self) -> str:
        """``<weightdir>/<job>_<title>.torchscript.pt``: the trained network as TorchScript."""
        return str(self.context.weight_dir / f"{self.context.job_name}_{self.title}.torchscript.pt")

    def _save_torchscript(self) -> None:
        from .torchscript import save_scripted

        assert self.net_ is not None
        save_scripted(self.net_, self.torchscript_path)
        self.log.info("Trained network also written as TorchScript to %s", self.torchscript_path)

    # ------------------------------------------------------------------ application
    def _predict(self, X: F32) -> F32:
        import torch

        self.check_trained()
        net = self.net_
        if net is None:
            raise ModelError(f"method {self.method_name}: the network has not been trained and is not built")
        n = len(X)
        chunk = 65536
        net.eval()
        with torch.no_grad():
            outs = [
                net(torch.from_numpy(np.ascontiguousarray(X[lo : lo + chunk], np.float32)))
                for lo in range(0, n, chunk)
            ]
        raw = torch.cat(outs) if outs else torch.zeros(0, net.output_width)
        ctx = self.context
        if self.output_function_ == "M":
            out = torch.softmax(raw, dim=1).numpy()
        elif self.output_function_ == "S":
            prob = torch.sigmoid(raw).numpy()
            col = 0 if prob.shape[1] == 1 else ctx.signal_class
            if ctx.analysis_type == EAnalysisType.kClassification:
                out = np.empty((n, 2), np.float32)
                out[:, ctx.signal_class] = prob[:, col]
                out[:, 1 - ctx.signal_class] = 1.0 - prob[:, col]
            else:
                out = prob
        else:
            out = raw.numpy()
        out = np.asarray(out, np.float32)
        # TMVA: a NaN response is -999
        return np.where(np.isnan(out), np.float32(-999.0), out).astype(np.float32)

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """The network in TMVA's ``MethodDL::AddWeightsXMLTo`` layout.

        With ``ModelPersistence`` (the context's ``model_persistence``) the network is also written,
        atomically, as TorchScript to :attr:`torchscript_path` beside the weights file.

        Raises
        ------
        ModelError
            The method is not trained, or the TorchScript file cannot be written.
        """
        from .dl_network import write_layers_xml

        net = self.net_
        if net is None:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        if self.context.model_persistence:
            self._save_torchscript()
        d, h, w = self.input_shape_
        bd, bh, bw = self.batch_layout_
        first = self.phases_[0] if self.phases_ else TrainingSettings()
        parent.attrib.update(
            {
                "NetDepth": str(len(net.layers)),
                "InputDepth": str(d),
                "InputHeight": str(h),
                "InputWidth": str(w),
                "BatchSize": "1",
                "BatchDepth": str(bd),
                "BatchHeight": str(bh),
                "BatchWidth": str(bw),
                "LossFunction": _LOSS_CHAR[self._loss_name()],
                "Initialization": _INIT_CHAR[self.options.WeightInitialization],
                "Regularization": _REG_CHAR[first.regularization],
                "OutputFunction": self.output_function_,
                "WeightDecay": repr(float(first.weight_decay)),
            }
        )
        write_layers_xml(net, parent)

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Re-create the network from ``<Weights>`` (pymva- or ROOT-written, TMVA ``ReadWeightsFromXML``).

        Raises
        ------
        ModelError
            No ``<Weights>``, missing attributes, an input shape that does not hold the variables,
            or layers that do not fit (see :func:`pymva.methods.dl_network.layers_from_xml`).
        """
        from .dl_network import layers_from_xml

        source = f"method {self.method_name} weights"
        if weights is None:
            raise ModelError(f"{source}: the weights file has no <Weights> element")
        try:
            shape = tuple(int(weights.get(k, "")) for k in ("InputDepth", "InputHeight", "InputWidth"))
            batch = tuple(int(weights.get(k, "0")) for k in ("BatchDepth", "BatchHeight", "BatchWidth"))
        except ValueError:
            raise ModelError(
                f"{source}: <Weights> has no integer InputDepth/InputHeight/InputWidth"
            ) from None
        n_var = self.context.n_variables
        if int(np.prod(shape)) != n_var:
            raise ModelError(
                f"{source}: the input layout {shape} holds {int(np.prod(shape))} values, the file has "
                f"{n_var} variables"
            )
        self.input_shape_ = (shape[0], shape[1], shape[2])
        self.batch_layout_ = (batch[0], batch[1], batch[2])
        of = weights.get("OutputFunction", self._output_function())
        if of not in ("I", "S", "M"):
            raise ModelError(f"{source}: unknown OutputFunction '{of}' (expected I, S or M)")
        self.output_function_ = of
        net = layers_from_xml(weights, self.input_shape_, source)
        depth = weights.get("NetDepth")
        if depth is not None and depth.strip().isdigit() and int(depth) != len(net.layers):
            raise ModelError(f"{source}: NetDepth={depth} but <Weights> holds {len(net.layers)} layers")
        net.eval()
        self.net_ = net
        # kept for writing the file again; the strategy is not re-parsed (its warnings were given at booking)
        reg = {v: k for k, v in _REG_CHAR.items()}.get(weights.get("Regularization", "0"), "NONE")
        try:
            decay = float(weights.get("WeightDecay", "0"))
        except ValueError:
            decay = 0.0
        self.phases_ = [TrainingSettings(regularization=reg, weight_decay=decay)]
        super().read_weights_xml(weights)
