"""ROOT's ``TFile``, ``TTree`` and ``TString`` as PyROOT scripts use them, on top of uproot.

With these, a script written for ROOT's TMVA tutorials runs with only its import line changed
(``from pymva import TMVA, TFile, TTree, TCut, TString``)::

    data = TFile.Open("tmva_class_example.root")
    signal = data.Get("TreeS")
    for branch in signal.GetListOfBranches():
        dataloader.AddVariable(branch.GetName())
    dataloader.AddSignalTree(signal, 1.0)                 # the wrapper carries the uproot tree

    output = TFile.Open("TMVA.root", "RECREATE")
    factory = TMVA.Factory("TMVAClassification", output, "!V:AnalysisType=Classification")

    var1 = array("f", [0.0])
    signal.SetBranchAddress("var1", var1)
    for i in range(20):
        signal.GetEntry(i)                                # var1[0] now holds entry i
        ...

What is mirrored
----------------
* :class:`TFile`: ``TFile.Open(name, option)`` and ``TFile(name, option)``; option ``READ`` (also
  ``""``) opens the file with :func:`uproot.open`; ``RECREATE``, ``NEW`` and ``CREATE`` give a
  handle for the output file of a :class:`~pymva.factory.Factory`.  ``Get`` (also ``file.name``
  attribute access, as PyROOT allows), ``GetListOfKeys``, ``GetName``, ``GetOption``, ``IsOpen``,
  ``IsZombie``, ``IsWritable``, ``Close``, and the ``with`` statement.  ``Get`` returns the same
  :class:`TTree` object for the same name, as ROOT returns the same in-memory tree.
* :class:`TTree`: ``GetName``, ``GetTitle``, ``GetEntries``, ``GetListOfBranches``, ``GetBranch``,
  ``SetBranchAddress`` with ``array.array`` or numpy buffers, ``ResetBranchAddresses``,
  ``GetEntry``, ``GetReadEntry``, iteration over entries and branch values as attributes
  (``for event in tree: event.var1``), as PyROOT offers.  ``GetEntry`` reads the branches it needs
  :attr:`TTree.chunk_entries` entries at a time and serves the following entries from memory, so an
  entry loop is not one file read per entry.
* :class:`TString`: a :class:`str` with ``Data()``, ``Length()``, ``Append()`` (which returns the
  new string: Python strings cannot change), ``IsNull``, ``Contains``, ``BeginsWith``, ``EndsWith``.
* ``TTree.Print()``: the tree's branches in the layout of ROOT's ``TTree::Print``.
* The figure that ``Factory.GetROCCurve(loader)`` returns is a matplotlib ``Figure`` with ROOT's
  ``TCanvas`` methods ``SaveAs``, ``Print`` and ``Draw`` added (:func:`canvas_class`).

What is not
-----------
* Writing: a file opened ``RECREATE``/``NEW``/``CREATE`` only carries its path; the Factory writes the
  whole file, atomically, at the end of ``EvaluateAllMethods``.  Nothing else can be written into it,
  nothing is created on disk by ``TFile.Open`` itself, and ``UPDATE`` is refused
  (:class:`~pymva.errors.OptionError`).
* Errors raise instead of returning ``None`` (PyROOT's null pointer) or a zombie file: a missing
  file or key is a :class:`~pymva.errors.DataError` naming what exists.  An unknown option is an
  ``OptionError`` (ROOT silently opens the file for reading).
* ``SetBranchAddress`` converts the values to the buffer's type (``array('f')`` bound to a
  ``double`` branch receives floats); in ROOT the buffer must have the branch's type.  String
  branches cannot be bound (read them as attributes); ``std::vector`` branches are filled like
  variable-size arrays.
* Creating trees (``TTree(name, title)``), ``Fill``, ``Draw``, ``Scan``, ``SetBranchStatus``, friend
  trees, ``TChain``, sub-directories as ``TDirectory`` objects (``Get`` returns uproot's objects for
  anything that is not a tree) and every other ROOT class.

Size: over 800 lines on purpose — ``TFile``, ``TTree``, ``TBranch``, ``TKey`` and ``TString`` are used
together by the same scripts and share their uproot bindings.
"""

from __future__ import annotations

import array
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt
from numpy.lib.recfunctions import structured_to_unstructured

from ..errors import DataError, OptionError, did_you_mean
from ..logger import get_logger

__all__ = [
    "DEFAULT_CHUNK_ENTRIES",
    "TBranch",
    "TCollection",
    "TFile",
    "TKey",
    "TString",
    "TTree",
    "canvas_class",
    "output_file_path",
]

#: Entries that :meth:`TTree.GetEntry` reads at once (per bound branch) and keeps in memory.
DEFAULT_CHUNK_ENTRIES: Final = 10_000

_READ_OPTIONS: Final = ("READ", "")
_WRITE_OPTIONS: Final = ("RECREATE", "NEW", "CREATE")
_ALL_OPTIONS: Final = ("READ", "RECREATE", "NEW", "CREATE", "UPDATE")
#: TCanvas::SaveAs formats that only ROOT writes (a macro, a ROOT file, XML/JSON, TeX)
_ROOT_FORMATS: Final = ("c", "cxx", "root", "xml", "json", "tex")

_T = TypeVar("_T")

_log = get_logger("TFile", "pymva.io.rootfile")


# ------------------------------------------------------------------------------------------------ TString
class TString(str):
    """ROOT's ``TString``: a Python :class:`str` with ROOT's accessors.

    ``TString("dataset/weights/x.weights.xml")`` can be passed wherever pymva takes a string.

    Examples
    --------
    >>> TString("abc").Data()
    'abc'
    """

    __slots__ = ()

    def Data(self) -> str:
        """The string itself (ROOT: the ``const char*`` buffer)."""
        return self

    def Length(self) -> int:
        """Number of characters."""
        return len(self)

    def Append(self, s: str, n: int | None = None) -> TString:
        """``s`` (or its first ``n`` characters) appended: ``name = name.Append(".root")``.

        ROOT's ``TString::Append`` changes the string in place and returns it; a Python string
        cannot change, so this returns the new string, which must be kept (``s.Append(x)`` alone
        changes nothing).  Chains work as in ROOT: ``TString("a").Append("b").Append("c")``.
        """
        text = str(s) if n is None else str(s)[: int(n)]
        return TString(str(self) + text)

    def __add__(self, other: str) -> TString:
        return TString(str(self) + str(other))

    def __radd__(self, other: str) -> TString:
        return TString(str(other) + str(self))

    def IsNull(self) -> bool:
        """Whether the string is empty."""
        return not self

    def Contains(self, s: str) -> bool:
        """Whether ``s`` occurs in the string."""
        return str(s) in self

    def BeginsWith(self, s: str) -> bool:
        """Whether the string starts with ``s``."""
        return self.startswith(str(s))

    def EndsWith(self, s: str) -> bool:
        """Whether the string ends with ``s``."""
        return self.endswith(str(s))


# ------------------------------------------------------------------------------------------------ lists
class TCollection(list[_T]):
    """The lists ROOT returns (``TObjArray`` of branches, ``TList`` of keys): a Python :class:`list`.

    Iteration, ``len`` and indexing work as on a list; ROOT's accessors are added.
    """

    def GetEntries(self) -> int:
        """Number of elements."""
        return len(self)

    def GetSize(self) -> int:
        """Number of elements."""
        return len(self)

    def At(self, idx: int) -> _T | None:
        """Element ``idx``, or ``None`` out of range (as ROOT's ``TObjArray::At``)."""
        return self[idx] if 0 <= idx < len(self) else None

    def FindObject(self, name: str) -> _T | None:
        """The first element whose ``GetName()`` is ``name``, or ``None``."""
        for obj in self:
            if getattr(obj, "GetName", lambda: None)() == name:
                return obj
        return None


# ------------------------------------------------------------------------------------------------ TKey
@dataclass(frozen=True)
class TKey:
    """One key of a file's top directory (``TFile.GetListOfKeys()``).

    Attributes
    ----------
    name : str
        Object name without the cycle.
    class_name : str
        ROOT class name (``"TTree"``, ``"TH1F"``, ``"TDirectory"`` …).
    cycle : int
        Cycle number.
    title : str
        The object's title as stored in the key.
    file : TFile
        The file the key belongs to (for :meth:`ReadObj`).
    """

    name: str
    class_name: str
    cycle: int
    title: str
    file: TFile = field(repr=False, compare=False)

    def GetName(self) -> str:
        """Object name without the cycle."""
        return self.name

    def GetClassName(self) -> str:
        """ROOT class name of the object."""
        return self.class_name

    def GetCycle(self) -> int:
        """Cycle number."""
        return self.cycle

    def GetTitle(self) -> str:
        """The object's title."""
        return self.title

    def ReadObj(self) -> Any:
        """The object, as :meth:`TFile.Get` returns it."""
        return self.file.Get(f"{self.name};{self.cycle}")


# ------------------------------------------------------------------------------------------------ TBranch
class TBranch:
    """A branch of a :class:`TTree` (``tree.GetListOfBranches()``, ``tree.GetBranch(name)``).

    Parameters
    ----------
    branch : uproot.TBranch or uproot RField
        The branch read by uproot (or a field of an RNTuple); kept as :attr:`uproot_branch`.
    """

    def __init__(self, branch: Any) -> None:
        self.uproot_branch = branch

    def GetName(self) -> str:
        """Branch name."""
        return str(self.uproot_branch.name)

    def GetTitle(self) -> str:
        """Branch title: ROOT's leaf list, e.g. ``"var1/F"`` or ``"Jet_Px[NJet]/F"`` (an RNTuple
        field has none: its type name, e.g. ``"float"``)."""
        title = getattr(self.uproot_branch, "title", None)
        return str(title if title is not None else self.uproot_branch.typename)

    def GetEntries(self) -> int:
        """Number of entries."""
        return int(self.uproot_branch.num_entries)

    def GetListOfBranches(self) -> TCollection[TBranch]:
        """Sub-branches (split objects, or the sub-fields of an RNTuple record); empty for simple branches."""
        children = getattr(self.uproot_branch, "branches", None)
        if children is None:  # an RNTuple field
            children = self.uproot_branch.fields
        return TCollection(TBranch(b) for b in children)

    def __repr__(self) -> str:
        return f"<TBranch {self.GetName()!r} ({self.uproot_branch.typename})>"


# ------------------------------------------------------------------------------------------------ TTree
#: Kinds of branch values as SetBranchAddress fills them.
_SCALAR, _FIXED, _VARIABLE, _STRING = "scalar", "fixed-size array", "variable-size array", "string"


def _branch_kind(branch: Any) -> tuple[str, int]:
    """Kind of a branch's values and, for fixed-size arrays, the number of elements per entry."""
    from uproot.interpretation.jagged import AsJagged
    from uproot.interpretation.numerical import AsDtype
    from uproot.interpretation.strings import AsStrings

    if not hasattr(branch, "interpretation"):  # an RNTuple field
        return _field_kind(branch)
    interp = branch.interpretation
    if isinstance(interp, AsDtype):
        if interp.to_dtype.names:  # a leaf list (``Signal/F:Bkg0/F``): its leaves one after the other
            return _FIXED, len(interp.to_dtype.names)
        shape = interp.to_dtype.shape
        if shape == ():
            return _SCALAR, 1
        return _FIXED, int(np.prod(shape))
    if isinstance(interp, AsJagged):
        return _VARIABLE, 0
    if isinstance(interp, AsStrings):
        return _STRING, 0
    return _VARIABLE, 0  # std::vector and other objects: converted element-wise when read


def _field_kind(field: Any) -> tuple[str, int]:
    """:func:`_branch_kind` for a field of an RNTuple, from its awkward form."""
    import awkward as ak

    record = field.to_akform()[0]
    form = record.contents[0] if isinstance(record, ak.forms.RecordForm) and record.contents else record
    if isinstance(form, ak.forms.NumpyForm):
        return (_FIXED, int(np.prod(form.inner_shape))) if form.inner_shape else (_SCALAR, 1)
    if isinstance(form, ak.forms.RegularForm) and isinstance(form.content, ak.forms.NumpyForm):
        return _FIXED, int(form.size)
    if form.parameters.get("__array__") == "string":
        return _STRING, 0
    return _VARIABLE, 0


@dataclass
class _Binding:
    """One ``SetBranchAddress``: the buffer and how entries are copied into it."""

    name: str
    buffer: Any
    kind: str
    dtype: np.dtype[Any]
    capacity: int
    flat: npt.NDArray[Any] | None  # numpy buffers: a flat view; array.array: None
    values: list[Any] | None = None  # scalar branches: the chunk's values, converted to ``dtype``


def _buffer_dtype(name: str, buffer: Any) -> tuple[np.dtype[Any], int, npt.NDArray[Any] | None]:
    """Element dtype, capacity and (numpy) flat view of a SetBranchAddress buffer."""
    if isinstance(buffer, array.array):
        if buffer.typecode in ("u", "w"):
            raise DataError(
                f"SetBranchAddress('{name}', …): array typecode '{buffer.typecode}' holds characters; "
                "use a numeric typecode such as 'f', 'd', 'i' or 'l'"
            )
        if len(buffer) < 1:
            raise DataError(
                f"SetBranchAddress('{name}', …): the buffer is empty; give it at least one element"
            )
        return np.dtype(buffer.typecode), len(buffer), None
    if isinstance(buffer, np.ndarray):
        if buffer.dtype.kind not in "biuf":
            raise DataError(
                f"SetBranchAddress('{name}', …): a numpy buffer must have a numeric or bool dtype, "
                f"got {buffer.dtype}"
            )
        if buffer.size < 1:
            raise DataError(
                f"SetBranchAddress('{name}', …): the buffer is empty; give it at least one element"
            )
        if not (buffer.flags.writeable and buffer.flags.c_contiguous):
            raise DataError(
                f"SetBranchAddress('{name}', …): the numpy buffer must be writeable and C-contiguous"
            )
        return buffer.dtype, int(buffer.size), buffer.reshape(-1)
    raise DataError(
        f"SetBranchAddress('{name}', …): the buffer must be an array.array (e.g. array('f', [0.])) "
        f"or a numpy array, got {type(buffer).__name__}"
    )


class TTree:
    """A tree of a ROOT file, as PyROOT presents it; ``TFile.Get`` returns these.

    Parameters
    ----------
    tree : uproot.TTree
        The tree read by uproot; kept as :attr:`uproot_tree`, which is what
        :meth:`~pymva.data.loader.DataLoader.AddTree` and friends read.
    chunk_entries : int
        Initial value of :attr:`chunk_entries`.

    Attributes
    ----------
    uproot_tree : uproot.TTree
        The wrapped tree.
    chunk_entries : int
        Entries read at once by :meth:`GetEntry` (default :data:`DEFAULT_CHUNK_ENTRIES`); entries of
        a chunk are aligned on multiples of it, so loops backwards or forwards both hit memory.

    Raises
    ------
    DataError
        ``TTree(name, title)``: pymva cannot create trees; or ``tree`` is not an uproot tree.
    """

    def __init__(self, tree: Any, *args: Any, chunk_entries: int = DEFAULT_CHUNK_ENTRIES) -> None:
        import uproot

        if isinstance(tree, str):
            raise DataError(
                f"TTree('{tree}', …): pymva cannot create trees; read them with "
                "TFile.Open(path).Get(name), or pass arrays to the DataLoader directly"
            )
        if not isinstance(tree, (uproot.behaviors.TTree.TTree, uproot.behaviors.RNTuple.RNTuple)):
            raise DataError(f"TTree wraps an uproot TTree or RNTuple, got {type(tree).__name__}")
        if args:
            raise DataError("TTree takes one uproot tree; extra positional arguments are not understood")
        self.uproot_tree = tree
        self.chunk_entries = int(chunk_entries)
        self._n = int(tree.num_entries)
        self._bindings: dict[str, _Binding] = {}
        self._read_entry = -1
        self._chunk = (0, 0)  # [start, stop) of the cached columns
        self._columns: dict[str, npt.NDArray[Any]] = {}
        self._kinds: dict[str, tuple[str, int]] = {}
        self._names: frozenset[str] = frozenset(str(k) for k in tree.keys(recursive=True))

    # -------------------------------------------------------------------------------- description
    def GetName(self) -> str:
        """Tree name."""
        return str(self.uproot_tree.name)

    def GetTitle(self) -> str:
        """Tree title (an RNTuple's description)."""
        title = getattr(self.uproot_tree, "title", None)
        return str(title if title is not None else getattr(self.uproot_tree, "description", ""))

    def GetEntries(self) -> int:
        """Number of entries."""
        return self._n

    def GetEntriesFast(self) -> int:
        """Number of entries (ROOT: without loading every tree of a chain)."""
        return self._n

    def GetListOfBranches(self) -> TCollection[TBranch]:
        """The top-level branches (an RNTuple's top-level fields), in the order they are stored."""
        children = getattr(self.uproot_tree, "branches", None)
        if children is None:  # an RNTuple
            children = [self.uproot_tree[k] for k in self.uproot_tree.keys(recursive=False)]
        return TCollection(TBranch(b) for b in children)

    def GetBranch(self, name: str) -> TBranch | None:
        """The branch ``name`` (``"a/b"`` for a sub-branch), or ``None`` as in ROOT when it does not exist."""
        try:
            return TBranch(self.uproot_tree[name])
        except KeyError:
            return None

    def _branch_names(self) -> list[str]:
        return [str(k) for k in self.uproot_tree.keys(recursive=True)]

    def _uproot_branch(self, name: str, what: str) -> Any:
        try:
            return self.uproot_tree[name]
        except KeyError:
            names = self._branch_names()
            shown = ", ".join(names[:30]) + (f", … ({len(names) - 30} more)" if len(names) > 30 else "")
            raise DataError(
                f"{what}: no branch '{name}' in tree '{self.GetName()}'{did_you_mean(name, names)} "
                f"(branches: {shown})"
            ) from None

    def _kind(self, name: str) -> tuple[str, int]:
        kind = self._kinds.get(name)
        if kind is None:
            kind = self._kinds[name] = _branch_kind(self.uproot_tree[name])
        return kind

    # -------------------------------------------------------------------------------- binding
    def SetBranchAddress(self, bname: str, add: Any, *args: Any) -> int:
        """Let :meth:`GetEntry` copy the value(s) of branch ``bname`` into ``add``.

        Parameters
        ----------
        bname : str
            Branch name.
        add : array.array or numpy.ndarray
            Buffer of at least one element (``array('f', [0.])``, ``numpy.zeros(1, numpy.float32)``);
            for a fixed-size array branch or a leaf list (TMVA's multiclass and regression
            responses, ``Signal/F:Bkg0/F``: one element per leaf) at least as many elements as
            one entry holds, for a
            variable-size array branch as many as the largest entry read.  Values are converted
            to the buffer's type.  Binding a branch again replaces the earlier buffer.
        *args
            ROOT's optional ``TBranch**`` and type arguments: ignored.

        Returns
        -------
        int
            0 (ROOT's ``kMatch``).

        Raises
        ------
        DataError
            Unknown branch (with the closest names), a string branch, an unusable buffer, or a
            buffer smaller than a fixed-size array entry.
        """
        name = str(bname)
        self._uproot_branch(name, f"SetBranchAddress('{name}', …)")
        kind, per_entry = self._kind(name)
        if kind == _STRING:
            raise DataError(
                f"SetBranchAddress('{name}', …): '{name}' is a string branch, which pymva cannot copy into "
                f"a buffer; read it as tree.{name} after GetEntry(i)"
            )
        dtype, capacity, flat = _buffer_dtype(name, add)
        if kind == _FIXED and capacity < per_entry:
            raise DataError(
                f"SetBranchAddress('{name}', …): each entry of '{name}' holds {per_entry} values, "
                f"the buffer only {capacity}"
            )
        self._bindings[name] = _Binding(name, add, kind, dtype, capacity, flat)  # filled by the next GetEntry
        return 0

    def ResetBranchAddresses(self) -> None:
        """Forget every buffer given to :meth:`SetBranchAddress`."""
        self._bindings.clear()

    def ResetBranchAddress(self, br: TBranch | str) -> None:
        """Forget the buffer of one branch (a :class:`TBranch` or its name)."""
        self._bindings.pop(br if isinstance(br, str) else br.GetName(), None)

    # -------------------------------------------------------------------------------- reading
    def _load(self, names: list[str], entry: int) -> int:
        """Make sure the columns of ``names`` cover ``entry``; return the entry's index in them."""
        start, stop = self._chunk
        if not start <= entry < stop:
            step = max(1, self.chunk_entries)
            start = (entry // step) * step
            stop = min(start + step, self._n)
            self._chunk = (start, stop)
            self._columns = {}
            for b in self._bindings.values():
                b.values = None
        missing = [n for n in names if n not in self._columns]
        for name in missing:
            try:
                column = self.uproot_tree[name].array(entry_start=start, entry_stop=stop, library="np")
            except OSError as exc:  # e.g. the TFile was closed
                raise DataError(
                    f"tree '{self.GetName()}': cannot read entries {start}..{stop - 1} of branch '{name}': {exc}"
                ) from None
            if column.dtype.names:  # a leaf list: one column per leaf, in leaf order
                column = structured_to_unstructured(column)
            self._columns[name] = column
        return entry - start

    def _fill(self, entry: int) -> int:
        j = self._load(list(self._bindings), entry)
        nbytes = 0
        for b in self._bindings.values():
            column = self._columns[b.name]
            if b.kind == _SCALAR:
                if b.values is None:
                    with np.errstate(invalid="ignore", over="ignore"):
                        b.values = column.astype(b.dtype).tolist()
                if b.flat is None:
                    b.buffer[0] = b.values[j]
                else:
                    b.flat[0] = b.values[j]
                nbytes += column.dtype.itemsize
                continue
            raw = column[j]
            try:
                with np.errstate(invalid="ignore", over="ignore"):
                    vals = np.asarray(raw, dtype=b.dtype).reshape(-1)
            except (TypeError, ValueError) as exc:
                raise DataError(
                    f"GetEntry({entry}): the values of branch '{b.name}' ({type(raw).__name__}) cannot be "
                    f"copied into a {b.dtype} buffer: {exc}"
                ) from None
            n = vals.size
            if n > b.capacity:
                raise DataError(
                    f"GetEntry({entry}): entry {entry} of branch '{b.name}' holds {n} values, the buffer "
                    f"given to SetBranchAddress has room for {b.capacity}"
                )
            if b.flat is None:
                b.buffer[0:n] = array.array(b.buffer.typecode, vals.tolist())
            else:
                b.flat[:n] = vals
            nbytes += int(np.asarray(raw).nbytes)
        return max(nbytes, 1)

    def GetEntry(self, entry: int = 0, getall: int = 0) -> int:
        """Read entry ``entry``: copy the value(s) of every bound branch into its buffer.

        Parameters
        ----------
        entry : int
            Entry number, from 0 to ``GetEntries() - 1``.
        getall : int
            ROOT's flag to read disabled branches too: ignored (no branch is disabled).

        Returns
        -------
        int
            The number of bytes of the entry's values in the bound branches (at least 1 for an
            existing entry, so ``while tree.GetEntry(i):`` loops work); 0 when ``entry`` is out of
            range, as in ROOT.

        Raises
        ------
        DataError
            A variable-size entry larger than its buffer.
        """
        i = int(entry)
        if not 0 <= i < self._n:
            return 0
        self._read_entry = i
        if not self._bindings:
            return 1
        return self._fill(i)

    def GetReadEntry(self) -> int:
        """The entry last read by :meth:`GetEntry` (-1 before the first)."""
        return self._read_entry

    def Print(self, option: str = "") -> None:
        """Write the tree's description to standard output, in the layout of ROOT's ``TTree::Print``.

        A header with the name, title, entries and sizes, then one block per branch (``option``
        ``"all"`` includes sub-branches; ROOT's other options select branches by name pattern, which
        pymva does not).  Sizes are uproot's: the uncompressed and compressed bytes of the baskets.
        """
        import sys

        tree = self.uproot_tree
        branches = list(tree.values(recursive=True)) if "all" in option.lower() else list(tree.branches)
        total = sum(int(b.uncompressed_bytes) for b in tree.branches)
        zipped = sum(int(b.compressed_bytes) for b in tree.branches)
        factor = total / zipped if zipped else 1.0
        bar = "*" * 78
        lines = [
            bar,
            f"*Tree    :{self.GetName():<10}: {self.GetTitle()}".ljust(77) + "*",
            f"*Entries : {self._n:>8} : Total = {total:>15} bytes  File  Size = {zipped:>10} *",
            f"*        :          : Tree compression factor = {factor:6.2f}{'':>23}*",
            bar,
        ]
        for i, b in enumerate(branches):
            raw, comp = int(b.uncompressed_bytes), int(b.compressed_bytes)
            ratio = raw / comp if comp else 1.0
            lines += [
                f"*Br {i:>4} :{b.name:<9} : {b.title}".ljust(76) + " *",
                f"*Entries : {int(b.num_entries):>8} : Total  Size= {raw:>11} bytes  File Size  = {comp:>10} *",
                f"*Baskets : {int(b.num_baskets):>8} : Basket Size= {'':>11}       Compression= {ratio:6.2f}     *",
                "*" + "." * 76 + "*",
            ]
        sys.stdout.write("\n".join(lines) + "\n")

    def __iter__(self) -> Iterator[TTree]:
        """Loop over the entries as PyROOT does: each step reads the next entry and yields the tree."""
        for i in range(self._n):
            self.GetEntry(i)
            yield self

    def __getattr__(self, name: str) -> Any:
        """A branch's value at the entry last read (PyROOT: ``tree.var1`` after ``tree.GetEntry(i)``).

        Scalars come back as Python numbers, arrays as numpy arrays, strings as :class:`str`.
        """
        if name.startswith("_") or "_names" not in self.__dict__:
            raise AttributeError(name)
        if name not in self._names:
            raise AttributeError(
                f"'TTree' object has no attribute '{name}' and tree '{self.GetName()}' has no branch "
                f"'{name}'{did_you_mean(name, self._branch_names())}"
            )
        if self._read_entry < 0:
            raise DataError(f"tree.{name}: no entry has been read yet; call GetEntry(i) first")
        j = self._load([name], self._read_entry)
        value = self._columns[name][j]
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.copy()
        return value

    def __repr__(self) -> str:
        return f"<TTree {self.GetName()!r}: {self._n} entries, {len(self.uproot_tree.keys())} branches>"


# ------------------------------------------------------------------------------------------------ TFile
class TFile:
    """A ROOT file, as PyROOT's ``TFile``.

    Parameters
    ----------
    fname : str or os.PathLike
        Path or URL (anything :func:`uproot.open` reads).
    option : str
        ``"READ"`` (default, also ``""``) to read; ``"RECREATE"``, ``"NEW"`` or ``"CREATE"`` for the
        output file of a Factory (``NEW``/``CREATE`` refuse an existing file, as in ROOT).
        Case-insensitive.
    ftitle, compress : optional
        ROOT's title and compression arguments: ignored.

    Raises
    ------
    DataError
        READ: the file does not exist (with similar names in its directory) or is not a ROOT file.
        NEW/CREATE: the file exists already.
    OptionError
        ``UPDATE`` (pymva cannot add to an existing file) or an unknown option.
    """

    def __init__(
        self, fname: str | os.PathLike[str], option: str = "READ", ftitle: str = "", compress: int = 0
    ) -> None:
        self._name = os.fspath(fname)
        opt = str(option).strip().upper()
        self._file: Any = None
        self._trees: dict[str, TTree] = {}
        self._open = False
        if opt in _READ_OPTIONS:
            from ..data.sources import _open_file

            self._option = "READ"
            self._file = _open_file(self._name)
        elif opt in _WRITE_OPTIONS:
            self._option = "CREATE" if opt == "NEW" else opt
            if opt != "RECREATE" and os.path.exists(self._name):
                raise DataError(
                    f"TFile.Open('{self._name}', '{option}'): the file exists already and {opt} does not "
                    "overwrite it; use 'RECREATE' to replace it"
                )
        elif opt == "UPDATE":
            raise OptionError(
                f"TFile.Open('{self._name}', 'UPDATE'): pymva cannot add objects to an existing ROOT file; "
                "open it 'READ' to read it, or 'RECREATE' for a Factory's output file"
            )
        else:
            raise OptionError(
                f"TFile.Open('{self._name}', '{option}'): unknown option{did_you_mean(opt, _ALL_OPTIONS)} "
                f"(accepted: {', '.join(_ALL_OPTIONS[:4])}; UPDATE is not supported)"
            )
        self._open = True

    @staticmethod
    def Open(
        name: str | os.PathLike[str],
        option: str = "READ",
        ftitle: str = "",
        compress: int = 0,
        netopt: int = 0,
    ) -> TFile:
        """Open a file: ``TFile.Open(name, option)`` (see :class:`TFile` for the options and errors)."""
        return TFile(name, option, ftitle, compress)

    # -------------------------------------------------------------------------------- state
    def GetName(self) -> str:
        """The file name as given."""
        return self._name

    def GetOption(self) -> str:
        """``"READ"``, ``"RECREATE"`` or ``"CREATE"`` (ROOT spells ``NEW`` as ``CREATE``)."""
        return self._option

    def IsOpen(self) -> bool:
        """True until :meth:`Close`."""
        return self._open

    def IsZombie(self) -> bool:
        """Always False: a file that cannot be opened raises instead."""
        return False

    def IsWritable(self) -> bool:
        """True for an output file (``RECREATE``/``NEW``/``CREATE``) that is still open."""
        return self._open and self._option != "READ"

    @property
    def uproot_file(self) -> Any:
        """The ``uproot.ReadOnlyDirectory`` of a file opened for reading.

        Raises
        ------
        DataError
            For an output file, or after :meth:`Close`.
        """
        return self._reading("uproot_file")

    def _reading(self, what: str) -> Any:
        if self._option != "READ":
            raise DataError(
                f"{what}: '{self._name}' was opened {self._option} as a Factory's output file; pymva writes "
                "it at the end of EvaluateAllMethods and cannot read from it before. Open it again with "
                "TFile.Open(name) afterwards"
            )
        if not self._open:
            raise DataError(f"{what}: file '{self._name}' is closed")
        return self._file

    def Write(self, name: str = "", option: int = 0, bufsize: int = 0) -> int:
        """``TFile::Write`` as the tutorials call it (``outputFile->Write()``): nothing to do.

        The Factory writes its output file itself at the end of ``EvaluateAllMethods`` (or in
        ``Factory.Close()``); a file opened for reading has nothing to write either.

        Returns
        -------
        int
            0: no bytes written by this call.

        Raises
        ------
        DataError
            After :meth:`Close`.
        """
        if not self._open:
            raise DataError(f"Write: file '{self._name}' is closed")
        return 0

    def Close(self, option: str = "") -> None:
        """Close the file (reading: release uproot's file handle).  Closing twice is harmless.

        Trees obtained from the file cannot read further entries afterwards, as in ROOT.  For an
        output file this changes nothing on disk: the Factory writes it at the end of
        ``EvaluateAllMethods`` (or in ``Factory.Close()``).
        """
        if self._open and self._file is not None:
            self._file.close()
        self._open = False

    def __enter__(self) -> TFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.Close()

    # -------------------------------------------------------------------------------- content
    def _key_names(self) -> list[str]:
        return [str(k) for k in self._reading("keys").keys(cycle=False)]

    def Get(self, namecycle: str) -> Any:
        """The object ``namecycle`` (``"TreeS"``, ``"TreeS;1"``, ``"dir/TreeS"``).

        Returns
        -------
        TTree or object
            A :class:`TTree` for trees (the same object for the same name), uproot's object for
            anything else (histograms, directories …).

        Raises
        ------
        DataError
            No such key (with the closest names and the keys of the file), or the file is an
            output file or closed.
        """
        file = self._reading(f"Get('{namecycle}')")
        name = str(namecycle)
        try:
            key = file.key(name)
            # one wrapper per object: "TreeS", "TreeS;1" and "/TreeS" name the same tree
            canonical = f"{name.split(';')[0].strip('/')};{key.fCycle}"
            tree = self._trees.get(canonical)
            if tree is not None:
                return tree
            obj = file[canonical]
        except KeyError:
            keys = self._key_names()
            shown = ", ".join(keys[:30]) + (f", … ({len(keys) - 30} more)" if len(keys) > 30 else "")
            raise DataError(
                f"no key '{name}' in file '{self._name}'{did_you_mean(name.split(';')[0], keys)} "
                f"(keys: {shown or '(none)'})"
            ) from None
        import uproot

        if isinstance(obj, (uproot.behaviors.TTree.TTree, uproot.behaviors.RNTuple.RNTuple)):
            tree = self._trees[canonical] = TTree(obj)
            return tree
        return obj

    def GetListOfKeys(self) -> TCollection[TKey]:
        """The keys of the top directory (every cycle), in file order."""
        file = self._reading("GetListOfKeys()")
        keys: TCollection[TKey] = TCollection()
        for k in file.keys(recursive=False, cycle=True):
            key = file.key(k)
            keys.append(TKey(str(key.fName), str(key.fClassName), int(key.fCycle), str(key.fTitle), self))
        return keys

    def __getattr__(self, name: str) -> Any:
        """``file.TreeS`` for ``file.Get("TreeS")``, as PyROOT allows."""
        if name.startswith("_") or self.__dict__.get("_file") is None:
            raise AttributeError(name)
        if name not in self._file.keys(cycle=False, recursive=False):
            raise AttributeError(
                f"'TFile' object has no attribute '{name}' and file '{self._name}' has no key "
                f"'{name}'{did_you_mean(name, self._key_names())}"
            )
        return self.Get(name)

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<TFile {self._name!r} ({self._option}, {state})>"


def output_file_path(output: Any) -> str:
    """The path of a Factory's output file given as a :class:`TFile` (what ``Factory`` calls).

    Parameters
    ----------
    output : TFile
        Opened with ``RECREATE``, ``NEW`` or ``CREATE``.

    Returns
    -------
    str
        The file name as given to ``TFile.Open``.

    Raises
    ------
    OptionError
        ``output`` is not a :class:`TFile`, was opened for reading, or has been closed.
    """
    if not isinstance(output, TFile):
        raise OptionError(
            "Factory(jobName, outputFile, options): outputFile must be a path, a TFile opened with "
            f"TFile.Open(path, 'RECREATE'), or None; got {type(output).__name__}"
        )
    if not output.IsWritable():
        state = "was opened READ" if output.GetOption() == "READ" else "is closed"
        raise OptionError(
            f"Factory(jobName, outputFile, options): the output file '{output.GetName()}' {state}; "
            f"open it with TFile.Open('{output.GetName()}', 'RECREATE')"
        )
    return output.GetName()


# ------------------------------------------------------------------------------------------------ TCanvas
_CANVAS: type[Any] | None = None


def canvas_class() -> type[Any]:
    """The matplotlib ``Figure`` subclass that carries ROOT's ``TCanvas`` methods.

    Pass it as ``FigureClass`` to :func:`matplotlib.pyplot.figure` or ``subplots``; the figure is a
    normal ``Figure`` (``savefig`` and the rest unchanged) with, in addition:

    * ``SaveAs(filename, option="")`` and ``Print(filename, option="")``: save in the format of the
      extension (``.png``, ``.pdf``, ``.svg``, ``.eps`` …), atomically; ROOT's ``.C``, ``.root`` and
      ``.tex`` are refused with an :class:`~pymva.errors.OptionError`, as is a NUL in the name;
      a file that cannot be written (missing permission, disk full) is a
      :class:`~pymva.errors.DataError` and leaves an earlier file unchanged;
    * ``Draw(option="")``: nothing to do, returns ``None``.

    Raises
    ------
    MissingExtraError
        If matplotlib is not installed.
    """
    global _CANVAS
    if _CANVAS is None:
        from ..extras import pyplot

        pyplot()  # the clear error when matplotlib is missing
        from matplotlib.figure import Figure

        class TCanvas(Figure):
            """A matplotlib Figure with ROOT's TCanvas ``SaveAs``/``Print``/``Draw``."""

            def SaveAs(self, filename: str | os.PathLike[str], option: str = "") -> None:
                """Save the figure to ``filename``, format from its extension, atomically."""
                from ..safety import atomic_path

                path = os.fspath(filename)
                suffix = os.path.splitext(path)[1]
                ext = suffix.lstrip(".").lower()
                supported = self.canvas.get_supported_filetypes()
                if ext not in supported:
                    root_only = " (ROOT's own formats need ROOT)" if ext in _ROOT_FORMATS else ""
                    raise OptionError(
                        f"SaveAs('{path}'): cannot save a figure as '{suffix or '(no extension)'}'{root_only}"
                        f"{did_you_mean(ext, supported)}; formats: {', '.join(sorted(supported))}"
                    )
                if "\x00" in path:
                    raise OptionError(f"SaveAs({path!r}): a file name cannot hold a NUL character")
                try:
                    with atomic_path(path) as tmp:
                        self.savefig(tmp, format=ext)
                except OSError as exc:
                    raise DataError(
                        f"SaveAs('{path}'): cannot write the file: {exc.strerror or exc}; an earlier "
                        "file of that name is unchanged"
                    ) from exc
                _log.info("%s file %s has been created", ext, path)

            def Print(self, filename: str | os.PathLike[str], option: str = "") -> None:
                """Same as :meth:`SaveAs`."""
                self.SaveAs(filename, option)

            def Draw(self, option: str = "") -> None:
                """Nothing to do: the figure is drawn already."""

        TCanvas.__module__ = __name__
        TCanvas.__qualname__ = "TCanvas"  # pickle finds it as pymva.io.rootfile.TCanvas (module __getattr__)
        _CANVAS = TCanvas
    return _CANVAS


def __getattr__(name: str) -> Any:
    if name == "TCanvas":  # pickled figures find their class here
        return canvas_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
