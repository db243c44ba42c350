"""``Factory``: books, trains, tests and evaluates methods, as TMVA's Factory does.

A TMVA script runs unchanged (``../shared/tmva/core.md`` §2)::

    factory = TMVA.Factory("TMVAClassification", "TMVA.root",
                           "!V:!Silent:Color:DrawProgressBar:Transformations=D,G:AnalysisType=Classification")
    factory.BookMethod(loader, TMVA.Types.kPyTorch, "PyTorch", "H:!V:VarTransform=D,G:...")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()

The Factory owns the job: loaders and the methods booked on them, the responses of every method on
the training and test samples, the evaluation results, the weights files and the output ROOT file.
Methods only see arrays (:mod:`pymva.methods.base`); evaluation is pure numpy
(:mod:`pymva.evaluation`); the output file is written in one go, atomically, at the end of
:meth:`Factory.EvaluateAllMethods` (or by :meth:`Factory.Close`).

The module is longer than most because TMVA's ``Factory`` is one class with the whole job's API
(booking, training, testing, evaluation, ROC access, output); the work itself lives elsewhere.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import evaluation as ev
from .config import Config
from .data.dataset import DataSet, Sample
from .data.stream import StreamedDataSet
from .ddp import is_writer, process_rank
from .errors import DataError, NotTrainedError, OptionError, did_you_mean
from .io.output.layout import write_job_output
from .logger import configure, get_logger, stderr_is_terminal
from .methods.base import MethodBase, MethodContext
from .methods.registry import get_method_class
from .options import OptionsBase, option
from .safety import check_file_stem, check_name, check_output_path
from .types import EMVA, EAnalysisType, ETreeType

if TYPE_CHECKING:
    from .data.loader import DataLoader
    from .io.rootfile import TFile

__all__ = ["Factory", "FactoryOptions"]

F32 = npt.NDArray[np.float32]

_ANALYSIS_TYPES = {
    "Classification": EAnalysisType.kClassification,
    "Regression": EAnalysisType.kRegression,
    "Multiclass": EAnalysisType.kMulticlass,
}


@dataclass(frozen=True)
class FactoryOptions(OptionsBase):
    """Options of the Factory (TMVA ``Factory`` constructor, core.md §2.1), in TMVA's order.

    ``Color`` defaults to whether standard output is a terminal (TMVA: "not batch").
    """

    component_name = "Factory"

    V: bool = option(False, "Verbose flag")
    VerboseLevel: str = option(
        "Info", "VerboseLevel (Debug/Verbose/Info)", allowed=("Debug", "Verbose", "Info")
    )
    Color: bool = option(False, "Flag for coloured screen output (default: True, if in batch mode: False)")
    Transformations: str = option(
        "I", "List of transformations to test; formatting example: Transformations=I;D;P;U;G,D"
    )
    Correlations: bool = option(False, "boolean to show correlation in output")
    ROC: bool = option(True, "boolean to show ROC in output")
    Silent: bool = option(False, "Batch mode: boolean silent flag inhibiting any output from TMVA")
    DrawProgressBar: bool = option(
        True, "Draw progress bar to display training, testing and evaluation schedule"
    )
    ModelPersistence: bool = option(
        True, "Option to save the trained model in xml file or using serialization"
    )
    AnalysisType: str = option(
        "Auto",
        "Set the analysis type (Classification, Regression, Multiclass, Auto)",
        allowed=("Classification", "Regression", "Multiclass", "Auto"),
    )


@dataclass
class MethodRecord:
    """One booked method and what the Factory has learnt about it.

    Attributes
    ----------
    method : MethodBase
        The current method object (re-created from its weights file before testing when
        ``ModelPersistence`` is on).
    loader : DataLoader
    weights_file : Path or None
        Where its weights file was written.
    train_values, test_values : ndarray or None
        Responses on the training and the test sample (shapes as :meth:`MethodBase.evaluate`).
    result : object or None
        The evaluation result (:mod:`pymva.evaluation`), set by ``EvaluateAllMethods``.
    """

    method: MethodBase
    loader: DataLoader
    weights_file: Path | None = None
    trained: bool = False
    train_values: F32 | None = None
    test_values: F32 | None = None
    test_time: float = 0.0
    result: Any = None


class Factory:
    """TMVA's Factory.

    Parameters
    ----------
    jobName : str
        Job name: first part of every weights-file name (``<JobName>_<Title>.weights.xml``).
    outputFile : str, os.PathLike, pymva.io.rootfile.TFile or None
        Path of the output ROOT file (TMVA's ``TFile``), or a :class:`~pymva.io.rootfile.TFile` opened with
        ``TFile.Open(path, "RECREATE")`` (its path is taken; the Factory writes the file itself);
        ``None`` for no output file.  As in TMVA's two-argument form ``Factory(jobName, options)``, a
        string that does not end in ``.root`` and looks like an option string is taken as ``options``.
    options : str
        TMVA option string (see :class:`FactoryOptions`).
    **kwargs
        Options as keyword arguments (``Silent=True``, ``Transformations=["I", "D"]``).

    Raises
    ------
    OptionError
        On options that cannot be interpreted; a ``jobName`` that is not a name
        (:func:`pymva.safety.check_name`: with ``/``, ``\\``, ``..`` or a control character, longer
        than 200 bytes); an ``outputFile`` that is neither a path nor a ``TFile`` opened for
        writing, holds a NUL character, or names a directory or another non-regular file.
    DataError
        If the directory of ``outputFile`` does not exist or no file can be created in it: checked
        here, before any work, not when the file is written at the end of the job.

    Examples
    --------
    >>> factory = Factory("TMVAClassification", options="!V:Silent:AnalysisType=Classification")
    """

    def __init__(
        self,
        jobName: str,
        outputFile: str | os.PathLike[str] | TFile | None = None,
        options: str = "",
        **kwargs: Any,
    ) -> None:
        path: str | os.PathLike[str] | None
        if outputFile is not None and not isinstance(outputFile, (str, os.PathLike)):
            from .io.rootfile import output_file_path

            path = output_file_path(outputFile)  # TFile.Open(name, "RECREATE"): its name
        elif isinstance(outputFile, str) and not options and _looks_like_options(outputFile):
            options, path = outputFile, None
        else:
            path = outputFile
        self.job_name = check_name(jobName, argument="Factory(jobName): the job name", allow_empty=True)
        self.output_path: Path | None = (
            check_output_path(path, argument="Factory(outputFile)") if path is not None else None
        )
        opts = FactoryOptions.parse(options, **kwargs)
        if "Color" not in opts.modified_options:
            # TMVA: coloured output unless in batch mode
            opts = dataclasses.replace(opts, Color=sys.stdout.isatty())
        self.options = opts
        configure(color=self.options.Color, silent=self.options.Silent, verbose=self.options.V)
        # TMVA's Factory hands its options to the global configuration
        config = Config.Instance()
        config.SetDrawProgressBar(self.options.DrawProgressBar)
        config.SetUseColor(self.options.Color)
        config.SetSilent(self.options.Silent)
        self.log = get_logger("Factory", "pymva.factory")
        self._analysis_type: EAnalysisType | None = _ANALYSIS_TYPES.get(self.options.AnalysisType)
        self._methods: dict[str, dict[str, MethodRecord]] = {}
        self._loaders: dict[str, DataLoader] = {}
        # methods that BookMethod skipped (analysis type not supported): loader -> title -> reason
        self._skipped: dict[str, dict[str, str]] = {}
        self._output_written = False
        self._closed = False
        # loaders with Streaming=True: the DataSet without its events, built once per job
        self._streamed: dict[str, tuple[DataLoader, StreamedDataSet]] = {}
        from ._version import __version__

        if self.output_path is None:
            self.log.info("pymva %s: TMVA's Factory without an output file", __version__)

    # ------------------------------------------------------------------ properties
    @property
    def analysis_type(self) -> EAnalysisType | None:
        """The job's analysis type; ``None`` while ``AnalysisType=Auto`` is unresolved."""
        return self._analysis_type

    @property
    def results(self) -> dict[str, dict[str, Any]]:
        """Evaluation results per loader name and method title (after ``EvaluateAllMethods``)."""
        return {
            ln: {t: r.result for t, r in recs.items() if r.result is not None}
            for ln, recs in self._methods.items()
        }

    def _progress(self, iterable: Sequence[Any], desc: str) -> Iterator[Any]:
        """Iterate with a tqdm progress bar when ``DrawProgressBar``, not ``Silent`` and stderr is a terminal.

        While the bar is shown, pymva's log lines go through ``tqdm.write`` so that they do not
        break the bar's line.  In a log file, a pipe or a notebook there is no bar: its redraws
        would leave one copy of the bar per log line there.
        """
        if not self.options.DrawProgressBar or self.options.Silent or not stderr_is_terminal():
            yield from iterable
            return
        import logging

        from tqdm.auto import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        with logging_redirect_tqdm(loggers=[logging.getLogger("pymva")], tqdm_class=tqdm):
            yield from tqdm(iterable, desc=desc, leave=False, unit="method")

    def _records(self) -> Iterator[tuple[str, str, MethodRecord]]:
        for ln in sorted(self._methods, key=lambda s: s.encode()):
            for title, rec in self._methods[ln].items():
                yield ln, title, rec

    # ------------------------------------------------------------------ booking
    def _resolve_analysis_type(self, loader: DataLoader) -> EAnalysisType:
        if self._analysis_type is not None:
            return self._analysis_type
        classes = loader.class_names
        n_targets = len(loader.targets)
        if len(classes) == 2 and set(classes) == {"Signal", "Background"}:
            at = EAnalysisType.kClassification
        elif len(classes) >= 2:
            at = EAnalysisType.kMulticlass
        else:
            raise OptionError(
                f"No analysis type for {len(classes)} classes and {n_targets} regression targets. "
                "Regression must be requested explicitly with the Factory option AnalysisType=Regression"
            )
        self._analysis_type = at
        self.log.info("Analysis type resolved from loader '%s': %s", loader.GetName(), at.type_name)
        return at

    def _context(self, loader: DataLoader, analysis_type: EAnalysisType) -> MethodContext:
        ds_name = loader.GetName()
        return MethodContext(
            job_name=self.job_name,
            dataset_name=ds_name,
            analysis_type=analysis_type,
            variables=tuple(loader.variables),
            targets=tuple(loader.targets),
            spectators=tuple(loader.spectators),
            class_names=tuple(loader.class_names),
            # Factory::BookMethod: [fWeightFileDirPrefix/]<loader>/fWeightFileDir, read when booking
            weight_dir=Config.Instance().GetIONames().weight_dir(ds_name),
            draw_progress_bar=self.options.DrawProgressBar and not self.options.Silent,
            verbose=self.options.V,
            model_persistence=self.options.ModelPersistence,
        )

    def BookMethod(
        self,
        loader: DataLoader,
        method: EMVA | int | str,
        title: str,
        options: str = "",
        **kwargs: Any,
    ) -> MethodBase | None:
        """Book a method on a DataLoader (TMVA ``Factory::BookMethod``, core.md §2.2).

        Parameters
        ----------
        loader : DataLoader
            The data the method trains and is tested on.
        method : Types member, int or str
            ``Types.kPyTorch`` or the method type name ``"PyTorch"``.
        title : str
            The method title (unique per loader); names weights files, histograms and branches.
        options : str
            The method's option string (base options and its own).
        **kwargs
            Options as keyword arguments.

        Returns
        -------
        MethodBase or None
            The booked method; ``None`` (with a warning, as TMVA) if the method cannot handle the
            analysis type.

        Raises
        ------
        OptionError
            Unknown method type (listing the available ones), a title already booked on this loader,
            a title that is not a name (:func:`pymva.safety.check_name`) or that makes
            ``<job>_<title>`` longer than 200 bytes, ``loader`` not a DataLoader, option errors of the
            method.
        ModelError
            From the method's setup (e.g. the PyTorch model file cannot be loaded).
        """
        from .data.loader import DataLoader
        from .methods.boost import MethodBoost, boost_num

        if not isinstance(loader, DataLoader):
            raise OptionError(
                f"BookMethod(loader, method, title, options): loader must be a TMVA.DataLoader, not "
                f"{type(loader).__name__} ({loader!r})"
            )
        title = check_name(title, argument="BookMethod(title): the method title")
        check_file_stem(self.job_name, title)
        ds_name = loader.GetName()
        cls = get_method_class(method)
        boosted = cls if boost_num(options, **kwargs) > 0 else None
        if boosted is not None:  # Factory::BookMethod: a Boost_num > 0 books a MethodBoost of the method
            cls = MethodBoost
        booked = self._methods.get(ds_name, {})
        if title in booked:
            raise OptionError(
                f"Booking failed since method with title {title} already exists in with DataSet Name {ds_name}; "
                "choose another title"
            )
        at = self._resolve_analysis_type(loader)
        self.log.header("Booking method: %s", title)
        self.log.info("")
        n_classes, n_targets = len(loader.class_names), len(loader.targets)
        if not cls.has_analysis_type(at, n_classes, n_targets):
            what = {
                EAnalysisType.kClassification: f"classification with {n_classes} classes.",
                EAnalysisType.kRegression: f"regression with {n_targets} targets.",
                EAnalysisType.kMulticlass: f"multiclass classification with {n_classes} classes.",
            }[at]
            self.log.warning("Method %s is not capable of handling %s", cls.method_type.type_name, what)
            self._skipped.setdefault(ds_name, {})[title] = (
                f"{cls.method_type.type_name} is not capable of handling {what.rstrip('.')}, so BookMethod "
                "skipped it"
            )
            return None
        self._skipped.get(ds_name, {}).pop(title, None)
        if not cls.supports_streaming and loader.is_streaming():
            raise OptionError(
                f"method {cls.method_type.type_name} ('{title}') needs all training events at once and cannot "
                f"train from loader '{ds_name}', prepared with Streaming=True (only PyTorch trains from a "
                "stream); book it on a loader prepared without Streaming=True"
            )
        context = self._context(loader, at)
        if self.options.ModelPersistence and is_writer():  # under torch.distributed: rank 0 writes
            context.weight_dir.mkdir(parents=True, exist_ok=True)
        instance: MethodBase
        if boosted is not None:
            self.log.debug("Boost Number is %d > 0: train boosted classifier", boost_num(options, **kwargs))
            instance = MethodBoost(title, context, options, boosted_method=boosted.method_type, **kwargs)
        else:
            instance = cls(title, context, options, **kwargs)
        instance.setup()
        self._methods.setdefault(ds_name, {})[title] = MethodRecord(method=instance, loader=loader)
        self._loaders[ds_name] = loader
        return instance

    def GetMethod(self, datasetname: str | DataLoader, title: str) -> MethodBase:
        """Return the method booked as ``title`` on a loader (or loader name).

        Raises
        ------
        KeyError
            If no such method is booked (the message lists the booked titles).
        """
        return self._record(datasetname, title).method

    def HasMethod(self, datasetname: str | DataLoader, title: str) -> bool:
        """Whether a method with this title is booked on the loader."""
        name = datasetname if isinstance(datasetname, str) else datasetname.GetName()
        return title in self._methods.get(name, {})

    def _record(self, datasetname: str | DataLoader, title: str) -> MethodRecord:
        name = datasetname if isinstance(datasetname, str) else datasetname.GetName()
        skipped = self._skipped.get(name, {}).get(title)
        if skipped is not None and title not in self._methods.get(name, {}):
            raise KeyError(f"method '{title}' was not booked on dataset '{name}': {skipped}")
        if name not in self._methods:
            raise KeyError(
                f"no methods booked on dataset '{name}'{did_you_mean(name, self._methods)}; "
                f"datasets: {sorted(self._methods)}"
            )
        recs = self._methods[name]
        if title not in recs:
            raise KeyError(
                f"no method '{title}' booked on dataset '{name}'{did_you_mean(title, recs)}; booked: {list(recs)}"
            )
        return recs[title]

    def add_tested_method(
        self,
        loader: DataLoader,
        method: MethodBase,
        *,
        test_values: npt.ArrayLike,
        train_values: npt.ArrayLike,
        weights_file: Path | None = None,
    ) -> None:
        """Register a method whose responses were computed elsewhere (pymva; for the envelopes).

        TMVA's ``CrossValidation`` hands its combined method to a second Factory, which tests and
        evaluates it like any booked method; pymva's envelopes compute the combined responses
        themselves (each event scored by the fold model that did not train on it) and register them
        here, so that :meth:`EvaluateAllMethods` evaluates them, prints TMVA's tables and writes
        them to the output file, and :meth:`GetROCIntegral` and friends work.

        Parameters
        ----------
        loader : DataLoader
            The loader whose DataSet the responses belong to.
        method : MethodBase
            The method (its title must be new on the loader).
        test_values, train_values : array_like
            Responses on the DataSet's test and training samples (shapes as
            :meth:`MethodBase.evaluate`).
        weights_file : Path, optional
            The method's weights file, if one was written.

        Raises
        ------
        OptionError
            For a title already booked on the loader, or responses whose length differs from the
            samples'.
        """
        ds_name = loader.GetName()
        if method.title in self._methods.get(ds_name, {}):
            raise OptionError(
                f"a method with title {method.title} already exists in DataSet {ds_name}; choose another title"
            )
        self._resolve_analysis_type(loader)
        ds = self._dataset(loader)
        test = np.asarray(test_values, dtype=np.float32)
        train = np.asarray(train_values, dtype=np.float32)
        if len(test) != len(ds.test) or len(train) != len(ds.train):
            raise OptionError(
                f"method {method.title}: {len(train)} training and {len(test)} test responses for a DataSet "
                f"of {len(ds.train)} training and {len(ds.test)} test events"
            )
        self._methods.setdefault(ds_name, {})[method.title] = MethodRecord(
            method=method,
            loader=loader,
            weights_file=weights_file,
            trained=True,
            train_values=train,
            test_values=test,
        )
        self._loaders[ds_name] = loader

    def get_responses(
        self, datasetname: str | DataLoader, title: str, type: ETreeType | int = ETreeType.kTesting
    ) -> F32:
        """A tested method's responses on the test (default) or training sample (pymva).

        Returns
        -------
        ndarray of float32
            A copy, shaped as :meth:`MethodBase.evaluate` returns them, in the DataSet's event order.

        Raises
        ------
        KeyError
            Unknown loader or title.
        NotTrainedError
            Before ``TestAllMethods``.
        """
        rec = self._record(datasetname, title)
        values = rec.test_values if int(type) == ETreeType.kTesting else rec.train_values
        if values is None:
            raise NotTrainedError(f"method '{title}' has not been tested yet: call TestAllMethods() first")
        return np.array(values, dtype=np.float32, copy=True)

    # ------------------------------------------------------------------ training
    def TrainAllMethods(self) -> None:
        """Train every booked method (TMVA ``Factory::TrainAllMethods``, core.md §2.3).

        Builds each loader's DataSet on first use, trains the methods in booking order (loaders in
        byte-wise order of their names), writes their weights files and, with ``ModelPersistence``,
        re-creates every method from its weights file so that testing uses exactly what the Reader
        will use.

        Raises
        ------
        DataError
            No input data, regression without target, classification with fewer than two classes,
            and the DataLoader's own errors.
        PyMVAError
            Errors of the methods' training.
        """
        if not self._methods:
            self.log.header("...nothing found to train")
            self._warn_skipped()
            return
        self.log.header("Train all methods")
        at = self._analysis_type
        for ds_name in sorted(self._methods, key=lambda s: s.encode()):
            recs = self._methods[ds_name]
            loader = self._loaders[ds_name]
            ds = self._dataset(loader)
            self._check_training_input(ds, at)
            for title, rec in self._progress(list(recs.items()), f"Training {ds_name}"):
                self._train_one(ds, title, rec)
            if at != EAnalysisType.kRegression:
                self.log.header("Ranking input variables (method specific)...")
                for rec in recs.values():
                    if rec.trained:
                        self._print_ranking(rec.method)
            if self.options.ModelPersistence:
                self.log.header("=== Destroy and recreate all methods via weight files for testing ===")
                self.log.info("")
                for rec in recs.values():
                    if rec.trained and rec.weights_file is not None:
                        rec.method = self._reload(rec)

    def _dataset(self, loader: DataLoader) -> DataSet:
        """The loader's DataSet; with ``Streaming=True`` a :class:`StreamedDataSet` (one pass, cached)."""
        if loader.is_streaming():
            name = loader.GetName()
            cached = self._streamed.get(name)
            if cached is None or cached[0] is not loader:
                self._streamed[name] = (loader, loader.streamed_dataset())
            return self._streamed[name][1]
        ds = loader.GetDataSetInfo().GetDataSet()
        return ds

    def _check_training_input(self, ds: DataSet, at: EAnalysisType | None) -> None:
        if len(ds.train) + len(ds.test) <= 1:
            raise DataError(f"No input data for the training provided! (dataset '{ds.name}')")
        if at == EAnalysisType.kRegression and not ds.targets:
            raise DataError(
                f"You want to do regression training without specifying a target (dataset '{ds.name}'); "
                "call loader.AddTarget(...)"
            )
        if at in (EAnalysisType.kClassification, EAnalysisType.kMulticlass) and ds.n_classes < 2:
            raise DataError(
                f"You want to do classification training, but specified less than two classes "
                f"(dataset '{ds.name}' has {ds.class_names})"
            )

    def _train_one(self, ds: DataSet, title: str, rec: MethodRecord) -> None:
        method = rec.method
        n_train = len(ds.train)
        if n_train < 10:
            self.log.warning(
                "Method %s not trained (training tree has less entries [%d] than required [10]",
                title,
                n_train,
            )
            return
        at = method.context.analysis_type
        what = {
            EAnalysisType.kClassification: "Classification",
            EAnalysisType.kRegression: "Regression",
            EAnalysisType.kMulticlass: "Multiclass classification",
        }[at]
        # the DataSet now knows the training ranges of the variables
        method.context = dataclasses.replace(
            method.context,
            variables=tuple(ds.variables),
            targets=tuple(ds.targets),
            spectators=tuple(ds.spectators),
        )
        self.log.header("Train method: %s for %s", title, what)
        self.log.info("")
        if isinstance(ds, StreamedDataSet):
            rank, world = process_rank()
            # under torch.distributed each rank reads only its own chunks of entries when it can
            shard = (
                functools.partial(_stream_samples, ds, "train", (rank, world))
                if world > 1 and ds.can_shard(world)
                else None
            )
            method.train_stream(_StreamSource(ds, "train"), n_train, shard)
        else:
            method.train(ds.train)
        rec.trained = True
        rank, world = process_rank()
        if self.options.ModelPersistence and rank != 0:
            self.log.info(
                "torch.distributed rank %d of %d: the weights file is written by rank 0, not here",
                rank,
                world,
            )
        elif self.options.ModelPersistence:
            from .io.weights import write_weights_file

            path = method.context.weight_dir / f"{self.job_name}_{title}.weights.xml"
            rec.weights_file = write_weights_file(
                method,
                path,
                job_name=self.job_name,
                training_events=n_train,
                training_time=method.training_time_ or 0.0,
            )
            self.log.info("Creating xml weight file: %s", path)
        self.log.header("Training finished")
        self.log.info("")

    def _reload(self, rec: MethodRecord) -> MethodBase:
        from .io.weights import load_method

        assert rec.weights_file is not None
        old = rec.method
        method = load_method(
            rec.weights_file,
            job_name=self.job_name,
            weight_dir=old.context.weight_dir,
            caller_options=old.caller_code_options(),  # the booking's UserCode, never the file's
        )
        method.context = dataclasses.replace(
            method.context,
            draw_progress_bar=old.context.draw_progress_bar,
            verbose=old.context.verbose,
        )
        # TMVA saves the training history before it destroys the trained method
        method.training_history = old.training_history
        return method

    def _print_ranking(self, method: MethodBase) -> None:
        ranking = method.ranking()
        if not ranking:
            self.log.info("No variable ranking supplied by classifier: %s", method.title)
            return
        from .methods.ranking import Ranking, log_ranking

        log_ranking(method.log, Ranking(method.ranking_criterion, tuple(ranking)))

    # ------------------------------------------------------------------ testing
    def TestAllMethods(self) -> None:
        """Compute every trained method's responses on the test and training samples (core.md §2.4).

        pymva computes the training-sample responses here too, with the same (re-created) method
        that gives the test responses, so that the overtraining check compares like with like
        (TMVA uses the in-memory training instance for the training sample).

        Raises
        ------
        PyMVAError
            Errors of the methods' evaluation (e.g. :class:`~pymva.errors.ModelError`).
        """
        self.log.header("Test all methods")
        if self._other_rank("TestAllMethods"):
            return
        if not self._methods:
            self.log.info("...nothing found to test")
            self._warn_skipped()
            return
        for ds_name, title, rec in list(self._progress(list(self._records()), "Testing")):
            if not rec.trained:
                continue
            ds = self._dataset(self._loaders[ds_name])
            at = rec.method.context.analysis_type
            kind = {
                EAnalysisType.kClassification: "Classification",
                EAnalysisType.kRegression: "Regression",
                EAnalysisType.kMulticlass: "Multiclass classification",
            }[at]
            self.log.header("Test method: %s for %s performance", title, kind)
            self.log.info("")
            start = time.perf_counter()
            rec.test_values = _responses(rec.method, ds, "test")
            rec.test_time = time.perf_counter() - start
            self.log.info("Evaluation of %s on testing sample (%d events)", title, len(ds.test))
            self.log.info("Elapsed time for evaluation of %d events: %.3g sec", len(ds.test), rec.test_time)
            rec.train_values = _responses(rec.method, ds, "train")

    # ------------------------------------------------------------------ evaluation
    def EvaluateAllMethods(self) -> None:
        """Evaluate every tested method, print TMVA's tables and write the output file (core.md §2.5).

        As in TMVA, nothing happens (``...nothing found to evaluate``) when no method is booked, for
        instance because ``BookMethod`` skipped every method for the analysis type (a warning then
        names them).

        Raises
        ------
        NotTrainedError
            If methods are booked but none has been tested (call ``TrainAllMethods`` and
            ``TestAllMethods`` first).
        DataError
            If the output file cannot be written (disk full, directory removed); the earlier file
            stays as it was.
        """
        self.log.header("Evaluate all methods")
        if self._other_rank("EvaluateAllMethods"):
            return
        if not self._methods:
            self.log.info("...nothing found to evaluate")
            self._warn_skipped()
            return
        tested = [(ln, t, r) for ln, t, r in self._records() if r.test_values is not None]
        if not tested:
            raise NotTrainedError(
                "no tested method to evaluate: call TrainAllMethods() and TestAllMethods() first"
            )
        for ds_name, title, rec in tested:
            ds = self._dataset(self._loaders[ds_name])
            rec.result = self._evaluate_one(ds, title, rec)
        self._print_tables(tested)
        if self.output_path is not None:
            self._write_output_file()
        self.log.info("")
        self.log.info("Thank you for using TMVA!")
        self.log.info("For citation information, please visit: http://tmva.sf.net/citeTMVA.html")

    def _other_rank(self, step: str) -> bool:
        """Whether this process is a rank other than 0 of a ``torch.distributed`` job (then it logs why
        ``step`` is skipped): testing and evaluating read the trained model files, which rank 0 writes,
        and end in the output file, which rank 0 writes (see :mod:`pymva.ddp`)."""
        rank, world = process_rank()
        if rank == 0:
            return False
        self.log.info(
            "torch.distributed rank %d of %d: %s runs on rank 0 only (it reads the model files and writes "
            "the output file that rank 0 writes)",
            rank,
            world,
            step,
        )
        return True

    def _warn_skipped(self) -> None:
        for ds_name, skipped in self._skipped.items():
            for title, reason in skipped.items():
                self.log.warning("Method '%s' of dataset '%s' was not booked: %s", title, ds_name, reason)

    def _evaluate_one(self, ds: DataSet, title: str, rec: MethodRecord) -> Any:
        at = rec.method.context.analysis_type
        assert rec.test_values is not None
        assert rec.train_values is not None
        if at == EAnalysisType.kClassification:
            self.log.header("Evaluate classifier: %s", title)
            self.log.info("")
            sig = ds.signal_class
            cut_inputs = rec.method.cut_efficiencies(ds.test, ds.train)
            if cut_inputs is not None:  # MethodCuts: TMVA's GetEfficiency/GetTrainingEfficiency
                from .evaluation.cuts import evaluate_cuts

                is_signal = np.asarray(ds.test.class_id == sig)
                return evaluate_cuts(
                    title,
                    ds.name,
                    n_signal_test=int(is_signal.sum()),
                    test_values=rec.test_values,
                    test_weights=ds.test.weights,
                    test_is_signal=is_signal,
                    **cut_inputs,
                )
            proba = rarity = None
            pdfs = rec.method.mva_pdfs
            if pdfs is not None:  # TestClassification with CreateMVAPdfs
                v = np.asarray(rec.test_values, dtype=np.float32).reshape(-1).astype(np.float64)
                proba = pdfs.proba(v).astype(np.float32)  # TMVA stores (Float_t)GetProba
                rarity = pdfs.rarity(v)
            return ev.evaluate_classification(
                title,
                ds.name,
                rec.test_values,
                ds.test.weights,
                ds.test.class_id == sig,
                rec.train_values,
                ds.train.weights,
                ds.train.class_id == sig,
                test_proba=proba,
                test_rarity=rarity,
            )
        if at == EAnalysisType.kRegression:
            self.log.header("Evaluate regression method: %s", title)
            self.log.info("TestRegression (testing)")
            self.log.info("TestRegression (training)")
            return ev.evaluate_regression(
                title,
                ds.name,
                rec.test_values,
                ds.test.targets,
                ds.test.weights,
                rec.train_values,
                ds.train.targets,
                ds.train.weights,
                # Streaming=True keeps no inputs: no deviation-versus-variable histograms
                test_inputs=None if isinstance(ds, StreamedDataSet) else ds.test.X,
                train_inputs=None if isinstance(ds, StreamedDataSet) else ds.train.X,
                variable_names=[v.internal_name for v in ds.variables],
                target_names=[t.internal_name for t in ds.targets],
                # ResultsRegression::DeviationAsAFunctionOf starts its x axis from the VariableInfo range
                variable_ranges=[(v.min, v.max) for v in ds.variables],
                target_ranges=[(t.min, t.max) for t in ds.targets],
            )
        self.log.header("Evaluate multiclass classification method: %s", title)
        return ev.evaluate_multiclass(
            title,
            ds.name,
            ds.class_names,
            rec.test_values,
            ds.test.class_id,
            ds.test.weights,
            rec.train_values,
            ds.train.class_id,
            ds.train.weights,
        )

    def _print_tables(self, tested: list[tuple[str, str, MethodRecord]]) -> None:
        at = self._analysis_type
        results = [r.result for _, _, r in tested]
        if at == EAnalysisType.kClassification:
            if self.options.ROC:
                text = ev.format_classification_tables(results)
                self._print_always(text)
            if self.options.Correlations:
                for ds_name in sorted({ln for ln, _, _ in tested}, key=lambda s: s.encode()):
                    ds = self._dataset(self._loaders[ds_name])
                    if isinstance(ds, StreamedDataSet):
                        self.log.info(
                            "Dataset[%s] : Streaming=True: no correlation tables of the responses with the "
                            "input variables (the test events are not kept)",
                            ds_name,
                        )
                        continue
                    recs = [r for ln, _, r in tested if ln == ds_name]
                    text = ev.format_correlation_tables(
                        ds_name,
                        [r.method.title for r in recs],
                        np.column_stack([r.test_values for r in recs if r.test_values is not None]),
                        ds.test.X,
                        [v.label for v in ds.variables],
                        ds.test.class_id == ds.signal_class,
                        [r.result for r in recs],
                    )
                    self._print_always(text)
        elif at == EAnalysisType.kRegression:
            self._print_always(ev.format_regression_tables(results))
        else:
            self._print_always(ev.format_multiclass_tables(results))

    def _print_always(self, text: str) -> None:
        """TMVA prints the final tables even when ``Silent``."""
        for line in text.split("\n"):
            if self.options.Silent:
                print(" " * 25 + ": " + line)
            else:
                self.log.info("%s", line)

    # ------------------------------------------------------------------ ROC access
    def _roc_inputs(
        self, datasetname: str | DataLoader, title: str, iClass: int, tree_type: ETreeType | int
    ) -> tuple[F32, F32, npt.NDArray[np.bool_]]:
        rec = self._record(datasetname, title)
        at = rec.method.context.analysis_type
        if at == EAnalysisType.kRegression:
            raise OptionError(
                "Can only generate ROC integral for analysis type kClassification. and kMulticlass."
            )
        values = rec.test_values if int(tree_type) == ETreeType.kTesting else rec.train_values
        if values is None:
            raise NotTrainedError(f"method '{title}' has not been tested yet: call TestAllMethods() first")
        ds = self._dataset(rec.loader)
        sample: Sample = ds.test if int(tree_type) == ETreeType.kTesting else ds.train
        if at == EAnalysisType.kMulticlass:
            if not 0 <= iClass < ds.n_classes:
                raise OptionError(
                    f"iClass={iClass} is out of range: dataset '{ds.name}' has classes {ds.class_names}"
                )
            return values[:, iClass], sample.weights, sample.class_id == iClass
        return values, sample.weights, sample.class_id == ds.signal_class

    def GetROCIntegral(
        self,
        loader: str | DataLoader,
        theMethodName: str,
        iClass: int = 0,
        type: ETreeType | int = ETreeType.kTesting,
    ) -> float:
        """ROC integral of a tested method (TMVA ``Factory::GetROCIntegral``, core.md §2.6, §5.1).

        Parameters
        ----------
        loader : DataLoader or str
        theMethodName : str
            The method title.
        iClass : int
            Multiclass: the class taken as signal against all others.
        type : ETreeType
            ``Types.kTesting`` (default) or ``Types.kTraining``.

        Returns
        -------
        float
            The area under TMVA's ROC curve, weighted with the event weights.

        Raises
        ------
        KeyError
            Unknown loader or method title.
        OptionError
            For a regression method, or ``iClass`` out of range.
        NotTrainedError
            Before ``TestAllMethods``.
        """
        values, weights, is_signal = self._roc_inputs(loader, theMethodName, iClass, type)
        return float(ev.roc_curve(values, weights, is_signal).auc)

    def GetROCCurve(
        self,
        loader: str | DataLoader,
        theMethodName: str | int | None = None,
        setTitles: bool = True,
        iClass: int = 0,
        type: ETreeType | int = ETreeType.kTesting,
    ) -> Any:
        """ROC curve of one method, or a matplotlib figure with all methods of a loader.

        ``GetROCCurve(loader, title)`` returns the :class:`~pymva.evaluation.ROCCurve` (arrays
        ``sensitivity`` = signal efficiency and ``specificity`` = background rejection);
        ``GetROCCurve(loader)`` or ``GetROCCurve(loader, iClass)`` draws every tested method of the
        loader and returns the :class:`matplotlib.figure.Figure` (needs the ``plot`` extra); the
        figure also has ROOT's ``TCanvas`` methods ``SaveAs(filename)``, ``Print(filename)`` and
        ``Draw()`` (see :func:`pymva.io.rootfile.canvas_class`), so ``roc.SaveAs("roc.png")`` works as in ROOT.
        The figure is closed in pyplot as soon as it is drawn: as the last line of a Jupyter cell it
        is shown once, and ``plt.show()`` does not show it (save it, or display it with IPython's
        ``display``).

        Raises
        ------
        KeyError, OptionError, NotTrainedError
            As :meth:`GetROCIntegral`.
        """
        if theMethodName is None or isinstance(theMethodName, int):
            if isinstance(theMethodName, int):
                iClass = theMethodName
            return self._draw_roc_curves(loader, iClass, type)
        values, weights, is_signal = self._roc_inputs(loader, theMethodName, iClass, type)
        return ev.roc_curve(values, weights, is_signal)

    def _draw_roc_curves(self, loader: str | DataLoader, iClass: int, tree_type: ETreeType | int) -> Any:
        name = loader if isinstance(loader, str) else loader.GetName()
        if name not in self._methods:
            raise KeyError(f"no methods booked on dataset '{name}'; datasets: {sorted(self._methods)}")
        from .io.rootfile import canvas_class

        curves = {}
        for title, rec in self._methods[name].items():
            if rec.test_values is not None:
                curves[title] = ev.roc_curve(*self._roc_inputs(name, title, iClass, tree_type))
        # TMVA's canvas title; a Figure with ROOT's TCanvas SaveAs/Print/Draw, not held by pyplot
        title = ev.ROC_TITLE + (
            f" (Class={iClass})" if self._analysis_type == EAnalysisType.kMulticlass else ""
        )
        return ev.plot_roc_curves(curves, title, figure_class=canvas_class())

    def GetResults(self, loader: str | DataLoader, title: str) -> Any:
        """The evaluation result object of one method (after ``EvaluateAllMethods``).

        Raises
        ------
        KeyError
            Unknown loader or title.
        NotTrainedError
            Before ``EvaluateAllMethods``.
        """
        rec = self._record(loader, title)
        if rec.result is None:
            raise NotTrainedError(
                f"method '{title}' has not been evaluated yet: call EvaluateAllMethods() first"
            )
        return rec.result

    # ------------------------------------------------------------------ output file
    def _write_output_file(self) -> None:
        assert self.output_path is not None
        jobs = [
            (self._dataset(self._loaders[name]), self._methods[name])
            for name in sorted(self._methods, key=lambda s: s.encode())
        ]
        write_job_output(
            self.output_path,
            jobs,
            transformations=self.options.Transformations,
            analysis_type=self.analysis_type,
        )
        self._output_written = True

    def Close(self) -> None:
        """Finish the job: write the output file if it has not been written yet; drop the methods."""
        if self._closed:
            return
        if (
            self.output_path is not None
            and not self._output_written
            and is_writer()
            and any(r.trained for _, _, r in self._records())
        ):
            self._write_output_file()
        self._closed = True

    def DeleteAllMethods(self) -> None:
        """Forget every booked method (TMVA ``Factory::DeleteAllMethods``)."""
        self._methods.clear()

    def PrintHelpMessage(self, datasetname: str | DataLoader = "", title: str = "") -> None:
        """Log the help text of one method, or of all booked methods."""
        for ln, t, rec in self._records():
            if (
                not datasetname
                or ln == (datasetname if isinstance(datasetname, str) else datasetname.GetName())
            ) and (not title or t == title):
                rec.method.print_help()

    def __enter__(self) -> Factory:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.Close()
        else:
            self._closed = True

    def _repr_html_(self) -> str:
        """A table of the booked methods and their state, for Jupyter."""
        from ._html import html_table

        rows = []
        for ds_name, title, rec in self._records():
            roc = ""
            if rec.test_values is not None and rec.method.context.analysis_type != EAnalysisType.kRegression:
                roc = f"{self.GetROCIntegral(ds_name, title):.3f}"
            state = (
                "evaluated"
                if rec.result is not None
                else "tested"
                if rec.test_values is not None
                else ("trained" if rec.trained else "booked")
            )
            rows.append((ds_name, title, rec.method.method_type.type_name, state, roc))
        analysis = self._analysis_type.type_name if self._analysis_type is not None else "Auto"
        return html_table(
            f"Factory '{self.job_name}' ({analysis})",
            rows,
            ("DataSet", "Method", "Type", "State", "ROC-integ"),
        )

    def __repr__(self) -> str:
        n = sum(len(v) for v in self._methods.values())
        return f"<Factory {self.job_name!r}: {n} method(s), output {self.output_path}>"


def _method_inputs(method: MethodBase, sample: Sample) -> F32:
    """What a method is applied to: the variables, then the spectators for a method that reads them."""
    if method.uses_spectators:
        return np.ascontiguousarray(np.hstack([sample.X, sample.spectators]), dtype=np.float32)
    return sample.X


def _stream_samples(
    ds: StreamedDataSet, which: str, shard: tuple[int, int] | None = None
) -> Iterator[Sample]:
    """The events of a ``Streaming=True`` DataSet's sample (or of one rank's shard), as Samples of one chunk each."""
    for c in ds.chunks(which, shard):
        yield Sample(
            X=c.X, targets=c.targets, spectators=c.spectators, weights=c.weights, class_id=c.class_id
        )


class _StreamSource:
    """The chunks of a ``Streaming=True`` sample as the method reads them (:func:`_stream_samples`).

    With a Dask executor on the loader it also has ``map(fn)``: ``fn`` of every chunk, computed on
    the worker that reads it (:meth:`~pymva.data.stream.StreamedDataSet.map_chunks`), which the
    transformations' fit uses so that only per-chunk moments travel.
    """

    def __init__(self, ds: StreamedDataSet, which: str) -> None:
        self.ds = ds
        self.which = which
        if getattr(ds.builder, "executor", None) is not None:
            self.map = self._map

    def __call__(self) -> Iterator[Sample]:
        return _stream_samples(self.ds, self.which)

    def _map(self, fn: Callable[[Sample], Any]) -> Iterator[Any]:
        return self.ds.map_chunks(self.which, fn)


def _responses(method: MethodBase, ds: DataSet, which: str) -> F32:
    """``method.evaluate`` on the training or test sample; chunk by chunk for ``Streaming=True``."""
    if not isinstance(ds, StreamedDataSet):
        return method.evaluate(_method_inputs(method, ds.sample("train" if which == "train" else "test")))
    parts = [method.evaluate(c.X) for c in ds.chunks(which) if len(c)]
    if parts:
        return np.concatenate(parts)
    empty = method.evaluate(np.zeros((1, len(ds.variables)), np.float32))
    return np.empty((0, *empty.shape[1:]), np.float32)


def _looks_like_options(text: str) -> bool:
    if text.lower().endswith(".root"):
        return False
    return (
        text.startswith(("!", ":")) or "=" in text or ":" in text or text.lower() in {"v", "silent", "color"}
    )
