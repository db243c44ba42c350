"""One event through a whole forest of cut trees at once: leaf bit masks, one per variable and rank.

The Reader's event loop (``EvaluateMVA(tag)``) evaluates a BDT one event at a time; walking a few
hundred trees node by node in Python costs tens of µs.  :func:`forest_event_function` prepares the
forest once so that an event costs a binary search per variable, a few integer ANDs and three numpy
calls, whatever the number of trees.  The scheme is the "QuickScorer" idea (Lucchese et al., SIGIR
2015) on Python integers:

* every leaf of every tree owns one bit of one wide integer (tree by tree, leaves in node order);
* an internal node on variable ``j`` with cut ``c`` sends an event one way when ``x_j >= c``
  (``x_j > c`` for the strict comparison of old weights files) and the other way otherwise; either
  way the leaves below the daughter *not* taken cannot be reached: the node's mask for each outcome
  is all ones but those leaves' bits;
* the outcome of every node on variable ``j`` depends only on the rank ``k`` of ``x_j`` among the
  sorted cuts of ``j`` (``bisect``), so the AND of those nodes' masks is tabulated once per rank;
* an event's AND over the variables leaves exactly one bit per tree, its leaf (every other leaf is
  cut off by the node where its path leaves the event's path).

The leaf values (boost weight × leaf value, as :meth:`MethodBDT._predict` multiplies them) are then
picked in tree order and summed one after the other with ``numpy.add.accumulate``: the same float64
additions in the same order as the array path (``total += bw·v`` tree by tree), so the result is
bit for bit that of :meth:`~pymva.methods.decisiontree.DecisionTree.apply` on the same event.

This has no TMVA counterpart (TMVA walks ``DecisionTreeNode`` objects in C++,
``DecisionTree::CheckEvent``); it only changes how the same leaves are found.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from .decisiontree import DecisionTree

__all__ = ["MAX_MASK_BYTES", "forest_event_function"]

#: Largest table of rank masks (in bytes of integer payload) prepared; beyond it (tens of thousands
#: of trees) :func:`forest_event_function` returns ``None`` and the caller walks the trees.
MAX_MASK_BYTES = 64 * 2**20


def _subtree_leaves(tree: DecisionTree, leaf_bit: dict[int, int]) -> dict[int, int]:
    """For every node, the OR of the bits of the leaves below it (the node itself if a leaf)."""
    left, right, internal = tree.left.tolist(), tree.right.tolist(), (tree.node_type == 0).tolist()
    below: dict[int, int] = {}
    order: list[int] = []
    stack = [0]
    while stack:  # pre-order; children are resolved by walking the order backwards
        node = stack.pop()
        order.append(node)
        if internal[node]:
            stack.extend((left[node], right[node]))
    for node in reversed(order):
        below[node] = below[left[node]] | below[right[node]] if internal[node] else leaf_bit[node]
    return below


def forest_event_function(
    trees: Sequence[DecisionTree],
    leaf_values: Sequence[npt.NDArray[np.float64]],
    n_variables: int,
    *,
    strict: bool = False,
) -> Callable[[Sequence[float]], float] | None:
    """Prepare ``x -> Σ_t leaf_values[t][leaf_t(x)]`` for one event (summed in tree order, float64).

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

    Returns
    -------
    callable or None
        ``f(x)`` for one event's variables (finite Python floats, ``len(x) == n_variables``),
        returning the float64 sum ``0.0 + v_0 + v_1 + …`` in tree order, bit for bit the sum the
        array path forms; ``None`` when the rank tables would exceed :data:`MAX_MASK_BYTES`.

    Notes
    -----
    No TMVA counterpart (``DecisionTree::CheckEvent`` walks the nodes); see the module docstring.
    """
    n_trees = len(trees)
    leaves: list[list[int]] = []  # per tree, its reachable leaves in node order
    inner: list[list[int]] = []  # per tree, its reachable internal nodes in node order
    for tree in trees:
        internal = (tree.node_type == 0).tolist()
        stack, seen = [0], []
        while stack:
            node = stack.pop()
            seen.append(node)
            if internal[node]:
                stack.extend((int(tree.left[node]), int(tree.right[node])))
        leaves.append(sorted(n for n in seen if not internal[n]))
        inner.append(sorted(n for n in seen if internal[n]))
    # Two layouts of the big integer (read back as little-endian bytes), both starting (least
    # significant end) with a constant entry of value 0.0, so that the sum starts at 0.0 as the
    # array path's np.zeros does: "chunks" (at most 8 leaves per tree): a W-bit group per tree
    # holding the tree's number t+1 above 8 leaf bits, so that the event's mask read as W-bit
    # integers is directly the index (t+1)·256 + 2^leaf into the value table; "bits" (any tree):
    # one bit per leaf, read back with unpackbits, the value table in the same order.
    chunked = max(len(lv) for lv in leaves) <= 8 and n_trees + 1 < 2**24
    width = 16 if n_trees + 1 <= 256 else 32
    n_bits = (n_trees + 1) * width if chunked else (1 + sum(map(len, leaves)) + 7) // 8 * 8
    n_nodes = sum(map(len, inner))
    if (n_nodes + n_variables + 1) * n_bits // 8 > MAX_MASK_BYTES:
        return None
    table = np.zeros((n_trees + 1) * 256 if chunked else n_bits, dtype=np.float64)
    full = 1  # the constant entry (index 1 / bit 0)
    leaf_bits: list[dict[int, int]] = []
    position = 1
    for t, vals in enumerate(leaf_values):
        vals_list = np.asarray(vals, dtype=np.float64).tolist()
        bits: dict[int, int] = {}
        for i, node in enumerate(leaves[t]):
            if chunked:
                bits[node] = 1 << ((t + 1) * width + i)
                table[(t + 1) * 256 + (1 << i)] = vals_list[node]
            else:
                bits[node] = 1 << position
                table[position] = vals_list[node]
                position += 1
            full |= bits[node]
        if chunked:
            full |= (t + 1) << ((t + 1) * width + 8)
        leaf_bits.append(bits)
    # per variable: (cut, mask when the comparison is true, mask when it is false)
    per_var: list[list[tuple[float, int, int]]] = [[] for _ in range(n_variables)]
    for t, tree in enumerate(trees):
        below = _subtree_leaves(tree, leaf_bits[t])
        cut_type = tree.cut_type.tolist()
        for node in inner[t]:
            iv = min(max(int(tree.ivar[node]), 0), n_variables - 1)
            # right when (comparison == cutType): a true comparison goes right iff cutType; each
            # outcome cuts off the leaves below the daughter it does not take
            right, left = int(tree.right[node]), int(tree.left[node])
            if_true, if_false = (right, left) if cut_type[node] else (left, right)
            per_var[iv].append((float(tree.cut[node]), full ^ below[if_false], full ^ below[if_true]))
    tables: list[tuple[int, list[float], list[int]]] = []
    for j, var_nodes in enumerate(per_var):
        if not var_nodes:
            continue
        var_nodes.sort(key=lambda item: item[0])
        n = len(var_nodes)
        # rank r: the comparison is true for the first r cuts (sorted), false for the others
        suffix = [full] * (n + 1)
        for i in range(n - 1, -1, -1):
            suffix[i] = suffix[i + 1] & var_nodes[i][2]
        masks = [full] * (n + 1)
        prefix = full
        for r in range(n + 1):
            masks[r] = prefix & suffix[r]
            if r < n:
                prefix &= var_nodes[r][1]
        tables.append((j, [c for c, _, _ in var_nodes], masks))
    n_bytes = n_bits // 8
    rank = bisect.bisect_left if strict else bisect.bisect_right
    accumulate, frombuffer = np.add.accumulate, np.frombuffer
    if chunked:
        words = np.dtype("<u2" if width == 16 else "<u4")
        take = table.take

        def decode(mask: int) -> float:
            return float(accumulate(take(frombuffer(mask.to_bytes(n_bytes, "little"), words)))[-1])

    else:
        unpack, u8 = np.unpackbits, np.uint8

        def decode(mask: int) -> float:
            hit = unpack(frombuffer(mask.to_bytes(n_bytes, "little"), u8), bitorder="little").view(np.bool_)
            return float(accumulate(table[hit])[-1])

    if not tables:  # single-leaf trees only
        constant = decode(full)
        return lambda x: constant

    def forest_event(x: Sequence[float]) -> float:
        mask = full
        for j, cuts, masks in tables:
            mask &= masks[rank(cuts, x[j])]
        return decode(mask)

    return forest_event
