"""The histograms of ``DecisionTree::TrainNodeFast`` (``nSelS``/``nSelB`` and their unweighted
counts), filled by numba when it is installed.

:func:`pymva.methods.decisiontree.grow_tree` bins a node's events on the node-local grid with
``int((x − xmin)·(1/width))`` (capped at the last bin) and sums, per variable and bin, the weights
and the number of signal and background events, each bin in the node's event order (as TMVA's
loop over events adds them).  Its numpy path does that with one ``bincount`` over (class, variable,
bin); the kernels here do the same arithmetic in one compiled pass over the node's events, without
the float64 copy of the node's values: the same double-precision operations in the same order,
hence bit-identical histograms (numba compiles without ``fastmath``, so nothing is reassociated or
contracted).  :func:`kernels` returns ``None`` when numba is missing or disabled
(``PYMVA_NUMBA=0``, see :func:`pymva.extras.numba`); :func:`use_numba` switches it off and on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..extras import numba as _numba

__all__ = ["kernels", "use_numba"]

F64 = npt.NDArray[np.float64]
IntA = npt.NDArray[np.intp]

_STATE: dict[str, Any] = {"enabled": True, "kernels": None}


def _node_min_max(XT: F64, idx: IntA, lo: F64, hi: F64) -> None:  # pragma: no cover - compiled
    nvar, m = XT.shape[0], idx.shape[0]
    for j in range(nvar):
        mn = XT[j, idx[0]]
        mx = mn
        for i in range(1, m):
            x = XT[j, idx[i]]
            mn = min(mn, x)
            mx = max(mx, x)
        lo[j] = mn
        hi[j] = mx


def _fill_classification(
    XT: F64,
    idx: IntA,
    bkg: npt.NDArray[np.bool_],
    w: F64,
    cand: IntA,
    xmin: F64,
    inv: F64,
    last: IntA,
    out: F64,
) -> None:  # pragma: no cover - compiled
    # out (4, ncand, W) flat: [0|1, k, bin] signal|background weight, [2|3, k, bin] their counts;
    # per variable first every event's slot (a loop the compiler vectorises), then the sums
    ncand, m = cand.shape[0], idx.shape[0]
    width = out.shape[2]
    flat = out.reshape(-1)
    counts = 2 * ncand * width
    slot = np.empty(m, dtype=np.intp)
    for k in range(ncand):
        j = cand[k]
        x0 = xmin[j]
        iv = inv[j]
        lb = last[j]
        base = k * width
        for i in range(m):
            b = int((XT[j, idx[i]] - x0) * iv)
            b = min(b, lb)
            slot[i] = base + b + (ncand * width if bkg[i] else 0)
        for i in range(m):
            flat[slot[i]] += w[i]
            flat[counts + slot[i]] += 1.0


def _fill_regression(
    XT: F64,
    idx: IntA,
    sig: npt.NDArray[np.bool_],
    w: F64,
    wt: F64,
    wt2: F64,
    cand: IntA,
    xmin: F64,
    inv: F64,
    last: IntA,
    out: F64,
) -> None:  # pragma: no cover - compiled
    # out (6, ncand, W): [0|1] signal|background weight, [2] count, [4] Σ w·t, [5] Σ w·t²
    ncand, m = cand.shape[0], idx.shape[0]
    slot = np.empty(m, dtype=np.intp)
    for k in range(ncand):
        j = cand[k]
        x0 = xmin[j]
        iv = inv[j]
        lb = last[j]
        for i in range(m):
            b = int((XT[j, idx[i]] - x0) * iv)
            b = min(b, lb)
            slot[i] = b
        for i in range(m):
            b = slot[i]
            if sig[i]:
                out[0, k, b] += w[i]
            else:
                out[1, k, b] += w[i]
            out[2, k, b] += 1.0
            out[4, k, b] += wt[i]
            out[5, k, b] += wt2[i]


def use_numba(enabled: bool) -> bool:
    """Switch the numba kernels on (when installed) or off; returns the previous setting."""
    previous = bool(_STATE["enabled"])
    _STATE["enabled"] = bool(enabled)
    return previous


def kernels() -> dict[str, Any] | None:
    """The compiled kernels (``min_max``, ``classification``, ``regression``), or ``None``.

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
            "min_max": jit(_node_min_max),
            "classification": jit(_fill_classification),
            "regression": jit(_fill_regression),
        }
    if _STATE["kernels"] is False:
        return None
    return dict(_STATE["kernels"])
