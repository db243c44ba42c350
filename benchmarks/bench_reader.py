"""The Reader per event and vectorised, next to the bare model on the same events.

Trains, on toy events (4 variables, two Gaussian classes), a PyTorch network (4-64-64-2, ``VarTransform=N``),
Fisher, LD, a BDT (100 trees, depth 3) and TMVA's tutorial BDT booking (850 trees, depth 3,
``AdaBoost``, ``nCuts=20``), then measures, interleaved and ``--repeat`` times (median and min
reported, one torch thread everywhere):

* **per event**: ``Reader.EvaluateMVA(tag)`` with the variables bound to float32 buffers, the event loop
  of an analysis, against (PyTorch) the bare per-event forward a user would write —
  ``model(torch.from_numpy(row[None]))`` under ``torch.inference_mode()`` on the already-normalised
  row, the TorchScript model in eval mode.  Goal: ratio <= 2 for PyTorch, <= 5 µs per event for
  Fisher, LD and BDT;
* the BDTs per event on both of their paths: the compiled walk of padded trees (numba installed,
  :mod:`pymva.methods.forestwalk`) and the rank tables of leaf masks without it
  (:mod:`pymva.methods.forestevent`, a second Reader booked with the walk switched off);
  the bare dispatch cost of a numba call with the walk's three arguments is printed too;
* **vectorised**: ``Reader.EvaluateMVA(X, tag)`` on all events against the bare batched forward pass
  (4096-event batches, as ``pymva.pytorch.predict``) on the normalised matrix.

Run:  python benchmarks/bench_reader.py [--events N] [--repeat R]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from pymva import TMVA
from pymva import pytorch as pmt
from pymva.extras import numba as _numba
from pymva.methods import forestwalk

VARS = ("x0", "x1", "x2", "x3")


def _train(workdir: str) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2), nn.Softmax(dim=1)
    )
    torch.jit.script(model).save(os.path.join(workdir, "model.pt"))
    sys.modules["__main__"].__dict__["load_model_custom_objects"] = {
        "optimizer": torch.optim.Adam,
        "criterion": nn.MSELoss(),
        "train_func": pmt.train,
        "predict_func": pmt.predict,
    }
    rng = np.random.default_rng(1)
    n = 5000
    sig = rng.normal(0.3, 1.0, (n, 4)).astype(np.float32)
    bkg = rng.normal(-0.3, 1.0, (n, 4)).astype(np.float32)
    factory = TMVA.Factory("Bench", options="Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in VARS:
        loader.AddVariable(v)
    loader.AddSignalTree({v: sig[:, i] for i, v in enumerate(VARS)})
    loader.AddBackgroundTree({v: bkg[:, i] for i, v in enumerate(VARS)})
    loader.PrepareTrainingAndTestTree("", "SplitMode=Random:NormMode=NumEvents:!V")
    model_path = os.path.join(workdir, "model.pt")
    factory.BookMethod(
        loader, TMVA.Types.kPyTorch, "PyTorch", f"!H:!V:VarTransform=N:FilenameModel={model_path}:NumEpochs=2"
    )
    factory.BookMethod(loader, TMVA.Types.kFisher, "Fisher", "!H:!V")
    factory.BookMethod(loader, TMVA.Types.kLD, "LD", "!H:!V")
    factory.BookMethod(loader, TMVA.Types.kBDT, "BDT", "!H:!V:NTrees=100:MaxDepth=3")
    factory.BookMethod(
        loader,
        TMVA.Types.kBDT,
        "BDT850",
        "!H:!V:NTrees=850:MinNodeSize=2.5%:MaxDepth=3:BoostType=AdaBoost:AdaBoostBeta=0.5:"
        "UseBaggedBoost:BaggedSampleFraction=0.5:SeparationType=GiniIndex:nCuts=20",
    )
    factory.TrainAllMethods()


def _stats(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), min(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("pymva").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    workdir = tempfile.mkdtemp(prefix="pymva-bench-reader-")
    os.chdir(workdir)
    _train(workdir)
    weights = os.path.join(workdir, "dataset", "weights")

    X = np.random.default_rng(5).normal(0.0, 1.2, (args.events, 4)).astype(np.float32)
    refs = [np.zeros(1, dtype=np.float32) for _ in VARS]
    reader = TMVA.Reader("!Color:Silent")
    for v, r in zip(VARS, refs, strict=True):
        reader.AddVariable(v, r)
    methods = {
        tag: reader.BookMVA(tag, os.path.join(weights, f"Bench_{tag}.weights.xml"))
        for tag in ("PyTorch", "Fisher", "LD", "BDT", "BDT850")
    }
    # the same BDTs on the rank-table path: a second Reader, prepared with the compiled walk off
    rank_reader = TMVA.Reader("!Color:Silent")
    for v, r in zip(VARS, refs, strict=True):
        rank_reader.AddVariable(v, r)
    for tag in ("BDT", "BDT850"):
        rank_reader.BookMVA(tag, os.path.join(weights, f"Bench_{tag}.weights.xml"))
    previous = forestwalk.use_numba(False)
    for tag in ("BDT", "BDT850"):
        rank_reader.EvaluateMVA(tag)  # the per-event path is prepared on first use
    forestwalk.use_numba(previous)
    rows = [row.tolist() for row in X]

    def per_event(tag: str, rdr: TMVA.Reader = reader) -> Callable[[], None]:
        def loop() -> None:
            for row in rows:
                refs[0][0], refs[1][0], refs[2][0], refs[3][0] = row
                rdr.EvaluateMVA(tag)

        return loop

    # the bare model: the TorchScript file, fed the normalised rows
    model = torch.jit.load(os.path.join(weights, "Bench_PyTorch.TrainedModel.pt"), map_location="cpu")
    model.eval()
    Xn = methods["PyTorch"].transformations.transform_variables(X)
    xrows = [torch.from_numpy(np.ascontiguousarray(r[None])) for r in Xn]

    def bare_event() -> None:
        with torch.inference_mode():
            for xr in xrows:
                model(xr)

    def bare_batch() -> None:
        with torch.inference_mode():
            Xt = torch.from_numpy(Xn)
            np.concatenate([model(Xt[i : i + 4096]).numpy() for i in range(0, len(Xt), 4096)])

    def vectorised(tag: str) -> Callable[[], None]:
        return lambda: reader.EvaluateMVA(X, tag)

    cases: dict[str, Callable[[], None]] = {"bare per event": bare_event, "bare batched": bare_batch}
    for tag in methods:
        cases[f"{tag} per event"] = per_event(tag)
        if tag.startswith("BDT"):
            cases[f"{tag} per event, rank"] = per_event(tag, rank_reader)
        cases[f"{tag} vectorised"] = vectorised(tag)
    nb = _numba()
    if nb is not None:  # numba's bare dispatch: a compiled no-op taking the walk's three arguments
        noop = nb.njit(lambda x, a, b: 0.0)
        arrays = (np.zeros(8, np.int64), np.zeros(8))
        tuples = [tuple(row) for row in rows]

        def dispatch() -> None:
            for row in tuples:
                noop(row, *arrays)

        cases["numba dispatch (3 args)"] = dispatch
    for fn in cases.values():
        fn()  # warm-up: the per-event paths are prepared on first use
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.repeat):  # interleaved: a load change hits every case alike
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)

    n = args.events
    print(
        f"{n:,} events, 4 variables, {args.repeat} interleaved repetitions, torch {torch.__version__} "
        f"(1 thread), {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )

    def event_values(tag: str, rdr: TMVA.Reader) -> list[float]:
        out = []
        for row in rows[:2000]:
            refs[0][0], refs[1][0], refs[2][0], refs[3][0] = row
            out.append(rdr.EvaluateMVA(tag))
        return out

    same = all(
        event_values(tag, reader)
        == event_values(tag, rank_reader)
        == reader.EvaluateMVA(X[:2000], tag).tolist()
        for tag in ("BDT", "BDT850")
    )
    print(
        f"BDT per event on the numba walk: {nb is not None}; walk == rank tables == vectorised (2000 events): {same}"
    )
    print(f"{'case':<28}{'median [µs/event]':>19}{'min [µs/event]':>16}{'ratio (median)':>16}  goal")
    bare_ev = _stats(times["bare per event"])[0]
    bare_b = _stats(times["bare batched"])[0]
    for name in cases:
        med, lo = _stats(times[name])
        ratio, goal = "", ""
        if name == "PyTorch per event":
            ratio, goal = f"{med / bare_ev:.2f}", "<= 2 x bare per event"
        elif name == "PyTorch vectorised":
            ratio, goal = f"{med / bare_b:.2f}", "vs bare batched"
        elif "per event" in name and not name.startswith("bare"):
            goal = "<= 5 µs/event"
        print(f"{name:<28}{med / n * 1e6:>19.3f}{lo / n * 1e6:>16.3f}{ratio:>16}  {goal}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
