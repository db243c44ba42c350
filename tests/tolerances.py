"""Floating-point tolerances derived from the arithmetic, for tests that compare float results.

Two computations of the same quantity in float32 (or float64) differ by rounding only, and how they
round depends on the order in which the machine adds: a BLAS (MKL, OpenBLAS) and torch's kernels
choose their blocking, vector width (AVX2, AVX-512, NEON), fused multiply-adds and threads per CPU,
per shape and even per memory alignment, so a batched and an unbatched forward pass, or the same
pass on two CPUs, add each dot product in a different order.  A tolerance taken from what one
machine printed fails on another; the bounds below hold on every IEEE machine.

The standard bound (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1): a sum
of ``n`` terms (products included), added in any order, differs from the exact sum by at most
``γ_n · Σ|terms|`` with ``γ_n = n·u / (1 - n·u)`` and ``u = eps/2`` the unit roundoff.  Two such
computations differ from each other by at most twice that, ``≈ n · eps · Σ|terms|`` — the
``atol ~ n·eps·scale`` rule.  The bounds are worst cases: real differences are typically
``√n`` times smaller, and a wrong result (a missing term, a shifted batch, a wrong column) is off by
many orders of magnitude more, so these tolerances still catch every bug the tests are there for.

What is the same on every machine, and may be compared with a tolerance of a few roundings (or
exactly): elementwise IEEE operations (``+ - * /``, ``sqrt``, conversions; correctly rounded
everywhere) and numpy's own summation of a contiguous array (its pairwise blocking is fixed in its
C code).  What is not: BLAS products (``@``, ``np.dot``, torch's ``Linear``) and torch's reductions
(the order of the additions), and transcendental functions (``exp``, ``log``, ``erfinv``: numpy's
SIMD versions and the C libraries differ by an ulp or so).  float64 work rounded to float32 at the
end (pymva's transforms) gives the same float32 result unless the float64 value lies within
~1e-16 of a float32 rounding boundary, a chance of about 2**-29 per value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

#: float32 machine epsilon (2**-23): the spacing of float32 numbers at 1.
EPS32 = float(np.finfo(np.float32).eps)
#: float64 machine epsilon (2**-52).
EPS64 = float(np.finfo(np.float64).eps)


def sum_atol(n_terms: int, abs_sum: float | npt.ArrayLike, eps: float = EPS32) -> Any:
    """Largest difference between two evaluations of a sum of ``n_terms`` terms in any order.

    ``n_terms · eps · Σ|terms|`` (twice the Higham bound ``γ_n Σ|terms|`` to first order in ``eps``).
    """
    return n_terms * eps * np.asarray(abs_sum, dtype=np.float64)


def _layers(model: Any) -> list[tuple[str, Any]]:
    """The layers of a ``torch.nn.Sequential`` (plain or TorchScript) as ``(type name, module)``."""
    return [(getattr(m, "original_name", type(m).__name__), m) for m in model.children()]


def network_atol(model: Any, X: npt.ArrayLike, eps: float = EPS32) -> npt.NDArray[np.float64]:
    """Largest difference between two float32 forward passes of a feed-forward net, per output.

    Propagates, layer by layer, a bound ``e`` on how far one forward pass can be from the exact one,
    with the magnitudes ``m`` of the values (the same network run on ``|x|`` with ``|W|``, ``|b|``):

    * ``Linear`` (``k`` inputs): ``m' = |W| m + |b|``; ``e' = |W| e + γ_{k+1} m'`` — the propagated
      error plus the rounding of the ``k`` products and the bias added in some order;
    * ``ReLU``, ``Dropout`` (eval mode), ``Identity``: 1-Lipschitz and ``|f(h)| ≤ |h|``, unchanged;
    * ``Tanh``: 1-Lipschitz, ``|tanh h| ≤ |h|``, plus a few ulps of its own rounding (4 u);
    * ``Sigmoid``: Lipschitz 1/4, values ≤ 1: ``e' = e/4 + 4u``;
    * ``Softmax``: ``|∂p_i/∂z_j| ≤ p_i (δ_ij + p_j)``, so ``e' ≤ 2 max_j e_j`` (values ≤ 1), plus
      ``8u`` for the exponentials, the sum and the division.

    Two passes then differ by at most ``2e``, returned per event and output column.  The inputs are
    converted to float32 identically by both passes and add nothing.

    Parameters
    ----------
    model : torch.nn.Sequential or its TorchScript version
        Of the layers above; anything else raises ``TypeError`` (derive its bound first).
    X : array_like, shape (n_events, n_inputs)

    Returns
    -------
    ndarray of float64, shape (n_events, n_outputs)
    """
    u = eps / 2
    m = np.abs(np.asarray(X, dtype=np.float32).astype(np.float64))
    e = np.zeros_like(m)
    for name, layer in _layers(model):
        if name == "Linear":
            W = np.abs(layer.weight.detach().cpu().numpy().astype(np.float64))
            b = layer.bias
            b_abs = np.abs(b.detach().cpu().numpy().astype(np.float64)) if b is not None else 0.0
            k = W.shape[1] + 1
            m = m @ W.T + b_abs
            e = e @ W.T + k * u / (1 - k * u) * m
        elif name in ("ReLU", "Dropout", "Identity"):
            pass
        elif name == "Tanh":
            e = e + 4 * u
        elif name == "Sigmoid":
            e, m = e / 4 + 4 * u, np.ones_like(m)
        elif name == "Softmax":
            e = 2 * e.max(axis=1, keepdims=True) + 8 * u + np.zeros_like(m)
            m = np.ones_like(m)
        else:
            raise TypeError(f"network_atol: no error bound for a {name} layer")
    return 2 * e


def softmax_sum_atol(n_classes: int, eps: float = EPS32) -> float:
    """How far the float32 softmax outputs of one event may sum from 1.

    Each ``p_i = exp(z_i - max) / Σ_j exp(z_j - max)`` carries the rounding of its exponential, of the
    ``n`` -term sum and of the division, ``(n + 2)·u`` relative; adding the ``n`` outputs adds
    ``(n - 1)·u``: in all ``(2n + 1)·u < (n + 1)·eps`` (``u = eps/2``).
    """
    return (n_classes + 1) * eps


def assert_within(actual: npt.ArrayLike, desired: npt.ArrayLike, atol: npt.ArrayLike) -> None:
    """Assert ``|actual - desired| <= atol`` elementwise (``atol`` broadcast), naming the worst element."""
    a = np.asarray(actual, dtype=np.float64)
    d = np.asarray(desired, dtype=np.float64)
    diff = np.abs(a - d)
    bound = np.broadcast_to(np.asarray(atol, dtype=np.float64), diff.shape)
    bad = ~(diff <= bound)
    if bad.any():
        i = np.unravel_index(int(np.argmax(np.where(bad, diff - bound, -np.inf))), diff.shape)
        raise AssertionError(
            f"{int(bad.sum())} of {diff.size} elements differ by more than the derived bound; worst at "
            f"{tuple(int(k) for k in i)}: {a[i]!r} vs {d[i]!r}, difference {diff[i]:.3g} > bound {bound[i]:.3g}"
        )
