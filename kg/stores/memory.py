"""In-memory sink: keeps a merged PropertyGraph, the reference the real stores are tested against."""

from __future__ import annotations

from kg.graph import Edge, PropertyGraph
from kg.stores.base import conformant, graph_counts


class MemorySink:
    """Merges written graphs with PropertyGraph semantics (first writer wins per property)."""

    name = "memory"

    def __init__(self) -> None:
        self.graph = PropertyGraph()

    def write(self, graph: PropertyGraph) -> dict[str, int]:
        clean, skipped = conformant(graph)
        before_n, before_e = len(self.graph.nodes), len(self.graph.edges)
        for n in clean.nodes.values():
            self.graph.add_node(n.id, n.label, **n.props)
        for key, e in clean.edges.items():
            self.graph.edges.setdefault(key, Edge(e.src, e.type, e.dst, dict(e.props)))
        added = {"nodes": len(self.graph.nodes) - before_n, "edges": len(self.graph.edges) - before_e}
        return {**added, **skipped}

    def counts(self) -> dict[str, int]:
        return graph_counts(self.graph)

    def optimize(self) -> None:
        """Nothing to compact."""

    def close(self) -> None:
        """Nothing to release; the graph stays readable for assertions."""
