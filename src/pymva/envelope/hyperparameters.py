"""``TMVA.HyperParameterOptimisation``: tuning a method's numeric options per fold
(``tmva/tmva/src/HyperParameterOptimisation.cxx``, ``OptimizeConfigParameters.cxx``), on :mod:`scipy.optimize`.

::

    hpo = TMVA.HyperParameterOptimisation(dataloader)            # or with "FitType=Scan:NumFolds=3"
    hpo.SetFitter("Scan")                                       # Scan, Minuit (default), FitGA
    hpo.SetFOMType("ROCIntegral")                               # default: Separation
    hpo.BookMethod(TMVA.Types.kBDT, "BDT", "!H:!V:BoostType=Grad")
    hpo.Evaluate()
    hpo.GetResults().Print()                                    # the best parameters of every fold

The loader's training events are split into ``NumFolds`` folds (stratified by class, TMVA's
``CvSplitBootstrappedStratified``); in every fold the method is trained on the other folds with the
parameters the fitter proposes, and the *figure of merit* (TMVA's ``OptimizeConfigParameters::GetFOM``)
measured on the fold's events:

==================  ===================================================================
``Separation``      the separation of the response distributions
``ROCIntegral``     the ROC integral
``SigEffAtBkgEff01`` the signal efficiency at background efficiency 0.1 (``…001``: 0.01,
                    ``…002``: 0.02)
``BkgRejAtSigEff05`` the background rejection at signal efficiency 0.5
``BkgEffAtSigEff05`` the background efficiency at signal efficiency 0.5 (minimised; TMVA
                    maximises it, which cannot be meant)
==================  ===================================================================

Fitters (``FitType``): ``Scan`` trains every point of the grid of the parameters' intervals (TMVA's
``optimizeScan``); ``Minuit`` is :func:`scipy.optimize.minimize` with Powell's derivative-free method
from the intervals' centres within their bounds (the figure of merit of a trained method is not
differentiable); ``FitGA`` is :func:`scipy.optimize.differential_evolution`, seeded, of a population
of about 20 (TMVA's genetic fitter: ``PopSize=20:Steps=30``).  A parameter point is trained once
(TMVA's ``fAlreadyTrainedParCombination``); integer options are rounded.

The parameters and their intervals are TMVA's for BDT (``NTrees`` 10…1000, ``MaxDepth`` 2…4,
``MinNodeSize`` 1…30 % on a log scale, and ``Shrinkage`` or ``AdaBoostBeta`` for Grad and AdaBoost);
for any method whose options are numeric they can be given with :meth:`HyperParameterOptimisation.SetTuneParameters`.
The folds are optimised in ``NumWorkers`` processes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..data.dataset import DataSet
from ..errors import ModelError, NotTrainedError, OptionError, did_you_mean
from ..methods.registry import get_method_class
from ..options import option, positive
from .cvsplit import CvSplitKFolds
from .envelope import Envelope, EnvelopeOptions, print_lines
from .jobs import TrainingJob, TrainingOutcome, run_training_job
from .parallel import job_seed, run_jobs

__all__ = [
    "FIGURES_OF_MERIT",
    "FIT_TYPES",
    "HyperParameterOptimisation",
    "HyperParameterOptimisationResult",
    "Interval",
]

FIT_TYPES = ("Scan", "Minuit", "FitGA")
FIGURES_OF_MERIT = (
    "Separation",
    "ROCIntegral",
    "SigEffAtBkgEff01",
    "SigEffAtBkgEff001",
    "SigEffAtBkgEff002",
    "BkgRejAtSigEff05",
    "BkgEffAtSigEff05",
)
#: TMVA's Factory options of the trainings (``HyperParameterOptimisation`` constructor).
_FACTORY_OPTIONS = "!V:!ROC:Silent:!ModelPersistence:!Color:!DrawProgressBar:AnalysisType=Classification"


@dataclass(frozen=True)
class Interval:
    """A tuning range (TMVA's ``Interval`` and, with ``log``, ``LogInterval``).

    Attributes
    ----------
    min, max : float
    nbins : int
        Number of points of a scan (``GetElement(k)``, ``k = 0 … nbins-1``, ends included).
    log : bool
        Points spaced evenly in ``log`` (``LogInterval``).
    """

    min: float
    max: float
    nbins: int
    log: bool = False

    def __post_init__(self) -> None:
        if not self.max >= self.min or self.nbins < 1 or (self.log and self.min <= 0):
            raise OptionError(
                f"Interval({self.min}, {self.max}, {self.nbins}{', log' if self.log else ''}): needs min <= max, "
                "nbins >= 1 (and min > 0 on a log scale)"
            )

    def elements(self) -> list[float]:
        """The scan points."""
        if self.nbins == 1:
            return [self.mean]
        if self.log:
            return [float(v) for v in np.geomspace(self.min, self.max, self.nbins)]
        return [float(v) for v in np.linspace(self.min, self.max, self.nbins)]

    @property
    def mean(self) -> float:
        """The centre (TMVA's start value of the fits): arithmetic, or geometric on a log scale."""
        return math.sqrt(self.min * self.max) if self.log else 0.5 * (self.min + self.max)


def default_tune_parameters(method: str, options: Any, n_variables: int) -> dict[str, Interval]:
    """TMVA's tuning parameters of a method (``MethodBDT::OptimizeTuningParameters``); empty if it has none."""
    if method != "BDT":
        return {}
    out = {
        "NTrees": Interval(10, 1000, 5),
        "MaxDepth": Interval(2, 4, 3),
        "MinNodeSize": Interval(1, 30, 30, log=True),
    }
    boost = str(getattr(options, "BoostType", ""))
    if boost == "AdaBoost":
        out["AdaBoostBeta"] = Interval(0.2, 1.0, 5)
    elif boost == "Grad":
        out["Shrinkage"] = Interval(0.05, 0.50, 5)
    elif boost == "Bagging" and bool(getattr(options, "UseRandomisedTrees", False)):
        out["UseNvars"] = Interval(math.floor(n_variables * 0.25), math.ceil(n_variables * 0.75), 4)
    return out


@dataclass(frozen=True)
class HyperParameterOptimisationOptions(EnvelopeOptions):
    """Options of ``HyperParameterOptimisation`` (pymva; TMVA sets them with ``SetFitter``,
    ``SetFOMType`` and ``SetNumFolds``)."""

    component_name: ClassVar[str] = "HyperParameterOptimisation"

    FitType: str = option("Minuit", "The fitter: Scan, Minuit or FitGA", allowed=FIT_TYPES)
    FigureOfMerit: str = option("Separation", "The figure of merit to maximise", allowed=FIGURES_OF_MERIT)
    NumFolds: int = option(5, "Number of folds", check=positive)
    SplitSeed: int = option(100, "Seed of the folds and of FitGA")


@dataclass
class _FoldJob:
    """One fold's optimisation (sent to a worker as it is)."""

    dataset: DataSet
    method: str
    title: str
    options: str
    tune: dict[str, Interval]
    kinds: dict[str, str]  # parameter -> "int", "float", "percent"
    fit_type: str
    fom: str
    seed: int


@dataclass
class FoldOptimum:
    """The outcome of one fold: the best parameters and how they were found."""

    parameters: dict[str, float]
    fom: float
    roc_integral: float
    trainings: int
    foms: list[float] = field(default_factory=list)


def figure_of_merit(name: str, outcome: TrainingOutcome) -> float:
    """TMVA's ``OptimizeConfigParameters::GetFOM`` of a trained method (to be maximised)."""
    r, roc = outcome.result, outcome.roc
    if name == "Separation":
        return float(r.separation)
    if name == "ROCIntegral":
        return float(outcome.roc_integral)
    if name.startswith("SigEffAtBkgEff"):
        eff_b = {"SigEffAtBkgEff01": 0.1, "SigEffAtBkgEff001": 0.01, "SigEffAtBkgEff002": 0.02}[name]
        return float(roc.eff_s_for_eff_b(eff_b))
    rej = float(np.interp(0.5, roc.sensitivity[::-1], roc.specificity[::-1]))
    return rej if name == "BkgRejAtSigEff05" else -(1.0 - rej)


def _format(kind: str, value: float) -> str:
    if kind == "int":
        return str(round(value))
    if kind == "percent":
        return f"{value:.6g}%"
    return f"{value:.6g}"


def optimise_fold(job: _FoldJob) -> FoldOptimum:
    """Optimise the parameters on one fold (run in a worker process by :meth:`HyperParameterOptimisation.Evaluate`).

    Raises
    ------
    ModelError
        When the method cannot be trained with a proposed point.
    """
    names = sorted(job.tune)  # TMVA's std::map order
    cache: dict[tuple[str, ...], tuple[float, float]] = {}
    foms: list[float] = []

    def evaluate(point: list[float]) -> tuple[float, float, tuple[str, ...]]:
        key = tuple(_format(job.kinds[n], v) for n, v in zip(names, point, strict=True))
        if key not in cache:
            extra = ":".join(f"{n}={t}" for n, t in zip(names, key, strict=True))
            options = f"{job.options}:{extra}" if job.options else extra
            outcome = run_training_job(
                TrainingJob(
                    job.dataset,
                    "HyperParameterOptimisation",
                    job.method,
                    job.title,
                    options,
                    _FACTORY_OPTIONS,
                    seed=job.seed,
                )
            )
            if not outcome.trained:
                raise ModelError(f"HyperParameterOptimisation: {job.title} was not trained with {extra}")
            fom = figure_of_merit(job.fom, outcome)
            cache[key] = (fom, float(outcome.roc_integral))
            foms.append(fom)
        fom, auc = cache[key]
        return fom, auc, key

    intervals = [job.tune[n] for n in names]
    if job.fit_type == "Scan":
        grids = [iv.elements() for iv in intervals]
        # TMVA's GetScanIndices: the first parameter varies fastest
        for combo in itertools.product(*reversed(grids)):
            evaluate(list(reversed(combo)))
    else:
        from scipy import optimize

        def from_x(xs: Any) -> list[float]:
            return [
                float(min(max(math.exp(v) if iv.log else v, iv.min), iv.max))
                for v, iv in zip(xs, intervals, strict=True)
            ]

        bounds = [(math.log(iv.min), math.log(iv.max)) if iv.log else (iv.min, iv.max) for iv in intervals]

        def objective(xs: Any) -> float:
            return -evaluate(from_x(xs))[0]

        if job.fit_type == "Minuit":
            start = [math.log(iv.mean) if iv.log else iv.mean for iv in intervals]
            optimize.minimize(
                objective,
                start,
                method="Powell",
                bounds=bounds,
                options={"maxfev": 60 * len(names), "xtol": 1e-2, "ftol": 1e-4},
            )
        else:
            optimize.differential_evolution(
                objective,
                bounds,
                seed=job.seed,
                popsize=max(5, math.ceil(20 / len(names))),
                maxiter=30,
                tol=0.01,
                polish=False,
            )
    # the best point trained: the first of the highest figure of merit (TMVA's strict "better than")
    best = max(cache, key=lambda k: cache[k][0])
    fom, auc = cache[best]
    params = {n: float(t.rstrip("%")) for n, t in zip(names, best, strict=True)}
    return FoldOptimum(params, fom, auc, len(cache), foms)


class HyperParameterOptimisationResult:
    """The best parameters of every fold (TMVA ``HyperParameterOptimisationResult``).

    Attributes
    ----------
    fFoldParameters : list of dict of str to float
        Per fold, parameter → best value (TMVA's public member of that name).
    """

    def __init__(self, method_name: str, title: str, folds: list[FoldOptimum], fom: str) -> None:
        self.fMethodName = method_name
        self.title = title
        self.figure_of_merit = fom
        self._folds = list(folds)
        self.fFoldParameters: list[dict[str, float]] = [dict(f.parameters) for f in folds]

    def GetFoldParameters(self) -> list[dict[str, float]]:
        """Per fold, the best parameters."""
        return [dict(p) for p in self.fFoldParameters]

    def GetFOMValues(self) -> list[float]:
        """Per fold, the figure of merit of the best parameters (pymva)."""
        return [f.fom for f in self._folds]

    def GetROCValues(self) -> list[float]:
        """Per fold, the ROC integral with the best parameters (on the fold's events)."""
        return [f.roc_integral for f in self._folds]

    def GetROCAverage(self) -> float:
        """The mean of :meth:`GetROCValues`."""
        return float(np.mean(self.GetROCValues()))

    def GetNumTrainings(self) -> list[int]:
        """Per fold, the number of parameter points trained (pymva)."""
        return [f.trainings for f in self._folds]

    def Print(self) -> None:
        """Print TMVA's layout: per fold, ``Optimisation for <method> fold <k>`` and every parameter."""
        lines = []
        for j, params in enumerate(self.fFoldParameters):
            lines.append("===========================================================")
            lines.append(f"Optimisation for {self.fMethodName} fold {j + 1}")
            lines += [f"{name}     {value:g}" for name, value in params.items()]
        from ..logger import get_logger

        log = get_logger("HyperParameterOptimisation", "pymva.envelope.hyperparameters")
        print_lines(log, lines, header_first=True)

    def _repr_html_(self) -> str:
        from .._html import html_table

        names = sorted({n for p in self.fFoldParameters for n in p})
        rows = [
            (j + 1, *[p.get(n, "") for n in names], f.fom)
            for j, (p, f) in enumerate(zip(self.fFoldParameters, self._folds, strict=True))
        ]
        return html_table(
            f"HyperParameterOptimisation: {self.fMethodName}/{self.title}",
            rows,
            ("fold", *names, self.figure_of_merit),
        )

    def __repr__(self) -> str:
        return f"<HyperParameterOptimisationResult {self.fMethodName}: {self.fFoldParameters}>"


class HyperParameterOptimisation(Envelope):
    """TMVA's ``HyperParameterOptimisation`` (see the module docstring).

    Parameters
    ----------
    dataloader : DataLoader
    options : str
        :class:`HyperParameterOptimisationOptions` (pymva; TMVA takes the loader only).

    Raises
    ------
    OptionError
        For options that cannot be interpreted.
    """

    def __init__(self, dataloader: Any, options: str = "", **kwargs: Any) -> None:
        opts = HyperParameterOptimisationOptions.parse(options, **kwargs)
        super().__init__("HyperParameterOptimisation", dataloader, opts)
        self.options: HyperParameterOptimisationOptions = opts
        self._tune: dict[str, dict[str, Interval]] = {}
        self._results: list[HyperParameterOptimisationResult] = []

    # ------------------------------------------------------------------ TMVA's setters
    def SetFitter(self, fitType: str) -> None:
        """``Scan``, ``Minuit`` or ``FitGA``.

        Raises
        ------
        OptionError
            For another fitter (listing these).
        """
        self.options = self.options.replace(FitType=_choose(fitType, FIT_TYPES, "FitType"))

    def GetFitter(self) -> str:
        """The fitter."""
        return str(self.options.FitType)

    GetFiiter = GetFitter  # TMVA's spelling

    def SetFOMType(self, ftype: str) -> None:
        """The figure of merit (see the module docstring).

        Raises
        ------
        OptionError
            For another name (listing the known ones).
        """
        self.options = self.options.replace(FigureOfMerit=_choose(ftype, FIGURES_OF_MERIT, "FigureOfMerit"))

    def GetFOMType(self) -> str:
        """The figure of merit."""
        return str(self.options.FigureOfMerit)

    def SetNumFolds(self, folds: int) -> None:
        """The number of folds (at least 2)."""
        if int(folds) < 2:
            raise OptionError(f"SetNumFolds({folds}): at least 2 folds")
        self.options = self.options.replace(NumFolds=int(folds))

    def GetNumFolds(self) -> int:
        """The number of folds."""
        return int(self.options.NumFolds)

    def SetTuneParameters(
        self, methodTitle: str, parameters: Mapping[str, Interval | tuple[float, ...]]
    ) -> None:
        """Tune these options of a booked method instead of TMVA's defaults (pymva).

        Parameters
        ----------
        methodTitle : str
        parameters : mapping of option name to Interval or ``(min, max, nbins[, log])``

        Raises
        ------
        OptionError
            For an unbooked title, an option the method does not declare or that is not numeric.
        """
        booked = {m.title: m for m in self._methods}
        if methodTitle not in booked:
            raise OptionError(f"no method '{methodTitle}' booked{did_you_mean(methodTitle, booked)}")
        cls = get_method_class(booked[methodTitle].name)
        decls = {d.name.lower(): d for d in cls.Options.declarations()}
        tune: dict[str, Interval] = {}
        for name, spec in parameters.items():
            decl = decls.get(name.lower())
            if decl is None or decl.type not in (int, float, str) or decl.size is not None:
                raise OptionError(
                    f"method {cls.method_type.type_name} has no numeric option '{name}'"
                    f"{did_you_mean(name, [d.name for d in decls.values()])}"
                )
            if isinstance(spec, Interval):
                tune[decl.name] = spec
            else:
                lo, hi, nbins, *log = spec
                tune[decl.name] = Interval(float(lo), float(hi), int(nbins), bool(log[0]) if log else False)
        self._tune[methodTitle] = tune

    def _parameters(
        self, name: str, title: str, options: str, n_variables: int
    ) -> tuple[dict[str, Interval], dict[str, str]]:
        cls = get_method_class(name)
        parsed = cls.Options.parse(options, component=f"method {name} ('{title}')")
        tune = self._tune.get(title) or default_tune_parameters(name, parsed, n_variables)
        if not tune:
            raise OptionError(
                f"method {name} '{title}' has no default tuning parameters (TMVA has them for BDT); give them with "
                f"hpo.SetTuneParameters('{title}', {{'OptionName': (min, max, nbins)}})"
            )
        decls = {d.name: d for d in cls.Options.declarations()}
        kinds = {}
        for p in tune:
            d = decls[p]
            kinds[p] = (
                "int"
                if d.type is int
                else ("percent" if d.type is str and str(d.default).endswith("%") else "float")
            )
        return tune, kinds

    def Evaluate(self) -> None:
        """Optimise every booked method in every fold.

        Raises
        ------
        OptionError
            Without a booked method, or for a method without tuning parameters.
        ModelError, DataError
            From the trainings and the folds.
        """
        ds = self._loader.GetDataSetInfo().GetDataSet()
        o = self.options
        split = CvSplitKFolds(o.NumFolds, "", stratified=True, seed=o.SplitSeed)
        folds = split.fold_datasets(ds, split.fold_assignment(ds.train, ds.spectators))
        self._results = []
        for m in self._booked():
            tune, kinds = self._parameters(m.name, m.title, m.options, len(ds.variables))
            for p, iv in sorted(tune.items()):
                self.log.info("%s in range from: %g to: %g in : %d steps", p, iv.min, iv.max, iv.nbins)
            self.log.info(" using the options: %s and %s", o.FigureOfMerit, o.FitType)
            jobs = [
                _FoldJob(
                    fd,
                    m.name,
                    f"{m.title}_opt{k + 1}",
                    m.options,
                    tune,
                    kinds,
                    o.FitType,
                    o.FigureOfMerit,
                    job_seed("HyperParameterOptimisation", m.title, k, o.SplitSeed),
                )
                for k, fd in enumerate(folds)
            ]
            optima = run_jobs(optimise_fold, jobs, self.workers)
            self._configure_logging()
            for k, opt in enumerate(optima):
                self.log.info(
                    "For %s fold %d the optimized Parameters are: %s", m.title, k + 1, opt.parameters
                )
            self._results.append(HyperParameterOptimisationResult(m.name, m.title, optima, o.FigureOfMerit))

    def GetResults(self) -> HyperParameterOptimisationResult:
        """The result of the last booked method (TMVA keeps one); :meth:`GetAllResults` has every method's.

        Raises
        ------
        NotTrainedError
            Before :meth:`Evaluate`.
        """
        if not self._results:
            raise NotTrainedError("No hyper-parameter optimisation results available: call Evaluate() first")
        return self._results[-1]

    def GetAllResults(self) -> list[HyperParameterOptimisationResult]:
        """One result per booked method, in booking order (pymva)."""
        if not self._results:
            raise NotTrainedError("No hyper-parameter optimisation results available: call Evaluate() first")
        return list(self._results)


def _choose(value: str, allowed: tuple[str, ...], what: str) -> str:
    for a in allowed:
        if a.lower() == str(value).lower():
            return a
    raise OptionError(
        f"{what} '{value}' is not known{did_you_mean(str(value), allowed)}; choose one of {', '.join(allowed)}"
    )
