"""Parallel and incremental builds (issue 8): same output for any number of workers; a rebuild reuses
unchanged reports, replaces a changed report's facts, drops a removed report's facts, and leaves the
stores exactly as a full rebuild would (compared store content, not only counts).

Extraction is the real one where workers are compared (seeds), and a stand-in elsewhere (conftest):
these tests pin orchestration, not extraction quality.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import kg.build
import kg.extract
import kg.stores.delta
from kg.build import EXTRACTIONS, SUMMARY, build, load_extractions
from kg.graph import report_id
from kg.incremental import MANIFEST
from kg.model import Extraction
from kg.rdf import report_graph
from tests.conftest import fake_extract_file, report_text

ROOT = Path(__file__).resolve().parents[1]
NEWS = "新华社北京3月5日电 今天上午,十四届全国人大一次会议在人民大会堂开幕。会议听取了国务院总理所作的报告。\n"


def oxigraph_dump(out: Path) -> list[str]:
    """Every quad of a build's RDF store, as sorted N-Quads lines."""
    from pyoxigraph import RdfFormat, Store

    store = Store.read_only(str(out / "rdf"))
    try:
        return sorted((store.dump(format=RdfFormat.N_QUADS) or b"").decode("utf-8").splitlines())
    finally:
        del store


def ladybug_dump(out: Path) -> dict[str, list[str]]:
    """Every node and relationship of a build's LadybugDB graph with its properties (internal ids dropped)."""
    from kg.graph import EDGE_TYPES, LABELS
    from kg.stores.ladybug_store import LadybugSink

    def clean(d: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in d.items() if not k.startswith("_")}, ensure_ascii=False, sort_keys=True)

    sink = LadybugSink(out / "graph.lbug", read_only=True)
    try:
        dump = {lb: sorted(clean(r["n"]) for r in sink.query(f"MATCH (n:{lb}) RETURN n")) for lb in LABELS}
        for t in EDGE_TYPES:
            rows = sink.query(f"MATCH (a)-[r:{t}]->(b) RETURN a.id AS a, b.id AS b, r")
            dump[t] = sorted(f"{r['a']}>{r['b']} {clean(r['r'])}" for r in rows)
        return dump
    finally:
        sink.close()


def graphs_in(out: Path) -> set[str]:
    from pyoxigraph import Store

    store = Store.read_only(str(out / "rdf"))
    try:
        return {g.value for g in store.named_graphs()}
    finally:
        del store


@pytest.fixture
def counting_extractor(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The conftest stand-in, with the real content hash (what reuse is keyed on); returns the files it read."""
    calls: list[str] = []

    def extract(path: str | Path, max_bytes: int = 20 * 1024 * 1024) -> Extraction:
        calls.append(Path(path).name)
        ex = fake_extract_file(path, max_bytes)
        ex.meta.sha256 = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return ex

    monkeypatch.setattr(kg.extract, "extract_file", extract)
    return calls


@pytest.fixture
def three(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text(report_text("青溪镇", programs=("乡村振兴", "河长制")), encoding="utf-8")
    (d / "b.txt").write_text(report_text("新杭镇", "广德市>宣城市>安徽省", 2024, ("乡村振兴", "千万工程")),
                             encoding="utf-8")
    (d / "c.txt").write_text(report_text("店口镇", "诸暨市>绍兴市>浙江省", 2020, ("五水共治", "河长制")),
                             encoding="utf-8")
    return d


def _same_as_full(inc: Path, inputs: Path, tmp_path: Path) -> None:
    full = tmp_path / "full"
    shutil.rmtree(full, ignore_errors=True)
    res = build([inputs], full, workers=1, incremental=False, validate=False)
    assert res.stores == {"oxigraph": "written", "ladybug": "written"}
    assert (inc / EXTRACTIONS).read_bytes() == (full / EXTRACTIONS).read_bytes()
    assert oxigraph_dump(inc) == oxigraph_dump(full)
    assert ladybug_dump(inc) == ladybug_dump(full)
    a, b = (json.loads((d / SUMMARY).read_text("utf-8")) for d in (inc, full))
    assert a == b


def test_workers_give_identical_builds(tmp_path: Path) -> None:
    """Real extractor, seeds: byte-identical extractions.jsonl and summary, equal stores, for 1 and 2 workers."""
    seeds = ROOT / "seeds"
    one = build([seeds], tmp_path / "one", workers=1, validate=False)
    two = build([seeds], tmp_path / "two", workers=2, validate=False)
    assert one.workers == 1 and two.workers == 2 and one.ok == two.ok and not one.failed
    for name in (EXTRACTIONS, SUMMARY):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    assert one.summary["stores"] == two.summary["stores"]
    assert oxigraph_dump(tmp_path / "one") == oxigraph_dump(tmp_path / "two")


def test_workers_keep_failures_in_order(fake_extractor: Any, memory_sinks: list[object], reports_dir: Path,
                                        tmp_path: Path) -> None:
    (reports_dir / "bug.txt").write_text("BOOM", encoding="utf-8")
    res = build([reports_dir, reports_dir / "missing.txt"], tmp_path / "out", workers=3)
    assert [p.name for p in res.ok] == ["a.txt", "b.txt"]
    assert [p.name for p, _ in res.failed] == ["bug.txt", "empty.txt", "missing.txt"]
    assert res.failed[0][1].startswith("internal error RuntimeError")


def test_a_dying_worker_costs_no_report(monkeypatch: pytest.MonkeyPatch, memory_sinks: list[object],
                                        tmp_path: Path) -> None:
    """A worker killed mid-build (here: it exits on one file, as under the OOM killer) breaks the pool; the
    files it had and every later one are extracted in the build's own process, in order."""
    parent = os.getpid()

    def dies_in_a_worker(path: str | Path, max_bytes: int = 1 << 20) -> Any:
        if Path(path).name == "r07.txt" and os.getpid() != parent:
            os._exit(9)
        return fake_extract_file(path, max_bytes)

    monkeypatch.setattr(kg.extract, "extract_file", dies_in_a_worker)
    d = tmp_path / "reports"
    d.mkdir()
    for i in range(40):
        (d / f"r{i:02d}.txt").write_text(report_text(f"镇{i:02d}镇"), encoding="utf-8")
    res = build([d], tmp_path / "out", workers=2, validate=False)
    assert [p.name for p in res.ok] == [f"r{i:02d}.txt" for i in range(40)] and not res.failed
    assert len(load_extractions(tmp_path / "out")) == 40


def test_unchanged_reports_are_skipped(counting_extractor: list[str], three: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = build([three], out, workers=1, validate=False)
    assert counting_extractor == ["a.txt", "b.txt", "c.txt"] and first.reused == []
    before = (out / EXTRACTIONS).read_bytes()
    counting_extractor.clear()
    again = build([three], out, workers=1, validate=False)
    assert counting_extractor == [] and [p.name for p in again.reused] == ["a.txt", "b.txt", "c.txt"]
    assert again.stores == {"oxigraph": "updated", "ladybug": "updated"}
    assert (out / EXTRACTIONS).read_bytes() == before
    assert json.loads((out / MANIFEST).read_text("utf-8"))["last_build"]["reused"] == 3
    _same_as_full(out, three, tmp_path)
    counting_extractor.clear()
    build([three], out, workers=1, validate=False, incremental=False)  # --full reads everything again
    assert counting_extractor == ["a.txt", "b.txt", "c.txt"]


def test_a_changed_report_replaces_only_its_own_facts(counting_extractor: list[str], three: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "out"
    build([three], out, workers=1, validate=False)
    old_b = report_id(hashlib.sha256((three / "b.txt").read_bytes()).hexdigest())
    a_graph = report_graph(report_id(hashlib.sha256((three / "a.txt").read_bytes()).hexdigest())).value
    a_quads = [q for q in oxigraph_dump(out) if f"<{a_graph}>" in q]
    # b drops 千万工程 (no other report names it) and adds 最多跑一次 and 河长制 (shared with a and c)
    (three / "b.txt").write_text(report_text("新杭镇", "广德市>宣城市>安徽省", 2024, ("乡村振兴", "最多跑一次", "河长制")),
                                 encoding="utf-8")
    counting_extractor.clear()
    res = build([three], out, workers=1, validate=False)
    assert counting_extractor == ["b.txt"] and [p.name for p in res.reused] == ["a.txt", "c.txt"]
    graphs = graphs_in(out)
    assert report_graph(old_b).value not in graphs and len(graphs) == 4  # 3 reports + entities
    assert [q for q in oxigraph_dump(out) if f"<{a_graph}>" in q] == a_quads  # a's graph untouched
    programs = {json.loads(r)["name"] for r in ladybug_dump(out)["Program"]}
    assert "千万工程" not in programs and {"最多跑一次", "河长制", "乡村振兴", "五水共治"} <= programs
    _same_as_full(out, three, tmp_path)


def test_a_removed_report_s_facts_go_away(counting_extractor: list[str], three: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build([three], out, workers=1, validate=False)
    c = report_id(hashlib.sha256((three / "c.txt").read_bytes()).hexdigest())
    (three / "c.txt").unlink()
    counting_extractor.clear()
    res = build([three], out, workers=1, validate=False)
    assert counting_extractor == [] and len(res.reused) == 2
    assert report_graph(c).value not in graphs_in(out)
    dump = ladybug_dump(out)
    assert not any(c in row for rows in dump.values() for row in rows)  # no row names the report
    assert not any("店口镇" in row or "五水共治" in row for rows in dump.values() for row in rows)
    assert any("河长制" in row for row in dump["Program"])  # still named by a
    assert res.summary["totals"]["reports"] == 2
    _same_as_full(out, three, tmp_path)


def test_added_renamed_and_reordered_reports(counting_extractor: list[str], three: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build([three], out, workers=1, validate=False)
    (three / "a.txt").rename(three / "z.txt")  # same content, new path (and now last in order)
    (three / "d.txt").write_text(report_text("岱西镇", "岱山县>舟山市>浙江省", 2023, ("八八战略",)), encoding="utf-8")
    counting_extractor.clear()
    res = build([three], out, workers=1, validate=False)
    assert sorted(counting_extractor) == ["d.txt", "z.txt"] and len(res.reused) == 2
    _same_as_full(out, three, tmp_path)


def test_a_failed_incremental_build_keeps_the_previous_build(counting_extractor: list[str], three: Path,
                                                             tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    build([three], out, workers=1, validate=False)
    before = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    (three / "b.txt").write_text(report_text("新杭镇", "广德市>宣城市>安徽省", 2025), encoding="utf-8")

    def interrupted(sink: Any, delta: Any) -> None:
        raise KeyboardInterrupt  # as if the build were killed while patching the stores

    monkeypatch.setattr(kg.stores.delta, "apply_delta", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build([three], out, workers=1, validate=False)
    after = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []


def test_a_store_that_cannot_be_patched_is_rewritten(counting_extractor: list[str], three: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    build([three], out, workers=1, validate=False)
    (three / "c.txt").unlink()

    def broken(sink: Any, delta: Any) -> None:
        raise RuntimeError("cannot patch")

    real = kg.stores.delta.apply_delta
    monkeypatch.setattr(kg.stores.delta, "apply_delta", broken)
    res = build([three], out, workers=1, validate=False)
    assert res.stores == {"oxigraph": "written", "ladybug": "written"}
    monkeypatch.setattr(kg.stores.delta, "apply_delta", real)
    _same_as_full(out, three, tmp_path)


def test_another_townkg_version_means_a_full_build(counting_extractor: list[str], three: Path,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "out"
    build([three], out, workers=1, validate=False)
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    manifest["fingerprint"] = "0" * 64  # as written by other code or other package versions
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    counting_extractor.clear()
    res = build([three], out, workers=1, validate=False)
    assert counting_extractor == ["a.txt", "b.txt", "c.txt"] and res.reused == []
    assert res.stores == {"oxigraph": "written", "ladybug": "written"}


def test_a_text_naming_no_town_or_region_is_not_a_report(memory_sinks: list[object], tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(next((ROOT / "seeds").glob("001_*.txt")), d / "good.txt")
    (d / "news.txt").write_text(NEWS, encoding="utf-8")
    res = build([d], tmp_path / "out", workers=1)
    assert [p.name for p in res.ok] == ["good.txt"]
    assert [(p.name, msg) for p, msg in res.failed] == [
        ("news.txt", "not a government work report (no town or region named) [E107]")]


def test_result_extractions_are_read_back(fake_extractor: Callable[..., Extraction], memory_sinks: list[object],
                                          reports_dir: Path, tmp_path: Path) -> None:
    res = build([reports_dir], tmp_path / "out")
    assert [e.meta.file for e in res.extractions] == ["a.txt", "b.txt"]
    assert res.extractions == [fake_extract_file(reports_dir / n) for n in ("a.txt", "b.txt")]


@pytest.mark.parametrize("nq_batch", [250_000, 1], ids=["one-chunk", "chunk-per-report"])
def test_rdf_streamed_during_extraction_is_the_whole_graph_mapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  nq_batch: int) -> None:
    """Real extractor: the store a build loads report by report holds exactly `graph_to_quads` of the
    build's graph (entities described once, with every report's contribution), whether the workers'
    N-Quads reach the background loader in one chunk or one chunk per report."""
    from pyoxigraph import RdfFormat, Store

    from kg import assembly

    monkeypatch.setattr(assembly, "NQ_BATCH", nq_batch)

    from kg.aggregates import add_aggregates
    from kg.build import load_extractions
    from kg.graph import build_graph
    from kg.paragraphs import annotate_paragraphs
    from kg.rdf import graph_to_quads
    from kg.stores.base import conformant

    d = tmp_path / "in"
    d.mkdir()
    for p in sorted((ROOT / "seeds").glob("*.txt")):
        shutil.copy(p, d / p.name)
    shutil.copy(next(d.glob("001_*.txt")), d / "zz-duplicate.txt")  # same report twice: one named graph
    out = tmp_path / "out"
    res = build([d], out, workers=2, validate=False)
    assert res.stores["oxigraph"] == "written" and len(res.ok) == 6
    exs = load_extractions(out)
    graph = conformant(add_aggregates(annotate_paragraphs(build_graph(exs), exs)))[0]
    mem = Store()  # literals normalized as Oxigraph stores them (xsd:nonNegativeInteger → xsd:integer)
    mem.extend(graph_to_quads(graph))
    assert oxigraph_dump(out) == sorted((mem.dump(format=RdfFormat.N_QUADS) or b"").decode().splitlines())


def test_derived_cooccurrence_follows_an_incremental_build(tmp_path: Path) -> None:
    """CO_OCCURS (kg.aggregates) is counted over every report: removing one report lowers a pair's counts in
    both stores exactly as a full build of what is left does."""
    from pyoxigraph import Store

    from kg.rdf import SPARQL_PREFIXES
    from kg.stores.ladybug_store import LadybugSink

    def pair(out: Path) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        sink = LadybugSink(out / "graph.lbug", read_only=True)
        try:
            lb = [(r["p"], r["t"]) for r in sink.query(
                "MATCH (a:Program {name: '一岗双责'})-[c:CO_OCCURS]->(b:Program {name: '中央八项规定'}) "
                "RETURN c.paragraphs AS p, c.towns AS t")]
        finally:
            sink.close()
        store = Store.read_only(str(out / "rdf"))
        ox = [(int(s["p"].value), int(s["t"].value)) for s in store.query(
            SPARQL_PREFIXES + 'SELECT ?p ?t WHERE { ?a skos:prefLabel "一岗双责"@zh . ?b skos:prefLabel "中央八项规定"@zh .'
            " ?a tk:coOccursWith ?b . ?f rdf:subject ?a ; rdf:object ?b ; tk:paragraphs ?p ; tk:towns ?t }",
            use_default_graph_as_union=True)]
        del store
        return lb, ox

    d = tmp_path / "in"
    shutil.copytree(ROOT / "seeds", d)
    out = tmp_path / "out"
    build([d], out, validate=False)
    # 岱西 "“一岗双责”,严格落实中央八项规定", 新杭 and 杨寨 likewise: one paragraph each (test_named_queries).
    assert pair(out) == ([(3, 3)], [(3, 3)])
    (d / "002_5f24c9125324aedd.txt").unlink()  # 杨寨镇
    res = build([d], out, validate=False)
    assert len(res.reused) == 4
    assert pair(out) == ([(2, 2)], [(2, 2)])
    _same_as_full(out, d, tmp_path)


def test_compaction_keeps_every_quad(tmp_path: Path) -> None:
    """`kg build --no-optimize` skips compacting the RDF store; compacted or not, after a full build and after
    an incremental one (deletions), the store holds the same quads and answers the same counts."""
    from typer.testing import CliRunner

    from cli import app

    d = tmp_path / "in"
    d.mkdir()
    for p in sorted((ROOT / "seeds").glob("*.txt"))[:3]:
        shutil.copy(p, d / p.name)
    runner = CliRunner()
    outs = {flag: tmp_path / flag.strip("-") for flag in ("--optimize", "--no-optimize")}
    for flag, out in outs.items():
        res = runner.invoke(app, ["build", str(d), "--out", str(out), "--no-validate", "-j", "1", flag])
        assert res.exit_code == 0, res.output
    assert oxigraph_dump(outs["--optimize"]) == oxigraph_dump(outs["--no-optimize"])
    next(d.glob("001_*.txt")).unlink()  # an incremental build removes that report's graph and facts
    for flag, out in outs.items():
        res = runner.invoke(app, ["build", str(d), "--out", str(out), "--no-validate", "-j", "1", flag])
        assert res.exit_code == 0, res.output
    dumps = [oxigraph_dump(out) for out in outs.values()]
    assert dumps[0] == dumps[1] and len(dumps[0]) > 1000
    summaries = [json.loads((out / SUMMARY).read_text(encoding="utf-8"))["stores"] for out in outs.values()]
    assert summaries[0] == summaries[1]
