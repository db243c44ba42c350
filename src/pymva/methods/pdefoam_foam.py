"""TMVA's ``PDEFoam``: a binary tree of hyper-rectangular cells grown on a density, then filled with events.

Mirrors ``tmva/tmva/src/PDEFoam.cxx`` (``Create``, ``InitCells``, ``Explore``, ``Varedu``,
``PeekMax``, ``Divide``, ``Grow``, ``FindCell``, ``FillFoamCells``), ``PDEFoamCell.cxx``
(``GetHcub``, ``CalcVolume``, ``GetDepth``), the density estimators ``PDEFoamEventDensity.cxx``,
``PDEFoamDiscriminantDensity.cxx``, ``PDEFoamTargetDensity.cxx``, and the decision-tree variant
``PDEFoamDecisionTree.cxx`` / ``PDEFoamDecisionTreeDensity.cxx``.

The foam lives in the unit cube ``[0, 1]^d``; an event ``x`` maps to it by ``VarTransform``
``t = (x − xmin)/(xmax − xmin)`` (float32).  Every cell ``c`` has a parent, two daughters (inactive
cells) or none (active cells), the split dimension ``best`` and the split fraction ``xdiv``: the
first daughter holds the fraction ``xdiv`` of the parent's edge ``best``, the second the rest.  The
position and size of a cell are recomputed from its ancestors as ``GetHcub`` does (walking up from
the cell), so that the cell boundaries are TMVA's to the last bit.

Build-up (``Create``).  Starting from the root cell, ``Explore`` probes a cell with ``nSampl``
uniform points (``TRandom3(4356)``, the foam's own generator; ``kDim`` uniforms per point as
``RndmArray``).  Each point ``p`` gets the weight ``w_p = V_cell · V_scale · ρ(x_p)`` where ``ρ`` is the
range-search density (box of side ``VolFrac·(xmax − xmin)`` centred on ``x_p``, events with
``lo < x <= hi``): ``(Σw + 0.1)/V_box`` (events), ``(Σ_class w/(Σw + 0.1))/V_box`` (discriminant),
``(Σ w t/(Σw + 0.1))/V_box`` (target).  The projections of the weights on every edge
(``nBin``-bin histograms with ``Σw`` and ``Σw²``) give, for every bin range ``[jLo, jUp]``, TMVA's
``Varedu`` estimate of the square-root variance after cutting out that range; the edge and the
range with the largest reduction ``gain`` set the cell's ``best`` and ``xdiv``.  The cell's driver
is ``sqrt(<w²>) − <w>``; ``PeekMax`` splits the active cell with the largest driver (above float
epsilon, ``xdiv`` not at an edge, depth below ``MaxDepth``, estimated event count above ``Nmin``)
until ``2·nActiveCells − 1`` cells exist or none qualifies.

``DTLogic`` (``PDEFoamDecisionTree``): no sampling; the training events inside the cell fill
``nBin``-bin histograms per variable between the smallest and largest event value, and the cut with
the best separation gain (both sides holding at least ``Nmin`` unweighted events) sets the split,
``xdiv = jLo/nBin`` of the cell (TMVA's arithmetic, even though the histogram spans the events'
range); the driver is that gain.

Everything is vectorised: the samples of a cell in one batch, the range search by a
:class:`scipy.spatial.cKDTree` superset search refined by the exact half-open comparison, the descent
of many events through the cell tree level by level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ..errors import ModelError
from .separation import SEPARATION_INDEX, separation_gain
from .trandom3 import TRandom3

__all__ = [
    "DENSITY_KINDS",
    "FOAM_SEED",
    "FoamCells",
    "RangeSearch",
    "grow_foam",
    "inverse_transform",
    "transform",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: The seed of every foam's ``TRandom3`` (``PDEFoam::PDEFoam``).
FOAM_SEED = 4356
#: TMVA's ``fEvPerBin`` (fixed by ``MethodPDEFoam``): the sampling stops when the effective number of
#: samples reaches ``nBin·EvPerBin``.
EV_PER_BIN = 10000
#: Density estimators of the build-up (``PDEFoam*Density``).
DENSITY_KINDS = ("event", "discriminant", "target")
_FLT_EPS = float(np.finfo(np.float32).eps)
_DBL_EPS = float(np.finfo(np.float64).eps)


def transform(X: npt.ArrayLike, xmin: F64, xmax: F64) -> F32:
    """``PDEFoam::VarTransform``: ``(x − xmin)/(xmax − xmin)`` per dimension, as float32.

    Parameters
    ----------
    X : array of float, shape (n, dim)
    xmin, xmax : ndarray of float64, shape (dim,)

    Returns
    -------
    ndarray of float32, shape (n, dim)
    """
    x = np.asarray(X, dtype=np.float32).astype(np.float64)
    return ((x - xmin) / (xmax - xmin)).astype(np.float32)


def inverse_transform(T: npt.ArrayLike, xmin: F64, xmax: F64) -> F32:
    """``PDEFoam::VarTransformInvers``: ``t·(xmax − xmin) + xmin`` of float32 foam coordinates.

    Parameters
    ----------
    T : array of float, shape (n, dim)
        Foam coordinates (rounded to float32 first, as TMVA's ``Float_t`` argument).
    xmin, xmax : ndarray of float64, shape (dim,)

    Returns
    -------
    ndarray of float32, shape (n, dim)
    """
    t = np.asarray(T, dtype=np.float32).astype(np.float64)
    return (t * (xmax - xmin) + xmin).astype(np.float32)


@dataclass
class FoamCells:
    """The cell tree of a foam (TMVA's ``fCells`` array, cell ``0`` the root).

    Attributes
    ----------
    dim : int
        Foam dimension.
    parent, dau0, dau1 : ndarray of int64, shape (n_cells,)
        Parent and daughters (``-1``: none).  Active cells have no daughters.
    best : ndarray of int64, shape (n_cells,)
        Split dimension (``fBest``; ``-1`` for a cell without a usable split).
    xdiv : ndarray of float64, shape (n_cells,)
        Split fraction (``fXdiv``).
    elements : ndarray of float64, shape (n_cells, n_elements)
        The cell elements after filling (``TVectorD`` per cell; 0 where TMVA has none).
    """

    dim: int
    parent: I64
    dau0: I64
    dau1: I64
    best: I64
    xdiv: F64
    elements: F64 = field(default_factory=lambda: np.zeros((0, 0)))
    _hcub: tuple[F64, F64] | None = field(default=None, repr=False)

    @property
    def n_cells(self) -> int:
        """Number of cells (active and inactive)."""
        return len(self.parent)

    @property
    def active(self) -> npt.NDArray[np.bool_]:
        """Active cells (``GetStat() == 1``): those without daughters."""
        return np.asarray(self.dau0 < 0)

    def hcub(self) -> tuple[F64, F64]:
        """``PDEFoamCell::GetHcub`` of every cell: positions and sizes, shape (n_cells, dim), float64.

        Walks from each cell up to the root, scaling the split edge of every ancestor as TMVA does.
        """
        if self._hcub is None:
            n = self.n_cells
            posi = np.zeros((n, self.dim))
            size = np.ones((n, self.dim))
            rows = np.arange(n)
            d = rows.copy()
            while rows.size:
                p = self.parent[d]
                go = p >= 0
                rows, d, p = rows[go], d[go], p[go]
                if not rows.size:
                    break
                k = self.best[p]
                x = self.xdiv[p]
                first = self.dau0[p] == d
                s_old, p_old = size[rows, k], posi[rows, k]
                size[rows, k] = np.where(first, s_old * x, s_old * (1.0 - x))
                posi[rows, k] = np.where(first, p_old * x, p_old * (1.0 - x) + x)
                d = p
            self._hcub = (posi, size)
        return self._hcub

    def volume(self) -> F64:
        """``PDEFoamCell::CalcVolume``: the product of the cell sizes (unit-cube volume), float64."""
        _, size = self.hcub()
        vol = np.ones(self.n_cells)  # multiplied dimension by dimension, as CalcVolume
        for k in range(self.dim):
            vol = vol * size[:, k]
        return vol

    def depth(self) -> I64:
        """``PDEFoamCell::GetDepth``: 1 for the root, parent's depth + 1 otherwise."""
        out = np.ones(self.n_cells, dtype=np.int64)
        for c in range(1, self.n_cells):  # parents precede their daughters
            out[c] = out[self.parent[c]] + 1
        return out

    def find(self, T: npt.ArrayLike) -> I64:
        """``PDEFoam::FindCell`` for many points in foam coordinates.

        A point goes to the first daughter when its coordinate of the split dimension is ``<=`` the
        upper edge of that daughter; points outside the unit cube reach the nearest cell.

        Parameters
        ----------
        T : array of float32, shape (n, dim)

        Returns
        -------
        ndarray of int64, shape (n,)
            The active cell of each point.
        """
        t = np.asarray(T, dtype=np.float32).astype(np.float64)
        posi, size = self.hcub()
        cell = np.zeros(len(t), dtype=np.int64)
        todo = np.flatnonzero(self.dau0[cell] >= 0)
        while todo.size:
            c = cell[todo]
            k = self.best[c]
            d0 = self.dau0[c]
            edge = posi[d0, k] + size[d0, k]
            left = t[todo, k] <= edge
            cell[todo] = np.where(left, d0, self.dau1[c])
            todo = todo[self.dau0[cell[todo]] >= 0]
        return cell

    def n_cuts(self) -> I64:
        """Number of splits made in each dimension (``MethodPDEFoam::GetNCuts`` from the root)."""
        inactive = ~self.active
        return np.bincount(self.best[inactive & (self.best >= 0)], minlength=self.dim).astype(np.int64)


class RangeSearch:
    """``BinarySearchTree::SearchVolume`` for many boxes of one fixed size: events with ``lo < x <= hi``.

    Parameters
    ----------
    X : array of float32, shape (n_events, dim)
        The events of the foam's search tree.
    box : array of float, shape (dim,)
        The box side per dimension (positive).
    """

    def __init__(self, X: npt.ArrayLike, box: npt.ArrayLike) -> None:
        from scipy.spatial import cKDTree

        self.X = np.asarray(X, dtype=np.float32).astype(np.float64)
        self.box = np.asarray(box, dtype=np.float64)
        self._unit = self.box
        self._tree = cKDTree(self.X / self._unit) if len(self.X) else None
        self._extent = float(np.max(np.abs(self.X / self._unit), initial=0.0))

    def pairs(self, centres: F64) -> tuple[I64, I64]:
        """(centre index, event index) for every event inside the box around each centre.

        The boxes are ``(c − box/2, c + box/2]`` in double precision; a Chebyshev-distance search in
        units of the box side gives a superset, the exact comparison keeps the events inside.

        Parameters
        ----------
        centres : ndarray of float64, shape (n_boxes, dim)

        Returns
        -------
        box, event : ndarrays of int64, shape (n_pairs,)
        """
        from scipy.spatial import cKDTree

        c = np.asarray(centres, dtype=np.float64)
        if self._tree is None or not len(c):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        lo = c - self.box / 2.0
        hi = c + self.box / 2.0
        q = cKDTree(c / self._unit)
        scale = 1.0 + float(np.max(np.abs(c / self._unit), initial=0.0)) + self._extent
        radius = 0.5 + 1e-9 * scale
        m = q.sparse_distance_matrix(self._tree, radius, p=np.inf, output_type="ndarray")
        i = m["i"].astype(np.int64)
        j = m["j"].astype(np.int64)
        inside = np.all((lo[i] < self.X[j]) & (self.X[j] <= hi[i]), axis=1)
        return i[inside], j[inside]


@dataclass
class _Uniforms:
    """A ``TRandom3`` stream from which unused numbers can be put back."""

    rng: TRandom3
    pending: F64 = field(default_factory=lambda: np.zeros(0))

    def take(self, n: int) -> F64:
        have = self.pending[:n]
        self.pending = self.pending[n:]
        if len(have) == n:
            return have
        return np.concatenate([have, self.rng.uniforms(n - len(have))])

    def put_back(self, values: F64) -> None:
        self.pending = np.concatenate([values, self.pending])


@dataclass
class _Explored:
    best: int
    xdiv: float
    driv: float
    count: float  # cell element 0 during the build-up (events found, for the Nmin cut)


def _varedu(hist_w: F64, hist_w2: F64, sum_w2: float, nent: float) -> tuple[int, float]:
    """``PDEFoam::Varedu``: best edge and division point from the edge histograms (dim, nBin)."""
    dim, nbin = hist_w.shape
    ssw = np.sqrt(sum_w2) / np.sqrt(nent)
    k_best = -1
    x_best = 0.5
    max_gain = 0.0
    lo_idx, up_idx = np.triu_indices(nbin)  # jLo outer, jUp inner, jLo <= jUp (0-based)
    x_lo = lo_idx.astype(np.float64) / nbin  # (jLo − 1)/nBin with 1-based jLo
    x_up = (up_idx + 1.0) / nbin
    width = x_up - x_lo
    rest = 1.0 - x_up + x_lo
    for k in range(dim):
        # Σ err² over bins jLo..jUp, added in TMVA's order
        acc = np.empty(len(lo_idx))
        pos = 0
        for jl in range(nbin):
            run = np.cumsum(hist_w2[k, jl:])
            acc[pos : pos + len(run)] = run
            pos += len(run)
        with np.errstate(divide="ignore", invalid="ignore"):
            ssw_in = np.where(width < _DBL_EPS, 0.0, np.sqrt(acc) / np.sqrt(nent * width) * width)
            out_ok = ~((rest < _DBL_EPS) | (sum_w2 - acc < _DBL_EPS))
            ssw_out = np.where(
                out_ok, np.sqrt(np.where(out_ok, sum_w2 - acc, 0.0)) / np.sqrt(nent * rest) * rest, 0.0
            )
        total = ssw_in + ssw_out
        ib = int(np.argmin(total))  # the first minimum in TMVA's loop order
        gain = ssw - total[ib]
        if gain >= max_gain:
            max_gain = gain
            k_best = k
            x_min, x_max = float(x_lo[ib]), float(x_up[ib])
            x_best = x_min
            if int(nbin * x_min) == 0:
                x_best = x_max
    return k_best, x_best


@dataclass
class _FoamBuilder:
    kind: str
    search: RangeSearch
    weights: F64
    is_class: npt.NDArray[np.bool_]  # discriminant: events of the foam's class
    target: F64  # target density: the target values
    xmin: F64
    xmax: F64
    n_sampl: int
    n_bin: int
    nmin: float
    max_depth: int
    dt_index: Callable[[F64, F64], F64] | None
    stream: _Uniforms

    @property
    def dim(self) -> int:
        return len(self.xmin)

    def density(self, xabs: F64) -> tuple[F64, F64]:
        """The density estimator at points (absolute coordinates): value and event density."""
        box_vol_inv = 1.0 / float(np.prod(self.search.box))
        i, j = self.search.pairs(xabs)
        n = len(xabs)
        sumw = np.bincount(i, weights=self.weights[j], minlength=n)
        count = np.bincount(i, minlength=n).astype(np.float64)
        event_density = count * box_vol_inv
        if self.kind == "event":
            return np.asarray((sumw + 0.1) * box_vol_inv, dtype=np.float64), event_density
        if self.kind == "discriminant":
            cls = self.is_class[j]
            n_sig = np.bincount(i[cls], weights=self.weights[j[cls]], minlength=n)
            return (n_sig / (sumw + 0.1)) * box_vol_inv, event_density
        prod = (self.target[j].astype(np.float32) * self.weights[j].astype(np.float32)).astype(np.float64)
        n_tar = np.bincount(i, weights=prod, minlength=n)  # Float_t target × weight, summed in double
        return (n_tar / (sumw + 0.1)) * box_vol_inv, event_density

    def explore(self, posi: F64, size: F64, volume: float, is_root: bool) -> _Explored:
        if self.dt_index is not None:
            return self._explore_dt(posi, size)
        dim, ns = self.dim, self.n_sampl
        vol_scale = 1.0
        for k in range(dim):
            vol_scale *= float(self.xmax[k] - self.xmin[k])
        dx = volume * vol_scale
        limit = self.n_bin * EV_PER_BIN
        alphas: list[F64] = []
        wts: list[F64] = []
        s0 = s1 = tot = 0.0  # ceSum[0], ceSum[1] and totevents, added sample by sample as TMVA
        done = 0
        while done < ns:
            m = min(ns - done, max(limit, 1))
            alpha = self.stream.take(m * dim).reshape(m, dim)
            xrand = posi + alpha * size
            xabs = inverse_transform(xrand.astype(np.float32), self.xmin, self.xmax).astype(np.float64)
            value, ev_dens = self.density(xabs)
            wt = dx * value
            c0 = s0 + np.cumsum(wt)
            c1 = s1 + np.cumsum(wt * wt)
            with np.errstate(divide="ignore", invalid="ignore"):
                nev_eff = np.where(c1 > 0, c0 * c0 / c1, 0.0)
            stop = np.flatnonzero(nev_eff >= limit)
            if stop.size:
                last = int(stop[0]) + 1
                self.stream.put_back(alpha[last:].reshape(-1))
                alpha, wt, ev_dens = alpha[:last], wt[:last], ev_dens[:last]
                c0, c1 = c0[:last], c1[:last]
            alphas.append(alpha)
            wts.append(wt)
            if len(wt):
                s0, s1 = float(c0[len(wt) - 1]), float(c1[len(wt) - 1])
                tot = float((tot + np.cumsum(ev_dens))[-1])
            done += len(wt)
            if stop.size:
                break
        alpha = np.concatenate(alphas) if alphas else np.zeros((0, dim))
        wt = np.concatenate(wts) if wts else np.zeros(0)
        totevents = tot * dx
        if ns > 0:
            totevents /= ns
        sum_w, sum_w2, nent = s0, s1, float(len(wt))
        if is_root and sum_w == 0.0:
            raise ModelError(
                "PDEFoam: no events were found during the exploration of the root cell; check the options "
                "nSampl and VolFrac (a larger VolFrac makes the sampling box larger)"
            )
        bins = np.minimum((alpha * self.n_bin).astype(np.int64), self.n_bin - 1)
        hist_w = np.zeros((dim, self.n_bin))
        hist_w2 = np.zeros((dim, self.n_bin))
        for k in range(dim):
            hist_w[k] = np.bincount(bins[:, k], weights=wt, minlength=self.n_bin)
            hist_w2[k] = np.bincount(bins[:, k], weights=wt * wt, minlength=self.n_bin)
        k_best, x_best = _varedu(hist_w, hist_w2, sum_w2, nent)
        int_true = sum_w / (nent + 0.000001)
        int_driv = float(np.sqrt(sum_w2 / nent)) - int_true
        return _Explored(k_best, x_best, int_driv, totevents)

    def _explore_dt(self, posi: F64, size: F64) -> _Explored:
        assert self.dt_index is not None
        dim, nbin = self.dim, self.n_bin
        lo = inverse_transform((posi - _FLT_EPS).astype(np.float32), self.xmin, self.xmax).astype(np.float64)
        hi = inverse_transform((posi + size + _FLT_EPS).astype(np.float32), self.xmin, self.xmax).astype(
            np.float64
        )
        events = self.search.X
        inside = np.all((lo < events) & (events <= hi), axis=1)
        x = events[inside]
        w = self.weights[inside]
        sig = self.is_class[inside]
        tot_s = tot_b = 0.0
        tot_su, tot_bu = float(sig.sum()), float((~sig).sum())
        k_best, x_best, max_gain = -1, 0.5, -1.0
        if len(x):
            xl = x.min(axis=0).astype(np.float32).astype(np.float64)
            xh = x.max(axis=0).astype(np.float32).astype(np.float64)
            for k in range(dim):
                # TH1::FindBin on [xl, xh): underflow 0, overflow nBin + 1
                with np.errstate(divide="ignore", invalid="ignore"):
                    raw = 1 + (nbin * (x[:, k] - xl[k]) / (xh[k] - xl[k]))
                b = np.where(x[:, k] < xl[k], 0, np.where(~(x[:, k] < xh[k]), nbin + 1, 0))
                regular = (x[:, k] >= xl[k]) & (x[:, k] < xh[k])
                b = np.where(regular, np.floor(np.where(regular, raw, 0)).astype(np.int64), b).astype(
                    np.int64
                )
                hs = np.bincount(b[sig], weights=w[sig], minlength=nbin + 2)
                hb = np.bincount(b[~sig], weights=w[~sig], minlength=nbin + 2)
                hsu = np.bincount(b[sig], minlength=nbin + 2).astype(np.float64)
                hbu = np.bincount(b[~sig], minlength=nbin + 2).astype(np.float64)
                if k == 0:  # Integral(0, nBin + 1) of the first variable's histograms
                    tot_s = float(np.cumsum(hs)[-1])
                    tot_b = float(np.cumsum(hb)[-1])
                sel_s, sel_b = np.cumsum(hs[:nbin]), np.cumsum(hb[:nbin])
                sel_su, sel_bu = np.cumsum(hsu[:nbin]), np.cumsum(hbu[:nbin])
                jlo = np.arange(1, nbin)
                nsu, nbu = sel_su[1:], sel_bu[1:]
                ok = (nsu + nbu >= self.nmin) & ((tot_su - nsu + tot_bu - nbu) >= self.nmin)
                if not ok.any():
                    continue
                gains = separation_gain(
                    self.dt_index,
                    np.asarray(sel_s[1:][ok], dtype=np.float64),
                    np.asarray(sel_b[1:][ok], dtype=np.float64),
                    np.array(tot_s),
                    np.array(tot_b),
                )
                top = float(np.max(gains))
                if top >= max_gain:  # TMVA's '>=': the last candidate with the largest gain wins
                    last = int(np.flatnonzero(gains == top)[-1])
                    max_gain, x_best, k_best = top, int(jlo[ok][last]) / nbin, k
        if k_best < 0:
            max_gain = -1.0
        count = tot_s + tot_b if self.nmin > 0 else 0.0
        return _Explored(k_best, x_best, max_gain, count)


def _hcub_one(c: int, parent: I64, dau0: I64, best: I64, xdiv: F64, dim: int) -> tuple[F64, F64]:
    """``GetHcub`` of one cell (the same walk as :meth:`FoamCells.hcub`)."""
    posi = np.zeros(dim)
    size = np.ones(dim)
    d = c
    while parent[d] >= 0:
        p = int(parent[d])
        k, x = int(best[p]), float(xdiv[p])
        if dau0[p] == d:
            size[k] *= x
            posi[k] *= x
        else:
            size[k] *= 1.0 - x
            posi[k] = posi[k] * (1.0 - x) + x
        d = p
    return posi, size


def grow_foam(
    X: npt.ArrayLike,
    weights: npt.ArrayLike,
    xmin: npt.ArrayLike,
    xmax: npt.ArrayLike,
    *,
    kind: str,
    box: npt.ArrayLike,
    n_cells: int,
    n_sampl: int,
    n_bin: int,
    nmin: float,
    max_depth: int,
    is_class: npt.ArrayLike | None = None,
    target: npt.ArrayLike | None = None,
    dt_logic: str | None = None,
    seed: int = FOAM_SEED,
) -> FoamCells:
    """``PDEFoam::Create``: grow the cell tree on the events of the foam's search tree.

    Parameters
    ----------
    X : array of float32, shape (n_events, dim)
        The events of the search tree (``FillBinarySearchTree``), absolute coordinates.
    weights : array of float, shape (n_events,)
    xmin, xmax : array of float, shape (dim,)
        The foam range (``SetXmin``/``SetXmax``).
    kind : str
        One of :data:`DENSITY_KINDS`.
    box : array of float, shape (dim,)
        The range-searching box (``VolFrac·(xmax − xmin)``).
    n_cells : int
        ``2·nActiveCells − 1``.
    n_sampl, n_bin : int
        ``nSampl`` and ``nBin``.
    nmin : float
        ``Nmin`` (0: no cut).
    max_depth : int
        ``MaxDepth`` (0: unlimited).
    is_class : array of bool, shape (n_events,), optional
        Discriminant and ``dt_logic``: the events of the foam's class.
    target : array of float, shape (n_events,), optional
        Target density: the target values.
    dt_logic : str, optional
        A key of :data:`~pymva.methods.separation.SEPARATION_INDEX`: the decision-tree split.
    seed : int
        The foam's ``TRandom3`` seed.

    Returns
    -------
    FoamCells
        Without elements (filled by the caller).

    Raises
    ------
    ModelError
        If the sampling of the root cell finds no events (TMVA's fatal error).
    """
    Xf = np.asarray(X, dtype=np.float32)
    n = len(Xf)
    lo = np.asarray(xmin, dtype=np.float64)
    hi = np.asarray(xmax, dtype=np.float64)
    builder = _FoamBuilder(
        kind=kind,
        search=RangeSearch(Xf, box),
        weights=np.asarray(weights, dtype=np.float32).astype(np.float64),
        is_class=np.ones(n, bool) if is_class is None else np.asarray(is_class, dtype=bool),
        target=np.zeros(n) if target is None else np.asarray(target, dtype=np.float32).astype(np.float64),
        xmin=lo,
        xmax=hi,
        n_sampl=int(n_sampl),
        n_bin=int(n_bin),
        nmin=float(nmin),
        max_depth=int(max_depth),
        dt_index=None if dt_logic is None else SEPARATION_INDEX[dt_logic.lower()],
        stream=_Uniforms(TRandom3(seed)),
    )
    dim = len(lo)
    cap = max(int(n_cells), 1)
    parent = np.full(cap, -1, dtype=np.int64)
    dau0 = np.full(cap, -1, dtype=np.int64)
    dau1 = np.full(cap, -1, dtype=np.int64)
    best = np.full(cap, -1, dtype=np.int64)
    xdiv = np.full(cap, 0.5)
    driv = np.zeros(cap)
    count = np.zeros(cap)
    depth = np.ones(cap, dtype=np.int64)
    posi = np.zeros((cap, dim))
    size = np.ones((cap, dim))

    def explore(c: int) -> None:
        vol = 1.0
        for k in range(dim):
            vol *= float(size[c, k])
        e = builder.explore(posi[c], size[c], vol, c == 0)
        best[c], xdiv[c], driv[c], count[c] = e.best, e.xdiv, e.driv, e.count

    explore(0)
    last = 0
    while last + 2 < cap:
        act = np.arange(last + 1)
        act = act[dau0[act] < 0]
        ok = driv[act] >= _FLT_EPS
        xa = np.abs(xdiv[act])
        ok &= (xa > _DBL_EPS) & (xa < 1.0 - _DBL_EPS) & (best[act] >= 0)
        if max_depth > 0:
            ok &= depth[act] < max_depth
        if nmin > 0:
            ok &= count[act] > nmin
        if not ok.any():
            break
        cand = act[ok]
        c = int(cand[int(np.argmax(driv[cand]))])  # the first maximum, as PeekMax's strict '>'
        for d in (last + 1, last + 2):
            parent[d] = c
            depth[d] = depth[c] + 1
        dau0[c], dau1[c] = last + 1, last + 2
        for d in (last + 1, last + 2):
            posi[d], size[d] = _hcub_one(d, parent, dau0, best, xdiv, dim)
        explore(last + 1)
        explore(last + 2)
        last += 2
    m = last + 1
    return FoamCells(
        dim, parent[:m].copy(), dau0[:m].copy(), dau1[:m].copy(), best[:m].copy(), xdiv[:m].copy()
    )
