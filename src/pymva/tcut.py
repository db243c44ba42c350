"""``TCut``: ROOT's selection string, as a :class:`str` that combines with ``+``, ``&`` and ``|``."""

from __future__ import annotations

__all__ = ["TCut"]


class TCut(str):
    """A selection expression, behaving like ROOT's ``TCut``.

    ``TCut`` is a :class:`str`, so it can be passed wherever a cut string is accepted.  As in ROOT,
    ``a + b`` and ``a & b`` give ``(a)&&(b)``, ``a | b`` gives ``(a)||(b)``, ``a * b`` gives
    ``(a)*(b)`` (a weight times a selection) and ``~a`` (ROOT's ``!a``) gives ``!(a)``; an empty
    operand is neutral.

    Parameters
    ----------
    expression : str, optional
        The selection in ROOT's TTreeFormula syntax; empty means "no cut".

    Examples
    --------
    >>> TCut("x>0") + TCut("y<1")
    TCut('(x>0)&&(y<1)')
    >>> TCut("") & "y<1"
    TCut('y<1')
    """

    def __new__(cls, expression: str = "") -> TCut:
        return super().__new__(cls, str(expression).strip())

    def _combine(self, other: object, op: str) -> TCut:
        o = str(other).strip()
        if not o:
            return TCut(self)
        if not self:
            return TCut(o)
        return TCut(f"({self}){op}({o})")

    def __add__(self, other: object) -> TCut:
        return self._combine(other, "&&")

    def __radd__(self, other: object) -> TCut:
        return TCut(str(other))._combine(self, "&&")

    def __and__(self, other: object) -> TCut:
        return self._combine(other, "&&")

    def __rand__(self, other: object) -> TCut:
        return TCut(str(other))._combine(self, "&&")

    def __or__(self, other: object) -> TCut:
        return self._combine(other, "||")

    def __ror__(self, other: object) -> TCut:
        return TCut(str(other))._combine(self, "||")

    def __mul__(self, other: object) -> TCut:
        return self._combine(other, "*")

    def __rmul__(self, other: object) -> TCut:
        return TCut(str(other))._combine(self, "*")

    def __invert__(self) -> TCut:
        return TCut(f"!({self})") if self else TCut("")

    def GetTitle(self) -> str:
        """Return the selection string (ROOT's ``TCut::GetTitle``)."""
        return str(self)

    def __repr__(self) -> str:
        return f"TCut({str(self)!r})"
