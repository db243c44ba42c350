"""PCA: rotation onto the principal axes (unweighted, no scaling)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from sklearn.decomposition import PCA as SkPCA

from pymva.data.dataset import Sample, VariableInfo
from pymva.transforms import PCA, InputRef, TransformationHandler
from tolerances import EPS32, EPS64, assert_within

VARS = [VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(4)]
CLASSES = ["Signal", "Background"]


def _projection_atol(X: np.ndarray, ref: np.ndarray, fit: np.ndarray | None = None) -> np.ndarray:
    """How far our float32 principal components may be from a float64 reference (another algorithm).

    Two float64 eigen-solvers agree on an eigenvector to about eps64·λ_max/gap per component (the
    gap: the distance to the nearest other eigenvalue; Davis-Kahan), here times 10 for the k = 4
    dimensions and the covariance sums; projecting |x - mean| on it, and rounding our output to float32
    once (eps32·|value|), gives the bound per event and component.
    """
    Xf = X if fit is None else fit
    lam = np.linalg.eigvalsh(np.cov(Xf.T, bias=True))
    gaps = np.array([np.min(np.abs(np.delete(lam, i) - lam[i])) for i in range(len(lam))])[::-1]
    vector_err = 10 * EPS64 * lam.max() / gaps  # components in decreasing-variance order
    centred = np.abs(X - Xf.mean(axis=0)).sum(axis=1, keepdims=True)
    return np.asarray(EPS32 * np.abs(ref) + centred * vector_err)


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
    # the float64 projection has mean 0 to ~n·eps64; rounding each output to float32 moves the mean by
    # at most eps32/2 of the mean |output|
    assert_within(out.mean(axis=0), 0.0, EPS32 * np.abs(out).mean(axis=0))


def test_matches_scikit_learn_up_to_sign(sample: Sample) -> None:
    h = TransformationHandler.parse("P", variables=VARS, class_names=CLASSES)
    h.fit(sample)
    ours = h.transform(sample).X.astype(np.float64)
    X = sample.X.astype(np.float64)
    ref = SkPCA(n_components=4).fit_transform(X)
    atol = _projection_atol(X, ref)
    for j in range(4):
        sign = np.sign(ours[:, j] @ ref[:, j])
        assert_within(sign * ours[:, j], ref[:, j], atol[:, j])


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
    atol = _projection_atol(sample.X.astype(np.float64), expected, Xb)
    for j in range(4):  # eigenvector signs are a convention
        sign = np.sign(out[:, j] @ expected[:, j])
        assert_within(sign * out[:, j], expected[:, j], atol[:, j])
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


def test_blocked_application_is_the_whole_array_product() -> None:
    # more rows than one block and a partial last block: every row gets the float64 product of
    # its centred values (X2P), rounded to float32 once, as one whole-array product gives it
    from pymva.transforms.base import BLOCK_ROWS

    rng = np.random.default_rng(11)
    n = 2 * BLOCK_ROWS + 123
    X = (rng.normal(size=(n, 5)) @ rng.normal(size=(5, 5)) + [3.0, -1.0, 0.0, 1e3, 2.0]).astype(np.float32)
    t = PCA([InputRef("v", i) for i in range(5)], n_classes=1)
    t.fit(X, np.ones(n, np.float32), np.zeros(n, np.int32))
    mean, vec = t.params_[0]
    out = t.forward(X)
    np.testing.assert_array_equal(out, ((X.astype(np.float64) - mean) @ vec).astype(np.float32))
    back = t.inverse(out)
    np.testing.assert_array_equal(back, (out.astype(np.float64) @ vec.T + mean).astype(np.float32))
