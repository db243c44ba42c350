"""Overhead of the Factory around PyTorch training and testing.

200,000 events of the ClassificationPyTorch tutorial's kind, the tutorial's model, 5 epochs.
Prints, measured in the same run:

* wall time of ``TrainAllMethods`` / a hand-written torch loop over the same arrays (target <= 1.05);
* ``TestAllMethods`` throughput / a bare batched forward pass (target <= 1.10, as time ratio).

Run:  python benchmarks/bench_training.py [--events N] [--epochs N]
"""

from __future__ import annotations

import argparse
import os
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
    model = make_model()
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    ds_train = torch.utils.data.TensorDataset(Xt[:-n_val], Yt[:-n_val])
    ds_val = torch.utils.data.TensorDataset(Xt[-n_val:], Yt[-n_val:])
    tl = torch.utils.data.DataLoader(ds_train, batch_size=batch, shuffle=False)
    vl = torch.utils.data.DataLoader(ds_val, batch_size=batch, shuffle=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = nn.MSELoss()
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in tl:
            opt.zero_grad()
            loss(model(xb), yb).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for xb, yb in vl:
                loss(model(xb), yb)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
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
    factory = TMVA.Factory("Bench", options="Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for i in range(4):
        loader.AddVariable(f"x{i}")
    loader.AddSignalTree({f"x{i}": sig[:, i] for i in range(4)})
    loader.AddBackgroundTree({f"x{i}": bkg[:, i] for i in range(4)})
    loader.PrepareTrainingAndTestTree(
        "", f"nTrain_Signal={n - 1}:nTrain_Background={n - 1}:nTest_Signal=1:nTest_Background=1:NormMode=None"
    )
    factory.BookMethod(
        loader,
        TMVA.Types.kPyTorch,
        "PyTorch",
        f"!H:!V:FilenameModel=model.pt:NumEpochs={args.epochs}:BatchSize=32",
    )
    ds = loader.GetDataSetInfo().GetDataSet()  # build the DataSet outside the timed region
    X = ds.train.X
    Y = np.eye(2, dtype=np.float32)[ds.train.class_id]
    n_val = int(len(X) * 0.2)

    t_hand = hand_loop(X, Y, args.epochs, 32, n_val)
    start = time.perf_counter()
    factory.TrainAllMethods()
    t_factory = time.perf_counter() - start
    print(
        f"training: TrainAllMethods {t_factory:.2f} s, hand-written loop {t_hand:.2f} s, "
        f"ratio {t_factory / t_hand:.3f} (target <= 1.05)"
    )

    # TestAllMethods evaluates the test and the training sample: compare with a bare forward pass over both
    Xall = np.concatenate([ds.test.X, X])
    model = torch.jit.load("dataset/weights/Bench_PyTorch.TrainedModel.pt", map_location="cpu")
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        Xt = torch.from_numpy(Xall)
        # the same batch size as pymva.pytorch.predict, the predict_func booked here
        np.concatenate([model(Xt[i : i + 4096]).numpy() for i in range(0, len(Xt), 4096)])
    t_bare = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        np.concatenate([model(Xt[i : i + 4096]).numpy() for i in range(0, len(Xt), 4096)])
    t_bare = min(t_bare, time.perf_counter() - start)
    t_eval = float("inf")
    for _ in range(3):  # best of three: the first call also loads the TorchScript model
        start = time.perf_counter()
        factory.TestAllMethods()
        t_eval = min(t_eval, time.perf_counter() - start)
    print(
        f"testing: TestAllMethods {t_eval:.3f} s, bare batched forward {t_bare:.3f} s, "
        f"ratio {t_eval / t_bare:.3f} (target <= 1.10)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
