"""numba kernels of BDT training: the histograms of ``DecisionTree::TrainNodeFast`` (``nSelS``/
``nSelB`` and the event counts) and the passes around them, used when numba is installed.

:func:`pymva.methods.decisiontree.grow_tree` bins a node's events on the node-local grid with
``int((x − xmin)·(1/width))`` (capped at the last bin) and sums, per variable and bin, the weights
and the number of events, each bin in the node's event order (as TMVA's loop over events adds
them).  Its numpy path does that with ``bincount``; the kernel ``fill`` does the same arithmetic in
one compiled pass over the node's events (two variables at a time), reading float32 columns and
widening each value to float64 before binning (exact), or taking bins stored for the node
(``bins``: nodes shared between the trees of a training).  ``sums``, ``min_max`` and ``split``
(which partitions a node's events in order and sums each daughter in the same pass) replace the
numpy gathers around them; ``best_gini_cut`` chooses the Gini-index cut from the cumulated
histograms; ``adaboost_error``, ``adaboost_update`` and ``scale`` are ``MethodBDT::AdaBoost``'s
reweighting of a sample without copies.  Each does the double-precision operations of the numpy
expressions it replaces, in the same order, hence bit-identical trees and weights (numba compiles
without ``fastmath``, so nothing is reassociated or contracted).  :func:`kernels` returns ``None``
when numba is missing or disabled (``PYMVA_NUMBA=0``, see :func:`pymva.extras.numba`);
:func:`use_numba` switches it off and on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..extras import numba as _numba

__all__ = ["kernels", "use_numba"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
IntA = npt.NDArray[np.intp]

_STATE: dict[str, Any] = {"enabled": True, "kernels": None}


def _node_sums(
    idx: IntA, w: F64, sig: npt.NDArray[np.bool_], tg: F64, regression: bool, sums: F64
) -> None:  # pragma: no cover - compiled
    # sums: [Σ w signal, Σ w background, n signal, n background, Σ w·t, Σ w·t²], each in event order
    s = b = ns = nb = t = t2 = 0.0
    for i in range(idx.shape[0]):
        e = idx[i]
        we = w[e]
        if sig[e]:
            s += we
            ns += 1.0
        else:
            b += we
            nb += 1.0
        if regression:
            wt = we * tg[e]
            t += wt
            t2 += wt * tg[e]
    sums[0], sums[1], sums[2], sums[3], sums[4], sums[5] = s, b, ns, nb, t, t2


def _node_min_max(XT: F32, idx: IntA, lo: F64, hi: F64) -> None:  # pragma: no cover - compiled
    nvar, m = XT.shape[0], idx.shape[0]
    for j in range(nvar):
        row = XT[j]
        mn = row[idx[0]]
        mx = mn
        for i in range(1, m):
            x = row[idx[i]]
            mn = min(mn, x)
            mx = max(mx, x)
        lo[j] = mn
        hi[j] = mx


def _split(
    XT: F32,
    idx: IntA,
    ivar: int,
    cut: float,
    cut_type: bool,
    mask: npt.NDArray[np.bool_],
    w: F64,
    sig: npt.NDArray[np.bool_],
    tg: F64,
    regression: bool,
    out: IntA,
    sums: F64,
) -> int:  # pragma: no cover - compiled
    # the node's events in their order, the right daughter's in out[:n_right] and the left
    # daughter's in out[n_right:] (one pass); sums[0|1]: the daughters' _node_sums.  The cut is the float32
    # cut widened to float64 (as exact as the float32 comparison); ivar < 0: mask says which
    # events go right (Fisher cuts).
    m = idx.shape[0]
    r = 0
    q = m  # the left daughter's events fill out from the end (reversed at the end)
    s0 = b0 = ns0 = nb0 = t0 = tt0 = 0.0  # right daughter
    s1 = b1 = ns1 = nb1 = t1 = tt1 = 0.0  # left daughter
    for i in range(m):
        e = idx[i]
        if ivar >= 0:
            right = (XT[ivar, e] >= cut) == cut_type
        else:
            right = mask[i]
        we = w[e]
        wt = we * tg[e] if regression else 0.0
        if right:
            out[r] = e
            r += 1
            if sig[e]:
                s0 += we
                ns0 += 1.0
            else:
                b0 += we
                nb0 += 1.0
            if regression:
                t0 += wt
                tt0 += wt * tg[e]
        else:
            q -= 1
            out[q] = e
            if sig[e]:
                s1 += we
                ns1 += 1.0
            else:
                b1 += we
                nb1 += 1.0
            if regression:
                t1 += wt
                tt1 += wt * tg[e]
    sums[0, 0], sums[0, 1], sums[0, 2], sums[0, 3], sums[0, 4], sums[0, 5] = s0, b0, ns0, nb0, t0, tt0
    sums[1, 0], sums[1, 1], sums[1, 2], sums[1, 3], sums[1, 4], sums[1, 5] = s1, b1, ns1, nb1, t1, tt1
    lo, hi = r, m - 1
    while lo < hi:
        out[lo], out[hi] = out[hi], out[lo]
        lo += 1
        hi -= 1
    return r


def _fill(
    XT: F32,
    bins: IntA,
    idx: IntA,
    sig: npt.NDArray[np.bool_],
    w: F64,
    tg: F64,
    regression: bool,
    cand: IntA,
    xmin: F64,
    inv: F64,
    last: IntA,
    with_counts: bool,
    out: F64,
) -> None:  # pragma: no cover - compiled
    # out (4 or 6, ncand, W) flat: [0|1, k, bin] signal|background weight, [2, k, bin] the number
    # of events (row 3 stays zero: only the total count is used; not counted unless with_counts),
    # regression [4] Σ w·t, [5] Σ w·t².
    # The bins are bins[j, i] when given (bins.shape[0] > 0), else min(int((x − xmin)·inv), last).
    # Two variables at a time: every event's two bins, then the sums (two independent chains of
    # additions in one loop); within a bin the events are added in their order.
    ncand, m = cand.shape[0], idx.shape[0]
    width = out.shape[2]
    plane = ncand * width
    flat = out.reshape(-1)
    wn = np.empty(m)
    off = np.empty(m, dtype=np.intp)
    wt = np.empty(m if regression else 0)
    wt2 = np.empty(m if regression else 0)
    for i in range(m):
        e = idx[i]
        wn[i] = w[e]
        off[i] = 0 if sig[e] else plane
        if regression:
            wt[i] = w[e] * tg[e]
            wt2[i] = wt[i] * tg[e]
    given = bins.shape[0] > 0
    counts = np.zeros(plane, dtype=np.int64)
    slot = np.empty(m, dtype=np.intp)
    slot2 = np.empty(m, dtype=np.intp)
    for k in range(0, ncand, 2):
        pair = k + 1 < ncand
        j = cand[k]
        j2 = cand[k + 1] if pair else j
        base, base2 = k * width, (k + 1) * width
        if given:
            brow, brow2 = bins[j], bins[j2]
            for i in range(m):
                slot[i] = base + brow[i]
                slot2[i] = base2 + brow2[i]
        else:
            row, row2 = XT[j], XT[j2]
            x0, x02 = xmin[j], xmin[j2]
            iv, iv2 = inv[j], inv[j2]
            lb, lb2 = last[j], last[j2]
            for i in range(m):
                e = idx[i]
                slot[i] = base + min(int((row[e] - x0) * iv), lb)
                slot2[i] = base2 + min(int((row2[e] - x02) * iv2), lb2)
        if regression:
            for i in range(m):
                sl = slot[i]
                flat[sl + off[i]] += wn[i]
                counts[sl] += 1
                flat[4 * plane + sl] += wt[i]
                flat[5 * plane + sl] += wt2[i]
                if pair:
                    sl2 = slot2[i]
                    flat[sl2 + off[i]] += wn[i]
                    counts[sl2] += 1
                    flat[4 * plane + sl2] += wt[i]
                    flat[5 * plane + sl2] += wt2[i]
        elif pair:
            for i in range(m):
                sl = slot[i]
                sl2 = slot2[i]
                o = off[i]
                x = wn[i]
                flat[sl + o] += x
                flat[sl2 + o] += x
                if with_counts:
                    counts[sl] += 1
                    counts[sl2] += 1
        else:
            for i in range(m):
                sl = slot[i]
                flat[sl + off[i]] += wn[i]
                if with_counts:
                    counts[sl] += 1
    if with_counts:
        for q in range(plane):
            flat[2 * plane + q] = counts[q]


def _bins(
    XT: F32, idx: IntA, good: IntA, xmin: F64, inv: F64, last: IntA, out: IntA
) -> None:  # pragma: no cover - compiled
    # out[j, i]: the bin of event idx[i] in variable j (every j of good), as _fill computes it
    m = idx.shape[0]
    for g in range(good.shape[0]):
        j = good[g]
        row = XT[j]
        x0 = xmin[j]
        iv = inv[j]
        lb = last[j]
        for i in range(m):
            b = int((row[idx[i]] - x0) * iv)
            out[j, i] = min(b, lb)


def _adaboost_error(
    ev: IntA,
    w0: F64,
    boost: F64,
    leaf: IntA,
    leaf_value: F64,
    is_sig: npt.NDArray[np.bool_],
    limit: float,
    mis: npt.NDArray[np.bool_],
) -> tuple[float, float]:  # pragma: no cover - compiled
    # MethodBDT::AdaBoost's sums: Σ w and Σ w of the misclassified events (mis[i]), in order
    sumw = 0.0
    wrong = 0.0
    for i in range(ev.shape[0]):
        e = ev[i]
        we = w0[e] * boost[e]
        sumw += we
        m = (leaf_value[leaf[i]] > limit) != is_sig[e]
        mis[i] = m
        wrong += we if m else 0.0
    return sumw, wrong


def _adaboost_update(
    ev: IntA,
    w0: F64,
    boost: F64,
    mis: npt.NDArray[np.bool_],
    f: float,
    inv_f: float,
    inverse_neg: bool,
) -> float:  # pragma: no cover - compiled
    # the misclassified events' boost weights times f (1/f for negative weights with
    # InverseBoostNegWeights), in place; returns the new Σ w in order
    total = 0.0
    for i in range(ev.shape[0]):
        e = ev[i]
        b = boost[e]
        if mis[i]:
            if w0[e] * b > 0 or not inverse_neg:
                b = b * f
            else:
                b = b * inv_f
            boost[e] = b
        total += w0[e] * b
    return total


def _scale(
    ev: IntA, boost: F64, is_sig: npt.NDArray[np.bool_], g_sig: float, g_bkg: float
) -> None:  # pragma: no cover - compiled
    # the renormalisation of the boost weights (signal and background factors)
    for i in range(ev.shape[0]):
        e = ev[i]
        boost[e] = boost[e] * (g_sig if is_sig[e] else g_bkg)


def _best_gini_cut(
    C: F64,
    nbc: IntA,
    s: float,
    b: float,
    tot_su: float,
    tot_bu: float,
    min_size: float,
    precision_cut: float,
) -> tuple[int, int, float]:  # pragma: no cover - compiled
    # TrainNodeFast's choice for the Gini index, as decisiontree's array expressions make it (the
    # same operations on each candidate): every edge whose sides hold min_size events and weight,
    # SeparationBase::GetSeparationGain, the first largest gain over (variable, bin) in order.
    # C: the cumulated histograms (4, ncand, W).  Returns (k, bin, gain), k = -1 if none.
    tot = s + b
    parent = 2 * s * b / (s + b) / (s + b) if (s + b > 0) and (s > 0) and (b > 0) else 0.0
    best = -np.inf
    kb = -1
    ib = -1
    for k in range(C.shape[1]):
        for i in range(nbc[k] - 1):
            cs = C[0, k, i]
            cb = C[1, k, i]
            cns = C[2, k, i]
            cnb = C[3, k, i]
            if not (
                (cns + cnb) >= min_size
                and ((tot_su - cns) + (tot_bu - cnb)) >= min_size
                and (cs + cb) >= min_size
                and ((s - cs) + (b - cb)) >= min_size
            ):
                continue
            ls = s - cs
            lb = b - cb
            gl = 2 * ls * lb / (ls + lb) / (ls + lb) if (ls + lb > 0) and (ls > 0) and (lb > 0) else 0.0
            gr = 2 * cs * cb / (cs + cb) / (cs + cb) if (cs + cb > 0) and (cs > 0) and (cb > 0) else 0.0
            left = ((s - cs) + (b - cb)) / tot * gl
            right = (cs + cb) / tot * gr
            diff = parent - left - right
            g = 0.0 if ((s - cs) == cs and (b - cb) == cb) or not (diff >= precision_cut) else diff
            if g > -1.0 and g > best:
                best = g
                kb = k
                ib = i
    return kb, ib, best


def use_numba(enabled: bool) -> bool:
    """Switch the numba kernels on (when installed) or off; returns the previous setting."""
    previous = bool(_STATE["enabled"])
    _STATE["enabled"] = bool(enabled)
    return previous


def kernels() -> dict[str, Any] | None:
    """The compiled kernels (``sums``, ``min_max``, ``split``, ``fill``, ``bins``,
    ``best_gini_cut``, ``adaboost_error``, ``adaboost_update``, ``scale``), or ``None``.

    ``None`` when numba is not installed, ``PYMVA_NUMBA=0`` disables it or :func:`use_numba`
    switched it off; the kernels are compiled on first use (cached on disk by numba).
    """
    if not _STATE["enabled"]:
        return None
    if _STATE["kernels"] is None:
        nb = _numba()
        if nb is None:
            _STATE["kernels"] = False  # not installed: do not look again on every node
            return None
        jit = nb.njit(cache=True, nogil=True, boundscheck=False)
        _STATE["kernels"] = {
            "sums": jit(_node_sums),
            "min_max": jit(_node_min_max),
            "split": jit(_split),
            "fill": jit(_fill),
            "bins": jit(_bins),
            "adaboost_error": jit(_adaboost_error),
            "adaboost_update": jit(_adaboost_update),
            "scale": jit(_scale),
            # float division by zero gives inf/nan as in numpy (the array expressions' semantics)
            "best_gini_cut": nb.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")(
                _best_gini_cut
            ),
        }
    if _STATE["kernels"] is False:
        return None
    return dict(_STATE["kernels"])
