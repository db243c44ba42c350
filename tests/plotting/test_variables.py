"""plotting.variables draws the InputVariables_<chain> histograms as TMVA's variables.cxx does.

Expectations: the histograms read back with uproot and normalised by TMVA's rule
(``TMVAGlob::NormalizeHists``: contents / (Σ in-range contents × (xmax − xmin)/n)).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.patches import StepPatch

from pymva import DataError
from pymva.plotting import root_text, variables


def tmva_normalised(h: Any) -> np.ndarray:
    values = np.asarray(h.values(), dtype=np.float64)
    edges = h.axis().edges()
    dx = (edges[-1] - edges[0]) / len(values)
    return values / values.sum() / dx


def _patches(fig: Any) -> dict[str, StepPatch]:
    return {p.get_gid(): p for ax in fig.axes for p in ax.patches if isinstance(p, StepPatch)}


def _check_against_file(fig: Any, directory: Any) -> list[str]:
    patches = _patches(fig)
    names = [k for k, c in directory.classnames(recursive=False, cycle=False).items() if c.startswith("TH1")]
    assert sorted(patches) == sorted(names)
    for name in names:
        h = directory[name]
        values, edges, _ = patches[name].get_data()
        np.testing.assert_allclose(edges, h.axis().edges(), rtol=0, atol=0)
        np.testing.assert_allclose(values, tmva_normalised(h), rtol=1e-12, atol=0)
    return names


def test_pymva_output_each_class_normalised_to_unit_area(pymva_output: Path, uproot_file: Any) -> None:
    fig = variables(pymva_output, "dataset", "Id")
    f = uproot_file(pymva_output)
    names = _check_against_file(fig, f["dataset/InputVariables_Id"])
    assert len(names) == 8  # 4 variables x 2 classes
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 4
    # units from AddVariable, via the histograms' axis titles; ROOT's TLatex converted
    assert axes[0].get_xlabel() == "Variable 1  [GeV]"
    assert axes[1].get_xlabel() == "Δη$_{jj}$"
    assert axes[0].get_ylabel().startswith("(1/N) dN / ")
    assert axes[0].get_ylabel().endswith(" GeV")
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["Signal", "Background"]
    assert fig.get_suptitle() == "Input variables (training sample)"


def test_the_only_dataset_is_found_and_an_unknown_chain_is_named(pymva_output: Path) -> None:
    fig = variables(pymva_output)  # dataset=None: the only one
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4
    with pytest.raises(DataError, match=r"InputVariables_Deco.*transformations plotted: \['Id'\]"):
        variables(pymva_output, None, "Deco")
    with pytest.raises(DataError, match="did you mean 'dataset'"):
        variables(pymva_output, "datset")


@pytest.mark.realdata
def test_root_written_output_every_transformation(root_output: Path, uproot_file: Any) -> None:
    f = uproot_file(root_output)
    for chain in ("Id", "Deco", "PCA", "Gauss_Deco"):
        fig = variables(root_output, None, chain)
        _check_against_file(fig, f[f"InputVariables_{chain}"])
        assert ("'" + chain + "'-transformed" in fig.get_suptitle()) == (chain != "Id")
    # ROOT's own axis title with unit
    fig = variables(root_output, None, "Id")
    labels = [ax.get_xlabel() for ax in fig.axes if ax.get_visible()]
    assert labels == [root_text(f[f"InputVariables_Id/{n}__Signal_Id"].member("fXaxis").member("fTitle"))
                      for n in ("myvar1", "myvar2", "var3", "var4")]  # fmt: skip
    assert "Variable 3  [units]" in labels
