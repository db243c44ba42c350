"""TransformationHandler: chains, reference classes, variables-only application, inverse, table, XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from pymva.data.dataset import Sample, VariableInfo
from pymva.errors import ModelError, NotTrainedError
from pymva.transforms import (
    PCA,
    Decorrelate,
    Gauss,
    InputRef,
    Normalize,
    TransformationHandler,
    VariableStatistics,
    format_statistics,
)

VARS = [VariableInfo(f"var{i}", f"var{i}", f"var{i}") for i in range(3)]
TGTS = [VariableInfo("t0", "t0", "t0", kind="target"), VariableInfo("t1", "t1", "t1", kind="target")]
SPEC = [VariableInfo("s0", "s0", "s0", kind="spectator")]
CLASSES = ["Signal", "Background"]


def _sample(n: int = 6000, n_classes: int = 2, seed: int = 0) -> Sample:
    rng = np.random.default_rng(seed)
    cls = rng.integers(0, n_classes, n).astype(np.int32)
    X = rng.normal(size=(n, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.3], [0, 0, 1]]) + cls[:, None] * [
        1.0,
        0.5,
        -1,
    ]
    T = np.column_stack([X[:, 0] * 2 + rng.normal(size=n), rng.exponential(size=n)])
    return Sample(
        X=X.astype(np.float32),
        targets=T.astype(np.float32),
        spectators=rng.uniform(0, 10, (n, 1)).astype(np.float32),
        weights=rng.uniform(0.5, 1.5, n).astype(np.float32),
        class_id=cls,
    )


def _handler(spec: str, classes: list[str] = CLASSES, **kw: object) -> TransformationHandler:
    return TransformationHandler.parse(
        spec,
        variables=VARS,
        targets=TGTS,
        spectators=SPEC,
        class_names=classes,
        **kw,  # type: ignore[arg-type]
    )


def _roundtrip(h: TransformationHandler, classes: list[str] = CLASSES) -> TransformationHandler:
    root = h.to_xml()
    ET.indent(root)  # as the weights file is written
    text = ET.tostring(root, encoding="unicode")
    return TransformationHandler.from_xml(
        ET.fromstring(text), variables=VARS, targets=TGTS, spectators=SPEC, class_names=classes
    )


def test_chain_equals_elements_applied_by_hand() -> None:
    s = _sample()
    h = _handler("N,D,G_Signal(var0,var2),P(_V_)")
    h.fit(s)
    ones = s.class_id
    # by hand: fit each element on the previous output, apply with its reference class
    v = [InputRef("v", i) for i in range(3)]
    t = [InputRef("t", i) for i in range(2)]
    n = Normalize(v + t, n_classes=2)
    Z = np.column_stack([s.X, s.targets])
    n.fit(Z, s.weights, ones)
    Z = n.forward(Z)
    X1, T1 = Z[:, :3], Z[:, 3:]
    d = Decorrelate(v, n_classes=2)
    d.fit(X1, s.weights, ones)
    X2 = d.forward(X1)
    g = Gauss([InputRef("v", 0), InputRef("v", 2)], n_classes=2, reference_class=0)
    g.fit(X2[:, [0, 2]], s.weights, ones)
    X3 = X2.copy()
    X3[:, [0, 2]] = g.forward(X2[:, [0, 2]])
    p = PCA(v, n_classes=2)
    p.fit(X3, s.weights, ones)
    X4 = p.forward(X3)
    out = h.transform(s)
    np.testing.assert_array_equal(out.X, X4)
    np.testing.assert_array_equal(out.targets, T1)
    np.testing.assert_array_equal(out.spectators, s.spectators)
    np.testing.assert_array_equal(h.transform_variables(s.X), X4)
    assert h.short_name == "Norm_Deco_Gauss_PCA"
    assert h.reference_classes == [None, None, 0, None]


def test_inputs_are_not_modified_and_dtypes() -> None:
    s = _sample()
    X0 = s.X.copy()
    h = _handler("G,N")
    h.fit(s)
    out = h.transform(s)
    np.testing.assert_array_equal(s.X, X0)
    assert out.X.dtype == np.float32
    assert out.targets.dtype == np.float32
    assert h.transform_variables(s.X.astype(np.float64)).dtype == np.float32


def test_multiclass_parameter_sets_and_reference() -> None:
    classes = ["A", "B", "C"]
    s = _sample(n_classes=3)
    h = _handler("N_B,G_C,D", classes)
    h.fit(s)
    assert [len(e.params_) for e in h.elements] == [4, 4, 4]
    out = h.transform(s).X
    h2 = _roundtrip(h, classes)
    assert h2.reference_classes == [1, 2, None]
    np.testing.assert_array_equal(h2.transform(s).X, out)


def test_xml_round_trip_identical_outputs() -> None:
    s = _sample()
    for spec in ("N", "D", "P", "G", "U", "D,G", "N_Signal,U_Background(_V_,_T_,_S_)", "I,N", "P(_T_)"):
        h = _handler(spec)
        h.fit(s)
        h2 = _roundtrip(h)
        assert h2.short_name == h.short_name
        a, b = h.transform(s), h2.transform(s)
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.targets, b.targets)
        np.testing.assert_array_equal(a.spectators, b.spectators)
        np.testing.assert_array_equal(h2.transform_variables(s.X), h.transform_variables(s.X))
        if h.transforms_targets:
            np.testing.assert_array_equal(h2.inverse_targets(a.targets), h.inverse_targets(a.targets))


def test_tmva_file_without_reference_class_uses_all_classes() -> None:
    s = _sample()
    h = _handler("N_Signal")
    h.fit(s)
    root = h.to_xml()
    for trf in root.iter("Transform"):
        del trf.attrib["ReferenceClass"]  # what TMVA writes
    h2 = TransformationHandler.from_xml(
        root, variables=VARS, targets=TGTS, spectators=SPEC, class_names=CLASSES
    )
    assert h2.reference_classes == [None]
    all_classes = h.elements[0].forward(np.column_stack([s.X, s.targets]), class_index=2)
    np.testing.assert_array_equal(h2.transform(s).X, all_classes[:, :3])
    assert not np.array_equal(h.transform(s).X, all_classes[:, :3])


def test_identity_is_counted_but_not_written() -> None:
    h = _handler("I")
    root = h.to_xml()
    assert root.get("NTransformations") == "1"
    assert root.find("Transform") is None
    h2 = TransformationHandler.from_xml(root, variables=VARS, class_names=CLASSES)
    assert h2.is_identity
    assert h2.short_name == "Id"
    s = _sample()
    h3 = _handler("N,I")
    h3.fit(s)
    assert _roundtrip(h3).short_name == "Norm_Id"
    empty = TransformationHandler.from_xml(
        ET.Element("Transformations", NTransformations="0"), variables=VARS, class_names=CLASSES
    )
    assert empty.is_identity
    assert empty.transform(s) is s


def test_transform_variables_needs_targets_for_mixing_elements() -> None:
    s = _sample()
    h = _handler("D(_V_,_S_)")
    h.fit(s)
    with pytest.raises(ModelError, match="only they are known"):
        h.transform_variables(s.X)
    # elementwise transforms skip the targets
    h = _handler("U")
    h.fit(s)
    np.testing.assert_array_equal(h.transform_variables(s.X), h.transform(s).X)


@pytest.mark.parametrize("spec", ["N", "U(_T_)", "G(_T_)", "P(_T_)", "N,G(_T_)", "U,P(_T_)"])
def test_inverse_targets_after_forward_is_identity(spec: str) -> None:
    s = _sample(seed=3)
    h = _handler(spec, ["Regression"])
    s = s.replace(class_id=np.zeros(len(s), np.int32))
    h.fit(s)
    assert h.transforms_targets
    fwd = h.transform(s).targets
    back = h.inverse_targets(fwd)
    T = s.targets
    span = np.ptp(T, axis=0)
    ok = np.abs(back - T) <= 1e-4 * np.abs(T) + 1e-4 * span
    if "G" in spec or "U" in spec:
        # the largest values of a target (upper half of the last bin of its cumulative histogram) are
        # clipped by the forward transform, in TMVA as here: at most Σw/4000 of the events
        assert (~ok).sum(axis=0).max() <= len(T) / 4000 * 1.6 + 1
        for j in range(T.shape[1]):
            if not ok[:, j].all():
                assert T[~ok[:, j], j].min() >= np.quantile(T[:, j], 0.999)
    else:
        assert ok.all()


def test_inverse_targets_without_target_transform_is_identity() -> None:
    h = _handler("D,G")
    h.fit(_sample())
    T = np.arange(10, dtype=np.float32).reshape(5, 2)
    np.testing.assert_array_equal(h.inverse_targets(T), T)


def test_decorrelate_on_targets_has_no_inverse() -> None:
    s = _sample()
    d = Decorrelate([InputRef("t", 0), InputRef("t", 1)], n_classes=1)
    d.fit(s.targets, s.weights, np.zeros(len(s), np.int32))
    h = TransformationHandler([d], variables=VARS, targets=TGTS, class_names=["Regression"])
    with pytest.raises(ModelError, match="Decorrelate has no inverse"):
        h.inverse_targets(s.targets)


def test_not_fitted() -> None:
    h = _handler("N")
    with pytest.raises(NotTrainedError, match="'N' have not been fitted"):
        h.transform(_sample())
    with pytest.raises(NotTrainedError, match="'N' have not been fitted"):
        h.transform_variables(np.zeros((2, 3), np.float32))
    with pytest.raises(NotTrainedError, match="'N' have not been fitted"):
        h.to_xml()
    assert _handler("None").transform_variables(np.ones((2, 3))).dtype == np.float32


def test_statistics_table(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="pymva")
    s = _sample()
    h = _handler("N", method_title="PyTorch")
    h.fit(s)
    rows = h.training_statistics_
    assert [r.label for r in rows] == ["var0", "var1", "var2", "t0", "t1"]
    assert [r.kind for r in rows] == ["variable"] * 3 + ["target"] * 2
    out = h.transform(s)
    w = s.weights.astype(np.float64)
    x = out.X[:, 1].astype(np.float64)
    mean = float(w @ x / w.sum())
    assert rows[1].mean == pytest.approx(mean, rel=1e-9)
    assert rows[1].rms == pytest.approx(float(np.sqrt(w @ (x - mean) ** 2 / w.sum())), rel=1e-9)
    assert (rows[1].min, rows[1].max) == (-1.0, 1.0)
    assert h.statistics(s) == rows
    assert h.statistics(s, class_index=0) != rows
    assert "Variable        Mean        RMS   [        Min        Max ]" in caplog.text
    assert "    var1:" in caplog.text
    assert "[    -1.0000     1.0000 ]" in caplog.text
    assert any(r.name == "pymva.transforms" and "TFHandler_PyTorch" in str(getattr(r, "tmva_source", ""))
               for r in caplog.records)  # fmt: skip


def test_format_statistics_layout() -> None:
    rows = [
        VariableStatistics("var1", 0.18169, 1.0193, -3.6568, 4.127),
        VariableStatistics("a_long_label", 0, 0, 0, 0),
    ]
    lines = format_statistics(rows)
    max_l = len("a_long_label")
    assert lines[0].startswith(f"{'Variable':>{max_l}}  ")
    assert lines[1] == "-" * (max_l + 4 * (max_l + 2) + 11)
    assert lines[2] == f"{'var1':>{max_l}}:" + f"{'0.18169':>{max_l + 2}}" + f"{'1.0193':>{max_l + 2}}" + "   [" + \
        f"{'-3.6568':>{max_l + 2}}" + f"{'4.1270':>{max_l + 2}}" + " ]"  # fmt: skip
    short = format_statistics([VariableStatistics("var1", 0.18169, 1.0193, -3.6568, 4.127)])
    assert short[0] == "Variable        Mean        RMS   [        Min        Max ]"
    assert short[2] == "    var1:    0.18169     1.0193   [    -3.6568     4.1270 ]"


def test_zero_rms_warns(caplog: pytest.LogCaptureFixture) -> None:
    s = _sample()
    s = s.replace(X=np.column_stack([s.X[:, :2], np.full(len(s), 4.0, np.float32)]))
    h = _handler("D(var0,var1)")
    h.fit(s)
    assert 'Variable "var2" has zero, negative, or NaN RMS^2' in caplog.text
    assert h.training_statistics_[2].rms == 0.0


def test_from_xml_errors() -> None:
    s = _sample()
    h = _handler("N")
    h.fit(s)
    root = h.to_xml()
    bad = ET.fromstring(ET.tostring(root))
    bad.find("Transform").set("Name", "Rearrange")  # type: ignore[union-attr]
    with pytest.raises(ModelError, match="'Rearrange' unknown"):
        TransformationHandler.from_xml(bad, variables=VARS, targets=TGTS, class_names=CLASSES)
    with pytest.raises(ModelError, match="not declared"):
        TransformationHandler.from_xml(root, variables=VARS[:2], targets=TGTS, class_names=CLASSES)
    with pytest.raises(ModelError, match="parameter sets"):
        TransformationHandler.from_xml(root, variables=VARS, targets=TGTS, class_names=["A", "B", "C"])
    ref = ET.fromstring(ET.tostring(root))
    ref.find("Transform").set("ReferenceClass", "Nope")  # type: ignore[union-attr]
    with pytest.raises(ModelError, match="reference class 'Nope'"):
        TransformationHandler.from_xml(ref, variables=VARS, targets=TGTS, class_names=CLASSES)


def test_large_sample_fit_is_vectorised() -> None:
    # 200k x 10 in well under a second per transform (the benchmark covers 1M x 20)
    rng = np.random.default_rng(0)
    n = 200_000
    s = Sample(
        X=rng.normal(size=(n, 10)).astype(np.float32),
        targets=np.zeros((n, 0), np.float32),
        spectators=np.zeros((n, 0), np.float32),
        weights=np.ones(n, np.float32),
        class_id=(rng.random(n) < 0.5).astype(np.int32),
    )
    infos = [VariableInfo(f"v{i}", f"v{i}", f"v{i}") for i in range(10)]
    import time

    h = TransformationHandler.parse("D,G", variables=infos, class_names=CLASSES)
    t0 = time.perf_counter()
    h.fit(s)
    h.transform(s)
    assert time.perf_counter() - t0 < 10.0
