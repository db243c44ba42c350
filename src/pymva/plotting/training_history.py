"""Training history of a neural network: loss per epoch (TMVA's ``training_history.cxx``).

TMVA's DL method records per epoch ``trainingError`` and ``valError`` (``MethodDL::TrainDeepNet``,
``fTrainHistory.AddValue``) and the Factory writes them as the TH1D
``TrainingHistory_<title>_<property>`` into the method directory (``TrainingHistory::SaveHistory``:
one bin per epoch, centred on it); PyKeras writes Keras's history the same way (names such as
``'loss'`` and ``'val_loss'``, quotes included).  pymva's PyTorch method writes ``trainingError``
and ``valError`` when it trains with :func:`pymva.pytorch.train`, and ``valError`` alone (the values
passed to ``save_best``) with another loop.

TMVA's macro draws the histograms of all methods on one frame; here it is one figure per method,
with the epoch of the smallest validation loss marked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from .style import BACKGROUND, CLASS_COLORS, SIGNAL, finish, new_figure, style_context
from .tmvaglob import H1, FileLike, find_method, histogram_names, opened, read_h1, resolve_dataset

__all__ = ["history_label", "training_history", "training_history_histograms"]

_LABELS = {
    "trainingerror": "Training loss",
    "loss": "Training loss",
    "valerror": "Validation loss",
    "val_loss": "Validation loss",
    "testerror": "Test loss",
}


def history_label(name: str, title: str) -> str:
    """Legend label of ``TrainingHistory_<title>_<property>``: ``Training loss``, ``Validation
    loss``, ``Test loss``, else the property without Keras's quotes."""
    prop = name.removeprefix(f"TrainingHistory_{title}_")
    prop = prop.strip("'\"")
    return _LABELS.get(prop.lower(), prop)


def training_history_histograms(directory: Any) -> list[H1]:
    """The ``TrainingHistory_*`` histograms of a method directory, in file order."""
    return [
        h for n in histogram_names(directory, "TrainingHistory_") if (h := read_h1(directory, n)) is not None
    ]


def training_history(file: FileLike, dataset: str | None, method: str, *, style: Any = "ROOT") -> Any:
    """Draw a method's training history: loss per epoch (TMVA ``training_history``).

    Parameters
    ----------
    file : str, os.PathLike or uproot directory
        The TMVA output file.
    dataset : str or None
        The dataset; ``None``: the only one in the file.
    method : str
        The method title.
    style : str, dict, list or None
        See :mod:`pymva.plotting.style`.

    Returns
    -------
    matplotlib.figure.Figure
        One line per history histogram, ``gid`` its name, points at the bin centres (the epochs)
        with the bin contents (the losses); ``best_epoch``, a vertical line at the smallest
        validation loss, when there is one.

    Raises
    ------
    DataError
        If the file, dataset or method is not there, or the method directory has no
        ``TrainingHistory_*`` histogram.
    """
    with opened(file) as root:
        ds = resolve_dataset(root, dataset)
        info = find_method(root, ds, method)
        hists = training_history_histograms(root[info.path])
    if not hists:
        raise DataError(
            f"method '{method}' has no TrainingHistory_{info.title}_* histograms (TMVA's DL and "
            "PyKeras write them, pymva's PyTorch method too)"
        )
    with style_context(style):
        fig, axes = new_figure(figsize=(8.0, 6.2))
        ax = axes[0, 0]
        colors = {"Training loss": SIGNAL[0], "Validation loss": BACKGROUND[0]}
        best: tuple[float, float] | None = None
        for i, h in enumerate(hists):
            label = history_label(h.name, info.title)
            color = colors.get(label, CLASS_COLORS[(i + 2) % len(CLASS_COLORS)])
            ax.plot(h.centers, h.values, "o-", color=color, lw=2.0, markersize=4, label=label, gid=h.name)
            if label == "Validation loss" and len(h.values):
                k = int(np.argmin(h.values))
                best = (float(h.centers[k]), float(h.values[k]))
        if best is not None:
            ax.axvline(
                best[0], color="0.4", lw=1.2, ls="--", gid="best_epoch",
                label=f"Smallest validation loss {best[1]:.4g} (epoch {best[0]:g})",
            )  # fmt: skip
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Loss")
        ax.set_title(f"Training history for classifier: {info.title}")
        ax.grid(True)
        ax.legend(loc="upper right", frameon=True)
        ax.xaxis.get_major_locator().set_params(integer=True)
        return finish(fig)
