"""ROOT's ApplicationClassificationPyTorch.py tutorial, run with pymva, plus its vectorised form.

Applies the PyTorch classifier trained by ``classification_pytorch.py`` (run first; if its weights
file is missing, this script runs it) to the first 20 signal and 20 background events, event by
event as ROOT's tutorial does (``SetBranchAddress`` + ``GetEntry``), then to all events at once.

The tutorial's code runs unchanged: ``TFile.Open``, ``Get``, ``GetListOfBranches``, ``GetName``,
``SetBranchAddress``, ``GetEntry`` and ``TString`` come from pymva's ROOT-compatibility layer
(``pymva.io.rootfile``).  Lines marked "pymva:" differ from ROOT's tutorial: the import line, the input
file generated with pymva.toydata instead of downloaded, running the training script when its
weights file is missing, and the vectorised part at the end.

Run:  python examples/application_classification_pytorch.py
"""

import runpy  # pymva: runpy, sys and Path run the training script when needed
import sys
from array import array
from os.path import isfile
from pathlib import Path

import numpy as np  # pymva: for the vectorised part at the end
import torch

from pymva import TMVA, TFile, TString  # pymva: was "from ROOT import TMVA, TFile, TString"
from pymva.toydata import create_class_example  # pymva: was "from subprocess import call"

# pymva: the tutorial expects ClassificationPyTorch.py to have been run; run it if it has not
if not isfile("dataset/weights/TMVAClassification_PyTorch.weights.xml"):
    print("TMVAClassification_PyTorch.weights.xml not found: running classification_pytorch.py first")
    argv = sys.argv
    sys.argv = [str(Path(__file__).with_name("classification_pytorch.py")), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__training__")
    sys.argv = argv

# Setup TMVA
TMVA.Tools.Instance()
TMVA.PyMethodBase.PyInitialize()
reader = TMVA.Reader("Color:!Silent")

# Load data
if not isfile("tmva_class_example.root"):
    create_class_example("tmva_class_example.root")  # pymva: generated instead of downloaded with curl

data = TFile.Open("tmva_class_example.root")
signal = data.Get("TreeS")
background = data.Get("TreeB")

branches = {}
for branch in signal.GetListOfBranches():
    branchName = branch.GetName()
    branches[branchName] = array("f", [-999])
    reader.AddVariable(branchName, branches[branchName])
    signal.SetBranchAddress(branchName, branches[branchName])
    background.SetBranchAddress(branchName, branches[branchName])


# Define predict function
def predict(model, test_X, batch_size=32):
    # Set to eval mode
    model.eval()

    test_dataset = torch.utils.data.TensorDataset(torch.Tensor(test_X))
    test_loader = torch.utils.data.DataLoader(test_dataset, batch_size=batch_size, shuffle=False)

    predictions = []
    with torch.no_grad():
        for i, data in enumerate(test_loader):
            X = data[0]
            outputs = model(X)
            predictions.append(outputs)
        preds = torch.cat(predictions)

    return preds.numpy()


load_model_custom_objects = {
    "optimizer": None,
    "criterion": None,
    "train_func": None,
    "predict_func": predict,
}

# Book methods
reader.BookMVA("PyTorch", TString("dataset/weights/TMVAClassification_PyTorch.weights.xml"))

# Print some example classifications
print("Some signal example classifications:")
for i in range(20):
    signal.GetEntry(i)
    print(reader.EvaluateMVA("PyTorch"))
print("")

print("Some background example classifications:")
for i in range(20):
    background.GetEntry(i)
    print(reader.EvaluateMVA("PyTorch"))

# pymva: beyond the tutorial, the same vectorised over all events of each tree at once
names = list(branches)
sig_arrays = signal.uproot_tree.arrays(names, library="np")
bkg_arrays = background.uproot_tree.arrays(names, library="np")
X_sig = np.column_stack([sig_arrays[n] for n in names]).astype(np.float32)
X_bkg = np.column_stack([bkg_arrays[n] for n in names]).astype(np.float32)
mva_sig = reader.EvaluateMVA(X_sig, "PyTorch")
mva_bkg = reader.EvaluateMVA(X_bkg, "PyTorch")
print("Vectorised: first 20 signal responses:", np.round(mva_sig[:20], 6))
print(
    f"Vectorised: mean response on {len(mva_sig)} signal events {mva_sig.mean():.3f}, "
    f"on {len(mva_bkg)} background events {mva_bkg.mean():.3f}"
)
