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
  external-entity files cannot do harm.  TMVA never writes a DOCTYPE.  Only regular files of at most
  :data:`MAX_WEIGHTS_FILE_BYTES` are read (a FIFO would block, ``/dev/zero`` never ends).
* :func:`load_method` re-creates the method from a file: the method class from the ``Method``
  attribute, the options parsed back through the method's own option declarations, the fitted
  ``Transformations`` chain, then the method's ``<Weights>``.  This is what the Factory does before
  testing (``ModelPersistence``) and what :class:`~pymva.reader.Reader` does in ``BookMVA``.
  Nothing in the file makes code run: options that name code (``UserCode``) are dropped, the caller
  passes its own (``caller_options``), and model files the file names resolve only inside its
  directory (``docs/security.md``).

The module is longer than pymva's usual ~800 lines on purpose: writing, parsing and re-creating
are the three sides of one file format, and the rules that make hostile files harmless (no
entities, bounded regular files, no code options, caller options) must be read next to the code
that writes what they check.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.parsers import expat

from .._version import __version__
from ..data.dataset import VariableInfo
from ..errors import ModelError, OptionError, PyMVAError, closest
from ..options import OptionsBase, format_option_value
from ..safety import write_bytes_atomically
from ..types import EAnalysisType

if TYPE_CHECKING:
    from ..methods.base import MethodBase

__all__ = [
    "MAX_WEIGHTS_FILE_BYTES",
    "ROOT_RELEASE",
    "TMVA_RELEASE",
    "WeightsFileContent",
    "build_weights_xml",
    "load_method",
    "method_from_content",
    "parse_weights_xml",
    "read_weights_file",
    "weights_file_argument",
    "weights_file_path",
    "weights_xml_bytes",
    "write_weights_file",
]

#: ``TMVA Release`` written into ``GeneralInfo``: TMVA 4.2.1, code ``(4 << 16) + (2 << 8) + 1``.
TMVA_RELEASE = "4.2.1 [262657]"
#: ``ROOT Release`` written into ``GeneralInfo``: the writer's name and ROOT 6.32/00's version code.
ROOT_RELEASE = f"pymva {__version__} [401408]"
#: The largest weights file that is read (256 MiB; TMVA's largest, a BDT of thousands of trees, is
#: tens of MiB).
MAX_WEIGHTS_FILE_BYTES = 256 * 1024 * 1024
#: The most classes ``<Classes NClass="n"/>`` without ``<Class>`` children may declare.
MAX_CLASSES = 10_000

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
    _add_state(root, method, n_train, t_train, creator, date or datetime.datetime.now())
    return root


def _add_state(
    root: ET.Element,
    method: MethodBase,
    n_train: int,
    t_train: float,
    creator: str | None,
    date: datetime.datetime,
) -> None:
    """Append a method's state (``GeneralInfo`` … ``Weights``) to ``root`` (TMVA ``WriteStateToXML``).

    A Category method's ``<SubMethod>`` elements receive their sub-methods' states the same way.
    """
    ctx = method.context
    at = ctx.analysis_type
    gi = ET.SubElement(root, "GeneralInfo")
    info = [
        ("TMVA Release", TMVA_RELEASE),
        ("ROOT Release", ROOT_RELEASE),
        ("Creator", creator if creator is not None else _creator()),
        ("Date", _tdatime(date)),
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
    if method.mva_pdfs is not None:
        method.mva_pdfs.to_xml(root)
    else:
        ET.SubElement(root, "MVAPdfs")
    weights = ET.Element("Weights")
    method.add_weights_xml(weights)
    if len(weights) or weights.attrib or (weights.text and weights.text.strip()):
        root.append(weights)
    _add_sub_method_states(root.find("Weights"), method, creator, date)


def _add_sub_method_states(
    weights: ET.Element | None, method: MethodBase, creator: str | None, date: datetime.datetime
) -> None:
    """Write each sub-method of a Category method into its ``<SubMethod>`` (TMVA ``AddWeightsXMLTo``)."""
    from ..methods.category import MethodCategory

    if not isinstance(method, MethodCategory) or weights is None:
        return
    for elem, sub in zip(weights.findall("SubMethod"), method.sub_methods, strict=True):
        _add_state(elem, sub, sub.n_training_events_ or 0, sub.training_time_ or 0.0, creator, date)


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
    return _content_from_element(root, source)


def _content_from_element(root: ET.Element, source: str, tag: str = "MethodSetup") -> WeightsFileContent:
    """A method's state from its element: ``<MethodSetup>``, or a Category's ``<SubMethod>``."""
    if root.tag != tag or "::" not in root.get("Method", ""):
        raise ModelError(
            f"'{source}' is not a TMVA weights file: the root element is <{root.tag}"
            f"{' Method=' + repr(root.get('Method')) if root.get('Method') is not None else ''}>, "
            f'expected <{tag} Method="<Type>::<Title>">'
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
            if len(set(class_names)) != len(class_names):
                raise ModelError(f"weights file '{source}': the class names {class_names} repeat a name")
        declared = cls_elem.get("NClass")
        n: int | None = None
        if declared is not None:
            try:
                n = int(declared.strip())
            except ValueError:
                raise ModelError(
                    f"weights file '{source}': <Classes NClass=\"{declared}\"> is not an integer; expected "
                    "the number of classes (1 for regression, 2 or more otherwise)"
                ) from None
            if not 1 <= n <= MAX_CLASSES:
                raise ModelError(
                    f"weights file '{source}': <Classes NClass=\"{declared}\">: a weights file has 1 to "
                    f"{MAX_CLASSES} classes (1 for regression, 2 or more otherwise)"
                )
            if entries and n != len(entries):
                raise ModelError(
                    f"weights file '{source}': <Classes NClass=\"{declared}\"> holds {len(entries)} <Class> "
                    "elements"
                )
        if not entries:  # TMVA: NClass without children means classes named class0, class1, …
            if n is None:
                raise ModelError(
                    f"weights file '{source}': <Classes> has neither NClass nor <Class> elements; expected "
                    '<Classes NClass="2"><Class Name="Signal" Index="0"/>…</Classes>'
                )
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


def weights_file_argument(path: Any, what: str = "weightfile") -> Path:
    """Check that ``path`` is a usable file name (``str`` or ``os.PathLike[str]``) and return it.

    Raises
    ------
    OptionError
        For ``None``, numbers, bytes (decode them first), an empty name or a name holding a NUL byte.
    """
    if isinstance(path, (bytes, bytearray)):
        raise OptionError(
            f"{what} {path!r} is bytes; give the file name as a str or pathlib.Path (decode it, e.g. "
            "with os.fsdecode)"
        )
    if not isinstance(path, (str, os.PathLike)):
        raise OptionError(
            f"{what} must be the path of a .weights.xml file (a str or pathlib.Path), got "
            f"{type(path).__name__} {path!r}"
        )
    text = os.fspath(path)
    if not isinstance(text, str):
        raise OptionError(f"{what} {path!r} is a bytes path; give it as a str or pathlib.Path")
    if not text.strip():
        raise OptionError(f"{what} is empty; give the path of a .weights.xml file")
    if "\x00" in text:
        raise OptionError(f"{what} {text!r} holds a NUL byte; give the path of a .weights.xml file")
    return Path(text)


def _read_bounded(p: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_WEIGHTS_FILE_BYTES` (FIFOs never block)."""
    import stat

    limit = MAX_WEIGHTS_FILE_BYTES
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(p, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file (a FIFO, socket or device)"
            )
            raise ModelError(f"input weight file '{p}' is {kind}; give the path of a .weights.xml file")
        if st.st_size > limit:
            raise ModelError(
                f"input weight file '{p}' has {st.st_size} bytes, more than the {limit} bytes (256 MiB) a "
                "weights file may have: refused"
            )
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ModelError(
                    f"input weight file '{p}' grows beyond the {limit} bytes (256 MiB) a weights file may "
                    "have: refused"
                )
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_weights_file(path: str | os.PathLike[str]) -> WeightsFileContent:
    """Read and parse a weights file (entities are never expanded; see :func:`parse_weights_xml`).

    Only a regular file of at most :data:`MAX_WEIGHTS_FILE_BYTES` is read.

    Raises
    ------
    OptionError
        When ``path`` is not a file name (see :func:`weights_file_argument`).
    ModelError
        When the file does not exist or cannot be read (naming the weights files next to it), is not
        a regular file (FIFO, device, directory), is larger than 256 MiB, or its content is not a
        TMVA weights file.
    """
    p = weights_file_argument(path)
    try:
        data = _read_bounded(p)
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
    content: WeightsFileContent, method_cls: type[MethodBase], options_cls: type[OptionsBase] | None = None
) -> tuple[dict[str, str], dict[str, tuple[Any, ...]]]:
    """Stored options as scalar keyword arguments (texts) and typed array values, by declared name.

    ``options_cls``: the method's options for this job (``options_class(context)``, with its
    per-variable arrays); default ``method_cls.Options``.
    """
    decls = {d.name.lower(): d for d in (options_cls or method_cls.Options).declarations()}
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


def _caller_overrides(
    method_cls: type[MethodBase], caller_options: Mapping[str, Any] | None
) -> dict[str, str]:
    """The caller's options by declared name (only :attr:`code_options` and :attr:`file_options`)."""
    if not caller_options:
        return {}
    decls = {d.name.lower(): d for d in method_cls.Options.declarations()}
    allowed = [n for n in (*method_cls.code_options, *method_cls.file_options) if n.lower() in decls]
    out: dict[str, str] = {}
    for key, value in caller_options.items():
        name = next((n for n in allowed if n.lower() == str(key).lower()), None)
        if name is None:
            accepted = ", ".join(allowed) if allowed else "none"
            raise OptionError(
                f"option {key!r} cannot be given when a {method_cls.method_type.type_name} method is booked "
                f"from a weights file; the options a caller may set there: {accepted} (and the Reader's "
                "AllowPickle)"
            )
        if not isinstance(value, (str, os.PathLike)) or isinstance(value, bytes):
            raise OptionError(
                f"option {name}={value!r}: give the file name as a str or pathlib.Path, got {type(value).__name__}"
            )
        text = os.fspath(value)
        if not isinstance(text, str) or "\x00" in text:
            raise OptionError(f"option {name}={value!r}: give the file name as a str without NUL bytes")
        out[name] = text
    return out


def method_from_content(
    content: WeightsFileContent,
    *,
    job_name: str | None = None,
    weight_dir: str | os.PathLike[str] | None = None,
    dataset_name: str | None = None,
    caller_options: Mapping[str, Any] | None = None,
    allow_pickle: bool = False,
) -> MethodBase:
    """Re-create a method from a parsed weights file (see :func:`load_method`)."""
    import dataclasses

    from ..methods.base import MethodContext
    from ..methods.mva_pdfs import MVAPdfs
    from ..methods.registry import get_method_class
    from ..transforms import TransformationHandler

    try:
        method_cls = get_method_class(content.method_type)
    except OptionError as exc:
        raise ModelError(f"weights file '{content.source}': {exc}") from None
    overrides = _caller_overrides(method_cls, caller_options)
    at = content.analysis_type
    n_classes, n_targets = len(content.class_names), len(content.targets)
    if at == EAnalysisType.kRegression and n_targets == 0:
        raise ModelError(
            f"weights file '{content.source}': AnalysisType is Regression but there is no <Targets> element "
            'with a <Target>; expected <Targets NTrgt="1"><Target TargetIndex="0" Expression=…/></Targets>'
        )
    if not method_cls.has_analysis_type(at, n_classes, n_targets):
        raise ModelError(
            f"weights file '{content.source}': method {content.method_type} cannot do {at.type_name} with "
            f"{n_classes} classes and {n_targets} targets: the file is not one that pymva's "
            f"{content.method_type} wrote"
        )
    if content.source != "<string>":
        default_dir = Path(content.source).parent
        model_dir = default_dir
    else:
        default_dir = Path("dataset") / "weights"
        model_dir = Path(".")  # XML text: model files only inside the working directory
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
        model_dir=model_dir,
        trusted_options=frozenset(overrides),
        allow_pickle=bool(allow_pickle),
        weights_source=content.source,
    )
    scalars, arrays = _stored_options(content, method_cls, method_cls.options_class(context))
    # code is never run because a file names it: stored code options are dropped
    dropped = {name: scalars.pop(name) for name in method_cls.code_options if scalars.get(name, "").strip()}
    try:
        # array options are set afterwards: element-wise tokens would each log "previously set"
        method = method_cls(content.title, context, "", **scalars)
    except OptionError as exc:
        raise ModelError(
            f"weights file '{content.source}': the stored options cannot be read back: {exc}"
        ) from exc
    for name, text in dropped.items():
        if overrides.get(name) != text:
            method.log.warning(
                "weights file %s names %s=%s: not run (a weights file never makes code run); pass "
                "%s=<file> to Reader.BookMVA to run a file you trust",
                content.source,
                name,
                text,
                name,
            )
    decl_names = {d.name.lower(): d.name for d in type(method.options).declarations()}
    changes: dict[str, Any] = dict(arrays)
    changes["modified_options"] = frozenset(
        decl_names[m.lower()] for m in content.modified if m.lower() in decl_names
    )
    if overrides:
        try:
            given = type(method.options).parse("", component=f"method {content.method_type}", **overrides)
        except OptionError as exc:
            raise OptionError(f"the options given for weights file '{content.source}': {exc}") from exc
        changes.update({name: getattr(given, name) for name in overrides})
    method.options = dataclasses.replace(method.options, **changes)
    trafo = content.transformations
    if trafo is None:
        trafo = ET.Element("Transformations", {"NTransformations": "0"})
    try:
        method.transformations = TransformationHandler.from_xml(
            trafo,
            variables=context.variables,
            targets=context.targets,
            spectators=context.spectators,
            class_names=context.class_names,
            method_title=content.title,
        )
    except PyMVAError as exc:
        if content.source in str(exc):
            raise
        raise type(exc)(f"weights file '{content.source}': {exc}") from exc
    except _MALFORMED as exc:  # hostile or broken content: never a raw traceback
        raise ModelError(
            f"weights file '{content.source}': <Transformations> cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
    with contextlib.suppress(KeyError, ValueError):
        method.n_training_events_ = int(content.general_info["Training events"])
    with contextlib.suppress(KeyError, ValueError):
        method.training_time_ = float(content.general_info["TrainingTime"])
    method.general_info_ = dict(content.general_info)
    try:
        method.mva_pdfs = MVAPdfs.from_xml(content.mva_pdfs, where=f"weights file '{content.source}'")
    except PyMVAError:
        raise
    except _MALFORMED as exc:
        raise ModelError(
            f"weights file '{content.source}': <MVAPdfs> cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        method.read_weights_xml(content.weights)
    except PyMVAError:
        raise
    except _MALFORMED as exc:
        raise ModelError(
            f"weights file '{content.source}': the <Weights> of method {content.method_type} cannot be read "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    _attach_fold_methods(method, content)
    _attach_sub_methods(method, content)
    return method


def _attach_sub_methods(method: MethodBase, content: WeightsFileContent) -> None:
    """Re-create the sub-methods of a ``Category`` method from its ``<SubMethod>`` elements (TMVA
    ``MethodCategory::ReadWeightsFromXML``), each from the state written inside it.

    Raises
    ------
    ModelError
        For a ``<SubMethod>`` whose state cannot be read, or a sub-method that does not match it.
    """
    from ..methods.category import MethodCategory

    if not isinstance(method, MethodCategory) or content.weights is None:
        return
    ctx = method.context
    subs: list[MethodBase] = []
    for elem in content.weights.findall("SubMethod"):
        sub = _content_from_element(elem, content.source, tag="SubMethod")
        if sub.method_type.lower() in ("category", "crossvalidation"):
            raise ModelError(
                f"weights file '{content.source}': a sub-method of type {sub.method_type} inside a Category method"
            )
        subs.append(
            method_from_content(
                sub, job_name=ctx.job_name, weight_dir=ctx.weight_dir, dataset_name=ctx.dataset_name
            )
        )
    method.set_sub_methods(subs, source=content.source)


def _attach_fold_methods(method: MethodBase, content: WeightsFileContent) -> None:
    """Read the fold models of a ``CrossValidation`` method (TMVA ``MethodCrossValidation::ReadWeightsFromXML``).

    They are the weights files the method names beside its own
    (:meth:`~pymva.methods.crossvalidation.MethodCrossValidation.fold_weight_files`); each is checked to
    be of the encapsulated type, and never a cross-validation itself, before it is loaded, so that a
    file naming itself cannot recurse.

    Raises
    ------
    ModelError
        For a missing or foreign fold file, or a fold model that does not match the method.
    """
    from ..methods.crossvalidation import MethodCrossValidation

    if not isinstance(method, MethodCrossValidation):
        return
    ctx = method.context
    folds: list[MethodBase] = []
    for path in method.fold_weight_files():
        fold = read_weights_file(path)
        expected = method.opts.EncapsulatedMethodTypeName
        if fold.method_type.lower() != expected.lower() or fold.method_type.lower() == "crossvalidation":
            raise ModelError(
                f"weights file '{content.source}' names the fold file '{path}', which holds a method of type "
                f"{fold.method_type}; expected {expected}"
            )
        folds.append(
            method_from_content(
                fold, job_name=ctx.job_name, weight_dir=ctx.weight_dir, dataset_name=ctx.dataset_name
            )
        )
    method.set_fold_methods(folds, source=content.source)


#: What malformed content can make the readers of ``<Transformations>`` and ``<Weights>`` raise.
_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, ZeroDivisionError)


def load_method(
    path: str | os.PathLike[str],
    *,
    job_name: str | None = None,
    weight_dir: str | os.PathLike[str] | None = None,
    dataset_name: str | None = None,
    caller_options: Mapping[str, Any] | None = None,
    allow_pickle: bool = False,
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
    caller_options : mapping, optional
        Options the *caller* gives (not read from the file): the method's code options
        (``UserCode``) and model-file options (``FilenameTrainedModel``, ``FilenameClassifier``),
        used as given.  A stored code option is dropped with a WARNING; a stored model-file name
        resolves only inside the weights file's directory.
    allow_pickle : bool
        The caller's opt-in to read pickled model files (they run code while read).

    Returns
    -------
    MethodBase
        Ready to evaluate.

    Raises
    ------
    OptionError
        For a caller option the method does not accept.
    ModelError
        For an unreadable or foreign file, an unknown method type, options the method does not declare
        or values it rejects, and errors of the method's own reading.
    """
    content = read_weights_file(path)
    return method_from_content(
        content,
        job_name=job_name,
        weight_dir=weight_dir,
        dataset_name=dataset_name,
        caller_options=caller_options,
        allow_pickle=allow_pickle,
    )
