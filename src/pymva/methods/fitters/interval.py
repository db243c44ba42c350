"""``TMVA.Interval``: the range of one fit parameter, continuous or discrete (``Interval.cxx``).

``Interval(min, max)`` is the continuous range ``[min, max]``; ``Interval(min, max, n)`` with
``n >= 2`` the ``n`` equidistant values ``min, min + step, …, max`` with
``step = (max − min)/(n − 1)``; bins count from 0.  TMVA's fitters draw a parameter of a discrete
interval as ``GetElement(int(u · n))`` with ``u`` uniform in ``[0, 1)`` (``GeneticRange``).
"""

from __future__ import annotations

import math

from ...errors import OptionError

__all__ = ["Interval"]


class Interval:
    """A fit parameter's range (TMVA ``Interval``).

    Parameters
    ----------
    min, max : float
        The limits, ``max >= min``.
    nbins : int, default 0
        0 for a continuous interval, otherwise the number (``>= 2``) of discrete values.

    Raises
    ------
    OptionError
        If ``max < min``, a limit is not finite, ``nbins < 0`` or ``nbins == 1`` (TMVA's fatal
        errors in ``Interval::Interval``).
    """

    def __init__(self, min: float, max: float, nbins: int = 0) -> None:
        lo, hi, n = float(min), float(max), int(nbins)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise OptionError(f"Interval({min!r}, {max!r}): the limits must be finite numbers")
        if hi < lo:
            raise OptionError(f"Interval({min!r}, {max!r}): maximum lower than minimum")
        if n < 0:
            raise OptionError(f"Interval({min!r}, {max!r}, {nbins!r}): nbins < 0; use 0 (continuous) or >= 2")
        if n == 1:
            raise OptionError(
                f"Interval({min!r}, {max!r}, 1): interval has to have at least 2 bins if discrete "
                "(use 0 for a continuous interval)"
            )
        self._min, self._max, self._nbins = lo, hi, n

    def GetMin(self) -> float:
        """Lower limit."""
        return self._min

    def GetMax(self) -> float:
        """Upper limit."""
        return self._max

    def GetNbins(self) -> int:
        """Number of discrete values (0: continuous)."""
        return self._nbins

    def GetWidth(self) -> float:
        """``max − min``."""
        return self._max - self._min

    def GetMean(self) -> float:
        """``(max + min)/2``, the start value of ``FitterBase::Run()``."""
        return (self._max + self._min) / 2

    def GetElement(self, bin: int) -> float:
        """Value of discrete bin ``bin``: ``min + bin/(nbins − 1)·(max − min)``.

        Raises
        ------
        OptionError
            For a continuous interval or ``bin`` outside ``0 … nbins − 1``.
        """
        if self._nbins <= 0:
            raise OptionError("Interval.GetElement is only defined for discrete intervals (nbins >= 2)")
        b = int(bin)
        if not 0 <= b < self._nbins:
            raise OptionError(
                f"Interval.GetElement: bin {b} out of range: interval bins count from 0 to {self._nbins - 1}"
            )
        return self._min + (b / (self._nbins - 1)) * (self._max - self._min)

    def GetStepSize(self, iBin: int = 0) -> float:
        """Distance between neighbouring values of a discrete interval.

        Raises
        ------
        OptionError
            For a continuous interval or a negative ``iBin``.
        """
        if self._nbins <= 0:
            raise OptionError("Interval.GetStepSize is only defined for discrete intervals (nbins >= 2)")
        if iBin < 0:
            raise OptionError(f"Interval.GetStepSize: iBin={iBin} must not be negative")
        return (self._max - self._min) / (self._nbins - 1)

    def GetRndm(self, rnd: object) -> float:
        """A uniform value in the interval from a generator with ``Rndm()`` (``TRandom3``)."""
        rndm = getattr(rnd, "Rndm", None) or getattr(rnd, "rndm", None)
        if rndm is None:
            raise OptionError("Interval.GetRndm needs a random generator with a Rndm() method (TRandom3)")
        return float(rndm()) * (self._max - self._min) + self._min

    def Print(self) -> str:
        """The discrete values as TMVA prints them (``| v0 || v1 |…``); empty for a continuous one."""
        return "".join(f"| {self.GetElement(i):g} |" for i in range(self._nbins))

    def __repr__(self) -> str:
        extra = f", {self._nbins}" if self._nbins else ""
        return f"Interval({self._min!r}, {self._max!r}{extra})"
