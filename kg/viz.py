"""Draw a `PropertyGraph` as one self-contained HTML page: town–program network, program co-occurrence
(`kg.viz_cooc`), indicator comparison (`kg.viz_indicators`); the page itself is `kg.viz_page`, the PNG/SVG
pictures `kg.viz_static`. This module holds the network view and the entry points (`write_program_network`,
`write_views`).

Library choice: the page is written here around the vis-network 9.1.2 bundle that ships *inside the pyvis
wheel* (`pyvis/lib/vis-9.1.2/vis-network.min.js`, 469 KB), read with `importlib.resources` and inlined.
- pyvis's own `Network.write_html` was not used: even with `cdn_resources='in_line'` its template links
  bootstrap and tom-select from cdn.jsdelivr.net, so the output breaks offline unless regex-stripped, and its
  template has no hook for the side panel (facts + source sentences) this view needs, nor for tabs.
- pyecharts ships no JavaScript at all (echarts must come from npm), so it cannot be inlined from pip alone.
- vis-network copes with physics layout of a few thousand nodes on a canvas and renders CJK text through the
  browser's fonts; its 220 KB CSS (mostly base64 icons for the unused manipulation toolbar) is replaced by
  one tooltip rule.
So the only runtime requirement is the pyvis *package data*; pyvis's Python code (and Jinja) is never called.

Large graphs are drawn bounded (top-ranked programs, towns, pairs and charts, with a note saying what was
left out; bounds and rules in `kg.viz_select`), so the page stays ~4 MB at any corpus size.

The data goes into a `<script type="application/json" id="kg-data">` block (every `<` escaped as `\\u003c`,
so report text can never close the tag) which tests and later tools can parse back. The panel builds its
DOM with `textContent`, so quotes from reports are never interpreted as HTML.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kg.graph import Node, PropertyGraph
from kg.model import Extraction
from kg.viz_select import LINK_QUOTES, GraphIndex, Quotes, ReportLabels, bound_network, index_graph, paused_gc

STANCE_ZH = {"implemented": "已实施", "planned": "计划"}
# Division-code prefix → province, so a town whose report never names its province can still be filtered.
PROVINCES = {"11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古", "21": "辽宁", "22": "吉林",
    "23": "黑龙江", "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西",
    "37": "山东", "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南", "50": "重庆",
    "51": "四川", "52": "贵州", "53": "云南", "54": "西藏", "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏",
    "65": "新疆", "71": "台湾", "81": "香港", "82": "澳门"}
# Cool colours for towns (grouped by city) so they never look like the warm "widely shared" programs.
# Ordered so the first few (most towns) differ in hue, not just shade.
TOWN_PALETTE = ("#4e79a7", "#59a14f", "#b07aa1", "#76b7b2", "#9c755f", "#5e60ce", "#8cd17d", "#2f6690",
                "#d37295", "#499894", "#a0cbe8", "#79706e")
UNKNOWN_GROUP = "上级未知"


def _share_color(n: int) -> str:
    """Grey for a program one town mentions, then yellow → red as more towns share it."""
    return "#bab0ac" if n <= 1 else "#edc948" if n == 2 else "#f28e2b" if n <= 4 else "#e15759"


def _program_size(n: int) -> float:
    """sqrt growth: 2 towns clearly beat 1, but a program of 100 towns does not swallow the canvas."""
    return round(min(10 + 8 * math.sqrt(max(n, 1) - 1), 42), 1)


def _label_size(n: int) -> int:
    """Programs of one town get small labels (the page hides them when zoomed out); shared ones grow."""
    return 11 if n <= 1 else 13 + 2 * min(n, 6)


def _ancestors(pg: PropertyGraph, up: dict[str, list[str]], tid: str) -> list[Node]:
    """Superior governments nearest first (BFS over SUBORDINATE_TO, then PART_OF)."""
    seen, out, todo = {tid}, [], deque(up.get(tid, []))
    while todo:
        gid = todo.popleft()
        if gid in seen:
            continue
        seen.add(gid)
        if gid in pg.nodes:
            out.append(pg.nodes[gid])
        todo.extend(up.get(gid, []))
    return out


def _group(chain: list[Node]) -> str:
    """Nearest 市 (what a reader thinks of as "the city"), else nearest 省, else any superior."""
    for level in ("市", "省", None):
        for g in chain:
            if (level is None or g.props.get("level") == level) and g.props.get("name"):
                return str(g.props["name"])
    return UNKNOWN_GROUP


def _province(tid: str, chain: list[Node]) -> str | None:
    """A named 省 superior wins; otherwise the first two digits of any division code we hold."""
    for g in chain:
        if g.props.get("level") == "省" and g.props.get("name"):
            return str(g.props["name"])
    codes = [str(g.props.get("code") or "") for g in chain] + [tid.split(":")[1] if tid.count(":") >= 2 else ""]
    return next((PROVINCES[c[:2]] for c in codes if c[:2] in PROVINCES), None)


def _matches_place(wanted: str, names: list[str]) -> bool:
    """'浙江', '浙江省' and '杭州市' all work: prefix match either way against province and superiors."""
    return any(n and (n.startswith(wanted) or wanted.startswith(n)) for n in names)


def _towns(pg: PropertyGraph, idx: GraphIndex, province: str | None) -> dict[str, dict[str, Any]]:
    """Every town the province filter keeps, with its superiors, colour group and province."""
    towns: dict[str, dict[str, Any]] = {}
    for t in pg.by_label("Town"):
        chain = _ancestors(pg, idx.up, t.id)
        prov = _province(t.id, chain)
        names = [str(g.props.get("name") or "") for g in chain] + [prov or ""]
        if province and not _matches_place(province, names):
            continue
        towns[t.id] = {"node": t, "chain": chain, "group": _group(chain), "province": prov}
    return towns


def _network(pg: PropertyGraph, idx: GraphIndex, province: str | None, program: str | None, bounded: bool,
             label: ReportLabels) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The network view's data, and every town the filters keep ({"label", "color"}; drawn or not)."""
    towns = _towns(pg, idx, province)
    nodes_ = pg.nodes
    ok: dict[str, bool] = {}

    def prog_ok(pid: str) -> bool:
        got = ok.get(pid)
        if got is None:
            got = ok[pid] = not program or pid == program or program in str(nodes_[pid].props.get("name", ""))
        return got

    prog_towns: dict[str, list[str]] = {}
    town_progs: dict[str, list[str]] = {}
    for e in idx.implements:  # every mention: kept to two list appends each
        src, dst = e.src, e.dst
        if src not in towns or dst not in nodes_ or (program and not prog_ok(dst)):
            continue
        prog_towns.setdefault(dst, []).append(src)
        town_progs.setdefault(src, []).append(dst)
    for links in (prog_towns, town_progs):  # a town with several reports names a program more than once
        for k, ids in links.items():
            if len(ids) > 1:
                links[k] = list(dict.fromkeys(ids))
    if program:
        towns = {tid: v for tid, v in towns.items() if tid in town_progs}

    size = Counter(v["group"] for v in towns.values())
    groups = sorted(size, key=lambda g: (g == UNKNOWN_GROUP, -size[g], g))
    color = {g: ("#c7c7c7" if g == UNKNOWN_GROUP else TOWN_PALETTE[i % len(TOWN_PALETTE)])
             for i, g in enumerate(groups)}
    name_count = Counter(v["node"].props.get("name", "") for v in towns.values())
    for tid, v in towns.items():
        name = str(v["node"].props.get("name", tid))
        v["label"] = name if name_count[name] == 1 else f"{name}（{v['group']}）"
        v["color"] = color[v["group"]]

    cut = bound_network(prog_towns, town_progs, len(towns)) if bounded else None
    show_p, show_t = (cut[0], cut[1]) if cut else (prog_towns, towns)
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (town, program) → its IMPLEMENTS props
    for e in idx.implements:  # only the links drawn
        if e.src in show_t and e.dst in show_p:
            pairs.setdefault((e.src, e.dst), []).append(e.props)
    most = LINK_QUOTES if bounded else None
    quotes = Quotes(shared=cut is not None)
    facts_memo: dict[tuple[str, str], tuple[str, list[dict[str, str]]]] = {}

    def facts_of(pair: tuple[str, str]) -> tuple[str, list[dict[str, str]]]:
        """Stance(s) and the distinct quoted sentences of one town–program link (computed once per link)."""
        got = facts_memo.get(pair)
        if got is None:
            props_list = pairs[pair]
            stances = sorted({str(p.get("stance", "implemented")) for p in props_list})
            seen: dict[tuple[str, str], None] = {}
            for p in props_list:
                text = p.get("sentence") or p.get("quote")
                if text:
                    seen.setdefault((str(text), label(str(p.get("report", "")))))
            sents = [{"text": t, "report": r} for t, r in seen]
            got = facts_memo[pair] = ("/".join(STANCE_ZH.get(s, s) for s in stances), sents[:most])
        return got

    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    facts: dict[str, dict[str, Any]] = {}
    for tid, v in towns.items():
        if tid not in show_t:
            continue
        lab = v["label"]
        links = []
        for pid in town_progs.get(tid, []):
            if pid in show_p:
                stance, sents = facts_of((tid, pid))
                links.append({"id": pid, "name": nodes_[pid].props.get("name", pid), "stance": stance,
                              **quotes.link((tid, pid), sents)})
        nodes.append({"id": tid, "label": lab, "kind": "town", "city": v["group"], "shape": "square",
                      "size": 16, "font": {"size": 26}, "color": v["color"],
                      "title": f"{lab}\n上级：{v['group']}"})
        chain = " › ".join(str(g.props.get("name")) for g in v["chain"] if g.props.get("name"))
        rows = [["类型", "镇/街道"], ["级别", v["node"].props.get("level", "")], ["上级", chain or "未知"],
                ["所属市", v["group"]], ["省份", v["province"] or "未知"],
                ["报告", "；".join(label(r) for r in idx.reports.get(tid, [])) or "无"],
                ["政策/工程数", str(len(town_progs.get(tid, [])))],
                ["项目数", str(idx.counts[(tid, "HAS_PROJECT")])],
                ["企业数", str(idx.counts[(tid, "HOSTS")])], ["指标观测数", str(idx.counts[(tid, "REPORTS")])]]
        title = "实施的政策/工程与原文" + (f"（图中 {len(links)} 项）" if cut else "")
        facts[tid] = {"title": lab, "rows": rows, "linksTitle": title, "links": links}

    for pid, tids in prog_towns.items():
        if pid not in show_p:
            continue
        p, n = nodes_[pid], len(set(tids))
        name = str(p.props.get("name", pid))
        nodes.append({"id": pid, "label": name, "kind": "program", "towns": n, "shape": "dot",
                      "size": _program_size(n), "mass": round(1 + 0.7 * (n - 1), 1), "color": _share_color(n),
                      "font": {"size": _label_size(n)}, "title": f"{name}\n{n} 个镇提及"})
        links = []
        for tid in tids:
            if tid not in show_t:
                continue
            stance, sents = facts_of((tid, pid))
            links.append({"id": tid, "name": facts[tid]["title"], "stance": stance, **quotes.link((tid, pid), sents)})
            planned_only = stance == STANCE_ZH["planned"]
            edges.append({"id": f"{tid}|{pid}", "from": tid, "to": pid, "label": stance, "dashes": planned_only,
                          "length": 45 if n == 1 else 170,  # tight fans of own programs, room for shared ones
                          "color": "#f28e2b" if planned_only else "#8a9bb0", "stance": stance})
        rows = [["类型", "政策/工程"], ["提及镇数", str(n)], ["定义", str(p.props.get("definition") or "—")]]
        title = "提及的镇与原文" + (f"（图中 {len(links)} 个）" if cut else "")
        facts[pid] = {"title": name, "rows": rows, "linksTitle": title, "links": links}

    present = {towns[t]["group"] for t in show_t} if cut else set(groups)
    drawn = [g for g in groups if g in present]
    data = {"nodes": nodes, "edges": edges, "facts": facts,
            "groups": [{"name": g, "color": color[g]} for g in drawn],
            "filters": {"province": province, "program": program}}
    if cut:
        data["limits"], data["quotes"] = cut[2], quotes.table
    return data, towns


def build_view(pg: PropertyGraph, province: str | None = None, program: str | None = None,
               bounded: bool = True) -> dict[str, Any]:
    """The JSON the page embeds: vis nodes/edges, colour groups and per-node facts.

    Kept separate from the HTML so tests and other front ends can use the same selection logic.
    `province` keeps towns whose province or any superior name matches; `program` keeps programs whose
    name contains the string (or whose id equals it) and only the towns implementing them. Over the
    bounds of `kg.viz_select` (unless `bounded` is false) only the top of the network is drawn, and
    `limits` says what was left out.
    """
    return _network(pg, index_graph(pg), province, program, bounded, ReportLabels(pg))[0]


def build_page_data(pg: PropertyGraph, province: str | None = None, program: str | None = None,
                    extractions: Iterable[Extraction] | None = None,
                    units: dict[tuple[str, str], str] | None = None, bounded: bool = True) -> dict[str, Any]:
    """All three views' data: the network at the top level (unchanged shape), plus `cooc` and `indicators`.

    The filters apply to every view: the co-occurrence and the indicator charts only use the towns the
    filters keep (all of them, also those a bounded network does not draw). `extractions` (when the caller
    has them) let co-occurrence use real paragraphs, re-read from the reports; `units` are those paragraphs
    already worked out (`kg.viz_cooc.paragraph_units`). `bounded=False` draws everything, however large.
    """
    from kg.viz_cooc import build_cooc_view, mention_units
    from kg.viz_indicators import indicator_view

    with paused_gc():
        idx, label = index_graph(pg), ReportLabels(pg)
        data, towns = _network(pg, idx, province, program, bounded, label)
        # With --program these are the towns carrying it: only their reports name it with another program.
        # Without extractions the known units go in as they are: the co-occurrence falls back to sentences.
        found = mention_units(pg, extractions, units, index=idx) if extractions else (units or {})
        data["cooc"] = build_cooc_view(pg, found, set(towns), program, label, bounded, idx)
        shown = {tid: {"label": v["label"], "color": v["color"]} for tid, v in towns.items()}
        data["indicators"], limits = indicator_view(pg, shown, label, bounded=bounded, index=idx)
        if limits:
            data["indicatorLimits"] = limits
    return data


def page_title(province: str | None = None, program: str | None = None) -> str:
    return "镇政府工作报告 · 政策/工程" + "".join(f" · {x}" for x in (province, program) if x)


def write_program_network(pg: PropertyGraph, out: Path, province: str | None = None,
                          program: str | None = None, extractions: Iterable[Extraction] | None = None,
                          units: dict[tuple[str, str], str] | None = None) -> Path:
    """Write the page (network, co-occurrence, indicator charts; optionally filtered) to `out`.

    One file with everything inlined, because the page is opened from file:// on machines without
    network access and archived next to the reports it was built from.
    """
    from kg.viz_indicators import charts_html
    from kg.viz_page import render_page

    data = build_page_data(pg, province, program, extractions, units)
    page = render_page(page_title(province, program), data,
                       charts_html(data["indicators"], data.get("indicatorLimits")))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


FORMATS = ("html", "png", "svg")


def page_units(build_dir: Path) -> dict[tuple[str, str], str] | None:
    """(report, program) → co-occurrence unit, as the build recorded them in its manifest (the page the build
    wrote used them), or None when the manifest is missing or unreadable (the report files are read again)."""
    import json

    from kg.incremental import MANIFEST
    from kg.incremental import page_units as units_of

    try:
        return units_of(json.loads((Path(build_dir) / MANIFEST).read_text(encoding="utf-8"))["paragraphs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_views(pg: PropertyGraph, out: Path, fmt: str = "html", province: str | None = None,
                program: str | None = None, extractions: Iterable[Extraction] | None = None,
                units: dict[tuple[str, str], str] | None = None) -> list[Path]:
    """What `kg viz` writes: the one-file page (`html`), or three static pictures (`png`/`svg`) named
    `<stem>-network.<fmt>`, `<stem>-cooccurrence.<fmt>`, `<stem>-indicators.<fmt>` next to `out`.

    A missing CJK font for the pictures is reported as `kg.viz_static.CJKFontWarning`, not an error:
    the pictures are still useful, and the caller decides how loudly to say so. `units` are the
    co-occurrence units a build recorded (`page_units`); without them the report files are read again.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "html":
        return [write_program_network(pg, out, province, program, extractions, units)]
    from kg.viz_static import write_static

    data = build_page_data(pg, province, program, extractions, units)
    return write_static(data, Path(out), fmt, page_title(province, program))
