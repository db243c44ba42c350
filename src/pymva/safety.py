"""The rules for names, texts and paths, and atomic file replacement.

Names
    Data-set (DataLoader) names, job names and method titles become parts of file and directory
    names (``<dataset>/weights/<job>_<title>.weights.xml``).  :func:`check_name` makes sure that they
    stay names: not empty, no ``/`` or ``\\``, no ``..``, no drive (``C:``), no control character, at
    most :data:`MAX_NAME_BYTES` bytes in UTF-8.  :func:`check_file_stem` limits ``<job>_<title>``
    (:data:`MAX_STEM_BYTES`), so that every file name pymva builds from it stays below the 255 bytes
    that file systems allow.  TMVA itself writes wherever such a name points.

Texts
    Labels, titles, units, class names and expressions are written into weights files (XML) and the
    output ROOT file.  :func:`check_text` refuses control characters (U+0000–U+001F, U+007F–U+009F;
    in expressions the blanks ``\\t \\n \\r \\f \\v`` are allowed), lone surrogates and the
    non-characters U+FFFE/U+FFFF: none of these can be written into an XML file that parses again.

Paths
    :func:`check_output_path` validates the output file of a Factory before any work is done: no NUL,
    not a directory or other non-regular file, the directory exists and a file can be created in it.

Atomic writes
    Every file pymva writes (weights files, trained models, the output ROOT file, toy inputs, figures)
    goes through :func:`atomic_path`: the content is written to a temporary file beside the target,
    which is renamed onto the target only when complete, so that an error or an interrupt never leaves
    a half-written file and never destroys an earlier good one.  Temporary files are named
    ``.<name>.pymva-<host>-<pid>-<random>.tmp`` (:func:`temporary_name`); a process killed while
    writing (``SIGKILL``, power loss) cannot remove its own, so every later write into the same
    directory removes the temporary files of processes of this host that no longer run
    (:func:`remove_stale_temporaries`).  Files of other hosts (a shared file system) and of running
    processes are never touched.

Every rule raises :class:`~pymva.errors.OptionError` (a bad argument) or
:class:`~pymva.errors.DataError` (a file-system state, such as a missing or unwritable directory)
naming the argument and the rule.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import logging
import ntpath
import os
import re
import socket
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

from .errors import DataError, OptionError

__all__ = [
    "MAX_NAME_BYTES",
    "MAX_STEM_BYTES",
    "atomic_path",
    "check_file_stem",
    "check_name",
    "check_output_path",
    "check_text",
    "new_temporary_path",
    "remove_stale_temporaries",
    "temporary_name",
    "write_bytes_atomically",
]

_log = logging.getLogger("pymva.safety")

#: Longest data-set name, job name or method title, in bytes of UTF-8.
MAX_NAME_BYTES = 200
#: Longest ``<job>_<title>`` (the stem of every weights and model file name), in bytes of UTF-8;
#: leaves room for the suffixes pymva appends (``.weights.xml``, ``_TrainedModel.pt``, …) below
#: the 255 bytes of a file name.
MAX_STEM_BYTES = 200
#: Longest file name (one path component) most file systems accept, in bytes.
_NAME_MAX = 255

# control characters (C0, DEL, C1), lone surrogates, the non-characters U+FFFE and U+FFFF
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# the same, without the blanks \t \n \v \f \r (allowed in expressions, which ignore them)
_FORBIDDEN_NOT_BLANK = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _describe(ch: str) -> str:
    return f"{ch!r} (U+{ord(ch):04X})"


def _shown(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def check_text(text: object, *, argument: str, blanks: bool = False) -> str:
    """Check that a label, title, unit, class name or expression can be written into a file.

    Parameters
    ----------
    text : str
        The text (a ``str`` subclass such as ``TString`` or ``TCut`` is fine).
    argument : str
        What the text is, for the message (``"AddVariable: label"``).
    blanks : bool
        Allow ``\\t \\n \\r \\f \\v`` (expressions ignore them).

    Returns
    -------
    str
        ``text`` as a plain ``str``.

    Raises
    ------
    OptionError
        If ``text`` is not a string, or holds a control character (U+0000–U+001F, U+007F–U+009F), a
        lone surrogate or U+FFFE/U+FFFF; the message names ``argument``, the character and its
        position.
    """
    if not isinstance(text, str):
        raise OptionError(f"{argument} must be a string, not {type(text).__name__} ({text!r})")
    pattern = _FORBIDDEN_NOT_BLANK if blanks else _FORBIDDEN
    m = pattern.search(text)
    if m is not None:
        allowed = " (blanks \\t \\n \\r are fine)" if blanks else ""
        raise OptionError(
            f"{argument} {_shown(text)} contains the control character {_describe(m.group())} at "
            f"position {m.start()}; control characters (U+0000-U+001F, U+007F-U+009F), lone "
            f"surrogates and U+FFFE/U+FFFF are not accepted{allowed}: they cannot be written into "
            "a weights file that reads back"
        )
    return str(text)


def check_name(name: object, *, argument: str, allow_empty: bool = False) -> str:
    """Check that a data-set name, job name or method title is a name, not a path.

    Parameters
    ----------
    name : str
        The name.
    argument : str
        What the name is, for the message (``"DataLoader(thedlName)"``).
    allow_empty : bool
        Accept ``""`` (TMVA scripts use ``DataLoader("")``; the weights then go to ``weights/``).

    Returns
    -------
    str
        ``name`` as a plain ``str``.

    Raises
    ------
    OptionError
        If ``name`` is not a string, is empty (unless allowed), holds ``/``, ``\\`` or ``..``, consists of dots, starts
        with a drive (``C:``), holds a control character (see :func:`check_text`) or is longer than
        :data:`MAX_NAME_BYTES` bytes in UTF-8.  The message names ``argument`` and the rule.
    """
    rule = (
        f"{argument} is a name, not a path (it becomes part of file names such as "
        "<dataset>/weights/<job>_<title>.weights.xml)"
    )
    text = check_text(name, argument=f"{rule}:")
    if not text:
        if allow_empty:
            return text
        raise OptionError(f"{rule}: it must not be empty")
    for sep in ("/", "\\"):
        if sep in text:
            raise OptionError(f"{rule}: {_shown(text)} must not contain {sep!r}")
    if ".." in text:
        raise OptionError(f"{rule}: {_shown(text)} must not contain '..'")
    if not text.strip("."):
        raise OptionError(f"{rule}: {_shown(text)} must not be '.'")
    if ntpath.splitdrive(text)[0] or os.path.isabs(text):
        raise OptionError(f"{rule}: {_shown(text)} must not be an absolute path or start with a drive")
    size = len(text.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise OptionError(f"{rule}: {_shown(text)} is {size} bytes long in UTF-8; at most {MAX_NAME_BYTES}")
    return text


def check_file_stem(job_name: str, title: str) -> str:
    """Check that ``<job_name>_<title>``, the stem of the weights and model file names, is short enough.

    Returns
    -------
    str
        ``f"{job_name}_{title}"``.

    Raises
    ------
    OptionError
        If the stem is longer than :data:`MAX_STEM_BYTES` bytes in UTF-8.
    """
    stem = f"{job_name}_{title}"
    size = len(stem.encode("utf-8"))
    if size > MAX_STEM_BYTES:
        raise OptionError(
            f"job name {_shown(job_name)} and method title {_shown(title)} give the file-name stem "
            f"'<job>_<title>' of {size} bytes in UTF-8; together they may have at most {MAX_STEM_BYTES} "
            "(file names are limited to 255 bytes); choose a shorter job name or title"
        )
    return stem


def check_output_path(path: object, *, argument: str) -> Path:
    """Validate the path of an output file before any work is done.

    The file itself is not created: it is written (atomically) at the end of the job.  To see that
    the directory accepts a new file, an empty temporary file is created there and removed again.

    Parameters
    ----------
    path : str or os.PathLike
        The output file.
    argument : str
        What the path is, for the message (``"Factory(outputFile)"``).

    Returns
    -------
    Path
        ``path`` as given (relative paths stay relative).

    Raises
    ------
    OptionError
        If ``path`` is not a ``str`` or ``os.PathLike`` of ``str``, is empty, holds a NUL character,
        names a directory (an existing one, or a path ending in a separator), names an existing file
        that is not a regular file (a FIFO, a device, a socket), or has a file name longer than the
        file system allows.
    DataError
        If the directory does not exist or no file can be created in it (permissions, a read-only
        file system); the message holds the operating system's reason.
    """
    raw = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(raw, str):
        raise OptionError(
            f"{argument} must be a path (str or os.PathLike), not {type(raw).__name__} ({raw!r})"
        )
    if not raw:
        raise OptionError(f"{argument} must not be an empty path")
    if "\x00" in raw:
        raise OptionError(f"{argument} {_shown(raw)} contains a NUL character, which no file name can hold")
    if raw.endswith(("/", os.sep)) or (os.altsep is not None and raw.endswith(os.altsep)):
        raise OptionError(f"{argument} {_shown(raw)} names a directory; give a file name such as 'TMVA.root'")
    target = Path(raw)
    size = len(target.name.encode("utf-8", "surrogateescape"))
    if size > _NAME_MAX:
        raise OptionError(
            f"{argument}: the file name {_shown(target.name)} is {size} bytes long; at most {_NAME_MAX}"
        )
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise DataError(f"{argument} {_shown(raw)} cannot be checked: {exc.strerror or exc}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OptionError(
                f"{argument} {_shown(raw)} is a directory; give a file name such as "
                f"'{os.path.join(raw, 'TMVA.root')}'"
            )
        if not stat.S_ISREG(st.st_mode):
            raise OptionError(
                f"{argument} {_shown(raw)} exists and is not a regular file (a FIFO, device or socket); "
                "the output file must be a regular file"
            )
    directory = os.path.dirname(os.path.abspath(raw))
    if not os.path.isdir(directory):
        raise DataError(
            f"{argument} {_shown(raw)}: the directory '{directory}' does not exist; create it first "
            "(as TFile::Open in ROOT, pymva does not create it)"
        )
    try:
        probe = new_temporary_path(target, create_parents=False)
    except OSError as exc:
        raise DataError(
            f"{argument} {_shown(raw)}: cannot create a file in the directory '{directory}': "
            f"{exc.strerror or exc}"
        ) from None
    with contextlib.suppress(OSError):
        probe.unlink()
    return target


# ------------------------------------------------------------------------------- temporary files
_TMP_PREFIX = "pymva"
_TMP_NAME = re.compile(r"^\..*\.pymva-([0-9a-f]{8})-([0-9]+)-[0-9a-f]{8}\.tmp$", re.DOTALL)


@functools.cache
def _host_tag() -> str:
    """Eight hex digits identifying this host in temporary-file names."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:8]


def temporary_name(target_name: str, pid: int | None = None) -> str:
    """The name of a new temporary file for a target file named ``target_name``.

    ``.<target_name>.pymva-<host>-<pid>-<random>.tmp``, with ``<host>`` eight hex digits of a hash of
    the host name and ``<random>`` eight random hex digits.  A target name longer than
    :data:`MAX_NAME_BYTES` bytes is replaced by sixteen hex digits of its hash, so that the temporary
    name stays within the 255 bytes of a file name.

    Parameters
    ----------
    target_name : str
        The final file name (one path component).
    pid : int, optional
        Process id to record (default: this process).
    """
    key = target_name
    if len(key.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        key = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    pid = os.getpid() if pid is None else pid
    return f".{key}.{_TMP_PREFIX}-{_host_tag()}-{pid}-{uuid.uuid4().hex[:8]}.tmp"


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host runs; ``True`` when that cannot be told."""
    if os.name != "posix" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def remove_stale_temporaries(directory: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files that dead pymva processes of this host left in ``directory``.

    A file is removed only if its name is one that :func:`temporary_name` gives, its host tag is this
    host's and its process no longer runs.  Errors (a file that vanished, no permission) are ignored.
    Outside POSIX nothing is removed (whether a process runs is not checked there).

    Returns
    -------
    list of Path
        The files removed.
    """
    removed: list[Path] = []
    if os.name != "posix":
        return removed
    host, me = _host_tag(), os.getpid()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_NAME.match(entry.name)
        if m is None or m.group(1) != host:
            continue
        pid = int(m.group(2))
        if pid == me or _process_alive(pid):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        _log.info("removed the temporary file %s left by process %d, which no longer runs", entry.path, pid)
        removed.append(Path(entry.path))
    return removed


def new_temporary_path(target: str | os.PathLike[str], *, create_parents: bool = True) -> Path:
    """Create an empty temporary file beside ``target`` and return its path.

    The name is :func:`temporary_name`'s; before creating it, the stale temporary files of dead
    processes in the directory are removed (:func:`remove_stale_temporaries`).  The file is created
    exclusively with mode ``0o666`` so that the umask decides its permissions, as for a plain
    ``open()`` (``tempfile.mkstemp`` would give ``0o600``).

    Parameters
    ----------
    target : str or os.PathLike
        The final path.
    create_parents : bool
        Create missing parent directories of ``target`` (default).

    Raises
    ------
    OSError
        If the directory cannot be created or written.
    """
    dest = Path(target)
    if create_parents:
        dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(dest.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(16):
        tmp = dest.with_name(temporary_name(dest.name))
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(dest))  # pragma: no cover


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Context manager yielding a temporary path that replaces ``target`` on success.

    Write the complete file to the yielded path inside the ``with`` block.  On normal exit the
    temporary file is renamed onto ``target`` (``os.replace``, atomic on POSIX); on any exception
    (``KeyboardInterrupt`` included) it is removed and ``target`` is left as it was.  A process that
    is killed inside the block leaves its temporary file, which the next write into the directory
    removes (:func:`remove_stale_temporaries`).

    Parameters
    ----------
    target : str or os.PathLike
        The final path.

    Yields
    ------
    Path
        The temporary path, in the same directory as ``target``.

    Raises
    ------
    OSError
        If the temporary file cannot be created or renamed.
    """
    tmp = new_temporary_path(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes_atomically(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (flushed to disk before the rename).

    Returns
    -------
    Path
        ``target`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OSError
        If writing or renaming fails; ``target`` is then unchanged.
    """
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(target)
