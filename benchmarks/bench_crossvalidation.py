"""Cost of TMVA.CrossValidation against the Factory trainings it replaces.

2 × 50,000 events (two 4-D Gaussians), 5 folds, a BDT (200 trees) and a small PyTorch MLP.  For each
method, and for both booked together, prints

    ratio = CrossValidation wall time / (5 × one full Factory job on 4/5 of the events)

with one worker (target <= 1.10) and with two (target <= 0.6 on a 2-core machine).  The reference
"Factory job" is what a user would run instead for one fold: train, test and evaluate the method on a
DataSet of 4/5 of the events (the DataSet built once, outside the timing, as CrossValidation builds
it once too); every time is the best of two runs.  Times are wall-clock of the whole call; on a busy machine run it
more than once.

Run:  python benchmarks/bench_crossvalidation.py [--events N] [--trees N] [--epochs N] [--folds K]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import types

import numpy as np
import torch
from torch import nn

from pymva import TMVA
from pymva import pytorch as pmt
from pymva.data.loader import DataLoader


def make_loader(n: int, name: str = "bench") -> DataLoader:
    rng = np.random.default_rng(1)
    loader = TMVA.DataLoader(name)
    for v in ("x1", "x2", "x3", "x4"):
        loader.AddVariable(v, "F")
    loader.AddSpectator("eventID", "I")
    for cls, off in (("Signal", 0.5), ("Background", -0.5)):
        tree = {f"x{i}": rng.normal(off * (i % 2 + 0.5), 1.0, n).astype(np.float32) for i in range(1, 5)}
        tree["eventID"] = np.arange(n, dtype=np.int32)
        loader.AddTree(tree, cls)
    loader.PrepareTrainingAndTestTree("", "", "nTest_Signal=1:nTest_Background=1:SplitMode=Random:!V")
    return loader


def book(target: object, loader: DataLoader | None, method: str, trees: int, epochs: int) -> None:
    args = (loader,) if loader is not None else ()
    if method == "BDT":
        target.BookMethod(*args, TMVA.Types.kBDT, "BDT", f"!H:!V:NTrees={trees}:MaxDepth=3:BoostType=Grad")  # type: ignore[attr-defined]
    else:
        target.BookMethod(  # type: ignore[attr-defined]
            *args, TMVA.Types.kPyTorch, "MLP", f"!H:!V:FilenameModel=mlp.pt:NumEpochs={epochs}:BatchSize=256"
        )


def factory_job(loader: DataLoader, k: int, method: str, trees: int, epochs: int) -> float:
    """One Factory job on 4/5 of the training events (what one fold replaces)."""
    ds = loader.GetDataSetInfo().GetDataSet()
    keep = np.arange(len(ds.train)) % k != 0
    fold = DataLoader.from_dataset(ds.with_samples(ds.train.subset(keep), ds.train.subset(~keep)))
    start = time.perf_counter()
    factory = TMVA.Factory("ref", options="!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    book(factory, fold, method, trees, epochs)
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    return time.perf_counter() - start


def cv_job(loader: DataLoader, k: int, methods: list[str], trees: int, epochs: int, workers: int) -> float:
    cv = TMVA.CrossValidation(
        "bench",
        loader,
        f"!V:Silent:NumFolds={k}:SplitType=Deterministic:SplitExpr=int([eventID])%int([NumFolds])"
        f":NumWorkers={workers}",
    )
    for m in methods:
        book(cv, None, m, trees, epochs)
    start = time.perf_counter()
    cv.Evaluate()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000, help="events per class")
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--folds", type=int, default=5)
    a = parser.parse_args()
    os.chdir(tempfile.mkdtemp(prefix="bench_cv_"))
    main_module = sys.modules["__main__"]
    if not isinstance(main_module, types.ModuleType):  # pragma: no cover
        return 1
    main_module.load_model_custom_objects = {  # type: ignore[attr-defined]
        "optimizer": torch.optim.Adam,
        "criterion": nn.BCELoss(),
        "train_func": pmt.train,
        "predict_func": pmt.predict,
    }
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 2), nn.Softmax(dim=1))
    torch.jit.save(torch.jit.script(mlp), "mlp.pt")
    loader = make_loader(a.events)
    loader.GetDataSetInfo().GetDataSet()  # built once, outside every timing
    k = a.folds
    # the best of two runs: the first pays for the imports and the warm-up of sklearn and torch
    ref = {m: min(factory_job(loader, k, m, a.trees, a.epochs) for _ in range(2)) for m in ("BDT", "MLP")}
    print(
        f"{2 * a.events} events, {k} folds, BDT {a.trees} trees, MLP {a.epochs} epochs; cpus {os.cpu_count()}"
    )
    for m, t in ref.items():
        print(f"one Factory job on {k - 1}/{k} of the events, {m}: {t:.2f} s")
    for methods in (["BDT"], ["MLP"], ["BDT", "MLP"]):
        reference = k * sum(ref[m] for m in methods)
        for workers, target in ((1, 1.10), (2, 0.6)):
            t = min(cv_job(loader, k, methods, a.trees, a.epochs, workers) for _ in range(2))
            print(
                f"CrossValidation {'+'.join(methods):8s} NumWorkers={workers}: {t:7.2f} s, "
                f"ratio {t / reference:.3f} (target <= {target})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
