"""``torch.export`` model files (``.pt2``) in ``MethodPyTorch`` (issue 17): trainable, safe, end to end.

Expectations: the original ``nn.Module`` (outputs and one SGD step, in both modes), hostile archives
that torch itself would run code from (shown by loading one with torch directly), and the Reader
reproducing the Factory's TestTree from the ``.pt2`` file the job wrote.
"""

from __future__ import annotations

import contextlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import uproot

import pymva.pytorch as pmt
from pymva import TMVA, ModelError, OptionError, TCut
from pymva.methods.exportedprogram import (
    ExportedModule,
    is_pt2_archive,
    load_exported_program,
    save_exported_program,
)
from pymva.toydata import create_class_example


def _net(n_in: int = 4) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(n_in, 16),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.3),
        torch.nn.BatchNorm1d(16),
        torch.nn.Linear(16, 2),
        torch.nn.Softmax(dim=1),
    )


def _export(model: torch.nn.Module, path: Path, n_in: int = 4) -> None:
    """What a user writes: torch.export in evaluation mode with a dynamic batch size."""
    model.eval()
    program = torch.export.export(
        model, (torch.zeros(3, n_in),), dynamic_shapes=({0: torch.export.Dim("batch")},)
    )
    torch.export.save(program, str(path))


def test_exported_module_trains_like_the_module(tmp_path: Path) -> None:
    reference = _net()
    _export(reference, tmp_path / "m.pt2")
    loaded = load_exported_program(tmp_path / "m.pt2")
    assert isinstance(loaded, ExportedModule)
    assert loaded.training is False  # exported in evaluation mode
    x = torch.randn(32, 4, generator=torch.Generator().manual_seed(1))
    # evaluation: dropout off, batch norm on its running statistics
    torch.testing.assert_close(loaded(x), reference.eval()(x), rtol=0, atol=1e-6)
    # training: the same dropout masks from the same seed, batch statistics, running-stat updates
    reference.train()
    loaded.train()
    opt_ref = torch.optim.SGD(reference.parameters(), lr=0.5)
    opt_new = torch.optim.SGD(loaded.parameters(), lr=0.5)
    for model, opt in ((reference, opt_ref), (loaded, opt_new)):
        torch.manual_seed(7)
        opt.zero_grad()
        loss = model(x)[:, 0].square().mean()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
    for (_, a), (_, b) in zip(reference.named_parameters(), loaded.named_parameters(), strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6)
    torch.testing.assert_close(
        loaded.program.get_buffer("3.running_mean"), reference[3].running_mean, rtol=0, atol=1e-6
    )
    loaded.eval()
    assert not any(bool(torch.isnan(v).any()) for v in loaded(x))
    torch.testing.assert_close(loaded(x), reference.eval()(x), rtol=0, atol=1e-6)


def test_save_and_reload_keeps_the_record_and_the_names(tmp_path: Path) -> None:
    model = load_exported_program(_saved(tmp_path))
    record = {"format": "pymva-model-file", "variables": ["var1", "var2", "var3", "var4"]}
    save_exported_program(model, tmp_path / "again.pt2", 4, record)
    records: dict[str, Any] = {}
    again = load_exported_program(tmp_path / "again.pt2", records)
    assert records["record"] == record
    assert [n for n, _ in again.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert is_pt2_archive(tmp_path / "again.pt2")
    torch.jit.save(torch.jit.script(_net()), str(tmp_path / "ts.pt"))  # type: ignore[no-untyped-call]
    assert not is_pt2_archive(tmp_path / "ts.pt")


def test_a_torchscript_model_cannot_be_saved_as_export(tmp_path: Path) -> None:
    scripted = torch.jit.script(_net())  # type: ignore[no-untyped-call]
    with pytest.raises(ModelError, match=r"TorchScript module, which torch\.export cannot trace"):
        save_exported_program(scripted, tmp_path / "x.pt2", 4)
    assert not (tmp_path / "x.pt2").exists()


# ------------------------------------------------------------------ hostile archives


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "good.pt2"
    _export(_net(), path)
    return path


def _rewrite(src: Path, dst: Path, edit: Any, extra: dict[str, bytes] | None = None) -> Path:
    """Copy a .pt2 archive, passing the program JSON (a dict) through ``edit``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        root = zin.namelist()[0].split("/")[0]
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("/models/model.json"):
                program = json.loads(data)
                edit(program)
                data = json.dumps(program).encode()
            zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(f"{root}/{name}", data)
    return dst


def _payload(marker: Path) -> str:
    """Python that creates ``marker`` (single quotes only: torch quotes guard code in double quotes)."""
    return f"__import__('pathlib').Path({str(marker)!r}).touch()"


def test_stored_guard_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "guard_ran"

    def edit(program: dict[str, Any]) -> None:
        program["guards_code"] = [f"{_payload(marker)} is None"]

    hostile = _rewrite(_saved(tmp_path), tmp_path / "guards.pt2", edit)
    torch.export.load(str(hostile)).module()(torch.zeros(2, 4))  # torch itself runs the guard code …
    assert marker.exists()
    marker.unlink()
    model = load_exported_program(hostile)  # … pymva drops it
    model(torch.zeros(2, 4))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("expr", "symbolic shape expression"),
        ("target", "not an ATen operator"),
        ("range", "symbolic shape expression"),
        ("name", "not an identifier"),
    ],
)
def test_code_in_the_program_is_refused(tmp_path: Path, where: str, message: str) -> None:
    marker = tmp_path / "ran"
    code = _payload(marker)

    def edit(program: dict[str, Any]) -> None:
        graph = program["graph_module"]["graph"]
        if where == "expr":
            sizes = [s for v in graph["tensor_values"].values() for s in v["sizes"] if "as_expr" in s]
            sizes[0]["as_expr"]["expr_str"] = code
        elif where == "target":
            graph["nodes"][0]["target"] = "torch.hub.load"
        elif where == "range":
            program["range_constraints"] = {code: {"min_val": 0, "max_val": None}}
        else:
            graph["nodes"][0]["outputs"][0]["as_tensor"]["name"] = "x; import os"

    hostile = _rewrite(_saved(tmp_path), tmp_path / f"{where}.pt2", edit)
    if where == "expr":  # torch itself evaluates the expression (sympy.sympify) while it loads
        with contextlib.suppress(Exception):
            torch.export.load(str(hostile))
        assert marker.exists()
        marker.unlink()
    with pytest.raises(ModelError, match=message):
        load_exported_program(hostile)
    assert not marker.exists()


def test_pickled_weights_and_compiled_code_are_refused(tmp_path: Path) -> None:
    good = _saved(tmp_path)
    with zipfile.ZipFile(good) as z:
        root = z.namelist()[0].split("/")[0]
        config_name = f"{root}/data/weights/model_weights_config.json"
        config = json.loads(z.read(config_name))
    first = next(iter(config["config"].values()))
    first["use_pickle"] = True
    pickled = tmp_path / "pickled.pt2"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(pickled, "w") as zout:
        for info in zin.infolist():
            data = json.dumps(config).encode() if info.filename == config_name else zin.read(info)
            zout.writestr(info.filename, data)
    with pytest.raises(ModelError, match="stored as a Python pickle"):
        load_exported_program(pickled)
    aoti = _rewrite(good, tmp_path / "aoti.pt2", lambda p: None, {"data/aotinductor/model/x.so": b"\x7fELF"})
    with pytest.raises(ModelError, match="AOTInductor"):
        load_exported_program(aoti)
    legacy = _rewrite(good, tmp_path / "legacy.pt2", lambda p: None, {"data/weights/model.pt": b"\x80\x04"})
    with pytest.raises(ModelError, match="pickle of torch's older"):
        load_exported_program(legacy)


# ------------------------------------------------------------------ the Factory and the Reader


@pytest.fixture
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    objs = {
        "optimizer": torch.optim.Adam,
        "criterion": torch.nn.MSELoss(),
        "train_func": pmt.train,
        "predict_func": pmt.predict,
    }
    monkeypatch.setitem(sys.modules["__main__"].__dict__, "load_model_custom_objects", objs)
    return tmp_path


def _loader() -> Any:
    create_class_example("tmva_class_example.root", n_events=600)
    data = uproot.open("tmva_class_example.root")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"], 1.0)
    loader.AddBackgroundTree(data["TreeB"], 1.0)
    loader.PrepareTrainingAndTestTree(TCut(""), "nTrain_Signal=400:nTrain_Background=400:SplitMode=Random:!V")
    return loader


def test_factory_trains_a_pt2_model_and_the_reader_applies_it(job: Path) -> None:
    _export(_net(), job / "model.pt2")
    factory = TMVA.Factory("TMVAClassification", "TMVA.root", "!V:Silent:!DrawProgressBar")
    loader = _loader()
    factory.BookMethod(
        loader, TMVA.Types.kPyTorch, "PyTorch", "!H:!V:VarTransform=N:FilenameModel=model.pt2:NumEpochs=3"
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    trained = job / "dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt2"
    assert is_pt2_archive(trained)  # the format of FilenameModel is kept
    weights = job / "dataset/weights/TMVAClassification_PyTorch.weights.xml"
    text = weights.read_text()
    assert 'Format="Export"' in text
    assert 'ModelFile="TMVAClassification_PyTorch.TrainedModel.pt2"' in text
    assert factory.GetROCIntegral(loader, "PyTorch") > 0.7

    test_tree = uproot.open("TMVA.root")["dataset/TestTree"].arrays(library="np")
    X = np.column_stack([test_tree[v] for v in ("var1", "var2", "var3", "var4")]).astype(np.float32)
    reader = TMVA.Reader("!Color:Silent")
    for v in ("var1", "var2", "var3", "var4"):
        reader.AddVariable(v)
    reader.BookMVA("PyTorch", str(weights))
    # the same float32 network on the same float32 inputs, batch against batch: equal to rounding of
    # a softmax over two outputs (a few float32 ulps of values in [0, 1])
    np.testing.assert_allclose(reader.EvaluateMVA(X, "PyTorch"), test_tree["PyTorch"], rtol=0, atol=1e-6)


def test_model_format_option(job: Path) -> None:
    torch.jit.save(torch.jit.script(_net()), "model.pt")  # type: ignore[no-untyped-call]
    factory = TMVA.Factory("TMVAClassification", "TMVA.root", "!V:Silent:!DrawProgressBar")
    loader = _loader()
    with pytest.raises(OptionError, match="ModelFormat"):
        factory.BookMethod(loader, TMVA.Types.kPyTorch, "P1", "FilenameModel=model.pt:ModelFormat=Onnx")
    factory.BookMethod(
        loader, TMVA.Types.kPyTorch, "P2", "!H:!V:FilenameModel=model.pt:ModelFormat=Export:NumEpochs=1"
    )
    with pytest.raises(ModelError, match=r"torch\.export cannot trace"):
        factory.TrainAllMethods()
    assert not list(Path("dataset/weights").glob("*.pt2"))


def test_is_pt2_archive_never_opens_a_fifo(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo.pt2"
    os.mkfifo(fifo)
    assert not is_pt2_archive(fifo)
    assert not is_pt2_archive(tmp_path / "missing.pt2")
    (tmp_path / "text.pt2").write_text("not a zip")
    assert not is_pt2_archive(tmp_path / "text.pt2")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (checked on the GPU machine)")
def test_a_model_on_the_gpu_is_saved_as_a_cpu_program(tmp_path: Path) -> None:
    net = _net().cuda().eval()
    X = torch.randn(64, 4, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = net(X.cuda()).cpu().numpy()
    save_exported_program(net, tmp_path / "gpu.pt2", 4)
    assert next(net.parameters()).device.type == "cuda"  # the caller's model is left where it was
    loaded = load_exported_program(tmp_path / "gpu.pt2")
    with torch.no_grad():
        got = loaded(X).numpy()
    # the same float32 network; GPU and CPU kernels differ by float32 rounding of 4- and 16-term sums
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
