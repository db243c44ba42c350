"""Train/test split, renormalisation and mixing (core.md §3.2, §3.4), without files.

Deterministic modes are compared with a direct transcription of TMVA's C++ loops on Python lists
(``DataSetFactory::MixEvents``); the random mode is checked through its invariants.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymva.data.split import (
    Chunk,
    ClassCounts,
    ClassRequest,
    SplitOptions,
    is_constant,
    make_rng,
    mix_order,
    parse_split_options,
    renormalisation_factors,
    requested_numbers,
    scatter_rows,
    split_class,
    split_classes,
    training_ranges,
)
from pymva.errors import DataError, OptionError

# --------------------------------------------------------------------------- reference (TMVA's loops)


def tmva_split_reference(
    r: int, s: int, u: int, big_r: int, big_s: int, mode: str
) -> tuple[list[int], list[int]]:
    """TMVA's MixEvents for one class, non-random modes, on lists of class-local indices."""
    train = list(range(r))
    test = list(range(r, r + s))
    undefined = list(range(r + s, r + s + u))
    n_all = r + s + u
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
            raise DataError("More events requested for training")
        use_test = n_all - use_train
        big_s = use_test
    elif big_r == 0:
        use_test = max(big_s, s)
        if n_all < use_test:
            raise DataError("More events requested for testing")
        use_train = n_all - use_test
        big_r = use_train
    else:
        need_train = max(big_r - r, 0)
        need_test = max(big_s - s, 0)
        n_free = max(u - need_train - need_test, 0)
        use_train = max(big_r, r) + n_free // 2
        use_test = n_all - use_train
    if mode == "Alternate":
        n_training = r
        it = 0
        while it != len(undefined):
            n_training += 1
            if n_training <= big_r:
                train.append(undefined[it])
                it += 1
            if it != len(undefined):
                test.append(undefined[it])
                it += 1
    else:
        if u < use_train - r or u < use_test - s or u < use_train + use_test - r - s:
            raise DataError("More events requested than available")
        if use_train > r:
            train += undefined[: use_train - r]
            undefined = undefined[use_train - r :]
        if use_test > s:
            test += undefined[: use_test - s]
    return train[:big_r], test[:big_s]


def tmva_alternate_mix_reference(sizes: list[int]) -> list[int]:
    """TMVA's alternate mixing with vector insertions (concatenation indices)."""
    offsets = list(itertools.accumulate([0, *sizes]))
    vec = list(range(sizes[0]))
    for cls in range(1, len(sizes)):
        events = list(range(offsets[cls], offsets[cls + 1]))
        target = -1
        for k, ev in enumerate(events):
            if len(vec) - target < cls + 1:
                vec.extend(events[k:])
                break
            target += cls + 1
            vec.insert(target, ev)
    return vec


# --------------------------------------------------------------------------- options


def test_defaults() -> None:
    cfg = parse_split_options("", ["Signal", "Background"])
    o = cfg.options
    assert (o.SplitMode, o.MixMode, o.SplitSeed, o.NormMode) == (
        "Random",
        "SameAsSplitMode",
        100,
        "EqualNumEvents",
    )
    assert (o.ScaleWithPreselEff, o.V, o.VerboseLevel, o.Correlations, o.CalcCorrelations) == (
        False,
        False,
        "Info",
        True,
        True,
    )
    assert cfg.requests == (ClassRequest("Signal"), ClassRequest("Background"))
    assert o.mix_mode == "Random"


def test_per_class_and_case_insensitive() -> None:
    cfg = parse_split_options(
        "ntrain_signal=100:NTEST_Background=50:TrainTestSplit_Signal=0.25:splitmode=block:mixmode=alternate:"
        "NormMode=numevents:SplitSeed=7:!Correlations:CalcCorrelations=F",
        ["Signal", "Background"],
    )
    assert cfg.requests[0] == ClassRequest("Signal", 100, 0, 0.25)
    assert cfg.requests[1] == ClassRequest("Background", 0, 50, 0.0)
    o = cfg.options
    assert (o.SplitMode, o.MixMode, o.NormMode, o.SplitSeed) == ("Block", "Alternate", "NumEvents", 7)
    assert not o.Correlations
    assert not o.CalcCorrelations
    assert o.mix_mode == "Alternate"
    assert {"SplitMode", "MixMode", "NormMode", "SplitSeed"} <= o.modified_options


def test_bare_predefined_values_select_their_option() -> None:
    o = parse_split_options("Block:None:Debug", ["A"]).options
    assert (o.SplitMode, o.NormMode, o.VerboseLevel) == ("Block", "None", "Debug")
    # "Random" and "Alternate" are values of SplitMode and MixMode: the first declared option wins
    assert parse_split_options("Alternate", ["A"]).options.SplitMode == "Alternate"
    assert parse_split_options("Alternate", ["A"]).options.MixMode == "SameAsSplitMode"


def test_keyword_arguments() -> None:
    cfg = parse_split_options(
        "SplitMode=Block", ["Signal"], {"nTrain_Signal": 3, "V": True, "SplitMode": "Random"}
    )
    assert cfg.requests[0].n_train == 3
    assert cfg.options.V
    assert cfg.options.SplitMode == "Random"


def test_unknown_option_names_suggestions() -> None:
    with pytest.raises(OptionError) as exc:
        parse_split_options("nTrain_Signl=10:SplitMod=Block", ["Signal", "Background"])
    msg = str(exc.value)
    assert "'nTrain_Signl=10:SplitMod=Block'" in msg
    assert "nTrain_Signal" in msg
    assert "SplitMode" in msg
    assert "DataSetFactory" in msg


def test_deprecated_equal_train_sample_is_rejected() -> None:
    with pytest.raises(OptionError, match="EqualTrainSample"):
        parse_split_options(
            "nTrain_Signal=10:nTrain_Background=10:nTest_Signal=-1:nTest_Background=-1:SplitMode=Random:"
            "EqualTrainSample:!V",
            ["Signal", "Background"],
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SplitMode=Shuffle", 'SplitMode .* does not have predefined value: "Shuffle"'),
        ("NormMode=Equal", "did you mean 'EqualNumEvents'"),
        ("SplitSeed=-1", "'SplitSeed' .* must not be negative"),
        ("SplitSeed=abc", "'abc' of option 'SplitSeed' .* is not an integer"),
        ("V=maybe", "'maybe' of option 'V' .* can not be interpreted as boolean"),
        ("!SplitMode", "Negating a non-boolean variable SplitMode"),
    ],
)
def test_bad_values(text: str, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        parse_split_options(text, ["Signal"])


def test_options_class_declares_tmva_options() -> None:
    names = [d.name for d in SplitOptions.declarations()]
    assert names == [
        "SplitMode",
        "MixMode",
        "SplitSeed",
        "NormMode",
        "ScaleWithPreselEff",
        "V",
        "VerboseLevel",
        "Correlations",
        "CalcCorrelations",
        "Streaming",  # pymva extensions after TMVA's options
        "ChunkSize",
    ]


# --------------------------------------------------------------------------- requested numbers


def counts(
    r: int = 0, s: int = 0, u: int = 0, before: int | None = None, name: str = "Signal"
) -> ClassCounts:
    n = r + s + u
    return ClassCounts(name, r, s, u, n if before is None else before, n, float(n), float(n))


def test_train_test_split_uses_single_precision() -> None:
    # float32(0.7) * 1000 rounds to 700 in single precision (699 in double)
    assert requested_numbers(ClassRequest("S", 5, 5, 0.7), counts(u=1000), False) == (700, 0)
    assert requested_numbers(ClassRequest("S", 0, 0, 0.5), counts(u=7), False) == (3, 0)


@pytest.mark.parametrize("value", [1.0, 1.5, -0.2])
def test_train_test_split_out_of_range(value: float) -> None:
    with pytest.raises(DataError, match=r"TrainTestSplit_<class> has to be in range \(0, 1\]"):
        requested_numbers(ClassRequest("S", 0, 0, value), counts(u=10), False)


def test_negative_request_is_an_error() -> None:
    with pytest.raises(DataError, match="nTest_S = -1"):
        requested_numbers(ClassRequest("S", 10, -1), counts(u=10), False)


def test_scale_with_presel_eff() -> None:
    c = counts(u=50, before=200)  # efficiency 0.25
    assert requested_numbers(ClassRequest("S", 40, 20), c, True) == (10, 5)
    assert requested_numbers(ClassRequest("S", 40, 20), c, False) == (40, 20)


# --------------------------------------------------------------------------- one class


def split(
    r: int, s: int, u: int, req: tuple[int, int], mode: str, seed: int = 1
) -> tuple[list[int], list[int]]:
    res = split_class(counts(r, s, u), req, mode, make_rng(seed))
    return res.train.tolist(), res.test.tolist()


@pytest.mark.parametrize(
    ("rsu", "req", "n_train", "n_test"),
    [
        ((0, 0, 10), (0, 0), 5, 5),
        ((0, 0, 11), (0, 0), 5, 5),  # one event dropped
        ((3, 0, 1), (0, 0), 3, 1),  # u < |r-s|: the smaller side gets all undefined
        ((0, 5, 2), (0, 0), 2, 5),
        ((0, 0, 10), (6, 0), 6, 4),
        ((0, 0, 10), (0, 3), 7, 3),
        ((0, 0, 100), (10, 20), 10, 20),
        ((4, 0, 6), (2, 0), 2, 6),
        ((2, 3, 10), (4, 4), 4, 4),
    ],
)
@pytest.mark.parametrize("mode", ["Random", "Block", "Alternate"])
def test_case_numbers(
    rsu: tuple[int, int, int], req: tuple[int, int], n_train: int, n_test: int, mode: str
) -> None:
    train, test = split(*rsu, req, mode)
    if mode == "Alternate":
        # Alternate hands out undefined events in pairs while training needs events, then everything
        # goes to testing: it can end with fewer training events than the other modes (as in TMVA)
        expected = tmva_split_reference(*rsu, *req, mode)
        assert (train, test) == expected
        assert len(train) <= n_train
        assert len(test) <= n_test
    else:
        assert (len(train), len(test)) == (n_train, n_test)
    assert not set(train) & set(test)
    assert len(set(train)) == len(train)
    assert len(set(test)) == len(test)
    r, s, _ = rsu
    # typed events never change sample
    assert all(i < r for i in train if i < r + s)
    assert all(r <= i for i in test if i < r + s)


def test_block_takes_blocks() -> None:
    train, test = split(0, 0, 100, (10, 20), "Block")
    # free = 70, training is filled with 10 + 35 events, testing with the other 55, then both trimmed
    assert train == list(range(10))
    assert test == list(range(45, 65))


def test_alternate_alternates() -> None:
    assert split(0, 0, 10, (0, 0), "Alternate") == ([0, 2, 4, 6, 8], [1, 3, 5, 7, 9])
    assert split(0, 0, 10, (3, 0), "Alternate") == ([0, 2, 4], [1, 3, 5, 6, 7, 8, 9])


def test_random_trimming_keeps_order_and_is_reproducible() -> None:
    a = split(4, 0, 6, (2, 0), "Random", seed=5)
    b = split(4, 0, 6, (2, 0), "Random", seed=5)
    assert a == b
    assert a[0] == sorted(a[0])
    assert set(a[0]) <= {0, 1, 2, 3}
    cs = [counts(0, 0, 1000)]
    seen = {
        tuple(split_classes(cs, [(0, 0)], "Random", make_rng(k))[0].train[:5].tolist()) for k in range(1, 6)
    }
    assert len(seen) == 5


@pytest.mark.parametrize(
    ("rsu", "req", "message"),
    [
        ((0, 0, 10), (11, 0), r"More events requested for training \(11\) than available \(10\)!"),
        ((0, 0, 10), (0, 12), r"More events requested for testing \(12\) than available \(10\)!"),
        ((0, 10, 5), (12, 0), r"More events requested than available!"),
    ],
)
def test_errors(rsu: tuple[int, int, int], req: tuple[int, int], message: str) -> None:
    for mode in ("Random", "Block"):
        with pytest.raises(DataError, match=message) as exc:
            split(*rsu, req, mode)
        assert "Dataset[default]" in str(exc.value)


def test_block_warns_when_fewer_than_requested(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        train, test = split(0, 0, 10, (8, 8), "Block")
    assert (len(train), len(test)) == (8, 2)
    assert "requested number of testing samples larger than size of eventVectorTesting" in caplog.text


@settings(max_examples=300, deadline=None)
@given(
    r=st.integers(0, 12),
    s=st.integers(0, 12),
    u=st.integers(0, 30),
    big_r=st.integers(0, 40),
    big_s=st.integers(0, 40),
    mode=st.sampled_from(["Block", "Alternate"]),
)
def test_matches_tmva_loops(r: int, s: int, u: int, big_r: int, big_s: int, mode: str) -> None:
    try:
        expected = tmva_split_reference(r, s, u, big_r, big_s, mode)
    except DataError as exc:
        with pytest.raises(DataError, match=str(exc)):  # the same one of TMVA's three errors
            split(r, s, u, (big_r, big_s), mode)
        return
    assert split(r, s, u, (big_r, big_s), mode) == expected


@settings(max_examples=200, deadline=None)
@given(
    r=st.integers(0, 12),
    s=st.integers(0, 12),
    u=st.integers(0, 30),
    big_r=st.integers(0, 40),
    big_s=st.integers(0, 40),
)
def test_random_has_block_sizes(r: int, s: int, u: int, big_r: int, big_s: int) -> None:
    try:
        expected = tmva_split_reference(r, s, u, big_r, big_s, "Block")
    except DataError as exc:
        with pytest.raises(DataError, match=str(exc)):
            split(r, s, u, (big_r, big_s), "Random")
        return
    train, test = split(r, s, u, (big_r, big_s), "Random")
    # Random trims at random where Block trims at the end: the same numbers of events
    assert (len(train), len(test)) == (len(expected[0]), len(expected[1]))
    assert not set(train) & set(test)
    assert set(range(r)) >= {i for i in train if i < r + s}


def test_split_classes_shuffles_undefined_only_for_random() -> None:
    cs = [counts(0, 0, 20, name="A"), counts(0, 0, 20, name="B")]
    block = split_classes(cs, [(0, 0), (0, 0)], "Block", make_rng(3))
    assert block[0].train.tolist() == list(range(10))
    rnd = split_classes(cs, [(0, 0), (0, 0)], "Random", make_rng(3))
    assert sorted(rnd[0].train.tolist() + rnd[0].test.tolist()) == list(range(20))
    assert rnd[0].train.tolist() != list(range(10))
    assert rnd[0].requested_train == 10


def test_seed_zero_is_not_reproducible() -> None:
    a = make_rng(0).permutation(1000)
    b = make_rng(0).permutation(1000)
    assert not np.array_equal(a, b)
    assert np.array_equal(make_rng(100).permutation(50), np.random.default_rng(100).permutation(50))


# --------------------------------------------------------------------------- renormalisation


def test_renormalisation_factors() -> None:
    names = ["S", "B", "C"]
    sizes, sums = [100, 50, 20], [25.0, 200.0, 4.0]
    assert renormalisation_factors(sizes, sums, "None", names) == [1.0, 1.0, 1.0]
    num = renormalisation_factors(sizes, sums, "NumEvents", names)
    assert num == pytest.approx([4.0, 0.25, 5.0])
    eq = renormalisation_factors(sizes, sums, "EqualNumEvents", names)
    assert eq == pytest.approx([4.0, 0.5, 25.0])  # every class sums to N_train of the first class
    assert [f * w for f, w in zip(eq, sums, strict=True)] == pytest.approx([100.0] * 3)


def test_renormalisation_of_zero_sum_is_an_error() -> None:
    with pytest.raises(DataError, match="sum to 0"):
        renormalisation_factors([10, 10], [10.0, 0.0], "NumEvents", ["S", "B"])


# --------------------------------------------------------------------------- mixing


def test_mix_block_and_random() -> None:
    assert mix_order([3, 2], "Block", make_rng(1)).tolist() == [0, 1, 2, 3, 4]
    order = mix_order([300, 200], "Random", make_rng(1))
    assert sorted(order.tolist()) == list(range(500))
    assert order.tolist() != list(range(500))


def test_mix_alternate_interleaves() -> None:
    assert mix_order([3, 3], "Alternate", make_rng(1)).tolist() == [0, 3, 1, 4, 2, 5]
    assert mix_order([2, 2, 2], "Alternate", make_rng(1)).tolist() == [0, 2, 4, 1, 3, 5]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 15), min_size=1, max_size=5))
def test_mix_alternate_matches_tmva_insertions(sizes: list[int]) -> None:
    assert mix_order(sizes, "Alternate", make_rng(1)).tolist() == tmva_alternate_mix_reference(sizes)


# --------------------------------------------------------------------------- scatter


@pytest.mark.parametrize("block_rows", [1, 3, 64, 1 << 16])
def test_scatter_rows_equals_fancy_indexing(block_rows: int) -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(size=(57, 5)).astype(np.float32)
    dest = np.full(57, -1, dtype=np.int64)
    used = rng.choice(57, 40, replace=False)
    dest[used] = rng.permutation(40)
    n0, n1 = 25, 15
    outs = [[np.empty((n, 3), np.float32), np.empty((n, 2), np.float32)] for n in (n0, n1)]
    chunks = [Chunk(values[a : a + 10], a) for a in range(0, 57, 10)]
    scatter_rows(iter(chunks), dest, [[(o[0], 0, 3), (o[1], 3, 5)] for o in outs], [n0, n1], block_rows)
    full = np.empty((40, 5), np.float32)
    full[dest[used]] = values[used]
    np.testing.assert_array_equal(outs[0][0], full[:n0, :3])
    np.testing.assert_array_equal(outs[0][1], full[:n0, 3:])
    np.testing.assert_array_equal(outs[1][0], full[n0:, :3])
    np.testing.assert_array_equal(outs[1][1], full[n0:, 3:])


# --------------------------------------------------------------------------- step 8


@pytest.mark.parametrize("n", [1, 5, 63, 64, 65, 200, 1000])
def test_training_ranges_match_numpy(n: int) -> None:
    x = np.random.default_rng(n).normal(size=(n, 7)).astype(np.float32)
    lo, hi = training_ranges(x)
    np.testing.assert_array_equal(lo, x.min(axis=0))
    np.testing.assert_array_equal(hi, x.max(axis=0))


def test_training_ranges_and_constant() -> None:
    lo, hi = training_ranges(np.array([[1.0, 5.0], [3.0, 5.0]], dtype=np.float32))
    assert lo.tolist() == [1.0, 5.0]
    assert hi.tolist() == [3.0, 5.0]
    assert is_constant(5.0, 5.0)
    assert not is_constant(1.0, 3.0)
    lo, hi = training_ranges(np.zeros((0, 2), np.float32))
    assert lo.tolist() == [0.0, 0.0]
