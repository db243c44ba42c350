"""The Factory on loaders prepared with ``Streaming=True``: training, testing and output out of memory.

Expectations: the events of the streamed job are those of the ``Streaming=True`` DataSet built in
memory (same split by construction; matched by an event-number spectator), so the transformation
parameters fitted chunk by chunk equal the in-memory fit on those events (N exactly, D and P to
float64 rounding), the kept weights and class ids equal the DataSet's and the TestTree holds the
DataSet's test events with the responses of the reloaded method; the ROC integral of the streamed job
agrees with an in-memory job within the Hanley–McNeil standard error; the TTree written block by block
reads back equal to one written in one go.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import uproot

import pymva.pytorch as pmt
from pymva import TMVA, OptionError
from pymva.data.dataset import Sample
from pymva.data.stream import StreamedDataSet, _StreamingBuilder
from pymva.factory import Factory
from pymva.io.output.layout import event_tree_columns
from pymva.io.output.writer import OutputFile
from pymva.toydata import write_trees
from pymva.transforms import TransformationHandler

N_SIG, N_BKG = 1500, 2000


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(
        sys.modules["__main__"].__dict__,
        "load_model_custom_objects",
        {
            "optimizer": torch.optim.Adam,
            "criterion": torch.nn.MSELoss(),
            "train_func": pmt.train,
            "predict_func": pmt.predict,
        },
    )
    rng = np.random.default_rng(5)
    trees = {}
    for name, mu, n in (("sig", 0.8, N_SIG), ("bkg", -0.8, N_BKG)):
        x = rng.normal(mu, 1.0, (n, 3)).astype(np.float32)
        x[:, 1] += 0.5 * x[:, 0]  # correlated, so that D is not the identity
        trees[name] = {
            "a": x[:, 0],
            "b": x[:, 1],
            "c": x[:, 2],
            "w": rng.uniform(0.5, 1.5, n).astype(np.float32),
            "evt": np.arange(n, dtype=np.int32),
        }
    write_trees(tmp_path / "two.root", trees)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Softmax(dim=1))
    torch.jit.save(torch.jit.script(model), str(tmp_path / "model.pt"))
    return tmp_path


def _loader(opts: str) -> Any:
    loader = TMVA.DataLoader("ds")
    for v in ("a", "b", "c"):
        loader.AddVariable(v, "F")
    loader.AddSpectator("evt")
    loader.AddSignalTree("two.root:sig")
    loader.AddBackgroundTree("two.root:bkg")
    loader.SetWeightExpression("w")
    loader.PrepareTrainingAndTestTree("", opts)
    return loader


STREAM = "Streaming=True:ChunkSize=400:NormMode=NumEvents:!V"
PYTORCH = "!H:!V:VarTransform=N,D:FilenameModel=model.pt:NumEpochs=6:BatchSize=50"


def _job(name: str, loader: Any) -> Factory:
    factory = Factory(name, f"{name}.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(loader, TMVA.Types.kPyTorch, "PyTorch", PYTORCH)
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    return factory


def _keys(cls: np.ndarray, evt: np.ndarray) -> np.ndarray:
    return cls.astype(np.int64) * 10**6 + evt.astype(np.int64)


def test_streamed_job_matches_the_streaming_dataset(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the job must never build the in-memory DataSet
    def refuse(self: Any) -> Any:
        raise AssertionError("the in-memory Streaming=True DataSet was built")

    with monkeypatch.context() as m:
        m.setattr(_StreamingBuilder, "build", refuse)
        factory = _job("streamed", _loader(STREAM))
    ds_mem = _loader(STREAM).GetDataSetInfo().GetDataSet()
    ds = factory._dataset(factory._loaders["ds"])
    assert isinstance(ds, StreamedDataSet)
    assert ds.test.X.shape == (len(ds_mem.test), 0)

    # TestTree: the DataSet's test events, the kept weights and the reloaded method's responses
    method = factory.GetMethod("ds", "PyTorch")
    with uproot.open("streamed.root") as f:
        tree = f["ds/TestTree"].arrays(library="np")
        assert f["ds/TrainTree"].num_entries == len(ds_mem.train)
    got = _keys(tree["classID"], tree["evt"])
    order = np.argsort(got)
    ref = _keys(ds_mem.test.class_id, ds_mem.test.spectators[:, 0])
    ref_order = np.argsort(ref)
    np.testing.assert_array_equal(got[order], ref[ref_order])
    X_mem = ds_mem.test.X[ref_order]
    np.testing.assert_array_equal(np.column_stack([tree[v] for v in "abc"])[order], X_mem)
    np.testing.assert_array_equal(tree["weight"][order], ds_mem.test.weights[ref_order])
    np.testing.assert_array_equal(tree["PyTorch"][order], method.evaluate(X_mem))
    # the responses, weights and class ids the Factory kept are those of the tree, in its order
    np.testing.assert_array_equal(factory.get_responses("ds", "PyTorch"), tree["PyTorch"])
    np.testing.assert_array_equal(ds.test.weights, tree["weight"])
    np.testing.assert_array_equal(ds.test.class_id, tree["classID"])

    # the training weights are renormalised as in memory (the same float32 products)
    tr_mem = np.sort(_keys(ds_mem.train.class_id, ds_mem.train.spectators[:, 0]))
    assert len(tr_mem) == len(ds.train)
    np.testing.assert_array_equal(np.sort(ds.train.weights), np.sort(ds_mem.train.weights))
    for v_s, v_m in zip(ds.variables, ds_mem.variables, strict=True):
        assert (v_s.min, v_s.max) == (v_m.min, v_m.max)
    for name in ds_mem.correlations:
        # summed with the input weights (NormMode's factors come at the end): the in-memory sums use
        # the float32-rounded renormalised weights, relative differences up to 2**-24 per weight
        np.testing.assert_allclose(ds.correlations[name], ds_mem.correlations[name], rtol=0, atol=6e-8)

    # N and D fitted chunk by chunk equal the in-memory fit on the same training events
    handler = TransformationHandler.parse(
        "N,D", variables=ds_mem.variables, class_names=ds_mem.class_names, method_title="ref"
    )
    handler.fit(ds_mem.train)
    norm_s, deco_s = method.transformations.elements
    norm_m, deco_m = handler.elements
    for ps, pm in zip(norm_s.params_, norm_m.params_, strict=True):
        np.testing.assert_array_equal(ps[0], pm[0])
        np.testing.assert_array_equal(ps[1], pm[1])
    for ps, pm in zip(deco_s.params_, deco_m.params_, strict=True):
        # the weights file stores float64 matrices; chunk merging differs by a few float64 ulps
        np.testing.assert_allclose(ps, pm, rtol=1e-12, atol=1e-13)


def test_tmva_numbers_within_statistics(workdir: Path) -> None:
    auc = {}
    for label, opts in (("memory", "NormMode=NumEvents:!V"), ("stream", STREAM)):
        factory = _job(label, _loader(opts))
        auc[label] = factory.GetROCIntegral("ds", "PyTorch")
    # the separation of two unit Gaussians 1.6·√(1+0.25·…) apart is large; the AUC's standard error
    # (Hanley & McNeil 1982) for ~750 signal and ~1000 background test events, two independent splits
    a = auc["memory"]
    assert a > 0.8
    n_s, n_b = N_SIG / 2, N_BKG / 2
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = np.sqrt((a * (1 - a) + (n_s - 1) * (q1 - a * a) + (n_b - 1) * (q2 - a * a)) / (n_s * n_b))
    assert abs(auc["stream"] - a) < 5 * np.sqrt(2) * se


def test_methods_needing_all_events_are_refused(workdir: Path) -> None:
    factory = Factory("job", options="!V:Silent:AnalysisType=Classification")
    loader = _loader(STREAM)
    for kind, title in ((TMVA.Types.kFisher, "Fisher"), (TMVA.Types.kBDT, "BDT")):
        with pytest.raises(OptionError, match=rf"{title}.*Streaming=True"):
            factory.BookMethod(loader, kind, title, "!H:!V")


def test_tree_written_block_by_block_reads_back_equal(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    ds = _loader_free_dataset(rng, 1000)
    values = rng.normal(size=1000).astype(np.float32)
    whole = event_tree_columns(ds, ds.test, {"M": values}, "Classification")
    cuts = [0, 7, 300, 301, 1000]
    blocks = [
        event_tree_columns(ds, ds.test.subset(slice(a, b)), {"M": values[a:b]}, "Classification")
        for a, b in itertools.pairwise(cuts)
    ]
    with OutputFile(tmp_path / "t.root") as out:
        out.mkdir("ds")
        out.write_event_tree("ds", "Whole", whole)
        assert out.write_event_tree_chunks("ds", "Blocks", iter(blocks)) == 1000
    with uproot.open(tmp_path / "t.root") as f:
        a = f["ds/Whole"].arrays(library="np")
        b = f["ds/Blocks"].arrays(library="np")
        assert f["ds/Blocks"].classname == "TTree"
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def _loader_free_dataset(rng: np.random.Generator, n: int) -> Any:
    from pymva.data.dataset import DataSet, VariableInfo

    sample = Sample(
        X=rng.normal(size=(n, 2)).astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=rng.normal(size=(n, 1)).astype(np.float32),
        weights=rng.uniform(size=n).astype(np.float32),
        class_id=rng.integers(0, 2, n).astype(np.int32),
    )
    return DataSet(
        name="ds",
        train=sample,
        test=sample,
        class_names=["Signal", "Background"],
        variables=[VariableInfo("x", "x", "x"), VariableInfo("y", "y", "y")],
        spectators=[VariableInfo("s", "s", "s", kind="spectator")],
    )


def test_gauss_transform_is_fitted_from_the_stream(workdir: Path) -> None:
    factory = Factory("g", "g.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(
        _loader(STREAM), TMVA.Types.kPyTorch, "PyTorch", PYTORCH.replace("VarTransform=N,D", "VarTransform=G")
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    (gauss,) = factory.GetMethod("ds", "PyTorch").transformations.elements
    assert gauss.letter == "G"
    assert len(gauss.params_[0][0].edges) > 100  # about Σw/(Σw/2000) edges for ~1750 training events
    assert factory.GetROCIntegral("ds", "PyTorch") > 0.8
