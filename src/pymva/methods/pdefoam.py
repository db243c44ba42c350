"""``PDEFoam`` (``Types.kPDEFoam``): TMVA's probability density estimator on a self-adapting foam of cells
(``MethodPDEFoam.cxx``).

Training (``Train``):

1. ``CalcXminXmax``: the foam range per dimension (variables; with ``MultiTargetRegression`` also
   the targets) from 10000-bin histograms between the smallest and largest training value: the
   lower edge of the first bin whose cumulative count from below exceeds
   ``int(N_train·TailCut)``, the upper edge of the last bin whose count from above does;
2. the foams (:func:`~pymva.methods.pdefoam_foam.grow_foam`, range-search box
   ``VolFrac·(xmax − xmin)``, ``2·nActiveCells − 1`` cells):

   * classification, ``SigBgSeparate=False``: one discriminant foam (``DiscrFoam``) grown on the
     density ``Σ_sig w/(Σw + 0.1)``, its cells filled with the signal and background sums of weights
     ``s``, ``b``; ``D = s/(s + b)`` (0.5 for an empty cell), error
     ``sqrt((s/(s+b)²)²·s + (b/(s+b)²)²·b)`` (``PDEFoamDiscriminant::Finalize``).  ``DTLogic``
     grows it by the decision-tree split (``PDEFoamDecisionTree``);
   * ``SigBgSeparate=True``: a signal and a background event-density foam (``SignalFoam``,
     ``BgFoam``), each grown on and filled with its own class; response
     ``ρ_S/(ρ_S + ρ_B)`` with ``ρ = Σw/V_cell`` (0.5 if both vanish);
   * multiclass: one discriminant foam per class (``MultiClassFoam<i>``), outputs
     ``1/(1 + Σ_{j≠i} exp(D_j − D_i))``;
   * regression (one target): a target foam (``MonoTargetRegressionFoam``) grown on
     ``Σ w t/(Σw + 0.1)``; cell value the mean target ``Σ w t/Σ w``; an empty cell answers the mean of
     its non-empty neighbour cells (``PDEFoamTarget::GetAverageNeighborsValue``);
   * ``MultiTargetRegression`` (forced with more than one target, as TMVA): one event-density foam in
     the variables and the targets (``MultiTargetRegressionFoam``); an event's answer comes from all
     cells that contain its variables: ``Mean`` the density-weighted mean of the cells' target
     centres, ``Mpv`` the centre of the densest cell (``PDEFoamMultiTarget``).

   Events with weight ``<= 0`` are left out of the search tree and the filling with
   ``IgnoreNegWeightsInTraining``.  ``FillFoamWithOrigWeights`` fills with the original weights:
   the same weights in pymva, which has no boosting.

Response: the cell value at the event (``Kernel=None``), or TMVA's ``Gauss`` / ``LinNeighbors``
kernels (:mod:`pymva.methods.pdefoam_kernel`); ``UseYesNoCell`` answers −1 or 1 (``D < 0.5``).
Ranking: the number of cuts per variable over all foams, normalised per foam and averaged
(``CreateRanking``).  Weights file: TMVA's ``<Weights>`` attributes, ``<Xmin>``/``<Xmax>`` and, as a
pymva layout, one ``<Foam>`` per foam with the cell tree as arrays (TMVA writes the foams to a
``*_foams.root`` file of C++ objects).  Differences from TMVA: docs/methods-pdefoam.md.
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
from .pdefoam_foam import FoamCells, grow_foam, transform
from .pdefoam_kernel import KERNELS, average_neighbors, estimate
from .ranking import Ranking
from .registry import register_method

__all__ = ["DT_LOGICS", "TARGET_SELECTIONS", "MethodPDEFoam", "PDEFoamOptions", "foam_range"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: ``DTLogic`` values (``AddPreDefVal`` order).
DT_LOGICS = (
    "None",
    "GiniIndex",
    "MisClassificationError",
    "CrossEntropy",
    "GiniIndexWithLaplace",
    "SdivSqrtSplusB",
)
#: ``TargetSelection`` values (``UIntToTargetSelection``: 0, 1).
TARGET_SELECTIONS = ("Mean", "Mpv")
#: TMVA's ``rangehistbins`` of ``CalcXminXmax``.
_RANGE_BINS = 10000
_FLT_MAX = float(np.finfo(np.float32).max)
_FLT_MIN = float(np.finfo(np.float32).tiny)
_FLT_EPS = float(np.finfo(np.float32).eps)
_DBL_EPS = float(np.finfo(np.float64).eps)
_CHUNK = 8192


@dataclass(frozen=True)
class PDEFoamOptions(BaseMethodOptions):
    """Options of PDEFoam (TMVA ``MethodPDEFoam::DeclareOptions``; Float_t ones as float)."""

    SigBgSeparate: bool = option(False, "Separate foams for signal and background")
    TailCut: float = option(
        0.001, "Fraction of outlier events that are excluded from the foam in each dimension"
    )
    VolFrac: float = option(
        float(np.float32(1.0 / 15.0)),
        "Size of sampling box, used for density calculation during foam build-up (maximum value: 1.0 is "
        "equivalent to volume of entire foam)",
    )
    nActiveCells: int = option(500, "Maximum number of active cells to be created by the foam")
    nSampl: int = option(2000, "Number of generated MC events per cell")
    nBin: int = option(5, "Number of bins in edge histograms")
    Compress: bool = option(True, "Compress foam output file")
    MultiTargetRegression: bool = option(False, "Do regression with multiple targets")
    Nmin: int = option(100, "Number of events in cell required to split cell")
    MaxDepth: int = option(0, "Maximum depth of cell tree (0=unlimited)")
    FillFoamWithOrigWeights: bool = option(False, "Fill foam with original or boost weights")
    UseYesNoCell: bool = option(False, "Return -1 or 1 for bkg or signal like events")
    DTLogic: str = option("None", "Use decision tree algorithm to split cells", allowed=DT_LOGICS)
    Kernel: str = option("None", "Kernel type used", allowed=KERNELS)
    TargetSelection: str = option("Mean", "Target selection method", allowed=TARGET_SELECTIONS)


def foam_range(values: npt.ArrayLike, tail_cut: float) -> tuple[F32, F32]:
    """``MethodPDEFoam::CalcXminXmax``: the foam range per dimension.

    Parameters
    ----------
    values : array of float32, shape (n_events, dim)
        All training events (variables, with multi-target regression also the targets).
    tail_cut : float
        ``TailCut``: the fraction of events left outside on each side.

    Returns
    -------
    xmin, xmax : ndarray of float32, shape (dim,)

    Notes
    -----
    As TMVA: the starting maximum is ``FLT_MIN`` (the smallest positive float), so a dimension whose
    values are all negative gets a histogram up to ``FLT_MIN``; values equal to the maximum fall in the
    histogram's overflow bin.
    """
    v = np.asarray(values, dtype=np.float32)
    n, dim = v.shape
    nout = int(np.float32(n) * np.float32(tail_cut))  # Long64_t × Float_t in float, as TMVA
    lo = np.minimum(np.float32(_FLT_MAX), v.min(axis=0) if n else np.float32(_FLT_MAX)).astype(np.float32)
    hi = np.maximum(np.float32(_FLT_MIN), v.max(axis=0) if n else np.float32(_FLT_MIN)).astype(np.float32)
    xmin = lo.copy()
    xmax = hi.copy()
    for k in range(dim):
        a, b = float(lo[k]), float(hi[k])
        if not b > a:
            continue
        x = v[:, k].astype(np.float64)
        width = (b - a) / _RANGE_BINS
        with np.errstate(invalid="ignore"):
            idx = 1 + np.floor(_RANGE_BINS * (x - a) / (b - a)).astype(np.int64)
        idx = np.where(x < a, 0, np.where(x >= b, _RANGE_BINS + 1, idx))
        counts = np.bincount(idx, minlength=_RANGE_BINS + 2).astype(np.float64)
        below = np.cumsum(counts)  # Integral(0, i)
        above = np.cumsum(counts[::-1])[::-1]  # Integral(i, nbins + 1)
        first = np.flatnonzero(below[1 : _RANGE_BINS + 1] > nout)
        if first.size:
            i = int(first[0]) + 1
            xmin[k] = np.float32(a + (i - 1) * width)
        last = np.flatnonzero(above[1 : _RANGE_BINS + 1] > nout)
        if last.size:
            i = int(last[-1]) + 1
            xmax[k] = np.float32(a + i * width)
    return xmin, xmax


@dataclass
class _Foam:
    """One trained foam: its name, type, range and cells (with the filled elements)."""

    name: str
    kind: str  # "Discriminant", "Event", "Target", "MultiTarget"
    xmin: F64
    xmax: F64
    cells: FoamCells


@register_method
class MethodPDEFoam(MethodBase):
    """TMVA's PDEFoam (classification with 2 classes, multiclass, regression).

    Attributes
    ----------
    foams_ : list of _Foam
        The trained foams, in TMVA's order (``fFoam``).
    xmin_, xmax_ : ndarray of float32 or None
        The foam range (``fXmin``, ``fXmax``).
    """

    method_type = EMVA.kPDEFoam
    Options = PDEFoamOptions
    compatibility_options: ClassVar[frozenset[str]] = frozenset({"cutnmin", "peekmax"})
    ranking_criterion: ClassVar[str] = "Variable Importance"
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "PDE-Foam is a variation of the PDE-RS method using a self-adapting\n"
        "binning method to divide the multi-dimensional variable space into a\n"
        "finite number of hyper-rectangles (cells). The binning algorithm \n"
        "adjusts the size and position of a predefined number of cells such\n"
        "that the variance of the signal and background densities inside the \n"
        "cells reaches a minimum\n"
        "\n"
        "--- Use of booking options:\n"
        "\n"
        "The PDEFoam classifier supports two different algorithms: \n"
        "\n"
        "  (1) Create one foam, which stores the signal over background\n"
        "      probability density.  During foam buildup the variance of the\n"
        "      discriminant inside the cells is minimised.\n"
        "\n"
        "      Booking option:   SigBgSeparated=F\n"
        "\n"
        "  (2) Create two separate foams, one for the signal events and one for\n"
        "      background events.  During foam buildup the variance of the\n"
        "      event density inside the cells is minimised separately for\n"
        "      signal and background.\n"
        "\n"
        "      Booking option:   SigBgSeparated=T\n"
        "\n"
        "In order to gain better classification performance we recommend to set\n"
        'the parameter "nActiveCells" to a high value.'
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        o = self._opts()
        where = f"method PDEFoam ('{title}')"
        self.tail_cut_ = o.TailCut
        if not (0.0 <= o.TailCut <= 1.0):
            self.log.warning("TailCut not in [0.,1] ==> using 0.001 instead")
            self.tail_cut_ = 0.001
        self.n_active_cells_ = o.nActiveCells
        if o.nActiveCells < 1:
            self.log.warning(
                "invalid number of active cells specified: %d; setting nActiveCells=2", o.nActiveCells
            )
            self.n_active_cells_ = 2
        if o.SigBgSeparate and o.DTLogic != "None":
            raise OptionError(
                f"{where}: Decision tree logic works only for a single foam (SigBgSeparate=F); "
                f"DTLogic={o.DTLogic} needs SigBgSeparate=F"
            )
        if self._regression and o.DTLogic != "None":
            raise OptionError(
                f"{where}: the decision tree cell split (DTLogic={o.DTLogic}) is only available for "
                "(multi) classification with a single PDE-Foam; use DTLogic=None for regression"
            )
        if o.DTLogic == "None" and o.nSampl < 1:
            raise OptionError(f"{where}: nSampl={o.nSampl} must be at least 1 (the points sampled per cell)")
        for name in ("Nmin", "MaxDepth"):
            if getattr(o, name) < 0:
                raise OptionError(f"{where}: {name}={getattr(o, name)} must not be negative (TMVA's UInt_t)")
        if o.nBin < 1:
            raise OptionError(f"{where}: nBin={o.nBin} must be at least 1 (the bins of the edge histograms)")
        if not o.VolFrac > 0:
            raise OptionError(f"{where}: VolFrac={o.VolFrac:g} must be positive (the sampling box size)")
        self.multi_target_ = bool(o.MultiTargetRegression)
        if self._regression and context.n_targets > 1 and not self.multi_target_:
            self.log.warning(
                "Warning: number of targets > 1 and MultiTargetRegression=F was set, this makes no sense! "
                "--> I'm setting MultiTargetRegression=T"
            )
            self.multi_target_ = True
        if not self._regression:
            self.multi_target_ = False
        if self.multi_target_ and o.Kernel == "LinNeighbors":
            raise OptionError(
                f"{where}: LinNeighbors kernel currently not supported for multi target regression; use "
                "Kernel=None or Kernel=Gauss"
            )
        self.foams_: list[_Foam] = []
        self.xmin_: F32 | None = None
        self.xmax_: F32 | None = None

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes, multiclass and regression (as TMVA's)."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type in (EAnalysisType.kMulticlass, EAnalysisType.kRegression)

    def _opts(self) -> PDEFoamOptions:
        o = self.options
        assert isinstance(o, PDEFoamOptions)
        return o

    @property
    def _regression(self) -> bool:
        return self.context.analysis_type == EAnalysisType.kRegression

    @property
    def _multiclass(self) -> bool:
        return self.context.analysis_type == EAnalysisType.kMulticlass

    # ------------------------------------------------------------------ training
    def _train(self, sample: Sample) -> None:
        o = self._opts()
        X = np.ascontiguousarray(sample.X, dtype=np.float32)
        w = np.asarray(sample.weights, dtype=np.float32)
        T = np.asarray(sample.targets, dtype=np.float32)
        values = np.hstack([X, T]) if self.multi_target_ else X
        if not len(values):
            raise ModelError(f"method {self.method_name}: no training events")
        xmin, xmax = foam_range(values, self.tail_cut_)
        labels = [v.label for v in self.context.variables] + [t.label for t in self.context.targets]
        bad = np.flatnonzero(~(xmax.astype(np.float64) > xmin.astype(np.float64)))
        if bad.size:
            k = int(bad[0])
            raise ModelError(
                f"method {self.method_name}: the foam range of '{labels[k]}' is empty "
                f"([{float(xmin[k]):g}, {float(xmax[k]):g}]); a constant variable cannot be used"
            )
        self.xmin_, self.xmax_ = xmin, xmax
        keep = ~(w <= 0) if o.IgnoreNegWeightsInTraining else np.ones(len(w), dtype=bool)
        box = ((xmax - xmin) * np.float32(o.VolFrac)).astype(np.float32)
        common: dict[str, Any] = {
            "box": box,
            "n_cells": 2 * self.n_active_cells_ - 1,
            "n_sampl": o.nSampl,
            "n_bin": o.nBin,
            "nmin": float(o.Nmin),
            "max_depth": o.MaxDepth,
        }
        lo64, hi64 = xmin.astype(np.float64), xmax.astype(np.float64)
        dt = None if o.DTLogic == "None" else o.DTLogic
        self.foams_ = []
        cid = sample.class_id
        if self._regression:
            if self.multi_target_:
                sel = keep
                cells = grow_foam(values[sel], w[sel], lo64, hi64, kind="event", **common)
                self._fill_events(cells, values[sel], w[sel], lo64, hi64)
                self.foams_.append(_Foam("MultiTargetRegressionFoam", "MultiTarget", lo64, hi64, cells))
            else:
                t0 = T[:, 0]
                cells = grow_foam(X[keep], w[keep], lo64, hi64, kind="target", target=t0[keep], **common)
                self._fill_target(cells, X[keep], w[keep], t0[keep], lo64, hi64)
                self.foams_.append(_Foam("MonoTargetRegressionFoam", "Target", lo64, hi64, cells))
        elif self._multiclass:
            for c in range(self.context.n_classes):
                cells = grow_foam(
                    X[keep],
                    w[keep],
                    lo64,
                    hi64,
                    kind="discriminant",
                    is_class=cid[keep] == c,
                    dt_logic=dt,
                    **common,
                )
                self._fill_discriminant(cells, X[keep], w[keep], cid[keep] == c, lo64, hi64)
                self.foams_.append(_Foam(f"MultiClassFoam{c}", "Discriminant", lo64, hi64, cells))
        elif o.SigBgSeparate:
            sig = cid == self.context.signal_class
            for name, mask in (("SignalFoam", sig & keep), ("BgFoam", ~sig & keep)):
                if not mask.any():
                    raise ModelError(f"method {self.method_name}: no training events for the {name}")
                cells = grow_foam(X[mask], w[mask], lo64, hi64, kind="event", **common)
                self._fill_events(cells, X[mask], w[mask], lo64, hi64)
                self.foams_.append(_Foam(name, "Event", lo64, hi64, cells))
        else:
            sig = cid == self.context.signal_class
            self.log.debug(
                "Note that only NormMode=EqualNumEvents ensures that Discriminant values correspond to "
                "signal probabilities."
            )
            cells = grow_foam(
                X[keep], w[keep], lo64, hi64, kind="discriminant", is_class=sig[keep], dt_logic=dt, **common
            )
            self._fill_discriminant(cells, X[keep], w[keep], sig[keep], lo64, hi64)
            self.foams_.append(_Foam("DiscrFoam", "Discriminant", lo64, hi64, cells))
        for f in self.foams_:
            self.log.debug("%s: %d cells, %d active", f.name, f.cells.n_cells, int(f.cells.active.sum()))

    @staticmethod
    def _fill_discriminant(
        cells: FoamCells, X: F32, w: F32, is_class: npt.NDArray[np.bool_], lo: F64, hi: F64
    ) -> None:
        """``PDEFoamDiscriminant::FillFoamCells`` and ``Finalize``: D and its error per active cell."""
        c = cells.find(transform(X, lo, hi))
        n = cells.n_cells
        w64 = w.astype(np.float64)
        s = np.bincount(c[is_class], weights=w64[is_class], minlength=n)
        b = np.bincount(c[~is_class], weights=w64[~is_class], minlength=n)
        s = np.where(s < 0, 0.0, s)
        b = np.where(b < 0, 0.0, b)
        tot = s + b
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(tot > 0, s / tot, 0.5)
            err = np.where(tot > 0, np.sqrt((s / (tot * tot)) ** 2 * s + (b / (tot * tot)) ** 2 * b), 1.0)
        act = cells.active
        cells.elements = np.column_stack([np.where(act, d, 0.0), np.where(act, err, 0.0)])

    @staticmethod
    def _fill_events(cells: FoamCells, X: F32, w: F32, lo: F64, hi: F64) -> None:
        """``PDEFoam::FillFoamCells``: the sum of weights and of squared weights per cell."""
        c = cells.find(transform(X, lo, hi))
        n = cells.n_cells
        w2 = (w * w).astype(np.float32).astype(np.float64)
        cells.elements = np.column_stack(
            [
                np.bincount(c, weights=w.astype(np.float64), minlength=n),
                np.bincount(c, weights=w2, minlength=n),
            ]
        )

    @staticmethod
    def _fill_target(cells: FoamCells, X: F32, w: F32, t: F32, lo: F64, hi: F64) -> None:
        """``PDEFoamTarget::FillFoamCells`` and ``Finalize``: mean target (error −1 for empty cells)."""
        c = cells.find(transform(X, lo, hi))
        n = cells.n_cells
        n_ev = np.bincount(c, weights=w.astype(np.float64), minlength=n)
        tar = np.bincount(c, weights=(w * t).astype(np.float32).astype(np.float64), minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(n_ev > 0, tar / n_ev, 0.0)
            err = np.where(n_ev > 0, tar / np.sqrt(n_ev), -1.0)
        act = cells.active
        cells.elements = np.column_stack([np.where(act, mean, 0.0), np.where(act, err, 0.0)])

    # ------------------------------------------------------------------ response
    def _cell_values(self, foam: _Foam, T: F32, density: bool = False) -> F32:
        """``GetCellValue(xvec, kValue or kValueDensity, kernel)`` for foam coordinates ``T``."""
        o = self._opts()
        cells = foam.cells
        el = cells.elements
        if density:
            vol = cells.volume()
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.where(vol > _DBL_EPS, el[:, 0].astype(np.float32).astype(np.float64) / vol, 0.0)
            values32 = values.astype(np.float32)
        else:
            values32 = el[:, 0].astype(np.float32)
        if foam.kind == "Target":
            undefined = el[:, 1].astype(np.float32) == np.float32(-1)
        else:
            undefined = np.zeros(cells.n_cells, dtype=bool)
        sigma = float(np.float32(o.VolFrac)) / 2.0
        if foam.kind == "Target":
            cell = cells.find(T)
            out = np.empty(len(T), dtype=np.float32)
            empty = undefined[cell]
            if empty.any():
                out[empty] = average_neighbors(cells, values32, undefined, T[empty], cell[empty])
            if (~empty).any():
                out[~empty] = estimate(cells, values32, undefined, T[~empty], o.Kernel, sigma)
            return out
        return estimate(cells, values32, undefined, T, o.Kernel, sigma)

    def _multi_target(self, foam: _Foam, X: F32) -> F32:
        """``PDEFoamMultiTarget::GetCellValue``: the targets from all cells containing the variables."""
        o = self._opts()
        cells = foam.cells
        nvar = X.shape[1]
        dim = cells.dim
        lo32, hi32 = foam.xmin.astype(np.float32), foam.xmax.astype(np.float32)
        x = X.astype(np.float32).copy()
        for k in range(nvar):
            x[:, k] = np.where(x[:, k] <= lo32[k], lo32[k] + np.float32(_FLT_EPS), x[:, k])
            x[:, k] = np.where(x[:, k] >= hi32[k], hi32[k] - np.float32(_FLT_EPS), x[:, k])
        t = transform(x, foam.xmin[:nvar], foam.xmax[:nvar]).astype(np.float64)
        posi, size = cells.hcub()
        # FindCells: descend, taking both daughters at a split of a target dimension
        ev = np.arange(len(X))
        cell = np.zeros(len(X), dtype=np.int64)
        while True:
            inner = cells.dau0[cell] >= 0
            if not inner.any():
                break
            e_i, c_i = ev[inner], cell[inner]
            split = cells.best[c_i]
            d0 = cells.dau0[c_i]
            var_split = split < nvar
            kk = np.where(var_split, split, 0)
            edge = posi[d0, kk] + size[d0, kk]
            left = t[e_i, kk] <= edge
            routed = np.where(left, d0, cells.dau1[c_i])
            ev = np.concatenate([ev[~inner], e_i[var_split], e_i[~var_split], e_i[~var_split]])
            cell = np.concatenate(
                [cell[~inner], routed[var_split], cells.dau0[c_i[~var_split]], cells.dau1[c_i[~var_split]]]
            )
        order = np.lexsort((_preorder(cells)[cell], ev))
        ev, cell = ev[order], cell[order]
        vol = cells.volume()
        with np.errstate(divide="ignore", invalid="ignore"):
            dens = np.where(
                vol > _DBL_EPS, cells.elements[:, 0].astype(np.float32).astype(np.float64) / vol, 0.0
            )
        dens = dens.astype(np.float32).astype(np.float64)
        n_t = dim - nvar
        out = np.zeros((len(X), n_t), dtype=np.float32)
        centre = (posi + 0.5 * size)[:, nvar:]
        tval = (
            centre.astype(np.float32).astype(np.float64) * (foam.xmax[nvar:] - foam.xmin[nvar:])
            + foam.xmin[nvar:]
        )
        tval32 = tval.astype(np.float32)
        starts = np.searchsorted(ev, np.arange(len(X)))
        counts = np.bincount(ev, minlength=len(X))
        if o.TargetSelection == "Mpv":
            best_d = np.zeros(len(X))
            for r in range(int(counts.max(initial=0))):
                has = counts > r
                idx = starts[has] + r
                cd = dens[cell[idx]]
                better = cd > best_d[has]
                rows = np.flatnonzero(has)[better]
                best_d[rows] = cd[better]
                out[rows] = tval32[cell[idx[better]]]
            return out
        acc = np.zeros((len(X), n_t), dtype=np.float32)
        norm = np.zeros((len(X), n_t), dtype=np.float32)
        for r in range(int(counts.max(initial=0))):
            rows_r = np.flatnonzero(counts > r)
            idx = starts[rows_r] + r
            cd = dens[cell[idx]][:, None]
            acc[rows_r] = (acc[rows_r].astype(np.float64) + cd * tval32[cell[idx]].astype(np.float64)).astype(
                np.float32
            )
            norm[rows_r] = (norm[rows_r].astype(np.float64) + cd).astype(np.float32)
        fallback = ((foam.xmax[nvar:] - foam.xmin[nvar:]) / 2.0).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(norm > np.float32(_FLT_EPS), acc / norm, fallback[None, :]).astype(np.float32)
        return out

    def _predict(self, X: F32) -> F32:
        self.check_trained()
        if not self.foams_:
            raise ModelError(f"method {self.method_name}: no foams (train or read a weights file)")
        o = self._opts()
        E = np.ascontiguousarray(X, dtype=np.float32)
        n_out = self.context.n_outputs
        out = np.empty((len(E), n_out), dtype=np.float32)
        for a in range(0, len(E), _CHUNK):
            e = E[a : a + _CHUNK]
            out[a : a + len(e)] = self._predict_chunk(e, o)
        return out

    def _predict_chunk(self, E: F32, o: PDEFoamOptions) -> F32:
        n_out = self.context.n_outputs
        if self._regression:
            foam = self.foams_[0]
            if foam.kind == "MultiTarget":
                res = self._multi_target(foam, E)
            else:
                res = self._cell_values(foam, transform(E, foam.xmin, foam.xmax))[:, None]
            if res.shape[1] != n_out:
                raise ModelError(
                    f"method {self.method_name}: the foam gives {res.shape[1]} targets, the method {n_out}"
                )
            return res.astype(np.float32)
        if self._multiclass:
            temp = np.column_stack(
                [self._cell_values(f, transform(E, f.xmin, f.xmax)) for f in self.foams_]
            ).astype(np.float32)
            res = np.empty_like(temp)
            for i in range(temp.shape[1]):
                norm = np.zeros(len(E), dtype=np.float32)
                for j in range(temp.shape[1]):
                    if i != j:
                        norm = (
                            norm + np.exp((temp[:, j] - temp[:, i]).astype(np.float64)).astype(np.float32)
                        ).astype(np.float32)
                res[:, i] = (1.0 / (1.0 + norm.astype(np.float64))).astype(np.float32)
            return res
        if o.SigBgSeparate:
            fs, fb = self.foams_[0], self.foams_[1]
            ds = self._cell_values(fs, transform(E, fs.xmin, fs.xmax), density=True).astype(np.float64)
            db = self._cell_values(fb, transform(E, fb.xmin, fb.xmax), density=True).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                discr = np.where(ds + db > 0, ds / (ds + db), 0.5)
        else:
            f = self.foams_[0]
            discr = self._cell_values(f, transform(E, f.xmin, f.xmax)).astype(np.float64)
        if o.UseYesNoCell:
            discr = np.where(discr < 0.5, -1.0, 1.0)
        out = np.empty((len(E), n_out), dtype=np.float32)
        out[:] = (1.0 - discr if not o.UseYesNoCell else -discr)[:, None].astype(np.float32)
        out[:, self.context.signal_class] = discr.astype(np.float32)
        return out

    # ------------------------------------------------------------------ ranking
    def ranking(self) -> list[tuple[str, float]] | None:
        """``CreateRanking``: the share of the cuts made in each variable, averaged over the foams."""
        if not self.foams_:
            return None
        nvar = self.context.n_variables
        importance = np.zeros(nvar, dtype=np.float32)
        for f in self.foams_:
            cuts = f.cells.n_cuts()[:nvar].astype(np.float32)
            total = int(cuts.sum())
            tmp = cuts / np.float32(total) if total > 0 else np.zeros(nvar, dtype=np.float32)
            importance = (importance + tmp.astype(np.float32) / np.float32(len(self.foams_))).astype(
                np.float32
            )
        labels = [v.label for v in self.context.variables]
        return list(
            Ranking.from_values(labels, importance.astype(np.float64), self.ranking_criterion).entries
        )

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``AddWeightsXMLTo``: TMVA's attributes and range, plus the foams as ``<Foam>`` arrays (pymva)."""
        if not self.foams_ or self.xmin_ is None or self.xmax_ is None:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        o = self._opts()
        attrs = {
            "SigBgSeparated": int(o.SigBgSeparate),
            "Frac": _g(float(np.float32(self.tail_cut_))),
            "DiscrErrCut": "-1",
            "VolFrac": _g(float(np.float32(o.VolFrac))),
            "nCells": 2 * self.n_active_cells_ - 1,
            "nSampl": o.nSampl,
            "nBin": o.nBin,
            "EvPerBin": 10000,
            "Compress": int(o.Compress),
            "DoRegression": int(self._regression),
            "CutNmin": int(o.Nmin > 0),
            "Nmin": o.Nmin,
            "CutRMSmin": 0,
            "RMSmin": "0",
            "Kernel": KERNELS.index(o.Kernel),
            "TargetSelection": TARGET_SELECTIONS.index(o.TargetSelection),
            "FillFoamWithOrigWeights": int(o.FillFoamWithOrigWeights),
            "UseYesNoCell": int(o.UseYesNoCell),
        }
        for k, v in attrs.items():
            parent.set(k, str(v))
        for tag, arr in (("Xmin", self.xmin_), ("Xmax", self.xmax_)):
            for i, v in enumerate(arr.tolist()):
                ET.SubElement(parent, tag, Index=str(i), Value=_g(float(v)))
        for f in self.foams_:
            c = f.cells
            el = ET.SubElement(
                parent,
                "Foam",
                Name=f.name,
                Type=f.kind,
                Dim=str(c.dim),
                NCells=str(c.n_cells),
                NElements=str(c.elements.shape[1]),
            )
            for tag, links in (("Parent", c.parent), ("Dau0", c.dau0), ("Dau1", c.dau1), ("Best", c.best)):
                ET.SubElement(el, tag).text = " ".join(str(int(v)) for v in links.tolist())
            ET.SubElement(el, "Xdiv").text = " ".join(repr(float(v)) for v in c.xdiv.tolist())
            for j in range(c.elements.shape[1]):
                ET.SubElement(el, "Element", Index=str(j)).text = " ".join(
                    repr(float(v)) for v in c.elements[:, j].tolist()
                )

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """``ReadWeightsFromXML``: the range and the foams (pymva's ``<Foam>`` layout).

        Raises
        ------
        ModelError
            For a file without ``<Foam>`` elements (a TMVA file, whose foams are in the
            ``*_foams.root`` file that pymva cannot read) or with malformed foam arrays.
        """
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        dim = self.context.n_variables + (self.context.n_targets if self.multi_target_ else 0)
        xmin = np.zeros(dim, dtype=np.float32)
        xmax = np.zeros(dim, dtype=np.float32)
        try:
            for tag, arr in (("Xmin", xmin), ("Xmax", xmax)):
                items = weights.findall(tag)
                if len(items) != dim:
                    raise ModelError(f"{where}: {len(items)} <{tag}> elements, expected {dim}")
                for it in items:
                    i = int(it.get("Index", "-1"))
                    if not 0 <= i < dim:
                        raise ModelError(f"{where}: <{tag} Index={i}> out of range 0..{dim - 1}")
                    arr[i] = np.float32(float(it.get("Value", "nan")))
        except ValueError as exc:
            raise ModelError(f"{where}: malformed <Xmin>/<Xmax>: {exc}") from None
        foams = weights.findall("Foam")
        if not foams:
            ctx = self.context
            src = ctx.weights_source or str(ctx.weight_dir / f"{ctx.job_name}_{self.title}.weights.xml")
            root_file = src.replace(".xml", "_foams.root") if src.endswith(".xml") else f"{src}_foams.root"
            raise ModelError(
                f"{where}: no <Foam> elements; this is a TMVA weights file whose foams TMVA wrote to "
                f"'{root_file}' as streamed C++ objects (TMVA::PDEFoam with its PDEFoamCell tree), which pymva "
                "cannot read; retrain the method with pymva to get a weights file that holds the foams"
            )
        self.foams_ = [_read_foam(f, where, dim, xmin, xmax) for f in foams]
        self.xmin_, self.xmax_ = xmin, xmax
        expected = self._expected_foams()
        names = [f.name for f in self.foams_]
        if names != expected:
            raise ModelError(f"{where}: the file holds the foams {names}, expected {expected}")
        super().read_weights_xml(weights)

    def _expected_foams(self) -> list[str]:
        if self._regression:
            return ["MultiTargetRegressionFoam" if self.multi_target_ else "MonoTargetRegressionFoam"]
        if self._multiclass:
            return [f"MultiClassFoam{c}" for c in range(self.context.n_classes)]
        return ["SignalFoam", "BgFoam"] if self._opts().SigBgSeparate else ["DiscrFoam"]


def _g(v: float) -> str:
    return f"{v:.9g}"


def _preorder(cells: FoamCells) -> I64:
    """Rank of each cell in the depth-first order of ``FindCells`` (first daughter first)."""
    rank = np.zeros(cells.n_cells, dtype=np.int64)
    stack = [0]
    r = 0
    while stack:
        c = stack.pop()
        rank[c] = r
        r += 1
        if cells.dau0[c] >= 0:
            stack.append(int(cells.dau1[c]))
            stack.append(int(cells.dau0[c]))
    return rank


def _read_foam(el: ET.Element, where: str, dim: int, xmin: F32, xmax: F32) -> _Foam:
    name = el.get("Name", "")
    kind = el.get("Type", "")
    if kind not in ("Discriminant", "Event", "Target", "MultiTarget"):
        raise ModelError(
            f"{where}: <Foam Name='{name}'> has Type='{kind}'; accepted: Discriminant, Event, Target, MultiTarget"
        )
    try:
        n = int(el.get("NCells", "-1"))
        fdim = int(el.get("Dim", "-1"))

        def ints(tag: str) -> I64:
            node = el.find(tag)
            if node is None:
                raise ModelError(f"{where}: <Foam Name='{name}'> has no <{tag}>")
            a = np.array([int(v) for v in (node.text or "").split()], dtype=np.int64)
            if len(a) != n:
                raise ModelError(f"{where}: <Foam Name='{name}'><{tag}> holds {len(a)} values, NCells={n}")
            return a

        parent, dau0, dau1, best = ints("Parent"), ints("Dau0"), ints("Dau1"), ints("Best")
        xnode = el.find("Xdiv")
        if xnode is None:
            raise ModelError(f"{where}: <Foam Name='{name}'> has no <Xdiv>")
        xdiv = np.array([float(v) for v in (xnode.text or "").split()])
        elems = sorted(el.findall("Element"), key=lambda e: int(e.get("Index", "0")))
        cols = [np.array([float(v) for v in (e.text or "").split()]) for e in elems]
    except ValueError as exc:
        raise ModelError(f"{where}: <Foam Name='{name}'> holds malformed numbers: {exc}") from None
    if fdim != dim or len(xdiv) != n or any(len(c) != n for c in cols) or len(cols) < 2 or n < 1:
        raise ModelError(
            f"{where}: <Foam Name='{name}'> is inconsistent (Dim={fdim}, expected {dim}; NCells={n})"
        )
    ok = (
        parent[0] == -1
        and np.all((parent[1:] >= 0) & (parent[1:] < np.arange(1, n)))
        and np.all((dau0 == -1) == (dau1 == -1))
        and np.all((dau0 < n) & (dau1 < n))
        and np.all(best[dau0 >= 0] >= 0)
        and np.all(best < dim)
    )
    inner = np.flatnonzero(dau0 >= 0)
    ok = (
        bool(ok) and bool(np.all(parent[dau0[inner]] == inner)) and bool(np.all(parent[dau1[inner]] == inner))
    )
    if not ok:
        raise ModelError(
            f"{where}: <Foam Name='{name}'> is not a valid cell tree (parents, daughters, splits)"
        )
    cells = FoamCells(dim, parent, dau0, dau1, best, xdiv, np.column_stack(cols))
    return _Foam(name, kind, xmin.astype(np.float64), xmax.astype(np.float64), cells)
