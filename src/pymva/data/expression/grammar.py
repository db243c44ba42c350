"""The TTreeFormula grammar (lark) and its parser, with ROOT's operator precedence.

Precedence and associativity reproduce ROOT's ``TFormula_v5::Analyze`` (``hist/hist/src/TFormula_v5.cxx``).
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np
import numpy.typing as npt

from ...errors import DataError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


# ---------------------------------------------------------------------------------------------------
# Grammar
# ---------------------------------------------------------------------------------------------------
#
# Precedence and associativity reproduce ROOT's TFormula_v5::Analyze, which splits a string at the
# operator of lowest priority found outside parentheses.  Lowest to highest:
#   ?:   ||   &&   |   &   comparisons   + (binary)   - (binary, and a leading sign)   %   >>   <<
#   *   /   ^ (**)   !   postfix [index]
# ROOT splits at the leftmost occurrence of ||, &&, |, &, %, >>, <<, * (so these group to the
# right) and at the rightmost +, -, /, ^ (these group to the left, so 2^3^2 == 64).  A sign at the
# start of an operand of + or - applies to everything up to the next + or -: -a>>b is -(a>>b), as
# ROOT's split at the rightmost '-' gives; after *, /, ^, %, >>, << a sign applies to what follows.
# Runs of comparisons are parsed here with one precedence and regrouped by the compiler with ROOT's
# rule (_Compiler.comparison), which is not a precedence: a<b<=c is (a<b)<=c, a<b<c is a<(b<c).
# Parentheses are kept in the tree (-> paren) so that the regrouping never crosses them.
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
?e_mod: "-" e_mod -> neg
      | "+" e_mod
      | e_shr "%" e_mod -> mod
      | e_shr
?e_shr: e_shl ">>" e_shrarg -> shr
      | e_shl
?e_shrarg: "-" e_shrarg -> neg
         | "+" e_shrarg
         | e_shr
?e_shl: e_mul "<<" e_shlarg -> shl
      | e_mul
?e_shlarg: "-" e_shlarg -> neg
         | "+" e_shlarg
         | e_shl
?e_mul: e_div "*" e_mularg -> mul
      | e_div
?e_mularg: "-" e_mularg -> neg
         | "+" e_mularg
         | e_mul
?e_div: e_div "/" e_powarg -> div
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
       | "(" e_cond ")" -> paren
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
