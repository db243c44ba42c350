"""The values an expression computes: one number per entry, jagged lists, strings; broadcasting between them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


# ---------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------


class _Scalar:
    """One number per entry; ``valid`` is ``None`` when every entry has a value."""

    __slots__ = ("data", "valid")

    def __init__(self, data: F64, valid: Mask | None) -> None:
        self.data = data
        self.valid = valid


class _Jagged:
    """A list of numbers per entry: ``data[offsets[i]:offsets[i+1]]`` belongs to entry ``i``.

    ``fixed`` is the declared size of a fixed-size array branch (``float x[3]``), used to reject an
    index beyond it as ROOT does.
    """

    __slots__ = ("_counts", "_ent", "data", "fixed", "offsets", "valid")

    def __init__(self, offsets: I64, data: F64, valid: Mask | None, fixed: int | None = None) -> None:
        self.offsets = offsets
        self.data = data
        self.valid = valid
        self.fixed = fixed
        self._counts: I64 | None = None
        self._ent: I64 | None = None

    @property
    def n(self) -> int:
        return len(self.offsets) - 1

    @property
    def counts(self) -> I64:
        if self._counts is None:
            self._counts = np.diff(self.offsets)
        return self._counts

    @property
    def ent(self) -> I64:
        """Entry index of every element."""
        if self._ent is None:
            self._ent = np.repeat(np.arange(self.n, dtype=np.int64), self.counts)
        return self._ent


class _Str:
    """A string branch; usable only in ``==``/``!=`` comparisons."""

    __slots__ = ("array", "name")

    def __init__(self, name: str, array: Any) -> None:
        self.name = name
        self.array = array


class _StrConst:
    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value


_Num = float | _Scalar | _Jagged
_Value = float | _Scalar | _Jagged | _Str | _StrConst


def _f64(x: Any) -> F64:
    return np.asarray(x, dtype=np.float64)


def _offsets_from_counts(counts: I64) -> I64:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _simplify(valid: Mask | None) -> Mask | None:
    if valid is not None and bool(valid.all()):
        return None
    return valid


def _valid_or_true(valid: Mask | None) -> Any:
    return True if valid is None else valid


def _and_valid(valids: Sequence[Mask | None]) -> Mask | None:
    out: Mask | None = None
    for v in valids:
        if v is None:
            continue
        out = v if out is None else (out & v)
    return out


def _root_counts(counts: Sequence[I64]) -> I64:
    """ROOT's number of instances of arrays used together (``TTreeFormula::LoadCurrentDim``).

    ROOT keeps one size per entry, starting at 1, and walks the arrays in the order the expression
    names them: an array replaces the size when it is shorter, *or when the size is still 1*.  So
    the result is the shortest length, except that an array of exactly one element is overridden
    by the next array (lengths 1, 3 give 3 instances; 3, 1 give 1; 1, 3, 2 give 2).
    """
    cur = np.array(counts[0], dtype=np.int64)
    for c in counts[1:]:
        cur = np.where((cur == 1) | (c < cur), c, cur)
    return cur


def _relayout(j: _Jagged, counts: I64) -> _Jagged:
    """``j`` with ``counts[i]`` elements in entry ``i``: its own elements, missing past its length.

    This is how ROOT reads an array at an instance beyond its length (``Muon_Px + Jet_Px`` with one
    muon and two jets: the second instance reads a muon that does not exist, which gives NaN).
    """
    if j.offsets.shape == (len(counts) + 1,) and np.array_equal(j.counts, counts):
        return j
    offsets = _offsets_from_counts(counts)
    ent = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    local = np.arange(int(offsets[-1]), dtype=np.int64) - offsets[:-1][ent]
    ok = local < j.counts[ent]
    if j.data.size == 0:
        return _Jagged(offsets, np.zeros(len(local), dtype=np.float64), _simplify(ok))
    idx = np.where(ok, j.offsets[:-1][ent] + local, 0)
    valid = ok if j.valid is None else (ok & j.valid[idx])
    return _Jagged(offsets, j.data[idx], _simplify(valid))


def _align(jags: Sequence[_Jagged]) -> tuple[I64, list[tuple[F64, Mask | None]]]:
    """Bring jagged values to common lists, with ROOT's instance count (:func:`_root_counts`).

    Values of one expression are laid out on one count per entry before they meet (see
    :class:`~.branches._Scope`), so the lists normally agree already.
    """
    base = jags[0]
    if all(j.offsets is base.offsets or np.array_equal(j.offsets, base.offsets) for j in jags[1:]):
        return base.offsets, [(j.data, j.valid) for j in jags]
    counts = _root_counts([j.counts for j in jags])
    laid = [_relayout(j, counts) for j in jags]
    return laid[0].offsets, [(j.data, j.valid) for j in laid]


class _Bc:
    """Operands broadcast to one structure (see :func:`_bcast`)."""

    __slots__ = ("datas", "offsets", "valids")

    def __init__(self, offsets: I64 | None, datas: list[Any], valids: list[Mask | None]) -> None:
        self.offsets = offsets
        self.datas = datas
        self.valids = valids

    def wrap(self, data: Any, valid: Mask | None) -> _Num:
        if self.offsets is None:
            arr = _f64(data)
            if arr.ndim == 0:
                return float(arr)
            return _Scalar(arr, _simplify(valid))
        return _Jagged(self.offsets, _f64(data), _simplify(valid))


def _bcast(vals: Sequence[_Num]) -> _Bc:
    """Broadcast constants, per-entry scalars and per-entry lists against each other."""
    jags = [v for v in vals if isinstance(v, _Jagged)]
    if not jags:
        return _Bc(
            None,
            [v if isinstance(v, float) else v.data for v in vals],
            [None if isinstance(v, float) else v.valid for v in vals],
        )
    offsets, parts = _align(jags)
    ent: I64 | None = None
    datas: list[Any] = []
    valids: list[Mask | None] = []
    k = 0
    for v in vals:
        if isinstance(v, float):
            datas.append(v)
            valids.append(None)
        elif isinstance(v, _Scalar):
            if ent is None:
                counts = np.diff(offsets)
                ent = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
            datas.append(v.data[ent])
            valids.append(None if v.valid is None else v.valid[ent])
        else:
            d, m = parts[k]
            k += 1
            datas.append(d)
            valids.append(m)
    return _Bc(offsets, datas, valids)


def _nary(fn: Callable[..., Any], vals: Sequence[_Num]) -> _Num:
    bc = _bcast(vals)
    return bc.wrap(fn(*bc.datas), _and_valid(bc.valids))
