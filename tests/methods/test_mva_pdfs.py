"""TMVA's MVA PDFs (``CreateMVAPdfs``), ``Reader.GetProba`` and ``Reader.GetRarity``.

Expectations are independent of pymva's code: the ``<MVAPdfs>`` of ROOT-written Fisher files are
parsed here with ElementTree and smoothed with real ROOT's ``TH1::Smooth`` (the smoother TMVA's
``PDF`` calls), TMVA's ``GetIntegral`` is hand-computed on a two-bin PDF, and the histograms pymva
builds at training are numpy's weighted histograms of the training responses.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pymva import TMVA
from pymva.data.dataset import Sample, VariableInfo
from pymva.io.weights import read_weights_file, write_weights_file
from pymva.methods.base import MethodContext
from pymva.methods.fisher import MethodFisher
from pymva.methods.mva_pdfs import MVAPdfs
from pymva.methods.pdf import PDF, PDFSettings
from pymva.types import EAnalysisType

ROOT_FILES = (
    "Alam-Danish+Higgs_TMVA/c7444e3/dataset/weights/TMVAClassification_Fisher.weights.xml",
    "inutard+tmva-studies/9184b38/weights/TMVAClassification_Fisher.weights.xml",
)


def _reader(path: Path) -> TMVA.Reader:
    content = read_weights_file(path)
    reader = TMVA.Reader("!Color:Silent")
    for v in content.variables:
        reader.AddVariable(v.expression, np.zeros(1, np.float32))
    for v in content.spectators:
        reader.AddSpectator(v.expression, np.zeros(1, np.float32))
    reader.BookMVA("Fisher", path)
    return reader


def _root_smoothed(ROOT: Any, pdf: ET.Element) -> tuple[np.ndarray, float, float]:
    """The stored original histogram, smoothed MinNSmooth times by ROOT's TH1::Smooth."""
    hist = pdf.find("Histogram")
    assert hist is not None
    n, lo, hi = int(hist.get("NBins", "")), float(hist.get("XMin", "")), float(hist.get("XMax", ""))
    values = [float(t) for t in (hist.text or "").split()]
    h = ROOT.TH1F(f"h{id(pdf)}", "", n, lo, hi)
    h.SetDirectory(0)
    for i, v in enumerate(values):
        h.SetBinContent(i + 1, v)
    assert pdf.get("MinNSmooth") == pdf.get("MaxNSmooth")
    h.Smooth(int(pdf.get("MinNSmooth", "")))
    return np.array([h.GetBinContent(i + 1) for i in range(n)]), lo, hi


@pytest.mark.realdata
@pytest.mark.parametrize("rel", ROOT_FILES)
def test_root_written_fisher_proba_and_rarity(ROOT: Any, shared_data: Path, rel: str) -> None:
    """At the reference bins' centres a Spline2 passes through the smoothed contents, so there
    ``p = content / (Σ contents × width)`` up to the spline's area differing from the histogram's
    (curvature × width², below 1 % of the area for these smooth 50-bin histograms) and the linear
    interpolation between the 10000 fine bins (1/200 of a reference bin: negligible)."""
    path = shared_data / "tmva-written" / rel
    root = ET.parse(path).getroot()
    pdfs = root.findall("MVAPdfs/PDF")
    assert [p.get("Name") for p in pdfs] == ["Fisher_PDFSig", "Fisher_PDFBkg"]
    assert pdfs[0].get("InterpolMethod") == "2"  # Spline2
    s, lo, hi = _root_smoothed(ROOT, pdfs[0])
    b, lo_b, hi_b = _root_smoothed(ROOT, pdfs[1])
    assert (lo, hi) == (lo_b, hi_b)
    width = (hi - lo) / len(s)
    ps, pb = s / (s.sum() * width), b / (b.sum() * width)
    centres = lo + (np.arange(len(s)) + 0.5) * width
    bulk = (s > 0.05 * s.max()) & (b > 0.05 * b.max())
    assert bulk.sum() >= 8

    reader = _reader(path)
    for ap in (0.5, 0.2):
        expected = ps[bulk] * ap / (ps[bulk] * ap + pb[bulk] * (1 - ap))
        got = reader.GetProba("Fisher", ap, centres[bulk])
        np.testing.assert_allclose(got, expected, atol=0.01)
    # rarity at the upper edge of each reference bin: the background histogram's cumulative area
    edges = lo + (np.arange(len(b)) + 1) * width
    np.testing.assert_allclose(reader.GetRarity("Fisher", edges[:-1]), np.cumsum(pb * width)[:-1], atol=0.01)

    _check_ranges(reader, lo, hi)
    # one value: a float, the same as the array form
    assert reader.GetProba("Fisher", 0.5, float(centres[25])) == pytest.approx(
        float(reader.GetProba("Fisher", 0.5, centres[25:26])[0]), rel=1e-15
    )


@pytest.mark.realdata
@pytest.mark.parametrize("rel", ROOT_FILES)
def test_root_written_fisher_ranges(shared_data: Path, rel: str) -> None:
    path = shared_data / "tmva-written" / rel
    h = ET.parse(path).getroot().find("MVAPdfs/PDF/Histogram")
    assert h is not None
    _check_ranges(_reader(path), float(h.get("XMin", "")), float(h.get("XMax", "")))


def _check_ranges(reader: TMVA.Reader, lo: float, hi: float) -> None:
    """Rarity: 0 below the range, non-decreasing, 1 at the upper edge; GetProba within [0, 1]."""
    grid = np.linspace(lo - 0.5, hi, 2001)
    rar = reader.GetRarity("Fisher", grid)
    assert np.all(np.diff(rar) >= 0)
    assert rar[0] == 0.0
    assert rar.min() >= 0.0
    assert rar.max() <= 1.0 + 1e-6
    assert rar[-1] == pytest.approx(1.0, abs=1e-5)
    proba = reader.GetProba("Fisher", 0.5, grid)
    assert np.all((proba >= 0) & (proba <= 1))


@pytest.mark.realdata
def test_current_event_is_the_default_value(shared_data: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = shared_data / "tmva-written" / ROOT_FILES[1]
    content = read_weights_file(path)
    reader = TMVA.Reader("!Color:Silent")
    bufs = [np.zeros(1, np.float32) for _ in content.variables]
    for v, buf in zip(content.variables, bufs, strict=True):
        reader.AddVariable(v.expression, buf)
    for v in content.spectators:
        reader.AddSpectator(v.expression, np.zeros(1, np.float32))
    reader.BookMVA("Fisher", path)
    for i, buf in enumerate(bufs):
        buf[0] = 0.3 * (i + 1) - 0.5
    mva = reader.EvaluateMVA("Fisher")
    assert reader.GetProba("Fisher") == reader.GetProba("Fisher", 0.5, mva)
    assert reader.GetRarity("Fisher") == reader.GetRarity("Fisher", mva)
    bufs[0][0] = np.nan
    with caplog.at_level(logging.ERROR, logger="pymva"):
        assert reader.GetProba("Fisher") == -999.0
        assert reader.GetRarity("Fisher") == -999.0
    assert "is NaN" in caplog.text


def test_rarity_is_tmva_get_integral() -> None:
    """PDF::GetIntegral(xmin, x) on a Spline0 PDF of contents (1, 3) on [0, 2]: normalised bins
    0.25 and 0.75; the first bin counts whole (its width runs from xmin to its upper edge), the last
    from its lower edge to x, also beyond the range; below the range the sum is empty."""
    pdf = PDF("p", PDFSettings(interpol="Spline0").processed(), [1.0, 3.0], 0.0, 2.0)
    both = MVAPdfs(pdf, pdf)
    np.testing.assert_allclose(
        both.rarity([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5]), [0.0, 0.25, 0.25, 0.25, 0.625, 1.0, 1.375]
    )
    sig = PDF("s", PDFSettings(interpol="Spline0").processed(), [3.0, 1.0], 0.0, 2.0)
    pdfs = MVAPdfs(sig, pdf)
    # p_s = 0.75, p_b = 0.25 in the first bin
    np.testing.assert_allclose(pdfs.proba([0.5], 0.5), [0.75])
    np.testing.assert_allclose(pdfs.proba([0.5], 0.2), [0.75 * 0.2 / (0.75 * 0.2 + 0.25 * 0.8)])
    np.testing.assert_allclose(pdfs.rarity([0.5, 1.5], "signal"), [0.75, 0.875])


# ---------------------------------------------------------------------------------------------- training


def _context(tmp_path: Path) -> MethodContext:
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kClassification,
        variables=tuple(VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(2)),
        class_names=("Signal", "Background"),
        weight_dir=tmp_path / "weights",
    )


def _sample(n: int = 1000, seed: int = 1) -> Sample:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.8, 1.0, (n, 2)), rng.normal(-0.4, 1.2, (n, 2))]).astype(np.float32)
    return Sample(
        X=X,
        targets=np.zeros((2 * n, 0), np.float32),
        spectators=np.zeros((2 * n, 0), np.float32),
        weights=rng.uniform(0.5, 1.5, 2 * n).astype(np.float32),
        class_id=np.r_[np.zeros(n), np.ones(n)].astype(np.int32),
    )


def _numpy_hist(r: np.ndarray, w: np.ndarray, nbins: int, lo: float, hi: float) -> np.ndarray:
    """numpy's weighted histogram; the response equal to ``hi`` is TH1's overflow, not the last bin."""
    h, _ = np.histogram(r, nbins, (lo, hi), weights=w.astype(np.float64))
    h[-1] -= w[r == hi].astype(np.float64).sum()
    return h / (h.sum() * (hi - lo) / nbins)


def test_training_builds_the_histograms_and_round_trips(tmp_path: Path) -> None:
    sample = _sample()
    m = MethodFisher(
        "Fisher",
        _context(tmp_path),
        "CreateMVAPdfs:NbinsMVAPdf=20:NsmoothMVAPdf=0:PDFInterpolMVAPdf=Spline0",
    )
    m.train(sample)
    r = m.mva_value(sample.X).astype(np.float64)
    lo, hi = float(r.min()), float(r.max())
    sig = sample.class_id == 0
    hs = _numpy_hist(r[sig], sample.weights[sig], 20, lo, hi)
    hb = _numpy_hist(r[~sig], sample.weights[~sig], 20, lo, hi)
    assert m.mva_pdfs is not None
    np.testing.assert_allclose(m.mva_pdfs.signal.original, hs, rtol=1e-5)
    np.testing.assert_allclose(m.mva_pdfs.background.original, hb, rtol=1e-5)

    path = write_weights_file(m)
    root = ET.parse(path).getroot()
    pdfs = root.findall("MVAPdfs/PDF")
    assert [p.get("Name") for p in pdfs] == ["Fisher_PDFSig", "Fisher_PDFBkg"]
    assert [p.find("Histogram").get("Name") for p in pdfs] == ["Fisher_tr_S_original", "Fisher_tr_B_original"]  # type: ignore[union-attr]
    assert pdfs[0].get("InterpolMethod") == "0"
    assert pdfs[0].get("MinNSmooth") == "0"
    h = pdfs[0].find("Histogram")
    assert h is not None
    assert h.get("NBins") == "20"
    assert float(h.get("XMin", "")) == pytest.approx(lo, rel=1e-15)

    reader = TMVA.Reader("!Color:Silent")
    for v in ("var0", "var1"):
        reader.AddVariable(v, np.zeros(1, np.float32))
    reader.BookMVA("Fisher", path)
    width = (hi - lo) / 20
    centres = lo + (np.arange(20) + 0.5) * width
    ok = (hs > 0) | (hb > 0)
    # Spline0: the PDFs are the normalised histograms themselves
    expected = hs[ok] / (hs[ok] + hb[ok])
    np.testing.assert_allclose(reader.GetProba("Fisher", 0.5, centres[ok]), expected, rtol=1e-5, atol=1e-9)
    # rarity at the bins' upper edges: the background histogram's cumulative area
    np.testing.assert_allclose(
        reader.GetRarity("Fisher", centres[1:] + width / 2), np.cumsum(hb * width)[1:], rtol=1e-5
    )


def test_tmva_pdf_defaults_without_pdf_options(tmp_path: Path) -> None:
    """CreateMVAPdfs alone: TMVA's PDF defaults (NAvEvtPerBin=50: 2000 events -> 40 bins, no
    smoothing, Spline2), not the Reader-compatibility defaults NbinsMVAPdf=60, NsmoothMVAPdf=2."""
    m = MethodFisher("F", _context(tmp_path), "CreateMVAPdfs:KDEborderMVAPdfSig=Mirror")
    m.train(_sample())
    assert m.mva_pdfs is not None
    assert m.mva_pdfs.signal.nbins == m.mva_pdfs.background.nbins == 40
    assert m.mva_pdfs.signal.settings.min_nsmooth == 0
    assert m.mva_pdfs.signal.interpol == "Spline2"
    assert m.mva_pdfs.signal.settings.kde_border == "Mirror"
    assert m.mva_pdfs.background.settings.kde_border == "None"
    m2 = MethodFisher(
        "F", _context(tmp_path), "CreateMVAPdfs:NsmoothMVAPdf=3:NSmoothMVAPdfBkg=1:NbinsMVAPdfSig=10"
    )
    m2.train(_sample())
    assert m2.mva_pdfs is not None
    assert m2.mva_pdfs.signal.nbins == 10
    assert m2.mva_pdfs.background.nbins == 40
    # TMVA's chain: the background PDF starts from the default PDF's processed MinNSmooth/MaxNSmooth
    assert m2.mva_pdfs.background.settings.min_nsmooth == 3
    assert MethodFisher("F", _context(tmp_path), "").mva_pdf_settings_ is None


def test_without_pdfs_warns_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    m = MethodFisher("F", _context(tmp_path), "")
    m.train(_sample(200))
    path = write_weights_file(m)
    assert ET.parse(path).getroot().find("MVAPdfs") is not None  # empty, as TMVA writes it
    reader = TMVA.Reader("!Color:Silent")
    for v in ("var0", "var1"):
        reader.AddVariable(v, np.zeros(1, np.float32))
    reader.BookMVA("F", path)
    with caplog.at_level(logging.WARNING, logger="pymva"):
        assert reader.GetProba("F") == -1.0
        assert reader.GetProba("F", 0.5, 0.2) == -1.0
        assert reader.GetRarity("F") == 0.0  # TMVA's MethodBase::GetRarity without a PDF
        np.testing.assert_array_equal(reader.GetProba("F", 0.5, [0.1, 0.2]), [-1.0, -1.0])
    assert caplog.text.count("has no MVA PDFs") == 2  # once for GetProba, once for GetRarity


def test_factory_writes_proba_and_rarity_histograms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TestClassification with MVA PDFs: ``MVA_<T>_Proba_S/_B`` and ``_Rarity_S/_B`` are the test
    events' GetProba / GetRarity (here from the Reader on the TestTree's responses), 40 bins on
    [0, 1], each normalised to unit area (float32-stored contents: rtol 1e-6)."""
    import uproot

    from pymva import TCut

    monkeypatch.chdir(tmp_path)
    sample = _sample(600)
    data = {
        cls: {f"var{i}": sample.X[sample.class_id == c, i] for i in range(2)}
        for c, cls in ((0, "S"), (1, "B"))
    }
    factory = TMVA.Factory("J", "out.root", options="Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("var0")
    loader.AddVariable("var1")
    loader.AddSignalTree(data["S"])
    loader.AddBackgroundTree(data["B"])
    loader.PrepareTrainingAndTestTree(TCut(""), "SplitMode=Alternate")
    factory.BookMethod(loader, TMVA.Types.kFisher, "Fisher", "CreateMVAPdfs:NbinsMVAPdf=30:NsmoothMVAPdf=2")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    del factory

    f = uproot.open("out.root")
    t = f["dataset/TestTree"].arrays(["classID", "weight", "Fisher"], library="np")
    reader = TMVA.Reader("!Color:Silent")
    for v in ("var0", "var1"):
        reader.AddVariable(v, np.zeros(1, np.float32))
    reader.BookMVA("Fisher", "dataset/weights/J_Fisher.weights.xml")
    y = t["Fisher"].astype(np.float64)
    values = {
        "Proba": reader.GetProba("Fisher", 0.5, y).astype(np.float32).astype(np.float64),
        "Rarity": reader.GetRarity("Fisher", y),
    }
    for kind, v in values.items():
        for cls, c in (("S", 0), ("B", 1)):
            m = t["classID"] == c
            h, _ = np.histogram(v[m], 40, (0.0, 1.0), weights=t["weight"][m].astype(np.float64))
            h[-1] -= t["weight"][m][v[m] == 1.0].astype(np.float64).sum()  # 1.0 is TH1's overflow
            expected = h / (h.sum() / 40)
            counts, edges = f[f"dataset/Method_Fisher/Fisher/MVA_Fisher_{kind}_{cls}"].to_numpy()
            assert edges[0] == 0.0
            assert edges[-1] == 1.0
            np.testing.assert_allclose(counts, expected, rtol=1e-6, atol=1e-9)
