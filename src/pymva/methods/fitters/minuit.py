"""``TMVA.MinuitFitter``: a MINUIT-style local fit (``MinuitFitter.cxx``), on scipy's L-BFGS-B.

Options (``MinuitFitter::DeclareOptions``): ``ErrorLevel=1``, ``PrintLevel=-1``, ``FitStrategy=2``,
``PrintWarnings=False``, ``UseImprove=True``, ``UseMinos=True``, ``SetBatch=False``,
``MaxCalls=1000``, ``Tolerance=0.1``.

TMVA runs TMinuit's MIGRAD (a variable-metric minimiser with numerical derivatives) from the start
values, each parameter bounded by its interval (a zero-width interval fixes it; the number of bins
of a discrete interval is ignored), then IMPROVE and MINOS; ``Run`` returns the function value at
the minimum.  pymva runs ``scipy.optimize.minimize(method="L-BFGS-B")`` — the same family of
minimiser, with box bounds instead of MINUIT's sine transformation — with at most ``MaxCalls``
function evaluations, stopping when an iteration changes the function value by less than
``0.001·Tolerance·ErrorLevel`` (relative to ``|f|`` where ``|f| > 1``; MINUIT stops on its estimated
distance to the minimum ``EDM < 0.001·Tolerance·ErrorLevel``).  IMPROVE
(a search for other minima) and MINOS (asymmetric errors, which TMVA does not use) are not run;
``FitStrategy``, ``PrintLevel``, ``PrintWarnings`` and ``SetBatch`` only steer TMinuit's own work and
print-out.  ``parabolic_errors_`` holds the errors from L-BFGS-B's inverse-Hessian estimate
(``sqrt(2·ErrorLevel·H⁻¹ᵢᵢ)``) for the free parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...options import OptionsBase, option, positive
from .base import FitterBase, ParameterSpace

__all__ = ["MinuitFitter", "MinuitFitterOptions"]


@dataclass(frozen=True)
class MinuitFitterOptions(OptionsBase):
    """Options of ``MinuitFitter`` (TMVA ``MinuitFitter::DeclareOptions``)."""

    component_name = "MinuitFitter"
    ErrorLevel: float = option(1.0, "TMinuit: error level: 0.5=logL fit, 1=chi-squared fit", check=positive)
    PrintLevel: int = option(-1, "TMinuit: output level: -1=least, 0, +1=all garbage")
    FitStrategy: int = option(2, "TMinuit: fit strategy: 2=best")
    PrintWarnings: bool = option(False, "TMinuit: suppress warnings")
    UseImprove: bool = option(True, "TMinuit: use IMPROVE")
    UseMinos: bool = option(True, "TMinuit: use MINOS")
    SetBatch: bool = option(False, "TMinuit: use batch mode")
    MaxCalls: int = option(1000, "TMinuit: approximate maximum number of function calls", check=positive)
    Tolerance: float = option(0.1, "TMinuit: tolerance to the function value at the minimum", check=positive)


class MinuitFitter(FitterBase):
    """MINUIT-style fitter (TMVA ``MinuitFitter``); see the module docstring.

    Attributes
    ----------
    parabolic_errors_ : ndarray of float64, shape (n_parameters,)
        After ``Run``: error estimates (0 for fixed parameters).
    """

    Options = MinuitFitterOptions
    short_name = "Minuit"

    def _run(self, start: list[float]) -> tuple[list[float], float]:
        from scipy.optimize import minimize

        opts = self.options
        assert isinstance(opts, MinuitFitterOptions)
        self._check_size(start)
        if not opts.SetBatch:
            self.log.info("<MinuitFitter> Fitting, please be patient ... ")
        space = ParameterSpace(self.GetRanges(), discrete=False)
        self.parabolic_errors_ = np.zeros(self.GetNpars(), dtype=np.float64)
        if len(space.free) == 0:
            pars = space.to_params(np.empty(0))
            return list(pars), self.EstimatorFunction(pars)

        def estimator(z: np.ndarray) -> float:
            return self.EstimatorFunction(space.to_params(z))

        result = minimize(
            estimator,
            space.to_free(start),
            method="L-BFGS-B",
            bounds=list(zip(space.lower.tolist(), space.upper.tolist(), strict=True)),
            options={"maxfun": opts.MaxCalls, "ftol": 1e-3 * opts.Tolerance * opts.ErrorLevel},
        )
        x = np.asarray(result.x, dtype=np.float64)
        try:
            hinv = np.diag(result.hess_inv.todense())
            self.parabolic_errors_[space.free] = np.sqrt(np.clip(2.0 * opts.ErrorLevel * hinv, 0.0, None))
        except (AttributeError, ValueError):  # pragma: no cover - scipy without an inverse Hessian
            pass
        return list(space.to_params(x)), float(result.fun)
