"""The exception hierarchy of pymva.

Every error that pymva raises on purpose derives from :class:`PyMVAError`, so a script can catch all
of them at once.  Where TMVA would print ``***> abort program execution`` and throw
``std::runtime_error("FATAL error")``, pymva raises one of these classes with TMVA's reason in the
message, extended with what was found and what would have been accepted.

=====================  ==========================================================================
class                  raised for
=====================  ==========================================================================
``OptionError``        an option string or keyword argument that cannot be interpreted
                       (also a :class:`ValueError`)
``DataError``          input data that cannot be used: missing file, tree or branch, an empty
                       tree, an expression that does not parse, NaN/inf in selected events, an
                       impossible train/test split (also a :class:`ValueError`)
``ModelError``         a method's model: missing or unreadable model files, a missing key in
                       ``load_model_custom_objects``, a prediction of the wrong shape
``NotTrainedError``    asking for results of a method that has not been trained or tested yet
                       (also a :class:`RuntimeError`)
``MissingExtraError``  an optional dependency that is not installed; the message names the
                       ``pip install`` command (also a :class:`ModuleNotFoundError`)
=====================  ==========================================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "DataError",
    "MissingExtraError",
    "ModelError",
    "NotTrainedError",
    "OptionError",
    "PyMVAError",
    "closest",
    "did_you_mean",
]


class PyMVAError(Exception):
    """Base class of every error raised by pymva."""


class OptionError(PyMVAError, ValueError):
    """An option string, option value or keyword argument that cannot be interpreted.

    TMVA reference: ``Configurable::CheckForUnusedOptions`` and ``Option<T>::SetValue``, which
    abort the program; pymva raises instead.
    """


class DataError(PyMVAError, ValueError):
    """Input data that cannot be read or used (files, trees, branches, expressions, events)."""


class ModelError(PyMVAError):
    """A method's model cannot be loaded, trained, saved or evaluated."""


class NotTrainedError(PyMVAError, RuntimeError):
    """Results were requested from a method that has not been trained, tested or evaluated yet."""


class MissingExtraError(PyMVAError, ModuleNotFoundError):
    """An optional dependency of pymva is not installed (see :mod:`pymva.extras`)."""


def closest(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Return up to ``n`` names from ``candidates`` closest to ``word``, case-insensitively.

    Parameters
    ----------
    word : str
        The name that was not found.
    candidates : iterable of str
        The names that exist.
    n : int
        Maximum number of suggestions.
    cutoff : float
        Minimum similarity ratio in [0, 1] (see :func:`difflib.get_close_matches`).

    Returns
    -------
    list of str
        Suggestions in their original spelling, best first.
    """
    cands = list(dict.fromkeys(candidates))
    lowered: dict[str, str] = {}
    for c in cands:
        lowered.setdefault(c.lower(), c)
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=cutoff)
    return [lowered[m] for m in matches]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` (or ``'x' or 'y'``) for the closest names, or ``""``."""
    sugg = closest(word, candidates)
    if not sugg:
        return ""
    return "; did you mean " + " or ".join(repr(s) for s in sugg) + "?"
