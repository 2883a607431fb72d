"""The hostile corpus (tests/hostile/, see its README.md) through `kg build`: one clear line per bad file.

The committed files are small text; big, binary and file-system cases are generated into a copy at test
time. The build runs in-process through the CLI with the real extractor and the real stores. The file
that vanishes mid-build is deleted when the first file is extracted (after the build listed it); the
unreadable file is read by a forked child that, when the suite runs as root (CI), first drops to
`nobody`, because root reads any file whatever its mode.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import kg.build
import kg.extract
from kg.read import MIB
from tests.conftest import TOWN_REPORT
from tests.test_formats import PDF_PAGES, _encrypted, _pdf

HOSTILE = Path(__file__).resolve().parent / "hostile"
REPORT = TOWN_REPORT.replace("青溪镇", "岱西镇")
# name → (error code, words the line must contain); None: the file is built (town given instead).
FAILS: dict[str, tuple[str, tuple[str, ...]]] = {
    "empty.txt": ("E101", ("no text",)),
    "whitespace.txt": ("E101", ("no text",)),
    "binary.txt": ("E102", ("binary file",)),
    "noise.txt": ("E103", ("not decodable",)),
    "scan.pdf": ("E105", ("no text layer", "OCR")),
    "encrypted.pdf": ("E106", ("encrypted with a password",)),
    "truncated.pdf": ("E106", ("truncated",)),
    "corrupt.docx": ("E106", ("cannot open DOCX",)),
    "legacy.docx": ("E106", ("legacy Word .doc",)),
    "huge.txt": ("E108", ("50.0 MB", "20 MB limit", "--max-mb")),
    "vanishing.txt": ("E109", ("file not found", "deleted or moved")),
    "dangling.txt": ("E109", ("file not found",)),
    "fifo.txt": ("E109", ("not a regular file",)),
    "folder.txt": ("E104", ("directory holds no report files",)),
    "report.xlsx": ("E104", ("unsupported file type",)),
}
BUILT = {"gbk.txt": "衢山镇", "big5.txt": "长涂镇", "utf16-bom.txt": "秀山乡", "spam.html": "东沙镇",
         "control-chars.txt": "高亭镇", "truncated-utf8.txt": "岱西镇", "oneline.txt": "岱西镇",
         "nested.txt": "岱西镇"}
NOT_REPORTS = ("news.txt", "english.txt", "scripts-only.html")


def _scan_pdf() -> bytes:
    """A one-page PDF with a drawing and no text: what a scanner without OCR writes."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.rect(50, 500, 400, 200, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def make_corpus(root: Path) -> tuple[Path, list[Path]]:
    """tests/hostile/ plus the generated cases in `root/corpus`; returns it and the explicit extra paths."""
    d = root / "corpus"
    shutil.copytree(HOSTILE, d)
    (d / "README.md").unlink()
    (d / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2048))
    (d / "noise.txt").write_bytes(b"\x80\xff" * 300)
    (d / "truncated-utf8.txt").write_bytes(REPORT.encode("utf-8")[:-2])  # cut inside the last "。"
    (d / "oneline.txt").write_text(REPORT.replace("\n", "") * 180, encoding="utf-8")
    (d / "nested.txt").write_text("(" * 5000 + "“" * 5000 + REPORT + "”" * 5000 + ")" * 4000, encoding="utf-8")
    (d / "scan.pdf").write_bytes(_scan_pdf())
    pdf = _pdf(PDF_PAGES)
    (d / "encrypted.pdf").write_bytes(_encrypted(pdf, "secret"))
    (d / "truncated.pdf").write_bytes(pdf[: len(pdf) // 2])
    (d / "corrupt.docx").write_bytes(b"PK\x03\x04" + os.urandom(600))
    (d / "legacy.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    block = (REPORT.encode("utf-8") * (MIB // len(REPORT.encode("utf-8")) + 1))[:MIB]
    with (d / "huge.txt").open("wb") as fh:  # 50 MB written, not sparse
        for _ in range(50):
            fh.write(block)
    (d / "vanishing.txt").write_text(REPORT, encoding="utf-8")
    (d / "dangling.txt").symlink_to(d / "no-such-file.txt")
    os.mkfifo(d / "fifo.txt")
    (root / "folder.txt").mkdir()
    (root / "report.xlsx").write_bytes(b"PK\x03\x04" + bytes(100))
    return d, [root / "folder.txt", root / "report.xlsx"]


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`kg build corpus folder.txt report.xlsx --out out`, once for the module."""
    from cli import app

    root = tmp_path_factory.mktemp("hostile")
    corpus, extra = make_corpus(root)
    real = kg.extract.extract_file
    calls: list[Path] = []

    def extract_then_vanish(path: Path, max_bytes: int = 20 * MIB) -> Any:
        calls.append(Path(path))
        (corpus / "vanishing.txt").unlink(missing_ok=True)  # listed by the build already: gone mid-build
        return real(path, max_bytes=max_bytes)

    out = root / "out"
    # one process, so the stand-in above sees every file (builds with --workers extract in a process pool)
    serial = ["--workers", "1"] if "workers" in inspect.signature(kg.build.build).parameters else []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kg.extract, "extract_file", extract_then_vanish)
        res = CliRunner().invoke(app, ["build", str(corpus), *map(str, extra), "--out", str(out), "--no-validate",
                                       *serial], env={"COLUMNS": "100", "KG_DEBUG": ""})
    assert corpus / "vanishing.txt" in calls, res.output
    paths = {p.name: p for p in [*corpus.iterdir(), *extra]}
    paths["vanishing.txt"] = corpus / "vanishing.txt"
    return {"res": res, "out": out, "paths": paths}


def _lines_about(stderr: str, path: Path) -> list[str]:
    return [ln.strip() for ln in stderr.splitlines() if str(path) in ln]


def test_corpus_is_big_enough() -> None:
    assert len(FAILS) + len(BUILT) + len(NOT_REPORTS) + 1 >= 20  # + locked.txt (its own test)
    committed = {p.name for p in HOSTILE.iterdir()} - {"README.md"}
    assert committed <= set(FAILS) | set(BUILT) | set(NOT_REPORTS)
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    for name in [*FAILS, *BUILT, *NOT_REPORTS, "locked.txt"]:
        assert f"`{name}" in readme, name


@pytest.mark.parametrize("name", sorted(FAILS))
def test_each_bad_file_is_one_clear_line(hostile_build: dict[str, Any], name: str) -> None:
    res, path = hostile_build["res"], hostile_build["paths"][name]
    assert res.exit_code == 0, res.output  # other files were built
    assert "Traceback" not in res.output and "internal error" not in res.output
    code, words = FAILS[name]
    lines = _lines_about(res.stderr, path)
    assert len(lines) == 1, (name, res.stderr)
    assert lines[0].endswith(f"[{code}]"), lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_the_good_files_are_built(hostile_build: dict[str, Any]) -> None:
    out: Path = hostile_build["out"]
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    towns = {r["town"] for r in summary["towns"]}
    assert set(BUILT.values()) <= towns
    failed = {Path(f["file"]).name for f in summary["failed"]}
    assert set(FAILS) <= failed <= set(FAILS) | set(NOT_REPORTS)
    assert summary["stores"]["oxigraph"]["node:Town"] == summary["stores"]["ladybug"]["node:Town"] >= 6
    assert not failed & set(BUILT)
    for name in BUILT:  # no error about the good files on stderr (a warning line for replaced bytes is fine)
        errors = [ln for ln in _lines_about(hostile_build["res"].stderr, hostile_build["paths"][name])
                  if not ln.startswith("warning:")]
        assert errors == []
    records = [json.loads(ln) for ln in (out / "extractions.jsonl").read_text("utf-8").splitlines()]
    spam = next(r for r in records if r["meta"]["file"] == "spam.html")
    assert spam["town"]["name"] == "东沙镇"
    assert not {p["name"] for p in spam["programs"]} & {"林长制", "五水共治"}  # from the script and the style
    assert all(i["value"] not in (100, 3.2) for i in spam["indicators"])
    cut = next(r for r in records if r["meta"]["file"] == "truncated-utf8.txt")
    assert any("undecodable" in w for w in cut["warnings"])


@pytest.mark.parametrize("name", NOT_REPORTS)
def test_not_a_report_is_one_clear_line(hostile_build: dict[str, Any], name: str) -> None:
    lines = _lines_about(hostile_build["res"].stderr, hostile_build["paths"][name])
    assert len(lines) == 1 and lines[0].endswith("[E107]")


def test_a_damaged_file_that_was_built_gets_a_warning_line(hostile_build: dict[str, Any]) -> None:
    lines = _lines_about(hostile_build["res"].stderr, hostile_build["paths"]["truncated-utf8.txt"])
    assert len(lines) == 1 and "undecodable" in lines[0]


def test_unreadable_file_is_one_clear_line_even_for_root(tmp_path: Path) -> None:
    """chmod 000 stops only a reader without CAP_DAC_OVERRIDE: as root (CI), `kg build` runs under
    `setpriv` with that capability (and CAP_DAC_READ_SEARCH) dropped, so root is refused like anyone."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "good.txt").write_text(REPORT, encoding="utf-8")
    (d / "locked.txt").write_text(REPORT.replace("岱西镇", "衢山镇"), encoding="utf-8")
    (d / "locked.txt").chmod(0)
    cmd = [str(Path(sys.executable).parent / "kg"), "build", str(d), "--out", str(tmp_path / "out"), "--no-validate"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.fail("setpriv not found: install Debian's util-linux", pytrace=False)
        cmd = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", *cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    (line,) = _lines_about(res.stderr, d / "locked.txt")
    assert line == f"{d / 'locked.txt'}: permission denied [E109]"
    assert _lines_about(res.stderr, d / "good.txt") == []
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    assert [r["town"] for r in summary["towns"]] == ["岱西镇"]
