"""plotting.paracoor: parallel coordinates of the TestTree (TMVA's paracoor.cxx).

Expectations: the TestTree read with uproot; each drawn polyline is an event's (value − min)/(max −
min) per axis, min and max over the whole tree, the method's output first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.collections import LineCollection

from pymva import DataError
from pymva.plotting import paracoor


def _check(fig: Any, tree: Any, columns: list[str], max_events: int) -> None:
    data = tree.arrays([*columns, "className"], library="np")
    values = np.column_stack([data[c].astype(np.float64) for c in columns])
    lo, hi = values.min(axis=0), values.max(axis=0)
    scaled = (values - lo) / (hi - lo)
    names = data["className"].astype(str)
    collections = {
        c.get_gid(): c
        for ax in fig.axes
        for c in ax.collections
        if isinstance(c, LineCollection) and c.get_gid()
    }
    assert set(collections) == {"paracoor_Signal", "paracoor_Background"}
    for cls in ("Signal", "Background"):
        rows = np.flatnonzero(names == cls)
        if len(rows) > max_events:  # evenly spaced events, as documented
            rows = rows[np.unique(np.linspace(0, len(rows) - 1, max_events).astype(int))]
        segs = collections[f"paracoor_{cls}"].get_segments()
        assert len(segs) == len(rows)
        drawn = np.stack([s[:, 1] for s in segs])
        np.testing.assert_allclose(drawn, scaled[rows], rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(segs[0][:, 0], np.arange(len(columns)))
        np.testing.assert_array_equal(collections[f"paracoor_{cls}"].get_array(), values[rows, 0])


def test_pymva_output(pymva_output: Path, uproot_file: Any) -> None:
    tree = uproot_file(pymva_output)["dataset/TestTree"]
    fig = paracoor(pymva_output, "dataset", "PyTorch")
    # the other method's output (Fisher) is no axis
    _check(fig, tree, ["PyTorch", "var1", "var2", "var3", "var4"], 2000)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["PyTorch output", "Variable 1  [GeV]", "Δη$_{jj}$", "var3", "var4"]
    fig = paracoor(pymva_output, "dataset", "Fisher", max_events=50)
    _check(fig, tree, ["Fisher", "var1", "var2", "var3", "var4"], 50)
    n_signal = int(np.count_nonzero(tree["className"].array(library="np").astype(str) == "Signal"))
    assert fig.axes[0].get_title() == f"Signal events (50 of {n_signal} shown)"
    with pytest.raises(DataError, match="max_events"):
        paracoor(pymva_output, "dataset", "Fisher", max_events=0)


@pytest.mark.realdata
def test_root_written_output(root_output: Path, uproot_file: Any) -> None:
    tree = uproot_file(root_output)["TestTree"]
    fig = paracoor(root_output, None, "Likelihood", max_events=300)
    # spectators are axes, as in TMVA; prob_Fisher and the other method are not
    _check(fig, tree, ["Likelihood", "myvar1", "myvar2", "var3", "var4", "spec1", "spec2"], 300)
