"""ROOT's MulticlassPyTorch.py tutorial, run with pymva.

The tutorial's code runs unchanged: ``TFile.Open``, ``Get``, ``GetListOfBranches``, ``GetName`` and
``roc.SaveAs`` come from pymva's ROOT-compatibility layer (``pymva.io.rootfile``).  Lines marked "pymva:"
differ from ROOT's tutorial: the import line, ``tmva_example_multiple_background.root`` generated
with pymva.toydata instead of ROOT's ``createData.C`` macro, the ``--epochs`` option and the
scheduler call.  Fisher is booked as in the tutorial: TMVA's Fisher cannot do
multiclass classification, so booking it logs a warning and returns None, and only PyTorch is
trained.  A few lines at the end print the per-class ROC integrals.

Run:  python examples/multiclass_pytorch.py  [--epochs N]
"""

import argparse  # pymva: for --epochs
from os.path import isfile

import torch
from torch import nn

from pymva import TMVA, TCut, TFile  # pymva: was "from ROOT import TMVA, TFile, TCut, gROOT"
from pymva.toydata import create_multiple_background  # pymva: replaces ROOT's createData.C

# pymva: --epochs N overrides the tutorial's NumEpochs=20 (the tests train 2 epochs)
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--epochs", type=int, default=20, help="NumEpochs (the tutorial uses 20)")
args = parser.parse_args()

# Setup TMVA
TMVA.Tools.Instance()
TMVA.PyMethodBase.PyInitialize()

# create factory without output file since it is not needed
factory = TMVA.Factory(
    "TMVAClassification", "!V:!Silent:Color:DrawProgressBar:Transformations=D,G:AnalysisType=multiclass"
)


# Load data
if not isfile("tmva_example_multiple_background.root"):
    # pymva: was gROOT.ProcessLine(".L createData.C") and gROOT.ProcessLine("create_MultipleBackground(4000)")
    create_multiple_background("tmva_example_multiple_background.root", n_events=4000)

data = TFile.Open("tmva_example_multiple_background.root")
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


# Generate model
# Define model
model = nn.Sequential()
model.add_module("linear_1", nn.Linear(in_features=4, out_features=32))
model.add_module("relu", nn.ReLU())
model.add_module("linear_2", nn.Linear(in_features=32, out_features=4))
model.add_module("softmax", nn.Softmax(dim=1))


# Set loss and optimizer
loss = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD


# Define train function
def train(
    model, train_loader, val_loader, num_epochs, batch_size, optimizer, criterion, save_best, scheduler
):
    trainer = optimizer(model.parameters(), lr=0.01)
    schedule, schedulerSteps = scheduler
    best_val = None

    for epoch in range(num_epochs):
        # Training Loop
        # Set to train mode
        model.train()
        running_train_loss = 0.0
        running_val_loss = 0.0
        for i, (X, y) in enumerate(train_loader):
            trainer.zero_grad()
            output = model(X)
            target = torch.max(y, 1)[1]
            train_loss = criterion(output, target)
            train_loss.backward()
            trainer.step()

            # print train statistics
            running_train_loss += train_loss.item()
            if i % 32 == 31:  # print every 32 mini-batches
                print(f"[{epoch + 1}, {i + 1}] train loss: {running_train_loss / 32:.3f}")
                running_train_loss = 0.0

        if schedule:
            schedule(trainer, epoch, schedulerSteps)  # pymva: the optimizer instance (ROOT passes the class)

        # Validation Loop
        # Set to eval mode
        model.eval()
        with torch.no_grad():
            for i, (X, y) in enumerate(val_loader):
                output = model(X)
                target = torch.max(y, 1)[1]
                val_loss = criterion(output, target)
                running_val_loss += val_loss.item()

            curr_val = running_val_loss / len(val_loader)
            if save_best:
                if best_val is None:
                    best_val = curr_val
                best_val = save_best(model, curr_val, best_val)

            # print val statistics per epoch
            print(f"[{epoch + 1}] val loss: {curr_val:.3f}")
            running_val_loss = 0.0

    print(f"Finished Training on {epoch + 1} Epochs!")

    return model


# Define predict function
def predict(model, test_X, batch_size=32):
    # Set to eval mode
    model.eval()

    test_dataset = torch.utils.data.TensorDataset(torch.Tensor(test_X))
    test_loader = torch.utils.data.DataLoader(test_dataset, batch_size=batch_size, shuffle=False)

    predictions = []
    with torch.no_grad():
        for i, data in enumerate(test_loader):
            X = data[0]
            outputs = model(X)
            predictions.append(outputs)
        preds = torch.cat(predictions)

    return preds.numpy()


load_model_custom_objects = {
    "optimizer": optimizer,
    "criterion": loss,
    "train_func": train,
    "predict_func": predict,
}


# Store model to file
# Convert the model to torchscript before saving
m = torch.jit.script(model)
torch.jit.save(m, "modelMultiClass.pt")
print(m)


# Book methods
factory.BookMethod(dataloader, TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher:VarTransform=D,G")  # -> None
factory.BookMethod(
    dataloader,
    TMVA.Types.kPyTorch,
    "PyTorch",
    "H:!V:VarTransform=D,G:FilenameModel=modelMultiClass.pt:"
    # pymva: NumEpochs from --epochs (the tutorial: 20)
    f"FilenameTrainedModel=trainedModelMultiClass.pt:NumEpochs={args.epochs}:BatchSize=32",
)


# Run TMVA
factory.TrainAllMethods()
factory.TestAllMethods()
factory.EvaluateAllMethods()

# pymva: beyond the tutorial, the 1-vs-rest ROC integral of every class
for iClass, className in enumerate(["Signal", "Background_0", "Background_1", "Background_2"]):
    print(
        f"ROC integral of PyTorch for {className} vs rest:",
        factory.GetROCIntegral(dataloader, "PyTorch", iClass),
    )

# Plot ROC Curves
roc = factory.GetROCCurve(dataloader)
roc.SaveAs("ROC_MulticlassPyTorch.png")
