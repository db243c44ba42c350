"""Benchmark: streaming (out of memory) against the in-memory pipeline on the same kind of data.

Writes, into a temporary directory, a ROOT file with two trees (``TreeS``, ``TreeB``) of ``--entries``
entries and ``--branches`` float32 branches each (``mktree`` + ``extend``, one basket per
``--basket`` entries, generated chunk by chunk so the generator itself stays small), and a second file
of ``--memory-entries`` entries for the in-memory side.  Then, each in a fresh process:

* **memory** (on the smaller file): ``GetDataSetInfo().GetDataSet()`` (reading, split, mixing,
  ranges, correlations), the ``D`` transformation fitted on the training sample, and one epoch of a
  linear model over ``SequentialTensorLoader`` batches of the training sample;
* **stream** (on the large file): the same work out of memory — ``DataLoader.stream("train")`` feeding
  :func:`pymva.transforms.streaming.fit_streaming` (``D``) in one pass, then one epoch of the same
  model over ``ShuffleBufferLoader.from_stream`` batches (a second pass).

It prints, for both, the wall time and the peak resident memory above the baseline after imports
(``VmHWM``), the streaming wall time divided by the in-memory one scaled to the same number of events
(goal <= 1.3), and the streaming peak memory (goal <= 1.5 GB for 2 x 20M x 20 events, whose float32
matrices alone are 3.2 GB).  The in-memory side's peak memory per event is printed too.

Usage::

    PYTHONPATH=src python benchmarks/bench_streaming.py                 # 2 x 20M x 20 (slow, ~7 GB disk)
    PYTHONPATH=src python benchmarks/bench_streaming.py --entries 400000 --memory-entries 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TREES = ("TreeS", "TreeB")


def write_file(path: Path, entries: int, branches: int, basket: int) -> None:
    """Two trees of ``entries`` entries, written basket by basket (bounded memory)."""
    import uproot

    rng = np.random.default_rng(2026)
    names = [f"var{i}" for i in range(branches)]
    tmp = path.with_name(path.name + ".tmp")
    with uproot.recreate(tmp) as f:
        for k, tree_name in enumerate(TREES):
            tree = f.mktree(tree_name, dict.fromkeys(names, np.float32))
            for start in range(0, entries, basket):
                n = min(basket, entries - start)
                base = rng.normal(0.3 * (1 - 2 * k), 1.0, n)
                tree.extend(
                    {
                        b: (base * 0.5 + rng.normal(0.0, 1.0 + 0.01 * i, n)).astype(np.float32)
                        for i, b in enumerate(names)
                    }
                )
    os.replace(tmp, path)


def _peak_rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _loader(path: str, branches: int, chunk: int):  # type: ignore[no-untyped-def]
    from pymva.data.loader import DataLoader

    loader = DataLoader("bench")
    for i in range(branches):
        loader.AddVariable(f"var{i}")
    loader.AddSignalTree(f"{path}:TreeS")
    loader.AddBackgroundTree(f"{path}:TreeB")
    loader.PrepareTrainingAndTestTree("", f"ChunkSize={chunk}:!V:!Correlations")
    return loader


def child(kind: str, path: str, branches: int, chunk: int, batch: int, buffer: int) -> None:
    import torch

    from pymva.pytorch import SequentialTensorLoader, ShuffleBufferLoader
    from pymva.transforms import Decorrelate, InputRef
    from pymva.transforms.streaming import fit_streaming

    torch.set_num_threads(1)
    model = torch.nn.Linear(branches, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    inputs = [InputRef("v", i) for i in range(branches)]
    import uproot

    with uproot.open(path) as f:  # imports and first-use costs outside the timing
        f[TREES[0]]["var0"].array(entry_stop=10, library="np")
    _loader(path, branches, chunk)
    _reset_peak()
    base = _peak_rss()  # after the reset: the resident memory now
    t0 = time.perf_counter()
    loader = _loader(path, branches, chunk)
    deco = Decorrelate(inputs, n_classes=2)
    if kind == "memory":
        ds = loader.GetDataSetInfo().GetDataSet()
        deco.fit(ds.train.X, ds.train.weights, ds.train.class_id)
        y = (ds.train.class_id == 0).astype(np.float32).reshape(-1, 1)
        from torch.utils.data import TensorDataset

        batches = SequentialTensorLoader(
            TensorDataset(torch.from_numpy(ds.train.X), torch.from_numpy(y)), batch_size=batch
        )
        n_events = len(ds.train) + len(ds.test)
    else:
        fit_streaming(deco, ((c.X, c.weights, c.class_id) for c in loader.stream("train")))
        batches = ShuffleBufferLoader.from_stream(loader, batch, buffer_size=buffer, event_weights=False)  # type: ignore[assignment]
        n_events = 0
    n_batches = 0
    for xb, yb in batches:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
        n_batches += 1
    wall = time.perf_counter() - t0
    peak = _peak_rss()
    print(json.dumps({"wall": wall, "peak": max(peak - base, 0), "batches": n_batches, "n": n_events}))


def run(kind: str, path: Path, args: argparse.Namespace) -> dict[str, float]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        str(path),
        str(args.branches),
        str(args.chunk),
        str(args.batch),
        str(args.buffer),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ.copy())
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, path, branches, chunk, batch, buffer = sys.argv[2:8]
        child(kind, path, int(branches), int(chunk), int(batch), int(buffer))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--entries", type=int, default=20_000_000, help="entries per tree, streaming side")
    p.add_argument("--memory-entries", type=int, default=5_000_000, help="entries per tree, in-memory side")
    p.add_argument("--branches", type=int, default=20)
    p.add_argument("--basket", type=int, default=500_000, help="entries per basket in the files")
    p.add_argument("--chunk", type=int, default=1_000_000, help="ChunkSize of the streaming side")
    p.add_argument("--batch", type=int, default=4096, help="training batch size")
    p.add_argument("--buffer", type=int, default=1 << 20, help="shuffle-buffer events")
    p.add_argument("--dir", type=Path, default=None, help="where to write the files (default: a temp dir)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        big, small = Path(tmp) / "big.root", Path(tmp) / "small.root"
        t0 = time.perf_counter()
        write_file(big, args.entries, args.branches, args.basket)
        write_file(small, args.memory_entries, args.branches, args.basket)
        print(f"wrote the files in {time.perf_counter() - t0:.1f} s")
        mem = run("memory", small, args)
        st = run("stream", big, args)
    scale = args.entries / args.memory_entries
    matrices = 2 * args.entries * args.branches * 4
    print(
        f"events: stream 2 x {args.entries:,}, memory 2 x {args.memory_entries:,}, {args.branches} variables"
    )
    print(
        f"memory: wall {mem['wall']:.2f} s, peak +{mem['peak'] / 2**20:.0f} MiB "
        f"({mem['peak'] / (2 * args.memory_entries):.1f} B per event)"
    )
    print(
        f"stream: wall {st['wall']:.2f} s, peak +{st['peak'] / 2**20:.0f} MiB "
        f"(float32 matrices of the streamed events: {matrices / 2**20:.0f} MiB)"
    )
    print(
        f"ratio wall stream / (memory x {scale:g}) = {st['wall'] / (mem['wall'] * scale):.2f}  (goal <= 1.3)"
    )
    print(f"stream peak = {st['peak'] / 1e9:.2f} GB  (goal <= 1.5 GB at 2 x 20M x 20)")


if __name__ == "__main__":
    main()
