"""TMVA's gradient-directed path regularisation of RuleFit (``RuleFitParams.cxx``), vectorised.

The model ``F = a_0 + R a + L b`` (``R``: events × rules 0/1 matrix, ``L``: events × variables
normalised, winsorised linear terms) is fitted to ``y = ±1`` (signal/background) with the
squared-error *ramp* loss ``w (y − max(−1, min(1, F)))²``:

* the training events are split by position: the *path* sample ``[0, ⌊(N−1)·GDPathEveFrac⌋]`` gives
  the gradient, the *validation* sample (the last ``⌊(N−1)·GDValidEveFrac⌋ + 1`` events) the error;
* each step (``MakeGradientVector``, ``UpdateCoefficients``) computes the gradient
  ``g = 2/W_path Σ_{|F|<1} w (y − F) (r, l)`` and moves every coefficient whose ``|g|`` is at least
  ``τ · max|g|`` by ``GDStep · g`` (linear coefficients by ``GDStep · g / n_j``); the offset becomes
  ``−Σ_k a_k ⟨r_k⟩`` (``⟨r_k⟩`` the weighted mean rule response on the path sample; the linear
  averages are taken while the linear coefficients are still zero, so, as in TMVA, they add nothing);
* every ``min(100, GDNSteps)`` steps the path risk and the validation risk are computed; the point of
  smallest validation risk is kept (the last one on ties); the path stops when the validation risk
  exceeds ``GDErrScale`` times its minimum, at ``GDNSteps``, or after more than 3 rises of the path
  risk;
* ``GDTau < 0`` first scans ``⌊1/GDTauPrec⌋ + 1`` values of ``τ`` in ``[0, 1]`` in parallel
  (``FindGDTau``): up to 1000 steps, every 100 steps the paths whose validation risk is more than one
  standard deviation (over the paths still running) above the best are dropped, until at most 3 are
  left; the best ``τ`` and its coefficients are where the main path starts.

The offset starts at ``−⟨y⟩`` (``CalcAverageTruth``, TMVA's sign).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["GDPathResult", "GDSettings", "make_gd_path", "sample_ranges"]

F64 = npt.NDArray[np.float64]
BoolA = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class GDSettings:
    """The path options after TMVA's range checks (``RuleFitParams`` setters)."""

    tau: float = -1.0
    tau_prec: float = 0.01
    step: float = 0.01
    n_steps: int = 10000
    err_scale: float = 1.1
    path_frac: float = 0.5
    valid_frac: float = 0.5
    tau_scan: int = 1000
    tau_min: float = 0.0
    tau_max: float = 1.0

    @property
    def n_tau(self) -> int:
        """``CalcGDNTau``: ``⌊1/GDTauPrec⌋ + 1``, at most 100000 (1 for a fixed ``τ``)."""
        if self.tau >= 0:
            return 1
        return min(int(1.0 / self.tau_prec) + 1, 100000)


@dataclass
class GDPathResult:
    """The fitted coefficients and what the path did."""

    offset: float
    coefficients: F64
    lin_coefficients: F64
    tau: float
    best_step: int
    error_min: float
    stop_reason: str
    n_steps_done: int
    history: dict[str, list[tuple[int, float]]] = field(default_factory=dict)


def sample_ranges(n_events: int, path_frac: float, valid_frac: float) -> tuple[slice, slice]:
    """The path and validation event ranges (``RuleFitParams::Init``)."""
    perf2 = int((n_events - 1) * valid_frac) if n_events > 1 else 0
    ofs = n_events - perf2 - 1
    path2 = int((n_events - 1) * path_frac) if n_events > 1 else 0
    return slice(0, path2 + 1), slice(ofs, perf2 + ofs + 1)


def _risk(F: F64, y: F64, w: F64, neff: float) -> F64:
    """``Risk``: Σ w (y − clip(F))² / W for one model (F 1-d) or many (F 2-d, one column per model)."""
    h = np.clip(F, -1.0, 1.0)
    d = (y[:, None] - h) if F.ndim == 2 else (y - h)
    wd = (d * d) * (w[:, None] if F.ndim == 2 else w)
    return np.asarray(wd.sum(axis=0) / neff)


def make_gd_path(
    R: npt.ArrayLike,
    L: npt.ArrayLike,
    lin_norm: npt.ArrayLike,
    y: npt.ArrayLike,
    w: npt.ArrayLike,
    settings: GDSettings,
    log: Any = None,
) -> GDPathResult:
    """Fit the coefficients along TMVA's gradient-directed path (``RuleFitParams::MakeGDPath``).

    Parameters
    ----------
    R : array of bool or float, shape (n_events, n_rules)
        Rule responses of the training events, in TMVA's event order (``n_rules`` may be 0).
    L : array, shape (n_events, n_linear)
        Normalised linear terms ``n_j · min(δ⁺, max(δ⁻, x_j))`` (``n_linear`` may be 0).
    lin_norm : array, shape (n_linear,)
        The normalisations ``n_j``.
    y : array, shape (n_events,)
        +1 for signal, −1 for background.
    w : array, shape (n_events,)
        Event weights.
    settings : GDSettings
    log : logger, optional
        Receives TMVA's progress and warning messages.

    Returns
    -------
    GDPathResult
        ``history`` holds the checked points: ``"risk"`` (path) and ``"error"`` (validation) by step.

    Raises
    ------
    ValueError
        If the path sample has fewer than 2 events.
    """
    Rf = np.asarray(R, dtype=np.float64)
    Lf = np.asarray(L, dtype=np.float64)
    norm = np.asarray(lin_norm, dtype=np.float64)
    yv = np.asarray(y, dtype=np.float64)
    wv = np.asarray(w, dtype=np.float64)
    n = len(yv)
    n_rules, n_lin = Rf.shape[1], Lf.shape[1]
    path, perf = sample_ranges(n, settings.path_frac, settings.valid_frac)
    if path.stop - path.start < 2:
        raise ValueError("RuleFit: <CalcAverageTruth> the path sample needs at least 2 events")
    Rp, Lp, yp, wp = Rf[path], Lf[path], yv[path], wv[path]
    Rv, Lv, yv_, wv_ = Rf[perf], Lf[perf], yv[perf], wv[perf]
    neff_path = float(wp.sum())
    neff_perf = float(wv_.sum())
    grad_norm = 2.0 / neff_path
    avg_rule = (wp @ Rp) / neff_path if n_rules else np.zeros(0)
    # TMVA averages the linear terms times their (still zero) coefficients: no linear offset term

    def model(Rm: F64, Lm: F64, ofs: F64 | float, a: F64, b: F64) -> F64:
        F = Rm @ a if n_rules else np.zeros((len(Rm), *np.shape(a)[1:]))
        if n_lin:
            F = F + Lm @ b
        return np.asarray(F + ofs)

    # -------------------------------------------------- FindGDTau
    n_tau = settings.n_tau
    tau_scan = settings.tau_scan if settings.tau < 0 and n_tau >= 2 else 0
    if n_tau >= 2 and settings.tau < 0:
        dtau = (settings.tau_max - settings.tau_min) / (n_tau - 1)
        taus = np.minimum(np.arange(n_tau) * dtau + settings.tau_min, 1.0)
    else:
        taus = np.array([settings.tau])
        n_tau = 1
    truth = float(wp @ yp) / neff_path
    offset0 = -truth
    a = np.zeros(n_rules)
    b = np.zeros(n_lin)
    offset = offset0
    if tau_scan > 0:
        A = np.zeros((n_rules, n_tau))
        B = np.zeros((n_lin, n_tau))
        ofs_t = np.full(n_tau, offset0)
        ok = np.ones(n_tau, dtype=bool)
        err_t = np.zeros(n_tau)
        netst = min(tau_scan, 100)
        itau_min = 0
        ip = 0
        while True:
            act = np.flatnonzero(ok)
            Aa, Ba, tau_a = A[:, act], B[:, act], taus[act]
            F = model(Rp, Lp, ofs_t[act], Aa, Ba)
            r = np.where(np.abs(F) < 1.0, grad_norm * (yp[:, None] - F) * wp[:, None], 0.0)
            GA = Rp.T @ r if n_rules else np.zeros((0, len(act)))
            GB = Lp.T @ r if n_lin else np.zeros((0, len(act)))
            maxr = np.abs(GA).max(axis=0) if n_rules else np.zeros(len(act))
            maxl = np.abs(GB).max(axis=0) if n_lin else np.zeros(len(act))
            maxv = np.maximum(maxr, maxl)
            thr = maxv * tau_a
            move = maxv > 0
            Aa = Aa + np.where((np.abs(GA) >= thr) & move, settings.step * GA, 0.0)
            if n_lin:
                Ba = Ba + np.where((np.abs(GB) >= thr) & move, settings.step * GB / norm[:, None], 0.0)
            A[:, act], B[:, act] = Aa, Ba
            ofs_t[act] = -(avg_rule @ Aa) if n_rules else 0.0
            if ip == 0 or (ip + 1) % netst == 0:
                Fv = model(Rv, Lv, ofs_t[act], Aa, Ba)
                err = _risk(Fv, yv_, wv_, neff_perf)
                err_t[act] = err
                k = len(act)
                itau_min = int(act[int(np.argmin(err))])
                minx = float(err.min())
                var = (float((err * err).sum()) - float(err.sum()) ** 2 / k) / (k - 1) if k >= 2 else 0.0
                sigx = math.sqrt(var) if var >= 0 else math.nan
                ok[act[err > minx + sigx]] = False
                if log is not None:
                    log.debug("%4d. tau = %.4f => error rate = %g", ip + 1, taus[itau_min], err_t[itau_min])
            ip += 1
            if not (ip < tau_scan and int(ok.sum()) > 3):
                break
        tau = float(taus[itau_min])
        a, b, offset = A[:, itau_min].copy(), B[:, itau_min].copy(), float(ofs_t[itau_min])
        if log is not None:
            log.info("Best path found with tau = %.4f", tau)
    else:
        tau = float(taus[0])
    n_prescan = tau_scan

    # -------------------------------------------------- the path
    n_steps = settings.n_steps
    imod = n_steps // 100
    if imod < 100:
        imod = min(100, n_steps)
    imod = min(imod, 100)
    errmin = 1e32
    ind_min = -1
    best = (a.copy(), b.copy(), offset)
    rprev = 1e32
    nbadrisk = 0
    risk_flat = False
    found = False
    stop = 0
    iloop = 0
    valx: list[float] = []
    valy: list[float] = []
    history: dict[str, list[tuple[int, float]]] = {"risk": [], "error": []}
    err_now = 0.0
    while True:
        F = model(Rp, Lp, offset, a, b)
        r = np.where(np.abs(F) < 1.0, grad_norm * (yp - F) * wp, 0.0)
        g = Rp.T @ r if n_rules else np.zeros(0)
        gl = Lp.T @ r if n_lin else np.zeros(0)
        maxv = max(float(np.abs(g).max()) if n_rules else 0.0, float(np.abs(gl).max()) if n_lin else 0.0)
        if maxv > 0:
            thr = maxv * tau
            a = a + np.where(np.abs(g) >= thr, settings.step * g, 0.0)
            if n_lin:
                b = b + np.where(np.abs(gl) >= thr, settings.step * gl / norm, 0.0)
            offset = -float(avg_rule @ a) if n_rules else 0.0
        if iloop == 0 or (iloop + 1) % imod == 0:
            nu = iloop * settings.step
            risk = float(_risk(model(Rp, Lp, offset, a, b), yp, wp, neff_path))
            if risk > rprev:
                nbadrisk += 1
                risk_flat = nbadrisk > 3
                if risk_flat and log is not None:
                    log.warning("Chaotic behaviour of risk evolution; stopping the minimisation")
            rprev = risk
            err_now = float(_risk(model(Rv, Lv, offset, a, b), yv_, wv_, neff_perf))
            history["risk"].append((iloop + 1, risk))
            history["error"].append((iloop + 1, err_now))
            if err_now <= errmin:
                errmin, ind_min = err_now, iloop
                best = (a.copy(), b.copy(), offset)
            if err_now > settings.err_scale * errmin:
                found = True
            valx.append(nu)
            valy.append(err_now)
            del valx[:-5], valy[:-5]
        iloop += 1
        end = iloop == n_steps
        if (risk_flat or end) and not found:
            stop = 1 if risk_flat else 2
            if ind_min < 0:
                errmin, ind_min = err_now, iloop
                best = (a.copy(), b.copy(), offset)
            found = True
        if found:
            break
    reason = {0: "clear minima found", 1: "chaotic behaviour of risk", 2: "end of loop reached"}[stop]
    if log is not None:
        log.info("Found minimum at step %d with error = %g", ind_min + 1, errmin)
        log.info("Reason for ending loop: %s", reason)
        if ind_min / (n_prescan + n_steps) < 0.05:
            log.warning("Reached minimum early in the search; check results and maybe decrease GDStep size")
        sx, sy = sum(valx), sum(valy)
        sxy = sum(x * e for x, e in zip(valx, valy, strict=True))
        if len(valx) * sxy - sx * sy < 0:
            log.info("The error rate was still decreasing at the end of the path; increase GDNSteps")
    a_best, b_best, ofs_best = best
    return GDPathResult(
        offset=float(ofs_best),
        coefficients=a_best,
        lin_coefficients=b_best,
        tau=tau,
        best_step=ind_min + 1,
        error_min=float(errmin),
        stop_reason=reason,
        n_steps_done=iloop,
        history=history,
    )
