"""PDERS: the response against a brute-force evaluation of TMVA's definition (every event tested
against every box, TMVA's iteration written out per event with float32 scalars), a closed-form density
ratio, the tree layout and weights file, and the tutorial's bookings."""

from __future__ import annotations

import math
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
from pymva.methods.binarysearchtree import BinarySearchTree, insertion_layout, normalized_order
from pymva.methods.pders import KERNELS, MethodPDERS
from pymva.toydata import create_class_example, create_regression_example
from pymva.types import EAnalysisType

f32 = np.float32


def _ctx(tmp_path: Path, n_vars: int = 2, regression: bool = False) -> MethodContext:
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kRegression if regression else EAnalysisType.kClassification,
        variables=tuple(VariableInfo(f"x{i}", f"x{i}", f"x{i}") for i in range(n_vars)),
        class_names=("Regression",) if regression else ("Signal", "Background"),
        targets=(VariableInfo("t", "t", "t", kind="target"),) if regression else (),
        weight_dir=tmp_path / "weights",
    )


def _sample(X: np.ndarray, cid: np.ndarray, w: np.ndarray, t: np.ndarray | None = None) -> Sample:
    n = len(X)
    return Sample(
        X=X.astype(np.float32),
        targets=(np.zeros((n, 0)) if t is None else t.reshape(n, -1)).astype(np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=w.astype(np.float32),
        class_id=cid.astype(np.int32),
    )


def _data(n: int, nvar: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.6, 1.0, (n, nvar)), rng.normal(-0.4, 1.3, (n, nvar))]).astype(np.float32)
    cid = np.r_[np.zeros(n), np.ones(n)].astype(np.int32)
    w = rng.uniform(0.5, 1.5, 2 * n).astype(np.float32)
    return X, cid, w


# ---------------------------------------------------------------------- brute force, per event
def _kernel(name: str, d: float, nvar: int, sigma: float, dmax: float) -> float:
    """ApplyKernelFunction written out for one distance."""
    if name in ("Box", "Sphere"):
        return 1.0
    if name == "Teepee":
        return 1.0 - d
    if name == "Gauss":
        return math.exp(-0.5 * (d / sigma) ** 2)

    def powered(v: float) -> float:
        return v**nvar if nvar % 2 else abs(v) * v ** (nvar - 1)

    if name.startswith("Sinc"):
        y = {"Sinc3": 2, "Sinc5": 3, "Sinc7": 4, "Sinc9": 5, "Sinc11": 6}[name] * d
        return 1.0 if abs(y) < 1e-9 else powered(math.sin(math.pi * y) / (math.pi * y))
    if name.startswith("Lanczos"):
        lev = int(name[7:])
        if abs(d) < 1e-9:
            return 1.0
        p = math.pi * d
        return powered(math.sin(p) / p * math.sin(p * lev) / (p * lev))
    x = d / dmax
    x = 1 - x**3
    return x**3


def _brute(
    Xtr: np.ndarray,
    w: np.ndarray,
    cls: np.ndarray,
    E: np.ndarray,
    *,
    mode: str,
    kernel: str,
    t=None,
    **o: float,
) -> np.ndarray:
    """MethodPDERS' GetMvaValue / GetRegressionValues for each row of E, one event at a time."""
    frac, nmin, nmax = o.get("DeltaFrac", 3.0), o.get("NEventsMin", 100.0), o.get("NEventsMax", 200.0)
    maxit, init, sigma = o.get("MaxVIterations", 150.0), o.get("InitialScale", 0.99), o.get("GaussSigma", 0.1)
    n, nvar = Xtr.shape
    regression = t is not None
    rows = range(n)

    def rms(mask: list[bool]) -> list[np.float32]:
        W = sum(float(w[i]) for i in rows if mask[i])
        out = []
        for j in range(nvar):
            s = sum(float(Xtr[i, j]) * float(w[i]) for i in rows if mask[i])
            q = sum(float(f32(Xtr[i, j] * Xtr[i, j])) * float(w[i]) for i in rows if mask[i])
            mean = f32(s / W)
            out.append(f32(math.sqrt(q / W - float(f32(mean * mean)))))
        return out

    if mode in ("RMS", "Adaptive", "kNN"):
        if regression:
            r = rms([True] * n)
        else:
            rs, rb = rms([c == 0 for c in cls]), rms([c != 0 for c in cls])
            r = [f32((a + b) * f32(0.5)) for a, b in zip(rs, rb, strict=True)]
        delta = [f32(v * f32(frac)) for v in r]
    elif mode == "MinMax":
        delta = [
            f32((float(Xtr[:, j].max()) - float(Xtr[:, j].min())) * float(f32(frac))) for j in range(nvar)
        ]
    else:
        delta = [f32(frac)] * nvar
    ws = sum(float(w[i]) for i in rows if cls[i] == 0)
    wb = sum(float(w[i]) for i in rows if cls[i] != 0)
    scale_s, scale_b = float(f32(1 / ws)) if ws else 1.0, float(f32(1 / wb)) if wb else 1.0

    def inside(lo: list[float], up: list[float]) -> list[int]:
        return [i for i in rows if all(lo[j] < float(Xtr[i, j]) <= up[j] for j in range(nvar))]

    def weight(lo: list[float], up: list[float]) -> float:
        return sum(float(w[i]) for i in inside(lo, up))

    def scaled(lo: list[float], up: list[float], f: float) -> tuple[list[float], list[float]]:
        return (
            [0.5 * (a * (1 + f) + b * (1 - f)) for a, b in zip(lo, up, strict=True)],
            [0.5 * (a * (1 - f) + b * (1 + f)) for a, b in zip(lo, up, strict=True)],
        )

    result = []
    for e in E:
        lo = [float(e[j]) - float(delta[j]) * 0.5 for j in range(nvar)]
        up = [float(e[j]) + float(delta[j]) * 0.5 for j in range(nvar)]
        dmax = 0.0
        if mode == "Adaptive":
            n_old = f32(weight(lo, up))
            while n_old < f32(nmin):
                lo, up = scaled(lo, up, 1.15)
                n_old = f32(weight(lo, up))
            n_new, n_exp = n_old, f32(0.5 * float(f32(f32(nmin) + f32(nmax))))
            s_old, s_new = f32(1.0), f32(init)
            scale = best_scale = s_new
            best_n = n_new
            ic = 1
            while ic < maxit:
                if not (n_new < f32(nmin) or n_new > f32(nmax)):
                    break
                n_new = f32(weight(*scaled(lo, up, float(scale))))
                if n_new > 1 and n_new - n_old != 0:
                    if s_new - s_old != 0:
                        scale = f32(scale + (s_new - s_old) / (n_new - n_old) * (n_exp - n_new))
                    else:
                        scale = f32(float(scale) + (-0.01))
                else:
                    scale = f32(scale + f32(0.5))
                s_new = scale
                if abs(n_new - n_exp) < abs(best_n - n_exp) and (n_new >= f32(nmin) or best_n < n_new):
                    best_n, best_scale = n_new, scale
                ic += 1
            lo, up = scaled(lo, up, float(best_scale))
            events = inside(lo, up)
        elif mode == "kNN":
            kmin, kmax = int(nmin), int(nmax)
            count = min(len(inside(lo, up)), kmax + 1)
            times = 0
            while not (kmin <= count <= kmax):
                lo, up = scaled(lo, up, 2.0 if count < kmin else float(f32(0.1)))
                count = min(len(inside(lo, up)), kmax + 1)
                times += 1
                if times == maxit:
                    break
            events = []
            if count >= kmin:
                cand = inside(lo, up)
                norm = [1.0 / (up[j] - lo[j]) for j in range(nvar)]
                dist = {}
                for i in cand:
                    acc = 0.0
                    for j in range(nvar):
                        acc += (norm[j] * float(f32(Xtr[i, j] - e[j]))) ** 2
                    dist[i] = math.sqrt(acc / nvar)
                dmax = sorted(dist.values())[kmin - 1]
                events = [i for i in cand if dist[i] <= dmax]
        else:
            events = inside(lo, up)
        norm = [2.0 / (up[j] - lo[j]) for j in range(nvar)]
        ps = pb = num = 0.0
        for i in events:
            acc = 0.0
            for j in range(nvar):
                acc += (norm[j] * float(f32(Xtr[i, j] - e[j]))) ** 2
            d = math.sqrt(acc / nvar)
            if d > 1 and kernel != "Box":
                continue
            k = _kernel(kernel, d, nvar, sigma, dmax) * float(w[i])
            if regression:
                num += k * float(t[i])
                ps += k
            elif cls[i] == 0:
                ps += k
            else:
                pb += k
        if regression:
            result.append(num / ps if ps != 0 else 0.0)
            continue
        ps, pb = max(ps, 0.0), max(pb, 0.0)
        if ps < 1e-20 and pb < 1e-20:
            result.append(0.5)
        elif pb < 1e-20:
            result.append(1.0)
        elif ps < 1e-20:
            result.append(0.0)
        else:
            result.append(1.0 / (float(f32(pb * scale_b / (ps * scale_s))) + 1.0))
    return np.array(result)


CASES = [
    ("Adaptive", "Box", {"NEventsMin": 12.0, "NEventsMax": 20.0}),
    ("Adaptive", "Gauss", {"NEventsMin": 25.0, "NEventsMax": 35.0, "GaussSigma": 0.3}),
    (
        "Adaptive",
        "Teepee",
        {"NEventsMin": 10.0, "NEventsMax": 14.0, "InitialScale": 0.8, "MaxVIterations": 7.0},
    ),
    ("RMS", "Sphere", {"DeltaFrac": 1.5}),
    ("MinMax", "Sinc5", {"DeltaFrac": 0.4}),
    ("Unscaled", "Lanczos3", {"DeltaFrac": 2.0}),
    ("kNN", "Trim", {"NEventsMin": 8.0, "NEventsMax": 30.0}),
    ("kNN", "Sinc3", {"NEventsMin": 5.0, "NEventsMax": 40.0, "MaxVIterations": 20.0}),
]


@pytest.mark.parametrize(("mode", "kernel", "extra"), CASES)
def test_response_against_brute_force(
    tmp_path: Path, mode: str, kernel: str, extra: dict[str, float]
) -> None:
    X, cid, w = _data(40, 2, seed=3)
    E = np.random.default_rng(4).normal(0.0, 1.4, (25, 2)).astype(np.float32)
    opts = ":".join(
        [f"VolumeRangeMode={mode}", f"KernelEstimator={kernel}"] + [f"{k}={v}" for k, v in extra.items()]
    )
    m = MethodPDERS("PDERS", _ctx(tmp_path), opts)
    m.train(_sample(X, cid, w))
    got = m.evaluate(E).astype(np.float64)
    want = _brute(X, w, cid, E, mode=mode, kernel=kernel, **extra)
    np.testing.assert_allclose(got, want, rtol=2e-7, atol=1e-7)  # float32 output of a double value
    if kernel != "Trim":  # TMVA's Trim weights are mostly negative (d/d_k reaches 2): its sums clip to 0
        assert len(np.unique(np.round(want, 5))) > 5  # the cases are not degenerate


def test_three_variables_and_regression_against_brute_force(tmp_path: Path) -> None:
    X, cid, w = _data(30, 3, seed=5)
    E = np.random.default_rng(6).normal(0.0, 1.2, (20, 3)).astype(np.float32)
    extra = {"NEventsMin": 9.0, "NEventsMax": 15.0}
    m = MethodPDERS("PDERS", _ctx(tmp_path, 3), "KernelEstimator=Lanczos2:NEventsMin=9:NEventsMax=15")
    m.train(_sample(X, cid, w))
    want = _brute(X, w, cid, E, mode="Adaptive", kernel="Lanczos2", **extra)
    np.testing.assert_allclose(m.evaluate(E), want, rtol=2e-7, atol=1e-7)
    t = (X[:, 0] * 2 + X[:, 1] ** 2).astype(np.float32)
    reg = MethodPDERS(
        "PDERS",
        _ctx(tmp_path, 3, regression=True),
        "KernelEstimator=Gauss:GaussSigma=0.4:" + "NEventsMin=9:NEventsMax=15",
    )
    reg.train(_sample(X, np.zeros(len(X)), w, t))
    want_r = _brute(X, w, np.zeros(len(X)), E, mode="Adaptive", kernel="Gauss", t=t, GaussSigma=0.4, **extra)
    # TMVA adds the regression sums in float32 (RKernelEstimate): agreement to float32 rounding
    np.testing.assert_allclose(reg.evaluate(E)[:, 0], want_r, rtol=1e-5, atol=1e-6)


def test_uniform_densities_give_the_density_ratio(tmp_path: Path) -> None:
    """Signal on a 2-d lattice of spacing 1, background on one of spacing 1/2 over the left half: a
    box of side 2 centred off the lattice holds 4 signal and 16 background points, so with the class
    sums W_S = 100 and W_B = 4·50 = 200 events (weights 1 and 1/2) the densities are 4/100 and
    16·½/100 and the response is ρ_S/(ρ_S + ρ_B) = 0.04/(0.04 + 0.08) = 1/3."""
    g = np.arange(10, dtype=np.float32)
    sig = np.array([(a, b) for a in g for b in g], dtype=np.float32)
    h = np.arange(0, 5, 0.5, dtype=np.float32)
    bkg = np.array([(a, b) for a in h for b in np.arange(0, 10, 0.5)], dtype=np.float32)
    X = np.vstack([sig, bkg])
    cid = np.r_[np.zeros(len(sig)), np.ones(len(bkg))]
    w = np.r_[np.ones(len(sig)), np.full(len(bkg), 0.5)]
    m = MethodPDERS("PDERS", _ctx(tmp_path), "VolumeRangeMode=Unscaled:DeltaFrac=2:KernelEstimator=Box")
    m.train(_sample(X, cid, w))
    q = np.array([[2.3, 4.2], [1.1, 7.3], [7.2, 3.3], [7.05, 0.2]], dtype=np.float32)
    # left half: 1/3; right half: no background in the box → 1; the last box reaches below the lattice:
    # (6.05, 8.05] × (−0.8, 1.2] holds signal (7, 0), (7, 1), (8, 0), (8, 1) and no background
    np.testing.assert_allclose(m.evaluate(q), [1 / 3, 1 / 3, 1.0, 1.0], rtol=1e-6)
    # the box is half open: (x − 1, x + 1] — a centre on the lattice takes the upper edge only
    edge = m.evaluate(np.array([[7.0, 5.0]], dtype=np.float32))
    assert edge[0] == 1.0
    cnt = m.tree_.volume_counts(np.array([[6.0, 4.0]]), np.array([[8.0, 6.0]]), [1.0, 1.0])  # type: ignore[union-attr]
    assert cnt.tolist() == [4]  # (6, 8] × (4, 6]: x ∈ {7, 8}, y ∈ {5, 6}


def test_tree_layout_is_a_valid_search_tree() -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(0, 1, (300, 3)).astype(np.float32)
    X[::7, 1] = 0.25  # ties
    for order in (np.arange(300), normalized_order(X)):
        parent, pos, depth = insertion_layout(X, order)
        rank = np.empty(300, dtype=np.int64)
        rank[order] = np.arange(300)
        assert (pos == "s").sum() == 1
        for i in range(300):
            p = parent[i]
            if p < 0:
                continue
            assert rank[p] < rank[i]
            assert depth[i] == depth[p] + 1
            # every ancestor routed i as Insert does: <= goes left
            a, c = p, i
            while a >= 0:
                sel = depth[a] % 3
                went_left = pos[c] == "l" if parent[c] == a else None
                if went_left is not None:
                    assert went_left == (X[i, sel] <= X[a, sel])
                c, a = a, parent[a]
        if order is not None and not np.array_equal(order, np.arange(300)):
            assert depth.max() <= 12  # the median split keeps the tree balanced (log2 300 ≈ 8.2)
    # NormalizeTree on a 1-d example by hand: sorted 2 2 2 3 5 8 (events 1 3 5 4 0 2); position 6 // 2
    # = 3 (event 4) is the root; in [2 2 2] position 1 steps back to the first of the run (event 1), the
    # rest [2 2] again to its first (event 3), then event 5; in [5 8] position 1 (event 2), then event 0
    X1 = np.array([[5.0], [2.0], [8.0], [2.0], [3.0], [2.0]], dtype=np.float32)
    assert normalized_order(X1).tolist() == [4, 1, 3, 5, 2, 0]


def test_weights_file_round_trip_and_layout(tmp_path: Path) -> None:
    X, cid, w = _data(60, 2, seed=8)
    m = MethodPDERS("PDERS", _ctx(tmp_path), "NormTree:KernelEstimator=Gauss:NEventsMin=20:NEventsMax=30")
    m.train(_sample(X, cid, w))
    xml = weights_xml_bytes(build_weights_xml(m))
    root = ET.fromstring(xml)
    bt = root.find("Weights/BinaryTree")
    assert bt is not None
    assert bt.get("type") == "BinarySearchTree"
    nodes = list(bt.iter("Node"))
    assert len(nodes) == 120
    top = bt.find("Node")
    assert top is not None
    assert top.get("pos") == "s"
    assert top.get("depth") == "0"
    for nd in nodes:
        assert set(nd.attrib) == {"pos", "depth", "selector", "weight", "type", "NVars"}
        assert int(nd.get("selector", "")) == int(nd.get("depth", "")) % 2
        for child in nd.findall("Node"):
            assert int(child.get("depth", "")) == int(nd.get("depth", "")) + 1
    values = np.array([[float(v) for v in (nd.text or "").split()] for nd in nodes])
    assert sorted(map(tuple, values)) == sorted(map(tuple, X.astype(np.float64)))
    back = method_from_content(parse_weights_xml(xml))
    q = np.random.default_rng(9).normal(0, 1.5, (40, 2)).astype(np.float32)
    np.testing.assert_array_equal(back.evaluate(q), m.evaluate(q))
    assert m.ranking() is None


def test_options(tmp_path: Path) -> None:
    m = MethodPDERS("PDERS", _ctx(tmp_path))
    o = m._opts()
    assert (o.VolumeRangeMode, o.KernelEstimator, o.DeltaFrac) == ("Adaptive", "Box", 3.0)
    assert (o.NEventsMin, o.NEventsMax, o.MaxVIterations, o.InitialScale, o.GaussSigma, o.NormTree) == (
        100.0,
        200.0,
        150.0,
        0.99,
        0.1,
        False,
    )
    assert len(KERNELS) == 14
    with pytest.raises(OptionError, match="VolumeRangeMode"):
        MethodPDERS("PDERS", _ctx(tmp_path), "VolumeRangeMode=Fixed")
    with pytest.raises(OptionError, match="KernelEstimator"):
        MethodPDERS("PDERS", _ctx(tmp_path), "KernelEstimator=Sinc4")
    with pytest.raises(OptionError, match="Trim"):
        MethodPDERS("PDERS", _ctx(tmp_path), "KernelEstimator=Trim")
    with pytest.raises(OptionError, match="IgnoreNegWeightsInTraining"):
        MethodPDERS("PDERS", _ctx(tmp_path), "IgnoreNegWeightsInTraining")
    X, cid, w = _data(20, 2, seed=1)
    too_many = MethodPDERS("PDERS", _ctx(tmp_path), "NEventsMin=100:NEventsMax=200")
    too_many.train(_sample(X, cid, w))
    with pytest.raises(ModelError, match="NEventsMin"):
        too_many.evaluate(X)
    X[:, 1] = 1.0
    const = MethodPDERS("PDERS", _ctx(tmp_path), "VolumeRangeMode=RMS")
    with pytest.raises(ModelError, match="x1"):
        const.train(_sample(X, cid, w))


def test_tutorial_bookings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    create_class_example("toy.root", n_events=500)
    data = uproot.open("toy.root")
    factory = TMVA.Factory("TMVAClassification", None, "Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"])
    loader.AddBackgroundTree(data["TreeB"])
    loader.SetBackgroundWeightExpression("weight")
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    base = "!H:!V:NormTree=T:VolumeRangeMode=Adaptive:KernelEstimator=Gauss:GaussSigma=0.3:NEventsMin=400:NEventsMax=600"
    factory.BookMethod(loader, TMVA.Types.kPDERS, "PDERS", base)
    factory.BookMethod(loader, TMVA.Types.kPDERS, "PDERSD", base + ":VarTransform=D")
    factory.BookMethod(loader, TMVA.Types.kPDERS, "PDERSPCA", base + ":VarTransform=PCA")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    for title in ("PDERS", "PDERSD", "PDERSPCA"):
        assert factory.GetROCIntegral(loader, title) > 0.75
    # the Reader books the weights file and answers as the trained method
    names = ("var1", "var2", "var3", "var4")
    X = np.column_stack([data["TreeS"][v].array(library="np")[:200] for v in names]).astype(np.float32)
    reader = Reader("Silent")
    for v in names:
        reader.AddVariable(v, np.zeros(1, dtype=np.float32))
    reader.BookMVA("PDERSD", "dataset/weights/TMVAClassification_PDERSD.weights.xml")
    got = reader.EvaluateMVA(X, "PDERSD")
    np.testing.assert_array_equal(got, factory.GetMethod(loader, "PDERSD").evaluate(X))

    create_regression_example("reg.root", n_events=300)
    reg = uproot.open("reg.root")
    rfactory = TMVA.Factory("TMVARegression", None, "Silent:!DrawProgressBar:AnalysisType=Regression")
    rloader = TMVA.DataLoader("dataset")
    rloader.AddVariable("var1")
    rloader.AddVariable("var2")
    rloader.AddTarget("fvalue")
    rloader.AddRegressionTree(reg["TreeR"], 1.0)
    rloader.PrepareTrainingAndTestTree(TCut(""), "nTrain_Regression=200:nTest_Regression=0:SplitMode=Random")
    rfactory.BookMethod(
        rloader,
        TMVA.Types.kPDERS,
        "PDERS",
        "!H:!V:NormTree=T:VolumeRangeMode=Adaptive:KernelEstimator=Gauss:"
        "GaussSigma=0.3:NEventsMin=40:NEventsMax=60",
    )
    rfactory.TrainAllMethods()
    rfactory.TestAllMethods()
    rfactory.EvaluateAllMethods()
    assert Path("dataset/weights/TMVARegression_PDERS.weights.xml").exists()


def test_binary_search_tree_rejects_bad_input() -> None:
    with pytest.raises(ModelError):
        BinarySearchTree(np.zeros((0, 2)), [], [])
    t = BinarySearchTree(np.zeros((3, 2)), [1, 1, 1], [0, 0, 1])
    with pytest.raises(ModelError, match="scale"):
        t.search(np.zeros((1, 2)), np.ones((1, 2)), [0.0, 1.0])
