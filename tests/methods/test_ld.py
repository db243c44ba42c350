"""LD: coefficients against numpy's weighted least squares, TMVA's classification offset, the response,
weights round trip, ranking, the tutorials' bookings, and the ROOT-written regression file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import uproot

from pymva import TMVA, Reader, TCut
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError
from pymva.io.weights import build_weights_xml, method_from_content, parse_weights_xml, weights_xml_bytes
from pymva.methods.base import MethodContext
from pymva.methods.ld import MethodLD, ld_coefficients
from pymva.toydata import create_class_example, create_regression_example
from pymva.types import EAnalysisType

BURST = "tmva-written/grizzay-dev+Burst_Analysis/4c331f9/dataset/weights"


def _ctx(tmp_path: Path, regression: bool = False, n_vars: int = 3) -> MethodContext:
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kRegression if regression else EAnalysisType.kClassification,
        variables=tuple(VariableInfo(f"x{i}", f"x{i}", f"x{i}") for i in range(n_vars)),
        class_names=("Regression",) if regression else ("Signal", "Background"),
        targets=(VariableInfo("t", "t", "t", kind="target"),) if regression else (),
        weight_dir=tmp_path / "weights",
    )


def _sample(
    X: np.ndarray, w: np.ndarray, cid: np.ndarray | None = None, t: np.ndarray | None = None
) -> Sample:
    n = len(X)
    return Sample(
        X=X.astype(np.float32),
        targets=(np.zeros((n, 0)) if t is None else t[:, None]).astype(np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=w.astype(np.float32),
        class_id=(np.zeros(n) if cid is None else cid).astype(np.int32),
    )


def test_regression_coefficients_are_weighted_least_squares(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (500, 3))
    t = 1.5 + X @ np.array([0.3, -2.0, 0.7]) + rng.normal(0, 0.1, 500)
    w = rng.uniform(0.2, 2.0, 500)
    m = MethodLD("LD", _ctx(tmp_path, regression=True))
    s = _sample(X, w, t=t)
    m.train(s)
    A = (
        np.hstack([np.ones((500, 1)), s.X.astype(np.float64)])
        * np.sqrt(s.weights.astype(np.float64))[:, None]
    )
    b = s.targets[:, 0].astype(np.float64) * np.sqrt(s.weights.astype(np.float64))
    ref = np.linalg.lstsq(A, b, rcond=None)[0]
    assert m.coefficients_ is not None
    np.testing.assert_allclose(m.coefficients_[0], ref, rtol=1e-9, atol=1e-10)
    expected = ref[0] + s.X.astype(np.float64) @ ref[1:]
    np.testing.assert_allclose(m.evaluate(s.X)[:, 0], expected, rtol=1e-5, atol=1e-5)


def test_classification_offset_and_response(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(0.5, 1, (300, 3)), rng.normal(-0.5, 1, (300, 3))])
    cid = np.r_[np.zeros(300), np.ones(300)]
    w = rng.uniform(0.5, 1.5, 600)
    m = MethodLD("LD", _ctx(tmp_path))
    s = _sample(X, w, cid)
    m.train(s)
    x64, w64 = s.X.astype(np.float64), s.weights.astype(np.float64)
    A = np.hstack([np.ones((600, 1)), x64]) * np.sqrt(w64)[:, None]
    ref = np.linalg.lstsq(A, (cid == 0) * np.sqrt(w64), rcond=None)[0]
    mean = w64 @ x64 / w64.sum()
    assert m.coefficients_ is not None
    np.testing.assert_allclose(m.coefficients_[0, 1:], ref[1:], rtol=1e-9)
    assert m.coefficients_[0, 0] == pytest.approx(-0.5 * ref[1:] @ mean, rel=1e-9)
    r = m.evaluate(s.X)
    assert r[cid == 0].mean() > 0 > r[cid == 1].mean()
    ranking = m.ranking()
    assert ranking is not None
    assert ranking[0][1] == pytest.approx(np.abs(ref[1:]).max(), rel=1e-9)


def test_singular_matrix_and_bad_file(tmp_path: Path) -> None:
    X = np.c_[np.arange(10.0), 2 * np.arange(10.0)]
    with pytest.raises(ModelError, match="singular"):
        ld_coefficients(X, np.arange(10.0), np.ones(10), False)
    m = MethodLD("LD", _ctx(tmp_path, regression=True, n_vars=2))
    el = ET.fromstring('<Weights NOut="1" NCoeff="4"/>')
    with pytest.raises(ModelError, match="mismatch"):
        m.read_weights_xml(el)


def test_weights_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(0, 1, (200, 3))
    m = MethodLD("LD", _ctx(tmp_path, regression=True), "VarTransform=N")
    m.train(_sample(X, np.ones(200), t=X[:, 0] * 3 + 1))
    back = method_from_content(parse_weights_xml(weights_xml_bytes(build_weights_xml(m))))
    np.testing.assert_array_equal(back.evaluate(X.astype(np.float32)), m.evaluate(X.astype(np.float32)))


@pytest.mark.realdata
def test_root_6_26_regression_file(shared_data: Path) -> None:
    """No TestTree: the response is c0 + Σ c_i x_i with the coefficients read from the XML directly."""
    xml = shared_data / BURST / "TMVARegression_LD.weights.xml"
    root = ET.parse(xml).getroot()
    reader = Reader("Silent")
    variables = list(root.find("Variables") or [])
    for v in variables:
        reader.AddVariable(v.get("Expression"))
    reader.BookMVA("LD", str(xml))
    coef = [float(c.get("Value")) for c in root.iter("Coefficient")]
    lo = np.array([float(v.get("Min")) for v in variables])
    hi = np.array([float(v.get("Max")) for v in variables])
    X = (lo + (hi - lo) * np.random.default_rng(0).random((40, 2))).astype(np.float32)
    expected = coef[0] + X.astype(np.float64) @ np.array(coef[1:])
    got = np.asarray(reader.EvaluateRegression(X, "LD")).reshape(-1)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_tutorial_bookings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    create_class_example("toy.root", n_events=400)
    data = uproot.open("toy.root")
    factory = TMVA.Factory("TMVAClassification", None, "Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"])
    loader.AddBackgroundTree(data["TreeB"])
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    factory.BookMethod(
        loader,
        TMVA.Types.kLD,
        "LD",
        "H:!V:VarTransform=None:CreateMVAPdfs:PDFInterpolMVAPdf=Spline2:NbinsMVAPdf=50:NsmoothMVAPdf=10",
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    assert factory.GetROCIntegral(loader, "LD") > 0.8

    create_regression_example("reg.root", n_events=500)
    reg = uproot.open("reg.root")
    rfactory = TMVA.Factory("TMVARegression", None, "Silent:!DrawProgressBar:AnalysisType=Regression")
    rloader = TMVA.DataLoader("dataset")
    rloader.AddVariable("var1")
    rloader.AddVariable("var2")
    rloader.AddTarget("fvalue")
    rloader.AddRegressionTree(reg["TreeR"], 1.0)
    rloader.SetWeightExpression("var1", "Regression")
    rloader.PrepareTrainingAndTestTree(TCut(""), "nTrain_Regression=300:nTest_Regression=0:SplitMode=Random")
    rfactory.BookMethod(rloader, TMVA.Types.kLD, "LD", "!H:!V:VarTransform=None")
    rfactory.TrainAllMethods()
    rfactory.TestAllMethods()
    rfactory.EvaluateAllMethods()
    assert Path("dataset/weights/TMVARegression_LD.weights.xml").exists()
