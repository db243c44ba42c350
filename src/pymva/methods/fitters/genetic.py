"""``TMVA.GeneticFitter``: a genetic-algorithm fit (``GeneticFitter.cxx``), on scipy's differential
evolution.

Options (``GeneticFitter::DeclareOptions``): ``PopSize=300``, ``Steps=40``, ``Cycles=3``,
``SC_steps=10``, ``SC_rate=5``, ``SC_factor=0.95``, ``ConvCrit=0.001``, ``SaveBestGen=1``,
``SaveBestCycle=10``, ``Trim=False``, ``Seed=100``.

What pymva does with them:

* ``Cycles`` independent runs of ``scipy.optimize.differential_evolution`` (strategy ``best1bin``
  with a dithered mutation factor in ``[0.1, 0.5)``, no polishing), each on a population of ``PopSize`` parameter sets drawn uniformly in the intervals
  from ``TRandom3(Seed + cycle)``; the start values given to ``Run`` (or the intervals' centres) are
  the first member of every population (TMVA's ``GiveHint``), and the last cycle's population also
  holds the ``SaveBestCycle`` best sets of the earlier cycles (TMVA's ``AddPopulation``);
* a cycle ends as TMVA's ``GeneticAlgorithm::HasConverged(Steps, ConvCrit)``: when the best fitness
  has stayed within ``ConvCrit`` of a reference value for ``Steps`` generations (capped at
  ``100·Steps`` generations);
* the result is the best parameter set of all cycles and its estimator.

A target with ``EstimatorFunctionBatch(sets)`` (Cuts' estimator: one value per row of parameter sets,
as single calls in order would give them) is called once per generation with the whole population
(scipy's ``vectorized=True`` with ``updating="deferred"``: the population is replaced after each
generation rather than member by member).

Differences (``docs/differences-from-tmva.md``): the generations are differential evolution's
(mutation and crossover of scipy), not TMVA's ``GeneticPopulation`` (``SC_steps``, ``SC_rate``,
``SC_factor``, ``SaveBestGen`` and ``Trim`` tune TMVA's own mutation spread and population and are
accepted but unused), so the fit finds the same minimum by a different path.  TMVA seeds every cycle
with ``Seed``; pymva with ``Seed + cycle`` so that the cycles are independent.  A discrete interval
is searched as ``u ∈ [0, 1)`` mapped to ``GetElement(int(u·nbins))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...options import OptionsBase, non_negative, option, positive
from ..trandom3 import TRandom3
from .base import FitterBase, scipy_rng_kwargs

__all__ = ["GeneticFitter", "GeneticFitterOptions"]


@dataclass(frozen=True)
class GeneticFitterOptions(OptionsBase):
    """Options of ``GeneticFitter`` (TMVA ``GeneticFitter::DeclareOptions``)."""

    component_name = "GeneticFitter"
    PopSize: int = option(300, "Population size for GA", check=positive)
    Steps: int = option(40, "Number of steps for convergence", check=positive)
    Cycles: int = option(3, "Independent cycles of GA fitting", check=positive)
    SC_steps: int = option(10, "Spread control, steps")
    SC_rate: int = option(5, "Spread control, rate: factor is changed depending on the rate")
    SC_factor: float = option(0.95, "Spread control, factor")
    ConvCrit: float = option(0.001, "Convergence criteria", check=non_negative)
    SaveBestGen: int = option(
        1, "Saves the best n results from each generation. They are included in the last cycle"
    )
    SaveBestCycle: int = option(
        10,
        "Saves the best n results from each cycle. They are included in the last cycle. The value should "
        "be set to at least 1.0",
        check=non_negative,
    )
    Trim: bool = option(
        False, "Trim the population to PopSize after assessing the fitness of each individual"
    )
    Seed: int = option(100, "Set seed of random generator (0 gives random seeds)", check=non_negative)


class _Converged(Exception):
    pass


class GeneticFitter(FitterBase):
    """Genetic-algorithm fitter (TMVA ``GeneticFitter``); see the module docstring."""

    Options = GeneticFitterOptions
    short_name = "GA"

    def SetParameters(
        self,
        cycles: int,
        nsteps: int,
        popSize: int,
        SC_steps: int,
        SC_rate: int,
        SC_factor: float,
        convCrit: float,
    ) -> None:
        """Set the main options at once (TMVA ``GeneticFitter::SetParameters``)."""
        self.options = self.options.replace(
            Cycles=int(cycles),
            Steps=int(nsteps),
            PopSize=int(popSize),
            SC_steps=int(SC_steps),
            SC_rate=int(SC_rate),
            SC_factor=float(SC_factor),
            ConvCrit=float(convCrit),
        )

    def _run(self, start: list[float]) -> tuple[list[float], float]:
        from scipy.optimize import differential_evolution

        opts = self.options
        assert isinstance(opts, GeneticFitterOptions)
        self.log.info("<GeneticFitter> Optimisation, please be patient ...")
        space = self.space
        nfree = len(space.free)
        hint = space.to_free(start) if len(start) == self.GetNpars() else None
        self._notify("init")
        if nfree == 0:
            pars = space.to_params(np.empty(0))
            return list(pars), self.EstimatorFunction(pars)
        pop = max(int(opts.PopSize), 5)  # differential evolution needs five members
        batch = getattr(self._target, "EstimatorFunctionBatch", None)
        batch = batch if callable(batch) else None
        vector_kwargs: dict[str, Any] = {"vectorized": True, "updating": "deferred"} if batch else {}
        best_x: np.ndarray | None = None
        best_f = math.inf
        cycle_bests: list[tuple[float, np.ndarray]] = []
        for cycle in range(opts.Cycles):
            self._notify("cycle")
            u = TRandom3(opts.Seed + cycle).uniforms(pop * nfree).reshape(pop, nfree)
            init = space.lower + u * (space.upper - space.lower)
            if hint is not None:
                init[0] = hint
            if cycle == opts.Cycles - 1 and cycle_bests:
                self._notify("last")
                keep = sorted(cycle_bests, key=lambda t: t[0])[: max(opts.SaveBestCycle, 1)]
                for k, (_, x) in enumerate(keep):
                    init[min(1 + k, pop - 1)] = x
            tracker: dict[str, Any] = {"best": math.inf, "x": None, "counter": -1, "ref": math.inf, "gen": 0}

            def fitness(z: np.ndarray, tracker: dict[str, Any] = tracker) -> Any:
                if batch is not None:  # z: shape (n_free, n_sets)
                    values = np.asarray(self._batch_values(batch, space.to_params_batch(z.T)))
                    k = int(np.argmin(values))
                    if values[k] < tracker["best"]:
                        tracker["best"], tracker["x"] = float(values[k]), np.array(z[:, k], dtype=np.float64)
                    return values
                value = self.EstimatorFunction(space.to_params(z))
                if value < tracker["best"]:
                    tracker["best"], tracker["x"] = value, np.array(z, dtype=np.float64)
                return value

            def converged(
                xk: np.ndarray, convergence: float = 0.0, tracker: dict[str, Any] = tracker
            ) -> bool:
                # GeneticAlgorithm::HasConverged(Steps, ConvCrit), once per generation
                tracker["gen"] += 1
                if tracker["counter"] < 0:
                    tracker["ref"] = tracker["best"]
                if abs(tracker["best"] - tracker["ref"]) <= opts.ConvCrit:
                    tracker["counter"] += 1
                else:
                    tracker["counter"], tracker["ref"] = 0, tracker["best"]
                self._notify("iteration")
                return bool(tracker["counter"] >= opts.Steps)

            differential_evolution(
                fitness,
                list(zip(space.lower.tolist(), space.upper.tolist(), strict=True)),
                maxiter=100 * opts.Steps,
                init=init,
                tol=0.0,
                atol=0.0,
                polish=False,
                # small steps around the best member, as TMVA's mutations spread by a fraction of the
                # range: with scipy's default (0.5, 1) a good start value (FDA's interval centres)
                # stays the best for Steps generations and the cycle "converges" there
                mutation=(0.1, 0.5),
                callback=converged,
                **vector_kwargs,
                **scipy_rng_kwargs(differential_evolution, opts.Seed + cycle),
            )
            if tracker["x"] is not None:
                cycle_bests.append((tracker["best"], tracker["x"]))
                if tracker["best"] < best_f or best_x is None:
                    best_f, best_x = tracker["best"], tracker["x"]
            self.log.debug(
                "GA cycle %d: best estimator %g after %d generations", cycle, tracker["best"], tracker["gen"]
            )
        self._notify("stop")
        if best_x is None:  # every estimator value was +inf
            best_x = init[0]
        return list(space.to_params(best_x)), best_f
