"""Fisher: options, closed-form coefficients against a hand computation, weights-file round trip, ranking."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, NotTrainedError, OptionError
from pymva.methods.base import MethodContext
from pymva.methods.fisher import FisherOptions, MethodFisher, fisher_coefficients
from pymva.methods.registry import get_method_class
from pymva.types import EAnalysisType, Types


def _context(
    tmp_path: Path, n_vars: int = 3, classes: tuple[str, ...] = ("Signal", "Background")
) -> MethodContext:
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kClassification,
        variables=tuple(VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(n_vars)),
        class_names=classes,
        weight_dir=tmp_path / "weights",
    )


def _sample(n: int = 300, n_vars: int = 3, seed: int = 0, signal_first: bool = True) -> Sample:
    rng = np.random.default_rng(seed)
    cov = np.eye(n_vars) + 0.3
    xs = rng.multivariate_normal(np.linspace(0.3, 1.0, n_vars), cov, n)
    xb = rng.multivariate_normal(np.zeros(n_vars), cov * 1.2, n)
    X = np.vstack([xs, xb]).astype(np.float32)
    cid = np.r_[np.zeros(n), np.ones(n)].astype(np.int32)
    if not signal_first:
        cid = 1 - cid
    w = rng.uniform(0.5, 1.5, 2 * n).astype(np.float32)
    return Sample(
        X=X,
        targets=np.zeros((2 * n, 0), np.float32),
        spectators=np.zeros((2 * n, 0), np.float32),
        weights=w,
        class_id=cid,
    )


def _hand_fisher(
    X: np.ndarray, sig: np.ndarray, w: np.ndarray, mahalanobis: bool = False
) -> tuple[np.ndarray, float]:
    """Textbook weighted Fisher discriminant, written out with loops."""
    F, F0, _, _ = _hand_fisher_matrices(X, sig, w, mahalanobis)
    return F, F0


def _hand_fisher_matrices(
    X: np.ndarray, sig: np.ndarray, w: np.ndarray, mahalanobis: bool = False
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """The coefficients, the offset and the within-class (W) and between-class (B) matrices of
    MethodFisher::GetCov_WithinClass / GetCov_BetweenClass, written out with loops."""
    X = X.astype(np.float64)
    w = w.astype(np.float64)
    nvar = X.shape[1]
    sw_s = sum(w[i] for i in range(len(w)) if sig[i])
    sw_b = sum(w[i] for i in range(len(w)) if not sig[i])
    ms = np.array([sum(w[i] * X[i, k] for i in range(len(w)) if sig[i]) / sw_s for k in range(nvar)])
    mb = np.array([sum(w[i] * X[i, k] for i in range(len(w)) if not sig[i]) / sw_b for k in range(nvar)])
    m = (sw_s * ms + sw_b * mb) / (sw_s + sw_b)
    W = np.zeros((nvar, nvar))
    B = np.zeros((nvar, nvar))
    for a in range(nvar):
        for b in range(nvar):
            cs = sum(w[i] * (X[i, a] - ms[a]) * (X[i, b] - ms[b]) for i in range(len(w)) if sig[i]) / sw_s
            cb = sum(w[i] * (X[i, a] - mb[a]) * (X[i, b] - mb[b]) for i in range(len(w)) if not sig[i]) / sw_b
            W[a, b] = cs + cb
            B[a, b] = (sw_s * (ms[a] - m[a]) * (ms[b] - m[b]) + sw_b * (mb[a] - m[a]) * (mb[b] - m[b])) / (
                sw_s + sw_b
            )
    M = W + B if mahalanobis else W
    F = np.sqrt(sw_s * sw_b) / (sw_s + sw_b) * np.linalg.solve(M, ms - mb)
    F0 = -0.5 * float(F @ (ms + mb))
    return F, F0, W, B


# ----------------------------------------------------------------------------- options
def test_fisher_is_registered_and_defaults() -> None:
    assert get_method_class("Fisher") is MethodFisher
    assert get_method_class(Types.EMVA.kFisher) is MethodFisher
    assert FisherOptions().Method == "Fisher"
    assert MethodFisher.ranking_criterion == "Discr. power"


def test_fisher_bare_method_tokens(tmp_path: Path) -> None:
    m = MethodFisher("Fisher", _context(tmp_path), "!H:!V:Fisher:VarTransform=None")
    assert m.options.Method == "Fisher"  # type: ignore[attr-defined]
    m = MethodFisher("Maha", _context(tmp_path), "Mahalanobis")
    assert m.options.Method == "Mahalanobis"  # type: ignore[attr-defined]
    m = MethodFisher("Fisher", _context(tmp_path), "Method=mahalanobis")
    assert m.options.Method == "Mahalanobis"  # type: ignore[attr-defined]


def test_fisher_option_errors(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="did you mean 'Fisher'"):
        MethodFisher("F", _context(tmp_path), "Method=Fischer")
    with pytest.raises(OptionError, match="did you mean 'Method'"):
        MethodFisher("F", _context(tmp_path), "Methd=Fisher")


def test_fisher_analysis_types() -> None:
    assert MethodFisher.has_analysis_type(EAnalysisType.kClassification, 2, 0)
    assert not MethodFisher.has_analysis_type(EAnalysisType.kClassification, 3, 0)
    assert not MethodFisher.has_analysis_type(EAnalysisType.kMulticlass, 4, 0)
    assert not MethodFisher.has_analysis_type(EAnalysisType.kRegression, 0, 1)


# ----------------------------------------------------------------------------- the numbers
@pytest.mark.parametrize("method", ["Fisher", "Mahalanobis"])
def test_coefficients_equal_hand_computation(tmp_path: Path, method: str) -> None:
    s = _sample(n=25, seed=3)
    m = MethodFisher("F", _context(tmp_path), f"Method={method}")
    m.setup()
    m.train(s)
    F, F0 = _hand_fisher(s.X, s.class_id == 0, s.weights, mahalanobis=method == "Mahalanobis")
    assert m.coefficients_ is not None
    assert m.offset_ is not None
    np.testing.assert_allclose(m.coefficients_, F, rtol=1e-10, atol=1e-13)
    assert m.offset_ == pytest.approx(F0, rel=1e-10, abs=1e-13)
    expected = (F0 + s.X.astype(np.float64) @ F).astype(np.float32)
    np.testing.assert_allclose(m.evaluate(s.X), expected, rtol=1e-5, atol=1e-6)


def test_signal_class_is_used_whatever_its_index(tmp_path: Path) -> None:
    s = _sample(n=40, seed=5, signal_first=False)  # class 0 is "Background" here
    m = MethodFisher("F", _context(tmp_path, classes=("Background", "Signal")))
    m.train(s)
    F, _ = _hand_fisher(s.X, s.class_id == 1, s.weights)
    np.testing.assert_allclose(m.coefficients_, F, rtol=1e-10)  # type: ignore[arg-type]
    out = m.raw_outputs(s.X)
    np.testing.assert_array_equal(out[:, 1], m.evaluate(s.X))
    np.testing.assert_array_equal(out[:, 0], -out[:, 1])
    # signal-like events get larger values
    assert m.evaluate(s.X)[s.class_id == 1].mean() > m.evaluate(s.X)[s.class_id == 0].mean()


def test_discrimination_power_ranking(tmp_path: Path) -> None:
    s = _sample(n=200, seed=7)
    m = MethodFisher("F", _context(tmp_path))
    m.train(s)
    # TMVA's MethodFisher::GetDiscrimPower: B_ii / C_ii with C = W + B
    _, _, W, B = _hand_fisher_matrices(s.X, s.class_id == 0, s.weights)
    power = np.diag(B) / np.diag(W + B)
    ranking = m.ranking()
    assert ranking is not None
    assert [name for name, _ in ranking] == [f"var{i}" for i in np.argsort(-power, kind="stable")]
    np.testing.assert_allclose([v for _, v in ranking], np.sort(power)[::-1], rtol=1e-10)
    res = fisher_coefficients(s.X, s.class_id == 0, s.weights)
    np.testing.assert_allclose(res.within, W, rtol=1e-10)
    np.testing.assert_allclose(res.between, B, rtol=1e-10)


def test_coefficient_table_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pymva")
    m = MethodFisher("F", _context(tmp_path, n_vars=2))
    s = _sample(n=50, n_vars=2)
    m.train(s)
    F, F0 = _hand_fisher(s.X, s.class_id == 0, s.weights)
    msgs = [r.getMessage() for r in caplog.records]
    i = msgs.index("Results for Fisher coefficients:")
    assert msgs[i + 2] == "Variable:  Coefficient:"
    # TMVA's FormattedOutput rows: the label right-aligned to 8, the value as %+1.3f right-aligned to 13
    assert msgs[i + 4] == "    var0:" + f"{F[0]:+1.3f}".rjust(13)
    assert msgs[i + 5] == "    var1:" + f"{F[1]:+1.3f}".rjust(13)
    assert msgs[i + 6] == "(offset):" + f"{F0:+1.3f}".rjust(13)


def test_singular_and_one_class_errors(tmp_path: Path) -> None:
    s = _sample(n=30, n_vars=2)
    X = s.X.copy()
    X[:, 1] = 2 * X[:, 0]  # linear combination: singular within-class matrix
    m = MethodFisher("F", _context(tmp_path, n_vars=2))
    with pytest.raises(ModelError, match="singular"):
        m.train(s.replace(X=X))
    w = s.weights.copy()
    w[s.class_id == 1] = 0
    with pytest.raises(ModelError, match="positive sum of weights"):
        MethodFisher("F", _context(tmp_path, n_vars=2)).train(s.replace(weights=w))


# ----------------------------------------------------------------------------- weights file
def test_weights_xml_round_trip_is_exact(tmp_path: Path) -> None:
    s = _sample(n=100, seed=11)
    m = MethodFisher("F", _context(tmp_path))
    m.train(s)
    weights = ET.Element("Weights")
    m.add_weights_xml(weights)
    assert weights.get("NCoeff") == "4"
    coeffs = weights.findall("Coefficient")
    assert [c.get("Index") for c in coeffs] == ["0", "1", "2", "3"]
    assert float(coeffs[0].get("Value", "")) == m.offset_
    text = ET.tostring(weights)

    m2 = MethodFisher("F", _context(tmp_path))
    with pytest.raises(NotTrainedError, match="not been trained"):
        m2.evaluate(s.X)
    m2.read_weights_xml(ET.fromstring(text))
    np.testing.assert_array_equal(m2.coefficients_, m.coefficients_)
    assert m2.offset_ == m.offset_
    np.testing.assert_array_equal(m2.evaluate(s.X), m.evaluate(s.X))
    assert m2.ranking() is None  # TMVA does not store the discrimination power either


def test_weights_xml_errors(tmp_path: Path) -> None:
    m = MethodFisher("F", _context(tmp_path))
    with pytest.raises(ModelError, match="has no <Weights> element"):
        m.read_weights_xml(None)
    with pytest.raises(ModelError, match="coefficients for 3 variables"):
        m.read_weights_xml(ET.fromstring('<Weights NCoeff="3"/>'))
    with pytest.raises(ModelError, match="not trained"):
        m.add_weights_xml(ET.Element("Weights"))
