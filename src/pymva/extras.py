"""Optional dependencies in one place, each failing with the pip command that installs it.

pymva's core needs numpy, uproot, awkward, torch and scikit-learn; drawing needs matplotlib (the
extra ``plot``).  Each function here imports its package on first use and raises
:class:`~pymva.errors.MissingExtraError` (a :class:`~pymva.errors.PyMVAError` and a
:class:`ModuleNotFoundError`) naming the ``pip install`` command when it is missing.
"""

from __future__ import annotations

from typing import Any

from .errors import MissingExtraError

__all__ = ["new_axes", "pyplot"]


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


def new_axes(ax: Any = None, figure_class: type[Any] | None = None) -> Any:
    """Return ``ax``, or the axes of a new 6×5 inch figure that pyplot does not hold.

    The new figure is a plain :class:`matplotlib.figure.Figure` (or ``figure_class``), not created
    through pyplot: returned as the last value of a Jupyter cell it is shown once (a pyplot figure
    would be shown a second time when the cell ends), and it is freed with its last reference
    instead of piling up in pyplot's list of open figures.  ``savefig`` works as usual.

    Raises
    ------
    MissingExtraError
        If ``ax`` is ``None`` and matplotlib is not installed.
    """
    if ax is not None:
        return ax
    pyplot()  # the clear error without matplotlib; importing pyplot also sets up Jupyter's display
    from matplotlib.figure import Figure

    cls = Figure if figure_class is None else figure_class
    return cls(figsize=(6, 5)).add_subplot()
