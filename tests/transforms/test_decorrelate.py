"""Decorrelate: the inverse square root of the weighted covariance matrix, no mean subtraction."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError
from pymva.transforms import Decorrelate, InputRef, TransformationHandler
from tolerances import EPS32, EPS64, assert_within

VARS = [VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(3)]
CLASSES = ["Signal", "Background"]


def _wcov(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    X = X.astype(np.float64)
    w = w.astype(np.float64)
    mu = w @ X / w.sum()
    d = X - mu
    return np.asarray((d * w[:, None]).T @ d / w.sum())


def _cov_atol(out: np.ndarray) -> float:
    """How far the covariance of the float32 outputs may be from the identity the float64 fit makes.

    Each output is its float64 value rounded once, z(1 + δ) with |δ| ≤ eps32/2, which moves a
    covariance entry by at most eps32·E|z_i z_j| ≤ eps32·max_i E[z_i²] (uncentred: the means stay);
    the float64 fit itself is exact to ~n·eps64, far below.
    """
    return 2 * EPS32 * float((out.astype(np.float64) ** 2).mean(axis=0).max())


@pytest.fixture
def sample() -> Sample:
    rng = np.random.default_rng(4)
    n = 20000
    cls = (rng.random(n) < 0.5).astype(np.int32)
    A = np.array([[1.0, 0.8, 0.3], [0.0, 0.6, -0.5], [0.0, 0.0, 0.4]])
    X = rng.normal(size=(n, 3)) @ A + [1.0, -2.0, 3.0]
    X[cls == 1] = X[cls == 1] @ np.array([[1, 0, 0], [-0.7, 1, 0], [0, 0, 2.0]]) + 1
    return Sample(
        X=X.astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=rng.uniform(0.2, 3.0, n).astype(np.float32),
        class_id=cls,
    )


def test_weighted_covariance_becomes_identity(sample: Sample) -> None:
    h = TransformationHandler.parse("D", variables=VARS, class_names=CLASSES)
    h.fit(sample)
    out = h.transform(sample).X
    np.testing.assert_allclose(_wcov(out, sample.weights), np.eye(3), rtol=0, atol=_cov_atol(out))
    # the unweighted covariance is not the identity: the weights are used
    assert np.abs(np.cov(out.T, bias=True) - np.eye(3)).max() > 1e-3


def test_class_reference_decorrelates_that_class(sample: Sample) -> None:
    h = TransformationHandler.parse("D_Background", variables=VARS, class_names=CLASSES)
    h.fit(sample)
    out = h.transform(sample).X
    bkg = sample.class_id == 1
    np.testing.assert_allclose(
        _wcov(out[bkg], sample.weights[bkg]), np.eye(3), rtol=0, atol=_cov_atol(out[bkg])
    )
    el = h.elements[0]
    assert not np.allclose(el.params_[1], el.params_[2])  # class-specific matrix differs from all-classes one
    assert np.abs(_wcov(out, sample.weights) - np.eye(3)).max() > 1e-2


def test_formula_by_hand_without_mean_subtraction(sample: Sample) -> None:
    t = Decorrelate([InputRef("v", i) for i in range(3)], n_classes=1)
    t.fit(sample.X, sample.weights, np.zeros(len(sample), np.int32))
    C = _wcov(sample.X, sample.weights)
    val, vec = np.linalg.eigh(C)
    sqrt_c = vec @ np.diag(np.sqrt(val)) @ vec.T
    expected = sample.X.astype(np.float64) @ np.linalg.inv(sqrt_c).T
    # float32 output rounded once from float64, plus the float64 difference of two ways to C^(-1/2)
    # (relative κ(C)·k·eps64 for k = 3 variables)
    float64_part = np.linalg.cond(C) * 3 * EPS64 * np.abs(expected).max()
    assert_within(t.forward(sample.X), expected, EPS32 * np.abs(expected) + float64_part)
    assert abs(float(t.forward(sample.X).mean(axis=0)[0])) > 0.1  # the mean is kept


def test_no_inverse(sample: Sample) -> None:
    t = Decorrelate([InputRef("v", i) for i in range(3)], n_classes=1)
    t.fit(sample.X, sample.weights, np.zeros(len(sample), np.int32))
    with pytest.raises(ModelError, match="no inverse"):
        t.inverse(sample.X)


def test_singular_covariance_warns(caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000)
    X = np.column_stack([x, 2 * x, rng.normal(size=1000)]).astype(np.float32)
    t = Decorrelate([InputRef("v", i) for i in range(3)], n_classes=1)
    t.fit(X, np.ones(1000, np.float32), np.zeros(1000, np.int32))
    assert np.isfinite(t.forward(X)).all()
    assert "non-positive eigenvalue" in caplog.text


def test_xml_round_trip_is_exact(sample: Sample) -> None:
    h = TransformationHandler.parse("D_Signal", variables=VARS, class_names=CLASSES)
    h.fit(sample)
    root = h.to_xml()
    mats = root.findall("Transform/Matrix")
    assert [m.get("Rows") for m in mats] == ["3", "3", "3"]
    h2 = TransformationHandler.from_xml(ET.fromstring(ET.tostring(root)), variables=VARS, class_names=CLASSES)
    np.testing.assert_array_equal(h2.transform(sample).X, h.transform(sample).X)


def test_blocked_application_is_the_whole_array_product() -> None:
    """More rows than one block and a partial last block: every row gets ``x·Mᵀ`` in float64.

    TMVA's ``VariableDecorrTransform`` multiplies the event vector by the matrix in double; the
    array path does it block by block and rounds to float32 once, as one whole-array product.
    """
    from pymva.transforms.base import BLOCK_ROWS

    rng = np.random.default_rng(12)
    n = 2 * BLOCK_ROWS + 77
    X = (rng.normal(size=(n, 4)) @ rng.normal(size=(4, 4)) + [1.0, -2.0, 50.0, 0.5]).astype(np.float32)
    t = Decorrelate([InputRef("v", i) for i in range(4)], n_classes=1)
    t.fit(X, rng.uniform(0.5, 2.0, n).astype(np.float32), np.zeros(n, np.int32))
    m = t.params_[0]
    np.testing.assert_array_equal(t.forward(X), (X.astype(np.float64) @ m.T).astype(np.float32))
