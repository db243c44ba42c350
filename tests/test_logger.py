"""TMVA's MsgLogger layout (core.md §0)."""

from __future__ import annotations

import logging

import pytest

from pymva.logger import HEADER, TMVAFormatter, configure, get_logger


def _record(level: int, msg: str, source: str = "Factory") -> logging.LogRecord:
    rec = logging.LogRecord("pymva", level, __file__, 1, msg, None, None)
    rec.tmva_source = source
    return rec


def test_header_line_without_colour() -> None:
    out = TMVAFormatter(color=False).format(_record(HEADER, "Train all methods"))
    assert out == "<HEADER> " + "Factory".ljust(25) + ": Train all methods"


def test_info_line_has_blank_source_column() -> None:
    out = TMVAFormatter(color=False).format(_record(logging.INFO, "text"))
    assert out == " " * 25 + ": text"


def test_warning_and_multiline() -> None:
    out = TMVAFormatter(color=True).format(_record(logging.WARNING, "a\nb"))
    assert out.split("\n") == ["<WARNING>".ljust(25) + ": a", "<WARNING>".ljust(25) + ": b"]


def test_long_source_names_are_cut_to_22_plus_dots() -> None:
    out = TMVAFormatter(color=True).format(_record(HEADER, "x", source="A" * 30))
    assert out == "A" * 22 + "..." + ": x"


def test_configure_and_silent(capsys: pytest.CaptureFixture[str]) -> None:
    configure(color=False)
    log = get_logger("Factory")
    log.header("Booking method: PyTorch")
    log.info("hello")
    configure(silent=True)
    log.info("hidden")
    out = capsys.readouterr().out
    assert "<HEADER> Factory                  : Booking method: PyTorch" in out
    assert " " * 25 + ": hello" in out
    assert "hidden" not in out
