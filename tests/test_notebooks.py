"""The notebooks of ``examples/notebooks/`` run in a Jupyter kernel, and show what a user expects.

``python -m pytest`` (testpaths = tests) runs them here: copies of the notebooks are executed by
``pytest --nbmake --overwrite`` in a child process, in a temporary directory (the notebooks write
their input and output files beside themselves), with a real IPython kernel and matplotlib's inline
backend (``MPLBACKEND`` is removed from the kernel's environment).  ``--overwrite`` keeps the
executed outputs in the copies, which are then checked: a cell ending in
``factory.GetROCCurve(loader)`` or a result's ``.plot()`` shows exactly one figure and no ``Axes``
text, a result object shows its HTML table.  ``pytest --nbmake examples/notebooks`` runs the same
notebooks in place.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

import pymva

NOTEBOOKS = Path(__file__).resolve().parents[1] / "examples" / "notebooks"
#: the pymva these tests import (a checkout's src/ or the installed one): the kernels must use it too
PYMVA_PATH = str(Path(pymva.__file__).resolve().parents[1])


def _shown(cell: dict[str, Any]) -> tuple[int, list[str]]:
    """Images a cell shows and the plain-text outputs shown without an image."""
    images, texts = 0, []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            texts.append(out["text"])
        elif out["output_type"] in ("display_data", "execute_result"):
            data = out["data"]
            if "image/png" in data:
                images += 1
            elif "text/html" not in data:
                texts.append(data.get("text/plain", ""))
    return images, texts


def _tagged(nb: Any, tag: str) -> dict[str, Any]:
    (cell,) = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    return dict(cell)


@pytest.mark.slow
def test_notebooks_run_with_nbmake_and_show_one_figure_per_plot(tmp_path: Path) -> None:
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == ["classification_pytorch.ipynb", "multiclass_pytorch.ipynb", "regression_pytorch.ipynb"]
    for name in names:
        shutil.copy(NOTEBOOKS / name, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PYMVA_PATH, os.environ.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "--overwrite", "-p", "no:cacheprovider", "-q", "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "3 passed" in proc.stdout

    for name in names:
        nb = nbformat.read(tmp_path / name, as_version=4)
        results = _tagged(nb, "results")
        assert any("text/html" in o.get("data", {}) for o in results["outputs"]), name  # the HTML table
        for tag in ("roc", "plot") if "regression" not in name else ("plot",):
            images, texts = _shown(_tagged(nb, tag))
            assert images == 1, f"{name}, cell '{tag}': {images} figures shown"
            assert not any("<Axes" in t or "<Figure" in t for t in texts), (name, tag, texts)
    # the jobs wrote their files beside the notebooks
    assert (tmp_path / "dataset/weights/TMVAClassification_PyTorch.weights.xml").is_file()
    assert (tmp_path / "TMVA.root").is_file()
