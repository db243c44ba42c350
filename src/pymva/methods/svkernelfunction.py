"""TMVA's SVM kernel functions (``SVKernelFunction.cxx``), evaluated for many pairs of events at once.

With ``d_j = a_j − b_j`` the difference of two (transformed) events in variable ``j``:

* ``RBF``: ``exp(−γ Σ_j d_j²)`` (option ``Gamma``);
* ``MultiGauss``: ``Π_j exp(−γ_j d_j²)`` (option ``GammaList``, one γ per variable);
* ``Polynomial``: ``(θ + Σ_j a_j b_j)^n`` with the integer order ``n`` (options ``Theta``, ``Order``);
* ``Prod`` / ``Sum``: the product / sum of the kernels listed in ``KernelList`` (``RBF*Polynomial``,
  ``RBF+MultiGauss``), each with its own parameters above.

TMVA computes every kernel value in ``Float_t``: the sums over the variables are accumulated in
float32 here as well, one variable after the other, and each value is rounded to float32.

For training, :meth:`SVKernelFunction.sklearn_kernel` maps a kernel onto scikit-learn's libsvm
kernels where that is exact — ``RBF`` is ``rbf`` with ``gamma=γ``, ``MultiGauss`` is ``rbf`` with
``gamma=1`` on the variables scaled by ``√γ_j``, ``Polynomial`` is ``poly`` with ``gamma=1``,
``coef0=θ``, ``degree=n`` — and returns ``None`` for ``Prod`` and ``Sum``, which are trained on the
precomputed Gram matrix of :meth:`SVKernelFunction.evaluate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import OptionError

__all__ = ["KERNELS", "SVKernelFunction", "make_kernel_list", "parse_gamma_list"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: The kernels of ``MethodSVM``'s ``Kernel`` option.
KERNELS = ("RBF", "MultiGauss", "Polynomial", "Prod", "Sum")
#: The kernels a ``Prod``/``Sum`` kernel may combine (``MethodSVM::MakeKernelList``).
_ELEMENTARY = ("RBF", "MultiGauss", "Polynomial")


def parse_gamma_list(text: str) -> list[float]:
    """``MethodSVM::SetMGamma``: the comma-separated numbers of ``GammaList`` (``"0.1,0.2,0.3"``).

    Parameters
    ----------
    text : str
        The option value; empty gives an empty list.

    Returns
    -------
    list of float

    Raises
    ------
    OptionError
        If an entry is not a number.
    """
    out: list[float] = []
    for token in str(text).split(","):
        token = token.strip()
        if not token:
            continue
        try:
            out.append(float(token))
        except ValueError:
            raise OptionError(
                f"option GammaList of method SVM: '{token}' is not a number; give one gamma per input variable "
                "separated by commas, e.g. GammaList=0.1,0.2,0.3"
            ) from None
    return out


def make_kernel_list(kernel_list: str, kernel: str) -> tuple[str, ...]:
    """``MethodSVM::MakeKernelList``: the kernels of a ``Prod`` (``*``-separated) or ``Sum`` (``+``) kernel.

    Parameters
    ----------
    kernel_list : str
        The ``KernelList`` option, e.g. ``"RBF*Polynomial"``.
    kernel : {"Prod", "Sum"}
        The ``Kernel`` option.

    Returns
    -------
    tuple of str
        Each one of ``RBF``, ``MultiGauss``, ``Polynomial``.

    Raises
    ------
    OptionError
        For another ``kernel``, an empty list or an entry that is not one of the three kernels.
    """
    if kernel not in ("Prod", "Sum"):
        raise OptionError(f"method SVM: a kernel list needs Kernel=Prod or Kernel=Sum, got Kernel={kernel}")
    sep = "*" if kernel == "Prod" else "+"
    names = tuple(t.strip() for t in str(kernel_list).split(sep))
    for name in names:
        if name not in _ELEMENTARY:
            raise OptionError(
                f"option KernelList of method SVM: '{name}' is not a recognised kernel function for "
                f"Kernel={kernel}; give {', '.join(_ELEMENTARY)} separated by '{sep}', e.g. "
                f"KernelList=RBF{sep}Polynomial"
            )
    return names


@dataclass(frozen=True)
class SVKernelFunction:
    """One of TMVA's SVM kernels with its parameters (``TMVA::SVKernelFunction``).

    Parameters
    ----------
    kernel : str
        One of :data:`KERNELS`.
    gamma : float
        ``RBF``'s γ.
    gammas : tuple of float
        ``MultiGauss``'s γ_j, one per variable (empty if no MultiGauss is involved).
    order : int
        ``Polynomial``'s integer order.
    theta : float
        ``Polynomial``'s θ.
    kernels : tuple of str
        The kernels of ``Prod``/``Sum`` (empty otherwise).
    """

    kernel: str = "RBF"
    gamma: float = 1.0
    gammas: tuple[float, ...] = ()
    order: int = 3
    theta: float = 1.0
    kernels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise OptionError(
                f"method SVM: {self.kernel} is not a recognised kernel function; accepted: {', '.join(KERNELS)}"
            )

    @property
    def elementary(self) -> tuple[str, ...]:
        """The kernels whose values are combined: ``kernels`` for Prod/Sum, else the kernel itself."""
        return self.kernels if self.kernel in ("Prod", "Sum") else (self.kernel,)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, A: npt.ArrayLike, B: npt.ArrayLike) -> F32:
        """The kernel values of every pair ``(A[i], B[k])``, in TMVA's float32 arithmetic.

        Parameters
        ----------
        A : array, shape (n_a, n_variables)
        B : array, shape (n_b, n_variables)

        Returns
        -------
        ndarray of float32, shape (n_a, n_b)

        Raises
        ------
        OptionError
            If a MultiGauss kernel has not one γ per variable (TMVA: "Fewer gammas than input
            variables", then it aborts).
        """
        a = np.asarray(A, dtype=np.float32)
        b = np.asarray(B, dtype=np.float32)
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
            raise ValueError(f"SVKernelFunction.evaluate: shapes {a.shape} and {b.shape} do not match")
        values = [self._elementary(name, a, b) for name in self.elementary]
        out = values[0]
        for v in values[1:]:
            out = out * v if self.kernel == "Prod" else out + v
        return np.asarray(out, dtype=np.float32)

    def _elementary(self, name: str, a: F32, b: F32) -> F32:
        nvar = a.shape[1]
        if name == "RBF":
            norm = np.zeros((len(a), len(b)), dtype=np.float32)
            for j in range(nvar):
                d = a[:, j, None] - b[None, :, j]
                norm += d * d
            arg = (norm * np.float32(self.gamma)).astype(np.float64)
            return np.asarray(np.exp(-arg), dtype=np.float32)
        if name == "MultiGauss":
            if len(self.gammas) != nvar:
                raise OptionError(
                    f"method SVM: fewer gammas than input variables! #Gammas={len(self.gammas)} "
                    f"#Input variables={nvar}; give one per variable in GammaList"
                )
            res = np.ones((len(a), len(b)), dtype=np.float32)
            for j in range(nvar):
                d = a[:, j, None] - b[None, :, j]
                arg = (d * d) * np.float32(self.gammas[j])
                res = (res * np.exp(-arg.astype(np.float64))).astype(np.float32)
            return res
        # Polynomial
        prod = np.full((len(a), len(b)), np.float32(self.theta), dtype=np.float32)
        for j in range(nvar):
            prod += a[:, j, None] * b[None, :, j]
        return np.power(prod.astype(np.float64), int(self.order)).astype(np.float32)

    # ------------------------------------------------------------------ scikit-learn
    def sklearn_kernel(self) -> dict[str, Any] | None:
        """The scikit-learn ``SVC``/``SVR`` kernel arguments that compute this kernel exactly.

        Returns
        -------
        dict or None
            ``kernel``, ``gamma`` (and ``degree``, ``coef0``) for RBF, MultiGauss (on inputs scaled
            with :meth:`sklearn_inputs`) and Polynomial; ``None`` for Prod and Sum (train on the
            precomputed Gram matrix).
        """
        if self.kernel == "RBF":
            return {"kernel": "rbf", "gamma": float(np.float32(self.gamma))}
        if self.kernel == "MultiGauss":
            return {"kernel": "rbf", "gamma": 1.0}
        if self.kernel == "Polynomial":
            return {
                "kernel": "poly",
                "gamma": 1.0,
                "coef0": float(np.float32(self.theta)),
                "degree": int(self.order),
            }
        return None

    def sklearn_inputs(self, X: npt.ArrayLike) -> F64:
        """The inputs for :meth:`sklearn_kernel`: ``x_j √γ_j`` for MultiGauss, ``x`` otherwise (float64)."""
        x = np.asarray(X, dtype=np.float64)
        if self.kernel == "MultiGauss":
            if len(self.gammas) != x.shape[1]:
                raise OptionError(
                    f"method SVM: fewer gammas than input variables! #Gammas={len(self.gammas)} "
                    f"#Input variables={x.shape[1]}; give one per variable in GammaList"
                )
            return np.asarray(x * np.sqrt(np.asarray(self.gammas, dtype=np.float32).astype(np.float64)))
        return x
