"""ROOT's TMVAClassificationCategory.C tutorial, written as a PyROOT user writes it, run with pymva.

Trains a Fisher discriminant and a Likelihood on all events, and the same two methods per category
of events (``|eta| <= 1.3`` and ``|eta| > 1.3``, ``eta`` a spectator) with TMVA's Category method,
whose weights files ``TMVAClassificationCategoryApplication.py`` applies.  In the toy data the
variables are shifted by ``±0.8`` depending on ``|eta|``, so the category methods separate signal
from background much better than the methods trained on all events.

Lines marked "pymva:" differ from ROOT's tutorial: the import line, where the input file comes from
(ROOT's file when the ``ROOT`` pip package is installed, else generated with pymva.toydata, the
recipe of ROOT's ``createData.C``), the ``--varoff`` option (the tutorial's ``UseOffsetMethod``
flag), the ROC integrals printed at the end, and the GUI part (batch mode).

Run:  python examples/TMVAClassificationCategory.py  [--varoff]
"""

import argparse  # pymva: for --varoff
import importlib.util  # pymva: finds ROOT's tutorial data without importing ROOT
from os.path import isfile, join

from pymva import TMVA, TFile  # pymva: was "import ROOT; from ROOT import TMVA, TFile"
from pymva.toydata import create_category_example  # pymva: writes the tutorial's input when absent

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])  # pymva
parser.add_argument("--varoff", action="store_true", help="UseOffsetMethod = false (the varoff data)")
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


def TMVAClassificationCategory():
    print("\n==> Start TMVAClassificationCategory")

    # This loads the library
    TMVA.Tools.Instance()

    batchMode = True  # pymva: no GUI

    # Create a new ROOT output file.
    outfileName = "TMVACC.root"
    outputFile = TFile.Open(outfileName, "RECREATE")

    # Create the factory object (see TMVAClassification.C for more information)
    factoryOptions = "!V:!Silent:Transformations=I;D;P;G,D"
    if batchMode:
        factoryOptions += ":!Color:!DrawProgressBar"

    factory = TMVA.Factory("TMVAClassificationCategory", outputFile, factoryOptions)

    # Create DataLoader
    dataloader = TMVA.DataLoader("dataset")

    # Define the input variables used for the MVA training
    dataloader.AddVariable("var1", "F")
    dataloader.AddVariable("var2", "F")
    dataloader.AddVariable("var3", "F")
    dataloader.AddVariable("var4", "F")

    # You can add so-called "Spectator variables", which are not used in the MVA training,
    # but will appear in the final "TestTree" produced by TMVA. This TestTree will contain the
    # input variables, the response values of all trained MVAs, and the spectator variables
    dataloader.AddSpectator("eta")

    # Load the signal and background event samples from ROOT trees
    if UseOffsetMethod:
        fname = tutorial_file("toy_sigbkg_categ_offset.root")
    else:
        fname = tutorial_file("toy_sigbkg_categ_varoff.root")

    input = None
    if isfile(fname):
        print("--- TMVAClassificationCategory: Accessing", fname)
        input = TFile.Open(fname)
    if not input:
        print("ERROR: could not open data file:", fname)
        raise SystemExit(1)

    signalTree = input.Get("TreeS")
    background = input.Get("TreeB")

    # Global event weights per tree (see below for setting event-wise weights)
    signalWeight = 1.0
    backgroundWeight = 1.0

    # You can add an arbitrary number of signal or background trees
    dataloader.AddSignalTree(signalTree, signalWeight)
    dataloader.AddBackgroundTree(background, backgroundWeight)

    # Apply additional cuts on the signal and background samples (can be different)
    mycuts = TMVA.TCut("")  # for example: TCut mycuts = "abs(var1)<0.5 && abs(var2-0.5)<1";
    mycutb = TMVA.TCut("")  # for example: TCut mycutb = "abs(var1)<0.5";

    # Tell the factory how to use the training and testing events
    dataloader.PrepareTrainingAndTestTree(
        mycuts, mycutb, "nTrain_Signal=0:nTrain_Background=0:SplitMode=Random:NormMode=NumEvents:!V"
    )

    # Book MVA methods

    # Fisher discriminant
    factory.BookMethod(dataloader, TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher")

    # Likelihood
    factory.BookMethod(
        dataloader,
        TMVA.Types.kLikelihood,
        "Likelihood",
        "!H:!V:TransformOutput:PDFInterpol=Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:NSmoothBkg[1]=10:"
        "NSmooth=1:NAvEvtPerBin=50",
    )

    # Categorised classifier
    mcat = None

    # The variable sets
    theCat1Vars = "var1:var2:var3:var4"
    theCat2Vars = "var1:var2:var3:var4" if UseOffsetMethod else "var1:var2:var3"

    # Fisher with categories
    fiCat = factory.BookMethod(dataloader, TMVA.Types.kCategory, "FisherCat", "")
    mcat = fiCat  # a MethodCategory (PyROOT casts it, as the dynamic_cast does in C++)
    mcat.AddMethod(
        TMVA.TCut("abs(eta)<=1.3"), theCat1Vars, TMVA.Types.kFisher, "Category_Fisher_1", "!H:!V:Fisher"
    )
    mcat.AddMethod(
        TMVA.TCut("abs(eta)>1.3"), theCat2Vars, TMVA.Types.kFisher, "Category_Fisher_2", "!H:!V:Fisher"
    )

    # Likelihood with categories
    liCat = factory.BookMethod(dataloader, TMVA.Types.kCategory, "LikelihoodCat", "")
    mcat = liCat
    mcat.AddMethod(
        TMVA.TCut("abs(eta)<=1.3"),
        theCat1Vars,
        TMVA.Types.kLikelihood,
        "Category_Likelihood_1",
        "!H:!V:TransformOutput:PDFInterpol=Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:NSmoothBkg[1]=10:"
        "NSmooth=1:NAvEvtPerBin=50",
    )
    mcat.AddMethod(
        TMVA.TCut("abs(eta)>1.3"),
        theCat2Vars,
        TMVA.Types.kLikelihood,
        "Category_Likelihood_2",
        "!H:!V:TransformOutput:PDFInterpol=Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:NSmoothBkg[1]=10:"
        "NSmooth=1:NAvEvtPerBin=50",
    )

    # Train MVAs using the set of training events
    factory.TrainAllMethods()

    # Evaluate all MVAs using the set of test events
    factory.TestAllMethods()

    # Evaluate and compare performance of all configured MVAs
    factory.EvaluateAllMethods()

    # pymva: the ROC integrals, for a look (and for tests/test_examples.py)
    for name in ("Fisher", "Likelihood", "FisherCat", "LikelihoodCat"):
        print(f"ROC integral of {name}: {factory.GetROCIntegral(dataloader, name):.4f}")

    # Save the output
    outputFile.Close()

    print("==> Wrote root file:", outputFile.GetName())
    print("==> TMVAClassificationCategory is done!")

    del factory
    del dataloader


TMVAClassificationCategory()
