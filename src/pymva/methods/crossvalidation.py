"""``MethodCrossValidation``: the fold models of a k-fold cross-validation as one method (TMVA's
``tmva/tmva/src/MethodCrossValidation.cxx``).

:class:`~pymva.envelope.CrossValidation` trains one model per fold (``<title>_fold<k>``, weights files
``<JobName>_<title>_fold<k>.weights.xml``) and writes one more weights file,
``<JobName>_<title>.weights.xml``, of type ``CrossValidation``.  Its ``<Weights>`` element names what
the Reader needs to find and apply the fold models::

    <Weights JobName="TMVACrossValidation" SplitExpr="int(fabs([eventID]))%int([NumFolds])" NumFolds="2"
             EncapsulatedMethodName="BDTG" EncapsulatedMethodTypeName="BDT" OutputEnsembling="None"/>

Booked in the :class:`~pymva.reader.Reader`, the method scores every event with the fold model its split
expression selects (``OutputEnsembling=None``): the model that did not train on it, for the events of
the training; or with the average of every fold model (``OutputEnsembling=Avg``).  With a split
expression the method reads the spectators (:attr:`uses_spectators`): it receives the variables and
then the spectators as one array.  Events are grouped by fold and every fold model is applied once to
its events, vectorised.

The method never opens a file: the weights-file loader (:mod:`pymva.io.weights`) reads the fold models
named by :meth:`MethodCrossValidation.fold_weight_files` and hands them over with
:meth:`MethodCrossValidation.set_fold_methods`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..data.splitexpr import CvSplitKFoldsExpr
from ..errors import ModelError, NotTrainedError, OptionError
from ..options import option, positive
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .registry import register_method

__all__ = ["CrossValidationOptions", "MethodCrossValidation", "fold_title", "plain_name"]

F32 = npt.NDArray[np.float32]

#: ``OutputEnsembling`` values.
ENSEMBLING = ("None", "Avg")


def fold_title(title: str, fold: int) -> str:
    """``<title>_fold<k>``, the title of the model of fold ``fold`` (0-based; TMVA counts from 1)."""
    return f"{title}_fold{fold + 1}"


def plain_name(value: str, what: str, source: str) -> str:
    """Check that a name read from a weights file is a plain file-name part (no directory, no NUL).

    Raises
    ------
    ModelError
        Naming ``what``, the value and ``source``.
    """
    if not value or any(c in value for c in ("/", "\\", "\0")) or value in (".", ".."):
        raise ModelError(
            f"weights file '{source}': {what} {value!r} must be a plain name (letters, digits, '_', …; no "
            "directory separator): it becomes part of the fold weights-file names"
        )
    return value


@dataclass(frozen=True)
class CrossValidationOptions(BaseMethodOptions):
    """Options of ``MethodCrossValidation`` (TMVA ``MethodCrossValidation::DeclareOptions``)."""

    EncapsulatedMethodName: str = option("", "Title of the method trained in every fold")
    EncapsulatedMethodTypeName: str = option("", "Type name of the method trained in every fold")
    NumFolds: int = option(2, "Number of folds to generate", check=positive)
    OutputEnsembling: str = option(
        "None",
        "Combines output from contained methods. If None, no combination is performed. (default None)",
        allowed=ENSEMBLING,
    )
    SplitExpr: str = option("", "The expression used to assign events to folds")


@register_method
class MethodCrossValidation(MethodBase):
    """The fold models of a cross-validation, applied as one method (see the module docstring).

    Created by :class:`~pymva.envelope.CrossValidation` (to write its weights file) and by the weights-file
    loader (to apply it); it is not booked in a Factory: its training is the envelope's.
    """

    method_type = EMVA.kCrossValidation
    Options = CrossValidationOptions
    help_text = "Method CrossValidation should not be created manually, only as part of using TMVA::Reader."

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self._folds: list[MethodBase] = []
        self._split: CvSplitKFoldsExpr | None = None
        self._bind_split()

    def _bind_split(self) -> None:
        """Parse the split expression against the spectators (TMVA ``ProcessOptions``).

        Raises
        ------
        OptionError
            For a split expression that does not parse or names an undeclared spectator.
        """
        text = self.opts.SplitExpr
        self._split = CvSplitKFoldsExpr(text, self.context.spectators) if text.strip() else None

    @property
    def opts(self) -> CrossValidationOptions:
        """The options, typed."""
        assert isinstance(self.options, CrossValidationOptions)
        return self.options

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Every analysis type (TMVA returns ``kTRUE``: the fold models decide)."""
        return True

    @property
    def uses_spectators(self) -> bool:
        """Whether the split expression picks the fold model of each event (it reads the spectators)."""
        return self.opts.OutputEnsembling == "None" and bool(self.opts.SplitExpr.strip())

    # ------------------------------------------------------------------ the fold models
    def fold_weight_files(self, weight_dir: str | Path | None = None) -> list[Path]:
        """The weights files of the fold models (TMVA ``GetWeightFileNameForFold``).

        ``<weight_dir>/<JobName>_<EncapsulatedMethodName>_fold<k>.weights.xml`` for ``k = 1 …
        NumFolds``; ``weight_dir`` defaults to the method's (the directory of its weights file).
        """
        d = Path(self.context.weight_dir if weight_dir is None else weight_dir)
        name = self.opts.EncapsulatedMethodName
        return [
            d / f"{self.context.job_name}_{fold_title(name, k)}.weights.xml"
            for k in range(self.opts.NumFolds)
        ]

    def set_fold_methods(self, methods: Sequence[MethodBase], source: str = "") -> None:
        """Attach the fold models read from :meth:`fold_weight_files`, in fold order.

        Raises
        ------
        ModelError
            When their number differs from ``NumFolds``, or a model is of another type than
            ``EncapsulatedMethodTypeName``, itself a cross-validation, or trained on other variables,
            spectators, classes or analysis type than this method.
        """
        where = f" ('{source}')" if source else ""
        if len(methods) != self.opts.NumFolds:
            raise ModelError(
                f"method {self.method_name}{where}: {len(methods)} fold models for NumFolds={self.opts.NumFolds}"
            )
        mine = self.context
        for k, m in enumerate(methods):
            what = f"method {self.method_name}{where}: the model of fold {k + 1} ({m.method_name})"
            if isinstance(m, MethodCrossValidation):
                raise ModelError(f"{what} is itself a CrossValidation method; folds cannot be nested")
            if m.method_type.type_name.lower() != self.opts.EncapsulatedMethodTypeName.lower():
                raise ModelError(
                    f"{what} is of type {m.method_type.type_name}, the file names "
                    f"EncapsulatedMethodTypeName={self.opts.EncapsulatedMethodTypeName}"
                )
            ctx = m.context
            same = (
                [v.expression for v in ctx.variables] == [v.expression for v in mine.variables]
                and [v.expression for v in ctx.spectators] == [v.expression for v in mine.spectators]
                and tuple(ctx.class_names) == tuple(mine.class_names)
                and ctx.analysis_type == mine.analysis_type
            )
            if not same:
                raise ModelError(
                    f"{what} was trained on variables {[v.expression for v in ctx.variables]}, spectators "
                    f"{[v.expression for v in ctx.spectators]}, classes {list(ctx.class_names)} "
                    f"({ctx.analysis_type.type_name}); the cross-validation file declares "
                    f"{[v.expression for v in mine.variables]}, {[v.expression for v in mine.spectators]}, "
                    f"{list(mine.class_names)} ({mine.analysis_type.type_name})"
                )
        self._folds = list(methods)
        self._trained = True

    @property
    def fold_methods(self) -> list[MethodBase]:
        """The fold models, in fold order (empty until :meth:`set_fold_methods`)."""
        return list(self._folds)

    # ------------------------------------------------------------------ training: the envelope's
    def _train(self, sample: Sample) -> None:
        raise ModelError(
            f"method {self.method_name}: MethodCrossValidation is not trained in a Factory; book the method "
            "to cross-validate in TMVA.CrossValidation (cv.BookMethod(...); cv.Evaluate()), which trains the "
            "folds and writes this method's weights file"
        )

    def _predict(self, X: F32) -> F32:  # pragma: no cover - raw_outputs is overridden
        raise ModelError(f"method {self.method_name}: evaluated through its fold models")

    # ------------------------------------------------------------------ application
    def fold_of(self, spectators: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """The fold whose model scores each event (the split expression on the spectators).

        Raises
        ------
        ModelError
            Without a split expression: the folds of a random split are known only inside the
            cross-validation that drew them (TMVA's ``fEventToFoldMapping``).
        DataError
            From the split expression (a value out of range).
        """
        if self._split is None:
            raise ModelError(
                f"method {self.method_name} was trained with a random split (no SplitExpr): which fold model "
                "did not see an event is known only inside the CrossValidation that drew the folds. Apply it "
                "with OutputEnsembling=Avg, or train with SplitType=Deterministic and a SplitExpr"
            )
        return self._split.evaluate(spectators, self.opts.NumFolds)

    def _combine(self, X: F32, apply: Callable[[MethodBase, F32], F32]) -> F32:
        if not self._folds:
            raise NotTrainedError(
                f"method {self.method_name} has no fold models: book it in the Reader from its weights file "
                "(the fold weights files must be beside it)"
            )
        X = np.ascontiguousarray(X, dtype=np.float32)
        nvar = self.context.n_variables
        n_cols = nvar + (len(self.context.spectators) if self.uses_spectators else 0)
        if X.ndim != 2 or X.shape[1] != n_cols:
            what = "variables then spectators" if self.uses_spectators else "variables"
            raise ModelError(
                f"method {self.method_name}: expected an array of shape (n_events, {n_cols}) ({what}), got "
                f"{X.shape}"
            )
        Xv = np.ascontiguousarray(X[:, :nvar])
        if self.opts.OutputEnsembling == "Avg":
            total: npt.NDArray[np.float64] | None = None
            for m in self._folds:
                out = np.asarray(apply(m, Xv), dtype=np.float64)
                total = out if total is None else total + out
            assert total is not None
            return (total / len(self._folds)).astype(np.float32)
        folds = self.fold_of(X[:, nvar:])
        result: F32 | None = None
        for k, m in enumerate(self._folds):
            idx = np.flatnonzero(folds == k)
            if idx.size == 0:
                continue
            out = np.asarray(apply(m, np.ascontiguousarray(Xv[idx])), dtype=np.float32)
            if result is None:
                result = np.zeros((len(X), *out.shape[1:]), np.float32)
            result[idx] = out
        if result is None:  # no events
            probe = np.asarray(apply(self._folds[0], Xv[:0]), dtype=np.float32)
            result = np.zeros((0, *probe.shape[1:]), np.float32)
        return result

    def raw_outputs(self, X: F32) -> F32:
        """The fold models' raw outputs (see :meth:`evaluate` for the columns of ``X``)."""
        return self._combine(X, lambda m, x: m.raw_outputs(x))

    def evaluate(self, X: F32) -> F32:
        """Responses as the Factory stores them: each event's fold model, or the average of all folds.

        Parameters
        ----------
        X : ndarray of float32, shape (n_events, n_variables [+ n_spectators])
            The variables, followed by the spectators when :attr:`uses_spectators`.

        Returns
        -------
        ndarray of float32
            As :meth:`MethodBase.evaluate` of the fold models (regression targets through each fold's
            inverse target transforms, averaged after it for ``Avg`` as TMVA does).

        Raises
        ------
        NotTrainedError
            Before the fold models are attached.
        ModelError, DataError
            For input of the wrong shape, a random split without ``Avg``, a fold out of range.
        """
        return self._combine(X, lambda m, x: m.evaluate(x))

    def mva_value(self, X: F32) -> F32:
        """TMVA's ``GetMvaValue`` of each event's fold model (or their average)."""
        return self._combine(X, lambda m, x: m.mva_value(x))

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """The attributes TMVA's ``MethodCrossValidation::AddWeightsXMLTo`` writes."""
        o = self.opts
        parent.set("JobName", self.context.job_name)
        parent.set("SplitExpr", o.SplitExpr)
        parent.set("NumFolds", str(o.NumFolds))
        parent.set("EncapsulatedMethodName", o.EncapsulatedMethodName)
        parent.set("EncapsulatedMethodTypeName", o.EncapsulatedMethodTypeName)
        parent.set("OutputEnsembling", o.OutputEnsembling)

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the attributes back (TMVA ``ReadWeightsFromXML``); the fold models come separately.

        Raises
        ------
        ModelError
            For a missing ``<Weights>`` element or attribute, a ``NumFolds`` that is not a positive
            integer, an unknown ``OutputEnsembling``, names that are not plain names, or a split
            expression that the spectators cannot satisfy.
        """
        import dataclasses

        source = str(self.context.weight_dir)
        if weights is None:
            raise ModelError(f"method {self.method_name}: the weights file has no <Weights> element")
        attrs = weights.attrib
        missing = [
            a
            for a in (
                "JobName",
                "SplitExpr",
                "NumFolds",
                "EncapsulatedMethodName",
                "EncapsulatedMethodTypeName",
            )
            if a not in attrs
        ]
        if missing:
            raise ModelError(f"method {self.method_name}: <Weights> lacks the attributes {missing}")
        try:
            n_folds = int(attrs["NumFolds"])
        except ValueError:
            n_folds = 0
        if n_folds < 1:
            raise ModelError(
                f"method {self.method_name}: NumFolds={attrs['NumFolds']!r} is not a positive integer"
            )
        ensembling = attrs.get("OutputEnsembling", "None")
        if ensembling not in ENSEMBLING:
            raise ModelError(
                f"method {self.method_name}: Ensembling type {ensembling!r} unknown (expected None or Avg)"
            )
        job = plain_name(attrs["JobName"], "JobName", source)
        name = plain_name(attrs["EncapsulatedMethodName"], "EncapsulatedMethodName", source)
        type_name = attrs["EncapsulatedMethodTypeName"]
        if type_name.lower() == "crossvalidation":
            raise ModelError(f"method {self.method_name}: the fold models cannot be CrossValidation methods")
        self.options = dataclasses.replace(
            self.opts,
            SplitExpr=attrs["SplitExpr"],
            NumFolds=n_folds,
            EncapsulatedMethodName=name,
            EncapsulatedMethodTypeName=type_name,
            OutputEnsembling=ensembling,
        )
        self.context = dataclasses.replace(self.context, job_name=job)
        try:
            self._bind_split()
        except OptionError as exc:  # the split expression against the file's spectators
            raise ModelError(f"method {self.method_name}: {exc}") from exc

    def check_trained(self) -> None:
        """Raise :class:`NotTrainedError` until the fold models are attached."""
        if not self._folds:
            raise NotTrainedError(f"method {self.method_name} has no fold models attached")
