"""Program co-occurrence: which programs a report names together in one paragraph, and their communities.

Why paragraphs: a work report gives each policy area its own paragraph (招商引资, 人居环境, 基层治理…), so
programs named in the same paragraph belong to one line of work, while one sentence is too narrow (lists
span sentences) and one report too wide (it names everything). Keeping it simple and reproducible:

* Each program is placed by its **provenance** (`start` of the first mention the extractor recorded; the
  graph keeps one IMPLEMENTS edge per town, program and report). Later mentions are not searched for, so
  "co-occur" means "first named in the same paragraph" — conservative, never a false string match.
* Paragraphs are re-derived with `kg.document.build_document` from the report file the build read
  (`meta.path`, checked against its sha256). A scraped report that lost its line breaks is one giant
  "paragraph"; above `LONG_PARAGRAPH` characters the sentence is used instead, or that report would make
  every program co-occur with every other.
* Without the extractions or the file (a build moved elsewhere), the provenance **sentence** stored on the
  graph edge is the unit: stricter, but still "named together".

Communities: `networkx` Louvain (weighted, fixed seed, so a rebuild draws the same colours); it is fast on
thousands of nodes and finds finer groups than greedy modularity on these clique-shaped graphs.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable
from itertools import chain, combinations
from pathlib import Path
from typing import Any

import networkx as nx

from kg.graph import Edge, PropertyGraph, report_id
from kg.model import Extraction, ReportMeta
from kg.viz_select import GraphIndex, Quotes

LONG_PARAGRAPH = 1200  # characters; longer "paragraphs" are flattened text, so sentences are the unit
# Bounds (see kg.viz_select for why the page is bounded). The five seeds have 154 programs named with
# another and 295 pairs, at most 3 paragraphs a pair: drawn whole. 1,000 synthetic reports have 4,124
# pairs, 10,000 have 17,601 (the strongest named together in 1,373 paragraphs).
MAX_NODES = 200  # programs drawn at most (readable, fast to lay out)
MAX_PAIRS = 500  # strongest pairs drawn at most; a view with more is a hairball
PAIR_QUOTES = 5  # paragraphs quoted per pair; a pair of 1,000 reports would otherwise quote 1,000
# Distinct, print-safe colours (Tableau 20 reordered so neighbours in the list contrast).
COMMUNITY_PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
                     "#ff9da7", "#1f77b4", "#8cd17d", "#d37295", "#499894", "#b6992d", "#86bcb6", "#f1ce63",
                     "#a0cbe8", "#ffbe7d", "#d4a6c8", "#fabfd2")
OTHER_COLOR = "#b9b9b9"  # pairs and the long tail: a lone edge is not worth a colour of its own
MIN_COMMUNITY = 3


def _document(meta: ReportMeta) -> Any:
    """The report re-read and structured as the build saw it, or None if the file is gone or changed."""
    from kg.document import build_document
    from kg.errors import TownKGError
    from kg.read import read_document

    path = Path(meta.path)
    if not path.is_file():
        return None
    try:
        raw = read_document(path, max_bytes=1 << 34)  # it was accepted once; the limit was checked then
    except (TownKGError, OSError):
        return None
    return build_document(raw) if raw.sha256 == meta.sha256 else None


def paragraph_units(ex: Extraction, doc: Any = None) -> dict[tuple[str, str], str]:
    """(report id, program id) → paragraph or sentence key of the program's first mention in `ex`'s report.

    `doc` is the report's `kg.document.Document` when the caller still has it (the build computes these
    right after extracting, so the page never reads and normalizes every report a second time).
    """
    doc = doc if doc is not None else _document(ex.meta)
    if doc is None:
        return {}
    lengths: Counter[int] = Counter()
    for s in doc.sentences:
        lengths[s.paragraph] += len(s.text)
    starts = doc.mapped.starts  # normalized index → raw offset, non-decreasing
    rid, out = report_id(ex.meta.sha256), {}
    for p in ex.programs:
        if p.prov is None:
            continue
        sent = doc.sentence_at(max(bisect.bisect_right(starts, p.prov.start) - 1, 0))
        if sent is not None:
            long = lengths[sent.paragraph] > LONG_PARAGRAPH
            out[(rid, f"program:{p.name}")] = f"s:{sent.start}" if long else f"p:{sent.paragraph}"
    return out


_paragraph_units = paragraph_units  # the name this had before it took a document


def mention_units(pg: PropertyGraph, extractions: Iterable[Extraction] | None = None,
                  known: dict[tuple[str, str], str] | None = None,
                  index: GraphIndex | None = None) -> dict[tuple[str, str], str]:
    """(report id, program id) → key of the text unit (paragraph, else sentence) where it is first named.

    >>> g = PropertyGraph()
    >>> g.add_edge("town:a", "IMPLEMENTS", "program:x", report="report:1", sentence="推进x和y。")
    >>> mention_units(g)
    {('report:1', 'program:x'): 't:推进x和y。'}
    """
    known = known or {}  # units computed earlier with the documents at hand (kg.build): they win
    units: dict[tuple[str, str], str] = {}
    for e in _implements(pg, index):
        if e.props.get("report") and e.props.get("sentence"):
            key = (str(e.props["report"]), e.dst)
            if key not in known:
                units[key] = f"t:{e.props['sentence']}"
    for ex in extractions or ():
        units.update(paragraph_units(ex))
    units.update(known)
    return units


def _implements(pg: PropertyGraph, index: GraphIndex | None) -> list[Edge]:
    return index.implements if index is not None else [e for e in pg.edges.values() if e.type == "IMPLEMENTS"]


def _matches(pg: PropertyGraph, pid: str, program: str) -> bool:
    return pid == program or program in str(pg.nodes[pid].props.get("name", ""))


def _strongest(weight: Counter[tuple[str, str]]) -> tuple[dict[tuple[str, str], int], set[str]]:
    """The pairs named together most often (ties by ids), in order until `MAX_PAIRS` pairs or `MAX_NODES`
    programs."""
    chosen: dict[tuple[str, str], int] = {}
    kept: set[str] = set()
    for (a, b), w in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(chosen) == MAX_PAIRS or len(kept) + (a not in kept) + (b not in kept) > MAX_NODES:
            break
        chosen[(a, b)] = w
        kept.update((a, b))
    return chosen, kept


def cooccurrence_graph(pg: PropertyGraph, units: dict[tuple[str, str], str], towns: set[str] | None = None,
                       program: str | None = None, bounded: bool = True,
                       index: GraphIndex | None = None) -> nx.Graph:
    """Weighted program graph: edge weight = number of paragraphs (over all reports) naming both.

    `towns` keeps only those towns' reports (the province filter); `program` keeps the matching programs and
    the programs named with them. Programs named with no other program are left out (counted in
    `graph.graph["isolated"]`). A mention `units` does not place falls back to its sentence, as in
    `mention_units`. Above `MAX_NODES` programs or `MAX_PAIRS` pairs (unless `bounded` is false)
    only the strongest pairs are kept (`graph.graph["limits"]` says how many), each with at most
    `PAIR_QUOTES` paragraphs of evidence. Pairs are counted first and evidence gathered only for those kept,
    so the cost is linear in the mentions however many pairs there are.
    """
    by_unit: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # (report, unit) → program → edge props
    programs: set[str] = set()
    nodes_ = pg.nodes
    impl = _implements(pg, index)
    for e in impl:  # the one step that sees every mention: kept to a few dict operations each
        dst, props = e.dst, e.props
        if dst not in nodes_ or (towns is not None and e.src not in towns):
            continue
        programs.add(dst)
        rid = props.get("report", "")
        unit = units.get((rid, dst))
        if unit is None:
            if not (rid and props.get("sentence")):
                continue
            unit = f"t:{props['sentence']}"  # what `mention_units` falls back to
        named = by_unit.setdefault((rid, unit), {})
        if dst not in named or props.get("sentence"):
            named[dst] = props
    shared = [(k, named) for k, named in by_unit.items() if len(named) > 1]
    weight = Counter(chain.from_iterable(combinations(sorted(named), 2) for _k, named in shared))
    if program:
        hits = {n for pair in weight for n in pair if _matches(pg, n, program)}
        near = hits | {n for a, b in weight if a in hits or b in hits for n in (a, b)}
        weight = Counter({(a, b): w for (a, b), w in weight.items() if a in near and b in near})
    connected = {n for pair in weight for n in pair}
    considered = {p for p in programs if not program or p in connected}
    chosen, kept, limits = dict(weight), connected, None
    if bounded and (len(connected) > MAX_NODES or len(weight) > MAX_PAIRS):
        chosen, kept = _strongest(weight)
        limits = {"text": f"大图已截取：显示同段出现次数最多的 {len(chosen)} / {len(weight)} 对政策/工程"
                          f"（涉及 {len(kept)} / {len(connected)} 项）；每对最多引 {PAIR_QUOTES} 段原文。",
                  "pairs": [len(chosen), len(weight)], "programs": [len(kept), len(connected)]}
    cap = PAIR_QUOTES if bounded else None
    evidence: dict[tuple[str, str], list[dict[str, Any]]] = {}
    full = 0
    # Units in sorted order: evidence, and the node order Louvain's seeded shuffle starts from, as always.
    for (rid, _unit), named in sorted(shared, key=lambda x: x[0]):
        for a, b in combinations(sorted(p for p in named if p in kept), 2):
            if (a, b) not in chosen:
                continue
            got = evidence.setdefault((a, b), [])
            if cap is None or len(got) < cap:
                pair = (named[a].get("sentence"), named[b].get("sentence"))
                got.append({"report": rid, "texts": list(dict.fromkeys(str(t) for t in pair if t))})
                full += len(got) == cap
        if full == len(chosen):
            break  # every pair has its quotes (and its place in the order): the rest adds nothing
    g = nx.Graph()
    for (a, b), got in evidence.items():
        g.add_edge(a, b, weight=chosen[(a, b)], evidence=got)
    towns_of: dict[str, set[str]] = {n: set() for n in g}
    for e in impl:  # towns naming each drawn program: a second, cheaper walk than keeping them all
        if e.dst in towns_of and (towns is None or e.src in towns):
            towns_of[e.dst].add(e.src)
    for n in g:
        g.nodes[n]["name"] = str(nodes_[n].props.get("name", n))
        g.nodes[n]["towns"] = len(towns_of[n])
    g.graph["isolated"] = len(considered - connected) if not program else 0
    g.graph["programs"] = len(considered)
    if limits:
        g.graph["limits"] = limits
    return g


def communities(g: nx.Graph) -> list[list[str]]:
    """Louvain communities, largest first; deterministic (seeded) so colours survive a rebuild."""
    if g.number_of_edges() == 0:
        return [[n] for n in sorted(g)]
    found = nx.community.louvain_communities(g, weight="weight", seed=7)
    return sorted((sorted(c) for c in found), key=lambda c: (-len(c), c))


def _lead(g: nx.Graph, members: list[str]) -> str:
    """The member that best names a community: most co-occurrences, then most towns."""
    return min(members, key=lambda n: (-g.degree(n, weight="weight"), -g.nodes[n]["towns"], n))


def build_cooc_view(pg: PropertyGraph, units: dict[tuple[str, str], str], towns: set[str] | None = None,
                    program: str | None = None, report_label: Any = str, bounded: bool = True,
                    index: GraphIndex | None = None) -> dict[str, Any]:
    """vis-network data for the co-occurrence view: nodes coloured by community, sized by towns naming them.

    `report_label(report_id)` turns a report id into what the reader sees next to a quoted sentence.
    """
    g = cooccurrence_graph(pg, units, towns, program, bounded, index)
    comms = communities(g)
    color: dict[str, str] = {}
    legend = []
    for i, members in enumerate(comms):
        c = COMMUNITY_PALETTE[i] if i < len(COMMUNITY_PALETTE) and len(members) >= MIN_COMMUNITY else OTHER_COLOR
        lead = g.nodes[_lead(g, members)]["name"]
        for n in members:
            color[n] = c
        if c != OTHER_COLOR:
            legend.append({"id": i, "name": f"{lead} 等 {len(members)} 项", "color": c, "size": len(members)})
    community = {n: i for i, members in enumerate(comms) for n in members}
    nodes, edges, facts = [], [], {}
    evidence: dict[tuple[str, str], list[dict[str, str]]] = {}
    quotes = Quotes(shared="limits" in g.graph)
    for n in sorted(g, key=lambda n: (community[n], n)):
        d, deg = g.nodes[n], g.degree(n, weight="weight")
        nodes.append({"id": n, "label": d["name"], "community": community[n], "color": color[n], "shape": "dot",
                      "size": round(min(9 + 7 * math.sqrt(max(d["towns"], 1) - 1) + 1.5 * math.sqrt(deg), 60), 1),
                      "font": {"size": 11 if color[n] == OTHER_COLOR else 14 + 2 * min(d["towns"], 5)}, "towns": d["towns"],
                      "title": f"{d['name']}\n{d['towns']} 个镇提及 · 与 {g.degree(n)} 项同段出现"})
        links = []
        for m in sorted(g[n], key=lambda m: (-g.edges[n, m]["weight"], m)):
            pair = (n, m) if n < m else (m, n)
            sents = evidence.get(pair)
            if sents is None:
                ev = g.edges[n, m]["evidence"]
                flat = [{"text": t, "report": report_label(x["report"])} for x in ev for t in x["texts"]]
                sents = evidence[pair] = list({(s["text"], s["report"]): s for s in flat}.values())
            links.append({"id": m, "name": g.nodes[m]["name"], "stance": f"同段 {g.edges[n, m]['weight']} 次",
                          **quotes.link(pair, sents)})
        lead = legend[community[n]]["name"] if community[n] < len(legend) else "（小社群）"
        facts[n] = {"title": d["name"], "rows": [["类型", "政策/工程"], ["社群", lead], ["提及镇数", str(d["towns"])],
                                                ["同段出现的政策", str(len(links))]],
                    "linksTitle": "同段出现的政策/工程与原文", "links": links}
    for a, b, d in sorted(g.edges(data=True), key=lambda x: (x[0], x[1])):
        same = community[a] == community[b]
        edges.append({"id": f"{a}|{b}", "from": a, "to": b, "value": d["weight"],
                      "color": {"color": color[a] if same else "#c9c9c9", "opacity": 0.55 if same else 0.35},
                      "title": f"{g.nodes[a]['name']} — {g.nodes[b]['name']}：同段出现 {d['weight']} 次"})
    view = {"nodes": nodes, "edges": edges, "facts": facts, "groups": legend,
            "stats": {"programs": g.graph["programs"], "shown": g.number_of_nodes(),
                      "isolated": g.graph["isolated"], "communities": len(comms)}}
    if "limits" in g.graph:
        view["limits"], view["quotes"] = g.graph["limits"], quotes.table
    return view
