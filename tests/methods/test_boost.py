"""Boost (``Types.kBoost``, booked with ``Boost_Num`` on another method): TMVA's AdaBoost and Bagging
of Fisher discriminants against hand-computed cuts and weights and Fisher discriminants computed from
their definition; the response formula read off the weights file; the Reader."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from pymva import TMVA
from pymva.errors import OptionError
from pymva.methods.boost import (
    MethodBoost,
    adaboost_reweight,
    boost_num,
    find_mva_cut,
    quick_mva_probability,
    real_adaboost_reweight,
)
from pymva.methods.trandom3 import TRandom3

VARS = ("var1", "var2", "var3")
JOB = "TMVABoost"


def _trees(n: int = 400, seed: int = 3) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = {}
    for name, mean in (("S", np.array([0.5, 0.3, 0.2])), ("B", np.array([-0.4, -0.2, 0.1]))):
        x = rng.normal(size=(n, 3)) @ np.array([[1.0, 0.4, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 1.2]]) + mean
        out[name] = {v: x[:, i].astype(np.float32) for i, v in enumerate(VARS)}
    return out


def _hand_fisher(X: np.ndarray, sig: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """TMVA's Fisher discriminant from its definition (MethodFisher, Method=Fisher)."""
    X = X.astype(np.float64)
    w = w.astype(np.float64)
    ws, wb = w[sig].sum(), w[~sig].sum()
    ms = np.average(X[sig], axis=0, weights=w[sig])
    mb = np.average(X[~sig], axis=0, weights=w[~sig])
    within = np.cov(X[sig].T, aweights=w[sig], bias=True) + np.cov(X[~sig].T, aweights=w[~sig], bias=True)
    F = np.sqrt(ws * wb) / (ws + wb) * np.linalg.solve(within, ms - mb)
    return F, float(-F @ (ms + mb) / 2)


def _job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bookings: dict[str, str]) -> tuple:
    monkeypatch.chdir(tmp_path)
    trees = _trees()
    factory = TMVA.Factory(JOB, None, "Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in VARS:
        loader.AddVariable(v, "F")
    loader.AddSignalTree(trees["S"], 1.0)
    loader.AddBackgroundTree(trees["B"], 1.0)
    loader.PrepareTrainingAndTestTree(TMVA.TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    for title, options in bookings.items():
        factory.BookMethod(loader, TMVA.Types.kFisher, title, options)
    factory.TrainAllMethods()
    factory.TestAllMethods()
    return factory, loader


def test_boost_num_in_the_options_books_a_boost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert boost_num("H:!V:Boost_Num=20:Boost_Transform=log") == 20
    assert boost_num("H:boost_num=3") == 3  # TMVA's option names are case-insensitive
    assert boost_num("H:!V:Fisher") == 0
    assert boost_num("", Boost_Num=4) == 4
    monkeypatch.chdir(tmp_path)
    factory = TMVA.Factory(JOB, None, "Silent:!DrawProgressBar")
    loader = TMVA.DataLoader("dataset")
    for v in VARS:
        loader.AddVariable(v, "F")
    trees = _trees(50)
    loader.AddSignalTree(trees["S"])
    loader.AddBackgroundTree(trees["B"])
    loader.PrepareTrainingAndTestTree(TMVA.TCut(""), "SplitMode=Random")
    m = factory.BookMethod(
        loader, TMVA.Types.kFisher, "BF", "H:!V:Boost_Num=20:Boost_Transform=log:Method=Fisher"
    )
    assert isinstance(m, MethodBoost)
    assert m.method_name == "Boost::BF"
    assert m.boosted_options == "!V:Method=Fisher"  # no Boost_*, H or VarTransform for the sub-methods
    assert m.opts.Boost_Num == 20
    assert m.opts.Boost_Transform == "log"
    assert m.opts.Boost_Type == "AdaBoost"
    for bad, match in (
        ("Boost_Num=2:Boost_Type=HighEdgeGauss", "old weights files"),
        ("Boost_Num=2:Boost_DetailedMonitoring", "Boost_DetailedMonitoring"),
        ("Boost_Num=2:Boost_MethodWeightType=ByError", "old weights files"),
        ("Boost_Num=2:Boost_Transform=minmax", "Boost_Transform"),
        ("Boost_Num=2:Boost_Nmu=3", "Boost_Nmu"),
        ("Boost_Num=2:Method=Bogus", "Bogus"),  # the boosted method's options are checked at booking
    ):
        with pytest.raises(OptionError, match=match):
            factory.BookMethod(loader, TMVA.Types.kFisher, "Bad", bad)
    with pytest.raises(OptionError, match="cannot be boosted"):
        factory.BookMethod(loader, TMVA.Types.kCategory, "Bad", "Boost_Num=2")


def test_find_mva_cut_by_hand() -> None:
    # values 0..3: the best Gini split lies between 1 and 2; the cut is the upper edge of 1's bin
    v = np.array([0.0, 1.0, 2.0, 3.0])
    w = np.ones(4)
    hi = 3.0 + 3.0 / 10001  # the maximum plus one bin width
    width = hi / 10001
    bin_of_1 = math.floor(10001 * 1.0 / hi)
    cut, orientation = find_mva_cut(v, w, np.array([False, False, True, True]))
    assert cut == pytest.approx((bin_of_1 + 1) * width, rel=1e-12)
    assert 1.0 < cut < 1.0 + 2 * width
    assert orientation == 1.0
    _, orientation = find_mva_cut(v, w, np.array([True, True, False, False]))
    assert orientation == -1.0  # the signal lies below the cut
    # signal, background, signal, signal: Gini gains 0.0417, 0.125, 0.0417 (parent index 3/8): cut after 1
    cut, orientation = find_mva_cut(v, w, np.array([True, False, True, True]))
    assert 1.0 < cut < 2.0
    assert orientation == 1.0
    # a weight of 10 on the first background event moves the cut behind it: after 0 the left side is pure
    cut, _ = find_mva_cut(v, np.array([1.0, 10.0, 1.0, 1.0]), np.array([True, False, True, True]))
    assert 1.0 < cut < 2.0
    cut, _ = find_mva_cut(v, np.array([10.0, 1.0, 1.0, 1.0]), np.array([True, False, True, True]))
    assert 0.0 < cut < 1.0  # (10,0 | 2,1) gains more than (10,1 | 2,0)


def test_adaboost_reweight_by_hand() -> None:
    # event 0 (signal) misclassified: err = 1/4, boost weight ln 3; its weight ×3 -> (3,1,1,1), sum back to 4
    # -> (2, 2/3, 2/3, 2/3); then each class to 2: signal (events 0, 2, 3) ×0.6, background ×3
    boost, err, bw = adaboost_reweight(np.ones(4), np.ones(4), [True, False, False, False], [0, 1, 0, 0], 1.0)
    np.testing.assert_allclose(boost, [1.2, 2.0, 0.4, 0.4], rtol=1e-12)
    assert err == 0.25
    assert bw == pytest.approx(math.log(3.0), rel=1e-12)
    _, _, bw = adaboost_reweight(np.ones(4), np.ones(4), [True, False, False, False], [0, 1, 0, 0], 0.2)
    assert bw == pytest.approx(0.2 * math.log(3.0), rel=1e-12)
    # a negative weight is divided by the factor: (-1 → -1/3, 1, 1, 1) ...
    boost, err, _ = adaboost_reweight(
        np.ones(4), np.array([1.0, 1.0, -1.0, 1.0]), [True, False, True, False], [0, 1, 0, 0], 1.0
    )
    # err = (1 - 1)/2 = 0: no misclassified weight, no boosting
    assert err == 0.0
    np.testing.assert_array_equal(boost, np.ones(4))
    boost, err, bw = adaboost_reweight(
        np.ones(4), np.array([1.0, 1.0, -0.5, 1.0]), [True, False, True, False], [0, 1, 0, 0], 1.0
    )
    assert err == pytest.approx(0.5 / 2.5)
    f = math.exp(bw)  # = (1 - 0.2) / 0.2 = 4
    assert f == pytest.approx(4.0)
    raw = np.array([f, 1.0, 1 / f, 1.0])
    raw *= 2.5 / (raw * [1, 1, -0.5, 1]).sum()
    sig_sum = (raw * [1, 0, -0.5, 1]).sum()
    expected = np.where([True, False, True, True], raw * 2.5 / sig_sum / 2, raw * 2.5 / raw[1] / 2)
    np.testing.assert_allclose(boost, expected, rtol=1e-12)


def _hand_cut(v: np.ndarray, w: np.ndarray, sig: np.ndarray) -> tuple[float, float]:
    """FindMVACut written out: 10001 bins, cumulative sums, the first bin of largest Gini gain."""
    lo, hi = v.min(), v.max()
    hi += (hi - lo) / 10001
    s_hist, edges = np.histogram(v[sig], bins=10001, range=(lo, hi), weights=w[sig])
    b_hist, _ = np.histogram(v[~sig], bins=10001, range=(lo, hi), weights=w[~sig])
    S, B = s_hist.sum(), b_hist.sum()

    def gini(s: float, b: float) -> float:
        return 2 * s * b / (s + b) ** 2 if s > 0 and b > 0 else 0.0

    best, cut, orient, s, b = 0.0, lo, 1.0, 0.0, 0.0
    for k in range(10001):
        s += s_hist[k]
        b += b_hist[k]
        gain = gini(S, B) - (S - s + B - b) / (S + B) * gini(S - s, B - b) - (s + b) / (S + B) * gini(s, b)
        if gain > best + 1e-12:
            best, cut, orient = gain, edges[k + 1], (-1.0 if s * (B - b) > (S - s) * b else 1.0)
    return float(cut), orient


def test_adaboost_of_fisher_against_hand_computation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    factory, loader = _job(
        tmp_path,
        monkeypatch,
        {
            "Fisher": "!H:!V:Fisher",
            "Boost1": "!H:!V:Boost_Num=1:Boost_Transform=linear",
            "BoostedFisher": "H:!V:Boost_Num=3:Boost_Transform=log:Boost_Type=AdaBoost:Boost_AdaBoostBeta=0.2",
        },
    )
    # Boost_Num=1 with the linear transform is the plain Fisher
    np.testing.assert_array_equal(
        factory.get_responses(loader, "Boost1"), factory.get_responses(loader, "Fisher")
    )
    ds = loader.GetDataSetInfo().GetDataSet()
    X, sig, w0 = ds.train.X, ds.train.class_id == ds.signal_class, ds.train.weights.astype(np.float64)
    boost = np.ones(len(X))
    coeffs, cuts, orients, mweights = [], [], [], []
    for _ in range(3):
        F, F0 = _hand_fisher(X, sig, w0 * boost)
        v = F0 + X.astype(np.float64) @ F
        cut, orient = _hand_cut(v, w0 * boost, sig)
        wrong = sig != (v * orient > cut * orient)
        wt = w0 * boost
        err = wt[wrong].sum() / wt.sum()
        factor = ((1 - err) / err) ** 0.2
        new = np.where(wrong, boost * factor, boost)
        new *= wt.sum() / (w0 * new).sum()
        for cls_mask in (sig, ~sig):
            new[cls_mask] *= wt.sum() / 2 / (w0 * new)[cls_mask].sum()
        boost = new
        coeffs.append((F0, F))
        cuts.append(cut)
        orients.append(orient)
        mweights.append(0.2 * math.log((1 - err) / err))
    m = factory.GetMethod(loader, "BoostedFisher")
    assert isinstance(m, MethodBoost)
    assert len(m.sub_methods) == 3
    for sub, (F0, F) in zip(m.sub_methods, coeffs, strict=True):
        np.testing.assert_allclose(sub.coefficients_, F, rtol=1e-6)  # type: ignore[attr-defined]
        assert sub.offset_ == pytest.approx(F0, rel=1e-6, abs=1e-9)  # type: ignore[attr-defined]
    # the cut is a bin edge: float32 MVA values may move it by a bin (3e-4 of the range) at most
    span = float(np.ptp(F0 + X @ F))
    np.testing.assert_allclose(m.signal_cuts, cuts, rtol=0, atol=span / 5000)
    assert m.cut_orientations == orients
    np.testing.assert_allclose(m.method_weights, mweights, rtol=1e-4)
    # the response: Σ w_i ln(max(v_i, c_i) - c_i + 1/e) / Σ w_i on the test events
    Xt = ds.test.X.astype(np.float64)
    terms = [
        wi * np.log(np.maximum(F0 + Xt @ F, c) - c + math.exp(-1))
        for wi, (F0, F), c in zip(m.method_weights, coeffs, m.signal_cuts, strict=True)
    ]
    expected = np.sum(terms, axis=0) / np.sum(m.method_weights)
    np.testing.assert_allclose(factory.get_responses(loader, "BoostedFisher"), expected, rtol=1e-4, atol=1e-5)


def test_bagging_uses_trandom3_poisson_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    factory, loader = _job(
        tmp_path,
        monkeypatch,
        {"Bagged": "!H:!V:Boost_Num=2:Boost_Type=Bagging:Boost_RandomSeed=5:Boost_Transform=step"},
    )
    ds = loader.GetDataSetInfo().GetDataSet()
    X, sig, w0 = ds.train.X, ds.train.class_id == ds.signal_class, ds.train.weights
    m = factory.GetMethod(loader, "Bagged")
    assert isinstance(m, MethodBoost)
    for i, sub in enumerate(m.sub_methods):
        rng = TRandom3(5 + i + 1)  # TRandom3(fRandomSeed + fMethods.size()), the method already pushed
        counts = np.array([rng.poisson(0.6) for _ in range(len(X))], dtype=np.float64)
        F, _F0 = _hand_fisher(X, sig, w0 * counts)
        np.testing.assert_allclose(sub.coefficients_, F, rtol=1e-6)  # type: ignore[attr-defined]
    assert m.method_weights == [1.0, 1.0]
    assert m.signal_cuts == [0.5, 0.5]
    # step transform: the mean of ±1 votes, each Fisher against MethodBase's default cut 0.5
    Xt = ds.test.X
    votes = [np.where(s.mva_value(Xt) > 0.5, 1.0, -1.0) for s in m.sub_methods]
    np.testing.assert_array_equal(factory.get_responses(loader, "Bagged"), np.mean(votes, axis=0))


def test_weights_file_layout_and_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    factory, loader = _job(
        tmp_path,
        monkeypatch,
        {
            "BoostedFisher": "H:!V:Boost_Num=20:Boost_Transform=log:Boost_Type=AdaBoost:Boost_AdaBoostBeta=0.2:!Boost_DetailedMonitoring"
        },
    )
    path = tmp_path / "dataset" / "weights" / f"{JOB}_BoostedFisher.weights.xml"
    root = ET.parse(path).getroot()
    assert root.get("Method") == "Boost::BoostedFisher"
    opts = {o.get("name"): o.text for o in root.iter("Option")}
    assert opts["Boost_Transform"] == "log"
    assert opts["Boost_AdaBoostBeta"] == "2.000000e-01"
    weights = root.find("Weights")
    assert weights is not None
    methods = weights.findall("Method")
    assert weights.get("NMethods") == str(len(methods))
    assert 1 <= len(methods) <= 20
    assert opts["Boost_Num"] == str(len(methods))
    first = methods[0]
    assert first.get("Index") == "0"
    assert first.get("MethodTypeName") == "Fisher"
    assert first.get("MethodName") == "BoostedFisher_B0000"
    assert first.get("JobName") == JOB
    assert first.get("UseMainMethodTransformation") == "true"
    assert [c.tag for c in first] == ["Weights"]
    assert first[0].get("NCoeff") == "4"
    # the response from the file's numbers alone
    ds = loader.GetDataSetInfo().GetDataSet()
    Xt = ds.test.X.astype(np.float64)
    total, norm = np.zeros(len(Xt)), 0.0
    for elem in methods:
        c = [float(e.get("Value", "")) for e in elem.iter("Coefficient")]
        v = c[0] + Xt @ np.array(c[1:])
        cut, wi = float(elem.get("MethodSigCut", "")), float(elem.get("Weight", ""))
        total += wi * np.log(np.maximum(v, cut) - cut + math.exp(-1))
        norm += wi
    expected = factory.get_responses(loader, "BoostedFisher")
    np.testing.assert_allclose(expected, total / norm, rtol=1e-5, atol=1e-6)

    reader = TMVA.Reader("!Color:Silent")
    buffers = {name: np.zeros(1, np.float32) for name in VARS}
    for v in VARS:
        reader.AddVariable(v, buffers[v])
    reader.BookMVA("BoostedFisher", str(path))
    np.testing.assert_array_equal(np.asarray(reader.EvaluateMVA(ds.test.X, "BoostedFisher")), expected)
    for i in range(0, len(ds.test.X), 151):  # the per-event path through the bound buffers
        for j, v in enumerate(VARS):
            buffers[v][0] = ds.test.X[i, j]
        assert reader.EvaluateMVA("BoostedFisher") == pytest.approx(float(expected[i]), rel=1e-6, abs=1e-7)


def _loop_mva_prob(values: np.ndarray, weights: np.ndarray, cls: np.ndarray, x: float) -> float:
    """QuickMVAProbEstimator::GetMVAProbAt as its loop reads: from one past upper_bound to the right,
    from one before it to the left, one step on each side per turn."""
    order = np.argsort(values, kind="stable")
    v, w, c = values[order], weights[order], cls[order]
    n = len(v)
    n_range = min(5000, max(40, int(n * 0.1)))
    if n_range > n:
        n_range = int(n / 3.0)
    it = int(np.searchsorted(v, x, side="right"))
    i_left = i_right = 0
    s = b = 0.0
    while i_left + i_right < n_range:
        if it + i_right + 1 < n:
            i_right += 1
            s, b = (s + w[it + i_right], b) if c[it + i_right] == 0 else (s, b + w[it + i_right])
        if it - i_left - 1 >= 0:
            i_left += 1
            s, b = (s + w[it - i_left], b) if c[it - i_left] == 0 else (s, b + w[it - i_left])
    return s / (s + b) if s + b else -1.0


@pytest.mark.parametrize("n", [30, 500])
def test_quick_mva_probability_against_tmvas_loop(n: int) -> None:
    rng = np.random.default_rng(n)
    cls = rng.integers(0, 2, n)
    values = rng.normal(size=n) + 0.8 * (cls == 0)
    weights = rng.uniform(0.5, 1.5, n)
    queries = np.concatenate([values, [-10.0, 10.0, values.min(), values.max()]])
    got = quick_mva_probability(values, weights, cls, queries)
    expected = [_loop_mva_prob(values, weights, cls, q) for q in queries]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_real_adaboost_against_hand_computation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    factory, loader = _job(
        tmp_path,
        monkeypatch,
        {"RealBoost": "!H:!V:Boost_Num=3:Boost_Type=RealAdaBoost:Boost_Transform=linear"},
    )
    ds = loader.GetDataSetInfo().GetDataSet()
    X, cls, w0 = ds.train.X, ds.train.class_id, ds.train.weights.astype(np.float64)
    sig = cls == ds.signal_class
    boost = np.ones(len(X))
    coeffs, mweights = [], []
    for _ in range(3):
        F, F0 = _hand_fisher(X, sig, w0 * boost)
        v = (F0 + X.astype(np.float64) @ F).astype(np.float32).astype(np.float64)
        wt = w0 * boost
        m = np.array([2 * (_loop_mva_prob(v, wt, cls, x) - 0.5) for x in v])
        y = np.where(sig, 1.0, -1.0)
        err = (wt * y * m).sum() / wt.sum()
        bw = math.log((1 + err) / (1 - err))
        new = boost * np.exp(-bw * y * m)
        new *= wt.sum() / (w0 * new).sum()
        for mask in (sig, ~sig):
            new[mask] *= wt.sum() / 2 / (w0 * new)[mask].sum()
        boost = new
        coeffs.append((F0, F))
        mweights.append(bw)
    method = factory.GetMethod(loader, "RealBoost")
    assert isinstance(method, MethodBoost)
    for sub, (F0, F) in zip(method.sub_methods, coeffs, strict=True):
        np.testing.assert_allclose(sub.coefficients_, F, rtol=1e-5)  # type: ignore[attr-defined]
        assert sub.offset_ == pytest.approx(F0, rel=1e-5, abs=1e-8)  # type: ignore[attr-defined]
    np.testing.assert_allclose(method.method_weights, mweights, rtol=1e-4)
    assert method.signal_cuts == [0.5, 0.5, 0.5]  # no FindMVACut for RealAdaBoost
    Xt = ds.test.X.astype(np.float64)
    expected = sum(wi * (F0 + Xt @ F) for wi, (F0, F) in zip(mweights, coeffs, strict=True)) / sum(mweights)
    np.testing.assert_allclose(factory.get_responses(loader, "RealBoost"), expected, rtol=1e-4, atol=1e-4)


def test_real_adaboost_reweight_small_case() -> None:
    # 4 events < 40: nRange = int(4/3) = 1; each event's probability comes from one neighbour
    values = np.array([0.0, 1.0, 2.0, 3.0])
    cls = np.array([0, 1, 0, 0])
    boost, err, bw = real_adaboost_reweight(np.ones(4), np.ones(4), values, cls, 0, 1.0)
    # and the first turn takes one event on each side: x=0 (upper_bound: event 1) takes events 2 and 0,
    # both signal: p=1; x=1 takes 3 (signal) and 1 (background): p=1/2; x=2 has none to the right and
    # takes 2 (signal): p=1; x=3 (upper_bound: the end) takes 3: p=1
    m = np.array([1.0, 0.0, 1.0, 1.0])  # 2p - 1
    y = np.array([1.0, -1.0, 1.0, 1.0])
    assert err == pytest.approx(0.75)  # (1 + 0 + 1 + 1) / 4
    assert bw == pytest.approx(math.log(7.0))  # ln((1 + 0.75) / (1 - 0.75))
    raw = np.exp(-bw * y * m)
    raw *= 4 / raw.sum()
    expected = np.where(cls == 0, raw * 2 / raw[cls == 0].sum(), raw * 2 / raw[cls == 1].sum())
    np.testing.assert_allclose(boost, expected, rtol=1e-12)


def test_reader_reads_tmva_option_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TMVA writes each copy's whole option string with '~' marks, and old files hold the
    compatibility option Boost_MethodWeightType: both read back to the same response."""
    factory, loader = _job(
        tmp_path, monkeypatch, {"BF": "!H:!V:Boost_Num=3:Boost_Transform=log:Method=Fisher"}
    )
    path = tmp_path / "dataset" / "weights" / f"{JOB}_BF.weights.xml"
    tree = ET.parse(path)
    root = tree.getroot()
    for elem in root.iter("Method"):
        elem.set("Options", "~!H:~!V:~Boost_Num=3:~Boost_Transform=log:~Method=Fisher:~VarTransform=None")
    options = root.find("Options")
    assert options is not None
    ET.SubElement(options, "Option", {"name": "Boost_MethodWeightType", "modified": "No"}).text = "ByError"
    edited = tmp_path / "edited.weights.xml"
    tree.write(edited)
    reader = TMVA.Reader("!Color:Silent")
    for v in VARS:
        reader.AddVariable(v, np.zeros(1, np.float32))
    reader.BookMVA("BF", str(edited))
    boosted = reader.FindMVA("BF")
    assert isinstance(boosted, MethodBoost)
    assert boosted.boosted_options == "!V:Method=Fisher"
    ds = loader.GetDataSetInfo().GetDataSet()
    np.testing.assert_array_equal(
        np.asarray(reader.EvaluateMVA(ds.test.X, "BF")), factory.get_responses(loader, "BF")
    )
