"""What an exported graph computes: a trained method as plain arrays, transforms folded in.

:func:`describe_method` turns a booked method (:class:`~pymva.methods.base.MethodBase`, as the
:class:`~pymva.reader.Reader` re-creates it from a weights file) into an :class:`ExportModel`: the
chain of variable transformations as :class:`TransformStep` objects, the method itself
(:class:`LinearModel`, :class:`ForestModel` or :class:`TorchModel`) and what happens to its raw
outputs (the signal-class column, or the inverse target transformation for regression).  The ONNX
(:mod:`pymva.export.onnx_graph`) and C++ (:mod:`pymva.export.cpp`) writers turn this description
into a graph or code; both compute what ``Reader.EvaluateMVA`` / ``EvaluateRegression`` /
``EvaluateMulticlass`` compute, step for step:

* each transformation element in float64 on the float32 values, rounded to float32 after it
  (``TransformationHandler.transform_variables``), but Normalize, which is TMVA's float32
  arithmetic ``(x − min)·s2 − 1`` with ``s2 = 2·(float)(1/(max − min))`` (0 for a constant input;
  :func:`pymva.transforms.normalize.float32_terms`); Decorrelate ``x M^T``, PCA ``(x − mean) E``, Gauss and Uniform the
  10000-bin reference cumulative distribution of ``PDF::GetVal`` (linear interpolation between
  bin centres, :class:`~pymva.transforms.gauss.CumulativeDistribution`), clipped to
  ``[1e-9, 1 − 1e-9]``, Gauss then ``1.414213562 · erfinv(clip(2c − 1, ±0.99999999))`` with
  :mod:`pymva.export.erfinv`'s polynomials;
* Fisher (``MethodFisher::GetMvaValue``) and LD (``MethodLD::GetMvaValue``/``GetRegressionValues``):
  offset plus coefficients times variables;
* BDT (``MethodBDT::GetMvaValue``/``GetMulticlassValues``/``GetRegressionValues``): every tree's
  walk from the root (right daughter when ``(x >= cut) == cType``, ``x > cut`` for the strict cuts of
  old files), the boost-weighted average of the leaf values, ``2/(1 + e^{−2F}) − 1`` for gradient
  boost, the class-wise softmax of the sums for multiclass, ``F + F0`` for gradient-boost regression;
* MLP (``MethodMLP::GetMvaValue``/``GetRegressionValues``/``GetMulticlassValues``): the network in
  float64 with TMVA's neuron input and activation functions (the fast tanh in float), output 0 for
  classification, the softmax of the outputs for multiclass;
* DL (``MethodDL::GetMvaValue``/…): the network (float32, as trained) then its output function
  (sigmoid, the signal column for classification; softmax ``M``), see :func:`_dl`;
* HMatrix: both χ² from the event transformed with each class's parameters (:class:`HMatrixModel`);
* SVM: the kernel sum over the support vectors (:class:`SvmModel`);
* PyTorch: the TorchScript model as ``pymva.pytorch.predict`` runs it;
* PyRandomForest, PyAdaBoost, PyGTB: the estimator's ``predict_proba`` (ONNX through skl2onnx; C++
  through its trees, :func:`_sklearn_forest`), the signal-class column for classification.

Events with a NaN or infinite input variable get ``-999`` for every output, as in the Reader.

Not exportable (:class:`~pymva.errors.ModelError` naming the method): every other method, a BDT with
``BoostType=AdaBoostR2`` or with Fisher cuts in its nodes, a PyTorch method with its own
``predict_func``, a DL classification with a softmax (``MUTUALEXCLUSIVE``) output, an inverse target
transformation other than Normalize.  Per format the writers refuse more (C++: networks that are
not a chain of the supported layers, scikit-learn classifiers without a tree form; TorchScript:
``.pt2`` networks; TorchScript and ``torch.export``: the scikit-learn methods).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ..errors import ModelError
from ..methods.base import MethodBase
from ..transforms.decorrelate import Decorrelate
from ..transforms.gauss import Gauss
from ..transforms.identity import Identity
from ..transforms.normalize import Normalize, float32_terms
from ..transforms.pca import PCA
from ..types import EAnalysisType

__all__ = [
    "EXPORTABLE",
    "SKLEARN_METHODS",
    "AnnModel",
    "CdfStep",
    "ExportModel",
    "ForestModel",
    "LinearModel",
    "MatrixStep",
    "NormalizeStep",
    "SklearnModel",
    "TorchModel",
    "TransformStep",
    "describe_method",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: The method types that can be exported (what the error message of the others lists).
EXPORTABLE = (
    "Fisher",
    "LD",
    "BDT",
    "HMatrix",
    "MLP",
    "DL",
    "SVM",
    "PyTorch",
    "PyRandomForest",
    "PyAdaBoost",
    "PyGTB",
)

#: The scikit-learn based methods (ONNX through skl2onnx, C++ through their trees).
SKLEARN_METHODS = ("PyRandomForest", "PyAdaBoost", "PyGTB")

#: What the Reader returns for an event with a NaN or infinite input (``NAN_RESPONSE``).
NAN_RESPONSE = -999.0


@dataclass
class NormalizeStep:
    """Normalize on the variables ``idx``: ``(x − lo)·s2 − 1`` in float32 steps, 0 where ``ok`` is false.

    ``lo`` and ``s2`` are float32 (:func:`~pymva.transforms.normalize.float32_terms`; ``s2`` is 0
    where ``ok`` is false), each operation rounded to float32 as TMVA's ``Float_t`` arithmetic.
    """

    idx: list[int]
    lo: npt.NDArray[np.float32]
    s2: npt.NDArray[np.float32]
    ok: npt.NDArray[np.bool_]


@dataclass
class MatrixStep:
    """Decorrelate (``mean`` None: ``x M^T``) or PCA (``(x − mean) M``) on the variables ``idx``.

    ``matrix`` is stored so that the step is always ``(x − mean) @ matrix``.
    """

    idx: list[int]
    matrix: F64
    mean: F64 | None


@dataclass
class CdfStep:
    """Gauss (``gauss``) or Uniform on the variables ``idx``.

    Per variable ``(start, width, fine)``: the first bin centre, the bin width and the 10000
    reference-histogram contents (float32 values); ``None`` for a degenerate input (``c = 0.5``).
    """

    idx: list[int]
    tables: list[tuple[float, float, F64] | None]
    gauss: bool


TransformStep = NormalizeStep | MatrixStep | CdfStep

#: The inverse Normalize of regression targets: (target columns, ``lo``, ``s2``, ``ok``), float32;
#: ``lo + (t + 1)/s2`` in float32 steps (TMVA's ``InverseTransform``), ``lo`` where ``ok`` is false
#: (a constant target; ``s2`` is 1 there).
TargetStep = tuple[list[int], npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.bool_]]


@dataclass
class LinearModel:
    """``offset + weights @ x`` per output (Fisher: one output; LD: one per target).

    ``float32_sum``: LD adds the terms in float32 one after the other (TMVA's ``Float_t``).
    """

    weights: F64  # (n_out, n_var)
    offset: F64  # (n_out,)
    float32_sum: bool


@dataclass
class ForestModel:
    """All trees as one padded node array; leaves point to themselves.

    ``combine``: ``average`` (Σ value / norm, the values already times the boost weight),
    ``grad`` (``2/(1+e^{−2F})−1``), ``grad_regression`` (``F + f0``), ``multiclass`` (softmax of
    the per-class sums, tree ``t`` adds to class ``t % n_classes``), ``class_average`` (the
    per-class sums, tree ``t`` adding to class ``t % n_classes``, over ``norm``) and ``logistic``
    (``1/(1+e^{−F})``); the last two only for the scikit-learn forests, and only in C++.
    """

    roots: I64  # (n_trees,) index of each tree's root
    ivar: I64
    cut: npt.NDArray[np.float32]
    ge_right: npt.NDArray[np.bool_]  # right daughter when (x >= cut) == ge_right (or x > cut, strict)
    left: I64
    right: I64
    value: F64
    depth: int
    strict: bool
    combine: Literal["average", "grad", "grad_regression", "multiclass", "class_average", "logistic"]
    norm: float = 1.0
    f0: float = 0.0
    n_classes: int = 1


@dataclass
class TorchModel:
    """A PyTorch network (``module``); ``layers``: its dense layers when it is a plain sequence."""

    module: Any
    layers: list[tuple[str, dict[str, Any]]] | None
    layer_problem: str = ""


@dataclass
class AnnModel:
    """TMVA's MLP network (``MethodANNBase``) in float64: per layer ``a ← act(input(a, W))``.

    ``weights[l]``: ``(n_l + 1, n_{l+1})``, the last row the bias neuron's.  ``input_type``: ``sum``
    (``[a, 1] @ W``), ``sqsum`` (``[a, 1]² @ W²``) or ``abssum`` (``|[a, 1]| @ |W|``).  Activations
    (``hidden`` for all layers but the last, ``output`` for it): ``linear``, ``sigmoid``, ``tanh``
    (``fast_tanh``: TMVA's float rational approximation), ``ReLU``, ``radial`` (``e^{−x²/2}``).
    ``softmax``: multiclass, the softmax of the outputs.
    """

    weights: list[F64]
    hidden: str
    output: str
    input_type: str
    fast_tanh: bool
    softmax: bool


@dataclass
class HMatrixModel:
    """TMVA's H-matrix discriminant (``MethodHMatrix::GetMvaValue``): ``(χ²_B − χ²_S)/(χ²_S + χ²_B)``.

    ``χ²_c = (x_c − m_c)ᵀ H_c (x_c − m_c)`` in float64, ``x_c`` the event transformed with class
    ``c``'s parameter set (``steps_s``, ``steps_b``; the model's own ``steps`` are then empty).
    """

    mean_s: F64
    mean_b: F64
    inv_s: F64
    inv_b: F64
    steps_s: list[TransformStep]
    steps_b: list[TransformStep]


@dataclass
class SvmModel:
    """TMVA's SVM (``MethodSVM::GetMvaValue``/``GetRegressionValues``): ``s = Σ_i c_i K(x_i, x)``.

    The kernel in float32 as :class:`~pymva.methods.svkernelfunction.SVKernelFunction` evaluates it
    (``kernel``: ``RBF``, ``MultiGauss``, ``Polynomial``, or ``Prod``/``Sum`` of ``kernels``), the
    float32 products ``K·c_i`` summed in float64; classification ``1/(1 + e^{s − b})``, regression
    ``s + b`` (rounded to float32).
    """

    support_vectors: npt.NDArray[np.float32]  # (n_sv, n_var)
    coef: npt.NDArray[np.float32]  # (n_sv,)
    bias: float
    kernel: str
    kernels: tuple[str, ...]
    gamma: float
    gammas: tuple[float, ...]
    order: int
    theta: float
    regression: bool

    @property
    def elementary(self) -> tuple[str, ...]:
        """The kernels combined (``kernels`` for Prod/Sum, else the kernel itself)."""
        return self.kernels if self.kernel in ("Prod", "Sum") else (self.kernel,)


@dataclass
class SklearnModel:
    """A fitted scikit-learn classifier (``estimator``) whose ``predict_proba`` the method returns.

    ``columns``: the class index of each ``predict_proba`` column (``estimator.classes_``).
    ``forest``: the same classifier as a :class:`ForestModel` giving the method's outputs (the
    signal-class column for ``mva``), or ``None`` and why not (``forest_problem``) — what the C++
    writer needs.
    """

    estimator: Any
    columns: list[int]
    forest: ForestModel | None
    forest_problem: str = ""


@dataclass
class ExportModel:
    """One method ready to be written as ONNX or C++ (see the module docstring).

    ``kind``: ``mva`` (output shape ``(N,)``), ``regression`` (``(N, n_targets)``) or ``multiclass``
    (``(N, n_classes)``).  ``select``: the column of the method's raw outputs returned for ``mva``
    (None: the method already gives that one column).  ``target_steps``: the inverse Normalize of the
    targets (:data:`TargetStep`) applied to regression outputs.
    """

    name: str
    method_type: str
    kind: Literal["mva", "regression", "multiclass"]
    variables: list[str]
    steps: list[TransformStep]
    model: LinearModel | ForestModel | TorchModel | SklearnModel | AnnModel | SvmModel | HMatrixModel
    n_raw: int
    select: int | None
    target_steps: list[TargetStep] = field(default_factory=list)

    @property
    def n_variables(self) -> int:
        """Number of input variables."""
        return len(self.variables)

    @property
    def n_outputs(self) -> int:
        """Number of outputs per event (1 for ``mva``)."""
        return 1 if self.kind == "mva" else self.n_raw


def _refuse(method: MethodBase, why: str) -> ModelError:
    return ModelError(
        f"method {method.method_name} cannot be exported: {why}; exportable are {', '.join(EXPORTABLE)} "
        "(BDT without AdaBoostR2 and Fisher cuts; PyTorch with the ready-made predict_func; the "
        "scikit-learn methods to C++ with tree estimators only)"
    )


def _variable_positions(method: MethodBase, el: Any) -> tuple[list[int], list[int]]:
    pos = [j for j, r in enumerate(el.inputs) if r.kind == "v"]
    if len(pos) < el.n_inputs and not el.elementwise:
        raise _refuse(
            method, f"the variable transformation {el.letter} mixes variables with targets or spectators"
        )
    return pos, [el.inputs[j].index for j in pos]


def _transform_steps(method: MethodBase, class_index: int | None = None) -> list[TransformStep]:
    steps: list[TransformStep] = []
    for el in method.transformations.elements:
        if isinstance(el, Identity):
            continue
        pos, idx = _variable_positions(method, el)
        if not idx:
            continue
        params = el.params_[el.set_index(class_index)]
        if isinstance(el, Normalize):
            lo32, s2, ok = float32_terms(*(np.asarray(a, dtype=np.float64)[pos] for a in params))
            steps.append(NormalizeStep(idx, lo32, np.where(ok, s2, np.float32(0.0)), ok))
        elif isinstance(el, Decorrelate):
            if params is not None:
                steps.append(MatrixStep(idx, np.asarray(params, dtype=np.float64).T.copy(), None))
        elif isinstance(el, PCA):
            if params is not None:
                mean, vec = params
                steps.append(
                    MatrixStep(idx, np.asarray(vec, dtype=np.float64), np.asarray(mean, dtype=np.float64))
                )
        elif isinstance(el, Gauss):  # Uniform is a Gauss with flat=True
            tables: list[tuple[float, float, F64] | None] = []
            for j in pos:
                cd = params[j]
                tables.append(
                    None
                    if cd.degenerate
                    else (float(cd.xmin + 0.5 * cd.width), float(cd.width), np.asarray(cd.fine, np.float64))
                )
            steps.append(CdfStep(idx, tables, not el.flat))
        else:
            raise _refuse(method, f"the variable transformation {el.letter} has no exported form")
    return steps


def _target_steps(method: MethodBase) -> list[TargetStep]:
    out: list[TargetStep] = []
    for el in reversed(method.transformations.elements):
        pos = [j for j, r in enumerate(el.inputs) if r.kind == "t"]
        if not pos or isinstance(el, Identity):
            continue
        if not isinstance(el, Normalize):
            raise _refuse(
                method,
                f"the inverse of the target transformation {el.letter} is not exported (only Normalize, N)",
            )
        lo32, s2, ok = float32_terms(
            *(np.asarray(a, dtype=np.float64)[pos] for a in el.params_[el.set_index()])
        )
        out.append(([el.inputs[j].index for j in pos], lo32, np.where(ok, s2, np.float32(1.0)), ok))
    return out


def _linear(method: Any) -> LinearModel:
    if method.method_type.type_name == "Fisher":
        if method.coefficients_ is None or method.offset_ is None:
            raise _refuse(method, "it holds no Fisher coefficients")
        w = np.asarray(method.coefficients_, dtype=np.float64).reshape(1, -1)
        return LinearModel(w, np.array([float(method.offset_)]), float32_sum=False)
    coeff = np.asarray(method.coefficients_, dtype=np.float64)
    rows = coeff if method.context.analysis_type == EAnalysisType.kRegression else coeff[:1]
    return LinearModel(rows[:, 1:].copy(), rows[:, 0].copy(), float32_sum=True)


def _forest(method: Any) -> ForestModel:
    from ..methods.bdt import _EPS

    st = method._settings()
    if st.boost == "AdaBoostR2":
        raise _refuse(method, "BoostType=AdaBoostR2 (a weighted median of the trees) is not exported")
    trees = method.forest_
    if not trees:
        raise _refuse(method, "the forest is empty")
    if any(bool((t.n_coef > 0).any()) for t in trees):
        raise _refuse(method, "its trees have Fisher cuts in their nodes (UseFisherCuts)")
    at = method.context.analysis_type
    multiclass = at == EAnalysisType.kMulticlass
    regression = at == EAnalysisType.kRegression
    grad = st.boost == "Grad"
    bws = [1.0] * len(trees) if (grad or multiclass) else [float(b) for b in method.boost_weights_]
    roots, ivar, cut, ger, left, right, value = [], [], [], [], [], [], []
    offset = 0
    depth = 0
    for tree, bw in zip(trees, bws, strict=True):
        n = tree.n_nodes
        own = np.arange(offset, offset + n, dtype=np.int64)
        leaf = tree.node_type != 0
        roots.append(offset)
        ivar.append(np.where(leaf, 0, np.maximum(tree.ivar, 0)).astype(np.int64))
        cut.append(np.where(leaf, 0.0, tree.cut).astype(np.float32))
        ger.append(np.asarray(tree.cut_type, dtype=bool))
        left.append(np.where(leaf, own, tree.left + offset).astype(np.int64))
        right.append(np.where(leaf, own, tree.right + offset).astype(np.int64))
        if grad or multiclass:
            leafv = tree.response.astype(np.float64)
        else:
            leafv = bw * tree.leaf_values(st.yes_no_leaf if not regression else False)
        value.append(np.asarray(leafv, dtype=np.float64))
        depth = max(depth, tree.max_depth)
        offset += n
    norm = float(sum(bws))
    combine: Literal["average", "grad", "grad_regression", "multiclass"]
    if multiclass:
        combine = "multiclass"
    elif regression:
        combine = "grad_regression" if grad else "average"
    else:
        combine = "grad" if grad else "average"
    if combine == "average" and not norm > _EPS:
        raise _refuse(method, "the sum of its boost weights is zero")
    return ForestModel(
        roots=np.array(roots, dtype=np.int64),
        ivar=np.concatenate(ivar),
        cut=np.concatenate(cut),
        ge_right=np.concatenate(ger),
        left=np.concatenate(left),
        right=np.concatenate(right),
        value=np.concatenate(value),
        depth=depth,
        strict=bool(method.strict_cuts_),
        combine=combine,
        norm=norm,
        f0=float(method.boost_weights_[0]) if combine == "grad_regression" else 0.0,
        n_classes=method.context.n_classes,
    )


def _torch(method: Any) -> TorchModel:
    from .. import pytorch as ready_made
    from .torchlayers import dense_layers

    model = method._load_for_prediction()
    predict = method._objects.predict if method._objects is not None else None
    if predict is not ready_made.predict:
        raise _refuse(
            method,
            "it evaluates through its own predict_func; the exported graph runs model(x) as "
            "pymva.pytorch.predict does (give predict_func=pymva.pytorch.predict)",
        )
    layers, problem = dense_layers(model, method.context.n_variables, method.context.n_outputs)
    return TorchModel(model, layers, problem)


def describe_method(method: MethodBase, name: str | None = None) -> ExportModel:
    """The :class:`ExportModel` of a booked (trained) method.

    Parameters
    ----------
    method : MethodBase
        A method as ``Reader.BookMVA`` returns it.
    name : str, optional
        The model's name in the files (default: the method's title).

    Raises
    ------
    ModelError
        For a method (or a configuration of it) that cannot be exported; the message names the method
        and lists what can be exported.  A method type outside :data:`EXPORTABLE` is refused before
        anything else is looked at.
    NotTrainedError
        For an exportable method that is neither trained nor read from a weights file.
    """
    type_name = method.method_type.type_name
    if type_name not in EXPORTABLE:
        raise _refuse(method, f"no exported form of {type_name}")
    method.check_trained()
    at = method.context.analysis_type
    steps = _transform_steps(method)
    model: LinearModel | ForestModel | TorchModel | SklearnModel | AnnModel | SvmModel | HMatrixModel
    if type_name in ("Fisher", "LD"):
        model = _linear(method)
    elif type_name == "BDT":
        model = _forest(method)
    elif type_name in SKLEARN_METHODS:
        model = _sklearn(method)
    elif type_name == "MLP":
        model = _ann(method)
    elif type_name == "DL":
        model = _dl(method)
    elif type_name == "SVM":
        model = _svm(method)
    elif type_name == "HMatrix":
        model = _hmatrix(method)
        steps = []
    else:
        model = _torch(method)
    kind: Literal["mva", "regression", "multiclass"]
    if at == EAnalysisType.kClassification:
        kind = "mva"
    elif at == EAnalysisType.kRegression:
        kind = "regression"
    else:
        kind = "multiclass"
    n_raw = method.context.n_outputs
    select: int | None = None
    if isinstance(model, TorchModel | SklearnModel) and kind == "mva" and type_name != "DL":
        select = method.context.signal_class
    if type_name == "DL" and kind == "mva":
        n_raw = 1  # the DL module gives the signal output only
    if not isinstance(model, TorchModel | SklearnModel):
        n_raw = 1 if kind == "mva" else n_raw
    return ExportModel(
        name=name or method.title,
        method_type=type_name,
        kind=kind,
        variables=[v.expression for v in method.context.variables],
        steps=steps,
        model=model,
        n_raw=n_raw,
        select=select,
        target_steps=_target_steps(method) if kind == "regression" else [],
    )


def _cut_below(threshold: F64) -> npt.NDArray[np.float32]:
    """The largest float32 ``c <= threshold``: for a float32 ``x``, ``x > threshold ⇔ x > c``."""
    c = threshold.astype(np.float32)
    above = c.astype(np.float64) > threshold
    c[above] = np.nextafter(c[above], np.float32(-np.inf))
    return c


def _pack_sklearn(
    trees: list[tuple[Any, F64]],
    combine: Literal["average", "multiclass", "class_average", "logistic"],
    norm: float,
    n_classes: int,
) -> ForestModel:
    """scikit-learn trees (``tree_`` objects, each with one value per node) as a :class:`ForestModel`.

    scikit-learn goes left when ``x <= threshold``: here right when ``x > cut`` (strict cuts,
    ``ge_right`` everywhere) with the threshold rounded down to float32 (:func:`_cut_below`).  A tree
    given as ``None`` is a single leaf (a constant term).
    """
    roots, ivar, cut, left, right, value = [], [], [], [], [], []
    offset = 0
    depth = 0
    for tree, leafv in trees:
        if tree is None:
            n = 1
            ivar.append(np.zeros(1, np.int64))
            cut.append(np.zeros(1, np.float32))
            left.append(np.array([offset], np.int64))
            right.append(np.array([offset], np.int64))
        else:
            n = int(tree.node_count)
            own = np.arange(offset, offset + n, dtype=np.int64)
            leaf = np.asarray(tree.children_left) < 0
            ivar.append(np.where(leaf, 0, np.asarray(tree.feature)).astype(np.int64))
            cut.append(np.where(leaf, np.float32(0.0), _cut_below(np.asarray(tree.threshold, np.float64))))
            left.append(np.where(leaf, own, np.asarray(tree.children_left) + offset).astype(np.int64))
            right.append(np.where(leaf, own, np.asarray(tree.children_right) + offset).astype(np.int64))
            depth = max(depth, int(tree.max_depth))
        roots.append(offset)
        value.append(np.asarray(leafv, dtype=np.float64).reshape(n))
        offset += n
    return ForestModel(
        roots=np.array(roots, dtype=np.int64),
        ivar=np.concatenate(ivar),
        cut=np.concatenate(cut).astype(np.float32),
        ge_right=np.ones(offset, dtype=bool),
        left=np.concatenate(left),
        right=np.concatenate(right),
        value=np.concatenate(value),
        depth=depth,
        strict=True,
        combine=combine,
        norm=norm,
        n_classes=n_classes,
    )


def _class_fractions(tree: Any) -> F64:
    v = np.asarray(tree.value, dtype=np.float64)[:, 0, :]  # (n_nodes, n_classes of the tree)
    s = v.sum(axis=1, keepdims=True)
    out: F64 = np.divide(v, s, out=np.zeros_like(v), where=s > 0)
    return out


def _is_tree(est: Any) -> bool:
    return hasattr(est, "tree_") and type(est).__name__ in (
        "DecisionTreeClassifier",
        "ExtraTreeClassifier",
        "DecisionTreeRegressor",
        "ExtraTreeRegressor",
    )


def _sklearn_forest(clf: Any, n_classes: int, signal: int, mva: bool) -> tuple[ForestModel | None, str]:
    """The classifier's ``predict_proba`` (its signal column for ``mva``) as trees (see :class:`ForestModel`).

    RandomForestClassifier: the average of the trees' class fractions; AdaBoostClassifier (SAMME):
    ``softmax(f/(K−1))`` of the weighted votes ``f_c = Σ w_i (1 if tree i votes c else −1/(K−1)) / Σ w``
    (two classes: ``1/(1+e^{−2 f_1})``); GradientBoostingClassifier: the logistic (exponential loss:
    of twice) or softmax of ``F_c = init_c + learning_rate · Σ tree values``.
    """
    kind = type(clf).__name__
    classes = np.asarray(clf.classes_).astype(np.int64)
    if not np.array_equal(classes, np.arange(n_classes)):
        return None, f"it was trained on the classes {classes.tolist()} of {n_classes}"
    K = n_classes
    if kind == "RandomForestClassifier":
        fr = [(e.tree_, _class_fractions(e.tree_)) for e in clf.estimators_]
        if mva:
            return _pack_sklearn([(t, f[:, signal]) for t, f in fr], "average", float(len(fr)), 1), ""
        return _pack_sklearn(
            [(t, f[:, c]) for t, f in fr for c in range(K)], "class_average", float(len(fr)), K
        ), ""
    if kind == "AdaBoostClassifier":
        if not all(_is_tree(e) for e in clf.estimators_):
            return None, "its base estimator is not a decision tree"
        total = float(np.sum(clf.estimator_weights_))
        out: list[tuple[Any, F64]] = []
        for e, w in zip(clf.estimators_, clf.estimator_weights_, strict=True):
            vote = np.asarray(e.classes_).astype(np.int64)[np.argmax(_class_fractions(e.tree_), axis=1)]
            out.extend(
                (e.tree_, np.where(vote == c, float(w), -float(w) / (K - 1)) / total)
                for c in ([1] if mva or K == 2 else range(K))
            )
        if K == 2:
            if mva:
                sign = 2.0 if signal == 1 else -2.0
                return _pack_sklearn([(t, sign * v) for t, v in out], "logistic", 1.0, 1), ""
            return None, "the two-class probabilities of AdaBoost are not written as C++"
        if mva:
            return None, "a multiclass AdaBoost's single-class output is not written as C++"
        return _pack_sklearn([(t, v / (K - 1)) for t, v in out], "multiclass", 1.0, K), ""
    if kind == "GradientBoostingClassifier":
        probe = np.random.default_rng(7).normal(0.0, 3.0, size=(64, clf.n_features_in_)).astype(np.float32)
        try:  # scikit-learn's own start values (no public accessor)
            init = np.asarray(clf._raw_predict_init(probe), dtype=np.float64)
        except (AttributeError, TypeError, ValueError) as exc:
            return None, f"its start values cannot be read from scikit-learn ({type(exc).__name__})"
        if not np.all(init == init[:1]):
            return None, "its Init estimator's prediction depends on the variables"
        lr = float(clf.learning_rate)
        stages = clf.estimators_  # (n_stages, K or 1)
        if stages.shape[1] == 1:
            scale = 2.0 if clf.loss == "exponential" else 1.0
            sign = scale if signal == 1 else -scale
            trees: list[tuple[Any, F64]] = [(None, np.array([sign * init[0, 0]]))]
            trees += [(e.tree_, sign * lr * e.tree_.value[:, 0, 0]) for e in stages[:, 0]]
            if mva:
                return _pack_sklearn(trees, "logistic", 1.0, 1), ""
            return None, "the two-class probabilities of gradient boosting are not written as C++"
        if mva:
            return None, "a multiclass gradient boosting's single-class output is not written as C++"
        trees = [(None, np.array([init[0, c]])) for c in range(K)]
        trees += [(e.tree_, lr * e.tree_.value[:, 0, 0]) for row in stages for e in row]
        return _pack_sklearn(trees, "multiclass", 1.0, K), ""
    return None, f"its estimator is a {kind}"


def _sklearn(method: Any) -> SklearnModel:
    clf = method._classifier()
    mva = method.context.analysis_type == EAnalysisType.kClassification
    forest, problem = _sklearn_forest(clf, method.context.n_classes, method.context.signal_class, mva)
    columns = [int(c) for c in np.asarray(clf.classes_).astype(np.int64)]
    return SklearnModel(clf, columns, forest, problem)


def _ann(method: Any) -> AnnModel:
    from ..methods import annbase

    if method.weights_ is None:
        raise _refuse(method, "it holds no network")
    opts: Any = method.options
    for name, value in (("NeuronType", opts.NeuronType), ("output", method.output_type)):
        if value not in annbase.ACTIVATIONS:
            raise _refuse(method, f"its {name} '{value}' has no exported form")
    return AnnModel(
        weights=[np.asarray(W, dtype=np.float64) for W in method.weights_],
        hidden=str(opts.NeuronType),
        output=str(method.output_type),
        input_type=str(opts.NeuronInputType),
        fast_tanh=bool(method._fast_tanh),
        softmax=method.context.analysis_type == EAnalysisType.kMulticlass,
    )


_DL_ACTIVATIONS = {0: None, 1: "ReLU", 2: "Sigmoid", 3: "Tanh"}


def _dl_layers(net: Any, fn: str, col: int | None) -> tuple[list[tuple[str, dict[str, Any]]] | None, str]:
    """The DL network as dense layers for the C++ writer, or ``None`` and why not."""
    from .torchlayers import _array

    layers: list[tuple[str, dict[str, Any]]] = []
    dense = [i for i, layer in enumerate(net.layers) if layer.kind == "DENSE"]
    for i, layer in enumerate(net.layers):
        if layer.kind == "DENSE":
            act = _DL_ACTIVATIONS.get(int(layer.activation), "?")
            if act == "?":
                return (
                    None,
                    f"its dense layer {i} has an activation the C++ writer lacks (code {layer.activation})",
                )
            w, b = _array(layer.weight), _array(layer.bias)
            if col is not None and i == dense[-1]:
                w, b = w[col : col + 1], b[col : col + 1]
            layers.append(("Linear", {"weight": w, "bias": b}))
            if act is not None:
                layers.append((act, {}))
        elif layer.kind == "BNORM" and len(layer.in_shape) == 1:
            bn = layer.norm
            mean, var = _array(bn.running_mean), _array(bn.running_var)
            w, b = _array(bn.weight), _array(bn.bias)
            scale = w / np.sqrt(var + float(bn.eps))
            layers.append(
                (
                    "BatchNorm1d",
                    {"scale": scale, "shift": b - mean * scale, "mean": mean, "var": var, "weight": w,
                     "bias": b, "eps": float(bn.eps)},
                )
            )  # fmt: skip
        elif layer.kind == "RESHAPE" and len(layer.out_shape) == 1:
            continue
        else:
            return None, f"its layer {i} is a {layer.kind} layer; the C++ writer takes DENSE and BNORM layers"
    if (
        col is not None
        and dense
        and dense[-1] != max(i for i, layer in enumerate(net.layers) if layer.kind != "RESHAPE")
    ):
        return None, "its last layer is not a dense layer"
    if fn == "S":
        layers.append(("Sigmoid", {}))
    elif fn == "M":
        layers.append(("Softmax", {"dim": 1}))
    return layers, ""


def _dl(method: Any) -> TorchModel:
    import torch

    net = method.net_
    if net is None:
        raise _refuse(method, "it holds no network")
    fn = str(method.output_function_)
    ctx = method.context
    width = int(net.output_width)
    col: int | None = None
    if ctx.analysis_type == EAnalysisType.kClassification:
        col = 0 if (fn == "S" and width == 1) else ctx.signal_class
        if fn == "M":
            raise _refuse(
                method, "a two-class softmax output (MUTUALEXCLUSIVE) of a classification is not exported"
            )

    class DLResponse(torch.nn.Module):
        """The DL network and its output function; the signal column for classification."""

        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raw: torch.Tensor = self.net(x)
            if fn == "M":
                raw = torch.softmax(raw, dim=1)
            elif fn == "S":
                raw = torch.sigmoid(raw)
            return raw if col is None else raw[:, col : col + 1]

    module = DLResponse().eval()
    layers, problem = _dl_layers(net, fn, col)
    if layers is not None:
        from .torchlayers import evaluate_layers

        probe = np.random.default_rng(12345).normal(0.0, 2.0, size=(64, ctx.n_variables)).astype(np.float32)
        with torch.inference_mode():
            ref = module(torch.from_numpy(probe)).double().numpy()
        if not np.allclose(
            evaluate_layers(layers, probe), ref, rtol=0.0, atol=1e-4 * (1.0 + np.abs(ref).max())
        ):
            layers, problem = None, "its layers do not reproduce its output"
    return TorchModel(module, layers, problem)


def _svm(method: Any) -> SvmModel:
    k = method.kernel_
    sv = method.support_vectors_
    if (
        sv is None
        or k is None
        or method.alpha_ is None
        or method.alpha_p_ is None
        or method.type_flag_ is None
    ):
        raise _refuse(method, "it holds no support vectors")
    regression = method.context.analysis_type == EAnalysisType.kRegression
    if regression:
        coef = (method.alpha_ - method.alpha_p_).astype(np.float32)
    else:
        coef = (method.alpha_ * method.type_flag_.astype(np.float32)).astype(np.float32)
    if "MultiGauss" in (k.kernel, *k.kernels) and len(k.gammas) != method.context.n_variables:
        raise _refuse(method, "its MultiGauss kernel has not one gamma per variable")
    return SvmModel(
        support_vectors=np.asarray(sv, dtype=np.float32),
        coef=np.asarray(coef, dtype=np.float32),
        bias=float(method.bparm_),
        kernel=str(k.kernel),
        kernels=tuple(k.kernels),
        gamma=float(k.gamma),
        gammas=tuple(float(g) for g in k.gammas),
        order=int(k.order),
        theta=float(k.theta),
        regression=regression,
    )


def _hmatrix(method: Any) -> HMatrixModel:
    ms, mb, hs, hb = method._parameters()
    sig, bkg = method._classes()
    return HMatrixModel(
        mean_s=np.asarray(ms, dtype=np.float64),
        mean_b=np.asarray(mb, dtype=np.float64),
        inv_s=np.asarray(hs, dtype=np.float64),
        inv_b=np.asarray(hb, dtype=np.float64),
        steps_s=_transform_steps(method, sig),
        steps_b=_transform_steps(method, bkg),
    )
