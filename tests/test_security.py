"""The trust model of docs/security.md: nothing in a weights file makes code run or reaches outside
its directory.

Hostile files carry a *canary*: code that would create a file if it ever ran.  Every test checks
that the canary file does not appear (and, for the explicit opt-ins, that it does).
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import uproot
from torch import nn

import pymva.pytorch as ppt
from pymva import TMVA, TCut
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.factory import Factory
from pymva.io.weights import load_method, write_weights_file
from pymva.methods.base import MethodContext
from pymva.methods.modelfiles import model_record, resolve_reference
from pymva.methods.pyrandomforest import MethodPyRandomForest
from pymva.methods.pytorch import MethodPyTorch
from pymva.methods.torchscript import save_scripted
from pymva.reader import Reader
from pymva.toydata import create_class_example
from pymva.types import EAnalysisType

VARS = ("var1", "var2", "var3")


# ---------------------------------------------------------------------------------------------- helpers
@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working directory and a fresh ``__main__`` (no custom objects left behind)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    return tmp_path


def _context(weight_dir: Path, job: str = "Job", variables: tuple[str, ...] = VARS) -> MethodContext:
    return MethodContext(
        job_name=job,
        dataset_name="dataset",
        analysis_type=EAnalysisType.kClassification,
        variables=tuple(VariableInfo(v, v, v) for v in variables),
        class_names=("Signal", "Background"),
        weight_dir=weight_dir,
    )


def _sample(n: int = 120, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    cid = (np.arange(n) % 2).astype(np.int32)
    X = (rng.normal(size=(n, len(VARS))) + 0.8 * (cid == 0)[:, None]).astype(np.float32)
    return Sample(
        X=X,
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=np.ones(n, np.float32),
        class_id=cid,
    )


def _reader(variables: tuple[str, ...] = VARS, options: str = "Silent") -> Reader:
    reader = Reader(options)
    for v in variables:
        reader.AddVariable(v)
    return reader


def _canary_code(canary: Path) -> str:
    return f"import pathlib\npathlib.Path({str(canary)!r}).write_text('ran')\n"


class _Evil:
    """Unpickling this object creates the canary file."""

    def __init__(self, canary: Path) -> None:
        self.canary = str(canary)

    def __reduce__(self) -> Any:
        return (Path.write_text, (Path(self.canary), "ran"))


def _pytorch_weights(weight_dir: Path, options: str = "", job: str = "Job", n_in: int = 3) -> Path:
    """A genuine PyTorch weights file and its TorchScript model beside it (no training needed)."""
    ctx = _context(weight_dir, job)
    method = MethodPyTorch("PyTorch", ctx, "!H:!V:FilenameModel=initial.pt" + options)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(n_in, 2), nn.Softmax(dim=1))
    save_scripted(model, method.beside_weights_path(), model_record(ctx, "PyTorch", "PyTorch"))
    method._trained = True
    return write_weights_file(method)


def _rf_weights(weight_dir: Path, job: str = "Job", seed: int = 0, options: str = "") -> tuple[Path, Any]:
    method = MethodPyRandomForest(
        "RF", _context(weight_dir, job), f"NEstimators=3:RandomState={seed}{options}"
    )
    method.setup()
    method.train(_sample(seed=seed))
    return write_weights_file(method), method


def _edit_xml(path: Path, edit: Any) -> None:
    root = ET.parse(path).getroot()
    edit(root)
    path.write_bytes(b'<?xml version="1.0"?>\n' + ET.tostring(root))


def _set_option(root: ET.Element, name: str, value: str) -> None:
    for o in root.iter("Option"):
        if o.get("name") == name:
            o.text = value
            return
    raise AssertionError(f"no option {name}")


# ---------------------------------------------------------------------------------------------- UserCode
def test_user_code_in_a_weights_file_never_runs(workdir: Path, caplog: pytest.LogCaptureFixture) -> None:
    canary = workdir / "canary"
    evil = workdir / "evil.py"
    evil.write_text(_canary_code(canary))
    path = _pytorch_weights(workdir / "w", f":UserCode={evil}")
    assert f">{evil}</Option>" in path.read_text()  # the hostile file really names the code
    reader = _reader(options="!Silent")
    with caplog.at_level(logging.WARNING):
        reader.BookMVA("PyTorch", path)
    X = _sample(5).X
    out = reader.EvaluateMVA(X, "PyTorch")
    assert out.shape == (5,)
    assert not canary.exists()
    assert f"names UserCode={evil}: not run" in caplog.text
    # the Factory's reload API does the same: the file's UserCode is dropped
    method = load_method(path)
    assert isinstance(method, MethodPyTorch)
    assert method.options.UserCode == ""
    method.evaluate(X)
    assert not canary.exists()


def test_user_code_runs_when_the_caller_names_it(workdir: Path) -> None:
    canary = workdir / "canary"
    evil = workdir / "evil.py"
    evil.write_text(_canary_code(canary))
    good = workdir / "good.py"
    good.write_text(
        "import numpy as np\n"
        "m = 'from the UserCode file'\n"
        "def predict(model, X):\n"
        "    return np.full((len(X), 2), 0.25, dtype=np.float32)\n"
        "load_model_custom_objects = {'train_func': None, 'criterion': None, 'predict_func': predict}\n"
    )
    path = _pytorch_weights(workdir / "w", f":UserCode={evil}")
    main = sys.modules["__main__"].__dict__
    main["m"] = "the caller's"
    reader = _reader()
    reader.BookMVA("PyTorch", path, UserCode=str(good))
    np.testing.assert_array_equal(reader.EvaluateMVA(_sample(4).X, "PyTorch"), np.full(4, 0.25, np.float32))
    assert not canary.exists()  # the file's UserCode, not the caller's, was dropped
    assert main["m"] == "the caller's"  # a fresh namespace: the caller's globals are untouched
    assert "load_model_custom_objects" not in main
    # the Reader option does the same for every PyTorch method it books
    reader2 = _reader(options=f"Silent:UserCode={good}")
    reader2.BookMVA("PyTorch", path)
    assert reader2.EvaluateMVA(_sample(1).X[0], "PyTorch") == pytest.approx(0.25)
    # and the Factory's reload passes the booking's UserCode
    again = load_method(path, caller_options={"UserCode": str(good)})
    assert again.options.UserCode == str(good)
    assert not canary.exists()


def test_caller_options_the_method_does_not_accept(workdir: Path) -> None:
    path, _ = _rf_weights(workdir / "w")
    with pytest.raises(OptionError, match=r"'UserCode' cannot be given.*FilenameClassifier"):
        _reader().BookMVA("RF", path, UserCode="x.py")
    with pytest.raises(OptionError, match=r"AllowPickle=1: give True or False"):
        _reader().BookMVA("RF", path, AllowPickle=1)


# ---------------------------------------------------------------------------------------------- paths
@pytest.mark.parametrize("where", ["absolute", "dotdot", "symlink"])
def test_a_weights_file_cannot_point_outside_its_directory(workdir: Path, where: str) -> None:
    canary = workdir / "canary"
    outside = workdir / "outside"
    outside.mkdir()
    evil = outside / "evil.PyData"
    evil.write_bytes(pickle.dumps(_Evil(canary)))
    path, _ = _rf_weights(workdir / "dataset" / "weights")
    if where == "absolute":
        ref = str(evil)
    elif where == "dotdot":
        ref = "../../outside/evil.PyData"
    else:
        (path.parent / "link.PyData").symlink_to(evil)
        ref = "link.PyData"

    def point(root: ET.Element) -> None:
        weights = root.find("Weights")
        assert weights is not None
        weights.set("ModelFile", ref)

    _edit_xml(path, point)
    for allow in (False, True):  # the opt-in for pickles never widens where files are read
        with pytest.raises(ModelError) as err:
            _reader().BookMVA("RF", path, AllowPickle=allow)
        assert ref in str(err.value)
        assert "own directory" in str(err.value)
        assert not canary.exists()


def test_filename_options_stored_in_old_files_are_confined_too(workdir: Path) -> None:
    canary = workdir / "canary"
    evil = workdir / "evil.PyData"
    evil.write_bytes(pickle.dumps(_Evil(canary)))
    path, _ = _rf_weights(workdir / "w", options=f":FilenameClassifier={evil}")

    def old_style(root: ET.Element) -> None:  # no ModelFile: a file of TMVA or an older pymva
        weights = root.find("Weights")
        assert weights is not None
        del weights.attrib["ModelFile"]

    _edit_xml(path, old_style)
    with pytest.raises(ModelError, match=rf"absolute path '{evil}'"):
        _reader().BookMVA("RF", path, AllowPickle=True)
    pt = _pytorch_weights(workdir / "p")
    trained = pt.parent / "Job_PyTorch.TrainedModel.pt"
    _edit_xml(pt, lambda root: _set_option(root, "FilenameTrainedModel", str(trained)))
    _edit_xml(pt, lambda root: root.remove(root.find("Weights")))  # type: ignore[arg-type]
    with pytest.raises(ModelError, match=r"absolute path .*FilenameTrainedModel='<path>'"):
        _reader().BookMVA("PyTorch", pt)
    assert not canary.exists()
    # the caller may name a file anywhere
    reader = _reader()
    reader.BookMVA("PyTorch", pt, FilenameTrainedModel=str(trained))
    assert reader.EvaluateMVA(_sample(3).X, "PyTorch").shape == (3,)


def test_resolve_reference_rules(tmp_path: Path) -> None:
    d = tmp_path / "weights"
    d.mkdir()
    (d / "m.pt").write_bytes(b"x")
    (d / "sub").mkdir()
    (d / "sub" / "n.pt").write_bytes(b"y")
    kw: dict[str, str] = {"what": "model", "option": "FilenameX", "source": "f.xml"}
    assert resolve_reference("m.pt", d, **kw) == d / "m.pt"
    assert resolve_reference("sub/n.pt", d, **kw) == d / "sub" / "n.pt"
    # a path relative to the training's working directory names the file beside the weights file
    assert resolve_reference("dataset/weights/m.pt", d, **kw) == d / "m.pt"
    assert resolve_reference("dataset\\weights\\m.pt", d, **kw) == d / "m.pt"
    for bad, why in [
        ("/etc/passwd", "absolute"),
        ("C:\\x\\m.pt", "absolute"),
        ("~/m.pt", "absolute"),
        ("../m.pt", r"'\.\.'"),
        ("sub/../../m.pt", r"'\.\.'"),
        ("", "names no"),
        ("m\x00.pt", "control"),
        ("other.pt", "not there"),
    ]:
        with pytest.raises(ModelError, match=why):
            resolve_reference(bad, d, **kw)
    os.mkfifo(d / "fifo.pt")
    with pytest.raises(ModelError, match="not a regular file"):
        resolve_reference("fifo.pt", d, **kw)
    (d / "dir.pt").mkdir()
    with pytest.raises(ModelError, match="a directory"):
        resolve_reference("dir.pt", d, **kw)


# ---------------------------------------------------------------------------------------------- formats
def test_pickled_model_files_need_the_opt_in(workdir: Path) -> None:
    canary = workdir / "canary"
    path, method = _rf_weights(workdir / "w")
    model_file = path.parent / "Job_RF.PyRFModel.skops"
    assert model_file.read_bytes()[:4] == b"PK\x03\x04"  # skops, no pickle
    # an older pymva wrote a pickle there; this one would run code
    model_file.write_bytes(pickle.dumps(_Evil(canary)))
    with pytest.raises(ModelError, match=r"is a Python pickle.*AllowPickle") as err:
        _reader().BookMVA("RF", path)
    assert str(model_file) in str(err.value)
    assert not canary.exists()
    # the explicit opt-in reads it (and so runs its code): the caller asked
    with pytest.raises(ModelError):
        _reader(options="Silent:AllowPickle").BookMVA("RF", path)  # it unpickles to None
    assert canary.exists()
    # a genuine old pickle of a fitted forest, read with the opt-in, gives the same responses
    model_file.write_bytes(pickle.dumps(method.classifier_))
    reader = _reader()
    reader.BookMVA("RF", path, AllowPickle=True)
    X = _sample(20, seed=3).X
    np.testing.assert_array_equal(reader.EvaluateMVA(X, "RF"), method.evaluate(X))


def test_skops_files_with_untrusted_types_are_refused(workdir: Path) -> None:
    import skops.io as sio
    from sklearn.svm import SVC

    path, _ = _rf_weights(workdir / "w")
    model_file = path.parent / "Job_RF.PyRFModel.skops"
    record = model_record(_context(path.parent), "PyRandomForest", "RF")
    for payload, name in [
        (eval, "builtins.eval"),
        (SVC().fit(_sample().X, _sample().class_id), "sklearn.svm._classes.SVC"),
        (os.system, "system"),
    ]:
        model_file.write_bytes(sio.dumps({"record": record, "estimator": payload}))
        with pytest.raises(ModelError, match=r"holds types pymva does not trust") as err:
            _reader().BookMVA("RF", path)
        assert name in str(err.value)


def test_torch_save_pickles_are_never_loaded(workdir: Path) -> None:
    canary = workdir / "canary"
    path = _pytorch_weights(workdir / "w")
    trained = path.parent / "Job_PyTorch.TrainedModel.pt"
    torch.save({"model": _Evil(canary)}, trained)
    with pytest.raises(
        ModelError, match=r"not a TorchScript archive.*torch\.save\(model\) files cannot be loaded"
    ):
        _reader().BookMVA("PyTorch", path)
    assert not canary.exists()


# ---------------------------------------------------------------------------------------------- job names
def _rf_job(job: str, trees: int) -> None:
    create_class_example("tmva_class_example.root", n_events=300)
    data = uproot.open("tmva_class_example.root")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"], 1.0)
    loader.AddBackgroundTree(data["TreeB"], 1.0)
    loader.PrepareTrainingAndTestTree(TCut(""), "nTrain_Signal=200:nTrain_Background=200:SplitMode=Block:!V")
    factory = Factory(job, f"{job}.root", "!V:Silent:!Color:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(loader, TMVA.Types.kPyRandomForest, "RF", f"!H:!V:NEstimators={trees}:RandomState=1")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()


def test_two_jobs_in_one_directory_keep_their_own_models(workdir: Path) -> None:
    _rf_job("JobA", 2)
    _rf_job("JobB", 30)
    weights = Path("dataset/weights")
    assert sorted(p.name for p in weights.iterdir()) == [
        "JobA_RF.PyRFModel.skops",
        "JobA_RF.weights.xml",
        "JobB_RF.PyRFModel.skops",
        "JobB_RF.weights.xml",
    ]
    for job in ("JobA", "JobB"):
        t = uproot.open(f"{job}.root")["dataset/TestTree"].arrays(library="np")
        X = np.column_stack([t[v] for v in ("var1", "var2", "var3", "var4")])
        reader = _reader(("var1", "var2", "var3", "var4"))
        reader.BookMVA("RF", weights / f"{job}_RF.weights.xml")
        np.testing.assert_array_equal(reader.EvaluateMVA(X, "RF"), t["RF"])  # its own forest
        assert len(reader.methods["RF"].classifier_.estimators_) == (2 if job == "JobA" else 30)


def test_a_model_file_recorded_for_other_variables_is_refused(workdir: Path) -> None:
    path_a, _ = _rf_weights(workdir / "w", job="A")
    other = MethodPyRandomForest("RF", _context(workdir / "w", "B", ("x", "y", "z")), "NEstimators=3")
    other.setup()
    other.train(_sample())
    path_b = write_weights_file(other)
    (workdir / "w" / "B_RF.PyRFModel.skops").write_bytes(
        (workdir / "w" / "A_RF.PyRFModel.skops").read_bytes()
    )
    with pytest.raises(ModelError, match=r"written for the variables \['var1', 'var2', 'var3'\].*job 'A'"):
        _reader(("x", "y", "z")).BookMVA("RF", path_b)
    _reader().BookMVA("RF", path_a)  # A's own file is fine
    # the same for PyTorch
    pt_a = _pytorch_weights(workdir / "p", job="A")
    ctx = _context(workdir / "p", "B", ("x", "y", "z"))
    m = MethodPyTorch("PyTorch", ctx, "!H:!V:FilenameModel=i.pt")
    m._trained = True
    pt_b = write_weights_file(m)
    (workdir / "p" / "B_PyTorch.TrainedModel.pt").write_bytes(
        (pt_a.parent / "A_PyTorch.TrainedModel.pt").read_bytes()
    )
    with pytest.raises(ModelError, match=r"written for the variables \['var1', 'var2', 'var3'\]"):
        _reader(("x", "y", "z")).BookMVA("PyTorch", pt_b)


def test_the_tutorial_layout_still_works(workdir: Path) -> None:
    """FilenameTrainedModel in the working directory (ROOT's tutorials): the Reader reads the copy
    written beside the weights file."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Softmax(dim=1))
    torch.jit.save(torch.jit.script(model), "model.pt")
    main = sys.modules["__main__"].__dict__
    main["load_model_custom_objects"] = {
        "optimizer": torch.optim.SGD,
        "criterion": nn.MSELoss(),
        "train_func": ppt.train,
        "predict_func": ppt.predict,
    }
    ctx = _context(Path("dataset/weights"), "TMVAClassification")
    m = MethodPyTorch(
        "PyTorch", ctx, "!H:!V:FilenameModel=model.pt:FilenameTrainedModel=trained.pt:NumEpochs=2"
    )
    m.setup()
    m.train(_sample())
    path = write_weights_file(m)
    beside = Path("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt")
    assert Path("trained.pt").read_bytes() == beside.read_bytes()
    reader = _reader()
    reader.BookMVA("PyTorch", path)
    X = _sample(10, seed=2).X
    np.testing.assert_allclose(reader.EvaluateMVA(X, "PyTorch"), m.evaluate(X), rtol=1e-6)
