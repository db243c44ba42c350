"""Small HTML tables for ``_repr_html_`` (Jupyter) of results, rankings and the Factory."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["html_table"]


def html_table(caption: str, rows: Iterable[Sequence[object]], header: Sequence[str] | None = None) -> str:
    """Render rows as an HTML table with a caption; floats with 4 significant digits, all text escaped.

    Parameters
    ----------
    caption : str
        Table caption (bold, left-aligned).
    rows : iterable of sequences
        One sequence of cell values per row; strings are used as they are.
    header : sequence of str, optional
        Column titles.

    Returns
    -------
    str
        The ``<table>`` element.
    """
    parts = [f"<table><caption style='text-align:left'><b>{html.escape(caption)}</b></caption>"]
    if header is not None:
        parts.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    parts.extend("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows)
    parts.append("</table>")
    return "".join(parts)


def _fmt(v: object) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)
