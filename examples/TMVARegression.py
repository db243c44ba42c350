"""ROOT's TMVARegression.C tutorial, written as a PyROOT user writes it, run with pymva.

Trains and tests TMVA's regression methods on the tutorial's toy sample (target ``fvalue``, a
function of ``var1`` and ``var2``); ``TMVARegressionApplication.py`` applies the weights files it
writes in ``datasetreg/weights/``.  The methods to train are chosen as the macro's argument chooses
them: without arguments TMVA's default selection (the ``Use`` dictionary below), otherwise the
methods named on the command line::

    python examples/TMVARegression.py              # the default selection
    python examples/TMVARegression.py LD,KNN       # as root -l TMVARegression.C\\(\\"LD,KNN\\"\\)

Lines marked "pymva:" differ from ROOT's tutorial: the import line, where the input file comes from
(ROOT's ``tmva_reg_example.root`` when the ``ROOT`` pip package is installed, else generated with
pymva.toydata), the ``R__HAS_TMVAGPU``/``R__HAS_TMVACPU`` flags of ROOT's build, the test-sample
deviations printed at the end, and the GUI part (batch mode).
"""

import importlib.util  # pymva: finds ROOT's tutorial data without importing ROOT
import sys
from os.path import isfile, join

import numpy as np  # pymva: the deviations printed at the end

from pymva import TMVA, TFile  # pymva: was "import ROOT; from ROOT import TMVA, TFile"
from pymva.toydata import create_regression_example  # pymva: writes the tutorial's input when absent

# pymva: ROOT's build flags (a CPU build); with R__HAS_TMVAGPU = True the DL method trains DNN_GPU with
# Architecture=GPU, on CUDA when torch sees a GPU (else on the CPU, with a warning)
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


def TMVARegression(myMethodList=""):
    # The explicit loading of the shared libTMVA is done in TMVAlogon.C, defined in .rootrc
    # if you use your private .rootrc, or run from a different directory, please copy the
    # corresponding lines from .rootrc

    # methods to be processed can be given as an argument; use format:
    #
    #     mylinux~> root -l TMVARegression.C\(\"myMethod1,myMethod2,myMethod3\"\)
    #

    # ---------------------------------------------------------------
    # This loads the library
    TMVA.Tools.Instance()

    # Default MVA methods to be trained + tested
    Use = {}

    # Mutidimensional likelihood and Nearest-Neighbour methods
    Use["PDERS"] = 0
    Use["PDEFoam"] = 1
    Use["KNN"] = 1
    #
    # Linear Discriminant Analysis
    Use["LD"] = 1
    #
    # Function Discriminant analysis
    Use["FDA_GA"] = 0
    Use["FDA_MC"] = 0
    Use["FDA_MT"] = 0
    Use["FDA_GAMT"] = 0
    #
    # Neural Network
    Use["MLP"] = 0
    # Deep neural network (with CPU or GPU)
    if R__HAS_TMVAGPU:
        Use["DNN_GPU"] = 1
        Use["DNN_CPU"] = 0
    else:
        Use["DNN_GPU"] = 0
        Use["DNN_CPU"] = 1 if R__HAS_TMVACPU else 0
    #
    # Support Vector Machine
    Use["SVM"] = 0
    #
    # Boosted Decision Trees
    Use["BDT"] = 0
    Use["BDTG"] = 1
    # ---------------------------------------------------------------

    print()
    print("==> Start TMVARegression")

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

    # Here the preparation phase begins

    # Create a new root output file
    outfileName = "TMVAReg.root"
    outputFile = TFile.Open(outfileName, "RECREATE")

    # Create the factory object. Later you can choose the methods
    # whose performance you'd like to investigate. The factory will
    # then run the performance analysis for you.
    #
    # The first argument is the base of the name of all the
    # weightfiles in the directory weight/
    #
    # The second argument is the output file for the training results
    # All TMVA output can be suppressed by removing the "!" (not) in
    # front of the "Silent" argument in the option string
    factory = TMVA.Factory(
        "TMVARegression", outputFile, "!V:!Silent:Color:DrawProgressBar:AnalysisType=Regression"
    )

    dataloader = TMVA.DataLoader("datasetreg")
    # If you wish to modify default settings
    # (please check "src/Config.h" to see all available global options)
    #
    #     (TMVA::gConfig().GetVariablePlotting()).fTimesRMS = 8.0;
    #     (TMVA::gConfig().GetIONames()).fWeightFileDir = "myWeightDirectory";

    # Define the input variables that shall be used for the MVA training
    # note that you may also use variable expressions, such as: "3*var1/var2*abs(var3)"
    # [all types of expressions that can also be parsed by TTree::Draw( "expression" )]
    dataloader.AddVariable("var1", "Variable 1", "units", "F")
    dataloader.AddVariable("var2", "Variable 2", "units", "F")

    # You can add so-called "Spectator variables", which are not used in the MVA training,
    # but will appear in the final "TestTree" produced by TMVA. This TestTree will contain the
    # input variables, the response values of all trained MVAs, and the spectator variables
    dataloader.AddSpectator("spec1:=var1*2", "Spectator 1", "units", "F")
    dataloader.AddSpectator("spec2:=var1*3", "Spectator 2", "units", "F")

    # Add the variable carrying the regression target
    dataloader.AddTarget("fvalue")

    # It is also possible to declare additional targets for multi-dimensional regression, ie:
    #     factory.AddTarget("fvalue2")
    # BUT: this is currently ONLY implemented for MLP

    # Read training and test data (see TMVAClassification for reading ASCII files)
    # load the signal and background event samples from ROOT trees
    input = None
    fname = tutorial_file("tmva_reg_example.root")
    if isfile(fname):
        input = TFile.Open(fname)  # check if file in local directory exists
    if not input:
        print("ERROR: could not open data file")
        raise SystemExit(1)
    print("--- TMVARegression           : Using input file:", input.GetName())

    # Register the regression tree

    regTree = input.Get("TreeR")

    # global event weights per tree (see below for setting event-wise weights)
    regWeight = 1.0

    # You can add an arbitrary number of regression trees
    dataloader.AddRegressionTree(regTree, regWeight)

    # This would set individual event weights (the variables defined in the
    # expression need to exist in the original TTree)
    dataloader.SetWeightExpression("var1", "Regression")

    # Apply additional cuts on the signal and background samples (can be different)
    mycut = TMVA.TCut("")  # for example: TCut mycut = "abs(var1)<0.5 && abs(var2-0.5)<1";

    # tell the DataLoader to use all remaining events in the trees after training for testing:
    dataloader.PrepareTrainingAndTestTree(
        mycut, "nTrain_Regression=1000:nTest_Regression=0:SplitMode=Random:NormMode=NumEvents:!V"
    )
    #
    #     dataloader.PrepareTrainingAndTestTree(mycut,
    #            "nTrain_Regression=0:nTest_Regression=0:SplitMode=Random:NormMode=NumEvents:!V")

    # If no numbers of events are given, half of the events in the tree are used
    # for training, and the other half for testing:
    #
    #     dataloader.PrepareTrainingAndTestTree(mycut, "SplitMode=random:!V")

    # Book MVA methods
    #
    # Please lookup the various method configuration options in the corresponding cxx files, eg:
    # src/MethoCuts.cxx, etc, or here: http://tmva.sourceforge.net/old_site/optionRef.html
    # it is possible to preset ranges in the option string in which the cut optimisation should be done:
    # "...:CutRangeMin[2]=-1:CutRangeMax[2]=1"...", where [2] is the third input variable

    # PDE - RS method
    if Use["PDERS"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPDERS,
            "PDERS",
            "!H:!V:NormTree=T:VolumeRangeMode=Adaptive:KernelEstimator=Gauss:GaussSigma=0.3:NEventsMin=40:"
            "NEventsMax=60:VarTransform=None",
        )
    # And the options strings for the MinMax and RMS methods, respectively:
    #
    #      "!H:!V:VolumeRangeMode=MinMax:DeltaFrac=0.2:KernelEstimator=Gauss:GaussSigma=0.3" );
    #      "!H:!V:VolumeRangeMode=RMS:DeltaFrac=3:KernelEstimator=Gauss:GaussSigma=0.3" );

    if Use["PDEFoam"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPDEFoam,
            "PDEFoam",
            "!H:!V:MultiTargetRegression=F:TargetSelection=Mpv:TailCut=0.001:VolFrac=0.0666:nActiveCells=500:"
            "nSampl=2000:nBin=5:Compress=T:Kernel=None:Nmin=10:VarTransform=None",
        )

    # K-Nearest Neighbour classifier (KNN)
    if Use["KNN"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kKNN,
            "KNN",
            "nkNN=20:ScaleFrac=0.8:SigmaFact=1.0:Kernel=Gaus:UseKernel=F:UseWeight=T:!Trim",
        )

    # Linear discriminant
    if Use["LD"]:
        factory.BookMethod(dataloader, TMVA.Types.kLD, "LD", "!H:!V:VarTransform=None")

    # Function discrimination analysis (FDA) -- test of various fitters - the recommended one is Minuit (or GA or SA)
    if Use["FDA_MC"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_MC",
            "!H:!V:Formula=(0)+(1)*x0+(2)*x1:ParRanges=(-100,100);(-100,100);(-100,100):FitMethod=MC:"
            "SampleSize=100000:Sigma=0.1:VarTransform=D",
        )

    if Use[
        "FDA_GA"
    ]:  # can also use Simulated Annealing (SA) algorithm (see Cuts_SA options) .. the formula of this example is good for parabolas
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_GA",
            "!H:!V:Formula=(0)+(1)*x0+(2)*x1:ParRanges=(-100,100);(-100,100);(-100,100):FitMethod=GA:"
            "PopSize=100:Cycles=3:Steps=30:Trim=True:SaveBestGen=1:VarTransform=Norm",
        )

    if Use["FDA_MT"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_MT",
            "!H:!V:Formula=(0)+(1)*x0+(2)*x1:ParRanges=(-100,100);(-100,100);(-100,100);(-10,10):"
            "FitMethod=MINUIT:ErrorLevel=1:PrintLevel=-1:FitStrategy=2:UseImprove:UseMinos:SetBatch",
        )

    if Use["FDA_GAMT"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_GAMT",
            "!H:!V:Formula=(0)+(1)*x0+(2)*x1:ParRanges=(-100,100);(-100,100);(-100,100):FitMethod=GA:"
            "Converger=MINUIT:ErrorLevel=1:PrintLevel=-1:FitStrategy=0:!UseImprove:!UseMinos:SetBatch:"
            "Cycles=1:PopSize=5:Steps=5:Trim",
        )

    # Neural network (MLP)
    if Use["MLP"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kMLP,
            "MLP",
            "!H:!V:VarTransform=Norm:NeuronType=tanh:NCycles=20000:HiddenLayers=N+20:TestRate=6:"
            "TrainingMethod=BFGS:Sampling=0.3:SamplingEpoch=0.8:ConvergenceImprove=1e-6:ConvergenceTests=15:"
            "!UseRegulator",
        )

    if Use["DNN_CPU"] or Use["DNN_GPU"]:
        archOption = "GPU" if Use["DNN_GPU"] else "CPU"

        layoutString = "Layout=TANH|50,TANH|50,TANH|50,LINEAR"

        trainingStrategyString = "TrainingStrategy="
        trainingStrategyString += (
            "LearningRate=1e-3,Momentum=0.3,ConvergenceSteps=20,BatchSize=50,TestRepetitions=1,"
            "WeightDecay=0.0,Regularization=None,Optimizer=Adam"
        )

        nnOptions = (
            "!H:V:ErrorStrategy=SUMOFSQUARES:VarTransform=G:WeightInitialization=XAVIERUNIFORM:Architecture="
        )
        nnOptions += archOption
        nnOptions += ":"
        nnOptions += layoutString
        nnOptions += ":"
        nnOptions += trainingStrategyString

        methodName = "DNN_" + archOption

        factory.BookMethod(dataloader, TMVA.Types.kDL, methodName, nnOptions)  # NN

    # Support Vector Machine
    if Use["SVM"]:
        factory.BookMethod(dataloader, TMVA.Types.kSVM, "SVM", "Gamma=0.25:Tol=0.001:VarTransform=Norm")

    # Boosted Decision Trees
    if Use["BDT"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kBDT,
            "BDT",
            "!H:!V:NTrees=100:MinNodeSize=1.0%:BoostType=AdaBoostR2:SeparationType=RegressionVariance:"
            "nCuts=20:PruneMethod=CostComplexity:PruneStrength=30",
        )

    if Use["BDTG"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kBDT,
            "BDTG",
            "!H:!V:NTrees=2000::BoostType=Grad:Shrinkage=0.1:UseBaggedBoost:BaggedSampleFraction=0.5:nCuts=20:"
            "MaxDepth=3:MaxDepth=4",
        )
    # --------------------------------------------------------------------------------------------------

    # Now you can tell the factory to train, test, and evaluate the MVAs

    # Train MVAs using the set of training events
    factory.TrainAllMethods()

    # Evaluate all MVAs using the set of test events
    factory.TestAllMethods()

    # Evaluate and compare performance of all configured MVAs
    factory.EvaluateAllMethods()

    # --------------------------------------------------------------

    # pymva: the deviation of each method's response from fvalue on the test sample, for a look
    # (and for tests/test_examples.py)
    ds = dataloader.GetDataSetInfo().GetDataSet()
    truth = ds.test.targets[:, 0].astype(np.float64)
    for name in sorted(m for m, use in Use.items() if use):
        if factory.HasMethod("datasetreg", name):
            dev = np.asarray(factory.get_responses(dataloader, name), dtype=np.float64).reshape(-1) - truth
            print(
                f"{name}: test-sample bias {dev.mean():.4g}, RMS {dev.std():.4g} (RMS of fvalue {truth.std():.4g})"
            )

    # Save the output
    outputFile.Close()

    print("==> Wrote root file:", outputFile.GetName())
    print("==> TMVARegression is done!")

    del factory
    del dataloader

    # Launch the GUI for the root macros
    # pymva: batch mode, no GUI (TMVA::TMVARegGui(outfileName) in ROOT)


if __name__ == "__main__":
    # Select methods (don't look at this code - not of interest)
    methodList = ",".join(arg for arg in sys.argv[1:] if arg not in ("-b", "--batch"))
    TMVARegression(methodList)
