"""Parallel coordinates of a classifier's output and the input variables (TMVA's ``paracoor.cxx``).

From ``<dataset>/TestTree``: one vertical axis for the classifier output, then one per variable
(every scalar branch except ``classID``, ``className``, ``weight``, ``prob_*`` and the other
methods' outputs, as TMVA selects them; spectators included); every test event a polyline through
its values, each axis scaled to the [min, max] of that branch over the whole tree (as ROOT's
``TParallelCoord``).  One panel per class (TMVA: one canvas each).

Where TMVA marks a range of the classifier output in colour, the lines here are coloured by the
classifier output (colour bar), which shows the same without choosing a range.  Classes come from
the ``className`` branch (TMVA's macro selects ``classID == 1 − type``, which is right only when the
signal is class 1).  With more than ``max_events`` events of a class, every k-th is drawn
(``numpy.linspace`` over the class's events, deterministic).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError
from .style import finish, new_figure, root_text, style_context
from .tmvaglob import (
    FileLike,
    dataset_directory,
    find_method,
    input_variable_histograms,
    list_methods,
    opened,
    resolve_dataset,
    transformations,
)

__all__ = ["EXCLUDED_BRANCHES", "paracoor", "paracoor_columns", "sample_indices"]

#: Branches of the TestTree that are never axes (``paracoor.cxx``).
EXCLUDED_BRANCHES = frozenset({"type", "weight", "boostweight", "class", "className", "classID"})


def paracoor_columns(tree: Any, method: str, method_titles: set[str]) -> list[str]:
    """The axes: ``method`` first, then the scalar numeric branches that are input variables."""
    names = []
    for name, branch in tree.items(filter_typename=None, recursive=False):
        if name in EXCLUDED_BRANCHES or name.startswith("prob_") or name in method_titles or name == method:
            continue
        dtype = getattr(branch.interpretation, "to_dtype", None)
        if dtype is None or dtype.shape != () or dtype.kind not in "fiub":
            continue  # strings, arrays (multiclass outputs, AddVariablesArray) are no axes
        names.append(name)
    return [method, *names]


def sample_indices(n: int, max_events: int) -> npt.NDArray[np.intp]:
    """Indices of the events drawn out of ``n``: all, or ``max_events`` evenly spaced ones."""
    if n <= max_events:
        return np.arange(n, dtype=np.intp)
    return np.unique(np.linspace(0, n - 1, max_events).astype(np.intp))


def _titles(root: Any, dataset: str) -> dict[str, str]:
    """Branch name → axis title (``AddVariable``'s title and unit) from the ``Id`` plots, if any."""
    chains = transformations(root, dataset)
    chain = "Id" if "Id" in chains else None
    if chain is None:
        return {}
    return {e.variable: e.histogram.x_title for e in input_variable_histograms(root, dataset, chain)}


def paracoor(
    file: FileLike, dataset: str | None, method: str, *, max_events: int = 2000, style: Any = "ROOT"
) -> Any:
    """Draw the parallel coordinates of a classifier's output and the input variables (TMVA
    ``paracoor``).

    Parameters
    ----------
    file : str, os.PathLike or uproot directory
        The TMVA output file.
    dataset : str or None
        The dataset; ``None``: the only one in the file.
    method : str
        The method title (a branch of the TestTree).
    max_events : int
        At most this many events per class are drawn (evenly spaced, :func:`sample_indices`).
    style : str, dict, list or None
        See :mod:`pymva.plotting.style`.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per class (Signal first); in each a
        :class:`~matplotlib.collections.LineCollection` with ``gid`` ``paracoor_<Class>`` whose
        segments are the events' scaled values ``(value − min)/(max − min)`` at x = 0, 1, …, and
        whose array is the classifier output of those events.

    Raises
    ------
    DataError
        If the file, dataset, method or TestTree is not there, or the TestTree has no branch for the
        method (regression, multiclass: no scalar output).
    """
    if max_events < 1:
        raise DataError(f"max_events must be at least 1, got {max_events}")
    with opened(file) as root:
        ds = resolve_dataset(root, dataset)
        info = find_method(root, ds, method)
        base = dataset_directory(root, ds)
        if "TestTree" not in base.keys(cycle=False):
            raise DataError("no TestTree in the file: parallel coordinates need the test events")
        tree = base["TestTree"]
        if info.title not in tree.keys(recursive=False):
            raise DataError(f"the TestTree has no branch '{info.title}' for method '{method}'")
        titles = {m.title for m in list_methods(root, ds)}
        columns = paracoor_columns(tree, info.title, titles - {info.title})
        arrays = tree.arrays([*columns, "className"], library="np")
        axis_titles = _titles(root, ds)
    class_names = np.asarray(arrays["className"]).astype(str)
    values = np.column_stack([np.asarray(arrays[c], dtype=np.float64) for c in columns])
    if len(values) == 0:
        raise DataError("the TestTree has no events")
    lo, hi = values.min(axis=0), values.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    scaled = np.where(hi > lo, (values - lo) / span, 0.5)
    classes = list(dict.fromkeys(class_names.tolist()))
    classes.sort(key=lambda c: (c != "Signal", c != "Background"))
    k = len(columns)
    xs = np.arange(k, dtype=np.float64)
    with style_context(style):
        from matplotlib.collections import LineCollection
        from matplotlib.colors import Normalize

        fig, axes = new_figure(len(classes), 1, figsize=(max(8.0, 1.5 * k + 3.0), 4.4 * len(classes) + 0.8))
        norm = Normalize(vmin=float(lo[0]), vmax=float(hi[0]) if hi[0] > lo[0] else float(lo[0]) + 1.0)
        mappable = None
        for ax, cls in zip(axes[:, 0], classes, strict=True):
            members = np.flatnonzero(class_names == cls)
            rows = members[sample_indices(len(members), max_events)]
            segments: Any = np.stack([np.broadcast_to(xs, (len(rows), k)), scaled[rows]], axis=-1)
            lc = LineCollection(
                segments, array=values[rows, 0], cmap="viridis", norm=norm, linewidths=0.6, alpha=0.35,
                gid=f"paracoor_{cls}",
            )  # fmt: skip
            ax.add_collection(lc)
            mappable = lc
            for x in xs:
                ax.axvline(x, color="black", lw=1.0)
            for j in range(k):
                ax.text(xs[j] + 0.03, -0.03, f"{lo[j]:.3g}", ha="left", va="top", fontsize="x-small")
                ax.text(xs[j] + 0.03, 1.03, f"{hi[j]:.3g}", ha="left", va="bottom", fontsize="x-small")
            ax.set_xlim(-0.3, k - 0.7)
            ax.set_ylim(-0.12, 1.12)
            ax.set_yticks([])
            ax.minorticks_off()
            ax.tick_params(axis="x", which="both", top=False, length=0)
            labels = [f"{info.title} output"] + [root_text(axis_titles.get(c, c)) for c in columns[1:]]
            ax.set_xticks(xs, labels, rotation=20, ha="right")
            shown = f" ({len(rows)} of {len(members)} shown)" if len(rows) < len(members) else ""
            ax.set_title(f"{cls} events{shown}", fontsize="medium")
        if mappable is not None:
            bar = fig.colorbar(mappable, ax=axes[:, 0].tolist(), shrink=0.9)
            bar.set_label(f"{info.title} output")
            bar.solids.set_alpha(1.0)
        fig.suptitle(f"Parallel coordinates for classifier: {info.title}")
        return finish(fig)
