"""Toy data for the envelope tests: two Gaussian classes with an event number, as ROOT's
TMVACrossValidation.C tutorial generates them."""

from __future__ import annotations

import numpy as np

from pymva import TMVA


def gen_tree(n: int, offset: float, seed: int, noise: bool = False) -> dict[str, np.ndarray]:
    """``genTree`` of TMVACrossValidation.C: x, y ~ N(offset, 1) and eventID = 1 … n (``noise``: y ~ N(0, 1))."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(offset, 1.0, n).astype(np.float32),
        "y": rng.normal(0.0 if noise else offset, 1.0, n).astype(np.float32),
        "eventID": np.arange(1, n + 1, dtype=np.int32),
    }


def make_loader(
    name: str = "datasetcv", n: int = 300, noise: bool = False, n_test: int = 1
) -> TMVA.DataLoader:
    """The tutorial's loader: variables x, y, spectator eventID, ``n`` events per class, ``n_test`` test events."""
    loader = TMVA.DataLoader(name)
    loader.AddVariable("x", "F")
    loader.AddVariable("y", "F")
    loader.AddSpectator("eventID", "I")
    loader.AddSignalTree(gen_tree(n, 1.0, 100, noise))
    loader.AddBackgroundTree(gen_tree(n, -1.0, 101, noise))
    loader.PrepareTrainingAndTestTree(
        "", "", f"nTest_Signal={n_test}:nTest_Background={n_test}:SplitMode=Random:NormMode=NumEvents:!V"
    )
    return loader
