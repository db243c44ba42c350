"""Fit and apply times of pymva's variable transformations next to scikit-learn's closest equivalents.

Run from the repository root::

    python benchmarks/bench_transforms.py            # 1,000,000 events x 20 variables
    python benchmarks/bench_transforms.py --events 200000 --variables 10 --repeat 3
    python benchmarks/bench_transforms.py --events 200000 --variables 10 --repeat 21 --chains N,P

For each of ``N``, ``D``, ``P``, ``G`` and ``D,G`` it prints the median and the minimum of the fit time
and of the apply time (``transform`` of the training sample) over ``--repeat`` runs, and — measured
interleaved with them (alternating which side goes first), on the same float32 array — scikit-learn's ``MinMaxScaler(feature_range=(-1, 1))`` (for N), ``PCA`` (for P),
``PCA(whiten=True)`` (for D: TMVA's ``Decorrelate`` whitens, ``x → C^{-1/2} x``, and scikit-learn's
whitening PCA is the transformation that does the same job: decorrelated outputs of unit variance) and ``QuantileTransformer(output_distribution="normal")``
(for G and D,G), with the ratio pymva / scikit-learn.  Two classes with different means and unequal
event weights are generated; pymva's fit builds three parameter sets (each class and all classes, as
TMVA does), applies the chain once and computes the statistics table, so the scikit-learn reference
does the same work: three fits (class 0, class 1, all events), one ``transform`` and the
mean/RMS/min/max of its result.  Both sides run with one BLAS thread (pymva limits BLAS to one
thread for its skinny matrix products), so they use the same threads.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import sklearn
from sklearn.decomposition import PCA as SkPCA
from sklearn.preprocessing import MinMaxScaler, QuantileTransformer
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from pymva.data.dataset import Sample, VariableInfo
from pymva.transforms import TransformationHandler


def make_sample(n: int, k: int, seed: int = 1) -> tuple[Sample, list[VariableInfo]]:
    rng = np.random.default_rng(seed)
    cls = (rng.random(n) < 0.5).astype(np.int32)
    mix = rng.normal(size=(k, k)) / np.sqrt(k) + np.eye(k)
    X = (rng.normal(size=(n, k)) @ mix).astype(np.float32)
    X[cls == 1] += np.float32(0.5)
    X[:, ::3] = np.exp(X[:, ::3] / 2)  # some skewed inputs
    w = rng.uniform(0.5, 1.5, n).astype(np.float32)
    sample = Sample(
        X=X,
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=w,
        class_id=cls,
    )
    infos = [VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(k)]
    return sample, infos


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--variables", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chains", default="N,D,P,G,D+G", help="chains to run, comma-separated (D+G for D,G)")
    args = ap.parse_args()
    logging.getLogger("pymva").setLevel(logging.ERROR)

    sample, infos = make_sample(args.events, args.variables)
    X = sample.X
    print(
        f"{args.events:,} events x {args.variables} variables, float32; {args.repeat} interleaved "
        f"repetitions, one BLAS thread for both; numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )
    cls0 = sample.class_id == 0
    references: dict[str, Callable[[], Any]] = {
        "MinMaxScaler": lambda: MinMaxScaler(feature_range=(-1, 1)),
        "PCA": lambda: SkPCA(svd_solver="covariance_eigh") if _has_cov_eigh() else SkPCA(),
        "PCA(whiten)": lambda: (
            SkPCA(svd_solver="covariance_eigh", whiten=True) if _has_cov_eigh() else SkPCA(whiten=True)
        ),
        "QuantileTransformer": lambda: QuantileTransformer(
            output_distribution="normal", subsample=args.events, random_state=0
        ),
    }
    rows = [
        ("N", "MinMaxScaler"),
        ("D", "PCA(whiten)"),
        ("P", "PCA"),
        ("G", "QuantileTransformer"),
        ("D,G", "QuantileTransformer"),
    ]
    print(
        f"{'chain':<6}{'fit med/min [s]':>17}{'apply med/min [s]':>19}   {'scikit-learn':<20}"
        f"{'fit med/min [s]':>17}{'apply med/min [s]':>19}{'fit ratio':>11}{'apply ratio':>13}{'(min/min)':>11}"
    )
    wanted = {c.replace("+", ",") for c in args.chains.split(",")}
    for spec, ref in rows:
        if spec not in wanted:
            continue
        handler = TransformationHandler.parse(spec, variables=infos, class_names=["Signal", "Background"])
        make = references[ref]
        fitted: list[Any] = []

        def sk_fit(make: Callable[[], Any] = make, store: list[Any] = fitted) -> None:
            # the work pymva's fit does: one parameter set per class and one for all events (TMVA's
            # per-class sets), the chain applied once, the statistics of the result
            for part in (X[cls0], X[~cls0]):
                make().fit(part)
            store.append(make().fit(X))
            out = store[-1].transform(X)
            out.mean(axis=0), out.std(axis=0), out.min(axis=0), out.max(axis=0)

        def sk_apply(store: list[Any] = fitted) -> None:
            store[-1].transform(X)

        times: dict[str, list[float]] = {"fit": [], "apply": [], "sk_fit": [], "sk_apply": []}
        # pymva limits BLAS to one thread for its skinny products: scikit-learn gets the same
        with threadpool_limits(limits=1, user_api="blas"):
            for i in range(args.repeat):
                # alternate which side goes first, so that a drift in the machine's load hits both alike
                pairs = [("fit", partial(handler.fit, sample)), ("sk_fit", sk_fit)]
                pairs += [("apply", partial(handler.transform, sample)), ("sk_apply", sk_apply)]
                if i % 2:
                    pairs = [pairs[1], pairs[0], pairs[3], pairs[2]]
                for key, fn in pairs:
                    times[key].append(timed(fn))
        med = {k: statistics.median(v) for k, v in times.items()}
        low = {k: min(v) for k, v in times.items()}
        print(
            f"{spec:<6}{med['fit']:>9.3f}/{low['fit']:<7.3f}{med['apply']:>11.3f}/{low['apply']:<7.3f}   "
            f"{ref:<20}{med['sk_fit']:>9.3f}/{low['sk_fit']:<7.3f}{med['sk_apply']:>11.3f}/{low['sk_apply']:<7.3f}"
            f"{med['fit'] / med['sk_fit']:>11.2f}{med['apply'] / med['sk_apply']:>13.2f}"
            f"{low['apply'] / low['sk_apply']:>11.2f}"
        )
    print(
        "ratios: pymva / scikit-learn, medians; (min/min): apply, best against best (target fit and apply <= 1.0)"
    )


def _has_cov_eigh() -> bool:
    try:
        SkPCA(svd_solver="covariance_eigh")._validate_params()
    except (ValueError, TypeError):  # InvalidParameterError on scikit-learn < 1.5
        return False
    return True


if __name__ == "__main__":
    main()
