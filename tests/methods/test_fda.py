"""FDA: TMVA's formula rewriting and ParRanges, the estimator against its definition, fits of a
linear formula against the closed-form weighted least squares (MINUIT tightly, GA/MC/SA loosely),
regression, the weights XML and round trip, option errors, and the TMVAClassification.C bookings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import uproot

from pymva import TMVA, Reader, TCut
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.io.weights import build_weights_xml, method_from_content, parse_weights_xml, weights_xml_bytes
from pymva.methods.base import MethodContext
from pymva.methods.fda import FDAFormula, MethodFDA, parse_par_ranges
from pymva.toydata import create_class_example
from pymva.types import EAnalysisType

LINEAR = "Formula=(0)+(1)*x0+(2)*x1:ParRanges=(-1,1);(-10,10);(-10,10)"


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
        X=X.astype(np.float32),
        targets=(np.zeros((n, 0)) if t is None else t[:, None]).astype(np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=w.astype(np.float32),
        class_id=(np.zeros(n) if cid is None else cid).astype(np.int32),
    )


def _toy(seed: int = 1, n_sig: int = 400, n_bkg: int = 600) -> Sample:
    """Gaussian classes of different sizes and weights, so that the per-class normalisation matters."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal([0.5, 0.3], 1.0, (n_sig, 2)), rng.normal([-0.5, -0.2], 1.2, (n_bkg, 2))])
    cid = np.r_[np.zeros(n_sig), np.ones(n_bkg)]
    w = np.r_[rng.uniform(0.5, 1.5, n_sig), rng.uniform(1.0, 3.0, n_bkg)]
    return _sample(X, w, cid)


def _closed_form(s: Sample) -> tuple[np.ndarray, float]:
    """Minimum of Σ_S w (F−1)²/W_S + Σ_B w F²/W_B for F = p0 + p1 x0 + p2 x1: weighted lstsq."""
    x = s.X.astype(np.float64)
    w = s.weights.astype(np.float64)
    y = (s.class_id == 0).astype(np.float64)
    nw = np.where(y == 1, w / w[y == 1].sum(), w / w[y == 0].sum())
    A = np.c_[np.ones(len(x)), x]
    p = np.linalg.lstsq(A * np.sqrt(nw)[:, None], y * np.sqrt(nw), rcond=None)[0]
    return p, float(np.sum((A @ p - y) ** 2 * nw))


def test_formula_rewriting_as_tmva() -> None:
    f = FDAFormula("(0)+(1)*x0+(2)*x1+(3)*x10", 4, 11)
    # x10 is replaced before x1 (variables from the last down), the parameters by plain replacement
    assert (
        f.rewritten == "(FDA_PAR_0)+(FDA_PAR_1)*(FDA_VAR_0)+(FDA_PAR_2)*(FDA_VAR_1)+(FDA_PAR_3)*(FDA_VAR_10)"
    )
    X = np.arange(22.0).reshape(2, 11)
    np.testing.assert_array_equal(f([1, 2, 3, 4], X), 1 + 2 * X[:, 0] + 3 * X[:, 1] + 4 * X[:, 10])
    g = FDAFormula("(0)*exp(-x0*x0/(1))", 2, 1)
    np.testing.assert_allclose(g([2.0, 0.5], np.array([[1.0], [0.0]])), [2 * np.exp(-2.0), 2.0])
    with pytest.raises(OptionError, match=r'"\(2\)", which cannot be attributed to a parameter'):
        FDAFormula("(0)+(2)*x0", 2, 1)
    with pytest.raises(OptionError, match='"x3", which cannot be attributed to an input variable'):
        FDAFormula("(0)+x3", 1, 2)
    with pytest.raises(OptionError, match="neither a parameter"):
        FDAFormula("(0)+var1", 1, 2)
    with pytest.raises(OptionError, match="could not be compiled"):
        FDAFormula("(0)+*x0", 1, 1)


def test_par_ranges() -> None:
    r = parse_par_ranges("(-1, 1);(-10,10);(0.1,0.1)")
    assert [(i.GetMin(), i.GetMax()) for i in r] == [
        (-1.0, 1.0),
        (-10.0, 10.0),
        (np.float32(0.1), np.float32(0.1)),
    ]
    assert r[2].GetWidth() == 0.0
    assert [(i.GetMin(), i.GetMax()) for i in parse_par_ranges("()")] == [(0.0, 0.0)]  # TMVA's default
    with pytest.raises(OptionError, match="number of parameters: 2 != ranges defined: 1"):
        parse_par_ranges("(-1,1)(2,3)")
    with pytest.raises(OptionError, match="max > min"):
        parse_par_ranges("(1,-1)")
    with pytest.raises(OptionError, match="not a number"):
        parse_par_ranges("(a,1)")


def test_estimator_is_tmva_definition(tmp_path: Path) -> None:
    """The fitted estimator equals Σ_S w(F−1)²/W_S + Σ_B w F²/W_B evaluated by hand."""
    s = _toy()
    m = MethodFDA("FDA", _ctx(tmp_path), LINEAR)
    m.train(s)
    assert m.parameters_ is not None
    p = m.parameters_
    x = s.X.astype(np.float64)
    w = s.weights.astype(np.float64)
    F = p[0] + p[1] * x[:, 0] + p[2] * x[:, 1]
    sig = s.class_id == 0
    by_hand = (
        np.sum(w[sig] * (F[sig] - 1) ** 2) / w[sig].sum() + np.sum(w[~sig] * F[~sig] ** 2) / w[~sig].sum()
    )
    assert m.estimator_ == pytest.approx(by_hand, rel=1e-12)
    np.testing.assert_allclose(m.evaluate(s.X), F.astype(np.float32), rtol=1e-6, atol=1e-6)


def test_minuit_reaches_the_least_squares_optimum(tmp_path: Path) -> None:
    s = _toy()
    ref, best = _closed_form(s)
    m = MethodFDA("FDA_MT", _ctx(tmp_path), LINEAR + ":FitMethod=MINUIT:ErrorLevel=1:FitStrategy=2:SetBatch")
    m.train(s)
    assert m.parameters_ is not None
    assert m.estimator_ is not None
    # TMVA's MINUIT stops at EDM < 0.001·Tolerance·ErrorLevel = 1e-4; pymva's fit ends well inside
    # that: an excess of at most 1e-6 over the minimum of the quadratic estimator
    excess = m.estimator_ - best
    assert -1e-12 <= excess < 1e-6
    # which bounds the parameters: ½ δᵀHδ <= excess, so |δ| <= sqrt(2·excess/λ_min(H))
    x = np.c_[np.ones(len(s.X)), s.X.astype(np.float64)]
    w = s.weights.astype(np.float64)
    sig = s.class_id == 0
    nw = np.where(sig, w / w[sig].sum(), w / w[~sig].sum())
    lam = np.linalg.eigvalsh(2 * (x * nw[:, None]).T @ x).min()
    np.testing.assert_allclose(m.parameters_, ref, atol=np.sqrt(2 * 1e-6 / lam))


@pytest.mark.parametrize(
    ("fit", "param_tol", "est_rel"),
    [
        # GA (differential evolution): converged when the best fitness changed less than ConvCrit
        # for Steps generations; on this bowl that leaves parameters within ~1e-2
        ("FitMethod=GA:PopSize=100:Cycles=2:Steps=5:Trim=True:SaveBestGen=1", 3e-2, 1e-3),
        # MC + MINUIT converger: the best of 20 MINUIT fits, each from a random start
        (
            "FitMethod=MC:Converger=MINUIT:SampleSize=20:FitStrategy=0:!UseImprove:!UseMinos:SetBatch",
            2e-4,
            1e-8,
        ),
        # SA with a local search (scipy's dual annealing) lands at the minimum
        (
            "FitMethod=SA:MaxCalls=15000:KernelTemp=IncAdaptive:InitialTemp=1e+6:MinTemp=1e-6:Eps=1e-10",
            1e-3,
            1e-6,
        ),
    ],
)
def test_global_fitters_reach_the_optimum(tmp_path: Path, fit: str, param_tol: float, est_rel: float) -> None:
    s = _toy(2)
    ref, best = _closed_form(s)
    m = MethodFDA("FDA", _ctx(tmp_path), f"{LINEAR}:{fit}")
    m.train(s)
    assert m.parameters_ is not None
    np.testing.assert_allclose(m.parameters_, ref, atol=param_tol)
    assert m.estimator_ == pytest.approx(best, rel=est_rel)


def test_plain_mc_is_a_coarse_search(tmp_path: Path) -> None:
    """2000 uniform draws in a 3-d box: no better than the optimum, and far better than the start."""
    s = _toy(3)
    _, best = _closed_form(s)
    m = MethodFDA("FDA", _ctx(tmp_path), f"{LINEAR}:FitMethod=MC:SampleSize=2000")
    m.train(s)
    assert m.estimator_ is not None
    assert best <= m.estimator_ < 2.0 * best + 0.2


def test_regression_fit(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(0, 1, (500, 2))
    t = 0.7 + 1.5 * X[:, 0] - 2.5 * X[:, 1] + rng.normal(0, 0.1, 500)
    w = rng.uniform(0.5, 2.0, 500)
    s = _sample(X, w, t=t)
    m = MethodFDA("FDA", _ctx(tmp_path, regression=True), LINEAR)
    m.train(s)
    A = np.c_[np.ones(500), s.X.astype(np.float64)] * np.sqrt(s.weights.astype(np.float64))[:, None]
    ref = np.linalg.lstsq(
        A, s.targets[:, 0].astype(np.float64) * np.sqrt(s.weights.astype(np.float64)), rcond=None
    )[0]
    assert m.parameters_ is not None
    np.testing.assert_allclose(m.parameters_, ref, atol=2e-4)
    assert m.evaluate(s.X).shape == (500, 1)


def test_weights_xml_and_round_trip(tmp_path: Path) -> None:
    s = _toy(5)
    m = MethodFDA("FDA", _ctx(tmp_path), LINEAR + ":VarTransform=N")
    m.train(s)
    parent = ET.Element("Weights")
    m.add_weights_xml(parent)
    assert (parent.get("NPars"), parent.get("NDim"), parent.get("Formula")) == ("3", "1", "(0)+(1)*x0+(2)*x1")
    assert [(c.tag, c.get("Index")) for c in parent] == [
        ("Parameter", "0"),
        ("Parameter", "1"),
        ("Parameter", "2"),
    ]
    back = method_from_content(parse_weights_xml(weights_xml_bytes(build_weights_xml(m))))
    np.testing.assert_array_equal(back.evaluate(s.X), m.evaluate(s.X))
    # the stored options are FDA's own, no fitter option
    names = {o.get("name") for o in ET.fromstring(weights_xml_bytes(build_weights_xml(m))).iter("Option")}
    assert {"Formula", "ParRanges", "FitMethod", "Converger"} <= names
    assert "ErrorLevel" not in names


def test_read_a_hand_written_file(tmp_path: Path) -> None:
    """A <Weights> as TMVA writes it: the response is the formula with the stored values."""
    m = MethodFDA("FDA", _ctx(tmp_path))
    el = ET.fromstring(
        '<Weights NPars="2" NDim="1" Formula="(0)*x1+(1)*x0*x0">'
        '<Parameter Index="0" Value="2.5"/><Parameter Index="1" Value="-1.0"/></Weights>'
    )
    m.read_weights_xml(el)
    X = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)
    np.testing.assert_allclose(m.evaluate(X), [2.5 * 2 - 1, -2.5 - 9])
    with pytest.raises(ModelError, match="index out of range"):
        m.read_weights_xml(
            ET.fromstring('<Weights NPars="1" Formula="(0)"><Parameter Index="3" Value="1"/></Weights>')
        )
    with pytest.raises(ModelError, match="NDim=3"):
        m.read_weights_xml(ET.fromstring('<Weights NPars="1" NDim="3" Formula="(0)"/>'))


def test_option_errors(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    with pytest.raises(OptionError, match=r"could not be interpreted.*PopSize"):
        MethodFDA("FDA", ctx, LINEAR + ":FitMethod=MINUIT:PopSize=10")
    with pytest.raises(OptionError, match="FitMethod"):
        MethodFDA("FDA", ctx, LINEAR + ":FitMethod=Simplex")
    with pytest.raises(OptionError, match="NoSuchOption"):
        MethodFDA("FDA", ctx, LINEAR + ":NoSuchOption=1")
    with pytest.raises(OptionError, match="PopSize"):
        MethodFDA("FDA", ctx, LINEAR + ":FitMethod=GA:PopSize=abc")
    # keyword arguments reach the fitter too
    m = MethodFDA("FDA", ctx, LINEAR, FitMethod="MC", SampleSize=5)
    assert m.fitter_options == "SampleSize=5"
    assert not MethodFDA.has_analysis_type(EAnalysisType.kMulticlass, 3, 0)


TUTORIAL = "H:!V:Formula=(0)+(1)*x0+(2)*x1+(3)*x2+(4)*x3:ParRanges=(-1,1);(-10,10);(-10,10);(-10,10);(-10,10)"
BOOKINGS = {
    "FDA_MC": TUTORIAL + ":FitMethod=MC:SampleSize=100000:Sigma=0.1",
    "FDA_GA": TUTORIAL + ":FitMethod=GA:PopSize=100:Cycles=2:Steps=5:Trim=True:SaveBestGen=1",
    "FDA_SA": TUTORIAL
    + ":FitMethod=SA:MaxCalls=15000:KernelTemp=IncAdaptive:InitialTemp=1e+6:MinTemp=1e-6:Eps=1e-10:UseDefaultScale",
    "FDA_MT": TUTORIAL
    + ":FitMethod=MINUIT:ErrorLevel=1:PrintLevel=-1:FitStrategy=2:UseImprove:UseMinos:SetBatch",
    "FDA_GAMT": TUTORIAL
    + ":FitMethod=GA:Converger=MINUIT:ErrorLevel=1:PrintLevel=-1:FitStrategy=0:!UseImprove"
    ":!UseMinos:SetBatch:Cycles=1:PopSize=5:Steps=5:Trim",
    "FDA_MCMT": TUTORIAL
    + ":FitMethod=MC:Converger=MINUIT:ErrorLevel=1:PrintLevel=-1:FitStrategy=0:!UseImprove"
    ":!UseMinos:SetBatch:SampleSize=20",
}


def test_tutorial_bookings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    create_class_example("toy.root", n_events=300)
    data = uproot.open("toy.root")
    factory = TMVA.Factory("TMVAClassification", None, "Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"])
    loader.AddBackgroundTree(data["TreeB"])
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    for title, opts in BOOKINGS.items():
        # FDA_MC as booked, with 3000 instead of 100000 samples (each costs one formula evaluation)
        factory.BookMethod(
            loader, TMVA.Types.kFDA, title, opts.replace("SampleSize=100000", "SampleSize=3000")
        )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    pars = {}
    for title in BOOKINGS:
        w = ET.parse(f"dataset/weights/TMVAClassification_{title}.weights.xml").getroot().find("Weights")
        assert w is not None
        pars[title] = np.array([float(c.get("Value", "nan")) for c in w])
    # the estimator is the same quadratic bowl for all: MINUIT's minimum is reached by the
    # converged fitters and by SA's local search (to the fits' 1e-6 level in the estimator, which
    # allows parameter offsets of a few 1e-4 here), by GA to its convergence criterion (ConvCrit =
    # 1e-3 in the estimator: offsets up to a few 1e-2)
    for title, tol in (("FDA_SA", 2e-3), ("FDA_GAMT", 2e-3), ("FDA_MCMT", 2e-3), ("FDA_GA", 5e-2)):
        np.testing.assert_allclose(pars[title], pars["FDA_MT"], atol=tol, err_msg=title)
    for title in BOOKINGS:
        # 3000 Gaussian steps of 0.1 × the range (Sigma) are a coarse search: FDA_MC separates less
        assert factory.GetROCIntegral(loader, title) > (0.6 if title == "FDA_MC" else 0.8), title
    reader = Reader("Silent")
    for v in ("var1", "var2", "var3", "var4"):
        reader.AddVariable(v)
    xml = "dataset/weights/TMVAClassification_FDA_MT.weights.xml"
    reader.BookMVA("FDA_MT", xml)
    w = ET.parse(xml).getroot().find("Weights")
    assert w is not None
    p = np.array([float(c.get("Value", "nan")) for c in w])
    X = np.random.default_rng(0).normal(0, 1, (6, 4)).astype(np.float32)
    got = np.asarray(reader.EvaluateMVA(X, "FDA_MT")).reshape(-1)
    np.testing.assert_allclose(got, p[0] + X.astype(np.float64) @ p[1:], rtol=1e-6, atol=1e-6)
