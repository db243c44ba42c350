"""``Streaming=True:ChunkSize=N``: chunked reading and the per-entry hash split.

Expectations are independent of the streaming code: the events come from the numpy arrays written
to the file (every event in exactly one of the samples, the cuts selecting what numpy selects), the
split from a plain-Python SplitMix64 (its published constants, arbitrary-precision integers), the
numbers of events from binomial statistics, TMVA's tables from the in-memory build within statistics.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import uproot

from pymva import TMVA
from pymva.data.dataset import DataSet, Sample
from pymva.data.loader import DataLoader
from pymva.errors import OptionError
from pymva.toydata import create_class_example
from tolerances import EPS32

SIZES = (2500, 1700, 3800)  # three baskets per branch, one per extend
N = sum(SIZES)
MASK64 = (1 << 64) - 1
Trees = tuple[Path, dict[str, dict[str, np.ndarray]]]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, np.ndarray]]]:
    rng = np.random.default_rng(5)
    data: dict[str, dict[str, np.ndarray]] = {}
    path = tmp_path_factory.mktemp("stream") / "events.root"
    with uproot.recreate(path) as f:
        for name, shift in (("sig", 0.7), ("bkg", -0.7)):
            cols = {
                "x": rng.normal(shift, 1.0, N).astype(np.float32),
                "y": rng.normal(-shift, 1.5, N).astype(np.float32),
                "w": rng.uniform(0.5, 2.0, N).astype(np.float32),
                "evt": np.arange(N, dtype=np.int64),
            }
            data[name] = cols
            tree = f.mktree(name, {k: v.dtype for k, v in cols.items()})
            a = 0
            for n in SIZES:
                tree.extend({k: v[a : a + n] for k, v in cols.items()})
                a += n
    return path, data


def _loader(path: Path, opts: str, cut: str = "", *, bkg: str = "bkg", **kwargs: object) -> DataLoader:
    loader = DataLoader("stream")
    loader.AddVariable("x")
    loader.AddVariable("y")
    loader.AddSpectator("evt")
    loader.AddSignalTree(f"{path}:sig")
    loader.AddBackgroundTree(f"{path}:{bkg}")
    loader.SetWeightExpression("w")
    loader.PrepareTrainingAndTestTree(cut, opts, **kwargs)
    return loader


def _ds(path: Path, opts: str, cut: str = "", **kwargs: object) -> DataSet:
    return _loader(path, opts, cut, **kwargs).GetDataSetInfo().GetDataSet()


def _events(sample: Sample, cls: int) -> np.ndarray:
    return np.sort(sample.spectators[sample.class_id == cls, 0].astype(np.int64))


# ------------------------------------------------------------------ an independent SplitMix64


def _mix(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _uniform(tree: str, entry: int, seed: int) -> float:
    key = int.from_bytes(hashlib.blake2b(tree.encode(), digest_size=8).digest(), "little")
    base = _mix(key ^ ((seed * 0x2545F4914F6CDD1D) & MASK64))
    h = _mix((_mix(entry ^ base) + base) & MASK64)
    return (h >> 11) / float(1 << 53)


# ------------------------------------------------------------------ tests


def test_chunk_size_smaller_than_file_and_basket_changes_nothing(trees: Trees) -> None:
    path, _ = trees
    with uproot.open(path) as f:
        starts = list(f["sig"]["x"].member("fBasketEntry")[: f["sig"]["x"].num_baskets])
    assert starts == [0, 2500, 4200]  # the baskets the chunk sizes below cut through
    ref = _ds(path, "Streaming=True:ChunkSize=1000000:!V")
    for chunk in (333, 2000):  # smaller than every basket; straddling baskets
        ds = _ds(path, f"Streaming=True:ChunkSize={chunk}:!V")
        for part in ("train", "test"):
            a, b = getattr(ds, part), getattr(ref, part)
            np.testing.assert_array_equal(a.X, b.X)
            np.testing.assert_array_equal(a.spectators, b.spectators)
            np.testing.assert_array_equal(a.weights, b.weights)
            np.testing.assert_array_equal(a.class_id, b.class_id)


def test_split_is_the_hash_of_tree_entry_and_seed(trees: Trees) -> None:
    path, data = trees
    ds = _ds(path, "Streaming=True:ChunkSize=1500:SplitSeed=42:NormMode=None:!V")
    for cls, tree in ((0, "sig"), (1, "bkg")):
        u = np.array([_uniform(tree, e, 42) for e in range(N)])
        np.testing.assert_array_equal(_events(ds.train, cls), np.flatnonzero(u < 0.5))
        np.testing.assert_array_equal(_events(ds.test, cls), np.flatnonzero(u >= 0.5))
        # the values and weights are those of the file's entries
        tr = ds.train
        sel = tr.class_id == cls
        evt = tr.spectators[sel, 0].astype(np.int64)
        np.testing.assert_array_equal(tr.X[sel, 0], data[tree]["x"][evt])
        np.testing.assert_array_equal(tr.weights[sel], data[tree]["w"][evt])  # NormMode=None


def test_deterministic_and_seeded(trees: Trees) -> None:
    path, _ = trees
    a = _ds(path, "Streaming=True:ChunkSize=700:!V")
    b = _ds(path, "Streaming=True:ChunkSize=700:!V")
    np.testing.assert_array_equal(a.train.X, b.train.X)
    np.testing.assert_array_equal(a.test.spectators, b.test.spectators)
    other = _ds(path, "Streaming=True:ChunkSize=700:SplitSeed=7:!V")
    assert not np.array_equal(_events(a.train, 0), _events(other.train, 0))
    # a tree's split does not depend on the other class's tree
    swapped = _ds(path, "Streaming=True:ChunkSize=700:!V", bkg="sig")
    np.testing.assert_array_equal(_events(swapped.train, 0), _events(a.train, 0))


def test_every_selected_event_once_and_cuts_as_numpy(trees: Trees) -> None:
    path, data = trees
    ds = _ds(path, "Streaming=True:ChunkSize=1234:!V", cut="x>0.2 && y<1")
    for cls, tree in ((0, "sig"), (1, "bkg")):
        d = data[tree]
        expected = np.flatnonzero((d["x"] > 0.2) & (d["y"] < 1))
        both = np.concatenate([_events(ds.train, cls), _events(ds.test, cls)])
        np.testing.assert_array_equal(np.sort(both), expected)  # disjoint, complete
        n = len(expected)
        # Binomial(n, 1/2): 5 standard deviations
        assert abs(len(_events(ds.train, cls)) - n / 2) < 5 * np.sqrt(n / 4)


@pytest.mark.parametrize(
    ("opts", "train", "test"),
    [
        (
            "nTrain_Signal=1000:nTest_Signal=3000:nTrain_Background=4000:nTest_Background=500",
            (1000, 4000),
            (3000, 500),
        ),
        ("TrainTestSplit_Signal=0.8:TrainTestSplit_Background=0.3", (0.8 * N, 0.3 * N), (0.2 * N, 0.7 * N)),
        ("nTrain_Signal=2000:nTrain_Background=6000", (2000, 6000), (N - 2000, N - 6000)),
    ],
)
def test_requested_numbers_on_average(
    trees: Trees, opts: str, train: tuple[float, float], test: tuple[float, float]
) -> None:
    path, _ = trees
    ds = _ds(path, f"Streaming=True:ChunkSize=3000:!V:{opts}")
    for cls in (0, 1):
        for sample, want in ((ds.train, train[cls]), (ds.test, test[cls])):
            got = int(np.sum(sample.class_id == cls))
            p = want / N
            assert abs(got - want) < 5 * np.sqrt(N * p * (1 - p)) + 1, (cls, got, want)


def test_norm_mode_and_correlations(trees: Trees) -> None:
    path, _ = trees
    ds = _ds(path, "Streaming=True:ChunkSize=900:NormMode=NumEvents:!V")
    tr = ds.train
    for cls in (0, 1):
        n = int(np.sum(tr.class_id == cls))
        # float32 weights w·n/Σw, each rounded once: their float64 sum is within n·eps32 of n
        assert tr.weights[tr.class_id == cls].astype(np.float64).sum() == pytest.approx(n, rel=n * EPS32)
    x = tr.X[tr.class_id == 0].astype(np.float64)
    w = tr.weights[tr.class_id == 0].astype(np.float64)
    m = w @ x / w.sum()
    c = ((x - m) * w[:, None]).T @ (x - m)
    rho = c[0, 1] / np.sqrt(c[0, 0] * c[1, 1])
    assert ds.correlations["Signal"][0, 1] == pytest.approx(rho, abs=len(x) * 1e-15)
    assert ds.variables[0].min == pytest.approx(float(tr.X[:, 0].min()))
    assert ds.variables[0].max == pytest.approx(float(tr.X[:, 0].max()))


def test_keyword_form(trees: Trees) -> None:
    path, _ = trees
    a = _ds(path, "Streaming=True:ChunkSize=800:!V")
    b = _ds(path, "!V", Streaming=True, ChunkSize=800)
    np.testing.assert_array_equal(a.train.X, b.train.X)


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ("Streaming=True:ChunkSize=-5", "ChunkSize"),
        ("Streaming=True:ChunkSize=many", "ChunkSize"),
        ("Streaming=True:ChunkSiz=100", "ChunkSize"),  # did you mean
        ("Streaming=True:SplitMode=Block", "SplitMode=Block"),
    ],
)
def test_bad_options(trees: Trees, opts: str, match: str) -> None:
    path, _ = trees
    with pytest.raises(OptionError, match=match):
        _ds(path, opts)


def test_factory_refuses_methods_that_need_all_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # with Streaming=True the Factory trains from the stream (tests/test_factory_stream.py compares
    # its TMVA numbers with an in-memory job); Fisher needs all events at once
    monkeypatch.chdir(tmp_path)
    create_class_example("ex.root", n_events=200, seed=3)
    factory = TMVA.Factory("job", "!V:Silent:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v, "F")
    loader.AddSignalTree("ex.root:TreeS")
    loader.AddBackgroundTree("ex.root:TreeB")
    loader.PrepareTrainingAndTestTree("", "Streaming=True:ChunkSize=1000:NormMode=NumEvents:!V")
    with pytest.raises(OptionError, match=r"Fisher.*Streaming=True"):
        factory.BookMethod(loader, TMVA.Types.kFisher, "Fisher", "!H:!V")


# ------------------------------------------------------------------ shards (torch.distributed)


@pytest.mark.parametrize("world", [2, 3])
def test_shards_are_disjoint_read_only_their_chunks_and_together_are_the_sample(
    trees: Trees, monkeypatch: pytest.MonkeyPatch, world: int
) -> None:
    """``chunks(which, shard=(rank, world))``: chunk ``j`` of a class belongs to rank ``j mod world``.

    The events of the shards (identified by the ``evt`` spectator and the class) are disjoint, their
    union is the sample streamed without shards, and each rank reads only its own chunks of entries.
    """
    from pymva.data import executor

    path, _ = trees
    ds = _loader(path, "Streaming=True:ChunkSize=1000:!V").streamed_dataset()
    chunks_per_class = -(-N // 1000)  # each class is one tree of N entries
    assert ds.can_shard(world)
    reads: list[tuple[str, int, int]] = []
    real = executor.read_partition

    def counting(path: str, treename: str, start: int, stop: int, *args: object) -> object:
        reads.append((treename, start, stop))
        return real(path, treename, start, stop, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(executor, "read_partition", counting)
    for which in ("train", "test"):
        reads.clear()
        full = np.concatenate([c.spectators[:, 0] * 2 + c.class_id for c in ds.chunks(which)])
        assert reads == []  # unsharded: the source is read from its start, chunk after chunk
        shards = []
        for rank in range(world):
            reads.clear()
            got = list(ds.chunks(which, shard=(rank, world)))
            shards.append(np.concatenate([c.spectators[:, 0] * 2 + c.class_id for c in got]))
            # rank's chunks of each class: j = rank, rank + world, … of the class's ceil(N / 1000)
            mine = [
                (t, 1000 * j, min(1000 * (j + 1), N))
                for t in ("sig", "bkg")
                for j in range(rank, chunks_per_class, world)
            ]
            assert sorted(reads) == sorted(mine)
        union = np.concatenate(shards)
        assert len(np.unique(union)) == len(union)  # disjoint
        np.testing.assert_array_equal(np.sort(union), np.sort(full))


def test_shards_need_chunks_in_files(trees: Trees) -> None:
    path, _ = trees
    ds = _loader(path, "Streaming=True:ChunkSize=4000:!V").streamed_dataset()  # 2 chunks per class
    assert ds.can_shard(2)
    assert not ds.can_shard(3)
    with pytest.raises(OptionError, match=r"cannot be read in 3 shards .*at least 3 chunks"):
        next(iter(ds.chunks("train", shard=(0, 3))))
    with pytest.raises(OptionError, match=r"rank 2\)"):
        next(iter(ds.chunks("train", shard=(2, 2))))
