"""TMVA's deep network (``TMVA::DNN::TDeepNet``) as a ``torch.nn.Module``, and its weights XML.

:class:`DeepNet` is built from the :class:`~pymva.methods.dl_layout.LayerSpec` list of the ``Layout``
option (or from the layers of a weights file) on the input shape of ``InputLayout``.  Each layer is
one small module holding its parameters in TMVA's layout, so that writing and reading the weights
file (``<DenseLayer>``, ``<ConvLayer>``, ``<MaxPoolLayer>``, ``<ReshapeLayer>``, ``<BatchNormLayer>``,
``<RNNLayer>``, ``<LSTMLayer>``, ``<GRULayer>`` with their ``Weights``/``Biases`` matrices, TMVA's
``VGeneralLayer::WriteMatrixToXML`` row-major text) is a copy of the tensors:

* dense: ``W`` (width × inputs), ``b`` (width); ``y = f(x Wᵀ + b)`` (``TDenseLayer``);
* convolution: ``W`` (filters × input depth·height·width of the filter, in that order), ``b``;
  ``torch.nn.functional.conv2d`` with TMVA's strides and zero padding (``TConvLayer``);
* max pooling, reshape (``FLAT``: depth-major flattening), batch normalisation (per feature, or per
  channel after a convolution; momentum ``-1`` = cumulative average as in TMVA);
* recurrent layers on ``(time, features)`` inputs with zero initial state: ``RNN``
  ``h = tanh(W x + U h + b)``, ``LSTM`` (input, forget, candidate, output gates; one bias per gate as
  TMVA), ``GRU`` (reset, update, candidate; ``h = z h + (1 - z) h̃``; the candidate uses ``U (r h)``,
  or ``r (U h)`` with ``ResetGateAfter``, TMVA ``TBasicGRULayer::CandidateValue``).

Activations are TMVA's (``TMVA/DNN/Functions.h`` codes): identity, ReLU, sigmoid, tanh, symmetric
ReLU (``|x|``), soft sign (``x / (1 + |x|)``), Gauss (``exp(-x²)``), fast tanh.
Weight initialisation (``TMVA/DNN/Architectures/*/Initialization``) draws from a seeded
``torch.Generator``: Glorot normal (truncated at 2σ, σ = √(2/(fan_in + fan_out))), Glorot uniform
(± √(6/(fan_in + fan_out))), Gauss (σ = √(2/fan_in)), uniform (± √(2/fan_in)), identity, zero; biases 0.

The module is TorchScript-compatible (``torch.jit.script``) and takes ``(batch, n_variables)`` float32
input; it returns the raw last-layer output (the output function is applied by ``MethodDL``).
"""

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import ModelError, OptionError
from .dl_layout import LayerSpec

__all__ = ["DeepNet", "build_deep_net", "layers_from_xml", "write_layers_xml"]

Shape = tuple[int, ...]


def _activate(x: torch.Tensor, code: int) -> torch.Tensor:
    if code == 1:
        return torch.relu(x)
    if code == 2:
        return torch.sigmoid(x)
    if code == 3:
        return torch.tanh(x)
    if code == 4:
        return torch.abs(x)
    if code == 5:
        return x / (1.0 + torch.abs(x))
    if code == 6:
        return torch.exp(-x * x)
    if code == 7:
        x2 = x * x
        return x * (27.0 + x2) / (27.0 + 9.0 * x2)
    return x


class _Layer(nn.Module):
    """Base of the layers: reshapes its input to ``in_shape`` (batch first) and applies dropout."""

    in_shape: list[int]
    out_shape: list[int]
    dropout: float
    kind: str = ""

    def __init__(self, in_shape: Shape, out_shape: Shape) -> None:
        super().__init__()
        self.in_shape = list(in_shape)
        self.out_shape = list(out_shape)
        self.dropout = 0.0

    def shaped(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape([x.shape[0]] + self.in_shape)  # noqa: RUF005 - TorchScript has no list unpacking
        if self.dropout > 0.0 and self.training:
            x = nn.functional.dropout(x, self.dropout, True)
        return x

    def weight_matrices(self) -> list[torch.Tensor]:
        """The 2-D weight matrices (rows = fan-out) that initialisation and regularisation see."""
        return []


class DenseLayer(_Layer):
    activation: int
    kind = "DENSE"

    def __init__(self, in_shape: Shape, width: int, activation: int) -> None:
        super().__init__(in_shape, (width,))
        self.activation = activation
        self.weight = nn.Parameter(torch.zeros(width, int(np.prod(in_shape))))
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.shaped(x)
        return _activate(nn.functional.linear(x, self.weight, self.bias), self.activation)

    def weight_matrices(self) -> list[torch.Tensor]:
        return [self.weight]


class ConvLayer(_Layer):
    activation: int
    stride: list[int]
    padding: list[int]
    kind = "CONV"

    def __init__(self, in_shape: Shape, depth: int, kernel: Shape, stride: Shape, padding: Shape,
                 activation: int) -> None:  # fmt: skip
        d, h, w = in_shape
        oh = (h - kernel[0] + 2 * padding[0]) // stride[0] + 1
        ow = (w - kernel[1] + 2 * padding[1]) // stride[1] + 1
        super().__init__(in_shape, (depth, oh, ow))
        self.activation = activation
        self.stride = list(stride)
        self.padding = list(padding)
        self.weight = nn.Parameter(torch.zeros(depth, d, kernel[0], kernel[1]))
        self.bias = nn.Parameter(torch.zeros(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.shaped(x)
        y = nn.functional.conv2d(x, self.weight, self.bias, self.stride, self.padding)
        return _activate(y, self.activation)

    def weight_matrices(self) -> list[torch.Tensor]:
        return [self.weight.view(self.weight.shape[0], -1)]


class MaxPoolLayer(_Layer):
    kernel: list[int]
    stride: list[int]
    kind = "MAXPOOL"

    def __init__(self, in_shape: Shape, kernel: Shape, stride: Shape) -> None:
        d, h, w = in_shape
        super().__init__(in_shape, (d, (h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1))
        self.kernel = list(kernel)
        self.stride = list(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.max_pool2d(self.shaped(x), self.kernel, self.stride)


class ReshapeLayer(_Layer):
    flat: bool
    kind = "RESHAPE"

    def __init__(self, in_shape: Shape, out_shape: Shape, flat: bool) -> None:
        super().__init__(in_shape, out_shape)
        self.flat = flat

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shaped(x).reshape([x.shape[0]] + self.out_shape)  # noqa: RUF005 - TorchScript has no list unpacking


class BatchNormLayer(_Layer):
    tmva_momentum: float
    kind = "BNORM"

    def __init__(self, in_shape: Shape, momentum: float, epsilon: float) -> None:
        super().__init__(in_shape, in_shape)
        self.tmva_momentum = momentum
        n = in_shape[0]
        # TMVA's running mean is m * old + (1 - m) * batch; momentum < 0: the cumulative average
        torch_momentum = None if momentum < 0 else 1.0 - momentum
        if len(in_shape) == 1:
            self.norm: nn.Module = nn.BatchNorm1d(n, eps=epsilon, momentum=torch_momentum)
        else:
            self.norm = nn.BatchNorm2d(n, eps=epsilon, momentum=torch_momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.norm(self.shaped(x))
        return out


class _Recurrent(_Layer):
    """Shared part of RNN, LSTM and GRU: ``n_gates`` stacked input/state matrices and biases."""

    state_size: int
    return_sequence: bool
    remember_state: bool
    n_gates: int = 1

    def __init__(self, in_shape: Shape, state_size: int, return_sequence: bool, remember_state: bool) -> None:
        steps, features = in_shape
        out = (steps, state_size) if return_sequence else (state_size,)
        super().__init__(in_shape, out)
        self.state_size = state_size
        self.return_sequence = return_sequence
        self.remember_state = remember_state
        g = self.n_gates
        self.weight_input = nn.Parameter(torch.zeros(g * state_size, features))
        self.weight_state = nn.Parameter(torch.zeros(g * state_size, state_size))
        self.bias = nn.Parameter(torch.zeros(g * state_size))

    def weight_matrices(self) -> list[torch.Tensor]:
        h = self.state_size
        mats = []
        for i in range(self.n_gates):
            mats.append(self.weight_input[i * h : (i + 1) * h])
            mats.append(self.weight_state[i * h : (i + 1) * h])
        return mats


class RNNLayer(_Recurrent):
    kind = "RNN"
    n_gates = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.shaped(x)
        proj = nn.functional.linear(x, self.weight_input, self.bias)
        h = torch.zeros(x.shape[0], self.state_size, dtype=x.dtype, device=x.device)
        outs: list[torch.Tensor] = []
        for t in range(x.shape[1]):
            h = torch.tanh(proj[:, t] + nn.functional.linear(h, self.weight_state))
            outs.append(h)
        return torch.stack(outs, 1) if self.return_sequence else h


class LSTMLayer(_Recurrent):
    kind = "LSTM"
    n_gates = 4  # input, forget, candidate, output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.shaped(x)
        hs = self.state_size
        proj = nn.functional.linear(x, self.weight_input, self.bias)
        h = torch.zeros(x.shape[0], hs, dtype=x.dtype, device=x.device)
        c = torch.zeros(x.shape[0], hs, dtype=x.dtype, device=x.device)
        outs: list[torch.Tensor] = []
        for t in range(x.shape[1]):
            g = proj[:, t] + nn.functional.linear(h, self.weight_state)
            i = torch.sigmoid(g[:, :hs])
            f = torch.sigmoid(g[:, hs : 2 * hs])
            cand = torch.tanh(g[:, 2 * hs : 3 * hs])
            o = torch.sigmoid(g[:, 3 * hs :])
            c = f * c + i * cand
            h = o * torch.tanh(c)
            outs.append(h)
        return torch.stack(outs, 1) if self.return_sequence else h


class GRULayer(_Recurrent):
    reset_gate_after: bool
    kind = "GRU"
    n_gates = 3  # reset, update, candidate

    def __init__(self, in_shape: Shape, state_size: int, return_sequence: bool, remember_state: bool,
                 reset_gate_after: bool) -> None:  # fmt: skip
        super().__init__(in_shape, state_size, return_sequence, remember_state)
        self.reset_gate_after = reset_gate_after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.shaped(x)
        hs = self.state_size
        proj = nn.functional.linear(x, self.weight_input, self.bias)
        u_rz = self.weight_state[: 2 * hs]
        u_c = self.weight_state[2 * hs :]
        h = torch.zeros(x.shape[0], hs, dtype=x.dtype, device=x.device)
        outs: list[torch.Tensor] = []
        for t in range(x.shape[1]):
            p = proj[:, t]
            rz = torch.sigmoid(p[:, : 2 * hs] + nn.functional.linear(h, u_rz))
            r = rz[:, :hs]
            z = rz[:, hs:]
            if self.reset_gate_after:
                cand = torch.tanh(p[:, 2 * hs :] + r * nn.functional.linear(h, u_c))
            else:
                cand = torch.tanh(p[:, 2 * hs :] + nn.functional.linear(r * h, u_c))
            h = z * h + (1.0 - z) * cand
            outs.append(h)
        return torch.stack(outs, 1) if self.return_sequence else h


class DeepNet(nn.Module):
    input_shape: list[int]
    """The network: ``(batch, n_variables)`` float32 in, ``(batch, n_outputs)`` raw outputs out.

    Attributes
    ----------
    layers : torch.nn.ModuleList
        One module per layout layer.
    input_shape : tuple of int
        ``(depth, height, width)`` of ``InputLayout``.
    """

    __jit_unused_properties__: ClassVar[list[str]] = ["output_width"]

    def __init__(self, layers: Sequence[_Layer], input_shape: Shape) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.input_shape = list(input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x.reshape(x.shape[0], -1)

    @property
    def output_width(self) -> int:
        """Number of values the last layer gives per event."""
        last = self.layers[-1]
        assert isinstance(last, _Layer)
        return int(np.prod(last.out_shape))

    def set_dropout(self, probabilities: Sequence[float]) -> None:
        """Dropout probability of each layer's input (TMVA ``DropConfig``: layer i, then 0)."""
        for i, layer in enumerate(self.layers):
            assert isinstance(layer, _Layer)
            layer.dropout = float(probabilities[i]) if i < len(probabilities) else 0.0

    def weight_matrices(self) -> list[torch.Tensor]:
        """The weight matrices of all layers (biases excluded), as regularisation sees them."""
        out: list[torch.Tensor] = []
        for layer in self.layers:
            assert isinstance(layer, _Layer)
            out.extend(layer.weight_matrices())
        return out

    def describe(self) -> list[str]:
        """One line per layer: type, input and output shape, parameters (TMVA ``TDeepNet::Print``)."""
        lines = []
        for i, layer in enumerate(self.layers):
            assert isinstance(layer, _Layer)
            n = sum(p.numel() for p in layer.parameters())
            lines.append(
                f"Layer {i}  {layer.kind:8s} input {tuple(layer.in_shape)} -> output "
                f"{tuple(layer.out_shape)}  parameters {n}"
            )
        return lines


# ---------------------------------------------------------------------------------------------------
# building


def _as_image(shape: Shape, layer: str) -> Shape:
    if len(shape) == 3:
        return shape
    raise OptionError(
        f"Layout: layer '{layer}' needs an image input (depth, height, width) but gets shape {shape}; "
        "give InputLayout=depth|height|width, or a RESHAPE|depth|height|width layer before it"
    )


def _as_sequence(shape: Shape, spec: LayerSpec) -> Shape:
    p = spec.params
    steps, features = int(p["time_steps"]), int(p["input_size"])  # type: ignore[call-overload]
    if int(np.prod(shape)) != steps * features or (len(shape) == 3 and shape[0] != 1):
        raise OptionError(
            f"Layout: layer '{spec.text}' expects {steps} time steps x {features} inputs but gets shape "
            f"{shape}; give InputLayout={steps}|{features} (time steps|features per step)"
        )
    return (steps, features)


def _make_layer(spec: LayerSpec, shape: Shape, n_outputs: int) -> _Layer:
    p = spec.params
    if spec.kind == "DENSE":
        width = int(p["width"]) or n_outputs  # type: ignore[call-overload]
        return DenseLayer((int(np.prod(shape)),), width, int(p["activation"]))  # type: ignore[call-overload]
    if spec.kind == "CONV":
        img = _as_image(shape, spec.text)
        layer: _Layer = ConvLayer(img, int(p["depth"]), p["kernel"], p["stride"], p["padding"],  # type: ignore[arg-type, call-overload]
                                  int(p["activation"]))  # type: ignore[call-overload]  # fmt: skip
    elif spec.kind == "MAXPOOL":
        img = _as_image(shape, spec.text)
        layer = MaxPoolLayer(img, p["kernel"], p["stride"])  # type: ignore[arg-type]
    elif spec.kind == "RESHAPE":
        n = int(np.prod(shape))
        if p["flat"]:
            return ReshapeLayer(shape, (n,), True)
        target = tuple(int(v) for v in p["shape"])  # type: ignore[attr-defined]
        if int(np.prod(target)) != n:
            raise OptionError(
                f"Layout: layer '{spec.text}' reshapes {shape} ({n} values) to {target} "
                f"({int(np.prod(target))} values)"
            )
        return ReshapeLayer(shape, target, False)
    elif spec.kind == "BNORM":
        if len(shape) not in (1, 3):
            shape = (int(np.prod(shape)),)
        layer = BatchNormLayer(shape, float(p["momentum"]), float(p["epsilon"]))  # type: ignore[arg-type]
    elif spec.kind in ("RNN", "LSTM", "GRU"):
        seq = _as_sequence(shape, spec)
        args = (seq, int(p["state_size"]), bool(p["return_sequence"]), bool(p["remember_state"]))  # type: ignore[call-overload]
        if spec.kind == "RNN":
            layer = RNNLayer(*args)
        elif spec.kind == "LSTM":
            layer = LSTMLayer(*args)
        else:
            layer = GRULayer(*args, bool(p.get("reset_gate_after", False)))
    else:  # pragma: no cover - parse_layout only produces the kinds above
        raise OptionError(f"Layout: unknown layer type {spec.kind}")
    if any(v < 1 for v in layer.out_shape):
        raise OptionError(
            f"Layout: layer '{spec.text}' on input {tuple(layer.in_shape)} gives the empty output "
            f"{tuple(layer.out_shape)}; use a smaller filter or stride, or more padding"
        )
    return layer


def build_deep_net(specs: Sequence[LayerSpec], input_shape: Shape, n_outputs: int) -> DeepNet:
    """Build the network of a layout on an input shape.

    Parameters
    ----------
    specs : sequence of LayerSpec
        From :func:`pymva.methods.dl_layout.parse_layout`.
    input_shape : (depth, height, width)
        ``(1, 1, n)`` is a flat input of ``n`` variables.
    n_outputs : int
        Width of a dense layer given as 0 (TMVA: 1 for two-class classification, the number of
        classes or targets otherwise); the last layer must give this many values.

    Returns
    -------
    DeepNet
        With zero parameters; see :func:`initialize`.

    Raises
    ------
    OptionError
        A layer that does not fit its input, or a last layer whose output is not ``n_outputs`` wide.
    """
    d, h, w = input_shape
    shape: Shape = (w,) if d == 1 and h == 1 else (d, h, w)
    layers = []
    for spec in specs:
        layer = _make_layer(spec, shape, n_outputs)
        layers.append(layer)
        shape = tuple(layer.out_shape)
    if int(np.prod(shape)) != n_outputs:
        raise OptionError(
            f"Layout: the last layer '{specs[-1].text}' gives {int(np.prod(shape))} outputs, the analysis "
            f"needs {n_outputs} (end the layout with e.g. DENSE|{n_outputs}|LINEAR, or LINEAR, whose "
            "width is the number of outputs)"
        )
    return DeepNet(layers, input_shape)


def _init_matrix(m: torch.Tensor, method: str, gen: torch.Generator) -> None:
    rows, cols = m.shape
    with torch.no_grad():
        if method == "XAVIER":
            sigma = math.sqrt(2.0 / (rows + cols))
            v = torch.randn(rows, cols, generator=gen) * sigma
            bad = v.abs() > 2 * sigma
            while bool(bad.any()):
                v[bad] = torch.randn(int(bad.sum()), generator=gen) * sigma
                bad = v.abs() > 2 * sigma
        elif method == "XAVIERUNIFORM":
            r = math.sqrt(6.0 / (rows + cols))
            v = (torch.rand(rows, cols, generator=gen) * 2 - 1) * r
        elif method == "GAUSS":
            v = torch.randn(rows, cols, generator=gen) * math.sqrt(2.0 / cols)
        elif method == "UNIFORM":
            r = math.sqrt(2.0 / cols)
            v = (torch.rand(rows, cols, generator=gen) * 2 - 1) * r
        elif method == "IDENTITY":
            v = torch.eye(rows, cols)
        else:  # ZERO
            v = torch.zeros(rows, cols)
        m.copy_(v)


def initialize(net: DeepNet, method: str, seed: int) -> None:
    """Initialise the weight matrices as TMVA's ``WeightInitialization`` (biases to zero).

    Parameters
    ----------
    net : DeepNet
    method : str
        ``XAVIER``, ``XAVIERUNIFORM``, ``GAUSS``, ``UNIFORM``, ``IDENTITY`` or ``ZERO``.
    seed : int
        Seed of the ``torch.Generator`` the values are drawn from.
    """
    gen = torch.Generator().manual_seed(seed)
    for m in net.weight_matrices():
        _init_matrix(m, method, gen)
    with torch.no_grad():
        for layer in net.layers:
            if hasattr(layer, "bias") and isinstance(layer.bias, torch.Tensor):
                layer.bias.zero_()


# ---------------------------------------------------------------------------------------------------
# weights XML (TMVA MethodDL::AddWeightsXMLTo / ReadWeightsFromXML and the layers' methods)


def _write_matrix(parent: ET.Element, name: str, m: torch.Tensor | np.ndarray[Any, Any]) -> None:
    a = np.asarray(m.detach().cpu().numpy() if isinstance(m, torch.Tensor) else m, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    node = ET.SubElement(parent, name, Rows=str(a.shape[0]), Columns=str(a.shape[1]))
    node.text = "  ".join(f"{v:.9e}" for v in a.ravel())


def _gates(layer: _Recurrent, names: Sequence[tuple[str, str, str]], parent: ET.Element) -> None:
    h = layer.state_size
    for i, (w_name, u_name, b_name) in enumerate(names):
        _write_matrix(parent, w_name, layer.weight_input[i * h : (i + 1) * h])
        _write_matrix(parent, u_name, layer.weight_state[i * h : (i + 1) * h])
        _write_matrix(parent, b_name, layer.bias[i * h : (i + 1) * h])


_LSTM_NAMES = (
    ("InputWeights", "InputStateWeights", "InputBiases"),
    ("ForgetWeights", "ForgetStateWeights", "ForgetBiases"),
    ("CandidateWeights", "CandidateStateWeights", "CandidateBiases"),
    ("OuputWeights", "OutputStateWeights", "OutputBiases"),  # TMVA's spelling
)
_GRU_NAMES = (
    ("ResetWeights", "ResetStateWeights", "ResetBiases"),
    ("UpdateWeights", "UpdateStateWeights", "UpdateBiases"),
    ("CandidateWeights", "CandidateStateWeights", "CandidateBiases"),
)


def write_layers_xml(net: DeepNet, parent: ET.Element) -> None:
    """Append one element per layer to ``<Weights>`` in TMVA's layout."""
    for layer in net.layers:
        if isinstance(layer, DenseLayer):
            e = ET.SubElement(parent, "DenseLayer", Width=str(layer.weight.shape[0]),
                              ActivationFunction=str(layer.activation))  # fmt: skip
            _write_matrix(e, "Weights", layer.weight)
            _write_matrix(e, "Biases", layer.bias)
        elif isinstance(layer, ConvLayer):
            k = layer.weight.shape
            e = ET.SubElement(
                parent, "ConvLayer", Depth=str(k[0]), FilterHeight=str(k[2]), FilterWidth=str(k[3]),
                StrideRows=str(layer.stride[0]), StrideCols=str(layer.stride[1]),
                PaddingHeight=str(layer.padding[0]), PaddingWidth=str(layer.padding[1]),
                ActivationFunction=str(layer.activation),
            )  # fmt: skip
            _write_matrix(e, "Weights", layer.weight.reshape(k[0], -1))
            _write_matrix(e, "Biases", layer.bias)
        elif isinstance(layer, MaxPoolLayer):
            ET.SubElement(parent, "MaxPoolLayer", FilterHeight=str(layer.kernel[0]),
                          FilterWidth=str(layer.kernel[1]), StrideRows=str(layer.stride[0]),
                          StrideCols=str(layer.stride[1]))  # fmt: skip
        elif isinstance(layer, ReshapeLayer):
            out = [*list(layer.out_shape), 0, 0]
            d, h, w = (1, 1, out[0]) if layer.flat else (out[0], out[1], out[2])
            ET.SubElement(parent, "ReshapeLayer", Depth=str(d), Height=str(h), Width=str(w),
                          Flattening=str(int(layer.flat)))  # fmt: skip
        elif isinstance(layer, BatchNormLayer):
            norm = layer.norm
            assert isinstance(norm, nn.modules.batchnorm._BatchNorm)
            e = ET.SubElement(
                parent, "BatchNormLayer", Momentum=repr(layer.tmva_momentum), Epsilon=repr(norm.eps)
            )
            assert norm.running_mean is not None
            assert norm.running_var is not None
            _write_matrix(e, "Training-mu", norm.running_mean.reshape(1, -1))
            _write_matrix(e, "Training-variance", norm.running_var.reshape(1, -1))
            _write_matrix(e, "Gamma", norm.weight.reshape(1, -1))
            _write_matrix(e, "Beta", norm.bias.reshape(1, -1))
        elif isinstance(layer, _Recurrent):
            steps, features = layer.in_shape
            attrs = {"StateSize": str(layer.state_size), "InputSize": str(features), "TimeSteps": str(steps),
                     "RememberState": str(int(layer.remember_state)),
                     "ReturnSequence": str(int(layer.return_sequence))}  # fmt: skip
            if isinstance(layer, RNNLayer):
                e = ET.SubElement(parent, "RNNLayer", attrs)
                _write_matrix(e, "InputWeights", layer.weight_input)
                _write_matrix(e, "StateWeights", layer.weight_state)
                _write_matrix(e, "Biases", layer.bias)
            elif isinstance(layer, LSTMLayer):
                attrs = {"StateSize": attrs["StateSize"], "CellSize": attrs["StateSize"], **attrs}
                e = ET.SubElement(parent, "LSTMLayer", attrs)
                _gates(layer, _LSTM_NAMES, e)
            else:
                assert isinstance(layer, GRULayer)
                attrs["ResetGateAfter"] = str(int(layer.reset_gate_after))
                e = ET.SubElement(parent, "GRULayer", attrs)
                _gates(layer, _GRU_NAMES, e)


def _attr_int(e: ET.Element, name: str, source: str) -> int:
    raw = e.get(name)
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ModelError(f"{source}: <{e.tag}> has no integer attribute {name} (got {raw!r})") from None


def _read_matrix(e: ET.Element, names: Sequence[str], shape: Sequence[int], source: str) -> torch.Tensor:
    node = None
    for name in names:
        node = e.find(name)
        if node is not None:
            break
    if node is None:
        raise ModelError(f"{source}: <{e.tag}> has no <{names[0]}> matrix")
    try:
        values = np.array((node.text or "").split(), dtype=np.float64)
    except ValueError:
        raise ModelError(f"{source}: <{e.tag}><{node.tag}> holds text that is not numbers") from None
    n = int(np.prod(shape))
    if values.size != n or not np.all(np.isfinite(values)):
        raise ModelError(
            f"{source}: <{e.tag}><{node.tag}> holds {values.size} values, expected {n} finite values "
            f"for shape {tuple(shape)}"
        )
    return torch.from_numpy(values.astype(np.float32).reshape(tuple(shape)))


def layers_from_xml(weights: ET.Element, input_shape: Shape, source: str) -> DeepNet:
    """Re-create the trained network from the layers of a ``<Weights>`` element.

    Raises
    ------
    ModelError
        An unknown layer element, missing attributes or matrices, or matrices of the wrong size.
    """
    d, h, w = input_shape
    shape: Shape = (w,) if d == 1 and h == 1 else (d, h, w)
    layers: list[_Layer] = []
    try:
        for e in list(weights):
            layer = _layer_from_xml(e, shape, source)
            layers.append(layer)
            shape = tuple(layer.out_shape)
    except OptionError as exc:
        raise ModelError(f"{source}: the network in <Weights> does not fit its input: {exc}") from exc
    if not layers:
        raise ModelError(f"{source}: <Weights> holds no layers")
    return DeepNet(layers, input_shape)


def _layer_from_xml(e: ET.Element, shape: Shape, source: str) -> _Layer:
    ai = _attr_int
    with torch.no_grad():
        if e.tag == "DenseLayer":
            width = ai(e, "Width", source)
            dense = DenseLayer((int(np.prod(shape)),), width, ai(e, "ActivationFunction", source))
            dense.weight.copy_(_read_matrix(e, ["Weights"], dense.weight.shape, source))
            dense.bias.copy_(_read_matrix(e, ["Biases"], dense.bias.shape, source))
            return dense
        if e.tag == "ConvLayer":
            img = _as_image(shape, "ConvLayer")
            conv = ConvLayer(img, ai(e, "Depth", source), (ai(e, "FilterHeight", source), ai(e, "FilterWidth", source)),
                             (ai(e, "StrideRows", source), ai(e, "StrideCols", source)),
                             (ai(e, "PaddingHeight", source), ai(e, "PaddingWidth", source)),
                             ai(e, "ActivationFunction", source))  # fmt: skip
            k = conv.weight.shape
            conv.weight.copy_(_read_matrix(e, ["Weights"], (k[0], k[1] * k[2] * k[3]), source).reshape(k))
            conv.bias.copy_(_read_matrix(e, ["Biases"], conv.bias.shape, source))
            return conv
        if e.tag == "MaxPoolLayer":
            img = _as_image(shape, "MaxPoolLayer")
            return MaxPoolLayer(img, (ai(e, "FilterHeight", source), ai(e, "FilterWidth", source)),
                                (ai(e, "StrideRows", source), ai(e, "StrideCols", source)))  # fmt: skip
        if e.tag == "ReshapeLayer":
            n = int(np.prod(shape))
            if ai(e, "Flattening", source):
                return ReshapeLayer(shape, (n,), True)
            target = (ai(e, "Depth", source), ai(e, "Height", source), ai(e, "Width", source))
            if int(np.prod(target)) != n:
                raise ModelError(f"{source}: <ReshapeLayer> {target} does not hold the {n} values of {shape}")
            return ReshapeLayer(shape, target, False)
        if e.tag == "BatchNormLayer":
            bshape = shape if len(shape) in (1, 3) else (int(np.prod(shape)),)
            try:
                momentum, eps = float(e.get("Momentum", "-1")), float(e.get("Epsilon", "1e-4"))
            except ValueError:
                raise ModelError(f"{source}: <BatchNormLayer> Momentum/Epsilon are not numbers") from None
            bn = BatchNormLayer(bshape, momentum, eps)
            norm = bn.norm
            assert isinstance(norm, nn.modules.batchnorm._BatchNorm)
            n = bshape[0]
            assert norm.running_mean is not None
            assert norm.running_var is not None
            norm.running_mean.copy_(_read_matrix(e, ["Training-mu"], (n,), source))
            norm.running_var.copy_(_read_matrix(e, ["Training-variance"], (n,), source))
            norm.weight.copy_(_read_matrix(e, ["Gamma"], (n,), source))
            norm.bias.copy_(_read_matrix(e, ["Beta"], (n,), source))
            return bn
        if e.tag in ("RNNLayer", "LSTMLayer", "GRULayer"):
            state = (
                ai(e, "StateSize", source) if e.get("StateSize") is not None else ai(e, "OutputSize", source)
            )
            spec = LayerSpec(e.tag[:-5], {"time_steps": ai(e, "TimeSteps", source),
                                          "input_size": ai(e, "InputSize", source)}, e.tag)  # fmt: skip
            seq = _as_sequence(shape, spec)
            ret = bool(int(e.get("ReturnSequence", "0") or 0))
            rem = bool(int(e.get("RememberState", "0") or 0))
            if e.tag == "RNNLayer":
                rnn: _Recurrent = RNNLayer(seq, state, ret, rem)
                rnn.weight_input.copy_(_read_matrix(e, ["InputWeights"], rnn.weight_input.shape, source))
                rnn.weight_state.copy_(_read_matrix(e, ["StateWeights"], rnn.weight_state.shape, source))
                rnn.bias.copy_(_read_matrix(e, ["Biases"], rnn.bias.shape, source))
                return rnn
            if e.tag == "LSTMLayer":
                rnn = LSTMLayer(seq, state, ret, rem)
                names: Sequence[tuple[str, ...]] = (
                    ("InputWeights",), ("InputStateWeights",), ("InputBiases",),
                    ("ForgetWeights",), ("ForgetStateWeights",), ("ForgetBiases",),
                    ("CandidateWeights", "Candidateeights"), ("CandidateStateWeights",), ("CandidateBiases",),
                    ("OuputWeights", "OutputWeights"), ("OutputStateWeights",), ("OutputBiases",),
                )  # fmt: skip
            else:
                rnn = GRULayer(seq, state, ret, rem, bool(int(e.get("ResetGateAfter", "0") or 0)))
                names = tuple((n,) for triple in _GRU_NAMES for n in triple)
            hs, feat = state, seq[1]
            for g in range(rnn.n_gates):
                w_names, u_names, b_names = names[3 * g], names[3 * g + 1], names[3 * g + 2]
                rnn.weight_input[g * hs : (g + 1) * hs] = _read_matrix(e, w_names, (hs, feat), source)
                rnn.weight_state[g * hs : (g + 1) * hs] = _read_matrix(e, u_names, (hs, hs), source)
                rnn.bias[g * hs : (g + 1) * hs] = _read_matrix(e, b_names, (hs,), source)
            return rnn
    known = "DenseLayer, ConvLayer, MaxPoolLayer, ReshapeLayer, BatchNormLayer, RNNLayer, LSTMLayer, GRULayer"
    raise ModelError(f"{source}: unknown layer <{e.tag}> in <Weights> (known: {known})")
