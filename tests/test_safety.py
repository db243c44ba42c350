"""Atomic replacement of files: a failure never leaves a partial file nor destroys the old one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pymva.safety import atomic_path, write_bytes_atomically


def test_success_replaces_the_target(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.bin"
    write_bytes_atomically(target, b"first")
    write_bytes_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    target.write_bytes(b"good")

    class Interrupted(BaseException):
        pass

    def write_then_fail() -> None:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half writ")
            raise Interrupted

    with pytest.raises(Interrupted):
        write_then_fail()
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_permissions_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_bytes_atomically(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
