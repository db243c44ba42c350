"""Likelihood and TMVA's PDF: smoothing, splines and the likelihood ratio against closed forms and hand
computations, the weights-file round trip, the tutorials' bookings through the Factory, and the files
written by ROOT (../shared/data/tmva-written)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import uproot
from scipy.interpolate import CubicSpline

from pymva import TMVA, Reader, TCut
from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, OptionError
from pymva.io.weights import build_weights_xml, method_from_content, parse_weights_xml, weights_xml_bytes
from pymva.methods.base import MethodContext
from pymva.methods.likelihood import MethodLikelihood, transform_likelihood_output
from pymva.methods.pdf import PDF, PDFSettings, smooth_array, spline1_eval, spline2_eval, spline3_eval
from pymva.toydata import create_class_example
from pymva.types import EAnalysisType

INUTARD = "tmva-written/inutard+tmva-studies/9184b38"
HIGGS = "tmva-written/nasufsonmez+machine_learning_tmva/46ee21f/roottmva_example_folder/dataset/weights"

TUTORIAL = {  # TMVAClassification.C
    "Likelihood": "H:!V:TransformOutput:PDFInterpol=Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:NSmoothBkg[1]=10:"
    "NSmooth=1:NAvEvtPerBin=50",
    "LikelihoodD": "!H:!V:TransformOutput:PDFInterpol=Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:NSmooth=5:"
    "NAvEvtPerBin=50:VarTransform=Decorrelate",
    "LikelihoodPCA": "!H:!V:!TransformOutput:PDFInterpol=Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:NSmooth=5:"
    "NAvEvtPerBin=50:VarTransform=PCA",
    "LikelihoodKDE": "!H:!V:!TransformOutput:PDFInterpol=KDE:KDEtype=Gauss:KDEiter=Adaptive:KDEFineFactor=0.3:"
    "KDEborder=None:NAvEvtPerBin=50",
    "LikelihoodMIX": "!H:!V:!TransformOutput:PDFInterpolSig[0]=KDE:PDFInterpolBkg[0]=KDE:PDFInterpolSig[1]=KDE:"
    "PDFInterpolBkg[1]=KDE:PDFInterpolSig[2]=Spline2:PDFInterpolBkg[2]=Spline2:PDFInterpolSig[3]=Spline2:"
    "PDFInterpolBkg[3]=Spline2:KDEtype=Gauss:KDEiter=Nonadaptive:KDEborder=None:NAvEvtPerBin=50",
}


# ---------------------------------------------------------------------------------------------- smoothing
def test_smoothing_keeps_a_constant_and_a_ramp() -> None:
    np.testing.assert_array_equal(smooth_array(np.full(12, 4.0), 5), np.full(12, 4.0))
    ramp = np.arange(10, dtype=np.float64) * 2.0 + 1.0  # medians and hanning keep a straight line
    np.testing.assert_allclose(smooth_array(ramp, 3), ramp, atol=1e-12)


def test_smoothing_removes_an_isolated_spike() -> None:
    x = np.zeros(9)
    x[4] = 10.0
    np.testing.assert_array_equal(smooth_array(x), np.zeros(9))


def test_smoothing_by_hand_on_five_points() -> None:
    """[1, 5, 2, 8, 3]: medians of 3 -> [.., 2, 5, 3, ..], ends by the 3-point rule, hanning; the
    residual pass is written out as well."""
    x = np.array([1.0, 5.0, 2.0, 8.0, 3.0])

    def med(a: float, b: float, c: float) -> float:
        return sorted((a, b, c))[1]

    def pass353(v: list[float]) -> list[float]:
        z = [v[0], med(v[0], v[1], v[2]), med(v[1], v[2], v[3]), med(v[2], v[3], v[4]), v[4]]
        z[0] = med(z[1], z[0], 3 * z[1] - 2 * z[2])
        z[4] = med(z[3], z[4], 3 * z[3] - 2 * z[2])
        y = list(z)
        z = [y[0], med(y[0], y[1], y[2]), sorted(y)[2], med(y[2], y[3], y[4]), y[4]]  # median 5 in the middle
        y = list(z)
        z = [y[0], med(y[0], y[1], y[2]), med(y[1], y[2], y[3]), med(y[2], y[3], y[4]), y[4]]
        h = list(z)
        return [h[0]] + [0.25 * h[i - 1] + 0.5 * h[i] + 0.25 * h[i + 1] for i in range(1, 4)] + [h[4]]

    r = pass353(list(x))
    z = pass353(list(x - np.array(r)))
    expected = np.maximum(np.array(r) + np.array(z), 0.0)
    np.testing.assert_allclose(smooth_array(x), expected, atol=1e-12)


# ---------------------------------------------------------------------------------------------- splines
def test_spline1_and_spline2_are_exact_on_a_line_and_a_parabola() -> None:
    xk = np.linspace(-2.0, 3.0, 11)
    x = np.linspace(-2.3, 3.3, 57)
    np.testing.assert_allclose(spline1_eval(xk, 3 * xk - 1, x), 3 * x - 1, atol=1e-12)
    # TSpline2 works in float32: relative precision ~1e-6 of the values involved
    np.testing.assert_allclose(spline2_eval(xk, xk**2 + 0.5, x), x**2 + 0.5, atol=2e-5 * 15)


def test_spline3_is_the_not_a_knot_cubic_spline() -> None:
    rng = np.random.default_rng(3)
    xk = np.linspace(0.0, 5.0, 14)
    yk = rng.uniform(0, 10, 14)
    x = np.linspace(0.0, 5.0, 301)
    np.testing.assert_allclose(
        spline3_eval(xk, yk, x), CubicSpline(xk, yk, bc_type="not-a-knot")(x), atol=1e-9
    )


def test_pdf_spline0_is_the_normalised_histogram() -> None:
    counts = np.array([1.0, 3.0, 4.0, 2.0])
    pdf = PDF("p", PDFSettings(interpol="Spline0").processed(), counts, 0.0, 2.0)
    dens = counts / (counts.sum() * 0.5)
    np.testing.assert_allclose(pdf.value(np.array([0.1, 0.7, 1.2, 1.9])), dens, rtol=1e-6)


def test_pdf_spline_fine_histogram_integrates_to_one() -> None:
    counts = np.array([2.0, 6.0, 9.0, 12.0, 9.0, 5.0, 1.0])
    for method in ("Spline1", "Spline2", "Spline3", "Spline5", "KDE"):
        pdf = PDF("p", PDFSettings(interpol=method).processed(), counts, -1.0, 6.0)
        width = 7.0 / pdf.n_pdf_bins
        assert float(pdf.pdf_hist.astype(np.float64).sum() * width) == pytest.approx(1.0, rel=1e-5), method
        # TMVA's KDE loop leaves the last fine bin empty
        assert np.all(pdf.pdf_hist[:-1] > 0), method


def test_pdf_kde_of_one_bin_is_a_gauss_integral() -> None:
    """One filled bin: the non-adaptive kernel is the Gaussian integral of TMVA's GaussIntegral, with
    sigma = sqrt(2) (4/3)^0.2 RMS N^-0.2 and erf((x - m)/sigma) / 2 as its primitive."""
    from scipy.special import erf

    counts = np.zeros(10)
    counts[4] = 3.0
    counts[6] = 1.0  # the last bin is skipped by TMVA's loop: keep it empty
    pdf = PDF("k", PDFSettings(interpol="KDE").processed(), counts, 0.0, 10.0)
    centres = np.arange(10) + 0.5
    mean = (3 * 4.5 + 6.5) / 4
    rms = np.sqrt((3 * 4.5**2 + 6.5**2) / 4 - mean**2)
    sigma = np.sqrt(2) * (4 / 3) ** 0.2 * rms * 4**-0.2
    edges = np.linspace(0, 10, 10001)
    cdf = 3 * 0.5 * erf((edges - 4.5) / sigma) + 0.5 * erf((edges - 6.5) / sigma)
    dens = np.diff(cdf)
    dens[-1] = 0.0
    dens /= dens.sum() * 1e-3
    # TMVA computes (x - m)/sigma in float32: over a bin of width 1e-3/sigma that is a relative error of
    # about 2 * 6e-8 * |xs| / (1e-3 / sigma) ~ 1e-3 for |xs| <= 4
    np.testing.assert_allclose(pdf.pdf_hist, dens, rtol=2e-3, atol=1e-6)
    assert centres[4] == 4.5


def test_pdf_xml_round_trip() -> None:
    counts = np.array([0.0, 4.0, 7.5, 3.25, 1.0])
    pdf = PDF("x PDF Sig[0]", PDFSettings(nsmooth=2).processed(), counts, -1.0, 1.5, hist_name="h_original")
    el = pdf.to_xml(ET.Element("PDFDescriptor"))
    back = PDF.from_xml(el)
    np.testing.assert_array_equal(back.original, pdf.original)
    np.testing.assert_array_equal(back.pdf_hist, pdf.pdf_hist)
    assert (back.settings.min_nsmooth, back.settings.max_nsmooth, back.interpol) == (2, 2, "Spline2")
    el.set("InterpolMethod", "9")
    with pytest.raises(ModelError, match="InterpolMethod=9"):
        PDF.from_xml(el)


# ---------------------------------------------------------------------------------------------- method
def _context(tmp_path: Path, n_vars: int = 2, types: str = "") -> MethodContext:
    return MethodContext(
        job_name="job",
        dataset_name="dataset",
        analysis_type=EAnalysisType.kClassification,
        variables=tuple(
            VariableInfo(f"x{i}", f"x{i}", f"x{i}", type=(types[i] if types else "F")) for i in range(n_vars)
        ),
        class_names=("Signal", "Background"),
        weight_dir=tmp_path / "weights",
    )


def _sample(X: np.ndarray, cid: np.ndarray, w: np.ndarray | None = None) -> Sample:
    n = len(X)
    return Sample(
        X=X.astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=(np.ones(n) if w is None else w).astype(np.float32),
        class_id=cid.astype(np.int32),
    )


def test_likelihood_ratio_by_hand_with_spline0(tmp_path: Path) -> None:
    """Spline0 and no smoothing: each PDF is the normalised reference histogram; the response is
    Π p_S / (Π p_S + Π p_B) with the densities of the bins the event falls in."""
    rng = np.random.default_rng(5)
    n = 400
    X = np.vstack([rng.normal([0.5, 1.0], 1.0, (n, 2)), rng.normal([-0.5, 0.0], 1.2, (n, 2))])
    cid = np.r_[np.zeros(n), np.ones(n)]
    w = rng.uniform(0.5, 1.5, 2 * n)
    m = MethodLikelihood("Lk", _context(tmp_path), "PDFInterpol=Spline0:NSmooth=0:NAvEvtPerBin=40")
    m.train(_sample(X, cid, w))
    x32 = X.astype(np.float32).astype(np.float64)
    lo, hi = x32.min(0), x32.max(0)
    nb = n // 40
    test = rng.normal(0.0, 1.0, (50, 2)).astype(np.float32)
    ps = np.ones(50)
    pb = np.ones(50)
    for i in range(2):
        v = np.clip(x32[:, i], lo[i], hi[i] - 1e-10)
        hs = np.histogram(v[cid == 0], nb, (lo[i], hi[i]), weights=w[cid == 0].astype(np.float32))[0]
        hb = np.histogram(v[cid == 1], nb, (lo[i], hi[i]), weights=w[cid == 1].astype(np.float32))[0]
        width = (hi[i] - lo[i]) / nb
        t = np.clip(test[:, i].astype(np.float64), lo[i], hi[i] - 1e-10)
        b = np.minimum(((t - lo[i]) / width).astype(int), nb - 1)
        ps *= hs[b] / (hs.sum() * width)
        pb *= hb[b] / (hb.sum() * width)
    expected = np.maximum(ps, 1e-305) / (np.maximum(ps, 1e-305) + np.maximum(pb, 1e-305))
    np.testing.assert_allclose(m.evaluate(test), expected, rtol=2e-5, atol=1e-6)
    # TransformOutput: -ln(1/r - 1)/15
    r = transform_likelihood_output([0.2], [0.6], True)
    assert float(r[0]) == pytest.approx(-np.log(1 / 0.25 - 1) / 15)


def test_integer_variable_gets_one_bin_per_integer(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    X = np.c_[rng.integers(0, 5, 300), rng.normal(0, 1, 300)]
    cid = (rng.random(300) < 0.5).astype(int)
    m = MethodLikelihood("Lk", _context(tmp_path, types="IF"), "NAvEvtPerBin=10")
    m.train(_sample(X, cid))
    assert m.pdfs_sig_[0].nbins == 5
    assert (m.pdfs_sig_[0].xmin, m.pdfs_sig_[0].xmax) == (0.0, 5.0)


def test_options_per_variable_and_errors(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    m = MethodLikelihood("Lk", ctx, "NSmooth=3:NSmoothSig[1]=7:PDFInterpolBkg[0]=KDE:KDEiter=Adaptive")
    assert m.pdf_settings(1, "Sig").min_nsmooth == 7
    assert m.pdf_settings(0, "Sig").min_nsmooth == 3
    assert m.pdf_settings(0, "Bkg").interpol == "KDE"
    assert m.pdf_settings(0, "Bkg").kde_iter == "Adaptive"
    with pytest.raises(OptionError, match="NSmoothSig"):
        MethodLikelihood("Lk", ctx, "NSmoothSig[0]=abc")
    with pytest.raises(OptionError, match="out of range"):
        MethodLikelihood("Lk", ctx, "NSmoothSig[5]=2")
    with pytest.raises(OptionError, match="MaxNSmooth"):
        MethodLikelihood("Lk", ctx, "MinNSmooth=4:MaxNSmooth=2")
    with pytest.raises(OptionError, match="PDFInterpol"):
        MethodLikelihood("Lk", ctx, "PDFInterpol=Spline4")


def test_weights_round_trip_and_ranking(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    n = 600
    X = np.vstack([rng.normal([1.0, 0.0, 0.2], 1.0, (n, 3)), rng.normal([-1.0, 0.0, 0.0], 1.0, (n, 3))])
    cid = np.r_[np.zeros(n), np.ones(n)]
    ctx = _context(tmp_path, 3)
    m = MethodLikelihood("Lk", ctx, "TransformOutput:NSmooth=2:PDFInterpolSig[2]=Spline3:VarTransform=D")
    m.train(_sample(X, cid))
    xml = weights_xml_bytes(build_weights_xml(m))
    root = ET.fromstring(xml)
    assert [o.get("name") for o in root.find("Options")][-1] == "TransformOutput"
    assert len(root.find("Weights").findall("PDFDescriptor")) == 6
    back = method_from_content(parse_weights_xml(xml))
    test = rng.normal(0, 1.5, (200, 3)).astype(np.float32)
    np.testing.assert_array_equal(back.evaluate(test), m.evaluate(test))
    ranking = m.ranking()
    assert ranking is not None
    assert ranking[0][0] == "x0"  # the only separating variable
    assert back.ranking() is None


def test_tutorial_bookings_run_through_the_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    create_class_example("toy.root", n_events=1000)
    data = uproot.open("toy.root")
    factory = TMVA.Factory("TMVAClassification", None, "Silent:!DrawProgressBar:AnalysisType=Classification")
    loader = TMVA.DataLoader("dataset")
    for v in ("var1", "var2", "var3", "var4"):
        loader.AddVariable(v)
    loader.AddSignalTree(data["TreeS"])
    loader.AddBackgroundTree(data["TreeB"])
    loader.SetBackgroundWeightExpression("weight")
    loader.PrepareTrainingAndTestTree(TCut(""), TCut(""), "SplitMode=Random:NormMode=NumEvents:!V")
    for title, options in TUTORIAL.items():
        factory.BookMethod(loader, TMVA.Types.kLikelihood, title, options)
    # TMVA_Higgs_Classification.py books with keyword arguments, one value carrying further options
    higgs = factory.BookMethod(
        loader,
        TMVA.Types.kLikelihood,
        "LikelihoodHiggs",
        H=False,
        V=False,
        TransformOutput=True,
        PDFInterpol="Spline2:NSmoothSig[0]=20:NSmoothBkg[0]=20:NSmoothBkg[1]=10",
        NSmooth=1,
        NAvEvtPerBin=50,
    )
    assert higgs.pdf_settings(0, "Sig").min_nsmooth == 20
    assert higgs.pdf_settings(1, "Bkg").min_nsmooth == 10
    assert higgs.pdf_settings(2, "Bkg").min_nsmooth == 1
    factory.BookMethod(
        loader,
        TMVA.Types.kLikelihood,
        "LikelihoodKDEHiggs",
        H=False,
        V=False,
        TransformOutput=False,
        PDFInterpol="KDE",
        KDEtype="Gauss",
        KDEiter="Adaptive",
        KDEFineFactor=0.3,
        KDEborder=None,
        NAvEvtPerBin=50,
    )
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    for title in TUTORIAL:
        assert factory.GetROCIntegral(loader, title) > 0.75, title
    reader = TMVA.Reader("Silent")
    for v in ("var1", "var2", "var3", "var4"):
        reader.AddVariable(v)
    X = np.stack([data["TreeS"][v].array(library="np") for v in ("var1", "var2", "var3", "var4")], 1)
    for title in TUTORIAL:
        reader.BookMVA(title, f"dataset/weights/TMVAClassification_{title}.weights.xml")
        r = reader.EvaluateMVA(X.astype(np.float32), title)
        assert np.all(np.isfinite(r)), title


# ---------------------------------------------------------------------------------------------- ROOT files
def _book(xml: Path, title: str) -> tuple[Reader, list[str]]:
    reader = Reader("Silent")
    root = ET.parse(xml).getroot()
    for v in root.find("Variables") or []:
        reader.AddVariable(v.get("Expression"))
    for s in root.find("Spectators") or []:
        reader.AddSpectator(s.get("Expression"))
    reader.BookMVA(title, str(xml))
    return reader, [v.get("Label") for v in root.find("Variables") or []]


@pytest.mark.realdata
def test_root_5_32_likelihood_file_stage_by_stage(shared_data: Path) -> None:
    """The ROOT 5.32 training's output file holds TMVA's own histograms of every stage: the original
    ones equal the XML's, TMVA's smoothed histograms through pymva's Spline2 give TMVA's 10000-bin PDF
    histograms, and with those the Reader reproduces the TestTree response to 1e-5."""
    xml = shared_data / INUTARD / "weights/TMVAClassification_Likelihood.weights.xml"
    out = uproot.open(shared_data / INUTARD / "TMVA.root")
    reader, labels = _book(xml, "Likelihood")
    method = reader.methods["Likelihood"]
    base = "Method_Likelihood/Likelihood"
    for i, label in enumerate(labels):
        for pdf, tag in ((method.pdfs_sig_[i], "sig"), (method.pdfs_bkg_[i], "bgd")):
            np.testing.assert_array_equal(pdf.original, out[f"{base}/{label}_{tag}"].values())
            smoothed = out[f"{base}/{label}_{tag}_smoothed"].values()
            fine = out[f"{base}/{label}_{tag}_smoothed_hist_from_spline2"].values()
            rebuilt = PDF("p", PDFSettings(interpol="Spline2").processed(), smoothed, pdf.xmin, pdf.xmax)
            np.testing.assert_allclose(rebuilt.pdf_hist, fine, rtol=0, atol=1e-5 * fine.max())
            pdf.pdf_hist = fine.astype(np.float32)
    tree = out["TestTree"].arrays(library="np")
    X = np.stack([tree[label] for label in labels], axis=1).astype(np.float32)
    np.testing.assert_allclose(reader.EvaluateMVA(X, "Likelihood"), tree["Likelihood"], atol=1e-5, rtol=0)


@pytest.mark.realdata
def test_root_6_32_likelihood_pca_file(shared_data: Path) -> None:
    """No TestTree: the PCA parameters are read per class, and each PDF's range (the extremes of the
    training events under the signal and background PCA) lies inside the image of the variables' box
    under ``(x - mean) @ V``, TMVA's X2P; the response is a probability."""
    xml = shared_data / HIGGS / "TMVAClassification_LikelihoodPCA.weights.xml"
    reader, _labels = _book(xml, "LikelihoodPCA")
    method = reader.methods["LikelihoodPCA"]
    root = ET.parse(xml).getroot()
    lo = np.array([float(v.get("Min")) for v in root.find("Variables")])
    hi = np.array([float(v.get("Max")) for v in root.find("Variables")])
    pca = method.transformations.elements[0]
    low, high = [], []
    for c in (0, 1):
        mean, vec = pca.params_[c]
        a, b = (lo - mean)[:, None] * vec, (hi - mean)[:, None] * vec
        low.append(np.minimum(a, b).sum(0))
        high.append(np.maximum(a, b).sum(0))
    image_lo, image_hi = np.minimum(*low), np.maximum(*high)
    for k, pdf in enumerate(method.pdfs_sig_):
        assert image_lo[k] - 1e-3 <= pdf.xmin, k
        assert pdf.xmax <= image_hi[k] + 1e-3, k
    X = (lo + (hi - lo) * np.random.default_rng(0).random((20, len(lo)))).astype(np.float32)
    r = reader.EvaluateMVA(X, "LikelihoodPCA")
    assert np.all((r >= 0) & (r <= 1))
    # the signal and background PCA differ: evaluating both classes with one set changes the response
    xs = method.transformations.transform_variables(X, class_index=0)
    assert not np.allclose(xs, method.transformations.transform_variables(X, class_index=1))
