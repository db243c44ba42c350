"""``torch.export`` model files (``.pt2``) of ``MethodPyTorch``: read safely, train, save atomically.

TorchScript, the format of TMVA's PyTorch contract, is deprecated in torch 2.13 in favour of
``torch.export``.  ``MethodPyTorch`` therefore also accepts an ``ExportedProgram`` saved with
``torch.export.save`` as ``FilenameModel`` and can write the trained model in that format
(``ModelFormat=Export``).

* :func:`is_pt2_archive` tells a ``.pt2`` archive from a TorchScript one by its content.
* :func:`load_exported_program` reads one **without running anything from the file**.  A ``.pt2``
  archive is not safe by itself: torch unpickles tensors flagged ``use_pickle``, custom and opaque
  objects and the sample inputs (falling back to a full pickle), ``sympy.sympify``\\ s (``eval``\\ s)
  the symbolic-shape expressions, ``exec``\\ s the stored guard code and loads AOTInductor shared
  libraries.  pymva therefore checks the archive first and hands torch a cleaned copy:

  - refused: AOTInductor code, legacy pickled weight/constant files, any weight or constant stored as
    a pickle, custom or opaque objects, custom-object values, an operator outside ``torch.ops.aten``
    / ``torch.ops.prims`` (and ``operator.getitem``), a symbolic expression that is not made of
    sympy's shape vocabulary only (numbers, ``Symbol('s0', positive=True, …)``, arithmetic and
    torch's integer functions), names that are not plain identifiers;
  - dropped from the copy: the sample inputs (a pickle), the guard code and every node's metadata
    (stack traces and annotations end up in generated source);
  - after loading, every node of the graph is checked again to call an ATen/prims operator.
* :class:`ExportedModule` makes the loaded program trainable under the tutorials' unchanged loop:
  ``torch.export.load(...).module()`` raises ``NotImplementedError`` on ``.train()``/``.eval()``
  (torch 2.13), which every training loop calls; the wrapper's ``train(mode)`` instead rewrites the
  ``train`` flag of the graph's dropout calls and the ``training`` flag of its ``batch_norm`` calls, so
  that dropout and batch normalisation behave as in the original ``nn.Module``.
* :func:`save_exported_program` exports a model (in evaluation mode, the batch dimension dynamic) and
  writes it atomically with pymva's record as the archive's extra file.

TMVA reference: none — TMVA's ``MethodPyTorch::SetupPyTorchModel`` reads TorchScript only
(``torch.jit.load``); this is a pymva extension.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import operator
import os
import re
import stat
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelError
from .modelfiles import check_regular_file, record_from_json, record_to_json

__all__ = [
    "RECORD_MEMBER",
    "ExportedModule",
    "is_pt2_archive",
    "load_exported_program",
    "save_exported_program",
]

#: The extra file of a ``.pt2`` archive that holds pymva's record (job, method, variables).
RECORD_MEMBER = "pymva_record.json"

_MAX_JSON = 256 * 1024 * 1024
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FQN = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*\Z")
_TARGET = re.compile(r"torch\.ops\.(aten|prims)\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+\Z")
#: torch's shape symbols: ``s0``, ``u3`` (unbacked), ``ps1`` …
_SYMBOL = re.compile(r"[a-z]{1,3}[0-9]+\Z")
_ALLOWED_TARGETS = frozenset({"_operator.getitem"})
#: sympy's vocabulary in torch's serialised shape expressions (``srepr`` form)
_SYMPY_WORDS = frozenset(
    [
        "Symbol",
        "Integer",
        "Rational",
        "Float",
        "Add",
        "Mul",
        "Pow",
        "Mod",
        "Max",
        "Min",
        "Abs",
        "Eq",
        "Ne",
        "Lt",
        "Le",
        "Gt",
        "Ge",
        "And",
        "Or",
        "Not",
        "FloorDiv",
        "ModularIndexing",
        "Where",
        "PythonMod",
        "CleanDiv",
        "CeilToInt",
        "FloorToInt",
        "CeilDiv",
        "LShift",
        "RShift",
        "PowByNatural",
        "FloatPow",
        "FloatTrueDiv",
        "IntTrueDiv",
        "IsNonOverlappingAndDenseIndicator",
        "TruncToFloat",
        "TruncToInt",
        "ToFloat",
        "RoundToInt",
        "RoundDecimal",
        "Identity",
        "floor",
        "ceiling",
        "sqrt",
        "oo",
        "zoo",
        "nan",
        "true",
        "false",
        "True",
        "False",
        "positive",
        "negative",
        "nonnegative",
        "nonpositive",
        "integer",
        "real",
        "finite",
        "infinite",
        "zero",
        "nonzero",
        "even",
        "odd",
        "precision",
    ]
)
_EXPR_TOKEN = re.compile(
    r"\s+|(?P<num>\d+(\.\d+)?(e[+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<str>'[A-Za-z_][A-Za-z0-9_]*')"
    r"|(?P<op>\*\*|//|[-+*/%(),=<>!&|~])"
)


def _refuse(path: str | os.PathLike[str], why: str) -> ModelError:
    return ModelError(
        f"PyTorch model file '{path}': {why}. pymva reads .pt2 archives only when nothing in them can "
        "run code (no pickles, no compiled code, ATen operators only); save the model with "
        "torch.export.save(torch.export.export(model.eval(), (x,)), path) from a plain nn.Module"
    )


def _members(zf: zipfile.ZipFile) -> tuple[str, dict[str, zipfile.ZipInfo]]:
    """The archive's top folder and its members by path below it."""
    infos = zf.infolist()
    if not infos:
        raise ValueError("empty archive")
    root = infos[0].filename.split("/", 1)[0]
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        head, _, rest = info.filename.partition("/")
        if head != root or not rest:
            raise ValueError(f"member {info.filename!r} outside the archive's folder {root!r}")
        members[rest] = info
    return root, members


def is_pt2_archive(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a ``torch.export`` archive (``<folder>/archive_format`` reads ``pt2``).

    TorchScript archives are zip files too; they have no ``archive_format`` member.  A file that is not
    a zip file, or cannot be read, is not a ``.pt2`` archive (the TorchScript reader then says why).
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # never open a FIFO or a device
            return False
        with zipfile.ZipFile(path) as zf:
            _, members = _members(zf)
            info = members.get("archive_format")
            return info is not None and info.file_size < 64 and zf.read(info).strip() == b"pt2"
    except (OSError, zipfile.BadZipFile, ValueError, KeyError):
        return False


def _check_expression(text: Any, path: str | os.PathLike[str]) -> None:
    if not isinstance(text, str) or len(text) > 10_000:
        raise _refuse(path, "a symbolic shape expression is not a short string")
    pos = 0
    while pos < len(text):
        m = _EXPR_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _refuse(path, f"symbolic shape expression {text[:80]!r} holds {text[pos : pos + 10]!r}")
        name = m.group("name")
        if name is not None and name not in _SYMPY_WORDS and not _SYMBOL.match(name):
            raise _refuse(path, f"symbolic shape expression {text[:80]!r} names {name!r}")
        pos = m.end()


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any, Any]]:
    """``(key, value, parent)`` for every dict entry of a JSON tree."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                yield str(k), v, item
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)


def _clean_program(data: bytes, path: str | os.PathLike[str]) -> bytes:
    """Check one serialised ExportedProgram (``models/<name>.json``) and return the cleaned JSON."""
    try:
        program = json.loads(data)
    except (ValueError, RecursionError):
        raise _refuse(path, "its program is not valid JSON") from None
    if not isinstance(program, dict) or not isinstance(program.get("graph_module"), dict):
        raise _refuse(path, "its program has no graph")
    program["guards_code"] = []
    for expr in program.get("range_constraints") or {}:
        _check_expression(expr, path)
    for key, value, parent in list(_walk(program["graph_module"])):
        if key == "target" and "inputs" in parent:
            if not isinstance(value, str) or not (_TARGET.match(value) or value in _ALLOWED_TARGETS):
                raise _refuse(path, f"its graph calls {str(value)[:80]!r}, not an ATen operator")
        elif key == "metadata" and "target" in parent:
            parent["metadata"] = {}
        elif key == "expr_str":
            _check_expression(value, path)
        elif key == "custom_obj_values" and value:
            raise _refuse(path, "its graph holds custom objects")
        elif key == "as_custom_obj" or key == "as_graph":
            raise _refuse(path, f"its graph holds {key.removeprefix('as_')} arguments")
        elif key == "name" and isinstance(value, str) and not _IDENT.match(value):
            raise _refuse(path, f"its graph has the name {value[:80]!r}, not an identifier")
        elif key.endswith("_name") and isinstance(value, str) and not _FQN.match(value):
            raise _refuse(path, f"its graph names {value[:80]!r}")
    return json.dumps(program).encode()


def _check_payload(data: bytes, path: str | os.PathLike[str], what: str) -> None:
    try:
        config = json.loads(data)
    except (ValueError, RecursionError):
        raise _refuse(path, f"its {what} table is not valid JSON") from None
    entries = config.get("config", {}) if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise _refuse(path, f"its {what} table is not a table")
    for fqn, meta in entries.items():
        if not isinstance(meta, dict) or not _FQN.match(str(fqn)):
            raise _refuse(path, f"its {what} table has the entry {str(fqn)[:80]!r}")
        if meta.get("use_pickle"):
            raise _refuse(path, f"{what} {fqn!r} is stored as a Python pickle")
        name = str(meta.get("path_name", ""))
        if what == "constant" and not name.startswith("tensor_"):
            raise _refuse(path, f"constant {fqn!r} is a custom or opaque object ({name!r})")
        if not _IDENT.match(name):
            raise _refuse(path, f"{what} {fqn!r} is stored under {name[:80]!r}")


def _cleaned_archive(path: str | os.PathLike[str]) -> io.BytesIO:
    """Check the archive at ``path`` and return the copy torch may read (see the module docstring)."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise _refuse(path, f"not a zip archive ({exc})") from None
    with zf:
        try:
            root, members = _members(zf)
        except ValueError as exc:
            raise _refuse(path, str(exc)) from None
        models = [m for m in members if m.startswith("models/") and m.endswith(".json")]
        if models != ["models/model.json"]:
            raise _refuse(path, f"it holds the programs {models} (one program named 'model' is read)")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as clean:
            for name, info in members.items():
                if name.startswith("data/aotinductor/"):
                    raise _refuse(path, "it holds AOTInductor compiled code (a shared library)")
                if name in ("data/weights/model.pt", "data/constants/model.pt"):
                    raise _refuse(path, f"it holds {name}, a pickle of torch's older .pt2 layout")
                if info.file_size > _MAX_JSON and name.endswith(".json"):
                    raise _refuse(path, f"its member {name} is larger than {_MAX_JSON} bytes")
                data = zf.read(info)
                if name == "models/model.json":
                    data = _clean_program(data, path)
                elif name == "data/weights/model_weights_config.json":
                    _check_payload(data, path, "weight")
                elif name == "data/constants/model_constants_config.json":
                    _check_payload(data, path, "constant")
                elif name.startswith("data/sample_inputs/"):
                    data = b""  # a pickle; torch treats an empty one as "no sample inputs"
                elif name.startswith("data/constants/") and not name.startswith("data/constants/tensor_"):
                    raise _refuse(path, f"it holds {name}, which is not a tensor")
                clean.writestr(f"{root}/{name}", data)
        for needed in (
            "data/weights/model_weights_config.json",
            "data/constants/model_constants_config.json",
        ):
            if needed not in members:
                raise _refuse(path, f"it has no {needed}")
    out.seek(0)
    return out


def _check_graph(module: Any, path: str | os.PathLike[str]) -> None:
    """Every node of the loaded graph calls an ATen/prims operator or ``operator.getitem``."""
    for node in module.graph.nodes:
        if node.op in ("placeholder", "output", "get_attr"):
            continue
        target = node.target
        ok = node.op == "call_function" and (
            target is operator.getitem
            or (isinstance(target, torch._ops.OpOverload) and target.namespace in ("aten", "prims"))
        )
        if not ok:
            raise _refuse(path, f"its loaded graph has a {node.op} of {target!r}")


#: ATen calls whose behaviour depends on training mode: operator name → index of the flag argument
_MODE_FLAGS = {
    "aten::dropout": 2,
    "aten::feature_dropout": 2,
    "aten::alpha_dropout": 2,
    "aten::feature_alpha_dropout": 2,
    "aten::batch_norm": 5,
}


class ExportedModule(torch.nn.Module):
    """A loaded ``torch.export`` program that trains like the ``nn.Module`` it came from.

    Parameters
    ----------
    program : torch.fx.GraphModule
        ``torch.export.load(path).module()``.

    Notes
    -----
    ``train(mode)`` / ``eval()`` set the ``train`` flag of every ``aten.dropout`` (and the
    feature/alpha variants) and the ``training`` flag of every ``aten.batch_norm`` of the graph and
    recompile it, instead of calling the program's own ``train()`` (which raises
    ``NotImplementedError`` in torch 2.13).  No other operator of torch.export's default
    (pre-dispatch ATen) graphs depends on the mode.  The parameters are the program's, so an
    optimizer built on ``model.parameters()`` trains them.
    """

    def __init__(self, program: Any) -> None:
        super().__init__()
        self.program = program
        flags = [node.args[_MODE_FLAGS[node.target._schema.name]] for node in self._mode_nodes()]
        self.training = bool(flags[0]) if flags else False

    def _mode_nodes(self) -> Iterator[Any]:
        for node in self.program.graph.nodes:
            schema = getattr(node.target, "_schema", None)
            if node.op == "call_function" and schema is not None and schema.name in _MODE_FLAGS:
                yield node

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.program(*args, **kwargs)

    def train(self, mode: bool = True) -> ExportedModule:
        """Switch dropout and batch normalisation of the graph to training (``mode``) or evaluation."""
        mode = bool(mode)
        changed = False
        for node in self._mode_nodes():
            i = _MODE_FLAGS[node.target._schema.name]
            if len(node.args) > i and node.args[i] != mode:
                args = list(node.args)
                args[i] = mode
                node.args = tuple(args)
                changed = True
        if changed:
            self.program.recompile()
        self.training = mode
        return self


def load_exported_program(path: str | os.PathLike[str], records: dict[str, Any] | None = None) -> Any:
    """Read a ``torch.export`` archive safely and return it as a trainable :class:`ExportedModule`.

    Parameters
    ----------
    path : path-like
        A regular file written by ``torch.export.save``.
    records : dict, optional
        Receives the archive's pymva record under ``"record"`` (``None`` when it has none).

    Returns
    -------
    ExportedModule
        On the CPU, in the mode the program was exported in.

    Raises
    ------
    ModelError
        For a file that is not a regular file, an archive whose content could run code (see the
        module docstring; the message names what was found) or that torch cannot read.
    """
    p = Path(path)
    try:
        check_regular_file(p, "PyTorch model file")
    except ModelError as exc:
        raise ModelError(f"Failed to load PyTorch model from file: {p} ({exc})") from None
    clean = _cleaned_archive(p)
    extra = {RECORD_MEMBER: ""}
    try:
        program = torch.export.load(clean, extra_files=extra)
        module = program.module()
    except Exception as exc:
        raise ModelError(
            f"Failed to load PyTorch model from file: {p} (torch.export.load: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})"
        ) from exc
    _check_graph(module, p)
    if records is not None:
        records["record"] = record_from_json(extra.get(RECORD_MEMBER, ""), p)
    return ExportedModule(module).to("cpu")


def save_exported_program(
    model: Any, path: str | os.PathLike[str], n_variables: int, record: Mapping[str, Any] | None = None
) -> None:
    """``torch.export.export`` ``model`` (evaluation mode, dynamic batch) and save it atomically.

    Parameters
    ----------
    model : torch.nn.Module
        A plain module or an :class:`ExportedModule` (its program is exported, so names do not nest).
    path : path-like
        Written to a temporary file beside it and renamed over it: a failure leaves an earlier file.
    n_variables : int
        The input width; the example input is ``zeros((2, n_variables), float32)``.  A model
        with weights on a GPU is exported from a CPU copy: the file always holds a CPU program.
    record : mapping, optional
        pymva's record (:func:`pymva.methods.modelfiles.model_record`), stored as ``pymva_record.json``.

    Raises
    ------
    ModelError
        ``Failed to export trained model`` (a TorchScript module, or a model torch.export cannot
        trace) or ``Failed to save trained model: <path>``, chained from torch's exception.
    """
    from ..safety import atomic_path

    if isinstance(model, torch.jit.ScriptModule):
        raise ModelError(
            "Failed to export trained model: it is a TorchScript module, which torch.export cannot "
            "trace; with ModelFormat=Export book FilenameModel=<file>.pt2 written by torch.export.save, "
            "or use ModelFormat=TorchScript"
        )
    target = Path(path)
    if target.is_dir():
        raise ModelError(f"Failed to save trained model: {target} is a directory; give a file name")
    was_training = bool(getattr(model, "training", False))
    model.eval()
    inner = model.program if isinstance(model, ExportedModule) else model
    tensors = itertools.chain(inner.parameters(), inner.buffers())
    if any(t.device.type != "cpu" for t in tensors):
        # trained on a GPU: the file holds a CPU program (the Reader loads on the CPU); the
        # example input and every weight must be on one device for torch.export to trace
        inner = copy.deepcopy(inner).to("cpu")
    try:
        example = (torch.zeros((2, n_variables), dtype=torch.float32),)
        batch = torch.export.Dim("batch")
        program = torch.export.export(inner, example, dynamic_shapes=({0: batch},))
    except Exception as exc:
        raise ModelError(
            f"Failed to export trained model: torch.export.export raised {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''} (ModelFormat=Export needs a model that "
            "torch.export can trace with a dynamic batch size)"
        ) from exc
    finally:
        model.train(was_training)
    extra = {RECORD_MEMBER: record_to_json(record)} if record is not None else None
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            torch.export.save(program, fh, extra_files=extra)
            fh.flush()
            os.fsync(fh.fileno())
    except Exception as exc:
        raise ModelError(f"Failed to save trained model: {target} ({type(exc).__name__}: {exc})") from exc
