"""``TMVA.MCFitter``: Monte Carlo sampling of the parameters (``MCFitter.cxx``).

Options (``MCFitter::DeclareOptions``): ``SampleSize=100000`` parameter sets, ``Sigma=-1`` (if
``> 0``, each new set is drawn from a Gaussian around the best set so far, of width ``Sigma`` times
the interval's width, wrapped periodically into the interval), ``Seed=100``.

The random numbers are TMVA's: a ``TRandom3(Seed)`` stream, one uniform discarded, then one uniform
per parameter for the initial set and one per parameter and sample (a parameter of a discrete
interval takes ``GetElement(int(u·nbins))``, of a zero-width interval its value without a draw).
With ``Sigma <= 0`` pymva therefore tries exactly the parameter sets ROOT tries.  The best set is
the first with the lowest estimator (a later set must be strictly better); the start values passed
to ``Run`` are ignored (as in TMVA), but must be one per parameter.

A target with ``EstimatorFunctionBatch(sets)`` (an array of parameter sets, one per row, returning
one value per set, as the same number of single calls would in order: Cuts' estimator) is called
once per chunk of 4096 sets instead of once per set.

Differences: ``Seed=0`` seeds the stream with 0 (ROOT takes a random seed); with ``Sigma > 0`` the
Gaussian draws use the Box–Muller method on the same stream, not ROOT's ``TRandom::Gaus``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...options import OptionsBase, non_negative, option
from ..trandom3 import TRandom3
from .base import FitterBase

__all__ = ["MCFitter", "MCFitterOptions"]


@dataclass(frozen=True)
class MCFitterOptions(OptionsBase):
    """Options of ``MCFitter`` (TMVA ``MCFitter::DeclareOptions``)."""

    component_name = "MCFitter"
    SampleSize: int = option(100000, "Number of Monte Carlo events in toy sample", check=non_negative)
    Sigma: float = option(
        -1.0,
        'If > 0: new points are generated according to Gauss around best value and with "Sigma" in units '
        "of interval length",
    )
    Seed: int = option(100, "Seed for the random generator (0 takes random seeds)", check=non_negative)


def _remap(value: float, lo: float, hi: float) -> float:
    """``GeneticRange::ReMap``: periodic wrap into ``[lo, hi)``."""
    if lo >= hi:
        return value
    return lo + math.fmod(math.fmod(value - lo, hi - lo) + (hi - lo), hi - lo)


class MCFitter(FitterBase):
    """Monte Carlo fitter (TMVA ``MCFitter``); see the module docstring."""

    Options = MCFitterOptions
    short_name = "MC"

    def SetParameters(self, samples: int) -> None:
        """Set ``SampleSize`` (TMVA ``MCFitter::SetParameters``)."""
        self.options = self.options.replace(SampleSize=int(samples))

    def _run(self, start: list[float]) -> tuple[list[float], float]:
        self._check_size(start)
        opts = self.options
        assert isinstance(opts, MCFitterOptions)
        self.log.info("<MCFitter> Sampling, please be patient ...")
        ranges = self.GetRanges()
        drawn = [k for k, r in enumerate(ranges) if r.GetNbins() > 0 or r.GetWidth() > 0]
        nd = len(drawn)
        rng = TRandom3(opts.Seed)
        rng.uniforms(1)  # TMVA: rnd->Uniform(0., 1.) before the ranges are set up

        def from_uniform(u: np.ndarray) -> np.ndarray:
            """Parameter values for uniforms ``u`` of shape (m, nd), as ``GeneticRange::Random``."""
            out = np.empty((len(u), len(ranges)), dtype=np.float64)
            for k, r in enumerate(ranges):
                out[:, k] = r.GetMin()
            for j, k in enumerate(drawn):
                r = ranges[k]
                if r.GetNbins() > 0:
                    idx = np.minimum((u[:, j] * r.GetNbins()).astype(np.intp), r.GetNbins() - 1)
                    out[:, k] = r.GetMin() + idx / (r.GetNbins() - 1) * r.GetWidth()
                else:
                    out[:, k] = r.GetMin() + r.GetWidth() * u[:, j]
            return out

        best = from_uniform(rng.uniforms(nd).reshape(1, nd))[0].tolist()
        best_fit = 0.0  # TMVA's value when SampleSize=0
        n = opts.SampleSize
        self._notify("init")
        if opts.Sigma <= 0:
            chunk = 4096
            done = 0
            batch = getattr(self._target, "EstimatorFunctionBatch", None)
            while done < n:
                m = min(chunk, n - done)
                sets = from_uniform(rng.uniforms(m * nd).reshape(m, nd))
                if callable(batch):
                    values = self._batch_values(batch, sets)
                    for row, value in zip(sets.tolist(), values, strict=True):
                        if value < best_fit or done == 0:
                            best_fit, best = value, row
                        done += 1
                    continue
                for row in sets.tolist():
                    value = self.EstimatorFunction(row)
                    if value < best_fit or done == 0:
                        best_fit, best = value, row
                    done += 1
        else:
            for sample in range(n):
                row = list(best)
                for k in drawn:
                    r = ranges[k]
                    if r.GetNbins() > 0:
                        b = min(int(rng.rndm() * r.GetNbins()), r.GetNbins() - 1)
                        row[k] = r.GetElement(b)
                    else:
                        u1, u2 = rng.rndm(), rng.rndm()
                        g = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
                        row[k] = _remap(best[k] + g * r.GetWidth() * opts.Sigma, r.GetMin(), r.GetMax())
                value = self.EstimatorFunction(row)
                if value < best_fit or sample == 0:
                    best_fit, best = value, row
        self._notify("stop")
        return best, best_fit
