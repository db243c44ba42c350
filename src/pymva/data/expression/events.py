"""TMVA's event building from one chunk of entries (``DataSetFactory::BuildEventVector``): :func:`build_events`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ...errors import DataError
from .branches import _Ctx
from .compile import Formula, _n_entries
from .values import _Num, _offsets_from_counts, _Scalar

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


#: Largest finite float32; a value beyond it becomes ±inf when TMVA stores it in a ``Float_t``.
_FLT_MAX = float(np.finfo(np.float32).max)


@dataclass
class EventBlock:
    """The events built from one chunk of entries (TMVA's ``DataSetFactory::BuildEventVector``).

    Attributes
    ----------
    values : numpy.ndarray
        float64 (n_events, n_columns): one column per expression given to :func:`build_events`
        (or the float32/float64 array its ``out`` returned).
    weights : numpy.ndarray
        float64 (n_events,): the value of the weight expression (1.0 without one).  The tree weight
        is not included.
    entry : numpy.ndarray
        int64 (n_events,): index of the source entry within the input arrays.
    n_candidates : int
        Events before the cut (after flattening), as TMVA counts them.
    sumw_candidates : float
        Sum of the weight expression over those events, NaN weights skipped.
    nan_selected, nan_rejected : dict
        ``(kind, expression) -> (n NaN, n ±inf)`` for kinds ``"Input"``, ``"Target"``,
        ``"Spectator"``, ``"Weight"`` and ``"Cut"``, among events passing (removed by) the cut.
        Only non-zero counts are listed.  Input, target, spectator and weight values count as
        infinite when they overflow a float32 (TMVA stores them as ``Float_t``).  A NaN or ±inf cut
        value always counts as selected, as in TMVA, where it is an error whatever the outcome.
    n_entries_missing : int
        Entries that yielded no event because an input expression had no instance there (an
        indexed element that does not exist, ``arr[4]`` with 3 elements); TMVA warns and suggests
        ``Alt$(arr[4],0)``.
    """

    values: npt.NDArray[np.floating[Any]]
    weights: F64
    entry: I64
    n_candidates: int
    sumw_candidates: float
    nan_selected: dict[tuple[str, str], tuple[int, int]]
    nan_rejected: dict[tuple[str, str], tuple[int, int]]
    n_entries_missing: int = 0


_KINDS = ("Input", "Target", "Spectator")


class _EventIndex:
    """Where the events of a chunk come from: ``size[i]`` events for entry ``i`` (1 if None)."""

    def __init__(self, n: int, size: I64 | None) -> None:
        self.n = n
        self.size = size
        self.starts = None if size is None else _offsets_from_counts(size)
        self.n_events = n if self.starts is None else int(self.starts[-1])
        self._entry: I64 | None = None
        self._local: I64 | None = None

    @property
    def entry(self) -> I64:
        """Entry index of every event."""
        if self._entry is None:
            ar = np.arange(self.n, dtype=np.int64)
            self._entry = ar if self.size is None else np.repeat(ar, self.size)
        return self._entry

    @property
    def local(self) -> I64:
        """Position of every event within its entry."""
        if self._local is None:
            if self.starts is None:
                self._local = np.zeros(self.n, dtype=np.int64)
            else:
                self._local = np.arange(self.n_events, dtype=np.int64) - self.starts[:-1][self.entry]
        return self._local

    def gather(self, v: _Num, ndata: I64 | None) -> F64:
        """Values of one expression for every event, as TMVA reads them.

        TMVA takes ``EvalInstance(0)`` when the formula has one instance (``ndata``) in the entry and
        ``EvalInstance(i)`` for the entry's ``i``-th event otherwise; an instance past the end of
        the expression's values, and a missing value, read as NaN (ROOT's value there).
        """
        if isinstance(v, float):
            return np.full(self.n_events, v, dtype=np.float64)
        data = v.data if v.valid is None else np.where(v.valid, v.data, np.nan)
        if isinstance(v, _Scalar):
            return data if self.size is None else np.repeat(data, self.size)
        if self.starts is not None and (v.offsets is self.starts or np.array_equal(v.offsets, self.starts)):
            return data  # the expression that defines the events
        entry = self.entry
        k = self.local if ndata is None else np.where(ndata[entry] == 1, 0, self.local)
        counts = v.counts[entry]
        ok = k < counts
        if v.data.size == 0:
            return np.full(self.n_events, np.nan)
        pos = np.where(ok, v.offsets[:-1][entry] + k, 0)
        return np.where(ok, data[pos], np.nan)


#: dtypes whose conversion to float64 is exact, so that a float32 output rounds them only once
_EXACT_IN_F64 = frozenset(
    np.dtype(t) for t in (np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32)
) | frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64))


def _plain_leaf(f: Formula, ctx: _Ctx) -> _Scalar | None:
    """The value of an expression that is just a flat numeric branch, without conversion to float64.

    The data keep their own type (float32, int32, …: types whose float64 conversion is exact) and are
    converted once when they are written to the output block, which gives the same float32 or
    float64 values as converting to float64 first.  ``None`` for every other expression.
    """
    name = f._root.leaf
    if name is None:
        return None
    raw = ctx.arrays[name]
    if isinstance(raw, np.ndarray) and raw.ndim == 1 and raw.dtype in _EXACT_IN_F64:
        return _Scalar(raw, None)
    return None


def _count_nan_inf(x: F64, as_float32: bool) -> tuple[Mask, Mask] | None:
    """(NaN mask, ±inf mask), or None when every value is finite."""
    if x.size == 0:
        return None
    limit = _FLT_MAX if as_float32 else np.inf
    hi, lo = np.max(x), np.min(x)  # NaN propagates, no temporaries
    if -limit <= lo and hi <= limit:
        return None
    y = x.astype(np.float32) if as_float32 else x
    bad = ~np.isfinite(y)
    nan = np.isnan(x)
    return nan, bad & ~nan


def build_events(
    arrays: Any,
    columns: Sequence[tuple[str, Formula]],
    *,
    weight: Formula | None = None,
    cut: Formula | None = None,
    out: Callable[[int], npt.NDArray[np.floating[Any]]] | None = None,
) -> EventBlock:
    """Build TMVA events from one chunk of entries (``core.md`` §3.3), vectorised.

    Parameters
    ----------
    arrays : mapping of str to array, or awkward record array
        The branches of the chunk (see :meth:`Formula.evaluate`).
    columns : sequence of (kind, Formula)
        The expressions that make up an event, ``kind`` in ``{"Input", "Target", "Spectator"}``.
    weight : Formula, optional
        The weight expression; 1 for every event without one.
    cut : Formula, optional
        The selection; an event is rejected when its value is < 0.5.
    out : callable, optional
        Called once with the number ``n`` of selected events; returns the array, float32 or float64
        of shape ``(n, len(columns))``, that receives the event values (it becomes
        :attr:`EventBlock.values`).  The values are computed in float64 and rounded once to the
        array's type, so a float32 array holds exactly what a float64 block cast to float32 would.
        By default a new float64 array.

    Returns
    -------
    EventBlock
        The events that pass the cut, with TMVA's counts of candidates and of NaN/±inf values.

    Raises
    ------
    DataError
        When multi-valued ``Input`` expressions give different numbers of values in one entry
        (TMVA: "multiple array-type expressions of different length were encountered"), or for
        the errors of :meth:`Formula.evaluate`.

    Notes
    -----
    Counted in ROOT's instances (``TTreeFormula::GetNdata``, see :meth:`Formula.evaluate`), as
    TMVA's ``DataSetFactory::BuildEventVector`` does:

    * An ``Input`` expression with several instances turns an entry into one event per instance;
      every other input must then have the same number of instances or exactly one (which is
      broadcast, as are single-valued expressions of every kind).  An input without instance (an
      empty array, or an index past the end of an array, also inside ``&&`` or ``?:``) gives no
      event; such entries, if the cause was an index, are counted in
      :attr:`EventBlock.n_entries_missing`.
    * Targets, spectators, weight and cut with several instances are read at the event's position
      within its entry, one with a single instance is broadcast.  Where there is no such instance
      TMVA reads ROOT's ``EvalInstance`` anyway: NaN where an element past the end is read (an
      error in a selected event, and a cut value of NaN always selects), or the value that ``&&``
      / ``?:`` give without reading it (``n>1 && a[1]>0`` is 0 where n is 1).
    """
    for kind, f in columns:
        if kind not in _KINDS:
            raise DataError(f"unknown column kind {kind!r}; expected one of {', '.join(_KINDS)}")
        if not isinstance(f, Formula):
            raise DataError(f"columns must hold Formula objects, got {type(f).__name__}")
    formulas = [f for _, f in columns] + [f for f in (weight, cut) if f is not None]
    n = _n_entries(arrays, formulas)
    ctx = _Ctx(arrays, n)
    with np.errstate(all="ignore"):
        insts: list[tuple[_Num, I64 | None, Mask | None]] = []
        for _, f in columns:
            plain = _plain_leaf(f, ctx)
            insts.append((plain, None, None) if plain is not None else f._instances(ctx))
        winst = weight._instances(ctx) if weight is not None else (1.0, None, None)
        cinst = cut._instances(ctx) if cut is not None else None

        # number of events of each entry (DataSetFactory::BuildEventVector's sizeOfArrays): the
        # first input with a number of instances other than 1 sets it, every other such input
        # must agree; 0 instances (an empty array, an element that does not exist) give no event
        size: I64 | None = None
        ref = np.empty(0, dtype=np.int64)
        cancelled = np.zeros(n, dtype=bool)
        for i, ((kind, f), (_v, ndata, cancel)) in enumerate(zip(columns, insts, strict=True)):
            if kind != "Input" or ndata is None:
                continue
            if cancel is not None:
                cancelled |= cancel
            multi = ndata != 1
            if size is None:
                size = np.ones(n, dtype=np.int64)
                ref = np.full(n, -1, dtype=np.int64)
            clash = multi & (ref >= 0) & (ndata != size)
            if clash.any():
                e = int(np.flatnonzero(clash)[0])
                other = columns[int(ref[e])][1].text
                hint = ""
                if min(int(ndata[e]), int(size[e])) == 0:
                    hint = (
                        "; an expression without value in an entry (an index past the end of an "
                        "array, e.g. arr[4] with 3 elements) can be given a default with Alt$(arr[4],0)"
                    )
                raise DataError(
                    "multi-valued input expressions of different length in one entry: in entry "
                    f"{e}, {f.text!r} has {int(ndata[e])} values while {other!r} has "
                    f"{int(size[e])}; all multi-valued inputs must have the same number of values "
                    f"(or a single one), as TMVA requires{hint}"
                )
            new = multi & (ref < 0)
            size[new] = ndata[new]
            ref[new] = i
        if size is not None and bool((size == 1).all()):
            size = None
        ix = _EventIndex(n, size)
        n_events = ix.n_events
        n_missing = int(np.count_nonzero(cancelled & (size == 0))) if size is not None else 0
        all_insts = [*insts, winst] + ([cinst] if cinst is not None else [])
        gathered = [ix.gather(v, ndata) for v, ndata, _ in all_insts]
        wdata = gathered[len(columns)]
        cdata = gathered[len(columns) + 1] if cinst is not None else None
        n_cand = n_events
        sumw = float(np.sum(wdata))
        if math.isnan(sumw):  # the same sum with the NaN skipped (nansum copies the array)
            sumw = float(np.nansum(wdata))

        passed: Mask | None = None
        rejected: Mask | None = None
        if cdata is not None:
            rejected = cdata < 0.5
            passed = ~rejected  # a NaN cut value is not < 0.5: selected, and an error (TMVA)

        nan_sel: dict[tuple[str, str], tuple[int, int]] = {}
        nan_rej: dict[tuple[str, str], tuple[int, int]] = {}

        def note(
            target: dict[tuple[str, str], tuple[int, int]], key: tuple[str, str], nn: int, ni: int
        ) -> None:
            if nn or ni:
                old = target.get(key, (0, 0))
                target[key] = (old[0] + nn, old[1] + ni)

        checks: list[tuple[str, str, F64]] = [
            (kind, f.text, gathered[i]) for i, (kind, f) in enumerate(columns)
        ]
        if weight is not None:
            checks.append(("Weight", weight.text, wdata))
        for kind, text, x in checks:
            res = _count_nan_inf(x, as_float32=True)
            if res is None:
                continue
            nanm, infm = res
            for target, mask in ((nan_sel, passed), (nan_rej, rejected)):
                if mask is None and target is nan_rej:
                    continue
                if mask is None:
                    note(target, (kind, text), int(nanm.sum()), int(infm.sum()))
                else:
                    note(target, (kind, text), int(nanm[mask].sum()), int(infm[mask].sum()))
        if cut is not None and cdata is not None:
            res = _count_nan_inf(cdata, as_float32=False)
            if res is not None:
                nanm, infm = res
                note(nan_sel, ("Cut", cut.text), int(nanm.sum()), int(infm.sum()))

        idx = None if passed is None else np.flatnonzero(passed)
        n_out = n_events if idx is None else len(idx)
        values: npt.NDArray[np.floating[Any]]
        if out is None:
            values = np.empty((n_out, len(columns)), dtype=np.float64)
        else:
            values = out(n_out)
            if values.shape != (n_out, len(columns)) or values.dtype not in (np.float32, np.float64):
                raise DataError(
                    f"build_events: out({n_out}) returned a {values.dtype} array of shape {values.shape}; "
                    f"expected float32 or float64 of shape ({n_out}, {len(columns)})"
                )
        for j in range(len(columns)):
            col = gathered[j]
            values[:, j] = col if idx is None else col[idx]
        if idx is not None:
            weights_out = np.asarray(wdata[idx], dtype=np.float64)
        elif weight is None:  # a new array of ones, not shared with anything
            weights_out = np.asarray(wdata, dtype=np.float64)
        else:  # may be a branch of the input: copy
            weights_out = np.array(wdata, dtype=np.float64)
        if idx is None:
            entry_out = ix.entry if ix.size is None else np.array(ix.entry, dtype=np.int64)
        else:
            entry_out = idx if ix.size is None else ix.entry[idx]

    return EventBlock(
        values=values,
        weights=weights_out,
        entry=entry_out,
        n_candidates=n_cand,
        sumw_candidates=sumw,
        nan_selected=nan_sel,
        nan_rejected=nan_rej,
        n_entries_missing=n_missing,
    )


def array_length_check(arrays: Any, formula: Formula, size: int) -> tuple[int, int]:
    """Count entries with fewer / more values than ``size`` (TMVA's ``AddVariablesArray``).

    TMVA aborts when an array is shorter than the declared size and warns once when it is longer
    (the extra values are ignored).

    Parameters
    ----------
    arrays : mapping of str to array, or awkward record array
        The branches of a chunk.
    formula : Formula
        The array expression.
    size : int
        The declared number of elements.

    Returns
    -------
    (int, int)
        Number of entries shorter than ``size`` and number longer than ``size``, counted in ROOT's
        instances (``GetNdata``): a single-valued expression has one, none where it is cancelled
        (an index past the end of an array).
    """
    n = _n_entries(arrays, [formula])
    ctx = _Ctx(arrays, n)
    with np.errstate(all="ignore"):
        _, ndata, _ = formula._instances(ctx)
    counts: npt.NDArray[np.int64] = np.ones(n, dtype=np.int64) if ndata is None else ndata
    return int(np.count_nonzero(counts < size)), int(np.count_nonzero(counts > size))
