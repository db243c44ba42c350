"""ROOT's TMVACrossValidation.C tutorial, written as a PyROOT user writes it, run with pymva.

k-fold cross-evaluation of a BDT and a Fisher discriminant on two Gaussian classes: the events are
split into folds by a deterministic split expression on the spectator ``eventID``, every fold's
classifier is trained on the other folds, and the fold classifiers are saved so that
``crossvalidation_application.py`` can apply them to new data (each event with its own fold).

Lines marked "pymva:" differ from ROOT's tutorial: the import line, ``genTree`` (it fills numpy arrays,
which the DataLoader takes as a tree: pymva has no writable in-memory TTree), the ``--ntrees`` and
``--random`` options and the GUI part (there is no TMVAGui).

Run:  python examples/crossvalidation.py  [--ntrees N] [--random]
"""

import argparse  # pymva: for --ntrees and --random

import numpy as np  # pymva: genTree fills numpy arrays

from pymva import TMVA, TFile  # pymva: was "import ROOT; from ROOT import TMVA, TFile"

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # pymva
parser.add_argument("--ntrees", type=int, default=100, help="NTrees of the BDT (the tutorial uses 100)")
parser.add_argument("--random", action="store_true", help="useRandomSplitting (the tutorial's argument)")
args = parser.parse_args()


# Helper function to load data into TTrees.
def genTree(nPoints, offset, scale, seed=100):
    rng = np.random.default_rng(seed)  # pymva: was TRandom3 rng(seed) filling a TTree
    x = rng.normal(offset, scale, nPoints).astype(np.float32)
    y = rng.normal(offset, scale, nPoints).astype(np.float32)
    # For our simple example it is enough that the id's are uniformly
    # distributed and independent of the data.
    eventID = np.arange(1, nPoints + 1, dtype=np.int32)
    return {"x": x, "y": y, "eventID": eventID}


def TMVACrossValidation(useRandomSplitting=False):
    # This loads the library
    TMVA.Tools.Instance()

    # Load the data into TTrees.
    sigTree = genTree(1000, 1.0, 1.0, 100)
    bkgTree = genTree(1000, -1.0, 1.0, 101)

    # Create a ROOT output file where TMVA will store ntuples, histograms, etc.
    outfileName = "TMVACV.root"
    outputFile = TFile.Open(outfileName, "RECREATE")

    # DataLoader definitions; We declare variables in the tree so that TMVA can
    # find them. For more information see TMVAClassification tutorial.
    dataloader = TMVA.DataLoader("datasetcv")

    # Data variables
    dataloader.AddVariable("x", "F")
    dataloader.AddVariable("y", "F")

    # Spectator used for split
    dataloader.AddSpectator("eventID", "I")

    # Attaches the trees so they can be read from
    dataloader.AddSignalTree(sigTree, 1.0)
    dataloader.AddBackgroundTree(bkgTree, 1.0)

    # The CV mechanism of TMVA splits up the training set into several folds.
    # The test set is currently left unused. The `nTest_ClassName=1` assigns
    # one event to the test set for each class and puts the rest in the
    # training set. A value of 0 is a special value and would split the
    # datasets 50 / 50.
    dataloader.PrepareTrainingAndTestTree(
        "", "", "nTest_Signal=1:nTest_Background=1:SplitMode=Random:NormMode=NumEvents:!V"
    )

    # This sets up a CrossValidation class (which wraps a TMVA::Factory
    # internally) for 2-fold cross validation.
    numFolds = 2
    analysisType = "Classification"
    splitType = "Random" if useRandomSplitting else "Deterministic"

    # One can also use a custom splitting function for producing the folds.
    # The example uses a dataset spectator `eventID`.
    splitExpr = "" if useRandomSplitting else "int(fabs([eventID]))%int([NumFolds])"

    cvOptions = (
        "!V:!Silent:ModelPersistence"
        f":AnalysisType={analysisType}:SplitType={splitType}:NumFolds={numFolds}:SplitExpr={splitExpr}"
    )

    cv = TMVA.CrossValidation("TMVACrossValidation", dataloader, outputFile, cvOptions)

    # Books a method to use for evaluation
    cv.BookMethod(
        TMVA.Types.kBDT,
        "BDTG",
        f"!H:!V:NTrees={args.ntrees}:MinNodeSize=2.5%:BoostType=Grad"  # pymva: NTrees from --ntrees
        ":NegWeightTreatment=Pray:Shrinkage=0.10:nCuts=20:MaxDepth=2",
    )
    cv.BookMethod(TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher:VarTransform=None")

    # Train, test and evaluate the booked methods.
    # Evaluates the booked methods once for each fold and aggregates the result
    # in the specified output file.
    cv.Evaluate()

    # Process some output programmatically, printing the ROC score for each
    # booked method.
    for iMethod, result in enumerate(cv.GetResults()):
        print("Summary for method", cv.GetMethods()[iMethod].GetValue["TString"]("MethodName"))
        for iFold in range(cv.GetNumFolds()):
            print(
                f"\tFold {iFold}: ROC int: {result.GetROCValues()[iFold]}, "
                f"BkgEff@SigEff=0.3: {result.GetEff30Values()[iFold]}"
            )

    # Save the output
    outputFile.Close()

    print("==> Wrote root file:", outputFile.GetName())
    print("==> TMVACrossValidation is done!")

    # pymva: no GUI; the average ROC curve of the first method is saved as a picture instead
    cv.GetResults()[0].DrawAvgROCCurve(True, "Avg ROC for BDTG").SaveAs("TMVACV_AvgROC_BDTG.png")
    return 0


TMVACrossValidation(args.random)
