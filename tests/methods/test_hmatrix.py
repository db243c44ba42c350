"""HMatrix: class means and inverse covariances against numpy's weighted moments, the χ² response
against a hand-written closed form, the weights round trip, errors, and the tutorial booking."""

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
from pymva.methods.hmatrix import MethodHMatrix, hmatrix_class_moments
from pymva.toydata import create_class_example
from pymva.types import EAnalysisType


def _ctx(tmp_path: Path, n_vars: int = 3) -> MethodContext:
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kClassification,
        variables=tuple(VariableInfo(f"x{i}", f"x{i}", f"x{i}") for i in range(n_vars)),
        class_names=("Signal", "Background"),
        weight_dir=tmp_path / "weights",
    )


def _sample(X: np.ndarray, w: np.ndarray, cid: np.ndarray) -> Sample:
    n = len(X)
    return Sample(
        X=X.astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=w.astype(np.float32),
        class_id=cid.astype(np.int32),
    )


def _toy(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cs = np.array([[1.0, 0.4, 0.1], [0.4, 2.0, -0.3], [0.1, -0.3, 0.5]])
    cb = np.array([[1.5, -0.2, 0.0], [-0.2, 1.0, 0.2], [0.0, 0.2, 1.0]])
    X = np.vstack(
        [rng.multivariate_normal([0.5, 0.2, -0.1], cs, n), rng.multivariate_normal([-0.5, 0, 0.3], cb, n)]
    )
    cid = np.r_[np.zeros(n), np.ones(n)]
    w = rng.uniform(0.2, 2.0, 2 * n)
    return X, w, cid


def test_moments_are_numpy_weighted_covariance() -> None:
    X, w, _ = _toy(1)
    mean, cov = hmatrix_class_moments(X, w)
    np.testing.assert_allclose(mean, np.average(X, axis=0, weights=w), rtol=1e-12)
    # bias=True: normalised by the sum of weights, as TMVA's Σ w x xᵀ / Σ w − m mᵀ
    np.testing.assert_allclose(cov, np.cov(X.T, aweights=w, bias=True), rtol=1e-10, atol=1e-12)
    with pytest.raises(ModelError, match="sum of weights"):
        hmatrix_class_moments(X[:2], np.zeros(2))


def test_training_and_response_closed_form(tmp_path: Path) -> None:
    X, w, cid = _toy(2)
    m = MethodHMatrix("HMatrix", _ctx(tmp_path))
    s = _sample(X, w, cid)
    m.train(s)
    x64, w64 = s.X.astype(np.float64), s.weights.astype(np.float64)
    ref = {}
    for c in (0, 1):
        sel = cid == c
        mu = np.average(x64[sel], axis=0, weights=w64[sel])
        cov = np.cov(x64[sel].T, aweights=w64[sel], bias=True)
        ref[c] = (mu, np.linalg.inv(cov))
    assert m.mean_s_ is not None
    assert m.inv_b_ is not None
    np.testing.assert_allclose(m.mean_s_, ref[0][0], rtol=1e-10)
    np.testing.assert_allclose(m.inv_b_, ref[1][1], rtol=1e-8)
    # χ² event by event, as TMVA's double loop over (i, j)
    Xt = np.random.default_rng(5).normal(0, 1.5, (50, 3)).astype(np.float32)
    expected = []
    for x in Xt.astype(np.float64):
        chi = []
        for c in (0, 1):
            d = x - ref[c][0]
            chi.append(sum(d[i] * d[j] * ref[c][1][i, j] for i in range(3) for j in range(3)))
        expected.append((chi[1] - chi[0]) / (chi[0] + chi[1]))
    got = m.evaluate(Xt)
    # float32 output: relative 6e-8 per value; the matrices agree to 1e-8 relative
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-6, atol=1e-7)
    assert np.all(np.abs(got) <= 1.0)
    r = m.evaluate(s.X)
    assert r[cid == 0].mean() > 0 > r[cid == 1].mean()
    assert m.ranking() is None


def test_weights_xml_layout_and_round_trip(tmp_path: Path) -> None:
    X, w, cid = _toy(3, 200)
    m = MethodHMatrix("HMatrix", _ctx(tmp_path), "VarTransform=D")
    m.train(_sample(X, w, cid))
    parent = ET.Element("Weights")
    m.add_weights_xml(parent)
    assert [c.tag for c in parent] == ["VecMeanS", "VecMeanB", "InvHMatS", "InvHMatB"]
    assert (parent[0].get("Rows"), parent[0].get("Columns")) == ("1", "3")
    assert (parent[3].get("Rows"), parent[3].get("Columns")) == ("3", "3")
    back = method_from_content(parse_weights_xml(weights_xml_bytes(build_weights_xml(m))))
    Xe = X[:50].astype(np.float32)
    np.testing.assert_array_equal(back.evaluate(Xe), m.evaluate(Xe))


def test_class_specific_transformation(tmp_path: Path) -> None:
    """With VarTransform=D each χ² sees the event decorrelated with its own class's matrix: then
    the class covariance is the identity and χ²_η is |D_η (x − m_η)|² with m_η the mean before D."""
    X, w, cid = _toy(4, 300)
    m = MethodHMatrix("HMatrix", _ctx(tmp_path), "VarTransform=D")
    m.train(_sample(X, w, cid))
    assert m.inv_s_ is not None
    assert m.inv_b_ is not None
    np.testing.assert_allclose(m.inv_s_, np.eye(3), atol=2e-5)
    np.testing.assert_allclose(m.inv_b_, np.eye(3), atol=2e-5)


def test_bad_files_and_singular(tmp_path: Path) -> None:
    m = MethodHMatrix("HMatrix", _ctx(tmp_path, n_vars=2))
    with pytest.raises(ModelError, match="children"):
        m.read_weights_xml(ET.fromstring("<Weights/>"))
    el = ET.fromstring(
        '<Weights><VecMeanS Rows="1" Columns="3">0 0 0</VecMeanS><VecMeanB Rows="1" Columns="2">0 0</VecMeanB>'
        '<InvHMatS Rows="2" Columns="2">1 0 0 1</InvHMatS><InvHMatB Rows="2" Columns="2">1 0 0 1</InvHMatB></Weights>'
    )
    with pytest.raises(ModelError, match="expected 1x2"):
        m.read_weights_xml(el)
    x = np.arange(20.0)
    X = np.c_[x, 2 * x]
    with pytest.raises(ModelError, match="singular"):
        m.train(_sample(X, np.ones(20), (x % 2 == 0).astype(int)))


def test_tutorial_booking_and_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
    factory.BookMethod(loader, TMVA.Types.kHMatrix, "HMatrix", "!H:!V:VarTransform=None")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    assert factory.GetROCIntegral(loader, "HMatrix") > 0.75
    reader = Reader("Silent")
    for v in ("var1", "var2", "var3", "var4"):
        reader.AddVariable(v)
    xml = "dataset/weights/TMVAClassification_HMatrix.weights.xml"
    reader.BookMVA("HMatrix", xml)
    X = np.random.default_rng(0).normal(0, 1, (5, 4)).astype(np.float32)
    got = np.asarray(reader.EvaluateMVA(X, "HMatrix")).reshape(-1)
    w = ET.parse(xml).getroot().find("Weights")
    assert w is not None
    ms, mb, hs, hb = (np.array((c.text or "").split(), dtype=np.float64) for c in w)
    ds, db = X.astype(np.float64) - ms, X.astype(np.float64) - mb
    chi_s = np.einsum("ij,jk,ik->i", ds, hs.reshape(4, 4), ds)
    chi_b = np.einsum("ij,jk,ik->i", db, hb.reshape(4, 4), db)
    np.testing.assert_allclose(got, (chi_b - chi_s) / (chi_s + chi_b), rtol=1e-6, atol=1e-7)
