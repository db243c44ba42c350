"""``TMVA.IFitterTarget``: what a fitter minimises (``IFitterTarget.h``).

A Python class derives from :class:`IFitterTarget` and defines ``EstimatorFunction(parameters)``,
which receives the parameter values (a list of floats, also offering the ``std::vector`` methods
``at(i)`` and ``size()`` that ported C++ code calls) and returns the number to minimise, as in
ROOT's ``TMVAMultipleBackgroundExample.C``::

    class MyFitness(TMVA.IFitterTarget):
        def EstimatorFunction(self, factors):
            return 1.0 / efficiency_times_purity(factors)

``ProgressNotifier(fitter, state)`` is TMVA's hook for progress reports; it does nothing unless
overridden.  Any object with an ``EstimatorFunction`` method may serve as a target.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["IFitterTarget", "ParameterVector"]


class ParameterVector(list[float]):
    """The parameter values handed to ``EstimatorFunction``: a ``list`` with ``std::vector``'s
    ``at(i)``, ``size()`` and ``push_back(x)`` (so that code ported from C++ runs)."""

    def __init__(self, values: Iterable[float] = ()) -> None:
        super().__init__(float(v) for v in values)

    def at(self, i: int) -> float:
        """Element ``i`` (``IndexError`` outside the vector, as ``std::vector::at`` throws)."""
        if not 0 <= i < len(self):
            raise IndexError(f"parameter index {i} out of range (the vector holds {len(self)} values)")
        return self[i]

    def size(self) -> int:
        """Number of parameters."""
        return len(self)

    def push_back(self, value: float) -> None:
        """Append a value."""
        self.append(float(value))


class IFitterTarget:
    """Base class of a fitter's target (TMVA ``IFitterTarget``).

    Subclasses override :meth:`EstimatorFunction`.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Accept and ignore arguments, so that subclasses may call ``super().__init__()`` freely."""

    def EstimatorFunction(self, parameters: ParameterVector) -> float:
        """The value to minimise for ``parameters``.

        Raises
        ------
        NotImplementedError
            Always: a subclass must define it (TMVA's pure virtual function).
        """
        raise NotImplementedError(
            f"{type(self).__name__} must define EstimatorFunction(self, parameters) returning the value "
            "to minimise"
        )

    def ProgressNotifier(self, fitter: str, state: str) -> None:
        """Progress hook (``fitter`` such as ``"GA"``, ``state`` such as ``"init"``); does nothing."""
