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


def _tmva(v: float, lo: float, hi: float) -> np.float32:
    """``VariableNormalizeTransform::Transform`` for one value, every quantity a ``Float_t``."""
    f = np.float32
    scale = f(1.0 / float(f(f(hi) - f(lo))))  # (max − min) in float, 1.0/… in double, stored as float
    return f(f(f(f(v) - f(lo)) * scale) * f(2)) - f(1)


def test_training_range_maps_to_minus_one_plus_one(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, cls = data
    h = TransformationHandler.parse("N", variables=VARS, class_names=CLASSES)
    h.fit(_sample(X, cls))
    out = h.transform(_sample(X, cls)).X
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.min(axis=0), -1.0)  # (min − min)·s − 1 is exact
    # the maximum: TMVA's float32 arithmetic gives +1 or a neighbour of it (one ulp below 1 is 2^-24)
    assert np.all(np.abs(out.max(axis=0).astype(np.float64) - 1.0) <= 2**-23)
    lo, hi = X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
    # TMVA's Float_t arithmetic, value by value (scalar float32 operations, ·2 applied separately)
    rows = np.r_[0:200, np.argmax(X, axis=0), np.argmin(X, axis=0)]
    by_hand = np.array([[_tmva(X[i, j], lo[j], hi[j]) for j in range(4)] for i in rows], dtype=np.float32)
    np.testing.assert_array_equal(out[rows], by_hand)
    # and the exact formula: p = (x − min)·s2 in [0, 2] carries four float32 roundings (max − min,
    # 1/range, x − min, the product), each a relative error of at most 2^-24, so |Δp| <= 4·2^-24·2;
    # p − 1 is exact (Sterbenz) or rounded within half an ulp of a value <= 1 (2^-25)
    exact = 2 * (X - lo) / (hi - lo) - 1
    np.testing.assert_allclose(out, exact, rtol=0, atol=2.0**-21 + 2.0**-25)


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
    assert np.all(np.abs(out[cls == 0].max(axis=0).astype(np.float64) - 1.0) <= 2**-23)
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
    event = t.event_function()  # the per-event form maps the constant input to 0 as well
    assert event is not None
    np.testing.assert_array_equal(np.array([event(r) for r in X.tolist()], np.float32), out)


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


def test_inverse_and_per_event_form_are_tmvas_float32_arithmetic(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, cls = data
    t = Normalize([InputRef("v", i) for i in range(4)], n_classes=2)
    t.fit(X, np.ones(len(X), np.float32), cls)
    lo, hi = t.params_[t.set_index()]
    f = np.float32
    rng = np.random.default_rng(9)
    Z = rng.uniform(-1.5, 1.5, (300, 4)).astype(np.float32)
    back = t.inverse(Z)
    for i in range(0, 300, 7):
        for j in range(4):
            # VariableNormalizeTransform::InverseTransform: offset + ((val + 1)/(scale·2)), Float_t
            scale = f(1.0 / float(f(f(hi[j]) - f(lo[j]))))
            assert back[i, j] == f(f(lo[j]) + f(f(Z[i, j] + f(1)) / f(scale * f(2))))
    # the Reader's per-event form: the same float32 steps on Python floats, rounded at the end
    event = t.event_function()
    assert event is not None
    probe = np.concatenate([X[:200], (X[:100] * 3).astype(np.float32)])
    per_event = np.array([event(row) for row in probe.tolist()], dtype=np.float32)
    np.testing.assert_array_equal(per_event, t.forward(probe))
