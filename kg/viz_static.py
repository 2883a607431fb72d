"""Static pictures of the three views (PNG or SVG) for reports and slides, drawn with matplotlib.

The input is the same view data the HTML page embeds (`kg.viz.build_page_data`), so the pictures and the
page always agree. Layouts are networkx spring layouts with a fixed seed (a rebuild draws the same picture).
To stay readable on paper: town names and programs shared by several towns are labelled; programs one
town alone mentions are small grey dots (labelled only in small graphs); SVG text is stored as paths
(`svg.fonttype = "path"`), so the file shows the same glyphs on a machine without a Chinese font.

Chinese needs a CJK font: WenQuanYi Micro Hei (Debian `fonts-wqy-microhei`, what `make test` installs) or
another common one. matplotlib caches its font list on first use, so a font installed later is not in it:
the font files are therefore also looked up on disk and registered. With none found, a `CJKFontWarning`
says so and the pictures are drawn anyway (labels become boxes).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import networkx as nx

CJK_FAMILIES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC",
                "Noto Sans SC", "Microsoft YaHei", "PingFang SC", "SimHei")
CJK_FILE_HINTS = ("wqy-microhei", "wqy-zenhei", "notosanscjk", "sourcehansans", "notosanssc", "msyh", "simhei")
VIEWS = ("network", "cooccurrence", "indicators")


class CJKFontWarning(UserWarning):
    """No font with Chinese glyphs was found; the pictures' Chinese labels will render as boxes."""


def cjk_font() -> str | None:
    """Family name of an installed CJK font, registering it with matplotlib if its cache predates it."""
    from matplotlib import font_manager as fm

    known = {f.name for f in fm.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    for path in sorted(fm.findSystemFonts()):
        if any(h in Path(path).name.lower().replace("-", "").replace("_", "") for h in
               (x.replace("-", "") for x in CJK_FILE_HINTS)):
            try:
                fm.fontManager.addfont(path)
                return str(fm.FontProperties(fname=path).get_name())
            except (OSError, RuntimeError, ValueError):
                continue
    return None


def _style() -> dict[str, Any]:
    family = cjk_font()
    if family is None:
        warnings.warn("no CJK font found (install Debian fonts-wqy-microhei, or any Noto/Source Han Sans SC): "
                      "Chinese labels in the PNG/SVG will be drawn as boxes", CJKFontWarning, stacklevel=3)
    return {"font.family": "sans-serif", "font.sans-serif": [*([family] if family else []), "DejaVu Sans"],
            "axes.unicode_minus": False, "svg.fonttype": "path", "figure.dpi": 100}


def _figure(w: float, h: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), layout="constrained")


def _legend(ax: Any, items: list[tuple[str, str, str]], title: str, loc: str = "upper left",
            outside: bool = False) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker=m, linestyle="", markersize=9, markerfacecolor=c, markeredgecolor="#555",
                      label=label) for label, c, m in items]
    if handles:
        ax.legend(handles=handles, title=title, loc=loc, fontsize=9, title_fontsize=10, frameon=True,
                  framealpha=0.9, ncols=1 if len(handles) <= 10 or outside else 2,
                  **({"bbox_to_anchor": (1.0, 0.0 if loc.startswith("lower") else 1.0)} if outside else {}))


def _canvas(pos: dict[str, Any], title: str, extra_w: float) -> tuple[Any, Any]:
    """Figure sized to the layout (its units are about inches), equal aspect so clusters keep their shape."""
    if pos:
        xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
        w, h = max(xs) - min(xs) + 1.6, max(ys) - min(ys) + 1.4
    else:
        w, h = 10.0, 6.0
    fig = _figure(min(max(w, 8.0), 20.0) + extra_w, min(max(h, 5.0), 15.0) + 0.6)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, fontsize=16)
    if pos:
        ax.set_aspect("equal", adjustable="datalim")
        ax.margins(0.06, 0.1)  # labels sit above towns and below dots, beyond the data limits
    return fig, ax


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=14, color="#a33", transform=ax.transAxes)


def draw_network(data: dict[str, Any], title: str) -> Any:
    """Towns (squares, by city) and programs (dots; size/colour = how many towns name them)."""
    g = nx.Graph()
    g.add_nodes_from(sorted(n["id"] for n in data["nodes"]))
    g.add_edges_from((e["from"], e["to"]) for e in data["edges"])
    small = len(g) <= 60
    pos = _layout(g, labels={n["id"]: n["label"] for n in data["nodes"]
                             if n["kind"] == "town" or n.get("towns", 0) > 1 or small})
    fig, ax = _canvas(pos, title + " · 镇–政策/工程网络", extra_w=2.6)
    if not g:
        _empty(ax, "无匹配节点")
        return fig
    for e in data["edges"]:
        (x1, y1), (x2, y2) = pos[e["from"]], pos[e["to"]]
        ax.plot([x1, x2], [y1, y2], color=e["color"], lw=0.7, alpha=0.6, zorder=1,
                linestyle="--" if e["dashes"] else "-")
    progs = sorted((n for n in data["nodes"] if n["kind"] == "program"), key=lambda n: n["towns"])
    ax.scatter([pos[n["id"]][0] for n in progs], [pos[n["id"]][1] for n in progs], zorder=2,
               s=[(n["size"] * 0.9) ** 2 / 2 for n in progs], c=[n["color"] for n in progs],
               edgecolors="white", linewidths=0.6)
    towns = [n for n in data["nodes"] if n["kind"] == "town"]
    ax.scatter([pos[n["id"]][0] for n in towns], [pos[n["id"]][1] for n in towns], marker="s", s=260, zorder=3,
               c=[n["color"] for n in towns], edgecolors="#333", linewidths=0.8)
    halo = [_halo()]
    for n in progs:
        if n["towns"] > 1 or small:
            ax.annotate(n["label"], pos[n["id"]], xytext=(0, -4 - n["size"] / 3), textcoords="offset points",
                        ha="center", va="top", zorder=4, path_effects=halo,
                        fontsize=8 + min(n["towns"], 6), color="#222" if n["towns"] > 1 else "#555")
    for n in towns:
        ax.annotate(n["label"], pos[n["id"]], xytext=(0, 9), textcoords="offset points", ha="center",
                    va="bottom", fontsize=14, zorder=5, path_effects=halo)
    singles = sum(1 for n in progs if n["towns"] <= 1)
    shares = [("1 个镇" + ("" if small else f"（{singles} 项，不标名称）"), "#bab0ac", "o"),
              ("2 个镇", "#edc948", "o"), ("3–4 个镇", "#f28e2b", "o"), ("≥5 个镇", "#e15759", "o")]
    _legend(ax, [(g_["name"], g_["color"], "s") for g_ in data["groups"]], "镇（按上级市）", outside=True)
    if ax.get_legend() is not None:  # keep the first legend when the second is added
        ax.add_artist(ax.get_legend())
    _legend(ax, shares, "政策/工程提及镇数", "lower left", outside=True)
    return fig


def _spread(pos: dict[str, Any], radius: dict[str, float], rounds: int = 80) -> dict[str, Any]:
    """Push apart nodes closer than the sum of their radii (spring layouts stack structurally equal nodes on
    one spot, e.g. programs every town names), so their dots and labels stay legible."""
    import numpy as np

    ids = list(pos)
    if len(ids) < 2 or len(ids) > 1500:
        return pos
    xy = np.array([pos[i] for i in ids], dtype=float)
    r = np.array([radius.get(i, 0.2) for i in ids])
    xy += np.random.default_rng(7).normal(scale=1e-4, size=xy.shape)  # duplicates need a direction to move
    need = r[:, None] + r[None, :]
    for _ in range(rounds):
        d = xy[:, None, :] - xy[None, :, :]
        dist = np.sqrt((d ** 2).sum(-1)) + np.eye(len(ids))
        push = np.clip(need - dist, 0, None)
        np.fill_diagonal(push, 0)
        if not push.any():
            break
        xy += ((d / dist[..., None]) * push[..., None] / 2).sum(1)
    return {i: xy[k] for k, i in enumerate(ids)}


def _layout(g: nx.Graph, weight: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Spring layout per connected component, components packed in rows (largest first).

    One spring layout over a disconnected graph flings the components apart and squeezes each into a dot;
    laying them out separately keeps every cluster readable and the picture compact. Units are roughly
    inches of the final figure; nodes with an entry in `labels` get room for that label (CJK ≈ 0.13 in/char).
    """
    import numpy as np

    if not g:
        return {}
    half = {n: 0.065 * len(t) + 0.05 for n, t in (labels or {}).items()}
    comps = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: (-len(c), c))
    blocks = []
    for c in comps:
        if len(c) <= 2:  # a lone node or a pair: stacked, labels under each other
            p = {n: np.array([0.0, -0.55 * i]) for i, n in enumerate(c)}
        else:
            sub = g.subgraph(c)
            p = nx.spring_layout(sub, seed=7, k=1.2 / math.sqrt(len(c)), iterations=300, weight=weight)
            radius = {n: 0.55 if n in half else 0.17 for n in c}
            p = _spread({n: v * (0.3 + 0.45 * math.sqrt(len(c))) for n, v in p.items()}, radius)
        xy = np.array(list(p.values()))
        pad = np.array([[half.get(n, 0.1), 0.0] for n in p])
        lo, hi = (xy - pad).min(0), (xy + pad).max(0)
        blocks.append((p, lo, hi - lo + 0.6))
    row_width = max(max(b[2][0] for b in blocks), math.sqrt(sum(b[2][0] * b[2][1] for b in blocks) * 1.5))
    out: dict[str, Any] = {}
    x = y = row_h = 0.0
    for p, lo, (w, h) in blocks:
        if x > 0 and x + w > row_width:
            x, y, row_h = 0.0, y - row_h, 0.0
        for n, v in p.items():
            out[n] = v - lo + np.array([x, y - h + 0.6])
        x, row_h = x + w, max(row_h, h)
    return out


def _halo() -> Any:
    from matplotlib import patheffects

    return patheffects.withStroke(linewidth=3, foreground="white")


def draw_cooccurrence(cooc: dict[str, Any], title: str) -> Any:
    """Programs named in one paragraph, coloured by Louvain community."""
    st = cooc["stats"]
    g = nx.Graph()
    g.add_nodes_from(n["id"] for n in cooc["nodes"])
    g.add_weighted_edges_from((e["from"], e["to"], e["value"]) for e in cooc["edges"])
    deg = dict(g.degree(weight="weight"))
    labelled = set(sorted(g, key=lambda n: -deg[n])[:80]) if len(g) > 120 else set(g)
    pos = _layout(g, weight="weight", labels={n["id"]: n["label"] for n in cooc["nodes"] if n["id"] in labelled})
    fig, ax = _canvas(pos, f"{title} · 政策共现与社群（同段提及；{st['shown']} 项，{st['communities']} 个社群）",
                      extra_w=3.0)
    if not g:
        _empty(ax, "没有同段出现的政策/工程")
        return fig
    for e in cooc["edges"]:
        (x1, y1), (x2, y2) = pos[e["from"]], pos[e["to"]]
        ax.plot([x1, x2], [y1, y2], color=e["color"]["color"], alpha=0.5, lw=0.6 + 0.9 * e["value"], zorder=1)
    nodes = cooc["nodes"]
    ax.scatter([pos[n["id"]][0] for n in nodes], [pos[n["id"]][1] for n in nodes], zorder=2,
               s=[(n["size"] * 0.9) ** 2 / 2 for n in nodes], c=[n["color"] for n in nodes],
               edgecolors="white", linewidths=0.6)
    for n in nodes:
        if n["id"] in labelled:
            ax.annotate(n["label"], pos[n["id"]], xytext=(0, -4 - n["size"] / 3), textcoords="offset points",
                        ha="center", va="top", fontsize=8 + min(n["towns"], 5), zorder=3, path_effects=[_halo()])
    _legend(ax, [(c["name"], c["color"], "o") for c in cooc["groups"][:16]] +
            ([("其他小社群/成对", "#b9b9b9", "o")] if len(cooc["groups"]) < st["communities"] else []),
            "社群（networkx Louvain）", outside=True)
    return fig


def draw_indicators(groups: list[dict[str, Any]], title: str) -> Any:
    """Small multiples: one horizontal bar chart per comparable (indicator, period, actual/target)."""
    cols = 2 if len(groups) > 1 else 1
    rows = max(math.ceil(len(groups) / cols), 1)
    tallest = max((len(g["bars"]) for g in groups), default=1)
    fig = _figure(7 * cols, 0.9 + rows * (0.9 + 0.38 * tallest))
    fig.suptitle(title + " · 指标对比（同一指标、同一时期，按元归一）", fontsize=15)
    if not groups:
        ax = fig.add_subplot()
        ax.set_axis_off()
        _empty(ax, "没有可比较的指标：需要至少两个镇报告同一指标、同一时期的人民币数值")
        return fig
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, grp in zip(axes, groups, strict=False):
        bars = list(reversed(grp["bars"]))
        factor = {"亿元": 1e8, "万元": 1e4}.get(grp["unit"], 1.0)
        vals = [b["yuan"] / factor for b in bars]
        ax.barh([b["label"] for b in bars], vals, color=[b["color"] for b in bars], height=0.62)
        for i, b in enumerate(bars):
            ax.text(vals[i], i, " " + b["shown"], va="center", fontsize=10)
        ax.set_title(grp["title"], fontsize=12, loc="left")
        ax.set_xlabel(grp["unit"], fontsize=9)
        ax.set_xlim(0, max(vals) * 1.18 if max(vals) > 0 else 1)
        ax.tick_params(labelsize=10)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in axes[len(groups):]:
        ax.set_axis_off()
    return fig


def write_static(data: dict[str, Any], out: Path, fmt: str = "png", title: str = "镇政府工作报告") -> list[Path]:
    """Write `<stem>-network.<fmt>`, `<stem>-cooccurrence.<fmt>`, `<stem>-indicators.<fmt>` next to `out`."""
    import matplotlib

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context(_style()), warnings.catch_warnings():
        # Without a CJK font, _style() has warned once; matplotlib would add one warning per missing glyph.
        warnings.filterwarnings("ignore", r"Glyph \d+ .*missing from font", UserWarning)
        figs = {"network": draw_network(data, title), "cooccurrence": draw_cooccurrence(data["cooc"], title),
                "indicators": draw_indicators(data["indicators"], title)}
        for view in VIEWS:
            path = out.with_name(f"{out.stem}-{view}.{fmt}")
            figs[view].savefig(path, format=fmt, dpi=110, facecolor="white")
            written.append(path)
    return written
