"""ROOT's ApplicationClassificationPyTorch.py tutorial, run with pymva, plus its vectorised form.

Applies the PyTorch classifier trained by ``classification_pytorch.py`` (run first; if its weights
file is missing, this script runs it) to the first 20 signal and 20 background events, event by
event as ROOT's tutorial does, then to all events at once.

Only the ROOT-specific lines changed (marked "pymva:"): the import and reading the trees with
uproot instead of ``SetBranchAddress``/``GetEntry``.

Run:  python examples/application_classification_pytorch.py
"""

import runpy
import sys
from array import array
from os.path import isfile
from pathlib import Path

import numpy as np
import torch
import uproot  # pymva: trees are read with uproot

from pymva import TMVA  # pymva: was "from ROOT import TMVA, TFile, TString, gROOT"

WEIGHTS = "dataset/weights/TMVAClassification_PyTorch.weights.xml"
if not isfile(WEIGHTS):
    print(f"{WEIGHTS} not found: running classification_pytorch.py first")
    argv = sys.argv
    sys.argv = [str(Path(__file__).with_name("classification_pytorch.py")), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__training__")
    sys.argv = argv

# Setup TMVA
TMVA.Tools.Instance()
TMVA.PyMethodBase.PyInitialize()
reader = TMVA.Reader("Color:!Silent")

data = uproot.open("tmva_class_example.root")  # pymva: was TFile.Open(...)
signal = data["TreeS"]  # pymva: was data.Get("TreeS")
background = data["TreeB"]

branches = {}
for branch in signal.branches:  # pymva: was signal.GetListOfBranches()
    branchName = branch.name  # pymva: was branch.GetName()
    branches[branchName] = array("f", [-999])
    reader.AddVariable(branchName, branches[branchName])
    # pymva: no SetBranchAddress; the entries are copied into the buffers below


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


load_model_custom_objects = {"optimizer": None, "criterion": None, "train_func": None, "predict_func": predict}

# Book methods
reader.BookMVA("PyTorch", WEIGHTS)

names = list(branches)
sig_arrays = signal.arrays(names, library="np")  # pymva: replaces SetBranchAddress + GetEntry
bkg_arrays = background.arrays(names, library="np")

# Print some example classifications
print("Some signal example classifications:")
for i in range(20):
    for name in names:  # pymva: was signal.GetEntry(i)
        branches[name][0] = sig_arrays[name][i]
    print(reader.EvaluateMVA("PyTorch"))
print("")

print("Some background example classifications:")
for i in range(20):
    for name in names:  # pymva: was background.GetEntry(i)
        branches[name][0] = bkg_arrays[name][i]
    print(reader.EvaluateMVA("PyTorch"))
print("")

# Beyond ROOT: the same, vectorised over all events of each tree at once
X_sig = np.column_stack([sig_arrays[n] for n in names]).astype(np.float32)
X_bkg = np.column_stack([bkg_arrays[n] for n in names]).astype(np.float32)
mva_sig = reader.EvaluateMVA(X_sig, "PyTorch")
mva_bkg = reader.EvaluateMVA(X_bkg, "PyTorch")
print("Vectorised: first 20 signal responses:", np.round(mva_sig[:20], 6))
print(f"Vectorised: mean response on {len(mva_sig)} signal events {mva_sig.mean():.3f}, "
      f"on {len(mva_bkg)} background events {mva_bkg.mean():.3f}")
