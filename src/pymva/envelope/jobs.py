"""One training of an envelope: a method trained, tested and evaluated by a Factory on one DataSet.

Every envelope reduces to many such trainings — the folds of a cross-validation, the variable subsets
of ``VariableImportance``, the parameter points of ``HyperParameterOptimisation``, the methods of
``Experimental.Classification``.  A :class:`TrainingJob` describes one (it is sent to a worker process
as it is), :func:`run_training_job` runs it with a fresh :class:`~pymva.factory.Factory` on a
:meth:`DataLoader.from_dataset <pymva.data.loader.DataLoader.from_dataset>` loader, exactly as a user's
script would, and returns a :class:`TrainingOutcome`: the responses, the evaluation result, the ROC
curve and where the weights file went.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..data.dataset import DataSet
from ..data.loader import DataLoader
from ..errors import NotTrainedError
from ..factory import Factory
from ..io.weights import weights_file_path
from ..methods.base import MethodBase
from ..types import EAnalysisType, ETreeType
from .parallel import in_worker, seeded

__all__ = ["TrainingJob", "TrainingOutcome", "run_training_job"]

F32 = npt.NDArray[np.float32]


@dataclass
class TrainingJob:
    """What one training needs (picklable).

    Attributes
    ----------
    dataset : DataSet
        The events: trained on ``train``, tested on ``test``.
    job_name : str
        The Factory's job name (first part of the weights-file name).
    method : str
        The method type name.
    title : str
        The method title.
    options : str
        The method's option string.
    factory_options : str
        The Factory's option string.
    output_path : str or None
        The Factory's output ROOT file, if any.
    seed : int
        Seed of the global random states during the training (:func:`~pymva.envelope.parallel.seeded`).
    keep_method : bool
        Whether to hand the trained method back (pickled, from a worker process).
    apply_to : ndarray of float32, shape (n, n_variables), optional
        More events to score with the trained method (:attr:`TrainingOutcome.applied_values`).
    """

    dataset: DataSet
    job_name: str
    method: str
    title: str
    options: str
    factory_options: str
    output_path: str | None = None
    seed: int = 0
    keep_method: bool = False
    apply_to: F32 | None = None


@dataclass
class TrainingOutcome:
    """What one training gave.

    Attributes
    ----------
    title : str
    trained : bool
        False when the Factory did not train the method (too few events, an analysis type it
        cannot handle).
    test_values, train_values : ndarray of float32 or None
        The responses on the DataSet's test and training samples (shapes as
        :meth:`MethodBase.evaluate`).
    result : object or None
        The Factory's evaluation result (:mod:`pymva.evaluation`).
    roc : ROCCurve or None
        The test-sample ROC curve (classification; multiclass: class 0 against the others).
    roc_integral : float
        Its area (NaN for regression).
    weights_file : Path or None
        The weights file written (``ModelPersistence``).
    training_time : float
        Seconds spent in the method's training.
    applied_values : ndarray of float32 or None
        The responses on :attr:`TrainingJob.apply_to`.
    method : MethodBase or None
        The trained method, when :attr:`TrainingJob.keep_method` (or when run in this process).
    """

    title: str
    trained: bool
    test_values: F32 | None = None
    train_values: F32 | None = None
    result: Any = None
    roc: Any = None
    roc_integral: float = float("nan")
    weights_file: Path | None = None
    training_time: float = 0.0
    applied_values: F32 | None = None
    method: MethodBase | None = field(default=None, repr=False)


def run_training_job(job: TrainingJob) -> TrainingOutcome:
    """Train, test and evaluate one method on one DataSet with a fresh Factory.

    Parameters
    ----------
    job : TrainingJob

    Returns
    -------
    TrainingOutcome

    Raises
    ------
    PyMVAError
        The Factory's and the method's errors.
    """
    loader = DataLoader.from_dataset(job.dataset)
    with seeded(job.seed):
        factory = Factory(job.job_name, job.output_path, job.factory_options)
        booked = factory.BookMethod(loader, job.method, job.title, job.options)
        if booked is None:  # the method cannot handle the analysis type (the Factory warned)
            return TrainingOutcome(job.title, trained=False)
        factory.TrainAllMethods()
        factory.TestAllMethods()
        try:
            factory.EvaluateAllMethods()
        except NotTrainedError:  # not trained: too few training events (the Factory warned)
            return TrainingOutcome(job.title, trained=False)
    method = factory.GetMethod(loader, job.title)
    at = method.context.analysis_type
    roc: Any = None
    auc = float("nan")
    if at != EAnalysisType.kRegression:
        roc = factory.GetROCCurve(loader, job.title)
        auc = float(roc.auc)
    weights = None
    if factory.options.ModelPersistence:
        weights = weights_file_path(Path(job.dataset.name) / "weights", job.job_name, job.title)
    applied = None if job.apply_to is None else np.asarray(method.evaluate(job.apply_to), dtype=np.float32)
    keep = job.keep_method or not in_worker()
    return TrainingOutcome(
        title=job.title,
        trained=True,
        test_values=factory.get_responses(loader, job.title, ETreeType.kTesting),
        train_values=factory.get_responses(loader, job.title, ETreeType.kTraining),
        result=factory.GetResults(loader, job.title),
        roc=roc,
        roc_integral=auc,
        weights_file=weights,
        training_time=float(method.training_time_ or 0.0),
        applied_values=applied,
        method=method if keep else None,
    )
