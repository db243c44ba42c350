"""ROOT's ClassificationKeras.py tutorial (tutorials/machine_learning/keras), run with pymva.

Keras 3 runs on its torch backend (pymva sets ``KERAS_BACKEND=torch`` when it is unset; no
TensorFlow needed).  Lines marked "pymva:" differ from ROOT's tutorial: the imports
(``tensorflow.keras`` → ``keras``, ``ROOT`` → ``pymva``), the input file (generated with
pymva.toydata instead of read from ROOT's tutorial directory), the ``--epochs`` option and the
printed ROC integral.

Run:  python examples/classification_keras.py  [--epochs N]
"""

import argparse  # pymva: for --epochs
from os.path import isfile

from pymva import TMVA, TCut, TFile  # pymva: was "from ROOT import TMVA, TFile, TCut, gROOT"
from pymva.toydata import create_class_example  # pymva: was "from subprocess import call"

# isort: split
# pymva imports first, as the tutorial imports ROOT first: it selects the torch backend of Keras
from keras.layers import Dense
from keras.models import Sequential  # pymva: was tensorflow.keras (here and below)
from keras.optimizers import SGD

# pymva: --epochs N overrides the tutorial's NumEpochs=20 (the tests train 2 epochs)
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--epochs", type=int, default=20, help="NumEpochs (the tutorial uses 20)")
args = parser.parse_args()


def create_model():
    # Generate model

    # Define model
    model = Sequential()
    model.add(Dense(64, activation="relu", input_dim=4))
    model.add(Dense(2, activation="softmax"))

    # Set loss and optimizer
    model.compile(
        loss="categorical_crossentropy",
        optimizer=SGD(learning_rate=0.01),
        weighted_metrics=[
            "accuracy",
        ],
    )

    # Store model to file
    model.save("modelClassification.keras")
    model.summary()


def run():
    if not isfile("tmva_class_example.root"):  # pymva: generated instead of ROOT's tutorial file
        create_class_example("tmva_class_example.root")
    with (
        TFile.Open("TMVA_Classification_Keras.root", "RECREATE") as output,
        TFile.Open("tmva_class_example.root") as data,  # pymva: was gROOT.GetTutorialDir() + ...
    ):
        factory = TMVA.Factory(
            "TMVAClassification",
            output,
            "!V:!Silent:Color:DrawProgressBar:Transformations=D,G:AnalysisType=Classification",
        )

        signal = data.Get("TreeS")
        background = data.Get("TreeB")

        dataloader = TMVA.DataLoader("dataset")
        for branch in signal.GetListOfBranches():
            dataloader.AddVariable(branch.GetName())

        dataloader.AddSignalTree(signal, 1.0)
        dataloader.AddBackgroundTree(background, 1.0)
        dataloader.PrepareTrainingAndTestTree(
            TCut(""), "nTrain_Signal=4000:nTrain_Background=4000:SplitMode=Random:NormMode=NumEvents:!V"
        )

        # Book methods
        factory.BookMethod(dataloader, TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher:VarTransform=D,G")
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPyKeras,
            "PyKeras",
            "H:!V:VarTransform=D,G:FilenameModel=modelClassification.keras:FilenameTrainedModel="
            # pymva: NumEpochs from --epochs (the tutorial: 20)
            f"trainedModelClassification.keras:NumEpochs={args.epochs}:BatchSize=32:"
            "LearningRateSchedule=10,0.01;20,0.005",
        )

        # Run training, test and evaluation
        factory.TrainAllMethods()
        factory.TestAllMethods()
        factory.EvaluateAllMethods()
        print(f"ROC integral of PyKeras: {factory.GetROCIntegral(dataloader, 'PyKeras'):.4f}")  # pymva


if __name__ == "__main__":
    # Setup TMVA
    TMVA.Tools.Instance()
    TMVA.PyMethodBase.PyInitialize()

    # Create and store the ML model
    create_model()

    # Run TMVA
    run()
