"""Histograms that pymva builds itself for the output file: input-variable plots and correlation matrices.

They are :class:`hist.Hist` objects built with :mod:`pymva.histograms`: TH1F/TH2F (``Weight``
storage: contents and squared weights including the under- and overflow bins; the number of
entries and the fill statistics in ``metadata``), TProfile (``WeightedMean`` storage) and the
correlation matrices (``Double`` storage, labelled axes); :mod:`pymva.io.output` writes them with
uproot.

Built here, following TMVA's ``TransformationHandler::PlotVariables`` and
``DataSetInfo::CreateCorrelationMatrixHist`` (``../shared/tmva/core.md`` §6):

* :func:`input_variable_histograms` — ``<internal>__<Class>_<chain>`` per variable and class (40 bins
  on ``[max(min, μ−8σ), min(max, μ+8σ)]``, upper edge += width/40; integer variables one bin per
  integer), targets as ``<internal>__<Class>_target_<chain>``, and the ``CorrelationPlots`` scatter
  (``scat_``, 300 × 300) and profile (``prof_``, 40 bins) plots of every pair when there are at most
  20 variables and targets;
* :func:`correlation_matrix_histogram` / :func:`correlation_matrix_histograms` — ``CorrelationMatrixS``,
  ``CorrelationMatrixB``, ``CorrelationMatrix<Class>`` or ``CorrelationMatrix``: content
  ``int(100 ρ)``, bin labels = variable titles, drawn range [−100, 100].

Histograms are filled with ROOT's rules: a value ``x`` goes to bin ``1 + int(n (x − lo)/(hi − lo))``,
to the underflow bin if ``x < lo`` and to the overflow bin if ``x >= hi`` (NaN too); the statistics
(Σw, Σw², Σwx, Σwx²) count only events inside the axis range; the number of entries counts every fill.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import hist
import numpy as np
import numpy.typing as npt

from ...data.dataset import DataSet, Sample, VariableInfo
from ...errors import DataError
from ...histograms import fill_th1, find_bins, fixed_axis, labelled_axis, new_hist, new_profile
from ...logger import get_logger

__all__ = [
    "NBINS_1D",
    "NBINS_2D",
    "TIMES_RMS",
    "InputVariablePlots",
    "correlation_matrix_histogram",
    "correlation_matrix_histograms",
    "input_variable_histograms",
    "input_variables_directory",
]

F64 = npt.NDArray[np.float64]

#: Bins of the 1-D input-variable plots and of the profiles (``fNbins1D``).
NBINS_1D = 40
#: Bins per axis of the scatter plots (``fNbins2D``).
NBINS_2D = 300
#: Half-width of the plotted range in units of the RMS (``fTimesRMS``).
TIMES_RMS = 8.0
#: Scatter and profile plots only if variables + targets are at most this many
#: (``fMaxNumOfAllowedVariablesForScatterPlots``).
MAX_SCATTER_VARIABLES = 20

_log = get_logger("TFHandler_Factory", "pymva.io.output")


@dataclass
class InputVariablePlots:
    """The plots of one ``InputVariables_<chain>`` directory (or of a method directory).

    Attributes
    ----------
    histograms : list of hist.Hist
        The 1-D plots (TH1F), ordered as TMVA writes them: per variable (then per target), per class.
    correlation_plot_names : list of str
        Names of the ``CorrelationPlots/`` objects, in TMVA's order: per pair (i < j), per class,
        the scatter plot ``scat_…`` then the profile ``prof_…``; empty when there are more than
        20 variables and targets or when they were not asked for.

    The scatter and profile plots themselves are built on demand by :meth:`correlation_plots`, one
    at a time, so that writing them never holds hundreds of 300 × 300 histograms in memory.
    """

    histograms: list[hist.Hist[Any]]
    correlation_plot_names: list[str] = field(default_factory=list)
    _pairs: _PairPlots | None = field(default=None, repr=False, compare=False)

    def histogram(self, name: str) -> hist.Hist[Any]:
        """The 1-D histogram called ``name``."""
        for h in self.histograms:
            if h.name == name:
                return h
        raise KeyError(f"no histogram '{name}'; histograms: {[h.name for h in self.histograms]}")

    def correlation_plots(self) -> Iterator[hist.Hist[Any]]:
        """Build the ``CorrelationPlots/`` scatter plots (TH2F) and profiles (TProfile), in order."""
        if self._pairs is not None:
            yield from self._pairs.build()


# --------------------------------------------------------------------------------------------------
# sums for the pair plots


def _bincount(index: npt.NDArray[np.integer[Any]], weights: F64, minlength: int) -> F64:
    """Weighted ``np.bincount`` as float64."""
    return np.asarray(np.bincount(index, weights=weights, minlength=minlength), dtype=np.float64)


def _wsum(a: F64, b: F64) -> float:
    """Σ a·b without BLAS (``np.dot`` can be slow when BLAS threads compete for the cores)."""
    return float(np.einsum("i,i->", a, b))


# --------------------------------------------------------------------------------------------------
# input-variable plots (TransformationHandler::PlotVariables)


def input_variables_directory(chain: str) -> str:
    """``InputVariables_<chain>``: the directory TMVA writes the plots of a ``Transformations`` chain to.

    ``chain`` is the chain's short name, the short names of its transforms joined by ``_``
    (``Id``, ``Deco``, ``PCA``, ``Gauss_Deco``, …).  When the directory exists already TMVA appends
    ``_0``, ``_1``, …; :meth:`pymva.io.output.writer.OutputFile.unique_name` does that.
    """
    return f"InputVariables_{chain}"


def _x_title_with_unit(title: str, unit: str) -> str:
    # Tools::GetXTitleWithUnit
    return title if not unit else f"{title}  [{unit}]"


def _y_title_with_unit(bin_width: float, unit: str) -> str:
    # Tools::GetYTitleWithUnit(h, unit, normalised=false)
    return "dN_{ }/^{ }%.3g %s" % (bin_width, unit)  # noqa: UP031  (C printf semantics wanted)


def _plot_range(
    info: VariableInfo, vmin: float, vmax: float, mean: float, rms: float
) -> tuple[int, float, float]:
    """(nbins, xmin, xmax) of a 1-D input-variable plot."""
    if info.type == "I":
        lo_i = int(np.rint(vmin))
        hi_i = int(np.rint(vmax + 1))
        return max(hi_i - lo_i, 1), float(lo_i), float(hi_i)
    lo = max(vmin, mean - TIMES_RMS * rms)
    hi = min(vmax, mean + TIMES_RMS * rms)
    if lo >= hi:
        hi = lo * 1.1
    if lo >= hi:
        hi = lo + 1
    hi += (hi - lo) / NBINS_1D
    return NBINS_1D, lo, hi


def input_variable_histograms(
    sample: Sample,
    dataset: DataSet,
    chain: str = "Id",
    *,
    name_suffix: bool = True,
    correlation_plots: bool = True,
    max_scatter_variables: int = MAX_SCATTER_VARIABLES,
) -> InputVariablePlots:
    """The plots TMVA's ``TransformationHandler::PlotVariables`` writes for one transformation chain.

    Parameters
    ----------
    sample : Sample
        The events to plot, already passed through the chain (the Factory plots the training sample;
        a method directory holds the test sample after the method's own transforms).  Variables
        from ``sample.X`` and, for regression, targets from ``sample.targets``; ``sample.weights``
        as the fill weights.
    dataset : DataSet
        Gives the class names and the variable and target descriptions (internal names, titles,
        units, type ``'I'`` for integer binning).
    chain : str
        Short name of the chain (``Id``, ``Deco``, ``Gauss_Deco``, …).  It is appended to histogram
        names (``var1__Signal_Id``) when ``name_suffix`` is true, and to axis titles
        (``var1 (Deco)``) unless it is ``""`` or ``"Id"``.
    name_suffix : bool
        True for the ``InputVariables_<chain>`` directories; False for the plots in a method's
        directory (``var1__Signal``).
    correlation_plots : bool
        Also build the ``CorrelationPlots/`` scatter and profile plots (when there are at most
        ``max_scatter_variables`` variables and targets together).
    max_scatter_variables : int
        TMVA's ``fMaxNumOfAllowedVariablesForScatterPlots`` (20).

    Returns
    -------
    InputVariablePlots

    Raises
    ------
    DataError
        If the sample has no events (TMVA: "No events available to find min, max, mean and rms").
    """
    n = len(sample)
    if n == 0:
        raise DataError("No events available to find min, max, mean and rms (input-variable plots)")
    nvar = len(dataset.variables)
    ntgt = len(dataset.targets)
    if sample.X.shape[1] != nvar or sample.targets.shape[1] != ntgt:
        raise ValueError(
            f"sample has {sample.X.shape[1]} variables and {sample.targets.shape[1]} targets; "
            f"dataset '{dataset.name}' describes {nvar} and {ntgt}"
        )
    infos: list[VariableInfo] = list(dataset.variables) + list(dataset.targets)
    columns = [sample.X[:, i] for i in range(nvar)] + [sample.targets[:, j] for j in range(ntgt)]
    suffix = f"_{chain}" if name_suffix and chain else ""
    axis_suffix = f" ({chain})" if chain not in ("", "Id") else ""
    w = sample.weights
    w64 = w.astype(np.float64)
    sw = float(w64.sum())
    class_masks = [sample.class_id == c for c in range(dataset.n_classes)]

    # statistics over all classes (TransformationHandler::CalcStats, index fNumC-1)
    ranges: list[tuple[int, float, float]] = []
    vmins: list[float] = []
    vmaxs: list[float] = []
    for info, col in zip(infos, columns, strict=True):
        x = col.astype(np.float64)
        mean = (_wsum(x, w64) / sw) if sw != 0 else math.nan
        var = (_wsum(x * x, w64) / sw) - mean * mean if sw != 0 else math.nan
        rms = math.sqrt(var) if var > 0 else 0.0
        vmin, vmax = float(x.min()), float(x.max())
        vmins.append(vmin)
        vmaxs.append(vmax)
        ranges.append(_plot_range(info, vmin, vmax, mean, rms))

    histograms: list[hist.Hist[Any]] = []
    for k, (info, col) in enumerate(zip(infos, columns, strict=True)):
        is_target = k >= nvar
        nbins, lo, hi = ranges[k]
        x_title = _x_title_with_unit(info.title + axis_suffix, info.unit)
        y_title = _y_title_with_unit((hi - lo) / nbins, info.unit)
        for c, cls in enumerate(dataset.class_names):
            cls_name = cls + ("_target" if ntgt == 1 and is_target else "")
            mask = class_masks[c]
            histograms.append(
                fill_th1(
                    f"{info.internal_name}__{cls_name}{suffix}",
                    info.title,
                    col[mask],
                    w[mask],
                    nbins,
                    lo,
                    hi,
                    x_title=x_title,
                    y_title=y_title,
                )
            )

    pairs: _PairPlots | None = None
    if correlation_plots and nvar + ntgt > max_scatter_variables:
        nh = (nvar + ntgt) * (nvar + ntgt - 1) // 2
        _log.info(
            f"<PlotVariables> Will not produce scatter plots ==> \n"
            f"|  The number of {nvar} input variables and {ntgt} target values would require {nh} "
            f"two-dimensional\n"
            f"|  histograms, which would occupy the computer's memory. Note that this\n"
            f"|  suppression does not have any consequences for your analysis, other\n"
            f"|  than not disposing of these scatter plots."
        )
    elif correlation_plots and nvar + ntgt > 1:
        pairs = _PairPlots(
            columns=columns,
            weights=w,
            class_id=sample.class_id,
            class_names=list(dataset.class_names),
            infos=infos,
            nvar=nvar,
            vmins=vmins,
            vmaxs=vmaxs,
            suffix=suffix,
            axis_suffix=axis_suffix,
        )
    return InputVariablePlots(
        histograms=histograms,
        correlation_plot_names=[] if pairs is None else pairs.names(),
        _pairs=pairs,
    )


@dataclass
class _PairPlots:
    """Inputs of the ``CorrelationPlots/`` of one chain; :meth:`build` fills them lazily."""

    columns: list[npt.NDArray[np.float32]]
    weights: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int32]
    class_names: list[str]
    infos: list[VariableInfo]
    nvar: int
    vmins: list[float]
    vmaxs: list[float]
    suffix: str
    axis_suffix: str

    def _labels(self, i: int, j: int, c: int) -> tuple[str, str, str, str, str]:
        """(scatter name, scatter title, profile name, profile title, class label)."""
        ntgt = len(self.infos) - self.nvar
        cls = self.class_names[c] + ("_target" if ntgt == 1 and i >= self.nvar else "")
        info_i, info_j = self.infos[i], self.infos[j]
        tag = f"{info_j.internal_name}_vs_{info_i.internal_name}_{cls}{self.suffix}"
        title = f"{info_j.title} versus {info_i.title} ({cls}){self.suffix}"
        return f"scat_{tag}", title, f"prof_{tag}", f"profile {title}", cls

    def names(self) -> list[str]:
        """Object names in TMVA's order."""
        out = []
        m = len(self.infos)
        for i in range(m):
            for j in range(i + 1, m):
                for c in range(len(self.class_names)):
                    scat, _, prof, _, _ = self._labels(i, j, c)
                    out += [scat, prof]
        return out

    def build(self) -> Iterator[hist.Hist[Any]]:
        """Fill the scatter plots (300 × 300 on [min, max] of both variables over all classes) and
        the profiles (40 bins on [min, max] of the x variable), vectorised: events are grouped by
        class once and every variable is binned once."""
        order = np.argsort(self.class_id, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(self.class_id, minlength=len(self.class_names)))])
        slices = [slice(int(bounds[c]), int(bounds[c + 1])) for c in range(len(self.class_names))]
        w = self.weights[order].astype(np.float32).astype(np.float64)
        w2 = w * w
        cols = [col[order] for col in self.columns]
        m = len(cols)
        n2, n1 = NBINS_2D, NBINS_1D
        b2 = [find_bins(cols[k], n2, self.vmins[k], self.vmaxs[k]).astype(np.int32) for k in range(m)]
        in2 = [(b >= 1) & (b <= n2) for b in b2]
        cells = (n2 + 2) * (n2 + 2)
        for i in range(m):
            b1 = find_bins(cols[i], n1, self.vmins[i], self.vmaxs[i])
            in1 = (b1 >= 1) & (b1 <= n1)
            info_i = self.infos[i]
            xt = _x_title_with_unit(info_i.title + self.axis_suffix, info_i.unit)
            # what the profiles of variable i share, per class
            per_class = []
            for sl in slices:
                x = cols[i][sl].astype(np.float64)
                wc, w2c = w[sl], w2[sl]
                wm1 = np.where(in1[sl], wc, 0.0)
                per_class.append(
                    (
                        x,
                        _bincount(b1[sl], wc, n1 + 2),
                        _bincount(b1[sl], w2c, n1 + 2),
                        wm1,
                        (
                            float(wm1.sum()),
                            _wsum(wm1, wc),
                            _wsum(wm1, x),
                            _wsum(wm1, x * x),
                        ),
                    )
                )
            for j in range(i + 1, m):
                info_j = self.infos[j]
                yt = _x_title_with_unit(info_j.title + self.axis_suffix, info_j.unit)
                for c, sl in enumerate(slices):
                    x, sum_w, sum_w2, wm1, xstats = per_class[c]
                    y = cols[j][sl].astype(np.float64)
                    wc, w2c = w[sl], w2[sl]
                    scat_name, scat_title, prof_name, prof_title, _ = self._labels(i, j, c)
                    cell = b2[i][sl].astype(np.intp) * (n2 + 2) + b2[j][sl]
                    wm = np.where(in2[i][sl] & in2[j][sl], wc, 0.0)
                    xy_stats = (
                        float(wm.sum()),
                        _wsum(wm, wc),
                        _wsum(wm, x),
                        _wsum(wm, x * x),
                        _wsum(wm, y),
                        _wsum(wm, y * y),
                        _wsum(wm, x * y),
                    )
                    yield new_hist(
                        scat_name,
                        scat_title,
                        [
                            fixed_axis(n2, self.vmins[i], self.vmaxs[i], xt),
                            fixed_axis(n2, self.vmins[j], self.vmaxs[j], yt),
                        ],
                        _bincount(cell, wc, cells).reshape(n2 + 2, n2 + 2),
                        _bincount(cell, w2c, cells).reshape(n2 + 2, n2 + 2),
                        classname="TH2F",
                        entries=float(len(wc)),
                        stats=xy_stats,
                    )
                    wy = wc * y
                    yield new_profile(
                        prof_name,
                        prof_title,
                        fixed_axis(n1, self.vmins[i], self.vmaxs[i], xt),
                        sum_w,
                        sum_w2,
                        _bincount(b1[sl], wy, n1 + 2),
                        _bincount(b1[sl], wy * y, n1 + 2),
                        entries=float(len(wc)),
                        stats=(*xstats, _wsum(wm1, y), _wsum(wm1, y * y)),
                        y_title=yt,
                    )


# --------------------------------------------------------------------------------------------------
# correlation matrices (DataSetInfo::CreateCorrelationMatrixHist)


def correlation_matrix_histogram(
    name: str, rho: npt.ArrayLike, titles: Sequence[str], title: str = ""
) -> hist.Hist[Any]:
    """The TH2F TMVA writes for a correlation matrix.

    Parameters
    ----------
    name : str
        ``CorrelationMatrixS``, ``CorrelationMatrixB``, ``CorrelationMatrix<Class>`` or
        ``CorrelationMatrix``.
    rho : array_like, shape (n, n)
        Correlation coefficients.
    titles : sequence of str
        Variable titles, used as bin labels of both axes.
    title : str
        Histogram title (``Correlation Matrix (signal)`` …).

    Returns
    -------
    hist.Hist
        n × n bins on [0, n] × [0, n]; bin (i, j) holds ``int(100 ρ[j, i])`` (x = column, y = row, as
        ROOT's ``TH2F(const TMatrixF&)``), computed in float32 as TMVA does; no ``Sumw2``; drawn
        range [−100, 100]; TMVA's label size, marker size/colour and label offset.
    """
    m = np.asarray(rho, dtype=np.float64)
    n = len(titles)
    if m.shape != (n, n):
        raise ValueError(f"correlation matrix of shape {m.shape} does not fit {n} variable titles")
    # TMatrixF (float32) -> TH2F::Scale(100) (double product stored as float) -> Int_t truncation
    scaled = (m.astype(np.float32).astype(np.float64) * 100.0).astype(np.float32).astype(np.float64)
    content = np.trunc(scaled).T + 0.0  # Int_t(): no negative zero
    return new_hist(
        name,
        title,
        [labelled_axis(titles), labelled_axis(titles)],
        content,
        None,
        classname="TH2F",
        entries=float(2 * n * n),  # SetBinContent twice per bin (constructor, rounding)
        stats=(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),  # ROOT recomputes from the bins when Σw = 0
        minimum=-100.0,
        maximum=100.0,
        style={
            "fMarkerSize": 1.5,
            "fMarkerColor": 0,
            "fXaxis.fLabelSize": 0.055,
            "fYaxis.fLabelSize": 0.055,
            "fXaxis.fLabelOffset": 0.011,
        },
    )


def correlation_matrix_histograms(dataset: DataSet, multiclass: bool) -> list[hist.Hist[Any]]:
    """The correlation-matrix histograms the Factory writes into ``<loader>/``.

    Multiclass: ``CorrelationMatrix<Class>`` (title ``Correlation Matrix (<Class>)``) per class in
    class order.  Otherwise, as TMVA: ``CorrelationMatrixS`` for a class ``Signal``,
    ``CorrelationMatrixB`` for a class ``Background`` and ``CorrelationMatrix`` for a class
    ``Regression``, each only if that class has a matrix in ``dataset.correlations`` (none when
    ``CalcCorrelations`` is off).
    """
    titles = [v.title for v in dataset.variables]
    if multiclass:
        pairs = [(c, f"CorrelationMatrix{c}", f"Correlation Matrix ({c})") for c in dataset.class_names]
    else:
        pairs = [
            ("Signal", "CorrelationMatrixS", "Correlation Matrix (signal)"),
            ("Background", "CorrelationMatrixB", "Correlation Matrix (background)"),
            ("Regression", "CorrelationMatrix", "Correlation Matrix"),
        ]
    out = []
    for cls, name, title in pairs:
        rho = dataset.correlations.get(cls)
        if rho is not None:
            out.append(correlation_matrix_histogram(name, rho, titles, title))
    return out
