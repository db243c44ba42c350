"""Worker processes for the envelopes' trainings (TMVA's ``ROOT::TProcessExecutor``), on :mod:`concurrent.futures`.

:func:`run_jobs` maps a function over jobs, in the calling process (one worker) or in a pool of
worker processes, and returns the results **in job order** whatever the number of workers.  The
results do not depend on the number of workers either: every job starts from random states seeded from
the job itself (:func:`seeded`), not from what ran before it in the same process.

Processes are started with ``fork`` where the platform has it: a TMVA script usually runs at the top
level of its file without an ``if __name__ == "__main__":`` guard, which ``spawn`` would run again in
every worker; and the trainings find the user's ``load_model_custom_objects`` (PyTorch) in
``__main__`` as in the main process.  Each worker limits torch and BLAS to its share of the CPUs, so
that the workers do not compete for cores.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import numpy as np

from ..errors import ModelError, PyMVAError

__all__ = ["in_worker", "job_seed", "resolve_workers", "run_jobs", "seeded"]

J = TypeVar("J")
R = TypeVar("R")

_IN_WORKER = False
_WORKER_LIMITS: Any = None


def resolve_workers(n: int) -> int:
    """The number of workers for an option value: ``0`` means one per CPU."""
    n = int(n)
    return max(1, os.cpu_count() or 1) if n == 0 else max(1, n)


def in_worker() -> bool:
    """Whether this process is one of :func:`run_jobs`' worker processes."""
    return _IN_WORKER


def job_seed(*parts: object) -> int:
    """A 32-bit seed from a job's identity (its title, fold, …): the same wherever the job runs."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode())


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Python's, numpy's and (when loaded) torch's global random states; restore them afterwards.

    Methods that draw from the global generators (a network's initialisation or dropout, an unseeded
    scikit-learn estimator) then give the same result for the same job, in any process and after any
    other job.
    """
    py_state = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002 - the global state the methods may draw from
    torch = sys.modules.get("torch")
    torch_state = torch.random.get_rng_state() if torch is not None else None
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    if torch is not None:
        torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
        if torch is not None and torch_state is not None:
            torch.random.set_rng_state(torch_state)


def _init_worker(threads: int) -> None:
    """Worker start: mark the process, and limit torch and BLAS to ``threads`` threads."""
    global _IN_WORKER, _WORKER_LIMITS
    _IN_WORKER = True
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    with contextlib.suppress(Exception):
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        _WORKER_LIMITS = threadpool_limits(limits=threads)


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run_jobs(fn: Callable[[J], R], jobs: Sequence[J], workers: int) -> list[R]:
    """``[fn(job) for job in jobs]``, in ``workers`` processes when more than one.

    Parameters
    ----------
    fn : callable
        A module-level function (it is sent to the workers by name).
    jobs : sequence
        Picklable job descriptions.
    workers : int
        Number of worker processes; 1 runs every job here, in order.

    Returns
    -------
    list
        The results in the order of ``jobs``.

    Raises
    ------
    PyMVAError
        The first error a job raised (in job order), as it was raised.
    ModelError
        When a worker process died (killed for memory, say) or a job's result could not be sent back.
    """
    if workers <= 1 or len(jobs) <= 1:
        return [fn(job) for job in jobs]
    n = min(workers, len(jobs))
    threads = max(1, (os.cpu_count() or 1) // n)
    try:
        with ProcessPoolExecutor(
            max_workers=n, mp_context=_context(), initializer=_init_worker, initargs=(threads,)
        ) as pool:
            return list(pool.map(fn, jobs))
    except PyMVAError:
        raise
    except BrokenProcessPool as exc:
        raise ModelError(
            f"a worker process died while training ({exc}); run with fewer workers (NumWorkers=1) to see why"
        ) from exc
    except Exception as exc:
        raise ModelError(
            f"a training in a worker process failed: {type(exc).__name__}: {exc}; run with NumWorkers=1 to see "
            "it in this process"
        ) from exc
