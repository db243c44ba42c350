"""plotting.efficiencies: the ROC curves of all methods (TMVA's efficiencies.cxx).

Expectations: the MVA_<title>_rejBvsS (effBvsS, invBeffvsSeff) histograms read with uproot — the
curve through the bin centres — and TMVA's legend order (largest sum of contents first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pymva import OptionError
from pymva.plotting import efficiencies


def _check(fig: Any, f: Any, directories: dict[str, str], kind: str) -> None:
    ax = fig.axes[0]
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    assert set(lines) == {f"MVA_{t}_{kind}" for t in directories}
    sums = {}
    for t, path in directories.items():
        h = f[f"{path}/MVA_{t}_{kind}"]
        edges = h.axis().edges()
        line = lines[f"MVA_{t}_{kind}"]
        np.testing.assert_allclose(line.get_xdata(), 0.5 * (edges[:-1] + edges[1:]), rtol=1e-15)
        np.testing.assert_array_equal(line.get_ydata(), h.values().astype(np.float64))
        assert line.get_label() == h.member("fTitle").replace("MVA_", "")
        sums[t] = float(np.sum(h.values()))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == sorted(directories, key=lambda t: -sums[t])
    assert ax.get_legend().get_title().get_text() == "MVA Method:"


def test_pymva_output(pymva_output: Path, uproot_file: Any) -> None:
    f = uproot_file(pymva_output)
    dirs = {"Fisher": "dataset/Method_Fisher/Fisher", "PyTorch": "dataset/Method_PyTorch/PyTorch"}
    for kind in ("rejBvsS", "effBvsS", "invBeffvsSeff"):
        _check(efficiencies(pymva_output, "dataset", kind), f, dirs, kind)
    fig = efficiencies(pymva_output, None, 2)  # TMVA's type number
    assert fig.axes[0].get_title() == "Background rejection versus Signal efficiency"
    assert fig.axes[0].get_xlabel() == "Signal efficiency"
    with pytest.raises(OptionError, match="did you mean 'rejBvsS'"):
        efficiencies(pymva_output, None, "rejBvS")


@pytest.mark.realdata
def test_root_written_output(root_output: Path, uproot_file: Any) -> None:
    f = uproot_file(root_output)
    dirs = {"Likelihood": "Method_Likelihood/Likelihood", "Fisher": "Method_Fisher/Fisher"}
    for kind in ("rejBvsS", "effBvsS"):
        _check(efficiencies(root_output, None, kind), f, dirs, kind)
