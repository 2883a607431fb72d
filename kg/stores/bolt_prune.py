"""Make a Bolt server's TownKG part equal to the build just loaded: remove what the build no longer has.

Why: loads MERGE, so they only ever add. After a rebuild, a changed report has a new id (ids hash the file's
bytes) and a removed report is simply absent, so without this step their relationships, observations and
report nodes — and entities nobody names any more — would stay on the server next to the new ones, and every
cross-report count there would be off. The embedded stores get the same result from the incremental build's
delta (kg/stores/delta.py); a server may have been loaded from any earlier build, so here the server itself
is compared with the build: the ids of every TownKG label and the keys (ends, type, report) of every
TownKG relationship type, read back and diffed. Only TownKG labels and types are touched; `kg load neo4j
--no-prune` keeps everything (several builds loaded into one database).

Requests stay within the sink's byte budget (FalkorDB's ~3 KB) and carry ids only as parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kg.graph import EDGE_TYPES, LABELS, PropertyGraph
from kg.stores.bolt_params import request_size
from kg.stores.bolt_rows import q


def _batches(rows: list[Any], budget: int) -> Iterator[list[Any]]:
    """Rows in lists whose parameters stay within `budget` bytes."""
    batch: list[Any] = []
    size = 32
    for row in rows:
        n = request_size(row) + 4
        if batch and size + n > budget:
            yield batch
            batch, size = [], 32
        batch.append(row)
        size += n
    if batch:
        yield batch


def stale(sink: Any, graph: PropertyGraph) -> tuple[dict[str, list[str]], dict[str, list[list[str]]]]:
    """(label → ids, type → [src, dst, report or ""]) on the server but not in `graph`."""
    want_nodes: dict[str, set[str]] = {lb: set() for lb in LABELS}
    for n in graph.nodes.values():
        want_nodes.setdefault(n.label, set()).add(n.id)
    want_edges: dict[str, set[tuple[str, str, str]]] = {t: set() for t in EDGE_TYPES}
    for e in graph.edges.values():
        want_edges.setdefault(e.type, set()).add((e.src, e.dst, str(e.props.get("report") or "")))
    nodes: dict[str, list[str]] = {}
    edges: dict[str, list[list[str]]] = {}
    with sink._session() as s:
        for lb in LABELS:
            have = [r["id"] for r in s.run(f"MATCH (n:{q(lb)}) RETURN n.id AS id")]
            if extra := sorted(set(have) - want_nodes[lb]):
                nodes[lb] = extra
        for t, (src, dst) in EDGE_TYPES.items():
            rows = s.run(f"MATCH (a:{q(src)})-[e:{q(t)}]->(b:{q(dst)}) "
                         "RETURN a.id AS a, b.id AS b, e.report AS k")
            have = {(r["a"], r["b"], str(r["k"] or "")) for r in rows}
            if extra_e := sorted(have - want_edges[t]):
                edges[t] = [list(k) for k in extra_e]
    return nodes, edges


def prune(sink: Any, graph: PropertyGraph) -> dict[str, int]:
    """Delete from the server what `graph` (the build, conformant) lacks; returns the counts removed."""
    nodes, edges = stale(sink, graph)
    out = {"stale_nodes_deleted": 0, "stale_relationships_deleted": 0}
    with sink._session() as s:
        for t, keys in edges.items():
            src, dst = (q(x) for x in EDGE_TYPES[t])
            match = f"UNWIND $r AS r MATCH (a:{src} {{id: r[0]}})-[e:{q(t)}]->(b:{dst} {{id: r[1]}}) "
            keyed = [k for k in keys if k[2]]
            for rows, where in ((keyed, "WHERE e.report = r[2]"), ([k[:2] for k in keys if not k[2]],
                                                                   "WHERE e.report IS NULL")):
                for batch in _batches(rows, sink.batch_bytes):
                    c = s.run(match + where + " DELETE e", sink._safe({"r": batch})).consume().counters
                    sink.requests += 1
                    out["stale_relationships_deleted"] += c.relationships_deleted
        for lb, ids in nodes.items():
            for batch in _batches(ids, sink.batch_bytes):
                c = s.run(f"UNWIND $r AS x MATCH (n:{q(lb)} {{id: x}}) DETACH DELETE n",
                          sink._safe({"r": batch})).consume().counters
                sink.requests += 1
                out["stale_nodes_deleted"] += c.nodes_deleted
                out["stale_relationships_deleted"] += c.relationships_deleted
    return out
