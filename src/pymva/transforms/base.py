"""What every variable transformation shares (TMVA ``VariableTransformBase``).

A transformation works on a fixed, ordered list of *inputs* — variables, targets or spectators of
the data set, each an :class:`InputRef` — and holds **one parameter set per class plus one for all
classes together** (a single set when there is only one class).  It is fitted on the training
events (``fit``) and applied with the parameter set of its *reference class* (``forward``); the
default reference is "all classes" (``../shared/tmva/core.md`` §4.2).

Subclasses implement four small hooks on plain numpy arrays:

* ``_fit_set(Z, w)`` — the parameters of one class subset (``Z``: float32 ``(n, k)`` inputs,
  ``w``: float32 weights);
* ``_forward_set(params, Z, columns)`` and ``_inverse_set(params, Z, columns)`` — float32 in and
  out; ``columns`` (indices into the input list) is given when only some inputs are present (for
  transforms that act on each input separately: Normalize, Gauss, Uniform);
* ``_params_to_xml`` / ``_params_from_xml`` — the TMVA-shaped weights-file content.

Numbers are written to XML with 17 significant digits (``%.16e``) so that reading a file back gives
bit-identical parameters (TMVA writes some of them with 7 digits only).
"""

from __future__ import annotations

import abc
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .._blas import blas_single_thread
from ..data.dataset import VariableInfo
from ..errors import DataError, ModelError, NotTrainedError
from ..logger import get_logger

__all__ = [
    "BLOCK_ROWS",
    "F32",
    "F64",
    "KIND_NAMES",
    "InputRef",
    "VariableTransform",
    "blas_single_thread",
    "blocked_product",
    "fmt_array",
    "fmt_number",
    "map_columns",
    "moments",
    "ordered_sets",
    "parse_numbers",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: TMVA's XML ``Type`` attribute for each input kind.
KIND_NAMES = {"v": "Variable", "t": "Target", "s": "Spectator"}
_KIND_FROM_NAME = {v: k for k, v in KIND_NAMES.items()}
_KIND_ORDER = {"v": 0, "t": 1, "s": 2}

log = get_logger("Transformations", "pymva.transforms")


@dataclass(frozen=True)
class InputRef:
    """One input of a transformation: ``kind`` ``'v'`` (variable), ``'t'`` (target) or ``'s'``
    (spectator) and its index in the data set's list of that kind."""

    kind: str
    index: int

    def sort_key(self) -> tuple[int, int]:
        """Canonical order: variables, then targets, then spectators, each by index."""
        return (_KIND_ORDER[self.kind], self.index)

    def token(self) -> str:
        """The selection keyword that names this input alone (``_V2_``, ``_T0_``, ``_S1_``)."""
        return f"_{self.kind.upper()}{self.index}_"


def fmt_number(x: float) -> str:
    """A number as the weights file stores it: C ``%.16e`` (round-trips every float64 exactly)."""
    return f"{float(x):.16e}"


def fmt_array(a: npt.ArrayLike) -> str:
    return " ".join(f"{v:.16e}" for v in np.asarray(a, dtype=np.float64).ravel().tolist()) + " "


def parse_numbers(text: str | None, count: int, what: str) -> F64:
    """Read ``count`` blank-separated numbers from an element's text.

    Raises
    ------
    ModelError
        If the text holds a different number of values or something that is not a number.
    """
    parts = (text or "").split()
    if len(parts) != count:
        raise ModelError(f"weights file: {what} holds {len(parts)} numbers, expected {count}")
    try:
        return np.array([float(p) for p in parts], dtype=np.float64)
    except ValueError as exc:
        raise ModelError(f"weights file: {what} holds a value that is not a number ({exc})") from None


def _attr(el: ET.Element, name: str) -> str:
    value = el.get(name)
    if value is None:
        raise ModelError(f"weights file: <{el.tag}> has no attribute '{name}'")
    return value


def int_attr(el: ET.Element, name: str) -> int:
    """An integer attribute of a weights-file element (``ModelError`` if missing or malformed)."""
    try:
        return int(_attr(el, name))
    except ValueError:
        raise ModelError(f"weights file: <{el.tag} {name}='{el.get(name)}'> is not an integer") from None


def ordered_sets(sets: dict[int, Any], n_sets: int, what: str) -> list[Any]:
    """The parameter sets read from XML, in set order (``ModelError`` unless exactly 0 … n_sets-1)."""
    if sorted(sets) != list(range(n_sets)):
        raise ModelError(
            f"weights file: {what} holds parameter sets {sorted(sets)}, expected {n_sets} "
            "(one per class plus one for all classes, or one for a single class)"
        )
    return [sets[s] for s in range(n_sets)]


def moments(Z: F32, w: F32 | None, *, chunk: int = 1 << 16) -> tuple[float, F64, F64]:
    """Sum of weights, mean and covariance (normalised by the sum of weights) of the rows of ``Z``.

    Two passes over row chunks in float64: the mean, then the centred scatter — accurate also when
    the means are large compared with the spreads.  ``w=None`` means unit weights.
    """
    n, k = Z.shape
    sw = float(n) if w is None else float(np.sum(w, dtype=np.float64))
    total = np.zeros(k)
    for a in range(0, n, chunk):
        block = Z[a : a + chunk].astype(np.float64)
        total += block.sum(axis=0) if w is None else w[a : a + chunk].astype(np.float64) @ block
    mean = total / sw if sw != 0 else np.full(k, np.nan)
    scatter = np.zeros((k, k))
    for a in range(0, n, chunk):
        block = Z[a : a + chunk].astype(np.float64) - mean
        if w is None:
            scatter += block.T @ block
        else:
            scatter += (block * w[a : a + chunk, None].astype(np.float64)).T @ block
    cov = scatter / sw if sw != 0 else np.full((k, k), np.nan)
    return sw, mean, cov


def map_columns(fn: Callable[[int], Any], k: int, n_rows: int) -> list[Any]:
    """``[fn(0), …, fn(k-1)]``, on threads when the arrays are large (numpy releases the GIL)."""
    workers = min(k, os.cpu_count() or 1, 8)
    if workers <= 1 or n_rows * k < 200_000:
        return [fn(j) for j in range(k)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, range(k)))


class VariableTransform(abc.ABC):
    """Base class of one element of a transformation chain.

    Parameters
    ----------
    inputs : sequence of InputRef
        The selected inputs, in the order the transform reads them (canonical order when parsed).
    n_classes : int
        Number of classes of the data set (1 for regression).
    reference_class : int or None
        Index of the class whose parameter set is applied; ``None`` means all classes.

    Attributes
    ----------
    params_ : list
        One parameter set per class, then the all-classes set (a single set for one class); set by
        :meth:`fit` or read from XML.
    """

    #: Canonical one-letter name in a chain string.
    letter: ClassVar[str]
    #: ``Name`` attribute of the ``<Transform>`` element.
    xml_name: ClassVar[str]
    #: Name used in ``InputVariables_<...>`` directories (``GetShortName``).
    short_name: ClassVar[str]
    #: Each output depends only on the input in the same slot (N, G, U, I).
    elementwise: ClassVar[bool] = True
    #: An inverse transformation exists (all but Decorrelate).
    invertible: ClassVar[bool] = True
    #: INFO line logged when fitting starts (as TMVA prints it), or "".
    preparing_message: ClassVar[str] = ""

    def __init__(
        self, inputs: Sequence[InputRef], *, n_classes: int, reference_class: int | None = None
    ) -> None:
        self.inputs: tuple[InputRef, ...] = tuple(inputs)
        self.n_classes = max(1, int(n_classes))
        self.reference_class = reference_class
        self.params_: list[Any] = []

    # ------------------------------------------------------------------ class sets
    @property
    def n_sets(self) -> int:
        """Number of parameter sets: ``n_classes + 1``, or 1 for a single class."""
        return 1 if self.n_classes <= 1 else self.n_classes + 1

    @property
    def all_classes_set(self) -> int:
        """Index of the all-classes parameter set (the last one)."""
        return self.n_sets - 1

    def set_index(self, class_index: int | None = None) -> int:
        """Parameter set used for ``class_index`` (default: the reference class).

        ``None`` or an index outside ``0 … n_classes-1`` means all classes, as in TMVA.
        """
        c = self.reference_class if class_index is None else class_index
        if c is None or c < 0 or c >= self.n_classes:
            return self.all_classes_set
        return c

    @property
    def n_inputs(self) -> int:
        """Number of selected inputs."""
        return len(self.inputs)

    @property
    def is_fitted(self) -> bool:
        """Whether the parameters exist (fitted or read from a weights file)."""
        return len(self.params_) == self.n_sets

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotTrainedError(f"variable transformation {self.letter} has not been fitted yet")

    def class_subsets(
        self, class_id: npt.NDArray[np.integer[Any]]
    ) -> Iterator[tuple[int, npt.NDArray[np.intp] | None]]:
        """``(set index, event indices)`` per parameter set; ``None`` selects all events."""
        if self.n_sets == 1:
            yield 0, None
            return
        for c in range(self.n_classes):
            yield c, np.flatnonzero(class_id == c)
        yield self.n_classes, None

    # ------------------------------------------------------------------ fitting
    def fit(self, Z: F32, weights: F32, class_id: npt.NDArray[np.integer[Any]]) -> None:
        """Fit every parameter set on the selected inputs ``Z`` of the training events.

        A class without events gets a copy of the all-classes parameters (with a warning); TMVA
        would produce unusable parameters there.
        """
        Z = np.asarray(Z, dtype=np.float32)
        weights = np.asarray(weights, dtype=np.float32)
        if Z.shape[0] == 0:
            raise DataError(f"variable transformation {self.letter}: no training events to fit on")
        params = self._fit_all(Z, weights, np.asarray(class_id))
        self.params_ = params

    def _fit_all(self, Z: F32, weights: F32, class_id: npt.NDArray[np.integer[Any]]) -> list[Any]:
        out: list[Any] = [None] * self.n_sets
        empty: list[int] = []
        for s, idx in self.class_subsets(class_id):
            if idx is not None and idx.size == 0:
                empty.append(s)
                continue
            out[s] = self._fit_set(Z if idx is None else Z[idx], weights if idx is None else weights[idx])
        for s in empty:
            log.warning(
                "Variable transformation %s: class %d has no training events; it uses the parameters "
                "of all classes",
                self.letter,
                s,
            )
            out[s] = out[self.all_classes_set]
        return out

    @abc.abstractmethod
    def _fit_set(self, Z: F32, w: F32) -> Any:
        """Parameters of one subset of events."""

    # ------------------------------------------------------------------ application
    def forward(self, Z: F32, *, columns: Sequence[int] | None = None, class_index: int | None = None) -> F32:
        """Transform the inputs ``Z`` (float32, ``(n, k)``) with the reference class's parameters.

        Parameters
        ----------
        Z : ndarray, shape (n_events, n_inputs) or (n_events, len(columns))
        columns : sequence of int, optional
            Which inputs the columns of ``Z`` are (elementwise transforms only).
        class_index : int, optional
            Use this class's parameter set instead of the reference class's (``n_classes`` or
            ``None`` = all classes).
        """
        self._check_fitted()
        Z = np.asarray(Z, dtype=np.float32)
        if Z.shape[1] == 0:
            return np.array(Z, dtype=np.float32, copy=True)
        out = self._forward_set(self.params_[self.set_index(class_index)], Z, columns)
        return np.ascontiguousarray(out, dtype=np.float32)

    def event_function(
        self, columns: Sequence[int] | None = None
    ) -> Callable[[list[float]], list[float]] | None:
        """The per-event form of :meth:`forward` (reference class's parameters), prepared once.

        The returned function maps the values of one event's inputs (Python floats holding float32
        values, in the order of ``columns`` or of :attr:`inputs`) to the transformed values in
        float64, computed with the same operations, in the same order, as :meth:`forward`; rounded
        to float32 they equal :meth:`forward`'s output for that event.  Finite inputs only.  The
        Reader calls it for every event (no array is built).  ``None`` (the default) when the
        element has no such form: the caller uses :meth:`forward` on one row.

        Raises
        ------
        NotTrainedError
            When the element has not been fitted.
        """
        return None

    def inverse(self, Z: F32, *, columns: Sequence[int] | None = None, class_index: int | None = None) -> F32:
        """The inverse of :meth:`forward` (``ModelError`` for Decorrelate)."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=np.float32)
        if Z.shape[1] == 0:
            return np.array(Z, dtype=np.float32, copy=True)
        out = self._inverse_set(self.params_[self.set_index(class_index)], Z, columns)
        return np.ascontiguousarray(out, dtype=np.float32)

    @abc.abstractmethod
    def _forward_set(self, params: Any, Z: F32, columns: Sequence[int] | None) -> F32:
        """Apply one parameter set."""

    def _inverse_set(self, params: Any, Z: F32, columns: Sequence[int] | None) -> F32:
        raise ModelError(f"variable transformation {self.letter} has no inverse transformation")

    # ------------------------------------------------------------------ XML
    def to_xml(
        self,
        parent: ET.Element,
        *,
        variables: Sequence[VariableInfo],
        targets: Sequence[VariableInfo],
        spectators: Sequence[VariableInfo],
        class_names: Sequence[str],
    ) -> ET.Element | None:
        """Append this transform's ``<Transform>`` element to ``parent`` and return it.

        The element has TMVA's layout (``../shared/tmva/core.md`` §7) plus one attribute TMVA does
        not write, ``ReferenceClass`` (a class name or ``AllClasses``), read back by
        :meth:`from_xml`.
        """
        self._check_fitted()
        el = ET.SubElement(parent, "Transform", {"Name": self.xml_name, **self._extra_attributes()})
        lists = {"v": variables, "t": targets, "s": spectators}
        sel = ET.SubElement(el, "Selection")
        for tag, count_attr in (("Input", "NInputs"), ("Output", "NOutputs")):
            block = ET.SubElement(sel, tag, {count_attr: str(len(self.inputs))})
            for ref in self.inputs:
                info = lists[ref.kind][ref.index]
                ET.SubElement(
                    block,
                    tag,
                    {"Type": KIND_NAMES[ref.kind], "Label": info.label, "Expression": info.expression},
                )
        self._params_to_xml(el)
        ref_name = "AllClasses"
        if self.reference_class is not None and 0 <= self.reference_class < len(class_names):
            ref_name = class_names[self.reference_class]
        el.set("ReferenceClass", ref_name)
        return el

    def _extra_attributes(self) -> dict[str, str]:
        return {}

    @abc.abstractmethod
    def _params_to_xml(self, el: ET.Element) -> None:
        """Write the parameter sets below ``el`` (after ``<Selection>``)."""

    @abc.abstractmethod
    def _params_from_xml(self, el: ET.Element) -> None:
        """Read the parameter sets written by :meth:`_params_to_xml` (or by TMVA)."""

    @staticmethod
    def read_selection(
        el: ET.Element,
        *,
        variables: Sequence[VariableInfo],
        targets: Sequence[VariableInfo],
        spectators: Sequence[VariableInfo],
    ) -> tuple[InputRef, ...]:
        """The inputs listed in a ``<Transform>``'s ``<Selection><Input>`` block.

        Each input is matched by label or expression, as TMVA does.

        Raises
        ------
        ModelError
            If the block is missing (TMVA's pre-``Selection`` format) or names an unknown input.
        """
        sel = el.find("Selection")
        if sel is None:
            raise ModelError(
                f"weights file: <Transform Name='{el.get('Name')}'> has no <Selection> (TMVA's old "
                "weights-file format, not supported)"
            )
        block = sel.find("Input")
        if block is None:
            raise ModelError("weights file: <Selection> has no <Input> block")
        lists = {"v": variables, "t": targets, "s": spectators}
        refs: list[InputRef] = []
        for item in block.findall("Input"):
            type_name = item.get("Type", "")
            kind = _KIND_FROM_NAME.get(type_name)
            if kind is None:
                raise ModelError(
                    f"weights file: unknown input type '{type_name}' in a transformation selection"
                )
            label, expr = item.get("Label", ""), item.get("Expression", "")
            found = [
                i for i, info in enumerate(lists[kind]) if info.label == label or info.expression == expr
            ]
            if not found:
                known = ", ".join(info.label for info in lists[kind]) or "none"
                raise ModelError(
                    f"weights file: the transformation input {type_name.lower()} '{label}' ('{expr}') is "
                    f"not declared; declared {type_name.lower()}s: {known}"
                )
            refs.append(InputRef(kind, found[0]))
        declared = block.get("NInputs")
        if declared is not None and declared.strip().isdigit() and int(declared) != len(refs):
            raise ModelError(f"weights file: <Input NInputs='{declared}'> lists {len(refs)} inputs")
        return tuple(refs)

    # ------------------------------------------------------------------ description
    def describe(self, class_names: Sequence[str] = ()) -> str:
        """This element as a chain string with explicit inputs (``N_Signal(_V0_,_V1_,_T0_)``)."""
        text = self.letter
        if self.reference_class is not None:
            if 0 <= self.reference_class < len(class_names):
                text += "_" + class_names[self.reference_class]
            else:
                text += f"_{self.reference_class}"
        return text + "(" + ",".join(r.token() for r in self.inputs) + ")"

    def __repr__(self) -> str:
        state = "fitted" if self.is_fitted else "not fitted"
        return f"<{type(self).__name__} {self.describe()} {state}>"


#: Rows per block of the float64 matrix products of D and P (8192 rows of 10 inputs: 640 kB of float64,
#: in L2 while a block is converted, centred, multiplied and rounded; see benchmarks/README.md).
BLOCK_ROWS = 8192


def blocked_product(Z: F32, matrix: F64, *, before: F64 | None, after: F64 | None) -> F32:
    """``float32((Z − before) @ matrix + after)`` in float64, :data:`BLOCK_ROWS` rows at a time.

    The subtraction and the addition run on flat views against the vector tiled to one block's
    length: one contiguous loop each (a ``(rows, k)`` block against a ``(k,)`` row would run
    numpy's inner loop ``k`` elements at a time, slower than the matrix product itself).
    """
    Z = np.ascontiguousarray(Z, dtype=np.float32)
    n, k = Z.shape
    k_out = matrix.shape[1]
    out = np.empty((n, k_out), dtype=np.float32)
    m = min(BLOCK_ROWS, n)
    buf = np.empty((m, k), dtype=np.float64)
    res = np.empty((m, k_out), dtype=np.float64)
    before_t = np.tile(before, m) if before is not None else None
    after_t = np.tile(after, m) if after is not None else None
    buf_flat, res_flat = buf.reshape(-1), res.reshape(-1)
    for a in range(0, n, BLOCK_ROWS):
        z = Z[a : a + BLOCK_ROWS]
        rows = len(z)
        x, y = buf[:rows], res[:rows]
        x[...] = z  # float32 -> float64 (exact)
        if before_t is not None:
            xf = buf_flat[: rows * k]
            np.subtract(xf, before_t[: rows * k], out=xf)
        np.matmul(x, matrix, out=y)
        if after_t is not None:
            yf = res_flat[: rows * k_out]
            np.add(yf, after_t[: rows * k_out], out=yf)
        out[a : a + rows] = y
    return out
