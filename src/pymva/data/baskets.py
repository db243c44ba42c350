"""Reading flat numeric branches in entry ranges bounded by bytes, whatever the file's basket layout.

A ROOT basket is the unit of compression: to get one entry of a branch, its whole basket is
decompressed.  uproot's ``TTree.iterate`` reads, for every chunk of entries, the baskets of *all*
branches that overlap the chunk at once, interprets each of them whole, and keeps those that reach
into the next chunk.  With large baskets (500,000 entries a basket is common for files written in
one go) that holds several copies of every branch's basket at the same time — compressed bytes,
decompressed bytes, the interpreted array and the slice handed out — and the peak memory of building
a data set grows with the basket size instead of with the chunk size.

Here the reading is planned from the tree's metadata alone (the basket boundaries and uncompressed
sizes, as in uproot's ``num_entries_for``; the same facts ROOT's ``TTree::GetEntry`` works from):

* entries are handed out in chunks of at most ``step`` entries (the caller bounds ``step`` by the
  bytes of the event values it builds per chunk);
* each branch keeps the part of its last read that the next chunks still need; when a chunk reaches
  beyond it, the branch's baskets up to the first basket boundary at or after the chunk's end are
  read (never more than the baskets the chunk needs);
* branches that need the same entry range are read together (their baskets decompress in parallel on
  uproot's executor), in groups whose uncompressed basket bytes stay within ``read_bytes``; only a
  single basket larger than that is read alone, as it must be.

So at any time a branch holds at most one basket beyond the current chunk, and one read
decompresses at most ``read_bytes`` (or one basket).  The events, their order and their values are
those of ``TTree.iterate`` (same arrays, sliced at the same entries).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["READ_BYTES", "BasketLayout", "BasketRead", "ChunkPlan", "iterate_flat", "plan_reads"]

#: Uncompressed basket bytes decompressed by one read (one ``TTree.arrays`` call).
READ_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class BasketLayout:
    """Where the baskets of one branch start and how large they are when decompressed.

    Attributes
    ----------
    offsets : ndarray of int64, shape (n_baskets + 1,)
        First entry of every basket, then the number of entries (uproot's ``TBranch.entry_offsets``).
    nbytes : ndarray of int64, shape (n_baskets,)
        Uncompressed bytes of every basket (uproot's ``TBranch.basket_uncompressed_bytes``).
    """

    offsets: npt.NDArray[np.int64]
    nbytes: npt.NDArray[np.int64]

    def read_stop(self, stop: int) -> int:
        """The first basket boundary at or after entry ``stop`` (the end of the branch at most)."""
        i = int(np.searchsorted(self.offsets, stop, side="left"))
        return int(self.offsets[min(i, len(self.offsets) - 1)])

    def bytes_between(self, start: int, stop: int) -> int:
        """Uncompressed bytes of the baskets that hold entries ``[start, stop)``."""
        if stop <= start:
            return 0
        first = int(np.searchsorted(self.offsets, start, side="right")) - 1
        last = int(np.searchsorted(self.offsets, stop, side="left"))
        return int(self.nbytes[max(first, 0) : last].sum())


@dataclass(frozen=True)
class BasketRead:
    """One read: entries ``[start, stop)`` of ``branches``, ``nbytes`` uncompressed basket bytes."""

    branches: tuple[str, ...]
    start: int
    stop: int
    nbytes: int


@dataclass(frozen=True)
class ChunkPlan:
    """One chunk handed out, entries ``[start, stop)``, and the reads done before it."""

    start: int
    stop: int
    reads: tuple[BasketRead, ...] = field(default_factory=tuple)


def plan_reads(
    layouts: Mapping[str, BasketLayout], n_entries: int, step: int, read_bytes: int = READ_BYTES
) -> Iterator[ChunkPlan]:
    """The chunks of at most ``step`` entries and the basket reads that each needs first.

    Parameters
    ----------
    layouts : mapping of str to BasketLayout
        Every branch to read.  Each layout's last offset must be at least ``n_entries``.
    n_entries : int
        Entries to hand out (``[0, n_entries)``).
    step : int
        Entries per chunk (at least 1).
    read_bytes : int
        Largest uncompressed size of one read; a group of branches that need the same entry range
        is split so that each read stays within it, but a branch is never split (one basket larger
        than ``read_bytes`` is read alone).

    Yields
    ------
    ChunkPlan
        In entry order; together they cover ``[0, n_entries)`` exactly once.

    Raises
    ------
    ValueError
        If ``step`` < 1 or a layout ends before ``n_entries``.
    """
    if step < 1:
        raise ValueError(f"step must be at least 1, not {step}")
    names = list(layouts)
    for name in names:
        if int(layouts[name].offsets[-1]) < n_entries:
            raise ValueError(f"the baskets of branch '{name}' end before entry {n_entries}")
    have = dict.fromkeys(names, 0)  # every branch holds entries [chunk start, have[name])
    for start in range(0, n_entries, step):
        stop = min(start + step, n_entries)
        groups: dict[tuple[int, int], list[tuple[str, int]]] = {}
        for name in names:
            if have[name] < stop:
                layout = layouts[name]
                until = layout.read_stop(stop)
                nbytes = layout.bytes_between(have[name], until)
                groups.setdefault((have[name], until), []).append((name, nbytes))
                have[name] = until
        reads: list[BasketRead] = []
        for (lo, hi), members in groups.items():
            batch: list[str] = []
            total = 0
            for name, nbytes in members:
                if batch and total + nbytes > read_bytes:
                    reads.append(BasketRead(tuple(batch), lo, hi, total))
                    batch, total = [], 0
                batch.append(name)
                total += nbytes
            reads.append(BasketRead(tuple(batch), lo, hi, total))
        yield ChunkPlan(start, stop, tuple(reads))


def layout_of(branch: Any) -> BasketLayout | None:
    """The :class:`BasketLayout` of a flat numeric uproot ``TBranch``, from its metadata alone.

    The uncompressed size of a basket is its entries times the size of one value of the branch's
    interpretation (``to_dtype``; 8 bytes where it has none), without reading any basket key.

    Returns
    -------
    BasketLayout or None
        ``None`` when the branch has no baskets or its entry offsets are not increasing.
    """
    offsets = np.asarray(branch.entry_offsets, dtype=np.int64)
    if len(offsets) < 2 or int(offsets[0]) != 0 or np.any(np.diff(offsets) < 0):
        return None
    to_dtype = getattr(branch.interpretation, "to_dtype", None)
    itemsize = int(to_dtype.itemsize) if isinstance(to_dtype, np.dtype) and to_dtype.itemsize else 8
    return BasketLayout(offsets, np.diff(offsets) * itemsize)


class _Pieces:
    """The entries one branch has read and not yet handed out, as consecutive arrays."""

    def __init__(self) -> None:
        self.pieces: list[tuple[int, npt.NDArray[Any]]] = []  # (first entry, values)

    def add(self, start: int, values: npt.NDArray[Any]) -> None:
        self.pieces.append((start, values))

    def take(self, start: int, stop: int) -> npt.NDArray[Any]:
        """Entries ``[start, stop)``, dropping what is before ``stop``.

        A view of one piece while the piece has more entries after ``stop``; a copy of a piece's last
        entries (and of a remainder shorter than a chunk), so that neither a chunk handed out nor a
        remainder keeps a whole basket alive while the next one is read.
        """
        parts = []
        keep: list[tuple[int, npt.NDArray[Any]]] = []
        for first, values in self.pieces:
            end = first + len(values)
            rest = values[max(stop - first, 0) :] if end > stop else None
            # the piece's array is let go after this chunk unless more than a chunk of it is left
            release = rest is None or len(rest) <= stop - start
            lo, hi = max(start, first), min(stop, end)
            if hi > lo:
                part = values[lo - first : hi - first]
                parts.append(part.copy() if release and part.base is not None else part)
            if rest is not None:
                keep.append((max(first, stop), rest.copy() if release and rest.base is not None else rest))
        self.pieces = keep
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts)


def iterate_flat(
    tree: Any,
    branches: Sequence[str],
    layouts: Mapping[str, BasketLayout],
    step: int,
    executor: Any,
    read_bytes: int | None = None,
) -> Iterator[tuple[int, int, dict[str, npt.NDArray[Any]]]]:
    """Read flat numeric branches of an uproot ``TTree`` chunk by chunk along :func:`plan_reads`.

    Parameters
    ----------
    tree : uproot TTree
    branches : sequence of str
        Branch names as the caller names them (keys of the yielded dicts).
    layouts : mapping of str to BasketLayout
        :func:`layout_of` of every branch.
    step : int
        Entries per chunk.
    executor : uproot executor or None
        Decompression executor passed to ``TTree.arrays``.
    read_bytes : int, optional
        See :func:`plan_reads`; :data:`READ_BYTES` by default.

    Yields
    ------
    (start, stop, dict of str to ndarray)
        The chunk's entry range and one 1-D numpy array per branch (views of the arrays read where
        the chunk lies within one read).

    Raises
    ------
    Exception
        Whatever uproot raises on a broken file; the caller turns it into a
        :class:`~pymva.errors.DataError` naming the chunk.
    """
    n_entries = int(tree.num_entries)
    pieces = {name: _Pieces() for name in branches}
    budget = READ_BYTES if read_bytes is None else read_bytes
    for chunk in plan_reads(layouts, n_entries, step, budget):
        for read in chunk.reads:
            wanted = frozenset(read.branches)
            got = tree.arrays(
                filter_name=lambda name, wanted=wanted: name in wanted,
                entry_start=read.start,
                entry_stop=read.stop,
                library="np",
                how=dict,
                decompression_executor=executor,
                array_cache=None,  # the file's cache would keep every read alive
            )
            for name in read.branches:
                values = got.pop(name, None)
                if values is None:  # a name uproot reports differently: read it on its own
                    values = tree[name].array(
                        entry_start=read.start, entry_stop=read.stop, library="np", array_cache=None
                    )
                pieces[name].add(read.start, np.asarray(values))
            del got
        arrays = {name: pieces[name].take(chunk.start, chunk.stop) for name in branches}
        yield chunk.start, chunk.stop, arrays
