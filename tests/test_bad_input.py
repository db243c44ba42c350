"""Bad input gets a PyMVAError that names the culprit and what would be accepted (Reader, weights
files, model files, PyTorch and scikit-learn methods), and resource limits hold.

The last section has property tests (hypothesis): mutated, truncated and garbage weights files and
random arguments to the Reader raise nothing but PyMVAError.
"""

from __future__ import annotations

import array
import contextlib
import logging
import os
import re
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn

import pymva.pytorch as ppt
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import DataError, ModelError, OptionError, PyMVAError
from pymva.io.weights import MAX_WEIGHTS_FILE_BYTES, parse_weights_xml, write_weights_file
from pymva.methods.base import MethodContext
from pymva.methods.fisher import MethodFisher
from pymva.methods.modelfiles import model_record, save_skops
from pymva.methods.pyrandomforest import MethodPyRandomForest
from pymva.methods.pytorch import MethodPyTorch
from pymva.methods.torchscript import save_scripted
from pymva.reader import Reader, RReader
from pymva.types import EAnalysisType, Types

VARS = ("var1", "var2", "var3", "var4")
#: 60 examples per property keep the file at seconds; PYMVA_HYPOTHESIS_EXAMPLES=2000 searches harder.
#: Derandomized (no example database either): the same examples on every run and machine, so a
#: failure in CI reproduces locally.
LIMITS = settings(
    max_examples=int(os.environ.get("PYMVA_HYPOTHESIS_EXAMPLES", "60")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# ---------------------------------------------------------------------------------------------- helpers
@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    return tmp_path


def _context(
    weight_dir: Path, analysis: EAnalysisType = EAnalysisType.kClassification, n_vars: int = 4
) -> MethodContext:
    regression = analysis == EAnalysisType.kRegression
    return MethodContext(
        job_name="Job",
        dataset_name="dataset",
        analysis_type=analysis,
        variables=tuple(VariableInfo(v, v, v) for v in VARS[:n_vars]),
        class_names=("Regression",) if regression else ("Signal", "Background"),
        targets=(VariableInfo("t", "t", "t", kind="target"),) if regression else (),
        weight_dir=weight_dir,
    )


def _sample(n: int = 200, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    cid = (np.arange(n) % 2).astype(np.int32)
    X = (rng.normal(size=(n, len(VARS))) + 0.7 * (cid == 0)[:, None]).astype(np.float32)
    return Sample(
        X=X,
        targets=X[:, :1] * 2,
        spectators=np.zeros((n, 0), np.float32),
        weights=np.ones(n, np.float32),
        class_id=cid,
    )


def _fisher_file(weight_dir: Path, options: str = "") -> tuple[Path, MethodFisher]:
    m = MethodFisher("Fisher", _context(weight_dir), "!H:!V" + options)
    m.train(_sample())
    return write_weights_file(m), m


def _reader(options: str = "Silent") -> Reader:
    r = Reader(options)
    for v in VARS:
        r.AddVariable(v)
    return r


def _objects(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "optimizer": torch.optim.SGD,
        "criterion": nn.MSELoss(),
        "train_func": ppt.train,
        "predict_func": ppt.predict,
    }
    d.update(over)
    return d


def _save_net(path: str, n_in: int, n_out: int = 2) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(n_in, 5), nn.ReLU(), nn.Linear(5, n_out), nn.Softmax(dim=1))
    torch.jit.save(torch.jit.script(model), path)
    return model


def _pytorch_file(weight_dir: Path, n_in: int = 4) -> Path:
    ctx = _context(weight_dir)
    m = MethodPyTorch("PyTorch", ctx, "!H:!V:FilenameModel=initial.pt")
    torch.manual_seed(0)
    save_scripted(
        nn.Sequential(nn.Linear(n_in, 2), nn.Softmax(dim=1)),
        m.beside_weights_path(),
        model_record(ctx, "PyTorch", "PyTorch"),
    )
    m._trained = True
    return write_weights_file(m)


def _replace_weights(path: Path, weights_xml: str) -> None:
    text = path.read_text()
    text = re.sub(r"<Weights.*</Weights>", weights_xml, text, flags=re.DOTALL)
    path.write_text(text)


# ---------------------------------------------------------------------------------------------- weights XML
def test_coefficient_value_abc(workdir: Path) -> None:
    path, _ = _fisher_file(workdir / "w")
    text = path.read_text()
    path.write_text(re.sub(r'(Coefficient Index="2" Value=")[^"]*"', r'\1abc"', text))
    with pytest.raises(
        ModelError, match=r'Fisher::Fisher: <Coefficient Index="2" Value="abc"> is not a number'
    ):
        _reader().BookMVA("F", path)


def test_nclass_zero(workdir: Path) -> None:
    path, _ = _fisher_file(workdir / "w")
    path.write_text(
        re.sub(
            r"<Classes NClass=\"2\">.*?</Classes>", '<Classes NClass="0"/>', path.read_text(), flags=re.DOTALL
        )
    )
    with pytest.raises(ModelError, match=r'<Classes NClass="0">: a weights file has 1 to 10000 classes'):
        _reader().BookMVA("F", path)
    for bad, why in [("abc", "not an integer"), ("-3", "1 to 10000"), ("99999999999", "1 to 10000")]:
        with pytest.raises(ModelError, match=why):
            parse_weights_xml(f'<MethodSetup Method="Fisher::F"><Classes NClass="{bad}"/></MethodSetup>')
    with pytest.raises(ModelError, match=r'NClass="3"> holds 2 <Class> elements'):
        parse_weights_xml(
            '<MethodSetup Method="Fisher::F"><Classes NClass="3"><Class Name="S" Index="0"/>'
            '<Class Name="B" Index="1"/></Classes></MethodSetup>'
        )


def test_an_analysis_type_the_method_cannot_do_is_refused_at_booking(workdir: Path) -> None:
    path, _ = _fisher_file(workdir / "w")
    good = path.read_text()
    path.write_text(good.replace('value="Classification"', 'value="Regression"'))
    with pytest.raises(ModelError, match=r"AnalysisType is Regression but there is no <Targets>"):
        _reader().BookMVA("F", path)
    path.write_text(good.replace('value="Classification"', 'value="Multiclass"'))
    with pytest.raises(ModelError, match=r"method Fisher cannot do Multiclass with 2 classes"):
        _reader().BookMVA("F", path)


def test_missing_and_nan_coefficients_are_refused_at_booking(workdir: Path) -> None:
    path, _ = _fisher_file(workdir / "w")
    good = path.read_text()
    _replace_weights(path, '<Weights NCoeff="5"/>')
    with pytest.raises(ModelError, match=r"no coefficient for the indices \[0, 1, 2, 3, 4\]"):
        _reader().BookMVA("F", path)
    path.write_text(re.sub(r'(Coefficient Index="3" Value=")[^"]*"', r'\1nan"', good))
    with pytest.raises(ModelError, match=r'Value="nan"> is not a finite number'):
        _reader().BookMVA("F", path)
    path.write_text(re.sub(r'(Coefficient Index=")4(")', r"\g<1>1\2", good))
    with pytest.raises(ModelError, match=r"index 1 appears twice"):
        _reader().BookMVA("F", path)
    path.write_text(good.replace("<Weights", "<Nothing").replace("</Weights>", "</Nothing>"))
    with pytest.raises(ModelError, match=r"no <Weights> element"):
        _reader().BookMVA("F", path)


# ---------------------------------------------------------------------------------------------- Reader arguments
def test_reader_argument_types(workdir: Path) -> None:
    with pytest.raises(OptionError, match=r"Reader\(5\): the first argument must be a string or a list"):
        Reader(5)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="variable names must be strings"):
        Reader(["var1", 2])  # type: ignore[list-item]
    with pytest.raises(OptionError, match="first argument"):
        Reader(b"Silent")  # type: ignore[arg-type]
    path, _ = _fisher_file(workdir / "w")
    r = _reader()
    with pytest.raises(OptionError, match=r"BookMVA\(999, …\): 999 is no TMVA method type.*kFisher"):
        r.BookMVA(999, path.read_text())  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"weightfile must be the path of a \.weights\.xml file.*NoneType"):
        r.BookMVA("F", None)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"is bytes; give the file name as a str"):
        r.BookMVA("F", os.fsencode(path))  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"the method tag must be a non-empty string"):
        r.BookMVA(None, path)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="NUL"):
        r.BookMVA("F", str(path) + "\x00")
    with pytest.raises(OptionError, match="XML text"):
        r.BookMVA(Types.kFisher, 5)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="is bytes"):
        RReader(os.fsencode(path))  # type: ignore[arg-type]
    assert r.methods == {}


def test_evaluate_tag_then_values_uses_the_values(workdir: Path) -> None:
    path, m = _fisher_file(workdir / "w")
    refs = [np.zeros(1, np.float32) for _ in VARS]
    r = Reader("Silent")
    for v, ref in zip(VARS, refs, strict=True):
        r.AddVariable(v, ref)
    r.BookMVA("F", path)
    X = _sample(30, seed=4).X
    expected = m.mva_value(X)
    np.testing.assert_array_equal(r.EvaluateMVA("F", X), expected)  # not the (zero) bound buffers
    np.testing.assert_array_equal(r.EvaluateMVA(X, "F"), expected)
    assert r.EvaluateMVA("F", list(map(float, X[2]))) == pytest.approx(float(expected[2]))
    assert r.EvaluateMVA("F", array.array("f", X[5])) == pytest.approx(float(expected[5]))
    buffered = r.EvaluateMVA("F", 0.5)  # a number is TMVA's aux: the bound buffers are used
    assert buffered == pytest.approx(float(m.mva_value(np.zeros((1, 4), np.float32))[0]))
    with pytest.raises(DataError, match=r"\(str\) cannot be converted to float32"):
        r.EvaluateMVA("F", "1,2,3,4")
    with pytest.raises(OptionError, match="takes"):
        r.EvaluateMVA("F", X, 0.5)


def test_inf_inputs_behave_as_nan(workdir: Path, caplog: pytest.LogCaptureFixture) -> None:
    path, m = _fisher_file(workdir / "w")
    r = _reader("!Silent")
    r.BookMVA("F", path)
    X = _sample(10, seed=5).X
    X[3, 1] = np.inf
    X[6, 0] = -np.inf
    X[8, 2] = np.nan
    with caplog.at_level(logging.ERROR):
        out = r.EvaluateMVA(X, "F")
        one = r.EvaluateMVA([1.0, float("inf"), 0.0, 0.0], "F")
        big = r.EvaluateMVA(np.array([1e300, 0, 0, 0]), "F")  # beyond float32: inf
    np.testing.assert_array_equal(out[[3, 6, 8]], -999.0)
    good = np.array([i not in (3, 6, 8) for i in range(10)])
    np.testing.assert_array_equal(out[good], m.mva_value(X[good]))
    assert one == -999.0
    assert big == -999.0
    text = caplog.text
    assert "3 of 10 events have a NaN or infinite input variable" in text
    assert "1-th variable of the event is infinite --> return MVA value -999" in text
    assert "0-th variable of the event is infinite" in text


def test_rreader_compute_with_wrong_input(workdir: Path) -> None:
    path, m = _fisher_file(workdir / "w")
    rr = RReader(path)
    x = _sample(3, seed=6).X
    assert rr.Compute(list(map(float, x[0])))[0] == pytest.approx(float(m.mva_value(x[:1])[0]))
    for bad, why in [
        (None, r"\(NoneType\) cannot be converted"),
        ("abc", r"\(str\) cannot be converted"),
        ({"var1": 1.0}, r"\(dict\) cannot be converted"),
        ([[1.0, 2.0], [3.0]], "cannot be converted to float32"),
        ([object()] * 4, r"dtype object\) cannot be converted"),
        ([1j, 2, 3, 4], r"dtype complex128\) cannot be converted"),
        ([1.0, 2.0], r"Size of input vector is not equal to number of variables \(2 != 4"),
        (np.zeros((2, 3)), r"Second dimension of input tensor .* \(3 != 4"),
        (np.zeros((2, 2, 4)), "rank 2"),
    ]:
        with pytest.raises(DataError, match=why):
            rr.Compute(bad)


# ---------------------------------------------------------------------------------------------- PyTorch
def test_model_input_size_is_checked_at_booking(workdir: Path) -> None:
    _save_net("model.pt", n_in=7)
    sys.modules["__main__"].__dict__["load_model_custom_objects"] = _objects()
    m = MethodPyTorch("PyTorch", _context(Path("dataset/weights")), "!H:!V:FilenameModel=model.pt")
    with pytest.raises(ModelError, match=r"model\.pt': model expects 7 inputs, 4 variables declared"):
        m.setup()
    # and in the Reader, for the trained model beside the weights file
    path = _pytorch_file(workdir / "w", n_in=7)
    with pytest.raises(ModelError, match=r"model expects 7 inputs, 4 variables declared"):
        _reader().BookMVA("PyTorch", path)


def test_errors_inside_predict_func_are_wrapped(workdir: Path) -> None:
    path = _pytorch_file(workdir / "w")

    def predict(model: Any, X: Any) -> Any:
        raise KeyError("boom")

    sys.modules["__main__"].__dict__["load_model_custom_objects"] = _objects(predict_func=predict)
    r = _reader()
    r.BookMVA("PyTorch", path)
    with pytest.raises(ModelError, match=r"predict_func .*predict raised KeyError: 'boom'") as err:
        r.EvaluateMVA(_sample(3).X, "PyTorch")
    assert isinstance(err.value.__cause__, KeyError)


@pytest.mark.parametrize(
    ("returned", "why"),
    [
        (lambda model: "a string", r"returned a str, not a torch\.nn\.Module"),
        (lambda model: nn.Linear(9, 2), r"model expects 9 inputs, 4 variables declared"),
    ],
)
def test_train_func_returning_another_model_without_save_best_only(
    workdir: Path, returned: Any, why: str
) -> None:
    _save_net("model.pt", n_in=4)

    def fit(model: Any, *args: Any, **kwargs: Any) -> Any:
        return returned(model)

    sys.modules["__main__"].__dict__["load_model_custom_objects"] = _objects(train_func=fit)
    m = MethodPyTorch(
        "PyTorch", _context(Path("dataset/weights")), "!H:!V:FilenameModel=model.pt:!SaveBestOnly"
    )
    m.setup()
    with pytest.raises(ModelError, match=why):
        m.train(_sample(50))
    assert not Path("dataset/weights/Job_PyTorch.TrainedModel.pt").exists()


def test_validation_size_zero_names_the_option() -> None:
    for bad in ("0", "0%", "-0.2", "1e400", "abc"):
        with pytest.raises(OptionError, match="ValidationSize") as err:
            MethodPyTorch("PyTorch", _context(Path("w")), f"!H:!V:ValidationSize={bad}")
        assert bad in str(err.value)


def test_num_threads_above_the_cpu_count_is_clamped(workdir: Path, caplog: pytest.LogCaptureFixture) -> None:
    _save_net("model.pt", n_in=4)
    sys.modules["__main__"].__dict__["load_model_custom_objects"] = _objects()
    m = MethodPyTorch(
        "PyTorch", _context(Path("dataset/weights")), "!H:!V:FilenameModel=model.pt:NumThreads=100000"
    )
    with caplog.at_level(logging.WARNING):
        m.setup()  # a segfault in torch before
    cpus = os.cpu_count() or 1
    assert torch.get_num_threads() == cpus  # the conftest fixture restores one thread afterwards
    assert (
        f"NumThreads=100000 is more than the {cpus} CPUs of this machine: using {cpus} threads" in caplog.text
    )


# ---------------------------------------------------------------------------------------------- scikit-learn
def test_unwritable_and_directory_model_paths(workdir: Path) -> None:
    Path("adir").mkdir()
    Path("afile").write_text("x")
    for name, why in [("adir", "is a directory"), ("afile/model.skops", "'afile' cannot be written")]:
        m = MethodPyRandomForest(
            "RF", _context(Path("dataset/weights")), f"NEstimators=2:FilenameClassifier={name}"
        )
        with pytest.raises(OptionError, match=rf"FilenameClassifier={re.escape(name)} .*{why}"):
            m.setup()
    # at writing time (a weight directory that became a file): a ModelError naming the file
    with pytest.raises(ModelError, match=r"cannot write the model file 'afile/m\.skops'"):
        save_skops({"a": 1}, {}, Path("afile/m.skops"))
    with pytest.raises(ModelError, match=r"cannot write the model file 'adir': it is a directory"):
        save_skops({"a": 1}, {}, Path("adir"))
    m = MethodPyRandomForest("RF", _context(Path("afile") / "weights"), "NEstimators=2")
    m.setup()
    with pytest.raises(
        ModelError, match=r"cannot write the model file 'afile/weights/Job_RF\.PyRFModel\.skops'"
    ):
        m.train(_sample(40))


# ---------------------------------------------------------------------------------------------- resource limits
def test_book_mva_refuses_fifos_devices_and_huge_files(workdir: Path) -> None:
    os.mkfifo("pipe.weights.xml")
    with pytest.raises(ModelError, match=r"pipe\.weights\.xml' is not a regular file \(a FIFO"):
        _reader().BookMVA("F", "pipe.weights.xml")  # would block forever
    if os.path.exists("/dev/zero"):
        with pytest.raises(ModelError, match=r"'/dev/zero' is not a regular file"):
            _reader().BookMVA("F", "/dev/zero")  # would never end
    Path("adir.weights.xml").mkdir()
    with pytest.raises(ModelError, match="is a directory"):
        _reader().BookMVA("F", "adir.weights.xml")
    with open("huge.weights.xml", "wb") as fh:  # sparse: nothing is written to disk
        fh.truncate(MAX_WEIGHTS_FILE_BYTES + 1)
    with pytest.raises(ModelError, match=r"has 268435457 bytes, more than the 268435456 bytes \(256 MiB\)"):
        _reader().BookMVA("F", "huge.weights.xml")


# ---------------------------------------------------------------------------------------------- properties
@pytest.fixture(scope="module")
def fisher_xml(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Fisher weights file with a Normalize and a Decorrelate transformation to mutate."""
    path, _ = _fisher_file(tmp_path_factory.mktemp("fisher"), ":VarTransform=N,D")
    return path.read_text()


@pytest.fixture(scope="module")
def fisher_path(tmp_path_factory: pytest.TempPathFactory, fisher_xml: str) -> Path:
    path = tmp_path_factory.mktemp("fisher-file") / "Job_Fisher.weights.xml"
    path.write_text(fisher_xml)
    return path


@pytest.fixture(scope="module")
def pytorch_xml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PyTorch weights file and its model beside it."""
    return _pytorch_file(tmp_path_factory.mktemp("pytorch"))


def _book_text(xml: str | bytes) -> None:
    r = _reader()
    method = r.BookMVA(Types.kFisher, xml)
    r.EvaluateMVA(np.zeros((2, 4), np.float32), method)  # type: ignore[arg-type]


@LIMITS
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_truncated_weights_files(fisher_xml: str, cut: int) -> None:
    whole = fisher_xml.rstrip()
    text = whole[: cut % len(whole)]  # at least the closing '>' is missing
    with pytest.raises(PyMVAError):
        _book_text(text)


@LIMITS
@given(data=st.binary(max_size=400))
def test_garbage_weights_files(data: bytes) -> None:
    with pytest.raises(PyMVAError):
        parse_weights_xml(data)


@LIMITS
@given(pos=st.integers(min_value=0), byte=st.integers(min_value=0, max_value=255), n=st.integers(1, 4))
def test_byte_mutations(fisher_xml: str, pos: int, byte: int, n: int) -> None:
    raw = bytearray(fisher_xml.encode())
    for k in range(n):
        raw[(pos + 97 * k) % len(raw)] = byte
    with contextlib.suppress(PyMVAError):
        _book_text(bytes(raw))


_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", "nan", "inf", "-1", "0", "1e999", "abc", "../x", "/etc/passwd", "PyTorch", "None", "Yes"]
    ),
    st.integers().map(str),
    st.floats().map(str),
)


def _mutate(xml: str, choice: st.DataObject) -> str:
    root = ET.fromstring(xml)
    elements = list(root.iter())
    for _ in range(choice.draw(st.integers(1, 3))):
        elem = elements[choice.draw(st.integers(0, len(elements) - 1))]
        keys = sorted(elem.attrib)
        if keys and choice.draw(st.booleans()):
            elem.set(choice.draw(st.sampled_from(keys)), choice.draw(_TEXT))
        elif choice.draw(st.booleans()):
            elem.text = choice.draw(_TEXT)
        elif len(elem):
            elem.remove(elem[choice.draw(st.integers(0, len(elem) - 1))])
    return ET.tostring(root, encoding="unicode")


@LIMITS
@given(choice=st.data())
def test_attribute_and_text_mutations(fisher_xml: str, choice: st.DataObject) -> None:
    with contextlib.suppress(PyMVAError):
        _book_text(_mutate(fisher_xml, choice))


@LIMITS
@given(choice=st.data())
def test_pytorch_weights_file_mutations(pytorch_xml: Path, choice: st.DataObject) -> None:
    mutated = pytorch_xml.with_name("Job_Mutated.weights.xml")
    mutated.write_text(_mutate(pytorch_xml.read_text(), choice))
    try:
        r = _reader()
        r.BookMVA("P", mutated)
        r.EvaluateMVA(np.zeros((2, 4), np.float32), "P")
    except PyMVAError:
        pass


@LIMITS
@given(
    options=_TEXT,
    kwargs=st.dictionaries(
        st.sampled_from(["UserCode", "AllowPickle", "Silent", "Nope", "V"]), _TEXT, max_size=2
    ),
)
def test_reader_options_and_booking_keywords(
    workdir: Path, fisher_xml: str, options: str, kwargs: dict[str, Any]
) -> None:
    try:
        r = Reader(options, **kwargs)
        for v in VARS:
            r.AddVariable(v)
        r.BookMVA(Types.kFisher, fisher_xml, **kwargs)
    except PyMVAError:
        pass


@LIMITS
@given(
    values=st.one_of(
        hnp.arrays(
            hnp.floating_dtypes() | hnp.integer_dtypes(), hnp.array_shapes(min_dims=0, max_dims=3, max_side=5)
        ),
        st.lists(st.one_of(st.floats(), st.integers(), st.text(max_size=2), st.none()), max_size=5),
        st.text(max_size=5),
        st.none(),
    ),
    tag_first=st.booleans(),
    kind=st.sampled_from(["EvaluateMVA", "EvaluateMulticlass", "EvaluateRegression"]),
)
def test_evaluate_with_random_values(fisher_path: Path, values: Any, tag_first: bool, kind: str) -> None:
    r = _reader()
    r.BookMVA("F", fisher_path)
    call = getattr(r, kind)
    try:
        out = call("F", values) if tag_first else call(values, "F")
    except PyMVAError:
        return
    assert isinstance(out, (float, list)) or np.asarray(out).dtype == np.float32
