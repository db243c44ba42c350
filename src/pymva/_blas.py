"""Limit BLAS to one thread around skinny matrix products.

pymva's matrix products are thin (``(n, k)ᵀ (n, k)`` with small ``k``: covariances, correlations,
the transforms) and memory-bound; a threaded BLAS gains nothing on them and, on machines with few or
busy cores, loses up to ten times.  Used by the split (correlations, ranges) and the transforms.
"""

from __future__ import annotations

import contextlib
from typing import Any, cast

__all__ = ["blas_single_thread"]

_CONTROLLER: Any = None


def blas_single_thread() -> contextlib.AbstractContextManager[Any]:
    """Context manager limiting BLAS to one thread (``threadpoolctl``; a no-op where it cannot).

    Returns
    -------
    contextlib.AbstractContextManager
        Restores the previous thread limits on exit.
    """
    global _CONTROLLER
    try:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

            _CONTROLLER = ThreadpoolController()
        return cast("contextlib.AbstractContextManager[Any]", _CONTROLLER.limit(limits=1, user_api="blas"))
    except Exception:  # noqa: BLE001  (threadpoolctl unable to inspect the loaded libraries)
        return contextlib.nullcontext()
