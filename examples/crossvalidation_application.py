"""ROOT's TMVACrossValidationApplication.C tutorial, written as a PyROOT user writes it, run with pymva.

Applies the cross-validated BDTG and Fisher of ``crossvalidation.py`` (run first; if its weights files
are missing, this script runs it) to new events: the Reader books the ``CrossValidation`` weights
files and scores every event with the fold model its split expression ``int(fabs([eventID]))%2``
selects, reading ``eventID`` from the spectator declared with ``AddSpectator``.

Lines marked "pymva:" differ from ROOT's tutorial: the import line, ``fillTree`` (the events are written
to a ROOT file with pymva.toydata and read back with ``SetBranchAddress``/``GetEntry``: pymva has no
writable in-memory TTree), numpy histograms instead of TH1F, the ``--events`` option, and the summary printed at the end.

Run:  python examples/crossvalidation_application.py  [--events N]
"""

import argparse  # pymva: for --events
import runpy  # pymva: runpy, sys and Path run the training script when needed
import sys
from array import array
from os.path import isfile
from pathlib import Path

import numpy as np  # pymva: fillTree and the histograms

from pymva import TMVA, TFile  # pymva: was "import ROOT; from ROOT import TMVA, TFile"
from pymva.toydata import write_trees  # pymva: writes the events fillTree fills in ROOT's tutorial

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # pymva
parser.add_argument("--events", type=int, default=1000, help="events per class (the tutorial uses 1000)")
args = parser.parse_args()


def fillTree(nPoints, offset, scale, seed=100):  # pymva: returns the branches instead of filling a tree
    rng = np.random.default_rng(seed)
    x = rng.normal(offset, scale, nPoints).astype(np.float32)
    y = rng.normal(offset, scale, nPoints).astype(np.float32)
    eventID = np.arange(1, nPoints + 1, dtype=np.int32)
    return {"x": x, "y": y, "eventID": eventID}


def TMVACrossValidationApplication():
    # This loads the library
    TMVA.Tools.Instance()

    # Set up the TMVA::Reader
    reader = TMVA.Reader("!Color:!Silent:!V")

    x = array("f", [0.0])
    y = array("f", [0.0])
    eventID = array("i", [0])

    reader.AddVariable("x", x)
    reader.AddVariable("y", y)
    reader.AddSpectator("eventID", eventID)

    # Book the serialised methods
    jobname = "TMVACrossValidation"
    for methodName in ("BDTG", "Fisher"):
        weightfile = "datasetcv/weights/" + jobname + "_" + methodName + ".weights.xml"
        if isfile(weightfile):
            reader.BookMVA(methodName, weightfile)
        else:
            print(
                f"Weightfile for method {methodName} not found. "
                "Did you run TMVACrossValidation with a specified splitExpr?"
            )
            sys.exit(0)

    # Load data
    sig = fillTree(args.events, 1.0, 1.0, 100)  # pymva: the tutorial's 1000 events from --events
    bkg = fillTree(args.events, -1.0, 1.0, 101)
    data = {k: np.concatenate([sig[k], bkg[k]]) for k in sig}  # pymva: one tree, signal then background
    write_trees("TMVACrossValidationApplicationInput.root", {"tree": data})  # pymva
    inputFile = TFile.Open("TMVACrossValidationApplicationInput.root")  # pymva
    tree = inputFile.Get("tree")  # pymva
    tree.SetBranchAddress("x", x)
    tree.SetBranchAddress("y", y)
    tree.SetBranchAddress("eventID", eventID)

    # Prepare histograms
    nbin = 100
    valsBDTG, valsFisher = [], []  # pymva: numpy histograms below instead of TH1F

    # Evaluate classifiers
    for ievt in range(tree.GetEntries()):
        tree.GetEntry(ievt)

        valBDTG = reader.EvaluateMVA("BDTG")
        valFisher = reader.EvaluateMVA("Fisher")

        valsBDTG.append(valBDTG)
        valsFisher.append(valFisher)

    tree.ResetBranchAddresses()

    histBDTG, _ = np.histogram(valsBDTG, bins=nbin, range=(-1, 1))
    histFisher, _ = np.histogram(valsFisher, bins=nbin, range=(-1, 1))

    # pymva: a summary instead of drawing or writing the histograms
    n = len(sig["x"])
    for name, vals, hist in (("BDTG", valsBDTG, histBDTG), ("Fisher", valsFisher, histFisher)):
        v = np.asarray(vals)
        print(
            f"{name}: mean response on {n} signal events {v[:n].mean():.4f}, on {n} background events "
            f"{v[n:].mean():.4f}; {int(hist.sum())} of {len(v)} in the histogram range"
        )
    # pymva: the same in one vectorised call (variables, then the spectator)
    X = np.column_stack([data["x"], data["y"], data["eventID"]])
    same = np.allclose(reader.EvaluateMVA(X, "Fisher"), valsFisher, atol=1e-6)
    print("vectorised Fisher equals the event loop:", same)
    return 0


# pymva: the tutorial expects TMVACrossValidation to have been run; run it if it has not
if not isfile("datasetcv/weights/TMVACrossValidation_BDTG.weights.xml"):
    print("TMVACrossValidation_BDTG.weights.xml not found: running crossvalidation.py first")
    argv, sys.argv = sys.argv, [str(Path(__file__).with_name("crossvalidation.py")), "--ntrees", "20"]
    runpy.run_path(sys.argv[0], run_name="__main__")
    sys.argv = argv

TMVACrossValidationApplication()
