"""The compiled per-event forest walk (padded complete trees) against closed forms and the array path.

A hand-made two-node tree gives the leaf values by inspection; random trees (leaves at any depth,
both cut types, ties with the cuts, single-leaf trees, tree counts that are not multiples of the
four trees walked side by side) must give, event by event, the float64 sum ``0 + v_0 + v_1 + …`` of
the leaves :meth:`DecisionTree.apply` finds, bit for bit; the multiclass sums and the weighted
average likewise.  Trained BDTs (AdaBoost, Grad, multiclass, regression) are checked against the
sums their array path forms; forests with Fisher-cut nodes and a disabled numba fall back.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from pymva.data.dataset import Sample
from pymva.methods import forestwalk
from pymva.methods.bdt import MethodBDT
from pymva.methods.forestwalk import forest_walk_batch, forest_walk_function
from pymva.types import EAnalysisType

sys.path.insert(0, str(Path(__file__).parent))
from test_bdt import _context
from test_forestevent import _random_tree, _tree

pytestmark = pytest.mark.usefixtures("numba_installed")  # fails, never skips, without numba


def _array_sum(trees: list, values: list, X: np.ndarray, strict: bool) -> np.ndarray:
    """The array path's sum: 0.0, then each tree's leaf value added in tree order (float64)."""
    total = np.zeros(len(X))
    for tree, v in zip(trees, values, strict=True):
        total += v[tree.apply(X, strict=strict)]
    return total


def _forest(n_trees: int, depth: int, nvar: int, seed: int) -> tuple[list, list, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    grid = np.linspace(-2.0, 2.0, 9).astype(np.float32)
    trees = [_random_tree(rng, depth, nvar, grid) for _ in range(n_trees)]
    values = [rng.normal(size=t.n_nodes) * rng.uniform(0.1, 3.0) for t in trees]
    # events on the cut grid (ties with the cuts) and in between
    X = np.concatenate([rng.choice(grid, (100, nvar)), rng.normal(0, 1.5, (200, nvar))]).astype(np.float32)
    return trees, values, X, grid


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
    f = forest_walk_function([tree], [values], 2)
    g = forest_walk_function([tree], [values], 2, strict=True)
    assert f is not None
    assert g is not None
    assert f([0.5, 9.0]) == 3.0  # x0 >= 0.5; the leaf at depth 1 is replicated down to depth 2
    assert g([0.5, 9.0]) == 7.0  # strict: 0.5 > 0.5 is false -> left; x1 > -1 -> left of the daughter
    assert f([0.0, -1.0]) == 7.0  # x1 >= -1: cutType false -> left
    assert g([0.0, -1.0]) == 5.0  # strict: -1 > -1 false -> right
    assert f([0.0, -3.0]) == 5.0
    # float64 inputs are rounded to float32 first, as the array path's float32 matrix holds them
    assert f([float(np.nextafter(np.float32(0.5), np.float32(0.0))), 9.0]) == 7.0
    assert f((0.5 - 1e-12, 9.0)) == 3.0  # rounds to 0.5f


@pytest.mark.parametrize(
    ("n_trees", "depth", "nvar"), [(41, 3, 3), (302, 2, 4), (25, 6, 5), (3, 0, 2), (7, 1, 1), (850, 3, 4)]
)
@pytest.mark.parametrize("strict", [False, True])
def test_random_forests_equal_apply(n_trees: int, depth: int, nvar: int, strict: bool) -> None:
    trees, values, X, _ = _forest(n_trees, depth, nvar, n_trees * 10 + depth)
    f = forest_walk_function(trees, values, nvar, strict=strict)
    assert f is not None
    got = np.array([f(row) for row in X.tolist()])
    np.testing.assert_array_equal(got, _array_sum(trees, values, X, strict))


def test_weighted_average_and_class_sums() -> None:
    trees, values, X, _ = _forest(23, 3, 3, 7)
    expected = _array_sum(trees, values, X, False)
    norm = 3.7
    f = forest_walk_function(trees, values, 3, norm=norm)
    assert f is not None
    np.testing.assert_array_equal(
        np.array([f(row) for row in X.tolist()]), (expected / norm).astype(np.float32).astype(np.float64)
    )
    zero = forest_walk_function(trees, values, 3, norm=1e-17)  # Σ bw <= eps: 0, as the array path
    assert zero is not None
    assert zero(X[0].tolist()) == 0.0
    # tree t adds to sum t % k: the multiclass forests' per-class sums
    k = 4
    sums = forest_walk_function(trees, values, 3, n_slots=k)
    assert sums is not None
    expected_k = np.zeros((len(X), k))
    for t, (tree, v) in enumerate(zip(trees, values, strict=True)):
        expected_k[:, t % k] += v[tree.apply(X)]
    np.testing.assert_array_equal(np.array([sums(row) for row in X.tolist()]), expected_k)


def test_refusals_and_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    trees, values, _, _ = _forest(5, 3, 2, 1)
    with pytest.raises(ValueError, match="n_slots"):
        forest_walk_function(trees, values, 2, n_slots=0)
    with pytest.raises(ValueError, match="norm"):
        forest_walk_function(trees, values, 2, n_slots=2, norm=1.0)
    with pytest.raises(ValueError, match="one per tree"):
        forest_walk_function(trees, values[:2], 2)
    assert forest_walk_function([], [], 2) is None
    f = forest_walk_function(trees, values, 2)
    assert f is not None
    with pytest.raises(ValueError, match="number of variables"):
        f([0.0])  # never read past the event's values
    g = forest_walk_function(trees, values, 2, n_slots=2)
    assert g is not None
    with pytest.raises(ValueError, match="number of variables"):
        g([0.0, 1.0, 2.0])
    monkeypatch.setattr(forestwalk, "MAX_PADDED_LEAVES", 5 * 4)  # 5 trees of depth 3 need 40
    assert forest_walk_function(trees, values, 2) is None
    monkeypatch.undo()
    previous = forestwalk.use_numba(False)
    try:
        assert forest_walk_function(trees, values, 2) is None
        assert forestwalk.kernels(3, False) is None
    finally:
        forestwalk.use_numba(previous)
    assert forest_walk_function(trees, values, 2) is not None


def test_a_failing_compiler_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    trees, values, _, _ = _forest(5, 2, 2, 2)

    def broken(depth: int, strict: bool) -> tuple[object, object, object]:
        def fail(*args: object) -> float:
            raise RuntimeError("no LLVM here")

        return fail, fail, fail

    saved = dict(forestwalk._STATE)
    monkeypatch.setattr(forestwalk, "kernels", broken)
    try:
        assert forest_walk_function(trees, values, 2) is None
        assert "rank tables" in caplog.text
        forestwalk._STATE.update(saved)
        assert forest_walk_batch(trees, values, 2) is None
        assert "walking the trees with numpy" in caplog.text
    finally:
        forestwalk._STATE.update(saved)


# ---------------------------------------------------------------------------------------------- BDTs
def _train(options: str, at: EAnalysisType, n_classes: int = 2, n: int = 600) -> tuple[MethodBDT, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    if at == EAnalysisType.kMulticlass:
        cls = np.argmax(np.c_[X[:, 0], X[:, 1], -X[:, 0] - X[:, 1]], axis=1).astype(np.int32)
    else:
        cls = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(0, 0.7, n) < 0).astype(np.int32)
    t = (2 * X[:, 0] - X[:, 1] + X[:, 2] ** 2).astype(np.float32).reshape(n, 1)
    sample = Sample(
        X=X,
        targets=t if at == EAnalysisType.kRegression else np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=np.ones(n, np.float32),
        class_id=np.zeros(n, np.int32) if at == EAnalysisType.kRegression else cls,
    )
    m = MethodBDT("BDT", _context(at, 3, n_classes), f"!H:!V:{options}")
    m.setup()
    m.train(sample)
    events = np.random.default_rng(4).normal(0, 1.3, (300, 3)).astype(np.float32)
    return m, np.concatenate([events, X[:100]])


@pytest.mark.parametrize(
    "options",
    [
        "NTrees=30:MaxDepth=3",
        "NTrees=21:MaxDepth=3:BoostType=Grad:Shrinkage=0.3",
        "NTrees=13:MaxDepth=2:UseYesNoLeaf=False:BoostType=Bagging",
        "NTrees=6:MaxDepth=5:MinNodeSize=1%",
    ],
)
def test_bdt_classification_walk_equals_array_path(options: str) -> None:
    m, X = _train(options, EAnalysisType.kClassification)
    expected = m._predict(X)[:, m.context.signal_class]  # float32, the array path
    walk = m.mva_event_function()
    assert walk is not None
    previous = forestwalk.use_numba(False)
    try:
        ranks = m.mva_event_function()  # the rank tables without numba
    finally:
        forestwalk.use_numba(previous)
    assert ranks is not None
    rows = X.tolist()
    np.testing.assert_array_equal(np.array([walk(r) for r in rows], np.float32), expected)
    np.testing.assert_array_equal(np.array([ranks(r) for r in rows]), np.array([walk(r) for r in rows]))


def test_bdt_multiclass_and_regression_sums_equal_array_path() -> None:
    # multiclass (Grad): per class, Σ over the trees t ≡ class (mod k) of the tree's response
    m, X = _train("NTrees=12:BoostType=Grad:MaxDepth=2:Shrinkage=0.5", EAnalysisType.kMulticlass, 3)
    k = m.context.n_classes
    values = [tree.response.astype(np.float64) for tree in m.forest_]
    sums = forest_walk_function(m.forest_, values, 3, n_slots=k)
    assert sums is not None
    expected = np.zeros((len(X), k))
    for t, (tree, v) in enumerate(zip(m.forest_, values, strict=True)):
        expected[:, t % k] += v[tree.apply(X)]
    got = np.array([sums(r) for r in X.tolist()])
    np.testing.assert_array_equal(got, expected)
    # the softmax of those sums is the array path's output (same float64 operations on them)
    out = m._predict(X)
    soft = np.empty_like(got)
    for i in range(k):
        soft[:, i] = 1.0 / (1.0 + sum(np.exp(got[:, j] - got[:, i]) for j in range(k) if j != i))
    np.testing.assert_array_equal(soft.astype(np.float32), out)
    # regression, Grad: the sum plus the initial value boost_weights_[0]
    r, X = _train("NTrees=15:BoostType=Grad:MaxDepth=3:Shrinkage=0.5", EAnalysisType.kRegression)
    total = forest_walk_function(r.forest_, [t.response.astype(np.float64) for t in r.forest_], 3)
    assert total is not None
    got_r = np.array([total(row) for row in X.tolist()]) + r.boost_weights_[0]
    np.testing.assert_array_equal(got_r, r._regression_values(X, r._settings()))
    # regression, AdaBoost (weighted average of the responses)
    a, X = _train("NTrees=9:BoostType=AdaBoost:MaxDepth=3", EAnalysisType.kRegression)
    bw = a.boost_weights_
    avg = forest_walk_function(
        a.forest_, [b * t.response.astype(np.float64) for t, b in zip(a.forest_, bw, strict=True)], 3
    )
    assert avg is not None
    norm = 0.0
    for b in bw:
        norm += b
    got_a = np.array([avg(row) for row in X.tolist()]) / norm
    np.testing.assert_array_equal(got_a, a._regression_values(X, a._settings()))


def test_fisher_cut_forest_falls_back() -> None:
    m, _ = _train("NTrees=6:MaxDepth=2:UseFisherCuts:MinLinCorrForFisher=0", EAnalysisType.kClassification)
    assert any(bool((t.n_coef > 0).any()) for t in m.forest_)
    assert m.mva_event_function() is None  # the Reader then uses the one-row array path


# ---------------------------------------------------------------------------------------------- batches
@pytest.mark.parametrize(
    ("n_trees", "depth", "nvar"),
    [(41, 3, 3), (25, 6, 5), (3, 0, 2), (850, 3, 4), (30, 1, 4), (26, 2, 3), (19, 4, 3)],
)
@pytest.mark.parametrize("strict", [False, True])
def test_batch_walk_equals_apply(n_trees: int, depth: int, nvar: int, strict: bool) -> None:
    """``forest_walk_batch``: every row's sum is the array path's (``tree.apply`` tree by tree).

    Forests of depth <= 3 go through the block walk (padded to 3 levels), deeper ones through the
    per-event walk; the rows are more than two blocks and not a multiple of the block size.
    """
    trees, values, X, _ = _forest(n_trees, depth, nvar, n_trees * 10 + depth + 1)
    rng = np.random.default_rng(depth)
    n_rows = 2 * forestwalk.BLOCK_EVENTS + 37
    X = np.concatenate([X, rng.normal(0, 1.5, (n_rows - len(X), nvar)).astype(np.float32)])
    X = X[rng.permutation(n_rows)]  # ties with the cuts in every block
    f = forest_walk_batch(trees, values, nvar, strict=strict)
    assert f is not None
    got = f(X)
    assert got.shape == (len(X), 1)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got[:, 0], _array_sum(trees, values, X, strict))
    k = 3  # tree t adds to sum t % k
    sums = forest_walk_batch(trees, values, nvar, strict=strict, n_slots=k)
    assert sums is not None
    expected = np.zeros((len(X), k))
    for t, (tree, v) in enumerate(zip(trees, values, strict=True)):
        expected[:, t % k] += v[tree.apply(X, strict=strict)]
    np.testing.assert_array_equal(sums(X), expected)
    np.testing.assert_array_equal(f(X[:0]), np.zeros((0, 1)))
    with pytest.raises(ValueError, match=f"reads {nvar} variables"):
        f(X[:, :-1])
    with pytest.raises(ValueError, match="n_slots"):
        forest_walk_batch(trees, values, nvar, n_slots=0)


@pytest.mark.parametrize(
    ("options", "at", "n_classes"),
    [
        ("NTrees=30:MaxDepth=3", EAnalysisType.kClassification, 2),
        ("NTrees=21:MaxDepth=3:BoostType=Grad:Shrinkage=0.3", EAnalysisType.kClassification, 2),
        ("NTrees=13:MaxDepth=2:UseYesNoLeaf=False:BoostType=Bagging", EAnalysisType.kClassification, 2),
        ("NTrees=12:BoostType=Grad:MaxDepth=2:Shrinkage=0.5", EAnalysisType.kMulticlass, 3),
        ("NTrees=15:BoostType=Grad:MaxDepth=3:Shrinkage=0.5", EAnalysisType.kRegression, 2),
        ("NTrees=9:BoostType=AdaBoost:MaxDepth=3", EAnalysisType.kRegression, 2),
        ("NTrees=8:MaxDepth=2:UseFisherCuts:MinLinCorrForFisher=0", EAnalysisType.kClassification, 2),
    ],
)
def test_bdt_predict_with_the_batch_walk_equals_the_numpy_path(
    options: str, at: EAnalysisType, n_classes: int
) -> None:
    """``MethodBDT._predict`` through the compiled batch walk is its numpy path bit for bit."""
    m, X = _train(options, at, n_classes)
    fast = m._predict(X)
    previous = forestwalk.use_numba(False)
    try:
        m.__dict__.pop("_batch_walk", None)
        slow = m._predict(X)
    finally:
        forestwalk.use_numba(previous)
        m.__dict__.pop("_batch_walk", None)
    np.testing.assert_array_equal(fast, slow)
    fisher = any(bool((t.n_coef > 0).any()) for t in m.forest_)
    assert fisher == ("UseFisherCuts" in options)  # the Fisher-cut case is one, the others are not
    m._predict(X)
    cached = m.__dict__.get("_batch_walk")
    assert cached is not None
    assert (cached[1] is None) == fisher  # Fisher-cut nodes keep the numpy walk
