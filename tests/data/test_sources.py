"""Tree sources: files, trees, chains and in-memory events (pymva.data.sources)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pandas as pd
import pytest
import uproot

from pymva.data.sources import (
    ARRAY,
    NUMBER,
    STRING,
    ChainSource,
    FileTreeSource,
    MemorySource,
    UprootTreeSource,
    open_source,
    read_ascii_tree,
    split_file_spec,
)
from pymva.errors import DataError


def write_tree(path: Path, name: str = "TreeS", n: int = 10, start: float = 0.0, **extra: Any) -> None:
    with uproot.recreate(path) as f:
        t = f.mktree(name, {"x": np.float32, "n": np.int32, **dict.fromkeys(extra, np.float64)})
        t.extend(
            {"x": np.arange(start, start + n, dtype=np.float32), "n": np.arange(n, dtype=np.int32), **extra}
        )


def collect(source: Any, branches: list[str], step: int) -> dict[str, np.ndarray]:
    chunks = list(source.iterate(branches, step))
    return {b: np.concatenate([np.asarray(c[b]) for c in chunks]) for b in branches}


# --------------------------------------------------------------------------- specs


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("a.root:TreeS", ("a.root", "TreeS")),
        ("/x/y/a.root:dir/t", ("/x/y/a.root", "dir/t")),
        ("root://host//a.root:t", ("root://host//a.root", "t")),
        ("a.root", ("a.root", None)),
        ("data/*.root:events", ("data/*.root", "events")),
        ("C:\\x\\a.root", ("C:\\x\\a.root", None)),
        ("file.dat:tree", ("file.dat", "tree")),
        ("a.root:", ("a.root", None)),
    ],
)
def test_split_file_spec(spec: str, expected: tuple[str, str | None]) -> None:
    assert split_file_spec(spec) == expected


# --------------------------------------------------------------------------- files


def test_file_spec_and_path(tmp_path: Path) -> None:
    write_tree(tmp_path / "a.root", n=7)
    for spec in (
        f"{tmp_path / 'a.root'}:TreeS",
        Path(f"{tmp_path / 'a.root'}:TreeS"),
        str(tmp_path / "a.root"),
    ):
        src = open_source(spec)
        assert isinstance(src, FileTreeSource)
        assert (src.name, src.num_entries) == ("TreeS", 7)
        assert src.branch_kinds()["x"][0] == NUMBER
        np.testing.assert_array_equal(collect(src, ["x"], 3)["x"], np.arange(7, dtype=np.float32))


def test_uproot_tree_object(tmp_path: Path) -> None:
    write_tree(tmp_path / "a.root", n=5)
    with uproot.open(tmp_path / "a.root") as f:
        src = open_source(f["TreeS"])
        assert isinstance(src, UprootTreeSource)
        assert src.num_entries == 5
        assert src.name == "TreeS"
        assert "a.root" in src.description
        chunks = list(src.iterate(["n"], 2))
        assert [len(c["n"]) for c in chunks] == [2, 2, 1]
        assert set(chunks[0]) == {"n"}  # only the requested branch is read
        assert isinstance(chunks[0]["n"], np.ndarray)


def test_missing_file_names_similar_files(tmp_path: Path) -> None:
    write_tree(tmp_path / "signal.root")
    with pytest.raises(DataError) as exc:
        open_source(f"{tmp_path / 'signl.root'}:TreeS")
    msg = str(exc.value)
    assert "signl.root' does not exist" in msg
    assert "signal.root" in msg
    with pytest.raises(DataError, match=r"directory .* does not exist either"):
        open_source(str(tmp_path / "nodir" / "x.root:T"))


def test_not_a_root_file(tmp_path: Path) -> None:
    (tmp_path / "junk.root").write_text("hello")
    with pytest.raises(DataError, match=r"cannot open .* as a ROOT file"):
        open_source(f"{tmp_path / 'junk.root'}:T")


def test_missing_tree_lists_trees(tmp_path: Path) -> None:
    path = tmp_path / "a.root"
    with uproot.recreate(path) as f:
        f.mktree("TreeS", {"x": np.float32}).extend({"x": np.zeros(3, np.float32)})
        f.mktree("TreeB", {"x": np.float32}).extend({"x": np.zeros(3, np.float32)})
        f["hist"] = np.histogram(np.zeros(3), bins=3)
    with pytest.raises(DataError) as exc:
        open_source(f"{path}:TreeSig")
    msg = str(exc.value)
    assert "no tree 'TreeSig'" in msg
    assert "TreeS" in msg
    assert "TreeB" in msg
    assert "did you mean" in msg
    with pytest.raises(DataError, match=r"'hist' in file .* is a TH1D, not a TTree"):
        open_source(f"{path}:hist")
    with pytest.raises(DataError, match="holds several trees"):
        open_source(str(path))


def test_file_without_tree(tmp_path: Path) -> None:
    path = tmp_path / "h.root"
    with uproot.recreate(path) as f:
        f["hist"] = np.histogram(np.zeros(3), bins=3)
    with pytest.raises(DataError, match="holds no TTree"):
        open_source(str(path))


def test_missing_branch_suggests(tmp_path: Path) -> None:
    write_tree(tmp_path / "a.root")
    src = open_source(f"{tmp_path / 'a.root'}:TreeS")
    with pytest.raises(DataError) as exc:
        src.check_branches([("Input expression 'xx+1'", {"xx"})])
    msg = str(exc.value)
    assert "branch 'xx' used in Input expression 'xx+1' does not exist" in msg
    assert "did you mean 'x'" in msg
    assert "branches: x, n" in msg
    with pytest.raises(DataError, match="does not exist"):
        list(src.iterate(["nope"], 10))


# --------------------------------------------------------------------------- chains


def test_glob_is_a_chain(tmp_path: Path) -> None:
    for k in range(3):
        write_tree(tmp_path / f"part{k}.root", n=4, start=10.0 * k)
    src = open_source(f"{tmp_path}/part*.root:TreeS")
    assert isinstance(src, ChainSource)
    assert src.num_entries == 12
    assert src.name == "TreeS"
    x = collect(src, ["x"], 3)["x"]
    np.testing.assert_array_equal(x, np.concatenate([np.arange(10.0 * k, 10.0 * k + 4) for k in range(3)]))
    with pytest.raises(DataError, match="no file matches"):
        open_source(f"{tmp_path}/nothing*.root:TreeS")


def test_list_and_mapping_are_chains(tmp_path: Path) -> None:
    write_tree(tmp_path / "a.root", n=3)
    write_tree(tmp_path / "b.root", n=2, start=5)
    # an element without tree name takes the name of the one before it
    src = open_source([f"{tmp_path / 'a.root'}:TreeS", tmp_path / "b.root"])
    assert src.num_entries == 5
    np.testing.assert_array_equal(collect(src, ["x"], 10)["x"], [0, 1, 2, 5, 6])
    src2 = open_source({str(tmp_path / "a.root"): "TreeS", str(tmp_path / "b.root"): "TreeS"})
    assert src2.num_entries == 5


def test_chain_checks_every_file(tmp_path: Path) -> None:
    write_tree(tmp_path / "a.root", n=3)
    write_tree(tmp_path / "b.root", n=3, y=np.zeros(3))
    src = open_source([f"{tmp_path / 'b.root'}:TreeS", f"{tmp_path / 'a.root'}:TreeS"])
    with pytest.raises(DataError, match=r"branch 'y' .* does not exist in tree 'TreeS' in file .*a.root"):
        src.check_branches([("Input expression 'y'", {"y"})])


# --------------------------------------------------------------------------- in memory


def test_dict_of_arrays() -> None:
    src = open_source({"x": np.arange(5.0), "l": [1, 2, 3, 4, 5], "j": [[1.0], [], [2.0, 3.0], [4.0], []]})
    assert isinstance(src, MemorySource)
    assert src.num_entries == 5
    assert src.name == "dict"
    kinds = src.branch_kinds()
    assert kinds["x"][0] == NUMBER
    assert kinds["l"][0] == NUMBER
    assert kinds["j"][0] == ARRAY
    chunks = list(src.iterate(["x", "j"], 2))
    assert [len(c["x"]) for c in chunks] == [2, 2, 1]
    assert ak.to_list(chunks[1]["j"]) == [[2.0, 3.0], [4.0]]


def test_dict_lengths_must_agree() -> None:
    with pytest.raises(DataError, match="different lengths: x: 3, y: 2"):
        open_source({"x": [1, 2, 3], "y": [1, 2]})


def test_dataframe_awkward_and_structured() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": np.array([1, 2, 3], dtype=np.int16), "s": ["u", "v", "w"]})
    src = open_source(df)
    assert src.name == "DataFrame"
    assert src.num_entries == 3
    assert src.branch_kinds()["s"][0] == STRING
    np.testing.assert_array_equal(collect(src, ["a", "b"], 2)["b"], [1, 2, 3])
    rec = ak.Array({"p": [[1.0, 2.0], [], [3.0]], "q": [1, 2, 3]})
    src = open_source(rec)
    assert src.num_entries == 3
    assert src.branch_kinds()["p"][0] == ARRAY
    st = np.zeros(4, dtype=[("u", "f4"), ("v", "i8")])
    st["v"] = [4, 5, 6, 7]
    src = open_source(st)
    np.testing.assert_array_equal(collect(src, ["v"], 3)["v"], [4, 5, 6, 7])


def test_not_a_tree() -> None:
    with pytest.raises(DataError, match="record array"):
        open_source(ak.Array([1, 2, 3]))
    with pytest.raises(DataError, match=r"cannot read events from a builtins.int"):
        open_source(3)


def test_ascii_tree(tmp_path: Path) -> None:
    path = tmp_path / "sig.txt"
    path.write_text("x/F:n/I:y\n1.5 2 3\n2.5 3 4\n")
    src = read_ascii_tree(str(path), "TreeS")
    assert src.name == "TreeS"
    assert src.num_entries == 2
    assert src.columns["x"].dtype == np.float32
    assert src.columns["n"].dtype == np.int32
    np.testing.assert_array_equal(src.columns["y"], [3.0, 4.0])
    # AddSignalTree-style opening of a text file
    assert open_source(str(path), ascii_name="TreeS").num_entries == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("x:y\n1 2 3\n")
    with pytest.raises(DataError, match="rows have 3 numbers but the header names 2 columns"):
        read_ascii_tree(str(bad), "TreeB")


# --------------------------------------------------------------------------- real files


@pytest.mark.realdata
def test_real_files_branch_kinds(shared_data: Path) -> None:
    sample = open_source(os.fspath(shared_data / "uproot-sample-6.20.04-zlib.root"))
    kinds = sample.branch_kinds()
    for b in ("b", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8"):
        assert kinds[b][0] == NUMBER, b
    for b in ("af4", "Af8", "Ai4", "ab"):
        assert kinds[b][0] == ARRAY, b
    assert kinds["str"][0] == STRING
    hzz = open_source(f"{shared_data / 'uproot-HZZ.root'}:events")
    assert hzz.num_entries == 2421
    assert hzz.branch_kinds()["Muon_Px"][0] == ARRAY
    chunk = next(iter(hzz.iterate(["Muon_Px", "NMuon"], 1000)))
    assert isinstance(chunk["Muon_Px"], ak.Array)
    assert isinstance(chunk["NMuon"], np.ndarray)
    zmumu = open_source(f"{shared_data / 'uproot-Zmumu.root'}:events")
    assert zmumu.branch_kinds()["Type"][0] == STRING
    assert zmumu.num_entries == 2304


@pytest.mark.parametrize("codec", ["ZLIB", "LZMA", "LZ4", "ZSTD"])
def test_every_common_compression_codec_reads_out_of_the_box(tmp_path: Path, codec: str) -> None:
    """ROOT files commonly use zlib, lzma, lz4 and zstd; the declared dependencies read all four."""
    import uproot

    from pymva import TMVA

    rng = np.random.default_rng(7)
    x = np.repeat(rng.normal(size=100), 10).astype(np.float32)  # compressible by every codec
    path = tmp_path / f"{codec}.root"
    with uproot.recreate(path, compression=getattr(uproot, codec)(4)) as f:
        t = f.mktree("T", {"x": np.float32, "n": np.int32})
        t.extend({"x": x, "n": np.arange(1000, dtype=np.int32)})
    stored = uproot.open(path)
    assert type(stored.file.compression).__name__ == codec
    basket = stored["T"]["x"].basket(0)
    assert basket.compressed_bytes < basket.uncompressed_bytes  # really compressed
    loader = TMVA.DataLoader(f"ds_{codec}")
    loader.AddVariable("x")
    loader.AddVariable("n")
    loader.AddTree(f"{path}:T", "Signal", 1.0, "n%2==0")
    loader.AddTree(f"{path}:T", "Background", 1.0, "n%2==1")
    loader.PrepareTrainingAndTestTree("", "SplitMode=Block:NormMode=None")
    ds = loader.GetDataSetInfo().GetDataSet()
    got = np.concatenate([ds.train.X[:, 0], ds.test.X[:, 0]])
    np.testing.assert_array_equal(np.sort(got), np.sort(x))
