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
  the report, ``prov:wasAttributedTo`` the extractor (prov:SoftwareAgent) and ``tk:evidence``.
* Evidence is Web-Annotation style: ``tk:evidence`` → ``oa:SpecificResource`` (``oa:hasSource`` the
  report, ``tk:sentence``) with an ``oa:TextPositionSelector`` (oa:start/oa:end, raw character offsets,
  end exclusive) and an ``oa:TextQuoteSelector`` (oa:exact = raw characters). The resource is the span
  (``id/text/<report>/<start>-<end>``), so the several facts read from one span (a project, its program
  and company) share it. Observations carry their provenance directly (they are per-report nodes), the
  same way. The per-edge ``file`` prop is dropped: it is the report's ``tk:fileName``.
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

import math
import re
import sys
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, serialize

from kg.graph import Node, PropertyGraph, short_hash

TK = "https://townkg.org/ns#"
ID = "https://townkg.org/id/"
GRAPH_BASE = "https://townkg.org/graph/"
ONTOLOGY = Path(__file__).resolve().parent.parent / "ontology"
SHAPES_PATH = ONTOLOGY / "shapes.ttl"
ONTOLOGY_PATH = ONTOLOGY / "townkg.ttl"

PREFIXES = {
    "tk": TK,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "qb": "http://purl.org/linked-data/cube#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "org": "http://www.w3.org/ns/org#",
    "oa": "http://www.w3.org/ns/oa#",
    "schema": "https://schema.org/",
}
SPARQL_PREFIXES = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())


@cache
def _n(curie: str) -> NamedNode:
    prefix, local = curie.split(":", 1)
    return NamedNode(PREFIXES[prefix] + local)


RDF_TYPE = _n("rdf:type")
RDFS_LABEL = _n("rdfs:label")
PREF_LABEL = _n("skos:prefLabel")
DCT_ID = _n("dct:identifier")
WAS_DERIVED = _n("prov:wasDerivedFrom")
ENTITIES_GRAPH = NamedNode(GRAPH_BASE + "entities")

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

_XSD = PREFIXES["xsd"]
_DT = {k: NamedNode(_XSD + k) for k in ("decimal", "double", "integer", "nonNegativeInteger", "gYear", "date",
                                        "boolean", "string")}
_YEAR = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# IRIs are immutable and the same ids recur (a report's graph on each of its edges, shared entities on
# every report's edges): caching them saves a quarter of the RDF mapping's time (URL quoting).
@lru_cache(maxsize=1 << 16)
def node_iri(node_id: str) -> NamedNode:
    return NamedNode(ID + quote(node_id, safe=":"))


@lru_cache(maxsize=1 << 12)
def report_graph(report_id: str) -> NamedNode:
    return NamedNode(GRAPH_BASE + quote(report_id, safe=":"))


@cache
def agent_iri(extractor: str) -> NamedNode:
    return NamedNode(ID + "agent/" + quote(extractor, safe=":@"))


def fact_iri(key: tuple[str, str, str, str]) -> NamedNode:
    return NamedNode(ID + "fact/" + short_hash(*key, n=24))


def span_iri(props: dict[str, Any]) -> NamedNode:
    """The text span a fact was read from: ``id/text/<report>/<start>-<end>``, shared by its facts."""
    rid = quote(str(props.get("report") or "-"), safe=":")
    start, end = props.get("start"), props.get("end")
    if start is not None and end is not None:
        return NamedNode(f"{ID}text/{rid}/{start}-{end}")
    return NamedNode(f"{ID}text/{rid}/{short_hash(props.get('quote'), props.get('sentence'))}")


def dataset_iri(report_id: str) -> NamedNode:
    return NamedNode(ID + "dataset/" + quote(report_id, safe=":"))


def camel(key: str) -> str:
    head, *rest = re.split(r"[_\W]+", key.strip()) or [key]
    return quote(head[:1].lower() + head[1:] + "".join(w[:1].upper() + w[1:] for w in rest), safe="")


@cache
def edge_predicate(edge_type: str) -> NamedNode:
    curie = EDGE_PREDICATES.get(edge_type)
    return _n(curie) if curie else NamedNode(TK + camel(edge_type.lower()))


def _decimal(x: Any) -> Literal:
    """Numbers as xsd:decimal (exact lexical form); NaN/inf only fit xsd:double."""
    if isinstance(x, bool) or not isinstance(x, int | float | Decimal):
        try:
            x = float(str(x).strip())
        except ValueError:
            return Literal(str(x))  # not a number: shapes will report the wrong datatype
    if isinstance(x, float) and not math.isfinite(x):
        return Literal("NaN" if math.isnan(x) else ("INF" if x > 0 else "-INF"), datatype=_DT["double"])
    try:
        text = format(Decimal(repr(x) if isinstance(x, float) else x), "f")
    except InvalidOperation:
        return Literal(str(x))
    return Literal(text, datatype=_DT["decimal"])


def literal(value: Any, kind: str) -> Literal:
    """Typed literal for a property value of the given kind (see PROPS)."""
    if kind == "zh":
        return Literal(str(value), language="zh")
    if kind == "dec":
        return _decimal(value)
    if kind == "nnint" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return Literal(str(value), datatype=_DT["nonNegativeInteger"])
    if kind == "year" and _YEAR.match(str(value)):
        return Literal(str(value), datatype=_DT["gYear"])
    if kind == "period":
        s = str(value)
        return Literal(s, datatype=_DT["gYear"]) if _YEAR.match(s) else Literal(s)
    if kind == "date" and _DATE.match(str(value)):
        return Literal(str(value), datatype=_DT["date"])
    return auto_literal(value) if kind == "auto" else Literal(str(value))


def auto_literal(value: Any) -> Literal:
    """Literal for a prop the mapping does not know, typed from the Python value."""
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=_DT["boolean"])
    if isinstance(value, int):
        return Literal(str(value), datatype=_DT["integer"])
    if isinstance(value, float | Decimal):
        return _decimal(value)
    return Literal(str(value))


def _prop(label: str, key: str) -> tuple[NamedNode, str]:
    pred, kind = PROPS.get((label, key)) or PROPS.get(("*", key)) or ("", "auto")
    return (_n(pred) if pred else NamedNode(TK + camel(key))), kind


class _Emitter:
    """Collects quads, writing shared one-off resources (agents, data sets) only once."""

    def __init__(self) -> None:
        self.quads: list[Quad] = []
        self.seen: set[str] = set()
        self.types = {label: [_n(c) for c in cs] for label, cs in CLASSES.items()}

    def add(self, s: NamedNode, p: NamedNode, o: NamedNode | Literal, g: NamedNode) -> None:
        self.quads.append(Quad(s, p, o, g))

    def once(self, key: str) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def agent(self, extractor: str) -> NamedNode:
        iri = agent_iri(extractor)
        if self.once("agent:" + extractor):
            self.add(iri, RDF_TYPE, _n("prov:SoftwareAgent"), ENTITIES_GRAPH)
            self.add(iri, RDFS_LABEL, Literal(extractor), ENTITIES_GRAPH)
        return iri

    def provenance(self, subj: NamedNode, props: dict[str, Any], g: NamedNode) -> None:
        """prov:wasDerivedFrom the report, attribution to the extractor, and the text evidence."""
        rid = props.get("report")
        report = node_iri(str(rid)) if rid else None
        if report is not None:
            self.add(subj, WAS_DERIVED, report, g)
        if props.get("extractor"):
            self.add(subj, _n("prov:wasAttributedTo"), self.agent(str(props["extractor"])), g)
        has_pos = props.get("start") is not None and props.get("end") is not None
        if not (has_pos or props.get("quote") or props.get("sentence")):
            return
        ev = span_iri(props)
        self.add(subj, _n("tk:evidence"), ev, g)
        if not self.once(ev.value):
            return  # facts read from the same span share one evidence resource
        self.add(ev, RDF_TYPE, _n("oa:SpecificResource"), g)
        if report is not None:
            self.add(ev, _n("oa:hasSource"), report, g)
        if props.get("sentence"):
            self.add(ev, _n("tk:sentence"), Literal(str(props["sentence"]), language="zh"), g)
        if has_pos:
            pos = NamedNode(ev.value + "#pos")
            self.add(ev, _n("oa:hasSelector"), pos, g)
            self.add(pos, RDF_TYPE, _n("oa:TextPositionSelector"), g)
            self.add(pos, _n("oa:start"), literal(props["start"], "nnint"), g)
            self.add(pos, _n("oa:end"), literal(props["end"], "nnint"), g)
        if props.get("quote"):
            qs = NamedNode(ev.value + "#quote")
            self.add(ev, _n("oa:hasSelector"), qs, g)
            self.add(qs, RDF_TYPE, _n("oa:TextQuoteSelector"), g)
            self.add(qs, _n("oa:exact"), Literal(str(props["quote"])), g)

    def node(self, n: Node, iri: NamedNode) -> None:
        rid = n.props.get("report")
        per_report = n.label == "Report" or rid is not None
        g = report_graph(n.id if n.label == "Report" else str(rid)) if per_report else ENTITIES_GRAPH
        for t in self.types.get(n.label) or [NamedNode(TK + quote(n.label, safe=""))]:
            self.add(iri, RDF_TYPE, t, g)
        self.add(iri, DCT_ID, Literal(n.id), g)
        if n.label in SCHEMES:
            self.add(iri, _n("skos:inScheme"), _n(SCHEMES[n.label]), g)
        for key, value in n.props.items():
            if value is None or (rid is not None and key in PROV_KEYS):
                continue
            pred, kind = _prop(n.label, key)
            if kind == "aliases":
                for alias in filter(None, str(value).split("|")):
                    self.add(iri, pred, Literal(alias, language="zh"), g)
                continue
            self.add(iri, pred, literal(value, kind), g)
            if key == "name" and n.label in PREF_LABELLED:
                self.add(iri, PREF_LABEL, literal(value, "zh"), g)
        if rid is not None:
            self.provenance(iri, n.props, g)
        if n.label == "Observation" and rid is not None:
            ds = dataset_iri(str(rid))
            self.add(iri, _n("qb:dataSet"), ds, g)
            if self.once("ds:" + str(rid)):
                self.add(ds, RDF_TYPE, _n("qb:DataSet"), g)
                self.add(ds, _n("qb:structure"), _n("tk:dsd"), g)
                self.add(ds, WAS_DERIVED, node_iri(str(rid)), g)


def graph_of_edge(pg: PropertyGraph, src: str, props: dict[str, Any]) -> NamedNode:
    """Report's graph for edges read from a report (ABOUT: its Report's), else the entities graph."""
    rid = props.get("report")
    if rid:
        return report_graph(str(rid))
    node = pg.nodes.get(src)
    return report_graph(src) if node is not None and node.label == "Report" else ENTITIES_GRAPH


def graph_to_quads(pg: PropertyGraph) -> list[Quad]:
    """All quads for a property graph, deterministic in content and order for a given graph."""
    return next(iter_quads(pg, batch=sys.maxsize), [])


def iter_quads(pg: PropertyGraph, batch: int = 250_000,
               nodes: Iterable[Node] | None = None) -> Iterator[list[Quad]]:
    """The quads of `graph_to_quads`, same order, in lists of about `batch`: stores load a large graph's
    RDF chunk by chunk (20 million quads for 10,000 reports would take ~10 GB as one list).

    `nodes` limits the node descriptions emitted (default: all of `pg`'s) while `pg` still resolves the
    edges' endpoints: a build streams each report's own part as it is extracted, and the shared
    entities, whose properties later reports may complete, once at the end.
    """
    em = _Emitter()
    iris = {nid: node_iri(nid) for nid in pg.nodes}
    for n in pg.nodes.values() if nodes is None else nodes:
        em.node(n, iris.get(n.id) or node_iri(n.id))
        if len(em.quads) >= batch:
            yield em.quads
            em.quads = []
    for e in pg.edges.values():
        if len(em.quads) >= batch:
            yield em.quads
            em.quads = []
        s = iris.get(e.src) or node_iri(e.src)
        o = iris.get(e.dst) or node_iri(e.dst)
        p = edge_predicate(e.type)
        g = graph_of_edge(pg, e.src, e.props)
        em.add(s, p, o, g)
        surface, dst = e.props.get("surface"), pg.nodes.get(e.dst)
        if e.type == "IMPLEMENTS" and surface and dst is not None and surface != dst.props.get("name"):
            em.add(o, _n("skos:altLabel"), Literal(str(surface), language="zh"), g)
        if e.type in _SUPER_SAME_DIR:
            em.add(s, _n(_SUPER_SAME_DIR[e.type]), o, g)
        if e.type in _INVERSE:
            em.add(o, _n(_INVERSE[e.type]), s, g)
        if e.type == "IMPLEMENTS" and e.props.get("stance") in STANCE_PREDICATES:
            em.add(s, _n(STANCE_PREDICATES[e.props["stance"]]), o, g)
        extra = {k: v for k, v in e.props.items() if k not in PROV_KEYS and v is not None}
        if not extra and not any(e.props.get(k) is not None for k in PROV_KEYS if k != "report"):
            continue  # the named graph already says which report asserted it
        f = fact_iri(e.key)
        em.add(f, RDF_TYPE, _n("tk:Fact"), g)
        em.add(f, _n("rdf:subject"), s, g)
        em.add(f, _n("rdf:predicate"), p, g)
        em.add(f, _n("rdf:object"), o, g)
        for key, value in extra.items():
            pred, kind = _prop("*", key)
            em.add(f, pred, literal(value, kind), g)
        em.provenance(f, e.props, g)
    if em.quads:
        yield em.quads


def count_triples(quads: Iterable[Quad]) -> dict[str, int]:
    """Quads, distinct triples and named graphs in a quad list (duplicates counted once)."""
    uniq = set(quads)
    return {"quads": len(uniq), "triples": len({(q.subject, q.predicate, q.object) for q in uniq}),
            "graphs": len({q.graph_name for q in uniq})}


def count_by_predicate(quads: Iterable[Quad]) -> Counter[str]:
    return Counter(q.predicate.value for q in set(quads))


def to_nquads(quads: Iterable[Quad]) -> bytes:
    return serialize(quads, format=RdfFormat.N_QUADS) or b""


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
