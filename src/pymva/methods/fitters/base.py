"""``FitterBase``: what TMVA's fitters share (``FitterBase.cxx``).

A fitter is built from a target (:class:`~pymva.methods.fitters.target.IFitterTarget`), a name,
one :class:`~pymva.methods.fitters.interval.Interval` per parameter and an option string; ``Run()``
starts from the intervals' centres, ``Run(pars)`` from the values in ``pars`` (a list), which it
overwrites with the best parameters found; both return the estimator's value there.

Every fitter calls the target once per parameter set it tries (a Python call: the target itself
should be vectorised over events, as FDA's estimator is).  A value that is not a number counts as
``+inf`` (worse than every number) so that no optimiser is led astray by a NaN.

Fitters inside a method (FDA, Cuts) take their options from the method's option string and ignore
tokens they do not declare (TMVA's fitters are separate ``Configurable`` objects that read the same
string); a fitter booked directly (``TMVA.GeneticFitter(...)``) rejects unknown tokens.
"""

from __future__ import annotations

import logging
import math
from collections.abc import MutableSequence, Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ...errors import ModelError, OptionError
from ...options import OptionsBase, parse_option_string
from .interval import Interval
from .target import ParameterVector

__all__ = ["FitterBase", "ParameterSpace", "scipy_rng_kwargs", "split_fitter_options"]

F64 = npt.NDArray[np.float64]


def split_fitter_options(text: str, options_class: type[OptionsBase]) -> tuple[str, str]:
    """Split an option string into the fitter's tokens and the rest.

    Parameters
    ----------
    text : str
        A method's option string (``"Formula=…:FitMethod=GA:PopSize=100"``).
    options_class : type
        The fitter's options dataclass.

    Returns
    -------
    fitter_text, rest : str
        The ``:``-joined tokens whose option name the fitter declares, and all others.
    """
    names = {d.name.lower() for d in options_class.declarations()}
    mine: list[str] = []
    rest: list[str] = []
    for token in (t.strip() for t in str(text).split(":")):
        if not token:
            continue
        key = token.lstrip("!").partition("=")[0].partition("[")[0].strip().lower()
        (mine if key in names else rest).append(token)
    return ":".join(mine), ":".join(rest)


def scipy_rng_kwargs(function: Any, seed: int) -> dict[str, Any]:
    """The keyword that seeds a ``scipy.optimize`` global optimiser: ``rng`` (scipy >= 1.15, a numpy
    ``Generator``) or ``seed`` (older scipy), whichever ``function`` takes."""
    import inspect

    if "rng" in inspect.signature(function).parameters:
        return {"rng": np.random.default_rng(seed)}
    return {"seed": seed}  # pragma: no cover - scipy < 1.15


class ParameterSpace:
    """The free parameters of a fit in the coordinates an optimiser moves in.

    A continuous interval of non-zero width is free with its own limits; a discrete interval is free
    in ``u ∈ [0, 1)`` and maps to ``GetElement(int(u·nbins))`` (TMVA's ``GeneticRange``); a
    continuous interval of zero width is fixed at its value.

    Parameters
    ----------
    ranges : sequence of Interval
    discrete : bool, default True
        Map discrete intervals onto their values; with False every interval is continuous between
        its limits (TMVA's ``MinuitFitter`` ignores the number of bins).
    """

    def __init__(self, ranges: Sequence[Interval], discrete: bool = True) -> None:
        self.ranges = list(ranges)
        self.discrete = discrete
        self.free = np.array(
            [i for i, r in enumerate(self.ranges) if self._is_discrete(r) or r.GetWidth() > 0], dtype=np.intp
        )
        lo, hi = [], []
        for i in self.free:
            r = self.ranges[i]
            lo.append(0.0 if self._is_discrete(r) else r.GetMin())
            hi.append(1.0 if self._is_discrete(r) else r.GetMax())
        self.lower: F64 = np.array(lo, dtype=np.float64)
        self.upper: F64 = np.array(hi, dtype=np.float64)

    def _is_discrete(self, r: Interval) -> bool:
        return self.discrete and r.GetNbins() > 0

    def to_params(self, z: npt.ArrayLike) -> ParameterVector:
        """Parameter values (all of them) for the free coordinates ``z``, shape (n_free,)."""
        out = [r.GetMin() for r in self.ranges]
        for k, i in enumerate(self.free.tolist()):
            r = self.ranges[i]
            v = float(np.asarray(z, dtype=np.float64)[k])
            if self._is_discrete(r):
                out[i] = r.GetElement(min(max(int(v * r.GetNbins()), 0), r.GetNbins() - 1))
            else:
                out[i] = min(max(v, r.GetMin()), r.GetMax())
        return ParameterVector(out)

    def to_params_batch(self, z: npt.ArrayLike) -> F64:
        """Parameter values for many points ``z`` of shape (n_sets, n_free), as :meth:`to_params` row
        by row; returns shape (n_sets, n_parameters)."""
        zz = np.atleast_2d(np.asarray(z, dtype=np.float64))
        out = np.empty((zz.shape[0], len(self.ranges)), dtype=np.float64)
        for i, r in enumerate(self.ranges):
            out[:, i] = r.GetMin()
        for k, i in enumerate(self.free.tolist()):
            r = self.ranges[i]
            if self._is_discrete(r):
                b = np.clip((zz[:, k] * r.GetNbins()).astype(np.int64), 0, r.GetNbins() - 1)
                out[:, i] = r.GetMin() + (b / (r.GetNbins() - 1)) * (r.GetMax() - r.GetMin())
            else:
                out[:, i] = np.clip(zz[:, k], r.GetMin(), r.GetMax())
        return out

    def to_free(self, pars: Sequence[float]) -> F64:
        """Free coordinates of parameter values (a discrete value goes to the centre of its bin)."""
        z = []
        for i in self.free.tolist():
            r = self.ranges[i]
            v = float(pars[i])
            if self._is_discrete(r):
                b = min(max(round((v - r.GetMin()) / r.GetStepSize()), 0), r.GetNbins() - 1)
                z.append((b + 0.5) / r.GetNbins())
            else:
                z.append(min(max(v, r.GetMin()), r.GetMax()))
        return np.array(z, dtype=np.float64)


class FitterBase:
    """Base of TMVA's fitters (``FitterBase``).

    Parameters
    ----------
    target : IFitterTarget
        Any object with ``EstimatorFunction(parameters) -> float``.
    name : str
        The fitter's name (log lines, error messages).
    ranges : sequence of Interval
        One per parameter.
    theOption : str
        The fitter's options (see the subclass's ``Options``).
    ignore_unknown : bool, default False
        Ignore tokens the fitter does not declare (used by methods that pass their whole option
        string, as TMVA does).

    Attributes
    ----------
    options : OptionsBase
        The parsed options.
    n_calls : int
        Estimator calls of the last ``Run``.

    Raises
    ------
    OptionError
        For a target without ``EstimatorFunction``, a range that is not an ``Interval``, no range at
        all, or a bad option.
    """

    Options: ClassVar[type[OptionsBase]] = OptionsBase
    #: TMVA's short name of the algorithm (``ProgressNotifier`` and log lines).
    short_name: ClassVar[str] = "Fitter"

    def __init__(
        self,
        target: Any,
        name: str,
        ranges: Sequence[Interval],
        theOption: str = "",
        *,
        ignore_unknown: bool = False,
        **kwargs: Any,
    ) -> None:
        if not callable(getattr(target, "EstimatorFunction", None)):
            raise OptionError(
                f"{type(self).__name__} {name!r}: the target {type(target).__name__} has no "
                "EstimatorFunction(parameters) method (derive it from TMVA.IFitterTarget)"
            )
        ranges = list(ranges)
        for k, r in enumerate(ranges):
            if not isinstance(r, Interval):
                raise OptionError(
                    f"{type(self).__name__} {name!r}: range {k} is a {type(r).__name__}, expected "
                    "TMVA.Interval(min, max[, nbins])"
                )
        if not ranges:
            raise OptionError(f"{type(self).__name__} {name!r}: no parameter ranges given")
        self._target = target
        self._name = str(name)
        self._ranges = ranges
        self.log = logging.getLogger(f"pymva.{type(self).__name__}")
        component = f"{type(self).__name__} '{self._name}'"
        text = theOption
        if ignore_unknown:
            text, _ = split_fitter_options(theOption, self.Options)
        values, modified = parse_option_string(self.Options.declarations(), text, kwargs, component=component)
        self.options = self.Options(**values, modified_options=modified)
        self.n_calls = 0
        self.space = ParameterSpace(ranges)

    # --- TMVA's accessors ---------------------------------------------------------------------
    def GetName(self) -> str:
        """The fitter's name."""
        return self._name

    def GetNpars(self) -> int:
        """Number of parameters."""
        return len(self._ranges)

    def GetFitterTarget(self) -> Any:
        """The target."""
        return self._target

    def GetRanges(self) -> list[Interval]:
        """The parameter intervals."""
        return list(self._ranges)

    def EstimatorFunction(self, parameters: Sequence[float]) -> float:
        """The target's value for ``parameters`` (``+inf`` for a value that is not a number).

        Raises
        ------
        ModelError
            If the target returns something that is not a real number.
        """
        self.n_calls += 1
        value = self._target.EstimatorFunction(ParameterVector(parameters))
        try:
            result = float(value)
        except (TypeError, ValueError):
            raise ModelError(
                f"{type(self).__name__} '{self._name}': EstimatorFunction of {type(self._target).__name__} "
                f"returned {type(value).__name__} {value!r}, expected a number"
            ) from None
        return result if not math.isnan(result) else math.inf

    def _batch_values(self, batch: Any, sets: np.ndarray) -> list[float]:
        """The target's ``EstimatorFunctionBatch`` on the parameter sets ``sets`` (one per row), as
        :meth:`EstimatorFunction` would give them one after the other (a NaN counts as ``+inf``)."""
        values = np.asarray(batch(sets), dtype=np.float64).reshape(-1)
        if values.shape[0] != sets.shape[0]:
            raise ModelError(
                f"{type(self).__name__} '{self._name}': EstimatorFunctionBatch of {type(self._target).__name__} returned "
                f"{values.shape[0]} values for {sets.shape[0]} parameter sets"
            )
        self.n_calls += int(sets.shape[0])
        out: list[float] = np.where(np.isnan(values), np.inf, values).tolist()
        return out

    def _notify(self, state: str) -> None:
        notifier = getattr(self._target, "ProgressNotifier", None)
        if callable(notifier):
            notifier(self.short_name, state)

    def Run(self, pars: MutableSequence[float] | None = None) -> float:
        """Minimise the estimator.

        Parameters
        ----------
        pars : list of float, optional
            Start values (or hint); overwritten in place with the best parameters found.  Without
            it the fit starts from the intervals' centres (``FitterBase::Run()``).

        Returns
        -------
        float
            The estimator's value at the best parameters.

        Raises
        ------
        OptionError
            If the fitter needs start values and ``pars`` does not hold one per parameter.
        ModelError
            See :meth:`EstimatorFunction`.
        """
        start = [r.GetMean() for r in self._ranges] if pars is None else [float(v) for v in pars]
        self.n_calls = 0
        best, value = self._run(start)
        if pars is not None:
            pars[:] = list(best)
        self.best_parameters_ = ParameterVector(best)
        return value

    def _check_size(self, start: Sequence[float]) -> None:
        if len(start) != self.GetNpars():
            raise OptionError(
                f"{type(self).__name__} '{self._name}' <Run>: mismatch in number of parameters: "
                f"{self.GetNpars()} != {len(start)}; pass a list with one start value per Interval, "
                "or call Run() without arguments"
            )

    def _run(self, start: list[float]) -> tuple[list[float], float]:
        raise NotImplementedError  # pragma: no cover - every fitter defines it

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r}: {self.GetNpars()} parameters>"
