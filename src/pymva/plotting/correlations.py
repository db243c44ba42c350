"""Linear correlation coefficients of the input variables (TMVA's ``correlations.cxx``).

The TH2 ``CorrelationMatrixS`` (signal), ``CorrelationMatrixB`` (background),
``CorrelationMatrix<Class>`` (multiclass) or ``CorrelationMatrix`` (regression) holds
``int(100 ρ)`` per pair of variables, labelled with the variable titles.  Drawn as TMVA draws it
(``colz`` plus ``text``): variable 0 at the bottom left, a colour per cell on a fixed scale
[−100, 100] (a diverging map, so that 0 is white), the number written in each cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError, did_you_mean
from .style import finish, new_figure, root_text, style_context
from .tmvaglob import FileLike, dataset_directory, opened, resolve_dataset

__all__ = ["CorrelationMatrix", "correlation_matrices", "correlations", "matrix_name"]

_SHORT = {
    "Signal": "CorrelationMatrixS",
    "Background": "CorrelationMatrixB",
    "Regression": "CorrelationMatrix",
}


def matrix_name(class_name: str) -> str:
    """The histogram name of a class's matrix: ``CorrelationMatrixS`` for ``Signal``, ``…B`` for
    ``Background``, ``CorrelationMatrix`` for ``Regression``, else ``CorrelationMatrix<Class>``."""
    return _SHORT.get(class_name, f"CorrelationMatrix{class_name}")


def _class_of(name: str) -> str:
    for cls, n in _SHORT.items():
        if n == name:
            return cls
    return name[len("CorrelationMatrix") :]


@dataclass(frozen=True)
class CorrelationMatrix:
    """A correlation-matrix histogram: ``values[ix, iy]`` (ROOT's bin (ix+1, iy+1)), labels, title."""

    name: str
    class_name: str
    title: str
    values: npt.NDArray[np.float64]
    x_labels: list[str]
    y_labels: list[str]


def correlation_matrices(root: Any, dataset: str) -> list[CorrelationMatrix]:
    """Every ``CorrelationMatrix*`` TH2 directly in the dataset directory, in file order."""
    base = dataset_directory(root, dataset)
    out = []
    for name, cls in base.classnames(recursive=False, cycle=False).items():
        if not (name.startswith("CorrelationMatrix") and cls.startswith("TH2")):
            continue
        h = base[name]
        values = np.asarray(h.values(), dtype=np.float64)
        nx, ny = values.shape
        xl = h.axis(0).labels() or [str(i) for i in range(nx)]
        yl = h.axis(1).labels() or [str(i) for i in range(ny)]
        out.append(
            CorrelationMatrix(
                name, _class_of(name), str(h.member("fTitle") or name), values, list(xl), list(yl)
            )
        )
    return out


def correlations(
    file: FileLike, dataset: str | None = None, class_name: str = "Signal", *, style: Any = "ROOT"
) -> Any:
    """Draw the linear correlation coefficients of the input variables of one class (TMVA
    ``correlations``).

    Parameters
    ----------
    file : str, os.PathLike or uproot directory
        The TMVA output file.
    dataset : str or None
        The dataset; ``None``: the only one in the file.
    class_name : str
        ``"Signal"`` (default), ``"Background"``, ``"Regression"`` or a multiclass class name.
    style : str, dict, list or None
        See :mod:`pymva.plotting.style`.

    Returns
    -------
    matplotlib.figure.Figure
        A :class:`~matplotlib.collections.QuadMesh` (``gid`` the histogram name) whose array is the
        matrix in percent, row ``iy`` column ``ix`` (``values.T``), and one text per cell.

    Raises
    ------
    DataError
        If the file or dataset is not there, or it holds no matrix for ``class_name`` (the message
        lists the classes with one; none are written with ``!Correlations``/``CalcCorrelations``
        off).
    """
    with opened(file) as root:
        ds = resolve_dataset(root, dataset)
        matrices = correlation_matrices(root, ds)
    found = [m for m in matrices if m.class_name == class_name]
    if not found:
        classes = [m.class_name for m in matrices]
        raise DataError(
            f"no correlation matrix {matrix_name(class_name)} for class '{class_name}'"
            f"{did_you_mean(class_name, classes)}; classes with one: {classes}"
        )
    m = found[0]
    nx, ny = m.values.shape
    with style_context(style):
        size = min(max(6.5, 0.62 * nx + 3.5), 16.0)
        fig, axes = new_figure(figsize=(size + 1.2, size))
        ax = axes[0, 0]
        mesh = ax.pcolormesh(
            np.arange(nx + 1), np.arange(ny + 1), m.values.T, cmap="RdBu_r", vmin=-100, vmax=100, gid=m.name
        )
        fontsize = "small" if nx <= 10 else "x-small" if nx <= 16 else 6
        for ix in range(nx):
            for iy in range(ny):
                v = m.values[ix, iy]
                ax.text(
                    ix + 0.5, iy + 0.5, f"{v:.0f}", ha="center", va="center", fontsize=fontsize,
                    color="white" if abs(v) > 60 else "black",
                )  # fmt: skip
        ax.set_xticks(np.arange(nx) + 0.5, [root_text(t) for t in m.x_labels], rotation=45, ha="right")
        ax.set_yticks(np.arange(ny) + 0.5, [root_text(t) for t in m.y_labels])
        ax.tick_params(which="both", length=0)
        ax.minorticks_off()
        ax.set_aspect("equal")
        bar = fig.colorbar(mesh, ax=ax, shrink=0.8)
        bar.set_label("Linear correlation coefficient [%]")
        ax.set_title(m.title)
        return finish(fig)
