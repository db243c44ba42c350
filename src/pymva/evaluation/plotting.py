"""Drawing of evaluation results with matplotlib (the optional extra ``plot``).

matplotlib is imported only when something is drawn (:func:`pymva.extras.pyplot`); without it,
:class:`~pymva.errors.MissingExtraError` tells how to install it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..extras import new_axes
from .roc import ROC_TITLE, ROCCurve, style_roc_axes

__all__ = ["plot_roc_curves"]


def plot_roc_curves(
    curves: Mapping[str, ROCCurve], title: str = ROC_TITLE, *, figure_class: type[Any] | None = None
) -> Any:
    """Draw several ROC curves on one new figure, as ``Factory::GetROCCurve(loader)`` does.

    Parameters
    ----------
    curves : mapping of str to ROCCurve
        Legend label (method title) to curve.
    title : str
        Figure title (TMVA's ``"Signal efficiency vs. Background rejection"``).
    figure_class : type, keyword-only
        A :class:`matplotlib.figure.Figure` subclass to create (the Factory passes the one with
        ROOT's ``TCanvas`` methods).

    Returns
    -------
    matplotlib.figure.Figure
        Not held by pyplot (see :func:`pymva.extras.new_axes`).
    """
    ax = new_axes(figure_class=figure_class)
    for label, curve in curves.items():
        curve.plot(ax=ax, label=label)
    style_roc_axes(ax, title)
    ax.legend(loc="lower left", title="MVA Method")
    ax.figure.tight_layout()
    return ax.figure
