"""A ROOT histogram as numpy arrays: :class:`Histogram` (TH1/TH2), :class:`Profile` (TProfile), :class:`Graph`.

One set of containers for every histogram pymva makes: the evaluation's ``MVA_<T>_…`` histograms
and graphs (:mod:`pymva.evaluation`), the input-variable plots and correlation matrices
(:mod:`pymva.io.output.plots`).  They hold what ROOT stores — bin edges, contents, squared weights
(``fSumw2``), titles, labels, entries, fill statistics, drawing range and attributes — and
:meth:`pymva.io.output.writer.OutputFile.write_histogram` writes them as TH1F/TH1D/TH2F/TH2D, TProfile
or TGraph with uproot.

Bin arrays may hold the in-range bins only (shape ``(nx,)`` or ``(nx, ny)``) or include the
under- and overflow bins (``(nx + 2,)`` or ``(nx + 2, ny + 2)``, index 0 = underflow as in ROOT);
:meth:`Histogram.values` gives either form.  2-D arrays are indexed ``[ix, iy]``.

Also here, the axis arithmetic both need: :func:`bin_edges` (``TAxis::GetBinLowEdge``) and
:func:`find_bins` (``TAxis::FindBin``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Graph", "Histogram", "Profile", "bin_edges", "find_bins"]

F64 = npt.NDArray[np.float64]

#: ROOT's ``fMinimum``/``fMaximum`` value meaning "automatic".
AUTO_RANGE = -1111.0


# --------------------------------------------------------------------------------------------------
# axis arithmetic


def bin_edges(lo: float, hi: float, nbins: int) -> F64:
    """Bin edges of an equidistant ROOT axis, computed as ``TAxis::GetBinLowEdge`` does.

    Parameters
    ----------
    lo, hi : float
        Axis range.
    nbins : int
        Number of bins (>= 1).

    Returns
    -------
    ndarray of float64, shape (nbins + 1,)
        ``lo + i * (hi - lo) / nbins``, the last edge exactly ``hi``.
    """
    width = (hi - lo) / nbins
    edges = lo + np.arange(nbins + 1, dtype=np.float64) * width
    edges[-1] = hi
    return edges


def find_bins(x: npt.ArrayLike, nbins: int, lo: float, hi: float) -> npt.NDArray[np.intp]:
    """ROOT's ``TAxis::FindBin`` for a fixed-bin axis, vectorised.

    Parameters
    ----------
    x : array_like
        Values (any shape), compared as float64.
    nbins, lo, hi : int, float, float
        The axis: ``nbins`` equal bins on ``[lo, hi)``.

    Returns
    -------
    ndarray of intp, same shape as ``x``
        0 for ``x < lo``, ``nbins + 1`` for ``x >= hi`` or NaN, else ``1 + int(nbins (x−lo)/(hi−lo))``.
        An empty axis (``hi <= lo``) puts every value in the under- or overflow bin.
    """
    x64 = np.asarray(x, dtype=np.float64)
    out = np.full(x64.shape, nbins + 1, dtype=np.intp)
    out[x64 < lo] = 0
    inside = (x64 >= lo) & (x64 < hi)
    out[inside] = 1 + (nbins * (x64[inside] - lo) / (hi - lo)).astype(np.intp)
    # guard against rounding up past nbins + 1 for x just below hi
    np.minimum(out, nbins + 1, out=out)
    return out


def _flowed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n + 2 for n in shape)


def _with_flow(a: F64, shape: tuple[int, ...]) -> F64:
    """``a`` (in-range or with flow bins, already checked) with the under- and overflow bins."""
    if a.shape != shape:
        return a
    out = np.zeros(_flowed(shape), dtype=np.float64)
    out[tuple(slice(1, -1) for _ in shape)] = a
    return out


def _without_flow(a: F64, shape: tuple[int, ...]) -> F64:
    """``a`` (in-range or with flow bins, already checked) without the under- and overflow bins."""
    return a if a.shape == shape else a[tuple(slice(1, -1) for _ in shape)]


def _bin_array(obj: str, a: npt.ArrayLike, shape: tuple[int, ...], what: str) -> F64:
    """``a`` as float64, checked to have ``shape`` or, with flow bins, ``shape + 2``."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.shape != shape and arr.shape != _flowed(shape):
        raise ValueError(
            f"{obj}: {what} has shape {arr.shape}; expected {shape} or, with under- and "
            f"overflow bins, {_flowed(shape)}"
        )
    return arr


def _edges(obj: str, a: npt.ArrayLike, what: str) -> F64:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] < 2:
        raise ValueError(
            f"{obj}: {what} must be a 1-D array of at least two bin edges, got shape {arr.shape}"
        )
    return arr


def _range(edges: F64) -> str:
    return f"[{edges[0]:.6g}, {edges[-1]:.6g}]"


# --------------------------------------------------------------------------------------------------
# containers


@dataclass(frozen=True, eq=False)
class Histogram:
    """A one- or two-dimensional histogram as ROOT stores it (TH1F/TH1D, TH2F/TH2D).

    Attributes
    ----------
    name, title : str
        Object name (the key in the file) and title.
    edges : ndarray of float64, shape (nx + 1,)
        Bin edges of the x axis, increasing (uniform edges are written as a fixed-bin axis).
    counts : ndarray of float64
        Bin contents: shape ``(nx,)`` or, with the under- and overflow bins, ``(nx + 2,)``; for a
        2-D histogram ``(nx, ny)`` or ``(nx + 2, ny + 2)`` indexed ``[ix, iy]``.
    variances : ndarray of float64 or None
        Sum of squared weights per bin (ROOT's ``fSumw2``), in-range or with flow bins like
        ``counts``; ``None`` for a histogram without ``Sumw2`` (its errors are then
        ``sqrt(|content|)``, as ROOT's).
    x_title, y_title : str
        Axis titles ("" if none).
    y_edges : ndarray of float64 or None
        Bin edges of the y axis; given only for 2-D histograms.  This and the following
        attributes are keyword-only in the constructor.
    z_title : str
        Title of the z axis.
    x_labels, y_labels : sequence of str or None
        Alphanumeric bin labels (``TAxis::SetBinLabel``), one per bin.
    entries : float or None
        ROOT's ``fEntries`` (number of fills); ``None`` writes the sum of all contents.
    stats : tuple of float or None
        ``(Σw, Σw², Σwx, Σwx²)`` and for 2-D also ``(Σwy, Σwy², Σwxy)`` over the fills inside the
        axis ranges; ``None`` computes them from the bin centres when written.
    minimum, maximum : float
        ROOT's ``fMinimum``/``fMaximum`` (drawn range of the contents); −1111 means automatic.
    precision : {'F', 'D'}
        Stored as TH1F/TH2F (float32 contents, the default) or TH1D/TH2D (float64).
    style : mapping of str to float
        Extra drawing attributes; recognised keys: ``fMarkerSize``, ``fMarkerColor``,
        ``fMarkerStyle``, ``fLineColor``, ``fFillColor``, ``xaxis.fLabelSize``,
        ``yaxis.fLabelSize``, ``xaxis.fLabelOffset``, ``yaxis.fLabelOffset``.

    Raises
    ------
    ValueError
        If an edge array is not 1-D with at least two entries, a bin array does not fit the axes,
        there are not one label per bin, ``stats`` has the wrong length (4 for 1-D, 7 for 2-D) or
        ``precision`` is not ``'F'``/``'D'``.  The message names the histogram.

    Notes
    -----
    Frozen: a histogram is built once (by :meth:`regular`, the fill functions of
    :mod:`pymva.io.output.plots` or the evaluation) and not changed afterwards.  Array and list
    arguments are converted to float64 arrays (without a copy when they are float64 already).
    """

    name: str
    title: str
    edges: F64
    counts: F64
    variances: F64 | None = None
    x_title: str = ""
    y_title: str = ""
    _: KW_ONLY
    y_edges: F64 | None = None
    z_title: str = ""
    x_labels: Sequence[str] | None = None
    y_labels: Sequence[str] | None = None
    entries: float | None = None
    stats: tuple[float, ...] | None = None
    minimum: float = AUTO_RANGE
    maximum: float = AUTO_RANGE
    precision: Literal["F", "D"] = "F"
    style: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        obj = f"histogram '{self.name}'"
        edges = _edges(obj, self.edges, "edges")
        y_edges = None if self.y_edges is None else _edges(obj, self.y_edges, "y_edges")
        shape = (edges.shape[0] - 1,) if y_edges is None else (edges.shape[0] - 1, y_edges.shape[0] - 1)
        counts = _bin_array(obj, self.counts, shape, "counts")
        variances = None if self.variances is None else _bin_array(obj, self.variances, shape, "variances")
        for attr, value in (
            ("edges", edges),
            ("y_edges", y_edges),
            ("counts", counts),
            ("variances", variances),
        ):
            object.__setattr__(self, attr, value)
        if self.precision not in ("F", "D"):
            raise ValueError(f"{obj}: precision must be 'F' or 'D', not {self.precision!r}")
        if self.y_labels is not None and y_edges is None:
            raise ValueError(f"{obj}: y bin labels need a 2-D histogram (y_edges)")
        for axis, labels, nbins in (("x", self.x_labels, shape[0]), ("y", self.y_labels, shape[-1])):
            if labels is not None and len(labels) != nbins:
                raise ValueError(f"{obj}: {len(labels)} {axis} bin labels for an axis with {nbins} bins")
        nstats = 4 if y_edges is None else 7
        if self.stats is not None and len(self.stats) != nstats:
            raise ValueError(f"{obj}: {len(shape)}-D stats need {nstats} numbers, got {len(self.stats)}")

    @classmethod
    def regular(
        cls,
        name: str,
        title: str,
        lo: float,
        hi: float,
        counts: npt.ArrayLike,
        variances: npt.ArrayLike | None = None,
        *,
        x_title: str = "",
        y_title: str = "",
        precision: Literal["F", "D"] = "F",
    ) -> Histogram:
        """A 1-D histogram with ``len(counts)`` equal bins on ``[lo, hi]`` (edges as :func:`bin_edges`).

        ``counts`` and ``variances`` are the in-range bins, shape ``(nbins,)``.
        """
        c = np.asarray(counts, np.float64)
        return cls(
            name,
            title,
            bin_edges(lo, hi, c.shape[0]),
            c,
            None if variances is None else np.asarray(variances, np.float64),
            x_title,
            y_title,
            precision=precision,
        )

    # -- shape and axes ------------------------------------------------------------------------

    @property
    def ndim(self) -> int:
        """1 or 2."""
        return 1 if self.y_edges is None else 2

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of in-range bins per axis: ``(nx,)`` or ``(nx, ny)``."""
        nx = self.edges.shape[0] - 1
        return (nx,) if self.y_edges is None else (nx, self.y_edges.shape[0] - 1)

    @property
    def nbins(self) -> int:
        """Number of bins of the x axis (``GetNbinsX``)."""
        return int(self.edges.shape[0] - 1)

    @property
    def x_edges(self) -> F64:
        """The x bin edges (the same array as :attr:`edges`)."""
        return self.edges

    @property
    def centers(self) -> F64:
        """Bin centres of the x axis, shape ``(nx,)``."""
        return 0.5 * (self.edges[:-1] + self.edges[1:])

    @property
    def widths(self) -> F64:
        """Bin widths of the x axis, shape ``(nx,)``."""
        return np.diff(self.edges)

    @property
    def root_type(self) -> str:
        """The ROOT class it is written as: ``TH1F``, ``TH1D``, ``TH2F`` or ``TH2D``."""
        return f"TH{self.ndim}{self.precision}"

    # -- contents ------------------------------------------------------------------------------

    def values(self, flow: bool = False) -> F64:
        """Bin contents, without (default) or with the under- and overflow bins (zero when not stored)."""
        return _with_flow(self.counts, self.shape) if flow else _without_flow(self.counts, self.shape)

    def sumw2(self, flow: bool = False) -> F64:
        """Squared bin errors (``GetBinError`` squared): :attr:`variances`, or ``|content|`` without them."""
        if self.variances is None:
            return np.abs(self.values(flow))
        return _with_flow(self.variances, self.shape) if flow else _without_flow(self.variances, self.shape)

    @property
    def errors(self) -> F64:
        """Bin errors of the in-range bins, ``sqrt(|sumw2|)``."""
        return np.sqrt(np.abs(self.sumw2()))

    def sum(self, flow: bool = False) -> float:
        """Sum of the bin contents (the integral without bin widths), optionally with the flow bins."""
        return float(np.sum(self.values(flow)))

    def integral(self, width: bool = False) -> float:
        """Sum of the in-range contents, times the bin widths (areas for 2-D) if ``width``; ``TH1::Integral``."""
        c = self.values()
        if not width:
            return float(np.sum(c))
        if self.y_edges is None:
            return float(np.sum(c * self.widths))
        return float(np.sum(c * np.multiply.outer(self.widths, np.diff(self.y_edges))))

    def to_numpy(self) -> tuple[F64, ...]:
        """``(counts, edges)`` or ``(counts, x_edges, y_edges)``, in-range bins: what ``numpy.histogram``
        and ``numpy.histogram2d`` return and uproot accepts."""
        if self.y_edges is None:
            return self.values(), self.edges
        return self.values(), self.edges, self.y_edges

    def __repr__(self) -> str:
        if self.y_edges is None:
            bins = f"{self.nbins} bins on {_range(self.edges)}"
        else:
            nx, ny = self.shape
            bins = f"{nx}x{ny} bins on {_range(self.edges)}x{_range(self.y_edges)}"
        return f"Histogram({self.name!r}, {bins}, integral={self.integral():.6g}, {self.root_type})"


@dataclass(frozen=True, eq=False)
class Profile:
    """A TProfile: per x bin the weighted mean of y (ROOT stores the sums).

    The bin arrays have shape ``(nbins + 2,)`` (with the under- and overflow bins, as the fill
    functions make them) or ``(nbins,)``.

    Attributes
    ----------
    name, title : str
    edges : ndarray of float64, shape (nbins + 1,)
    sum_w : ndarray of float64
        Σw per bin (``fBinEntries``).
    sum_w2 : ndarray of float64
        Σw² per bin (``fBinSumw2``).
    sum_wy : ndarray of float64
        Σwy per bin (the TH1D contents).
    sum_wy2 : ndarray of float64
        Σwy² per bin (``fSumw2``).
    entries : float
        Number of fills.
    stats : tuple of float
        ``(Σw, Σw², Σwx, Σwx², Σwy, Σwy²)`` over the fills inside the x range.
    x_title, y_title : str

    Raises
    ------
    ValueError
        If the edges are not 1-D with at least two entries, a bin array does not fit them or
        ``stats`` does not have 6 numbers.
    """

    name: str
    title: str
    edges: F64
    sum_w: F64
    sum_w2: F64
    sum_wy: F64
    sum_wy2: F64
    entries: float
    stats: tuple[float, float, float, float, float, float]
    x_title: str = ""
    y_title: str = ""

    def __post_init__(self) -> None:
        obj = f"profile '{self.name}'"
        edges = _edges(obj, self.edges, "edges")
        object.__setattr__(self, "edges", edges)
        shape = (edges.shape[0] - 1,)
        for attr in ("sum_w", "sum_w2", "sum_wy", "sum_wy2"):
            object.__setattr__(self, attr, _bin_array(obj, getattr(self, attr), shape, attr))
        if len(self.stats) != 6:
            raise ValueError(f"{obj}: stats need 6 numbers, got {len(self.stats)}")

    @property
    def nbins(self) -> int:
        """Number of x bins."""
        return int(self.edges.shape[0] - 1)

    @property
    def centers(self) -> F64:
        """Bin centres, shape ``(nbins,)``."""
        return 0.5 * (self.edges[:-1] + self.edges[1:])

    def sums(self, flow: bool = True) -> tuple[F64, F64, F64, F64]:
        """``(sum_w, sum_w2, sum_wy, sum_wy2)``, with (default) or without the flow bins."""
        conv = _with_flow if flow else _without_flow
        shape = (self.nbins,)
        return (
            conv(self.sum_w, shape),
            conv(self.sum_w2, shape),
            conv(self.sum_wy, shape),
            conv(self.sum_wy2, shape),
        )

    def means(self) -> F64:
        """Mean of y per bin (0 where a bin is empty), without the flow bins."""
        w, _, wy, _ = self.sums(flow=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(w != 0, wy / np.where(w != 0, w, 1.0), 0.0)

    def __repr__(self) -> str:
        return (
            f"Profile({self.name!r}, {self.nbins} bins on {_range(self.edges)}, entries={self.entries:.6g})"
        )


@dataclass(frozen=True, eq=False)
class Graph:
    """A graph of points, written as ``TGraph`` (TMVA stores the multiclass ROC curves so).

    Attributes
    ----------
    name, title : str
    x, y : ndarray of float64, shape (n,)
        The points, ``n >= 1``.
    x_title, y_title : str
        Axis titles (written in ROOT's ``title;x;y`` title convention).

    Raises
    ------
    ValueError
        If ``x`` and ``y`` are not non-empty 1-D arrays of one length.
    """

    name: str
    title: str
    x: F64
    y: F64
    x_title: str = ""
    y_title: str = ""

    def __post_init__(self) -> None:
        x = np.asarray(self.x, dtype=np.float64)
        y = np.asarray(self.y, dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape or x.shape[0] == 0:
            raise ValueError(
                f"graph '{self.name}': x and y must be non-empty 1-D arrays of one length, "
                f"got shapes {x.shape} and {y.shape}"
            )
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, {self.x.shape[0]} points)"
