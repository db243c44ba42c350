"""The kDL bookings of ROOT's tutorials run through the Factory (train, test, evaluate, output file):
TMVA_Higgs_Classification.py (dense), TMVAClassification.C (DNN_CPU, DNN_GPU), TMVA_CNN_Classification.py
(CNN) and TMVA_RNN_Classification.py (RNN, LSTM, GRU and its dense net), each with MaxEpochs made small,
on toy data that a working network separates above chance."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import uproot

from pymva import TMVA, TString


def _factory(name: str) -> TMVA.Factory:
    return TMVA.Factory(name, "TMVA.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")


def test_higgs_tutorial_dense_booking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(10)
    names = ["m_jj", "m_jjj", "m_lv", "m_jlv", "m_bb", "m_wbb", "m_wwbb"]
    loader = TMVA.DataLoader("dataset")
    for n in names:
        loader.AddVariable(n)
    loader.AddSignalTree({n: rng.gamma(4.0, 0.3, 900).astype(np.float32) for n in names})
    loader.AddBackgroundTree({n: rng.gamma(3.0, 0.3, 900).astype(np.float32) for n in names})
    loader.PrepareTrainingAndTestTree(
        "", "nTrain_Signal=600:nTrain_Background=600:SplitMode=Random:NormMode=NumEvents:!V"
    )
    factory = _factory("TMVA_Higgs_Classification")
    training1 = TString(
        "LearningRate=1e-3,Momentum=0.9,"
        "ConvergenceSteps=10,BatchSize=128,TestRepetitions=1,"
        "MaxEpochs=3,WeightDecay=1e-4,Regularization=None,"  # the tutorial: MaxEpochs=20
        "Optimizer=ADAM,ADAM_beta1=0.9,ADAM_beta2=0.999,ADAM_eps=1.E-7,"  # ADAM default parameters
        "DropConfig=0.0+0.0+0.0+0."
    )
    factory.BookMethod(
        loader,
        TMVA.Types.kDL,
        TString("DNN_CPU"),
        H=False,
        V=True,
        ErrorStrategy="CROSSENTROPY",
        VarTransform="G",
        WeightInitialization="XAVIER",
        InputLayout="1|1|7",
        BatchLayout="1|128|7",
        Layout="DENSE|64|TANH,DENSE|64|TANH,DENSE|64|TANH,DENSE|64|TANH,DENSE|1|LINEAR",
        TrainingStrategy=training1,
        Architecture="CPU",
        RandomSeed=1,  # not in the tutorial (TMVA's default 0 = a new seed each run): fixed so the test is deterministic
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    assert factory.GetROCIntegral(loader, "DNN_CPU") > 0.7
    with uproot.open("TMVA.root") as f:
        hist = f["dataset/Method_DL/DNN_CPU/TrainingHistory_DNN_CPU_valError"]
        assert len(hist.values()) == 3  # one value per epoch (TestRepetitions=1)
        test = f["dataset/TestTree"].arrays(["DNN_CPU"], library="np")["DNN_CPU"]
        assert np.all((test > 0) & (test < 1))  # the sigmoid of the output


def test_tmvaclassification_dnn_cpu_and_gpu_bookings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    rng = np.random.default_rng(11)
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v, "F")
    cov = 0.5 * np.eye(4) + 0.5
    loader.AddSignalTree(
        dict(
            zip(
                ("var1", "var2", "var3", "var4"),
                rng.multivariate_normal([1.0] * 4, cov, 800).T.astype(np.float32),
                strict=True,
            )
        )
    )
    loader.AddBackgroundTree(
        dict(
            zip(
                ("var1", "var2", "var3", "var4"),
                rng.multivariate_normal([0.0] * 4, cov, 800).T.astype(np.float32),
                strict=True,
            )
        )
    )
    loader.PrepareTrainingAndTestTree(
        "", "nTrain_Signal=600:nTrain_Background=600:SplitMode=Random:NormMode=NumEvents:!V"
    )
    factory = _factory("TMVAClassification")
    # TMVAClassification.C, with MaxEpochs=2 added to its training strategy
    layoutString = "Layout=TANH|128,TANH|128,TANH|128,LINEAR"
    trainingStrategyString = ("TrainingStrategy=LearningRate=1e-2,Momentum=0.9,"
                              "ConvergenceSteps=20,BatchSize=100,TestRepetitions=1,"
                              "WeightDecay=1e-4,Regularization=None,"
                              "DropConfig=0.0+0.5+0.5+0.5,MaxEpochs=2")  # fmt: skip
    dnnOptions = "!H:V:ErrorStrategy=CROSSENTROPY:VarTransform=N:WeightInitialization=XAVIERUNIFORM"
    dnnOptions += ":" + layoutString + ":" + trainingStrategyString
    dnnOptions += ":RandomSeed=1"  # not in the tutorial (TMVA's default 0 = a new seed each run): fixed so the test is deterministic
    with caplog.at_level(logging.WARNING, logger="pymva"):
        factory.BookMethod(loader, TMVA.Types.kDL, "DNN_GPU", dnnOptions + ":Architecture=GPU")
        factory.BookMethod(loader, TMVA.Types.kDL, "DNN_CPU", dnnOptions + ":Architecture=CPU")
        factory.TrainAllMethods()
    assert "CUDA is not available to torch" in caplog.text
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    for title in ("DNN_GPU", "DNN_CPU"):
        # the best possible: Phi(d / sqrt 2) with d^2 = mu^T cov^-1 mu = 4 / 2.5, i.e. 0.81
        assert factory.GetROCIntegral(loader, title) > 0.7
        assert Path(f"dataset/weights/TMVAClassification_{title}.weights.xml").is_file()


def _images(rng: np.random.Generator, n: int, signal: bool) -> np.ndarray:
    """16x16 images: noise, and for signal a Gaussian blob near the centre."""
    img = rng.normal(0, 1, (n, 16, 16))
    if signal:
        yy, xx = np.mgrid[0:16, 0:16]
        cx, cy = 7.5 + rng.integers(-2, 3, n), 7.5 + rng.integers(-2, 3, n)
        img += 1.5 * np.exp(-((xx[None] - cx[:, None, None]) ** 2 + (yy[None] - cy[:, None, None]) ** 2) / 8)
    return img.reshape(n, 256).astype(np.float32)


def test_cnn_tutorial_booking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(12)
    loader = TMVA.DataLoader("dataset")
    loader.AddVariablesArray("vars", 16 * 16)
    loader.AddSignalTree({"vars": _images(rng, 600, True)}, 1.0)
    loader.AddBackgroundTree({"vars": _images(rng, 600, False)}, 1.0)
    loader.PrepareTrainingAndTestTree(
        "", "nTrain_Signal=450:nTrain_Background=450:SplitMode=Random:NormMode=NumEvents:!V"
    )
    factory = _factory("TMVA_CNN_Classification")
    trainingString1 = TString(
        "LearningRate=1e-3,Momentum=0.9,Repetitions=1,"
        "ConvergenceSteps=5,BatchSize=100,TestRepetitions=1,"
        "MaxEpochs=3,WeightDecay=1e-4,Regularization=None,"  # the tutorial: MaxEpochs=20
        "Optimizer=ADAM,DropConfig=0.0+0.0+0.0+0.0"
    )
    factory.BookMethod(
        loader,
        TMVA.Types.kDL,
        "TMVA_CNN_CPU",
        H=False,
        V=True,
        ErrorStrategy="CROSSENTROPY",
        VarTransform=None,
        WeightInitialization="XAVIER",
        InputLayout="1|16|16",
        Layout="CONV|10|3|3|1|1|1|1|RELU,BNORM,CONV|10|3|3|1|1|1|1|RELU,MAXPOOL|2|2|1|1,RESHAPE|FLAT,DENSE|100|RELU,DENSE|1|LINEAR",
        TrainingStrategy=trainingString1,
        Architecture="CPU",
        RandomSeed=1,  # not in the tutorial (TMVA's default 0 = a new seed each run): fixed so the test is deterministic
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    assert factory.GetROCIntegral(loader, "TMVA_CNN_CPU") > 0.7


def test_rnn_tutorial_bookings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(13)
    ninput, ntime, batchSize, maxepochs = 30, 10, 100, 2  # the tutorial: maxepochs = 10
    shift = 0.25 * np.sin(np.pi * np.arange(ntime) / ntime)  # the signal's mean drifts in time
    loader = TMVA.DataLoader("dataset")
    for i in range(ntime):
        loader.AddVariablesArray("vars_time" + str(i), ninput)
    sig = {f"vars_time{i}": (rng.normal(shift[i], 1, (900, ninput))).astype(np.float32) for i in range(ntime)}
    bkg = {f"vars_time{i}": rng.normal(0, 1, (900, ninput)).astype(np.float32) for i in range(ntime)}
    loader.AddSignalTree(sig, 1.0)
    loader.AddBackgroundTree(bkg, 1.0)
    loader.PrepareTrainingAndTestTree(
        "", "", nTrain_Signal=800, nTrain_Background=800, SplitMode="Random", SplitSeed=100, NormMode="NumEvents",
        V=False, CalcCorrelations=False,
    )  # fmt: skip
    factory = _factory("TMVAClassification")
    titles = []
    for rnn_type in ["RNN", "LSTM", "GRU"]:
        rnnLayout = (
            str(rnn_type) + "|10|" + str(ninput) + "|" + str(ntime) + "|0|1,RESHAPE|FLAT,DENSE|64|TANH,LINEAR"
        )
        trainingString1 = "LearningRate=1e-3,Momentum=0.0,Repetitions=1,ConvergenceSteps=5,BatchSize=" + str(
            batchSize
        )
        trainingString1 += ",TestRepetitions=1,WeightDecay=1e-2,Regularization=None,MaxEpochs=" + str(
            maxepochs
        )
        trainingString1 += "Optimizer=ADAM,DropConfig=0.0+0.+0.+0."  # sic: no comma before Optimizer
        rnnName = "TMVA_" + str(rnn_type)
        titles.append(rnnName)
        factory.BookMethod(
            loader,
            TMVA.Types.kDL,
            rnnName,
            H=False,
            V=True,
            ErrorStrategy="CROSSENTROPY",
            VarTransform=None,
            WeightInitialization="XAVIERUNIFORM",
            ValidationSize=0.2,
            RandomSeed=1234,
            InputLayout=str(ntime) + "|" + str(ninput),
            Layout=rnnLayout,
            TrainingStrategy=trainingString1,
            Architecture="CPU",
        )
    # the tutorial's dense net; its TString.Append("CPU") adds ":CPU", read as Architecture=CPU
    trainingString1 = ("LearningRate=1e-3,Momentum=0.0,Repetitions=1,"
                       "ConvergenceSteps=10,BatchSize=256,TestRepetitions=1,"
                       "WeightDecay=1e-4,Regularization=None,MaxEpochs=2"
                       "DropConfig=0.0+0.+0.+0.,Optimizer=ADAM:") + "CPU"  # fmt: skip
    factory.BookMethod(
        loader,
        TMVA.Types.kDL,
        "TMVA_DNN",
        H=False,
        V=True,
        ErrorStrategy="CROSSENTROPY",
        VarTransform=None,
        WeightInitialization="XAVIER",
        RandomSeed=1,  # the tutorial: RandomSeed=0 (a new seed each run); fixed so the test is deterministic
        InputLayout="1|1|" + str(ntime * ninput),
        Layout="DENSE|64|TANH,DENSE|TANH|64,DENSE|TANH|64,LINEAR",
        TrainingStrategy=trainingString1,
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    for title in [*titles, "TMVA_DNN"]:
        assert factory.GetROCIntegral(loader, title) > 0.6, title
        assert Path(f"dataset/weights/TMVAClassification_{title}.torchscript.pt").is_file()
