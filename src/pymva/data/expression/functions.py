"""Operators and functions of TTreeFormula with ROOT's semantics (``TFormula_v5``, ``TMath``, the C library)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .values import _f64

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


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
        "ASin": one(np.arcsin), "ACos": one(np.arccos), "ATan": one(np.arctan), "ATan2": two(_tm_atan2),
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
