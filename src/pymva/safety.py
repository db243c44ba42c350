"""Atomic file replacement: write to a temporary file beside the target, then rename.

Every file pymva writes (weights files, trained models, pickled classifiers, the output ROOT file,
toy inputs) goes through :func:`atomic_path`, so that an error or an interrupt never leaves a
half-written file and never destroys an earlier good one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "new_temporary_path", "write_bytes_atomically"]


def new_temporary_path(target: str | os.PathLike[str]) -> Path:
    """Create an empty temporary file beside ``target`` and return its path.

    The file is created exclusively with mode ``0o666`` so that the umask decides its permissions,
    as for a plain ``open()`` (``tempfile.mkstemp`` would give ``0o600``).  Missing parent
    directories of ``target`` are created.

    Raises
    ------
    OSError
        If the directory cannot be created or written.
    """
    dest = Path(target)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    os.close(fd)
    return tmp


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Context manager yielding a temporary path that replaces ``target`` on success.

    Write the complete file to the yielded path inside the ``with`` block.  On normal exit the
    temporary file is renamed onto ``target`` (``os.replace``, atomic on POSIX); on any exception
    (``KeyboardInterrupt`` included) it is removed and ``target`` is left as it was.

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
