"""plotting.mvas: classifier output, test vs training sample, KS probabilities (TMVA's mvas.cxx).

Expectations: the file's histograms read with uproot, normalised by TMVA's rule; the KS probability
from ROOT's definition of ``TH1::KolmogorovTest`` written out here with the Kolmogorov series.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.patches import StepPatch

from pymva import DataError, OptionError
from pymva.plotting import kolmogorov_probability, mvas


def kolmogorov_series(z: float) -> float:
    """P(K > z) = 2 Σ_k (−1)^(k−1) exp(−2 k² z²)."""
    return 2.0 * sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * z * z) for k in range(1, 200))


def root_ks(c1: np.ndarray, c2: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> float:
    """ROOT's TH1::KolmogorovTest, both histograms weighted (effective entries (Σc)²/Σe²)."""
    d = np.max(np.abs(np.cumsum(c1) / c1.sum() - np.cumsum(c2) / c2.sum()))
    n1, n2 = c1.sum() ** 2 / v1.sum(), c2.sum() ** 2 / v2.sum()
    return kolmogorov_series(float(d * math.sqrt(n1 * n2 / (n1 + n2))))


def test_kolmogorov_probability_follows_roots_definition() -> None:
    rng = np.random.default_rng(4)
    c1, c2 = rng.poisson(40, 30).astype(float), rng.poisson(35, 30).astype(float)
    expected = root_ks(c1, c2, c1, c2)
    assert kolmogorov_probability(c1, np.sqrt(c1), c2, np.sqrt(c2)) == pytest.approx(expected, rel=1e-12)
    assert kolmogorov_probability(c1, np.sqrt(c1), c1, np.sqrt(c1)) == 1.0
    assert kolmogorov_probability(np.zeros(3), np.zeros(3), c1[:3], c1[:3]) == 0.0
    with pytest.raises(ValueError, match="different numbers of bins"):
        kolmogorov_probability(c1, c1, c1[:5], c1[:5])


def tmva_normalised(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)  # a TH1F's contents are float32
    return values / values.sum() / ((edges[-1] - edges[0]) / len(values))


def _check(fig: Any, d: Any, title: str, suffix: str = "", train: bool = True) -> list[str]:
    ax = fig.axes[0]
    patches = {p.get_gid(): p for p in ax.patches if isinstance(p, StepPatch)}
    base = f"MVA_{title}{suffix}"
    assert set(patches) == {f"{base}_S", f"{base}_B"}
    for name, patch in patches.items():
        values, edges, _ = patch.get_data()
        h = d[name]
        np.testing.assert_array_equal(edges, h.axis().edges())
        np.testing.assert_allclose(values, tmva_normalised(h.values(), h.axis().edges()), rtol=1e-12)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    if not train:
        return labels
    lines = {ln.get_gid(): ln for ln in ax.get_lines() if ln.get_gid()}
    ks = []
    for cls in ("S", "B"):
        h, ht = d[f"{base}_{cls}"], d[f"{base}_Train_{cls}"]
        line = lines[f"{base}_Train_{cls}"]
        edges = ht.axis().edges()
        np.testing.assert_allclose(line.get_xdata(), 0.5 * (edges[:-1] + edges[1:]), rtol=1e-15)
        np.testing.assert_allclose(line.get_ydata(), tmva_normalised(ht.values(), edges), rtol=1e-12)
        c1, c2 = h.values().astype(np.float64), ht.values().astype(np.float64)
        ks.append(root_ks(c1, c2, h.variances().astype(np.float64), ht.variances().astype(np.float64)))
    assert labels[2] == f"Signal (training sample), KS p = {ks[0]:.3g}"
    assert labels[3] == f"Background (training sample), KS p = {ks[1]:.3g}"
    return labels


def test_overtraining_check_of_a_pymva_output(pymva_output: Path, uproot_file: Any) -> None:
    d = uproot_file(pymva_output)["dataset/Method_PyTorch/PyTorch"]
    fig = mvas(pymva_output, "dataset", "PyTorch")
    labels = _check(fig, d, "PyTorch")
    assert labels[:2] == ["Signal (test sample)", "Background (test sample)"]
    assert fig.axes[0].get_title() == "TMVA overtraining check for classifier: PyTorch"
    assert fig.axes[0].get_xlabel() == "PyTorch response"
    fig = mvas(pymva_output, "dataset", "Fisher", "mva")
    assert _check(fig, uproot_file(pymva_output)["dataset/Method_Fisher/Fisher"], "Fisher", train=False) == [
        "Signal",
        "Background",
    ]


def test_missing_histograms_and_bad_arguments_are_named(pymva_output: Path) -> None:
    with pytest.raises(DataError, match=r"MVA_Fisher_Proba_S/_B.*CreateMVAPdfs"):
        mvas(pymva_output, "dataset", "Fisher", "proba")
    with pytest.raises(OptionError, match=r"htype='compar'.*did you mean 'compare'"):
        mvas(pymva_output, "dataset", "Fisher", "compar")
    with pytest.raises(DataError, match=r"no method titled 'Fishr'.*did you mean 'Fisher'"):
        mvas(pymva_output, "dataset", "Fishr")


@pytest.mark.realdata
def test_root_written_output_with_probability_and_rarity(root_output: Path, uproot_file: Any) -> None:
    d = uproot_file(root_output)["Method_Fisher/Fisher"]
    _check(mvas(root_output, None, "Fisher"), d, "Fisher")
    for kind, suffix, xlabel in (
        ("proba", "_Proba", "Signal probability"),
        ("rarity", "_Rarity", "Signal rarity"),
    ):
        fig = mvas(root_output, None, "Fisher", kind)
        _check(fig, d, "Fisher", suffix, train=False)
        assert fig.axes[0].get_xlabel() == xlabel
