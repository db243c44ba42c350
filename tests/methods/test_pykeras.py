"""``Types.kPyKeras`` (``MethodPyKeras.cxx``) on Keras 3 with the torch backend.

Expectations are independent of pymva: TMVA's declared defaults, the same Keras model trained by
hand with ``model.fit`` on the same arrays, Keras's own callbacks' definitions (EarlyStopping's
patience, ModelCheckpoint keeping the smallest validation loss) and the Reader against the Factory.
"""

from __future__ import annotations

import array
import re
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uproot

import pymva.extras
from pymva import TMVA
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import MissingExtraError, ModelError, OptionError
from pymva.methods.base import MethodContext
from pymva.methods.registry import get_method_class
from pymva.types import EAnalysisType, Types

keras = pymva.extras.keras()
EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture
def main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh ``__main__`` namespace and a temporary working directory."""
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _context(analysis: EAnalysisType = EAnalysisType.kClassification, n_targets: int = 0) -> MethodContext:
    classes = ("Regression",) if analysis == EAnalysisType.kRegression else ("Signal", "Background")
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=analysis,
        variables=tuple(VariableInfo(f"v{i}", f"v{i}", f"v{i}") for i in range(3)),
        class_names=classes,
        targets=tuple(VariableInfo(f"t{i}", f"t{i}", f"t{i}", kind="target") for i in range(n_targets)),
        weight_dir=Path("dataset/weights"),
    )


def _sample(n: int = 100, n_targets: int = 0, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    cid = (np.arange(n) % 2).astype(np.int32)
    X = (rng.normal(size=(n, 3)) + cid[:, None]).astype(np.float32)
    targets = (X[:, :1] * 2 + X[:, 1:2]).astype(np.float32) if n_targets else np.zeros((n, 0), np.float32)
    return Sample(
        X=X,
        targets=targets,
        spectators=np.zeros((n, 0), np.float32),
        weights=rng.uniform(0.5, 1.5, n).astype(np.float32),
        class_id=cid,
    )


def _save_model(path: str, n_out: int = 2, lr: float = 0.1, seed: int = 3, regression: bool = False) -> None:
    keras.utils.set_random_seed(seed)
    activation = None if regression else "softmax"
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(n_out, activation=activation),
        ]
    )
    loss = "mean_squared_error" if regression else "categorical_crossentropy"
    model.compile(loss=loss, optimizer=keras.optimizers.SGD(learning_rate=lr))
    model.save(path)


def _method(options: str, analysis: EAnalysisType = EAnalysisType.kClassification, n_targets: int = 0) -> Any:
    cls = get_method_class(Types.kPyKeras)
    return cls("PyKeras", _context(analysis, n_targets), options)


# ------------------------------------------------------------------ options


def test_registered_and_tmva_defaults(main: Path) -> None:
    method = _method("")
    assert type(method).__name__ == "MethodPyKeras"
    o = method.options
    # MethodPyKeras's constructor and DeclareOptions
    assert (o.FilenameModel, o.FilenameTrainedModel) == ("", "")
    assert (o.BatchSize, o.NumEpochs, o.Verbose, o.NumThreads) == (100, 10, 1, 0)
    assert (o.ContinueTraining, o.SaveBestOnly, o.TriesEarlyStopping) == (False, True, -1)
    assert (o.LearningRateSchedule, o.TensorBoard, o.GpuOptions, o.UserCode) == ("", "", "", "")
    assert o.ValidationSize == "20%"


def test_tutorial_option_string(main: Path) -> None:
    # ClassificationKeras.py's booking
    method = _method(
        "H:!V:VarTransform=D,G:FilenameModel=modelClassification.keras:FilenameTrainedModel="
        "trainedModelClassification.keras:NumEpochs=20:BatchSize=32:LearningRateSchedule=10,0.01;20,0.005"
    )
    o = method.options
    assert (o.NumEpochs, o.BatchSize, o.H, o.V) == (20, 32, True, False)
    assert o.FilenameTrainedModel == "trainedModelClassification.keras"
    assert o.LearningRateSchedule == "10,0.01;20,0.005"


@pytest.mark.parametrize(
    "bad", ["BatchSize=0", "NumEpochs=-1", "LearningRateSchedule=10", "ValidationSize=abc", "NoSuchOption=1"]
)
def test_bad_options(main: Path, bad: str) -> None:
    with pytest.raises(OptionError):
        _method(f"FilenameModel=m.keras:{bad}")


def test_missing_keras_names_the_extra(monkeypatch: pytest.MonkeyPatch, main: Path) -> None:
    monkeypatch.setitem(sys.modules, "keras", None)  # import keras → ModuleNotFoundError
    with pytest.raises(MissingExtraError, match=r"pip install pymva\[keras\]") as info:
        _method("FilenameModel=m.keras")
    assert isinstance(info.value, ModelError)  # the contract; MissingExtraError the brief's


def test_backend_is_torch_by_default() -> None:
    assert keras.backend.backend() == "torch"


def test_missing_model_file_and_wrong_width(main: Path) -> None:
    with pytest.raises(ModelError, match=r"Failed to load Keras model from file: nothere\.keras"):
        _method("FilenameModel=nothere.keras").setup()
    _save_model("three.keras", n_out=3)
    with pytest.raises(ModelError, match=r"gives 3 outputs.*needs 2"):
        _method("FilenameModel=three.keras").setup()


def test_lambda_layer_is_refused(main: Path) -> None:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(2)])
    model.compile(loss="mse", optimizer="sgd")
    model.save("lambda.keras")
    with pytest.raises(ModelError, match="safe_mode=True"):
        _method("FilenameModel=lambda.keras").setup()


# ------------------------------------------------------------------ training


def test_validation_size_messages_name_pykeras(main: Path) -> None:
    """At booking the message names the booked method, not PyTorch (whose helper parses the option);
    at training the event count is known and the message names PyKeras and its title."""
    with pytest.raises(OptionError, match="ValidationSize") as booked:
        _method("FilenameModel=m.keras:ValidationSize=abc")
    assert "PyTorch" not in str(booked.value)
    _save_model("init.keras")
    method = _method("!H:!V:FilenameModel=init.keras:NumEpochs=1:ValidationSize=100:Verbose=0")
    method.setup()
    with pytest.raises(
        OptionError,
        match=re.escape("larger than or equal in size to training set (size=\"100\"). "
                        "(option ValidationSize of method PyKeras ('PyKeras')"),
    ):  # fmt: skip
        method._train(_sample(100))


def test_training_equals_model_fit_by_hand(main: Path) -> None:
    """Full batches make the shuffling irrelevant: the method's fit and the hand fit agree."""
    _save_model("init.keras")
    s = _sample(100)
    n_train = 80  # ValidationSize=20%
    method = _method(
        f"!H:!V:FilenameModel=init.keras:NumEpochs=4:BatchSize={n_train}:!SaveBestOnly:Verbose=0"
    )
    method.setup()
    method._train(s)

    hand = keras.saving.load_model("init.keras")
    Y = np.eye(2, dtype=np.float32)[s.class_id]
    hand.fit(
        s.X[:n_train], Y[:n_train], sample_weight=s.weights[:n_train], batch_size=n_train, epochs=4,
        verbose=0, shuffle=False,
    )  # fmt: skip
    expected = hand.predict(s.X, verbose=0)
    got = method._predict(s.X)
    assert got.shape == (100, 2)
    assert got.dtype == np.float32
    # 4 SGD steps whose gradients are float32 sums over 80 events in another order: each step
    # differs by at most ~n_train*eps relative; the outputs (of order 1) likewise
    np.testing.assert_allclose(got, expected, rtol=0, atol=4 * 4 * n_train * EPS32)
    assert not np.allclose(expected, keras.saving.load_model("init.keras").predict(s.X, verbose=0))
    assert Path("dataset/weights/job_PyKeras.TrainedModel.keras").is_file()
    hist = method.training_history
    assert sorted(hist) == ["'loss'", "'val_loss'"]  # TMVA names them with Python's quotes
    assert [e for e, _ in hist["'loss'"]] == [1, 2, 3, 4]


def test_save_best_only_keeps_the_smallest_validation_loss(main: Path) -> None:
    _save_model("init.keras", lr=2.0)  # a large rate: the validation loss jumps around
    s = _sample(100, seed=4)
    method = _method("!H:!V:FilenameModel=init.keras:NumEpochs=5:BatchSize=16:Verbose=0")
    method.setup()
    method._train(s)
    val = [v for _, v in method.training_history["'val_loss'"]]
    assert int(np.argmin(val)) < len(val) - 1  # the best epoch is not the last: the test can tell
    saved = keras.saving.load_model(method.trained_model_path)
    Y = np.eye(2, dtype=np.float32)[s.class_id]
    loss = saved.evaluate(s.X[80:], Y[80:], sample_weight=s.weights[80:], verbose=0, batch_size=20)
    loss = loss[0] if isinstance(loss, list) else loss
    np.testing.assert_allclose(loss, min(val), rtol=1e-5)
    assert not Path("dataset/weights/.job_PyKeras.TrainedModel.pymva-partial.keras").exists()


def test_early_stopping_patience(main: Path) -> None:
    _save_model("init.keras", lr=0.0)  # nothing changes: no epoch after the first improves
    method = _method(
        "!H:!V:FilenameModel=init.keras:NumEpochs=10:BatchSize=20:TriesEarlyStopping=2:Verbose=0"
    )
    method.setup()
    method._train(_sample(100))
    # Keras's EarlyStopping: stop once `patience` epochs in a row did not improve on the best
    assert len(method.training_history["'val_loss'"]) == 1 + 2


def test_learning_rate_schedule(main: Path) -> None:
    _save_model("init.keras", lr=0.1)
    method = _method(
        "!H:!V:FilenameModel=init.keras:NumEpochs=3:BatchSize=20:LearningRateSchedule=1,0.25:!SaveBestOnly:Verbose=0"
    )
    method.setup()
    method._train(_sample(100))
    trained = keras.saving.load_model(method.trained_model_path)
    assert float(trained.optimizer.learning_rate) == pytest.approx(0.25)


def test_regression_outputs(main: Path) -> None:
    _save_model("reg.keras", n_out=1, lr=0.01, regression=True)
    method = _method(
        "!H:!V:FilenameModel=reg.keras:NumEpochs=2:BatchSize=20:Verbose=0",
        EAnalysisType.kRegression,
        n_targets=1,
    )
    method.setup()
    s = _sample(100, n_targets=1)
    method._train(s)
    trained = keras.saving.load_model(method.trained_model_path)
    np.testing.assert_array_equal(method._predict(s.X), trained.predict(s.X, verbose=0, batch_size=1024))


# ------------------------------------------------------------------ Factory and Reader


def test_factory_and_reader_round_trip(main: Path) -> None:
    _save_model("init.keras")
    rng = np.random.default_rng(5)
    names = ["a", "b", "c"]
    loader = TMVA.DataLoader("dataset")
    for n in names:
        loader.AddVariable(n)
    loader.AddSignalTree({n: rng.normal(1, 1, 200).astype(np.float32) for n in names})
    loader.AddBackgroundTree({n: rng.normal(-1, 1, 200).astype(np.float32) for n in names})
    loader.PrepareTrainingAndTestTree("", "nTrain_Signal=100:nTrain_Background=100:SplitMode=Random:!V")
    factory = TMVA.Factory("job", "TMVA.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(
        loader,
        TMVA.Types.kPyKeras,
        "PyKeras",
        "!H:!V:VarTransform=N:FilenameModel=init.keras:NumEpochs=3:Verbose=0",
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    assert factory.GetROCIntegral(loader, "PyKeras") > 0.8
    with uproot.open("TMVA.root") as f:
        test = f["dataset/TestTree"].arrays([*names, "PyKeras"], library="np")

    reader = TMVA.Reader("!Color:Silent")
    values = {n: array.array("f", [0.0]) for n in names}
    for n in names:
        reader.AddVariable(n, values[n])
    reader.BookMVA("PyKeras", "dataset/weights/job_PyKeras.weights.xml")
    got = []
    for i in range(10):
        for n in names:
            values[n][0] = test[n][i]
        got.append(reader.EvaluateMVA("PyKeras"))
    np.testing.assert_allclose(got, test["PyKeras"][:10], rtol=0, atol=4 * EPS32)

    # a weights file as TMVA's MethodPyKeras writes it: an empty <Weights/>, the trained model named
    # only by the option FilenameTrainedModel (TMVA's default dataset/weights/TrainedModel_<title>.h5)
    xml = Path("dataset/weights/job_PyKeras.weights.xml").read_text(encoding="utf-8")
    Path("dataset/weights/job_PyKeras.TrainedModel.keras").rename(
        "dataset/weights/TrainedModel_PyKeras.keras"
    )
    xml = re.sub(r"<Weights [^>]*/>", "<Weights/>", xml)
    xml = re.sub(
        r'(<Option name="FilenameTrainedModel"[^>]*>)[^<]*<',
        r"\1dataset/weights/TrainedModel_PyKeras.keras<",
        xml,
    )
    Path("dataset/weights/tmva_style.weights.xml").write_text(xml, encoding="utf-8")
    reader2 = TMVA.Reader("!Color:Silent")
    for n in names:
        reader2.AddVariable(n, values[n])
    reader2.BookMVA("PyKeras", "dataset/weights/tmva_style.weights.xml")
    np.testing.assert_allclose(reader2.EvaluateMVA("PyKeras"), got[-1], rtol=0, atol=4 * EPS32)


def test_continue_training_starts_from_the_trained_model(main: Path) -> None:
    _save_model("init.keras")
    s = _sample(100)
    first = _method("!H:!V:FilenameModel=init.keras:NumEpochs=2:BatchSize=20:!SaveBestOnly:Verbose=0")
    first.setup()
    first._train(s)
    trained = keras.saving.load_model(first.trained_model_path).predict(s.X, verbose=0)
    again = _method("!H:!V:FilenameModel=init.keras:ContinueTraining:NumEpochs=1:BatchSize=20:Verbose=0")
    again.setup()
    # before training, the loaded model is the first training's result, not init.keras
    np.testing.assert_array_equal(again.model_.predict(s.X, verbose=0), trained)


def test_user_code_from_the_caller_only(main: Path) -> None:
    """The caller's UserCode runs; the one a weights file records never does (docs/security.md)."""
    Path("uc.py").write_text(
        "from pathlib import Path\nPath('ran').write_text('x')\nload_model_custom_objects = {}\n",
        encoding="utf-8",
    )
    _save_model("init.keras")
    rng = np.random.default_rng(6)
    loader = TMVA.DataLoader("dataset")
    for n in ("v0", "v1", "v2"):
        loader.AddVariable(n)
    loader.AddSignalTree({n: rng.normal(1, 1, 60).astype(np.float32) for n in ("v0", "v1", "v2")})
    loader.AddBackgroundTree({n: rng.normal(-1, 1, 60).astype(np.float32) for n in ("v0", "v1", "v2")})
    loader.PrepareTrainingAndTestTree("", "SplitMode=Random:!V")
    factory = TMVA.Factory("job", "TMVA.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(
        loader,
        TMVA.Types.kPyKeras,
        "PyKeras",
        "!H:!V:FilenameModel=init.keras:UserCode=uc.py:NumEpochs=1:Verbose=0",
    )
    assert Path("ran").is_file()
    factory.TrainAllMethods()
    assert "uc.py" in Path("dataset/weights/job_PyKeras.weights.xml").read_text(encoding="utf-8")
    Path("ran").unlink()
    reader = TMVA.Reader("!Color:Silent")
    values = {n: array.array("f", [0.0]) for n in ("v0", "v1", "v2")}
    for n in ("v0", "v1", "v2"):
        reader.AddVariable(n, values[n])
    reader.BookMVA("PyKeras", "dataset/weights/job_PyKeras.weights.xml")
    reader.EvaluateMVA("PyKeras")
    assert not Path("ran").exists()


def test_h5_files(main: Path) -> None:
    """Keras 3's legacy HDF5 format, as TMVA's default name ``TrainedModel_<title>.h5`` implies."""
    _save_model("init.h5")
    s = _sample(100)
    method = _method(
        "!H:!V:FilenameModel=init.h5:FilenameTrainedModel=trained.h5:NumEpochs=1:BatchSize=20:Verbose=0"
    )
    method.setup()
    method._train(s)
    assert Path("dataset/weights/job_PyKeras.TrainedModel.h5").is_file()  # the Reader's copy
    expected = keras.saving.load_model("trained.h5").predict(s.X, verbose=0, batch_size=1024)
    np.testing.assert_array_equal(method._predict(s.X), expected)
