"""MethodPyTorch records the training history (TMVA MethodBase::fTrainHistory) and the Factory keeps
it across the re-creation from the weights file and writes it to the output file."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import uproot

import pymva.pytorch as pmt
from pymva import TMVA


def _job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, train_func: Any, epochs: int) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(
        sys.modules["__main__"].__dict__,
        "load_model_custom_objects",
        {"optimizer": torch.optim.Adam, "criterion": torch.nn.MSELoss(), "train_func": train_func,
         "predict_func": pmt.predict},
    )  # fmt: skip
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softmax(dim=1))
    torch.jit.save(torch.jit.script(model), "model.pt")
    rng = np.random.default_rng(2)
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    loader.AddVariable("y")
    loader.AddSignalTree({k: rng.normal(0.5, 1, 200).astype(np.float32) for k in "xy"})
    loader.AddBackgroundTree({k: rng.normal(-0.5, 1, 200).astype(np.float32) for k in "xy"})
    factory = TMVA.Factory("Job", "TMVA.root", "Silent:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(loader, TMVA.Types.kPyTorch, "Net", f"FilenameModel=model.pt:NumEpochs={epochs}")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    return factory._methods["dataset"]["Net"].method  # the instance re-created from the weights file


def test_any_training_loop_records_the_losses_it_gives_save_best(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    losses = [0.5, 0.4, 0.45]

    def loop(model: Any, train_loader: Any, val_loader: Any, *, save_best: Any, **_: Any) -> Any:
        best = losses[0]
        for v in losses:
            best = save_best(model, v, best)
        return model

    method = _job(tmp_path, monkeypatch, loop, epochs=3)
    assert method.training_history == {"valError": [(1, 0.5), (2, 0.4), (3, 0.45)]}
    with uproot.open("TMVA.root") as f:
        d = f["dataset/Method_PyTorch/Net"]
        assert "TrainingHistory_Net_trainingError" not in d
        np.testing.assert_array_equal(d["TrainingHistory_Net_valError"].values(), losses)


def test_pymva_train_records_training_and_validation_loss_per_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[float] = []

    def spy(model: Any, *args: Any, save_best: Any, **kwargs: Any) -> Any:
        def recording(m: Any, curr: float, best: float) -> Any:
            seen.append(float(curr))
            return save_best(m, curr, best)

        return pmt.train(model, *args, save_best=recording, **kwargs)

    # a partial of pymva.pytorch.train gets history= too; the spy shows what it passes to save_best
    method = _job(tmp_path, monkeypatch, functools.partial(pmt.train, lr=0.05), epochs=2)
    history = method.training_history
    assert [s for s, _ in history["trainingError"]] == [1, 2]
    assert [s for s, _ in history["valError"]] == [1, 2]
    assert all(v > 0 for _, v in history["trainingError"])
    _job(tmp_path, monkeypatch, spy, epochs=2)  # a wrapper is not pymva.pytorch.train: valError only
    with uproot.open("TMVA.root") as f:
        d = f["dataset/Method_PyTorch/Net"]
        np.testing.assert_array_equal(d["TrainingHistory_Net_valError"].values(), np.float64(seen))
        assert "TrainingHistory_Net_trainingError" not in d
