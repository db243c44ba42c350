"""Overhead of the Factory around PyTorch training and testing.

200,000 events of the ClassificationPyTorch tutorial's kind, the tutorial's model, 5 epochs.
Prints, measured in the same run:

* wall time of ``TrainAllMethods`` / a hand-written torch loop over the same arrays (target <= 1.05):
  the loop slices the tensors batch by batch in order, as pymva does (the real limit; a
  ``torch.utils.data.DataLoader`` collating event by event would be slower and flatter pymva).  Both
  run interleaved ``--repeat`` times (fresh Factory each time) with the same torch threads; median,
  min and the absolute times are printed;
* ``TestAllMethods`` / a bare batched forward pass over the same events (target <= 1.10, as time ratio),
  interleaved, at least 3 repetitions after a warm-up, median and min.

Run:  python benchmarks/bench_training.py [--events N] [--epochs N] [--repeat R] [--threads T]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

from pymva import TMVA
from pymva import pytorch as pmt


def make_model() -> torch.jit.ScriptModule:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 2), nn.Softmax(dim=1))
    return torch.jit.script(model)


def hand_loop(X: np.ndarray, Y: np.ndarray, epochs: int, batch: int, n_val: int) -> float:
    """The least a training loop does: slice the tensors in order (as pymva does), step, validate."""
    model = make_model()
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    n_train = len(Xt) - n_val
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = nn.MSELoss()
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        total = torch.zeros(())
        for i in range(0, n_train, batch):
            opt.zero_grad()
            out = loss(model(Xt[i : min(i + batch, n_train)]), Yt[i : min(i + batch, n_train)])
            out.backward()
            opt.step()
            total += out.detach()
        model.eval()
        with torch.no_grad():
            val = torch.zeros(())
            for i in range(n_train, len(Xt), batch):
                val += loss(model(Xt[i : i + batch]), Yt[i : i + batch])
        float(total), float(val)  # the epoch's losses, as a training log reports them
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=max(1, os.cpu_count() or 1))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)  # the same torch threads for both sides
    rng = np.random.default_rng(1)
    n = args.events // 2
    sig = rng.normal(0.3, 1.0, (n, 4)).astype(np.float32)
    bkg = rng.normal(-0.3, 1.0, (n, 4)).astype(np.float32)

    workdir = tempfile.mkdtemp(prefix="pymva-bench-")
    os.chdir(workdir)
    make_model().save("model.pt")

    # the Factory sees 100 % of the events as training events except one test event per class
    global load_model_custom_objects
    load_model_custom_objects = {
        "optimizer": torch.optim.SGD,
        "criterion": nn.MSELoss(),
        "train_func": pmt.train,
        "predict_func": pmt.predict,
    }
    sys.modules["__main__"].__dict__["load_model_custom_objects"] = load_model_custom_objects

    def book() -> tuple[object, object]:
        factory = TMVA.Factory("Bench", options="Silent:!DrawProgressBar:AnalysisType=Classification")
        loader = TMVA.DataLoader("dataset")
        for i in range(4):
            loader.AddVariable(f"x{i}")
        loader.AddSignalTree({f"x{i}": sig[:, i] for i in range(4)})
        loader.AddBackgroundTree({f"x{i}": bkg[:, i] for i in range(4)})
        loader.PrepareTrainingAndTestTree(
            "",
            f"nTrain_Signal={n - 1}:nTrain_Background={n - 1}:nTest_Signal=1:nTest_Background=1:NormMode=None",
        )
        factory.BookMethod(
            loader,
            TMVA.Types.kPyTorch,
            "PyTorch",
            f"!H:!V:FilenameModel=model.pt:NumEpochs={args.epochs}:BatchSize=32",
        )
        loader.GetDataSetInfo().GetDataSet()  # build the DataSet outside the timed region
        return factory, loader

    factory, loader = book()
    ds = loader.GetDataSetInfo().GetDataSet()  # type: ignore[attr-defined]
    X = ds.train.X
    Y = np.eye(2, dtype=np.float32)[ds.train.class_id]
    n_val = int(len(X) * 0.2)

    hand_times: list[float] = []
    factory_times: list[float] = []
    for rep in range(args.repeat):  # interleaved, alternating which side goes first
        if rep:
            factory, loader = book()
        for side in ("hand", "pymva") if rep % 2 == 0 else ("pymva", "hand"):
            if side == "hand":
                hand_times.append(hand_loop(X, Y, args.epochs, 32, n_val))
            else:
                start = time.perf_counter()
                factory.TrainAllMethods()  # type: ignore[attr-defined]
                factory_times.append(time.perf_counter() - start)
    med_f, med_h = statistics.median(factory_times), statistics.median(hand_times)
    print(
        f"training ({len(X):,} events, {args.epochs} epochs, batch 32, {args.threads} torch threads, "
        f"{args.repeat} interleaved repetitions): TrainAllMethods median {med_f:.2f} s (min "
        f"{min(factory_times):.2f} s), slicing loop median {med_h:.2f} s (min {min(hand_times):.2f} s); "
        f"ratio median {med_f / med_h:.3f}, min {min(factory_times) / min(hand_times):.3f} (target <= 1.05)"
    )
    print(
        "  every repetition [s]: TrainAllMethods "
        + ", ".join(f"{t:.2f}" for t in factory_times)
        + "; slicing loop "
        + ", ".join(f"{t:.2f}" for t in hand_times)
    )

    # TestAllMethods evaluates the test and the training sample: compare with a bare forward pass over both
    Xall = np.concatenate([ds.test.X, X])
    model = torch.jit.load("dataset/weights/Bench_PyTorch.TrainedModel.pt", map_location="cpu")
    model.eval()
    Xt = torch.from_numpy(Xall)

    def bare() -> None:
        with torch.no_grad():
            # the same batch size as pymva.pytorch.predict, the predict_func booked here
            np.concatenate([model(Xt[i : i + 4096]).numpy() for i in range(0, len(Xt), 4096)])

    factory.TestAllMethods()  # warm-up: the first call also loads the TorchScript model
    test_times: list[float] = []
    bare_times: list[float] = []
    for rep in range(max(args.repeat, 3)):  # interleaved, alternating which side goes first
        sides = [(test_times, factory.TestAllMethods), (bare_times, bare)]
        for times, fn in sides if rep % 2 == 0 else sides[::-1]:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    med_t, med_b = statistics.median(test_times), statistics.median(bare_times)
    print(
        f"testing ({len(Xall):,} events: test + training sample): TestAllMethods median {med_t:.3f} s "
        f"(min {min(test_times):.3f} s), bare batched forward median {med_b:.3f} s (min "
        f"{min(bare_times):.3f} s); ratio median {med_t / med_b:.3f}, min "
        f"{min(test_times) / min(bare_times):.3f} (target <= 1.10)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
