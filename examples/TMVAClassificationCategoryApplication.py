"""ROOT's TMVAClassificationCategoryApplication.C tutorial, written as a PyROOT user writes it, run with pymva.

Applies the Category methods ``FisherCat`` and ``LikelihoodCat`` of ``TMVAClassificationCategory.py``
(run first; if their weights files are missing, this script runs it) to the signal events of the
toy file, event by event: the Reader books the Category weights files, and every event is scored by
the sub-method of its category, chosen from the spectator ``eta``.

Lines marked "pymva:" differ from ROOT's tutorial: the import line, where the input file comes from
(as in ``TMVAClassificationCategory.py``), the ``--varoff`` and ``--events`` options, numpy
histograms instead of TH1F (no ``TMVApp.root``), and the summary printed at the end.

Run:  python examples/TMVAClassificationCategoryApplication.py  [--varoff] [--events N]
"""

import argparse  # pymva: for --varoff and --events
import importlib.util  # pymva: finds ROOT's tutorial data without importing ROOT
import runpy  # pymva: runpy, sys and Path run the training script when needed
import sys
import time  # pymva: instead of TStopwatch
from array import array
from os.path import isfile, join
from pathlib import Path

import numpy as np  # pymva: the histograms

from pymva import TMVA, TFile  # pymva: was "import ROOT; from ROOT import TMVA, TFile"
from pymva.toydata import create_category_example  # pymva: writes the tutorial's input when absent

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # pymva
parser.add_argument("--varoff", action="store_true", help="UseOffsetMethod = false (the varoff data)")
parser.add_argument("--events", type=int, default=0, help="process only the first N events (0: all)")
args = parser.parse_args()

# two types of category methods are implemented
UseOffsetMethod = not args.varoff  # pymva: was Bool_t UseOffsetMethod = kTRUE


def tutorial_file(name):  # pymva: gROOT->GetTutorialDir() + "/machine_learning/data/" + name
    spec = importlib.util.find_spec("ROOT")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = join(location, "tutorials", "machine_learning", "data", name)
        if isfile(path):
            return path
    if not isfile(name):
        create_category_example(name, offset=name.endswith("offset.root"))  # pymva: generated instead
    return name


def TMVAClassificationCategoryApplication():
    # ---------------------------------------------------------------
    # default MVA methods to be trained + tested
    Use = {}
    Use["LikelihoodCat"] = 1
    Use["FisherCat"] = 1
    # ---------------------------------------------------------------

    print("\n==> Start TMVAClassificationCategoryApplication")

    # Create the Reader object
    reader = TMVA.Reader("!Color:!Silent")

    # Create a set of variables and spectators and declare them to the reader
    # - the variable names MUST corresponds in name and type to those given in the weight file(s) used
    var1, var2, var3, var4, eta = (array("f", [0.0]) for _ in range(5))
    reader.AddVariable("var1", var1)
    reader.AddVariable("var2", var2)
    reader.AddVariable("var3", var3)
    reader.AddVariable("var4", var4)

    reader.AddSpectator("eta", eta)

    # Book the MVA methods
    for name, use in sorted(Use.items()):
        if use:
            methodName = name + " method"
            weightfile = "dataset/weights/TMVAClassificationCategory_" + name + ".weights.xml"
            reader.BookMVA(methodName, weightfile)

    # Book output histograms
    nbin = 100
    ranges = {"LikelihoodCat": (-1, 0.9999), "FisherCat": (-4, 4)}  # pymva: numpy histograms, not TH1F
    values = {name: [] for name in Use}

    # Prepare input tree (this must be replaced by your data source)
    # in this example, there is a toy tree with signal and one with background events
    # we'll later on use only the "signal" events for the test in this example.
    if UseOffsetMethod:
        fname = tutorial_file("toy_sigbkg_categ_offset.root")
    else:
        fname = tutorial_file("toy_sigbkg_categ_varoff.root")
    print("--- TMVAClassificationApp    : Accessing", fname + "!")
    input = TFile.Open(fname)
    if not input:
        print("ERROR: could not open data file:", fname)
        raise SystemExit(1)

    # Event loop

    # Prepare the tree
    # - here the variable names have to corresponds to your tree
    # - you can use the same variables as above which is slightly faster,
    #   but of course you can use different ones and copy the values inside the event loop
    theTree = input.Get("TreeS")
    print("--- Use signal sample for evaluation")
    theTree.SetBranchAddress("var1", var1)
    theTree.SetBranchAddress("var2", var2)
    theTree.SetBranchAddress("var3", var3)
    theTree.SetBranchAddress("var4", var4)

    theTree.SetBranchAddress("eta", eta)  # spectator

    nEvents = theTree.GetEntries()
    if args.events:  # pymva
        nEvents = min(nEvents, args.events)
    print("--- Processing:", nEvents, "events")
    start = time.perf_counter()
    rows = []  # pymva
    for ievt in range(nEvents):
        if ievt % 1000 == 0:
            print("--- ... Processing event:", ievt)

        theTree.GetEntry(ievt)
        rows.append([var1[0], var2[0], var3[0], var4[0], eta[0]])  # pymva: for the vectorised check

        # Return the MVA outputs and fill into histograms
        for name, use in sorted(Use.items()):
            if not use:
                continue
            methodName = name + " method"
            values[name].append(reader.EvaluateMVA(methodName))

    print(f"--- End of event loop: Real time {time.perf_counter() - start:.2f} s")
    theTree.ResetBranchAddresses()

    # pymva: a summary instead of writing the histograms to TMVApp.root
    for name in sorted(Use):
        v = np.asarray(values[name])
        hist, _ = np.histogram(v, bins=nbin, range=ranges[name])
        print(
            f"{name}: mean response on {len(v)} signal events {v.mean():.4f}; {int(hist.sum())} of {len(v)} "
            "in the histogram range"
        )
    # pymva: the same events in one vectorised call (the variables, then the spectator)
    X = np.array(rows, dtype=np.float32)
    for name in sorted(Use):
        same = np.allclose(reader.EvaluateMVA(X, name + " method"), values[name], rtol=0, atol=1e-6)
        print(f"vectorised {name} equals the event loop: {same}")

    del reader
    print("==> TMVAClassificationApplication is done!\n")


# pymva: the tutorial expects TMVAClassificationCategory to have been run; run it if it has not
if not isfile("dataset/weights/TMVAClassificationCategory_FisherCat.weights.xml"):
    print("TMVAClassificationCategory_FisherCat.weights.xml not found: running TMVAClassificationCategory.py")
    argv, sys.argv = sys.argv, [str(Path(__file__).with_name("TMVAClassificationCategory.py"))]
    if args.varoff:
        sys.argv.append("--varoff")
    runpy.run_path(sys.argv[0], run_name="__main__")
    sys.argv = argv

TMVAClassificationCategoryApplication()
