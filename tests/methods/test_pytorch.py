"""``MethodPyTorch`` against ``../shared/tmva/pytorch.md`` §2–§6: options, setup, the fit contract,
save_best, the validation split, predictions and every error it raises.

Every test runs in a temporary directory with a fresh ``__main__`` module, so that the dict
``load_model_custom_objects`` and anything a ``UserCode`` file defines disappear afterwards.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, SequentialSampler, TensorDataset

import pymva.methods.pytorch as mp
import pymva.pytorch as ppt
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.methods.base import MethodContext
from pymva.methods.pytorch import (
    MethodPyTorch,
    PyTorchOptions,
    parse_learning_rate_schedule,
    validation_size,
)
from pymva.methods.registry import get_method_class
from pymva.types import EMVA, EAnalysisType, Types
from tolerances import assert_within, network_atol, softmax_sum_atol

FIT_KEYWORDS = {"num_epochs", "batch_size", "optimizer", "criterion", "save_best", "scheduler"}


# ------------------------------------------------------------------ helpers and fixtures


@pytest.fixture
def main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """A fresh ``__main__`` namespace and a temporary working directory."""
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    monkeypatch.chdir(tmp_path)
    return sys.modules["__main__"].__dict__


def _variables(n: int) -> tuple[VariableInfo, ...]:
    return tuple(VariableInfo(f"var{i + 1}", f"var{i + 1}", f"var{i + 1}") for i in range(n))


def context(
    analysis: EAnalysisType = EAnalysisType.kClassification,
    n_vars: int = 3,
    classes: tuple[str, ...] = ("Signal", "Background"),
    n_targets: int = 0,
) -> MethodContext:
    targets = tuple(VariableInfo(f"t{i}", f"t{i}", f"t{i}", kind="target") for i in range(n_targets))
    return MethodContext(
        job_name="TMVAClassification",
        dataset_name="dataset",
        analysis_type=analysis,
        variables=_variables(n_vars),
        class_names=classes if analysis != EAnalysisType.kRegression else ("Regression",),
        targets=targets,
        weight_dir=Path("dataset/weights"),
    )


def sample(n: int = 100, n_vars: int = 3, n_classes: int = 2, n_targets: int = 0, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    cid = (np.arange(n) % n_classes).astype(np.int32)
    rng.shuffle(cid)
    X = (rng.normal(size=(n, n_vars)) + cid[:, None]).astype(np.float32)
    targets = (X[:, :1] * 2 + X[:, 1:2] if n_targets else np.zeros((n, 0))).astype(np.float32)
    if n_targets > 1:
        targets = np.hstack([targets, X[:, 2:3] - 1]).astype(np.float32)
    return Sample(
        X=X,
        targets=targets,
        spectators=np.zeros((n, 0), np.float32),
        weights=rng.uniform(0.5, 1.5, n).astype(np.float32),
        class_id=cid,
    )


def save_model(
    path: str | Path, n_in: int = 3, n_out: int = 2, softmax: bool = True, seed: int = 0
) -> nn.Module:
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(n_in, 8), nn.ReLU(), nn.Linear(8, n_out)]
    if softmax:
        layers.append(nn.Softmax(dim=1))
    model = nn.Sequential(*layers)
    torch.jit.save(torch.jit.script(model), str(path))
    return model


def params(model: Any) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


class Recorder:
    """A train_func recording its call; optionally calls save_best once."""

    def __init__(self, call_save_best: bool = True, returns: Any = "model") -> None:
        self.args: tuple[Any, ...] = ()
        self.kwargs: dict[str, Any] = {}
        self.call_save_best = call_save_best
        self.returns = returns

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.args, self.kwargs = args, kwargs
        if self.call_save_best and kwargs["save_best"] is not None:
            kwargs["save_best"](args[0], 1.0, 1.0)
        return args[0] if self.returns == "model" else self.returns


def objects(**overrides: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "optimizer": torch.optim.SGD,
        "criterion": nn.MSELoss(),
        "train_func": Recorder(),
        "predict_func": ppt.predict,
    }
    d.update(overrides)
    return {k: v for k, v in d.items() if v is not _DROP}


_DROP = object()


def book(options: str = "", ctx: MethodContext | None = None, title: str = "PyTorch") -> MethodPyTorch:
    m = MethodPyTorch(title, ctx or context(), "!H:!V:VarTransform=None:FilenameModel=model.pt" + options)
    m.setup()
    return m


# ------------------------------------------------------------------ registration and options


def test_registered_for_kpytorch() -> None:
    assert get_method_class(Types.kPyTorch) is MethodPyTorch  # type: ignore[attr-defined]
    assert get_method_class(EMVA.kPyTorch) is MethodPyTorch
    assert get_method_class("PyTorch") is MethodPyTorch


def test_option_defaults() -> None:
    o = PyTorchOptions.parse("")
    assert o.FilenameModel == ""
    assert o.FilenameTrainedModel == ""
    assert (o.BatchSize, o.NumEpochs) == (100, 10)
    assert (o.ContinueTraining, o.SaveBestOnly) == (False, True)
    assert (o.LearningRateSchedule, o.ValidationSize, o.UserCode) == ("", "20%", "")
    assert (o.NumThreads, o.EventWeights) == (0, False)


@pytest.mark.parametrize("opt", ["BatchSize=0", "NumEpochs=0", "BatchSize=-3", "NumThreads=-1"])
def test_option_checks(opt: str) -> None:
    with pytest.raises(OptionError, match=opt.split("=")[0]):
        PyTorchOptions.parse(opt)


def test_unknown_option_names_the_closest() -> None:
    with pytest.raises(OptionError, match="NumEpochs"):
        MethodPyTorch("PyTorch", context(), "NumEpoch=3")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("50,0.01;70,0.005", {50: 0.01, 70: 0.005}),
        ("3,1e-3", {3: 0.001}),
        (" 2 , 0.5 ", {2: 0.5}),
    ],
)
def test_learning_rate_schedule_parsing(text: str, expected: dict[int, float] | None) -> None:
    assert parse_learning_rate_schedule(text) == expected


@pytest.mark.parametrize(
    "text", ["50,0.01;", "50", "a,0.1", "50,x", "1.5,0.1", "50,0.1,3", "-1,0.1", "5,nan"]
)
def test_malformed_learning_rate_schedule(text: str) -> None:
    msg = f"Failed to setup steps for scheduler function from string: {text}"
    with pytest.raises(OptionError, match="Failed to setup steps") as err:
        parse_learning_rate_schedule(text)
    assert msg in str(err.value)
    with pytest.raises(OptionError) as err2:  # checked at booking
        MethodPyTorch("PyTorch", context(), f"LearningRateSchedule={text}")
    assert msg in str(err2.value)


# ------------------------------------------------------------------ ValidationSize (§2.1)


@pytest.mark.parametrize(
    ("text", "n_train", "expected"),
    [
        ("20%", 1000, 200),
        ("20.0%", 1000, 200),
        ("0.5%", 1000, 5),
        ("33.3%", 10, 3),
        ("0.2", 1000, 200),
        ("0.25", 10, 2),
        (".5", 9, 4),
        ("100", 1000, 100),
        ("100.7", 1000, 100),
        ("1", 10, 1),
        ("1.0", 10, 1),
        ("1e2", 1000, 100),
        (" 20 %", 1000, 200),
        ("99.9%", 1000, 999),
    ],
)
def test_validation_size_formats(text: str, n_train: int, expected: int) -> None:
    assert validation_size(text, n_train) == expected


@pytest.mark.parametrize(
    ("text", "n_train", "message"),
    [
        ("abc%", 100, 'Cannot parse number "abc%". Expected string like "20%" or "20.0%".'),
        ("%", 100, 'Cannot parse number "%". Expected string like "20%" or "20.0%".'),
        ("abc", 100, 'Cannot parse number "abc". Expected string like "0.2" or "100".'),
        ("", 100, 'Cannot parse number "". Expected string like "0.2" or "100".'),
        ("0,2", 100, 'Cannot parse number "0,2". Expected string like "0.2" or "100".'),
        ("inf", 100, 'Cannot parse number "inf". Expected string like "0.2" or "100".'),
        ("-20%", 100, 'Validation size "-20%" is negative.'),
        ("-5", 100, 'Validation size "-5" is negative.'),
        ("0", 100, 'Validation size "0" is zero.'),
        ("0%", 100, 'Validation size "0%" is zero.'),
        ("0.001", 100, 'Validation size "0.001" is zero.'),
        ("100", 100, 'Validation size "100" is larger than or equal in size to training set (size="100").'),
        ("100%", 50, 'Validation size "100%" is larger than or equal in size to training set (size="50").'),
        ("0.99999", 1, 'Validation size "0.99999" is zero.'),
    ],
)
def test_validation_size_errors(text: str, n_train: int, message: str) -> None:
    with pytest.raises(OptionError) as err:
        validation_size(text, n_train)
    assert message in str(err.value)


@pytest.mark.parametrize(("text", "n_val"), [("20%", 20), ("0.3", 30), ("7", 7), ("99", 99)])
def test_split_sizes_reach_the_loaders(main: dict[str, Any], text: str, n_val: int) -> None:
    save_model("model.pt")
    rec = Recorder()
    main["load_model_custom_objects"] = objects(train_func=rec)
    m = book(f":ValidationSize={text}:BatchSize=8")
    m.train(sample(100))
    assert len(rec.args[1].dataset) == 100 - n_val
    assert len(rec.args[2].dataset) == n_val


def test_validation_size_is_checked_at_training(main: dict[str, Any]) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects()
    m = book(":ValidationSize=500")  # booking accepts it: N is only known at training
    with pytest.raises(OptionError, match='size="100"'):
        m.train(sample(100))


# ------------------------------------------------------------------ setup (ProcessOptions)


def test_setup_resolves_the_trained_model_file_and_logs(
    main: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects()
    with caplog.at_level(logging.INFO):
        m = book(title="MyNet")
    assert m.options.FilenameTrainedModel == str(
        Path("dataset/weights/TMVAClassification_MyNet.TrainedModel.pt")
    )
    assert "FilenameTrainedModel" not in m.options.modified_options
    assert f"Using PyTorch version {torch.__version__.split('.')[0]}" in caplog.text
    assert "Loaded model from file: model.pt" in caplog.text
    assert isinstance(m.model_, torch.jit.ScriptModule)


def test_explicit_trained_model_file_is_kept(main: dict[str, Any]) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects()
    m = book(":FilenameTrainedModel=out/trained.h5")
    assert m.options.FilenameTrainedModel == "out/trained.h5"
    m.train(sample(50))
    assert Path("out/trained.h5").is_file()  # the extension does not matter; the folder is created


def test_missing_dict_explains_what_to_define(main: dict[str, Any]) -> None:
    save_model("model.pt")
    with pytest.raises(ModelError, match="load_model_custom_objects is not defined") as err:
        book()
    for word in ("train_func", "predict_func", "criterion", "UserCode", "pymva.pytorch.train"):
        assert word in str(err.value)
    # the dict is shown as Python code, braces single (the help text is partly not an f-string)
    assert "= {'optimizer': torch.optim.SGD," in str(err.value)
    assert "'predict_func': predict} at the top level" in str(err.value)
    assert "{{" not in str(err.value)
    assert "}}" not in str(err.value)


def test_dict_of_the_wrong_type(main: dict[str, Any]) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = [1, 2]
    with pytest.raises(ModelError, match="must be a dict"):
        book()


@pytest.mark.parametrize("key", ["train_func", "criterion", "predict_func"])
def test_missing_key_names_the_real_key(main: dict[str, Any], key: str) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects(**{key: _DROP})
    with pytest.raises(ModelError, match=f"key: '{key}'"):
        book()


def test_optimizer_defaults_to_sgd(main: dict[str, Any]) -> None:
    save_model("model.pt")
    rec = Recorder()
    main["load_model_custom_objects"] = objects(optimizer=_DROP, train_func=rec)
    book().train(sample(50))
    assert rec.kwargs["optimizer"] is torch.optim.SGD


def test_missing_model_file_names_the_path(main: dict[str, Any]) -> None:
    main["load_model_custom_objects"] = objects()
    with pytest.raises(
        ModelError, match=r"Failed to load PyTorch model from file: model\.pt.*does not exist"
    ):
        book()
    with pytest.raises(ModelError, match="FilenameModel="):
        MethodPyTorch("PyTorch", context(), "!H").setup()


def test_non_torchscript_model_file_names_the_path(main: dict[str, Any]) -> None:
    main["load_model_custom_objects"] = objects()
    Path("model.pt").write_text("not a model")
    with pytest.raises(ModelError, match=r"model\.pt.*not a TorchScript archive") as err:
        book()
    assert err.value.__cause__ is not None
    torch.save(nn.Linear(3, 2), "model.pt")  # an eager pickle is not TorchScript either
    with pytest.raises(ModelError, match=r"model\.pt.*torch\.jit\.script"):
        book()


def test_model_is_loaded_on_the_cpu(main: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects()
    seen: dict[str, Any] = {}
    real = torch.jit.load

    def spy(path: Any, map_location: Any = None, **kw: Any) -> Any:
        seen["map_location"] = map_location
        return real(path, map_location=map_location, **kw)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(torch.jit, "load", spy)
    book()
    assert seen["map_location"] == "cpu"


# ------------------------------------------------------------------ UserCode


USER_CODE = """
import torch
from torch import nn
import pymva.pytorch
user_code_runs = globals().get("user_code_runs", 0) + 1
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Softmax(dim=1))
if not globals().get("keep_model_file"):
    torch.jit.save(torch.jit.script(model), "usermodel.pt")
load_model_custom_objects = {"optimizer": torch.optim.Adam, "criterion": nn.MSELoss(),
                             "train_func": pymva.pytorch.train, "predict_func": pymva.pytorch.predict}
"""


def test_user_code_defines_the_dict_in_its_own_namespace(main: dict[str, Any]) -> None:
    Path("user.py").write_text(USER_CODE)
    main["model"] = "the caller's"
    main["load_model_custom_objects"] = {"train_func": None}  # the UserCode file's dict wins
    m = MethodPyTorch("PyTorch", context(), "!H:FilenameModel=usermodel.pt:UserCode=user.py:NumEpochs=2")
    m.setup()
    assert main["model"] == "the caller's"  # the caller's globals are never touched
    assert main["load_model_custom_objects"] == {"train_func": None}
    assert "user_code_runs" not in main
    assert "__file__" not in main
    assert m._objects is not None
    assert m._objects.optimizer is torch.optim.Adam
    m.train(sample(60))
    X = sample(60).X
    Path("usermodel.pt").unlink()  # re-running the code before the prediction writes it again
    out = m.evaluate(X)
    assert out.shape == (60,)
    assert Path("usermodel.pt").is_file()  # re-run before loading the trained model, as TMVA does
    trained = torch.jit.load("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt")  # type: ignore[no-untyped-call]
    with torch.no_grad():
        ref = trained(torch.from_numpy(X)).numpy()[:, 0]
    # the same network on the same events: summation order only (tests/tolerances.py)
    assert_within(out, ref, network_atol(trained, X)[:, 0])


def test_missing_user_code_file(main: dict[str, Any]) -> None:
    with pytest.raises(ModelError, match=r"Input user code is not existing : nothere\.py"):
        MethodPyTorch("PyTorch", context(), "FilenameModel=m.pt:UserCode=nothere.py").setup()


def test_failing_user_code(main: dict[str, Any]) -> None:
    Path("bad.py").write_text("raise RuntimeError('oops')\n")
    with pytest.raises(ModelError, match=r"Failed to run user code bad\.py: RuntimeError: oops") as err:
        MethodPyTorch("PyTorch", context(), "FilenameModel=m.pt:UserCode=bad.py").setup()
    assert isinstance(err.value.__cause__, RuntimeError)


# ------------------------------------------------------------------ the fit contract (§3.6)


def test_fit_call_contract(main: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    save_model("model.pt")
    rec = Recorder()
    crit = nn.MSELoss()
    main["load_model_custom_objects"] = objects(train_func=rec, criterion=crit)
    m = book(":NumEpochs=7:BatchSize=16")
    s = sample(100)
    with caplog.at_level(logging.INFO):
        m.train(s)
    assert "Split TMVA training data in 80 training events and 20 validation events" in caplog.text

    assert len(rec.args) == 3
    assert set(rec.kwargs) == FIT_KEYWORDS
    model, train_loader, val_loader = rec.args
    assert model is m.model_
    assert rec.kwargs["num_epochs"] == 7
    assert rec.kwargs["batch_size"] == 16
    assert rec.kwargs["optimizer"] is torch.optim.SGD
    assert rec.kwargs["criterion"] is crit
    assert callable(rec.kwargs["save_best"])
    assert rec.kwargs["scheduler"] == (None, None)

    onehot = np.eye(2, dtype=np.float32)[s.class_id]
    for loader, lo, hi in ((train_loader, 0, 80), (val_loader, 80, 100)):
        assert isinstance(loader, DataLoader)
        assert isinstance(loader.dataset, TensorDataset)
        assert isinstance(loader.sampler, SequentialSampler)  # shuffle=False
        assert loader.batch_size == 16
        batches = list(loader)
        assert [len(b[0]) for b in batches] == [16] * ((hi - lo) // 16) + (
            [(hi - lo) % 16] if (hi - lo) % 16 else []
        )
        for xb, yb in batches:
            assert xb.dtype == torch.float32
            assert yb.dtype == torch.float32
            assert xb.shape[1] == 3
            assert yb.shape[1] == 2
        X = torch.cat([b[0] for b in batches]).numpy()
        Y = torch.cat([b[1] for b in batches]).numpy()
        np.testing.assert_array_equal(X, s.X[lo:hi])  # the events, in order; validation = the tail
        np.testing.assert_array_equal(Y, onehot[lo:hi])


def test_one_hot_follows_the_class_index(main: dict[str, Any]) -> None:
    save_model("model.pt", n_out=3)
    rec = Recorder()
    main["load_model_custom_objects"] = objects(train_func=rec)
    ctx = context(EAnalysisType.kMulticlass, classes=("Signal", "Background_0", "Background_1"))
    m = book(ctx=ctx)
    s = sample(30, n_classes=3)
    m.train(s)
    Y = torch.cat([b[1] for b in rec.args[1]] + [b[1] for b in rec.args[2]]).numpy()
    assert Y.shape == (30, 3)
    np.testing.assert_array_equal(Y.argmax(axis=1), s.class_id)
    np.testing.assert_array_equal(Y.sum(axis=1), np.ones(30))


def test_regression_targets(main: dict[str, Any]) -> None:
    save_model("model.pt", n_out=2, softmax=False)
    rec = Recorder()
    main["load_model_custom_objects"] = objects(train_func=rec)
    m = book(ctx=context(EAnalysisType.kRegression, n_targets=2))
    s = sample(40, n_targets=2)
    m.train(s)
    Y = torch.cat([b[1] for b in rec.args[1]] + [b[1] for b in rec.args[2]]).numpy()
    np.testing.assert_array_equal(Y, s.targets)


def test_event_weights_option_yields_x_y_w(main: dict[str, Any]) -> None:
    save_model("model.pt")
    rec = Recorder()
    main["load_model_custom_objects"] = objects(train_func=rec)
    m = book(":EventWeights:BatchSize=7")
    s = sample(50)
    m.train(s)
    for loader, lo, hi in ((rec.args[1], 0, 40), (rec.args[2], 40, 50)):
        batches = list(loader)
        assert all(len(b) == 3 for b in batches)
        w = torch.cat([b[2] for b in batches]).numpy()
        assert w.dtype == np.float32
        np.testing.assert_array_equal(w, s.weights[lo:hi])


def test_without_event_weights_batches_are_pairs(main: dict[str, Any]) -> None:
    save_model("model.pt")
    rec = Recorder()
    main["load_model_custom_objects"] = objects(train_func=rec)
    book().train(sample(50))
    assert all(len(b) == 2 for b in rec.args[1])


def test_scheduler_argument(main: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    save_model("model.pt")
    rec = Recorder()
    main["load_model_custom_objects"] = objects(train_func=rec)
    with caplog.at_level(logging.INFO):
        book(":LearningRateSchedule=1,0.5;3,0.25").train(sample(50))
    assert "Set learning rate during training: 1,0.5;3,0.25" in caplog.text
    fn, steps = rec.kwargs["scheduler"]
    assert steps == {1: 0.5, 3: 0.25}
    opt = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    fn(opt, 0, steps)
    assert opt.param_groups[0]["lr"] == 0.1
    fn(opt, 1, steps)
    assert opt.param_groups[0]["lr"] == 0.5
    fn(opt, 3)  # TMVA's schedule has the steps as default argument
    assert opt.param_groups[0]["lr"] == 0.25
    with pytest.raises(TypeError, match="needs the optimizer instance"):
        fn(torch.optim.SGD, 1, steps)


def test_tutorial_loop_passing_the_class_to_schedule_fails_clearly(main: dict[str, Any]) -> None:
    save_model("model.pt")

    def tutorial_fit(model: Any, train_loader: Any, val_loader: Any, num_epochs: int, batch_size: int,
                     optimizer: Any, criterion: Any, save_best: Any, scheduler: Any) -> Any:  # fmt: skip
        schedule, steps = scheduler
        schedule(optimizer, 0, steps)  # the class, as ROOT's tutorials do
        return model

    main["load_model_custom_objects"] = objects(train_func=tutorial_fit)
    with pytest.raises(ModelError, match="Failed to train model") as err:
        book(":LearningRateSchedule=0,0.1").train(sample(50))
    assert "optimizer instance" in str(err.value)
    assert isinstance(err.value.__cause__, TypeError)


def test_fit_exception_is_chained(main: dict[str, Any]) -> None:
    save_model("model.pt")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("boom")

    main["load_model_custom_objects"] = objects(train_func=broken)
    with pytest.raises(ModelError, match=r"Failed to train model.*ValueError: boom") as err:
        book().train(sample(50))
    assert isinstance(err.value.__cause__, ValueError)


def test_train_func_none(main: dict[str, Any]) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects(train_func=None)
    with pytest.raises(ModelError, match=r"train_func .* not a function"):
        book().train(sample(50))


# ------------------------------------------------------------------ save_best and saving


def _weights_in(path: str | Path) -> list[torch.Tensor]:
    return params(torch.jit.load(str(path), map_location="cpu"))  # type: ignore[no-untyped-call]


def test_save_best_rule_ties_count(main: dict[str, Any]) -> None:
    save_model("model.pt")
    results: list[Any] = []
    path = Path("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt")

    def fit(model: Any, tl: Any, vl: Any, *, save_best: Any, **kw: Any) -> Any:
        with torch.no_grad():
            next(model.parameters()).fill_(1.0)
        results.append(save_best(model, 1.0, 1.0))  # tie: saved
        results.append(_weights_in(path)[0].flatten()[0].item())
        with torch.no_grad():
            next(model.parameters()).fill_(2.0)
        results.append(save_best(model, 1.5, 1.0))  # worse: not saved
        results.append(_weights_in(path)[0].flatten()[0].item())
        results.append(save_best(model, 0.5, 1.0))  # better: saved
        results.append(_weights_in(path)[0].flatten()[0].item())
        results.append(save_best.__defaults__)
        return model

    main["load_model_custom_objects"] = objects(train_func=fit)
    book().train(sample(50))
    assert results[:6] == [1.0, 1.0, 1.0, 1.0, 0.5, 2.0]
    assert results[6] == (str(path),)  # save_path defaults to FilenameTrainedModel


def test_save_best_writes_atomically(main: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    save_model("model.pt")
    path = Path("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt")
    real_save = torch.jit.save

    def failing_save(m: Any, f: Any, *a: Any, **k: Any) -> None:
        f.write(b"partial garbage")
        raise OSError("disk full")

    def fit(model: Any, tl: Any, vl: Any, *, save_best: Any, **kw: Any) -> Any:
        with torch.no_grad():
            next(model.parameters()).fill_(1.0)
        save_best(model, 1.0, 1.0)
        with torch.no_grad():
            next(model.parameters()).fill_(2.0)
        monkeypatch.setattr(torch.jit, "save", failing_save)
        try:
            save_best(model, 0.5, 1.0)
        finally:
            monkeypatch.setattr(torch.jit, "save", real_save)
        return model

    main["load_model_custom_objects"] = objects(train_func=fit)
    with pytest.raises(ModelError, match="Failed to train model") as err:
        book().train(sample(50))
    assert isinstance(err.value.__cause__, ModelError)
    assert "Failed to save trained model" in str(err.value.__cause__)
    assert _weights_in(path)[0].flatten()[0].item() == 1.0  # the previous best is intact
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind


def test_save_best_never_called(main: dict[str, Any]) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects(train_func=Recorder(call_save_best=False))
    with pytest.raises(ModelError, match="never called save_best") as err:
        book().train(sample(50))
    assert "SaveBestOnly=False" in str(err.value)
    assert not Path("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt").exists()


def test_save_best_called_but_never_saving(main: dict[str, Any]) -> None:
    save_model("model.pt")

    def fit(model: Any, tl: Any, vl: Any, *, save_best: Any, **kw: Any) -> Any:
        save_best(model, 2.0, 1.0)
        return model

    main["load_model_custom_objects"] = objects(train_func=fit)
    with pytest.raises(ModelError, match="never saved"):
        book().train(sample(50))


def test_save_best_only_false_saves_what_fit_returns(
    main: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    save_model("model.pt")
    layer = nn.Linear(3, 2)
    other = nn.Sequential(layer)
    with torch.no_grad():
        layer.weight.fill_(3.0)
    rec = Recorder(returns=other)
    main["load_model_custom_objects"] = objects(train_func=rec)
    with caplog.at_level(logging.INFO):
        book(":!SaveBestOnly:FilenameTrainedModel=trained.pt").train(sample(50))
    assert rec.kwargs["save_best"] is None
    assert "Trained model written to file: trained.pt" in caplog.text
    assert torch.equal(_weights_in("trained.pt")[0], layer.weight)


def test_save_best_only_false_unscriptable_or_none(main: dict[str, Any]) -> None:
    save_model("model.pt")

    class NotScriptable(nn.Module):
        def forward(self, x: Any) -> Any:
            return dict(enumerate(x)).popitem()  # dict methods TorchScript lacks

    main["load_model_custom_objects"] = objects(train_func=Recorder(returns=NotScriptable()))
    with pytest.raises(ModelError, match="Model not scriptable"):
        book(":SaveBestOnly=False").train(sample(50))
    main["load_model_custom_objects"] = objects(train_func=Recorder(returns=None))
    with pytest.raises(ModelError, match="returned None"):
        book(":SaveBestOnly=False").train(sample(50))


def test_continue_training_loads_the_trained_file(
    main: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    initial = save_model("model.pt", seed=1)
    trained = save_model("trained.pt", seed=2)
    main["load_model_custom_objects"] = objects()
    with caplog.at_level(logging.INFO):
        m = book(":ContinueTraining:FilenameTrainedModel=trained.pt")
    assert "Continue training with trained model" in caplog.text
    assert all(torch.equal(a, b) for a, b in zip(params(m.model_), params(trained), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(params(m.model_), params(initial), strict=True))
    m.train(sample(50))  # trains on and overwrites the file
    assert Path("trained.pt").is_file()


# ------------------------------------------------------------------ predictions (§5)


def _trained(main: dict[str, Any], ctx: MethodContext | None = None, n_out: int = 2, softmax: bool = True,
             **objs: Any) -> MethodPyTorch:  # fmt: skip
    save_model("model.pt", n_out=n_out, softmax=softmax)
    main["load_model_custom_objects"] = objects(**objs)
    m = book(ctx=ctx)
    m.train(sample(50))
    return m


def test_prediction_uses_the_saved_file_and_the_signal_column(main: dict[str, Any]) -> None:
    m = _trained(main)
    X = sample(20, seed=5).X
    ref = torch.jit.load("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt")  # type: ignore[no-untyped-call]
    with torch.no_grad():
        expected = ref(torch.from_numpy(X)).numpy()
    raw = m.raw_outputs(X)
    atol = network_atol(ref, X)  # the same network on the same events: summation order only
    assert_within(raw, expected, atol)
    assert_within(m.evaluate(X), expected[:, 0], atol[:, 0])


def test_background_first_uses_the_signal_class_column(main: dict[str, Any]) -> None:
    m = _trained(main, ctx=context(classes=("Background", "Signal")))
    X = sample(10, seed=5).X
    ref = torch.jit.load("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt")  # type: ignore[no-untyped-call]
    with torch.no_grad():
        expected = ref(torch.from_numpy(X)).numpy()
    assert_within(m.evaluate(X), expected[:, 1], network_atol(ref, X)[:, 1])  # Signal is class index 1
    assert not np.allclose(expected[:, 0], expected[:, 1])


def test_recreated_method_loads_the_trained_model_lazily(main: dict[str, Any]) -> None:
    m = _trained(main)
    opts = m.options.to_option_string()
    X = sample(10, seed=3).X
    expected = m.raw_outputs(X)
    calls: list[int] = []

    def counting_predict(model: Any, x: Any) -> Any:
        calls.append(len(x))
        return ppt.predict(model, x)

    main["load_model_custom_objects"] = objects(
        train_func=None, criterion=None, predict_func=counting_predict
    )
    again = MethodPyTorch("PyTorch", context(), opts)  # as the Factory/Reader re-create it: no setup()
    again.read_weights_xml(None)
    trained = torch.jit.load(str(next(Path("dataset/weights").glob("*_PyTorch.TrainedModel.pt"))))  # type: ignore[no-untyped-call]
    assert_within(again.raw_outputs(X), expected, network_atol(trained, X))
    assert calls == [10]
    again.raw_outputs(X[:1])
    assert calls == [10, 1]


@pytest.mark.parametrize(
    ("result", "match"),
    [
        (lambda n: np.zeros((n, 3), np.float32), r"shape \(\d+, 3\).*\(n_events, n_outputs\) = \(\d+, 2\)"),
        (lambda n: np.zeros(n, np.float32), r"shape \(\d+,\).*\(n_events, n_outputs\)"),
        (lambda n: np.zeros((n, 2), np.int64), r"dtype int64.*\(n_events, n_outputs\)"),
        (lambda n: [[0.0, 1.0]] * n, r"returned list.*\(n_events, n_outputs\)"),
    ],
)
def test_wrong_predictions(main: dict[str, Any], result: Any, match: str) -> None:
    m = _trained(main, predict_func=lambda model, X: result(len(X)))
    with pytest.raises(ModelError, match=match):
        m.evaluate(sample(5).X)


def test_tensor_and_float64_predictions_are_accepted(main: dict[str, Any]) -> None:
    m = _trained(main, predict_func=lambda model, X: model(torch.from_numpy(X)))
    out = m.raw_outputs(sample(5).X)
    assert out.dtype == np.float32
    assert out.flags.c_contiguous
    m = _trained(main, predict_func=lambda model, X: np.full((len(X), 2), 0.25))
    out = m.raw_outputs(sample(5).X)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.full((5, 2), 0.25, np.float32))


def test_predict_func_none_falls_back_to_ready_made_predict(main: dict[str, Any]) -> None:
    from pymva import pytorch as ready_made

    m = _trained(main, predict_func=None)
    X = sample(5).X
    model = torch.jit.load("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt", map_location="cpu")
    with torch.no_grad():
        expected = model(torch.from_numpy(X)).numpy()
    assert_within(m.raw_outputs(X), expected, network_atol(model, X))
    assert m._objects is not None
    assert m._objects.predict is ready_made.predict


def test_predict_func_not_callable(main: dict[str, Any]) -> None:
    m = _trained(main, predict_func="oops")
    with pytest.raises(ModelError, match=r"predict_func .* not a function"):
        m.evaluate(sample(5).X)


def test_missing_trained_file_when_the_weights_are_read(main: dict[str, Any]) -> None:
    m = _trained(main)
    os.remove("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt")
    again = MethodPyTorch("PyTorch", context(), m.options.to_option_string())
    with pytest.raises(ModelError, match=r"TMVAClassification_PyTorch\.TrainedModel\.pt"):
        again.read_weights_xml(None)


# ------------------------------------------------------------------ NumThreads, capabilities, help


def test_num_threads(
    main: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects()
    intra: list[int] = []
    inter: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", intra.append)
    monkeypatch.setattr(torch, "set_num_interop_threads", inter.append)
    monkeypatch.setattr(mp, "_INTEROP_THREADS_SET", False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    book(":NumThreads=3")
    book(":NumThreads=3")
    assert intra == [3, 3]
    assert inter == [3]  # once per process
    book()  # 0: untouched
    assert intra == [3, 3]
    with caplog.at_level(logging.WARNING):
        book(":NumThreads=100000")  # clamped to the machine's CPU count, with a warning
    assert intra == [3, 3, 8]
    assert "NumThreads=100000 is more than the 8 CPUs of this machine: using 8 threads" in caplog.text

    def refuse(n: int) -> None:
        raise RuntimeError("cannot set number of interop threads after parallel work has started")

    monkeypatch.setattr(torch, "set_num_interop_threads", refuse)
    monkeypatch.setattr(mp, "_INTEROP_THREADS_SET", False)
    with caplog.at_level(logging.WARNING):
        book(":NumThreads=2")
    assert "inter-op threads" in caplog.text


def test_num_threads_really_sets_torch(main: dict[str, Any]) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects()
    before = torch.get_num_threads()
    try:
        book(":NumThreads=1")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize(
    ("analysis", "n_classes", "n_targets", "ok"),
    [
        (EAnalysisType.kClassification, 2, 0, True),
        (EAnalysisType.kClassification, 3, 0, False),
        (EAnalysisType.kMulticlass, 2, 0, True),
        (EAnalysisType.kMulticlass, 5, 0, True),
        (EAnalysisType.kMulticlass, 1, 0, False),
        (EAnalysisType.kRegression, 1, 1, True),
        (EAnalysisType.kRegression, 1, 3, True),
    ],
)
def test_has_analysis_type(analysis: EAnalysisType, n_classes: int, n_targets: int, ok: bool) -> None:
    assert MethodPyTorch.has_analysis_type(analysis, n_classes, n_targets) is ok


def test_no_ranking_and_help(main: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    save_model("model.pt")
    main["load_model_custom_objects"] = objects()
    m = MethodPyTorch("PyTorch", context(), "H:FilenameModel=model.pt")
    m.setup()
    assert m.ranking() is None
    with caplog.at_level(logging.INFO):
        m.train(sample(50))
    assert "automatic differentiation" in caplog.text
    assert '"!H"' in caplog.text


# ------------------------------------------------------------------ real (tiny) trainings


def test_classification_with_the_ready_made_functions(main: dict[str, Any]) -> None:
    from sklearn.metrics import roc_auc_score

    save_model("model.pt")
    main["load_model_custom_objects"] = {
        "optimizer": torch.optim.Adam,
        "criterion": nn.MSELoss(),
        "train_func": ppt.train,
        "predict_func": ppt.predict,
    }
    m = book(":NumEpochs=5:BatchSize=32")
    m.train(sample(1000))
    test = sample(500, seed=9)
    auc = roc_auc_score(test.class_id == 0, m.evaluate(test.X))
    assert auc > 0.85


def _save_sigmoid_model(path: str, n_in: int = 3, seed: int = 0) -> None:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(n_in, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
    torch.jit.save(torch.jit.script(model), path)


@pytest.mark.parametrize("classes", [("Signal", "Background"), ("Background", "Signal")])
def test_one_output_column_classifier_gets_the_signal_flag_as_target(
    main: dict[str, Any], classes: tuple[str, str]
) -> None:
    """A binary network with one (sigmoid) output: target 1 for Signal, 0 else; that column is the MVA value."""
    _save_sigmoid_model("model.pt")
    rec = Recorder()
    main["load_model_custom_objects"] = objects(train_func=rec)
    m = book(":ValidationSize=10", ctx=context(classes=classes))
    s = sample(50)
    m.train(s)
    _, train_loader, val_loader = rec.args[:3]
    Y = np.concatenate([b[1].numpy() for b in train_loader] + [b[1].numpy() for b in val_loader])
    assert Y.shape == (50, 1)
    np.testing.assert_array_equal(Y[:, 0], (s.class_id == classes.index("Signal")).astype(np.float32))

    X = sample(20, seed=5).X
    trained = torch.jit.load(str(next(Path("dataset/weights").glob("*_PyTorch.TrainedModel.pt"))))  # type: ignore[no-untyped-call]
    with torch.no_grad():
        score = trained(torch.from_numpy(X)).numpy()[:, 0]
    # the same forward pass on the same 20 events; any difference is summation order (network_atol)
    got = m.evaluate(X)
    assert_within(got, score, network_atol(trained, X)[:, 0])
    raw = m.raw_outputs(X)  # widened to TMVA's two columns: the score and 1 - score
    sig = classes.index("Signal")
    np.testing.assert_array_equal(raw[:, sig], got)
    np.testing.assert_array_equal(raw[:, 1 - sig], np.float32(1.0) - got)


def test_one_output_column_classifier_learns_with_bce(main: dict[str, Any]) -> None:
    _save_sigmoid_model("model.pt")
    main["load_model_custom_objects"] = objects(
        train_func=ppt.train, optimizer=torch.optim.Adam, criterion=nn.BCELoss()
    )
    m = book(":NumEpochs=5:BatchSize=32")
    m.train(sample(600))
    test = sample(400, seed=9)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(test.class_id == 0, m.evaluate(test.X)) > 0.85


@pytest.mark.parametrize(
    ("analysis", "n_out", "match"),
    [
        (EAnalysisType.kClassification, 3, (r"gives 3 output columns.*needs 2 \(TMVA's contract: one one-hot "
          r"column per class, Signal, Background.*nn\.Softmax.*single column, the signal score")),
        (EAnalysisType.kMulticlass, 1, r"gives 1 output columns.*needs 3 .*one one-hot column per class"),
        (EAnalysisType.kRegression, 3, r"gives 3 output columns.*needs 1 \(one per regression target: t0\)"),
    ],
)  # fmt: skip
def test_a_network_of_the_wrong_width_is_explained_before_training(
    main: dict[str, Any], analysis: EAnalysisType, n_out: int, match: str
) -> None:
    save_model("model.pt", n_out=n_out, softmax=analysis != EAnalysisType.kRegression)
    rec = Recorder()
    main["load_model_custom_objects"] = objects(train_func=rec)
    classes = ("Signal", "Background_0", "Background_1") if analysis == EAnalysisType.kMulticlass else None
    ctx = context(
        analysis,
        n_targets=1 if analysis == EAnalysisType.kRegression else 0,
        classes=classes or ("Signal", "Background"),
    )
    m = book(ctx=ctx)
    with pytest.raises(ModelError, match=match):
        m.train(sample(60, n_classes=3 if classes else 2, n_targets=ctx.n_targets))
    assert rec.args == ()  # the user's loop was never called


def test_the_factorys_draw_progress_bar_reaches_pymva_pytorch_train(
    main: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    save_model("model.pt")
    main["load_model_custom_objects"] = objects(train_func=ppt.train)
    for draw, expect_bar in ((True, True), (False, False)):
        err = Terminal()
        monkeypatch.setattr(sys, "stderr", err)
        ctx = dataclasses.replace(context(), draw_progress_bar=draw)
        book(":NumEpochs=2", ctx=ctx).train(sample(50))
        assert ("val_loss=" in err.getvalue()) is expect_bar
        assert ("2/2" in err.getvalue()) is expect_bar


def test_multiclass_outputs(main: dict[str, Any]) -> None:
    save_model("model.pt", n_out=3)
    main["load_model_custom_objects"] = objects(train_func=ppt.train, optimizer=torch.optim.Adam)
    ctx = context(EAnalysisType.kMulticlass, classes=("Signal", "Background_0", "Background_1"))
    m = book(":NumEpochs=4:BatchSize=32", ctx=ctx)
    m.train(sample(900, n_classes=3))
    test = sample(300, n_classes=3, seed=4)
    out = m.evaluate(test.X)
    assert out.shape == (300, 3)
    assert_within(out.sum(axis=1), 1.0, softmax_sum_atol(3))
    # each class's own output is on average the largest on its events
    for k in range(3):
        assert out[test.class_id == k].mean(axis=0).argmax() == k


def test_regression_outputs(main: dict[str, Any]) -> None:
    save_model("model.pt", n_out=2, softmax=False)
    main["load_model_custom_objects"] = objects(
        train_func=lambda *a, **k: ppt.train(*a, **k, lr=0.05), optimizer=torch.optim.Adam
    )
    m = book(":NumEpochs=10:BatchSize=32", ctx=context(EAnalysisType.kRegression, n_targets=2))
    m.train(sample(1000, n_targets=2))
    test = sample(300, n_targets=2, seed=4)
    out = m.evaluate(test.X)
    assert out.shape == (300, 2)
    mse = ((out - test.targets) ** 2).mean(axis=0)
    assert np.all(mse < 0.5 * test.targets.var(axis=0))


def test_weights_file_round_trip(main: dict[str, Any]) -> None:
    """The weights file stores the resolved FilenameTrainedModel; the re-created method reloads it."""
    from pymva.io.weights import load_method, read_weights_file, write_weights_file

    m = _trained(main)
    X = sample(10, seed=8).X
    expected = m.evaluate(X)
    path = write_weights_file(m)
    stored = read_weights_file(path)
    assert stored.method_type == "PyTorch"
    main["load_model_custom_objects"] = {
        "optimizer": None,
        "criterion": None,
        "train_func": None,
        "predict_func": ppt.predict,
    }  # as ROOT's application tutorials define it
    again = load_method(path)
    assert isinstance(again, MethodPyTorch)
    beside = str(Path("dataset/weights/TMVAClassification_PyTorch.TrainedModel.pt"))
    assert again.options.FilenameTrainedModel == beside  # stored resolved, as TMVA stores it
    assert again.trained_model_path == beside  # read from beside the weights file
    trained = torch.jit.load(again.trained_model_path)  # type: ignore[no-untyped-call]
    assert_within(again.evaluate(X), expected, network_atol(trained, X)[:, 0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (checked on the GPU machine)")
def test_a_model_trained_on_the_gpu_is_written_as_a_cpu_archive(tmp_path: Path) -> None:
    from pymva.methods.torchscript import save_scripted

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).cuda()
    save_scripted(net, tmp_path / "gpu.pt")
    assert next(net.parameters()).device.type == "cuda"  # the caller's model is left where it was
    # what a user or ROOT's C++ torch::jit::load does on a machine without a GPU: no map_location
    loaded = torch.jit.load(str(tmp_path / "gpu.pt"))  # type: ignore[no-untyped-call]
    assert {p.device.type for p in loaded.parameters()} == {"cpu"}
    X = torch.randn(16, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        # 4- and 8-term float32 sums on two kinds of kernels: a few ulps of outputs of order 1
        np.testing.assert_allclose(loaded(X).numpy(), net(X.cuda()).cpu().numpy(), rtol=0, atol=1e-5)
