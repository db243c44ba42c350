"""ROOT's ``TMVAMultipleBackgroundExample.C`` in Python: one BDTG per background, then a genetic fit
of the three cuts that maximise efficiency × purity.

1. Training: signal against each of three backgrounds, a gradient-boosted BDT each (three Factories).
2. Application: three Readers give every event of all four trees its three classifier values (the
   C++ tutorial fills a TTree with them; here they stay numpy arrays).
3. ``MaximizeSignificance``: a ``TMVA.IFitterTarget`` subclass returns ``1/(efficiency·purity)``
   of the cuts ``cls0 > c0 && cls1 > c1 && cls2 > c2``; a ``TMVA.GeneticFitter`` over three
   ``TMVA.Interval(-1, 1)`` minimises it.

Run:  python examples/multiple_background.py [--ntrees N]   (the tutorial's NTrees=1000 is the default)
"""

import argparse
from os.path import isfile

import numpy as np
import uproot

from pymva import TMVA, TCut, TFile
from pymva.toydata import create_multiple_background

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--ntrees", type=int, default=1000, help="NTrees of the three BDTGs")
args = parser.parse_args()

FNAME = "tmva_example_multiple_background.root"
VARIABLES = ["var1", "var2", "var3", "var4"]
BAGGED = {0: 0.6, 1: 0.6, 2: 0.5}


def training() -> None:
    factory_options = "!V:!Silent:Transformations=I;D;P;G,D:AnalysisType=Classification"
    data = uproot.open(FNAME)
    for k in range(3):
        output = TFile.Open(f"TMVASignalBackground{k}.root", "RECREATE")
        factory = TMVA.Factory(f"TMVAMultiBkg{k}", output, factory_options)
        loader = TMVA.DataLoader(f"datasetBkg{k}")
        loader.AddVariable("var1", "Variable 1", "", "F")
        loader.AddVariable("var2", "Variable 2", "", "F")
        loader.AddVariable("var3", "Variable 3", "units", "F")
        loader.AddVariable("var4", "Variable 4", "units", "F")
        loader.AddSignalTree(data["TreeS"], 1.0)
        loader.AddBackgroundTree(data[f"TreeB{k}"], 1.0)
        loader.PrepareTrainingAndTestTree(
            TCut(""), TCut(""), "nTrain_Signal=0:nTrain_Background=0:SplitMode=Random:NormMode=NumEvents:!V"
        )
        factory.BookMethod(
            loader,
            TMVA.Types.kBDT,
            "BDTG",
            f"!H:!V:NTrees={args.ntrees}:BoostType=Grad:Shrinkage=0.30:UseBaggedBoost:"
            f"BaggedSampleFraction={BAGGED[k]}:SeparationType=GiniIndex:nCuts=20:MaxDepth=2",
        )
        factory.TrainAllMethods()
        factory.TestAllMethods()
        factory.EvaluateAllMethods()
        output.Close()


def application() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """classID, weight and the three classifier values of every event of the four trees."""
    readers = []
    for k in range(3):
        reader = TMVA.Reader("!Color:!Silent")
        for v in VARIABLES:
            reader.AddVariable(v)
        reader.BookMVA("BDT method", f"datasetBkg{k}/weights/TMVAMultiBkg{k}_BDTG.weights.xml")
        readers.append(reader)
    data = uproot.open(FNAME)
    class_id, classifiers = [], []
    for cid, tree in enumerate(["TreeS", "TreeB0", "TreeB1", "TreeB2"]):
        x = np.column_stack([data[tree][v].array(library="np") for v in VARIABLES]).astype(np.float32)
        class_id.append(np.full(len(x), cid))
        classifiers.append(np.column_stack([r.EvaluateMVA(x, "BDT method") for r in readers]))
    cid_all = np.concatenate(class_id)
    return cid_all, np.ones(len(cid_all)), np.concatenate(classifiers)


class MyFitness(TMVA.IFitterTarget):
    """1/(efficiency·purity) of the three cuts; the fitter minimises it."""

    def __init__(self, class_id: np.ndarray, weight: np.ndarray, cls: np.ndarray) -> None:
        super().__init__()
        self.signal = class_id == 0
        self.weight = weight
        self.cls = cls
        self.weights_signal = weight[self.signal].sum()

    def EstimatorFunction(self, factors):
        passed = np.all(self.cls > np.asarray(factors[:3]), axis=1)
        self.weights_true_positive = self.weight[passed & self.signal].sum()
        self.weights_false_positive = self.weight[passed & ~self.signal].sum()
        self.efficiency = self.weights_true_positive / self.weights_signal if self.weights_signal > 0 else 0.0
        selected = self.weights_true_positive + self.weights_false_positive
        self.purity = self.weights_true_positive / selected if selected > 0 else 0.0
        eff_times_pur = self.efficiency * self.purity
        return 1.0 / eff_times_pur if eff_times_pur > 0 else float(np.finfo(np.float32).max)

    def Print(self) -> None:
        print()
        print("======================")
        print(f"Efficiency : {self.efficiency}")
        print(f"Purity     : {self.purity}")
        print()
        print(f"True positive weights : {self.weights_true_positive}")
        print(f"False positive weights: {self.weights_false_positive}")
        print(f"Signal weights        : {self.weights_signal}")


def maximize_significance(class_id: np.ndarray, weight: np.ndarray, cls: np.ndarray) -> None:
    ranges = [TMVA.Interval(-1, 1), TMVA.Interval(-1, 1), TMVA.Interval(-1, 1)]
    print("Classifier ranges (defined by the user)")
    for r in ranges:
        print(f" range: {r.GetMin()}   {r.GetMax()}")
    my_fitness = MyFitness(class_id, weight, cls)
    mg = TMVA.GeneticFitter(my_fitness, "multipleBackgroundGA", ranges, "PopSize=100:Steps=30")
    result: list[float] = []
    estimator = mg.Run(result)
    my_fitness.EstimatorFunction(result)  # the values of Print() belong to the best cuts
    my_fitness.Print()
    print()
    print(f"Estimator (1/(efficiency*purity)) = {estimator}")
    for n, value in enumerate(result):
        print(f"  cutValue[{n}] = {value};")


if __name__ == "__main__":
    print("Start Test TMVAGAexample")
    print("========================")
    if not isfile(FNAME):
        create_multiple_background(FNAME, n_events=200)  # the tutorial's create_MultipleBackground(200)
    print("--- Training")
    training()
    print("--- Application & create combined tree")
    class_id, weight, cls = application()
    np.savez("multiple_background_applied.npz", class_id=class_id, weight=weight, cls=cls)
    print("--- maximize significance")
    maximize_significance(class_id, weight, cls)
