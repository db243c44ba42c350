"""``Likelihood`` (``Types.kLikelihood``): TMVA's projective likelihood ratio (``MethodLikelihood.cxx``).

Training, as TMVA's ``MethodLikelihood::Train``:

* with a ``VarTransform`` chain, each event is transformed with the parameters of *both* classes
  (``SetTransformationReferenceClass``): the reference histograms of variable ``i`` span
  ``[min, max]`` of both transformed values over all training events; events with weight ``<= 0`` are
  skipped with ``IgnoreNegWeightsInTraining``;
* variable ``i`` gets one signal and one background reference histogram (``TH1F``) with
  ``PDF::GetHistNBins(min(N_S, N_B))`` bins — ``N / NAvEvtPerBin`` (×5 for ``KDE``) or ``Nbins`` —
  (an integer variable, type ``I``: one bin per integer from ``Nint(min)`` to ``Nint(max + 1)``),
  filled with the event weight and the event's own-class transformed value (clamped into the range);
* each histogram becomes a :class:`~pymva.methods.pdf.PDF` with the settings of the default PDF
  (options ``NSmooth``, ``MinNSmooth``, ``MaxNSmooth``, ``NAvEvtPerBin``, ``Nbins``, ``CheckHist``,
  ``PDFInterpol``, ``KDEtype``, ``KDEiter``, ``KDEFineFactor``, ``KDEborder``) overridden per variable
  and class by the same options with the suffix ``Sig[i]`` / ``Bkg[i]`` (``NSmoothSig[0]=20``,
  ``PDFInterpolBkg[2]=KDE``).

Response (``GetMvaValue``): with ``x_S`` (``x_B``) the event transformed with the signal (background)
parameters, ``p_S = Π_i PDF_S,i(x_S,i)`` and ``p_B = Π_i PDF_B,i(x_B,i)`` — each ``x`` clamped into the
signal PDF's range (``[xmin, xmax − 1e-10]``), each factor the fine histogram interpolated linearly
between bin centres (its bin content when the signal PDF is ``Spline0``), at least ``ε = 1e3·DBL_MIN`` —
and ``r = p_S / (p_S + p_B)`` (``1 − 1e-15`` at most); ``TransformOutput`` returns
``−ln(1/r − 1) / 15`` instead.

Ranking "Delta Separation": the separation (80-bin histograms on [0, 1] of the training response,
``Tools::GetSeparation``) of the full likelihood minus that of the likelihood without variable ``i``.

Weights file: ``<Weights NVariables NClasses="2">`` with per variable a ``<PDFDescriptor VarIndex
ClassIndex="0">`` (signal) and ``ClassIndex="1"`` (background), each holding its ``<PDF>`` (see
:mod:`pymva.methods.pdf`).  As TMVA does, only ``TransformOutput`` and the base options are written to
``<Options>``: the PDF options are the PDFs' own (their settings travel in the ``<PDF>`` elements).
"""

from __future__ import annotations

import dataclasses
import functools
import typing
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..data.dataset import Sample
from ..errors import ModelError
from ..options import option
from ..types import EMVA, EAnalysisType
from .base import BaseMethodOptions, MethodBase, MethodContext
from .pdf import INTERPOL_CODES, PDF, PDFSettings
from .ranking import Ranking
from .registry import register_method

__all__ = ["LikelihoodOptions", "MethodLikelihood", "transform_likelihood_output"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: ``MethodLikelihood::fEpsilon``.
EPSILON = 1.0e3 * np.finfo(np.float64).tiny
_INTERPOLS = tuple(INTERPOL_CODES)
_KDE_ITERS = ("Nonadaptive", "Adaptive")
_KDE_BORDERS = ("None", "Renorm", "Mirror")

# (option stem, PDFSettings field, type, allowed values)
_PDF_OPTIONS: tuple[tuple[str, str, type, tuple[str, ...] | None], ...] = (
    ("NSmooth", "nsmooth", int, None),
    ("MinNSmooth", "min_nsmooth", int, None),
    ("MaxNSmooth", "max_nsmooth", int, None),
    ("NAvEvtPerBin", "nav_evt_per_bin", int, None),
    ("Nbins", "nbins", int, None),
    ("CheckHist", "check_hist", bool, None),
    ("PDFInterpol", "interpol", str, _INTERPOLS),
    ("KDEtype", "kde_type", str, ("Gauss",)),
    ("KDEiter", "kde_iter", str, _KDE_ITERS),
    ("KDEFineFactor", "kde_fine_factor", float, None),
    ("KDEborder", "kde_border", str, _KDE_BORDERS),
)


@dataclass(frozen=True)
class LikelihoodOptions(BaseMethodOptions):
    """Options of Likelihood: ``TransformOutput`` and those of the default PDF (TMVA ``PDF`` options)."""

    TransformOutput: bool = option(False, "Transform likelihood output by inverse sigmoid function")
    NSmooth: int = option(0, "Number of smoothing iterations for the input histograms")
    MinNSmooth: int = option(-1, "Min number of smoothing iterations, for bins with most data")
    MaxNSmooth: int = option(-1, "Max number of smoothing iterations, for bins with least data")
    NAvEvtPerBin: int = option(50, "Average number of events per PDF bin")
    Nbins: int = option(0, "Defined number of bins for the histogram from which the PDF is created")
    CheckHist: bool = option(False, "Whether or not to check the source histogram of the PDF")
    PDFInterpol: str = option(
        "Spline2", "Interpolation method for reference histograms (e.g. Spline2 or KDE)", allowed=_INTERPOLS
    )
    KDEtype: str = option("Gauss", "KDE kernel type (1=Gauss)", allowed=("Gauss",))
    KDEiter: str = option(
        "Nonadaptive", "Number of iterations (1=non-adaptive, 2=adaptive)", allowed=_KDE_ITERS
    )
    KDEFineFactor: float = option(
        1.0, "Fine tuning factor for Adaptive KDE: Factor to multyply the width of the kernel"
    )
    KDEborder: str = option(
        "None",
        "Border effects treatment (1=no treatment , 2=kernel renormalization, 3=sample mirroring)",
        allowed=_KDE_BORDERS,
    )


def _element_check(tp: type, allowed: tuple[str, ...] | None) -> Any:
    """Check of one element of a per-variable PDF option (text; empty = the default PDF's value)."""

    def check(value: Any) -> str | None:
        text = str(value).strip()
        if not text:
            return None
        try:
            _convert(text, tp, allowed)
        except ValueError as exc:
            return str(exc)
        return None

    return check


def _convert(text: str, tp: type, allowed: tuple[str, ...] | None) -> Any:
    if tp is bool:
        low = text.lower()
        if low in ("1", "true", "ktrue", "t"):
            return True
        if low in ("0", "false", "kfalse", "f"):
            return False
        raise ValueError(f"'{text}' is not a boolean (1, true, kTRUE, T, 0, false, kFALSE, F)")
    if tp is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"'{text}' is not an integer") from None
    if tp is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a number") from None
    assert allowed is not None
    for a in allowed:
        if a.lower() == text.lower():
            return a
    raise ValueError(f"'{text}' is not one of {', '.join(allowed)}")


@functools.lru_cache(maxsize=64)
def _options_for(n_vars: int) -> type[LikelihoodOptions]:
    """``LikelihoodOptions`` plus the per-variable PDF options ``<Option>Sig[i]`` / ``<Option>Bkg[i]``."""
    fields = []
    for suffix, who in (("Sig", "signal"), ("Bkg", "background")):
        for stem, _attr, tp, allowed in _PDF_OPTIONS:
            fields.append(
                (
                    f"{stem}{suffix}",
                    tuple[str, ...],
                    option(
                        ("",) * n_vars,
                        f"{stem} of the {who} PDF of variable i (empty: the default PDF's {stem})",
                        size=n_vars,
                        check=_element_check(tp, allowed),
                    ),
                )
            )
    cls = dataclasses.make_dataclass(
        f"LikelihoodOptions{n_vars}", fields, bases=(LikelihoodOptions,), frozen=True
    )
    return typing.cast("type[LikelihoodOptions]", cls)


def transform_likelihood_output(ps: npt.ArrayLike, pb: npt.ArrayLike, transform: bool) -> F64:
    """``MethodLikelihood::TransformLikelihoodOutput``: ``r = p_S/(p_S + p_B)`` or ``−ln(1/r − 1)/15``.

    Parameters
    ----------
    ps, pb : array_like
        Signal and background likelihoods (floored at ``1e3·DBL_MIN``).
    transform : bool
        ``TransformOutput``.

    Returns
    -------
    ndarray of float64
    """
    s = np.maximum(np.asarray(ps, dtype=np.float64), EPSILON)
    b = np.maximum(np.asarray(pb, dtype=np.float64), EPSILON)
    r = s / (s + b)
    r = np.where(r >= 1.0, 1.0 - 1.0e-15, r)
    if transform:
        r = np.where(r <= 0.0, EPSILON, r)
        r = -np.log(1.0 / r - 1.0) / 15.0
    return np.asarray(r, dtype=np.float64)


def _separation(s: F64, b: F64, ws: F64, wb: F64) -> float:
    """``Tools::GetSeparation`` of two 80-bin histograms on [0, 1] filled with ``s`` and ``b``."""
    nbins = 80
    hs = np.zeros(nbins + 2)
    hb = np.zeros(nbins + 2)
    for vals, w, h in ((s, ws, hs), (b, wb, hb)):
        v = vals.astype(np.float32).astype(np.float64)
        idx = np.where(v < 0, 0, np.where(v >= 1, nbins + 1, 1 + (nbins * v).astype(np.intp)))
        np.add.at(h, idx, w)
    step = 1.0 / nbins
    ns = hs[1:-1].sum() * step
    nb = hb[1:-1].sum() * step
    if not (ns > 0 and nb > 0):
        return 0.0
    ps, pb = hs[1:-1] / ns, hb[1:-1] / nb
    tot = ps + pb
    ok = tot > 0
    return float(np.sum((ps[ok] - pb[ok]) ** 2 / tot[ok]) * 0.5 * step)


@register_method
class MethodLikelihood(MethodBase):
    """TMVA's projective likelihood estimator with per-variable PDFs.

    Attributes
    ----------
    pdfs_sig_, pdfs_bkg_ : list of PDF
        One signal and one background PDF per input variable (training or weights file).
    delta_separation_ : ndarray of float64 or None
        The ranking values (training only).
    """

    method_type = EMVA.kLikelihood
    Options = LikelihoodOptions
    ranking_criterion: ClassVar[str] = "Delta Separation"
    compatibility_options: ClassVar[frozenset[str]] = frozenset(
        {"navevtperbinsig", "navevtperbinbkg", "nsmoothsig", "nsmoothbkg"}
    )
    #: Options TMVA writes to the weights file (the PDF options stay out, as in TMVA).
    written_options: ClassVar[frozenset[str]] = frozenset(
        {d.name for d in BaseMethodOptions.declarations()} | {"TransformOutput"}
    )
    help_text: ClassVar[str] = (
        "--- Short description:\n"
        "\n"
        "The maximum-likelihood classifier models the data with probability \n"
        "density functions (PDF) reproducing the signal and background\n"
        "distributions of the input variables. Correlations among the \n"
        "variables are ignored.\n"
        "\n"
        "--- Performance optimisation:\n"
        "\n"
        "Required for good performance are decorrelated input variables\n"
        '(PCA transformation via the option "VarTransform=Decorrelate"\n'
        "may be tried). Irreducible non-linear correlations may be reduced\n"
        "by precombining strongly correlated input variables, or by simply\n"
        "removing one of the variables.\n"
        "\n"
        "--- Performance tuning via configuration options:\n"
        "\n"
        "High fidelity PDF estimates are mandatory, i.e., sufficient training \n"
        "statistics is required to populate the tails of the distributions\n"
        "It would be a surprise if the default Spline or KDE kernel parameters\n"
        "provide a satisfying fit to the data. The user is advised to properly\n"
        "tune the events per bin and smooth options in the spline cases\n"
        "individually per variable. If the KDE kernel is used, the adaptive\n"
        "Gaussian kernel may lead to artefacts, so please always also try\n"
        "the non-adaptive one."
    )

    def __init__(self, title: str, context: MethodContext, options: str = "", **kwargs: Any) -> None:
        super().__init__(title, context, options, **kwargs)
        self.pdfs_sig_: list[PDF] = []
        self.pdfs_bkg_: list[PDF] = []
        self.delta_separation_: F64 | None = None
        self._raw_training: Sample | None = None
        # TMVA's ProcessOptions: the settings must be valid at booking
        for i in range(context.n_variables):
            for suffix in ("Sig", "Bkg"):
                self.pdf_settings(i, suffix)

    @classmethod
    def options_class(cls, context: MethodContext) -> type[BaseMethodOptions]:
        """The options with one element per input variable for the ``Sig[i]``/``Bkg[i]`` PDF options."""
        return _options_for(context.n_variables)

    @classmethod
    def has_analysis_type(cls, analysis_type: EAnalysisType, n_classes: int, n_targets: int) -> bool:
        """Classification with 2 classes only (as TMVA's)."""
        return analysis_type == EAnalysisType.kClassification and n_classes == 2

    # ------------------------------------------------------------------ options
    def _opts(self) -> LikelihoodOptions:
        o = self.options
        assert isinstance(o, LikelihoodOptions)
        return o

    def pdf_settings(self, ivar: int, suffix: str) -> PDFSettings:
        """The processed settings of the PDF of variable ``ivar`` (``suffix`` ``"Sig"`` or ``"Bkg"``).

        Raises
        ------
        OptionError
            For inconsistent smoothing options (``MaxNSmooth < MinNSmooth``).
        """
        o = self._opts()
        values: dict[str, Any] = {}
        for stem, attr, tp, allowed in _PDF_OPTIONS:
            values[attr] = getattr(o, stem)
            per_var = getattr(o, f"{stem}{suffix}", None)
            if per_var is not None and ivar < len(per_var) and str(per_var[ivar]).strip():
                values[attr] = _convert(str(per_var[ivar]).strip(), tp, allowed)
        where = f"method Likelihood ('{self.title}'), PDF {suffix}[{ivar}]"
        return PDFSettings(**values).processed(where)

    # ------------------------------------------------------------------ training
    def train(self, sample: Sample) -> None:
        """Fit the transformations, then fill and build the PDFs (see the module notes)."""
        self._raw_training = sample
        try:
            super().train(sample)
        finally:
            self._raw_training = None

    def _classes(self) -> tuple[int, int]:
        s = self.context.signal_class
        return s, 1 - s if self.context.n_classes == 2 else (0 if s else 1)

    def _train(self, sample: Sample) -> None:
        raw = self._raw_training if self._raw_training is not None else sample
        sig_cls, bkg_cls = self._classes()
        X = np.asarray(raw.X, dtype=np.float32)
        w = np.asarray(sample.weights, dtype=np.float32)
        is_sig = np.asarray(sample.class_id) == sig_cls
        xs = self.transformations.transform_variables(X, class_index=sig_cls)
        xb = self.transformations.transform_variables(X, class_index=bkg_cls)
        keep = np.ones(len(X), dtype=bool)
        if self.options.IgnoreNegWeightsInTraining:
            keep = w > 0
        if not keep.any():
            raise ModelError(f"method {self.method_name}: no training events with positive weight")
        n_min = int(min(is_sig.sum(), (~is_sig).sum()))
        own = np.where(is_sig[:, None], xs, xb)
        self.pdfs_sig_, self.pdfs_bkg_ = [], []
        self.log.info("Filling reference histograms")
        for i, vi in enumerate(self.context.variables):
            lo = float(min(xs[keep, i].min(), xb[keep, i].min()))
            hi = float(max(xs[keep, i].max(), xb[keep, i].max()))
            s_set = self.pdf_settings(i, "Sig")
            b_set = self.pdf_settings(i, "Bkg")
            if vi.type == "I":
                ilo = int(np.rint(lo))
                hi = hi + 1.0
                ihi = int(np.rint(hi))
                nb_s = nb_b = max(ihi - ilo, 1)
                h_lo, h_hi = float(ilo), float(ihi)
            else:
                nb_s = s_set.hist_nbins(n_min, f"method {self.method_name}, PDF Sig[{i}]")
                nb_b = b_set.hist_nbins(n_min, f"method {self.method_name}, PDF Bkg[{i}]")
                h_lo, h_hi = lo, hi
            value = own[keep, i].astype(np.float64)
            value = np.where(value >= hi, hi - 1.0e-10, np.where(value < lo, lo + 1.0e-10, value))
            wk = w[keep]
            sk = is_sig[keep]
            for cls_mask, nb, settings, tag, store in (
                (sk, nb_s, s_set, "Sig", self.pdfs_sig_),
                (~sk, nb_b, b_set, "Bkg", self.pdfs_bkg_),
            ):
                v = value[cls_mask]
                ww = wk[cls_mask]
                bins = 1 + (nb * (v - h_lo) / (h_hi - h_lo)).astype(np.intp)
                inside = (v >= h_lo) & (v < h_hi)
                counts = np.zeros(nb + 2, dtype=np.float32)
                sumw2 = np.zeros(nb + 2, dtype=np.float64)
                np.add.at(counts, bins[inside], ww[inside])
                np.add.at(sumw2, bins[inside], ww[inside].astype(np.float64) ** 2)
                wv = ww[inside].astype(np.float64)
                sw = float(wv.sum())
                mean = float(wv @ v[inside]) / sw if sw else 0.0
                rms = float(np.sqrt(abs(float(wv @ (v[inside] ** 2)) / sw - mean * mean))) if sw else 0.0
                if not np.any(counts[1:-1] != 0):
                    raise ModelError(
                        f"method {self.method_name}: the {tag} reference histogram of variable "
                        f"'{vi.label}' is empty"
                    )
                label = "sig" if tag == "Sig" else "bgd"
                store.append(
                    PDF(
                        f"{self.title} PDF {tag}[{i}]",
                        settings,
                        counts[1:-1],
                        h_lo,
                        h_hi,
                        hist_name=f"{self.context.dataset_name}_{self.title}_{vi.label}_{label}_original",
                        sumw2=sumw2[1:-1],
                        rms=rms,
                        integral=float(counts[1:-1].sum(dtype=np.float64)),
                    )
                )
        self.log.info("Building PDF out of reference histograms")
        # ranking on the training events (TMVA's CreateRanking)
        self.delta_separation_ = self._delta_separation(xs, xb, w.astype(np.float64), is_sig)

    def _delta_separation(self, xs: F32, xb: F32, w: F64, is_sig: npt.NDArray[np.bool_]) -> F64:
        ref = 0.0
        out = []
        for drop in range(-1, self.context.n_variables):
            r = self._response(xs, xb, None if drop < 0 else drop)
            sep = _separation(r[is_sig], r[~is_sig], w[is_sig], w[~is_sig])
            if drop < 0:
                ref = sep
            else:
                out.append(ref - sep)
        return np.asarray(out, dtype=np.float64)

    # ------------------------------------------------------------------ response
    def _response(self, xs: F32, xb: F32, drop: int | None = None) -> F64:
        if len(self.pdfs_sig_) != self.context.n_variables or len(self.pdfs_bkg_) != self.context.n_variables:
            raise ModelError(
                f"method {self.method_name}: reference PDFs don't exist (train or read a weights file)"
            )
        n = len(xs)
        ps = np.ones(n, dtype=np.float64)
        pb = np.ones(n, dtype=np.float64)
        for i in range(self.context.n_variables):
            if i == drop:
                continue
            ref = self.pdfs_sig_[i]
            bins_only = ref.interpol == "Spline0"
            for x, pdf, acc in ((xs[:, i], ref, ps), (xb[:, i], self.pdfs_bkg_[i], pb)):
                v = np.asarray(x, dtype=np.float32).astype(np.float64)
                v = np.where(v >= ref.xmax, ref.xmax - 1.0e-10, np.where(v < ref.xmin, ref.xmin, v))
                acc *= pdf.value(v, floor=EPSILON, bins_only=bins_only)
        return transform_likelihood_output(ps, pb, self._opts().TransformOutput)

    def raw_outputs(self, X: F32) -> F32:
        """The likelihood ratio for untransformed inputs (signal column; ``1 − r`` or ``−r`` in the other)."""
        self.check_trained()
        Xa = np.ascontiguousarray(X, dtype=np.float32)
        sig_cls, bkg_cls = self._classes()
        xs = self.transformations.transform_variables(Xa, class_index=sig_cls)
        xb = self.transformations.transform_variables(Xa, class_index=bkg_cls)
        return self._columns(self._response(xs, xb))

    def _columns(self, r: F64) -> F32:
        out = np.empty((len(r), self.context.n_classes), dtype=np.float32)
        other = -r if self._opts().TransformOutput else 1.0 - r
        out[:] = other[:, None]
        out[:, self.context.signal_class] = r
        return out

    def _predict(self, X: F32) -> F32:
        """The response for inputs already transformed (both classes' parameters alike)."""
        self.check_trained()
        Xa = np.asarray(X, dtype=np.float32)
        return self._columns(self._response(Xa, Xa))

    # ------------------------------------------------------------------ persistence
    def add_weights_xml(self, parent: ET.Element) -> None:
        """``<Weights NVariables NClasses="2">`` with a signal and a background PDF per variable."""
        if len(self.pdfs_sig_) != self.context.n_variables:
            raise ModelError(f"method {self.method_name}: nothing to write, the method is not trained")
        parent.set("NVariables", str(self.context.n_variables))
        parent.set("NClasses", "2")
        for i in range(self.context.n_variables):
            for cls_index, pdf in ((0, self.pdfs_sig_[i]), (1, self.pdfs_bkg_[i])):
                desc = ET.SubElement(parent, "PDFDescriptor", VarIndex=str(i), ClassIndex=str(cls_index))
                pdf.to_xml(desc)

    def read_weights_xml(self, weights: ET.Element | None) -> None:
        """Rebuild the PDFs from the ``<PDFDescriptor>`` elements (TMVA ``ReadWeightsFromXML``)."""
        where = f"weights file of method {self.method_name}"
        if weights is None:
            raise ModelError(f"{where}: no <Weights> element")
        try:
            nvars = int(weights.get("NVariables", ""))
        except ValueError:
            raise ModelError(f"{where}: <Weights> has no valid NVariables attribute") from None
        if nvars != self.context.n_variables:
            raise ModelError(
                f"{where}: NVariables={nvars}, the file declares {self.context.n_variables} variables"
            )
        descs = weights.findall("PDFDescriptor")
        if len(descs) != 2 * nvars:
            raise ModelError(f"{where}: {len(descs)} <PDFDescriptor> elements, expected {2 * nvars}")
        sig: list[PDF | None] = [None] * nvars
        bkg: list[PDF | None] = [None] * nvars
        for k, desc in enumerate(descs):
            pdf_el = desc.find("PDF")
            if pdf_el is None:
                raise ModelError(f"{where}: <PDFDescriptor> {k} holds no <PDF>")
            try:
                ivar = int(desc.get("VarIndex", str(k // 2)))
                cls_index = int(desc.get("ClassIndex", str(k % 2)))
            except ValueError:
                raise ModelError(f"{where}: <PDFDescriptor> {k} has malformed VarIndex/ClassIndex") from None
            if not (0 <= ivar < nvars and cls_index in (0, 1)):
                raise ModelError(
                    f"{where}: <PDFDescriptor> VarIndex={ivar} ClassIndex={cls_index} out of range"
                )
            (sig if cls_index == 0 else bkg)[ivar] = PDF.from_xml(pdf_el, where=where)
        if any(p is None for p in sig) or any(p is None for p in bkg):
            raise ModelError(f"{where}: a signal or background PDF is missing")
        self.pdfs_sig_ = [p for p in sig if p is not None]
        self.pdfs_bkg_ = [p for p in bkg if p is not None]
        super().read_weights_xml(weights)

    def ranking(self) -> list[tuple[str, float]] | None:
        """ "Delta Separation" per variable, best first (after training, as in TMVA)."""
        if self.delta_separation_ is None:
            return None
        labels = [v.label for v in self.context.variables]
        return list(Ranking.from_values(labels, self.delta_separation_, self.ranking_criterion).entries)
