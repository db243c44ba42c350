"""KNN: the response against a brute-force neighbour count on small data, the metric, the kernels,
Trim, regression, the weights round trip and the tutorials' bookings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import uproot

from pymva import TMVA, TCut
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.io.weights import build_weights_xml, method_from_content, parse_weights_xml, weights_xml_bytes
from pymva.methods.base import MethodContext
from pymva.methods.knn import MethodKNN, knn_metric
from pymva.toydata import create_class_example, create_regression_example
from pymva.types import EAnalysisType

OPTS = "nkNN=20:ScaleFrac=0.8:SigmaFact=1.0:Kernel=Gaus:UseKernel=F:UseWeight=T:!Trim"  # the tutorials'


def _ctx(tmp_path: Path, regression: bool = False, n_vars: int = 2) -> MethodContext:
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kRegression if regression else EAnalysisType.kClassification,
        variables=tuple(VariableInfo(f"x{i}", f"x{i}", f"x{i}") for i in range(n_vars)),
        class_names=("Regression",) if regression else ("Signal", "Background"),
        targets=(VariableInfo("t", "t", "t", kind="target"),) if regression else (),
        weight_dir=tmp_path / "weights",
    )


def _data(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal([1.0, 0.0], [1.0, 3.0], (n, 2)), rng.normal([-1.0, 0.5], [1.0, 3.0], (n, 2))])
    cid = np.r_[np.zeros(n), np.ones(n)]
    w = rng.uniform(0.5, 1.5, 2 * n)
    return X.astype(np.float32), cid, w.astype(np.float32)


def _sample(X: np.ndarray, cid: np.ndarray, w: np.ndarray, t: np.ndarray | None = None) -> Sample:
    n = len(X)
    return Sample(
        X=X.astype(np.float32),
        targets=(np.zeros((n, 0)) if t is None else t[:, None]).astype(np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=w.astype(np.float32),
        class_id=cid.astype(np.int32),
    )


def _brute_widths(X: np.ndarray, frac: float) -> np.ndarray:
    """ModulekNN::ComputeMetric written out with a loop over the sorted values."""
    n = len(X)
    ifrac = int(100 * frac)
    lf, rf = (100 - ifrac) // 2, 100 - (100 - ifrac) // 2
    out = []
    for j in range(X.shape[1]):
        v = sorted(X[:, j].astype(np.float64))
        lo = hi = None
        for i, x in enumerate(v):
            if (100 * i) // n == lf and lo is None:
                lo = x
            if (100 * i) // n == rf and hi is None:
                hi = x
        if lo is None or hi is None:
            lo, hi = v[0], v[-1]
        out.append(hi - lo)
    return np.array(out)


def test_metric_against_a_loop() -> None:
    X, _, _ = _data(150)
    np.testing.assert_allclose(knn_metric(X, 0.8), _brute_widths(X, 0.8))
    np.testing.assert_allclose(knn_metric(X, 1.0), _brute_widths(X, 1.0))
    with pytest.raises(ModelError, match="100 training events"):
        knn_metric(X[:50], 0.8)


def test_response_is_the_weighted_signal_fraction_of_the_k_nearest(tmp_path: Path) -> None:
    X, cid, w = _data()
    m = MethodKNN("KNN", _ctx(tmp_path), OPTS)
    m.train(_sample(X, cid, w))
    scale = _brute_widths(X, 0.8)
    q = np.random.default_rng(1).normal(0, 2, (40, 2)).astype(np.float32)
    expected = []
    for x in q.astype(np.float64):
        d2 = (((X.astype(np.float64) - x) / scale) ** 2).sum(axis=1)
        nn = np.argsort(d2, kind="stable")[:20]
        expected.append(w[nn][cid[nn] == 0].astype(np.float64).sum() / w[nn].astype(np.float64).sum())
    np.testing.assert_allclose(m.evaluate(q), expected, rtol=1e-6)
    # without weights: the plain count k_S / k
    m2 = MethodKNN("KNN", _ctx(tmp_path), "nkNN=7:ScaleFrac=0:!UseWeight")
    m2.train(_sample(X, cid, w))
    counts = []
    for x in q.astype(np.float64):
        nn = np.argsort(((X.astype(np.float64) - x) ** 2).sum(axis=1), kind="stable")[:7]
        counts.append((cid[nn] == 0).sum() / 7)
    np.testing.assert_allclose(m2.evaluate(q), counts, rtol=1e-6)


def test_kernels_by_hand(tmp_path: Path) -> None:
    X, cid, w = _data(200, seed=4)
    q = np.array([[0.3, -0.2], [-1.0, 2.0]], dtype=np.float32)
    for kernel in ("Gaus", "Poln"):
        m = MethodKNN("KNN", _ctx(tmp_path), f"nkNN=10:ScaleFrac=0:UseKernel:Kernel={kernel}:SigmaFact=0.7")
        m.train(_sample(X, cid, w))
        expected = []
        for x in q.astype(np.float64):
            diff = X.astype(np.float64) - x
            d2 = (diff**2).sum(axis=1)
            nn = np.argsort(d2, kind="stable")[:10]
            if kernel == "Gaus":
                sigma = 0.7 * np.sqrt((diff[nn] ** 2).mean(axis=0))
                k = np.exp(-((diff[nn] ** 2) / (2 * sigma**2)).sum(axis=1))
            else:
                r = np.sqrt(d2[nn]) / np.sqrt(d2[nn].max())
                k = np.where(r < 1, (1 - r**3) ** 3, 0.0)
            ww = w[nn] * k
            expected.append(ww[cid[nn] == 0].sum() / ww.sum())
        np.testing.assert_allclose(m.evaluate(q), expected, rtol=1e-6, err_msg=kernel)


def test_trim_keeps_the_first_events_of_each_class(tmp_path: Path) -> None:
    X, cid, w = _data(150)
    X, cid, w = X[:250], cid[:250], w[:250]  # 150 signal, 100 background
    m = MethodKNN("KNN", _ctx(tmp_path), "nkNN=5:ScaleFrac=0:Trim")
    m.train(_sample(X, cid, w))
    assert len(m._m_types) == 200
    assert m.events_ is not None
    assert len(m.events_) == 250  # the weights file keeps them all, as TMVA's


def test_regression_mean_of_targets(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, (300, 2)).astype(np.float32)
    t = (X[:, 0] ** 2 + X[:, 1]).astype(np.float32)
    w = rng.uniform(0.5, 2.0, 300).astype(np.float32)
    m = MethodKNN("KNN", _ctx(tmp_path, regression=True), "nkNN=8:ScaleFrac=0.8")
    m.train(_sample(X, np.zeros(300), w, t))
    scale = _brute_widths(X, 0.8)
    q = rng.uniform(-1, 1, (20, 2)).astype(np.float32)
    expected = []
    for x in q.astype(np.float64):
        nn = np.argsort((((X - x) / scale) ** 2).sum(axis=1), kind="stable")[:8]
        expected.append((w[nn] * t[nn]).sum() / w[nn].sum())
    np.testing.assert_allclose(m.evaluate(q)[:, 0], expected, rtol=1e-5)


def test_options_and_round_trip(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="UseLDA"):
        MethodKNN("KNN", _ctx(tmp_path), "UseLDA")
    with pytest.raises(OptionError, match="Kernel"):
        MethodKNN("KNN", _ctx(tmp_path), "Kernel=Box")
    assert MethodKNN("KNN", _ctx(tmp_path), "nkNN=0")._opts().nkNN == 10
    X, cid, w = _data(120)
    m = MethodKNN("KNN", _ctx(tmp_path), OPTS)
    m.train(_sample(X, cid, w))
    back = method_from_content(parse_weights_xml(weights_xml_bytes(build_weights_xml(m))))
    q = np.random.default_rng(2).normal(0, 2, (30, 2)).astype(np.float32)
    np.testing.assert_array_equal(back.evaluate(q), m.evaluate(q))
    assert m.ranking() is None


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
    loader.SetBackgroundWeightExpression("weight")
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    factory.BookMethod(loader, TMVA.Types.kKNN, "KNN", "H:" + OPTS)
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    assert factory.GetROCIntegral(loader, "KNN") > 0.75

    create_regression_example("reg.root", n_events=400)
    reg = uproot.open("reg.root")
    rfactory = TMVA.Factory("TMVARegression", None, "Silent:!DrawProgressBar:AnalysisType=Regression")
    rloader = TMVA.DataLoader("dataset")
    rloader.AddVariable("var1")
    rloader.AddVariable("var2")
    rloader.AddTarget("fvalue")
    rloader.AddRegressionTree(reg["TreeR"], 1.0)
    rloader.PrepareTrainingAndTestTree(TCut(""), "nTrain_Regression=300:nTest_Regression=0:SplitMode=Random")
    rfactory.BookMethod(rloader, TMVA.Types.kKNN, "KNN", OPTS)
    rfactory.TrainAllMethods()
    rfactory.TestAllMethods()
    rfactory.EvaluateAllMethods()
    assert Path("dataset/weights/TMVARegression_KNN.weights.xml").exists()
