"""``MethodPyKeras``: TMVA's Keras interface (``Types.kPyKeras``) on Keras 3.

Mirrors ``tmva/pymva/src/MethodPyKeras.cxx``: the user builds and compiles a Keras model and saves
it (``model.save("model.keras")`` or ``"model.h5"``); the method loads it
(``keras.saving.load_model(..., safe_mode=True)``), trains it with ``model.fit`` on the transformed
training events (one-hot classes or regression targets, the event weights as ``sample_weight``, the
validation tail of the training events as ``validation_data``) with TMVA's callbacks —
``ModelCheckpoint`` (``SaveBestOnly``), ``EarlyStopping`` (``TriesEarlyStopping``),
``LearningRateScheduler`` (``LearningRateSchedule``), ``TensorBoard`` — and evaluates the trained
model reloaded from ``FilenameTrainedModel`` with ``model.predict``.

Keras runs on the backend that ``KERAS_BACKEND`` names; pymva sets ``torch`` when the variable is
unset (:func:`pymva.extras.keras`), so no TensorFlow is needed.

Trust (``docs/security.md``): a weights file never makes code run.  ``UserCode`` is taken only from
the caller (as for ``MethodPyTorch``), model files are loaded with ``safe_mode=True`` (no Python
lambdas), and the trained model a weights file names resolves only inside its own directory.

Differences from TMVA (``docs/methods-pykeras.md``): the default trained-model file is
``<weightdir>/<job>_<title>.TrainedModel.keras`` (TMVA: ``TrainedModel_<title>.h5``); checkpoints
are written to a temporary file and moved into place when training ends; ``NumThreads`` sets torch's
threads on the torch backend; ``Verbose=1`` becomes one line per epoch when stdout is no terminal.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import MissingExtraError, ModelError
from ..extras import keras as import_keras
from ..options import non_negative, option, positive
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .modelfiles import check_regular_file, copy_file_atomically, model_file_name, resolve_reference
from .pytorch import (
    MethodPyTorch,
    _check_schedule,
    _check_validation_size,
    effective_threads,
    parse_learning_rate_schedule,
    set_torch_threads,
    validation_size,
)
from .registry import register_method
from .torchscript import similar_files

__all__ = ["KerasMissingError", "MethodPyKeras", "PyKerasOptions"]

F32 = npt.NDArray[np.float32]
_SUFFIXES = (".keras", ".h5")


class KerasMissingError(MissingExtraError, ModelError):
    """Booking ``Types.kPyKeras`` without Keras 3: a :class:`MissingExtraError` and a :class:`ModelError`."""


@dataclasses.dataclass(frozen=True)
class PyKerasOptions(BaseMethodOptions):
    """Options of ``MethodPyKeras`` in TMVA's declaration order, with TMVA's defaults."""

    FilenameModel: str = option("", "Filename of the initial Keras model")
    FilenameTrainedModel: str = option(
        "",
        "Filename of the trained output Keras model (default <weightdir>/<job>_<title>.TrainedModel.keras)",
    )
    BatchSize: int = option(100, "Training batch size", check=positive)
    NumEpochs: int = option(10, "Number of training epochs", check=positive)
    NumThreads: int = option(0, "Number of CPU threads (TensorFlow and torch backends)", check=non_negative)
    GpuOptions: str = option("", "GPU options for tensorflow, such as allow_growth")
    Verbose: int = option(1, "Keras verbosity during training", check=non_negative)
    ContinueTraining: bool = option(False, "Load weights from previous training")
    SaveBestOnly: bool = option(True, "Store only weights with smallest validation loss")
    TriesEarlyStopping: int = option(
        -1,
        "Number of epochs with no improvement in validation loss after which training will be "
        "stopped. The default or a negative number deactivates this option.",
    )
    LearningRateSchedule: str = option(
        "",
        'Set new learning rate during training at specific epochs, e.g., "50,0.01;70,0.005"',
        check=_check_schedule,
    )
    TensorBoard: str = option(
        "",
        "Write a log during training to visualize and monitor the training performance with TensorBoard",
    )
    ValidationSize: str = option(
        "20%",
        "Part of the training data to use for validation. Specify as 0.2 or 20% to use a fifth of the "
        "data set as validation set. Specify as 100 to use exactly 100 events. (Default: 20%)",
        check=_check_validation_size,
    )
    UserCode: str = option(
        "", "Optional python code provided by the user to be executed before loading the Keras model"
    )


@register_method
class MethodPyKeras(MethodBase):
    """TMVA's ``MethodPyKeras``: train and apply a user-defined, compiled Keras 3 model.

    Parameters
    ----------
    title : str
        The method title (``"PyKeras"``).
    context : MethodContext
    options : str
        TMVA option string, e.g. ``"H:!V:FilenameModel=model.keras:NumEpochs=20:BatchSize=32"``.
    **kwargs
        Options as keyword arguments.

    Raises
    ------
    KerasMissingError
        If Keras 3 is not installed (the message says ``pip install pymva[keras]``).
    OptionError
        For an unknown option or a bad value.

    Attributes
    ----------
    options : PyKerasOptions
    model_ : keras.Model or None
        The model loaded for training (initial, or trained with ``ContinueTraining``).
    """

    method_type: ClassVar[EMVA] = EMVA.kPyKeras
    Options: ClassVar[type[BaseMethodOptions]] = PyKerasOptions
    options: PyKerasOptions
    help_text: ClassVar[str] = (
        "Keras is a high-level API for neural networks (Keras 3 runs on torch, TensorFlow or JAX).\n"
        "This method wraps the training and predictions steps of the Keras\n"
        "Python package for TMVA, so that dataloading, preprocessing and\n"
        "evaluation can be done within the TMVA system. To use this Keras\n"
        "interface, you have to generate a model with Keras first. Then,\n"
        "this model can be loaded and trained in TMVA."
    )
    code_options: ClassVar[tuple[str, ...]] = ("UserCode",)
    file_options: ClassVar[tuple[str, ...]] = ("FilenameTrainedModel",)

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        # keras first: booking without it fails with the pip command, before anything else
        try:
            self._keras = import_keras()
        except MissingExtraError as exc:
            raise KerasMissingError(str(exc), name="keras") from exc
        super().__init__(title, context, options, **kwargs)
        self.model_: Any = None
        self._predict_model: Any = None
        self._custom_objects: Any = None
        self._trained_file: Path | None = None

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Regression, classification with 2 classes, multiclass with ≥ 2 (``HasAnalysisType``)."""
        if analysis_type == EAnalysisType.kRegression:
            return True
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        if analysis_type == EAnalysisType.kMulticlass:
            return n_classes >= 2
        return False

    # ------------------------------------------------------------------ files
    def beside_weights_path(self) -> Path:
        """``<weight_dir>/<job>_<title>.TrainedModel.<keras|h5>``: the copy the Reader reads."""
        given = self.options.FilenameTrainedModel
        suffix = "h5" if given.lower().endswith(".h5") else "keras"
        name = model_file_name(self.context.job_name, self.title, "TrainedModel", suffix)
        return Path(self.context.weight_dir) / name

    @property
    def trained_model_path(self) -> str:
        """``FilenameTrainedModel``, or its default beside the weights file."""
        if self._trained_file is not None:
            return str(self._trained_file)
        if self.options.FilenameTrainedModel and self.context.caller_set("FilenameTrainedModel"):
            return self.options.FilenameTrainedModel
        return str(self.beside_weights_path())

    # ------------------------------------------------------------------ setup (ProcessOptions)
    def setup(self) -> None:
        """TMVA ``ProcessOptions``: trained-model name, backend options, user code, the model.

        Raises
        ------
        ModelError
            A trained-model name not ending in ``.keras`` or ``.h5``, a missing or failing
            ``UserCode`` file, a model file that is missing or that Keras cannot load safely, a model
            whose input or output width does not fit the job.
        """
        keras = self._keras
        if not self.options.FilenameTrainedModel:
            self.options = dataclasses.replace(self.options, FilenameTrainedModel=self.trained_model_path)
        if not self.trained_model_path.lower().endswith(_SUFFIXES):
            raise ModelError(
                f"FilenameTrainedModel={self.trained_model_path} of method {self.method_name}: Keras 3 "
                "saves models only to files ending in .keras (its native format) or .h5"
            )
        self.log.info("Using Keras %s with the %s backend", keras.__version__, keras.backend.backend())
        self._apply_backend_options()
        if self.options.ContinueTraining:
            self.log.info("Continue training with trained model")
        self.model_ = self._setup_model(load_trained=self.options.ContinueTraining)

    def _apply_backend_options(self) -> None:
        """``NumThreads`` and ``GpuOptions``: TensorFlow's threads and memory growth, torch's threads."""
        keras = self._keras
        opts = self.options
        backend = str(keras.backend.backend())
        if backend == "tensorflow":
            tf = importlib.import_module("tensorflow")  # present: the user chose this backend

            if opts.NumThreads > 0:
                self.log.info("Setting the CPU number of threads =  %d", opts.NumThreads)
                try:
                    tf.config.threading.set_intra_op_parallelism_threads(opts.NumThreads)
                    tf.config.threading.set_inter_op_parallelism_threads(opts.NumThreads)
                except RuntimeError as exc:
                    self.log.warning("NumThreads: TensorFlow refused (%s)", exc)
            for item in filter(None, (s.strip() for s in opts.GpuOptions.split(","))):
                self.log.info("Applying GPU option:  gpu_options.%s", item)
                if item.replace(" ", "") == "allow_growth=True":
                    for gpu in tf.config.list_physical_devices("GPU"):
                        tf.config.experimental.set_memory_growth(gpu, True)
                else:
                    self.log.warning("GpuOptions: %s is not supported (only allow_growth=True)", item)
            return
        if opts.NumThreads > 0:
            if backend == "torch":
                n, clamped = effective_threads(opts.NumThreads)
                if clamped:
                    self.log.warning("%s", clamped)
                self.log.info("Setting the CPU number of threads = %d (torch backend)", n)
                for note in set_torch_threads(n):
                    self.log.warning("%s", note)
            else:
                self.log.warning(
                    "Cannot set the given %d threads when not using tensorflow or torch as backend",
                    opts.NumThreads,
                )
        if opts.GpuOptions:
            self.log.warning(
                "Cannot set the given GPU option %s when not using tensorflow as backend", opts.GpuOptions
            )

    def _run_user_code(self) -> dict[str, Any] | None:
        """The caller's ``UserCode`` file in a fresh module (as for ``MethodPyTorch``), or ``None``."""
        return MethodPyTorch._run_user_code(self)  # type: ignore[arg-type]

    def _setup_model(self, *, load_trained: bool) -> Any:
        """TMVA ``SetupKerasModel``: user code, ``load_model_custom_objects``, the model file."""
        ctx = self.context
        if ctx.n_variables == 0 or ctx.n_outputs == 0:
            raise ModelError(
                f"Model does not have a number of inputs or output ({ctx.n_variables} input variables, "
                f"{ctx.n_outputs} outputs for {ctx.analysis_type.type_name})"
            )
        namespace = self._run_user_code()
        custom = namespace.get("load_model_custom_objects") if namespace is not None else None
        if custom is None:
            custom = sys.modules["__main__"].__dict__.get("load_model_custom_objects")
        if custom is not None and not isinstance(custom, dict):
            raise ModelError(
                f"load_model_custom_objects must be a dict of names to Keras objects, got "
                f"{type(custom).__name__}"
            )
        self._custom_objects = custom
        path = self.trained_model_path if load_trained else self.options.FilenameModel
        model = self._load(path)
        self.log.info("Loaded model from file: %s", path)
        return model

    def _load(self, path: str | os.PathLike[str]) -> Any:
        """``keras.saving.load_model(path, safe_mode=True)`` with the input/output widths checked."""
        text = str(path)
        if not text:
            raise ModelError(
                f"method {self.method_name} needs FilenameModel=<file>: a compiled Keras model saved with "
                "model.save('model.keras') (or 'model.h5')"
            )
        if not os.path.exists(text):
            raise ModelError(
                f"Failed to load Keras model from file: {text} (no such file; working directory "
                f"{os.getcwd()}){similar_files(text)}"
            )
        check_regular_file(text, "Keras model file")
        try:
            model = self._keras.saving.load_model(text, custom_objects=self._custom_objects, safe_mode=True)
        except Exception as exc:
            raise ModelError(
                f"Failed to load Keras model from file: {text} ({type(exc).__name__}: {exc}); pymva loads "
                "with safe_mode=True, so Lambda layers holding Python code are refused"
            ) from exc
        if text.lower().endswith(".h5") and getattr(model, "compiled", False):
            # Keras 3's legacy HDF5 loader restores an optimizer bound to other variables ("Unknown
            # variable" at the first step): compile afresh from the file's compile config (the
            # optimizer's settings are kept, its slots such as momenta start from zero)
            config = model.get_compile_config()
            if config is not None:
                model.compile_from_config(config)
        self._check_widths(model, text)
        return model

    def _check_widths(self, model: Any, path: str) -> None:
        ctx = self.context
        try:
            n_in = model.inputs[0].shape[-1]
            n_out = model.outputs[0].shape[-1]
        except (AttributeError, IndexError, TypeError, ValueError):
            return  # a subclassed model without a recorded shape: predictions are checked instead
        if n_in is not None and int(n_in) != ctx.n_variables:
            raise ModelError(
                f"the Keras model in {path} takes {n_in} inputs, but the job has {ctx.n_variables} "
                f"variables ({', '.join(v.expression for v in ctx.variables)})"
            )
        if n_out is not None and int(n_out) != ctx.n_outputs:
            what = (
                f"one per target ({', '.join(t.expression for t in ctx.targets)})"
                if ctx.analysis_type == EAnalysisType.kRegression
                else f"one one-hot column per class ({', '.join(ctx.class_names)}), e.g. Dense("
                f"{ctx.n_outputs}, activation='softmax')"
            )
            raise ModelError(
                f"the Keras model in {path} gives {n_out} outputs, but {ctx.analysis_type.type_name} "
                f"needs {ctx.n_outputs}: {what}"
            )

    # ------------------------------------------------------------------ training
    def _targets(self, sample: Sample) -> F32:
        """One-hot classes or the regression targets, ``(n, n_outputs)`` float32 (TMVA ``Train``)."""
        ctx = self.context
        n = len(sample)
        if ctx.analysis_type == EAnalysisType.kRegression:
            return np.require(sample.targets, np.float32, ["C", "W"]).reshape(n, ctx.n_targets)
        y = np.zeros((n, ctx.n_classes), np.float32)
        y[np.arange(n), np.asarray(sample.class_id, dtype=np.intp)] = 1.0
        return y

    def _verbosity(self) -> int:
        """``Verbose``; 1 (a redrawn progress bar) becomes 2 (a line per epoch) off a terminal."""
        verbose = self.options.Verbose
        if verbose == 1 and not (hasattr(sys.stdout, "isatty") and sys.stdout.isatty()):
            return 2
        return verbose

    def _callbacks(self, checkpoint: str, verbose: int) -> list[Any]:
        keras = self._keras
        opts = self.options
        callbacks: list[Any] = []
        if opts.SaveBestOnly:
            callbacks.append(
                keras.callbacks.ModelCheckpoint(
                    checkpoint, monitor="val_loss", verbose=verbose, save_best_only=True, mode="auto"
                )
            )
            self.log.info(
                "Option SaveBestOnly: Only model weights with smallest validation loss will be stored"
            )
        if opts.TriesEarlyStopping >= 0:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=opts.TriesEarlyStopping, verbose=verbose, mode="auto"
                )
            )
            self.log.info(
                "Option TriesEarlyStopping: Training will stop after %d number of epochs with no "
                "improvement of validation loss",
                opts.TriesEarlyStopping,
            )
        steps = parse_learning_rate_schedule(opts.LearningRateSchedule)
        if steps is not None:

            def schedule(epoch: int, lr: float) -> float:
                """TMVA's piecewise schedule: the rate given for ``epoch``, else the current one."""
                return float(steps[epoch]) if epoch in steps else float(lr)

            callbacks.append(keras.callbacks.LearningRateScheduler(schedule))
            self.log.info(
                "Option LearningRateSchedule: Set learning rate during training: %s",
                opts.LearningRateSchedule,
            )
        if opts.TensorBoard:
            try:
                callbacks.append(keras.callbacks.TensorBoard(log_dir=opts.TensorBoard, write_graph=True))
            except Exception as exc:
                raise ModelError(
                    f"Failed to setup training callback: TensorBoard ({type(exc).__name__}: {exc}); Keras "
                    "writes TensorBoard logs through TensorFlow's summary writer (pip install tensorflow)"
                ) from exc
            self.log.info(
                "Option TensorBoard: Log files for training monitoring are stored in: %s", opts.TensorBoard
            )
        return callbacks

    def _train(self, sample: Sample) -> None:
        opts = self.options
        if self.model_ is None:
            self.setup()
        model = self.model_
        if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
            raise ModelError(
                f"the Keras model in {opts.FilenameModel} is not compiled: call model.compile(loss=..., "
                "optimizer=...) before model.save(...)"
            )
        n_all = len(sample)
        n_val = validation_size(opts.ValidationSize, n_all, method=f"PyKeras ('{self.title}')")
        n_train = n_all - n_val
        self.log.info(
            "Split TMVA training data in %d training events and %d validation events", n_train, n_val
        )
        X = np.require(sample.X, np.float32, ["C", "W"])
        Y = self._targets(sample)
        W = np.require(sample.weights, np.float32, ["C", "W"])

        self.log.info("Training Model Summary")
        model.summary(print_fn=lambda line, *args, **kwargs: self.log.info("%s", line))

        path = Path(self.trained_model_path)
        # the checkpoint goes to a temporary file, moved into place only when training succeeded
        partial = path.with_name(f".{path.stem}.pymva-partial{path.suffix}")
        verbose = self._verbosity()
        callbacks = self._callbacks(str(partial), verbose)
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            history = model.fit(
                X[:n_train],
                Y[:n_train],
                sample_weight=W[:n_train],
                batch_size=opts.BatchSize,
                epochs=opts.NumEpochs,
                verbose=verbose,
                validation_data=(X[n_train:], Y[n_train:], W[n_train:]),
                callbacks=callbacks,
            )
            if not opts.SaveBestOnly:
                model.save(str(partial), overwrite=True)
        except Exception as exc:
            partial.unlink(missing_ok=True)
            if isinstance(exc, ModelError):
                raise
            raise ModelError(f"Failed to train model: {type(exc).__name__}: {exc}") from exc
        if not partial.exists():
            raise ModelError(
                f"Failed to train model: no epoch gave a finite validation loss, so ModelCheckpoint "
                f"(SaveBestOnly) wrote no trained model to {path}"
            )
        os.replace(partial, path)
        self.log.info("Trained model written to file: %s", path)

        # TMVA's training history: one entry per Keras history key, named as Python's repr of it
        self.training_history = {
            repr(str(key)): [(i + 1, float(v)) for i, v in enumerate(values)]
            for key, values in history.history.items()
        }
        beside = self.beside_weights_path()
        if self.context.model_persistence and os.path.abspath(path) != os.path.abspath(beside):
            copy_file_atomically(path, beside)
            self.log.info("Trained model copied beside the weights file: %s", beside)
        # testing uses the model reloaded from the file (the best epoch with SaveBestOnly), as in TMVA
        self._predict_model = None

    # ------------------------------------------------------------------ application
    def add_weights_xml(self, parent: Any) -> None:
        """``<Weights ModelFile="<job>_<title>.TrainedModel.keras" Format="Keras"/>``.

        TMVA's MethodPyKeras writes nothing here and reads ``FilenameTrainedModel`` from the
        options; the name says which file beside the weights file holds the trained model.
        """
        parent.set("ModelFile", self.beside_weights_path().name)
        parent.set("Format", "Keras")

    def read_weights_xml(self, weights: Any) -> None:
        """Find the trained model the weights file names (only inside its directory) and load it.

        Raises
        ------
        ModelError
            For a reference outside the directory, a missing file, or a model Keras cannot load
            safely or whose widths do not fit the job.
        """
        super().read_weights_xml(weights)
        ctx = self.context
        self._trained_file = None
        self._predict_model = None
        name = self.options.FilenameTrainedModel
        if name and ctx.caller_set("FilenameTrainedModel"):
            path = Path(name)
        else:
            base = ctx.model_dir if ctx.model_dir is not None else Path(ctx.weight_dir)
            recorded = weights.get("ModelFile") if weights is not None else None
            if recorded is None:  # written by TMVA: the stored option
                recorded = name or f"TrainedModel_{self.title}.h5"
            source = ctx.weights_source or str(base / f"{ctx.job_name}_{self.title}.weights.xml")
            path = resolve_reference(
                recorded, base, what="trained Keras model", option="FilenameTrainedModel", source=source
            )
        self._custom_objects = self._custom_objects_for_prediction()
        self._predict_model = self._load(path)
        self.log.info("Loaded model from file: %s", path)
        self._trained_file = path

    def _custom_objects_for_prediction(self) -> Any:
        namespace = self._run_user_code()
        custom = namespace.get("load_model_custom_objects") if namespace is not None else None
        if custom is None:
            custom = sys.modules["__main__"].__dict__.get("load_model_custom_objects")
        return custom if isinstance(custom, dict) else None

    def _predict(self, X: F32) -> F32:
        if self._predict_model is None:
            self._custom_objects = self._custom_objects_for_prediction()
            self._predict_model = self._load(self.trained_model_path)
        try:
            out = self._predict_model.predict(X, batch_size=max(self.options.BatchSize, 1024), verbose=0)
        except Exception as exc:
            raise ModelError(
                f"Failed to get predictions of the Keras model {self.trained_model_path}: "
                f"{type(exc).__name__}: {exc} (input float32 of shape {X.shape})"
            ) from exc
        out = np.asarray(out, dtype=np.float32)
        n_out = self.context.n_outputs
        if out.shape != (len(X), n_out):
            raise ModelError(
                f"the Keras model {self.trained_model_path} predicted an array of shape {out.shape}, "
                f"expected ({len(X)}, {n_out})"
            )
        return np.ascontiguousarray(out)
