"""Branch arrays (awkward or numpy) turned into expression values, and the evaluation context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import awkward as ak
import numpy as np
import numpy.typing as npt

from ...errors import DataError
from .values import (
    _f64,
    _Jagged,
    _offsets_from_counts,
    _relayout,
    _root_counts,
    _Scalar,
    _simplify,
    _Str,
    _Value,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


# ---------------------------------------------------------------------------------------------------
# Reading branches
# ---------------------------------------------------------------------------------------------------


def _fields(arrays: Any) -> list[str]:
    if isinstance(arrays, ak.Array):
        return list(arrays.fields)
    keys = getattr(arrays, "keys", None)
    if keys is None:
        raise DataError(
            f"expected a mapping of branch names to arrays (or an awkward record array), "
            f"got {type(arrays).__name__}"
        )
    return [str(k) for k in keys()]


def _numeric_kind(t: Any) -> tuple[str, bool]:
    """(kind, regular) for an awkward type: kind is 'numeric', 'string' or 'other'."""
    depth = 0
    regular = False
    while True:
        arr = t.parameters.get("__array__") if hasattr(t, "parameters") else None
        if arr in ("string", "bytestring"):
            return ("string" if depth == 0 else "other"), regular
        if isinstance(t, ak.types.OptionType):
            t = t.content
            continue
        if isinstance(t, (ak.types.ListType, ak.types.RegularType)):
            if depth == 0:
                regular = isinstance(t, ak.types.RegularType)
            depth += 1
            t = t.content
            continue
        if isinstance(t, ak.types.UnknownType):
            return "numeric", regular
        if isinstance(t, ak.types.NumpyType):
            p = str(t.primitive)
            ok = p == "bool" or p.startswith(("int", "uint", "float"))
            return ("numeric" if ok else "other"), regular
        return "other", regular


def _to_numpy_f64(arr: Any) -> tuple[F64, Mask | None]:
    """A 1-d awkward array of numbers (maybe with None) as float64 data and a validity mask."""
    if isinstance(arr.type.content, ak.types.OptionType):
        valid = ~np.asarray(ak.to_numpy(ak.is_none(arr)), dtype=bool)
        data = ak.to_numpy(ak.fill_none(arr, 0))
        return _f64(data), _simplify(valid)
    if isinstance(arr.type.content, ak.types.UnknownType):
        return np.zeros(len(arr), dtype=np.float64), None
    return _f64(ak.to_numpy(arr)), None


def _convert(name: str, raw: Any, text: str) -> _Scalar | _Jagged | _Str:
    """Turn the array of one branch into the internal float64 representation."""
    if isinstance(raw, np.ndarray):
        kind = raw.dtype.kind
        if kind in "biuf":
            if raw.ndim == 1:
                return _Scalar(_f64(raw), None)
            if raw.ndim == 2:
                n, k = raw.shape
                offsets = np.arange(0, (n + 1) * k, k, dtype=np.int64)[: n + 1]
                return _Jagged(offsets, _f64(raw).reshape(-1), None, fixed=k)
            raw = ak.from_numpy(raw)
        elif kind in "USO":
            raw = ak.Array(raw.tolist())
        else:
            raise DataError(
                f"branch {name!r} (in expression {text!r}) has dtype {raw.dtype}, which is not a number"
            )
    elif not isinstance(raw, ak.Array):
        to_numpy = getattr(raw, "to_numpy", None)
        if to_numpy is not None:  # pandas Series and the like
            return _convert(name, np.asarray(to_numpy()), text)
        try:
            raw = ak.Array(raw)
        except Exception as e:
            raise DataError(
                f"branch {name!r} (in expression {text!r}) cannot be read as an array: {e}"
            ) from e
    kind, regular = _numeric_kind(raw.type.content)
    if kind == "string":
        return _Str(name, raw)
    if kind != "numeric":
        raise DataError(
            f"branch {name!r} (in expression {text!r}) has type {raw.type.content}, which is not a "
            "number or an array of numbers"
        )
    if raw.ndim == 1:
        data, valid = _to_numpy_f64(raw)
        return _Scalar(data, valid)
    fixed = None
    if raw.ndim == 2 and regular:
        fixed = (
            int(raw.type.content.content.size)
            if isinstance(raw.type.content, ak.types.OptionType)
            else int(raw.type.content.size)
        )
    while raw.ndim > 2:
        raw = ak.flatten(raw, axis=2)
    counts = ak.num(raw, axis=1)
    if isinstance(counts.type.content, ak.types.OptionType):
        counts = ak.fill_none(counts, 0)
    offsets = _offsets_from_counts(np.asarray(ak.to_numpy(counts), dtype=np.int64))
    data, valid = _to_numpy_f64(ak.flatten(raw, axis=1))
    return _Jagged(offsets, data, valid, fixed=fixed)


def _ndim(raw: Any) -> int:
    if isinstance(raw, np.ndarray):
        return int(raw.ndim)
    if isinstance(raw, ak.Array):
        return int(raw.ndim)
    return 1


class _Scope:
    """The arrays of one (sub-)expression that set its number of instances, as ROOT counts them.

    ROOT gives every formula one number of instances per entry (``TTreeFormula::GetNdata``), set
    by the arrays it uses unindexed, in the order it names them (:func:`~.values._root_counts`),
    and every array of the formula is read at those instances; an element past an array's own
    length is missing.  The arguments of ``Sum$``, ``Length$``, ``Min$``, ``Max$``, ``MinIf$`` and
    ``MaxIf$`` are formulas of their own, with their own scope; arrays inside the first argument of
    ``Alt$`` are read at the instances of the enclosing scope but do not count.

    A constant index beyond the length of an array (``Muon_Px[1]`` with one muon) *cancels* the
    scope for that entry: ROOT then gives no instance at all, even where ``&&`` or ``?:`` would not
    read the element (``NMuon>1 && Muon_Px[1]>10``).  ``sources`` are filled by the compiler,
    ``cancel`` per evaluation in :class:`_Ctx`.
    """

    __slots__ = ("sources",)

    def __init__(self) -> None:
        self.sources: list[Callable[[_Ctx], _Value]] = []


class _Ctx:
    """Evaluation context: the input arrays, the number of entries, converted branches."""

    __slots__ = ("arrays", "cache", "cancels", "counts", "n", "nodes", "text")

    def __init__(self, arrays: Any, n: int) -> None:
        self.arrays = arrays
        self.n = n
        self.cache: dict[str, _Scalar | _Jagged | _Str] = {}
        self.text = ""
        self.counts: dict[_Scope, I64 | None] = {}
        self.cancels: dict[_Scope, Mask] = {}
        self.nodes: dict[int, _Value] = {}

    def raw(self, name: str) -> Any:
        return self.arrays[name]

    def leaf(self, name: str) -> _Scalar | _Jagged | _Str:
        v = self.cache.get(name)
        if v is None:
            v = _convert(name, self.raw(name), self.text)
            self.cache[name] = v
        return v

    def scope_counts(self, scope: _Scope) -> I64 | None:
        """Instances per entry of ``scope`` (``None``: no array among its sources, one instance)."""
        if scope in self.counts:
            return self.counts[scope]
        # ROOT knows the sizes of fixed-size arrays when it compiles the formula: they come first,
        # the lengths of variable-size arrays are then applied entry by entry
        fixed: list[I64] = []
        lengths: list[I64] = []
        for src in scope.sources:
            v = src(self)
            if isinstance(v, _Jagged):
                (lengths if v.fixed is None else fixed).append(v.counts)
        counts = _root_counts(fixed + lengths) if (fixed or lengths) else None
        self.counts[scope] = counts
        return counts

    def in_scope(self, v: _Value, scope: _Scope) -> _Value:
        """An array value read at the instances of ``scope``; single values unchanged."""
        if not isinstance(v, _Jagged):
            return v
        counts = self.scope_counts(scope)
        if counts is None:  # only read at instance 0 (an array inside Alt$ in a single-valued scope)
            first = _relayout(v, np.minimum(v.counts, 1))
            data = np.zeros(self.n, dtype=np.float64)
            has = v.counts > 0
            data[has] = first.data
            valid = has.copy()
            if first.valid is not None:
                valid[has] &= first.valid
            return _Scalar(data, _simplify(valid))
        return _relayout(v, counts)

    def cancel(self, scope: _Scope, mask: Mask) -> None:
        """Entries in which ``scope`` has no instance (an index beyond an array's length)."""
        old = self.cancels.get(scope)
        self.cancels[scope] = mask if old is None else (old | mask)


# ---------------------------------------------------------------------------------------------------
# Compilation of the parse tree into closures
# ---------------------------------------------------------------------------------------------------

_Eval = Callable[[_Ctx], _Value]
