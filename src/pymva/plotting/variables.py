"""Input variables per class for one transformation (TMVA's ``variables.cxx``).

One panel per variable (and regression target) of ``<dataset>/InputVariables_<chain>``: the classes
overlaid, TMVA's filled blue signal and hatched red background, each normalised to unit area
(``TMVAGlob::NormalizeHists``: contents / (Σ in-range contents × bin width)) when there are two or
more classes; a regression's single class is drawn as it is, as TMVA does.  Axis titles (with the
unit given to ``AddVariable``) come from the histograms; the under- and overflow is noted in a panel
when there is any.
"""

from __future__ import annotations

from typing import Any

from ..errors import DataError
from .style import axis_text, finish, grid_shape, new_figure, root_text, stairs, style_context
from .tmvaglob import H1, FileLike, input_variable_histograms, opened, resolve_dataset

__all__ = ["variables", "variables_title"]


def variables_title(chain: str, regression: bool = False) -> str:
    """TMVAGui's title of an ``InputVariables_<chain>`` plot, e.g. ``Input variables 'Deco'-transformed
    (training sample)``; ``Input variables (training sample)`` for ``Id``."""
    what = "Input variables and target(s)" if regression else "Input variables"
    if chain == "Id" or chain.startswith("Id_"):
        return f"{what} (training sample)"
    return f"{what} '{chain}'-transformed (training sample)"


def _flow_text(hists: list[tuple[str, H1]]) -> str:
    parts_u = ", ".join(f"{h.flow_percent()[0]:.1f}" for _, h in hists)
    parts_o = ", ".join(f"{h.flow_percent()[1]:.1f}" for _, h in hists)
    short = ",".join(c[0] for c, _ in hists)
    return f"U/O-flow ({short}): ({parts_u})% / ({parts_o})%"


def variables(
    file: FileLike, dataset: str | None = None, transformation: str = "Id", *, style: Any = "ROOT"
) -> Any:
    """Draw the input variables of one transformation chain, classes overlaid (TMVA ``variables``).

    Parameters
    ----------
    file : str, os.PathLike or uproot directory
        The TMVA output file (written by pymva or by ROOT's TMVA).
    dataset : str or None
        The dataset (DataLoader name); ``None``: the only one in the file.
    transformation : str
        The chain of ``InputVariables_<chain>``: ``Id`` (the input variables), ``Deco``, ``PCA``,
        ``Gauss_Deco`` …, as in the Factory's ``Transformations`` option.
    style : str, dict, list or None
        ``"ROOT"`` (mplhep's ROOT style, default), ``None`` (matplotlib's current) or a matplotlib
        style (:mod:`pymva.plotting.style`).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per variable and target, in file order.  Each histogram is a
        :class:`~matplotlib.patches.StepPatch` whose ``gid`` is the histogram's name in the file and
        whose ``get_data().values`` are the drawn (normalised) contents.

    Raises
    ------
    DataError
        If the file, the dataset or the transformation's directory is not there, or it holds no
        input-variable histograms.
    MissingExtraError
        Without matplotlib (or mplhep for the ROOT style).
    """
    with opened(file) as root:
        ds = resolve_dataset(root, dataset)
        entries = input_variable_histograms(root, ds, transformation)
    if not entries:
        raise DataError(f"InputVariables_{transformation} holds no input-variable histograms")
    # group by (variable, target), classes in file order with Signal first and Background second
    panels: dict[tuple[str, bool], list[tuple[str, H1]]] = {}
    classes: list[str] = []
    for e in entries:
        panels.setdefault((e.variable, e.is_target), []).append((e.class_name, e.histogram))
        if e.class_name not in classes:
            classes.append(e.class_name)
    order = {c: i for i, c in enumerate(sorted(classes, key=lambda c: (c != "Signal", c != "Background")))}
    regression = classes == ["Regression"]
    normalise = len(classes) > 1
    nrows, ncols = grid_shape(len(panels))
    with style_context(style):
        fig, axes = new_figure(nrows, ncols, figsize=(5.6 * ncols, 4.6 * nrows + 0.6))
        for k, ((_, is_target), hists) in enumerate(panels.items()):
            ax = axes.flat[k]
            hists = sorted(hists, key=lambda ch: order[ch[0]])
            drawn = [(c, h.normalised() if normalise else h) for c, h in hists]
            ymax = 0.0
            for c, h in drawn:
                stairs(ax, h.values, h.edges, class_index=order[c], class_name=c, label=c, gid=h.name)
                ymax = max(ymax, float(h.values.max(initial=0.0)))
            first = drawn[0][1]
            ax.set_xlim(first.edges[0], first.edges[-1])
            ax.set_ylim(0.0, ymax * (1.3 if k == 0 and normalise else 1.15) or 1.0)
            ax.set_xlabel(axis_text([first.x_title, first.title, first.name]))
            ytitle = root_text(first.y_title) if first.y_title else "dN"
            ax.set_ylabel(f"(1/N) {ytitle}" if normalise else ytitle)
            if is_target:
                ax.set_title("Regression target", fontsize="small")
            if any(h.underflow or h.overflow for _, h in drawn):
                ax.text(
                    0.98, 0.97, _flow_text(drawn), transform=ax.transAxes, ha="right", va="top",
                    fontsize="x-small",
                )  # fmt: skip
            if k == 0 and normalise:
                ax.legend(loc="upper left", frameon=False)
        for ax in axes.flat[len(panels) :]:
            ax.set_visible(False)
        fig.suptitle(variables_title(transformation, regression))
        return finish(fig)
