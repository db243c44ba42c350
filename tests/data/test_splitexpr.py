"""TMVA's split expression (``CvSplitKFoldsExpr``): placeholders, rounding, errors; and the DataSet
helpers the envelopes build their DataSets with."""

from __future__ import annotations

import numpy as np
import pytest

from pymva.data.dataset import DataSet, Sample, VariableInfo
from pymva.data.loader import DataLoader
from pymva.data.splitexpr import CvSplitKFoldsExpr
from pymva.errors import DataError, OptionError


def _spec(expression: str, label: str | None = None) -> VariableInfo:
    label = label or expression
    return VariableInfo(expression, label, label.replace("%", "_"), kind="spectator")


def test_the_tutorial_expression_is_eventID_modulo_the_folds() -> None:
    spec = [_spec("eventID")]
    ids = np.array([1, 2, 3, 4, 5, -7, 0, 12], np.float32)
    folds = CvSplitKFoldsExpr("int(fabs([eventID]))%int([NumFolds])", spec).evaluate(ids[:, None], 3)
    assert folds.tolist() == [int(abs(i)) % 3 for i in ids]  # by hand: 1 2 0 1 2 1 0 0


def test_placeholders_name_a_spectator_by_label_or_expression_and_numFolds_too() -> None:
    spec = [_spec("evt%4096", "eventID"), _spec("run")]
    S = np.array([[10, 1], [11, 2], [13, 3]], np.float32)
    by_label = CvSplitKFoldsExpr("([eventID]+[run])%[numFolds]", spec).evaluate(S, 2)
    by_expr = CvSplitKFoldsExpr("([evt%4096]+[run])%[NumFolds]", spec).evaluate(S, 2)
    assert by_label.tolist() == by_expr.tolist() == [(10 + 1) % 2, (11 + 2) % 2, (13 + 3) % 2]


def test_values_are_rounded_to_the_nearest_integer_as_std_lround() -> None:
    spec = [_spec("x")]
    x = np.array([[0.4], [0.5], [1.49], [1.5]], np.float32)
    assert CvSplitKFoldsExpr("[x]", spec).evaluate(x, 3).tolist() == [0, 1, 1, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("int(eventID)%2", "outside brackets"),
        ("int([evtID])%2", 'Spectator "evtID" not found'),
        ("int([eventID]%2", "not a valid TFormula"),
        ("", "empty"),
    ],
)
def test_bad_expressions_are_option_errors(text: str, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        CvSplitKFoldsExpr(text, [_spec("eventID")])


def test_values_out_of_range_are_data_errors_naming_the_value() -> None:
    expr = CvSplitKFoldsExpr("[eventID]-1", [_spec("eventID")])
    with pytest.raises(DataError, match=r"non-negative.*-1 for 1 of 3"):
        expr.evaluate(np.array([[0], [1], [2]], np.float32), 3)
    with pytest.raises(DataError, match=r"between 0 and numFolds-1.*3 for 1 of 3"):
        expr.evaluate(np.array([[1], [2], [4]], np.float32), 3)


def _dataset() -> DataSet:
    rng = np.random.default_rng(0)
    n = 8
    sample = Sample(
        X=rng.normal(size=(n, 3)).astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.arange(n, dtype=np.float32)[:, None],
        weights=np.ones(n, np.float32),
        class_id=(np.arange(n) % 2).astype(np.int32),
    )
    variables = [VariableInfo(v, v, v, min=-1.0, max=1.0) for v in "abc"]
    corr = {"Signal": np.arange(9.0).reshape(3, 3), "Background": np.eye(3)}
    return DataSet("ds", sample, sample.subset(slice(0, 2)), ["Signal", "Background"], variables,
                   spectators=[_spec("id")], correlations=corr)  # fmt: skip


def test_with_samples_keeps_the_description_and_checks_the_columns() -> None:
    ds = _dataset()
    fold = ds.with_samples(ds.train.subset(np.array([1, 2])), ds.train.subset(np.array([5])))
    assert (len(fold.train), len(fold.test)) == (2, 1)
    assert fold.variables is ds.variables
    assert fold.correlations is ds.correlations
    assert fold.test.spectators.tolist() == [[5.0]]
    with pytest.raises(ValueError, match="columns"):
        ds.with_samples(ds.train.replace(X=ds.train.X[:, :2]), ds.test)


def test_select_variables_takes_columns_descriptions_and_correlations() -> None:
    ds = _dataset()
    sub = ds.select_variables([2, 0], name="101")
    assert sub.name == "101"
    assert [v.label for v in sub.variables] == ["c", "a"]
    np.testing.assert_array_equal(sub.train.X, ds.train.X[:, [2, 0]])
    np.testing.assert_array_equal(sub.correlations["Signal"], [[8.0, 6.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match="distinct"):
        ds.select_variables([0, 0])


def test_a_loader_from_a_dataset_hands_out_that_dataset() -> None:
    ds = _dataset()
    loader = DataLoader.from_dataset(ds)
    assert loader.GetName() == "ds"
    assert loader.class_names == ["Signal", "Background"]
    assert [v.label for v in loader.variables] == ["a", "b", "c"]
    assert [v.label for v in loader.spectators] == ["id"]
    assert loader.GetDataSetInfo().GetDataSet() is ds
