"""Building a :class:`~pymva.data.dataset.DataSet` from a DataLoader's description, as TMVA's
``DataSetFactory`` does (``tmva/tmva/src/DataSetFactory.cxx``; ``../shared/tmva/core.md`` §3).

1. the split options are parsed (unknown options raise :class:`~pymva.errors.OptionError` here, as
   in TMVA, not when ``PrepareTrainingAndTestTree`` is called);
2. every tree of every class is read in chunks (:mod:`pymva.data.sources`), only the branches the
   expressions name; :func:`pymva.data.expression.build_events` builds the events (flattening of
   multi-valued inputs, the class cut, the weight expression); NaN or ±inf in a selected event is a
   :class:`~pymva.errors.DataError` naming each expression and how often it happened;
3. the events are split into training and testing samples, the training weights renormalised and the
   classes mixed (:mod:`pymva.data.split`);
4. training ranges of every variable and the weighted correlation matrix of every class are computed
   (one pass over the training events, :func:`pymva.data.split.weighted_moments`).

How the event values travel: when the numbers of events are known before reading (no class or tree
cut, every expression one value per entry), the split and the mixing are decided first, with the same
random draws in the same order, and every block of events goes straight from the branches to its
final row (``_DirectPlan``).  Otherwise the events are kept in float32 slabs while reading and
scattered to their rows after the split (:func:`pymva.data.split.scatter_rows`).  Both give the same
DataSet.  The training and testing arrays (``X``, ``targets``, ``spectators``) are the two parts of
one array each (views).

Size: over 800 lines on purpose — this is one TMVA procedure (``DataSetFactory``), and its steps
(reading, the direct plan, the slabs, the split, the moments) share the builder's state.
"""

from __future__ import annotations

import copy
import logging
import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError
from ..logger import get_logger
from ..types import ETreeType
from .dataset import DataSet, Sample, VariableInfo
from .executor import DaskExecutor, selected_chunks
from .expression import EventBlock, Formula, build_events, parse_formula
from .info import (
    ClassInfo,
    DataSetInfo,
    _AssignedEvents,
    _ColumnSpec,
    _formula,
    _TreeInfo,
    format_correlation_matrix,
)
from .memory import release_free_memory
from .selection import ChunkSelection
from .split import (
    Chunk,
    ClassCounts,
    ClassSplit,
    SplitConfig,
    as_rows,
    is_constant,
    make_rng,
    mix_order,
    parse_split_options,
    renormalisation_factors,
    requested_numbers,
    scatter_rows,
    split_classes,
    training_ranges,
    weighted_moments,
)

_MODULE = "pymva.data.build"
_log_info = get_logger("DataSetInfo", _MODULE)
_log_factory = get_logger("DataSetFactory", _MODULE)
_log_split = logging.getLogger("pymva.data.split")


#: Bytes of float64 event values built per chunk; sets the number of entries read at a time.
CHUNK_BYTES = 8 * 1024 * 1024
#: Bounds of the number of entries per chunk.
MIN_CHUNK_ENTRIES, MAX_CHUNK_ENTRIES = 4096, 1 << 20
_SCATTER_ROWS: int | None = None  # automatic (see pymva.data.split.scatter_rows)
#: Minimum size of the slabs that hold event values while reading (above glibc's largest mmap threshold).
SLAB_BYTES = 33 * 1024 * 1024


# ---------------------------------------------------------------------------------------------------
# building the DataSet
# ---------------------------------------------------------------------------------------------------


_TYPE_ORDER = (ETreeType.kTraining, ETreeType.kTesting, ETreeType.kMaxTreeType)


class _Slabs:
    """Rows of float32 event values, stored in slabs of at least :data:`SLAB_BYTES`.

    Slabs this large are always memory-mapped by the C allocator, so each is returned to the
    operating system as soon as it is released, and pages of a slab become resident only when rows
    are written into them.  Many small chunks would instead stay in the allocator's heap after being
    freed, keeping the process's resident memory high while the final arrays are filled.
    """

    def __init__(self) -> None:
        self.slabs: deque[npt.NDArray[np.float32]] = deque()
        self.filled: deque[int] = deque()

    def reserve(self, n: int, ncols: int) -> npt.NDArray[np.float32]:
        """The next ``n`` rows, to be written by the caller: in the current slab if they fit, else in a new one.

        The rows of a block stay contiguous; the unused tail of a slab is never written, so its pages
        never become resident.
        """
        if n <= 0:
            return np.empty((0, ncols), dtype=np.float32)
        if not self.slabs or self.slabs[-1].shape[0] - self.filled[-1] < n:
            rows = max(SLAB_BYTES // (4 * max(ncols, 1)), 1024, n)
            self.slabs.append(np.empty((rows, ncols), dtype=np.float32))
            self.filled.append(0)
        slab, f = self.slabs[-1], self.filled[-1]
        self.filled[-1] = f + n
        return slab[f : f + n]

    def drain(self) -> Iterator[npt.NDArray[np.float32]]:
        """Yield the filled part of every slab, dropping the store's reference to it."""
        while self.slabs:
            slab, f = self.slabs.popleft(), self.filled.popleft()
            yield slab[:f]
            del slab


@dataclass
class _ClassStore:
    """Events of one class while reading: event values per tree type (in slabs), weights, counts."""

    name: str
    index: int = 0
    chunks: dict[ETreeType, _Slabs] = field(default_factory=lambda: {t: _Slabs() for t in _TYPE_ORDER})
    weights: dict[ETreeType, list[npt.NDArray[np.float32]]] = field(
        default_factory=lambda: {t: [] for t in _TYPE_ORDER}
    )
    counts: ClassCounts = field(default_factory=lambda: ClassCounts(""))
    #: tree entries that gave no event (an indexed array element missing), before any cut
    n_entries_missing: int = 0


class _PlanMismatch(Exception):
    """The events read differ from the numbers a :class:`_DirectPlan` was made for (internal)."""


@dataclass
class _DirectPlan:
    """The split and mixing decided before reading, when the numbers of events are known in advance.

    Without cuts and with expressions that give exactly one value per entry, every entry of every
    tree is one event, so the numbers of events per class and tree type are the numbers of entries.
    The split (same random draws, same order as after reading) then tells the final row of every
    event, and each block of events is written straight to its rows while the trees are read: no
    intermediate copy of the events, and nothing but the final arrays held.

    Attributes
    ----------
    counts : list of ClassCounts
        The numbers the plan was made for; the events read must match them.
    requested : list of (int, int)
        The numbers of training and testing events requested per class; with the split seed they
        give the split again after reading (same draws), so its index arrays are not held while
        reading.
    warnings : list of (format, args)
        The split's warnings, logged after reading where TMVA logs them.
    classes : (train_cls, test_cls)
        Class of the event at every training and testing row (:func:`_final_order`); the global
        indices of those events are not kept: ``destination`` is their inverse.
    destination : ndarray of int
        Final row (training rows first, then testing rows) of every global event index, -1 if unused.
    outputs : list of (array, first column, end column)
        The final float32 X, targets and spectators (training rows, then testing rows) and which
        event columns go into each.
    arrays : list (train, test) of [X, targets, spectators]
        The views of ``outputs`` that make up the two samples.
    n_train : int
        Training events (rows of ``destination`` at or above it are testing rows).
    starts : list of dict
        Per class, the class-local index of the first event of each tree type.
    """

    counts: list[ClassCounts]
    requested: list[tuple[int, int]]
    warnings: list[tuple[str, tuple[Any, ...]]]
    classes: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]
    destination: npt.NDArray[np.integer[Any]]
    outputs: list[tuple[npt.NDArray[np.float32], int, int]]
    arrays: list[list[npt.NDArray[np.float32]]]
    n_train: int
    offsets: npt.NDArray[np.int64]
    starts: list[dict[ETreeType, int]]
    written: list[dict[ETreeType, int]] = field(default_factory=list)
    stage: npt.NDArray[np.float32] = field(default_factory=lambda: np.empty((0, 0), dtype=np.float32))

    def buffer(self, n: int, ncols: int) -> npt.NDArray[np.float32]:
        """A reusable float32 block of ``n`` rows that :func:`build_events` fills."""
        if self.stage.shape[0] < n or self.stage.shape[1] != ncols:
            self.stage = np.empty((max(n, self.stage.shape[0]), ncols), dtype=np.float32)
        return self.stage[:n]

    def write(self, cls: int, tt: ETreeType, values: npt.NDArray[np.floating[Any]]) -> None:
        """Copy the next events of class ``cls`` from tree type ``tt`` to their final rows."""
        n = values.shape[0]
        done = self.written[cls][tt]
        expected = getattr(self.counts[cls], _COUNT_FIELD[tt])
        if done + n > expected:
            raise _PlanMismatch
        self.written[cls][tt] = done + n
        g0 = int(self.offsets[cls]) + self.starts[cls][tt] + done
        dest = self.destination[g0 : g0 + n]
        if n and int(dest.min()) < 0:  # events left out by the split
            sel = np.flatnonzero(dest >= 0)
            dest = dest[sel]
            values = np.take(values, sel, axis=0)
        for arr, c0, c1 in self.outputs:
            if c1 > c0:
                part = np.ascontiguousarray(values[:, c0:c1], dtype=np.float32)
                # rows as single items: numpy copies them ~3x faster than rows of a 2-d array
                np.put(as_rows(arr), dest, as_rows(part))


_COUNT_FIELD = {
    ETreeType.kTraining: "n_train_typed",
    ETreeType.kTesting: "n_test_typed",
    ETreeType.kMaxTreeType: "n_undefined",
}


def _chunk_entries(n_columns: int, n_branches: int) -> int:
    per_entry = 8 * (n_columns + n_branches + 2)
    return int(min(MAX_CHUNK_ENTRIES, max(MIN_CHUNK_ENTRIES, CHUNK_BYTES // per_entry)))


def _add_count(c: ClassCounts, tt: ETreeType, n: int) -> None:
    """Count ``n`` events of tree type ``tt`` that all pass (no cut)."""
    setattr(c, _COUNT_FIELD[tt], getattr(c, _COUNT_FIELD[tt]) + n)
    c.n_before_cut += n
    c.n_after_cut += n


def _same_counts(a: ClassCounts, b: ClassCounts) -> bool:
    return (a.n_train_typed, a.n_test_typed, a.n_undefined, a.n_before_cut, a.n_after_cut) == (
        b.n_train_typed,
        b.n_test_typed,
        b.n_undefined,
        b.n_before_cut,
        b.n_after_cut,
    )


def _final_order(
    splits: Sequence[ClassSplit], offsets: npt.NDArray[np.int64], mix: str, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Global index and class of the event at every row of the training and the testing sample.

    Mixes the training sample, then the testing sample (:func:`~pymva.data.split.mix_order`, in that order
    of random draws).
    """
    result: list[Any] = []
    classes = np.arange(len(splits), dtype=np.int32)
    for part in ("train", "test"):
        pieces = [offsets[k] + getattr(sp, part) for k, sp in enumerate(splits)]
        sizes = [len(p) for p in pieces]
        order = mix_order(sizes, mix, rng)
        cat = np.concatenate(pieces or [np.zeros(0, np.int64)])
        result.append((cat[order], np.repeat(classes, sizes)[order]))
    (train_src, train_cls), (test_src, test_cls) = result
    return train_src, test_src, train_cls, test_cls


def _destination(
    train_src: npt.NDArray[np.int64], test_src: npt.NDArray[np.int64], n_events: int
) -> npt.NDArray[np.integer[Any]]:
    """Row of every global event index: training rows, then testing rows after them; -1 if unused."""
    n_train, n_test = len(train_src), len(test_src)
    index_type = np.int32 if n_train + n_test < np.iinfo(np.int32).max else np.int64
    destination = np.full(n_events, -1, dtype=index_type)
    destination[train_src] = np.arange(n_train, dtype=index_type)
    destination[test_src] = n_train + np.arange(n_test, dtype=index_type)
    return destination


def _weights_in_place(
    w_all: npt.NDArray[np.float32], destination: npt.NDArray[np.integer[Any]], n_train: int, n_test: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The training and testing weights put in their rows: ``w[destination[g]] = w_all[g]``.

    The same arrays as ``w_all[train_src]`` and ``w_all[test_src]`` (``destination`` is the inverse of
    the order), without keeping the order's global indices while reading.
    """
    used = destination >= 0
    if used.all():  # every event has a row: one scatter, the two samples are the halves
        rows_w = np.empty(n_train + n_test, dtype=np.float32)
        rows_w[destination] = w_all
        return rows_w[:n_train], rows_w[n_train:]
    rows, w = destination[used], w_all[used]
    is_train = rows < n_train
    train_w = np.empty(n_train, dtype=np.float32)
    test_w = np.empty(n_test, dtype=np.float32)
    train_w[rows[is_train]] = w[is_train]
    test_w[rows[~is_train] - n_train] = w[~is_train]
    return train_w, test_w


class _DataSetBuilder:
    """TMVA's ``DataSetFactory``: from the loader's description to a :class:`DataSet`."""

    #: Write events straight to their final rows when their numbers are known before reading.
    direct = True

    def __init__(
        self,
        dsi: DataSetInfo,
        trees: Sequence[_TreeInfo],
        assigned: Mapping[str, _AssignedEvents],
        executor: DaskExecutor | None = None,
    ) -> None:
        self.dsi = dsi
        #: reads and selects the chunks of trees on a Dask cluster (:mod:`pymva.data.executor`)
        self.executor = executor
        self.trees = trees
        self.assigned = assigned
        self.name = dsi.GetName()
        self.nan_errors: dict[str, int] = {}
        self.nan_warnings: dict[str, int] = {}
        self.plan: _DirectPlan | None = None
        self.n_columns = len(dsi.variables) + len(dsi.targets) + len(dsi.spectators)

    # -------------------------------------------------------------- entry point
    def build(self) -> DataSet:
        dsi = self.dsi
        if not self.trees and not any(a.train or a.test for a in self.assigned.values()):
            raise DataError(
                f"Dataset[{self.name}] : no input data: add trees (AddTree, AddSignalTree, "
                "AddBackgroundTree, AddRegressionTree) or events (AddSignalTrainingEvent, …) to the DataLoader"
            )
        if not dsi.variables:
            raise DataError(f"Dataset[{self.name}] : no input variables: call AddVariable before training")
        class_names = dsi.GetClassNames()
        config = parse_split_options(dsi.split_options, class_names, dataset=self.name)
        opts = config.options
        if opts.MixMode != "SameAsSplitMode" and opts.MixMode != opts.SplitMode:
            _log_factory.info(
                "Dataset[%s] : DataSet splitmode=%s differs from mixmode=%s",
                self.name,
                opts.SplitMode.upper(),
                opts.MixMode.upper(),
            )
        self.plan = self._plan_direct(config) if self.direct else None
        try:
            stores = [self._read_class(c, k) for k, c in enumerate(dsi.classes)]
            if self.plan is not None and any(
                not _same_counts(s.counts, c) for s, c in zip(stores, self.plan.counts, strict=True)
            ):
                raise _PlanMismatch
        except _PlanMismatch:  # a tree gave other numbers of events than announced
            _log_factory.debug(
                "Dataset[%s] : the numbers of events changed while reading; reading again", self.name
            )
            self.plan = None
            self.nan_errors.clear()
            self.nan_warnings.clear()
            stores = [self._read_class(c, k) for k, c in enumerate(dsi.classes)]
        release_free_memory()
        self._report_nan()
        self._report_counts(stores, opts.ScaleWithPreselEff)
        empty = [s.name for s in stores if s.counts.n_total == 0 and s.counts.n_before_cut == 0]
        if empty:
            raise DataError(
                f"Dataset[{self.name}] : class(es) {', '.join(repr(e) for e in empty)} have no events: no tree "
                "or event was added for them (SetCut/AddCut/SetWeightExpression with a class name create a "
                "class, and SetWeightExpression without class name creates 'Signal' and 'Background')"
            )
        return self._split_and_assemble(stores, config)

    # -------------------------------------------------------------- reading
    def _columns(self) -> list[tuple[str, Formula]]:
        dsi = self.dsi
        cols: list[tuple[str, Formula]] = []
        for spec, var in zip(dsi._columns, dsi.variables, strict=True):
            cols.append(("Input", _formula(spec.text, f"input variable '{var.label}'")))
        cols += [("Target", _formula(t.expression, f"target '{t.label}'")) for t in dsi.targets]
        cols += [("Spectator", _formula(s.expression, f"spectator '{s.label}'")) for s in dsi.spectators]
        return cols

    def _read_class(self, cinfo: ClassInfo, index: int) -> _ClassStore:
        store = _ClassStore(cinfo.name, index)
        store.counts = ClassCounts(cinfo.name)
        _log_factory.debug("\tWeight expression for class '%s': \"%s\"", cinfo.name, cinfo.weight)
        columns = self._columns()
        cut = _formula(str(cinfo.cut), f"cut of class '{cinfo.name}'") if str(cinfo.cut) else None
        weight = (
            _formula(cinfo.weight, f"weight expression of class '{cinfo.name}'") if cinfo.weight else None
        )
        arrays_specs = [s for s in self.dsi._columns if s.index == 0]
        for tinfo in (t for t in self.trees if t.class_name == cinfo.name):
            _log_factory.info("Building event vectors for type %d %s", int(tinfo.tree_type), cinfo.name)
            _log_factory.info(
                "Dataset[%s] :  create input formulas for tree %s", self.name, tinfo.source.name
            )
            try:
                self._read_tree(store, tinfo, columns, cut, weight, arrays_specs)
            except DataError as exc:
                raise DataError(
                    f"{exc} (reading {tinfo.source.description} for class '{cinfo.name}')"
                ) from None
        assigned = self.assigned.get(cinfo.name)
        if assigned is not None:
            for tt, events in ((ETreeType.kTraining, assigned.train), (ETreeType.kTesting, assigned.test)):
                if events:
                    self._read_assigned(store, tt, events, cut)
        return store

    def _read_tree(
        self,
        store: _ClassStore,
        tinfo: _TreeInfo,
        columns: list[tuple[str, Formula]],
        cut: Formula | None,
        weight: Formula | None,
        arrays_specs: list[_ColumnSpec],
    ) -> None:
        tree_cut = _formula(tinfo.cut, f"cut of tree {tinfo.source.name}") if tinfo.cut else None
        array_formulas = [
            (s, _formula(s.expression, f"input variable array '{s.expression}'")) for s in arrays_specs
        ]
        uses: list[tuple[str, frozenset[str]]] = [
            (f"{k} expression '{f.text}'", f.branches) for k, f in columns
        ]
        uses += [(f"input variable array '{s.expression}'", f.branches) for s, f in array_formulas]
        if cut is not None:
            uses.append((f"the cut '{cut.text}' of class '{store.name}'", cut.branches))
        if weight is not None:
            uses.append((f"the weight expression '{weight.text}' of class '{store.name}'", weight.branches))
        if tree_cut is not None:
            uses.append((f"the cut '{tree_cut.text}' of tree {tinfo.source.name}", tree_cut.branches))
        tinfo.source.check_branches(uses)
        branches = frozenset().union(*(b for _, b in uses))
        step = _chunk_entries(len(columns), len(branches))
        selection = ChunkSelection(
            tuple(columns),
            weight,
            cut,
            tree_cut,
            tuple((s.expression, int(s.size or 0), f) for s, f in array_formulas),
            tinfo.source.name,
        )
        warned_longer = False
        n_missing = 0
        out = self._values_out(store, tinfo.tree_type)
        for chunk in selected_chunks(tinfo.source, branches, step, selection, out, self.executor):
            if chunk.longer is not None and not warned_longer:
                expression, size, n_longer = chunk.longer
                _log_factory.warning(
                    "Size of array %s in the current tree %s is larger than %d in %d entries",
                    expression,
                    tinfo.source.name,
                    size,
                    n_longer,
                )
                _log_factory.warning(
                    "Some data will then be ignored. This WARNING is printed only once,  check in case "
                    "for the other variables and events "
                )
                warned_longer = True
            block = chunk.block
            self._add_block(store, block, tinfo.weight, tinfo.tree_type)
            n_missing += block.n_entries_missing
        store.n_entries_missing += n_missing
        if n_missing:
            _log_factory.warning(
                "Dataset[%s] : %d entries of %s give no event: an expression reads an array element that "
                "does not exist (e.g. arr[4] when arr has only 3 elements). If you want to take these "
                'entries into account you can do something like: "Alt$(arr[4],0)" where in cases where arr '
                "doesn't have a 4th element, 0 is taken as an alternative.",
                self.name,
                n_missing,
                tinfo.source.description,
            )

    def _add_block(self, store: _ClassStore, block: EventBlock, tree_weight: float, tt: ETreeType) -> None:
        c = store.counts
        c.n_before_cut += block.n_candidates
        c.sumw_before_cut += tree_weight * block.sumw_candidates
        for (kind, expr), (n_nan, n_inf) in block.nan_selected.items():
            self._note_nan(self.nan_errors, kind, expr, n_nan, n_inf)
        for (kind, expr), (n_nan, n_inf) in block.nan_rejected.items():
            self._note_nan(self.nan_warnings, kind, expr, n_nan, n_inf)
        n = len(block.weights)
        if n == 0:
            return
        weights = (block.weights * tree_weight).astype(np.float32)
        c.n_after_cut += n
        c.sumw_after_cut += float(np.sum(weights, dtype=np.float64))
        if tt == ETreeType.kTraining:
            c.n_train_typed += n
        elif tt == ETreeType.kTesting:
            c.n_test_typed += n
        else:
            c.n_undefined += n
        if self.plan is not None:  # else the values are in the store's slabs already (_values_out)
            self.plan.write(store.index, tt, block.values)
        store.weights[tt].append(weights)

    def _values_out(self, store: _ClassStore, tt: ETreeType) -> Callable[[int], npt.NDArray[np.float32]]:
        """Where :func:`build_events` writes the values of a block: the plan's buffer, or the store's slabs."""
        ncols = self.n_columns
        if self.plan is not None:
            plan = self.plan
            return lambda n: plan.buffer(n, ncols)
        slabs = store.chunks[tt]
        return lambda n: slabs.reserve(n, ncols)

    def _note_nan(self, target: dict[str, int], kind: str, expr: str, n_nan: int, n_inf: int) -> None:
        if n_nan:
            key = f"Dataset[{self.name}] : {kind} expression resolves to indeterminate value (NaN): {expr}"
            target[key] = target.get(key, 0) + n_nan
        if n_inf:
            key = (
                f"Dataset[{self.name}] : {kind} expression resolves to infinite value (+inf or -inf): {expr}"
            )
            target[key] = target.get(key, 0) + n_inf

    def _read_assigned(
        self,
        store: _ClassStore,
        tt: ETreeType,
        events: list[tuple[tuple[float, ...], float]],
        cut: Formula | None,
    ) -> None:
        dsi = self.dsi
        infos = dsi.variables + dsi.targets + dsi.spectators
        values = np.asarray([e for e, _ in events], dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != len(infos):
            raise DataError(
                f"events added one by one for class '{store.name}' have {values.shape[-1]} values, but the "
                f"loader now has {len(dsi.variables)} variables, {len(dsi.targets)} targets and "
                f"{len(dsi.spectators)} spectators (add all of them before the events)"
            )
        weights = np.asarray([w for _, w in events], dtype=np.float64)
        arrays: dict[str, Any] = {}
        for j, info in enumerate(infos):
            for key in (info.expression, info.label, info.internal_name):
                arrays.setdefault(key, values[:, j])
        arrays.setdefault("weight", weights)
        arrays.setdefault("type", np.full(len(weights), float(dsi.GetClassNames().index(store.name))))
        cols: list[tuple[str, Formula]] = []
        kinds = (
            ["Input"] * len(dsi.variables)
            + ["Target"] * len(dsi.targets)
            + ["Spectator"] * len(dsi.spectators)
        )
        for j, kind in enumerate(kinds):
            key = f"pymva_event_column_{j}"
            arrays[key] = values[:, j]
            cols.append((kind, parse_formula(key)))
        arrays["pymva_event_weight"] = weights
        if cut is not None:
            missing = sorted(b for b in cut.branches if b not in arrays)
            if missing:
                usable = sorted(k for k in arrays if not k.startswith("pymva_"))
                raise DataError(
                    f"the cut '{cut.text}' of class '{store.name}' reads {', '.join(missing)}, which events added "
                    f"one by one do not have (they have: {', '.join(usable)})"
                )
        block = build_events(
            arrays, cols, weight=parse_formula("pymva_event_weight"), cut=cut, out=self._values_out(store, tt)
        )
        self._add_block(store, block, 1.0, tt)

    def _report_nan(self) -> None:
        if self.nan_warnings:
            _log_factory.warning("Found events with NaN and/or +-inf values")
            for msg, n in self.nan_warnings.items():
                _log_factory.warning("%s%s", msg, f" ({n} times)" if n > 1 else "")
            _log_factory.warning("These NaN and/or +-infs were all removed by the specified cut, continuing.")
            _log_factory.info("")
        if self.nan_errors:
            _log_factory.warning("Found events with NaN and/or +-inf values (not removed by cut)")
            lines = []
            for msg, n in self.nan_errors.items():
                line = msg + (f" ({n} times)" if n > 1 else "")
                lines.append(line)
                _log_factory.warning("%s", line)
            raise DataError(
                "Found events with NaN and/or +-inf values (not removed by cut): "
                + "; ".join(lines)
                + ". How am I supposed to train a NaN or +-inf?! (select the events with a cut, or use "
                "a default value, e.g. with Alt$ or a conditional expression)"
            )

    def _report_counts(self, stores: list[_ClassStore], scale: bool) -> None:
        dsi = self.dsi
        max_l = dsi.GetClassNameMaxLength()
        _log_factory.header("[%s] : Number of events in input trees", self.name)
        _log_factory.debug("(after possible flattening of arrays):")
        for s in stores:
            _log_factory.debug(
                "    %s      -- number of events       : %-5d  / sum of weights: %-5s",
                f"{s.name:<{max_l}}",
                s.counts.n_before_cut,
                f"{s.counts.sumw_before_cut:g}",
            )
        if scale:
            _log_factory.debug(
                "\tPreselection: (will affect number of requested training and testing events)"
            )
        else:
            _log_factory.debug(
                "\tPreselection: (will NOT affect number of requested training and testing events)"
            )
        if dsi.HasCuts():
            for s in stores:
                c = s.counts
                cinfo = dsi.GetClassInfo(s.name)
                name = f"{s.name:<{max_l}}"
                eff = c.sumw_after_cut / c.sumw_before_cut if c.sumw_before_cut else math.nan
                _log_factory.info(
                    'Dataset[%s] :     %s requirement: "%s"', self.name, name, cinfo.cut if cinfo else ""
                )
                _log_factory.info(
                    "Dataset[%s] :     %s      -- number of events passed: %-5d  / sum of weights: %-5s",
                    self.name,
                    name,
                    c.n_after_cut,
                    f"{c.sumw_after_cut:g}",
                )
                _log_factory.info(
                    "Dataset[%s] :     %s      -- efficiency             : %-6s", self.name, name, f"{eff:g}"
                )
                if s.n_entries_missing:
                    _log_factory.info(
                        "Dataset[%s] :     %s      -- (relative to the %d events before the cut; %d tree "
                        "entries gave no event because an indexed array element is missing)",
                        self.name,
                        name,
                        c.n_before_cut,
                        s.n_entries_missing,
                    )
        else:
            _log_factory.debug("    No preselection cuts applied on event classes")

    # -------------------------------------------------------------- split and assembly
    def _plan_direct(self, config: SplitConfig) -> _DirectPlan | None:
        """The split decided before reading (see :class:`_DirectPlan`), or ``None`` when it cannot be.

        Possible when no class and no tree has a cut and every expression (inputs, targets,
        spectators, weights) reads only branches with one number per entry, without indexing or
        special functions: then each entry gives exactly one event.  Anything that the split would
        reject (too many events requested, …) also gives ``None``: the DataSet is then built the
        ordinary way, which reports the problem after reading, as TMVA does.
        """
        dsi = self.dsi
        if any(str(c.cut) for c in dsi.classes) or any(t.cut for t in self.trees):
            return None
        try:
            columns = self._columns()
            weights = {c.name: (parse_formula(c.weight) if c.weight else None) for c in dsi.classes}
            counts = [ClassCounts(c.name) for c in dsi.classes]
            for t in self.trees:
                k = dsi.GetClassNames().index(t.class_name)
                formulas = [f for _, f in columns] + [f for f in (weights[t.class_name],) if f is not None]
                if any("[" in f.text or "$" in f.text for f in formulas):
                    return None
                if not t.source.scalar_branches(frozenset().union(*(f.branches for f in formulas))):
                    return None
                _add_count(counts[k], t.tree_type, t.source.num_entries)
            for name, assigned in self.assigned.items():
                k = dsi.GetClassNames().index(name)
                _add_count(counts[k], ETreeType.kTraining, len(assigned.train))
                _add_count(counts[k], ETreeType.kTesting, len(assigned.test))
            opts = config.options
            requested = [
                requested_numbers(req, c, opts.ScaleWithPreselEff, dataset=self.name)
                for req, c in zip(config.requests, counts, strict=True)
            ]
            rng = make_rng(opts.SplitSeed)
            warnings: list[tuple[str, tuple[Any, ...]]] = []
            splits = split_classes(
                counts, requested, opts.SplitMode, rng, dataset=self.name, warnings=warnings
            )
        except DataError:
            return None
        offsets = np.concatenate([[0], np.cumsum([c.n_total for c in counts])]).astype(np.int64)
        train_src, test_src, train_cls, test_cls = _final_order(splits, offsets, opts.mix_mode, rng)
        n_train, n_test = len(train_src), len(test_src)
        destination = _destination(train_src, test_src, int(offsets[-1]))
        # the weights are put in place through ``destination`` after reading; the split is drawn again
        del train_src, test_src, splits
        release_free_memory()  # the temporaries of the split and the mixing, before reading
        arrays, outputs = self._final_arrays(n_train, n_test)
        return _DirectPlan(
            counts=counts,
            requested=requested,
            warnings=warnings,
            classes=(train_cls, test_cls),
            destination=destination,
            outputs=outputs,
            arrays=arrays,
            n_train=n_train,
            offsets=offsets,
            starts=[
                {
                    ETreeType.kTraining: 0,
                    ETreeType.kTesting: c.n_train_typed,
                    ETreeType.kMaxTreeType: c.n_train_typed + c.n_test_typed,
                }
                for c in counts
            ],
            written=[dict.fromkeys(_TYPE_ORDER, 0) for _ in counts],
        )

    def _final_arrays(
        self, n_train: int, n_test: int
    ) -> tuple[list[list[npt.NDArray[np.float32]]], list[tuple[npt.NDArray[np.float32], int, int]]]:
        """The empty X, targets and spectators of both samples, and which event columns go into each.

        Each of X, targets, spectators is one array of ``n_train + n_test`` rows, of which the
        training sample gets the first rows and the testing sample a view of the others: an event is
        written to its row with one copy, wherever it goes.

        Returns
        -------
        (per sample [X, targets, spectators], [(whole array, first column, end column)])
        """
        dsi = self.dsi
        nvar, ntgt, nspec = len(dsi.variables), len(dsi.targets), len(dsi.spectators)
        whole = [np.empty((n_train + n_test, m), dtype=np.float32) for m in (nvar, ntgt, nspec)]
        out = [[a[:n_train] for a in whole], [a[n_train:] for a in whole]]
        col = [(0, nvar), (nvar, nvar + ntgt), (nvar + ntgt, nvar + ntgt + nspec)]
        return out, [(arr, c0, c1) for arr, (c0, c1) in zip(whole, col, strict=True)]

    def _split_and_assemble(self, stores: list[_ClassStore], config: SplitConfig) -> DataSet:
        dsi = self.dsi
        opts = config.options
        plan = self.plan
        counts = [s.counts for s in stores]
        rng = make_rng(opts.SplitSeed)  # used when the split was not planned before reading
        requested = []
        for req, c in zip(config.requests, counts, strict=True):
            scaling = c.cut_scaling()
            if opts.ScaleWithPreselEff and scaling < 1:
                _log_factory.info(
                    "Dataset[%s] :  you have opted for scaling the number of requested training/testing events\n"
                    " to be scaled by the preselection efficiency",
                    self.name,
                )
            elif not opts.ScaleWithPreselEff and scaling < 1:
                _log_factory.info(
                    "Dataset[%s] :  you have opted for interpreting the requested number of training/testing "
                    "events\n to be the number of events AFTER your preselection cuts",
                    self.name,
                )
            if plan is None:
                requested.append(requested_numbers(req, c, opts.ScaleWithPreselEff, dataset=self.name))
        if plan is None:
            splits = split_classes(counts, requested, opts.SplitMode, rng, dataset=self.name)
        else:
            # the plan's split again: same counts, same seed, same draws (its warnings logged once)
            splits = split_classes(
                plan.counts,
                plan.requested,
                opts.SplitMode,
                make_rng(opts.SplitSeed),
                dataset=self.name,
                warnings=[],
            )
            release_free_memory()  # the split's temporaries
            for fmt, args in plan.warnings:
                _log_split.warning(fmt, *args)

        # weights of every event, global index = class offset + class-local index
        offsets = np.concatenate([[0], np.cumsum([c.n_total for c in counts])]).astype(np.int64)
        w_all = np.concatenate(
            [w for s in stores for t in _TYPE_ORDER for w in s.weights[t]] or [np.zeros(0, np.float32)]
        ).astype(np.float32, copy=False)
        for s in stores:
            s.weights = {t: [] for t in _TYPE_ORDER}

        train_sizes = [len(sp.train) for sp in splits]
        test_sizes = [len(sp.test) for sp in splits]
        if sum(train_sizes) > 0:
            for c, n in zip(counts, train_sizes, strict=True):
                if n > 0:
                    continue
                why = (
                    f"class '{c.name}' has no training events ({c.n_after_cut} events passed the cuts, "
                    f"{c.n_train_typed} from training trees, {c.n_test_typed} from testing trees, "
                    f"{c.n_undefined} from trees for both)"
                )
                if c is counts[0] and opts.NormMode == "EqualNumEvents":
                    raise DataError(
                        f"Dataset[{self.name}] : {why}; NormMode=EqualNumEvents scales every class to the "
                        "training events of the first class, which would give all weights 0. Check its cut, "
                        f"tree types and nTrain_{c.name}, or use NormMode=NumEvents or None"
                    )
                _log_factory.warning("Dataset[%s] : %s", self.name, why)
        # the class's weights indexed in the split's order (no shifted copy of the indices)
        class_w = [w_all[offsets[k] : offsets[k + 1]] for k in range(len(splits))]
        train_sums = [float(np.sum(class_w[k][sp.train], dtype=np.float64)) for k, sp in enumerate(splits)]
        test_sums = [float(np.sum(class_w[k][sp.test], dtype=np.float64)) for k, sp in enumerate(splits)]
        del class_w
        factors = renormalisation_factors(train_sizes, train_sums, opts.NormMode, dsi.GetClassNames())
        self._report_renormalisation(
            opts.NormMode, counts, train_sizes, test_sizes, train_sums, test_sums, factors, config
        )

        # mixing
        mix = opts.mix_mode
        if mix == "Alternate":
            for k in range(1, len(stores)):
                if train_sizes[k] != train_sizes[0]:
                    _log_factory.info(
                        "Dataset[%s] : Training sample: You are trying to mix events in alternate mode although "
                        "the classes have different event numbers. This works but the alternation stops at the "
                        "last event of the smaller class.",
                        self.name,
                    )
                if test_sizes[k] != test_sizes[0]:
                    _log_factory.info(
                        "Dataset[%s] : Testing sample: You are trying to mix events in alternate mode although "
                        "the classes have different event numbers. This works but the alternation stops at the "
                        "last event of the smaller class.",
                        self.name,
                    )
        if plan is None:
            train_src, test_src, train_cls, test_cls = _final_order(splits, offsets, mix, rng)
        else:
            train_cls, test_cls = plan.classes
        del splits
        n_train, n_test = len(train_cls), len(test_cls)
        if n_train < 1:
            raise DataError(
                f"Dataset {self.name} does not have any training events, I better stop here and let you fix "
                "that one first (check the cuts, nTrain_<class>/nTest_<class> and the tree types)"
            )
        if n_test < 1:
            _log_factory.error(
                "Dataset %s does not have any testing events, guess that will cause problems later..but for "
                "now, I continue ",
                self.name,
            )

        # weights (training ones renormalised)
        if plan is None:
            train_w, test_w = w_all[train_src], w_all[test_src]
        else:
            train_w, test_w = _weights_in_place(w_all, plan.destination, n_train, n_test)
        del w_all
        release_free_memory()
        if any(f != 1.0 for f in factors):
            factor_arr = np.asarray(factors, dtype=np.float64)
            train_w = np.multiply(train_w, factor_arr[train_cls]).astype(np.float32)
            if test_w.base is not None:  # a half of the planned rows' weights: let the other half go
                test_w = test_w.copy()

        # values: already in place (plan), or written block by block while the chunks are released
        if plan is None:
            destination = _destination(train_src, test_src, int(offsets[-1]))
            del train_src, test_src
            out, whole = self._final_arrays(n_train, n_test)
            release_free_memory()
            scatter_rows(
                self._drain(stores, offsets), destination, [whole], [n_train + n_test], _SCATTER_ROWS
            )
            del destination
        else:
            out = plan.arrays
            self.plan = None
            del plan

        train = Sample(
            X=out[0][0], targets=out[0][1], spectators=out[0][2], weights=train_w, class_id=train_cls
        )
        test = Sample(X=out[1][0], targets=out[1][1], spectators=out[1][2], weights=test_w, class_id=test_cls)
        variables = [copy.copy(v) for v in dsi.variables]
        targets = [copy.copy(v) for v in dsi.targets]
        spectators = [copy.copy(v) for v in dsi.spectators]
        correlations: dict[str, npt.NDArray[np.float64]] = {}
        if opts.CalcCorrelations and n_train > 1:
            # one pass over the training events: ranges of the variables and moments of every class
            x_ranges = (np.zeros(train.X.shape[1]), np.zeros(train.X.shape[1]))
            moments = weighted_moments(
                train.X, train.weights, train.class_id, len(dsi.classes), ranges=x_ranges
            )
            self._ranges(train, x_ranges, variables, targets, spectators)
            correlations = self._correlations(moments, dsi.GetClassNames(), opts.Correlations)
        return DataSet(
            name=self.name,
            train=train,
            test=test,
            class_names=dsi.GetClassNames(),
            variables=variables,
            targets=targets,
            spectators=spectators,
            correlations=correlations,
        )

    @staticmethod
    def _drain(stores: list[_ClassStore], offsets: npt.NDArray[np.int64]) -> Iterator[Chunk]:
        """The chunks in global-index order, each removed from its store as it is handed out."""
        for k, s in enumerate(stores):
            first = int(offsets[k])
            for t in _TYPE_ORDER:
                for values in s.chunks[t].drain():
                    yield Chunk(values, first)
                    first += values.shape[0]
                    del values

    def _report_renormalisation(
        self,
        norm_mode: str,
        counts: list[ClassCounts],
        train_sizes: list[int],
        test_sizes: list[int],
        train_sums: list[float],
        test_sums: list[float],
        factors: list[float],
        config: SplitConfig,
    ) -> None:
        dsi = self.dsi
        sig = dsi.GetSignalClassIndex()
        self.dsi.normalization = norm_mode.upper()

        def store_sums(tr: list[float], te: list[float]) -> None:
            dsi.training_sum_signal_weights = sum(v for k, v in enumerate(tr) if k == sig)
            dsi.training_sum_backgr_weights = sum(v for k, v in enumerate(tr) if k != sig)
            dsi.testing_sum_signal_weights = sum(v for k, v in enumerate(te) if k == sig)
            dsi.testing_sum_backgr_weights = sum(v for k, v in enumerate(te) if k != sig)

        store_sums(train_sums, test_sums)
        if norm_mode == "None":
            _log_factory.info(
                "Dataset[%s] : No weight renormalisation applied: use original global and event weights",
                self.name,
            )
            return
        if norm_mode == "NumEvents":
            for line in (
                '\tWeight renormalisation mode: "NumEvents": renormalises all event classes ',
                " such that the effective (weighted) number of events in each class equals the respective ",
                ' number of events (entries) that you demanded in PrepareTrainingAndTestTree("","nTrain_Signal=.. )',
                " ... i.e. such that Sum[i=1..N_j]{w_i} = N_j, j=0,1,2...",
                " ... (note that N_j is the sum of TRAINING events (nTrain_j...with j=Signal,Background..",
                " ..... Testing events are not renormalised nor included in the renormalisation factor! )",
            ):
                _log_factory.debug("%s", line)
        else:
            for line in (
                'Weight renormalisation mode: "EqualNumEvents": renormalises all event classes ...',
                " such that the effective (weighted) number of events in each class is the same ",
                " (and equals the number of events (entries) given for class=0 )",
                "... i.e. such that Sum[i=1..N_j]{w_i} = N_classA, j=classA, classB, ...",
                "... (note that N_j is the sum of TRAINING events",
                " ..... Testing events are not renormalised nor included in the renormalisation factor!)",
            ):
                _log_factory.info("Dataset[%s] : %s", self.name, line)
        max_l = dsi.GetClassNameMaxLength()
        names = dsi.GetClassNames()
        for k, f in enumerate(factors):
            _log_factory.debug("--> Rescale %s event weights by factor: %g", f"{names[k]:<{max_l}}", f)
        new_train = [s * f for s, f in zip(train_sums, factors, strict=True)]
        store_sums(new_train, test_sums)
        _log_factory.info("Number of training and testing events")
        _log_factory.debug("\tafter rescaling:")
        _log_factory.info("-" * 75)
        for k, name in enumerate(names):
            pad = f"{name:<{max_l}}"
            _log_factory.info("%s -- training events            : %d", pad, train_sizes[k])
            _log_factory.debug(
                "\t(sum of weights: %g) - requested were %d events", new_train[k], config.requests[k].n_train
            )
            _log_factory.info("%s -- testing events             : %d", pad, test_sizes[k])
            _log_factory.debug(
                "\t(sum of weights: %g) - requested were %d events", test_sums[k], config.requests[k].n_test
            )
            _log_factory.info("%s -- training and testing events: %d", pad, train_sizes[k] + test_sizes[k])
            _log_factory.debug("\t(sum of weights: %g)", new_train[k] + test_sums[k])
            if counts[k].n_after_cut < counts[k].n_before_cut:
                _log_factory.info(
                    "Dataset[%s] : %s -- due to the preselection a scaling factor has been applied to the numbers "
                    "of requested events: %g",
                    self.name,
                    pad,
                    counts[k].cut_scaling(),
                )
        _log_factory.info("")

    def _ranges(
        self,
        train: Sample,
        x_ranges: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
        variables: list[VariableInfo],
        targets: list[VariableInfo],
        spectators: list[VariableInfo],
    ) -> None:
        """Training minimum and maximum of every variable (``x_ranges``), target and spectator."""
        dsi = self.dsi
        for arr, infos, live, kind in (
            (train.X, variables, dsi.variables, "Variable"),
            (train.targets, targets, dsi.targets, "Target"),
            (train.spectators, spectators, dsi.spectators, "Spectator"),
        ):
            if not infos:
                continue
            lo, hi = x_ranges if kind == "Variable" else training_ranges(arr)
            for j, info in enumerate(infos):
                info.min, info.max = float(lo[j]), float(hi[j])
                live[j].min, live[j].max = info.min, info.max
                if not is_constant(info.min, info.max):
                    continue
                if kind == "Variable":
                    _log_factory.warning(
                        "Dataset[%s] : Variable %s is constant. Please remove the variable.",
                        self.name,
                        info.expression,
                    )
                elif kind == "Target":
                    raise DataError(
                        f"Dataset[{self.name}] : Target {info.expression} is constant. Please remove the variable. "
                        f"(all {len(arr)} training events have the value {info.min:g})"
                    )

    def _correlations(
        self,
        moments: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]],
        class_names: list[str],
        show: bool,
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Weighted correlation matrices of the input variables per class.

        ``moments`` are ``Σw``, ``Σw·x``, ``Σw·x·xᵀ`` of every class over the training events,
        accumulated in float64 (:func:`~pymva.data.split.weighted_moments`).
        """
        sw, sx, sxx = moments
        nvar = sx.shape[1]
        out: dict[str, npt.NDArray[np.float64]] = {}
        for k, name in enumerate(class_names):
            if sw[k] == 0:
                rho = np.eye(nvar)
                cov = np.zeros((nvar, nvar))
            else:
                cov = sxx[k] / sw[k] - np.outer(sx[k], sx[k]) / (sw[k] * sw[k])
                d = np.outer(np.diag(cov), np.diag(cov))
                with np.errstate(divide="ignore", invalid="ignore"):
                    rho = np.where(d > 0, cov / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
                np.fill_diagonal(rho, 1.0)
                for i in range(nvar):
                    for j in range(nvar):
                        if i != j and not d[i, j] > 0:
                            _log_factory.warning(
                                "Dataset[%s] : <GetCorrelationMatrix> Zero variances for variables (%d, %d) = %g",
                                self.name,
                                i,
                                j,
                                d[i, j],
                            )
            out[name] = np.asarray(rho, dtype=np.float64)
            cinfo = self.dsi.GetClassInfo(name)
            if cinfo is not None:
                cinfo.correlation_matrix = out[name]
            if show:
                _log_info.header("Correlation matrix (%s):", name)
                for line in format_correlation_matrix(out[name], self.dsi.GetListOfVariables()):
                    _log_info.info("%s", line)
        if out:
            _log_factory.header("[%s] :  ", self.name)
            _log_factory.info("")
        return out
