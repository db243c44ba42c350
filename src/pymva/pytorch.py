"""Ready-made PyTorch functions for ``load_model_custom_objects`` (a pymva extension).

TMVA's ``MethodPyTorch`` leaves the whole training loop and the prediction to the user, who puts them
into a dict called ``load_model_custom_objects`` (``../shared/tmva/pytorch.md`` §4).  The ROOT
tutorials all copy the same two functions; this module provides them once, generalised::

    import torch
    import pymva.pytorch

    load_model_custom_objects = {
        "optimizer": torch.optim.Adam,        # a class (TMVA's convention) or an instance
        "criterion": torch.nn.MSELoss(),
        "train_func": pymva.pytorch.train,
        "predict_func": pymva.pytorch.predict,
    }

* :func:`train` — the tutorials' epoch loop: the optimizer class *or* instance, the learning-rate
  schedule applied to the optimizer instance after each epoch, ``save_best`` called as the tutorials
  call it (so the first epoch is always saved), event weights in the loss when the loaders yield
  ``(X, y, w)`` (booking option ``EventWeights``), CUDA when available, progress through
  :mod:`logging` or, in a terminal, a tqdm bar over the epochs, optional early stopping and a
  per-epoch history.
* :func:`predict` — batched, gradient-free evaluation in eval mode on the model's device, returning
  the float32 ``(n_events, n_outputs)`` numpy array that ``MethodPyTorch`` expects.
* :func:`schedule` — the learning-rate step function TMVA hands to ``train_func`` as
  ``scheduler[0]``; it needs the optimizer *instance*.
* :class:`SequentialTensorLoader` — the ``DataLoader`` class ``MethodPyTorch`` builds: a
  ``torch.utils.data.DataLoader`` over a ``TensorDataset`` with ``shuffle=False`` whose iteration
  slices the tensors directly instead of collating event by event (same batches, several times
  faster).

To keep to ROOT's tutorial functions instead, put them in the dict: pymva calls them exactly as TMVA does.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import logging
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch.utils.data import DataLoader, SequentialSampler, TensorDataset

from .errors import OptionError
from .logger import VERBOSE, stderr_is_terminal

__all__ = [
    "SequentialTensorLoader",
    "ShuffleBufferLoader",
    "predict",
    "progress_requested",
    "schedule",
    "train",
]

log = logging.getLogger("pymva.pytorch")

#: Whether the code that calls :func:`train` asked for progress bars (``MethodPyTorch`` sets it from
#: the Factory's ``DrawProgressBar``); read by ``train(progress=None)``.
_PROGRESS_REQUESTED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "pymva_pytorch_progress_requested", default=False
)

#: Events per shuffle window when MethodPyTorch trains from a ``Streaming=True`` loader.
STREAM_BUFFER_EVENTS = 1 << 18

Steps = Mapping[int, float]
SchedulerArg = tuple[Callable[..., Any] | None, Steps | None]


class SequentialTensorLoader(DataLoader):  # type: ignore[type-arg]
    """A ``DataLoader(TensorDataset(...), batch_size=n, shuffle=False)`` that iterates fast.

    It is a :class:`torch.utils.data.DataLoader` in every respect (``dataset``, ``batch_size``,
    ``sampler``, ``len()``), and yields the same batches as the plain class: lists of tensors, one per
    tensor of the dataset, consecutive events in order, the last batch possibly smaller.  Instead of
    indexing the dataset event by event and stacking (the default collation), a single-process
    iteration slices each tensor once per batch and copies the slice, which removes most of the
    loader's overhead in small-batch training.  Other configurations (workers, a sampler) use the
    ordinary ``DataLoader`` iteration.

    Parameters
    ----------
    dataset : TensorDataset
    batch_size : int
    **kwargs
        Passed on to :class:`torch.utils.data.DataLoader` (``shuffle`` defaults to ``False``).
    """

    def __init__(self, dataset: TensorDataset, batch_size: int, **kwargs: Any) -> None:
        kwargs.setdefault("shuffle", False)
        super().__init__(dataset, batch_size=batch_size, **kwargs)

    def _fast(self) -> bool:
        return (
            isinstance(self.dataset, TensorDataset)
            and isinstance(self.sampler, SequentialSampler)
            and self.num_workers == 0
            and self.batch_size is not None
            and not self.drop_last
            and not self.pin_memory
        )

    def __iter__(self) -> Iterator[list[torch.Tensor]]:  # type: ignore[override]
        if not self._fast():
            return super().__iter__()
        return self._slices()

    def _slices(self) -> Iterator[list[torch.Tensor]]:
        dataset = self.dataset
        assert isinstance(dataset, TensorDataset)
        tensors = dataset.tensors
        n = len(dataset)
        size = int(self.batch_size or 1)
        for start in range(0, n, size):
            yield [t[start : start + size].clone() for t in tensors]


class ShuffleBufferLoader:
    """Shuffled batches from a stream of chunks, one pass over the stream per epoch (pymva extension).

    For training out of memory (:meth:`pymva.data.loader.DataLoader.stream`): chunks are collected
    until at least ``buffer_size`` events are held, that window is permuted and cut into batches,
    and the events left over (fewer than a batch) are carried into the next window.  Events are
    therefore mixed within windows of about ``buffer_size`` events (a window at least as large as the
    sample gives a full shuffle), and memory stays about two windows.  Each epoch reads the stream
    again and draws a new permutation (``numpy.random.default_rng([seed, epoch])``), so a run is
    reproducible.  :func:`train` accepts it like any iterable of batches.

    Parameters
    ----------
    source : callable
        ``source()`` returns an iterable of chunks, each a tuple of arrays with equal first
        dimension, e.g. ``(X, y, w)``; called once per epoch.
    batch_size : int
        Events per batch (> 0); the epoch's last batch may be smaller unless ``drop_last``.
    buffer_size : int
        Events per shuffle window (> 0).
    seed : int
    drop_last : bool

    Yields
    ------
    list of torch.Tensor
        One tensor per array of the chunks (``torch.from_numpy`` of a copy), ``batch_size`` rows.

    Raises
    ------
    OptionError
        ``batch_size`` or ``buffer_size`` below 1, or a chunk whose arrays differ in length.
    """

    def __init__(
        self,
        source: Callable[[], Iterable[tuple[npt.NDArray[Any], ...]]],
        batch_size: int,
        *,
        buffer_size: int = 1 << 18,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if int(batch_size) < 1 or int(buffer_size) < 1:
            raise OptionError(f"batch_size ({batch_size}) and buffer_size ({buffer_size}) must be at least 1")
        self.source = source
        self.batch_size = int(batch_size)
        self.buffer_size = int(buffer_size)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0

    @classmethod
    def from_stream(
        cls,
        loader: Any,
        batch_size: int,
        *,
        which: str = "train",
        outputs: str = "signal",
        signal_class: int = 0,
        n_classes: int = 2,
        event_weights: bool = True,
        **kwargs: Any,
    ) -> ShuffleBufferLoader:
        """Batches ``(X, y[, w])`` from a DataLoader's :meth:`~pymva.data.loader.DataLoader.stream`.

        Parameters
        ----------
        loader : pymva.data.loader.DataLoader
            With ``PrepareTrainingAndTestTree`` called.
        batch_size : int
        which : {"train", "test"}
        outputs : {"signal", "onehot", "targets"}
            ``y`` as MethodPyTorch builds it: the signal flag ``(n, 1)`` for a one-output
            classifier, one-hot classes ``(n, n_classes)``, or the regression targets.
        signal_class, n_classes : int
            For ``outputs="signal"`` and ``"onehot"``.
        event_weights : bool
            Append the (input, not renormalised) event weights to every batch.
        **kwargs
            ``buffer_size``, ``seed``, ``drop_last``.

        Raises
        ------
        OptionError
            An ``outputs`` not in the list, or as the constructor.
        """
        if outputs not in ("signal", "onehot", "targets"):
            raise OptionError(f"outputs={outputs!r}: 'signal', 'onehot' or 'targets' are accepted")

        def source() -> Iterator[tuple[npt.NDArray[Any], ...]]:
            for chunk in loader.stream(which):
                if outputs == "targets":
                    y = chunk.targets
                elif outputs == "signal":
                    y = (chunk.class_id == signal_class).astype(np.float32).reshape(-1, 1)
                else:
                    y = np.zeros((len(chunk), n_classes), np.float32)
                    y[np.arange(len(chunk)), chunk.class_id] = 1.0
                yield (chunk.X, y, chunk.weights) if event_weights else (chunk.X, y)

        return cls(source, batch_size, **kwargs)

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        pending: list[tuple[npt.NDArray[Any], ...]] = []
        held = 0
        size = self.batch_size
        for chunk in self.source():
            arrays = tuple(np.asarray(a) for a in chunk)
            lengths = {len(a) for a in arrays}
            if len(lengths) > 1:
                raise OptionError(f"a chunk's arrays differ in length: {sorted(lengths)}")
            if not arrays or not lengths or lengths == {0}:
                continue
            pending.append(arrays)
            held += len(arrays[0])
            if held < self.buffer_size:
                continue
            window = [np.concatenate(parts) for parts in zip(*pending, strict=True)]
            perm = rng.permutation(held)
            n_full = (held // size) * size
            for a in range(0, n_full, size):
                idx = perm[a : a + size]
                yield [torch.from_numpy(np.ascontiguousarray(w[idx])) for w in window]
            rest = perm[n_full:]
            pending = [tuple(w[rest] for w in window)] if len(rest) else []
            held = len(rest)
        if held:
            window = [np.concatenate(parts) for parts in zip(*pending, strict=True)]
            perm = rng.permutation(held)
            stop = (held // size) * size if self.drop_last else held
            for a in range(0, stop, size):
                idx = perm[a : a + size]
                yield [torch.from_numpy(np.ascontiguousarray(w[idx])) for w in window]


def schedule(optimizer: Any, epoch: int, schedulerSteps: Steps) -> None:
    """Set the learning rate of every parameter group when ``epoch`` is a key of ``schedulerSteps``.

    This is the function TMVA passes to ``train_func`` as ``scheduler[0]`` (with
    ``scheduler[1]`` the steps parsed from ``LearningRateSchedule``).  Call it once per epoch, after
    that epoch's batches, with the 0-based epoch index, as the ROOT tutorials do: an entry
    ``50,0.01`` changes the rate from the 0-based epoch 51 on.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer **instance** (the object whose ``param_groups`` hold the learning rates).
    epoch : int
        0-based epoch index.
    schedulerSteps : mapping of int to float
        Epoch → learning rate, e.g. ``{50: 0.01, 70: 0.005}``.

    Raises
    ------
    TypeError
        If ``optimizer`` is a class (such as ``torch.optim.SGD``) or has no ``param_groups``.  The
        ROOT tutorials' loops pass the class they received as ``optimizer`` and would fail here:
        pass the instance they create from it instead.
    """
    if isinstance(optimizer, type) or not hasattr(optimizer, "param_groups"):
        what = (
            f"the class {optimizer.__module__}.{optimizer.__qualname__}"
            if isinstance(optimizer, type)
            else f"{type(optimizer).__name__} object without param_groups"
        )
        raise TypeError(
            f"schedule() needs the optimizer instance whose param_groups hold the learning rates, "
            f"got {what}. The training loops of the ROOT tutorials call schedule(optimizer, epoch, "
            f"schedulerSteps) with the optimizer *class* they received; call it with the instance "
            f"created from it instead, e.g. opt = optimizer(model.parameters(), lr=0.01) and then "
            f"schedule(opt, epoch, schedulerSteps), or use pymva.pytorch.train, which does this."
        )
    if epoch in schedulerSteps:
        lr = float(schedulerSteps[epoch])
        for group in optimizer.param_groups:
            group["lr"] = lr
        log.info("Epoch %d: learning rate set to %g", epoch + 1, lr)


def bind_schedule(steps: Steps) -> Callable[..., None]:
    """Return :func:`schedule` with ``schedulerSteps`` defaulting to ``steps`` (TMVA's signature).

    The result accepts both ``f(optimizer, epoch)`` and ``f(optimizer, epoch, schedulerSteps)``.
    """

    def scheduled(optimizer: Any, epoch: int, schedulerSteps: Steps = steps) -> None:
        schedule(optimizer, epoch, schedulerSteps)

    scheduled.__name__ = scheduled.__qualname__ = "schedule"
    scheduled.__doc__ = schedule.__doc__
    return scheduled


@contextmanager
def progress_requested(requested: bool) -> Iterator[None]:
    """Within the block, ``train(progress=None)`` draws its epoch bar when ``requested`` is true.

    ``MethodPyTorch`` wraps its call of ``train_func`` in this with the Factory's
    ``DrawProgressBar`` (and not ``Silent``), so that :func:`train`, called with TMVA's arguments
    only, follows the Factory's option.  The bar still appears only when standard error is a
    terminal.

    Parameters
    ----------
    requested : bool
    """
    token = _PROGRESS_REQUESTED.set(bool(requested))
    try:
        yield
    finally:
        _PROGRESS_REQUESTED.reset(token)


def _epoch_bar(num_epochs: int, progress: bool | None) -> Any:
    """A tqdm bar over the epochs on ``sys.stderr``, or ``None`` when it is not to be shown."""
    wanted = _PROGRESS_REQUESTED.get() if progress is None else bool(progress)
    if not wanted or not stderr_is_terminal():
        return None
    from tqdm import tqdm

    # mininterval 0: every epoch's losses are drawn (an epoch takes far longer than a redraw)
    return tqdm(
        total=int(num_epochs), desc="Epochs", unit="epoch", leave=False, file=sys.stderr, mininterval=0
    )


def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _per_sample(loss: torch.Tensor, n: int) -> torch.Tensor:
    """Reduce an unreduced loss to one value per event (mean over all non-batch dimensions)."""
    if loss.dim() == 0:
        raise ValueError("the criterion returned a scalar although reduction='none' was requested")
    if loss.dim() == 1:
        return loss
    return loss.reshape(n, -1).mean(dim=1)


class _Loss:
    """The criterion, optionally weighted per event.

    Without weights the criterion is called as ``criterion(output, y)``.  With weights ``w``:

    * a criterion with a ``reduction`` attribute (every ``torch.nn`` loss module) is copied with
      ``reduction='none'``; the per-event losses ``l_i`` (mean over the output columns) give
      ``sum(w_i * l_i) / n_batch`` — Keras's ``sample_weight`` convention, as PyKeras uses it;
    * any other callable is called as ``criterion(output, y, w)``.
    """

    def __init__(self, criterion: Callable[..., torch.Tensor]) -> None:
        self.criterion = criterion
        self._unreduced: Callable[..., torch.Tensor] | None = None
        if isinstance(getattr(criterion, "reduction", None), str):
            unreduced = copy.copy(criterion)
            unreduced.reduction = "none"  # type: ignore[attr-defined]
            self._unreduced = unreduced

    def __call__(self, output: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        if w is None:
            return self.criterion(output, y)
        if self._unreduced is None:
            return self.criterion(output, y, w)
        per = _per_sample(self._unreduced(output, y), len(w))
        return (per * w.reshape(-1).to(per.dtype)).sum() / max(len(w), 1)


def _unpack(batch: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    if len(batch) == 3:
        x, y, w = batch
        return x.to(device), y.to(device), w.to(device)
    if len(batch) == 2:
        x, y = batch
        return x.to(device), y.to(device), None
    raise ValueError(f"a batch must be (X, y) or (X, y, w), got {len(batch)} elements")


def train(
    model: torch.nn.Module,
    train_loader: Iterable[Any],
    val_loader: Iterable[Any],
    num_epochs: int,
    batch_size: int,
    optimizer: type[torch.optim.Optimizer] | torch.optim.Optimizer | None,
    criterion: Callable[..., torch.Tensor],
    save_best: Callable[..., float] | None,
    scheduler: SchedulerArg | None,
    *,
    lr: float = 0.01,
    device: str | torch.device | None = None,
    log_every: int | None = 32,
    patience: int | None = None,
    history: list[dict[str, float]] | None = None,
    progress: bool | None = None,
) -> torch.nn.Module:
    """Train ``model``: the ROOT tutorials' loop, usable as ``train_func``.

    Called by ``MethodPyTorch`` as ``train(model, train_loader, val_loader, num_epochs=…,
    batch_size=…, optimizer=…, criterion=…, save_best=…, scheduler=(schedule, steps))``.  Each epoch:
    the training batches (zero grads, forward, loss, backward, step), then the schedule (if any) with
    the 0-based epoch index, then the validation loss — the mean of the per-batch losses, as the
    tutorials compute it — and ``save_best(model, val_loss, best_val)`` with ``best_val`` set to the
    first epoch's loss before the first call (so the first epoch is always saved).

    Parameters
    ----------
    model : torch.nn.Module
        The (TorchScript) model; trained in place and returned on the CPU.
    train_loader, val_loader : iterable of batches
        Batches ``(X, y)`` or, with event weights, ``(X, y, w)``.  An empty ``val_loader`` makes the
        mean training loss of the epoch stand in for the validation loss.
    num_epochs : int
    batch_size : int
        Unused (the loaders are already batched); part of TMVA's call.
    optimizer : optimizer class, optimizer instance or None
        A class (TMVA's convention, e.g. ``torch.optim.SGD``) is instantiated with
        ``optimizer(model.parameters(), lr=lr)``; an instance is used as it is; ``None`` means SGD.
    criterion : callable
        The loss, ``criterion(output, y)``.  With weighted batches see the weighting rule below.
    save_best : callable or None
        TMVA's ``save_best(model, curr_val, best_val)``; returns the new best value.
    scheduler : (callable or None, dict or None)
        TMVA's ``(schedule, schedulerSteps)``; the schedule is called with the optimizer instance.
    lr : float, keyword-only
        Learning rate given to an optimizer class (0.01 as in the tutorials).
    device : str or torch.device, keyword-only
        Where to train; default ``"cuda"`` when available, else the CPU.  Batches are moved there.
    log_every : int or None, keyword-only
        Log the mean training loss of the last ``log_every`` batches every ``log_every`` batches
        (``"[epoch, batch] train loss: x.xxx"``, as the tutorials print it) at pymva's VERBOSE level
        (shown with the Factory's ``V`` option); ``None`` or 0: none.  The per-epoch line
        ``"[epoch] val loss: x.xxx"`` is logged at INFO level (at VERBOSE level while the progress
        bar shows the same numbers).
    patience : int or None, keyword-only
        Stop early when the validation loss has not improved for this many epochs.
    history : list, keyword-only
        If given, one dict per epoch is appended: ``epoch`` (1-based), ``train_loss``, ``val_loss``,
        ``lr``.
    progress : bool or None, keyword-only
        Draw a tqdm bar over the epochs, with the epoch's training loss and validation loss in its
        postfix, on standard error -- only when standard error is a terminal, so that log files get
        plain log lines and no carriage-return redraws.  ``None`` (the default): as the caller
        asked with :func:`progress_requested` (inside a Factory: its ``DrawProgressBar`` option),
        else no bar.  While the bar is shown, pymva's log lines are written above it.

    Returns
    -------
    torch.nn.Module
        The trained model, on the CPU.

    Notes
    -----
    Event weights (batches ``(X, y, w)``): a criterion with a ``reduction`` attribute (every
    ``torch.nn`` loss) is evaluated per event with ``reduction='none'`` (mean over the output
    columns) and the batch loss is ``sum(w_i * l_i) / n_batch``, the convention of Keras's
    ``sample_weight`` (which TMVA's PyKeras uses); any other criterion is called as
    ``criterion(output, y, w)``.  Validation losses are weighted the same way.
    """
    dev = torch.device(device) if device is not None else _default_device()
    model.to(dev)
    net, rank, world = _distributed(model, dev)
    if isinstance(criterion, torch.nn.Module) and dev.type != "cpu":
        criterion.to(dev)
    if optimizer is None:
        optimizer = torch.optim.SGD
    opt: Any = optimizer(model.parameters(), lr=lr) if isinstance(optimizer, type) else optimizer  # type: ignore[call-arg]
    sched_fn, sched_steps = scheduler if scheduler is not None else (None, None)
    loss_fn = _Loss(criterion)
    every = int(log_every) if log_every else 0
    n_epochs = int(num_epochs)
    best_val: float | None = None
    best_seen = math.inf
    stale = 0
    with ExitStack() as stack:
        bar = _epoch_bar(n_epochs, progress)
        if bar is not None:
            from tqdm.contrib.logging import logging_redirect_tqdm

            stack.callback(bar.close)
            stack.enter_context(logging_redirect_tqdm(loggers=[logging.getLogger("pymva")]))
        epoch_level = VERBOSE if bar is not None else logging.INFO
        for epoch in range(n_epochs):
            model.train()
            total = torch.zeros((), device=dev)
            window = torch.zeros((), device=dev)
            n_batches = 0
            joined = net.join() if world > 1 else contextlib.nullcontext()
            with joined:  # ranks may have different numbers of batches
                for i, batch in enumerate(train_loader):
                    x, y, w = _unpack(batch, dev)
                    opt.zero_grad()
                    loss = loss_fn(net(x), y, w)
                    loss.backward()  # type: ignore[no-untyped-call]
                    opt.step()
                    value = loss.detach()
                    total += value
                    n_batches += 1
                    if every:
                        window += value
                        if (i + 1) % every == 0:
                            log.log(
                                VERBOSE, "[%d, %d] train loss: %.3f", epoch + 1, i + 1, float(window) / every
                            )
                            window.zero_()
            train_loss = float(total) / max(n_batches, 1)

            if sched_fn is not None:
                if sched_steps is None:
                    sched_fn(opt, epoch)
                else:
                    sched_fn(opt, epoch, sched_steps)

            model.eval()
            val_total = torch.zeros((), device=dev)
            n_val = 0
            with torch.no_grad():
                for batch in val_loader:
                    x, y, w = _unpack(batch, dev)
                    val_total += loss_fn(model(x), y, w)
                    n_val += 1
            if world > 1:  # every rank sees the same losses (the same best epoch, the same early stop)
                sums = torch.tensor(
                    [float(val_total), float(n_val), float(total), float(n_batches)], dtype=torch.float64
                )
                torch.distributed.all_reduce(sums)
                val_total, n_val = sums[0], int(sums[1])
                train_loss = float(sums[2]) / max(float(sums[3]), 1.0)
            curr_val = float(val_total) / n_val if n_val else train_loss

            if save_best is not None:
                if best_val is None:
                    best_val = curr_val
                if rank == 0:  # only rank 0 writes files
                    best_val = save_best(model, curr_val, best_val)
                else:
                    best_val = min(best_val, curr_val)
            log.log(epoch_level, "[%d] val loss: %.3f", epoch + 1, curr_val)
            if bar is not None:
                bar.set_postfix(loss=f"{train_loss:.4g}", val_loss=f"{curr_val:.4g}", refresh=False)
                bar.update()
            if history is not None:
                history.append(
                    {
                        "epoch": float(epoch + 1),
                        "train_loss": train_loss,
                        "val_loss": curr_val,
                        "lr": float(opt.param_groups[0]["lr"]) if opt.param_groups else math.nan,
                    }
                )
            if patience is not None:
                if curr_val < best_seen:
                    best_seen, stale = curr_val, 0
                else:
                    stale += 1
                    if stale >= patience:
                        log.info(
                            "Early stopping after epoch %d: no improvement for %d epochs", epoch + 1, stale
                        )
                        break

    log.info("Finished Training on %d Epochs!", n_epochs)
    model.to(torch.device("cpu"))
    return model


def _distributed(model: torch.nn.Module, dev: torch.device) -> tuple[Any, int, int]:
    """``(network to train, rank, world size)``: under ``torch.distributed`` with several processes the
    model wrapped in ``DistributedDataParallel`` (gradients averaged over the ranks at each step),
    otherwise the model itself with rank 0 of 1."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return model, 0, 1
    from torch.nn.parallel import DistributedDataParallel

    rank, world = dist.get_rank(), dist.get_world_size()
    if isinstance(model, DistributedDataParallel):
        return model, rank, world
    ids = [dev] if dev.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids), rank, world


def _model_device(model: torch.nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")


def predict(
    model: torch.nn.Module,
    X: npt.ArrayLike,
    batch_size: int = 4096,
    *,
    device: str | torch.device | None = None,
) -> npt.NDArray[np.float32]:
    """Evaluate ``model`` on ``X``: the ROOT tutorials' prediction function, usable as ``predict_func``.

    The model is put in eval mode (its previous mode is restored afterwards) and evaluated without
    gradients, batch by batch.

    Parameters
    ----------
    model : torch.nn.Module
    X : array_like, shape (n_events, n_variables)
        Converted to float32.
    batch_size : int
        Events per forward pass.
    device : str or torch.device, keyword-only
        Where to evaluate; the model is moved there.  Default: the device the model's parameters are
        on (the CPU for models ``MethodPyTorch`` loads), so single-event calls never move the model.

    Returns
    -------
    ndarray of float32, shape (n_events, n_outputs)
        C-contiguous, on the CPU.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    arr = np.ascontiguousarray(X, dtype=np.float32)
    if device is not None:
        dev = torch.device(device)
        model.to(dev)
    else:
        dev = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            xt = torch.from_numpy(arr) if arr.flags.writeable else torch.tensor(arr)
            n = len(arr)
            if n <= batch_size:
                out = model(xt.to(dev))
                return np.ascontiguousarray(out.float().cpu().numpy(), dtype=np.float32)
            parts = [
                model(xt[start : start + batch_size].to(dev)).float().cpu()
                for start in range(0, n, batch_size)
            ]
            return np.ascontiguousarray(torch.cat(parts).numpy(), dtype=np.float32)
    finally:
        model.train(was_training)
