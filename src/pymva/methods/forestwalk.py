"""One event through a forest of cut trees, compiled: every tree padded to a complete binary tree.

The Reader's event loop (``EvaluateMVA(tag)``) evaluates a BDT one event at a time.  With numba
installed (:func:`pymva.extras.numba`; ``PYMVA_NUMBA=0`` disables it), :func:`forest_walk_function`
prepares the forest once as two flat arrays and evaluates an event in one compiled call:

* each tree is padded to the complete binary tree of the forest's maximum depth ``D``: in the padded
  layout the daughters of position ``i`` are ``2i+1`` (the daughter taken when the comparison is
  false) and ``2i+2`` (taken when it is true), whatever the node's cut type, so that one step of
  the walk is ``i = 2i + 1 + (x[var[i]] >= cut[i])`` (``>`` for the strict comparison of old
  weights files) — no data-dependent branch, and every tree is walked in exactly ``D`` steps (a
  kernel is compiled per ``(D, strict)`` with ``D`` a constant, so the step loop is unrolled; numba
  caches it on disk);
* a leaf above the last level is replicated down: its padded positions below it all lead to
  copies of it (their comparisons are evaluated but either outcome reaches the same value);
* the comparison is that of :meth:`~pymva.methods.decisiontree.DecisionTree.apply`: the event's
  values rounded to float32 against the float32 cuts (both held exactly in float64);
* four trees are walked side by side (independent chains of loads that the CPU overlaps), and the
  leaf values (boost weight × leaf value, the products :meth:`MethodBDT._predict` forms) are
  added in tree order, one after the other, to a float64 total that starts at 0.0: the same
  float64 additions in the same order as the array path, so the sum is bit for bit the same;
  with ``norm`` the weighted average ``float32(total / norm)`` is formed in the kernel too.

For a matrix of events (:func:`forest_walk_batch`) forests of depth <= :data:`BLOCK_DEPTH` are
padded to that depth and walked a block of :data:`BLOCK_EVENTS` events at a time without any
data-dependent load (:func:`_block_walk3`: all comparisons of a tree for every event of the block,
the leaf value selected bottom-up), which the compiler vectorises; deeper forests walk four events
side by side through each tree.  Both add the same values in the same order.

A call passes the event as a tuple of floats and the two prepared arrays (three arguments: numba's
dispatch then costs about 0.3 µs; the kernel holds the GIL, whose release would cost more than a
small forest's walk).  :func:`use_numba` switches the walk off (the BDT then uses the rank tables
of :mod:`pymva.methods.forestevent`).  Forests with Fisher-cut nodes are not handled (the caller
checks ``n_coef``), nor forests whose padded trees would exceed :data:`MAX_PADDED_LEAVES`.

This has no TMVA counterpart (TMVA walks ``DecisionTreeNode`` objects in C++,
``DecisionTree::CheckEvent``); it only changes how the same leaves are found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..extras import numba as _numba
from ..logger import get_logger
from .decisiontree import DecisionTree

__all__ = ["MAX_PADDED_LEAVES", "forest_walk_batch", "forest_walk_function", "kernels", "use_numba"]

_log = get_logger("BDT", "pymva.methods.forestwalk")

#: Largest number of leaves of all padded trees together (``n_trees · 2^D``, ``D`` the forest's
#: maximum depth) prepared; beyond it (very deep trees) :func:`forest_walk_function` returns ``None``.
MAX_PADDED_LEAVES = 2**22

_STATE: dict[str, Any] = {"enabled": True, "kernels": None}

# Layout of the two arrays, every tree padded to the forest's maximum depth D (so that the walk
# has the same number of steps in every tree and the loop has no data-dependent trip count):
#   ints  (int64):   [n_trees, D, mode, n_slots, n_variables, then the variable of padded
#                     internal position i of tree t at _HEADER + t·(2^D − 1) + i]
#   reals (float64): [norm, then the cut of that position at 1 + t·(2^D − 1) + i, then the value
#                     reached at the last-level position i (2^D − 1 <= i < 2^(D+1) − 1) of tree t
#                     at 1 + n_trees·(2^D − 1) + t·2^D + i − (2^D − 1)]
# mode 0: the raw float64 total; mode 1: float32(total / norm) when norm > eps, else 0.0.
_HEADER = 5
#: Forests of at most this padded depth are walked by the block walk (:func:`_block_walk3`).
BLOCK_DEPTH = 3
#: Events per block of the block walk: their transposed values (float32) and sums stay in L1/L2.
BLOCK_EVENTS = 512
_EPS = float(np.finfo(np.float64).eps)


def _step(xs: Any, ints: Any, reals: Any, base: int, i: int) -> Any:  # pragma: no cover - compiled
    k = base + i
    return 2 * i + 1 + np.int64(xs[ints[_HEADER + k]] >= reals[1 + k])


def _step_strict(xs: Any, ints: Any, reals: Any, base: int, i: int) -> Any:  # pragma: no cover - compiled
    k = base + i
    return 2 * i + 1 + np.int64(xs[ints[_HEADER + k]] > reals[1 + k])


def _make_walks(depth: int, strict: bool, block: bool = True) -> tuple[Any, Any, Any]:
    """The walks (one event's total, one event's sums, a batch of events' sums) for forests padded
    to ``depth`` levels, ``depth`` and ``strict`` frozen as constants of the compiled code (the walk
    loop then has a fixed trip count, unrolled).  The batch walk is the block walk for
    ``depth == BLOCK_DEPTH`` (unless ``block`` is false: ``benchmarks/bench_bdt.py`` compares them)."""
    n_inner = (1 << depth) - 1
    n_last = 1 << depth

    nb = _numba(required=True)
    # the step i -> 2i + 1 + (x[var] >= cut) (strict: >), inlined in numba's IR
    inline = nb.njit(inline="always", boundscheck=False)
    step = inline(_step_strict if strict else _step)

    @inline
    def walk4(
        x0: Any, x1: Any, x2: Any, x3: Any, ints: Any, reals: Any, b0: int, b1: int, b2: int, b3: int
    ) -> tuple[int, int, int, int]:  # pragma: no cover - compiled
        # four walks side by side (independent chains of loads for the CPU to overlap): the event
        # x_q through the tree whose internal positions start at b_q, to a last-level position
        i0 = 0
        i1 = 0
        i2 = 0
        i3 = 0
        for _ in range(depth):
            i0 = step(x0, ints, reals, b0, i0)
            i1 = step(x1, ints, reals, b1, i1)
            i2 = step(x2, ints, reals, b2, i2)
            i3 = step(x3, ints, reals, b3, i3)
        return i0, i1, i2, i3

    @inline
    def event(x: Any, ints: Any) -> Any:  # pragma: no cover - compiled
        # the event's values rounded to float32 (as the array path's matrix holds them), checked
        # to be as many as the forest's variables: the cut variables index it, never past its end
        n_var = len(x)
        if n_var != ints[4]:
            raise ValueError("the event does not have the forest's number of variables")
        xs = np.empty(n_var, dtype=np.float64)
        for j in range(n_var):
            xs[j] = np.float64(np.float32(x[j]))
        return xs

    def walk_total(x: Any, ints: Any, reals: Any) -> float:  # pragma: no cover - compiled
        xs = event(x, ints)
        n_trees = ints[0]
        leaf = 1 + n_trees * n_inner - n_inner
        total = 0.0
        t = 0
        # four trees walked side by side (independent chains of loads for the CPU to overlap);
        # their values are still added one after the other, in tree order
        while t + 4 <= n_trees:
            b0 = t * n_inner
            i0, i1, i2, i3 = walk4(
                xs, xs, xs, xs, ints, reals, b0, b0 + n_inner, b0 + 2 * n_inner, b0 + 3 * n_inner
            )
            v = leaf + t * n_last
            total += reals[v + i0]
            total += reals[v + n_last + i1]
            total += reals[v + 2 * n_last + i2]
            total += reals[v + 3 * n_last + i3]
            t += 4
        while t < n_trees:
            i0 = 0
            for _ in range(depth):
                i0 = step(xs, ints, reals, t * n_inner, i0)
            total += reals[leaf + t * n_last + i0]
            t += 1
        if ints[2] == 1:
            norm = reals[0]
            return np.float64(np.float32(total / norm)) if norm > _EPS else 0.0
        return total

    def walk_sums(x: Any, ints: Any, reals: Any) -> Any:  # pragma: no cover - compiled
        # tree t adds to sum t % n_slots (multiclass: one sum per class, the trees cycling over them)
        xs = event(x, ints)
        n_trees = ints[0]
        n_slots = ints[3]
        leaf = 1 + n_trees * n_inner - n_inner
        sums = np.zeros(n_slots, dtype=np.float64)
        for t in range(n_trees):
            i = 0
            for _ in range(depth):
                i = step(xs, ints, reals, t * n_inner, i)
            sums[t % n_slots] += reals[leaf + t * n_last + i]
        return sums

    def walk_batch(X: Any, ints: Any, reals: Any, out: Any) -> None:  # pragma: no cover - compiled
        # every row of X (float32, C order) through every tree; tree t adds to out[row, t % n_slots]
        # in tree order (out starts at 0.0): the additions of the array path, event by event.  Four
        # events walk each tree side by side (independent chains of loads over the same nodes).
        n_trees = ints[0]
        n_slots = ints[3]
        leaf = 1 + n_trees * n_inner - n_inner  # the walk ends at positions n_inner … 2·n_inner
        n = X.shape[0]
        r = 0
        while r + 4 <= n:
            x0 = X[r]
            x1 = X[r + 1]
            x2 = X[r + 2]
            x3 = X[r + 3]
            for t in range(n_trees):
                base = t * n_inner
                i0, i1, i2, i3 = walk4(x0, x1, x2, x3, ints, reals, base, base, base, base)
                v = leaf + t * n_last
                s = t % n_slots
                out[r, s] += reals[v + i0]
                out[r + 1, s] += reals[v + i1]
                out[r + 2, s] += reals[v + i2]
                out[r + 3, s] += reals[v + i3]
            r += 4
        while r < n:
            x0 = X[r]
            for t in range(n_trees):
                i0 = 0
                for _ in range(depth):
                    i0 = step(x0, ints, reals, t * n_inner, i0)
                out[r, t % n_slots] += reals[leaf + t * n_last + i0]
            r += 1

    # with the GIL held: releasing and taking it back would cost more than a small forest's walk;
    # the batch walk releases it (it runs for milliseconds or more)
    jit = nb.njit(cache=True, boundscheck=False)
    batch = _block_walk3(nb, strict) if block and depth == BLOCK_DEPTH else walk_batch
    return jit(walk_total), jit(walk_sums), nb.njit(cache=True, boundscheck=False, nogil=True)(batch)


def _block_walk3(nb: Any, strict: bool) -> Any:
    """The batch walk of forests padded to 3 levels, a block of events at a time, branch-free.

    The events are taken :data:`BLOCK_EVENTS` at a time and transposed, one float32 row per
    variable; per tree the 7 variables, cuts and 8 last-level values are read once, and for every
    event of the block all 7 comparisons are made and the value is selected bottom-up (positions
    3…6 from the last level, then 1 and 2, then the root: the value the 3-step walk reaches, whose
    path is one of these selections).  The inner loop over the block then has no data-dependent
    load or branch, and the compiler turns it into SIMD compares and blends over many events at once.
    Each event's sums are still formed tree by tree in tree order from 0.0, so they equal
    ``walk_batch``'s (and the array path's) bit for bit; the cuts are float32 values, so comparing
    the float32 events with them in float32 is the float64 comparison of the other walks.
    """

    def block3(X: Any, ints: Any, reals: Any, out: Any) -> None:  # pragma: no cover - compiled
        n_trees = ints[0]
        n_slots = ints[3]
        n_var = ints[4]
        n = X.shape[0]
        leaf = 1 + n_trees * 7
        xt = np.empty((n_var, BLOCK_EVENTS), dtype=np.float32)
        acc = np.empty((n_slots, BLOCK_EVENTS), dtype=np.float64)
        for r0 in range(0, n, BLOCK_EVENTS):
            m = min(BLOCK_EVENTS, n - r0)
            for j in range(n_var):
                row = xt[j]
                for e in range(m):
                    row[e] = X[r0 + e, j]
            acc[:, :m] = 0.0
            for t in range(n_trees):
                b = _HEADER + t * 7
                c = 1 + t * 7
                v = leaf + t * 8
                x0 = xt[ints[b]]
                x1 = xt[ints[b + 1]]
                x2 = xt[ints[b + 2]]
                x3 = xt[ints[b + 3]]
                x4 = xt[ints[b + 4]]
                x5 = xt[ints[b + 5]]
                x6 = xt[ints[b + 6]]
                c0 = np.float32(reals[c])
                c1 = np.float32(reals[c + 1])
                c2 = np.float32(reals[c + 2])
                c3 = np.float32(reals[c + 3])
                c4 = np.float32(reals[c + 4])
                c5 = np.float32(reals[c + 5])
                c6 = np.float32(reals[c + 6])
                v0 = reals[v]
                v1 = reals[v + 1]
                v2 = reals[v + 2]
                v3 = reals[v + 3]
                v4 = reals[v + 4]
                v5 = reals[v + 5]
                v6 = reals[v + 6]
                v7 = reals[v + 7]
                a = acc[t % n_slots]
                if strict:
                    for e in range(m):
                        w3 = v1 if x3[e] > c3 else v0
                        w4 = v3 if x4[e] > c4 else v2
                        w5 = v5 if x5[e] > c5 else v4
                        w6 = v7 if x6[e] > c6 else v6
                        w1 = w4 if x1[e] > c1 else w3
                        w2 = w6 if x2[e] > c2 else w5
                        a[e] += w2 if x0[e] > c0 else w1
                else:
                    for e in range(m):
                        w3 = v1 if x3[e] >= c3 else v0
                        w4 = v3 if x4[e] >= c4 else v2
                        w5 = v5 if x5[e] >= c5 else v4
                        w6 = v7 if x6[e] >= c6 else v6
                        w1 = w4 if x1[e] >= c1 else w3
                        w2 = w6 if x2[e] >= c2 else w5
                        a[e] += w2 if x0[e] >= c0 else w1
            for e in range(m):
                for s in range(n_slots):
                    out[r0 + e, s] += acc[s, e]

    return block3


def use_numba(enabled: bool) -> bool:
    """Switch the compiled forest walk on (when numba is installed) or off; returns the previous setting."""
    previous = bool(_STATE["enabled"])
    _STATE["enabled"] = bool(enabled)
    return previous


def kernels(depth: int, strict: bool) -> tuple[Any, Any, Any] | None:
    """The compiled walks ``(total, sums, batch)`` for forests padded to ``depth`` levels, or ``None``.

    ``None`` when numba is not installed, ``PYMVA_NUMBA=0`` disables it or :func:`use_numba`
    switched it off; each ``(depth, strict)`` pair is compiled on first use (cached on disk by numba).
    """
    if not _STATE["enabled"]:
        return None
    if _STATE["kernels"] is None:
        if _numba() is None:
            _STATE["kernels"] = False  # not installed: do not look again on every booking
            return None
        _STATE["kernels"] = {}
    if _STATE["kernels"] is False:
        return None
    cache: dict[tuple[int, bool], tuple[Any, Any, Any]] = _STATE["kernels"]
    key = (int(depth), bool(strict))
    if key not in cache:
        cache[key] = _make_walks(*key)
    return cache[key]


def _padded(
    tree: DecisionTree, values: npt.NDArray[np.float64], n_variables: int, depth: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """One tree in its complete padded form of ``depth`` levels (at least the tree's own depth):
    the variables and cuts of the internal positions, the values at the last level's positions."""
    internal = tree.node_type == 0
    # the node at every padded position, level by level (a leaf stays itself below its level)
    level = np.zeros(1, dtype=np.intp)
    var_levels: list[npt.NDArray[np.intp]] = []
    cut_levels: list[npt.NDArray[np.float32]] = []
    for _ in range(depth):
        inner = internal[level]
        var_levels.append(np.where(inner, np.clip(tree.ivar[level], 0, n_variables - 1), 0))
        cut_levels.append(np.where(inner, tree.cut[level], np.float32(0.0)))
        # daughter taken when the comparison is true: right iff cutType (apply: right == (res == cType))
        if_true = np.where(tree.cut_type[level], tree.right[level], tree.left[level])
        if_false = np.where(tree.cut_type[level], tree.left[level], tree.right[level])
        nxt = np.empty(2 * len(level), dtype=np.intp)
        nxt[0::2] = np.where(inner, if_false, level)
        nxt[1::2] = np.where(inner, if_true, level)
        level = nxt
    if depth:
        var = np.concatenate(var_levels).astype(np.int64)
        cut = np.concatenate(cut_levels).astype(np.float64)
    else:
        var, cut = np.zeros(0, np.int64), np.zeros(0, np.float64)
    return var, cut, np.asarray(values, dtype=np.float64)[level]


def _reachable_depth(tree: DecisionTree) -> int:
    """Number of levels below the root of the reachable nodes (0 for a single leaf)."""
    internal = tree.node_type == 0
    level = np.zeros(1, dtype=np.intp)
    depth = 0
    while True:
        level = level[internal[level]]
        if not level.size:
            return depth
        level = np.concatenate([tree.left[level], tree.right[level]])
        depth += 1


def _layout(
    trees: Sequence[DecisionTree],
    leaf_values: Sequence[npt.NDArray[np.float64]],
    n_variables: int,
    depth: int,
    norm: float | None,
    n_slots: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The two flat arrays of the padded forest (layout above)."""
    n_trees = len(trees)
    n_inner = (1 << depth) - 1
    ints = np.zeros(_HEADER + n_trees * n_inner, dtype=np.int64)
    reals = np.zeros(1 + n_trees * (2 * n_inner + 1), dtype=np.float64)
    ints[:_HEADER] = (n_trees, depth, 0 if norm is None else 1, n_slots, n_variables)
    reals[0] = 0.0 if norm is None else float(norm)
    leaf = 1 + n_trees * n_inner
    for t, (tree, vals) in enumerate(zip(trees, leaf_values, strict=True)):
        var, cut, last = _padded(tree, vals, n_variables, depth)
        ints[_HEADER + t * n_inner : _HEADER + (t + 1) * n_inner] = var
        reals[1 + t * n_inner : 1 + (t + 1) * n_inner] = cut
        reals[leaf + (t << depth) : leaf + ((t + 1) << depth)] = last
    return ints, reals


def _prepare(
    trees: Sequence[DecisionTree],
    leaf_values: Sequence[npt.NDArray[np.float64]],
    n_variables: int,
    strict: bool,
    norm: float | None,
    n_slots: int,
    min_depth: int = 0,
) -> tuple[tuple[Any, Any, Any], npt.NDArray[np.int64], npt.NDArray[np.float64]] | None:
    """The compiled walks for the forest's padded depth and its two flat arrays, or ``None``.

    The trees are padded to their largest depth, or to ``min_depth`` levels when that is larger
    (the values reached are the same: a padded leaf is replicated below its level).

    ``None`` when the walk is off or numba missing (:func:`kernels`), the forest empty, or its padded
    trees beyond :data:`MAX_PADDED_LEAVES`.

    Raises
    ------
    ValueError
        ``n_slots < 1``, or ``leaf_values`` without one entry per tree.
    """
    if n_slots < 1:
        raise ValueError(f"n_slots={n_slots}: give at least 1")
    if len(leaf_values) != len(trees):
        raise ValueError(f"leaf_values has {len(leaf_values)} entries, expected one per tree ({len(trees)})")
    if not trees or n_variables < 1 or not _STATE["enabled"] or _STATE["kernels"] is False:
        return None
    depth = max(min_depth, *(_reachable_depth(tree) for tree in trees))
    if depth > 40 or len(trees) << depth > MAX_PADDED_LEAVES:
        return None
    ks = kernels(depth, strict)
    if ks is None:
        return None
    ints, reals = _layout(trees, leaf_values, n_variables, depth, norm, n_slots)
    return ks, ints, reals


def _compiles(kernel: Any, probe: tuple[Any, ...], fallback: str) -> bool:
    """Call ``kernel(*probe)`` once so that it is compiled (or loaded from numba's cache) now.

    A numba that cannot compile it is not fatal: a WARNING naming the ``fallback``, and the walk is
    switched off for the process.
    """
    try:
        kernel(*probe)
    except Exception as exc:  # noqa: BLE001 - any compiler failure: the caller's other path is used
        _log.warning(
            "the compiled forest walk is not available (%s: %s); %s", type(exc).__name__, exc, fallback
        )
        _STATE["kernels"] = False
        return False
    return True


def forest_walk_batch(
    trees: Sequence[DecisionTree],
    leaf_values: Sequence[npt.NDArray[np.float64]],
    n_variables: int,
    *,
    strict: bool = False,
    n_slots: int = 1,
) -> Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float64]] | None:
    """Prepare the compiled ``X -> Σ_t leaf_values[t][leaf_t(x)]`` for every row of a matrix.

    The array form of :func:`forest_walk_function`: the same padded forest and the same walk, in
    one compiled loop over the events (the GIL released), for :meth:`MethodBDT._predict`.

    Parameters
    ----------
    trees, leaf_values, n_variables, strict
        As :func:`forest_walk_function`.
    n_slots : int
        Number of sums per event: tree ``t`` adds to sum ``t % n_slots``.

    Returns
    -------
    callable or None
        ``f(X)`` for a float32 matrix of shape ``(n_events, n_variables)``, returning float64 sums
        of shape ``(n_events, n_slots)``: per event and slot ``0.0 + v + v' + …`` in tree order, bit
        for bit the sums of the array path (``total += values[leaf]`` tree by tree); ``None`` as
        :func:`forest_walk_function` returns it.

    Raises
    ------
    ValueError
        When ``n_slots < 1`` or ``leaf_values`` does not have one entry per tree; the returned
        function raises it for a matrix without ``n_variables`` columns.
    """
    # shallower forests are padded to BLOCK_DEPTH levels, for the block walk
    prepared = _prepare(trees, leaf_values, n_variables, strict, None, n_slots, BLOCK_DEPTH)
    if prepared is None:
        return None
    (_walk, _sums, batch), ints, reals = prepared
    probe = (np.zeros((1, n_variables), np.float32), ints, reals, np.zeros((1, n_slots)))
    if not _compiles(batch, probe, "walking the trees with numpy"):
        return None

    def forest_batch(X: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != n_variables:
            raise ValueError(f"X of shape {X.shape}: the forest reads {n_variables} variables per event")
        out = np.zeros((X.shape[0], n_slots))
        batch(X, ints, reals, out)
        return out

    return forest_batch


def forest_walk_function(
    trees: Sequence[DecisionTree],
    leaf_values: Sequence[npt.NDArray[np.float64]],
    n_variables: int,
    *,
    strict: bool = False,
    norm: float | None = None,
    n_slots: int = 1,
) -> Callable[[Sequence[float]], Any] | None:
    """Prepare the compiled ``x -> Σ_t leaf_values[t][leaf_t(x)]`` for one event (tree order, float64).

    Parameters
    ----------
    trees : sequence of DecisionTree
        Trees with plain cuts only (no Fisher-cut nodes; the caller checks ``n_coef``).
    leaf_values : sequence of ndarray of float64
        Per tree, the value of every node (only leaves are read), already multiplied by the tree's
        boost weight where the sum is weighted.
    n_variables : int
        Number of input variables (cut variables are clipped to ``[0, n_variables)`` as
        :meth:`DecisionTree.apply` clips them).
    strict : bool
        Compare ``x > cut`` instead of ``x >= cut``.
    norm : float, optional
        When given (single slot only), the function returns ``float32(total / norm)`` (as a Python
        float) when ``norm`` exceeds the float64 epsilon and ``0.0`` otherwise: the boost-weighted
        average of :meth:`MethodBDT._predict`.
    n_slots : int
        Number of sums: tree ``t`` adds to sum ``t % n_slots`` (multiclass forests cycle over the
        classes); with ``n_slots > 1`` the function returns an ndarray of float64 of that length.

    Returns
    -------
    callable or None
        ``f(x)`` for one event's variables (a sequence of ``n_variables`` finite floats), returning
        the float64 sum ``0.0 + v_0 + v_1 + …`` in tree order (a Python float; or ``n_slots`` sums),
        bit for bit the sum the array path forms; ``None`` when numba is missing or disabled
        (:func:`kernels`) or fails to compile the walk (logged once; the walk is then off for the
        process), when the forest is empty or its padded trees exceed :data:`MAX_PADDED_LEAVES`.

    Raises
    ------
    ValueError
        When ``n_slots < 1``, when ``norm`` is given with ``n_slots > 1`` or when ``leaf_values``
        does not have one entry per tree; the returned function raises it for an event that does
        not have ``n_variables`` values.

    Notes
    -----
    No TMVA counterpart (``DecisionTree::CheckEvent`` walks the nodes); see the module docstring.
    """
    if norm is not None and n_slots != 1:
        raise ValueError("norm is only accepted with n_slots=1 (one weighted average)")
    prepared = _prepare(trees, leaf_values, n_variables, strict, norm, n_slots)
    if prepared is None:
        return None
    (walk, sums, _batch), ints, reals = prepared
    if not _compiles(
        sums if n_slots > 1 else walk, (tuple([0.0] * n_variables), ints, reals), "using the rank tables"
    ):
        return None
    if n_slots > 1:

        def forest_sums(x: Sequence[float]) -> Any:
            return sums(tuple(x), ints, reals)

        return forest_sums

    def forest_walk(x: Sequence[float]) -> float:
        return walk(tuple(x), ints, reals)  # type: ignore[no-any-return]

    return forest_walk
