"""ROOT's ApplicationClassificationKeras.py tutorial, run with pymva.

Applies the Keras classifier trained by ``classification_keras.py`` (run it first, in the same
directory) to the first 20 signal and 20 background events.  Lines marked "pymva:" differ from
ROOT's tutorial: the import line and the input file (the one ``classification_keras.py`` generated,
instead of ROOT's tutorial directory).

Run:  python examples/application_classification_keras.py
"""

from array import array

from pymva import TMVA, TFile, TString  # pymva: was "from ROOT import TMVA, TFile, TString, gROOT"

# Setup TMVA
TMVA.Tools.Instance()
TMVA.PyMethodBase.PyInitialize()
reader = TMVA.Reader("Color:!Silent")

# Load data
data = TFile.Open("tmva_class_example.root")  # pymva: was gROOT.GetTutorialDir() + ...
signal = data.Get("TreeS")
background = data.Get("TreeB")

branches = {}
for branch in signal.GetListOfBranches():
    branchName = branch.GetName()
    branches[branchName] = array("f", [-999])
    reader.AddVariable(branchName, branches[branchName])
    signal.SetBranchAddress(branchName, branches[branchName])
    background.SetBranchAddress(branchName, branches[branchName])

# Book methods
reader.BookMVA("PyKeras", TString("dataset/weights/TMVAClassification_PyKeras.weights.xml"))

# Print some example classifications
print("Some signal example classifications:")
for i in range(20):
    signal.GetEntry(i)
    print(reader.EvaluateMVA("PyKeras"))
print("")

print("Some background example classifications:")
for i in range(20):
    background.GetEntry(i)
    print(reader.EvaluateMVA("PyKeras"))
