"""Shared fixtures: paths to the real ROOT files in ../shared/data and a clean working directory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The directory of real ROOT files written by ROOT (``../shared/data``)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: the real-data tests need ../shared/data beside the checkout")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _reset_pymva_logging() -> Iterator[None]:
    """Leave the 'pymva' logger as each test found it (the Factory installs a handler)."""
    logger = logging.getLogger("pymva")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Train the tests' small networks on one thread: several times faster than two busy cores,
    and independent of what else runs on the machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
