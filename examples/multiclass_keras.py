"""ROOT's MulticlassKeras.py tutorial (tutorials/machine_learning/keras), run with pymva.

Keras 3 runs on its torch backend (pymva sets ``KERAS_BACKEND=torch`` when it is unset).  Lines
marked "pymva:" differ from ROOT's tutorial: the imports (``tensorflow.keras`` → ``keras``,
``ROOT`` → ``pymva``), the input file (generated with pymva.toydata instead of ROOT's
``createData.C`` macro), the ``--epochs`` option and the printed ROC integrals.

Run:  python examples/multiclass_keras.py  [--epochs N]
"""

import argparse  # pymva: for --epochs
from os.path import isfile

from pymva import TMVA, TCut, TFile  # pymva: was "from ROOT import TMVA, TFile, TCut, gROOT"
from pymva.toydata import create_multiple_background  # pymva: replaces ROOT's createData.C

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
    # Define model
    model = Sequential()
    model.add(Dense(32, activation="relu", input_dim=4))
    model.add(Dense(4, activation="softmax"))

    # Set loss and optimizer
    model.compile(
        loss="categorical_crossentropy",
        optimizer=SGD(learning_rate=0.01),
        weighted_metrics=[
            "accuracy",
        ],
    )

    # Store model to file
    model.save("modelMultiClass.keras")
    model.summary()


def run():
    with (
        TFile.Open("TMVA.root", "RECREATE") as output,
        TFile.Open("tmva_example_multiple_background.root") as data,
    ):
        factory = TMVA.Factory(
            "TMVAClassification",
            output,
            "!V:!Silent:Color:DrawProgressBar:Transformations=D,G:AnalysisType=multiclass",
        )

        signal = data.Get("TreeS")
        background0 = data.Get("TreeB0")
        background1 = data.Get("TreeB1")
        background2 = data.Get("TreeB2")

        dataloader = TMVA.DataLoader("dataset")
        for branch in signal.GetListOfBranches():
            dataloader.AddVariable(branch.GetName())

        dataloader.AddTree(signal, "Signal")
        dataloader.AddTree(background0, "Background_0")
        dataloader.AddTree(background1, "Background_1")
        dataloader.AddTree(background2, "Background_2")
        dataloader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")

        # Book methods
        factory.BookMethod(dataloader, TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher:VarTransform=D,G")
        factory.BookMethod(
            dataloader,
            TMVA.Types.kPyKeras,
            "PyKeras",
            "H:!V:VarTransform=D,G:FilenameModel=modelMultiClass.keras:FilenameTrainedModel="
            f"trainedModelMultiClass.keras:NumEpochs={args.epochs}:BatchSize=32",  # pymva: --epochs
        )

        # Run TMVA
        factory.TrainAllMethods()
        factory.TestAllMethods()
        factory.EvaluateAllMethods()
        for i, name in enumerate(("Signal", "Background_0", "Background_1", "Background_2")):  # pymva
            print(
                f"ROC integral of PyKeras for {name} vs rest: {factory.GetROCIntegral(dataloader, 'PyKeras', i):.4f}"
            )


if __name__ == "__main__":
    # Generate model
    create_model()

    # Setup TMVA
    TMVA.Tools.Instance()
    TMVA.PyMethodBase.PyInitialize()

    # Load data
    if not isfile("tmva_example_multiple_background.root"):
        # pymva: was gROOT.ProcessLine(".L createData.C") and gROOT.ProcessLine("create_MultipleBackground(4000)")
        create_multiple_background("tmva_example_multiple_background.root", n_events=4000)

    # Run TMVA
    run()
