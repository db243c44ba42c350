"""ROC curves of all methods of a dataset (TMVA's ``efficiencies.cxx``).

The curves are the ``MVA_<title>_rejBvsS`` histograms (100 bins of signal efficiency, background
rejection ``1 − ε_B`` in each; ``effBvsS`` and ``invBeffvsSeff`` for TMVA's other two types), drawn
through the bin centres as TMVA's ``"c"`` option does, every method on one frame, the legend sorted
by the area under the curve (largest first, TMVA's order) and labelled with the histogram title
without ``MVA_`` (the method title).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError, OptionError, did_you_mean
from .style import CLASS_COLORS, finish, new_figure, style_context
from .tmvaglob import H1, FileLike, list_methods, opened, read_h1, resolve_dataset

__all__ = ["ROC_KINDS", "efficiencies", "roc_histograms"]

#: TMVA's ``type`` 1, 2, 3: histogram suffix, y-axis title.
ROC_KINDS: dict[str, str] = {
    "effBvsS": "Background efficiency",
    "rejBvsS": "Background rejection",
    "invBeffvsSeff": "1/(Background eff.)",
}
_BY_NUMBER = {1: "effBvsS", 2: "rejBvsS", 3: "invBeffvsSeff"}

#: Line colours of the methods, TMVA's 1, 2, 3, 4, 6, 7 … in spirit: black first, then distinct.
METHOD_COLORS = ("#000000", *CLASS_COLORS[1:], *CLASS_COLORS[:1])


def _kind(kind: str | int) -> str:
    if isinstance(kind, int) and kind in _BY_NUMBER:
        return _BY_NUMBER[kind]
    if kind in ROC_KINDS:
        return str(kind)
    raise OptionError(
        f"unknown ROC type {kind!r}{did_you_mean(str(kind), ROC_KINDS)}; accepted: "
        f"{', '.join(ROC_KINDS)} (or TMVA's type 1, 2, 3)"
    )


def roc_histograms(root: Any, dataset: str, kind: str | int = "rejBvsS") -> list[tuple[str, H1]]:
    """(method title, ``MVA_<title>_<kind>``) of every method that has one, in file order."""
    k = _kind(kind)
    out = []
    for m in list_methods(root, dataset):
        h = read_h1(root[m.path], f"MVA_{m.title}_{k}")
        if h is not None:
            out.append((m.title, h))
    return out


def efficiencies(
    file: FileLike, dataset: str | None = None, kind: str | int = "rejBvsS", *, style: Any = "ROOT"
) -> Any:
    """Draw the ROC curves of every method in the dataset on one frame (TMVA ``efficiencies``).

    Parameters
    ----------
    file : str, os.PathLike or uproot directory
        The TMVA output file.
    dataset : str or None
        The dataset; ``None``: the only one in the file.
    kind : str or int
        ``"rejBvsS"`` (default, TMVA's type 2: background rejection versus signal efficiency),
        ``"effBvsS"`` (1) or ``"invBeffvsSeff"`` (3).
    style : str, dict, list or None
        See :mod:`pymva.plotting.style`.

    Returns
    -------
    matplotlib.figure.Figure
        One line per method, ``gid`` the histogram name (``MVA_<title>_rejBvsS``), points at the bin
        centres with the bin contents; legend entries in TMVA's order (largest area first).

    Raises
    ------
    OptionError
        For an unknown ``kind``.
    DataError
        If the file or dataset is not there, or no method has the curve (regression, multiclass, or
        nothing evaluated).
    """
    k = _kind(kind)
    with opened(file) as root:
        ds = resolve_dataset(root, dataset)
        curves = roc_histograms(root, ds, k)
    if not curves:
        where = f"dataset '{ds}'" if ds else "the file"
        raise DataError(f"no method in {where} has an MVA_<title>_{k} histogram (classification only)")
    ytitle = ROC_KINDS[k]
    with style_context(style):
        fig, axes = new_figure(figsize=(8.0, 6.6))
        ax = axes[0, 0]
        lines = []
        for i, (_, h) in enumerate(curves):
            label = h.title.replace("MVA_", "") or h.name
            (line,) = ax.plot(
                h.centers, h.values, color=METHOD_COLORS[i % len(METHOD_COLORS)], lw=2.5, label=label,
                gid=h.name,
            )  # fmt: skip
            # TMVA: Integral(1, FindBin(0.9999)), the bins up to signal efficiency 0.9999
            upto = int(np.searchsorted(h.edges, 0.9999, side="right"))
            lines.append((float(np.sum(h.values[: max(upto, 1)])), i, line))
        order = [ln for _, _, ln in sorted(lines, key=lambda t: (-t[0], t[1]))]
        if k == "rejBvsS":
            lowest = min(float(np.min(h.values[h.centers < 0.9], initial=1.0)) for _, h in curves)
            ax.set_ylim(min(0.2, np.floor(10 * lowest) / 10), 1.02)
            loc = "lower left"
        elif k == "effBvsS":
            ax.set_ylim(0.0, 1.02)
            loc = "upper left"
        else:
            ax.set_ylim(0.0, 1.1 * max(float(h.values.max(initial=0.0)) for _, h in curves) or 1.0)
            loc = "upper right"
        ax.set_xlim(0.0, 1.0)
        ax.grid(True)
        ax.set_xlabel("Signal efficiency")
        ax.set_ylabel(ytitle)
        ax.set_title(f"{ytitle} versus Signal efficiency")
        ax.legend(order, [ln.get_label() for ln in order], loc=loc, title="MVA Method:", frameon=True)
        return finish(fig)
