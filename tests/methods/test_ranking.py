"""TMVA's "Ranking result" table and FormattedOutput table, against strings built from the printf formats."""

from __future__ import annotations

import logging

import pytest

from pymva.logger import get_logger
from pymva.methods.ranking import RANKING_TITLE, Ranking, format_ranking, formatted_table, log_ranking


def test_ranking_sorts_best_first_and_keeps_ties_in_order() -> None:
    r = Ranking.from_values(["a", "b", "c", "d"], [0.1, 0.5, 0.1, 0.3], "Separation")
    assert r.entries == (("b", 0.5), ("d", 0.3), ("a", 0.1), ("c", 0.1))
    assert r.labels == ["b", "d", "a", "c"]
    assert r.values == [0.5, 0.3, 0.1, 0.1]


def test_ranking_table_layout_short_names() -> None:
    criterion = "Variable Importance"
    entries = [("var4", 0.3117), ("var3", 0.2393), ("myvar1", 0.01)]
    max_len = 6
    hline = "-" * (max_len + 15 + len(criterion))
    expected = [
        "Ranking result (top variable is best ranked)",
        hline,
        "Rank : Variable  : Variable Importance",  # "Variable " is wider than the names: no padding
        hline,
        "   1 : var4      : 3.117e-01",
        "   2 : var3      : 2.393e-01",
        "   3 : myvar1    : 1.000e-02",
        hline,
    ]
    assert format_ranking(entries, criterion) == "\n".join(expected[1:])
    assert str(Ranking(criterion, tuple(entries))) == "\n".join(expected)
    assert Ranking(criterion, tuple(entries)).lines() == expected


def test_ranking_table_layout_long_names() -> None:
    entries = [("a_long_variable_name", 12.5), ("x", -0.25)]
    criterion = "Discr. power"
    max_len = len("a_long_variable_name")
    hline = "-" * (max_len + 15 + len(criterion))
    expected = [
        "Ranking result (top variable is best ranked)",
        hline,
        "Rank : " + "Variable ".ljust(max_len) + " : " + criterion,
        hline,
        "%4i : " % 1 + "a_long_variable_name" + " : %3.3e" % 12.5,  # noqa: UP031 - TMVA's printf formats
        "%4i : " % 2 + "x".ljust(max_len) + " : %3.3e" % -0.25,  # noqa: UP031
        hline,
    ]
    lines = Ranking(criterion, tuple(entries)).lines()
    assert lines == expected
    assert format_ranking(entries, criterion).split("\n") == expected[1:]
    assert lines[4] == "   1 : a_long_variable_name : 1.250e+01"
    assert lines[5] == "   2 : x                    : -2.500e-01"


def test_log_ranking_title_is_a_header_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pymva")
    log = get_logger("MyBDT", "pymva.method.test")
    log_ranking(log, Ranking("Variable Importance", (("v", 1.0),)))
    records = [r for r in caplog.records if r.name == "pymva.method.test"]
    assert records[0].levelname == "HEADER"
    assert records[0].getMessage() == RANKING_TITLE == "Ranking result (top variable is best ranked)"
    assert records[0].tmva_source == "MyBDT"  # type: ignore[attr-defined]
    assert all(r.levelno == logging.INFO for r in records[1:])
    assert [r.getMessage() for r in records[1:]][3] == "   1 : v         : 1.000e+00"


def test_ranking_html() -> None:
    html = Ranking("Separation", (("x<1", 0.5),))._repr_html_()
    assert "<th>Separation</th>" in html
    assert "x&lt;1" in html


def test_formatted_table_layout() -> None:
    lines = formatted_table([0.5, -1.25, 3.0], ["var1", "var2", "(offset)"], "Variable", "Coefficient")
    max_l = max(7, len("(offset)"), len("Variable"))  # 8
    max_v = max(len("Coefficient") + 1, max_l)  # 12
    bar = "-" * (max_l + max_v + 3)
    assert lines == [
        bar,
        "Variable".rjust(max_l) + ":" + "Coefficient".rjust(max_v + 1) + ":",
        bar,
        "var1".rjust(max_l) + ":" + ("%+1.3f" % 0.5).rjust(max_v + 1),  # noqa: UP031 - TMVA's printf format
        "var2".rjust(max_l) + ":" + ("%+1.3f" % -1.25).rjust(max_v + 1),
        "(offset)".rjust(max_l) + ":" + ("%+1.3f" % 3.0).rjust(max_v + 1),  # noqa: UP031
        bar,
    ]
    assert lines[3] == "    var1:       +0.500"
    with pytest.raises(ValueError, match="1 values for 2 names"):
        formatted_table([1.0], ["a", "b"], "Variable", "Coefficient")
