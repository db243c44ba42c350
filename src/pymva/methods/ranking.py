"""TMVA's printed variable rankings and small value tables.

* :class:`Ranking` — a method's variable ranking (TMVA ``Ranking``/``Rank``): ``(label, value)``
  pairs sorted best first, printed as TMVA's "Ranking result" table (``../shared/tmva/core.md``
  §2.3 step 5)::

      Ranking result (top variable is best ranked)
      ---------------------------------------
      Rank : Variable  : Variable Importance
      ---------------------------------------
         1 : var4      : 3.117e-01
         2 : var3      : 2.393e-01
      ---------------------------------------

  The dashed line is ``max label length + 15 + len(criterion)`` long; the header is ``"Rank : "``,
  ``"Variable "`` left-aligned in the width of the longest label, ``" : "`` and the criterion; each
  row is ``"%4i : "``, the label left-aligned in ``max(longest label, 9)`` and ``" : %3.3e"``.
  Equal values keep their input order (TMVA's bubble sort only swaps on ``<``).
* :func:`formatted_table` — TMVA's ``Tools::FormattedOutput`` for a list of values (used for
  Fisher's coefficients).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["RANKING_TITLE", "Ranking", "format_ranking", "formatted_table", "log_ranking"]

#: The HEADER line TMVA prints above a ranking table.
RANKING_TITLE = "Ranking result (top variable is best ranked)"


@dataclass(frozen=True)
class Ranking:
    """A variable ranking, best first.

    Attributes
    ----------
    criterion : str
        What the values measure (``"Variable Importance"``, ``"Discr. power"``, ``"Separation"``).
    entries : tuple of (str, float)
        ``(variable label, value)`` sorted by decreasing value; ties keep their input order.
    """

    criterion: str
    entries: tuple[tuple[str, float], ...]

    @classmethod
    def from_values(cls, labels: Sequence[str], values: Iterable[float], criterion: str) -> Ranking:
        """Sort ``values`` (one per label, in variable order) into a ranking, best first."""
        pairs = list(zip(labels, (float(v) for v in values), strict=True))
        # stable: equal values keep their declaration order, as TMVA's bubble sort does
        order = sorted(
            range(len(pairs)), key=lambda i: -pairs[i][1] if not math.isnan(pairs[i][1]) else math.inf
        )
        return cls(criterion, tuple(pairs[i] for i in order))

    @property
    def labels(self) -> list[str]:
        """Variable labels, best first."""
        return [name for name, _ in self.entries]

    @property
    def values(self) -> list[float]:
        """Ranking values, best first."""
        return [value for _, value in self.entries]

    def lines(self) -> list[str]:
        """The table as TMVA prints it, one string per line (the title line first)."""
        return [RANKING_TITLE, *format_ranking(self.entries, self.criterion).split("\n")]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        from .._html import html_table

        rows = [(i, name, f"{value:.3e}") for i, (name, value) in enumerate(self.entries, start=1)]
        return html_table(RANKING_TITLE, rows, ("Rank", "Variable", self.criterion))


def format_ranking(entries: Sequence[tuple[str, float]], criterion: str) -> str:
    """Render a ranking as TMVA's ``Ranking::Print`` does, below its title line.

    Parameters
    ----------
    entries : sequence of (str, float)
        ``(variable label, value)``, already sorted best first.
    criterion : str
        The ranking criterion (column title).

    Returns
    -------
    str
        Lines joined with ``"\n"``: the dashed line, the column titles, the dashed line, one row per
        variable and the dashed line.  TMVA prints :data:`RANKING_TITLE` as a HEADER line above it
        and each of these lines as an INFO line (:func:`log_ranking` does both).
    """
    max_len = max((len(name) for name, _ in entries), default=0)
    hline = "-" * (max_len + 15 + len(criterion))
    lines = [
        hline,
        "Rank : " + "Variable ".ljust(max_len) + " : " + criterion,
        hline,
    ]
    width = max(max_len, 9)
    for rank, (name, value) in enumerate(entries, start=1):
        # printf "%4i : " and " : %3.3e"
        lines.append(f"{rank:4d} : " + name.ljust(width) + f" : {value:3.3e}")
    lines.append(hline)
    return "\n".join(lines)


def log_ranking(log: Any, ranking: Ranking) -> None:
    """Print a ranking through a pymva logger: the title as a HEADER line, the rest as INFO lines.

    Parameters
    ----------
    log : logging.LoggerAdapter
        A logger from :func:`pymva.logger.get_logger` (its source is the method title, as in TMVA).
    ranking : Ranking
    """
    lines = ranking.lines()
    log.header("%s", lines[0])
    for line in lines[1:]:
        log.info("%s", line)


def formatted_table(
    values: Sequence[float],
    names: Sequence[str],
    title_names: str,
    title_values: str,
    fmt: str = "%+1.3f",
) -> list[str]:
    """TMVA's ``Tools::FormattedOutput`` for one column of values.

    The name column is ``max(7, longest name, len(title_names))`` wide, the value column
    ``max(len(title_values) + 1, name column)``; both right-aligned, each followed by ``:``
    (titles) or preceded by it (values); dashed lines are ``name + value + 3`` long.

    Parameters
    ----------
    values : sequence of float
    names : sequence of str
        One per value.
    title_names, title_values : str
        Column titles (``"Variable"``, ``"Coefficient"``).
    fmt : str
        printf format of the values.

    Returns
    -------
    list of str
        The lines of the table.
    """
    if len(values) != len(names):
        raise ValueError(f"formatted_table: {len(values)} values for {len(names)} names")
    max_l = max([7, len(title_names), *(len(n) for n in names)])
    max_v = max(len(title_values) + 1, max_l)
    bar = "-" * (max_l + max_v + 3)
    lines = [bar, title_names.rjust(max_l) + ":" + title_values.rjust(max_v + 1) + ":", bar]
    lines.extend(
        name.rjust(max_l) + ":" + (fmt % value).rjust(max_v + 1)
        for name, value in zip(names, values, strict=True)
    )
    lines.append(bar)
    return lines
