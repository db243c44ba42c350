"""ROOT ``TTreeFormula`` expressions, evaluated vectorised over awkward/numpy arrays.

TMVA reads every variable, target, spectator, weight and cut through ROOT's ``TTreeFormula``.  This
module parses the same syntax (with :mod:`lark`), compiles the parse tree once into a chain of numpy
closures, and evaluates it on whole chunks of entries as read by ``uproot`` (``library="ak"`` or
``"np"``), reading only the branches that the expression names.  ROOT strings are never handed to
uproot's own expression language, which gives some operators another meaning (``&`` binds tighter
than ``==`` there).

Public API
----------
:class:`Formula`
    ``Formula(text)`` parses (raising :class:`~pymva.errors.DataError` with a caret under the
    offending position), ``.branches`` lists what must be read, ``.evaluate(arrays)`` returns one
    value per entry: a number, ``None`` (an indexed element that does not exist) or a list of numbers
    (a multi-valued expression such as an unindexed jagged branch).
:func:`parse_formula`
    Cached ``Formula`` constructor.
:func:`build_events`
    TMVA's event building (``../shared/tmva/core.md`` §3.3) for one chunk of entries: flattening of
    multi-valued inputs into one event per element, broadcasting/indexing of targets, spectators,
    weight and cut, the cut (value < 0.5 rejects), NaN/±inf bookkeeping.  Returns an
    :class:`EventBlock`.
:func:`array_length_check`
    Counts entries shorter/longer than the size declared with ``AddVariablesArray``.

Semantics follow ROOT's source (``TFormula_v5::Analyze`` for the grammar, ``TTreeFormula::EvalInstance``
for the arithmetic): all arithmetic in double precision, ``/`` by zero gives 0, ``sqrt(x)`` is
``sqrt(|x|)``, ``log(x<=0)`` is 0 and so on for ROOT's built-in function names, while the ``TMath::``
and C library spellings behave as those C++ functions do.  ``docs/expressions.md`` is the user-level
description, including every difference from ROOT.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np
import numpy.typing as npt

from .errors import DataError, did_you_mean

__all__ = [
    "EventBlock",
    "Formula",
    "array_length_check",
    "build_events",
    "parse_formula",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

#: Largest finite float32; a value beyond it becomes ±inf when TMVA stores it in a ``Float_t``.
_FLT_MAX = float(np.finfo(np.float32).max)

# ---------------------------------------------------------------------------------------------------
# Grammar
# ---------------------------------------------------------------------------------------------------
#
# Precedence and associativity reproduce ROOT's TFormula_v5::Analyze, which splits a string at the
# operator of lowest priority found outside parentheses.  Lowest to highest:
#   ?:   ||   &&   |   &   <   >   <= (=<)   >= (=>)   ==   !=   +   - (binary)   %   >>   <<
#   *   /   unary - and +   ^ (**)   !   postfix [index]
# ROOT splits at the leftmost occurrence of ||, &&, |, &, the comparisons, %, >>, <<, * (so these
# group to the right) and at the rightmost +, -, /, ^ (these group to the left, so 2^3^2 == 64).
_GRAMMAR = r"""
?start: e_cond

?e_cond: e_or "?" e_cond ":" e_cond -> cond
       | e_or
?e_or: e_and "||" e_or -> or_
     | e_and
?e_and: e_bor "&&" e_and -> and_
      | e_bor
?e_bor: e_band "|" e_bor -> bitor
      | e_band
?e_band: e_lt "&" e_band -> bitand
       | e_lt
?e_lt: e_gt "<" e_lt -> lt
     | e_gt
?e_gt: e_le ">" e_gt -> gt
     | e_le
?e_le: e_ge ("<=" | "=<") e_le -> le
     | e_ge
?e_ge: e_eq (">=" | "=>") e_ge -> ge
     | e_eq
?e_eq: e_ne "==" e_eq -> eq
     | e_ne
?e_ne: e_add "!=" e_ne -> ne
     | e_add
?e_add: e_add "+" e_sub -> add
      | e_sub
?e_sub: e_sub "-" e_mod -> sub
      | e_mod
?e_mod: e_shr "%" e_mod -> mod
      | e_shr
?e_shr: e_shl ">>" e_shr -> shr
      | e_shl
?e_shl: e_mul "<<" e_shl -> shl
      | e_mul
?e_mul: e_div "*" e_mul -> mul
      | e_div
?e_div: e_div "/" e_unary -> div
      | e_unary
?e_unary: "-" e_unary -> neg
        | "+" e_unary
        | e_pow
?e_pow: e_pow ("^" | "**") e_powarg -> pow
      | e_not
?e_powarg: "-" e_powarg -> neg
         | "+" e_powarg
         | e_not
?e_not: "!" e_powarg -> not_
      | e_postfix
?e_postfix: e_postfix "[" [e_cond] "]" -> index
          | e_atom
?e_atom: NUMBER -> number
       | STRING -> string
       | NAME -> name
       | NAME "(" [_args] ")" -> call
       | "(" e_cond ")"
_args: e_cond ("," e_cond)*

NUMBER: /0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
STRING: /"[^"]*"/
NAME: /[A-Za-z_][A-Za-z0-9_]*((\.|::)[A-Za-z_][A-Za-z0-9_]*)*\$?/
%ignore /[ \t\r\n\f\v]+/
"""

_TERMINAL_WORDS = {"NUMBER": "a number", "NAME": "a name", "STRING": "a string"}


@functools.cache
def _parser() -> Any:
    import lark

    return lark.Lark(_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _show(text: str, pos: int, message: str) -> str:
    """``message`` followed by the expression and a caret under character ``pos``."""
    shown = "".join(" " if c.isspace() else c for c in text)
    pos = max(0, min(pos, len(shown)))
    return f"{message}\n    {shown}\n    {' ' * pos}^"


def _parse(text: str) -> Any:
    import lark

    parser = _parser()
    try:
        return parser.parse(text)
    except lark.exceptions.UnexpectedCharacters as e:
        msg = f"cannot parse expression {text!r}: unexpected character {e.char!r}"
        raise DataError(_show(text, int(e.pos_in_stream or 0), msg)) from None
    except lark.exceptions.UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            pos, what = len(text), "unexpected end of expression"
        else:
            pos, what = (tok.start_pos or 0), f"unexpected {tok.value!r}"
        expected = []
        for name in sorted(getattr(e, "expected", ()) or ()):
            if name in _TERMINAL_WORDS:
                expected.append(_TERMINAL_WORDS[name])
            elif not name.startswith("$"):
                with contextlib.suppress(KeyError, AttributeError):
                    expected.append(repr(parser.get_terminal(name).pattern.value))
        hint = f" (expected {', '.join(sorted(expected))})" if 0 < len(expected) <= 8 else ""
        raise DataError(_show(text, pos, f"cannot parse expression {text!r}: {what}{hint}")) from None
    except lark.exceptions.UnexpectedEOF:
        msg = f"cannot parse expression {text!r}: unexpected end of expression"
        raise DataError(_show(text, len(text), msg)) from None
    except lark.exceptions.LarkError as e:  # pragma: no cover - any other parser complaint
        raise DataError(f"cannot parse expression {text!r}: {e}") from None


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


def _align(jags: Sequence[_Jagged]) -> tuple[I64, list[tuple[F64, Mask | None]]]:
    """Bring jagged values to common lists; ROOT uses the shortest length of each entry."""
    base = jags[0]
    if all(j.offsets is base.offsets or np.array_equal(j.offsets, base.offsets) for j in jags[1:]):
        return base.offsets, [(j.data, j.valid) for j in jags]
    counts = base.counts
    for j in jags[1:]:
        counts = np.minimum(counts, j.counts)
    offsets = _offsets_from_counts(counts)
    ent = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    local = np.arange(int(offsets[-1]), dtype=np.int64) - offsets[:-1][ent]
    parts: list[tuple[F64, Mask | None]] = []
    for j in jags:
        idx = j.offsets[:-1][ent] + local
        parts.append((j.data[idx], None if j.valid is None else j.valid[idx]))
    return offsets, parts


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


# ---------------------------------------------------------------------------------------------------
# Numerical kernels (arguments: float64 arrays or Python floats, all errors silenced by the caller)
# ---------------------------------------------------------------------------------------------------


def _bool(x: Any) -> F64:
    return np.asarray(x, dtype=np.float64)


def _div(a: Any, b: Any) -> F64:
    # TTreeFormula: "if (tab[pos] == 0) tab[pos-1] = 0; // division by 0"
    return _f64(np.where(np.equal(b, 0.0), 0.0, np.divide(a, b)))


def _mod(a: Any, b: Any) -> F64:
    # TTreeFormula: Long64_t(a) % Long64_t(b) (C truncation); ROOT crashes on b == 0, we give NaN.
    return _f64(np.fmod(np.trunc(a), np.trunc(b)))


def _to_u64(a: Any) -> npt.NDArray[np.uint64]:
    # (ULong64_t) of a double, with negative values wrapping as on x86-64
    x = np.atleast_1d(_f64(a))
    x = np.where(np.isfinite(x), np.trunc(x), 0.0)
    neg = x < 0
    out = np.where(neg | (x >= 2.0**64), 0.0, x).astype(np.uint64)
    if neg.any():
        out[neg] = np.maximum(x[neg], -(2.0**63)).astype(np.int64).view(np.uint64)
    result: npt.NDArray[np.uint64] = out.reshape(np.shape(a))
    return result


def _bitand(a: Any, b: Any) -> F64:
    return _f64(np.bitwise_and(_to_u64(a), _to_u64(b)))


def _bitor(a: Any, b: Any) -> F64:
    return _f64(np.bitwise_or(_to_u64(a), _to_u64(b)))


def _shl(a: Any, b: Any) -> F64:
    return _f64(np.left_shift(_to_u64(a), _to_u64(b)))


def _shr(a: Any, b: Any) -> F64:
    return _f64(np.right_shift(_to_u64(a), _to_u64(b)))


# ROOT's own function names (TFormula_v5 / TTreeFormula::EvalInstance), with ROOT's guards


def _r_tan(x: Any) -> F64:
    return _f64(np.where(np.cos(x) == 0, 0.0, np.tan(x)))


def _r_acos(x: Any) -> F64:
    return _f64(np.where(np.abs(x) > 1, 0.0, np.arccos(x)))


def _r_asin(x: Any) -> F64:
    return _f64(np.where(np.abs(x) > 1, 0.0, np.arcsin(x)))


def _r_acosh(x: Any) -> F64:
    return _f64(np.where(np.less(x, 1), 0.0, np.arccosh(x)))


def _r_atanh(x: Any) -> F64:
    return _f64(np.where(np.abs(x) > 1, 0.0, np.arctanh(x)))


def _r_sqrt(x: Any) -> F64:
    return _f64(np.sqrt(np.abs(x)))


def _r_log(x: Any) -> F64:
    return _f64(np.where(np.greater(x, 0), np.log(x), 0.0))


def _r_log10(x: Any) -> F64:
    return _f64(np.where(np.greater(x, 0), np.log10(x), 0.0))


def _r_exp(x: Any) -> F64:
    return _f64(np.where(np.less(x, -700), 0.0, np.where(np.greater(x, 700), math.exp(700), np.exp(x))))


def _r_sign(x: Any) -> F64:
    return _f64(np.where(np.less(x, 0), -1.0, 1.0))


def _std_min(a: Any, b: Any) -> F64:
    return _f64(np.where(np.less(b, a), b, a))


def _std_max(a: Any, b: Any) -> F64:
    return _f64(np.where(np.less(a, b), b, a))


# TMath:: spellings (TMath.h / TMathBase.h)


def _tm_asin(x: Any) -> F64:
    return _f64(np.where(np.less(x, -1), -np.pi / 2, np.where(np.greater(x, 1), np.pi / 2, np.arcsin(x))))


def _tm_acos(x: Any) -> F64:
    return _f64(np.where(np.less(x, -1), np.pi, np.where(np.greater(x, 1), 0.0, np.arccos(x))))


def _tm_atan2(y: Any, x: Any) -> F64:
    edge = np.where(np.equal(y, 0), 0.0, np.where(np.greater(y, 0), np.pi / 2, -np.pi / 2))
    return _f64(np.where(np.not_equal(x, 0), np.arctan2(y, x), edge))


def _tm_min(a: Any, b: Any) -> F64:
    return _f64(np.where(np.less_equal(a, b), a, b))


def _tm_max(a: Any, b: Any) -> F64:
    return _f64(np.where(np.greater_equal(a, b), a, b))


def _tm_gaus(x: Any, mean: Any = 0.0, sigma: Any = 1.0, norm: Any = 0.0) -> F64:
    arg = np.divide(np.subtract(x, mean), sigma)
    res = np.where(np.abs(arg) > 39.0, 0.0, np.exp(-0.5 * arg * arg))
    res = np.where(np.not_equal(norm, 0), res / (2.50662827463100024 * np.asarray(sigma)), res)
    return _f64(np.where(np.equal(sigma, 0), 1.0e30, res))


def _c_round(x: Any) -> F64:
    # C round(): halves away from zero (numpy rounds halves to even)
    t = np.trunc(x)
    return _f64(t + np.where(np.abs(np.subtract(x, t)) >= 0.5, np.sign(x), 0.0))


def _special(name: str) -> Callable[..., F64]:
    def fn(*args: Any) -> F64:
        import scipy.special

        return _f64(getattr(scipy.special, name)(*args))

    return fn


def _const(value: float) -> Callable[[], float]:
    return lambda: value


@dataclass(frozen=True)
class _Func:
    min_args: int
    max_args: int
    impl: Callable[..., Any]


def _function_table() -> dict[str, _Func]:
    one = functools.partial(_Func, 1, 1)
    two = functools.partial(_Func, 2, 2)
    zero = functools.partial(_Func, 0, 0)
    t: dict[str, _Func] = {}
    # ROOT's built-in names (TFormula_v5), evaluated with ROOT's guards
    t.update(
        cos=one(np.cos), sin=one(np.sin), tan=one(_r_tan), acos=one(_r_acos), asin=one(_r_asin),
        atan=one(np.arctan), atan2=two(_tm_atan2), cosh=one(np.cosh), sinh=one(np.sinh),
        tanh=one(np.tanh), acosh=one(_r_acosh), asinh=one(np.arcsinh), atanh=one(_r_atanh),
        sq=one(np.square), sqrt=one(_r_sqrt), log=one(_r_log), log10=one(_r_log10), exp=one(_r_exp),
        abs=one(np.abs), sign=one(_r_sign), int=one(np.trunc), pow=two(np.power), fmod=two(np.fmod),
        min=two(_std_min), max=two(_std_max),
    )  # fmt: skip
    # C library functions that ROOT finds through the interpreter (plain C/C++ semantics)
    c_funcs: dict[str, _Func] = {
        "fabs": one(np.abs), "floor": one(np.floor), "ceil": one(np.ceil), "round": one(_c_round),
        "trunc": one(np.trunc), "rint": one(np.rint), "cbrt": one(np.cbrt), "hypot": two(np.hypot),
        "log2": one(np.log2), "log1p": one(np.log1p), "expm1": one(np.expm1), "exp2": one(np.exp2),
        "erf": one(_special("erf")), "erfc": one(_special("erfc")), "tgamma": one(_special("gamma")),
        "lgamma": one(_special("gammaln")), "copysign": two(np.copysign), "fmin": two(np.fmin),
        "fmax": two(np.fmax),
    }  # fmt: skip
    t.update(c_funcs)
    std: dict[str, _Func] = dict(c_funcs)
    std.update(
        abs=one(np.abs), sqrt=one(np.sqrt), log=one(np.log), log10=one(np.log10), exp=one(np.exp),
        sin=one(np.sin), cos=one(np.cos), tan=one(np.tan), asin=one(np.arcsin), acos=one(np.arccos),
        atan=one(np.arctan), atan2=two(np.arctan2), sinh=one(np.sinh), cosh=one(np.cosh),
        tanh=one(np.tanh), asinh=one(np.arcsinh), acosh=one(np.arccosh), atanh=one(np.arctanh),
        pow=two(np.power), fmod=two(np.fmod), min=two(_std_min), max=two(_std_max),
    )  # fmt: skip
    t.update({f"std::{k}": v for k, v in std.items()})
    # TMath (ROOT's TMath.h)
    tmath: dict[str, _Func] = {
        "Abs": one(np.abs), "Sqrt": one(np.sqrt), "Sq": one(np.square), "Exp": one(np.exp),
        "Log": one(np.log), "Log10": one(np.log10), "Log2": one(lambda x: np.log(x) / np.log(2.0)),
        "Power": two(np.power), "Sin": one(np.sin), "Cos": one(np.cos), "Tan": one(np.tan),
        "ASin": one(_tm_asin), "ACos": one(_tm_acos), "ATan": one(np.arctan), "ATan2": two(_tm_atan2),
        "SinH": one(np.sinh), "CosH": one(np.cosh), "TanH": one(np.tanh), "ASinH": one(np.arcsinh),
        "ACosH": one(np.arccosh), "ATanH": one(np.arctanh), "Min": two(_tm_min), "Max": two(_tm_max),
        "Hypot": two(np.hypot), "Floor": one(np.floor), "Ceil": one(np.ceil), "Nint": one(np.rint),
        "FloorNint": one(np.floor), "CeilNint": one(np.ceil), "Sign": two(np.copysign),
        "Erf": one(_special("erf")), "Erfc": one(_special("erfc")), "Gaus": _Func(1, 4, _tm_gaus),
        "IsNaN": one(lambda x: _bool(np.isnan(x))), "Finite": one(lambda x: _bool(np.isfinite(x))),
        "Pi": zero(_const(math.pi)), "TwoPi": zero(_const(2 * math.pi)),
        "PiOver2": zero(_const(math.pi / 2)), "PiOver4": zero(_const(math.pi / 4)),
        "InvPi": zero(_const(1 / math.pi)), "E": zero(_const(math.e)), "Ln10": zero(_const(math.log(10))),
        "LogE": zero(_const(math.log10(math.e))), "Sqrt2": zero(_const(math.sqrt(2))),
        "DegToRad": zero(_const(math.pi / 180)), "RadToDeg": zero(_const(180 / math.pi)),
        "C": zero(_const(299792458.0)),
    }  # fmt: skip
    t.update({f"TMath::{k}": v for k, v in tmath.items()})
    return t


_FUNCTIONS = _function_table()

#: TTreeFormula's special functions that this module implements (name -> (min, max) arguments)
_SPECIAL = {
    "Alt$": (2, 2),
    "Length$": (1, 1),
    "Sum$": (1, 1),
    "Min$": (1, 1),
    "Max$": (1, 1),
    "MinIf$": (2, 2),
    "MaxIf$": (2, 2),
}
_UNSUPPORTED = {
    "Entry$": "the entry number is not known to a chunk of arrays",
    "LocalEntry$": "the entry number is not known to a chunk of arrays",
    "Entries$": "the number of entries is not known to a chunk of arrays",
    "LocalEntries$": "the number of entries is not known to a chunk of arrays",
    "Iteration$": "not implemented",
    "rndm": "random numbers would make the data set irreproducible",
    "strstr": "substring tests are not implemented",
}

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": _div,
    "mod": _mod,
    "pow": np.power,
    "lt": lambda a, b: _bool(np.less(a, b)),
    "gt": lambda a, b: _bool(np.greater(a, b)),
    "le": lambda a, b: _bool(np.less_equal(a, b)),
    "ge": lambda a, b: _bool(np.greater_equal(a, b)),
    "eq": lambda a, b: _bool(np.equal(a, b)),
    "ne": lambda a, b: _bool(np.not_equal(a, b)),
    "bitand": _bitand,
    "bitor": _bitor,
    "shl": _shl,
    "shr": _shr,
}
_OP_SYMBOL = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "pow": "^", "lt": "<", "gt": ">",
    "le": "<=", "ge": ">=", "eq": "==", "ne": "!=", "bitand": "&", "bitor": "|", "shl": "<<",
    "shr": ">>", "and_": "&&", "or_": "||", "neg": "-", "not_": "!", "cond": "?:", "index": "[]",
}  # fmt: skip


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


class _Ctx:
    """Evaluation context: the input arrays, the number of entries, converted branches."""

    __slots__ = ("arrays", "cache", "n", "text")

    def __init__(self, arrays: Any, n: int) -> None:
        self.arrays = arrays
        self.n = n
        self.cache: dict[str, _Scalar | _Jagged | _Str] = {}
        self.text = ""

    def raw(self, name: str) -> Any:
        return self.arrays[name]

    def leaf(self, name: str) -> _Scalar | _Jagged | _Str:
        v = self.cache.get(name)
        if v is None:
            v = _convert(name, self.raw(name), self.text)
            self.cache[name] = v
        return v


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


# ---------------------------------------------------------------------------------------------------
# Compilation of the parse tree into closures
# ---------------------------------------------------------------------------------------------------

_Eval = Callable[[_Ctx], _Value]


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


def _reduce(kind: str, x: _Num, cond: _Num | None, n: int) -> _Num:
    """Length$, Sum$, Min$, Max$, MinIf$, MaxIf$ over the values of each entry."""
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
        return 1.0 if kind == "Length$" else x
    if isinstance(x, _Scalar):
        has = np.ones(n, dtype=bool) if x.valid is None else x.valid
        if kind == "Length$":
            return _Scalar(has.astype(np.float64), None)
        return _Scalar(np.where(has, x.data, 0.0), None)
    ent, data = x.ent, x.data
    if x.valid is not None:
        ent, data = ent[x.valid], data[x.valid]
    if kind == "Length$":
        return _Scalar(np.bincount(ent, minlength=n).astype(np.float64), None)
    if kind == "Sum$":
        return _Scalar(np.bincount(ent, weights=data, minlength=n).astype(np.float64), None)
    counts = np.bincount(ent, minlength=n)
    out = np.zeros(n, dtype=np.float64)
    nonempty = counts > 0
    if data.size:
        starts = (np.cumsum(counts) - counts)[nonempty]
        red = np.fmin if kind in ("Min$", "MinIf$") else np.fmax
        res = red.reduceat(data, starts)
        # ROOT keeps the first value and replaces it by any smaller (larger) one: NaN elements are
        # skipped unless the first value of the entry is NaN
        res[np.isnan(data[starts])] = np.nan
        out[nonempty] = res
    return _Scalar(out, None)


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


class _Compiler:
    def __init__(self, text: str) -> None:
        self.text = text
        self.branches: set[str] = set()

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
        if kind in _BINARY:
            return self.binary(kind, tree, pos)
        raise self.error(pos, f"unsupported construct {kind!r}")  # pragma: no cover

    # -- leaves ------------------------------------------------------------------------------------

    def c_number(self, tree: Any, pos: int) -> _Node:
        tok = str(tree.children[0])
        value = float(int(tok, 16)) if tok[:2].lower() == "0x" else float(tok)
        return _Node(lambda ctx: value, const=value, pos=pos)

    def c_string(self, tree: Any, pos: int) -> _Node:
        s = str(tree.children[0])[1:-1]
        return _Node(lambda ctx: _StrConst(s), string=s, pos=pos)

    def c_name(self, tree: Any, pos: int) -> _Node:
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
        return _Node(lambda ctx: ctx.leaf(name), leaf=name, pos=pos)

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

    def binary(self, kind: str, tree: Any, pos: int) -> _Node:
        a, b = self.operands(tree, kind)
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
        b = self.compile(base)
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
        leaf = b.leaf
        fb = b.fn

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

        def ev(ctx: _Ctx) -> _Value:
            idxs = resolve(ctx)
            if leaf is not None and _ndim(ctx.raw(leaf)) > 2:
                return _index_nd(ctx.raw(leaf), idxs, text)
            v = _num(fb(ctx), ctx)
            for i in idxs:
                v = _index(v, i, text)
            return v

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
        args = [self.compile(c) for c in arg_trees]
        for nd in args:
            if nd.string is not None:
                raise self.error(nd.pos, f"{name} takes numbers, not a string")
        if name in _SPECIAL:
            return self.special(name, args, pos)
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

    def special(self, name: str, args: list[_Node], pos: int) -> _Node:
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
            return _reduce(name, x, c, ctx.n)

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
        If the text does not parse, names an unknown function, or calls one with the wrong number
        of arguments; the message shows the expression with a caret under the offending position.

    Examples
    --------
    >>> import numpy as np
    >>> f = Formula("x > 1 && y < 2")
    >>> sorted(f.branches)
    ['x', 'y']
    >>> f.evaluate({"x": np.array([0.0, 2.0]), "y": np.array([1.0, 1.0])}).tolist()
    [0.0, 1.0]
    """

    __slots__ = ("_root", "branches", "text")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise DataError(f"an expression must be a string, got {type(text).__name__}")
        text = str(text)  # a TCut or other str subclass becomes a plain string
        self.text = text
        if not text.strip():
            raise DataError("empty expression")
        compiler = _Compiler(text)
        try:
            self._root: _Node = compiler.compile(_parse(text))
        except RecursionError:
            raise DataError(f"expression {text[:80]!r}... is nested too deeply") from None
        if self._root.string is not None:
            raise DataError(_show(text, self._root.pos, f"expression {text!r} is a string, not a number"))
        self.branches: frozenset[str] = frozenset(compiler.branches)

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
            One element per entry: a float64 number, ``None`` when an indexed element does not
            exist (``Muon_Px[2]`` with two muons), or a list of float64 numbers for a
            multi-valued expression (``Muon_Px*2``).

        Raises
        ------
        DataError
            For a missing branch (with the closest branch names), a string branch used as a number,
            branches of different lengths, or an index beyond a fixed-size array.
        """
        n = _n_entries(arrays, [self])
        ctx = _Ctx(arrays, n)
        with np.errstate(all="ignore"):
            value = self._value(ctx)
        return _to_awkward(value, n)


def _to_awkward(value: _Num, n: int) -> Any:
    if isinstance(value, float):
        return ak.Array(np.full(n, value, dtype=np.float64))
    content: Any = ak.contents.NumpyArray(value.data)
    if value.valid is not None:
        content = ak.contents.ByteMaskedArray(
            ak.index.Index8(value.valid.astype(np.int8)), content, valid_when=True
        )
    if isinstance(value, _Jagged):
        content = ak.contents.ListOffsetArray(ak.index.Index64(value.offsets), content)
    return ak.Array(content)


@functools.lru_cache(maxsize=2048)
def parse_formula(text: str) -> Formula:
    """Return ``Formula(text)``, cached (formulas are immutable)."""
    return Formula(text)


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
        Entries that yielded no event because an expression gave a missing value (an indexed
        element that does not exist, ``arr[4]`` with 3 elements); TMVA warns and suggests
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

    def gather(self, v: _Num) -> tuple[F64, Mask | None]:
        """Values of one expression for every event."""
        if isinstance(v, float):
            return np.full(self.n_events, v, dtype=np.float64), None
        if isinstance(v, _Scalar):
            if self.size is None:
                return v.data, v.valid
            return np.repeat(v.data, self.size), None if v.valid is None else np.repeat(v.valid, self.size)
        if self.starts is not None and (v.offsets is self.starts or np.array_equal(v.offsets, self.starts)):
            return v.data, v.valid  # the expression that defines the events
        entry, local = self.entry, self.local
        counts = v.counts[entry]
        first = counts == 1
        ok = first | (local < counts)
        if v.data.size == 0:
            return np.zeros(self.n_events, dtype=np.float64), np.zeros(self.n_events, dtype=bool)
        pos = np.where(ok, v.offsets[:-1][entry] + np.where(first, 0, local), 0)
        valid = ok if v.valid is None else (ok & v.valid[pos])
        return v.data[pos], _simplify(valid)


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
    * A multi-valued ``Input`` expression turns an entry into one event per value; every other
      multi-valued input must then have the same number of values or exactly one (which is
      broadcast, as are single-valued expressions of every kind).  An entry whose multi-valued
      inputs are empty yields no event.
    * Multi-valued targets, spectators, weight and cut are indexed by the event's position within
      its entry; one with a single value is broadcast.
    * An entry in which any expression gives a missing value (an indexed element that does not
      exist, or a multi-valued expression shorter than the entry's number of events) yields no
      event at all and is counted in :attr:`EventBlock.n_entries_missing`.
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
        vals = [_plain_leaf(f, ctx) or f._value(ctx) for _, f in columns]
        wval: _Num = weight._value(ctx) if weight is not None else 1.0
        cval: _Num | None = cut._value(ctx) if cut is not None else None

        # number of events of each entry, from the multi-valued input expressions
        size: I64 | None = None
        ref = np.empty(0, dtype=np.int64)
        for i, ((kind, f), v) in enumerate(zip(columns, vals, strict=True)):
            if kind != "Input" or not isinstance(v, _Jagged):
                continue
            counts = v.counts
            multi = counts != 1
            if size is None:
                size = np.ones(n, dtype=np.int64)
                ref = np.full(n, -1, dtype=np.int64)
            clash = multi & (ref >= 0) & (counts != size)
            if clash.any():
                e = int(np.flatnonzero(clash)[0])
                other = columns[int(ref[e])][1].text
                raise DataError(
                    "multi-valued input expressions of different length in one entry: in entry "
                    f"{e}, {f.text!r} has {int(counts[e])} values while {other!r} has "
                    f"{int(size[e])}; all multi-valued inputs must have the same number of values "
                    "(or a single one)"
                )
            new = multi & (ref < 0)
            size[new] = counts[new]
            ref[new] = i
        ix = _EventIndex(n, size)
        n_events = ix.n_events
        all_vals: list[_Num] = [*vals, wval] + ([cval] if cval is not None else [])
        gathered = [ix.gather(v) for v in all_vals]

        # entries with a missing value give no event at all
        missing: Mask | None = None
        for _, valid in gathered:
            if valid is not None:
                missing = ~valid if missing is None else (missing | ~valid)
        n_missing = 0
        keep: Mask | None = None
        if missing is not None and missing.any():
            bad_entry = np.zeros(n, dtype=bool)
            bad_entry[ix.entry[missing]] = True
            n_missing = int(bad_entry.sum())
            keep = ~bad_entry[ix.entry]

        wdata = gathered[len(vals)][0]
        cdata = gathered[len(vals) + 1][0] if cval is not None else None
        cand_w = wdata if keep is None else wdata[keep]
        n_cand = n_events if keep is None else int(keep.sum())
        sumw = float(np.sum(cand_w))
        if math.isnan(sumw):  # the same sum with the NaN skipped (nansum copies the array)
            sumw = float(np.nansum(cand_w))

        if cdata is None:
            passed = keep
        else:
            passed = ~(cdata < 0.5)
            if keep is not None:
                passed &= keep
        rejected: Mask | None = None
        if cdata is not None:
            rejected = cdata < 0.5
            if keep is not None:
                rejected &= keep

        nan_sel: dict[tuple[str, str], tuple[int, int]] = {}
        nan_rej: dict[tuple[str, str], tuple[int, int]] = {}

        def note(
            target: dict[tuple[str, str], tuple[int, int]], key: tuple[str, str], nn: int, ni: int
        ) -> None:
            if nn or ni:
                old = target.get(key, (0, 0))
                target[key] = (old[0] + nn, old[1] + ni)

        checks: list[tuple[str, str, F64]] = [
            (kind, f.text, gathered[i][0]) for i, (kind, f) in enumerate(columns)
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
                if keep is not None:
                    nanm, infm = nanm & keep, infm & keep
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
            col = gathered[j][0]
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
        Number of entries shorter than ``size`` and number longer than ``size``.  A single-valued
        expression counts as one value (none where it is missing).
    """
    n = _n_entries(arrays, [formula])
    ctx = _Ctx(arrays, n)
    with np.errstate(all="ignore"):
        v = formula._value(ctx)
    if isinstance(v, float):
        counts: npt.NDArray[np.int64] = np.ones(n, dtype=np.int64)
    elif isinstance(v, _Scalar):
        counts = np.ones(n, dtype=np.int64) if v.valid is None else v.valid.astype(np.int64)
    else:
        counts = v.counts
    return int(np.count_nonzero(counts < size)), int(np.count_nonzero(counts > size))
