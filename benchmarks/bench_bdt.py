"""Speed of TMVA's BDT in pymva, against scikit-learn in the same run.

Prints:

* training 850 trees of depth 3, nCuts=20 (``NTrees=850:MaxDepth=3:nCuts=20:BoostType=AdaBoost``)
  on 2 × N events × 10 variables / ``HistGradientBoostingClassifier(max_iter=850, max_depth=3,
  max_bins=21)`` on the same arrays (goal <= 2);
* evaluation of the trained forest on 1M events, in seconds (goal <= 1 s on one core), and as a
  ratio to scikit-learn's ``predict_proba`` of its model; then the compiled batch walks alone on
  that forest: the block walk (depth <= 3) against the four-events-side-by-side walk, interleaved.

Both sides are first warmed up on 2 × 1000 events with 3 trees (imports, numba loading its
compiled kernels, scikit-learn's first fit), printed separately; ``--no-warmup`` times the first
training of the process instead.  The line says whether numba's kernels were used
(``PYMVA_NUMBA=0`` switches them off: the numpy path).

Run:  python benchmarks/bench_bdt.py [--events N] [--trees N] [--eval-events N] [--no-warmup]
(one core: ``OMP_NUM_THREADS=1 python benchmarks/bench_bdt.py``).
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from pymva.data.dataset import Sample, VariableInfo
from pymva.methods import forestwalk
from pymva.methods.base import MethodContext
from pymva.methods.bdt import MethodBDT
from pymva.methods.nodehistograms import kernels
from pymva.types import EAnalysisType


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50_000, help="events per class (default 50000)")
    ap.add_argument("--trees", type=int, default=850)
    ap.add_argument("--eval-events", type=int, default=1_000_000)
    ap.add_argument("--no-warmup", action="store_true", help="time the first training of the process")
    ap.add_argument("--no-walk-comparison", action="store_true", help="skip timing the two batch walks")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    n, nvar = args.events, 10
    X = np.vstack([rng.normal(0.3, 1, (n, nvar)), rng.normal(-0.3, 1, (n, nvar))]).astype(np.float32)
    cls = np.r_[np.zeros(n), np.ones(n)].astype(np.int32)
    sample = Sample(
        X=X,
        targets=np.zeros((2 * n, 0), np.float32),
        spectators=np.zeros((2 * n, 0), np.float32),
        weights=np.ones(2 * n, np.float32),
        class_id=cls,
    )
    ctx = MethodContext(
        job_name="bench",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kClassification,
        variables=tuple(VariableInfo(f"x{i}", f"x{i}", f"x{i}") for i in range(nvar)),
        class_names=("Signal", "Background"),
    )
    if not args.no_warmup:
        t0 = time.perf_counter()
        small = np.r_[0:1000, n : n + 1000]
        warm = MethodBDT("BDT", ctx, "NTrees=3:MaxDepth=3:nCuts=20:BoostType=AdaBoost")
        warm.setup()
        warm.train(
            Sample(
                X=X[small],
                targets=sample.targets[small],
                spectators=sample.spectators[small],
                weights=sample.weights[small],
                class_id=cls[small],
            )
        )
        t_warm_bdt = time.perf_counter() - t0
        t0 = time.perf_counter()
        HistGradientBoostingClassifier(max_iter=3, max_depth=3, max_bins=21, early_stopping=False).fit(
            X[small], cls[small]
        )
        t_warm_hgb = time.perf_counter() - t0
        print(
            f"warm-up (2 x 1000 events, 3 trees): pymva {t_warm_bdt:.2f} s, HistGradientBoosting {t_warm_hgb:.2f} s"
        )
    bdt = MethodBDT("BDT", ctx, f"NTrees={args.trees}:MaxDepth=3:nCuts=20:BoostType=AdaBoost")
    bdt.setup()
    t0 = time.perf_counter()
    bdt.train(sample)
    t_bdt = time.perf_counter() - t0

    hgb = HistGradientBoostingClassifier(
        max_iter=args.trees, max_depth=3, max_bins=21, early_stopping=False, random_state=0
    )
    t0 = time.perf_counter()
    hgb.fit(X, cls)
    t_hgb = time.perf_counter() - t0
    path = "numba" if kernels() is not None else "numpy"
    print(f"training {args.trees} trees on {2 * n} events x {nvar} variables ({path} path):")
    print(
        f"  pymva BDT {t_bdt:.2f} s ({1e3 * t_bdt / args.trees:.1f} ms per tree), HistGradientBoosting "
        f"{t_hgb:.2f} s ({1e3 * t_hgb / args.trees:.1f} ms per tree), ratio {t_bdt / t_hgb:.2f} (goal <= 2)"
    )

    Xe = rng.normal(0, 1, (args.eval_events, nvar)).astype(np.float32)
    t0 = time.perf_counter()
    bdt.evaluate(Xe)
    t_eval = time.perf_counter() - t0
    t0 = time.perf_counter()
    hgb.predict_proba(Xe)
    t_hgb_eval = time.perf_counter() - t0
    print(f"evaluation of the forest on {args.eval_events} events:")
    print(
        f"  pymva BDT {t_eval:.2f} s (goal <= 1 s), HistGradientBoosting {t_hgb_eval:.2f} s, "
        f"ratio {t_eval / t_hgb_eval:.2f}"
    )
    if not args.no_walk_comparison:
        _compare_walks(bdt, Xe)


def _compare_walks(bdt: MethodBDT, Xe: np.ndarray, repeat: int = 3) -> None:
    """Time the batch walk of ``bdt``'s forest against the four-events-side-by-side walk.

    Same padded forest, same events, same sums (checked equal); interleaved ``repeat`` times, the
    padded forest prepared once outside the timings.
    """
    depth = max(forestwalk._reachable_depth(t) for t in bdt.forest_)
    if depth > forestwalk.BLOCK_DEPTH or forestwalk.kernels(forestwalk.BLOCK_DEPTH, False) is None:
        return
    values = [bw * t.leaf_values(True) for t, bw in zip(bdt.forest_, bdt.boost_weights_, strict=True)]
    d = forestwalk.BLOCK_DEPTH
    ints, reals = forestwalk._layout(bdt.forest_, values, Xe.shape[1], d, None, 1)
    walks = {
        "block walk": forestwalk._make_walks(d, bdt.strict_cuts_)[2],
        "four-events walk": forestwalk._make_walks(d, bdt.strict_cuts_, block=False)[2],
    }
    times: dict[str, list[float]] = {name: [] for name in walks}
    outs = {}
    for walk in walks.values():
        walk(Xe[:8], ints, reals, np.zeros((8, 1)))  # compiled (or loaded from numba's cache)
    for _ in range(repeat):
        for name, walk in walks.items():
            out = np.zeros((len(Xe), 1))
            t0 = time.perf_counter()
            walk(Xe, ints, reals, out)
            times[name].append(time.perf_counter() - t0)
            outs[name] = out
    a, b = outs.values()
    assert np.array_equal(a, b), "the two walks differ"
    block, four = (min(times[name]) for name in walks)
    print(
        f"  the forest's walks alone (min of {repeat} interleaved): block walk {block:.3f} s, "
        f"four-events walk {four:.3f} s, ratio {block / four:.2f} (same sums bit for bit)"
    )


if __name__ == "__main__":
    main()
