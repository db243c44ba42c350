"""``FDA`` (``Types.kFDA``): TMVA's function discriminant analysis (``MethodFDA.cxx``).

A user formula with free parameters is fitted to the training events with one of TMVA's fitters
(:mod:`pymva.methods.fitters`):

* ``Formula`` (default ``"(0)"``) in TMVA's notation: ``(i)`` is parameter ``i``, ``x<k>`` the k-th
  input variable (after ``VarTransform``).  The text is rewritten as ``MethodFDA::CreateFormula``
  does — plain text replacement of ``(i)`` for ``i = 0 … NPars−1``, then of ``x<k>`` from the last
  variable down (so that ``x10`` is not read as ``x1`` followed by ``0``) — into names that pymva's
  expression engine (:mod:`pymva.data.expression`) binds to the parameter values and the variables'
  columns; the formula is then evaluated vectorised over all events, never as Python code.  A
  ``(i)`` with ``i >= NPars``, an ``x<k>`` with ``k >= NVar`` (up to 999, as TMVA checks) or any
  other name is an :class:`~pymva.errors.OptionError`.
* ``ParRanges`` (default ``"()"``): ``"(min,max);(min,max);…"``, one interval per parameter; the
  number of parameters is the number of ``)``; limits are read as ``Float_t`` (rounded to float32)
  and a width below ``1e-30`` fixes the parameter.
* ``FitMethod`` (``MINUIT`` default, ``MC``, ``GA``, ``SA``) and ``Converger`` (``None`` default,
  ``MINUIT``).  The fitters' own options (``PopSize``, ``SampleSize``, ``MaxCalls``, ``ErrorLevel``
  …) go in the same option string; with ``Converger=MINUIT`` the MINUIT converger takes its
  options first and the fitter the rest, as TMVA's ``MethodFDA::ProcessOptions`` passes the option
  string on.  A fitter option that neither fitter in use declares is an error (TMVA's
  ``CheckForUnusedOptions``).  With a converger every estimate of the fitter is a MINUIT fit started
  from the fitter's parameter set (TMVA's ``MinuitFitter::EstimatorFunction`` runs ``Run``), and the
  result is the best converged set.

The estimator (``MethodFDA::EstimatorFunction``), with ``F(x; p)`` the formula and ``w`` the
training weights:

* classification: ``Σ_S w (F − 1)² / W_S + Σ_B w F² / W_B`` with ``W_S``, ``W_B`` the classes'
  sums of weights (each class normalised to its own sum, so that both count alike);
* regression (one target): ``Σ w (F − t)² / Σ w`` with ``t`` the (transformed) target.

The start values are the intervals' centres.  The response is ``F(x; p̂)`` in double precision
(the Factory stores it as float32); regression passes it back through the inverse target
transformation.  TMVA's ``FDA`` also books multiclass jobs and regression with several targets,
but its estimator there is not usable (multiclass minimises ``Σ t·log F`` of the raw formula
values, several targets shift the variables onto parameter slots); pymva declines those jobs.

Weights file (``AddWeightsXMLTo``): ``<Weights NPars="n" NDim="1" Formula="…">`` with one
``<Parameter Index="i" Value="…"/>`` per parameter; ``ReadWeightsFromXML`` takes the formula from
the ``Formula`` attribute (``NDim`` missing reads as 1).  TMVA makes no variable ranking for FDA.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..data.expression import Formula
from ..errors import DataError, ModelError, OptionError
from ..options import kwargs_to_tokens, option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .fitters import FITTERS, FitterBase, Interval, MinuitFitter
from .fitters.base import split_fitter_options
from .ranking import formatted_table
from .registry import register_method

__all__ = ["FDAFormula", "FDAOptions", "MethodFDA", "parse_par_ranges"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: TMVA's sanity checks look for stray ``(i)`` and ``x<k>`` up to this index.
_CHECK_LIMIT = 1000
_PAR = "FDA_PAR_"
_VAR = "FDA_VAR_"
_PLACEHOLDER = re.compile(rf"^(?:{_PAR}|{_VAR})(\d+)$")


@dataclass(frozen=True)
class FDAOptions(BaseMethodOptions):
    """Options of FDA (TMVA ``MethodFDA::DeclareOptions``); the fitters' options come on top."""

    Formula: str = option("(0)", "The discrimination formula")
    ParRanges: str = option("()", "Parameter ranges")
    FitMethod: str = option("MINUIT", "Optimisation Method", allowed=("MC", "GA", "SA", "MINUIT"))
    Converger: str = option("None", "FitMethod uses Converger to improve result", allowed=("None", "MINUIT"))


def _fitter_option_names() -> dict[str, list[str]]:
    """Lower-case option name → the fitters (``FitMethod`` values) that declare it."""
    names: dict[str, list[str]] = {}
    for key, cls in FITTERS.items():
        for decl in cls.Options.declarations():
            names.setdefault(decl.name.lower(), []).append(key)
    return names


_FITTER_OPTIONS = _fitter_option_names()


def _token_name(token: str) -> str:
    return token.strip().lstrip("!").partition("=")[0].partition("[")[0].strip().lower()


def parse_par_ranges(text: str, where: str = "FDA") -> list[Interval]:
    """The parameter intervals of a ``ParRanges`` string (TMVA ``MethodFDA::ProcessOptions``).

    Parameters
    ----------
    text : str
        ``"(min,max);(min,max);…"``; blanks are ignored, the number of parameters is the number of
        ``)``.  ``"()"`` is the interval ``[0, 0]`` (TMVA reads the missing limits as 0).
    where : str
        Prefix of error messages.

    Returns
    -------
    list of Interval
        One continuous interval per parameter, limits rounded to float32 (TMVA reads ``Float_t``);
        a width below ``1e-30`` gives a fixed parameter (``max = min``).

    Raises
    ------
    OptionError
        If the number of ``)`` differs from the number of ``;``-separated ranges, a range is not
        ``(a,b)`` with numbers ``a``, ``b``, or ``min > max``.
    """
    s = str(text).replace(" ", "")
    n_pars = s.count(")")
    pieces = [p for p in s.split(";") if p]
    fmt = (
        'the format of the "ParRanges" string must be "(-1.2,3.4);(-2.3,4.55);...", where the numbers in '
        '"(a,b)" are the minimum and maximum of one parameter'
    )
    if len(pieces) != n_pars:
        raise OptionError(
            f"{where} <ProcessOptions>: mismatch in parameter string {text!r}: the number of parameters: "
            f"{n_pars} != ranges defined: {len(pieces)}; {fmt}"
        )
    out: list[Interval] = []
    for ipar, piece in enumerate(pieces):
        if not (piece.startswith("(") and piece.endswith(")")):
            raise OptionError(f"{where}: range {ipar} {piece!r} of ParRanges is not '(min,max)'; {fmt}")
        inner = piece[1:-1]
        lo_s, comma, hi_s = inner.partition(",")
        if not comma and inner:
            raise OptionError(f"{where}: range {ipar} {piece!r} of ParRanges has no ','; {fmt}")
        try:
            lo = float(np.float32(float(lo_s))) if lo_s else 0.0
            hi = float(np.float32(float(hi_s))) if hi_s else 0.0
        except ValueError:
            raise OptionError(
                f"{where}: range {ipar} {piece!r} of ParRanges holds a limit that is not a number"
            ) from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise OptionError(f"{where}: range {ipar} {piece!r} of ParRanges has a limit that is not finite")
        if abs(hi - lo) < 1.0e-30:
            hi = lo
        if lo > hi:
            raise OptionError(
                f"{where} <ProcessOptions>: max > min in interval for parameter: [{ipar}] : [{lo:g}, {hi:g}]"
            )
        out.append(Interval(lo, hi))
    return out


class FDAFormula:
    """An FDA formula bound to its parameters and variables (TMVA ``MethodFDA::CreateFormula``).

    Parameters
    ----------
    text : str
        The formula in TMVA's notation (``"(0)+(1)*x0"``).
    n_pars, n_vars : int
        Number of parameters and of input variables.
    where : str
        Prefix of error messages.

    Attributes
    ----------
    text : str
        The formula as given.
    rewritten : str
        The text pymva's expression engine compiles (the equivalent of TMVA's
        "TFormula-compatible formula string").

    Raises
    ------
    OptionError
        For a ``(i)`` with ``i >= n_pars``, an ``x<k>`` with ``k >= n_vars``, a name that is neither,
        or a text that does not parse.
    """

    def __init__(self, text: str, n_pars: int, n_vars: int, where: str = "FDA") -> None:
        self.text = str(text)
        self.n_pars = int(n_pars)
        self.n_vars = int(n_vars)
        t = self.text
        for ipar in range(self.n_pars):
            t = t.replace(f"({ipar})", f"({_PAR}{ipar})")
        for ipar in range(self.n_pars, _CHECK_LIMIT):
            if f"({ipar})" in t:
                raise OptionError(
                    f'{where} <CreateFormula>: Formula contains expression: "({ipar})", which cannot be '
                    "attributed to a parameter; it may be that the number of variable ranges given via "
                    f'"ParRanges" ({self.n_pars}) does not match the number of parameters in the formula '
                    "expression, please verify!"
                )
        for ivar in range(self.n_vars - 1, -1, -1):
            t = t.replace(f"x{ivar}", f"({_VAR}{ivar})")
        for ivar in range(self.n_vars, _CHECK_LIMIT):
            if f"x{ivar}" in t:
                raise OptionError(
                    f'{where} <CreateFormula>: Formula contains expression: "x{ivar}", which cannot be '
                    f"attributed to an input variable (there are {self.n_vars}: x0 … x{self.n_vars - 1})"
                )
        self.rewritten = t
        try:
            self._formula = Formula(t)
        except DataError as exc:
            raise OptionError(
                f"{where} <CreateFormula>: Formula {self.text!r} could not be compiled: {exc}"
            ) from None
        self._pars: list[int] = []
        self._vars: list[int] = []
        for name in sorted(self._formula.branches):
            m = _PLACEHOLDER.match(name)
            if m is None:
                raise OptionError(
                    f"{where} <CreateFormula>: Formula {self.text!r} names {name!r}, which is neither a "
                    "parameter '(i)' nor an input variable 'x<k>'"
                )
            (self._pars if name.startswith(_PAR) else self._vars).append(int(m.group(1)))

    def __call__(self, parameters: Sequence[float], X: F64 | Mapping[str, Any]) -> F64:
        """Formula values for one parameter set and all events.

        Parameters
        ----------
        parameters : sequence of float, length n_pars
        X : ndarray of float64, shape (n_events, n_vars), or the prepared columns (:meth:`columns`)

        Returns
        -------
        ndarray of float64, shape (n_events,)

        Raises
        ------
        ModelError
            If the formula does not give one number per event.
        """
        cols = self.columns(X) if isinstance(X, np.ndarray) else X
        n = int(cols["__n__"])
        arrays = dict(cols)
        for i in self._pars:
            arrays[f"{_PAR}{i}"] = np.full(n, parameters[i], dtype=np.float64)
        try:
            return self._formula.evaluate_numpy(arrays, n)
        except DataError as exc:
            raise ModelError(f"FDA: formula {self.text!r}: {exc}") from None

    def columns(self, X: npt.ArrayLike) -> dict[str, Any]:
        """The variables' columns the formula reads, as float64 arrays (prepared once per sample)."""
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim != 2 or Xa.shape[1] != self.n_vars:
            raise ModelError(f"FDA: expected events of shape (n, {self.n_vars}), got {Xa.shape}")
        cols: dict[str, Any] = {f"{_VAR}{k}": np.ascontiguousarray(Xa[:, k]) for k in self._vars}
        cols["__n__"] = len(Xa)
        return cols


class _Estimator:
    """TMVA's ``MethodFDA::EstimatorFunction`` on fixed training events (the fitters' target)."""

    def __init__(self, formula: FDAFormula, X: F64, desired: F64, weights: F64, classification: bool) -> None:
        self.formula = formula
        self.columns = formula.columns(X)
        self.desired = desired
        self.weights = weights
        self.classification = classification
        if classification:
            sig = desired == 1.0
            self.norm = np.where(sig, 1.0 / weights[sig].sum(), 1.0 / weights[~sig].sum()) * weights
        else:
            self.norm = weights / weights.sum()

    def EstimatorFunction(self, parameters: Sequence[float]) -> float:
        r = self.formula(parameters, self.columns)
        return float(np.dot((r - self.desired) ** 2, self.norm))


class _Converger:
    """A MINUIT fit as the estimate of a parameter set (TMVA's ``MinuitFitter::EstimatorFunction``)."""

    def __init__(self) -> None:
        self.minuit: MinuitFitter | None = None
        self.best_value = math.inf
        self.best: list[float] | None = None

    def EstimatorFunction(self, parameters: Sequence[float]) -> float:
        assert self.minuit is not None
        pars: MutableSequence[float] = list(parameters)
        value = self.minuit.Run(pars)
        if value < self.best_value or self.best is None:
            self.best_value, self.best = value, list(pars)
        return value


@register_method
class MethodFDA(MethodBase):
    """TMVA's function discriminant analysis (classification with 2 classes, regression with one
    target); see the module docstring.

    Attributes
    ----------
    parameters_ : ndarray of float64, shape (n_pars,) or None
        The fitted parameters (training or weights file).
    formula_ : FDAFormula
        The compiled formula.
    estimator_ : float or None
        The estimator at the fitted parameters (training only).
    """

    method_type = EMVA.kFDA
    Options = FDAOptions
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "FDA fits the parameters of a user formula to the training events, asking\n"
        "for a response of 1 for signal and 0 for background events (or the target\n"
        "in regression). The formula names its parameters (0), (1), ... and the\n"
        "input variables x0, x1, ...; ParRanges gives one (min,max) per parameter.\n"
        "\n"
        "--- Performance optimisation:\n"
        "\n"
        "A linear formula reproduces a linear discriminant; non-linear terms\n"
        "(products, squares of the variables) reach further.\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "FitMethod=MINUIT suits smooth problems; GA, SA or MC search globally, and\n"
        "Converger=MINUIT refines each of their candidates with a MINUIT fit."
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        own_names = {d.name.lower() for d in FDAOptions.declarations()}
        tokens = [t.strip() for t in str(options).split(":") if t.strip()]
        fitter_tokens = [
            t for t in tokens if _token_name(t) in _FITTER_OPTIONS and _token_name(t) not in own_names
        ]
        method_tokens = [t for t in tokens if t not in fitter_tokens]
        fitter_kwargs = {k: v for k, v in kwargs.items() if k.lower() in _FITTER_OPTIONS}
        method_kwargs = {k: v for k, v in kwargs.items() if k not in fitter_kwargs}
        super().__init__(title, context, ":".join(method_tokens), **method_kwargs)
        self.fitter_options: str = ":".join([*fitter_tokens, *kwargs_to_tokens(fitter_kwargs)])
        where = f"method FDA ('{title}')"
        self.par_ranges: list[Interval] = parse_par_ranges(self._opts().ParRanges, where)
        self.log.info('User-defined formula string       : "%s"', self._opts().Formula)
        self.formula_ = FDAFormula(self._opts().Formula, len(self.par_ranges), context.n_variables, where)
        self.log.debug('Expression-engine formula string  : "%s"', self.formula_.rewritten)
        self._fitter_texts = self._split_fitter_options(where)
        self.parameters_: F64 | None = None
        self.estimator_: float | None = None

    def _opts(self) -> FDAOptions:
        assert isinstance(self.options, FDAOptions)
        return self.options

    def _split_fitter_options(self, where: str) -> tuple[str, str]:
        """(converger options, fitter options), each checked against its fitter's declarations."""
        o = self._opts()
        rest = self.fitter_options
        converger_text = ""
        if o.Converger == "MINUIT":
            converger_text, rest = split_fitter_options(rest, MinuitFitter.Options)
            MinuitFitter.Options.parse(converger_text, component=f"{where} converger MinuitFitter")
        fitter_cls = FITTERS[o.FitMethod]
        fitter_text, unused = split_fitter_options(rest, fitter_cls.Options)
        fitter_cls.Options.parse(fitter_text, component=f"{where} fitter {fitter_cls.__name__}")
        if unused:
            owners = sorted({k for t in unused.split(":") for k in _FITTER_OPTIONS.get(_token_name(t), [])})
            raise OptionError(
                f"{where}: the following options were specified, but could not be interpreted: {unused!r} "
                f"(options of FitMethod={'/'.join(owners)}, not of FitMethod={o.FitMethod}"
                + (" with Converger=MINUIT" if o.Converger == "MINUIT" else "")
                + f"); {fitter_cls.__name__} takes: "
                + ", ".join(d.name for d in fitter_cls.Options.declarations())
            )
        return converger_text, fitter_text

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes or regression with one target (see the module docstring)."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type == EAnalysisType.kRegression and n_targets == 1

    @property
    def _regression(self) -> bool:
        return self.context.analysis_type == EAnalysisType.kRegression

    # ------------------------------------------------------------------ training
    def _train(self, sample: Sample) -> None:
        X = np.asarray(sample.X, dtype=np.float32).astype(np.float64)
        w = np.asarray(sample.weights, dtype=np.float32).astype(np.float64)
        if self._regression:
            desired = np.asarray(sample.targets[:, 0], dtype=np.float32).astype(np.float64)
            if not w.sum() > 0:
                raise ModelError(
                    f"method {self.method_name} <Train>: troubles in sum of weights: {w.sum():g}"
                )
        else:
            desired = (np.asarray(sample.class_id) == self.context.signal_class).astype(np.float64)
            ws, wb = float(w[desired == 1].sum()), float(w[desired == 0].sum())
            if not (ws > 0 and wb > 0):
                raise ModelError(
                    f"method {self.method_name} <Train>: troubles in sum of weights: {ws:g} (S) : {wb:g} (B)"
                )
        target = _Estimator(self.formula_, X, desired, w, not self._regression)
        o = self._opts()
        converger_text, fitter_text = self._fitter_texts
        fit_target: Any = target
        converger: _Converger | None = None
        if o.Converger == "MINUIT":
            converger = _Converger()
            converger.minuit = MinuitFitter(
                target, f"{self.title}_Converger_Minuit", self.par_ranges, converger_text, ignore_unknown=True
            )
            fit_target = converger
        suffix = "Minuit" if o.FitMethod == "MINUIT" else o.FitMethod
        fitter: FitterBase = FITTERS[o.FitMethod](
            fit_target, f"{self.title}_Fitter_{suffix}", self.par_ranges, fitter_text, ignore_unknown=True
        )
        pars: MutableSequence[float] = [r.GetMean() for r in self.par_ranges]
        value = fitter.Run(pars)
        if converger is not None and converger.best is not None and converger.best_value <= value:
            pars, value = converger.best, converger.best_value
        self.parameters_ = np.asarray(list(pars), dtype=np.float64)
        self.estimator_ = float(value)
        self._print_results(o.FitMethod)

    def _print_results(self, fitter: str) -> None:
        assert self.parameters_ is not None
        self.log.info('Results for parameter fit using "%s" fitter:', fitter)
        names = [f"Par({i})" for i in range(len(self.parameters_))]
        for line in formatted_table(self.parameters_.tolist(), names, "Parameter", "Fit result"):
            self.log.info("%s", line)
        self.log.info('Discriminator expression: "%s"', self.formula_.text)
        self.log.info("Value of estimator at minimum: %g", self.estimator_)

    # ------------------------------------------------------------------ application
    def _response(self, X: F32) -> F64:
        self.check_trained()
        if self.parameters_ is None:
            raise ModelError(f"method {self.method_name}: no FDA parameters (train or read a weights file)")
        return self.formula_(self.parameters_.tolist(), np.asarray(X, dtype=np.float32).astype(np.float64))

    def _predict(self, X: F32) -> F32:
        value = self._response(X)
        if self._regression:
            return value.astype(np.float32)[:, None]
        out = np.empty((len(value), self.context.n_classes), dtype=np.float32)
        out[:] = (-value).astype(np.float32)[:, None]
        out[:, self.context.signal_class] = value.astype(np.float32)
        return out

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``NPars``, ``NDim``, ``Formula`` and one ``<Parameter Index Value/>`` per parameter."""
        if self.parameters_ is None:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        parent.set("NPars", str(len(self.parameters_)))
        parent.set("NDim", "1")
        for i, value in enumerate(self.parameters_.tolist()):
            ET.SubElement(parent, "Parameter", Index=str(i), Value=f"{value:.16e}")
        parent.set("Formula", self.formula_.text)

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the parameters and the formula back (TMVA ``ReadWeightsFromXML``)."""
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        try:
            n_pars = int(weights.get("NPars", ""))
            n_dim = int(weights.get("NDim", "1"))
        except ValueError:
            raise ModelError(f"{where}: <Weights> needs integer NPars and NDim attributes") from None
        if n_dim != 1 or n_pars < 0:
            raise ModelError(
                f"{where}: NPars={n_pars}, NDim={n_dim}: pymva reads FDA files of one output dimension "
                "(classification, regression with one target)"
            )
        formula = weights.get("Formula")
        if formula is None:
            raise ModelError(f"{where}: <Weights> has no Formula attribute")
        pars = np.zeros(n_pars, dtype=np.float64)
        for child in weights:
            try:
                i = int(child.get("Index", ""))
                value = float(child.get("Value", ""))
            except ValueError:
                raise ModelError(f"{where}: a <{child.tag}> has malformed Index/Value attributes") from None
            if not 0 <= i < n_pars:
                raise ModelError(f"{where} <ReadWeightsFromXML>: index out of range: {i} >= {n_pars}")
            pars[i] = value
        try:
            self.formula_ = FDAFormula(formula, n_pars, self.context.n_variables, where)
        except OptionError as exc:
            raise ModelError(str(exc)) from None
        self.parameters_ = pars
        super().read_weights_xml(weights)
