"""Errors for ROOT files that cannot be read: what failed, named as precisely as possible.

uproot raises whatever the broken bytes provoke — ``OSError`` (a truncated file), ``zlib.error``
and other codec errors (a corrupted basket), ``DeserializationError`` (a corrupted key or object),
``ValueError``, ``KeyError``, ``AttributeError`` … :mod:`pymva.data.sources` turns every one of them
into a :class:`~pymva.errors.DataError` built here, which names the file and the tree and, for a
basket that cannot be read, the branch, the basket and its entry range (found by reading each basket
of the failing chunk on its own, only after the failure).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..errors import DataError

__all__ = ["exception_name", "open_error", "read_error"]


def exception_name(exc: BaseException) -> str:
    """The qualified name of an exception's class, for messages.

    Returns
    -------
    str
        ``OSError``, ``zlib.error``, ``uproot.deserialization.DeserializationError`` …
    """
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _tree_where(tree: Any) -> str:
    """``tree 'TreeS' in file 'data.root'`` for messages (whatever of it can be told)."""
    path = getattr(getattr(tree, "file", None), "file_path", "?")
    try:
        name = str(tree.object_path).lstrip("/").split(";")[0]
    except Exception:  # noqa: BLE001  (only for a message)
        name = str(getattr(tree, "name", "?"))
    return f"tree '{name}' in file '{path}'"


def _failing_baskets(tree: Any, branches: Sequence[str], start: int, stop: int) -> list[str]:
    """Which baskets of which branches cannot be read in entries ``[start, stop)``.

    Called only after reading failed, to name the culprit: each basket of each branch that overlaps
    the range is read on its own.  Returns ``"branch 'x' (basket 3, entries 1000-1999): <error>"``
    lines; empty if every basket reads (the failure was elsewhere).
    """
    found: list[str] = []
    for name in branches:
        try:
            branch = tree[name]
            offsets = [int(x) for x in branch.entry_offsets]
            n_baskets = int(branch.num_baskets)
        except Exception as exc:  # noqa: BLE001  (any failure of the file's content is reported)
            found.append(f"branch '{name}': {exception_name(exc)}: {exc}")
            continue
        for i in range(n_baskets):
            lo, hi = offsets[i], offsets[i + 1]
            if hi <= start or lo >= stop:
                continue
            try:
                branch.array(entry_start=lo, entry_stop=hi, library="np")
            except Exception as exc:  # noqa: BLE001  (idem)
                msg = " ".join(str(exc).split())[:200]
                found.append(
                    f"branch '{name}' (basket {i}, entries {lo}-{hi - 1}): {exception_name(exc)}: {msg}"
                )
    return found


def read_error(tree: Any, branches: Sequence[str], start: int, stop: int, exc: BaseException) -> DataError:
    """The :class:`DataError` for a failure while reading entries ``[start, stop)`` of ``tree``.

    Parameters
    ----------
    tree : uproot TTree
        The tree being read.
    branches : sequence of str
        The branches being read.
    start, stop : int
        The entry range of the chunk that failed.
    exc : BaseException
        What uproot raised.

    Returns
    -------
    DataError
        Naming the file, the tree, and each failing basket with its branch and entry range (or, if
        no basket fails on its own, the branches and ``exc``).
    """
    where = _tree_where(tree)
    culprits = _failing_baskets(tree, branches, start, stop)
    reason = " ".join(str(exc).split())[:300] or "(no message)"
    if culprits:
        detail = "; ".join(culprits)
    else:
        detail = f"branches {', '.join(repr(b) for b in branches)}: {exception_name(exc)}: {reason}"
    return DataError(
        f"cannot read entries {start}-{stop - 1} of {where}: {detail}. The file is truncated or "
        "corrupted (or was changed while being read); check it or read it again from its source"
    )


def open_error(path: str, treename: str | None, exc: BaseException) -> DataError:
    """The :class:`DataError` for a ROOT file that cannot be opened or whose directory cannot be read.

    Parameters
    ----------
    path : str
        The file.
    treename : str or None
        The tree that was to be read, if known.
    exc : BaseException
        What uproot raised.

    Returns
    -------
    DataError
        Naming the file, its size, the tree and ``exc``.
    """
    reason = " ".join(str(exc).split())[:300] or type(exc).__name__
    try:
        size = f"; it has {os.path.getsize(path)} bytes and is"
    except OSError:
        size = "; the file is"
    tree = f" (reading tree '{treename}')" if treename else ""
    return DataError(
        f"cannot open '{path}' as a ROOT file{tree}: {exception_name(exc)}: {reason}{size} truncated, "
        "corrupted or not a ROOT file"
    )
