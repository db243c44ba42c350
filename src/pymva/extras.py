"""Optional dependencies in one place, each failing with the pip command that installs it.

pymva's core needs numpy, uproot, awkward, torch and scikit-learn; drawing needs matplotlib and
mplhep (the extra ``plot``); ``Types.kPyKeras`` needs Keras 3 (the extra ``keras``); numba (the
extra ``numba``) is an optional accelerator of BDT training, used when installed (:func:`numba`); Dask's
``distributed`` (the extra ``dask``) reads the trees of a DataLoader on a cluster (:func:`distributed`).  Each function here imports its package on first use and raises
:class:`~pymva.errors.MissingExtraError` (a :class:`~pymva.errors.PyMVAError` and a
:class:`ModuleNotFoundError`) naming the ``pip install`` command when it is missing.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import MissingExtraError

__all__ = [
    "default_keras_backend",
    "distributed",
    "keras",
    "mplhep",
    "new_axes",
    "numba",
    "onnx",
    "onnxruntime",
    "pyplot",
    "skl2onnx",
]


def pyplot() -> Any:
    """Return :mod:`matplotlib.pyplot`.

    Raises
    ------
    MissingExtraError
        If matplotlib is not installed (``pip install pymva[plot]``).
    """
    try:
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "drawing needs matplotlib, which is not installed; install it with: pip install pymva[plot]",
            name="matplotlib",
        ) from exc
    return plt


def distributed() -> Any:
    """Return Dask's :mod:`distributed` (``DataLoader(..., Executor=client)``, :mod:`pymva.data.executor`).

    Raises
    ------
    MissingExtraError
        If dask or distributed is not installed (``pip install pymva[dask]``).
    """
    try:
        import distributed as dist
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "reading trees on a Dask cluster (DataLoader(..., Executor=...)) needs dask and distributed, "
            "which are not installed; install them with: pip install pymva[dask]",
            name="distributed",
        ) from exc
    return dist


def mplhep() -> Any:
    """Return :mod:`mplhep` (the HEP styles; :mod:`pymva.plotting` draws in its ROOT style).

    Raises
    ------
    MissingExtraError
        If mplhep is not installed (``pip install pymva[plot]``).
    """
    try:
        import mplhep as hep
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "the ROOT plotting style needs mplhep, which is not installed; install it with: "
            "pip install pymva[plot] (or pass style=None to draw in matplotlib's current style)",
            name="mplhep",
        ) from exc
    return hep


def new_axes(ax: Any = None, figure_class: type[Any] | None = None) -> Any:
    """Return ``ax``, or the axes of a new 6×5 inch figure that pyplot no longer holds.

    The figure is created through pyplot (which sets up the backend: in Jupyter the inline
    backend's display of figures) and closed in pyplot at once: returned as the last value of a
    Jupyter cell it is shown once (a figure still open in pyplot would be shown a second time when
    the cell ends), and it does not pile up in pyplot's list of open figures.  ``savefig`` works as
    usual; ``plt.show()`` does not show it.

    Parameters
    ----------
    ax : matplotlib Axes, optional
        Returned as it is when given.
    figure_class : type, optional
        A :class:`matplotlib.figure.Figure` subclass for the new figure.

    Raises
    ------
    MissingExtraError
        If ``ax`` is ``None`` and matplotlib is not installed.
    """
    if ax is not None:
        return ax
    plt = pyplot()
    kwargs = {} if figure_class is None else {"FigureClass": figure_class}
    fig = plt.figure(figsize=(6, 5), **kwargs)
    plt.close(fig)
    return fig.add_subplot()


#: the Keras backend pymva selects when the environment variable ``KERAS_BACKEND`` is not set
DEFAULT_KERAS_BACKEND = "torch"


def default_keras_backend() -> None:
    """Set ``KERAS_BACKEND=torch`` unless it is set or keras is imported already (then keep it)."""
    import sys

    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", DEFAULT_KERAS_BACKEND)


def keras() -> Any:
    """Return :mod:`keras` (Keras 3), on the backend ``KERAS_BACKEND`` names, ``torch`` by default.

    Keras reads ``KERAS_BACKEND`` once, when it is first imported: if the variable is unset and
    keras is not imported yet, it is set to ``"torch"`` here (so that no TensorFlow is needed).  A
    backend the user chose (the variable, or keras imported earlier) is kept.

    Raises
    ------
    MissingExtraError
        If keras is not installed, or is older than Keras 3 (``pip install pymva[keras]``).
    """
    default_keras_backend()
    try:
        import keras as keras_module
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "Types.kPyKeras needs Keras 3, which is not installed; install it with: pip install pymva[keras]",
            name="keras",
        ) from exc
    version = str(getattr(keras_module, "__version__", "0"))
    if not version.split(".")[0].isdigit() or int(version.split(".")[0]) < 3:
        raise MissingExtraError(
            f"Types.kPyKeras needs Keras 3, found keras {version}; install it with: pip install pymva[keras]",
            name="keras",
        )
    return keras_module


def onnx() -> Any:
    """Return :mod:`onnx` (writing ONNX files, :mod:`pymva.export`).

    Raises
    ------
    MissingExtraError
        If onnx is not installed (``pip install pymva[export]``).
    """
    try:
        import onnx as onnx_module
        import onnx.compose
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "the ONNX export needs the package onnx, which is not installed; install it with: "
            "pip install pymva[export]",
            name="onnx",
        ) from exc
    return onnx_module


def skl2onnx() -> Any:
    """Return :mod:`skl2onnx` (scikit-learn models as ONNX, :mod:`pymva.export`).

    Raises
    ------
    MissingExtraError
        If skl2onnx is not installed (``pip install pymva[export]``).
    """
    try:
        import skl2onnx as skl2onnx_module
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "the ONNX export of PyRandomForest, PyAdaBoost and PyGTB needs the package skl2onnx, which "
            "is not installed; install it with: pip install pymva[export]",
            name="skl2onnx",
        ) from exc
    return skl2onnx_module


def onnxruntime() -> Any:
    """Return :mod:`onnxruntime` (running exported ONNX files).

    Raises
    ------
    MissingExtraError
        If onnxruntime is not installed (``pip install pymva[export]``).
    """
    try:
        import onnxruntime as ort
    except ModuleNotFoundError as exc:
        raise MissingExtraError(
            "running ONNX files needs onnxruntime, which is not installed; install it with: "
            "pip install pymva[export]",
            name="onnxruntime",
        ) from exc
    return ort


def numba(required: bool = False) -> Any:
    """Return :mod:`numba`, or ``None`` when it is not installed (or disabled) and not ``required``.

    numba only accelerates: every code path that uses it has a numpy path with identical results,
    so a missing numba is not an error unless ``required``.  The environment variable
    ``PYMVA_NUMBA=0`` disables it (the numpy paths are used even when numba is installed).

    Parameters
    ----------
    required : bool
        Raise instead of returning ``None``.

    Raises
    ------
    MissingExtraError
        If ``required`` and numba is not installed or disabled (``pip install pymva[numba]``).
    """
    disabled = os.environ.get("PYMVA_NUMBA", "").strip().lower() in ("0", "false", "no", "off")
    try:
        if disabled:
            raise ModuleNotFoundError("numba disabled by PYMVA_NUMBA", name="numba")
        import numba as numba_module
    except ModuleNotFoundError as exc:
        if not required:
            return None
        raise MissingExtraError(
            "this needs numba, which is not installed (or PYMVA_NUMBA=0 disables it); install it with: "
            "pip install pymva[numba]",
            name="numba",
        ) from exc
    return numba_module
