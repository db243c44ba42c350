"""``KNN`` (``Types.kKNN``): TMVA's k-nearest-neighbour classifier and regressor (``MethodKNN.cxx``,
``ModulekNN.cxx``), with ``scipy.spatial.cKDTree`` for the neighbour search.

Training stores the (transformed) training events — their variables, weight, type (1 signal,
2 background) and targets; events with weight ``<= 0`` are skipped under
``IgnoreNegWeightsInTraining``.  With ``Trim`` only the first ``min(N_S, N_B)`` events of each type
(in event order) are kept.  With ``ScaleFrac > 0`` every variable is divided by the width of its
central ``100·ScaleFrac`` % (``ModulekNN::ComputeMetric``: from the sorted values, the first one at
``⌊100·i/N⌋ = (100 − f)/2`` to the first one at ``⌊100·i/N⌋ = 100 − (100 − f)/2``, the full range when
that position does not exist; at least 100 events are needed), for the training events and every
query alike.

Response for a query event: its ``nkNN + 2`` nearest training events (squared Euclidean distance in the
scaled space, nearest first), of which the first ``nkNN`` count:

* classification: ``Σ_signal w / Σ_all w`` with ``w`` the event weight (``UseWeight``, default) or 1,
  the weight multiplied by a kernel with ``UseKernel``: ``Kernel=Gaus`` ``exp(−Σ_j d_j² / 2σ_j²)`` with
  ``σ_j = |SigmaFact|·RMS_j`` of the differences to the first ``nkNN`` neighbours at a non-zero
  distance, or ``Kernel=Poln`` ``(1 − (r / r_max)³)³`` with ``r_max`` the largest of those distances (as
  in TMVA the kernel only matters with ``UseWeight``);
* regression: the (weighted) mean of the neighbours' targets.

No ranking (as TMVA).  Weights file: ``<Weights NEvents NVar NTgt>`` with one ``<Event Type Weight>``
per training event holding its variables and targets (unscaled, 16 digits); reading rebuilds the
search tree.  Differences from TMVA (docs/methods.md): neighbours at exactly equal distance may come
in another order than in TMVA's kd-tree (only the last of the ``nkNN`` can differ);
``UseLDA`` (TMVA's experimental local LDA) is refused; ``Kernel`` accepts only ``Gaus`` and ``Poln``
(TMVA silently uses no kernel for anything else); ``BalanceDepth`` shapes TMVA's tree only and has no
effect here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError, OptionError
from ..options import option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .registry import register_method

__all__ = ["KNNOptions", "MethodKNN", "knn_metric"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: Query events per chunk of the neighbour search.
_CHUNK = 1 << 15


@dataclass(frozen=True)
class KNNOptions(BaseMethodOptions):
    """Options of KNN (TMVA ``MethodKNN::DeclareOptions``)."""

    nkNN: int = option(20, "Number of k-nearest neighbors")
    BalanceDepth: int = option(6, "Binary tree balance depth")
    ScaleFrac: float = option(0.80, "Fraction of events used to compute variable width")
    SigmaFact: float = option(1.0, "Scale factor for sigma in Gaussian kernel")
    Kernel: str = option(
        "Gaus", "Use polynomial (=Poln) or Gaussian (=Gaus) kernel", allowed=("Gaus", "Poln")
    )
    Trim: bool = option(False, "Use equal number of signal and background events")
    UseKernel: bool = option(False, "Use polynomial kernel weight")
    UseWeight: bool = option(True, "Use weight to count kNN events")
    UseLDA: bool = option(False, "Use local linear discriminant - experimental feature")


def knn_metric(X: npt.ArrayLike, scale_frac: float) -> F64:
    """``ModulekNN::ComputeMetric``: the width of the central ``100·scale_frac`` % of each variable.

    Parameters
    ----------
    X : array, shape (n_events, n_variables)
    scale_frac : float
        ``ScaleFrac`` in (0, 1] (``⌊100·ScaleFrac⌋`` percent).

    Returns
    -------
    ndarray of float64, shape (n_variables,)

    Raises
    ------
    ModelError
        For fewer than 100 events or a variable of zero width.
    """
    x = np.asarray(X, dtype=np.float64)
    n = len(x)
    ifrac = int(100.0 * scale_frac)
    if n < 100:
        raise ModelError(f"KNN: ScaleFrac={scale_frac:g} needs at least 100 training events, got {n}")
    lfrac = (100 - ifrac) // 2
    rfrac = 100 - (100 - ifrac) // 2
    pct = (100 * np.arange(n)) // n
    lpos = np.flatnonzero(pct == lfrac)
    rpos = np.flatnonzero(pct == rfrac)
    xs = np.sort(x, axis=0)
    if lpos.size and rpos.size:
        width = xs[rpos[0]] - xs[lpos[0]]
    else:
        width = xs[-1] - xs[0]
    if not np.all(width > 0):
        bad = int(np.flatnonzero(~(width > 0))[0])
        raise ModelError(f"KNN: variable {bad} has zero width in the central {ifrac}% of the training events")
    return np.asarray(width, dtype=np.float64)


@register_method
class MethodKNN(MethodBase):
    """TMVA's k-nearest-neighbour method (classification with 2 classes, regression).

    Attributes
    ----------
    events_ : ndarray of float64, shape (n_events, n_variables) or None
        The stored training events (transformed, unscaled).
    weights_, types_, targets_ : ndarray or None
        Their weights, types (1 signal, 2 background) and targets (shape (n_events, n_targets)).
    scale_ : ndarray of float64 or None
        The per-variable widths (``ScaleFrac > 0``), else ``None``.
    """

    method_type = EMVA.kKNN
    Options = KNNOptions
    compatibility_options: ClassVar[frozenset[str]] = frozenset({"treeoptdepth"})
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "The k-nearest neighbor (k-NN) algorithm is a multi-dimensional classification\n"
        "and regression algorithm. Similarly to other TMVA algorithms, k-NN uses a set of\n"
        "training events for which a classification category/regression target is known. \n"
        "The k-NN method compares a test event to all training events using a distance \n"
        "function, which is an Euclidean distance in a space defined by the input variables. \n"
        "The k-NN method, as implemented in TMVA, uses a kd-tree algorithm to perform a\n"
        "quick search for the k events with shortest distance to the test event. The method\n"
        "returns a fraction of signal events among the k neighbors. It is recommended\n"
        "that a histogram which stores the k-NN decision variable is binned with k+1 bins\n"
        "between 0 and 1.\n"
        "\n"
        "--- Performance tuning via configuration options: \n"
        "\n"
        "The k-NN method estimates a density of signal and background events in a \n"
        "neighborhood around the test event. The method assumes that the density of the \n"
        "signal and background events is uniform and constant within the neighborhood. \n"
        "k is an adjustable parameter and it determines an average size of the \n"
        "neighborhood. Small k values (less than 10) are sensitive to statistical \n"
        "fluctuations and large (greater than 100) values might not sufficiently capture  \n"
        "local differences between events in the training set. The speed of the k-NN\n"
        "method also increases with larger values of k. \n"
        "\n"
        "The k-NN method assigns equal weight to all input variables. Different scales \n"
        "among the input variables is compensated using ScaleFrac parameter: the input \n"
        "variables are scaled so that the widths for central ScaleFrac*100% events are \n"
        "equal among all the input variables.\n"
        "\n"
        "--- Additional configuration options: \n"
        "\n"
        "The method inclues an option to use a Gaussian kernel to smooth out the k-NN\n"
        "response. The kernel re-weights events using a distance to the test event."
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        o = self._opts()
        if o.UseLDA:
            raise OptionError(
                f"method KNN ('{title}'): UseLDA (TMVA's experimental local linear discriminant) is not "
                "implemented in pymva; use !UseLDA"
            )
        # TMVA's ProcessOptions corrections
        changes: dict[str, Any] = {}
        if not o.nkNN > 0:
            self.log.warning("kNN must be a positive integer: set kNN = 10")
            changes["nkNN"] = 10
        if o.ScaleFrac < 0.0:
            self.log.warning("ScaleFrac can not be negative: set ScaleFrac = 0")
            changes["ScaleFrac"] = 0.0
        elif o.ScaleFrac > 1.0:
            changes["ScaleFrac"] = 1.0
        if not o.BalanceDepth > 0:
            self.log.warning("Optimize must be a positive integer: set Optimize = 6")
            changes["BalanceDepth"] = 6
        if changes:
            import dataclasses

            self.options = dataclasses.replace(o, **changes)
        self.events_: F64 | None = None
        self.weights_: F64 | None = None
        self.types_: npt.NDArray[np.int16] | None = None
        self.targets_: F64 | None = None
        self.scale_: F64 | None = None
        self._tree: Any = None
        self._scaled: F64 | None = None
        self._m_weights: F64 = np.zeros(0)
        self._m_types: npt.NDArray[np.int16] = np.zeros(0, dtype=np.int16)
        self._m_targets: F64 = np.zeros((0, 0))

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes, and regression (as TMVA's)."""
        if analysis_type == EAnalysisType.kClassification:
            return n_classes == 2
        return analysis_type == EAnalysisType.kRegression

    def _opts(self) -> KNNOptions:
        o = self.options
        assert isinstance(o, KNNOptions)
        return o

    @property
    def _regression(self) -> bool:
        return self.context.analysis_type == EAnalysisType.kRegression

    # ------------------------------------------------------------------ training
    def _train(self, sample: Sample) -> None:
        w = np.asarray(sample.weights, dtype=np.float64)
        keep = w > 0 if self.options.IgnoreNegWeightsInTraining else np.ones(len(w), dtype=bool)
        if not keep.any():
            raise ModelError(f"method {self.method_name}: no training events")
        types = np.where(np.asarray(sample.class_id) == self.context.signal_class, 1, 2).astype(np.int16)
        self.events_ = np.asarray(sample.X[keep], dtype=np.float64)
        self.weights_ = w[keep]
        self.types_ = types[keep]
        self.targets_ = np.asarray(sample.targets[keep], dtype=np.float64)
        self.log.info(
            "Number of signal events %g, number of background events %g",
            float(self.weights_[self.types_ == 1].sum()),
            float(self.weights_[self.types_ == 2].sum()),
        )
        self._build()

    def _build(self) -> None:
        """``MakeKNN``: trim, compute the metric, build the search tree."""
        from scipy.spatial import cKDTree

        if self.events_ is None or self.types_ is None or self.weights_ is None or self.targets_ is None:
            raise ModelError(f"method {self.method_name}: no training events (train or read a weights file)")
        o = self._opts()
        sel = np.ones(len(self.types_), dtype=bool)
        if o.Trim:
            n_min = min(int((self.types_ == t).sum()) for t in np.unique(self.types_))
            rank = np.zeros(len(self.types_), dtype=np.int64)
            for t in np.unique(self.types_):
                m = self.types_ == t
                rank[m] = np.arange(int(m.sum()))
            sel = rank < n_min
            self.log.info("<Fill> Will trim all event types to %d events", n_min)
        # the search module's copy (TMVA's ModulekNN): trimmed and scaled; events_ keeps them all
        self._m_weights = self.weights_[sel]
        self._m_types = self.types_[sel]
        self._m_targets = self.targets_[sel]
        events = self.events_[sel]
        use_metric = o.ScaleFrac > 0 and int(100.0 * o.ScaleFrac) > 0
        self.scale_ = knn_metric(events, o.ScaleFrac) if use_metric else None
        self._scaled = events / self.scale_ if self.scale_ is not None else events
        n_needed = o.nkNN + 2
        if len(self._scaled) < n_needed:
            raise ModelError(
                f"method {self.method_name}: {len(self._scaled)} training events, nkNN={o.nkNN} needs at least "
                f"{n_needed}"
            )
        self._tree = cKDTree(self._scaled)

    # ------------------------------------------------------------------ response
    def _neighbours(self, X: F32) -> tuple[npt.NDArray[np.intp], F64, F64]:
        """Indices (n, k+2), squared distances (n, k+2) and the scaled queries (n, nvar)."""
        if self._tree is None:
            if self.events_ is None:
                raise ModelError(
                    f"method {self.method_name}: no training events (train or read a weights file)"
                )
            self._build()
        assert self._scaled is not None
        q = np.asarray(X, dtype=np.float64)
        if self.scale_ is not None:
            q = q / self.scale_
        k = self._opts().nkNN + 2
        _d, idx = self._tree.query(q, k=k)
        idx = np.asarray(idx, dtype=np.intp).reshape(len(q), k)
        diff = self._scaled[idx] - q[:, None, :]
        d2 = np.sum(diff * diff, axis=2)
        order = np.argsort(d2, axis=1, kind="stable")
        idx = np.take_along_axis(idx, order, axis=1)
        d2 = np.take_along_axis(d2, order, axis=1)
        return idx, d2, q

    def _classify(self, X: F32) -> F64:
        o = self._opts()
        knn = o.nkNN
        idx, d2, q = self._neighbours(X)
        assert self._scaled is not None
        w = self._m_weights[idx[:, :knn]].copy()
        if o.UseKernel:
            positive = d2 > 0
            counted = positive & (np.cumsum(positive, axis=1) <= knn)
            n_counted = counted.sum(axis=1)
            if np.any(n_counted < 1):
                raise ModelError(
                    f"method {self.method_name}: bad event kcount = 0 (all neighbours at distance 0)"
                )
            if o.Kernel == "Gaus":
                diff = self._scaled[idx] - q[:, None, :]
                rms2 = np.sum(np.where(counted[:, :, None], diff * diff, 0.0), axis=1) / n_counted[:, None]
                if np.any(~(rms2 > 0)):
                    raise ModelError(f"method {self.method_name}: bad RMS value = 0 in the Gaussian kernel")
                sigma = abs(o.SigmaFact) * np.sqrt(rms2)
                expo = np.sum(diff[:, :knn] ** 2 / (2.0 * sigma[:, None, :] ** 2), axis=2)
                w *= np.exp(-expo)
            else:
                kradius = np.max(np.where(counted, d2, -1.0), axis=1)
                value = np.abs(np.sqrt(d2[:, :knn]) / np.sqrt(kradius)[:, None])
                poln = np.where(value < 1.0, (1.0 - value**3) ** 3, 0.0)
                w *= poln
        if not o.UseWeight:
            w = np.ones_like(w)
        sig = self._m_types[idx[:, :knn]] == 1
        total = w.sum(axis=1)
        if np.any(~(total > 0)):
            raise ModelError(f"method {self.method_name}: kNN result total weight is not positive")
        return np.asarray(np.where(sig, w, 0.0).sum(axis=1) / total, dtype=np.float64)

    def _regress(self, X: F32) -> F64:
        o = self._opts()
        knn = o.nkNN
        idx, _d2, _q = self._neighbours(X)
        w = self._m_weights[idx[:, :knn]] if o.UseWeight else np.ones(idx[:, :knn].shape)
        total = w.sum(axis=1)
        if np.any(~(total > 0)):
            raise ModelError(f"method {self.method_name}: total weight sum of the neighbours is not positive")
        t = self._m_targets[idx[:, :knn]]  # (n, k, ntgt)
        return np.asarray(np.einsum("nk,nkt->nt", w, t) / total[:, None], dtype=np.float64)

    def _predict(self, X: F32) -> F32:
        self.check_trained()
        parts = []
        for a in range(0, max(len(X), 1), _CHUNK):
            chunk = X[a : a + _CHUNK]
            if len(chunk) == 0:
                break
            parts.append(self._regress(chunk) if self._regression else self._classify(chunk)[:, None])
        n_out = self.context.n_outputs
        if not parts:
            return np.zeros((0, n_out), dtype=np.float32)
        res = np.vstack(parts)
        if self._regression:
            return res.astype(np.float32)
        out = np.empty((len(res), n_out), dtype=np.float32)
        out[:] = 1.0 - res
        out[:, self.context.signal_class] = res[:, 0]
        return out

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``NEvents NVar NTgt`` and one ``<Event Type Weight>`` with variables and targets per event."""
        if self.events_ is None or self.weights_ is None or self.types_ is None or self.targets_ is None:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        parent.set("NEvents", str(len(self.events_)))
        parent.set("NVar", str(self.events_.shape[1]))
        parent.set("NTgt", str(self.targets_.shape[1]))
        rows = np.hstack([self.events_, self.targets_])
        for row, typ, wt in zip(rows, self.types_.tolist(), self.weights_.tolist(), strict=True):
            ev = ET.SubElement(parent, "Event", Type=str(typ), Weight=f"{wt:.16e}")
            ev.text = " ".join(f"{v:.16e}" for v in row.tolist())

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Read the stored events and rebuild the search tree (TMVA ``ReadWeightsFromXML``)."""
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        try:
            nvar = int(weights.get("NVar", str(self.context.n_variables)))
            ntgt = int(weights.get("NTgt", "0"))
        except ValueError:
            raise ModelError(f"{where}: <Weights> has malformed NVar/NTgt attributes") from None
        if nvar != self.context.n_variables:
            raise ModelError(f"{where}: NVar={nvar}, the file declares {self.context.n_variables} variables")
        events = weights.findall("Event")
        if not events:
            raise ModelError(f"{where}: no <Event> elements")
        try:
            values = np.array([[float(t) for t in (e.text or "").split()] for e in events], dtype=np.float64)
            types = np.array([int(e.get("Type", "")) for e in events], dtype=np.int16)
            wts = np.array([float(e.get("Weight", "")) for e in events], dtype=np.float64)
        except ValueError:
            raise ModelError(f"{where}: an <Event> has malformed values or attributes") from None
        if values.ndim != 2 or values.shape[1] != nvar + ntgt:
            raise ModelError(f"{where}: every <Event> must hold NVar + NTgt = {nvar + ntgt} values")
        if not np.all((types == 1) | (types == 2)):
            raise ModelError(f"{where}: an <Event> has a Type other than 1 (signal) or 2 (background)")
        self.events_ = values[:, :nvar]
        self.targets_ = values[:, nvar:]
        self.types_ = types
        self.weights_ = wts
        self._tree = None
        self._build()
        super().read_weights_xml(weights)
