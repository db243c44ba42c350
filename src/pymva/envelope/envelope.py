"""``Envelope``: what TMVA's envelopes share (``tmva/tmva/src/Envelope.cxx``).

An envelope wraps the Factory machinery around one DataLoader: the user books methods on the envelope
(``BookMethod(type, title, options)``, kept as TMVA's ``OptionMap`` of ``MethodName``, ``MethodTitle``
and ``MethodOptions``), and ``Evaluate()`` trains and tests them as often as the algorithm needs
(k folds, variable subsets, parameter points).  The options every envelope understands are TMVA's
``Envelope`` options — ``V``, ``ModelPersistence``, ``Transformations``, ``Jobs``, and ``Color``,
``DrawProgressBar`` and ``Silent`` from ``Envelope::ParseOptions`` — plus pymva's ``NumWorkers``: the
number of worker processes (``Jobs`` and CrossValidation's ``NumWorkerProcs`` mean the same; ``0``
uses every CPU).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import OptionError, did_you_mean
from ..logger import configure, get_logger
from ..methods.registry import get_method_class
from ..options import OptionsBase, non_negative, option
from ..types import EMVA
from .parallel import resolve_workers

if TYPE_CHECKING:
    from ..data.loader import DataLoader

__all__ = ["BookedMethod", "Envelope", "EnvelopeOptions", "print_lines"]


@dataclass(frozen=True)
class EnvelopeOptions(OptionsBase):
    """The options of every envelope (TMVA ``Envelope`` constructor and ``Envelope::ParseOptions``)."""

    component_name: ClassVar[str] = "Envelope"

    V: bool = option(False, "Verbose flag")
    ModelPersistence: bool = option(
        True, "Option to save the trained model in xml file or using serialization"
    )
    Transformations: str = option(
        "I", "List of transformations to test; formatting example: Transformations=I;D;P;U;G,D"
    )
    Jobs: int = option(1, "Option to run high level algorithms in parallel (processes)", check=non_negative)
    Color: bool = option(False, "Flag for coloured screen output (default: True, if in batch mode: False)")
    DrawProgressBar: bool = option(
        True, "Draw progress bar to display training, testing and evaluation schedule (default: True)"
    )
    Silent: bool = option(
        False,
        "Batch mode: boolean silent flag inhibiting any output from TMVA after the creation of the factory "
        "class object (default: False)",
    )
    NumWorkers: int = option(
        1,
        "Worker processes for the trainings (pymva; 0: one per CPU; Jobs means the same)",
        check=non_negative,
    )

    #: The option names that set the number of worker processes (the subclasses may add theirs).
    worker_options: ClassVar[tuple[str, ...]] = ("NumWorkers", "Jobs")

    @property
    def workers(self) -> int:
        """The number of worker processes asked for (0 resolved to the number of CPUs).

        Raises
        ------
        OptionError
            When two of the worker options are set to different values.
        """
        given = {
            name: int(getattr(self, name)) for name in self.worker_options if name in self.modified_options
        }
        if len(set(given.values())) > 1:
            raise OptionError(
                f"{self.component_name}: {', '.join(f'{k}={v}' for k, v in given.items())} disagree; they all set "
                "the number of worker processes, give one of them"
            )
        n = next(iter(given.values())) if given else 1
        return resolve_workers(n)


class _Getter:
    """``GetValue("MethodName")`` and PyROOT's ``GetValue['TString']("MethodName")``."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def __call__(self, key: str) -> str:
        try:
            return self._values[str(key)]
        except KeyError:
            raise KeyError(
                f"no option {key!r}{did_you_mean(str(key), self._values)}; keys: {sorted(self._values)}"
            ) from None

    def __getitem__(self, _type: Any) -> _Getter:
        return self


class BookedMethod:
    """One booked method, as TMVA's ``OptionMap`` holds it: ``MethodName``, ``MethodTitle``, ``MethodOptions``.

    Attributes
    ----------
    name : str
        The method type name (``"BDT"``).
    title : str
        The title given at booking.
    options : str
        The method's option string.
    """

    def __init__(self, name: str, title: str, options: str) -> None:
        self.name = name
        self.title = title
        self.options = options

    @property
    def GetValue(self) -> _Getter:
        """``GetValue("MethodName")`` → ``"BDT"`` (also ``GetValue['TString']("MethodName")`` as in PyROOT)."""
        return _Getter({"MethodName": self.name, "MethodTitle": self.title, "MethodOptions": self.options})

    def __getitem__(self, key: str) -> str:
        return self.GetValue(key)

    def __repr__(self) -> str:
        return f"BookedMethod({self.name!r}, {self.title!r}, {self.options!r})"


def print_lines(log: Any, lines: Sequence[str], *, header_first: bool = False) -> None:
    """Log lines at INFO, or print them in TMVA's layout when the logger is silenced.

    TMVA's result tables and ``Print()`` methods enable the output even in ``Silent`` mode
    (``MsgLogger::EnableOutput``); so do these.
    """
    logger = log.logger if hasattr(log, "logger") else log
    if logger.isEnabledFor(logging.INFO):
        for i, line in enumerate(lines):
            if header_first and i == 0:
                log.header("%s", line)
            else:
                log.info("%s", line)
        return
    for line in lines:
        print(" " * 25 + ": " + line)


class Envelope:
    """Base class of TMVA's envelopes: a DataLoader, booked methods, options, a log.

    Parameters
    ----------
    name : str
        The envelope's name (TMVA's, e.g. ``"CrossValidation"``): the source of its log lines.
    dataloader : DataLoader
        The data.
    options : OptionsBase
        The parsed options (an :class:`EnvelopeOptions` subclass).
    """

    def __init__(self, name: str, dataloader: DataLoader, options: EnvelopeOptions) -> None:
        from ..data.loader import DataLoader

        if not isinstance(dataloader, DataLoader):
            raise OptionError(
                f"{name}: the first argument must be a TMVA.DataLoader, not {type(dataloader).__name__}"
            )
        self.name = name
        self._loader = dataloader
        self.options = options
        self._methods: list[BookedMethod] = []
        self._configure_logging()
        self.log = get_logger(name, f"pymva.envelope.{name.lower()}")
        self.workers = options.workers

    def _configure_logging(self) -> None:
        o = self.options
        configure(color=o.Color, silent=o.Silent, verbose=o.V)

    # ------------------------------------------------------------------ TMVA's accessors
    def GetDataLoader(self) -> DataLoader:
        """The DataLoader."""
        return self._loader

    def GetMethods(self) -> list[BookedMethod]:
        """The booked methods, in booking order (TMVA's vector of ``OptionMap``)."""
        return list(self._methods)

    def IsModelPersistence(self) -> bool:
        """Whether weights files are written."""
        return bool(self.options.ModelPersistence)

    def IsVerbose(self) -> bool:
        """The ``V`` option."""
        return bool(self.options.V)

    def HasMethod(self, methodname: str, methodtitle: str) -> bool:
        """Whether a method of this type and title is booked."""
        return any(m.name == methodname and m.title == methodtitle for m in self._methods)

    def BookMethod(self, method: EMVA | int | str, methodTitle: str, options: str = "") -> None:
        """Book a method (TMVA ``Envelope::BookMethod``): trained by :meth:`Evaluate`.

        Parameters
        ----------
        method : Types member, int or str
            ``TMVA.Types.kBDT`` or the type name ``"BDT"``.
        methodTitle : str
            The title (unique in the envelope).
        options : str
            The method's option string.

        Raises
        ------
        OptionError
            For an unknown method type (listing the available ones), or a title booked already.
        """
        cls = get_method_class(method)
        title = str(methodTitle)
        if not title:
            raise OptionError(f"{self.name}: a method title must not be empty")
        if any(m.title == title for m in self._methods):
            raise OptionError(
                f"Booking failed since method with title <{title}> already exists in with DataSet Name "
                f"<{self._loader.GetName()}>; choose another title"
            )
        self._methods.append(BookedMethod(cls.method_type.type_name, title, str(options)))

    def _booked(self) -> Iterator[BookedMethod]:
        if not self._methods:
            raise OptionError(f"{self.name}: no method booked; call BookMethod(type, title, options) first")
        yield from self._methods

    def __repr__(self) -> str:
        return f"<{self.name} on {self._loader.GetName()!r}: {[m.title for m in self._methods]}>"
