"""ROOT's TMVACrossValidationRegression.C tutorial, written as a PyROOT user writes it, run with pymva.

2-fold cross-validation of a gradient-boosted regression BDT on ``tmva_reg_example.root``, with a
random split (``SplitExpr=""``): each fold's BDT predicts ``fvalue`` for the events it did not see;
the output file's TestTree holds those out-of-fold predictions.

Lines marked "pymva:" differ from ROOT's tutorial: the import line, the input file generated with
pymva.toydata when absent (ROOT reads it from its tutorials directory), the ``--ntrees`` option, the
printed summary and the GUI part (there is no TMVAGui).

Run:  python examples/crossvalidation_regression.py  [--ntrees N]
"""

import argparse  # pymva: for --ntrees
import sys
from os.path import isfile

import numpy as np  # pymva: for the summary at the end
import uproot  # pymva: reads the TestTree for the summary

from pymva import TMVA, TCut, TFile  # pymva: was "import ROOT; from ROOT import TMVA, TFile, TCut"
from pymva.toydata import create_regression_example  # pymva: the input file is generated

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # pymva
parser.add_argument("--ntrees", type=int, default=500, help="NTrees of the BDT (the tutorial uses 500)")
args = parser.parse_args()


def getDataFile(fname):
    inputFile = None
    if isfile(fname):
        inputFile = TFile.Open(fname)  # check if file in local directory exists
    if not inputFile:
        print("ERROR: could not open data file", fname)
        sys.exit(1)
    return inputFile


def TMVACrossValidationRegression():
    # This loads the library
    TMVA.Tools.Instance()

    # Create a ROOT output file where TMVA will store ntuples, histograms, etc.
    outfileName = "TMVARegCv.root"
    outputFile = TFile.Open(outfileName, "RECREATE")

    infileName = "tmva_reg_example.root"  # pymva: ROOT reads it from its tutorials directory
    if not isfile(infileName):
        create_regression_example(infileName)  # pymva: generated instead
    inputFile = getDataFile(infileName)

    dataloader = TMVA.DataLoader("datasetcvreg")

    dataloader.AddVariable("var1", "Variable 1", "units", "F")
    dataloader.AddVariable("var2", "Variable 2", "units", "F")

    # Add the variable carrying the regression target
    dataloader.AddTarget("fvalue")

    regTree = inputFile.Get("TreeR")
    dataloader.AddRegressionTree(regTree, 1.0)

    print("--- TMVACrossValidationRegression: Using input file:", inputFile.GetName())

    # Bypasses the normal splitting mechanism, CV uses a new system for this.
    # Unfortunately the old system is unhappy if we leave the test set empty so
    # we ensure that there is at least one event by placing the first event in
    # it.
    selectionCut = TCut("")
    dataloader.PrepareTrainingAndTestTree(
        selectionCut, "nTest_Regression=1:SplitMode=Block:NormMode=NumEvents:!V"
    )

    # This sets up a CrossValidation class (which wraps a TMVA::Factory
    # internally) for 2-fold cross validation. The data will be split into the
    # two folds randomly if `splitExpr` is `""`.
    numFolds = 2
    analysisType = "Regression"
    splitExpr = ""

    cvOptions = (
        f"!V:!Silent:ModelPersistence:!FoldFileOutput:AnalysisType={analysisType}:NumFolds={numFolds}"
        f":SplitExpr={splitExpr}"
    )

    cv = TMVA.CrossValidation("TMVACrossValidationRegression", dataloader, outputFile, cvOptions)

    # Books a method to use for evaluation
    cv.BookMethod(
        TMVA.Types.kBDT,
        "BDTG",
        f"!H:!V:NTrees={args.ntrees}:BoostType=Grad:Shrinkage=0.1:"  # pymva: NTrees from --ntrees
        "UseBaggedBoost:BaggedSampleFraction=0.5:nCuts=20:MaxDepth=3",
    )

    # Train, test and evaluate the booked methods.
    cv.Evaluate()

    # Save the output
    outputFile.Close()

    print("==> Wrote root file:", outputFile.GetName())
    print("==> TMVACrossValidationRegression is done!")

    # pymva: no GUI; a summary of the out-of-fold predictions instead
    t = uproot.open(outfileName)["datasetcvreg/TestTree"].arrays(library="np")
    deviation = t["BDTG"] - t["fvalue"]
    print(
        f"BDTG out-of-fold: RMS of the deviation {np.sqrt(np.mean(deviation**2)):.3f} "
        f"(RMS of fvalue itself {np.std(t['fvalue']):.3f}) on {len(deviation)} events"
    )
    return 0


TMVACrossValidationRegression()
