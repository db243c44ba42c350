"""The package itself: version, public names, py.typed."""

from __future__ import annotations

import importlib.metadata
import os
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


def test_tmva_namespace_replaces_root_tmva() -> None:
    from pymva import TMVA
    from pymva.data.loader import DataLoader
    from pymva.factory import Factory
    from pymva.reader import Reader, RReader

    assert TMVA.Factory is Factory
    assert TMVA.DataLoader is DataLoader
    assert TMVA.Reader is Reader
    assert TMVA.Experimental.RReader is RReader
    assert TMVA.Types.kPyTorch == pymva.Types.kPyTorch == 27
    assert TMVA.TCut("a") + "b" == "(a)&&(b)"
    assert TMVA.Tools.Instance() is TMVA.Tools.Instance()
    assert TMVA.PyMethodBase.PyInitialize() is None
    assert pymva.Factory is Factory


def test_unknown_tmva_name_suggests_the_closest() -> None:
    import pytest

    from pymva import TMVA

    with pytest.raises(AttributeError, match="did you mean 'Factory'"):
        _ = TMVA.Factroy


def test_import_pulls_no_plotting_or_training_libraries() -> None:
    """``import pymva`` and the TMVA face start fast: matplotlib and torch only when used (issue 20)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import pymva\n"
        "from pymva import TMVA, TFile, TCut\n"
        "TMVA.Factory, TMVA.DataLoader, TMVA.Reader\n"
        "import pymva.factory, pymva.reader, pymva.envelope\n"
        "heavy = ('matplotlib', 'torch', 'sklearn', 'pandas')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = str(Path(pymva.__file__).parent.parent)  # this checkout's pymva
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == ""
