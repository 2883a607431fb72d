"""The property-graph view of resolved extractions: labelled nodes and typed, provenanced edges.

This is the single model that every store and view consumes: LadybugDB and Bolt servers load it
as is, the RDF mapping (`kg.rdf`) turns it into quads under the ontology, and `kg.viz` draws it.
Node ids are deterministic (division codes, canonical names, content hashes), so rebuilding or
loading twice never duplicates anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, MutableMapping, ValuesView
from dataclasses import dataclass, field
from sys import intern
from typing import Any

from kg.model import Extraction, Government, Provenance

# Node labels and edge types; kept here so stores, queries and docs share one vocabulary.
LABELS = ("Report", "Town", "Government", "Program", "Project", "Company", "Indicator", "Observation")
EDGE_TYPES = {
    "ABOUT": ("Report", "Town"),
    "SUBORDINATE_TO": ("Town", "Government"),
    "PART_OF": ("Government", "Government"),
    "IMPLEMENTS": ("Town", "Program"),
    "HAS_PROJECT": ("Town", "Project"),
    "UNDER_PROGRAM": ("Project", "Program"),
    "INVOLVES": ("Project", "Company"),
    "HOSTS": ("Town", "Company"),
    "REPORTS": ("Town", "Observation"),
    "MEASURES": ("Observation", "Indicator"),
    "FROM_REPORT": ("Observation", "Report"),
    "CO_OCCURS": ("Program", "Program"),  # derived at build time (kg.aggregates)
}


class _Shape(dict):  # type: ignore[type-arg]
    """Key → position of one props layout; `t` is its keys in order. One object per layout, shared by
    every props mapping that has it (a build has ~1.3 M edges and a few dozen layouts)."""

    __slots__ = ("t",)


_SHAPES: dict[tuple[str, ...], _Shape] = {}


def _shape(keys: tuple[str, ...]) -> _Shape:
    s = _SHAPES.get(keys)
    if s is None:
        s = _SHAPES[keys] = _Shape((k, i) for i, k in enumerate(keys))
        s.t = keys
    return s


def _props(keys: tuple[str, ...], values: tuple[Any, ...]) -> Props:
    """Unpickling: the layout is interned again in this process."""
    p = Props.__new__(Props)
    p._k, p._v = _shape(keys), values
    return p


class Props(MutableMapping[str, Any]):
    """A compact dict for node and edge properties: a shared, interned layout (keys in order) and a tuple
    of values. Why: a build holds every edge of every report; a dict of 7–10 keys per edge cost ~400 B,
    this ~150 B. Reads are a dict lookup and a tuple index; writes (rare: `paragraph` added to
    IMPLEMENTS edges, gaps filled on nodes) replace the values tuple. Behaves as a dict of the same
    items in the same order (equality with dicts, `dict(p)`, pickling); not JSON-serializable as is."""

    __slots__ = ("_k", "_v")
    _k: _Shape
    _v: tuple[Any, ...]

    def __init__(self, data: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), /, **kw: Any) -> None:
        d = dict(data, **kw) if kw or not isinstance(data, dict) else data
        self._k, self._v = _shape(tuple(d)), tuple(d.values())

    @classmethod
    def of(cls, keys: tuple[str, ...], values: tuple[Any, ...]) -> Props:
        """Props from keys and values in order (no dict made on the way)."""
        return _props(keys, values)

    @property
    def layout(self) -> tuple[str, ...]:
        """The keys in order; the same tuple object for every props of this layout."""
        return self._k.t

    @property
    def values_tuple(self) -> tuple[Any, ...]:
        return self._v

    def __getitem__(self, key: str) -> Any:
        return self._v[self._k[key]]

    def get(self, key: str, default: Any = None) -> Any:
        i = self._k.get(key)
        return default if i is None else self._v[i]

    def __contains__(self, key: object) -> bool:
        return key in self._k

    def __iter__(self) -> Iterator[str]:
        return iter(self._k.t)

    def __len__(self) -> int:
        return len(self._v)

    def keys(self) -> KeysView[str]:
        return _Keys(self)

    def values(self) -> ValuesView[Any]:
        return _Values(self)

    def items(self) -> ItemsView[str, Any]:
        return _Items(self)

    def __setitem__(self, key: str, value: Any) -> None:
        i = self._k.get(key)
        if i is None:
            self._k, self._v = _shape((*self._k.t, key)), (*self._v, value)
        else:
            self._v = (*self._v[:i], value, *self._v[i + 1:])

    def __delitem__(self, key: str) -> None:
        i = self._k[key]
        t = self._k.t
        self._k, self._v = _shape(t[:i] + t[i + 1:]), self._v[:i] + self._v[i + 1:]

    def setdefault(self, key: str, default: Any = None) -> Any:
        i = self._k.get(key)
        if i is not None:
            return self._v[i]
        self._k, self._v = _shape((*self._k.t, key)), (*self._v, default)
        return default

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Props):
            return (self._k is other._k and self._v == other._v) or dict(self.items()) == dict(other.items())
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return _props, (self._k.t, self._v)

    def copy(self) -> Props:
        return _props(self._k.t, self._v)


class _Keys(KeysView[str]):
    __slots__ = ()

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping._k.t)  # type: ignore[attr-defined]


class _Values(ValuesView[Any]):
    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._mapping._v)  # type: ignore[attr-defined]


class _Items(ItemsView[str, Any]):
    __slots__ = ()

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        m = self._mapping
        return zip(m._k.t, m._v, strict=True)  # type: ignore[attr-defined]


@dataclass(slots=True)
class Node:
    id: str
    label: str
    props: Props = field(default_factory=lambda: Props())

    def __post_init__(self) -> None:
        if type(self.props) is not Props:
            self.props = Props(self.props)


type_of = type  # `Edge.__init__` has a parameter named `type`


class Edge(Props):
    """A typed, provenanced edge. Kept small, since a build holds ~1.3 M of them: its identity `key`
    (src, type, dst, report; the same tuple is the graph's dict key) and its properties, which the edge
    holds itself (a `Props`: `e.props` is the edge), so one object per edge. Equality is the dataclass's
    it replaces: endpoints, type and properties."""

    __slots__ = ("key",)
    key: tuple[str, str, str, str]

    def __init__(self, src: str, type: str, dst: str,  # noqa: A002 — the field's name
                 props: Mapping[str, Any] | None = None) -> None:
        if type_of(props) is Props:  # shares the layout and the values tuple (`PropertyGraph.add_fact`)
            self._k, self._v = props._k, props._v  # type: ignore[union-attr]
        else:
            Props.__init__(self, props or {})
        self.key = (src, type, dst, str(self.get("report", "")))

    @property
    def props(self) -> Props:
        return self

    @property
    def src(self) -> str:
        return self.key[0]

    @property
    def type(self) -> str:
        return self.key[1]

    @property
    def dst(self) -> str:
        return self.key[2]

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Edge):
            return self.key[:3] == other.key[:3] and Props.__eq__(self, other)
        return Props.__eq__(self, other)  # `e.props == {...}`

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Edge(src={self.src!r}, type={self.type!r}, dst={self.dst!r}, props={Props.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return Edge, (*self.key[:3], Props.copy(self))


@dataclass(slots=True)
class PropertyGraph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str, str, str], Edge] = field(default_factory=dict)

    def add_node(self, node_id: str, label: str, **props: Any) -> str:
        existing = self.nodes.get(node_id)
        clean = {k: v for k, v in props.items() if v is not None}
        if existing is None:
            self.nodes[node_id] = Node(node_id, label, Props(clean))
        else:  # first writer wins per property; later reports only fill gaps
            for k, v in clean.items():
                existing.props.setdefault(k, v)
        return node_id

    def add_edge(self, src: str, type_: str, dst: str, **props: Any) -> None:
        edge = Edge(src, type_, dst, {k: v for k, v in props.items() if v is not None})
        self.edges.setdefault(edge.key, edge)

    def add_fact(self, edges: Iterable[tuple[str, str, str]], **props: Any) -> None:
        """Edges that state one fact with the same properties (a project's HAS_PROJECT, UNDER_PROGRAM and
        INVOLVES; an observation's three edges): they share one values tuple, not a copy each."""
        shared = Props({k: v for k, v in props.items() if v is not None})
        for src, type_, dst in edges:
            edge = Edge(src, type_, dst, shared)
            self.edges.setdefault(edge.key, edge)

    def by_label(self, label: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.label == label]

    def merge(self, other: PropertyGraph) -> None:
        for n in other.nodes.values():
            self.add_node(n.id, n.label, **n.props)
        for e in other.edges.values():
            self.edges.setdefault(e.key, e)


def short_hash(*parts: object, n: int = 16) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:n]


def report_id(sha256: str) -> str:
    return f"report:{sha256[:16]}"


def gov_id(g: Government) -> str:
    return f"gov:{g.code}" if g.code else f"gov:{g.level}:{g.name}"


def town_id(town: Government, superiors: list[Government]) -> str:
    """Town ids use the county code when known, because town names repeat across China."""
    county = next((s for s in superiors if s.level in ("县", "区", "市") and s.code), None)
    if county is not None:
        return f"town:{county.code}:{town.name}"
    return f"town:{town.name}"


def intern_text(s: str | None) -> str | None:
    return None if s is None else intern(s)


_INTS: dict[int, int] = {}
_INT_MAX = 1 << 17  # offsets in reports; the cache holds at most this many ints (~10 MB)


def intern_int(v: Any) -> Any:
    """One object per int value (text offsets): a build holds 2.6 M offsets at 10,000 reports, 28 bytes each
    when every edge has its own. Other values are returned as they are."""
    if type(v) is int and 256 < v < _INT_MAX:
        return _INTS.setdefault(v, v)
    return v


def _prov_props(p: Provenance | None, rid: str) -> dict[str, Any]:
    """Provenance as edge props. Strings are interned: a build holds every edge of every report, and a
    report's edges repeat its file name, the extractor names and the sentences several facts come from
    (a third of the graph's memory at 10,000 reports)."""
    if p is None:
        return {"report": rid}
    return {"report": rid, "file": intern_text(p.file), "start": intern_int(p.start),
            "end": intern_int(p.end), "quote": intern_text(p.quote), "sentence": intern_text(p.sentence),
            "extractor": intern_text(p.extractor)}


def build_graph(extractions: Iterable[Extraction]) -> PropertyGraph:
    """Turn resolved extractions into one property graph (pure function, deterministic order)."""
    g = PropertyGraph()
    for ex in extractions:
        add_extraction(g, ex)
    return g


def add_extraction(g: PropertyGraph, ex: Extraction) -> None:
    """Add one report's nodes and edges. Ids of shared entities (towns, governments, programs, companies,
    indicators) are interned: every report's edges name them, and a build holds all those edges."""
    m = ex.meta
    rid = g.add_node(report_id(m.sha256), "Report", file=m.file, sha256=m.sha256, title=m.title,
                     year=m.report_year, date=m.date, session=m.session, speaker=m.speaker)
    if ex.town is None or not ex.town.name:
        return
    tid = g.add_node(intern(town_id(ex.town, ex.superiors)), "Town", name=ex.town.name, level=ex.town.level)
    g.add_edge(rid, "ABOUT", tid)
    named = [s for s in ex.superiors if s.name]
    for s in named:
        g.add_node(intern(gov_id(s)), "Government", name=s.name, level=s.level, code=s.code)
    if named:
        g.add_edge(tid, "SUBORDINATE_TO", intern(gov_id(named[0])), report=rid, level=named[0].level)
        for lower, upper in zip(named, named[1:], strict=False):
            g.add_edge(intern(gov_id(lower)), "PART_OF", intern(gov_id(upper)))
    for p in ex.programs:
        pid = g.add_node(intern(f"program:{p.name}"), "Program", name=p.name, definition=p.definition)
        g.add_edge(tid, "IMPLEMENTS", pid, stance=intern_text(p.stance), surface=intern_text(p.surface),
                   **_prov_props(p.prov, rid))
    for c in ex.companies:
        cid = g.add_node(intern(f"company:{c.name}"), "Company", name=c.name, type=c.type,
                         aliases="|".join(c.aliases) or None)
        g.add_edge(tid, "HOSTS", cid, **_prov_props(c.prov, rid))
    for pr in ex.projects:
        pjid = g.add_node(f"project:{short_hash(tid, pr.name)}", "Project", name=pr.name,
                          investment_value=pr.investment_value, investment_unit=pr.investment_unit,
                          investment_yuan=pr.investment_yuan, status=pr.status, location=pr.location)
        g.add_fact([(tid, "HAS_PROJECT", pjid),
                    *((pjid, "UNDER_PROGRAM", intern(f"program:{prog}")) for prog in pr.programs),
                    *((pjid, "INVOLVES", intern(f"company:{comp}")) for comp in pr.companies)],
                   **_prov_props(pr.prov, rid))
    for ind in ex.indicators:
        concept = ind.concept or ind.name
        iid = g.add_node(intern(f"indicator:{concept}"), "Indicator", name=concept)
        start = ind.prov.start if ind.prov else 0
        oid = g.add_node(f"obs:{short_hash(m.sha256, start, ind.name, ind.period, ind.kind)}", "Observation",
                         name=ind.name, value=ind.value, unit=ind.unit, period=ind.period,
                         growth_pct=ind.growth_pct, kind=ind.kind, modifier=ind.modifier,
                         value_high=ind.value_high, normalized=ind.normalized,
                         normalized_unit=ind.normalized_unit, **_prov_props(ind.prov, rid))
        g.add_fact([(tid, "REPORTS", oid), (oid, "MEASURES", iid), (oid, "FROM_REPORT", rid)], report=rid)
