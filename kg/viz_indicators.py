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

KIND_ZH = {"actual": "实际", "target": "目标"}
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


def comparable_groups(pg: PropertyGraph, towns: dict[str, dict[str, Any]],
                      report_label: Any = str) -> list[dict[str, Any]]:
    """Groups of ≥ 2 towns with a yuan value for one (concept, period, kind), most towns first.

    `towns` maps town id → {"label", "color"} (what the network view shows), and limits the towns used.
    """
    obs_town = {e.dst: e.src for e in pg.edges.values() if e.type == "REPORTS"}
    obs_ind = {e.src: e.dst for e in pg.edges.values() if e.type == "MEASURES"}
    groups: dict[tuple[str, str, str], dict[str, Node]] = {}
    for oid, tid in obs_town.items():
        o, iid = pg.nodes.get(oid), obs_ind.get(oid)
        if tid not in towns or o is None or iid not in pg.nodes:
            continue
        if o.props.get("normalized_unit") != "CNY" or o.props.get("normalized") is None:
            continue
        period = str(o.props.get("period") or "")
        if not period:
            continue
        concept = str(pg.nodes[iid].props.get("name", iid))
        per = groups.setdefault((concept, period, str(o.props.get("kind") or "actual")), {})
        if tid not in per or _better(o, per[tid], concept):
            per[tid] = o
    out = []
    for (concept, period, kind), per in groups.items():
        if len(per) < 2:
            continue
        factor, unit = scale_for([float(o.props["normalized"]) for o in per.values()])
        bars = []
        for tid, o in per.items():
            v = float(o.props["normalized"])
            raw_v = f"{float(o.props.get('value') or 0):f}".rstrip("0").rstrip(".")
            wording = f"{o.props.get('name', '')} {raw_v} {o.props.get('unit') or ''}"
            if o.props.get("growth_pct") is not None:
                wording += f"（增长 {o.props['growth_pct']:g}%）"
            bars.append({"town": tid, "label": towns[tid]["label"], "color": towns[tid]["color"], "yuan": v,
                         "shown": fmt(v / factor), "wording": wording.strip(),
                         "sentence": str(o.props.get("sentence") or ""),
                         "report": report_label(str(o.props.get("report", "")))})
        bars.sort(key=lambda b: (-b["yuan"], b["label"]))
        out.append({"concept": concept, "period": period, "kind": kind, "unit": unit,
                    "title": f"{concept} · {period_label(period)} · {KIND_ZH.get(kind, kind)}", "bars": bars})
    out.sort(key=lambda g: (-len(g["bars"]), g["concept"], g["period"], g["kind"]))
    return out


def chart_svg(group: dict[str, Any], width: int = 460) -> str:
    """One horizontal bar chart; every bar carries a tooltip with the report's wording and sentence."""
    bar, gap, top, left, right = 20, 8, 40, 118, 74
    n = len(group["bars"])
    height = top + n * (bar + gap) + 6
    top_v = max((b["yuan"] for b in group["bars"]), default=0.0) or 1.0
    span = width - left - right
    e = html.escape
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{e(group["title"])}">',
             f'<text x="8" y="18" class="ct">{e(group["title"])}</text>',
             f'<text x="8" y="33" class="cu">单位：{e(group["unit"])}（按元归一后比较）</text>',
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


def charts_html(groups: list[dict[str, Any]]) -> str:
    """All charts as figures the page's concept filter can show or hide (`data-concept`)."""
    if not groups:
        return ('<p class="empty">没有可比较的指标：需要至少两个镇报告同一指标、同一时期的人民币数值。</p>')
    return "".join(f'<figure data-concept="{html.escape(g["concept"])}">{chart_svg(g)}</figure>' for g in groups)
