"""Every bad input on the data side is a PyMVAError naming the culprit (one test per case).

Broken ROOT files are truncated or corrupted *copies* of the files in ``../shared/data``, made in
``tmp_path``; the originals are never touched.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
import uproot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymva import TMVA, DataError, OptionError, PyMVAError
from pymva.data.expression import MAX_EXPRESSION_LENGTH, MAX_EXPRESSION_TOKENS, Formula
from pymva.factory import Factory
from pymva.options import MAX_OPTION_VALUE_OPERATORS, OptionDecl, parse_option_string


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _build(path: Path, tree: str, *expressions: str) -> Any:
    loader = TMVA.DataLoader("dataset")
    for e in expressions:
        loader.AddVariable(e)
    loader.AddSignalTree(f"{path}:{tree}")
    loader.AddBackgroundTree(f"{path}:{tree}")
    loader.PrepareTrainingAndTestTree("", "SplitMode=Random:!V")
    return loader.GetDataSetInfo().GetDataSet()


def _basket(path: Path, tree: str, branch: str, i: int) -> tuple[int, int]:
    """Seek and size in bytes of basket ``i`` of ``branch`` (its key and its data)."""
    b = uproot.open(path)[tree][branch]
    return int(b.member("fBasketSeek")[i]), int(b.member("fBasketBytes")[i])


def _corrupt(src: Path, dst: Path, offset: int, n: int = 40) -> Path:
    data = bytearray(src.read_bytes())
    data[offset : offset + n] = b"\xff" * n
    dst.write_bytes(bytes(data))
    return dst


# ------------------------------------------------------------------------------------ broken files
@pytest.mark.realdata
@pytest.mark.parametrize("fraction", [0.01, 0.5, 0.9, 0.999])
def test_truncated_root_file(shared_data: Path, tmp_path: Path, fraction: float) -> None:
    src = shared_data / "uproot-Zmumu.root"
    data = src.read_bytes()
    cut = tmp_path / "truncated.root"
    cut.write_bytes(data[: int(len(data) * fraction)])
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("M")
    with pytest.raises(DataError) as e:
        loader.AddSignalTree(f"{cut}:events")
    msg = str(e.value)
    assert f"cannot open '{cut}' as a ROOT file (reading tree 'events')" in msg
    assert f"it has {int(len(data) * fraction)} bytes" in msg
    assert "truncated" in msg


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("where", "error"), [("data", "zlib.error"), ("key", "uproot.deserialization.DeserializationError")]
)
def test_corrupted_basket_names_file_tree_branch_and_entries(
    shared_data: Path, tmp_path: Path, where: str, error: str
) -> None:
    src = shared_data / "uproot-Zmumu.root"
    seek, nbytes = _basket(src, "events", "M", 0)
    bad = _corrupt(src, tmp_path / "corrupt.root", seek + (nbytes // 2 if where == "data" else 10))
    with pytest.raises(DataError) as e:
        _build(bad, "events", "px1", "M")  # px1 reads fine, M does not
    msg = str(e.value)
    assert f"tree 'events' in file '{bad}'" in msg
    assert "branch 'M' (basket 0, entries 0-2303)" in msg  # Zmumu has one basket per branch
    assert error in msg
    assert "branch 'px1'" not in msg


@pytest.mark.realdata
def test_corrupted_basket_among_many_names_its_entry_range(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "uproot-sample-6.20.04-zlib.root"
    entries = [int(x) for x in uproot.open(src)["sample"]["Af8"].entry_offsets]
    seek, _ = _basket(src, "sample", "Af8", 5)
    bad = _corrupt(src, tmp_path / "corrupt.root", seek, n=8)
    with pytest.raises(DataError) as e:
        _build(bad, "sample", "Af8[0]")  # a jagged branch: read as awkward arrays
    msg = str(e.value)
    assert f"branch 'Af8' (basket 5, entries {entries[5]}-{entries[6] - 1})" in msg
    assert "basket 4" not in msg
    assert "basket 6" not in msg


@pytest.mark.realdata
def test_file_truncated_after_the_tree_was_opened(shared_data: Path, tmp_path: Path) -> None:
    """A file cut while the job runs (its uproot TTree already open): uproot's OSError at the basket."""
    path = tmp_path / "hzz.root"
    shutil.copyfile(shared_data / "uproot-HZZ.root", path)
    tree = uproot.open(path)["events"]
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("MET_px")
    loader.AddSignalTree(tree)
    loader.AddBackgroundTree(tree)
    loader.PrepareTrainingAndTestTree("", "!V")
    seek, _ = _basket(path, "events", "MET_px", 0)
    with path.open("r+b") as fh:
        fh.truncate(seek + 10)
    with pytest.raises(DataError) as e:
        loader.GetDataSetInfo().GetDataSet()
    msg = str(e.value)
    assert f"tree 'events' in file '{path}'" in msg
    assert "branch 'MET_px' (basket 0, entries 0-2420)" in msg
    assert "OSError" in msg


# ------------------------------------------------------------------------------------ expressions
def test_hexadecimal_and_huge_literals() -> None:
    x = {"x": np.array([0.0, 1.0])}
    # the largest 64-bit hexadecimal number is fine: 2**64 - 1 in double precision
    assert Formula("x*0 + 0xFFFFFFFFFFFFFFFF").evaluate(x).tolist() == [float(2**64 - 1)] * 2
    assert Formula("x + 0x10").evaluate(x).tolist() == [16.0, 17.0]
    with pytest.raises(DataError, match=r"hexadecimal number 0x1f{16} does not fit into 64 bits"):
        Formula("x + 0x1" + "f" * 16)
    with pytest.raises(DataError, match=r"does not fit into 64 bits"):
        Formula("0x" + "f" * 400)  # was an OverflowError
    with pytest.raises(DataError, match=r"the number 1e999 is beyond the range of a double"):
        Formula("x < 1e999")
    with pytest.raises(DataError, match=r"beyond the range of a double"):
        Formula("9" * 400)
    assert Formula("x*0 + 1e308").evaluate(x).tolist() == [1e308, 1e308]
    loader = TMVA.DataLoader("dataset")
    with pytest.raises(DataError, match=r"input variable 'x\+0x1f+'.*does not fit into 64 bits"):
        loader.AddVariable("x+0x1" + "f" * 20)


def test_expression_limits_refuse_a_100k_term_expression() -> None:
    with pytest.raises(DataError, match=rf"199999 characters long; at most {MAX_EXPRESSION_LENGTH}"):
        Formula("+".join(["x"] * 100_000))  # 100,000 terms
    nested = "(" * 15_000 + "x" + ")" * 15_000  # short enough, but 30,001 tokens
    with pytest.raises(DataError, match=rf"has 30001 terms and operators; at most {MAX_EXPRESSION_TOKENS}"):
        Formula(nested)
    # 5,000 terms are well inside the limits: parsed, and their sum is 5000 x
    x = np.array([1.0, -2.0, 0.25])
    assert Formula("+".join(["x"] * 5_000)).evaluate({"x": x}).tolist() == (5000 * x).tolist()


def test_deeply_nested_expression_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(DataError, match="nested too deeply"):
        Formula("-" * 5_000 + "x")


# ------------------------------------------------------------------------------------ option values
@pytest.mark.parametrize(
    "value",
    ["-" * 5_000 + "1", "1" + "+1" * 5_000, "not " * 3_000 + "1", "[" * 5_000, "a" + ".a" * 5_000],
    ids=["unary", "sum", "not", "brackets", "attributes"],
)
def test_absurd_option_values_are_refused_before_any_parser_sees_them(value: str) -> None:
    decls = [OptionDecl("BaseEstimator", str, "None")]
    with pytest.raises(OptionError, match=r"option 'BaseEstimator' of C holds \d+ operators .* at most 1000"):
        parse_option_string(decls, f"BaseEstimator={value}", component="C")


def test_option_value_operator_limit_is_exact() -> None:
    decls = [OptionDecl("Layout", str, "")]
    ok = "-" * MAX_OPTION_VALUE_OPERATORS + "1"
    assert parse_option_string(decls, f"Layout={ok}", component="C")[0]["Layout"] == ok
    with pytest.raises(OptionError, match="holds 1001 operators"):
        parse_option_string(decls, f"Layout=-{ok}", component="C")


def test_absurd_option_value_of_a_python_literal_option_at_booking(workdir: Path) -> None:
    """PyAdaBoost reads BaseEstimator with Python's ast: an absurd value never gets there."""
    rng = np.random.default_rng(0)
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    loader.AddSignalTree({"x": rng.normal(1, 1, 50)})
    loader.AddBackgroundTree({"x": rng.normal(-1, 1, 50)})
    factory = Factory("Job", None, "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    for value in ("-" * 5_000 + "1", "1" + "+1" * 5_000):  # MemoryError and RecursionError in ast
        with pytest.raises(OptionError, match="'BaseEstimator' of method PyAdaBoost"):
            factory.BookMethod(loader, "PyAdaBoost", "Ada", f"BaseEstimator={value}")


def test_keyword_true_for_a_non_boolean_option_names_the_value() -> None:
    from pymva.methods.pytorch import PyTorchOptions

    with pytest.raises(OptionError) as e:
        PyTorchOptions.parse("", BatchSize=True)
    msg = str(e.value)
    assert "keyword argument BatchSize=True" in msg
    assert "the value True does not fit option 'BatchSize', which takes an integer, e.g. BatchSize=100" in msg
    assert "could not be interpreted" not in msg
    # the bare name in an option string: the name is right, a value is missing
    with pytest.raises(OptionError, match=r"'BatchSize' needs a value: an integer, e.g. BatchSize=100"):
        PyTorchOptions.parse("BatchSize")


# ------------------------------------------------------------------------------------ DataLoader
def test_add_signal_tree_with_a_weight_that_is_not_a_number(workdir: Path) -> None:
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    events = {"x": np.arange(20.0)}
    with pytest.raises(
        DataError, match=r"AddSignalTree\(tree, weight\): the weight must be a number, not str 'abc'"
    ):
        loader.AddSignalTree(events, "abc")
    # the weight is checked before the tree is opened: no 'file does not exist' first
    with pytest.raises(DataError, match=r"AddBackgroundTree\(tree, weight\): the weight must be a number"):
        loader.AddBackgroundTree("missing.root:TreeB", None)
    with pytest.raises(DataError, match=r"the weight of tree dict of class Signal must be finite, not inf"):
        loader.AddTree(events, "Signal", float("inf"))
    with pytest.raises(DataError, match=r"SetInputTrees: the signal weight must be a number"):
        loader.SetInputTrees(events, events, "w")
    with pytest.raises(DataError, match=r"value 0 of an event of class Signal must be a number, not str 'a'"):
        loader.AddEvent("Signal", TMVA.Types.kTraining, ["a"])
    assert loader.class_names == []


@pytest.mark.parametrize(
    ("column", "rule"),
    [
        (1.0, r"column 'x' of the in-memory dict is a single value \(float 1\.0\)"),
        (np.float64(3.0), r"column 'x' of the in-memory dict is a single value"),
        (np.array(2.0), r"column 'x' of the in-memory dict is a single value"),
        (None, r"column 'x' of the in-memory dict is a single value \(NoneType None\)"),
        (
            np.array([object()] * 3),
            r"column 'x' of the in-memory dict holds Python objects \(dtype object: object\)",
        ),
        ([{"a": 1}] * 3, r"holds Python objects \(dtype object: dict\)"),
        (np.array(["a", 1.0], dtype=object), r"holds Python objects \(dtype object: float, str\)"),
    ],
    ids=["float", "numpy-scalar", "0d-array", "None", "objects", "dicts", "mixed"],
)
def test_dict_inputs_with_scalars_or_object_arrays(column: Any, rule: str) -> None:
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    with pytest.raises(DataError, match=rule):
        loader.AddSignalTree({"x": column, "y": np.arange(3.0)})


def test_object_arrays_of_numbers_and_of_arrays_are_read() -> None:
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    loader.AddVariable("v[1]")
    x = np.array([float(i) for i in range(40)], dtype=object)
    v = np.empty(40, dtype=object)
    v[:] = [[i, 10.0 * i] for i in range(40)]
    loader.AddSignalTree({"x": x, "v": v})
    loader.AddBackgroundTree({"x": x, "v": v})
    loader.PrepareTrainingAndTestTree("", "SplitMode=Block:NormMode=None:!V")
    ds = loader.GetDataSetInfo().GetDataSet()
    rows = np.concatenate([ds.train.X, ds.test.X])
    # every event is (i, 10 i): the object arrays were read as numbers
    np.testing.assert_array_equal(rows[:, 1], 10.0 * rows[:, 0])
    assert sorted(rows[:, 0].tolist()) == sorted([float(i) for i in range(40)] * 2)


# ------------------------------------------------------------------------------------ the Factory
def test_fisher_skipped_for_regression_does_not_ask_for_training_later(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = np.random.default_rng(3)
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    loader.AddTarget("y")
    loader.AddRegressionTree({"x": rng.normal(size=100), "y": rng.normal(size=100)})
    loader.PrepareTrainingAndTestTree("", "!V")
    factory = Factory("Job", "TMVA.root", "!V:!Silent:!DrawProgressBar:!Color:AnalysisType=Regression")
    with caplog.at_level(logging.INFO, logger="pymva"):
        assert factory.BookMethod(loader, "Fisher", "Fisher", "") is None
        factory.TrainAllMethods()
        factory.TestAllMethods()
        factory.EvaluateAllMethods()  # TMVA: "...nothing found to evaluate", no error
    text = caplog.text
    assert "call TrainAllMethods() first" not in text
    assert "...nothing found to evaluate" in text
    assert (
        "Method 'Fisher' of dataset 'dataset' was not booked: Fisher is not capable of handling regression"
        in text
    )
    with pytest.raises(KeyError) as e:
        factory.GetROCIntegral("dataset", "Fisher")
    assert "was not booked" in str(e.value)
    assert "TrainAllMethods" not in str(e.value)
    assert not Path("TMVA.root").exists()


# ------------------------------------------------------------------------------------ property test
_ARRAYS = {
    "x": np.array([0.0, 1.5, -2.0, np.nan]),
    "n": np.array([0, 3, 1, 2], dtype=np.int32),
    "v": ak.Array([[1.0, 2.0], [], [3.0], [4.0, 5.0, 6.0]]),
    "s": ak.Array(["a", "b", "a", "c"]),
}
_TOKEN = st.sampled_from(
    [
        "x", "n", "v", "s", "unknown", "0", "1", "2.5", "1e308", "1e999", "0x10", "0x" + "f" * 17,
        "0x" + "f" * 300,
        "9" * 400, "-", "+", "*", "/", "%", "^", "**", "&&", "||", "&", "|", "!", "<", ">", "<=", ">=",
        "==", "!=", "<<", ">>", "(", ")", "[", "]", "?", ":", ",", "sqrt(", "TMath::Abs(", "Alt$(",
        "Sum$(", "Length$(", "MaxIf$(", "atan2(", "v[0]", "v[n]", "v[-1]", '"a"', "pi", "\x00", "\t",
        "\x7f", "é", "((((((((((", "----------", ";", "$", "@",
    ]
)  # fmt: skip


def _only_pymva_errors(text: str) -> None:
    """Parse (Formula and DataLoader.AddVariable) and evaluate: nothing but PyMVAError escapes."""
    with contextlib.suppress(PyMVAError):
        TMVA.DataLoader("d").AddVariable(text)
    try:
        out = Formula(text).evaluate(_ARRAYS)
    except PyMVAError:
        return
    assert len(out) == 4


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_strings_give_only_pymva_errors(text: str) -> None:
    _only_pymva_errors(text)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TOKEN, min_size=1, max_size=16), st.sampled_from(["", " "]))
def test_random_token_sequences_give_only_pymva_errors(tokens: list[str], sep: str) -> None:
    _only_pymva_errors(sep.join(tokens))
