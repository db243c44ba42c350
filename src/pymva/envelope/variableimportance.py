"""``TMVA.VariableImportance``: how much each input variable adds to the ROC integral
(``tmva/tmva/src/VariableImportance.cxx``).

::

    vi = TMVA.VariableImportance(dataloader)          # or with "VariableImportanceType=All:NumWorkers=2"
    vi.SetType(TMVA.VIType.kShort)
    vi.BookMethod(TMVA.Types.kBDT, "BDT", "!H:!V:NTrees=50")
    vi.Evaluate()
    result = vi.GetResults()
    result.Print()                                    # "x: 97.3 % " …
    result.Draw()                                     # bar chart, importance in %

The method is trained on variable subsets (each a new DataSet with the same events and split,
:meth:`~pymva.data.dataset.DataSet.select_variables`), and the ROC integral of every subset ``S``
compared with that of ``S`` without variable ``i``:

* ``Short`` (TMVA's default): ``S`` = all variables, one training per variable left out;
  ``importance_i = ROC(all) − ROC(all∖i)``;
* ``All``: every subset: ``importance_i = Σ_{S∋i} [ROC(S) − ROC(S∖i)]``;
* ``Random``: ``NumRandom`` random subsets (default: the number of variables squared, as TMVA).

``ROC(∅) = 0.5``.  The importances are then normalised to 100 %.  Every distinct subset is trained
once, in ``NumWorkers`` processes; TMVA trains a repeated random subset again (with the same result,
trainings being deterministic) and, in ``Random`` mode, *replaces* a variable's sum when a subset of
that variable alone comes up — pymva adds it like every other term (``docs/differences-from-tmva.md``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar

import hist
import numpy as np

from ..errors import NotTrainedError, OptionError
from ..histograms import regular
from ..options import non_negative, option
from ..types import EAnalysisType
from .envelope import Envelope, EnvelopeOptions, print_lines
from .jobs import TrainingJob, run_training_job
from .parallel import job_seed, run_jobs

__all__ = ["VIType", "VariableImportance", "VariableImportanceOptions", "VariableImportanceResult"]

#: TMVA's Factory options of the subset trainings.
_FACTORY_OPTIONS = "!V:!ROC:!ModelPersistence:Silent:!Color:!DrawProgressBar:AnalysisType=Classification"
#: Bits of TMVA's subset masks (``std::bitset<32>``): the loader names are 32-character bit strings.
NBITS = 32


class VIType(enum.IntEnum):
    """``TMVA.VIType``: the kinds of variable importance."""

    kShort = 0
    kAll = 1
    kRandom = 2


_TYPE_NAMES = {"Short": VIType.kShort, "All": VIType.kAll, "Random": VIType.kRandom}


@dataclass(frozen=True)
class VariableImportanceOptions(EnvelopeOptions):
    """Options of ``VariableImportance``: the Envelope's and pymva's ``VariableImportanceType``,
    ``NumRandom`` and ``RandomSeed`` (TMVA sets the type with ``SetType`` and draws with ``TRandom3(0)``)."""

    component_name: ClassVar[str] = "VariableImportance"

    VariableImportanceType: str = option(
        "Short",
        "Variable subsets: Short (leave one out), All (every subset), Random",
        allowed=tuple(_TYPE_NAMES),
    )
    NumRandom: int = option(
        0, "Random: number of random subsets (0: number of variables squared)", check=non_negative
    )
    RandomSeed: int = option(100, "Random: seed of the subset draws", check=non_negative)


class VariableImportanceResult:
    """The importances of one method (TMVA ``VariableImportanceResult``).

    Attributes
    ----------
    method_title : str
    type : VIType
    importances : dict of str to float
        Variable label → importance in percent (summing to 100), in variable order.
    rocs : dict of int to float
        ROC integral of every subset trained, by bit mask (bit ``i`` = variable ``i``).
    """

    def __init__(
        self, method_title: str, vi_type: VIType, labels: list[str], raw: np.ndarray, rocs: dict[int, float]
    ):
        self.method_title = method_title
        self.type = vi_type
        total = float(np.sum(raw))
        pct = 100.0 * np.asarray(raw, dtype=np.float64) / total if total != 0 else np.zeros(len(labels))
        self.importances: dict[str, float] = {name: float(v) for name, v in zip(labels, pct, strict=True)}
        self.raw: dict[str, float] = {name: float(v) for name, v in zip(labels, raw, strict=True)}
        self.rocs = dict(rocs)

    def GetImportanceValues(self) -> dict[str, float]:
        """Variable → importance in percent (TMVA: an ``OptionMap`` of texts ``"<value> % "``)."""
        return dict(self.importances)

    def GetImportanceHist(self) -> hist.Hist[Any]:
        """TMVA's ``vihist``: one bin per variable (in order) holding its importance in percent."""
        n = len(self.importances)
        values = np.array(list(self.importances.values()), dtype=np.float64)
        return regular(
            "vihist", "", 0.0, float(n), values, x_title=" Variable Names ", y_title=" Importance (%)"
        )

    def Print(self) -> None:
        """Print TMVA's result: the type, then ``<variable>: <value> % `` in name order (even ``Silent``)."""
        kind = {VIType.kShort: "Short", VIType.kAll: "All", VIType.kRandom: "Random"}[self.type]
        lines = [f"Variable Importance Results ({kind})"]
        lines += [
            f"{name}: {self.importances[name]:.6g} % " for name in sorted(self.importances, key=str.encode)
        ]
        from ..logger import get_logger

        print_lines(get_logger("VariableImportance", "pymva.envelope.variableimportance"), lines)

    def Draw(self, name: str = "VariableImportance") -> Any:
        """A bar chart of the importances (matplotlib figure with ROOT's ``SaveAs``).

        Raises
        ------
        MissingExtraError
            Without matplotlib.
        """
        from ..extras import pyplot
        from ..io.rootfile import canvas_class

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6, 4.5), FigureClass=canvas_class())
        labels = list(self.importances)
        ax.bar(range(len(labels)), list(self.importances.values()), width=0.97, color="#006600")
        ax.set_xticks(range(len(labels)), labels, rotation=90)
        ax.set_xlabel(" Variable Names ")
        ax.set_ylabel(" Importance (%) ")
        ax.set_title(f"{name}: {self.method_title}")
        fig.tight_layout()
        return fig

    def _repr_html_(self) -> str:
        from .._html import html_table

        return html_table(
            f"Variable importance ({self.type.name[1:]}) of {self.method_title}",
            [(k, v) for k, v in self.importances.items()],
            ("variable", "importance (%)"),
        )

    def __repr__(self) -> str:
        return f"<VariableImportanceResult {self.method_title}: {self.importances}>"


def importances(n: int, masks: list[int], roc: dict[int, float]) -> np.ndarray:
    """TMVA's sums: for every mask ``x`` and variable ``i`` in it, ``ROC(x) − ROC(x without i)``.

    Parameters
    ----------
    n : int
        Number of variables.
    masks : list of int
        The subsets whose variables are credited (each distinct subset once; a repeated random draw
        counts again).
    roc : dict of int to float
        ROC integral by mask; the empty mask is 0.5.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    out = np.zeros(n, dtype=np.float64)
    for x in masks:
        for i in range(n):
            if x & (1 << i):
                y = x & ~(1 << i)
                out[i] += roc[x] - (0.5 if y == 0 else roc[y])
    return out


class VariableImportance(Envelope):
    """TMVA's ``VariableImportance`` (see the module docstring).

    Parameters
    ----------
    dataloader : DataLoader
    options : str
        :class:`VariableImportanceOptions` (pymva; TMVA takes the loader only).

    Raises
    ------
    OptionError
        For options that cannot be interpreted.
    """

    def __init__(self, dataloader: Any, options: str = "", **kwargs: Any) -> None:
        opts = VariableImportanceOptions.parse(options, **kwargs)
        super().__init__("VariableImportance", dataloader, opts)
        self.options: VariableImportanceOptions = opts
        self._type = _TYPE_NAMES[opts.VariableImportanceType]
        self._results: dict[str, VariableImportanceResult] = {}

    def SetType(self, type: VIType | int) -> None:
        """Choose ``kShort``, ``kAll`` or ``kRandom``."""
        self._type = VIType(int(type))

    def GetType(self) -> VIType:
        """The kind of importance evaluated."""
        return self._type

    def _masks(self, n: int) -> tuple[list[int], list[int]]:
        """The subsets credited and the subsets to train (distinct, including every ``x without i``)."""
        if n > NBITS:
            raise OptionError(f"VariableImportance handles at most {NBITS} variables; the loader has {n}")
        full = (1 << n) - 1
        if self._type == VIType.kShort:
            credited = [full]
        elif self._type == VIType.kAll:
            credited = list(range(1, full + 1))
        else:
            if n < 10:
                self.log.error(
                    "Running variable importance with less that 10 varibales in Random mode can to produce "
                    "inconsisten results"
                )
            draws = self.options.NumRandom or n * n
            rng = np.random.default_rng(self.options.RandomSeed)
            credited = [int(x) for x in rng.integers(0, full + 1, size=draws) if x != 0]
        needed: set[int] = set()
        for x in credited:
            needed.add(x)
            needed.update(x & ~(1 << i) for i in range(n) if x & (1 << i) and x & ~(1 << i))
        return credited, sorted(needed)

    def Evaluate(self) -> None:
        """Train the method on every subset needed and compute the importances.

        Raises
        ------
        OptionError
            Without a booked method, or with more than 32 variables.
        ModelError
            When a subset could not be trained.
        """
        ds = self._loader.GetDataSetInfo().GetDataSet()
        labels = [v.label for v in ds.variables]
        n = len(labels)
        if n == 0:
            raise OptionError("Error: need at least one variable.")
        credited, needed = self._masks(n)
        for m in self._booked():
            jobs = []
            for x in needed:
                name = format(x, f"0{NBITS}b")  # TMVA's loader name: std::bitset<32>::to_string()
                indices = [i for i in range(n) if x & (1 << i)]
                jobs.append(
                    TrainingJob(
                        dataset=ds.select_variables(indices, name=name),
                        job_name="VariableImportance",
                        method=m.name,
                        title=m.title,
                        options=m.options,
                        factory_options=_FACTORY_OPTIONS,
                        seed=job_seed("VariableImportance", m.title, x),
                    )
                )
            self.log.info("Training %s on %d variable subsets", m.title, len(jobs))
            outcomes = run_jobs(run_training_job, jobs, self.workers)
            self._configure_logging()
            untrained = [format(x, "b") for x, o in zip(needed, outcomes, strict=True) if not o.trained]
            if untrained:
                from ..errors import ModelError

                raise ModelError(f"VariableImportance: {m.title} was not trained on the subsets {untrained}")
            roc = {x: float(o.roc_integral) for x, o in zip(needed, outcomes, strict=True)}
            raw = importances(n, credited, roc)
            self._results[m.title] = VariableImportanceResult(m.title, self._type, labels, raw, roc)
        self.log.info("Evaluation done.")

    def GetResults(self, methodTitle: str | None = None) -> VariableImportanceResult:
        """The result of the last booked method (TMVA keeps one), or of ``methodTitle`` (pymva).

        Raises
        ------
        NotTrainedError
            Before :meth:`Evaluate`.
        KeyError
            For a title without result.
        """
        if not self._results:
            raise NotTrainedError("No variable importance results available: call Evaluate() first")
        if methodTitle is None:
            return list(self._results.values())[-1]
        return self._results[methodTitle]

    @property
    def analysis_type(self) -> EAnalysisType:
        """Always classification (TMVA's Factory option ``AnalysisType=Classification``)."""
        return EAnalysisType.kClassification
