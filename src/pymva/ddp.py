"""This process's place in a ``torch.distributed`` job (DDP under ``torchrun``; a pymva extension).

TMVA runs in one process.  pymva's :func:`pymva.pytorch.train` also runs under ``torchrun`` with a
process group initialised (``torch.distributed.init_process_group``); then every rank runs the same
Factory job, and

* MethodPyTorch trains each rank on its own shard of the training (and validation) events, while
  DDP averages the gradients: in memory the ``i``-th event goes to rank ``i mod world size``
  (:func:`shard_mask`); with ``Streaming=True`` each rank reads only its own chunks of entries
  (chunk ``j`` of a class to rank ``j mod world size``,
  :meth:`pymva.data.stream.StreamedDataSet.chunks`) once the transformations are fitted, or, when
  the trees cannot be read that way (events in memory, fewer chunks than ranks), keeps the
  positions ``i mod world size`` of the whole stream;
* only rank 0 writes files: the weights files, the trained model, the output ROOT file (the
  Factory's test and evaluation steps, which need the trained model file, run on rank 0 only).

Asking does not import torch: a process that has not imported torch is not in a process group.
"""

from __future__ import annotations

import sys

import numpy as np
import numpy.typing as npt

__all__ = ["is_writer", "process_rank", "shard_mask"]


def process_rank() -> tuple[int, int]:
    """``(rank, world size)`` of this process: ``(0, 1)`` outside an initialised process group.

    Returns
    -------
    (int, int)
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return 0, 1
    dist = getattr(torch, "distributed", None)
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return 0, 1
    return int(dist.get_rank()), int(dist.get_world_size())


def is_writer() -> bool:
    """Whether this process writes the job's files: rank 0, or a process outside a process group."""
    return process_rank()[0] == 0


def shard_mask(first: int, n: int, rank: int, world: int) -> npt.NDArray[np.bool_]:
    """Which of the events ``first … first + n - 1`` (stream positions) belong to ``rank``.

    Event ``i`` belongs to rank ``i mod world``: the shards are disjoint, cover every event and differ
    in size by at most one.

    Parameters
    ----------
    first, n : int
        Position of the first event and number of events.
    rank, world : int
        This rank and the world size (``0 <= rank < world``).

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    mask: npt.NDArray[np.bool_] = (np.arange(first, first + n, dtype=np.int64) % world) == rank
    return mask
