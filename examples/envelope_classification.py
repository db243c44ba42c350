"""ROOT's envelope/classification.C tutorial (ROOT 6.40), written as a PyROOT user writes it, run with pymva.

``TMVA.Experimental.Classification`` trains and tests every booked method in its own process
(``Jobs``), prints the ROC integral of each, and returns results from which the ROC curves are drawn.

Lines marked "pymva:" differ from ROOT's tutorial: the import line, the input file generated with
pymva.toydata when absent (it has no ``weight`` branch, so the background weight expression is left
out), the ``--jobs`` and ``--ntrees`` options, and the methods: pymva has no SVM
and no Cuts, so a Fisher discriminant takes the SVM's place and the Cuts are left out (the tutorial's
ROC plot skips them anyway); the ROC curves are drawn with matplotlib and saved.

Run:  python examples/envelope_classification.py  [--jobs N] [--ntrees N]
"""

import argparse  # pymva: for --jobs and --ntrees
import sys
from os.path import isfile

import matplotlib  # pymva: the ROC curves are drawn with matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from pymva import TMVA, TFile
from pymva.toydata import create_class_example

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # pymva
parser.add_argument("--jobs", type=int, default=4, help="Jobs (the tutorial's argument, default 4)")
parser.add_argument("--ntrees", type=int, default=2000, help="NTrees of the BDTs (the tutorial uses 2000)")
args = parser.parse_args()


def classification(jobs=4):
    TMVA.Tools.Instance()

    fname = "tmva_class_example.root"  # pymva: ROOT reads it from its tutorials directory
    if not isfile(fname):
        create_class_example(fname)  # pymva: generated instead
    inputFile = TFile.Open(fname)
    if not inputFile:
        print("ERROR: could not open data file", fname)
        sys.exit(1)

    # Register the training and test trees
    signalTree = inputFile.Get("TreeS")
    background = inputFile.Get("TreeB")

    dataloader = TMVA.DataLoader("dataset")

    # Define the input variables that shall be used for the MVA training
    dataloader.AddVariable("myvar1 := var1+var2", "F")
    dataloader.AddVariable("myvar2 := var1-var2", "Expression 2", "", "F")
    dataloader.AddVariable("var3", "Variable 3", "units", "F")
    dataloader.AddVariable("var4", "Variable 4", "units", "F")

    # You can add so-called "Spectator variables", which are not used in the MVA training
    dataloader.AddSpectator("spec1 := var1*2", "Spectator 1", "units", "F")
    dataloader.AddSpectator("spec2 := var1*3", "Spectator 2", "units", "F")

    # global event weights per tree (see below for setting event-wise weights)
    signalWeight = 1.0
    backgroundWeight = 1.0

    # You can add an arbitrary number of signal or background trees
    dataloader.AddSignalTree(signalTree, signalWeight)
    dataloader.AddBackgroundTree(background, backgroundWeight)

    # Set individual event weights (the variables must exist in the original TTree)
    # pymva: the generated file has no "weight" branch: dataloader.SetBackgroundWeightExpression("weight")
    dataloader.PrepareTrainingAndTestTree(
        "", "", "nTrain_Signal=1000:nTrain_Background=1000:SplitMode=Random:NormMode=NumEvents:!V"
    )

    outputFile = TFile.Open("TMVAClass.root", "RECREATE")

    cl = TMVA.Experimental.Classification(dataloader, f"Jobs={jobs}")

    cl.BookMethod(
        TMVA.Types.kBDT,
        "BDTG",
        f"!H:!V:NTrees={args.ntrees}:MinNodeSize=2.5%:BoostType=Grad:Shrinkage=0.10:"  # pymva: --ntrees
        "UseBaggedBoost:BaggedSampleFraction=0.5:nCuts=20:MaxDepth=2",
    )
    cl.BookMethod(TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher:VarTransform=Norm")  # pymva: was kSVM "SVM"

    cl.BookMethod(
        TMVA.Types.kBDT,
        "BDTB",
        f"!H:!V:NTrees={args.ntrees}:BoostType=Bagging:SeparationType=GiniIndex:nCuts=20",
    )
    # pymva: no Cuts method ("!H:!V:FitMethod=MC:EffSel:SampleSize=200000:VarProp=FSmart")

    cl.Evaluate()  # Train and Test all methods

    results = cl.GetResults()

    # pymva: matplotlib instead of TCanvas and TMultiGraph
    fig, ax = plt.subplots()
    ax.set_title("ROC-Integral Curve")
    for i in range(len(results)):
        if not results[i].IsCutsMethod():
            roc = results[i].GetROCGraph()
            ax.plot(roc.x, roc.y, label=roc.title, alpha=0.8)
            print(
                f"ROC integral of {results[i].GetMethodTitle()}: {results[i].GetROCIntegral():.4f}"
            )  # pymva
    ax.set_xlabel(" Signal Efficiency ")
    ax.set_ylabel(" Background Rejection ")
    ax.legend(loc="lower left")
    fig.savefig("ROC_EnvelopeClassification.png")

    outputFile.Close()


classification(args.jobs)
