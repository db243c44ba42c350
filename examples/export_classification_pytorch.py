"""Train a PyTorch classifier with pymva, export it to ONNX and C++, and run the C++ outside Python.

The job is ROOT's ClassificationPyTorch.py in short (``VarTransform=D,G``, a 4-64-64-2 softmax
network); then ``pymva.export`` writes ``model.onnx`` and ``TMVA_PyTorch.hxx`` (the same as
``pymva export WEIGHTS --to onnx|cpp -o OUT``) and ``model.pt2`` (``--to pt2``, a ``torch.export``
program), onnxruntime runs the ONNX file, ``torch.export.load`` the program, g++ compiles a small
driver that includes the header and evaluates events read from a float32 binary file, and both are
compared with the Reader (docs/deployment.md).

Run:  python examples/export_classification_pytorch.py  [--epochs N]
"""

import argparse
import shutil
import subprocess
from os.path import isfile

import numpy as np
import onnxruntime
import torch
from torch import nn

import pymva.pytorch
from pymva import TMVA, TCut
from pymva.export import export
from pymva.toydata import create_class_example

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--epochs", type=int, default=10, help="NumEpochs")
args = parser.parse_args()

if not isfile("tmva_class_example.root"):
    create_class_example("tmva_class_example.root")

torch.manual_seed(1)
model = nn.Sequential(
    nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2), nn.Softmax(dim=1)
)
torch.jit.save(torch.jit.script(model), "model.pt")
load_model_custom_objects = {
    "optimizer": torch.optim.Adam,
    "criterion": nn.MSELoss(),
    "train_func": pymva.pytorch.train,
    "predict_func": pymva.pytorch.predict,
}

factory = TMVA.Factory(
    "TMVAClassification", "TMVA.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification"
)
loader = TMVA.DataLoader("dataset")
for v in ("var1", "var2", "var3", "var4"):
    loader.AddVariable(v)
loader.AddSignalTree("tmva_class_example.root:TreeS")
loader.AddBackgroundTree("tmva_class_example.root:TreeB")
loader.PrepareTrainingAndTestTree(TCut(""), "nTrain_Signal=2000:nTrain_Background=2000:SplitMode=Random:!V")
factory.BookMethod(
    loader,
    TMVA.Types.kPyTorch,
    "PyTorch",
    f"!H:!V:VarTransform=D,G:FilenameModel=model.pt:NumEpochs={args.epochs}:BatchSize=32",
)
factory.TrainAllMethods()

weights = "dataset/weights/TMVAClassification_PyTorch.weights.xml"
export(weights, "onnx", "model.onnx")
export(weights, "cpp", "TMVA_PyTorch.hxx")
export(weights, "pt2", "model.pt2")  # torch.export: transforms + network in one program

# fresh events, and what the Reader gives for them
X = np.random.default_rng(7).normal(0.0, 1.5, size=(10000, 4)).astype(np.float32)
reader = TMVA.Reader("Silent")
for v in ("var1", "var2", "var3", "var4"):
    reader.AddVariable(v)
reader.BookMVA("PyTorch", weights)
expected = reader.EvaluateMVA(X, "PyTorch")

session = onnxruntime.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
onnx_mva = session.run(None, {"x": X})[0]
print(f"ONNX: max |onnxruntime - Reader| = {np.max(np.abs(onnx_mva - expected)):.3g} on {len(X)} events")

program = torch.export.load("model.pt2").module()  # or pymva.methods.exportedprogram.load_exported_program
with torch.inference_mode():
    pt2_mva = program(torch.from_numpy(X)).numpy()
print(f"torch.export: max |program - Reader| = {np.max(np.abs(pt2_mva - expected)):.3g} on {len(X)} events")

DRIVER = """#include <cstdio>
#include <vector>
#include "TMVA_PyTorch.hxx"
int main() {
  std::vector<float> x(10000 * 4);
  std::FILE* in = std::fopen("events.bin", "rb");
  if (!in || std::fread(x.data(), sizeof(float), x.size(), in) != x.size()) return 1;
  std::fclose(in);
  TMVA_SOFIE_PyTorch::Session session;
  std::vector<float> mva = session.infer(x.data(), 10000);
  std::FILE* out = std::fopen("mva.bin", "wb");
  std::fwrite(mva.data(), sizeof(float), mva.size(), out);
  std::fclose(out);
  return 0;
}
"""
if shutil.which("g++") is None:
    print("C++: g++ not found, TMVA_PyTorch.hxx written but not compiled")
else:
    with open("driver.cpp", "w") as f:
        f.write(DRIVER)
    X.tofile("events.bin")
    subprocess.run(["g++", "-O2", "-std=c++17", "driver.cpp", "-o", "driver"], check=True)
    subprocess.run(["./driver"], check=True)
    cpp_mva = np.fromfile("mva.bin", dtype=np.float32)
    print(
        f"C++: max |compiled header - Reader| = {np.max(np.abs(cpp_mva - expected)):.3g} on {len(X)} events"
    )
