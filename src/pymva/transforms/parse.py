"""The chain syntax of ``VarTransform`` and of the Factory's ``Transformations`` option.

``../shared/tmva/core.md`` §4.1 (TMVA ``CreateVariableTransforms``):

* a chain is a list of elements separated by ``,`` or ``+`` (commas inside parentheses belong to
  the element), applied left to right; ``None`` (or an empty string) is no transformation;
* an element is ``<Name>[_<Class>][(<inputs>)]``; names (case-insensitive in pymva) are
  ``I Ident Identity``, ``N Norm Normalise Normalize``, ``D Deco Decorrelate``, ``P PCA``,
  ``G Gauss``, ``U Uniform``;
* ``<Class>`` is a class name (the reference class) or ``AllClasses`` (the default); pymva takes
  everything after the first ``_`` as the class name, so class names may contain ``_``;
* ``<inputs>`` is a comma list of ``_V_`` (all variables), ``_V<i>_``, ``_T_`` (all targets),
  ``_T<i>_``, ``_S_`` (all spectators), ``_S<i>_`` or labels (or expressions) of variables, targets
  and spectators; defaults: ``_V_,_T_`` for N and U, ``_V_`` for the others.  Selected inputs are
  used in canonical order (variables, targets, spectators, each by index).

Everything that cannot be interpreted raises :class:`~pymva.errors.OptionError` listing what would
have been accepted.  The Factory's ``Transformations`` option separates independent chains with
``;`` (:func:`parse_transformations_list`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..data.dataset import VariableInfo
from ..errors import OptionError, did_you_mean
from .base import InputRef

__all__ = [
    "ACCEPTED_NAMES",
    "ElementSpec",
    "canonical_letter",
    "parse_chain",
    "parse_transformations_list",
    "split_chain",
]

#: Every accepted transformation name, grouped by transformation.
ACCEPTED_NAMES: dict[str, tuple[str, ...]] = {
    "I": ("I", "Ident", "Identity"),
    "N": ("N", "Norm", "Normalise", "Normalize"),
    "D": ("D", "Deco", "Decorrelate"),
    "P": ("P", "PCA"),
    "G": ("G", "Gauss"),
    "U": ("U", "Uniform"),
}
_ALIASES = {alias.lower(): letter for letter, aliases in ACCEPTED_NAMES.items() for alias in aliases}
_DEFAULT_INPUTS = {"N": "_V_,_T_", "U": "_V_,_T_"}
_KEYWORD = re.compile(r"^_([VvTtSs])(\d*)_$")
_ALL_CLASSES = "AllClasses"


def _accepted_text() -> str:
    groups = [
        f"{aliases[0]} ({', '.join(aliases[1:])})" if len(aliases) > 1 else aliases[0]
        for aliases in ACCEPTED_NAMES.values()
    ]
    return "; ".join(groups) + "; or 'None' alone for no transformation"


def canonical_letter(name: str) -> str | None:
    """``"N"`` for ``"Norm"``, ``"normalize"``, …; ``None`` for an unknown name."""
    return _ALIASES.get(name.strip().lower())


@dataclass(frozen=True)
class ElementSpec:
    """One parsed chain element.

    Attributes
    ----------
    text : str
        The element as written (``"G_Signal(var1,var2)"``).
    letter : str
        ``"I"``, ``"N"``, ``"D"``, ``"P"``, ``"G"`` or ``"U"``.
    name : str
        The name as written (``"Gauss"``).
    class_index : int or None
        Reference class; ``None`` = all classes.
    inputs : tuple of InputRef
        Selected inputs in canonical order.
    selection : str
        The text between parentheses, or the default selection.
    """

    text: str
    letter: str
    name: str
    class_index: int | None
    inputs: tuple[InputRef, ...]
    selection: str


def split_chain(spec: str) -> list[str]:
    """Split a chain at ``,`` and ``+`` outside parentheses; blank elements are dropped.

    Raises
    ------
    OptionError
        On unbalanced parentheses.
    """
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in spec:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise OptionError(f"unbalanced ')' in the variable transformation string '{spec}'")
        if ch in ",+" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise OptionError(f"unbalanced '(' in the variable transformation string '{spec}'")
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_transformations_list(text: str) -> list[str]:
    """Split the Factory option ``Transformations`` (``"I;D;P;U;G,D"``) into its chains.

    Returns
    -------
    list of str
        The chains, stripped, blanks dropped (``["I", "D", "P", "U", "G,D"]``).
    """
    return [t.strip() for t in str(text).split(";") if t.strip()]


def _labels(infos: Sequence[VariableInfo]) -> list[str]:
    return [i.label for i in infos]


def _select_inputs(
    selection: str,
    *,
    element: str,
    spec: str,
    variables: Sequence[VariableInfo],
    targets: Sequence[VariableInfo],
    spectators: Sequence[VariableInfo],
) -> tuple[InputRef, ...]:
    lists = {"v": variables, "t": targets, "s": spectators}
    what = {"v": "variable", "t": "target", "s": "spectator"}
    chosen: set[InputRef] = set()
    for raw in selection.split(","):
        token = raw.strip()
        if not token:
            continue
        m = _KEYWORD.match(token)
        if m:
            kind = m.group(1).lower()
            n = len(lists[kind])
            if m.group(2) == "":
                chosen.update(InputRef(kind, i) for i in range(n))
                continue
            idx = int(m.group(2))
            if idx >= n:
                raise OptionError(
                    f"variable transformation '{element}' in '{spec}': you selected {what[kind]} with index {idx} "
                    f"({token}) of only {n} {what[kind]}s"
                )
            chosen.add(InputRef(kind, idx))
            continue
        found = False
        for kind, infos in lists.items():
            for i, info in enumerate(infos):
                if token in (info.label, info.expression):
                    chosen.add(InputRef(kind, i))
                    found = True
                    break
        if not found:
            names = _labels(variables) + _labels(targets) + _labels(spectators)
            keywords = ["_V_", "_T_", "_S_"]
            raise OptionError(
                f"variable transformation '{element}' in '{spec}': input '{token}' is neither a keyword nor a "
                f"variable, target or spectator{did_you_mean(token, names + keywords)} Accepted: _V_ (all "
                f"variables), _V<i>_, _T_ (all targets), _T<i>_, _S_ (all spectators), _S<i>_, or one of: "
                f"{', '.join(names) or '(none declared)'}"
            )
    return tuple(sorted(chosen, key=InputRef.sort_key))


def parse_chain(
    spec: str,
    *,
    variables: Sequence[VariableInfo],
    targets: Sequence[VariableInfo] = (),
    spectators: Sequence[VariableInfo] = (),
    class_names: Sequence[str] = (),
) -> list[ElementSpec]:
    """Parse one chain (``"N_Signal,G(var1,var2)"``) into its elements.

    Raises
    ------
    OptionError
        For an unknown name, class or input, unbalanced parentheses, ``None`` inside a chain, and
        selections TMVA rejects (PCA with fewer than two inputs or mixing variables and targets,
        Decorrelate on targets, Identity on a subset of the variables).
    """
    text = (spec or "").strip()
    if text.lower() in ("", "none"):
        return []
    elements: list[ElementSpec] = []
    for part in split_chain(text):
        selection = ""
        head = part
        if "(" in part:
            start = part.index("(")
            stop = part.find(")", start)
            if stop < 0:
                raise OptionError(f"unbalanced '(' in variable transformation '{part}' of '{spec}'")
            selection = part[start + 1 : stop]
            head = (part[:start] + part[stop + 1 :]).strip()
        name, _, cls_name = head.partition("_")
        name, cls_name = name.strip(), cls_name.strip()
        letter = canonical_letter(name)
        if letter is None:
            all_names = [a for aliases in ACCEPTED_NAMES.values() for a in aliases]
            extra = " ('None' means no transformation and must stand alone)" if name.lower() == "none" else ""
            raise OptionError(
                f"variable transformation '{name}' unknown in '{spec}'{extra}"
                f"{did_you_mean(name, all_names) if not extra else ''} Accepted: {_accepted_text()}"
            )
        class_index: int | None = None
        if cls_name and cls_name != _ALL_CLASSES:
            if cls_name not in class_names:
                raise OptionError(
                    f"class '{cls_name}' not known for variable transformation '{name}' in '{spec}'"
                    f"{did_you_mean(cls_name, [*class_names, _ALL_CLASSES])} Accepted: "
                    f"{', '.join([*class_names, _ALL_CLASSES])}"
                )
            class_index = list(class_names).index(cls_name)
        sel_text = selection if selection.strip() else _DEFAULT_INPUTS.get(letter, "_V_")
        inputs = _select_inputs(
            sel_text, element=part, spec=spec, variables=variables, targets=targets, spectators=spectators
        )
        _check_selection(letter, part, spec, inputs, len(variables))
        elements.append(ElementSpec(part, letter, name, class_index, inputs, sel_text))
    return elements


def _check_selection(letter: str, element: str, spec: str, inputs: tuple[InputRef, ...], n_vars: int) -> None:
    kinds = {r.kind for r in inputs}
    where = f"variable transformation '{element}' in '{spec}'"
    if letter == "P":
        if len(inputs) <= 1:
            raise OptionError(
                f"{where}: cannot perform a PCA transformation for {len(inputs)} input(s); select at least two"
            )
        if "v" in kinds and "t" in kinds:
            raise OptionError(f"{where}: variables and targets cannot be mixed in a PCA transformation")
    if letter == "D" and "t" in kinds:
        raise OptionError(
            f"{where}: the Decorrelate transformation has no inverse, so it cannot transform regression targets "
            "(TMVA aborts when it must invert them); select variables only, e.g. 'D(_V_)'"
        )
    if letter == "I" and sum(1 for r in inputs if r.kind == "v") < n_vars:
        raise OptionError(
            f"{where}: the Identity transformation does not allow a selection of input variables; write only 'I'"
        )
