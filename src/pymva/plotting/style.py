"""How the TMVAGui figures look: mplhep's ROOT style, TMVA's signal/background colours, ROOT's TLatex.

Every plotting function takes ``style=``: ``"ROOT"`` (default) is :data:`mplhep.style.ROOT` with the
font sizes below; ``None`` keeps matplotlib's current settings; any other value is passed to
:func:`matplotlib.pyplot.style.context` (a style name, a dict of rcParams or a list of them).

Figures are plain :class:`matplotlib.figure.Figure` objects, not registered with pyplot: in Jupyter
the returned figure shows once; in a script, ``fig.savefig(...)``, or ``plt.figure(fig)`` then
``plt.show()``.

Titles of histograms carry ROOT's TLatex (``#Delta#eta``, ``GeV^{0.5}``, ``dN_{ }/^{ }0.17 GeV``);
:func:`root_text` turns them into matplotlib text (Greek letters as Unicode, sub- and superscripts as
mathtext).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

from ..extras import mplhep, pyplot

__all__ = [
    "BACKGROUND",
    "CLASS_COLORS",
    "SIGNAL",
    "class_style",
    "grid_shape",
    "new_figure",
    "root_text",
    "style_context",
]

#: TMVA's signal colours (``TMVAGlob::getSignalLine``/``getSignalFill``): line, fill.
SIGNAL = ("#0000ee", "#7d99d1")
#: TMVA's background colours: line and hatch (TMVA fills with the hatch pattern 3554).
BACKGROUND = ("#ff0000", "#ff0000")
#: Further classes (multiclass), after signal blue and background red.
CLASS_COLORS = ("#0000ee", "#ff0000", "#008800", "#ff8800", "#8800cc", "#00aaaa", "#888888", "#cc0077")

#: rcParams on top of mplhep's ROOT style: its 26 pt suit a 10-inch single plot; these suit the
#: TMVA canvases (about 8 inches wide, several panels for the variables).
_ROOT_OVERRIDES = {
    "font.size": 17.0,
    "legend.fontsize": "small",
    "axes.titlesize": "medium",
    "figure.titlesize": "large",
    "figure.dpi": 100.0,
    "savefig.dpi": 100.0,
    "lines.linewidth": 2.0,
    "xtick.major.size": 8.0,
    "ytick.major.size": 8.0,
    "xtick.minor.size": 4.0,
    "ytick.minor.size": 4.0,
    "axes.linewidth": 1.2,
    # sub- and superscripts in DejaVu Sans: mplhep's "custom" set needs its rcParams when drawn
    "mathtext.fontset": "dejavusans",
    # titles and labels centred: the axis titles from the file are often long
    "xaxis.labellocation": "center",
    "yaxis.labellocation": "center",
}


def _style_list(style: Any) -> list[Any]:
    if style is None:
        return []
    if isinstance(style, str) and style == "ROOT":
        return [mplhep().style.ROOT, _ROOT_OVERRIDES]
    return list(style) if isinstance(style, list) else [style]


@contextlib.contextmanager
def style_context(style: Any) -> Iterator[None]:
    """Apply ``style`` (see the module docstring) for the duration of the block.

    Raises
    ------
    MissingExtraError
        If matplotlib, or for ``"ROOT"`` mplhep, is not installed.
    """
    plt = pyplot()
    styles = _style_list(style)
    if not styles:
        yield
        return
    with plt.style.context(styles):
        yield


def new_figure(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] = (8.0, 6.4)
) -> tuple[Any, Any]:
    """A new figure (not managed by pyplot) with a grid of axes, constrained layout.

    Returns
    -------
    (Figure, ndarray of Axes)
        The axes array always has shape ``(nrows, ncols)``.
    """
    pyplot()
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns) for ``n`` panels: TMVA's pads per canvas (1, 2, 3 in a row, 2×2), then rows of 3."""
    if n <= 3:
        return 1, max(n, 1)
    if n == 4:
        return 2, 2
    return math.ceil(n / 3), 3


def finish(fig: Any) -> Any:
    """Make ``fig`` look the same when it is drawn after the style context (in a notebook, where the
    figure is drawn after the function returned); return it.

    matplotlib resolves some settings only when drawing: the tick marks and labels are created then,
    and a generic font family (``sans-serif``) is looked up in the rcParams of that moment.  So the
    ticks are created now and every text gets the concrete font list and mathtext font set of the
    style.
    """
    import matplotlib as mpl
    from matplotlib.font_manager import fontManager
    from matplotlib.text import Text

    installed = {f.name for f in fontManager.ttflist}
    rc: Any = mpl.rcParams
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_major_ticks()
            axis.get_minor_ticks()
    generic = {"serif", "sans-serif", "sans", "cursive", "fantasy", "monospace"}
    math_fontset = rc["mathtext.fontset"]
    for text in fig.findobj(Text):
        prop = text.get_fontproperties()
        families = prop.get_family()
        concrete: list[str] = []
        for fam in families:
            key = "sans-serif" if fam == "sans" else fam
            if key in generic:
                concrete += [f for f in rc[f"font.{key}"] if f in installed][:1] or [fam]
            else:
                concrete.append(fam)
        text.set_fontfamily(concrete)
        text.set_math_fontfamily(math_fontset)
    return fig


def class_style(index: int, class_name: str) -> dict[str, Any]:
    """Drawing style of a class in overlays: TMVA's filled blue signal and hatched red background;
    further classes in :data:`CLASS_COLORS`, unfilled."""
    if class_name == "Signal" or (index == 0 and class_name != "Background"):
        line, fill = SIGNAL
        return {"color": line, "facecolor": fill, "fill": True, "alpha_fill": 0.55, "hatch": None}
    if class_name == "Background":
        return {
            "color": BACKGROUND[0],
            "facecolor": "none",
            "fill": False,
            "alpha_fill": 1.0,
            "hatch": "////",
        }
    color = CLASS_COLORS[index % len(CLASS_COLORS)]
    return {"color": color, "facecolor": "none", "fill": False, "alpha_fill": 1.0, "hatch": None}


def stairs(
    ax: Any, values: Any, edges: Any, *, class_index: int, class_name: str, label: str, gid: str
) -> Any:
    """Draw one histogram as TMVA draws signal and background ("hist", filled or hatched)."""
    from matplotlib.colors import to_rgba

    st = class_style(class_index, class_name)
    face = to_rgba(st["facecolor"], st["alpha_fill"]) if st["fill"] else "none"
    return ax.stairs(
        values,
        edges,
        fill=st["fill"] or st["hatch"] is not None,
        facecolor=face,
        edgecolor=st["color"],
        linewidth=2.0,
        hatch=st["hatch"],
        label=label,
        gid=gid,
    )


# --------------------------------------------------------------------------------------------------
# ROOT's TLatex → matplotlib

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "omicron": "ο", "pi": "π", "varpi": "ϖ",
    "rho": "ρ", "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "φ",
    "varphi": "ϕ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Alpha": "Α", "Beta": "Β", "Gamma": "Γ", "Delta": "Δ", "Epsilon": "Ε", "Zeta": "Ζ",
    "Eta": "Η", "Theta": "Θ", "Iota": "Ι", "Kappa": "Κ", "Lambda": "Λ", "Mu": "Μ", "Nu": "Ν",
    "Xi": "Ξ", "Omicron": "Ο", "Pi": "Π", "Rho": "Ρ", "Sigma": "Σ", "Tau": "Τ",
    "Upsilon": "Υ", "Phi": "Φ", "Chi": "Χ", "Psi": "Ψ", "Omega": "Ω",
    "pm": "±", "mp": "∓", "times": "×", "cdot": "·", "leq": "≤", "geq": "≥", "neq": "≠",
    "approx": "≈", "sim": "~", "infty": "∞", "rightarrow": "→", "leftarrow": "←",
    "to": "→", "partial": "∂", "circ": "°", "ell": "ℓ", "degree": "°",
}  # fmt: skip

_COMMAND = re.compile(r"#([A-Za-z]+)")
_SCRIPT = re.compile(r"([_^])\{([^{}]*)\}")
_MATH_SPECIAL = re.compile(r"([\\$%&#_^{}])")


def _mathtext_escape(text: str) -> str:
    text = _MATH_SPECIAL.sub(r"\\\1", text)
    return text.replace(" ", r"\ ")


def _plain(text: str) -> str:
    """Fallback: the TLatex markup removed, dollar signs escaped."""
    text = _COMMAND.sub(lambda m: _GREEK.get(m.group(1), m.group(0)), text)
    text = re.sub(r" *(?:[_^]\{\s*\} *)+", " ", text).strip()
    text = re.sub(r"[_^]\{([^{}]*)\}", r"\1", text)
    return text.replace("$", r"\$")


def root_text(text: str) -> str:
    """ROOT's TLatex ``text`` as matplotlib text.

    ``#Delta`` and the other Greek letters and symbols become Unicode; empty sub- or superscripts
    (``_{ }``, ``^{ }``, spacing in ROOT) disappear; ``x^{2}`` and ``p_{T}`` become mathtext
    super- and subscripts; a ``$`` stays a dollar sign.  A text that mathtext cannot parse is
    returned with the markup stripped.

    Examples
    --------
    >>> root_text("Dijet #Delta#eta")
    'Dijet Δη'
    >>> root_text("dN_{ }/^{ }0.372 GeV^{0.5}")
    'dN / 0.372 GeV$^{0.5}$'
    """
    if not any(c in text for c in "#_^$"):
        return text
    out = _COMMAND.sub(lambda m: _GREEK.get(m.group(1), m.group(0)), text)
    out = re.sub(r" *(?:[_^]\{\s*\} *)+", " ", out).strip()
    pieces: list[str] = []
    pos = 0
    for m in _SCRIPT.finditer(out):
        pieces.append(out[pos : m.start()].replace("$", r"\$"))
        pieces.append(f"${m.group(1)}{{{_mathtext_escape(m.group(2))}}}$")
        pos = m.end()
    pieces.append(out[pos:].replace("$", r"\$"))
    result = "".join(pieces)
    if "$" in result.replace(r"\$", ""):
        try:
            from matplotlib.mathtext import MathTextParser

            MathTextParser("path").parse(result)
        except ValueError:  # what mathtext cannot read
            return _plain(text)
    return result


def axis_text(texts: Sequence[str]) -> str:
    """The first non-empty of ``texts``, as :func:`root_text`."""
    for t in texts:
        if t:
            return root_text(t)
    return ""
