"""Overhead of MethodDL (``Types.kDL``) around its torch training loop.

A kDL booking ``DENSE|64|RELU`` x3 (+ the ``LINEAR`` output) on 2 x 100k events x 10 variables,
5 epochs, batch size 128, ADAM, against the same network trained by a hand-written torch loop that
slices a preloaded tensor (shuffled once per epoch), same batch size, optimizer, loss (weighted cross
entropy on the sigmoid) and one validation pass at the end; torch threads equal on both sides.
Prints the median over interleaved runs of

* MethodDL's training time (``training_time_``: the method's ``_train``, no data loading) / the hand
  loop (goal <= 1.10);
* the Factory's ``TrainAllMethods`` wall time (data set, transforms, weights and TorchScript files) /
  the hand loop, for information.

Run:  python benchmarks/bench_dl.py [--events N] [--epochs N] [--runs N] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import torch
from torch import nn

from pymva import TMVA


def hand_loop(X: np.ndarray, y: np.ndarray, w: np.ndarray, epochs: int, batch: int, n_val: int) -> float:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))  # fmt: skip
    Xt, yt, wt = torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(w)
    n_train = len(X) - n_val
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    gen = torch.Generator().manual_seed(1)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n_train, generator=gen)
        xe, ye, we = Xt[perm], yt[perm], wt[perm]
        for lo in range(0, (n_train // batch) * batch, batch):
            out = model(xe[lo : lo + batch])
            per = nn.functional.binary_cross_entropy_with_logits(out, ye[lo : lo + batch], reduction="none")
            loss = (per * we[lo : lo + batch, None]).sum() / per.numel()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        model(Xt[n_train:])
    return time.perf_counter() - start


def factory_run(sig: np.ndarray, bkg: np.ndarray, epochs: int, batch: int) -> tuple[float, float]:
    names = [f"x{i}" for i in range(sig.shape[1])]
    loader = TMVA.DataLoader("dataset")
    for n in names:
        loader.AddVariable(n)
    loader.AddSignalTree(dict(zip(names, sig.T, strict=True)))
    loader.AddBackgroundTree(dict(zip(names, bkg.T, strict=True)))
    # all events but one per class are training events
    n = len(sig) - 1
    loader.PrepareTrainingAndTestTree("", f"nTrain_Signal={n}:nTrain_Background={n}:SplitMode=Block:!V")
    factory = TMVA.Factory("Bench", None, "Silent:!DrawProgressBar:AnalysisType=Classification")
    strategy = (f"LearningRate=1e-3,BatchSize={batch},TestRepetitions={epochs},MaxEpochs={epochs},"
                "ConvergenceSteps=100,Optimizer=ADAM")  # fmt: skip
    factory.BookMethod(loader, TMVA.Types.kDL, "DL", f"!H:!V:Layout=DENSE|64|RELU,DENSE|64|RELU,DENSE|64|RELU,"
                       f"LINEAR:TrainingStrategy={strategy}:RandomSeed=1:ValidationSize=20%")  # fmt: skip
    start = time.perf_counter()
    factory.TrainAllMethods()
    wall = time.perf_counter() - start
    method = factory._methods["dataset"]["DL"].method
    return float(method.training_time_ or 0.0), wall


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(1)
    n = args.events // 2
    sig = rng.normal(0.3, 1.0, (n, 10)).astype(np.float32)
    bkg = rng.normal(-0.3, 1.0, (n, 10)).astype(np.float32)
    X = np.vstack([sig, bkg])
    y = np.r_[np.ones(n), np.zeros(n)].astype(np.float32)[:, None]
    w = np.ones(2 * n, np.float32)
    n_val = int(0.2 * (2 * n - 2))
    os.chdir(tempfile.mkdtemp(prefix="pymva-bench-dl-"))
    ratios, wall_ratios = [], []
    for _ in range(args.runs):  # interleaved
        hand = hand_loop(X, y, w, args.epochs, 128, n_val)
        train, wall = factory_run(sig, bkg, args.epochs, 128)
        ratios.append(train / hand)
        wall_ratios.append(wall / hand)
        print(f"hand loop {hand:7.2f} s   MethodDL training {train:7.2f} s   TrainAllMethods {wall:7.2f} s")
    print(f"median MethodDL training / hand loop : {statistics.median(ratios):.3f}  (goal <= 1.10)")
    print(f"median TrainAllMethods / hand loop   : {statistics.median(wall_ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
