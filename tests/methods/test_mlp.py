"""``Types.kMLP``: TMVA's layer grammar, a first back-propagation step computed by hand, the ROOT-written
regression MLP applied by the Reader (against a forward pass written here from the XML), Reader round
trips, and the MLP/MLPBFGS/MLPBNN bookings of TMVAClassification.C and the MLP of TMVARegression.C."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import uproot

from pymva import TMVA, OptionError, TCut
from pymva.data.dataset import Sample, VariableInfo
from pymva.methods.annbase import initial_weights, parse_hidden_layers
from pymva.methods.base import MethodContext
from pymva.methods.mlp import SEQUENTIAL_CHUNK, MethodMLP
from pymva.toydata import create_regression_example
from pymva.types import EAnalysisType

ROOT_MLP = "tmva-written/grizzay-dev+Burst_Analysis/4c331f9/dataset/weights/TMVARegression_MLP.weights.xml"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ------------------------------------------------------------------------------------- layer grammar
@pytest.mark.parametrize(
    ("spec", "n_var", "n_out", "expected"),
    [
        ("N,N-1", 4, 1, [4, 4, 3, 1]),  # TMVA's default
        ("N+5", 4, 1, [4, 9, 1]),  # TMVAClassification.C
        ("N+20", 2, 1, [2, 22, 1]),  # TMVARegression.C
        ("10,5", 3, 2, [3, 10, 5, 2]),
        ("n", 6, 3, [6, 6, 3]),
        ("", 2, 1, [2, 1]),
    ],
)
def test_hidden_layers(spec: str, n_var: int, n_out: int, expected: list[int]) -> None:
    assert parse_hidden_layers(spec, n_var, n_out) == expected


def test_empty_hidden_layer_is_refused() -> None:
    with pytest.raises(OptionError, match="HiddenLayers"):
        parse_hidden_layers("N-4", 4, 1)


def _context(n_var: int = 1, analysis: EAnalysisType = EAnalysisType.kClassification) -> MethodContext:
    variables = tuple(VariableInfo(f"x{i}", f"x{i}", f"x{i}") for i in range(n_var))
    return MethodContext("job", "dataset", analysis, variables, ("Signal", "Background"))


def test_synapse_count_of_n_n_minus_1() -> None:
    """(4+1)·4 + (4+1)·3 + (3+1)·1 = 39 synapses for HiddenLayers=N,N-1 with four variables."""
    rng = np.random.default_rng(1)
    n = 40
    sample = Sample(
        X=rng.normal(size=(n, 4)).astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=np.ones(n, np.float32),
        class_id=(np.arange(n) % 2).astype(np.int32),
    )
    m = MethodMLP("MLP", _context(4), "NCycles=1:HiddenLayers=N,N-1:!H:!V")
    m.train(sample)
    assert m.weights_ is not None
    assert [w.shape for w in m.weights_] == [(5, 4), (5, 3), (4, 1)]
    assert sum(w.size for w in m.weights_) == 39


def test_genetic_algorithm_is_refused() -> None:
    m = MethodMLP("MLP", _context(2), "TrainingMethod=GA")
    with pytest.raises(OptionError, match=r"TrainingMethod=GA.*BFGS"):
        m.setup()


# ------------------------------------------------------------------------------------- first BP step
def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@pytest.mark.parametrize("mode", ["batch", "sequential"])
def test_first_back_propagation_step_by_hand(mode: str) -> None:
    """1 input, 1 sigmoid hidden neuron, sigmoid output (CE): the gradient of
    E = Σ w·(−d ln y − (1−d) ln(1−y)) worked out by the chain rule, one event at a time.  Batch mode
    (BatchSize = all) steps by −η·mean, sequential mode (4 events < one chunk) by −η·sum."""
    assert SEQUENTIAL_CHUNK >= 4
    x = [0.3, -1.2, 0.8, 2.0]
    d = [1.0, 0.0, 1.0, 0.0]  # class 0 = Signal
    w = [1.0, 0.5, 2.0, 1.5]
    sample = Sample(
        X=np.array(x, np.float32)[:, None],
        targets=np.zeros((4, 0), np.float32),
        spectators=np.zeros((4, 0), np.float32),
        weights=np.array(w, np.float32),
        class_id=np.array([0, 1, 0, 1], np.int32),
    )
    lr = 0.1
    opts = f"NCycles=1:HiddenLayers=1:NeuronType=sigmoid:TrainingMethod=BP:BPMode={mode}:LearningRate={lr}:RandomSeed=7"
    m = MethodMLP("MLP", _context(1), opts)
    m.train(sample)
    W0, W1 = initial_weights([1, 1, 1], 7)  # the synapses in TMVA's order, before training
    a, b = W0[0, 0], W0[1, 0]  # input → hidden, bias → hidden
    v, c = W1[0, 0], W1[1, 0]  # hidden → output, bias → output
    grad = np.zeros(4)
    for xi, di, wi in zip(x, d, w, strict=True):
        xi = float(np.float32(xi))
        h = _sig(a * xi + b)
        y = _sig(v * h + c)
        dz = wi * (y - di)  # ∂E/∂(output input)
        dh = dz * v * h * (1 - h)
        grad += [dh * xi, dh, dz * h, dz]
    step = grad / 4 if mode == "batch" else grad
    expected = np.array([a, b, v, c]) - lr * step
    assert m.weights_ is not None
    got = np.array([m.weights_[0][0, 0], m.weights_[0][1, 0], m.weights_[1][0, 0], m.weights_[1][1, 0]])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)


# ------------------------------------------------------------------------------------- ROOT's file
def _fast_tanh(arg: float) -> float:
    """TActivationTanh::fast_tanh with its float arithmetic, one value at a time."""
    f = np.float32
    if arg > 4.97:
        return 1.0
    if arg < -4.97:
        return -1.0
    arg2 = f(arg * arg)
    num = f(arg * float(f(135135.0) + arg2 * (f(17325.0) + arg2 * (f(378.0) + arg2))))
    den = f(135135.0) + arg2 * (f(62370.0) + arg2 * (f(3150.0) + arg2 * f(28.0)))
    return float(f(num / den))


def test_root_written_regression_mlp(shared_data: Path) -> None:
    """The Reader applies ROOT's TMVARegression MLP (Normalize, 2-22-1 tanh network, linear output) as
    a forward pass written here from the XML: x' = 2(x − min)/(max − min) − 1, neuron by neuron with
    float-read weights, and the target normalisation undone."""
    path = shared_data / ROOT_MLP
    root = ET.parse(path).getroot()
    ranges = [(float(r.get("Min", "")), float(r.get("Max", ""))) for r in root.iter("Range")]
    layers = root.find("Weights/Layout").findall("Layer")  # type: ignore[union-attr]
    syn = [
        [[float(np.float32(t)) for t in (n.text or "").split()] for n in layer.findall("Neuron")]
        for layer in layers
    ]
    assert [len(s) for s in syn] == [3, 23, 1]  # 2 inputs + bias, 22 hidden + bias, 1 output

    def by_hand(x1: float, x2: float) -> float:
        xs = [
            2 * (float(np.float32(v)) - lo) / (hi - lo) - 1
            for v, (lo, hi) in zip((x1, x2), ranges[:2], strict=True)
        ]
        inputs = [*xs, 1.0]
        hidden = [_fast_tanh(sum(inputs[j] * syn[0][j][k] for j in range(3))) for k in range(22)]
        hidden.append(1.0)
        out = sum(hidden[j] * syn[1][j][0] for j in range(23))
        lo, hi = ranges[2]
        return (out + 1) / 2 * (hi - lo) + lo

    reader = TMVA.Reader("!Color:Silent")
    a = np.zeros(1, np.float32)
    b = np.zeros(1, np.float32)
    reader.AddVariable("NA_T_AX_gmax", a)
    reader.AddVariable("NA_T_SD_gmax", b)
    reader.BookMVA("MLP", str(path))
    rng = np.random.default_rng(3)
    for x1, x2 in zip(rng.uniform(10, 50, 25), rng.uniform(0.16, 4.8, 25), strict=True):
        a[0], b[0] = x1, x2
        got = reader.EvaluateRegression("MLP")[0]
        want = by_hand(float(a[0]), float(b[0]))
        # float32 result of a 3 (target range) × O(10) sum of double products
        assert got == pytest.approx(want, abs=3 * 2**-23 * 16)


# ------------------------------------------------------------------------------------- tutorials
def _classification_loader(n: int = 400) -> TMVA.DataLoader:
    rng = np.random.default_rng(5)
    names = ["var1", "var2", "var3", "var4"]
    loader = TMVA.DataLoader("dataset")
    for v in names:
        loader.AddVariable(v, "F")
    sig = rng.normal(0.4, 1.0, (n, 4)) + 0.3 * rng.normal(size=(n, 1))
    bkg = rng.normal(-0.4, 1.0, (n, 4))
    loader.AddSignalTree({v: sig[:, i].astype(np.float32) for i, v in enumerate(names)})
    loader.AddBackgroundTree({v: bkg[:, i].astype(np.float32) for i, v in enumerate(names)})
    loader.PrepareTrainingAndTestTree(
        TCut(""), f"nTrain_Signal={n // 2}:nTrain_Background={n // 2}:SplitMode=Random:NormMode=NumEvents:!V"
    )
    return loader


def test_tmvaclassification_mlp_bookings(workdir: Path) -> None:
    """MLP, MLPBFGS and MLPBNN as TMVAClassification.C books them (NCycles made small); the Reader
    reproduces each TestTree response from the weights file."""
    loader = _classification_loader()
    factory = TMVA.Factory(
        "TMVAClassification", "TMVA.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification"
    )
    bookings = {
        "MLP": "H:!V:NeuronType=tanh:VarTransform=N:NCycles=20:HiddenLayers=N+5:TestRate=5:!UseRegulator",
        "MLPBFGS": "H:!V:NeuronType=tanh:VarTransform=N:NCycles=20:HiddenLayers=N+5:TestRate=5:TrainingMethod=BFGS:"
        "!UseRegulator",
        "MLPBNN": "H:!V:NeuronType=tanh:VarTransform=N:NCycles=20:HiddenLayers=N+5:TestRate=5:TrainingMethod=BFGS:"
        "UseRegulator",
    }
    for title, opts in bookings.items():
        factory.BookMethod(loader, TMVA.Types.kMLP, title, opts)
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    with uproot.open("TMVA.root") as f:
        test = f["dataset/TestTree"].arrays(library="np")
    X = np.stack([test[v] for v in ("var1", "var2", "var3", "var4")], axis=1).astype(np.float32)
    for title in bookings:
        # the two classes overlap by ~1.6σ; a linear cut alone gives an area of ~0.85
        assert factory.GetROCIntegral(loader, title) > 0.8, title
        assert np.all((test[title] > 0) & (test[title] < 1))  # the sigmoid output neuron
        reader = TMVA.Reader("!Color:Silent")
        buffers = [np.zeros(1, np.float32) for _ in range(4)]
        for v, buf in zip(("var1", "var2", "var3", "var4"), buffers, strict=True):
            reader.AddVariable(v, buf)
        reader.BookMVA(title, f"dataset/weights/TMVAClassification_{title}.weights.xml")
        got = np.array(reader.EvaluateMVA(X, title))
        np.testing.assert_allclose(got, test[title], rtol=0, atol=2**-23)
    xml = Path("dataset/weights/TMVAClassification_MLPBNN.weights.xml").read_text()
    assert "<InverseHessian" in xml  # UseRegulator stores TMVA's approximate inverse Hessian
    assert '<Layout NLayers="3">' in xml
    assert 'NNeurons="10"' in xml


def test_tmvaregression_mlp_booking(workdir: Path) -> None:
    """TMVARegression.C's MLP (BFGS, Sampling, convergence tests; NCycles made small) fits the toy
    target better than its mean."""
    create_regression_example("tmva_reg_example.root", n_events=600)
    tree = uproot.open("tmva_reg_example.root")["TreeR"]
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("var1")
    loader.AddVariable("var2")
    loader.AddTarget("fvalue")
    loader.AddRegressionTree(tree, 1.0)
    loader.PrepareTrainingAndTestTree(
        TCut(""), "nTrain_Regression=400:SplitMode=Random:NormMode=NumEvents:!V"
    )
    factory = TMVA.Factory(
        "TMVARegression", "TMVAReg.root", "!V:Silent:!DrawProgressBar:AnalysisType=Regression"
    )
    factory.BookMethod(
        loader,
        TMVA.Types.kMLP,
        "MLP",
        "!H:!V:VarTransform=Norm:NeuronType=tanh:NCycles=60:HiddenLayers=N+20:TestRate=6:TrainingMethod=BFGS:"
        "Sampling=0.3:SamplingEpoch=0.8:ConvergenceImprove=1e-6:ConvergenceTests=15:!UseRegulator",
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    with uproot.open("TMVAReg.root") as f:
        test = f["dataset/TestTree"].arrays(["fvalue", "MLP"], library="np")
    mse = float(np.mean((test["MLP"] - test["fvalue"]) ** 2))
    assert mse < 0.25 * float(np.var(test["fvalue"]))
