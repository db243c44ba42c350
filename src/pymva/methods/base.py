"""``MethodBase``: what every method plugin shares, and the registry of method types.

A method plugin only sees arrays and options (``../shared/tmva/core.md`` §2.2–§2.4):

* it is created with a title, a :class:`MethodContext` (job and loader names, weight directory,
  analysis type, variable/target/spectator descriptions, class names) and its option string;
* :meth:`MethodBase.train` receives the training :class:`~pymva.data.dataset.Sample`, fits the method's
  ``VarTransform`` chain on it and hands the transformed arrays to the subclass's :meth:`_train`;
* :meth:`MethodBase.evaluate` applies the chain to any sample and returns the responses
  (classification: the signal-class output; multiclass: one column per class; regression: one
  column per target, passed back through the inverse target transforms);
* the weights file (:mod:`pymva.io.weights`) stores the options and the fitted chain, plus what
  :meth:`MethodBase.add_weights_xml` adds; :meth:`MethodBase.read_weights_xml` reads it back.

Subclasses register themselves with :func:`pymva.methods.registry.register_method`.
"""

from __future__ import annotations

import abc
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample, VariableInfo
from ..errors import ModelError, NotTrainedError
from ..logger import get_logger
from ..options import _INDEXED, OptionDecl, OptionsBase, option, parse_option_string
from ..types import EMVA, EAnalysisType
from .mva_pdfs import MVAPdfs, mva_pdf_settings
from .pdf import PDFSettings

__all__ = [
    "BaseMethodOptions",
    "MethodBase",
    "MethodContext",
]

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class BaseMethodOptions(OptionsBase):
    """Options every method accepts (TMVA ``MethodBase::DeclareBaseOptions``, core.md §2.2).

    Reader-only compatibility options of TMVA (``Normalise``, ``D``, ``VarTransformType``,
    ``TxtWeightFilesOnly``) are not declared: they are rejected as unknown.
    """

    V: bool = option(False, "Verbose output (short form of VerbosityLevel=Verbose)")
    VerbosityLevel: str = option(
        "Default",
        "Verbosity level",
        allowed=("Default", "Debug", "Verbose", "Info", "Warning", "Error", "Fatal"),
    )
    VarTransform: str = option("None", "List of variable transformations performed before training, e.g. D,G")
    H: bool = option(False, "Print method-specific help message")
    CreateMVAPdfs: bool = option(False, "Create PDFs for classifier outputs (signal and background)")
    IgnoreNegWeightsInTraining: bool = option(
        False, "Events with negative weights are ignored in the training (but are included for testing)"
    )
    NbinsMVAPdf: int = option(60, "Number of bins used for the PDFs of classifier outputs")
    NsmoothMVAPdf: int = option(2, "Number of smoothing iterations for classifier PDFs")


def _mva_pdf_declarations() -> tuple[OptionDecl, ...]:
    """Options of the response PDFs that ``CreateMVAPdfs`` makes a method read (TMVA ``PDF::DeclareOptions``).

    TMVA declares them with the suffixes ``MVAPdf``, ``MVAPdfBkg`` and ``MVAPdfSig``
    (``PDFInterpolMVAPdf=Spline2``); ``NbinsMVAPdf`` and ``NsmoothMVAPdf`` are base options already.
    """
    decls = []
    for suffix in ("MVAPdf", "MVAPdfBkg", "MVAPdfSig"):
        for name, tp, default, allowed in (
            ("NSmooth", int, 0, None),
            ("MinNSmooth", int, -1, None),
            ("MaxNSmooth", int, -1, None),
            ("NAvEvtPerBin", int, 50, None),
            ("Nbins", int, 0, None),
            ("CheckHist", bool, False, None),
            ("PDFInterpol", str, "Spline2", ("Spline0", "Spline1", "Spline2", "Spline3", "Spline5", "KDE")),
            ("KDEtype", str, "Gauss", ("Gauss",)),
            ("KDEiter", str, "Nonadaptive", ("Nonadaptive", "Adaptive")),
            ("KDEFineFactor", float, 1.0, None),
            ("KDEborder", str, "None", ("None", "Renorm", "Mirror")),
        ):
            if suffix == "MVAPdf" and name in ("NSmooth", "Nbins"):
                continue  # NsmoothMVAPdf, NbinsMVAPdf: declared by BaseMethodOptions
            decls.append(
                OptionDecl(
                    f"{name}{suffix}",
                    tp,
                    default,
                    "Option of the response PDFs (TMVA PDF::DeclareOptions)",
                    allowed,
                )
            )
    return tuple(decls)


_MVA_PDF_DECLS = _mva_pdf_declarations()
_MVA_PDF_NAMES = frozenset(d.name.lower() for d in _MVA_PDF_DECLS)


def _is_mva_pdf_option(token: str) -> bool:
    name = token.strip().lstrip("!").partition("=")[0]
    return _INDEXED.sub(r"\1", name).strip().lower() in _MVA_PDF_NAMES


@dataclass(frozen=True)
class MethodContext:
    """Everything a method may know about the job, without any access to trees or files of data.

    Attributes
    ----------
    job_name : str
        The Factory's job name (first part of the weights-file name).
    dataset_name : str
        The DataLoader name.
    analysis_type : EAnalysisType
    variables, targets, spectators : tuple of VariableInfo
    class_names : tuple of str
        In class-index order.
    weight_dir : Path
        ``<dataset_name>/weights``: where the method writes its files.
    draw_progress_bar : bool
        The Factory's ``DrawProgressBar`` and not ``Silent``.
    verbose : bool
        The Factory's ``V``.
    model_persistence : bool
        The Factory's ``ModelPersistence``: whether the method may write its trained model to files
        (TMVA ``MethodBase::IsModelPersistence``); always true in the Reader.
    model_dir : Path or None
        ``None`` when the script booked the method (the Factory): its options are the caller's and
        the files they name are used as given.  Otherwise the directory of the weights file the
        method was re-created from: a model file that the *file* names resolves only inside this
        directory (:func:`pymva.methods.modelfiles.resolve_reference`).
    trusted_options : frozenset of str
        With ``model_dir``: the options the caller passed itself (``Reader.BookMVA`` keywords, the
        Factory's booking string on its reload), used as given.
    allow_pickle : bool
        The caller's explicit opt-in (``Reader`` option ``AllowPickle``) to read model files that are
        Python pickles, which run code while they are read.  Never read from a file.
    weights_source : str
        The weights file the method was re-created from (``"<string>"`` for XML text), for messages.
    """

    job_name: str
    dataset_name: str
    analysis_type: EAnalysisType
    variables: tuple[VariableInfo, ...]
    class_names: tuple[str, ...]
    targets: tuple[VariableInfo, ...] = ()
    spectators: tuple[VariableInfo, ...] = ()
    weight_dir: Path = field(default_factory=lambda: Path("dataset/weights"))
    draw_progress_bar: bool = False
    verbose: bool = False
    model_persistence: bool = True
    model_dir: Path | None = None
    trusted_options: frozenset[str] = frozenset()
    allow_pickle: bool = False
    weights_source: str = ""

    def caller_set(self, option_name: str) -> bool:
        """Whether ``option_name`` holds a value the caller gave (always, for a method the script booked)."""
        return self.model_dir is None or option_name in self.trusted_options

    @property
    def n_variables(self) -> int:
        """Number of input variables."""
        return len(self.variables)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    @property
    def n_targets(self) -> int:
        """Number of regression targets."""
        return len(self.targets)

    @property
    def signal_class(self) -> int:
        """Index of the class named ``Signal`` (0 if there is none)."""
        return self.class_names.index("Signal") if "Signal" in self.class_names else 0

    @property
    def n_outputs(self) -> int:
        """Columns of the method's raw output: targets for regression, classes otherwise."""
        if self.analysis_type == EAnalysisType.kRegression:
            return self.n_targets
        return self.n_classes


class MethodBase(abc.ABC):
    """Base class of every method plugin.

    Parameters
    ----------
    title : str
        The method title given at booking (``"PyTorch"``); names files, branches and histograms.
    context : MethodContext
        Job, loader, variables and classes.
    options : str
        TMVA option string (base options and the method's own).
    **kwargs
        Options as keyword arguments (equivalent to tokens, applied after ``options``).

    Attributes
    ----------
    options : OptionsBase
        The parsed, frozen options (a subclass of :class:`BaseMethodOptions`).
    transformations : TransformationHandler
        The ``VarTransform`` chain; fitted by :meth:`train` or read from the weights file.
    training_time_ : float
        Seconds spent in :meth:`_train` (set by training).
    n_training_events_ : int
        Number of training events (set by training).

    Raises
    ------
    OptionError
        From option parsing, naming the method and the offending tokens.
    """

    #: The ``Types`` member this class implements.
    method_type: ClassVar[EMVA]
    #: The method's options dataclass (derives from :class:`BaseMethodOptions`).
    Options: ClassVar[type[BaseMethodOptions]] = BaseMethodOptions
    #: Text printed when the ``H`` option is on.
    help_text: ClassVar[str] = ""
    #: Lower-case names of options that TMVA accepts in weights files only (its
    #: ``DeclareCompatibilityOptions``); the weights-file reader skips them.
    compatibility_options: ClassVar[frozenset[str]] = frozenset()
    #: Options that name code to run (MethodPyTorch's ``UserCode``).  A weights file never sets them:
    #: when the method is re-created from a file their stored values are dropped, and only a value
    #: the caller passes (``Reader.BookMVA(..., UserCode=...)``, the Factory's booking) applies.
    code_options: ClassVar[tuple[str, ...]] = ()
    #: Options that name model files (``FilenameTrainedModel``, ``FilenameClassifier``).  The caller
    #: may pass them to ``Reader.BookMVA`` to load a file from where it chooses; stored in a weights
    #: file they resolve only inside the file's own directory.
    file_options: ClassVar[tuple[str, ...]] = ()
    #: Whether :meth:`_train_stream` gets this rank's shard of the events (``torch.distributed``:
    #: :meth:`train_stream` with ``shard_source``) rather than all of them.
    stream_sharded: bool = False

    #: Whether the method trains from chunks of events (:meth:`train_stream`, for loaders with
    #: ``Streaming=True``); the others need all training events at once.
    supports_streaming: ClassVar[bool] = False

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        from ..transforms import TransformationHandler

        self.title = title
        self.context = context
        self.log = get_logger(title, f"pymva.method.{self.method_type.type_name}")
        component = f"method {self.method_type.type_name} ('{title}')"
        # the options of the response PDFs are read only with CreateMVAPdfs, as TMVA's
        # ProcessBaseOptions reads them only then
        tokens = [t for t in str(options).split(":") if t.strip()]
        pdf_tokens = [t for t in tokens if _is_mva_pdf_option(t)]
        pdf_kwargs = {k: v for k, v in kwargs.items() if _is_mva_pdf_option(k)}
        options_cls = self.options_class(context)
        self.options: BaseMethodOptions = options_cls.parse(
            ":".join(t for t in tokens if not _is_mva_pdf_option(t)),
            component=component,
            **{k: v for k, v in kwargs.items() if k not in pdf_kwargs},
        )
        pdf_values: dict[str, Any] = {}
        pdf_modified: frozenset[str] = frozenset()
        if pdf_tokens or pdf_kwargs:
            if not self.options.CreateMVAPdfs:
                options_cls.parse(options, component=component, **kwargs)  # TMVA: unknown options
            pdf_values, pdf_modified = parse_option_string(
                _MVA_PDF_DECLS, ":".join(pdf_tokens), pdf_kwargs, component=f"{component} (MVA PDFs)"
            )
        #: The settings of the signal and background response PDFs (``CreateMVAPdfs``).
        self.mva_pdf_settings_: tuple[PDFSettings, PDFSettings] | None = None
        if self.options.CreateMVAPdfs:
            base_modified = self.options.modified_options & {"NbinsMVAPdf", "NsmoothMVAPdf"}
            pdf_values = dict(pdf_values)
            pdf_values["NbinsMVAPdf"] = self.options.NbinsMVAPdf
            pdf_values["NSmoothMVAPdf"] = self.options.NsmoothMVAPdf
            modified = pdf_modified | {
                {"NbinsMVAPdf": "NbinsMVAPdf", "NsmoothMVAPdf": "NSmoothMVAPdf"}[m] for m in base_modified
            }
            self.mva_pdf_settings_ = mva_pdf_settings(
                pdf_values, frozenset(modified), f"{component} (MVA PDFs)"
            )
        #: The response PDFs (TMVA ``fMVAPdfS``/``fMVAPdfB``): built at training with ``CreateMVAPdfs``,
        #: read from a weights file's ``<MVAPdfs>``; ``None`` without.
        self.mva_pdfs: MVAPdfs | None = None
        self.transformations = TransformationHandler.parse(
            self.options.VarTransform,
            variables=context.variables,
            targets=context.targets,
            spectators=context.spectators,
            class_names=context.class_names,
            method_title=title,
        )
        self.training_time_: float | None = None
        self.n_training_events_: int | None = None
        #: ``GeneralInfo`` of the weights file the method was read from (empty after training).
        self.general_info_: dict[str, str] = {}
        #: Values recorded during training, per property, as (stage, value) pairs in the order
        #: recorded (TMVA ``MethodBase::fTrainHistory``, ``TrainingHistory::AddValue``), e.g.
        #: ``{"trainingError": [(1, 0.31), (2, 0.27)], "valError": [...]}`` with 1-based epochs;
        #: the output file holds one ``TrainingHistory_<title>_<property>`` TH1D per property.
        self.training_history: dict[str, list[tuple[int, float]]] = {}
        self._trained = False

    @classmethod
    def options_class(cls, context: MethodContext) -> type[BaseMethodOptions]:
        """The options dataclass for this job (default: :attr:`Options`).

        Methods whose TMVA declarations have analysis-type dependent defaults (BDT for regression)
        override this.
        """
        return cls.Options

    # ------------------------------------------------------------------ capabilities
    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Whether the method handles this analysis type (TMVA ``HasAnalysisType``).

        Default: classification with 2 classes only.
        """
        return analysis_type == EAnalysisType.kClassification and n_classes == 2

    @property
    def method_name(self) -> str:
        """``"<Type>::<Title>"`` as in the weights file's ``Method`` attribute."""
        return f"{self.method_type.type_name}::{self.title}"

    @property
    def uses_spectators(self) -> bool:
        """Whether the method reads the spectators too (default: no).

        Such a method (``MethodCrossValidation`` with a split expression) receives, wherever it is
        applied, one array of ``n_variables + n_spectators`` columns: the variables, then the
        spectators, in declaration order.
        """
        return False

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Prepare the method after booking (TMVA ``ProcessOptions``); default: nothing."""

    def caller_code_options(self) -> dict[str, Any]:
        """The values of :attr:`code_options` that are the caller's (for the Factory's reload).

        A method the script booked returns its own values; a method re-created from a weights file
        only those the caller passed, never a value read from the file.
        """
        return {
            name: getattr(self.options, name) for name in self.code_options if self.context.caller_set(name)
        }

    # ------------------------------------------------------------------ training
    def train(self, sample: Sample) -> None:
        """Fit the ``VarTransform`` chain on ``sample`` and train the method on the result.

        With ``IgnoreNegWeightsInTraining`` negative weights read as 0 for both steps, as in TMVA
        (``Event::SetIsTraining`` precedes ``CalcTransformations``, core.md §3.5).

        Parameters
        ----------
        sample : Sample
            The training events of the DataSet (TMVA order, NormMode-renormalised weights).

        Raises
        ------
        ModelError
            From the method's own training.
        """
        import time

        if self.options.H and self.help_text:
            self.print_help()
        if self.options.IgnoreNegWeightsInTraining:
            # TMVA's Event::SetIsTraining comes before CalcTransformations: the weighted transforms
            # (Decorrelate, Gauss/Uniform) are fitted with negative weights read as 0 as well
            weights = np.where(sample.weights < 0, np.float32(0), sample.weights).astype(np.float32)
            sample = sample.replace(weights=weights)
        transformed = self.transformations.fit_transform(sample)  # the chain applied once
        start = time.perf_counter()
        self.training_history = {}
        self._train(transformed)
        self.training_time_ = time.perf_counter() - start
        self.n_training_events_ = len(sample)
        self._trained = True
        self._create_mva_pdfs(sample)
        self.log.info("Elapsed time for training with %d events: %.3g sec", len(sample), self.training_time_)

    def _create_mva_pdfs(self, sample: Sample) -> None:
        """TMVA ``MethodBase::CreateMVAPdfs`` after training, on the training sample (classification).

        The weights are the training weights the method saw (negative ones read as 0 with
        ``IgnoreNegWeightsInTraining``: TMVA's events are still in training mode then).
        """
        self.mva_pdfs = None
        if self.mva_pdf_settings_ is None or self.context.analysis_type != EAnalysisType.kClassification:
            return
        if self.uses_spectators:
            X = np.ascontiguousarray(np.hstack([sample.X, sample.spectators]), dtype=np.float32)
        else:
            X = sample.X
        responses = self.mva_value(X)
        s = self.mva_pdf_settings_[0]
        self.log.info(
            "<CreateMVAPdfs> Using %d bins and smooth %d times",
            s.hist_nbins(len(sample), f"method {self.method_name}, MVA PDF Sig"),
            s.nsmooth,
        )
        self.mva_pdfs = MVAPdfs.build(
            self.title,
            self.method_type.type_name,
            responses,
            sample.weights,
            sample.class_id == self.context.signal_class,
            self.mva_pdf_settings_,
        )

    def train_stream(
        self,
        source: Callable[[], Iterable[Sample]],
        n_events: int,
        shard_source: Callable[[], Iterable[Sample]] | None = None,
    ) -> None:
        """Train from chunks of training events read again at every pass (pymva extension).

        As :meth:`train`, in bounded memory: the ``VarTransform`` chain is fitted chunk by chunk
        (:meth:`~pymva.transforms.TransformationHandler.fit_streaming`), then :meth:`_train_stream`
        reads the transformed chunks.

        Parameters
        ----------
        source : callable
            ``source()`` returns a fresh iterable of training chunks (TMVA's renormalised weights),
            the same events in the same order at every call.
        n_events : int
            Number of training events in the stream.
        shard_source : callable, optional
            Under ``torch.distributed``: this rank's disjoint shard of ``source`` (only its chunks of
            entries are read).  The transformations are still fitted on ``source`` (the same
            parameters on every rank); the method trains on the shard (:attr:`stream_sharded`).

        Raises
        ------
        OptionError
            For a method that needs all events at once (:attr:`supports_streaming` false) or a
            transformation without a streaming fit.
        ModelError
            From the method's own training.
        """
        import time

        from ..errors import OptionError

        if not self.supports_streaming:
            raise OptionError(
                f"method {self.method_name} needs all training events at once and cannot train from a "
                "loader with Streaming=True; book it on a loader with Streaming=False"
            )
        if self.options.H and self.help_text:
            self.print_help()
        ignore_negative = self.options.IgnoreNegWeightsInTraining

        raw = _TrainingChunks(source, ignore_negative)
        self.transformations.fit_streaming(raw)

        self.stream_sharded = shard_source is not None
        training = _TrainingChunks(shard_source, ignore_negative) if shard_source is not None else raw

        def transformed() -> Iterator[Sample]:
            for chunk in training():
                yield self.transformations.transform(chunk)

        start = time.perf_counter()
        self.training_history = {}
        self._train_stream(transformed, n_events)
        self.training_time_ = time.perf_counter() - start
        self.n_training_events_ = n_events
        self._trained = True
        self.mva_pdfs = None
        if self.mva_pdf_settings_ is not None:
            self.log.warning(
                "CreateMVAPdfs: the response PDFs are not built when training from a stream "
                "(Streaming=True); Reader.GetProba returns -1 and GetRarity 0 for this method"
            )
        self.log.info("Elapsed time for training with %d events: %.3g sec", n_events, self.training_time_)

    def _train_stream(self, source: Callable[[], Iterable[Sample]], n_events: int) -> None:
        """Train on transformed chunks (only for methods with :attr:`supports_streaming`)."""
        raise NotImplementedError

    @abc.abstractmethod
    def _train(self, sample: Sample) -> None:
        """Train on transformed training events (weights already adjusted)."""

    # ------------------------------------------------------------------ application
    @abc.abstractmethod
    def _predict(self, X: F32) -> F32:
        """Raw outputs for transformed inputs.

        Parameters
        ----------
        X : ndarray of float32, shape (n_events, n_variables)

        Returns
        -------
        ndarray of float32, shape (n_events, n_outputs)
            ``n_outputs`` = number of classes (classification, multiclass) or targets (regression),
            regression targets in the transformed space.
        """

    def raw_outputs(self, X: F32) -> F32:
        """Apply the transforms to untransformed inputs ``X`` and return :meth:`_predict`'s output."""
        Xt = self.transformations.transform_variables(np.ascontiguousarray(X, dtype=np.float32))
        out = np.asarray(self._predict(Xt))
        n_out = self.context.n_outputs
        if out.ndim != 2 or out.shape[0] != len(X) or out.shape[1] != n_out:
            raise ModelError(
                f"method {self.method_name}: the prediction has shape {out.shape}, expected "
                f"(n_events, n_outputs) = ({len(X)}, {n_out})"
            )
        return out.astype(np.float32, copy=False)

    def evaluate(self, X: F32) -> F32:
        """Responses for untransformed input variables, as the Factory stores them.

        Parameters
        ----------
        X : ndarray of float32, shape (n_events, n_variables)

        Returns
        -------
        ndarray of float32
            Classification: shape (n_events,), the output column of the signal class.
            Multiclass: shape (n_events, n_classes).
            Regression: shape (n_events, n_targets), through the inverse target transforms.
        """
        out = self.raw_outputs(X)
        at = self.context.analysis_type
        if at == EAnalysisType.kClassification:
            return np.ascontiguousarray(out[:, self.context.signal_class])
        if at == EAnalysisType.kRegression:
            return self.transformations.inverse_targets(out)
        return out

    def mva_value(self, X: F32) -> F32:
        """TMVA's ``GetMvaValue`` for many events: the signal-class output, raw output 0 for regression."""
        out = self.raw_outputs(X)
        if self.context.analysis_type == EAnalysisType.kClassification:
            return np.ascontiguousarray(out[:, self.context.signal_class])
        return np.ascontiguousarray(out[:, 0])

    def mva_event_function(self) -> Callable[[list[float]], float] | None:
        """The per-event MVA value from one event's *transformed* variables, prepared once.

        For the Reader's event loop (classification): the function takes the transformed values as
        Python floats and returns the signal-class output as :meth:`_predict` gives it for that
        event alone.  ``None`` (the default): the Reader calls :meth:`_predict` on a one-row array.
        """
        return None

    def cut_efficiencies(self, test: Sample, train: Sample) -> dict[str, Any] | None:
        """The inputs of TMVA's cut-based evaluation, or ``None`` for response-based evaluation.

        ``None`` (the default): the Factory evaluates the responses
        (:func:`pymva.evaluation.evaluate_classification`).  A method whose TMVA class overrides
        ``MethodBase::GetEfficiency``/``GetTrainingEfficiency`` (``MethodCuts``) returns the
        keyword arguments of :func:`pymva.evaluation.cuts.evaluate_cuts` that only it knows:
        ``test_efficiencies`` and ``train_efficiencies`` (each a pair of float64 arrays of shape
        ``(nbins,)``: signal and background efficiency of each optimised cut) and
        ``eff_b_local`` (float64 array ``(nbins,)`` or ``None``); the Factory adds the responses
        and weights and calls the evaluation.  The method itself never imports the evaluation layer.
        """
        return None

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:  # noqa: B027 - optional hook
        """Write method-specific content into the weights file's ``<Weights>`` element (default: none)."""

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read back what :meth:`add_weights_xml` wrote; marks the method as trained."""
        self._trained = True

    def check_trained(self) -> None:
        """Raise :class:`NotTrainedError` unless trained or read from a weights file."""
        if not self._trained:
            raise NotTrainedError(
                f"method {self.method_name} has not been trained yet; call TrainAllMethods()"
            )

    # ------------------------------------------------------------------ ranking and help
    ranking_criterion: ClassVar[str] = ""

    def ranking(self) -> list[tuple[str, float]] | None:
        """Variable ranking as ``(variable label, value)`` best first, or ``None`` (default)."""
        return None

    def print_help(self) -> None:
        """Log the help text as TMVA does for the ``H`` option."""
        self.log.info("%s", self.help_text)
        self.log.info('<Suppress this message by specifying "!H" in the booking option>')

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.method_name!r}>"


logging.getLogger("pymva.method").addHandler(logging.NullHandler())


def _zero_negative_weights(chunk: Sample) -> Sample:
    """``IgnoreNegWeightsInTraining``: negative weights set to 0 (float32)."""
    return chunk.replace(weights=np.where(chunk.weights < 0, np.float32(0), chunk.weights).astype(np.float32))


class _TrainingChunks:
    """The training chunks a method sees from a stream (``IgnoreNegWeightsInTraining`` applied).

    Called, a fresh iterator of the chunks.  When the stream offers ``map(fn)`` (the chunks read on
    Dask workers, :meth:`pymva.data.stream.StreamedDataSet.map_chunks`), so does this, with the
    weights adjusted first, where the chunk is.
    """

    def __init__(self, source: Callable[[], Iterable[Sample]], ignore_negative: bool) -> None:
        self.source = source
        self.ignore_negative = ignore_negative
        if callable(getattr(source, "map", None)):
            self.map = self._map

    def __call__(self) -> Iterator[Sample]:
        for chunk in self.source():
            yield _zero_negative_weights(chunk) if self.ignore_negative else chunk

    def _map(self, fn: Callable[[Sample], Any]) -> Iterator[Any]:
        mapper = self.source.map  # type: ignore[attr-defined]
        return mapper(_AfterZeroNegative(fn) if self.ignore_negative else fn)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _AfterZeroNegative:
    """``fn`` of a chunk with ``IgnoreNegWeightsInTraining`` applied (picklable)."""

    fn: Callable[[Sample], Any]

    def __call__(self, chunk: Sample) -> Any:
        return self.fn(_zero_negative_weights(chunk))
