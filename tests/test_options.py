"""TMVA's option-string grammar (core.md §1) against hand-written expectations."""

from __future__ import annotations

import logging
from dataclasses import FrozenInstanceError, dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymva.errors import OptionError
from pymva.options import (
    OptionsBase,
    format_option_value,
    kwargs_to_tokens,
    option,
    parse_option_string,
    positive,
)


@dataclass(frozen=True)
class Demo(OptionsBase):
    component_name = "method Demo"

    V: bool = option(False, "verbose")
    H: bool = option(False, "help")
    NumEpochs: int = option(10, "epochs", check=positive)
    LearningRate: float = option(0.5, "rate")
    SplitMode: str = option("Random", "split", allowed=("Random", "Alternate", "Block"))
    MixMode: str = option(
        "SameAsSplitMode", "mix", allowed=("SameAsSplitMode", "Random", "Alternate", "Block")
    )
    VarTransform: str = option("None", "chain")
    Layers: tuple[int, ...] = option((1, 2, 3), "array option", size=3)


def test_defaults_and_types() -> None:
    o = Demo.parse("")
    assert (o.V, o.H, o.NumEpochs, o.LearningRate, o.SplitMode) == (False, False, 10, 0.5, "Random")
    assert o.modified_options == frozenset()
    assert isinstance(o.NumEpochs, int)
    assert isinstance(o.LearningRate, float)


def test_options_object_is_frozen() -> None:
    o = Demo.parse("")
    with pytest.raises(FrozenInstanceError):
        o.NumEpochs = 3  # type: ignore[misc]


def test_names_are_case_insensitive_and_stored_with_declared_spelling() -> None:
    o = Demo.parse("numepochs=20:LEARNINGRATE=0.25:h")
    assert o.NumEpochs == 20
    assert o.LearningRate == 0.25
    assert o.H is True
    assert o.modified_options == {"NumEpochs", "LearningRate", "H"}


def test_bare_and_negated_booleans_and_leading_colon() -> None:
    o = Demo.parse(":H:!V::")
    assert o.H is True
    assert o.V is False
    assert "V" in o.modified_options


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", True),
        ("TRUE", True),
        ("kTrue", True),
        ("t", True),
        ("0", False),
        ("False", False),
        ("kFALSE", False),
        ("F", False),
    ],
)
def test_boolean_spellings(text: str, value: bool) -> None:
    assert Demo.parse(f"H={text}").H is value


def test_bad_boolean_is_an_option_error() -> None:
    with pytest.raises(OptionError, match="can not be interpreted as boolean"):
        Demo.parse("H=yes")


def test_predefined_values_match_case_insensitively_and_become_canonical() -> None:
    assert Demo.parse("SplitMode=block").SplitMode == "Block"


def test_unknown_predefined_value_lists_accepted_ones() -> None:
    with pytest.raises(OptionError, match=r"does not have predefined value.*Random, Alternate, Block"):
        Demo.parse("SplitMode=Blokk")


def test_bare_predefined_value_selects_first_option_that_accepts_it() -> None:
    o = Demo.parse("Alternate")
    assert o.SplitMode == "Alternate"
    assert o.MixMode == "SameAsSplitMode"


def test_repeated_option_warns_and_last_wins(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pymva"):
        o = Demo.parse("NumEpochs=3:NumEpochs=4")
    assert o.NumEpochs == 4
    assert any("previously set to 3" in r.getMessage() for r in caplog.records)


def test_array_options() -> None:
    assert Demo.parse("Layers[1]=7").Layers == (1, 7, 3)
    assert Demo.parse("Layers=5").Layers == (5, 5, 5)
    with pytest.raises(OptionError, match="out of range"):
        Demo.parse("Layers[3]=1")
    with pytest.raises(OptionError, match="is not an array"):
        Demo.parse("NumEpochs[0]=1")


def test_negating_a_non_boolean_is_an_error() -> None:
    with pytest.raises(OptionError, match="Negating a non-boolean variable NumEpochs"):
        Demo.parse("!NumEpochs")


def test_unused_tokens_are_all_reported_with_suggestions() -> None:
    with pytest.raises(OptionError) as info:
        Demo.parse("NumEpoch=3:H:Foo=1:!Verbos")
    msg = str(info.value)
    assert "'NumEpoch=3:Foo=1:!Verbos'" in msg
    assert "method Demo" in msg
    assert "did you mean 'NumEpochs'" in msg


def test_value_checks_and_number_errors() -> None:
    with pytest.raises(OptionError, match="greater than zero"):
        Demo.parse("NumEpochs=0")
    with pytest.raises(OptionError, match="not an integer"):
        Demo.parse("NumEpochs=10abc")
    with pytest.raises(OptionError, match="not a number"):
        Demo.parse("LearningRate=fast")
    assert Demo.parse("NumEpochs=1e2").NumEpochs == 100


def test_keyword_arguments_equal_tokens_and_combine_with_the_string() -> None:
    a = Demo.parse("H:!V:NumEpochs=20:VarTransform=D,G")
    b = Demo.parse(H=True, V=False, NumEpochs=20, VarTransform="D,G")
    c = Demo.parse("H:!V", numepochs=20, VarTransform="D,G")
    assert a == b == c
    assert Demo.parse("NumEpochs=5", NumEpochs=6).NumEpochs == 6


def test_list_keyword_joins_with_semicolon() -> None:
    assert kwargs_to_tokens({"Transformations": ["I", "D"], "H": True, "V": False, "N": 3}) == [
        "Transformations=I;D",
        "H",
        "!V",
        "N=3",
    ]
    assert Demo.parse(VarTransform=["I", "D"]).VarTransform == "I;D"


def test_unknown_keyword_is_an_option_error() -> None:
    with pytest.raises(OptionError, match="did you mean 'NumEpochs'"):
        Demo.parse(NumEpoch=3)


def test_round_trip_through_option_string() -> None:
    o = Demo.parse("H:NumEpochs=7:LearningRate=0.1:SplitMode=Block:Layers[2]=9")
    assert Demo.parse(o.to_option_string()) == o


def test_xml_value_formats() -> None:
    decls = {d.name: d for d in Demo.declarations()}
    assert format_option_value(decls["LearningRate"], 0.5) == "5.000000e-01"
    assert format_option_value(decls["H"], True) == "True"
    assert format_option_value(decls["NumEpochs"], 20) == "20"
    assert format_option_value(decls["Layers"], (1, 2, 3)) == "1 2 3"


def test_parse_option_string_with_dynamic_declarations() -> None:
    from pymva.options import OptionDecl

    decls = [OptionDecl("nTrain_Signal", int, 0), OptionDecl("nTrain_Background", int, 0)]
    values, modified = parse_option_string(decls, "ntrain_signal=100", component="split")
    assert values == {"nTrain_Signal": 100, "nTrain_Background": 0}
    assert modified == {"nTrain_Signal"}


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_any_string_raises_only_option_error(text: str) -> None:
    try:
        o = Demo.parse(text)
    except OptionError:
        return
    # whatever parses is written back to a string that parses to the same options
    assert Demo.parse(o.to_option_string()) == o


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["H", "!V", "V", "!H", "Random", "Block", "numepochs", "!SplitMode", "Layers"]),
            st.builds(
                lambda n, v: f"{n}={v}",
                st.sampled_from(["NumEpochs", "LearningRate", "SplitMode", "Layers", "H", "Layers[1]", "x"]),
                st.text(alphabet="0123456789.-eE+abc[]!= ", max_size=8),
            ),
        ),
        max_size=6,
    )
)
def test_token_soup_raises_only_option_error(tokens: list[str]) -> None:
    try:
        o = Demo.parse(":".join(tokens))
    except OptionError:
        return
    assert Demo.parse(o.to_option_string()) == o
    # the last bare H / !H token decides H (a later H=... token may override it)
    flags = [t for t in tokens if t in ("H", "!H") or t.startswith("H=")]
    if flags and flags[-1] in ("H", "!H"):
        assert o.H is (flags[-1] == "H")


def test_keyword_value_with_colons_carries_further_tokens() -> None:
    """ROOT's pythonization joins keyword arguments with ':' (TMVA_Higgs_Classification.py books
    ``PDFInterpol="Spline2:NSmoothSig[0]=20"``)."""
    from pymva.options import OptionDecl, parse_option_string

    decls = [
        OptionDecl("Mode", str, "a", allowed=("a", "b")),
        OptionDecl("N", int, 0),
        OptionDecl("V", bool, False),
    ]
    values, modified = parse_option_string(decls, "", {"Mode": "b:N=3:V"}, component="test")
    assert values == {"Mode": "b", "N": 3, "V": True}
    assert modified == {"Mode", "N", "V"}
