"""Incremental builds: what a previous build lends the next one, and what changed between them.

A build directory records in `manifest.json`:

* a fingerprint of everything that decides its content (TownKG's code and data, the versions of the
  segmenter, converter and stores) — any mismatch makes the next build a full one, because a rule
  change must never leave stale facts behind;
* for each line of `extractions.jsonl`: the file's path and sha256, the line's byte span and a hash of
  the line, plus where its programs are first named (paragraph offsets for the stores, `kg.paragraphs`;
  co-occurrence units for the page, `kg.viz_cooc`), so an unchanged report needs neither re-extraction
  nor re-reading;
* the `Registry`: the part of the graph that reports share (entity nodes with their merged properties,
  report-less edges such as PART_OF, extractor agents, report ids).

The next build of the same `--out` reuses the line of every file whose path and content hash are
unchanged, copies the previous stores into its temp directory and applies a `GraphDelta`: every fact of
a changed or removed report goes (its named graph in Oxigraph, its rows in LadybugDB), the changed and
new reports' facts are written, and shared entities are added, removed or updated so the stores end up
exactly as a full rebuild would leave them (first-writer-wins, in file order).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from kg.graph import Edge, Node, PropertyGraph, report_id

MANIFEST = "manifest.json"
FORMAT = 1
# Third-party packages whose version changes what a build contains (tokens, conversion, storage).
_DISTS = ("jieba", "rjieba", "opencc", "pyoxigraph", "ladybug", "pyarrow")
_SOURCE_SUFFIXES = (".py", ".gz", ".tsv", ".json", ".txt", ".csv")

Key = tuple[str, str]  # (path as given, sha256 of the file's bytes)


@cache
def fingerprint() -> str:
    """Hash of TownKG's own code and data plus the relevant package versions (once per process)."""
    import kg

    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    root = Path(kg.__file__).resolve().parent
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in _SOURCE_SUFFIXES and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    for dist in _DISTS:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "-"
        h.update(f"{dist}={version}\n".encode())
    return h.hexdigest()


def line_hash(line: str) -> str:
    return hashlib.sha1(line.encode("utf-8")).hexdigest()


def file_key(path: Path, max_bytes: int) -> Key | None:
    """(path, sha256) of a file that may be reused; None when it is unreadable or above the size limit
    (then it goes through the reader, which says why)."""
    try:
        if path.stat().st_size > max_bytes:
            return None
        return str(path), hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


# ---------------------------------------------------------------- the shared part of a graph


def node_report(n: Node) -> str | None:
    """The report a node belongs to (a Report itself, or an Observation's report), None for entities."""
    if n.label == "Report":
        return n.id
    rid = n.props.get("report")
    return str(rid) if rid else None


def edge_report(e: Edge, nodes: dict[str, Node]) -> str | None:
    """The report an edge was read from (its `report` prop, or its Report source: ABOUT)."""
    rid = e.props.get("report")
    if rid:
        return str(rid)
    src = nodes.get(e.src)
    return e.src if src is not None and src.label == "Report" else None


@dataclass(slots=True)
class Registry:
    """Entity nodes, report-less edges, extractor agents and report ids of one graph."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str, str], Edge] = field(default_factory=dict)
    agents: set[str] = field(default_factory=set)
    reports: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, g: PropertyGraph) -> Registry:
        r = cls()
        for n in g.nodes.values():
            rid = node_report(n)
            if rid is None:
                r.nodes[n.id] = n
            elif n.label == "Report":
                r.reports.add(n.id)
            if n.props.get("extractor"):
                r.agents.add(str(n.props["extractor"]))
        for key, e in g.edges.items():
            if edge_report(e, g.nodes) is None:
                r.edges[key] = e
            if e.props.get("extractor"):
                r.agents.add(str(e.props["extractor"]))
        return r

    def to_json(self) -> dict[str, Any]:
        return {"nodes": [[n.id, n.label, dict(n.props)] for n in self.nodes.values()],
                "edges": [[e.src, e.type, e.dst, dict(e.props)] for e in self.edges.values()],
                "agents": sorted(self.agents), "reports": sorted(self.reports)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Registry:
        r = cls(agents=set(data["agents"]), reports=set(data["reports"]))
        for nid, label, props in data["nodes"]:
            r.nodes[nid] = Node(nid, label, props)
        for src, typ, dst, props in data["edges"]:
            e = Edge(src, typ, dst, props)
            r.edges[e.key] = e
        return r


# ---------------------------------------------------------------- the previous build


@dataclass(slots=True)
class Previous:
    """The reusable part of a previous build (see the module docstring)."""

    out: Path
    extractions: Path
    keys: list[Key]
    spans: list[tuple[int, int]]
    hashes: list[str]
    paragraphs: dict[str, tuple[dict[str, int], dict[str, str]]]  # report → paragraph offsets, page units
    registry: Registry
    index: dict[Key, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, key in enumerate(self.keys):
            self.index.setdefault(key, i)

    def line(self, i: int) -> str:
        start, length = self.spans[i]
        with self.extractions.open("rb") as fh:
            fh.seek(start)
            return fh.read(length).decode("utf-8")


def load_previous(out: Path, extractions_name: str) -> Previous | None:
    """The previous build at `out` if its manifest matches this TownKG exactly, else None (full build)."""
    path = out / extractions_name
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT or manifest.get("fingerprint") != fingerprint():
            return None
        rows = manifest["reports"]
        keys = [(str(r[0]), str(r[1])) for r in rows]
        spans = [(int(r[2]), int(r[3])) for r in rows]
        hashes = [str(r[4]) for r in rows]
        end = max((s + n + 1 for s, n in spans), default=0)
        if path.stat().st_size != end:
            return None  # extractions.jsonl does not match its manifest: trust neither
        registry = Registry.from_json(manifest["registry"])
        paragraphs = {str(k): (dict(where[0]), dict(where[1])) for k, where in manifest["paragraphs"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    return Previous(out, path, keys, spans, hashes, paragraphs, registry)


def page_units(paragraphs: dict[str, tuple[dict[str, int], dict[str, str]]]) -> dict[tuple[str, str], str]:
    """(report, program) → co-occurrence unit on the page, from the manifest's `paragraphs` (report →
    (paragraph offsets, units)); the build's Collector and `kg viz` both read them this way."""
    return {(str(rid), str(pid)): str(u)
            for rid, (_, found) in paragraphs.items() for pid, u in found.items()}


def write_manifest(root: Path, rows: list[tuple[Key, int, int, str]],
                   paragraphs: dict[str, tuple[dict[str, int], dict[str, str]]],
                   registry: Registry, stats: dict[str, Any]) -> None:
    data = {"format": FORMAT, "fingerprint": fingerprint(), "last_build": stats,
            "reports": [[k[0], k[1], start, length, h] for k, start, length, h in rows],
            "paragraphs": paragraphs, "registry": registry.to_json()}
    (root / MANIFEST).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                                 encoding="utf-8")


# ---------------------------------------------------------------- delta


@dataclass(slots=True)
class GraphDelta:
    """How to turn stores holding graph `old` (known by its `Registry`) into stores holding `new`.

    Removals first: every fact of `reports_removed` (removed or changed reports), then entity nodes,
    report-less edges and extractor agents nobody uses any more; `nodes_changed` get their properties
    replaced. Then `graph` is written: the changed and new reports' own nodes and edges, new and changed
    entities, new report-less edges, plus the endpoints every edge needs; `new_ids` are the nodes of
    `graph` the stores do not hold yet.
    """

    reports_removed: set[str] = field(default_factory=set)
    reports_added: set[str] = field(default_factory=set)
    nodes_removed: dict[str, Node] = field(default_factory=dict)
    nodes_changed: dict[str, tuple[Node, Node]] = field(default_factory=dict)  # id → (old, new)
    edges_removed: list[Edge] = field(default_factory=list)
    agents_removed: set[str] = field(default_factory=set)
    graph: PropertyGraph = field(default_factory=PropertyGraph)
    new_ids: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (self.reports_removed or self.nodes_removed or self.nodes_changed or self.edges_removed
                    or self.agents_removed or self.graph.nodes or self.graph.edges)

    def stats(self) -> dict[str, int]:
        return {"reports_removed": len(self.reports_removed), "reports_added": len(self.reports_added),
                "entities_removed": len(self.nodes_removed), "entities_changed": len(self.nodes_changed),
                "nodes_written": len(self.graph.nodes), "edges_written": len(self.graph.edges)}


def diff(old: Registry, new: PropertyGraph, dirty: set[str], cur: Registry | None = None) -> GraphDelta:
    """The delta from a build whose shared part is `old` to the graph `new` (whose shared part `cur`
    may be passed when already known).

    `dirty` are the report ids whose own content differs (see `dirty_reports`): their per-report nodes
    and edges are replaced wholesale; the shared part is compared node by node and edge by edge.
    """
    d = GraphDelta()
    cur = cur or Registry.of(new)
    d.reports_removed = (dirty & old.reports) | (old.reports - cur.reports)
    d.reports_added = (dirty & cur.reports) | (cur.reports - old.reports)
    for nid, n in old.nodes.items():
        m = cur.nodes.get(nid)
        if m is None:
            d.nodes_removed[nid] = n
        elif m.label != n.label or m.props != n.props:
            d.nodes_changed[nid] = (n, m)
    for key, e in old.edges.items():
        if key not in cur.edges or cur.edges[key].props != e.props:
            d.edges_removed.append(e)
    d.agents_removed = old.agents - cur.agents

    g = d.graph
    for nid, n in new.nodes.items():
        rid = node_report(n)
        if rid in d.reports_added if rid is not None else (nid not in old.nodes or nid in d.nodes_changed):
            g.nodes[nid] = n
            if rid is not None or nid not in old.nodes:
                d.new_ids.add(nid)
    for key, e in new.edges.items():
        rid = edge_report(e, new.nodes)
        fresh = key not in old.edges or old.edges[key].props != e.props
        if rid in d.reports_added if rid is not None else fresh:
            g.edges[key] = e
            for end in (e.src, e.dst):
                if end in new.nodes:
                    g.nodes.setdefault(end, new.nodes[end])
    return d


def dirty_reports(old: Iterable[tuple[str, str]], new: Iterable[tuple[str, str]]) -> set[str]:
    """Report ids whose extraction lines differ between two builds.

    `old` and `new` are (sha256, line hash) pairs in file order. A report id is a content hash, so it
    is dirty when its file was added, removed, changed, or moved to another path (the line names it).
    """

    def group(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for sha, h in pairs:
            out.setdefault(report_id(sha), []).append(h)
        return out

    a, b = group(old), group(new)
    return {rid for rid in a.keys() | b.keys() if a.get(rid) != b.get(rid)}
