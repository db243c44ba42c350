"""TMVA's ``BinarySearchTree``: the training events of PDERS and their range search
(``BinarySearchTree.cxx``, ``BinarySearchTreeNode.cxx``, ``BinaryTree.cxx``, ``Node.cxx``, ``Volume.cxx``).

The tree holds every training event (its float32 variables, weight, class index and targets).  What
the methods need from it, and what this module gives with vectorised numpy:

* ``SearchVolume``: the events inside a box, ``lower < x <= upper`` in every variable
  (``InVolume``), for many boxes at once — a :class:`sklearn.neighbors.KDTree` in the Chebyshev metric
  gives a superset of candidates, the exact comparison then selects;
* ``CalcStatistics``: per class (signal / everything else) the sum of weights, and the weighted mean
  and RMS of every variable (float32 values, double sums, ``RMS = sqrt(Σwx²/Σw − mean²)`` with the
  mean and ``x²`` in float32 as TMVA's ``Float_t``);
* ``Volume::ScaleInterval``: ``lo' = ½(lo(1+f) + up(1−f))``, ``up' = ½(lo(1−f) + up(1+f))``.

The node arrangement matters only for the weights file.  TMVA inserts the events one after the
other (``Insert``: a new event goes left when its value of the node's selector variable is ``<=`` the
node's, right otherwise; a node at depth ``d`` selects variable ``d mod nvar``).  Without
``NormTree`` the insertion order is the training order; with ``NormTree`` (``NormalizeTree``) it is
the pre-order of a median split: the events sorted by variable ``level mod nvar`` (equal values in
event order), the element at ``n // 2`` moved back to the first of its run of equal values, then the
lower and the upper part recursively.  :func:`insertion_layout` builds either arrangement level by
level.

Weights file (``BinaryTree::AddXMLTo``, ``Node::AddXMLTo``)::

    <BinaryTree type="BinarySearchTree">
      <Node pos="s" depth="0" selector="0" weight="..." type="0" NVars="4"> v1 v2 v3 v4 t1
        <Node pos="l" depth="1" selector="1" ...> ... </Node>
        <Node pos="r" depth="1" selector="1" ...> ... </Node>
      </Node>
    </BinaryTree>

with the node's variables then its targets as text (16 digits, scientific), its children nested in
it (left first), ``type`` the class index.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelError

__all__ = ["BinarySearchTree", "TreeStatistics", "insertion_layout", "normalized_order", "scale_interval"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Candidate pairs (query box, event) handled at once by :meth:`BinarySearchTree.search`.
_PAIR_BUDGET = 1 << 22
#: Deepest node arrangement written as nested XML; deeper insertion trees are written in the
#: ``NormTree`` arrangement (Python's XML writer recurses once per level).
MAX_XML_DEPTH = 400


@dataclass(frozen=True)
class TreeStatistics:
    """``BinarySearchTree::CalcStatistics`` per class (row 0 signal, row 1 the rest).

    Attributes
    ----------
    sum_weights : ndarray of float64, shape (2,)
    means, rms : ndarray of float32, shape (2, n_variables)
        0 for a class without weight.
    """

    sum_weights: F64
    means: F32
    rms: F32


def scale_interval(lower: F64, upper: F64, f: npt.ArrayLike) -> tuple[F64, F64]:
    """``Volume::ScaleInterval``: widen (``f > 1``) or shrink each box about its centre.

    Parameters
    ----------
    lower, upper : ndarray of float64, shape (n_boxes, n_variables)
    f : float or array of shape (n_boxes,)
        The factor per box (TMVA's ``Double_t``).

    Returns
    -------
    (lower, upper) : ndarrays of float64, shape (n_boxes, n_variables)
    """
    fa = np.asarray(f, dtype=np.float64)
    if fa.ndim == 1:
        fa = fa[:, None]
    lo = 0.5 * (lower * (1.0 + fa) + upper * (1.0 - fa))
    up = 0.5 * (lower * (1.0 - fa) + upper * (1.0 + fa))
    return lo, up


def normalized_order(X: F32) -> I64:
    """``BinarySearchTree::NormalizeTree``: the order in which it inserts the events.

    Parameters
    ----------
    X : ndarray of float32, shape (n_events, n_variables)

    Returns
    -------
    ndarray of int64, shape (n_events,)
        Event indices in insertion order (pre-order of the median split).
    """
    n, nvar = X.shape
    rank = np.full(n, -1, dtype=np.int64)
    seg = np.zeros(n, dtype=np.int64)  # segment of every unplaced event
    offset = np.zeros(1, dtype=np.int64)  # first rank of each segment
    idx = np.arange(n, dtype=np.int64)
    level = 0
    while idx.size:
        vals = X[idx, level % nvar].astype(np.float64)
        order = np.lexsort((idx, vals, seg))
        idx, vals, seg = idx[order], vals[order], seg[order]
        n_seg = len(offset)
        sizes = np.bincount(seg, minlength=n_seg)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        pos = np.arange(len(idx)) - starts[seg]
        mid_value = vals[starts + sizes // 2][seg] if len(idx) else vals
        below = np.bincount(seg, weights=(vals < mid_value).astype(np.float64), minlength=n_seg)
        mid = below.astype(np.int64)  # the first of the run of values equal to the one at n // 2
        is_mid = pos == mid[seg]
        rank[idx[is_mid]] = offset[seg[is_mid]]
        left = pos < mid[seg]
        # new segments: 2·s (lower part) and 2·s + 1 (upper part), renumbered densely
        new_key = 2 * seg + (~left).astype(np.int64)
        keep = ~is_mid
        new_offset_all = np.where(left, offset[seg] + 1, offset[seg] + 1 + mid[seg])
        keys, inverse = np.unique(new_key[keep], return_inverse=True)
        first = np.zeros(len(keys), dtype=np.int64)
        first[inverse] = new_offset_all[keep]
        idx, seg, offset = idx[keep], inverse.astype(np.int64), first
        level += 1
    return np.argsort(rank, kind="stable")


def insertion_layout(X: F32, order: I64) -> tuple[I64, npt.NDArray[np.str_], I64]:
    """The tree TMVA's ``Insert`` grows from the events in ``order``.

    Parameters
    ----------
    X : ndarray of float32, shape (n_events, n_variables)
    order : ndarray of int, shape (n_events,)
        Insertion order (event indices).

    Returns
    -------
    parent : ndarray of int64, shape (n_events,)
        Parent event of each event (-1 for the root).
    pos : ndarray of str, shape (n_events,)
        ``"s"`` (root), ``"l"`` or ``"r"``.
    depth : ndarray of int64, shape (n_events,)
    """
    n, nvar = X.shape
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    parent = np.full(n, -1, dtype=np.int64)
    pos = np.full(n, "s", dtype="<U1")
    depth = np.zeros(n, dtype=np.int64)
    idx = np.arange(n, dtype=np.int64)
    group = np.zeros(n, dtype=np.int64)
    level = 0
    while idx.size:
        n_group = int(group.max()) + 1
        first_rank = np.full(n_group, n, dtype=np.int64)
        np.minimum.at(first_rank, group, rank[idx])
        root_of_group = order[first_rank]
        depth[root_of_group] = level
        is_root = rank[idx] == first_rank[group]
        rest = ~is_root
        idx, group = idx[rest], group[rest]
        sel = level % nvar
        root = root_of_group[group]
        goes_left = X[idx, sel] <= X[root, sel]
        parent[idx] = root
        pos[idx] = np.where(goes_left, "l", "r")
        _keys, inverse = np.unique(2 * group + (~goes_left).astype(np.int64), return_inverse=True)
        group = inverse.astype(np.int64)
        level += 1
    return parent, pos, depth


class BinarySearchTree:
    """The training events of PDERS with TMVA's box search.

    Parameters
    ----------
    X : array, shape (n_events, n_variables)
        Variables (stored as float32, TMVA's ``Float_t``).
    weights : array, shape (n_events,)
        Event weights (float32).
    classes : array of int, shape (n_events,)
        Class index of each event.
    targets : array, shape (n_events, n_targets), optional
        Regression targets (float32).

    Raises
    ------
    ModelError
        For an empty tree or mismatching array lengths.
    """

    def __init__(
        self,
        X: npt.ArrayLike,
        weights: npt.ArrayLike,
        classes: npt.ArrayLike,
        targets: npt.ArrayLike | None = None,
    ) -> None:
        self.X: F32 = np.ascontiguousarray(X, dtype=np.float32)
        if self.X.ndim != 2 or len(self.X) == 0 or self.X.shape[1] == 0:
            raise ModelError(
                f"BinarySearchTree: needs events of at least one variable, got shape {self.X.shape}"
            )
        n = len(self.X)
        self.weights: F32 = np.asarray(weights, dtype=np.float32).reshape(-1)
        self.classes: npt.NDArray[np.int64] = np.asarray(classes, dtype=np.int64).reshape(-1)
        t = np.zeros((n, 0)) if targets is None else np.asarray(targets)
        self.targets: F32 = np.asarray(t, dtype=np.float32).reshape(n, -1)
        if len(self.weights) != n or len(self.classes) != n:
            raise ModelError("BinarySearchTree: variables, weights and classes need one entry per event")
        self._X64: F64 = self.X.astype(np.float64)
        self._kd: Any = None
        self._unit: F64 | None = None

    @property
    def n_variables(self) -> int:
        """Number of variables per event (TMVA's tree period)."""
        return int(self.X.shape[1])

    def __len__(self) -> int:
        return len(self.X)

    # ------------------------------------------------------------------ statistics
    def statistics(self, signal_class: int = 0) -> TreeStatistics:
        """``CalcStatistics``: weights, means and RMS of the signal class and of the other events.

        Parameters
        ----------
        signal_class : int
            The class index counted as signal (row 0).

        Returns
        -------
        TreeStatistics
        """
        nvar = self.n_variables
        sumw = np.zeros(2)
        means = np.zeros((2, nvar), dtype=np.float32)
        rms = np.zeros((2, nvar), dtype=np.float32)
        w = self.weights.astype(np.float64)
        sq = (self.X * self.X).astype(np.float64)  # Float_t val*val
        for row, m in enumerate((self.classes == signal_class, self.classes != signal_class)):
            sumw[row] = float(w[m].sum())
            if sumw[row] == 0:
                continue
            s = (self._X64[m] * w[m, None]).sum(axis=0)
            ssq = (sq[m] * w[m, None]).sum(axis=0)
            mean = (s / sumw[row]).astype(np.float32)
            means[row] = mean
            msq = (mean * mean).astype(np.float64)
            with np.errstate(invalid="ignore"):
                rms[row] = np.sqrt(ssq / sumw[row] - msq).astype(np.float32)
        return TreeStatistics(sum_weights=sumw, means=means, rms=rms)

    # ------------------------------------------------------------------ range search
    def _kdtree(self, unit: F64) -> Any:
        from sklearn.neighbors import KDTree

        if self._kd is None or self._unit is None or not np.array_equal(self._unit, unit):
            self._unit = unit.copy()
            self._kd = KDTree(self._X64 / unit, metric="chebyshev")
        return self._kd

    def search(self, lower: F64, upper: F64, unit: npt.ArrayLike) -> tuple[I64, I64]:
        """``SearchVolume`` for many boxes: every (box, event) pair with ``lower < x <= upper``.

        Parameters
        ----------
        lower, upper : ndarray of float64, shape (n_boxes, n_variables)
        unit : array of float, shape (n_variables,)
            Positive per-variable scale in which the boxes are about cubes (PDERS: its ``fDelta``);
            it only affects the speed of the candidate search, not the result.

        Returns
        -------
        box, event : ndarrays of int64, shape (n_pairs,)
            Sorted by box (the events of one box in no particular order).

        Raises
        ------
        ModelError
            If ``unit`` is not positive and finite.
        """
        u = np.asarray(unit, dtype=np.float64).reshape(-1)
        if u.shape != (self.n_variables,) or not np.all(np.isfinite(u) & (u > 0)):
            raise ModelError(f"BinarySearchTree.search: the scale must be positive and finite, got {u}")
        lower = np.asarray(lower, dtype=np.float64)
        upper = np.asarray(upper, dtype=np.float64)
        kd = self._kdtree(u)
        centre = 0.5 * (lower + upper) / u
        halves = 0.5 * (upper - lower) / u
        half = np.max(halves, axis=1)
        slack = 1e-7 * (1.0 + np.max(np.abs(centre), axis=1))
        outer = np.where(half >= 0, half * (1 + 1e-7) + slack, -1.0)
        # candidates nearer than this are inside for certain (rounding is far below the slack)
        inner = np.min(halves, axis=1) * (1 - 1e-7) - slack
        boxes_out: list[I64] = []
        events_out: list[I64] = []
        m = len(lower)
        step = max(1, min(m, _PAIR_BUDGET // max(1, len(self))))
        for a in range(0, m, step):
            b = min(m, a + step)
            cand, dist = kd.query_radius(centre[a:b], np.maximum(outer[a:b], 0.0), return_distance=True)
            lengths = np.fromiter(map(len, cand), dtype=np.int64, count=b - a)
            if not lengths.sum():
                continue
            ev = np.concatenate(cand).astype(np.int64)
            dd = np.concatenate(dist)
            bx = np.repeat(np.arange(a, b, dtype=np.int64), lengths)
            inside = dd < inner[bx]
            inside[outer[bx] < 0] = False
            check = np.flatnonzero(~inside)
            if check.size:
                x = self._X64[ev[check]]
                cb = bx[check]
                inside[check] = np.all((lower[cb] < x) & (x <= upper[cb]), axis=1)
            boxes_out.append(bx[inside])
            events_out.append(ev[inside])
        if not boxes_out:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(boxes_out), np.concatenate(events_out)

    def volume_weights(self, lower: F64, upper: F64, unit: npt.ArrayLike) -> F64:
        """``SearchVolume`` without the event list: the sum of weights inside each box.

        Returns
        -------
        ndarray of float64, shape (n_boxes,)
        """
        box, ev = self.search(lower, upper, unit)
        sums = np.bincount(box, weights=self.weights[ev].astype(np.float64), minlength=len(lower))
        return np.asarray(sums, dtype=np.float64)

    def volume_counts(self, lower: F64, upper: F64, unit: npt.ArrayLike) -> I64:
        """The number of events inside each box (``SearchVolumeWithMaxLimit`` without its limit).

        Returns
        -------
        ndarray of int64, shape (n_boxes,)
        """
        box, _ev = self.search(lower, upper, unit)
        return np.bincount(box, minlength=len(lower)).astype(np.int64)

    # ------------------------------------------------------------------ weights file
    def add_xml_to(self, parent: ET.Element, normalize: bool) -> ET.Element:
        """``BinaryTree::AddXMLTo``: write the tree under ``parent`` (see the module docstring).

        Parameters
        ----------
        parent : xml.etree.ElementTree.Element
        normalize : bool
            ``NormTree``: the median-split arrangement; otherwise the events in training order
            (the ``NormTree`` arrangement when that tree would be deeper than :data:`MAX_XML_DEPTH`).

        Returns
        -------
        xml.etree.ElementTree.Element
            The ``<BinaryTree>`` element.
        """
        order = normalized_order(self.X) if normalize else np.arange(len(self), dtype=np.int64)
        parent_idx, pos, depth = insertion_layout(self.X, order)
        if not normalize and int(depth.max()) > MAX_XML_DEPTH:
            order = normalized_order(self.X)
            parent_idx, pos, depth = insertion_layout(self.X, order)
        bt = ET.SubElement(parent, "BinaryTree", type="BinarySearchTree")
        nvar = self.n_variables
        elements: list[ET.Element | None] = [None] * len(self)
        # parents before children, left child before right child, as Node::AddXMLTo nests them
        for i in np.lexsort((pos == "r", depth)).tolist():
            p = int(parent_idx[i])
            holder = bt if p < 0 else elements[p]
            assert holder is not None
            values = [*self.X[i].tolist(), *self.targets[i].tolist()]
            node = ET.SubElement(
                holder,
                "Node",
                pos=str(pos[i]),
                depth=str(int(depth[i])),
                selector=str(int(depth[i]) % nvar),
                weight=f"{float(self.weights[i]):.16e}",
                type=str(int(self.classes[i])),
                NVars=str(nvar),
            )
            node.text = "".join(f" {v:.16e}" for v in values)
            elements[i] = node
        return bt

    @classmethod
    def from_xml(cls, element: ET.Element, n_variables: int) -> BinarySearchTree:
        """``BinarySearchTree::CreateFromXML``: the events of a ``<BinaryTree>`` element.

        Parameters
        ----------
        element : xml.etree.ElementTree.Element
            The ``<BinaryTree>`` element.
        n_variables : int
            The method's number of variables (every node's ``NVars`` must equal it).

        Returns
        -------
        BinarySearchTree
            The events in document order (the tree's pre-order).

        Raises
        ------
        ModelError
            For a missing node, a malformed attribute or value, or mismatching numbers of values.
        """
        nodes = list(element.iter("Node"))
        if not nodes:
            raise ModelError("PDERS weights: the <BinaryTree> holds no <Node>")
        rows: list[list[float]] = []
        weights: list[float] = []
        classes: list[int] = []
        try:
            for nd in nodes:
                nv = int(nd.get("NVars", ""))
                if nv != n_variables:
                    raise ModelError(
                        f"PDERS weights: a <Node> has NVars={nv}, the method has {n_variables} variables"
                    )
                weights.append(float(nd.get("weight", "")))
                typ = nd.get("type", "")
                classes.append(0 if typ in ("0", "Signal") else int(typ))
                rows.append([float(t) for t in (nd.text or "").split()])
        except ValueError:
            raise ModelError("PDERS weights: a <Node> has a malformed weight, type, NVars or value") from None
        n_values = {len(r) for r in rows}
        if len(n_values) != 1 or min(n_values) < n_variables:
            raise ModelError(
                f"PDERS weights: every <Node> must hold the same number (>= {n_variables}) of values"
            )
        values = np.asarray(rows, dtype=np.float64)
        return cls(values[:, :n_variables], weights, classes, values[:, n_variables:])
