"""ROOT's TMVAClassificationApplication.C tutorial, written as a PyROOT user writes it, run with pymva.

Applies the classifiers that ``TMVAClassification.py`` trained (run it first with the same method
list; if the weights file of a selected method is missing, this script runs it) to the signal
events of the tutorial's toy sample, event by event through the Reader's bound variables.  The
methods are chosen as the macro's argument chooses them: without arguments TMVA's default selection
of the application macro, otherwise the methods named on the command line::

    python examples/TMVAClassificationApplication.py                    # the default selection
    python examples/TMVAClassificationApplication.py Fisher,Likelihood  # as the macro's argument

Lines marked "pymva:" differ from ROOT's tutorial: the import line, where the input file comes from
(as in ``TMVAClassification.py``), the ``--events`` option, numpy histograms instead of TH1F (no
``TMVApp.root``), the way ``MethodCuts::GetCuts`` returns the cuts, and the summary printed at the
end.
"""

import argparse  # pymva: for the method list and --events
import importlib.util  # pymva: finds ROOT's tutorial data without importing ROOT
import runpy  # pymva: runpy and Path run the training script when needed
import sys
import time  # pymva: instead of TStopwatch
from array import array
from os.path import isfile, join
from pathlib import Path

import numpy as np  # pymva: the histograms

from pymva import TMVA, TFile  # pymva: was "import ROOT; from ROOT import TMVA, TFile"
from pymva.toydata import create_class_example  # pymva: writes the tutorial's input when absent

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # pymva
parser.add_argument("methods", nargs="*", help="methods to apply (comma- or space-separated)")
parser.add_argument("--events", type=int, default=0, help="process only the first N events (0: all)")
args = parser.parse_args()


def tutorial_file(name):  # pymva: gROOT->GetTutorialDir() + "/machine_learning/data/" + name
    spec = importlib.util.find_spec("ROOT")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = join(location, "tutorials", "machine_learning", "data", name)
        if isfile(path):
            return path
    if not isfile(name):
        create_class_example(name)  # pymva: generated instead
    return name


def TMVAClassificationApplication(myMethodList=""):
    # This loads the library
    TMVA.Tools.Instance()

    # Default MVA methods to be trained + tested
    Use = {}

    # Cut optimisation
    Use["Cuts"] = 1
    Use["CutsD"] = 1
    Use["CutsPCA"] = 0
    Use["CutsGA"] = 0
    Use["CutsSA"] = 0
    #
    # 1-dimensional likelihood ("naive Bayes estimator")
    Use["Likelihood"] = 1
    Use["LikelihoodD"] = 0  # the "D" extension indicates decorrelated input variables (see option strings)
    Use["LikelihoodPCA"] = (
        1  # the "PCA" extension indicates PCA-transformed input variables (see option strings)
    )
    Use["LikelihoodKDE"] = 0
    Use["LikelihoodMIX"] = 0
    #
    # Mutidimensional likelihood and Nearest-Neighbour methods
    Use["PDERS"] = 1
    Use["PDERSD"] = 0
    Use["PDERSPCA"] = 0
    Use["PDEFoam"] = 1
    Use["PDEFoamBoost"] = 0  # uses generalised MVA method boosting
    Use["KNN"] = 1  # k-nearest neighbour method
    #
    # Linear Discriminant Analysis
    Use["LD"] = 1  # Linear Discriminant identical to Fisher
    Use["Fisher"] = 0
    Use["FisherG"] = 0
    Use["BoostedFisher"] = 0  # uses generalised MVA method boosting
    Use["HMatrix"] = 0
    #
    # Function Discriminant analysis
    Use["FDA_GA"] = 1  # minimisation of user-defined function using Genetics Algorithm
    Use["FDA_SA"] = 0
    Use["FDA_MC"] = 0
    Use["FDA_MT"] = 0
    Use["FDA_GAMT"] = 0
    Use["FDA_MCMT"] = 0
    #
    # Neural Networks (all are feed-forward Multilayer Perceptrons)
    Use["MLP"] = 0  # Recommended ANN
    Use["MLPBFGS"] = 0  # Recommended ANN with optional training method
    Use["MLPBNN"] = 1  # Recommended ANN with BFGS training method and bayesian regulator
    Use["CFMlpANN"] = 0  # Depreciated ANN from ALEPH
    Use["TMlpANN"] = 0  # ROOT's own ANN
    Use["DNN_CPU"] = 0  # CUDA-accelerated DNN training.
    Use["DNN_GPU"] = 0  # Multi-core accelerated DNN.
    #
    # Support Vector Machine
    Use["SVM"] = 1
    #
    # Boosted Decision Trees
    Use["BDT"] = 1  # uses Adaptive Boost
    Use["BDTG"] = 0  # uses Gradient Boost
    Use["BDTB"] = 0  # uses Bagging
    Use["BDTD"] = 0  # decorrelation + Adaptive Boost
    Use["BDTF"] = 0  # allow usage of fisher discriminant for node splitting
    #
    # Friedman's RuleFit method, ie, an optimised series of cuts ("rules")
    Use["RuleFit"] = 1
    # ---------------------------------------------------------------
    Use["Plugin"] = 0
    Use["Category"] = 0
    Use["SVM_Gauss"] = 0
    Use["SVM_Poly"] = 0
    Use["SVM_Lin"] = 0

    print()
    print("==> Start TMVAClassificationApplication")

    # Select methods (don't look at this code - not of interest)
    if myMethodList != "":
        for it in Use:
            Use[it] = 0

        mlist = [m for m in myMethodList.split(",") if m]  # pymva: gTools().SplitString
        for regMethod in mlist:
            if regMethod not in Use:
                print(f'Method "{regMethod}" not known in TMVA under this name. Choose among the following:')
                print(" ".join(sorted(Use)) + " ")  # std::map iterates in sorted order
                return
            Use[regMethod] = 1

    # --------------------------------------------------------------------------------------------------

    # Create the Reader object

    reader = TMVA.Reader("!Color:!Silent")

    # Create a set of variables and declare them to the reader
    # - the variable names MUST corresponds in name and type to those given in the weight file(s) used
    var1, var2, var3, var4 = (array("f", [0.0]) for _ in range(4))
    reader.AddVariable("myvar1 := var1+var2", var1)
    reader.AddVariable("myvar2 := var1-var2", var2)
    reader.AddVariable("var3", var3)
    reader.AddVariable("var4", var4)

    # Spectator variables declared in the training have to be added to the reader, too
    spec1, spec2 = array("f", [0.0]), array("f", [0.0])
    reader.AddSpectator("spec1 := var1*2", spec1)
    reader.AddSpectator("spec2 := var1*3", spec2)

    Category_cat1, Category_cat2, Category_cat3 = (array("f", [0.0]) for _ in range(3))
    if Use["Category"]:
        # Add artificial spectators for distinguishing categories
        reader.AddSpectator("Category_cat1 := var3<=0", Category_cat1)
        reader.AddSpectator("Category_cat2 := (var3>0)&&(var4<0)", Category_cat2)
        reader.AddSpectator("Category_cat3 := (var3>0)&&(var4>=0)", Category_cat3)

    # Book the MVA methods

    dir = "dataset/weights/"
    prefix = "TMVAClassification"

    # Book method(s)
    for it, use in sorted(Use.items()):  # std::map iterates in sorted order
        if use:
            methodName = it + " method"
            weightfile = dir + prefix + "_" + it + ".weights.xml"
            reader.BookMVA(methodName, weightfile)

    # Book output histograms
    # pymva: numpy histograms (name: (nbin, low, high)) instead of TH1F
    nbin = 100
    ranges = {
        "Likelihood": (-1, 1),
        "LikelihoodD": (-1, 0.9999),
        "LikelihoodPCA": (-1, 1),
        "LikelihoodKDE": (-0.00001, 0.99999),
        "LikelihoodMIX": (0, 1),
        "PDERS": (0, 1),
        "PDERSD": (0, 1),
        "PDERSPCA": (0, 1),
        "KNN": (0, 1),
        "HMatrix": (-0.95, 1.55),
        "Fisher": (-4, 4),
        "FisherG": (-1, 1),
        "BoostedFisher": (-2, 2),
        "LD": (-2, 2),
        "MLP": (-1.25, 1.5),
        "MLPBFGS": (-1.25, 1.5),
        "MLPBNN": (-1.25, 1.5),
        "CFMlpANN": (0, 1),
        "TMlpANN": (-1.3, 1.3),
        "DNN_GPU": (-0.1, 1.1),
        "DNN_CPU": (-0.1, 1.1),
        "BDT": (-0.8, 0.8),
        "BDTG": (-1.0, 1.0),
        "BDTB": (-1.0, 1.0),
        "BDTD": (-0.8, 0.8),
        "BDTF": (-1.0, 1.0),
        "RuleFit": (-2.0, 2.0),
        "SVM_Gauss": (0.0, 1.0),
        "SVM_Poly": (0.0, 1.0),
        "SVM_Lin": (0.0, 1.0),
        "FDA_MT": (-2.0, 3.0),
        "FDA_GA": (-2.0, 3.0),
        "Category": (-2.0, 2.0),
        "Plugin": (-0.8, 0.8),
        "PDEFoam": (0, 1),
        "PDEFoamErr": (0, 1),
        "PDEFoamSig": (0, 10),
        "Fisher_Proba": (0, 1),
        "Fisher_Rarity": (0, 1),
    }
    values = {name: [] for name in ranges}
    extra = ("PDEFoam", "PDEFoamErr", "PDEFoamSig", "Fisher_Proba", "Fisher_Rarity")  # pymva
    histogrammed = [name for name in ranges if name not in extra]  # pymva

    # Prepare input tree (this must be replaced by your data source)
    # in this example, there is a toy tree with signal and one with background events
    # we'll later on use only the "signal" events for the test in this example.
    #
    input = None
    fname = tutorial_file("tmva_class_example.root")
    if isfile(fname):
        input = TFile.Open(fname)  # check if file in local directory exists
    if not input:
        print("ERROR: could not open data file")
        raise SystemExit(1)
    print("--- TMVAClassificationApp    : Using input file:", input.GetName())

    # Event loop

    # Prepare the event tree
    # - Here the variable names have to corresponds to your tree
    # - You can use the same variables as above which is slightly faster,
    #   but of course you can use different ones and copy the values inside the event loop
    #
    print("--- Select signal sample")
    theTree = input.Get("TreeS")
    userVar1, userVar2 = array("f", [0.0]), array("f", [0.0])
    theTree.SetBranchAddress("var1", userVar1)
    theTree.SetBranchAddress("var2", userVar2)
    theTree.SetBranchAddress("var3", var3)
    theTree.SetBranchAddress("var4", var4)

    # Efficiency calculator for cut method
    nSelCutsGA = 0
    effS = 0.7

    nEvents = theTree.GetEntries()
    if args.events:  # pymva
        nEvents = min(nEvents, args.events)
    print("--- Processing:", nEvents, "events")
    start = time.perf_counter()
    for ievt in range(nEvents):
        if ievt % 1000 == 0:
            print("--- ... Processing event:", ievt)

        theTree.GetEntry(ievt)

        var1[0] = userVar1[0] + userVar2[0]
        var2[0] = userVar1[0] - userVar2[0]

        # Return the MVA outputs and fill into histograms

        if Use["CutsGA"]:
            # Cuts is a special case: give the desired signal efficiency
            passed = reader.EvaluateMVA("CutsGA method", effS)
            if passed:
                nSelCutsGA += 1

        # pymva: one loop over the tutorial's histogrammed methods instead of one line each (as in the
        # tutorial, SVM is booked but not histogrammed: only SVM_Gauss, SVM_Poly and SVM_Lin are)
        for name in histogrammed:
            if Use[name]:
                tag = "P_BDT method" if name == "Plugin" else name + " method"
                values[name].append(reader.EvaluateMVA(tag))

        # Retrieve also per-event error
        if Use["PDEFoam"]:
            val = reader.EvaluateMVA("PDEFoam method")
            err = reader.GetMVAError()
            values["PDEFoam"].append(val)
            values["PDEFoamErr"].append(err)
            if err > 1.0e-50:
                values["PDEFoamSig"].append(val / err)

        # Retrieve probability instead of MVA output
        if Use["Fisher"]:
            values["Fisher_Proba"].append(reader.GetProba("Fisher method"))
            values["Fisher_Rarity"].append(reader.GetRarity("Fisher method"))

    # Get elapsed time
    print(f"--- End of event loop: Real time {time.perf_counter() - start:.2f} s")

    # Get efficiency for cuts classifier
    if Use["CutsGA"]:
        print(
            "--- Efficiency for CutsGA method:",
            nSelCutsGA / nEvents,
            "(for a required signal efficiency of",
            effS,
            ")",
        )

    if Use["CutsGA"]:
        # test: retrieve cuts for particular signal efficiency
        # CINT ignores dynamic_casts so we have to use a cuts-specific Reader function to access the pointer
        mcuts = reader.FindMVA("CutsGA method")

        if mcuts:
            _, cutsMin, cutsMax = mcuts.GetCuts(0.7)  # pymva: returns the cuts instead of filling vectors
            print("--- -------------------------------------------------------------")
            print("--- Retrieve cut values for signal efficiency of 0.7 from Reader")
            for ivar in range(len(cutsMin)):
                inputVar = mcuts.context.variables[ivar].expression  # pymva: mcuts->GetInputVar(ivar)
                print(f'... Cut: {cutsMin[ivar]} < "{inputVar}" <= {cutsMax[ivar]}')
            print("--- -------------------------------------------------------------")

    # pymva: a summary of the histograms instead of writing them to TMVApp.root
    for name in sorted(values):
        v = np.asarray(values[name], dtype=np.float64)
        if len(v) == 0:
            continue
        hist, _ = np.histogram(v, bins=nbin, range=ranges[name])
        print(
            f"{name}: mean response on {len(v)} signal events {v.mean():.4f}; {int(hist.sum())} of {len(v)} "
            "in the histogram range"
        )

    del reader

    print("==> TMVAClassificationApplication is done!")
    print()


methodList = ",".join(args.methods)
# pymva: the tutorial expects TMVAClassification to have been run; run it if it has not
selected = [m for m in methodList.split(",") if m] or ["LD"]
if not all(isfile(f"dataset/weights/TMVAClassification_{m}.weights.xml") for m in selected):
    print("weights files not found: running TMVAClassification.py", methodList)
    argv, sys.argv = sys.argv, [str(Path(__file__).with_name("TMVAClassification.py")), methodList]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as exc:  # the training script ends with sys.exit(TMVAClassification(...))
        if exc.code:
            raise
    sys.argv = argv

TMVAClassificationApplication(methodList)
