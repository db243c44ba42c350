"""The selection of one chunk of entries: from branches to events (``DataSetFactory::BuildEventVector``).

TMVA's ``DataSetFactory`` reads a tree entry by entry and, for every entry, applies the tree's cut,
checks the sizes of the arrays given to ``AddVariablesArray``, evaluates the input, target and
spectator expressions (flattening multi-valued ones), the class cut and the weight expression, and
tallies NaN and ±inf values.  :class:`ChunkSelection` does all of this for a chunk of entries at once
(through :func:`pymva.data.expression.build_events`).  It holds nothing but the compiled expressions
(:class:`~pymva.data.expression.Formula` objects, pickled as their text), so it is a picklable
function of arrays: the ordinary build calls it in the process that reads, and with a Dask executor
(:mod:`pymva.data.executor`) the same object is shipped to the workers and called there.  Each entry
is selected on its own, so the events do not depend on where the chunks start and end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError
from .expression import EventBlock, Formula, array_length_check, build_events

__all__ = ["ChunkSelection", "SelectedChunk"]


def _any_nonzero(value: Any) -> npt.NDArray[np.bool_]:
    """Entry mask of ROOT's ``TTree::CopyTree(selection)``: any value of the selection non-zero."""
    import awkward as ak

    arr = value if isinstance(value, ak.Array) else ak.Array(value)
    if arr.ndim > 1:
        flat = ak.fill_none(arr, 0.0)
        return np.asarray(ak.to_numpy(ak.any(flat != 0, axis=-1)), dtype=bool)
    return np.asarray(ak.to_numpy(ak.fill_none(arr, 0.0)) != 0, dtype=bool)


def _mask_arrays(arrays: Mapping[str, Any], mask: npt.NDArray[np.bool_]) -> dict[str, Any]:
    return {k: v[mask] for k, v in arrays.items()}


def _length(arrays: Mapping[str, Any]) -> int:
    """Number of entries in one chunk of branches."""
    for v in arrays.values():
        return len(v)
    return 0


@dataclass
class SelectedChunk:
    """The events of one chunk of entries.

    Attributes
    ----------
    block : EventBlock
        The events (``values`` float32, shape (n_events, n_columns)), their weight-expression values,
        counts before the cut and NaN/±inf tallies.
    entries : ndarray of int64, shape (n_events,)
        Entry of every event, counted from the first entry of the chunk (before the tree cut).
    n_read : int
        Entries in the chunk (before the tree cut).
    longer : (str, int, int) or None
        The first ``AddVariablesArray`` array longer than its declared size in some entries:
        ``(expression, declared size, number of such entries)`` (TMVA warns once per tree).
    """

    block: EventBlock
    entries: npt.NDArray[np.int64]
    n_read: int
    longer: tuple[str, int, int] | None = None


@dataclass(frozen=True)
class ChunkSelection:
    """The compiled selection of a tree's entries: a picklable function of a chunk's arrays.

    Parameters
    ----------
    columns : tuple of (kind, Formula)
        The input, target and spectator expressions (kinds ``"Input"``, ``"Target"``,
        ``"Spectator"``), in column order.
    weight : Formula or None
        The class's weight expression (the tree weight is applied by the caller).
    cut : Formula or None
        The class's cut.
    tree_cut : Formula or None
        The tree's own cut (``AddTree(tree, class, weight, cut)``): entries where no value of it is
        non-zero are dropped before anything else, as ROOT's ``CopyTree`` does.
    arrays : tuple of (expression, size, Formula)
        The arrays of ``AddVariablesArray``, whose sizes are checked in every entry.
    tree_name : str
        For messages.
    """

    columns: tuple[tuple[str, Formula], ...]
    weight: Formula | None = None
    cut: Formula | None = None
    tree_cut: Formula | None = None
    arrays: tuple[tuple[str, int, Formula], ...] = ()
    tree_name: str = ""

    def __call__(
        self,
        arrays: Mapping[str, Any],
        out: Callable[[int], npt.NDArray[np.float32]] | None = None,
    ) -> SelectedChunk:
        """Select the events of one chunk (TMVA ``DataSetFactory::BuildEventVector``).

        Parameters
        ----------
        arrays : mapping of str to array
            The branches of one chunk of entries (:meth:`pymva.data.sources.TreeSource.iterate`).
        out : callable, optional
            ``out(n)`` returns the float32 array of shape ``(n, len(columns))`` the event values are
            written to; a new array by default.

        Returns
        -------
        SelectedChunk

        Raises
        ------
        DataError
            An array of ``AddVariablesArray`` shorter than its declared size in some entries (TMVA's
            fatal error), or what evaluating the expressions raises (a string branch used as a number …).
        """
        n_read = _length(arrays)
        kept: npt.NDArray[np.int64] | None = None
        if self.tree_cut is not None:
            keep = _any_nonzero(self.tree_cut.evaluate(arrays))
            arrays = _mask_arrays(arrays, keep)
            kept = np.flatnonzero(keep).astype(np.int64)
        longer: tuple[str, int, int] | None = None
        for expression, size, formula in self.arrays:
            n_shorter, n_longer = array_length_check(arrays, formula, size)
            if n_shorter:
                raise DataError(
                    f"Size of array {expression} in the current tree {self.tree_name} is smaller than "
                    f"{size} (the size given to AddVariablesArray) in {n_shorter} entries"
                )
            if n_longer and longer is None:
                longer = (expression, size, n_longer)
        ncols = len(self.columns)
        block = build_events(
            arrays,
            list(self.columns),
            weight=self.weight,
            cut=self.cut,
            out=out if out is not None else (lambda n: np.empty((n, ncols), dtype=np.float32)),
        )
        entries = block.entry if kept is None else kept[block.entry]
        return SelectedChunk(block, np.asarray(entries, dtype=np.int64), n_read, longer)
