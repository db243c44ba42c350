"""The weights file (core.md §7): TMVA's schema, atomic writing, safe parsing, round trip.

A small deterministic test-only method (``ToyMethod``, a weighted least-squares linear model) is
registered under ``Types.kHMatrix`` for the duration of each test, so that these tests depend on no
real method being present.  ``tests/test_reader.py`` uses it too.
"""

from __future__ import annotations

import datetime
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pymva.errors import ModelError
from pymva.io.weights import (
    ROOT_RELEASE,
    TMVA_RELEASE,
    load_method,
    parse_weights_xml,
    read_weights_file,
    write_weights_file,
)
from pymva.methods.base import BaseMethodOptions
from pymva.types import EAnalysisType

# ---------------------------------------------------------------------------------------------- toy method
from toymethod import ToyMethod, ToyOptions, canonical, make_context, make_sample, toy, trained_toy, write_toy

__all__ = ["toy"]  # the fixture, imported so that pytest finds it here


def test_schema_element_order_and_attributes(tmp_path: Path, toy: type[ToyMethod]) -> None:
    method = trained_toy(tmp_path)
    path = write_toy(tmp_path, method)
    assert path == tmp_path / "dataset" / "weights" / "TMVAClassification_Toy.weights.xml"
    text = path.read_text()
    assert text.startswith('<?xml version="1.0"?>\n<MethodSetup Method="HMatrix::Toy">\n  <GeneralInfo>\n')
    assert "<!DOCTYPE" not in text
    root = ET.fromstring(text)
    assert [c.tag for c in root] == [
        "GeneralInfo",
        "Options",
        "Variables",
        "Spectators",
        "Classes",
        "Transformations",
        "MVAPdfs",
        "Weights",
    ]
    info = root.find("GeneralInfo")
    assert info is not None
    assert [i.get("name") for i in info] == [
        "TMVA Release",
        "ROOT Release",
        "Creator",
        "Date",
        "Host",
        "Dir",
        "Training events",
        "TrainingTime",
        "AnalysisType",
    ]
    values = {i.get("name"): i.get("value") for i in info}
    assert values["TMVA Release"] == TMVA_RELEASE == "4.2.1 [262657]"
    assert values["ROOT Release"] == ROOT_RELEASE
    assert re.fullmatch(r"pymva \S+ \[401408\]", ROOT_RELEASE)
    assert values["Training events"] == "400"
    assert values["TrainingTime"] == "1.50000000e+00"
    assert values["AnalysisType"] == "Classification"
    assert values["Dir"] == os.getcwd()
    assert re.fullmatch(
        r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \d{4}", values["Date"] or ""
    )
    for item in info:
        assert list(item.attrib) == ["name", "value"]


def test_options_text_formats_and_modified_flags(tmp_path: Path, toy: type[ToyMethod]) -> None:
    method = trained_toy(tmp_path, NumIter=7)
    root = ET.parse(write_toy(tmp_path, method)).getroot()
    opts = root.find("Options")
    assert opts is not None
    names = [o.get("name") for o in opts]
    # base options first, in declaration order, then the method's own
    base_names = [d.name for d in BaseMethodOptions.declarations()]
    assert names[: len(base_names)] == base_names
    assert names[len(base_names) :] == ["Scale", "NumIter", "Mode", "Offsets", "UseBias", "Note"]
    by_name = {o.get("name"): o for o in opts}
    expected = {
        "V": ("False", "No"),
        "VarTransform": ("None", "No"),
        "NbinsMVAPdf": ("60", "No"),
        "Scale": ("7.500000e-01", "Yes"),
        "NumIter": ("7", "Yes"),
        "Mode": ("Linear", "No"),
        "Offsets": ("0.000000e+00 2.500000e+00 0.000000e+00", "Yes"),
        "UseBias": ("False", "Yes"),
        "Note": ("some text", "Yes"),
    }
    for name, (text, modified) in expected.items():
        assert by_name[name].text == text, name
        assert by_name[name].get("modified") == modified, name
    assert list(by_name["Offsets"].attrib) == ["name", "size", "modified"]
    assert by_name["Offsets"].get("size") == "3"
    assert list(by_name["Scale"].attrib) == ["name", "modified"]


def test_variables_spectators_classes(tmp_path: Path, toy: type[ToyMethod]) -> None:
    method = trained_toy(tmp_path)
    root = ET.parse(write_toy(tmp_path, method)).getroot()
    variables = root.find("Variables")
    assert variables is not None
    assert variables.get("NVar") == "3"
    first = variables[0]
    assert first.tag == "Variable"
    assert list(first.attrib) == [
        "VarIndex",
        "Expression",
        "Label",
        "Title",
        "Unit",
        "Internal",
        "Type",
        "Min",
        "Max",
    ]
    vi = method.context.variables[0]
    assert first.get("Min") == f"{vi.min:.8e}"
    assert re.fullmatch(r"-?\d\.\d{8}e[+-]\d\d", first.get("Max") or "")
    assert first.get("Unit") == "GeV"
    assert first.get("Title") == "var1 title"
    assert first.get("Type") == "F"
    specs = root.find("Spectators")
    assert specs is not None
    assert specs.get("NSpec") == "1"
    assert specs[0].tag == "Spectator"
    assert specs[0].get("SpecIndex") == "0"
    assert specs[0].get("Expression") == "spec1*2"
    classes = root.find("Classes")
    assert classes is not None
    assert classes.get("NClass") == "2"
    assert [(c.get("Name"), c.get("Index")) for c in classes] == [("Signal", "0"), ("Background", "1")]
    assert root.find("Targets") is None


def test_regression_has_targets_before_transformations(tmp_path: Path, toy: type[ToyMethod]) -> None:
    method = trained_toy(tmp_path, EAnalysisType.kRegression, options="", n_targets=2)
    root = ET.parse(write_toy(tmp_path, method)).getroot()
    tags = [c.tag for c in root]
    assert tags.index("Classes") + 1 == tags.index("Targets") == tags.index("Transformations") - 1
    targets = root.find("Targets")
    assert targets is not None
    assert targets.get("NTrgt") == "2"
    assert [t.get("TargetIndex") for t in targets] == ["0", "1"]
    gi = root.find("GeneralInfo")
    assert gi is not None
    assert {i.get("name"): i.get("value") for i in gi}["AnalysisType"] == "Regression"


def test_no_weights_element_when_method_stores_nothing(tmp_path: Path, toy: type[ToyMethod]) -> None:
    """MethodPyTorch writes nothing into <Weights>: TMVA then has no such element at all."""
    method = trained_toy(tmp_path)
    method.add_weights_xml = lambda parent: None  # type: ignore[method-assign]
    root = ET.parse(write_toy(tmp_path, method)).getroot()
    assert root.find("Weights") is None
    assert root[-1].tag == "MVAPdfs"


def test_defaults_from_method_and_date(tmp_path: Path, toy: type[ToyMethod]) -> None:
    method = trained_toy(tmp_path)
    date = datetime.datetime(2024, 3, 5, 7, 8, 9)
    path = write_weights_file(method, creator="alice", date=date)
    assert path == method.context.weight_dir / "TMVAClassification_Toy.weights.xml"
    content = read_weights_file(path)
    assert content.general_info["Creator"] == "alice"
    assert content.general_info["Date"] == "Tue Mar 05 07:08:09 2024"
    assert content.general_info["Training events"] == "400"
    assert float(content.general_info["TrainingTime"]) == pytest.approx(method.training_time_, rel=1e-7)


# ---------------------------------------------------------------------------------------------- atomic write


def test_failing_build_leaves_previous_file(
    tmp_path: Path, toy: type[ToyMethod], monkeypatch: pytest.MonkeyPatch
) -> None:
    method = trained_toy(tmp_path)
    path = write_toy(tmp_path, method)
    before = path.read_bytes()

    def boom(self: ToyMethod, parent: ET.Element) -> None:
        parent.set("partial", "yes")
        raise RuntimeError("disk of weights exploded")

    monkeypatch.setattr(ToyMethod, "add_weights_xml", boom)
    with pytest.raises(ModelError, match="disk of weights exploded") as err:
        write_toy(tmp_path, method)
    assert str(path) in str(err.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_failing_rename_leaves_previous_file(
    tmp_path: Path, toy: type[ToyMethod], monkeypatch: pytest.MonkeyPatch
) -> None:
    method = trained_toy(tmp_path)
    path = write_toy(tmp_path, method)
    before = path.read_bytes()

    def no_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_replace)
    with pytest.raises(ModelError, match="No space left"):
        write_toy(tmp_path, trained_toy(tmp_path, options="Scale=2"))
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_interrupt_during_write_leaves_no_temp(
    tmp_path: Path, toy: type[ToyMethod], monkeypatch: pytest.MonkeyPatch
) -> None:
    method = trained_toy(tmp_path)
    path = write_toy(tmp_path, method)
    before = path.read_bytes()

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_toy(tmp_path, method)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_new_file_gets_umask_permissions(tmp_path: Path, toy: type[ToyMethod]) -> None:
    path = write_toy(tmp_path, trained_toy(tmp_path))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize(
    ("analysis", "n_classes", "n_targets"),
    [
        (EAnalysisType.kClassification, 2, 1),
        (EAnalysisType.kMulticlass, 4, 1),
        (EAnalysisType.kRegression, 1, 2),
    ],
)
def test_round_trip(
    tmp_path: Path, toy: type[ToyMethod], analysis: EAnalysisType, n_classes: int, n_targets: int
) -> None:
    method = trained_toy(
        tmp_path,
        analysis,
        options="Scale=0.75:Mode=Square:Offsets[2]=-1",
        n_classes=n_classes,
        n_targets=n_targets,
    )
    path = write_toy(tmp_path, method)
    content = read_weights_file(path)
    assert content.method_type == "HMatrix"
    assert content.title == "Toy"
    assert content.method_name == "HMatrix::Toy"
    assert content.analysis_type == analysis
    assert content.class_names == method.context.class_names
    for mine, theirs in (
        (method.context.variables, content.variables),
        (method.context.spectators, content.spectators),
        (method.context.targets if analysis == EAnalysisType.kRegression else (), content.targets),
    ):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs, strict=True):
            assert (a.expression, a.label, a.internal_name, a.title, a.unit, a.type, a.kind) == (
                b.expression,
                b.label,
                b.internal_name,
                b.title,
                b.unit,
                b.type,
                b.kind,
            )
            # float32 ranges survive %.8e exactly
            assert np.float32(b.min) == np.float32(a.min)
            assert np.float32(b.max) == np.float32(a.max)
    assert content.transformations is not None
    assert canonical(content.transformations) == canonical(method.transformations.to_xml())

    again = load_method(path)
    assert type(again) is ToyMethod
    assert again.title == "Toy"
    assert again.method_name == "HMatrix::Toy"
    assert again.options == method.options
    assert again.options.modified_options == method.options.modified_options
    assert again.context.job_name == "TMVAClassification"
    assert again.context.dataset_name == "dataset"
    assert again.context.weight_dir == path.parent
    assert again.context.analysis_type == analysis
    assert again.n_training_events_ == 400
    X = make_sample(analysis, n=50, seed=9, n_classes=n_classes, n_targets=n_targets).X
    np.testing.assert_array_equal(again.evaluate(X), method.evaluate(X))
    np.testing.assert_array_equal(again.mva_value(X), method.mva_value(X))
    # writing the re-created method gives the same document (apart from date, dir and host)
    again_path = write_weights_file(
        again, tmp_path / "again.weights.xml", training_events=400, training_time=1.5
    )

    def stable(p: Path) -> str:
        r = ET.parse(p).getroot()
        gi = r.find("GeneralInfo")
        assert gi is not None
        r.remove(gi)
        return ET.tostring(r, encoding="unicode")

    assert stable(again_path) == stable(path)


@pytest.mark.parametrize("spec", ["N", "D", "P", "G", "U", "D,G", "N_Signal"])
def test_round_trip_with_transformations(tmp_path: Path, toy: type[ToyMethod], spec: str) -> None:
    method = trained_toy(tmp_path, options=f"VarTransform={spec}")
    path = write_toy(tmp_path, method)
    content = read_weights_file(path)
    assert content.transformations is not None
    assert canonical(content.transformations) == canonical(method.transformations.to_xml())
    again = load_method(path)
    assert not again.transformations.is_identity
    assert again.transformations.short_name == method.transformations.short_name
    X = make_sample(EAnalysisType.kClassification, n=50, seed=9).X
    np.testing.assert_array_equal(again.evaluate(X), method.evaluate(X))
    # the transforms are applied: the outputs differ from the same coefficients on raw inputs
    assert not np.allclose(again.raw_outputs(X), again._predict(X))


def test_load_method_arguments(tmp_path: Path, toy: type[ToyMethod]) -> None:
    path = write_toy(tmp_path, trained_toy(tmp_path))
    m = load_method(path, job_name="MyJob", weight_dir=tmp_path / "elsewhere", dataset_name="loader")
    assert m.context.job_name == "MyJob"
    assert m.context.weight_dir == tmp_path / "elsewhere"
    assert m.context.dataset_name == "loader"


def test_reads_tmva_style_file(tmp_path: Path, toy: type[ToyMethod]) -> None:
    """A file laid out as ROOT writes it (compact empty elements, classes only counted)."""
    text = """<?xml version="1.0"?>
<MethodSetup Method="HMatrix::FromROOT">
  <GeneralInfo>
    <Info name="TMVA Release" value="4.2.1 [262657]"/>
    <Info name="ROOT Release" value="6.30/04 [400900]"/>
    <Info name="AnalysisType" value="Classification"/>
  </GeneralInfo>
  <Options>
    <Option name="H" modified="Yes">True</Option>
    <Option name="Scale" modified="Yes">2.000000e+00</Option>
    <Option name="offsets" size="3" modified="No">1.0000000000000000e+00 0 0</Option>
  </Options>
  <Variables NVar="1">
    <Variable VarIndex="0" Expression="x&lt;1&amp;&amp;y" Label="x" Title="x" Unit="" Internal="x" Type="F" Min="-1.00000000e+00" Max="1.00000000e+00"/>
  </Variables>
  <Spectators NSpec="0"/>
  <Classes NClass="2"/>
  <Transformations NTransformations="0"/>
  <MVAPdfs/>
  <Weights NRows="2" NCols="2"><Row>1 -1</Row><Row>0 0</Row></Weights>
</MethodSetup>
"""
    p = tmp_path / "TMVAClassification_FromROOT.weights.xml"
    p.write_text(text)
    c = read_weights_file(p)
    assert c.class_names == ("class0", "class1")
    assert c.variables[0].expression == "x<1&&y"
    assert c.modified == {"H", "Scale"}
    m = load_method(p)
    assert isinstance(m.options, ToyOptions)
    assert m.options.H is True
    assert m.options.Scale == 2.0
    assert m.options.Offsets == (1.0, 0.0, 0.0)
    assert m.options.modified_options == {"H", "Scale"}
    assert m.context.job_name == "TMVAClassification"
    np.testing.assert_allclose(m.evaluate(np.array([[3.0]], np.float32)), [6.0])


# ---------------------------------------------------------------------------------------------- bad files


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<MethodSetup Method="HMatrix::Toy"><GeneralInfo><Info name="Creator" value="&lol9;"/></GeneralInfo></MethodSetup>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<MethodSetup Method="HMatrix::Toy"><GeneralInfo><Info name="Creator" value="&xxe;"/></GeneralInfo></MethodSetup>
"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE MethodSetup SYSTEM "http://example.invalid/evil.dtd">
<MethodSetup Method="HMatrix::Toy"/>
"""


@pytest.mark.parametrize(
    "text", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD], ids=["laughs", "xxe", "dtd"]
)
def test_entity_declarations_are_refused(tmp_path: Path, toy: type[ToyMethod], text: str) -> None:
    p = tmp_path / "evil.weights.xml"
    p.write_text(text)
    with pytest.raises(ModelError, match="DOCTYPE") as err:
        read_weights_file(p)
    assert str(p) in str(err.value)
    with pytest.raises(ModelError, match="DOCTYPE"):
        load_method(p)


def test_undefined_entity_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "x.weights.xml"
    p.write_text(
        '<MethodSetup Method="HMatrix::Toy"><GeneralInfo><Info name="a" value="&xxe;"/></GeneralInfo></MethodSetup>'
    )
    with pytest.raises(ModelError, match=r"not well-formed XML: undefined entity \(line 1"):
        read_weights_file(p)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<MethodSetup Method='HMatrix::Toy'><Options>", "not well-formed XML"),
        ("", "not well-formed XML"),
        ("<Something/>", "is not a TMVA weights file"),
        ("<MethodSetup Method='NoColons'/>", "is not a TMVA weights file"),
        (
            (
                "<MethodSetup Method='HMatrix::Toy'><GeneralInfo><Info name='AnalysisType' value='Clustering'/>"
                "</GeneralInfo></MethodSetup>"
            ),
            "Analysis type 'Clustering' is not known",
        ),
        (
            (
                "<MethodSetup Method='HMatrix::Toy'><Variables NVar='2'><Variable VarIndex='0' Expression='a'/>"
                "</Variables></MethodSetup>"
            ),
            'NVar="2"> holds 1 <Variable>',
        ),
        (
            (
                "<MethodSetup Method='HMatrix::Toy'><Variables NVar='1'><Variable VarIndex='0' Expression='a' "
                "Min='abc'/></Variables></MethodSetup>"
            ),
            "malformed <Variable>",
        ),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "bad.weights.xml"
    p.write_text(text)
    with pytest.raises(ModelError, match=re.escape(message)) as err:
        read_weights_file(p)
    assert str(p) in str(err.value)


def test_missing_file_suggests_neighbours(tmp_path: Path, toy: type[ToyMethod]) -> None:
    path = write_toy(tmp_path, trained_toy(tmp_path))
    with pytest.raises(ModelError, match="unable to open input weight file") as err:
        read_weights_file(path.parent / "TMVAClassification_Tox.weights.xml")
    assert "did you mean" in str(err.value)
    assert path.name in str(err.value)
    with pytest.raises(ModelError, match="does not exist"):
        read_weights_file(tmp_path / "nowhere" / "x.weights.xml")


def test_unknown_stored_option_is_a_clear_error(tmp_path: Path, toy: type[ToyMethod]) -> None:
    path = write_toy(tmp_path, trained_toy(tmp_path))
    path.write_text(path.read_text().replace('name="Scale"', 'name="Scal"'))
    with pytest.raises(ModelError, match=r"does not declare: 'Scal'.*did you mean 'Scale'") as err:
        load_method(path)
    assert str(path) in str(err.value)


def test_bad_stored_option_value(tmp_path: Path, toy: type[ToyMethod]) -> None:
    path = write_toy(tmp_path, trained_toy(tmp_path))
    path.write_text(path.read_text().replace(">Linear<", ">Cubic<"))
    with pytest.raises(ModelError, match=r"cannot be read back.*Mode"):
        load_method(path)
    text = path.read_text().replace(">Cubic<", ">Linear<")
    path.write_text(re.sub(r'(name="Offsets" size="3" modified="\w+">)', r"\g<1>1 ", text))
    with pytest.raises(ModelError, match="array option Offsets holds 4 values"):
        load_method(path)


def test_unknown_method_type(tmp_path: Path) -> None:
    p = tmp_path / "x.weights.xml"
    p.write_text('<MethodSetup Method="CFMlpANN::C"/>')
    with pytest.raises(ModelError, match="CFMlpANN") as err:
        load_method(p)
    assert str(p) in str(err.value)


def test_parse_from_string(toy: type[ToyMethod], tmp_path: Path) -> None:
    text = write_toy(tmp_path, trained_toy(tmp_path)).read_text()
    c = parse_weights_xml(text)
    assert c.source == "<string>"
    assert c.title == "Toy"


def test_empty_elements_closed_as_root_does(tmp_path: Path, toy: type[ToyMethod]) -> None:
    text = write_toy(tmp_path, trained_toy(tmp_path)).read_text()
    assert '<Transformations NTransformations="0"/>' in text
    assert "  <MVAPdfs/>\n" in text
    assert " />" not in text


def test_registered_fisher_round_trip(tmp_path: Path) -> None:
    """A real registered method: Fisher re-created from its file gives identical responses."""
    from pymva.methods.registry import get_method_class

    sample = make_sample(EAnalysisType.kClassification, n=500)
    ctx = make_context(EAnalysisType.kClassification, sample, tmp_path / "dataset" / "weights")
    fisher = get_method_class("Fisher")("Fisher", ctx, "!H:!V")
    fisher.train(sample)
    path = write_weights_file(fisher)
    assert path.name == "TMVAClassification_Fisher.weights.xml"
    again = load_method(path)
    assert type(again) is type(fisher)
    assert again.options == fisher.options
    X = make_sample(EAnalysisType.kClassification, n=100, seed=3).X
    np.testing.assert_array_equal(again.mva_value(X), fisher.mva_value(X))
