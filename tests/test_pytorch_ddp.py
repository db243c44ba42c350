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

from tolerances import EPS32

SCRIPT = textwrap.dedent(
    """
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
