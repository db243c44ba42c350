"""The output ROOT file of a Factory as a file: :class:`OutputFile` (TMVA's ``TFile`` passed to
``Factory(jobName, outputFile)``), written with uproot, never with ROOT.

:class:`OutputFile` writes into a temporary file next to the final path and
renames it onto that path only when :meth:`OutputFile.close` completes, so an exception or an
interrupt never leaves a truncated file in place of an earlier good one.  It writes histograms
(:class:`pymva.histograms.Histogram`, or any object that looks like one, :class:`HistogramLike`) as
TH1F/TH1D/TH2F/TH2D, profiles (:class:`pymva.histograms.Profile`) as TProfile, graphs
(:class:`pymva.histograms.Graph` or :class:`GraphLike`) as TGraph, strings (TObjString) and the
event trees (:class:`EventTreeColumns`, laid out by :func:`pymva.io.output.layout.event_tree_columns`).

What goes where in the file is :mod:`pymva.io.output.layout`.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol, runtime_checkable

import awkward as ak
import numpy as np
import numpy.typing as npt
import uproot
import uproot.writing.identify as _uw

from ...errors import OptionError
from ...histograms import AUTO_RANGE, Graph, Histogram, Profile
from ...logger import get_logger
from ...safety import new_temporary_path
from .plots import InputVariablePlots

_log = get_logger("DataSet", "pymva.io.output")


#: Rows per ``TTree.extend`` call (one basket per branch each).
DEFAULT_CHUNK_SIZE = 100_000


@runtime_checkable
class HistogramLike(Protocol):
    """What :meth:`OutputFile.write_histogram` needs from a histogram that is not a
    :class:`pymva.histograms.Histogram` (it is converted to one).

    Besides ``name``, ``title``, ``counts`` and ``variances`` (``None`` for no ``Sumw2``), the bin
    edges as ``edges`` or ``x_edges``.  Optional attributes, read when present: ``y_edges`` (makes
    it 2-D, ``counts`` of shape (nx, ny) indexed ``[ix, iy]``), ``x_title``, ``y_title``,
    ``z_title``, ``x_labels``, ``y_labels``, ``entries``, ``stats``, ``minimum``, ``maximum``,
    ``root_type`` (``"TH1F"``, ``"TH1D"``, ``"TH2F"``, ``"TH2D"``) or ``precision`` (``'F'``/``'D'``),
    ``style`` — see :class:`pymva.histograms.Histogram`.  ``counts`` and ``variances`` may
    include the under- and overflow bins (nbins + 2 per axis).  Without ``root_type`` or
    ``precision`` a histogram is written as TH1F/TH2F.
    """

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def counts(self) -> npt.NDArray[Any]: ...

    @property
    def variances(self) -> npt.NDArray[Any] | None: ...


@runtime_checkable
class GraphLike(Protocol):
    """What :meth:`OutputFile.write_graph` needs from a graph that is not a :class:`pymva.histograms.Graph`
    (it is converted to one): ``name``, ``title``, points ``x`` and ``y``; optional ``x_title`` and
    ``y_title``."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def x(self) -> npt.NDArray[Any]: ...

    @property
    def y(self) -> npt.NDArray[Any]: ...


# --------------------------------------------------------------------------------------------------
# conversion to uproot's writable models


def _join(directory: str, name: str) -> str:
    directory = directory.strip("/")
    return f"{directory}/{name}" if directory else name


def _is_uniform(edges: npt.NDArray[np.float64]) -> bool:
    n = len(edges) - 1
    if n < 1:
        return True
    ref = np.linspace(edges[0], edges[-1], n + 1)
    return bool(np.all(np.abs(edges - ref) <= 1e-10 * max(abs(edges[-1] - edges[0]), 1e-300)))


def _labels(labels: Sequence[str] | None) -> Any:
    if labels is None:
        return None
    items = [_uw.to_TObjString(str(s)) for s in labels]
    for i, item in enumerate(items):
        item._bases[0]._members["@fUniqueID"] = i + 1  # TAxis::SetBinLabel numbers them by bin
    return _uw.to_THashList(items)


def _axis(
    owner: str,
    which: str,
    edges: npt.NDArray[np.float64],
    title: str,
    labels: Sequence[str] | None,
    style: Mapping[str, float],
) -> Any:
    nbins = len(edges) - 1
    if not np.all(np.diff(edges) > 0):
        raise ValueError(f"{owner}: {which} bin edges must increase strictly")
    extra = {}
    for key in ("fLabelSize", "fLabelOffset"):
        if f"{which}.{key}" in style:
            extra[key] = float(style[f"{which}.{key}"])
    return _uw.to_TAxis(
        fName=which,
        fTitle=title,
        fNbins=nbins,
        fXmin=float(edges[0]),
        fXmax=float(edges[-1]),
        fXbins=None if _is_uniform(edges) else edges.astype(np.float64),
        fLabels=_labels(labels),
        **extra,
    )


def _title(obj: Any, attr: str) -> str:
    """An optional title attribute of a duck-typed object; ``""`` when missing or ``None``."""
    return str(getattr(obj, attr, "") or "")


def _as_histogram(hist: Any) -> Histogram:
    """``hist`` itself if it is a :class:`Histogram`, else a :class:`Histogram` of its attributes
    (:class:`HistogramLike`)."""
    if isinstance(hist, Histogram):
        return hist
    name = str(hist.name)
    edges = getattr(hist, "edges", None)
    if edges is None:
        edges = getattr(hist, "x_edges", None)
    if edges is None:
        raise TypeError(f"histogram '{name}' ({type(hist).__name__}) has neither 'edges' nor 'x_edges'")
    y_edges = getattr(hist, "y_edges", None)
    ndim = 1 if y_edges is None else 2
    root_type = getattr(hist, "root_type", None)
    if root_type is not None:
        expected: dict[str, Literal["F", "D"]] = {f"TH{ndim}F": "F", f"TH{ndim}D": "D"}
        if root_type not in expected:
            raise ValueError(
                f"histogram '{name}': root_type {root_type!r} does not fit a {ndim}-D histogram; "
                f"expected one of {sorted(expected)}"
            )
        precision = expected[root_type]
    else:
        precision = getattr(hist, "precision", "F")
    return Histogram(
        name,
        str(hist.title),
        edges,
        hist.counts,
        hist.variances,
        _title(hist, "x_title"),
        _title(hist, "y_title"),
        y_edges=y_edges,
        z_title=_title(hist, "z_title"),
        x_labels=getattr(hist, "x_labels", None),
        y_labels=getattr(hist, "y_labels", None),
        entries=getattr(hist, "entries", None),
        stats=getattr(hist, "stats", None),
        minimum=float(getattr(hist, "minimum", AUTO_RANGE)),
        maximum=float(getattr(hist, "maximum", AUTO_RANGE)),
        precision=precision,
        style=getattr(hist, "style", None) or {},
    )


def _as_graph(graph: Any) -> Graph:
    """``graph`` itself if it is a :class:`Graph`, else a :class:`Graph` of its attributes (:class:`GraphLike`)."""
    if isinstance(graph, Graph):
        return graph
    return Graph(
        str(graph.name),
        str(graph.title),
        graph.x,
        graph.y,
        _title(graph, "x_title"),
        _title(graph, "y_title"),
    )


def _graph_model(graph: Graph) -> Any:
    """An uproot TGraph model; axis titles travel in ROOT's ``title;x;y`` title convention."""
    model = uproot.as_TGraph(
        {"x": graph.x, "y": graph.y},
        title=graph.title,
        xAxisLabel=graph.x_title,
        yAxisLabel=graph.y_title,
        minY=-1111.0,
        maxY=-1111.0,
    )
    if not graph.x_title and not graph.y_title:
        model._bases[0]._members["fTitle"] = graph.title
    return model


def _style_kwargs(style: Mapping[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("fMarkerSize",):
        if key in style:
            out[key] = float(style[key])
    for key in ("fMarkerColor", "fMarkerStyle", "fLineColor", "fFillColor"):
        if key in style:
            out[key] = int(style[key])
    return out


def _histogram_model(hist: Histogram) -> Any:
    """An uproot TH1x/TH2x model of a :class:`Histogram`."""
    edges, y_edges, style = hist.edges, hist.y_edges, hist.style
    dtype = np.float32 if hist.precision == "F" else np.float64
    data = hist.values(flow=True)
    sumw2 = None if hist.variances is None else hist.sumw2(flow=True)
    inner = tuple(slice(1, -1) for _ in hist.shape)
    entries = float(np.sum(data)) if hist.entries is None else float(hist.entries)
    stats = hist.stats
    xc = 0.5 * (edges[:-1] + edges[1:])
    if stats is None:
        c = data[inner]
        tsumw = float(c.sum())
        tsumw2 = float(sumw2[inner].sum()) if sumw2 is not None else tsumw
        if y_edges is None:
            stats = (tsumw, tsumw2, float((c * xc).sum()), float((c * xc * xc).sum()))
        else:
            yc = 0.5 * (y_edges[:-1] + y_edges[1:])
            stats = (
                tsumw,
                tsumw2,
                float((c.T * xc).sum()),
                float((c.T * xc * xc).sum()),
                float((c * yc).sum()),
                float((c * yc * yc).sum()),
                float((c * yc).T.dot(xc).sum()),
            )
    common: dict[str, Any] = {
        "fName": hist.name,
        "fTitle": hist.title,
        "data": data.T.reshape(-1).astype(dtype),
        "fEntries": entries,
        "fSumw2": None if sumw2 is None else sumw2.T.reshape(-1).astype(np.float64),
        "fXaxis": _axis(f"histogram '{hist.name}'", "xaxis", edges, hist.x_title, hist.x_labels, style),
        "fMinimum": float(hist.minimum),
        "fMaximum": float(hist.maximum),
        **_style_kwargs(style),
    }
    if y_edges is None:
        yaxis = _uw.to_TAxis(fName="yaxis", fTitle=hist.y_title, fNbins=1, fXmin=0.0, fXmax=1.0)
        return _uw.to_TH1x(
            fTsumw=stats[0], fTsumw2=stats[1], fTsumwx=stats[2], fTsumwx2=stats[3], fYaxis=yaxis, **common
        )
    yaxis = _axis(f"histogram '{hist.name}'", "yaxis", y_edges, hist.y_title, hist.y_labels, style)
    zaxis = _uw.to_TAxis(fName="zaxis", fTitle=hist.z_title, fNbins=1, fXmin=0.0, fXmax=1.0)
    return _uw.to_TH2x(
        fTsumw=stats[0],
        fTsumw2=stats[1],
        fTsumwx=stats[2],
        fTsumwx2=stats[3],
        fTsumwy=stats[4],
        fTsumwy2=stats[5],
        fTsumwxy=stats[6],
        fYaxis=yaxis,
        fZaxis=zaxis,
        **common,
    )


def _profile_model(prof: Profile) -> Any:
    s = prof.stats
    sum_w, sum_w2, sum_wy, sum_wy2 = prof.sums(flow=True)
    return _uw.to_TProfile(
        fName=prof.name,
        fTitle=prof.title,
        data=sum_wy,
        fEntries=float(prof.entries),
        fTsumw=s[0],
        fTsumw2=s[1],
        fTsumwx=s[2],
        fTsumwx2=s[3],
        fTsumwy=s[4],
        fTsumwy2=s[5],
        fSumw2=sum_wy2,
        fBinEntries=sum_w,
        fBinSumw2=sum_w2,
        fXaxis=_axis(f"profile '{prof.name}'", "xaxis", prof.edges, prof.x_title, None, {}),
        fYaxis=_uw.to_TAxis(fName="yaxis", fTitle=prof.y_title, fNbins=1, fXmin=0.0, fXmax=1.0),
    )


# --------------------------------------------------------------------------------------------------
# the file


@dataclass(frozen=True)
class TreeBranch:
    """One branch of TrainTree/TestTree.

    Attributes
    ----------
    name : str
        Branch name.
    leaf : str
        ROOT leaf type: ``'I'`` (int32), ``'C'`` (string), ``'F'`` (float32).
    width : int
        0 for a scalar branch, n for a fixed-size array branch ``name[n]``.
    role : str
        ``classID``, ``className``, ``variable``, ``target``, ``spectator``, ``weight`` or ``result``.
    data : ndarray
        One row per event (``(n,)`` or ``(n, width)``); for ``className`` the class index per event.
    """

    name: str
    leaf: Literal["I", "C", "F"]
    width: int
    role: str
    data: npt.NDArray[Any]

    @property
    def root_title(self) -> str:
        """The leaf description ROOT shows (``var1/F``, ``arr[4]/F``, ``className/C``)."""
        dims = f"[{self.width}]" if self.width else ""
        return f"{self.name}{dims}/{self.leaf}"


@dataclass(frozen=True)
class EventTreeColumns:
    """The branches of one TrainTree or TestTree, in TMVA's order, and their data.

    Build with :func:`event_tree_columns`; write with :meth:`OutputFile.write_event_tree`.
    """

    branches: tuple[TreeBranch, ...]
    n_entries: int
    class_names: tuple[str, ...]
    dataset_name: str = ""

    @property
    def names(self) -> list[str]:
        """Branch names in order."""
        return [b.name for b in self.branches]

    def branch(self, name: str) -> TreeBranch:
        """The branch called ``name``."""
        for b in self.branches:
            if b.name == name:
                return b
        raise KeyError(f"no branch '{name}'; branches: {self.names}")

    def branch_types(self) -> dict[str, Any]:
        """Branch types for ``uproot`` ``mktree`` (ordered)."""
        out: dict[str, Any] = {}
        for b in self.branches:
            if b.leaf == "C":
                out[b.name] = "string"
            elif b.leaf == "I":
                out[b.name] = np.dtype(np.int32)
            elif b.width:
                out[b.name] = np.dtype((np.float32, (b.width,)))
            else:
                out[b.name] = np.dtype(np.float32)
        return out

    def chunk(self, start: int, stop: int) -> dict[str, Any]:
        """The rows ``start:stop`` of every branch, ready for ``TTree.extend``."""
        names = ak.Array(list(self.class_names)) if self.class_names else ak.Array([""])
        out: dict[str, Any] = {}
        for b in self.branches:
            part = b.data[start:stop]
            if b.leaf == "C":
                out[b.name] = names[np.asarray(part, dtype=np.int64)]
            elif b.leaf == "I":
                out[b.name] = np.ascontiguousarray(part, dtype=np.int32)
            else:
                out[b.name] = np.ascontiguousarray(part, dtype=np.float32)
        return out


def _discard(file: Any, path: str) -> None:
    """Close the uproot file (ignoring its errors: it is being thrown away) and remove it."""
    with contextlib.suppress(Exception):
        file.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class OutputFile:
    """TMVA's output ``TFile``, written atomically with uproot.

    Parameters
    ----------
    path : str or os.PathLike
        The final file name.  Nothing is written there before :meth:`close`: the content goes to
        a temporary file ``.<name>.pymva-<host>-<pid>-<random>.tmp`` in the same directory
        (:func:`pymva.safety.temporary_name`; a later write removes it if this process is killed
        before it can), which :meth:`close`
        renames onto ``path`` (``os.replace``, atomic on POSIX and Windows).  An earlier file at
        ``path`` stays untouched until then, and untouched for good after :meth:`abort` or an
        exception inside a ``with`` block.
    compression : uproot compression or None
        Passed to ``uproot.recreate`` (default: uproot's, zlib level 1).

    Notes
    -----
    Writing an object under a name that exists already adds a new cycle (``name;2``), as ROOT's
    ``TObject::Write`` does.  An ``OutputFile`` that is garbage-collected without being closed
    removes its temporary file.
    """

    def __init__(self, path: str | os.PathLike[str], *, compression: Any = None) -> None:
        self._path = os.path.abspath(os.fspath(path))
        _, base = os.path.split(self._path)
        if not base:
            raise OptionError(f"output file path {os.fspath(path)!r} names a directory, not a file")
        # created with the usual permissions (0666 minus umask), as ROOT's TFile would
        self._tmp = os.fspath(new_temporary_path(self._path))
        try:
            kwargs = {} if compression is None else {"compression": compression}
            self._file: Any = uproot.recreate(self._tmp, **kwargs)
        except BaseException:
            os.unlink(self._tmp)
            raise
        self._finalizer = weakref.finalize(self, _discard, self._file, self._tmp)
        self._closed = False
        self._names: set[str] = set()

    # -- state ---------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The final path of the file."""
        return self._path

    @property
    def temporary_path(self) -> str:
        """Where the file is being written until :meth:`close`."""
        return self._tmp

    @property
    def closed(self) -> bool:
        """True after :meth:`close` or :meth:`abort`."""
        return self._closed

    @property
    def uproot_file(self) -> Any:
        """The underlying ``uproot.WritableDirectory`` (for objects this class does not cover)."""
        self._check_open()
        return self._file

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<OutputFile {self._path!r} ({state})>"

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"output file {self._path!r} is closed")

    def _record(self, path: str) -> None:
        self._names.add(path)
        parts = path.split("/")
        for k in range(1, len(parts)):
            self._names.add("/".join(parts[:k]))

    def exists(self, path: str) -> bool:
        """Whether this file has written an object or a directory at ``path`` (``a/b/name``)."""
        return path.strip("/") in self._names

    def unique_name(self, directory: str, name: str) -> str:
        """``name``, or ``name_0``, ``name_1``, … if that exists in ``directory`` (TMVA's rule for
        ``InputVariables_<chain>`` directories)."""
        candidate = name
        counter = 0
        while self.exists(_join(directory, candidate)):
            candidate = f"{name}_{counter}"
            counter += 1
        return candidate

    # -- writing -------------------------------------------------------------------------------

    def mkdir(self, path: str) -> None:
        """Create the directory ``path`` (and its parents); nothing happens if it exists."""
        self._check_open()
        path = path.strip("/")
        if path and not self.exists(path):
            self._file.mkdir(path)
            self._record(path)

    def write_histogram(self, directory: str, hist: HistogramLike | Profile | GraphLike) -> None:
        """Write a histogram (TH1F/TH1D/TH2F/TH2D) into ``directory``.

        Titles, axis titles, ``Sumw2`` (from ``variances``), bin labels, entries, statistics,
        drawn range and style are written as :class:`pymva.histograms.Histogram` holds them (another
        object is read as :class:`HistogramLike` describes).  A :class:`~pymva.histograms.Profile`
        is written as a TProfile and a graph (a :class:`~pymva.histograms.Graph`, or an object with
        ``x`` and ``y`` and no ``counts``) as :meth:`write_graph` does, so that the evaluation's
        mixed lists can be written in one loop.

        Raises
        ------
        ValueError
            If the bin arrays do not fit the edges, the edges do not increase, ``root_type`` does
            not fit the number of dimensions, … (the message names the histogram).
        TypeError
            If an object that is not a :class:`~pymva.histograms.Histogram` has no bin edges.
        """
        self._check_open()
        if isinstance(hist, Profile):
            model = _profile_model(hist)
        elif isinstance(hist, Graph) or (
            not hasattr(hist, "counts") and hasattr(hist, "x") and hasattr(hist, "y")
        ):
            model = _graph_model(_as_graph(hist))
        else:
            model = _histogram_model(_as_histogram(hist))
        path = _join(directory, str(hist.name))
        self._file[path] = model
        self._record(path)

    def write_graph(self, directory: str, graph: GraphLike) -> None:
        """Write a TGraph (``x``, ``y``; optional ``x_title``/``y_title``) into ``directory``."""
        self._check_open()
        path = _join(directory, str(graph.name))
        self._file[path] = _graph_model(_as_graph(graph))
        self._record(path)

    def write_histograms(self, directory: str, hists: Iterable[HistogramLike | Profile | GraphLike]) -> None:
        """Write several histograms (or profiles, or graphs) into ``directory``, in order."""
        for h in hists:
            self.write_histogram(directory, h)

    def write_input_variable_plots(self, directory: str, plots: InputVariablePlots) -> None:
        """Write :func:`input_variable_histograms` output: the 1-D plots into ``directory`` and the
        scatter and profile plots into ``directory/CorrelationPlots``."""
        self.mkdir(directory)
        self.write_histograms(directory, plots.histograms)
        if plots.correlation_plot_names:
            self.write_histograms(_join(directory, "CorrelationPlots"), plots.correlation_plots())

    def write_string(self, directory: str, name: str, text: str) -> None:
        """Write a TObjString (``TrainingPath``, ``WeightFileName``)."""
        self._check_open()
        path = _join(directory, name)
        self._file[path] = _uw.to_TObjString(str(text))
        self._record(path)

    def write_event_tree(
        self,
        directory: str,
        name: str,
        columns: EventTreeColumns,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        title: str | None = None,
    ) -> None:
        """Write a TTree (``TrainTree``/``TestTree``) with the branches of ``columns``.

        A real TTree (``mktree`` + ``extend``, never an RNTuple), filled ``chunk_size`` rows per
        ``extend`` (one basket per branch and chunk).  Logs TMVA's ``Created tree '<name>' with
        <n> events``.
        """
        self._check_open()
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        path = _join(directory, name)
        tree = self._file.mktree(path, columns.branch_types(), title=name if title is None else title)
        for start in range(0, columns.n_entries, chunk_size):
            tree.extend(columns.chunk(start, min(start + chunk_size, columns.n_entries)))
        self._record(path)
        prefix = f"Dataset[{columns.dataset_name}] : " if columns.dataset_name else ""
        _log.info(f"{prefix}Created tree '{name}' with {columns.n_entries} events")

    # -- completion ----------------------------------------------------------------------------

    def close(self) -> None:
        """Complete the file and move it onto :attr:`path` (replacing an earlier file there).

        Calling it again does nothing.  If completing fails, the temporary file is removed and the
        earlier file at :attr:`path` stays as it was.
        """
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        try:
            self._file.close()
            os.replace(self._tmp, self._path)
        except BaseException:
            _discard(self._file, self._tmp)
            raise

    def abort(self) -> None:
        """Throw the file away: remove the temporary file; :attr:`path` is left as it was."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        _discard(self._file, self._tmp)

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
