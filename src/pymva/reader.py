"""TMVA's ``Reader``: apply trained methods to new events from their weights files.

``../shared/tmva/core.md`` §8.  The PyROOT idiom of ROOT's application tutorials works unchanged::

    reader = Reader("Color:!Silent")
    var1 = array.array("f", [0.0])            # or numpy.zeros(1, dtype=numpy.float32)
    reader.AddVariable("var1", var1)
    ...
    reader.BookMVA("PyTorch", "dataset/weights/TMVAClassification_PyTorch.weights.xml")
    for entry in tree:
        var1[0] = entry.var1                  # write into the bound array ...
        value = reader.EvaluateMVA("PyTorch")  # ... its current value is read here

Beyond TMVA, every ``Evaluate…`` call also takes the input values directly, one event (1-D, returns
a float or a list as TMVA does) or many (2-D ``(n_events, n_variables)``, returns a float32 array),
evaluated in one vectorised call::

    values = reader.EvaluateMVA(X, "PyTorch")          # X: (n, 4) -> (n,)

Events with a NaN (or infinite) input give −999 (with an ERROR line), as TMVA's ``EvaluateMVA`` does
for NaN; pymva does the same in ``EvaluateRegression``/``EvaluateMulticlass`` (every output −999),
where TMVA only logs.

Nothing in a weights file makes code run (``docs/security.md``): code and files outside the weights
file's directory are used only when the script names them — the Reader options ``UserCode`` and
``AllowPickle``, or keywords of :meth:`Reader.BookMVA` (``UserCode=``, ``FilenameTrainedModel=``,
``FilenameClassifier=``, ``AllowPickle=``).

:class:`RReader` is ``TMVA.Experimental.RReader``: one method, variables taken from the file, and
``Compute`` on a list (one event) or a 2-D array (many events).  It stays in this module (which is
therefore somewhat longer than ~800 lines): it is a Reader with one booked method and shares its
booking, input checks and evaluation path, and ``TMVA.Reader``/``TMVA.Experimental`` are one face.
"""

from __future__ import annotations

import array
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, overload

import numpy as np
import numpy.typing as npt

from .errors import DataError, ModelError, OptionError, PyMVAError, did_you_mean
from .io.weights import (
    WeightsFileContent,
    method_from_content,
    parse_weights_xml,
    read_weights_file,
    weights_file_argument,
)
from .logger import configure, get_logger
from .methods.base import MethodBase
from .options import OptionsBase, option
from .types import EMVA, EAnalysisType

__all__ = ["Experimental", "RReader", "Reader", "ReaderOptions"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
_Kind = Literal["mva", "regression", "multiclass"]

#: The value TMVA returns for an event with a NaN input variable.
NAN_RESPONSE = -999.0

_FLOAT_CODES = frozenset("fd")
_INT_CODES = frozenset("bBhHiIlLqQ")


@dataclass(frozen=True)
class ReaderOptions(OptionsBase):
    """Options of the Reader (TMVA ``Reader::DeclareOptions``)."""

    component_name: ClassVar[str] = "Reader"

    V: bool = option(False, "Verbose flag")
    Color: bool = option(False, "Color flag")
    Silent: bool = option(False, "Boolean silent flag")
    Error: bool = option(False, "Calculates errors (pymva's methods give -1, as TMVA methods without errors)")
    AllowPickle: bool = option(
        False,
        "Read model files that are Python pickles (older pymva files); unpickling runs code from the "
        "file: only for files you trust. pymva extension",
    )
    UserCode: str = option(
        "",
        "Python file to run (in a fresh namespace) for the PyTorch methods booked by this Reader; a "
        "weights file's own UserCode is never run. pymva extension",
    )


def _is_aux(value: Any) -> bool:
    """Whether a second argument after the tag is TMVA's ``aux`` number (not input values)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (int, float, np.integer, np.floating)) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    )


def as_float32_events(values: Any) -> F32:
    """Input values as a float32 array (values beyond float32 become ±inf).

    Raises
    ------
    DataError
        For values that are not numbers (strings, objects, complex numbers, ragged lists).
    """
    accepted = "numbers: a list or 1-D array for one event, a 2-D array (n_events, n_variables) for many"
    if isinstance(values, (str, bytes, dict)) or values is None:
        raise DataError(
            f"the input values ({type(values).__name__}) cannot be converted to float32; give {accepted}"
        )
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"the input values cannot be converted to float32 ({exc}); give {accepted}") from None
    if raw.dtype.kind not in "biuf":
        raise DataError(
            f"the input values (dtype {raw.dtype}) cannot be converted to float32; give {accepted}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        return raw.astype(np.float32, copy=False)


def _split_expression(expression: str) -> tuple[str, str]:
    """``"label := expr"`` -> (label, expr) with blanks removed, as TMVA's ``DataSetInfo::AddVariable``."""
    text = str(expression).replace(" ", "")
    if ":=" in text:
        label, _, expr = text.partition(":=")
        return label, expr
    return text, text


class _Binding:
    """One declared variable or spectator and the buffer its value is read from."""

    __slots__ = ("expression", "label", "ref", "view")

    def __init__(self, expression: str, label: str, ref: Any, view: Any) -> None:
        self.expression = expression
        self.label = label
        self.ref = ref
        self.view = view

    def __repr__(self) -> str:
        return f"{self.label}:={self.expression}" if self.label != self.expression else self.expression


def _check_ref(ref: Any, what: str, expression: str, allow_int: bool) -> Any:
    """Validate a bound buffer; return an indexable view whose element 0 is the current value."""
    if ref is None:
        return None
    accepted = "a one-element float32 numpy array or array.array('f', [0.])"
    if isinstance(ref, np.ndarray):
        if ref.size != 1:
            raise DataError(
                f"{what}('{expression}', ref): ref has {ref.size} elements, expected one; pass {accepted} "
                "and write the event's value into ref[0] before each evaluation"
            )
        if ref.dtype.kind == "f" or (allow_int and ref.dtype.kind in "iu"):
            return ref.reshape(-1)  # a view: size-1 arrays are always contiguous
        if ref.dtype.kind in "iu":
            raise DataError(
                f"Reader::AddVariable('{expression}', ref) with an integer buffer ({ref.dtype}): this form is "
                f"deprecated in TMVA, please provide all variables to the reader as floats ({accepted})"
            )
        raise DataError(f"{what}('{expression}', ref): ref has dtype {ref.dtype}; pass {accepted}")
    if isinstance(ref, array.array):
        if len(ref) != 1:
            raise DataError(
                f"{what}('{expression}', ref): ref has {len(ref)} elements, expected one; pass {accepted}"
            )
        if ref.typecode in _FLOAT_CODES or (allow_int and ref.typecode in _INT_CODES):
            return ref
        if ref.typecode in _INT_CODES:
            raise DataError(
                f"Reader::AddVariable('{expression}', ref) with an integer array ('{ref.typecode}'): this form "
                f"is deprecated in TMVA, please provide all variables to the reader as floats ({accepted})"
            )
        raise DataError(
            f"{what}('{expression}', ref): array typecode '{ref.typecode}' is not numeric; pass {accepted}"
        )
    raise DataError(
        f"{what}('{expression}', ref): ref is a {type(ref).__name__}; pass {accepted} (a Python float cannot "
        "be bound: the Reader must see the values you write into the buffer)"
    )


def _check_reader_arguments(options: Any, verbose: Any) -> None:
    """``Reader(options, verbose)``: the types ROOT's constructors accept, else an OptionError."""
    accepted = (
        "Reader(options='', verbose=False), Reader('var1:var2', options) or Reader(['var1', 'var2'], "
        "options), with options a string such as '!Color:!Silent'"
    )
    if isinstance(options, (bytes, bytearray)) or not isinstance(options, (str, Sequence)):
        raise OptionError(
            f"Reader({options!r}): the first argument must be a string or a list of names; {accepted}"
        )
    if not isinstance(options, str):
        bad = [v for v in options if not isinstance(v, str)]
        if bad:
            raise OptionError(f"Reader({options!r}): variable names must be strings, got {bad!r}; {accepted}")
    if not isinstance(verbose, (bool, str, int, np.integer)) or isinstance(verbose, bytes):
        raise OptionError(
            f"Reader(…, {verbose!r}): the second argument must be a bool or a string; {accepted}"
        )


def _caller_flag(value: Any, name: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise OptionError(f"{name}={value!r}: give True or False")


class _EventPath:
    """``EvaluateMVA(tag)`` for one booked classification method, prepared once.

    Built on the method's first per-event evaluation, when the Reader's declarations are final
    (``AddVariable`` after ``BookMVA`` is refused) and the buffers have been checked: it keeps the
    bound buffers, the transformation chain's per-event function
    (:meth:`~pymva.transforms.handler.TransformationHandler.event_function`) and the method's
    (:meth:`~pymva.methods.base.MethodBase.mva_event_function`), so an event costs reading the
    buffers, a finiteness test, the transforms on Python floats and the method itself.  Each part
    falls back to the array path where it has no per-event form; the values are those of
    ``EvaluateMVA(values, tag)`` on the same event.
    """

    __slots__ = ("chain", "cuts", "errors", "method", "predict", "read", "reader", "views")

    def __init__(self, reader: Reader, method: MethodBase) -> None:
        self.reader = reader
        self.method = method
        self.cuts = method.method_type == EMVA.kCuts  # EvaluateMVA(tag) resets its efficiency
        self.views = [b.view for b in reader._variables]
        self.errors = reader.options.Error
        self.read = self._read_rounded
        cls = type(method)
        own_path = cls.raw_outputs is not MethodBase.raw_outputs or cls.mva_value is not MethodBase.mva_value
        if method.uses_spectators or own_path:
            # spectators, or a method with its own evaluation (Likelihood's per-class transforms,
            # CrossValidation's folds): the array path on the one event
            if method.uses_spectators:
                reader._current_spectators(method)  # raises for unbound spectators
                self.views += [b.view for b in reader._spectators]
            self.chain = None
            self.predict = None
            return
        self.read = _float32_reader(self.views) or self._read_rounded
        try:
            method.check_trained()
            self.chain = method.transformations.event_function()
            if self.chain is list:  # no transformation: the values as they are read
                self.chain = _same
            self.predict = method.mva_event_function()
            if self.predict is None:
                self.predict = self._one_row
        except PyMVAError:
            raise
        except Exception as exc:
            raise ModelError(
                f"method {method.method_name} failed preparing the per-event evaluation: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _one_row(self, x: list[float]) -> float:
        """The method's array prediction on one transformed event (methods without a per-event form)."""
        method = self.method
        out = np.asarray(method._predict(np.array([x], dtype=np.float32)))
        n_out = method.context.n_outputs
        if out.shape != (1, n_out):
            raise ModelError(
                f"method {method.method_name}: the prediction has shape {out.shape}, expected "
                f"(n_events, n_outputs) = (1, {n_out})"
            )
        return float(out[0, method.context.signal_class].astype(np.float32))

    def _read_rounded(self) -> list[float]:
        """The bound values rounded to float32 (buffers of other types than float32)."""
        # array('f') rounds to float32 as numpy does (values beyond float32 become ±inf)
        return array.array("f", [float(v[0]) for v in self.views]).tolist()

    def evaluate(self) -> float:
        """The MVA value of the event in the bound buffers (−999 for a NaN/infinite input)."""
        values = self.read()
        chain, predict = self.chain, self.predict
        # the sum of float32 values cannot overflow a float64: it is finite iff every value is
        if chain is None or predict is None or not math.isfinite(sum(values)):
            out = self.reader._one_event(self.method, np.array(values, dtype=np.float32), "mva")
            assert isinstance(out, float)
            return out
        try:
            value = predict(chain(values))
        except PyMVAError:
            raise
        except Exception as exc:  # a method's own failure, named, never a raw traceback
            raise ModelError(
                f"method {self.method.method_name} failed on 1 event(s): {type(exc).__name__}: {exc}"
            ) from exc
        if self.errors:
            self.reader._mva_error = -1.0
            self.reader._mva_error_upper = -1.0
        return value


def _same(values: list[float]) -> list[float]:
    """The identity chain of the per-event path (the values list is the path's own)."""
    return values


def _float32_reader(views: Sequence[Any]) -> Any:
    """A function reading float32 buffers as Python floats (exact, no rounding needed), or None.

    Only for buffers that hold float32 already: all numpy float32 arrays (``item``) or all
    ``array('f')`` (indexing gives a Python float); other buffers need the float32 rounding.
    """
    if views and all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in views):
        items = [v.item for v in views]
        return lambda: [item() for item in items]
    if views and all(isinstance(v, array.array) and v.typecode == "f" for v in views):
        return lambda: [v[0] for v in views]
    return None


class Reader:
    """Evaluate trained methods on new events (TMVA ``Reader``).

    Call forms, as in ROOT::

        Reader(options="", verbose=False)
        Reader("var1:var2:var3", options="", verbose=False)   # variables declared by name, no buffers
        Reader(["var1", "var2"], options="", verbose=False)

    Parameters
    ----------
    options : str or sequence of str
        Option string (``V``, ``Color``, ``Silent``, ``Error``; pymva's ``AllowPickle`` and
        ``UserCode``); or, when a second string follows or it is a list, the variable names.
    verbose : bool or str
        Verbose flag; or the option string in the variable-names form.
    **kwargs
        Options as keyword arguments (``Silent=True``).

    Raises
    ------
    OptionError
        For an option that cannot be interpreted, or arguments of other types than these.
    """

    def __init__(
        self,
        options: str | Sequence[str] = "",
        verbose: bool | str = False,
        verbose_flag: bool = False,
        /,
        *,
        _quiet: bool = False,
        **kwargs: Any,
    ) -> None:
        var_names: list[str] = []
        _check_reader_arguments(options, verbose)
        if isinstance(verbose, str) or not isinstance(options, str):
            if isinstance(options, str):
                var_names = [v.replace("@", "") for v in options.split(":") if v.strip()]
            else:
                var_names = [str(v) for v in options]
            opt_text = verbose if isinstance(verbose, str) else ""
            verb = bool(verbose_flag)
        else:
            opt_text = options
            verb = bool(verbose)
        self.options = ReaderOptions.parse(opt_text, component="Reader", **kwargs)
        self.verbose = verb or self.options.V
        self._quiet = _quiet
        if not _quiet:
            configure(color=self.options.Color, silent=self.options.Silent, verbose=self.verbose)
        self.log = get_logger("Reader", "pymva.reader")
        self._variables: list[_Binding] = []
        self._spectators: list[_Binding] = []
        self._methods: dict[str, MethodBase] = {}
        self._paths: dict[int, _EventPath] = {}
        self._pdf_warned: set[tuple[str, int]] = set()
        self._mva_error = 0.0
        self._mva_error_upper = 0.0
        for name in var_names:
            self.AddVariable(name)

    # ------------------------------------------------------------------ declarations
    def _declare(self, kind: str, expression: str, ref: Any, allow_int: bool) -> None:
        if self._methods:
            raise OptionError(
                f"{kind}('{expression}') after BookMVA: declare every variable and spectator before booking "
                f"methods (booked: {', '.join(self._methods)})"
            )
        label, expr = _split_expression(expression)
        if not expr:
            raise DataError(f"{kind}: empty expression")
        view = _check_ref(ref, kind, expression, allow_int)
        target = self._variables if kind == "AddVariable" else self._spectators
        target.append(_Binding(expr, label, ref, view))

    def AddVariable(self, expression: str, ref: Any = None) -> None:
        """Declare the next input variable, in the order and with the expression used in training.

        Parameters
        ----------
        expression : str
            The expression as given to ``DataLoader.AddVariable`` (``"label := expr"`` accepted).
        ref : numpy.ndarray or array.array, optional
            A one-element float buffer (``numpy.zeros(1, numpy.float32)``, ``array.array('f', [0.])``):
            its value **at evaluation time** is the variable's value.  May be left out when only the
            forms that take values (``EvaluateMVA(values, tag)``) are used.

        Raises
        ------
        DataError
            For a buffer that is not a one-element float array (integer buffers are refused as in TMVA).
        OptionError
            When called after ``BookMVA``.
        """
        self._declare("AddVariable", expression, ref, allow_int=False)

    def AddSpectator(self, expression: str, ref: Any = None) -> None:
        """Declare the next spectator (float or integer one-element buffer, or none).

        Every spectator of the training must be declared, in order, as in TMVA; their values are not used.
        """
        self._declare("AddSpectator", expression, ref, allow_int=True)

    @property
    def variables(self) -> list[str]:
        """Declared variable expressions, in order."""
        return [b.expression for b in self._variables]

    @property
    def spectators(self) -> list[str]:
        """Declared spectator expressions, in order."""
        return [b.expression for b in self._spectators]

    @property
    def methods(self) -> dict[str, MethodBase]:
        """The booked methods by tag."""
        return dict(self._methods)

    # ------------------------------------------------------------------ booking
    def _check_declarations(self, content: WeightsFileContent) -> None:
        src = content.source
        for kind, word, declared, stored, adder in (
            ("variable", "variables", self._variables, content.variables, "AddVariable"),
            ("spectator", "spectators", self._spectators, content.spectators, "AddSpectator"),
        ):
            mine = [b.expression for b in declared]
            theirs = [v.expression.replace(" ", "") for v in stored]
            listing = f"declared in the Reader: {mine}; in the file: {[v.expression for v in stored]}"
            if len(mine) != len(theirs):
                raise DataError(
                    f"You declared {len(mine)} {word} in the Reader while there are {len(theirs)} {word} "
                    f"declared in the file '{src}' ({listing}); declare each with reader.{adder}(expression, "
                    "ref) in the file's order"
                )
            for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
                if a != b:
                    short = "var" if kind == "variable" else "spec"
                    raise DataError(
                        "The expression declared to the Reader needs to be checked (name or order are wrong): "
                        f"{short} #{i} declared in Reader: '{a}', {short} #{i} declared in file: "
                        f"'{stored[i].expression}' (file '{src}'; {listing})"
                    )

    def _caller_options(
        self, content: WeightsFileContent, given: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """The options the script gives for this booking (never read from the file), and AllowPickle."""
        from .methods.registry import get_method_class

        given = dict(given)
        allow = self.options.AllowPickle
        for key in [k for k in given if k.lower() == "allowpickle"]:
            allow = _caller_flag(given.pop(key), "AllowPickle")
        try:
            method_cls = get_method_class(content.method_type)
        except OptionError as exc:
            raise ModelError(f"weights file '{content.source}': {exc}") from None
        code = self.options.UserCode
        if code and "UserCode" in method_cls.code_options and not any(k.lower() == "usercode" for k in given):
            given["UserCode"] = code
        return given, allow

    def _book_content(self, content: WeightsFileContent, given: dict[str, Any] | None = None) -> MethodBase:
        self._check_declarations(content)
        caller, allow = self._caller_options(content, given or {})
        method = method_from_content(content, caller_options=caller, allow_pickle=allow)
        self._info('Booked classifier "%s" of type: "%s"', method.title, method.method_type.type_name)
        return method

    def BookMVA(
        self, methodTag: str | EMVA, weightfile: str | os.PathLike[str], **options: Any
    ) -> MethodBase:
        """Book a method from its weights file under a tag.

        Parameters
        ----------
        methodTag : str or Types member
            The tag used in ``EvaluateMVA(tag)``.  With a ``Types`` member instead (TMVA's
            ``BookMVA(EMVA, xmlString)``), ``weightfile`` is the XML text itself and the method is
            returned without a tag (evaluate it with ``EvaluateMVA(method)``).
        weightfile : path-like or str
            The ``.weights.xml`` file (the method type is read from it).
        **options
            pymva extension: what the script itself gives, never read from the file —
            ``AllowPickle=True`` (read a pickled model file; it runs code), ``UserCode=<file>``
            (PyTorch: run this file for ``load_model_custom_objects``), ``FilenameTrainedModel=<file>``
            (PyTorch) or ``FilenameClassifier=<file>`` (scikit-learn methods): load the model from
            this file instead of the one beside the weights file.

        Returns
        -------
        MethodBase
            The booked method.

        Raises
        ------
        OptionError
            ``<BookMVA> method tag "<tag>" already exists!``; a tag that is neither a string nor a
            ``Types`` member; a weights file given as something other than a ``str``/``Path``; an
            option the method does not accept here.
        DataError
            When the declared variables or spectators differ from the file's (count, order, expression).
        ModelError
            When the file cannot be read (missing, a FIFO or device, over 256 MiB, not a weights file)
            or the method cannot be re-created from it.
        """
        if isinstance(methodTag, (int, np.integer)) and not isinstance(methodTag, (bool, np.bool_)):
            try:
                emva = EMVA(int(methodTag))
            except ValueError:
                known = ", ".join(f"{m.name}={int(m)}" for m in EMVA)
                raise OptionError(
                    f"BookMVA({methodTag!r}, …): {methodTag} is no TMVA method type; give a string tag, or a "
                    f"Types member with the XML text ({known})"
                ) from None
            if not isinstance(weightfile, (str, bytes)):
                raise OptionError(
                    f"BookMVA({emva.name}, xml): the second argument must be the XML text (str or bytes), got "
                    f"{type(weightfile).__name__}"
                )
            content = parse_weights_xml(weightfile, "<string>")
            if content.method_type.lower() != emva.type_name.lower():
                raise ModelError(
                    f"BookMVA({emva.name}, xml): the XML holds a method of type '{content.method_type}'"
                )
            return self._book_content(content, options)
        if not isinstance(methodTag, str) or not methodTag:
            raise OptionError(
                f"BookMVA({methodTag!r}, …): the method tag must be a non-empty string such as 'PyTorch' "
                "(or a Types member with the XML text)"
            )
        tag = methodTag
        if tag in self._methods:
            raise OptionError(
                f'<BookMVA> method tag "{tag}" already exists! (booked tags: {", ".join(self._methods)}); '
                "use another tag"
            )
        path = weights_file_argument(weightfile, f"BookMVA('{tag}', weightfile): weightfile")
        content = read_weights_file(path)
        self._info('Booking "%s" of type "%s" from %s.', tag, content.method_type, path)
        method = self._book_content(content, options)
        self._methods[tag] = method
        return method

    def FindMVA(self, methodTag: str) -> MethodBase | None:
        """The method booked under ``methodTag``, or ``None`` (with an ERROR line) as in TMVA."""
        method = self._methods.get(methodTag)
        if method is None:
            self.log.error("Method %s not found!", methodTag)
        return method

    def _method(self, tag: str) -> MethodBase:
        try:
            return self._methods[tag]
        except (KeyError, TypeError):
            booked = list(self._methods)
            raise OptionError(
                f'<EvaluateMVA> unknown classifier in map; you looked for "{tag}"'
                f"{did_you_mean(str(tag), booked)} Booked tags: {', '.join(booked) if booked else '(none)'}"
            ) from None

    # ------------------------------------------------------------------ helpers
    def _info(self, msg: str, *args: Any) -> None:
        if not self._quiet:
            self.log.info(msg, *args)

    def _current_event(self, method: MethodBase) -> F32:
        """The current values of the bound variables, as one float32 event."""
        n = method.context.n_variables
        if len(self._variables) != n:
            raise DataError(
                f"method {method.method_name} expects {n} input variables, the Reader declares "
                f"{len(self._variables)}; pass the values instead: EvaluateMVA(values, tag)"
            )
        unbound = [b.expression for b in self._variables if b.view is None]
        if unbound:
            raise DataError(
                f"variables {unbound} were declared without a buffer; bind one with "
                "reader.AddVariable(expression, numpy.zeros(1, numpy.float32)) or pass the values: "
                "EvaluateMVA(values, tag)"
            )
        values = [b.view[0] for b in self._variables]
        if method.uses_spectators:
            values += self._current_spectators(method)
        with np.errstate(over="ignore", invalid="ignore"):  # a float64 beyond float32 reads as inf
            return np.array(values, dtype=np.float32)

    def _current_spectators(self, method: MethodBase) -> list[float]:
        """The bound spectators' current values, for a method that reads them (a split expression)."""
        unbound = [b.expression for b in self._spectators if b.view is None]
        if unbound or len(self._spectators) != len(method.context.spectators):
            raise DataError(
                f"method {method.method_name} reads the spectators {[v.expression for v in method.context.spectators]} "
                f"(its split expression picks the fold model of each event); bind each with "
                "reader.AddSpectator(expression, numpy.zeros(1, numpy.float32)), or pass the variables then the "
                "spectators: EvaluateMVA(values, tag)"
                + (f" (declared without a buffer: {unbound})" if unbound else "")
            )
        return [float(b.view[0]) for b in self._spectators]

    @staticmethod
    def _input_columns(method: MethodBase) -> list[Any]:
        """The columns a method reads: its variables, then its spectators when it uses them."""
        ctx = method.context
        return list(ctx.variables) + (list(ctx.spectators) if method.uses_spectators else [])

    def _as_input(self, values: Any, method: MethodBase) -> F32:
        X = as_float32_events(values)
        columns = [v.expression for v in self._input_columns(method)]
        n = len(columns)
        what = "variables then spectators" if method.uses_spectators else "variables"
        if X.ndim == 1 and X.shape[0] != n:
            raise DataError(
                f"one event needs {n} values (the {what} of {method.method_name}: "
                f"{columns}), got {X.shape[0]}"
                + ("; for many events pass a 2-D array of shape (n_events, 1)" if n == 1 else "")
            )
        if X.ndim == 2 and X.shape[1] != n:
            raise DataError(
                f"the input has {X.shape[1]} columns, {method.method_name} reads {n} {what} "
                f"{columns}; expected shape (n_events, {n})"
            )
        if X.ndim not in (1, 2):
            raise DataError(
                f"the input must be one event (1-D) or many (2-D, n_events x {n}); got shape {X.shape}"
            )
        return X

    def _check_kind(self, method: MethodBase, kind: _Kind) -> None:
        at = method.context.analysis_type
        if kind == "regression" and at != EAnalysisType.kRegression:
            raise ModelError(
                f"method {method.method_name} was trained for {at.type_name}; EvaluateRegression needs a "
                "regression method (use EvaluateMVA or EvaluateMulticlass)"
            )
        if kind == "multiclass" and at == EAnalysisType.kRegression:
            raise ModelError(
                f"method {method.method_name} was trained for Regression; use EvaluateRegression"
            )

    @staticmethod
    def _n_outputs(method: MethodBase, kind: _Kind) -> int:
        if kind == "mva":
            return 0
        return method.context.n_targets if kind == "regression" else method.context.n_classes

    def _compute(self, method: MethodBase, X: F32, kind: _Kind) -> F32:
        """Evaluate NaN-free events (2-D) through the method."""
        try:
            if kind == "mva":
                out = method.mva_value(X)
            elif kind == "regression":
                out = method.evaluate(X)
            else:
                out = method.raw_outputs(X)
        except PyMVAError:
            raise
        except Exception as exc:  # a method's own failure, named, never a raw traceback
            raise ModelError(
                f"method {method.method_name} failed on {len(X)} event(s): {type(exc).__name__}: {exc}"
            ) from exc
        if self.options.Error:
            self._mva_error = -1.0
            self._mva_error_upper = -1.0
        return np.asarray(out, dtype=np.float32)

    def _one_event(self, method: MethodBase, x: F32, kind: _Kind) -> float | list[float]:
        self._check_kind(method, kind)
        bad = np.flatnonzero(~np.isfinite(x))
        if bad.size:
            i = int(bad[0])
            word = "NaN" if np.isnan(x[i]) else "infinite"
            if kind == "mva":
                self.log.error(
                    "%d-th variable of the event is %s --> return MVA value -999, \n"
                    " that's all I can do, please fix or remove this event.",
                    i,
                    word,
                )
                return NAN_RESPONSE
            what = "target" if kind == "regression" else "class"
            self.log.error(
                "%d-th variable of the event is %s --> return -999 for every %s, \n"
                " please fix or remove this event.",
                i,
                word,
                what,
            )
            return [NAN_RESPONSE] * self._n_outputs(method, kind)
        out = self._compute(method, x.reshape(1, -1), kind)
        if kind == "mva":
            return float(out[0])
        return [float(v) for v in out[0]]

    def _many_events(self, method: MethodBase, X: F32, kind: _Kind) -> F32:
        self._check_kind(method, kind)
        n = X.shape[0]
        shape: tuple[int, ...] = (n,) if kind == "mva" else (n, self._n_outputs(method, kind))
        if n == 0:
            return np.zeros(shape, np.float32)
        isnan = ~np.isfinite(X)  # NaN or ±inf
        bad = isnan.any(axis=1)
        if not bad.any():
            return np.ascontiguousarray(self._compute(method, X, kind).reshape(shape))
        per_var = isnan.sum(axis=0)
        hit = ", ".join(
            f"{v.expression} ({int(c)})"
            for v, c in zip(self._input_columns(method), per_var, strict=True)
            if c
        )
        word = "NaN" if not np.isinf(X[bad]).any() else "NaN or infinite"
        self.log.error(
            "%d of %d events have a %s input variable --> their output is -999, please fix or remove "
            "these events (%s per variable: %s)",
            int(bad.sum()),
            n,
            word,
            word,
            hit,
        )
        out = np.full(shape, NAN_RESPONSE, dtype=np.float32)
        good = ~bad
        if good.any():
            out[good] = self._compute(method, np.ascontiguousarray(X[good]), kind).reshape((-1, *shape[1:]))
        return out

    def _event_path(self, method: MethodBase) -> _EventPath:
        """The per-event evaluation of ``method``, prepared (and checked) on its first use."""
        path = self._paths.get(id(method))
        if path is None or path.method is not method:
            self._current_event(method)  # the checks of the bound buffers, raising as before
            path = _EventPath(self, method)
            self._paths[id(method)] = path
        return path

    def _dispatch(self, arg0: Any, arg1: Any, kind: _Kind) -> Any:
        if isinstance(arg0, (str, MethodBase)):
            method = self._method(arg0) if isinstance(arg0, str) else arg0
            if kind == "mva" and method.context.analysis_type == EAnalysisType.kClassification:
                return self._event_path(method).evaluate()
            return self._one_event(method, self._current_event(method), kind)
        if isinstance(arg1, MethodBase):
            method = arg1
        elif isinstance(arg1, str):
            method = self._method(arg1)
        else:
            raise OptionError(
                "call as Evaluate…(tag) or Evaluate…(values, tag): the method tag must be a string, "
                f"got {type(arg1).__name__}"
            )
        X = self._as_input(arg0, method)
        if X.ndim == 1:
            return self._one_event(method, X, kind)
        return self._many_events(method, X, kind)

    # ------------------------------------------------------------------ evaluation
    @overload
    def EvaluateMVA(self, methodTag: str, aux: float = 0.0) -> float: ...
    @overload
    def EvaluateMVA(self, methodTag: MethodBase, aux: float = 0.0) -> float: ...
    @overload
    def EvaluateMVA(self, values: npt.ArrayLike, methodTag: str, aux: float = 0.0) -> float | F32: ...

    def EvaluateMVA(self, *args: Any, **kwargs: Any) -> Any:
        """The MVA response of a booked method.

        Forms: ``EvaluateMVA(tag)`` (current values of the bound buffers), ``EvaluateMVA(method)``,
        ``EvaluateMVA(values, tag)`` with ``values`` one event (1-D, returns a float) or many
        (2-D ``(n_events, n_variables)``, returns a float32 array); ``EvaluateMVA(tag, values)`` is the
        same as ``EvaluateMVA(values, tag)``.  ``aux`` (a number) is TMVA's signal efficiency for a
        Cuts method (its ``SetTestSignalEfficiency``; ``0`` when not given, so that Cuts returns 0); the
        other methods ignore it.

        Classification: the signal-class output.  Regression and multiclass: the method's raw first
        output, as TMVA's ``GetMvaValue`` (no inverse target transform: use ``EvaluateRegression``).
        An event with a NaN or infinite input gives −999 and an ERROR line.

        Raises
        ------
        OptionError
            For an unknown tag.
        DataError
            For unbound variables or input of the wrong shape or type.
        ModelError
            When the method fails (its message names the method).
        """
        if len(args) == 1 and not kwargs and isinstance(args[0], str):
            # the event loop's call, EvaluateMVA(tag), once its per-event path is prepared
            method = self._methods.get(args[0])
            path = self._paths.get(id(method)) if method is not None else None
            if path is not None and path.method is method:
                if path.cuts:
                    self._set_test_signal_efficiency(path.method, 0.0)
                return path.evaluate()
        arg0, arg1 = self._split_args("EvaluateMVA", args, kwargs)
        self._apply_aux(arg0, arg1, args, kwargs)
        return self._dispatch(arg0, arg1, "mva")

    def _apply_aux(self, arg0: Any, arg1: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """TMVA's ``Reader::EvaluateMVA(method, aux)``: a Cuts method takes ``aux`` as its signal efficiency."""
        target = arg0 if isinstance(arg0, (str, MethodBase)) else arg1
        method = target if isinstance(target, MethodBase) else self._methods.get(str(target))
        if method is None or method.method_type != EMVA.kCuts:
            return
        aux: Any = kwargs.get("aux", 0.0)
        if "aux" not in kwargs:
            rest = [a for a in args if a is not arg0 and a is not arg1]
            if rest:
                aux = rest[0]
        self._set_test_signal_efficiency(method, aux)

    @staticmethod
    def _set_test_signal_efficiency(method: MethodBase, aux: Any) -> None:
        if not _is_aux(aux):
            raise OptionError(
                f"EvaluateMVA(): aux must be a number (the signal efficiency for Cuts), got {aux!r}"
            )
        setter = getattr(method, "SetTestSignalEfficiency", None)
        if callable(setter):
            setter(float(aux))

    @staticmethod
    def _split_args(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
        extra = sorted(set(kwargs) - {"aux", "methodTag"})
        if extra:
            raise OptionError(f"{name}() got unexpected keyword arguments {extra}; accepted: methodTag, aux")
        items = list(args)
        if "methodTag" in kwargs:
            items.insert(1 if items else 0, kwargs["methodTag"])
        if not items:
            raise OptionError(f"{name}() needs a method tag: {name}(tag) or {name}(values, tag)")
        if len(items) > 3 or (len(items) == 3 and isinstance(items[0], (str, MethodBase))):
            raise OptionError(
                f"{name}() takes (tag[, aux]) or (values, tag[, aux]); got {len(items)} arguments"
            )
        arg0 = items[0]
        if isinstance(arg0, (str, MethodBase)):
            if len(items) > 1 and not _is_aux(items[1]):
                # Evaluate…(tag, values): the values are used, never silently ignored
                if isinstance(items[1], (str, bytes)):
                    as_float32_events(items[1])  # raises: text is neither aux nor values
                return items[1], arg0
            return arg0, None  # a second positional argument is aux (TMVA's signal efficiency)
        return arg0, items[1] if len(items) > 1 else None

    @overload
    def EvaluateRegression(self, methodTag: str, aux: float = 0.0) -> list[float]: ...
    @overload
    def EvaluateRegression(self, methodTag: MethodBase, aux: float = 0.0) -> list[float]: ...
    @overload
    def EvaluateRegression(self, tgtNumber: int, methodTag: str, aux: float = 0.0) -> float: ...
    @overload
    def EvaluateRegression(
        self, values: npt.ArrayLike, methodTag: str, aux: float = 0.0
    ) -> list[float] | F32: ...

    def EvaluateRegression(self, *args: Any, **kwargs: Any) -> Any:
        """Regression targets of a booked regression method, through the inverse target transforms.

        Forms: ``EvaluateRegression(tag)`` -> list (one value per target), ``EvaluateRegression(i, tag)``
        -> float (0 and a WARNING when ``i`` is out of range, as in TMVA), ``EvaluateRegression(values,
        tag)`` -> list for one event (1-D) or a float32 array ``(n_events, n_targets)`` for many (2-D).
        Events with a NaN input give −999 for every target (TMVA only logs; see the docs).

        Raises
        ------
        ModelError
            When the method was not trained for regression.
        """
        return self._indexed("EvaluateRegression", args, kwargs, "regression")

    @overload
    def EvaluateMulticlass(self, methodTag: str, aux: float = 0.0) -> list[float]: ...
    @overload
    def EvaluateMulticlass(self, methodTag: MethodBase, aux: float = 0.0) -> list[float]: ...
    @overload
    def EvaluateMulticlass(self, clsNumber: int, methodTag: str, aux: float = 0.0) -> float: ...
    @overload
    def EvaluateMulticlass(
        self, values: npt.ArrayLike, methodTag: str, aux: float = 0.0
    ) -> list[float] | F32: ...

    def EvaluateMulticlass(self, *args: Any, **kwargs: Any) -> Any:
        """Per-class outputs of a booked method (as the method computes them; no softmax is added).

        Forms: ``EvaluateMulticlass(tag)`` -> list (one value per class), ``EvaluateMulticlass(i, tag)``
        -> float (0 and a WARNING when ``i`` is out of range, as in TMVA), ``EvaluateMulticlass(values,
        tag)`` -> list for one event or a float32 array ``(n_events, n_classes)`` for many.
        Events with a NaN input give −999 for every class (TMVA only logs; see the docs).

        Raises
        ------
        ModelError
            For a regression method.
        """
        return self._indexed("EvaluateMulticlass", args, kwargs, "multiclass")

    def _indexed(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], kind: _Kind) -> Any:
        if (
            args
            and isinstance(args[0], (int, np.integer))
            and not isinstance(args[0], bool)
            and len(args) >= 2
            and isinstance(args[1], (str, MethodBase))
        ):
            index = int(args[0])
            values = self._dispatch(args[1], None, kind)
            if 0 <= index < len(values):
                return float(values[index])
            what = "target-number" if kind == "regression" else "class-number"
            label = "Regression" if kind == "regression" else "Multiclass"
            self.log.warning("%s could not be evaluated for %s %d", label, what, index)
            return 0.0
        arg0, arg1 = self._split_args(name, args, kwargs)
        return self._dispatch(arg0, arg1, kind)

    # ------------------------------------------------------------------ errors, probabilities
    def GetMVAError(self) -> float:
        """The per-event error of the last evaluation with ``Error`` on (−1: the method gives none)."""
        return self._mva_error

    def GetMVAErrorUpper(self) -> float:
        """The upper per-event error of the last evaluation with ``Error`` on (−1: none)."""
        return self._mva_error_upper

    def _pdf_input(self, method: MethodBase, mvaVal: Any) -> tuple[F64 | None, bool]:
        """The responses GetProba/GetRarity read: ``mvaVal``, or the current event's (TMVA's -9999999).

        Returns ``(None, True)`` for a current event with a NaN variable (TMVA: −999 and an ERROR).
        """
        values = np.asarray(mvaVal, dtype=np.float64)
        if values.ndim > 1:
            raise DataError(
                f"mvaVal must be one number or a 1-D array of responses, got shape {values.shape}"
            )
        default = values.ndim == 0 and float(values) == -9999999
        try:
            x: F32 | None = self._current_event(method)
        except DataError:
            if default:
                raise
            x = None  # responses given, buffers unbound: nothing to check
        if x is not None and np.isnan(x).any():
            self.log.error(
                "%d-th variable of the event is NaN --> return MVA value -999, \n"
                " that's all I can do, please fix or remove this event.",
                int(np.flatnonzero(np.isnan(x))[0]),
            )
            return None, True
        if default:
            values = np.asarray(self.EvaluateMVA(method), dtype=np.float64)
        return np.atleast_1d(values), values.ndim == 0

    def _warn_no_pdf(self, name: str, method: MethodBase, returned: str) -> None:
        if (name, id(method)) in self._pdf_warned:
            return
        self._pdf_warned.add((name, id(method)))
        self.log.warning(
            "<%s> method %s has no MVA PDFs (its weights file holds no <MVAPdfs>; train it with "
            "CreateMVAPdfs): return %s (said once per method)",
            name,
            method.method_name,
            returned,
        )

    @overload
    def GetProba(self, methodTag: str, ap_sig: float = 0.5, mvaVal: float = -9999999) -> float: ...
    @overload
    def GetProba(self, methodTag: str, ap_sig: float, mvaVal: npt.ArrayLike) -> float | F64: ...

    def GetProba(self, methodTag: str, ap_sig: float = 0.5, mvaVal: Any = -9999999) -> Any:
        """The signal probability of a response from the method's MVA PDFs (TMVA ``Reader::GetProba``).

        ``p_s·ap_sig / (p_s·ap_sig + p_b·(1 − ap_sig))`` with ``p_s``, ``p_b`` the signal and background
        PDFs (``PDF::GetVal``) at ``mvaVal``; −1 where the denominator is not positive
        (``MethodBase::GetProba``).  ``mvaVal`` left at ``-9999999`` is the current event's
        ``EvaluateMVA(methodTag)``; a 1-D array of responses gives an array (pymva extension).  A
        current event with a NaN variable gives −999 and an ERROR line.  A method without PDFs
        (trained without ``CreateMVAPdfs``) gives −1, with one WARNING per method.

        Parameters
        ----------
        methodTag : str
            The booked method.
        ap_sig : float
            The a-priori signal fraction (default 0.5).
        mvaVal : float or array_like of shape (n,)
            The response(s); default the current event's.

        Returns
        -------
        float, or ndarray of float64 of shape (n,) for an array ``mvaVal``

        Raises
        ------
        OptionError
            For an unknown tag.
        DataError
            For unbound variables when ``mvaVal`` is not given, or a ``mvaVal`` of more than one dimension.
        """
        return self._pdf_value(
            "GetProba", methodTag, mvaVal, -1.0, lambda pdfs, x: pdfs.proba(x, float(ap_sig))
        )

    @overload
    def GetRarity(self, methodTag: str, mvaVal: float = -9999999) -> float: ...
    @overload
    def GetRarity(self, methodTag: str, mvaVal: npt.ArrayLike) -> float | F64: ...

    def GetRarity(self, methodTag: str, mvaVal: Any = -9999999) -> Any:
        """The rarity of a response: the background PDF integrated up to it (TMVA ``Reader::GetRarity``).

        ``R(x) = ∫_{xmin}^{x} PDF_B`` as ``PDF::GetIntegral`` sums the fine histogram
        (``MethodBase::GetRarity`` with its default reference, the background): 0 below the PDF's
        range, 1 at its upper edge (slightly more beyond it: the last bin's width is stretched to
        ``x``).  ``mvaVal`` as in :meth:`GetProba`.  A method without PDFs gives 0 (TMVA's value),
        with one WARNING per method; a NaN variable in the current event gives −999.

        Parameters
        ----------
        methodTag : str
        mvaVal : float or array_like of shape (n,)

        Returns
        -------
        float, or ndarray of float64 of shape (n,) for an array ``mvaVal``

        Raises
        ------
        OptionError
            For an unknown tag.
        DataError
            As :meth:`GetProba`.
        """
        return self._pdf_value("GetRarity", methodTag, mvaVal, 0.0, lambda pdfs, x: pdfs.rarity(x))

    def _pdf_value(
        self, name: str, methodTag: str, mvaVal: Any, missing: float, compute: Callable[[Any, F64], F64]
    ) -> Any:
        """GetProba/GetRarity: ``compute(pdfs, responses)``, ``missing`` (one WARNING) without PDFs."""
        method = self._method(methodTag)
        mva, scalar = self._pdf_input(method, mvaVal)
        if mva is None:
            return NAN_RESPONSE
        if method.mva_pdfs is None:
            self._warn_no_pdf(name, method, f"{missing:g}")
            out = np.full(mva.shape, missing)
        else:
            out = compute(method.mva_pdfs, mva)
        return float(out[0]) if scalar else out

    def __repr__(self) -> str:
        return (
            f"<Reader variables={self.variables} spectators={self.spectators} "
            f"methods={ {t: m.method_name for t, m in self._methods.items()} }>"
        )


class RReader:
    """``TMVA.Experimental.RReader``: a single method from a weights file, variables taken from the file.

    Parameters
    ----------
    path : path-like
        The ``.weights.xml`` file.
    **options
        What the script gives for this method, as in :meth:`Reader.BookMVA` (``AllowPickle``,
        ``UserCode``, ``FilenameTrainedModel``, ``FilenameClassifier``); pymva extension.

    Raises
    ------
    ModelError
        When the file has no variables, no classes or no analysis type (ROOT's ``runtime_error``), or
        cannot be read.
    """

    _TAG = "RReader"

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        content = read_weights_file(weights_file_argument(path, "RReader(path): path"))
        src = content.source
        if not content.variables:
            raise ModelError(f"Failed to parse input variables from TMVA config {src}.")
        if not content.class_names:
            raise ModelError(f"Failed to parse output classes from TMVA config {src}.")
        if not content.has_analysis_type:
            raise ModelError(f"Failed to parse analysis type from TMVA config {src}.")
        self.path = src
        self.analysis_type = content.analysis_type
        self._names = [v.title for v in content.variables]
        self._reader = Reader("Silent", _quiet=True)
        for v in content.variables:
            self._reader.AddVariable(v.expression)
        # unlike ROOT's RReader, spectators are declared too, so files with spectators can be read
        for s in content.spectators:
            self._reader.AddSpectator(s.expression)
        self.method = self._reader._book_content(content, options)
        self._reader._methods[self._TAG] = self.method
        self._lock = threading.Lock()

    def GetVariableNames(self) -> list[str]:
        """The variable titles, in order."""
        return list(self._names)

    @property
    def n_classes(self) -> int:
        """Number of classes in the file."""
        return self.method.context.n_classes

    def Compute(self, x: Any) -> Any:
        """Evaluate one event (list or 1-D array -> list) or many (2-D ``(N, nvar)`` array -> array).

        One event: classification ``[mva]``, regression every target, multiclass every class.
        Many events: classification and regression ``(N,)`` (regression: the first target), multiclass
        ``(N, n_classes)``; float32.

        Raises
        ------
        DataError
            When the number of values or columns differs from the number of variables, the input is
            not 1-D or 2-D, or it is not numbers.
        """
        X = as_float32_events(x)
        nvar = len(self._names)
        r = self._reader
        with self._lock:
            if X.ndim == 1:
                if X.shape[0] != nvar:
                    raise DataError(
                        f"Size of input vector is not equal to number of variables ({X.shape[0]} != {nvar}: "
                        f"{self._names})."
                    )
                if self.analysis_type == EAnalysisType.kClassification:
                    return [r.EvaluateMVA(X, self._TAG)]
                if self.analysis_type == EAnalysisType.kRegression:
                    return r.EvaluateRegression(X, self._TAG)
                return r.EvaluateMulticlass(X, self._TAG)
            if X.ndim != 2:
                raise DataError(
                    f"Can only compute model outputs for input tensor of rank 2 (got shape {X.shape})."
                )
            if X.shape[1] != nvar:
                raise DataError(
                    f"Second dimension of input tensor is not equal to number of variables ({X.shape[1]} != "
                    f"{nvar}: {self._names})."
                )
            if self.analysis_type == EAnalysisType.kClassification:
                return r.EvaluateMVA(X, self._TAG)
            if self.analysis_type == EAnalysisType.kRegression:
                return np.ascontiguousarray(np.asarray(r.EvaluateRegression(X, self._TAG))[:, 0])
            return r.EvaluateMulticlass(X, self._TAG)

    def __repr__(self) -> str:
        return f"<RReader {self.method.method_name!r} from {self.path!r} variables={self._names}>"


class Experimental:
    """``TMVA.Experimental``: holds :class:`RReader`."""

    RReader = RReader
