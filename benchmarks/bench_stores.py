"""Property-graph load rates: LadybugDB bulk load (COPY from Arrow) and Bolt MERGE into FalkorDB (≤3 KB requests).

Usage: python benchmarks/bench_stores.py [--towns 2000] [--no-compare]
A synthetic graph in the TownKG model (~50k nodes / ~155k relationships for 2,000 towns, with provenance
strings on relationships read from text) is written to
  * LadybugDB with `LadybugSink.write` (COPY FROM Arrow tables), then written again (idempotent path);
  * FalkorDB over Bolt with `BoltSink.write` (batched UNWIND … MERGE, requests ≤3,000 bytes), twice.
With comparison on (default), the same relationships also go through LadybugDB's UNWIND forms on a
subset (NOTES-infra §2: `MATCH … WHERE a.id = r.s` is fast, `MATCH (a:T {id: r.s})` scans per row),
so the choice of COPY is measured here rather than asserted. Prints the numbers and replaces the
"Property-graph stores" section of benchmarks/RESULTS.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from results import update_section  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECTION = "## Property-graph stores"


def synthetic(towns: int):
    """A PropertyGraph shaped like many builds: per town 1 report, 12 programs, 8 projects, 5 companies, 9 observations."""
    from kg.graph import PropertyGraph

    g = PropertyGraph()
    sentence = "全镇深入实施乡村振兴战略,扎实推进项目建设,全年完成固定资产投资12.5亿元。"
    govs = max(1, towns // 10)
    for i in range(govs):
        g.add_node(f"gov:c{i}", "Government", name=f"县{i}", level="县", code=f"{330000 + i}")
        if i >= govs // 4:
            g.add_edge(f"gov:c{i}", "PART_OF", f"gov:c{i % (govs // 4 or 1)}")
    for p in range(towns * 3 // 2):
        g.add_node(f"program:{p}", "Program", name=f"计划{p}")
    for c in range(towns * 4):
        g.add_node(f"company:{c}", "Company", name=f"公司{c}", type="company")
    for k in range(300):
        g.add_node(f"indicator:{k}", "Indicator", name=f"指标{k}")
    for t in range(towns):
        rid, tid = f"report:{t:016x}", f"town:{t}"
        g.add_node(rid, "Report", file=f"{t}.txt", sha256=f"{t:064x}", title=f"镇{t}政府工作报告", year=2023,
                   date="2023-02-10")
        g.add_node(tid, "Town", name=f"镇{t}", level="镇")
        g.add_edge(rid, "ABOUT", tid)
        g.add_edge(tid, "SUBORDINATE_TO", f"gov:c{t % govs}", report=rid, level="县")

        def prov(start: int, quote: str, rid: str = rid) -> dict[str, object]:
            return {"report": rid, "file": rid[-6:] + ".txt", "start": start, "end": start + len(quote),
                    "quote": quote, "sentence": sentence, "extractor": "rules@1.0"}

        for j in range(12):
            p = (t * 7 + j * 13) % (towns * 3 // 2)
            g.add_edge(tid, "IMPLEMENTS", f"program:{p}", stance="implemented", surface=f"计划{p}",
                       **prov(100 + j, f"计划{p}"))
        for j in range(8):
            pj = f"project:{t}:{j}"
            g.add_node(pj, "Project", name=f"镇{t}项目{j}", investment_value=1.5, investment_unit="亿元",
                       investment_yuan=1.5e8, status="在建")
            g.add_edge(tid, "HAS_PROJECT", pj, **prov(500 + j, f"项目{j}"))
            for k in range(2):
                g.add_edge(pj, "UNDER_PROGRAM", f"program:{(t + j + k * 5) % (towns * 3 // 2)}",
                           **prov(500 + j, f"项目{j}"))
            g.add_edge(pj, "INVOLVES", f"company:{(t * 4 + j) % (towns * 4)}", **prov(520 + j, "公司"))
        for j in range(5):
            g.add_edge(tid, "HOSTS", f"company:{(t * 4 + j) % (towns * 4)}", **prov(700 + j, "公司"))
        for j in range(9):
            oid = f"obs:{t}:{j}"
            g.add_node(oid, "Observation", name=f"指标{j}", value=1.0 + j, unit="亿元", period="2022", kind="actual",
                       normalized=(1.0 + j) * 1e8, normalized_unit="CNY", **prov(900 + j, "1.5亿元"))
            g.add_edge(tid, "REPORTS", oid, report=rid)
            g.add_edge(oid, "MEASURES", f"indicator:{(t + j) % 300}", report=rid)
            g.add_edge(oid, "FROM_REPORT", rid, report=rid)
    return g


def bench_ladybug(g, work: Path, repeat: int) -> dict[str, float]:
    """Fresh-store loads (median of `repeat`), with the buffer pool a build gives the graph; then the
    same graph again into the last store (the idempotent path: ids read back, nothing new)."""
    from kg.build import _ladybug
    from kg.graph import LABELS
    from kg.stores.ladybug_store import _group, columns_for, job_table

    items = len(g.nodes) + len(g.edges)
    runs: list[tuple[float, float, float]] = []
    for r in range(repeat):
        root = work / f"lb{r}"
        t, c = time.perf_counter(), time.process_time()
        sink = _ladybug(root, items)
        sink.write(g)
        w, cpu = time.perf_counter() - t, time.process_time() - c
        sink.close()
        runs.append((w, cpu, time.perf_counter() - t))
        if r < repeat - 1:
            shutil.rmtree(root)
    sink = _ladybug(root, items)
    t = time.perf_counter()
    again = sink.write(g)
    second = time.perf_counter() - t
    counts = sink.counts()
    sink.close()
    assert (counts["nodes"], counts["edges"]) == (len(g.nodes), len(g.edges)) and again["edges"] == 0
    c = time.process_time()  # the Python side alone (the sink overlaps it with the database's COPY)
    by_label, by_type, _ = _group(g)
    nodes, edges = columns_for(g)
    cols = {**nodes, **edges}
    for table, rows in [*((lb, by_label[lb]) for lb in LABELS if lb in by_label), *by_type.items()]:
        job_table((table, rows, list(cols[table].items())))
    python = time.process_time() - c
    med = [statistics.median(x) for x in zip(*runs, strict=True)]
    return {"items": items, "first": med[0], "cpu": med[1], "closed": med[2], "second": second,
            "python": python, "runs": [round(x[0], 2) for x in runs]}


def bench_unwind_forms(g, work: Path, fast_rows: int, slow_rows: int) -> dict[str, float]:
    """LadybugDB's relationship UNWIND forms on IMPLEMENTS rows, into a DB that already has the nodes."""
    import ladybug

    from kg.graph import PropertyGraph
    from kg.stores.ladybug_store import LadybugSink

    nodes_only = PropertyGraph(nodes=dict(g.nodes))
    sink = LadybugSink(work / "forms.lbug")
    sink.write(nodes_only)
    conn: ladybug.Connection = sink.conn  # type: ignore[assignment]
    rows = [{"s": e.src, "d": e.dst, "q": e.props.get("quote")} for e in g.edges.values() if e.type == "IMPLEMENTS"]
    fast_rows = min(fast_rows, len(rows) - slow_rows)
    out: dict[str, float] = {}
    forms = {
        "fast": ("UNWIND $rows AS r MATCH (a:Town) WHERE a.id = r.s MATCH (b:Program) WHERE b.id = r.d "
                 "CREATE (a)-[:IMPLEMENTS {quote: r.q}]->(b)", rows[:fast_rows]),
        "slow": ("UNWIND $rows AS r MATCH (a:Town {id: r.s}), (b:Program {id: r.d}) "
                 "CREATE (a)-[:IMPLEMENTS {quote: r.q}]->(b)", rows[-slow_rows:]),
    }
    for name, (cypher, subset) in forms.items():
        t = time.perf_counter()
        for i in range(0, len(subset), 2000):
            conn.execute(cypher, {"rows": subset[i:i + 2000]})
        out[name] = len(subset) / (time.perf_counter() - t)
        out[name + "_rows"] = len(subset)
    sink.close()
    return out


def bench_bolt(g, work: Path) -> dict[str, float]:
    from kg.stores.bolt_store import BoltSink
    from tests.bolt_server import alive, falkordb_server

    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(stage, time.perf_counter())
        marks[stage + "_end"] = time.perf_counter()

    with falkordb_server(work / "falkordb") as srv:
        sink = BoltSink(srv.uri, batch_bytes=3000, progress=progress)
        t0 = time.perf_counter()
        first = sink.write(g)
        t1 = time.perf_counter()
        requests = first["requests"]
        sink.progress = None
        again = sink.write(g)
        t2 = time.perf_counter()
        counts = sink.counts()
        assert alive(srv), "FalkorDB died"
        assert (counts["nodes"], counts["edges"]) == (len(g.nodes), len(g.edges)), counts
        assert again["nodes_created"] == again["relationships_created"] == 0, again
    node_s = marks["relationships"] - t0  # index creation + all node batches
    rel_s = t1 - marks["relationships"]
    return {"node_s": node_s, "rel_s": rel_s, "total": t1 - t0, "second": t2 - t1, "requests": requests}


def update_results(section: list[str]) -> None:
    update_section(section[0], section[1:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--towns", type=int, default=2000, help="scale: 2,000 towns ≈ 50k nodes / 155k relationships")
    ap.add_argument("--no-compare", action="store_true", help="skip the LadybugDB UNWIND-form comparison")
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    ap.add_argument("--repeat", type=int, default=3, help="fresh LadybugDB loads to take the median of")
    ap.add_argument("--ladybug-only", action="store_true", help="LadybugDB rows only (implies --no-write)")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    g = synthetic(args.towns)
    n, e = len(g.nodes), len(g.edges)
    print(f"synthetic graph: {n:,} nodes, {e:,} relationships ({time.perf_counter() - t:.1f} s to make)")
    with tempfile.TemporaryDirectory(prefix="townkg-bench-") as tmp:
        work = Path(tmp)
        lb = bench_ladybug(g, work, args.repeat)
        print(f"LadybugDB fresh store, median of {args.repeat} {lb['runs']}: write {lb['first']:.2f} s = "
              f"{lb['items'] / lb['first']:,.0f} items/s (CPU {lb['cpu']:.2f} s, Python side alone "
              f"{lb['python']:.2f} s); with close (checkpoint) {lb['closed']:.2f} s = "
              f"{lb['items'] / lb['closed']:,.0f} items/s; rewrite (nothing new) {lb['second']:.2f} s")
        if args.ladybug_only:
            return
        forms = bench_unwind_forms(g, work, 20_000, 300) if not args.no_compare else {}
        if forms:
            print(f"LadybugDB UNWIND, MATCH … WHERE a.id = r.s: {forms['fast']:,.0f} rels/s; "
                  f"MATCH (a:T {{id: r.s}}): {forms['slow']:,.0f} rels/s")
        bolt = bench_bolt(g, work)
        print(f"FalkorDB over Bolt (≤3,000-byte requests, {bolt['requests']:,} requests): nodes {bolt['node_s']:.1f} s "
              f"= {n / bolt['node_s']:,.0f} nodes/s; relationships {bolt['rel_s']:.1f} s = {e / bolt['rel_s']:,.0f} rels/s; "
              f"second load (no change) {bolt['second']:.1f} s")

    section = [
        SECTION,
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores; "
        f"{time.strftime('%Y-%m-%d')}.",
        f"Command: `python benchmarks/bench_stores.py --towns {args.towns} --repeat {args.repeat}`. Synthetic TownKG "
        f"graph: {n:,} nodes, {e:,} relationships (provenance strings on relationships read from text). "
        f"Load average {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after (other jobs share the 2 "
        "cores: wall times stretch by about the load divided by 2; CPU seconds do not).",
        "",
        "| target | how | seconds | rate |",
        "|---|---|---|---|",
        f"| LadybugDB (embedded) | `LadybugSink.write` into a fresh store, nodes + relationships (median of "
        f"{args.repeat}; CPU {lb['cpu']:.2f} s) | {lb['first']:.2f} | **{lb['items'] / lb['first']:,.0f} items/s** |",
        f"| LadybugDB | same, with `close()` (checkpoint) | {lb['closed']:.2f} | "
        f"{lb['items'] / lb['closed']:,.0f} items/s |",
        f"| LadybugDB | the same load per CPU second (process CPU, all threads) | {lb['cpu']:.2f} | "
        f"{lb['items'] / lb['cpu']:,.0f} items/CPU-s |",
        f"| LadybugDB | of which Python alone (group + Arrow tables, CPU; overlapped with COPY) | "
        f"{lb['python']:.2f} | |",
        f"| LadybugDB | same graph again (ids read, nothing new to COPY) | {lb['second']:.2f} | |",
    ]
    if forms:
        section += [
            f"| LadybugDB | UNWIND + `MATCH (a:Town) WHERE a.id = r.s …` CREATE, {forms['fast_rows']:,.0f} rels | | "
            f"{forms['fast']:,.0f} rels/s |",
            f"| LadybugDB | UNWIND + `MATCH (a:Town {{id: r.s}}), …` CREATE, {forms['slow_rows']:,.0f} rels | | "
            f"{forms['slow']:,.0f} rels/s |",
        ]
    section += [
        f"| FalkorDB over Bolt | `BoltSink.write`, UNWIND MERGE, ≤3,000-byte requests ({bolt['requests']:,}): nodes "
        f"| {bolt['node_s']:.1f} | {n / bolt['node_s']:,.0f} nodes/s |",
        f"| FalkorDB over Bolt | relationships (MATCH endpoints by id, MERGE on report) | {bolt['rel_s']:.1f} | "
        f"**{e / bolt['rel_s']:,.0f} rels/s** |",
        f"| FalkorDB over Bolt | second load of the same graph (no change) | {bolt['second']:.1f} | |",
        "",
        f"LadybugDB target (issue 8) ≥200,000 items/s: {lb['items'] / lb['first'] / 2e5:.0%} of it in wall time in "
        f"this run, {lb['items'] / lb['cpu'] / 2e5:.0%} per CPU second. Of the {lb['cpu']:.2f} CPU seconds, "
        f"Python (grouping, Arrow tables) takes {lb['python']:.2f}, on a helper thread while the database copies; "
        "the rest of the CPU is the database's COPY (key lookups of both ends, both directions "
        "of every relationship and its provenance strings written); tables under 2,000 rows load by "
        "`LOAD FROM … CREATE` in one transaction, since each COPY costs ~25 ms of CPU and a commit.",
        "",
        "The `{id: r.s}` form scans the node table per row, so its cost grows with the table (Town has "
        f"{args.towns:,} rows here; NOTES-infra §2 measured 19 rels/s on a 100k-node table): the sink uses COPY, "
        "and WHERE-form lookups where it must match. Neo4j takes ~1 MB requests (the `--batch-bytes` default), "
        "so it needs ~300× fewer round trips than FalkorDB's ≤3 KB; for very large graphs "
        "`kg export --format neo4j-csv` + `neo4j-admin database import` skips Bolt entirely.",
    ]
    print("\n".join(section))
    if not args.no_write:
        update_results(section)


if __name__ == "__main__":
    main()
