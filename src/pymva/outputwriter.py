"""Assemble the Factory's output ROOT file (``../shared/tmva/core.md`` §6) from what it has learnt.

The Factory keeps everything in memory and calls :func:`write_factory_output` once, at the end of
``EvaluateAllMethods`` (or from ``Close``); :class:`~pymva.outputfile.OutputFile` writes to a
temporary file that replaces the destination only when complete, so an error or an interrupt never
leaves a truncated file in place of a good one.

Per loader (byte-wise order of the loader names)::

    <loader>/CorrelationMatrixS, CorrelationMatrixB        (or per class / CorrelationMatrix)
    <loader>/InputVariables_<chain>/...                    one directory per Factory Transformations chain
    <loader>/Method_<Type>/<Title>/                        WeightFileName, TrainingPath, evaluation histograms,
                                                           test-sample input plots after the method's transforms
    <loader>/TrainTree, <loader>/TestTree
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .logger import get_logger
from .outputfile import (
    OutputFile,
    correlation_matrix_histograms,
    event_tree_columns,
    input_variable_histograms,
    input_variables_directory,
    method_directory,
)
from .transforms import TransformationHandler, parse_transformations_list
from .types import EAnalysisType

if TYPE_CHECKING:
    from .factory import Factory

__all__ = ["write_factory_output"]

#: TMVA plots input variables only when there are fewer than this many.
MAX_VARIABLES_FOR_PLOTS = 200


def write_factory_output(factory: Factory, path: str | os.PathLike[str]) -> Path:
    """Write the complete output file of a Factory job.

    Parameters
    ----------
    factory : Factory
        A Factory whose methods have been trained (and usually tested and evaluated).
    path : str or os.PathLike
        The output ROOT file; replaced atomically when complete.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    PyMVAError
        From the DataSet construction or the transforms; the previous file at ``path`` stays intact.
    """
    log = get_logger("Factory", "pymva.factory")
    at = factory.analysis_type or EAnalysisType.kClassification
    with OutputFile(path) as out:
        for ds_name in sorted(factory._methods, key=lambda s: s.encode()):
            loader = factory._loaders[ds_name]
            ds = factory._dataset(loader)
            out.mkdir(ds.name)
            for h in correlation_matrix_histograms(ds, multiclass=at == EAnalysisType.kMulticlass):
                out.write_histogram(ds.name, h)
            if len(ds.variables) < MAX_VARIABLES_FOR_PLOTS:
                for chain in parse_transformations_list(factory.options.Transformations):
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
            records = factory._methods[ds_name]
            for title, rec in records.items():
                method = rec.method
                directory = method_directory(ds.name, method.method_type.type_name, title)
                out.mkdir(directory)
                if rec.weights_file is not None:
                    out.write_string(directory, "WeightFileName", str(rec.weights_file))
                    out.write_string(directory, "TrainingPath", str(Path.cwd()))
                if rec.result is not None:
                    out.write_histograms(directory, rec.result.histograms.values())
                if rec.trained and len(ds.variables) < MAX_VARIABLES_FOR_PLOTS and len(ds.test):
                    test_t = method.transformations.transform(ds.test)
                    plots = input_variable_histograms(
                        test_t, ds, method.transformations.short_name, name_suffix=False, correlation_plots=False
                    )
                    out.write_input_variable_plots(directory, plots)
            tested = {t: r for t, r in records.items() if r.test_values is not None and r.train_values is not None}
            train_results = {t: r.train_values for t, r in tested.items() if r.train_values is not None}
            test_results = {t: r.test_values for t, r in tested.items() if r.test_values is not None}
            out.write_event_tree(ds.name, "TrainTree", event_tree_columns(ds, ds.train, train_results, at))
            out.write_event_tree(ds.name, "TestTree", event_tree_columns(ds, ds.test, test_results, at))
    log.info("Output file written: %s", path)
    return Path(path)
