"""kg.build: input expansion, per-file failures, atomic replacement, determinism, real stores.

Extraction is faked (tests/conftest.py) except where noted, so these pin the orchestration only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import kg.build
import kg.summary
import kg.viz
from kg.build import EXTRACTIONS, SUMMARY, build, expand_paths, extraction_json, load_extractions
from kg.errors import Code, TownKGError
from tests.conftest import make_extraction, report_text

ROOT = Path(__file__).resolve().parents[1]


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def test_expand_paths_sorted_filtered_and_explicit(tmp_path: Path) -> None:
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    (d / ".hidden").mkdir()
    (d / "build").mkdir()
    for name in ("b.txt", "a.HTML", "c.pdf", "d.docx", "e.htm", "notes.md", ".x.txt", "sub/z.txt",
                 ".hidden/h.txt", "build/programs.html"):
        (d / name).write_text("x", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    explicit = tmp_path / "explicit.rtf"
    files, failed = expand_paths([d, explicit, d / "b.txt", tmp_path / "empty"], exclude=[d / "build"])
    rel = [str(p.relative_to(tmp_path)) for p in files]
    assert rel == ["in/a.HTML", "in/b.txt", "in/c.pdf", "in/d.docx", "in/e.htm", "in/sub/z.txt",
                   "explicit.rtf"]
    assert len(failed) == 1 and failed[0][0] == tmp_path / "empty" and Code.UNSUPPORTED.value in failed[0][1]


def test_build_collects_failures_and_builds_the_rest(fake_extractor, memory_sinks, reports_dir: Path,
                                                     tmp_path: Path) -> None:
    calls: list[tuple[str, int, int, str]] = []
    (reports_dir / "bug.txt").write_text("BOOM", encoding="utf-8")
    out = tmp_path / "out"
    res = build([reports_dir, reports_dir / "missing.txt"], out, progress=lambda *a: calls.append(a))
    assert res.built and [p.name for p in res.ok] == ["a.txt", "b.txt"]
    failed = {p.name: msg for p, msg in res.failed}
    assert set(failed) == {"bug.txt", "empty.txt", "missing.txt"}
    assert failed["empty.txt"].endswith("[E101]") and failed["missing.txt"].endswith("[E109]")
    assert failed["bug.txt"].startswith("internal error RuntimeError") and "\n" not in failed["bug.txt"]
    assert ("extract", 0, 5, str(reports_dir / "a.txt")) in calls and ("extract", 5, 5, "") in calls
    assert {c[0] for c in calls} == {"extract", "store", "viz", "validate"}
    assert res.summary["shacl"]["conforms"] is True
    summary = json.loads((out / SUMMARY).read_text("utf-8"))
    assert summary == res.summary
    assert [r["town"] for r in summary["towns"]] == ["青溪镇", "新杭镇"]
    assert summary["totals"]["programs"] == 3  # 乡村振兴 shared: counted once
    assert summary["totals"]["failed"] == 3 and summary["stores"]["memory"]["node:Town"] == 2
    assert (out / "programs.html").read_text("utf-8").startswith("<!DOCTYPE html>")
    assert len(memory_sinks) == 1 and memory_sinks[0].graph.nodes  # type: ignore[attr-defined]
    assert _leftovers(out) == []


def test_extractions_roundtrip(fake_extractor, memory_sinks, reports_dir: Path, tmp_path: Path) -> None:
    res = build([reports_dir], tmp_path / "out")
    back = load_extractions(tmp_path / "out")
    assert back == res.extractions
    lines = (tmp_path / "out" / EXTRACTIONS).read_text("utf-8").splitlines()
    assert [extraction_json(e) for e in back] == lines


def test_load_extractions_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(TownKGError) as e:
        load_extractions(tmp_path)
    assert e.value.code is Code.UNREADABLE and "kg build" in str(e.value)
    (tmp_path / EXTRACTIONS).write_text('{"meta": 1}\n', encoding="utf-8")
    with pytest.raises(TownKGError) as e:
        load_extractions(tmp_path)
    assert e.value.code is Code.CORRUPT and "line 1" in str(e.value) and "\n" not in str(e.value)


def test_builds_are_byte_identical(fake_extractor, memory_sinks, reports_dir: Path, tmp_path: Path) -> None:
    build([reports_dir], tmp_path / "one")
    build([reports_dir], tmp_path / "two")
    for name in (EXTRACTIONS, SUMMARY, "programs.html"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_real_extractor_is_deterministic_through_build(memory_sinks, tmp_path: Path) -> None:
    """End to end on one seed: same input, byte-identical extractions.jsonl (real extractor)."""
    seed = ROOT / "seeds" / "001_a58c2479b1a2dd6b.txt"
    build([seed], tmp_path / "one")
    build([seed], tmp_path / "two")
    one = (tmp_path / "one" / EXTRACTIONS).read_bytes()
    assert one and one == (tmp_path / "two" / EXTRACTIONS).read_bytes()


class Boom(Exception):
    pass


def _raiser(exc: BaseException) -> Callable[..., None]:
    def fail(*args: object, **kwargs: object) -> None:
        raise exc

    return fail


def _raising_sink(root: Path) -> object:
    class Sink:
        def write(self, graph: object) -> dict[str, int]:
            (root / "half-written").write_text("partial", encoding="utf-8")
            raise Boom("disk on fire")

        def counts(self) -> dict[str, int]:
            return {}

        def optimize(self) -> None:
            pass

        def close(self) -> None:
            pass

    return Sink()


@pytest.mark.parametrize("where", ["sink", "viz", "summary"])
def test_failed_build_keeps_previous_output(fake_extractor, memory_sinks, reports_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    out = tmp_path / "out"
    build([reports_dir / "a.txt"], out)
    before = _snapshot(out)
    if where == "sink":
        monkeypatch.setattr(kg.build, "SINKS", {"memory": lambda root: _MemoryLike(), "boom": _raising_sink})
        expected: type[BaseException] = TownKGError
    elif where == "viz":
        monkeypatch.setattr(kg.viz, "write_program_network", _raiser(Boom("viz")))
        expected = Boom
    else:
        monkeypatch.setattr(kg.summary, "summarize", _raiser(KeyboardInterrupt()))
        expected = KeyboardInterrupt
    with pytest.raises(expected) as e:
        build([reports_dir], out)
    if where == "sink":
        assert e.value.code is Code.STORE and "boom store failed: Boom: disk on fire" in str(e.value)
    assert _snapshot(out) == before
    assert _leftovers(out) == []


class _MemoryLike:
    def write(self, graph: object) -> dict[str, int]:
        return {}

    def counts(self) -> dict[str, int]:
        return {"nodes": 0, "edges": 0}

    def optimize(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_nothing_readable_leaves_previous_build(fake_extractor, memory_sinks, reports_dir: Path,
                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    build([reports_dir / "a.txt"], out)
    before = _snapshot(out)
    res = build([reports_dir / "empty.txt", tmp_path / "nope.txt"], out)
    assert not res.built and len(res.failed) == 2 and res.summary["totals"]["failed"] == 2
    assert _snapshot(out) == before


def test_refuses_to_replace_a_directory_that_is_not_a_build(fake_extractor, memory_sinks, reports_dir: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work", encoding="utf-8")
    with pytest.raises(FileExistsError) as e:
        build([reports_dir], out)
    assert "not a TownKG build" in str(e.value)
    assert (out / "thesis.tex").read_text("utf-8") == "years of work" and _leftovers(out) == []
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with pytest.raises(NotADirectoryError):
        build([reports_dir], tmp_path / "afile")


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    return int(proc.stdout)


def test_leftovers_of_a_killed_build_are_recovered(fake_extractor, memory_sinks, reports_dir: Path,
                                                   tmp_path: Path) -> None:
    """Killed between the two renames: the moved-aside build comes back; a dead build's temp dir goes."""
    out = tmp_path / "out"
    build([reports_dir / "a.txt"], out)
    pid = _dead_pid()
    old = tmp_path / f".out.old-{pid}-abc"
    out.rename(old)
    (tmp_path / f".out.tmp-{pid}-def").mkdir()
    live = tmp_path / f".out.tmp-{os.getpid()}-ghi"  # a concurrent build of a live process: untouched
    live.mkdir()
    kg.build._recover(out)
    assert (out / SUMMARY).is_file() and _leftovers(out) == [live.name]


def test_real_stores_agree(fake_extractor, reports_dir: Path, tmp_path: Path) -> None:
    """The default sinks (Oxigraph + LadybugDB) land inside the build and hold the same graph."""
    out = tmp_path / "out"
    res = build([reports_dir], out)
    assert (out / "rdf").is_dir() and (out / "graph.lbug").is_file()
    stores = res.summary["stores"]
    assert set(stores) == {"oxigraph", "ladybug"}
    assert stores["oxigraph"]["nodes"] == stores["ladybug"]["nodes"] > 0
    assert stores["oxigraph"]["edges"] == stores["ladybug"]["edges"] > 0
    assert _leftovers(out) == []


def test_streamed_store_failure_is_one_store_error(fake_extractor, reports_dir: Path, tmp_path: Path) -> None:
    """An OS error while Oxigraph loads what was streamed (here: its directory gone, as with a full disk) ends
    the build with the store's one-line E201 error; the previous build and no temp directory remain."""
    import shutil

    out = tmp_path / "out"
    build([reports_dir], out)
    before = _snapshot(out)

    def lose_store(stage: str, done: int, total: int, item: str) -> None:
        if stage == "store" and done == 0:
            for tmp in tmp_path.glob(".out.tmp-*"):
                shutil.rmtree(tmp / "rdf")

    with pytest.raises(TownKGError) as e:
        build([reports_dir], out, progress=lose_store, incremental=False)
    assert e.value.code is Code.STORE and "oxigraph store failed: FileNotFoundError" in str(e.value)
    assert "\n" not in str(e.value)
    assert _snapshot(out) == before
    assert _leftovers(out) == []


def test_library_accepts_plain_strings(fake_extractor, memory_sinks, tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(report_text(), encoding="utf-8")
    res = build([str(tmp_path / "r.txt")], str(tmp_path / "out"))
    assert res.built and res.viz == tmp_path / "out" / "programs.html" and res.viz.is_file()
    assert load_extractions(res.out)[0] == make_extraction("r.txt")
