"""Shared fixtures: paths to the real ROOT files in ../shared/data and a clean working directory."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def numba_installed() -> None:
    """numba, which the compiled BDT paths need; missing, the tests that compare them fail, never skip.

    The test extra installs it (``pip install 'pymva[test]'``, as ``.ci/run`` does).
    """
    from pymva import extras

    if extras.numba() is None:
        pytest.fail(
            "numba is not installed; the compiled BDT paths are tested with it: pip install 'pymva[numba]'"
        )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The directory of real ROOT files written by ROOT (``../shared/data``)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: the real-data tests need ../shared/data beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ROOT() -> Any:
    """Real ROOT (PyPI package ``root``, extra ``pymva[root-tests]``) as the tests' oracle.

    Imported once per session (the import takes seconds); a missing or broken ROOT fails the tests
    that need it, it never skips them: CI installs it (``.ci/run``).
    """
    with warnings.catch_warnings():
        # the PyPI distribution announces itself as alpha with a UserWarning at import
        warnings.simplefilter("ignore")
        try:
            import ROOT as root
        except Exception as exc:  # noqa: BLE001 - an ImportError, or whatever a broken installation raises
            pytest.fail(
                f"ROOT cannot be imported ({type(exc).__name__}: {exc}); the oracle tests need it: "
                "pip install 'pymva[root-tests]'"
            )
        root.gROOT.SetBatch(True)
        root.gErrorIgnoreLevel = root.kWarning  # keep ROOT's info lines out of the test output
    return root


_PYMVA_LOGGER_AT_START = (list(logging.getLogger("pymva").handlers), logging.getLogger("pymva").level)


@pytest.fixture(autouse=True)
def _reset_pymva_logging() -> Iterator[None]:
    """Leave the 'pymva' logger after each test as the session started it.

    The Factory installs a handler and ``Silent`` sets the (process-wide, as TMVA's gConfig) level;
    module-scoped fixtures that run a job change both before this fixture starts, so the state is
    restored to the one recorded at collection, not to the one each test found.
    """
    logger = logging.getLogger("pymva")
    yield
    logger.handlers[:] = _PYMVA_LOGGER_AT_START[0]
    logger.setLevel(_PYMVA_LOGGER_AT_START[1])


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Train the tests' small networks on one thread: several times faster than two busy cores,
    and independent of what else runs on the machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
