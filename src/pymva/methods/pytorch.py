"""``MethodPyTorch``: TMVA's PyTorch interface (``Types.kPyTorch``), ``../shared/tmva/pytorch.md``.

The user owns the network (a TorchScript file), the optimizer class, the loss, the training loop and
the prediction function, handed over in a dict ``load_model_custom_objects`` defined in the calling
script (``__main__``) or in the file named by ``UserCode`` (run in a fresh module namespace, never in
the caller's).  The method owns the data: it splits the
transformed training events into a training part and a validation tail, builds the two
``DataLoader``\\ s, calls the user's loop exactly as TMVA does, saves the trained model (or lets the loop
save the best epoch through ``save_best``) and later evaluates the model reloaded from
``FilenameTrainedModel`` through the user's prediction function.

Life cycle (§3.2): :meth:`MethodPyTorch.setup` right after booking (TMVA ``ProcessOptions``: runs the
user code and loads the initial model), :meth:`~MethodBase.train`, then — on the instance the Factory
re-creates from the weights file, or in the Reader — :meth:`MethodPyTorch.read_weights_xml` loads the
trained model beside the weights file and checks it, and the first prediction takes ``predict_func``.

Trust (``docs/security.md``): a weights file never makes code run.  Its ``UserCode`` is ignored (only
the caller's booking string or ``Reader.BookMVA(..., UserCode=...)`` counts), and the trained model
it names resolves only inside its own directory (:func:`pymva.methods.modelfiles.resolve_reference`);
the model is TorchScript, never a ``torch.save`` pickle, and records the variables it was trained for.

Beyond TMVA (documented in ``docs/methods-pytorch.md``): the option ``NumThreads`` is declared and
works, ``EventWeights`` makes the loaders yield ``(X, y, w)``, ``save_best`` writes atomically, a loop
that never calls ``save_best`` is an error at the end of training, and predictions are checked.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import os
import re
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..ddp import is_writer, process_rank, shard_mask
from ..errors import ModelError, OptionError
from ..options import non_negative, option, positive
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .modelfiles import (
    check_model_record,
    check_regular_file,
    copy_file_atomically,
    model_file_name,
    model_record,
    resolve_reference,
)
from .registry import register_method
from .torchscript import (
    check_input_size,
    load_torchscript,
    save_scripted,
    similar_files,
)

__all__ = [
    "MethodPyTorch",
    "PyTorchOptions",
    "check_input_size",
    "effective_threads",
    "parse_learning_rate_schedule",
    "validation_size",
]

F32 = npt.NDArray[np.float32]

_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


# ---------------------------------------------------------------------------------------------------
# pure helpers


def validation_size(text: str, n_train: int, method: str | None = "PyTorch") -> int:
    """Number of validation events for the ``ValidationSize`` option (TMVA ``GetNumValidationSamples``).

    Formats: ``"20%"`` (percentage of the training events), ``"0.2"`` (a fraction, any value below 1)
    and ``"100"`` (an absolute count; ``"100.7"`` gives 100).  Fractions are truncated toward zero
    (``int(n_train * value)``).

    Parameters
    ----------
    text : str
        The option value.
    n_train : int
        Number of TMVA training events (before the validation split).
    method : str or None, optional
        How the error messages name the method whose option this is (``"PyTorch"``,
        ``"DL ('DNN_CPU')"``); ``None`` when the caller names it (the booking-time check, whose
        message the option machinery prefixes with the method).

    Returns
    -------
    int
        The number of validation events, ``1 <= n < n_train``.

    Raises
    ------
    OptionError
        With TMVA's messages: ``Cannot parse number "<s>". Expected string like "20%" or "20.0%".``,
        ``Cannot parse number "<s>". Expected string like "0.2" or "100".``,
        ``Validation size "<s>" is negative.``, ``... is zero.`` and
        ``... is larger than or equal in size to training set (size="N").``
    """
    where = "option ValidationSize" if method is None else f"option ValidationSize of method {method}"
    raw = str(text)
    if raw.endswith("%"):
        number = raw.rstrip("%").strip()
        if not _NUMBER.match(number):
            raise OptionError(
                f'Cannot parse number "{raw}". Expected string like "20%" or "20.0%". ({where})'
            )
        percent = float(number)
        if not math.isfinite(percent):
            raise OptionError(
                f'Cannot parse number "{raw}". Expected string like "20%" or "20.0%". '
                f"({where}: the number is too large)"
            )
        n = int(n_train * (percent / 100.0))
    else:
        number = raw.strip()
        if not _NUMBER.match(number):
            raise OptionError(f'Cannot parse number "{raw}". Expected string like "0.2" or "100". ({where})')
        value = float(number)
        if not math.isfinite(value):
            raise OptionError(
                f'Cannot parse number "{raw}". Expected string like "0.2" or "100". '
                f"({where}: the number is too large)"
            )
        n = int(n_train * value) if value < 1.0 else int(value)
    if n < 0:
        raise OptionError(
            f'Validation size "{raw}" is negative. ({where}; give a fraction like "0.2", a percentage '
            'like "20%" or a number of events)'
        )
    if n == 0:
        raise OptionError(
            f'Validation size "{raw}" is zero. ({where}, with {n_train} training events; '
            'give a larger fraction, a percentage like "20%" or a number of events)'
        )
    if n >= n_train:
        raise OptionError(
            f'Validation size "{raw}" is larger than or equal in size to training set (size="{n_train}"). '
            f"({where}: the training part would be empty; give a smaller fraction or number of events)"
        )
    return n


def _check_validation_size(value: Any) -> str | None:
    """Booking-time check of ``ValidationSize``: its format and sign (the size needs the events)."""
    try:
        validation_size(str(value), 2**62, method=None)
    except OptionError as exc:
        return str(exc)
    return None


def parse_learning_rate_schedule(text: str) -> dict[int, float] | None:
    """Parse ``LearningRateSchedule`` (``"epoch,lr;epoch,lr;…"``) into ``{epoch: lr}``.

    ``""`` means no schedule (``None``).  ``"50,0.01;70,0.005"`` gives ``{50: 0.01, 70: 0.005}``.

    Raises
    ------
    OptionError
        ``Failed to setup steps for scheduler function from string: <s>`` for malformed text (an
        empty entry such as a trailing ``;``, an entry without exactly one ``,``, an epoch that is not
        a non-negative integer, a rate that is not a non-negative finite number).
    """
    if not text.strip():
        return None
    steps: dict[int, float] = {}
    for entry in text.split(";"):
        parts = entry.split(",")
        reason = ""
        if len(parts) != 2:
            reason = f"entry '{entry}' is not 'epoch,learning_rate'"
        else:
            try:
                epoch = int(parts[0])
                rate = float(parts[1])
            except ValueError:
                reason = f"entry '{entry}': the epoch must be an integer and the learning rate a number"
            else:
                if epoch < 0:
                    reason = f"entry '{entry}': the epoch is negative"
                elif not math.isfinite(rate) or rate < 0:
                    reason = f"entry '{entry}': the learning rate must be a non-negative finite number"
                else:
                    steps[epoch] = rate
        if reason:
            raise OptionError(
                f"Failed to setup steps for scheduler function from string: {text} ({reason}; "
                'expected e.g. "50,0.01;70,0.005": 0-based epoch, comma, learning rate, entries '
                "separated by ';')"
            )
    return steps


def _check_schedule(value: Any) -> str | None:
    try:
        parse_learning_rate_schedule(str(value))
    except OptionError as exc:
        return str(exc)
    return None


_INTEROP_THREADS_SET = False


def effective_threads(requested: int) -> tuple[int, str | None]:
    """``NumThreads`` clamped to the machine's CPU count, and the warning to log when it was.

    Parameters
    ----------
    requested : int
        The option's value (> 0).

    Returns
    -------
    (int, str or None)
        The number of threads to use, ``min(requested, os.cpu_count())``, and a message when clamped.
    """
    cpus = os.cpu_count() or 1
    if requested <= cpus:
        return requested, None
    return cpus, (
        f"NumThreads={requested} is more than the {cpus} CPUs of this machine: using {cpus} threads"
    )


def set_torch_threads(n: int) -> list[str]:
    """Set torch's intra-op threads to ``n`` and, once per process, its inter-op threads.

    ``torch.set_num_interop_threads`` may only be called once, before any inter-op parallel work;
    a refusal is reported, not raised.

    Returns
    -------
    list of str
        Warnings to log (empty when everything was set).
    """
    import torch

    global _INTEROP_THREADS_SET
    torch.set_num_threads(n)
    notes: list[str] = []
    if not _INTEROP_THREADS_SET:
        _INTEROP_THREADS_SET = True
        try:
            torch.set_num_interop_threads(n)
        except RuntimeError as exc:
            notes.append(
                f"NumThreads: could not set torch's inter-op threads to {n} ({exc}); it stays "
                f"{torch.get_num_interop_threads()} (torch allows it only before any parallel work)"
            )
    elif torch.get_num_interop_threads() != n:
        notes.append(
            f"NumThreads: torch's inter-op threads can be set once per process; it stays "
            f"{torch.get_num_interop_threads()}"
        )
    return notes


# ---------------------------------------------------------------------------------------------------
# options


@dataclass(frozen=True)
class PyTorchOptions(BaseMethodOptions):
    """Options of ``MethodPyTorch`` (pytorch.md §2), in TMVA's declaration order, plus two extensions."""

    FilenameModel: str = option("", "Filename of the initial PyTorch model")
    FilenameTrainedModel: str = option(
        "",
        "Filename of the trained output PyTorch model (default <weightdir>/<job>_<title>.TrainedModel.pt)",
    )
    BatchSize: int = option(100, "Training batch size", check=positive)
    NumEpochs: int = option(10, "Number of training epochs", check=positive)
    ContinueTraining: bool = option(False, "Load weights from previous training")
    SaveBestOnly: bool = option(True, "Store only weights with smallest validation loss")
    LearningRateSchedule: str = option(
        "",
        'Set new learning rate during training at specific epochs, e.g., "50,0.01;70,0.005"',
        check=_check_schedule,
    )
    ValidationSize: str = option(
        "20%",
        "Part of the training data to use for validation. Specify as 0.2 or 20% to use a fifth of the "
        "data set as validation set. Specify as 100 to use exactly 100 events. (Default: 20%)",
        check=_check_validation_size,
    )
    UserCode: str = option(
        "",
        "Necessary python code provided by the user to be executed before loading and training the "
        "PyTorch Model",
    )
    NumThreads: int = option(
        0, "Number of CPU threads for torch (0: torch's default); pymva extension", check=non_negative
    )
    EventWeights: bool = option(
        False, "Data loaders yield (X, y, w) with the event weights; pymva extension (TMVA ignores weights)"
    )
    ModelFormat: str = option(
        "TorchScript",
        "File format of the trained model: TorchScript (torch.jit, TMVA's) or Export (torch.export .pt2); "
        "default the format of FilenameModel; pymva extension",
        allowed=("TorchScript", "Export"),
    )


_DICT_NAME = "load_model_custom_objects"
_DICT_HELP = (
    f"define a dict {_DICT_NAME} = {{'optimizer': torch.optim.SGD, 'criterion': torch.nn.MSELoss(), "
    "'train_func': train, 'predict_func': predict} at the top level of the script that runs the "
    "Factory or the Reader (its __main__ module), or in the file given with the option UserCode=<file>; "
    "pymva.pytorch.train and pymva.pytorch.predict are ready-made train and predict functions"
)
_USER_CODE_MODULES = itertools.count()


@dataclass
class _CustomObjects:
    fit: Any
    optimizer: Any
    criterion: Any
    predict: Any


# ---------------------------------------------------------------------------------------------------
# the method


@register_method
class MethodPyTorch(MethodBase):
    """TMVA's ``MethodPyTorch``: train and apply a user-defined PyTorch (TorchScript) model.

    Parameters
    ----------
    title : str
        The method title (``"PyTorch"``).
    context : MethodContext
    options : str
        TMVA option string, e.g. ``"H:!V:FilenameModel=model.pt:NumEpochs=20:BatchSize=32"``.
    **kwargs
        Options as keyword arguments.

    Attributes
    ----------
    options : PyTorchOptions
        ``FilenameTrainedModel`` is resolved by :meth:`setup`.
    model_ : torch.jit.ScriptModule or None
        The model loaded for training (initial, or trained with ``ContinueTraining``) and trained in
        place by the user's loop.
    """

    method_type: ClassVar[EMVA] = EMVA.kPyTorch
    Options: ClassVar[type[BaseMethodOptions]] = PyTorchOptions
    supports_streaming: ClassVar[bool] = True
    options: PyTorchOptions
    help_text: ClassVar[str] = (
        "PyTorch is a scientific computing package supporting automatic differentiation.\n"
        "This method wraps the training and prediction steps of a PyTorch model, so that data\n"
        "loading, preprocessing (VarTransform) and evaluation stay within the Factory and the Reader.\n"
        "First build the network with PyTorch and save it as TorchScript\n"
        "(torch.jit.save(torch.jit.script(model), 'model.pt')), then book it with\n"
        "FilenameModel=model.pt. Define in your script (or in the UserCode file) the dict\n"
        "load_model_custom_objects = {'optimizer': <optimizer class>, 'criterion': <loss>,\n"
        "                             'train_func': <training loop>, 'predict_func': <prediction>};\n"
        "pymva.pytorch.train and pymva.pytorch.predict are ready-made choices.\n"
        "The training loop is called as train_func(model, train_loader, val_loader, num_epochs=...,\n"
        "batch_size=..., optimizer=..., criterion=..., save_best=..., scheduler=(schedule, steps));\n"
        "the trained model is written to FilenameTrainedModel and used for testing and in the Reader."
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.model_: Any = None
        self._objects: _CustomObjects | None = None
        self._predict_model: Any = None
        #: the trained-model file a weights file named (resolved inside its directory)
        self._trained_file: Path | None = None
        #: the ``Format`` a weights file recorded for its trained model
        self._stored_format: str | None = None

    # ------------------------------------------------------------------ capabilities
    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Regression with any number of targets, classification with 2 classes, multiclass with ≥ 2."""
        if analysis_type == EAnalysisType.kRegression:
            return True
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        if analysis_type == EAnalysisType.kMulticlass:
            return n_classes >= 2
        return False

    code_options: ClassVar[tuple[str, ...]] = ("UserCode",)
    file_options: ClassVar[tuple[str, ...]] = ("FilenameTrainedModel",)

    @property
    def model_format(self) -> str:
        """``"TorchScript"`` or ``"Export"``: how the trained model is saved.

        ``ModelFormat`` when it was set; otherwise ``Export`` when ``FilenameModel`` is a
        ``torch.export`` archive (``.pt2``), else ``TorchScript`` (TMVA's format).
        """
        opts = self.options
        if self._stored_format is not None:  # a method re-created from a weights file
            return self._stored_format
        if "ModelFormat" in opts.modified_options or not opts.FilenameModel:
            return opts.ModelFormat
        if not self.context.caller_set("FilenameModel"):
            return opts.ModelFormat
        from .exportedprogram import is_pt2_archive

        return "Export" if is_pt2_archive(opts.FilenameModel) else opts.ModelFormat

    def beside_weights_path(self) -> Path:
        """``<weight_dir>/<job>_<title>.TrainedModel.pt`` (``.pt2`` with ``ModelFormat=Export``): the
        trained model beside the weights file."""
        suffix = "pt2" if self.model_format == "Export" else "pt"
        name = model_file_name(self.context.job_name, self.title, "TrainedModel", suffix)
        return Path(self.context.weight_dir) / name

    def _load_model(self, path: str | os.PathLike[str], records: dict[str, Any] | None = None) -> Any:
        """A TorchScript archive (``torch.jit.load``) or a ``torch.export`` archive, told by content."""
        from .exportedprogram import is_pt2_archive, load_exported_program

        if path and is_pt2_archive(path):
            return load_exported_program(path, records)
        return load_torchscript(path, records)

    def _save_model(self, model: Any, path: str, record: Any) -> None:
        """Write the trained model in :attr:`model_format`, atomically."""
        if self.model_format == "Export":
            from .exportedprogram import save_exported_program

            save_exported_program(model, path, self.context.n_variables, record)
        else:
            save_scripted(model, path, record)

    @property
    def trained_model_path(self) -> str:
        """``FilenameTrainedModel``, or its default ``<weight_dir>/<job>_<title>.TrainedModel.pt``.

        For a method re-created from a weights file: the file that file names, resolved inside its
        directory by :meth:`read_weights_xml` (unless the caller passed ``FilenameTrainedModel``).
        """
        if self._trained_file is not None:
            return str(self._trained_file)
        if self.options.FilenameTrainedModel and self.context.caller_set("FilenameTrainedModel"):
            return self.options.FilenameTrainedModel
        return str(self.beside_weights_path())

    # ------------------------------------------------------------------ setup (ProcessOptions)
    def setup(self) -> None:
        """TMVA ``ProcessOptions``: resolve the trained-model file name, run the user code, load the model.

        Raises
        ------
        ModelError
            A missing ``UserCode`` file or a failure inside it, a missing or incomplete
            ``load_model_custom_objects``, a model file that is missing or not TorchScript.
        """
        import torch

        if not self.options.FilenameTrainedModel:
            # stored resolved (in the weights file too), without marking it as set by the user
            self.options = dataclasses.replace(self.options, FilenameTrainedModel=self.trained_model_path)
        self.log.info("Using PyTorch version %s", torch.__version__.split(".")[0])
        self._apply_threads()
        if self.options.ContinueTraining:
            self.log.info("Continue training with trained model")
        self.model_ = self._setup_model(load_trained=self.options.ContinueTraining)

    def _apply_threads(self) -> None:
        requested = self.options.NumThreads
        if requested > 0:
            n, clamped = effective_threads(requested)
            if clamped:
                self.log.warning("%s", clamped)
            self.log.info("Setting the CPU number of threads = %d", n)
            for note in set_torch_threads(n):
                self.log.warning("%s", note)

    def _check_shape(self) -> None:
        ctx = self.context
        if ctx.n_variables == 0 or ctx.n_outputs == 0:
            raise ModelError(
                f"Model does not have a number of inputs or output. Setup failed "
                f"({ctx.n_variables} input variables, {ctx.n_outputs} outputs for "
                f"{ctx.analysis_type.type_name})"
            )

    def _setup_model(self, *, load_trained: bool) -> Any:
        """TMVA ``SetupPyTorchModel``: user code, custom objects, model file; returns the model."""
        self._check_shape()
        self._objects = self._read_custom_objects(self._run_user_code())
        path = self.trained_model_path if load_trained else self.options.FilenameModel
        model = self._load_model(path)
        check_input_size(model, self.context.n_variables, path)
        self.log.info("Loaded model from file: %s", path)
        return model

    def _run_user_code(self) -> dict[str, Any] | None:
        """Run the ``UserCode`` file in a fresh module; return its namespace (``None`` without one).

        The module is registered in ``sys.modules`` under a unique name (so that ``torch.jit.script``
        finds the source of classes defined there); the caller's ``__main__`` is never touched.
        """
        code = self.options.UserCode
        if not code:
            return None
        self.log.info("Executing user initialization code from %s", code)
        if not os.path.exists(code):
            raise ModelError(
                f"Input user code is not existing : {code} (working directory {os.getcwd()}){similar_files(code)}"
            )
        try:
            check_regular_file(code, "UserCode file")
            source = Path(code).read_text(encoding="utf-8")
        except (ModelError, OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"Input user code {code} cannot be read: {exc}") from None
        name = f"pymva_usercode_{next(_USER_CODE_MODULES)}"
        module = types.ModuleType(name, f"UserCode file {code} of method {self.method_name}")
        module.__file__ = os.path.abspath(code)
        sys.modules[name] = module
        try:
            exec(compile(source, code, "exec"), module.__dict__)  # noqa: S102 -- the caller's UserCode
        except Exception as exc:
            raise ModelError(f"Failed to run user code {code}: {type(exc).__name__}: {exc}") from exc
        return module.__dict__

    def _find_custom_objects(self, namespace: Mapping[str, Any] | None) -> tuple[Any, str] | None:
        """``load_model_custom_objects`` from the UserCode namespace, else from ``__main__``."""
        if namespace is not None and _DICT_NAME in namespace:
            return namespace[_DICT_NAME], f"the UserCode file {self.options.UserCode}"
        main = sys.modules["__main__"].__dict__
        if _DICT_NAME in main:
            return main[_DICT_NAME], "__main__"
        return None

    def _prediction_objects(self, namespace: Mapping[str, Any] | None) -> _CustomObjects:
        """Custom objects for evaluation (re-created method, Reader).

        Only ``predict_func`` is needed; when ``load_model_custom_objects`` is not defined, lacks
        ``predict_func`` or holds ``None`` there, :func:`pymva.pytorch.predict` is used (an extension:
        TMVA requires the dict with all three keys even in the application).
        """
        from .. import pytorch as ready_made

        found_objs = self._find_custom_objects(namespace)
        objs = found_objs[0] if found_objs is not None else None
        predict = objs.get("predict_func") if isinstance(objs, Mapping) else None
        if predict is None:
            self.log.info("No predict_func in %s: using pymva.pytorch.predict for the evaluation", _DICT_NAME)
            predict = ready_made.predict
        found: Mapping[str, Any] = objs if isinstance(objs, Mapping) else {}
        return _CustomObjects(
            fit=found.get("train_func"),
            optimizer=found.get("optimizer"),
            criterion=found.get("criterion"),
            predict=predict,
        )

    def _read_custom_objects(self, namespace: Mapping[str, Any] | None) -> _CustomObjects:
        found_objs = self._find_custom_objects(namespace)
        if found_objs is None:
            where = (
                f" (neither the UserCode file {self.options.UserCode} nor __main__ defines it)"
                if self.options.UserCode
                else ""
            )
            raise ModelError(f"{_DICT_NAME} is not defined{where}: {_DICT_HELP}")
        objs = found_objs[0]
        if not isinstance(objs, Mapping):
            raise ModelError(f"{_DICT_NAME} must be a dict, got {type(objs).__name__}: {_DICT_HELP}")
        self.log.info("custom objects for loading model : %s", objs)
        if "train_func" not in objs:
            raise ModelError(
                "Failed to load train function from file. Please use key: 'train_func' and pass training "
                f"loop function as the value (keys found in {_DICT_NAME}: {sorted(map(str, objs))})."
            )
        if "criterion" not in objs:
            raise ModelError(
                "Failed to load loss function from file. Please use key: 'criterion' and pass a pytorch "
                f"loss function (e.g. torch.nn.MSELoss()) as the value (keys found in {_DICT_NAME}: "
                f"{sorted(map(str, objs))})."
            )
        if "predict_func" not in objs:
            raise ModelError(
                "Can't find user predict function object from file. Please use key: 'predict_func' and "
                "pass a predict function for evaluating the model as the value (keys found in "
                f"{_DICT_NAME}: {sorted(map(str, objs))})."
            )
        if "optimizer" in objs:
            optimizer = objs["optimizer"]
        else:
            import torch

            optimizer = torch.optim.SGD
        return _CustomObjects(
            fit=objs["train_func"],
            optimizer=optimizer,
            criterion=objs["criterion"],
            predict=objs["predict_func"],
        )

    # ------------------------------------------------------------------ training
    def _targets(self, sample: Sample, n_columns: int) -> F32:
        """Regression targets, one-hot classes (TMVA), or the signal flag for a one-output classifier."""
        n = len(sample)
        ctx = self.context
        if ctx.analysis_type == EAnalysisType.kRegression:
            return np.require(sample.targets, np.float32, ["C", "W"]).reshape(n, ctx.n_targets)
        class_id = np.asarray(sample.class_id, dtype=np.intp)
        if n_columns == 1:
            flag: F32 = (class_id == ctx.signal_class).astype(np.float32).reshape(n, 1)
            return flag
        y = np.zeros((n, ctx.n_classes), np.float32)
        y[np.arange(n), class_id] = 1.0
        return y

    def _model_columns(self, X: F32) -> int | None:
        """Output columns of :attr:`model_` on one event (eval mode, no gradients); ``None`` if it fails."""
        import torch

        model = self.model_
        was_training = bool(getattr(model, "training", False))
        try:
            model.eval()
            with torch.no_grad():
                out = model(torch.from_numpy(np.ascontiguousarray(X[:1], dtype=np.float32)))
            return int(out.shape[1]) if isinstance(out, torch.Tensor) and out.dim() == 2 else None
        except Exception:  # noqa: BLE001 -- the user's training loop reports what is wrong
            return None
        finally:
            model.train(was_training)

    def _output_columns(self, X: F32) -> int:
        """TMVA's number of outputs, or 1 for a binary classifier whose network has one output column.

        Raises
        ------
        ModelError
            When the network's output width fits neither (checked on one event before training).
        """
        ctx = self.context
        expected = ctx.n_outputs
        width = self._model_columns(X) if len(X) else None
        if width is None or width == expected:
            return expected
        binary = ctx.analysis_type == EAnalysisType.kClassification
        if binary and width == 1:
            self.log.info(
                "The model has one output column: it is trained on one target column (1 for %s, 0 for "
                "the other class) and its value is the MVA response; TMVA's contract is two one-hot "
                "columns (pymva extension)",
                ctx.class_names[ctx.signal_class],
            )
            return 1
        if ctx.analysis_type == EAnalysisType.kRegression:
            need = f"{expected} (one per regression target: {', '.join(t.expression for t in ctx.targets)})"
        else:
            single = (
                "; or, for two classes, a single column, the signal score, e.g. nn.Linear(..., 1) with "
                "nn.Sigmoid()"
                if binary
                else ""
            )
            need = (
                f"{expected} (TMVA's contract: one one-hot column per class, {', '.join(ctx.class_names)}, "
                f"e.g. nn.Linear(..., {expected}) followed by nn.Softmax(dim=1){single})"
            )
        raise ModelError(
            f"The model in {self.options.FilenameModel or self.trained_model_path} gives {width} output "
            f"columns, but {ctx.analysis_type.type_name} needs {need}"
        )

    def _train(self, sample: Sample) -> None:
        import torch
        from torch.utils.data import TensorDataset

        from ..pytorch import SequentialTensorLoader

        opts = self.options
        if self.model_ is None or self._objects is None:
            self.setup()
        self._check_train_func()
        n_all = len(sample)
        n_val = validation_size(opts.ValidationSize, n_all)
        n_train = n_all - n_val
        self.log.info(
            "Split TMVA training data in %d training events and %d validation events", n_train, n_val
        )
        X = np.require(sample.X, np.float32, ["C", "W"])
        Y = self._targets(sample, self._output_columns(X))
        W = np.require(sample.weights, np.float32, ["C", "W"])
        rank, world = process_rank()
        if world > 1:
            self.log.info(
                "torch.distributed: rank %d of %d trains on every %d-th event from the %d-th",
                rank,
                world,
                world,
                rank,
            )

        def loader(lo: int, hi: int) -> SequentialTensorLoader:
            # under DDP each rank takes its own shard: the events lo + rank, lo + rank + world, …
            rows = slice(lo + rank, hi, world) if world > 1 else slice(lo, hi)
            tensors = [
                torch.from_numpy(np.ascontiguousarray(X[rows])),
                torch.from_numpy(np.ascontiguousarray(Y[rows])),
            ]
            if opts.EventWeights:
                tensors.append(torch.from_numpy(np.ascontiguousarray(W[rows])))
            return SequentialTensorLoader(TensorDataset(*tensors), batch_size=opts.BatchSize, shuffle=False)

        self._fit(loader(0, n_train), loader(n_train, n_all))

    def _train_stream(self, source: Callable[[], Iterable[Sample]], n_events: int) -> None:
        """Train from transformed chunks through :class:`pymva.pytorch.ShuffleBufferLoader` windows.

        The validation events are chosen event by event: the ``i``-th event of the stream is a
        validation event when :func:`pymva.data.stream.entry_uniform` of ``i`` (key
        ``tree_key("ValidationSize")``, seed 0) is below ``n_val / n_events``, with ``n_val`` from
        ``ValidationSize`` as in memory; so there are ``n_val`` of them on average, the same ones at
        every epoch.  Each epoch reads the stream twice (training, then validation batches).
        """
        from ..data.stream import entry_uniform, tree_key
        from ..pytorch import STREAM_BUFFER_EVENTS, ShuffleBufferLoader

        opts = self.options
        if self.model_ is None or self._objects is None:
            self.setup()
        self._check_train_func()
        n_val = validation_size(opts.ValidationSize, n_events)
        fraction = n_val / n_events if n_events else 0.0
        self.log.info(
            "Split TMVA training data in about %d training events and %d validation events (Streaming=True: "
            "each event drawn for validation with probability %.4g)",
            n_events - n_val,
            n_val,
            fraction,
        )
        first = next((c for c in source() if len(c)), None)
        if first is None:
            raise ModelError(f"method {self.title}: no training events in the stream")
        n_columns = self._output_columns(np.require(first.X, np.float32, ["C", "W"]))
        key = tree_key("ValidationSize")
        rank, world = process_rank()
        if world > 1 and self.stream_sharded:
            self.log.info(
                "torch.distributed: rank %d of %d reads and trains on its own chunks of entries "
                "(chunk j of each class: j mod %d = %d)",
                rank,
                world,
                world,
                rank,
            )
            world = 1  # the source is this rank's shard already: no positions to skip
        elif world > 1:
            self.log.info(
                "torch.distributed: rank %d of %d streams the events at positions %d, %d + %d, … of the stream",
                rank,
                world,
                rank,
                rank,
                world,
            )

        def part(validation: bool) -> Callable[[], Iterator[tuple[npt.NDArray[Any], ...]]]:
            def chunks() -> Iterator[tuple[npt.NDArray[Any], ...]]:
                start = 0
                for chunk in source():
                    n = len(chunk)
                    is_val = entry_uniform(key, np.arange(start, start + n), 0) < fraction
                    m = is_val if validation else ~is_val
                    if world > 1:  # this rank's shard: the events at positions rank, rank + world, …
                        m = m & shard_mask(start, n, rank, world)
                    start += n
                    if not m.any():
                        continue
                    sub = chunk.subset(m)
                    X = np.require(sub.X, np.float32, ["C", "W"])
                    Y = self._targets(sub, n_columns)
                    W = np.require(sub.weights, np.float32, ["C", "W"])
                    yield (X, Y, W) if opts.EventWeights else (X, Y)

            return chunks

        buffer = max(STREAM_BUFFER_EVENTS, opts.BatchSize)
        self._fit(
            ShuffleBufferLoader(part(False), opts.BatchSize, buffer_size=buffer),
            ShuffleBufferLoader(part(True), opts.BatchSize, buffer_size=buffer),
        )

    def _check_train_func(self) -> None:
        assert self._objects is not None
        fit = self._objects.fit
        if not callable(fit):
            raise ModelError(
                f"train_func in {_DICT_NAME} is {fit!r}, not a function: training needs the "
                "training-loop function (e.g. pymva.pytorch.train)"
            )

    def _fit(self, train_loader: Any, val_loader: Any) -> None:
        """Run ``train_func`` on the loaders, check and save the trained model (TMVA ``Train``)."""
        from ..pytorch import bind_schedule, progress_requested

        opts = self.options
        assert self._objects is not None
        objs = self._objects
        path = self.trained_model_path
        if opts.EventWeights:
            self.log.info("Option EventWeights: the data loaders yield (X, y, w) with the event weights")

        self.log.info("Print Training Model Architecture")
        self.log.info("%s", self.model_)

        steps = parse_learning_rate_schedule(opts.LearningRateSchedule)
        scheduler: tuple[Callable[..., Any] | None, dict[int, float] | None]
        if steps is None:
            scheduler = (None, None)
        else:
            scheduler = (bind_schedule(steps), steps)
            self.log.info(
                "Option LearningRateSchedule: Set learning rate during training: %s",
                opts.LearningRateSchedule,
            )

        calls = {"called": 0, "saved": 0}
        seen_val: list[float] = []
        writer = is_writer()  # under torch.distributed only rank 0 writes the trained model
        record = model_record(self.context, self.method_type.type_name, self.title)
        save_best: Callable[..., Any] | None = None
        if opts.SaveBestOnly:

            def save_best(model: Any, curr_val: Any, best_val: Any, save_path: str = path) -> Any:
                """Save ``model`` (scripted, atomically) to ``save_path`` if ``curr_val <= best_val``.

                Under ``torch.distributed`` only rank 0 writes; other ranks keep the best value only.
                """
                calls["called"] += 1
                seen_val.append(float(curr_val))
                if curr_val <= best_val:
                    best_val = curr_val
                    if writer:
                        self._save_model(model, save_path, record)
                    calls["saved"] += 1
                return best_val

            self.log.info(
                "Option SaveBestOnly: Only model weights with smallest validation loss will be stored"
            )

        fit = objs.fit
        history: list[dict[str, float]] = []
        extra: dict[str, Any] = {"history": history} if _is_ready_made_train(fit) else {}
        try:
            # pymva.pytorch.train draws its epoch bar as the Factory's DrawProgressBar asks
            with progress_requested(self.context.draw_progress_bar):
                trained = fit(
                    self.model_,
                    train_loader,
                    val_loader,
                    num_epochs=opts.NumEpochs,
                    batch_size=opts.BatchSize,
                    optimizer=objs.optimizer,
                    criterion=objs.criterion,
                    save_best=save_best,
                    scheduler=scheduler,
                    **extra,
                )
        except Exception as exc:
            name = getattr(fit, "__qualname__", repr(fit))
            raise ModelError(
                f"Failed to train model: train_func {name} raised {type(exc).__name__}: {exc}"
            ) from exc

        if not writer:
            # pymva.pytorch.train calls save_best on rank 0 only; rank 0 checks and writes the model
            self.training_history = _training_history(history, seen_val)
            self.log.info(
                "torch.distributed rank %d: the trained model is written by rank 0, not here",
                process_rank()[0],
            )
            self._predict_model = None
            self._objects = None
            return
        if not opts.SaveBestOnly:
            self._check_returned_model(trained, fit)
            self._save_model(trained, path, record)
            self.log.info("Trained model written to file: %s", path)
        elif calls["called"] == 0:
            raise ModelError(
                f"The training loop never called save_best, so no trained model was written to {path}. "
                "With SaveBestOnly (the default) the loop must call best_val = save_best(model, val_loss, "
                "best_val) after each epoch, as the tutorials do; or book the method with "
                "SaveBestOnly=False to save the model train_func returns."
            )
        elif calls["saved"] == 0:
            raise ModelError(
                f"save_best was called {calls['called']} times but never saved (curr_val <= best_val was "
                f"never true), so no trained model was written to {path}. Initialise best_val with the "
                "first epoch's validation loss before the first call, as the tutorials do."
            )
        self.training_history = _training_history(history, seen_val)
        beside = self.beside_weights_path()
        if self.context.model_persistence and os.path.abspath(path) != os.path.abspath(beside):
            # the copy beside the weights file, named after the job, is the one the Reader reads
            copy_file_atomically(path, beside)
            self.log.info("Trained model copied beside the weights file: %s", beside)
        # testing uses the model reloaded from the file (the best epoch with SaveBestOnly), as in TMVA
        self._predict_model = None
        self._objects = None

    def _check_returned_model(self, trained: Any, fit: Any) -> None:
        """With ``!SaveBestOnly``: what ``train_func`` returned must be a model for these variables."""
        import torch

        name = getattr(fit, "__qualname__", repr(fit))
        if trained is None:
            raise ModelError(
                "Failed to train model: train_func returned None; with SaveBestOnly=False it must return "
                "the trained model, which is scripted and written to FilenameTrainedModel"
            )
        if not isinstance(trained, torch.nn.Module):
            raise ModelError(
                f"Failed to train model: train_func {name} returned a {type(trained).__name__}, not a "
                "torch.nn.Module; with SaveBestOnly=False it must return the trained model"
            )
        if trained is not self.model_:
            self.log.info(
                "train_func %s returned another model than the one it was given: saving that one", name
            )
        try:
            check_input_size(trained, self.context.n_variables, "returned by train_func")
        except ModelError as exc:
            raise ModelError(f"Failed to train model: the model train_func {name} returned: {exc}") from exc

    # ------------------------------------------------------------------ application
    def add_weights_xml(self, parent: Any) -> None:
        """``<Weights ModelFile="<job>_<title>.TrainedModel.pt" Format="TorchScript"/>`` (``.pt2`` and
        ``Format="Export"`` with ``ModelFormat=Export``).

        TMVA's MethodPyTorch writes nothing here (and ignores the element when it reads): the name
        says which file beside the weights file holds the trained model.
        """
        parent.set("ModelFile", self.beside_weights_path().name)
        parent.set("Format", self.model_format)

    def _resolve_trained_file(self, weights: Any) -> Path:
        """The trained model a weights file names (see :meth:`read_weights_xml`)."""
        ctx = self.context
        name = self.options.FilenameTrainedModel
        if name and ctx.caller_set("FilenameTrainedModel"):
            return Path(name)
        base = ctx.model_dir if ctx.model_dir is not None else Path(ctx.weight_dir)
        recorded = weights.get("ModelFile") if weights is not None else None
        if recorded is None:  # written by TMVA or an older pymva: the stored option
            recorded = name or f"TrainedModel_{self.title}.pt"
        source = ctx.weights_source or str(base / f"{ctx.job_name}_{self.title}.weights.xml")
        return resolve_reference(
            recorded, base, what="trained PyTorch model", option="FilenameTrainedModel", source=source
        )

    def read_weights_xml(self, weights: Any) -> None:
        """Load and check the trained model the weights file names.

        The file is ``FilenameTrainedModel`` when the *caller* set it (the Factory's booking or a
        ``Reader.BookMVA`` keyword); otherwise the ``ModelFile`` of ``<Weights>`` (files written by
        TMVA or an older pymva: the stored ``FilenameTrainedModel``), looked for only inside the
        weights file's directory.  The archive's record must name the file's variables, classes and
        targets, and one row of zeros must pass through the model.  ``predict_func`` is taken at the
        first prediction (the dict may be defined after ``BookMVA``).

        Raises
        ------
        ModelError
            For a reference outside the directory, a missing file, a file that is not TorchScript, a
            record of another training, or a model that does not take one input per variable.
        """
        super().read_weights_xml(weights)
        self._check_shape()
        self._predict_model = None
        self._objects = None
        self._trained_file = None
        recorded_format = weights.get("Format") if weights is not None else None
        self._stored_format = "Export" if recorded_format == "Export" else "TorchScript"
        path = self._resolve_trained_file(weights)
        records: dict[str, Any] = {}
        model = self._load_model(path, records)
        check_model_record(records.get("record"), self.context, path, self.log)
        check_input_size(model, self.context.n_variables, path)
        self.log.info("Loaded model from file: %s", path)
        self._trained_file = path
        self._predict_model = model

    def _load_for_prediction(self) -> Any:
        self._apply_threads()
        if self._objects is None:
            self._objects = self._prediction_objects(self._run_user_code())
        if self._predict_model is None:
            self._check_shape()
            path = self.trained_model_path
            model = self._load_model(path)
            check_input_size(model, self.context.n_variables, path)
            self.log.info("Loaded model from file: %s", path)
            self._predict_model = model
        return self._predict_model

    def _predict(self, X: F32) -> F32:
        if self._predict_model is None or self._objects is None:
            self._load_for_prediction()
        model = self._predict_model
        assert self._objects is not None
        predict = self._objects.predict
        if not callable(predict):
            raise ModelError(
                f"predict_func in {_DICT_NAME} is {predict!r}, not a function: evaluation needs the "
                "prediction function predict_func(model, X) (e.g. pymva.pytorch.predict)"
            )
        try:
            out = predict(model, X)
        except Exception as exc:
            name = getattr(predict, "__qualname__", repr(predict))
            raise ModelError(
                f"Failed to evaluate model: predict_func {name} raised {type(exc).__name__}: {exc} "
                f"(called with the model and X of shape {X.shape}, float32)"
            ) from exc
        return self._check_prediction(out, len(X))

    def mva_event_function(self) -> Callable[[list[float]], float] | None:
        """Per-event forward pass for the Reader, with the ready-made ``predict_func`` only.

        The model is loaded (thread limits applied) and put in eval mode once; each call writes the
        event into a preallocated ``(1, n_variables)`` float32 tensor and runs the forward pass
        under ``torch.inference_mode()`` — what :func:`pymva.pytorch.predict` does for one event,
        without switching modes or converting arrays each time.  ``None`` with a ``predict_func`` of
        the user's own (the Reader then calls it on a one-row array), or a model not on the CPU.
        """
        from .. import pytorch as ready_made

        model = self._load_for_prediction()
        assert self._objects is not None
        if self._objects.predict is not ready_made.predict:
            return None
        import torch

        if ready_made._model_device(model).type != "cpu":
            return None
        model.eval()
        buffer = np.zeros((1, self.context.n_variables), dtype=np.float32)
        xt = torch.from_numpy(buffer)
        row = buffer[0]
        inference = torch.inference_mode
        binary = self.context.analysis_type == EAnalysisType.kClassification
        column = self.context.signal_class
        n_out = self.context.n_outputs

        f32 = np.float32

        def pytorch_event(x: list[float]) -> float:
            row[:] = x
            with inference():
                out = model(xt)
            shape = out.shape
            if shape == (1, n_out):  # one tolist() is cheaper than indexing the tensor
                return float(f32(out.tolist()[0][column]))  # rounded to float32 as the array path
            if binary and shape == (1, 1):
                return float(f32(out.tolist()[0][0]))
            self._check_prediction(out, 1)  # raises, naming the shape
            raise ModelError(f"method {self.method_name}: unexpected prediction shape {tuple(out.shape)}")

        return pytorch_event

    def _check_prediction(self, out: Any, n_events: int) -> F32:
        """The prediction as float32 ``(n_events, n_outputs)``; a one-column binary score is widened.

        A binary classifier's single column ``s`` (the signal score) becomes two columns: ``s`` in
        the signal class's column and ``1 - s`` in the other, so that the MVA value is ``s``.
        """
        ctx = self.context
        n_out = ctx.n_outputs
        binary = ctx.analysis_type == EAnalysisType.kClassification
        expected = f"expected a float numpy array of shape (n_events, n_outputs) = ({n_events}, {n_out})"
        if binary:
            expected += f" or, for a network with one output column (the signal score), ({n_events}, 1)"
        if _is_tensor(out):
            out = out.detach().cpu().numpy()
        if not isinstance(out, np.ndarray):
            raise ModelError(f"predict_func returned {type(out).__name__}; {expected}")
        if out.shape != (n_events, n_out) and not (binary and out.shape == (n_events, 1)):
            raise ModelError(f"predict_func returned an array of shape {out.shape}; {expected}")
        if not np.issubdtype(out.dtype, np.floating):
            raise ModelError(f"predict_func returned an array of dtype {out.dtype}; {expected}")
        if out.shape[1] == 1 and n_out == 2:
            score = out[:, 0].astype(np.float32)
            wide = np.empty((n_events, 2), np.float32)
            wide[:, ctx.signal_class] = score
            wide[:, 1 - ctx.signal_class] = 1.0 - score
            return wide
        return np.ascontiguousarray(out, dtype=np.float32)


def _is_ready_made_train(fit: Any) -> bool:
    """Whether ``fit`` is :func:`pymva.pytorch.train` (also inside ``functools.partial``) with no
    ``history`` of its own: then the method passes ``history=`` to record the per-epoch losses."""
    from .. import pytorch as ready_made

    while isinstance(fit, functools.partial):
        if "history" in fit.keywords:
            return False
        fit = fit.func
    return fit is ready_made.train


def _training_history(
    history: list[dict[str, float]], seen_val: list[float]
) -> dict[str, list[tuple[int, float]]]:
    """The training history in TMVA's ``MethodDL`` form (``TrainingHistory::AddValue``).

    From :func:`pymva.pytorch.train`'s per-epoch records: ``trainingError`` and ``valError`` per
    1-based epoch.  From any other loop only the validation losses it passed to ``save_best``, one
    per call (``valError``, stages 1, 2, …); nothing without ``save_best``.
    """
    if history:
        return {
            "trainingError": [(int(h["epoch"]), float(h["train_loss"])) for h in history],
            "valError": [(int(h["epoch"]), float(h["val_loss"])) for h in history],
        }
    if seen_val:
        return {"valError": [(i + 1, v) for i, v in enumerate(seen_val)]}
    return {}


def _is_tensor(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)
