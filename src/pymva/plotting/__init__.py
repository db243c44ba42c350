"""TMVAGui's plots in Python: one function per TMVAGui macro, each returning a matplotlib Figure.

Every function reads a TMVA output file — written by pymva's Factory or by ROOT's TMVA — with
uproot, and draws what the macro of ``tmva/tmvagui`` draws, in mplhep's ROOT style
(``docs/gui.md``)::

    from pymva import plotting

    plotting.variables("TMVA.root", "dataset", "Id")         # variables.cxx
    plotting.correlations("TMVA.root", "dataset", "Signal")  # correlations.cxx
    plotting.mvas("TMVA.root", "dataset", "Fisher")          # mvas.cxx, test vs training + KS
    plotting.mvaeffs("TMVA.root", "dataset", "Fisher", n_signal=1000, n_background=1000)
    plotting.efficiencies("TMVA.root", "dataset")            # efficiencies.cxx, ROC of all methods
    plotting.paracoor("TMVA.root", "dataset", "Fisher")      # paracoor.cxx
    plotting.bdt_control_plots("TMVA.root", "dataset", "BDT")          # BDTControlPlots.cxx
    plotting.training_history("TMVA.root", "dataset", "PyTorch")       # training_history.cxx
    plotting.write_plots("TMVA.root", "plots")   # all of them as PNG + PDF, and plots/index.html

``TMVA.TMVAGui("TMVA.root")`` and ``python -m pymva gui TMVA.root -o plots/`` call
:func:`write_plots`.  ``dataset=None`` means the only dataset of the file.

=======================  ==================================================================
module                   contents
=======================  ==================================================================
:mod:`.tmvaglob`         reading the file: datasets, methods, 1-D histograms, normalisation
:mod:`.style`            mplhep's ROOT style, TMVA's colours, ROOT's TLatex → matplotlib
:mod:`.variables`        :func:`variables`
:mod:`.correlations`     :func:`correlations`
:mod:`.mvas`             :func:`mvas`, :func:`kolmogorov_probability`
:mod:`.mvaeffs`          :func:`mvaeffs`, :func:`cut_efficiencies`
:mod:`.efficiencies`     :func:`efficiencies`
:mod:`.paracoor`         :func:`paracoor`
:mod:`.bdt`              :func:`bdt_control_plots`
:mod:`.training_history` :func:`training_history`
:mod:`.gui`              :func:`write_plots`, :func:`TMVAGui`
=======================  ==================================================================

matplotlib and mplhep are the optional extra ``plot`` (``pip install pymva[plot]``); without them
the functions raise :class:`~pymva.errors.MissingExtraError`.  Importing this package needs
neither.
"""

from __future__ import annotations

from .bdt import bdt_control_plots
from .correlations import correlations
from .efficiencies import efficiencies
from .gui import PlotPage, TMVAGui, write_plots
from .mvaeffs import CutEfficiencies, cut_efficiencies, mvaeffs
from .mvas import kolmogorov_probability, mvas
from .paracoor import paracoor
from .style import root_text
from .training_history import training_history
from .variables import variables

__all__ = [
    "CutEfficiencies",
    "PlotPage",
    "TMVAGui",
    "bdt_control_plots",
    "correlations",
    "cut_efficiencies",
    "efficiencies",
    "kolmogorov_probability",
    "mvaeffs",
    "mvas",
    "paracoor",
    "root_text",
    "training_history",
    "variables",
    "write_plots",
]
