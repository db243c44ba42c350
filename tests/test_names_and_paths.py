"""Names stay names, paths are checked before the work, output files survive every failure.

* data-set names, job names and method titles with ``/``, ``\\``, ``..``, drives, NUL, control
  characters or more than 200 bytes are refused with an OptionError naming the argument and the
  rule, before anything is written;
* labels, titles, units, class names, expressions and option strings with control characters are
  refused the same way, and an earlier good weights file stays byte-identical;
* the Factory's output path is checked when the Factory is created;
* a full disk while writing the output file gives a PyMVAError naming the file, the earlier file
  intact and no temporary file left;
* a process SIGKILLed while writing its output leaves the earlier output byte-identical, and the next
  run removes the temporary file it left.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uproot

from pymva import TMVA, DataError, OptionError, PyMVAError
from pymva.factory import Factory

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory *inside* a parent that a traversal would reach (``../``)."""
    work = tmp_path / "job"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _events(seed: int, n: int = 300) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    sig = {"x": rng.normal(1.0, 1.0, n), "y": rng.normal(0.5, 1.0, n)}
    bkg = {"x": rng.normal(-1.0, 1.0, n), "y": rng.normal(-0.5, 1.0, n)}
    return sig, bkg


def _loader(seed: int = 1, name: str = "dataset") -> Any:
    sig, bkg = _events(seed)
    loader = TMVA.DataLoader(name)
    loader.AddVariable("x")
    loader.AddVariable("y")
    loader.AddSignalTree(sig)
    loader.AddBackgroundTree(bkg)
    loader.PrepareTrainingAndTestTree("", "SplitMode=Random:NormMode=NumEvents:!V")
    return loader


def _run_job(seed: int = 1, output: str | None = "TMVA.root") -> Factory:
    factory = Factory("Job", output, "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(_loader(seed), "Fisher", "Fisher", "!H:!V")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    return factory


def _tree_listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------------------------------------- names
# (name, the rule the message must state); the messages show characters as repr() does
BAD_NAMES = [
    ("../evil", "must not contain '/'"),
    ("a/b", "must not contain '/'"),
    ("/abs/path", "must not contain '/'"),
    ("..\\evil", r"must not contain '\\'"),
    ("..", "must not contain '..'"),
    ("a..b", "must not contain '..'"),
    (".", "must not be '.'"),
    ("C:evil", "must not be an absolute path or start with a drive"),
    ("nul\x00byte", r"control character '\x00' (U+0000)"),
    ("tab\there", r"control character '\t' (U+0009)"),
    ("line\nbreak", r"control character '\n' (U+000A)"),
    ("del\x7f", r"control character '\x7f' (U+007F)"),
    ("c1\x85", r"control character '\x85' (U+0085)"),
    ("x" * 201, "is 201 bytes long in UTF-8; at most 200"),
    ("é" * 101, "is 202 bytes long in UTF-8; at most 200"),  # 101 characters, 202 bytes
]


@pytest.mark.parametrize(("name", "rule"), BAD_NAMES)
def test_dataloader_name_is_a_name(workdir: Path, name: str, rule: str) -> None:
    with pytest.raises(
        OptionError, match=r"DataLoader\(thedlName\): the data-set name is a name, not a path"
    ) as e:
        TMVA.DataLoader(name)
    assert rule in str(e.value)


@pytest.mark.parametrize(("name", "rule"), BAD_NAMES)
def test_job_name_is_a_name(workdir: Path, name: str, rule: str) -> None:
    with pytest.raises(OptionError, match=r"Factory\(jobName\): the job name is a name, not a path") as e:
        Factory(name, "TMVA.root", "Silent")
    assert rule in str(e.value)


@pytest.mark.parametrize(("name", "rule"), BAD_NAMES)
def test_method_title_is_a_name_refused_at_booking(workdir: Path, name: str, rule: str) -> None:
    loader = _loader()
    factory = Factory("Job", "TMVA.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    before = _tree_listing(workdir.parent)
    with pytest.raises(
        OptionError, match=r"BookMethod\(title\): the method title is a name, not a path"
    ) as e:
        factory.BookMethod(loader, "Fisher", name, "!H:!V")
    assert rule in str(e.value)
    # refused at booking: nothing was created, inside the job or outside it
    assert _tree_listing(workdir.parent) == before
    assert not factory.HasMethod(loader, name)


def test_empty_names(workdir: Path) -> None:
    """TMVA scripts use DataLoader(""): allowed, the weights go to weights/ (TMVA: /weights)."""
    with pytest.raises(OptionError, match=r"BookMethod\(title\): the method title .*must not be empty"):
        Factory("Job", None, "!V:Silent:AnalysisType=Classification").BookMethod(_loader(), "Fisher", "")
    factory = Factory("", None, "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(_loader(name=""), "Fisher", "Fisher", "!H:!V")
    factory.TrainAllMethods()
    assert sorted(str(p) for p in workdir.rglob("*")) == [
        str(workdir / "weights"),
        str(workdir / "weights" / "_Fisher.weights.xml"),
    ]


def test_make_copy_checks_the_new_name(workdir: Path) -> None:
    loader = _loader()
    with pytest.raises(OptionError, match=r"must not contain '/'"):
        loader.MakeCopy("../other")


def test_names_at_the_limits_and_unicode_names_are_fine(workdir: Path) -> None:
    exactly_200 = "é" * 100  # 200 bytes of UTF-8
    assert TMVA.DataLoader(exactly_200).GetName() == exactly_200
    assert TMVA.DataLoader("v1.2 jets-ü").GetName() == "v1.2 jets-ü"
    factory = Factory("Jöb.v2", None, "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    assert factory.BookMethod(_loader(), "Fisher", "Fisher.v2 (ü)", "!H:!V") is not None
    assert Path("dataset/weights").is_dir()


def test_job_name_and_title_together_must_leave_room_for_the_suffix(workdir: Path) -> None:
    factory = Factory("J" * 150, None, "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    # 150 + 1 + 50 = 201 bytes: '<job>_<title>.weights.xml' would be 213 bytes, too near the 255 limit
    with pytest.raises(OptionError, match=r"file-name stem '<job>_<title>' of 201 bytes.*at most 200"):
        factory.BookMethod(_loader(), "Fisher", "T" * 50, "!H:!V")
    assert factory.BookMethod(_loader(), "Fisher", "T" * 49, "!H:!V") is not None


def test_traversal_names_never_write_outside_the_job(workdir: Path) -> None:
    """What TMVA would do with such names (write ``../evil/weights/...``) never happens."""
    before = _tree_listing(workdir.parent)
    for make in (
        lambda: TMVA.DataLoader("../evil"),
        lambda: Factory("../evil", None, "Silent"),
        lambda: Factory("Job", None, "!V:Silent:AnalysisType=Classification").BookMethod(
            _loader(), "Fisher", "../../evil", ""
        ),
    ):
        with pytest.raises(OptionError):
            make()
    after = _tree_listing(workdir.parent)
    assert [p for p in after if "evil" in p] == []
    assert [p for p in after if p not in before and not p.startswith("job")] == []


# ---------------------------------------------------------------------------------------------- texts
def _bad_declarations() -> list[tuple[str, Any]]:
    sig, _ = _events(2)
    return [
        ("input variable expression", lambda ld: ld.AddVariable("x\x00")),
        ("input variable expression", lambda ld: ld.AddVariable("lab\x00 := x")),
        ("the title", lambda ld: ld.AddVariable("x", "title\x00", "")),
        ("the unit", lambda ld: ld.AddVariable("x", "x", "cm\x1b[31m")),
        ("spectator expression", lambda ld: ld.AddSpectator("y\x00")),
        ("target expression", lambda ld: ld.AddTarget("y\x07")),
        ("the class name", lambda ld: ld.AddTree(sig, "Sig\x00nal")),
        ("cut", lambda ld: ld.AddCut("x>0\x00")),
        ("weight expression", lambda ld: ld.SetWeightExpression("1\x00", "Signal")),
        ("the split options", lambda ld: ld.PrepareTrainingAndTestTree("", "!V:\x00")),
    ]


def test_nul_in_labels_refused_and_the_earlier_weights_file_stays_byte_identical(workdir: Path) -> None:
    _run_job(seed=1, output=None)
    xml = Path("dataset/weights/Job_Fisher.weights.xml")
    good = xml.read_bytes()
    for what, declare in _bad_declarations():
        loader = TMVA.DataLoader("dataset")
        loader.AddVariable("x")
        sig, bkg = _events(2)
        loader.AddSignalTree(sig)
        loader.AddBackgroundTree(bkg)
        with pytest.raises(OptionError, match="control character") as e:
            declare(loader)
        assert what in str(e.value)
    assert xml.read_bytes() == good
    assert _temporaries(xml.parent) == []


def test_control_characters_in_method_options_are_refused_at_booking(workdir: Path) -> None:
    factory = Factory("Job", None, "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    with pytest.raises(OptionError, match=r"option string of method Fisher .* control character '\\x00'"):
        factory.BookMethod(_loader(), "Fisher", "Fisher", "!H:VarTransform=N\x00")
    with pytest.raises(OptionError, match=r"keyword argument VarTransform .* control character '\\x01'"):
        factory.BookMethod(_loader(), "Fisher", "Fisher", VarTransform="N\x01")
    assert not Path("dataset/weights").exists() or list(Path("dataset/weights").iterdir()) == []


def test_blanks_in_expressions_are_fine(workdir: Path) -> None:
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x +\n\ty")  # blanks are removed, as TMVA removes ' '
    loader.AddCut("x > -5 &&\n y > -5")
    assert [v.expression for v in loader.variables] == ["x+y"]
    assert [v.label for v in loader.variables] == ["x+y"]


# ---------------------------------------------------------------------------------------------- output path
def test_output_path_checked_when_the_factory_is_created(workdir: Path) -> None:
    with pytest.raises(
        OptionError, match=r"Factory\(outputFile\) 'TMVA\\x00\.root' contains a NUL character"
    ):
        Factory("Job", "TMVA\x00.root", "Silent")
    Path("results").mkdir()
    with pytest.raises(OptionError, match=r"Factory\(outputFile\) 'results' is a directory"):
        Factory("Job", "results", "Silent")
    with pytest.raises(OptionError, match=r"'results/' names a directory"):
        Factory("Job", "results/", "Silent")
    with pytest.raises(DataError, match=r"the directory '.*missing' does not exist"):
        Factory("Job", "missing/TMVA.root", "Silent")
    with pytest.raises(OptionError, match=r"the file name 'x+…' is 260 bytes long; at most 255"):
        Factory("Job", "x" * 255 + ".root", "Silent")
    with pytest.raises(OptionError, match=r"must be a path"):
        Factory("Job", b"TMVA.root", "Silent")  # type: ignore[arg-type]
    os.mkfifo("pipe.root")
    with pytest.raises(OptionError, match=r"'pipe\.root' exists and is not a regular file"):
        Factory("Job", "pipe.root", "Silent")
    # a good path: accepted, and nothing is written there before the end of the job
    factory = Factory("Job", "results/TMVA.root", "Silent")
    assert factory.output_path == Path("results/TMVA.root")
    assert list(Path("results").iterdir()) == []


def test_unwritable_output_directory_is_refused_at_once(workdir: Path) -> None:
    if os.geteuid() == 0:  # root writes everywhere, except on file systems such as /proc
        if not Path("/proc/self").is_dir():
            pytest.skip("running as root without /proc: no directory that root cannot write")
        directory = Path("/proc")
    else:
        directory = workdir / "readonly"
        directory.mkdir()
        directory.chmod(0o555)
    with pytest.raises(DataError, match=r"cannot create a file in the directory '.*'"):
        Factory("Job", str(directory / "TMVA.root"), "Silent")
    assert not (directory / "TMVA.root").exists()


# ---------------------------------------------------------------------------------------------- disk full
def test_disk_full_while_writing_the_output_file(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run_job(seed=1)
    good = Path("TMVA.root").read_bytes()
    assert len(uproot.open("TMVA.root")["dataset/TestTree"]["Fisher"].array()) == 300

    from uproot.sink.file import FileSink

    real_write = FileSink.write
    calls = {"n": 0}

    def write_until_full(self: Any, location: int, serialization: bytes) -> Any:
        calls["n"] += 1
        if calls["n"] > 20:  # the file has been started: the disk fills up in the middle of it
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, location, serialization)

    monkeypatch.setattr(FileSink, "write", write_until_full)
    with pytest.raises(
        PyMVAError, match=r"cannot write the output file 'TMVA\.root': No space left on device"
    ):
        _run_job(seed=2)  # other events: a complete file would differ
    assert calls["n"] > 20
    assert Path("TMVA.root").read_bytes() == good
    assert _temporaries(workdir) == []


# ---------------------------------------------------------------------------------------------- SIGKILL
_CHILD = textwrap.dedent(
    """
    import os
    import sys
    import numpy as np
    from uproot.sink.file import FileSink
    from pymva import TMVA

    report, wait = int(sys.argv[1]), int(sys.argv[2])  # pipes to and from the test
    real_write = FileSink.write
    state = {"n": 0}

    def write_then_wait(self, location, serialization):
        state["n"] += 1
        if state["n"] == 10:  # the temporary output file has been started
            os.write(report, b"writing\\n")
            os.read(wait, 1)  # blocks: the test never writes, it kills this process
        return real_write(self, location, serialization)

    FileSink.write = write_then_wait
    rng = np.random.default_rng(7)
    sig = {"x": rng.normal(1.0, 1.0, 300), "y": rng.normal(0.5, 1.0, 300)}
    bkg = {"x": rng.normal(-1.0, 1.0, 300), "y": rng.normal(-0.5, 1.0, 300)}
    loader = TMVA.DataLoader("dataset")
    loader.AddVariable("x")
    loader.AddVariable("y")
    loader.AddSignalTree(sig)
    loader.AddBackgroundTree(bkg)
    loader.PrepareTrainingAndTestTree("", "SplitMode=Random:NormMode=NumEvents:!V")
    factory = TMVA.Factory("Job", "TMVA.root", "!V:Silent:!DrawProgressBar:AnalysisType=Classification")
    factory.BookMethod(loader, "Fisher", "Fisher", "!H:!V")
    factory.TrainAllMethods()
    factory.TestAllMethods()
    factory.EvaluateAllMethods()
    os.write(report, b"finished\\n")
    """
)


def test_sigkill_while_writing_keeps_the_earlier_output_and_the_next_run_cleans_up(workdir: Path) -> None:
    _run_job(seed=1)
    good = Path("TMVA.root").read_bytes()
    env = dict(os.environ, PYTHONPATH=str(SRC), MPLBACKEND="Agg")
    log = (workdir.parent / "child.log").open("w")
    report_r, report_w = os.pipe()  # child -> test: "writing"
    wait_r, wait_w = os.pipe()  # test -> child: nothing, ever (the child blocks reading it)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(report_w), str(wait_r)],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        pass_fds=(report_w, wait_r),
    )
    os.close(report_w)
    os.close(wait_r)
    try:
        ready, _, _ = select.select([report_r], [], [], 300)
        line = os.read(report_r, 100) if ready else b"(nothing within 300 s)"
        assert line == b"writing\n", f"{line!r}; child's output: {(workdir.parent / 'child.log').read_text()}"
        # the child is blocked inside the write of its temporary output file
        left = _temporaries(workdir)
        assert len(left) == 1
        assert left[0].startswith(".TMVA.root.pymva-")
        assert f"-{child.pid}-" in left[0]
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(report_r)
        os.close(wait_w)
        log.close()
    assert Path("TMVA.root").read_bytes() == good  # the earlier output, byte for byte
    assert len(_temporaries(workdir)) == 1  # a killed process cannot clean up ...
    _run_job(seed=3)  # ... the next run does
    assert _temporaries(workdir) == []
    assert _temporaries(workdir / "dataset" / "weights") == []
    assert Path("TMVA.root").read_bytes() != good
    assert len(uproot.open("TMVA.root")["dataset/TrainTree"]["Fisher"].array()) == 300


def test_canvas_save_as_refuses_nul_and_reports_write_errors(workdir: Path) -> None:
    pytest.importorskip("matplotlib")
    from pymva.io.rootfile import canvas_class

    fig = canvas_class()()
    with pytest.raises(OptionError, match="NUL"):
        fig.SaveAs("roc\x00.png")
    Path("roc.png").write_bytes(b"earlier")
    Path("roc.png").chmod(0o444)  # the file itself may be read-only: it is replaced, not written into
    blocker = Path("sub")
    blocker.write_text("a file where a directory is needed")
    with pytest.raises(DataError, match=r"SaveAs\('sub/roc.png'\): cannot write the file"):
        fig.SaveAs("sub/roc.png")
    fig.SaveAs("roc.png")
    assert Path("roc.png").read_bytes().startswith(b"\x89PNG")
    assert _temporaries(workdir) == []
