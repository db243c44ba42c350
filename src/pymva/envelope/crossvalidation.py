"""``TMVA.CrossValidation``: k-fold cross-validation with application (``tmva/tmva/src/CrossValidation.cxx``).

A TMVA script runs unchanged::

    cv = TMVA.CrossValidation("TMVACrossValidation", dataloader, outputFile,
                              "!V:!Silent:ModelPersistence:AnalysisType=Classification:SplitType=Deterministic"
                              ":NumFolds=2:SplitExpr=int(fabs([eventID]))%int([NumFolds])")
    cv.BookMethod(TMVA.Types.kBDT, "BDTG", "!H:!V:NTrees=100:BoostType=Grad:MaxDepth=2")
    cv.Evaluate()
    for result in cv.GetResults():
        print(result.GetROCValues(), result.GetROCAverage())

``Evaluate()`` follows TMVA:

1. the loader's **training** events are split into ``NumFolds`` folds (:mod:`~pymva.envelope.cvsplit`;
   TMVA leaves the test set unused, so give it as few events as possible: ``nTest_Signal=1``);
2. for every booked method and fold ``k`` a fresh Factory trains ``<title>_fold<k>`` on the other folds,
   tests and evaluates it on fold ``k`` (printing TMVA's tables for the fold), and writes its weights
   file ``<dataset>/weights/<JobName>_<title>_fold<k>.weights.xml`` (``ModelPersistence``; a PyTorch
   method trains a fresh copy of its initial model in every fold) — and, with ``FoldFileOutput``, the
   fold's own output file ``<title>_fold<k>.root`` beside the output file;
3. the ``MethodCrossValidation`` weights file ``<dataset>/weights/<JobName>_<title>.weights.xml`` names
   the fold files and the split expression (:mod:`pymva.methods.crossvalidation`): the Reader books it
   and scores every event with the fold its split expression selects;
4. a second Factory evaluates the combined responses — every training event scored by the fold model
   that did not train on it (``OutputEnsembling=Avg``: by the average of all fold models, as TMVA) — on
   the folds put back together, prints TMVA's tables and writes the output file, whose
   ``TestTree`` (and ``TrainTree``, the same events) carries that response.

The per-fold figures are in :meth:`CrossValidation.GetResults`: one :class:`CrossValidationResult` per
method with TMVA's getters.  The folds of all methods are trained in ``NumWorkers`` processes
(:mod:`~pymva.envelope.parallel`); the results do not depend on their number.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from .._html import html_table
from ..data.dataset import DataSet
from ..data.loader import DataLoader
from ..errors import ModelError, NotTrainedError, OptionError
from ..factory import Factory
from ..histograms import Graph
from ..io.weights import weights_file_path, write_weights_file
from ..methods.base import MethodContext
from ..methods.crossvalidation import MethodCrossValidation, fold_title
from ..options import option, positive
from ..types import EAnalysisType
from .cvsplit import SPLIT_TYPES, CvSplitKFolds
from .envelope import Envelope, EnvelopeOptions, print_lines
from .jobs import TrainingJob, TrainingOutcome, run_training_job
from .parallel import job_seed, run_jobs

if TYPE_CHECKING:
    from ..evaluation import ROCCurve
    from ..io.rootfile import TFile

__all__ = ["CrossValidation", "CrossValidationFoldResult", "CrossValidationOptions", "CrossValidationResult"]

F32 = npt.NDArray[np.float32]

_ANALYSIS = {
    "Classification": EAnalysisType.kClassification,
    "Regression": EAnalysisType.kRegression,
    "Multiclass": EAnalysisType.kMulticlass,
}


@dataclass(frozen=True)
class CrossValidationOptions(EnvelopeOptions):
    """Options of ``CrossValidation`` (TMVA ``CrossValidation::InitOptions`` and the Envelope's), plus
    pymva's ``SplitSeed`` and ``NumWorkers``."""

    component_name: ClassVar[str] = "CrossValidation"
    worker_options: ClassVar[tuple[str, ...]] = ("NumWorkers", "Jobs", "NumWorkerProcs")

    Transformations: str = option(
        "",
        'List of transformations to test; formatting example: "Transformations=I;D;P;U;G,D", for identity, '
        "decorrelation, PCA, Uniform and Gaussianisation followed by decorrelation transformations",
    )
    DrawProgressBar: bool = option(False, "Boolean to show draw progress bar")
    VerboseLevel: str = option(
        "Info", "VerboseLevel (Debug/Verbose/Info)", allowed=("Debug", "Verbose", "Info")
    )
    Correlations: bool = option(False, "Boolean to show correlation in output")
    ROC: bool = option(True, "Boolean to show ROC in output")
    AnalysisType: str = option(
        "Auto",
        "Set the analysis type (Classification, Regression, Multiclass, Auto) (default: Auto)",
        allowed=("Classification", "Regression", "Multiclass", "Auto"),
    )
    SplitType: str = option(
        "Random",
        "Set the split type (Deterministic, Random, RandomStratified) (default: Random)",
        allowed=SPLIT_TYPES,
    )
    SplitExpr: str = option("", "The expression used to assign events to folds")
    NumFolds: int = option(2, "Number of folds to generate", check=positive)
    NumWorkerProcs: int = option(
        1,
        "Determines how many processes to use for evaluation. 1 means no parallelisation. 2 means use 2 "
        "processes. 0 means figure out the number automatically based on the number of cpus available. "
        "Default 1.",
    )
    FoldFileOutput: bool = option(
        False,
        "If given a TMVA output file will be generated for each fold. Filename will be the same as specifed "
        "for the combined output with a _foldX suffix. (default: false)",
    )
    OutputEnsembling: str = option(
        "None",
        "Combines output from contained methods. If None, no combination is performed. (default None)",
        allowed=("None", "Avg"),
    )
    SplitSeed: int = option(100, "Seed of the random splits (pymva; TMVA uses 100)")


@dataclass(frozen=True)
class CrossValidationFoldResult:
    """The figures of one fold (TMVA ``CrossValidationFoldResult``).

    Attributes
    ----------
    fold : int
        The fold index (0-based, as TMVA's ``fFold``).
    title : str
        The fold model's title, ``<title>_fold<k>``.
    roc_integral : float
        ROC integral on the fold's test events (NaN for regression).
    roc : ROCCurve or None
        The fold's test ROC curve.
    sig, sep : float
        Significance and separation of the response (0 for multiclass and regression, as TMVA).
    eff01, eff10, eff30, eff_area : float
        Signal efficiency at background efficiency 0.01, 0.10, 0.30, and the ``effArea``.
    train_eff01, train_eff10, train_eff30 : float
        The same on the fold's training events.
    evaluation : object
        The fold Factory's full evaluation result (:mod:`pymva.evaluation`).
    """

    fold: int
    title: str
    roc_integral: float
    roc: ROCCurve | None
    sig: float = 0.0
    sep: float = 0.0
    eff01: float = 0.0
    eff10: float = 0.0
    eff30: float = 0.0
    eff_area: float = 0.0
    train_eff01: float = 0.0
    train_eff10: float = 0.0
    train_eff30: float = 0.0
    evaluation: Any = field(default=None, repr=False)


def _fold_result(fold: int, outcome: TrainingOutcome, at: EAnalysisType) -> CrossValidationFoldResult:
    r = outcome.result
    if at == EAnalysisType.kClassification:
        return CrossValidationFoldResult(
            fold=fold,
            title=outcome.title,
            roc_integral=outcome.roc_integral,
            roc=outcome.roc,
            sig=float(r.significance),
            sep=float(r.separation),
            eff01=float(r.eff_at_01),
            eff10=float(r.eff_at_10),
            eff30=float(r.eff_at_30),
            eff_area=float(r.eff_area),
            train_eff01=float(r.train_eff_at_01),
            train_eff10=float(r.train_eff_at_10),
            train_eff30=float(r.train_eff_at_30),
            evaluation=r,
        )
    return CrossValidationFoldResult(
        fold=fold, title=outcome.title, roc_integral=outcome.roc_integral, roc=outcome.roc, evaluation=r
    )


class CrossValidationResult:
    """The per-fold results of one cross-validated method (TMVA ``CrossValidationResult``).

    Parameters
    ----------
    title : str
        The method title.
    method_name : str
        The method type name.
    folds : sequence of CrossValidationFoldResult
        In fold order.
    analysis_type : EAnalysisType
    """

    def __init__(
        self,
        title: str,
        method_name: str,
        folds: Sequence[CrossValidationFoldResult],
        analysis_type: EAnalysisType,
    ) -> None:
        self.title = title
        self.method_name = method_name
        self.analysis_type = analysis_type
        self._folds = list(folds)

    # ------------------------------------------------------------------ TMVA's getters
    def _rocs(self) -> dict[int, float]:
        if self.analysis_type == EAnalysisType.kRegression:
            raise OptionError(
                f"CrossValidation of {self.title}: ROC values exist for classification and multiclass only "
                "(this is a regression)"
            )
        return {f.fold: float(f.roc_integral) for f in self._folds}

    def GetROCValues(self) -> dict[int, float]:
        """ROC integral per fold, ``{fold: value}`` (TMVA's ``std::map<UInt_t, Float_t>``).

        Raises
        ------
        OptionError
            For a regression.
        """
        return self._rocs()

    def GetROCAverage(self) -> float:
        """The mean of the folds' ROC integrals."""
        values = list(self._rocs().values())
        return float(np.mean(values))

    def GetROCStandardDeviation(self) -> float:
        """The unbiased standard deviation of the folds' ROC integrals (``n - 1`` in the denominator)."""
        values = np.asarray(list(self._rocs().values()), dtype=np.float64)
        return float(np.sqrt(np.sum((values - values.mean()) ** 2) / (len(values) - 1)))

    def GetSigValues(self) -> list[float]:
        """Significance of the response per fold."""
        return [f.sig for f in self._folds]

    def GetSepValues(self) -> list[float]:
        """Separation of the response per fold."""
        return [f.sep for f in self._folds]

    def GetEff01Values(self) -> list[float]:
        """Signal efficiency at background efficiency 0.01 per fold (test events)."""
        return [f.eff01 for f in self._folds]

    def GetEff10Values(self) -> list[float]:
        """Signal efficiency at background efficiency 0.10 per fold (test events)."""
        return [f.eff10 for f in self._folds]

    def GetEff30Values(self) -> list[float]:
        """Signal efficiency at background efficiency 0.30 per fold (test events)."""
        return [f.eff30 for f in self._folds]

    def GetEffAreaValues(self) -> list[float]:
        """``effArea`` (TMVA's ranking figure) per fold."""
        return [f.eff_area for f in self._folds]

    def GetTrainEff01Values(self) -> list[float]:
        """Signal efficiency at background efficiency 0.01 per fold (training events)."""
        return [f.train_eff01 for f in self._folds]

    def GetTrainEff10Values(self) -> list[float]:
        """Signal efficiency at background efficiency 0.10 per fold (training events)."""
        return [f.train_eff10 for f in self._folds]

    def GetTrainEff30Values(self) -> list[float]:
        """Signal efficiency at background efficiency 0.30 per fold (training events)."""
        return [f.train_eff30 for f in self._folds]

    def GetFoldResults(self) -> list[CrossValidationFoldResult]:
        """Everything known of every fold (pymva), with each fold Factory's evaluation result."""
        return list(self._folds)

    def GetROCCurves(self, fLegend: bool = True) -> list[ROCCurve]:
        """The folds' test ROC curves (TMVA returns them in a ``TMultiGraph``), in fold order."""
        self._rocs()
        return [f.roc for f in self._folds if f.roc is not None]

    def GetAvgROCCurve(self, numSamples: int = 100) -> Graph:
        """The average ROC curve (TMVA ``GetAvgROCCurve``).

        The fold curves (background rejection against signal efficiency) are interpolated linearly at
        ``numSamples`` equidistant signal efficiencies from 0 to 1 and averaged.

        Raises
        ------
        OptionError
            For a regression, or fewer than two samples.
        """
        if int(numSamples) < 2:
            raise OptionError(f"GetAvgROCCurve(numSamples={numSamples}): at least 2 samples")
        x = np.linspace(0.0, 1.0, int(numSamples))
        curves = self.GetROCCurves()
        y = np.mean([np.interp(x, c.sensitivity[::-1], c.specificity[::-1]) for c in curves], axis=0)
        return Graph("AvgROCCurve", "Avg ROC Curve", x, y, " Signal Efficiency ", " Background Rejection ")

    def Print(self) -> None:
        """Log TMVA's table: the ROC integral of every fold, their average and standard deviation.

        Printed even with ``Silent``, as TMVA does.
        """
        lines = [" ==== Results ===="]
        for fold, value in self._rocs().items():
            lines.append(f"Fold  {fold} ROC-Int : {value:.4f}")
        lines += [
            "------------------------",
            f"Average ROC-Int : {self.GetROCAverage():.4f}",
            f"Std-Dev ROC-Int : {self.GetROCStandardDeviation():.4f}",
        ]
        from ..logger import get_logger

        print_lines(get_logger("CrossValidation", "pymva.envelope.crossvalidation"), lines, header_first=True)

    def Draw(self, name: str = "canvas") -> Any:
        """A matplotlib figure of the fold ROC curves (TMVA ``Draw``); it has ROOT's ``SaveAs``.

        Raises
        ------
        MissingExtraError
            Without matplotlib.
        """
        return self._draw(avg=False, folds=True, title="Cross Validation ROC Curves")

    def DrawAvgROCCurve(self, drawFolds: bool = False, title: str = "") -> Any:
        """A figure of the average ROC curve, with the fold curves when ``drawFolds`` (TMVA's)."""
        return self._draw(
            avg=True, folds=bool(drawFolds), title=title or "Cross Validation Average ROC Curve"
        )

    def _draw(self, *, avg: bool, folds: bool, title: str) -> Any:
        from ..extras import pyplot
        from ..io.rootfile import canvas_class

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6, 5), FigureClass=canvas_class())
        for i, (f, curve) in enumerate(zip(self._folds, self.GetROCCurves(), strict=True)):
            if not folds:
                break
            if avg:
                kwargs: dict[str, Any] = {"color": "black", "linewidth": 1}
                if i == 0:
                    kwargs["label"] = "Fold ROC Curves"
            else:
                kwargs = {"linewidth": 2, "label": f"{f.title} (ROC-Int {f.roc_integral:.4f})"}
            ax.plot(curve.sensitivity, curve.specificity, **kwargs)
        if avg:
            g = self.GetAvgROCCurve(100)
            ax.plot(g.x, g.y, color="red", linewidth=3, label="Avg ROC Curve")
        ax.set_xlabel("Signal Efficiency")
        ax.set_ylabel("Background Rejection")
        ax.set_title(title)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower left")
        fig.tight_layout()
        return fig

    def _repr_html_(self) -> str:
        rows: list[tuple[object, ...]] = [
            (f.fold, f.roc_integral, f.sig, f.sep, f.eff01, f.eff10, f.eff30, f.eff_area) for f in self._folds
        ]
        if self.analysis_type != EAnalysisType.kRegression:
            rows.append(
                ("average ± std", f"{self.GetROCAverage():.4f} ± {self.GetROCStandardDeviation():.4f}")
            )
        return html_table(
            f"CrossValidation: {self.method_name}/{self.title}",
            rows,
            (
                "fold",
                "ROC-integ",
                "significance",
                "separation",
                "eff@B=0.01",
                "eff@B=0.10",
                "eff@B=0.30",
                "effArea",
            ),
        )

    def __repr__(self) -> str:
        return f"<CrossValidationResult {self.method_name}/{self.title}: {len(self._folds)} folds>"


def _looks_like_options(text: str) -> bool:
    return not text.lower().endswith(".root") and ("=" in text or ":" in text or text.startswith("!"))


class CrossValidation(Envelope):
    """TMVA's ``CrossValidation`` (see the module docstring).

    Parameters
    ----------
    jobName : str
        The job name: first part of every weights-file name.
    dataloader : DataLoader
        The data; its training events are split into the folds.
    outputFile : str, os.PathLike, TFile or None
        The output ROOT file (a path, or a ``TFile`` opened with ``RECREATE``); ``None`` for none.  As in
        TMVA's three-argument form ``CrossValidation(jobName, dataloader, options)``, an option string
        may take its place.
    options : str
        The option string (:class:`CrossValidationOptions`).
    **kwargs
        Options as keyword arguments.

    Raises
    ------
    OptionError
        For options that cannot be interpreted, ``SplitExpr`` without ``SplitType=Deterministic``,
        ``FoldFileOutput`` without an output file, a split expression that does not parse.
    """

    def __init__(
        self,
        jobName: str,
        dataloader: DataLoader,
        outputFile: str | os.PathLike[str] | TFile | None = None,
        options: str = "",
        **kwargs: Any,
    ) -> None:
        path: str | os.PathLike[str] | None
        if isinstance(outputFile, str) and not options and _looks_like_options(outputFile):
            options, path = outputFile, None
        elif outputFile is None or isinstance(outputFile, (str, os.PathLike)):
            path = outputFile
        else:
            from ..io.rootfile import output_file_path

            path = output_file_path(outputFile)
        opts = CrossValidationOptions.parse(options, **kwargs)
        if "Color" not in opts.modified_options:
            opts = dataclasses.replace(opts, Color=sys.stdout.isatty())
        self.job_name = str(jobName)
        self.output_path: Path | None = Path(path) if path is not None else None
        super().__init__("CrossValidation", dataloader, opts)
        self.options: CrossValidationOptions = opts
        if opts.SplitType != "Deterministic" and opts.SplitExpr.strip():
            raise OptionError(
                f"SplitExpr can only be used with Deterministic Splitting (SplitType={opts.SplitType}, "
                f"SplitExpr={opts.SplitExpr}); add SplitType=Deterministic"
            )
        if opts.FoldFileOutput and self.output_path is None:
            raise OptionError("No output file given, cannot generate per fold output (FoldFileOutput).")
        self._results: list[CrossValidationResult] = []
        self._make_split()

    def _make_split(self) -> None:
        o = self.options
        if o.SplitType == "Deterministic" and not o.SplitExpr.strip():
            self.log.warning(
                "SplitType=Deterministic without a SplitExpr: the folds are drawn at random, stratified by "
                "class (as TMVA does); the Reader can then apply the fold models only with OutputEnsembling=Avg"
            )
        self._split = CvSplitKFolds(
            o.NumFolds, o.SplitExpr, stratified=o.SplitType != "Random", seed=o.SplitSeed
        )
        if o.SplitExpr.strip():  # check the expression against the spectators now (TMVA: at construction)
            from ..data.splitexpr import CvSplitKFoldsExpr

            CvSplitKFoldsExpr(o.SplitExpr, self._loader.spectators)

    # ------------------------------------------------------------------ TMVA's accessors
    def GetNumFolds(self) -> int:
        """``NumFolds``."""
        return int(self.options.NumFolds)

    def SetNumFolds(self, i: int) -> None:
        """Change ``NumFolds`` before :meth:`Evaluate`.

        Raises
        ------
        OptionError
            For fewer than two folds.
        """
        self.options = self.options.replace(NumFolds=int(i))
        self._make_split()

    def SetSplitExpr(self, splitExpr: str) -> None:
        """Change the split expression (and make the split deterministic) before :meth:`Evaluate`.

        Raises
        ------
        OptionError
            For an expression that does not parse or names an undeclared spectator.
        """
        self.options = self.options.replace(SplitExpr=str(splitExpr), SplitType="Deterministic")
        self._make_split()

    def GetResults(self) -> list[CrossValidationResult]:
        """One :class:`CrossValidationResult` per booked method, in booking order.

        Raises
        ------
        NotTrainedError
            Before :meth:`Evaluate` (TMVA: "No cross-validation results available").
        """
        if not self._results:
            raise NotTrainedError("No cross-validation results available: call Evaluate() first")
        return list(self._results)

    # ------------------------------------------------------------------ evaluation
    def _analysis_type(self, ds: DataSet) -> EAnalysisType:
        at = _ANALYSIS.get(self.options.AnalysisType)
        if at is not None:
            return at
        classes = ds.class_names
        if len(classes) == 2 and set(classes) == {"Signal", "Background"}:
            return EAnalysisType.kClassification
        if len(classes) >= 2:
            return EAnalysisType.kMulticlass
        raise OptionError(
            f"No analysis type for {len(classes)} classes: regression must be requested explicitly with the "
            "CrossValidation option AnalysisType=Regression"
        )

    def _factory_options(self, at: EAnalysisType, *, fold: bool) -> str:
        """TMVA's ``fCvFactoryOptions`` (fold Factories) and ``fOutputFactoryOptions`` (the combined one)."""
        o = self.options
        quiet = fold and self.workers > 1  # workers print nothing: their lines would interleave
        tokens = [
            "V" if o.V else "!V",
            f"VerboseLevel={o.VerboseLevel}",
            f"AnalysisType={at.type_name}",
            "DrawProgressBar" if o.DrawProgressBar and not quiet else "!DrawProgressBar",
            "Correlations" if o.Correlations else "!Correlations",
            "ROC" if o.ROC and not quiet else "!ROC",
            "Color" if o.Color else "!Color",
        ]
        if o.Transformations:
            tokens.append(f"Transformations={o.Transformations}")
        if o.Silent or quiet:
            tokens.append("Silent")
        tokens.append("ModelPersistence" if o.ModelPersistence and fold else "!ModelPersistence")
        return ":".join(tokens)

    def _fold_output(self, title: str) -> str | None:
        if not self.options.FoldFileOutput or self.output_path is None:
            return None
        return str(self.output_path.parent / f"{title}.root")

    def _jobs(self, folds: list[DataSet], at: EAnalysisType, apply_to: F32 | None) -> list[list[TrainingJob]]:
        options = self._factory_options(at, fold=True)
        out = []
        for m in self._booked():
            jobs = []
            for k, ds in enumerate(folds):
                title = fold_title(m.title, k)
                jobs.append(
                    TrainingJob(
                        dataset=ds,
                        job_name=self.job_name,
                        method=m.name,
                        title=title,
                        options=_fold_method_options(m.options, k),
                        factory_options=options,
                        output_path=self._fold_output(title),
                        seed=job_seed(self.job_name, title, self.options.SplitSeed),
                        apply_to=apply_to,
                    )
                )
            out.append(jobs)
        return out

    def Evaluate(self) -> None:
        """Train and test every booked method in every fold, write the weights files and the output file.

        Raises
        ------
        OptionError
            Without a booked method, or for an analysis type the loader cannot have.
        DataError
            From the DataSet, the split expression, or a fold without events.
        ModelError
            When a method could not be trained in a fold, and the methods' own errors.
        """
        start = time.perf_counter()
        booked = list(self._booked())
        ds = self._loader.GetDataSetInfo().GetDataSet()
        at = self._analysis_type(ds)
        if len(ds.test) > 2:
            self.log.info(
                "CrossValidation splits the %d training events into %d folds; the %d test events are not used "
                "(as in TMVA: give the test set as few events as possible, e.g. nTest_Signal=1)",
                len(ds.train),
                self.GetNumFolds(),
                len(ds.test),
            )
        folds = self._split.fold_assignment(ds.train, ds.spectators)
        fold_sets = self._split.fold_datasets(ds, folds)
        combined_sample = ds.train.subset(self._split.combined_order(folds))
        combined = ds.with_samples(combined_sample, combined_sample)
        # OutputEnsembling=Avg: every fold model scores every event (TMVA averages all of them)
        apply_to = combined_sample.X if self.options.OutputEnsembling == "Avg" else None
        jobs = self._jobs(fold_sets, at, apply_to)
        if self.workers > 1:
            self.log.info(
                "Training %d folds of %d method(s) in %d worker processes",
                self.GetNumFolds(),
                len(booked),
                self.workers,
            )
            flat = run_jobs(run_training_job, [j for method_jobs in jobs for j in method_jobs], self.workers)
            k = self.GetNumFolds()
            outcomes = [flat[i * k : (i + 1) * k] for i in range(len(booked))]
        else:
            outcomes = []
            for m, method_jobs in zip(booked, jobs, strict=True):
                self.log.info("Evaluate method: %s", m.title)
                outcomes.append(run_training_job_list(method_jobs))
        self._configure_logging()  # the fold Factories configured the log as they needed it
        output = Factory(self.job_name, self.output_path, self._factory_options(at, fold=False))
        loader = DataLoader.from_dataset(combined)
        self._results = []
        for m, per in zip(booked, outcomes, strict=True):
            untrained = [o.title for o in per if not o.trained]
            if untrained:
                raise ModelError(
                    f"CrossValidation: method {m.name} '{m.title}' was not trained in {untrained} (too few "
                    f"training events, or it cannot handle {at.type_name}; see the warnings above)"
                )
            self._results.append(
                CrossValidationResult(
                    m.title, m.name, [_fold_result(k, o, at) for k, o in enumerate(per)], at
                )
            )
            method = self._combined_method(m.title, m.name, combined, at)
            weights = None
            if self.options.ModelPersistence:
                weights = weights_file_path(method.context.weight_dir, self.job_name, m.title)
                write_weights_file(
                    method,
                    weights,
                    job_name=self.job_name,
                    training_events=len(ds.train),
                    training_time=sum(o.training_time for o in per),
                )
                self.log.info("Creating xml weight file: %s", weights)
            if self.options.OutputEnsembling == "Avg":
                values = np.mean([np.asarray(o.applied_values, dtype=np.float64) for o in per], axis=0)
                responses = values.astype(np.float32)
            else:
                responses = np.concatenate([np.asarray(o.test_values, dtype=np.float32) for o in per], axis=0)
            output.add_tested_method(
                loader, method, test_values=responses, train_values=responses, weights_file=weights
            )
        output.EvaluateAllMethods()
        self._configure_logging()
        self.log.info("Evaluation done (%.3g s).", time.perf_counter() - start)

    def _combined_method(
        self, title: str, type_name: str, ds: DataSet, at: EAnalysisType
    ) -> MethodCrossValidation:
        o = self.options
        context = MethodContext(
            job_name=self.job_name,
            dataset_name=ds.name,
            analysis_type=at,
            variables=tuple(ds.variables),
            class_names=tuple(ds.class_names),
            targets=tuple(ds.targets),
            spectators=tuple(ds.spectators),
            weight_dir=Path(ds.name) / "weights",
            verbose=o.V,
            model_persistence=o.ModelPersistence,
        )
        method = MethodCrossValidation(
            title,
            context,
            "",
            SplitExpr=o.SplitExpr,
            NumFolds=o.NumFolds,
            EncapsulatedMethodName=title,
            EncapsulatedMethodTypeName=type_name,
            OutputEnsembling=o.OutputEnsembling,
        )
        method.n_training_events_ = len(ds.train)
        return method


def run_training_job_list(jobs: Sequence[TrainingJob]) -> list[TrainingOutcome]:
    """Run jobs one after the other in this process (the serial path of :meth:`CrossValidation.Evaluate`)."""
    return run_jobs(run_training_job, jobs, 1)


def _fold_method_options(options: str, fold: int) -> str:
    """The method options of one fold: an explicit ``FilenameTrainedModel`` gets the fold's suffix.

    Every fold trains a fresh copy of the method; a PyTorch method that names its trained-model file
    would otherwise write every fold's model to the same file.
    """
    tokens = options.split(":")
    for i, token in enumerate(tokens):
        name, sep, value = token.partition("=")
        if sep and name.strip().lower() == "filenametrainedmodel" and value.strip():
            p = Path(value.strip())
            tokens[i] = f"{name}={p.with_name(f'{p.stem}_fold{fold + 1}{p.suffix}')}"
    return ":".join(tokens)
