"""The Reader and Experimental.RReader (core.md §8), on weights files of the test-only ToyMethod."""

from __future__ import annotations

import array
import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pymva.errors import DataError, ModelError, OptionError
from pymva.reader import Experimental, Reader, ReaderOptions, RReader
from pymva.types import EAnalysisType, Types
from toymethod import ToyMethod, make_sample, toy, trained_toy, write_toy

__all__ = ["toy"]  # the fixture, imported so that pytest finds it here

EXPRS = ["var1", "var2", "var3"]


@pytest.fixture
def clf_file(tmp_path: Path, toy: type[ToyMethod]) -> tuple[Path, ToyMethod]:
    method = trained_toy(tmp_path)
    return write_toy(tmp_path, method), method


@pytest.fixture
def multi_file(tmp_path: Path, toy: type[ToyMethod]) -> tuple[Path, ToyMethod]:
    method = trained_toy(tmp_path, EAnalysisType.kMulticlass, options="Scale=2", n_classes=4)
    return write_toy(tmp_path, method), method


@pytest.fixture
def reg_file(tmp_path: Path, toy: type[ToyMethod]) -> tuple[Path, ToyMethod]:
    method = trained_toy(tmp_path, EAnalysisType.kRegression, options="Scale=1.5", n_targets=2)
    return write_toy(tmp_path, method), method


def numpy_reader(path: Path, tag: str = "Toy", options: str = "Silent") -> tuple[Reader, list[np.ndarray]]:
    reader = Reader(options)
    refs = [np.zeros(1, dtype=np.float32) for _ in EXPRS]
    for e, r in zip(EXPRS, refs, strict=True):
        reader.AddVariable(e, r)
    reader.AddSpectator("spec1*2", np.zeros(1, dtype=np.int32))
    reader.BookMVA(tag, path)
    return reader, refs


def events(n: int = 40, seed: int = 5) -> np.ndarray:
    return make_sample(EAnalysisType.kClassification, n=n, seed=seed).X


# ---------------------------------------------------------------------------------------------- options


def test_reader_options() -> None:
    r = Reader("V:Color:!Silent:Error")
    assert isinstance(r.options, ReaderOptions)
    assert (r.options.V, r.options.Color, r.options.Silent, r.options.Error) == (True, True, False, True)
    assert Reader(Silent=True).options.Silent
    with pytest.raises(OptionError, match=r"could not be interpreted: 'Colour'.*did you mean 'Color'"):
        Reader("Colour")


def test_variable_names_forms(clf_file: tuple[Path, ToyMethod]) -> None:
    path, method = clf_file
    X = events()
    for reader in (Reader("var1:var2:var3", "Silent"), Reader(EXPRS, "Silent")):
        assert reader.variables == EXPRS
        reader.AddSpectator("spec1*2")
        reader.BookMVA("Toy", path)
        np.testing.assert_array_equal(reader.EvaluateMVA(X, "Toy"), method.mva_value(X))
        with pytest.raises(DataError, match="declared without a buffer"):
            reader.EvaluateMVA("Toy")


# ---------------------------------------------------------------------------------------------- evaluation


def test_numpy_refs_per_event_equal_vectorised(clf_file: tuple[Path, ToyMethod]) -> None:
    path, method = clf_file
    reader, refs = numpy_reader(path)
    X = events()
    per_event = []
    for row in X:
        for r, v in zip(refs, row, strict=True):
            r[0] = v  # the PyROOT idiom: write into the bound buffer, then evaluate
        per_event.append(reader.EvaluateMVA("Toy"))
    assert all(isinstance(v, float) for v in per_event)
    vectorised = reader.EvaluateMVA(X, "Toy")
    assert isinstance(vectorised, np.ndarray)
    assert vectorised.dtype == np.float32
    assert vectorised.shape == (40,)
    np.testing.assert_array_equal(np.array(per_event, np.float32), vectorised)
    np.testing.assert_array_equal(vectorised, method.mva_value(X))
    # one event as a list or 1-D array: TMVA's EvaluateMVA(vector<float>, tag)
    assert reader.EvaluateMVA(list(map(float, X[3])), "Toy") == per_event[3]
    assert reader.EvaluateMVA(X[3].astype(np.float64), "Toy") == per_event[3]
    assert reader.EvaluateMVA(X[3], methodTag="Toy") == per_event[3]
    assert reader.EvaluateMVA("Toy", 0.5) == per_event[-1]  # aux accepted and ignored


def test_array_array_refs(clf_file: tuple[Path, ToyMethod]) -> None:
    path, method = clf_file
    reader = Reader("!Color:!Silent")
    refs = [array.array("f", [0.0]) for _ in EXPRS]
    for e, r in zip(EXPRS, refs, strict=True):
        reader.AddVariable(e, r)
    spec = array.array("i", [0])
    reader.AddSpectator("spec1 * 2", spec)  # blanks are removed, as TMVA does
    returned = reader.BookMVA("Toy", str(path))
    assert returned is reader.methods["Toy"]
    X = events()
    got = []
    for row in X:
        for r, v in zip(refs, row, strict=True):
            r[0] = float(v)
        spec[0] = 3
        got.append(reader.EvaluateMVA("Toy"))
    np.testing.assert_array_equal(np.array(got, np.float32), method.mva_value(X))


def test_buffer_value_read_at_evaluation_time(clf_file: tuple[Path, ToyMethod]) -> None:
    path, method = clf_file
    reader, refs = numpy_reader(path)
    refs[0][0], refs[1][0], refs[2][0] = 1.0, 2.0, 3.0
    first = reader.EvaluateMVA("Toy")
    refs[0][0] = -5.0
    second = reader.EvaluateMVA("Toy")
    assert first != second
    expected = method.mva_value(np.array([[-5.0, 2.0, 3.0]], np.float32))[0]
    assert second == float(expected)


def test_label_and_expression_form(clf_file: tuple[Path, ToyMethod]) -> None:
    """``label := expression`` is matched on the expression, as TMVA's Reader does."""
    path, method = clf_file
    reader = Reader("Silent")
    refs = [np.zeros(1, np.float32) for _ in range(3)]
    for e, r in zip(["v1 := var1", "v2:=var2", "var3"], refs, strict=True):
        reader.AddVariable(e, r)
    reader.AddSpectator("spec1*2")
    reader.BookMVA("Toy", path)
    X = events()
    for r, v in zip(refs, X[7], strict=True):
        r[0] = v
    assert reader.EvaluateMVA("Toy") == float(method.mva_value(X[7:8])[0])
    np.testing.assert_array_equal(reader.EvaluateMVA(X, "Toy"), method.mva_value(X))


def test_vectorised_path_calls_the_method_once(
    clf_file: tuple[Path, ToyMethod], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = clf_file
    reader, _ = numpy_reader(path)
    calls: list[int] = []
    method = reader.methods["Toy"]
    original = method._predict

    def counting(X: np.ndarray) -> Any:
        calls.append(len(X))
        return original(X)

    monkeypatch.setattr(method, "_predict", counting)
    X = events(n=5000)
    X[::7, 1] = np.nan
    reader.EvaluateMVA(X, "Toy")
    assert calls == [5000 - len(range(0, 5000, 7))]


def test_nan_gives_minus_999(clf_file: tuple[Path, ToyMethod], caplog: pytest.LogCaptureFixture) -> None:
    path, _method = clf_file
    reader, refs = numpy_reader(path)
    refs[0][0], refs[1][0], refs[2][0] = 1.0, np.nan, 3.0
    with caplog.at_level(logging.ERROR, logger="pymva"):
        assert reader.EvaluateMVA("Toy") == -999.0
        assert reader.EvaluateMVA([1.0, 2.0, float("nan")], "Toy") == -999.0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert errors[0].getMessage().startswith("1-th variable of the event is NaN --> return MVA value -999")
    assert errors[1].getMessage().startswith("2-th variable of the event is NaN")

    X = events()
    clean = reader.EvaluateMVA(X, "Toy")
    X[[2, 5, 6], [0, 2, 2]] = np.nan
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pymva"):
        out = reader.EvaluateMVA(X, "Toy")
    assert caplog.records
    assert "3 of 40 events have a NaN input variable" in caplog.records[0].getMessage()
    assert "var1 (1), var3 (2)" in caplog.records[0].getMessage()
    expected = clean.copy()
    expected[[2, 5, 6]] = -999.0
    np.testing.assert_array_equal(out, expected)
    all_nan = np.full((3, 3), np.nan, np.float32)
    np.testing.assert_array_equal(reader.EvaluateMVA(all_nan, "Toy"), [-999.0] * 3)


def test_empty_input(clf_file: tuple[Path, ToyMethod], multi_file: tuple[Path, ToyMethod]) -> None:
    reader, _ = numpy_reader(clf_file[0])
    assert reader.EvaluateMVA(np.zeros((0, 3)), "Toy").shape == (0,)
    r2, _ = numpy_reader(multi_file[0])
    assert r2.EvaluateMulticlass(np.zeros((0, 3)), "Toy").shape == (0, 4)


def test_wrong_input_shapes(clf_file: tuple[Path, ToyMethod]) -> None:
    reader, _ = numpy_reader(clf_file[0])
    with pytest.raises(DataError, match="one event needs 3 values"):
        reader.EvaluateMVA([1.0, 2.0], "Toy")
    with pytest.raises(DataError, match="has 2 columns"):
        reader.EvaluateMVA(np.zeros((4, 2)), "Toy")
    with pytest.raises(DataError, match=r"one event .* or many"):
        reader.EvaluateMVA(np.zeros((2, 2, 3)), "Toy")
    with pytest.raises(DataError, match="cannot be converted"):
        reader.EvaluateMVA(["a", "b", "c"], "Toy")
    with pytest.raises(OptionError, match="method tag must be a string"):
        reader.EvaluateMVA(np.zeros(3))
    with pytest.raises(OptionError, match="needs a method tag"):
        reader.EvaluateMVA()


def test_multiclass(multi_file: tuple[Path, ToyMethod], caplog: pytest.LogCaptureFixture) -> None:
    path, method = multi_file
    reader, refs = numpy_reader(path)
    X = events()
    for r, v in zip(refs, X[0], strict=True):
        r[0] = v
    values = reader.EvaluateMulticlass("Toy")
    assert isinstance(values, list)
    assert len(values) == 4
    np.testing.assert_array_equal(np.array(values, np.float32), method.evaluate(X[:1])[0])
    assert reader.EvaluateMulticlass(2, "Toy") == values[2]
    with caplog.at_level(logging.WARNING, logger="pymva"):
        assert reader.EvaluateMulticlass(4, "Toy") == 0.0
    assert "Multiclass could not be evaluated for class-number 4" in caplog.text
    batch = reader.EvaluateMulticlass(X, "Toy")
    assert batch.shape == (40, 4)
    assert batch.dtype == np.float32
    np.testing.assert_array_equal(batch, method.evaluate(X))
    np.testing.assert_array_equal(batch[0], np.array(values, np.float32))
    # EvaluateMVA on multiclass: the raw output of class 0, as TMVA's GetMvaValue
    np.testing.assert_array_equal(reader.EvaluateMVA(X, "Toy"), batch[:, 0])
    refs[1][0] = np.nan
    assert reader.EvaluateMulticlass("Toy") == [-999.0] * 4
    with pytest.raises(ModelError, match="EvaluateRegression needs a regression method"):
        reader.EvaluateRegression("Toy")


def test_regression(reg_file: tuple[Path, ToyMethod], caplog: pytest.LogCaptureFixture) -> None:
    path, method = reg_file
    reader, refs = numpy_reader(path)
    X = events()
    for r, v in zip(refs, X[0], strict=True):
        r[0] = v
    values = reader.EvaluateRegression("Toy")
    assert isinstance(values, list)
    assert len(values) == 2
    np.testing.assert_array_equal(np.array(values, np.float32), method.evaluate(X[:1])[0])
    assert reader.EvaluateRegression(1, "Toy") == values[1]
    with caplog.at_level(logging.WARNING, logger="pymva"):
        assert reader.EvaluateRegression(2, "Toy") == 0.0
    assert "Regression could not be evaluated for target-number 2" in caplog.text
    batch = reader.EvaluateRegression(X, "Toy")
    assert batch.shape == (40, 2)
    np.testing.assert_array_equal(batch, method.evaluate(X))
    assert reader.EvaluateRegression(X[0], "Toy") == values
    # EvaluateMVA on a regression method: the raw first output (no inverse target transform)
    np.testing.assert_array_equal(reader.EvaluateMVA(X, "Toy"), method.raw_outputs(X)[:, 0])
    with pytest.raises(ModelError, match="use EvaluateRegression"):
        reader.EvaluateMulticlass("Toy")
    refs[0][0] = np.nan
    assert reader.EvaluateRegression("Toy") == [-999.0, -999.0]


def test_evaluate_by_method_object_and_xml_string(clf_file: tuple[Path, ToyMethod]) -> None:
    path, _method = clf_file
    reader, refs = numpy_reader(path)
    other = reader.BookMVA(Types.kHMatrix, path.read_text())
    assert "Toy" in reader.methods
    assert len(reader.methods) == 1
    for r, v in zip(refs, [0.5, -0.5, 1.0], strict=True):
        r[0] = v
    assert reader.EvaluateMVA(other) == reader.EvaluateMVA("Toy")
    with pytest.raises(ModelError, match="holds a method of type 'HMatrix'"):
        reader.BookMVA(Types.kFisher, path.read_text())


def test_error_option(clf_file: tuple[Path, ToyMethod]) -> None:
    reader, _ = numpy_reader(clf_file[0], options="Silent:Error")
    assert reader.GetMVAError() == 0.0
    reader.EvaluateMVA("Toy")
    assert reader.GetMVAError() == -1.0
    assert reader.GetMVAErrorUpper() == -1.0


def test_proba_and_rarity_without_pdfs(
    clf_file: tuple[Path, ToyMethod], caplog: pytest.LogCaptureFixture
) -> None:
    reader, _ = numpy_reader(clf_file[0])
    with caplog.at_level(logging.WARNING, logger="pymva"):
        assert reader.GetProba("Toy") == -1.0
        assert reader.GetRarity("Toy") == 0.0  # TMVA's MethodBase::GetRarity without a PDF
    assert "has no MVA PDFs" in caplog.text


# ---------------------------------------------------------------------------------------------- booking


def test_booking_log_lines(clf_file: tuple[Path, ToyMethod], caplog: pytest.LogCaptureFixture) -> None:
    path, _ = clf_file
    with caplog.at_level(logging.INFO, logger="pymva"):
        numpy_reader(path, options="!Silent")
    assert f'Booking "Toy" of type "HMatrix" from {path}.' in caplog.text
    assert 'Booked classifier "Toy" of type: "HMatrix"' in caplog.text


def test_duplicate_tag(clf_file: tuple[Path, ToyMethod]) -> None:
    reader, _ = numpy_reader(clf_file[0])
    with pytest.raises(OptionError, match=r'^<BookMVA> method tag "Toy" already exists!'):
        reader.BookMVA("Toy", clf_file[0])
    reader.BookMVA("Toy2", clf_file[0])
    assert list(reader.methods) == ["Toy", "Toy2"]


def test_unknown_tag(clf_file: tuple[Path, ToyMethod], caplog: pytest.LogCaptureFixture) -> None:
    reader, _ = numpy_reader(clf_file[0])
    with pytest.raises(OptionError, match="you looked for \"Tox\"; did you mean 'Toy'"):
        reader.EvaluateMVA("Tox")
    with caplog.at_level(logging.ERROR, logger="pymva"):
        assert reader.FindMVA("Tox") is None
    assert "Method Tox not found!" in caplog.text


def test_variable_count_mismatch(clf_file: tuple[Path, ToyMethod]) -> None:
    reader = Reader("Silent")
    for e in EXPRS[:2]:
        reader.AddVariable(e, np.zeros(1, np.float32))
    reader.AddSpectator("spec1*2")
    with pytest.raises(
        DataError,
        match="You declared 2 variables in the Reader while there are 3 variables declared in the file",
    ) as err:
        reader.BookMVA("Toy", clf_file[0])
    assert "['var1', 'var2']" in str(err.value)
    assert "['var1', 'var2', 'var3']" in str(err.value)
    assert str(clf_file[0]) in str(err.value)


def test_variable_order_mismatch(clf_file: tuple[Path, ToyMethod]) -> None:
    reader = Reader("Silent")
    for e in ["var1", "var3", "var2"]:
        reader.AddVariable(e, np.zeros(1, np.float32))
    reader.AddSpectator("spec1*2")
    with pytest.raises(
        DataError,
        match=r"The expression declared to the Reader needs to be checked \(name or order are wrong\): "
        r"var #1 declared in Reader: 'var3', var #1 declared in file: 'var2'",
    ):
        reader.BookMVA("Toy", clf_file[0])


def test_spectator_mismatch(clf_file: tuple[Path, ToyMethod]) -> None:
    reader = Reader("Silent")
    for e in EXPRS:
        reader.AddVariable(e, np.zeros(1, np.float32))
    with pytest.raises(
        DataError,
        match="You declared 0 spectators in the Reader while there are 1 spectators declared in the file",
    ):
        reader.BookMVA("Toy", clf_file[0])
    reader.AddSpectator("spec2")
    with pytest.raises(
        DataError, match="spec #0 declared in Reader: 'spec2', spec #0 declared in file: 'spec1\\*2'"
    ):
        reader.BookMVA("Toy", clf_file[0])


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (np.zeros(1, np.int32), "deprecated in TMVA, please provide all variables to the reader as floats"),
        (array.array("i", [0]), "deprecated in TMVA"),
        (np.zeros(2, np.float32), "ref has 2 elements, expected one"),
        (array.array("f", [0.0, 1.0]), "ref has 2 elements"),
        ([0.0], "ref is a list"),
        (0.0, "a Python float cannot be bound"),
        (np.zeros(1, np.complex64), "dtype complex64"),
    ],
)
def test_bad_buffers(ref: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        Reader("Silent").AddVariable("var1", ref)


def test_integer_spectator_buffers_accepted() -> None:
    reader = Reader("Silent")
    reader.AddSpectator("s1", np.zeros(1, np.int32))
    reader.AddSpectator("s2", array.array("i", [0]))
    reader.AddSpectator("s3", np.zeros((1, 1), np.float32))
    assert reader.spectators == ["s1", "s2", "s3"]
    reader.AddVariable("v1", array.array("d", [0.0]))  # double buffers are read too
    reader.AddVariable("v2", np.zeros((), np.float64))
    assert reader.variables == ["v1", "v2"]


def test_declaring_after_booking_is_refused(clf_file: tuple[Path, ToyMethod]) -> None:
    reader, _ = numpy_reader(clf_file[0])
    with pytest.raises(OptionError, match="after BookMVA"):
        reader.AddVariable("var4", np.zeros(1, np.float32))


def test_missing_weights_file() -> None:
    reader = Reader("Silent")
    with pytest.raises(ModelError, match="unable to open input weight file"):
        reader.BookMVA("x", "dataset/weights/none.weights.xml")


def test_entity_file_refused_by_reader(tmp_path: Path) -> None:
    p = tmp_path / "evil.weights.xml"
    p.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><MethodSetup Method="HMatrix::Toy"/>')
    with pytest.raises(ModelError, match="DOCTYPE"):
        Reader("Silent").BookMVA("x", p)
    with pytest.raises(ModelError, match="DOCTYPE"):
        RReader(p)


# ---------------------------------------------------------------------------------------------- RReader


def test_rreader_classification(clf_file: tuple[Path, ToyMethod]) -> None:
    path, method = clf_file
    model = Experimental.RReader(path)
    assert model.GetVariableNames() == ["var1 title", "var2 title", "var3 title"]
    X = events()
    one = model.Compute([float(v) for v in X[0]])
    assert isinstance(one, list)
    assert len(one) == 1
    batch = model.Compute(np.ascontiguousarray(X, dtype=np.float32))
    assert isinstance(batch, np.ndarray)
    assert batch.shape == (40,)
    assert batch.dtype == np.float32
    np.testing.assert_array_equal(batch, method.mva_value(X))
    assert one[0] == batch[0]
    with pytest.raises(DataError, match="Size of input vector is not equal to number of variables"):
        model.Compute([1.0, 2.0])
    with pytest.raises(
        DataError, match="Second dimension of input tensor is not equal to number of variables"
    ):
        model.Compute(np.zeros((3, 4), np.float32))
    with pytest.raises(DataError, match="rank 2"):
        model.Compute(np.zeros((3, 3, 3), np.float32))


def test_rreader_multiclass(multi_file: tuple[Path, ToyMethod]) -> None:
    path, method = multi_file
    model = RReader(path)
    X = events()
    assert len(model.Compute(X[0])) == 4
    batch = model.Compute(X)
    assert batch.shape == (40, 4)
    np.testing.assert_array_equal(batch, method.evaluate(X))


def test_rreader_regression(reg_file: tuple[Path, ToyMethod]) -> None:
    path, method = reg_file
    model = RReader(path)
    X = events()
    one = model.Compute(X[0])
    assert len(one) == 2  # every target for one event
    batch = model.Compute(X)
    assert batch.shape == (40,)  # the first target for many, as ROOT's RReader
    np.testing.assert_array_equal(batch, method.evaluate(X)[:, 0])


def test_rreader_does_not_touch_logging(clf_file: tuple[Path, ToyMethod]) -> None:
    logger = logging.getLogger("pymva")
    before = (list(logger.handlers), logger.level)
    RReader(clf_file[0])
    assert (list(logger.handlers), logger.level) == before


def test_rreader_requires_analysis_type(clf_file: tuple[Path, ToyMethod], tmp_path: Path) -> None:
    root = ET.parse(clf_file[0]).getroot()
    gi = root.find("GeneralInfo")
    assert gi is not None
    for item in list(gi):
        if item.get("name") == "AnalysisType":
            gi.remove(item)
    p = tmp_path / "noat.weights.xml"
    ET.ElementTree(root).write(p)
    with pytest.raises(ModelError, match="Failed to parse analysis type from TMVA config"):
        RReader(p)
    # the Reader assumes classification, as TMVA does
    reader, _ = numpy_reader(p)
    assert reader.methods["Toy"].context.analysis_type == EAnalysisType.kClassification


def test_regression_with_transformed_targets(tmp_path: Path, toy: type[ToyMethod]) -> None:
    """N transforms the targets too: EvaluateRegression inverts it, EvaluateMVA does not (as TMVA)."""
    method = trained_toy(tmp_path, EAnalysisType.kRegression, options="VarTransform=N", n_targets=2)
    path = write_toy(tmp_path, method)
    reader, _ = numpy_reader(path)
    X = events()
    regression = reader.EvaluateRegression(X, "Toy")
    np.testing.assert_array_equal(regression, method.evaluate(X))
    raw = reader.EvaluateMVA(X, "Toy")
    np.testing.assert_array_equal(raw, method.raw_outputs(X)[:, 0])
    assert not np.allclose(raw, regression[:, 0])  # the raw output is in the transformed target space
    np.testing.assert_array_equal(RReader(path).Compute(X), regression[:, 0])
