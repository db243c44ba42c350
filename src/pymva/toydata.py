"""Toy ROOT files like the ones TMVA's tutorials read (ROOT's ``createData.C``), written with uproot.

The examples generate their input here when it is absent, so they run on a fresh machine without
network access:

* :func:`create_class_example` — ``tmva_class_example.root``: trees ``TreeS``/``TreeB`` with four
  correlated Gaussian variables ``var1..var4``, and in ``TreeB`` a ``weight`` branch, as in ROOT's file;
* :func:`create_regression_example` — ``tmva_reg_example.root``: tree ``TreeR`` with ``var1``,
  ``var2`` and the target ``fvalue``;
* :func:`create_multiple_background` — ``tmva_example_multiple_background.root``: trees ``TreeS``,
  ``TreeB0``, ``TreeB1``, ``TreeB2`` with four Gaussian classes;
* :func:`create_category_example` — ``toy_sigbkg_categ_offset.root`` / ``toy_sigbkg_categ_varoff.root``
  (``TMVAClassificationCategory.C``): trees ``TreeS``/``TreeB`` with ``var1..var4`` and ``eta``, whose
  distributions depend on ``|eta| > 1.3`` (``createData.C``'s ``create_lin_Nvar_categories``).

The numbers are not ROOT's (ROOT uses TRandom3 and slightly different shapes); they follow the same
recipe: shifted means, correlated variables, and for regression a smooth function of two variables.
Files are real TTrees (``mktree`` + ``extend``), written to a temporary name and renamed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "create_category_example",
    "create_class_example",
    "create_multiple_background",
    "create_regression_example",
    "write_trees",
]


def write_trees(
    path: str | os.PathLike[str], trees: Mapping[str, Mapping[str, npt.NDArray[np.generic]]]
) -> Path:
    """Write flat trees to a ROOT file as TTrees, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; written to a temporary file beside it first and renamed when complete.
    trees : mapping of tree name to mapping of branch name to 1-D array
        One entry per tree; arrays of one tree must have equal lengths.

    Returns
    -------
    Path
        The path written.
    """
    import uproot

    from .safety import atomic_path

    dest = Path(path)
    with atomic_path(dest) as tmp, uproot.recreate(tmp) as f:
        for name, branches in trees.items():
            tree = f.mktree(name, {b: np.asarray(v).dtype for b, v in branches.items()})
            tree.extend({b: np.asarray(v) for b, v in branches.items()})
    return dest


def _correlated(
    rng: np.random.Generator, n: int, mean: npt.ArrayLike, sigma: npt.ArrayLike, rho: float
) -> npt.NDArray[np.float32]:
    mean = np.asarray(mean, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    k = len(mean)
    corr = np.full((k, k), rho) + (1 - rho) * np.eye(k)
    cov = corr * np.outer(sigma, sigma)
    return rng.multivariate_normal(mean, cov, size=n).astype(np.float32)


def create_class_example(
    path: str | os.PathLike[str] = "tmva_class_example.root", n_events: int = 6000, seed: int = 1
) -> Path:
    """Write ``tmva_class_example.root``: ``TreeS`` and ``TreeB``, four correlated Gaussians each.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    n_events : int
        Entries per tree (TMVA's file has 6000).
    seed : int
        Seed of the numpy generator.

    Returns
    -------
    Path
        The file written.  Branches ``var1``..``var4`` are float32; ``TreeB`` also has a float32
        ``weight`` branch, uniform in [0.5, 1.5) (ROOT's file has one for
        ``SetBackgroundWeightExpression("weight")``).
    """
    rng = np.random.default_rng(seed)
    sig = _correlated(rng, n_events, [0.2, 0.3, 0.5, 0.9], [1.0, 1.0, 1.0, 1.0], 0.6)
    bkg = _correlated(rng, n_events, [-0.2, -0.3, -0.5, -0.6], [1.0, 1.0, 1.0, 1.0], 0.6)
    # ROOT's file has a background weight branch (TMVAClassification.C: SetBackgroundWeightExpression
    # ("weight")); drawn from its own generator so that the variables do not depend on it
    weight = np.random.default_rng([seed, 1]).uniform(0.5, 1.5, n_events).astype(np.float32)
    names = [f"var{i + 1}" for i in range(4)]
    return write_trees(
        path,
        {
            "TreeS": {n: sig[:, i] for i, n in enumerate(names)},
            "TreeB": {**{n: bkg[:, i] for i, n in enumerate(names)}, "weight": weight},
        },
    )


def create_regression_example(
    path: str | os.PathLike[str] = "tmva_reg_example.root", n_events: int = 10000, seed: int = 2
) -> Path:
    """Write ``tmva_reg_example.root``: tree ``TreeR`` with ``var1``, ``var2`` and target ``fvalue``.

    ``var1`` and ``var2`` are uniform in [0, 5]; ``fvalue`` is a smooth function of both with small
    Gaussian noise (values between about 0 and 300, like TMVA's example).

    Returns
    -------
    Path
        The file written (float32 branches).
    """
    rng = np.random.default_rng(seed)
    v1 = rng.uniform(0.0, 5.0, n_events)
    v2 = rng.uniform(0.0, 5.0, n_events)
    f = (
        200.0 * np.exp(-((v1 - 2.5) ** 2 + (v2 - 2.5) ** 2) / 4.0)
        + 10.0 * v1
        + rng.normal(0.0, 2.0, n_events)
    )
    return write_trees(
        path,
        {
            "TreeR": {
                "var1": v1.astype(np.float32),
                "var2": v2.astype(np.float32),
                "fvalue": f.astype(np.float32),
            }
        },
    )


def create_multiple_background(
    path: str | os.PathLike[str] = "tmva_example_multiple_background.root",
    n_events: int = 4000,
    seed: int = 3,
) -> Path:
    """Write ``tmva_example_multiple_background.root``: ``TreeS``, ``TreeB0``, ``TreeB1``, ``TreeB2``.

    Four Gaussian classes in four correlated variables ``var1``..``var4``, with shifted means (as
    ROOT's ``create_MultipleBackground``).

    Returns
    -------
    Path
        The file written (float32 branches).
    """
    rng = np.random.default_rng(seed)
    means = {
        "TreeS": [1.0, 1.0, 1.0, 1.0],
        "TreeB0": [-1.0, -1.0, 0.0, 0.0],
        "TreeB1": [1.0, -1.0, -1.0, 1.0],
        "TreeB2": [-1.0, 1.0, 1.0, -1.0],
    }
    names = [f"var{i + 1}" for i in range(4)]
    trees = {}
    for tree, mean in means.items():
        x = _correlated(rng, n_events, mean, [1.0, 1.0, 1.0, 1.0], 0.3)
        trees[tree] = {n: x[:, i] for i, n in enumerate(names)}
    return write_trees(path, trees)


def create_category_example(
    path: str | os.PathLike[str] = "toy_sigbkg_categ_offset.root",
    n_events: int = 10000,
    offset: bool = True,
    seed: int = 100,
) -> Path:
    """Write the input of ``TMVAClassificationCategory.C``: trees ``TreeS`` and ``TreeB``.

    The recipe of ``createData.C``'s ``create_lin_Nvar_categories``: four Gaussian variables with
    means (0.2, 0.3, 0.5, 0.9) for signal and (−0.2, −0.3, −0.5, −0.6) for background, unit widths,
    and ``eta`` uniform in [−2.5, 2.5].  With ``offset`` (type 1, ``toy_sigbkg_categ_offset.root``)
    the variables are uncorrelated and shifted by +0.8 where ``|eta| > 1.3``, by −0.8 elsewhere;
    without (type 2, ``toy_sigbkg_categ_varoff.root``) they are correlated and ``var4`` is −5 where
    ``|eta| > 1.3``.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    n_events : int
        Entries per tree (ROOT's files have 10000).
    offset : bool
        The offset variant (True) or the variable-off one (False).
    seed : int
        Seed of the numpy generator.

    Returns
    -------
    Path
        The file written (float32 branches ``var1``..``var4``, ``eta``).
    """
    rng = np.random.default_rng(seed)
    cov = np.eye(4)
    if not offset:
        rho = {(0, 1): 0.6, (0, 2): 0.7, (0, 3): 0.9, (1, 2): 0.8, (1, 3): 0.9, (2, 3): 0.93}
        for (i, j), r in rho.items():
            cov[i, j] = cov[j, i] = r
    root = np.linalg.cholesky(cov)
    trees: dict[str, dict[str, npt.NDArray[np.generic]]] = {}
    for name, means in (("TreeS", [0.2, 0.3, 0.5, 0.9]), ("TreeB", [-0.2, -0.3, -0.5, -0.6])):
        x = rng.standard_normal((n_events, 4)) @ root.T + np.asarray(means)
        eta = 2.5 * 2 * (rng.uniform(size=n_events) - 0.5)
        outer = np.abs(eta) > 1.3
        if offset:
            x += np.where(outer, 0.8, -0.8)[:, None]
        else:
            x[outer, 3] = -5.0
        tree: dict[str, npt.NDArray[np.generic]] = {
            f"var{i + 1}": x[:, i].astype(np.float32) for i in range(4)
        }
        tree["eta"] = eta.astype(np.float32)
        trees[name] = tree
    return write_trees(path, trees)
