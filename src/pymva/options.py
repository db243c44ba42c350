"""TMVA's option-string grammar, shared by the Factory, the split, every method and the Reader.

Each component declares its options **once**, as a frozen dataclass deriving from
:class:`OptionsBase` whose fields carry :func:`option` metadata (type from the annotation, default,
predefined values, help text).  :meth:`OptionsBase.parse` turns a TMVA option string and/or
keyword arguments into an instance of that dataclass: a typed, frozen options object.

Grammar (TMVA ``Configurable``, ``../shared/tmva/core.md`` §1):

* the string is split on ``:``; empty tokens are ignored;
* option names match case-insensitively and are stored with the declared spelling;
* ``Name=Value`` sets an option; ``Name`` sets a boolean to true and ``!Name`` to false;
  ``Name[i]=Value`` sets element ``i`` of an array option (``Name=Value`` sets all elements);
* booleans accept ``1 true ktrue t`` / ``0 false kfalse f`` (any case);
* for an option with predefined values the value matches case-insensitively and is stored in its
  canonical spelling; a bare token equal to a predefined value of an option selects it for the
  first declared option that accepts it (``Random`` alone means ``SplitMode=Random``);
* an option set twice logs a warning and the last value wins;
* every token that no option consumes is collected and reported together in one
  :class:`~pymva.errors.OptionError` naming the component and the closest declared names.

Keyword arguments are equivalent to tokens (as in ROOT's Python pythonizations): ``H=True`` is
``H``, ``H=False`` is ``!H``, ``NumEpochs=20`` is ``NumEpochs=20``, a list or tuple is joined with
``;`` (``Transformations=["I", "D"]`` is ``Transformations=I;D``); as ROOT joins them with ``:``, a
string value holding ``:`` carries further tokens (``PDFInterpol="Spline2:NSmooth=1"``).  Keyword tokens are appended after
the string, so they win over it.

Deviations from TMVA (listed in ``docs/differences-from-tmva.md``): numbers are parsed strictly
(``"10abc"`` is an error, where C++ stream extraction would read 10) and string values keep blanks.

Limits: an option string holds no control characters other than blanks (they could not be written
into the weights file); an option value is at most :data:`MAX_OPTION_VALUE_LENGTH` characters with at
most :data:`MAX_OPTION_VALUE_OPERATORS` operators and brackets, so that no component that reads a
value as a Python literal or an expression (``ast.literal_eval``, the transformation parser) can be
driven into a ``RecursionError`` or ``MemoryError`` by an absurd value.  A keyword argument ``True`` or
``False`` for an option that is not boolean (``BatchSize=True``) is refused naming the value.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np

from .errors import OptionError, closest
from .safety import check_text

__all__ = [
    "MAX_OPTION_VALUE_LENGTH",
    "MAX_OPTION_VALUE_OPERATORS",
    "OptionDecl",
    "OptionsBase",
    "format_option_value",
    "kwargs_to_tokens",
    "non_negative",
    "option",
    "parse_option_string",
    "positive",
]

log = logging.getLogger("pymva.options")

_TRUE = frozenset({"1", "true", "ktrue", "t"})
_FALSE = frozenset({"0", "false", "kfalse", "f"})
_INDEXED = re.compile(r"^\s*([^\[\]=]+?)\s*\[\s*([^\]]*)\s*\]\s*$")

T = TypeVar("T", bound="OptionsBase")

#: Longest option value accepted, in characters.
MAX_OPTION_VALUE_LENGTH = 16_384
#: Most operators, brackets and nesting keywords in one option value (each can add one level to the
#: syntax tree of a value read as a Python literal; Python's parser gives up at a few thousand).
MAX_OPTION_VALUE_OPERATORS = 1_000
_NESTING = re.compile(r"[-+*/%@~^&|<>=!.:(\[{]|\b(?:not|lambda|if|await|yield)\b")

_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "a boolean"}


def _check_value_size(decl_name: str, raw: str, component: str) -> None:
    """Refuse absurdly long or deeply nestable option values (see the module notes)."""
    if len(raw) > MAX_OPTION_VALUE_LENGTH:
        raise OptionError(
            f"value of option '{decl_name}' of {component} is {len(raw)} characters long; at most "
            f"{MAX_OPTION_VALUE_LENGTH} are accepted"
        )
    n = sum(1 for _ in _NESTING.finditer(raw)) if len(raw) > MAX_OPTION_VALUE_OPERATORS else 0
    if n > MAX_OPTION_VALUE_OPERATORS:
        raise OptionError(
            f"value '{raw[:40]}…' of option '{decl_name}' of {component} holds {n} operators and "
            f"brackets; at most {MAX_OPTION_VALUE_OPERATORS} are accepted (an option value is a "
            "setting, not a program)"
        )


def _expects(decl: OptionDecl) -> str:
    """What a value of ``decl`` looks like, for messages (``an integer, e.g. BatchSize=32``)."""
    if decl.allowed:
        return f"one of {', '.join(decl.allowed)}"
    word = _TYPE_WORDS.get(decl.type, decl.type.__name__)
    default = decl.default[0] if decl.size is not None and decl.default else decl.default
    return f"{word}, e.g. {decl.name}={_format_scalar(decl.type, default)}"


@dataclass(frozen=True)
class OptionDecl:
    """The declaration of one option.

    Parameters
    ----------
    name : str
        The declared spelling (``NumEpochs``); matching is case-insensitive.
    type : type
        ``bool``, ``int``, ``float`` or ``str``; for an array option, the element type.
    default : object
        The default value (a tuple for an array option).
    help : str
        One-line description, printed by ``H`` and written to the docs.
    allowed : tuple of str, optional
        Predefined values of a string option (canonical spellings).
    size : int, optional
        Number of elements of an array option; ``None`` for a scalar.
    check : callable, optional
        ``check(value) -> str | None``: returns a reason when the value is not acceptable.
    """

    name: str
    type: type
    default: Any
    help: str = ""
    allowed: tuple[str, ...] | None = None
    size: int | None = None
    check: Callable[[Any], str | None] | None = None

    def convert(self, raw: str, component: str) -> Any:
        """Convert the text ``raw`` into a value of this option's type.

        Raises
        ------
        OptionError
            When ``raw`` is not a valid value, naming the option and what is accepted.
        """
        text = raw.strip()
        where = f"option '{self.name}' of {component}"
        if self.type is bool:
            low = text.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise OptionError(
                f"value '{raw}' of {where} can not be interpreted as boolean; "
                "use one of 1, true, kTRUE, T, 0, false, kFALSE, F (or Name / !Name)"
            )
        if self.type is int:
            try:
                return int(text)
            except ValueError:
                try:
                    f = float(text)
                except ValueError:
                    f = math.nan
                if math.isfinite(f) and f == int(f):
                    return int(f)
                raise OptionError(f"value '{raw}' of {where} is not an integer") from None
        if self.type is float:
            try:
                return float(text)
            except ValueError:
                raise OptionError(f"value '{raw}' of {where} is not a number") from None
        if self.allowed is not None:
            for a in self.allowed:
                if a.lower() == text.lower():
                    return a
            sugg = closest(text, self.allowed, n=1, cutoff=0.4)
            hint = f"; did you mean '{sugg[0]}'?" if sugg else ""
            raise OptionError(
                f'Option {self.name} of {component} does not have predefined value: "{raw}"; '
                f"accepted values: {', '.join(self.allowed)}{hint}"
            )
        return text

    def validate(self, value: Any, component: str) -> None:
        """Run the declared check on a converted value.

        Raises
        ------
        OptionError
            With the reason returned by the check.
        """
        if self.check is None:
            return
        values = value if self.size is not None else (value,)
        for v in values:
            reason = self.check(v)
            if reason:
                raise OptionError(f"option '{self.name}' of {component} = {v!r}: {reason}")


def option(
    default: Any,
    help: str = "",
    *,
    allowed: Sequence[str] | None = None,
    size: int | None = None,
    check: Callable[[Any], str | None] | None = None,
) -> Any:
    """Declare a field of an :class:`OptionsBase` dataclass as a TMVA option.

    Parameters
    ----------
    default : object
        Default value; for an array option (``size`` given) a tuple of that length.
    help : str
        One-line help text.
    allowed : sequence of str, optional
        Predefined values (canonical spellings) of a string option.
    size : int, optional
        Make this an array option of ``size`` elements (``Name[i]=Value``).
    check : callable, optional
        ``check(value) -> str | None`` returning the reason a value is rejected.

    Returns
    -------
    dataclasses.Field
        To be assigned to an annotated field of the options dataclass.
    """
    meta = {
        "help": help,
        "allowed": tuple(allowed) if allowed is not None else None,
        "size": size,
        "check": check,
    }
    return field(default=default, metadata=meta)


def _element_type(annotation: Any) -> type:
    origin = typing.get_origin(annotation)
    if origin is tuple:
        args = typing.get_args(annotation)
        return _element_type(args[0])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _element_type(members[0])
    if origin is typing.Literal:
        return str
    if annotation in (bool, int, float, str):
        return typing.cast(type, annotation)
    raise TypeError(f"unsupported option type {annotation!r}")


def kwargs_to_tokens(kwargs: Mapping[str, Any]) -> list[str]:
    """Turn keyword arguments into option tokens as ROOT's Python pythonizations do.

    ``True`` gives ``"Name"``, ``False`` gives ``"!Name"``, a list or tuple is joined with ``;``,
    anything else gives ``"Name=<str(value)>"``.

    Parameters
    ----------
    kwargs : mapping of str to object
        Keyword arguments in call order.

    Returns
    -------
    list of str
        One token per keyword argument, in order.
    """
    tokens = []
    for name, value in kwargs.items():
        if value is True:
            tokens.append(name)
        elif value is False:
            tokens.append(f"!{name}")
        elif isinstance(value, (list, tuple)):
            tokens.append(f"{name}={';'.join(str(v) for v in value)}")
        else:
            tokens.append(f"{name}={value}")
    return tokens


def _split_tokens(text: str) -> list[str]:
    return [t.strip() for t in str(text).split(":") if t.strip()]


def parse_option_string(
    decls: Sequence[OptionDecl],
    text: str = "",
    kwargs: Mapping[str, Any] | None = None,
    *,
    component: str = "component",
    values: Mapping[str, Any] | None = None,
    extra_tokens: Iterable[str] = (),
) -> tuple[dict[str, Any], frozenset[str]]:
    """Parse a TMVA option string against a list of declarations.

    Parameters
    ----------
    decls : sequence of OptionDecl
        The declared options, in declaration order (which decides loose matching of bare values).
    text : str
        The option string, e.g. ``"H:!V:NumEpochs=20"``.
    kwargs : mapping, optional
        Keyword arguments, converted with :func:`kwargs_to_tokens` and appended after ``text``.
    component : str
        Name used in messages, e.g. ``"method PyTorch"``.
    values : mapping, optional
        Starting values (declared names) instead of the defaults.
    extra_tokens : iterable of str
        Tokens appended after ``kwargs`` (used internally).

    Returns
    -------
    values : dict
        Declared name to value, for every declaration.
    modified : frozenset of str
        Declared names of the options that were set by ``text`` or ``kwargs``.

    Raises
    ------
    OptionError
        On a value that cannot be converted or fails its check, an index on a scalar option or out
        of range, ``!Name`` on a non-boolean, and (all together) every token that no option consumed.
    """
    by_lower = {d.name.lower(): d for d in decls}
    result: dict[str, Any] = {d.name: d.default for d in decls}
    if values:
        result.update(values)
    modified: set[str] = set()
    unused: list[str] = []
    if not isinstance(text, str):
        raise OptionError(f"the option string of {component} must be a string, not {type(text).__name__}")
    check_text(text, argument=f"the option string of {component}", blanks=True)
    kw_tokens: list[str] = []
    for key, value in (kwargs or {}).items():
        decl_kw = by_lower.get(str(key).lower())
        if isinstance(value, (bool, np.bool_)) and decl_kw is not None and decl_kw.type is not bool:
            raise OptionError(
                f"keyword argument {key}={value!r} of {component}: the value {value!r} does not fit option "
                f"'{decl_kw.name}', which takes {_expects(decl_kw)} (True/False are only for boolean "
                "options)"
            )
        token = kwargs_to_tokens({key: value})[0]
        check_text(token, argument=f"keyword argument {key} of {component}", blanks=True)
        # ROOT's pythonization joins the keyword arguments into one option string with ':', so a
        # string value holding ':' carries further options (TMVA_Higgs_Classification.py:
        # PDFInterpol="Spline2:NSmoothSig[0]=20"); other values (a dict for ClassWeight) stay whole
        if isinstance(value, str):
            kw_tokens.extend(_split_tokens(token))
        else:
            kw_tokens.append(token)
    tokens = _split_tokens(text) + kw_tokens + list(extra_tokens)

    def set_value(decl: OptionDecl, value: Any, token: str) -> None:
        if decl.name in modified and result[decl.name] != value:
            log.warning(
                "Value for option %s was previously set to %s (%s: now %s from '%s')",
                decl.name,
                format_option_value(decl, result[decl.name]),
                component,
                format_option_value(decl, value),
                token,
            )
        result[decl.name] = value
        modified.add(decl.name)

    for token in tokens:
        if "=" in token:
            name, _, raw = token.partition("=")
            name = name.strip()
            m = _INDEXED.match(name)
            index: int | None = None
            if m:
                name = m.group(1).strip()
                try:
                    index = int(m.group(2))
                except ValueError:
                    raise OptionError(
                        f"index '{m.group(2)}' in '{token}' for {component} is not an integer"
                    ) from None
            decl = by_lower.get(name.lower())
            if decl is None:
                unused.append(token)
                continue
            _check_value_size(decl.name, raw, component)
            if index is not None:
                if decl.size is None:
                    raise OptionError(
                        f"Option {decl.name} of {component} is not an array, but you specified an "
                        f"index in '{token}'"
                    )
                if not 0 <= index < decl.size:
                    raise OptionError(
                        f"index {index} in '{token}' is out of range for array option {decl.name} "
                        f"of {component} (size {decl.size})"
                    )
                value = decl.convert(raw, component)
                decl.validate((value,), component)
                arr = list(result[decl.name])
                arr[index] = value
                set_value(decl, tuple(arr), token)
            elif decl.size is not None:
                value = decl.convert(raw, component)
                decl.validate((value,), component)
                set_value(decl, (value,) * decl.size, token)
            else:
                value = decl.convert(raw, component)
                decl.validate(value, component)
                set_value(decl, value, token)
            continue
        negated = token.startswith("!")
        name = token[1:].strip() if negated else token
        decl = by_lower.get(name.lower())
        if decl is not None:
            if decl.type is not bool:
                if negated:
                    raise OptionError(
                        f"Negating a non-boolean variable {decl.name}, please check the options for "
                        f"{component} ('{token}')"
                    )
                # a bare name of a non-boolean option is not a value: report it below
                unused.append(token)
                continue
            set_value(decl, not negated, token)
            continue
        if not negated:
            loose = next(
                (d for d in decls if d.allowed and any(a.lower() == name.lower() for a in d.allowed)),
                None,
            )
            if loose is not None:
                set_value(loose, loose.convert(name, component), token)
                continue
        unused.append(token)

    if unused:
        names = [d.name for d in decls]
        hints = []
        for tok in unused:
            base = tok.lstrip("!").partition("=")[0]
            base = _INDEXED.sub(r"\1", base).strip()
            declared = by_lower.get(base.lower())
            if declared is not None and "=" not in tok:  # a bare name of a non-boolean option
                hints.append(f"'{base}' needs a value: {_expects(declared)}.")
                continue
            sugg = closest(base, names)
            if sugg:
                hints.append(f"'{base}': did you mean {' or '.join(repr(s) for s in sugg)}?")
        msg = (
            f"The following options were specified, but could not be interpreted: "
            f"'{':'.join(unused)}', please check! ({component})"
        )
        if hints:
            msg += " " + " ".join(hints)
        else:
            msg += f" Declared options: {', '.join(names)}"
        raise OptionError(msg)
    return result, frozenset(modified)


def format_option_value(decl: OptionDecl, value: Any) -> str:
    """Format a value as TMVA writes it into the weights file (``<Option>`` text).

    Booleans are ``True``/``False``, floats C++ scientific (``5.000000e-01``), integers plain,
    arrays space-separated.
    """
    if decl.size is not None:
        return " ".join(_format_scalar(decl.type, v) for v in value)
    return _format_scalar(decl.type, value)


def _format_scalar(tp: type, value: Any) -> str:
    if tp is bool:
        return "True" if value else "False"
    if tp is float:
        short = f"{float(value):e}"
        # TMVA's C++ %e keeps 7 digits; keep every digit when that would change the value on reading back
        return short if float(short) == float(value) else f"{float(value):.16e}"
    return str(value)


@dataclass(frozen=True)
class OptionsBase:
    """Base of every component's frozen options dataclass.

    Subclasses declare fields with :func:`option`; the field names are TMVA's declared spellings.
    Instances are created with :meth:`parse` (or the dataclass constructor with defaults).

    Attributes
    ----------
    modified_options : frozenset of str
        Declared names of the options that were set explicitly (the ``modified="Yes"`` flag of the
        weights file).
    """

    component_name: ClassVar[str] = "component"
    modified_options: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def declarations(cls) -> list[OptionDecl]:
        """Return the option declarations, in declaration order (base class fields first)."""
        hints = typing.get_type_hints(cls)
        decls = []
        for f in dataclasses.fields(cls):
            if f.name == "modified_options":
                continue
            meta = f.metadata
            decls.append(
                OptionDecl(
                    name=f.name,
                    type=_element_type(hints[f.name]),
                    default=f.default,
                    help=meta.get("help", ""),
                    allowed=meta.get("allowed"),
                    size=meta.get("size"),
                    check=meta.get("check"),
                )
            )
        return decls

    @classmethod
    def parse(
        cls: type[T],
        text: str = "",
        /,
        *,
        component: str | None = None,
        **kwargs: Any,
    ) -> T:
        """Parse a TMVA option string and keyword arguments into a frozen options object.

        Parameters
        ----------
        text : str
            TMVA option string, e.g. ``"!V:NumEpochs=20"``.
        component : str, optional
            Name used in error messages (defaults to the class's ``component_name``).
        **kwargs
            Options as keyword arguments, equivalent to tokens and applied after ``text``.

        Returns
        -------
        OptionsBase subclass instance

        Raises
        ------
        OptionError
            See :func:`parse_option_string`.
        """
        comp = component or cls.component_name
        values, modified = parse_option_string(cls.declarations(), text, kwargs, component=comp)
        return cls(**values, modified_options=modified)

    def replace(self: T, **changes: Any) -> T:
        """Return a copy with some option values changed (declared names), marked as modified."""
        return dataclasses.replace(
            self, **changes, modified_options=self.modified_options | frozenset(changes)
        )

    def items(self) -> list[tuple[OptionDecl, Any]]:
        """Return ``(declaration, value)`` pairs in declaration order."""
        return [(d, getattr(self, d.name)) for d in self.declarations()]

    def to_option_string(self) -> str:
        """Render all options as a TMVA option string that :meth:`parse` reads back identically."""
        out = []
        for d, v in self.items():
            if d.type is bool and d.size is None:
                out.append(d.name if v else f"!{d.name}")
            elif d.size is not None:
                out.extend(f"{d.name}[{i}]={_format_scalar(d.type, x)}" for i, x in enumerate(v))
            else:
                out.append(f"{d.name}={v!r}" if d.type is float else f"{d.name}={v}")
        return ":".join(out)

    def help_table(self) -> str:
        """Return a text table of the options: name, current value, default and help text."""
        rows = []
        for d, v in self.items():
            rows.append(
                f"{d.name:<28} {format_option_value(d, v):<24} "
                f"[default {format_option_value(d, d.default)}] {d.help}"
                + (f" (values: {', '.join(d.allowed)})" if d.allowed else "")
            )
        return "\n".join(rows)


def positive(value: Any) -> str | None:
    """Option check: the value must be > 0."""
    return None if value > 0 else "must be greater than zero"


def non_negative(value: Any) -> str | None:
    """Option check: the value must be >= 0."""
    return None if value >= 0 else "must not be negative"
