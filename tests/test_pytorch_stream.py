"""Training out of memory: ``DataLoader.stream`` and ``pymva.pytorch.ShuffleBufferLoader``.

Expectations: the events streamed are exactly those of the ``Streaming=True`` DataSet (as sets; its
own tests check it against the file); the shuffle buffer hands out every event once per epoch, in
batches of the requested size, mixed within its window; a tiny network trained on the streamed
batches separates two Gaussians as the closed form says it can.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

import pymva.pytorch
from pymva.data.loader import DataLoader
from pymva.errors import OptionError
from pymva.pytorch import ShuffleBufferLoader
from pymva.toydata import write_trees

N = 3000


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(8)
    out = tmp_path_factory.mktemp("pts") / "two.root"
    trees = {}
    for name, mu, n in (("sig", 1.0, N), ("bkg", -1.0, 2 * N)):
        trees[name] = {
            "x": rng.normal(mu, 1.0, n).astype(np.float32),
            "evt": np.arange(n, dtype=np.int64),
        }
    return write_trees(out, trees)


def _loader(path: Path, opts: str = "ChunkSize=500:!V") -> DataLoader:
    loader = DataLoader("pts")
    loader.AddVariable("x")
    loader.AddSpectator("evt")
    loader.AddSignalTree(f"{path}:sig")
    loader.AddBackgroundTree(f"{path}:bkg")
    loader.PrepareTrainingAndTestTree("", opts)
    return loader


def _keys(cls: np.ndarray, evt: np.ndarray) -> np.ndarray:
    return np.sort(cls.astype(np.int64) * 10**9 + evt.astype(np.int64))


def test_stream_gives_the_events_of_the_streaming_dataset_interleaved(path: Path) -> None:
    loader = _loader(path)
    chunks = list(loader.stream("train"))
    ds = _loader(path, "Streaming=True:ChunkSize=500:NormMode=None:!V").GetDataSetInfo().GetDataSet()
    for which, sample in (("train", ds.train), ("test", ds.test)):
        got = list(loader.stream(which)) if which == "test" else chunks
        cls = np.concatenate([c.class_id for c in got])
        evt = np.concatenate([c.spectators[:, 0] for c in got])
        np.testing.assert_array_equal(_keys(cls, evt), _keys(sample.class_id, sample.spectators[:, 0]))
        w = np.concatenate([c.weights for c in got])
        np.testing.assert_array_equal(w, np.ones_like(w))  # no weight expression, not renormalised
    assert max(len(c) for c in chunks) <= 500
    # classes interleaved in proportion (1 : 2 entries): in the first half of the stream there are
    # already signal and background chunks, not one class after the other
    first = np.concatenate([c.class_id for c in chunks[: len(chunks) // 2]])
    assert 0.2 < np.mean(first == 0) < 0.5


def test_stream_rejects_a_bad_which(path: Path) -> None:
    with pytest.raises(OptionError, match="which='validation'"):
        next(_loader(path).stream("validation"))


def _numbered(sizes: list[int]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    a = 0
    for n in sizes:
        idx = np.arange(a, a + n)
        yield idx.astype(np.float32).reshape(-1, 1), idx
        a += n


def test_shuffle_buffer_hands_out_every_event_once_per_epoch() -> None:
    sizes = [70, 0, 333, 1, 596]
    n = sum(sizes)
    loader = ShuffleBufferLoader(lambda: _numbered(sizes), 64, buffer_size=256, seed=3)
    epochs = []
    for _ in range(2):
        batches = list(loader)
        assert [len(b[0]) for b in batches[:-1]] == [64] * (len(batches) - 1)
        assert 0 < len(batches[-1][0]) <= 64
        ids = torch.cat([b[1] for b in batches]).numpy()
        np.testing.assert_array_equal(np.sort(ids), np.arange(n))
        np.testing.assert_array_equal(
            torch.cat([b[0] for b in batches]).numpy()[:, 0], ids
        )  # rows stay whole
        epochs.append(ids)
    assert not np.array_equal(epochs[0], epochs[1])  # a new permutation each epoch
    assert not np.array_equal(epochs[0], np.arange(n))
    # mixing is within windows: the first batch comes from the first window (>= 256 events read)
    assert epochs[0][:64].max() < 70 + 333
    again = list(ShuffleBufferLoader(lambda: _numbered(sizes), 64, buffer_size=256, seed=3))
    np.testing.assert_array_equal(torch.cat([b[1] for b in again]).numpy(), epochs[0])  # reproducible
    dropped = list(ShuffleBufferLoader(lambda: _numbered(sizes), 64, buffer_size=256, drop_last=True))
    assert sum(len(b[0]) for b in dropped) == (n // 64) * 64


@pytest.mark.parametrize(("batch", "buffer"), [(0, 10), (10, 0)])
def test_shuffle_buffer_rejects_bad_sizes(batch: int, buffer: int) -> None:
    with pytest.raises(OptionError, match="batch_size"):
        ShuffleBufferLoader(lambda: iter([]), batch, buffer_size=buffer)


def test_training_on_streamed_batches(path: Path) -> None:
    torch.manual_seed(0)
    loader = _loader(path)
    train = ShuffleBufferLoader.from_stream(loader, 128, buffer_size=2048, seed=1)
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    trained = pymva.pytorch.train(
        model,
        train,
        [],
        num_epochs=2,
        batch_size=64,
        optimizer=torch.optim.Adam(model.parameters(), lr=0.05),
        criterion=torch.nn.BCELoss(),
        save_best=None,
        scheduler=(None, None),
    )
    test = list(loader.stream("test"))
    X = np.concatenate([c.X for c in test])
    y = np.concatenate([c.class_id for c in test]) == 0
    out = pymva.pytorch.predict(trained, X)[:, 0]
    # N(+1, 1) against N(-1, 1): the best cut (at 0 for equal priors) is right in Φ(1) = 84.1% of the
    # events of each class; allow 5 binomial standard deviations on ~4500 test events
    acc = 0.5 * (np.mean(out[y] > 0.5) + np.mean(out[~y] <= 0.5))
    assert acc > 0.841 - 5 * np.sqrt(0.841 * 0.159 / 1500)
