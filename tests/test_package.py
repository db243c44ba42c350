"""The package itself: version, public names, py.typed."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pymva


def test_version_matches_metadata() -> None:
    assert pymva.__version__ == importlib.metadata.version("pymva")


def test_py_typed_is_shipped() -> None:
    assert (Path(pymva.__file__).parent / "py.typed").is_file()


def test_error_hierarchy() -> None:
    for cls in (pymva.OptionError, pymva.DataError, pymva.ModelError, pymva.NotTrainedError):
        assert issubclass(cls, pymva.PyMVAError)
    assert issubclass(pymva.OptionError, ValueError)
    assert issubclass(pymva.DataError, ValueError)
    assert issubclass(pymva.NotTrainedError, RuntimeError)
