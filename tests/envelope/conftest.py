"""Fixtures of the envelope tests."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working directory shared by the tests of one module (the weights files land in it).

    The module-scoped runs configure pymva's log outside the per-test reset of ``tests/conftest.py``;
    the handlers are put back as they were when the module is done.
    """
    path = tmp_path_factory.mktemp("envelope")
    old = Path.cwd()
    logger = logging.getLogger("pymva")
    handlers, level = list(logger.handlers), logger.level
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(old)
        logger.handlers[:] = handlers
        logger.setLevel(level)
