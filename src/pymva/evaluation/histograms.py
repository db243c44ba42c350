"""Histograms and graphs produced by the evaluation, ready to be written as ROOT objects.

The evaluation never writes files.  It returns :class:`Histogram` (1-D), :class:`Histogram2D` and
:class:`Graph` objects named exactly as TMVA names them (``../shared/tmva/core.md`` §5.2, §5.4,
§5.6, §5.7, §6); the output-file writer turns them into ``TH1D``/``TH1F``/``TH2F`` (the
``root_type`` attribute says which class TMVA uses) or ``TGraph``.

Only the in-range bins are kept (no under- or overflow).  ``variances`` are what ROOT stores in
``fSumw2``: the sum of squared weights of a filled histogram, scaled like the contents, or
``|content|`` (ROOT's default error ``sqrt(|content|)``) for histograms whose contents TMVA sets
directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._util import F64, bin_edges

__all__ = ["Graph", "Histogram", "Histogram2D"]


@dataclass(frozen=True, eq=False)
class Histogram:
    """A 1-D histogram with equidistant or explicit bin edges.

    Attributes
    ----------
    name, title : str
        ROOT object name and title.
    edges : ndarray of float64, shape (nbins + 1,)
    counts : ndarray of float64, shape (nbins,)
        Bin contents of bins ``1..nbins``.
    variances : ndarray of float64, shape (nbins,)
        Squared bin errors (ROOT's ``fSumw2``).
    x_title, y_title : str
        Axis titles ("" if TMVA sets none).
    root_type : str
        ``"TH1D"`` or ``"TH1F"``, the class TMVA writes.
    """

    name: str
    title: str
    edges: F64
    counts: F64
    variances: F64
    x_title: str = ""
    y_title: str = ""
    root_type: str = "TH1D"

    @classmethod
    def regular(
        cls,
        name: str,
        title: str,
        lo: float,
        hi: float,
        counts: F64,
        variances: F64,
        *,
        x_title: str = "",
        y_title: str = "",
        root_type: str = "TH1D",
    ) -> Histogram:
        """Build a histogram with ``len(counts)`` equal bins on ``[lo, hi]``."""
        counts = np.asarray(counts, np.float64)
        return cls(
            name,
            title,
            bin_edges(lo, hi, counts.shape[0]),
            counts,
            np.asarray(variances, np.float64),
            x_title,
            y_title,
            root_type,
        )

    @property
    def nbins(self) -> int:
        """Number of bins."""
        return int(self.counts.shape[0])

    @property
    def centers(self) -> F64:
        """Bin centres."""
        return 0.5 * (self.edges[:-1] + self.edges[1:])

    @property
    def widths(self) -> F64:
        """Bin widths."""
        return np.diff(self.edges)

    @property
    def errors(self) -> F64:
        """Bin errors, ``sqrt(variances)``."""
        return np.sqrt(np.abs(self.variances))

    def integral(self, width: bool = False) -> float:
        """Sum of the bin contents (times the bin widths if ``width``), as ``TH1::Integral``."""
        return float(np.sum(self.counts * self.widths) if width else np.sum(self.counts))

    def to_numpy(self) -> tuple[F64, F64]:
        """``(counts, edges)``, the form ``numpy.histogram`` returns and uproot accepts."""
        return self.counts, self.edges

    def __repr__(self) -> str:
        return (
            f"Histogram({self.name!r}, {self.nbins} bins on [{self.edges[0]:.6g}, {self.edges[-1]:.6g}], "
            f"integral={self.integral():.6g}, {self.root_type})"
        )


@dataclass(frozen=True, eq=False)
class Histogram2D:
    """A 2-D histogram (``TH2F`` in TMVA's output files).

    Attributes
    ----------
    name, title : str
    x_edges : ndarray of float64, shape (nx + 1,)
    y_edges : ndarray of float64, shape (ny + 1,)
    counts : ndarray of float64, shape (nx, ny)
        ``counts[i, j]`` is the content of bin ``(i + 1, j + 1)``.
    variances : ndarray of float64, shape (nx, ny)
    x_title, y_title : str
    root_type : str
        ``"TH2F"``.
    """

    name: str
    title: str
    x_edges: F64
    y_edges: F64
    counts: F64
    variances: F64
    x_title: str = ""
    y_title: str = ""
    root_type: str = "TH2F"

    @property
    def shape(self) -> tuple[int, int]:
        """``(nx, ny)``."""
        return int(self.counts.shape[0]), int(self.counts.shape[1])

    def integral(self) -> float:
        """Sum of the in-range bin contents."""
        return float(np.sum(self.counts))

    def to_numpy(self) -> tuple[F64, F64, F64]:
        """``(counts, x_edges, y_edges)``, the form ``numpy.histogram2d`` returns."""
        return self.counts, self.x_edges, self.y_edges

    def __repr__(self) -> str:
        nx, ny = self.shape
        return f"Histogram2D({self.name!r}, {nx}x{ny} bins, integral={self.integral():.6g})"


@dataclass(frozen=True, eq=False)
class Graph:
    """A graph of points (TMVA stores the multiclass ROC curves as ``TGraph``).

    Attributes
    ----------
    name, title : str
    x, y : ndarray of float64
    x_title, y_title : str
    """

    name: str
    title: str
    x: F64
    y: F64
    x_title: str = ""
    y_title: str = ""

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, {self.x.shape[0]} points)"
