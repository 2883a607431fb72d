"""Assembling a build from extraction outcomes as they arrive: records, graph, and RDF loaded on the way.

`Collector.take` handles one outcome: its line goes to extractions.jsonl, its graph into the build's
graph (report by report, first writer wins, exactly as `kg.graph.build_graph`), what the summary and
the page need is kept, and — in a full build — its RDF is loaded at once (`RdfStream`).

Why stream RDF: mapping the graph to RDF and Oxigraph's on-disk bulk load (~80k quads/s; ~1,550 quads per
report) are the largest cost of a build, and the build's own process mostly waits for its extraction workers
meanwhile. A report's own quads — its named graph: the report, its observations, every fact it states
with evidence — depend only on that report, so they are mapped and loaded as soon as it arrives. Shared
entities (towns, programs, companies…) are described once, at the end, when every report has had its
say on their properties (first writer wins). The store then holds exactly `kg.rdf.graph_to_quads` of the
whole graph: a quad store is a set, so the extractor agents each report re-states add nothing.
"""

from __future__ import annotations

import gc
import json
import pickle
import sys
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from pyoxigraph import RdfFormat

from kg import incremental as inc
from kg.aggregates import DERIVED_EDGES
from kg.errors import Code, TownKGError
from kg.graph import (
    EDGE_TYPES,
    LABELS,
    Edge,
    Node,
    PropertyGraph,
    add_extraction,
    intern_int,
    intern_text,
    report_id,
    town_id,
)
from kg.incremental import node_report
from kg.model import Company, Extraction, Indicator, Program, Project

# Quads per background `bulk_load` of N-Quads (~20 MB): small enough to overlap extraction from the first
# seconds of a build and to bound the loader's memory, large enough that per-call overhead is small. The
# shared entities at the end of a build (`RdfStream.finish`, 10,000 reports: 1.1 M quads) go in chunks of it.
NQ_BATCH = 100_000

def own_part(part: PropertyGraph, rid: str) -> tuple[PropertyGraph, list[Node], list[Edge]]:
    """What of one report's graph is its own RDF: (graph resolving the edges, the report's own nodes, and
    the deferred edges, whose endpoints this report lacks and which are judged on the whole graph)."""
    own = [n for n in part.nodes.values() if n.label in LABELS and node_report(n) == rid]
    edges, deferred = {}, []
    for key, e in part.edges.items():
        ends = EDGE_TYPES.get(e.type)
        src, dst = part.nodes.get(e.src), part.nodes.get(e.dst)
        if ends is None:
            continue  # outside the schema: no store keeps it (kg.stores.base.conformant)
        if src is None or dst is None:
            deferred.append(e)
        elif (src.label, dst.label) == ends:
            edges[key] = e
    return PropertyGraph(nodes=part.nodes, edges=edges), own, deferred


def report_graph_of(ex: Extraction, offsets: dict[str, int] | None) -> tuple[PropertyGraph, str]:
    """One report's graph as the build adds it (`add_extraction`, then its paragraphs) and its report id."""
    rid = report_id(ex.meta.sha256)
    part = PropertyGraph()
    add_extraction(part, ex)
    annotate(part, ex, rid, offsets)
    return part, rid


@dataclass(frozen=True, slots=True)
class ReportRdf:
    """A report's own quads as N-Quads, and how many (counted where they are made, not in the build's
    serial process)."""

    data: bytes
    quads: int


def report_nquads(ex: Extraction, offsets: dict[str, int] | None) -> ReportRdf:
    """A report's own quads as N-Quads, made in the extraction worker: mapping ~1,550 quads per report to
    RDF is a tenth of a build's CPU, and the build's own process is its serial bottleneck. The parent
    hands the bytes to Oxigraph's parser (`Store.bulk_load`)."""
    from kg.rdf import iter_nquads

    part, rid = report_graph_of(ex, offsets)
    mapped, own, _ = own_part(part, rid)
    data, quads = next(iter_nquads(mapped, batch=sys.maxsize, nodes=own), (b"", 0))
    return ReportRdf(data, quads)


class RdfStream:
    """Feeds an `OxigraphSink` report by report (`add`), then the shared entities (`finish`).

    N-Quads are loaded in chunks by one background thread: `Store.bulk_load` releases the interpreter
    lock, so Oxigraph indexes one chunk while this process takes in the next reports. At most one chunk
    loads while the next one fills, which bounds the memory held."""

    def __init__(self, sink: Any, batch: int | None = None) -> None:
        self.sink = sink
        self.batch = NQ_BATCH if batch is None else batch
        self.pending: list[bytes] = []  # N-Quads not loaded yet (`report_nquads`, or mapped here)
        self.pending_quads = 0
        self.streamed: set[str] = set()  # report ids already loaded (a duplicate file adds nothing new)
        self.deferred: list[Edge] = []  # edges whose endpoints this report lacks: judged on the whole graph
        self.loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oxigraph-load")
        self.loading: Future[None] | None = None

    def _wait(self) -> None:
        if self.loading is not None:
            loading, self.loading = self.loading, None
            try:
                loading.result()  # a loader error surfaces here, in the build, as any store's does
            except OSError as e:  # RocksDB's: no space left, permissions
                raise TownKGError(Code.STORE, f"oxigraph store failed: {type(e).__name__}: "
                                  f"{' '.join(str(e).split())}", str(self.sink.path)) from e

    def _push(self, data: bytes, quads: int) -> None:
        self.pending.append(data)
        self.pending_quads += quads
        if self.pending_quads >= self.batch:
            self._load()

    def _load(self) -> None:
        if self.pending:
            self._wait()
            data, store = b"".join(self.pending), self.sink._store()
            self.loading = self.loader.submit(store.bulk_load, data, RdfFormat.N_QUADS)
            self.pending, self.pending_quads = [], 0

    def close(self) -> None:
        """Wait for a chunk still loading (its error is dropped: the build is failing anyway) and stop."""
        try:
            self._wait()
        except Exception:  # noqa: BLE001 — close runs on the failure path; the first error is the one to show
            pass
        finally:
            self.loader.shutdown(wait=True)
            self.sink.close()

    def add(self, part: PropertyGraph, rid: str, rdf: ReportRdf | None = None) -> None:
        """The graph `kg.graph.add_extraction` made of one report (its entities resolve the edges), with its
        own quads as N-Quads when a worker made them (`report_nquads`)."""
        from kg.rdf import iter_nquads

        if rid in self.streamed:
            return
        self.streamed.add(rid)
        mapped, own, deferred = own_part(part, rid)
        self.deferred.extend(deferred)
        if rdf is not None:
            self._push(rdf.data, rdf.quads)
            return
        for data, quads in iter_nquads(mapped, batch=sys.maxsize, nodes=own):
            self._push(data, quads)

    def finish(self, graph: PropertyGraph) -> None:
        """Load the shared entities as `graph` (the whole build) has them, and wait for every chunk."""
        from kg.rdf import iter_nquads

        entities = [n for n in graph.nodes.values() if n.label in LABELS and node_report(n) is None]
        edges = {}
        for e in self.deferred:
            src, dst = graph.nodes.get(e.src), graph.nodes.get(e.dst)
            if src is not None and dst is not None and (src.label, dst.label) == EDGE_TYPES[e.type]:
                edges[e.key] = e
        edges.update((k, e) for k, e in graph.edges.items() if e.type in DERIVED_EDGES)  # kg.aggregates
        whole = PropertyGraph(nodes=graph.nodes, edges=edges)
        for data, quads in iter_nquads(whole, batch=self.batch, nodes=entities):
            self._push(data, quads)
        self._load()
        self._wait()
        self.loader.shutdown(wait=True)
        self.sink._store().flush()


def slim(ex: Extraction) -> Extraction:
    """What the summary reads from an extraction (meta, places, names, warnings); the graph keeps the
    facts and the page gets its paragraphs from the workers, so the full records need not stay in memory."""
    return Extraction(meta=ex.meta, town=ex.town, region=ex.region, superiors=ex.superiors,
                      programs=[Program(p.name, p.surface, p.stance) for p in ex.programs],
                      projects=[Project(p.name) for p in ex.projects],
                      companies=[Company(c.name, c.type) for c in ex.companies],
                      indicators=[Indicator(i.name, i.concept, i.value, i.unit, i.period)
                                  for i in ex.indicators], warnings=ex.warnings)


def annotate(graph: PropertyGraph, ex: Extraction, rid: str, offsets: dict[str, int] | None) -> None:
    """`paragraph` on this report's IMPLEMENTS edges (kg.paragraphs.annotate_paragraphs, one report)."""
    if not offsets or ex.town is None or not ex.town.name:
        return
    tid = town_id(ex.town, ex.superiors)
    for pid, offset in offsets.items():
        e = graph.edges.get((tid, "IMPLEMENTS", pid, rid))
        if e is not None:
            e.props.setdefault("paragraph", intern_int(offset))


def merge(graph: PropertyGraph, part: PropertyGraph) -> None:
    """Add one report's graph to the build's: new nodes and edges as they are, known nodes only gain the
    properties they lack (what `add_extraction` into the build's graph would have done)."""
    for nid, n in part.nodes.items():
        have = graph.nodes.get(nid)
        if have is None:
            graph.nodes[nid] = n
        else:
            for k, v in n.props.items():
                have.props.setdefault(k, v)
    for key, e in part.edges.items():
        graph.edges.setdefault(key, e)


def _libc() -> Any:
    global _LIBC
    if _LIBC is None:
        try:
            import ctypes

            _LIBC = ctypes.CDLL("libc.so.6")
            _LIBC.malloc_trim  # noqa: B018 — glibc's, or no libc at all
        except (OSError, AttributeError):
            _LIBC = False
    return _LIBC


def trim_heap() -> None:
    """Give the C heap's free memory back to the system. glibc keeps what is freed in its heap, and a build
    frees a lot in between what it keeps: each report's N-Quads (~400 KB) and JSON line, Oxigraph's and
    LadybugDB's load buffers; without this, RSS grows by much more than the build holds. A few ms; a no-op
    where there is no glibc."""
    if _libc():
        _libc().malloc_trim(0)


_LIBC: Any = None
TRIM_EVERY = 64  # reports taken between two `trim_heap` calls of a Collector


def _where(offsets: dict[str, int], found: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """A report's paragraph offsets and units with the program ids and units interned, as the graph's ids
    are: 10,000 reports name ~390k programs, and each worker's answer brings its own copy of every name."""
    return ({intern_text(k): intern_int(v) for k, v in offsets.items()},  # type: ignore[misc]
            {intern_text(k): intern_text(v) for k, v in found.items()})  # type: ignore[misc]


class Collector:
    """Everything a build keeps from its outcomes, in input order (see the module docstring).

    Kept small, since it all stays in memory until the stores are written: the graph; the summary's slim
    records pickled and compressed (`slims`: ~2.6 KB a report instead of ~19 KB as objects); the
    paragraphs (`where`), from which the page's co-occurrence units (`units`) are derived when asked for.
    The heap is trimmed every `TRIM_EVERY` reports, so that the workers' answers, freed once taken, do
    not stay in the build's RSS. (Mapping big blocks on their own, M_MMAP_THRESHOLD, saved a little more
    memory but cost ~5% of a build's time in page faults.)"""

    def __init__(self, out: IO[bytes], prev: Any, stream: RdfStream | None) -> None:
        self.fh, self.prev, self.stream = out, prev, stream
        self.graph = PropertyGraph()
        self.slim: list[bytes] = []  # `slim(ex)` of each report, pickled, compressed (read back by `slims`)
        self.rows: list[tuple[inc.Key, int, int, str]] = []
        self.where: dict[str, tuple[dict[str, int], dict[str, str]]] = {}  # report → paragraph offsets, units

    def slims(self) -> Iterator[Extraction]:
        """What the summary reads of each report, in input order (`slim`), one at a time."""
        return (pickle.loads(zlib.decompress(b)) for b in self.slim)

    @property
    def units(self) -> dict[tuple[str, str], str]:
        """(report, program) → co-occurrence unit on the page, for every report that has them. A report read
        twice (the same content) has the same units both times, so the first one's stand for both."""
        return inc.page_units(self.where)

    def take(self, outcome: Any, idx: int | None) -> None:
        """One successful outcome; `idx` is the previous build's line it reuses (None: just extracted)."""
        from kg.parallel import paragraphs
        from kg.records import from_dict

        ex = outcome.ex or from_dict(Extraction, json.loads(outcome.line))
        rid = report_id(ex.meta.sha256)
        offsets, found = outcome.paragraphs, outcome.units
        if idx is not None:
            offsets, found = self.prev.paragraphs[rid] if rid in self.prev.paragraphs else paragraphs(ex)
        data = (outcome.line + "\n").encode("utf-8")
        self.rows.append(((str(outcome.path), ex.meta.sha256), self.fh.tell(), len(data) - 1,
                          inc.line_hash(outcome.line)))
        self.fh.write(data)
        part, _ = report_graph_of(ex, offsets)
        merge(self.graph, part)
        if self.stream is not None:
            self.stream.add(part, rid, outcome.nquads)
        if offsets is not None and found is not None and rid not in self.where:
            self.where[rid] = _where(offsets, found)
        self.slim.append(zlib.compress(pickle.dumps(slim(ex), pickle.HIGHEST_PROTOCOL), 1))
        if len(self.slim) % TRIM_EVERY == 0:
            self.settle()

    def settle(self) -> None:
        """Freeze what was taken so far for the garbage collector and trim the heap (`trim_heap`). The graph
        lives until the stores are written: the cyclic collector need not traverse it again at every full
        collection (15% of the build process's CPU at 1,000 reports). `kg.build` unfreezes at the end."""
        gc.freeze()
        trim_heap()
