"""``Streaming=True``: chunked reading and a split without a global shuffle (a pymva extension).

TMVA's ``DataSetFactory`` reads every event of every class into memory, then draws the training and
testing events with one random generator over the whole class (``SplitMode=Random``).  With the
split option ``Streaming=True`` (``PrepareTrainingAndTestTree(cut, "…:Streaming=True:ChunkSize=N")``)
pymva instead

1. reads every tree ``ChunkSize`` entries at a time (``uproot.iterate`` through
   :meth:`pymva.data.sources.TreeSource.iterate`), with the same cuts, expressions, weights and
   NaN/±inf checks as the ordinary build (:func:`pymva.data.expression.build_events`);
2. decides for each event, as soon as it is read, whether it is a training event, a testing event
   or dropped, from a hash of ``(tree name, entry number, SplitSeed)`` (:func:`entry_uniform`), so no
   shuffle over the whole class is needed and the decision does not depend on the chunk size, on the
   order of the trees or on the other classes;
3. keeps only the events chosen, and then does what the ordinary build does (``NormMode``
   renormalisation, ``MixMode``, training ranges, correlation matrices, TMVA's tables).

The fractions come from TMVA's numbers (:func:`streaming_fractions`): with the default
``nTrain = nTest = 0`` half of the events go to training and half to testing; with
``TrainTestSplit_<c>=f`` a fraction ``f`` is trained on and the rest tested; with explicit
``nTrain_<c>``/``nTest_<c>`` (or trees added for training or testing only) the events are counted in a
first pass and the fractions are TMVA's requested numbers divided by the available events.  The
numbers of events are then those of TMVA *in expectation* (each event is an independent draw, so they
fluctuate binomially, about ``√(n·f(1−f))``), not exactly.  Only ``SplitMode=Random`` has a streaming
form; events added one by one (``AddSignalTrainingEvent`` …) are not read by this path.

The samples built this way are held in memory as with the ordinary build (what is bounded is the
reading); training out of memory is not part of this module.  See docs/scaling.md.

The Factory's ``Streaming=True`` jobs do not build the samples: :meth:`_StreamingBuilder.scan`
passes over the stream once and keeps only TMVA's counts and sums, the training ranges, the
correlation moments and, per event, the weight, class and targets.  Each chunk is reduced to those
by :class:`_ScanReduce` where it is selected, which with ``DataLoader(Executor=client)`` is on the
Dask worker that read it: only the reductions travel to the client, which adds them in stream order
(the same float64 additions as in one process, so the results are the same bit for bit).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError, OptionError
from ..types import ETreeType
from .build import (
    MAX_CHUNK_ENTRIES,
    MIN_CHUNK_ENTRIES,
    _ClassStore,
    _DataSetBuilder,
    _log_factory,
)
from .dataset import DataSet, Sample
from .executor import selected_chunks, selected_partitions, source_partitions
from .expression import Formula
from .info import _formula, _TreeInfo
from .selection import ChunkSelection, SelectedChunk
from .split import (
    ClassCounts,
    SplitConfig,
    make_rng,
    mix_order,
    parse_split_options,
    renormalisation_factors,
    requested_numbers,
    weighted_moments,
)

__all__ = [
    "StreamChunk",
    "StreamFractions",
    "StreamedDataSet",
    "default_chunk_size",
    "entry_uniform",
    "streaming_fractions",
    "tree_key",
]

log = logging.getLogger("pymva.data.stream")

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

#: Fraction of the available memory one chunk of event values may take when ``ChunkSize=0``.
CHUNK_MEMORY_FRACTION = 1 / 64

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def default_chunk_size(n_columns: int, available_bytes: int | None = None) -> int:
    """Entries per chunk for ``ChunkSize=0``: 1/64 of the available memory in float64 event values.

    Parameters
    ----------
    n_columns : int
        Values per event (variables, targets, spectators; one more is counted for the weight).
    available_bytes : int, optional
        Memory to size for; by default the system's available physical memory
        (``os.sysconf('SC_AVPHYS_PAGES')``), 1 GiB where that is unknown.

    Returns
    -------
    int
        Between :data:`pymva.data.build.MIN_CHUNK_ENTRIES` and 4 × :data:`MAX_CHUNK_ENTRIES`.
    """
    if available_bytes is None:
        try:
            available_bytes = int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            available_bytes = 1 << 30
    per_entry = 8 * (max(n_columns, 1) + 1)
    n = int(available_bytes * CHUNK_MEMORY_FRACTION) // per_entry
    return max(MIN_CHUNK_ENTRIES, min(n, 4 * MAX_CHUNK_ENTRIES))


def tree_key(name: str) -> int:
    """The 64-bit key of a tree in the split hash: the first 8 bytes of BLAKE2b of its name.

    The name is the tree's (or chain's) name, not the file path: moving the files does not change
    the split.
    """
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def _splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser (Steele, Lea, Flood 2014), elementwise with 64-bit wrap-around."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        out: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
        return out


def entry_uniform(key: int, entries: npt.ArrayLike, seed: int) -> npt.NDArray[np.float64]:
    """A number in [0, 1) for each entry, a fixed function of ``(key, entry, seed)``.

    Two rounds of SplitMix64 over ``key ⊕ mix(seed)`` and the entry number; the top 53 bits give a
    float64 with the resolution of a double.  Different seeds give independent-looking splits.

    Parameters
    ----------
    key : int
        :func:`tree_key` of the tree.
    entries : array_like of int, shape (n,)
        Entry numbers in the tree (chain), ``>= 0``.
    seed : int
        ``SplitSeed``.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    base = _splitmix64(np.asarray([key ^ (int(seed) * 0x2545F4914F6CDD1D & 0xFFFFFFFFFFFFFFFF)], np.uint64))
    e = np.asarray(entries, dtype=np.int64).astype(np.uint64)
    h = _splitmix64(_splitmix64(e ^ base[0]) + base[0])
    out: npt.NDArray[np.float64] = (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    return out


@dataclass(frozen=True)
class StreamFractions:
    """Which events of one class go where (each ``u`` from :func:`entry_uniform`).

    Attributes
    ----------
    typed_train, typed_test : float
        Events of trees added for training (testing) only are kept in their sample when
        ``u < typed_train`` (``u < typed_test``); TMVA trims them when fewer are requested.
    train, test : float
        Events of trees for both samples: training when ``u < train``, testing when
        ``train <= u < train + test``, dropped otherwise.
    expected_train, expected_test : int
        TMVA's numbers of training and testing events, which the fractions give on average.
    """

    typed_train: float
    typed_test: float
    train: float
    test: float
    expected_train: int
    expected_test: int


def streaming_fractions(
    counts: ClassCounts, requested: tuple[int, int], *, dataset: str = "default"
) -> StreamFractions:
    """The fractions that give TMVA's numbers of training and testing events on average.

    The numbers are those of :func:`pymva.data.split.split_class` (TMVA's three cases for
    ``nTrain``/``nTest``, with ``r``, ``s``, ``u`` events from training, testing and undefined trees).

    Raises
    ------
    DataError
        TMVA's ``More events requested … than available`` cases.
    """
    r, s, u = counts.n_train_typed, counts.n_test_typed, counts.n_undefined
    big_r, big_s = requested
    n_all = r + s + u
    where = f"Dataset[{dataset}] : "
    if big_r == 0 and big_s == 0:
        if u >= abs(r - s):
            big_r = big_s = n_all // 2
        else:
            big_r, big_s = (r + u, s) if r < s else (r, s + u)
    elif big_s == 0:
        if n_all < max(big_r, r):
            raise DataError(
                f"{where}More events requested for training ({big_r}) than available ({n_all})! "
                f"(class '{counts.name}'; lower nTrain or TrainTestSplit, or loosen the cuts)"
            )
        big_r = max(big_r, r)
        big_s = n_all - big_r
    elif big_r == 0:
        if n_all < max(big_s, s):
            raise DataError(
                f"{where}More events requested for testing ({big_s}) than available ({n_all})! "
                f"(class '{counts.name}'; lower nTest, or loosen the cuts)"
            )
        big_s = max(big_s, s)
        big_r = n_all - big_s
    need_train, need_test = max(big_r - r, 0), max(big_s - s, 0)
    if need_train + need_test > u:
        raise DataError(
            f"{where}More events requested than available! (class '{counts.name}': {big_r} training and "
            f"{big_s} testing events requested, {r} from training trees, {s} from testing trees and {u} "
            "from trees for both available)"
        )
    return StreamFractions(
        typed_train=min(1.0, big_r / r) if r else 0.0,
        typed_test=min(1.0, big_s / s) if s else 0.0,
        train=need_train / u if u else 0.0,
        test=need_test / u if u else 0.0,
        expected_train=big_r,
        expected_test=big_s,
    )


def _hash_only_fractions(config: SplitConfig, k: int) -> tuple[float, float] | None:
    """``(train, test)`` fractions known without counting, or ``None`` when a counting pass is needed."""
    req = config.requests[k]
    if 0.0 < req.train_test_split < 1.0:
        return req.train_test_split, 1.0 - req.train_test_split
    if req.train_test_split == 0.0 and req.n_train == 0 and req.n_test == 0:
        return 0.5, 0.5
    return None


@dataclass(frozen=True)
class StreamChunk:
    """A chunk of training or testing events from :meth:`pymva.data.loader.DataLoader.stream`.

    Attributes
    ----------
    X : ndarray of float32, shape (n, n_variables)
    targets : ndarray of float32, shape (n, n_targets)
    spectators : ndarray of float32, shape (n, n_spectators)
    weights : ndarray of float32, shape (n,)
        Input weights (weight expression × tree weight), not renormalised.
    class_id : ndarray of int32, shape (n,)
    """

    X: F32
    targets: F32
    spectators: F32
    weights: F32
    class_id: npt.NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.weights)


@dataclass
class StreamedDataSet(DataSet):
    """A ``Streaming=True`` DataSet that does not hold the events (what the Factory streams from).

    The samples ``train`` and ``test`` keep, per event in stream order, the weights (training:
    ``NormMode``-renormalised), the class index and the regression targets; their ``X`` and
    ``spectators`` have no columns.  :meth:`chunks` reads the events again, in the same order.
    Built by :meth:`pymva.data.loader.DataLoader.streamed_dataset`.

    Attributes
    ----------
    factors : tuple of float
        ``NormMode``'s renormalisation factor of every class (applied to training weights).
    builder : object
        The streaming reader the chunks come from.
    """

    factors: tuple[float, ...] = ()
    builder: Any = None

    def map_chunks(self, which: str, fn: Callable[[Sample], Any]) -> Iterator[Any]:
        """``fn(sample)`` of every chunk that :meth:`chunks` gives, in the same order.

        Computed where the chunk is read and selected: on the Dask workers when the loader has an
        executor (``fn`` must then be picklable), else here; the same values either way.

        Raises
        ------
        OptionError
            ``which`` not ``"train"`` or ``"test"``.
        """
        yield from self.builder.map_chunks(which, fn, self.factors or (1.0,) * self.n_classes)

    def can_shard(self, world: int) -> bool:
        """Whether :meth:`chunks` can read ``world`` disjoint shards (``shard=(rank, world)``).

        Each tree is read in chunks of ``ChunkSize`` entries; chunk ``j`` of a class (counted over its
        trees in order) belongs to rank ``j mod world``.  That needs trees in files on disk (a chunk
        is read without the ones before it) and at least ``world`` chunks in every class.
        """
        return bool(self.builder is not None and self.builder.can_shard(world))

    def chunks(self, which: str, shard: tuple[int, int] | None = None) -> Iterator[StreamChunk]:
        """The events of ``which`` (``"train"`` or ``"test"``) again, a chunk at a time, in stream order.

        Training weights are renormalised as in :attr:`train`.  NaN/±inf reports are not repeated.

        Parameters
        ----------
        which : {"train", "test"}
        shard : (int, int), optional
            ``(rank, world size)``: only the chunks of entries that belong to ``rank`` are read (see
            :meth:`can_shard`); the shards of the ranks are disjoint and together are the sample.

        Raises
        ------
        OptionError
            ``which`` not ``"train"`` or ``"test"``, or a ``shard`` this DataSet cannot be read in.
        """
        factors = np.asarray(self.factors or (1.0,) * self.n_classes)
        scale = which == "train" and bool(np.any(factors != 1.0))
        for c in self.builder.iter_chunks(which, report=False, shard=shard):
            if scale:
                w = np.multiply(c.weights, factors[c.class_id]).astype(np.float32)
                c = StreamChunk(c.X, c.targets, c.spectators, w, c.class_id)
            yield c


@dataclass
class _Events:
    """The selected events of one block, with their entry numbers in the tree."""

    values: F32
    weights: F32  # tree weight included
    entries: I64


def _owns(offset: int, world: int, rank: int, j: int) -> bool:
    """Whether chunk ``j`` of a tree whose class counted ``offset`` chunks before it is ``rank``'s."""
    return (offset + j) % world == rank


def _with_first(chunks: Iterator[SelectedChunk]) -> Iterator[tuple[int, SelectedChunk]]:
    """Each chunk of a source read from its start with the entry of its first entry."""
    first = 0
    for chunk in chunks:
        yield first, chunk
        first += chunk.n_read


def _split_masks(tree_type: ETreeType, u: npt.NDArray[np.float64], frac: StreamFractions) -> dict[str, Any]:
    """Which events (uniform draws ``u``) of a tree of type ``tree_type`` go to training and testing."""
    if tree_type == ETreeType.kTraining:
        return {"train": u < frac.typed_train}
    if tree_type == ETreeType.kTesting:
        return {"test": u < frac.typed_test}
    return {"train": u < frac.train, "test": (u >= frac.train) & (u < frac.train + frac.test)}


@dataclass
class _ScanItem:
    """What :meth:`_StreamingBuilder.scan` keeps of the training or testing events of one chunk.

    ``weights`` float32 (tree weight included), ``targets`` float32 of shape (n, n_targets); for
    training events the minimum and maximum of every column (variables, targets, spectators) and,
    when correlations are computed, :func:`~pymva.data.split.weighted_moments` of the variables.
    """

    weights: F32
    targets: F32
    lo: npt.NDArray[np.float32] | None = None
    hi: npt.NDArray[np.float32] | None = None
    moments: tuple[npt.NDArray[np.float64], ...] | None = None


@dataclass
class _ScanPart:
    """One chunk reduced by :class:`_ScanReduce`: its counts, NaN tallies and kept items."""

    n_candidates: int
    sumw_candidates: float
    n: int
    sumw: float
    nan_selected: dict[tuple[str, str], tuple[int, int]]
    nan_rejected: dict[tuple[str, str], tuple[int, int]]
    items: list[tuple[str, _ScanItem]]


@dataclass(frozen=True)
class _ScanReduce:
    """Reduce one selected chunk of a tree to what the scan keeps (picklable: runs on Dask workers).

    The same operations as the build on the chunk's events: the tree weight applied in float32, the
    split by :func:`entry_uniform` of the entries, the training ranges and moments per chunk.
    """

    key: int
    seed: int
    fractions: StreamFractions | None  # None: only count (the first pass of _prepare)
    tree_type: ETreeType
    tree_weight: float
    k: int
    n_classes: int
    nvar: int
    ntgt: int
    moments: bool
    #: with ``fn``: the items are ``fn(sample)`` of the ``which`` events of the chunk (training
    #: weights multiplied by ``factor`` when it is given, as :meth:`StreamedDataSet.chunks` does)
    fn: Callable[[Sample], Any] | None = None
    which: str = ""
    factor: float | None = None

    def __call__(self, chunk: SelectedChunk, first: int) -> _ScanPart:
        block = chunk.block
        values = np.asarray(block.values, dtype=np.float32)
        weights = (block.weights * self.tree_weight).astype(np.float32)
        items: list[tuple[str, _ScanItem]] = []
        nvar, ntgt = self.nvar, self.ntgt
        masks: dict[str, Any] = {}
        if self.fractions is not None:
            u = entry_uniform(self.key, first + chunk.entries, self.seed)
            masks = _split_masks(self.tree_type, u, self.fractions)
        for which, m in masks.items():
            if not m.any():
                continue
            if self.fn is not None:
                if which == self.which:
                    items.append((which, self.fn(self._sample(values[m], weights[m]))))
                continue
            sel = values[m]
            w = weights[m]
            # a copy: a view (even a zero-width one) would keep the chunk's values alive for the scan
            item = _ScanItem(w, np.array(sel[:, nvar : nvar + ntgt], dtype=np.float32, copy=True))
            if which == "train":
                item.lo = sel.min(axis=0)
                item.hi = sel.max(axis=0)
                if self.moments:
                    cls = np.full(len(w), self.k, dtype=np.int32)
                    item.moments = weighted_moments(
                        np.ascontiguousarray(sel[:, :nvar]), w, cls, self.n_classes
                    )
            items.append((which, item))
        return _ScanPart(
            block.n_candidates,
            block.sumw_candidates,
            len(weights),
            float(np.sum(weights, dtype=np.float64)),
            block.nan_selected,
            block.nan_rejected,
            items,
        )

    def _sample(self, values: F32, weights: F32) -> Sample:
        """The events as :meth:`StreamedDataSet.chunks` gives them (the same arrays, the same weights)."""
        nvar, ntgt = self.nvar, self.ntgt
        if self.factor is not None:
            weights = np.multiply(weights, np.full(len(weights), self.factor)).astype(np.float32)
        return Sample(
            X=np.ascontiguousarray(values[:, :nvar]),
            targets=np.ascontiguousarray(values[:, nvar : nvar + ntgt]),
            spectators=np.ascontiguousarray(values[:, nvar + ntgt :]),
            weights=weights,
            class_id=np.full(len(weights), self.k, dtype=np.int32),
        )


class _StreamingBuilder(_DataSetBuilder):
    """The ``Streaming=True`` build (see the module docstring)."""

    direct = False
    _prepared: tuple[SplitConfig, int, list[StreamFractions]] | None = None
    last_counts: list[ClassCounts]

    def _prepare(self) -> tuple[SplitConfig, int, list[StreamFractions], list[ClassCounts]]:
        """Check the input and options; the split fractions (counting first where TMVA's numbers need it).

        Returns the parsed options, the entries per chunk, the fractions of every class and fresh counts.
        """
        if self._prepared is not None:
            cached = self._prepared
            return cached[0], cached[1], cached[2], [ClassCounts(c.name) for c in self.dsi.classes]
        dsi = self.dsi
        if not self.trees:
            raise DataError(
                f"Dataset[{self.name}] : no input trees: Streaming=True reads trees (AddTree, AddSignalTree, …)"
            )
        if not dsi.variables:
            raise DataError(f"Dataset[{self.name}] : no input variables: call AddVariable before training")
        if any(a.train or a.test for a in self.assigned.values()):
            raise OptionError(
                "Streaming=True reads trees only; events added one by one (AddSignalTrainingEvent, "
                "AddEvent, …) need Streaming=False"
            )
        config = parse_split_options(dsi.split_options, dsi.GetClassNames(), dataset=self.name)
        opts = config.options
        if opts.SplitMode != "Random":
            raise OptionError(
                f"SplitMode={opts.SplitMode} has no streaming form: Streaming=True splits by a hash of "
                "(tree, entry, SplitSeed), which is SplitMode=Random (the default); drop SplitMode or use "
                "Streaming=False"
            )
        step = opts.ChunkSize or default_chunk_size(self.n_columns)
        _log_factory.info(
            "Dataset[%s] : Streaming: reading %d entries at a time, split by (tree, entry, SplitSeed=%d)",
            self.name,
            step,
            opts.SplitSeed,
        )
        n_classes = len(dsi.classes)
        counts = [ClassCounts(c.name) for c in dsi.classes]
        fractions: list[StreamFractions | None] = [None] * n_classes
        typed = {t.class_name for t in self.trees if t.tree_type != ETreeType.kMaxTreeType}
        for k, c in enumerate(dsi.classes):
            quick = _hash_only_fractions(config, k)
            if quick is not None and c.name not in typed:
                fractions[k] = StreamFractions(0.0, 0.0, quick[0], quick[1], -1, -1)
        if any(f is None for f in fractions):  # first pass: count the selected events
            for k in range(n_classes):
                if fractions[k] is None:
                    # chunks reduced to their counts where they are selected (on the Dask workers)
                    counting = self._reducer(k, opts.SplitSeed, None, moments=False)
                    for _ in self._class_events(k, step, counts[k], counting):
                        pass
                    req = requested_numbers(
                        config.requests[k], counts[k], opts.ScaleWithPreselEff, dataset=self.name
                    )
                    fractions[k] = streaming_fractions(counts[k], req, dataset=self.name)
            counts = [ClassCounts(c.name) for c in dsi.classes]
            self.nan_errors.clear()
            self.nan_warnings.clear()
        chosen = [f for f in fractions if f is not None]
        self._prepared = (config, step, chosen)
        return config, step, chosen, counts

    def _split_events(
        self,
        k: int,
        step: int,
        frac: StreamFractions,
        seed: int,
        counts: ClassCounts,
        owners: dict[int, Callable[[int], bool]] | None = None,
    ) -> Iterator[tuple[str, _Events]]:
        """The events of class ``k`` chunk by chunk, as ``("train" | "test", events)``.

        With ``owners`` (:meth:`_owners`) only the chunks of one rank are read.
        """
        for tinfo, ev in self._class_events(k, step, counts, None, owners):
            u = entry_uniform(tree_key(tinfo.source.name), ev.entries, seed)
            for which, m in _split_masks(tinfo.tree_type, u, frac).items():
                if m.any():
                    yield which, _Events(ev.values[m], ev.weights[m], ev.entries[m])

    def _scan_parts(
        self, k: int, step: int, frac: StreamFractions, seed: int, counts: ClassCounts, moments: bool
    ) -> Iterator[tuple[str, _ScanItem]]:
        """What :meth:`scan` keeps of the events of class ``k``, as ``("train" | "test", item)``.

        The same chunks, split and order as :meth:`_split_events`, each chunk reduced by
        :class:`_ScanReduce` where it is selected (a Dask worker with an executor).
        """
        for _tinfo, part in self._class_events(k, step, counts, self._reducer(k, seed, frac, moments)):
            yield from part.items

    def _reducer(
        self,
        k: int,
        seed: int,
        frac: StreamFractions | None,
        moments: bool,
        fn: Callable[[Sample], Any] | None = None,
        which: str = "",
        factor: float | None = None,
    ) -> Callable[[_TreeInfo], _ScanReduce]:
        """The :class:`_ScanReduce` of each tree of class ``k`` (``frac=None``: count only)."""
        n_classes = len(self.dsi.classes)
        nvar, ntgt = len(self.dsi.variables), len(self.dsi.targets)

        def reducer(tinfo: _TreeInfo) -> _ScanReduce:
            key = tree_key(tinfo.source.name)
            return _ScanReduce(
                key,
                seed,
                frac,
                tinfo.tree_type,
                tinfo.weight,
                k,
                n_classes,
                nvar,
                ntgt,
                moments,
                fn,
                which,
                factor,
            )

        return reducer

    def map_chunks(
        self, which: str, fn: Callable[[Sample], Any], factors: Sequence[float] = ()
    ) -> Iterator[Any]:
        """``fn`` of every chunk of ``which`` events, in stream order, computed where it is selected.

        The chunks are those of :meth:`iter_chunks` (as :class:`~pymva.data.dataset.Sample`, training
        weights multiplied by ``factors`` as :meth:`StreamedDataSet.chunks` does); with a Dask
        executor ``fn`` runs on the worker that read the chunk (it must be picklable) and only its
        results travel.  NaN/±inf reports are not repeated.

        Raises
        ------
        OptionError, DataError
            As :meth:`iter_chunks`.
        """
        if which not in ("train", "test"):
            raise OptionError(f"which={which!r}: 'train' or 'test' are accepted")
        config, step, fractions, counts = self._prepare()
        seed = config.options.SplitSeed
        scale = which == "train" and any(f != 1.0 for f in factors)

        def parts(k: int, frac: StreamFractions) -> Iterator[tuple[str, Any]]:
            factor = float(factors[k]) if scale else None
            reducer = self._reducer(k, seed, frac, False, fn, which, factor)
            for _tinfo, part in self._class_events(k, step, counts[k], reducer):
                yield from part.items

        streams = {k: parts(k, frac) for k, frac in enumerate(fractions)}
        for _k, _which, result in self._interleave(streams, counts, report=False):
            yield result

    def iter_chunks(
        self, which: str, *, report: bool = True, shard: tuple[int, int] | None = None
    ) -> Iterator[StreamChunk]:
        """The training (``which="train"``) or testing events, a chunk at a time, classes interleaved.

        Nothing is kept between chunks.  The next chunk is always taken from the class that has read
        the smallest fraction of its trees' entries, so that every stretch of the stream holds the
        classes in about their overall proportions (a shuffle buffer then mixes them).  The weights
        are the input weights (weight expression × tree weight), without ``NormMode``
        renormalisation, which needs the sums over the whole sample.

        With ``shard=(rank, world)`` only the chunks of entries of ``rank`` are read
        (:meth:`StreamedDataSet.can_shard`).

        Raises
        ------
        OptionError, DataError
            As the ``Streaming=True`` build; a ``shard`` that :meth:`can_shard` refuses.
        """
        if which not in ("train", "test"):
            raise OptionError(f"which={which!r}: 'train' or 'test' are accepted")
        for kind, chunk in self._iter_both(report=report, shard=shard):
            if kind == which:
                yield chunk

    def _iter_both(
        self, *, report: bool = True, shard: tuple[int, int] | None = None
    ) -> Iterator[tuple[str, StreamChunk]]:
        """Training and testing chunks in stream order, as ``("train" | "test", chunk)``."""
        config, step, fractions, counts = self._prepare()
        seed = config.options.SplitSeed
        nvar, ntgt = len(self.dsi.variables), len(self.dsi.targets)
        owners = self._owners(step, shard) if shard is not None else None
        streams = {
            k: self._split_events(k, step, fractions[k], seed, counts[k], owners)
            for k in range(len(fractions))
        }
        for k, kind, ev in self._interleave(streams, counts, report):
            yield (
                kind,
                StreamChunk(
                    X=np.ascontiguousarray(ev.values[:, :nvar]),
                    targets=np.ascontiguousarray(ev.values[:, nvar : nvar + ntgt]),
                    spectators=np.ascontiguousarray(ev.values[:, nvar + ntgt :]),
                    weights=ev.weights,
                    class_id=np.full(len(ev.weights), k, dtype=np.int32),
                ),
            )

    def _class_partitions(self, k: int, step: int) -> list[tuple[_TreeInfo, int]] | None:
        """``(tree, number of chunks)`` of every tree of class ``k``, or ``None`` if one is not in a file."""
        out = []
        for tinfo in (t for t in self.trees if t.class_name == self.dsi.classes[k].name):
            parts = source_partitions(tinfo.source, step)
            if parts is None:
                return None
            out.append((tinfo, len(parts)))
        return out

    def can_shard(self, world: int) -> bool:
        """See :meth:`StreamedDataSet.can_shard`."""
        if world < 1:
            return False
        _config, step, _fractions, _counts = self._prepare()
        for k in range(len(self.dsi.classes)):
            parts = self._class_partitions(k, step)
            if parts is None or sum(n for _, n in parts) < world:
                return False
        return True

    def _owners(self, step: int, shard: tuple[int, int]) -> dict[int, Callable[[int], bool]]:
        """Per tree (``id`` of its info), which of its chunks belong to ``rank`` of ``shard``.

        Chunk ``j`` of a class, counted over the class's trees in order, belongs to rank ``j mod world``.
        """
        rank, world = (int(v) for v in shard)
        if not 0 <= rank < world or not self.can_shard(world):
            raise OptionError(
                f"shard={shard!r}: the stream cannot be read in {world} shards (rank {rank}): that needs "
                f"trees in files on disk, at least {world} chunks of ChunkSize entries in every class and "
                "0 <= rank < world size"
            )
        owners: dict[int, Callable[[int], bool]] = {}
        for k in range(len(self.dsi.classes)):
            offset = 0
            for tinfo, n in self._class_partitions(k, step) or []:
                owners[id(tinfo)] = functools.partial(_owns, offset, world, rank)
                offset += n
        return owners

    def _interleave(
        self, streams: dict[int, Iterator[tuple[str, Any]]], counts: list[ClassCounts], report: bool
    ) -> Iterator[tuple[int, str, Any]]:
        """The items of the classes' streams as ``(class, kind, item)``, classes interleaved.

        The next item is always taken from the class that has read the smallest fraction of its
        trees' entries; the NaN/±inf reports follow the last item (or are dropped: ``report=False``).
        """
        totals = {
            k: max(sum(t.source.num_entries for t in self.trees if t.class_name == c.name), 1)
            for k, c in enumerate(self.dsi.classes)
        }
        read = dict.fromkeys(streams, 0)
        while streams:
            k = min(streams, key=lambda c: (read[c] / totals[c], c))
            item = next(streams[k], None)
            if item is None:
                del streams[k]
                continue
            kind, payload = item
            read[k] = counts[k].n_before_cut
            yield k, kind, payload
        self.last_counts = counts
        if report:
            self._report_nan()
        else:
            self.nan_errors.clear()
            self.nan_warnings.clear()

    def scan(self) -> StreamedDataSet:
        """One pass over the stream: what the Factory needs of the samples without holding them.

        Counts and sums of weights per class (TMVA's tables), ``NormMode``'s renormalisation factors,
        the training ranges of the variables, targets and spectators and the correlation matrices
        (``Σw``, ``Σw·x``, ``Σw·x·xᵀ`` added chunk by chunk), and, per event in stream order, the
        weights (renormalised for training), class indices and targets.  Variables and spectators
        are not kept (zero-width columns in the returned samples).

        Raises
        ------
        OptionError, DataError
            As the ``Streaming=True`` build.
        """
        dsi = self.dsi
        config, step, fractions, counts = self._prepare()
        opts = config.options
        names = dsi.GetClassNames()
        n_classes = len(names)
        nvar, ntgt = len(dsi.variables), len(dsi.targets)
        nspec = self.n_columns - nvar - ntgt
        kept: dict[str, dict[str, list[Any]]] = {
            w: {"weights": [], "class_id": [], "targets": []} for w in ("train", "test")
        }
        lo = np.full(self.n_columns, np.inf)
        hi = np.full(self.n_columns, -np.inf)
        moments = (np.zeros(n_classes), np.zeros((n_classes, nvar)), np.zeros((n_classes, nvar, nvar)))
        streams = {
            k: self._scan_parts(k, step, frac, opts.SplitSeed, counts[k], opts.CalcCorrelations)
            for k, frac in enumerate(fractions)
        }
        for k, which, item in self._interleave(streams, counts, report=True):
            store = kept[which]
            store["weights"].append(item.weights)
            store["class_id"].append(np.full(len(item.weights), k, dtype=np.int32))
            store["targets"].append(item.targets)
            if item.lo is not None and item.hi is not None:
                np.minimum(lo, item.lo, out=lo)
                np.maximum(hi, item.hi, out=hi)
            if item.moments is not None:
                for total, p in zip(moments, item.moments, strict=True):
                    total += p
        counts = self.last_counts
        self._report_counts(
            [_ClassStore(c.name, k, counts=c) for k, c in enumerate(counts)], opts.ScaleWithPreselEff
        )
        empty = [c.name for c in counts if c.n_total == 0 and c.n_before_cut == 0]
        if empty:
            raise DataError(
                f"Dataset[{self.name}] : class(es) {', '.join(repr(e) for e in empty)} have no events"
            )
        samples: dict[str, Sample] = {}
        sizes: dict[str, list[int]] = {}
        sums: dict[str, list[float]] = {}
        for which, store in kept.items():
            w = np.concatenate(store["weights"] or [np.empty(0, np.float32)])
            cls = np.concatenate(store["class_id"] or [np.empty(0, np.int32)])
            tgt = np.concatenate(store["targets"] or [np.empty((0, ntgt), np.float32)])
            sizes[which] = np.bincount(cls, minlength=n_classes).tolist()
            sums[which] = np.bincount(cls, weights=w.astype(np.float64), minlength=n_classes).tolist()
            samples[which] = Sample(
                X=np.empty((len(w), 0), np.float32),
                targets=tgt.reshape(len(w), ntgt),
                spectators=np.empty((len(w), 0), np.float32),
                weights=w,
                class_id=cls,
            )
        if sum(sizes["train"]) < 1:
            raise DataError(
                f"Dataset {self.name} does not have any training events, I better stop here and let you fix "
                "that one first (check the cuts, nTrain_<class>/nTest_<class> and the tree types)"
            )
        factors = renormalisation_factors(sizes["train"], sums["train"], opts.NormMode, names)
        self._report_renormalisation(
            opts.NormMode, counts, sizes["train"], sizes["test"], sums["train"], sums["test"], factors, config
        )
        train = samples["train"]
        if any(f != 1.0 for f in factors):
            train = train.replace(
                weights=np.multiply(train.weights, np.asarray(factors)[train.class_id]).astype(np.float32)
            )
        variables = [copy.copy(v) for v in dsi.variables]
        targets = [copy.copy(v) for v in dsi.targets]
        spectators = [copy.copy(v) for v in dsi.spectators]
        correlations: dict[str, npt.NDArray[np.float64]] = {}
        if opts.CalcCorrelations and len(train) > 1:
            ranges = Sample(
                X=np.empty((2, 0), np.float32),
                targets=np.stack([lo, hi])[:, nvar : nvar + ntgt].astype(np.float32),
                spectators=np.stack([lo, hi])[:, nvar + ntgt :].reshape(2, nspec).astype(np.float32),
                weights=np.ones(2, np.float32),
                class_id=np.zeros(2, np.int32),
            )
            self._ranges(ranges, (lo[:nvar], hi[:nvar]), variables, targets, spectators)
            correlations = self._correlations(moments, names, opts.Correlations)
        return StreamedDataSet(
            name=self.name,
            train=train,
            test=samples["test"],
            class_names=names,
            variables=variables,
            targets=targets,
            spectators=spectators,
            correlations=correlations,
            factors=tuple(float(f) for f in factors),
            builder=self,
        )

    def build(self) -> DataSet:
        config, step, fractions, counts = self._prepare()
        opts = config.options
        parts: dict[str, list[list[Any]]] = {"train": [], "test": []}
        for k, frac in enumerate(fractions):
            got: dict[str, list[_Events]] = {"train": [], "test": []}
            for which, ev in self._split_events(k, step, frac, opts.SplitSeed, counts[k]):
                got[which].append(ev)
            for which in ("train", "test"):
                parts[which].append(got[which])
        self._report_nan()
        self._report_counts(
            [_ClassStore(c.name, k, counts=c) for k, c in enumerate(counts)], opts.ScaleWithPreselEff
        )
        empty = [c.name for c in counts if c.n_total == 0 and c.n_before_cut == 0]
        if empty:
            raise DataError(
                f"Dataset[{self.name}] : class(es) {', '.join(repr(e) for e in empty)} have no events"
            )
        return self._assemble(parts, counts, config)

    # -------------------------------------------------------------- reading
    def _class_events(
        self,
        k: int,
        step: int,
        counts: ClassCounts | None,
        reducer: Callable[[_TreeInfo], _ScanReduce] | None = None,
        owners: dict[int, Callable[[int], bool]] | None = None,
    ) -> Iterator[tuple[_TreeInfo, Any]]:
        """The selected events of class ``k``, tree by tree and chunk by chunk.

        With ``reducer``, each chunk is reduced by ``reducer(tree)`` (a :class:`_ScanPart` per chunk
        instead of its :class:`_Events`); with ``owners`` only the chunks ``j`` of each tree with
        ``owners[id(tree)](j)`` are read.
        """
        cinfo = self.dsi.classes[k]
        columns = self._columns()
        cut = _formula(str(cinfo.cut), f"cut of class '{cinfo.name}'") if str(cinfo.cut) else None
        weight = (
            _formula(cinfo.weight, f"weight expression of class '{cinfo.name}'") if cinfo.weight else None
        )
        arrays_specs = [s for s in self.dsi._columns if s.index == 0]
        for tinfo in (t for t in self.trees if t.class_name == cinfo.name):
            try:
                reduce = reducer(tinfo) if reducer is not None else None
                owned = owners.get(id(tinfo)) if owners is not None else None
                for ev in self._tree_events(
                    tinfo, columns, cut, weight, arrays_specs, step, counts, reduce, owned
                ):
                    yield tinfo, ev
            except DataError as exc:  # noqa: PERF203 - once per tree, to name the tree
                raise DataError(
                    f"{exc} (reading {tinfo.source.description} for class '{cinfo.name}')"
                ) from None

    def _tree_events(
        self,
        tinfo: _TreeInfo,
        columns: list[tuple[str, Formula]],
        cut: Formula | None,
        weight: Formula | None,
        arrays_specs: Sequence[Any],
        step: int,
        counts: ClassCounts | None,
        reduce: _ScanReduce | None = None,
        owned: Callable[[int], bool] | None = None,
    ) -> Iterator[Any]:
        tree_cut = _formula(tinfo.cut, f"cut of tree {tinfo.source.name}") if tinfo.cut else None
        array_formulas = [
            (s, _formula(s.expression, f"input variable array '{s.expression}'")) for s in arrays_specs
        ]
        formulas = [f for _, f in columns] + [f for _, f in array_formulas]
        formulas += [f for f in (cut, weight, tree_cut) if f is not None]
        uses = [(f"expression '{f.text}'", f.branches) for f in formulas]
        tinfo.source.check_branches(uses)
        branches = frozenset().union(*(f.branches for f in formulas))
        selection = ChunkSelection(
            tuple(columns),
            weight,
            cut,
            tree_cut,
            tuple((s.expression, int(s.size or 0), f) for s, f in array_formulas),
            tinfo.source.name,
        )
        if reduce is not None:
            for part in selected_chunks(tinfo.source, branches, step, selection, None, self.executor, reduce):
                self._note_block(part.nan_selected, part.nan_rejected)
                if counts is not None:
                    counts.n_before_cut += part.n_candidates
                    counts.sumw_before_cut += tinfo.weight * part.sumw_candidates
                    _count_n(counts, tinfo.tree_type, part.n, part.sumw)
                yield part
            return
        chunks: Iterator[tuple[int, SelectedChunk]]
        if owned is not None:  # one rank's chunks only (shard): the others are not read
            parts = [p for j, p in enumerate(source_partitions(tinfo.source, step) or []) if owned(j)]
            read = selected_partitions(tinfo.source, parts, branches, selection, self.executor)
            chunks = ((p.first, c) for p, c in zip(parts, read, strict=True))
        else:
            chunks = _with_first(
                selected_chunks(tinfo.source, branches, step, selection, None, self.executor)
            )
        for first, chunk in chunks:
            entry = first + chunk.entries
            block = chunk.block
            self._note_block(block.nan_selected, block.nan_rejected)
            ev = _Events(
                np.asarray(block.values, dtype=np.float32),
                (block.weights * tinfo.weight).astype(np.float32),
                entry,
            )
            if counts is not None:
                counts.n_before_cut += block.n_candidates
                counts.sumw_before_cut += tinfo.weight * block.sumw_candidates
                _count(counts, tinfo.tree_type, ev)
            yield ev

    def _note_block(
        self,
        nan_selected: dict[tuple[str, str], tuple[int, int]],
        nan_rejected: dict[tuple[str, str], tuple[int, int]],
    ) -> None:
        for (kind, expr), (n_nan, n_inf) in nan_selected.items():
            self._note_nan(self.nan_errors, kind, expr, n_nan, n_inf)
        for (kind, expr), (n_nan, n_inf) in nan_rejected.items():
            self._note_nan(self.nan_warnings, kind, expr, n_nan, n_inf)

    # -------------------------------------------------------------- assembly
    def _assemble(
        self, parts: dict[str, list[list[_Events]]], counts: list[ClassCounts], config: SplitConfig
    ) -> DataSet:
        dsi = self.dsi
        opts = config.options
        names = dsi.GetClassNames()
        n_classes = len(names)
        nvar, ntgt = len(dsi.variables), len(dsi.targets)
        sizes = {w: [sum(len(e.weights) for e in parts[w][k]) for k in range(n_classes)] for w in parts}
        sums = {
            w: [
                sum(float(np.sum(e.weights, dtype=np.float64)) for e in parts[w][k]) for k in range(n_classes)
            ]
            for w in parts
        }
        if sum(sizes["train"]) < 1:
            raise DataError(
                f"Dataset {self.name} does not have any training events, I better stop here and let you fix "
                "that one first (check the cuts, nTrain_<class>/nTest_<class> and the tree types)"
            )
        if opts.NormMode == "EqualNumEvents" and sizes["train"][0] == 0:
            raise DataError(
                f"Dataset[{self.name}] : class '{names[0]}' has no training events; NormMode=EqualNumEvents "
                "scales every class to them. Loosen its cut or use NormMode=NumEvents or None"
            )
        factors = renormalisation_factors(sizes["train"], sums["train"], opts.NormMode, names)
        self._report_renormalisation(
            opts.NormMode, counts, sizes["train"], sizes["test"], sums["train"], sums["test"], factors, config
        )
        rng = make_rng(opts.SplitSeed)
        samples: dict[str, Sample] = {}
        for which in ("train", "test"):
            n = sum(sizes[which])
            weights = np.concatenate(
                [e.weights for k in range(n_classes) for e in parts[which][k]] or [np.empty(0, np.float32)]
            )
            cls = np.repeat(np.arange(n_classes, dtype=np.int32), sizes[which])
            if which == "train" and any(f != 1.0 for f in factors):
                weights = np.multiply(weights, np.asarray(factors)[cls]).astype(np.float32)
            order = mix_order(sizes[which], opts.mix_mode, rng)
            dest = np.empty(n, dtype=np.int64)
            dest[order] = np.arange(n, dtype=np.int64)
            # each block goes straight to its final rows and is released: peak ~ one copy + the blocks left
            out = [np.empty((n, m), np.float32) for m in (nvar, ntgt, self.n_columns - nvar - ntgt)]
            cuts = [(0, nvar), (nvar, nvar + ntgt), (nvar + ntgt, self.n_columns)]
            start = 0
            for k in range(n_classes):
                blocks = parts[which][k]
                blocks.reverse()
                while blocks:
                    e = blocks.pop()
                    rows = dest[start : start + len(e.weights)]
                    for arr, (c0, c1) in zip(out, cuts, strict=True):
                        arr[rows] = e.values[:, c0:c1]
                    start += len(e.weights)
                    del e
            samples[which] = Sample(
                X=out[0], targets=out[1], spectators=out[2], weights=weights[order], class_id=cls[order]
            )
            del out
        train = samples["train"]
        variables = [copy.copy(v) for v in dsi.variables]
        targets = [copy.copy(v) for v in dsi.targets]
        spectators = [copy.copy(v) for v in dsi.spectators]
        correlations: dict[str, npt.NDArray[np.float64]] = {}
        if opts.CalcCorrelations and len(train) > 1:
            x_ranges = (np.zeros(train.X.shape[1]), np.zeros(train.X.shape[1]))
            moments = weighted_moments(train.X, train.weights, train.class_id, n_classes, ranges=x_ranges)
            self._ranges(train, x_ranges, variables, targets, spectators)
            correlations = self._correlations(moments, names, opts.Correlations)
        return DataSet(
            name=self.name,
            train=train,
            test=samples["test"],
            class_names=names,
            variables=variables,
            targets=targets,
            spectators=spectators,
            correlations=correlations,
        )


def _count(c: ClassCounts, tt: ETreeType, ev: _Events) -> None:
    _count_n(c, tt, len(ev.weights), float(np.sum(ev.weights, dtype=np.float64)))


def _count_n(c: ClassCounts, tt: ETreeType, n: int, sumw: float) -> None:
    c.n_after_cut += n
    c.sumw_after_cut += sumw
    if tt == ETreeType.kTraining:
        c.n_train_typed += n
    elif tt == ETreeType.kTesting:
        c.n_test_typed += n
    else:
        c.n_undefined += n


def streaming_requested(split_options: str, class_names: Sequence[str], dataset: str) -> bool:
    """Whether the split options ask for ``Streaming=True`` (parsing them; errors as the build's)."""
    return bool(parse_split_options(split_options, class_names, dataset=dataset).options.Streaming)
