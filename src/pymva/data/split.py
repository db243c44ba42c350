"""The train/test split of TMVA's ``DataSetFactory``, on index arrays (``../shared/tmva/core.md`` §3.2, §3.4).

Everything here is plain numpy and knows nothing about files or expressions:

* :class:`SplitOptions` and :func:`parse_split_options` — the options of
  ``PrepareTrainingAndTestTree`` (``SplitMode``, ``MixMode``, ``SplitSeed``, ``NormMode``, … and the
  per-class ``nTrain_<class>``, ``nTest_<class>``, ``TrainTestSplit_<class>``), declared once;
* :func:`requested_numbers` — the numbers of training and testing events asked for, after
  ``TrainTestSplit_<class>`` and ``ScaleWithPreselEff``;
* :func:`split_class` and :func:`split_classes` — TMVA's three cases, the assignment of the
  "undefined" events (from trees that were added for both training and testing) and the trimming,
  for ``SplitMode`` Random, Alternate and Block;
* :func:`renormalisation_factors` — ``NormMode`` None, NumEvents, EqualNumEvents (training weights
  only, sums in float64);
* :func:`mix_order` — ``MixMode`` Block (concatenation), Alternate (TMVA's insertion pattern) and
  Random (a shuffle of each sample);
* :func:`scatter_rows` — writes events held in chunks into the final arrays in their final order while
  freeing the chunks, so that peak memory stays close to one copy of the events;
* :func:`training_ranges` and :func:`is_constant` — step 8 (training min/max, constant variables).

Events of one class are addressed by a *class-local index* over the virtual concatenation
``[events from training trees | events from testing trees | undefined events]`` (sizes ``r``, ``s``,
``u``).  One :class:`numpy.random.Generator` seeded with ``SplitSeed`` drives every random step, in
TMVA's order: the shuffle of every class's undefined events, then per class the random trimming of
training and testing events, then the ``MixMode=Random`` shuffles of the full training and testing
samples.  ROOT uses ``TRandom3`` and ``std::shuffle``; pymva reproduces the semantics (which events
can end up where, and how many), not ROOT's exact choice of events.  ``SplitSeed=0`` draws a
non-reproducible seed, as in ROOT.

Size: over 800 lines on purpose — the split, the renormalisation, the mixing and the moments are
the steps of one TMVA procedure (``DataSetFactory::MixEvents``/``RenormEvents``) on the same index arrays.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .._blas import blas_single_thread
from ..errors import DataError
from ..options import OptionDecl, OptionsBase, non_negative, option, parse_option_string

__all__ = [
    "Chunk",
    "ClassCounts",
    "ClassRequest",
    "SplitConfig",
    "SplitOptions",
    "as_rows",
    "is_constant",
    "make_rng",
    "mix_order",
    "parse_split_options",
    "renormalisation_factors",
    "requested_numbers",
    "scatter_rows",
    "split_class",
    "split_classes",
    "training_ranges",
    "weighted_moments",
]

log = logging.getLogger("pymva.data.split")

IntArray = npt.NDArray[np.int64]

SPLIT_MODES = ("Random", "Alternate", "Block")
MIX_MODES = ("SameAsSplitMode", "Random", "Alternate", "Block")
NORM_MODES = ("None", "NumEvents", "EqualNumEvents")

#: FLT_MIN of C: TMVA calls a variable constant when ``|max - min| <= FLT_MIN``.
FLT_MIN = float(np.finfo(np.float32).tiny)


@dataclass(frozen=True)
class SplitOptions(OptionsBase):
    """The class-independent options of ``PrepareTrainingAndTestTree`` (TMVA's ``DataSetFactory``).

    The per-class options ``nTrain_<class>``, ``nTest_<class>`` and ``TrainTestSplit_<class>`` are
    declared by :func:`parse_split_options` once the classes are known; they are declared between
    ``ScaleWithPreselEff`` and ``V``, as TMVA declares them.
    """

    component_name: ClassVar[str] = "DataSetFactory"

    SplitMode: str = option(
        "Random", "Method of picking training and testing events (default: random)", allowed=SPLIT_MODES
    )
    MixMode: str = option(
        "SameAsSplitMode",
        "Method of mixing events of different classes into one dataset (default: SameAsSplitMode)",
        allowed=MIX_MODES,
    )
    SplitSeed: int = option(100, "Seed for random event shuffling", check=non_negative)
    NormMode: str = option(
        "EqualNumEvents",
        "Overall renormalisation of event-by-event weights used in the training (NumEvents: average "
        "weight of 1 per event, independently for signal and background; EqualNumEvents: average weight "
        "of 1 per event for signal, and sum of weights for background equal to sum of weights for signal)",
        allowed=NORM_MODES,
    )
    ScaleWithPreselEff: bool = option(
        False, "Scale the number of requested events by the eff. of the preselection cuts (or not)"
    )
    V: bool = option(False, "Verbosity (default: true)")
    VerboseLevel: str = option(
        "Info", "VerboseLevel (Debug/Verbose/Info)", allowed=("Debug", "Verbose", "Info")
    )
    Correlations: bool = option(True, "Boolean to show correlation output (Default: true)")
    CalcCorrelations: bool = option(
        True, "Compute correlations and also some variable statistics, e.g. min/max (Default: true )"
    )
    # pymva extensions (not TMVA options): see pymva.data.stream and docs/scaling.md
    Streaming: bool = option(
        False,
        "Read the trees chunk by chunk and assign every entry to training or testing by a hash of "
        "(tree, entry, SplitSeed) instead of a global shuffle (pymva extension)",
    )
    ChunkSize: int = option(
        0,
        "Entries read per chunk with Streaming=True (0 = chosen from the available memory; pymva extension)",
        check=non_negative,
    )

    @property
    def mix_mode(self) -> str:
        """The effective mix mode: ``MixMode``, or ``SplitMode`` for ``SameAsSplitMode``."""
        return self.SplitMode if self.MixMode == "SameAsSplitMode" else self.MixMode


@dataclass(frozen=True)
class ClassRequest:
    """The per-class split options of one class.

    Attributes
    ----------
    name : str
        Class name.
    n_train, n_test : int
        ``nTrain_<class>`` and ``nTest_<class>`` (0 = automatic).
    train_test_split : float
        ``TrainTestSplit_<class>`` (0 = not used; a value in (0, 1) overrides ``n_train``/``n_test``).
    """

    name: str
    n_train: int = 0
    n_test: int = 0
    train_test_split: float = 0.0


@dataclass(frozen=True)
class SplitConfig:
    """The parsed split options: the class-independent ones and one :class:`ClassRequest` per class."""

    options: SplitOptions
    requests: tuple[ClassRequest, ...]


def parse_split_options(
    text: str,
    class_names: Sequence[str],
    kwargs: Mapping[str, Any] | None = None,
    *,
    dataset: str = "default",
) -> SplitConfig:
    """Parse the option string of ``PrepareTrainingAndTestTree`` for the given classes.

    Parameters
    ----------
    text : str
        E.g. ``"nTrain_Signal=1000:nTrain_Background=1000:SplitMode=Random:NormMode=NumEvents:!V"``.
    class_names : sequence of str
        The classes in TMVA class-index order; each gets ``nTrain_<c>``, ``nTest_<c>`` and
        ``TrainTestSplit_<c>``.
    kwargs : mapping, optional
        The same options as keyword arguments (applied after ``text``).
    dataset : str
        DataLoader name, used in messages.

    Returns
    -------
    SplitConfig

    Raises
    ------
    OptionError
        For every token that no option consumes (for instance ``EqualTrainSample``, which TMVA's
        deprecated ``PrepareTrainingAndTestTree(cut, Ntrain, Ntest)`` emits and its parser rejects),
        with the closest declared names.
    """
    static = SplitOptions.declarations()
    split_at = [d.name for d in static].index("ScaleWithPreselEff") + 1
    per_class: list[OptionDecl] = []
    for name in class_names:
        per_class += [
            OptionDecl(
                f"nTrain_{name}", int, 0, f"Number of training events of class {name} (default: 0 = all)"
            ),
            OptionDecl(f"nTest_{name}", int, 0, f"Number of test events of class {name} (default: 0 = all)"),
            OptionDecl(
                f"TrainTestSplit_{name}",
                float,
                0.0,
                f"Split in training and test events of class {name} (default: 0 = deactivated)",
            ),
        ]
    decls = static[:split_at] + per_class + static[split_at:]
    values, modified = parse_option_string(
        decls, text, kwargs, component=f"DataSetFactory (split options of dataset '{dataset}')"
    )
    options = SplitOptions(
        **{d.name: values[d.name] for d in static},
        modified_options=frozenset(m for m in modified if m in {d.name for d in static}),
    )
    requests = tuple(
        ClassRequest(
            name,
            int(values[f"nTrain_{name}"]),
            int(values[f"nTest_{name}"]),
            float(values[f"TrainTestSplit_{name}"]),
        )
        for name in class_names
    )
    return SplitConfig(options, requests)


def make_rng(seed: int) -> np.random.Generator:
    """The generator shared by all random steps: ``default_rng(seed)``; seed 0 = non-reproducible."""
    return np.random.default_rng(None if seed == 0 else seed)


@dataclass
class ClassCounts:
    """Events of one class before the split (TMVA's ``EventStats``).

    Attributes
    ----------
    name : str
        Class name.
    n_train_typed, n_test_typed, n_undefined : int
        ``r``, ``s``, ``u``: selected events from trees added for training only, testing only, both.
    n_before_cut : int
        Candidate events before the class cut (after flattening of arrays).
    n_after_cut : int
        Events passing the cut (without NaN/inf).
    sumw_before_cut, sumw_after_cut : float
        Their weighted sums (NaN weights skipped before the cut).
    """

    name: str
    n_train_typed: int = 0
    n_test_typed: int = 0
    n_undefined: int = 0
    n_before_cut: int = 0
    n_after_cut: int = 0
    sumw_before_cut: float = 0.0
    sumw_after_cut: float = 0.0

    @property
    def n_total(self) -> int:
        """``N = r + s + u``."""
        return self.n_train_typed + self.n_test_typed + self.n_undefined

    def cut_scaling(self) -> float:
        """TMVA's ``cutScaling()``: ``float(n_after_cut) / n_before_cut`` in single precision."""
        if self.n_before_cut == 0:
            return math.nan
        return float(np.float32(self.n_after_cut) / np.float32(self.n_before_cut))


def requested_numbers(
    request: ClassRequest, counts: ClassCounts, scale_with_presel_eff: bool, *, dataset: str = "default"
) -> tuple[int, int]:
    """The numbers of training and testing events asked for (``R``, ``S``), as TMVA computes them.

    ``TrainTestSplit_<c>`` in (0, 1) sets ``R = int(f × N)`` (in single precision, as TMVA) and
    ``S = 0``; ``ScaleWithPreselEff`` multiplies both by the cut efficiency (event counts).

    Raises
    ------
    DataError
        ``TrainTestSplit_<c>`` outside [0, 1) (TMVA's message says "(0, 1]", but 1 is rejected too),
        or a negative ``nTrain_<c>``/``nTest_<c>``.
    """
    n_train, n_test = request.n_train, request.n_test
    split = request.train_test_split
    if 0.0 < split < 1.0:
        n_train = int(np.float32(split) * np.float32(counts.n_total))
        n_test = 0
    elif split != 0.0:
        raise DataError(
            f"The option TrainTestSplit_<class> has to be in range (0, 1] but is set to {split:f}. "
            f"(class '{request.name}' of dataset '{dataset}'; values in (0, 1) are accepted: the fraction "
            "of the class's events used for training)"
        )
    for what, n in (("nTrain", n_train), ("nTest", n_test)):
        if n < 0:
            raise DataError(
                f"Dataset[{dataset}] : {what}_{request.name} = {n} is negative; use 0 (automatic) or a "
                "positive number of events"
            )
    if scale_with_presel_eff:
        scale = np.float32(counts.cut_scaling())
        if not math.isfinite(float(scale)):
            scale = np.float32(1.0)
    else:
        scale = np.float32(1.0)
    return int(np.float32(n_train) * scale), int(np.float32(n_test) * scale)


@dataclass(frozen=True)
class ClassSplit:
    """The result of splitting one class.

    Attributes
    ----------
    train, test : ndarray of int64
        Class-local indices of the training and testing events, in TMVA's order.
    requested_train, requested_test : int
        ``R`` and ``S`` after TMVA's case analysis (what the trimming aimed at).
    """

    train: IntArray
    test: IntArray
    requested_train: int
    requested_test: int


def split_class(
    counts: ClassCounts,
    requested: tuple[int, int],
    split_mode: str,
    rng: np.random.Generator,
    undefined_order: IntArray | None = None,
    *,
    dataset: str = "default",
    warnings: list[tuple[str, tuple[Any, ...]]] | None = None,
) -> ClassSplit:
    """Choose the training and testing events of one class (§3.4 steps 2–4).

    Parameters
    ----------
    counts : ClassCounts
        ``r``, ``s``, ``u`` of the class.
    requested : (int, int)
        ``R`` and ``S`` from :func:`requested_numbers`.
    split_mode : {'Random', 'Alternate', 'Block'}
    rng : numpy.random.Generator
        Used for the random trimming (``Random`` only).
    undefined_order : ndarray of int64, optional
        The undefined events' class-local indices in the order they are assigned (shuffled for
        ``Random`` by :func:`split_classes`); defaults to ``r + s + arange(u)``.
    dataset : str
        DataLoader name, used in messages.
    warnings : list, optional
        When given, TMVA's warnings (``requested number of training samples larger than size of
        eventVectorTraining``) are appended to it as ``(format, args)`` instead of being logged, so
        that a caller splitting ahead of time can log them later, in TMVA's order.

    Returns
    -------
    ClassSplit

    Raises
    ------
    DataError
        With TMVA's reasons: ``More events requested for training (R) than available (N)!``, the same
        for testing, ``More events requested than available!``.
    """
    r, s, u = counts.n_train_typed, counts.n_test_typed, counts.n_undefined
    big_r, big_s = requested
    n_all = r + s + u
    where = f"Dataset[{dataset}] : "
    if big_r == 0 and big_s == 0:
        if u >= abs(r - s):
            use_train = use_test = n_all // 2
        else:
            use_train, use_test = r, s
            if r < s:
                use_train += u
            else:
                use_test += u
        big_r, big_s = use_train, use_test
    elif big_s == 0:
        use_train = max(big_r, r)
        if n_all < use_train:
            raise DataError(
                f"{where}More events requested for training ({big_r}) than available ({n_all})! "
                f"(class '{counts.name}': {r} from training trees, {s} from testing trees, {u} from trees "
                "for both; lower nTrain or TrainTestSplit, or loosen the cuts)"
            )
        use_test = n_all - use_train
        big_s = use_test
    elif big_r == 0:
        use_test = max(big_s, s)
        if n_all < use_test:
            raise DataError(
                f"{where}More events requested for testing ({big_s}) than available ({n_all})! "
                f"(class '{counts.name}': {r} from training trees, {s} from testing trees, {u} from trees "
                "for both; lower nTest, or loosen the cuts)"
            )
        use_train = n_all - use_test
        big_r = use_train
    else:
        still_train = max(big_r - r, 0)
        still_test = max(big_s - s, 0)
        n_free = max(u - still_train - still_test, 0)
        use_train = max(big_r, r) + n_free // 2
        use_test = n_all - use_train

    undefined = np.arange(r + s, n_all, dtype=np.int64) if undefined_order is None else undefined_order
    typed_train = np.arange(0, r, dtype=np.int64)
    typed_test = np.arange(r, r + s, dtype=np.int64)

    if split_mode == "Alternate":
        # TMVA walks the undefined events: one to training (while the training count stays <= R), then
        # one to testing; once training is full, every remaining event goes to testing.
        n_pairs = max(big_r - r, 0)
        head = min(u, 2 * n_pairs)
        train = np.concatenate([typed_train, undefined[0:head:2]])
        test = np.concatenate([typed_test, undefined[1:head:2], undefined[head:]])
    else:
        if u < use_train - r or u < use_test - s or u < use_train + use_test - r - s:
            raise DataError(
                f"{where}More events requested than available! (class '{counts.name}': {use_train} "
                f"training and {use_test} testing events needed, {r} from training trees, {s} from testing "
                f"trees and {u} from trees for both available)"
            )
        take_train = max(use_train - r, 0)
        take_test = max(use_test - s, 0)
        train = np.concatenate([typed_train, undefined[:take_train]])
        test = np.concatenate([typed_test, undefined[take_train : take_train + take_test]])

    if split_mode == "Random":
        train = _trim_random(train, big_r, rng)
        test = _trim_random(test, big_s, rng)
    else:
        for what, arr, want in (("training", train, big_r), ("testing", test, big_s)):
            if len(arr) < want:
                fmt = (
                    "%sDataSetFactory/requested number of %s samples larger than size of eventVector%s.\n"
                    "There is probably an issue. Please contact the TMVA developers. (class '%s': %d "
                    "requested, %d available)"
                )
                args = (
                    where,
                    what,
                    "Training" if what == "training" else "Testing",
                    counts.name,
                    want,
                    len(arr),
                )
                if warnings is None:
                    log.warning(fmt, *args)
                else:
                    warnings.append((fmt, args))
        train = train[:big_r]
        test = test[:big_s]
    return ClassSplit(train, test, big_r, big_s)


def _trim_random(idx: IntArray, keep: int, rng: np.random.Generator) -> IntArray:
    """Delete ``len(idx) - keep`` randomly chosen entries, keeping the order of the others."""
    n = len(idx)
    if n <= keep:
        return idx
    drop = rng.permutation(n)[: n - keep]
    mask = np.ones(n, dtype=bool)
    mask[drop] = False
    return idx[mask]


def split_classes(
    counts: Sequence[ClassCounts],
    requested: Sequence[tuple[int, int]],
    split_mode: str,
    rng: np.random.Generator,
    *,
    dataset: str = "default",
    warnings: list[tuple[str, tuple[Any, ...]]] | None = None,
) -> list[ClassSplit]:
    """Split every class, drawing random numbers in TMVA's order.

    For ``Random`` the undefined events of every class are shuffled first (class by class), then each
    class is split and trimmed.  See :func:`split_class` (also for ``warnings``).
    """
    orders: list[IntArray | None] = []
    for c in counts:
        if split_mode == "Random" and c.n_undefined > 0:
            orders.append(
                rng.permutation(np.arange(c.n_train_typed + c.n_test_typed, c.n_total, dtype=np.int64))
            )
        else:
            orders.append(None)
    return [
        split_class(c, req, split_mode, rng, order, dataset=dataset, warnings=warnings)
        for c, req, order in zip(counts, requested, orders, strict=True)
    ]


def renormalisation_factors(
    train_sizes: Sequence[int], train_sums: Sequence[float], norm_mode: str, class_names: Sequence[str]
) -> list[float]:
    """Factors multiplying each class's **training** weights (§3.4 step 5).

    * ``None``: 1 for every class;
    * ``NumEvents``: ``N_train,c / Σw_train,c`` (each class sums to its number of training events);
    * ``EqualNumEvents``: ``N_train,0 / Σw_train,c`` where class 0 is the first registered class (every
      class sums to the number of training events of class 0).

    Parameters
    ----------
    train_sizes : sequence of int
        Training events per class.
    train_sums : sequence of float
        Sum of the original training weights per class (float64).
    norm_mode : {'None', 'NumEvents', 'EqualNumEvents'}
    class_names : sequence of str
        For messages.

    Raises
    ------
    DataError
        When a class with training events has a weight sum of zero (TMVA would produce infinite
        weights).
    """
    if norm_mode == "None":
        return [1.0] * len(train_sizes)
    factors = []
    for c, (n, sw) in enumerate(zip(train_sizes, train_sums, strict=True)):
        target = float(train_sizes[0]) if norm_mode == "EqualNumEvents" else float(n)
        if n == 0:
            factors.append(1.0)
            continue
        if sw == 0.0 or not math.isfinite(sw):
            raise DataError(
                f"the training weights of class '{class_names[c]}' sum to {sw:g}; NormMode={norm_mode} "
                "cannot renormalise them. Check the weight expression or use NormMode=None"
            )
        factors.append(target / sw)
    return factors


def mix_order(sizes: Sequence[int], mix_mode: str, rng: np.random.Generator) -> IntArray:
    """The final order of one sample (training or testing) of several classes (§3.4 step 6).

    Parameters
    ----------
    sizes : sequence of int
        Number of events of each class in this sample.
    mix_mode : {'Block', 'Alternate', 'Random'}
        The effective mix mode (``SameAsSplitMode`` already resolved).
    rng : numpy.random.Generator
        Used by ``Random``.

    Returns
    -------
    ndarray of int64
        ``order[i]`` is the index, in the concatenation of the classes (class 0 first), of the event
        at final position ``i``.

    Notes
    -----
    ``Alternate`` reproduces TMVA's insertion: the events of class ``k`` (k ≥ 1) are inserted into the
    vector built so far at every ``(k+1)``-th position; once the vector is too short, the rest of the
    class is appended.  With equal class sizes this interleaves the classes one by one.
    """
    sizes = [int(n) for n in sizes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    if mix_mode != "Alternate" or not sizes:
        order = np.arange(offsets[-1], dtype=np.int64)
        if mix_mode == "Random":
            order = rng.permutation(order)
        return order
    current = np.arange(sizes[0], dtype=np.int64)
    for cls in range(1, len(sizes)):
        n = sizes[cls]
        length = len(current)
        m = min(n, length // cls)
        new = np.empty(length + n, dtype=np.int64)
        mask = np.zeros(length + n, dtype=bool)
        mask[np.arange(m, dtype=np.int64) * (cls + 1) + cls] = True
        mask[length + m :] = True
        new[mask] = offsets[cls] + np.arange(n, dtype=np.int64)
        new[~mask] = current
        current = new
    return current


@dataclass
class Chunk:
    """Events of one class held in memory before the split.

    Attributes
    ----------
    values : ndarray of float32, shape (n, n_columns)
        Variables, targets and spectators of ``n`` consecutive events.
    first : int
        Global index of the first event (class offset + class-local index).
    """

    values: npt.NDArray[np.float32]
    first: int


def scatter_rows(
    chunks: Iterable[Chunk],
    destination: npt.NDArray[np.integer[Any]],
    outputs: Sequence[Sequence[tuple[npt.NDArray[np.float32], int, int]]],
    sizes: Sequence[int],
    block_rows: int | None = None,
) -> None:
    """Write events into their final arrays while holding about one copy of the events.

    The events come in chunks, consumed once and in order (the caller drops its own references, e.g.
    by handing over a generator that pops them from a list, so that each chunk is freed once used).
    Each event has a destination ``destination[global index]``: ``-1`` (not used), or a position in
    the concatenation of the output samples (the positions of sample 0 first).

    The outputs are divided into blocks of ``block_rows`` positions.  First every chunk's events are
    appended, in arrival order, to the block that holds their destination (so each block fills from
    its start and the outputs become resident as the chunks are released); then the events of each
    block are moved to their final positions within the block (one block-sized temporary).  A random
    mixing sends the events of every chunk to every part of the outputs: writing them to their final
    positions at once would make all of the outputs resident while all chunks are still held.

    Parameters
    ----------
    chunks : iterable of Chunk
    destination : ndarray of int32 or int64
        Destination position per global event index, ``-1`` for events not used.
    outputs : sequence (one per sample) of sequence of (array, first column, end column)
        The arrays of each sample (C-contiguous, one row per event) and which columns of
        ``Chunk.values`` go into each.
    sizes : sequence of int
        Number of events of each sample.
    block_rows : int, optional
        Destination positions per block (and rows of a chunk handled at a time).  By default blocks
        of about ``sqrt(output bytes × 2 MiB)``: numpy backs large arrays with 2 MiB transparent huge
        pages, so each partly filled block can hold up to 2 MiB more resident memory than it uses,
        while the block-sized temporary of the second pass grows with the block.

    Notes
    -----
    Every position ``0 … sum(sizes) - 1`` must be the destination of exactly one event.
    """
    if block_rows is None:
        row_bytes = 4 * max(sum(c1 - c0 for arr, c0, c1 in outputs[0]) if outputs else 1, 1)
        total = max(int(sum(sizes)) * row_bytes, 1)
        block_rows = int(np.clip(math.sqrt(total * float(1 << 21)) / row_bytes, 4096, 1 << 22))
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    b_global: list[int] = []  # first global destination position of each block
    b_sample: list[int] = []
    b_local: list[int] = []  # first row of each block within its sample's arrays
    b_rows: list[int] = []
    for k, n in enumerate(sizes):  # blocks never straddle two samples
        for b in range(0, int(n), block_rows):
            b_global.append(int(starts[k]) + b)
            b_sample.append(k)
            b_local.append(b)
            b_rows.append(min(block_rows, int(n) - b))
    first_block = [b_sample.index(k) if k in b_sample else 0 for k in range(len(sizes))]
    fill = [0] * len(b_global)
    positions = [np.empty(n, dtype=np.int64) for n in b_rows]
    for chunk in chunks:
        n_rows = chunk.values.shape[0]
        for start in range(0, n_rows, block_rows):  # bounded temporaries
            stop = min(start + block_rows, n_rows)
            dest = destination[chunk.first + start : chunk.first + stop]
            sel = np.flatnonzero(dest >= 0)
            if not len(sel):
                continue
            d = dest[sel].astype(np.int64)
            # block of each destination: blocks are block_rows wide within each sample
            blk = first_block[0] + d // block_rows
            for k in range(1, len(sizes)):
                in_k = d >= starts[k]
                blk[in_k] = first_block[k] + (d[in_k] - starts[k]) // block_rows
            # a stable sort of small integers is a radix sort in numpy
            small = np.uint16 if len(b_global) <= 1 << 16 else np.int64
            order = np.argsort(blk.astype(small), kind="stable")
            sel, d, blk = sel[order] + start, d[order], blk[order]
            bounds = np.flatnonzero(np.diff(blk)) + 1
            lo = np.concatenate([[0], bounds]).tolist()
            hi = np.concatenate([bounds, [len(blk)]]).tolist()
            for a, b in zip(lo, hi, strict=True):
                bi = int(blk[a])
                k, f = b_sample[bi], fill[bi]
                first = b_local[bi] + f
                rows = sel[a:b]
                for arr, c0, c1 in outputs[k]:
                    if c1 > c0:
                        np.take(
                            chunk.values[:, c0:c1],
                            rows,
                            axis=0,
                            out=arr[first : first + (b - a)],
                            mode="clip",
                        )
                positions[bi][f : f + (b - a)] = d[a:b] - b_global[bi]
                fill[bi] = f + (b - a)
        del chunk
    scratch: dict[np.dtype[Any], npt.NDArray[Any]] = {}  # one reusable copy per row size
    for bi in range(len(b_global)):
        k, first, n = b_sample[bi], b_local[bi], b_rows[bi]
        for arr, c0, c1 in outputs[k]:
            if c1 > c0:
                block = as_rows(arr[first : first + n])
                if block.dtype not in scratch or len(scratch[block.dtype]) < n:
                    scratch[block.dtype] = np.empty(max(n, block_rows), dtype=block.dtype)
                arrived = scratch[block.dtype][:n]
                np.copyto(arrived, block)
                # the event that arrived as row i goes to position positions[bi][i] of the block
                np.put(block, positions[bi], arrived)
        positions[bi] = positions[bi][:0]


def as_rows(a: npt.NDArray[Any]) -> npt.NDArray[np.void]:
    """A C-contiguous 2-d array as a 1-d array with one opaque item per row (a view).

    numpy moves such items (``np.put``, fancy assignment) several times faster than the rows of a
    2-d array.

    Parameters
    ----------
    a : ndarray, shape (n, m), C-contiguous

    Returns
    -------
    ndarray of void, shape (n,)
        Item ``i`` is row ``i`` of ``a`` (``m × a.itemsize`` bytes); writing it writes ``a``.
    """
    rows: npt.NDArray[np.void] = a.view(np.dtype((np.void, a.shape[1] * a.itemsize))).reshape(a.shape[0])
    return rows


#: Bytes of each float64 scratch block of :func:`weighted_moments` (sets the rows per block).
MOMENT_BLOCK_BYTES = 4 << 20


def weighted_moments(
    x: npt.NDArray[np.floating[Any]],
    weights: npt.NDArray[np.floating[Any]],
    class_id: npt.NDArray[np.integer[Any]],
    n_classes: int,
    block_rows: int | None = None,
    *,
    ranges: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Weighted sums ``Σw``, ``Σw·x`` and ``Σw·x·xᵀ`` of the rows of every class, in one pass.

    The rows are taken a block at a time, converted to float64 and accumulated in float64 (the
    products too), so the result does not depend on the storage type beyond the values themselves.
    Within a block, the rows of a class with one common weight ``c`` are summed as ``c·xᵀx``, those
    with non-negative weights as ``(x·√w)ᵀ(x·√w)`` (symmetric products, half the work of a general
    one) and others as ``(x·w)ᵀ x``.

    Parameters
    ----------
    x : ndarray, shape (n, m)
        The rows (float32 or float64, C-contiguous for speed).
    weights : ndarray, shape (n,)
        Event weights.
    class_id : ndarray of int, shape (n,)
        Class index of every row, in ``0 … n_classes - 1``.
    n_classes : int
    block_rows : int, optional
        Rows per block (bounds the float64 temporaries); by default blocks of
        :data:`MOMENT_BLOCK_BYTES` in float64, at least 1024 rows.
    ranges : (ndarray, ndarray) of float64, shape (m,), optional
        When given, filled with the minimum and maximum of every column over all rows (as
        :func:`training_ranges`; zeros when there are no rows) in the same pass.

    Returns
    -------
    (sw, sx, sxx) : ndarrays of float64, shapes (n_classes,), (n_classes, m), (n_classes, m, m)
    """
    n, m = x.shape
    sw = np.zeros(n_classes)
    sx = np.zeros((n_classes, m))
    sxx = np.zeros((n_classes, m, m))
    if block_rows is None:
        block_rows = max(MOMENT_BLOCK_BYTES // (8 * max(m, 1)), 1024)
    rows = max(min(int(block_rows), n), 1)
    y = np.empty((rows, m))
    g = np.empty((rows, m))
    root = np.empty(rows)
    w64 = np.empty(rows)
    ones = np.ones(rows)
    lo: list[npt.NDArray[np.floating[Any]]] = []
    hi: list[npt.NDArray[np.floating[Any]]] = []
    with blas_single_thread():
        for a in range(0, n, rows):
            xb, wb, cb = x[a : a + rows], weights[a : a + rows], class_id[a : a + rows]
            if ranges is not None:
                lo.append(_column_reduce(xb, np.minimum))
                hi.append(_column_reduce(xb, np.maximum))
            for k in range(n_classes):
                if n_classes == 1:
                    xk, wk = xb, wb
                else:
                    idx = np.flatnonzero(cb == k)
                    if not len(idx):
                        continue
                    xk, wk = np.take(xb, idx, axis=0), np.take(wb, idx)
                nk = len(xk)
                if not nk:
                    continue
                wf = w64[:nk]
                np.copyto(wf, wk)
                sw[k] += wf.sum()
                w_min, w_max = float(wf.min()), float(wf.max())
                if w_min == w_max:  # one weight: c·Σx, c·xᵀx
                    gk = g[:nk]
                    np.copyto(gk, xk)
                    sx[k] += w_min * (ones[:nk] @ gk)
                    sxx[k] += w_min * (gk.T @ gk)
                elif w_min >= 0:
                    rt = root[:nk]
                    np.sqrt(wf, out=rt)
                    yk = y[:nk]
                    np.multiply(xk, rt[:, None], out=yk)
                    sx[k] += rt @ yk
                    sxx[k] += yk.T @ yk
                else:
                    gk, yk = g[:nk], y[:nk]
                    np.copyto(gk, xk)
                    np.multiply(gk, wf[:, None], out=yk)
                    sx[k] += wf @ gk
                    sxx[k] += yk.T @ gk
    if ranges is not None:
        if lo:
            ranges[0][:] = np.min(lo, axis=0)
            ranges[1][:] = np.max(hi, axis=0)
        else:
            ranges[0][:] = 0.0
            ranges[1][:] = 0.0
    return sw, sx, sxx


def training_ranges(x: npt.NDArray[np.floating]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Minimum and maximum of each column (zeros for an empty array)."""
    if x.shape[0] == 0:
        return np.zeros(x.shape[1]), np.zeros(x.shape[1])
    return _column_reduce(x, np.minimum), _column_reduce(x, np.maximum)


def _column_reduce(x: npt.NDArray[np.floating], ufunc: np.ufunc) -> npt.NDArray[np.float64]:
    """``ufunc.reduce(x, axis=0)``, faster for tall narrow arrays (rows folded 64 at a time)."""
    n, m = x.shape
    k = 64
    head = (n // k) * k
    if head == 0 or not x.flags.c_contiguous:
        return np.asarray(ufunc.reduce(x, axis=0), dtype=np.float64)
    folded = ufunc.reduce(x[:head].reshape(-1, k * m), axis=0).reshape(k, m)
    if head < n:
        folded = np.concatenate([folded, x[head:]])
    return np.asarray(ufunc.reduce(folded, axis=0), dtype=np.float64)


def is_constant(lo: float, hi: float) -> bool:
    """TMVA's test for a constant variable: ``|max - min| <= FLT_MIN``."""
    return abs(hi - lo) <= FLT_MIN
