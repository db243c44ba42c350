"""The Reader's per-event path (``EvaluateMVA(tag)`` on bound buffers) against its vectorised path.

The per-event path runs the transformation chain on Python floats and the method's own per-event
form (Fisher, PyTorch) or its array prediction on one row (BDT); it must give, event by event, the
values the array path gives.  Fisher, LD and BDT: bit for bit against ``EvaluateMVA(X, tag)`` on all
events at once.  PyTorch: a network's float32 forward pass may round differently for one row and for
a batch (other matrix kernels), so the reference is the array path on the same single event, bit
for bit, and the batch within the float32 bound of the network (``tolerances.network_atol``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from pymva.data.dataset import Sample, VariableInfo
from pymva.io.weights import write_weights_file
from pymva.methods import forestwalk
from pymva.methods.base import MethodBase, MethodContext
from pymva.methods.bdt import MethodBDT
from pymva.methods.fisher import MethodFisher
from pymva.methods.knn import MethodKNN
from pymva.methods.ld import MethodLD
from pymva.methods.likelihood import MethodLikelihood
from pymva.methods.modelfiles import model_record
from pymva.methods.pytorch import MethodPyTorch
from pymva.methods.torchscript import save_scripted
from pymva.reader import Reader
from pymva.types import EAnalysisType
from tolerances import assert_within, network_atol

VARS = ("var1", "var2", "var3", "var4")


def _context(weight_dir: Path) -> MethodContext:
    return MethodContext(
        job_name="Job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kClassification,
        variables=tuple(VariableInfo(v, v, v) for v in VARS),
        class_names=("Signal", "Background"),
        weight_dir=weight_dir,
    )


def _sample(n: int = 600, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    cid = (np.arange(n) % 2).astype(np.int32)
    scale = np.array([1.0, 2.0, 0.5, 10.0])
    cov = (np.eye(4) + 0.4) * np.outer(scale, scale)
    X = rng.multivariate_normal([0.0, 3.0, -2.0, 50.0], cov, n)
    X[:, 0] += 0.8 * (cid == 0)
    X[:, 3] = np.abs(X[:, 3]) ** 1.3  # a skewed input for G/U
    return Sample(
        X=X.astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=rng.uniform(0.5, 1.5, n).astype(np.float32),
        class_id=cid,
    )


def _events(n: int = 300) -> np.ndarray:
    X = _sample(n, seed=7).X.copy()
    X[:5] *= 3.0  # beyond the training ranges: the transforms extrapolate
    return X


def _per_event(path: Path, X: np.ndarray, refs_kind: str = "numpy") -> np.ndarray:
    reader = Reader("Silent")
    if refs_kind in ("numpy", "float64"):
        dtype = np.float32 if refs_kind == "numpy" else np.float64
        refs = [np.zeros(1, dtype=dtype) for _ in VARS]
    else:
        import array

        refs = [array.array("f", [0.0]) for _ in VARS]  # type: ignore[misc]
    for v, r in zip(VARS, refs, strict=True):
        reader.AddVariable(v, r)
    reader.BookMVA("M", path)
    out = []
    for row in X:
        for r, value in zip(refs, row.tolist(), strict=True):
            r[0] = value
        value = reader.EvaluateMVA("M")
        assert isinstance(value, float)
        out.append(value)
    return np.array(out, dtype=np.float32)


def _vectorised(path: Path, X: np.ndarray) -> np.ndarray:
    reader = Reader("Silent")
    for v in VARS:
        reader.AddVariable(v)
    reader.BookMVA("M", path)
    return np.asarray(reader.EvaluateMVA(X, "M"))


def _write(method: MethodBase) -> Path:
    method.train(_sample())
    return write_weights_file(method)


@pytest.mark.parametrize(
    "chain", ["None", "N", "D", "P", "G", "U", "N,D", "D,G,N", "G,D", "P,U", "N(_V1_,_V3_),D(_V0_,_V2_)"]
)
def test_fisher_per_event_equals_vectorised(tmp_path: Path, chain: str) -> None:
    path = _write(MethodFisher("Fisher", _context(tmp_path), f"!H:!V:VarTransform={chain}"))
    X = _events()
    expected = _vectorised(path, X)
    np.testing.assert_array_equal(_per_event(path, X), expected)
    np.testing.assert_array_equal(_per_event(path, X[:20], "array"), expected[:20])


@pytest.mark.parametrize(
    "options",
    [
        "NTrees=25:MaxDepth=3:VarTransform=N",
        "NTrees=20:MaxDepth=3:BoostType=Grad:Shrinkage=0.3",
        "NTrees=20:MaxDepth=2:UseYesNoLeaf=False:BoostType=Bagging",
        "NTrees=10:MaxDepth=2:UseFisherCuts",
        "NTrees=8:MaxDepth=5:MinNodeSize=1%",  # more than 8 leaves per tree: the other mask layout
    ],
)
@pytest.mark.parametrize("walk", [True, False], ids=["numba-walk", "rank-tables"])
def test_bdt_per_event_equals_vectorised(tmp_path: Path, options: str, walk: bool) -> None:
    path = _write(MethodBDT("BDT", _context(tmp_path), f"!H:!V:{options}"))
    X = _events(200)
    previous = forestwalk.use_numba(walk)  # the compiled walk where numba is installed, or not
    try:
        per_event = _per_event(path, X)
    finally:
        forestwalk.use_numba(previous)
    np.testing.assert_array_equal(per_event, _vectorised(path, X))


@pytest.mark.parametrize(
    ("cls", "options"),
    [
        (MethodLD, "VarTransform=D"),
        (MethodKNN, "nkNN=15:VarTransform=N"),
        # Likelihood transforms with each class's parameters (its own raw_outputs): the array path
        (MethodLikelihood, "VarTransform=D"),
    ],
)
def test_other_methods_per_event_equal_vectorised(
    tmp_path: Path, cls: type[MethodBase], options: str
) -> None:
    path = _write(cls(cls.__name__.removeprefix("Method"), _context(tmp_path), f"!H:!V:{options}"))
    X = _events(60)
    np.testing.assert_array_equal(_per_event(path, X), _vectorised(path, X))


def test_nan_and_overflow_give_minus_999_per_event(tmp_path: Path) -> None:
    path = _write(MethodFisher("Fisher", _context(tmp_path), "!H:!V:VarTransform=G"))
    X = _events(6).astype(np.float64)
    X[1, 2] = np.nan
    X[3, 0] = 1e300  # beyond float32: +inf once the Reader rounds the float64 buffer
    got = _per_event(path, X, "float64")
    assert got[1] == -999.0
    assert got[3] == -999.0
    good = [0, 2, 4, 5]
    np.testing.assert_array_equal(got[good], _vectorised(path, X[good].astype(np.float32)))


def _pytorch_file(weight_dir: Path, chain: str, one_column: bool) -> tuple[Path, nn.Module]:
    ctx = _context(weight_dir)
    m = MethodPyTorch("PyTorch", ctx, f"!H:!V:FilenameModel=initial.pt:VarTransform={chain}")
    m.transformations.fit(_sample())
    torch.manual_seed(3)
    out = (
        nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
        if one_column
        else nn.Sequential(nn.Linear(8, 2), nn.Softmax(dim=1))
    )
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), *out)
    save_scripted(model, m.beside_weights_path(), model_record(ctx, "PyTorch", "PyTorch"))
    m._trained = True
    return write_weights_file(m), model


@pytest.mark.parametrize(("chain", "one_column"), [("N", False), ("D,G", True)])
def test_pytorch_per_event_equals_one_event_arrays(tmp_path: Path, chain: str, one_column: bool) -> None:
    path, model = _pytorch_file(tmp_path, chain, one_column)
    X = _events(120)
    got = _per_event(path, X)
    reader = Reader("Silent")
    for v in VARS:
        reader.AddVariable(v)
    method = reader.BookMVA("M", path)
    one_by_one = np.array([reader.EvaluateMVA(row, "M") for row in X], dtype=np.float32)
    np.testing.assert_array_equal(got, one_by_one)
    batch = np.asarray(reader.EvaluateMVA(X, "M"))
    Xt = method.transformations.transform_variables(X)
    assert_within(got, batch, network_atol(model, Xt)[:, 0])


def test_per_event_keeps_the_model_in_eval_mode(tmp_path: Path) -> None:
    path, _ = _pytorch_file(tmp_path, "N", False)
    reader = Reader("Silent")
    refs = [np.zeros(1, dtype=np.float32) for _ in VARS]
    for v, r in zip(VARS, refs, strict=True):
        reader.AddVariable(v, r)
    method = reader.BookMVA("M", path)
    reader.EvaluateMVA("M")
    model = method._predict_model  # type: ignore[attr-defined]
    assert model is not None
    assert not model.training
    reader.EvaluateMVA(_events(3), "M")  # the array path restores the mode it found: eval
    assert not model.training


def test_train_applies_the_chain_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = MethodFisher("Fisher", _context(tmp_path), "!H:!V:VarTransform=N,D")
    calls: list[str] = []
    for name in ("_forward_set",):
        for cls in {type(el) for el in m.transformations}:
            real = getattr(cls, name)

            def spy(self: object, *a: object, _real: object = real, _cls: type = cls, **k: object) -> object:
                calls.append(_cls.__name__)
                return _real(self, *a, **k)  # type: ignore[operator]

            monkeypatch.setattr(cls, name, spy)
    m.train(_sample())
    # one application per element (none repeated after fitting); the statistics table reads the result
    assert sorted(calls) == ["Decorrelate", "Normalize"]
