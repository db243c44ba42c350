"""ROOT's RegressionKeras.py tutorial (tutorials/machine_learning/keras), run with pymva.

Keras 3 runs on its torch backend (pymva sets ``KERAS_BACKEND=torch`` when it is unset).  Lines
marked "pymva:" differ from ROOT's tutorial: the imports (``tensorflow.keras`` → ``keras``,
``ROOT`` → ``pymva``), the input file (generated with pymva.toydata instead of read from ROOT's
tutorial directory), the ``--epochs`` and ``--ntrees`` options and the printed test-sample deviations.

Run:  python examples/regression_keras.py  [--epochs N] [--ntrees N]
"""

import argparse  # pymva: for --epochs
from os.path import isfile

import numpy as np  # pymva: for the printed deviations
import uproot  # pymva: for the printed deviations

from pymva import TMVA, TCut, TFile  # pymva: was "from ROOT import TMVA, TFile, TCut, gROOT"
from pymva.toydata import create_regression_example  # pymva: was "from subprocess import call"

# isort: split
# pymva imports first, as the tutorial imports ROOT first: it selects the torch backend of Keras
from keras.layers import Dense
from keras.models import Sequential  # pymva: was tensorflow.keras (here and below)
from keras.optimizers import SGD

# pymva: --epochs N overrides the tutorial's NumEpochs=20 (the tests train 2 epochs)
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--epochs", type=int, default=20, help="NumEpochs (the tutorial uses 20)")
parser.add_argument("--ntrees", type=int, default=1000, help="NTrees of BDTG (the tutorial uses 1000)")
args = parser.parse_args()


def create_model():
    # Define model
    model = Sequential()
    model.add(Dense(64, activation="tanh", input_dim=2))
    model.add(Dense(1, activation="linear"))

    # Set loss and optimizer
    model.compile(loss="mean_squared_error", optimizer=SGD(learning_rate=0.01), weighted_metrics=[])

    # Store model to file
    model.save("modelRegression.keras")
    model.summary()


def run():
    if not isfile("tmva_reg_example.root"):  # pymva: generated instead of ROOT's tutorial file
        create_regression_example("tmva_reg_example.root")
    with (
        TFile.Open("TMVA_Regression_Keras.root", "RECREATE") as output,
        TFile.Open("tmva_reg_example.root") as data,  # pymva: was gROOT.GetTutorialDir() + ...
    ):
        factory = TMVA.Factory(
            "TMVARegression",
            output,
            "!V:!Silent:Color:DrawProgressBar:Transformations=D,G:AnalysisType=Regression",
        )

        tree = data.Get("TreeR")

        dataloader = TMVA.DataLoader("dataset")
        for branch in tree.GetListOfBranches():
            name = branch.GetName()
            if name != "fvalue":
                dataloader.AddVariable(name)
        dataloader.AddTarget("fvalue")

        dataloader.AddRegressionTree(tree, 1.0)
        # use only 1000 events since evaluation is very slow (especially on MacOS). Increase it to get meaningful results
        dataloader.PrepareTrainingAndTestTree(
            TCut(""), "nTrain_Regression=1000:SplitMode=Random:NormMode=NumEvents:!V"
        )

        # Book methods
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPyKeras,
            "PyKeras",
            "H:!V:VarTransform=D,G:FilenameModel=modelRegression.keras:FilenameTrainedModel="
            f"trainedModelRegression.keras:NumEpochs={args.epochs}:BatchSize=32",  # pymva: --epochs
        )
        factory.BookMethod(
            dataloader,
            TMVA.Types.kBDT,
            "BDTG",
            # pymva: NTrees from --ntrees (the tutorial: 1000)
            f"!H:!V:VarTransform=D,G:NTrees={args.ntrees}:BoostType=Grad:Shrinkage=0.1:UseBaggedBoost:"
            "BaggedSampleFraction=0.5:nCuts=20:MaxDepth=4",
        )

        # Run TMVA
        factory.TrainAllMethods()
        factory.TestAllMethods()
        factory.EvaluateAllMethods()

    # pymva: the test-sample deviations of both methods
    with uproot.open("TMVA_Regression_Keras.root") as f:
        test = f["dataset/TestTree"].arrays(["fvalue", "PyKeras", "BDTG"], library="np")
    for name in ("PyKeras", "BDTG"):
        dev = test[name] - test["fvalue"]
        print(f"{name}: test-sample bias {np.mean(dev):.4g}, RMS {np.std(dev):.4g}")


if __name__ == "__main__":
    # Setup TMVA
    TMVA.Tools.Instance()
    TMVA.PyMethodBase.PyInitialize()

    # Generate model
    create_model()

    # Run TMVA
    run()
