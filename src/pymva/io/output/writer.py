"""The output ROOT file of a Factory as a file: :class:`OutputFile` (TMVA's ``TFile`` passed to
``Factory(jobName, outputFile)``), written with uproot, never with ROOT.

:class:`OutputFile` writes into a temporary file next to the final path and
renames it onto that path only when :meth:`OutputFile.close` completes, so an exception or an
interrupt never leaves a truncated file in place of an earlier good one.  It writes histograms
(:class:`hist.Hist`, as TH1F/TH1D/TH2F/TH2D or TProfile; converted by
:func:`pymva.histograms.to_writable`), graphs (:class:`pymva.histograms.Graph` or
:class:`GraphLike`) as TGraph, strings (TObjString) and the event trees
(:class:`EventTreeColumns`, laid out by :func:`pymva.io.output.layout.event_tree_columns`).

What goes where in the file is :mod:`pymva.io.output.layout`.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol, runtime_checkable

import awkward as ak
import boost_histogram as bh
import numpy as np
import numpy.typing as npt
import uproot
import uproot.writing.identify as _uw

from ...errors import OptionError
from ...histograms import Graph, to_writable
from ...logger import get_logger
from ...safety import new_temporary_path
from .plots import InputVariablePlots
from .ttree import key_header_size, tree_metadata

_log = get_logger("DataSet", "pymva.io.output")


#: Rows per ``TTree.extend`` call (one basket per branch each).
DEFAULT_CHUNK_SIZE = 100_000


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
# paths and graphs (histograms are converted by pymva.histograms.to_writable)


def _join(directory: str, name: str) -> str:
    directory = directory.strip("/")
    return f"{directory}/{name}" if directory else name


def _title(obj: Any, attr: str) -> str:
    """An optional title attribute of a duck-typed object; ``""`` when missing or ``None``."""
    return str(getattr(obj, attr, "") or "")


def _as_graph(graph: Any) -> Graph:
    """``graph`` itself if it is a :class:`Graph`, else a :class:`Graph` of its attributes (:class:`GraphLike`).

    Raises
    ------
    TypeError
        If ``graph`` has not ``name``, ``title``, ``x`` and ``y``.
    """
    if isinstance(graph, Graph):
        return graph
    missing = [a for a in ("name", "title", "x", "y") if not hasattr(graph, a)]
    if missing:
        raise TypeError(
            f"cannot write a {type(graph).__name__}: neither a histogram (hist.Hist) nor a graph "
            f"(it lacks {', '.join(missing)})"
        )
    return Graph(
        str(graph.name),
        str(graph.title),
        graph.x,
        graph.y,
        _title(graph, "x_title"),
        _title(graph, "y_title"),
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
        0 for a scalar branch, n for a fixed-size array branch ``name[n]`` or a list of n leaves.
    role : str
        ``classID``, ``className``, ``variable``, ``target``, ``spectator``, ``weight`` or ``result``.
    data : ndarray
        One row per event (``(n,)`` or ``(n, width)``); for ``className`` the class index per event.
    leaves : tuple of str
        Empty for a branch with one leaf named as the branch; else the names of its ``/F`` leaves
        (TMVA's multiclass and regression results: ``Signal/F:Bkg0/F:…``, ``fvalue/F``), as many as
        values per event (``width``, or 1 with ``width`` 0).
    """

    name: str
    leaf: Literal["I", "C", "F"]
    width: int
    role: str
    data: npt.NDArray[Any]
    leaves: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.leaves and (self.leaf != "F" or len(self.leaves) != max(self.width, 1)):
            raise ValueError(
                f"branch '{self.name}': {len(self.leaves)} leaves {list(self.leaves)} for "
                f"{max(self.width, 1)} values of type {self.leaf} per event; one /F leaf per value is accepted"
            )

    @property
    def root_title(self) -> str:
        """The branch title ROOT shows (``var1/F``, ``arr[4]/F``, ``className/C``, ``Signal/F:Bkg0/F``)."""
        if self.leaves:
            return ":".join(f"{leaf}/F" for leaf in self.leaves)
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


def _restream_metadata(file: Any, tree: Any, leaf_lists: dict[str, tuple[str, ...]]) -> None:
    """Replace the metadata uproot wrote for ``tree`` (after its last ``extend``) by pymva's.

    uproot's own relocation (``Tree._relocate``: a new key for the metadata, the old space freed,
    the file's tree cache moved) writes what the tree's ``_build_out`` returns; that is made to return
    :func:`~pymva.io.output.ttree.tree_metadata`'s blob, for good: the tree is not extended again.
    """
    casc = tree._cascading
    raw = tree_metadata(casc, leaf_lists)
    casc._build_out = lambda: [raw]
    casc._relocate(file, file.sink)
    expected = key_header_size(casc._name, casc._title)
    if casc._key.num_bytes != expected:  # the pointers inside ``raw`` count from the key's start
        raise RuntimeError(
            f"tree '{casc._name}': uproot wrote a {casc._key.num_bytes}-byte key header, pymva "
            f"expected {expected}; the leaf references would be wrong"
        )


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

    def write_histogram(self, directory: str, hist: bh.Histogram[Any] | Graph | GraphLike) -> None:
        """Write a histogram into ``directory`` as TMVA would: TH1F/TH1D/TH2F/TH2D, TProfile or TGraph.

        ``hist`` is a :class:`hist.Hist` (any ``boost_histogram.Histogram``), converted by
        :func:`pymva.histograms.to_writable` (class, title, axis titles, ``Sumw2``, bin labels,
        entries, statistics, drawn range and style from the histogram and its ``metadata``), or
        a graph (a :class:`~pymva.histograms.Graph`, or an object with ``name``, ``x`` and ``y``)
        written as :meth:`write_graph` does, so that the evaluation's mixed lists can be written in
        one loop.  The key is the histogram's ``name``.

        Raises
        ------
        ValueError
            If the histogram has no name, its ``metadata["classname"]`` does not fit it, … (see
            :func:`pymva.histograms.to_writable`; the message names the histogram).
        TypeError
            If ``hist`` is neither a histogram nor a graph.
        """
        self._check_open()
        model = to_writable(hist if isinstance(hist, bh.Histogram) else _as_graph(hist))
        path = _join(directory, str(getattr(hist, "name", "")))
        self._file[path] = model
        self._record(path)

    def write_graph(self, directory: str, graph: Graph | GraphLike) -> None:
        """Write a TGraph (``x``, ``y``; optional ``x_title``/``y_title``) into ``directory``."""
        self._check_open()
        path = _join(directory, str(graph.name))
        self._file[path] = to_writable(_as_graph(graph))
        self._record(path)

    def write_histograms(
        self, directory: str, hists: Iterable[bh.Histogram[Any] | Graph | GraphLike]
    ) -> None:
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
        ``extend`` (one basket per branch and chunk).  Its metadata is then streamed again by
        :func:`pymva.io.output.ttree.tree_metadata`, which gives the branches with ``leaves`` their
        leaf lists and ``className/C`` the ``TLeafC`` members ROOT sets.  Logs TMVA's ``Created tree '<name>' with
        <n> events``.
        """
        self._check_open()
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        path = _join(directory, name)
        tree = self._file.mktree(path, columns.branch_types(), title=name if title is None else title)
        for start in range(0, columns.n_entries, chunk_size):
            tree.extend(columns.chunk(start, min(start + chunk_size, columns.n_entries)))
        _restream_metadata(self._file.file, tree, {b.name: b.leaves for b in columns.branches if b.leaves})
        self._record(path)
        prefix = f"Dataset[{columns.dataset_name}] : " if columns.dataset_name else ""
        _log.info(f"{prefix}Created tree '{name}' with {columns.n_entries} events")

    def write_event_tree_chunks(
        self,
        directory: str,
        name: str,
        parts: Iterable[EventTreeColumns],
        *,
        title: str | None = None,
    ) -> int:
        """Write a TTree from successive blocks of rows, one ``TTree.extend`` per block (pymva).

        For samples that are not held in memory (``Streaming=True``): the first block gives the
        branches (``mktree``), every block is appended as it comes, so memory stays one block; the
        metadata is then streamed again as in :meth:`write_event_tree`.  The blocks must have the
        same branches.  Logs TMVA's ``Created tree`` line.

        Returns
        -------
        int
            Number of entries written.

        Raises
        ------
        ValueError
            A block whose branches differ from the first block's, or no block at all.
        """
        self._check_open()
        path = _join(directory, name)
        tree = None
        first: EventTreeColumns | None = None
        n = 0
        for part in parts:
            if first is None:
                first = part
                tree = self._file.mktree(path, part.branch_types(), title=name if title is None else title)
            elif part.branch_types() != first.branch_types():
                raise ValueError(f"tree {path}: a block has branches {part.names}, the first {first.names}")
            if part.n_entries:
                assert tree is not None
                tree.extend(part.chunk(0, part.n_entries))
                n += part.n_entries
        if first is None or tree is None:
            raise ValueError(f"tree {path}: no blocks of rows to write")
        _restream_metadata(self._file.file, tree, {b.name: b.leaves for b in first.branches if b.leaves})
        self._record(path)
        prefix = f"Dataset[{first.dataset_name}] : " if first.dataset_name else ""
        _log.info(f"{prefix}Created tree '{name}' with {n} events")
        return n

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
