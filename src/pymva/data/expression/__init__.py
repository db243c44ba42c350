"""ROOT ``TTreeFormula`` expressions, evaluated vectorised over awkward/numpy arrays.

TMVA reads every variable, target, spectator, weight and cut through ROOT's ``TTreeFormula``.  This
package parses the same syntax (with :mod:`lark`), compiles the parse tree once into a chain of numpy
closures, and evaluates it on whole chunks of entries as read by ``uproot`` (``library="ak"`` or
``"np"``), reading only the branches that the expression names.  ROOT strings are never handed to
uproot's own expression language, which gives some operators another meaning (``&`` binds tighter
than ``==`` there).

Public API
----------
:class:`Formula`
    ``Formula(text)`` parses (raising :class:`~pymva.errors.DataError` with a caret under the
    offending position), ``.branches`` lists what must be read, ``.evaluate(arrays)`` returns one
    value per entry: a number, ``None`` (an indexed element that does not exist) or a list of numbers
    (a multi-valued expression such as an unindexed jagged branch).
:func:`parse_formula`
    Cached ``Formula`` constructor.
:data:`MAX_EXPRESSION_LENGTH`, :data:`MAX_EXPRESSION_TOKENS`
    The largest expression accepted (100,000 characters, 20,000 tokens): larger ones are refused
    with a :class:`~pymva.errors.DataError` instead of parsing for minutes.
:func:`build_events`
    TMVA's event building (``../shared/tmva/core.md`` §3.3) for one chunk of entries: flattening of
    multi-valued inputs into one event per element, broadcasting/indexing of targets, spectators,
    weight and cut, the cut (value < 0.5 rejects), NaN/±inf bookkeeping.  Returns an
    :class:`EventBlock`.
:func:`array_length_check`
    Counts entries shorter/longer than the size declared with ``AddVariablesArray``.

Semantics follow ROOT's source (``TFormula_v5::Analyze`` for the grammar, ``TTreeFormula::EvalInstance``
for the arithmetic): all arithmetic in double precision, ``/`` by zero gives 0, ``sqrt(x)`` is
``sqrt(|x|)``, ``log(x<=0)`` is 0 and so on for ROOT's built-in function names, while the ``TMath::``
and C library spellings behave as those C++ functions do.  ``docs/expressions.md`` is the user-level
description, including every difference from ROOT.

Modules, in the order an expression goes through them: :mod:`.grammar` (parsing), :mod:`.values`
(one number per entry, jagged lists, strings), :mod:`.functions` (ROOT's operators and functions),
:mod:`.branches` (branch arrays as values), :mod:`.compile` (:class:`Formula`), :mod:`.events`
(TMVA's event building).
"""

from __future__ import annotations

from .compile import MAX_EXPRESSION_LENGTH, MAX_EXPRESSION_TOKENS, Formula, parse_formula
from .events import EventBlock, array_length_check, build_events

__all__ = [
    "MAX_EXPRESSION_LENGTH",
    "MAX_EXPRESSION_TOKENS",
    "EventBlock",
    "Formula",
    "array_length_check",
    "build_events",
    "parse_formula",
]
