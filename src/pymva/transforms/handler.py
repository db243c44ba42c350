"""``TransformationHandler``: a chain of variable transformations (TMVA ``TransformationHandler``).

The handler is what the Factory (its ``Transformations`` option) and every method (its
``VarTransform`` option) hold: the parsed chain, fitted on training events element after element
(each on the output of the previous one), applied to samples or to bare variable arrays, inverted
for regression targets, and written to / read from the weights file.

Differences from TMVA (also in ``docs/transforms.md``):

* the reference class of every element is stored in the weights file (attribute
  ``ReferenceClass`` of ``<Transform>``) and restored on reading — TMVA forgets it and applies the
  all-classes parameters after reloading (``../shared/tmva/core.md`` §4.2 QUIRK);
* the inverse of a chain applies the inverse of every element that transforms targets, last element
  first (TMVA's ``InverseTransform`` inverts each element on the *original* values, so only the
  first element of a chain counts there).
"""

from __future__ import annotations

import array
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample, VariableInfo
from ..errors import DataError, ModelError, NotTrainedError
from ..logger import get_logger
from .base import F32, InputRef, VariableTransform, blas_single_thread, int_attr
from .decorrelate import Decorrelate
from .gauss import Gauss, Uniform
from .identity import Identity
from .normalize import Normalize
from .parse import parse_chain
from .pca import PCA

__all__ = ["ELEMENT_CLASSES", "TransformationHandler", "VariableStatistics", "format_statistics"]

#: The transformation class of each chain letter.
ELEMENT_CLASSES: dict[str, type[VariableTransform]] = {
    "I": Identity,
    "N": Normalize,
    "D": Decorrelate,
    "P": PCA,
    "G": Gauss,
    "U": Uniform,
}
_XML_NAMES = {
    "Normalize": "N",
    "Decorrelation": "D",
    "PCA": "P",
    "Gauss": "G",
    "Uniform": "U",
    "Identity": "I",
}


@dataclass(frozen=True)
class VariableStatistics:
    """One row of the statistics table printed after fitting a chain (core.md §4.4).

    Attributes
    ----------
    label : str
        Variable or target label.
    mean, rms : float
        Weighted mean and RMS of the transformed events (``rms`` set to 0 when not positive).
    min, max : float
        Smallest and largest transformed value.
    kind : {'variable', 'target'}
    """

    label: str
    mean: float
    rms: float
    min: float
    max: float
    kind: str = "variable"


def format_statistics(rows: Sequence[VariableStatistics]) -> list[str]:
    """The lines of TMVA's statistics table (header, dashes, one line per row, dashes)."""
    max_l = max([8, *(len(r.label) for r in rows)])
    max_v = max_l + 2
    clen = max_l + 4 * max_v + 11

    def f(x: float) -> str:
        return "%#11.5g" % x  # noqa: UP031  (C printf semantics wanted)

    lines = [
        f"{'Variable':>{max_l}}  {'Mean':>{max_v}} {'RMS':>{max_v}}   {'[        Min ':>{max_v}}  {'    Max ]':>{max_v}}",
        "-" * clen,
    ]
    lines.extend(
        f"{r.label:>{max_l}}:{f(r.mean):>{max_v}}{f(r.rms):>{max_v}}   [{f(r.min):>{max_v}}{f(r.max):>{max_v}} ]"
        for r in rows
    )
    lines.append("-" * clen)
    return lines


def _column_stats(A: F32, w: F32, chunk: int = 1 << 16) -> tuple[Any, Any, Any, Any]:
    """Weighted mean and variance (two passes, float64), min and max of every column of ``A``."""
    n, k = A.shape
    if n == 0:
        nan = np.full(k, np.nan)
        return nan, nan, nan, nan
    w64 = w.astype(np.float64)
    sw = float(w64.sum())
    if sw == 0:
        nan = np.full(k, np.nan)
        return nan, nan, A.min(axis=0).astype(np.float64), A.max(axis=0).astype(np.float64)
    total = np.zeros(k)
    for a in range(0, n, chunk):
        total += w64[a : a + chunk] @ A[a : a + chunk].astype(np.float64)
    mean = total / sw
    sq = np.zeros(k)
    for a in range(0, n, chunk):
        d = A[a : a + chunk].astype(np.float64) - mean
        d *= d
        sq += w64[a : a + chunk] @ d
    return mean, sq / sw, A.min(axis=0).astype(np.float64), A.max(axis=0).astype(np.float64)


class TransformationHandler:
    """A chain of variable transformations applied in order.

    Build one with :meth:`parse` (from a ``VarTransform`` string) or :meth:`from_xml` (from a
    weights file); the constructor takes ready elements.

    Parameters
    ----------
    elements : sequence of VariableTransform
        The chain, first element first.
    variables, targets, spectators : sequence of VariableInfo
        The data set's descriptions (labels for the table and the XML).
    class_names : sequence of str
        Class names in class-index order.
    method_title : str
        Caller name: the statistics table is logged as ``TFHandler_<method_title>``.
    spec : str, optional
        The chain string (default: built from the elements).

    Attributes
    ----------
    elements : list of VariableTransform
    spec : str
    training_statistics_ : list of VariableStatistics
        The table of the last :meth:`fit` (empty before).
    """

    def __init__(
        self,
        elements: Sequence[VariableTransform] = (),
        *,
        variables: Sequence[VariableInfo] = (),
        targets: Sequence[VariableInfo] = (),
        spectators: Sequence[VariableInfo] = (),
        class_names: Sequence[str] = (),
        method_title: str = "",
        spec: str | None = None,
    ) -> None:
        self.elements: list[VariableTransform] = list(elements)
        self.variables = list(variables)
        self.targets = list(targets)
        self.spectators = list(spectators)
        self.class_names = list(class_names)
        self.method_title = method_title
        self.spec = (
            spec
            if spec is not None
            else (",".join(e.describe(self.class_names) for e in self.elements) or "None")
        )
        self.training_statistics_: list[VariableStatistics] = []
        self._fitted = all(e.is_fitted for e in self.elements)

    # ------------------------------------------------------------------ construction
    @classmethod
    def parse(
        cls,
        spec: str,
        *,
        variables: Sequence[VariableInfo],
        targets: Sequence[VariableInfo] = (),
        spectators: Sequence[VariableInfo] = (),
        class_names: Sequence[str] = (),
        method_title: str = "",
        dataset_name: str = "",
    ) -> TransformationHandler:
        """Parse a chain string (``"N"``, ``"D,G"``, ``"G_Signal(var1,var2)"``, ``"None"``).

        Logs TMVA's ``Create Transformation ...`` lines.

        Raises
        ------
        OptionError
            For anything that cannot be interpreted, listing what is accepted.
        """
        specs = parse_chain(
            spec, variables=variables, targets=targets, spectators=spectators, class_names=class_names
        )
        n_classes = max(1, len(class_names))
        log = get_logger(method_title or "Factory", "pymva.transforms")
        prefix = f"[{dataset_name}] : " if dataset_name else ""
        lists = {"v": variables, "t": targets, "s": spectators}
        kind_name = {"v": "variable", "t": "target", "s": "spectator"}
        elements: list[VariableTransform] = []
        for es in specs:
            if es.class_index is not None:
                log.header(
                    '%sCreate Transformation "%s" with reference class %s=(%d)',
                    prefix,
                    es.name,
                    class_names[es.class_index],
                    es.class_index,
                )
            else:
                log.header('%sCreate Transformation "%s" with events from all classes.', prefix, es.name)
            log.info("")
            log.header("Transformation, Variable selection : ")
            for ref in es.inputs:
                label = lists[ref.kind][ref.index].label
                log.info(
                    "Input : %s '%s' <---> Output : %s '%s'",
                    kind_name[ref.kind],
                    label,
                    kind_name[ref.kind],
                    label,
                )
            elements.append(
                ELEMENT_CLASSES[es.letter](es.inputs, n_classes=n_classes, reference_class=es.class_index)
            )
        if spec.count("(") > 1:
            log.warning(
                "The use of multiple partial variable transformations during the application phase can be "
                'properly invoked via the "Reader", but it is not yet implemented in "MakeClass", the creation '
                "mechanism for standalone C++ application classes. The standalone C++ class produced by this "
                "training job is thus INCOMPLETE AND MUST NOT BE USED! The transformation in question is: %s",
                spec,
            )
        return cls(
            elements,
            variables=variables,
            targets=targets,
            spectators=spectators,
            class_names=class_names,
            method_title=method_title,
            spec=spec,
        )

    # ------------------------------------------------------------------ properties
    @property
    def short_name(self) -> str:
        """Short names of the elements joined by ``_`` (``"Gauss_Deco"``), ``"Id"`` for an empty chain.

        TMVA's ``TransformationHandler::GetName``: the ``InputVariables_<short_name>`` directory of
        the output file.
        """
        return "_".join(e.short_name for e in self.elements) or "Id"

    @property
    def is_identity(self) -> bool:
        """True when the chain changes nothing (empty, ``None`` or only ``I``)."""
        return all(isinstance(e, Identity) for e in self.elements)

    @property
    def is_fitted(self) -> bool:
        """Whether every element has its parameters."""
        return self._fitted or self.is_identity

    @property
    def transforms_targets(self) -> bool:
        """Whether some element transforms regression targets (outputs then need :meth:`inverse_targets`)."""
        return any(r.kind == "t" for e in self.elements for r in e.inputs)

    @property
    def reference_classes(self) -> list[int | None]:
        """Reference class index of each element (``None`` = all classes)."""
        return [e.reference_class for e in self.elements]

    def __len__(self) -> int:
        return len(self.elements)

    def __iter__(self) -> Iterator[VariableTransform]:
        return iter(self.elements)

    def __repr__(self) -> str:
        state = "fitted" if self.is_fitted else "not fitted"
        return f"<TransformationHandler '{self.spec}' [{self.short_name}] {state}>"

    # ------------------------------------------------------------------ helpers
    def _logger(self) -> Any:
        return get_logger(f"TFHandler_{self.method_title or 'Factory'}", "pymva.transforms")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotTrainedError(
                f"the variable transformations '{self.spec}' have not been fitted yet (train the method first)"
            )

    @staticmethod
    def _runs(inputs: Sequence[InputRef]) -> list[tuple[str, list[int], slice]]:
        """Consecutive inputs of the same kind: (kind, indices, slice of the input list)."""
        runs: list[tuple[str, list[int], slice]] = []
        start = 0
        for j in range(1, len(inputs) + 1):
            if j == len(inputs) or inputs[j].kind != inputs[start].kind:
                runs.append((inputs[start].kind, [r.index for r in inputs[start:j]], slice(start, j)))
                start = j
        return runs

    def _gather(self, arrays: dict[str, F32], inputs: Sequence[InputRef], n: int) -> F32:
        if not inputs:
            return np.zeros((n, 0), dtype=np.float32)
        runs = self._runs(inputs)
        if len(runs) == 1:
            kind, idx, _ = runs[0]
            arr = arrays[kind]
            if idx == list(range(arr.shape[1])):
                return arr  # the whole array, read only
            return np.ascontiguousarray(arr[:, idx])
        return np.concatenate([arrays[kind][:, idx] for kind, idx, _ in runs], axis=1)

    def _scatter(
        self, arrays: dict[str, F32], owned: set[str], inputs: Sequence[InputRef], values: F32
    ) -> None:
        for kind, idx, sl in self._runs(inputs):
            arr = arrays[kind]
            if idx == list(range(arr.shape[1])) and sl == slice(0, values.shape[1]):
                arrays[kind] = values  # a fresh array from forward()
                owned.add(kind)
                continue
            if kind not in owned:
                arrays[kind] = arr = arr.copy()
                owned.add(kind)
            arr[:, idx] = values[:, sl]

    def _apply(
        self, arrays: dict[str, F32], n: int, *, fit_on: Sample | None = None, stop: int | None = None
    ) -> None:
        log = self._logger()
        owned: set[str] = set()
        for el in self.elements[:stop]:
            if isinstance(el, Identity):
                continue
            Z = self._gather(arrays, el.inputs, n)
            if fit_on is not None:
                if el.preparing_message:
                    log.info("%s", el.preparing_message)
                el.fit(Z, fit_on.weights, fit_on.class_id)
            self._scatter(arrays, owned, el.inputs, el.forward(Z))

    # ------------------------------------------------------------------ fit and apply
    def fit(self, sample: Sample) -> None:
        """Fit the chain on training events and log the statistics table of the result.

        Each element is fitted on the output of the previous one (applied with its reference
        class's parameters), as TMVA's ``CalcTransformations`` does.

        Raises
        ------
        DataError
            For an empty sample or weights that leave a parameter undefined.
        """
        self.fit_transform(sample)

    def fit_transform(self, sample: Sample) -> Sample:
        """:meth:`fit`, returning the transformed sample that fitting computes anyway.

        The result equals ``fit(sample)`` followed by ``transform(sample)`` (every element applied
        with its reference class's parameters), without applying the chain a second time.

        Raises
        ------
        DataError
            For an empty sample or weights that leave a parameter undefined.
        """
        if not self.elements:
            self._fitted = True
            return sample
        if len(sample) == 0:
            raise DataError(f"cannot fit the variable transformations '{self.spec}' on an empty sample")
        arrays = {"v": sample.X, "t": sample.targets, "s": sample.spectators}
        with blas_single_thread():
            self._apply(arrays, len(sample), fit_on=sample)
            self._fitted = True
            transformed = sample.replace(X=arrays["v"], targets=arrays["t"], spectators=arrays["s"])
            self.training_statistics_ = self._statistics_of(transformed, None)
        self.log_statistics(self.training_statistics_)
        return transformed

    def fit_streaming(self, source: Callable[[], Iterable[Sample]]) -> None:
        """Fit the chain on training events read chunk by chunk (``Streaming=True``; pymva extension).

        Each element is fitted on the output of the elements before it, as :meth:`fit` does, with
        :func:`pymva.transforms.streaming.fit_streaming_passes` (one pass over the chunks for N, D and
        P, two for G and U); a last pass gives the statistics table.  The parameters equal those of
        :meth:`fit` on the concatenated chunks (N identically, D and P to float64 rounding, G and U
        when the range is the same; see :mod:`pymva.transforms.streaming`).

        Parameters
        ----------
        source : callable
            ``source()`` returns a fresh iterable of training chunks (:class:`~pymva.data.dataset.Sample`,
            weights as the method trains with); it is called once per pass, and must give the same
            events in the same order each time.  A source with a ``map(fn)`` method (the chunks of a
            ``Streaming=True`` DataSet read on Dask workers,
            :meth:`pymva.data.stream.StreamedDataSet.map_chunks`) gets the passes of N, D and P and of
            the statistics table as ``map(fn)`` of picklable per-chunk moments
            (:func:`pymva.transforms.streaming.moment_partials`), so that only those travel; the
            parameters are the same as from ``source()`` (the same operations, merged in order).

        Raises
        ------
        OptionError
            A transformation without a streaming fit.
        DataError
            No events, or weights that leave a parameter undefined.
        """
        from .streaming import RunningMoments, fit_from_moments, fit_streaming_passes

        log = self._logger()
        mapper = getattr(source, "map", None)

        def inputs(el: VariableTransform, stop: int) -> Iterator[tuple[F32, F32, npt.NDArray[np.int32]]]:
            for chunk in source():
                n = len(chunk)
                if n == 0:
                    continue
                arrays = {"v": chunk.X, "t": chunk.targets, "s": chunk.spectators}
                self._apply(arrays, n, stop=stop)
                yield self._gather(arrays, el.inputs, n), chunk.weights, chunk.class_id

        with blas_single_thread():
            for i, el in enumerate(self.elements):
                if isinstance(el, Identity):
                    continue
                if el.preparing_message:
                    log.info("%s", el.preparing_message)
                if mapper is not None and isinstance(el, (Normalize, Decorrelate, PCA)):
                    fit_from_moments(el, mapper(_ElementMoments(self, i)))
                else:
                    fit_streaming_passes(el, lambda el=el, i=i: inputs(el, i))  # type: ignore[misc]
            self._fitted = True
            stats: list[RunningMoments] = []
            n_seen = 0
            if mapper is not None:
                for px, pt in mapper(_OutputMoments(self)):
                    if not stats:
                        stats = [RunningMoments(len(px.mean)), RunningMoments(len(pt.mean))]
                    stats[0].merge(px)
                    stats[1].merge(pt)
                    n_seen += px.n
            else:
                for chunk in source():
                    part = self.transform(chunk)
                    if not stats:
                        stats = [RunningMoments(a.shape[1]) for a in (part.X, part.targets)]
                    stats[0].update(part.X, part.weights)
                    stats[1].update(part.targets, part.weights)
                    n_seen += len(part)
        if n_seen == 0:
            raise DataError(f"cannot fit the variable transformations '{self.spec}' on an empty sample")
        blocks = [
            (st.mean, np.diag(st.scatter) / st.sw if st.sw else np.full(len(st.mean), np.nan), st.lo, st.hi)
            for st in stats
        ]
        self.training_statistics_ = self._rows(blocks[0], blocks[1], None)
        self.log_statistics(self.training_statistics_)

    def transform(self, sample: Sample) -> Sample:
        """Return ``sample`` with its variables, targets and spectators transformed as selected.

        Every element uses its reference class's parameter set for all events.
        """
        if not self.elements or self.is_identity:
            return sample
        self._check_fitted()
        arrays = {"v": sample.X, "t": sample.targets, "s": sample.spectators}
        with blas_single_thread():
            self._apply(arrays, len(sample))
        return sample.replace(X=arrays["v"], targets=arrays["t"], spectators=arrays["s"])

    def transform_variables(self, X: npt.ArrayLike, class_index: int | None = None) -> F32:
        """Transform input variables alone (Reader, test-sample evaluation).

        Elements acting on each input separately (N, G, U) transform their variable inputs and skip
        targets and spectators; an element mixing inputs (D, P) that also selects targets or
        spectators cannot be applied without them.

        Parameters
        ----------
        X : array_like, shape (n_events, n_variables)
        class_index : int, optional
            Apply every element with this class's parameter set (TMVA
            ``SetTransformationReferenceClass``, used by Likelihood); default each element's reference class.

        Returns
        -------
        ndarray of float32, same shape

        Raises
        ------
        ModelError
            For an element that needs targets or spectators to transform the variables.
        """
        Xa = np.array(X, dtype=np.float32, copy=True, ndmin=2)
        if Xa.shape[1] != len(self.variables) and self.variables:
            raise ModelError(
                f"the variable transformations expect {len(self.variables)} variables, got an array of shape {Xa.shape}"
            )
        if self.is_identity:
            return Xa
        self._check_fitted()
        for el in self.elements:
            if isinstance(el, Identity):
                continue
            pos = [j for j, r in enumerate(el.inputs) if r.kind == "v"]
            if not pos:
                continue
            if len(pos) < el.n_inputs and not el.elementwise:
                raise ModelError(
                    f"variable transformation {el.describe(self.class_names)} mixes variables with targets or "
                    "spectators; it cannot transform the variables when only they are known (as in the Reader)"
                )
            idx = [el.inputs[j].index for j in pos]
            with blas_single_thread():
                out = el.forward(Xa[:, idx], columns=pos if el.elementwise else None, class_index=class_index)
            Xa[:, idx] = out
        return Xa

    def event_function(self) -> Callable[[list[float]], list[float]] | None:
        """The per-event form of :meth:`transform_variables`, prepared once (the Reader's event loop).

        The function takes one event's variables (Python floats holding float32 values, finite) and
        returns the transformed variables, each rounded to float32 after every element as
        :meth:`transform_variables` rounds them: the same values, with no array and no thread-limit
        context per call.  ``None`` when an element has no per-event form or cannot transform the
        variables alone (the caller then uses :meth:`transform_variables`, which raises).

        Raises
        ------
        NotTrainedError
            When the chain has not been fitted.
        """
        if self.is_identity:
            return list
        self._check_fitted()
        n = len(self.variables)
        steps: list[tuple[list[int], Callable[[list[float]], list[float]], bool]] = []
        for el in self.elements:
            if isinstance(el, Identity):
                continue
            pos = [j for j, r in enumerate(el.inputs) if r.kind == "v"]
            if not pos:
                continue
            if len(pos) < el.n_inputs and not el.elementwise:
                return None
            fn = el.event_function(pos if el.elementwise else None)
            if fn is None:
                return None
            idx = [el.inputs[j].index for j in pos]
            steps.append((idx, fn, idx == list(range(n))))

        def chain_event(x: list[float]) -> list[float]:
            for idx, fn, whole in steps:
                if whole:
                    x = array.array("f", fn(x)).tolist()
                    continue
                x = list(x)
                for i, v in zip(idx, array.array("f", fn([x[i] for i in idx])), strict=True):
                    x[i] = v
            return x

        return chain_event

    def inverse_targets(self, targets: npt.ArrayLike) -> F32:
        """Map regression outputs from the transformed target space back to target values.

        The inverse of every element that transforms targets is applied, last element first.

        Parameters
        ----------
        targets : array_like, shape (n_events, n_targets) or (n_events,)

        Returns
        -------
        ndarray of float32, same shape

        Raises
        ------
        ModelError
            If an element that transforms targets has no inverse (Decorrelate).
        """
        T = np.array(targets, dtype=np.float32, copy=True)
        one_d = T.ndim == 1
        if one_d:
            T = T.reshape(-1, 1)
        if not self.transforms_targets:
            return T.ravel() if one_d else T
        self._check_fitted()
        for el in reversed(self.elements):
            pos = [j for j, r in enumerate(el.inputs) if r.kind == "t"]
            if not pos:
                continue
            if not el.invertible:
                raise ModelError(
                    f"variable transformation {el.describe(self.class_names)}: Decorrelate has no inverse "
                    "transformation, so the regression outputs cannot be mapped back to target values"
                )
            if len(pos) < el.n_inputs and not el.elementwise:
                raise ModelError(
                    f"variable transformation {el.describe(self.class_names)} mixes targets with other inputs; "
                    "it cannot be inverted on the targets alone"
                )
            idx = [el.inputs[j].index for j in pos]
            if max(idx) >= T.shape[1]:
                raise ModelError(
                    f"inverse_targets: expected {len(self.targets)} target columns, got {T.shape[1]}"
                )
            with blas_single_thread():
                T[:, idx] = el.inverse(T[:, idx], columns=pos if el.elementwise else None)
        return T.ravel() if one_d else T

    # ------------------------------------------------------------------ statistics
    def statistics(self, sample: Sample, class_index: int | None = None) -> list[VariableStatistics]:
        """The §4.4 table (weighted mean, RMS, min, max per variable and target) of ``sample`` after
        the chain, for all classes or for one class."""
        transformed = self.transform(sample)
        with blas_single_thread():
            return self._statistics_of(transformed, class_index)

    def _statistics_of(self, sample: Sample, class_index: int | None) -> list[VariableStatistics]:
        if class_index is None:
            X, T, w = sample.X, sample.targets, sample.weights
        else:
            m = sample.class_id == class_index
            X, T, w = sample.X[m], sample.targets[m], sample.weights[m]
        return self._rows(_column_stats(X, w), _column_stats(T, w), class_index)

    def _rows(
        self, x_stats: tuple[Any, Any, Any, Any], t_stats: tuple[Any, Any, Any, Any], class_index: int | None
    ) -> list[VariableStatistics]:
        """The table's rows from (mean, variance, min, max) of the variables and of the targets."""
        rows: list[VariableStatistics] = []
        blocks = ((x_stats, self.variables, "variable"), (t_stats, self.targets, "target"))
        for (mean, var, lo, hi), infos, kind_name in blocks:
            if len(mean) == 0:
                continue
            for j in range(len(mean)):
                label = infos[j].label if j < len(infos) else f"{kind_name}{j}"
                rms = math.sqrt(var[j]) if var[j] >= 0 else math.nan
                if not rms > 0:
                    expr = infos[j].expression if j < len(infos) else label
                    self._logger().warning(
                        'Variable "%s" has zero, negative, or NaN RMS^2: %s ==> set to zero. Please check the '
                        "variable content",
                        expr,
                        rms,
                    )
                    rms = 0.0
                rows.append(
                    VariableStatistics(label, float(mean[j]), rms, float(lo[j]), float(hi[j]), kind_name)
                )
        return rows

    def log_statistics(self, rows: Sequence[VariableStatistics]) -> None:
        """Log the statistics table as TMVA prints it (first line as a HEADER of ``TFHandler_<caller>``)."""
        lines = format_statistics(rows)
        log = self._logger()
        log.header("%s", lines[0])
        for line in lines[1:]:
            log.info("%s", line)

    # ------------------------------------------------------------------ XML
    def to_xml(self) -> ET.Element:
        """The ``<Transformations NTransformations="n">`` element of the weights file.

        One ``<Transform>`` per element in TMVA's layout (core.md §7), with all parameter sets and
        the reference class; ``I`` writes no element (as in TMVA), its position is kept in the
        extra attribute ``ShortName``.

        Raises
        ------
        NotTrainedError
            If the chain has not been fitted.
        """
        root = ET.Element("Transformations", {"NTransformations": str(len(self.elements))})
        if self.elements and not self.is_identity:
            self._check_fitted()
        for el in self.elements:
            el.to_xml(
                root,
                variables=self.variables,
                targets=self.targets,
                spectators=self.spectators,
                class_names=self.class_names,
            )
        if any(isinstance(e, Identity) for e in self.elements):
            root.set("ShortName", self.short_name)
        return root

    @classmethod
    def from_xml(
        cls,
        element: ET.Element,
        *,
        variables: Sequence[VariableInfo],
        targets: Sequence[VariableInfo] = (),
        spectators: Sequence[VariableInfo] = (),
        class_names: Sequence[str] = (),
        method_title: str = "",
    ) -> TransformationHandler:
        """Rebuild a fitted chain from a ``<Transformations>`` element (pymva's or TMVA's).

        Elements without a ``ReferenceClass`` attribute (files written by TMVA) use the all-classes
        parameters, which is what TMVA itself does after reading.

        Raises
        ------
        ModelError
            For an unknown transformation, an undeclared input or malformed parameters.
        """
        if element.tag != "Transformations":
            raise ModelError(f"weights file: expected <Transformations>, got <{element.tag}>")
        n_classes = max(1, len(class_names))
        children = element.findall("Transform")
        declared = (
            int_attr(element, "NTransformations")
            if element.get("NTransformations") is not None
            else len(children)
        )
        read: list[VariableTransform] = []
        for ch in children:
            name = ch.get("Name", "")
            letter = _XML_NAMES.get(name)
            if letter is None:
                raise ModelError(
                    f"weights file: variable transformation '{name}' unknown; known: {', '.join(_XML_NAMES)}"
                )
            if letter == "G" and ch.get("FlatOrGauss", "Gauss") == "Flat":
                letter = "U"
            inputs = VariableTransform.read_selection(
                ch, variables=variables, targets=targets, spectators=spectators
            )
            ref_name = ch.get("ReferenceClass")
            ref: int | None = None
            if ref_name not in (None, "", "AllClasses"):
                if ref_name not in class_names:
                    raise ModelError(
                        f"weights file: reference class '{ref_name}' of transformation {name} is not a class of "
                        f"the data set ({', '.join(class_names) or 'none'})"
                    )
                ref = list(class_names).index(str(ref_name))
            el = ELEMENT_CLASSES[letter](inputs, n_classes=n_classes, reference_class=ref)
            el._params_from_xml(ch)
            read.append(el)
        n_identity = declared - len(read)
        if n_identity < 0:
            raise ModelError(
                f"weights file: <Transformations NTransformations='{declared}'> holds {len(read)} transformations"
            )
        elements: list[VariableTransform] = []
        layout = (element.get("ShortName") or "").split("_")
        if n_identity and layout.count("Id") == n_identity and len(layout) == declared:
            it = iter(read)
            elements = [Identity(n_classes=n_classes) if token == "Id" else next(it) for token in layout]
        else:
            elements = [Identity(n_classes=n_classes) for _ in range(n_identity)] + read
        return cls(
            elements,
            variables=variables,
            targets=targets,
            spectators=spectators,
            class_names=class_names,
            method_title=method_title,
        )


@dataclass(frozen=True)
class _ElementMoments:
    """Per chunk: the elements before ``stop`` applied, the moments of element ``stop``'s inputs.

    Picklable (it runs where the chunk is read, a Dask worker); what :meth:`fit_streaming`'s
    ``inputs`` and :func:`~pymva.transforms.streaming.fit_streaming` compute, chunk by chunk.
    """

    handler: TransformationHandler
    stop: int

    def __call__(self, chunk: Sample) -> Any:
        from .streaming import moment_partials

        h = self.handler
        el = h.elements[self.stop]
        n = len(chunk)
        arrays = {"v": chunk.X, "t": chunk.targets, "s": chunk.spectators}
        with blas_single_thread():
            if n:
                h._apply(arrays, n, stop=self.stop)
            return moment_partials(el, h._gather(arrays, el.inputs, n), chunk.weights, chunk.class_id)


@dataclass(frozen=True)
class _OutputMoments:
    """Per chunk: the moments of the transformed variables and targets (the statistics table)."""

    handler: TransformationHandler

    def __call__(self, chunk: Sample) -> Any:
        from .streaming import RunningMoments

        part = self.handler.transform(chunk)
        with blas_single_thread():
            return RunningMoments.of(part.X, part.weights), RunningMoments.of(part.targets, part.weights)
