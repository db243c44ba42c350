"""Variable transformations: TMVA's ``VarTransform`` chains (``../shared/tmva/core.md`` §4).

========================  ===========================================================================
module                    content
========================  ===========================================================================
``handler``               :class:`TransformationHandler` — a parsed chain: fit, transform, inverse,
                          statistics table, weights-file XML
``parse``                 the chain syntax (``"N_Signal,G(var1,var2)"``), :func:`parse_transformations_list`
``normalize``             ``N``: linear map to [−1, 1]
``decorrelate``           ``D``: inverse square root of the weighted covariance matrix
``pca``                   ``P``: principal-component rotation
``gauss``                 ``G`` and ``U``: through the cumulative distribution (TMVA's binned CDF,
                          ROOT's 353QH smoothing)
``identity``              ``I``: pass-through
``base``                  what the transformations share (parameter sets per class, XML helpers)
========================  ===========================================================================

Typical use (what :class:`~pymva.methods.base.MethodBase` does)::

    handler = TransformationHandler.parse("D,G", variables=ds.variables, class_names=ds.class_names)
    handler.fit(ds.train)                     # logs the statistics table
    train = handler.transform(ds.train)
    Xt = handler.transform_variables(X)       # Reader: variables only
    xml = handler.to_xml()                    # <Transformations NTransformations="2">…
"""

from __future__ import annotations

from .base import InputRef, VariableTransform
from .decorrelate import Decorrelate
from .gauss import CumulativeDistribution, Gauss, Uniform, smooth_353qh
from .handler import ELEMENT_CLASSES, TransformationHandler, VariableStatistics, format_statistics
from .identity import Identity
from .normalize import Normalize
from .parse import ACCEPTED_NAMES, ElementSpec, parse_chain, parse_transformations_list, split_chain
from .pca import PCA

__all__ = [
    "ACCEPTED_NAMES",
    "ELEMENT_CLASSES",
    "PCA",
    "CumulativeDistribution",
    "Decorrelate",
    "ElementSpec",
    "Gauss",
    "Identity",
    "InputRef",
    "Normalize",
    "TransformationHandler",
    "Uniform",
    "VariableStatistics",
    "VariableTransform",
    "format_statistics",
    "parse_chain",
    "parse_transformations_list",
    "smooth_353qh",
    "split_chain",
]
