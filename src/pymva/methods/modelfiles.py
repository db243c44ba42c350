"""Model files beside a weights file: their names, where a weights file may point, what they record.

Methods that keep their trained model outside the weights XML (MethodPyTorch: a TorchScript
archive; PyRandomForest, PyAdaBoost, PyGTB and today's BDT: a scikit-learn estimator) share these
rules (``docs/security.md``):

* **Names.**  The file written beside ``<job>_<title>.weights.xml`` is
  ``<job>_<title>.<kind>.<ext>`` (:func:`model_file_name`), so two jobs in one directory never
  overwrite each other's models (TMVA's ``TrainedModel_<title>.pt`` and ``PyRFModel_<title>.PyData``
  carry no job name).
* **References.**  A weights file names its model file; :func:`resolve_reference` accepts such a
  name only inside the weights file's own directory: no absolute path, no ``..``, no symbolic link
  leading out of it, and only a regular file (never a FIFO or a device).  A file the *caller* names
  (the Factory's booking, ``Reader.BookMVA(..., FilenameTrainedModel=...)``) is used as given.
* **Records.**  Every model file pymva writes records the job, method and variables it was trained
  for (:func:`model_record`); :func:`check_model_record` refuses a file recorded for other variables.
* **Formats.**  scikit-learn estimators are written with ``skops.io`` (:func:`save_skops`) and read
  back with an explicit list of trusted types (:data:`TRUSTED_TYPES`; any other type in the file is
  refused before anything is built).  A Python pickle (older pymva files) runs code while it is read:
  :func:`load_estimator` reads one only with the caller's explicit opt-in ``AllowPickle``.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelError
from ..safety import write_bytes_atomically

if TYPE_CHECKING:
    from .base import MethodContext

__all__ = [
    "RECORD_FORMAT",
    "TRUSTED_TYPES",
    "check_model_record",
    "check_regular_file",
    "copy_file_atomically",
    "is_pickle",
    "load_estimator",
    "model_file_name",
    "model_record",
    "record_from_json",
    "record_to_json",
    "resolve_reference",
    "save_skops",
]

#: The ``format`` value of the record every pymva model file carries.
RECORD_FORMAT = "pymva-model-file"

_SKOPS_MAGIC = b"PK\x03\x04"
_SEPARATORS = re.compile(r"[\\/]+")
_DRIVE = re.compile(r"^[A-Za-z]:")
#: The largest ``schema.json`` inside a skops file that is read (the arrays are separate members).
_MAX_SCHEMA_BYTES = 64 * 1024 * 1024

#: Every type a skops model file of pymva's methods may hold: containers and scalars, numpy arrays
#: and random states, and the scikit-learn estimators (with their inner trees, losses and binners)
#: that PyRandomForest, PyAdaBoost, PyGTB and BDT build.  Anything else is refused.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        # containers and scalars
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
        # numpy
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.bool_",
        "numpy.int8",
        "numpy.int16",
        "numpy.int32",
        "numpy.int64",
        "numpy.uint8",
        "numpy.uint16",
        "numpy.uint32",
        "numpy.uint64",
        "numpy.float16",
        "numpy.float32",
        "numpy.float64",
        "numpy.random.mtrand.RandomState",
        "numpy.random._generator.Generator",
        "numpy.random._pcg64.PCG64",
        "numpy.random._mt19937.MT19937",
        # the estimators of the methods and of BaseEstimator=/Init= (sklearn_common.ESTIMATOR_WHITELIST)
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._weight_boosting.AdaBoostClassifier",
        "sklearn.ensemble._weight_boosting.AdaBoostRegressor",
        "sklearn.ensemble._gb.GradientBoostingClassifier",
        "sklearn.ensemble._gb.GradientBoostingRegressor",
        "sklearn.ensemble._bagging.BaggingClassifier",
        "sklearn.ensemble._bagging.BaggingRegressor",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.DecisionTreeRegressor",
        "sklearn.tree._classes.ExtraTreeClassifier",
        "sklearn.tree._tree.Tree",
        "sklearn.dummy.DummyClassifier",
        "sklearn.dummy.DummyRegressor",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.preprocessing._label.LabelEncoder",
        # losses and links of the gradient-boosting estimators
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.loss.HalfMultinomialLoss",
        "sklearn._loss.loss.ExponentialLoss",
        "sklearn._loss.loss.HuberLoss",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn._loss.loss.AbsoluteError",
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn._loss._loss.CyHalfMultinomialLoss",
        "sklearn._loss._loss.CyExponentialLoss",
        "sklearn._loss._loss.CyHuberLoss",
        "sklearn._loss._loss.CyHalfSquaredError",
        "sklearn._loss._loss.CyAbsoluteError",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.HalfLogitLink",
        "sklearn._loss.link.MultinomialLogit",
        "sklearn._loss.link.Interval",
    }
)

#: The skops node kinds those types are stored with (a function, method or partial node is refused).
_TRUSTED_LOADERS = frozenset(
    {
        "DictNode",
        "ListNode",
        "TupleNode",
        "JsonNode",
        "TypeNode",
        "ObjectNode",
        "NdArrayNode",
        "DTypeNode",
        "RandomStateNode",
        "RandomGeneratorNode",
        "TreeNode",
        "LossNode",
        "BitGeneratorNode",
    }
)


# ---------------------------------------------------------------------------------------------- names
def model_file_name(job_name: str, title: str, kind: str, suffix: str) -> str:
    """``<job_name>_<title>.<kind>.<suffix>``: the name of a model file beside the weights file.

    Parameters
    ----------
    job_name, title : str
        As in the weights file's name ``<job_name>_<title>.weights.xml``.
    kind : str
        What the file holds (``"TrainedModel"``, ``"PyRFModel"``).
    suffix : str
        The extension without the dot (``"pt"``, ``"skops"``).
    """
    return f"{job_name}_{title}.{kind}.{suffix}"


# ---------------------------------------------------------------------------------------------- files
def check_regular_file(path: str | os.PathLike[str], what: str) -> Path:
    """Return ``path`` if it is an existing regular file (symbolic links followed).

    A FIFO would block the reader forever and a device (``/dev/zero``) never ends: both are refused,
    as are directories.

    Raises
    ------
    ModelError
        Naming ``what`` and the path, for a missing file or one that is not a regular file.
    """
    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise ModelError(f"{what} '{p}' does not exist (working directory {os.getcwd()})") from None
    except OSError as exc:
        raise ModelError(f"{what} '{p}' cannot be read: {exc}") from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, socket or device)"
        raise ModelError(f"{what} '{p}' is {kind}; it must be a regular file")
    return p


def _is_inside(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True


def resolve_reference(
    stored: str,
    directory: str | os.PathLike[str],
    *,
    what: str,
    option: str,
    source: str,
) -> Path:
    """Where a model file named *by a weights file* lies: only inside the weights file's directory.

    ``stored`` is looked for as ``<directory>/<stored>`` and then as ``<directory>/<file name>`` (a
    path relative to the training's working directory, as TMVA and pymva store the default
    ``dataset/weights/...``, names a file beside the weights file).

    Parameters
    ----------
    stored : str
        The name as read from the file.
    directory : path-like
        The weights file's directory.
    what : str
        What the file is, for messages (``"trained model"``).
    option : str
        The option the caller may pass to ``Reader.BookMVA`` to name a file elsewhere, for messages.
    source : str
        The weights file, for messages.

    Returns
    -------
    Path
        An existing regular file whose real path (symbolic links resolved) lies inside ``directory``.

    Raises
    ------
    ModelError
        Naming the stored path, for an empty name, a NUL byte, an absolute path, a ``..`` component,
        a name that leads out of ``directory`` through a symbolic link, or no such file.
    """
    base = Path(directory)
    hint = (
        f"a weights file may only name files in its own directory '{base}'; to load a {what} you "
        f"trust from elsewhere, name it yourself: reader.BookMVA(tag, weightfile, {option}='<path>')"
    )
    text = str(stored).strip()
    if not text:
        raise ModelError(f"weights file '{source}' names no {what} file; {hint}")
    if "\x00" in text or any(ord(c) < 32 for c in text):
        raise ModelError(f"weights file '{source}' names the {what} {text!r}, which holds control characters")
    if text.startswith(("/", "\\", "~")) or _DRIVE.match(text):
        raise ModelError(
            f"weights file '{source}' names the {what} by the absolute path '{text}': refused ({hint})"
        )
    parts = [p for p in _SEPARATORS.split(text) if p not in ("", ".")]
    if ".." in parts:
        raise ModelError(
            f"weights file '{source}' names the {what} '{text}', which contains '..': refused ({hint})"
        )
    if not parts:
        raise ModelError(f"weights file '{source}' names no {what} file ('{text}'); {hint}")
    candidates = list(dict.fromkeys([base.joinpath(*parts), base / parts[-1]]))
    real_base = base.resolve()
    for candidate in candidates:
        if not os.path.lexists(candidate):
            continue
        real = candidate.resolve()
        if not _is_inside(real, real_base):
            raise ModelError(
                f"weights file '{source}' names the {what} '{text}', which leads to '{real}' outside "
                f"'{base}' (through a symbolic link): refused ({hint})"
            )
        return check_regular_file(candidate, f"the {what} named by weights file '{source}',")
    looked = " and ".join(f"'{c}'" for c in candidates)
    raise ModelError(
        f"weights file '{source}' names the {what} '{text}', which is not there (looked for {looked}); {hint}"
    )


def copy_file_atomically(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Copy ``source`` to ``target`` atomically (a temporary file beside ``target``, then a rename).

    Raises
    ------
    ModelError
        Naming both paths, when reading or writing fails; ``target`` is then unchanged.
    """
    try:
        data = Path(source).read_bytes()
        write_bytes_atomically(target, data)
    except OSError as exc:
        raise ModelError(f"cannot copy the model file '{source}' to '{target}': {exc}") from exc


# ---------------------------------------------------------------------------------------------- records
def model_record(context: MethodContext, method_type: str, title: str) -> dict[str, Any]:
    """What a model file records about the training it belongs to (JSON-compatible)."""
    return {
        "format": RECORD_FORMAT,
        "version": 1,
        "job": context.job_name,
        "method": method_type,
        "title": title,
        "variables": [v.expression for v in context.variables],
        "classes": list(context.class_names),
        "targets": [t.expression for t in context.targets],
    }


def record_to_json(record: Mapping[str, Any]) -> str:
    """The record as JSON text (for a TorchScript archive's extra file)."""
    return json.dumps(dict(record), sort_keys=True)


def record_from_json(text: bytes | str, path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Parse a record written by :func:`record_to_json`; ``None`` for an empty text (no record).

    Raises
    ------
    ModelError
        When the text is not a pymva record.
    """
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelError(f"model file '{path}': its pymva record is not valid JSON") from None
    if not isinstance(value, dict) or value.get("format") != RECORD_FORMAT:
        raise ModelError(f"model file '{path}': its record is not a pymva model-file record")
    return value


def check_model_record(
    record: Mapping[str, Any] | None, context: MethodContext, path: str | os.PathLike[str], log: Any
) -> None:
    """Refuse a model file recorded for other variables, classes or targets than the method's.

    A file without a record (written by TMVA, or by pymva before records existed) is accepted with an
    INFO line.

    Raises
    ------
    ModelError
        Naming the file, both lists and the job and method the file was written for.
    """
    if record is None:
        log.info("model file %s records no variables (not written by this pymva): not checked", path)
        return
    owner = f"job '{record.get('job')}', method '{record.get('title')}'"
    if record.get("job") != context.job_name:
        log.warning(
            "model file %s was written by job '%s', the weights file is job '%s''s (its variables agree)",
            path,
            record.get("job"),
            context.job_name,
        )
    for key, mine in (
        ("variables", [v.expression for v in context.variables]),
        ("classes", list(context.class_names)),
        ("targets", [t.expression for t in context.targets]),
    ):
        theirs = record.get(key)
        if not isinstance(theirs, list) or [str(v) for v in theirs] != mine:
            raise ModelError(
                f"model file '{path}' was written for the {key} {theirs!r} ({owner}), but the weights "
                f"file declares {mine!r}: it belongs to another training, refusing it (retrain, or put "
                "this training's own model file beside its weights file)"
            )


# ---------------------------------------------------------------------------------------------- skops
def save_skops(obj: Any, record: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` with its ``record`` in skops format, atomically.

    Raises
    ------
    ModelError
        Naming the path, when skops cannot serialise the object or the file cannot be written (a
        directory, an unwritable place, a full disk); an earlier file at ``path`` is then intact.
    """
    import skops.io as sio

    target = Path(path)
    try:
        data = sio.dumps({"record": dict(record), "estimator": obj})
    except Exception as exc:
        raise ModelError(f"cannot write the model file '{target}': skops cannot store it ({exc})") from exc
    if target.is_dir():
        raise ModelError(f"cannot write the model file '{target}': it is a directory; give a file name")
    try:
        write_bytes_atomically(target, data)
    except OSError as exc:
        raise ModelError(f"cannot write the model file '{target}': {exc}") from exc
    return target


def _schema_types(data: bytes, path: Path) -> tuple[set[str], set[str]]:
    """The fully qualified types and the node kinds a skops file's schema names."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("schema.json")
            if info.file_size > _MAX_SCHEMA_BYTES:
                raise ModelError(
                    f"model file '{path}': its skops schema is larger than {_MAX_SCHEMA_BYTES} bytes"
                )
            schema = json.loads(archive.read(info))
    except ModelError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, RecursionError, OSError, EOFError) as exc:
        raise ModelError(
            f"model file '{path}' is not a valid skops file ({type(exc).__name__}: {exc})"
        ) from None
    types: set[str] = set()
    loaders: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, cls = node.get("__module__"), node.get("__class__")
            if module is not None or cls is not None:
                types.add(f"{module}.{cls}")
            loader = node.get("__loader__")
            if loader is not None:
                loaders.add(str(loader))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return types, loaders


def is_pickle(data: bytes) -> bool:
    """Whether ``data`` starts like a Python pickle of protocol 2 or later."""
    return data[:1] == b"\x80"


def load_estimator(
    path: str | os.PathLike[str], *, allow_pickle: bool, what: str = "classifier"
) -> tuple[Any, dict[str, Any] | None]:
    """Read a model file written by :func:`save_skops` (or, with the opt-in, an older pickle).

    Parameters
    ----------
    path : path-like
        A regular file (see :func:`check_regular_file`).
    allow_pickle : bool
        The caller's explicit opt-in to unpickle a file that is not in skops format.  Unpickling runs
        code from the file.
    what : str
        For messages.

    Returns
    -------
    (object, dict or None)
        The estimator and the file's record (``None`` for a pickle, which records nothing).

    Raises
    ------
    ModelError
        For a file that is neither skops nor (with the opt-in) a pickle, a skops file holding a type
        outside :data:`TRUSTED_TYPES` (all of them named) or another node kind, a record that is not
        pymva's, a pickle without the opt-in (naming ``AllowPickle``), or any failure while reading.
    """
    p = check_regular_file(path, f"the {what} file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"Failed to load {what} from file: {p} ({exc})") from exc
    if not data.startswith(_SKOPS_MAGIC):
        return _load_pickle(p, data, allow_pickle=allow_pickle, what=what), None
    types, loaders = _schema_types(data, p)
    untrusted = sorted(types - TRUSTED_TYPES)
    odd_nodes = sorted(loaders - _TRUSTED_LOADERS)
    if untrusted or odd_nodes:
        listed = ", ".join(untrusted + [f"node kind {n}" for n in odd_nodes])
        raise ModelError(
            f"model file '{p}' holds types pymva does not trust: {listed}. pymva builds only the "
            "containers, numpy arrays and scikit-learn estimators its methods write "
            "(pymva.methods.modelfiles.TRUSTED_TYPES); this file was not written by pymva's "
            "scikit-learn methods"
        )
    import skops.io as sio

    try:
        content = sio.loads(data, trusted=sorted(TRUSTED_TYPES))
    except Exception as exc:
        raise ModelError(f"Failed to load {what} from file: {p} ({type(exc).__name__}: {exc})") from exc
    if not isinstance(content, dict) or "estimator" not in content or "record" not in content:
        raise ModelError(f"model file '{p}' is a skops file but not one of pymva's (no record and estimator)")
    record = content["record"]
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise ModelError(f"model file '{p}': its record is not a pymva model-file record")
    return content["estimator"], record


def _load_pickle(path: Path, data: bytes, *, allow_pickle: bool, what: str) -> Any:
    kind = (
        "a Python pickle (the format of older pymva model files)"
        if is_pickle(data)
        else ("neither a skops file nor a recognisable pickle")
    )
    if not allow_pickle:
        raise ModelError(
            f"Failed to load {what} from file: {path} is {kind}. Reading a pickle runs code from the "
            "file, so pymva reads one only when you ask for it: Reader('AllowPickle') or "
            "reader.BookMVA(tag, weightfile, AllowPickle=True) — only for a file from a source you "
            "trust; or retrain, which writes the safe skops format"
        )
    import pickle

    try:
        return pickle.loads(data)  # the caller's explicit AllowPickle opt-in
    except Exception as exc:
        raise ModelError(
            f"Failed to load {what} from file: {path} is {kind} that cannot be unpickled "
            f"({type(exc).__name__}: {exc})"
        ) from exc
