"""PropertyGraph → RDF quads under the TownKG ontology (ontology/townkg.ttl, shapes in ontology/shapes.ttl).

Mapping decisions (kept here because every RDF consumer depends on them):

* IRIs are deterministic, so loading twice adds nothing: node `id` → ``https://townkg.org/id/<id>`` with
  everything but ``:`` and unreserved ASCII percent-encoded (UTF-8), which keeps ``/``, ``#`` and ``%`` in ids
  from colliding. Every node also keeps its id as ``dct:identifier`` so queries can join back to the
  property graph (and stores can count nodes).
* Named graphs: one per report, ``https://townkg.org/graph/<report id>``, holding the report's own
  description, its observations (nodes with a ``report`` prop) and every edge with a ``report`` prop (ABOUT
  goes with its Report). Resolved entities (towns, governments, programs, projects, companies, indicators),
  report-less edges (PART_OF) and extractor agents live in ``https://townkg.org/graph/entities``.
  Dropping a report's graph therefore removes exactly what that report asserted.
* Edges: each edge is one direct triple ``src tk:<edgeType> dst`` (camelCase of the type, e.g.
  ``tk:underProgram``) in its graph, so (s, p, o, graph) ↔ PropertyGraph edge key is one-to-one.
  An edge that carries more than ``report`` (offsets, quote, stance, ...) is also reified as a
  ``tk:Fact`` (⊑ rdf:Statement, prov:Entity) with rdf:subject/predicate/object, ``prov:wasDerivedFrom``
  the report and ``prov:wasAttributedTo`` the extractor (prov:SoftwareAgent).
* Text evidence sits on the fact itself: ``tk:start``/``tk:end`` (raw character offsets of the report file
  as decoded, end exclusive), ``tk:quote`` (those raw characters) and ``tk:sentence`` (the normalized
  sentence). They are the values of a Web Annotation oa:TextPositionSelector / oa:TextQuoteSelector on the
  report (`ontology/townkg.ttl` says so), written inline because a separate span resource with two selector
  nodes took 10 quads per span, 37% of a build's RDF, and Oxigraph's load costs ~12 µs of CPU per quad
  (issue #8). Observations carry the same properties (they are per-report nodes). The per-edge ``file``
  prop is dropped: it is the report's ``tk:fileName``.
* Observations are ``qb:Observation`` in one ``qb:DataSet`` per report (structure ``tk:dsd``):
  dimensions tk:measures (indicator), tk:refArea (town, materialized inverse of REPORTS) and tk:period;
  measures tk:value / tk:growthPct (xsd:decimal); tk:unit attribute. Periods that are a bare year are
  xsd:gYear, others (``2023-01..2023-07``, ``2023-H1``) plain strings.
* Standard super-properties/classes are materialized because Oxigraph does no inference:
  org:subOrganizationOf for SUBORDINATE_TO/PART_OF, aligned rdf:types (org:Organization, skos:Concept,
  qb:Observation, prov:Entity, schema:Report), skos:prefLabel next to rdfs:label for concepts and orgs;
  a program written differently from its canonical name (IMPLEMENTS ``surface``) gets that form as
  ``skos:altLabel`` in the report's graph.
* IMPLEMENTS is also stated by stance, ``tk:implementsNow`` / ``tk:plansToImplement`` (sub-properties of
  tk:implements), and program co-occurrence (CO_OCCURS, kg/aggregates.py) is a reified ``tk:coOccursWith``
  fact with ``tk:paragraphs``/``tk:towns`` in the entities graph: cross-report questions then read index
  ranges instead of looking facts up one by one.
* Literals: names and other Chinese prose ``@zh``; numbers xsd:decimal (xsd:double for NaN/inf); offsets
  xsd:nonNegativeInteger; codes and enums xsd:string. Unknown props map to ``tk:<camelCase>``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pyoxigraph import NamedNode, Quad, RdfFormat, Triple, parse, serialize

from kg.graph import Node, PropertyGraph
from kg.rdf_terms import (
    ENTITIES,
    PREFIXES,
    TK,
    agent_term,
    camel,
    dataset_term,
    fact_term,
    graph_term,
    iri,
    literal_term,
    node_term,
    term_value,
    zh_term,
)
from kg.rdf_terms import GRAPH_BASE as GRAPH_BASE  # re-exported: SPARQL code and stores name them from here
from kg.rdf_terms import ID as ID

ONTOLOGY = Path(__file__).resolve().parent.parent / "ontology"
SHAPES_PATH = ONTOLOGY / "shapes.ttl"
ONTOLOGY_PATH = ONTOLOGY / "townkg.ttl"
SPARQL_PREFIXES = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())


@cache
def _n(curie: str) -> NamedNode:
    return NamedNode(term_value(iri(curie)))


RDF_TYPE = _n("rdf:type")
ENTITIES_GRAPH = NamedNode(term_value(ENTITIES))

# rdf:types per label: the tk class first, then materialized standard classes.
CLASSES: dict[str, tuple[str, ...]] = {
    "Report": ("tk:Report", "prov:Entity", "schema:Report"),
    "Town": ("tk:Town", "org:Organization", "schema:GovernmentOrganization"),
    "Government": ("tk:Government", "org:Organization", "schema:GovernmentOrganization"),
    "Program": ("tk:Program", "skos:Concept"),
    "Project": ("tk:Project", "prov:Entity"),
    "Company": ("tk:Company", "org:FormalOrganization", "schema:Organization"),
    "Indicator": ("tk:Indicator", "skos:Concept"),
    "Observation": ("tk:Observation", "qb:Observation", "prov:Entity"),
}
PREF_LABELLED = {"Town", "Government", "Program", "Company", "Indicator"}
SCHEMES = {"Program": "tk:programs", "Indicator": "tk:indicators"}

EDGE_PREDICATES: dict[str, str] = {
    "ABOUT": "tk:about", "SUBORDINATE_TO": "tk:subordinateTo", "PART_OF": "tk:partOf",
    "IMPLEMENTS": "tk:implements", "HAS_PROJECT": "tk:hasProject", "UNDER_PROGRAM": "tk:underProgram",
    "INVOLVES": "tk:involves", "HOSTS": "tk:hosts", "REPORTS": "tk:reports", "MEASURES": "tk:measures",
    "FROM_REPORT": "tk:fromReport", "CO_OCCURS": "tk:coOccursWith",
}
# Extra triples materialized next to an edge (standard super-property or Data Cube inverse).
_SUPER_SAME_DIR = {"SUBORDINATE_TO": "org:subOrganizationOf", "PART_OF": "org:subOrganizationOf"}
_INVERSE = {"REPORTS": "tk:refArea"}
# IMPLEMENTS restated by stance (sub-properties of tk:implements), so "which towns carry out X" and "with
# what stance" are one index range each instead of a fact lookup per town (issue #8: queries at 10k reports).
STANCE_PREDICATES = {"implemented": "tk:implementsNow", "planned": "tk:plansToImplement"}

# (label or "*", prop) → (predicate, literal kind). "*" applies to every label without its own entry.
PROPS: dict[tuple[str, str], tuple[str, str]] = {
    ("*", "name"): ("rdfs:label", "zh"),
    ("Report", "file"): ("tk:fileName", "str"), ("Report", "sha256"): ("tk:sha256", "str"),
    ("Report", "title"): ("dct:title", "zh"), ("Report", "year"): ("tk:reportYear", "year"),
    ("Report", "date"): ("schema:datePublished", "date"), ("Report", "session"): ("tk:session", "zh"),
    ("Report", "speaker"): ("tk:speaker", "zh"),
    ("*", "level"): ("tk:level", "str"), ("*", "code"): ("tk:divisionCode", "str"),
    ("Program", "definition"): ("skos:definition", "zh"),
    ("*", "aliases"): ("skos:altLabel", "aliases"), ("Company", "type"): ("tk:companyType", "str"),
    ("Project", "investment_value"): ("tk:investmentValue", "dec"),
    ("Project", "investment_unit"): ("tk:investmentUnit", "str"),
    ("Project", "investment_yuan"): ("tk:investmentYuan", "dec"),
    ("Project", "status"): ("tk:status", "str"), ("Project", "location"): ("tk:location", "zh"),
    ("Observation", "value"): ("tk:value", "dec"), ("Observation", "unit"): ("tk:unit", "str"),
    ("Observation", "period"): ("tk:period", "period"),
    ("Observation", "growth_pct"): ("tk:growthPct", "dec"),
    ("Observation", "kind"): ("tk:kind", "str"), ("Observation", "modifier"): ("tk:modifier", "str"),
    ("Observation", "value_high"): ("tk:valueHigh", "dec"),
    ("Observation", "normalized"): ("tk:normalizedValue", "dec"),
    ("Observation", "normalized_unit"): ("tk:normalizedUnit", "str"),
    ("*", "stance"): ("tk:stance", "str"), ("*", "surface"): ("tk:surface", "zh"),
    ("*", "paragraph"): ("tk:paragraph", "nnint"),
    ("*", "paragraphs"): ("tk:paragraphs", "nnint"), ("*", "towns"): ("tk:towns", "nnint"),
}
PROV_KEYS = ("report", "file", "start", "end", "quote", "sentence", "extractor")


def node_iri(node_id: str) -> NamedNode:
    return NamedNode(term_value(node_term(node_id)))


def report_graph(report_id: str) -> NamedNode:
    return NamedNode(term_value(graph_term(report_id)))


def agent_iri(extractor: str) -> NamedNode:
    return NamedNode(term_value(agent_term(extractor)))


@cache
def edge_term(edge_type: str) -> str:
    curie = EDGE_PREDICATES.get(edge_type)
    return iri(curie) if curie else f"<{TK}{camel(edge_type.lower())}>"


def edge_predicate(edge_type: str) -> NamedNode:
    return NamedNode(term_value(edge_term(edge_type)))


@cache
def _prop(label: str, key: str) -> tuple[str, str]:
    pred, kind = PROPS.get((label, key)) or PROPS.get(("*", key)) or ("", "auto")
    return (iri(pred) if pred else f"<{TK}{camel(key)}>"), kind


_T = {c: iri(c) for c in (
    "rdf:type", "rdfs:label", "skos:prefLabel", "dct:identifier", "prov:wasDerivedFrom",
    "prov:wasAttributedTo", "prov:SoftwareAgent", "skos:inScheme", "skos:altLabel", "tk:start", "tk:end",
    "tk:quote", "tk:sentence", "tk:Fact", "rdf:subject", "rdf:predicate", "rdf:object", "qb:dataSet",
    "qb:DataSet", "qb:structure", "tk:dsd")}
_TYPES = {label: [iri(c) for c in cs] for label, cs in CLASSES.items()}


class _Emitter:
    """Collects N-Quads lines, writing shared one-off resources (agents, data sets) only once."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.seen: set[str] = set()

    def add(self, s: str, p: str, o: str, g: str) -> None:
        self.lines.append(f"{s} {p} {o} {g} .\n")

    def once(self, key: str) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def take(self) -> tuple[bytes, int]:
        lines, self.lines = self.lines, []
        return "".join(lines).encode("utf-8"), len(lines)

    def agent(self, extractor: str) -> str:
        term = agent_term(extractor)
        if self.once("agent:" + extractor):
            self.add(term, _T["rdf:type"], _T["prov:SoftwareAgent"], ENTITIES)
            self.add(term, _T["rdfs:label"], literal_term(extractor, "str"), ENTITIES)
        return term

    def provenance(self, subj: str, props: dict[str, Any], g: str) -> None:
        """prov:wasDerivedFrom the report, attribution to the extractor, and the text evidence inline."""
        rid = props.get("report")
        if rid:
            self.add(subj, _T["prov:wasDerivedFrom"], node_term(str(rid)), g)
        if props.get("extractor"):
            self.add(subj, _T["prov:wasAttributedTo"], self.agent(str(props["extractor"])), g)
        start, end = props.get("start"), props.get("end")
        if start is not None and end is not None:
            self.add(subj, _T["tk:start"], literal_term(start, "nnint"), g)
            self.add(subj, _T["tk:end"], literal_term(end, "nnint"), g)
        if props.get("quote"):
            self.add(subj, _T["tk:quote"], literal_term(props["quote"], "str"), g)
        if props.get("sentence"):
            self.add(subj, _T["tk:sentence"], zh_term(str(props["sentence"])), g)

    def node(self, n: Node, subj: str) -> None:
        rid = n.props.get("report")
        per_report = n.label == "Report" or rid is not None
        g = graph_term(n.id if n.label == "Report" else str(rid)) if per_report else ENTITIES
        for t in _TYPES.get(n.label) or [f"<{TK}{quote(n.label, safe='')}>"]:
            self.add(subj, _T["rdf:type"], t, g)
        self.add(subj, _T["dct:identifier"], literal_term(n.id, "str"), g)
        if n.label in SCHEMES:
            self.add(subj, _T["skos:inScheme"], iri(SCHEMES[n.label]), g)
        for key, value in n.props.items():
            if value is None or (rid is not None and key in PROV_KEYS):
                continue
            pred, kind = _prop(n.label, key)
            if kind == "aliases":
                for alias in filter(None, str(value).split("|")):
                    self.add(subj, pred, zh_term(alias), g)
                continue
            self.add(subj, pred, literal_term(value, kind), g)
            if key == "name" and n.label in PREF_LABELLED:
                self.add(subj, _T["skos:prefLabel"], zh_term(str(value)), g)
        if rid is not None:
            self.provenance(subj, n.props, g)
        if n.label == "Observation" and rid is not None:
            ds = dataset_term(str(rid))
            self.add(subj, _T["qb:dataSet"], ds, g)
            if self.once("ds:" + str(rid)):
                self.add(ds, _T["rdf:type"], _T["qb:DataSet"], g)
                self.add(ds, _T["qb:structure"], _T["tk:dsd"], g)
                self.add(ds, _T["prov:wasDerivedFrom"], node_term(str(rid)), g)

    def edge(self, pg: PropertyGraph, e: Any) -> None:
        s, o, p = node_term(e.src), node_term(e.dst), edge_term(e.type)
        g = graph_of_edge(pg, e.src, e.props)
        self.add(s, p, o, g)
        surface, dst = e.props.get("surface"), pg.nodes.get(e.dst)
        if e.type == "IMPLEMENTS" and surface and dst is not None and surface != dst.props.get("name"):
            self.add(o, _T["skos:altLabel"], zh_term(str(surface)), g)
        if e.type in _SUPER_SAME_DIR:
            self.add(s, iri(_SUPER_SAME_DIR[e.type]), o, g)
        if e.type in _INVERSE:
            self.add(o, iri(_INVERSE[e.type]), s, g)
        if e.type == "IMPLEMENTS" and e.props.get("stance") in STANCE_PREDICATES:
            self.add(s, iri(STANCE_PREDICATES[e.props["stance"]]), o, g)
        extra = {k: v for k, v in e.props.items() if k not in PROV_KEYS and v is not None}
        if not extra and not any(e.props.get(k) is not None for k in PROV_KEYS if k != "report"):
            return  # the named graph already says which report asserted it
        f = fact_term(e.key)
        self.add(f, _T["rdf:type"], _T["tk:Fact"], g)
        self.add(f, _T["rdf:subject"], s, g)
        self.add(f, _T["rdf:predicate"], p, g)
        self.add(f, _T["rdf:object"], o, g)
        for key, value in extra.items():
            pred, kind = _prop("*", key)
            self.add(f, pred, literal_term(value, kind), g)
        self.provenance(f, e.props, g)


def graph_of_edge(pg: PropertyGraph, src: str, props: dict[str, Any]) -> str:
    """Report's graph for edges read from a report (ABOUT: its Report's), else the entities graph."""
    rid = props.get("report")
    if rid:
        return graph_term(str(rid))
    node = pg.nodes.get(src)
    return graph_term(src) if node is not None and node.label == "Report" else ENTITIES


def iter_nquads(pg: PropertyGraph, batch: int = 250_000,
                nodes: Iterable[Node] | None = None) -> Iterator[tuple[bytes, int]]:
    """The graph's RDF as N-Quads, in chunks of about `batch` quads: (UTF-8 text, quads in it). Content and
    order are deterministic for a given graph; stores load a large graph chunk by chunk (20 million quads for
    10,000 reports would not fit in memory at once).

    `nodes` limits the node descriptions emitted (default: all of `pg`'s) while `pg` still resolves the
    edges' endpoints: a build maps each report's own part as it is extracted, and the shared entities,
    whose properties later reports may complete, once at the end.
    """
    em = _Emitter()
    for n in pg.nodes.values() if nodes is None else nodes:
        em.node(n, node_term(n.id))
        if len(em.lines) >= batch:
            yield em.take()
    for e in pg.edges.values():
        if len(em.lines) >= batch:
            yield em.take()
        em.edge(pg, e)
    if em.lines:
        yield em.take()


def parse_nquads(data: bytes) -> list[Quad]:
    return list(parse(data, format=RdfFormat.N_QUADS))


def iter_quads(pg: PropertyGraph, batch: int = 250_000,
               nodes: Iterable[Node] | None = None) -> Iterator[list[Quad]]:
    """`iter_nquads` as pyoxigraph Quad objects (same quads, same order), for consumers that need terms."""
    for data, _ in iter_nquads(pg, batch, nodes):
        yield parse_nquads(data)


def graph_to_quads(pg: PropertyGraph) -> list[Quad]:
    """All quads for a property graph, deterministic in content and order for a given graph."""
    return next(iter_quads(pg, batch=sys.maxsize), [])


def graph_to_nquads(pg: PropertyGraph) -> bytes:
    """All of the graph's RDF as one N-Quads text (`iter_nquads` in one chunk)."""
    return next(iter_nquads(pg, batch=sys.maxsize), (b"", 0))[0]


def to_ntriples(quads: Iterable[Quad]) -> bytes:
    """The union of all graphs as N-Triples: the data graph SHACL validation needs (graphs link entities)."""
    triples = {Triple(q.subject, q.predicate, q.object) for q in quads}
    return serialize(sorted(triples, key=str), format=RdfFormat.N_TRIPLES) or b""


def shacl_validate(quads: Iterable[Quad], shapes: Path = SHAPES_PATH) -> tuple[bool, str]:
    """Validate the union graph against shapes.ttl with pyshacl (optional dependency, imported lazily)."""
    import pyshacl
    import rdflib

    data = rdflib.Graph().parse(data=to_ntriples(quads), format="nt")
    with warnings.catch_warnings():  # pyshacl still calls rdflib APIs rdflib 7.x deprecates, once per triple
        warnings.simplefilter("ignore", DeprecationWarning)
        conforms, _, text = pyshacl.validate(data, shacl_graph=str(shapes), inference="none", advanced=True)
    return bool(conforms), str(text)
