"""Reading TMVA's output file for the plots: datasets, methods and histograms (TMVA's ``tmvaglob.cxx``).

The file is read with uproot only; nothing here depends on pymva's own histogram classes, so a file
written by ROOT's TMVA and one written by pymva are read the same way.

Layout (``docs/output-file.md``): ``<dataset>/Method_<Type>/<Title>/`` hold a method's histograms,
``<dataset>/InputVariables_<chain>/`` the input-variable plots, ``<dataset>/CorrelationMatrix*`` the
correlation matrices and ``<dataset>/TestTree`` the test events.  Files of ROOT 5 have no dataset
directory: the top level of the file is the dataset (named ``""`` here).

Mirrors ``TMVA::TMVAGlob`` (``tmva/tmvagui/src/tmvaglob.cxx``): ``GetListOfMethods`` /
``GetListOfTitles`` (:func:`list_methods`), ``NormalizeHists`` (:meth:`H1.normalised`),
``GetNumberOfInputVariables`` and the class names of the ``__<Class>`` histograms
(:func:`input_variable_histograms`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError, did_you_mean

__all__ = [
    "H1",
    "InputVariableHistogram",
    "MethodInfo",
    "dataset_directory",
    "dataset_names",
    "find_method",
    "input_variable_histograms",
    "list_methods",
    "opened",
    "read_h1",
    "resolve_dataset",
    "transformations",
]

F64 = npt.NDArray[np.float64]

#: What a plotting function accepts as ``file``: a path, or a file or directory opened with uproot.
FileLike = str | os.PathLike[str] | Any


@contextlib.contextmanager
def opened(file: FileLike) -> Iterator[Any]:
    """The file as an uproot directory; a file opened here from a path is closed afterwards.

    Parameters
    ----------
    file : str, os.PathLike or uproot ReadOnlyDirectory
        Path of the output ROOT file, or a file (``uproot.open(...)``) or directory of one.

    Yields
    ------
    uproot.ReadOnlyDirectory

    Raises
    ------
    DataError
        If the path does not exist, is not a ROOT file, or ``file`` is neither a path nor an uproot
        directory.
    """
    if isinstance(file, (str, os.PathLike)):
        import uproot

        path = Path(file)
        if not path.is_file():
            raise DataError(f"TMVA output file '{path}' does not exist (working directory {Path.cwd()})")
        try:
            root = uproot.open(path)
        except Exception as exc:  # uproot raises ValueError, OSError, … for a file that is not ROOT
            raise DataError(f"'{path}' cannot be read as a ROOT file: {type(exc).__name__}: {exc}") from exc
        try:
            yield root
        finally:
            root.close()
        return
    if hasattr(file, "classnames") and hasattr(file, "keys"):
        yield file
        return
    raise DataError(
        f"expected the path of a TMVA output ROOT file or a file opened with uproot.open, got "
        f"{type(file).__name__}"
    )


def _classnames(directory: Any) -> dict[str, str]:
    """Name (no cycle, highest cycle wins) → class name of the objects directly in ``directory``."""
    return dict(directory.classnames(recursive=False, cycle=False))


def _is_dataset(classes: dict[str, str]) -> bool:
    return any(
        name in ("TestTree", "TrainTree") or (name.startswith("Method_") and cls == "TDirectory")
        for name, cls in classes.items()
    )


def dataset_names(root: Any) -> list[str]:
    """The datasets (DataLoader names) in the file, in file order.

    A top-level directory is a dataset when it holds a ``TestTree``, a ``TrainTree`` or a
    ``Method_*`` directory; when the top level itself does (files of ROOT 5), the result is ``[""]``.
    """
    top = _classnames(root)
    if _is_dataset(top):
        return [""]
    return [name for name, cls in top.items() if cls == "TDirectory" and _is_dataset(_classnames(root[name]))]


def resolve_dataset(root: Any, dataset: str | None) -> str:
    """The dataset to plot: ``dataset`` itself, or the only one in the file when ``None`` or ``""``.

    Raises
    ------
    DataError
        If the file holds no dataset, several when none was named, or not the one named (with a
        suggestion).
    """
    names = dataset_names(root)
    if not names:
        raise DataError(
            f"no TMVA dataset directory (holding Method_* directories or a TestTree) in "
            f"'{_file_name(root)}'; is it a TMVA output file?"
        )
    if dataset is None or (dataset == "" and "" not in names):
        if len(names) > 1:
            raise DataError(f"'{_file_name(root)}' holds the datasets {names}; pass one of them as dataset=")
        return names[0]
    if dataset not in names:
        raise DataError(
            f"no dataset '{dataset}' in '{_file_name(root)}'{did_you_mean(dataset, names)}; datasets: {names}"
        )
    return dataset


def _file_name(root: Any) -> str:
    return str(getattr(root, "file_path", None) or getattr(getattr(root, "file", None), "file_path", "?"))


def dataset_directory(root: Any, dataset: str) -> Any:
    """The uproot directory of ``dataset`` (the file itself for ``""``)."""
    return root if dataset == "" else root[dataset]


@dataclass(frozen=True)
class MethodInfo:
    """One trained method in the file.

    Attributes
    ----------
    method_type : str
        ``Fisher``, ``BDT``, ``PyTorch`` … (the ``Method_<Type>`` directory without ``Method_``).
    title : str
        The method title given to ``BookMethod`` (the sub-directory's name).
    path : str
        Path of its directory inside the file, ``<dataset>/Method_<Type>/<Title>``.
    """

    method_type: str
    title: str
    path: str


def list_methods(root: Any, dataset: str) -> list[MethodInfo]:
    """Every ``Method_<Type>/<Title>`` directory of ``dataset``, in file order (TMVA's
    ``GetListOfMethods`` then ``GetListOfTitles``)."""
    base = dataset_directory(root, dataset)
    prefix = f"{dataset}/" if dataset else ""
    out = []
    for name, cls in _classnames(base).items():
        if not name.startswith("Method_") or cls != "TDirectory":
            continue
        for title, tcls in _classnames(base[name]).items():
            if tcls == "TDirectory":
                out.append(MethodInfo(name[len("Method_") :], title, f"{prefix}{name}/{title}"))
    return out


def find_method(root: Any, dataset: str, title: str) -> MethodInfo:
    """The method with title ``title`` in ``dataset``.

    Raises
    ------
    DataError
        If there is none (the message lists the titles there are, with a suggestion).
    """
    methods = list_methods(root, dataset)
    for m in methods:
        if m.title == title:
            return m
    titles = [m.title for m in methods]
    where = f"dataset '{dataset}'" if dataset else "the file"
    raise DataError(f"no method titled '{title}' in {where}{did_you_mean(title, titles)}; methods: {titles}")


# --------------------------------------------------------------------------------------------------
# 1-D histograms


@dataclass(frozen=True)
class H1:
    """A 1-D histogram as read from the file (TH1F, TH1D, TH1I …).

    Attributes
    ----------
    name, title, x_title, y_title : str
        As stored (ROOT's TLatex syntax in titles, e.g. ``#Delta#eta`` or ``dN_{ }/^{ }0.17 GeV``).
    edges : ndarray of float64, shape (n + 1,)
    values : ndarray of float64, shape (n,)
        In-range bin contents.
    errors : ndarray of float64, shape (n,)
        Bin errors: ``sqrt(fSumw2)``, or ROOT's ``sqrt(|content|)`` without ``Sumw2``.
    underflow, overflow : float
        Contents of the under- and overflow bins.
    """

    name: str
    title: str
    x_title: str
    y_title: str
    edges: F64
    values: F64
    errors: F64
    underflow: float
    overflow: float

    @property
    def centers(self) -> F64:
        """Bin centres, shape (n,)."""
        return 0.5 * (self.edges[:-1] + self.edges[1:])

    @property
    def nbins(self) -> int:
        """Number of in-range bins."""
        return len(self.values)

    def normalised(self) -> H1:
        """TMVA's ``NormalizeHists``: contents (flow bins and errors too) divided by the in-range sum
        of weights times the mean bin width ``(xmax − xmin)/n``; unchanged when that sum is 0."""
        total = float(np.sum(self.values))
        if total == 0.0:
            return self
        dx = (float(self.edges[-1]) - float(self.edges[0])) / self.nbins
        scale = 1.0 / total / dx
        return replace(
            self,
            values=self.values * scale,
            errors=self.errors * scale,
            underflow=self.underflow * scale,
            overflow=self.overflow * scale,
        )

    def flow_percent(self) -> tuple[float, float]:
        """Under- and overflow in percent of the in-range sum (TMVA's "U/O-flow" text, which
        multiplies the normalised flow content by the bin width)."""
        total = float(np.sum(self.values))
        if total == 0.0:
            return 0.0, 0.0
        return 100.0 * self.underflow / total, 100.0 * self.overflow / total


def _title(obj: Any, member: str = "fTitle") -> str:
    try:
        return str(obj.member(member) or "")
    except KeyError:  # uproot's KeyInFileError: no such member
        return ""


def read_h1(directory: Any, name: str) -> H1 | None:
    """The 1-D histogram ``name`` in ``directory`` (highest cycle), or ``None`` if there is none.

    Anything that is not a 1-D histogram (a directory, a tree, a TH2, a TProfile) gives ``None``.
    """
    classes = _classnames(directory)
    cls = classes.get(name)
    if cls is None or not cls.startswith("TH1"):
        return None
    h = directory[name]
    flow = np.asarray(h.values(flow=True), dtype=np.float64)
    variances = np.asarray(h.variances(flow=True), dtype=np.float64)
    sumw2 = h.member("fSumw2")
    if sumw2 is None or len(sumw2) != len(flow):
        variances = np.abs(flow)
    return H1(
        name=name,
        title=_title(h),
        x_title=_title(h.member("fXaxis")),
        y_title=_title(h.member("fYaxis")),
        edges=np.asarray(h.axis().edges(), dtype=np.float64),
        values=flow[1:-1],
        errors=np.sqrt(np.abs(variances[1:-1])),
        underflow=float(flow[0]),
        overflow=float(flow[-1]),
    )


def histogram_names(directory: Any, prefix: str = "") -> list[str]:
    """Names of the 1-D histograms directly in ``directory`` that start with ``prefix``, in file order."""
    return [n for n, c in _classnames(directory).items() if c.startswith("TH1") and n.startswith(prefix)]


# --------------------------------------------------------------------------------------------------
# input-variable directories


def transformations(root: Any, dataset: str) -> list[str]:
    """The ``InputVariables_<chain>`` directories of ``dataset`` as chain names (``Id``, ``Deco``, …)."""
    base = dataset_directory(root, dataset)
    return [
        name[len("InputVariables_") :]
        for name, cls in _classnames(base).items()
        if name.startswith("InputVariables_") and cls == "TDirectory"
    ]


@dataclass(frozen=True)
class InputVariableHistogram:
    """One ``<variable>__<Class>[_target]_<chain>`` histogram of an ``InputVariables_`` directory."""

    variable: str
    class_name: str
    is_target: bool
    histogram: H1


def input_variable_histograms(root: Any, dataset: str, chain: str) -> list[InputVariableHistogram]:
    """The 1-D plots of ``<dataset>/InputVariables_<chain>``, in file order.

    A name splits at its first ``__`` into the variable and ``<Class>[_target]_<chain>`` (TMVA's
    ``GetInputVariableNames`` and ``GetClassNames``); a chain suffix that is not there (TMVA wrote
    the plots of a directory renamed to ``InputVariables_Id_0`` with the suffix ``_Id``) is taken
    from the directory name up to its last ``_<number>``.

    Raises
    ------
    DataError
        If the directory does not exist (the message lists the chains there are).
    """
    chains = transformations(root, dataset)
    if chain not in chains:
        where = f"dataset '{dataset}'" if dataset else "the file"
        raise DataError(
            f"no input-variable plots 'InputVariables_{chain}' in {where}{did_you_mean(chain, chains)}; "
            f"transformations plotted: {chains}"
        )
    directory = dataset_directory(root, dataset)[f"InputVariables_{chain}"]
    suffixes = [f"_{chain}"]
    head, _, tail = chain.rpartition("_")
    if head and tail.isdigit():
        suffixes.append(f"_{head}")
    out = []
    for name in histogram_names(directory):
        variable, sep, rest = name.partition("__")
        if not sep:
            continue
        for suffix in suffixes:
            if rest.endswith(suffix):
                rest = rest[: -len(suffix)]
                break
        is_target = rest.endswith("_target")
        if is_target:
            rest = rest[: -len("_target")]
        h = read_h1(directory, name)
        if h is not None:
            out.append(InputVariableHistogram(variable, rest, is_target, h))
    return out
