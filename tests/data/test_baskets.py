"""Reading in entry ranges bounded by bytes (:mod:`pymva.data.baskets`), whatever the basket layout.

The plan is checked on hand-made layouts (ranges, basket alignment, the byte bound of every read),
and the reading on files holding the same values in one huge basket per branch or in many small
ones: the chunks, and the DataSet built from them, must be those of uproot's own reading.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import uproot

import pymva.data.baskets as bk
from pymva.data.baskets import BasketLayout, iterate_flat, layout_of, plan_reads
from pymva.data.loader import DataLoader
from pymva.data.sources import open_source


def _layout(boundaries: list[int], itemsize: int = 4) -> BasketLayout:
    offsets = np.asarray(boundaries, dtype=np.int64)
    return BasketLayout(offsets, np.diff(offsets) * itemsize)


def test_layout_bytes_and_read_stop() -> None:
    lay = _layout([0, 10, 25, 40])
    assert lay.read_stop(0) == 0
    assert lay.read_stop(1) == 10
    assert lay.read_stop(10) == 10
    assert lay.read_stop(26) == 40
    assert lay.read_stop(99) == 40
    assert lay.bytes_between(0, 10) == 40
    assert lay.bytes_between(10, 40) == 120
    assert lay.bytes_between(5, 25) == 100  # the baskets holding entries 5..24: both first ones
    assert lay.bytes_between(7, 7) == 0


def test_plan_covers_every_entry_once_with_aligned_bounded_reads() -> None:
    n = 1000
    layouts = {
        "big": _layout([0, 600, 1000]),  # two huge baskets, 2400 and 1600 bytes
        "small": _layout([*range(0, n, 70), n]),
        "f64": _layout([*range(0, n, 128), n], itemsize=8),
        "other": _layout([0, 600, 1000]),
    }
    step, budget = 90, 1000
    chunks = list(plan_reads(layouts, n, step, budget))
    # the chunks: consecutive, at most `step` entries, covering [0, n)
    assert [c.start for c in chunks] == list(range(0, n, step))
    assert [c.stop for c in chunks] == [min(s + step, n) for s in range(0, n, step)]
    have = dict.fromkeys(layouts, 0)
    for c in chunks:
        for r in c.reads:
            # a read decompresses whole baskets only, within the budget unless it is one branch alone
            assert r.nbytes <= budget or len(r.branches) == 1
            for name in r.branches:
                lay = layouts[name]
                assert r.start == have[name]  # reads continue where the branch stopped
                assert r.start in lay.offsets
                assert r.stop in lay.offsets
                have[name] = r.stop
            assert r.nbytes == sum(layouts[b].bytes_between(r.start, r.stop) for b in r.branches)
        for name, lay in layouts.items():
            # after the reads every branch holds the chunk and at most one basket beyond it
            assert have[name] >= c.stop
            assert have[name] == lay.read_stop(c.stop)
    assert all(h == n for h in have.values())
    # the two huge-basket branches need the same range: one read each, since together they exceed the budget
    first = chunks[0].reads
    big_reads = [r for r in first if "big" in r.branches or "other" in r.branches]
    assert [r.branches for r in big_reads] == [("big",), ("other",)]
    assert [(r.start, r.stop, r.nbytes) for r in big_reads] == [(0, 600, 2400), (0, 600, 2400)]
    # branches with small baskets are read together when they fit
    assert {b for r in chunks[0].reads for b in r.branches} == set(layouts)


def test_plan_groups_branches_within_budget() -> None:
    layouts = {f"b{i}": _layout([0, 100, 200]) for i in range(10)}  # 400 bytes a basket
    reads = next(iter(plan_reads(layouts, 200, 50, read_bytes=1000))).reads
    assert [len(r.branches) for r in reads] == [2, 2, 2, 2, 2]
    assert all(r.nbytes == 800 for r in reads)


def test_plan_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="step"):
        list(plan_reads({"a": _layout([0, 5])}, 5, 0))
    with pytest.raises(ValueError, match="branch 'a'"):
        list(plan_reads({"a": _layout([0, 5])}, 9, 3))


N_ENTRIES = 60_000


def _values(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(0.0, 1.0, N_ENTRIES).astype(np.float32),
        "y": rng.normal(1.0, 2.0, N_ENTRIES),  # float64
        "k": rng.integers(-5, 5, N_ENTRIES).astype(np.int32),
    }


def _write(path: Path, basket: int) -> Path:
    with uproot.recreate(path) as f:
        for name, seed in (("TreeS", 1), ("TreeB", 2)):
            vals = _values(seed)
            tree = f.mktree(name, {k: v.dtype for k, v in vals.items()})
            for a in range(0, N_ENTRIES, basket):
                tree.extend({k: v[a : a + basket] for k, v in vals.items()})
    return path


@pytest.fixture(scope="module")
def layouts_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("baskets")
    # one basket per branch for the whole tree, and many small ones (not a divisor of the chunk size)
    return {"huge": _write(tmp / "huge.root", N_ENTRIES), "small": _write(tmp / "small.root", 1_777)}


@pytest.mark.parametrize("layout", ["huge", "small"])
def test_iterate_flat_gives_uproot_arrays(layouts_files: dict[str, Path], layout: str) -> None:
    tree = uproot.open(layouts_files[layout])["TreeS"]
    names = ["k", "x", "y"]
    lays = {n: layout_of(tree[n]) for n in names}
    assert all(lay is not None for lay in lays.values())
    expected = tree.arrays(names, library="np")
    starts = []
    got: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for start, stop, arrays in iterate_flat(tree, names, lays, 7_000, None, read_bytes=50_000):  # type: ignore[arg-type]
        starts.append((start, stop))
        for n in names:
            assert arrays[n].shape == (stop - start,)
            got[n].append(arrays[n])
    assert starts == [(s, min(s + 7_000, N_ENTRIES)) for s in range(0, N_ENTRIES, 7_000)]
    for n in names:
        out = np.concatenate(got[n])
        assert out.dtype == expected[n].dtype
        np.testing.assert_array_equal(out, expected[n])


def test_source_reads_the_same_chunks_for_both_layouts(layouts_files: dict[str, Path]) -> None:
    chunks = {}
    for layout, path in layouts_files.items():
        src = open_source(f"{path}:TreeB")
        chunks[layout] = list(src.iterate(["x", "y", "k"], 9_999))
    assert [len(c["x"]) for c in chunks["huge"]] == [len(c["x"]) for c in chunks["small"]]
    for a, b in zip(chunks["huge"], chunks["small"], strict=True):
        for n in ("x", "y", "k"):
            np.testing.assert_array_equal(a[n], b[n])
    vals = _values(2)
    for n in ("x", "y", "k"):
        np.testing.assert_array_equal(np.concatenate([c[n] for c in chunks["huge"]]), vals[n])


def _dataset(path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int) -> object:
    monkeypatch.setattr(bk, "READ_BYTES", read_bytes)
    loader = DataLoader("baskets")
    for v in ("x", "y", "k", "x*y"):
        loader.AddVariable(v)
    loader.AddSignalTree(f"{path}:TreeS")
    loader.AddBackgroundTree(f"{path}:TreeB")
    loader.PrepareTrainingAndTestTree("", "SplitMode=Random:SplitSeed=7:NormMode=NumEvents:!V")
    return loader.GetDataSetInfo().GetDataSet()


def test_dataset_identical_for_both_layouts(
    layouts_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = _dataset(layouts_files["huge"], monkeypatch, 20_000)
    small = _dataset(layouts_files["small"], monkeypatch, 20_000)
    for part in ("train", "test"):
        a, b = getattr(huge, part), getattr(small, part)
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.class_id, b.class_id)
    # and the events are the file's: every signal value of x appears once, as float32
    x_all = np.concatenate(
        [huge.train.X[huge.train.class_id == 0, 0], huge.test.X[huge.test.class_id == 0, 0]]
    )
    np.testing.assert_array_equal(np.sort(x_all), np.sort(_values(1)["x"]))
    xy = huge.train.X[:, 3]
    np.testing.assert_allclose(xy, huge.train.X[:, 0].astype(np.float64) * huge.train.X[:, 1], rtol=1e-6)


def test_dataset_identical_to_uproot_iterate(
    layouts_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pymva.data import sources

    planned = _dataset(layouts_files["huge"], monkeypatch, 20_000)
    monkeypatch.setattr(sources, "_flat_layouts", lambda tree, branches: None)  # uproot's TTree.iterate
    plain = _dataset(layouts_files["huge"], monkeypatch, 20_000)
    for part in ("train", "test"):
        a, b = getattr(planned, part), getattr(plain, part)
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.weights, b.weights)
        np.testing.assert_array_equal(a.class_id, b.class_id)
