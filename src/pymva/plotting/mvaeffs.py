"""Cut efficiencies and the optimal cut of a classifier (TMVA's ``mvaeffs.cxx``).

For a cut ``x`` on the classifier output (events with output above ``x`` are kept), drawn at the
bin centres of ``MVA_<title>_effS`` / ``_effB`` (10000 bins in TMVA): the signal and background
efficiencies, the signal purity ``S/(S+B)``, efficiency × purity and a significance such as
``S/√(S+B)`` with ``S = ε_S·N_S`` and ``B = ε_B·N_B`` for the numbers of signal and background
events you expect (TMVA's dialogue; 1000 each by default), on its own axis at the right.  The
maximum of the significance is the optimal cut, marked with a line and written in the plot.

TMVA draws the significance scaled to a maximum of 1 with a second axis; here it is drawn in its
own units on a twin axis.  ``significance`` accepts TMVA's usual formulas by name or any function
of ``(S, B)`` (TMVA evaluates a user ``TFormula``; a string here is never evaluated as code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import DataError, OptionError, did_you_mean
from .style import BACKGROUND, SIGNAL, finish, new_figure, style_context
from .tmvaglob import FileLike, find_method, opened, read_h1, resolve_dataset

__all__ = ["SIGNIFICANCES", "CutEfficiencies", "cut_efficiencies", "mvaeffs"]

F64 = npt.NDArray[np.float64]


def _s_over_sqrt_s_plus_b(s: F64, b: F64) -> F64:
    return np.asarray(s / np.sqrt(s + b), dtype=np.float64)


def _s_over_sqrt_b(s: F64, b: F64) -> F64:
    return np.asarray(s / np.sqrt(b), dtype=np.float64)


def _s_over_b(s: F64, b: F64) -> F64:
    return np.asarray(s / b, dtype=np.float64)


#: The significance formulas known by name (TMVA's default is ``S/sqrt(S+B)``), with their labels.
SIGNIFICANCES: dict[str, tuple[Callable[[F64, F64], F64], str]] = {
    "S/sqrt(S+B)": (_s_over_sqrt_s_plus_b, "S/√(S+B)"),
    "S/sqrt(B)": (_s_over_sqrt_b, "S/√B"),
    "S/B": (_s_over_b, "S/B"),
}

SIGNIFICANCE_COLOR = "#00aa00"


@dataclass(frozen=True)
class CutEfficiencies:
    """What :func:`mvaeffs` draws, as numbers.

    Attributes
    ----------
    cuts : ndarray, shape (n,)
        Cut values (bin centres of ``MVA_<title>_effS``).
    eff_s, eff_b : ndarray, shape (n,)
        Signal and background efficiencies (the file's contents).
    purity, eff_purity, significance : ndarray, shape (n,)
        ``S/(S+B)`` (0 where ``S+B = 0``), ``ε_S·purity`` and the significance (NaN where it is
        undefined).
    optimal_cut, max_significance : float
        The cut at the (first) maximum of the significance, and that maximum.
    """

    cuts: F64
    eff_s: F64
    eff_b: F64
    purity: F64
    eff_purity: F64
    significance: F64
    optimal_cut: float
    max_significance: float


def _significance_function(
    significance: str | Callable[[F64, F64], F64],
) -> tuple[Callable[[F64, F64], F64], str]:
    if callable(significance):
        return significance, getattr(significance, "__name__", "significance")
    key = str(significance).replace(" ", "")
    if key not in SIGNIFICANCES:
        raise OptionError(
            f"unknown significance formula {significance!r}{did_you_mean(key, SIGNIFICANCES)}; "
            f"accepted: {', '.join(SIGNIFICANCES)} or a function f(S, B) of numpy arrays"
        )
    return SIGNIFICANCES[key]


def cut_efficiencies(
    eff_s: npt.ArrayLike,
    eff_b: npt.ArrayLike,
    cuts: npt.ArrayLike,
    n_signal: float,
    n_background: float,
    significance: str | Callable[[F64, F64], F64] = "S/sqrt(S+B)",
) -> CutEfficiencies:
    """TMVA's ``StatDialogMVAEffs::UpdateSignificanceHists`` on arrays.

    Raises
    ------
    OptionError
        For negative numbers of events or an unknown formula name.
    DataError
        If no cut gives a finite significance.
    """
    if n_signal < 0 or n_background < 0:
        raise OptionError(
            f"numbers of signal and background events must not be negative, got {n_signal} and {n_background}"
        )
    func, _ = _significance_function(significance)
    es, eb = np.asarray(eff_s, np.float64), np.asarray(eff_b, np.float64)
    s, b = es * n_signal, eb * n_background
    with np.errstate(divide="ignore", invalid="ignore"):
        purity = np.where(s + b == 0, 0.0, s / np.where(s + b == 0, 1.0, s + b))
        sig = np.asarray(func(s, b), dtype=np.float64)
    sig = np.where(np.isfinite(sig), sig, np.nan)
    if not np.any(np.isfinite(sig)):
        raise DataError("the significance is undefined for every cut (no signal and no background events?)")
    best = int(np.nanargmax(sig))
    c = np.asarray(cuts, np.float64)
    return CutEfficiencies(
        cuts=c,
        eff_s=es,
        eff_b=eb,
        purity=purity,
        eff_purity=es * purity,
        significance=sig,
        optimal_cut=float(c[best]),
        max_significance=float(sig[best]),
    )


def mvaeffs(
    file: FileLike,
    dataset: str | None,
    method: str,
    n_signal: float = 1000.0,
    n_background: float = 1000.0,
    significance: str | Callable[[F64, F64], F64] = "S/sqrt(S+B)",
    *,
    style: Any = "ROOT",
) -> Any:
    """Draw the cut efficiencies and the optimal cut of a classifier (TMVA ``mvaeffs``).

    Parameters
    ----------
    file : str, os.PathLike or uproot directory
        The TMVA output file.
    dataset : str or None
        The dataset; ``None``: the only one in the file.
    method : str
        The method title.
    n_signal, n_background : float
        Expected numbers of signal and background events before the cut (TMVA's dialogue; 1000).
    significance : str or callable
        ``"S/sqrt(S+B)"`` (default), ``"S/sqrt(B)"``, ``"S/B"``, or a function ``f(S, B)`` of numpy
        arrays.
    style : str, dict, list or None
        See :mod:`pymva.plotting.style`.

    Returns
    -------
    matplotlib.figure.Figure
        Lines with ``gid`` ``effS``, ``effB``, ``purity``, ``effpurity`` (left axis) and
        ``significance`` (right axis, ``fig.axes[1]``), all at the cut values; ``optimal_cut``, the
        vertical line at the optimal cut.

    Raises
    ------
    DataError
        If the file, dataset, method or its ``MVA_<title>_effS``/``_effB`` are not there.
    OptionError
        For negative event numbers or an unknown formula.
    """
    _, sig_label = _significance_function(significance)
    with opened(file) as root:
        ds = resolve_dataset(root, dataset)
        info = find_method(root, ds, method)
        directory = root[info.path]
        hs = read_h1(directory, f"MVA_{info.title}_effS")
        hb = read_h1(directory, f"MVA_{info.title}_effB")
    if hs is None or hb is None:
        raise DataError(f"method '{method}' has no MVA_{info.title}_effS/_effB histograms (not evaluated?)")
    res = cut_efficiencies(hs.values, hb.values, hs.centers, n_signal, n_background, significance)
    with style_context(style):
        fig, axes = new_figure(figsize=(8.6, 6.6))
        ax = axes[0, 0]
        ax.plot(res.cuts, res.eff_s, color=SIGNAL[0], lw=2.5, label="Signal efficiency", gid="effS")
        ax.plot(res.cuts, res.eff_b, color=BACKGROUND[0], lw=2.5, label="Background efficiency", gid="effB")
        ax.plot(res.cuts, res.purity, color=SIGNAL[0], lw=1.8, ls="--", label="Signal purity", gid="purity")
        ax.plot(
            res.cuts, res.eff_purity, color=SIGNAL[0], lw=1.8, ls=":", label="Signal efficiency × purity",
            gid="effpurity",
        )  # fmt: skip
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_xlim(hs.edges[0], hs.edges[-1])
        ax.set_ylim(0.0, 1.1)
        cut_label = (
            "Signal efficiency" if "Cuts" in info.title else f"Cut value applied on {info.title} output"
        )
        ax.set_xlabel(cut_label)
        ax.set_ylabel("Efficiency (Purity)")
        ax2 = ax.twinx()
        ax2.plot(
            res.cuts, res.significance, color=SIGNIFICANCE_COLOR, lw=2.5, label=sig_label, gid="significance"
        )
        ax2.set_ylim(0.0, 1.1 * res.max_significance if res.max_significance > 0 else 1.0)
        ax2.set_ylabel(f"Significance {sig_label}", color=SIGNIFICANCE_COLOR)
        ax2.tick_params(axis="y", which="both", colors=SIGNIFICANCE_COLOR)
        ax.tick_params(axis="y", which="both", right=False)
        ax.axvline(res.optimal_cut, color=SIGNIFICANCE_COLOR, lw=1.2, ls="-.", gid="optimal_cut")
        lines = ax.get_lines()[:4] + ax2.get_lines()
        ax2.legend(
            lines,
            [ln.get_label() for ln in lines],
            loc="lower center",
            bbox_to_anchor=(0.5, 1.01),
            ncol=3,
            frameon=False,
            fontsize="small",
            title=(
                f"For {n_signal:.0f} signal and {n_background:.0f} background events the maximum\n"
                f"{sig_label} is {res.max_significance:.4g} when cutting at {res.optimal_cut:.4g}"
            ),
            title_fontsize="small",
        )
        fig.suptitle(f"Cut efficiencies for classifier: {info.title}")
        return finish(fig)
