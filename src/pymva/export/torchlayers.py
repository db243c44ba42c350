"""A PyTorch network as a list of dense layers, for the C++ writer (SOFIE's supported layers).

:func:`dense_layers` reads a network that is a sequence of ``Linear``, ``ReLU``, ``LeakyReLU``,
``ELU``, ``Tanh``, ``Sigmoid``, ``Softmax`` (over the features), ``BatchNorm1d`` (running
statistics: evaluation mode), ``Dropout`` (the identity), ``Flatten`` and ``Identity`` modules, as
``torch.nn.Sequential`` builds it (also loaded from TorchScript), into ``(kind, parameters)``
pairs of float64 numpy arrays; :func:`evaluate_layers` evaluates such a list with numpy and
:func:`sequential` rebuilds it as a plain ``torch.nn.Sequential`` (what ``torch.export`` can trace,
which a TorchScript module is not).  The list
is accepted only when :func:`evaluate_layers` reproduces the network's output on probe inputs
(so a module whose ``forward`` is not the plain sequence of its children is refused).  A
``torch.export`` program is read from its graph of ATen calls instead.
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


#: ATen operators of a ``torch.export`` graph read as layers: schema name → layer kind
_ATEN_LAYERS = {
    "aten::linear": "Linear",
    "aten::relu": "ReLU",
    "aten::leaky_relu": "LeakyReLU",
    "aten::elu": "ELU",
    "aten::tanh": "Tanh",
    "aten::sigmoid": "Sigmoid",
    "aten::softmax": "Softmax",
    "aten::batch_norm": "BatchNorm1d",
    "aten::dropout": "Dropout",
    "aten::flatten": "Flatten",
}


def _graph_layers(gm: Any) -> tuple[list[Layer] | None, str]:
    """The layers of a ``torch.export`` program's graph when it is one chain of :data:`_ATEN_LAYERS`."""

    def attr(node: Any) -> F64:
        obj = gm
        for part in str(node.target).split("."):
            obj = getattr(obj, part)
        return _array(obj)

    layers: list[Layer] = []
    current = None
    for node in gm.graph.nodes:
        if node.op == "get_attr":
            continue
        if node.op == "placeholder":
            if current is not None:
                return None, "its program has more than one input"
            current = node
            continue
        if node.op == "output":
            outs = node.args[0]
            outs = outs[0] if isinstance(outs, (tuple, list)) and len(outs) == 1 else outs
            if outs is not current:
                return None, "its program's output is not the end of one chain of layers"
            break
        schema = getattr(node.target, "_schema", None)
        name = schema.name if schema is not None else str(node.target)
        kind = _ATEN_LAYERS.get(name)
        if kind is None:
            return None, f"its program calls {name}; the C++ writer reads {', '.join(sorted(_ATEN_LAYERS))}"
        if not node.args or node.args[0] is not current:
            return None, f"its program's {name} does not continue the chain of layers"
        a = node.args
        if kind == "Linear":
            w = attr(a[1])
            bias = attr(a[2]) if len(a) > 2 and a[2] is not None else np.zeros(w.shape[0])
            layers.append((kind, {"weight": w, "bias": bias}))
        elif kind == "LeakyReLU":
            layers.append((kind, {"slope": float(a[1]) if len(a) > 1 else 0.01}))
        elif kind == "ELU":
            if len(a) > 2 and (float(a[2]) != 1.0 or (len(a) > 3 and float(a[3]) != 1.0)):
                return None, "its program's elu has a scale (SELU/CELU), which the C++ writer lacks"
            layers.append((kind, {"alpha": float(a[1]) if len(a) > 1 else 1.0}))
        elif kind == "Softmax":
            layers.append((kind, {"dim": int(a[1])}))
        elif kind == "BatchNorm1d":
            mean, var = attr(a[3]), attr(a[4])
            w = attr(a[1]) if a[1] is not None else np.ones_like(mean)
            b = attr(a[2]) if a[2] is not None else np.zeros_like(mean)
            eps = float(a[7])
            scale = w / np.sqrt(var + eps)
            layers.append(
                (kind, {"scale": scale, "shift": b - mean * scale, "mean": mean, "var": var, "weight": w,
                        "bias": b, "eps": eps})
            )  # fmt: skip
        elif kind in ("ReLU", "Tanh", "Sigmoid"):
            layers.append((kind, {}))
        current = node
    if layers and layers[-1][0] == "Softmax" and layers[-1][1]["dim"] not in (1, -1):
        return None, "its softmax is not over the features"
    return layers, ""


def dense_layers(model: Any, n_in: int, n_out: int) -> tuple[list[Layer] | None, str]:
    """The layers of ``model`` and ``""``, or ``None`` and why it is not a plain dense network.

    Parameters
    ----------
    model : torch.nn.Module
        In evaluation mode or not (it is evaluated in evaluation mode, its mode restored).
    n_in, n_out : int
        Input variables and outputs the method expects.

    Notes
    -----
    A ``torch.export`` program (:class:`~pymva.methods.exportedprogram.ExportedModule`) is read from
    its ATen graph, which must be one chain of ``linear``, ``relu``, ``leaky_relu``, ``elu``, ``tanh``,
    ``sigmoid``, ``softmax``, ``batch_norm``, ``dropout`` and ``flatten`` calls.
    """
    if hasattr(model, "program") and type(model).__name__ == "ExportedModule":
        from_graph, problem = _graph_layers(model.program)
        if from_graph is None:
            return None, problem
        return _checked(model, from_graph, n_in, n_out)
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
    return _checked(model, layers, n_in, n_out)


def _checked(model: Any, layers: list[Layer], n_in: int, n_out: int) -> tuple[list[Layer] | None, str]:
    """``layers`` if they reproduce ``model`` on probe inputs (evaluation mode), else why not."""
    import torch

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
