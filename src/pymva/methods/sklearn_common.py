"""What the scikit-learn based methods share (PyRandomForest, PyAdaBoost, PyGTB and BDT).

* Option values that TMVA evaluates as Python (``MaxDepth=None``, ``MaxFeatures='sqrt'``,
  ``ClassWeight``, ``RandomState``, …) are parsed with :func:`ast.literal_eval`, never ``eval``:
  :func:`literal_option` and the specialised parsers below.  Estimator-valued options
  (``BaseEstimator``, ``Init``) accept ``None`` or a call of a whitelisted scikit-learn class with
  literal keyword arguments only, e.g. ``DecisionTreeClassifier(max_depth=3)``
  (:func:`estimator_option`).
* The fitted estimator is written with ``skops.io`` (no pickle), atomically, as
  ``<weight dir>/<job>_<title>.<prefix>.skops`` beside the weights file (and to
  ``FilenameClassifier`` as well when that is set), with a record of the job, method, variables and
  classes; it is read back with an explicit list of trusted types
  (:mod:`pymva.methods.modelfiles`).  Older pickled model files are read only with the caller's
  explicit ``AllowPickle``: unpickling runs code from the file.
* :class:`SklearnMethodBase` — the method plumbing: build the estimator from the options at
  :meth:`~SklearnMethodBase.setup` (TMVA ``ProcessOptions``; scikit-learn's own parameter checks run
  there too, so a bad value is an :class:`~pymva.errors.OptionError` at booking), fit it with the
  event weights, write it, read it back in :meth:`~SklearnMethodBase.read_weights_xml` (checking
  its record against the weights file), return ``predict_proba`` as float32 and rank variables by
  ``feature_importances_``.

scikit-learn is imported lazily, when a method is set up, trained or evaluated.
"""

from __future__ import annotations

import abc
import ast
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, OptionError, did_you_mean
from ..options import option
from ..types import EAnalysisType
from .base import MethodBase, MethodContext
from .modelfiles import (
    check_model_record,
    check_regular_file,
    copy_file_atomically,
    load_estimator,
    model_file_name,
    model_record,
    resolve_reference,
    save_skops,
)
from .ranking import Ranking

__all__ = [
    "ESTIMATOR_WHITELIST",
    "SklearnMethodBase",
    "adaboost_algorithm_kwargs",
    "class_weight_option",
    "estimator_option",
    "filename_classifier_option",
    "int_or_none_option",
    "literal_option",
    "max_features_option",
    "proba_by_class",
    "random_state_option",
    "random_state_value",
    "sklearn_version",
    "validate_estimator",
]

F32 = npt.NDArray[np.float32]

#: Estimator classes that ``BaseEstimator=`` / ``Init=`` may name: class name -> module.
ESTIMATOR_WHITELIST: Mapping[str, str] = {
    "DecisionTreeClassifier": "sklearn.tree",
    "ExtraTreeClassifier": "sklearn.tree",
    "DummyClassifier": "sklearn.dummy",
    "LogisticRegression": "sklearn.linear_model",
}


# ----------------------------------------------------------------------------- option declarations
def filename_classifier_option() -> Any:
    """The ``FilenameClassifier`` option of the PyMVA scikit-learn methods (default ``""``)."""
    return option(
        "",
        "Store trained classifier in this file as well "
        "(always written: <weight dir>/<job>_<title>.Py<RF|AdaBoost|GTB>Model.skops)",
    )


def random_state_option() -> Any:
    """The ``RandomState`` option of the PyMVA scikit-learn methods (default ``"None"``)."""
    return option(
        "None",
        "int or None (default=None): seed of the random number generator; None uses numpy's global one",
    )


# ----------------------------------------------------------------------------- literal parsing
def _where(name: str, component: str) -> str:
    return f"option '{name}' of {component}"


def literal_option(text: str, *, name: str, component: str, expected: str) -> Any:
    """Parse an option value that TMVA evaluates as Python, with :func:`ast.literal_eval`.

    Parameters
    ----------
    text : str
        The option value, e.g. ``"None"``, ``"5"``, ``"'sqrt'"``, ``"{0: 1.0, 1: 2.0}"``.
    name, component : str
        Option and component names, for the message.
    expected : str
        What would be accepted, for the message (``"None or an integer"``).

    Returns
    -------
    object
        The Python literal.

    Raises
    ------
    OptionError
        If ``text`` is not a Python literal (names, calls and expressions are never evaluated).
    """
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise OptionError(
            f"value '{text}' of {_where(name, component)} is not a Python literal; expected {expected} "
            "(option values are read with ast.literal_eval, never evaluated as code)"
        ) from None


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def int_or_none_option(text: str, *, name: str, component: str, minimum: int) -> int | None:
    """Parse ``None`` or an integer ``>= minimum`` (``MaxDepth``, ``MaxLeafNodes``)."""
    expected = f"None or an integer >= {minimum}"
    value = literal_option(text, name=name, component=component, expected=expected)
    if value is None:
        return None
    if not _is_int(value) or value < minimum:
        raise OptionError(f"value '{text}' of {_where(name, component)} does not work; expected {expected}")
    return int(value)


def random_state_value(text: str, *, name: str, component: str) -> int | None:
    """Parse ``RandomState``: ``None`` or an integer in ``[0, 2**32)``."""
    expected = "None or an integer seed in [0, 2**32)"
    value = literal_option(text, name=name, component=component, expected=expected)
    if value is None:
        return None
    if not _is_int(value) or not 0 <= value < 2**32:
        raise OptionError(f"value '{text}' of {_where(name, component)} does not work; expected {expected}")
    return int(value)


def max_features_option(
    text: str, *, name: str, component: str, n_variables: int, log: Any
) -> int | float | str | None:
    """Parse ``MaxFeatures`` as TMVA does, mapped onto today's scikit-learn.

    Bare ``auto``, ``sqrt`` and ``log2`` are quoted first (TMVA does the same); ``'auto'`` was removed
    from scikit-learn (1.3) and is mapped to ``'sqrt'`` — its meaning for classifiers — with a
    logged warning.  Accepted: ``None``, ``'sqrt'``, ``'log2'``, an integer in ``[1, n_variables]`` or
    a float in ``(0, 1]``.
    """
    raw = text.strip()
    if raw in ("auto", "sqrt", "log2"):
        raw = f"'{raw}'"
    expected = f"None, 'sqrt', 'log2', an integer in [1, {n_variables}] or a float in (0, 1]"
    value = literal_option(raw, name=name, component=component, expected=expected)
    if value == "auto":
        log.warning(
            "%s: MaxFeatures='auto' no longer exists in scikit-learn; using 'sqrt' (what 'auto' meant "
            "for classifiers)",
            component,
        )
        return "sqrt"
    if value is None or value in ("sqrt", "log2"):
        return value  # type: ignore[no-any-return]
    if _is_int(value) and 1 <= value <= max(n_variables, 1):
        return int(value)
    if isinstance(value, float) and 0.0 < value <= 1.0:
        return value
    raise OptionError(f"value '{text}' of {_where(name, component)} does not work; expected {expected}")


def class_weight_option(
    text: str, *, name: str, component: str, class_names: Sequence[str], log: Any
) -> str | dict[int, float] | None:
    """Parse ``ClassWeight``: ``None``, ``'balanced'``, ``'balanced_subsample'`` or per-class weights.

    Per-class weights are a dict keyed by class index or class name (``{"Signal": 2.0}``), or a list
    of one weight per class in class-index order (``[1, 2]``, or ``1;2`` — the form that fits in a
    ``:``-separated option string).  The old scikit-learn spellings ``'auto'`` and
    ``'subsample'`` map to ``'balanced'`` and ``'balanced_subsample'`` with a logged warning.  The
    dict contains ``:`` so it must be given as a keyword argument (``ClassWeight={0: 1, 1: 2}``), not
    inside an option string.
    """
    raw = text.strip()
    aliases = {"auto": "balanced", "subsample": "balanced_subsample"}
    if raw in ("balanced", "balanced_subsample", *aliases):
        raw = f"'{raw}'"
    expected = (
        "None, 'balanced', 'balanced_subsample', a dict {class index or name: weight} or a list of "
        "one weight per class"
    )
    if ";" in raw:  # per-class weights in option-string form (a keyword-argument list is joined with ';')
        value: Any = [
            literal_option(part, name=name, component=component, expected=expected) for part in raw.split(";")
        ]
    else:
        value = literal_option(raw, name=name, component=component, expected=expected)
    if isinstance(value, str) and value in aliases:
        log.warning(
            "%s: ClassWeight='%s' is spelled '%s' in scikit-learn today", component, value, aliases[value]
        )
        return aliases[value]
    if value is None or (isinstance(value, str) and value in ("balanced", "balanced_subsample")):
        return value
    n = len(class_names)

    def weight(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise OptionError(
                f"value '{text}' of {_where(name, component)}: class weight {v!r} is not a finite number >= 0"
            )
        return float(v)

    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise OptionError(
                f"value '{text}' of {_where(name, component)}: {len(value)} class weights given for "
                f"{n} classes {list(class_names)}"
            )
        return {i: weight(v) for i, v in enumerate(value)}
    if isinstance(value, dict):
        out: dict[int, float] = {}
        for key, v in value.items():
            if isinstance(key, str):
                if key not in class_names:
                    raise OptionError(
                        f"value '{text}' of {_where(name, component)}: no class '{key}'"
                        f"{did_you_mean(key, class_names)} Classes: {list(class_names)}"
                    )
                idx = class_names.index(key)
            elif (
                isinstance(key, (int, float))
                and not isinstance(key, bool)
                and float(key).is_integer()
                and 0 <= key < n
            ):
                idx = int(key)
            else:
                raise OptionError(
                    f"value '{text}' of {_where(name, component)}: class key {key!r} is neither a class "
                    f"index in [0, {n}) nor a class name {list(class_names)}"
                )
            out[idx] = weight(v)
        return out
    raise OptionError(f"value '{text}' of {_where(name, component)} does not work; expected {expected}")


def _dotted_name(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def estimator_option(
    text: str,
    *,
    name: str,
    component: str,
    allowed: Sequence[str],
    constants: Sequence[str] = (),
) -> Any:
    """Parse an estimator-valued option without evaluating code.

    Accepted: ``None``; one of ``constants`` as a string (``'zero'`` for ``Init``); or a call of a
    class in ``allowed`` (a subset of :data:`ESTIMATOR_WHITELIST`), optionally module-qualified
    (``sklearn.tree.DecisionTreeClassifier``), with keyword arguments whose values are Python
    literals: ``DecisionTreeClassifier(max_depth=3, criterion='entropy')``.

    Returns
    -------
    object
        ``None``, the constant, or an unfitted scikit-learn estimator.

    Raises
    ------
    OptionError
        For anything else: other names, positional or non-literal arguments, unknown keyword
        arguments (with the estimator's parameter names) or invalid parameter values.
    """
    shapes = ["None", *(repr(c) for c in constants), *(f"{c}(keyword=literal, ...)" for c in allowed)]
    expected = "one of " + ", ".join(shapes)
    raw = text.strip()
    if raw in constants:
        return raw
    try:
        tree = ast.parse(raw, mode="eval")
    except SyntaxError:
        raise OptionError(
            f"value '{text}' of {_where(name, component)} does not parse; expected {expected}"
        ) from None
    node = tree.body
    if isinstance(node, ast.Constant) and (node.value is None or node.value in constants):
        return node.value
    if not isinstance(node, ast.Call):
        raise OptionError(f"value '{text}' of {_where(name, component)} does not work; expected {expected}")
    dotted = _dotted_name(node.func) or ""
    cls_name = dotted.rsplit(".", 1)[-1]
    prefix = dotted[: -len(cls_name) - 1] if "." in dotted else ""
    module = ESTIMATOR_WHITELIST.get(cls_name)
    if cls_name not in allowed or module is None or prefix not in ("", module, "sklearn"):
        raise OptionError(
            f"value '{text}' of {_where(name, component)}: '{dotted or ast.unparse(node.func)}' is not an "
            f"accepted estimator{did_you_mean(cls_name, allowed)} Accepted: {', '.join(shapes)} "
            "(only these scikit-learn classes are built, from literal keyword arguments; nothing is "
            "evaluated)"
        )
    if node.args:
        raise OptionError(
            f"value '{text}' of {_where(name, component)}: give the arguments of {cls_name} as keywords "
            "(positional arguments are not accepted)"
        )
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise OptionError(f"value '{text}' of {_where(name, component)}: '**' arguments are not accepted")
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, SyntaxError, TypeError):
            raise OptionError(
                f"value '{text}' of {_where(name, component)}: the value of {kw.arg}= is not a Python "
                "literal "
                f"({ast.unparse(kw.value)})"
            ) from None
    import importlib

    cls = getattr(importlib.import_module(module), cls_name)
    valid = sorted(cls().get_params(deep=False))
    for key in kwargs:
        if key not in valid:
            raise OptionError(
                f"value '{text}' of {_where(name, component)}: {cls_name} has no parameter '{key}'"
                f"{did_you_mean(key, valid)} Parameters: {', '.join(valid)}"
            )
    estimator = cls(**kwargs)
    validate_estimator(estimator, f"{_where(name, component)} = '{text}'")
    return estimator


def validate_estimator(estimator: Any, what: str) -> None:
    """Run scikit-learn's own parameter checks on an unfitted estimator (and its sub-estimators).

    Raises
    ------
    OptionError
        With scikit-learn's message (which names the parameter, the accepted values and the value).
    """
    validate = getattr(estimator, "_validate_params", None)
    if validate is None:  # scikit-learn < 1.2 has no declarative parameter checks
        return
    try:
        validate()
    except (ValueError, TypeError) as exc:
        raise OptionError(f"{what}: {exc}") from None
    for key in ("estimator", "init"):
        sub = getattr(estimator, key, None)
        if sub is not None and hasattr(sub, "get_params"):
            validate_estimator(sub, what)


def sklearn_version() -> str:
    """The installed scikit-learn version."""
    import sklearn

    return str(sklearn.__version__)


def _version_tuple(version: str) -> tuple[int, ...]:
    out = []
    for part in version.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


# ----------------------------------------------------------------------------- the method base
class SklearnMethodBase(MethodBase):
    """Base of the methods that train a scikit-learn estimator and keep it in a skops model file.

    Subclasses implement :meth:`_make_estimator` (options → unfitted estimator, raising
    :class:`OptionError`) and set :attr:`model_prefix`; they may override :meth:`_training_arrays`
    and :meth:`_outputs`.

    Attributes
    ----------
    estimator : object or None
        The unfitted estimator built from the options by :meth:`setup`.
    classifier_ : object or None
        The fitted estimator: set by training, or read by :meth:`read_weights_xml`.
    model_path_ : Path or None
        Where the fitted estimator was written (training) or was read from (after reading weights).
    """

    #: What the model file holds (``PyRFModel`` → ``<job>_<title>.PyRFModel.skops``; TMVA's name,
    #: ``PyRFModel_<title>.PyData``, is still looked for in weights files that name no model file).
    model_prefix: ClassVar[str] = ""
    ranking_criterion: ClassVar[str] = "Variable Importance"
    file_options: ClassVar[tuple[str, ...]] = ("FilenameClassifier",)

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.estimator: Any = None
        self.classifier_: Any = None
        self.model_path_: Path | None = None
        self._recorded_version: str | None = None

    @property
    def component(self) -> str:
        """``method <Type> ('<title>')``, as option messages name the method."""
        return f"method {self.method_type.type_name} ('{self.title}')"

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes and multiclass (TMVA's PyMVA methods); no regression."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type == EAnalysisType.kMulticlass and n_classes >= 2

    # ------------------------------------------------------------------ options -> estimator
    def setup(self) -> None:
        """Check the options and build the unfitted estimator (TMVA ``ProcessOptions``).

        Raises
        ------
        OptionError
            For a value that TMVA or scikit-learn would reject, or a ``FilenameClassifier`` that is a
            directory or lies in a directory that cannot be written.
        """
        estimator = self._make_estimator()
        validate_estimator(estimator, self.component)
        self._check_model_path()
        self.estimator = estimator

    def _check_model_path(self) -> None:
        name = self._filename_option()
        if not name or not self.context.model_persistence:
            return
        path = Path(name)
        if path.is_dir():
            raise OptionError(
                f"FilenameClassifier={name} of {self.component} is a directory; give the name of the "
                "model file to write (e.g. FilenameClassifier=model.skops)"
            )
        parent = next((d for d in (path.parent, *path.parent.parents) if d.exists()), Path("."))
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise OptionError(
                f"FilenameClassifier={name} of {self.component}: the directory '{parent}' cannot be "
                "written; give a model file in a writable directory"
            )

    @abc.abstractmethod
    def _make_estimator(self) -> Any:
        """Build the unfitted scikit-learn estimator from ``self.options``."""

    def _filename_option(self) -> str:
        return str(getattr(self.options, "FilenameClassifier", "") or "").strip()

    def default_model_path(self) -> Path:
        """``<weight dir>/<job>_<title>.<model_prefix>.skops``: the file beside the weights file."""
        name = model_file_name(self.context.job_name, self.title, self.model_prefix, "skops")
        return Path(self.context.weight_dir) / name

    @property
    def model_path(self) -> Path:
        """Where training writes the model: ``FilenameClassifier`` if set, else the default path."""
        name = self._filename_option()
        return Path(name) if name else self.default_model_path()

    # ------------------------------------------------------------------ training
    def _training_arrays(self, sample: Sample) -> tuple[F32, npt.NDArray[Any], npt.NDArray[np.float32]]:
        """``(X, y, w)`` for ``fit``: all training events, class indices, event weights."""
        return sample.X, sample.class_id.astype(np.int64), sample.weights

    def _data_params(self, n_events: int) -> dict[str, Any]:
        """Estimator parameters that depend on the number of training events (default: none)."""
        return {}

    def _fit(self, estimator: Any, X: F32, y: npt.NDArray[Any], w: npt.NDArray[np.float32]) -> Any:
        try:
            return estimator.fit(X, y, sample_weight=w)
        except (ValueError, TypeError) as exc:
            n_negative = int(np.count_nonzero(np.asarray(w) < 0))
            hint = (
                f"; {n_negative} of {len(w)} training events have negative weights, which scikit-learn's "
                f"{type(estimator).__name__} does not accept: book the method with "
                "IgnoreNegWeightsInTraining to read them as 0 in the training"
                if n_negative
                else ""
            )
            raise ModelError(
                f"method {self.method_name}: scikit-learn could not train the estimator: {exc}{hint}"
            ) from exc

    def _train(self, sample: Sample) -> None:
        from sklearn.base import clone

        if self.estimator is None:
            self.setup()
        X, y, w = self._training_arrays(sample)
        estimator = clone(self.estimator)
        params = self._data_params(len(X))
        if params:
            estimator.set_params(**params)
        self.classifier_ = self._fit(estimator, X, y, w)
        if not self.context.model_persistence:
            return  # TMVA serialises the estimator only with ModelPersistence
        record = model_record(self.context, self.method_type.type_name, self.title)
        path = self.model_path
        self.log.info("Saving state file: %s", path)
        save_skops(self.classifier_, record, path)
        beside = self.default_model_path()
        if os.path.abspath(path) != os.path.abspath(beside):
            # the copy beside the weights file is the one the Reader reads
            copy_file_atomically(path, beside)
        self.model_path_ = path

    # ------------------------------------------------------------------ application
    def _classifier(self) -> Any:
        """The fitted estimator (trained, or read by :meth:`read_weights_xml`)."""
        if self.classifier_ is None:
            self.check_trained()
            raise ModelError(f"method {self.method_name}: no fitted estimator (train or read a weights file)")
        return self.classifier_

    def _outputs(self, clf: Any, X: F32) -> F32:
        """Raw outputs of the fitted estimator: ``predict_proba`` as (n, n_classes) float32."""
        return proba_by_class(clf, clf.predict_proba(X), self.context.n_classes)

    def _predict(self, X: F32) -> F32:
        return self._outputs(self._classifier(), X)

    # ------------------------------------------------------------------ weights file
    def add_weights_xml(self, parent: ET.Element) -> None:
        """Record the model file (its name beside the weights file), its format, the estimator class
        and the scikit-learn version in ``<Weights>``."""
        parent.set("ModelFile", self.default_model_path().name)
        parent.set("Format", "skops")
        clf = self.classifier_ if self.classifier_ is not None else self.estimator
        if clf is not None:
            parent.set("Estimator", type(clf).__name__)
        parent.set("ScikitLearnVersion", sklearn_version())

    def _model_file_to_read(self, weights: ET.Element | None) -> Path:
        """Which file holds the model (see :meth:`read_weights_xml`)."""
        ctx = self.context
        name = self._filename_option()
        if name and ctx.caller_set("FilenameClassifier"):
            return check_regular_file(name, f"the model file of {self.method_name} (FilenameClassifier)")
        base = ctx.model_dir if ctx.model_dir is not None else Path(ctx.weight_dir)
        recorded = weights.get("ModelFile") if weights is not None else None
        if recorded is None:
            # a file written by TMVA or an older pymva: the stored FilenameClassifier, else TMVA's name
            recorded = name or f"{self.model_prefix}_{self.title}.PyData"
        source = ctx.weights_source or str(base / f"{ctx.job_name}_{self.title}.weights.xml")
        return resolve_reference(
            recorded,
            base,
            what=f"model file of {self.method_name}",
            option="FilenameClassifier",
            source=source,
        )

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the model file the weights file names.

        The file is ``FilenameClassifier`` when the *caller* set it (the Factory's booking or a
        ``Reader.BookMVA`` keyword); otherwise the ``ModelFile`` of ``<Weights>`` (for files written by
        TMVA or an older pymva: the stored ``FilenameClassifier``, else TMVA's
        ``<prefix>_<title>.PyData``), looked for only inside the weights file's directory
        (:func:`~pymva.methods.modelfiles.resolve_reference`).  skops files are read with the trusted
        types only; a pickle only with the caller's ``AllowPickle``.

        Raises
        ------
        ModelError
            For a reference outside the directory, a missing or untrusted file, a pickle without the
            opt-in, a file recorded for other variables or classes, or an estimator that expects
            another number of inputs than the declared variables.
        """
        self._recorded_version = weights.get("ScikitLearnVersion") if weights is not None else None
        path = self._model_file_to_read(weights)
        self.log.info("Loading state file: %s", path)
        current = sklearn_version()
        if self._recorded_version and self._recorded_version != current:
            self.log.warning(
                "%s was written with scikit-learn %s; scikit-learn %s is installed: predictions may differ",
                path,
                self._recorded_version,
                current,
            )
        clf, record = load_estimator(path, allow_pickle=self.context.allow_pickle)
        check_model_record(record, self.context, path, self.log)
        n_in = getattr(clf, "n_features_in_", None)
        n_var = self.context.n_variables
        if not hasattr(clf, "predict"):
            raise ModelError(
                f"model file '{path}' holds a {type(clf).__name__}, which has no predict: it is not an "
                f"estimator of method {self.method_name}"
            )
        if isinstance(n_in, (int, np.integer)) and int(n_in) != n_var:
            raise ModelError(
                f"model file '{path}': model expects {int(n_in)} inputs, {n_var} variables declared "
                f"({[v.expression for v in self.context.variables]})"
            )
        self.classifier_ = clf
        self.model_path_ = path
        super().read_weights_xml(weights)

    # ------------------------------------------------------------------ ranking
    def feature_importances(self) -> npt.NDArray[np.float64] | None:
        """Importance per input variable from the fitted estimator, or ``None`` if it has none."""
        clf = self._classifier()
        try:
            values = getattr(clf, "feature_importances_", None)
        except (AttributeError, ValueError):  # AdaBoost with a base estimator that has none
            return None
        if values is None:
            return None
        return np.asarray(values, dtype=np.float64)

    def ranking(self) -> list[tuple[str, float]] | None:
        """``feature_importances_`` per variable label, best first ("Variable Importance")."""
        values = self.feature_importances()
        if values is None or len(values) != self.context.n_variables:
            return None
        labels = [v.label for v in self.context.variables]
        return list(Ranking.from_values(labels, values, self.ranking_criterion).entries)


def proba_by_class(clf: Any, proba: npt.NDArray[Any], n_classes: int) -> F32:
    """Place ``predict_proba`` columns (one per ``clf.classes_``) at their class index.

    A class absent from the training events gets a column of zeros.
    """
    proba = np.asarray(proba, dtype=np.float64)
    classes = np.asarray(getattr(clf, "classes_", np.arange(proba.shape[1]))).astype(np.int64)
    if proba.shape[1] == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return proba.astype(np.float32)
    out = np.zeros((proba.shape[0], n_classes), dtype=np.float32)
    out[:, classes] = proba
    return out


def adaboost_algorithm_kwargs() -> dict[str, Any]:
    """Extra keyword arguments of ``AdaBoostClassifier`` for the installed scikit-learn.

    scikit-learn < 1.6 still has the ``algorithm`` parameter (with the deprecated default
    ``'SAMME.R'`` in 1.4–1.5): pass ``'SAMME'`` there; newer versions have only SAMME and no
    parameter (passing it would warn).
    """
    from sklearn.ensemble import AdaBoostClassifier

    if "algorithm" in AdaBoostClassifier().get_params() and _version_tuple(sklearn_version()) < (1, 6):
        return {"algorithm": "SAMME"}
    return {}
