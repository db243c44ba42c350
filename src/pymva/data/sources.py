"""Tree sources: everything in pymva that touches uproot.

A *tree* handed to :meth:`~pymva.data.loader.DataLoader.AddTree` becomes a :class:`TreeSource` here,
which knows its name, its number of entries and its branches, and reads the branches an expression
needs in chunks of entries.  Accepted trees (:func:`open_source`):

* an uproot ``TTree`` or ``RNTuple`` (``uproot.open("file.root")["TreeS"]``);
* a string or :class:`os.PathLike` ``"file.root:TreeS"`` (a tree in a sub-directory:
  ``"file.root:dir/TreeS"``); ``"file.root"`` alone when the file holds exactly one tree;
* a glob (``"data/*.root:events"``), a list of such strings, or a mapping ``{file: tree}``, read one
  file after the other as one chain (ROOT's ``TChain``); an element without a tree name uses the tree
  name of the element before it;
* beyond TMVA, events in memory: a mapping of column name to array (numpy arrays, lists, awkward
  arrays; 2-D numpy arrays and jagged awkward arrays are array branches), a pandas ``DataFrame``,
  an awkward record array, or a numpy structured array.

Everywhere a TTree is accepted, an RNTuple (ROOT's successor format, which uproot ≥ 5.7 writes by
default on ``file[name] = {...}``) is accepted too: its fields are read as branches (nested fields as
``parent.child``), and chains may mix TTrees and RNTuples with the same fields.  "Tree" below means
either.

Files are opened when the tree is added (to count the entries and to report a missing file or tree at
once) and opened again when the data set is built; only the branches that the expressions name are
read, ``step`` entries at a time.

Every problem is a :class:`~pymva.errors.DataError` naming what is wrong and what exists instead:
missing file (and similar file names), missing tree (the trees in the file), missing branch (the
closest branch names).  A string branch used as a number is reported by
:mod:`pymva.data.expression` when the expression is evaluated.
"""

from __future__ import annotations

import glob
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import awkward as ak
import numpy as np
import uproot

from ..errors import DataError, PyMVAError, closest
from .baskets import BasketLayout, iterate_flat, layout_of
from .read_errors import exception_name, open_error, read_error

__all__ = [
    "ChainSource",
    "FileTreeSource",
    "MemorySource",
    "TreeSource",
    "UprootTreeSource",
    "open_source",
    "read_ascii_tree",
    "split_file_spec",
]

#: Arrays of one chunk: branch name to a numpy array (flat numeric branches) or an awkward array.
Arrays = dict[str, Any]

# a file path with ``.root`` followed by ``:object`` (uproot's own rule), e.g. "f.root:dir/TreeS"
_OBJECT_IN_PATH = re.compile(r"^(.+\.root(?:\.[0-9]+)?):(.*)$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_GLOB_CHARS = re.compile(r"[*?\[]")

#: Kinds of branches: usable as numbers, as arrays of numbers, strings, other objects.
NUMBER, ARRAY, STRING, OTHER = "number", "array", "string", "other"


def _list_names(names: Sequence[str], limit: int = 30) -> str:
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f", … ({len(names) - limit} more)"
    return shown or "(none)"


class TreeSource(ABC):
    """Something events can be read from: a tree, a chain of trees, or arrays in memory.

    Attributes
    ----------
    name : str
        The name TMVA prints (``Add Tree <name> of type …``): the tree name, or the kind of
        in-memory object.
    description : str
        Where the events come from, for messages (``tree 'TreeS' in file 'data.root'``).
    """

    name: str
    description: str

    @property
    @abstractmethod
    def num_entries(self) -> int:
        """Number of entries (rows)."""

    @abstractmethod
    def branch_kinds(self) -> dict[str, tuple[str, str]]:
        """Branch name to ``(kind, type name)``; kind is ``number``, ``array``, ``string`` or ``other``."""

    @abstractmethod
    def _iterate(self, branches: Sequence[str], step: int) -> Iterator[Arrays]:
        """Yield chunks of at most ``step`` entries holding the given (existing) branches."""

    def check_branches(self, uses: Iterable[tuple[str, Iterable[str]]]) -> None:
        """Check that every branch exists.

        Whether a branch can be used the way an expression uses it (a string branch only in a
        comparison with a string constant, for instance) is checked when the expression is evaluated.

        Parameters
        ----------
        uses : iterable of (description, branch names)
            E.g. ``("Input expression 'x+y'", {"x", "y"})``.

        Raises
        ------
        DataError
            Naming every missing branch, where it is used, the closest branch names and the available
            ones.
        """
        kinds = self.branch_kinds()
        names = list(kinds)
        problems = []
        for what, branches in uses:
            for b in sorted(set(branches)):
                if b not in kinds:
                    sugg = closest(b, names, n=3, cutoff=0.5)
                    hint = f"; did you mean {' or '.join(repr(s) for s in sugg)}?" if sugg else ""
                    problems.append(
                        f"branch '{b}' used in {what} does not exist in {self.description}{hint} "
                        f"(branches: {_list_names(names)})"
                    )
        if problems:
            raise DataError("; ".join(problems))

    def scalar_branches(self, branches: Iterable[str]) -> bool:
        """Whether every named branch exists and holds exactly one number per entry.

        Then an expression that reads only these branches, without indexing, gives one value per
        entry, and the number of events is known before reading.

        Parameters
        ----------
        branches : iterable of str

        Returns
        -------
        bool
        """
        kinds = self.branch_kinds()
        return all(kinds.get(b, (OTHER, ""))[0] == NUMBER for b in branches)

    def iterate(self, branches: Iterable[str], step: int) -> Iterator[Arrays]:
        """Read ``branches`` in chunks of at most ``step`` entries.

        Parameters
        ----------
        branches : iterable of str
            Branch names (checked with :meth:`check_branches`).  When empty, one numeric branch is
            read anyway so that chunks know their length.
        step : int
            Entries per chunk.

        Yields
        ------
        dict of str to array
            Flat numeric branches as 1-D numpy arrays, everything else as awkward arrays.
        """
        yield from self._iterate(self.wanted_branches(branches), max(int(step), 1))

    def wanted_branches(self, branches: Iterable[str]) -> list[str]:
        """The branches :meth:`iterate` reads for ``branches``: sorted, and one when none is named.

        Parameters
        ----------
        branches : iterable of str

        Returns
        -------
        list of str
            The names sorted; when empty, the first numeric (else array) branch, so that chunks
            know their length.

        Raises
        ------
        DataError
            A branch that does not exist (:meth:`check_branches`).
        """
        wanted = sorted(set(branches))
        self.check_branches([("the expressions", wanted)])
        if not wanted:
            kinds = self.branch_kinds()
            first = next((b for b, (k, _) in kinds.items() if k == NUMBER), None)
            if first is None:
                first = next((b for b, (k, _) in kinds.items() if k == ARRAY), None)
            if first is not None:
                wanted = [first]
        return wanted


def _to_chunk_array(arr: Any) -> Any:
    """Flat numeric awkward arrays become numpy (zero-copy); everything else stays awkward."""
    if isinstance(arr, ak.Array):
        layout = arr.layout
        if isinstance(layout, ak.contents.NumpyArray) and layout.data.ndim == 1:
            return np.asarray(layout.data)
        return arr
    return arr


def _uproot_kind(branch: Any) -> tuple[str, str]:
    """Classify an uproot branch by its interpretation."""
    from uproot.interpretation.identify import UnknownInterpretation
    from uproot.interpretation.jagged import AsJagged
    from uproot.interpretation.numerical import AsDtype
    from uproot.interpretation.objects import AsObjects
    from uproot.interpretation.strings import AsStrings

    typename = str(getattr(branch, "typename", "?"))
    try:
        interp = branch.interpretation
    except (UnknownInterpretation, ValueError, TypeError, KeyError, NotImplementedError):
        return OTHER, typename
    if isinstance(interp, UnknownInterpretation):
        return OTHER, typename
    if isinstance(interp, AsStrings):
        return STRING, typename
    if isinstance(interp, AsDtype):
        dt = interp.to_dtype
        if dt.names:
            return OTHER, typename
        base = dt.subdtype[0] if dt.subdtype else dt
        if base.kind not in "biuf":
            return OTHER, typename
        return (ARRAY if dt.subdtype else NUMBER), typename
    if isinstance(interp, AsJagged):
        content = interp.content
        if isinstance(content, AsDtype) and content.to_dtype.kind in "biuf" and not content.to_dtype.names:
            return ARRAY, typename
        return OTHER, typename
    if isinstance(interp, AsObjects):
        low = typename.lower()
        if "string" in low or "char*" in low:
            return STRING, typename
        return OTHER, typename
    return OTHER, typename


def _is_rntuple(obj: Any) -> bool:
    """Whether ``obj`` is an uproot ``ROOT::RNTuple``."""
    return isinstance(obj, uproot.behaviors.RNTuple.RNTuple)


def _is_uproot_tree(obj: Any) -> bool:
    """Whether ``obj`` is an uproot ``TTree`` or ``ROOT::RNTuple``."""
    return isinstance(obj, uproot.behaviors.TTree.TTree) or _is_rntuple(obj)


def _form_kind(form: Any) -> str:
    """Classify the awkward form of one RNTuple field like :func:`_uproot_kind` a TTree branch."""
    if isinstance(form, ak.forms.NumpyForm):
        if np.dtype(ak.types.numpytype.primitive_to_dtype(form.primitive)).kind not in "biuf":
            return OTHER
        return ARRAY if form.inner_shape else NUMBER
    if isinstance(form, (ak.forms.ListOffsetForm, ak.forms.ListForm, ak.forms.RegularForm)):
        if form.parameters.get("__array__") == "string":
            return STRING
        content = form.content
        if isinstance(content, ak.forms.NumpyForm) and not content.inner_shape:
            return ARRAY if _form_kind(content) == NUMBER else OTHER
        return OTHER
    return OTHER


def _rntuple_field_kinds(ntuple: Any) -> dict[str, tuple[str, str]]:
    """(kind, type name) of every field of an RNTuple, nested ones as ``parent.child``."""
    out: dict[str, tuple[str, str]] = {}
    for key in ntuple.keys(recursive=True, full_paths=True):
        field = ntuple[key]
        typename = str(getattr(field, "typename", "?"))
        try:
            record = field.to_akform()[0]
            form = (
                record.contents[0] if isinstance(record, ak.forms.RecordForm) and record.contents else record
            )
            out[key] = (_form_kind(form), typename)
        except (ValueError, TypeError, KeyError, NotImplementedError, AttributeError):
            out[key] = (OTHER, typename)
    return out


def _object_members(branch: Any) -> list[tuple[tuple[str, ...], str]]:
    """Numeric data members of an object branch (``TVector2 MET``, ``vector<TLorentzVector> p4``).

    ROOT's ``TTreeFormula`` reads them as ``MET.fX``, ``p4.fE``, ``p4.fP.fX`` (one value per entry
    for an object, one per element for a collection of objects).  Returns ``(member path, kind)``
    for every number in the streamed object, nested objects included, without ROOT's bookkeeping
    members (``fUniqueID``, ``fBits``).
    """
    from uproot.interpretation.identify import UnknownInterpretation
    from uproot.interpretation.jagged import AsJagged
    from uproot.interpretation.objects import AsStridedObjects

    try:
        interp = branch.interpretation
    except (UnknownInterpretation, ValueError, TypeError, KeyError, NotImplementedError):
        return []
    jagged = isinstance(interp, AsJagged)
    content = interp.content if jagged else interp
    if not isinstance(content, AsStridedObjects):
        return []
    dtype = content.to_dtype
    out: list[tuple[tuple[str, ...], str]] = []
    for field in dtype.names or ():
        path = tuple(field.split("/"))
        sub = dtype.fields[field][0]
        if any(p.startswith("@") for p in path) or sub.kind not in "biuf" or sub.subdtype is not None:
            continue
        out.append((path, ARRAY if jagged else NUMBER))
    return out


def _tree_branch_kinds(tree: Any) -> dict[str, tuple[str, str]]:
    if _is_rntuple(tree):
        return _rntuple_field_kinds(tree)
    out: dict[str, tuple[str, str]] = {}
    for key in tree.keys(recursive=True, full_paths=True):
        out[key] = _uproot_kind(tree[key])
    for key in tree.keys(recursive=True, full_paths=False):
        if key not in out:
            out[key] = _uproot_kind(tree[key])
    for key, (kind, typename) in list(out.items()):
        if kind != OTHER:
            continue
        for path, member_kind in _object_members(tree[key]):
            name = ".".join((key, *path))
            out.setdefault(name, (member_kind, f"member {'.'.join(path)} of {typename}"))
    return out


def _member_of(name: str, tree: Any) -> tuple[str, tuple[str, ...]] | None:
    """``(branch, member path)`` of a data-member name such as ``MET.fX``; None for a branch."""
    parts = name.split(".")
    for k in range(len(parts) - 1, 0, -1):
        parent = ".".join(parts[:k])
        if parent in tree:
            return parent, tuple(parts[k:])
    return None


_EXECUTOR: Any = None
_EXECUTOR_PID = -1


def decompression_executor() -> Any:
    """The thread pool that decompresses baskets (shared; one thread per usable CPU, at most 8).

    ROOT's compression codecs release the GIL, so the baskets of the branches of one chunk are
    decompressed in parallel while everything else stays in the calling thread.  ``None`` (uproot's
    default, decompression in the calling thread) on a single CPU.  A forked child process gets a new
    pool (threads do not survive ``fork``).
    """
    global _EXECUTOR, _EXECUTOR_PID
    if _EXECUTOR is None or os.getpid() != _EXECUTOR_PID:
        try:
            n_cpu = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not on Linux
            n_cpu = os.cpu_count() or 1
        _EXECUTOR = uproot.ThreadPoolExecutor(min(n_cpu, 8)) if n_cpu > 1 else False
        _EXECUTOR_PID = os.getpid()
    return _EXECUTOR or None


def _iterate_uproot_tree(
    tree: Any,
    branches: Sequence[str],
    step: int,
    kinds: Mapping[str, tuple[str, str]],
    entry_start: int = 0,
    entry_stop: int | None = None,
) -> Iterator[Arrays]:
    """Read the named branches of an uproot tree in chunks (uproot's ``TTree.iterate``).

    Branches are selected by name (``filter_name``), never through uproot's expression language, which
    would read ``a.b`` as an attribute access and ``&`` with Python's precedence.  When every branch
    holds one number per entry they are read as numpy arrays (no awkward wrapping), otherwise as
    awkward arrays.  Only the entries ``[entry_start, entry_stop)`` are read (all by default), in
    chunks of ``step`` starting at ``entry_start``.

    Raises
    ------
    DataError
        If a basket cannot be read or decompressed (a truncated or corrupted file: uproot's
        ``OSError``, ``zlib.error``, ``DeserializationError``, ``ValueError`` …), naming the file, the
        tree, the branch, the basket and its entry range.
    """
    n_entries = int(tree.num_entries) if entry_stop is None else min(int(entry_stop), int(tree.num_entries))
    if n_entries <= entry_start or not branches:
        return
    # data members of object branches (MET.fX) are read through their branch
    members = {b: m for b in branches if b not in tree and (m := _member_of(b, tree)) is not None}
    wanted = frozenset(b for b in branches if b not in members) | {m[0] for m in members.values()}
    flat = not members and all(kinds.get(b, (OTHER, ""))[0] == NUMBER for b in branches)
    whole = int(entry_start) == 0 and n_entries == int(tree.num_entries)
    # the byte-bounded basket reader plans whole trees; an entry range (a Dask partition) reads
    # through uproot's iterate
    layouts = _flat_layouts(tree, branches) if flat and whole else None
    if layouts is not None:
        yield from _iterate_flat_tree(tree, branches, layouts, step)
        return
    start = int(entry_start)
    chunks = tree.iterate(
        filter_name=lambda name: name in wanted,
        step_size=step,
        entry_start=start,
        entry_stop=n_entries,
        library="np" if flat else "ak",
        how=dict,
        decompression_executor=decompression_executor(),
    )
    while True:
        stop = min(start + step, n_entries)
        try:
            chunk = next(chunks, None)
            if chunk is None:
                return
            n = len(next(iter(chunk.values()))) if chunk else min(step, n_entries - start)
            arrays: Arrays = {}
            for name in branches:
                if name in members:
                    parent, path = members[name]
                    obj = (
                        chunk[parent]
                        if parent in chunk
                        else tree[parent].array(entry_start=start, entry_stop=start + n, library="ak")
                    )
                    for field in path:
                        obj = obj[field]
                    arrays[name] = _to_chunk_array(ak.values_astype(obj, np.float64))
                elif name in chunk:
                    arrays[name] = _to_chunk_array(chunk[name])
                else:  # a name uproot reports differently (full path of a sub-branch): read it directly
                    arrays[name] = _to_chunk_array(
                        tree[name].array(entry_start=start, entry_stop=start + n, library="ak")
                    )
        except PyMVAError:
            raise
        except Exception as exc:  # anything uproot raises on a broken file's content
            raise read_error(tree, branches, start, stop, exc) from exc
        start += n
        yield arrays


def _flat_layouts(tree: Any, branches: Sequence[str]) -> dict[str, BasketLayout] | None:
    """The basket layouts of flat numeric TTree branches, or ``None`` to read through ``TTree.iterate``."""
    if _is_rntuple(tree):
        return None
    layouts: dict[str, BasketLayout] = {}
    try:
        for name in branches:
            layout = layout_of(tree[name])
            if layout is None or int(layout.offsets[-1]) < int(tree.num_entries):
                return None
            layouts[name] = layout
    except Exception:  # noqa: BLE001  (odd metadata: the general path reads it or reports it)
        return None
    return layouts


def _iterate_flat_tree(
    tree: Any, branches: Sequence[str], layouts: Mapping[str, BasketLayout], step: int
) -> Iterator[Arrays]:
    """Flat numeric branches in chunks of ``step`` entries, reads bounded by bytes (:mod:`pymva.data.baskets`).

    Raises
    ------
    DataError
        If a basket cannot be read or decompressed, as :func:`_iterate_uproot_tree`.
    """
    chunks = iterate_flat(tree, branches, layouts, step, decompression_executor())
    start = 0
    while True:
        try:
            item = next(chunks, None)
        except PyMVAError:
            raise
        except Exception as exc:  # anything uproot raises on a broken file's content
            raise read_error(tree, branches, start, min(start + step, int(tree.num_entries)), exc) from exc
        if item is None:
            return
        start = item[1]
        yield item[2]


def _kind_word(tree: Any) -> str:
    return "RNTuple" if _is_rntuple(tree) else "tree"


class UprootTreeSource(TreeSource):
    """An uproot ``TTree`` or ``RNTuple`` object handed over by the user (``uproot.open(path)["TreeS"]``)."""

    def __init__(self, tree: Any) -> None:
        self.tree = tree
        self.name = str(tree.name)
        path = getattr(getattr(tree, "file", None), "file_path", "?")
        self.description = (
            f"{_kind_word(tree)} '{tree.object_path.lstrip('/').split(';')[0]}' in file '{path}'"
        )
        self._kinds: dict[str, tuple[str, str]] | None = None

    @property
    def num_entries(self) -> int:
        return int(self.tree.num_entries)

    def branch_kinds(self) -> dict[str, tuple[str, str]]:
        if self._kinds is None:
            try:
                self._kinds = _tree_branch_kinds(self.tree)
            except Exception as exc:  # a broken file's metadata
                raise DataError(
                    f"cannot read the branches of {self.description}: {exception_name(exc)}: {exc}; the "
                    "file is truncated or corrupted"
                ) from exc
        return self._kinds

    def _iterate(self, branches: Sequence[str], step: int) -> Iterator[Arrays]:
        yield from _iterate_uproot_tree(self.tree, branches, step, self.branch_kinds())


def _check_file(path: str) -> None:
    if _URL.match(path) or os.path.exists(path):
        return
    directory = os.path.dirname(path) or "."
    hint = ""
    if os.path.isdir(directory):
        base = os.path.basename(path)
        sugg = closest(base, sorted(os.listdir(directory)), n=3, cutoff=0.5)
        if sugg:
            hint = (
                f"; did you mean {' or '.join(repr(os.path.join(os.path.dirname(path), s)) for s in sugg)}?"
            )
    else:
        hint = f" (directory '{directory}' does not exist either)"
    raise DataError(f"file '{path}' does not exist{hint}")


def _open_file(path: str, treename: str | None = None) -> Any:
    _check_file(path)
    try:
        return uproot.open(path)
    except FileNotFoundError as exc:
        raise DataError(f"file '{path}' does not exist ({exc})") from None
    except PyMVAError:
        raise
    except Exception as exc:  # noqa: BLE001  (whatever uproot raises on a file that is not ROOT's)
        raise open_error(path, treename, exc) from None


def _trees_in(file: Any) -> tuple[list[str], dict[str, str]]:
    """Names (without cycles) of the TTrees in an open file, and the class name of every object."""
    classes: dict[str, str] = {}
    for key, cls in file.classnames().items():
        classes.setdefault(key.split(";")[0], cls)
    trees = [k for k, c in classes.items() if c in _TREE_CLASSES]
    return trees, classes


#: The ROOT classes read as trees: TTree (and its TNtuple subclasses) and RNTuple.
_TREE_CLASSES = ("TTree", "TNtuple", "TNtupleD", "ROOT::RNTuple")


def _get_tree(file: Any, path: str, treename: str | None) -> tuple[Any, str]:
    trees, classes = _trees_in(file)
    if treename is None:
        if len(trees) == 1:
            treename = trees[0]
        elif not trees:
            others = _list_names([f"{k} ({c})" for k, c in classes.items()])
            raise DataError(f"file '{path}' holds no TTree or RNTuple (objects in the file: {others})")
        else:
            raise DataError(
                f"file '{path}' holds several trees (TTrees and RNTuples: {_list_names(trees)}); name the one to read, "
                f"e.g. '{path}:{trees[0]}'"
            )
    name = treename.strip().strip("/")
    if name not in classes:
        sugg = closest(name, trees, n=3, cutoff=0.4)
        hint = f"; did you mean {' or '.join(repr(s) for s in sugg)}?" if sugg else ""
        raise DataError(
            f"no tree '{name}' in file '{path}'{hint} (TTrees and RNTuples in the file: {_list_names(trees)})"
        )
    if name not in trees:
        raise DataError(
            f"'{name}' in file '{path}' is a {classes[name]}, not a TTree or RNTuple "
            f"(TTrees and RNTuples in the file: {_list_names(trees)})"
        )
    return file[name], name


class FileTreeSource(TreeSource):
    """A tree in a ROOT file named by path; the file is opened again for reading.

    Parameters
    ----------
    path : str
        File path or URL.
    treename : str, optional
        Tree name (with sub-directories, ``dir/TreeS``); ``None`` takes the only tree in the file.
    """

    def __init__(self, path: str, treename: str | None = None) -> None:
        self.path = path
        with _open_file(path, treename) as file:
            try:
                tree, self.treename = _get_tree(file, path, treename)
                self._num_entries = int(tree.num_entries)
                self._kinds = _tree_branch_kinds(tree)
                self.name = str(tree.name)
            except PyMVAError:
                raise
            except Exception as exc:  # a broken file's directory or tree metadata
                raise open_error(path, treename, exc) from exc
        self.description = f"{_kind_word(tree)} '{self.treename}' in file '{path}'"

    @property
    def num_entries(self) -> int:
        return self._num_entries

    def branch_kinds(self) -> dict[str, tuple[str, str]]:
        return self._kinds

    def _iterate(self, branches: Sequence[str], step: int) -> Iterator[Arrays]:
        with _open_file(self.path, self.treename) as file:
            try:
                tree, _ = _get_tree(file, self.path, self.treename)
            except PyMVAError:
                raise
            except Exception as exc:  # the file changed since the tree was added
                raise open_error(self.path, self.treename, exc) from exc
            yield from _iterate_uproot_tree(tree, branches, step, self._kinds)


class ChainSource(TreeSource):
    """Several trees read one after the other as one (ROOT's ``TChain``)."""

    def __init__(self, parts: Sequence[TreeSource]) -> None:
        if not parts:
            raise DataError("a chain needs at least one file")
        self.parts = list(parts)
        self.name = self.parts[0].name
        files = [getattr(p, "path", p.description) for p in self.parts]
        self.description = f"chain '{self.name}' of {len(self.parts)} files ({_list_names(files, 5)})"

    @property
    def num_entries(self) -> int:
        return sum(p.num_entries for p in self.parts)

    def branch_kinds(self) -> dict[str, tuple[str, str]]:
        """The branches of the first file (every file is checked again when it is read)."""
        return self.parts[0].branch_kinds()

    def check_branches(self, uses: Iterable[tuple[str, Iterable[str]]]) -> None:
        materialised = [(what, list(b)) for what, b in uses]
        for part in self.parts:
            part.check_branches(materialised)

    def scalar_branches(self, branches: Iterable[str]) -> bool:
        """Whether the branches hold one number per entry in every file of the chain."""
        names = list(branches)
        return all(part.scalar_branches(names) for part in self.parts)

    def _iterate(self, branches: Sequence[str], step: int) -> Iterator[Arrays]:
        for part in self.parts:
            yield from part.iterate(branches, step)


def _column_kind(arr: Any) -> tuple[str, str]:
    if isinstance(arr, np.ndarray):
        if arr.dtype.kind in "biuf":
            return (NUMBER if arr.ndim == 1 else ARRAY), str(arr.dtype)
        if arr.dtype.kind in "OSU" and arr.size and isinstance(arr.flat[0], (str, bytes)):
            return STRING, str(arr.dtype)
        return OTHER, str(arr.dtype)
    typestr = str(ak.type(arr))
    if "string" in typestr or "bytes" in typestr:
        return STRING, typestr
    layout = arr.layout
    if isinstance(layout, ak.contents.NumpyArray) and layout.data.ndim == 1:
        return NUMBER, typestr
    return ARRAY, typestr


def _object_column(name: str, arr: np.ndarray, where: str) -> Any:
    """An ``object`` array: numbers become a numeric array, sequences a jagged awkward array, strings
    stay strings; anything else (Python objects, dicts, ``None``) is refused."""
    items = arr.tolist()
    if all(isinstance(v, (str, bytes)) for v in items):
        return arr
    if all(isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) for v in items):
        return np.asarray(items, dtype=np.float64)
    if all(isinstance(v, (list, tuple, np.ndarray)) for v in items):
        try:
            return ak.Array([np.asarray(v).tolist() for v in items])
        except (ValueError, TypeError):
            pass
    kinds = sorted({f"{type(v).__module__}.{type(v).__name__}".removeprefix("builtins.") for v in items})
    shown = ", ".join(kinds[:5]) + (", …" if len(kinds) > 5 else "")
    raise DataError(
        f"column '{name}' of the {where} holds Python objects (dtype object: {shown}); a column must "
        "hold numbers, arrays of numbers or strings, one kind per column and one per entry"
    )


def _as_column(name: str, value: Any, where: str = "in-memory tree") -> Any:
    """One column of an in-memory tree as a numpy or awkward array with one element per entry.

    Raises
    ------
    DataError
        A scalar (or 0-d array, ``None``, a string) instead of one value per entry, an ``object``
        array of Python objects, or lists that do not form an array.
    """
    if isinstance(value, ak.Array):
        if isinstance(value.layout, ak.contents.NumpyArray) and value.layout.data.ndim == 1:
            return np.asarray(value.layout.data)
        return value
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            raise DataError(
                f"column '{name}' of the {where} is a single value ({value.dtype} {value!r}); give one "
                "value per entry (an array or a list)"
            )
        if value.dtype == object:
            rows = value if value.ndim == 1 else value.reshape(len(value), -1)
            return _object_column(name, rows, where)
        if value.ndim >= 2 and value.dtype.kind in "biuf":
            return ak.from_numpy(value, regulararray=True)
        return value
    if hasattr(value, "to_numpy") and not isinstance(value, (list, tuple)):  # pandas.Series and the like
        return _as_column(name, np.asarray(value.to_numpy()), where)
    if value is None or isinstance(value, (str, bytes, int, float, complex, np.generic)):
        raise DataError(
            f"column '{name}' of the {where} is a single value ({type(value).__name__} {value!r}); give "
            "one value per entry (an array or a list)"
        )
    if not hasattr(value, "__len__"):
        raise DataError(
            f"column '{name}' of the {where} is a {type(value).__name__}, not an array or a list with "
            "one value per entry"
        )
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # ragged lists
        try:
            return ak.Array(value)
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"column '{name}' of the {where} cannot be read as an array ({type(exc).__name__}: {exc})"
            ) from None
    if arr.dtype == object and arr.size and isinstance(arr.flat[0], (list, tuple, np.ndarray)):
        try:
            return ak.Array(list(value))
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"column '{name}' of the {where} cannot be read as an array ({type(exc).__name__}: {exc})"
            ) from None
    return _as_column(name, arr, where)


class MemorySource(TreeSource):
    """Columns in memory: numpy arrays, awkward arrays or lists of equal length.

    Parameters
    ----------
    columns : mapping of str to array
    name : str
        Printed as the tree name.
    description : str, optional
        For messages.
    """

    def __init__(
        self, columns: Mapping[str, Any], name: str = "dict", description: str | None = None
    ) -> None:
        self.name = name
        self.description = description or f"in-memory {name}"
        self.columns: dict[str, Any] = {}
        for key, value in columns.items():
            if not isinstance(key, str):
                raise DataError(f"column names of an in-memory tree must be strings, not {key!r}")
            self.columns[key] = _as_column(key, value, self.description)
        lengths = {k: len(v) for k, v in self.columns.items()}
        if len(set(lengths.values())) > 1:
            raise DataError(
                f"the columns of the {self.description} have different lengths: "
                + ", ".join(f"{k}: {n}" for k, n in lengths.items())
            )
        self._n = next(iter(lengths.values()), 0)

    @property
    def num_entries(self) -> int:
        return self._n

    def branch_kinds(self) -> dict[str, tuple[str, str]]:
        return {k: _column_kind(v) for k, v in self.columns.items()}

    def _iterate(self, branches: Sequence[str], step: int) -> Iterator[Arrays]:
        for start in range(0, self._n, step):
            yield {b: self.columns[b][start : start + step] for b in branches}


def split_file_spec(spec: str) -> tuple[str, str | None]:
    """Split ``"file.root:tree"`` into ``("file.root", "tree")``; ``("file.root", None)`` without tree.

    As uproot does, the object path follows a colon after ``.root``; for other file names the part after
    the last colon is taken as the tree name when it is not part of a URL or a Windows drive.
    """
    text = spec.strip()
    m = _OBJECT_IN_PATH.match(text)
    if m:
        obj = m.group(2).strip().strip("/")
        return m.group(1), (obj or None)
    head, sep, tail = text.rpartition(":")
    is_drive = len(head) == 1 and head.isalpha()  # "C:\..." is a drive, not a tree
    if sep and head and tail and "/" not in tail and "\\" not in tail and not is_drive:
        return head, tail
    return text, None


def _expand(spec: str) -> list[tuple[str, str | None]]:
    path, tree = split_file_spec(spec)
    if not _URL.match(path) and _GLOB_CHARS.search(path) and not os.path.exists(path):
        files = sorted(glob.glob(path))
        if not files:
            raise DataError(f"no file matches '{path}'")
        return [(f, tree) for f in files]
    return [(path, tree)]


def _is_text_file(path: str) -> bool:
    if path.endswith(".root") or _URL.match(path) or not os.path.isfile(path):
        return False
    with open(path, "rb") as fh:
        head = fh.read(4)
    return head != b"root"


def read_ascii_tree(path: str, name: str) -> MemorySource:
    """Read a text file in the format of ROOT's ``TTree::ReadFile`` into an in-memory tree.

    The first line names the columns, separated by ``:``, each optionally with a type
    (``x/F:y/F:n/I``); the following lines hold whitespace-separated numbers.  TMVA's
    ``AddSignalTree("file.txt")`` and ``AddBackgroundTree("file.txt")`` read files like this into trees
    named ``TreeS`` and ``TreeB``.

    Raises
    ------
    DataError
        A missing file, an empty header, or rows that do not have one number per column.
    """
    _check_file(path)
    with open(path) as fh:
        header = fh.readline().strip()
        if not header:
            raise DataError(f"text file '{path}' has no header line naming the columns (e.g. 'x/F:y/F')")
        names = []
        types = []
        for part in header.split(":"):
            col, _, typ = part.strip().partition("/")
            if not col:
                raise DataError(f"empty column name in the header '{header}' of '{path}'")
            names.append(col)
            types.append(typ.upper() or "F")
        try:
            data = np.loadtxt(fh, ndmin=2, dtype=np.float64)
        except ValueError as exc:
            raise DataError(f"cannot read the numbers in text file '{path}': {exc}") from None
    if data.size and data.shape[1] != len(names):
        raise DataError(
            f"text file '{path}': rows have {data.shape[1]} numbers but the header names {len(names)} columns"
        )
    if not data.size:
        data = np.zeros((0, len(names)))
    cols: dict[str, Any] = {}
    for i, (col, typ) in enumerate(zip(names, types, strict=True)):
        dtype = {"F": np.float32, "D": np.float64, "I": np.int32, "L": np.int64}.get(typ, np.float64)
        cols[col] = data[:, i].astype(dtype)
    return MemorySource(cols, name=name, description=f"tree '{name}' read from text file '{path}'")


def open_source(tree: Any, *, ascii_name: str | None = None) -> TreeSource:
    """Turn the ``tree`` argument of ``AddTree`` into a :class:`TreeSource`.

    Parameters
    ----------
    tree : object
        See the module documentation for what is accepted.
    ascii_name : str, optional
        Tree name for a path to a text file (``TreeS``/``TreeB`` for ``AddSignalTree``/
        ``AddBackgroundTree``); without it, text files are not accepted.

    Raises
    ------
    DataError
        A missing file or tree, a glob that matches nothing, or an object that is not a tree.
    """
    if isinstance(tree, TreeSource):
        return tree
    if _is_uproot_tree(tree):
        return UprootTreeSource(tree)
    wrapped = getattr(tree, "uproot_tree", None)  # pymva.io.rootfile.TTree, the ROOT-style wrapper
    if _is_uproot_tree(wrapped):
        return UprootTreeSource(wrapped)
    if isinstance(tree, (str, os.PathLike)):
        spec = os.fspath(tree)
        if not isinstance(spec, str):
            spec = spec.decode()
        if (
            ascii_name is not None
            and _is_text_file(split_file_spec(spec)[0])
            and split_file_spec(spec)[1] is None
        ):
            return read_ascii_tree(spec, ascii_name)
        return _chain_or_file(_expand(spec))
    if isinstance(tree, (list, tuple)) and tree and all(isinstance(t, (str, os.PathLike)) for t in tree):
        parts: list[tuple[str, str | None]] = []
        for t in tree:
            s = os.fspath(t)
            parts.extend(_expand(s if isinstance(s, str) else s.decode()))
        return _chain_or_file(parts)
    if isinstance(tree, Mapping) and tree and all(isinstance(v, str) for v in tree.values()):
        parts = []
        for f, t in tree.items():
            parts.extend((p, t) for p, _ in _expand(os.fspath(f)))
        return _chain_or_file(parts)
    if isinstance(tree, Mapping):
        return MemorySource(tree, name="dict")
    if isinstance(tree, ak.Array):
        fields = ak.fields(tree)
        if not fields:
            raise DataError(
                "an awkward Array used as a tree must be a record array (fields are the branches), "
                f"got type {ak.type(tree)}"
            )
        return MemorySource({f: tree[f] for f in fields}, name="awkward.Array")
    if isinstance(tree, np.ndarray) and tree.dtype.names:
        return MemorySource({f: tree[f] for f in tree.dtype.names}, name="ndarray")
    if hasattr(tree, "columns") and hasattr(tree, "to_numpy"):  # pandas.DataFrame
        cols = {str(c): tree[c] for c in tree.columns}
        return MemorySource(cols, name=type(tree).__name__)
    raise DataError(
        f"cannot read events from a {type(tree).__module__}.{type(tree).__name__}; pass an uproot TTree or RNTuple, "
        "'file.root:tree', a glob or list of such strings, a dict of arrays, a pandas DataFrame or an "
        "awkward record array"
    )


def _chain_or_file(parts: list[tuple[str, str | None]]) -> TreeSource:
    sources: list[TreeSource] = []
    last: str | None = None
    for path, tree in parts:
        name = tree if tree is not None else last
        src = FileTreeSource(path, name)
        last = src.treename
        sources.append(src)
    return sources[0] if len(sources) == 1 else ChainSource(sources)
