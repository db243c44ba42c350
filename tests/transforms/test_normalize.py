"""Normalize: linear map of each input to [-1, 1]."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from pymva.data.dataset import Sample, VariableInfo
from pymva.transforms import InputRef, Normalize, TransformationHandler
from tolerances import EPS32, assert_within


def _sample(X: np.ndarray, cls: np.ndarray, T: np.ndarray | None = None) -> Sample:
    n = len(X)
    return Sample(
        X=np.asarray(X, np.float32),
        targets=np.zeros((n, 0), np.float32) if T is None else np.asarray(T, np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=np.linspace(0.5, 1.5, n).astype(np.float32),
        class_id=np.asarray(cls, np.int32),
    )


VARS = [VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(4)]
CLASSES = ["Signal", "Background"]


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 5000
    cls = (rng.random(n) < 0.5).astype(np.int32)
    X = rng.normal(size=(n, 4)) * [1, 10, 0.01, 1e3] + [0, 5, -3, 1e4] + cls[:, None] * [2, 0, 0.05, 0]
    return X.astype(np.float32), cls


def test_training_range_maps_exactly_to_minus_one_plus_one(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, cls = data
    h = TransformationHandler.parse("N", variables=VARS, class_names=CLASSES)
    h.fit(_sample(X, cls))
    out = h.transform(_sample(X, cls)).X
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.min(axis=0), -1.0)
    np.testing.assert_array_equal(out.max(axis=0), 1.0)
    # the formula, by hand
    lo, hi = X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
    np.testing.assert_allclose(out, 2 * (X - lo) / (hi - lo) - 1, rtol=0, atol=2e-7)


def test_outside_values_extrapolate_linearly(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, cls = data
    t = Normalize([InputRef("v", 0)], n_classes=2)
    t.fit(X[:, :1], np.ones(len(X), np.float32), cls)
    lo, hi = float(X[:, 0].min()), float(X[:, 0].max())
    probe = np.array([[lo - (hi - lo)], [hi + (hi - lo) / 2]], np.float32)
    np.testing.assert_allclose(t.forward(probe)[:, 0], [-3.0, 2.0], rtol=1e-6)


def test_class_specific_parameters_differ(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, cls = data
    h = TransformationHandler.parse("N_Signal", variables=VARS, class_names=CLASSES)
    h.fit(_sample(X, cls))
    el = h.elements[0]
    assert el.reference_class == 0
    assert len(el.params_) == 3
    lo_sig, hi_sig = el.params_[0]
    lo_all, hi_all = el.params_[2]
    assert not np.allclose(lo_sig, lo_all) or not np.allclose(hi_sig, hi_all)
    np.testing.assert_array_equal(lo_sig, X[cls == 0].min(axis=0))
    out = h.transform(_sample(X, cls)).X
    np.testing.assert_array_equal(out[cls == 0].min(axis=0), -1.0)  # signal events span [-1, 1]
    np.testing.assert_array_equal(out[cls == 0].max(axis=0), 1.0)
    all_out = el.forward(X, class_index=2)
    np.testing.assert_array_equal(all_out.min(axis=0), -1.0)
    assert not np.array_equal(all_out, out)


def test_single_class_has_one_parameter_set(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = data
    h = TransformationHandler.parse("N", variables=VARS, class_names=["Regression"])
    h.fit(_sample(X, np.zeros(len(X))))
    assert len(h.elements[0].params_) == 1


def test_targets_and_inverse(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, _cls = data
    T = (X[:, :1] * 3 + 7).astype(np.float32)
    tg = [VariableInfo("t", "t", "t", kind="target")]
    h = TransformationHandler.parse("N", variables=VARS, targets=tg, class_names=["Regression"])
    s = _sample(X, np.zeros(len(X)), T)
    h.fit(s)
    out = h.transform(s)
    assert out.targets.min() == -1.0
    assert out.targets.max() == 1.0
    back = h.inverse_targets(out.targets)
    # two float32 roundings: the normalised value (eps32/2 on [-1, 1], scaled back by span/2) and the
    # result (eps32/2·|T|); the arithmetic in between is float64
    span = float(T.max()) - float(T.min())
    assert_within(back, T, EPS32 * (span / 2 + np.abs(T)))
    e = Normalize([InputRef("v", i) for i in range(4)], n_classes=1)
    e.fit(X, np.ones(len(X), np.float32), np.zeros(len(X), np.int32))
    back = e.inverse(e.forward(X))
    assert np.all(np.abs(back - X) <= 1e-4 * np.abs(X) + 1e-6 * np.ptp(X, axis=0))


def test_constant_input_maps_to_zero(caplog: pytest.LogCaptureFixture) -> None:
    X = np.column_stack([np.full(100, 2.5), np.arange(100.0)]).astype(np.float32)
    t = Normalize([InputRef("v", 0), InputRef("v", 1)], n_classes=1)
    t.fit(X, np.ones(100, np.float32), np.zeros(100, np.int32))
    out = t.forward(X)
    assert np.all(out[:, 0] == 0)
    assert out[:, 1].min() == -1
    assert out[:, 1].max() == 1
    assert "constant" in caplog.text


def test_xml_layout_and_round_trip(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, cls = data
    h = TransformationHandler.parse("N_Background", variables=VARS, class_names=CLASSES)
    h.fit(_sample(X, cls))
    root = h.to_xml()
    trf = root.find("Transform")
    assert trf is not None
    assert trf.get("Name") == "Normalize"
    assert trf.get("ReferenceClass") == "Background"
    assert [c.get("ClassIndex") for c in trf.findall("Class")] == ["0", "1", "2"]
    rng = trf.find("Class/Ranges/Range")
    assert rng is not None
    assert float(rng.get("Min", "nan")) == float(X[cls == 0, 0].min())
    h2 = TransformationHandler.from_xml(ET.fromstring(ET.tostring(root)), variables=VARS, class_names=CLASSES)
    np.testing.assert_array_equal(h2.transform_variables(X), h.transform_variables(X))
    assert h2.elements[0].reference_class == 1
