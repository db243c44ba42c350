"""An :class:`~pymva.export.model.ExportModel` as an ONNX model (standard operators only).

The graph takes ``x`` (float32, ``(N, n_variables)``, the weights file's variable order; ``N`` a
dynamic axis) and returns ``y``: ``(N,)`` for classification, ``(N, n_targets)`` for regression,
``(N, n_classes)`` for multiclass, as the Reader does (:mod:`pymva.export.model` lists the
arithmetic).  Transformations run in float64 (``Cast`` in and out, rounded to float32 after each
element as the Reader rounds), the Gauss transformation as its 10000-bin lookup (``Floor``,
``Gather``) and :mod:`pymva.export.erfinv`'s polynomials; Fisher as a ``Gemm``, LD summed in float32 variable by variable as TMVA sums it; a BDT as
``depth`` rounds of ``Gather``/``GatherElements``/``Where`` over the padded node arrays of all trees
at once, its sums in float64; a ``.pt2`` PyTorch model through the dynamo-based
``torch.onnx.export``; PyRandomForest/PyAdaBoost/PyGTB through skl2onnx (``ai.onnx.ml``
opset :data:`ML_OPSET`, ``predict_proba`` without ZipMap); a PyTorch network through ``torch.onnx.export`` (TorchScript
exporter, opset :data:`OPSET`), inlined after the transformations.

Opset :data:`OPSET`, IR version :data:`IR_VERSION`: what onnxruntime ≥ 1.16 and ROOT's SOFIE read.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelError
from .erfinv import CENTRE_LIMIT, W_RANGE, coefficients
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
    TransformStep,
)

__all__ = ["IR_VERSION", "OPSET", "to_onnx"]

#: The default-domain opset of the graphs.
OPSET = 18
#: The IR version written into the files.
IR_VERSION = 8
#: The ``ai.onnx.ml`` opset of the scikit-learn graphs (skl2onnx's tree ensembles).
ML_OPSET = 3

_CUMULANT_CLIP = 1.0e-9
_ERFINV_CLIP = 0.99999999
_SQRT2_TMVA = 1.414213562
_PDF_EPSILON = 1.0e-12
_N_FINE = 10000


class _Graph:
    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.h = onnx.helper
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value: npt.ArrayLike, dtype: Any = np.float64, hint: str = "c") -> str:
        arr = np.asarray(value, dtype=dtype)
        n = self.name(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(arr, n))
        return n

    def op(self, op_type: str, *inputs: str, hint: str = "", **attrs: Any) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append(self.h.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def cast(self, x: str, to: str) -> str:
        tp = self.onnx.TensorProto
        return self.op("Cast", x, to={"double": tp.DOUBLE, "float": tp.FLOAT, "int64": tp.INT64}[to])

    def horner(self, coef: tuple[float, ...], u: str) -> str:
        acc = self.const(coef[-1])
        for c in reversed(coef[:-1]):
            acc = self.op("Add", self.op("Mul", acc, u), self.const(c))
        return acc


def _columns(g: _Graph, x: str, idx: list[int], n_var: int) -> str:
    if idx == list(range(n_var)):
        return x
    return g.op("Gather", x, g.const(idx, np.int64), axis=1)


def _put_back(g: _Graph, x: str, y: str, idx: list[int], n_var: int) -> str:
    if idx == list(range(n_var)):
        return y
    perm = list(range(n_var))
    for k, i in enumerate(idx):
        perm[i] = n_var + k
    return g.op("Gather", g.op("Concat", x, y, axis=1), g.const(perm, np.int64), axis=1)


def _erfinv(g: _Graph, z: str) -> str:
    p, q = coefficients()
    s1 = CENTRE_LIMIT**2
    u = g.op("Div", g.op("Sub", g.op("Mul", g.const(2.0), g.op("Mul", z, z)), g.const(s1)), g.const(s1))
    centre = g.op("Mul", z, g.horner(p, u))
    a = g.op("Abs", z)
    w0, w1 = W_RANGE
    rest = g.op("Max", g.op("Sub", g.const(1.0), a), g.const(1e-300))
    w = g.op("Sqrt", g.op("Neg", g.op("Log", rest)))
    v = g.op("Div", g.op("Sub", g.op("Mul", g.const(2.0), w), g.const(w0 + w1)), g.const(w1 - w0))
    tail = g.op("Mul", g.op("Sign", z), g.horner(q, v))
    return g.op("Where", g.op("LessOrEqual", a, g.const(CENTRE_LIMIT)), centre, tail)


def _cdf(g: _Graph, xd: str, step: CdfStep) -> str:
    k = len(step.tables)
    start = np.zeros(k)
    width = np.ones(k)
    fine = np.zeros((k, _N_FINE))
    degenerate = np.zeros(k, dtype=bool)
    for j, tab in enumerate(step.tables):
        if tab is None:
            degenerate[j] = True
        else:
            start[j], width[j], fine[j] = tab
    slope = np.zeros((k, _N_FINE))
    slope[:, :-1] = np.diff(fine, axis=1)
    t = g.op("Div", g.op("Sub", xd, g.const(start)), g.const(width))
    i = g.op("Clip", g.op("Floor", t), g.const(0.0), g.const(float(_N_FINE - 2)))
    flat = g.op("Add", g.cast(i, "int64"), g.const(np.arange(k) * _N_FINE, np.int64))
    c = g.op("Mul", g.op("Sub", t, i), g.op("Gather", g.const(slope.ravel()), flat))
    c = g.op("Max", g.op("Add", c, g.op("Gather", g.const(fine.ravel()), flat)), g.const(_PDF_EPSILON))
    if degenerate.any():
        c = g.op("Where", g.const(degenerate, bool), g.const(0.5), c)
    c = g.op("Clip", c, g.const(_CUMULANT_CLIP), g.const(1.0 - _CUMULANT_CLIP))
    if not step.gauss:
        return c
    z = g.op("Sub", g.op("Mul", c, g.const(2.0)), g.const(1.0))
    z = g.op("Clip", z, g.const(-_ERFINV_CLIP), g.const(_ERFINV_CLIP))
    return g.op("Mul", _erfinv(g, z), g.const(_SQRT2_TMVA))


def _transforms(g: _Graph, x: str, model: ExportModel) -> str:
    return _apply_steps(g, x, model.steps, model.n_variables)


def _apply_steps(g: _Graph, x: str, steps: list[TransformStep], n: int) -> str:
    for step in steps:
        if isinstance(step, NormalizeStep):
            # TMVA's Float_t arithmetic: float32 operations on the float32 columns
            f32 = np.float32
            y = g.op(
                "Mul", g.op("Sub", _columns(g, x, step.idx, n), g.const(step.lo, f32)), g.const(step.s2, f32)
            )
            y = g.op("Sub", y, g.const(1.0, f32))
            if not step.ok.all():
                y = g.op("Where", g.const(step.ok, bool), y, g.const(0.0, f32))
            x = _put_back(g, x, y, step.idx, n)
            continue
        xd = g.cast(_columns(g, x, step.idx, n), "double")
        if isinstance(step, MatrixStep):
            if step.mean is not None:
                xd = g.op("Sub", xd, g.const(step.mean))
            y = g.op("MatMul", xd, g.const(step.matrix))
        else:
            y = _cdf(g, xd, step)
        x = _put_back(g, x, g.cast(y, "float"), step.idx, n)
    return x


def _forest(g: _Graph, x: str, f: ForestModel) -> str:
    zero = g.cast(
        g.op("Mul", g.op("Gather", x, g.const([0], np.int64), axis=1), g.const(0.0, np.float32)), "int64"
    )
    node = g.op("Add", zero, g.const(f.roots, np.int64))  # (N, n_trees)
    ivar, cut = g.const(f.ivar, np.int64), g.const(f.cut, np.float32)
    ger, left, right = g.const(f.ge_right, bool), g.const(f.left, np.int64), g.const(f.right, np.int64)
    for _ in range(f.depth):
        xv = g.op("GatherElements", x, g.op("Gather", ivar, node), axis=1)
        passed = g.op("Greater" if f.strict else "GreaterOrEqual", xv, g.op("Gather", cut, node))
        go_right = g.op("Equal", passed, g.op("Gather", ger, node))
        node = g.op("Where", go_right, g.op("Gather", right, node), g.op("Gather", left, node))
    vals = g.op("Gather", g.const(f.value), node)
    if f.combine == "multiclass":
        n_trees = len(f.roots)
        onehot = np.zeros((n_trees, f.n_classes))
        onehot[np.arange(n_trees), np.arange(n_trees) % f.n_classes] = 1.0
        return g.op("Softmax", g.op("MatMul", vals, g.const(onehot)), axis=1)
    total = g.op("ReduceSum", vals, g.const([1], np.int64), keepdims=1)
    if f.combine == "average":
        return g.op("Div", total, g.const(f.norm))
    if f.combine == "grad_regression":
        return g.op("Add", total, g.const(f.f0))
    e = g.op("Exp", g.op("Mul", total, g.const(-2.0)))
    return g.op("Sub", g.op("Div", g.const(2.0), g.op("Add", g.const(1.0), e)), g.const(1.0))


def _linear(g: _Graph, x: str, m: LinearModel) -> str:
    xd = g.cast(x, "double")
    if not m.float32_sum:
        return g.cast(g.op("Gemm", xd, g.const(m.weights), g.const(m.offset), transB=1), "float")
    # LD: c0 + Σ c_j x_j added up in float32, one variable after the other (MethodLD's Float_t)
    acc = g.const(m.offset.astype(np.float32).reshape(1, -1), np.float32)  # (1, n_out)
    for j in range(m.weights.shape[1]):
        term = g.op(
            "Mul", g.op("Gather", xd, g.const([j], np.int64), axis=1), g.const(m.weights[:, j].reshape(1, -1))
        )
        acc = g.cast(g.op("Add", g.cast(acc, "double"), term), "float")
    return acc


def _fast_tanh(g: _Graph, z: str) -> str:
    """TMVA's ``TActivationTanh::fast_tanh`` (float intermediate values) of the float64 ``z``."""
    x2 = g.cast(g.op("Mul", z, z), "float")

    def f(v: float) -> str:
        return g.const(v, np.float32)

    inner = g.op(
        "Add",
        f(135135.0),
        g.op("Mul", x2, g.op("Add", f(17325.0), g.op("Mul", x2, g.op("Add", f(378.0), x2)))),
    )
    a = g.cast(g.op("Mul", z, g.cast(inner, "double")), "float")
    b = g.op(
        "Add",
        f(135135.0),
        g.op(
            "Mul",
            x2,
            g.op("Add", f(62370.0), g.op("Mul", x2, g.op("Add", f(3150.0), g.op("Mul", x2, f(28.0))))),
        ),
    )
    out = g.cast(g.op("Div", a, b), "double")
    out = g.op("Where", g.op("Greater", z, g.const(4.97)), g.const(1.0), out)
    return g.op("Where", g.op("Less", z, g.const(-4.97)), g.const(-1.0), out)


def _ann(g: _Graph, x: str, m: AnnModel) -> str:
    a = g.cast(x, "double")
    last = len(m.weights) - 1
    for i, W in enumerate(m.weights):
        w, bias = W[:-1], W[-1]
        if m.input_type == "sum":
            z = g.op("Add", g.op("MatMul", a, g.const(w)), g.const(bias))
        elif m.input_type == "sqsum":
            z = g.op("Add", g.op("MatMul", g.op("Mul", a, a), g.const(w * w)), g.const(bias * bias))
        else:
            z = g.op("Add", g.op("MatMul", g.op("Abs", a), g.const(np.abs(w))), g.const(np.abs(bias)))
        act = m.output if i == last else m.hidden
        if act == "linear":
            a = z
        elif act == "sigmoid":
            a = g.op("Div", g.const(1.0), g.op("Add", g.const(1.0), g.op("Exp", g.op("Neg", z))))
        elif act == "tanh":
            a = _fast_tanh(g, z) if m.fast_tanh else g.op("Tanh", z)
        elif act == "ReLU":
            a = g.op("Max", z, g.const(0.0))
        else:  # radial
            a = g.op("Exp", g.op("Mul", g.op("Mul", z, z), g.const(-0.5)))
    if m.softmax:
        a = g.op("Softmax", a, axis=1)
    return g.cast(a, "float")


def _hmatrix(g: _Graph, x: str, m: HMatrixModel, n_var: int) -> str:
    chi = []
    for steps, mean, inv in ((m.steps_s, m.mean_s, m.inv_s), (m.steps_b, m.mean_b, m.inv_b)):
        d = g.op("Sub", g.cast(_apply_steps(g, x, steps, n_var), "double"), g.const(mean))
        q = g.op("Mul", g.op("MatMul", d, g.const(inv)), d)
        chi.append(g.op("ReduceSum", q, g.const([1], np.int64), keepdims=1))
    chi_s, chi_b = chi
    return g.cast(g.op("Div", g.op("Sub", chi_b, chi_s), g.op("Add", chi_s, chi_b)), "float")


def _svm(g: _Graph, x: str, m: SvmModel) -> str:
    """The SVM response in SVKernelFunction's float32 arithmetic, over all support vectors at once."""
    sv = m.support_vectors
    n_var = sv.shape[1]
    cols = [g.op("Gather", x, g.const([j], np.int64), axis=1) for j in range(n_var)]  # (N, 1) each

    def diff(j: int) -> str:
        return g.op("Sub", cols[j], g.const(sv[:, j].reshape(1, -1), np.float32))  # (N, n_sv)

    out = ""
    for name in m.elementary:
        if name == "RBF":
            norm = ""
            for j in range(n_var):
                d = diff(j)
                dd = g.op("Mul", d, d)
                norm = dd if not norm else g.op("Add", norm, dd)
            arg = g.cast(g.op("Mul", norm, g.const(m.gamma, np.float32)), "double")
            k = g.cast(g.op("Exp", g.op("Neg", arg)), "float")
        elif name == "MultiGauss":
            k = ""
            for j in range(n_var):
                d = diff(j)
                arg = g.cast(g.op("Mul", g.op("Mul", d, d), g.const(m.gammas[j], np.float32)), "double")
                e = g.op("Exp", g.op("Neg", arg))
                k = g.cast(e if not k else g.op("Mul", g.cast(k, "double"), e), "float")
        else:  # Polynomial
            prod = g.const(np.float32(m.theta), np.float32)
            for j in range(n_var):
                prod = g.op("Add", prod, g.op("Mul", cols[j], g.const(sv[:, j].reshape(1, -1), np.float32)))
            k = g.cast(g.op("Pow", g.cast(prod, "double"), g.const(float(m.order))), "float")
        out = k if not out else g.op("Mul" if m.kernel == "Prod" else "Add", out, k)
    terms = g.cast(g.op("Mul", out, g.const(m.coef.reshape(1, -1), np.float32)), "double")
    total = g.op("ReduceSum", terms, g.const([1], np.int64), keepdims=1)
    if m.regression:
        return g.cast(g.op("Add", total, g.const(m.bias)), "float")
    e = g.op("Exp", g.op("Sub", total, g.const(m.bias)))
    return g.cast(g.op("Div", g.const(1.0), g.op("Add", g.const(1.0), e)), "float")


def _torchscript_exporter(module: Any, n_var: int) -> bytes:
    import torch

    example = torch.zeros((2, n_var), dtype=torch.float32)
    buf = io.BytesIO()
    torch.onnx.export(
        module,
        (example,),
        buf,  # type: ignore[arg-type]  # a file object works with the TorchScript exporter
        dynamo=False,
        opset_version=OPSET,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
    )
    return buf.getvalue()


def _dynamo_exporter(program: Any, n_var: int) -> bytes:
    """A ``torch.export`` program (a ``.pt2`` model) through the dynamo-based ``torch.onnx.export``."""
    import onnx.inliner
    import torch

    example = torch.zeros((2, n_var), dtype=torch.float32)
    ep = torch.export.export(program, (example,), dynamic_shapes=({0: torch.export.Dim("N")},))
    onnx_program = torch.onnx.export(ep, dynamo=True, opset_version=OPSET, optimize=True, verbose=False)
    assert onnx_program is not None
    proto = onnx.inliner.inline_local_functions(onnx_program.model_proto)
    return bytes(proto.SerializeToString())


def _torch_graph(g: _Graph, x: str, tm: TorchModel, n_var: int) -> str:
    import onnx

    from ..methods.exportedprogram import ExportedModule

    was_training = tm.module.training
    tm.module.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(tm.module, ExportedModule):
                data = _dynamo_exporter(tm.module.program, n_var)
            else:
                data = _torchscript_exporter(tm.module, n_var)
    except Exception as exc:
        raise ModelError(
            f"torch.onnx.export failed on the PyTorch model: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        tm.module.train(was_training)
    net = onnx.load_from_string(data)
    prefix = g.name("net") + "/"
    net = onnx.compose.add_prefix(net, prefix)
    graph = net.graph
    g.nodes.append(g.h.make_node("Identity", [x], [graph.input[0].name]))
    g.nodes.extend(graph.node)
    g.inits.extend(graph.initializer)
    return g.op("Identity", graph.output[0].name)


def _sklearn_graph(g: _Graph, x: str, sm: SklearnModel, n_var: int, n_classes: int) -> str:
    """skl2onnx's graph of the estimator (``predict_proba``, no ZipMap), inlined; columns by class."""
    from ..extras import skl2onnx as skl2onnx_extra

    skl2onnx = skl2onnx_extra()
    import onnx
    from skl2onnx.common.data_types import FloatTensorType

    try:
        net = skl2onnx.convert_sklearn(
            sm.estimator,
            initial_types=[("input", FloatTensorType([None, n_var]))],
            target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
            options={id(sm.estimator): {"zipmap": False}},
        )
    except Exception as exc:
        raise ModelError(
            f"skl2onnx could not convert the {type(sm.estimator).__name__}: {type(exc).__name__}: {exc}"
        ) from exc
    prefix = g.name("skl") + "/"
    net = onnx.compose.add_prefix(net, prefix)
    graph = net.graph
    outputs = [o.name for o in graph.output]
    proba = next((o for o in outputs if o.endswith("probabilities")), outputs[-1])
    g.nodes.append(g.h.make_node("Identity", [x], [prefix + "input"]))
    g.nodes.extend(graph.node)
    g.inits.extend(graph.initializer)
    out = g.op("Identity", proba)
    if sm.columns != list(range(n_classes)):
        place = np.zeros((len(sm.columns), n_classes), dtype=np.float32)
        place[np.arange(len(sm.columns)), sm.columns] = 1.0
        out = g.op("MatMul", out, g.const(place, np.float32))
    return out


def to_onnx(model: ExportModel) -> bytes:
    """The serialised ONNX model (``ModelProto`` bytes) of ``model``; see the module docstring.

    Raises
    ------
    MissingExtraError
        Without the ``onnx`` package, or ``skl2onnx`` for a scikit-learn method
        (``pip install pymva[export]``).
    ModelError
        When ``torch.onnx.export`` fails on a PyTorch model, or skl2onnx on a scikit-learn one.
    """
    from ..extras import onnx as onnx_extra

    onnx = onnx_extra()
    tp = onnx.TensorProto
    g = _Graph(onnx)
    n = model.n_variables
    bad_el = g.op("Or", g.op("IsNaN", "x"), g.op("IsInf", "x"))
    bad = g.op("ReduceMax", g.cast(bad_el, "float"), g.const([1], np.int64), keepdims=1)
    bad = g.op("Greater", bad, g.const(0.0, np.float32))  # (N, 1)
    x = g.op("Where", bad_el, g.const(0.0, np.float32), "x")
    x = _transforms(g, x, model)
    m = model.model
    if isinstance(m, LinearModel):
        raw = _linear(g, x, m)
    elif isinstance(m, ForestModel):
        raw = g.cast(_forest(g, x, m), "float")
    elif isinstance(m, SklearnModel):
        raw = _sklearn_graph(g, x, m, n, model.n_raw)
    elif isinstance(m, AnnModel):
        raw = _ann(g, x, m)
    elif isinstance(m, SvmModel):
        raw = _svm(g, x, m)
    elif isinstance(m, HMatrixModel):
        raw = _hmatrix(g, x, m, n)
    else:
        raw = _torch_graph(g, x, m, n)
    if model.select is not None:
        raw = g.op("Gather", raw, g.const([model.select], np.int64), axis=1)
    for idx, lo, s2, ok in model.target_steps:
        # TMVA's InverseTransform in float32: lo + (t + 1)/s2 (lo for a constant target)
        f32 = np.float32
        t = _columns(g, raw, idx, model.n_raw)
        t = g.op("Add", g.const(lo, f32), g.op("Div", g.op("Add", t, g.const(1.0, f32)), g.const(s2, f32)))
        if not ok.all():
            t = g.op("Where", g.const(ok, bool), t, g.const(lo, f32))
        raw = _put_back(g, raw, t, idx, model.n_raw)
    out = g.op("Where", bad, g.const(NAN_RESPONSE, np.float32), raw)
    if model.kind == "mva":
        out = g.op("Reshape", out, g.const([-1], np.int64))
    g.nodes.append(g.h.make_node("Identity", [out], ["y"]))
    shape_out: list[Any] = ["N"] if model.kind == "mva" else ["N", model.n_outputs]
    graph = g.h.make_graph(
        g.nodes,
        f"pymva_{model.name}",
        [g.h.make_tensor_value_info("x", tp.FLOAT, ["N", n])],
        [g.h.make_tensor_value_info("y", tp.FLOAT, shape_out)],
        initializer=g.inits,
        doc_string=f"pymva export of {model.method_type} '{model.name}'; variables: {', '.join(model.variables)}",
    )
    proto = g.h.make_model(
        graph,
        opset_imports=[g.h.make_opsetid("", OPSET)]
        + ([g.h.make_opsetid("ai.onnx.ml", ML_OPSET)] if isinstance(m, SklearnModel) else []),
        producer_name="pymva",
        ir_version=IR_VERSION,
    )
    for i, v in enumerate(model.variables):
        entry = proto.metadata_props.add()
        entry.key, entry.value = f"variable_{i}", v
    onnx.checker.check_model(proto, full_check=True)
    return bytes(proto.SerializeToString())
