"""An :class:`~pymva.export.model.ExportModel` as a header-only C++17 file (standard library only).

The header follows the calling convention of the code ROOT's SOFIE generates, so that code written
for SOFIE compiles against it::

    #include "TMVA_PyTorch.hxx"
    TMVA_SOFIE_PyTorch::Session s;                       // s("weights.dat") is accepted and ignored
    std::vector<float> out = s.infer(x);                 // one event: nVar floats in, nOut floats out
    std::vector<float> all = s.infer(x, n);              // n events, row-major (n·nVar → n·nOut)

The weights are ``static const`` arrays in the header (float32 values as float literals, float64
values with 17 significant digits, so that they are exact).  The arithmetic is the Reader's, step by
step (:mod:`pymva.export.model`): transformations in double, rounded to float after each element;
the Gauss transformation's ``erfinv`` from :mod:`pymva.export.erfinv`'s polynomials plus one Newton
step on ``std::erf``; Fisher in double, LD summed in float as TMVA does; the trees walked one after
the other, their sums in double (scikit-learn's forests too: its thresholds rounded down to float
so that ``x > cut`` decides as scikit-learn's ``x <= threshold`` on float32 inputs); dense networks in float (``Linear`` weights stored transposed so
that the inner loop vectorises).  ``Session`` holds no state: ``infer`` may be called from several
threads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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

__all__ = ["cpp_identifier", "to_cpp"]


def cpp_identifier(name: str) -> str:
    """``name`` made a C++ identifier (other characters become ``_``; a leading digit gets ``_``)."""
    ident = re.sub(r"[^0-9A-Za-z_]", "_", name) or "Model"
    return "_" + ident if ident[0].isdigit() else ident


def _d(v: float) -> str:
    r = f"{float(v):.17g}"
    return r if any(ch in r for ch in ".en") else r + ".0"


def _f(v: float) -> str:
    r = f"{float(np.float32(v)):.9g}"
    return (r if any(ch in r for ch in ".en") else r + ".0") + "f"


def _join(values: Iterable[str], per_line: int = 8) -> str:
    vals = list(values)
    lines = [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]
    return "{\n    " + ",\n    ".join(lines) + "}" if vals else "{}"


class _Writer:
    def __init__(self) -> None:
        self.arrays: list[str] = []
        self.body: list[str] = []
        self.prefix = "s"  # of the transformation steps' array names

    def array(self, name: str, ctype: str, values: npt.ArrayLike) -> str:
        arr = np.asarray(values).ravel()
        if ctype == "double":
            text = (_d(v) for v in arr.tolist())
        elif ctype == "float":
            text = (_f(v) for v in arr.tolist())
        else:
            text = (str(int(v)) for v in arr.tolist())
        self.arrays.append(f"static const {ctype} {name}[{max(len(arr), 1)}] = {_join(text)};")
        return name

    def line(self, text: str) -> None:
        self.body.append("    " + text)


def _gather(w: _Writer, s: int, idx: list[int]) -> None:
    k = len(idx)
    w.array(f"{w.prefix}{s}_idx", "int", idx)
    w.line("{")
    w.line(f"  double v[{k}], y[{k}];")
    w.line(f"  for (int m = 0; m < {k}; ++m) v[m] = x[{w.prefix}{s}_idx[m]];")


def _scatter(w: _Writer, s: int, k: int) -> None:
    w.line(f"  for (int m = 0; m < {k}; ++m) x[{w.prefix}{s}_idx[m]] = static_cast<float>(y[m]);")
    w.line("}")


def _steps(w: _Writer, model: ExportModel) -> None:
    _apply_steps(w, model.steps)


def _apply_steps(w: _Writer, steps: list[TransformStep]) -> None:
    for s, step in enumerate(steps):
        k = len(step.idx)
        _gather(w, s, step.idx)
        if isinstance(step, NormalizeStep):
            # TMVA's Float_t arithmetic: each operation in float (v holds float values)
            w.array(f"{w.prefix}{s}_lo", "float", step.lo)
            w.array(f"{w.prefix}{s}_s2", "float", step.s2)
            w.array(f"{w.prefix}{s}_ok", "unsigned char", step.ok.astype(np.uint8))
            w.line(f"  for (int m = 0; m < {k}; ++m) {{")
            w.line(f"    const float d = static_cast<float>(v[m]) - {w.prefix}{s}_lo[m];")
            w.line(f"    const float p = d * {w.prefix}{s}_s2[m];")
            w.line(f"    y[m] = {w.prefix}{s}_ok[m] ? p - 1.0f : 0.0f;")
            w.line("  }")
        elif isinstance(step, MatrixStep):
            w.array(f"{w.prefix}{s}_mat", "double", step.matrix)
            if step.mean is not None:
                w.array(f"{w.prefix}{s}_mean", "double", step.mean)
                w.line(f"  for (int m = 0; m < {k}; ++m) v[m] -= {w.prefix}{s}_mean[m];")
            w.line(f"  for (int m = 0; m < {k}; ++m) {{")
            w.line("    double acc = 0.0;")
            w.line(f"    for (int l = 0; l < {k}; ++l) acc += v[l] * {w.prefix}{s}_mat[l * {k} + m];")
            w.line("    y[m] = acc;")
            w.line("  }")
        else:
            _cdf(w, s, step)
        _scatter(w, s, k)


def _cdf(w: _Writer, s: int, step: CdfStep) -> None:
    k = len(step.tables)
    start, width = np.zeros(k), np.ones(k)
    fine = np.zeros((k, 10000), dtype=np.float32)
    degenerate = np.zeros(k, dtype=np.uint8)
    for j, tab in enumerate(step.tables):
        if tab is None:
            degenerate[j] = 1
        else:
            start[j], width[j] = tab[0], tab[1]
            fine[j] = tab[2]
    w.array(f"{w.prefix}{s}_start", "double", start)
    w.array(f"{w.prefix}{s}_width", "double", width)
    w.array(f"{w.prefix}{s}_degenerate", "unsigned char", degenerate)
    w.array(f"{w.prefix}{s}_fine", "float", fine)
    w.line(f"  for (int m = 0; m < {k}; ++m) {{")
    w.line("    double c = 0.5;")
    w.line(f"    if (!{w.prefix}{s}_degenerate[m]) {{")
    w.line(f"      const float* fine = {w.prefix}{s}_fine + m * 10000;")
    w.line(f"      double t = (v[m] - {w.prefix}{s}_start[m]) / {w.prefix}{s}_width[m];")
    w.line("      double i = std::min(std::max(std::floor(t), 0.0), 9998.0);")
    w.line("      const int ii = static_cast<int>(i);")
    w.line("      const double lo = fine[ii], slope = static_cast<double>(fine[ii + 1]) - lo;")
    w.line("      c = std::max((t - i) * slope + lo, 1.0e-12);")
    w.line("    }")
    w.line("    c = std::min(std::max(c, 1.0e-9), 1.0 - 1.0e-9);")
    if step.gauss:
        w.line("    const double z = std::min(std::max(c * 2.0 - 1.0, -0.99999999), 0.99999999);")
        w.line("    y[m] = erfinv(z) * 1.414213562;")
    else:
        w.line("    y[m] = c;")
    w.line("  }")


def _erfinv_code() -> str:
    p, q = coefficients()
    s1 = CENTRE_LIMIT**2
    w0, w1 = W_RANGE

    def horner(coef: tuple[float, ...], var: str) -> str:
        expr = _d(coef[-1])
        for c in reversed(coef[:-1]):
            expr = f"({expr} * {var} + {_d(c)})"
        return expr

    return f"""// erfinv: polynomial fits (pymva.export.erfinv), then one Newton step on std::erf
inline double erfinv(double z) {{
  const double a = std::fabs(z);
  double r;
  if (a <= {_d(CENTRE_LIMIT)}) {{
    const double u = (2.0 * (z * z) - {_d(s1)}) / {_d(s1)};
    r = z * {horner(p, "u")};
  }} else {{
    const double w = std::sqrt(-std::log(1.0 - a));
    const double u = (2.0 * w - {_d(w0 + w1)}) / {_d(w1 - w0)};
    r = (z < 0 ? -1.0 : 1.0) * {horner(q, "u")};
  }}
  r -= (std::erf(r) - z) / (1.1283791670955126 * std::exp(-r * r));
  return r;
}}
"""


def _linear(w: _Writer, m: LinearModel, n_var: int) -> str:
    n_out = len(m.offset)
    w.array("lin_w", "double", m.weights)
    w.array("lin_b", "double", m.offset)
    w.line(f"double raw[{n_out}];")
    w.line(f"for (int o = 0; o < {n_out}; ++o) {{")
    if m.float32_sum:
        w.line("  float acc = static_cast<float>(lin_b[o]);")
        w.line(f"  for (int j = 0; j < {n_var}; ++j)")
        w.line(
            f"    acc = static_cast<float>(static_cast<double>(acc) + lin_w[o * {n_var} + j] * static_cast<double>(x[j]));"
        )
    else:
        w.line("  double acc = lin_b[o];")
        w.line(
            f"  for (int j = 0; j < {n_var}; ++j) acc += static_cast<double>(x[j]) * lin_w[o * {n_var} + j];"
        )
    w.line("  raw[o] = static_cast<float>(acc);")
    w.line("}")
    return "raw"


def _forest(w: _Writer, f: ForestModel) -> str:
    w.array("bdt_roots", "int", f.roots)
    w.array("bdt_ivar", "int", f.ivar)
    w.array("bdt_cut", "float", f.cut)
    w.array("bdt_ge_right", "unsigned char", f.ge_right.astype(np.uint8))
    w.array("bdt_left", "int", f.left)
    w.array("bdt_right", "int", f.right)
    w.array("bdt_value", "double", f.value)
    n_trees = len(f.roots)
    cmp = ">" if f.strict else ">="
    k = f.n_classes if f.combine in ("multiclass", "class_average") else 1
    w.line(f"double sums[{k}] = {{}};")
    w.line(f"for (int t = 0; t < {n_trees}; ++t) {{")
    w.line("  int node = bdt_roots[t];")
    w.line("  while (bdt_left[node] != node) {")
    w.line(f"    const bool passed = x[bdt_ivar[node]] {cmp} bdt_cut[node];")
    w.line("    node = (passed == (bdt_ge_right[node] != 0)) ? bdt_right[node] : bdt_left[node];")
    w.line("  }")
    w.line(f"  sums[{'t % ' + str(k) if k > 1 else '0'}] += bdt_value[node];")
    w.line("}")
    w.line(f"double raw[{k}];")
    if f.combine == "multiclass":
        w.line(f"for (int i = 0; i < {k}; ++i) {{")
        w.line("  double norm = 0.0;")
        w.line(f"  for (int j = 0; j < {k}; ++j) if (j != i) norm += std::exp(sums[j] - sums[i]);")
        w.line("  raw[i] = 1.0 / (1.0 + norm);")
        w.line("}")
    elif f.combine == "class_average":
        w.line(f"for (int i = 0; i < {k}; ++i) raw[i] = sums[i] / {_d(f.norm)};")
    elif f.combine == "logistic":
        w.line("raw[0] = 1.0 / (1.0 + std::exp(-sums[0]));")
    elif f.combine == "average":
        w.line(f"raw[0] = sums[0] / {_d(f.norm)};")
    elif f.combine == "grad_regression":
        w.line(f"raw[0] = sums[0] + {_d(f.f0)};")
    else:
        w.line("raw[0] = 2.0 / (1.0 + std::exp(-2.0 * sums[0])) - 1.0;")
    return "raw"


def _torch(w: _Writer, tm: TorchModel, n_var: int) -> str:
    if tm.layers is None:
        raise ModelError(f"the PyTorch model cannot be written as C++: {tm.layer_problem}")
    width = n_var
    widest = max([n_var] + [p["weight"].shape[0] for k, p in tm.layers if k == "Linear"])
    w.line(f"float h[{widest}], g[{widest}];")
    w.line(f"for (int j = 0; j < {n_var}; ++j) h[j] = x[j];")
    for li, (kind, p) in enumerate(tm.layers):
        if kind == "Linear":
            n_out, n_in = p["weight"].shape
            if n_in != width:
                raise ModelError(f"the PyTorch model's Linear layer {li} takes {n_in} inputs, gets {width}")
            w.array(f"l{li}_wt", "float", p["weight"].T)
            w.array(f"l{li}_b", "float", p["bias"])
            w.line(f"for (int o = 0; o < {n_out}; ++o) g[o] = l{li}_b[o];")
            w.line(f"for (int i = 0; i < {n_in}; ++i) {{")
            w.line("  const float hi = h[i];")
            w.line(f"  const float* row = l{li}_wt + i * {n_out};")
            w.line(f"  for (int o = 0; o < {n_out}; ++o) g[o] += row[o] * hi;")
            w.line("}")
            w.line(f"for (int o = 0; o < {n_out}; ++o) h[o] = g[o];")
            width = n_out
        elif kind == "ReLU":
            w.line(f"for (int o = 0; o < {width}; ++o) h[o] = h[o] > 0.0f ? h[o] : 0.0f;")
        elif kind == "LeakyReLU":
            w.line(f"for (int o = 0; o < {width}; ++o) h[o] = h[o] >= 0.0f ? h[o] : h[o] * {_f(p['slope'])};")
        elif kind == "ELU":
            w.line(
                f"for (int o = 0; o < {width}; ++o) h[o] = h[o] > 0.0f ? h[o] : {_f(p['alpha'])} * std::expm1(h[o]);"
            )
        elif kind == "Tanh":
            w.line(f"for (int o = 0; o < {width}; ++o) h[o] = std::tanh(h[o]);")
        elif kind == "Sigmoid":
            w.line(f"for (int o = 0; o < {width}; ++o) h[o] = 1.0f / (1.0f + std::exp(-h[o]));")
        elif kind == "Softmax":
            w.line("{")
            w.line("  float mx = h[0], sum = 0.0f;")
            w.line(f"  for (int o = 1; o < {width}; ++o) mx = std::max(mx, h[o]);")
            w.line(f"  for (int o = 0; o < {width}; ++o) {{ h[o] = std::exp(h[o] - mx); sum += h[o]; }}")
            w.line(f"  for (int o = 0; o < {width}; ++o) h[o] /= sum;")
            w.line("}")
        elif kind == "BatchNorm1d":
            w.array(f"l{li}_scale", "float", p["scale"])
            w.array(f"l{li}_shift", "float", p["shift"])
            w.line(f"for (int o = 0; o < {width}; ++o) h[o] = h[o] * l{li}_scale[o] + l{li}_shift[o];")
    return "h"


_ACTIVATION = {
    "linear": "{z}",
    "sigmoid": "1.0 / (1.0 + std::exp(-{z}))",
    "tanh": "std::tanh({z})",
    "fast_tanh": "fast_tanh({z})",
    "ReLU": "({z} > 0.0 ? {z} : 0.0)",
    "radial": "std::exp(-0.5 * {z} * {z})",
}

_FAST_TANH = """// TMVA's TActivationTanh::fast_tanh: a rational approximation evaluated in float
inline double fast_tanh(double x) {
  if (x > 4.97) return 1.0;
  if (x < -4.97) return -1.0;
  const float x2 = static_cast<float>(x * x);
  const float a = static_cast<float>(x * static_cast<double>(135135.0f + x2 * (17325.0f + x2 * (378.0f + x2))));
  const float b = 135135.0f + x2 * (62370.0f + x2 * (3150.0f + x2 * 28.0f));
  return static_cast<double>(a / b);
}
"""


def _ann(w: _Writer, m: AnnModel, n_var: int) -> str:
    widest = max([n_var] + [W.shape[1] for W in m.weights])
    w.line(f"double h[{widest}], g[{widest}];")
    w.line(f"for (int j = 0; j < {n_var}; ++j) h[j] = x[j];")
    width = n_var
    last = len(m.weights) - 1
    for li, W in enumerate(m.weights):
        n_in, n_out = W.shape[0] - 1, W.shape[1]
        if n_in != width:
            raise ModelError(f"the MLP's layer {li} takes {n_in} inputs, gets {width}")
        if m.input_type == "sum":
            Wc, term = W, "row[o] * hi"
        elif m.input_type == "sqsum":
            Wc, term = W * W, "row[o] * (hi * hi)"
        else:
            Wc, term = np.abs(W), "row[o] * std::fabs(hi)"
        w.array(f"m{li}_w", "double", Wc)
        w.line(f"for (int o = 0; o < {n_out}; ++o) g[o] = 0.0;")
        w.line(f"for (int i = 0; i <= {n_in}; ++i) {{")
        w.line(f"  const double hi = i < {n_in} ? h[i] : 1.0;")
        w.line(f"  const double* row = m{li}_w + i * {n_out};")
        w.line(f"  for (int o = 0; o < {n_out}; ++o) g[o] += {term};")
        w.line("}")
        act = m.output if li == last else m.hidden
        if act == "tanh" and m.fast_tanh:
            act = "fast_tanh"
        w.line(f"for (int o = 0; o < {n_out}; ++o) h[o] = {_ACTIVATION[act].format(z='g[o]')};")
        width = n_out
    if m.softmax:
        w.line("{")
        w.line("  double mx = h[0], sum = 0.0;")
        w.line(f"  for (int o = 1; o < {width}; ++o) mx = std::max(mx, h[o]);")
        w.line(f"  for (int o = 0; o < {width}; ++o) {{ h[o] = std::exp(h[o] - mx); sum += h[o]; }}")
        w.line(f"  for (int o = 0; o < {width}; ++o) h[o] /= sum;")
        w.line("}")
    w.line(f"float raw[{width}];")
    w.line(f"for (int o = 0; o < {width}; ++o) raw[o] = static_cast<float>(h[o]);")
    return "raw"


def _hmatrix(w: _Writer, m: HMatrixModel, n_var: int) -> str:
    w.line("double chi[2];")
    for c, (steps, mean, inv) in enumerate(((m.steps_s, m.mean_s, m.inv_s), (m.steps_b, m.mean_b, m.inv_b))):
        w.array(f"hm{c}_mean", "double", mean)
        w.array(f"hm{c}_inv", "double", inv)
        w.line("{")
        w.line(f"  float xc[{n_var}];")
        w.line(f"  for (int j = 0; j < {n_var}; ++j) xc[j] = x[j];")
        if steps:
            w.line("  {")
            w.line("  float* const x = xc;  // the steps below transform xc with this class's parameters")
            w.prefix = f"h{c}s"
            _apply_steps(w, steps)
            w.prefix = "s"
            w.line("  }")
        w.line(f"  double d[{n_var}];")
        w.line(f"  for (int j = 0; j < {n_var}; ++j) d[j] = static_cast<double>(xc[j]) - hm{c}_mean[j];")
        w.line("  double q = 0.0;")
        w.line(f"  for (int j = 0; j < {n_var}; ++j) {{")
        w.line("    double r = 0.0;")
        w.line(f"    for (int k = 0; k < {n_var}; ++k) r += d[k] * hm{c}_inv[k * {n_var} + j];")
        w.line("    q += r * d[j];")
        w.line("  }")
        w.line(f"  chi[{c}] = q;")
        w.line("}")
    w.line("float raw[1];")
    w.line("raw[0] = static_cast<float>((chi[1] - chi[0]) / (chi[0] + chi[1]));")
    return "raw"


def _svm(w: _Writer, m: SvmModel, n_var: int) -> str:
    n_sv = len(m.coef)
    w.array("svm_sv", "float", m.support_vectors)
    w.array("svm_coef", "float", m.coef)
    if m.gammas:
        w.array("svm_gammas", "float", np.asarray(m.gammas, dtype=np.float32))
    w.line("double s = 0.0;")
    w.line(f"for (int i = 0; i < {n_sv}; ++i) {{")
    w.line(f"  const float* v = svm_sv + i * {n_var};")
    w.line("  float k = 0.0f;")
    for n, name in enumerate(m.elementary):
        w.line("  {")
        if name == "RBF":
            w.line("    float norm = 0.0f;")
            w.line(f"    for (int j = 0; j < {n_var}; ++j) {{ const float d = x[j] - v[j]; norm += d * d; }}")
            w.line(
                f"    const float e = static_cast<float>(std::exp(-static_cast<double>(norm * {_f(m.gamma)})));"
            )
        elif name == "MultiGauss":
            w.line("    float e = 1.0f;")
            w.line(f"    for (int j = 0; j < {n_var}; ++j) {{")
            w.line("      const float d = x[j] - v[j];")
            w.line("      const float arg = (d * d) * svm_gammas[j];")
            w.line(
                "      e = static_cast<float>(static_cast<double>(e) * std::exp(-static_cast<double>(arg)));"
            )
            w.line("    }")
        else:
            w.line(f"    float prod = {_f(m.theta)};")
            w.line(f"    for (int j = 0; j < {n_var}; ++j) prod += x[j] * v[j];")
            w.line(
                f"    const float e = static_cast<float>(std::pow(static_cast<double>(prod), {int(m.order)}));"
            )
        if n == 0:
            w.line("    k = e;")
        else:
            w.line(f"    k = k {'*' if m.kernel == 'Prod' else '+'} e;")
        w.line("  }")
    w.line("  s += static_cast<double>(k * svm_coef[i]);")
    w.line("}")
    w.line("float raw[1];")
    if m.regression:
        w.line(f"raw[0] = static_cast<float>(s + {_d(m.bias)});")
    else:
        w.line(f"raw[0] = static_cast<float>(1.0 / (1.0 + std::exp(s - {_d(m.bias)})));")
    return "raw"


def to_cpp(model: ExportModel) -> str:
    """The C++ header of ``model`` (see the module docstring); namespace ``TMVA_SOFIE_<name>``.

    Raises
    ------
    ModelError
        For a PyTorch model that is not a plain sequence of the supported dense layers
        (:mod:`pymva.export.torchlayers`), or a scikit-learn classifier without a tree form
        (:func:`pymva.export.model._sklearn_forest` says why).
    """
    ident = cpp_identifier(model.name)
    n_var, n_out = model.n_variables, model.n_outputs
    w = _Writer()
    w.line(f"float x[{n_var}];")
    w.line(f"for (int j = 0; j < {n_var}; ++j) {{")
    w.line("  x[j] = in[j];")
    w.line(
        f"  if (!std::isfinite(x[j])) {{ for (int o = 0; o < {n_out}; ++o) out[o] = {_f(NAN_RESPONSE)}; return; }}"
    )
    w.line("}")
    _steps(w, model)
    m = model.model
    if isinstance(m, LinearModel):
        raw = _linear(w, m, n_var)
    elif isinstance(m, ForestModel):
        raw = _forest(w, m)
    elif isinstance(m, AnnModel):
        raw = _ann(w, m, n_var)
    elif isinstance(m, SvmModel):
        raw = _svm(w, m, n_var)
    elif isinstance(m, HMatrixModel):
        raw = _hmatrix(w, m, n_var)
    elif isinstance(m, SklearnModel):
        if m.forest is None:
            raise ModelError(
                f"method {model.method_type}::{model.name} cannot be written as C++: {m.forest_problem}; "
                "C++ takes RandomForest, AdaBoost (decision-tree base estimator) and GradientBoosting "
                "(constant Init) forests; use --to onnx"
            )
        raw = _forest(w, m.forest)
    else:
        raw = _torch(w, m, n_var)
    for t, (idx, lo, s2, ok) in enumerate(model.target_steps):
        # TMVA's InverseTransform in float: lo + (t + 1)/s2 (lo for a constant target)
        w.array(f"t{t}_idx", "int", idx)
        w.array(f"t{t}_lo", "float", lo)
        w.array(f"t{t}_s2", "float", s2)
        w.array(f"t{t}_ok", "unsigned char", ok.astype(np.uint8))
        w.line(f"for (int m = 0; m < {len(idx)}; ++m) {{")
        w.line(f"  const float t = {raw}[t{t}_idx[m]] + 1.0f;")
        w.line(f"  const float q = t / t{t}_s2[m];")
        w.line(f"  {raw}[t{t}_idx[m]] = t{t}_ok[m] ? t{t}_lo[m] + q : t{t}_lo[m];")
        w.line("}")
    first = (model.select or 0) if isinstance(m, TorchModel) else 0
    w.line(f"for (int o = 0; o < {n_out}; ++o) out[o] = static_cast<float>({raw}[o + {first}]);")
    guard = f"TMVA_SOFIE_{ident.upper()}_HXX"
    all_steps = list(model.steps)
    if isinstance(m, HMatrixModel):
        all_steps += m.steps_s + m.steps_b
    needs_erfinv = any(isinstance(s, CdfStep) and s.gauss for s in all_steps)
    needs_fast_tanh = isinstance(m, AnnModel) and m.fast_tanh and "tanh" in (m.hidden, m.output)
    arrays = "\n".join(w.arrays)
    body = "\n".join(w.body)
    variables = ", ".join(model.variables)
    return f"""// Generated by pymva from the {model.method_type} method '{model.name}'. Do not edit.
// Input: {n_var} float variables per event ({variables}); output: {n_out} float(s) per event,
// what TMVA's Reader returns ({model.kind}); -999 for an event with a NaN or infinite input.
// Header-only, C++17 standard library only.
#ifndef {guard}
#define {guard}

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace TMVA_SOFIE_{ident} {{
namespace detail {{
{arrays}

{_erfinv_code() if needs_erfinv else ""}{_FAST_TANH if needs_fast_tanh else ""}
inline void evaluate(const float* in, float* out) {{
{body}
}}
}}  // namespace detail

constexpr std::size_t kNumberOfVariables = {n_var};
constexpr std::size_t kNumberOfOutputs = {n_out};

struct Session {{
  Session() = default;
  /// SOFIE's constructor takes the weight file; the weights are compiled in here.
  explicit Session(const std::string& /*weightFile*/, std::size_t /*batchSize*/ = 1) {{}}

  /// One event: kNumberOfVariables values in, kNumberOfOutputs values out.
  std::vector<float> infer(const float* x) const {{
    std::vector<float> out(kNumberOfOutputs);
    detail::evaluate(x, out.data());
    return out;
  }}

  /// n events stored row by row: n * kNumberOfVariables values in, n * kNumberOfOutputs out.
  std::vector<float> infer(const float* x, std::size_t n) const {{
    std::vector<float> out(n * kNumberOfOutputs);
    for (std::size_t i = 0; i < n; ++i)
      detail::evaluate(x + i * kNumberOfVariables, out.data() + i * kNumberOfOutputs);
    return out;
  }}
}};
}}  // namespace TMVA_SOFIE_{ident}

#endif  // {guard}
"""
