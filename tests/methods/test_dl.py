"""MethodDL (Types.kDL): option grammar, network shapes, training rule, weights file — each against
hand computations from TMVA's definitions (MethodDL.cxx, TMVA/DNN/*)."""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import torch

from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.io.weights import load_method, write_weights_file
from pymva.methods.base import MethodContext
from pymva.methods.dl import MethodDL, select_device
from pymva.methods.dl_layout import (
    batch_layout,
    dense_width,
    input_layout,
    parse_layout,
    parse_training_strategy,
)
from pymva.methods.dl_network import build_deep_net
from pymva.methods.registry import get_method_class
from pymva.reader import Reader
from pymva.types import EAnalysisType, Types

F32_EPS = float(np.finfo(np.float32).eps)


def _context(tmp_path: Path, n_vars: int = 3, at: EAnalysisType = EAnalysisType.kClassification,
             classes: tuple[str, ...] = ("Signal", "Background")) -> MethodContext:  # fmt: skip
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=at,
        variables=tuple(VariableInfo(f"v{i}", f"v{i}", f"v{i}") for i in range(n_vars)),
        class_names=classes,
        weight_dir=tmp_path / "weights",
    )


def _sample(n: int = 200, n_vars: int = 3, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    cid = (rng.uniform(size=n) < 0.5).astype(np.int32)  # 0 = Signal
    X = (rng.normal(size=(n, n_vars)) + np.where(cid == 0, 0.6, -0.6)[:, None]).astype(np.float32)
    w = rng.uniform(0.5, 1.5, n).astype(np.float32)
    return Sample(X=X, targets=np.zeros((n, 0), np.float32), spectators=np.zeros((n, 0), np.float32),
                  weights=w, class_id=cid)  # fmt: skip


def _method(tmp_path: Path, options: str, n_vars: int = 3, **ctx: object) -> MethodDL:
    m = MethodDL("DL", _context(tmp_path, n_vars, **ctx), options)  # type: ignore[arg-type]
    m.setup()
    return m


# ----------------------------------------------------------------------------------- option grammar


def test_registered_as_kdl() -> None:
    assert get_method_class(Types.kDL) is MethodDL
    assert get_method_class("DL") is MethodDL
    assert MethodDL.has_analysis_type(EAnalysisType.kMulticlass, 4, 0)
    assert MethodDL.has_analysis_type(EAnalysisType.kRegression, 2, 1)
    assert not MethodDL.has_analysis_type(EAnalysisType.kClassification, 3, 0)


def test_layouts_of_the_tutorials() -> None:
    dense = parse_layout("DENSE|(N+100)*2|SOFTSIGN,DENSE|0|LINEAR", 4)  # TMVA's default
    assert [(s.kind, s.params["width"], s.params["activation"]) for s in dense] == [
        ("DENSE", 208, 5),
        ("DENSE", 0, 0),
    ]
    old = parse_layout("TANH|128,TANH|128,TANH|128,LINEAR", 4)  # TMVAClassification.C
    assert [(s.params["width"], s.params["activation"]) for s in old] == [(128, 3)] * 3 + [(0, 0)]
    assert parse_layout("DENSE|TANH|64", 4)[0].params == {"width": 64, "activation": 3}  # either order
    cnn = parse_layout("CONV|10|3|3|1|1|1|1|RELU,BNORM,MAXPOOL|2|2|1|1,RESHAPE|FLAT,DENSE|100|RELU", 256)
    assert cnn[0].params == {
        "depth": 10,
        "kernel": (3, 3),
        "stride": (1, 1),
        "padding": (1, 1),
        "activation": 1,
    }
    assert cnn[1].params == {"momentum": -1.0, "epsilon": 1e-4}
    assert cnn[2].params == {"kernel": (2, 2), "stride": (1, 1)}
    assert cnn[3].params["flat"] is True
    rnn = parse_layout("LSTM|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR", 300)
    assert rnn[0].params == {
        "state_size": 10,
        "input_size": 30,
        "time_steps": 10,
        "remember_state": False,
        "return_sequence": True,
    }
    assert parse_layout("GRU|5|3|4|0|0|1", 12)[0].params["reset_gate_after"] is True


def test_dense_width_formulas() -> None:
    assert dense_width("64", 7) == 64
    assert dense_width("N+5", 7) == 12
    assert dense_width("n*2", 7) == 14
    assert dense_width("(N+100)*2", 4) == 208
    assert dense_width("N/2", 7) == 3  # truncated as TMVA's conversion to int
    with pytest.raises(OptionError, match="neither an activation"):
        dense_width("__import__('os')", 7)


def test_malformed_layers_name_the_layer() -> None:
    with pytest.raises(OptionError, match=r"unknown activation function 'RELUU'.*RELU"):
        parse_layout("CONV|10|3|3|1|1|1|1|RELUU", 9)
    with pytest.raises(OptionError, match="stride rows must be at least 1"):
        parse_layout("CONV|10|3|3|0|1|1|1|RELU", 9)
    with pytest.raises(OptionError, match="has no time steps"):
        parse_layout("LSTM|10|30", 9)
    with pytest.raises(OptionError, match="Layout is empty"):
        parse_layout(" , ", 9)


def test_input_and_batch_layout() -> None:
    assert input_layout("0|0|0", 7) == (1, 1, 7)
    assert input_layout("1|1|7", 7) == (1, 1, 7)
    assert input_layout("10|30", 300) == (1, 10, 30)  # RNN tutorial: time | features
    assert input_layout("1|16|16", 256) == (1, 16, 16)
    assert input_layout("-2|0|5", 10) == (2, 1, 5)  # absolute values, 0 read as 1
    assert batch_layout("0|0|0", (1, 1, 7), 128) == (1, 128, 7)
    assert batch_layout("0|0|0", (1, 16, 16), 100) == (100, 1, 256)
    assert batch_layout("1|128|7", (1, 1, 7), 128) == (1, 128, 7)
    with pytest.raises(OptionError, match="not compatible with batch layout"):
        batch_layout("1|128|8", (1, 1, 7), 128)


def test_training_strategy_defaults_and_phases() -> None:
    default = MethodDL.Options.TrainingStrategy  # type: ignore[attr-defined]
    p1, p2 = parse_training_strategy(default)
    assert (p1.learning_rate, p1.momentum, p1.convergence_steps, p1.batch_size, p1.test_interval) == (
        0.1, 0.3, 50, 30, 7)  # fmt: skip
    assert (p1.max_epochs, p1.regularization, p1.dropout, p1.optimizer) == (2000, "NONE", (0.0,), "ADAM")
    assert (p2.learning_rate, p2.batch_size, p2.weight_decay, p2.regularization) == (1e-4, 20, 0.001, "L2")
    assert p2.dropout == (0.0, 0.5, 0.5)
    (only,) = parse_training_strategy("BatchSize=64")
    # fetchValueTmp's defaults
    assert (only.learning_rate, only.momentum, only.convergence_steps, only.test_interval) == (
        1e-5,
        0.3,
        100,
        7,
    )
    assert only.optimizer_param("ADAM_eps") == 1e-7
    (sgd,) = parse_training_strategy("Optimizer=SGD, Regularization=L1, WeightDecay=1e-3")  # blanks removed
    assert (sgd.optimizer, sgd.regularization, sgd.weight_decay) == ("SGD", "L1", 1e-3)


def test_missing_comma_reads_as_tmva_does_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    # TMVA_RNN_Classification.py concatenates "MaxEpochs=" + "10" + "Optimizer=ADAM,DropConfig=..."
    text = ("LearningRate=1e-3,Momentum=0.0,Repetitions=1,ConvergenceSteps=5,BatchSize=100,TestRepetitions=1,"
            "WeightDecay=1e-2,Regularization=None,MaxEpochs=10Optimizer=ADAM,DropConfig=0.0+0.+0.+0.")  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="pymva"):
        (s,) = parse_training_strategy(text)
    assert (s.max_epochs, s.optimizer, s.dropout, s.weight_decay) == (10, "ADAM", (0.0, 0.0, 0.0, 0.0), 1e-2)
    assert "MaxEpochs=10Optimizer=ADAM is read as 10" in caplog.text
    with caplog.at_level(logging.WARNING, logger="pymva"):
        (s,) = parse_training_strategy("LearnignRate=0.1,Optimizer=ADAMW")
    assert "unknown key 'LEARNIGNRATE'" in caplog.text
    assert "LEARNINGRATE" in caplog.text
    assert s.optimizer == "ADAM"
    assert "unknown Optimizer=ADAMW" in caplog.text
    with pytest.raises(OptionError, match="BatchSize=0 must be at least 1"):
        parse_training_strategy("BatchSize=0")
    with pytest.raises(OptionError, match="dropout probability must be in"):
        parse_training_strategy("DropConfig=0.0+1.0")


def test_options_at_booking(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="holds 6 values per event but there are 3"):
        _method(tmp_path, "InputLayout=1|2|3")
    with pytest.raises(OptionError, match="gives 4 outputs, the analysis needs 1"):
        _method(tmp_path, "Layout=DENSE|4|TANH")
    with pytest.raises(OptionError, match="WeightInitialization"):
        _method(tmp_path, "WeightInitialization=XAVIERNORMAL")
    m = _method(tmp_path, "Architecture=Standard:ErrorStrategy=sumofsquares")
    assert (m.options.Architecture, m.options.ErrorStrategy) == ("STANDARD", "SUMOFSQUARES")


# ------------------------------------------------------------------------- shapes and parameter counts


def _shapes_and_counts(layout: str, shape: tuple[int, int, int], n_out: int = 1) -> tuple[list, list]:
    net = build_deep_net(parse_layout(layout, int(np.prod(shape))), shape, n_out)
    return (
        [tuple(layer.out_shape) for layer in net.layers],
        [sum(p.numel() for p in layer.parameters()) for layer in net.layers],
    )


def test_cnn_tutorial_shapes_and_parameter_counts() -> None:
    layout = ("CONV|10|3|3|1|1|1|1|RELU,BNORM,CONV|10|3|3|1|1|1|1|RELU,MAXPOOL|2|2|1|1,RESHAPE|FLAT,"
              "DENSE|100|RELU,DENSE|1|LINEAR")  # fmt: skip
    shapes, counts = _shapes_and_counts(layout, (1, 16, 16))
    # (16 - 3 + 2*1)/1 + 1 = 16; pool (16 - 2)/1 + 1 = 15; 10*15*15 = 2250
    assert shapes == [(10, 16, 16), (10, 16, 16), (10, 16, 16), (10, 15, 15), (2250,), (100,), (1,)]
    # conv: 10*(1*3*3) + 10; bnorm: gamma + beta per channel; conv: 10*(10*3*3) + 10; dense 2250*100 + 100
    assert counts == [100, 20, 910, 0, 0, 225100, 101]
    shapes, counts = _shapes_and_counts("CONV|4|3|3|2|2|0|0|RELU,MAXPOOL|2|2|2|2,DENSE|0|LINEAR", (2, 9, 7))
    assert shapes == [(4, 4, 3), (4, 2, 1), (1,)]  # (9-3)/2+1, (7-3)/2+1; (4-2)/2+1, (3-2)/2+1
    assert counts == [4 * 2 * 9 + 4, 0, 8 + 1]


@pytest.mark.parametrize(("kind", "gates"), [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_rnn_tutorial_shapes_and_parameter_counts(kind: str, gates: int) -> None:
    shapes, counts = _shapes_and_counts(f"{kind}|10|30|10|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR", (1, 10, 30))
    assert shapes == [(10, 10), (100,), (64,), (1,)]
    # per gate: input weights 10x30, state weights 10x10, one bias of 10 (TMVA's layout)
    assert counts == [gates * (10 * 30 + 10 * 10 + 10), 0, 100 * 64 + 64, 65]
    shapes, _ = _shapes_and_counts(f"{kind}|7|30|10|0|0,DENSE|1|LINEAR", (1, 10, 30))
    assert shapes[0] == (7,)  # last time step only


def test_default_layout_widths_for_each_analysis_type() -> None:
    _, counts = _shapes_and_counts("DENSE|(N+100)*2|SOFTSIGN,DENSE|0|LINEAR", (1, 1, 4))
    assert counts == [4 * 208 + 208, 208 + 1]
    _, counts = _shapes_and_counts("DENSE|(N+100)*2|SOFTSIGN,DENSE|0|LINEAR", (1, 1, 4), n_out=3)
    assert counts == [4 * 208 + 208, 208 * 3 + 3]


# ---------------------------------------------------------------------------- one SGD step by hand


@pytest.mark.parametrize("strategy", ["CROSSENTROPY", "SUMOFSQUARES"])
def test_first_sgd_step_by_hand(tmp_path: Path, strategy: str) -> None:
    sample = _sample(200)
    opts = ("Layout=LINEAR:WeightInitialization=ZERO:ValidationSize=100:RandomSeed=7:"
            f"ErrorStrategy={strategy}:TrainingStrategy=Optimizer=SGD,LearningRate=0.1,Momentum=0.9,"
            "BatchSize=100,TestRepetitions=1,ConvergenceSteps=10,MaxEpochs=1")  # fmt: skip
    m = _method(tmp_path, opts)
    m.train(sample)
    X = sample.X[:100].astype(np.float64)  # one full batch: the shuffle does not change the sum
    y = (sample.class_id[:100] == 0).astype(np.float64)
    w = sample.weights[:100].astype(np.float64)
    # W = 0, b = 0: output 0; dLoss/d_out per event, loss = sum_i w_i l_i / (100 events * 1 output)
    if strategy == "CROSSENTROPY":
        d_out = w * (0.5 - y) / 100  # d/dx of cross entropy on sigmoid(x): sigmoid(x) - y
    else:
        d_out = w * 2 * (0.0 - y) / 100
    grad_w, grad_b = d_out @ X, d_out.sum()
    layer = m.net_.layers[0]  # type: ignore[union-attr]
    np.testing.assert_allclose(layer.weight.detach().numpy()[0], -0.1 * grad_w, atol=100 * F32_EPS)
    np.testing.assert_allclose(layer.bias.detach().numpy()[0], -0.1 * grad_b, atol=100 * F32_EPS)
    # the step improved the validation error, so this state is the kept one
    val0 = (
        (math.log(2) if strategy == "CROSSENTROPY" else 1.0)
        * float(
            (sample.weights[100:] * (1 if strategy == "CROSSENTROPY" else (sample.class_id[100:] == 0))).sum()
        )
        / 100
    )
    assert m.training_history["valError"][0][1] < val0


# --------------------------------------------------------------------- early stopping and phases


@pytest.mark.parametrize(
    ("steps", "interval", "expected"), [(3, 1, [1, 2, 3, 4]), (3, 2, [2, 4]), (0, 1, [1])]
)
def test_early_stopping_follows_tmva_convergence_count(
    tmp_path: Path, steps: int, interval: int, expected: list[int]
) -> None:
    # LearningRate=0: the validation error never goes below its initial minimum, so every test adds
    # TestRepetitions to the count; the phase stops when the count exceeds ConvergenceSteps
    opts = ("Layout=DENSE|4|TANH,LINEAR:RandomSeed=3:ValidationSize=50:TrainingStrategy=Optimizer=SGD,"
            f"LearningRate=0,BatchSize=25,TestRepetitions={interval},ConvergenceSteps={steps},MaxEpochs=50")  # fmt: skip
    m = _method(tmp_path, opts)
    m.train(_sample(150))
    assert [s for s, _ in m.training_history["valError"]] == expected
    assert len({v for _, v in m.training_history["valError"]}) == 1


def test_max_epochs_and_phase_switching(tmp_path: Path) -> None:
    opts = ("Layout=DENSE|4|TANH,LINEAR:RandomSeed=3:ValidationSize=60:TrainingStrategy="
            "Optimizer=SGD,LearningRate=0,BatchSize=20,TestRepetitions=1,ConvergenceSteps=100,MaxEpochs=3|"
            "Optimizer=SGD,LearningRate=0.2,Momentum=0.5,BatchSize=50,TestRepetitions=1,ConvergenceSteps=100,"
            "MaxEpochs=2")  # fmt: skip
    m = _method(tmp_path, opts)
    m.train(_sample(200))
    val = m.training_history["valError"]
    assert [s for s, _ in val] == [1, 2, 3, 4, 5]  # epochs counted on across the phases
    assert val[0][1] == val[1][1] == val[2][1]  # phase 1 does not move
    assert val[3][1] < val[2][1]  # phase 2 starts from phase 1's weights and learns


# ------------------------------------------------------------------- weights file, numpy forward pass


def _numpy_forward(weights: ET.Element, X: np.ndarray) -> np.ndarray:
    acts = {0: lambda a: a, 1: lambda a: np.maximum(a, 0), 2: lambda a: 1 / (1 + np.exp(-a)), 3: np.tanh,
            4: np.abs, 5: lambda a: a / (1 + np.abs(a)), 6: lambda a: np.exp(-a * a)}  # fmt: skip
    h = X.astype(np.float64)
    for layer in weights.findall("DenseLayer"):
        W = np.array(layer.find("Weights").text.split(), float).reshape(  # type: ignore[union-attr]
            int(layer.find("Weights").get("Rows")),
            int(layer.find("Weights").get("Columns")),  # type: ignore[union-attr, arg-type]
        )
        b = np.array(layer.find("Biases").text.split(), float)  # type: ignore[union-attr]
        h = acts[int(layer.get("ActivationFunction"))](h @ W.T + b)  # type: ignore[arg-type]
    return h


def test_dense_forward_matches_numpy_on_the_stored_weights(tmp_path: Path) -> None:
    sample = _sample(400, seed=4)
    opts = ("Layout=DENSE|6|TANH,DENSE|5|RELU,DENSE|4|SOFTSIGN,DENSE|3|GAUSS,DENSE|1|LINEAR:RandomSeed=11:"
            "WeightInitialization=XAVIER:ValidationSize=25%:TrainingStrategy=LearningRate=1e-2,"
            "BatchSize=30,TestRepetitions=1,ConvergenceSteps=3,MaxEpochs=6")  # fmt: skip
    m = _method(tmp_path, opts)
    m.train(sample)
    path = write_weights_file(m)
    weights = ET.parse(path).getroot().find("Weights")
    assert weights is not None
    assert weights.get("NetDepth") == "5"
    assert weights.get("OutputFunction") == "S"
    assert weights.get("LossFunction") == "C"
    assert weights.get("Initialization") == "X"
    assert (weights.get("InputDepth"), weights.get("InputHeight"), weights.get("InputWidth")) == (
        "1",
        "1",
        "3",
    )
    X = sample.X
    p = 1 / (1 + np.exp(-_numpy_forward(weights, X)[:, 0]))
    tol = 1e-5  # float32 network vs float64 numpy on 10-digit weights
    np.testing.assert_allclose(m.evaluate(X), p, atol=tol)
    # the kept network is the one of the smallest validation error (TMVA's fNet copy)
    n_val = 100
    yv, wv = (sample.class_id[-n_val:] == 0), sample.weights[-n_val:].astype(np.float64)
    n_full = (n_val // 30) * 30
    pv = p[-n_val:][:n_full]
    ce = -np.where(yv[:n_full], np.log(pv), np.log(1 - pv))
    best = min(v for _, v in m.training_history["valError"])
    assert float((wv[:n_full] * ce).sum() / n_full) == pytest.approx(best, abs=tol)
    # re-created from the file (as the Factory and the Reader do) and through the Reader
    again = load_method(path)
    np.testing.assert_allclose(again.evaluate(X), p, atol=tol)
    reader = Reader("Silent")
    for i in range(3):
        reader.AddVariable(f"v{i}", np.zeros(1, np.float32))
    reader.BookMVA("DL", path)
    np.testing.assert_allclose(reader.EvaluateMVA(X, "DL"), p, atol=tol)
    assert Path(m.torchscript_path).is_file()
    scripted = torch.jit.load(m.torchscript_path)  # type: ignore[no-untyped-call]
    with torch.no_grad():
        raw = scripted(torch.from_numpy(X)).numpy()[:, 0]
    np.testing.assert_allclose(1 / (1 + np.exp(-raw.astype(np.float64))), p, atol=tol)


def _numpy_lstm(e: ET.Element, x: np.ndarray) -> np.ndarray:
    def mat(name: str) -> np.ndarray:
        node = e.find(name)
        assert node is not None
        return np.array(node.text.split(), float).reshape(int(node.get("Rows")), int(node.get("Columns")))  # type: ignore[union-attr, arg-type]

    def sig(a: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-a))

    gates = [("InputWeights", "InputStateWeights", "InputBiases"), ("ForgetWeights", "ForgetStateWeights",
             "ForgetBiases"), ("CandidateWeights", "CandidateStateWeights", "CandidateBiases"),
             ("OuputWeights", "OutputStateWeights", "OutputBiases")]  # fmt: skip
    W = [(mat(a), mat(b), mat(c)[:, 0]) for a, b, c in gates]
    h = np.zeros((len(x), W[0][0].shape[0]))
    c = np.zeros_like(h)
    for t in range(x.shape[1]):
        g = [x[:, t] @ wi.T + h @ ws.T + b for wi, ws, b in W]
        c = sig(g[1]) * c + sig(g[0]) * np.tanh(g[2])
        h = sig(g[3]) * np.tanh(c)
    return h


def test_lstm_forward_matches_tmva_equations_on_the_stored_weights(tmp_path: Path) -> None:
    n_vars = 12  # 4 time steps x 3 features
    sample = _sample(240, n_vars=n_vars, seed=8)
    opts = ("InputLayout=4|3:Layout=LSTM|5|3|4|0|0,DENSE|1|LINEAR:RandomSeed=5:ValidationSize=80:"
            "TrainingStrategy=LearningRate=1e-2,BatchSize=40,TestRepetitions=1,MaxEpochs=2")  # fmt: skip
    m = _method(tmp_path, opts, n_vars=n_vars)
    m.train(sample)
    weights = ET.parse(write_weights_file(m)).getroot().find("Weights")
    assert weights is not None
    lstm, dense = weights.find("LSTMLayer"), weights.find("DenseLayer")
    assert lstm is not None
    assert dense is not None
    assert (lstm.get("StateSize"), lstm.get("InputSize"), lstm.get("TimeSteps"), lstm.get("ReturnSequence")) == (
        "5", "3", "4", "0")  # fmt: skip
    h = _numpy_lstm(lstm, sample.X.reshape(-1, 4, 3).astype(np.float64))
    Wd = np.array(dense.find("Weights").text.split(), float).reshape(1, 5)  # type: ignore[union-attr]
    bd = float(dense.find("Biases").text)  # type: ignore[union-attr, arg-type]
    p = 1 / (1 + np.exp(-(h @ Wd.T + bd)[:, 0]))
    np.testing.assert_allclose(m.evaluate(sample.X), p, atol=1e-5)


def test_bad_weights_are_refused(tmp_path: Path) -> None:
    m = _method(tmp_path, "Layout=DENSE|3|TANH,LINEAR:TrainingStrategy=BatchSize=20,MaxEpochs=1")
    m.train(_sample(120))
    weights = ET.Element("Weights")
    m.add_weights_xml(weights)
    weights.find("DenseLayer/Weights").text = "1 2 3"  # type: ignore[union-attr]
    fresh = MethodDL("DL", m.context, "")
    with pytest.raises(ModelError, match=r"holds 3 values, expected 9"):
        fresh.read_weights_xml(weights)
    weights.find("DenseLayer").tag = "FancyLayer"  # type: ignore[union-attr]
    with pytest.raises(ModelError, match="unknown layer <FancyLayer>"):
        fresh.read_weights_xml(weights)
    with pytest.raises(ModelError, match="no <Weights>"):
        fresh.read_weights_xml(None)


def test_too_few_events_for_the_batch_size(tmp_path: Path) -> None:
    m = _method(tmp_path, "Layout=LINEAR:TrainingStrategy=BatchSize=50,MaxEpochs=1")
    with pytest.raises(ModelError, match="smaller than the batch size of 50"):
        m.train(_sample(100))  # 80 training and 20 validation events


# --------------------------------------------------------------------------------- architecture


def test_gpu_without_cuda_falls_back_to_cpu(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("pymva.test.dl")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with caplog.at_level(logging.WARNING, logger="pymva.test.dl"):
        assert select_device("GPU", log) == torch.device("cpu")
    assert "CUDA is not available to torch" in caplog.text
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "mock GPU")
    assert select_device("GPU", log) == torch.device("cuda")
    assert select_device("CUDNN", log) == torch.device("cuda")
    assert select_device("CPU", log) == torch.device("cpu")
    assert select_device("STANDARD", log) == torch.device("cpu")


def test_multiclass_and_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 300
    cid = rng.integers(0, 3, n).astype(np.int32)
    X = (rng.normal(size=(n, 2)) + cid[:, None]).astype(np.float32)
    sample = Sample(X=X, targets=np.zeros((n, 0), np.float32), spectators=np.zeros((n, 0), np.float32),
                    weights=np.ones(n, np.float32), class_id=cid)  # fmt: skip
    m = _method(tmp_path, "Layout=DENSE|8|RELU,LINEAR:ErrorStrategy=MUTUALEXCLUSIVE:RandomSeed=2:"
                "TrainingStrategy=BatchSize=30,LearningRate=1e-2,MaxEpochs=3", n_vars=2,
                at=EAnalysisType.kMulticlass, classes=("a", "b", "c"))  # fmt: skip
    m.train(sample)
    out = m.evaluate(X)
    assert out.shape == (n, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=10 * F32_EPS)  # softmax
    ctx = MethodContext("job", "dataset", EAnalysisType.kRegression,
                        tuple(VariableInfo(f"v{i}", f"v{i}", f"v{i}") for i in range(2)), ("Regression",),
                        targets=(VariableInfo("t", "t", "t"),), weight_dir=tmp_path / "w")  # fmt: skip
    reg = MethodDL("R", ctx, "Layout=DENSE|8|TANH,LINEAR:RandomSeed=2:TrainingStrategy=BatchSize=30,"
                   "LearningRate=1e-2,MaxEpochs=40,ConvergenceSteps=40,TestRepetitions=1")  # fmt: skip
    reg.setup()
    t = (2 * X[:, :1] - X[:, 1:]).astype(np.float32)
    reg.train(Sample(X=X, targets=t, spectators=np.zeros((n, 0), np.float32), weights=np.ones(n, np.float32),
                     class_id=np.zeros(n, np.int32)))  # fmt: skip
    resid = reg.evaluate(X)[:, 0] - t[:, 0]
    assert float(np.mean(resid**2)) < 0.25 * float(np.var(t))  # a linear target is learnt


def test_reads_a_weights_element_in_root_6_2x_spellings(tmp_path: Path) -> None:
    """ROOT's older LSTMLayer: OutputSize instead of StateSize, no ReturnSequence, and the misspelt
    'Candidateeights' matrix; numbers as std::scientific with two blanks (VGeneralLayer::WriteMatrixToXML)."""
    rng = np.random.default_rng(21)
    hs, feat, steps = 2, 3, 4
    weights = ET.Element("Weights", NetDepth="2", InputDepth="1", InputHeight=str(steps), InputWidth=str(feat),
                         BatchSize="1", BatchDepth="30", BatchHeight="1", BatchWidth="12", LossFunction="C",
                         Initialization="F", Regularization="0", OutputFunction="S", WeightDecay="0.0")  # fmt: skip
    lstm = ET.SubElement(weights, "LSTMLayer", OutputSize=str(hs), CellSize=str(hs), InputSize=str(feat),
                         TimeSteps=str(steps), RememberState="0")  # fmt: skip
    names = ["InputWeights", "InputStateWeights", "InputBiases", "ForgetWeights", "ForgetStateWeights",
             "ForgetBiases", "Candidateeights", "CandidateStateWeights", "CandidateBiases", "OuputWeights",
             "OutputStateWeights", "OutputBiases"]  # fmt: skip
    values = {}
    for i, name in enumerate(names):
        shape = [(hs, feat), (hs, hs), (hs, 1)][i % 3]
        values[name] = rng.normal(0, 0.5, shape)
        node = ET.SubElement(lstm, name, Rows=str(shape[0]), Columns=str(shape[1]))
        node.text = "".join(f"{v:.6e}  " for v in values[name].ravel())
    dense = ET.SubElement(weights, "DenseLayer", Width="1", ActivationFunction="0")
    wd, bd = rng.normal(0, 0.5, (1, hs)), rng.normal(0, 0.5, (1, 1))
    for name, v in (("Weights", wd), ("Biases", bd)):
        ET.SubElement(dense, name, Rows=str(v.shape[0]), Columns=str(v.shape[1])).text = " ".join(
            f"{x:.6e}" for x in v.ravel()
        )
    m = MethodDL("LSTM", _context(tmp_path, steps * feat), "")
    m.read_weights_xml(weights)
    x = rng.normal(size=(50, steps * feat)).astype(np.float32)
    renamed = copy_with_names(lstm, {"Candidateeights": "CandidateWeights"})
    h = _numpy_lstm(renamed, x.reshape(-1, steps, feat).astype(np.float64))
    p = 1 / (1 + np.exp(-(h @ wd.T + bd)[:, 0]))
    np.testing.assert_allclose(m.evaluate(x), p, atol=1e-5)


def copy_with_names(e: ET.Element, renames: dict[str, str]) -> ET.Element:
    out = ET.Element(e.tag, e.attrib)
    for child in e:
        c = ET.SubElement(out, renames.get(child.tag, child.tag), child.attrib)
        c.text = child.text
    return out


def test_progress_bar_on_a_terminal_and_log_lines_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    import dataclasses

    import pymva.logger

    opts = "Layout=LINEAR:RandomSeed=1:TrainingStrategy=BatchSize=20,TestRepetitions=1,MaxEpochs=2"
    ctx = dataclasses.replace(_context(tmp_path), draw_progress_bar=True)
    monkeypatch.setattr(pymva.logger, "stderr_is_terminal", lambda: True)
    m = MethodDL("DL", ctx, opts)
    m.setup()
    with caplog.at_level(logging.INFO, logger="pymva"):
        m.train(_sample(120))
    assert "DL phase 1" in capsys.readouterr().err  # the tqdm bar over the epochs
    assert "Epoch      1 | Train Err." not in caplog.text
    monkeypatch.setattr(pymva.logger, "stderr_is_terminal", lambda: False)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pymva"):
        m.train(_sample(120))
    assert "DL phase 1" not in capsys.readouterr().err
    assert "Epoch      2 | Train Err." in caplog.text  # one line per test epoch instead


def test_conv_forward_matches_tmva_local_views_on_the_stored_weights(tmp_path: Path) -> None:
    """TMVA's TCpu::Im2col: each output pixel's local view runs over input channel, filter row, filter
    column; the ConvLayer's Weights matrix is filters x that view; outputs are depth-major."""
    d, h, w, kh, kw, ph, pw = 2, 4, 5, 3, 2, 1, 0
    n_vars = d * h * w
    sample = _sample(200, n_vars=n_vars, seed=9)
    opts = (f"InputLayout={d}|{h}|{w}:Layout=CONV|3|{kh}|{kw}|1|2|{ph}|{pw}|TANH,RESHAPE|FLAT,DENSE|1|LINEAR:"
            "RandomSeed=4:ValidationSize=50:TrainingStrategy=LearningRate=1e-2,BatchSize=25,MaxEpochs=2")  # fmt: skip
    m = _method(tmp_path, opts, n_vars=n_vars)
    m.train(sample)
    weights = ET.parse(write_weights_file(m)).getroot().find("Weights")
    assert weights is not None
    conv, dense = weights.find("ConvLayer"), weights.find("DenseLayer")
    assert conv is not None
    assert dense is not None

    def mat(e: ET.Element, name: str) -> np.ndarray:
        node = e.find(name)
        assert node is not None
        return np.array(node.text.split(), float).reshape(int(node.get("Rows")), int(node.get("Columns")))  # type: ignore[union-attr, arg-type]

    Wc, bc = mat(conv, "Weights"), mat(conv, "Biases")[:, 0]
    assert Wc.shape == (3, d * kh * kw)
    img = np.pad(sample.X.reshape(-1, d, h, w).astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h - kh + 2 * ph) // 1 + 1, (w - kw + 2 * pw) // 2 + 1
    views = np.stack(
        [
            img[:, :, r : r + kh, 2 * c : 2 * c + kw].reshape(len(img), -1)
            for r in range(oh)
            for c in range(ow)
        ],
        1,
    )  # (events, output pixels, channel*row*col)
    out = np.tanh(views @ Wc.T + bc)  # (events, pixels, filters)
    flat = out.transpose(0, 2, 1).reshape(len(img), -1)  # depth-major
    p = 1 / (1 + np.exp(-(flat @ mat(dense, "Weights").T + mat(dense, "Biases")[:, 0])[:, 0]))
    np.testing.assert_allclose(m.evaluate(sample.X), p, atol=1e-5)


@pytest.mark.parametrize("reset_after", [0, 1])
def test_gru_forward_matches_tmva_equations_on_the_stored_weights(tmp_path: Path, reset_after: int) -> None:
    """TBasicGRULayer: r, z = sigmoid(W x + U h + b); candidate tanh(W x + U (r h) + b), or with
    ResetGateAfter tanh(W x + r (U h) + b); h = z h + (1 - z) candidate."""
    sample = _sample(200, n_vars=12, seed=10)
    opts = (f"InputLayout=4|3:Layout=GRU|4|3|4|0|0|{reset_after},DENSE|1|LINEAR:RandomSeed=6:ValidationSize=50:"
            "TrainingStrategy=LearningRate=1e-2,BatchSize=25,MaxEpochs=2")  # fmt: skip
    m = _method(tmp_path, opts, n_vars=12)
    m.train(sample)
    weights = ET.parse(write_weights_file(m)).getroot().find("Weights")
    assert weights is not None
    gru = weights.find("GRULayer")
    dense = weights.find("DenseLayer")
    assert gru is not None
    assert dense is not None
    assert gru.get("ResetGateAfter") == str(reset_after)

    def mat(e: ET.Element, name: str) -> np.ndarray:
        node = e.find(name)
        assert node is not None
        return np.array(node.text.split(), float).reshape(int(node.get("Rows")), int(node.get("Columns")))  # type: ignore[union-attr, arg-type]

    def sig(a: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-a))

    g = {k: (mat(gru, f"{k}Weights"), mat(gru, f"{k}StateWeights"), mat(gru, f"{k}Biases")[:, 0])
         for k in ("Reset", "Update", "Candidate")}  # fmt: skip
    x = sample.X.reshape(-1, 4, 3).astype(np.float64)
    h = np.zeros((len(x), 4))
    for t in range(4):
        r = sig(x[:, t] @ g["Reset"][0].T + h @ g["Reset"][1].T + g["Reset"][2])
        z = sig(x[:, t] @ g["Update"][0].T + h @ g["Update"][1].T + g["Update"][2])
        Wc, Uc, bc = g["Candidate"]
        state = r * (h @ Uc.T) if reset_after else (r * h) @ Uc.T
        h = z * h + (1 - z) * np.tanh(x[:, t] @ Wc.T + state + bc)
    p = 1 / (1 + np.exp(-(h @ mat(dense, "Weights").T + mat(dense, "Biases")[:, 0])[:, 0]))
    np.testing.assert_allclose(m.evaluate(sample.X), p, atol=1e-5)


def test_validation_size_errors_name_the_dl_method(tmp_path: Path) -> None:
    # 0.001 of 200 events is zero events: TMVA's "is zero" error, naming this method and its option
    m = _method(tmp_path, "Layout=DENSE|4|TANH,LINEAR:ValidationSize=0.001")
    with pytest.raises(OptionError, match=r"is zero\. \(option ValidationSize of method DL \('DL'\)"):
        m.train(_sample())
