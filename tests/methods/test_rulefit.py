"""RuleFit (``Types.kRuleFit``): rule cuts, the ensemble's response by hand, the rule matrix against
per-rule masks, linear terms, the gradient-directed path against least squares, importances, the
weights-file round trip, options, and the tutorial booking through the Factory and the Reader."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import uproot
from sklearn.linear_model import LinearRegression

from pymva import TMVA, Reader, TCut
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.io.weights import build_weights_xml, method_from_content, parse_weights_xml, weights_xml_bytes
from pymva.methods.base import MethodContext
from pymva.methods.decisiontree import DecisionTree
from pymva.methods.ruleensemble import RuleEnsemble, rule_cuts_from_path
from pymva.methods.rulefit import MethodRuleFit, _linear_terms, make_rules, remove_similar_rules
from pymva.methods.rulefitparams import GDSettings, make_gd_path, sample_ranges
from pymva.methods.trandom3 import TRandom3
from pymva.toydata import create_class_example
from pymva.types import EAnalysisType

TUTORIAL = (
    "H:!V:RuleFitModule=RFTMVA:Model=ModRuleLinear:MinImp=0.001:RuleMinDist=0.001:NTrees=20:fEventsMin=0.01:"
    "fEventsMax=0.5:GDTau=-1.0:GDTauPrec=0.01:GDStep=0.01:GDNSteps=10000:GDErrScale=1.02"
)


def _ctx(tmp_path: Path, n_vars: int = 2) -> MethodContext:
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
        X=np.asarray(X, dtype=np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=np.asarray(w, dtype=np.float32),
        class_id=np.asarray(cid, dtype=np.int32),
    )


def _data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.5, 0.7, (n, 2)), rng.normal(-0.5, 0.7, (n, 2))]).astype(np.float32)
    cid = np.r_[np.zeros(n), np.ones(n)].astype(np.int32)
    perm = rng.permutation(2 * n)
    return X[perm], cid[perm], rng.uniform(0.5, 1.5, 2 * n).astype(np.float32)


def _hand_ensemble() -> RuleEnsemble:
    """Rule 0: x0 > 1; rule 1: -1 < x1 < 2 and x0 < 0.5; linear terms on both variables."""
    return RuleEnsemble(
        learning_model=0,
        n_variables=2,
        offset=-0.25,
        coefficient=np.array([0.5, -0.75]),
        importance=np.zeros(2),
        importance_ref=np.ones(2),
        support=np.array([0.3, 0.2]),
        sigma=np.sqrt([0.3 * 0.7, 0.2 * 0.8]),
        norm=np.ones(2),
        ssb=np.array([0.8, 0.1]),
        ssb_neve=np.array([30.0, 20.0]),
        cut_rule=np.array([0, 1, 1]),
        cut_selector=np.array([0, 0, 1]),
        cut_min=np.array([1.0, 0.0, -1.0]),
        cut_max=np.array([0.0, 0.5, 2.0]),
        cut_do_min=np.array([True, False, True]),
        cut_do_max=np.array([False, True, True]),
        lin_ok=np.array([True, False]),
        lin_coefficient=np.array([0.2, 5.0]),
        lin_norm=np.array([2.0, 3.0]),
        lin_dm=np.array([-1.5, -1.0]),
        lin_dp=np.array([1.5, 1.0]),
        lin_importance=np.zeros(2),
    )


# ---------------------------------------------------------------------------------------------- rules
def test_rule_cuts_from_path_follow_tmva() -> None:
    # steps (selector, value, direction); per selector the smallest '+1' value and largest '-1' value
    sel, lo, hi, dlo, dhi = rule_cuts_from_path([1, 0, 0, 1], [2.0, 3.0, 1.0, 5.0], [-1, 1, 1, -1])
    assert sel == [0, 1]
    assert (lo[0], dlo[0], dhi[0]) == (1.0, True, False)
    assert (hi[1], dhi[1], dlo[1]) == (5.0, True, False)


def test_rules_from_a_tree_in_tmva_order() -> None:
    # root: x0 at 1 (right daughter 1, left 2); node 1: x1 at 2 (right 3, left 4)
    n = 5
    tree = DecisionTree(
        left=np.array([2, 4, -1, -1, -1]),
        right=np.array([1, 3, -1, -1, -1]),
        depth=np.array([0, 1, 1, 2, 2]),
        ivar=np.array([0, 1, -1, -1, -1]),
        cut=np.array([1.0, 2.0, 0, 0, 0], dtype=np.float32),
        cut_type=np.ones(n, bool),
        node_type=np.array([0, 0, -1, 1, -1]),
        purity=np.full(n, 0.5, np.float32),
        response=np.zeros(n, np.float32),
        rms=np.zeros(n, np.float32),
        fisher=np.zeros((n, 3)),
        n_coef=np.zeros(n, dtype=np.intp),
        nsig=np.zeros(n),
        nbkg=np.zeros(n),
    )
    rules = make_rules(tree)
    # a node, then its right subtree, then its left subtree; the root makes no rule
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rules] == [
        ([0], [1.0], [0.0], [True], [False]),
        ([0, 1], [1.0, 2.0], [0.0, 0.0], [True, True], [False, False]),
        ([0, 1], [1.0, 0.0], [0.0, 2.0], [True, False], [False, True]),
        ([0], [0.0], [1.0], [False], [True]),
    ]


def test_hand_built_ensemble_response() -> None:
    ens = _hand_ensemble()
    X = np.array([[1.2, 0.0], [0.2, 1.9], [0.2, 2.0], [-3.0, -0.5], [1.0, 5.0]], dtype=np.float32)
    x0 = X[:, 0].astype(np.float64)
    r0 = np.array([1, 0, 0, 0, 0])  # x0 > 1 (1.0 is not > 1)
    r1 = np.array([0, 1, 0, 1, 0])  # x0 < 0.5 and -1 < x1 < 2 (2.0 is not < 2)
    lin0 = 0.2 * 2.0 * np.clip(x0, -1.5, 1.5)  # the second linear term is not OK
    expected = -0.25 + 0.5 * r0 - 0.75 * r1 + lin0
    np.testing.assert_allclose(ens.evaluate(X), expected, rtol=0, atol=1e-15)
    assert ens.rule_matrix(X).astype(int).T.tolist() == [r0.tolist(), r1.tolist()]
    ens.learning_model = 1  # ModRule: linear terms off
    np.testing.assert_allclose(ens.evaluate(X), -0.25 + 0.5 * r0 - 0.75 * r1, atol=1e-15)
    ens.learning_model = 2  # ModLinear: rules off
    np.testing.assert_allclose(ens.evaluate(X), -0.25 + lin0, atol=1e-15)
    with pytest.raises(ModelError, match="3 variables"):
        ens.rule_matrix(np.zeros((2, 3), np.float32))


def test_rule_matrix_matches_per_rule_masks() -> None:
    rng = np.random.default_rng(5)
    nvar, n_rules = 3, 40
    cut_rule, sel, lo, hi, dlo, dhi = [], [], [], [], [], []
    for k in range(n_rules):
        for s in sorted(rng.choice(nvar, rng.integers(1, nvar + 1), replace=False)):
            cut_rule.append(k)
            sel.append(s)
            a, b = np.sort(rng.normal(0, 1, 2))
            lo.append(a)
            hi.append(b)
            kind = rng.integers(3)
            dlo.append(kind != 1)
            dhi.append(kind != 0)
    ens = RuleEnsemble(
        learning_model=1,
        n_variables=nvar,
        coefficient=np.zeros(n_rules),
        cut_rule=np.array(cut_rule),
        cut_selector=np.array(sel),
        cut_min=np.array(lo),
        cut_max=np.array(hi),
        cut_do_min=np.array(dlo),
        cut_do_max=np.array(dhi),
    )
    X = rng.normal(0, 1, (500, nvar)).astype(np.float32)
    expected = np.ones((500, n_rules), dtype=bool)
    for c in range(len(cut_rule)):
        x = X[:, sel[c]].astype(np.float64)
        if dlo[c]:
            expected[:, cut_rule[c]] &= x > lo[c]
        if dhi[c]:
            expected[:, cut_rule[c]] &= x < hi[c]
    np.testing.assert_array_equal(ens.rule_matrix(X), expected)


def test_remove_similar_rules() -> None:
    ens = RuleEnsemble(
        learning_model=1,
        n_variables=2,
        coefficient=np.zeros(3),
        cut_rule=np.array([0, 1, 2]),
        cut_selector=np.array([0, 0, 1]),
        cut_min=np.array([1.0, 1.0005, 1.0]),
        cut_max=np.zeros(3),
        cut_do_min=np.ones(3, bool),
        cut_do_max=np.zeros(3, bool),
    )
    # rules 0 and 1: same topology, distance 0.0005/RMS(=1) < 0.001; rule 2 cuts another variable
    assert remove_similar_rules(ens, np.ones(2), 0.001, TRandom3(4357)) == 1
    assert ens.n_rules == 2
    assert ens.cut_selector.tolist() == [0, 1]
    assert ens.cut_rule.tolist() == [0, 1]
    # with RMS 0.1 the distance is 0.005: both kept
    ens2 = RuleEnsemble(
        learning_model=1,
        n_variables=1,
        coefficient=np.zeros(2),
        cut_rule=np.array([0, 1]),
        cut_selector=np.array([0, 0]),
        cut_min=np.array([1.0, 1.0005]),
        cut_max=np.zeros(2),
        cut_do_min=np.ones(2, bool),
        cut_do_max=np.zeros(2, bool),
    )
    assert remove_similar_rules(ens2, np.array([0.1]), 0.001, TRandom3(1)) == 0


def test_linear_terms_quantiles_and_norm() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(0, 2, (40, 2)).astype(np.float32)
    w = np.ones(40)
    cls = np.zeros(40, dtype=np.intp)
    dm, dp, norm = _linear_terms(X, w, cls, 0.1, 0.4)  # 4 events of weight in each tail
    xs = np.sort(X.astype(np.float64), axis=0)
    np.testing.assert_array_equal(dm, xs[3])  # the 4th smallest
    np.testing.assert_array_equal(dp, xs[-4])  # the 4th largest
    clipped = np.clip(X.astype(np.float64), dm, dp)
    np.testing.assert_allclose(norm, 0.4 / clipped.std(axis=0, ddof=1), rtol=1e-12)


def test_importances_by_hand() -> None:
    ens = _hand_ensemble()
    ens.average_rule_sigma = 0.45
    ens.importance_cut = 0.5
    ens.calc_importance()
    imp = np.array([0.5 * np.sqrt(0.21), 0.75 * np.sqrt(0.16)])  # |a| σ
    lin = 0.45 * np.array([0.2, 5.0])  # σ_rule |b|
    ref = max(imp.max(), lin.max())
    np.testing.assert_allclose(ens.importance, imp)
    np.testing.assert_allclose(ens.lin_importance, lin)
    assert ens.importance_ref_ensemble == pytest.approx(ref)
    removed = ens.cleanup()  # relative importances 0.15, 0.13 (rules); 0.04, 1.0 (linear)
    assert removed == 2
    assert ens.n_rules == 0
    assert ens.lin_ok.tolist() == [False, True]
    ens.calc_var_importance()
    np.testing.assert_allclose(ens.var_importance, [0.0, 1.0])
    # without cleanup: rule 1 shares its importance between x0 and x1
    ens = _hand_ensemble()
    ens.calc_importance()
    ens.cleanup()
    ens.calc_var_importance()
    raw = np.array([imp[0] + imp[1] / 2 + 0.4 * 0.2, imp[1] / 2 + 0.4 * 5.0])
    np.testing.assert_allclose(ens.var_importance, raw / raw.max())


# ---------------------------------------------------------------------------------------------- the path
def test_sample_ranges() -> None:
    path, perf = sample_ranges(11, 0.5, 0.5)
    assert (path.start, path.stop, perf.start, perf.stop) == (0, 6, 5, 11)
    path, perf = sample_ranges(100, 0.3, 0.2)
    assert (path.stop, perf.start, perf.stop) == (30, 80, 100)  # ⌊99·0.3⌋ = 29, ⌊99·0.2⌋ = 19


def test_linear_path_converges_to_least_squares() -> None:
    """With τ = 0 every coefficient follows the gradient of the ramp loss; when no event reaches
    |F| >= 1 the fixed point is the weighted least-squares fit without intercept (the offset is
    −Σ a⟨r⟩ = 0 without rules).  Path and validation samples are two copies of the same events, so
    the validation risk falls with the path risk and the path runs to its end."""
    rng = np.random.default_rng(11)
    n = 400
    L = rng.normal(0, 0.25, (n, 3))
    y = np.where(rng.uniform(size=n) < 0.5 + 0.4 * np.tanh(L @ [1.0, -0.5, 0.2]), 1.0, -1.0)
    w = rng.uniform(0.5, 1.5, n)
    ls = LinearRegression(fit_intercept=False).fit(L, y, sample_weight=w).coef_
    assert np.abs(L @ ls).max() < 1  # precondition: the ramp never clips
    settings = GDSettings(tau=0.0, step=0.5, n_steps=4000, err_scale=1.1)
    res = make_gd_path(
        np.zeros((2 * n, 0)), np.vstack([L, L]), np.ones(3), np.r_[y, y], np.r_[w, w], settings
    )
    assert res.stop_reason == "end of loop reached"
    assert res.offset == 0.0
    np.testing.assert_allclose(res.lin_coefficients, ls, rtol=1e-6, atol=1e-9)


def _reference_path(
    R: np.ndarray, L: np.ndarray, norm: np.ndarray, y: np.ndarray, w: np.ndarray, s: GDSettings
):
    """``RuleFitParams::MakeGDPath`` with ``FindGDTau`` written as TMVA's event loops, one τ at a time."""
    n, nr = R.shape
    nl = L.shape[1]
    p2 = int((n - 1) * s.path_frac)
    v2 = int((n - 1) * s.valid_frac)
    path, perf = range(p2 + 1), range(n - v2 - 1, n)
    neff_p = sum(w[i] for i in path)
    neff_v = sum(w[i] for i in perf)
    avg = [sum(w[i] * R[i, k] for i in path) / neff_p for k in range(nr)]

    def f(i, o, a, b):
        return o + sum(a[k] for k in range(nr) if R[i, k]) + sum(b[j] * L[i, j] for j in range(nl))

    def risk(rows, neff, o, a, b):
        return sum(w[i] * (y[i] - max(-1.0, min(1.0, f(i, o, a, b)))) ** 2 for i in rows) / neff

    def step(o, a, b, tau):
        ga, gb = [0.0] * nr, [0.0] * nl
        for i in path:
            fi = f(i, o, a, b)
            if abs(fi) < 1.0:
                r = 2.0 / neff_p * (y[i] - fi) * w[i]
                for k in range(nr):
                    ga[k] += r * R[i, k]
                for j in range(nl):
                    gb[j] += r * L[i, j]
        maxv = max([abs(g) for g in ga + gb] or [0.0])
        moved = maxv > 0
        if moved:
            a = [a[k] + s.step * ga[k] if abs(ga[k]) >= maxv * tau else a[k] for k in range(nr)]
            b = [b[j] + s.step * gb[j] / norm[j] if abs(gb[j]) >= maxv * tau else b[j] for j in range(nl)]
        return a, b, moved

    truth = sum(w[i] * y[i] for i in path) / neff_p
    ntau = int(1.0 / s.tau_prec) + 1
    taus = [min(1.0, t / (ntau - 1)) for t in range(ntau)]
    A, B, O = [[0.0] * nr for _ in taus], [[0.0] * nl for _ in taus], [-truth] * ntau
    ok = [True] * ntau
    ip = itmin = 0
    while True:
        for t in range(ntau):
            if ok[t]:
                A[t], B[t], _ = step(O[t], A[t], B[t], taus[t])
                O[t] = -sum(A[t][k] * avg[k] for k in range(nr))
        if ip == 0 or (ip + 1) % 100 == 0:
            err = {t: risk(perf, neff_v, O[t], A[t], B[t]) for t in range(ntau) if ok[t]}
            itmin = min(err, key=lambda t: (err[t], t))
            vals = list(err.values())
            sig = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
            for t, e in err.items():
                ok[t] = e <= err[itmin] + sig
        ip += 1
        if not (ip < 1000 and sum(ok) > 3):
            break
    tau, a, b, o = taus[itmin], A[itmin], B[itmin], O[itmin]
    errmin, best, rprev, nbad, iloop = 1e32, None, 1e32, 0, 0
    while True:
        a, b, moved = step(o, a, b, tau)
        if moved:
            o = -sum(a[k] * avg[k] for k in range(nr))
        found = False
        if iloop == 0 or (iloop + 1) % 100 == 0:
            rk = risk(path, neff_p, o, a, b)
            nbad += rk > rprev
            rprev = rk
            e = risk(perf, neff_v, o, a, b)
            if e <= errmin:
                errmin, best = e, (o, list(a), list(b), iloop + 1)
            found = e > s.err_scale * errmin
        iloop += 1
        if found or nbad > 3 or iloop == s.n_steps:
            return tau, best


def test_vectorised_path_matches_tmva_event_loops() -> None:
    rng = np.random.default_rng(8)
    n = 120
    X = rng.normal(0, 1, (n, 2))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] + rng.normal(0, 1, n) > 0, 1.0, -1.0)
    R = np.stack([X[:, 0] > 0.3, X[:, 1] < -0.2, (X[:, 0] < 0) & (X[:, 1] > 0)], axis=1)
    norm = np.array([0.5, 0.8])
    L = np.clip(X, -1.5, 1.5) * norm
    w = rng.uniform(0.5, 1.5, n)
    # 21 values of τ, dropped over 4 checks of the scan; the path then runs to its end
    s = GDSettings(tau_prec=0.05, step=0.002, n_steps=500, err_scale=1.05)
    tau, (o, a, b, best_step) = _reference_path(R, L, norm, y, w, s)
    res = make_gd_path(R, L, norm, y, w, s)
    assert res.stop_reason == "end of loop reached"
    assert 0 < res.tau < 1
    assert res.tau == tau
    assert res.best_step == best_step
    assert res.offset == pytest.approx(o, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(res.coefficients, a, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(res.lin_coefficients, b, rtol=1e-11, atol=1e-14)


def test_tau_scan_picks_a_tau_and_stops() -> None:
    rng = np.random.default_rng(2)
    n = 300
    R = rng.uniform(size=(2 * n, 8)) < 0.4
    y = np.where(R[:, 0] | (rng.uniform(size=2 * n) < 0.3), 1.0, -1.0)
    res = make_gd_path(R, np.zeros((2 * n, 0)), np.zeros(0), y, np.ones(2 * n), GDSettings(n_steps=500))
    assert 0.0 <= res.tau <= 1.0
    assert res.coefficients[0] > 0  # the rule that makes signal gets a positive coefficient
    risks = [r for _, r in res.history["risk"]]
    assert risks[-1] < risks[0]


# ---------------------------------------------------------------------------------------------- method
def test_training_weights_round_trip_and_ranking(tmp_path: Path) -> None:
    X, cid, w = _data(150, seed=4)
    m = MethodRuleFit("RuleFit", _ctx(tmp_path), "nTrees=5:GDNSteps=300:MinImp=0.001")
    m.train(_sample(X, w, cid))
    ens = m.ensemble_
    assert ens is not None
    assert ens.n_rules > 0
    assert ens.n_linear == 2
    q = np.random.default_rng(9).normal(0, 1, (50, 2)).astype(np.float32)
    value = m.evaluate(q)
    # signal sits at +0.5 in both variables: the response rises along the diagonal
    assert np.corrcoef(value, q.sum(axis=1))[0, 1] > 0.5
    text = weights_xml_bytes(build_weights_xml(m))
    root = ET.fromstring(text)
    weights = root.find("Weights")
    assert weights is not None
    assert weights.get("NRules") == str(ens.n_rules)
    assert weights.get("LearningModel") == "0"
    assert len(weights.findall("Linear")) == 2
    back = method_from_content(parse_weights_xml(text))
    np.testing.assert_array_equal(back.evaluate(q), value)
    ranking = m.ranking()
    assert ranking is not None
    assert max(v for _, v in ranking) == pytest.approx(1.0)
    bad = text.replace(f'NRules="{ens.n_rules}"'.encode(), f'NRules="{ens.n_rules + 1}"'.encode())
    with pytest.raises(ModelError, match="NRules"):
        method_from_content(parse_weights_xml(bad))


def test_tmva_layout_weights_are_read_as_tmva_evaluates_them(tmp_path: Path) -> None:
    """A ``<Weights>`` element in TMVA's layout, written by hand: one rule and two linear terms."""
    X, cid, w = _data(60, seed=1)
    m = MethodRuleFit("RuleFit", _ctx(tmp_path), "nTrees=2:GDNSteps=50:GDTau=0.5")
    m.train(_sample(X, w, cid))
    root = ET.fromstring(weights_xml_bytes(build_weights_xml(m)))
    old = root.find("Weights")
    assert old is not None
    root.remove(old)
    root.append(
        ET.fromstring(
            '<Weights NRules="1" NLinear="2" LearningModel="0" ImportanceCut="0.01" LinQuantile="0.025" '
            'AverageSupport="0.3" AverageRuleSigma="0.45" Offset="-0.5">'
            '<Rule Importance="0.2" Ref="0.2" Coeff="0.75" Support="0.3" Sigma="0.45" Norm="2.2" SSB="0.8" '
            'SSBNeve="30" Nvars="2"><Cut Selector="0" Min="0.25" Max="0" DoMin="T" DoMax="F"/>'
            '<Cut Selector="1" Min="-1" Max="1.5" DoMin="T" DoMax="T"/></Rule>'
            '<Linear OK="1" Coeff="0.1" Norm="2" DM="-1" DP="1" Importance="0.1"/>'
            '<Linear OK="0" Coeff="9" Norm="1" DM="-1" DP="1" Importance="0.001"/></Weights>'
        )
    )
    back = method_from_content(parse_weights_xml(ET.tostring(root)))
    q = np.array([[0.5, 0.0], [0.25, 0.0], [2.0, 1.5], [-3.0, -0.9]], dtype=np.float32)
    rule = np.array([1.0, 0.0, 0.0, 0.0])  # 0.25 is not > 0.25, 1.5 is not < 1.5
    expected = -0.5 + 0.75 * rule + 0.1 * 2 * np.clip(q[:, 0], -1, 1)
    np.testing.assert_allclose(back.evaluate(q), expected.astype(np.float32), rtol=0, atol=1e-7)


@pytest.mark.parametrize("options", ["Model=ModLinear", "Model=ModRule:ForestType=Random"])
def test_models_and_forest_types(tmp_path: Path, options: str) -> None:
    X, cid, w = _data(120, seed=6)
    m = MethodRuleFit("RuleFit", _ctx(tmp_path), f"nTrees=4:GDNSteps=200:GDTau=0.5:{options}")
    m.train(_sample(X, w, cid))
    ens = m.ensemble_
    assert ens is not None
    if "ModLinear" in options:
        assert ens.n_rules == 0
        assert ens.n_linear == 2
        assert ens.offset == 0.0
    else:
        assert ens.n_rules > 0
        assert ens.n_linear == 0
    assert m.gd_tau_ == 0.5
    q = np.array([[1.0, 1.0], [-1.0, -1.0]], dtype=np.float32)
    out = m.evaluate(q)
    assert out[0] > out[1]


def test_options(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    o = MethodRuleFit("RuleFit", ctx)._opts()
    assert (o.GDTau, o.GDTauPrec, o.GDStep, o.GDNSteps, o.GDErrScale, o.LinQuantile) == (
        -1.0,
        0.01,
        0.01,
        10000,
        1.1,
        0.025,
    )
    assert (o.fEventsMin, o.fEventsMax, o.nTrees, o.ForestType, o.MinImp, o.Model) == (
        0.1,
        0.9,
        20,
        "AdaBoost",
        0.01,
        "ModRuleLinear",
    )
    with pytest.raises(OptionError, match="RFFriedman"):
        MethodRuleFit("RuleFit", ctx, "RuleFitModule=RFFriedman")
    with pytest.raises(OptionError, match="IgnoreNegWeightsInTraining"):
        MethodRuleFit("RuleFit", ctx, "IgnoreNegWeightsInTraining")
    with pytest.raises(OptionError, match="ForestType"):
        MethodRuleFit("RuleFit", ctx, "ForestType=Bagging")
    with pytest.raises(OptionError, match="Model"):
        MethodRuleFit("RuleFit", ctx, "Model=ModTree")
    # TMVA's VerifyRange: GDValidEveFrac beyond 1 - GDPathEveFrac is reset to 1 - GDPathEveFrac
    st = MethodRuleFit("RuleFit", ctx, "GDPathEveFrac=0.6:GDValidEveFrac=0.9:MinImp=2")._settings()
    assert st.gd.valid_frac == pytest.approx(0.4)
    assert st.min_imp == 0.0
    assert st.gd.n_tau == 101


def test_tutorial_booking_factory_and_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TMVAClassification.C's RuleFit booking through the Factory; the Reader reproduces the
    TestTree responses from the weights file."""
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
    factory.BookMethod(loader, TMVA.Types.kRuleFit, "RuleFit", TUTORIAL)
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    # the toy classes overlap by ~1.6σ: a linear cut alone gives an area of ~0.85
    assert factory.GetROCIntegral(loader, "RuleFit") > 0.75
    with uproot.open("TMVA.root") as f:
        test = f["dataset/TestTree"].arrays(library="np")
    reader = Reader("!Color:Silent")
    buffers = [np.zeros(1, np.float32) for _ in names]
    for v, buf in zip(names, buffers, strict=True):
        reader.AddVariable(v, buf)
    reader.BookMVA("RuleFit", "dataset/weights/TMVAClassification_RuleFit.weights.xml")
    X = np.stack([test[v] for v in names], axis=1).astype(np.float32)
    np.testing.assert_array_equal(
        np.array(reader.EvaluateMVA(X, "RuleFit"), dtype=np.float32), test["RuleFit"]
    )
    for i in range(3):
        for buf, v in zip(buffers, names, strict=True):
            buf[0] = test[v][i]
        assert np.float32(reader.EvaluateMVA("RuleFit")) == test["RuleFit"][i]
