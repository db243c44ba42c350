"""TMVA.TMVAGui / plotting.write_plots / ``python -m pymva gui``: every applicable plot as PNG and
PDF, and an index.html that shows them all (TMVAGui.cxx's buttons)."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pymva import TMVA, DataError, OptionError
from pymva.cli import main
from pymva.plotting import write_plots
from pymva.plotting.gui import safe_name

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img" and a.get("src"):
            self.images.append(str(a["src"]))
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))


def _page(index: Path) -> _Page:
    page = _Page()
    page.feed(index.read_text(encoding="utf-8"))
    return page


def test_tmvagui_writes_all_plots_of_a_pymva_output_as_png_and_pdf(
    pymva_output: Path, tmp_path: Path
) -> None:
    index = TMVA.TMVAGui(str(pymva_output), outdir=tmp_path / "plots")
    stems = {
        "variables_Id", "CorrelationMatrixS", "CorrelationMatrixB", "overtrain_Fisher", "overtrain_PyTorch",
        "mvaeffs_Fisher", "mvaeffs_PyTorch", "rejBvsS", "paracoor_Fisher", "paracoor_PyTorch",
        "TrainingHistory_PyTorch",
    }  # fmt: skip
    images = tmp_path / "plots" / "dataset"
    assert {p.name for p in images.iterdir()} == {f"{s}.{e}" for s in stems for e in ("png", "pdf")}
    for s in stems:
        assert (images / f"{s}.png").read_bytes()[:8] == PNG_MAGIC
        assert (images / f"{s}.pdf").read_bytes()[:5] == b"%PDF-"
    html = _page(index)
    assert sorted(html.images) == sorted(f"dataset/{s}.png" for s in stems)
    assert {f"dataset/{s}.pdf" for s in stems} <= set(html.links)
    assert index == tmp_path / "plots" / "index.html"
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.realdata
def test_root_written_output(root_bdt_output: Path, tmp_path: Path) -> None:
    page = write_plots(root_bdt_output, tmp_path / "b", formats=["png"])
    names = {p.name for p in page.files}
    assert names == {
        f"{s}.png"
        for s in ("variables_Id", "variables_Deco", "variables_PCA", "variables_Gauss_Deco", "CorrelationMatrixS", "CorrelationMatrixB", "overtrain_BDT",
                  "mvaeffs_BDT", "rejBvsS", "paracoor_BDT", "BDT_ControlPlots")
    }  # fmt: skip
    assert sorted(_page(page.index).images) == sorted(names)  # ROOT 5: no dataset directory
    assert "Dataset (top level of the file)" in page.index.read_text(encoding="utf-8")


def test_cli_and_errors(pymva_output: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gui", str(pymva_output), "-o", str(tmp_path / "cli"), "-f", "svg", "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cli" / "index.html")
    assert len(list((tmp_path / "cli" / "dataset").glob("*.svg"))) == 11
    assert main(["gui", str(tmp_path / "missing.root"), "-o", str(tmp_path / "x")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(OptionError, match="image formats"):
        write_plots(pymva_output, tmp_path / "y", formats=["gif"])
    with pytest.raises(DataError, match="did you mean 'dataset'"):
        write_plots(pymva_output, tmp_path / "y", "datset")


def test_python_dash_m_pymva(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pymva", "gui", str(tmp_path / "none.root")],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert run.returncode == 1
    assert "pymva gui: error: TMVA output file" in run.stderr


def test_names_from_the_file_never_leave_the_output_directory() -> None:
    assert safe_name("../../etc/passwd") == "_.._etc_passwd"
    assert safe_name("..") == "_"
    assert safe_name("BDT 2/x") == "BDT_2_x"
    assert safe_name("Fisher-D.G+1") == "Fisher-D.G+1"
