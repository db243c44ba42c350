"""Optional dependencies in one place, each failing with the pip command that installs it.

pymva's core needs numpy, uproot, awkward, torch and scikit-learn; drawing needs matplotlib and
mplhep (the extra ``plot``).  Each function here imports its package on first use and raises
:class:`~pymva.errors.MissingExtraError` (a :class:`~pymva.errors.PyMVAError` and a
:class:`ModuleNotFoundError`) naming the ``pip install`` command when it is missing.
"""

from __future__ import annotations

from typing import Any

from .errors import MissingExtraError

__all__ = ["mplhep", "new_axes", "pyplot"]


def pyplot() -> Any:
    """Return :mod:`matplotlib.pyplot`.

    Raises
    ------
    MissingExtraError
        If matplotlib is not installed (``pip install pymva[plot]``).
    """
    try:
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "drawing needs matplotlib, which is not installed; install it with: pip install pymva[plot]",
            name="matplotlib",
        ) from exc
    return plt


def mplhep() -> Any:
    """Return :mod:`mplhep` (the HEP styles; :mod:`pymva.plotting` draws in its ROOT style).

    Raises
    ------
    MissingExtraError
        If mplhep is not installed (``pip install pymva[plot]``).
    """
    try:
        import mplhep as hep
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "the ROOT plotting style needs mplhep, which is not installed; install it with: "
            "pip install pymva[plot] (or pass style=None to draw in matplotlib's current style)",
            name="mplhep",
        ) from exc
    return hep


def new_axes(ax: Any = None) -> Any:
    """Return ``ax``, or the axes of a new 6×5 inch figure.

    Raises
    ------
    MissingExtraError
        If ``ax`` is ``None`` and matplotlib is not installed.
    """
    if ax is not None:
        return ax
    _, ax = pyplot().subplots(figsize=(6, 5))
    return ax
