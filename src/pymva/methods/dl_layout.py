"""The option grammar of TMVA's ``MethodDL``: ``InputLayout``, ``BatchLayout``, ``Layout`` and
``TrainingStrategy`` (``tmva/tmva/src/MethodDL.cxx``: ``ParseInputLayout``, ``ParseBatchLayout``,
``CreateDeepNet`` and the ``Parse*Layer`` functions, ``ParseKeyValueString`` and ``ProcessOptions``).

Everything here is pure parsing: strings in, frozen dataclasses out; no torch.  The network itself is
built from the :class:`LayerSpec` list by :mod:`pymva.methods.dl_network`.

Grammar, as TMVA reads it:

* ``InputLayout=depth|height|width`` (each token's absolute value, ``0`` read as ``1``); one token is a
  width (``1|1|w``), two are ``height|width`` (``1|h|w``, the RNN case ``time|features``); all zero
  (the default ``0|0|0``) means ``1|1|<number of variables>``.
* ``BatchLayout=depth|height|width``; all zero (the default) means ``1|batch size|width`` for a flat
  input and ``batch size|depth|height*width`` otherwise.  pymva's network does not need it: it is
  only checked against the input layout as TMVA checks it.
* ``Layout``: layers separated by ``,``, fields by ``|``: ``DENSE|width|activation`` (width and
  activation in any order; the width may be a formula in ``N``, the number of input variables, such
  as ``(N+100)*2``; width 0 or absent means the number of outputs), ``CONV|depth|filter height|filter
  width|stride rows|stride cols|padding height|padding width|activation``, ``MAXPOOL|height|width|stride
  rows|stride cols``, ``RESHAPE|depth|height|width`` or ``RESHAPE|FLAT``, ``BNORM|momentum|epsilon``,
  ``RNN|LSTM|GRU|state size|input size|time steps|remember state|return sequence`` (GRU: a 7th field,
  reset gate after), and a layer without a type (``TANH|128``, ``LINEAR``) is a dense layer, as in
  TMVA's older DNN interface.
* ``TrainingStrategy``: phases separated by ``|``, each ``Key=Value`` pairs separated by ``,`` (blanks
  removed, keys case-insensitive); numbers are read as C's ``atoi``/``atof`` read them (the leading
  number; ``MaxEpochs=10Optimizer=ADAM`` is 10, with a warning because a comma is probably missing).

Differences from TMVA (``docs/methods-dl.md``): layer types, activations and key values match
case-insensitively; malformed layer fields (a stride of 0, an unknown activation) are errors that name
the layer instead of silently-built broken networks; unknown ``TrainingStrategy`` keys and unknown
optimizer or regularization names log a warning (TMVA ignores them silently).
"""

from __future__ import annotations

import ast
import logging
import math
import re
from dataclasses import dataclass, field

from ..errors import OptionError, did_you_mean

__all__ = [
    "ACTIVATIONS",
    "LayerSpec",
    "TrainingSettings",
    "batch_layout",
    "dense_width",
    "input_layout",
    "parse_layout",
    "parse_training_strategy",
]

log = logging.getLogger("pymva.method.DL")

#: TMVA's ``EActivationFunction`` codes (``TMVA/DNN/Functions.h``) by layout keyword; ``IDENTITY``
#: is a pymva alias of ``LINEAR``.
ACTIVATIONS: dict[str, int] = {
    "LINEAR": 0,
    "IDENTITY": 0,
    "RELU": 1,
    "SIGMOID": 2,
    "TANH": 3,
    "SYMMRELU": 4,
    "SOFTSIGN": 5,
    "GAUSS": 6,
    "FTANH": 7,
}

LAYER_TYPES = ("DENSE", "CONV", "MAXPOOL", "RESHAPE", "BNORM", "RNN", "LSTM", "GRU")


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the ``Layout`` option.

    Attributes
    ----------
    kind : str
        ``DENSE``, ``CONV``, ``MAXPOOL``, ``RESHAPE``, ``BNORM``, ``RNN``, ``LSTM`` or ``GRU``.
    params : dict
        The layer's parameters: DENSE ``width`` (0: the number of outputs), ``activation`` (a TMVA
        activation code); CONV ``depth``, ``kernel`` (h, w), ``stride`` (rows, cols), ``padding``
        (h, w), ``activation``; MAXPOOL ``kernel``, ``stride``; RESHAPE ``shape`` (d, h, w) and
        ``flat``; BNORM ``momentum``, ``epsilon``; RNN/LSTM/GRU ``state_size``, ``input_size``,
        ``time_steps``, ``remember_state``, ``return_sequence`` and (GRU) ``reset_gate_after``.
    text : str
        The layer's text in the option (for messages).
    """

    kind: str
    params: dict[str, object] = field(default_factory=dict)
    text: str = ""


@dataclass(frozen=True)
class TrainingSettings:
    """One phase of ``TrainingStrategy`` (TMVA ``TTrainingSettings``), with TMVA's defaults."""

    learning_rate: float = 1e-5
    momentum: float = 0.3
    repetitions: int = 1
    convergence_steps: int = 100
    batch_size: int = 30
    test_interval: int = 7
    weight_decay: float = 0.0
    regularization: str = "NONE"
    dropout: tuple[float, ...] = ()
    optimizer: str = "ADAM"
    max_epochs: int = 2000
    optimizer_params: tuple[tuple[str, float], ...] = ()

    def optimizer_param(self, name: str) -> float:
        """An optimizer parameter (``ADAM_beta1``, …) of this phase."""
        return dict(self.optimizer_params)[name]


# ---------------------------------------------------------------------------------------------------
# C-style number reading

_LEADING_INT = re.compile(r"^\s*([+-]?\d+)")
_LEADING_FLOAT = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def _atoi(text: str) -> tuple[int, str]:
    """``TString::Atoi``: the leading integer (0 if none) and the unread rest."""
    m = _LEADING_INT.match(text)
    if not m:
        return 0, text
    return int(m.group(1)), text[m.end() :]


def _atof(text: str) -> tuple[float, str]:
    """``TString::Atof``: the leading number (0 if none) and the unread rest."""
    m = _LEADING_FLOAT.match(text)
    if not m:
        return 0.0, text
    return float(m.group(1)), text[m.end() :]


def _strict_int(token: str, what: str, layer: str) -> int:
    token = token.strip()
    if not re.fullmatch(r"[+-]?\d+", token):
        raise OptionError(
            f"Layout: layer '{layer}': {what} is '{token}', not an integer (option Layout of method DL)"
        )
    return int(token)


# ---------------------------------------------------------------------------------------------------
# input and batch layout


def input_layout(text: str, n_variables: int) -> tuple[int, int, int]:
    """``InputLayout`` as ``(depth, height, width)`` (TMVA ``ParseInputLayout`` and ``ProcessOptions``).

    Parameters
    ----------
    text : str
        ``"1|16|16"``, ``"10|30"``, ``"7"`` or the default ``"0|0|0"``.
    n_variables : int
        Number of input variables (the width of the default layout).

    Returns
    -------
    tuple of int

    Raises
    ------
    OptionError
        More than three tokens, or a token that is not an integer.
    """
    tokens = [t for t in str(text).split("|") if t.strip()]
    if len(tokens) > 3:
        raise OptionError(
            f"InputLayout '{text}' has {len(tokens)} dimensions; give depth|height|width (at most 3) "
            "(option InputLayout of method DL)"
        )
    values = [abs(_strict_int(t, "a dimension", f"InputLayout={text}")) for t in tokens]
    if not values or all(v == 0 for v in values):
        return (1, 1, n_variables)
    dims = [v if v != 0 else 1 for v in values]
    while len(dims) < 3:
        dims.insert(0, 1)
    return (dims[0], dims[1], dims[2])


def batch_layout(text: str, shape: tuple[int, int, int], batch_size: int) -> tuple[int, int, int]:
    """``BatchLayout`` as ``(depth, height, width)`` with TMVA's defaults and consistency check.

    Raises
    ------
    OptionError
        A token that is not an integer, or a layout that does not fit the input layout (TMVA
        ``TrainDeepNet``: ``Given input layout ... is not compatible with batch layout ...``).
    """
    tokens = [t for t in str(text).split("|") if t.strip()]
    values = [_strict_int(t, "a dimension", f"BatchLayout={text}") for t in tokens[:3]]
    values += [0] * (3 - len(values))
    d, h, w = values
    depth, height, width = shape
    if d == 0 and h == 0 and w == 0:
        if height == 1 and depth == 1:
            return (1, batch_size, width)
        return (batch_size, depth, height * width)
    n_in = depth * height * width
    bad = (d > 1 and n_in != h * w) or (d == 1 and n_in != w)
    if bad:
        raise OptionError(
            f"Given input layout {depth} x {height} x {width} is not compatible with batch layout "
            f"{d} x {h} x {w} (BatchLayout must be 1|batch size|{n_in} for a flat input or "
            f"batch size|{depth}|{height * width} otherwise; or leave it out)"
        )
    return (d, h, w)


# ---------------------------------------------------------------------------------------------------
# layout


_FORMULA_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load)
_FORMULA_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd, ast.Pow)


def dense_width(text: str, n_variables: int) -> int:
    """The width of a dense layer given as a number or a formula in ``N`` (TMVA uses ``TFormula``).

    ``"64"`` → 64, ``"N+5"`` with 7 variables → 12, ``"(N+100)*2"`` → 214; non-integer results are
    truncated toward zero as TMVA's conversion to ``int`` does.

    Raises
    ------
    OptionError
        Text that is neither a number nor an arithmetic formula in ``N`` (``+ - * / **`` and brackets),
        or a negative result.
    """
    src = text.strip().replace("n", "N")
    reason = ""
    try:
        tree = ast.parse(src, mode="eval")
    except (SyntaxError, ValueError):
        tree = None
        reason = "not a number or formula"
    if tree is not None:
        for node in ast.walk(tree):
            if not isinstance(node, _FORMULA_NODES + _FORMULA_OPS) or (
                isinstance(node, ast.Name) and node.id != "N"
            ):
                reason = "only numbers, N and + - * / ** ( ) are allowed"
                break
            if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
                reason = "only numbers, N and + - * / ** ( ) are allowed"
                break
    if reason or tree is None:
        activations = ", ".join(sorted(ACTIVATIONS))
        raise OptionError(
            f"Layout: dense layer field '{text}' is neither an activation ({activations}) nor a width "
            f"(a number or a formula in N such as N+5 or (N+100)*2): {reason}"
        )
    try:
        value = eval(compile(tree, "<layout>", "eval"), {"__builtins__": {}}, {"N": n_variables})
    except (ArithmeticError, OverflowError) as exc:
        raise OptionError(f"Layout: dense layer width '{text}' cannot be evaluated: {exc}") from None
    if not math.isfinite(value) or value < 0 or value > 1e7:
        raise OptionError(f"Layout: dense layer width '{text}' = {value} is not a valid number of nodes")
    return int(value)


def _activation(token: str, layer: str) -> int:
    key = token.strip().upper()
    if key in ACTIVATIONS:
        return ACTIVATIONS[key]
    raise OptionError(
        f"Layout: layer '{layer}': unknown activation function '{token}'"
        f"{did_you_mean(key, list(ACTIVATIONS))} Known: {', '.join(ACTIVATIONS)}"
    )


def _dense(fields: list[str], layer: str, n_variables: int) -> LayerSpec:
    width = 0
    activation = 3  # TMVA's default: TANH
    for token in fields:
        key = token.strip().upper()
        if key == "DENSE" or not key:
            continue
        if key in ACTIVATIONS:
            activation = ACTIVATIONS[key]
        elif width == 0:
            width = dense_width(token, n_variables)
        else:
            raise OptionError(
                f"Layout: dense layer '{layer}': field '{token}' is neither an activation "
                f"({', '.join(ACTIVATIONS)}){did_you_mean(key, list(ACTIVATIONS))} nor a first width"
            )
    return LayerSpec("DENSE", {"width": width, "activation": activation}, layer)


def _ints(fields: list[str], names: tuple[str, ...], layer: str) -> list[int]:
    values = []
    for i, name in enumerate(names):
        if i < len(fields) and fields[i].strip():
            values.append(_strict_int(fields[i], name, layer))
        else:
            raise OptionError(
                f"Layout: layer '{layer}' has no {name} (field {i + 2}); expected "
                f"{layer.split('|')[0].upper()}|{'|'.join(names)}"
            )
    return values


def _positive(values: dict[str, int], layer: str) -> None:
    for name, v in values.items():
        if v < 1:
            raise OptionError(f"Layout: layer '{layer}': {name} must be at least 1, got {v}")


def _parse_layer(text: str, n_variables: int) -> LayerSpec:
    fields = text.split("|")
    kind = fields[0].strip().upper()
    rest = fields[1:]
    if kind == "CONV":
        names = ("depth", "filter height", "filter width", "stride rows", "stride cols")
        depth, fh, fw, sr, sc = _ints(rest, names, text)
        pad = [
            _strict_int(rest[i], "padding", text) if len(rest) > i and rest[i].strip() else 0 for i in (5, 6)
        ]
        act = _activation(rest[7], text) if len(rest) > 7 and rest[7].strip() else 3
        _positive({"depth": depth, "filter height": fh, "filter width": fw, "stride rows": sr,
                   "stride cols": sc}, text)  # fmt: skip
        if min(pad) < 0:
            raise OptionError(f"Layout: layer '{text}': the padding must not be negative")
        return LayerSpec(
            "CONV",
            {"depth": depth, "kernel": (fh, fw), "stride": (sr, sc), "padding": (pad[0], pad[1]),
             "activation": act},
            text,
        )  # fmt: skip
    if kind == "MAXPOOL":
        fh, fw, sr, sc = _ints(rest, ("filter height", "filter width", "stride rows", "stride cols"), text)
        _positive({"filter height": fh, "filter width": fw, "stride rows": sr, "stride cols": sc}, text)
        return LayerSpec("MAXPOOL", {"kernel": (fh, fw), "stride": (sr, sc)}, text)
    if kind == "RESHAPE":
        if any(f.strip().upper() == "FLAT" for f in rest):
            return LayerSpec("RESHAPE", {"shape": (0, 0, 0), "flat": True}, text)
        d, h, w = _ints(rest, ("depth", "height", "width"), text)
        _positive({"depth": d, "height": h, "width": w}, text)
        return LayerSpec("RESHAPE", {"shape": (d, h, w), "flat": False}, text)
    if kind == "BNORM":
        momentum = _atof(rest[0])[0] if rest and rest[0].strip() else -1.0
        epsilon = _atof(rest[1])[0] if len(rest) > 1 and rest[1].strip() else 1e-4
        if epsilon <= 0:
            raise OptionError(f"Layout: layer '{text}': epsilon must be positive")
        return LayerSpec("BNORM", {"momentum": momentum, "epsilon": epsilon}, text)
    if kind in ("RNN", "LSTM", "GRU"):
        state, n_in, steps = _ints(rest, ("state size", "input size", "time steps"), text)
        _positive({"state size": state, "input size": n_in, "time steps": steps}, text)
        flags = [bool(_atoi(rest[i])[0]) if len(rest) > i else False for i in (3, 4, 5)]
        params: dict[str, object] = {
            "state_size": state,
            "input_size": n_in,
            "time_steps": steps,
            "remember_state": flags[0],
            "return_sequence": flags[1],
        }
        if kind == "GRU":
            params["reset_gate_after"] = flags[2]
        return LayerSpec(kind, params, text)
    # DENSE, or no type: a dense layer as in TMVA's older DNN interface
    return _dense(fields, text, n_variables)


def parse_layout(text: str, n_variables: int) -> list[LayerSpec]:
    """Parse the ``Layout`` option into layer specifications (TMVA ``CreateDeepNet``).

    Parameters
    ----------
    text : str
        E.g. ``"DENSE|64|TANH,DENSE|64|TANH,DENSE|1|LINEAR"`` or ``"TANH|128,TANH|128,LINEAR"``.
    n_variables : int
        ``N`` in width formulas.

    Returns
    -------
    list of LayerSpec

    Raises
    ------
    OptionError
        An empty layout, or a malformed layer (naming it and what was expected).
    """
    layers = [t for t in str(text).split(",") if t.strip()]
    if not layers:
        raise OptionError("Layout is empty; give e.g. Layout=DENSE|64|TANH,DENSE|1|LINEAR")
    return [_parse_layer(layer.strip(), n_variables) for layer in layers]


# ---------------------------------------------------------------------------------------------------
# training strategy

_KNOWN_KEYS = {
    "LEARNINGRATE", "MOMENTUM", "REPETITIONS", "CONVERGENCESTEPS", "BATCHSIZE", "TESTREPETITIONS",
    "WEIGHTDECAY", "REGULARIZATION", "DROPCONFIG", "DROPREPETITIONS", "RENORMALIZE", "OPTIMIZER",
    "MAXEPOCHS", "MULTITHREADING", "ADAM_BETA1", "ADAM_BETA2", "ADAM_EPS", "ADAGRAD_EPS", "RMSPROP_RHO",
    "RMSPROP_EPS", "ADADELTA_RHO", "ADADELTA_EPS",
}  # fmt: skip
_OPTIMIZERS = ("SGD", "ADAM", "ADAGRAD", "RMSPROP", "ADADELTA")
_OPTIMIZER_DEFAULTS: dict[str, tuple[tuple[str, float], ...]] = {
    "SGD": (),
    "ADAM": (("ADAM_beta1", 0.9), ("ADAM_beta2", 0.999), ("ADAM_eps", 1e-7)),
    "ADAGRAD": (("ADAGRAD_eps", 1e-8),),
    "RMSPROP": (("RMSPROP_rho", 0.9), ("RMSPROP_eps", 1e-7)),
    "ADADELTA": (("ADADELTA_rho", 0.95), ("ADADELTA_eps", 1e-8)),
}


def _key_values(block: str) -> dict[str, str]:
    """TMVA ``ParseKeyValueString`` for one phase: ``{KEY: value}`` (keys upper-case)."""
    out: dict[str, str] = {}
    for token in block.split(","):
        key, sep, value = token.partition("=")
        if not sep or not key:
            if token:
                log.warning("TrainingStrategy: '%s' is not Key=Value; ignored (as TMVA does)", token)
            continue
        out[key.upper()] = value
    return out


def _number(kv: dict[str, str], key: str, default: float, *, integer: bool) -> float:
    raw = kv.get(key.upper(), "")
    if raw == "":
        return default
    value, rest = _atoi(raw) if integer else _atof(raw)
    if rest.strip():
        log.warning(
            "TrainingStrategy: %s=%s is read as %s, as TMVA reads it; the rest '%s' is ignored "
            "(a missing comma?)",
            key,
            raw,
            value,
            rest,
        )
    return value


def parse_training_strategy(text: str) -> list[TrainingSettings]:
    """Parse ``TrainingStrategy`` into its phases (TMVA ``ProcessOptions``).

    Parameters
    ----------
    text : str
        ``"LearningRate=1e-3,Momentum=0.9,BatchSize=128,MaxEpochs=20|LearningRate=1e-4,..."``.

    Returns
    -------
    list of TrainingSettings
        One per phase (a phase separator ``|`` between empty phases is ignored).

    Raises
    ------
    OptionError
        No phase at all, or a phase whose BatchSize, TestRepetitions or MaxEpochs is below 1, whose
        LearningRate is negative or whose DropConfig probability is outside [0, 1).
    """
    blocks = [b for b in str(text).replace(" ", "").split("|") if b]
    if not blocks:
        raise OptionError(
            "TrainingStrategy is empty; give e.g. TrainingStrategy=LearningRate=1e-3,BatchSize=32"
        )
    phases = []
    for i, block in enumerate(blocks, 1):
        kv = _key_values(block)
        unknown = [k for k in kv if k not in _KNOWN_KEYS]
        for k in unknown:
            log.warning(
                "TrainingStrategy phase %d: unknown key '%s'%s; ignored (as TMVA does)",
                i,
                k,
                did_you_mean(k, sorted(_KNOWN_KEYS)),
            )
        regularization = kv.get("REGULARIZATION", "NONE").upper() or "NONE"
        if regularization not in ("NONE", "L1", "L2"):
            log.warning(
                "TrainingStrategy phase %d: Regularization=%s is not L1, L2 or None; no regularization "
                "(as TMVA)",
                i,
                kv["REGULARIZATION"],
            )
            regularization = "NONE"
        optimizer = kv.get("OPTIMIZER", "ADAM").upper() or "ADAM"
        if optimizer not in _OPTIMIZERS:
            log.warning(
                "TrainingStrategy phase %d: unknown Optimizer=%s%s; using ADAM (as TMVA). Known: %s",
                i,
                kv["OPTIMIZER"],
                did_you_mean(optimizer, list(_OPTIMIZERS)),
                ", ".join(_OPTIMIZERS),
            )
            optimizer = "ADAM"
        opt_params = tuple(
            (name, _number(kv, name, default, integer=False))
            for name, default in _OPTIMIZER_DEFAULTS[optimizer]
        )
        drop_raw = kv.get("DROPCONFIG", "")
        dropout = tuple(_atof(p)[0] for p in drop_raw.split("+") if p) if drop_raw else ()
        settings = TrainingSettings(
            learning_rate=_number(kv, "LearningRate", 1e-5, integer=False),
            momentum=_number(kv, "Momentum", 0.3, integer=False),
            repetitions=int(_number(kv, "Repetitions", 1, integer=True)),
            convergence_steps=int(_number(kv, "ConvergenceSteps", 100, integer=True)),
            batch_size=int(_number(kv, "BatchSize", 30, integer=True)),
            test_interval=int(_number(kv, "TestRepetitions", 7, integer=True)),
            weight_decay=_number(kv, "WeightDecay", 0.0, integer=False),
            regularization=regularization,
            dropout=dropout,
            optimizer=optimizer,
            max_epochs=int(_number(kv, "MaxEpochs", 2000, integer=True)),
            optimizer_params=opt_params,
        )
        for name, value in (("BatchSize", settings.batch_size), ("TestRepetitions", settings.test_interval),
                            ("MaxEpochs", settings.max_epochs)):  # fmt: skip
            if value < 1:
                raise OptionError(f"TrainingStrategy phase {i}: {name}={value} must be at least 1")
        if settings.learning_rate < 0 or settings.convergence_steps < 0:
            raise OptionError(
                f"TrainingStrategy phase {i}: LearningRate and ConvergenceSteps must not be negative"
            )
        if any(not 0.0 <= p < 1.0 for p in dropout):
            raise OptionError(
                f"TrainingStrategy phase {i}: DropConfig={drop_raw}: each dropout probability must be in "
                "[0, 1) (the probability to drop a layer's input)"
            )
        phases.append(settings)
    return phases
