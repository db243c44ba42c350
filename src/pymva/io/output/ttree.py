"""The metadata of a TTree as ROOT streams it, with leaf-list branches: what uproot cannot write.

uproot writes one leaf per branch; TMVA's multiclass and regression response branches are leaf lists
(``DataSet::GetTree`` in ``tmva/tmva/src/DataSet.cxx``: ``tree->Branch(title, values,
"Signal/F:Bkg0/F:…")``), one ``TLeafF`` per class or target, all in one branch.  The baskets of such
a branch hold, per entry, the leaves' floats one after the other: byte for byte what uproot writes for
a fixed-size array branch ``title[n]/F``.  So pymva lets uproot write the baskets (``mktree`` +
``extend``) and then replaces the tree's metadata — the ``TTree`` object with its ``TBranch`` and
``TLeaf`` objects, everything but the baskets — by the blob :func:`tree_metadata` streams here, in which

* a branch with a leaf list has its leaves (``TLeafF``, ``fLen`` 1, ``fLenType`` 4, ``fOffset`` 0, 4,
  8, … as ``TBranch::Init`` sets them) and its title ``Signal/F:Bkg0/F:…``; its ``fEntryOffsetLen``
  is 0, as for any branch of fixed-size leaves;
* a string branch (``className/C``) has the ``TLeafC`` members ROOT's ``TLeafC::FillBasket`` leaves
  after the last entry: ``fLen`` = ``fMaximum`` = longest string + 1, ``fLenType`` = 1;
* everything else is what uproot would write (the same class versions: ``TTree`` 20, ``TBranch`` 13,
  ``TLeaf`` 2, ``TLeafF``/``TLeafI``/``TLeafC`` 1, ``TObjArray`` 3, ``TNamed`` 1).

The streaming rules (ROOT's ``TBufferFile``): every object starts with a 4-byte byte count (or-ed with
``kByteCountMask``) and a 2-byte class version; an object behind a pointer (the elements of a
``TObjArray``) starts with its byte count, the new-class tag ``0xFFFFFFFF`` and its class name; a
later pointer to the same object is its offset in the key's buffer (the key header included) plus
``kMapOffset`` = 2 — that is how the tree's ``fLeaves`` refers to the leaves inside the branches.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

_BYTE_COUNT_MASK = 0x40000000
_NEW_CLASS_TAG = 0xFFFFFFFF
_MAP_OFFSET = 2

#: ``TObject::fBits`` as ROOT writes them for a TTree, a TBranch and the other objects here.
_BITS_TREE = 0x03000008
_BITS_BRANCH = 0x03400000
_BITS_PLAIN = 0x03000000
_BITS_OWNER_ARRAY = 0x03004000

#: ``TAttLine`` (602, 1, 1), ``TAttFill`` (0, 1001), ``TAttMarker`` (1, 1, 1.0) of a TTree; ``TAttFill``
#: (0, 1001) of a TBranch; ``TIOFeatures`` (empty) — each with its byte count and version.
_TTREE_ATTRIBUTES = (
    struct.pack(">IHhhh", _BYTE_COUNT_MASK | 8, 2, 602, 1, 1)
    + struct.pack(">IHhh", _BYTE_COUNT_MASK | 6, 2, 0, 1001)
    + struct.pack(">IHhhf", _BYTE_COUNT_MASK | 10, 2, 1, 1, 1.0)
)
_TBRANCH_ATTFILL = struct.pack(">IHhh", _BYTE_COUNT_MASK | 6, 2, 0, 1001)
_TIOFEATURES = struct.pack(">IHIB", _BYTE_COUNT_MASK | 7, 0, 0x1AA12F10, 0)

_TTREE_MEMBERS = struct.Struct(">qqqqqdiiiiIqqqqqq")
_TBRANCH_MEMBERS1 = struct.Struct(">iiiiq")
_TBRANCH_MEMBERS2 = struct.Struct(">iIiqqqq")
_TLEAF_MEMBERS = struct.Struct(">iii??")

#: Leaf type letter: (``TLeaf*`` class, bytes per element, ``fMinimum``/``fMaximum`` format).
_LEAF_TYPES = {"F": ("TLeafF", 4, ">ff"), "I": ("TLeafI", 4, ">ii"), "C": ("TLeafC", 1, ">ii")}

_TTREE_MEMBER_NAMES = (
    "fTotBytes", "fZipBytes", "fSavedBytes", "fFlushedBytes", "fWeight", "fTimerInterval",
    "fScanField", "fUpdate", "fDefaultEntryOffsetLen", "fNClusterRange", "fMaxEntries",
    "fMaxEntryLoop", "fMaxVirtualSize", "fAutoSave", "fAutoFlush", "fEstimate",
)  # fmt: skip


def _string(text: str) -> bytes:
    raw = text.encode(errors="surrogateescape")
    if len(raw) < 255:
        return struct.pack(">B", len(raw)) + raw
    return struct.pack(">BI", 255, len(raw)) + raw


def key_header_size(name: str, title: str) -> int:
    """Bytes of the (64-bit) ``TKey`` header of a TTree called ``name`` with ``title``: the origin of the
    offsets that pointers inside the tree's buffer hold."""
    return struct.calcsize(">ihiIhhqq") + len(_string("TTree")) + len(_string(name)) + len(_string(title))


class _Buffer:
    """A growing byte buffer with ROOT's byte counts, written back once an object is complete."""

    def __init__(self, origin: int) -> None:
        self.data = bytearray()
        self.origin = origin

    def put(self, raw: bytes) -> None:
        self.data += raw

    def begin(self, version: int) -> int:
        """Start an object of class ``version``; returns where its byte count goes."""
        at = len(self.data)
        self.data += struct.pack(">IH", 0, version)
        return at

    def begin_pointer(self, class_name: str) -> int:
        """Start an object behind a pointer (new-class tag and name); returns its reference tag."""
        at = len(self.data)
        self.data += struct.pack(">II", 0, _NEW_CLASS_TAG) + class_name.encode() + b"\x00"
        return self.origin + at + _MAP_OFFSET

    def end(self, at: int) -> None:
        """Write the byte count of the object started at ``at``."""
        struct.pack_into(">I", self.data, at, _BYTE_COUNT_MASK | (len(self.data) - at - 4))

    def tnamed(self, name: str, title: str, bits: int) -> None:
        at = self.begin(1)
        self.put(struct.pack(">HII", 1, 0, bits) + _string(name) + _string(title))
        self.end(at)

    def tobjarray_header(self, size: int, bits: int = _BITS_PLAIN) -> None:
        """``TObject`` part, empty ``fName``, ``fSize``, ``fLowerBound`` (after the array's version)."""
        self.put(struct.pack(">HII", 1, 0, bits) + _string("") + struct.pack(">ii", size, 0))

    def empty_tobjarray(self) -> None:
        at = self.begin(3)
        self.tobjarray_header(0)
        self.end(at)


def _leaf(buf: _Buffer, letter: str, name: str, title: str, length: int, offset: int, maximum: int) -> int:
    """Stream one ``TLeaf<letter>`` behind a pointer; returns its reference tag."""
    class_name, size, limits = _LEAF_TYPES[letter]
    start = len(buf.data)
    tag = buf.begin_pointer(class_name)
    leaf = buf.begin(1)
    tleaf = buf.begin(2)
    buf.tnamed(name, title, _BITS_PLAIN)
    buf.put(_TLEAF_MEMBERS.pack(length, size, offset, False, False))
    buf.put(struct.pack(">I", 0))  # no fLeafCount
    buf.end(tleaf)
    buf.put(struct.pack(limits, 0, maximum))  # fMinimum, fMaximum of TLeaf<letter>
    buf.end(leaf)
    buf.end(start)
    return tag


def tree_metadata(cascading: Any, leaf_lists: Mapping[str, Sequence[str]] | None = None) -> bytes:
    """Stream the metadata of the tree uproot has written (``WritableTree._cascading``), with leaf lists.

    Parameters
    ----------
    cascading : uproot.writing._cascadetree.Tree
        The written tree: its name, title, members, branches and their baskets (``fBasketBytes``,
        ``fBasketEntry``, ``fBasketSeek`` …), as uproot keeps them after the last ``extend``.
    leaf_lists : mapping of str to sequence of str, optional
        Per branch name, the names of its ``/F`` leaves (the branch must be ``/F``: a scalar for one
        leaf, an array ``[n]`` for n leaves).  Other branches keep their one leaf.

    Returns
    -------
    bytes
        The uncompressed ``TTree`` object (version 20) for a 64-bit key named and titled as the tree.

    Raises
    ------
    ValueError
        If a leaf list does not fit its branch (not ``/F``, or not as many leaves as values per entry)
        or names a branch the tree does not have, or a branch has a type pymva does not write.
    """
    lists = dict(leaf_lists or {})
    data = [d for d in cascading._branch_data if d["kind"] != "record"]
    unknown = sorted(set(lists) - {d["fName"] for d in data})
    if unknown:
        raise ValueError(f"leaf lists for branches {unknown} that tree '{cascading._name}' does not have")
    meta = cascading._metadata
    buf = _Buffer(key_header_size(cascading._name, cascading._title))
    tree = buf.begin(20)
    buf.tnamed(cascading._name, cascading._title, _BITS_TREE)
    buf.put(_TTREE_ATTRIBUTES)
    buf.put(_TTREE_MEMBERS.pack(cascading._num_entries, *(meta[k] for k in _TTREE_MEMBER_NAMES)))
    buf.put(b"\x00\x00")  # fClusterRangeEnd, fClusterSize: no cluster ranges
    buf.put(_TIOFEATURES)
    references: list[int] = []
    branches = buf.begin(3)
    buf.tobjarray_header(len(data), _BITS_OWNER_ARRAY)
    for datum in data:
        name = datum["fName"]
        dtype = np.dtype(datum["dtype"])
        letter = "C" if dtype.kind == "U" else {"f4": "F", "i4": "I"}.get(dtype.str[1:], "")
        if not letter or datum["counter"] is not None:
            raise ValueError(f"branch '{name}' of tree '{cascading._name}' has a type pymva does not write")
        shape = tuple(datum["shape"])
        per_entry = int(np.prod(shape, dtype=np.int64)) if shape else 1
        leaves = lists.get(name)
        if leaves is not None and (letter != "F" or len(shape) > 1 or len(leaves) != per_entry):
            raise ValueError(
                f"leaf list {list(leaves)} does not fit branch '{name}' ({per_entry} values of type "
                f"{letter} per entry): one /F leaf per value is accepted"
            )
        title = ":".join(f"{leaf}/F" for leaf in leaves) if leaves is not None else datum["fTitle"]
        entry_offset_len = 0 if leaves is not None else datum["fEntryOffsetLen"]
        start = len(buf.data)
        buf.begin_pointer("TBranch")
        branch = buf.begin(13)
        buf.tnamed(name, title, _BITS_BRANCH)
        buf.put(_TBRANCH_ATTFILL)
        buf.put(
            _TBRANCH_MEMBERS1.pack(
                0, datum["fBasketSize"], entry_offset_len, cascading._num_baskets, cascading._num_entries
            )
        )
        buf.put(_TIOFEATURES)
        buf.put(
            _TBRANCH_MEMBERS2.pack(
                datum["fOffset"], cascading._basket_capacity, datum["fSplitLevel"],
                cascading._num_entries, datum["fFirstEntry"], datum["fTotBytes"], datum["fZipBytes"],
            )
        )  # fmt: skip
        buf.empty_tobjarray()  # no sub-branches
        leaf_array = buf.begin(3)
        if leaves is not None:
            buf.tobjarray_header(len(leaves))
            for k, leaf in enumerate(leaves):
                references.append(_leaf(buf, "F", leaf, leaf, 1, 4 * k, 0))
        else:
            buf.tobjarray_header(1)
            dims = "".join(f"[{n}]" for n in shape)
            longest = int(datum.get("fLen", 0)) if letter == "C" else 0
            length = longest if letter == "C" else per_entry
            references.append(_leaf(buf, letter, name, name + dims, length, 0, longest))
        buf.end(leaf_array)
        buf.empty_tobjarray()  # fBaskets: the baskets are separate keys
        buf.put(b"\x01" + np.asarray(datum["fBasketBytes"], ">i4").tobytes())
        buf.put(b"\x01" + np.asarray(datum["fBasketEntry"], ">i8").tobytes())
        buf.put(b"\x01" + np.asarray(datum["fBasketSeek"], ">i8").tobytes())
        buf.put(_string(""))  # fFileName
        buf.end(branch)
        buf.end(start)
    buf.end(branches)
    leaves_at = buf.begin(3)
    buf.tobjarray_header(len(references))
    buf.put(np.asarray(references, ">u4").tobytes())
    buf.end(leaves_at)
    # fAliases, fIndexValues, fIndex, fTreeIndex, fFriends, fUserInfo, fBranchRef: none
    buf.put(b"\x00" * 28)
    buf.end(tree)
    return bytes(buf.data)
