"""PCA: rotation onto the principal axes (unweighted, no scaling)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from sklearn.decomposition import PCA as SkPCA

from pymva.data.dataset import Sample, VariableInfo
from pymva.transforms import PCA, InputRef, TransformationHandler

VARS = [VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(4)]
CLASSES = ["Signal", "Background"]


@pytest.fixture
def sample() -> Sample:
    rng = np.random.default_rng(21)
    n = 20000
    cls = (rng.random(n) < 0.3).astype(np.int32)
    M = rng.normal(size=(4, 4))
    X = rng.normal(size=(n, 4)) * [3.0, 2.0, 1.0, 0.3] @ M + [5, -1, 0, 2] + cls[:, None] * [1, 2, 0, -1]
    return Sample(
        X=X.astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=rng.uniform(0.5, 2.0, n).astype(np.float32),
        class_id=cls,
    )


def test_diagonal_covariance_with_decreasing_variances(sample: Sample) -> None:
    h = TransformationHandler.parse("P", variables=VARS, class_names=CLASSES)
    h.fit(sample)
    out = h.transform(sample).X.astype(np.float64)
    cov = np.cov(out.T, bias=True)
    var = np.diag(cov)
    assert np.all(np.diff(var) < 0)
    off = cov - np.diag(var)
    assert np.abs(off).max() < 1e-5 * var.max()
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4 * np.sqrt(var.max()))


def test_matches_scikit_learn_up_to_sign(sample: Sample) -> None:
    h = TransformationHandler.parse("P", variables=VARS, class_names=CLASSES)
    h.fit(sample)
    ours = h.transform(sample).X.astype(np.float64)
    ref = SkPCA(n_components=4).fit_transform(sample.X.astype(np.float64))
    scale = ref.std(axis=0)
    for j in range(4):
        sign = np.sign(ours[:, j] @ ref[:, j])
        np.testing.assert_allclose(sign * ours[:, j], ref[:, j], atol=1e-4 * scale[0])


def test_sign_convention_largest_component_positive(sample: Sample) -> None:
    t = PCA([InputRef("v", i) for i in range(4)], n_classes=2)
    t.fit(sample.X, sample.weights, sample.class_id)
    for _mean, vec in t.params_:
        pivot = np.argmax(np.abs(vec), axis=0)
        assert np.all(vec[pivot, np.arange(4)] > 0)
        np.testing.assert_allclose(vec.T @ vec, np.eye(4), atol=1e-10)
    assert not np.allclose(t.params_[0][0], t.params_[2][0])  # per-class means differ from the all-class one


def test_class_reference_uses_that_class(sample: Sample) -> None:
    """P_Background: the mean and principal axes of the background events, unweighted (core.md §4.3)."""
    h = TransformationHandler.parse("P_Background", variables=VARS, class_names=CLASSES)
    h.fit(sample)
    bkg = sample.class_id == 1
    Xb = sample.X[bkg].astype(np.float64)
    val, vec = np.linalg.eigh(np.cov(Xb.T, bias=True))
    vec = vec[:, np.argsort(val)[::-1]]
    expected = (sample.X.astype(np.float64) - Xb.mean(axis=0)) @ vec
    out = h.transform(sample).X.astype(np.float64)
    scale = np.sqrt(val.max())
    for j in range(4):  # eigenvector signs are a convention
        sign = np.sign(out[:, j] @ expected[:, j])
        np.testing.assert_allclose(sign * out[:, j], expected[:, j], atol=1e-4 * scale)
    cov_b = np.cov(out[bkg].T, bias=True)
    assert np.abs(cov_b - np.diag(np.diag(cov_b))).max() < 1e-5 * cov_b.max()
    cov_all = np.cov(out.T, bias=True)
    assert np.abs(cov_all - np.diag(np.diag(cov_all))).max() > 1e-3 * cov_all.max()  # not the all-class axes


def test_unweighted(sample: Sample) -> None:
    t = PCA([InputRef("v", i) for i in range(4)], n_classes=1)
    t.fit(sample.X, sample.weights, np.zeros(len(sample), np.int32))
    mean, _ = t.params_[0]
    np.testing.assert_allclose(mean, sample.X.astype(np.float64).mean(axis=0), rtol=1e-10)


def test_inverse_after_forward_is_identity(sample: Sample) -> None:
    t = PCA([InputRef("v", i) for i in range(4)], n_classes=2, reference_class=1)
    t.fit(sample.X, sample.weights, sample.class_id)
    back = t.inverse(t.forward(sample.X))
    span = np.ptp(sample.X, axis=0)
    assert np.all(np.abs(back - sample.X) <= 1e-4 * np.abs(sample.X) + 1e-6 * span)


def test_xml_layout_and_round_trip(sample: Sample) -> None:
    h = TransformationHandler.parse("P_Background", variables=VARS, class_names=CLASSES)
    h.fit(sample)
    root = h.to_xml()
    st = root.findall("Transform/Statistics")
    ev = root.findall("Transform/Eigenvectors")
    assert [s.get("Class") for s in st] == ["Signal", "Background", "Combined"]
    assert [e.get("NCols") for e in ev] == ["4", "4", "4"]
    h2 = TransformationHandler.from_xml(ET.fromstring(ET.tostring(root)), variables=VARS, class_names=CLASSES)
    np.testing.assert_array_equal(h2.transform(sample).X, h.transform(sample).X)
