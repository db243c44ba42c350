"""plotting.correlations: the CorrelationMatrixS/B histograms as coloured cells with numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.collections import QuadMesh

from pymva import DataError
from pymva.plotting import correlations, root_text


def _check(fig: Any, h: Any) -> None:
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    values = np.asarray(h.values(), dtype=np.float64)  # [ix, iy]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(values.T.shape), values.T)
    assert mesh.get_gid() == h.member("fName")
    assert mesh.get_clim() == (-100, 100)
    texts = {
        (round(t.get_position()[0] - 0.5), round(t.get_position()[1] - 0.5)): t.get_text() for t in ax.texts
    }
    nx, ny = values.shape
    assert texts == {(ix, iy): f"{values[ix, iy]:.0f}" for ix in range(nx) for iy in range(ny)}
    assert [t.get_text() for t in ax.get_xticklabels()] == [root_text(s) for s in h.axis(0).labels()]
    assert [t.get_text() for t in ax.get_yticklabels()] == [root_text(s) for s in h.axis(1).labels()]
    assert ax.get_title() == h.member("fTitle")


def test_pymva_output(pymva_output: Path, uproot_file: Any) -> None:
    f = uproot_file(pymva_output)
    _check(correlations(pymva_output, "dataset", "Signal"), f["dataset/CorrelationMatrixS"])
    _check(correlations(pymva_output, "dataset", "Background"), f["dataset/CorrelationMatrixB"])
    labels = [t.get_text() for t in correlations(pymva_output).axes[0].get_xticklabels()]
    assert labels == ["Variable 1", "Δη$_{jj}$", "var3", "var4"]
    with pytest.raises(DataError, match=r"CorrelationMatrixSignl.*did you mean 'Signal'"):
        correlations(pymva_output, "dataset", "Signl")


@pytest.mark.realdata
def test_root_written_output(root_bdt_output: Path, uproot_file: Any) -> None:
    f = uproot_file(root_bdt_output)
    fig = correlations(root_bdt_output, None, "Background")
    _check(fig, f["CorrelationMatrixB"])
    assert "Dijet Δη" in [t.get_text() for t in fig.axes[0].get_yticklabels()]  # ROOT's #Delta#eta
