"""The vectorised tree growth (one ``bincount``, or numba's compiled pass) grows the same trees as
a straightforward event-by-event ``TrainNodeFast`` written out here from TMVA's definition, and the
leaves it records while growing are the ones a walk through the finished tree finds."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from pymva import extras
from pymva.errors import MissingExtraError
from pymva.methods import nodehistograms
from pymva.methods.decisiontree import DecisionTree, TreeConfig, clean_tree, grow_tree
from pymva.methods.separation import SEPARATION_INDEX, separation_gain


@pytest.fixture(params=["numpy", "numba"])
def path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test with the numpy path and, where numba is installed, with the numba kernels."""
    if request.param == "numba":
        request.getfixturevalue("numba_installed")
    previous = nodehistograms.use_numba(request.param == "numba")
    try:
        yield str(request.param)
    finally:
        nodehistograms.use_numba(previous)


def _almost_equal_float(x: float, y: float) -> bool:
    """TMVA's ``TMath::AlmostEqual`` on the float32 values (4 ulps)."""
    fx, fy = float(np.float32(x)), float(np.float32(y))
    eps, tiny = float(np.finfo(np.float32).eps), float(np.finfo(np.float32).tiny)
    return abs(fx - fy) < eps * abs(fx + fy) * 4 or abs(fx - fy) < tiny


def _reference_tree(
    X: np.ndarray,
    is_sig: np.ndarray,
    w: np.ndarray,
    sample: list[int],
    n_cuts: int,
    min_pct: float,
    depth: int,
) -> dict[str, Any]:
    """``BuildTree``/``TrainNodeFast`` event by event with Python floats: the node-local grid of
    ``n_cuts+1`` bins per variable, bin sums in event order, every edge whose sides hold
    ``MinSize`` events and weight, the first largest Gini gain; returns the tree as nested dicts."""
    sep = SEPARATION_INDEX["giniindex"]
    min_size = min_pct / 100.0 * len(sample)
    nvar = X.shape[1]

    def grow(idx: list[int], d: int) -> dict[str, Any]:
        s = b = 0.0
        for i in idx:
            if is_sig[i]:
                s += float(w[i])
            else:
                b += float(w[i])
        node: dict[str, Any] = {"purity": np.float32(s / (s + b)), "events": sorted(set(idx))}
        best_gain, best = -1.0, None
        if len(idx) >= 2 * min_size and s + b >= 2 * min_size and d < depth and s != 0 and b != 0:
            n_s = sum(1 for i in idx if is_sig[i])
            n_b = len(idx) - n_s
            for j in range(nvar):
                vals = [float(X[i, j]) for i in idx]
                lo, hi = min(vals), max(vals)
                if _almost_equal_float(hi, lo):
                    continue
                nb = n_cuts + 1
                width = (hi - lo) / nb
                inv = 1.0 / width
                hs, hb, cs_n, cb_n = [0.0] * nb, [0.0] * nb, [0] * nb, [0] * nb
                for i, x in zip(idx, vals, strict=True):
                    k = min(int((x - lo) * inv), nb - 1)
                    if is_sig[i]:
                        hs[k] += float(w[i])
                        cs_n[k] += 1
                    else:
                        hb[k] += float(w[i])
                        cb_n[k] += 1
                cs = cb = 0.0
                ns = nbk = 0
                var_gain, var_cut = -math.inf, None
                for k in range(nb - 1):
                    cs, cb, ns, nbk = cs + hs[k], cb + hb[k], ns + cs_n[k], nbk + cb_n[k]
                    if (
                        ns + nbk < min_size
                        or (n_s - ns) + (n_b - nbk) < min_size
                        or cs + cb < min_size
                        or (s - cs) + (b - cb) < min_size
                    ):
                        continue
                    g = float(
                        separation_gain(sep, np.float64(cs), np.float64(cb), np.float64(s), np.float64(b))
                    )
                    if g > -1.0 and g > var_gain:
                        var_gain, var_cut = g, (k, cs / s > cb / b)
                if var_cut is not None and var_gain > best_gain:
                    k, ctype = var_cut
                    best_gain, best = var_gain, (j, np.float32(lo + float(k + 1) * width), ctype)
        if best is None or best_gain < np.finfo(np.float64).eps:
            node["type"] = 1 if node["purity"] > 0.5 else -1
            return node
        j, cut, ctype = best
        right = [i for i in idx if bool(X[i, j] >= cut) == ctype]
        left = [i for i in idx if bool(X[i, j] >= cut) != ctype]
        node.update(type=0, ivar=j, cut=cut, ctype=ctype, right=grow(right, d + 1), left=grow(left, d + 1))
        return node

    return grow(sample, 0)


def _compare(
    tree: DecisionTree, ref: dict[str, Any], X: np.ndarray, inside: np.ndarray | None = None
) -> None:
    """Same nodes, cuts, cut types, purities and leaf types; each leaf holds the reference's events
    (of those in the tree's sample: ``inside``)."""
    leaf = tree.apply(X)
    if inside is not None:
        keep = np.full(len(X), -1)
        keep[inside] = leaf[inside]
        leaf = keep
    stack = [(0, ref)]
    while stack:
        n, r = stack.pop()
        assert tree.node_type[n] == r["type"]
        assert tree.purity[n] == r["purity"]
        if r["type"] == 0:
            assert (tree.ivar[n], tree.cut[n], bool(tree.cut_type[n])) == (r["ivar"], r["cut"], r["ctype"])
            stack += [(int(tree.left[n]), r["left"]), (int(tree.right[n]), r["right"])]
        else:
            np.testing.assert_array_equal(np.flatnonzero(leaf == n), r["events"])


def _data(seed: int, n: int = 240, nvar: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    is_sig = rng.random(n) < 0.5
    X = (rng.normal(size=(n, nvar)) + np.where(is_sig, 0.6, -0.6)[:, None]).astype(np.float32)
    w = rng.uniform(0.2, 2.0, n)  # arbitrary weights: the bin sums are not exact integers
    return X, is_sig, w


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_growth_matches_event_by_event_train_node_fast(path: str, seed: int) -> None:
    X, is_sig, w = _data(seed)
    rng = np.random.default_rng(seed + 10)
    sample = np.sort(rng.integers(0, len(X), len(X)))  # bagged: repeated events, in order
    cfg = TreeConfig(sep_index=SEPARATION_INDEX["giniindex"], n_cuts=7, min_node_size=4.0, max_depth=3)
    tree = grow_tree(cfg, X, np.ascontiguousarray(X.T, dtype=np.float64), is_sig, w, sample)
    ref = _reference_tree(X, is_sig, w, sample.tolist(), 7, 4.0, 3)
    assert tree.n_nodes >= 5  # the test means something only if the trees are grown
    _compare(tree, ref, X, inside=np.unique(sample))


def test_growth_matches_reference_with_unit_weights(path: str) -> None:
    X, is_sig, _ = _data(5, n=300)
    w = np.ones(len(X))
    cfg = TreeConfig(sep_index=SEPARATION_INDEX["giniindex"], n_cuts=20, min_node_size=2.5, max_depth=3)
    tree = grow_tree(cfg, X, np.ascontiguousarray(X.T, dtype=np.float64), is_sig, w, np.arange(len(X)))
    assert tree.n_nodes >= 5
    _compare(tree, _reference_tree(X, is_sig, w, list(range(len(X))), 20, 2.5, 3), X)


def test_leaves_recorded_while_growing_are_the_walked_leaves(path: str) -> None:
    X, is_sig, w = _data(7, n=400)
    sample = np.sort(np.random.default_rng(8).integers(0, len(X), 300))
    cfg = TreeConfig(sep_index=SEPARATION_INDEX["giniindex"], n_cuts=10, min_node_size=2.0, max_depth=4)
    tree = grow_tree(cfg, X, np.ascontiguousarray(X.T, dtype=np.float64), is_sig, w, sample)
    assert tree.event_leaf is not None
    walked = tree.apply(X)
    inside = np.unique(sample)
    np.testing.assert_array_equal(tree.event_leaf[inside], walked[inside])
    assert (np.delete(tree.event_leaf, inside) == -1).all()
    # after merging sibling leaves of one type the events end in the merged node
    cleaned = clean_tree(tree, 0.5)
    assert cleaned.n_nodes < tree.n_nodes
    assert cleaned.event_leaf is not None
    np.testing.assert_array_equal(cleaned.event_leaf[inside], cleaned.apply(X)[inside])


@pytest.mark.usefixtures("numba_installed")
@pytest.mark.parametrize("regression", [False, True])
def test_numba_and_numpy_paths_grow_identical_trees(regression: bool) -> None:
    X, is_sig, w = _data(11, n=500, nvar=4)
    X[:, 3] = np.round(X[:, 3] * 2)  # an integer variable: one bin per integer
    target = (X[:, 0] * 1.5 - X[:, 1] ** 2).astype(np.float64) if regression else None
    cfg = TreeConfig(
        sep_index=None if regression else SEPARATION_INDEX["crossentropy"],
        n_cuts=13,
        min_node_size=1.0,
        max_depth=4,
        integer_vars=(False, False, False, True),
    )
    XT = np.ascontiguousarray(X.T, dtype=np.float64)
    sample = np.arange(len(X))
    trees = []
    for flag in (False, True):
        previous = nodehistograms.use_numba(flag)
        try:
            trees.append(
                grow_tree(cfg, X, XT, np.ones(len(X), bool) if regression else is_sig, w, sample, target)
            )
        finally:
            nodehistograms.use_numba(previous)
    a, b = trees
    assert a.n_nodes >= 7
    for name in (
        "left",
        "right",
        "ivar",
        "cut",
        "cut_type",
        "node_type",
        "purity",
        "response",
        "rms",
        "importance",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_numba_extra_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYMVA_NUMBA", "0")
    assert extras.numba() is None
    with pytest.raises(MissingExtraError, match=r"pip install pymva\[numba\]"):
        extras.numba(required=True)
