"""pymva — TMVA's Factory, DataLoader, Reader and PyMVA methods in pure Python.

Interim package root (the full public API is being assembled).
"""

from ._version import __version__
from .errors import DataError, ModelError, NotTrainedError, OptionError, PyMVAError
from .tcut import TCut
from .types import Types

__all__ = [
    "DataError",
    "ModelError",
    "NotTrainedError",
    "OptionError",
    "PyMVAError",
    "TCut",
    "Types",
    "__version__",
]
