"""plotting.mvaeffs: cut efficiencies, purity and S/sqrt(S+B) (TMVA's mvaeffs.cxx).

Expectations computed here from the MVA_<title>_effS/_effB histograms read with uproot:
S = effS·N_S, B = effB·N_B, purity S/(S+B), significance S/sqrt(S+B), optimal cut at its maximum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pymva import DataError, OptionError
from pymva.plotting import cut_efficiencies, mvaeffs


def _lines(fig: Any) -> dict[str, Any]:
    return {ln.get_gid(): ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid()}


def _check(fig: Any, d: Any, title: str, ns: float, nb: float) -> None:
    hs, hb = d[f"MVA_{title}_effS"], d[f"MVA_{title}_effB"]
    edges = hs.axis().edges()
    cuts = 0.5 * (edges[:-1] + edges[1:])
    es, eb = hs.values().astype(np.float64), hb.values().astype(np.float64)
    s, b = es * ns, eb * nb
    with np.errstate(invalid="ignore", divide="ignore"):
        sig = s / np.sqrt(s + b)
        purity = np.where(s + b > 0, s / (s + b), 0.0)
    lines = _lines(fig)
    for gid, expected in (("effS", es), ("effB", eb), ("purity", purity), ("effpurity", es * purity)):
        np.testing.assert_allclose(lines[gid].get_xdata(), cuts, rtol=1e-15)
        np.testing.assert_allclose(lines[gid].get_ydata(), expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(lines["significance"].get_ydata(), sig, rtol=1e-12, equal_nan=True)
    best = int(np.nanargmax(sig))
    assert lines["optimal_cut"].get_xdata()[0] == pytest.approx(cuts[best], rel=1e-15)
    assert lines["significance"].axes is fig.axes[1]  # its own axis, at the right
    title_text = fig.axes[1].get_legend().get_title().get_text()
    assert f"For {ns:.0f} signal and {nb:.0f} background events" in title_text
    assert f"is {sig[best]:.4g} when cutting at {cuts[best]:.4g}" in title_text


def test_pymva_output(pymva_output: Path, uproot_file: Any) -> None:
    d = uproot_file(pymva_output)["dataset/Method_Fisher/Fisher"]
    _check(mvaeffs(pymva_output, "dataset", "Fisher"), d, "Fisher", 1000, 1000)
    _check(mvaeffs(pymva_output, "dataset", "Fisher", 50, 20000), d, "Fisher", 50, 20000)
    fig = mvaeffs(pymva_output, "dataset", "Fisher")
    assert fig.axes[0].get_xlabel() == "Cut value applied on Fisher output"
    assert fig.get_suptitle() == "Cut efficiencies for classifier: Fisher"


def test_significance_formulas() -> None:
    es, eb = np.array([1.0, 0.5, 0.1]), np.array([1.0, 0.2, 0.0])
    res = cut_efficiencies(es, eb, [0.0, 1.0, 2.0], 100, 400, "S/sqrt(B)")
    np.testing.assert_allclose(res.significance[:2], [100 / 20, 50 / np.sqrt(80)])
    assert np.isnan(res.significance[2])  # B = 0
    assert res.optimal_cut == 1.0
    res = cut_efficiencies(es, eb, [0.0, 1.0, 2.0], 100, 400, lambda s, b: s - b)
    np.testing.assert_allclose(res.significance, [-300.0, -30.0, 10.0])
    assert res.optimal_cut == 2.0
    with pytest.raises(OptionError, match=r"did you mean 'S/sqrt\(S\+B\)'"):
        cut_efficiencies(es, eb, [0, 1, 2], 1, 1, "S/sqrt(S+C)")
    with pytest.raises(OptionError, match="must not be negative"):
        cut_efficiencies(es, eb, [0, 1, 2], -1, 1)


@pytest.mark.realdata
def test_root_written_output(root_bdt_output: Path, uproot_file: Any) -> None:
    d = uproot_file(root_bdt_output)["Method_BDT/BDT"]
    _check(mvaeffs(root_bdt_output, None, "BDT", 100, 5000), d, "BDT", 100, 5000)


def test_method_without_efficiencies(tmp_path: Path) -> None:
    import uproot

    path = tmp_path / "x.root"
    with uproot.recreate(path) as f:
        f["dataset/Method_Cuts/Cuts/MVA_Cuts_S"] = (np.ones(3), np.arange(4.0))
    with pytest.raises(DataError, match="MVA_Cuts_effS/_effB"):
        mvaeffs(path, None, "Cuts")
