"""Deploy without Python: a weights file as an ONNX model or a header-only C++ file.

:func:`export` reads a weights file (written by pymva, or by ROOT's TMVA for the methods the Reader
reads) with the Reader's own machinery, and writes one graph that takes the **raw input variables**
(float32, shape ``(N, nVar)``, the file's variable order) and returns what ``Reader.EvaluateMVA``
(``(N,)``), ``EvaluateRegression`` (``(N, nTargets)``) or ``EvaluateMulticlass`` (``(N, nClasses)``)
return, the method's variable transformations (and, for regression, the inverse target
transformation) folded in::

    from pymva.export import export
    export("dataset/weights/TMVAClassification_PyTorch.weights.xml", "onnx", "model.onnx")
    export("dataset/weights/TMVAClassification_PyTorch.weights.xml", "cpp", "TMVA_PyTorch.hxx")
    export("dataset/weights/TMVAClassification_PyTorch.weights.xml", "pt2", "model.pt2")

or ``pymva export WEIGHTS_XML --to onnx -o model.onnx`` (:mod:`pymva.cli`).  ``docs/deployment.md``
shows how to run the files in onnxruntime, ROOT's SOFIE and a C++ framework.

Modules: :mod:`~pymva.export.model` (the method as arrays), :mod:`~pymva.export.onnx_graph`,
:mod:`~pymva.export.cpp`, :mod:`~pymva.export.torchgraph` (TorchScript and ``torch.export``), :mod:`~pymva.export.erfinv`, :mod:`~pymva.export.torchlayers`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import OptionError, did_you_mean
from ..methods.base import MethodBase
from ..safety import check_output_path, write_bytes_atomically
from .model import EXPORTABLE, ExportModel, describe_method

__all__ = ["EXPORTABLE", "FORMATS", "ExportModel", "describe_method", "export", "export_method"]

#: The formats :func:`export` writes.
FORMATS = ("onnx", "cpp", "torchscript", "pt2")


def _format(to: str) -> str:
    fmt = str(to).lower()
    if fmt not in FORMATS:
        raise OptionError(
            f"export: unknown format '{to}'{did_you_mean(str(to), list(FORMATS))}; the formats are {', '.join(FORMATS)}"
        )
    return fmt


def export_method(
    method: MethodBase, to: str, output: str | os.PathLike[str], name: str | None = None
) -> Path:
    """Write a booked method (``Reader.BookMVA``'s return value) as ``to`` into ``output``.

    Parameters
    ----------
    method : MethodBase
    to : {"onnx", "cpp", "torchscript", "pt2"}
        ``torchscript``: ``torch.jit.save`` of the traced graph; ``pt2``: ``torch.export.save`` of
        the exported program (:mod:`~pymva.export.torchgraph`).
    output : path-like
        Written atomically: on any error an earlier file there is left as it was.
    name : str, optional
        The model's name (C++: namespace ``TMVA_SOFIE_<name>``); default the method's title.

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    OptionError
        For an unknown format or an output path that cannot be written.
    ModelError
        For a method that cannot be exported (the message names it and what can be exported).
    MissingExtraError
        For ONNX without the ``onnx`` package (``pip install pymva[export]``), for ``torchscript``
        or ``pt2`` without torch.
    """
    fmt = _format(to)
    target = check_output_path(output, argument="export(output)")
    model = describe_method(method, name)
    if fmt == "onnx":
        from .onnx_graph import to_onnx

        data = to_onnx(model)
    elif fmt == "cpp":
        from .cpp import to_cpp

        data = to_cpp(model).encode()
    else:
        from .torchgraph import to_pt2, to_torchscript

        data = to_torchscript(model) if fmt == "torchscript" else to_pt2(model)
    return write_bytes_atomically(target, data)


def export(
    weights: str | os.PathLike[str],
    to: str,
    output: str | os.PathLike[str],
    name: str | None = None,
    **options: Any,
) -> Path:
    """Read the weights file ``weights`` and write its method as ``to`` (see :data:`FORMATS`).

    Parameters
    ----------
    weights : path-like
        A ``.weights.xml`` file.
    to : {"onnx", "cpp", "torchscript", "pt2"}
    output : path-like
    name : str, optional
        See :func:`export_method`.
    **options
        What ``Reader.BookMVA`` accepts from the caller (``UserCode``, ``FilenameTrainedModel``, …).

    Raises
    ------
    OptionError, ModelError, DataError, MissingExtraError
        As :func:`export_method` and ``TMVA.Experimental.RReader`` raise them.
    """
    from ..reader import RReader

    _format(to)
    method = RReader(weights, **options).method
    return export_method(method, to, output, name)
