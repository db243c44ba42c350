"""plotting.bdt_control_plots (BDTControlPlots.cxx) and plotting.training_history
(training_history.cxx): the drawn data are the file's histograms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.patches import StepPatch

from pymva import DataError
from pymva.plotting import bdt_control_plots, training_history

from .conftest import N_EPOCHS


@pytest.mark.realdata
def test_bdt_control_plots_of_a_root_written_bdt(root_bdt_output: Path, uproot_file: Any) -> None:
    d = uproot_file(root_bdt_output)["Method_BDT/BDT"]
    fig = bdt_control_plots(root_bdt_output, None, "BDT")
    patches = {p.get_gid(): p for ax in fig.axes for p in ax.patches if isinstance(p, StepPatch)}
    expected = ["BoostWeight", "BoostWeightVsTree", "ErrFractHist", "NodesBeforePruning", "NodesAfterPruning"]
    assert sorted(patches) == sorted(expected)
    for name in expected:
        values, edges, _ = patches[name].get_data()
        np.testing.assert_array_equal(values, d[name].values().astype(np.float64))
        np.testing.assert_array_equal(edges, d[name].axis().edges())
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == [
        "AdaBooost weight distribution",  # TMVA's title, as stored
        "Boost weights vs tree",
        "error fraction vs tree number",
        "Nodes before/after pruning",
    ]
    assert fig.axes[2].get_xlabel() == "#tree"


def test_no_control_plots_for_other_methods(pymva_output: Path) -> None:
    with pytest.raises(DataError, match="no BDT control histograms"):
        bdt_control_plots(pymva_output, "dataset", "Fisher")


def test_training_history_of_the_pytorch_method(pymva_output: Path, uproot_file: Any) -> None:
    d = uproot_file(pymva_output)["dataset/Method_PyTorch/PyTorch"]
    fig = training_history(pymva_output, "dataset", "PyTorch")
    ax = fig.axes[0]
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    for name, label in (("trainingError", "Training loss"), ("valError", "Validation loss")):
        h = d[f"TrainingHistory_PyTorch_{name}"]
        line = lines[f"TrainingHistory_PyTorch_{name}"]
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, N_EPOCHS + 1, dtype=float))
        np.testing.assert_array_equal(line.get_ydata(), h.values())
        assert line.get_label() == label
    val = d["TrainingHistory_PyTorch_valError"].values()
    best = lines["best_epoch"]
    assert best.get_xdata()[0] == 1 + int(np.argmin(val))
    assert ax.get_xlabel() == "Epoch"
    assert ax.get_ylabel() == "Loss"
    with pytest.raises(DataError, match="no TrainingHistory_Fisher_"):
        training_history(pymva_output, "dataset", "Fisher")


def test_the_recorded_validation_loss_is_that_of_the_saved_model(
    pymva_output: Path, uproot_file: Any
) -> None:
    """TrainingHistory_PyTorch_valError, as the Factory wrote it: TMVA's layout (TH1D, one bin per
    epoch centred on it, no entries), and its minimum is the loss of the model SaveBestOnly saved,
    recomputed here on the validation events — the last 20 % of the TrainTree (ValidationSize) —
    as the mean over batches of 50 of the batch-mean squared error against one-hot targets."""
    import torch

    f = uproot_file(pymva_output)
    d = f["dataset/Method_PyTorch/PyTorch"]
    h = d["TrainingHistory_PyTorch_valError"]
    assert h.classname == "TH1D"
    np.testing.assert_array_equal(h.axis().edges(), np.arange(N_EPOCHS + 1) + 0.5)
    assert h.member("fEntries") == 0.0  # TMVA fills it with AddBinContent
    assert d.classnames(cycle=False)["TrainingHistory_PyTorch_trainingError"] == "TH1D"

    tree = f["dataset/TrainTree"].arrays(["classID", "var1", "var2", "var3", "var4"], library="np")
    n = len(tree["classID"])
    n_val = int(n * 0.2)
    x = np.column_stack([tree[v] for v in ("var1", "var2", "var3", "var4")])[n - n_val :]
    y = np.eye(2, dtype=np.float32)[tree["classID"][n - n_val :]]
    model = torch.jit.load(
        str(next((pymva_output.parent / "dataset" / "weights").glob("*_PyTorch.TrainedModel.pt")))
    )
    with torch.no_grad():
        out = model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy().astype(np.float64)
    batch_losses = [np.mean((out[i : i + 50] - y[i : i + 50]) ** 2) for i in range(0, n_val, 50)]
    # float32 network and loss: a few float32 roundings of values ~0.1
    assert float(np.min(h.values())) == pytest.approx(float(np.mean(batch_losses)), rel=1e-5)
