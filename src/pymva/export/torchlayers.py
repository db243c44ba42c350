"""A PyTorch network as a list of dense layers, for the C++ writer (SOFIE's supported layers).

:func:`dense_layers` reads a network that is a sequence of ``Linear``, ``ReLU``, ``LeakyReLU``,
``ELU``, ``Tanh``, ``Sigmoid``, ``Softmax`` (over the features), ``BatchNorm1d`` (running
statistics: evaluation mode), ``Dropout`` (the identity), ``Flatten`` and ``Identity`` modules, as
``torch.nn.Sequential`` builds it (also loaded from TorchScript), into ``(kind, parameters)``
pairs of float64 numpy arrays; :func:`evaluate_layers` evaluates such a list with numpy.  The list
is accepted only when :func:`evaluate_layers` reproduces the network's output on probe inputs
(so a module whose ``forward`` is not the plain sequence of its children is refused).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LAYER_KINDS", "dense_layers", "evaluate_layers"]

#: The module classes :func:`dense_layers` reads.
LAYER_KINDS = (
    "Linear",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "BatchNorm1d",
    "Dropout",
    "Flatten",
    "Identity",
)

Layer = tuple[str, dict[str, Any]]
F64 = npt.NDArray[np.float64]


def _kind(module: Any) -> str:
    return str(getattr(module, "original_name", type(module).__name__))


def _array(t: Any) -> F64:
    return np.asarray(t.detach().cpu().double().numpy(), dtype=np.float64)


def _layer(module: Any) -> Layer | None:
    kind = _kind(module)
    if kind == "Linear":
        bias = module.bias
        w = _array(module.weight)
        return kind, {"weight": w, "bias": _array(bias) if bias is not None else np.zeros(w.shape[0])}
    if kind in ("ReLU", "Tanh", "Sigmoid"):
        return kind, {}
    if kind == "LeakyReLU":
        return kind, {"slope": float(module.negative_slope)}
    if kind == "ELU":
        return kind, {"alpha": float(module.alpha)}
    if kind == "Softmax":
        return kind, {"dim": module.dim}
    if kind == "BatchNorm1d":
        mean, var = _array(module.running_mean), _array(module.running_var)
        w = _array(module.weight) if module.weight is not None else np.ones_like(mean)
        b = _array(module.bias) if module.bias is not None else np.zeros_like(mean)
        scale = w / np.sqrt(var + float(module.eps))
        return kind, {"scale": scale, "shift": b - mean * scale}
    if kind in ("Dropout", "Flatten", "Identity"):
        return None
    raise ValueError(kind)


def evaluate_layers(layers: list[Layer], X: npt.ArrayLike) -> F64:
    """The output of ``layers`` for inputs ``X`` of shape ``(n, n_in)`` (float64 arithmetic)."""
    h = np.asarray(X, dtype=np.float64)
    for kind, p in layers:
        if kind == "Linear":
            h = h @ p["weight"].T + p["bias"]
        elif kind == "ReLU":
            h = np.maximum(h, 0.0)
        elif kind == "LeakyReLU":
            h = np.where(h >= 0, h, h * p["slope"])
        elif kind == "ELU":
            h = np.where(h > 0, h, p["alpha"] * np.expm1(np.minimum(h, 0.0)))
        elif kind == "Tanh":
            h = np.tanh(h)
        elif kind == "Sigmoid":
            h = 1.0 / (1.0 + np.exp(-h))
        elif kind == "Softmax":
            e = np.exp(h - h.max(axis=1, keepdims=True))
            h = e / e.sum(axis=1, keepdims=True)
        elif kind == "BatchNorm1d":
            h = h * p["scale"] + p["shift"]
    return h


def dense_layers(model: Any, n_in: int, n_out: int) -> tuple[list[Layer] | None, str]:
    """The layers of ``model`` and ``""``, or ``None`` and why it is not a plain dense network.

    Parameters
    ----------
    model : torch.nn.Module
        In evaluation mode or not (it is evaluated in evaluation mode, its mode restored).
    n_in, n_out : int
        Input variables and outputs the method expects.
    """
    import torch

    children = list(model.named_children())
    if not children:
        return None, f"the model ({_kind(model)}) has no sub-modules to read as layers"
    layers: list[Layer] = []
    for name, child in children:
        try:
            layer = _layer(child)
        except ValueError:
            return None, (
                f"its layer '{name}' is a {_kind(child)}; the C++ writer reads {', '.join(LAYER_KINDS)}"
            )
        except AttributeError as exc:
            return None, f"its layer '{name}' ({_kind(child)}) lacks {exc}"
        if layer is not None:
            if layer[0] == "Softmax" and layer[1]["dim"] not in (1, -1):
                return None, f"its Softmax '{name}' is over dim={layer[1]['dim']}, not over the features"
            layers.append(layer)
    probe = np.random.default_rng(12345).normal(0.0, 2.0, size=(64, n_in)).astype(np.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            ref = model(torch.from_numpy(probe)).double().numpy()
    except Exception as exc:  # noqa: BLE001 - any failure of the user's network: not readable as layers
        return None, f"it fails on probe inputs ({type(exc).__name__}: {exc})"
    finally:
        model.train(was_training)
    mine = evaluate_layers(layers, probe)
    if ref.shape != (64, n_out) or mine.shape != ref.shape:
        return None, f"its output has shape {ref.shape[1:]}, expected ({n_out},)"
    scale = 1.0 + float(np.max(np.abs(ref)))
    if not np.allclose(mine, ref, rtol=0.0, atol=1e-4 * scale):
        return None, "its forward pass is not the plain sequence of its layers"
    return layers, ""
