"""Scale benchmark: every pipeline stage at N = 100, 1,000 and 10,000 synthetic reports (issue 8).

Usage: python benchmarks/bench_scale.py [--sizes 100 1000 10000] [--repeat 5 3 1] [--workers 2]
                                        [--work DIR] [--no-bolt] [--bolt-max 1000] [--no-write] [--profile]

For each N (corpus: benchmarks/synth.py, deterministic):
* stages in this process, one worker, median of the repeats: read + normalize, extract (the
  registered components), resolve, paragraphs (kg.paragraphs re-reads each report, as the build does),
  graph (kg.graph.add_extraction), RDF build (kg.rdf N-Quads), Oxigraph load (bulk_load of that text),
  LadybugDB load (LadybugSink.write), the page (programs.html), and `jieba.lcut` (default mode, HMM on)
  over the same texts, for the throughput ratio;
* once: Bolt load into a FalkorDB started here (tests/bolt_server.py, ≤3,000-byte requests; N ≤ --bolt-max), and the
  named queries of queries/ (when present) on both embedded stores, p50 of their repeats;
* `kg build --full --no-validate` (as `python -m cli build`, this checkout) as a subprocess with --workers W and 1 (N ≤ 1,000), with the peak
  RSS and PSS of its whole process tree sampled from /proc every 0.1 s; then an incremental rebuild
  after changing, removing and adding 1% of the reports.
Writes the `## Scale` section of benchmarks/RESULTS.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
SECTION = "## Scale"
BUDGET, SKIP = 5.0, 10.0  # seconds: named queries slower than this run once / are not run at larger N


# ---------------------------------------------------------------- process-tree memory


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
                children[ppid].append(int(d))
            except (OSError, ValueError, IndexError):
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, ()))
    return out


def _kb(path: str, key: str) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Peak RSS and PSS (MB) summed over a process and its descendants (pool workers).

    RSS is read every 0.1 s (/proc/PID/status: ~0.05 ms). PSS only once a second: the kernel walks every
    page of the process to sum /proc/PID/smaps_rollup (~20 ms of CPU and ~60 ms holding the process's
    memory lock at 1.5 GB), and read ten times a second for three processes it took most of a core from the
    build it measured (sessions 1–5 up to the scale run of 2026-11-23 04:12). A PSS peak shorter than a
    second can be missed; the RSS peak cannot."""

    RSS_EVERY = 0.1
    PSS_EVERY = 1.0

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.rss, self.pss, self.procs = pid, 0.0, 0.0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        pids: list[int] = []
        tick = 0
        every = round(self.PSS_EVERY / self.RSS_EVERY)
        while not self.stop.is_set():
            slow = tick % every == 0
            if slow:  # the tree changes rarely (the pool starts and ends)
                pids = _tree(self.pid)
                self.procs = max(self.procs, len(pids))
            self.rss = max(self.rss, sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in pids) / 1024)
            if slow:
                self.pss = max(self.pss, sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids) / 1024)
            tick += 1
            self.stop.wait(self.RSS_EVERY)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def kg_build(inputs: Path, out: Path, *args: str) -> dict[str, float]:
    """Wall seconds, CPU seconds (the build and its workers) and peak memory of one `kg build`."""
    cpu0 = _children_cpu()
    t = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's kg, whatever the venv has installed
    proc = subprocess.Popen([sys.executable, "-m", "cli", "build", str(inputs), "--out", str(out), "--no-validate",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    mem = TreeMemory(proc.pid)
    mem.start()
    output, _ = proc.communicate()
    seconds = time.perf_counter() - t
    mem.stop.set()
    mem.join()
    if proc.returncode:
        raise RuntimeError(f"kg build failed ({proc.returncode}):\n{output[-3000:]}")
    return {"seconds": seconds, "cpu": _children_cpu() - cpu0, "rss": mem.rss, "pss": mem.pss, "procs": mem.procs}


# ---------------------------------------------------------------- in-process stages


def stages(files: list[Path], work: Path, with_viz: bool) -> tuple[dict[str, float], dict[str, int], Any]:
    """One pass over every stage; returns seconds per stage, sizes, and the graph (for Bolt)."""
    from pyoxigraph import RdfFormat, Store

    from kg.assembly import annotate as _annotate
    from kg.assembly import slim as _slim
    from kg.build import _ladybug
    from kg.document import build_document
    from kg.extractors import PIPELINE, REGISTRY, _load_builtin
    from kg.graph import PropertyGraph, add_extraction, report_id
    from kg.model import Extraction
    from kg.parallel import paragraphs
    from kg.rdf import iter_nquads
    from kg.read import read_document
    from kg.resolve import resolve_extraction
    from kg.stores.base import conformant
    from kg.stores.oxigraph_store import QUAD_BATCH

    work.mkdir(parents=True, exist_ok=True)
    _load_builtin()
    order = [REGISTRY[n] for n in PIPELINE if n in REGISTRY] + [c for n, c in REGISTRY.items() if n not in PIPELINE]
    t: dict[str, float] = defaultdict(float)
    graph = PropertyGraph()
    units: dict[tuple[str, str], str] = {}
    for f in files:
        a = time.perf_counter()
        doc = build_document(read_document(f))
        b = time.perf_counter()
        ex = Extraction(meta=doc.meta, warnings=list(doc.warnings))
        for comp in order:
            comp.func(doc, ex, comp.stamp)
        c = time.perf_counter()
        ex = resolve_extraction(doc, ex)
        d = time.perf_counter()
        offsets, found = paragraphs(ex, doc)  # as the build's workers do, with the document at hand
        e = time.perf_counter()
        rid = report_id(ex.meta.sha256)
        add_extraction(graph, ex)
        _annotate(graph, ex, rid, offsets)
        units.update(((rid, pid), u) for pid, u in found.items())
        _slim(ex)
        g = time.perf_counter()
        t["read + normalize"] += b - a
        t["extract"] += c - b
        t["resolve"] += d - c
        t["paragraphs"] += e - d
        t["graph"] += g - e
    a = time.perf_counter()
    clean = conformant(graph)[0]
    t["RDF build (quads)"] = time.perf_counter() - a
    shutil.rmtree(work / "ox", ignore_errors=True)
    store = Store(str(work / "ox"))
    chunks, n_quads = iter_nquads(clean, batch=QUAD_BATCH), 0
    while True:  # made and loaded chunk by chunk, as OxigraphSink.write does; timed apart
        a = time.perf_counter()
        chunk = next(chunks, None)
        b = time.perf_counter()
        t["RDF build (quads)"] += b - a
        if chunk is None:
            break
        store.bulk_load(chunk[0], RdfFormat.N_QUADS)
        n_quads += chunk[1]
        t["Oxigraph load"] += time.perf_counter() - b
    a = time.perf_counter()
    store.flush()
    del store, chunk
    t["Oxigraph load"] += time.perf_counter() - a
    sizes = {"quads": n_quads, "nodes": len(clean.nodes), "edges": len(clean.edges)}
    shutil.rmtree(work / "lb", ignore_errors=True)
    a = time.perf_counter()
    sink = _ladybug(work / "lb", len(graph.nodes) + len(graph.edges))  # the pool the build gives it
    sink.write(graph)
    sink.close()
    t["LadybugDB load"] = time.perf_counter() - a
    if with_viz:
        from kg.viz import write_program_network

        a = time.perf_counter()
        write_program_network(graph, work / "programs.html", units=units)
        t["page (programs.html)"] = time.perf_counter() - a
        sizes["page_mb"] = int((work / "programs.html").stat().st_size / 1e6)
    return dict(t), sizes, graph


def jieba_seconds(texts: list[str]) -> float:
    import jieba

    a = time.perf_counter()
    for s in texts:
        jieba.lcut(s)
    return time.perf_counter() - a


def bolt(graph: Any, work: Path) -> dict[str, float]:
    from kg.stores.bolt_store import BoltSink
    from tests.bolt_server import alive, falkordb_server

    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(stage, time.perf_counter())

    with falkordb_server(work / "falkordb") as srv:
        sink = BoltSink(srv.uri, batch_bytes=3000, progress=progress)
        t0 = time.perf_counter()
        res = sink.write(graph)
        t1 = time.perf_counter()
        assert alive(srv), "FalkorDB died"
        sink.close() if hasattr(sink, "close") else None
    rel_start = marks.get("relationships", t0)
    return {"nodes_s": rel_start - t0, "rels_s": t1 - rel_start, "requests": res.get("requests", 0)}


def named_queries(build: Path, repeat: int, slow: set[str]) -> list[tuple[str, float, float, float, float, int]] | str:
    """(name, p50 ms on Oxigraph, on LadybugDB — as `kg query` asks, i.e. its default `--limit` —, the same for the
    whole answer, rows of the whole answer) per named query, stores opened once.

    A query slower than `BUDGET` seconds is run once; one that took over `SKIP` seconds at a smaller N
    (in `slow`, updated here) is not run again (reported as NaN).
    """
    try:
        from kg import named_queries as nq
    except ImportError:
        return "skipped: kg.named_queries is not there yet (issue 6)"
    names = nq.discover() if (ROOT / "queries").is_dir() else []
    if not names:
        return "skipped: queries/ holds no named queries yet (issue 6)"
    from pyoxigraph import Store

    from kg.commands.query_cmds import DEFAULT_LIMIT
    from kg.cypher import query_pool
    from kg.sparql import query_store
    from kg.stores.ladybug_store import LadybugSink

    store = Store.read_only(str(build / "rdf"))
    sink = LadybugSink(build / "graph.lbug", read_only=True, buffer_pool_size=query_pool(build / "graph.lbug"))
    nan = float("nan")
    out = []
    try:
        for name in names:
            if name in slow:
                out.append((name, nan, nan, nan, nan, 0))
                continue
            q = nq.load(name)
            values = q.bind({})
            cypher = q.cypher_for("ladybug")
            params = nq.cypher_params(cypher, values)
            ordered = nq.ends_ordered(q.sparql, "#") and nq.ends_ordered(cypher, "//")
            p50, rows = [], 0
            for limit in (DEFAULT_LIMIT if ordered else None, None):
                sparql = nq.with_limit(nq.bind_sparql(q.sparql, values), "#", limit)
                text = nq.with_limit(cypher, "//", limit)
                times: dict[str, list[float]] = {"ox": [], "lb": []}
                for _ in range(repeat):
                    a = time.perf_counter()
                    query_store(store, sparql)
                    times["ox"].append(time.perf_counter() - a)
                    a = time.perf_counter()
                    rows = len(sink.query(text, params))
                    times["lb"].append(time.perf_counter() - a)
                    if max(times["ox"][-1], times["lb"][-1]) > BUDGET:
                        break
                if max(times["ox"] + times["lb"]) > SKIP:
                    slow.add(name)
                p50 += [statistics.median(times["ox"]) * 1000, statistics.median(times["lb"]) * 1000]
            out.append((name, *p50, rows))
    finally:
        sink.close()
        del store
    return out


def perturb_one_percent(inputs: Path, n: int, seed: int) -> int:
    """Change, remove and add 1% of the reports (files replaced, never edited: the corpus is hard-linked)."""
    from synth import report_text

    files = sorted(inputs.glob("*.txt"))
    k = max(1, n // 100)
    for f in files[1:1 + 3 * k:3]:  # changed: another report's text under the same name
        tmp = f.with_suffix(".new")
        tmp.write_text(report_text(int(f.name[:5]) + 7 * n, seed)[1], encoding="utf-8")
        os.replace(tmp, f)
    for f in files[2:2 + 3 * k:3]:
        f.unlink()
    for i in range(n, n + k):
        town, text = report_text(i, seed)
        (inputs / f"{i:05d}_{town.name}.txt").write_text(text, encoding="utf-8")
    return k


def profile_extract(files: list[Path], top: int = 25) -> list[str]:
    import cProfile
    import io
    import pstats

    from kg.extract import extract_file

    extract_file(files[0])
    pr = cProfile.Profile()
    pr.enable()
    for f in files:
        extract_file(f)
    pr.disable()
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue().splitlines()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--repeat", type=int, nargs="+", default=[5, 3, 1], help="repeats per size (last one reused)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/townkg-scale"))
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--no-bolt", action="store_true")
    ap.add_argument("--bolt-max", type=int, default=1000,
                    help="Bolt load only up to this N (FalkorDB takes ~6 min for the 1.9 M items of 10,000 reports)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    ap.add_argument("--profile", action="store_true", help="cProfile extraction of the smallest corpus")
    ap.add_argument("--render-only", action="store_true",
                    help="write the results of the last run again (WORK/scale-rows.pickle) without measuring")
    args = ap.parse_args()
    saved = args.work / "scale-rows.pickle"  # each size's numbers, kept as soon as measured
    if args.render_only:
        rows, args.sizes = pickle.loads(saved.read_bytes())
        publish(report(rows, args), args)
        return

    import jieba
    from synth import generate

    from kg.extract import extract_file

    jieba.setLogLevel(60)
    jieba.lcut("预热")
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    corpus = generate(max(args.sizes), work / "corpus", args.seed)
    extract_file(corpus[0])  # warm dictionaries, gazetteer and OpenCC once, as a long build would
    rows: dict[int, dict[str, Any]] = {}
    slow: set[str] = set()
    for k, n in enumerate(args.sizes):
        repeat = args.repeat[min(k, len(args.repeat) - 1)]
        inputs = work / f"in-{n}"
        shutil.rmtree(inputs, ignore_errors=True)
        inputs.mkdir()
        for p in corpus[:n]:
            os.link(p, inputs / p.name)
        files = sorted(inputs.glob("*.txt"))
        texts = [f.read_text(encoding="utf-8") for f in files]
        mb = sum(len(s.encode("utf-8")) for s in texts) / 1e6
        runs: dict[str, list[float]] = defaultdict(list)
        graph = None
        for r in range(repeat):
            t, sizes, graph = stages(files, work / f"stage-{n}", with_viz=True)
            for name, s in t.items():
                runs[name].append(s)
            runs["jieba.lcut (HMM on)"].append(jieba_seconds(texts))
            print(f"N={n} run {r + 1}/{repeat}: " + ", ".join(f"{a} {b:.1f}s" for a, b in t.items())
                  + f", jieba.lcut {runs['jieba.lcut (HMM on)'][-1]:.1f}s; sizes {sizes}", flush=True)
        row: dict[str, Any] = {"mb": mb, "sizes": sizes, "stages": {a: statistics.median(b) for a, b in runs.items()},
                               "repeat": repeat}
        if not args.no_bolt and n <= args.bolt_max:
            row["bolt"] = bolt(graph, work / f"stage-{n}")
            print(f"N={n} bolt: {row['bolt']}", flush=True)
        del graph
        out = work / f"build-{n}"
        shutil.rmtree(out, ignore_errors=True)
        row["build"] = kg_build(inputs, out, "--full", "--workers", str(args.workers))
        print(f"N={n} kg build -j{args.workers}: {row['build']}", flush=True)
        row["queries"] = named_queries(out, max(5, repeat * 5), slow)
        if n <= 1000:
            shutil.rmtree(work / f"build1-{n}", ignore_errors=True)
            row["build1"] = kg_build(inputs, work / f"build1-{n}", "--full", "--workers", "1")
            print(f"N={n} kg build -j1: {row['build1']}", flush=True)
            shutil.rmtree(work / f"build1-{n}", ignore_errors=True)
        row["changed"] = perturb_one_percent(inputs, n, args.seed)
        row["incremental"] = kg_build(inputs, out, "--workers", str(args.workers))
        print(f"N={n} incremental: {row['incremental']}", flush=True)
        rows[n] = row
        saved.write_bytes(pickle.dumps((rows, args.sizes)))
    prof = profile_extract(sorted((work / f"in-{min(args.sizes)}").glob("*.txt"))[:100]) if args.profile else []
    publish(report(rows, args), args, prof)


def publish(lines: list[str], args: argparse.Namespace, extra: list[str] | None = None) -> None:
    print("\n".join(lines + (extra or [])))
    if not args.no_write:
        from results import update_section

        update_section(SECTION, lines)


def report(rows: dict[int, dict[str, Any]], args: argparse.Namespace) -> list[str]:
    sizes = list(rows)
    names = list(next(iter(rows.values()))["stages"])
    lines = ["", f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores; "
             f"{time.strftime('%Y-%m-%d')}.",
             f"Command: `python benchmarks/bench_scale.py --sizes {' '.join(map(str, args.sizes))} --repeat "
             f"{' '.join(map(str, args.repeat))} --workers {args.workers}`; corpus `benchmarks/synth.py` (seed {args.seed}).",
             "", "Stages in one process, one worker; seconds (median of the repeats) and ms per report:", "",
             "| stage | " + " | ".join(f"N={n:,} ({rows[n]['mb']:.0f} MB, ×{rows[n]['repeat']})" for n in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for name in names:
        cells = []
        for n in sizes:
            s = rows[n]["stages"].get(name)
            cells.append("—" if s is None else f"{s:,.1f} s ({1000 * s / n:,.1f} ms)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| quads / nodes / edges | " + " | ".join(
        f"{rows[n]['sizes']['quads']:,} / {rows[n]['sizes']['nodes']:,} / {rows[n]['sizes']['edges']:,}" for n in sizes) + " |")
    pipe = ("read + normalize", "extract", "resolve", "paragraphs", "graph", "RDF build (quads)",
            "Oxigraph load", "LadybugDB load")
    lines += ["", "| throughput | " + " | ".join(f"N={n:,}" for n in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for label, fn in (
        ("pipeline read → both stores, 1 worker (MB/s)", lambda r: r["mb"] / sum(r["stages"][s] for s in pipe)),
        ("jieba.lcut (MB/s)", lambda r: r["mb"] / r["stages"]["jieba.lcut (HMM on)"]),
        ("**ratio pipeline / jieba, 1 worker**", lambda r: r["stages"]["jieba.lcut (HMM on)"] / sum(r["stages"][s] for s in pipe)),
        (f"**ratio `kg build -j{args.workers}` (wall, incl. page) / jieba**",
         lambda r: r["stages"]["jieba.lcut (HMM on)"] / r["build"]["seconds"]),
        ("LadybugDB load (items/s)", lambda r: (r["sizes"]["nodes"] + r["sizes"]["edges"]) / r["stages"]["LadybugDB load"]),
        ("Oxigraph load (quads/s)", lambda r: r["sizes"]["quads"] / r["stages"]["Oxigraph load"]),
    ):
        lines.append(f"| {label} | " + " | ".join(f"{fn(rows[n]):,.2f}" for n in sizes) + " |")
    lines += ["", "`kg build --full --no-validate` (subprocess; peak RSS/PSS summed over the process tree):", "",
              "| N | workers | wall | CPU (all processes) | per report | peak RSS | peak PSS |",
              "|---|---|---|---|---|---|---|"]
    for n in sizes:
        for key, w in (("build", args.workers), ("build1", 1)):
            b = rows[n].get(key)
            if b:
                lines.append(f"| {n:,} | {w} | {b['seconds']:,.1f} s | {b['cpu']:,.1f} s | "
                             f"{1000 * b['seconds'] / n:,.1f} ms | {b['rss']:,.0f} MB | {b['pss']:,.0f} MB |")
        b = rows[n]["incremental"]
        lines.append(f"| {n:,} | {args.workers}, incremental after changing/removing/adding {rows[n]['changed']} each | "
                     f"{b['seconds']:,.1f} s | {b['cpu']:,.1f} s | | {b['rss']:,.0f} MB | {b['pss']:,.0f} MB |")
    if any("bolt" in rows[n] for n in sizes):
        lines += ["", "Bolt load into FalkorDB (`BoltSink`, ≤3,000-byte requests):", "",
                  "| N | nodes | relationships | requests |", "|---|---|---|---|"]
        for n in sizes:
            b = rows[n].get("bolt")
            if b:
                s = rows[n]["sizes"]
                lines.append(f"| {n:,} | {b['nodes_s']:,.1f} s ({s['nodes'] / b['nodes_s']:,.0f}/s) | "
                             f"{b['rels_s']:,.1f} s (**{s['edges'] / b['rels_s']:,.0f}/s**) | {b['requests']:,} |")
    lines += ["", f"Named queries, p50 ms Oxigraph / LadybugDB as `kg query` asks them (first 1,000 rows), then for the "
              f"whole answer, and its rows (stores opened once; a query over {BUDGET:.0f} s runs once, one over "
              f"{SKIP:.0f} s is not run at larger N):", ""]
    for n in sizes:
        q = rows[n]["queries"]
        if isinstance(q, str):
            lines.append(f"- N={n:,}: {q}")
            continue
        cells = [f"{a} " + ("skipped" if b != b else f"{b:,.0f}/{c:,.0f} (whole {d:,.0f}/{e:,.0f}, {r:,} rows)")
                 for a, b, c, d, e, r in q]
        ok = sum(1 for _, b, c, *_ in q if b == b and max(b, c) <= 50)
        ox = [b if b == b else math.inf for _, b, *_ in q]  # a skipped query counts as slower than any
        lb = [c if c == c else math.inf for _, _, c, *_ in q]
        lines.append(f"- N={n:,}: " + ", ".join(cells) + f" — {ok}/{len(q)} within 50 ms on both stores; "
                     f"median of the {len(q)} queries' p50: Oxigraph {statistics.median(ox):,.0f} ms, "
                     f"LadybugDB {statistics.median(lb):,.0f} ms")
    return lines


if __name__ == "__main__":
    main()
