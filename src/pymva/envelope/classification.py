"""``TMVA.Experimental.Classification``: methods trained and tested in parallel processes
(``tmva/tmva/src/Classification.cxx``, ROOT's ``tutorials/machine_learning/envelope/classification.C``).

::

    cl = TMVA.Experimental.Classification(dataloader, "Jobs=4")
    cl.BookMethod(TMVA.Types.kBDT, "BDTG", "!H:!V:NTrees=200:BoostType=Grad")
    cl.BookMethod(TMVA.Types.kFisher, "Fisher", "!H:!V")
    cl.Evaluate()                       # each method trained and tested in its own worker (Jobs)
    for r in cl.GetResults():
        print(r.GetMethodTitle(), r.GetROCIntegral())
        roc = r.GetROCGraph()

Every method is trained on the loader's training sample and tested on its test sample by a Factory of
its own (job name ``Classification``, weights files ``<dataset>/weights/Classification_<title>.weights.xml``),
in ``Jobs`` worker processes; the results are the same whatever the number of jobs.  ``Evaluate`` prints
TMVA's summary table (dataset, ``Method/Title``, ROC integral).  With an output file
(``Classification(dataloader, file, options)``) the file holds what a Factory's holds for these
methods: their ``Method_<Type>/<Title>`` directories, and ``TrainTree``/``TestTree`` with one branch per
method (TMVA's ``MergeFiles``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.loader import DataLoader
from ..errors import NotTrainedError, OptionError
from ..evaluation import ROCCurve, roc_curve
from ..factory import Factory
from ..histograms import Graph
from ..io.weights import load_method
from ..methods.base import MethodBase
from ..options import option
from ..types import EMVA, EAnalysisType, ETreeType
from .envelope import Envelope, EnvelopeOptions, print_lines
from .jobs import TrainingJob, TrainingOutcome, run_training_job
from .parallel import job_seed, run_jobs

if TYPE_CHECKING:
    from ..io.rootfile import TFile

__all__ = ["Classification", "ClassificationOptions", "ClassificationResult"]

F32 = npt.NDArray[np.float32]

_HLINE = "--------------------------------------------------- :"


@dataclass(frozen=True)
class ClassificationOptions(EnvelopeOptions):
    """Options of ``Experimental.Classification``: the Envelope's, ``Correlations`` and ``ROC``."""

    component_name: ClassVar[str] = "Classification"

    Correlations: bool = option(False, "boolean to show correlation in output")
    ROC: bool = option(True, "boolean to show ROC in output")


class ClassificationResult:
    """The result of one method (TMVA ``Experimental::ClassificationResult``).

    Attributes
    ----------
    evaluation : ClassificationResult of :mod:`pymva.evaluation`
        The Factory's full evaluation (efficiencies, separation, histograms …).
    """

    def __init__(
        self,
        method_name: str,
        method_title: str,
        dataloader_name: str,
        outcome: TrainingOutcome,
        test: tuple[F32, F32, npt.NDArray[np.int32]],
        train: tuple[F32, F32, npt.NDArray[np.int32]],
        class_names: list[str],
    ) -> None:
        self._name = method_name
        self._title = method_title
        self._loader = dataloader_name
        self.evaluation = outcome.result
        self._test = test
        self._train = train
        self._class_names = list(class_names)

    def GetMethodName(self) -> str:
        """The method type name (``"BDT"``)."""
        return self._name

    def GetMethodTitle(self) -> str:
        """The method title."""
        return self._title

    def GetDataLoaderName(self) -> str:
        """The DataLoader name."""
        return self._loader

    def IsMethod(self, methodname: str, methodtitle: str) -> bool:
        """Whether this is the result of that method."""
        return self._name == methodname and self._title == methodtitle

    def IsCutsMethod(self) -> bool:
        """Whether the method is of type Cuts (TMVA ``ClassificationResult::IsCutsMethod``)."""
        return self._name == EMVA.kCuts.type_name

    def GetROC(self, iClass: int = 0, type: ETreeType | int = ETreeType.kTesting) -> ROCCurve:
        """The ROC curve of class ``iClass`` against the others on the test (default) or training sample.

        Raises
        ------
        OptionError
            For a class index out of range.
        """
        values, weights, class_id = self._test if int(type) == ETreeType.kTesting else self._train
        if not 0 <= int(iClass) < len(self._class_names):
            raise OptionError(
                f"Given class number (iClass = {iClass}) does not exist. There are {len(self._class_names)} "
                "classes in dataset."
            )
        column = values if values.ndim == 1 else values[:, int(iClass)]
        return roc_curve(column, weights, class_id == int(iClass))

    def GetROCIntegral(self, iClass: int = 0, type: ETreeType | int = ETreeType.kTesting) -> float:
        """The area under :meth:`GetROC`; for a Cuts method the efficiency area of its evaluation.

        TMVA's ``ClassificationResult::GetROCIntegral`` returns, for Cuts (whose response is a 0/1
        decision at one working point, 0 in the TestTree), the ``fROCIntegral`` that ``TestMethod``
        set to the method's ``effArea`` (``MethodCuts::GetEfficiency``: the mean of ``1 − effB`` over
        its 1000-point scan), whatever ``iClass`` and ``type``.
        """
        if self.IsCutsMethod():
            return float(self.evaluation.eff_area)
        return float(self.GetROC(iClass, type).auc)

    def GetROCGraph(self, iClass: int = 0, type: ETreeType | int = ETreeType.kTesting) -> Graph:
        """:meth:`GetROC` as a graph named ``<Type>/<Title>``: background rejection against signal efficiency."""
        roc = self.GetROC(iClass, type)
        name = f"{self._name}/{self._title}"
        return Graph(
            name, name, roc.sensitivity, roc.specificity, " Signal Efficiency ", " Background Rejection "
        )

    def Show(self) -> None:
        """Print TMVA's one-method table (dataset, ``Method/Title``, ROC integral)."""
        print_lines(_log(), _table([self]))

    def _repr_html_(self) -> str:
        from .._html import html_table

        return html_table(
            "Classification",
            [(self._loader, f"{self._name}/{self._title}", self.GetROCIntegral())],
            ("DataSet", "Method/Title", "ROC-integ"),
        )

    def __repr__(self) -> str:
        return f"<ClassificationResult {self._name}/{self._title} on {self._loader!r}>"


def _log() -> Any:
    from ..logger import get_logger

    return get_logger("Classification", "pymva.envelope.classification")


def _table(results: list[ClassificationResult]) -> list[str]:
    lines = [_HLINE, "DataSet              MVA                            :",
             "Name:                Method/Title:    ROC-integ     :", _HLINE]  # fmt: skip
    for r in results:
        method = f"{r.GetMethodName()}/{r.GetMethodTitle()}"
        lines.append(f"{r.GetDataLoaderName():<20} {method:<15}  {r.GetROCIntegral():#1.3f}         :")
    lines.append(_HLINE)
    return lines


class Classification(Envelope):
    """TMVA's ``Experimental::Classification`` (see the module docstring).

    Parameters
    ----------
    dataloader : DataLoader
    file : str, os.PathLike, TFile or None
        Output ROOT file (TMVA's three-argument form); may be left out: ``Classification(dataloader,
        options)``.
    options : str
        ``Jobs=<n>`` and the other :class:`ClassificationOptions`.

    Raises
    ------
    OptionError
        For options that cannot be interpreted.
    """

    def __init__(
        self,
        dataloader: DataLoader,
        file: str | os.PathLike[str] | TFile | None = None,
        options: str = "",
        **kwargs: Any,
    ) -> None:
        path: str | os.PathLike[str] | None
        if isinstance(file, str) and not options and not file.lower().endswith(".root"):
            options, path = file, None
        elif file is None or isinstance(file, (str, os.PathLike)):
            path = file
        else:
            from ..io.rootfile import output_file_path

            path = output_file_path(file)
        opts = ClassificationOptions.parse(options, **kwargs)
        if "Color" not in opts.modified_options:
            opts = dataclasses.replace(opts, Color=sys.stdout.isatty())
        super().__init__("Classification", dataloader, opts)
        self.options: ClassificationOptions = opts
        self.output_path: Path | None = Path(path) if path is not None else None
        self.job_name = "Classification"
        self._results: list[ClassificationResult] = []
        self._outcomes: dict[tuple[str, str], TrainingOutcome] = {}
        self._loaded: dict[tuple[str, str], MethodBase] = {}

    def _factory_options(self, *, quiet: bool) -> str:
        o = self.options
        tokens = [
            "V" if o.V else "!V",
            "AnalysisType=Classification",
            "!DrawProgressBar" if quiet or not o.DrawProgressBar else "DrawProgressBar",
            "Correlations" if o.Correlations else "!Correlations",
            "!ROC",  # Evaluate prints the summary table; TMVA switches fROC off while training
            "Color" if o.Color else "!Color",
            "ModelPersistence" if o.ModelPersistence else "!ModelPersistence",
            f"Transformations={o.Transformations}",
        ]
        if o.Silent or quiet:
            tokens.append("Silent")
        return ":".join(tokens)

    def Evaluate(self) -> None:
        """Train and test every booked method, in ``Jobs`` processes; print TMVA's summary table.

        Raises
        ------
        OptionError
            Without a booked method.
        PyMVAError
            From the DataSet and the methods.
        """
        start = time.perf_counter()
        booked = list(self._booked())
        ds = self._loader.GetDataSetInfo().GetDataSet()
        quiet = self.workers > 1
        jobs = [
            TrainingJob(
                dataset=ds,
                job_name=self.job_name,
                method=m.name,
                title=m.title,
                options=m.options,
                factory_options=self._factory_options(quiet=quiet),
                seed=job_seed(self.job_name, m.title),
                keep_method=not self.options.ModelPersistence,
            )
            for m in booked
        ]
        for m in booked:
            self.log.header("Loading booked method: %s %s", m.name, m.title)
        outcomes = run_jobs(run_training_job, jobs, self.workers)
        self._configure_logging()
        self._results = []
        for m, o in zip(booked, outcomes, strict=True):
            if not o.trained or o.test_values is None or o.train_values is None:
                self.log.warning("Method %s %s was not trained (see the warnings above)", m.name, m.title)
                continue
            self._outcomes[(m.name, m.title)] = o
            self._results.append(
                ClassificationResult(
                    m.name,
                    m.title,
                    ds.name,
                    o,
                    (o.test_values, ds.test.weights, ds.test.class_id),
                    (o.train_values, ds.train.weights, ds.train.class_id),
                    ds.class_names,
                )
            )
        if self.output_path is not None and self._results:
            self._write_output()
        lines = _table(self._results)
        lines += [
            "-----------------------------------------------------",
            "Evaluation done.",
            "",
            f"Jobs = {self.workers} Real Time = {time.perf_counter() - start:f} ",
            "-----------------------------------------------------",
            "Evaluation done.",
        ]
        print_lines(self.log, lines)

    def _write_output(self) -> None:
        assert self.output_path is not None
        ds = self._loader.GetDataSetInfo().GetDataSet()
        output = Factory(self.job_name, self.output_path, self._factory_options(quiet=True))
        loader = DataLoader.from_dataset(ds)
        for r in self._results:
            o = self._outcomes[(r.GetMethodName(), r.GetMethodTitle())]
            output.add_tested_method(
                loader,
                self.GetMethod(r.GetMethodName(), r.GetMethodTitle()),
                test_values=o.test_values if o.test_values is not None else np.zeros(0, np.float32),
                train_values=o.train_values if o.train_values is not None else np.zeros(0, np.float32),
                weights_file=o.weights_file,
            )
        output.EvaluateAllMethods()
        self._configure_logging()

    def GetResults(self) -> list[ClassificationResult]:
        """One :class:`ClassificationResult` per trained method, in booking order.

        Raises
        ------
        NotTrainedError
            Before :meth:`Evaluate` (TMVA: "No Classification results available").
        """
        if not self._results:
            raise NotTrainedError("No Classification results available: call Evaluate() first")
        return list(self._results)

    def GetMethod(self, methodname: str | EMVA | int, methodtitle: str) -> MethodBase:
        """The trained method (TMVA ``GetMethod``): re-created from its weights file when it was trained
        in a worker process (or handed back from it with ``!ModelPersistence``).

        Raises
        ------
        KeyError
            For a method that is not booked.
        NotTrainedError
            Before :meth:`Evaluate`, or for a method that was not trained.
        """
        name = methodname if isinstance(methodname, str) else EMVA(int(methodname)).type_name
        if not self.HasMethod(name, methodtitle):
            raise KeyError(
                f"Trying to get method not booked: {name} {methodtitle}; booked: "
                f"{[(m.name, m.title) for m in self._methods]}"
            )
        key = (name, methodtitle)
        if key not in self._outcomes:
            raise NotTrainedError(f"method {name} {methodtitle} has not been trained: call Evaluate() first")
        o = self._outcomes[key]
        if o.method is not None:
            return o.method
        if key not in self._loaded:
            assert o.weights_file is not None
            self._loaded[key] = load_method(o.weights_file, job_name=self.job_name)
        return self._loaded[key]

    def GetROCIntegral(self, methodname: str, methodtitle: str, iClass: int = 0) -> float:
        """The test ROC integral of one method (TMVA ``Classification::GetROCIntegral``).

        Raises
        ------
        NotTrainedError
            When the method has no result.
        """
        for r in self.GetResults():
            if r.IsMethod(methodname, methodtitle):
                return r.GetROCIntegral(iClass)
        raise NotTrainedError(f"no result for method {methodname} {methodtitle}")

    @property
    def analysis_type(self) -> EAnalysisType:
        """Always classification (TMVA's ``fAnalysisType``)."""
        return EAnalysisType.kClassification
