"""ROOT histograms on scikit-hep ``hist``: only what TMVA needs and ``hist``/uproot do not have.

Every histogram pymva makes is a :class:`hist.Hist`: the evaluation's ``MVA_<T>_…`` histograms
(:mod:`pymva.evaluation`) and the input-variable plots, scatter plots, profiles and correlation
matrices of the output file (:mod:`pymva.io.output.plots`).  They carry ROOT's object the way
uproot reads one (``uproot_th1.to_hist()``):

* ``h.name`` is the object name (``fName``, the key in the file), ``h.label`` the title (``fTitle``);
* ``h.axes[i].label`` are the axis titles; a fixed-bin ``TAxis`` is a ``hist.axis.Variable`` on
  ROOT's exact edges (:func:`fixed_axis` says why not ``Regular``), bin labels
  (``TAxis::SetBinLabel``) a ``StrCategory``; ROOT's under- and overflow bins are the flow bins;
* the storage is ``Weight`` for a histogram with ``Sumw2`` (``value`` = content, ``variance`` =
  Σw²), ``Double`` for one without, and ``WeightedMean`` for a ``TProfile`` (``sum_of_weights`` =
  ``fBinEntries``, ``sum_of_weights_squared`` = ``fBinSumw2``, ``value`` = mean of y,
  ``_sum_of_weighted_deltas_squared`` = Σw(y − ȳ)²);
* ``h.metadata`` is a dict of the ROOT members ``hist`` has no place for, under their ROOT names
  (uproot keeps a TProfile's ``fEntries`` there too): ``classname`` (``TH1F``, ``TH1D``, ``TH2F``,
  ``TH2D`` or ``TProfile``), ``fEntries``, the fill statistics ``fTsumw``, ``fTsumw2``,
  ``fTsumwx``, ``fTsumwx2`` (2-D and TProfile also ``fTsumwy``, ``fTsumwy2``; 2-D ``fTsumwxy``),
  ``fMinimum``/``fMaximum`` (−1111: automatic), the title of the axis a ``hist`` lacks
  (``fYaxis.fTitle`` of a 1-D histogram or TProfile, ``fZaxis.fTitle`` of a 2-D one) and the
  drawing attributes in :data:`STYLE_KEYS`.  Missing keys take the defaults of
  :func:`to_writable`; other keys are the user's and ignored, except that an unknown key that
  looks like a ROOT member (``f`` and a capital letter, or ``class…``) is refused as a misspelling.

What is kept here, and why
--------------------------
uproot 5 writes a ``hist`` object itself (``file[key] = h``, ``uproot.to_writable``), but not as
TMVA writes its histograms: it always writes TH1D/TH2D (the contents of the float64 view; TMVA
writes most as TH1F/TH2F); ``fEntries`` is the sum of the contents (TMVA: the number of fills);
``fTsumw2`` equals ``fTsumw`` (right for unit weights only) and ``fTsumwx``, … come from bin
centres (TMVA's from the values filled inside the axis range); ``fTitle`` comes from a ``.title``
or ``.name`` attribute (``hist`` has ``.label``); an empty axis title becomes ``hist``'s
placeholder ``"Axis 0"``; there is no ``fMinimum``/``fMaximum``, no marker, line or label
attributes and no title for the y axis of a TH1 or the z axis of a TH2; a TProfile's
``fTsumwx``/``fTsumwx2`` include the flow bins.  :func:`to_writable` therefore builds the ROOT
objects with uproot's own model builders (``to_TH1x``, ``to_TH2x``, ``to_TProfile``, ``to_TAxis``,
``as_TGraph``), taking the bins from the ``hist`` and the rest from ``h.metadata``; uproot then
writes them.

Kept as well, because ROOT's arithmetic differs from ``hist``'s in the last bits:
:func:`find_bins` (``TAxis::FindBin``: ``1 + int(n (x − lo)/(hi − lo))``; boost-histogram
computes ``(x − lo)/(hi − lo) · n``, which can put a value on a bin edge into the neighbouring bin)
and :func:`bin_edges` (``TAxis::GetBinLowEdge``: ``lo + i (hi − lo)/n``, the last edge ``hi``;
boost-histogram's regular axis keeps ``lo`` and ``hi − lo`` and does not always give back ``hi``,
hence :func:`fixed_axis`).  The builders :func:`fill_th1`, :func:`fill_th2` and
:func:`fill_tprofile` fill as ``TH1::Fill`` does (bins by :func:`find_bins`, under- and overflow,
``Sumw2``, statistics of the in-range fills, one entry per fill) and write the views directly;
:func:`new_hist`, :func:`regular` and :func:`new_profile` make one from computed contents.

:class:`Graph` stays a small container of its own: a graph is not a histogram, and TMVA stores the
multiclass ROC curves as ``TGraph``.

What ``hist`` cannot hold exactly: a ``WeightedMean`` storage keeps a profile's mean and spread,
not ROOT's sums, so a TProfile's Σwy and Σwy² come back from them within one unit in the last
place (about 1e-16 relative; exact in most bins), and a bin whose weights sum to exactly 0 loses
its Σwy (see :func:`new_profile`).  Everything else is written as TMVA's own code writes it.

The module is longer than ~800 lines because its one concept, a ROOT histogram on ``hist``, has
two halves that share the metadata scheme above: building (``new_*``, ``fill_*``) and writing
(:func:`to_writable`); most of the length is their documentation.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boost_histogram as bh
import hist
import numpy as np
import numpy.typing as npt
import uproot
import uproot.writing.identify as _uw

from .errors import did_you_mean

__all__ = [
    "AUTO_RANGE",
    "STYLE_KEYS",
    "Graph",
    "axis_title",
    "bin_edges",
    "fill_th1",
    "fill_th2",
    "fill_tprofile",
    "find_bins",
    "fixed_axis",
    "labelled_axis",
    "new_hist",
    "new_profile",
    "regular",
    "root_class",
    "sumw2",
    "to_writable",
]

F64 = npt.NDArray[np.float64]

#: ROOT's ``fMinimum``/``fMaximum`` value meaning "automatic".
AUTO_RANGE = -1111.0

#: Drawing attributes read from ``h.metadata``: the TH1 members, then those of its axes.
STYLE_KEYS = (
    "fMarkerSize",
    "fMarkerColor",
    "fMarkerStyle",
    "fLineColor",
    "fFillColor",
    "fXaxis.fLabelSize",
    "fYaxis.fLabelSize",
    "fXaxis.fLabelOffset",
    "fYaxis.fLabelOffset",
)
_INT_STYLE = frozenset({"fMarkerColor", "fMarkerStyle", "fLineColor", "fFillColor"})
_STATS_KEYS = {
    "TH1": ("fTsumw", "fTsumw2", "fTsumwx", "fTsumwx2"),
    "TH2": ("fTsumw", "fTsumw2", "fTsumwx", "fTsumwx2", "fTsumwy", "fTsumwy2", "fTsumwxy"),
    "TProfile": ("fTsumw", "fTsumw2", "fTsumwx", "fTsumwx2", "fTsumwy", "fTsumwy2"),
}
_KNOWN_KEYS = frozenset(
    {"classname", "fEntries", "fMinimum", "fMaximum", "fYaxis.fTitle", "fZaxis.fTitle", *STYLE_KEYS}
    | set(_STATS_KEYS["TH2"])
)
_ROOT_MEMBER = re.compile(r"^f[A-Z]")
#: Axis titles ``hist.Hist`` puts on unlabelled axes (written as empty titles).
_PLACEHOLDER = re.compile(r"^Axis \d+$")


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


def fixed_axis(nbins: int, lo: float, hi: float, title: str = "") -> hist.axis.Variable:
    """A fixed-bin ``TAxis(nbins, lo, hi)`` titled ``title``, with under- and overflow bins.

    A ``hist.axis.Variable`` on the edges :func:`bin_edges` gives, not a ``hist.axis.Regular``:
    boost-histogram keeps a regular axis as ``lo`` and ``hi − lo``, so its upper edge
    ``lo + (hi − lo)`` can miss ``hi`` by a few units in the last place (e.g. ``lo = −158.937…``,
    ``hi = 13.1523…``), and the file would not hold TMVA's ``fXmax``.  Written as a fixed-bin axis
    (``fXmin = lo``, ``fXmax = hi``, no ``fXbins``) because the edges are uniform.

    Raises
    ------
    ValueError
        If ``nbins < 1`` or not ``lo < hi``.
    """
    if nbins < 1 or not lo < hi:
        raise ValueError(
            f"a fixed-bin axis needs at least one bin and lo < hi; got {nbins} bins on [{lo}, {hi}]"
        )
    return hist.axis.Variable(bin_edges(lo, hi, nbins), label=title)


def labelled_axis(labels: Sequence[str], title: str = "") -> hist.axis.StrCategory:
    """An axis with one bin per label (``TAxis::SetBinLabel``), written as bins on ``[0, len(labels)]``.

    Labels may repeat, as ROOT's may.
    """
    return hist.axis.StrCategory([str(s) for s in labels], label=title)


# --------------------------------------------------------------------------------------------------
# building


def _metadata(
    classname: str,
    *,
    value_title: str | None,
    value_axis: str,
    entries: float | None,
    stats: Sequence[float] | None,
    stats_keys: tuple[str, ...],
    minimum: float,
    maximum: float,
    style: Mapping[str, float] | None,
    owner: str,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"classname": classname}
    if value_title is not None:
        meta[f"{value_axis}.fTitle"] = value_title
    if entries is not None:
        meta["fEntries"] = float(entries)
    if stats is not None:
        if len(stats) != len(stats_keys):
            raise ValueError(
                f"{owner}: stats need {len(stats_keys)} numbers ({', '.join(stats_keys)}), got {len(stats)}"
            )
        meta.update(zip(stats_keys, (float(s) for s in stats), strict=True))
    meta["fMinimum"] = float(minimum)
    meta["fMaximum"] = float(maximum)
    for key, value in (style or {}).items():
        if key not in STYLE_KEYS:
            raise ValueError(f"{owner}: unknown style attribute {key!r}; accepted: {', '.join(STYLE_KEYS)}")
        meta[key] = value
    return meta


def _bins(owner: str, what: str, a: npt.ArrayLike, inner: tuple[int, ...], flow: tuple[int, ...]) -> F64:
    """``a`` as float64, checked to have the in-range shape ``inner`` or the flow shape ``flow``."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.shape != inner and arr.shape != flow:
        raise ValueError(
            f"{owner}: {what} has shape {arr.shape}; expected {inner} or, with under- and overflow "
            f"bins, {flow}"
        )
    return arr


def _finish(h: hist.Hist[Any], titles: Sequence[str]) -> hist.Hist[Any]:
    # hist.Hist names unlabelled axes "Axis <i>"; a ROOT axis without title has an empty one
    for ax, t in zip(h.axes, titles, strict=True):
        ax.label = t
    return h


def new_hist(
    name: str,
    title: str,
    axes: Sequence[Any],
    values: npt.ArrayLike,
    variances: npt.ArrayLike | None = None,
    *,
    classname: str | None = None,
    value_title: str = "",
    entries: float | None = None,
    stats: Sequence[float] | None = None,
    minimum: float = AUTO_RANGE,
    maximum: float = AUTO_RANGE,
    style: Mapping[str, float] | None = None,
) -> hist.Hist[Any]:
    """A TH1/TH2 as a :class:`hist.Hist` with the given contents.

    Parameters
    ----------
    name, title : str
        ``fName`` (the key in the file; ``h.name``) and ``fTitle`` (``h.label``).
    axes : sequence of hist axes
        One (TH1) or two (TH2); their labels are the axis titles (see :func:`fixed_axis`,
        :func:`labelled_axis`).
    values : array_like
        Bin contents, shape ``h.values().shape`` (in-range bins, flow bins left at 0) or
        ``h.values(flow=True).shape`` (with the under- and overflow bins, index 0 = underflow);
        2-D arrays indexed ``[ix, iy]``.
    variances : array_like or None
        ``fSumw2`` in the same shape: ``Weight`` storage; ``None`` gives ``Double`` storage (a
        histogram without ``Sumw2``, whose errors are ``sqrt(|content|)``).
    classname : str, optional
        ``TH1F``/``TH2F`` (default: float32 contents in the file) or ``TH1D``/``TH2D``.
    value_title : str
        Title of the axis after the last ``hist`` axis: the y axis of a TH1, the z axis of a TH2.
    entries : float, optional
        ``fEntries``; by default the sum of the contents with the flow bins.
    stats : sequence of float, optional
        ``(Σw, Σw², Σwx, Σwx²)``, for a TH2 also ``(Σwy, Σwy², Σwxy)``, of the fills inside the
        axis ranges; by default computed from the bin centres when written.
    minimum, maximum : float
        ``fMinimum``/``fMaximum``; −1111 is automatic.
    style : mapping of str to float, optional
        Drawing attributes, keys from :data:`STYLE_KEYS`.

    Returns
    -------
    hist.Hist

    Raises
    ------
    ValueError
        If there are not one or two axes, the arrays do not fit them, ``classname`` does not fit
        the dimension, ``stats`` has the wrong length or ``style`` an unknown key (the message names
        the histogram).
    """
    owner = f"histogram '{name}'"
    ndim = len(axes)
    if ndim not in (1, 2):
        raise ValueError(f"{owner}: a TH1 or TH2 has one or two axes, got {ndim}")
    kind = f"TH{ndim}"
    classname = f"{kind}F" if classname is None else classname
    if classname not in (f"{kind}F", f"{kind}D"):
        raise ValueError(
            f"{owner}: classname {classname!r} does not fit {ndim} axes; expected {kind}F or {kind}D"
        )
    meta = _metadata(
        classname,
        value_title=value_title,
        value_axis="fYaxis" if ndim == 1 else "fZaxis",
        entries=entries,
        stats=stats,
        stats_keys=_STATS_KEYS[kind],
        minimum=minimum,
        maximum=maximum,
        style=style,
        owner=owner,
    )
    storage = hist.storage.Double() if variances is None else hist.storage.Weight()
    titles = [ax.label for ax in axes]
    h = _finish(hist.Hist(*axes, storage=storage, name=name, label=title, metadata=meta), titles)
    inner, flow = h.values().shape, h.values(flow=True).shape
    v = _bins(owner, "values", values, inner, flow)
    view: Any = h.view(flow=v.shape == flow and inner != flow)
    if variances is None:
        view[...] = v
    else:
        var = _bins(owner, "variances", variances, inner, flow)
        if var.shape != v.shape:
            raise ValueError(f"{owner}: values of shape {v.shape} and variances of shape {var.shape}")
        view.value = v
        view.variance = var
    return h


def regular(
    name: str,
    title: str,
    lo: float,
    hi: float,
    values: npt.ArrayLike,
    variances: npt.ArrayLike | None = None,
    *,
    x_title: str = "",
    y_title: str = "",
    classname: str = "TH1F",
) -> hist.Hist[Any]:
    """A TH1 with ``len(values)`` equal bins on ``[lo, hi)`` and empty flow bins.

    ``values`` and ``variances`` (``fSumw2``, or ``None`` for none) are the in-range bins;
    ``y_title`` is the title of the y axis (``h.metadata["fYaxis.fTitle"]``).  See
    :func:`new_hist`.
    """
    v = np.asarray(values, np.float64)
    if v.ndim != 1 or v.shape[0] < 1:
        raise ValueError(f"histogram '{name}': values must be a non-empty 1-D array, got shape {v.shape}")
    return new_hist(
        name,
        title,
        [fixed_axis(v.shape[0], lo, hi, x_title)],
        v,
        variances,
        classname=classname,
        value_title=y_title,
    )


def new_profile(
    name: str,
    title: str,
    axis: Any,
    sum_w: npt.ArrayLike,
    sum_w2: npt.ArrayLike,
    sum_wy: npt.ArrayLike,
    sum_wy2: npt.ArrayLike,
    *,
    entries: float | None = None,
    stats: Sequence[float] | None = None,
    y_title: str = "",
) -> hist.Hist[Any]:
    """A TProfile as a :class:`hist.Hist` with ``WeightedMean`` storage, from ROOT's per-bin sums.

    Parameters
    ----------
    name, title : str
    axis : hist axis
        The x axis (its label is the x-axis title).
    sum_w, sum_w2, sum_wy, sum_wy2 : array_like
        Σw (``fBinEntries``), Σw² (``fBinSumw2``), Σwy (the bin contents) and Σwy² (``fSumw2``)
        per bin, in-range (shape ``(nbins,)``) or with the flow bins (``(nbins + 2,)``).
    entries : float, optional
        ``fEntries`` (default Σw of the in-range bins).
    stats : sequence of 6 float, optional
        ``(Σw, Σw², Σwx, Σwx², Σwy, Σwy²)`` of the fills inside the x range (default: from the bins).
    y_title : str
        Title of the y axis.

    Returns
    -------
    hist.Hist
        ``value`` = Σwy/Σw (0 in an empty bin) and ``_sum_of_weighted_deltas_squared`` =
        Σwy² − Σw·value² (not clipped at 0: it can be a rounding-size negative number in a bin
        whose y values are all equal).  :func:`to_writable` writes Σw·value and
        spread + Σw·value², which give back Σwy and Σwy² to the last bit in most bins and within
        one unit in the last place (about 1e-16 relative) in the others: the mean and spread
        cannot always represent ROOT's sums exactly.  A bin whose weights sum to exactly 0 has no
        mean and is written with Σwy = Σwy² = 0 (ROOT shows such a bin as 0 too).

    Raises
    ------
    ValueError
        If the arrays do not fit the axis or ``stats`` has not 6 numbers.
    """
    owner = f"profile '{name}'"
    meta = _metadata(
        "TProfile",
        value_title=y_title,
        value_axis="fYaxis",
        entries=entries,
        stats=stats,
        stats_keys=_STATS_KEYS["TProfile"],
        minimum=AUTO_RANGE,
        maximum=AUTO_RANGE,
        style=None,
        owner=owner,
    )
    h = _finish(
        hist.Hist(axis, storage=hist.storage.WeightedMean(), name=name, label=title, metadata=meta),
        [axis.label],
    )
    inner, flow = h.values().shape, h.values(flow=True).shape
    w, w2, wy, wy2 = (
        _bins(owner, what, a, inner, flow)
        for what, a in (("sum_w", sum_w), ("sum_w2", sum_w2), ("sum_wy", sum_wy), ("sum_wy2", sum_wy2))
    )
    if not w.shape == w2.shape == wy.shape == wy2.shape:
        raise ValueError(f"{owner}: sum_w, sum_w2, sum_wy and sum_wy2 differ in shape")
    nonzero = w != 0
    mean = np.zeros_like(w)
    np.divide(wy, w, out=mean, where=nonzero)
    spread = np.where(nonzero, wy2 - w * mean**2, 0.0)
    view: Any = h.view(flow=w.shape == flow and inner != flow)
    view["sum_of_weights"] = w
    view["sum_of_weights_squared"] = w2
    view["value"] = mean
    view["_sum_of_weighted_deltas_squared"] = spread
    return h


# --------------------------------------------------------------------------------------------------
# filling as TH1::Fill


def _bincount(index: npt.NDArray[np.integer[Any]], weights: F64, minlength: int) -> F64:
    """Weighted ``np.bincount`` as float64."""
    return np.asarray(np.bincount(index, weights=weights, minlength=minlength), dtype=np.float64)


def _fill_weights(w: npt.ArrayLike) -> F64:
    # TMVA fills with its float event weights
    return np.asarray(w, dtype=np.float32).astype(np.float64)


def fill_th1(
    name: str,
    title: str,
    x: npt.ArrayLike,
    w: npt.ArrayLike,
    nbins: int,
    lo: float,
    hi: float,
    *,
    x_title: str = "",
    y_title: str = "",
    classname: str = "TH1F",
) -> hist.Hist[Any]:
    """``TH1F(name, title, nbins, lo, hi)`` filled with ``Fill(x, w)`` for every event, as ROOT does.

    Parameters
    ----------
    x : array_like, shape (n,)
        Values, binned by :func:`find_bins` (below ``lo``: underflow; at or above ``hi`` or NaN:
        overflow).
    w : array_like, shape (n,)
        Weights (taken as float32, as TMVA's event weights).

    Returns
    -------
    hist.Hist
        ``Weight`` storage (``Sumw2``), ``fEntries`` = n, statistics of the in-range fills.
    """
    x64 = np.asarray(x, dtype=np.float64)
    w64 = _fill_weights(w)
    b = find_bins(x64, nbins, lo, hi)
    inside = (b >= 1) & (b <= nbins)
    wi, xi = w64[inside], x64[inside]
    stats = (float(wi.sum()), float((wi * wi).sum()), float((wi * xi).sum()), float((wi * xi * xi).sum()))
    return new_hist(
        name,
        title,
        [fixed_axis(nbins, lo, hi, x_title)],
        _bincount(b, w64, nbins + 2),
        _bincount(b, w64 * w64, nbins + 2),
        classname=classname,
        value_title=y_title,
        entries=float(len(x64)),
        stats=stats,
    )


def fill_th2(
    name: str,
    title: str,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    w: npt.ArrayLike,
    xaxis: tuple[int, float, float],
    yaxis: tuple[int, float, float],
    *,
    x_title: str = "",
    y_title: str = "",
    classname: str = "TH2F",
) -> hist.Hist[Any]:
    """``TH2F`` with ``xaxis`` = ``(nbins, lo, hi)`` and ``yaxis`` filled with ``Fill(x, y, w)``, as ROOT does.

    As :func:`fill_th1`, per axis; the statistics count the fills inside both ranges.
    """
    x64 = np.asarray(x, dtype=np.float64)
    y64 = np.asarray(y, dtype=np.float64)
    w64 = _fill_weights(w)
    nx, xlo, xhi = xaxis
    ny, ylo, yhi = yaxis
    bx = find_bins(x64, nx, xlo, xhi)
    by = find_bins(y64, ny, ylo, yhi)
    cell = bx * (ny + 2) + by
    size = (nx + 2) * (ny + 2)
    inside = (bx >= 1) & (bx <= nx) & (by >= 1) & (by <= ny)
    wi, xi, yi = w64[inside], x64[inside], y64[inside]
    stats = (
        float(wi.sum()),
        float((wi * wi).sum()),
        float((wi * xi).sum()),
        float((wi * xi * xi).sum()),
        float((wi * yi).sum()),
        float((wi * yi * yi).sum()),
        float((wi * xi * yi).sum()),
    )
    return new_hist(
        name,
        title,
        [fixed_axis(nx, xlo, xhi, x_title), fixed_axis(ny, ylo, yhi, y_title)],
        _bincount(cell, w64, size).reshape(nx + 2, ny + 2),
        _bincount(cell, w64 * w64, size).reshape(nx + 2, ny + 2),
        classname=classname,
        entries=float(len(x64)),
        stats=stats,
    )


def fill_tprofile(
    name: str,
    title: str,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    w: npt.ArrayLike,
    nbins: int,
    lo: float,
    hi: float,
    *,
    x_title: str = "",
    y_title: str = "",
) -> hist.Hist[Any]:
    """``TProfile(name, title, nbins, lo, hi)`` filled with ``Fill(x, y, w)`` for every event, as ROOT does.

    Bins by :func:`find_bins` on x (flow bins included); ``fEntries`` = n; the statistics count the
    fills inside the x range.  See :func:`new_profile` for the storage.
    """
    x64 = np.asarray(x, dtype=np.float64)
    y64 = np.asarray(y, dtype=np.float64)
    w64 = _fill_weights(w)
    b = find_bins(x64, nbins, lo, hi)
    m = nbins + 2
    inside = (b >= 1) & (b <= nbins)
    wi, xi, yi = w64[inside], x64[inside], y64[inside]
    stats = (
        float(wi.sum()),
        float((wi * wi).sum()),
        float((wi * xi).sum()),
        float((wi * xi * xi).sum()),
        float((wi * yi).sum()),
        float((wi * yi * yi).sum()),
    )
    return new_profile(
        name,
        title,
        fixed_axis(nbins, lo, hi, x_title),
        _bincount(b, w64, m),
        _bincount(b, w64 * w64, m),
        _bincount(b, w64 * y64, m),
        _bincount(b, w64 * y64 * y64, m),
        entries=float(len(x64)),
        stats=stats,
        y_title=y_title,
    )


# --------------------------------------------------------------------------------------------------
# reading what ROOT would


def _meta(h: Any) -> Mapping[str, Any]:
    """``h.metadata`` if it is a mapping, else ``{}`` (without boost-histogram's warning when unset)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        meta = getattr(h, "metadata", None)
    return meta if isinstance(meta, Mapping) else {}


def _is_mean(h: bh.Histogram[Any]) -> bool:
    return issubclass(h.storage_type, (bh.storage.Mean, bh.storage.WeightedMean))


def root_class(h: bh.Histogram[Any]) -> str:
    """The ROOT class :func:`to_writable` writes ``h`` as: ``h.metadata["classname"]``, by default
    ``TProfile`` for a mean storage and ``TH1D``/``TH2D`` (as uproot) otherwise."""
    default = "TProfile" if _is_mean(h) else f"TH{h.ndim}D"
    return str(_meta(h).get("classname", default))


def axis_title(h: bh.Histogram[Any], axis: int) -> str:
    """ROOT's title of axis ``axis`` (0 = x, 1 = y, 2 = z) of ``h``.

    The label of the ``hist`` axis (``hist``'s placeholder ``"Axis <i>"`` read as no title), or for
    the axis after the last one ``h.metadata["fYaxis.fTitle"]``/``["fZaxis.fTitle"]``.
    """
    if axis < h.ndim:
        label = str(getattr(h.axes[axis], "label", "") or "")
        return "" if _PLACEHOLDER.match(label) else label
    key = ["fXaxis", "fYaxis", "fZaxis"][axis]
    return str(_meta(h).get(f"{key}.fTitle", "") or "")


def sumw2(h: bh.Histogram[Any], flow: bool = False) -> F64:
    """Squared bin errors as ``TH1::GetBinError`` gives them: the variances of a ``Weight``
    storage, ``|content|`` without ``Sumw2``."""
    values = np.asarray(h.values(flow=flow), dtype=np.float64)
    if issubclass(h.storage_type, bh.storage.Weight):
        return np.asarray(h.variances(flow=flow), dtype=np.float64)
    return np.abs(values)


# --------------------------------------------------------------------------------------------------
# conversion to uproot's writable models


def _is_uniform(edges: F64) -> bool:
    n = len(edges) - 1
    if n < 1:
        return True
    ref = np.linspace(edges[0], edges[-1], n + 1)
    return bool(np.all(np.abs(edges - ref) <= 1e-10 * max(abs(edges[-1] - edges[0]), 1e-300)))


def _is_regular(ax: Any) -> bool:
    return isinstance(ax, bh.axis.Regular) and getattr(ax, "transform", None) is None


def _labels(ax: Any) -> list[str] | None:
    if isinstance(ax, (bh.axis.StrCategory, bh.axis.IntCategory)):
        return [str(s) for s in ax]
    return None


def _hash_list(labels: list[str] | None) -> Any:
    if labels is None:
        return None
    items = [_uw.to_TObjString(s) for s in labels]
    for i, item in enumerate(items):
        item._bases[0]._members["@fUniqueID"] = i + 1  # TAxis::SetBinLabel numbers them by bin
    return _uw.to_THashList(items)


def _axis_extra(which: str, meta: Mapping[str, Any]) -> dict[str, float]:
    key = {"xaxis": "fXaxis", "yaxis": "fYaxis", "zaxis": "fZaxis"}[which]
    return {m: float(meta[f"{key}.{m}"]) for m in ("fLabelSize", "fLabelOffset") if f"{key}.{m}" in meta}


def _taxis(h: bh.Histogram[Any], i: int, which: str, meta: Mapping[str, Any]) -> Any:
    ax = h.axes[i]
    edges = np.asarray(ax.edges, dtype=np.float64)
    labels = _labels(ax)
    fixed = _is_regular(ax) or labels is not None or _is_uniform(edges)
    return _uw.to_TAxis(
        fName=which,
        fTitle=axis_title(h, i),
        fNbins=len(ax),
        fXmin=float(edges[0]),
        fXmax=float(edges[-1]),
        fXbins=None if fixed else edges,
        fLabels=_hash_list(labels),
        **_axis_extra(which, meta),
    )


def _extra_axis(h: bh.Histogram[Any], which: str, meta: Mapping[str, Any]) -> Any:
    """The axis a ``hist`` has no counterpart for (TH1's y, TH2's z): one bin on [0, 1], titled."""
    index = "xyz".index(which[0])
    return _uw.to_TAxis(
        fName=which,
        fTitle=axis_title(h, index),
        fNbins=1,
        fXmin=0.0,
        fXmax=1.0,
        **_axis_extra(which, meta),
    )


def _centres(ax: Any) -> F64:
    """Bin centres from ROOT's edges (:func:`bin_edges` for a fixed-bin axis)."""
    edges = np.asarray(ax.edges, dtype=np.float64)
    if _is_regular(ax):
        edges = bin_edges(float(edges[0]), float(edges[-1]), len(ax))
    return 0.5 * (edges[:-1] + edges[1:])


def _root_cells(h: bh.Histogram[Any], a: Any) -> F64:
    """``a`` (a flow view of ``h``) with ROOT's under- and overflow bin on every axis (0 where
    ``hist`` has none, e.g. below a category axis)."""
    pad = [(0 if ax.traits.underflow else 1, 0 if ax.traits.overflow else 1) for ax in h.axes]
    return np.pad(np.asarray(a, dtype=np.float64), pad)


def _stats(meta: Mapping[str, Any], keys: tuple[str, ...], owner: str) -> tuple[float, ...] | None:
    present = [k for k in keys if k in meta]
    if not present:
        return None
    if len(present) != len(keys):
        missing = [k for k in keys if k not in meta]
        raise ValueError(
            f"{owner}: metadata has {', '.join(present)} but not {', '.join(missing)}; give all or none"
        )
    return tuple(float(meta[k]) for k in keys)


def _style(meta: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in STYLE_KEYS:
        if "." not in key and key in meta:
            out[key] = int(meta[key]) if key in _INT_STYLE else float(meta[key])
    return out


def _check_metadata(meta: Mapping[str, Any], owner: str) -> None:
    """Refuse keys that look like ROOT members (or the class) but are none pymva writes: typos."""
    for key in meta:
        looks_like_root = isinstance(key, str) and (
            _ROOT_MEMBER.match(key) or key.lower().startswith("class")
        )
        if looks_like_root and key not in _KNOWN_KEYS:
            raise ValueError(
                f"{owner}: metadata key {key!r} is not a ROOT member pymva writes (accepted: "
                f"{', '.join(sorted(_KNOWN_KEYS))}){did_you_mean(key, _KNOWN_KEYS)}"
            )


def _th_model(h: bh.Histogram[Any], name: str, title: str, classname: str, meta: Mapping[str, Any]) -> Any:
    owner = f"histogram '{name}'"
    ndim = h.ndim
    data = _root_cells(h, h.values(flow=True))
    weighted = issubclass(h.storage_type, bh.storage.Weight)
    sw2 = _root_cells(h, h.variances(flow=True)) if weighted else None
    inner = tuple(slice(1, -1) for _ in range(ndim))
    entries = float(meta["fEntries"]) if "fEntries" in meta else float(np.sum(data))
    stats = _stats(meta, _STATS_KEYS[f"TH{ndim}"], owner)
    if stats is None:
        c = data[inner]
        tsumw = float(c.sum())
        tsumw2 = float(sw2[inner].sum()) if sw2 is not None else tsumw
        xc = _centres(h.axes[0])
        if ndim == 1:
            stats = (tsumw, tsumw2, float((c * xc).sum()), float((c * xc * xc).sum()))
        else:
            yc = _centres(h.axes[1])
            stats = (
                tsumw,
                tsumw2,
                float((c.T * xc).sum()),
                float((c.T * xc * xc).sum()),
                float((c * yc).sum()),
                float((c * yc * yc).sum()),
                float((c * yc).T.dot(xc).sum()),
            )
    dtype = np.float32 if classname.endswith("F") else np.float64
    common: dict[str, Any] = {
        "fName": name,
        "fTitle": title,
        "data": data.T.reshape(-1).astype(dtype),
        "fEntries": entries,
        "fSumw2": None if sw2 is None else sw2.T.reshape(-1).astype(np.float64),
        "fXaxis": _taxis(h, 0, "xaxis", meta),
        "fMinimum": float(meta.get("fMinimum", AUTO_RANGE)),
        "fMaximum": float(meta.get("fMaximum", AUTO_RANGE)),
        "fTsumw": stats[0],
        "fTsumw2": stats[1],
        "fTsumwx": stats[2],
        "fTsumwx2": stats[3],
        **_style(meta),
    }
    if ndim == 1:
        return _uw.to_TH1x(fYaxis=_extra_axis(h, "yaxis", meta), **common)
    return _uw.to_TH2x(
        fTsumwy=stats[4],
        fTsumwy2=stats[5],
        fTsumwxy=stats[6],
        fYaxis=_taxis(h, 1, "yaxis", meta),
        fZaxis=_extra_axis(h, "zaxis", meta),
        **common,
    )


def _profile_model(h: bh.Histogram[Any], name: str, title: str, meta: Mapping[str, Any]) -> Any:
    view: Any = h.view(flow=True)
    if issubclass(h.storage_type, bh.storage.WeightedMean):
        sum_w = _root_cells(h, view["sum_of_weights"])
        sum_w2 = _root_cells(h, view["sum_of_weights_squared"])
        ssd = _root_cells(h, view["_sum_of_weighted_deltas_squared"])
    else:  # Mean: unit weights
        sum_w = sum_w2 = _root_cells(h, view["count"])
        ssd = _root_cells(h, view["_sum_of_deltas_squared"])
    mean = _root_cells(h, view["value"])
    sum_wy = sum_w * mean
    sum_wy2 = ssd + sum_w * mean**2
    stats = _stats(meta, _STATS_KEYS["TProfile"], f"profile '{name}'")
    if stats is None:
        xc = _centres(h.axes[0])
        w = sum_w[1:-1]
        stats = (
            float(w.sum()),
            float(sum_w2[1:-1].sum()),
            float((w * xc).sum()),
            float((w * xc * xc).sum()),
            float(sum_wy[1:-1].sum()),
            float(sum_wy2[1:-1].sum()),
        )
    return _uw.to_TProfile(
        fName=name,
        fTitle=title,
        data=sum_wy,
        fEntries=float(meta.get("fEntries", stats[0])),
        fTsumw=stats[0],
        fTsumw2=stats[1],
        fTsumwx=stats[2],
        fTsumwx2=stats[3],
        fTsumwy=stats[4],
        fTsumwy2=stats[5],
        fSumw2=sum_wy2,
        fBinEntries=sum_w,
        fBinSumw2=sum_w2,
        fXaxis=_taxis(h, 0, "xaxis", meta),
        fYaxis=_extra_axis(h, "yaxis", meta),
    )


def _graph_model(graph: Graph) -> Any:
    """An uproot TGraph model; axis titles travel in ROOT's ``title;x;y`` title convention."""
    model = uproot.as_TGraph(
        {"x": graph.x, "y": graph.y},
        title=graph.title,
        xAxisLabel=graph.x_title,
        yAxisLabel=graph.y_title,
        minY=AUTO_RANGE,
        maxY=AUTO_RANGE,
    )
    if not graph.x_title and not graph.y_title:
        model._bases[0]._members["fTitle"] = graph.title
    return model


def to_writable(obj: bh.Histogram[Any] | Graph) -> Any:
    """The uproot model that writes ``obj`` as TMVA would: TH1F/TH1D/TH2F/TH2D, TProfile or TGraph.

    Parameters
    ----------
    obj : hist.Hist (any boost_histogram.Histogram) or Graph
        A 1-D or 2-D histogram with a ``Weight`` or ``Double`` storage (TH1/TH2), a 1-D one with a
        ``WeightedMean`` or ``Mean`` storage (TProfile), or a :class:`Graph`.  ``name``, ``label``,
        the axis labels and ``metadata`` are read as the module docstring says.

    Returns
    -------
    uproot.model.Model
        To be assigned to ``file[path]`` of an uproot file.

    Raises
    ------
    ValueError
        If the histogram has no name, ``metadata["classname"]`` does not fit it (accepted:
        TH<n>F/TH<n>D for a count storage, TProfile for a mean storage), it has more than two axes
        or a 2-D mean storage (TProfile2D is not written), the statistics in the metadata are
        incomplete, or a metadata key looks like a misspelt ROOT member.
    TypeError
        If ``obj`` is neither a boost-histogram/hist histogram nor a :class:`Graph`.
    """
    if isinstance(obj, Graph):
        return _graph_model(obj)
    if not isinstance(obj, bh.Histogram):
        raise TypeError(
            f"cannot write a {type(obj).__name__} as a ROOT histogram; expected a hist.Hist "
            "(or boost_histogram.Histogram) or a pymva.histograms.Graph"
        )
    name = getattr(obj, "name", None)
    if not name:
        raise ValueError("a histogram needs a name to be written (hist.Hist(..., name='MVA_BDT_S'))")
    name = str(name)
    title = getattr(obj, "label", None)
    title = str(getattr(obj, "title", "") if title is None else title)
    meta = _meta(obj)
    owner = f"histogram '{name}'"
    _check_metadata(meta, owner)
    classname = root_class(obj)
    if _is_mean(obj):
        if obj.ndim != 1 or classname != "TProfile":
            raise ValueError(
                f"{owner}: a mean storage is written as a 1-D TProfile; got {obj.ndim} axes and "
                f"classname {classname!r}"
            )
        return _profile_model(obj, name, title, meta)
    if obj.ndim not in (1, 2):
        raise ValueError(f"{owner}: only 1-D and 2-D histograms (TH1, TH2) are written, got {obj.ndim} axes")
    expected = (f"TH{obj.ndim}F", f"TH{obj.ndim}D")
    if classname not in expected:
        raise ValueError(
            f"{owner}: classname {classname!r} does not fit a {obj.ndim}-D histogram; expected {' or '.join(expected)}"
        )
    return _th_model(obj, name, title, classname, meta)


# --------------------------------------------------------------------------------------------------
# graphs


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
