"""ROOT's ApplicationRegressionPyTorch.py tutorial, run with pymva, plus its vectorised form.

Applies the PyTorch regression trained by ``regression_pytorch.py`` (run first; if its weights file
is missing, this script runs it) to the first 20 events of ``tmva_reg_example.root``, event by event
as ROOT's tutorial does, then to all events at once.

``EvaluateMVA`` on a regression method returns the method's raw first output, as TMVA's does; it
equals the regression target here because ``VarTransform=D,G`` transforms only the input variables.
``EvaluateRegression`` returns the targets passed back through the inverse target transforms.

Only the ROOT-specific lines changed (marked "pymva:"): the import and reading the tree with
uproot instead of ``SetBranchAddress``/``GetEntry``.

Run:  python examples/application_regression_pytorch.py  [--epochs N]  (N for the training run, if any)
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

WEIGHTS = "dataset/weights/TMVARegression_PyTorch.weights.xml"
if not isfile(WEIGHTS):  # pymva: the tutorial expects RegressionPyTorch.py to have been run
    print(f"{WEIGHTS} not found: running regression_pytorch.py first")
    argv = sys.argv
    sys.argv = [str(Path(__file__).with_name("regression_pytorch.py")), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__training__")
    sys.argv = argv

# Setup TMVA
TMVA.Tools.Instance()
TMVA.PyMethodBase.PyInitialize()
reader = TMVA.Reader("Color:!Silent")

# Load data
data = uproot.open("tmva_reg_example.root")  # pymva: was TFile.Open(...)
tree = data["TreeR"]  # pymva: was data.Get("TreeR")

branches = {}
for branch in tree.branches:  # pymva: was tree.GetListOfBranches()
    branchName = branch.name  # pymva: was branch.GetName()
    branches[branchName] = array("f", [-999])
    # pymva: no SetBranchAddress; the entries are copied into the buffers below
    if branchName != "fvalue":
        reader.AddVariable(branchName, branches[branchName])


# Book methods
reader.BookMVA("PyTorch", WEIGHTS)  # pymva: was TString(...)


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

names = list(branches)
arrays = tree.arrays(names, library="np")  # pymva: replaces SetBranchAddress + GetEntry

# Print some example regressions
print("Some example regressions:")
for i in range(20):
    for name in names:  # pymva: was tree.GetEntry(i)
        branches[name][0] = arrays[name][i]
    print(f"True/MVA value: {branches['fvalue'][0]}/{reader.EvaluateMVA('PyTorch')}")

# Beyond ROOT: the same, vectorised over all events of the tree at once
variables = [n for n in names if n != "fvalue"]
X = np.column_stack([arrays[n] for n in variables]).astype(np.float32)
regression = reader.EvaluateRegression(X, "PyTorch")  # shape (n_events, n_targets)
true = arrays["fvalue"]
print("Vectorised: first 20 regression values:", np.round(regression[:20, 0], 3))
deviation = regression[:, 0] - true
print(
    f"Vectorised: {len(X)} events, mean deviation {deviation.mean():.3f}, "
    f"RMS of the deviation {deviation.std():.3f} (RMS of fvalue itself {true.std():.3f})"
)
