"""pymva's Reader on weights files written by ROOT's TMVA (../shared/data/tmva-written): BDT and
Fisher reproduce TMVA's own TestTree response where the output file exists."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import uproot

from pymva import Reader

pytestmark = pytest.mark.realdata

ANNIKA = "tmva-written/annikamonari+ICMSciThesisHiggsInv/c60e64c"
INUTARD = "tmva-written/inutard+tmva-studies/9184b38"
HIGGS = "tmva-written/nasufsonmez+machine_learning_tmva/46ee21f/roottmva_example_folder/dataset/weights"
ALAM = "tmva-written/Alam-Danish+Higgs_TMVA/c7444e3/dataset/weights"


def _variables(xml: Path) -> list[ET.Element]:
    root = ET.parse(xml).getroot()
    return list(root.find("Variables") or [])


def _book(xml: Path, tag: str) -> tuple[Reader, list[ET.Element]]:
    reader = Reader("Silent")
    variables = _variables(xml)
    for v in variables:
        reader.AddVariable(v.get("Expression"))
    root = ET.parse(xml).getroot()
    for s in root.find("Spectators") or []:
        reader.AddSpectator(s.get("Expression"))
    reader.BookMVA(tag, str(xml))
    return reader, variables


def test_root_5_34_bdt_reproduces_its_testtree(shared_data: Path) -> None:
    """ROOT 5.34/04 AdaBoost BDT (850 trees, UseBaggedBoost): TMVA's TestTree response to 1e-5.
    Files of that release only reproduce with ``x > cut``; with ``>=`` some events differ."""
    xml = shared_data / ANNIKA / "weights/TMVAClassification_BDT.weights.xml"
    reader, variables = _book(xml, "BDT")
    tree = uproot.open(shared_data / ANNIKA / "bg_zll/TMVA_signalSel.root")["TestTree"].arrays(library="np")
    X = np.stack([tree[v.get("Label")] for v in variables], axis=1).astype(np.float32)
    got = reader.EvaluateMVA(X, "BDT")
    np.testing.assert_allclose(got, tree["BDT"], atol=1e-5, rtol=0)
    method = reader.methods["BDT"]
    assert method.strict_cuts_
    method.strict_cuts_ = False
    assert np.abs(reader.EvaluateMVA(X, "BDT") - tree["BDT"]).max() > 1e-3


def test_fisher_reproduces_its_testtree(shared_data: Path) -> None:
    xml = shared_data / INUTARD / "weights/TMVAClassification_Fisher.weights.xml"
    reader, variables = _book(xml, "Fisher")
    tree = uproot.open(shared_data / INUTARD / "TMVA.root")["TestTree"].arrays(library="np")
    X = np.stack([tree[v.get("Label")] for v in variables], axis=1).astype(np.float32)
    np.testing.assert_allclose(reader.EvaluateMVA(X, "Fisher"), tree["Fisher"], atol=1e-5, rtol=0)


def test_fisher_6_28_file_is_its_linear_formula(shared_data: Path) -> None:
    """No TestTree: the response is F0 + Σ F_i x_i with the coefficients read from the XML directly."""
    xml = shared_data / ALAM / "TMVAClassification_Fisher.weights.xml"
    reader, variables = _book(xml, "Fisher")
    coef = {int(c.get("Index")): float(c.get("Value")) for c in ET.parse(xml).getroot().iter("Coefficient")}
    rng = np.random.default_rng(0)
    lo = np.array([float(v.get("Min")) for v in variables])
    hi = np.array([float(v.get("Max")) for v in variables])
    X = (lo + (hi - lo) * rng.random((50, len(variables)))).astype(np.float32)
    expected = coef[0] + X.astype(np.float64) @ np.array([coef[i + 1] for i in range(len(variables))])
    np.testing.assert_allclose(reader.EvaluateMVA(X, "Fisher"), expected, rtol=1e-6, atol=1e-6)


def _walk(node: ET.Element, x: np.ndarray) -> ET.Element:
    while int(node.get("nType")) == 0:
        right = (np.float32(x[int(node.get("IVar"))]) >= np.float32(float(node.get("Cut")))) == (
            node.get("cType") == "1"
        )
        kids = {k.get("pos"): k for k in node.findall("Node")}
        node = kids["r" if right else "l"]
    return node


def test_root_6_33_bdt_is_its_forest(shared_data: Path) -> None:
    """No TestTree: the response is the boost-weighted vote of the leaf types, evaluated here by
    walking the XML of every tree for a few events."""
    xml = shared_data / HIGGS / "TMVA_Higgs_Classification_BDT.weights.xml"
    reader, variables = _book(xml, "BDT")
    rng = np.random.default_rng(1)
    lo = np.array([float(v.get("Min")) for v in variables])
    hi = np.array([float(v.get("Max")) for v in variables])
    X = (lo + (hi - lo) * rng.random((15, len(variables)))).astype(np.float32)
    trees = list(ET.parse(xml).getroot().find("Weights"))
    expected = []
    for x in X:
        num = den = 0.0
        for t in trees:
            bw = float(np.float32(float(t.get("boostWeight"))))
            num += bw * int(_walk(t.find("Node"), x).get("nType"))
            den += bw
        expected.append(num / den)
    np.testing.assert_allclose(reader.EvaluateMVA(X, "BDT"), expected, atol=1e-6)
    assert not reader.methods["BDT"].strict_cuts_
    assert math.isclose(float(reader.EvaluateMVA(X[0], "BDT")), expected[0], abs_tol=1e-6)
