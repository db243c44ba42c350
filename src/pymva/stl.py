"""``std::vector`` as PyROOT presents it: a Python list with ``size()``, ``at()``, ``push_back()``.

Where TMVA returns a ``std::vector`` (``DataSetInfo::GetListOfVariables()``,
``GetVariableInfos()``, ...), PyROOT hands scripts an object that is iterable and indexable like a
list and also keeps the C++ member functions.  :class:`StdVector` is that object: a :class:`list`
with the members scripts call, so both ``len(v)`` and ``v.size()`` work.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["StdVector"]

_T = TypeVar("_T")


class StdVector(list[_T]):
    """A :class:`list` with ``std::vector``'s member functions (PyROOT's pythonization).

    Examples
    --------
    >>> v = StdVector(["var1", "var2"])
    >>> v.size(), v.at(1), v[0]
    (2, 'var2', 'var1')
    >>> v.push_back("var3"); v.size()
    3
    """

    def size(self) -> int:
        """Number of elements (``std::vector::size``)."""
        return len(self)

    def empty(self) -> bool:
        """Whether there is no element (``std::vector::empty``)."""
        return not self

    def at(self, i: int) -> _T:
        """Element ``i`` with bounds checking (``std::vector::at``).

        Raises
        ------
        IndexError
            For ``i`` outside ``[0, size())``, as PyROOT turns ``std::out_of_range`` into
            ``IndexError`` (a negative ``i`` does not count from the end here).
        """
        if not 0 <= int(i) < len(self):
            raise IndexError(f"vector::at: index {i} is out of range for a vector of size {len(self)}")
        return self[int(i)]

    def front(self) -> _T:
        """The first element (``std::vector::front``); IndexError when empty."""
        return self.at(0)

    def back(self) -> _T:
        """The last element (``std::vector::back``); IndexError when empty."""
        return self.at(len(self) - 1)

    def push_back(self, x: _T) -> None:
        """Append ``x`` (``std::vector::push_back``)."""
        self.append(x)

    def emplace_back(self, x: _T) -> None:
        """Append ``x`` (``std::vector::emplace_back``)."""
        self.append(x)

    def pop_back(self) -> None:
        """Remove the last element (``std::vector::pop_back``); IndexError when empty."""
        if not self:
            raise IndexError("vector::pop_back on an empty vector")
        del self[-1]

    def data(self) -> list[_T]:
        """The elements as a plain list (``std::vector::data``)."""
        return list(self)
