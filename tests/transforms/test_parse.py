"""The VarTransform chain syntax and the Factory's Transformations list."""

from __future__ import annotations

import pytest

from pymva.data.dataset import VariableInfo
from pymva.errors import OptionError
from pymva.transforms import (
    ACCEPTED_NAMES,
    InputRef,
    TransformationHandler,
    parse_chain,
    parse_transformations_list,
    split_chain,
)

VARS = [VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(3)]
TGTS = [VariableInfo("fvalue", "fvalue", "fvalue", kind="target")]
SPEC = [VariableInfo("spec1", "spec1", "spec1", kind="spectator")]
CLASSES = ["Signal", "Background"]


def _parse(spec: str, **kw: object) -> list:  # type: ignore[type-arg]
    args: dict[str, object] = {"variables": VARS, "targets": TGTS, "spectators": SPEC, "class_names": CLASSES}
    args.update(kw)
    return parse_chain(spec, **args)  # type: ignore[arg-type]


def test_split_chain_keeps_commas_in_parentheses() -> None:
    assert split_chain("N,G(var0,var1)+D") == ["N", "G(var0,var1)", "D"]
    assert split_chain(" N , , P ") == ["N", "P"]
    with pytest.raises(OptionError, match="unbalanced"):
        split_chain("G(var0,var1")
    with pytest.raises(OptionError, match="unbalanced"):
        split_chain("G)var0(")


def test_transformations_list() -> None:
    assert parse_transformations_list("I;D;P;U;G,D") == ["I", "D", "P", "U", "G,D"]
    assert parse_transformations_list(" I ; ;N ") == ["I", "N"]
    assert parse_transformations_list("") == []


@pytest.mark.parametrize(
    ("letter", "aliases"), [(letter, aliases) for letter, aliases in ACCEPTED_NAMES.items()]
)
def test_all_names_and_aliases(letter: str, aliases: tuple[str, ...]) -> None:
    for alias in (*aliases, aliases[-1].lower(), aliases[-1].upper()):
        (el,) = _parse(alias)
        assert el.letter == letter
        assert el.class_index is None


def test_none_and_empty() -> None:
    assert _parse("None") == []
    assert _parse("") == []
    assert _parse("  none ") == []
    h = TransformationHandler.parse("None", variables=VARS)
    assert h.is_identity
    assert h.short_name == "Id"
    assert len(h) == 0


def test_default_inputs() -> None:
    v = tuple(InputRef("v", i) for i in range(3))
    t = (InputRef("t", 0),)
    assert _parse("N")[0].inputs == v + t
    assert _parse("U")[0].inputs == v + t
    for name in ("D", "P", "G", "I"):
        assert _parse(name)[0].inputs == v


def test_input_selections_are_sorted_canonically() -> None:
    (el,) = _parse("G(_S_,var2,_T0_,_V0_,var2)")
    assert el.inputs == (InputRef("v", 0), InputRef("v", 2), InputRef("t", 0), InputRef("s", 0))
    (el,) = _parse("N(_V1_,fvalue)")
    assert el.inputs == (InputRef("v", 1), InputRef("t", 0))


def test_class_suffix() -> None:
    (a, b, c) = _parse("N_Signal,G_Background,D_AllClasses")
    assert (a.class_index, b.class_index, c.class_index) == (0, 1, None)
    (el,) = _parse("G_Signal(var0,var1)")
    assert el.class_index == 0
    assert len(el.inputs) == 2
    (el,) = _parse("N_my_class", class_names=["my_class", "other"])
    assert el.class_index == 0


def test_short_names() -> None:
    h = TransformationHandler.parse("G,D", variables=VARS, class_names=CLASSES)
    assert h.short_name == "Gauss_Deco"
    h = TransformationHandler.parse("I,N,P,U", variables=VARS, class_names=CLASSES)
    assert h.short_name == "Id_Norm_PCA_Uniform"
    assert not h.is_identity
    assert TransformationHandler.parse("I", variables=VARS).is_identity


def test_unknown_name_lists_accepted() -> None:
    with pytest.raises(OptionError) as info:
        _parse("N,Gaus")
    msg = str(info.value)
    assert "'Gaus' unknown" in msg
    assert "did you mean 'Gauss'" in msg
    for name in ("Identity", "Normalize", "Decorrelate", "PCA", "Uniform", "None"):
        assert name in msg
    with pytest.raises(OptionError, match="must stand alone"):
        _parse("N,None")


def test_unknown_class_lists_accepted() -> None:
    with pytest.raises(OptionError) as info:
        _parse("N_Signall")
    msg = str(info.value)
    assert "class 'Signall' not known" in msg
    assert "'Signal'" in msg
    assert "AllClasses" in msg


def test_unknown_inputs() -> None:
    with pytest.raises(OptionError) as info:
        _parse("G(var0,varx)")
    msg = str(info.value)
    assert "'varx'" in msg
    assert "_V_" in msg
    assert "var0, var1, var2" in msg
    with pytest.raises(OptionError, match="index 5"):
        _parse("G(_V5_)")
    with pytest.raises(OptionError, match="index 1"):
        _parse("N(_T1_)")


def test_selections_tmva_rejects() -> None:
    with pytest.raises(OptionError, match="at least two"):
        _parse("P(var0)")
    with pytest.raises(OptionError, match="cannot be mixed"):
        _parse("P(_V_,_T_)")
    with pytest.raises(OptionError, match="no inverse"):
        _parse("D(_V_,_T_)")
    with pytest.raises(OptionError, match="does not allow a selection"):
        _parse("I(var0)")
    # PCA of the targets alone and Decorrelate with spectators are fine
    _parse("P(_T_,_S_)", targets=[*TGTS, VariableInfo("t2", "t2", "t2", kind="target")])
    _parse("D(_V_,_S_)")


def test_parse_logs_creation(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="pymva")
    TransformationHandler.parse(
        "N_Signal,G", variables=VARS, class_names=CLASSES, method_title="PyTorch", dataset_name="dataset"
    )
    text = caplog.text
    assert '[dataset] : Create Transformation "N" with reference class Signal=(0)' in text
    assert 'Create Transformation "G" with events from all classes.' in text
    assert "Input : variable 'var0' <---> Output : variable 'var0'" in text
