"""An :class:`~pymva.export.model.ExportModel` as a torch module: TorchScript or ``torch.export`` files.

:func:`to_torch_module` builds a ``torch.nn.Module`` whose ``forward(x)`` takes the raw input
variables (float32, ``(N, n_variables)``) and returns what the Reader returns (``(N,)``,
``(N, n_targets)`` or ``(N, n_classes)``), the same arithmetic as the ONNX graph
(:mod:`pymva.export.onnx_graph`, listed in :mod:`pymva.export.model`): transformations in float64
rounded to float32 after each element, the Gauss transformation with ``torch.erfinv`` (float64),
TMVA's MLP in float64, Fisher in float64, LD summed in float32 variable by variable, a BDT forest walked ``depth`` rounds
over the padded node arrays of all trees at once, a PyTorch network as it is (``-999`` for an event
with a NaN or infinite input).  :func:`to_torchscript` writes it with ``torch.jit.trace`` +
``torch.jit.save`` (what TMVA's ``MethodPyTorch`` and ``torch.jit.load`` read), :func:`to_pt2` with
``torch.export.export`` (dynamic batch) + ``torch.export.save``: readable by ``torch.export.load``
and by pymva's safe loader :func:`pymva.methods.exportedprogram.load_exported_program` (only ATen
operators, no pickles).

For ``torch.export`` a TorchScript network (what ``FilenameModel`` usually holds) is rebuilt as a plain
``torch.nn.Sequential`` of its layers (:func:`pymva.export.torchlayers.sequential`; refused when it is
not a plain sequence); a ``.pt2`` network is exported from its program (and refused as TorchScript).  The scikit-learn methods
have no torch form (:class:`~pymva.errors.ModelError`).
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np

from ..errors import ModelError
from .model import (
    NAN_RESPONSE,
    AnnModel,
    CdfStep,
    ExportModel,
    ForestModel,
    HMatrixModel,
    LinearModel,
    MatrixStep,
    NormalizeStep,
    SklearnModel,
    SvmModel,
    TorchModel,
)

__all__ = ["to_pt2", "to_torch_module", "to_torchscript"]

_CUMULANT_CLIP = 1.0e-9
_ERFINV_CLIP = 0.99999999
_SQRT2_TMVA = 1.414213562
_PDF_EPSILON = 1.0e-12
_N_FINE = 10000


def _t(value: Any, dtype: Any = np.float64) -> Any:
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.asarray(value, dtype=dtype)))


def _module_classes() -> dict[str, Any]:
    """The module classes (defined on first use: ``import pymva.export`` does not import torch)."""
    import torch

    class Step(torch.nn.Module):
        """One transformation element on the columns ``idx``, in float64, rounded to float32."""

        def __init__(self, step: NormalizeStep | MatrixStep | CdfStep, n_var: int) -> None:
            super().__init__()
            self.full = step.idx == list(range(n_var))
            self.register_buffer("idx", _t(step.idx, np.int64))
            perm = list(range(n_var))
            for k, i in enumerate(step.idx):
                perm[i] = n_var + k
            self.register_buffer("perm", _t(perm, np.int64))
            self.kind = type(step).__name__
            if isinstance(step, NormalizeStep):  # float32 buffers: TMVA's Float_t arithmetic
                self.register_buffer("lo", _t(step.lo, np.float32))
                self.register_buffer("s2", _t(step.s2, np.float32))
                self.register_buffer("ok", _t(step.ok, bool))
            elif isinstance(step, MatrixStep):
                self.register_buffer("mat", _t(step.matrix))
                self.register_buffer(
                    "mean", _t(step.mean if step.mean is not None else np.zeros(len(step.idx)))
                )
            else:
                k = len(step.tables)
                start, width = np.zeros(k), np.ones(k)
                fine = np.zeros((k, _N_FINE))
                degenerate = np.zeros(k, dtype=bool)
                for j, tab in enumerate(step.tables):
                    if tab is None:
                        degenerate[j] = True
                    else:
                        start[j], width[j], fine[j] = tab
                slope = np.zeros((k, _N_FINE))
                slope[:, :-1] = np.diff(fine, axis=1)
                self.gauss = step.gauss
                self.register_buffer("start", _t(start))
                self.register_buffer("width", _t(width))
                self.register_buffer("fine", _t(fine.ravel()))
                self.register_buffer("slope", _t(slope.ravel()))
                self.register_buffer("offs", _t(np.arange(k) * _N_FINE, np.int64))
                self.register_buffer("degenerate", _t(degenerate, bool))

        def _cdf(self, xd: Any) -> Any:
            me: Any = self  # buffers typed as Any (mypy sees Tensor | Module)
            t = (xd - me.start) / me.width
            i = torch.clamp(torch.floor(t), 0.0, float(_N_FINE - 2))
            flat = i.long() + me.offs
            c = (t - i) * me.slope[flat] + me.fine[flat]
            c = torch.clamp(c, min=_PDF_EPSILON)
            c = torch.where(me.degenerate, torch.full_like(c, 0.5), c)
            c = torch.clamp(c, _CUMULANT_CLIP, 1.0 - _CUMULANT_CLIP)
            if not me.gauss:
                return c
            z = torch.clamp(c * 2.0 - 1.0, -_ERFINV_CLIP, _ERFINV_CLIP)
            return torch.erfinv(z) * _SQRT2_TMVA

        def forward(self, x: Any) -> Any:
            me: Any = self  # buffers typed as Any (mypy sees Tensor | Module)
            if me.kind == "NormalizeStep":  # float32 operations on the float32 columns
                y = (x.index_select(1, me.idx) - me.lo) * me.s2 - 1.0
                y = torch.where(me.ok, y, torch.zeros_like(y))
                if me.full:
                    return y
                return torch.cat([x, y], dim=1).index_select(1, me.perm)
            xd = x.index_select(1, me.idx).double()
            if me.kind == "MatrixStep":
                y = (xd - me.mean) @ me.mat
            else:
                y = me._cdf(xd)
            y = y.float()
            if me.full:
                return y
            return torch.cat([x, y], dim=1).index_select(1, me.perm)

    class Linear(torch.nn.Module):
        def __init__(self, m: LinearModel) -> None:
            super().__init__()
            self.float32_sum = m.float32_sum
            self.register_buffer("w", _t(m.weights))
            self.register_buffer("b", _t(m.offset))
            self.register_buffer("b32", _t(m.offset.reshape(1, -1), np.float32))

        def forward(self, x: Any) -> Any:
            me: Any = self  # buffers typed as Any (mypy sees Tensor | Module)
            xd = x.double()
            if not me.float32_sum:
                return (xd @ me.w.T + me.b).float()
            acc = me.b32 + torch.zeros_like(x[:, :1])  # (N, n_out) in float32
            for j in range(me.w.shape[1]):
                acc = (acc.double() + xd[:, j : j + 1] * me.w[:, j]).float()
            return acc

    class Forest(torch.nn.Module):
        def __init__(self, f: ForestModel) -> None:
            super().__init__()
            if f.combine not in ("average", "grad", "grad_regression", "multiclass"):
                raise ModelError(f"a forest combined as '{f.combine}' has no torch form")
            self.depth, self.strict, self.combine = f.depth, f.strict, f.combine
            self.norm, self.f0 = f.norm, f.f0
            n_trees = len(f.roots)
            onehot = np.zeros((n_trees, max(f.n_classes, 1)))
            onehot[np.arange(n_trees), np.arange(n_trees) % max(f.n_classes, 1)] = 1.0
            for name, arr, dt in (
                ("roots", f.roots, np.int64),
                ("ivar", f.ivar, np.int64),
                ("cut", f.cut, np.float32),
                ("ge_right", f.ge_right, bool),
                ("left", f.left, np.int64),
                ("right", f.right, np.int64),
                ("value", f.value, np.float64),
                ("onehot", onehot, np.float64),
            ):
                self.register_buffer(name, _t(arr, dt))

        def forward(self, x: Any) -> Any:
            me: Any = self  # buffers typed as Any (mypy sees Tensor | Module)
            node = me.roots.unsqueeze(0) + torch.zeros_like(x[:, :1], dtype=torch.long)
            for _ in range(me.depth):
                xv = torch.gather(x, 1, me.ivar[node])
                cut = me.cut[node]
                passed = xv > cut if me.strict else xv >= cut
                node = torch.where(passed == me.ge_right[node], me.right[node], me.left[node])
            vals = me.value[node]
            if me.combine == "multiclass":
                return torch.softmax(vals @ me.onehot, dim=1).float()
            total = vals.sum(dim=1, keepdim=True)
            if me.combine == "average":
                return (total / me.norm).float()
            if me.combine == "grad_regression":
                return (total + me.f0).float()
            return (2.0 / (1.0 + torch.exp(total * -2.0)) - 1.0).float()

    class Ann(torch.nn.Module):
        """TMVA's MLP network in float64 (:class:`~pymva.export.model.AnnModel`)."""

        def __init__(self, m: AnnModel) -> None:
            super().__init__()
            self.m = m
            for li, W in enumerate(m.weights):
                if m.input_type == "sqsum":
                    W = W * W
                elif m.input_type == "abssum":
                    W = np.abs(W)
                self.register_buffer(f"w{li}", _t(W[:-1]))
                self.register_buffer(f"b{li}", _t(W[-1]))

        @staticmethod
        def fast_tanh(z: Any) -> Any:
            x2 = (z * z).float()
            inner = 135135.0 + x2 * (17325.0 + x2 * (378.0 + x2))
            a = (z * inner.double()).float()
            b = 135135.0 + x2 * (62370.0 + x2 * (3150.0 + x2 * 28.0))
            out = (a / b).double()
            out = torch.where(z > 4.97, torch.ones_like(z), out)
            return torch.where(z < -4.97, -torch.ones_like(z), out)

        def forward(self, x: Any) -> Any:
            me: Any = self
            m = me.m
            a = x.double()
            last = len(m.weights) - 1
            for li in range(len(m.weights)):
                if m.input_type == "sqsum":
                    a = a * a
                elif m.input_type == "abssum":
                    a = torch.abs(a)
                z = a @ getattr(me, f"w{li}") + getattr(me, f"b{li}")
                act = m.output if li == last else m.hidden
                if act == "linear":
                    a = z
                elif act == "sigmoid":
                    a = 1.0 / (1.0 + torch.exp(-z))
                elif act == "tanh":
                    a = me.fast_tanh(z) if m.fast_tanh else torch.tanh(z)
                elif act == "ReLU":
                    a = torch.clamp(z, min=0.0)
                else:
                    a = torch.exp(-0.5 * z * z)
            if m.softmax:
                a = torch.softmax(a, dim=1)
            return a.float()

    class HMatrix(torch.nn.Module):
        """TMVA's H-matrix discriminant (:class:`~pymva.export.model.HMatrixModel`)."""

        def __init__(self, m: HMatrixModel, n_var: int) -> None:
            super().__init__()
            self.steps_s = torch.nn.ModuleList([Step(st, n_var) for st in m.steps_s])
            self.steps_b = torch.nn.ModuleList([Step(st, n_var) for st in m.steps_b])
            for name, arr in (
                ("mean_s", m.mean_s),
                ("mean_b", m.mean_b),
                ("inv_s", m.inv_s),
                ("inv_b", m.inv_b),
            ):
                self.register_buffer(name, _t(arr))

        def forward(self, x: Any) -> Any:
            me: Any = self
            chi = []
            for steps, mean, inv in ((me.steps_s, me.mean_s, me.inv_s), (me.steps_b, me.mean_b, me.inv_b)):
                xc = x
                for step in steps:
                    xc = step(xc)
                d = xc.double() - mean
                chi.append(((d @ inv) * d).sum(dim=1, keepdim=True))
            return ((chi[1] - chi[0]) / (chi[0] + chi[1])).float()

    class Svm(torch.nn.Module):
        """TMVA's SVM (:class:`~pymva.export.model.SvmModel`), all support vectors at once."""

        def __init__(self, m: SvmModel) -> None:
            super().__init__()
            self.m = m
            self.register_buffer("sv", _t(m.support_vectors, np.float32))
            self.register_buffer("coef", _t(m.coef.reshape(1, -1), np.float32))

        def forward(self, x: Any) -> Any:
            me: Any = self
            m = me.m
            n_var = m.support_vectors.shape[1]
            out: Any = None
            k: Any = None
            for name in m.elementary:
                if name == "RBF":
                    norm: Any = None
                    for j in range(n_var):
                        d = x[:, j : j + 1] - me.sv[:, j].unsqueeze(0)
                        norm = d * d if norm is None else norm + d * d
                    k = torch.exp(-(norm * float(np.float32(m.gamma))).double()).float()
                elif name == "MultiGauss":
                    k = None
                    for j in range(n_var):
                        d = x[:, j : j + 1] - me.sv[:, j].unsqueeze(0)
                        e = torch.exp(-((d * d) * float(np.float32(m.gammas[j]))).double())
                        k = e.float() if k is None else (k.double() * e).float()
                else:
                    prod = torch.full_like(x[:, :1], float(np.float32(m.theta))) + torch.zeros_like(
                        me.sv[:, 0]
                    )
                    for j in range(n_var):
                        prod = prod + x[:, j : j + 1] * me.sv[:, j].unsqueeze(0)
                    k = torch.pow(prod.double(), float(m.order)).float()
                out = k if out is None else (out * k if m.kernel == "Prod" else out + k)
            total = (out * me.coef).double().sum(dim=1, keepdim=True)
            if m.regression:
                return (total + m.bias).float()
            return (1.0 / (1.0 + torch.exp(total - m.bias))).float()

    class Graph(torch.nn.Module):
        """Raw variables in, the Reader's outputs out (see the module docstring)."""

        def __init__(self, model: ExportModel, core: Any) -> None:
            super().__init__()
            self.steps = torch.nn.ModuleList([Step(s, model.n_variables) for s in model.steps])
            self.core = core
            self.mva = model.kind == "mva"
            self.select = model.select
            self.n_raw = model.n_raw
            for k, (idx, lo, s2, ok) in enumerate(model.target_steps):
                self.register_buffer(f"t{k}_idx", _t(idx, np.int64))
                self.register_buffer(f"t{k}_lo", _t(lo, np.float32))
                self.register_buffer(f"t{k}_s2", _t(s2, np.float32))
                self.register_buffer(f"t{k}_ok", _t(ok, bool))
                perm = list(range(model.n_raw))
                for j, i in enumerate(idx):
                    perm[i] = model.n_raw + j
                self.register_buffer(f"t{k}_perm", _t(perm, np.int64))
            self.n_target_steps = len(model.target_steps)

        def forward(self, x: Any) -> Any:
            me: Any = self  # buffers typed as Any (mypy sees Tensor | Module)
            finite = torch.isfinite(x)
            bad = ~finite.all(dim=1, keepdim=True)
            x = torch.where(finite, x, torch.zeros_like(x))
            for step in me.steps:
                x = step(x)
            raw = me.core(x)
            if me.select is not None:
                raw = raw[:, me.select : me.select + 1]
            for k in range(me.n_target_steps):
                idx = getattr(me, f"t{k}_idx")
                # TMVA's InverseTransform in float32: lo + (t + 1)/s2 (lo for a constant target)
                lo = getattr(me, f"t{k}_lo")
                t = lo + (raw.index_select(1, idx) + 1.0) / getattr(me, f"t{k}_s2")
                t = torch.where(getattr(me, f"t{k}_ok"), t, lo.expand_as(t))
                raw = torch.cat([raw, t], dim=1).index_select(1, getattr(me, f"t{k}_perm"))
            out = torch.where(bad, torch.full_like(raw, NAN_RESPONSE), raw)
            return out.reshape(-1) if me.mva else out

    return {"Linear": Linear, "Forest": Forest, "Ann": Ann, "Svm": Svm, "HMatrix": HMatrix, "Graph": Graph}


def _network(tm: TorchModel, for_export: bool) -> Any:
    import torch

    from ..methods.exportedprogram import ExportedModule

    module = tm.module
    if isinstance(module, ExportedModule):
        if not for_export:
            raise ModelError(
                "a torch.export (.pt2) PyTorch model is not written as TorchScript (torch.jit.trace cannot "
                "trace its symbolic shapes, and TorchScript is deprecated); use --to pt2, onnx or cpp"
            )
        module.eval()
        return module.program
    if isinstance(module, torch.jit.ScriptModule) and for_export:
        from .torchlayers import sequential

        if tm.layers is None:
            raise ModelError(
                "the TorchScript model cannot be written for torch.export (which cannot trace TorchScript) "
                f"and is not a plain sequence of layers to rebuild: {tm.layer_problem}; use --to torchscript "
                "or --to onnx"
            )
        return sequential(tm.layers)
    module.eval()
    return module


def to_torch_module(model: ExportModel, for_export: bool = False) -> Any:
    """The ``torch.nn.Module`` of ``model`` (evaluation mode); see the module docstring.

    Parameters
    ----------
    model : ExportModel
    for_export : bool
        Build it for ``torch.export`` (a TorchScript network rebuilt as a plain ``Sequential``).

    Raises
    ------
    ModelError
        For a scikit-learn method; with ``for_export`` a TorchScript network that is not a plain
        sequence of the supported layers, without it a ``.pt2`` network.
    """
    classes = _module_classes()
    m = model.model
    core: Any
    if isinstance(m, SklearnModel):
        raise ModelError(
            f"method {model.method_type}::{model.name} cannot be written as TorchScript or torch.export: "
            "a scikit-learn estimator has no torch form; use --to onnx or --to cpp"
        )
    if isinstance(m, LinearModel):
        core = classes["Linear"](m)
    elif isinstance(m, ForestModel):
        core = classes["Forest"](m)
    elif isinstance(m, AnnModel):
        core = classes["Ann"](m)
    elif isinstance(m, SvmModel):
        core = classes["Svm"](m)
    elif isinstance(m, HMatrixModel):
        core = classes["HMatrix"](m, model.n_variables)
    else:
        core = _network(m, for_export)
    graph = classes["Graph"](model, core)
    for sub in graph.modules():  # not .eval(): a torch.export program raises on train()/eval()
        sub.training = False
    return graph


def _example(model: ExportModel) -> Any:
    import torch

    return torch.zeros((2, model.n_variables), dtype=torch.float32)


def to_torchscript(model: ExportModel) -> bytes:
    """``model`` traced (``torch.jit.trace``) and saved as TorchScript (``torch.jit.save`` bytes).

    Raises
    ------
    ModelError
        As :func:`to_torch_module`, or when tracing fails.
    """
    import torch

    module = to_torch_module(model)
    try:
        with warnings.catch_warnings(), torch.inference_mode(False):
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module, (_example(model),), check_trace=False)  # type: ignore[no-untyped-call]
            buf = io.BytesIO()
            torch.jit.save(traced, buf)
    except Exception as exc:
        raise ModelError(
            f"torch.jit.trace failed on the exported graph: {type(exc).__name__}: {exc}"
        ) from exc
    return buf.getvalue()


def to_pt2(model: ExportModel) -> bytes:
    """``model`` as a ``torch.export`` program (dynamic batch), ``torch.export.save`` bytes.

    Raises
    ------
    ModelError
        As :func:`to_torch_module`, or when ``torch.export.export`` fails.
    """
    import torch

    module = to_torch_module(model, for_export=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            batch = torch.export.Dim("batch")
            program = torch.export.export(module, (_example(model),), dynamic_shapes=({0: batch},))
            buf = io.BytesIO()
            torch.export.save(program, buf)
    except Exception as exc:
        raise ModelError(
            f"torch.export.export failed on the exported graph: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
    return buf.getvalue()
