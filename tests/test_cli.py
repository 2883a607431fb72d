"""The `kg` command: discoverable (help, examples, README), thin, and failing in one clear line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

import kg.extract
from cli import app
from tests.conftest import TOWN_REPORT, make_extraction

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]
runner = CliRunner()


def kg_(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200", "KG_DEBUG": ""})


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_commands_are_the_planned_set() -> None:
    assert set(COMMANDS) >= {"build", "extract", "eval", "viz", "query", "load", "export", "validate"}


def test_help_lists_every_command_with_a_description() -> None:
    res = kg_("--help")
    assert res.exit_code == 0
    for name in COMMANDS:
        line = next((ln for ln in res.output.splitlines() if re.search(rf"\s{name}\s+\S", ln)), None)
        assert line is not None, f"`kg --help` does not list {name} with a description"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_help_has_an_example(name: str) -> None:
    res = kg_(name, "--help")
    assert res.exit_code == 0 and "Example" in res.output and f"kg {name}" in res.output


def test_readme_documents_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in COMMANDS if not re.search(rf"\bkg {name}\b", readme)]
    assert not missing, f"README.md does not document: {missing}"


def test_version() -> None:
    res = kg_("--version")
    assert res.exit_code == 0 and res.output.startswith("townkg ")


def test_build_reports_bad_file_on_one_line_and_builds_the_rest(tmp_path: Path) -> None:
    """Real extractor and stores, end to end: one tiny realistic report and one empty file."""
    src = tmp_path / "reports"
    src.mkdir()
    (src / "qingxi.txt").write_text(TOWN_REPORT, encoding="utf-8")
    (src / "empty.txt").write_bytes(b"")
    out = tmp_path / "build"
    res = kg_("build", src, "--out", out)
    assert res.exit_code == 0, res.output
    bad = [ln for ln in res.stderr.splitlines() if "empty.txt" in ln]
    assert len(bad) == 1 and "E101" in bad[0] and "empty" in bad[0], res.stderr
    assert "Traceback" not in res.output
    assert f"Visualization: {out / 'programs.html'}" in res.stdout
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["totals"]["reports"] == 1 and summary["failed"][0]["file"].endswith("empty.txt")
    for part in ("extractions.jsonl", "programs.html", "rdf", "graph.lbug"):
        assert (out / part).exists(), part


def test_build_exits_nonzero_when_nothing_could_be_built(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"")
    (tmp_path / "b.txt").write_text("   \n", encoding="utf-8")
    res = kg_("build", tmp_path / "a.txt", tmp_path / "b.txt", "--out", tmp_path / "out")
    assert res.exit_code == 1
    assert "nothing was built" in res.stderr and not (tmp_path / "out").exists()
    assert sum("E101" in ln for ln in res.stderr.splitlines()) == 2


def test_build_error_is_one_line(fake_extractor, memory_sinks, reports_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "keep.txt").write_text("x", encoding="utf-8")
    res = kg_("build", reports_dir, "--out", tmp_path / "precious")
    assert res.exit_code == 1
    assert _lines(res.stderr)[-1].startswith("error: ") and "precious" in _lines(res.stderr)[-1]
    assert "Traceback" not in res.output


def test_extract_errors_name_the_file_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    for path, code in ((tmp_path / "empty.txt", "E101"), (tmp_path / "missing.txt", "E109")):
        res = kg_("extract", path)
        assert res.exit_code == 1
        (line,) = _lines(res.stderr)
        assert line.startswith("error: ") and str(path) in line and code in line


def test_extract_formats(fake_extractor, reports_dir: Path) -> None:
    res = kg_("extract", reports_dir / "a.txt", "--format", "json")
    assert res.exit_code == 0 and json.loads(res.stdout)["town"]["name"] == "青溪镇"
    res = kg_("extract", reports_dir / "a.txt", "--format", "gold")
    gold = json.loads(res.stdout)
    assert res.exit_code == 0 and gold["town"] == "青溪镇" and gold["programs"][0]["span"]
    res = kg_("extract", reports_dir / "a.txt")
    assert res.exit_code == 0 and "乡村振兴" in res.stdout and "财政总收入" in res.stdout


def test_unexpected_errors_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(path: object, max_bytes: int = 0) -> None:
        raise ValueError("bug\nover two lines")

    monkeypatch.setattr(kg.extract, "extract_file", broken)
    res = kg_("extract", tmp_path / "x.txt")
    assert res.exit_code == 70
    (line,) = _lines(res.stderr)
    assert "internal error ValueError: bug over two lines" in line and "KG_DEBUG" in line


def test_eval_wires_gold_to_the_extractor(fake_extractor, reports_dir: Path, tmp_path: Path) -> None:
    from kg.gold import to_gold

    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    gold = to_gold(make_extraction("a.txt"))
    (gold_dir / "a.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    res = kg_("eval", gold_dir, "--raw", reports_dir, "--format", "json")
    assert res.exit_code == 0, res.output
    totals = json.loads(res.stdout)["totals"]
    assert totals["programs"]["f1"] == 1.0
    res = kg_("eval", gold_dir, "--raw", reports_dir)
    assert res.exit_code == 0 and "programs" in res.stdout
    res = kg_("eval", tmp_path / "nope")
    assert res.exit_code == 1 and "nope" in res.stderr


def test_viz_redraws_from_a_build(fake_extractor, memory_sinks, reports_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert kg_("build", reports_dir, "--out", out).exit_code == 0
    page = tmp_path / "anhui.html"
    res = kg_("viz", "--build", out, "--province", "安徽", "--out", page)
    assert res.exit_code == 0 and str(page) in res.stdout
    text = page.read_text("utf-8")
    assert "新杭镇" in text and "青溪镇" not in text
    res = kg_("viz", "--build", tmp_path / "none")
    assert res.exit_code == 1 and "kg build" in res.stderr


KG_EXE = Path(sys.executable).parent / "kg"


@pytest.mark.skipif(not KG_EXE.exists(), reason="console script not installed (pip install -e .)")
def test_console_script_is_installed() -> None:
    proc = subprocess.run([str(KG_EXE), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "build" in proc.stdout


def test_readme_lists_every_error_code() -> None:
    from kg.errors import Code

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c.value for c in Code if f"| {c.value} |" not in readme]
    assert not missing, f"README.md error-code table lacks: {missing}"
