"""Entries and fill statistics of the evaluation histograms as TMVA leaves them.

The reference is a TMVA output file written by ROOT's TMVA (``tmva-written/inutard+tmva-studies``,
ROOT 5.32): its TestTree and TrainTree hold the Fisher response, weight and class of every event, so
feeding them to :func:`evaluate_classification` must reproduce the ``MVA_Fisher_*`` histograms the
same job stored (``Tools::NormHist`` keeps ``fEntries`` = number of fills and scales Σw, Σwx, Σwx²
by ``f`` and Σw² by ``f²``; the cumulative efficiencies are filled with ``AddBinContent`` and have
no entries; the ROC-type curves count one entry per ``SetBinContent``).  The multiclass and
regression histograms are checked against hand computations of ROOT's ``TH1::Fill`` statistics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boost_histogram as bh
import numpy as np
import pytest
import uproot

from pymva.evaluation import evaluate_classification, evaluate_multiclass, evaluate_regression

INUTARD = "tmva-written/inutard+tmva-studies/9184b38/TMVA.root"
STATS = ("fEntries", "fTsumw", "fTsumw2", "fTsumwx", "fTsumwx2")
EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture(scope="module")
def fisher(shared_data: Path) -> tuple[Any, Any, Any]:
    f = uproot.open(shared_data / INUTARD)
    te = f["TestTree"].arrays(["Fisher", "weight", "classID"], library="np")
    tr = f["TrainTree"].arrays(["Fisher", "weight", "classID"], library="np")
    r = evaluate_classification(
        "Fisher",
        "ds",
        te["Fisher"],
        te["weight"],
        te["classID"] == 0,
        tr["Fisher"],
        tr["weight"],
        tr["classID"] == 0,
    )
    return f, r, te


@pytest.mark.parametrize("suffix", ["S", "B", "S_high", "B_high", "Train_S", "Train_B"])
def test_response_histograms_keep_the_number_of_fills_and_the_scaled_statistics(
    fisher: tuple[Any, Any, Any], suffix: str
) -> None:
    f, r, _ = fisher
    ref = f[f"Method_Fisher/Fisher/MVA_Fisher_{suffix}"].all_members
    got = r.histograms[f"MVA_Fisher_{suffix}"].metadata
    # 3000 signal and 3000 background events were filled, not the integral (11.7) of the contents
    assert ref["fEntries"] == 3000.0
    assert got["fEntries"] == ref["fEntries"]
    # TMVA's TH1F accumulates the contents (which set the NormHist factor) in float32: up to
    # n * eps32 relative; the statistics themselves are float64 sums of the same float32 values
    rtol = 3000 * EPS32
    for key in STATS[1:]:
        assert got[key] == pytest.approx(ref[key], rel=rtol, abs=rtol * abs(ref["fTsumw"])), key
    mean_ref = ref["fTsumwx"] / ref["fTsumw"]
    rms_ref = np.sqrt(ref["fTsumwx2"] / ref["fTsumw"] - mean_ref**2)
    mean = got["fTsumwx"] / got["fTsumw"]
    assert mean == pytest.approx(mean_ref, rel=rtol)
    assert np.sqrt(got["fTsumwx2"] / got["fTsumw"] - mean**2) == pytest.approx(rms_ref, rel=rtol)


@pytest.mark.parametrize("suffix", ["effS", "effB", "trainingEffS", "trainingEffB"])
def test_cumulative_efficiencies_have_no_entries_and_no_statistics(
    fisher: tuple[Any, Any, Any], suffix: str
) -> None:
    f, r, _ = fisher
    ref = f[f"Method_Fisher/Fisher/MVA_Fisher_{suffix}"].all_members
    h = r.histograms[f"MVA_Fisher_{suffix}"]
    assert [ref[k] for k in STATS] == [0.0] * 5
    assert [h.metadata[k] for k in STATS] == [0.0] * 5
    # ROOT 6's TH1::Scale creates Sumw2 and TH1::Sumw2 copies no contents when there are no entries
    assert np.all(h.variances(flow=True) == 0.0)


@pytest.mark.parametrize(
    "suffix", ["effBvsS", "rejBvsS", "invBeffvsSeff", "trainingEffBvsS", "trainingRejBvsS"]
)
def test_curves_count_one_entry_per_set_bin(fisher: tuple[Any, Any, Any], suffix: str) -> None:
    f, r, _ = fisher
    ref = f[f"Method_Fisher/Fisher/MVA_Fisher_{suffix}"].all_members
    h = r.histograms[f"MVA_Fisher_{suffix}"]
    assert ref["fEntries"] == 100.0  # every bin's effB is above DBL_EPSILON here, also for invBeffvsSeff
    assert [h.metadata[k] for k in STATS] == [ref[k] for k in STATS]
    # no Sumw2 (errors sqrt(content)): a Double storage, written without fSumw2
    assert h.storage_type is bh.storage.Double
    assert len(ref["fSumw2"]) == 0


def test_inverse_efficiency_counts_only_the_bins_it_sets() -> None:
    # fully separated classes: effB = 0 wherever effS < 1, so invBeffvsSeff sets no bin below it
    y = np.r_[np.linspace(0.6, 1.0, 200), np.linspace(0.0, 0.4, 200)]
    s = np.r_[np.ones(200, bool), np.zeros(200, bool)]
    w = np.ones(400)
    r = evaluate_classification("M", "ds", y, w, s, y, w, s)
    eff_b = r.histograms["MVA_M_effBvsS"].values()
    inv = r.histograms["MVA_M_invBeffvsSeff"]
    n_set = int(np.count_nonzero(eff_b > np.finfo(np.float64).eps))
    assert n_set < 100
    assert inv.metadata["fEntries"] == n_set
    assert r.histograms["MVA_M_effBvsS"].metadata["fEntries"] == 100


def test_multiclass_probability_histograms_count_fills_and_scale_statistics() -> None:
    rng = np.random.default_rng(3)
    n = 500
    out = rng.dirichlet([1.0, 1.0, 1.0], n).astype(np.float32)
    cls = rng.integers(0, 3, n).astype(np.int32)
    w = rng.uniform(0.5, 2.0, n).astype(np.float32)
    r = evaluate_multiclass("M", "ds", ["a", "b", "c"], out, cls, w, out, cls, w)
    h = r.histograms["MVA_M_Test_b_prob_for_c"]
    x, wi = out[cls == 2, 1].astype(np.float64), w[cls == 2].astype(np.float64)
    width = float(h.axes[0].widths[0])
    f = 1.0 / (wi.sum() * width)  # every probability lies inside [-0.0002, 1.0002]
    md = h.metadata
    assert md["fEntries"] == float(np.count_nonzero(cls == 2))
    tol = n * EPS32
    assert md["fTsumw"] == pytest.approx(f * wi.sum(), rel=tol)
    assert md["fTsumw2"] == pytest.approx(f * f * (wi * wi).sum(), rel=tol)
    assert md["fTsumwx"] == pytest.approx(f * (wi * x).sum(), rel=tol)
    assert md["fTsumwx2"] == pytest.approx(f * (wi * x * x).sum(), rel=tol)


def test_regression_deviation_histograms_count_every_fill() -> None:
    rng = np.random.default_rng(4)
    n = 300
    x = rng.normal(size=(n, 1))
    tgt = rng.normal(size=(n, 1))
    pred = tgt + 0.1 * rng.normal(size=(n, 1))
    w = rng.uniform(0.5, 2.0, n)
    r = evaluate_regression("M", "ds", pred, tgt, w, pred, tgt, w, test_inputs=x, train_inputs=x)
    dev = r.histograms["MVA_Mtest_reg_var0_rtgt0"]
    d = (pred - tgt)[:, 0].astype(np.float32).astype(np.float64)
    # DeviationAsAFunctionOf fills with unit weights; the axes enclose every value
    md = dev.metadata
    assert (md["fEntries"], md["fTsumw"], md["fTsumw2"]) == (n, n, n)
    assert md["fTsumwy"] == pytest.approx(d.sum(), rel=n * EPS32, abs=n * EPS32)
    q = r.histograms["MVA_Mtest_Quadr_Deviation_target_0_"]
    w32 = w.astype(np.float32).astype(np.float64)
    assert q.metadata["fEntries"] == n
    assert q.metadata["fTsumw"] == pytest.approx(w32.sum(), rel=n * EPS32)
    q90 = r.histograms["MVA_Mtest_Quadr_Dev_best90perc_target_0_"]
    assert 0.85 * n < q90.metadata["fEntries"] < n  # only the fills below the 90% quantile
