"""The two ways the DataLoader builds a DataSet give the same result, and their building blocks.

When the numbers of events are known before reading (no cuts, one value per entry), the split is
planned first and every event is written straight to its final row; otherwise the events are held
in slabs and scattered after the split.  Both must give bit-identical DataSets (same random draws)
and the same log.  Also tested here: ``build_events(out=...)`` and ``weighted_moments`` against
plain numpy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import uproot

import pymva.data.build as dl
from pymva.data.dataset import DataSet
from pymva.data.expression import build_events, parse_formula
from pymva.data.loader import DataLoader
from pymva.data.sources import MemorySource
from pymva.data.split import weighted_moments
from pymva.errors import DataError


def make_arrays(n: int, mu: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(mu, 1.0, n).astype(np.float32),
        "y": rng.normal(0.0, 2.0, n),
        "w": rng.uniform(0.5, 2.0, n).astype(np.float32),
        "k": rng.integers(0, 5, n).astype(np.int32),
        "big": (rng.integers(-(2**40), 2**40, n) | 1).astype(np.int64),
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("direct") / "sb.root"
    sizes = {"TreeS": 700, "TreeB": 500, "TreeS2": 130, "TreeB2": 90}
    with uproot.recreate(path) as f:
        for i, (name, n) in enumerate(sizes.items()):
            arrs = make_arrays(n, 1.0 - i, i + 1)
            t = f.mktree(name, {k: v.dtype for k, v in arrs.items()})
            for a in range(0, n, 97):  # several baskets
                t.extend({k: v[a : a + 97] for k, v in arrs.items()})
    return {name: f"{path}:{name}" for name in sizes}


class _Log(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, record.levelname, record.getMessage()))


def build(
    make: Callable[[], DataLoader], direct: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[DataSet | str, list[tuple[str, str, str]], int]:
    """Build with or without the direct path; return the DataSet (or the error), the log, the writes."""
    writes = 0
    original = dl._DirectPlan.write

    def counting(self: Any, *args: Any) -> None:
        nonlocal writes
        writes += 1
        original(self, *args)

    with monkeypatch.context() as m:
        m.setattr(dl._DataSetBuilder, "direct", direct)
        m.setattr(dl._DirectPlan, "write", counting)
        # small chunks: many blocks per tree
        m.setattr(dl, "MIN_CHUNK_ENTRIES", 64)
        m.setattr(dl, "MAX_CHUNK_ENTRIES", 64)
        handler = _Log()
        logger = logging.getLogger("pymva")
        old_level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            result: DataSet | str = make().GetDataSetInfo().GetDataSet()
        except DataError as exc:
            result = str(exc)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
    return result, handler.lines, writes


def assert_same(a: DataSet | str, b: DataSet | str) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    for sa, sb in ((a.train, b.train), (a.test, b.test)):
        for name in ("X", "targets", "spectators", "weights", "class_id"):
            x, y = getattr(sa, name), getattr(sb, name)
            assert x.dtype == y.dtype, name
            np.testing.assert_array_equal(x, y, err_msg=name)
    assert a.correlations.keys() == b.correlations.keys()
    for name in a.correlations:
        np.testing.assert_allclose(a.correlations[name], b.correlations[name], rtol=0, atol=1e-12)
    assert [(v.min, v.max) for v in a.variables] == [(v.min, v.max) for v in b.variables]


def loader(files: dict[str, str], variables: tuple[str, ...] = ("x", "y"), opts: str = "") -> DataLoader:
    ld = DataLoader("direct")
    for v in variables:
        ld.AddVariable(v)
    ld.AddSignalTree(files["TreeS"])
    ld.AddBackgroundTree(files["TreeB"], 0.5)
    ld.PrepareTrainingAndTestTree("", opts)
    return ld


def with_types(files: dict[str, str]) -> DataLoader:
    ld = DataLoader("direct")
    ld.AddVariable("x")
    ld.AddVariable("x*y + k")
    ld.AddTarget("y")
    ld.AddSpectator("big")
    ld.AddSpectator("k")
    ld.AddTree(files["TreeS"], "Signal", 1.0, "", "Training")
    ld.AddTree(files["TreeS2"], "Signal", 1.0, "", "Test")
    ld.AddTree(files["TreeB"], "Background", 2.0)
    ld.AddTree(files["TreeB2"], "Background", 1.0)
    ld.SetWeightExpression("w", "Background")
    ld.PrepareTrainingAndTestTree("", "nTrain_Background=300:NormMode=NumEvents")
    return ld


def with_events(files: dict[str, str]) -> DataLoader:
    ld = DataLoader("direct")
    ld.AddVariable("x")
    ld.AddVariable("y")
    ld.AddSignalTree(files["TreeS2"])
    rng = np.random.default_rng(3)
    for _ in range(40):
        ld.AddSignalTrainingEvent(rng.normal(size=2).tolist(), 1.5)
        ld.AddBackgroundTrainingEvent(rng.normal(size=2).tolist(), 0.5)
        ld.AddBackgroundTestEvent(rng.normal(size=2).tolist(), 2.0)
    ld.PrepareTrainingAndTestTree("", "")
    return ld


def multiclass(files: dict[str, str]) -> DataLoader:
    ld = DataLoader("direct")
    ld.AddVariable("x")
    ld.AddVariable("abs(y)")
    for i, name in enumerate(("TreeS", "TreeB", "TreeS2")):
        ld.AddTree(files[name], f"c{i}", 1.0 + i)
    ld.PrepareTrainingAndTestTree("", "nTrain_c0=200:nTest_c0=100:MixMode=Alternate")
    return ld


def memory_source() -> DataLoader:
    rng = np.random.default_rng(8)
    ld = DataLoader("direct")
    ld.AddVariable("a")
    ld.AddVariable("b")
    ld.AddTree({"a": rng.normal(size=300), "b": rng.integers(0, 9, 300).astype(np.int16)}, "Signal")
    ld.AddTree({"a": rng.normal(size=200), "b": rng.integers(0, 9, 200).astype(np.uint8)}, "Background")
    ld.PrepareTrainingAndTestTree("", "SplitMode=Block:MixMode=Random")
    return ld


DIRECT_CASES: dict[str, Callable[[dict[str, str]], DataLoader]] = {
    "default": lambda f: loader(f),
    "random_trimmed": lambda f: loader(f, opts="nTrain_Signal=100:nTest_Signal=50:nTest_Background=60"),
    "block": lambda f: loader(f, opts="SplitMode=Block:nTrain_Signal=300"),
    "block_mix_random": lambda f: loader(f, opts="SplitMode=Block:MixMode=Random:NormMode=None"),
    "alternate": lambda f: loader(f, opts="SplitMode=Alternate:nTrain_Background=100"),
    "alternate_short": lambda f: loader(f, opts="SplitMode=Alternate:nTrain_Signal=500"),  # warns
    "split_fraction": lambda f: loader(f, opts="TrainTestSplit_Signal=0.3:SplitSeed=11"),
    "no_correlations": lambda f: loader(f, opts="!CalcCorrelations"),
    "tree_types_targets_spectators": with_types,
    "events_added_one_by_one": with_events,
    "multiclass": multiclass,
    "memory": lambda f: memory_source(),
}


@pytest.mark.parametrize("case", sorted(DIRECT_CASES))
def test_direct_path_equals_the_general_one(
    case: str, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make = DIRECT_CASES[case]
    direct, log_direct, writes = build(lambda: make(files), True, monkeypatch)
    general, log_general, writes_general = build(lambda: make(files), False, monkeypatch)
    assert writes > 0  # the events were written straight to their rows
    assert writes_general == 0
    assert isinstance(direct, DataSet), direct  # an error on both paths would compare equal below
    assert isinstance(general, DataSet), general
    assert_same(direct, general)
    assert log_direct == log_general
    if case == "alternate_short":
        assert any("larger than size of eventVectorTraining" in line[2] for line in log_direct)


def with_cut(files: dict[str, str]) -> DataLoader:
    ld = loader(files)
    ld.AddCut("k != 2")
    return ld


def with_tree_cut(files: dict[str, str]) -> DataLoader:
    ld = DataLoader("direct")
    ld.AddVariable("x")
    ld.AddTree(files["TreeS"], "Signal", 1.0, "k>0")
    ld.AddTree(files["TreeB"], "Background")
    return ld


def with_index(files: dict[str, str]) -> DataLoader:
    return loader(files, variables=("x", "Alt$(y, 0)"))


def too_many(files: dict[str, str]) -> DataLoader:
    return loader(files, opts="nTrain_Signal=800")


def nan_values() -> DataLoader:
    rng = np.random.default_rng(4)
    a = rng.normal(size=400)
    a[::37] = np.nan
    a[5::41] = np.inf
    ld = DataLoader("direct")
    ld.AddVariable("a")
    ld.AddTree({"a": a}, "Signal")
    ld.AddTree({"a": rng.normal(size=300)}, "Background")
    return ld


GENERAL_CASES: dict[str, Callable[[dict[str, str]], DataLoader]] = {
    "class_cut": with_cut,
    "tree_cut": with_tree_cut,
    "special_function": with_index,
    "too_many_requested": too_many,  # the split's error comes after reading, as in TMVA
}


@pytest.mark.parametrize("case", sorted(GENERAL_CASES))
def test_general_path_where_numbers_are_unknown(
    case: str, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make = GENERAL_CASES[case]
    result, log, writes = build(lambda: make(files), True, monkeypatch)
    general, log_general, _ = build(lambda: make(files), False, monkeypatch)
    assert writes == 0
    assert_same(result, general)
    assert log == log_general
    if case == "too_many_requested":
        assert isinstance(result, str)
        assert "More events requested for training (800) than available (700)" in result
    else:
        assert isinstance(result, DataSet), result


def test_nan_error_after_reading_on_the_direct_path(monkeypatch: pytest.MonkeyPatch) -> None:
    result, log, writes = build(nan_values, True, monkeypatch)
    general, log_general, _ = build(nan_values, False, monkeypatch)
    assert writes > 0
    assert isinstance(result, str)
    assert "indeterminate value (NaN): a (10 times)" in result  # one NaN overwritten by inf
    assert "infinite value (+inf or -inf): a (10 times)" in result
    assert result == general
    assert log == log_general


def test_numbers_that_change_while_reading_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree that gives other numbers of events than announced is read again the general way."""

    class Claiming(MemorySource):
        claimed = 300

        @property
        def num_entries(self) -> int:
            return self.claimed

    def make(n_claimed: int) -> DataLoader:
        rng = np.random.default_rng(6)
        ld = DataLoader("direct")
        ld.AddVariable("a")
        source = Claiming({"a": rng.normal(size=300)})
        source.claimed = n_claimed  # announced entries; 300 are read
        ld.AddTree(source, "Signal")
        ld.AddTree({"a": rng.normal(size=200)}, "Background")
        return ld

    expected, _, _ = build(lambda: make(300), False, monkeypatch)
    assert isinstance(expected, DataSet), expected
    assert len(expected.train) + len(expected.test) == 500
    for claimed in (250, 350):  # too many events arrive, or too few
        result, log, writes = build(lambda c=claimed: make(c), True, monkeypatch)  # type: ignore[misc]
        assert writes > 0
        assert_same(result, expected)
        assert any("reading again" in line[2] for line in log)


# --------------------------------------------------------------------------- build_events(out=...)


def test_build_events_into_float32_equals_float64_cast() -> None:
    rng = np.random.default_rng(1)
    n = 500
    arrays: dict[str, np.ndarray] = {
        "f": rng.normal(size=n).astype(np.float32),
        "d": rng.normal(size=n) * 1e30,
        "i": rng.integers(-(2**31), 2**31 - 1, n).astype(np.int32),
        "l": (rng.integers(-(2**60), 2**60, n) | 1).astype(np.int64),  # not exact in float64
        "u": rng.integers(0, 255, n).astype(np.uint8),
        "b": rng.integers(0, 2, n).astype(np.bool_),
    }
    arrays["d"][::50] = 1e300  # overflows float32
    cols = [("Input", parse_formula(name)) for name in arrays] + [("Target", parse_formula("f*d+i"))]
    ref = build_events(arrays, cols, cut=parse_formula("i % 3 != 0"))
    buf = np.full((n, len(cols)), np.nan, dtype=np.float32)
    got = build_events(arrays, cols, cut=parse_formula("i % 3 != 0"), out=lambda m: buf[:m])
    assert got.values.base is buf
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(got.values, ref.values.astype(np.float32))
    np.testing.assert_array_equal(got.weights, ref.weights)
    assert got.nan_selected == ref.nan_selected
    assert got.nan_selected[("Input", "d")] == (0, int(np.count_nonzero(ref.values[:, 1] == 1e300)))
    exact = build_events(arrays, cols[:1])
    np.testing.assert_array_equal(exact.values[:, 0], arrays["f"].astype(np.float64))


def test_build_events_rejects_a_wrong_output_array() -> None:
    arrays = {"x": np.arange(4.0)}
    with pytest.raises(DataError, match=r"out\(4\) returned a int64 array"):
        build_events(arrays, [("Input", parse_formula("x"))], out=lambda m: np.zeros((m, 1), np.int64))
    with pytest.raises(DataError, match=r"expected float32 or float64 of shape \(4, 1\)"):
        build_events(arrays, [("Input", parse_formula("x"))], out=lambda m: np.zeros((m, 2)))


def test_build_events_nan_weights_are_skipped_in_the_sum() -> None:
    arrays = {"x": np.arange(4.0), "w": np.array([1.0, np.nan, 2.0, 4.0])}
    block = build_events(arrays, [("Input", parse_formula("x"))], weight=parse_formula("w"))
    assert block.sumw_candidates == 7.0
    assert block.nan_selected == {("Weight", "w"): (1, 0)}


# --------------------------------------------------------------------------- weighted_moments


@pytest.mark.parametrize("block_rows", [1, 7, 8192])
@pytest.mark.parametrize("negative", [False, True])
def test_weighted_moments_match_numpy(block_rows: int, negative: bool) -> None:
    rng = np.random.default_rng(block_rows)
    n, m, ncls = 1000, 5, 4
    x = (rng.normal(size=(n, m)) + 3).astype(np.float32)
    w = rng.uniform(0.1, 2.0, n).astype(np.float32)
    if negative:
        w[::3] *= -1
    cls = rng.integers(0, 3, n).astype(np.int32)  # class 3 has no rows
    sw, sx, sxx = weighted_moments(x, w, cls, ncls, block_rows)
    for k in range(ncls):
        xk = x[cls == k].astype(np.float64)
        wk = w[cls == k].astype(np.float64)
        np.testing.assert_allclose(sw[k], wk.sum(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(sx[k], wk @ xk, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(sxx[k], (xk * wk[:, None]).T @ xk, rtol=1e-12, atol=1e-9)
    assert sw[3] == 0
    assert not sx[3].any()
    assert not sxx[3].any()


def test_weighted_moments_single_class_and_empty() -> None:
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    w = np.ones(6, dtype=np.float32)
    sw, sx, sxx = weighted_moments(x, w, np.zeros(6, np.int32), 1)
    assert sw.tolist() == [6.0]
    np.testing.assert_array_equal(sx[0], x.sum(axis=0))
    np.testing.assert_array_equal(sxx[0], x.T @ x)
    sw, sx, sxx = weighted_moments(
        np.zeros((0, 2), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32), 2
    )
    assert sw.tolist() == [0.0, 0.0]
    assert sxx.shape == (2, 2, 2)


def test_direct_dataset_samples_are_views_of_one_array(files: dict[str, str]) -> None:
    ds = loader(files).GetDataSetInfo().GetDataSet()
    assert ds.train.X.base is not None
    assert ds.train.X.base is ds.test.X.base
    assert ds.train.X.flags.c_contiguous
    assert ds.test.X.flags.c_contiguous
    assert len(ds.train) + len(ds.test) == 1200
