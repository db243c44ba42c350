"""One-pass (streaming) fits of N, D and P: the parameters of the in-memory fit, from chunks.

The in-memory fit (:meth:`VariableTransform.fit` on all events) is the reference; it is itself tested
against closed forms and scikit-learn in test_normalize.py, test_decorrelate.py and test_pca.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from pymva.errors import DataError, OptionError
from pymva.transforms import PCA, Decorrelate, Gauss, InputRef, Normalize, Uniform
from pymva.transforms.streaming import RunningMoments, fit_streaming, fit_streaming_passes
from tolerances import EPS64

N, K = 20_000, 3


@pytest.fixture(scope="module")
def events() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    cls = (rng.random(N) < 0.4).astype(np.int32)
    A = np.array([[1.0, 0.8, 0.3], [0.0, 0.6, -0.5], [0.0, 0.0, 0.4]])
    X = rng.normal(size=(N, K)) @ A + [100.0, -2.0, 3.0]  # a large mean: the centred update matters
    X[cls == 1] = X[cls == 1] @ np.diag([1.0, 2.0, 0.5]) + 1
    w = rng.uniform(0.2, 3.0, N).astype(np.float32)
    return X.astype(np.float32), w, cls


def _chunks(
    X: np.ndarray, w: np.ndarray, cls: np.ndarray, sizes: list[int]
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    a = 0
    for n in sizes:
        yield X[a : a + n], w[a : a + n], cls[a : a + n]
        a += n
    assert a == len(X)


# uneven chunks, one of a single event and an empty one
SIZES = [1, 999, 0, 5000, 7, 13_993]


def _inputs() -> list[InputRef]:
    return [InputRef("v", i) for i in range(K)]


def test_normalize_is_identical(events: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, w, cls = events
    ref = Normalize(_inputs(), n_classes=2)
    ref.fit(X, w, cls)
    t = Normalize(_inputs(), n_classes=2)
    fit_streaming(t, _chunks(X, w, cls, SIZES))
    assert len(t.params_) == 3
    for (lo, hi), (rlo, rhi) in zip(t.params_, ref.params_, strict=True):
        np.testing.assert_array_equal(lo, rlo)
        np.testing.assert_array_equal(hi, rhi)
    np.testing.assert_array_equal(t.forward(X), ref.forward(X))


def _cov_tolerance(X: np.ndarray) -> float:
    """Two float64 evaluations of a covariance of n rows differ by at most ~n·eps64·E[x²] per entry
    (Higham §3.1; the chunked merge adds one rounding per chunk, far fewer than n)."""
    return 2 * len(X) * EPS64 * float((X.astype(np.float64) ** 2).mean(axis=0).max())


def test_running_moments_equal_two_pass_moments(events: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, w, cls = events
    rm = RunningMoments(K)
    for Z, wz, _ in _chunks(X, w, cls, SIZES):
        rm.update(Z, wz)
    x, ww = X.astype(np.float64), w.astype(np.float64)
    mean = ww @ x / ww.sum()
    cov = ((x - mean) * ww[:, None]).T @ (x - mean) / ww.sum()
    assert rm.n == N
    assert rm.sw == pytest.approx(float(ww.sum()), rel=N * EPS64)
    np.testing.assert_allclose(rm.mean, mean, rtol=N * EPS64)
    np.testing.assert_allclose(rm.cov, cov, rtol=0, atol=_cov_tolerance(X))
    np.testing.assert_array_equal(rm.lo, X.min(axis=0))
    np.testing.assert_array_equal(rm.hi, X.max(axis=0))


def test_decorrelate_matches_in_memory(events: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, w, cls = events
    ref = Decorrelate(_inputs(), n_classes=2)
    ref.fit(X, w, cls)
    t = Decorrelate(_inputs(), n_classes=2)
    fit_streaming(t, _chunks(X, w, cls, SIZES))
    for s, (m, rm) in enumerate(zip(t.params_, ref.params_, strict=True)):
        sel = X if s == 2 else X[cls == s]
        # M = C^(-1/2): a perturbation δC of C moves M by at most ~ ||M||³ ||δC|| (first order)
        norm = float(np.linalg.norm(rm, 2))
        np.testing.assert_allclose(m, rm, rtol=0, atol=4 * norm**3 * _cov_tolerance(sel))


def test_pca_matches_in_memory(events: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, w, cls = events
    ref = PCA(_inputs(), n_classes=2)
    ref.fit(X, w, cls)
    t = PCA(_inputs(), n_classes=2)
    fit_streaming(t, _chunks(X, w, cls, SIZES))
    for s, ((mean, vec), (rmean, rvec)) in enumerate(zip(t.params_, ref.params_, strict=True)):
        sel = X if s == 2 else X[cls == s]
        np.testing.assert_allclose(mean, rmean, rtol=2 * len(sel) * EPS64)
        # eigenvectors move by at most ||δC|| / (smallest gap between eigenvalues) (Davis-Kahan)
        val = np.linalg.eigvalsh(np.cov(sel.T.astype(np.float64), bias=True))
        gap = float(np.min(np.diff(val)))
        np.testing.assert_allclose(vec, rvec, rtol=0, atol=4 * K * _cov_tolerance(sel) / gap)


def test_class_without_events_takes_all_classes_parameters(
    events: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    X, w, _ = events
    cls = np.zeros(N, np.int32)  # class 1 has no events
    t = Normalize(_inputs(), n_classes=2)
    fit_streaming(t, _chunks(X, w, cls, SIZES))
    np.testing.assert_array_equal(t.params_[1][0], X.min(axis=0))
    np.testing.assert_array_equal(t.params_[1][1], X.max(axis=0))


@pytest.mark.parametrize("cls_", [Gauss, Uniform])
def test_gauss_and_uniform_are_refused(cls_: type, events: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    X, w, c = events
    with pytest.raises(OptionError, match=f"{cls_.letter}.*no one-pass"):
        fit_streaming(cls_(_inputs(), n_classes=2), _chunks(X, w, c, SIZES))


def test_no_events_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no training events"):
        fit_streaming(Normalize(_inputs(), n_classes=1), iter([]))


# ---------------------------------------------------------------------------------------------- G and U
def _gu_events(n: int = 12_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    X = np.column_stack(
        [rng.normal(size=n), rng.exponential(size=n), rng.integers(0, 6, n), rng.integers(-3, 3, n) * 0.25]
    ).astype(np.float32)
    return X, rng.uniform(0.5, 1.5, n).astype(np.float32), (rng.random(n) < 0.4).astype(np.int32)


def _gu_chunks(X: np.ndarray, w: np.ndarray, c: np.ndarray) -> Iterator[tuple[np.ndarray, ...]]:
    sizes = [1, 2999, 0, 5000, 4000]
    return _chunks(X, w, c, sizes)


@pytest.mark.parametrize("cls_", [Gauss, Uniform])
def test_gauss_and_uniform_from_two_passes(cls_: type) -> None:
    X, w, c = _gu_events()
    inputs = [InputRef("v", i) for i in range(4)]
    ref = cls_(inputs, n_classes=2)
    ref.fit(X, w, c)
    t = cls_(inputs, n_classes=2)
    calls = []

    def source() -> Iterator[tuple[np.ndarray, ...]]:
        calls.append(1)
        return _gu_chunks(X, w, c)

    fit_streaming_passes(t, source)
    assert len(calls) == 2  # the range, then the fine histogram
    for s in range(3):
        # discrete inputs: every fine bin holds one value, and TMVA's walk reaches each threshold
        # on the first event of a value (each value holds far more than Σw/2000): identical parameters
        for j in (2, 3):
            a, b = ref.params_[s][j], t.params_[s][j]
            np.testing.assert_array_equal(b.edges, a.edges)
            np.testing.assert_array_equal(b.contents, a.contents)
        # continuous inputs: an edge moves within its fine bin (1/65536 of the range, up to ~5 events
        # at the densest), the contents by those events' weight, and the 353QH smoothing spreads that
        # over a few coarse bins of Σw/2000 each: differences of a few coarse bins, 1/2000 each
        U_ref = Uniform(inputs, n_classes=2)
        U_ref.params_ = ref.params_
        U_t = Uniform(inputs, n_classes=2)
        U_t.params_ = t.params_
        d = np.abs(U_ref._forward_set(U_ref.params_[s], X, None) - U_t._forward_set(U_t.params_[s], X, None))
        assert d[:, :2].max() < 20 / 2000
        assert np.median(d[:, :2]) < 8 / 2000
