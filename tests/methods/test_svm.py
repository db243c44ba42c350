"""SVM: the kernel forms by hand, TMVA's class costs, the response against scikit-learn's SVC/SVR on the
same data and a two-event closed form, a TMVA-layout weights file read back by hand, the weights
round trip, options, and the tutorials' bookings through the Factory."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import uproot
from sklearn.svm import SVC, SVR

from pymva import TMVA, Reader, TCut
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.io.weights import build_weights_xml, method_from_content, parse_weights_xml, weights_xml_bytes
from pymva.methods.base import MethodContext
from pymva.methods.svkernelfunction import SVKernelFunction
from pymva.methods.svm import MethodSVM, svm_class_costs
from pymva.toydata import create_class_example, create_regression_example
from pymva.types import EAnalysisType


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


def _sample(
    X: np.ndarray, w: np.ndarray, cid: np.ndarray | None = None, t: np.ndarray | None = None
) -> Sample:
    n = len(X)
    return Sample(
        X=np.asarray(X, dtype=np.float32),
        targets=(np.zeros((n, 0)) if t is None else t[:, None]).astype(np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=np.asarray(w, dtype=np.float32),
        class_id=(np.zeros(n) if cid is None else cid).astype(np.int32),
    )


def _data(n_sig: int = 120, n_bkg: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.4, 0.5, (n_sig, 2)), rng.normal(-0.4, 0.5, (n_bkg, 2))]).astype(np.float32)
    cid = np.r_[np.zeros(n_sig), np.ones(n_bkg)].astype(np.int32)
    w = rng.uniform(0.5, 1.5, n_sig + n_bkg).astype(np.float32)
    return X, cid, w


# ---------------------------------------------------------------------------------------------- kernels
def test_kernel_forms_by_hand() -> None:
    a = np.array([[1.0, 2.0]])
    b = np.array([[0.0, 1.0]])  # d = (1, 1), a·b = 2
    rbf = SVKernelFunction("RBF", gamma=0.5)
    assert rbf.evaluate(a, b)[0, 0] == pytest.approx(math.exp(-1.0), rel=1e-6)
    mg = SVKernelFunction("MultiGauss", gammas=(0.5, 2.0))
    assert mg.evaluate(a, b)[0, 0] == pytest.approx(math.exp(-2.5), rel=1e-6)
    poly = SVKernelFunction("Polynomial", order=2, theta=1.0)
    assert poly.evaluate(a, b)[0, 0] == pytest.approx(9.0, rel=1e-7)  # (1 + 2)^2
    prod = SVKernelFunction("Prod", gamma=0.5, order=2, theta=1.0, kernels=("RBF", "Polynomial"))
    assert prod.evaluate(a, b)[0, 0] == pytest.approx(9.0 * math.exp(-1.0), rel=1e-6)
    total = SVKernelFunction("Sum", gamma=0.5, order=2, theta=1.0, kernels=("RBF", "Polynomial"))
    assert total.evaluate(a, b)[0, 0] == pytest.approx(9.0 + math.exp(-1.0), rel=1e-6)
    with pytest.raises(OptionError, match="accepted: RBF, MultiGauss, Polynomial, Prod, Sum"):
        SVKernelFunction("Sigmoid")


def test_sklearn_kernel_arguments_give_the_same_gram_matrix() -> None:
    from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel

    rng = np.random.default_rng(4)
    A, B = rng.uniform(-1, 1, (7, 3)), rng.uniform(-1, 1, (5, 3))
    for k in (
        SVKernelFunction("RBF", gamma=0.25),
        SVKernelFunction("MultiGauss", gammas=(0.1, 1.0, 3.0)),
        SVKernelFunction("Polynomial", order=3, theta=0.5),
    ):
        p = k.sklearn_kernel()
        assert p is not None
        a, b = k.sklearn_inputs(A), k.sklearn_inputs(B)
        if p["kernel"] == "rbf":
            ref = rbf_kernel(a, b, gamma=p["gamma"])
        else:
            ref = polynomial_kernel(a, b, degree=p["degree"], gamma=p["gamma"], coef0=p["coef0"])
        np.testing.assert_allclose(k.evaluate(A, B), ref, rtol=3e-6, atol=1e-7)  # float32 kernels
    assert SVKernelFunction("Sum", kernels=("RBF", "Polynomial")).sklearn_kernel() is None


# ---------------------------------------------------------------------------------------------- training
def test_class_costs_follow_tmva_rule() -> None:
    assert svm_class_costs(2.0, 30, 60) == (2.0, 1.0)  # fewer signal: C_S = C, C_B = C N_S/N_B
    assert svm_class_costs(2.0, 60, 30) == (4.0, 2.0)  # else C_B = C, C_S = C N_S/N_B
    assert svm_class_costs(2.0, 40, 40) == (2.0, 2.0)
    with pytest.raises(ModelError, match="no background"):
        svm_class_costs(1.0, 10, 0)


def test_two_events_closed_form(tmp_path: Path) -> None:
    """Signal at +½, background at −½, RBF: α = 1/(1 − e^{−γ}) for both, b = 0, so the response is
    sigmoid(α (K(x, ½) − K(x, −½)))."""
    m = MethodSVM("SVM", _ctx(tmp_path, n_vars=1), "Gamma=1:C=100:Tol=1e-6")
    m.train(_sample(np.array([[0.5], [-0.5]]), np.ones(2), np.array([0, 1])))
    alpha = 1.0 / (1.0 - math.exp(-1.0))
    assert m.alpha_ is not None
    assert m.type_flag_ is not None
    np.testing.assert_allclose(np.sort(m.alpha_), [alpha, alpha], rtol=1e-5)
    assert sorted(m.type_flag_.tolist()) == [-1, 1]
    assert abs(m.bparm_) < 1e-5
    x = np.array([[0.5], [0.0], [-0.5], [0.2]], dtype=np.float32)
    f = alpha * (np.exp(-((x[:, 0] - 0.5) ** 2)) - np.exp(-((x[:, 0] + 0.5) ** 2)))
    np.testing.assert_allclose(m.evaluate(x), 1.0 / (1.0 + np.exp(-f)), atol=2e-6)
    assert m.evaluate(x)[0] == pytest.approx(1.0 / (1.0 + math.exp(-1.0)), abs=2e-6)  # margin: f = 1


@pytest.mark.parametrize(
    ("options", "kernel"),
    [
        ("Gamma=0.75:C=3:Tol=0.001", {"kernel": "rbf", "gamma": 0.75}),
        (
            "Kernel=Polynomial:Order=2:Theta=0.5:C=0.5:Tol=0.001",
            {"kernel": "poly", "degree": 2, "gamma": 1.0, "coef0": 0.5},
        ),
    ],
)
def test_classification_matches_sklearn_svc(tmp_path: Path, options: str, kernel: dict[str, float]) -> None:
    """TMVA's per-event costs (N_S=120 > N_B=80: C_S = C·1.5, C_B = C) times the weights, rounded to
    float32 as TMVA's ``fCweight``, libsvm's tol = 2·Tol: the response is the sigmoid of SVC's decision
    function (same libsvm, same inputs; the parameters are exact in float32)."""
    X, cid, w = _data()
    m = MethodSVM("SVM", _ctx(tmp_path), options)
    m.train(_sample(X, w, cid))
    C = float(re.search(r":C=([0-9.]+)", options).group(1))  # type: ignore[union-attr]
    ci = (np.where(cid == 0, C * 120 / 80, C) * w.astype(np.float64)).astype(np.float32).astype(np.float64)
    ref = SVC(C=1.0, tol=0.002, **kernel).fit(X.astype(np.float64), (cid == 0).astype(int), sample_weight=ci)
    q = np.random.default_rng(9).uniform(-1.5, 1.5, (50, 2)).astype(np.float32)
    expected = 1.0 / (1.0 + np.exp(-ref.decision_function(q.astype(np.float64))))
    np.testing.assert_allclose(m.evaluate(q), expected, atol=2e-5)  # float32 kernels and α
    assert len(m.alpha_ if m.alpha_ is not None else []) == len(ref.support_)


def test_multigauss_matches_svc_on_its_gram_matrix(tmp_path: Path) -> None:
    X, cid, w = _data(seed=1)
    gam = np.array([0.3, 2.0])
    m = MethodSVM("SVM", _ctx(tmp_path), "Kernel=MultiGauss:GammaList=0.3,2.0:C=1:Tol=0.001")
    m.train(_sample(X, w, cid))

    def gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = (a[:, None, :].astype(np.float64) - b[None, :, :]) ** 2
        return np.exp(-(d2 * gam).sum(axis=2))

    ci = (np.where(cid == 0, 1.5, 1.0) * w.astype(np.float64)).astype(np.float32).astype(np.float64)
    ref = SVC(C=1.0, tol=0.002, kernel="precomputed").fit(
        gram(X, X), (cid == 0).astype(int), sample_weight=ci
    )
    q = np.random.default_rng(5).uniform(-1.5, 1.5, (40, 2)).astype(np.float32)
    expected = 1.0 / (1.0 + np.exp(-ref.decision_function(gram(q, X))))
    np.testing.assert_allclose(m.evaluate(q), expected, atol=1e-4)


def test_regression_matches_sklearn_svr(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (150, 2)).astype(np.float32)
    t = (np.sin(2 * X[:, 0]) + 0.5 * X[:, 1]).astype(np.float32)
    w = rng.uniform(0.5, 1.5, 150).astype(np.float32)
    m = MethodSVM("SVM", _ctx(tmp_path, regression=True), "Gamma=0.5:C=5:Tol=0.001")
    assert pytest.approx(0.002) == MethodSVM("SVM", _ctx(tmp_path, regression=True))._opts().C
    m.train(_sample(X, w, t=t))
    eps = 0.001 * float(np.float32(0.001))  # the tube 0.001·Tol of TakeStepReg, Tol a Float_t
    ref = SVR(C=1.0, epsilon=eps, tol=0.002, gamma=0.5).fit(X, t, sample_weight=(5.0 * w).astype(np.float32))
    q = rng.uniform(-1, 1, (30, 2)).astype(np.float32)
    np.testing.assert_allclose(m.evaluate(q)[:, 0], ref.predict(q), atol=2e-4)
    assert m.type_flag_ is not None
    assert set(m.type_flag_.tolist()) == {-1}


# ---------------------------------------------------------------------------------------------- files
def test_tmva_layout_weights_are_read_as_tmva_evaluates_them(tmp_path: Path) -> None:
    """A hand-made ``<Weights>`` in TMVA's layout: response 1/(1 + exp(Σ α y K − b)), y = −1 signal."""
    m = MethodSVM("SVM", _ctx(tmp_path), "Gamma=0.5")
    X, cid, w = _data(20, 20)
    m.train(_sample(X, w, cid))
    xml = weights_xml_bytes(build_weights_xml(m)).decode()
    weights = (
        '<Weights fBparm="2.5000000000000000e-01" fGamma="5.0000000000000000e-01" fGammaList="" '
        'fTheta="1.0000000000000000e+00" fOrder="3" NSupVec="2">\n'
        '<SupportVector Rows="1" Columns="6">0 -1 1.5 0 1.0 0.0 </SupportVector>\n'
        '<SupportVector Rows="1" Columns="6">7 1 0.5 0 0.0 -1.0 </SupportVector>\n'
        '<Maxima Var0="1" Var1="1"/><Minima Var0="-1" Var1="-1"/></Weights>'
    )
    xml = re.sub(r"<Weights .*</Weights>", weights, xml, flags=re.DOTALL)
    back = method_from_content(parse_weights_xml(xml.encode()))
    q = np.array([[1.0, 0.0], [0.0, -1.0], [0.3, 0.4]], dtype=np.float32)
    k1 = np.exp(-0.5 * ((q[:, 0] - 1.0) ** 2 + q[:, 1] ** 2))
    k2 = np.exp(-0.5 * (q[:, 0] ** 2 + (q[:, 1] + 1.0) ** 2))
    f = 1.5 * (-1) * k1 + 0.5 * (+1) * k2 - 0.25
    np.testing.assert_allclose(back.evaluate(q), 1.0 / (1.0 + np.exp(f)), rtol=1e-6)
    bad = re.sub(r'NSupVec="2"', 'NSupVec="3"', xml)
    with pytest.raises(ModelError, match="NSupVec=3"):
        method_from_content(parse_weights_xml(bad.encode()))


@pytest.mark.parametrize(
    "options", ["Gamma=0.5:VarTransform=N", "Kernel=Sum:KernelList=RBF+MultiGauss:GammaList=1,2"]
)
def test_weights_round_trip(tmp_path: Path, options: str) -> None:
    X, cid, w = _data(60, 60, seed=2)
    m = MethodSVM("SVM", _ctx(tmp_path), options)
    m.train(_sample(X, w, cid))
    text = weights_xml_bytes(build_weights_xml(m))
    back = method_from_content(parse_weights_xml(text))
    q = np.random.default_rng(2).normal(0, 1, (30, 2)).astype(np.float32)
    np.testing.assert_allclose(back.evaluate(q), m.evaluate(q), rtol=1e-6)  # α, b through 16 digits


def test_options(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    o = MethodSVM("SVM", ctx)._opts()
    assert (o.Kernel, o.Gamma, o.C, o.Tol, o.MaxIter, o.Order, o.Theta, o.Loss) == (
        "RBF",
        1.0,
        1.0,
        0.01,
        1000,
        3,
        1.0,
        "hinge",
    )
    with pytest.raises(OptionError, match="IgnoreNegWeightsInTraining"):
        MethodSVM("SVM", ctx, "IgnoreNegWeightsInTraining")
    with pytest.raises(OptionError, match="Kernel"):
        MethodSVM("SVM", ctx, "Kernel=Sigmoid")
    with pytest.raises(OptionError, match="C"):
        MethodSVM("SVM", ctx, "C=0")
    with pytest.raises(OptionError, match="GammaList"):
        MethodSVM("SVM", ctx, "Kernel=MultiGauss:GammaList=1,2,3").setup()
    with pytest.raises(OptionError, match="KernelList"):
        MethodSVM("SVM", ctx, "Kernel=Prod:KernelList=RBF*Linear").setup()
    MethodSVM("SVM", ctx, "Kernel=Prod:KernelList=RBF*Polynomial").setup()


# ---------------------------------------------------------------------------------------------- tutorials
def test_tutorial_bookings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TMVAClassification.C and TMVARegression.C book ``Gamma=0.25:Tol=0.001:VarTransform=Norm``; the
    Reader reproduces the TestTree responses from the weights files."""
    booking = "Gamma=0.25:Tol=0.001:VarTransform=Norm"
    monkeypatch.chdir(tmp_path)
    create_class_example("toy.root", n_events=300)
    data = uproot.open("toy.root")
    factory = TMVA.Factory(
        "TMVAClassification", "TMVA.root", "Silent:!DrawProgressBar:AnalysisType=Classification"
    )
    loader = TMVA.DataLoader("dataset")
    names = ("var1", "var2", "var3", "var4")
    for v in names:
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"])
    loader.AddBackgroundTree(data["TreeB"])
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    factory.BookMethod(loader, TMVA.Types.kSVM, "SVM", booking)
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    # the toy classes overlap by ~1.6σ: a linear cut alone gives an area of ~0.85
    assert factory.GetROCIntegral(loader, "SVM") > 0.8
    with uproot.open("TMVA.root") as f:
        test = f["dataset/TestTree"].arrays(library="np")
    assert np.all((test["SVM"] > 0) & (test["SVM"] < 1))
    reader = Reader("!Color:Silent")
    buffers = [np.zeros(1, np.float32) for _ in names]
    for v, buf in zip(names, buffers, strict=True):
        reader.AddVariable(v, buf)
    reader.BookMVA("SVM", "dataset/weights/TMVAClassification_SVM.weights.xml")
    X = np.stack([test[v] for v in names], axis=1).astype(np.float32)
    np.testing.assert_allclose(np.array(reader.EvaluateMVA(X, "SVM")), test["SVM"], rtol=0, atol=2**-23)

    create_regression_example("reg.root", n_events=300)
    reg = uproot.open("reg.root")
    rfactory = TMVA.Factory(
        "TMVARegression", "TMVAReg.root", "Silent:!DrawProgressBar:AnalysisType=Regression"
    )
    rloader = TMVA.DataLoader("dataset")
    rloader.AddVariable("var1")
    rloader.AddVariable("var2")
    rloader.AddTarget("fvalue")
    rloader.AddRegressionTree(reg["TreeR"], 1.0)
    rloader.PrepareTrainingAndTestTree(TCut(""), "nTrain_Regression=200:nTest_Regression=0:SplitMode=Random")
    rfactory.BookMethod(rloader, TMVA.Types.kSVM, "SVM", booking)
    rfactory.TrainAllMethods()
    rfactory.TestAllMethods()
    rfactory.EvaluateAllMethods()
    with uproot.open("TMVAReg.root") as f:
        rtest = f["dataset/TestTree"].arrays(["fvalue", "SVM"], library="np")
    # C = 0.002 (TMVA's regression default) shrinks the response towards b, but it follows the target
    assert np.corrcoef(rtest["SVM"], rtest["fvalue"])[0, 1] > 0.5
    assert rtest["fvalue"].min() < rtest["SVM"].min() < rtest["SVM"].max() < rtest["fvalue"].max()
