"""The Factory's output ROOT file (``../shared/tmva/core.md`` §6), in one place.

:mod:`.layout` says what goes where and assembles a job's file (:func:`write_job_output`);
:mod:`.plots` makes the input-variable and correlation histograms that TMVA stores there;
:mod:`.writer` is the file (:class:`OutputFile`, atomic, written with uproot).

Typical use (what the Factory does)::

    with OutputFile("TMVA.root") as out:
        for h in correlation_matrix_histograms(ds, multiclass=False):
            out.write_histogram(ds.name, h)
        plots = input_variable_histograms(transformed_train, ds, "Id")
        out.write_input_variable_plots(f"{ds.name}/{input_variables_directory('Id')}", plots)
        out.write_string(f"{ds.name}/Method_PyTorch/PyTorch", "WeightFileName", path)
        for h in evaluation_histograms:
            out.write_histogram(f"{ds.name}/Method_PyTorch/PyTorch", h)
        out.write_event_tree(ds.name, "TrainTree", event_tree_columns(ds, ds.train, train_results, kind))
        out.write_event_tree(ds.name, "TestTree", event_tree_columns(ds, ds.test, test_results, kind))
    # the file appears at TMVA.root only here
"""

from __future__ import annotations

from .layout import MethodResults, event_tree_columns, method_directory, write_job_output
from .plots import (
    InputVariablePlots,
    correlation_matrix_histogram,
    correlation_matrix_histograms,
    input_variable_histograms,
    input_variables_directory,
)
from .writer import DEFAULT_CHUNK_SIZE, EventTreeColumns, GraphLike, OutputFile, TreeBranch

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "EventTreeColumns",
    "GraphLike",
    "InputVariablePlots",
    "MethodResults",
    "OutputFile",
    "TreeBranch",
    "correlation_matrix_histogram",
    "correlation_matrix_histograms",
    "event_tree_columns",
    "input_variable_histograms",
    "input_variables_directory",
    "method_directory",
    "write_job_output",
]
