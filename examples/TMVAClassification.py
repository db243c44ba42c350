"""ROOT's TMVAClassification.C tutorial, written as a PyROOT user writes it, run with pymva.

Trains and tests TMVA's classifiers on the tutorial's toy sample (four linearly correlated Gaussian
variables, signal and background) and compares them; the weights files it writes in
``dataset/weights/`` are what ``TMVAClassificationApplication.py`` applies.  The methods to train
are chosen as the macro's argument chooses them: without arguments TMVA's default selection (the
``Use`` dictionary below), otherwise the methods named on the command line::

    python examples/TMVAClassification.py                      # the default selection
    python examples/TMVAClassification.py Fisher,Likelihood    # as root -l TMVAClassification.C\\(\\"Fisher,Likelihood\\"\\)
    python examples/TMVAClassification.py Fisher LikelihoodPCA BDT   # as the compiled ./TMVAClassification

Lines marked "pymva:" differ from ROOT's tutorial: the import line, where the input file comes from
(ROOT's ``tmva_class_example.root`` when the ``ROOT`` pip package is installed, else generated with
pymva.toydata), the ``R__HAS_TMVAGPU``/``R__HAS_TMVACPU`` flags of ROOT's build, the ROC integrals
printed at the end, and the GUI part (batch mode).  pymva has no CFMlpANN and TMlpANN (not in the
default selection): booking them stops with an error.
"""

import importlib.util  # pymva: finds ROOT's tutorial data without importing ROOT
import sys
from os.path import isfile, join

from pymva import TMVA, TFile  # pymva: was "import ROOT; from ROOT import TMVA, TFile"
from pymva.toydata import create_class_example  # pymva: writes the tutorial's input when absent

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
        create_class_example(name)  # pymva: generated instead
    return name


def TMVAClassification(myMethodList=""):
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
    Use["DNN_GPU"] = 1 if R__HAS_TMVAGPU else 0  # CUDA-accelerated DNN training.
    Use["DNN_CPU"] = 1 if R__HAS_TMVACPU else 0  # Multi-core accelerated DNN.
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

    print()
    print("==> Start TMVAClassification")

    # Select methods (don't look at this code - not of interest)
    if myMethodList != "":
        for it in Use:
            Use[it] = 0

        mlist = [m for m in myMethodList.split(",") if m]  # pymva: TMVA::gTools().SplitString
        for regMethod in mlist:
            if regMethod not in Use:
                print(f'Method "{regMethod}" not known in TMVA under this name. Choose among the following:')
                print(" ".join(sorted(Use)) + " ")  # std::map iterates in sorted order
                return 1
            Use[regMethod] = 1

    # --------------------------------------------------------------------------------------------------

    # Here the preparation phase begins

    # Read training and test data
    # (it is also possible to use ASCII format as input -> see TMVA Users Guide)
    inputFile = tutorial_file("tmva_class_example.root")
    input = TFile.Open(inputFile)
    if not input or input.IsZombie():
        raise RuntimeError("ERROR: could not open data file")
    print("--- TMVAClassification       : Using input file:", input.GetName())

    # Register the training and test trees

    signalTree = input.Get("TreeS")
    background = input.Get("TreeB")

    # Create a ROOT output file where TMVA will store ntuples, histograms, etc.
    outfileName = "TMVAC.root"
    outputFile = TFile.Open(outfileName, "RECREATE")
    if not outputFile or outputFile.IsZombie():
        raise RuntimeError("ERROR: could not open output file")

    # Create the factory object. Later you can choose the methods
    # whose performance you'd like to investigate. The factory is
    # the only TMVA object you have to interact with
    #
    # The first argument is the base of the name of all the
    # weightfiles in the directory weight/
    #
    # The second argument is the output file for the training results
    # All TMVA output can be suppressed by removing the "!" (not) in
    # front of the "Silent" argument in the option string
    factory = TMVA.Factory(
        "TMVAClassification",
        outputFile,
        "!V:!Silent:Color:DrawProgressBar:Transformations=I;D;P;G,D:AnalysisType=Classification",
    )
    dataloader = TMVA.DataLoader("dataset")
    # If you wish to modify default settings
    # (please check "src/Config.h" to see all available global options)
    #
    #    (TMVA::gConfig().GetVariablePlotting()).fTimesRMS = 8.0;
    #    (TMVA::gConfig().GetIONames()).fWeightFileDir = "myWeightDirectory";

    # Define the input variables that shall be used for the MVA training
    # note that you may also use variable expressions, such as: "3*var1/var2*abs(var3)"
    # [all types of expressions that can also be parsed by TTree::Draw( "expression" )]
    dataloader.AddVariable("myvar1 := var1+var2", "F")
    dataloader.AddVariable("myvar2 := var1-var2", "Expression 2", "", "F")
    dataloader.AddVariable("var3", "Variable 3", "units", "F")
    dataloader.AddVariable("var4", "Variable 4", "units", "F")

    # You can add so-called "Spectator variables", which are not used in the MVA training,
    # but will appear in the final "TestTree" produced by TMVA. This TestTree will contain the
    # input variables, the response values of all trained MVAs, and the spectator variables

    dataloader.AddSpectator("spec1 := var1*2", "Spectator 1", "units", "F")
    dataloader.AddSpectator("spec2 := var1*3", "Spectator 2", "units", "F")

    # global event weights per tree (see below for setting event-wise weights)
    signalWeight = 1.0
    backgroundWeight = 1.0

    # You can add an arbitrary number of signal or background trees
    dataloader.AddSignalTree(signalTree, signalWeight)
    dataloader.AddBackgroundTree(background, backgroundWeight)

    # To give different trees for training and testing, do as follows:
    #
    #     dataloader.AddSignalTree(signalTrainingTree, signalTrainWeight, "Training")
    #     dataloader.AddSignalTree(signalTestTree, signalTestWeight, "Test")

    # Set individual event weights (the variables must exist in the original TTree)
    # -  for signal    : dataloader.SetSignalWeightExpression("weight1*weight2")
    # -  for background: dataloader.SetBackgroundWeightExpression("weight1*weight2")
    dataloader.SetBackgroundWeightExpression("weight")

    # Apply additional cuts on the signal and background samples (can be different)
    mycuts = TMVA.TCut("")  # for example: TCut mycuts = "abs(var1)<0.5 && abs(var2-0.5)<1";
    mycutb = TMVA.TCut("")  # for example: TCut mycutb = "abs(var1)<0.5";

    # Tell the dataloader how to use the training and testing events
    #
    # If no numbers of events are given, half of the events in the tree are used
    # for training, and the other half for testing:
    #
    #    dataloader.PrepareTrainingAndTestTree(mycut, "SplitMode=random:!V")
    #
    # To also specify the number of testing events, use:
    #
    #    dataloader.PrepareTrainingAndTestTree(mycut,
    #         "NSigTrain=3000:NBkgTrain=3000:NSigTest=3000:NBkgTest=3000:SplitMode=Random:!V")
    dataloader.PrepareTrainingAndTestTree(
        mycuts, mycutb, "nTrain_Signal=1000:nTrain_Background=1000:SplitMode=Random:NormMode=NumEvents:!V"
    )

    # ### Book MVA methods
    #
    # Please lookup the various method configuration options in the corresponding cxx files, eg:
    # src/MethoCuts.cxx, etc, or here: http://tmva.sourceforge.net/old_site/optionRef.html
    # it is possible to preset ranges in the option string in which the cut optimisation should be done:
    # "...:CutRangeMin[2]=-1:CutRangeMax[2]=1"...", where [2] is the third input variable

    if Use["Cuts"]:
        factory.BookMethod(
            dataloader, TMVA.Types.kCuts, "Cuts", "!H:!V:FitMethod=MC:EffSel:SampleSize=200000:VarProp=FSmart"
        )

    if Use["CutsD"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kCuts,
            "CutsD",
            "!H:!V:FitMethod=MC:EffSel:SampleSize=200000:VarProp=FSmart:VarTransform=Decorrelate",
        )

    if Use["CutsPCA"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kCuts,
            "CutsPCA",
            "!H:!V:FitMethod=MC:EffSel:SampleSize=200000:VarProp=FSmart:VarTransform=PCA",
        )

    if Use["CutsGA"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kCuts,
            "CutsGA",
            (
                "H:!V:FitMethod=GA:CutRangeMin[0]=-10:CutRangeMax[0]=10:VarProp[1]=FMax:EffSel:"
                "Steps=30:Cycles=3:PopSize=400:SC_steps=10:SC_rate=5:SC_factor=0.95"
            ),
        )

    if Use["CutsSA"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kCuts,
            "CutsSA",
            (
                "!H:!V:FitMethod=SA:EffSel:MaxCalls=150000:KernelTemp=IncAdaptive:InitialTemp=1e+6:"
                "MinTemp=1e-6:Eps=1e-10:UseDefaultScale"
            ),
        )

    if Use["Likelihood"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kLikelihood,
            "Likelihood",
            (
                "H:!V:TransformOutput:PDFInterpol=Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:"
                "NSmoothBkg[1]=10:NSmooth=1:NAvEvtPerBin=50"
            ),
        )

    if Use["LikelihoodD"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kLikelihood,
            "LikelihoodD",
            (
                "!H:!V:TransformOutput:PDFInterpol=Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:"
                "NSmooth=5:NAvEvtPerBin=50:VarTransform=Decorrelate"
            ),
        )

    if Use["LikelihoodPCA"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kLikelihood,
            "LikelihoodPCA",
            (
                "!H:!V:!TransformOutput:PDFInterpol=Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:"
                "NSmooth=5:NAvEvtPerBin=50:VarTransform=PCA"
            ),
        )

    if Use["LikelihoodKDE"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kLikelihood,
            "LikelihoodKDE",
            (
                "!H:!V:!TransformOutput:PDFInterpol=KDE:KDEtype=Gauss:KDEiter=Adaptive:"
                "KDEFineFactor=0.3:KDEborder=None:NAvEvtPerBin=50"
            ),
        )

    if Use["LikelihoodMIX"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kLikelihood,
            "LikelihoodMIX",
            (
                "!H:!V:!TransformOutput:PDFInterpolSig[0]=KDE:PDFInterpolBkg[0]=KDE:"
                "PDFInterpolSig[1]=KDE:PDFInterpolBkg[1]=KDE:PDFInterpolSig[2]=Spline2:"
                "PDFInterpolBkg[2]=Spline2:PDFInterpolSig[3]=Spline2:PDFInterpolBkg[3]=Spline2:"
                "KDEtype=Gauss:KDEiter=Nonadaptive:KDEborder=None:NAvEvtPerBin=50"
            ),
        )

    if Use["PDERS"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPDERS,
            "PDERS",
            (
                "!H:!V:NormTree=T:VolumeRangeMode=Adaptive:KernelEstimator=Gauss:GaussSigma=0.3:"
                "NEventsMin=400:NEventsMax=600"
            ),
        )

    if Use["PDERSD"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPDERS,
            "PDERSD",
            (
                "!H:!V:VolumeRangeMode=Adaptive:KernelEstimator=Gauss:GaussSigma=0.3:NEventsMin=400:"
                "NEventsMax=600:VarTransform=Decorrelate"
            ),
        )

    if Use["PDERSPCA"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPDERS,
            "PDERSPCA",
            (
                "!H:!V:VolumeRangeMode=Adaptive:KernelEstimator=Gauss:GaussSigma=0.3:NEventsMin=400:"
                "NEventsMax=600:VarTransform=PCA"
            ),
        )

    if Use["PDEFoam"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPDEFoam,
            "PDEFoam",
            (
                "!H:!V:SigBgSeparate=F:TailCut=0.001:VolFrac=0.0666:nActiveCells=500:nSampl=2000:"
                "nBin=5:Nmin=100:Kernel=None:Compress=T"
            ),
        )

    if Use["PDEFoamBoost"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPDEFoam,
            "PDEFoamBoost",
            (
                "!H:!V:Boost_Num=30:Boost_Transform=linear:SigBgSeparate=F:MaxDepth=4:UseYesNoCell=T:"
                "DTLogic=MisClassificationError:FillFoamWithOrigWeights=F:TailCut=0:nActiveCells=500:"
                "nBin=20:Nmin=400:Kernel=None:Compress=T"
            ),
        )

    if Use["KNN"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kKNN,
            "KNN",
            "H:nkNN=20:ScaleFrac=0.8:SigmaFact=1.0:Kernel=Gaus:UseKernel=F:UseWeight=T:!Trim",
        )

    if Use["HMatrix"]:
        factory.BookMethod(dataloader, TMVA.Types.kHMatrix, "HMatrix", "!H:!V:VarTransform=None")

    if Use["LD"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kLD,
            "LD",
            (
                "H:!V:VarTransform=None:CreateMVAPdfs:PDFInterpolMVAPdf=Spline2:NbinsMVAPdf=50:"
                "NsmoothMVAPdf=10"
            ),
        )

    if Use["Fisher"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFisher,
            "Fisher",
            (
                "H:!V:Fisher:VarTransform=None:CreateMVAPdfs:PDFInterpolMVAPdf=Spline2:"
                "NbinsMVAPdf=50:NsmoothMVAPdf=10"
            ),
        )

    if Use["FisherG"]:
        factory.BookMethod(dataloader, TMVA.Types.kFisher, "FisherG", "H:!V:VarTransform=Gauss")

    if Use["BoostedFisher"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFisher,
            "BoostedFisher",
            (
                "H:!V:Boost_Num=20:Boost_Transform=log:Boost_Type=AdaBoost:Boost_AdaBoostBeta=0.2:"
                "!Boost_DetailedMonitoring"
            ),
        )

    if Use["FDA_MC"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_MC",
            (
                "H:!V:Formula=(0)+(1)*x0+(2)*x1+(3)*x2+(4)*x3:"
                "ParRanges=(-1,1);(-10,10);(-10,10);(-10,10);(-10,10):FitMethod=MC:SampleSize=100000:"
                "Sigma=0.1"
            ),
        )

    if Use["FDA_GA"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_GA",
            (
                "H:!V:Formula=(0)+(1)*x0+(2)*x1+(3)*x2+(4)*x3:"
                "ParRanges=(-1,1);(-10,10);(-10,10);(-10,10);(-10,10):FitMethod=GA:PopSize=100:"
                "Cycles=2:Steps=5:Trim=True:SaveBestGen=1"
            ),
        )

    if Use["FDA_SA"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_SA",
            (
                "H:!V:Formula=(0)+(1)*x0+(2)*x1+(3)*x2+(4)*x3:"
                "ParRanges=(-1,1);(-10,10);(-10,10);(-10,10);(-10,10):FitMethod=SA:MaxCalls=15000:"
                "KernelTemp=IncAdaptive:InitialTemp=1e+6:MinTemp=1e-6:Eps=1e-10:UseDefaultScale"
            ),
        )

    if Use["FDA_MT"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_MT",
            (
                "H:!V:Formula=(0)+(1)*x0+(2)*x1+(3)*x2+(4)*x3:"
                "ParRanges=(-1,1);(-10,10);(-10,10);(-10,10);(-10,10):FitMethod=MINUIT:ErrorLevel=1:"
                "PrintLevel=-1:FitStrategy=2:UseImprove:UseMinos:SetBatch"
            ),
        )

    if Use["FDA_GAMT"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_GAMT",
            (
                "H:!V:Formula=(0)+(1)*x0+(2)*x1+(3)*x2+(4)*x3:"
                "ParRanges=(-1,1);(-10,10);(-10,10);(-10,10);(-10,10):FitMethod=GA:Converger=MINUIT:"
                "ErrorLevel=1:PrintLevel=-1:FitStrategy=0:!UseImprove:!UseMinos:SetBatch:Cycles=1:"
                "PopSize=5:Steps=5:Trim"
            ),
        )

    if Use["FDA_MCMT"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kFDA,
            "FDA_MCMT",
            (
                "H:!V:Formula=(0)+(1)*x0+(2)*x1+(3)*x2+(4)*x3:"
                "ParRanges=(-1,1);(-10,10);(-10,10);(-10,10);(-10,10):FitMethod=MC:Converger=MINUIT:"
                "ErrorLevel=1:PrintLevel=-1:FitStrategy=0:!UseImprove:!UseMinos:SetBatch:"
                "SampleSize=20"
            ),
        )

    if Use["MLP"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kMLP,
            "MLP",
            ("H:!V:NeuronType=tanh:VarTransform=N:NCycles=600:HiddenLayers=N+5:TestRate=5:!UseRegulator"),
        )

    if Use["MLPBFGS"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kMLP,
            "MLPBFGS",
            (
                "H:!V:NeuronType=tanh:VarTransform=N:NCycles=600:HiddenLayers=N+5:TestRate=5:"
                "TrainingMethod=BFGS:!UseRegulator"
            ),
        )

    if Use["MLPBNN"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kMLP,
            "MLPBNN",
            (
                "H:!V:NeuronType=tanh:VarTransform=N:NCycles=60:HiddenLayers=N+5:TestRate=5:"
                "TrainingMethod=BFGS:UseRegulator"
            ),
        )

    # Multi-architecture DNN implementation.
    if Use["DNN_CPU"] or Use["DNN_GPU"]:
        # General layout.
        layoutString = "Layout=TANH|128,TANH|128,TANH|128,LINEAR"

        # Define Training strategy. One could define multiple strategy string separated by the "|" delimiter
        trainingStrategyString = (
            "TrainingStrategy=LearningRate=1e-2,Momentum=0.9,"
            "ConvergenceSteps=20,BatchSize=100,TestRepetitions=1,"
            "WeightDecay=1e-4,Regularization=None,"
            "DropConfig=0.0+0.5+0.5+0.5"
        )

        # General Options.
        dnnOptions = "!H:V:ErrorStrategy=CROSSENTROPY:VarTransform=N:WeightInitialization=XAVIERUNIFORM"
        dnnOptions += ":" + layoutString
        dnnOptions += ":" + trainingStrategyString

        # Cuda implementation.
        if Use["DNN_GPU"]:
            gpuOptions = dnnOptions + ":Architecture=GPU"
            factory.BookMethod(dataloader, TMVA.Types.kDL, "DNN_GPU", gpuOptions)
        # Multi-core CPU implementation.
        if Use["DNN_CPU"]:
            cpuOptions = dnnOptions + ":Architecture=CPU"
            factory.BookMethod(dataloader, TMVA.Types.kDL, "DNN_CPU", cpuOptions)

    if Use["CFMlpANN"]:
        factory.BookMethod(
            dataloader, TMVA.Types.kCFMlpANN, "CFMlpANN", "!H:!V:NCycles=200:HiddenLayers=N+1,N"
        )

    if Use["TMlpANN"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kTMlpANN,
            "TMlpANN",
            "!H:!V:NCycles=200:HiddenLayers=N+1,N:LearningMethod=BFGS:ValidationFraction=0.3",
        )

    if Use["SVM"]:
        factory.BookMethod(dataloader, TMVA.Types.kSVM, "SVM", "Gamma=0.25:Tol=0.001:VarTransform=Norm")

    if Use["BDTG"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kBDT,
            "BDTG",
            (
                "!H:!V:NTrees=1000:MinNodeSize=2.5%:BoostType=Grad:Shrinkage=0.10:UseBaggedBoost:"
                "BaggedSampleFraction=0.5:nCuts=20:MaxDepth=2"
            ),
        )

    if Use["BDT"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kBDT,
            "BDT",
            (
                "!H:!V:NTrees=850:MinNodeSize=2.5%:MaxDepth=3:BoostType=AdaBoost:AdaBoostBeta=0.5:"
                "UseBaggedBoost:BaggedSampleFraction=0.5:SeparationType=GiniIndex:nCuts=20"
            ),
        )

    if Use["BDTB"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kBDT,
            "BDTB",
            "!H:!V:NTrees=400:BoostType=Bagging:SeparationType=GiniIndex:nCuts=20",
        )

    if Use["BDTD"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kBDT,
            "BDTD",
            (
                "!H:!V:NTrees=400:MinNodeSize=5%:MaxDepth=3:BoostType=AdaBoost:"
                "SeparationType=GiniIndex:nCuts=20:VarTransform=Decorrelate"
            ),
        )

    if Use["BDTF"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kBDT,
            "BDTF",
            (
                "!H:!V:NTrees=50:MinNodeSize=2.5%:UseFisherCuts:MaxDepth=3:BoostType=AdaBoost:"
                "AdaBoostBeta=0.5:SeparationType=GiniIndex:nCuts=20"
            ),
        )

    if Use["RuleFit"]:
        factory.BookMethod(
            dataloader,
            TMVA.Types.kRuleFit,
            "RuleFit",
            (
                "H:!V:RuleFitModule=RFTMVA:Model=ModRuleLinear:MinImp=0.001:RuleMinDist=0.001:"
                "NTrees=20:fEventsMin=0.01:fEventsMax=0.5:GDTau=-1.0:GDTauPrec=0.01:GDStep=0.01:"
                "GDNSteps=10000:GDErrScale=1.02"
            ),
        )

    # For an example of the category classifier usage, see: TMVAClassificationCategory
    #
    # --------------------------------------------------------------------------------------------------
    #  Now you can optimize the setting (configuration) of the MVAs using the set of training events
    # STILL EXPERIMENTAL and only implemented for BDT's !
    #
    #     factory.OptimizeAllMethods("SigEffAtBkg0.01","Scan")
    #     factory.OptimizeAllMethods("ROCIntegral","FitGA")
    #
    # --------------------------------------------------------------------------------------------------

    # Now you can tell the factory to train, test, and evaluate the MVAs
    #
    # Train MVAs using the set of training events
    factory.TrainAllMethods()

    # Evaluate all MVAs using the set of test events
    factory.TestAllMethods()

    # Evaluate and compare performance of all configured MVAs
    factory.EvaluateAllMethods()

    # --------------------------------------------------------------

    # pymva: the ROC integrals, for a look (and for tests/test_examples.py); not of the cut methods,
    # whose 0/1 response makes no ROC curve (the table above has their efficiency-based integral)
    for name in sorted(m for m, use in Use.items() if use and not m.startswith("Cuts")):
        if factory.HasMethod("dataset", name):
            print(f"ROC integral of {name}: {factory.GetROCIntegral(dataloader, name):.4f}")

    # Save the output
    outputFile.Write()
    outputFile.Close()  # pymva: in C++ the unique_ptr closes it

    print("==> Wrote root file:", outputFile.GetName())
    print("==> TMVAClassification is done!")

    # Launch the GUI for the root macros
    # pymva: batch mode, no GUI (TMVA::TMVAGui(outfileName) in ROOT)

    return 0


if __name__ == "__main__":
    # Select methods (don't look at this code - not of interest)
    methodList = ",".join(arg for arg in sys.argv[1:] if arg not in ("-b", "--batch"))
    sys.exit(TMVAClassification(methodList))
