"""TMVA's feed-forward network of ``MethodANNBase`` (``MethodANNBase.cxx``, ``TNeuron``, ``TSynapse``,
``TActivation*``, ``TNeuronInput*``) as arrays: layout, weights, forward pass, ``<Weights>`` XML.

The network as TMVA builds it (``ParseLayoutString``, ``BuildLayer``):

* layer sizes: the ``n_var`` inputs, one hidden layer per comma-separated token of ``HiddenLayers``
  (``N`` or ``n`` stands for ``n_var``, followed by an integer that is added: ``N+5``, ``N-1``, ``N``,
  ``7``; a token's number is read as C's ``atoi``, so ``N*2`` is ``N``), and one output neuron per
  regression target, per class (multiclass) or a single one (classification);
* every layer but the output one gets a bias neuron appended, whose value is always 1;
* every neuron of a layer is connected to every neuron (bias included) of the previous layer.

pymva stores layer ``l → l+1`` as one matrix ``W[l]`` of shape ``(n_l + 1, n_{l+1})``: row ``j`` is the
``j``-th neuron of layer ``l`` (the last row the bias neuron), column ``k`` the ``k``-th non-bias neuron of
layer ``l+1``.  Flattening the matrices row by row, one after the other, gives TMVA's synapse order
(``fSynapses``), which is the order of the initial random weights ``4·Rndm() − 2`` of ``TRandom3(RandomSeed)``
(``InitWeights``) and of the ``<Neuron>`` lines of the weights file.

A neuron's input (``NeuronInputType``): ``sum`` Σ w·a, ``sqsum`` Σ (w·a)², ``abssum`` Σ |w·a|; its
activation (``NeuronType``): ``linear`` x, ``sigmoid`` 1/(1+e⁻ˣ), ``tanh`` (TMVA's rational
approximation with float arithmetic, ±1 beyond ±4.97, for weights files of TMVA ≥ 4.2.1, the exact tanh
for older ones), ``ReLU`` max(0, x), ``radial`` exp(−x²/2).  The output neurons use ``linear`` (estimator
MSE) or ``sigmoid`` (estimator CE).  The forward pass is in float64, as TMVA's ``Double_t``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelError, OptionError

if TYPE_CHECKING:
    import torch

__all__ = [
    "ACTIVATIONS",
    "NEURON_INPUTS",
    "activation",
    "forward",
    "initial_weights",
    "parse_hidden_layers",
    "read_layout_xml",
    "regulator_groups",
    "write_layout_xml",
]

F64 = npt.NDArray[np.float64]

#: TMVA's activation names (``TActivationChooser::GetAllActivationNames``).
ACTIVATIONS = ("linear", "sigmoid", "tanh", "ReLU", "radial")
#: TMVA's neuron-input names (``TNeuronInputChooser``).
NEURON_INPUTS = ("sum", "sqsum", "abssum")

_TOKEN = re.compile(r"\s*([+-]?\d+)")


def _atoi(text: str) -> int:
    """C's ``atoi``: the leading integer of ``text`` (0 if there is none)."""
    m = _TOKEN.match(text)
    return int(m.group(1)) if m else 0


def parse_hidden_layers(spec: str, n_var: int, n_out: int) -> list[int]:
    """Neurons per layer, bias neurons not counted (TMVA ``MethodANNBase::ParseLayoutString``).

    Parameters
    ----------
    spec : str
        ``HiddenLayers``, e.g. ``"N,N-1"``, ``"N+5"``, ``"10,5"``; empty for no hidden layer.
    n_var : int
        Number of input variables (what ``N`` stands for).
    n_out : int
        Output neurons: targets (regression), classes (multiclass) or 1 (classification).

    Returns
    -------
    list of int
        ``[n_var, hidden..., n_out]``.

    Raises
    ------
    OptionError
        If a hidden layer would have fewer than one neuron.
    """
    layout = [n_var]
    tokens = spec.split(",") if spec else []
    for token in tokens:
        t = token.strip()
        n = 0
        if t[:1] in ("n", "N"):
            t = t[1:]
            n = n_var
        n += _atoi(t)
        if n < 1:
            raise OptionError(
                f"HiddenLayers={spec!r}: the layer '{token.strip()}' has {n} neurons for {n_var} input "
                "variables; each hidden layer needs at least one (e.g. HiddenLayers=N,N-1 or N+5)"
            )
        layout.append(n)
    layout.append(n_out)
    return layout


def initial_weights(layout: Sequence[int], seed: int) -> list[F64]:
    """TMVA's initial weights ``4·Rndm() − 2`` of ``TRandom3(seed)`` in synapse order (``InitWeights``).

    Parameters
    ----------
    layout : sequence of int
        Neurons per layer without bias (:func:`parse_hidden_layers`).
    seed : int
        ``RandomSeed`` (0: a seed from the operating system, as ROOT's unique seed).

    Returns
    -------
    list of ndarray of float64
        ``W[l]`` of shape ``(layout[l] + 1, layout[l + 1])``.
    """
    import os

    from .trandom3 import TRandom3

    if seed == 0:
        seed = int.from_bytes(os.urandom(4), "little") or 1
    shapes = [(layout[i] + 1, layout[i + 1]) for i in range(len(layout) - 1)]
    u = TRandom3(seed).uniforms(sum(a * b for a, b in shapes))
    out, pos = [], 0
    for a, b in shapes:
        out.append((4.0 * u[pos : pos + a * b] - 2.0).reshape(a, b))
        pos += a * b
    return out


def regulator_groups(layout: Sequence[int]) -> npt.NDArray[np.intp]:
    """The regulator of each synapse, in synapse order (TMVA ``fRegulatorIdx``, ``BuildLayers``).

    Each input neuron (bias included) has its own regulator for its synapses; each hidden layer one
    for all the synapses leaving it.

    Returns
    -------
    ndarray of intp, shape (n_synapses,)
        Regulator index per synapse (``0 … n_var`` for the input rows, then one per hidden layer).
    """
    groups = [np.repeat(np.arange(layout[0] + 1), layout[1])]
    groups.extend(
        np.full((layout[i] + 1) * layout[i + 1], layout[0] + i, dtype=np.intp)
        for i in range(1, len(layout) - 1)
    )
    return np.concatenate(groups).astype(np.intp)


def fast_tanh(x: F64) -> F64:
    """TMVA's ``TActivationTanh::fast_tanh``: a rational approximation evaluated in float.

    ``arg²``, the numerator and the denominator are C ``float``s (the numerator is the double ``arg``
    times a float factor, rounded to float); the quotient is a float; ±1 for ``|arg| > 4.97``.
    """
    x = np.asarray(x, dtype=np.float64)
    f32 = np.float32
    x2 = (x * x).astype(f32)
    inner = f32(135135.0) + x2 * (f32(17325.0) + x2 * (f32(378.0) + x2))
    a = (x * inner.astype(np.float64)).astype(f32)
    b = f32(135135.0) + x2 * (f32(62370.0) + x2 * (f32(3150.0) + x2 * f32(28.0)))
    out = (a / b).astype(np.float64)
    return np.where(x > 4.97, 1.0, np.where(x < -4.97, -1.0, out))


def activation(name: str, x: F64, *, fast: bool = True) -> F64:
    """Apply a TMVA activation to float64 values (``TActivation*::Eval``).

    Parameters
    ----------
    name : str
        One of :data:`ACTIVATIONS`.
    x : ndarray of float64
    fast : bool
        ``tanh`` only: TMVA's fast approximation (weights files of TMVA ≥ 4.2.1) or the exact tanh.

    Raises
    ------
    OptionError
        For an unknown name.
    """
    if name == "linear":
        return x
    if name == "sigmoid":
        return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)
    if name == "tanh":
        return fast_tanh(x) if fast else np.tanh(x)
    if name == "ReLU":
        return np.maximum(x, 0.0)
    if name == "radial":
        return np.asarray(np.exp(-0.5 * x * x), dtype=np.float64)
    raise OptionError(f"unknown NeuronType '{name}'; accepted values: {', '.join(ACTIVATIONS)}")


def neuron_input(kind: str, a: F64, W: F64) -> F64:
    """Inputs of a layer's neurons from the previous layer's values ``a`` (bias column included).

    ``sum``: ``a @ W``; ``sqsum``: Σ (w·a)² = ``a² @ W²``; ``abssum``: Σ |w·a| = ``|a| @ |W|``
    (``TNeuronInputSum``, ``TNeuronInputSqSum``, ``TNeuronInputAbs``).
    """
    if kind == "sum":
        return np.asarray(a @ W, dtype=np.float64)
    if kind == "sqsum":
        return np.asarray((a * a) @ (W * W), dtype=np.float64)
    if kind == "abssum":
        return np.asarray(np.abs(a) @ np.abs(W), dtype=np.float64)
    raise OptionError(f"unknown NeuronInputType '{kind}'; accepted values: {', '.join(NEURON_INPUTS)}")


def forward(
    X: npt.ArrayLike,
    weights: Sequence[F64],
    neuron_type: str,
    output_type: str,
    input_type: str = "sum",
    *,
    fast_tanh: bool = True,
) -> F64:
    """Values of the output neurons (TMVA ``ForceNetworkCalculations``), in float64.

    Parameters
    ----------
    X : array, shape (n_events, n_var)
        The (transformed) input variables.
    weights : sequence of ndarray of float64
        ``W[l]`` of shape ``(n_l + 1, n_{l+1})`` (last row: bias neuron).
    neuron_type, output_type : str
        Activations of the hidden and of the output neurons (:data:`ACTIVATIONS`).
    input_type : str
        :data:`NEURON_INPUTS`.
    fast_tanh : bool
        TMVA's fast tanh approximation (see :func:`activation`).

    Returns
    -------
    ndarray of float64, shape (n_events, n_outputs)
    """
    a = np.asarray(X, dtype=np.float64)
    ones = np.ones((len(a), 1), dtype=np.float64)
    last = len(weights) - 1
    for i, W in enumerate(weights):
        z = neuron_input(input_type, np.hstack([a, ones]), W)
        a = activation(output_type if i == last else neuron_type, z, fast=fast_tanh)
    return a


# ---------------------------------------------------------------------------------------------- torch
def torch_forward(
    X: torch.Tensor,
    weights: Sequence[torch.Tensor],
    neuron_type: str,
    input_type: str = "sum",
) -> torch.Tensor:
    """The output neurons' *inputs* (before the output activation) as a differentiable torch graph.

    The hidden activations' derivatives are TMVA's ``EvalDerivative`` (for tanh ``1 − f²`` of the fast
    approximation ``f``).

    Parameters
    ----------
    X : torch.Tensor, shape (n_events, n_var), float64
    weights : sequence of torch.Tensor
        ``W[l]`` as in :func:`forward` (float64, possibly requiring grad).
    neuron_type, input_type : str

    Returns
    -------
    torch.Tensor, shape (n_events, n_outputs)
    """
    import torch

    a = X
    ones = torch.ones((X.shape[0], 1), dtype=X.dtype, device=X.device)
    last = len(weights) - 1
    for i, W in enumerate(weights):
        ext = torch.cat([a, ones], dim=1)
        if input_type == "sum":
            z = ext @ W
        elif input_type == "sqsum":
            z = (ext * ext) @ (W * W)
        else:
            z = ext.abs() @ W.abs()
        if i == last:
            return z
        a = _torch_activation(neuron_type, z)
    return a  # pragma: no cover - there is always an output layer


def _torch_activation(name: str, z: torch.Tensor) -> torch.Tensor:
    import torch

    if name == "linear":
        return z
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return _FastTanh.apply(z)
    if name == "ReLU":
        return torch.relu(z)
    return torch.exp(-0.5 * z * z)


def _fast_tanh_torch(z: torch.Tensor) -> torch.Tensor:
    import torch

    z2 = z * z
    r = (
        z
        * (135135.0 + z2 * (17325.0 + z2 * (378.0 + z2)))
        / (135135.0 + z2 * (62370.0 + z2 * (3150.0 + z2 * 28.0)))
    )
    return torch.where(z > 4.97, torch.ones_like(z), torch.where(z < -4.97, -torch.ones_like(z), r))


def _make_fast_tanh() -> Any:
    import torch

    class FastTanh(torch.autograd.Function):
        """TMVA's fast tanh (in the tensor's precision) with TMVA's derivative ``1 − f²``."""

        @staticmethod
        def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
            y = _fast_tanh_torch(z)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
            (y,) = ctx.saved_tensors
            out: torch.Tensor = grad * (1.0 - y * y)
            return out

    return FastTanh


class _LazyFastTanh:
    """Creates the autograd function on first use (``import pymva`` stays free of torch)."""

    _fn: Any = None

    @classmethod
    def apply(cls, z: torch.Tensor) -> torch.Tensor:
        if cls._fn is None:
            cls._fn = _make_fast_tanh()
        return cls._fn.apply(z)  # type: ignore[no-any-return]


_FastTanh = _LazyFastTanh


# ------------------------------------------------------------------------------------------------ XML
def write_layout_xml(parent: ET.Element, weights: Sequence[F64]) -> None:
    """``<Layout NLayers><Layer Index NNeurons><Neuron NSynapses>w …</Neuron>…`` (``AddWeightsXMLTo``).

    Each neuron's outgoing weights in ``%.16e`` followed by a space, the output layer's neurons with
    ``NSynapses="0"`` and no text.
    """
    layout = ET.SubElement(parent, "Layout", NLayers=str(len(weights) + 1))
    for i, W in enumerate(weights):
        layer = ET.SubElement(layout, "Layer", Index=str(i), NNeurons=str(W.shape[0]))
        for row in W:
            neuron = ET.SubElement(layer, "Neuron", NSynapses=str(W.shape[1]))
            neuron.text = "\n          " + "".join(f"{v:.16e} " for v in row) + "\n        "
    out = ET.SubElement(layout, "Layer", Index=str(len(weights)), NNeurons=str(weights[-1].shape[1]))
    for _ in range(weights[-1].shape[1]):
        ET.SubElement(out, "Neuron", NSynapses="0")


def read_layout_xml(weights: ET.Element, where: str) -> list[F64]:
    """Read the network back (``MethodANNBase::ReadWeightsFromXML``).

    As in TMVA the layer sizes come from ``NNeurons`` (bias included except in the last layer), each
    weight is read into a C ``float`` (so rounded to float32) and ``<Layout>`` may be missing (the
    layers are then children of ``<Weights>``, as in old files).

    Parameters
    ----------
    weights : Element
        The ``<Weights>`` element.
    where : str
        For messages (the weights file and method).

    Returns
    -------
    list of ndarray of float64
        ``W[l]`` as in :func:`forward`.

    Raises
    ------
    ModelError
        For missing or inconsistent layers, neurons or synapse counts, or non-numeric weights.
    """
    layout_el = weights.find("Layout")
    if layout_el is None:
        layout_el = weights
    try:
        n_layers = int(layout_el.get("NLayers", ""))
    except ValueError:
        raise ModelError(f"{where}: <Layout> needs an integer NLayers attribute") from None
    if not 2 <= n_layers <= 1000:
        raise ModelError(f"{where}: NLayers={n_layers}, expected between 2 and 1000 layers")
    layers: dict[int, ET.Element] = {}
    for el in layout_el.findall("Layer"):
        try:
            index = int(el.get("Index", ""))
        except ValueError:
            raise ModelError(f"{where}: a <Layer> needs an integer Index attribute") from None
        if not 0 <= index < n_layers or index in layers:
            raise ModelError(
                f"{where}: <Layer Index={index}> is out of range or repeated (NLayers={n_layers})"
            )
        layers[index] = el
    if len(layers) != n_layers:
        raise ModelError(f"{where}: NLayers={n_layers} but {len(layers)} <Layer> elements")
    sizes = []
    for i in range(n_layers):
        try:
            n = int(layers[i].get("NNeurons", ""))
        except ValueError:
            raise ModelError(f"{where}: <Layer Index={i}> needs an integer NNeurons attribute") from None
        min_n = 1 if i == n_layers - 1 else 2
        if not min_n <= n <= 1_000_000:
            raise ModelError(f"{where}: <Layer Index={i}> has NNeurons={n}")
        sizes.append(n)
    out: list[F64] = []
    for i in range(n_layers - 1):
        n_post = sizes[i + 1] - (0 if i + 1 == n_layers - 1 else 1)
        neurons = layers[i].findall("Neuron")
        if len(neurons) != sizes[i]:
            raise ModelError(f"{where}: <Layer Index={i}> has {len(neurons)} <Neuron>s, NNeurons={sizes[i]}")
        W = np.empty((sizes[i], n_post), dtype=np.float64)
        for j, neuron in enumerate(neurons):
            if neuron.get("NSynapses") != str(n_post):
                raise ModelError(
                    f"{where}: neuron {j} of layer {i} has NSynapses={neuron.get('NSynapses')!r}, expected "
                    f"{n_post} (the non-bias neurons of layer {i + 1})"
                )
            try:
                values = np.array((neuron.text or "").split(), dtype=np.float64)
            except ValueError:
                raise ModelError(
                    f"{where}: neuron {j} of layer {i} has a weight that is not a number"
                ) from None
            if len(values) != n_post or not np.all(np.isfinite(values)):
                raise ModelError(
                    f"{where}: neuron {j} of layer {i} holds {len(values)} finite weights, expected {n_post}"
                )
            W[j] = values.astype(np.float32)  # TMVA reads them into a Float_t
        out.append(W)
    return out
