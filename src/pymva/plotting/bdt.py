"""BDT control plots: boost weights, error fraction and tree sizes per tree (TMVA's
``BDTControlPlots.cxx``).

TMVA's BDT writes into its method directory ``BoostWeight`` (the distribution of the AdaBoost
weights), ``BoostWeightVsTree``, ``ErrFractHist`` (misclassification rate of each tree),
``NodesBeforePruning`` / ``NodesAfterPruning`` and, with ``DoBoostMonitor``, ``BoostMonitor`` with
the graph ``BoostMonitorGraph``; the macro draws the ones present on one canvas.  pymva's BDT (on
scikit-learn) writes none of them, so these plots are drawn for files written by ROOT's TMVA.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from .style import axis_text, finish, grid_shape, new_figure, root_text, style_context
from .tmvaglob import H1, FileLike, find_method, opened, read_h1, resolve_dataset

__all__ = ["CONTROL_HISTOGRAMS", "bdt_control_histograms", "bdt_control_plots"]

#: The panels of ``bdtcontrolplots`` in order (the ``_FOMvsIter`` frame needs a graph and is left out).
CONTROL_HISTOGRAMS = (
    "BoostMonitor",
    "BoostWeight",
    "BoostWeightVsTree",
    "ErrFractHist",
    "NodesBeforePruning",
)

_COLOR = "#0000ee"


def _occupied_range(h: H1) -> tuple[float, float]:
    """The x range to show: the whole axis, or the bins with entries (two bins of margin) when they
    fill less than half of it (TMVA's ``BoostWeight`` spans [0, 30] for weights below 1)."""
    nonzero = np.flatnonzero(h.values)
    lo, hi = float(h.edges[0]), float(h.edges[-1])
    if len(nonzero) == 0:
        return lo, hi
    first = max(int(nonzero[0]) - 2, 0)
    last = min(int(nonzero[-1]) + 3, h.nbins)
    if h.edges[last] - h.edges[first] < 0.5 * (hi - lo):
        return float(h.edges[first]), float(h.edges[last])
    return lo, hi


def bdt_control_histograms(directory: Any) -> list[H1]:
    """The control histograms present in a method directory, in :data:`CONTROL_HISTOGRAMS` order."""
    return [h for name in CONTROL_HISTOGRAMS if (h := read_h1(directory, name)) is not None]


def bdt_control_plots(file: FileLike, dataset: str | None, method: str, *, style: Any = "ROOT") -> Any:
    """Draw a BDT's control plots (TMVA ``BDTControlPlots``).

    Parameters
    ----------
    file : str, os.PathLike or uproot directory
        The TMVA output file.
    dataset : str or None
        The dataset; ``None``: the only one in the file.
    method : str
        The title of a BDT method.
    style : str, dict, list or None
        See :mod:`pymva.plotting.style`.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per control histogram present; each histogram a
        :class:`~matplotlib.patches.StepPatch` with the file's contents and ``gid`` its name
        (``NodesAfterPruning`` drawn over ``NodesBeforePruning``).

    Raises
    ------
    DataError
        If the file, dataset or method is not there, or the method directory has none of the
        control histograms (every method but ROOT's BDT).
    """
    with opened(file) as root:
        ds = resolve_dataset(root, dataset)
        info = find_method(root, ds, method)
        directory = root[info.path]
        hists = bdt_control_histograms(directory)
        after = read_h1(directory, "NodesAfterPruning")
    if not hists:
        raise DataError(
            f"method '{method}' ({info.method_type}) has no BDT control histograms "
            f"({', '.join(CONTROL_HISTOGRAMS)}); ROOT's TMVA BDT writes them, pymva's BDT does not"
        )
    n = len(hists)
    nrows, ncols = grid_shape(n)
    with style_context(style):
        fig, axes = new_figure(nrows, ncols, figsize=(5.6 * ncols, 4.6 * nrows + 0.6))
        for ax, h in zip(axes.flat, hists, strict=False):
            ax.stairs(h.values, h.edges, color=_COLOR, lw=1.5, gid=h.name, label=root_text(h.title) or h.name)
            top = float(h.values.max(initial=0.0))
            title = root_text(h.title) or h.name
            if h.name == "NodesBeforePruning" and after is not None:
                ax.stairs(
                    after.values, after.edges, color="#ff0000", lw=1.0, ls="--", gid=after.name,
                    label="after pruning",
                )  # fmt: skip
                top = max(top, float(after.values.max(initial=0.0)))
                title = "Nodes before/after pruning"
                ax.legend(
                    ["before pruning", "after pruning"], loc="upper right", frameon=False, fontsize="small"
                )
            ax.set_xlim(*_occupied_range(h))
            ax.set_ylim(0.0, 1.3 * top if top > 0 else 1.0)
            ax.set_xlabel(axis_text([h.x_title]))
            ax.set_ylabel(axis_text([h.y_title]) or "Entries")
            ax.set_title(title, fontsize="medium")
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        fig.suptitle(f"BDT control plots for classifier: {info.title}")
        return finish(fig)
