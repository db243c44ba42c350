"""Classifier output distributions, test vs training sample with the KS test (TMVA's ``mvas.cxx``).

``MVA_<title>_S`` / ``_B`` (the test sample) normalised to unit area, signal filled blue and
background hatched red; for the overtraining check (``htype="compare"``, TMVAGui's button 4b) the
training sample ``MVA_<title>_Train_S`` / ``_B`` as points with error bars, and the
Kolmogorov–Smirnov probabilities of test against training in the legend; the probability
(``MVA_<title>_Proba_S``/``_B``) and rarity (``_Rarity_``) distributions when the file has them
(written for methods booked with ``CreateMVAPdfs``).

TMVA computes the KS probability with ROOT's pseudo-experiment option ``"X"`` (random, slightly
different each time); here it is ``TH1::KolmogorovTest`` without options, deterministic, the number
pymva's Factory prints in its overtraining table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import kolmogorov

from ..errors import DataError, OptionError, did_you_mean
from .style import BACKGROUND, SIGNAL, finish, new_figure, stairs, style_context
from .tmvaglob import H1, FileLike, find_method, opened, read_h1, resolve_dataset

__all__ = ["HTYPES", "available_htypes", "kolmogorov_probability", "mvas"]

#: TMVA's ``HistType``: the histogram name suffix, the title and the x-axis title of each kind.
HTYPES: dict[str, tuple[str, str, str]] = {
    "mva": ("", "TMVA response for classifier: {t}", "{t} response"),
    "compare": ("", "TMVA overtraining check for classifier: {t}", "{t} response"),
    "proba": ("_Proba", "TMVA probability for classifier: {t}", "Signal probability"),
    "rarity": ("_Rarity", "TMVA Rarity for classifier: {t}", "Signal rarity"),
}


def kolmogorov_probability(
    c1: npt.ArrayLike, e1: npt.ArrayLike, c2: npt.ArrayLike, e2: npt.ArrayLike
) -> float:
    """ROOT's ``TH1::KolmogorovTest`` (no options) of two histograms given by their in-range
    contents ``c`` and errors ``e``.

    ``D`` is the largest difference of the normalised cumulative contents; the effective numbers of
    entries are ``(Σc)² / Σe²``; the probability is the Kolmogorov distribution of
    ``D·sqrt(n1 n2 / (n1 + n2))`` (``D·sqrt(n)`` of the other histogram when one has no errors).
    0 when a histogram is empty or neither has errors, as in ROOT.

    Raises
    ------
    ValueError
        If the histograms have different numbers of bins.
    """
    a1, a2 = np.asarray(c1, np.float64), np.asarray(c2, np.float64)
    if a1.shape != a2.shape:
        raise ValueError(f"KolmogorovTest: different numbers of bins {a1.size} and {a2.size}")
    s1, s2 = float(a1.sum()), float(a2.sum())
    if s1 == 0.0 or s2 == 0.0:
        return 0.0
    w1 = float(np.sum(np.square(np.asarray(e1, np.float64))))
    w2 = float(np.sum(np.square(np.asarray(e2, np.float64))))
    if not w1 > 0 and not w2 > 0:
        return 0.0
    d = float(np.max(np.abs(np.cumsum(a1 / s1) - np.cumsum(a2 / s2))))
    n1 = s1 * s1 / w1 if w1 > 0 else 0.0
    n2 = s2 * s2 / w2 if w2 > 0 else 0.0
    if not w1 > 0:
        z = d * np.sqrt(n2)
    elif not w2 > 0:
        z = d * np.sqrt(n1)
    else:
        z = d * np.sqrt(n1 * n2 / (n1 + n2))
    return float(kolmogorov(z))


def _check_htype(htype: str) -> str:
    if htype not in HTYPES:
        raise OptionError(
            f"unknown histogram type htype={htype!r}{did_you_mean(htype, HTYPES)}; "
            f"accepted: {', '.join(HTYPES)} (TMVA's kMVAType, kCompareType, kProbaType, kRarityType)"
        )
    return htype


def available_htypes(directory: Any, title: str) -> list[str]:
    """The kinds of :func:`mvas` the method directory has histograms for, in TMVAGui's order."""
    out = []
    for kind, (suffix, _, _) in HTYPES.items():
        base = f"MVA_{title}{suffix}"
        need = [f"{base}_S", f"{base}_B"]
        if kind == "compare":
            need += [f"{base}_Train_S", f"{base}_Train_B"]
        if all(read_h1(directory, n) is not None for n in need):
            out.append(kind)
    return out


def _flow_text(sig: H1, bgd: H1) -> str:
    us, os_ = sig.flow_percent()
    ub, ob = bgd.flow_percent()
    return f"U/O-flow (S,B): ({us:.1f}, {ub:.1f})% / ({os_:.1f}, {ob:.1f})%"


def mvas(
    file: FileLike, dataset: str | None, method: str, htype: str = "compare", *, style: Any = "ROOT"
) -> Any:
    """Draw a classifier's output distributions for signal and background (TMVA ``mvas``).

    Parameters
    ----------
    file : str, os.PathLike or uproot directory
        The TMVA output file.
    dataset : str or None
        The dataset; ``None``: the only one in the file.
    method : str
        The method title (``BookMethod``'s third argument).
    htype : str
        ``"compare"`` (default; test sample as histograms, training sample as points, KS
        probabilities in the legend), ``"mva"`` (test sample only), ``"proba"`` or ``"rarity"``
        (TMVA's ``kCompareType``, ``kMVAType``, ``kProbaType``, ``kRarityType``).
    style : str, dict, list or None
        See :mod:`pymva.plotting.style`.

    Returns
    -------
    matplotlib.figure.Figure
        The test-sample histograms are :class:`~matplotlib.patches.StepPatch` artists whose ``gid``
        is the histogram name (``MVA_<title>_S``); the training-sample points are an errorbar
        container whose data line has that name as ``gid`` (``MVA_<title>_Train_S``).  All drawn
        normalised: contents / (Σ contents × bin width).

    Raises
    ------
    OptionError
        For an unknown ``htype``.
    DataError
        If the file, dataset, method or its histograms for ``htype`` are not there.
    """
    kind = _check_htype(htype)
    suffix, title_fmt, xtitle_fmt = HTYPES[kind]
    with opened(file) as root:
        ds = resolve_dataset(root, dataset)
        info = find_method(root, ds, method)
        directory = root[info.path]
        base = f"MVA_{info.title}{suffix}"
        sig, bgd = read_h1(directory, f"{base}_S"), read_h1(directory, f"{base}_B")
        train_s = read_h1(directory, f"{base}_Train_S") if kind == "compare" else None
        train_b = read_h1(directory, f"{base}_Train_B") if kind == "compare" else None
    if sig is None or bgd is None:
        raise DataError(
            f"method '{method}' has no {base}_S/_B histograms: its {kind} distribution is not in the "
            "file (probability and rarity need a method booked with CreateMVAPdfs)"
        )
    if kind == "compare" and (train_s is None or train_b is None):
        raise DataError(f"method '{method}' has no {base}_Train_S/_B histograms for the overtraining check")
    ks: tuple[float, float] | None = None
    if train_s is not None and train_b is not None and train_s.nbins == sig.nbins == train_b.nbins:
        ks = (
            kolmogorov_probability(sig.values, sig.errors, train_s.values, train_s.errors),
            kolmogorov_probability(bgd.values, bgd.errors, train_b.values, train_b.errors),
        )
    s, b = sig.normalised(), bgd.normalised()
    with style_context(style):
        fig, axes = new_figure(figsize=(8.0, 6.4))
        ax = axes[0, 0]
        sample = " (test sample)" if kind == "compare" else ""
        stairs(ax, s.values, s.edges, class_index=0, class_name="Signal", label=f"Signal{sample}", gid=s.name)
        stairs(
            ax, b.values, b.edges, class_index=1, class_name="Background", label=f"Background{sample}",
            gid=b.name,
        )  # fmt: skip
        ymax = max(float(s.values.max(initial=0.0)), float(b.values.max(initial=0.0)))
        if train_s is not None and train_b is not None:
            for h, color, what, p in (
                (train_s.normalised(), SIGNAL[0], "Signal", None if ks is None else ks[0]),
                (train_b.normalised(), BACKGROUND[0], "Background", None if ks is None else ks[1]),
            ):
                label = f"{what} (training sample)"
                if p is not None:
                    label += f", KS p = {p:.3g}"
                cont = ax.errorbar(
                    h.centers, h.values, yerr=h.errors, fmt="o", color=color, markersize=5,
                    elinewidth=1.2, capsize=0, label=label,
                )  # fmt: skip
                cont.lines[0].set_gid(h.name)
                ymax = max(ymax, float(np.max(h.values + h.errors, initial=0.0)))
        ax.set_xlim(s.edges[0], s.edges[-1])
        ax.set_ylim(0.0, (ymax or 1.0) * (1.45 if kind == "compare" else 1.3))
        ax.set_xlabel(xtitle_fmt.format(t=info.title))
        ax.set_ylabel("(1/N) dN / dx")
        ax.set_title(title_fmt.format(t=info.title))
        ax.legend(loc="upper left", frameon=False, ncol=1)
        if any(v != 0.0 for v in (s.underflow, s.overflow, b.underflow, b.overflow)):
            ax.text(
                1.01, 0.0, _flow_text(sig, bgd), transform=ax.transAxes, rotation=90, ha="left",
                va="bottom", fontsize="x-small",
            )  # fmt: skip
        return finish(fig)
