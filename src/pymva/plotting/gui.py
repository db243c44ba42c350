"""TMVAGui without a GUI: every applicable plot as PNG and PDF, and an ``index.html`` showing them.

``TMVA.TMVAGui("TMVA.root")`` (TMVA's ``TMVAGui.cxx`` is a button bar; each button runs one macro)
and ``python -m pymva gui TMVA.root -o plots/`` call :func:`write_plots`, which draws what TMVAGui's
buttons would draw, in the same order, for every dataset of the file:

==============================  ===========================================  =======================
TMVAGui button                  file names (in ``<outdir>/<dataset>/``)      function
==============================  ===========================================  =======================
(1) Input variables             ``variables_<chain>``                        :func:`.variables`
(3) Correlation coefficients    ``CorrelationMatrixS``, ``…B``, …            :func:`.correlations`
(4) Classifier output           ``overtrain_<T>``, ``proba_<T>``,            :func:`.mvas`
                                ``rarity_<T>``
(5a) Cut efficiencies           ``mvaeffs_<T>``                              :func:`.mvaeffs`
(5b) ROC curve                  ``rejBvsS``                                  :func:`.efficiencies`
(6) Parallel coordinates        ``paracoor_<T>``                             :func:`.paracoor`
(11) BDT control plots          ``<T>_ControlPlots``                         :func:`.bdt_control_plots`
Training history (DL)           ``TrainingHistory_<T>``                      :func:`.training_history`
==============================  ===========================================  =======================

A plot is written only when the file has its histograms (TMVAGui greys such buttons out); the page
lists what was left out and why.  Each file is written atomically; names from the file (dataset and
method titles) are reduced to ``[A-Za-z0-9._+-]`` before they become file names, so they never
point outside ``outdir``.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import OptionError, PyMVAError
from ..logger import get_logger
from ..safety import atomic_path, write_bytes_atomically
from .bdt import bdt_control_histograms, bdt_control_plots
from .correlations import correlation_matrices, correlations
from .efficiencies import efficiencies, roc_histograms
from .mvaeffs import mvaeffs
from .mvas import available_htypes, mvas
from .paracoor import paracoor
from .style import style_context
from .tmvaglob import (
    FileLike,
    dataset_directory,
    dataset_names,
    list_methods,
    opened,
    read_h1,
    resolve_dataset,
    transformations,
)
from .training_history import training_history, training_history_histograms
from .variables import variables, variables_title

__all__ = ["PlotPage", "TMVAGui", "safe_name", "write_plots"]

_log = get_logger("TMVAGui", "pymva.plotting")

FORMATS = ("png", "pdf", "svg")


def safe_name(name: str) -> str:
    """``name`` as a file-name stem: characters outside ``[A-Za-z0-9._+-]`` become ``_``, leading
    dots are dropped, and an empty result is ``_``."""
    stem = re.sub(r"[^A-Za-z0-9._+-]", "_", name).lstrip(".")
    return stem or "_"


@dataclass(frozen=True)
class _Plot:
    section: str
    caption: str
    stem: str
    draw: Callable[[], Any]


@dataclass
class PlotPage:
    """What :func:`write_plots` wrote.

    Attributes
    ----------
    index : Path
        The ``index.html``.
    files : list of Path
        Every image written (PNG, PDF, …), in page order.
    skipped : list of (str, str)
        (dataset, what was not drawn and why).
    """

    index: Path
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _plan(
    root: Any, dataset: str, n_signal: float, n_background: float, style: Any, skipped: list[str]
) -> list[_Plot]:
    """The plots TMVAGui's buttons would draw for ``dataset``, as deferred calls."""
    plots: list[_Plot] = []
    base = dataset_directory(root, dataset)

    def add(section: str, caption: str, stem: str, draw: Callable[[], Any]) -> None:
        plots.append(_Plot(section, caption, stem, draw))

    for chain in transformations(root, dataset):
        regression = any("__Regression" in n for n in base[f"InputVariables_{chain}"].keys(cycle=False))
        add(
            "Input variables",
            variables_title(chain, regression),
            f"variables_{chain}",
            partial(variables, root, dataset, chain, style=style),
        )
    for matrix in correlation_matrices(root, dataset):
        add(
            "Input variable linear correlation coefficients",
            matrix.title,
            matrix.name,
            partial(correlations, root, dataset, matrix.class_name, style=style),
        )
    methods = list_methods(root, dataset)
    for m in methods:
        kinds = available_htypes(root[m.path], m.title)
        if "compare" in kinds:
            kinds.remove("mva")  # the overtraining check shows the test sample too
        if not kinds:
            skipped.append(
                f"{m.title}: no classifier output histograms MVA_{m.title}_S/_B (the classifier plots "
                "are for two-class classification, as in TMVAGui)"
            )
        for kind in kinds:
            add(
                "Classifier output distributions",
                f"{_MVAS_CAPTIONS[kind]}: {m.title}",
                f"{_MVAS_STEMS[kind]}_{m.title}",
                partial(mvas, root, dataset, m.title, kind, style=style),
            )
    for m in methods:
        d = root[m.path]
        if read_h1(d, f"MVA_{m.title}_effS") is not None and read_h1(d, f"MVA_{m.title}_effB") is not None:
            add(
                "Classifier cut efficiencies",
                f"Cut efficiencies and optimal cut: {m.title}",
                f"mvaeffs_{m.title}",
                partial(mvaeffs, root, dataset, m.title, n_signal, n_background, style=style),
            )
    if roc_histograms(root, dataset, "rejBvsS"):
        add(
            "ROC curves",
            "Background rejection versus signal efficiency (ROC curve)",
            "rejBvsS",
            partial(efficiencies, root, dataset, "rejBvsS", style=style),
        )
    else:
        skipped.append("ROC curves: no method has an MVA_<title>_rejBvsS histogram")
    tree_branches: set[str] = set()
    if "TestTree" in base.keys(cycle=False):
        tree_branches = set(base["TestTree"].keys(recursive=False))
    else:
        skipped.append("parallel coordinates: no TestTree")
    for m in methods:
        if m.title in tree_branches and read_h1(root[m.path], f"MVA_{m.title}_S") is not None:
            add(
                "Parallel coordinates",
                f"Parallel coordinates: {m.title} and the input variables",
                f"paracoor_{m.title}",
                partial(paracoor, root, dataset, m.title, style=style),
            )
    for m in methods:
        if bdt_control_histograms(root[m.path]):
            add(
                "BDT control plots",
                f"Decision tree control plots: {m.title}",
                f"{m.title}_ControlPlots",
                partial(bdt_control_plots, root, dataset, m.title, style=style),
            )
    for m in methods:
        if training_history_histograms(root[m.path]):
            add(
                "Training history",
                f"Training history: {m.title}",
                f"TrainingHistory_{m.title}",
                partial(training_history, root, dataset, m.title, style=style),
            )
    return plots


_MVAS_STEMS = {"compare": "overtrain", "mva": "mva", "proba": "proba", "rarity": "rarity"}
_MVAS_CAPTIONS = {
    "compare": "Classifier output distributions (test and training samples superimposed)",
    "mva": "Classifier output distributions (test sample)",
    "proba": "Classifier probability distributions (test sample)",
    "rarity": "Classifier rarity distributions (test sample)",
}


def _unique(stem: str, taken: set[str]) -> str:
    out, k = stem, 1
    while out.lower() in taken:
        out, k = f"{stem}_{k}", k + 1
    taken.add(out.lower())
    return out


def write_plots(
    file: FileLike,
    outdir: str | os.PathLike[str] = "plots",
    dataset: str | None = None,
    *,
    formats: Sequence[str] = ("png", "pdf"),
    n_signal: float = 1000.0,
    n_background: float = 1000.0,
    style: Any = "ROOT",
) -> PlotPage:
    """Write every plot TMVAGui would draw for ``file`` into ``outdir``, and ``outdir/index.html``.

    Parameters
    ----------
    file : str, os.PathLike or uproot directory
        The TMVA output file (pymva's or ROOT's).
    outdir : str or os.PathLike
        Output directory (created); images go to ``outdir/<dataset>/``, or to ``outdir`` itself for
        a file of ROOT 5 without dataset directory.
    dataset : str or None
        Only this dataset; ``None``: all datasets of the file.
    formats : sequence of str
        Image formats, each of ``png``, ``pdf``, ``svg``; the page shows the first and links the
        others.
    n_signal, n_background : float
        Expected numbers of events for the significance in the cut-efficiency plots.
    style : str, dict, list or None
        See :mod:`pymva.plotting.style`.

    Returns
    -------
    PlotPage

    Raises
    ------
    DataError
        If the file cannot be read, holds no TMVA dataset, or not ``dataset``.
    OptionError
        For an unknown or empty ``formats``.
    OSError
        If ``outdir`` cannot be written.
    """
    fmts = [str(f).lower().lstrip(".") for f in formats]
    bad = [f for f in fmts if f not in FORMATS]
    if not fmts or bad:
        raise OptionError(
            f"image formats {list(formats)!r}: accepted are {', '.join(FORMATS)} (at least one)"
        )
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    page = PlotPage(index=out / "index.html")
    sections: list[tuple[str, list[tuple[str, str, list[Path], int]], list[str]]] = []
    with opened(file) as root:
        names = [resolve_dataset(root, dataset)] if dataset is not None else dataset_names(root)
        if not names:
            resolve_dataset(root, None)  # raises the DataError naming the file
        source = (
            str(file) if isinstance(file, (str, os.PathLike)) else str(getattr(root, "file_path", "file"))
        )
        for ds in names:
            skipped: list[str] = []
            plots = _plan(root, ds, n_signal, n_background, style, skipped)
            target = out / safe_name(ds) if ds else out
            target.mkdir(parents=True, exist_ok=True)
            taken: set[str] = set()
            entries: list[tuple[str, str, list[Path], int]] = []
            for plot in plots:
                stem = _unique(safe_name(plot.stem), taken)
                try:
                    fig = plot.draw()
                except PyMVAError as exc:  # the file lacks what the plan expected: note it, go on
                    _log.warning("%s: %s not drawn: %s", ds or source, plot.caption, exc)
                    skipped.append(f"{plot.caption}: {exc}")
                    continue
                written = []
                width = round(float(fig.get_size_inches()[0]) * float(fig.dpi))
                with style_context(style):
                    for fmt in fmts:
                        path = target / f"{stem}.{fmt}"
                        with atomic_path(path) as tmp:
                            fig.savefig(tmp, format=fmt)
                        written.append(path)
                _log.info("Wrote %s", ", ".join(str(p) for p in written))
                page.files += written
                entries.append((plot.section, plot.caption, written, width))
            page.skipped += [(ds, s) for s in skipped]
            sections.append((ds, entries, skipped))
    write_bytes_atomically(page.index, _html_page(source, sections, out).encode("utf-8"))
    _log.info("Open %s to see the %d plots", page.index, len(page.files) // len(fmts))
    return page


_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
h3 { margin-top: 1.2em; color: #333; }
.grid { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; }
figure { box-sizing: border-box; margin: 0; padding: 0.6em; border: 1px solid #ddd; border-radius: 4px; background: #fff; }
figure img { display: block; width: 100%; height: auto; }
figcaption { margin-top: 0.4em; font-size: 0.9em; max-width: 60em; }
.skipped { color: #666; font-size: 0.9em; }
"""


def _html_page(
    source: str, sections: list[tuple[str, list[tuple[str, str, list[Path], int]], list[str]]], out: Path
) -> str:
    """The page: per dataset, per section a row of figures (shown at 60 % of their pixel width, at
    most the window's), each linking its second format (the PDF)."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>TMVA plots: {esc(source)}</title><style>{_CSS}</style></head><body>",
        f"<h1>TMVA plots of {esc(source)}</h1>",
        "<p>The plots of ROOT's TMVAGui, drawn by pymva.plotting; click an image for its vector version.</p>",
    ]
    for ds, entries, skipped in sections:
        parts.append(f"<h2>Dataset '{esc(ds)}'</h2>" if ds else "<h2>Dataset (top level of the file)</h2>")
        current = None
        for section, caption, files, width in entries:
            if section != current:
                if current is not None:
                    parts.append("</div>")
                parts.append(f"<h3>{esc(section)}</h3><div class='grid'>")
                current = section
            rel = [quote(p.relative_to(out).as_posix()) for p in files]
            link = rel[1] if len(rel) > 1 else rel[0]
            others = " ".join(f"<a href='{r}'>{esc(Path(r).suffix.lstrip('.').upper())}</a>" for r in rel[1:])
            parts.append(
                f"<figure style='width: min({int(0.6 * width)}px, 100%)'><a href='{link}'>"
                f"<img src='{rel[0]}' alt='{esc(caption)}' loading='lazy'></a>"
                f"<figcaption>{esc(caption)} {others}</figcaption></figure>"
            )
        if current is not None:
            parts.append("</div>")
        if not entries:
            parts.append("<p>No plots.</p>")
        if skipped:
            parts.append("<p class='skipped'>Not drawn:</p><ul class='skipped'>")
            parts += [f"<li>{esc(s)}</li>" for s in skipped]
            parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def TMVAGui(
    fName: str | os.PathLike[str] = "TMVA.root",
    dataset: str = "",
    outdir: str | os.PathLike[str] = "plots",
    **kwargs: Any,
) -> Path:
    """TMVA's ``TMVA::TMVAGui(fName, dataset)``: write all plots and ``index.html``; return its path.

    ``dataset=""`` (TMVA's default) means every dataset in the file; keyword arguments go to
    :func:`write_plots` (``formats``, ``n_signal``, ``n_background``, ``style``).
    """
    return write_plots(fName, outdir, dataset or None, **kwargs).index
