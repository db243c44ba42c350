"""``import pymva`` and the TMVA face load no heavy optional library (issue 20).

In a fresh interpreter, importing the package, taking the TMVA namespace's classes (Factory,
DataLoader, Reader, the envelopes, the fitters, ``Experimental.RReader``) and importing the modules
behind them must leave torch, matplotlib, scikit-learn, scipy, onnx, keras and dask out of
``sys.modules``: they are imported where they are used (training a PyTorch method, drawing, a
Gauss transform, a KS test, the exporters).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pymva

HEAVY = (
    "torch",
    "matplotlib",
    "sklearn",
    "scipy",
    "onnx",
    "onnxruntime",
    "keras",
    "tensorflow",
    "dask",
    "distributed",
)

_CODE = """
import sys
import pymva
from pymva import TMVA, TFile, TCut
TMVA.Factory, TMVA.DataLoader, TMVA.Reader, TMVA.Types, TMVA.Tools.Instance()
TMVA.CrossValidation, TMVA.VariableImportance, TMVA.HyperParameterOptimisation
TMVA.GeneticFitter, TMVA.MinuitFitter, TMVA.Experimental.RReader
import pymva.factory, pymva.reader, pymva.envelope, pymva.data.loader, pymva.transforms
import pymva.methods.registry
print(",".join(sorted({name.partition(".")[0] for name in sys.modules} & set(sys.argv[1:]))))
"""


def test_import_loads_no_heavy_library() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "PYTHONSTARTUP")}
    env["PYTHONPATH"] = str(Path(pymva.__file__).parent.parent)  # this checkout's pymva
    done = subprocess.run(
        [sys.executable, "-c", _CODE, *HEAVY],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported at `import pymva`: {done.stdout.strip()}"


def test_the_check_sees_a_heavy_import() -> None:
    """The same check reports a library that is imported (here numpy, which pymva always needs)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    env["PYTHONPATH"] = str(Path(pymva.__file__).parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", _CODE, "numpy"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    assert done.stdout.strip() == "numpy"
