"""Fit and apply times of pymva's variable transformations next to scikit-learn's closest equivalents.

Run from the repository root::

    python benchmarks/bench_transforms.py            # 1,000,000 events x 20 variables
    python benchmarks/bench_transforms.py --events 200000 --variables 10 --repeat 3

For each of ``N``, ``D``, ``P``, ``G`` and ``D,G`` it prints the best fit time and the best apply time
(``transform`` of the training sample) over ``--repeat`` runs, and — measured in the same run on the
same float32 array — scikit-learn's ``MinMaxScaler(feature_range=(-1, 1))`` (for N), ``PCA`` (for P and
as the closest linear-algebra reference for D) and ``QuantileTransformer(output_distribution="normal")``
(for G and D,G), with the ratio pymva / scikit-learn.  Two classes with different means and unequal
event weights are generated; pymva's fit builds three parameter sets (each class and all classes, as
TMVA does), applies the chain once and computes the statistics table, so the scikit-learn reference
does the same work: three fits (class 0, class 1, all events), one ``transform`` and the
mean/RMS/min/max of its result.  scikit-learn is timed both with its default
BLAS threading and with one BLAS thread (pymva limits BLAS to one thread for its skinny matrix
products); the faster of the two is the reference.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
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


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--variables", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    logging.getLogger("pymva").setLevel(logging.ERROR)

    sample, infos = make_sample(args.events, args.variables)
    X = sample.X
    print(
        f"{args.events:,} events x {args.variables} variables, float32; best of {args.repeat}; "
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}"
    )

    sk: dict[str, tuple[float, float]] = {}
    cls0 = sample.class_id == 0

    def sk_time(name: str, make: Callable[[], Any]) -> None:
        # scikit-learn as it comes (threaded BLAS) and with one BLAS thread (what pymva uses for its
        # skinny products); the faster of the two is the reference
        best_fit = best_app = float("inf")
        for limit in (None, 1):
            with threadpool_limits(limits=limit, user_api="blas"):
                fitted: list[Any] = []

                def fit(store: list[Any] = fitted) -> None:
                    # the work pymva's fit does: one parameter set per class and one for all events
                    # (TMVA's per-class sets), the chain applied once, the statistics of the result
                    for part in (X[cls0], X[~cls0]):
                        make().fit(part)
                    store.append(make().fit(X))
                    out = store[-1].transform(X)
                    out.mean(axis=0), out.std(axis=0), out.min(axis=0), out.max(axis=0)

                def apply(store: list[Any] = fitted) -> None:
                    store[-1].transform(X)

                best_fit = min(best_fit, best(fit, args.repeat))
                best_app = min(best_app, best(apply, args.repeat))
        sk[name] = (best_fit, best_app)

    sk_time("MinMaxScaler", lambda: MinMaxScaler(feature_range=(-1, 1)))
    sk_time("PCA", lambda: SkPCA(svd_solver="covariance_eigh") if _has_cov_eigh() else SkPCA())
    sk_time(
        "QuantileTransformer",
        lambda: QuantileTransformer(output_distribution="normal", subsample=args.events, random_state=0),
    )

    rows = [
        ("N", "MinMaxScaler"),
        ("D", "PCA"),
        ("P", "PCA"),
        ("G", "QuantileTransformer"),
        ("D,G", "QuantileTransformer"),
    ]
    print(
        f"{'chain':<6}{'fit [s]':>9}{'apply [s]':>11}   {'scikit-learn':<20}{'fit [s]':>9}{'apply [s]':>11}"
        f"{'fit ratio':>11}{'apply ratio':>13}"
    )
    for spec, ref in rows:
        handler = TransformationHandler.parse(spec, variables=infos, class_names=["Signal", "Background"])
        fit_t = best(partial(handler.fit, sample), args.repeat)
        app_t = best(partial(handler.transform, sample), args.repeat)
        sfit, sapp = sk[ref]
        print(
            f"{spec:<6}{fit_t:>9.3f}{app_t:>11.3f}   {ref:<20}{sfit:>9.3f}{sapp:>11.3f}"
            f"{fit_t / sfit:>11.2f}{app_t / sapp:>13.2f}"
        )


def _has_cov_eigh() -> bool:
    try:
        SkPCA(svd_solver="covariance_eigh")._validate_params()
    except (ValueError, TypeError):  # InvalidParameterError on scikit-learn < 1.5
        return False
    return True


if __name__ == "__main__":
    main()
