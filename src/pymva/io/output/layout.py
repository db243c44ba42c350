"""The layout of TMVA's output ROOT file (``../shared/tmva/core.md`` §6): what goes where.

Layout::

    <loader>/CorrelationMatrixS, CorrelationMatrixB    TH2F  (see correlation_matrix_histograms)
    <loader>/InputVariables_<chain>/...                 TH1F, CorrelationPlots/ TH2F + TProfile
    <loader>/Method_<Type>/<Title>/...                  TH1/TH2 of the evaluation, TObjString,
                                                        TrainingHistory_<Title>_<property> TH1D
    <loader>/TrainTree, <loader>/TestTree               TTree

:func:`write_job_output` writes the whole file of a Factory job from its DataSets and its methods'
results (the Factory calls it once, at the end of ``EvaluateAllMethods`` or from ``Close``); the
histograms of the input variables and correlation matrices come from :mod:`pymva.io.output.plots`,
the file itself is :class:`~pymva.io.output.writer.OutputFile`.

:func:`event_tree_columns` lays out TrainTree/TestTree as TMVA does: ``classID/I``, ``className/C``,
one ``/F`` branch per variable (internal name; an ``AddVariablesArray`` array as one branch
``name[n]/F``), per target, per spectator, ``weight/F``, then one branch per result in byte-wise
sorted order of the result name (the method title; ``prob_<title>`` …).  A classification result is
``<title>/F``; a multiclass result is one branch ``<title>`` with a leaf per class,
``<Class0>/F:<Class1>/F:…`` (the class names), and a regression result one branch with a leaf per
target, ``<target0>/F:…`` (the targets' internal names), as ``DataSet::GetTree`` books them
(``tmva/tmva/src/DataSet.cxx``): ``TestTree->Draw("<title>.<Class0>")`` works in ROOT; uproot reads
such a branch as a record array (fields named as the leaves), or as a plain float array when it has one
leaf (one target).  :mod:`pymva.io.output.ttree` streams those leaf lists, which uproot cannot write.

"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import hist
import numpy as np
import numpy.typing as npt

from ...data.dataset import DataSet, Sample, VariableInfo
from ...data.stream import StreamedDataSet
from ...errors import DataError
from ...histograms import fixed_axis, new_hist
from ...logger import get_logger
from ...methods.base import MethodBase
from ...transforms import TransformationHandler, parse_transformations_list
from ...types import EAnalysisType
from .plots import correlation_matrix_histograms, input_variable_histograms, input_variables_directory
from .writer import EventTreeColumns, OutputFile, TreeBranch

# --------------------------------------------------------------------------------------------------
# TrainTree / TestTree


_ARRAY_ELEMENT = re.compile(r"^(?P<base>.+)\[(?P<index>\d+)\]$")


def _variable_branches(
    infos: Sequence[VariableInfo], values: npt.NDArray[np.float32], role: str
) -> list[TreeBranch]:
    """One branch per variable; runs ``name[0]``, ``name[1]``, … (AddVariablesArray) become ``name[n]``."""
    out: list[TreeBranch] = []
    i = 0
    while i < len(infos):
        m = _ARRAY_ELEMENT.match(infos[i].internal_name)
        if m is None:
            out.append(TreeBranch(infos[i].internal_name, "F", 0, role, values[:, i]))
            i += 1
            continue
        base = m.group("base")
        j = i
        while j < len(infos):
            mj = _ARRAY_ELEMENT.match(infos[j].internal_name)
            if mj is None or mj.group("base") != base:
                break
            if int(mj.group("index")) != j - i:
                raise ValueError(
                    f"array variable '{base}': element '{infos[j].internal_name}' at position {j - i}; "
                    f"array elements must be declared in order {base}[0], {base}[1], …"
                )
            j += 1
        out.append(TreeBranch(base, "F", j - i, role, values[:, i:j]))
        i = j
    return out


def method_directory(loader: str, method_type: str, title: str) -> str:
    """``<loader>/Method_<Type>/<Title>``, a method's directory (``method_type`` without ``k``)."""
    return f"{loader}/Method_{method_type}/{title}"


def _analysis_kind(analysis_type: EAnalysisType | str) -> str:
    if isinstance(analysis_type, EAnalysisType):
        return analysis_type.type_name
    text = str(analysis_type).strip()
    for kind in ("Classification", "Regression", "Multiclass"):
        if text.lower() in (kind.lower(), f"k{kind}".lower()):
            return kind
    raise ValueError(
        f"unknown analysis type {analysis_type!r}; expected Classification, Regression or Multiclass"
    )


def event_tree_columns(
    dataset: DataSet,
    sample: Sample,
    results: Mapping[str, npt.ArrayLike],
    analysis_type: EAnalysisType | str,
) -> EventTreeColumns:
    """Lay out TMVA's TrainTree or TestTree for ``sample``.

    Parameters
    ----------
    dataset : DataSet
        Class names and the variable, target and spectator descriptions (branch names are the
        internal names).
    sample : Sample
        ``dataset.train`` or ``dataset.test`` (rows in TMVA's final mixed order); ``weight`` is
        ``sample.weights`` (the renormalised weights for training).
    results : mapping of str to array_like
        Per result name (the method title; ``prob_<title>`` for probabilities) the values per event:
        classification shape ``(n,)``; multiclass ``(n, n_classes)``; regression ``(n, n_targets)``
        or ``(n,)`` with one target.
    analysis_type : EAnalysisType or str
        ``Classification``, ``Regression`` or ``Multiclass``.

    Returns
    -------
    EventTreeColumns

    Raises
    ------
    ValueError
        A result with the wrong number of rows or columns, or a result name that is already a
        branch name (``weight``, a variable …).
    """
    kind = _analysis_kind(analysis_type)
    n = len(sample)
    for what, infos, width in (
        ("variables", dataset.variables, sample.X.shape[1]),
        ("targets", dataset.targets, sample.targets.shape[1]),
        ("spectators", dataset.spectators, sample.spectators.shape[1]),
    ):
        if len(infos) != width:
            raise ValueError(f"sample has {width} {what}; dataset '{dataset.name}' describes {len(infos)}")
    branches: list[TreeBranch] = [
        TreeBranch("classID", "I", 0, "classID", sample.class_id),
        TreeBranch("className", "C", 0, "className", sample.class_id),
    ]
    branches += _variable_branches(dataset.variables, sample.X, "variable")
    branches += [
        TreeBranch(t.internal_name, "F", 0, "target", sample.targets[:, k])
        for k, t in enumerate(dataset.targets)
    ]
    branches += [
        TreeBranch(s.internal_name, "F", 0, "spectator", sample.spectators[:, k])
        for k, s in enumerate(dataset.spectators)
    ]
    branches.append(TreeBranch("weight", "F", 0, "weight", sample.weights))
    taken = {b.name: b.role for b in branches}
    if len(taken) != len(branches):
        seen: set[str] = set()
        dup = [b.name for b in branches if b.name in seen or seen.add(b.name)]  # type: ignore[func-returns-value]
        raise ValueError(f"dataset '{dataset.name}': duplicate TrainTree/TestTree branch names {dup}")
    ntgt = len(dataset.targets)
    ncls = dataset.n_classes
    for name in sorted(results, key=lambda s: s.encode("utf-8")):
        if name in taken:
            raise ValueError(
                f"result '{name}' would be written as a branch that already exists (the {taken[name]} "
                f"branch '{name}'); give the method another title"
            )
        values = np.asarray(results[name], dtype=np.float32)
        if values.shape[:1] != (n,):
            raise ValueError(
                f"result '{name}' has {values.shape[:1] or 'no'} rows; the sample has {n} events"
            )
        width = 0
        leaves: tuple[str, ...] = ()
        if kind == "Multiclass" and not name.startswith("prob_"):
            if values.ndim != 2 or values.shape[1] != ncls:
                raise ValueError(
                    f"multiclass result '{name}' must have shape (n, {ncls}), got {values.shape}"
                )
            width = ncls
            leaves = tuple(dataset.class_names)
        elif kind == "Regression":
            if values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]
            if values.ndim == 2:
                if values.shape[1] != ntgt:
                    raise ValueError(
                        f"regression result '{name}' must have {ntgt} columns, got {values.shape}"
                    )
                width = ntgt
            elif ntgt > 1:
                raise ValueError(
                    f"regression result '{name}' must have shape (n, {ntgt}), got {values.shape}"
                )
            leaves = tuple(t.internal_name for t in dataset.targets)
        else:
            if values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]
            if values.ndim != 1:
                raise ValueError(f"classification result '{name}' must have shape (n,), got {values.shape}")
        branches.append(TreeBranch(name, "F", width, "result", values, leaves))
        taken[name] = "result"
    return EventTreeColumns(
        branches=tuple(branches),
        n_entries=n,
        class_names=tuple(dataset.class_names),
        dataset_name=dataset.name,
    )


def streamed_tree_columns(
    dataset: StreamedDataSet,
    which: str,
    results: Mapping[str, npt.ArrayLike],
    analysis_type: EAnalysisType | str,
) -> Iterator[EventTreeColumns]:
    """TMVA's TrainTree (``which="train"``) or TestTree of a ``Streaming=True`` DataSet, block by block.

    The events are read again (:meth:`~pymva.data.stream.StreamedDataSet.chunks`, the order of
    ``dataset.train``/``dataset.test``); each block is laid out by :func:`event_tree_columns` with the
    rows of ``results`` that belong to it.

    Raises
    ------
    ValueError
        As :func:`event_tree_columns`; or results whose length is not the sample's.
    """
    n_total = len(dataset.sample("train" if which == "train" else "test"))
    arrays = {k: np.asarray(v) for k, v in results.items()}
    for k, v in arrays.items():
        if len(v) != n_total:
            raise ValueError(f"result '{k}' has {len(v)} rows; the {which} sample has {n_total} events")
    start = 0
    for c in dataset.chunks(which):
        n = len(c)
        sample = Sample(
            X=c.X, targets=c.targets, spectators=c.spectators, weights=c.weights, class_id=c.class_id
        )
        yield event_tree_columns(
            dataset, sample, {k: v[start : start + n] for k, v in arrays.items()}, analysis_type
        )
        start += n
    if start == 0:  # no events: an empty tree with the branches
        empty = Sample.empty(len(dataset.variables), len(dataset.targets), len(dataset.spectators))
        yield event_tree_columns(dataset, empty, {k: v[:0] for k, v in arrays.items()}, analysis_type)
    if start != n_total:
        raise ValueError(f"the {which} stream gave {start} events; the sample has {n_total}")


def training_history_histograms(
    title: str, history: Mapping[str, Sequence[tuple[int, float]]]
) -> list[hist.Hist[Any]]:
    """The histograms TMVA's Factory writes for a method's training history (``fTrainHistory``).

    TMVA's ``TrainingHistory::SaveHistory``: one TH1D per property, one bin per recorded value, in
    the order recorded, bins centred on the stages (``n`` bins on ``[first − w/2, last + w/2]``,
    ``w = (last − first)/(n − 1)``; pymva takes ``w = 1`` for a single value, where TMVA divides by
    zero); contents set with ``AddBinContent``, so no ``Sumw2``, no entries and no fill statistics.

    Parameters
    ----------
    title : str
        The method title (TMVA's ``GetMethodName()``).
    history : mapping of str to sequence of (int, float)
        :attr:`pymva.methods.base.MethodBase.training_history`: per property (``trainingError``,
        ``valError``) the (stage, value) pairs.

    Returns
    -------
    list of hist.Hist
        TH1D (``Double`` storage), named ``TrainingHistory_<title>_<property>``, in byte-wise order of the property names (TMVA
        iterates a ``std::map``); properties without values are left out.
    """
    out: list[hist.Hist[Any]] = []
    for prop in sorted(history, key=lambda s: s.encode("utf-8")):
        points = list(history[prop])
        if not points:
            continue
        stages = np.array([p[0] for p in points], dtype=np.float64)
        values = np.array([p[1] for p in points], dtype=np.float64)
        n = len(points)
        width = (stages[-1] - stages[0]) / (n - 1) if n > 1 and stages[-1] != stages[0] else 1.0
        name = f"TrainingHistory_{title}_{prop}"
        axis = fixed_axis(n, float(stages[0] - 0.5 * width), float(stages[-1] + 0.5 * width))
        out.append(
            new_hist(name, name, [axis], values, classname="TH1D", entries=0.0, stats=(0.0, 0.0, 0.0, 0.0))
        )
    return out


#: TMVA plots input variables only when there are fewer than this many.
MAX_VARIABLES_FOR_PLOTS = 200


class MethodResults(Protocol):
    """What the output file needs of one booked method (the Factory's ``MethodRecord`` has it)."""

    method: MethodBase
    weights_file: Path | None
    trained: bool
    train_values: npt.NDArray[np.float32] | None
    test_values: npt.NDArray[np.float32] | None
    result: Any


def write_job_output(
    path: str | os.PathLike[str],
    jobs: Sequence[tuple[DataSet, Mapping[str, MethodResults]]],
    *,
    transformations: str,
    analysis_type: EAnalysisType | None,
) -> Path:
    """Write the complete output file of a Factory job.

    Parameters
    ----------
    path : str or os.PathLike
        The output ROOT file; replaced atomically when complete.
    jobs : sequence of (DataSet, mapping of title to MethodResults)
        Per loader, in the order written (TMVA: byte-wise order of the loader names), its DataSet and
        its booked methods by title, each trained (and usually tested and evaluated).
    transformations : str
        The Factory's ``Transformations`` option (``"I;D;P;U;G,D"``): one ``InputVariables_<chain>``
        directory per chain.
    analysis_type : EAnalysisType or None
        The job's analysis type (``None``: classification).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    DataError
        If the file cannot be written: any :class:`OSError` (disk full, quota, the directory removed
        or made read-only during the job); the message names the file and the reason.
    PyMVAError
        From the DataSet construction or the transforms.

    In every case the temporary file is removed and the previous file at ``path`` stays intact.
    """
    try:
        _write_job_output(path, jobs, transformations=transformations, analysis_type=analysis_type)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise DataError(
            f"cannot write the output file '{os.fspath(path)}': {reason} (errno {exc.errno}); nothing was "
            "written there, an earlier file of that name is unchanged"
        ) from exc
    return Path(path)


def _write_job_output(
    path: str | os.PathLike[str],
    jobs: Sequence[tuple[DataSet, Mapping[str, MethodResults]]],
    *,
    transformations: str,
    analysis_type: EAnalysisType | None,
) -> None:
    log = get_logger("Factory", "pymva.factory")
    at = analysis_type or EAnalysisType.kClassification
    with OutputFile(path) as out:
        for ds, records in jobs:
            out.mkdir(ds.name)
            for h in correlation_matrix_histograms(ds, multiclass=at == EAnalysisType.kMulticlass):
                out.write_histogram(ds.name, h)
            streamed = isinstance(ds, StreamedDataSet)
            if streamed:
                log.info(
                    "Dataset[%s] : Streaming=True: no input-variable histograms (they need all events at once)",
                    ds.name,
                )
            elif len(ds.variables) < MAX_VARIABLES_FOR_PLOTS:
                for chain in parse_transformations_list(transformations):
                    handler = TransformationHandler.parse(
                        chain,
                        variables=ds.variables,
                        targets=ds.targets,
                        spectators=ds.spectators,
                        class_names=ds.class_names,
                        method_title=f"{ds.name}_{chain}",
                    )
                    handler.fit(ds.train)
                    plots = input_variable_histograms(handler.transform(ds.train), ds, handler.short_name)
                    directory = out.unique_name(ds.name, input_variables_directory(handler.short_name))
                    out.write_input_variable_plots(f"{ds.name}/{directory}", plots)
            for title, rec in records.items():
                method = rec.method
                directory = method_directory(ds.name, method.method_type.type_name, title)
                out.mkdir(directory)
                if rec.weights_file is not None:
                    out.write_string(directory, "WeightFileName", str(rec.weights_file))
                    out.write_string(directory, "TrainingPath", str(Path.cwd()))
                out.write_histograms(directory, training_history_histograms(title, method.training_history))
                if rec.result is not None:
                    out.write_histograms(directory, rec.result.histograms.values())
                if (
                    rec.trained
                    and not streamed
                    and len(ds.variables) < MAX_VARIABLES_FOR_PLOTS
                    and len(ds.test)
                ):
                    test_t = method.transformations.transform(ds.test)
                    plots = input_variable_histograms(
                        test_t,
                        ds,
                        method.transformations.short_name,
                        name_suffix=False,
                        correlation_plots=False,
                    )
                    out.write_input_variable_plots(directory, plots)
            tested = {
                t: r for t, r in records.items() if r.test_values is not None and r.train_values is not None
            }
            train_results = {t: r.train_values for t, r in tested.items() if r.train_values is not None}
            test_results = {t: r.test_values for t, r in tested.items() if r.test_values is not None}
            if isinstance(ds, StreamedDataSet):
                for name, which, results in (
                    ("TrainTree", "train", train_results),
                    ("TestTree", "test", test_results),
                ):
                    out.write_event_tree_chunks(ds.name, name, streamed_tree_columns(ds, which, results, at))
            else:
                out.write_event_tree(
                    ds.name, "TrainTree", event_tree_columns(ds, ds.train, train_results, at)
                )
                out.write_event_tree(ds.name, "TestTree", event_tree_columns(ds, ds.test, test_results, at))
    log.info("Output file written: %s", path)
