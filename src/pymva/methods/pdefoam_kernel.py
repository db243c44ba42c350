"""TMVA's PDEFoam kernels: the cell value at an event from its cell (``None``), from all cells weighted by
a Gaussian (``Gauss``) or from the nearest neighbour cell of every dimension (``LinNeighbors``).

Mirrors ``PDEFoamKernelTrivial.cxx``, ``PDEFoamKernelGauss.cxx`` and ``PDEFoamKernelLinN.cxx``, with
float32 arithmetic where TMVA uses ``Float_t``:

* ``Gauss`` (``sigma = VolFrac/2``): ``Σ_c g_c v_c / Σ_c g_c`` over the active cells in cell order,
  ``g_c = exp(−d_c²/2σ²)`` with ``d_c`` the distance from the event (clamped to ``[0, 1]``) to the
  nearest point of cell ``c``; an undefined cell value (an empty regression cell) is replaced by the
  average of the defined neighbour cells of the event's cell;
* ``LinNeighbors``: for every dimension the neighbour cell on the nearer side (``xoffset = 1e−6``
  beyond the cell edge), ``v·(0.5 + m) + v_n·(0.5 − m)`` with ``m`` the distance to that edge in units
  of the cell size, averaged over the dimensions whose neighbour is defined.

Every function works on many events at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .pdefoam_foam import FoamCells

__all__ = ["KERNELS", "average_neighbors", "estimate"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: ``Kernel`` values in TMVA's ``EKernel`` order (``UIntToKernel``: 0, 1, 2).
KERNELS = ("None", "Gauss", "LinNeighbors")
_XOFFSET = np.float32(1e-6)
_CHUNK = 4096


def average_neighbors(cells: FoamCells, values: F32, undefined: B, T: F32, cell: I64 | None = None) -> F32:
    """``GetAverageNeighborsValue``: mean of the defined left and right neighbour cells of each event's cell.

    Parameters
    ----------
    cells : FoamCells
    values : ndarray of float32, shape (n_cells,)
        The cell values.
    undefined : ndarray of bool, shape (n_cells,)
        ``CellValueIsUndefined`` per cell.
    T : ndarray of float32, shape (n, dim)
        Events in foam coordinates.
    cell : ndarray of int64, shape (n,), optional
        The events' cells (found if not given).

    Returns
    -------
    ndarray of float32, shape (n,)
        0 where no neighbour is defined.
    """
    t = np.asarray(T, dtype=np.float32)
    if cell is None:
        cell = cells.find(t)
    posi, size = cells.hcub()
    result = np.zeros(len(t), dtype=np.float32)
    norm = np.zeros(len(t), dtype=np.float32)
    for d in range(cells.dim):
        for side in (0, 1):
            nt = t.copy()
            if side == 0:
                nt[:, d] = (posi[cell, d] - np.float64(_XOFFSET)).astype(np.float32)
            else:
                nt[:, d] = (posi[cell, d] + size[cell, d] + np.float64(_XOFFSET)).astype(np.float32)
            nc = cells.find(nt)
            ok = ~undefined[nc]
            result = np.where(ok, result + values[nc], result).astype(np.float32)
            norm = np.where(ok, norm + np.float32(1), norm).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(norm > 0, result / norm, np.float32(0))
    return out.astype(np.float32)


def _gauss(cells: FoamCells, values: F32, undefined: B, T: F32, sigma: float) -> F32:
    posi, size = cells.hcub()
    act = np.flatnonzero(cells.active)
    p = posi[act]
    s = size[act]
    upper = p + s
    sig = float(np.float32(sigma))
    out = np.zeros(len(T), dtype=np.float32)
    for a in range(0, len(T), _CHUNK):
        t_raw = np.asarray(T[a : a + _CHUNK], dtype=np.float32)
        t = np.clip(t_raw, np.float32(0), np.float32(1))
        cval = np.broadcast_to(values[act], (len(t), len(act))).astype(np.float32)
        if undefined[act].any():
            avg_clamped = average_neighbors(cells, values, undefined, t)
            und = undefined[act]
            cval = np.where(und[None, :], avg_clamped[:, None], cval).astype(np.float32)
            if und[0]:  # the first cell's neighbour average is taken before WeightGaus clamps the event
                cval[:, 0] = average_neighbors(cells, values, undefined, t_raw)
        t64 = t.astype(np.float64)[:, None, :]
        near = np.where(p[None] > t64, p[None], np.where(upper[None] < t64, upper[None], t64)).astype(
            np.float32
        )
        diff = (t[:, None, :] - near).astype(np.float32)
        dist = np.zeros((len(t), len(act)), dtype=np.float32)
        for k in range(cells.dim):
            dist = (dist + diff[:, :, k] * diff[:, :, k]).astype(np.float32)
        dist = np.sqrt(dist.astype(np.float64)).astype(np.float32)
        gau = np.exp(-0.5 * (dist.astype(np.float64) / sig) ** 2).astype(np.float32)
        # sequential float32 sums over the cells, as TMVA's loop
        result = np.cumsum((gau * cval).astype(np.float32), axis=1, dtype=np.float32)[:, -1]
        norm = np.cumsum(gau, axis=1, dtype=np.float32)[:, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[a : a + len(t)] = np.where(norm != 0, result / norm, np.float32(0))
    return out


def _lin_neighbors(cells: FoamCells, values: F32, undefined: B, T: F32) -> F32:
    t = np.asarray(T, dtype=np.float32)
    cell = cells.find(t)
    posi, size = cells.hcub()
    cellval = np.where(undefined[cell], average_neighbors(cells, values, undefined, t, cell), values[cell])
    cellval = cellval.astype(np.float32)
    result = np.zeros(len(t), dtype=np.float32)
    norm = np.zeros(len(t), dtype=np.int64)
    for d in range(cells.dim):
        mind = ((t[:, d].astype(np.float64) - posi[cell, d]) / size[cell, d]).astype(np.float32)
        left = mind < np.float32(0.5)
        mind = np.where(left, mind, np.float32(1) - mind).astype(np.float32)
        nt = t.copy()
        nt[:, d] = np.where(
            left, posi[cell, d] - np.float64(_XOFFSET), posi[cell, d] + size[cell, d] + np.float64(_XOFFSET)
        ).astype(np.float32)
        nc = cells.find(nt)
        ok = ~undefined[nc]
        m64 = mind.astype(np.float64)
        r1 = (result.astype(np.float64) + cellval.astype(np.float64) * (0.5 + m64)).astype(np.float32)
        r2 = (r1.astype(np.float64) + values[nc].astype(np.float64) * (0.5 - m64)).astype(np.float32)
        result = np.where(ok, r2, result).astype(np.float32)
        norm = norm + ok
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(norm == 0, cellval, result / norm.astype(np.float32))
    return out.astype(np.float32)


def estimate(
    cells: FoamCells, values: F32, undefined: B, T: F32, kernel: str, sigma: float = 1.0 / 30.0
) -> F32:
    """``PDEFoamKernel*::Estimate``: the kernel's cell value at each event.

    Parameters
    ----------
    cells : FoamCells
    values : ndarray of float32, shape (n_cells,)
        The cell value of every cell (only active cells are used).
    undefined : ndarray of bool, shape (n_cells,)
        Cells whose value is undefined (``CellValueIsUndefined``).
    T : ndarray of float32, shape (n, dim)
        Events in foam coordinates.
    kernel : str
        One of :data:`KERNELS`.
    sigma : float
        ``Gauss``: the width (TMVA: ``VolFrac/2``).

    Returns
    -------
    ndarray of float32, shape (n,)

    Raises
    ------
    ValueError
        For an unknown kernel.
    """
    t = np.asarray(T, dtype=np.float32)
    if kernel == "None":
        return np.asarray(values[cells.find(t)], dtype=np.float32)
    if kernel == "Gauss":
        return _gauss(cells, values, undefined, t, sigma)
    if kernel == "LinNeighbors":
        return _lin_neighbors(cells, values, undefined, t)
    raise ValueError(f"PDEFoam kernel '{kernel}' unknown; accepted: {', '.join(KERNELS)}")
