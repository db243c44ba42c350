"""The toy inputs are real TTrees with the tutorials' trees, branches and shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import uproot

from pymva.toydata import create_class_example, create_multiple_background, create_regression_example


def test_class_example(tmp_path: Path) -> None:
    f = uproot.open(create_class_example(tmp_path / "c.root", n_events=500))
    for name, sign in (("TreeS", 1), ("TreeB", -1)):
        tree = f[name]
        assert tree.classname == "TTree"
        variables = ["var1", "var2", "var3", "var4"]
        assert tree.keys() == variables + (["weight"] if name == "TreeB" else [])
        x = np.column_stack([tree[v].array(library="np") for v in variables])
        assert x.dtype == np.float32
        assert x.shape == (500, 4)
        assert np.sign(x.mean(axis=0)).tolist() == [sign] * 4  # signal above, background below
        corr = np.corrcoef(x.T)[np.triu_indices(4, 1)]
        assert np.all((corr > 0.45) & (corr < 0.75))  # generated with rho = 0.6
    w = f["TreeB"]["weight"].array(library="np")
    assert w.dtype == np.float32
    assert w.min() >= 0.5
    assert w.max() < 1.5


def test_regression_example(tmp_path: Path) -> None:
    t = uproot.open(create_regression_example(tmp_path / "r.root", n_events=400))["TreeR"]
    assert t.keys() == ["var1", "var2", "fvalue"]
    a = t.arrays(library="np")
    assert a["var1"].min() >= 0
    assert a["var1"].max() <= 5
    expected = 200 * np.exp(-((a["var1"] - 2.5) ** 2 + (a["var2"] - 2.5) ** 2) / 4) + 10 * a["var1"]
    assert np.std(a["fvalue"] - expected) < 3  # noise sigma 2


def test_multiple_background(tmp_path: Path) -> None:
    f = uproot.open(create_multiple_background(tmp_path / "m.root", n_events=300))
    assert sorted(k.split(";")[0] for k in f) == ["TreeB0", "TreeB1", "TreeB2", "TreeS"]
    assert all(f[t].num_entries == 300 for t in ("TreeS", "TreeB0", "TreeB1", "TreeB2"))
