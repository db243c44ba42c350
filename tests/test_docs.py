"""Every fenced Python block of README.md and docs/*.md runs, as a reader would run it.

The blocks of one page run in order, in one namespace, in a fresh working directory; the namespace is
installed as ``__main__`` (as a script's would be), so that a ``load_model_custom_objects`` a block
defines is the one ``MethodPyTorch`` finds.  A block whose first line is ``# fragment: <why>`` shows
call forms with placeholder arguments and is only compiled; keep those few.

What a page may use without defining it (its *context*, set up here before its first block; the
pages say so where it matters):

* README.md: nothing -- the headline snippet runs as written on a fresh machine.
* every docs/ page: in the working directory ``tmva_class_example.root`` (written by
  :func:`pymva.toydata.create_class_example`, 2000 events per tree) and ``model.pt`` (the tutorial's
  4-64-2 network as TorchScript); ``load_model_custom_objects`` with Adam, MSE,
  :func:`pymva.pytorch.train` and :func:`pymva.pytorch.predict` in ``__main__``; the names ``TMVA``, ``TFile``, ``TCut``, ``TString``,
  ``np``/``numpy``, ``torch``, ``nn``, ``uproot``; ``loader`` (a DataLoader ``"dataset"`` on the
  file's four variables and both trees, 500 training events per class) and ``factory`` (a Factory
  without output file) -- the objects of the getting-started example;
* reader.md, output-file.md, gui.md, deployment.md: also the files of a trained job (``TMVA.root``,
  ``dataset/weights/TMVAClassification_{Fisher,PyTorch}.weights.xml`` and the trained model), ``X``
  (20 events, float32 ``(20, 4)``) and ``tree`` (the uproot ``TreeS``);
* analysis-types.md: ``tmva_reg_example.root``, ``tmva_example_multiple_background.root``,
  ``modelRegression.pt`` (2 inputs, 1 output) and ``modelMulticlass.pt`` (4 inputs, 4 outputs);
* expressions.md: ``tree``, the ``events`` tree of ``../shared/data/uproot-HZZ.root``;
* transforms.md: ``ds`` (the loader's DataSet) and ``X`` (its test events).
"""

from __future__ import annotations

import re
import shutil
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
FRAGMENT = re.compile(r"^# fragment: \S")


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """``(first line number, code)`` of every fenced ```` ```python ```` block of a Markdown page."""
    blocks: list[tuple[int, str]] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            i += 1
        if lang in ("python", "py"):
            blocks.append((start + 1, "\n".join(lines[start:i]) + "\n"))
        i += 1
    return blocks


# ----------------------------------------------------------------------------------------- contexts


def _model(path: str, n_in: int, n_out: int, softmax: bool = True) -> None:
    """The tutorials' networks: ReLU and softmax for classes, Tanh and a linear output for regression."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers: list[nn.Module] = [nn.Linear(n_in, 64), nn.ReLU() if softmax else nn.Tanh(), nn.Linear(64, n_out)]
    if softmax:
        layers.append(nn.Softmax(dim=1))
    torch.jit.save(torch.jit.script(nn.Sequential(*layers)), path)


def _base(ns: dict[str, Any]) -> None:
    """The getting-started objects (see the module docstring)."""
    import torch
    import uproot
    from torch import nn

    import pymva.pytorch
    from pymva import TMVA, TCut, TFile, TString
    from pymva.toydata import create_class_example

    create_class_example("tmva_class_example.root", n_events=2000)
    _model("model.pt", 4, 2)
    ns["load_model_custom_objects"] = {
        "optimizer": torch.optim.Adam,
        "criterion": nn.MSELoss(),
        "train_func": pymva.pytorch.train,
        "predict_func": pymva.pytorch.predict,
    }
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree("tmva_class_example.root:TreeS", 1.0)
    loader.AddBackgroundTree("tmva_class_example.root:TreeB", 1.0)
    loader.PrepareTrainingAndTestTree(
        TCut(""), "nTrain_Signal=500:nTrain_Background=500:SplitMode=Random:NormMode=NumEvents:!V"
    )
    factory = TMVA.Factory("TMVAClassification", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    ns.update(
        TMVA=TMVA, TFile=TFile, TCut=TCut, TString=TString, np=np, numpy=np, torch=torch, nn=nn,
        uproot=uproot, loader=loader, factory=factory,
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained_job(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small trained classification job (Fisher and PyTorch), run once for the pages that read one."""
    import os

    workdir = tmp_path_factory.mktemp("docs_job")
    main = types.ModuleType("__main__")
    saved_main, saved_cwd = sys.modules["__main__"], os.getcwd()
    sys.modules["__main__"] = main
    os.chdir(workdir)
    try:
        ns = main.__dict__
        _base(ns)
        from pymva import TMVA

        factory = TMVA.Factory(
            "TMVAClassification", "TMVA.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification"
        )
        factory.BookMethod(ns["loader"], TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")
        factory.BookMethod(
            ns["loader"], TMVA.Types.kPyTorch, "PyTorch",
            "!H:!V:VarTransform=D,G:FilenameModel=model.pt:NumEpochs=2:BatchSize=32",
        )  # fmt: skip
        factory.TrainAllMethods()
        factory.TestAllMethods()
        factory.EvaluateAllMethods()
    finally:
        os.chdir(saved_cwd)
        sys.modules["__main__"] = saved_main
    return workdir


def _trained(ns: dict[str, Any], job: Path) -> None:
    _base(ns)
    for item in job.iterdir():
        if item.is_dir():
            shutil.copytree(item, item.name, dirs_exist_ok=True)
        elif not Path(item.name).exists():
            shutil.copy(item, item.name)
    import uproot

    tree = uproot.open("tmva_class_example.root")["TreeS"]
    a = tree.arrays(["var1", "var2", "var3", "var4"], library="np", entry_stop=20)
    ns["X"] = np.column_stack([a[k] for k in ("var1", "var2", "var3", "var4")]).astype(np.float32)
    ns["tree"] = tree


def _analysis_types(ns: dict[str, Any]) -> None:
    from pymva.toydata import create_multiple_background, create_regression_example

    _base(ns)
    create_regression_example("tmva_reg_example.root", n_events=2000)
    create_multiple_background("tmva_example_multiple_background.root", n_events=500)
    _model("modelRegression.pt", 2, 1, softmax=False)
    _model("modelMulticlass.pt", 4, 4)


def _expressions(ns: dict[str, Any], shared_data: Path) -> None:
    import uproot

    _base(ns)
    ns["tree"] = uproot.open(shared_data / "uproot-HZZ.root")["events"]


def _transforms(ns: dict[str, Any]) -> None:
    _base(ns)
    ds = ns["loader"].GetDataSetInfo().GetDataSet()
    ns["ds"], ns["X"] = ds, ds.test.X


Context = Callable[[dict[str, Any], Path, Path], None]
CONTEXTS: dict[str, Context] = {
    "README.md": lambda ns, job, shared: None,
    "reader.md": lambda ns, job, shared: _trained(ns, job),
    "output-file.md": lambda ns, job, shared: _trained(ns, job),
    "gui.md": lambda ns, job, shared: _trained(ns, job),
    "deployment.md": lambda ns, job, shared: _trained(ns, job),
    "analysis-types.md": lambda ns, job, shared: _analysis_types(ns),
    "expressions.md": lambda ns, job, shared: _expressions(ns, shared),
    "transforms.md": lambda ns, job, shared: _transforms(ns),
}


# -------------------------------------------------------------------------------------------- tests


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.name)
def test_page_runs(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    shared_data: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    main = types.ModuleType("__main__")
    main.__file__ = str(tmp_path / f"{page.stem}.py")
    monkeypatch.setitem(sys.modules, "__main__", main)
    ns = main.__dict__
    needs_job = page.name in ("reader.md", "output-file.md", "gui.md", "deployment.md")
    job = request.getfixturevalue("trained_job") if needs_job else tmp_path
    CONTEXTS.get(page.name, lambda ns, job, shared: _base(ns))(ns, job, shared_data)
    for line, code in python_blocks(page):
        name = f"{page.relative_to(ROOT)}, block at line {line}"
        compiled = compile(code, name, "exec")
        if FRAGMENT.match(code):
            continue
        try:
            exec(compiled, ns)  # noqa: S102 -- the documentation's own code
        except Exception as exc:  # name the block; the traceback shows its line
            raise AssertionError(f"{name} failed: {type(exc).__name__}: {exc}") from exc


def test_fragments_are_few_and_say_why() -> None:
    fragments = [
        (page.name, line, code.splitlines()[0])
        for page in PAGES
        for line, code in python_blocks(page)
        if code.startswith("# fragment")
    ]
    for page, line, first in fragments:
        assert FRAGMENT.match(first), f"{page}:{line}: write '# fragment: <why>'"
    assert len(fragments) <= 3, fragments


def test_blocks_are_found() -> None:
    """The parser sees the blocks: the README's headline snippet and the pages' examples."""
    readme = python_blocks(ROOT / "README.md")
    assert len(readme) == 1
    assert "factory.TrainAllMethods()" in readme[0][1]
    assert sum(len(python_blocks(p)) for p in PAGES) >= 20
