"""``erfinv`` as two polynomials, for graphs and code that have no inverse error function.

ONNX has no ``Erfinv`` operator (and onnxruntime's ``Erf`` is float32 only); the C++ standard
library has ``std::erf`` but no inverse.  The Gauss transformation needs ``erfinv(z)`` for
``|z| ≤ 0.99999999`` (``pymva.transforms.gauss.ERFINV_CLIP``), in float64 as scipy computes it.
Two Chebyshev fits (degree 24, on Chebyshev nodes, against :func:`scipy.special.erfinv` and
:func:`scipy.special.erfcinv`) cover that range:

* centre, ``|z| ≤ 0.85``: ``erfinv(z) = z · P(u)``, ``u = (2 z² − 0.7225) / 0.7225``;
* tails, ``0.85 < |z| ≤ 0.99999999``: ``erfinv(z) = sign(z) · Q(u)``, ``w = √(−ln(1 − |z|))``,
  ``u = (2 w − (w₀ + w₁)) / (w₁ − w₀)`` on ``[w₀, w₁] = [√(−ln 0.15), √(−ln 1e-8)]``.

Both are evaluated by Horner's rule in the monomials of ``u ∈ [−1, 1]``; the largest deviation from
scipy is checked when the coefficients are computed (about 5e-15; :data:`MAX_ERROR` is the bound
enforced).  The C++ code adds one Newton step on ``std::erf``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

__all__ = ["CENTRE_LIMIT", "MAX_ERROR", "W_RANGE", "coefficients", "erfinv"]

#: ``|z|`` up to which the centre polynomial is used.
CENTRE_LIMIT = 0.85
#: The range of ``w = √(−ln(1 − |z|))`` of the tail polynomial.
W_RANGE = (math.sqrt(-math.log(1.0 - CENTRE_LIMIT)), math.sqrt(-math.log(1.0e-8)))
#: Largest deviation from scipy accepted when the coefficients are computed.
MAX_ERROR = 1.0e-13
_DEGREE = 24
_NODES = 20000

F64 = npt.NDArray[np.float64]


def _fit(f: object, a: float, b: float) -> tuple[F64, float]:
    from numpy.polynomial import chebyshev, polynomial

    u = np.cos(np.pi * (np.arange(_NODES) + 0.5) / _NODES)
    x = 0.5 * (a + b) + 0.5 * (b - a) * u
    coef = polynomial.Polynomial(chebyshev.cheb2poly(chebyshev.chebfit(u, f(x), _DEGREE))).coef  # type: ignore[operator]
    xx = np.linspace(a, b, 100001)
    err = float(np.max(np.abs(polynomial.polyval((2 * xx - (a + b)) / (b - a), coef) - f(xx))))  # type: ignore[operator]
    return np.asarray(coef, dtype=np.float64), err


@functools.cache
def coefficients() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The monomial coefficients (lowest order first) of the centre and tail polynomials.

    Raises
    ------
    RuntimeError
        If a fit misses :data:`MAX_ERROR` (a broken numpy or scipy; never seen).
    """
    from scipy import special

    s1 = CENTRE_LIMIT**2

    def centre(s: F64) -> F64:
        z = np.sqrt(s)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = special.erfinv(z) / z
        return np.asarray(np.where(z > 0, r, math.sqrt(math.pi) / 2), dtype=np.float64)

    def tail(w: F64) -> F64:
        return np.asarray(special.erfcinv(np.exp(-w * w)), dtype=np.float64)

    p, e1 = _fit(centre, 0.0, s1)
    q, e2 = _fit(tail, *W_RANGE)
    if max(e1, e2) > MAX_ERROR:
        raise RuntimeError(f"the erfinv polynomials miss {MAX_ERROR} ({e1:.2e}, {e2:.2e})")
    return tuple(p.tolist()), tuple(q.tolist())


def _horner(coef: tuple[float, ...], u: F64) -> F64:
    acc = np.full(u.shape, coef[-1])
    for c in reversed(coef[:-1]):
        acc = acc * u + c
    return acc


def erfinv(z: npt.ArrayLike) -> F64:
    """The polynomial ``erfinv`` (float64), exactly as the ONNX graph evaluates it.

    Parameters
    ----------
    z : array_like
        Values in ``[−0.99999999, 0.99999999]``.
    """
    za = np.asarray(z, dtype=np.float64)
    p, q = coefficients()
    s1 = CENTRE_LIMIT**2
    centre = za * _horner(p, (2.0 * (za * za) - s1) / s1)
    a = np.abs(za)
    w0, w1 = W_RANGE
    w = np.sqrt(-np.log(np.maximum(1.0 - a, 1e-300)))
    tail = np.sign(za) * _horner(q, (2.0 * w - (w0 + w1)) / (w1 - w0))
    return np.asarray(np.where(a <= CENTRE_LIMIT, centre, tail), dtype=np.float64)
