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
from itertools import combinations
from pathlib import Path
from typing import Any

import networkx as nx

from kg.graph import PropertyGraph, report_id
from kg.model import Extraction, ReportMeta

LONG_PARAGRAPH = 1200  # characters; longer "paragraphs" are flattened text, so sentences are the unit
MAX_NODES = 200  # beyond this the view keeps the most connected programs (readable, fast to lay out)
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
                  known: dict[tuple[str, str], str] | None = None) -> dict[tuple[str, str], str]:
    """(report id, program id) → key of the text unit (paragraph, else sentence) where it is first named.

    >>> g = PropertyGraph()
    >>> g.add_edge("town:a", "IMPLEMENTS", "program:x", report="report:1", sentence="推进x和y。")
    >>> mention_units(g)
    {('report:1', 'program:x'): 't:推进x和y。'}
    """
    units: dict[tuple[str, str], str] = {}
    for e in pg.edges.values():
        if e.type == "IMPLEMENTS" and e.props.get("report") and e.props.get("sentence"):
            units[(str(e.props["report"]), e.dst)] = f"t:{e.props['sentence']}"
    for ex in extractions or ():
        units.update(paragraph_units(ex))
    units.update(known or {})  # units computed earlier with the documents at hand (kg.build)
    return units


def _matches(pg: PropertyGraph, pid: str, program: str) -> bool:
    return pid == program or program in str(pg.nodes[pid].props.get("name", ""))


def cooccurrence_graph(pg: PropertyGraph, units: dict[tuple[str, str], str], towns: set[str] | None = None,
                       program: str | None = None) -> nx.Graph:
    """Weighted program graph: edge weight = number of paragraphs (over all reports) naming both.

    `towns` keeps only those towns' reports (the province filter); `program` keeps the matching programs and
    the programs named with them. Programs named with no other program are left out (counted in
    `graph.graph["isolated"]`); above `MAX_NODES` the most connected programs are kept.
    """
    by_unit: dict[tuple[str, str], set[str]] = {}
    sentence: dict[tuple[str, str], str] = {}
    prog_towns: dict[str, set[str]] = {}
    for e in pg.edges.values():
        if e.type != "IMPLEMENTS" or e.dst not in pg.nodes or (towns is not None and e.src not in towns):
            continue
        rid = str(e.props.get("report", ""))
        prog_towns.setdefault(e.dst, set()).add(e.src)
        if e.props.get("sentence"):
            sentence[(rid, e.dst)] = str(e.props["sentence"])
        unit = units.get((rid, e.dst))
        if unit is not None:
            by_unit.setdefault((rid, unit), set()).add(e.dst)
    g = nx.Graph()
    for (rid, _unit), pids in sorted(by_unit.items()):
        for a, b in combinations(sorted(pids), 2):
            if not g.has_edge(a, b):
                g.add_edge(a, b, weight=0, evidence=[])
            data = g.edges[a, b]
            data["weight"] += 1
            texts = list(dict.fromkeys(t for t in (sentence.get((rid, a)), sentence.get((rid, b))) if t))
            data["evidence"].append({"report": rid, "texts": texts})
    if program:
        hits = {n for n in g if _matches(pg, n, program)}
        g = g.subgraph(hits | {m for n in hits for m in g[n]}).copy()
    considered = {p for p in prog_towns if not program or p in g}
    for n in g:
        g.nodes[n]["name"] = str(pg.nodes[n].props.get("name", n))
        g.nodes[n]["towns"] = len(prog_towns.get(n, ()))
    if g.number_of_nodes() > MAX_NODES:
        ranked = sorted(g, key=lambda n: (-g.degree(n, weight="weight"), -g.nodes[n]["towns"], n))
        g = g.subgraph(ranked[:MAX_NODES]).copy()
    g.graph["isolated"] = len(considered - set(g)) if not program else 0
    g.graph["programs"] = len(considered)
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
                    program: str | None = None, report_label: Any = str) -> dict[str, Any]:
    """vis-network data for the co-occurrence view: nodes coloured by community, sized by towns naming them.

    `report_label(report_id)` turns a report id into what the reader sees next to a quoted sentence.
    """
    g = cooccurrence_graph(pg, units, towns, program)
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
    for n in sorted(g, key=lambda n: (community[n], n)):
        d, deg = g.nodes[n], g.degree(n, weight="weight")
        nodes.append({"id": n, "label": d["name"], "community": community[n], "color": color[n], "shape": "dot",
                      "size": round(min(9 + 7 * math.sqrt(max(d["towns"], 1) - 1) + 1.5 * math.sqrt(deg), 60), 1),
                      "font": {"size": 11 if color[n] == OTHER_COLOR else 14 + 2 * min(d["towns"], 5)}, "towns": d["towns"],
                      "title": f"{d['name']}\n{d['towns']} 个镇提及 · 与 {g.degree(n)} 项同段出现"})
        links = []
        for m in sorted(g[n], key=lambda m: (-g.edges[n, m]["weight"], m)):
            ev = g.edges[n, m]["evidence"]
            sents = [{"text": t, "report": report_label(x["report"])} for x in ev for t in x["texts"]]
            links.append({"id": m, "name": g.nodes[m]["name"], "stance": f"同段 {len(ev)} 次",
                          "sentences": list({(s["text"], s["report"]): s for s in sents}.values())})
        lead = legend[community[n]]["name"] if community[n] < len(legend) else "（小社群）"
        facts[n] = {"title": d["name"], "rows": [["类型", "政策/工程"], ["社群", lead], ["提及镇数", str(d["towns"])],
                                                ["同段出现的政策", str(len(links))]],
                    "linksTitle": "同段出现的政策/工程与原文", "links": links}
    for a, b, d in sorted(g.edges(data=True), key=lambda x: (x[0], x[1])):
        same = community[a] == community[b]
        edges.append({"id": f"{a}|{b}", "from": a, "to": b, "value": d["weight"],
                      "color": {"color": color[a] if same else "#c9c9c9", "opacity": 0.55 if same else 0.35},
                      "title": f"{g.nodes[a]['name']} — {g.nodes[b]['name']}：同段出现 {d['weight']} 次"})
    return {"nodes": nodes, "edges": edges, "facts": facts, "groups": legend,
            "stats": {"programs": g.graph["programs"], "shown": g.number_of_nodes(),
                      "isolated": g.graph["isolated"], "communities": len(comms)}}
