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


# ------------------------------------------------------------------------------- stale temporaries
def _dead_pid() -> int:
    """The id of a process that has run and been reaped (the kernel does not reuse it at once)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_names_carry_host_and_pid_and_stay_short(tmp_path: Path) -> None:
    from pymva.safety import temporary_name

    name = temporary_name("TMVA.root")
    assert name.startswith(".TMVA.root.pymva-")
    assert name.endswith(".tmp")
    assert f"-{os.getpid()}-" in name
    long = temporary_name("é" * 127 + ".root")  # 259 bytes: hashed, so the temporary name fits
    assert len(long.encode()) <= 255
    assert temporary_name("x") != temporary_name("x")  # random part


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    import subprocess
    import sys

    from pymva.safety import remove_stale_temporaries, temporary_name

    dead = tmp_path / temporary_name("f.xml", pid=_dead_pid())
    mine = tmp_path / temporary_name("f.xml")
    host = temporary_name("x").split(".pymva-")[1].split("-")[0]
    other = "00000000" if host != "00000000" else "11111111"
    other_host = tmp_path / f".f.xml.pymva-{other}-{_dead_pid()}-abcdef12.tmp"  # a shared file system
    not_ours = tmp_path / ".f.xml.12345.abcdef12.tmp"  # another naming scheme: never touched
    for p in (dead, mine, other_host, not_ours):
        p.write_bytes(b"partial")
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        alive = tmp_path / temporary_name("f.xml", pid=live.pid)
        alive.write_bytes(b"being written")
        assert remove_stale_temporaries(tmp_path) == [dead]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            p.name for p in (mine, other_host, not_ours, alive)
        )
    finally:
        assert live.stdin is not None
        live.stdin.close()
        live.wait()
    # the next atomic write into the directory removes the one whose writer has finished now
    write_bytes_atomically(tmp_path / "g.xml", b"ok")
    assert not alive.exists()
    assert (tmp_path / "g.xml").read_bytes() == b"ok"
