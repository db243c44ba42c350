"""TMVA's message layout (``MsgLogger``) on top of the standard :mod:`logging` module.

All pymva loggers live below the ``"pymva"`` logger.  Messages carry a *source* (``Factory``,
``DataSetFactory``, a method title, ``TFHandler_<method>``) and are printed as TMVA prints them
(``../shared/tmva/core.md`` §0)::

    <HEADER> Factory                  : Train all methods
                             : an INFO line
    <WARNING> <WARNING>                : something odd

The source column (25 characters, names longer than 25 cut to 22 + ``...``) is filled only for
HEADER and WARNING lines; INFO and lower lines get 25 blanks.  In colour mode HEADER, WARNING and
INFO lines are plain and other levels get a coloured ``<TYPE>``; without colour every non-INFO line
is prefixed ``<TYPE> ``.  Multi-line messages get the prefix on every line.

pymva never configures the root logger.  :func:`configure` (called by the Factory and the Reader
from their ``Color``/``Silent``/``V`` options) attaches one handler writing to ``sys.stdout`` to the
``"pymva"`` logger unless the application already attached its own.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = [
    "HEADER",
    "VERBOSE",
    "TMVAFormatter",
    "configure",
    "get_logger",
    "stderr_is_terminal",
]

#: Level of TMVA's HEADER lines (shown at INFO verbosity).
HEADER = 25
#: Level of TMVA's VERBOSE lines.
VERBOSE = 15
logging.addLevelName(HEADER, "HEADER")
logging.addLevelName(VERBOSE, "VERBOSE")

_COLOURS = {
    "DEBUG": "\033[34m",
    "VERBOSE": "\033[34m",
    "ERROR": "\033[1;31m",
    "FATAL": "\033[37;41;1m",
    "CRITICAL": "\033[37;41;1m",
}
_RESET = "\033[0m"


class TMVAFormatter(logging.Formatter):
    """Format records in TMVA's ``MsgLogger`` layout.

    Parameters
    ----------
    color : bool
        TMVA's ``Color`` option: plain HEADER/WARNING/INFO lines, coloured tags for the others.
    """

    def __init__(self, color: bool = False) -> None:
        super().__init__()
        self.color = color

    @staticmethod
    def source_of(record: logging.LogRecord) -> str:
        """The TMVA source name of a record: its ``tmva_source`` extra or the logger's last name."""
        src = getattr(record, "tmva_source", None)
        if not src:
            src = record.name.rsplit(".", 1)[-1]
        return str(src)

    def format(self, record: logging.LogRecord) -> str:
        """Render one record, one TMVA line per line of the message."""
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        level = record.levelname
        if level == "CRITICAL":
            level = "FATAL"
        if record.levelno in (HEADER, logging.WARNING):
            src = self.source_of(record) if record.levelno == HEADER else "<WARNING>"
            if len(src) > 25:
                src = src[:22] + "..."
            column = f"{src:<25}"
        else:
            column = " " * 25
        if record.levelno == logging.INFO:
            tag = ""
        elif self.color:
            tag = (
                ""
                if record.levelno in (HEADER, logging.WARNING)
                else (f"{_COLOURS.get(level, '')}<{level}>{_RESET} ")
            )
        else:
            tag = f"<{level}> "
        return "\n".join(f"{tag}{column}: {line}" for line in text.split("\n"))


class _SourceAdapter(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Adds the TMVA source name to every record and offers :meth:`header`."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(self.extra or {})
        extra.update(kwargs.get("extra") or {})
        kwargs["extra"] = extra
        return msg, kwargs

    def header(self, msg: str, *args: Any) -> None:
        """Log a TMVA HEADER line (shown at INFO verbosity, with the source name)."""
        self.log(HEADER, msg, *args)

    def verbose(self, msg: str, *args: Any) -> None:
        """Log a TMVA VERBOSE line."""
        self.log(VERBOSE, msg, *args)


def get_logger(source: str, module: str = "pymva") -> _SourceAdapter:
    """Return a logger whose lines carry the TMVA source name ``source``.

    Parameters
    ----------
    source : str
        Shown in the source column of HEADER lines (``Factory``, ``DataSetFactory``, a method title).
    module : str
        Name of the underlying :mod:`logging` logger (below ``"pymva"``).

    Returns
    -------
    logging.LoggerAdapter
        With extra methods ``header(msg)`` and ``verbose(msg)``.
    """
    extra: Mapping[str, object] = {"tmva_source": source}
    return _SourceAdapter(logging.getLogger(module), extra)


class _PyMVAHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler pymva installs itself (recognised so that it is replaced, never duplicated)."""

    def emit(self, record: logging.LogRecord) -> None:
        # follow sys.stdout as it is now (pytest's capsys and Jupyter replace it)
        self.setStream(sys.stdout)
        super().emit(record)


def stderr_is_terminal() -> bool:
    """Whether ``sys.stderr`` is a terminal, where progress bars are drawn.

    False for a file, a pipe, a notebook's stream or pytest's capture: there a bar's carriage-return
    redraws would end up as one copy of the bar per log line, so pymva logs plain lines instead.
    """
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # a closed or detached stream
        return False


def configure(*, color: bool = False, silent: bool = False, verbose: bool = False) -> None:
    """Attach pymva's TMVA-layout handler to the ``"pymva"`` logger.

    Does nothing to an application that attached its own handler to ``"pymva"``.

    Parameters
    ----------
    color : bool
        TMVA's ``Color`` option.
    silent : bool
        TMVA's ``Silent``: nothing below ERROR is printed.
    verbose : bool
        TMVA's ``V``: VERBOSE lines are printed too.
    """
    root = logging.getLogger("pymva")
    own = [h for h in root.handlers if isinstance(h, _PyMVAHandler)]
    if root.handlers and not own:
        return
    handler = own[0] if own else _PyMVAHandler(sys.stdout)
    handler.setFormatter(TMVAFormatter(color=color))
    if not own:
        root.addHandler(handler)
    level = logging.ERROR if silent else (VERBOSE if verbose else logging.INFO)
    root.setLevel(level)
    handler.setLevel(level)
