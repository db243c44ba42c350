"""Tests of pymva.data.expression: ROOT TTreeFormula expressions over awkward/numpy, and event building.

Expectations are computed independently with numpy/awkward (or by hand), never with the module
under test.
"""

from __future__ import annotations

import math
import os
import pickle
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
import scipy.special
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymva.data.expression import EventBlock, Formula, array_length_check, build_events, parse_formula
from pymva.errors import DataError

DATA = Path(os.environ.get("PYMVA_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
HZZ = DATA / "uproot-HZZ.root"
SAMPLE = DATA / "uproot-sample-6.20.04-zlib.root"


def ev(text: str, arrays: Any) -> list[Any]:
    result: list[Any] = Formula(text).evaluate(arrays).tolist()
    return result


@pytest.fixture(scope="module")
def hzz() -> ak.Array:
    import uproot

    with uproot.open(HZZ) as f:
        return f["events"].arrays(
            ["Muon_Px", "Muon_Py", "NMuon", "Jet_Px", "Jet_ID", "EventWeight", "triggerIsoMu24"],
            library="ak",
        )


@pytest.fixture(scope="module")
def sample() -> ak.Array:
    import uproot

    with uproot.open(SAMPLE) as f:
        return f["sample"].arrays(library="ak")


@pytest.fixture
def abc() -> dict[str, np.ndarray]:
    return {
        "a": np.array([0, 1, 2, 3, 5, 6], dtype=np.int32),
        "b": np.array([1, 1, 3, 2, 4, 7], dtype=np.int64),
        "c": np.array([0, 1, 1, 0, 1, 0], dtype=np.int16),
        "x": np.array([-2.5, -1.0, 0.0, 0.5, 1.5, 3.0]),
    }


# --------------------------------------------------------------------------------------------------
# parsing, precedence, operators
# --------------------------------------------------------------------------------------------------


def test_bitand_binds_looser_than_equality(abc: dict[str, np.ndarray]) -> None:
    a, b, c = abc["a"], abc["b"], abc["c"]
    expected = (a & (b == c).astype(np.int64)).astype(float)  # C: & is looser than ==
    assert ev("a&b==c", abc) == expected.tolist()
    # uproot/numexpr-style grouping (a&b)==c would give another result on this data
    assert ((a & b) == c).astype(float).tolist() != expected.tolist()
    assert ev("a|b==c", abc) == (a | (b == c).astype(np.int64)).astype(float).tolist()
    assert ev("a|b&c", abc) == (a | (b & c)).astype(float).tolist()


def test_not_and_logical(abc: dict[str, np.ndarray]) -> None:
    a, b, c = abc["a"], abc["b"], abc["c"]
    assert ev("!a&&b", abc) == ((a == 0) & (b != 0)).astype(float).tolist()
    assert ev("!(a&&b)", abc) == (~((a != 0) & (b != 0))).astype(float).tolist()
    assert ev("a>1 && b<4 || c", abc) == (((a > 1) & (b < 4)) | (c != 0)).astype(float).tolist()
    assert ev("a||b&&c", abc) == ((a != 0) | ((b != 0) & (c != 0))).astype(float).tolist()
    assert ev("!c", abc) == (c == 0).astype(float).tolist()


def test_power_is_left_associative_and_binds_tighter_than_unary_minus(abc: dict[str, np.ndarray]) -> None:
    x = abc["x"]
    assert ev("-x^2", abc) == (-(x**2)).tolist()
    assert ev("-x**2", abc) == (-(x**2)).tolist()
    # ROOT splits at the rightmost ^ : 2^3^2 == (2^3)^2 == 64
    assert ev("2^3^2", abc) == [64.0] * 6
    assert ev("2**3**2", abc) == [64.0] * 6
    assert ev("2^-1", abc) == [0.5] * 6
    assert ev("-2^2", abc) == [-4.0] * 6
    assert ev("x*x^2", abc) == (x * x**2).tolist()
    assert ev("pow(x,3)", abc) == np.power(x, 3).tolist()


def test_arithmetic_associativity(abc: dict[str, np.ndarray]) -> None:
    a, b = abc["a"].astype(float), abc["b"].astype(float)
    assert ev("a-b-1", abc) == (a - b - 1).tolist()
    assert ev("a-b+1", abc) == (a - b + 1).tolist()
    assert ev("a/b/2", abc) == (a / b / 2).tolist()
    assert ev("a+b*2", abc) == (a + b * 2).tolist()
    assert ev("(a+b)*2", abc) == ((a + b) * 2).tolist()
    assert ev("a - -b", abc) == (a + b).tolist()
    assert ev("a*-b", abc) == (-a * b).tolist()
    # integer branches are divided as doubles
    assert ev("a/2", abc) == (a / 2).tolist()


def test_root_specific_precedence(abc: dict[str, np.ndarray]) -> None:
    a, b, c = abc["a"], abc["b"], abc["c"]
    # TFormula_v5 splits at %, then at *: a%b*c is a%(b*c) (C would give (a%b)*c)
    assert ev("a%b*2", abc) == np.fmod(a, b * 2).astype(float).tolist()
    # <, > are looser than ==, != in ROOT: a<b==c is a<(b==c)
    assert ev("a<b==c", abc) == (a < (b == c)).astype(float).tolist()
    # shifts bind tighter than + and -
    assert ev("a<<1+1", abc) == ((a << 1) + 1).astype(float).tolist()
    assert ev("b>>1", abc) == (b >> 1).astype(float).tolist()


def test_comparisons_give_zero_or_one(abc: dict[str, np.ndarray]) -> None:
    a, b = abc["a"], abc["b"]
    for op in ["<", "<=", ">", ">=", "==", "!="]:
        expected = eval(f"(a {op} b)").astype(float).tolist()  # numpy semantics, independent of pymva
        assert ev(f"a{op}b", abc) == expected, op
    assert ev("a=<b", abc) == (a <= b).astype(float).tolist()
    assert ev("a=>b", abc) == (a >= b).astype(float).tolist()


def test_modulo_truncates_like_root(abc: dict[str, np.ndarray]) -> None:
    x = abc["x"]
    expected = np.fmod(np.trunc(x), 2.0)
    assert ev("x%2", abc) == expected.tolist()
    assert ev("7%3", abc) == [1.0] * 6
    assert ev("-7%3", abc) == [-1.0] * 6


def test_ternary_and_numbers(abc: dict[str, np.ndarray]) -> None:
    a = abc["a"]
    assert ev("a>2 ? a : -1", abc) == np.where(a > 2, a, -1).astype(float).tolist()
    assert ev("1e-3", abc) == [0.001] * 6
    assert ev("2.5E2 + .5 + 3.", abc) == [253.5] * 6
    assert ev("0x1F", abc) == [31.0] * 6
    assert ev("pi", abc) == [math.pi] * 6
    assert ev("  a  +\t1 ", abc) == (a + 1).astype(float).tolist()


def test_division_by_zero_is_zero_as_in_ttreeformula(abc: dict[str, np.ndarray]) -> None:
    a, c = abc["a"].astype(float), abc["c"].astype(float)
    expected = [ai / ci if ci != 0 else 0.0 for ai, ci in zip(a, c, strict=True)]
    assert ev("a/c", abc) == expected


# --------------------------------------------------------------------------------------------------
# functions
# --------------------------------------------------------------------------------------------------

U = np.array([0.1, 0.25, 0.5, 0.75, 0.9])  # inside every domain used below
G = np.array([1.5, 2.0, 3.0, 7.25, 10.0])  # > 1
S = np.array([-2.5, -0.5, 0.0, 0.5, 2.5])  # signed

ONE_ARG = {
    "abs": (S, np.abs),
    "fabs": (S, np.abs),
    "sqrt": (G, np.sqrt),
    "exp": (S, np.exp),
    "log": (G, np.log),
    "log10": (G, np.log10),
    "log2": (G, np.log2),
    "sin": (S, np.sin),
    "cos": (S, np.cos),
    "tan": (S, np.tan),
    "asin": (U, np.arcsin),
    "acos": (U, np.arccos),
    "atan": (S, np.arctan),
    "sinh": (S, np.sinh),
    "cosh": (S, np.cosh),
    "tanh": (S, np.tanh),
    "asinh": (S, np.arcsinh),
    "acosh": (G, np.arccosh),
    "atanh": (U, np.arctanh),
    "floor": (S, np.floor),
    "ceil": (S, np.ceil),
    "trunc": (S, np.trunc),
    "int": (S, np.trunc),
    "sq": (S, np.square),
    "cbrt": (S, np.cbrt),
    "erf": (S, scipy.special.erf),
    "erfc": (S, scipy.special.erfc),
    "TMath::Abs": (S, np.abs),
    "TMath::Sqrt": (G, np.sqrt),
    "TMath::Exp": (S, np.exp),
    "TMath::Log": (G, np.log),
    "TMath::Log10": (G, np.log10),
    "TMath::Sin": (S, np.sin),
    "TMath::Cos": (S, np.cos),
    "TMath::Tan": (S, np.tan),
    "TMath::ASin": (U, np.arcsin),
    "TMath::ACos": (U, np.arccos),
    "TMath::ATan": (S, np.arctan),
    "TMath::SinH": (S, np.sinh),
    "TMath::CosH": (S, np.cosh),
    "TMath::TanH": (S, np.tanh),
    "TMath::ASinH": (S, np.arcsinh),
    "TMath::ACosH": (G, np.arccosh),
    "TMath::ATanH": (U, np.arctanh),
    "TMath::Floor": (S, np.floor),
    "TMath::Ceil": (S, np.ceil),
    "TMath::Sq": (S, np.square),
    "TMath::Erf": (S, scipy.special.erf),
    "std::sqrt": (G, np.sqrt),
    "std::abs": (S, np.abs),
}

TWO_ARGS = {
    "atan2": np.arctan2,
    "TMath::ATan2": np.arctan2,
    "pow": np.power,
    "TMath::Power": np.power,
    "min": np.minimum,
    "max": np.maximum,
    "TMath::Min": np.minimum,
    "TMath::Max": np.maximum,
    "fmod": np.fmod,
    "hypot": np.hypot,
    "TMath::Hypot": np.hypot,
    "TMath::Sign": np.copysign,
    "copysign": np.copysign,
}


@pytest.mark.parametrize("name", sorted(ONE_ARG))
def test_one_argument_functions_match_numpy(name: str) -> None:
    x, ref = ONE_ARG[name]
    got = np.array(ev(f"{name}(x)", {"x": x}))
    np.testing.assert_allclose(got, ref(x), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("name", sorted(TWO_ARGS))
def test_two_argument_functions_match_numpy(name: str) -> None:
    x = np.array([0.5, 1.5, 2.0, 3.0, 0.25])
    y = np.array([-1.0, 2.0, 0.5, 3.0, 4.0])
    got = np.array(ev(f"{name}(x, y)", {"x": x, "y": y}))
    np.testing.assert_allclose(got, TWO_ARGS[name](x, y), rtol=1e-14)


def test_constants_and_misc_functions() -> None:
    d = {"x": np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])}
    assert ev("TMath::Pi()", d) == [math.pi] * 6
    assert ev("TMath::TwoPi()", d) == [2 * math.pi] * 6
    assert ev("TMath::E()", d) == [math.e] * 6
    assert ev("TMath::C()", d) == [299792458.0] * 6
    assert ev("TMath::Sqrt2()", d) == [math.sqrt(2)] * 6
    # C round() rounds halves away from zero, TMath::Nint to the even neighbour
    assert ev("round(x)", d) == [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0]
    assert ev("TMath::Nint(x)", d) == np.rint(d["x"]).tolist()
    assert ev("sign(x)", d) == np.where(d["x"] < 0, -1.0, 1.0).tolist()
    assert ev("sign(0)", d) == [1.0] * 6
    gaus = np.exp(-0.5 * ((d["x"] - 1.0) / 2.0) ** 2)
    np.testing.assert_allclose(ev("TMath::Gaus(x, 1, 2)", d), gaus, rtol=1e-15)
    np.testing.assert_allclose(
        ev("TMath::Gaus(x, 1, 2, 1)", d), gaus / (math.sqrt(2 * math.pi) * 2.0), rtol=1e-14
    )
    assert ev("TMath::IsNaN(log(x))", d) == [0.0] * 6
    assert ev("TMath::IsNaN(TMath::Log(x))", d) == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_root_builtin_guards_differ_from_tmath() -> None:
    """ROOT's own function names carry TTreeFormula's guards; TMath:: and std:: do not."""
    d = {"x": np.array([-4.0, 0.0, 2.0, 800.0, -800.0])}
    assert ev("sqrt(x)", d)[:3] == [2.0, 0.0, math.sqrt(2.0)]  # sqrt(|x|)
    tm = ev("TMath::Sqrt(x)", d)
    assert math.isnan(tm[0])
    assert tm[1:3] == [0.0, math.sqrt(2.0)]
    assert ev("log(x)", d)[:3] == [0.0, 0.0, math.log(2.0)]  # log(x<=0) is 0
    tl = ev("TMath::Log(x)", d)
    assert math.isnan(tl[0])
    assert tl[1] == -math.inf
    assert ev("exp(x)", d)[3:] == [math.exp(700), 0.0]  # clamped at +-700
    assert ev("std::exp(x)", d)[3] == math.inf
    d2 = {"x": np.array([-2.0, 2.0])}
    assert ev("acos(x)", d2) == [0.0, 0.0]
    assert ev("asin(x)", d2) == [0.0, 0.0]
    # TMath::ASin/ACos are std::asin/acos in ROOT 6: NaN outside [-1, 1] (checked against ROOT)
    assert all(math.isnan(v) for v in ev("TMath::ACos(x)", d2))
    assert all(math.isnan(v) for v in ev("TMath::ASin(x)", d2))


def test_bool_results_feed_arithmetic() -> None:
    d = {"x": np.array([-1.0, 0.5, 2.0])}
    assert ev("x*(x>0)", d) == [-0.0, 0.5, 2.0]
    assert ev("(x>0)+(x>1)", d) == [0.0, 1.0, 2.0]


# --------------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "caret_at", "fragment"),
    [
        ("a + * b", 4, "unexpected '*'"),
        ("a +", 3, "unexpected end"),
        ("(a + b", 6, "unexpected end"),
        ("a $ b", 2, "unexpected character '$'"),
        ("x = 1", 2, "unexpected character '='"),
        ("foo(x)", 0, "unknown function 'foo'"),
        ("1 + TMath::Sqr(x)", 4, "did you mean 'TMath::Sq"),
        ("sqrt(x, y)", 0, "takes 1 argument"),
        ("TMath::Pi", 0, "TMath::Pi()"),
        ('x + "abc"', 4, "string constant"),
        ("Entry$ > 3", 0, "not supported"),
        ("x[-1]", 2, "invalid index"),
    ],
)
def test_parse_errors_show_a_caret(text: str, caret_at: int, fragment: str) -> None:
    with pytest.raises(DataError) as info:
        Formula(text)
    msg = str(info.value)
    assert fragment in msg
    lines = msg.splitlines()
    assert lines[-2] == "    " + text
    assert lines[-1] == "    " + " " * caret_at + "^"


def test_empty_and_non_string() -> None:
    with pytest.raises(DataError, match="empty"):
        Formula("  ")
    with pytest.raises(DataError, match="must be a string"):
        Formula(3)  # type: ignore[arg-type]


def test_unknown_branch_suggests_closest() -> None:
    d = {"Muon_Px": np.zeros(2), "Muon_Py": np.zeros(2), "NJet": np.zeros(2)}
    with pytest.raises(DataError) as info:
        Formula("Muon_Pz*2").evaluate(d)
    msg = str(info.value)
    assert "'Muon_Pz'" in msg
    assert "did you mean" in msg
    assert "'Muon_Px'" in msg


def test_branches_of_different_lengths() -> None:
    with pytest.raises(DataError, match="different numbers of entries"):
        Formula("a+b").evaluate({"a": np.zeros(2), "b": np.zeros(3)})


def test_constant_expression_needs_entries() -> None:
    assert ev("1+1", {"a": np.zeros(3)}) == [2.0, 2.0, 2.0]
    with pytest.raises(DataError, match="number of entries"):
        Formula("1").evaluate({})


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_raises_only_data_error(text: str) -> None:
    try:
        f = Formula(text)
    except DataError:
        return
    # what parses evaluates to one value per entry, or raises DataError (e.g. an unknown branch)
    try:
        out = f.evaluate({"x": np.array([0.5, -1.0, 2.0])})
    except DataError:
        return
    assert len(out) == 3


_TOKENS = st.sampled_from(
    [
        "a", "b", "c", "v", "1", "0", "2.5", "1e3", "+", "-", "*", "/", "%", "^", "**", "&&", "||",
        "&", "|", "!", "<", ">", "<=", ">=", "==", "!=", "<<", ">>", "(", ")", "[", "]", "?", ":",
        ",", "sqrt(", "TMath::Log(", "Alt$(", "Sum$(", "Length$(", "max(", "v[0]", "v[a]", "pi",
        '"s"', "s",
    ]
)  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_TOKENS, min_size=1, max_size=14))
def test_token_soup_parses_and_evaluates_or_raises_data_error(tokens: list[str]) -> None:
    text = " ".join(tokens)
    arrays = {
        "a": np.array([0.0, 1.0, -2.0, np.nan]),
        "b": np.array([3, 0, 1, 2], dtype=np.int32),
        "c": np.array([True, False, True, False]),
        "v": ak.Array([[1.0, 2.0], [], [3.0], [4.0, 5.0, 6.0]]),
        "s": ak.Array(["x", "s", "y", "s"]),
    }
    try:
        out = Formula(text).evaluate(arrays)
    except DataError:
        return
    assert len(out) == 4


# --------------------------------------------------------------------------------------------------
# input types
# --------------------------------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["n", "b", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8"])
def test_every_scalar_type(sample: ak.Array, name: str) -> None:
    expected = np.asarray(ak.to_numpy(sample[name]), dtype=np.float64)
    got = Formula(f"{name}").evaluate(sample)
    assert str(ak.type(got)) == "30 * float64"
    assert got.tolist() == expected.tolist()
    assert ev(f"{name}*2+1", sample) == (expected * 2 + 1).tolist()


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["b", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8"])
def test_every_array_type(sample: ak.Array, name: str) -> None:
    fixed = np.asarray(ak.to_numpy(sample[f"a{name}"]), dtype=np.float64)  # (30, 3)
    for k in range(3):
        assert ev(f"a{name}[{k}]", sample) == fixed[:, k].tolist()
    assert ev(f"a{name}", sample) == fixed.tolist()
    with pytest.raises(DataError, match="fixed"):
        Formula(f"a{name}[3]").evaluate(sample)
    jag = sample[f"A{name}"]
    assert ev(f"A{name}", sample) == ak.values_astype(jag, np.float64).tolist()
    first = ak.firsts(jag, axis=1)
    assert ev(f"A{name}[0]", sample) == [None if v is None else float(v) for v in first.tolist()]


@pytest.mark.realdata
def test_bool_branches_read_as_zero_or_one(sample: ak.Array, hzz: ak.Array) -> None:
    b = ak.to_numpy(sample["b"])
    assert ev("b", sample) == b.astype(float).tolist()
    assert ev("!b", sample) == (~b).astype(float).tolist()
    assert ev("triggerIsoMu24+1", hzz)[:3] == (ak.to_numpy(hzz["triggerIsoMu24"][:3]) + 1.0).tolist()
    assert ev("Jet_ID", hzz) == ak.values_astype(hzz["Jet_ID"], np.float64).tolist()


@pytest.mark.realdata
def test_string_branch(sample: ak.Array) -> None:
    with pytest.raises(DataError) as info:
        Formula("str > 1").evaluate(sample)
    assert "'str'" in str(info.value)
    assert "string" in str(info.value)
    with pytest.raises(DataError, match="'str'"):
        build_events(sample, [("Input", Formula("str"))])
    strings = sample["str"].tolist()
    assert ev('str=="hey-3"', sample) == [float(s == "hey-3") for s in strings]
    assert ev('str!="hey-3" && n>2', sample) == [
        float(s != "hey-3" and n > 2) for s, n in zip(strings, sample["n"].tolist(), strict=True)
    ]


def test_mapping_numpy_pandas_and_record_inputs_agree() -> None:
    import pandas as pd

    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    y = np.array([1, 0, 1], dtype=np.uint8)
    expected = [2.0, 0.0, 6.0]
    assert ev("x*2*y", {"x": x, "y": y}) == expected
    assert ev("x*2*y", pd.DataFrame({"x": x, "y": y})) == expected
    assert ev("x*2*y", ak.Array({"x": x, "y": y})) == expected
    assert ev("x*2*y", {"x": ak.Array(x), "y": list(y)}) == expected


def test_dotted_branch_names() -> None:
    f = Formula("jet.pt*2 + evt.n")
    assert f.branches == frozenset({"jet.pt", "evt.n"})
    assert f.evaluate({"jet.pt": np.array([1.0]), "evt.n": np.array([3])}).tolist() == [5.0]


def test_only_named_branches_are_read() -> None:
    class Guard(dict):  # type: ignore[type-arg]
        def __getitem__(self, key: str) -> object:
            if key == "secret":
                raise AssertionError("read a branch the expression does not name")
            return super().__getitem__(key)

    d = Guard(x=np.arange(3.0), secret=np.arange(3.0))
    assert Formula("x+1").branches == frozenset({"x"})
    assert ev("x+1", d) == [1.0, 2.0, 3.0]
    assert Formula("TMath::Max(a, Alt$(v[2], b))").branches == frozenset({"a", "v", "b"})


# --------------------------------------------------------------------------------------------------
# jagged arrays: indexing, special functions, broadcasting
# --------------------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_index_is_per_event(hzz: ak.Array) -> None:
    px = hzz["Muon_Px"]
    first = ak.firsts(px, axis=1)  # None where an event has no muon
    got = ev("Muon_Px[0]", hzz)
    assert got == [None if v is None else float(np.float32(v)) for v in first.tolist()]
    assert got[0] != got[1]  # not the first event repeated
    second = ak.pad_none(px, 2, axis=1)[:, 1]
    assert ev("Muon_Px[1]", hzz) == [None if v is None else float(v) for v in second.tolist()]
    counts = ak.to_numpy(ak.num(px, axis=1))
    got_last = ev("Muon_Px[NMuon-1]", hzz)
    flat = ak.to_numpy(ak.flatten(px)).astype(np.float64)
    ends = np.cumsum(counts)
    for i in range(50):
        # a computed index out of range is NaN in ROOT (one instance), not "no instance"
        if counts[i] > 0:
            assert got_last[i] == flat[ends[i] - 1]
        else:
            assert math.isnan(got_last[i])


@pytest.mark.realdata
def test_alt(hzz: ak.Array) -> None:
    second = ak.pad_none(hzz["Muon_Px"], 2, axis=1)[:, 1]
    expected = [-99.0 if v is None else float(v) for v in second.tolist()]
    assert ev("Alt$(Muon_Px[1], -99)", hzz) == expected
    assert ev("Alt$(Muon_Px[1], NMuon)", hzz) == [
        float(n) if v is None else float(v)
        for v, n in zip(second.tolist(), hzz["NMuon"].tolist(), strict=True)
    ]


@pytest.mark.realdata
def test_reductions(hzz: ak.Array) -> None:
    px = ak.values_astype(hzz["Muon_Px"], np.float64)
    assert ev("Length$(Muon_Px)", hzz) == ak.num(px, axis=1).tolist()
    np.testing.assert_allclose(ev("Sum$(Muon_Px)", hzz), ak.sum(px, axis=1).tolist(), rtol=1e-12)
    # Min$/Max$ of an empty list are 0, as in ROOT
    assert ev("Min$(Muon_Px)", hzz) == ak.fill_none(ak.min(px, axis=1), 0.0).tolist()
    assert ev("Max$(Muon_Px)", hzz) == ak.fill_none(ak.max(px, axis=1), 0.0).tolist()
    pos = px[px > 0]
    assert ev("MinIf$(Muon_Px, Muon_Px>0)", hzz) == ak.fill_none(ak.min(pos, axis=1), 0.0).tolist()
    assert ev("MaxIf$(Muon_Px, Muon_Px>0)", hzz) == ak.fill_none(ak.max(pos, axis=1), 0.0).tolist()
    np.testing.assert_allclose(ev("Sum$(Muon_Px>0)", hzz), ak.sum(px > 0, axis=1).tolist())
    # on single values: one value per entry, none where missing
    assert ev("Length$(NMuon)", hzz) == [1.0] * len(hzz)
    assert ev("Length$(Muon_Px[1])", hzz) == (ak.num(px, axis=1) > 1).tolist()
    assert ev("Sum$(Muon_Px[1])", hzz) == ak.fill_none(ak.pad_none(px, 2, axis=1)[:, 1], 0.0).tolist()


def test_reductions_nan_handling() -> None:
    v = ak.Array([[np.nan, 1.0, 2.0], [3.0, np.nan, 1.0], []])
    got = ev("Min$(v)", {"v": v})
    assert math.isnan(got[0])
    assert got[1:] == [1.0, 0.0]
    assert ev("Max$(v)", {"v": v})[1] == 3.0


@pytest.mark.realdata
def test_unindexed_jagged_is_multivalued(hzz: ak.Array) -> None:
    px = ak.values_astype(hzz["Muon_Px"], np.float64)
    py = ak.values_astype(hzz["Muon_Py"], np.float64)
    n = ak.values_astype(hzz["NMuon"], np.float64)
    assert ev("Muon_Px*2 + NMuon", hzz) == (px * 2 + n).tolist()
    assert ev("sqrt(Muon_Px^2+Muon_Py^2)", hzz) == np.sqrt(px**2 + py**2).tolist()
    assert ev("Muon_Px > 0", hzz) == ak.values_astype(px > 0, np.float64).tolist()
    # an entry without muons has no values (awkward would say None, ROOT has zero instances)
    diff = ak.fill_none(px - ak.firsts(px, axis=1), [], axis=0)
    assert ev("Muon_Px - Muon_Px[0]", hzz) == diff.tolist()


@pytest.mark.realdata
def test_jagged_of_different_lengths_follow_roots_count(hzz: ak.Array) -> None:
    # ROOT (TTreeFormula::LoadCurrentDim): the shorter length, except that a first array of exactly
    # one element is overridden by the next one; elements past an array's end read as NaN
    px = ak.values_astype(hzz["Muon_Px"], np.float64).tolist()
    jx = ak.values_astype(hzz["Jet_Px"], np.float64).tolist()
    expected = []
    for p, j in zip(px, jx, strict=True):
        n = len(j) if len(p) == 1 else min(len(p), len(j))
        expected.append(
            [(p[k] if k < len(p) else math.nan) + (j[k] if k < len(j) else math.nan) for k in range(n)]
        )
    got = ev("Muon_Px + Jet_Px", hzz)
    assert [len(g) for g in got] == [len(e) for e in expected]
    flat_got = np.array([x for g in got for x in g])
    flat_exp = np.array([x for e in expected for x in e])
    np.testing.assert_array_equal(flat_got, flat_exp)  # NaN where NaN
    assert np.isnan(flat_exp).any()  # the file has events with one muon and two jets


def test_jagged_count_rule_on_three_arrays() -> None:
    # lengths (1, 3, 2): 1 is overridden by 3, then 2 is shorter -> 2 instances
    d = {"a": ak.Array([[1.0], [1.0, 2.0, 3.0]]), "b": ak.Array([[10.0, 20.0, 30.0], [10.0]]),
         "c": ak.Array([[100.0, 200.0], [100.0, 200.0]])}  # fmt: skip
    got = ev("a+b+c", d)
    assert got[0][0] == 111.0
    assert math.isnan(got[0][1])
    assert len(got[0]) == 2
    # (3, 1, 2): 3 -> 1 -> overridden by 2
    assert len(got[1]) == 2
    # the same arrays in another order give another count, as in ROOT
    assert [len(g) for g in ev("c+b+a", d)] == [1, 3]
    # a right-grouped operator counts in text order too: a*(b*c) has the lengths of a, b, c
    assert [len(g) for g in ev("a*b*c", d)] == [2, 2]


def test_missing_values_and_short_circuit() -> None:
    d = {"v": ak.Array([[5.0], [], [20.0, 1.0]]), "n": np.array([1, 0, 2])}
    assert ev("v[0]", d) == [5.0, None, 20.0]
    assert ev("v[0] + 1", d) == [6.0, None, 21.0]
    # a constant index past the end leaves no instance, even where && or ?: would not read it
    assert ev("n>0 && v[0]>10", d) == [0.0, None, 1.0]
    assert ev("n==0 || v[0]>10", d) == [0.0, None, 1.0]
    assert ev("n>0 ? v[0] : -1", d) == [5.0, None, 20.0]
    assert ev("v[5]", d) == [None, None, None]
    # a computed index out of range gives NaN, which no operator turns into a number ...
    for text in ("v[n]", "v[n]>0", "!v[n]", "(v[n]>0) || 1"):
        assert all(math.isnan(x) for x in ev(text, d)), text
    # ... except where && / || / ?: do not read it
    assert ev("1 || v[n]>0", d) == [1.0, 1.0, 1.0]
    assert ev("n>5 && v[n]>0", d) == [0.0, 0.0, 0.0]
    got = ev("v[n-1]", d)
    assert got[0] == 5.0
    assert math.isnan(got[1])
    assert got[2] == 1.0
    assert ev("v[]", d) == d["v"].tolist()
    # Alt$ replaces what does not exist, without cancelling
    assert ev("Alt$(v[1], -1)", d) == [-1.0, -1.0, 1.0]
    assert ev("Length$(v[1])", d) == [0.0, 0.0, 1.0]


def test_multi_dimensional_arrays() -> None:
    m = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4)
    d = {"m": m, "j": ak.Array([[[1.0, 2.0], [3.0]], [[4.0]]])}
    assert ev("m[1][2]", d) == m[:, 1, 2].tolist()
    assert ev("m[1]", d) == m[:, 1, :].tolist()
    assert ev("m[][2]", d) == m[:, :, 2].tolist()
    assert ev("m", d) == m.reshape(2, 12).tolist()
    with pytest.raises(DataError, match="fixed size"):
        Formula("m[0][4]").evaluate(d)
    assert ev("j[0][1]", d) == [2.0, None]
    assert ev("j", d) == [[1.0, 2.0, 3.0], [4.0]]


def test_pickle_and_cache() -> None:
    f = parse_formula("a+1")
    assert parse_formula("a+1") is f
    g = pickle.loads(pickle.dumps(f))
    assert g == f
    assert g.branches == f.branches
    assert g.evaluate({"a": np.array([1.0])}).tolist() == [2.0]


# --------------------------------------------------------------------------------------------------
# event building
# --------------------------------------------------------------------------------------------------


def test_build_events_scalars_cut_and_weight() -> None:
    d: dict[str, Any] = {
        "x": np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype=np.float32),
        "y": np.array([5, 4, 3, 2, 1], dtype=np.int16),
        "w": np.array([0.5, 1.0, np.nan, 2.0, 4.0]),
        "c": np.array([0.49, 0.5, 1.0, 0.0, 7.0]),
    }
    blk = build_events(
        d,
        [("Input", Formula("x")), ("Input", Formula("x*y")), ("Target", Formula("y"))],
        weight=Formula("w"),
        cut=Formula("c"),
    )
    assert isinstance(blk, EventBlock)
    sel = np.array([1, 2, 4])  # c < 0.5 rejects, 0.5 passes
    x, y = d["x"].astype(float), d["y"].astype(float)
    np.testing.assert_array_equal(blk.values, np.column_stack([x, x * y, y])[sel])
    assert blk.values.dtype == np.float64
    assert blk.weights.dtype == np.float64
    assert blk.entry.tolist() == sel.tolist()
    assert blk.entry.dtype == np.int64
    np.testing.assert_array_equal(blk.weights, d["w"][sel])
    assert blk.n_candidates == 5
    assert blk.sumw_candidates == 0.5 + 1.0 + 2.0 + 4.0  # NaN weight skipped
    assert blk.nan_selected == {("Weight", "w"): (1, 0)}
    assert blk.nan_rejected == {}
    assert blk.n_entries_missing == 0


def test_build_events_without_weight_and_cut() -> None:
    d = {"x": np.arange(4.0)}
    blk = build_events(d, [("Input", Formula("x")), ("Spectator", Formula("2"))])
    np.testing.assert_array_equal(blk.values, np.column_stack([np.arange(4.0), np.full(4, 2.0)]))
    np.testing.assert_array_equal(blk.weights, np.ones(4))
    assert blk.n_candidates == 4
    assert blk.sumw_candidates == 4.0


@pytest.mark.realdata
def test_build_events_flattens_jagged_inputs(hzz: ak.Array) -> None:
    blk = build_events(
        hzz,
        [("Input", Formula("Muon_Px")), ("Input", Formula("NMuon")), ("Spectator", Formula("Muon_Py"))],
        weight=Formula("EventWeight"),
        cut=Formula("Muon_Px > 0"),
    )
    px = ak.values_astype(hzz["Muon_Px"], np.float64)
    py = ak.values_astype(hzz["Muon_Py"], np.float64)
    nm, w = ak.broadcast_arrays(hzz["NMuon"], hzz["EventWeight"], px)[:2]
    ent = ak.broadcast_arrays(np.arange(len(hzz)), px)[0]
    flat = {
        k: ak.to_numpy(ak.flatten(v)).astype(np.float64)
        for k, v in {"px": px, "py": py, "nm": nm, "w": w}.items()
    }
    flat_ent = ak.to_numpy(ak.flatten(ent))
    keep = flat["px"] > 0
    np.testing.assert_array_equal(blk.values, np.column_stack([flat["px"], flat["nm"], flat["py"]])[keep])
    np.testing.assert_array_equal(blk.weights, flat["w"][keep])
    np.testing.assert_array_equal(blk.entry, flat_ent[keep])
    assert blk.n_candidates == int(ak.sum(ak.num(px, axis=1)))
    np.testing.assert_allclose(blk.sumw_candidates, flat["w"].sum(), rtol=1e-12)
    assert blk.n_entries_missing == 0


@pytest.mark.realdata
def test_build_events_missing_index_drops_the_entry(hzz: ak.Array) -> None:
    blk = build_events(hzz, [("Input", Formula("Muon_Px[1]")), ("Input", Formula("Muon_Px[0]"))])
    px = ak.values_astype(hzz["Muon_Px"], np.float64)
    has2 = ak.to_numpy(ak.num(px, axis=1) >= 2)
    assert blk.n_entries_missing == int((~has2).sum())
    assert blk.entry.tolist() == np.flatnonzero(has2).tolist()
    np.testing.assert_array_equal(blk.values[:, 0], ak.to_numpy(px[has2][:, 1]))
    np.testing.assert_array_equal(blk.values[:, 1], ak.to_numpy(px[has2][:, 0]))
    assert blk.n_candidates == int(has2.sum())
    # with Alt$ nothing is dropped
    blk2 = build_events(hzz, [("Input", Formula("Alt$(Muon_Px[1],0)"))])
    assert blk2.n_entries_missing == 0
    assert len(blk2.entry) == len(hzz)


@pytest.mark.realdata
def test_build_events_mixed_lengths_is_an_error(hzz: ak.Array) -> None:
    with pytest.raises(DataError) as info:
        build_events(hzz, [("Input", Formula("Muon_Px")), ("Input", Formula("Jet_Px"))])
    msg = str(info.value)
    assert "'Muon_Px'" in msg
    assert "'Jet_Px'" in msg


def test_build_events_length_one_broadcasts_and_other_kinds_are_indexed() -> None:
    d = {
        "a": ak.Array([[1.0, 2.0, 3.0], [4.0], [5.0, 6.0], []]),
        "b": ak.Array([[10.0], [20.0], [30.0, 40.0], [50.0]]),
        "t": ak.Array([[0.1, 0.2, 0.3, 0.4], [0.5], [0.6], [0.7]]),
        "n": np.array([0, 1, 2, 3]),
    }
    blk = build_events(
        d,
        [
            ("Input", Formula("a")),
            ("Input", Formula("b")),
            ("Target", Formula("t")),
            ("Spectator", Formula("n")),
        ],
    )
    # entry 0: b has one value (broadcast), t has 4 values (indexed, extra ignored)
    # entry 1: one event; entry 2: b has 2 values like a, t has only one value (broadcast)
    # entry 3: a is empty -> no event
    expected = [
        [1.0, 10.0, 0.1, 0.0],
        [2.0, 10.0, 0.2, 0.0],
        [3.0, 10.0, 0.3, 0.0],
        [4.0, 20.0, 0.5, 1.0],
        [5.0, 30.0, 0.6, 2.0],
        [6.0, 40.0, 0.6, 2.0],
    ]
    assert blk.values.tolist() == expected
    assert blk.entry.tolist() == [0, 0, 0, 1, 2, 2]
    assert blk.n_candidates == 6
    assert blk.n_entries_missing == 0
    # a target with fewer values than the entry has events: TMVA's EvalInstance(2) reads past the
    # end, which is NaN in ROOT, and a NaN in a selected event is an error
    d["t"] = ak.Array([[0.1, 0.2], [0.5], [0.6], [0.7]])
    blk = build_events(d, [("Input", Formula("a")), ("Target", Formula("t"))])
    assert blk.entry.tolist() == [0, 0, 0, 1, 2, 2]
    assert math.isnan(blk.values[2, 1])
    assert blk.nan_selected == {("Target", "t"): (1, 0)}
    assert blk.n_entries_missing == 0


@pytest.mark.realdata
def test_build_events_missing_element_follows_tmva(hzz: ak.Array) -> None:
    """DataSetFactory::BuildEventVector on formulas without instance (TTreeFormula::GetNdata() == 0)."""
    nmu = ak.to_numpy(hzz["NMuon"])
    has2 = nmu > 1
    # an input without instance gives no event, also through && and ?: (1413 events, as TMVA)
    for text in ("NMuon>1 ? Muon_Px[1] : -1", "NMuon>1 && Muon_Px[1]>10"):
        blk = build_events(hzz, [("Input", Formula(text))])
        assert blk.entry.tolist() == np.flatnonzero(has2).tolist()
        assert blk.n_candidates == int(has2.sum()) == 1413
        assert blk.n_entries_missing == int((~has2).sum())
    # a cut without instance is read with EvalInstance(0): where && does not read the element it
    # is 0 (rejected, no error) ...
    blk = build_events(hzz, [("Input", Formula("NMuon"))], cut=Formula("NMuon>1 && Muon_Px[1]>10"))
    px = ak.to_numpy(ak.pad_none(hzz["Muon_Px"], 2, axis=1)[:, 1].to_numpy(allow_missing=True).filled(0))
    assert blk.entry.tolist() == np.flatnonzero(has2 & (px > 10)).tolist()
    assert blk.nan_selected == {}
    assert blk.n_candidates == len(hzz)
    # ... and where it reads it, NaN: selected (NaN is not < 0.5) and an error
    blk = build_events(hzz, [("Input", Formula("NMuon"))], cut=Formula("Muon_Px[1]>10"))
    assert blk.nan_selected == {("Cut", "Muon_Px[1]>10"): (int((~has2).sum()), 0)}
    # a spectator or weight without instance in a selected event: NaN, an error
    blk = build_events(hzz, [("Input", Formula("NMuon")), ("Spectator", Formula("Muon_Px[1]"))])
    assert blk.nan_selected == {("Spectator", "Muon_Px[1]"): (int((~has2).sum()), 0)}
    # an input without instance next to a multi-valued input: TMVA's "different length" FATAL
    with pytest.raises(DataError, match=r"different length.*Alt\$"):
        build_events(hzz, [("Input", Formula("Muon_Px")), ("Input", Formula("Jet_Px[0]"))])


def test_build_events_jagged_cut_and_weight_with_scalar_inputs() -> None:
    d = {"x": np.array([1.0, 2.0, 3.0]), "v": ak.Array([[1.0, 0.0], [0.0], [1.0]])}
    # one event per entry: a multi-valued cut/weight is read at the event's position (element 0)
    blk = build_events(d, [("Input", Formula("x"))], weight=Formula("v*2+1"), cut=Formula("v"))
    assert blk.entry.tolist() == [0, 2]
    assert blk.weights.tolist() == [3.0, 3.0]
    assert blk.n_candidates == 3
    assert blk.sumw_candidates == 3.0 + 1.0 + 3.0


def test_build_events_nan_and_inf_bookkeeping() -> None:
    d = {
        "x": np.array([np.nan, np.nan, np.inf, 1e39, 1.0, 2.0]),
        "t": np.array([0.0, np.nan, 0.0, 0.0, 0.0, 0.0]),
        "c": np.array([1.0, 0.0, 1.0, 0.0, np.nan, -np.inf]),
        "w": np.array([1.0, 1.0, -np.inf, 1.0, 1.0, 1.0]),
    }
    blk = build_events(
        d, [("Input", Formula("x")), ("Target", Formula("t"))], weight=Formula("w"), cut=Formula("c")
    )
    # passing the cut: entries 0, 2 and 4 (NaN is not < 0.5); 1e39 overflows a float32
    assert blk.entry.tolist() == [0, 2, 4]
    assert blk.nan_selected == {
        ("Input", "x"): (1, 1),
        ("Weight", "w"): (0, 1),
        ("Cut", "c"): (1, 1),  # NaN and -inf cut values are errors whatever the outcome
    }
    assert blk.nan_rejected == {("Input", "x"): (1, 1), ("Target", "t"): (1, 0)}
    assert blk.n_candidates == 6
    assert blk.sumw_candidates == -np.inf


def test_build_events_argument_checks() -> None:
    d = {"x": np.arange(3.0)}
    with pytest.raises(DataError, match="kind"):
        build_events(d, [("Variable", Formula("x"))])
    with pytest.raises(DataError, match="unknown branch 'y'"):
        build_events(d, [("Input", Formula("x"))], cut=Formula("y>0"))


def test_array_length_check() -> None:
    d = {"v": ak.Array([[1.0, 2.0, 3.0], [1.0], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0]]), "s": np.zeros(4)}
    assert array_length_check(d, Formula("v"), 3) == (1, 1)
    assert array_length_check(d, Formula("v*2"), 1) == (0, 3)
    assert array_length_check(d, Formula("s"), 1) == (0, 0)
    assert array_length_check(d, Formula("s"), 2) == (4, 0)


@pytest.mark.realdata
def test_build_events_matches_evaluate_for_sample_types(sample: ak.Array) -> None:
    names = ["b", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]
    blk = build_events(sample, [("Input", Formula(n)) for n in names] + [("Spectator", Formula("af8[2]"))])
    expected = np.column_stack(
        [np.asarray(ak.to_numpy(sample[n]), dtype=np.float64) for n in names]
        + [np.asarray(ak.to_numpy(sample["af8"]), dtype=np.float64)[:, 2]]
    )
    np.testing.assert_array_equal(blk.values, expected)
