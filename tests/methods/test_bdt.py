"""BDT as TMVA grows it: hand-built trees with known splits, TMVA's boosting formulas by hand,
ROOT's TRandom3 stream, scikit-learn on the same data, the XML layout and its round trip."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import OptionError
from pymva.io.weights import build_weights_xml, method_from_content, parse_weights_xml
from pymva.methods.base import MethodContext
from pymva.methods.bdt import BDTOptions, MethodBDT, normalise_weights
from pymva.methods.decisiontree import TreeConfig, clean_tree, grow_tree
from pymva.methods.registry import get_method_class
from pymva.methods.separation import SEPARATION_INDEX, regression_variance_gain, separation_gain
from pymva.methods.trandom3 import TRandom3, poisson_counts
from pymva.types import EAnalysisType, Types


def _context(
    at: EAnalysisType = EAnalysisType.kClassification, n_vars: int = 1, n_classes: int = 2
) -> MethodContext:
    classes = ("Signal", "Background") if n_classes == 2 else tuple(f"c{i}" for i in range(n_classes))
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=at,
        variables=tuple(VariableInfo(f"x{i}", f"x{i}", f"x{i}") for i in range(n_vars)),
        class_names=classes if at != EAnalysisType.kRegression else (),
        targets=(VariableInfo("t", "t", "t", kind="target"),) if at == EAnalysisType.kRegression else (),
    )


def _sample(
    X: np.ndarray, class_id: np.ndarray, weights: np.ndarray | None = None, t: np.ndarray | None = None
) -> Sample:
    n = len(X)
    return Sample(
        X=np.asarray(X, np.float32).reshape(n, -1),
        targets=np.zeros((n, 0), np.float32) if t is None else np.asarray(t, np.float32).reshape(n, 1),
        spectators=np.zeros((n, 0), np.float32),
        weights=np.ones(n, np.float32) if weights is None else np.asarray(weights, np.float32),
        class_id=np.asarray(class_id, np.int32),
    )


#: x = 0..7, the first four background (class 1), the last four signal (class 0)
X8 = np.arange(8, dtype=np.float32)
C8 = np.array([1, 1, 1, 1, 0, 0, 0, 0])


def _train(options: str, sample: Sample, ctx: MethodContext | None = None) -> MethodBDT:
    m = MethodBDT("BDT", ctx or _context(), options)
    m.setup()
    m.train(sample)
    return m


# ---------------------------------------------------------------------------------------------- RNG
def _mt19937(seed: int):
    """The reference MT19937 (init_genrand + genrand_int32), written out from the published algorithm."""
    mt = [0] * 624
    mt[0] = seed
    for i in range(1, 624):
        mt[i] = (1812433253 * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i) & 0xFFFFFFFF
    index = 624
    while True:
        if index >= 624:
            for i in range(624):
                y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7FFFFFFF)
                mt[i] = mt[(i + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            index = 0
        y = mt[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        yield y


def test_trandom3_is_the_reference_mersenne_twister() -> None:
    gen = _mt19937(1234)
    expected = [next(gen) * 2.0**-32 for _ in range(1500)]
    assert np.array_equal(TRandom3(1234).uniforms(1500), expected)


def test_poisson_counts_follow_troot_poissond() -> None:
    """TRandom::PoissonD(mean < 25): multiply uniforms until the product drops to exp(-mean)."""
    gen = _mt19937(1334)
    expected = []
    for _ in range(3000):
        n, p = -1, 1.0
        while True:
            n += 1
            p *= next(gen) * 2.0**-32
            if p <= math.exp(-0.5):
                break
        expected.append(n)
    assert np.array_equal(poisson_counts(1334, 0.5, 3000), expected)


# ---------------------------------------------------------------------------------------------- criteria
def test_separation_criteria_by_hand() -> None:
    gini = SEPARATION_INDEX["giniindex"]
    assert float(gini(np.float64(3), np.float64(1))) == pytest.approx(2 * 3 * 1 / 16)
    assert float(SEPARATION_INDEX["crossentropy"](np.float64(2), np.float64(2))) == pytest.approx(1.0)
    assert float(SEPARATION_INDEX["misclassificationerror"](np.float64(3), np.float64(1))) == pytest.approx(
        0.25
    )
    # perfect split of (4, 4): the parent's Gini 0.5 is gained entirely
    assert float(separation_gain(gini, np.float64(4), np.float64(0), np.float64(4), np.float64(4))) == 0.5
    # identical daughters gain nothing
    assert float(separation_gain(gini, np.float64(2), np.float64(2), np.float64(4), np.float64(4))) == 0.0
    # regression: targets -1,-1 | +1,+1 (unit weights): all variance explained
    gain = regression_variance_gain(
        np.float64(2), np.float64(2), np.float64(2), np.float64(4), np.float64(0), np.float64(4)
    )
    assert float(gain) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------- one tree
def _tree(sep: str | None, max_depth: int = 1, target: np.ndarray | None = None):
    X = X8.reshape(-1, 1)
    cfg = TreeConfig(
        sep_index=SEPARATION_INDEX[sep] if sep else None, n_cuts=4, min_node_size=1.0, max_depth=max_depth
    )
    is_sig = C8 == 0
    return grow_tree(cfg, X, X.T.astype(np.float64), is_sig, np.ones(8), np.arange(8), target)


def test_tree_split_on_the_node_local_grid_by_hand() -> None:
    """nCuts=4 on [0, 7]: 5 bins of width 1.4, edges 1.4, 2.8, 4.2, 5.6.  Gini gains 0.3 at 2.8
    (3 b | 4 s + 1 b) and at 4.2 (4 b + 1 s | 3 s): the first one wins.  The lower side has the
    smaller signal fraction (0/4 < 3/4), so cType=0: events with x < 2.8 go right."""
    t = _tree("giniindex")
    assert t.ivar[0] == 0
    assert t.cut[0] == np.float32(2.8)
    assert not t.cut_type[0]
    right, left = t.right[0], t.left[0]
    assert t.purity[right] == 0.0
    assert t.node_type[right] == -1
    assert t.purity[left] == np.float32(0.8)
    assert t.node_type[left] == 1
    np.testing.assert_array_equal(t.apply(X8.reshape(-1, 1)), np.where(X8 < 2.8, right, left))


def test_regression_tree_split_and_leaf_response_by_hand() -> None:
    """Targets ±0.5: RegressionVariance gains 0.6 at 2.8 and 4.2, 1/3 at 1.4 and 5.6 -> 2.8."""
    target = np.where(C8 == 0, 0.5, -0.5)
    t = _tree(None, target=target)
    assert t.regression
    assert t.cut[0] == np.float32(2.8)
    assert t.cut_type[0]
    leaf = t.apply(X8.reshape(-1, 1))
    assert t.response[leaf[0]] == pytest.approx(-0.5)
    assert t.response[leaf[-1]] == pytest.approx((4 * 0.5 - 0.5) / 5)
    assert t.node_type[leaf[0]] == -99  # TMVA never sets the type of regression leaves


def test_clean_tree_merges_leaves_of_one_type() -> None:
    """CleanTree: two sibling leaves of one type become one leaf; the node keeps its cut value, its
    IVar becomes -1 and its type follows its purity (as in the Higgs tutorial's weights file)."""
    t = _tree("giniindex", max_depth=2)
    inner = int(t.left[0])
    assert t.node_type[inner] == 0
    t.node_type[t.left[inner]] = t.node_type[t.right[inner]] = 1  # make both daughters signal leaves
    cut = t.cut[inner]
    cleaned = clean_tree(t, 0.5)
    assert cleaned.n_nodes == 3
    leaf = int(cleaned.left[0])
    assert cleaned.ivar[leaf] == -1
    assert cleaned.cut[leaf] == cut
    assert cleaned.node_type[leaf] == 1


def test_single_tree_partition_matches_scikit_learn_stump() -> None:
    """Two separated clusters: TMVA's grid (nCuts=20) and scikit-learn's depth-1 Gini tree split the
    events into the same two groups."""
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(-2, 0.5, 200), rng.normal(2, 0.5, 200)].astype(np.float32).reshape(-1, 1)
    cls = np.r_[np.zeros(200), np.ones(200)].astype(np.int32)
    m = _train("NTrees=1:MaxDepth=1:nCuts=20:MinNodeSize=1%", _sample(X, cls))
    sk = DecisionTreeClassifier(max_depth=1).fit(X.astype(np.float64), cls)
    ours, theirs = m.forest_[0].apply(X), sk.apply(X.astype(np.float64))
    assert len(set(zip(ours.tolist(), theirs.tolist(), strict=True))) == 2


def test_full_cut_scan_uses_tmvas_inclusive_cumulative() -> None:
    """nCuts=-1 (TrainNodeFull): the gain at sorted position k uses the weights up to and including
    event k, the cut lies half way between events k-1 and k; so the perfect gain is found at the
    last signal event (k=199 of the sorted sample) and the cut falls between events 198 and 199."""
    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(-2, 0.5, 200), rng.normal(2, 0.5, 200)].astype(np.float32).reshape(-1, 1)
    cls = np.r_[np.zeros(200), np.ones(200)].astype(np.int32)
    m = _train("NTrees=1:MaxDepth=1:nCuts=-1:MinNodeSize=1%", _sample(X, cls))
    v = np.sort(X[:, 0]).astype(np.float64)
    assert m.forest_[0].cut[0] == np.float32(v[199] - 0.5 * (v[199] - v[198]))


# ---------------------------------------------------------------------------------------------- boosting
def test_adaboost_weights_and_response_by_hand() -> None:
    """One misclassified event of 8 (x=3, background in the signal leaf): err = 1/8, boost weight
    β·ln(7); the event's weight becomes √7 (β=½), all renormalised to 8 events."""
    m = _train("NTrees=2:MaxDepth=1:nCuts=4:MinNodeSize=1%:AdaBoostBeta=0.5", _sample(X8, C8))
    assert m.boost_weights_[0] == pytest.approx(0.5 * math.log(7))
    g = 8 / (7 + math.sqrt(7))
    root2 = m.forest_[1]
    assert root2.nsig[0] == pytest.approx(4 * g)
    assert root2.nbkg[0] == pytest.approx((3 + math.sqrt(7)) * g)
    # the response: boost-weighted vote of the leaf types, in [-1, 1]
    out = m.evaluate(X8.reshape(-1, 1))
    a0, a1 = m.boost_weights_
    v0 = m.forest_[0].node_type[m.forest_[0].apply(X8.reshape(-1, 1))]
    v1 = m.forest_[1].node_type[m.forest_[1].apply(X8.reshape(-1, 1))]
    np.testing.assert_allclose(out, (a0 * v0 + a1 * v1) / (a0 + a1), rtol=1e-6)


def test_adaboost_inverse_boosts_negative_weights_by_hand() -> None:
    """As above plus a second background event at x=3 with weight -0.25 (TMVA's default
    NegWeightTreatment=InverseBoostNegWeights).  TMVA first scales each class to half of the 9
    events (signal 4 -> 4.5: 1.125 each; background 3.75 -> 4.5: 1.2 each, the negative one -0.3);
    err = 1.2·(1 - 0.25)/9 = 0.1, boost weight ½·ln 9, factor 3; the positive misclassified event
    is multiplied by 3, the negative one divided by 3 (``MethodBDT::AdaBoost``), then all are
    renormalised to the 9 events."""
    X = np.append(X8, np.float32(3))
    C = np.append(C8, 1)
    w = np.append(np.ones(8), -0.25)
    m = _train("NTrees=2:MaxDepth=1:nCuts=4:MinNodeSize=1%:AdaBoostBeta=0.5", _sample(X, C, w))
    assert m.boost_weights_[0] == pytest.approx(0.5 * math.log(9))
    bkg = 3 * 1.2 + 1.2 * 3 - 0.3 / 3
    g = 9 / (4.5 + bkg)
    root2 = m.forest_[1]
    assert root2.nsig[0] == pytest.approx(4.5 * g)
    assert root2.nbkg[0] == pytest.approx(bkg * g)


def test_gradient_boost_leaf_values_by_hand() -> None:
    """BoostType=Grad, one stump: targets y − ½; leaf value Shrinkage/2 · Σt/Σ|t|(1−|t|):
    right leaf {3..7}: (1.5/1.25)/2 = 0.6, left leaf {0,1,2}: (−1.5/0.75)/2 = −1; response tanh(F)."""
    m = _train("NTrees=1:MaxDepth=1:nCuts=4:MinNodeSize=1%:BoostType=Grad:Shrinkage=1", _sample(X8, C8))
    out = m.evaluate(X8.reshape(-1, 1))
    np.testing.assert_allclose(out[:3], math.tanh(-1.0), rtol=1e-6)
    np.testing.assert_allclose(out[3:], math.tanh(0.6), rtol=1e-6)


def test_bagged_samples_come_from_tmva_seeds() -> None:
    """UseBaggedBoost: tree 0 sees each event PoissonD(f) times from TRandom3(1234)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 2)).astype(np.float32)
    cls = (X[:, 0] + X[:, 1] < 0).astype(np.int32)
    m = _train(
        "NTrees=1:MaxDepth=1:UseBaggedBoost:BaggedSampleFraction=0.5:MinNodeSize=1%",
        _sample(X, cls),
        _context(n_vars=2),
    )
    counts = poisson_counts(1234, 0.5, 300)
    root = m.forest_[0]
    w = normalise_weights(cls, np.ones(300), 0, 1.0)
    assert root.nsig[0] == pytest.approx(float((counts * w)[cls == 0].sum()))
    assert root.nbkg[0] == pytest.approx(float((counts * w)[cls == 1].sum()))


def test_multiclass_and_regression_outputs() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 2)).astype(np.float32)
    cls = np.argmax(np.c_[X[:, 0], X[:, 1], -X[:, 0] - X[:, 1]], axis=1).astype(np.int32)
    m = _train(
        "NTrees=5:BoostType=Grad:MaxDepth=2:Shrinkage=0.5",
        _sample(X, cls),
        _context(EAnalysisType.kMulticlass, 2, 3),
    )
    p = m.evaluate(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert (np.argmax(p, axis=1) == cls).mean() > 0.8
    y = (2 * X[:, 0] - X[:, 1]).astype(np.float32)
    for opt in (
        "NTrees=20:BoostType=Grad:MaxDepth=3:Shrinkage=0.5",
        "NTrees=10:BoostType=AdaBoostR2:MaxDepth=4",
        "NTrees=5:MaxDepth=4:PruneMethod=CostComplexity:PruneStrength=30:BoostType=AdaBoostR2",
        "NTrees=10:BoostType=Grad:RegressionLossFunctionBDTG=LeastSquares:MaxDepth=3:UseBaggedBoost",
    ):
        r = _train(opt, _sample(X, np.zeros(600), t=y), _context(EAnalysisType.kRegression, 2))
        pred = r.evaluate(X)[:, 0]
        assert np.corrcoef(pred, y)[0, 1] > 0.9, opt


# ---------------------------------------------------------------------------------------------- options
def test_options_defaults_and_refusals() -> None:
    assert get_method_class(Types.EMVA.kBDT) is MethodBDT
    o = BDTOptions()
    assert (o.NTrees, o.MaxDepth, o.MinNodeSize, o.nCuts, o.BoostType) == (800, 3, "5%", 20, "AdaBoost")
    reg = MethodBDT("BDT", _context(EAnalysisType.kRegression)).options
    assert (reg.MaxDepth, reg.MinNodeSize, reg.BoostType) == (50, "0.2%", "AdaBoostR2")  # type: ignore[attr-defined]
    for bad, match in (
        ("MinNodeSize=60%", "MinNodeSize"),
        ("DoPreselection", "DoPreselection"),
        ("PruneMethod=ExpectedError", "ExpectedError"),
        ("PruneMethod=CostComplexity:PruneStrength=-1", "automatic pruning"),
        ("BoostType=AdaBoostR2", "regression"),
        ("BoostType=Nonsense", "BoostType"),
    ):
        with pytest.raises(OptionError, match=match):
            MethodBDT("BDT", _context(), bad).setup()
    with pytest.raises(OptionError, match="Multiclass"):
        MethodBDT("BDT", _context(EAnalysisType.kMulticlass, 1, 3), "BoostType=AdaBoost").setup()


# ---------------------------------------------------------------------------------------------- XML
def test_weights_file_layout_and_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 3)).astype(np.float32)
    cls = (X @ [1.0, -1.0, 0.5] > 0).astype(np.int32)
    for opt in (
        "NTrees=4:MaxDepth=2:UseFisherCuts:MinLinCorrForFisher=0.0",
        "NTrees=3:BoostType=Grad:MaxDepth=2",
    ):
        m = _train(opt, _sample(X, cls), _context(n_vars=3))
        root = build_weights_xml(m)
        w = root.find("Weights")
        assert w is not None
        assert w.get("NTrees") == str(len(m.forest_))
        bt = w.findall("BinaryTree")
        assert [b.get("itree") for b in bt] == [str(i) for i in range(len(m.forest_))]
        node = bt[0].find("Node")
        assert node is not None
        assert node.get("pos") == "s"
        assert list(node.attrib)[:3] == ["pos", "depth", "NCoef"]
        assert list(node.attrib)[-7:] == ["IVar", "Cut", "cType", "res", "rms", "purity", "nType"]
        assert not list(tmp_path.iterdir())  # no pickle or other file beside the XML
        back = method_from_content(parse_weights_xml(ET.tostring(root)))
        np.testing.assert_allclose(back.evaluate(X), m.evaluate(X), atol=1e-6)
