"""``PDERS`` (``Types.kPDERS``): TMVA's probability density estimator with range search
(``MethodPDERS.cxx``), the training events held in a :class:`~pymva.methods.binarysearchtree.BinarySearchTree`.

Training only stores the (transformed) training events.  From them (``CalcAverages``,
``SetVolumeElement``): the signal and background sums of weights ``W_S``, ``W_B`` (``fScaleS = 1/W_S``,
``fScaleB = 1/W_B`` in float32) and the box size ``Δ_j`` per variable — ``DeltaFrac·RMS_j`` with
``RMS_j`` the mean of the signal and background RMS (``RMS``, ``Adaptive``, ``kNN``; regression: the
RMS of all events), ``DeltaFrac·(max_j − min_j)`` (``MinMax``) or ``DeltaFrac`` (``Unscaled``).

Response for an event ``e`` (``CRScalc``, ``GetSample``, ``CKernelEstimate``): the box
``(e_j − Δ_j/2, e_j + Δ_j/2]`` is

* ``Unscaled``, ``MinMax``, ``RMS``: used as it is;
* ``Adaptive``: first widened by 1.15 (``Volume::ScaleInterval``) until it holds a weight of at least
  ``NEventsMin``; then TMVA's secant iteration on the scale (float32, up to ``MaxVIterations − 1``
  steps, starting at ``InitialScale``) while the weight inside lies outside
  ``[NEventsMin, NEventsMax]``, keeping the best scale by TMVA's rule; the box is rescaled by it;
* ``kNN``: scaled by 2 (too few events) or 0.1 (too many, counting at most ``NEventsMax + 1``) until
  it holds ``NEventsMin … NEventsMax`` events (at most ``MaxVIterations`` times); of its events only
  those within the ``NEventsMin``-th smallest distance count (none if it holds fewer).

Every event ``i`` of the box contributes ``K(d_i)·w_i`` with the normalised distance
``d_i = sqrt(Σ_j (2 (x_ij − e_j) / (up_j − lo_j))² / nvar)`` (``GetNormalizedDistance``; the difference
in float32) and the kernel ``K`` (``ApplyKernelFunction``; every kernel but ``Box`` skips ``d > 1``):
``Box``, ``Sphere`` 1; ``Teepee`` ``1 − d``; ``Gauss`` ``exp(−d²/2σ²)`` with ``σ = GaussSigma``;
``Sinc<n>`` ``sinc(c·d)`` with ``c = 2 … 6`` for ``n = 3 … 11`` and ``Lanczos<L>``
``sinc(d)·sinc(L·d)``, both raised to the power ``nvar`` (the absolute value of one factor for even
``nvar``), ``sinc(x) = sin(πx)/πx``; ``Trim`` ``(1 − (d/d_k)³)³`` with ``d_k`` the ``kNN`` mode's
``NEventsMin``-th distance (in its own normalisation, ``(x − e)/(up − lo)``).  With the signal and
background sums ``P_S``, ``P_B`` (negative sums read as 0; TMVA's ``KernelNormalization`` leaves them
unchanged) the response is 0.5 if both are below ``1e-20``, 1 if ``P_B`` is, 0 if ``P_S`` is, else
``1/(1 + r)`` with ``r = P_B·fScaleB / (P_S·fScaleS)`` in float32 — always normalised by the classes'
sums of weights, with or without ``NormTree``.

Regression (``RRScalc``, ``RKernelEstimate``): ``Σ K w t / Σ K w`` (0 if the denominator is 0) through
the inverse target transformation.

``NormTree`` only rearranges TMVA's tree (a median split instead of the insertion order): it changes
the weights file's node layout, not the response.  No ranking (as TMVA).  Weights file:
``<Weights><BinaryTree type="BinarySearchTree">`` with one nested ``<Node>`` per training event
(:mod:`pymva.methods.binarysearchtree`); reading it recomputes the statistics and box sizes as
``ReadWeightsFromXML``.  Differences from TMVA: docs/methods-pders.md.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, OptionError
from ..options import option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .binarysearchtree import BinarySearchTree, scale_interval
from .registry import register_method

__all__ = ["KERNELS", "VOLUME_RANGE_MODES", "MethodPDERS", "PDERSOptions", "kernel_function"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: ``VolumeRangeMode`` values (TMVA ``EVolumeRangeMode``).
VOLUME_RANGE_MODES = ("Unscaled", "MinMax", "RMS", "Adaptive", "kNN")
#: ``KernelEstimator`` values in TMVA's ``EKernelEstimator`` order.
KERNELS = (
    "Box",
    "Sphere",
    "Teepee",
    "Gauss",
    "Sinc3",
    "Sinc5",
    "Sinc7",
    "Sinc9",
    "Sinc11",
    "Lanczos2",
    "Lanczos3",
    "Lanczos5",
    "Lanczos8",
    "Trim",
)
#: Widening steps of the adaptive box before pymva gives up (TMVA loops for ever).
_MAX_PREADJUST = 1000
#: Query events per batch of the response.
_CHUNK = 2048


@dataclass(frozen=True)
class PDERSOptions(BaseMethodOptions):
    """Options of PDERS (TMVA ``MethodPDERS::DeclareOptions``; Float_t ones as float)."""

    VolumeRangeMode: str = option("Adaptive", "Method to determine volume size", allowed=VOLUME_RANGE_MODES)
    KernelEstimator: str = option("Box", "Kernel estimation function", allowed=KERNELS)
    DeltaFrac: float = option(3.0, "nEventsMin/Max for minmax and rms volume range")
    NEventsMin: float = option(100.0, "nEventsMin for adaptive volume range")
    NEventsMax: float = option(200.0, "nEventsMax for adaptive volume range")
    MaxVIterations: float = option(150.0, "MaxVIterations for adaptive volume range")
    InitialScale: float = option(0.99, "InitialScale for adaptive volume range")
    GaussSigma: float = option(0.1, "Width (wrt volume size) of Gaussian kernel estimator")
    NormTree: bool = option(False, "Normalize binary search tree")


def _power_nvar(v: F64, nvar: int) -> F64:
    """``v^nvar`` for odd ``nvar``, ``|v|·v^(nvar−1)`` for even (TMVA's ``NormSinc``/``LanczosFilter``)."""
    if nvar % 2:
        return np.asarray(v**nvar, dtype=np.float64)
    return np.asarray(np.abs(v) * v ** (nvar - 1), dtype=np.float64)


def kernel_function(
    kernel: str, d: npt.ArrayLike, nvar: int, gauss_sigma: float = 0.1, max_distance: npt.ArrayLike = 0.0
) -> F64:
    """TMVA's ``ApplyKernelFunction`` of the normalised distance.

    Parameters
    ----------
    kernel : str
        One of :data:`KERNELS`.
    d : array of float
        Normalised distances (``GetNormalizedDistance``).
    nvar : int
        Number of variables (the power of the sinc and Lanczos kernels).
    gauss_sigma : float
        ``GaussSigma`` (``Gauss``).
    max_distance : float or array like ``d``
        The ``kNN`` mode's ``NEventsMin``-th distance (``Trim``).

    Returns
    -------
    ndarray of float64, shape of ``d``

    Raises
    ------
    OptionError
        For an unknown kernel.
    """
    x = np.asarray(d, dtype=np.float64)
    if kernel in ("Box", "Sphere"):
        return np.ones_like(x)
    if kernel == "Teepee":
        return 1.0 - x
    if kernel == "Gauss":
        return np.asarray(np.exp(-0.5 * (x / gauss_sigma) ** 2), dtype=np.float64)
    if kernel.startswith("Sinc") and kernel in KERNELS:
        crossings = 2.0 + KERNELS.index(kernel) - KERNELS.index("Sinc3")
        y = crossings * x
        with np.errstate(invalid="ignore", divide="ignore"):
            pix = np.pi * y
            sinc = np.sin(pix) / pix
        return np.where(np.abs(y) < 10e-10, 1.0, _power_nvar(sinc, nvar))
    if kernel.startswith("Lanczos") and kernel in KERNELS:
        level = float(kernel[len("Lanczos") :])
        with np.errstate(invalid="ignore", divide="ignore"):
            pix = np.pi * x
            lanczos = (np.sin(pix) / pix) * (np.sin(pix * level) / (pix * level))
        return np.where(np.abs(x) < 10e-10, 1.0, _power_nvar(lanczos, nvar))
    if kernel == "Trim":
        with np.errstate(invalid="ignore", divide="ignore"):
            t = x / np.asarray(max_distance, dtype=np.float64)
        t = 1.0 - t * t * t
        return np.asarray(t * t * t, dtype=np.float64)
    raise OptionError(f"PDERS: KernelEstimator '{kernel}' unknown; accepted: {', '.join(KERNELS)}")


@register_method
class MethodPDERS(MethodBase):
    """TMVA's PDERS (classification with 2 classes, regression).

    Attributes
    ----------
    tree_ : BinarySearchTree or None
        The training events (training or weights file).
    delta_ : ndarray of float32, shape (n_variables,) or None
        The box size per variable (``fDelta``).
    scale_s_, scale_b_ : float
        ``1/W_S`` and ``1/W_B`` in float32 (``fScaleS``, ``fScaleB``).
    """

    method_type = EMVA.kPDERS
    Options = PDERSOptions
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "PDERS is a generalization of the projective likelihood classifier \n"
        "to N dimensions, where N is the number of input variables used.\n"
        "In its adaptive form it is mostly equivalent to k-Nearest-Neighbor\n"
        "(k-NN) methods. If the multidimensional PDF for signal and background\n"
        "were known, this classifier would exploit the full information\n"
        "contained in the input variables, and would hence be optimal. In \n"
        "practice however, huge training samples are necessary to sufficiently \n"
        "populate the multidimensional phase space. \n"
        "\n"
        "The simplest implementation of PDERS counts the number of signal\n"
        "and background events in the vicinity of a test event, and returns\n"
        "a weight according to the majority species of the neighboring events.\n"
        'A more involved version of PDERS (selected by the option "KernelEstimator")\n'
        "uses Kernel estimation methods to approximate the shape of the PDF.\n"
        "\n"
        "--- Performance optimisation:\n"
        "\n"
        "PDERS can be very powerful in case of strongly non-linear problems, \n"
        "e.g., distinct islands of signal and background regions. Because of \n"
        "the exponential growth of the phase space, it is important to restrict\n"
        "the number of input variables (dimension) to the strictly necessary.\n"
        "\n"
        "Note that PDERS is a slowly responding classifier. Moreover, the necessity\n"
        "to store the entire binary tree in memory, to avoid accessing virtual \n"
        "memory, limits the number of training events that can effectively be \n"
        "used to model the multidimensional PDF.\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "If the PDERS response is found too slow when using the adaptive volume \n"
        'size (option "VolumeRangeMode=Adaptive"), it might be found beneficial\n'
        "to reduce the number of events required in the volume, and/or to enlarge\n"
        'the allowed range ("NeventsMin/Max"). PDERS is relatively insensitive\n'
        'to the width ("GaussSigma") of the Gaussian kernel (if used).'
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        o = self._opts()
        if o.IgnoreNegWeightsInTraining:
            raise OptionError(
                f"method PDERS ('{title}'): the mechanism to ignore events with negative weights in training "
                'is not available for PDERS; remove "IgnoreNegWeightsInTraining" from the booking string'
            )
        if o.KernelEstimator == "Trim" and o.VolumeRangeMode != "kNN":
            raise OptionError(
                f"method PDERS ('{title}'): KernelEstimator=Trim needs VolumeRangeMode=kNN (its width is the "
                f"kNN distance; TMVA divides by zero in mode {o.VolumeRangeMode})"
            )
        if o.VolumeRangeMode in ("Adaptive", "kNN") and not o.MaxVIterations >= 1:
            raise OptionError(
                f"method PDERS ('{title}'): MaxVIterations={o.MaxVIterations:g} must be at least 1 with "
                f"VolumeRangeMode={o.VolumeRangeMode}"
            )
        self.tree_: BinarySearchTree | None = None
        self.delta_: F32 | None = None
        self.scale_s_: float = 1.0
        self.scale_b_: float = 1.0
        self._n_warned = 0

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes, and regression (as TMVA's)."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type == EAnalysisType.kRegression

    def _opts(self) -> PDERSOptions:
        o = self.options
        assert isinstance(o, PDERSOptions)
        return o

    @property
    def _regression(self) -> bool:
        return self.context.analysis_type == EAnalysisType.kRegression

    # ------------------------------------------------------------------ training
    def _train(self, sample: Sample) -> None:
        self.tree_ = BinarySearchTree(sample.X, sample.weights, sample.class_id, sample.targets)
        self._set_volume_element()

    def _set_volume_element(self) -> None:
        """``CreateBinarySearchTree`` scales, ``CalcAverages`` and ``SetVolumeElement``."""
        if self.tree_ is None:
            raise ModelError(f"method {self.method_name}: no training events (train or read a weights file)")
        o = self._opts()
        stats = self.tree_.statistics(self.context.signal_class)
        if not self._regression:
            ws, wb = (float(v) for v in stats.sum_weights)
            self.scale_s_ = float(np.float32(1.0 / ws)) if ws > 0 else 1.0
            self.scale_b_ = float(np.float32(1.0 / wb)) if wb > 0 else 1.0
            self.log.debug("Signal and background scales: %g %g", self.scale_s_, self.scale_b_)
        frac = np.float32(o.DeltaFrac)
        mode = o.VolumeRangeMode
        if mode in ("RMS", "Adaptive", "kNN"):
            if self._regression:
                rms = stats.rms[0]
            else:
                rms = ((stats.rms[0] + stats.rms[1]) * np.float32(0.5)).astype(np.float32)
            delta = (rms * frac).astype(np.float32)
        elif mode == "MinMax":
            x = self.tree_.X.astype(np.float64)
            delta = ((x.max(axis=0) - x.min(axis=0)) * np.float64(frac)).astype(np.float32)
        else:
            delta = np.full(self.tree_.n_variables, frac, dtype=np.float32)
        if not np.all(np.isfinite(delta) & (delta > 0)):
            bad = int(np.flatnonzero(~(np.isfinite(delta) & (delta > 0)))[0])
            raise ModelError(
                f"method {self.method_name}: the box size of variable "
                f"'{self.context.variables[bad].label}' is {float(delta[bad]):g} (VolumeRangeMode={mode}, "
                f"DeltaFrac={o.DeltaFrac:g}); it must be positive: a constant variable cannot be used"
            )
        self.delta_ = delta

    # ------------------------------------------------------------------ the volume
    def _initial_volume(self, E: F32) -> tuple[F64, F64]:
        """``CRScalc``'s box ``(e − Δ/2, e + Δ/2]`` in double precision."""
        assert self.delta_ is not None
        e = E.astype(np.float64)
        d = self.delta_.astype(np.float64)
        return e - d * 0.5, e + d * 0.5

    def _weights_in(self, lo: F64, up: F64) -> F64:
        assert self.tree_ is not None
        assert self.delta_ is not None
        return self.tree_.volume_weights(lo, up, self.delta_)

    def _adaptive(self, lo: F64, up: F64) -> tuple[F64, F64]:
        """``GetSample`` in ``Adaptive`` mode, all events at once: iterate over TMVA's iterations."""
        assert self.tree_ is not None
        o = self._opts()
        f32 = np.float32
        nmin, nmax = f32(o.NEventsMin), f32(o.NEventsMax)
        total = float(self.tree_.weights.astype(np.float64).sum())
        if total < float(nmin):
            raise ModelError(
                f"method {self.method_name}: NEventsMin={o.NEventsMin:g} exceeds the training events' total "
                f"weight {total:g}; the adaptive volume can never hold it (TMVA loops for ever)"
            )
        n_old = self._weights_in(lo, up).astype(f32)
        need = np.flatnonzero(n_old < nmin)
        steps = 0
        while need.size:
            steps += 1
            if steps > _MAX_PREADJUST:
                raise ModelError(
                    f"method {self.method_name}: the adaptive volume did not reach NEventsMin={o.NEventsMin:g} "
                    f"after {_MAX_PREADJUST} widenings"
                )
            lo[need], up[need] = scale_interval(lo[need], up[need], 1.15)
            n_old[need] = self._weights_in(lo[need], up[need]).astype(f32)
            need = need[n_old[need] < nmin]
        if steps > 50:
            self.log.warning(
                "adaptive volume pre-adjustment reached >50 iterations in while loop (%d)", steps
            )
        n_new = n_old.copy()
        n_exp = f32(0.5 * float(f32(nmin + nmax)))
        scale_old = f32(1.0)
        scale_new = np.full(len(lo), f32(o.InitialScale), dtype=f32)
        scale = scale_new.copy()
        best_scale = scale_new.copy()
        best_n = n_new.copy()
        active = np.ones(len(lo), dtype=bool)
        ic = 1
        while ic < o.MaxVIterations:
            active &= (n_new < nmin) | (n_new > nmax)
            a = np.flatnonzero(active)
            if not a.size:
                break
            vlo, vup = scale_interval(lo[a], up[a], scale[a].astype(np.float64))
            nn = self._weights_in(vlo, vup).astype(f32)
            n_new[a] = nn
            dn = (nn - n_old[a]).astype(f32)
            ds = (scale_new[a] - scale_old).astype(f32)
            sa = scale[a]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                secant = (sa + ds / dn * (n_exp - nn)).astype(f32)
            nudged = (sa.astype(np.float64) - 0.01).astype(f32)
            wider = (sa + f32(0.5)).astype(f32)
            ok = (nn > 1) & (dn != 0)
            new = np.where(ok, np.where(ds != 0, secant, nudged), wider).astype(f32)
            scale[a] = new
            scale_new[a] = new
            bn = best_n[a]
            better = (np.abs(nn - n_exp) < np.abs(bn - n_exp)) & ((nn >= nmin) | (bn < nn))
            best_n[a] = np.where(better, nn, bn)
            best_scale[a] = np.where(better, new, best_scale[a])
            ic += 1
        off = (best_n < nmin - 1) | (best_n > nmax + 1)
        if off.any():
            self.log.warning(
                "%d events: adaptive volume adjustment reached max. #iterations (%g) [nEvents outside %g  %g]",
                int(off.sum()),
                o.MaxVIterations,
                o.NEventsMin,
                o.NEventsMax,
            )
        return scale_interval(lo, up, best_scale.astype(np.float64))

    def _knn(self, lo: F64, up: F64) -> tuple[F64, F64, npt.NDArray[np.bool_]]:
        """``GetSample`` in ``kNN`` mode: the final boxes and which hold at least ``NEventsMin`` events."""
        assert self.tree_ is not None
        assert self.delta_ is not None
        o = self._opts()
        kmin, kmax = int(o.NEventsMin), int(o.NEventsMax)
        grow, shrink = 2.0, float(np.float32(0.1))  # Float_t scale = 2 / 0.1
        count = np.minimum(self.tree_.volume_counts(lo, up, self.delta_), kmax + 1)
        times = np.zeros(len(lo), dtype=np.int64)
        active = np.flatnonzero(~((count >= kmin) & (count <= kmax)))
        n_capped = 0
        while active.size:
            f = np.where(count[active] < kmin, grow, shrink)
            lo[active], up[active] = scale_interval(lo[active], up[active], f)
            count[active] = np.minimum(
                self.tree_.volume_counts(lo[active], up[active], self.delta_), kmax + 1
            )
            times[active] += 1
            stop = times[active] == o.MaxVIterations
            n_capped += int(stop.sum())
            inside = (count[active] >= kmin) & (count[active] <= kmax)
            active = active[~inside & ~stop]
        if n_capped:
            self.log.warning(
                "%d events: kNN volume adjustment reached max. #iterations (%g) [ kNN: %d %d",
                n_capped,
                o.MaxVIterations,
                kmin,
                kmax,
            )
        return lo, up, count >= kmin

    # ------------------------------------------------------------------ response
    def _kernel_sums(self, E: F32) -> tuple[I64, I64, F64, F64]:
        """The boxes of ``E`` and, per (event, training event) pair inside, ``K(d)·w``.

        Returns the pair arrays (query, training event), their kernel weights, and the
        per-query ``d_k`` (``kNN`` mode; 0 otherwise).
        """
        assert self.tree_ is not None
        assert self.delta_ is not None
        o = self._opts()
        lo, up = self._initial_volume(E)
        selected: npt.NDArray[np.bool_] | None = None
        if o.VolumeRangeMode == "Adaptive":
            lo, up = self._adaptive(lo, up)
        elif o.VolumeRangeMode == "kNN":
            lo, up, selected = self._knn(lo, up)
        box, ev = self.tree_.search(lo, up, self.delta_)
        nvar = self.tree_.n_variables
        width = up - lo
        diff = (self.tree_.X[ev] - E[box]).astype(np.float32).astype(np.float64)  # Float_t difference
        max_distance = np.zeros(len(E))
        if selected is not None:
            keep = selected[box]
            box, ev, diff = box[keep], ev[keep], diff[keep]
            dk = self._distance(diff, 1.0 / width[box])
            order = np.lexsort((dk, box))
            box, ev, diff, dk = box[order], ev[order], diff[order], dk[order]
            counts = np.bincount(box, minlength=len(E))
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            kmin = int(o.NEventsMin)
            has = counts >= max(kmin, 1)
            kth = np.zeros(len(E))
            kth[has] = dk[starts[has] + max(kmin, 1) - 1]
            keep = dk <= kth[box]
            box, ev, diff = box[keep], ev[keep], diff[keep]
            max_distance = kth
        d = self._distance(diff, 2.0 / width[box])
        k = kernel_function(o.KernelEstimator, d, nvar, o.GaussSigma, max_distance[box])
        if o.KernelEstimator != "Box":
            inside = ~(d > 1)
            box, ev, d, k = box[inside], ev[inside], d[inside], k[inside]
        return box, ev, k * self.tree_.weights[ev].astype(np.float64), max_distance

    @staticmethod
    def _distance(diff: F64, norm: F64) -> F64:
        """``GetNormalizedDistance``: ``sqrt(Σ_j (norm_j·diff_j)² / nvar)``, summed variable by variable."""
        nvar = diff.shape[1]
        acc = np.zeros(len(diff))
        for j in range(nvar):
            t = norm[:, j] * diff[:, j]
            acc += t * t
        return np.asarray(np.sqrt(acc / nvar), dtype=np.float64)

    def _classify(self, E: F32) -> F64:
        assert self.tree_ is not None
        box, ev, kw, _ = self._kernel_sums(E)
        sig = self.tree_.classes[ev] == self.context.signal_class
        ps = np.bincount(box[sig], weights=kw[sig], minlength=len(E))
        pb = np.bincount(box[~sig], weights=kw[~sig], minlength=len(E))
        ps = np.where(ps < 0.0, 0.0, ps)
        pb = np.where(pb < 0.0, 0.0, pb)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = (pb * self.scale_b_ / (ps * self.scale_s_)).astype(np.float32).astype(np.float64)
            value = 1.0 / (r + 1.0)
        value = np.where(ps < 1e-20, 0.0, value)
        value = np.where(pb < 1e-20, 1.0, value)
        value = np.where((ps < 1e-20) & (pb < 1e-20), 0.5, value)
        return np.asarray(value, dtype=np.float64)

    def _regress(self, E: F32) -> F64:
        assert self.tree_ is not None
        box, ev, kw, _ = self._kernel_sums(E)
        n_t = self.tree_.targets.shape[1]
        div = np.bincount(box, weights=kw, minlength=len(E))
        out = np.zeros((len(E), n_t))
        for t in range(n_t):
            s = np.bincount(box, weights=kw * self.tree_.targets[ev, t].astype(np.float64), minlength=len(E))
            with np.errstate(divide="ignore", invalid="ignore"):
                out[:, t] = np.where(div == 0, 0.0, s / div)
        return out

    def _predict(self, X: F32) -> F32:
        self.check_trained()
        if self.tree_ is None or self.delta_ is None:
            raise ModelError(f"method {self.method_name}: no training events (train or read a weights file)")
        E = np.ascontiguousarray(X, dtype=np.float32)
        n_out = self.context.n_outputs
        parts = [
            self._regress(E[a : a + _CHUNK])
            if self._regression
            else self._classify(E[a : a + _CHUNK])[:, None]
            for a in range(0, len(E), _CHUNK)
        ]
        if not parts:
            return np.zeros((0, n_out), dtype=np.float32)
        res = np.vstack(parts)
        if self._regression:
            if res.shape[1] != n_out:
                raise ModelError(
                    f"method {self.method_name}: the tree holds {res.shape[1]} targets, the method {n_out}"
                )
            return res.astype(np.float32)
        out = np.empty((len(res), n_out), dtype=np.float32)
        out[:] = (1.0 - res).astype(np.float32)
        out[:, self.context.signal_class] = res[:, 0].astype(np.float32)
        return out

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``AddWeightsXMLTo``: the training events as TMVA's ``<BinaryTree>``."""
        if self.tree_ is None:
            raise ModelError(
                f"method {self.method_name}: nothing to write, signal and background binary search tree not "
                "available (the method is not trained)"
            )
        self.tree_.add_xml_to(parent, normalize=self._opts().NormTree)

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """``ReadWeightsFromXML``: the events, then the statistics and box sizes."""
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        bt = weights.find("BinaryTree")
        if bt is None:
            raise ModelError(
                f"{where}: <Weights> holds no <BinaryTree>; could not create the BinarySearchTree"
            )
        tree = BinarySearchTree.from_xml(bt, self.context.n_variables)
        n_t = self.context.n_targets if self._regression else 0
        if self._regression and tree.targets.shape[1] != n_t:
            raise ModelError(f"{where}: the nodes hold {tree.targets.shape[1]} target values, expected {n_t}")
        self.tree_ = tree
        self._set_volume_element()
        self.log.info("signal and background scales: %g %g", self.scale_s_, self.scale_b_)
        super().read_weights_xml(weights)
