"""TorchScript model files of ``MethodPyTorch``: save atomically, load safely, check the input size.

* :func:`save_scripted` scripts a model (``torch.jit.script``) and writes it atomically, with pymva's
  record (job, method, variables; :func:`pymva.methods.modelfiles.model_record`) as the archive's
  extra file ``pymva_record.json``.
* :func:`load_torchscript` reads only TorchScript archives (``torch.jit.load``, on the CPU): a
  ``torch.save`` pickle is refused, as are FIFOs and devices.
* :func:`check_input_size` runs one row of zeros through a model, so that a network with another
  input width than the declared variables is refused when it is booked ("model expects 7 inputs,
  4 variables declared"), not at the first event.

TMVA reference: ``MethodPyTorch::SetupPyTorchModel`` (``torch.jit.load``) and the tutorials'
``torch.jit.save(torch.jit.script(model), path)``.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ModelError, closest
from .modelfiles import check_regular_file, record_from_json, record_to_json

__all__ = ["RECORD_MEMBER", "check_input_size", "load_torchscript", "save_scripted", "similar_files"]


@contextmanager
def _quiet_jit() -> Iterator[None]:
    """Silence torch's deprecation warnings for TorchScript, the file format TMVA's contract uses."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r".*TorchScript.*", category=DeprecationWarning)
        yield


#: The extra file of a TorchScript archive that holds pymva's record (job, method, variables).
RECORD_MEMBER = "pymva_record.json"


def save_scripted(model: Any, path: str | os.PathLike[str], record: Mapping[str, Any] | None = None) -> None:
    """``torch.jit.script`` the model and save it to ``path`` atomically.

    The archive is written to a temporary file in the same directory, flushed to disk and renamed
    over ``path`` (``os.replace``), so an interrupted or failing save never destroys the previous
    file.  Missing parent directories are created.  ``record`` (see
    :func:`pymva.methods.modelfiles.model_record`) is stored as the archive's extra file
    ``pymva_record.json``.  A model with weights on a GPU is written as a CPU archive.

    Raises
    ------
    ModelError
        ``Model not scriptable. Failed to convert to torch script.`` or ``Failed to save trained
        model: <path>``, chained from torch's exception.
    """
    import torch

    target = Path(path)
    try:
        with _quiet_jit():
            scripted = torch.jit.script(model)
    except Exception as exc:
        raise ModelError(
            f"Model not scriptable. Failed to convert to torch script. ({type(exc).__name__}: {exc}) "
            "The model must stay TorchScript-compatible: torch.jit.script(model) has to work on it."
        ) from exc
    from ..safety import atomic_path

    if any(t.device.type != "cpu" for t in itertools.chain(scripted.parameters(), scripted.buffers())):
        # trained on a GPU: write a CPU archive, which torch.jit.load and ROOT's C++ torch::jit::load
        # open on a machine without one (the caller's model stays where it is)
        buffer = io.BytesIO()
        with _quiet_jit():
            torch.jit.save(scripted, buffer)
            buffer.seek(0)
            scripted = torch.jit.load(buffer, map_location="cpu")  # type: ignore[no-untyped-call]
    extra = {RECORD_MEMBER: record_to_json(record)} if record is not None else None
    if target.is_dir():
        raise ModelError(f"Failed to save trained model: {target} is a directory; give a file name")
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            with _quiet_jit():
                torch.jit.save(scripted, fh, _extra_files=extra)
            fh.flush()
            os.fsync(fh.fileno())
    except Exception as exc:
        raise ModelError(f"Failed to save trained model: {target} ({type(exc).__name__}: {exc})") from exc


def similar_files(path: str) -> str:
    """``"; did you mean '<dir>/<name>'?"`` for the files beside ``path`` closest to its name, or ``""``."""
    directory = os.path.dirname(path)
    try:
        present = sorted(os.listdir(directory or "."))
    except OSError:
        return f"; the directory '{directory}' does not exist" if directory else ""
    sugg = closest(os.path.basename(path), present, n=3, cutoff=0.5)
    if not sugg:
        return ""
    return "; did you mean " + " or ".join(repr(os.path.join(directory, s)) for s in sugg) + "?"


def load_torchscript(path: str | os.PathLike[str], records: dict[str, Any] | None = None) -> Any:
    """``torch.jit.load(path, map_location="cpu")`` with pymva's error messages.

    Only TorchScript archives are read (``torch.jit.load`` builds the TorchScript program; nothing
    is unpickled into Python objects): a ``torch.save`` pickle is refused.

    Parameters
    ----------
    path : path-like
        A regular file (FIFOs and devices are refused).
    records : dict, optional
        Receives the archive's pymva record under ``"record"`` (``None`` when it has none).

    Raises
    ------
    ModelError
        ``Failed to load PyTorch model from file: <path>`` saying whether the file is missing, not a
        regular file or not a TorchScript archive, chained from torch's exception.
    """
    import torch

    p = str(path)
    if not p:
        raise ModelError(
            "Failed to load PyTorch model from file: '' (no file name given; book the method with "
            "FilenameModel=<TorchScript file>, saved with torch.jit.save(torch.jit.script(model), path))"
        )
    if not os.path.exists(p):
        raise ModelError(
            f"Failed to load PyTorch model from file: {p} (the file does not exist; working directory "
            f"{os.getcwd()}){similar_files(p)}"
        )
    try:
        check_regular_file(p, "PyTorch model file")
    except ModelError as exc:
        raise ModelError(f"Failed to load PyTorch model from file: {p} ({exc})") from None
    extra = {RECORD_MEMBER: ""}
    try:
        with _quiet_jit():
            model = torch.jit.load(p, map_location="cpu", _extra_files=extra)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise ModelError(
            f"Failed to load PyTorch model from file: {p} (not a TorchScript archive: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). Save the model with "
            "torch.jit.save(torch.jit.script(model), path); torch.save(model) files cannot be loaded."
        ) from exc
    if records is not None:
        records["record"] = record_from_json(extra[RECORD_MEMBER], p)
    return model


def _first_input_width(model: Any) -> int | None:
    """The input width the first 2-D weight of ``model`` expects (``Linear(7, …)`` → 7), if any."""
    try:
        for _, value in model.named_parameters():
            if value.dim() == 2:
                return int(value.shape[1])
    except (AttributeError, RuntimeError, TypeError):  # not a module with parameters
        return None
    return None


def check_input_size(model: Any, n_variables: int, path: str | os.PathLike[str]) -> None:
    """Run one row of zeros through ``model``: it must accept ``n_variables`` inputs.

    The model is evaluated in eval mode without gradients (its mode is restored).

    Raises
    ------
    ModelError
        ``model expects 7 inputs, 4 variables declared`` (when the first weight matrix tells the
        width), or the model's own error on a ``(1, n_variables)`` float32 row.
    """
    import torch

    was_training = bool(getattr(model, "training", False))
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, n_variables), dtype=torch.float32))
    except Exception as exc:
        width = _first_input_width(model)
        first = str(exc).strip().splitlines()
        detail = first[-1] if first else type(exc).__name__
        if width is not None and width != n_variables:
            raise ModelError(
                f"PyTorch model '{path}': model expects {width} inputs, {n_variables} variables declared "
                "(the network's first layer must take one input per variable, in the declared order)"
            ) from exc
        raise ModelError(
            f"PyTorch model '{path}' fails on one row of {n_variables} inputs (one per declared variable): "
            f"{type(exc).__name__}: {detail}"
        ) from exc
    finally:
        with contextlib.suppress(AttributeError, RuntimeError, TypeError):  # a model without train()
            model.train(was_training)
