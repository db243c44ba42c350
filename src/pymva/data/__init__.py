"""The data side of TMVA: from trees to the DataSet that methods train on.

Data flows one way through these modules::

    sources (TTree, RNTuple, in-memory, chains) → expression (TTreeFormula) → loader (DataLoader)
        → info (DataSetInfo) → build (DataSetFactory) → split → dataset (DataSet, Sample)

==================  ===========================================================================
``sources``         reading trees with uproot: files, globs, chains, in-memory arrays
``read_errors``     the errors for ROOT files that cannot be read (file, tree, branch, basket)
``expression``      ROOT ``TTreeFormula`` expressions evaluated vectorised, and event building
``loader``          ``DataLoader``: what the user declares
``info``            ``DataSetInfo``, ``ClassInfo``: the description the loader keeps
``build``           TMVA's ``DataSetFactory``: reading, cuts, weights, split, mixing
``selection``       the selection of one chunk of entries (cuts, expressions, weights), picklable
``executor``        ``DataLoader(..., Executor=client)``: chunks read and selected on Dask workers
``stream``          ``Streaming=True``: chunked reading, per-entry hash split, ``DataLoader.stream``
``split``           the train/test split, NormMode and MixMode on index arrays
``dataset``         ``DataSet``, ``Sample``, ``VariableInfo``: what methods see
==================  ===========================================================================

Nothing here imports transforms, methods, evaluation or io.
"""

from __future__ import annotations
