"""Reading and selecting the chunks of trees on a Dask cluster (a pymva extension; ``pymva[dask]``).

``DataLoader(name, Executor=client)`` with a ``distributed.Client`` (or the address of a Dask
scheduler) makes the DataSet build (ordinary and ``Streaming=True``) and
:meth:`~pymva.data.loader.DataLoader.stream` read their trees on the Dask workers:

1. every tree (every file of a chain) that is read from a file is cut into partitions of
   entries ``[start, start + step)``, the same chunks the single-process build reads;
2. each partition is one task (``client.submit``): the worker opens the file, reads only the
   branches the expressions name (:func:`pymva.data.sources._iterate_uproot_tree`, as locally) and
   applies the compiled selection (:class:`pymva.data.selection.ChunkSelection`: tree cut, array
   sizes, cuts, expressions, weights, NaN/±inf tallies, counts before and after the cut);
3. the client takes the selected events of the partitions back in their order (at most a few tasks
   per worker thread in flight), and the build goes on as without an executor: the split, the
   renormalisation, the mixing, the training ranges and correlations.

The partitions are the chunks of the local build and every entry is selected on its own, so the
DataSet is the single-process one bit for bit (the same events, in the same order within each file).
Trees in files on disk handed over as uproot objects (``uproot.open(path)["t"]``,
``TFile.Open(path).Get("t")``) are opened again by the workers; other sources (events in memory,
files opened from Python file objects) are read in the client as without an executor.

A caller that needs only a reduction of each chunk (the ``Streaming=True`` scan: counts, sums of
weights, ranges and moments; :mod:`pymva.data.stream`) passes ``reduce`` to :func:`selected_chunks`:
the worker then applies it to the selected chunk and sends back only its (small) result, the same
function on the same chunk as in a single process.

Dask is imported only when an executor is given; without it the error names ``pip install pymva[dask]``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import OptionError
from .selection import ChunkSelection, SelectedChunk
from .sources import (
    ChainSource,
    FileTreeSource,
    TreeSource,
    UprootTreeSource,
    _get_tree,
    _iterate_uproot_tree,
    _open_file,
)

__all__ = [
    "DaskExecutor",
    "as_executor",
    "read_partition",
    "selected_chunks",
    "selected_partitions",
    "source_partitions",
]

#: Tasks in flight per worker thread while the client takes the results in order.
TASKS_PER_THREAD = 2


@dataclass(frozen=True)
class _Partition:
    """Entries ``[start, stop)`` of the tree ``treename`` in the file ``path``.

    ``first`` is the entry of ``start`` counted over the whole source (a chain counts the entries of
    the files before this one).
    """

    path: str
    treename: str
    start: int
    stop: int
    kinds: Mapping[str, tuple[str, str]]
    first: int = 0


#: ``reduce(chunk, first)``: what a worker sends back instead of a selected chunk (``first``: the
#: entry of the chunk's first entry in the whole source).
Reduce = Callable[[SelectedChunk, int], Any]


def read_partition(
    path: str,
    treename: str,
    start: int,
    stop: int,
    branches: Sequence[str],
    kinds: Mapping[str, tuple[str, str]],
    selection: ChunkSelection,
    reduce: Reduce | None = None,
    first: int = 0,
) -> Any:
    """Read entries ``[start, stop)`` of a tree and select its events (runs on a Dask worker).

    Parameters
    ----------
    path, treename : str
        The file and the tree (or RNTuple) in it.
    start, stop : int
        The entry range (``stop > start``).
    branches : sequence of str
        The branches to read (already checked to exist).
    kinds : mapping
        The tree's branch kinds (:meth:`pymva.data.sources.TreeSource.branch_kinds`).
    selection : ChunkSelection
        What turns the branches into events.
    reduce : callable, optional
        ``reduce(chunk, first)`` is returned instead of the chunk.
    first : int
        The entry of ``start`` in the whole source (passed to ``reduce``).

    Returns
    -------
    SelectedChunk or what ``reduce`` returns
        The events (values float32), or their reduction.

    Raises
    ------
    DataError
        A file or tree that cannot be opened or read, and what the selection raises.
    """
    with _open_file(path, treename) as file:
        tree, _ = _get_tree(file, path, treename)
        chunks = list(_iterate_uproot_tree(tree, branches, stop - start, kinds, start, stop))
    arrays = chunks[0] if chunks else {b: np.empty(0) for b in branches}
    chunk = selection(arrays)
    return chunk if reduce is None else reduce(chunk, first)


def _file_tree(source: TreeSource) -> tuple[str, str] | None:
    """``(path, tree name)`` of a source that is one tree in a file on disk, else ``None``.

    A tree named by path, or an uproot ``TTree``/``RNTuple`` object (also from
    ``TFile.Open(path).Get(name)``) opened from a local file, which the workers open again.
    """
    if isinstance(source, FileTreeSource):
        return source.path, source.treename
    if isinstance(source, UprootTreeSource):
        path = getattr(getattr(source.tree, "file", None), "file_path", None)
        if isinstance(path, str) and os.path.isfile(path):
            return path, str(source.tree.object_path).lstrip("/").split(";")[0]
    return None


def _file_parts(source: TreeSource) -> list[tuple[TreeSource, str, str]] | None:
    """``(source, path, tree name)`` of every file a source reads, in order, when all are files on disk."""
    parts = source.parts if isinstance(source, ChainSource) else [source]
    out = []
    for part in parts:
        where = _file_tree(part)
        if where is None:
            return None
        out.append((part, *where))
    return out


def source_partitions(source: TreeSource, step: int) -> list[_Partition] | None:
    """The chunks of ``step`` entries that ``source`` is read in, file by file, in reading order.

    Parameters
    ----------
    source : TreeSource
    step : int
        Entries per chunk (the chunks of :meth:`TreeSource.iterate` with this step).

    Returns
    -------
    list of _Partition or None
        ``None`` when the source is not read from files on disk (events in memory, a file opened
        from a Python file object): it can only be read from its start.
    """
    parts = _file_parts(source)
    if parts is None:
        return None
    step = max(int(step), 1)
    out: list[_Partition] = []
    offset = 0
    for p, path, treename in parts:
        n, kinds = p.num_entries, p.branch_kinds()
        out += [_Partition(path, treename, a, min(a + step, n), kinds, offset + a) for a in range(0, n, step)]
        offset += n
    return out


def selected_partitions(
    source: TreeSource,
    partitions: Sequence[_Partition],
    branches: frozenset[str],
    selection: ChunkSelection,
    executor: DaskExecutor | None,
) -> Iterator[SelectedChunk]:
    """The selected events of some partitions of ``source`` (:func:`source_partitions`), in their order.

    Only those partitions are read: on the Dask workers with an executor, else in this process.

    Raises
    ------
    DataError
        As reading and selecting the whole source.
    """
    wanted = source.wanted_branches(branches)
    if executor is not None:
        yield from executor.map(partitions, wanted, selection)
        return
    for p in partitions:
        yield read_partition(p.path, p.treename, p.start, p.stop, wanted, p.kinds, selection)


class DaskExecutor:
    """A ``distributed.Client`` that reads and selects the partitions of trees.

    Parameters
    ----------
    client : distributed.Client

    Attributes
    ----------
    client : distributed.Client
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"DaskExecutor({self.client!r})"

    def window(self) -> int:
        """Tasks kept in flight: :data:`TASKS_PER_THREAD` per worker thread (at least 2)."""
        try:
            threads = sum(int(n) for n in self.client.nthreads().values())
        except Exception:  # noqa: BLE001 - a client that cannot tell; a small window still works
            threads = 1
        return max(TASKS_PER_THREAD * threads, 2)

    def partitions(self, source: TreeSource, step: int) -> list[_Partition] | None:
        """The partitions of ``source`` in reading order, or ``None`` when it is not read from files."""
        return source_partitions(source, step)

    def map(
        self,
        partitions: Sequence[_Partition],
        branches: Sequence[str],
        selection: ChunkSelection,
        reduce: Reduce | None = None,
    ) -> Iterator[Any]:
        """The selected events of every partition (or their ``reduce``), in the order of ``partitions``.

        At most :meth:`window` tasks are in flight; the tasks not yet taken are cancelled when the
        iteration stops early or a task fails (its exception is raised here, as on the worker).
        """
        submit = self.client.submit
        todo = iter(partitions)
        pending: deque[Any] = deque()
        limit = self.window()
        wanted = list(branches)
        try:
            while True:
                while len(pending) < limit:
                    p = next(todo, None)
                    if p is None:
                        break
                    pending.append(
                        submit(
                            read_partition,
                            p.path,
                            p.treename,
                            p.start,
                            p.stop,
                            wanted,
                            p.kinds,
                            selection,
                            reduce,
                            p.first,
                            pure=False,
                        )
                    )
                if not pending:
                    return
                future = pending.popleft()
                result = future.result()
                del future
                yield result
        finally:
            if pending:
                self.client.cancel(list(pending))


def as_executor(value: Any) -> DaskExecutor | None:
    """The ``Executor`` argument of :class:`~pymva.data.loader.DataLoader` as a :class:`DaskExecutor`.

    Parameters
    ----------
    value : None, distributed.Client, str or DaskExecutor
        ``None`` (read in this process), a client, or the address of a Dask scheduler
        (``"tcp://host:8786"``, connected to with ``distributed.Client(address)``).

    Returns
    -------
    DaskExecutor or None

    Raises
    ------
    MissingExtraError
        If Dask's ``distributed`` is not installed (``pip install pymva[dask]``).
    OptionError
        Anything else than the accepted values.
    """
    if value is None or isinstance(value, DaskExecutor):
        return value
    from .. import extras

    distributed = extras.distributed()
    if isinstance(value, str):
        return DaskExecutor(distributed.Client(value))
    if isinstance(value, distributed.Client):
        return DaskExecutor(value)
    raise OptionError(
        f"DataLoader(Executor=...): a distributed.Client, the address of a Dask scheduler "
        f"('tcp://host:8786') or None are accepted, not {type(value).__module__}.{type(value).__name__}"
    )


def selected_chunks(
    source: TreeSource,
    branches: frozenset[str],
    step: int,
    selection: ChunkSelection,
    out: Callable[[int], npt.NDArray[np.float32]] | None,
    executor: DaskExecutor | None,
    reduce: Reduce | None = None,
) -> Iterator[Any]:
    """The selected events of a tree, chunk by chunk: on the Dask workers or in this process.

    Parameters
    ----------
    source : TreeSource
    branches : frozenset of str
        The branches the expressions read (checked to exist).
    step : int
        Entries per chunk.
    selection : ChunkSelection
    out : callable or None
        Where the event values go (see :meth:`ChunkSelection.__call__`); the values of a chunk
        selected on a worker are copied there.
    executor : DaskExecutor or None
    reduce : callable, optional
        ``reduce(chunk, first)`` (``first``: the entry of the chunk's first entry in the source) is
        yielded instead of each chunk, computed where the chunk was selected (on the worker);
        ``out`` is not used then.

    Yields
    ------
    SelectedChunk, or what ``reduce`` returns

    Raises
    ------
    DataError
        As reading and selecting in this process.
    """
    partitions = executor.partitions(source, step) if executor is not None else None
    if executor is None or partitions is None:
        first = 0
        for arrays in source.iterate(branches, step):
            if reduce is None:
                yield selection(arrays, out)
                continue
            chunk = selection(arrays)
            yield reduce(chunk, first)
            first += chunk.n_read
        return
    if reduce is not None:
        yield from executor.map(partitions, source.wanted_branches(branches), selection, reduce)
        return
    for chunk in executor.map(partitions, source.wanted_branches(branches), selection):
        if out is not None:
            values = chunk.block.values
            dest = out(values.shape[0])
            dest[...] = values
            chunk = replace(chunk, block=replace(chunk.block, values=dest))
        yield chunk
