"""Benchmark: building a DataSet with pymva's DataLoader against bare uproot reading.

Writes a ROOT file with two trees (``TreeS``, ``TreeB``) of ``--entries`` entries and ``--branches``
float branches each (uproot ``mktree``/``extend``, uproot's default compression), then measures in
fresh processes, alternating (and alternating which kind goes first), ``--repeat`` times each
(default 5; the machine may be shared, so medians are compared):

* **bare**: ``tree.arrays(names, library="np")`` and ``np.column_stack`` for both trees — the least
  any reader has to do to get the two float32 matrices;
* **pymva**: ``DataLoader`` with every branch as a variable, ``AddSignalTree``/``AddBackgroundTree`` and
  the default split options (``SplitMode=Random``, ``NormMode=EqualNumEvents``, correlations on), up to
  ``GetDataSetInfo().GetDataSet()``: reading, event building, split, renormalisation, mixing, training
  ranges and correlation matrices.

It prints wall times (median and best) and CPU times of both, their ratios (target <= 1.15 for the
wall time), and the peak resident memory above the process's baseline (measured after imports, before
reading; ``VmHWM`` from ``/proc/self/status``, reset through ``/proc/self/clear_refs``) divided by the
size of the final float32 event matrices (target <= 1.5 on any basket size).  Both kinds decompress
baskets on the same thread pool (pymva's, one thread per usable CPU up to 8), so they compare the same
work.  Each layout of ``--baskets`` (default 100,000- and 500,000-entry baskets) is written and
measured in turn.

Usage::

    python benchmarks/bench_dataloader.py                  # 2 trees x 1,000,000 entries x 20 branches
    python benchmarks/bench_dataloader.py --entries 100000 --repeat 2
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


def write_file(path: Path, entries: int, branches: int, basket: int = 100_000) -> None:
    """Write the two trees with ``mktree``/``extend``, one basket per ``basket`` entries."""
    import uproot

    rng = np.random.default_rng(2024)
    names = [f"var{i}" for i in range(branches)]
    tmp = path.with_name(path.name + ".tmp")
    with uproot.recreate(tmp) as f:
        for k, tree_name in enumerate(TREES):
            tree = f.mktree(tree_name, dict.fromkeys(names, np.float32))
            for start in range(0, entries, basket):
                n = min(basket, entries - start)
                tree.extend(
                    {
                        b: rng.normal(0.5 * (1 - 2 * k), 1.0 + 0.01 * i, n).astype(np.float32)
                        for i, b in enumerate(names)
                    }
                )
    os.replace(tmp, path)


def _rss() -> tuple[int, int]:
    """(current RSS, peak RSS) in bytes, from /proc/self/status."""
    cur = peak = 0
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return cur, peak


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


def measure(kind: str, path: Path, branches: int) -> dict[str, float]:
    """Run one measurement in this process and return times and memory."""
    import logging

    import uproot

    from pymva.data.loader import DataLoader

    logging.getLogger("pymva").setLevel(logging.ERROR)
    names = [f"var{i}" for i in range(branches)]
    # one-time set-up excluded like the imports: compiling the expression grammar (lark)
    from pymva.data.expression import Formula

    t_grammar = time.perf_counter()
    Formula("warm_up")
    t_grammar = time.perf_counter() - t_grammar
    import gc

    gc.collect()
    _reset_peak()
    base, _ = _rss()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    from pymva.data.sources import decompression_executor

    executor = decompression_executor()  # created outside the timed region for both kinds
    threads = getattr(executor, "num_workers", 1) if executor is not None else 1
    if kind == "bare":
        mats = []
        with uproot.open(path) as f:
            for tree_name in TREES:
                # the same decompression threads as pymva's reading (its shared pool)
                arrays = f[tree_name].arrays(names, library="np", decompression_executor=executor)
                mats.append(np.column_stack([arrays[n] for n in names]))
                del arrays
        result_bytes = sum(m.nbytes for m in mats)
        x_bytes = result_bytes
    else:
        loader = DataLoader("bench")
        for n in names:
            loader.AddVariable(n)
        loader.AddSignalTree(f"{path}:TreeS")
        loader.AddBackgroundTree(f"{path}:TreeB")
        loader.PrepareTrainingAndTestTree("", "SplitMode=Random:NormMode=EqualNumEvents:!V")
        ds = loader.GetDataSetInfo().GetDataSet()
        x_bytes = ds.train.X.nbytes + ds.test.X.nbytes
        result_bytes = x_bytes + sum(
            a.nbytes for s in (ds.train, ds.test) for a in (s.weights, s.class_id, s.targets, s.spectators)
        )
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    _, peak = _rss()
    return {
        "time": elapsed,
        "cpu": cpu,
        "grammar": t_grammar,
        "threads": float(threads),
        "peak_above_baseline": float(peak - base),
        "x_bytes": float(x_bytes),
        "result_bytes": float(result_bytes),
    }


def run_child(kind: str, path: Path, branches: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", kind, "--file", str(path), "--branches", str(branches)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries per tree")
    parser.add_argument("--branches", type=int, default=20, help="float branches per tree")
    parser.add_argument("--repeat", type=int, default=5, help="measurements of each kind")
    parser.add_argument("--file", type=Path, default=None, help="ROOT file to use (written if missing)")
    parser.add_argument(
        "--baskets", default="100000,500000", help="entries per basket of each layout to write and measure"
    )
    parser.add_argument("--measure", choices=("bare", "pymva"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    if args.measure:
        print(json.dumps(measure(args.measure, args.file, args.branches)))
        return

    baskets = [int(b) for b in args.baskets.split(",")]
    for basket in baskets if args.file is None else [0]:
        run_layout(args, basket)


def run_layout(args: argparse.Namespace, basket: int) -> None:
    """Measure one file layout (``basket`` entries per basket; 0: the file given with ``--file``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or Path(tmp) / "bench_dataloader.root"
        if not path.exists():
            t0 = time.perf_counter()
            write_file(path, args.entries, args.branches, basket)
            print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        run_child("bare", path, args.branches)  # warm the page cache
        results: dict[str, list[dict[str, float]]] = {"bare": [], "pymva": []}
        for i in range(args.repeat):
            # alternate which kind runs first, so that a drift in the machine's load hits both alike
            for kind in ("bare", "pymva") if i % 2 == 0 else ("pymva", "bare"):
                results[kind].append(run_child(kind, path, args.branches))
        med = {k: float(np.median([r["time"] for r in v])) for k, v in results.items()}
        best = {k: float(np.min([r["time"] for r in v])) for k, v in results.items()}
        cpu = {k: float(np.median([r["cpu"] for r in v])) for k, v in results.items()}
        print(
            f"trees: 2 x {args.entries:,} entries x {args.branches} float branches, "
            f"{f'{basket:,}-entry baskets' if basket else str(path)}; {args.repeat} runs each; "
            f"decompression threads: {int(results['pymva'][0]['threads'])} for both kinds"
        )
        for kind in ("bare", "pymva"):
            times = ", ".join(f"{r['time']:.2f}" for r in results[kind])
            print(
                f"{kind:>6}: wall median {med[kind]:.3f} s, best {best[kind]:.3f} s, "
                f"CPU median {cpu[kind]:.3f} s  (wall: {times})"
            )
        print(
            f"(excluded from both, like the imports: compiling the expression grammar once, "
            f"{np.median([r['grammar'] for r in results['pymva']]):.3f} s)"
        )
        print(
            f"time ratio pymva / bare: {med['pymva'] / med['bare']:.3f} (median wall; target <= 1.15), "
            f"{best['pymva'] / best['bare']:.3f} (best wall), {cpu['pymva'] / cpu['bare']:.3f} (CPU time)"
        )
        for kind in ("bare", "pymva"):
            peak = max(r["peak_above_baseline"] for r in results[kind])
            x = results[kind][0]["x_bytes"]
            full = results[kind][0]["result_bytes"]
            print(
                f"{kind:>6}: peak RSS above baseline {peak / 1e6:.0f} MB = {peak / x:.2f} x the float32 event "
                f"matrices ({x / 1e6:.0f} MB), {peak / full:.2f} x all result arrays ({full / 1e6:.0f} MB)"
            )
        peak = max(r["peak_above_baseline"] for r in results["pymva"])
        print(f"memory ratio pymva: {peak / results['pymva'][0]['x_bytes']:.2f}   (target <= 1.5)")


if __name__ == "__main__":
    main()
