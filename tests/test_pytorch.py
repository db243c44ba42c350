"""``pymva.pytorch``: the ready-made train/predict functions, ``schedule`` and the fast DataLoader."""

from __future__ import annotations

import io
import logging
import sys
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import pymva.pytorch as pt
from tolerances import EPS32, EPS64, assert_within, network_atol, sum_atol


def _data(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = (x.sum(dim=1, keepdim=True) > 0).float()
    return x, torch.cat([y, 1 - y], dim=1)


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2), nn.Softmax(dim=1))


#: Tolerance for comparing two float64 trainings that do the same steps in different code.  Their
#: difference is rounding only: each SGD step adds to a parameter lr·g, with g a sum of at most 256
#: per-event terms of size ≲ 1 for these 3-8-2 networks (lr ≤ 0.5), so one step differs by at most
#: 256·eps64 ≈ 6e-14; over the at most 24 steps of these tests, allowing the difference to grow a
#: thousandfold, ≈ 1.4e-9.  Any real difference of the loops (a step more or less, another loss,
#: rate or batch order) changes the parameters by lr·|g| ≳ 1e-4.
TRAINING_ATOL_64 = 1e3 * 24 * 256 * EPS64


def _loss_rel(n_batches: int) -> float:
    """pymva.pytorch.train adds its batch losses in a float32 tensor: n additions, each rounding by eps/2
    relative to the partial sum, so the mean differs from the float64 sum by at most n·eps relative."""
    return n_batches * EPS32


# ------------------------------------------------------------------ SequentialTensorLoader


@pytest.mark.parametrize(("n", "batch"), [(10, 3), (9, 3), (5, 100), (1, 1)])
def test_loader_yields_the_batches_of_a_plain_dataloader(n: int, batch: int) -> None:
    x = torch.arange(n * 2, dtype=torch.float32).reshape(n, 2)
    y = torch.arange(n, dtype=torch.float32).reshape(n, 1)
    fast = pt.SequentialTensorLoader(TensorDataset(x, y), batch_size=batch)
    plain = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=False)
    assert isinstance(fast, DataLoader)
    assert fast.batch_size == batch
    assert len(fast) == len(plain)
    got, ref = list(fast), list(plain)
    assert len(got) == len(ref)
    for a, b in zip(got, ref, strict=True):
        assert type(a) is type(b)
        assert len(a) == 2
        for ta, tb in zip(a, b, strict=True):
            assert ta.dtype == tb.dtype
            assert torch.equal(ta, tb)


def test_loader_batches_are_copies() -> None:
    x = torch.zeros(4, 1)
    loader = pt.SequentialTensorLoader(TensorDataset(x), batch_size=2)
    for (xb,) in loader:
        xb += 1.0
    assert torch.equal(x, torch.zeros(4, 1))


def test_loader_falls_back_to_the_ordinary_iteration_when_shuffled() -> None:
    x = torch.arange(20, dtype=torch.float32).reshape(20, 1)
    loader = pt.SequentialTensorLoader(TensorDataset(x), batch_size=4, shuffle=True)
    values = torch.cat([b[0] for b in loader]).flatten()
    assert sorted(values.tolist()) == list(range(20))


# ------------------------------------------------------------------ schedule


def test_schedule_sets_the_rate_of_every_group_on_listed_epochs_only() -> None:
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    groups: list[dict[str, Any]] = [{"params": a.parameters()}, {"params": b.parameters(), "lr": 0.5}]
    opt = torch.optim.SGD(groups, lr=0.1)
    pt.schedule(opt, 0, {1: 0.02})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    pt.schedule(opt, 1, {1: 0.02})
    assert [g["lr"] for g in opt.param_groups] == [0.02, 0.02]


def test_schedule_refuses_an_optimizer_class_and_says_why() -> None:
    with pytest.raises(TypeError, match="optimizer instance") as err:
        pt.schedule(torch.optim.SGD, 0, {0: 0.1})
    msg = str(err.value)
    assert "torch.optim.sgd.SGD" in msg
    assert "class" in msg
    assert "optimizer(model.parameters()" in msg
    with pytest.raises(TypeError, match="param_groups"):
        pt.schedule(object(), 3, {0: 0.1})


def test_bound_schedule_accepts_two_or_three_arguments() -> None:
    f = pt.bind_schedule({2: 0.3})
    opt = torch.optim.SGD(_model().parameters(), lr=0.1)
    f(opt, 2)
    assert opt.param_groups[0]["lr"] == 0.3
    f(opt, 4, {4: 0.7})
    assert opt.param_groups[0]["lr"] == 0.7


# ------------------------------------------------------------------ train


def _loaders(
    n: int = 256, batch: int = 32, weights: bool = False, dtype: torch.dtype = torch.float32
) -> tuple[DataLoader[Any], DataLoader[Any]]:
    x, y = _data(n)
    tensors = [t.to(dtype) for t in [x, y] + ([torch.ones(n)] if weights else [])]
    cut = n * 3 // 4
    tr = pt.SequentialTensorLoader(TensorDataset(*[t[:cut] for t in tensors]), batch_size=batch)
    va = pt.SequentialTensorLoader(TensorDataset(*[t[cut:] for t in tensors]), batch_size=batch)
    return tr, va


def test_train_follows_the_tutorial_loop_and_calls_save_best_each_epoch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[tuple[float, float]] = []

    def save_best(model: nn.Module, curr: float, best: float) -> float:
        calls.append((curr, best))
        return min(curr, best)

    history: list[dict[str, float]] = []
    # float64: the two loops differ only by rounding, far below the tolerance (TRAINING_ATOL_64)
    tr, va = _loaders(dtype=torch.float64)
    model = _model().double()
    with caplog.at_level(logging.INFO, logger="pymva.pytorch"):
        out = pt.train(
            model, tr, va, num_epochs=4, batch_size=32, optimizer=torch.optim.SGD,
            criterion=nn.MSELoss(), save_best=save_best, scheduler=(None, None),
            lr=0.5, device="cpu", history=history,
        )  # fmt: skip
    assert out is model
    assert len(calls) == 4
    # the first call gets best_val = the first epoch's loss: the first epoch is always saved
    assert calls[0][0] == calls[0][1]
    assert [h["val_loss"] for h in history] == [c[0] for c in calls]
    assert history[-1]["val_loss"] < history[0]["val_loss"]

    # the tutorial's loop written out (pytorch.md §4.2): same model, same batches, same numbers
    ref = _model().double()
    trainer = torch.optim.SGD(ref.parameters(), lr=0.5)
    criterion = nn.MSELoss()
    ref_val, ref_train = [], []
    for _ in range(4):
        ref.train()
        running = []
        for x, y in tr:
            trainer.zero_grad()
            loss = criterion(ref(x), y)
            loss.backward()
            trainer.step()
            running.append(loss.item())
        ref_train.append(sum(running) / len(running))
        ref.eval()
        with torch.no_grad():
            ref_val.append(sum(criterion(ref(x), y).item() for x, y in va) / len(va))
    for a, b in zip(model.parameters(), ref.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=TRAINING_ATOL_64)
    n_train, n_val = len(tr), len(va)
    assert [c[0] for c in calls] == pytest.approx(ref_val, rel=_loss_rel(n_val))
    assert [h["train_loss"] for h in history] == pytest.approx(ref_train, rel=_loss_rel(n_train))
    # best_val handed to save_best: the best of the epochs before (the first epoch's own loss at first)
    best = [min(ref_val[: max(i, 1)]) for i in range(4)]
    assert [c[1] for c in calls] == pytest.approx(best, rel=_loss_rel(n_val))
    assert "[1] val loss:" in caplog.text
    assert "Finished Training on 4 Epochs!" in caplog.text
    assert next(out.parameters()).device.type == "cpu"


def test_train_applies_the_schedule_after_each_epoch_to_the_instance() -> None:
    history: list[dict[str, float]] = []
    seen: list[tuple[Any, int]] = []

    def sched(opt: Any, epoch: int, steps: dict[int, float]) -> None:
        seen.append((opt, epoch))
        pt.schedule(opt, epoch, steps)

    tr, va = _loaders(64)
    pt.train(
        _model(), tr, va, 3, 32, torch.optim.SGD, nn.MSELoss(), None, (sched, {0: 0.05, 2: 0.01}),
        lr=0.1, device="cpu", history=history,
    )  # fmt: skip
    assert [e for _, e in seen] == [0, 1, 2]
    assert all(isinstance(o, torch.optim.SGD) for o, _ in seen)
    # history records the rate after the epoch's schedule call
    assert [h["lr"] for h in history] == [0.05, 0.05, 0.01]


def test_train_uses_an_optimizer_instance_as_given() -> None:
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    before = [p.detach().clone() for p in model.parameters()]
    tr, va = _loaders(64)
    pt.train(model, tr, va, 1, 32, opt, nn.MSELoss(), None, None, device="cpu")
    assert opt.state  # Adam state was filled: this instance did the steps
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_train_with_no_optimizer_uses_sgd() -> None:
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    tr, va = _loaders(64)
    pt.train(model, tr, va, 1, 32, None, nn.MSELoss(), None, None, device="cpu")
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    # exactly what torch.optim.SGD at the tutorials' learning rate 0.01 does
    ref = _model()
    pt.train(ref, tr, va, 1, 32, torch.optim.SGD, nn.MSELoss(), None, None, lr=0.01, device="cpu")
    for a, b in zip(model.parameters(), ref.parameters(), strict=True):
        assert torch.equal(a, b)
    other = _model()
    pt.train(other, tr, va, 1, 32, torch.optim.Adam, nn.MSELoss(), None, None, lr=0.01, device="cpu")
    assert any(not torch.equal(a, b) for a, b in zip(model.parameters(), other.parameters(), strict=True))


def test_weighted_loss_is_keras_sum_over_batch_size() -> None:
    out = torch.tensor([[0.2, 0.8], [0.6, 0.4], [1.0, 0.0]])
    y = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    w = torch.tensor([2.0, 0.0, 0.5])
    per = ((out - y) ** 2).mean(dim=1)
    loss = pt._Loss(nn.MSELoss())(out, y, w)
    # float32, 3 events of 2 columns: the same terms added in another order, bounded by sum_atol
    expected = (per * w).sum() / 3
    assert abs(float(loss) - float(expected)) <= sum_atol(2 * 3, float((per * w).abs().sum()) / 3)
    # unweighted: the criterion as it is
    assert torch.equal(pt._Loss(nn.MSELoss())(out, y, None), nn.MSELoss()(out, y))
    # a criterion without `reduction` gets the weights as third argument
    got: list[torch.Tensor] = []

    def custom(o: torch.Tensor, t: torch.Tensor, ww: torch.Tensor) -> torch.Tensor:
        got.append(ww)
        return ((o - t) ** 2).sum()

    pt._Loss(custom)(out, y, w)
    assert torch.equal(got[0], w)


def test_train_with_weights_ignores_zero_weight_events() -> None:
    """Events with weight 0 do not move the model: training equals training without them."""
    x, y = _data(64)
    w = torch.ones(64)
    w[::2] = 0.0
    y_noise = y.clone()
    y_noise[::2] = 1 - y_noise[::2]  # labels of zero-weight events flipped: they must not matter

    # float64: the weighted and the reduced trainings differ by rounding only (TRAINING_ATOL_64)
    x, y, w, y_noise = x.double(), y.double(), w.double(), y_noise.double()

    def run(loader_tensors: list[torch.Tensor], val: list[torch.Tensor]) -> list[torch.Tensor]:
        m = _model(3).double()
        pt.train(
            m, pt.SequentialTensorLoader(TensorDataset(*loader_tensors), batch_size=64),
            pt.SequentialTensorLoader(TensorDataset(*val), batch_size=64), 2, 64, torch.optim.SGD,
            nn.MSELoss(reduction="sum"), None, None, lr=0.1, device="cpu",
        )  # fmt: skip
        return [p.detach().clone() for p in m.parameters()]

    weighted = run([x, y_noise, w], [x, y, w])

    # same model trained on the odd events only, loss scaled by 1/64 as sum_over_batch_size does
    class Scaled(nn.Module):
        def forward(self, o: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return ((o - t) ** 2).mean(dim=1).sum() / 64

    m = _model(3).double()
    pt.train(
        m, pt.SequentialTensorLoader(TensorDataset(x[1::2], y[1::2]), batch_size=64),
        pt.SequentialTensorLoader(TensorDataset(x, y), batch_size=64), 2, 64, torch.optim.SGD,
        Scaled(), None, None, lr=0.1, device="cpu",
    )  # fmt: skip
    for a, b in zip(weighted, m.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=0, atol=TRAINING_ATOL_64)


def test_train_without_validation_batches_uses_the_training_loss() -> None:
    calls: list[float] = []

    def save_best(model: nn.Module, curr: float, best: float) -> float:
        calls.append(curr)
        return curr

    x, y = (t.double() for t in _data(64))  # float64: the losses agree up to float32 accumulation
    tr = pt.SequentialTensorLoader(TensorDataset(x, y), batch_size=32)
    va = pt.SequentialTensorLoader(TensorDataset(x[:0], y[:0]), batch_size=32)
    pt.train(
        _model().double(), tr, va, 1, 32, None, nn.MSELoss(), save_best, None,
        device="cpu",
    )  # fmt: skip
    assert len(calls) == 1
    # the mean of the epoch's two training-batch losses, each taken before its optimiser step
    ref = _model().double()
    trainer = torch.optim.SGD(ref.parameters(), lr=0.01)
    losses = []
    for xb, yb in tr:
        trainer.zero_grad()
        loss = nn.MSELoss()(ref(xb), yb)
        loss.backward()
        trainer.step()
        losses.append(loss.item())
    assert calls[0] == pytest.approx(sum(losses) / 2, rel=_loss_rel(2))


def test_validation_loss_is_computed_in_eval_mode() -> None:
    """The tutorial loop switches to model.eval() for the validation loss: dropout is off there."""
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 16), nn.Dropout(0.5), nn.Linear(16, 2)).double()
    tr, va = _loaders(64, dtype=torch.float64)  # float64: the same losses up to float32 accumulation
    history: list[dict[str, float]] = []
    pt.train(
        model, tr, va, 1, 32, torch.optim.SGD, nn.MSELoss(), None, None,
        lr=0.0, device="cpu", history=history,
    )  # fmt: skip
    model.eval()
    with torch.no_grad():
        expected = sum(nn.MSELoss()(model(x), y).item() for x, y in va) / len(va)
    assert history[0]["val_loss"] == pytest.approx(expected, rel=_loss_rel(len(va)))


def test_train_stops_early_with_patience() -> None:
    history: list[dict[str, float]] = []
    tr, va = _loaders(64)
    pt.train(
        _model(), tr, va, 50, 32, torch.optim.SGD, nn.MSELoss(), None, None,
        lr=0.0, device="cpu", patience=2, history=history,
    )  # fmt: skip
    assert len(history) == 3  # lr 0: no improvement after the first epoch


class _Terminal(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _train_quietly(progress: bool | None = None) -> None:
    tr, va = _loaders(64)
    pt.train(
        _model(), tr, va, 3, 32, torch.optim.SGD, nn.MSELoss(), None, None,
        device="cpu", progress=progress,
    )  # fmt: skip


def test_progress_bar_over_epochs_with_the_losses_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with caplog.at_level(logging.INFO, logger="pymva.pytorch"):
        _train_quietly(progress=True)
    text = err.getvalue()
    assert "Epochs" in text
    assert "3/3" in text  # one step per epoch
    assert "loss=" in text
    assert "val_loss=" in text
    # the bar shows the epoch's losses: the per-epoch line drops to VERBOSE, the summary stays
    assert "val loss:" not in caplog.text
    assert "Finished Training on 3 Epochs!" in caplog.text


@pytest.mark.parametrize("progress", [True, None, False])
def test_no_progress_bar_off_a_terminal_only_plain_log_lines(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, progress: bool | None
) -> None:
    """A log file or a pipe gets plain lines: no bar and no carriage-return redraws."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with caplog.at_level(logging.INFO, logger="pymva.pytorch"), pt.progress_requested(True):
        _train_quietly(progress=progress)
    assert err.getvalue() == ""
    epochs = [r for r in caplog.records if " val loss: " in r.getMessage()]
    assert [r.getMessage().split(" ")[0] for r in epochs] == ["[1]", "[2]", "[3]"]
    assert all(r.levelno == logging.INFO for r in epochs)


@pytest.mark.parametrize(("requested", "expect_bar"), [(True, True), (False, False)])
def test_progress_none_follows_what_the_caller_requested(
    monkeypatch: pytest.MonkeyPatch, requested: bool, expect_bar: bool
) -> None:
    """MethodPyTorch calls train with TMVA's arguments only; the Factory's DrawProgressBar reaches it."""
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with pt.progress_requested(requested):
        _train_quietly()
    assert ("val_loss=" in err.getvalue()) is expect_bar
    _train_quietly()  # outside the block: nothing requested
    assert ("val_loss=" in err.getvalue()) is expect_bar


def test_train_rejects_malformed_batches() -> None:
    x, _ = _data(8)
    loader = pt.SequentialTensorLoader(TensorDataset(x), batch_size=4)
    with pytest.raises(ValueError, match=r"\(X, y\) or \(X, y, w\)"):
        pt.train(_model(), loader, loader, 1, 4, None, nn.MSELoss(), None, None, device="cpu")


# ------------------------------------------------------------------ predict


def test_predict_returns_float32_c_contiguous_in_batches_and_restores_the_mode() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    model.train()
    x = np.random.default_rng(0).normal(size=(103, 3))  # float64 on purpose
    a = pt.predict(model, x, batch_size=10)
    b = pt.predict(model, x)
    assert a.dtype == np.float32
    assert a.shape == (103, 2)
    assert a.flags.c_contiguous
    # eval mode: dropout off, so batches agree -- up to the order in which each dot product is added,
    # which the BLAS chooses per batch shape and CPU (a fixed rtol failed elsewhere by 3e-8)
    atol = network_atol(model, x)
    assert_within(a, b, atol)
    with torch.no_grad():
        model.eval()
        ref = model(torch.tensor(x, dtype=torch.float32)).numpy()
    assert_within(a, ref, atol)
    model.train()
    pt.predict(model, x)
    assert model.training


def test_predict_on_torchscript_read_only_and_empty_inputs() -> None:
    model = torch.jit.script(_model())
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    x.flags.writeable = False
    out = pt.predict(model, x)
    assert out.shape == (4, 2)
    with torch.no_grad():
        ref = _model()
        assert_within(out, ref(torch.tensor(x)).numpy(), network_atol(ref, x))
    assert pt.predict(model, np.zeros((0, 3), np.float32)).shape == (0, 2)
    with pytest.raises(ValueError, match="batch_size"):
        pt.predict(model, x, batch_size=0)
