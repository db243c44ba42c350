"""``pymva.pytorch.train`` under ``torchrun`` (DDP, gloo on CPU): gradients averaged, rank 0 writes.

The reference is a single process doing by hand what DDP's definition says: at every step each rank's
gradient of its own batch's mean loss, averaged over the two ranks, one SGD step.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import torch
import uproot

from tolerances import EPS32

SCRIPT = textwrap.dedent(
    """
    import os
    import sys
    import numpy as np
    import torch
    import torch.distributed as dist
    import pymva.pytorch

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    out = sys.argv[1]
    data = np.load(out + "/data.npz")
    X, Y = torch.from_numpy(data["X"]), torch.from_numpy(data["Y"])
    B = int(data["B"])
    batches = [(X[a : a + B], Y[a : a + B]) for a in range(0, len(X), B)]
    torch.manual_seed(0)
    model = torch.nn.Linear(X.shape[1], 1)

    def save_best(model, curr, best):
        with open(f"{out}/saved_by_rank{dist.get_rank()}", "a") as fh:
            fh.write(f"{curr}\\n")
        return min(curr, best)

    trained = pymva.pytorch.train(
        model, batches[rank::world], [], num_epochs=2, batch_size=B,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), criterion=torch.nn.MSELoss(),
        save_best=save_best, scheduler=(None, None), device="cpu",
    )
    w = torch.cat([p.detach().reshape(-1) for p in trained.parameters()]).numpy()
    np.save(f"{out}/params_rank{rank}.npy", w)
    dist.barrier()  # without it a rank may tear gloo down under the other: "terminate called ..."
    dist.destroy_process_group()
    # gloo's worker threads can still abort the interpreter's finalization (SIGABRT, "terminate
    # called without an active exception"; torch's c10d atexit race, pytorch/pytorch#179291): the
    # job is done and its files are closed, so leave without finalizing
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
    """
)


def test_two_ranks_average_gradients_and_only_rank0_saves(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    B, n, k = 16, 8 * 16, 3
    X = rng.normal(size=(n, k)).astype(np.float32)
    Y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.normal(0, 0.1, n)).astype(np.float32).reshape(-1, 1)
    np.savez(tmp_path / "data.npz", X=X, Y=Y, B=B)
    (tmp_path / "job.py").write_text(SCRIPT)
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[1] / "src"), *sys.path]),
    )
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node=2",
        "--standalone",
        str(tmp_path / "job.py"),
        str(tmp_path),
    ]
    run = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]

    # the reference: the same initial model, the mean of the two ranks' batch gradients, SGD
    torch.manual_seed(0)
    model = torch.nn.Linear(k, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = torch.nn.MSELoss()
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    batches = [(Xt[a : a + B], Yt[a : a + B]) for a in range(0, n, B)]
    for _ in range(2):
        for b0, b1 in zip(batches[0::2], batches[1::2], strict=True):
            opt.zero_grad()
            (0.5 * (loss_fn(model(b0[0]), b0[1]) + loss_fn(model(b1[0]), b1[1]))).backward()
            opt.step()
    ref = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()

    p0 = np.load(tmp_path / "params_rank0.npy")
    p1 = np.load(tmp_path / "params_rank1.npy")
    np.testing.assert_array_equal(p0, p1)  # the ranks stay in step
    # 8 steps; each gradient is a float32 sum over B events (k+1 products each) in another order on
    # each side: B·(k+1)·eps32 per step relative to the gradient scale (~|w|·|x|² ≈ 10), times lr
    steps = 8
    np.testing.assert_allclose(p0, ref, rtol=0, atol=steps * 0.1 * B * (k + 1) * EPS32 * 10 * 4)
    assert (tmp_path / "saved_by_rank0").read_text().count("\n") == 2
    assert not (tmp_path / "saved_by_rank1").exists()


FACTORY_SCRIPT = textwrap.dedent(
    """
    import os
    import sys
    import numpy as np
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    out = sys.argv[1]
    os.makedirs(f"{out}/rank{rank}")
    os.chdir(f"{out}/rank{rank}")  # each rank in its own directory: what it writes stays apart

    import pymva.pytorch as pmt
    from pymva import TMVA
    from pymva.factory import Factory

    calls = []

    def train_func(model, train_loader, val_loader, **kwargs):
        rows = [np.concatenate([b[0].numpy() for b in loader]) for loader in (train_loader, val_loader)]
        np.savez(f"{out}/rows_rank{rank}_call{len(calls)}.npz", train=rows[0], val=rows[1])
        calls.append(1)
        return pmt.train(model, train_loader, val_loader, **kwargs)

    load_model_custom_objects = {
        "optimizer": torch.optim.SGD,
        "criterion": torch.nn.MSELoss(),
        "train_func": train_func,
        "predict_func": pmt.predict,
    }
    factory = Factory("job", "job.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    for name, opts in (("mem", "NormMode=NumEvents:!V"), ("stream", "Streaming=True:ChunkSize=250:!V")):
        loader = TMVA.DataLoader(name)
        for v in ("a", "b"):
            loader.AddVariable(v, "F")
        loader.AddSignalTree(f"{out}/two.root:sig")
        loader.AddBackgroundTree(f"{out}/two.root:bkg")
        loader.PrepareTrainingAndTestTree("", opts)
        factory.BookMethod(
            loader, TMVA.Types.kPyTorch, "PyTorch",
            f"!H:!V:FilenameModel={out}/model.pt:NumEpochs=2:BatchSize=40",
        )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    factory.Close()
    dist.barrier()  # without it a rank may tear gloo down under the other: "terminate called ..."
    dist.destroy_process_group()
    # gloo's worker threads can still abort the interpreter's finalization (SIGABRT, "terminate
    # called without an active exception"; torch's c10d atexit race, pytorch/pytorch#179291): the
    # job is done and its files are closed, so leave without finalizing
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
    """
)


def _row_set(a: np.ndarray) -> set[bytes]:
    return {r.tobytes() for r in np.ascontiguousarray(a, dtype=np.float32)}


def test_factory_under_ddp_shards_the_events_and_only_rank0_writes(tmp_path: Path) -> None:
    from pymva import TMVA
    from pymva.toydata import write_trees

    rng = np.random.default_rng(7)
    trees = {
        name: {"a": rng.normal(mu, 1.0, n).astype(np.float32), "b": rng.normal(size=n).astype(np.float32)}
        for name, mu, n in (("sig", 0.7, 600), ("bkg", -0.7, 700))
    }
    write_trees(tmp_path / "two.root", trees)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())
    torch.jit.save(torch.jit.script(model), str(tmp_path / "model.pt"))
    (tmp_path / "job.py").write_text(FACTORY_SCRIPT)
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[1] / "src"), *sys.path]),
    )
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2", "--standalone"]
    run = subprocess.run(
        [*cmd, str(tmp_path / "job.py"), str(tmp_path)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]

    # rank 0 wrote the weights files, the trained models and the output file; rank 1 nothing at all
    written = sorted(str(p.relative_to(tmp_path / "rank0")) for p in (tmp_path / "rank0").rglob("*"))
    for name in ("mem", "stream"):
        assert f"{name}/weights/job_PyTorch.weights.xml" in written
        assert f"{name}/weights/job_PyTorch.TrainedModel.pt" in written
    with uproot.open(tmp_path / "rank0" / "job.root") as f:
        assert {"mem/TestTree", "stream/TestTree"} <= {k.split(";")[0] for k in f}
    assert list((tmp_path / "rank1").iterdir()) == []

    # the two ranks trained (and validated) on disjoint shards that together are the training sample;
    # in memory event i goes to rank i mod 2, streaming each rank read only its own chunks of 250
    # entries (chunk j of a class to rank j mod 2: sig 0-249 and 500-599 to rank 0, 250-499 to rank 1)
    expected = []
    own_entries = []
    for name, opts in (("mem", "NormMode=NumEvents:!V"), ("stream", "Streaming=True:ChunkSize=250:!V")):
        loader = TMVA.DataLoader(name)
        for v in ("a", "b"):
            loader.AddVariable(v, "F")
        loader.AddSignalTree(f"{tmp_path}/two.root:sig")
        loader.AddBackgroundTree(f"{tmp_path}/two.root:bkg")
        loader.PrepareTrainingAndTestTree("", opts)
        X = (
            loader.GetDataSetInfo().GetDataSet().train.X
            if name == "mem"
            else np.concatenate([c.X for c in loader.stream("train")])
        )
        expected.append(_row_set(X))
        if name == "stream":
            with uproot.open(tmp_path / "two.root") as f:
                own_entries = [
                    _row_set(
                        np.concatenate(
                            [
                                np.column_stack(
                                    [f[t]["a"].array(library="np"), f[t]["b"].array(library="np")]
                                )[250 * j : 250 * (j + 1)]
                                for t, n in (("sig", 600), ("bkg", 700))
                                for j in range(r, -(-n // 250), 2)
                            ]
                        )
                    )
                    for r in (0, 1)
                ]
    for call, full in enumerate(expected):
        parts = [np.load(tmp_path / f"rows_rank{r}_call{call}.npz") for r in (0, 1)]
        sets = [_row_set(np.concatenate([p["train"], p["val"]])) for p in parts]
        n_rows = [len(p["train"]) + len(p["val"]) for p in parts]
        assert sets[0].isdisjoint(sets[1])
        assert sets[0] | sets[1] == full
        assert n_rows == [len(s) for s in sets]  # no event twice within a rank
        if call == 0:  # in memory: every other event
            assert abs(n_rows[0] - n_rows[1]) <= 2
        else:  # streaming: each rank's training events come from the entries of its own chunks only
            for r in (0, 1):
                assert sets[r] <= own_entries[r]
