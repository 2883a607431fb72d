"""Indicator comparison across towns: same concept, same period, values normalized to yuan, as SVG bars.

Only like is compared with like: observations are grouped by (indicator concept, period, actual/target) and
a group is drawn when at least two towns report it in yuan (`normalized_unit == "CNY"`; USD figures would
need an exchange rate the report does not give, so they are left out rather than guessed). When a town
reports the concept twice in one period (财政总收入 and 镇本级财政总收入), the observation worded exactly as
the concept wins, else the shortest wording (the least qualified figure).

The charts are plain SVG written here rather than a JavaScript charting library: a horizontal bar chart
needs ~40 lines, inline SVG renders with the page's CJK font, works with JavaScript off, prints sharply and
adds no bytes of library code (the candidates that ship in pip packages, plotly.js and BokehJS, add 1–5 MB).
"""

from __future__ import annotations

import html
from typing import Any

from kg.graph import Node, PropertyGraph
from kg.viz_select import GraphIndex

KIND_ZH = {"actual": "实际", "target": "目标"}
# Bounds (see kg.viz_select for why the page is bounded); the seeds have 3 charts of 2 bars.
MAX_CHARTS = 40  # largest groups charted: the concept menu stays short, ~25 KB of SVG and JSON a chart
MAX_BARS = 25  # bars per chart, largest values first; 1,000 towns' bars would be 28 px × 1,000 tall
SCALES = ((1e8, "亿元"), (1e4, "万元"), (1.0, "元"))


def period_label(period: str) -> str:
    """'2022' → '2022年'; '2023-01..2023-07' → '2023年1–7月'; '2023-H1' → '2023年上半年'.

    >>> period_label("2023-01..2023-07"), period_label("2021..2025"), period_label("2023-H1")
    ('2023年1–7月', '2021–2025年', '2023年上半年')
    """
    if ".." in period:
        a, b = period.split("..", 1)
        if len(a) == len(b) == 7 and a[:4] == b[:4]:
            return f"{a[:4]}年{int(a[5:])}–{int(b[5:])}月"
        return f"{a}–{b}年" if len(a) == len(b) == 4 else f"{a}–{b}"
    if period.endswith(("-H1", "-H2")):
        return f"{period[:4]}年{'上' if period.endswith('1') else '下'}半年"
    return f"{period}年" if period.isdigit() else period


def scale_for(values: list[float]) -> tuple[float, str]:
    """One unit per chart, chosen by its largest value, so bars and numbers read the same way."""
    top = max((abs(v) for v in values), default=0.0)
    return next(((f, u) for f, u in SCALES if top >= f), SCALES[-1])


def fmt(x: float) -> str:
    """About three significant digits, never an exponent: 1,529 · 26.1 · 1.89 · 0.998.

    >>> fmt(2316.4), fmt(25.6), fmt(7.7), fmt(0.998), fmt(0.0)
    ('2,316', '25.6', '7.70', '0.998', '0.00')
    """
    a = abs(x)
    return f"{x:,.0f}" if a >= 100 else f"{x:.1f}" if a >= 10 else f"{x:.2f}" if a >= 1 or a == 0 else f"{x:.3g}"


def _better(o: Node, cur: Node, concept: str) -> bool:
    def rank(n: Node) -> tuple[bool, int, int]:
        name = str(n.props.get("name", ""))
        return (name != concept, len(name), int(n.props.get("start") or 0))

    return rank(o) < rank(cur)


def _collect(pg: PropertyGraph, towns: dict[str, dict[str, Any]],
             index: GraphIndex | None) -> dict[tuple[str, str, str], dict[str, Node]]:
    """(concept, period, kind) → town → its observation in yuan (the best-worded one, see module doc)."""
    if index is None:
        index = GraphIndex()
        for e in pg.edges.values():
            if e.type == "REPORTS":
                index.obs_town[e.dst] = e.src
            elif e.type == "MEASURES":
                index.obs_ind[e.src] = e.dst
    obs_ind, nodes = index.obs_ind, pg.nodes
    groups: dict[tuple[str, str, str], dict[str, Node]] = {}
    for oid, tid in index.obs_town.items():
        o, iid = nodes.get(oid), obs_ind.get(oid)
        if tid not in towns or o is None or iid not in nodes:
            continue
        if o.props.get("normalized_unit") != "CNY" or o.props.get("normalized") is None:
            continue
        period = str(o.props.get("period") or "")
        if not period:
            continue
        concept = str(nodes[iid].props.get("name", iid))
        per = groups.setdefault((concept, period, str(o.props.get("kind") or "actual")), {})
        if tid not in per or _better(o, per[tid], concept):
            per[tid] = o
    return groups


def _bars(per: dict[str, Node], towns: dict[str, dict[str, Any]], report_label: Any,
          limit: int | None) -> list[dict[str, Any]]:
    """The bars of one chart, largest first; only the top `limit` are worded (the rest are never shown)."""
    ranked = sorted(per.items(), key=lambda x: (-float(x[1].props["normalized"]), towns[x[0]]["label"]))
    factor, unit = scale_for([float(o.props["normalized"]) for o in per.values()])
    bars = []
    for tid, o in ranked[:limit]:
        v = float(o.props["normalized"])
        raw_v = f"{float(o.props.get('value') or 0):f}".rstrip("0").rstrip(".")
        wording = f"{o.props.get('name', '')} {raw_v} {o.props.get('unit') or ''}"
        if o.props.get("growth_pct") is not None:
            wording += f"（增长 {o.props['growth_pct']:g}%）"
        bars.append({"town": tid, "label": towns[tid]["label"], "color": towns[tid]["color"], "yuan": v,
                     "shown": fmt(v / factor), "wording": wording.strip(),
                     "sentence": str(o.props.get("sentence") or ""),
                     "report": report_label(str(o.props.get("report", "")))})
    return bars


def _comparable(pg: PropertyGraph, towns: dict[str, dict[str, Any]],
                index: GraphIndex | None) -> list[tuple[tuple[str, str, str], dict[str, Node]]]:
    """The groups of ≥ 2 towns, most towns first (then by concept, period, kind)."""
    found = [(k, per) for k, per in _collect(pg, towns, index).items() if len(per) >= 2]
    found.sort(key=lambda x: (-len(x[1]), x[0]))
    return found


def _charts(found: list[tuple[tuple[str, str, str], dict[str, Node]]], towns: dict[str, dict[str, Any]],
            report_label: Any, max_groups: int | None, max_bars: int | None) -> list[dict[str, Any]]:
    out = []
    for (concept, period, kind), per in found[:max_groups]:
        bars = _bars(per, towns, report_label, max_bars)
        unit = scale_for([float(o.props["normalized"]) for o in per.values()])[1]
        grp = {"concept": concept, "period": period, "kind": kind, "unit": unit,
               "title": f"{concept} · {period_label(period)} · {KIND_ZH.get(kind, kind)}", "bars": bars}
        if len(bars) < len(per):
            grp["towns"] = len(per)
        out.append(grp)
    return out


def comparable_groups(pg: PropertyGraph, towns: dict[str, dict[str, Any]], report_label: Any = str,
                      max_groups: int | None = None, max_bars: int | None = None,
                      index: GraphIndex | None = None) -> list[dict[str, Any]]:
    """Groups of ≥ 2 towns with a yuan value for one (concept, period, kind), most towns first.

    `towns` maps town id → {"label", "color"} (what the network view shows), and limits the towns used.
    `max_groups` keeps the largest groups, `max_bars` the largest values of each (a cut chart gets `towns`,
    how many towns it compares in all); only what is kept is worded, so big graphs stay cheap.
    """
    return _charts(_comparable(pg, towns, index), towns, report_label, max_groups, max_bars)


def indicator_view(pg: PropertyGraph, towns: dict[str, dict[str, Any]], report_label: Any = str,
                   bounded: bool = True, index: GraphIndex | None = None
                   ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The charts the page shows and, when some were left out (`MAX_CHARTS`, `MAX_BARS`), what and why."""
    found = _comparable(pg, towns, index)
    if not bounded:
        return _charts(found, towns, report_label, None, None), None
    groups = _charts(found, towns, report_label, MAX_CHARTS, MAX_BARS)
    cut = sum("towns" in g for g in groups)
    if len(found) <= MAX_CHARTS and not cut:
        return groups, None
    text = (f"已截取：显示可比镇数最多的 {len(groups)} / {len(found)} 组指标"
            + (f"；{cut} 组超过 {MAX_BARS} 个镇，只画数值最大的 {MAX_BARS} 个" if cut else "") + "。")
    return groups, {"text": text, "charts": [len(groups), len(found)], "bars": MAX_BARS}


def chart_svg(group: dict[str, Any], width: int = 460) -> str:
    """One horizontal bar chart; every bar carries a tooltip with the report's wording and sentence."""
    bar, gap, top, left, right = 20, 8, 40, 118, 74
    n = len(group["bars"])
    height = top + n * (bar + gap) + 6
    top_v = max((b["yuan"] for b in group["bars"]), default=0.0) or 1.0
    span = width - left - right
    e = html.escape
    cut = f" · 数值最大的 {n} 个镇，共 {group['towns']} 个" if "towns" in group else ""
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{e(group["title"])}">',
             f'<text x="8" y="18" class="ct">{e(group["title"])}</text>',
             f'<text x="8" y="33" class="cu">单位：{e(group["unit"])}（按元归一后比较）{e(cut)}</text>',
             f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{height - 4}" stroke="#999"/>']
    for i, b in enumerate(group["bars"]):
        y = top + i * (bar + gap)
        w = max(span * max(b["yuan"], 0.0) / top_v, 1.0)
        tip = f"{b['label']}：{b['shown']} {group['unit']}\n原文：{b['wording']}\n{b['sentence']}\n— {b['report']}"
        parts.append(f'<g class="bar"><title>{e(tip)}</title>'
                     f'<text x="{left - 6}" y="{y + bar * 0.72:.1f}" text-anchor="end" class="bl">{e(b["label"])}</text>'
                     f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" rx="2" fill="{e(b["color"])}"/>'
                     f'<text x="{left + w + 5:.1f}" y="{y + bar * 0.72:.1f}" class="bv">{e(b["shown"])}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def charts_html(groups: list[dict[str, Any]], limits: dict[str, Any] | None = None) -> str:
    """All charts as figures the page's concept filter can show or hide (`data-concept`), after the note
    saying what was left out when the view is bounded (`indicator_view`)."""
    if not groups:
        return ('<p class="empty">没有可比较的指标：需要至少两个镇报告同一指标、同一时期的人民币数值。</p>')
    note = f'<p class="note limit">{html.escape(limits["text"])}</p>' if limits else ""
    return note + "".join(f'<figure data-concept="{html.escape(g["concept"])}">{chart_svg(g)}</figure>' for g in groups)
