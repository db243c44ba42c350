"""The per-event forest evaluation (rank tables of leaf bit masks) against closed forms and ``apply``.

A hand-made two-node tree gives the leaf values by inspection; random trees (any depth, both cut
types, repeated cuts, single-leaf trees, more than 255 trees) must give, event by event, the float64
sum ``0 + v_0 + v_1 + …`` of the leaves :meth:`DecisionTree.apply` finds, bit for bit, in both
layouts of the masks (at most 8 leaves per tree, and more).
"""

from __future__ import annotations

import numpy as np
import pytest

from pymva.methods.decisiontree import DecisionTree
from pymva.methods.forestevent import forest_event_function


def _tree(
    left: list[int], right: list[int], ivar: list[int], cut: list[float], cut_type: list[bool]
) -> DecisionTree:
    n = len(left)
    internal = np.array(left) >= 0
    return DecisionTree(
        left=np.array(left, dtype=np.intp),
        right=np.array(right, dtype=np.intp),
        depth=np.zeros(n, dtype=np.intp),
        ivar=np.array(ivar, dtype=np.intp),
        cut=np.array(cut, dtype=np.float32),
        cut_type=np.array(cut_type, dtype=bool),
        node_type=np.where(internal, 0, 1).astype(np.intp),
        purity=np.zeros(n, dtype=np.float32),
        response=np.zeros(n, dtype=np.float32),
        rms=np.zeros(n, dtype=np.float32),
        fisher=np.zeros((n, 1)),
        n_coef=np.zeros(n, dtype=np.intp),
        nsig=np.zeros(n),
        nbkg=np.zeros(n),
    )


def _random_tree(rng: np.random.Generator, depth: int, nvar: int, grid: np.ndarray) -> DecisionTree:
    """A random tree, pre-order, leaves anywhere up to ``depth``; cuts drawn from a small grid (ties)."""
    left: list[int] = []
    right: list[int] = []
    ivar: list[int] = []
    cut: list[float] = []
    cut_type: list[bool] = []

    def grow(level: int) -> int:
        node = len(left)
        left.append(-1)
        right.append(-1)
        ivar.append(int(rng.integers(nvar)))
        cut.append(float(rng.choice(grid)))
        cut_type.append(bool(rng.integers(2)))
        if level < depth and (level == 0 or rng.random() < 0.8):
            left[node] = grow(level + 1)
            right[node] = grow(level + 1)
        return node

    grow(0)
    return _tree(left, right, ivar, cut, cut_type)


def test_two_node_tree_by_hand() -> None:
    # root: right when x0 >= 0.5 (leaf 2: 3.0); left daughter: right when NOT x1 >= -1 (leaf 4: 5.0)
    tree = _tree(
        [1, 3, -1, -1, -1],
        [2, 4, -1, -1, -1],
        [0, 1, 0, 0, 0],
        [0.5, -1.0, 0, 0, 0],
        [True, False] * 2 + [True],
    )
    values = np.array([0.0, 0.0, 3.0, 7.0, 5.0])
    f = forest_event_function([tree], [values], 2)
    g = forest_event_function([tree], [values], 2, strict=True)
    assert f is not None
    assert g is not None
    assert f([0.5, 9.0]) == 3.0  # x0 >= 0.5
    assert g([0.5, 9.0]) == 7.0  # strict: 0.5 > 0.5 is false -> left; x1 > -1 -> left of the daughter
    assert f([0.0, -1.0]) == 7.0  # x1 >= -1: cutType false -> left
    assert g([0.0, -1.0]) == 5.0  # strict: -1 > -1 false -> right
    assert f([0.0, -3.0]) == 5.0


@pytest.mark.parametrize(("n_trees", "depth", "nvar"), [(40, 3, 3), (300, 2, 4), (25, 6, 5), (3, 0, 2)])
@pytest.mark.parametrize("strict", [False, True])
def test_random_forests_equal_apply(n_trees: int, depth: int, nvar: int, strict: bool) -> None:
    rng = np.random.default_rng(n_trees * 10 + depth)
    grid = np.linspace(-2.0, 2.0, 9).astype(np.float32)
    trees = [_random_tree(rng, depth, nvar, grid) for _ in range(n_trees)]
    values = [rng.normal(size=t.n_nodes) * rng.uniform(0.1, 3.0) for t in trees]
    f = forest_event_function(trees, values, nvar, strict=strict)
    assert f is not None
    # events on the cut grid (ties with the cuts) and in between
    X = np.concatenate([rng.choice(grid, (100, nvar)), rng.normal(0, 1.5, (200, nvar))]).astype(np.float32)
    expected = np.zeros(len(X))
    for tree, v in zip(trees, values, strict=True):
        expected += v[tree.apply(X, strict=strict)]
    got = np.array([f(row) for row in X.tolist()])
    np.testing.assert_array_equal(got, expected)
