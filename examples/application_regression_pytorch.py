"""ROOT's ApplicationRegressionPyTorch.py tutorial, run with pymva, plus its vectorised form.

Applies the PyTorch regression trained by ``regression_pytorch.py`` (run first; if its weights file
is missing, this script runs it) to the first 20 events of ``tmva_reg_example.root``, event by event
as ROOT's tutorial does, then to all events at once.

``EvaluateMVA`` on a regression method returns the method's raw first output, as TMVA's does; it
equals the regression target here because ``VarTransform=D,G`` transforms only the input variables.
``EvaluateRegression`` returns the targets passed back through the inverse target transforms.

The tutorial's code runs unchanged: ``TFile.Open``, ``Get``, ``GetListOfBranches``, ``GetName``,
``SetBranchAddress``, ``GetEntry`` and ``TString`` come from pymva's ROOT-compatibility layer
(``pymva.io.rootfile``).  Lines marked "pymva:" differ from ROOT's tutorial: the import line, the input
file generated with pymva.toydata instead of downloaded, running the training script when its
weights file is missing, and the vectorised part at the end.

Run:  python examples/application_regression_pytorch.py  [--epochs N]  (N for the training run, if any)
"""

import runpy  # pymva: runpy, sys and Path run the training script when needed
import sys
from array import array
from os.path import isfile
from pathlib import Path

import numpy as np  # pymva: for the vectorised part at the end
import torch

from pymva import TMVA, TFile, TString  # pymva: was "from ROOT import TMVA, TFile, TString"
from pymva.toydata import create_regression_example  # pymva: was "from subprocess import call"

# pymva: the tutorial expects RegressionPyTorch.py to have been run; run it if it has not
if not isfile("dataset/weights/TMVARegression_PyTorch.weights.xml"):
    print("TMVARegression_PyTorch.weights.xml not found: running regression_pytorch.py first")
    argv = sys.argv
    sys.argv = [str(Path(__file__).with_name("regression_pytorch.py")), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__training__")
    sys.argv = argv

# Setup TMVA
TMVA.Tools.Instance()
TMVA.PyMethodBase.PyInitialize()
reader = TMVA.Reader("Color:!Silent")

# Load data
if not isfile("tmva_reg_example.root"):
    create_regression_example("tmva_reg_example.root")  # pymva: generated instead of downloaded with curl

data = TFile.Open("tmva_reg_example.root")
tree = data.Get("TreeR")

branches = {}
for branch in tree.GetListOfBranches():
    branchName = branch.GetName()
    branches[branchName] = array("f", [-999])
    tree.SetBranchAddress(branchName, branches[branchName])
    if branchName != "fvalue":
        reader.AddVariable(branchName, branches[branchName])


# Book methods
reader.BookMVA("PyTorch", TString("dataset/weights/TMVARegression_PyTorch.weights.xml"))


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

# Print some example regressions
print("Some example regressions:")
for i in range(20):
    tree.GetEntry(i)
    print(f"True/MVA value: {branches['fvalue'][0]}/{reader.EvaluateMVA('PyTorch')}")

# pymva: beyond the tutorial, the same vectorised over all events of the tree at once
names = list(branches)
arrays = tree.uproot_tree.arrays(names, library="np")
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
