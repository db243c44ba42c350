"""TMVA's ``CvSplitKFolds`` (``tmva/tmva/src/CvSplit.cxx``): the events of a DataSet in k folds.

``CrossValidation`` splits the **training** events of the loader's DataSet (TMVA leaves the test set
unused) into ``NumFolds`` folds:

* ``SplitType=Random`` (TMVA's default): the fold pattern ``0, 1, …, k-1, 0, 1, …`` over the events,
  shuffled — every fold holds ``n/k`` events, give or take one;
* ``SplitType=RandomStratified``: the same within every class, so that every fold holds the same share
  of each class;
* ``SplitType=Deterministic`` with a ``SplitExpr``: the fold of each event is its split expression
  (:class:`~pymva.data.splitexpr.CvSplitKFoldsExpr`) on its spectators — an event always lands in the
  same fold, which is what lets the Reader apply the fold models later.  TMVA builds a stratified
  random split for ``Deterministic`` without an expression; so does pymva (with a warning).

Fold ``k``'s model trains on the other folds, concatenated in fold order, and is tested on fold ``k``
(``CvSplit::PrepareFoldDataSet``); the combined sample is the folds concatenated in fold order
(``CvSplit::RecombineKFoldDataSet``).  Within a fold the events keep their DataSet order.  The random
splits draw from one :class:`numpy.random.Generator` seeded with ``SplitSeed`` (TMVA: ``TRandom3`` with
seed 100): pymva reproduces the semantics, not ROOT's choice of events.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..data.dataset import DataSet, Sample, VariableInfo
from ..data.splitexpr import CvSplitKFoldsExpr
from ..errors import DataError, OptionError

__all__ = ["SPLIT_TYPES", "CvSplitKFolds"]

log = logging.getLogger("pymva.envelope.cvsplit")

SPLIT_TYPES = ("Random", "RandomStratified", "Deterministic")
IntArray = npt.NDArray[np.int64]


class CvSplitKFolds:
    """A k-fold split of the events of one sample.

    Parameters
    ----------
    num_folds : int
        ``NumFolds`` (at least 2).
    split_expr : str
        ``SplitExpr``; empty for a random split.
    stratified : bool
        Random splits only: balance every class over the folds.
    seed : int
        ``SplitSeed`` of the random splits.

    Raises
    ------
    OptionError
        For fewer than two folds.
    """

    def __init__(
        self, num_folds: int, split_expr: str = "", stratified: bool = True, seed: int = 100
    ) -> None:
        if int(num_folds) < 2:
            raise OptionError(f"NumFolds={num_folds}: cross-validation needs at least 2 folds")
        self.num_folds = int(num_folds)
        self.split_expr = str(split_expr)
        self.stratified = bool(stratified)
        self.seed = int(seed)

    def fold_assignment(self, sample: Sample, spectators: Sequence[VariableInfo]) -> IntArray:
        """The fold of every event of ``sample`` (``CvSplitKFolds::SplitSets``).

        Parameters
        ----------
        sample : Sample
            The events (their spectators feed the split expression, their classes the stratification).
        spectators : sequence of VariableInfo
            The spectators' descriptions, in column order.

        Returns
        -------
        ndarray of int64, shape (n_events,)
            Fold indices in ``[0, num_folds)``.

        Raises
        ------
        OptionError, DataError
            From the split expression.
        """
        k = self.num_folds
        n = len(sample)
        if self.split_expr.strip():
            return CvSplitKFoldsExpr(self.split_expr, spectators).evaluate(sample.spectators, k)
        rng = np.random.default_rng(self.seed)
        if not self.stratified:
            return rng.permutation(np.arange(n, dtype=np.int64) % k)
        folds = np.empty(n, dtype=np.int64)
        for c in np.unique(sample.class_id):
            idx = np.flatnonzero(sample.class_id == c)
            folds[idx] = rng.permutation(np.arange(idx.size, dtype=np.int64) % k)
        return folds

    def fold_indices(self, folds: IntArray, fold: int) -> tuple[IntArray, IntArray]:
        """Training and test event indices of one fold (``CvSplit::PrepareFoldDataSet``).

        Returns
        -------
        train, test : ndarray of int64
            ``train``: the events of the other folds, fold by fold; ``test``: the events of ``fold``.
        """
        order = self.combined_order(folds)
        test = np.flatnonzero(folds == fold)
        train = order[folds[order] != fold]
        return train.astype(np.int64), test.astype(np.int64)

    @staticmethod
    def combined_order(folds: IntArray) -> IntArray:
        """The events fold by fold, each fold in event order (``CvSplit::RecombineKFoldDataSet``)."""
        return np.argsort(folds, kind="stable").astype(np.int64)

    def fold_datasets(self, dataset: DataSet, folds: IntArray) -> list[DataSet]:
        """The DataSet of every fold: trained on the other folds, tested on this one.

        Raises
        ------
        DataError
            When a fold holds no event (too few events, or a split expression that never gives it).
        """
        sample = dataset.train
        counts = np.bincount(folds, minlength=self.num_folds)
        empty = [int(i) for i in np.flatnonzero(counts == 0)]
        if empty:
            raise DataError(
                f"cross-validation of dataset '{dataset.name}': folds {empty} (0-based) hold no event of the "
                f"{len(sample)} training events (events per fold: {counts.tolist()}); use fewer folds or another "
                "split expression"
            )
        out = []
        for k in range(self.num_folds):
            train, test = self.fold_indices(folds, k)
            out.append(dataset.with_samples(sample.subset(train), sample.subset(test)))
        return out

    def __repr__(self) -> str:
        kind = (
            f"SplitExpr={self.split_expr!r}"
            if self.split_expr
            else ("RandomStratified" if self.stratified else "Random")
        )
        return f"CvSplitKFolds(NumFolds={self.num_folds}, {kind}, seed={self.seed})"
