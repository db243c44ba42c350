"""``TMVA.SimulatedAnnealingFitter``: a simulated-annealing fit (``SimulatedAnnealingFitter.cxx``),
on scipy's dual annealing.

Options (``SimulatedAnnealingFitter::DeclareOptions``): ``MaxCalls=100000``, ``InitialTemp=1e6``,
``MinTemp=1e-6``, ``Eps=1e-10``, ``TempScale=1``, ``AdaptiveSpeed=1``, ``TempAdaptiveStep=0.009875``,
``UseDefaultScale=False``, ``UseDefaultTemp=False``, ``KernelTemp=IncAdaptive`` (also
``DecAdaptive``, ``Sqrt``, ``Log``, ``Sin``, ``Homo``, ``Geo``).

pymva runs ``scipy.optimize.dual_annealing`` from the start values given to ``Run`` (or the
intervals' centres) with at most ``MaxCalls`` estimator calls, the initial temperature
``InitialTemp`` (clipped to scipy's range ``(0.01, 5e4]``) and its random stream seeded with a
fixed seed (100; TMVA declares no ``Seed`` option for it), so that a fit is reproducible.  The temperature schedule is scipy's (generalised simulated annealing with a local search);
``MinTemp``, ``Eps``, ``TempScale``, ``AdaptiveSpeed``, ``TempAdaptiveStep``, ``KernelTemp`` and the
``UseDefault*`` flags select TMVA's own schedules and are accepted but unused (documented in
``docs/differences-from-tmva.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...options import OptionsBase, option, positive
from .base import FitterBase, scipy_rng_kwargs

__all__ = ["SimulatedAnnealingFitter", "SimulatedAnnealingFitterOptions"]

#: The fixed seed of the annealing's random stream (no option, as in TMVA).
_SEED = 100


@dataclass(frozen=True)
class SimulatedAnnealingFitterOptions(OptionsBase):
    """Options of ``SimulatedAnnealingFitter`` (TMVA ``SimulatedAnnealingFitter::DeclareOptions``)."""

    component_name = "SimulatedAnnealingFitter"
    MaxCalls: int = option(100000, "Maximum number of minimisation calls", check=positive)
    InitialTemp: float = option(1e6, "Initial temperature", check=positive)
    MinTemp: float = option(1e-6, "Minimum temperature")
    Eps: float = option(1e-10, "Epsilon")
    TempScale: float = option(1.0, "Temperature scale")
    AdaptiveSpeed: float = option(1.0, "Adaptive speed")
    TempAdaptiveStep: float = option(0.009875, "Step made in each generation temperature adaptive")
    UseDefaultScale: bool = option(
        False, "Use default temperature scale for temperature minimisation algorithm"
    )
    UseDefaultTemp: bool = option(False, "Use default initial temperature")
    KernelTemp: str = option(
        "IncAdaptive",
        "Temperature minimisation algorithm",
        allowed=("IncAdaptive", "DecAdaptive", "Sqrt", "Log", "Sin", "Homo", "Geo"),
    )


class SimulatedAnnealingFitter(FitterBase):
    """Simulated-annealing fitter (TMVA ``SimulatedAnnealingFitter``); see the module docstring."""

    Options = SimulatedAnnealingFitterOptions
    short_name = "SA"

    def SetParameters(
        self,
        maxCalls: int,
        initialTemperature: float,
        minTemperature: float,
        eps: float,
        kernelTemperatureS: str,
        temperatureScale: float,
        temperatureAdaptiveStep: float,
        useDefaultScale: bool,
        useDefaultTemperature: bool,
    ) -> None:
        """Set the options at once (TMVA ``SimulatedAnnealingFitter::SetParameters``)."""
        self.options = self.options.replace(
            MaxCalls=int(maxCalls),
            InitialTemp=float(initialTemperature),
            MinTemp=float(minTemperature),
            Eps=float(eps),
            KernelTemp=str(kernelTemperatureS),
            TempScale=float(temperatureScale),
            TempAdaptiveStep=float(temperatureAdaptiveStep),
            UseDefaultScale=bool(useDefaultScale),
            UseDefaultTemp=bool(useDefaultTemperature),
        )

    def _run(self, start: list[float]) -> tuple[list[float], float]:
        from scipy.optimize import dual_annealing

        opts = self.options
        assert isinstance(opts, SimulatedAnnealingFitterOptions)
        self.log.info("<SimulatedAnnealingFitter> Optimisation, please be patient ...")
        self._check_size(start)
        space = self.space
        self._notify("init")
        if len(space.free) == 0:
            pars = space.to_params(np.empty(0))
            return list(pars), self.EstimatorFunction(pars)
        best: dict[str, object] = {"f": np.inf, "x": space.to_free(start)}

        def estimator(z: np.ndarray) -> float:
            value = self.EstimatorFunction(space.to_params(z))
            if value < float(best["f"]):  # type: ignore[arg-type]
                best["f"], best["x"] = value, np.array(z, dtype=np.float64)
            return value

        dual_annealing(
            estimator,
            list(zip(space.lower.tolist(), space.upper.tolist(), strict=True)),
            maxfun=opts.MaxCalls,
            initial_temp=float(np.clip(opts.InitialTemp, 0.0101, 5e4)),
            x0=space.to_free(start),
            **scipy_rng_kwargs(dual_annealing, _SEED),
        )
        self._notify("stop")
        x = np.asarray(best["x"], dtype=np.float64)
        return list(space.to_params(x)), float(best["f"])  # type: ignore[arg-type]
