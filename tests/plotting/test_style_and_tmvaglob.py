"""The helpers of pymva.plotting: ROOT's TLatex in matplotlib, the style surviving its context,
reading datasets and methods of ROOT-5 and ROOT-6 layouts, TMVA's normalisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import uproot

from pymva import DataError
from pymva.plotting import root_text, variables
from pymva.plotting.tmvaglob import dataset_names, list_methods, opened, read_h1, resolve_dataset


@pytest.mark.parametrize(
    ("root", "mpl"),
    [
        ("var1", "var1"),
        ("Dijet #Delta#eta", "Dijet Δη"),
        ("dN_{ }/^{ }0.372 GeV^{0.5}", "dN / 0.372 GeV$^{0.5}$"),
        ("p_{T} [GeV]", "p$_{T}$ [GeV]"),
        ("cost in $", r"cost in \$"),
        ("#tree", "#tree"),  # unknown commands stay
        ("E_{T}^{miss}", "E$_{T}$$^{miss}$"),
    ],
)
def test_root_text(root: str, mpl: str) -> None:
    assert root_text(root) == mpl


def test_figures_keep_the_root_style_after_the_context(pymva_output: Path) -> None:
    import matplotlib as mpl

    fig = variables(pymva_output)
    ax = fig.axes[0]
    # drawn outside the style context: the style's font and inward ticks stay
    assert ax.xaxis.label.get_fontfamily() == ["TeX Gyre Heros"]
    assert mpl.rcParams["xtick.direction"] == "out"  # the global settings were not changed
    assert ax.xaxis.get_major_ticks()[0].tick1line.get_marker() == 2  # TICKUP: pointing inside
    fig.canvas.draw()


def test_datasets_of_both_layouts(pymva_output: Path, tmp_path: Path) -> None:
    with opened(pymva_output) as root:
        assert dataset_names(root) == ["dataset"]
        assert resolve_dataset(root, None) == "dataset"
        assert [(m.method_type, m.title, m.path) for m in list_methods(root, "dataset")] == [
            ("Fisher", "Fisher", "dataset/Method_Fisher/Fisher"),
            ("PyTorch", "PyTorch", "dataset/Method_PyTorch/PyTorch"),
        ]
    two = tmp_path / "two.root"
    with uproot.recreate(two) as f:
        for ds in ("A", "B"):
            f[f"{ds}/Method_Fisher/Fisher/MVA_Fisher_S"] = (np.ones(2), np.arange(3.0))
    with opened(two) as root, pytest.raises(DataError, match=r"holds the datasets \['A', 'B'\]; pass one"):
        resolve_dataset(root, None)
    with pytest.raises(DataError, match="does not exist"):
        variables(tmp_path / "nothing.root")
    (tmp_path / "text.root").write_text("not ROOT")
    with pytest.raises(DataError, match="cannot be read as a ROOT file"):
        variables(tmp_path / "text.root")


@pytest.mark.realdata
def test_root5_layout_and_normalisation(root_output: Path) -> None:
    with opened(root_output) as root:
        assert dataset_names(root) == [""]
        assert [m.title for m in list_methods(root, "")] == ["Likelihood", "Fisher"]
        raw = root["Method_Fisher/Fisher/MVA_Fisher_S"]
        h = read_h1(root["Method_Fisher/Fisher"], "MVA_Fisher_S")
    assert h is not None
    flow = raw.values(flow=True).astype(np.float64)
    n = len(flow) - 2
    dx = (raw.axis().edges()[-1] - raw.axis().edges()[0]) / n
    norm = h.normalised()
    scale = 1.0 / flow[1:-1].sum() / dx
    np.testing.assert_allclose(norm.values, flow[1:-1] * scale, rtol=1e-12)
    np.testing.assert_allclose(norm.errors, np.sqrt(raw.variances(flow=True)[1:-1]) * scale, rtol=1e-6)
    assert norm.overflow == pytest.approx(flow[-1] * scale)
    assert h.flow_percent() == pytest.approx(
        (100 * flow[0] / flow[1:-1].sum(), 100 * flow[-1] / flow[1:-1].sum())
    )
