"""Apply a `kg.incremental.GraphDelta` to a copy of the previous build's embedded stores.

Why per store: each store keeps a report's facts differently, and each has a cheap way to drop them.
* Oxigraph: a report's facts are exactly its named graph (`kg.rdf`), so `remove_graph` drops them;
  the shared entities graph is patched quad by quad (stale quads of removed or changed entities,
  removed PART_OF edges and unused extractor agents out; the new ones in with the delta graph).
* LadybugDB: a report's facts are the rows tagged with its id (every relationship's `report`, its
  Observations, its Report node with ABOUT/FROM_REPORT), deleted with one statement per table;
  changed entities get every column rewritten (not gap-filled: properties may have moved to another
  report's value); new rows are COPY'd without re-reading what the table holds (the delta says which
  nodes are new and that no written relationship exists yet).
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from kg.graph import EDGE_TYPES, LABELS, Node, PropertyGraph
from kg.incremental import GraphDelta
from kg.stores.base import conformant


def apply_delta(sink: Any, delta: GraphDelta) -> dict[str, int]:
    """Apply `delta` to an Oxigraph or LadybugDB sink; other sinks have no stored past (TypeError)."""
    from kg.stores.ladybug_store import LadybugSink
    from kg.stores.oxigraph_store import OxigraphSink

    if isinstance(sink, OxigraphSink):
        return _oxigraph(sink, delta)
    if isinstance(sink, LadybugSink):
        return _ladybug(sink, delta)
    raise TypeError(f"no incremental update for {type(sink).__name__}")


def _oxigraph(sink: Any, delta: GraphDelta) -> dict[str, int]:
    from kg.rdf import ENTITIES_GRAPH, agent_iri, graph_to_quads, report_graph

    store = sink._store()
    for rid in sorted(delta.reports_removed):
        g = report_graph(rid)
        if store.contains_named_graph(g):
            store.remove_graph(g)
    old_nodes = dict(delta.nodes_removed)
    old_nodes.update({nid: old for nid, (old, _) in delta.nodes_changed.items()})
    stale = {q for q in graph_to_quads(PropertyGraph(nodes=old_nodes)) if q.graph_name == ENTITIES_GRAPH}
    gone_edges = PropertyGraph(edges={e.key: e for e in delta.edges_removed})
    stale.update(q for q in graph_to_quads(gone_edges) if q.graph_name == ENTITIES_GRAPH)
    changed = PropertyGraph(nodes={nid: new for nid, (_, new) in delta.nodes_changed.items()})
    stale -= set(graph_to_quads(changed))
    for agent in sorted(delta.agents_removed):
        stale.update(store.quads_for_pattern(agent_iri(agent), None, None, ENTITIES_GRAPH))
    for quad in stale:
        store.remove(quad)
    written = sink.write(delta.graph) if delta.graph.nodes else {"quads": 0}
    store.flush()
    return {"graphs_removed": len(delta.reports_removed), "quads_removed": len(stale),
            "quads_written": written.get("quads", 0)}


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _ladybug(sink: Any, delta: GraphDelta) -> dict[str, int]:
    from kg.stores.ladybug_store import column

    conn = sink._conn()
    tables = {r[1] for r in conn.execute("CALL show_tables() RETURN *").get_all()}
    rids = sorted(delta.reports_removed)
    if rids:
        for t in EDGE_TYPES:
            if t in tables:
                conn.execute(f"MATCH ()-[r:{_q(t)}]->() WHERE r.report IN $ids DELETE r", {"ids": rids})
        for label, prop in (("Observation", "report"), ("Report", "id")):
            if label in tables:
                conn.execute(f"MATCH (n:{_q(label)}) WHERE n.{prop} IN $ids DETACH DELETE n", {"ids": rids})
    gone: dict[str, list[str]] = defaultdict(list)
    for nid, n in delta.nodes_removed.items():
        gone[n.label].append(nid)
    for label, ids in sorted(gone.items()):
        if label in tables:
            conn.execute(f"MATCH (n:{_q(label)}) WHERE n.id IN $ids DETACH DELETE n", {"ids": sorted(ids)})
    for e in delta.edges_removed:
        ends = EDGE_TYPES.get(e.type)
        if ends is None or e.type not in tables:
            continue
        conn.execute(f"MATCH (a:{_q(ends[0])})-[r:{_q(e.type)}]->(b:{_q(ends[1])}) WHERE a.id = $s "
                     "AND b.id = $d AND coalesce(r.report, '') = $r DELETE r",
                     {"s": e.src, "d": e.dst, "r": e.key[3]})
    clean, _ = conformant(delta.graph)
    sink._ensure_schema(clean)
    changed: dict[str, list[Node]] = defaultdict(list)
    for _, new in delta.nodes_changed.values():
        if new.label in LABELS:
            changed[new.label].append(new)
    for label, nodes in changed.items():
        cols = sink._columns(label)
        arrays = {"k0": pa.array([n.id for n in nodes], pa.string())}
        sets = []
        for i, (c, t) in enumerate(cols, 1):
            arrays[f"k{i}"] = column([n.props.get(c) for n in nodes], t)
            sets.append(f"n.{_q(c)} = k{i}")
        conn.execute(f"LOAD FROM $tbl MATCH (n:{_q(label)}) WHERE n.id = k0 SET {', '.join(sets)}",
                     {"tbl": pa.table(arrays)})
    added_n = added_e = 0
    by_label: dict[str, list[Node]] = defaultdict(list)
    for n in clean.nodes.values():
        if n.id in delta.new_ids:
            by_label[n.label].append(n)
    for label in LABELS:
        nodes = by_label.get(label)
        if nodes:
            arrays = {"id": pa.array([n.id for n in nodes], pa.string())}
            for c, t in sink._columns(label):
                arrays[c] = column([n.props.get(c) for n in nodes], t)
            sink._copy(label, arrays)
            added_n += len(nodes)
    by_type: dict[str, list[Any]] = defaultdict(list)
    for e in clean.edges.values():
        by_type[e.type].append(e)
    for t, edges in by_type.items():
        arrays = {"from": pa.array([e.src for e in edges], pa.string()),
                  "to": pa.array([e.dst for e in edges], pa.string())}
        for c, ty in sink._columns(t):
            arrays[c] = column([e.props.get(c) for e in edges], ty)
        sink._copy(t, arrays)
        added_e += len(edges)
    return {"reports_removed": len(rids), "entities_removed": len(delta.nodes_removed),
            "entities_changed": len(delta.nodes_changed), "nodes": added_n, "edges": added_e}


def carry_over(name: str, src: Path, dst: Path) -> bool:
    """Copy the previous build's store `src` (a store directory or database file) to `dst`.

    Oxigraph: a RocksDB checkpoint, which hard-links the immutable table files (instant, no extra disk);
    LadybugDB: the database file (and its write-ahead log, if one was left). False when there is none.
    """
    if not src.exists():
        return False
    if name == "oxigraph":
        from pyoxigraph import Store

        store = Store.read_only(str(src))
        try:
            store.backup(str(dst))
        finally:
            del store
    else:
        for p in (src, src.with_name(src.name + ".wal")):
            if p.is_file():
                shutil.copy2(p, dst.with_name(p.name))
    return True


def discard(path: Path) -> None:
    """Remove a store copied by `carry_over` (before writing it from scratch)."""
    if path.is_dir():
        shutil.rmtree(path)
    for p in (path, path.with_name(path.name + ".wal")):
        if p.is_file():
            p.unlink()
