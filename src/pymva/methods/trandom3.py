"""ROOT's ``TRandom3`` (Mersenne Twister) and its Poisson draws, as TMVA's BDT consumes them.

TMVA's BDT draws its random numbers from ``TRandom3`` generators with fixed seeds: the bagged
sample of tree ``k`` from ``TRandom3(100·k + 1234)`` (one ``PoissonD(BaggedSampleFraction)`` per
training event, ``MethodBDT::GetBaggedSubSample``), the variable subsets of randomised trees from
``TRandom3(k)`` (``DecisionTree::GetRandomisedVariables``).  This module reproduces those streams
so that pymva draws the same numbers:

* ``TRandom3::SetSeed(seed)`` with ``seed > 0`` is the reference MT19937 ``init_genrand``;
  numpy's legacy ``RandomState(seed)`` uses the same initialisation and the same tempering, so its
  32-bit outputs are ROOT's;
* ``TRandom3::Rndm()`` returns ``y · 2⁻³²`` and skips ``y == 0``;
* ``TRandom::PoissonD(mean)`` / ``Poisson(mean)`` for ``mean < 25`` multiply uniforms until the
  product falls to ``exp(−mean)`` and return the number of factors minus one; for larger means the
  rejection method of ``TRandom::Poisson`` (tangent proposal, ``LnGamma``).

``TRandom3(0)`` seeds itself from a UUID in ROOT (not reproducible); pymva seeds it with 0 instead
(documented in ``docs/methods-bdt.md``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["TRandom3", "poisson_counts"]

_TWO_M32 = 2.3283064365386963e-10


class TRandom3:
    """A ``TRandom3`` stream: ``Rndm``, ``Poisson`` and batches of uniforms.

    Parameters
    ----------
    seed : int
        ``0 <= seed < 2**32``.
    """

    def __init__(self, seed: int) -> None:
        self._rs = np.random.RandomState(int(seed) & 0xFFFFFFFF)
        self._buffer: npt.NDArray[np.float64] = np.empty(0)
        self._pos = 0

    def uniforms(self, n: int) -> npt.NDArray[np.float64]:
        """The next ``n`` values of ``Rndm()`` (in (0, 1), float64)."""
        out = np.empty(n, dtype=np.float64)
        filled = 0
        while filled < n:
            if self._pos >= len(self._buffer):
                raw = self._rs.randint(0, 2**32, size=max(1024, n - filled), dtype=np.uint64)
                raw = raw[raw != 0]  # TRandom3::Rndm draws again on a zero
                self._buffer = raw.astype(np.float64) * _TWO_M32
                self._pos = 0
            take = min(n - filled, len(self._buffer) - self._pos)
            out[filled : filled + take] = self._buffer[self._pos : self._pos + take]
            self._pos += take
            filled += take
        return out

    def rndm(self) -> float:
        """``TRandom3::Rndm()``."""
        return float(self.uniforms(1)[0])

    def poisson(self, mean: float) -> int:
        """``TRandom::Poisson(mean)`` (``PoissonD`` gives the same value as a float)."""
        if mean <= 0:
            return 0
        if mean < 25:
            expmean = math.exp(-mean)
            pir = 1.0
            n = -1
            while True:
                n += 1
                pir *= self.rndm()
                if pir <= expmean:
                    return n
        sq = math.sqrt(2.0 * mean)
        alxm = math.log(mean)
        g = mean * alxm - math.lgamma(mean + 1.0)
        while True:
            while True:
                y = math.tan(math.pi * self.rndm())
                em = sq * y + mean
                if em >= 0.0:
                    break
            em = math.floor(em)
            t = 0.9 * (1.0 + y * y) * math.exp(em * alxm - math.lgamma(em + 1.0) - g)
            if self.rndm() <= t:
                return int(em)


def poisson_counts(seed: int, mean: float, n: int) -> npt.NDArray[np.intp]:
    """``n`` successive ``PoissonD(mean)`` draws of ``TRandom3(seed)``, vectorised for ``mean < 25``.

    The uniforms are drawn in one batch; the number of uniforms each draw consumes (the first ``k``
    with ``u₁·…·u_k <= exp(−mean)``, multiplied left to right as TMVA does) is computed for every
    start position, and the draws follow the chain of start positions.

    Returns
    -------
    ndarray of intp, shape (n,)
    """
    if n == 0 or mean <= 0:
        return np.zeros(n, dtype=np.intp)
    rng = TRandom3(seed)
    if mean >= 25:
        return np.array([rng.poisson(mean) for _ in range(n)], dtype=np.intp)
    expmean = math.exp(-mean)
    # expected uniforms per draw: mean + 1; draw generously and extend if the chain runs out
    m = int(n * (mean + 1) + 10 * math.sqrt(n * (mean + 1)) + 64)
    u = rng.uniforms(m)
    while True:
        steps = np.zeros(m, dtype=np.intp)
        prod = np.ones(m, dtype=np.float64)
        idx = np.arange(m)
        k = 0
        while idx.size:
            pos = idx + k
            keep = pos < m
            idx, pos = idx[keep], pos[keep]
            p = prod[idx] * u[pos]
            prod[idx] = p
            done = p <= expmean
            steps[idx[done]] = k + 1
            idx = idx[~done]
            k += 1
        counts = np.empty(n, dtype=np.intp)
        s = 0
        steps_list = steps.tolist()
        complete = True
        for i in range(n):
            if s >= m or steps_list[s] == 0:
                complete = False
                break
            st = steps_list[s]
            counts[i] = st - 1
            s += st
        if complete:
            return counts
        u = np.concatenate([u, rng.uniforms(m)])
        m = len(u)
