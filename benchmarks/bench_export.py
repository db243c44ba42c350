"""The exported C++ and ONNX against the Reader.

Trains, on toy events, a 4-64-64-2 softmax network with ``VarTransform=D,G`` (1 epoch: the speed does
not depend on the weights), exports it with :func:`pymva.export.export`, then measures:

* **C++ per event**: the generated header compiled with ``g++ -O2 -std=c++17``, a driver calling
  ``Session::infer(x)`` once per event on one core (goal: <= 2 µs per event);
* **batched onnxruntime** (one intra-op thread) against the vectorised ``Reader.EvaluateMVA(X, tag)``
  on ``--events`` events (default 1M); the ratio is printed.

Run:  python benchmarks/bench_export.py [--events N]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types

import numpy as np
import torch

DRIVER = r"""#include <chrono>
#include <cstdio>
#include <vector>
#include "TMVA_PyTorch.hxx"
int main(int, char** argv) {
  const std::size_t n = std::stoul(argv[1]);
  std::vector<float> x(n * 4);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 2654435761u % 1000) / 250.0 - 2.0);
  TMVA_SOFIE_PyTorch::Session s;
  double sum = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < n; ++i) sum += s.infer(x.data() + 4 * i)[0];
  auto t1 = std::chrono::steady_clock::now();
  std::printf("%.6f %.17g\n", std::chrono::duration<double>(t1 - t0).count() / n * 1e6, sum);
  return 0;
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    import onnxruntime

    import pymva.pytorch as pmt
    from pymva import TMVA, TCut
    from pymva.export import export
    from pymva.toydata import create_class_example

    work = tempfile.mkdtemp(prefix="bench_export_")
    os.chdir(work)
    sys.modules["__main__"] = types.ModuleType("__main__")
    sys.modules["__main__"].load_model_custom_objects = {  # type: ignore[attr-defined]
        "optimizer": torch.optim.Adam,
        "criterion": torch.nn.MSELoss(),
        "train_func": functools.partial(pmt.train, log_every=None),
        "predict_func": pmt.predict,
    }
    create_class_example("data.root", n_events=2000)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 2), torch.nn.Softmax(dim=1),
    )  # fmt: skip
    torch.jit.save(torch.jit.script(net), "model.pt")
    factory = TMVA.Factory("B", "out.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("ds")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree("data.root:TreeS")
    loader.AddBackgroundTree("data.root:TreeB")
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:!V")
    factory.BookMethod(
        loader, TMVA.Types.kPyTorch, "PyTorch", "!H:!V:VarTransform=D,G:FilenameModel=model.pt:NumEpochs=1"
    )
    factory.TrainAllMethods()
    weights = "ds/weights/B_PyTorch.weights.xml"
    export(weights, "onnx", "model.onnx")
    export(weights, "cpp", "TMVA_PyTorch.hxx")

    if shutil.which("g++"):
        with open("driver.cpp", "w") as f:
            f.write(DRIVER)
        subprocess.run(["g++", "-O2", "-std=c++17", "driver.cpp", "-o", "driver"], check=True)
        res = subprocess.run(["./driver", "200000"], check=True, capture_output=True, text=True)
        us = float(res.stdout.split()[0])
        print(f"C++ per event (4-64-64-2 softmax, D,G): {us:.3f} us/event (goal <= 2)")
    else:
        print("C++: g++ not found, skipped")

    X = np.random.default_rng(1).normal(0.0, 1.5, size=(args.events, 4)).astype(np.float32)
    reader = TMVA.Reader("Silent")
    for v in ("var1", "var2", "var3", "var4"):
        reader.AddVariable(v)
    reader.BookMVA("PyTorch", weights)
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession("model.onnx", opts, providers=["CPUExecutionProvider"])
    t0 = time.perf_counter()
    ref = reader.EvaluateMVA(X, "PyTorch")
    t1 = time.perf_counter()
    got = session.run(None, {"x": X})[0]
    t2 = time.perf_counter()
    print(f"vectorised Reader: {t1 - t0:.3f} s, onnxruntime: {t2 - t1:.3f} s on {args.events} events")
    print(
        f"ratio onnxruntime / Reader = {(t2 - t1) / (t1 - t0):.2f}; max |diff| = {np.max(np.abs(got - ref)):.3g}"
    )


if __name__ == "__main__":
    main()
