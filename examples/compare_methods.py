"""Compare PyTorch, Fisher, BDT and the PyMVA scikit-learn methods in one Factory, as TMVA users do.

Books six methods on the same DataLoader (the ClassificationPyTorch tutorial's data), trains,
tests and evaluates them; TMVA's tables rank them by signal efficiency and purity (area), and the
ROC curves of all methods are drawn together into ``ROC_CompareMethods.png``.

Run:  python examples/compare_methods.py [--epochs N]
"""

import argparse
from os.path import isfile

import torch
import uproot
from torch import nn

import pymva.pytorch
from pymva import TMVA, TCut
from pymva.toydata import create_class_example

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--epochs", type=int, default=20, help="NumEpochs of the PyTorch method")
args = parser.parse_args()

TMVA.Tools.Instance()
TMVA.PyMethodBase.PyInitialize()

factory = TMVA.Factory(
    "TMVACompare",
    "TMVA_CompareMethods.root",
    "!V:!Silent:Color:DrawProgressBar:Transformations=I:AnalysisType=Classification",
)

if not isfile("tmva_class_example.root"):
    create_class_example("tmva_class_example.root")
data = uproot.open("tmva_class_example.root")

dataloader = TMVA.DataLoader("dataset")
for branch in data["TreeS"].branches:
    dataloader.AddVariable(branch.name)
dataloader.AddSignalTree(data["TreeS"], 1.0)
dataloader.AddBackgroundTree(data["TreeB"], 1.0)
dataloader.PrepareTrainingAndTestTree(
    TCut(""), "nTrain_Signal=4000:nTrain_Background=4000:SplitMode=Random:NormMode=NumEvents:!V"
)

# the network and the ready-made training loop and prediction of pymva.pytorch
model = nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 2), nn.Softmax(dim=1))
torch.jit.save(torch.jit.script(model), "modelCompare.pt")
load_model_custom_objects = {
    "optimizer": torch.optim.Adam,
    "criterion": nn.MSELoss(),
    "train_func": pymva.pytorch.train,
    "predict_func": pymva.pytorch.predict,
}

factory.BookMethod(dataloader, TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher:VarTransform=D,G")
factory.BookMethod(
    dataloader,
    TMVA.Types.kBDT,
    "BDTG",
    "!H:!V:NTrees=200:MinNodeSize=2.5%:BoostType=Grad:Shrinkage=0.10:nCuts=20:MaxDepth=3",
)
factory.BookMethod(dataloader, TMVA.Types.kPyRandomForest, "PyRandomForest", "!V:NEstimators=100:MaxDepth=6")
factory.BookMethod(dataloader, TMVA.Types.kPyAdaBoost, "PyAdaBoost", "!V:NEstimators=100")
factory.BookMethod(dataloader, TMVA.Types.kPyGTB, "PyGTB", "!V:NEstimators=100:MaxDepth=3")
factory.BookMethod(
    dataloader,
    TMVA.Types.kPyTorch,
    "PyTorch",
    f"!H:!V:VarTransform=D,G:FilenameModel=modelCompare.pt:NumEpochs={args.epochs}:BatchSize=32",
)

factory.TrainAllMethods()
factory.TestAllMethods()
factory.EvaluateAllMethods()

for title in ("Fisher", "BDTG", "PyRandomForest", "PyAdaBoost", "PyGTB", "PyTorch"):
    print(f"ROC integral of {title:15s}: {factory.GetROCIntegral(dataloader, title):.4f}")

factory.GetROCCurve(dataloader).savefig("ROC_CompareMethods.png")
