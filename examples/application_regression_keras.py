"""ROOT's ApplicationRegressionKeras.py tutorial, run with pymva.

Applies the Keras regression trained by ``regression_keras.py`` (run it first, in the same
directory) to the first 20 events.  Lines marked "pymva:" differ from ROOT's tutorial: the import
line and the input file (the one ``regression_keras.py`` generated, instead of ROOT's tutorial
directory).

Run:  python examples/application_regression_keras.py
"""

from array import array

from pymva import TMVA, TFile, TString  # pymva: was "from ROOT import TMVA, TFile, TString, gROOT"

# Setup TMVA
TMVA.Tools.Instance()
TMVA.PyMethodBase.PyInitialize()
reader = TMVA.Reader("Color:!Silent")

# Load data
data = TFile.Open("tmva_reg_example.root")  # pymva: was gROOT.GetTutorialDir() + ...
tree = data.Get("TreeR")

branches = {}
for branch in tree.GetListOfBranches():
    branchName = branch.GetName()
    branches[branchName] = array("f", [-999])
    tree.SetBranchAddress(branchName, branches[branchName])
    if branchName != "fvalue":
        reader.AddVariable(branchName, branches[branchName])

# Book methods
reader.BookMVA("PyKeras", TString("dataset/weights/TMVARegression_PyKeras.weights.xml"))

# Print some example regressions
print("Some example regressions:")
for i in range(20):
    tree.GetEntry(i)
    print("True/MVA value: {}/{}".format(branches["fvalue"][0], reader.EvaluateMVA("PyKeras")))
