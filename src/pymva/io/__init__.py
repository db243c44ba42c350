"""Files pymva reads and writes besides the input trees: the ends of the data flow.

==================  ===========================================================================
``rootfile``        ROOT's ``TFile``, ``TTree``, ``TString`` for scripts written for PyROOT
``weights``         the weights XML file of a trained method (written and read)
``output``          the Factory's output ROOT file: its layout and its writer
``histograms``      (:mod:`pymva.histograms`, a basic, as evaluation makes them too) ``hist``
                    objects and their conversion to the ROOT objects the output file stores
==================  ===========================================================================

io may import every layer before it (data, transforms, methods, evaluation) and is imported only
by the face (``factory``, ``reader``, ``tmva``); it never imports the Factory.  The rules for names
and atomic writes are :mod:`pymva.safety`, shared with every layer.
"""

from __future__ import annotations
