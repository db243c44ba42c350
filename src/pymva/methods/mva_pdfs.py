"""TMVA's MVA PDFs: the signal and background densities of a classifier's response.

As TMVA's ``MethodBase`` builds and uses them (``tmva/tmva/src/MethodBase.cxx``):

* ``CreateMVAPdfs`` (after training, on the training sample): two ``TH1F`` reference histograms
  ``<Type>_tr_S`` and ``<Type>_tr_B`` on ``[min, max]`` of all training responses, with the number of
  bins ``PDF::GetHistNBins`` gives for the number of training events (``NbinsMVAPdf``, or
  ``NAvEvtPerBin`` events per bin), filled with the training weights (float32 contents, as a TH1F;
  the largest response falls into the overflow), each normalised to unit area (``Tools::NormHist``),
  then turned into the PDFs ``<Title>_PDFSig`` and ``<Title>_PDFBkg`` (:class:`~pymva.methods.pdf.PDF`:
  smoothing, interpolation, KDE as declared by the ``…MVAPdf``, ``…MVAPdfSig``, ``…MVAPdfBkg`` options);
* ``GetProba(mva, ap_sig)``: ``p_s·ap_sig / (p_s·ap_sig + p_b·(1 − ap_sig))`` with ``p = PDF::GetVal``,
  −1 where the denominator is not positive;
* ``GetRarity(mva)``: ``PDF::GetIntegral(xmin, mva)`` of the background PDF (the signal PDF with
  ``reftype="signal"``);
* the weights file holds ``<MVAPdfs>`` with the signal then the background ``<PDF>``
  (``AddWeightsXMLTo`` / ``ReadStateFromXML``).

The option chain is TMVA's ``ProcessBaseOptions``: a default PDF reads the ``…MVAPdf`` options
(``NbinsMVAPdf``, ``NsmoothMVAPdf``, ``PDFInterpolMVAPdf``, …; TMVA's ``PDF`` defaults where not given:
0 bins, i.e. 50 events per bin, no smoothing, ``Spline2``), and the background and signal PDFs start
from it and read the ``…MVAPdfBkg`` and ``…MVAPdfSig`` options.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import ModelError, OptionError
from .pdf import PDF, PDFSettings

__all__ = ["MVAPdfs", "mva_pdf_settings"]

F64 = npt.NDArray[np.float64]

#: PDFSettings field of each option name (without its suffix).
_FIELDS = {
    "NSmooth": "nsmooth",
    "MinNSmooth": "min_nsmooth",
    "MaxNSmooth": "max_nsmooth",
    "NAvEvtPerBin": "nav_evt_per_bin",
    "Nbins": "nbins",
    "CheckHist": "check_hist",
    "PDFInterpol": "interpol",
    "KDEtype": "kde_type",
    "KDEiter": "kde_iter",
    "KDEFineFactor": "kde_fine_factor",
    "KDEborder": "kde_border",
}


def _apply(
    settings: PDFSettings, values: Mapping[str, Any], modified: frozenset[str], suffix: str
) -> PDFSettings:
    changes = {
        field: values[f"{name}{suffix}"] for name, field in _FIELDS.items() if f"{name}{suffix}" in modified
    }
    return dataclasses.replace(settings, **changes)


def mva_pdf_settings(
    values: Mapping[str, Any], modified: frozenset[str], where: str = "MVA PDFs"
) -> tuple[PDFSettings, PDFSettings]:
    """The settings of the signal and background PDFs (TMVA ``MethodBase::ProcessBaseOptions``).

    Parameters
    ----------
    values : mapping of str to value
        Option name (``NbinsMVAPdf``, ``PDFInterpolMVAPdfSig``, …) to its value.
    modified : frozenset of str
        The names the caller set; the others keep TMVA's ``PDF`` defaults (or the default PDF's).
    where : str
        Prefix of error messages.

    Returns
    -------
    signal, background : PDFSettings
        Processed (:meth:`PDFSettings.processed`).

    Raises
    ------
    OptionError
        For ``MaxNSmooth < MinNSmooth`` or an unknown interpolation.
    """
    default = _apply(PDFSettings(), values, modified, "MVAPdf").processed(f"{where} (MVAPdf)")
    bkg = _apply(default, values, modified, "MVAPdfBkg").processed(f"{where} (MVAPdfBkg)")
    sig = _apply(default, values, modified, "MVAPdfSig").processed(f"{where} (MVAPdfSig)")
    return sig, bkg


def _reference_hist(values: F64, weights: F64, nbins: int, lo: float, hi: float) -> tuple[Any, ...]:
    """A TH1F filled with ``values`` and ``weights``, normalised by ``Tools::NormHist``."""
    counts = np.zeros(nbins + 2, dtype=np.float32)
    sumw2 = np.zeros(nbins + 2, dtype=np.float64)
    bins = np.full(values.shape, nbins + 1, dtype=np.intp)
    bins[values < lo] = 0
    inside = (values >= lo) & (values < hi)
    bins[inside] = 1 + (nbins * (values[inside] - lo) / (hi - lo)).astype(np.intp)
    w32 = weights.astype(np.float32)
    np.add.at(counts, bins, w32)  # float32 accumulation in event order, as TH1F::Fill
    np.add.at(sumw2, bins, w32.astype(np.float64) ** 2)
    wv = w32[inside].astype(np.float64)
    v = values[inside]
    sw = float(wv.sum())
    mean = float(wv @ v) / sw if sw else 0.0
    rms = float(np.sqrt(abs(float(wv @ (v * v)) / sw - mean * mean))) if sw else 0.0
    contents = counts[1:-1].astype(np.float64)
    total = float(contents.sum()) * (hi - lo) / nbins
    scale = 1.0 / total if total > 0 else 1.0
    return (
        (contents * scale).astype(np.float32),
        sumw2[1:-1] * scale * scale,
        rms,
    )


@dataclass
class MVAPdfs:
    """The signal and background PDFs of a classifier's response (TMVA ``fMVAPdfS``, ``fMVAPdfB``).

    Attributes
    ----------
    signal, background : PDF
    """

    signal: PDF
    background: PDF

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        title: str,
        type_name: str,
        responses: npt.ArrayLike,
        weights: npt.ArrayLike,
        is_signal: npt.ArrayLike,
        settings: tuple[PDFSettings, PDFSettings],
    ) -> MVAPdfs:
        """``MethodBase::CreateMVAPdfs`` from the training responses.

        Parameters
        ----------
        title, type_name : str
            The method's title (PDF names ``<title>_PDFSig``/``_PDFBkg``) and type name (histogram
            names ``<type>_tr_S``/``_tr_B``).
        responses : array_like of float32, shape (n,)
            ``GetMvaValue`` of every training event.
        weights : array_like, shape (n,)
            The training weights (``Event::GetWeight`` during training).
        is_signal : array_like of bool, shape (n,)
        settings : (PDFSettings, PDFSettings)
            Signal and background settings (:func:`mva_pdf_settings`).

        Returns
        -------
        MVAPdfs

        Raises
        ------
        ModelError
            Without training events, for non-finite responses, or for an empty reference histogram.
        OptionError
            When no number of bins can be derived.
        """
        r = np.asarray(responses, dtype=np.float32).astype(np.float64)
        w = np.asarray(weights, dtype=np.float64)
        sig = np.asarray(is_signal, dtype=bool)
        if r.size == 0:
            raise ModelError(f"<CreateMVAPdfs> method {title}: no training responses")
        if not np.all(np.isfinite(r)):
            raise ModelError(
                f"<CreateMVAPdfs> method {title}: {int((~np.isfinite(r)).sum())} training response(s) are "
                "not finite; the response PDFs cannot be built"
            )
        lo, hi = float(r.min()), float(r.max())
        if not hi > lo:
            raise ModelError(
                f"<CreateMVAPdfs> method {title}: all training responses equal {lo}; the response PDFs "
                "need a range"
            )
        out = []
        for settings_i, mask, tag, h in ((settings[0], sig, "Sig", "S"), (settings[1], ~sig, "Bkg", "B")):
            where = f"method {title}, MVA PDF {tag}"
            nbins = settings_i.hist_nbins(r.size, where)
            contents, sumw2, rms = _reference_hist(r[mask], w[mask], nbins, lo, hi)
            out.append(
                PDF(
                    f"{title}_PDF{tag}",
                    settings_i,
                    contents,
                    lo,
                    hi,
                    hist_name=f"{type_name}_tr_{h}_original",
                    sumw2=sumw2,
                    rms=rms,
                    integral=float(contents.sum(dtype=np.float64)),
                )
            )
        return cls(out[0], out[1])

    # ------------------------------------------------------------------ evaluation
    def proba(self, mva: npt.ArrayLike, ap_sig: float = 0.5) -> F64:
        """``MethodBase::GetProba``: the signal probability of responses ``mva`` (−1 for a zero denominator).

        Parameters
        ----------
        mva : array_like, shape (n,)
        ap_sig : float
            The a-priori signal fraction.

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        x = np.atleast_1d(np.asarray(mva, dtype=np.float64))
        p_s = self.signal.value(x)
        p_b = self.background.value(x)
        num = p_s * ap_sig
        denom = num + p_b * (1.0 - ap_sig)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), -1.0)

    def rarity(self, mva: npt.ArrayLike, reftype: str = "background") -> F64:
        """``MethodBase::GetRarity``: the integral of the reference PDF from its lower edge to ``mva``.

        Parameters
        ----------
        mva : array_like, shape (n,)
        reftype : {"background", "signal"}
            The PDF integrated (TMVA's default: background).

        Returns
        -------
        ndarray of float64, shape (n,)

        Raises
        ------
        OptionError
            For another ``reftype``.
        """
        if reftype not in ("background", "signal"):
            raise OptionError(f"rarity reftype '{reftype}': accepted are 'background' and 'signal'")
        pdf = self.background if reftype == "background" else self.signal
        return pdf.integral(pdf.xmin, mva)

    # ------------------------------------------------------------------ XML
    def to_xml(self, parent: ET.Element) -> ET.Element:
        """Append ``<MVAPdfs>`` with the signal then the background ``<PDF>`` (``AddWeightsXMLTo``)."""
        el = ET.SubElement(parent, "MVAPdfs")
        self.signal.to_xml(el)
        self.background.to_xml(el)
        return el

    @classmethod
    def from_xml(cls, el: ET.Element | None, *, where: str = "weights file") -> MVAPdfs | None:
        """The PDFs of an ``<MVAPdfs>`` element (``ReadStateFromXML``); ``None`` when it holds none.

        Raises
        ------
        ModelError
            For an element with one ``<PDF>`` only or a malformed ``<PDF>``.
        """
        if el is None:
            return None
        pdfs = [child for child in el if child.tag == "PDF"]
        if not pdfs:
            return None
        if len(pdfs) < 2:
            raise ModelError(
                f"{where}: <MVAPdfs> holds {len(pdfs)} <PDF>; expected the signal then the background PDF"
            )
        return cls(PDF.from_xml(pdfs[0], where=where), PDF.from_xml(pdfs[1], where=where))
