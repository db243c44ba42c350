"""ROOT's TMVARegressionApplication.C tutorial, written as a PyROOT user writes it, run with pymva.

Applies the regression methods that ``TMVARegression.py`` trained (run it first with the same
method list; if the weights file of a selected method is missing, this script runs it) to the
events of the tutorial's toy sample, event by event through the Reader's bound variables.  The
methods are chosen as the macro's argument chooses them::

    python examples/TMVARegressionApplication.py            # the default selection
    python examples/TMVARegressionApplication.py LD,KNN     # as the macro's argument

Lines marked "pymva:" differ from ROOT's tutorial: the import line, where the input file comes from
(as in ``TMVARegression.py``), the ``R__HAS_TMVAGPU``/``R__HAS_TMVACPU`` flags, the ``--events``
option, numpy histograms instead of TH1F (no ``TMVARegApp.root``), and the summary printed at the
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
from pymva.toydata import create_regression_example  # pymva: writes the tutorial's input when absent

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # pymva
parser.add_argument("methods", nargs="*", help="methods to apply (comma- or space-separated)")
parser.add_argument("--events", type=int, default=0, help="process only the first N events (0: all)")
args = parser.parse_args()

# pymva: ROOT's build flags (a CPU build), as in TMVARegression.py
R__HAS_TMVAGPU = False
R__HAS_TMVACPU = True


def tutorial_file(name):  # pymva: gROOT->GetTutorialDir() + "/machine_learning/data/" + name
    spec = importlib.util.find_spec("ROOT")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = join(location, "tutorials", "machine_learning", "data", name)
        if isfile(path):
            return path
    if not isfile(name):
        create_regression_example(name)  # pymva: generated instead
    return name


def TMVARegressionApplication(myMethodList=""):
    # ---------------------------------------------------------------
    # This loads the library
    TMVA.Tools.Instance()

    # Default MVA methods to be trained + tested
    Use = {}

    # --- Mutidimensional likelihood and Nearest-Neighbour methods
    Use["PDERS"] = 0
    Use["PDEFoam"] = 1
    Use["KNN"] = 1
    #
    # --- Linear Discriminant Analysis
    Use["LD"] = 1
    #
    # --- Function Discriminant analysis
    Use["FDA_GA"] = 0
    Use["FDA_MC"] = 0
    Use["FDA_MT"] = 0
    Use["FDA_GAMT"] = 0
    #
    # --- Neural Network
    Use["MLP"] = 0
    # Deep neural network
    if R__HAS_TMVAGPU:
        Use["DNN_GPU"] = 1
        Use["DNN_CPU"] = 0
    else:
        Use["DNN_GPU"] = 0
        Use["DNN_CPU"] = 1 if R__HAS_TMVACPU else 0
    #
    # --- Support Vector Machine
    Use["SVM"] = 0
    #
    # --- Boosted Decision Trees
    Use["BDT"] = 0
    Use["BDTG"] = 1
    # ---------------------------------------------------------------

    print()
    print("==> Start TMVARegressionApplication")

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

    # --- Create the Reader object

    reader = TMVA.Reader("!Color:!Silent")

    # Create a set of variables and declare them to the reader
    # - the variable names MUST corresponds in name and type to those given in the weight file(s) used
    var1, var2 = array("f", [0.0]), array("f", [0.0])
    reader.AddVariable("var1", var1)
    reader.AddVariable("var2", var2)

    # Spectator variables declared in the training have to be added to the reader, too
    spec1, spec2 = array("f", [0.0]), array("f", [0.0])
    reader.AddSpectator("spec1:=var1*2", spec1)
    reader.AddSpectator("spec2:=var1*3", spec2)

    # --- Book the MVA methods

    dir = "datasetreg/weights/"
    prefix = "TMVARegression"

    # Book method(s)
    for it, use in sorted(Use.items()):  # std::map iterates in sorted order
        if use:
            methodName = it + " method"
            weightfile = dir + prefix + "_" + it + ".weights.xml"
            reader.BookMVA(methodName, weightfile)

    # Book output histograms
    hists = []  # pymva: (title, values) pairs, numpy histograms instead of TH1F(name, title, 100, -100, 600)
    for it, use in sorted(Use.items()):
        if use:
            hists.append((it + " method", []))

    # Prepare input tree (this must be replaced by your data source)
    # in this example, there is a toy tree with signal and one with background events
    # we'll later on use only the "signal" events for the test in this example.
    #
    input = None
    fname = tutorial_file("tmva_reg_example.root")
    if isfile(fname):
        input = TFile.Open(fname)  # check if file in local directory exists
    if not input:
        print("ERROR: could not open data file")
        raise SystemExit(1)
    print("--- TMVARegressionApp        : Using input file:", input.GetName())

    # --- Event loop

    # Prepare the tree
    # - here the variable names have to corresponds to your tree
    # - you can use the same variables as above which is slightly faster,
    #   but of course you can use different ones and copy the values inside the event loop
    #
    theTree = input.Get("TreeR")
    print("--- Select signal sample")
    theTree.SetBranchAddress("var1", var1)
    theTree.SetBranchAddress("var2", var2)
    fvalue = array("f", [0.0])  # pymva: the target, for the summary at the end
    theTree.SetBranchAddress("fvalue", fvalue)

    nEvents = theTree.GetEntries()
    if args.events:  # pymva
        nEvents = min(nEvents, args.events)
    print("--- Processing:", nEvents, "events")
    start = time.perf_counter()
    truth = []  # pymva
    for ievt in range(nEvents):
        if ievt % 1000 == 0:
            print("--- ... Processing event:", ievt)

        theTree.GetEntry(ievt)
        truth.append(fvalue[0])  # pymva

        # Retrieve the MVA target values (regression outputs) and fill into histograms
        # NOTE: EvaluateRegression(..) returns a vector for multi-target regression

        for title, values in hists:
            val = reader.EvaluateRegression(title)[0]
            values.append(val)

    print(f"--- End of event loop: Real time {time.perf_counter() - start:.2f} s")

    # pymva: a summary of the histograms instead of writing them to TMVARegApp.root
    truth = np.asarray(truth, dtype=np.float64)
    for title, values in hists:
        v = np.asarray(values, dtype=np.float64)
        hist, _ = np.histogram(v, bins=100, range=(-100, 600))
        dev = v - truth
        print(
            f"{title}: {int(hist.sum())} of {len(v)} events in the histogram range; RMS of the deviation "
            f"{dev.std():.4g} (RMS of fvalue itself {truth.std():.4g})"
        )

    del reader

    print("==> TMVARegressionApplication is done!")
    print()


methodList = ",".join(args.methods)
# pymva: the tutorial expects TMVARegression to have been run; run it if it has not
selected = [m for m in methodList.split(",") if m] or ["LD"]
if not all(isfile(f"datasetreg/weights/TMVARegression_{m}.weights.xml") for m in selected):
    print("weights files not found: running TMVARegression.py", methodList)
    argv, sys.argv = sys.argv, [str(Path(__file__).with_name("TMVARegression.py")), methodList]
    runpy.run_path(sys.argv[0], run_name="__main__")
    sys.argv = argv

TMVARegressionApplication(methodList)
