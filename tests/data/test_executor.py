"""``DataLoader(..., Executor=client)``: trees read and selected on Dask workers (``pymva.data.executor``).

The reference is the same loader built in this process, without an executor: the DataSet must be the
same bit for bit (the same events in the same order, the same float32 values, weights, classes and
split), because the workers read the same chunks and select every entry on its own.  The cluster is a
real ``distributed.LocalCluster`` of two worker processes (one thread each), started once.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed  # the extra pymva[dask]; installed for the tests (.ci/run), so never skipped
import numpy as np
import pytest
import uproot

from pymva.data import build
from pymva.data.loader import DataLoader
from pymva.errors import DataError, MissingExtraError, OptionError

SIZES = (900, 1037, 1174, 1311)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    cl = distributed.Client(cluster)
    try:
        yield cl
    finally:
        cl.close()
        cluster.close()


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Four files of a tree ``t`` written with uproot's ``mktree`` + ``extend`` (a jagged branch too)."""
    d = tmp_path_factory.mktemp("chain")
    rng = np.random.default_rng(18)
    paths = []
    for i, n in enumerate(SIZES):
        counts = rng.integers(0, 4, n)
        path = d / f"part{i}.root"
        with uproot.recreate(path) as f:
            f.mktree(
                "t",
                {"x": np.float32, "y": np.float64, "n": np.int32, "w": np.float32, "jet": "var * float32"},
            )
            f["t"].extend(
                {
                    "x": rng.normal(size=n).astype(np.float32),
                    "y": rng.normal(1.0, 2.0, n),
                    "n": counts.astype(np.int32),
                    "w": rng.uniform(0.5, 2.0, n).astype(np.float32),
                    "jet": __import__("awkward").unflatten(
                        rng.exponential(10.0, int(counts.sum())).astype(np.float32), counts
                    ),
                }
            )
        paths.append(f"{path}:t")
    return paths


def _loader(chain: list[str], executor: Any, opts: str, *, cuts: bool = True) -> DataLoader:
    loader = DataLoader("ds", Executor=executor)
    loader.AddVariable("x")
    loader.AddVariable("xy := x*y + n")
    if cuts:
        loader.AddVariable("jet[0]")  # entries without a jet give no event
    loader.AddSpectator("n")
    if cuts:
        loader.AddTree(chain[:2], "Signal", 1.0, "n != 2")  # a tree cut on a chain
        loader.AddBackgroundTree(chain[2:], 2.0)
        loader.SetWeightExpression("w")
        loader.PrepareTrainingAndTestTree("x > -1.5", opts)
    else:  # the direct plan: no cut, one value per entry
        loader.AddSignalTree(chain[:2])
        loader.AddBackgroundTree(chain[2:])
        loader.PrepareTrainingAndTestTree("", opts)
    return loader


def _assert_same(a: Any, b: Any) -> None:
    for which in ("train", "test"):
        sa, sb = getattr(a, which), getattr(b, which)
        for field in ("X", "targets", "spectators", "weights", "class_id"):
            x, y = getattr(sa, field), getattr(sb, field)
            assert x.dtype == y.dtype, (which, field)
            assert x.shape == y.shape, (which, field)
            np.testing.assert_array_equal(x, y, err_msg=f"{which} {field}")
    assert [(v.min, v.max) for v in a.variables] == [(v.min, v.max) for v in b.variables]
    assert a.correlations.keys() == b.correlations.keys()
    for k in a.correlations:
        np.testing.assert_array_equal(a.correlations[k], b.correlations[k])


def _tasks(stream: Any) -> int:
    return sum("read_partition" in str(t["key"]) for t in stream.data)


@pytest.mark.parametrize(
    ("opts", "cuts"),
    [
        ("SplitMode=Random:NormMode=NumEvents:!V", True),
        ("SplitMode=Block:MixMode=Random:NormMode=EqualNumEvents:!V", True),
        ("nTrain_Signal=700:nTrain_Background=900:!V", False),
        ("Streaming=True:ChunkSize=250:!V", True),
    ],
)
def test_dask_build_equals_local_build(
    client: Any, chain: list[str], monkeypatch: pytest.MonkeyPatch, opts: str, cuts: bool
) -> None:
    # small chunks, so that every file is several partitions (the chunks of the local build too)
    monkeypatch.setattr(build, "MIN_CHUNK_ENTRIES", 64)
    monkeypatch.setattr(build, "CHUNK_BYTES", 300 * 8 * 8)
    local = _loader(chain, None, opts, cuts=cuts).GetDataSetInfo().GetDataSet()
    with distributed.get_task_stream(client) as stream:
        remote = _loader(chain, client, opts, cuts=cuts).GetDataSetInfo().GetDataSet()
    _assert_same(local, remote)
    assert len(local.train) > 1000
    assert len(local.test) > 500
    # every chunk of every file was read on a worker, once: 4 (3) columns, branches x y n w jet (x y n)
    step = 250 if "Streaming" in opts else build._chunk_entries(4, 5) if cuts else build._chunk_entries(3, 3)
    assert step < 400
    assert _tasks(stream) == sum(math.ceil(n / step) for n in SIZES)


def test_dask_stream_equals_local_stream(client: Any, chain: list[str]) -> None:
    opts = "ChunkSize=300:!V"
    for which in ("train", "test"):
        local = list(_loader(chain, None, opts).stream(which))
        remote = list(_loader(chain, client, opts).stream(which))
        assert len(local) == len(remote) > 4
        for a, b in zip(local, remote, strict=True):
            for field in ("X", "targets", "spectators", "weights", "class_id"):
                np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_dask_streamed_dataset_equals_local(client: Any, chain: list[str]) -> None:
    """What a streaming Factory job keeps (``streamed_dataset``): weights, classes, ranges, correlations."""
    opts = "Streaming=True:ChunkSize=200:nTrain_Signal=600:nTrain_Background=700:!V"  # a counting pass too
    local = _loader(chain, None, opts).streamed_dataset()
    with distributed.get_task_stream(client) as stream:
        remote = _loader(chain, client, opts).streamed_dataset()
    _assert_same(local, remote)
    assert local.factors == remote.factors
    assert _tasks(stream) == 2 * sum(math.ceil(n / 200) for n in SIZES)  # counting pass, then the scan


def test_uproot_tree_objects_are_read_on_the_workers(client: Any, chain: list[str]) -> None:
    built = []
    for ex in (None, client):
        files = [uproot.open(spec.rsplit(":", 1)[0]) for spec in chain[:2]]
        loader = DataLoader("objects", Executor=ex)
        loader.AddVariable("x")
        loader.AddVariable("y")
        loader.AddSignalTree(files[0]["t"])
        loader.AddBackgroundTree(files[1]["t"])
        loader.PrepareTrainingAndTestTree("y > 0", "!V")
        with distributed.get_task_stream(client) as stream:
            built.append(loader.GetDataSetInfo().GetDataSet())
        assert _tasks(stream) == (2 if ex is not None else 0)  # one partition per tree of < 4096 entries
        for f in files:
            f.close()
    _assert_same(*built)


def test_in_memory_trees_are_read_in_the_client(client: Any) -> None:
    rng = np.random.default_rng(3)
    sig = {"x": rng.normal(1, 1, 300), "y": rng.normal(size=300)}
    bkg = {"x": rng.normal(-1, 1, 300), "y": rng.normal(size=300)}
    built = []
    for ex in (None, client):
        loader = DataLoader("mem", Executor=ex)
        loader.AddVariable("x")
        loader.AddVariable("y")
        loader.AddSignalTree(sig)
        loader.AddBackgroundTree(bkg)
        loader.PrepareTrainingAndTestTree("", "!V")
        with distributed.get_task_stream(client) as stream:
            built.append(loader.GetDataSetInfo().GetDataSet())
        assert _tasks(stream) == 0
    _assert_same(*built)


def test_worker_errors_reach_the_client(client: Any, chain: list[str], tmp_path: Path) -> None:
    import shutil

    copies = []
    for spec in chain[:2]:
        path = spec.rsplit(":", 1)[0]
        dst = tmp_path / Path(path).name
        shutil.copy(path, dst)
        copies.append(f"{dst}:t")
    loader = DataLoader("gone", Executor=client)
    loader.AddVariable("x")
    loader.AddSignalTree(copies[0])
    loader.AddBackgroundTree(copies[1])
    loader.PrepareTrainingAndTestTree("", "!V")
    Path(copies[1].rsplit(":", 1)[0]).unlink()  # removed after AddTree: the worker cannot open it
    with pytest.raises(DataError, match="does not exist"):
        loader.GetDataSetInfo().GetDataSet()


def test_bad_executor_is_an_option_error() -> None:
    with pytest.raises(OptionError, match=r"Executor=.*distributed\.Client"):
        DataLoader("d", Executor=4)


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingExtraError, match=r"pip install pymva\[dask\]"):
        DataLoader("d", Executor="tcp://127.0.0.1:1")
    assert DataLoader("d").executor is None  # no executor: nothing imported


def _where_and_what(chunk: Any, first: int) -> tuple[int, int, int, int, float]:
    """A reduction that says where it ran: (process id, first entry, entries read, events, Σw)."""
    import os

    return os.getpid(), first, chunk.n_read, len(chunk.block.weights), float(np.sum(chunk.block.weights))


def test_reductions_run_on_the_workers_and_equal_the_local_ones(client: Any, chain: list[str]) -> None:
    """``selected_chunks(..., reduce=f)``: ``f`` runs where the chunk is selected, on a worker.

    What the ``Streaming=True`` scan and its counting pass use, so that only the reductions (counts,
    sums, ranges, moments, per-event weights) travel to the client; the same function on the same
    chunk gives the local result, and ``first`` counts the entries of the chain's earlier files.
    """
    import os

    from pymva.data.executor import as_executor, selected_chunks
    from pymva.data.expression import Formula
    from pymva.data.selection import ChunkSelection
    from pymva.data.sources import open_source

    source = open_source(chain)
    selection = ChunkSelection((("Input", Formula("x")),), weight=Formula("w"), cut=Formula("x > 0"))
    branches = frozenset({"x", "w"})
    local = list(selected_chunks(source, branches, 300, selection, None, None, _where_and_what))
    remote = list(
        selected_chunks(source, branches, 300, selection, None, as_executor(client), _where_and_what)
    )
    assert [r[1:] for r in remote] == [r[1:] for r in local]
    assert [r[1] for r in local] == [
        sum(SIZES[:i]) + a for i, n in enumerate(SIZES) for a in range(0, n, 300)
    ]
    workers = set(client.run(os.getpid).values())
    assert {r[0] for r in local} == {os.getpid()}
    assert {r[0] for r in remote} <= workers


def test_dask_shards_equal_local_shards(client: Any, chain: list[str]) -> None:
    """One rank's chunks (``chunks(shard=(rank, 2))``) read on the workers are those read locally."""
    opts = "Streaming=True:ChunkSize=300:!V"
    local = _loader(chain, None, opts).streamed_dataset()
    remote = _loader(chain, client, opts).streamed_dataset()
    for rank in (0, 1):
        with distributed.get_task_stream(client) as stream:
            b = list(remote.chunks("train", shard=(rank, 2)))
        a = list(local.chunks("train", shard=(rank, 2)))
        assert len(a) == len(b) > 2
        for x, y in zip(a, b, strict=True):
            for field in ("X", "targets", "spectators", "weights", "class_id"):
                np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
        # only this rank's partitions were read: chunk j of each class (over its files) for j = rank mod 2
        signal, background = (sum(math.ceil(n / 300) for n in sizes) for sizes in (SIZES[:2], SIZES[2:]))
        assert _tasks(stream) == len(range(rank, signal, 2)) + len(range(rank, background, 2))


@pytest.mark.parametrize("spec", ["N", "D", "P", "N,D,P", "D_Signal,N", "G,N"])
def test_streaming_transformation_fits_reduced_on_the_workers_equal_the_local_ones(
    client: Any, chain: list[str], spec: str
) -> None:
    """``Streaming=True`` + an executor: N, D and P are fitted from per-chunk moments made on the workers.

    The Factory's source of training chunks (``_StreamSource``, ``IgnoreNegWeightsInTraining``
    through ``_TrainingChunks``) offers ``map`` only with an executor; the parameters and the
    statistics table equal those of the local fit bit for bit (the same operations, merged in
    stream order; G still reads its two passes in the client).
    """
    from pymva.factory import _StreamSource
    from pymva.methods.base import _TrainingChunks
    from pymva.transforms import TransformationHandler

    opts = "Streaming=True:ChunkSize=250:NormMode=EqualNumEvents:!V"
    fitted = []
    for ex in (None, client):
        loader = _loader(chain, ex, opts)
        ds = loader.streamed_dataset()
        stream_source = _StreamSource(ds, "train")
        counting = _CountingSource(stream_source)  # the passes that bring the chunks to the client
        passes = counting.passes
        source = _TrainingChunks(counting, True)
        assert callable(getattr(source, "map", None)) == (ex is not None)
        h = TransformationHandler.parse(spec, variables=ds.variables, class_names=ds.class_names)
        h.fit_streaming(source)
        n_gauss = sum(1 for el in h.elements if el.letter in "GU")
        mapped = len(h.elements) - n_gauss + 1  # N, D, P and the statistics table
        # locally every pass reads the chunks; on Dask only G's two passes do
        assert len(passes) == (2 * n_gauss if ex is not None else 2 * n_gauss + mapped)
        fitted.append(h)
    local, remote = fitted
    for a, b in zip(local.elements, remote.elements, strict=True):
        _assert_same_params(a.params_, b.params_, a.letter)
    assert local.training_statistics_ == remote.training_statistics_


class _CountingSource:
    """A chunk source that counts its passes (``map`` passed through when the source has it)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.passes: list[int] = []
        if callable(getattr(inner, "map", None)):
            self.map = inner.map

    def __call__(self) -> Any:
        self.passes.append(1)
        return self.inner()


def _assert_same_params(a: Any, b: Any, where: str) -> None:
    """Nested parameter sets (tuples, lists, arrays, objects with arrays) equal value for value."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)), where
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same_params(x, y, f"{where}[{i}]")
    elif hasattr(a, "__dict__"):
        assert type(a) is type(b), where
        for k in vars(a):
            _assert_same_params(getattr(a, k), getattr(b, k), f"{where}.{k}")
    else:
        assert a == b, where
