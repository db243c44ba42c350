"""The ``SplitExpr`` of k-fold cross-validation: TMVA's ``CvSplitKFoldsExpr`` (``tmva/tmva/src/CvSplit.cxx``).

A split expression assigns every event to a fold from its spectators, so that the fold of an event
never changes (the same event always lands in the same fold, in training and in application)::

    int(fabs([eventID]))%int([NumFolds])

TMVA evaluates it as a ``TFormula`` whose *parameters* are the bracketed names: ``[NumFolds]`` (or
``[numFolds]``) is the number of folds, every other ``[name]`` is the spectator whose name, label or
expression is ``name`` (``CvSplitKFoldsExpr::GetSpectatorIndexForName``), read as the ``float`` value
TMVA's ``Event`` holds.  The value is rounded to the nearest integer (``std::lround``); a negative value,
or one of ``NumFolds`` or more, is an error.

pymva evaluates the same text with its own expression engine (:mod:`pymva.data.expression`, ROOT's
function names and operators), on whole columns at once: the brackets are replaced by internal
column names before parsing.  Nothing here reads files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import awkward as ak
import numpy as np
import numpy.typing as npt

from ..errors import DataError, OptionError, did_you_mean
from .dataset import VariableInfo
from .expression import parse_formula

__all__ = ["CvSplitKFoldsExpr"]

_PLACEHOLDER = re.compile(r"\[([^\[\]]*)\]")
_NUM_FOLDS = ("NumFolds", "numFolds")


class CvSplitKFoldsExpr:
    """A parsed split expression, bound to the spectators of a data set.

    Parameters
    ----------
    expression : str
        The ``SplitExpr`` text (TMVA's ``TFormula`` syntax with ``[name]`` parameters).
    spectators : sequence of VariableInfo
        The spectators, in declaration order (their internal names, labels and expressions are the
        names a placeholder may use).

    Attributes
    ----------
    text : str
        The expression as given.
    spectator_index : tuple of int
        For each placeholder other than ``[NumFolds]``, in order of first appearance, the index of its
        spectator.

    Raises
    ------
    OptionError
        For an empty expression, a placeholder that names no spectator (listing them), a name outside
        brackets (TMVA's ``TFormula`` has no such variables), or text that does not parse.

    Examples
    --------
    >>> from pymva.data.dataset import VariableInfo
    >>> spec = [VariableInfo("eventID", "eventID", "eventID", kind="spectator")]
    >>> expr = CvSplitKFoldsExpr("int(fabs([eventID]))%int([NumFolds])", spec)
    >>> expr.evaluate(np.array([[1.0], [2.0], [3.0], [-4.0]], np.float32), 3).tolist()
    [1, 2, 0, 1]
    """

    def __init__(self, expression: str, spectators: Sequence[VariableInfo]) -> None:
        text = str(expression)
        if not text.strip():
            raise OptionError(
                "SplitExpr is empty: give an expression such as int(fabs([eventID]))%int([NumFolds])"
            )
        self.text = text
        self._spectators = tuple(spectators)
        columns: dict[str, str] = {}  # placeholder name -> internal column name
        index: list[int] = []
        self._uses_num_folds = False

        def column(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in _NUM_FOLDS:
                self._uses_num_folds = True
                return "__cv_numfolds"
            if name not in columns:
                index.append(self._spectator_index(name))
                columns[name] = f"__cv_spec{len(columns)}"
            return columns[name]

        rewritten = _PLACEHOLDER.sub(column, text)
        try:
            self._formula = parse_formula(rewritten)
        except DataError as exc:
            raise OptionError(f'Split expression "{text}" is not a valid TFormula: {exc}') from None
        internal = set(columns.values()) | {"__cv_numfolds"}
        bare = sorted(self._formula.branches - internal)
        if bare:
            raise OptionError(
                f'Split expression "{text}": {", ".join(repr(b) for b in bare)} outside brackets; TMVA\'s '
                "split expression reads spectators as parameters, written in brackets: "
                + ", ".join(f"[{b}]" for b in bare)
            )
        self._columns = tuple(columns.values())
        self.spectator_index: tuple[int, ...] = tuple(index)

    def _spectator_index(self, name: str) -> int:
        for i, vi in enumerate(self._spectators):
            if name in (vi.internal_name, vi.label, vi.expression):
                return i
        known = [vi.label for vi in self._spectators]
        raise OptionError(
            f'Spectator "{name}" not found: the split expression "{self.text}" can read the spectators '
            f"{known if known else '(none declared)'}{did_you_mean(name, known)}; declare it with "
            f'dataloader.AddSpectator("{name}")'
        )

    def evaluate(self, spectators: npt.ArrayLike, num_folds: int) -> npt.NDArray[np.int64]:
        """The fold of every event (TMVA ``CvSplitKFoldsExpr::Eval``, vectorised).

        Parameters
        ----------
        spectators : array_like, shape (n_events, n_spectators)
            The spectator values of the events (read as float32, as TMVA's ``Event`` stores them).
        num_folds : int
            The number of folds (the value of ``[NumFolds]``).

        Returns
        -------
        ndarray of int64, shape (n_events,)
            Fold indices in ``[0, num_folds)``.

        Raises
        ------
        DataError
            For spectator columns that do not match, or a value that is NaN, negative or not below
            ``num_folds`` (naming how many events and the first such value).
        """
        S = np.asarray(spectators, dtype=np.float32)
        if S.ndim != 2 or S.shape[1] != len(self._spectators):
            raise DataError(
                f'Split expression "{self.text}": expected spectator values of shape (n_events, '
                f"{len(self._spectators)}), got {S.shape}"
            )
        n = S.shape[0]
        if n == 0:
            return np.zeros(0, np.int64)
        arrays: dict[str, npt.NDArray[np.float64]] = {
            col: S[:, i].astype(np.float64)
            for col, i in zip(self._columns, self.spectator_index, strict=True)
        }
        if self._uses_num_folds:
            arrays["__cv_numfolds"] = np.full(n, float(num_folds))
        if not arrays:  # a constant expression
            arrays["__cv_numfolds"] = np.full(n, float(num_folds))
        values = ak.to_numpy(ak.fill_none(self._formula.evaluate(arrays), np.nan)).astype(np.float64)
        if values.ndim != 1:
            raise DataError(f'Split expression "{self.text}" gives more than one value per event')
        bad_nan = ~np.isfinite(values)
        if bad_nan.any():
            raise DataError(
                f'Split expression "{self.text}" is not a number for {int(bad_nan.sum())} of {n} events'
            )
        negative = values < 0
        if negative.any():
            raise DataError(
                f'Output of splitExpr must be non-negative: "{self.text}" is {values[negative][0]:g} for '
                f"{int(negative.sum())} of {n} events"
            )
        folds: npt.NDArray[np.int64] = np.floor(values + 0.5).astype(np.int64)  # std::lround for values >= 0
        beyond = folds >= num_folds
        if beyond.any():
            raise DataError(
                "Output of splitExpr should be a non-negative integer between 0 and numFolds-1 inclusive: "
                f'"{self.text}" is {values[beyond][0]:g} for {int(beyond.sum())} of {n} events with '
                f"NumFolds={num_folds}"
            )
        return folds

    def __repr__(self) -> str:
        return f"CvSplitKFoldsExpr({self.text!r})"
