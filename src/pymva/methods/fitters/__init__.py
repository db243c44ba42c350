"""TMVA's fitters as a public API: ``TMVA.Interval``, ``TMVA.IFitterTarget`` and the fitters
``TMVA.MCFitter``, ``TMVA.GeneticFitter``, ``TMVA.SimulatedAnnealingFitter``, ``TMVA.MinuitFitter``
(``FitterBase`` and its subclasses in TMVA).  FDA and Cuts fit their parameters with them.

=========================  =======================================================================
``interval``               ``Interval``: continuous or discrete range of one parameter
``target``                 ``IFitterTarget`` (what is minimised), ``ParameterVector``
``base``                   ``FitterBase``: construction, options, ``Run``, the parameter space
``mc``                     ``MCFitter``: TMVA's Monte Carlo sampling (same ``TRandom3`` draws)
``genetic``                ``GeneticFitter`` on ``scipy.optimize.differential_evolution``
``annealing``              ``SimulatedAnnealingFitter`` on ``scipy.optimize.dual_annealing``
``minuit``                 ``MinuitFitter`` on ``scipy.optimize.minimize`` (L-BFGS-B)
=========================  =======================================================================
"""

from __future__ import annotations

from .annealing import SimulatedAnnealingFitter
from .base import FitterBase
from .genetic import GeneticFitter
from .interval import Interval
from .mc import MCFitter
from .minuit import MinuitFitter
from .target import IFitterTarget, ParameterVector

__all__ = [
    "FITTERS",
    "FitterBase",
    "GeneticFitter",
    "IFitterTarget",
    "Interval",
    "MCFitter",
    "MinuitFitter",
    "ParameterVector",
    "SimulatedAnnealingFitter",
]

#: The ``FitMethod`` values of FDA and Cuts → fitter class.
FITTERS: dict[str, type[FitterBase]] = {
    "MC": MCFitter,
    "GA": GeneticFitter,
    "SA": SimulatedAnnealingFitter,
    "MINUIT": MinuitFitter,
}
