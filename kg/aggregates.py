"""Build-time aggregates: facts derived from the whole graph that cross-report questions would otherwise
recompute from every fact on each ask.

`CO_OCCURS` (Program → Program, the smaller name first): the two programs are first named in the same
paragraph of a report (IMPLEMENTS `report` + `paragraph`, see kg/paragraphs.py), with `paragraphs` = in how
many paragraphs over all reports and `towns` = of how many distinct towns. That is the rule of the
co-occurrence view and of the plain self-join over IMPLEMENTS facts
(tests/named_queries_naive/program_cooccurrence.rq), which the tests hold the stored pairs to. At 10,000
reports the self-join reads ~380k facts (25 s on Oxigraph, 1 s on LadybugDB); the stored pairs are a lookup.

The edges carry no `report`: they live with the shared entities (the RDF entities graph, the incremental
build's Registry), so an incremental build updates exactly the pairs whose counts changed.

>>> from kg.graph import PropertyGraph
>>> g = PropertyGraph()
>>> for n in ("a", "b", "c"):
...     _ = g.add_node("program:" + n, "Program", name=n)
>>> for prog, para in (("a", 0), ("b", 0), ("c", 9)):
...     g.add_edge("town:x", "IMPLEMENTS", "program:" + prog, report="r1", paragraph=para)
>>> [(e.src, e.dst, dict(e.props)) for e in add_aggregates(g).edges.values() if e.type == "CO_OCCURS"]
[('program:a', 'program:b', {'paragraphs': 1, 'towns': 1})]
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from kg.graph import PropertyGraph

DERIVED_EDGES = frozenset({"CO_OCCURS"})


def cooccurrence(graph: PropertyGraph) -> dict[tuple[str, str], tuple[int, int]]:
    """(program id a, program id b) with name(a) < name(b) → (paragraphs, distinct towns)."""
    groups: dict[tuple[str, str, int], list[str]] = defaultdict(list)
    for e in graph.edges.values():
        if e.type == "IMPLEMENTS" and e.props.get("report") and e.props.get("paragraph") is not None:
            groups[(e.src, str(e.props["report"]), e.props["paragraph"])].append(e.dst)
    name = {nid: str(n.props.get("name", "")) for nid, n in graph.nodes.items() if n.label == "Program"}
    count: dict[tuple[str, str], int] = defaultdict(int)
    towns: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (town, _, _), programs in groups.items():
        if len(programs) < 2:
            continue
        for x, y in combinations(sorted(p for p in programs if p in name), 2):
            a, b = (x, y) if name[x] < name[y] else (y, x)
            if name[a] == name[b]:
                continue  # as the query's `program_a < program_b`
            count[(a, b)] += 1
            towns[(a, b)].add(town)
    return {pair: (n, len(towns[pair])) for pair, n in sorted(count.items())}


def add_aggregates(graph: PropertyGraph) -> PropertyGraph:
    """Replace `graph`'s derived edges by those its facts imply now (idempotent); returns `graph`."""
    for key in [k for k, e in graph.edges.items() if e.type in DERIVED_EDGES]:
        del graph.edges[key]
    for (a, b), (paragraphs, towns) in cooccurrence(graph).items():
        graph.add_edge(a, "CO_OCCURS", b, paragraphs=paragraphs, towns=towns)
    return graph
