"""Drawing of evaluation results with matplotlib (the optional extra ``plot``).

matplotlib is imported only when something is drawn; without it, :func:`pyplot` raises
:class:`MissingExtraError` (a :class:`~pymva.errors.PyMVAError` and a :class:`ModuleNotFoundError`)
telling how to install it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import PyMVAError

if TYPE_CHECKING:
    from .roc import ROCCurve

__all__ = ["MissingExtraError", "plot_roc_curves", "pyplot"]


class MissingExtraError(PyMVAError, ModuleNotFoundError):
    """An optional dependency of pymva is not installed."""


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


def new_axes(ax: Any = None) -> Any:
    """Return ``ax``, or the axes of a new 6×5 inch figure."""
    if ax is not None:
        return ax
    _, ax = pyplot().subplots(figsize=(6, 5))
    return ax


def style_roc_axes(ax: Any, title: str) -> None:
    """Axis titles and ranges of TMVA's ROC canvas (``Factory::GetROCCurve``)."""
    ax.set_xlabel("Signal efficiency (Sensitivity)")
    ax.set_ylabel("Background rejection (Specificity)")
    ax.set_title(title)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.grid(True, alpha=0.3)


def plot_roc_curves(
    curves: Mapping[str, ROCCurve], title: str = "Signal efficiency vs. Background rejection"
) -> Any:
    """Draw several ROC curves on one new figure, as ``Factory::GetROCCurve(loader)`` does.

    Parameters
    ----------
    curves : mapping of str to ROCCurve
        Legend label (method title) to curve.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax = new_axes()
    for label, curve in curves.items():
        curve.plot(ax=ax, label=label)
    style_roc_axes(ax, title)
    ax.legend(loc="lower left", title="MVA Method")
    ax.figure.tight_layout()
    return ax.figure
