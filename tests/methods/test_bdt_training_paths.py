"""The faster BDT training paths grow the same forests, bit for bit, as the plain numpy path.

The reference is the numpy path with nothing shared between trees (no :class:`GrowthCache`: every
root grid and bin recomputed) and the boosting update applied copy by copy (the loop that bagged
samples need); against it, for every BoostType and the options that change how trees are grown
(bagging, randomised trees with a seed, the NegWeightTreatment variants, multiclass, regression,
Fisher cuts, pruning), the numpy path as trained and, where numba is installed, the numba kernels.
Every node array, the boost weights and the XML of the forest must be identical.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pytest

from pymva.data.dataset import Sample, VariableInfo
from pymva.methods import decisiontree, nodehistograms
from pymva.methods.base import MethodContext
from pymva.methods.bdt import MethodBDT, _Trainer
from pymva.types import EAnalysisType

N, NV = 1200, 5
C, R = EAnalysisType.kClassification, EAnalysisType.kRegression

#: (name, analysis type, classes, options, negative weights)
CONFIGS = [
    ("AdaBoost", C, 2, "BoostType=AdaBoost", False),
    ("AdaBoost, negative weights", C, 2, "BoostType=AdaBoost", True),
    ("IgnoreNegWeightsInTraining", C, 2, "NegWeightTreatment=IgnoreNegWeightsInTraining", True),
    ("NoNegWeightsInTraining", C, 2, "NegWeightTreatment=NoNegWeightsInTraining", True),
    ("PairNegWeightsGlobal", C, 2, "NegWeightTreatment=PairNegWeightsGlobal", True),
    ("RealAdaBoost", C, 2, "BoostType=RealAdaBoost:UseYesNoLeaf=False", True),
    ("AdaCost", C, 2, "BoostType=AdaCost", False),
    ("Bagging", C, 2, "BoostType=Bagging", False),
    ("UseBaggedBoost", C, 2, "BoostType=AdaBoost:UseBaggedBoost:BaggedSampleFraction=0.6", True),
    ("UseRandomisedTrees", C, 2, "UseRandomisedTrees:UseNvars=2", False),
    ("UsePoissonNvars", C, 2, "UseRandomisedTrees:UsePoissonNvars", False),
    ("Grad, bagged", C, 2, "BoostType=Grad:Shrinkage=0.1:UseBaggedBoost:BaggedSampleFraction=0.5", True),
    ("Grad", C, 2, "BoostType=Grad:Shrinkage=0.1", False),
    ("Grad multiclass", C, 3, "BoostType=Grad:Shrinkage=0.1", False),
    ("Grad regression", R, 0, "BoostType=Grad:Shrinkage=0.1", False),
    (
        "Grad regression, Huber, bagged",
        R,
        0,
        "BoostType=Grad:UseBaggedBoost:RegressionLossFunctionBDTG=Huber",
        True,
    ),
    ("AdaBoostR2", R, 0, "BoostType=AdaBoostR2", False),
    ("UseFisherCuts", C, 2, "UseFisherCuts", False),
    ("nCuts=-1", C, 2, "nCuts=-1", False),
    ("CostComplexity", C, 2, "PruneMethod=CostComplexity:PruneStrength=30", False),
    ("CrossEntropy, depth 5", C, 2, "SeparationType=CrossEntropy:MaxDepth=5:MinNodeSize=1%", False),
]
NODE_ARRAYS = (
    "left", "right", "depth", "ivar", "cut", "cut_type", "node_type", "purity", "response", "rms",
    "fisher", "n_coef", "nsig", "nbkg", "importance",
)  # fmt: skip


def _data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    cls3 = rng.integers(0, 3, N)
    X = rng.normal(size=(N, NV)) + np.array([0.5, -0.5, 0.0])[cls3][:, None]
    X[:, NV - 1] = np.round(X[:, NV - 1] * 2)  # an integer variable: one bin per integer
    X[:, 2] = 0.9 * X[:, 0] + 0.1 * X[:, 2]  # strongly correlated with x0: Fisher cuts have work
    w = rng.uniform(0.3, 2.0, N)
    wneg = w.copy()
    wneg[rng.random(N) < 0.08] *= -0.5
    t = X[:, 0] * 1.5 - X[:, 1] ** 2 + rng.normal(0, 0.3, N)
    return {"X": X.astype(np.float32), "cls3": cls3, "w": w, "wneg": wneg, "t": t}


DATA = _data()


def _train(at: EAnalysisType, n_classes: int, options: str, neg: bool) -> MethodBDT:
    d = DATA
    nc = 2 if at == R else n_classes
    cls = d["cls3"] if nc == 3 else (d["cls3"] > 0).astype(np.int32)
    sample = Sample(
        X=d["X"],
        targets=d["t"].astype(np.float32).reshape(N, 1) if at == R else np.zeros((N, 0), np.float32),
        spectators=np.zeros((N, 0), np.float32),
        weights=(d["wneg"] if neg else d["w"]).astype(np.float32),
        class_id=cls.astype(np.int32),
    )
    ctx = MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=at,
        variables=tuple(
            VariableInfo(f"x{i}", f"x{i}", f"x{i}", type="I" if i == NV - 1 else "F") for i in range(NV)
        ),
        class_names=() if at == R else (("Signal", "Background") if nc == 2 else ("c0", "c1", "c2")),
        targets=(VariableInfo("t", "t", "t", kind="target"),) if at == R else (),
    )
    m = MethodBDT("BDT", ctx, f"NTrees=6:MaxDepth=3:nCuts=20:{options}")
    m.setup()
    m.train(sample)
    return m


def _forest(m: MethodBDT) -> dict[str, Any]:
    out: dict[str, Any] = {"boost_weights": np.array(m.boost_weights_), "n_trees": len(m.forest_)}
    for i, tree in enumerate(m.forest_):
        for name in NODE_ARRAYS:
            out[f"tree {i} {name}"] = np.asarray(getattr(tree, name))
    root = ET.Element("Weights")
    m.add_weights_xml(root)
    out["xml"] = ET.tostring(root)
    return out


@pytest.mark.parametrize("path", ["numpy", "numba"])
@pytest.mark.parametrize("config", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_fast_paths_grow_the_reference_forest(
    config: tuple[Any, ...], path: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    if path == "numba":
        request.getfixturevalue("numba_installed")
    # the reference, in its own monkeypatched context
    previous = nodehistograms.use_numba(False)
    with monkeypatch.context() as mp:
        mp.setattr(decisiontree.GrowthCache, "root_for", lambda self, *a: None)  # each root from scratch
        mp.setattr(_Trainer, "_once", lambda self, cnt: False)
        ref = _forest(_train(*config[1:]))
    nodehistograms.use_numba(path == "numba")
    try:
        got = _forest(_train(*config[1:]))
    finally:
        nodehistograms.use_numba(previous)
    assert ref["n_trees"] >= 2
    assert sum(int((ref[f"tree {i} node_type"] == 0).sum()) for i in range(ref["n_trees"])) >= 4  # real trees
    assert got.keys() == ref.keys()
    for key, value in ref.items():
        if isinstance(value, np.ndarray):
            assert value.dtype == got[key].dtype, key
            np.testing.assert_array_equal(got[key], value, err_msg=key)
        else:
            assert got[key] == value, key


@pytest.mark.parametrize("max_bytes", [128 * 2**20, 40_000])
@pytest.mark.parametrize("path", ["numpy", "numba"])
def test_reused_root_cuts_grow_the_reference_forest(
    path: str, max_bytes: int, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """40 boosted trees cut the root in the same place again (their daughters' events and bins
    are reused); with a small budget the oldest root cuts are dropped: the forest is the same."""
    if path == "numba":
        request.getfixturevalue("numba_installed")
    config = (C, 2, "NTrees=40:BoostType=AdaBoost:MaxDepth=3:MinNodeSize=2%", False)
    previous = nodehistograms.use_numba(False)
    with monkeypatch.context() as mp:
        mp.setattr(decisiontree.GrowthCache, "root_for", lambda self, *a: None)
        mp.setattr(_Trainer, "_once", lambda self, cnt: False)
        ref = _forest(_train(*config))
    hits: list[int] = []
    evicted: list[int] = []
    root_split = decisiontree.GrowthCache.root_split
    add_root_split = decisiontree.GrowthCache.add_root_split
    init = decisiontree.GrowthCache.__init__

    def counting_root_split(self: decisiontree.GrowthCache, key: Any) -> Any:
        hit = root_split(self, key)
        hits.append(hit is not None)
        return hit

    def counting_add(self: decisiontree.GrowthCache, *args: Any) -> Any:
        before = len(self._splits)
        out = add_root_split(self, *args)
        evicted.append(before + 1 - len(self._splits))
        return out

    monkeypatch.setattr(decisiontree.GrowthCache, "root_split", counting_root_split)
    monkeypatch.setattr(decisiontree.GrowthCache, "add_root_split", counting_add)
    monkeypatch.setattr(decisiontree.GrowthCache, "__init__", lambda self: init(self, max_bytes))
    nodehistograms.use_numba(path == "numba")
    try:
        got = _forest(_train(*config))
    finally:
        nodehistograms.use_numba(previous)
    assert sum(hits) >= 5  # root cuts were reused
    assert (sum(evicted) > 0) == (max_bytes < 2**20)  # the small budget drops root cuts
    for key, value in ref.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(got[key], value, err_msg=key)
        else:
            assert got[key] == value, key
