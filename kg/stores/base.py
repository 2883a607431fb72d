"""The narrow interface every graph sink implements, plus the vocabulary check all sinks share.

Sinks consume a `kg.graph.PropertyGraph` and nothing else, so the pipeline can fan one graph out to any
mix of stores. All sinks drop the same things (labels and edge types outside `kg.graph.LABELS` /
`EDGE_TYPES`, edges whose endpoints are missing from the written graph or have the wrong labels):
typed stores such as LadybugDB cannot hold them, and dropping them everywhere keeps the counts of
every store equal and comparable.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Protocol, runtime_checkable

from kg.graph import EDGE_TYPES, LABELS, PropertyGraph

log = logging.getLogger(__name__)


@runtime_checkable
class GraphSink(Protocol):
    """A place a PropertyGraph can be written to; writes are idempotent (ids are deterministic)."""

    name: str

    def write(self, graph: PropertyGraph) -> dict[str, int]:
        """Write (merge) a graph; returns what was written, at least `nodes` and `edges`."""
        ...

    def counts(self) -> dict[str, int]:
        """Current totals: `nodes`, `edges`, `node:<Label>`, `edge:<TYPE>`, plus store-specific keys."""
        ...

    def optimize(self) -> None:
        """Compact what writes left behind (`kg build --optimize`); a no-op where the store has nothing to
        compact or compacts itself."""
        ...

    def close(self) -> None: ...


def conformant(pg: PropertyGraph) -> tuple[PropertyGraph, dict[str, int]]:
    """The part of `pg` every sink can store (shares Node/Edge objects), and how much was dropped."""
    out = PropertyGraph()
    out.nodes = {nid: n for nid, n in pg.nodes.items() if n.label in LABELS}
    dropped_edges = 0
    for key, e in pg.edges.items():
        ends = EDGE_TYPES.get(e.type)
        src, dst = out.nodes.get(e.src), out.nodes.get(e.dst)
        if ends is None or src is None or dst is None or (src.label, dst.label) != ends:
            dropped_edges += 1
            continue
        out.edges[key] = e
    skipped = {"skipped_nodes": len(pg.nodes) - len(out.nodes), "skipped_edges": dropped_edges}
    if skipped["skipped_nodes"] or dropped_edges:
        log.warning("dropping %(skipped_nodes)d nodes and %(skipped_edges)d edges outside the schema",
                    skipped)
    return out, skipped


def graph_counts(pg: PropertyGraph) -> dict[str, int]:
    """Counts in the shape `GraphSink.counts` returns, computed from a PropertyGraph."""
    out: dict[str, int] = {"nodes": len(pg.nodes), "edges": len(pg.edges)}
    labels = Counter(n.label for n in pg.nodes.values())
    types = Counter(e.type for e in pg.edges.values())
    out.update({f"node:{lb}": labels.get(lb, 0) for lb in LABELS})
    out.update({f"edge:{t}": types.get(t, 0) for t in EDGE_TYPES})
    return out
