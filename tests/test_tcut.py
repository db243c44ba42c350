"""TCut combines as ROOT's TCut does."""

from __future__ import annotations

from pymva import TCut


def test_tcut_is_a_string() -> None:
    c = TCut(" x>0 ")
    assert isinstance(c, str)
    assert c == "x>0"
    assert c.GetTitle() == "x>0"


def test_add_and_and_give_logical_and() -> None:
    assert TCut("x>0") + TCut("y<1") == "(x>0)&&(y<1)"
    assert TCut("x>0") & "y<1" == "(x>0)&&(y<1)"
    assert "y<1" + TCut("x>0") == "(y<1)&&(x>0)"


def test_or_and_not() -> None:
    assert TCut("a") | TCut("b") == "(a)||(b)"
    assert ~TCut("a") == "!(a)"


def test_empty_operand_is_neutral() -> None:
    assert TCut("") + TCut("y<1") == "y<1"
    assert TCut("x>0") + "" == "x>0"
    assert TCut() + TCut() == ""
    assert isinstance(TCut("") + "a", TCut)


def test_product_gives_weight_times_selection_not_string_repetition() -> None:
    assert TCut("w") * TCut("x>0") == "(w)*(x>0)"
    assert TCut("w") * 2 == "(w)*(2)"
    assert 2 * TCut("w") == "(2)*(w)"
    assert TCut("") * "x>0" == "x>0"
