"""TrainingHistory_<title>_<property> histograms laid out as TMVA's TrainingHistory::SaveHistory does."""

from __future__ import annotations

import hist
import numpy as np

from pymva.io.output.layout import training_history_histograms


def test_one_bin_per_stage_centred_on_it_in_property_order() -> None:
    hists = training_history_histograms(
        "DNN", {"valError": [(1, 0.5), (2, 0.4), (3, 0.45)], "trainingError": [(1, 0.6), (2, 0.5), (3, 0.3)]}
    )
    assert [h.name for h in hists] == ["TrainingHistory_DNN_trainingError", "TrainingHistory_DNN_valError"]
    assert all(h.label == h.name for h in hists)
    assert all(h.metadata["classname"] == "TH1D" and h.metadata["fEntries"] == 0.0 for h in hists)
    assert all(isinstance(h.storage_type(), hist.storage.Double) for h in hists)  # no Sumw2
    np.testing.assert_array_equal(hists[1].axes[0].edges, [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_array_equal(hists[1].values(), [0.5, 0.4, 0.45])
    # stages every 5 epochs (TMVA's testInterval): bins 5 wide
    (h,) = training_history_histograms("X", {"valError": [(5, 1.0), (10, 0.8)]})
    np.testing.assert_array_equal(h.axes[0].edges, [2.5, 7.5, 12.5])
    # a single value: one bin of width 1 (TMVA would divide by zero)
    (h,) = training_history_histograms("X", {"valError": [(1, 1.0)], "empty": []})
    np.testing.assert_array_equal(h.axes[0].edges, [0.5, 1.5])
