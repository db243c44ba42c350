"""ROOT's ClassificationPyTorch.py tutorial, run with pymva.

The tutorial's code runs unchanged: ``TFile.Open``, ``Get``, ``GetListOfBranches``, ``GetName`` and
``roc.SaveAs`` come from pymva's ROOT-compatibility layer (``pymva.io.rootfile``).  Lines marked "pymva:"
differ from ROOT's tutorial: the import line, the input ``tmva_class_example.root`` generated with
pymva.toydata when it is absent (ROOT's tutorial downloads it with curl), the ``--epochs`` option,
the scheduler call and the printed ROC integral.

Run:  python examples/classification_pytorch.py  [--epochs N]
"""

import argparse  # pymva: for --epochs
from os.path import isfile

import torch
from torch import nn

from pymva import TMVA, TCut, TFile  # pymva: was "from ROOT import TMVA, TFile, TTree, TCut"
from pymva.toydata import create_class_example  # pymva: was "from subprocess import call"

# pymva: --epochs N overrides the tutorial's NumEpochs=20 (the tests train 2 epochs)
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--epochs", type=int, default=20, help="NumEpochs (the tutorial uses 20)")
args = parser.parse_args()

# Setup TMVA
TMVA.Tools.Instance()
TMVA.PyMethodBase.PyInitialize()

# (as in ROOT 6.22-6.28's version of the tutorial; later versions create the factory without output file)
output = TFile.Open("TMVA.root", "RECREATE")
factory = TMVA.Factory(
    "TMVAClassification",
    output,
    "!V:!Silent:Color:DrawProgressBar:Transformations=D,G:AnalysisType=Classification",
)

# Load data
if not isfile("tmva_class_example.root"):
    create_class_example("tmva_class_example.root")  # pymva: generated instead of downloaded with curl

data = TFile.Open("tmva_class_example.root")
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

# Generate model

# Define model
model = nn.Sequential()
model.add_module("linear_1", nn.Linear(in_features=4, out_features=64))
model.add_module("relu", nn.ReLU())
model.add_module("linear_2", nn.Linear(in_features=64, out_features=2))
model.add_module("softmax", nn.Softmax(dim=1))


# Set loss and optimizer
loss = torch.nn.MSELoss()
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
            train_loss = criterion(output, y)
            train_loss.backward()
            trainer.step()

            # print train statistics
            running_train_loss += train_loss.item()
            if i % 32 == 31:  # print every 32 batches
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
                val_loss = criterion(output, y)
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
torch.jit.save(m, "modelClassification.pt")
print(m)

# Book methods
factory.BookMethod(dataloader, TMVA.Types.kFisher, "Fisher", "!H:!V:Fisher:VarTransform=D,G")
factory.BookMethod(
    dataloader,
    TMVA.Types.kPyTorch,
    "PyTorch",
    "H:!V:VarTransform=D,G:FilenameModel=modelClassification.pt:"
    # pymva: NumEpochs from --epochs (the tutorial: 20)
    f"FilenameTrainedModel=trainedModelClassification.pt:NumEpochs={args.epochs}:BatchSize=32",
)

# Run training, test and evaluation
factory.TrainAllMethods()
factory.TestAllMethods()
factory.EvaluateAllMethods()

print("ROC integral of PyTorch:", factory.GetROCIntegral(dataloader, "PyTorch"))  # pymva: beyond the tutorial

# Plot ROC Curves
roc = factory.GetROCCurve(dataloader)
roc.SaveAs("ROC_ClassificationPyTorch.png")
