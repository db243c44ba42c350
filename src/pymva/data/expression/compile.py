"""Compiling a parsed expression into numpy closures: :class:`Formula` and :func:`parse_formula`."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np
import numpy.typing as npt

from ...errors import DataError, did_you_mean
from .branches import _convert, _Ctx, _Eval, _fields, _ndim, _Scope, _to_numpy_f64
from .functions import _BINARY, _FUNCTIONS, _OP_SYMBOL, _SPECIAL, _UNSUPPORTED, _bool
from .grammar import _parse, _show
from .values import (
    _and_valid,
    _bcast,
    _f64,
    _Jagged,
    _nary,
    _Num,
    _offsets_from_counts,
    _Scalar,
    _simplify,
    _Str,
    _StrConst,
    _valid_or_true,
    _Value,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


def _n_entries(arrays: Any, formulas: Sequence[Formula]) -> int:
    """Check that every branch exists and all have the same length; return that length."""
    fields = _fields(arrays)
    known = set(fields)
    lengths: dict[str, int] = {}
    for f in formulas:
        for name in sorted(f.branches):
            if name not in known:
                raise DataError(
                    f"unknown branch {name!r} in expression {f.text!r}{did_you_mean(name, fields)}"
                )
            if name not in lengths:
                lengths[name] = len(arrays[name])
    if lengths:
        distinct = set(lengths.values())
        if len(distinct) > 1:
            desc = ", ".join(f"{k!r}: {v}" for k, v in sorted(lengths.items()))
            raise DataError(f"the branches have different numbers of entries ({desc})")
        return distinct.pop()
    if isinstance(arrays, ak.Array):
        return len(arrays)
    if fields:
        return len(arrays[fields[0]])
    raise DataError(
        "cannot tell the number of entries: the expressions read no branch and no array was given"
    )


@dataclass(frozen=True)
class _Node:
    fn: _Eval
    const: float | None = None
    string: str | None = None
    leaf: str | None = None
    pos: int = 0


def _num(v: _Value, ctx: _Ctx) -> _Num:
    if isinstance(v, _Str):
        raise DataError(
            f"branch {v.name!r} holds strings and cannot be used as a number in expression "
            f"{ctx.text!r}; a string branch can only be compared with a string constant, "
            f'e.g. {v.name}=="abc"'
        )
    if isinstance(v, _StrConst):  # pragma: no cover - rejected at compile time
        raise DataError(f"a string constant cannot be used as a number in expression {ctx.text!r}")
    return v


def _index(v: _Num, idx: float | _Scalar | None, fixed_text: str) -> _Num:
    """``v[idx]`` per entry; an element that does not exist is missing."""
    if idx is None:
        return v
    if isinstance(v, (float, _Scalar)):
        # a single value per entry: [0] is the value itself, anything else does not exist
        if isinstance(idx, float):
            if idx == 0:
                return v
            if isinstance(v, float):
                raise DataError(f"index {int(idx)} of a single value in expression {fixed_text!r}")
            return _Scalar(v.data, np.zeros(len(v.data), dtype=bool))
        if isinstance(v, float):
            return _Scalar(np.full(len(idx.data), v), _simplify(_and_valid([idx.valid, idx.data == 0])))
        return _Scalar(v.data, _simplify(_and_valid([v.valid, idx.valid, idx.data == 0])))
    counts = v.counts
    n = v.n
    if isinstance(idx, float):
        k = int(idx)
        if v.fixed is not None and k >= v.fixed:
            raise DataError(
                f"index {k} is beyond the size of a fixed-size array (max is {v.fixed - 1}) in "
                f"expression {fixed_text!r}"
            )
        ok = counts > k
        pos = v.offsets[:-1] + k
    else:
        kf = np.trunc(idx.data)
        ok = (kf >= 0) & (kf < counts)
        if idx.valid is not None:
            ok &= idx.valid
        pos = v.offsets[:-1] + np.where(ok, kf, 0).astype(np.int64)
    if v.data.size == 0:
        return _Scalar(np.zeros(n, dtype=np.float64), np.zeros(n, dtype=bool))
    pos = np.where(ok, pos, 0)
    valid = ok if v.valid is None else (ok & v.valid[pos])
    return _Scalar(v.data[pos], _simplify(valid))


def _index_nd(raw: Any, idxs: Sequence[float | _Scalar | None], text: str) -> _Num:
    """Indexing of a branch with more than one array dimension (``m[1][2]``, ``m[][2]``)."""
    arr = raw if isinstance(raw, ak.Array) else ak.from_numpy(np.asarray(raw))
    axis = 1
    for idx in idxs:
        if arr.ndim <= axis:
            raise DataError(f"too many indices in expression {text!r}")
        if idx is None:
            axis += 1
            continue
        if isinstance(idx, float):
            k = int(idx)
            t = arr.type.content
            for _ in range(axis - 1):
                while isinstance(t, ak.types.OptionType):
                    t = t.content
                t = t.content
            while isinstance(t, ak.types.OptionType):
                t = t.content
            if isinstance(t, ak.types.RegularType) and k >= t.size:
                raise DataError(
                    f"index {k} for dimension #{axis} is beyond the fixed size {t.size} in expression "
                    f"{text!r}"
                )
            arr = ak.pad_none(arr, k + 1, axis=axis)
            arr = arr[(slice(None),) * axis + (k,)]
        else:
            if axis != 1:
                raise DataError(
                    f"a per-entry index is only supported for the first dimension, in expression {text!r}"
                )
            sel = idx.data if idx.valid is None else np.where(idx.valid, idx.data, -1.0)
            sel = np.where(np.isfinite(sel), np.trunc(sel), -1.0).astype(np.int64)
            arr = ak.firsts(arr[ak.local_index(arr, axis=1) == sel], axis=1)
    v = _convert("", arr, text)
    if isinstance(v, _Str):  # pragma: no cover - numeric branches only reach here
        raise DataError(f"cannot index strings in expression {text!r}")
    if isinstance(v, _Jagged):
        v.fixed = None
    return v


def _reduce(kind: str, x: _Num, cond: _Num | None, n: int, cancel: Mask | None) -> _Num:
    """Length$, Sum$, Min$, Max$, MinIf$, MaxIf$ over the instances of each entry.

    ``cancel`` marks the entries in which the argument has no instance (see :class:`_Scope`): they
    count as empty.  As in ROOT, a missing element among the instances (an array read past its
    length) is NaN there: ``Sum$`` becomes NaN, ``Min$``/``Max$`` skip it unless it comes first;
    ``MinIf$``/``MaxIf$`` skip it.
    """
    skip_missing = cond is not None
    if cond is not None:
        # keep the values whose condition is non-zero (and exists)
        bc = _bcast([x, cond])
        xd, cd = bc.datas
        vx, vc = bc.valids
        shape = np.broadcast(np.asarray(xd), np.asarray(cd)).shape
        if shape == ():
            return float(xd) if (cd != 0) else 0.0
        sel = np.broadcast_to(np.not_equal(cd, 0) & _valid_or_true(vc) & _valid_or_true(vx), shape)
        x = bc.wrap(np.broadcast_to(xd, shape), sel.copy())
    if isinstance(x, float):
        value = 1.0 if kind == "Length$" else x
        if cancel is None:
            return value
        return _Scalar(np.where(cancel, 0.0, value), None)
    valid: Mask | None
    if isinstance(x, _Scalar):
        if kind == "Length$":
            has = x.valid if (skip_missing and x.valid is not None) else np.ones(n, dtype=bool)
            data, valid = has.astype(np.float64), None
        elif skip_missing and x.valid is not None:
            data, valid = np.where(x.valid, x.data, 0.0), None
        else:
            data, valid = x.data, x.valid
    else:
        ent, values = x.ent, x.data
        valid = None
        if x.valid is not None:
            if skip_missing:
                ent, values = ent[x.valid], values[x.valid]
            else:  # ROOT reads a missing element as NaN: Sum$ is NaN, Min$/Max$ skip it (see below)
                values = np.where(x.valid, values, np.nan)
        if kind == "Length$":
            data = np.bincount(ent, minlength=n).astype(np.float64)
        elif kind == "Sum$":
            data = np.bincount(ent, weights=values, minlength=n).astype(np.float64)
        else:
            counts = np.bincount(ent, minlength=n)
            data = np.zeros(n, dtype=np.float64)
            nonempty = counts > 0
            if values.size:
                starts = (np.cumsum(counts) - counts)[nonempty]
                red = np.fmin if kind in ("Min$", "MinIf$") else np.fmax
                res = red.reduceat(values, starts)
                # ROOT keeps the first value and replaces it by any smaller (larger) one: NaN elements
                # are skipped unless the first value of the entry is NaN
                res[np.isnan(values[starts])] = np.nan
                data[nonempty] = res
    if cancel is not None:
        data = np.where(cancel, 0.0, data)
        if valid is not None:
            valid = _simplify(valid | cancel)
    return _Scalar(data, valid)


def _logic(is_and: bool, a: _Num, b: _Num) -> _Num:
    """``a && b`` / ``a || b`` with ROOT's lazy evaluation of the right side."""
    bc = _bcast([a, b])
    x, y = bc.datas
    va, vb = bc.valids
    nx, ny = np.not_equal(x, 0), np.not_equal(y, 0)
    data = _bool((nx & ny) if is_and else (nx | ny))
    # ROOT evaluates the right side only when the left does not decide: a missing value on the
    # right does not matter when the left side is 0 (&&) or non-zero (||)
    valid = va
    if vb is not None:
        decided = ~nx if is_and else nx
        valid = (decided | vb) if va is None else (va & (decided | vb))
    if valid is not None:
        valid = np.broadcast_to(valid, np.shape(data)).copy()
    return bc.wrap(data, valid)


def _pairwise(kind: str) -> Callable[[_Num, _Num], _Num]:
    if kind == "and_":
        return functools.partial(_logic, True)
    if kind == "or_":
        return functools.partial(_logic, False)
    fn = _BINARY[kind]
    return lambda a, b: _nary(fn, [a, b])


#: operators compiled as loops over a run (see _Compiler.chain); ROOT groups these to the left
_LEFT_ASSOC = frozenset({"add", "sub", "div"})
_PAIRWISE = {k: _pairwise(k) for k in ("add", "sub", "mul", "div", "and_", "or_", "bitand", "bitor")}


def _fold_values(op: Callable[[_Num, _Num], _Num], vals: Sequence[_Num], left: bool) -> _Num:
    if left:
        acc = vals[0]
        for v in vals[1:]:
            acc = op(acc, v)
        return acc
    acc = vals[-1]
    for v in reversed(vals[:-1]):
        acc = op(v, acc)
    return acc


_COMPARISONS = frozenset({"lt", "gt", "le", "ge", "eq", "ne"})


def _root_comparison_split(kinds: Sequence[str]) -> int:
    """Which of a run of comparison operators ROOT splits at (see :meth:`_Compiler.comparison`)."""
    first: dict[str, int] = {}
    petit = grand = -1
    for k, kind in enumerate(kinds):
        if kind in ("lt", "le") and petit < 0:
            petit = k  # the '<' character, also that of '<='
        if kind in ("gt", "ge") and grand < 0:
            grand = k
        if kind not in first:
            first[kind] = k
            if kind == "le":
                petit = -1  # the first '<=' forgets every '<' before it
            elif kind == "ge":
                grand = -1
    for k in (
        petit,
        grand,
        first.get("le", -1),
        first.get("ge", -1),
        first.get("eq", -1),
        first.get("ne", -1),
    ):
        if k >= 0:
            return k
    raise AssertionError("no comparison operator")  # pragma: no cover


class _Compiler:
    def __init__(self, text: str) -> None:
        self.text = text
        self.branches: set[str] = set()
        #: the scope of the whole expression, and the one being compiled (see _Scope)
        self.top = _Scope()
        self.scope = self.top
        #: inside the first argument of Alt$: arrays do not count, indices do not cancel
        self.in_alt = False

    def error(self, pos: int, message: str) -> DataError:
        return DataError(_show(self.text, pos, f"in expression {self.text!r}: {message}"))

    @staticmethod
    def pos_of(tree: Any) -> int:
        if hasattr(tree, "start_pos"):
            return int(tree.start_pos or 0)
        meta = getattr(tree, "meta", None)
        return int(getattr(meta, "start_pos", 0) or 0) if meta is not None else 0

    def compile(self, tree: Any) -> _Node:
        kind = tree.data
        pos = self.pos_of(tree)
        method = getattr(self, f"c_{kind}", None)
        if method is not None:
            node: _Node = method(tree, pos)
            return node
        if kind in _PAIRWISE:
            return self.chain(kind, tree, pos)
        if kind in _COMPARISONS:
            return self.comparison(tree, pos)
        if kind in _BINARY:
            return self.binary(kind, tree, pos)
        raise self.error(pos, f"unsupported construct {kind!r}")  # pragma: no cover

    # -- leaves ------------------------------------------------------------------------------------

    def c_number(self, tree: Any, pos: int) -> _Node:
        tok = str(tree.children[0])
        if tok[:2].lower() == "0x":
            if len(tok[2:].lstrip("0")) > 16:
                raise self.error(
                    pos,
                    f"the hexadecimal number {_short(tok)} does not fit into 64 bits "
                    "(at most 0xFFFFFFFFFFFFFFFF)",
                )
            value = float(int(tok, 16))
        else:
            value = float(tok)
            if not math.isfinite(value):
                raise self.error(
                    pos,
                    f"the number {_short(tok)} is beyond the range of a double (at most about 1.8e308)",
                )
        return _Node(lambda ctx: value, const=value, pos=pos)

    def c_string(self, tree: Any, pos: int) -> _Node:
        s = str(tree.children[0])[1:-1]
        return _Node(lambda ctx: _StrConst(s), string=s, pos=pos)

    def c_name(self, tree: Any, pos: int, register: bool = True) -> _Node:
        """A branch (or ``pi``).  ``register=False`` for the base of an index: the raw branch."""
        name = str(tree.children[0])
        if name == "pi":
            return _Node(lambda ctx: math.pi, const=math.pi, pos=pos)
        if name in _UNSUPPORTED:
            raise self.error(pos, f"{name!r} is not supported ({_UNSUPPORTED[name]})")
        if name in _SPECIAL or name.endswith("$"):
            raise self.error(pos, f"special function {name!r} needs arguments in parentheses")
        if "::" in name:
            if name in _FUNCTIONS:
                raise self.error(pos, f"{name!r} is a function; call it as {name}()")
            raise self.error(pos, f"unknown name {name!r}{did_you_mean(name, _FUNCTIONS)}")
        self.branches.add(name)
        if not register:
            return _Node(lambda ctx: ctx.leaf(name), leaf=name, pos=pos)
        scope = self.scope
        if not self.in_alt:
            scope.sources.append(lambda ctx: ctx.leaf(name))

        def ev(ctx: _Ctx) -> _Value:
            return ctx.in_scope(ctx.leaf(name), scope)

        return _Node(ev, leaf=name, pos=pos)

    # -- operators ---------------------------------------------------------------------------------

    def operands(self, tree: Any, kind: str) -> list[_Node]:
        nodes = [self.compile(c) for c in tree.children]
        for nd in nodes:
            if nd.string is not None and kind not in ("eq", "ne"):
                raise self.error(
                    nd.pos,
                    f"a string constant can only be compared (== or !=) with a string branch, "
                    f"not used with {_OP_SYMBOL.get(kind, kind)!r}",
                )
        return nodes

    @staticmethod
    def fold(nodes: Sequence[_Node], fn: Callable[..., Any], pos: int) -> _Node | None:
        if all(nd.const is not None for nd in nodes):
            with np.errstate(all="ignore"):
                value = float(_f64(fn(*[np.float64(nd.const) for nd in nodes])))
            return _Node(lambda ctx: value, const=value, pos=pos)
        return None

    def c_paren(self, tree: Any, pos: int) -> _Node:
        return self.compile(tree.children[0])

    def comparison(self, tree: Any, pos: int) -> _Node:
        """A run of comparisons without parentheses, grouped as ROOT's ``TFormula_v5::Analyze`` does.

        ROOT scans the text once and splits at the first ``<``, else the first ``>``, else the
        first ``<=``, ``>=``, ``==``, ``!=``; but a ``<=`` (``>=``) forgets a ``<`` (``>``) seen
        before it.  So ``a>b>=c`` is ``(a>b)>=c`` while ``a>=b>c`` is ``(a>=b)>c`` and ``a<b<c``
        is ``a<(b<c)``.  Where ROOT's split lands inside a two-character operator (``a<=b<=c``)
        or reads ``<b>`` as a template argument (``a<b>c``), ROOT refuses the expression; pymva
        groups it at that operator (documented in docs/expressions.md).
        """
        operands: list[Any] = []
        kinds: list[str] = []

        def flatten(t: Any) -> None:
            if getattr(t, "data", None) in _COMPARISONS:
                flatten(t.children[0])
                kinds.append(str(t.data))
                flatten(t.children[1])
            else:
                operands.append(t)

        flatten(tree)
        nodes = [self.compile(t) for t in operands]
        for nd, kind in zip(nodes[1:], kinds, strict=True):
            left_kind = kind
            if nd.string is not None and left_kind not in ("eq", "ne"):
                raise self.error(
                    nd.pos,
                    f"a string constant can only be compared (== or !=) with a string branch, "
                    f"not used with {_OP_SYMBOL.get(kind, kind)!r}",
                )

        def build(lo: int, hi: int) -> _Node:
            # operands lo..hi, operators lo..hi-1
            if lo == hi:
                return nodes[lo]
            k = lo + _root_comparison_split(kinds[lo:hi])
            return self.binary_nodes(kinds[k], build(lo, k), build(k + 1, hi), nodes[lo].pos)

        return build(0, len(nodes) - 1)

    def binary(self, kind: str, tree: Any, pos: int) -> _Node:
        a, b = self.operands(tree, kind)
        return self.binary_nodes(kind, a, b, pos)

    def binary_nodes(self, kind: str, a: _Node, b: _Node, pos: int) -> _Node:
        for nd in (a, b):
            if nd.string is not None and kind not in ("eq", "ne"):
                raise self.error(
                    nd.pos,
                    f"a string constant can only be compared (== or !=) with a string branch, "
                    f"not used with {_OP_SYMBOL.get(kind, kind)!r}",
                )
        fn = _BINARY[kind]
        if kind in ("eq", "ne") and (a.string is not None or b.string is not None):
            return self.string_compare(kind, a, b, pos)
        folded = self.fold([a, b], fn, pos)
        if folded is not None:
            return folded
        fa, fb = a.fn, b.fn
        if kind in ("eq", "ne"):

            def ev_cmp(ctx: _Ctx) -> _Value:
                va, vb = fa(ctx), fb(ctx)
                if isinstance(va, _Str) or isinstance(vb, _Str):
                    return _string_eq(kind, va, vb, ctx)
                return _nary(fn, [_num(va, ctx), _num(vb, ctx)])

            return _Node(ev_cmp, pos=pos)

        def ev(ctx: _Ctx) -> _Value:
            return _nary(fn, [_num(fa(ctx), ctx), _num(fb(ctx), ctx)])

        return _Node(ev, pos=pos)

    def string_compare(self, kind: str, a: _Node, b: _Node, pos: int) -> _Node:
        if a.string is not None and b.string is not None:
            value = float((a.string == b.string) == (kind == "eq"))
            return _Node(lambda ctx: value, const=value, pos=pos)
        other = b if a.string is not None else a
        if other.leaf is None:
            raise self.error(other.pos, "only a string branch can be compared with a string constant")
        fa, fb = a.fn, b.fn

        def ev(ctx: _Ctx) -> _Value:
            return _string_eq(kind, fa(ctx), fb(ctx), ctx)

        return _Node(ev, pos=pos)

    def c_neg(self, tree: Any, pos: int) -> _Node:
        (a,) = self.operands(tree, "neg")
        folded = self.fold([a], np.negative, pos)
        if folded is not None:
            return folded
        fa = a.fn
        return _Node(lambda ctx: _nary(np.negative, [_num(fa(ctx), ctx)]), pos=pos)

    def c_not_(self, tree: Any, pos: int) -> _Node:
        (a,) = self.operands(tree, "not_")

        def not_fn(x: Any) -> F64:
            return _bool(np.equal(x, 0))

        folded = self.fold([a], not_fn, pos)
        if folded is not None:
            return folded
        fa = a.fn
        return _Node(lambda ctx: _nary(not_fn, [_num(fa(ctx), ctx)]), pos=pos)

    def chain(self, kind: str, tree: Any, pos: int) -> _Node:
        """A run of one associative-in-ROOT operator (``a+b+c``, ``a&&b&&c``), compiled as a loop.

        Long runs (cuts built by joining many conditions) would otherwise nest as deeply as they
        are long.  The grouping is ROOT's: ``+ - / ^`` to the left, the others to the right.
        """
        left = kind in _LEFT_ASSOC
        trees: list[Any] = []
        node = tree
        while getattr(node, "data", None) == kind:
            if left:
                trees.append(node.children[1])
                node = node.children[0]
            else:
                trees.append(node.children[0])
                node = node.children[1]
        trees.append(node)
        if left:
            trees.reverse()
        nodes = [self.compile(t) for t in trees]
        for nd in nodes:
            if nd.string is not None:
                raise self.error(
                    nd.pos,
                    f"a string constant can only be compared (== or !=) with a string branch, "
                    f"not used with {_OP_SYMBOL.get(kind, kind)!r}",
                )
        op = _PAIRWISE[kind]
        if (
            kind in ("and_", "or_")
            and nodes[0].const is not None
            and (nodes[0].const == 0) == (kind == "and_")
        ):
            # the left side decides: 0 && b is 0 and 1 || b is 1 whatever b is
            value = 0.0 if kind == "and_" else 1.0
            return _Node(lambda ctx: value, const=value, pos=pos)
        if all(nd.const is not None for nd in nodes):
            consts = [float(nd.const) for nd in nodes if nd.const is not None]
            with np.errstate(all="ignore"):
                acc = _fold_values(op, consts, left)
            value = float(acc) if isinstance(acc, float) else 0.0
            return _Node(lambda ctx: value, const=value, pos=pos)
        fns = [nd.fn for nd in nodes]

        def ev(ctx: _Ctx) -> _Value:
            return _fold_values(op, [_num(f(ctx), ctx) for f in fns], left)

        return _Node(ev, pos=pos)

    def c_and_(self, tree: Any, pos: int) -> _Node:
        return self.chain("and_", tree, pos)

    def c_or_(self, tree: Any, pos: int) -> _Node:
        return self.chain("or_", tree, pos)

    def c_cond(self, tree: Any, pos: int) -> _Node:
        c, a, b = self.operands(tree, "cond")
        if c.const is not None:
            return a if c.const != 0 else b
        fc, fa, fb = c.fn, a.fn, b.fn

        def ev(ctx: _Ctx) -> _Value:
            bc = _bcast([_num(fc(ctx), ctx), _num(fa(ctx), ctx), _num(fb(ctx), ctx)])
            cd, ad, bd = bc.datas
            vc, va, vb = bc.valids
            take_a = np.not_equal(cd, 0)
            data = np.where(take_a, ad, bd)
            valid: Mask | None = None
            if va is not None or vb is not None:
                valid = np.where(take_a, True if va is None else va, True if vb is None else vb).astype(bool)
            if vc is not None:
                valid = vc if valid is None else (vc & valid)
            if valid is not None:
                valid = np.broadcast_to(valid, np.shape(data)).copy()
            return bc.wrap(data, valid)

        return _Node(ev, pos=pos)

    # -- indexing ----------------------------------------------------------------------------------

    def c_index(self, tree: Any, pos: int) -> _Node:
        # collect the chain base[i0][i1]...
        chain: list[Any] = []
        base = tree
        while getattr(base, "data", None) == "index":
            chain.append(base.children[1])
            base = base.children[0]
        chain.reverse()
        indexed_leaf = getattr(base, "data", None) == "name" and any(c is not None for c in chain)
        b = self.c_name(base, self.pos_of(base), register=False) if indexed_leaf else self.compile(base)
        if b.string is not None:
            raise self.error(b.pos, "a string constant cannot be indexed")
        idx_nodes: list[_Node | None] = []
        for c in chain:
            if c is None:
                idx_nodes.append(None)
                continue
            nd = self.compile(c)
            if nd.string is not None:
                raise self.error(nd.pos, "an index must be a number")
            if nd.const is not None and not (np.isfinite(nd.const) and 0 <= nd.const < 2**62):
                raise self.error(nd.pos, f"invalid index {nd.const:g}")
            idx_nodes.append(nd)
        text = self.text
        leaf = b.leaf if indexed_leaf else None
        fb = b.fn
        scope, in_alt = self.scope, self.in_alt
        key = object()  # identifies this node's value in the evaluation context

        def resolve(ctx: _Ctx) -> list[float | _Scalar | None]:
            out: list[float | _Scalar | None] = []
            for nd in idx_nodes:
                if nd is None:
                    out.append(None)
                elif nd.const is not None:
                    out.append(float(np.trunc(nd.const)))
                else:
                    v = _num(nd.fn(ctx), ctx)
                    if isinstance(v, _Jagged):
                        raise DataError(f"an index must give one value per entry, in expression {text!r}")
                    out.append(v)
            return out

        def raw(ctx: _Ctx) -> _Value:
            cached = ctx.nodes.get(id(key))
            if cached is not None:
                return cached
            idxs = resolve(ctx)
            if leaf is not None and _ndim(ctx.raw(leaf)) > 2:
                v = _index_nd(ctx.raw(leaf), idxs, text)
                constant = all(isinstance(i, float) for i in idxs)
                if isinstance(v, _Scalar) and v.valid is not None and constant and not in_alt:
                    ctx.cancel(scope, ~v.valid)  # m[1][2] past the end, as for one dimension
            else:
                v = _num(fb(ctx), ctx)
                # ROOT: a constant index past the end of an array leaves the formula without instance
                k0 = idxs[0] if idxs else None
                cancels = leaf is not None and not in_alt and isinstance(v, _Jagged) and v.fixed is None
                if cancels and isinstance(v, _Jagged) and isinstance(k0, float):
                    ctx.cancel(scope, v.counts <= k0)
                for i in idxs:
                    v = _index(v, i, text)
            ctx.nodes[id(key)] = v
            return v

        if leaf is not None and not in_alt:
            scope.sources.append(raw)  # m[][2] of a two-dimensional branch is an array

        def ev(ctx: _Ctx) -> _Value:
            return ctx.in_scope(raw(ctx), scope)

        return _Node(ev, pos=pos)

    # -- function calls ----------------------------------------------------------------------------

    def c_call(self, tree: Any, pos: int) -> _Node:
        name_tok = tree.children[0]
        name = str(name_tok)
        arg_trees = [c for c in tree.children[1:] if c is not None]
        nargs = len(arg_trees)
        if name in _UNSUPPORTED:
            raise self.error(pos, f"{name!r} is not supported ({_UNSUPPORTED[name]})")
        if name in _SPECIAL:
            lo, hi = _SPECIAL[name]
        elif name in _FUNCTIONS:
            lo, hi = _FUNCTIONS[name].min_args, _FUNCTIONS[name].max_args
        else:
            raise self.error(pos, f"unknown function {name!r}{did_you_mean(name, [*_FUNCTIONS, *_SPECIAL])}")
        if not lo <= nargs <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.error(pos, f"{name} takes {want} argument{'s' if hi != 1 else ''}, got {nargs}")
        inner: _Scope | None = None
        if name == "Alt$":
            saved = self.in_alt
            self.in_alt = True
            try:
                args = [self.compile(arg_trees[0])]
            finally:
                self.in_alt = saved
            args.append(self.compile(arg_trees[1]))
        elif name in _SPECIAL:
            # the argument of Sum$, Length$, ... is a formula of its own, with its own instances
            outer, saved = self.scope, self.in_alt
            inner = self.scope = _Scope()
            self.in_alt = False
            try:
                args = [self.compile(c) for c in arg_trees]
            finally:
                self.scope, self.in_alt = outer, saved
        else:
            args = [self.compile(c) for c in arg_trees]
        for nd in args:
            if nd.string is not None:
                raise self.error(nd.pos, f"{name} takes numbers, not a string")
        if name in _SPECIAL:
            return self.special(name, args, pos, inner)
        impl = _FUNCTIONS[name].impl
        if nargs == 0:
            value = float(impl())
            return _Node(lambda ctx: value, const=value, pos=pos)
        folded = self.fold(args, impl, pos)
        if folded is not None:
            return folded
        fns = [a.fn for a in args]

        def ev(ctx: _Ctx) -> _Value:
            return _nary(impl, [_num(f(ctx), ctx) for f in fns])

        return _Node(ev, pos=pos)

    def special(self, name: str, args: list[_Node], pos: int, inner: _Scope | None) -> _Node:
        fns = [a.fn for a in args]
        if name == "Alt$":
            fp, fd = fns

            def ev_alt(ctx: _Ctx) -> _Value:
                # ROOT: the primary value where it exists, the alternate one elsewhere
                bc = _bcast([_num(fp(ctx), ctx), _num(fd(ctx), ctx)])
                pd, dd = bc.datas
                vp, vd = bc.valids
                shape = np.broadcast(np.asarray(pd), np.asarray(dd)).shape
                if vp is None:
                    return bc.wrap(np.broadcast_to(pd, shape), None)
                data = np.where(vp, pd, dd)
                return bc.wrap(data, None if vd is None else (vp | vd))

            return _Node(ev_alt, pos=pos)
        fx = fns[0]
        fcond = fns[1] if len(fns) > 1 else None

        def ev_red(ctx: _Ctx) -> _Value:
            x = _num(fx(ctx), ctx)
            c = _num(fcond(ctx), ctx) if fcond is not None else None
            return _reduce(name, x, c, ctx.n, None if inner is None else ctx.cancels.get(inner))

        return _Node(ev_red, pos=pos)


def _string_eq(kind: str, a: _Value, b: _Value, ctx: _Ctx) -> _Value:
    def arr(v: _Value) -> Any:
        if isinstance(v, _Str):
            return v.array
        if isinstance(v, _StrConst):
            return v.value
        raise DataError(
            f"cannot compare a number with a string in expression {ctx.text!r}; "
            "== and != with a string need a string branch on one side and a string (or string "
            "branch) on the other"
        )

    res = arr(a) == arr(b)
    if kind == "ne":
        res = ~res
    data, valid = _to_numpy_f64(ak.values_astype(res, np.float64))
    return _Scalar(data, valid)


# ---------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------


def _short(text: str, limit: int = 40) -> str:
    return (
        text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]} ({len(text)} characters)"
    )


#: Longest expression accepted, in characters.
MAX_EXPRESSION_LENGTH = 100_000
#: Most tokens (numbers, names, operators, parentheses) in an expression; parsing takes about
#: 50 µs per token, so this bounds the time of one parse to about a second.
MAX_EXPRESSION_TOKENS = 20_000
_TOKEN = re.compile(r'"[^"]*"|[A-Za-z0-9_.$]+|::|\S')


def _check_size(text: str) -> None:
    """Refuse expressions beyond :data:`MAX_EXPRESSION_LENGTH` or :data:`MAX_EXPRESSION_TOKENS`."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise DataError(
            f"expression {text[:60]!r}… is {len(text)} characters long; at most {MAX_EXPRESSION_LENGTH} are "
            "accepted (pymva.data.expression.MAX_EXPRESSION_LENGTH)"
        )
    if len(text) > MAX_EXPRESSION_TOKENS:  # fewer characters cannot make more tokens
        n = sum(1 for _ in _TOKEN.finditer(text))
        if n > MAX_EXPRESSION_TOKENS:
            raise DataError(
                f"expression {text[:60]!r}… has {n} terms and operators; at most {MAX_EXPRESSION_TOKENS} "
                "are accepted (pymva.data.expression.MAX_EXPRESSION_TOKENS); split a very long cut into "
                "several cuts or a precomputed branch"
            )


class Formula:
    """A ROOT ``TTreeFormula`` expression, parsed once and evaluated on chunks of entries.

    Parameters
    ----------
    text : str
        The expression in ROOT's syntax (``"Muon_Px[0]*(NMuon>1)"``, ``"TMath::Abs(x)<2 && y!=0"``).
        See ``docs/expressions.md`` for what is supported.

    Attributes
    ----------
    text : str
        The original text.
    branches : frozenset of str
        The branch names the expression reads (what must be read from the tree).

    Raises
    ------
    DataError
        If the text does not parse, names an unknown function, calls one with the wrong number
        of arguments, holds a hexadecimal number beyond 64 bits or a number beyond the range of a
        double, is nested too deeply, or is longer than :data:`MAX_EXPRESSION_LENGTH` characters or
        :data:`MAX_EXPRESSION_TOKENS` tokens; the message shows the expression with a caret under the
        offending position.

    Examples
    --------
    >>> import numpy as np
    >>> f = Formula("x > 1 && y < 2")
    >>> sorted(f.branches)
    ['x', 'y']
    >>> f.evaluate({"x": np.array([0.0, 2.0]), "y": np.array([1.0, 1.0])}).tolist()
    [0.0, 1.0]
    """

    __slots__ = ("_root", "_scope", "branches", "text")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise DataError(f"an expression must be a string, got {type(text).__name__}")
        text = str(text)  # a TCut or other str subclass becomes a plain string
        self.text = text
        if not text.strip():
            raise DataError("empty expression")
        _check_size(text)
        compiler = _Compiler(text)
        try:
            self._root: _Node = compiler.compile(_parse(text))
        except (RecursionError, MemoryError):
            raise DataError(f"expression {text[:80]!r}... is nested too deeply") from None
        if self._root.string is not None:
            raise DataError(_show(text, self._root.pos, f"expression {text!r} is a string, not a number"))
        self.branches: frozenset[str] = frozenset(compiler.branches)
        self._scope = compiler.top

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Formula) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("Formula", self.text))

    def __reduce__(self) -> tuple[type[Formula], tuple[str]]:
        return (Formula, (self.text,))

    @property
    def is_constant(self) -> bool:
        """Whether the expression reads no branch."""
        return self._root.const is not None

    def _value(self, ctx: _Ctx) -> _Num:
        ctx.text = self.text
        try:
            return _num(self._root.fn(ctx), ctx)
        except RecursionError:  # pragma: no cover - compilation fails first
            raise DataError(f"expression {self.text[:80]!r}... is nested too deeply") from None

    def _instances(self, ctx: _Ctx) -> tuple[_Num, I64 | None, Mask | None]:
        """The value, ROOT's number of instances per entry (``GetNdata``) and the cancelled entries.

        The number of instances is ``None`` when it is 1 in every entry; otherwise it is the length
        of the (jagged) value, 0 where the expression is cancelled (see :class:`_Scope`).  The value
        is also defined in cancelled entries: it is what ROOT's ``EvalInstance`` returns there
        (missing where the element past the end is read, e.g. 0 for ``n>1 && a[1]>0`` with n=1).
        """
        v = self._value(ctx)
        cancel = ctx.cancels.get(self._scope)
        if cancel is not None and not cancel.any():
            cancel = None
        ndata: I64 | None = v.counts if isinstance(v, _Jagged) else None
        if cancel is not None:
            ndata = np.ones(ctx.n, dtype=np.int64) if ndata is None else ndata.copy()
            ndata[cancel] = 0
        return v, ndata, cancel

    def evaluate(self, arrays: Mapping[str, Any]) -> Any:
        """Evaluate the expression for every entry.

        Parameters
        ----------
        arrays : mapping of str to array, or awkward record array
            Branch name -> one value or one array per entry, as returned by uproot's
            ``tree.arrays(..., library="ak")`` or ``library="np"`` (a dict of numpy arrays or a
            pandas DataFrame work too).  Only the branches in :attr:`branches` are read.

        Returns
        -------
        awkward.Array
            One element per entry, the instances of ROOT's ``TTreeFormula`` (``GetNdata()`` values
            ``EvalInstance(i)``): a float64 number, or a list of float64 numbers for a
            multi-valued expression (``Muon_Px*2``); ``None`` (an empty list) where ROOT has no
            instance (``Muon_Px[2]`` with two muons, also inside ``&&`` and ``?:``), NaN where
            ROOT's value is NaN (an index computed per entry that is out of range, an array read
            past its length: see ``docs/expressions.md``).

        Raises
        ------
        DataError
            For a missing branch (with the closest branch names), a string branch used as a number,
            branches of different lengths, or an index beyond a fixed-size array.
        """
        n = _n_entries(arrays, [self])
        ctx = _Ctx(arrays, n)
        with np.errstate(all="ignore"):
            value, _, cancel = self._instances(ctx)
        return _to_awkward(value, n, cancel)

    def evaluate_numpy(self, arrays: Mapping[str, Any], n_entries: int | None = None) -> F64:
        """Evaluate an expression of one number per entry straight into a numpy array.

        A faster path than :meth:`evaluate` for expressions on plain columns (no jagged branch),
        used where one expression is evaluated many times (FDA's fits).

        Parameters
        ----------
        arrays : mapping of str to array
            Branch name -> one number per entry (numpy arrays; read-only or broadcast views work).
        n_entries : int, optional
            Number of entries; needed only when the expression reads no branch.

        Returns
        -------
        ndarray of float64, shape (n_entries,)
            NaN where ROOT's value is missing.

        Raises
        ------
        DataError
            As :meth:`evaluate`; also if the expression gives other than one value per entry, or
            reads no branch and ``n_entries`` is not given.
        """
        if self.branches or n_entries is None:
            n = _n_entries(arrays, [self])
        else:
            n = int(n_entries)
        ctx = _Ctx(arrays, n)
        with np.errstate(all="ignore"):
            value, _, cancel = self._instances(ctx)
        if isinstance(value, float):
            return np.full(n, value, dtype=np.float64)
        if not isinstance(value, _Scalar) or cancel is not None:
            raise DataError(f"expression {self.text!r} does not give one value per entry")
        data = value.data if value.valid is None else np.where(value.valid, value.data, np.nan)
        return np.asarray(data, dtype=np.float64)


def _to_awkward(value: _Num, n: int, cancel: Mask | None) -> Any:
    """ROOT's instances as an awkward array: missing values as NaN, cancelled entries as None / []."""
    if isinstance(value, float):
        value = _Scalar(np.full(n, value, dtype=np.float64), None)
    data = value.data if value.valid is None else np.where(value.valid, value.data, np.nan)
    if isinstance(value, _Scalar):
        content: Any = ak.contents.NumpyArray(np.asarray(data, dtype=np.float64))
        if cancel is not None:
            content = ak.contents.ByteMaskedArray(
                ak.index.Index8((~cancel).astype(np.int8)), content, valid_when=True
            )
        return ak.Array(content)
    offsets = value.offsets
    if cancel is not None:
        data = data[~cancel[value.ent]]
        offsets = _offsets_from_counts(np.where(cancel, 0, value.counts))
    content = ak.contents.ListOffsetArray(
        ak.index.Index64(offsets), ak.contents.NumpyArray(np.asarray(data, dtype=np.float64))
    )
    return ak.Array(content)


@functools.lru_cache(maxsize=2048)
def parse_formula(text: str) -> Formula:
    """Return ``Formula(text)``, cached (formulas are immutable)."""
    return Formula(text)
