"""TMVA weights files: write a trained method to XML, read it back, re-create the method.

The file is ``<loader>/weights/<JobName>_<Title>.weights.xml`` in TMVA's schema
(``../shared/tmva/core.md`` §7)::

    <?xml version="1.0"?>
    <MethodSetup Method="PyTorch::PyTorch">
      <GeneralInfo>      <Info name="TMVA Release" value="..."/> … <Info name="AnalysisType" …/>
      <Options>          <Option name="V" modified="No">False</Option> …
      <Variables NVar="4">   <Variable VarIndex="0" Expression Label Title Unit Internal Type Min Max/> …
      <Spectators NSpec="0"/>
      <Classes NClass="2">   <Class Name="Signal" Index="0"/> …
      <Targets NTrgt="1">    (regression only)
      <Transformations NTransformations="…">   (the method's VarTransform chain, with its parameters)
      <MVAPdfs/>
      <Weights …>        (method-specific; left out when the method stores nothing, as MethodPyTorch)
    </MethodSetup>

* :func:`write_weights_file` writes it **atomically**: the whole document is built in memory, written to a
  temporary file in the target directory and renamed over the target, so an error or an interrupt never
  leaves a truncated file in place of a good one.
* :func:`read_weights_file` parses it into a :class:`WeightsFileContent` **without expanding XML
  entities**: any ``<!DOCTYPE`` (hence any entity declaration) is refused, so "billion laughs" and
  external-entity files cannot do harm.  TMVA never writes a DOCTYPE.
* :func:`load_method` re-creates the method from a file: the method class from the ``Method``
  attribute, the options parsed back through the method's own option declarations, the fitted
  ``Transformations`` chain, then the method's ``<Weights>``.  This is what the Factory does before
  testing (``ModelPersistence``) and what :class:`~pymva.reader.Reader` does in ``BookMVA``.

Two values of ``GeneralInfo`` are pymva's choice: ``TMVA Release`` is ``"4.2.1 [262657]"``, the TMVA
release whose behaviour pymva reproduces, and ``ROOT Release`` is ``"pymva <version> [401408]"``.  TMVA
reads the integer in brackets as a version code and switches to backward-compatibility code paths for
old codes, so the brackets hold real codes (TMVA 4.2.1 and ROOT 6.32/00) while the text says which
program wrote the file.
"""

from __future__ import annotations

import contextlib
import datetime
import getpass
import os
import platform
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.parsers import expat

from .._version import __version__
from ..data.dataset import VariableInfo
from ..errors import ModelError, OptionError, PyMVAError, closest
from ..options import format_option_value
from ..safety import write_bytes_atomically
from ..types import EAnalysisType

if TYPE_CHECKING:
    from ..methods.base import MethodBase

__all__ = [
    "ROOT_RELEASE",
    "TMVA_RELEASE",
    "WeightsFileContent",
    "build_weights_xml",
    "load_method",
    "method_from_content",
    "parse_weights_xml",
    "read_weights_file",
    "weights_file_path",
    "weights_xml_bytes",
    "write_weights_file",
]

#: ``TMVA Release`` written into ``GeneralInfo``: TMVA 4.2.1, code ``(4 << 16) + (2 << 8) + 1``.
TMVA_RELEASE = "4.2.1 [262657]"
#: ``ROOT Release`` written into ``GeneralInfo``: the writer's name and ROOT 6.32/00's version code.
ROOT_RELEASE = f"pymva {__version__} [401408]"

_ANALYSIS_NAMES = {
    EAnalysisType.kClassification: "Classification",
    EAnalysisType.kRegression: "Regression",
    EAnalysisType.kMulticlass: "Multiclass",
}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---------------------------------------------------------------------------------------------- writing
def weights_file_path(weight_dir: str | os.PathLike[str], job_name: str, title: str) -> Path:
    """``<weight_dir>/<job_name>_<title>.weights.xml``, TMVA's weights-file name."""
    return Path(weight_dir) / f"{job_name}_{title}.weights.xml"


def _double(value: float) -> str:
    """TMVA's ``Tools::StringFromDouble`` (``%5.8e``): exact for float32 values."""
    return f"{float(value):5.8e}"


def _tdatime(now: datetime.datetime) -> str:
    """ROOT's ``TDatime::AsString`` layout, ``Thu Nov 21 02:10:00 2024``, independent of the locale."""
    return (
        f"{_DAYS[now.weekday()]} {_MONTHS[now.month - 1]} {now.day:02d} "
        f"{now.hour:02d}:{now.minute:02d}:{now.second:02d} {now.year:4d}"
    )


def _creator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no user name here (a container without a passwd entry)
        return "unknown"


def _add_variable_xml(parent: ET.Element, tag: str, index_name: str, index: int, vi: VariableInfo) -> None:
    ET.SubElement(
        parent,
        tag,
        {
            index_name: str(index),
            "Expression": vi.expression,
            "Label": vi.label,
            "Title": vi.title,
            "Unit": vi.unit,
            "Internal": vi.internal_name,
            "Type": vi.type,
            "Min": _double(vi.min),
            "Max": _double(vi.max),
        },
    )


def build_weights_xml(
    method: MethodBase,
    *,
    training_events: int | None = None,
    training_time: float | None = None,
    creator: str | None = None,
    date: datetime.datetime | None = None,
) -> ET.Element:
    """Build the ``<MethodSetup>`` element of a trained method.

    Parameters
    ----------
    method : MethodBase
        A trained method (or one read from a weights file).
    training_events : int, optional
        ``Training events``; default ``method.n_training_events_`` (0 if unknown).
    training_time : float, optional
        ``TrainingTime`` in seconds; default ``method.training_time_`` (0 if unknown).
    creator : str, optional
        ``Creator``; default the login name (``"unknown"`` when there is none).
    date : datetime, optional
        ``Date``; default now.

    Returns
    -------
    xml.etree.ElementTree.Element
        The root element, children in TMVA's order.

    Raises
    ------
    ModelError
        When the method's analysis type cannot be written or its own XML fails.
    """
    ctx = method.context
    at = ctx.analysis_type
    if at not in _ANALYSIS_NAMES:
        raise ModelError(
            f"method {method.method_name}: analysis type {at!r} cannot be written to a weights file"
        )
    n_train = training_events if training_events is not None else (method.n_training_events_ or 0)
    t_train = training_time if training_time is not None else (method.training_time_ or 0.0)

    root = ET.Element("MethodSetup", {"Method": method.method_name})
    gi = ET.SubElement(root, "GeneralInfo")
    info = [
        ("TMVA Release", TMVA_RELEASE),
        ("ROOT Release", ROOT_RELEASE),
        ("Creator", creator if creator is not None else _creator()),
        ("Date", _tdatime(date or datetime.datetime.now())),
        ("Host", platform.platform()),
        ("Dir", os.getcwd()),
        ("Training events", str(int(n_train))),
        ("TrainingTime", _double(t_train)),
        ("AnalysisType", _ANALYSIS_NAMES[at]),
    ]
    for name, value in info:
        ET.SubElement(gi, "Info", {"name": name, "value": value})

    opts = ET.SubElement(root, "Options")
    modified = method.options.modified_options
    written = getattr(method, "written_options", None)  # a method that writes only some (Likelihood)
    for decl, value in method.options.items():
        if written is not None and decl.name not in written:
            continue
        attrs = {"name": decl.name}
        if decl.size is not None:
            attrs["size"] = str(decl.size)
        attrs["modified"] = "Yes" if decl.name in modified else "No"
        ET.SubElement(opts, "Option", attrs).text = format_option_value(decl, value)

    variables = ET.SubElement(root, "Variables", {"NVar": str(len(ctx.variables))})
    for i, vi in enumerate(ctx.variables):
        _add_variable_xml(variables, "Variable", "VarIndex", i, vi)
    spectators = ET.SubElement(root, "Spectators", {"NSpec": str(len(ctx.spectators))})
    for i, vi in enumerate(ctx.spectators):
        _add_variable_xml(spectators, "Spectator", "SpecIndex", i, vi)
    classes = ET.SubElement(root, "Classes", {"NClass": str(len(ctx.class_names))})
    for i, name in enumerate(ctx.class_names):
        ET.SubElement(classes, "Class", {"Name": name, "Index": str(i)})
    if at == EAnalysisType.kRegression:
        targets = ET.SubElement(root, "Targets", {"NTrgt": str(len(ctx.targets))})
        for i, vi in enumerate(ctx.targets):
            _add_variable_xml(targets, "Target", "TargetIndex", i, vi)

    trafo = method.transformations.to_xml()
    if trafo.tag != "Transformations":
        raise ModelError(
            f"method {method.method_name}: the transformation handler wrote <{trafo.tag}>, "
            "expected <Transformations>"
        )
    root.append(trafo)
    ET.SubElement(root, "MVAPdfs")
    weights = ET.Element("Weights")
    method.add_weights_xml(weights)
    if len(weights) or weights.attrib or (weights.text and weights.text.strip()):
        root.append(weights)
    return root


def weights_xml_bytes(root: ET.Element) -> bytes:
    """Serialise a ``<MethodSetup>`` element as TMVA lays files out (2-space indent, XML 1.0 header)."""
    ET.indent(root, space="  ")
    # ElementTree closes empty elements with " />", ROOT's TXMLEngine with "/>"; ">" is escaped inside
    # attribute values and text, so " />" occurs only at the end of tags
    body = ET.tostring(root, encoding="unicode").replace(" />", "/>")
    return ('<?xml version="1.0"?>\n' + body + "\n").encode("utf-8")


def write_weights_file(
    method: MethodBase,
    path: str | os.PathLike[str] | None = None,
    *,
    job_name: str | None = None,
    training_events: int | None = None,
    training_time: float | None = None,
    creator: str | None = None,
    date: datetime.datetime | None = None,
) -> Path:
    """Write a method's weights file atomically.

    Parameters
    ----------
    method : MethodBase
        The trained method.
    path : path-like, optional
        Where to write; default ``<weight_dir>/<job_name>_<title>.weights.xml`` from the method's context.
    job_name : str, optional
        The Factory's job name, for the default path (default: the method's context's).
    training_events, training_time, creator, date
        See :func:`build_weights_xml`.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    ModelError
        When the document cannot be built or the file cannot be written; a previous file at ``path``
        is then left as it was and no temporary file remains.
    """
    if path is None:
        path = weights_file_path(method.context.weight_dir, job_name or method.context.job_name, method.title)
    target = Path(path)
    try:
        data = weights_xml_bytes(
            build_weights_xml(
                method,
                training_events=training_events,
                training_time=training_time,
                creator=creator,
                date=date,
            )
        )
    except PyMVAError:
        raise
    except Exception as exc:
        raise ModelError(f"method {method.method_name}: cannot write weights file '{target}': {exc}") from exc
    _atomic_write(target, data)
    return target


def _atomic_write(target: Path, data: bytes) -> None:
    try:
        write_bytes_atomically(target, data)
    except OSError as exc:
        raise ModelError(f"cannot write weights file '{target}': {exc}") from exc


# ---------------------------------------------------------------------------------------------- reading
@dataclass
class WeightsFileContent:
    """What a weights file holds.

    Attributes
    ----------
    source : str
        The file path (or ``"<string>"`` for XML given in memory), for messages.
    method_type : str
        The type name of the ``Method`` attribute (``"PyTorch"``).
    title : str
        The method title (``Method="<Type>::<Title>"``).
    analysis_type : EAnalysisType
        From ``GeneralInfo``'s ``AnalysisType`` (classification when it is missing, as TMVA assumes).
    general_info : dict of str to str
        Every ``<Info name value>`` of ``GeneralInfo``.
    options : dict of str to str
        Option name (as stored) to its text, in file order.
    modified : frozenset of str
        Names of the options stored with ``modified="Yes"``.
    variables, spectators, targets : tuple of VariableInfo
        With the training ranges (``min``/``max``) stored in the file.
    class_names : tuple of str
        In class-index order.
    transformations : Element or None
        The ``<Transformations>`` element.
    mva_pdfs : Element or None
        The ``<MVAPdfs>`` element.
    weights : Element or None
        The ``<Weights>`` element (``None`` when the method stores nothing, as MethodPyTorch).
    root : Element
        The whole ``<MethodSetup>`` element.
    """

    source: str
    method_type: str
    title: str
    analysis_type: EAnalysisType
    general_info: dict[str, str]
    options: dict[str, str]
    modified: frozenset[str]
    variables: tuple[VariableInfo, ...]
    spectators: tuple[VariableInfo, ...]
    targets: tuple[VariableInfo, ...]
    class_names: tuple[str, ...]
    transformations: ET.Element | None
    mva_pdfs: ET.Element | None
    weights: ET.Element | None
    root: ET.Element = field(repr=False)

    @property
    def method_name(self) -> str:
        """``"<Type>::<Title>"``."""
        return f"{self.method_type}::{self.title}"

    @property
    def has_analysis_type(self) -> bool:
        """Whether ``GeneralInfo`` names the analysis type (``Experimental.RReader`` requires it)."""
        return "AnalysisType" in self.general_info


def _safe_parse(data: bytes, source: str) -> ET.Element:
    """Parse XML with expat into an ElementTree, refusing any DOCTYPE (hence any entity declaration)."""
    parser = expat.ParserCreate()
    builder = ET.TreeBuilder()

    def refuse(*_args: Any) -> None:
        raise ModelError(
            f"weights file '{source}' contains a DOCTYPE or entity declaration (line "
            f"{parser.CurrentLineNumber}); pymva never expands XML entities and refuses such files "
            "(TMVA does not write them): this is not a genuine TMVA weights file"
        )

    def start(tag: str, attrs: dict[str, str]) -> None:
        builder.start(tag, attrs)

    def end(tag: str) -> None:
        builder.end(tag)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
        return builder.close()
    except expat.ExpatError as exc:
        raise ModelError(
            f"weights file '{source}' is not well-formed XML: {expat.ErrorString(exc.code)} "
            f"(line {exc.lineno}, column {exc.offset})"
        ) from None
    except AssertionError:  # TreeBuilder.close() on a document without a root element
        raise ModelError(f"weights file '{source}' contains no XML element") from None


def _read_variables(
    elem: ET.Element | None, tag: str, kind: str, count_attr: str, source: str
) -> tuple[VariableInfo, ...]:
    if elem is None:
        return ()
    out: list[VariableInfo] = []
    for ch in elem:
        if ch.tag != tag:
            continue
        a = ch.attrib
        try:
            expression = a["Expression"]
            vi = VariableInfo(
                expression=expression,
                label=a.get("Label", expression),
                internal_name=a.get("Internal", a.get("Label", expression)),
                title=a.get("Title", ""),
                unit=a.get("Unit", ""),
                type=a.get("Type", "F"),
                min=float(a.get("Min", "0")),
                max=float(a.get("Max", "0")),
                kind=kind,  # type: ignore[arg-type]
            )
        except (KeyError, ValueError) as exc:
            raise ModelError(f"weights file '{source}': malformed <{tag}> element {a}: {exc}") from None
        out.append(vi)
    declared = elem.get(count_attr)
    if declared is not None and declared.strip() != str(len(out)):
        raise ModelError(
            f"weights file '{source}': <{elem.tag} {count_attr}=\"{declared}\"> holds {len(out)} <{tag}> elements"
        )
    return tuple(out)


def parse_weights_xml(data: bytes | str, source: str = "<string>") -> WeightsFileContent:
    """Parse the text of a weights file.

    Parameters
    ----------
    data : bytes or str
        The XML document.
    source : str
        Name used in messages (the file path).

    Returns
    -------
    WeightsFileContent

    Raises
    ------
    ModelError
        When the text is not well-formed XML, contains a DOCTYPE/entity declaration, or is not a TMVA
        weights file.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root = _safe_parse(raw, source)
    if root.tag != "MethodSetup" or "::" not in root.get("Method", ""):
        raise ModelError(
            f"'{source}' is not a TMVA weights file: the root element is <{root.tag}"
            f"{' Method=' + repr(root.get('Method')) if root.get('Method') is not None else ''}>, "
            'expected <MethodSetup Method="<Type>::<Title>">'
        )
    full = root.get("Method", "")
    mtype, _, title = full.partition("::")
    mtype = mtype.strip().rsplit(" ", 1)[-1]

    general_info: dict[str, str] = {}
    gi = root.find("GeneralInfo")
    if gi is not None:
        for item in gi:
            if item.tag == "Info" and "name" in item.attrib:
                general_info[item.attrib["name"]] = item.get("value", "")
    at_text = general_info.get("AnalysisType", "Classification").strip().lower()
    at_map = {
        "classification": EAnalysisType.kClassification,
        "regression": EAnalysisType.kRegression,
        "multiclass": EAnalysisType.kMulticlass,
    }
    if at_text not in at_map:
        raise ModelError(
            f"weights file '{source}': Analysis type {general_info['AnalysisType']!r} is not known "
            "(expected Classification, Regression or Multiclass)"
        )

    options: dict[str, str] = {}
    modified: set[str] = set()
    opts = root.find("Options")
    if opts is not None:
        for o in opts:
            if o.tag != "Option" or "name" not in o.attrib:
                continue
            name = o.attrib["name"]
            options[name] = o.text or ""
            if o.get("modified", "No").strip().lower() == "yes":
                modified.add(name)

    class_names: list[str] = []
    cls_elem = root.find("Classes")
    if cls_elem is not None:
        entries = [c for c in cls_elem if c.tag == "Class"]
        if entries:
            try:
                entries.sort(key=lambda c: int(c.get("Index", "0")))
            except ValueError:
                raise ModelError(f"weights file '{source}': a <Class> has a non-integer Index") from None
            class_names = [c.get("Name", f"class{i}") for i, c in enumerate(entries)]
        else:  # TMVA: NClass without children means classes named class0, class1, …
            try:
                n = int(cls_elem.get("NClass", "0"))
            except ValueError:
                raise ModelError(f"weights file '{source}': <Classes NClass> is not an integer") from None
            class_names = [f"class{i}" for i in range(n)]

    return WeightsFileContent(
        source=source,
        method_type=mtype,
        title=title,
        analysis_type=at_map[at_text],
        general_info=general_info,
        options=options,
        modified=frozenset(modified),
        variables=_read_variables(root.find("Variables"), "Variable", "variable", "NVar", source),
        spectators=_read_variables(root.find("Spectators"), "Spectator", "spectator", "NSpec", source),
        targets=_read_variables(root.find("Targets"), "Target", "target", "NTrgt", source),
        class_names=tuple(class_names),
        transformations=root.find("Transformations"),
        mva_pdfs=root.find("MVAPdfs"),
        weights=root.find("Weights"),
        root=root,
    )


def read_weights_file(path: str | os.PathLike[str]) -> WeightsFileContent:
    """Read and parse a weights file (entities are never expanded; see :func:`parse_weights_xml`).

    Raises
    ------
    ModelError
        When the file does not exist or cannot be read (naming the weights files next to it) or its
        content is not a TMVA weights file.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        where = f" (relative to the working directory {os.getcwd()})" if not p.is_absolute() else ""
        hint = ""
        if p.parent.is_dir():
            present = sorted(q.name for q in p.parent.glob("*.weights.xml"))
            sugg = closest(p.name, present, n=3, cutoff=0.5)
            if sugg:
                hint = "; did you mean " + " or ".join(repr(str(p.parent / s)) for s in sugg) + "?"
            elif present:
                hint = f"; weights files in {p.parent}: {', '.join(present)}"
        else:
            hint = f"; the directory '{p.parent}' does not exist"
        raise ModelError(f"unable to open input weight file: '{p}'{where}{hint}") from None
    except OSError as exc:
        raise ModelError(f"unable to read input weight file '{p}': {exc}") from exc
    return parse_weights_xml(data, str(p))


# ---------------------------------------------------------------------------------------------- loading
def _guess_job_name(source: str, title: str) -> str:
    name = Path(source).name
    suffix = f"_{title}.weights.xml"
    if name.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return name.removesuffix(".weights.xml").removesuffix(".xml") or "TMVAClassification"


def _stored_options(
    content: WeightsFileContent, method_cls: type[MethodBase]
) -> tuple[dict[str, str], dict[str, tuple[Any, ...]]]:
    """Stored options as scalar keyword arguments (texts) and typed array values, by declared name."""
    decls = {d.name.lower(): d for d in method_cls.Options.declarations()}
    compat = method_cls.compatibility_options
    unknown = [name for name in content.options if name.lower() not in decls and name.lower() not in compat]
    if unknown:
        names = [d.name for d in decls.values()]
        hints = []
        for u in unknown:
            sugg = closest(u, names)
            if sugg:
                hints.append(f"'{u}': did you mean {' or '.join(repr(s) for s in sugg)}?")
        raise ModelError(
            f"weights file '{content.source}' stores options that method {content.method_type} of pymva "
            f"{__version__} does not declare: {', '.join(repr(u) for u in unknown)}. "
            + (" ".join(hints) + " " if hints else "")
            + f"Declared options: {', '.join(names)}"
        )
    scalars: dict[str, str] = {}
    arrays: dict[str, tuple[Any, ...]] = {}
    component = f"method {content.method_type} ('{content.title}')"
    for name, text in content.options.items():
        if name.lower() in compat and name.lower() not in decls:
            continue  # read (and ignored) as TMVA's compatibility options are
        decl = decls[name.lower()]
        if decl.size is None:
            scalars[decl.name] = text
            continue
        parts = text.split()
        if len(parts) != decl.size:
            raise ModelError(
                f"weights file '{content.source}': array option {decl.name} holds {len(parts)} values "
                f"('{text}'), method {content.method_type} declares {decl.size}"
            )
        try:
            values = tuple(decl.convert(part, component) for part in parts)
            decl.validate(values, component)
        except OptionError as exc:
            raise ModelError(
                f"weights file '{content.source}': the stored options cannot be read back: {exc}"
            ) from exc
        arrays[decl.name] = values
    return scalars, arrays


def method_from_content(
    content: WeightsFileContent,
    *,
    job_name: str | None = None,
    weight_dir: str | os.PathLike[str] | None = None,
    dataset_name: str | None = None,
) -> MethodBase:
    """Re-create a method from a parsed weights file (see :func:`load_method`)."""
    import dataclasses

    from ..methods.base import MethodContext
    from ..methods.registry import get_method_class
    from ..transforms import TransformationHandler

    try:
        method_cls = get_method_class(content.method_type)
    except OptionError as exc:
        raise ModelError(f"weights file '{content.source}': {exc}") from None
    if content.source != "<string>":
        default_dir = Path(content.source).parent
    else:
        default_dir = Path("dataset") / "weights"
    wdir = Path(weight_dir) if weight_dir is not None else default_dir
    if dataset_name is None:
        dataset_name = wdir.parent.name if wdir.name == "weights" and wdir.parent.name else "dataset"
    context = MethodContext(
        job_name=job_name or _guess_job_name(content.source, content.title),
        dataset_name=dataset_name,
        analysis_type=content.analysis_type,
        variables=content.variables,
        class_names=content.class_names,
        targets=content.targets,
        spectators=content.spectators,
        weight_dir=wdir,
    )
    scalars, arrays = _stored_options(content, method_cls)
    try:
        # array options are set afterwards: element-wise tokens would each log "previously set"
        method = method_cls(content.title, context, "", **scalars)
    except OptionError as exc:
        raise ModelError(
            f"weights file '{content.source}': the stored options cannot be read back: {exc}"
        ) from exc
    decl_names = {d.name.lower(): d.name for d in type(method.options).declarations()}
    changes: dict[str, Any] = dict(arrays)
    changes["modified_options"] = frozenset(
        decl_names[m.lower()] for m in content.modified if m.lower() in decl_names
    )
    method.options = dataclasses.replace(method.options, **changes)
    trafo = content.transformations
    if trafo is None:
        trafo = ET.Element("Transformations", {"NTransformations": "0"})
    method.transformations = TransformationHandler.from_xml(
        trafo,
        variables=context.variables,
        targets=context.targets,
        spectators=context.spectators,
        class_names=context.class_names,
        method_title=content.title,
    )
    with contextlib.suppress(KeyError, ValueError):
        method.n_training_events_ = int(content.general_info["Training events"])
    with contextlib.suppress(KeyError, ValueError):
        method.training_time_ = float(content.general_info["TrainingTime"])
    method.general_info_ = dict(content.general_info)
    method.read_weights_xml(content.weights)
    return method


def load_method(
    path: str | os.PathLike[str],
    *,
    job_name: str | None = None,
    weight_dir: str | os.PathLike[str] | None = None,
    dataset_name: str | None = None,
) -> MethodBase:
    """Re-create a trained method from its weights file.

    The method class comes from the ``Method`` attribute; the options are parsed back through the
    method's own declarations (typed values, the ``modified`` flags kept); the ``VarTransform`` chain is
    rebuilt from ``<Transformations>``; the method reads its ``<Weights>``.  As in TMVA, the method's
    ``setup`` (``ProcessOptions``) is not called: methods that need more (MethodPyTorch loads its
    TorchScript file) do so lazily at their first evaluation.

    Parameters
    ----------
    path : path-like
        The ``.weights.xml`` file.
    job_name : str, optional
        Job name for the method's context (default: from the file name ``<JobName>_<Title>.weights.xml``).
    weight_dir : path-like, optional
        The method's weight directory (default: the file's directory).
    dataset_name : str, optional
        Loader name (default: the directory above ``weights``, else ``"dataset"``).

    Returns
    -------
    MethodBase
        Ready to evaluate.

    Raises
    ------
    ModelError
        For an unreadable or foreign file, an unknown method type, options the method does not declare
        or values it rejects, and errors of the method's own reading.
    """
    content = read_weights_file(path)
    return method_from_content(content, job_name=job_name, weight_dir=weight_dir, dataset_name=dataset_name)
