"""TMVA's decision tree (``DecisionTree``/``DecisionTreeNode``) as flat node arrays.

A :class:`DecisionTree` holds one entry per node in parallel numpy arrays (children, cut variable,
float32 cut, cut type, node type, purity, response, …), as scikit-learn's ``Tree`` does; there are
no node objects.  :func:`grow_tree` grows a tree as ``DecisionTree::BuildTree`` does
(``tmva/tmva/src/DecisionTree.cxx``):

* nodes are trained depth first, the right daughter before the left one (the order in which the
  random numbers of randomised trees are drawn);
* a node is split only if it holds at least ``2·MinSize`` events *and* ``2·MinSize`` of weight
  (``MinSize = MinNodeSize/100 · N_train``), is shallower than ``MaxDepth`` and holds both classes
  (classification) or some weight (regression);
* ``nCuts > 0`` (``TrainNodeFast``): per variable a node-local grid of ``nCuts+1`` equal bins between
  the node's smallest and largest value (integer variables: one bin per integer), weighted
  histograms of signal and background (and of the target for regression trees), cumulated; every
  bin edge is a candidate whose two sides must each hold ``MinSize`` events and weight; the best
  gain per variable, then the best variable (first maximum wins); the cut is the bin edge rounded
  to float32; with ``UseFisherCuts`` a Fisher discriminant of the strongly correlated variables is
  one more candidate variable;
* ``nCuts < 0`` (``TrainNodeFull``): every midpoint between distinct values;
* gain below ``ε_double`` → leaf; an event goes right when ``(x >= cut) == cutType`` (Fisher
  nodes: ``F(x) > cut``), compared in float32.

The histograms are numpy ``bincount`` over the node's events in their training order, so each bin's
weight is summed in the same order as TMVA sums it.  :meth:`DecisionTree.apply` finds the leaf of
many events at once; :func:`clean_tree` and :func:`cost_complexity_prune` are TMVA's ``CleanTree``
and ``CostComplexityPruneTool`` (fixed strength).  :func:`tree_to_xml` / :func:`tree_from_xml`
write and read TMVA's ``<BinaryTree><Node …>`` layout.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelError
from .nodehistograms import kernels
from .separation import PRECISION_CUT, SEPARATION_INDEX, regression_variance_gain, separation_gain
from .trandom3 import TRandom3

__all__ = [
    "DecisionTree",
    "GrowthCache",
    "NodeBins",
    "TreeConfig",
    "clean_tree",
    "cost_complexity_prune",
    "grow_tree",
    "tree_from_xml",
    "tree_to_xml",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
IntA = npt.NDArray[np.intp]
_EPS = float(np.finfo(np.float64).eps)
_FEPS = float(np.finfo(np.float32).eps)
_FMIN = float(np.finfo(np.float32).tiny)
_GINI = SEPARATION_INDEX["giniindex"]
#: a node of a tree grown with a GrowthCache, named by the cuts that lead to it from the root
#: (``(ivar, cut, cType, went right)`` per level; ``()`` is the root)
_SplitKey = tuple[tuple[int, float, bool, bool], ...]
#: a daughter to grow: node index, its events, its sums (numba path; None on the numpy path)
_Child = tuple[int, IntA, F64 | None, "NodeBins | None"]


@dataclass
class DecisionTree:
    """One tree as flat node arrays (node 0 is the root).

    Attributes
    ----------
    left, right : ndarray of intp
        Daughter indices, ``-1`` for leaves.
    depth : ndarray of intp
    ivar : ndarray of intp
        Cut variable (``-1`` for leaves; TMVA's ``IVar``).
    cut : ndarray of float32
    cut_type : ndarray of bool
        TMVA's ``cType``: right is ``x >= cut`` when true, ``x < cut`` when false.
    node_type : ndarray of intp
        0 internal, +1 signal leaf, −1 background leaf, −99 regression leaf (TMVA's ``nType``).
    purity, response, rms : ndarray of float32
    fisher : ndarray of float64, shape (n_nodes, n_coef)
        Fisher coefficients (last column: offset) of nodes with ``n_coef[i] > 0``.
    n_coef : ndarray of intp
    nsig, nbkg : ndarray of float64
        Weighted signal/background of the training events in each node (training only).
    regression : bool
        TMVA's tree ``AnalysisType`` (regression trees return the leaf response).
    importance : ndarray of float64
        ``Σ gain²·(S+B)²`` per variable (``DecisionTree::fVariableImportance``).
    event_leaf : ndarray of intp, shape (n_events,), optional
        Training only: the leaf each event of the training arrays ended in while the tree was grown
        (``-1`` for events outside the tree's sample), the same leaf :meth:`apply` finds; kept
        through :func:`clean_tree` and :func:`cost_complexity_prune`, not written to XML.
    """

    left: IntA
    right: IntA
    depth: IntA
    ivar: IntA
    cut: F32
    cut_type: npt.NDArray[np.bool_]
    node_type: IntA
    purity: F32
    response: F32
    rms: F32
    fisher: F64
    n_coef: IntA
    nsig: F64
    nbkg: F64
    regression: bool = False
    importance: F64 = field(default_factory=lambda: np.zeros(0))
    event_leaf: IntA | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.left)

    @property
    def max_depth(self) -> int:
        """Depth of the deepest node."""
        return int(self.depth.max()) if len(self.depth) else 0

    def apply(self, X: F32, *, strict: bool = False) -> IntA:
        """Index of the leaf each event ends in (``DecisionTree::CheckEvent``'s walk).

        Parameters
        ----------
        X : ndarray of float32, shape (n_events, n_variables)
        strict : bool
            Compare ``x > cut`` instead of ``x >= cut`` (weights files of ROOT <= 5.34/04).

        Returns
        -------
        ndarray of intp, shape (n_events,)
        """
        n = len(X)
        node = np.zeros(n, dtype=np.intp)
        rows = np.arange(n)
        internal = self.node_type == 0
        has_fisher = bool((self.n_coef > 0).any())
        active = rows[internal[node]] if n else rows
        while active.size:
            nd = node[active]
            iv = self.ivar[nd]
            x = X[active, np.clip(iv, 0, X.shape[1] - 1)]
            c = self.cut[nd]
            res = (x > c) if strict else (x >= c)
            if has_fisher:
                fn = self.n_coef[nd] > 0
                if fn.any():
                    res[fn] = self._fisher_values(X[active[fn]], nd[fn]) > c[fn].astype(np.float64)
            right = res == self.cut_type[nd]
            nxt = np.where(right, self.right[nd], self.left[nd])
            node[active] = nxt
            active = active[internal[nxt]]
        return node

    def _fisher_values(self, X: F32, nodes: IntA) -> F64:
        coef = self.fisher[nodes]
        nvar = coef.shape[1] - 1
        value = coef[:, nvar].copy()
        for j in range(nvar):
            value += coef[:, j] * X[:, j].astype(np.float64)
        return value  # type: ignore[no-any-return]

    def leaf_values(self, use_yes_no_leaf: bool) -> F64:
        """What ``CheckEvent`` returns per node: response (regression trees), node type or purity."""
        if self.regression:
            return self.response.astype(np.float64)
        if use_yes_no_leaf:
            return self.node_type.astype(np.float64)
        return self.purity.astype(np.float64)

    def relative_importance(self) -> F64:
        """``DecisionTree::GetVariableImportance``: the importances normalised to sum 1."""
        total = float(self.importance.sum())
        if total > _EPS:
            return self.importance / total
        return np.zeros_like(self.importance)


# ---------------------------------------------------------------------------------------------- growing
@dataclass
class TreeConfig:
    """What ``DecisionTree``'s constructor and MethodBDT's setters give the tree.

    ``sep_index`` is ``None`` for a regression tree (``RegressionVariance``; BDTG's trees too).
    """

    sep_index: Callable[[F64, F64], F64] | None
    n_cuts: int
    min_node_size: float
    max_depth: int
    purity_limit: float = 0.5
    randomised: bool = False
    use_nvars: int = 0
    use_poisson_nvars: bool = False
    seed: int = 0
    use_fisher_cuts: bool = False
    min_lin_corr_fisher: float = 0.8
    use_exclusive_vars: bool = False
    integer_vars: tuple[bool, ...] = ()


@dataclass
class NodeBins:
    """A node's per-variable range, its events' bins and the numbers of events per bin, shared by
    the trees whose node holds the same events (``None`` until a tree computes them)."""

    xmin: F64 | None = None
    xmax: F64 | None = None
    bins: npt.NDArray[np.integer[Any]] | None = None  # (n_variables, n_events), unsigned if it fits
    counts: F64 | None = None  # (n_variables, bins): the number of root events per bin
    #: whether a second tree has this node: only then are its bins stored (a node seen once would
    #: pay for storing them and never use them)
    reused: bool = False
    #: the node's path from the root (the key of its events in the GrowthCache)
    path: _SplitKey = ()


class GrowthCache:
    """What the trees of one training share: the grids of the root and of its daughters.

    The root of every tree holds the same events (the whole sample, when it does not change from
    tree to tree: no bagging) with the same values, hence the same per-variable range, the same
    node-local grid and the same bin of each event; only the weights change.  Boosting often
    splits the root with a cut it used before: the daughters then hold the same events as then,
    so their events, grids and bins are kept too, per root cut, the most recently used first, up
    to ``max_bytes``.  The trainer passes one cache to every :func:`grow_tree` call; it is reset
    whenever the ``XT`` or ``sample`` array (compared by identity: the trainer never modifies
    either in place), ``nCuts`` or the integer variables differ from the last call.
    """

    def __init__(self, max_bytes: int = 128 * 2**20) -> None:
        self._refs: tuple[F64, IntA, int, tuple[bool, ...]] | None = None
        self.root = NodeBins()
        self._columns: tuple[F32, F32] | None = None
        self.max_bytes = max_bytes
        self._splits: OrderedDict[_SplitKey, tuple[IntA, IntA, NodeBins, NodeBins]] = OrderedDict()
        self._bytes = 0

    def root_split(self, key: _SplitKey) -> tuple[IntA, IntA, NodeBins, NodeBins] | None:
        """The right and left daughter's events and shared bins of the node reached by the cuts
        ``key[:-1]`` split by ``key[-1]`` (its ``went right`` unused: ``False``), as an earlier tree
        split it, or ``None``."""
        hit = self._splits.get(key)
        if hit is not None:
            self._splits.move_to_end(key)
            hit[2].reused = hit[3].reused = True
        return hit

    def add_root_split(
        self, key: _SplitKey, right: IntA, left: IntA, n_vars: int
    ) -> tuple[NodeBins, NodeBins]:
        """Keep the daughters of a new root cut (their bins are filled when they are trained)."""
        size = (len(right) + len(left)) * (right.itemsize + n_vars)
        if size > self.max_bytes:
            return NodeBins(), NodeBins()
        while self._splits and self._bytes + size > self.max_bytes:
            _, (r, lft, _, _) = self._splits.popitem(last=False)
            self._bytes -= (len(r) + len(lft)) * (r.itemsize + n_vars)
        parent = key[:-1]
        ivar, cut, ctype, _ = key[-1]
        entry = (
            right,
            left,
            NodeBins(path=(*parent, (ivar, cut, ctype, True))),
            NodeBins(path=(*parent, (ivar, cut, ctype, False))),
        )
        self._splits[key] = entry
        self._bytes += size
        return entry[2], entry[3]

    def columns(self, X: F32) -> F32:
        """``X.T`` as a C-contiguous float32 array (what the numba kernels read), made once per ``X``."""
        c = self._columns
        if c is None or c[0] is not X:
            c = (X, np.ascontiguousarray(X.T, dtype=np.float32))
            self._columns = c
        return c[1]

    def root_for(self, XT: F64, sample: IntA, n_cuts: int, integer_vars: tuple[bool, ...]) -> NodeBins:
        """The root's bins for this ``XT``/``sample`` (a fresh, empty one if they changed)."""
        r = self._refs
        if r is None or r[0] is not XT or r[1] is not sample or r[2] != n_cuts or r[3] != integer_vars:
            self._refs = (XT, sample, n_cuts, integer_vars)
            self.root = NodeBins()
            self._splits.clear()
            self._bytes = 0
        else:
            self.root.reused = True
        return self.root


class _Builder:
    """Grows one tree; holds the growing arrays (lists, converted at the end)."""

    def __init__(
        self,
        cfg: TreeConfig,
        X: F32,
        XT: F64,
        is_sig: npt.NDArray[np.bool_],
        w: F64,
        target: F64 | None,
        n_sample: int,
        root: NodeBins | None = None,
        cache: GrowthCache | None = None,
    ) -> None:
        self.cfg = cfg
        self.root = root
        self.cache = cache
        self.X, self.XT, self.is_sig, self.w, self.target = X, XT, is_sig, w, target
        self.nvar = X.shape[1]
        self.regression = cfg.sep_index is None
        self.n_cuts = cfg.n_cuts
        if self.regression and self.n_cuts <= 0:
            self.n_cuts = 200
        self.min_size = cfg.min_node_size / 100.0 * n_sample
        self.rng = TRandom3(cfg.seed) if cfg.randomised else None
        self.use_nvars = cfg.use_nvars if cfg.use_nvars > 0 else int(math.sqrt(self.nvar) + 0.6)
        self.is_int = np.array(cfg.integer_vars or (False,) * self.nvar, dtype=bool)
        self.importance = np.zeros(self.nvar)
        self.nodes: list[dict[str, Any]] = []
        self.event_leaf = np.full(X.shape[0], -1, dtype=np.intp)
        # numba path: the kernels read XT, the weights and the classes in place through the events'
        # indices
        self.kern = kernels()
        if self.kern is not None:
            # the values as float32 columns: half the memory traffic of XT; the kernels widen each
            # value to float64 (exact) before binning, so the arithmetic is XT's
            self.XK = cache.columns(X) if cache is not None else np.ascontiguousarray(X.T, dtype=np.float32)
            self.w = np.ascontiguousarray(w, dtype=np.float64)
            self.is_sig = np.ascontiguousarray(is_sig, dtype=np.bool_)
        self.tg: F64 = np.zeros(1) if target is None else np.ascontiguousarray(target, dtype=np.float64)
        self._no_mask = np.zeros(1, dtype=np.bool_)
        self._no_bins = np.zeros((0, 0), dtype=np.uint8)

    # -------------------------------------------------------------- node statistics
    def new_node(self, depth: int) -> int:
        self.nodes.append(
            {
                "left": -1,
                "right": -1,
                "depth": depth,
                "ivar": -1,
                "cut": 0.0,
                "cut_type": True,
                "node_type": -99,
                "purity": -99.0,
                "response": -99.0,
                "rms": 0.0,
                "fisher": None,
                "nsig": 0.0,
                "nbkg": 0.0,
            }
        )
        return len(self.nodes) - 1

    def build(self, sample: IntA) -> DecisionTree:
        root = self.new_node(0)
        kern = self.kern
        sums: F64 | None = None
        if kern is not None:
            sums = np.zeros(6)
            kern["sums"](sample, self.w, self.is_sig, self.tg, self.regression, sums)
        stack: list[_Child] = [(root, sample, sums, self.root)]
        while stack:
            nid, idx, st, shared = stack.pop()
            if shared is not None and not self.cfg.use_fisher_cuts:
                self.nodes[nid]["shared"] = shared
            children = self.build_node(nid, idx, st)
            if children is not None:
                lchild, rchild = children
                stack.append(lchild)
                stack.append(rchild)  # popped first: TMVA builds the right daughter first
        return self.finish()

    def build_node(self, nid: int, idx: IntA, sums: F64 | None) -> tuple[_Child, _Child] | None:
        """Fill node ``nid`` from its events ``idx``; split it, or make it a leaf.

        ``sums`` (numba path): the node's weights and counts in the layout of the kernel ``sums``;
        ``None`` on the numpy path, which sums here.
        """
        node = self.nodes[nid]
        w: F64 | None = None
        sig: npt.NDArray[np.bool_] | None = None
        if sums is None:
            w = self.w[idx]
            sig = self.is_sig[idx]
            s = _seqsum(w[sig])
            b = _seqsum(w[~sig])
            n_s = float(np.count_nonzero(sig))
            t = t2 = 0.0
            if self.regression:
                assert self.target is not None
                tg = self.target[idx]
                t = _seqsum(w * tg)
                t2 = _seqsum(w * tg * tg)
        else:
            s, b, n_s, t, t2 = float(sums[0]), float(sums[1]), float(sums[2]), float(sums[4]), float(sums[5])
        node["nsig"], node["nbkg"] = s, b
        node["purity"] = s / (s + b) if s + b > 0 else 0.5
        depth = node["depth"]
        m = len(idx)
        splittable = (
            m >= 2 * self.min_size
            and s + b >= 2 * self.min_size
            and depth < self.cfg.max_depth
            and ((s != 0 and b != 0 and not self.regression) or (s + b != 0 and self.regression))
        )
        if splittable:
            if self.n_cuts > 0:
                gain = self.train_node_fast(node, idx, w, sig, s, b, n_s)
            else:
                if w is None or sig is None:
                    w, sig = self.w[idx], self.is_sig[idx]
                gain = self.train_node_full(node, idx, w, sig)
            if gain >= _EPS:
                (ridx, rsums, rshared), (lidx, lsums, lshared) = self.split(node, idx)
                if len(ridx) == 0 or len(lidx) == 0:
                    raise ModelError(
                        f"BDT: all events went to the same branch when cutting on variable {node['ivar']} "
                        f"at {node['cut']} (separation gain {gain}); this should never happen"
                    )
                rnode = self.new_node(depth + 1)
                lnode = self.new_node(depth + 1)
                node = self.nodes[nid]
                node["node_type"] = 0
                node["left"], node["right"] = lnode, rnode
                return (lnode, lidx, lsums, lshared), (rnode, ridx, rsums, rshared)
        # leaf
        self.event_leaf[idx] = nid
        if self.regression:
            sw = s + b if s + b != 0 else 1.0
            node["response"] = t / sw
            mean2, mean = t2 / sw, t / sw
            node["rms"] = (
                0.0 if _almost_equal_double(mean2, mean * mean) else math.sqrt(max(mean2 - mean * mean, 0.0))
            )
        else:
            node["node_type"] = 1 if np.float32(node["purity"]) > self.cfg.purity_limit else -1
        return None

    def root_bins(self, node: dict[str, Any], idx: IntA) -> NodeBins | None:
        """The bins ``node`` shares with other trees (the root, or a daughter of a root cut seen
        before, of a tree grown with a :class:`GrowthCache`; never with Fisher cuts, whose extra
        variable changes from tree to tree), or ``None``."""
        if self.cfg.use_fisher_cuts:
            return None
        shared: NodeBins | None = node.get("shared")
        return shared

    def fisher_values(self, coef: F64, idx: IntA) -> F64:
        """The Fisher discriminant ``coef[nvar] + Σ coef[j]·x_j`` (float64) of the events ``idx``."""
        value = np.full(len(idx), coef[self.nvar])
        for j in range(self.nvar):
            value += coef[j] * self.XT[j, idx]
        return value

    def goes_right(self, node: dict[str, Any], idx: IntA) -> npt.NDArray[np.bool_]:
        cut = np.float32(node["cut"])
        if node["fisher"] is not None:
            res = self.fisher_values(node["fisher"], idx) > float(cut)
        else:
            res = self.X[idx, node["ivar"]] >= cut
        return res if node["cut_type"] else ~res

    def split(
        self, node: dict[str, Any], idx: IntA
    ) -> tuple[tuple[IntA, F64 | None, NodeBins | None], tuple[IntA, F64 | None, NodeBins | None]]:
        """The events of the right and of the left daughter (each in the node's order), their sums
        (numba path: the same pass sums each daughter's weights and counts) and, for the root of a
        tree grown with a :class:`GrowthCache`, the daughters' shared bins (those of an earlier
        tree when it cut the root in the same place: its daughters' events are reused)."""
        key = None
        shared: NodeBins | None = node.get("shared")
        if (
            self.cache is not None
            and shared is not None
            and node["depth"] + 1 < self.cfg.max_depth  # daughters that may be split
            and node["fisher"] is None
        ):
            cut = (int(node["ivar"]), float(np.float32(node["cut"])), bool(node["cut_type"]), False)
            key = (*shared.path, cut)
            hit = self.cache.root_split(key)
            if hit is not None:
                ridx, lidx, rshared, lshared = hit
                rs = ls = None
                if self.kern is not None:
                    rs, ls = np.zeros(6), np.zeros(6)
                    self.kern["sums"](ridx, self.w, self.is_sig, self.tg, self.regression, rs)
                    self.kern["sums"](lidx, self.w, self.is_sig, self.tg, self.regression, ls)
                return (ridx, rs, rshared), (lidx, ls, lshared)
        (ridx, rs), (lidx, ls) = self._split(node, idx)
        if key is not None and self.cache is not None:
            rnew, lnew = self.cache.add_root_split(key, ridx, lidx, self.nvar)
            return (ridx, rs, rnew), (lidx, ls, lnew)
        return (ridx, rs, None), (lidx, ls, None)

    def _split(
        self, node: dict[str, Any], idx: IntA
    ) -> tuple[tuple[IntA, F64 | None], tuple[IntA, F64 | None]]:
        kern = self.kern
        if kern is None:
            right = self.goes_right(node, idx)
            return (idx[right], None), (idx[~right], None)
        if node["fisher"] is not None:
            ivar = -1
            mask = self.fisher_values(node["fisher"], idx) > float(np.float32(node["cut"]))
            if not node["cut_type"]:
                mask = ~mask
        else:
            ivar, mask = int(node["ivar"]), self._no_mask
        out = np.empty(len(idx), dtype=np.intp)
        sums = np.zeros((2, 6))
        nr = int(
            kern["split"](
                self.XK,
                idx,
                ivar,
                float(np.float32(node["cut"])),
                bool(node["cut_type"]),
                mask,
                self.w,
                self.is_sig,
                self.tg,
                self.regression,
                out,
                sums,
            )
        )
        return (out[:nr], sums[0]), (out[nr:], sums[1])

    # -------------------------------------------------------------- TrainNodeFast
    def random_variables(self, use: npt.NDArray[np.bool_], poisson: bool) -> None:
        assert self.rng is not None
        if poisson:
            n_use = min(self.nvar, max(1, self.rng.poisson(self.use_nvars)))
        else:
            n_use = self.use_nvars
        use[:] = False
        selected = 0
        while selected < n_use:
            use[int(self.rng.rndm() * self.nvar)] = True
            selected = int(use.sum())

    def train_node_fast(
        self,
        node: dict[str, Any],
        idx: IntA,
        w: F64 | None,
        sig: npt.NDArray[np.bool_] | None,
        s: float,
        b: float,
        n_s: float,
    ) -> float:
        """``TrainNodeFast`` on the events ``idx``: set the node's cut, return the separation gain.

        ``w``/``sig`` are the node's weights and classes (``None`` on the numba path, which reads
        the full arrays through ``idx``), ``n_s`` its number of signal events.
        """
        nvar = self.nvar
        use = np.ones(nvar, dtype=bool)
        if self.rng is not None:
            self.random_variables(use, self.cfg.use_poisson_nvars)
        # the node's values as float64 (TMVA bins in double precision): read in place by the numba
        # kernels, else one (nvar, m) copy
        kern = self.kern
        xv: F64 | None = None
        root = self.root_bins(node, idx)
        if root is not None and root.xmin is not None and root.xmax is not None:
            xmin, xmax = root.xmin.copy(), root.xmax.copy()
        elif kern is not None:
            xmin, xmax = np.empty(nvar), np.empty(nvar)
            kern["min_max"](self.XK, idx, xmin, xmax)
        else:
            xv = np.take(self.XT, idx, axis=1)
            xmin, xmax = xv.min(axis=1), xv.max(axis=1)
        if root is not None and root.xmin is None:
            root.xmin, root.xmax = xmin.copy(), xmax.copy()
        fisher_coef: F64 | None = None
        if self.cfg.use_fisher_cuts and not self.regression:
            if w is None or sig is None:
                w, sig = self.w[idx], self.is_sig[idx]
            fisher_coef, fuse = self.fisher_for_node(idx, w, sig, use)
            if fisher_coef is not None and self.cfg.use_exclusive_vars:
                use &= ~fuse
        flat = _almost_equal_floats(xmax, xmin)
        use &= ~flat
        nbins = np.full(nvar, self.n_cuts + 1, dtype=np.int64)
        nbins[self.is_int] = (xmax[self.is_int] - xmin[self.is_int] + 1).astype(np.int64)
        if fisher_coef is not None:
            if xv is None:
                xv = np.take(self.XT, idx, axis=1)
            fv = np.full(len(idx), fisher_coef[nvar])
            for j in range(nvar):
                fv += fisher_coef[j] * xv[j]
            xv = np.vstack([xv, fv[None, :]])
            fmin = min(999.0, float(fv.min()))
            fmax = max(-999.0, float(fv.max()))
            xmin = np.append(xmin, fmin)
            xmax = np.append(xmax, fmax)
            nbins = np.append(nbins, self.n_cuts + 1)
            use = np.append(use, fmax > fmin)
        nv = len(use)
        cand = np.flatnonzero(use)
        if cand.size == 0:
            return 0.0
        width = (xmax - xmin) / nbins.astype(np.float64)
        with np.errstate(divide="ignore"):
            inv = 1.0 / width
        isint = np.append(self.is_int, False)[:nv]
        width[isint] = 1.0
        inv[isint] = 1.0
        # weighted and unweighted histograms per class, one row per candidate variable, padded to
        # the largest number of bins; bin index int(inv·(x − xmin)) (x >= xmin), capped at the last
        nbc = nbins[cand]
        width_max = int(nbc.max())
        ncand = cand.size
        n_rows = 6 if self.regression else 4
        last_bin = (nbins - 1).astype(np.intp)
        if root is not None and root.bins is None and root.reused:
            # the root's events and grid are the same for every tree of the training: their bins
            # (of every variable with a range) are computed once
            good = np.flatnonzero(~flat)
            width_all = int(nbins[good].max()) if good.size else 1
            # the smallest integer type that holds every bin (uint8 for nCuts < 256)
            btype = np.uint8 if width_all <= 256 else np.uint16 if width_all <= 65536 else np.intp
            root.bins = np.zeros((nvar, len(idx)), dtype=btype)
            if kern is not None:
                kern["bins"](self.XK, idx, good, xmin, inv, last_bin, root.bins)
            else:
                if xv is None:
                    xv = np.take(self.XT, idx, axis=1)
                root.bins[good] = _bins(xv[good], xmin[good], inv[good], last_bin[good])
            # and so are the numbers of events per bin
            root.counts = np.zeros((nvar, width_all))
            for jg in good.tolist():
                root.counts[jg] = np.bincount(root.bins[jg], minlength=width_all)
        counts = root.counts if root is not None else None
        if kern is not None and xv is None:
            H = np.zeros((n_rows, ncand, width_max))
            bins = root.bins if root is not None and root.bins is not None else self._no_bins
            kern["fill"](
                self.XK,
                bins,
                idx,
                self.is_sig,
                self.w,
                self.tg,
                self.regression,
                cand,
                xmin,
                inv,
                last_bin,
                counts is None,
                H,
            )
        else:
            if w is None or sig is None:
                w, sig = self.w[idx], self.is_sig[idx]
            tg = None
            if self.regression:
                assert self.target is not None
                tg = self.target[idx]
            if root is not None and root.bins is not None:
                bi = root.bins[cand]
            else:
                if xv is None:  # the range came from the shared bins, the values did not
                    xv = np.take(self.XT, idx, axis=1)
                bi = _bins(xv[cand], xmin[cand], inv[cand], last_bin[cand])
            H = _histograms(bi, w, sig, tg, width_max, counts is None)
        if counts is not None:
            H[2] = counts[cand, :width_max]
        C = np.cumsum(H, axis=2)  # sequential, bin after bin, as TMVA cumulates
        cs, cb, cns, cnb = C[0], C[1], C[2], C[3]
        tot_su, tot_bu = n_s, float(len(idx)) - n_s
        if kern is not None and self.cfg.sep_index is _GINI and not self.regression:
            kb, ci, total = kern["best_gini_cut"](
                C,
                nbc.astype(np.intp),
                float(s),
                float(b),
                tot_su,
                tot_bu,
                float(self.min_size),
                PRECISION_CUT,
            )
            if kb < 0 or not math.isfinite(total):
                return 0.0
            return self.set_cut(
                node, int(kb), int(ci), float(total), s, b, cand, C, nbins, xmin, width, fisher_coef
            )
        # candidate edges: every bin but the last of each variable
        edge = np.arange(width_max)[None, :] < (nbc - 1)[:, None]
        ok = (
            edge
            & ((cns + cnb) >= self.min_size)
            & (((tot_su - cns) + (tot_bu - cnb)) >= self.min_size)
            & ((cs + cb) >= self.min_size)
            & (((s - cs) + (b - cb)) >= self.min_size)
        )
        if not ok.any():
            return 0.0
        last = (nbc - 1)[:, None]
        if self.regression:
            ct, ct2 = C[4], C[5]
            gains = regression_variance_gain(
                cs + cb,
                ct,
                ct2,
                np.float64(s + b),
                np.take_along_axis(ct, last, axis=1),
                np.take_along_axis(ct2, last, axis=1),
            )
        else:
            assert self.cfg.sep_index is not None
            gains = separation_gain(self.cfg.sep_index, cs, cb, np.float64(s), np.float64(b))
        gains = np.where(ok & (gains > -1.0), gains, -np.inf)
        best_bin_c = np.argmax(gains, axis=1)  # first maximum per variable
        best_gain_c = gains[np.arange(cand.size), best_bin_c]
        kbest = int(np.argmax(best_gain_c))  # first variable with the largest gain
        if not np.isfinite(best_gain_c[kbest]):
            return 0.0
        return self.set_cut(
            node,
            kbest,
            int(best_bin_c[kbest]),
            float(best_gain_c[kbest]),
            s,
            b,
            cand,
            C,
            nbins,
            xmin,
            width,
            fisher_coef,
        )

    def set_cut(
        self,
        node: dict[str, Any],
        kbest: int,
        ci: int,
        total: float,
        s: float,
        b: float,
        cand: IntA,
        C: F64,
        nbins: npt.NDArray[np.int64],
        xmin: F64,
        width: F64,
        fisher_coef: F64 | None,
    ) -> float:
        """Store the chosen cut (candidate ``kbest``, after bin ``ci``, gain ``total``) in ``node``
        and the variable importance; returns the gain."""
        nvar = self.nvar
        mx = int(cand[kbest])
        if self.regression:
            if cand[0] == 0:  # the node's Σ w·t and Σ w·t² as TMVA reads them: variable 0's last bin
                n0 = int(nbins[0]) - 1
                ct_all, ct2_all = C[4][0][n0], C[5][0][n0]
            else:
                ct_all = ct2_all = 0.0
            node["response"] = ct_all / (s + b)
            mean2, mean = ct2_all / (s + b), ct_all / (s + b)
            node["rms"] = (
                0.0 if _almost_equal_double(mean2, mean * mean) else math.sqrt(max(mean2 - mean * mean, 0))
            )
            cut_type = True
        else:
            cs, cb = C[0][kbest], C[1][kbest]
            cut_type = bool(cs[ci] / s > cb[ci] / b)
        node["ivar"] = mx  # the Fisher variable has index nvar, as TMVA's selector
        node["cut"] = float(np.float32(xmin[mx] + float(ci + 1) * width[mx]))
        node["cut_type"] = cut_type
        weight2 = total * total * (s + b) * (s + b)
        if mx < nvar:
            self.importance[mx] += weight2
        else:
            assert fisher_coef is not None
            node["fisher"] = fisher_coef
            self.importance += fisher_coef[:nvar] ** 2 * weight2
        return total

    def fisher_for_node(
        self, idx: IntA, w: F64, sig: npt.NDArray[np.bool_], use: npt.NDArray[np.bool_]
    ) -> tuple[F64 | None, npt.NDArray[np.bool_]]:
        """Fisher coefficients (``DecisionTree::GetFisherCoefficients``) of the correlated variables."""
        nvar = self.nvar
        x = self.XT[:, idx].T
        in_fisher = np.zeros(nvar, dtype=bool)
        for cls in (sig, ~sig):
            ww = w[cls]
            if ww.sum() <= 0 or cls.sum() < 2:
                return None, in_fisher
            xc = x[cls]
            mean = ww @ xc / ww.sum()
            d = xc - mean
            cov = (d * ww[:, None]).T @ d / ww.sum()
            sd = np.sqrt(np.diag(cov))
            with np.errstate(divide="ignore", invalid="ignore"):
                corr = cov / np.outer(sd, sd)
            strong = np.abs(np.triu(np.nan_to_num(corr), 1)) > self.cfg.min_lin_corr_fisher
            in_fisher |= strong.any(axis=0) | strong.any(axis=1)
        fvars = np.flatnonzero(in_fisher & use)
        coef = np.zeros(nvar + 1)
        if fvars.size == 0:
            return None, in_fisher & use
        xs, xb = x[sig][:, fvars], x[~sig][:, fvars]
        wsg, wbg = w[sig], w[~sig]
        sws, swb = wsg.sum(), wbg.sum()
        ms, mb = wsg @ xs / sws, wbg @ xb / swb
        ds, db = xs - ms, xb - mb
        within = (ds * wsg[:, None]).T @ ds / sws + (db * wbg[:, None]).T @ db / swb
        det = abs(float(np.linalg.det(within)))
        if det < 10e-120:
            return None, in_fisher & use
        xfact = math.sqrt(sws * swb) / (sws + swb)
        c = xfact * (np.linalg.inv(within) @ (ms - mb))
        coef[fvars] = c
        coef[nvar] = -float(c @ (ms + mb)) / 2.0
        return coef, in_fisher & use

    # -------------------------------------------------------------- TrainNodeFull
    def train_node_full(self, node: dict[str, Any], idx: IntA, w: F64, sig: npt.NDArray[np.bool_]) -> float:
        assert self.cfg.sep_index is not None
        nvar = self.nvar
        use = np.ones(nvar, dtype=bool)
        if self.rng is not None:
            use[:] = False
            selected = 0
            while selected < self.use_nvars:
                use[int(self.rng.rndm() * nvar)] = True
                selected = int(use.sum())
        m = len(idx)
        best = (-1.0, -1, 0.0, False)
        for j in np.flatnonzero(use):
            order = np.argsort(self.X[idx, j], kind="stable")
            vals = self.XT[j, idx][order]
            wj, sj = w[order], sig[order]
            cs = np.cumsum(np.where(sj, wj, 0.0))
            cb = np.cumsum(np.where(sj, 0.0, wj))
            tot_s, tot_b = cs[-1], cb[-1]
            k = np.arange(1, m)
            dval = vals[1:] - vals[:-1]
            norm = np.abs(vals[1:] + vals[:-1])
            ok = (
                (k >= self.min_size) & ((m - k) >= self.min_size) & (np.abs(dval / (0.5 * norm + 1)) > 1.0e-6)
            )
            if not ok.any():
                continue
            gains = separation_gain(self.cfg.sep_index, cs[1:], cb[1:], tot_s, tot_b)
            gains = np.where(ok, gains, -np.inf)
            i = int(np.argmax(gains))
            if gains[i] > -1.0 and gains[i] > best[0]:
                cut = vals[i + 1] - 0.5 * dval[i]
                ctype = bool(cs[i + 1] / tot_s > cb[i + 1] / tot_b)
                best = (float(gains[i]), int(j), float(cut), ctype)
        gain, mx, cut, ctype = best
        if mx < 0:
            return 0.0
        node["ivar"], node["cut"], node["cut_type"] = mx, float(np.float32(cut)), ctype
        s, b = node["nsig"], node["nbkg"]
        self.importance[mx] += gain * gain * (s + b) * (s + b)
        return gain

    # -------------------------------------------------------------- result
    def finish(self) -> DecisionTree:
        nodes = self.nodes
        n = len(nodes)
        fisher = np.zeros((n, self.nvar + 1))
        n_coef = np.zeros(n, dtype=np.intp)
        for i, nd in enumerate(nodes):
            if nd["fisher"] is not None:
                fisher[i] = nd["fisher"]
                n_coef[i] = self.nvar + 1

        def arr(key: str, dtype: Any) -> Any:
            return np.array([nd[key] for nd in nodes], dtype=dtype)

        return DecisionTree(
            left=arr("left", np.intp),
            right=arr("right", np.intp),
            depth=arr("depth", np.intp),
            ivar=arr("ivar", np.intp),
            cut=arr("cut", np.float32),
            cut_type=arr("cut_type", bool),
            node_type=arr("node_type", np.intp),
            purity=arr("purity", np.float32),
            response=arr("response", np.float32),
            rms=arr("rms", np.float32),
            fisher=fisher,
            n_coef=n_coef,
            nsig=arr("nsig", np.float64),
            nbkg=arr("nbkg", np.float64),
            regression=self.regression,
            importance=self.importance,
            event_leaf=self.event_leaf,
        )


def _histograms(
    bi: npt.NDArray[np.integer[Any]],
    w: F64,
    sig: npt.NDArray[np.bool_],
    tg: F64 | None,
    width: int,
    with_counts: bool,
) -> F64:
    """The node's histograms from the bins ``bi`` (n_candidates, m) of its events (numpy path).

    Returns (4 or 6, n_candidates, width): signal and background weight, the number of events
    (row 2; row 3 zero), regression Σ w·t and Σ w·t² (rows 4, 5); one ``bincount`` per variable and
    quantity, each adding a bin's events in the node's order (as TMVA's loop over events does).
    """
    ncand = bi.shape[0]
    H = np.zeros((4 if tg is None else 6, ncand, width))
    to_bkg = np.where(sig, 0, width)
    wt = None if tg is None else w * tg
    wt2 = None if tg is None or wt is None else wt * tg
    for k in range(ncand):
        H[0:2, k] = np.bincount(bi[k] + to_bkg, weights=w, minlength=2 * width).reshape(2, width)
        if with_counts:
            H[2, k] = np.bincount(bi[k], minlength=width)
        if wt is not None and wt2 is not None:
            H[4, k] = np.bincount(bi[k], weights=wt, minlength=width)
            H[5, k] = np.bincount(bi[k], weights=wt2, minlength=width)
    return H


def _bins(v: F64, xmin: F64, inv: F64, last: IntA) -> IntA:
    """Bin index ``min(int((x − xmin)·inv), last)`` of each value, one row per variable (``v`` is
    overwritten)."""
    v -= xmin[:, None]
    v *= inv[:, None]
    bi = v.astype(np.intp)
    np.minimum(bi, last[:, None], out=bi)
    return bi


def _seqsum(a: F64) -> float:
    """Left-to-right sum (as a C++ loop adds), not numpy's pairwise sum."""
    return float(np.cumsum(a)[-1]) if len(a) else 0.0


def _almost_equal_float(x: float, y: float, ulp: int = 4) -> bool:
    fx, fy = np.float32(x), np.float32(y)
    d = abs(float(fx) - float(fy))
    return d < _FEPS * abs(float(fx) + float(fy)) * ulp or d < _FMIN


def _almost_equal_floats(x: F64, y: F64, ulp: int = 4) -> npt.NDArray[np.bool_]:
    """:func:`_almost_equal_float` of each pair (the same float64 arithmetic on arrays)."""
    fx = x.astype(np.float32).astype(np.float64)
    fy = y.astype(np.float32).astype(np.float64)
    d = np.abs(fx - fy)
    return (d < _FEPS * np.abs(fx + fy) * ulp) | (d < _FMIN)


def _almost_equal_double(x: float, y: float, ulp: int = 4) -> bool:
    d = abs(x - y)
    return d < _EPS * abs(x + y) * ulp or d < float(np.finfo(np.float64).tiny)


def grow_tree(
    cfg: TreeConfig,
    X: F32,
    XT: F64,
    is_sig: npt.NDArray[np.bool_],
    weights: F64,
    sample: IntA,
    target: F64 | None = None,
    cache: GrowthCache | None = None,
) -> DecisionTree:
    """Grow one tree on the events ``sample`` (indices into ``X``; repeated indices are bagged copies).

    Parameters
    ----------
    cfg : TreeConfig
    X : ndarray of float32, shape (n_events, n_variables)
    XT : ndarray of float64, shape (n_variables, n_events)
        ``X.T`` as float64 (the node-local binning is computed in double precision, as in TMVA).
    is_sig : ndarray of bool, shape (n_events,)
        The tree's signal class (for regression trees: all true).
    weights : ndarray of float64, shape (n_events,)
        Current event weights (original × boost weight).
    sample : ndarray of intp
        The training sample of this tree, in TMVA's order.
    target : ndarray of float64, optional
        Regression target (regression trees).
    cache : GrowthCache, optional
        Shared by the trees of one training: the root's grid and bins are computed once (the
        same tree as without it).

    Returns
    -------
    DecisionTree

    Raises
    ------
    ModelError
        If ``sample`` is empty, or a split sends every event to one side.
    """
    if len(sample) == 0:
        raise ModelError("BDT: <BuildTree> event sample size == 0 (no training events with non-zero weight)")
    sample = np.asarray(sample, dtype=np.intp)
    root = None
    if cache is not None and cfg.n_cuts > 0:
        root = cache.root_for(XT, sample, cfg.n_cuts, cfg.integer_vars)
    builder = _Builder(cfg, X, XT, is_sig, weights, target, len(sample), root, cache)
    return builder.build(sample)


# ---------------------------------------------------------------------------------------------- pruning
def _subtree(tree: DecisionTree, node: int) -> list[int]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        if tree.left[n] >= 0:
            stack.extend((int(tree.left[n]), int(tree.right[n])))
    return out


def _prune_node(tree: DecisionTree, node: int, purity_limit: float, removed: dict[int, int]) -> None:
    """``DecisionTree::PruneNode``: the node becomes a leaf, its cut value is kept.

    ``removed`` maps every node removed so far to the node that became a leaf above it.
    """
    for n in _subtree(tree, node)[1:]:
        removed[n] = node
    tree.left[node] = tree.right[node] = -1
    tree.ivar[node] = -1
    tree.node_type[node] = 1 if tree.purity[node] > purity_limit else -1


def _compact(tree: DecisionTree, removed: dict[int, int]) -> DecisionTree:
    if not removed:
        return tree
    keep = np.array([i for i in range(tree.n_nodes) if i not in removed], dtype=np.intp)
    new_index = np.full(tree.n_nodes, -1, dtype=np.intp)
    new_index[keep] = np.arange(len(keep))

    def remap(a: IntA) -> IntA:
        a = a[keep]
        return np.where(a >= 0, new_index[np.maximum(a, 0)], -1)

    event_leaf = None
    if tree.event_leaf is not None:
        # an event of a removed node ends in the node that was made a leaf above it
        final = np.arange(tree.n_nodes)
        for r, a in removed.items():
            while a in removed:
                a = removed[a]
            final[r] = a
        # one look-up per event: table[leaf + 1] (entry 0 for the events outside the sample, -1)
        table = np.concatenate([[-1], new_index[final]]).astype(np.intp)
        event_leaf = table[tree.event_leaf + 1]

    return DecisionTree(
        left=remap(tree.left),
        right=remap(tree.right),
        depth=tree.depth[keep],
        ivar=tree.ivar[keep],
        cut=tree.cut[keep],
        cut_type=tree.cut_type[keep],
        node_type=tree.node_type[keep],
        purity=tree.purity[keep],
        response=tree.response[keep],
        rms=tree.rms[keep],
        fisher=tree.fisher[keep],
        n_coef=tree.n_coef[keep],
        nsig=tree.nsig[keep],
        nbkg=tree.nbkg[keep],
        regression=tree.regression,
        importance=tree.importance,
        event_leaf=event_leaf,
    )


def clean_tree(tree: DecisionTree, purity_limit: float) -> DecisionTree:
    """``DecisionTree::CleanTree``: merge sibling leaves of the same type, bottom up."""
    removed: dict[int, int] = {}

    def visit(n: int) -> None:
        if tree.node_type[n] != 0:
            return
        lft, rgt = int(tree.left[n]), int(tree.right[n])
        visit(lft)
        visit(rgt)
        if tree.node_type[lft] * tree.node_type[rgt] > 0:
            _prune_node(tree, n, purity_limit, removed)

    visit(0)
    return _compact(tree, removed)


def cost_complexity_prune(tree: DecisionTree, strength: float, purity_limit: float) -> DecisionTree:
    """``CostComplexityPruneTool`` with a fixed ``PruneStrength`` (percent of the pruning sequence).

    ``R(t) = (s+b)·Gini(s, b)`` of each node's training weights; the weakest link (smallest
    ``α = (R(t) − R(T_t))/(|T_t| − 1)``) is pruned repeatedly until the root would be next; the first
    ``int(strength/100 · len(sequence))`` prunes of that sequence are applied.
    """
    from .separation import SEPARATION_INDEX

    gini = SEPARATION_INDEX["giniindex"]
    n = tree.n_nodes
    s, b = tree.nsig, tree.nbkg
    node_r = (s + b) * gini(s, b)
    parent = np.full(n, -1, dtype=np.intp)
    for i in range(n):
        if tree.left[i] >= 0:
            parent[tree.left[i]] = parent[tree.right[i]] = i
    n_term = np.ones(n)
    sub_r = node_r.copy()
    alpha = np.full(n, np.inf)
    amin = np.full(n, np.inf)
    terminal = tree.left < 0

    def update(i: int) -> None:
        lft, rgt = tree.left[i], tree.right[i]
        n_term[i] = n_term[lft] + n_term[rgt]
        sub_r[i] = sub_r[lft] + sub_r[rgt]
        alpha[i] = (node_r[i] - sub_r[i]) / (n_term[i] - 1)
        amin[i] = min(alpha[i], min(amin[lft], amin[rgt]))

    def init(i: int) -> None:
        if not terminal[i]:
            init(int(tree.left[i]))
            init(int(tree.right[i]))
            update(i)

    init(0)
    sequence: list[int] = []
    while n_term[0] > 1:
        if amin[0] >= alpha[0]:
            break
        t = 0
        while amin[t] < alpha[t]:
            if abs(amin[t] - amin[tree.left[t]]) < _EPS:
                t = int(tree.left[t])
            else:
                t = int(tree.right[t])
        if t == 0:
            break
        # prune in place: t becomes terminal
        n_term[t] = 1
        sub_r[t] = node_r[t]
        alpha[t] = amin[t] = np.inf
        terminal[t] = True
        sequence.append(t)
        p = t
        while p != 0:
            p = int(parent[p])
            lft, rgt = tree.left[p], tree.right[p]
            n_term[p] = n_term[lft] + n_term[rgt]
            sub_r[p] = sub_r[lft] + sub_r[rgt]
            alpha[p] = (node_r[p] - sub_r[p]) / (n_term[p] - 1)
            amin[p] = min(alpha[p], min(amin[lft], amin[rgt]))
    if not sequence:
        return tree
    k = int(strength / 100.0 * len(sequence))
    removed: dict[int, int] = {}
    for node in sequence[:k]:
        if node not in removed:
            _prune_node(tree, node, purity_limit, removed)
    return _compact(tree, removed)


# ---------------------------------------------------------------------------------------------- XML
def _fmt(x: float) -> str:
    return f"{float(x):.16e}"


def tree_to_xml(tree: DecisionTree, parent: ET.Element) -> ET.Element:
    """Append ``<BinaryTree type="DecisionTree">`` with the nested ``<Node>`` elements (TMVA's layout)."""
    bt = ET.SubElement(parent, "BinaryTree", {"type": "DecisionTree"})

    def write(i: int, into: ET.Element, pos: str) -> None:
        attrs = {"pos": pos, "depth": str(int(tree.depth[i])), "NCoef": str(int(tree.n_coef[i]))}
        for c in range(int(tree.n_coef[i])):
            attrs[f"fC{c}"] = _fmt(tree.fisher[i, c])
        attrs.update(
            {
                "IVar": str(int(tree.ivar[i])),
                "Cut": _fmt(tree.cut[i]),
                "cType": "1" if tree.cut_type[i] else "0",
                "res": _fmt(tree.response[i]),
                "rms": _fmt(tree.rms[i]),
                "purity": _fmt(tree.purity[i]),
                "nType": str(int(tree.node_type[i])),
            }
        )
        el = ET.SubElement(into, "Node", attrs)
        if tree.left[i] >= 0:
            write(int(tree.left[i]), el, "l")
            write(int(tree.right[i]), el, "r")

    write(0, bt, "s")
    return bt


def tree_from_xml(
    bt: ET.Element, n_vars: int, regression: bool, source: str = "weights file"
) -> DecisionTree:
    """Read one ``<BinaryTree>`` (``DecisionTree::ReadXML``/``DecisionTreeNode::ReadAttributes``).

    Raises
    ------
    ModelError
        For a missing root node, a missing or malformed attribute, a cut variable out of range or an
        internal node without two daughters.
    """
    root = bt.find("Node")
    if root is None:
        raise ModelError(f"{source}: <BinaryTree> without a <Node>")
    rows: list[dict[str, Any]] = []

    def num(el: ET.Element, name: str, conv: Callable[[str], Any], default: Any = None) -> Any:
        text = el.get(name)
        if text is None:
            if default is not None:
                return default
            raise ModelError(f"{source}: <Node> without the attribute {name} ({el.attrib})")
        try:
            return conv(text)
        except ValueError:
            raise ModelError(f"{source}: <Node {name}={text!r}> is not a number") from None

    stack: list[tuple[ET.Element, int, str]] = [(root, -1, "s")]
    while stack:
        el, par, pos = stack.pop()
        n_coef = num(el, "NCoef", int, 0)
        coefs = [num(el, f"fC{c}", float) for c in range(n_coef)]
        if n_coef and n_coef != n_vars + 1:
            raise ModelError(f"{source}: a Fisher node has NCoef={n_coef}, expected {n_vars + 1}")
        if el.get("purity") is not None:
            purity = num(el, "purity", float)
        else:
            ns, nb = num(el, "nS", float), num(el, "nB", float)
            purity = ns / (ns + nb) if ns + nb else 0.5
        ivar = num(el, "IVar", int)
        if ivar > n_vars or ivar < -1 or (ivar == n_vars and n_coef == 0):
            raise ModelError(f"{source}: <Node IVar={ivar}> but the file has {n_vars} variables")
        row = {
            "parent": par,
            "pos": el.get("pos", pos),
            "depth": num(el, "depth", int, 0),
            "ivar": ivar,
            "cut": num(el, "Cut", float),
            "cut_type": bool(num(el, "cType", lambda t: int(float(t)))),
            "response": num(el, "res", float, -99.0),
            "rms": num(el, "rms", float, 0.0),
            "purity": purity,
            "node_type": num(el, "nType", int),
            "coefs": coefs,
            "left": -1,
            "right": -1,
        }
        me = len(rows)
        rows.append(row)
        if par >= 0:
            side = "left" if row["pos"] == "l" else "right"
            rows[par][side] = me
        kids = [k for k in el if k.tag == "Node"]
        stack.extend((k, me, k.get("pos", "l")) for k in reversed(kids))
    for r in rows:
        if r["node_type"] == 0 and (r["left"] < 0 or r["right"] < 0):
            raise ModelError(f"{source}: an internal <Node> (nType=0) without two daughters")
    n = len(rows)
    fisher = np.zeros((n, n_vars + 1))
    n_coef_a = np.zeros(n, dtype=np.intp)
    for i, r in enumerate(rows):
        if r["coefs"]:
            fisher[i] = r["coefs"]
            n_coef_a[i] = len(r["coefs"])

    def arr(key: str, dtype: Any) -> Any:
        return np.array([r[key] for r in rows], dtype=dtype)

    return DecisionTree(
        left=arr("left", np.intp),
        right=arr("right", np.intp),
        depth=arr("depth", np.intp),
        ivar=arr("ivar", np.intp),
        cut=arr("cut", np.float32),
        cut_type=arr("cut_type", bool),
        node_type=arr("node_type", np.intp),
        purity=arr("purity", np.float32),
        response=arr("response", np.float32),
        rms=arr("rms", np.float32),
        fisher=fisher,
        n_coef=n_coef_a,
        nsig=np.zeros(n),
        nbkg=np.zeros(n),
        regression=regression,
        importance=np.zeros(n_vars),
    )


def forest_leaf_values(trees: Sequence[DecisionTree], X: F32, use_yes_no_leaf: bool, strict: bool) -> F64:
    """Leaf value of every tree for every event, shape (n_trees, n_events) (float64)."""
    out = np.empty((len(trees), len(X)))
    for t, tree in enumerate(trees):
        out[t] = tree.leaf_values(use_yes_no_leaf)[tree.apply(X, strict=strict)]
    return out
