"""The output ROOT file: written with pymva.io.output, re-read with uproot."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path

import hist
import numpy as np
import pytest
import uproot

from pymva.data.dataset import DataSet, Sample, VariableInfo, weighted_correlation
from pymva.histograms import new_hist
from pymva.io.output.layout import event_tree_columns
from pymva.io.output.plots import (
    correlation_matrix_histogram,
    correlation_matrix_histograms,
    input_variable_histograms,
    input_variables_directory,
)
from pymva.io.output.writer import OutputFile
from pymva.types import Types

# --------------------------------------------------------------------------------------------------
# fixtures


@dataclass
class FakeGraph:
    name: str
    title: str
    x: np.ndarray
    y: np.ndarray
    x_title: str = ""
    y_title: str = ""


def _var(label: str, internal: str | None = None, **kw: object) -> VariableInfo:
    return VariableInfo(label, label, internal or label, **kw)  # type: ignore[arg-type]


def make_sample(n: int, nvar: int, ntgt: int = 0, nspec: int = 0, ncls: int = 2, seed: int = 1) -> Sample:
    rng = np.random.default_rng(seed)
    class_id = rng.integers(0, ncls, n).astype(np.int32)
    X = (rng.normal(size=(n, nvar)) + class_id[:, None]).astype(np.float32)
    return Sample(
        X=X,
        targets=rng.normal(size=(n, ntgt)).astype(np.float32),
        spectators=rng.normal(size=(n, nspec)).astype(np.float32),
        weights=rng.uniform(0.5, 1.5, n).astype(np.float32),
        class_id=class_id,
    )


@pytest.fixture
def classification() -> DataSet:
    train = make_sample(300, 5, nspec=1, seed=1)
    test = make_sample(200, 5, nspec=1, seed=2)
    variables = [
        _var("var1"),
        _var("abs(x)", "abs_x_", unit="GeV"),
        _var("arr[0]"),
        _var("arr[1]"),
        _var("arr[2]"),
    ]
    corr = {
        "Signal": weighted_correlation(train.X[train.class_id == 0], train.weights[train.class_id == 0]),
        "Background": weighted_correlation(train.X[train.class_id == 1], train.weights[train.class_id == 1]),
    }
    return DataSet(
        name="dataset",
        train=train,
        test=test,
        class_names=["Signal", "Background"],
        variables=variables,
        spectators=[VariableInfo("2*var1", "spec1", "spec1", kind="spectator")],
        correlations=corr,
    )


# --------------------------------------------------------------------------------------------------
# TrainTree / TestTree


def test_event_tree_branches_in_tmva_order(tmp_path, classification):
    ds = classification
    rng = np.random.default_rng(3)
    n = len(ds.test)
    results = {
        "b_mlp": rng.random(n),
        "BDT": rng.random(n),
        "PyTorch": rng.random(n).astype(np.float32),
        "prob_BDT": rng.random(n),
    }
    cols = event_tree_columns(ds, ds.test, results, Types.kClassification)
    # byte-wise order of the method titles: upper case before lower case
    expected = ["classID", "className", "var1", "abs_x_", "arr", "spec1", "weight"]
    expected += ["BDT", "PyTorch", "b_mlp", "prob_BDT"]
    assert cols.names == expected

    path = tmp_path / "TMVA.root"
    with OutputFile(path) as out:
        out.write_event_tree(ds.name, "TestTree", cols)

    with uproot.open(path) as f:
        assert f.classnames()["dataset/TestTree;1"] == "TTree"
        tree = f["dataset/TestTree"]
        assert tree.title == "TestTree"
        assert list(tree.keys()) == expected
        assert tree.num_entries == n
        types = {b.name: b.typename for b in tree.branches}
        assert types["classID"] == "int32_t"
        assert types["className"] == "char*"
        assert tree["className"].title == "className/C"
        assert types["arr"] == "float[3]"
        assert all(types[b] == "float" for b in ["var1", "abs_x_", "spec1", "weight", "BDT", "prob_BDT"])
        arrays = tree.arrays(library="np")
    np.testing.assert_array_equal(arrays["classID"], ds.test.class_id)
    assert list(arrays["className"]) == [ds.class_names[c] for c in ds.test.class_id]
    np.testing.assert_array_equal(arrays["var1"], ds.test.X[:, 0])
    np.testing.assert_array_equal(arrays["abs_x_"], ds.test.X[:, 1])
    np.testing.assert_array_equal(arrays["arr"], ds.test.X[:, 2:5])
    np.testing.assert_array_equal(arrays["spec1"], ds.test.spectators[:, 0])
    np.testing.assert_array_equal(arrays["weight"], ds.test.weights)
    for name, values in results.items():
        np.testing.assert_array_equal(arrays[name], np.asarray(values, np.float32))


def test_multiclass_result_is_one_branch_with_a_leaf_per_class(tmp_path):
    sample = make_sample(120, 2, ncls=3)
    ds = DataSet("ds", sample, sample, ["Signal", "bg0", "bg1"], [_var("a"), _var("b")])
    rng = np.random.default_rng(0)
    resp = rng.dirichlet(np.ones(3), size=120).astype(np.float32)
    cols = event_tree_columns(ds, sample, {"DNN": resp}, "Multiclass")
    assert cols.names[-1] == "DNN"
    # DataSet::GetTree: the leaf list is the class names, in class order
    assert cols.branch("DNN").root_title == "Signal/F:bg0/F:bg1/F"
    path = tmp_path / "m.root"
    with OutputFile(path) as out:
        out.write_event_tree("ds", "TrainTree", cols)
    with uproot.open(path) as f:
        tree = f["ds/TrainTree"]
        assert tree["DNN"].title == "Signal/F:bg0/F:bg1/F"
        leaves = tree["DNN"].member("fLeaves")
        assert [leaf.member("fName") for leaf in leaves] == ["Signal", "bg0", "bg1"]
        # one float each, one after the other in the entry (TBranch::Init's offsets)
        assert [(leaf.member("fLen"), leaf.member("fLenType"), leaf.member("fOffset")) for leaf in leaves] == [
            (1, 4, 0), (1, 4, 4), (1, 4, 8)
        ]  # fmt: skip
        assert tree["DNN"].member("fEntryOffsetLen") == 0
        got = tree["DNN"].array(library="np")
        assert got.dtype.names == ("Signal", "bg0", "bg1")
        for k, name in enumerate(("Signal", "bg0", "bg1")):
            np.testing.assert_array_equal(got[name], resp[:, k])
        assert set(tree["className"].array(library="np")) == {"Signal", "bg0", "bg1"}


@pytest.mark.parametrize("ntgt", [1, 2])
def test_regression_targets_and_results(tmp_path, ntgt):
    sample = make_sample(50, 2, ntgt=ntgt, ncls=1)
    targets = [VariableInfo(f"t{k}", f"t{k}", f"t{k}", kind="target") for k in range(ntgt)]
    ds = DataSet("ds", sample, sample, ["Regression"], [_var("a"), _var("b")], targets=targets)
    out_values = np.random.default_rng(0).normal(size=(50, ntgt))
    cols = event_tree_columns(ds, sample, {"MLP": out_values}, Types.kRegression)
    assert cols.names == [
        "classID",
        "className",
        "a",
        "b",
        *[t.internal_name for t in targets],
        "weight",
        "MLP",
    ]
    # DataSet::GetTree: a leaf per target, named as the target (its internal name)
    leaf_list = ":".join(f"t{k}/F" for k in range(ntgt))
    assert cols.branch("MLP").root_title == leaf_list
    path = tmp_path / "r.root"
    with OutputFile(path) as out:
        out.write_event_tree("ds", "TestTree", cols)
    with uproot.open(path) as f:
        tree = f["ds/TestTree"]
        assert tree["MLP"].title == leaf_list
        assert [leaf.member("fName") for leaf in tree["MLP"].member("fLeaves")] == [
            f"t{k}" for k in range(ntgt)
        ]
        got = tree["MLP"].array(library="np")
        if ntgt == 1:  # one leaf: uproot reads a plain float branch
            assert tree["MLP"].typename == "float"
            np.testing.assert_array_equal(got, out_values[:, 0].astype(np.float32))
        else:
            assert got.dtype.names == ("t0", "t1")
            for k in range(ntgt):
                np.testing.assert_array_equal(got[f"t{k}"], out_values[:, k].astype(np.float32))
        np.testing.assert_array_equal(tree["t0"].array(library="np"), sample.targets[:, 0])


def test_leaf_lists_must_fit_their_branch():
    from pymva.io.output.writer import TreeBranch

    with pytest.raises(ValueError, match="one /F leaf per value"):
        TreeBranch("DNN", "F", 3, "result", np.zeros((4, 3), np.float32), ("Signal", "bg0"))
    with pytest.raises(ValueError, match="one /F leaf per value"):
        TreeBranch("DNN", "I", 0, "result", np.zeros(4, np.int32), ("Signal",))


def test_event_tree_rejects_bad_results(classification):
    ds = classification
    n = len(ds.test)
    with pytest.raises(ValueError, match="already exists"):
        event_tree_columns(ds, ds.test, {"weight": np.zeros(n)}, "Classification")
    with pytest.raises(ValueError, match="rows"):
        event_tree_columns(ds, ds.test, {"BDT": np.zeros(n + 1)}, "Classification")
    with pytest.raises(ValueError, match="shape"):
        event_tree_columns(ds, ds.test, {"BDT": np.zeros((n, 2))}, "Classification")
    with pytest.raises(ValueError, match="multiclass"):
        event_tree_columns(ds, ds.test, {"BDT": np.zeros(n)}, "Multiclass")
    with pytest.raises(ValueError, match="analysis type"):
        event_tree_columns(ds, ds.test, {}, "Clustering")
    with pytest.raises(ValueError, match="4 variables"):
        event_tree_columns(ds, ds.test.replace(X=ds.test.X[:, :4]), {}, "Classification")


def test_long_class_names_are_written_in_full(tmp_path):
    sample = make_sample(10, 1, ncls=2)
    names = ["S" * 60, "Background"]
    ds = DataSet("ds", sample, sample, names, [_var("a")])
    path = tmp_path / "c.root"
    with OutputFile(path) as out:
        out.write_event_tree("ds", "TrainTree", event_tree_columns(ds, sample, {}, "Classification"))
    with uproot.open(path) as f:
        got = f["ds/TrainTree"]["className"].array(library="np")
    assert list(got) == [names[c] for c in sample.class_id]


def test_large_trees_are_written_in_chunks(tmp_path):
    n = 200_000
    rng = np.random.default_rng(5)
    samples = [make_sample(n, 2, seed=s) for s in (1, 2)]
    ds = DataSet("dataset", samples[0], samples[1], ["Signal", "Background"], [_var("a"), _var("b")])
    path = tmp_path / "big.root"
    with OutputFile(path) as out:
        for name, sample in (("TrainTree", ds.train), ("TestTree", ds.test)):
            cols = event_tree_columns(ds, sample, {"BDT": rng.random(n)}, "Classification")
            out.write_event_tree("dataset", name, cols)
    with uproot.open(path) as f:
        for name, sample in (("TrainTree", ds.train), ("TestTree", ds.test)):
            tree = f[f"dataset/{name}"]
            assert tree.num_entries == n
            assert all(branch.num_baskets == 2 for branch in tree.branches)
            np.testing.assert_array_equal(tree["b"].array(library="np"), sample.X[:, 1])


def test_empty_tree(tmp_path, classification):
    ds = classification
    empty = Sample.empty(5, n_spectators=1)
    path = tmp_path / "e.root"
    with OutputFile(path) as out:
        out.write_event_tree("dataset", "TestTree", event_tree_columns(ds, empty, {}, "Classification"))
    with uproot.open(path) as f:
        assert f["dataset/TestTree"].num_entries == 0


# --------------------------------------------------------------------------------------------------
# histograms, graphs, strings


def test_histograms_graphs_and_strings_round_trip(tmp_path):
    edges = np.linspace(-1.0, 1.0, 41)
    counts = np.arange(40, dtype=np.float64)
    h1 = new_hist(
        "MVA_BDT_S",
        "MVA_BDT_S",
        [hist.axis.Variable(edges, label="BDT")],
        counts,
        counts * 0.5,
        value_title="(1/N) dN/dx",
    )
    xe, ye = np.array([0.0, 1.0, 3.0]), np.linspace(0.0, 1.0, 4)
    c2 = np.arange(6, dtype=np.float64).reshape(2, 3)
    h2 = new_hist("h2", "a 2-D one", [hist.axis.Variable(xe), hist.axis.Variable(ye)], c2, c2)
    hd = new_hist(
        "MVA_BDT_effS",
        "eff",
        [hist.axis.Regular(10, 0.0, 1.0)],
        np.linspace(1, 0, 10),
        np.zeros(10),
        classname="TH1D",
    )
    g = FakeGraph(
        "MVA_DNN_Test_rejBvsS_Signal", "roc", np.linspace(0, 1, 5), np.linspace(1, 0, 5), "eff", "rej"
    )
    method_dir = "dataset/Method_PyTorch/PyTorch"
    path = tmp_path / "h.root"
    with OutputFile(path) as out:
        out.write_histogram(method_dir, h1)
        out.write_histograms(method_dir, [h2, hd, g])
        out.write_string(method_dir, "TrainingPath", "/some/where")
        out.write_string(method_dir, "WeightFileName", "dataset/weights/job_PyTorch.weights.xml")
    with uproot.open(path) as f:
        classes = f.classnames()
        assert classes["dataset/Method_PyTorch;1"] == "TDirectory"
        assert classes[f"{method_dir}/MVA_BDT_S;1"] == "TH1F"
        assert classes[f"{method_dir}/h2;1"] == "TH2F"
        assert classes[f"{method_dir}/MVA_BDT_effS;1"] == "TH1D"
        assert classes[f"{method_dir}/MVA_DNN_Test_rejBvsS_Signal;1"] == "TGraph"
        assert classes[f"{method_dir}/TrainingPath;1"] == "TObjString"
        r1 = f[f"{method_dir}/MVA_BDT_S"]
        assert r1.member("fTitle") == "MVA_BDT_S"
        np.testing.assert_allclose(r1.axis().edges(), edges)
        np.testing.assert_array_equal(r1.values(), counts)
        np.testing.assert_allclose(r1.variances(), counts * 0.5)
        assert r1.values().sum() == pytest.approx(780.0)
        assert r1.member("fXaxis").member("fTitle") == "BDT"
        assert r1.member("fYaxis").member("fTitle") == "(1/N) dN/dx"
        r2 = f[f"{method_dir}/h2"]
        np.testing.assert_array_equal(r2.values(), c2)
        np.testing.assert_allclose(r2.axis(0).edges(), xe)  # variable bins survive
        np.testing.assert_allclose(r2.axis(1).edges(), ye)
        rd = f[f"{method_dir}/MVA_BDT_effS"]
        np.testing.assert_allclose(rd.values(), np.linspace(1, 0, 10))
        rg = f[f"{method_dir}/MVA_DNN_Test_rejBvsS_Signal"]
        np.testing.assert_allclose(rg.values()[1], np.linspace(1, 0, 5))
        assert str(f[f"{method_dir}/WeightFileName"]) == "dataset/weights/job_PyTorch.weights.xml"


def test_histogram_with_flow_bins_and_shape_errors(tmp_path):
    axis = hist.axis.Regular(2, 0.0, 1.0)
    h = new_hist("h", "h", [axis], np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    path = tmp_path / "f.root"
    with OutputFile(path) as out:
        out.write_histogram("", h)
        with pytest.raises(ValueError, match="values has shape"):
            new_hist("bad", "bad", [axis], np.ones(3), np.ones(3))
        bad2 = new_hist("bad2", "", [axis], np.ones(2), np.ones(2))
        bad2.metadata["classname"] = "TH2F"
        with pytest.raises(ValueError, match="classname 'TH2F' does not fit a 1-D histogram"):
            out.write_histogram("", bad2)
    with uproot.open(path) as f:
        np.testing.assert_array_equal(f["h"].values(flow=True), [1.0, 2.0, 3.0, 4.0])


def test_correlation_matrix_histogram(tmp_path):
    rho = np.array([[1.0, -0.456, 0.999], [-0.456, 1.0, 0.0049], [0.999, 0.0049, 1.0]])
    titles = ["var1", "var2 [GeV]", "v3"]
    h = correlation_matrix_histogram("CorrelationMatrixS", rho, titles, "Correlation Matrix (signal)")
    path = tmp_path / "c.root"
    with OutputFile(path) as out:
        out.write_histogram("dataset", h)
    with uproot.open(path) as f:
        r = f["dataset/CorrelationMatrixS"]
        assert r.classname == "TH2F"
        assert r.member("fTitle") == "Correlation Matrix (signal)"
        expected = np.array([[int(100 * v) for v in row] for row in rho], dtype=float)
        np.testing.assert_array_equal(r.values(), expected.T)
        np.testing.assert_array_equal(r.values()[0], [100, -45, 99])
        assert r.axis(0).labels() == titles
        assert r.axis(1).labels() == titles
        np.testing.assert_array_equal(r.axis(0).edges(), [0, 1, 2, 3])
        assert r.member("fMinimum") == -100.0
        assert r.member("fMaximum") == 100.0


def test_correlation_matrix_histograms_per_analysis(classification):
    ds = classification
    hs = correlation_matrix_histograms(ds, multiclass=False)
    assert [h.name for h in hs] == ["CorrelationMatrixS", "CorrelationMatrixB"]
    assert [h.label for h in hs] == ["Correlation Matrix (signal)", "Correlation Matrix (background)"]
    assert list(hs[0].axes[0]) == [v.title for v in ds.variables]
    # content int(100 rho) of the class named in the title (the two matrices differ)
    for h, cls in ((hs[0], "Signal"), (hs[1], "Background")):
        np.testing.assert_array_equal(h.values(), np.trunc(100 * ds.correlations[cls]).T)
    assert not np.array_equal(hs[0].values(), hs[1].values())
    hm = correlation_matrix_histograms(ds, multiclass=True)
    assert [h.name for h in hm] == ["CorrelationMatrixSignal", "CorrelationMatrixBackground"]
    assert hm[1].label == "Correlation Matrix (Background)"
    reg = DataSet(
        "r", ds.train, ds.test, ["Regression"], ds.variables, correlations={"Regression": np.eye(5)}
    )
    assert [h.name for h in correlation_matrix_histograms(reg, multiclass=False)] == ["CorrelationMatrix"]


# --------------------------------------------------------------------------------------------------
# input-variable plots


def _expected_range(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    mean = np.average(x64, weights=w64)
    rms = np.sqrt(np.average(x64 * x64, weights=w64) - mean * mean)
    lo = max(x64.min(), mean - 8 * rms)
    hi = min(x64.max(), mean + 8 * rms)
    return lo, hi + (hi - lo) / 40


def test_input_variable_histograms(tmp_path):
    sample = make_sample(400, 3, seed=7)
    X = sample.X.copy()
    X[0, 0] = 1000.0  # an outlier: the range stops at mean + 8 RMS, the event lands in the overflow bin
    X[:, 2] = np.random.default_rng(0).integers(-2, 3, len(X))
    sample = sample.replace(X=X)
    variables = [_var("x"), _var("y", unit="cm"), _var("n", type="I")]
    ds = DataSet("dataset", sample, sample, ["Signal", "Background"], variables)
    plots = input_variable_histograms(sample, ds, "Id")
    names = [h.name for h in plots.histograms]
    assert names == [f"{v}__{c}_Id" for v in ("x", "y", "n") for c in ("Signal", "Background")]

    for k, info in enumerate(variables):
        for c, cls in enumerate(ds.class_names):
            h = plots.histogram(f"{info.internal_name}__{cls}_Id")
            mask = sample.class_id == c
            # every event is filled once (flow bins included), with its weight
            assert h.metadata["fEntries"] == mask.sum()
            assert h.sum(flow=True).value == pytest.approx(
                sample.weights[mask].astype(np.float64).sum(), rel=1e-6
            )
            assert h.label == info.title
            edges = h.axes[0].edges
            if info.type == "I":
                np.testing.assert_array_equal(edges, np.arange(-2.0, 4.0))  # one bin per integer
            else:
                lo, hi = _expected_range(sample.X[:, k], sample.weights)
                assert len(edges) == 41
                assert edges[0] == pytest.approx(lo)
                assert edges[-1] == pytest.approx(hi)
            # every bin, flow bins included: TAxis::FindFixBin on the histogram's axis, weighted
            nb = len(edges) - 1
            x = sample.X[mask, k].astype(np.float64)
            b = np.floor(nb * (x - edges[0]) / (edges[-1] - edges[0])).astype(np.int64) + 1
            b = np.clip(b, 0, nb + 1)
            w = sample.weights[mask].astype(np.float64)
            np.testing.assert_allclose(h.values(flow=True), np.bincount(b, w, nb + 2), rtol=1e-6, atol=1e-9)
    outlier_class = ds.class_names[sample.class_id[0]]
    assert plots.histogram(f"x__{outlier_class}_Id").values(flow=True)[-1] == pytest.approx(sample.weights[0])
    assert plots.histogram("y__Signal_Id").axes[0].label == "y  [cm]"
    assert plots.histogram("y__Signal_Id").metadata["fYaxis.fTitle"].startswith("dN_{ }/^{ }")
    assert plots.histogram("y__Signal_Id").metadata["fYaxis.fTitle"].endswith(" cm")

    # 3 pairs x 2 classes x (scatter, profile)
    corr_names = [p.name for p in plots.correlation_plots()]
    assert corr_names == plots.correlation_plot_names
    assert len(corr_names) == 12
    assert corr_names[:4] == [
        "scat_y_vs_x_Signal_Id",
        "prof_y_vs_x_Signal_Id",
        "scat_y_vs_x_Background_Id",
        "prof_y_vs_x_Background_Id",
    ]

    path = tmp_path / "iv.root"
    directory = f"dataset/{input_variables_directory('Id')}"
    with OutputFile(path) as out:
        out.write_input_variable_plots(directory, plots)
    with uproot.open(path) as f:
        r = f[f"{directory}/y__Background_Id"]
        assert r.classname == "TH1F"
        h = plots.histogram("y__Background_Id")
        np.testing.assert_allclose(r.values(flow=True), h.values(flow=True), rtol=1e-6)
        assert r.member("fEntries") == h.metadata["fEntries"]
        scat = f[f"{directory}/CorrelationPlots/scat_y_vs_x_Signal_Id"]
        assert scat.classname == "TH2F"
        assert scat.values().shape == (300, 300)
        # x on the first axis, y on the second, 300 bins on [min, max] of each over all classes, weighted;
        # the maximum of each variable is on the upper edge: overflow, as in ROOT
        sig = sample.class_id == 0
        cells = []
        for k in (0, 1):
            lo, hi = float(sample.X[:, k].min()), float(sample.X[:, k].max())
            np.testing.assert_allclose(scat.axis(k).edges()[[0, -1]], [lo, hi], rtol=1e-6)
            v = sample.X[sig, k].astype(np.float64)
            cells.append(np.clip(np.floor(300 * (v - lo) / (hi - lo)).astype(np.int64) + 1, 0, 301))
        expected = np.zeros((302, 302))
        np.add.at(expected, (cells[0], cells[1]), sample.weights[sig].astype(np.float64))
        np.testing.assert_allclose(scat.values(flow=True), expected, rtol=1e-6, atol=1e-9)
        prof = f[f"{directory}/CorrelationPlots/prof_n_vs_y_Background_Id"]
        assert prof.classname == "TProfile"
        mask = (
            (sample.class_id == 1)
            & (sample.X[:, 1] >= prof.axis().edges()[0])
            & (sample.X[:, 1] < prof.axis().edges()[-1])
        )
        # profile of n against y: the weighted mean of n over all in-range events
        w = sample.weights[mask].astype(np.float64)
        total_mean = np.sum(w * sample.X[mask, 2]) / w.sum()
        entries = prof.member("fBinEntries")[1:-1]
        assert np.sum(prof.values() * entries) / entries.sum() == pytest.approx(total_mean, rel=1e-6)


def test_input_variable_histograms_targets_suffixes_and_limits():
    sample = make_sample(100, 2, ntgt=1, ncls=1)
    targets = [VariableInfo("t", "t", "t", kind="target")]
    ds = DataSet("ds", sample, sample, ["Regression"], [_var("a"), _var("b")], targets=targets)
    plots = input_variable_histograms(sample, ds, "Deco")
    assert [h.name for h in plots.histograms] == [
        "a__Regression_Deco",
        "b__Regression_Deco",
        "t__Regression_target_Deco",
    ]
    assert plots.histograms[0].axes[0].label == "a (Deco)"
    assert "scat_t_vs_a_Regression_Deco" in plots.correlation_plot_names

    method_plots = input_variable_histograms(sample, ds, "", name_suffix=False, correlation_plots=False)
    assert method_plots.histograms[0].name == "a__Regression"
    assert method_plots.histograms[0].axes[0].label == "a"
    assert method_plots.correlation_plot_names == []
    assert list(method_plots.correlation_plots()) == []

    few = input_variable_histograms(sample, ds, "Id", max_scatter_variables=2)
    assert few.correlation_plot_names == []


# --------------------------------------------------------------------------------------------------
# atomic writing


def _leftovers(directory) -> list[str]:
    return sorted(p for p in os.listdir(directory) if p.endswith(".tmp"))


def _write_good(path) -> bytes:
    with OutputFile(path) as out:
        out.write_string("dataset", "TrainingPath", "first")
    return path.read_bytes()


def test_file_appears_only_on_close(tmp_path):
    path = tmp_path / "TMVA.root"
    out = OutputFile(path)
    out.write_string("dataset", "WeightFileName", "w.xml")
    assert not path.exists()
    assert os.path.dirname(out.temporary_path) == str(tmp_path)
    out.close()
    out.close()  # a second close does nothing
    assert path.exists()
    assert _leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="closed"):
        out.write_string("dataset", "x", "y")


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_exception_keeps_previous_file(tmp_path, classification, error):
    path = tmp_path / "TMVA.root"
    before = _write_good(path)
    ds = classification

    def write_then_fail() -> None:
        with OutputFile(path) as out:
            out.write_event_tree(
                "dataset", "TrainTree", event_tree_columns(ds, ds.train, {}, "Classification")
            )
            raise error("interrupted while writing")

    with pytest.raises(error):
        write_then_fail()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    with uproot.open(path) as f:
        assert str(f["dataset/TrainingPath"]) == "first"


def test_abort_and_garbage_collection_remove_the_temporary_file(tmp_path):
    path = tmp_path / "TMVA.root"
    before = _write_good(path)
    out = OutputFile(path)
    out.write_string("dataset", "x", "y")
    out.abort()
    assert out.closed
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    forgotten = OutputFile(tmp_path / "other.root")
    assert len(_leftovers(tmp_path)) == 1
    del forgotten
    gc.collect()
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / "other.root").exists()


def test_unique_directory_names(tmp_path):
    with OutputFile(tmp_path / "u.root") as out:
        assert out.unique_name("dataset", "InputVariables_Id") == "InputVariables_Id"
        out.mkdir("dataset/InputVariables_Id")
        assert out.exists("dataset/InputVariables_Id")
        assert out.unique_name("dataset", "InputVariables_Id") == "InputVariables_Id_0"
        out.mkdir("dataset/InputVariables_Id_0")
        assert out.unique_name("dataset", "InputVariables_Id") == "InputVariables_Id_1"
    with uproot.open(tmp_path / "u.root") as f:
        assert f.classnames()["dataset/InputVariables_Id_0;1"] == "TDirectory"


@pytest.mark.parametrize("names", [("Signal", "Background"), ("Signal", "a_much_longer_background_name")])
def test_class_name_leaf_as_root_sets_it(tmp_path: Path, shared_data: Path, names: tuple[str, str]) -> None:
    from pymva.io.output.writer import EventTreeColumns, TreeBranch

    cid = (np.arange(2500) % 2).astype(np.int32)
    cols = EventTreeColumns(
        (TreeBranch("classID", "I", 0, "classID", cid), TreeBranch("className", "C", 0, "className", cid)),
        cid.shape[0],
        names,
    )
    with OutputFile(tmp_path / "t.root") as out:
        out.write_event_tree("ds", "TestTree", cols, chunk_size=1000)  # three baskets
    keys = ("fLen", "fLenType", "fMaximum", "fMinimum")
    tree = uproot.open(tmp_path / "t.root")["ds/TestTree"]
    leaf = tree["className"].member("fLeaves")[0]
    longest = max(len(n) for n in names) + 1  # TLeafC::FillBasket: longest string + its terminator
    assert tuple(leaf.member(k) for k in keys) == (longest, 1, longest, 0)
    assert tree["className"].array(library="np").tolist() == [names[i] for i in cid]
    if names[1] == "Background":  # the same members as in a TestTree written by ROOT's TMVA
        ref = uproot.open(shared_data / "tmva-written/inutard+tmva-studies/9184b38/TMVA.root")["TestTree"]
        ref_leaf = ref["className"].member("fLeaves")[0]
        assert tuple(leaf.member(k) for k in keys) == tuple(ref_leaf.member(k) for k in keys)


def test_tree_metadata_without_leaf_lists_is_what_uproot_streams(tmp_path):
    """pymva's TTree streamer against uproot's on a tree with no leaf list and no string branch.

    Where pymva changes nothing (one leaf per branch, no ``TLeafC``), its blob must be uproot's own,
    byte for byte: same classes, versions, members, basket tables and leaf references.
    """
    from pymva.io.output.ttree import tree_metadata

    with uproot.recreate(tmp_path / "u.root") as f:
        types = {"classID": np.int32, "arr": np.dtype((np.float32, (3,))), "weight": np.float32}
        tree = f.mktree("dataset/TestTree", types, title="TestTree")
        for k in range(3):  # three baskets per branch
            tree.extend(
                {
                    "classID": np.full(5, k, np.int32),
                    "arr": np.full((5, 3), k, np.float32),
                    "weight": np.ones(5, np.float32),
                }
            )
        casc = tree._cascading
        assert tree_metadata(casc) == b"".join(casc._build_out())
        with pytest.raises(ValueError, match="does not have"):
            tree_metadata(casc, {"BDT": ("Signal",)})
        with pytest.raises(ValueError, match="does not fit"):
            tree_metadata(casc, {"classID": ("a",)})
        with pytest.raises(ValueError, match="does not fit"):
            tree_metadata(casc, {"arr": ("a", "b")})
