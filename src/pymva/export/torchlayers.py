"""A PyTorch network as a list of dense layers, for the C++ writer (SOFIE's supported layers).

:func:`dense_layers` reads a network that is a sequence of ``Linear``, ``ReLU``, ``LeakyReLU``,
``ELU``, ``Tanh``, ``Sigmoid``, ``Softmax`` (over the features), ``BatchNorm1d`` (running
statistics: evaluation mode), ``Dropout`` (the identity), ``Flatten`` and ``Identity`` modules, as
``torch.nn.Sequential`` builds it (also loaded from TorchScript), into ``(kind, parameters)``
pairs of float64 numpy arrays; :func:`evaluate_layers` evaluates such a list with numpy and
:func:`sequential` rebuilds it as a plain ``torch.nn.Sequential`` (what ``torch.export`` can trace,
which a TorchScript module is not).  The list
is accepted only when :func:`evaluate_layers` reproduces the network's output on probe inputs
(so a module whose ``forward`` is not the plain sequence of its children is refused).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LAYER_KINDS", "dense_layers", "evaluate_layers", "sequential"]

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
        return kind, {
            "scale": scale,
            "shift": b - mean * scale,
            "mean": mean,
            "var": var,
            "weight": w,
            "bias": b,
            "eps": float(module.eps),
        }
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

    if hasattr(model, "program") and type(model).__name__ == "ExportedModule":
        return None, (
            "it is a torch.export (.pt2) program, whose layers the C++ writer does not read (write the "
            "model as TorchScript, ModelFormat=TorchScript, for C++; --to onnx takes the .pt2)"
        )
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


def sequential(layers: list[Layer]) -> Any:
    """``layers`` (as :func:`dense_layers` reads them) as a ``torch.nn.Sequential`` in evaluation mode.

    The parameters are the float32 values the layers came from (float64 holds them exactly), batch
    normalisation with its running statistics, so the module computes what the original computes.
    """
    import torch

    nn = torch.nn

    def f32(a: F64) -> Any:
        return torch.from_numpy(np.asarray(a, dtype=np.float32).copy())

    mods: list[Any] = []
    for kind, p in layers:
        if kind == "Linear":
            n_out, n_in = p["weight"].shape
            lin = nn.Linear(n_in, n_out)
            with torch.no_grad():
                lin.weight.copy_(f32(p["weight"]))
                lin.bias.copy_(f32(p["bias"]))
            mods.append(lin)
        elif kind == "BatchNorm1d":
            bn = nn.BatchNorm1d(len(p["mean"]), eps=p["eps"])
            with torch.no_grad():
                stats: Any = bn  # running_mean/running_var are typed Optional
                stats.running_mean.copy_(f32(p["mean"]))
                stats.running_var.copy_(f32(p["var"]))
                bn.weight.copy_(f32(p["weight"]))
                bn.bias.copy_(f32(p["bias"]))
            mods.append(bn)
        elif kind == "LeakyReLU":
            mods.append(nn.LeakyReLU(p["slope"]))
        elif kind == "ELU":
            mods.append(nn.ELU(p["alpha"]))
        elif kind == "Softmax":
            mods.append(nn.Softmax(dim=1))
        else:
            mods.append(getattr(nn, kind)())
    return nn.Sequential(*mods).eval()
