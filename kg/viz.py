"""Draw the town–program network of a `PropertyGraph` as one self-contained HTML page.

Library choice: the page is written here around the vis-network 9.1.2 bundle that ships *inside the pyvis
wheel* (`pyvis/lib/vis-9.1.2/vis-network.min.js`, 469 KB), read with `importlib.resources` and inlined.
- pyvis's own `Network.write_html` was not used: even with `cdn_resources='in_line'` its template links
  bootstrap and tom-select from cdn.jsdelivr.net, so the output breaks offline unless regex-stripped, and its
  template has no hook for the side panel (facts + source sentences) this view needs.
- pyecharts ships no JavaScript at all (echarts must come from npm), so it cannot be inlined from pip alone.
- vis-network copes with physics layout of a few thousand nodes on a canvas and renders CJK text through the
  browser's fonts; its 220 KB CSS (mostly base64 icons for the unused manipulation toolbar) is replaced by
  one tooltip rule.
So the only runtime requirement is the pyvis *package data*; pyvis's Python code (and Jinja) is never called.

The data goes into a `<script type="application/json" id="kg-data">` block (every `<` escaped as `\\u003c`,
so report text can never close the tag) which tests and later tools can parse back. The panel builds its
DOM with `textContent`, so quotes from reports are never interpreted as HTML.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import deque
from importlib import resources
from pathlib import Path
from typing import Any

from kg.graph import Node, PropertyGraph

STANCE_ZH = {"implemented": "已实施", "planned": "计划"}
# Division-code prefix → province, so a town whose report never names its province can still be filtered.
PROVINCES = {"11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古", "21": "辽宁", "22": "吉林",
    "23": "黑龙江", "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西",
    "37": "山东", "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南", "50": "重庆",
    "51": "四川", "52": "贵州", "53": "云南", "54": "西藏", "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏",
    "65": "新疆", "71": "台湾", "81": "香港", "82": "澳门"}
# Cool colours for towns (grouped by city) so they never look like the warm "widely shared" programs.
TOWN_PALETTE = ("#4e79a7", "#59a14f", "#76b7b2", "#b07aa1", "#2f6690", "#8cd17d", "#499894", "#9c755f",
                "#d37295", "#a0cbe8", "#5e60ce", "#79706e")
UNKNOWN_GROUP = "上级未知"


def _share_color(n: int) -> str:
    """Grey for a program one town mentions, then yellow → red as more towns share it."""
    return "#bab0ac" if n <= 1 else "#edc948" if n == 2 else "#f28e2b" if n <= 4 else "#e15759"


def _program_size(n: int) -> float:
    """sqrt growth: 2 towns clearly beat 1, but a program of 100 towns does not swallow the canvas."""
    return round(min(10 + 10 * math.sqrt(max(n, 1) - 1), 70), 1)


def _vis_js() -> str:
    try:
        js = (resources.files("pyvis") / "lib" / "vis-9.1.2" / "vis-network.min.js").read_text("utf-8")
    except ModuleNotFoundError as e:  # pragma: no cover - environment problem, say how to fix it
        raise RuntimeError("kg.viz needs the vis-network bundle from pyvis: pip install pyvis") from e
    return js.replace("</script", "<\\/script")


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


def _report_label(pg: PropertyGraph, rid: str) -> str:
    r = pg.nodes.get(rid)
    if r is None:
        return rid
    year = f"{r.props['year']}年 " if r.props.get("year") else ""
    return year + str(r.props.get("title") or r.props.get("file") or rid)


def build_view(pg: PropertyGraph, province: str | None = None, program: str | None = None) -> dict[str, Any]:
    """The JSON the page embeds: vis nodes/edges, colour groups and per-node facts.

    Kept separate from the HTML so tests and other front ends can use the same selection logic.
    `province` keeps towns whose province or any superior name matches; `program` keeps programs whose
    name contains the string (or whose id equals it) and only the towns implementing them.
    """
    up: dict[str, list[str]] = {}
    impl: dict[tuple[str, str], list[dict[str, Any]]] = {}
    counts: dict[tuple[str, str], int] = {}
    reports: dict[str, list[str]] = {}
    for e in pg.edges.values():
        if e.type in ("SUBORDINATE_TO", "PART_OF"):
            up.setdefault(e.src, []).append(e.dst)
        elif e.type == "IMPLEMENTS" and e.src in pg.nodes and e.dst in pg.nodes:
            impl.setdefault((e.src, e.dst), []).append(e.props)
        elif e.type == "ABOUT":
            reports.setdefault(e.dst, []).append(e.src)
        counts[(e.src, e.type)] = counts.get((e.src, e.type), 0) + 1

    towns: dict[str, dict[str, Any]] = {}
    for t in pg.by_label("Town"):
        chain = _ancestors(pg, up, t.id)
        prov = _province(t.id, chain)
        names = [str(g.props.get("name") or "") for g in chain] + [prov or ""]
        if province and not _matches_place(province, names):
            continue
        towns[t.id] = {"node": t, "chain": chain, "group": _group(chain), "province": prov}

    def prog_ok(pid: str) -> bool:
        return not program or pid == program or program in str(pg.nodes[pid].props.get("name", ""))

    pairs = {k: v for k, v in impl.items() if k[0] in towns and prog_ok(k[1])}
    prog_towns: dict[str, list[str]] = {}
    town_progs: dict[str, list[str]] = {}
    for tid, pid in pairs:
        prog_towns.setdefault(pid, []).append(tid)
        town_progs.setdefault(tid, []).append(pid)
    if program:
        towns = {tid: v for tid, v in towns.items() if tid in town_progs}

    groups = sorted({v["group"] for v in towns.values()},
                    key=lambda g: (g == UNKNOWN_GROUP, -sum(v["group"] == g for v in towns.values()), g))
    color = {g: ("#c7c7c7" if g == UNKNOWN_GROUP else TOWN_PALETTE[i % len(TOWN_PALETTE)])
             for i, g in enumerate(groups)}
    name_count: dict[str, int] = {}
    for v in towns.values():
        name_count[v["node"].props.get("name", "")] = name_count.get(v["node"].props.get("name", ""), 0) + 1

    def facts_of(props_list: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
        stances = sorted({str(p.get("stance", "implemented")) for p in props_list})
        seen: dict[tuple[str, str], None] = {}
        for p in props_list:
            text = p.get("sentence") or p.get("quote")
            if text:
                seen.setdefault((str(text), _report_label(pg, str(p.get("report", "")))))
        return "/".join(STANCE_ZH.get(s, s) for s in stances), [{"text": t, "report": r} for t, r in seen]

    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    facts: dict[str, dict[str, Any]] = {}
    for tid, v in towns.items():
        name = str(v["node"].props.get("name", tid))
        label = name if name_count[name] == 1 else f"{name}（{v['group']}）"
        links = []
        for pid in town_progs.get(tid, []):
            stance, sents = facts_of(pairs[(tid, pid)])
            links.append({"id": pid, "name": pg.nodes[pid].props.get("name", pid), "stance": stance,
                              "sentences": sents})
        nodes.append({"id": tid, "label": label, "kind": "town", "city": v["group"], "shape": "square",
                      "size": 12, "color": color[v["group"]], "title": f"{label}\n上级：{v['group']}"})
        chain = " › ".join(str(g.props.get("name")) for g in v["chain"] if g.props.get("name"))
        rows = [["类型", "镇/街道"], ["级别", v["node"].props.get("level", "")], ["上级", chain or "未知"],
                ["所属市", v["group"]], ["省份", v["province"] or "未知"],
                ["报告", "；".join(_report_label(pg, r) for r in reports.get(tid, [])) or "无"],
                ["政策/工程数", str(len(links))], ["项目数", str(counts.get((tid, "HAS_PROJECT"), 0))],
                ["企业数", str(counts.get((tid, "HOSTS"), 0))], ["指标观测数", str(counts.get((tid, "REPORTS"), 0))]]
        facts[tid] = {"title": label, "rows": rows, "linksTitle": "实施的政策/工程与原文", "links": links}

    for pid, tids in prog_towns.items():
        p, n = pg.nodes[pid], len(set(tids))
        name = str(p.props.get("name", pid))
        nodes.append({"id": pid, "label": name, "kind": "program", "towns": n, "shape": "dot",
                      "size": _program_size(n), "color": _share_color(n), "font": {"size": 12 + min(n, 10)},
                      "title": f"{name}\n{n} 个镇提及"})
        links = []
        for tid in tids:
            stance, sents = facts_of(pairs[(tid, pid)])
            links.append({"id": tid, "name": facts[tid]["title"], "stance": stance, "sentences": sents})
            planned_only = stance == STANCE_ZH["planned"]
            edges.append({"id": f"{tid}|{pid}", "from": tid, "to": pid, "label": stance, "dashes": planned_only,
                          "color": "#f28e2b" if planned_only else "#8a9bb0", "stance": stance})
        rows = [["类型", "政策/工程"], ["提及镇数", str(n)], ["定义", str(p.props.get("definition") or "—")]]
        facts[pid] = {"title": name, "rows": rows, "linksTitle": "提及的镇与原文", "links": links}

    return {"nodes": nodes, "edges": edges, "facts": facts,
            "groups": [{"name": g, "color": color[g]} for g in groups],
            "filters": {"province": province, "program": program}}


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{margin:0;display:flex;height:100vh;font:13px "WenQuanYi Micro Hei","Noto Sans CJK SC","PingFang SC",
"Microsoft YaHei",sans-serif}
#side{width:360px;overflow:auto;border-right:1px solid #ddd;padding:10px;box-sizing:border-box}
#net{flex:1;height:100vh}
#q,#grp{width:100%;box-sizing:border-box;margin:3px 0;padding:4px}
.lg{display:inline-block;margin:2px 6px 2px 0}.lg i{display:inline-block;width:10px;height:10px;margin-right:3px}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;margin:6px 0}dt{color:#666}dd{margin:0}
.fact{margin:6px 0;border-top:1px solid #eee;padding-top:4px}
blockquote{margin:3px 0 3px 8px;padding-left:6px;border-left:3px solid #ccc;color:#333}
cite{display:block;color:#888;font-size:11px}
.vis-tooltip{position:absolute;visibility:hidden;padding:5px;background:#fffbe6;border:1px solid #aaa;
border-radius:3px;white-space:pre-line;font-size:12px;pointer-events:none;z-index:5}
</style></head><body>
<div id="side"><h3>__TITLE__</h3>
<input id="q" type="search" placeholder="搜索镇或政策/工程（回车定位）">
<select id="grp"><option value="">全部上级市</option></select>
<div id="count"></div><div id="legend"></div>
<div>■ 镇（按上级市着色）● 政策/工程（越大越红 = 越多镇提及）；虚线 = 仅计划</div>
<div id="info">点击节点查看事实与原文句子</div></div>
<div id="net"></div>
<script>__VIS__</script>
<script id="kg-data" type="application/json">__DATA__</script>
<script>__APP__</script>
</body></html>
"""

_APP = r"""
const D=JSON.parse(document.getElementById('kg-data').textContent);
const FONT='"WenQuanYi Micro Hei","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif';
const nodes=new vis.DataSet(D.nodes),edges=new vis.DataSet(D.edges);
const net=new vis.Network(document.getElementById('net'),{nodes,edges},{
 layout:{randomSeed:7,improvedLayout:D.nodes.length<300},nodes:{font:{face:FONT}},
 edges:{font:{face:FONT,size:10,color:'#555'},smooth:false},
 physics:{solver:'forceAtlas2Based',forceAtlas2Based:{gravitationalConstant:-60,springLength:110},
  stabilization:{iterations:400}},interaction:{hover:true,tooltipDelay:150}});
net.once('stabilizationIterationsDone',()=>net.setOptions({physics:false}));
const nb={};D.edges.forEach(e=>{(nb[e.from]=nb[e.from]||[]).push(e.to);(nb[e.to]=nb[e.to]||[]).push(e.from);});
function el(t,x,c){const e=document.createElement(t);if(x!=null)e.textContent=x;if(c)e.className=c;return e;}
const sel=document.getElementById('grp'),lg=document.getElementById('legend'),q=document.getElementById('q');
D.groups.forEach(g=>{const o=el('option',g.name);o.value=g.name;sel.appendChild(o);
 const s=el('span',g.name,'lg'),i=el('i');i.style.background=g.color;s.prepend(i);lg.appendChild(s);});
function show(id){const f=D.facts[id],box=document.getElementById('info');box.replaceChildren();if(!f)return;
 box.appendChild(el('h4',f.title));const dl=el('dl');
 f.rows.forEach(([k,v])=>{dl.appendChild(el('dt',k));dl.appendChild(el('dd',v));});box.appendChild(dl);
 if(f.links.length)box.appendChild(el('h5',f.linksTitle));
 f.links.forEach(l=>{const d=el('div',null,'fact'),a=el('a',l.name+'（'+l.stance+'）');a.href='#';
  a.onclick=ev=>{ev.preventDefault();go(l.id);};d.appendChild(a);
  l.sentences.forEach(s=>{const b=el('blockquote',s.text);b.appendChild(el('cite',s.report));d.appendChild(b);});
  box.appendChild(d);});}
function go(id){net.selectNodes([id]);net.focus(id,{scale:1.2});show(id);}
net.on('click',p=>{if(p.nodes.length)show(p.nodes[0]);});
let hits=[];
function apply(){const s=q.value.trim().toLowerCase(),g=sel.value;let A=null;
 if(g){A=new Set();D.nodes.forEach(n=>{if(n.city===g){A.add(n.id);(nb[n.id]||[]).forEach(x=>A.add(x));}});}
 const ok=id=>!A||A.has(id);let keep=A;hits=[];
 if(s){keep=new Set();D.nodes.forEach(n=>{if(ok(n.id)&&n.label.toLowerCase().includes(s)){hits.push(n.id);
  keep.add(n.id);(nb[n.id]||[]).forEach(x=>{if(ok(x))keep.add(x);});}});}
 nodes.update(D.nodes.map(n=>({id:n.id,hidden:!!keep&&!keep.has(n.id)})));
 document.getElementById('count').textContent='显示 '+(keep?keep.size:D.nodes.length)+' / '+D.nodes.length+
  ' 个节点'+(D.nodes.length?'':'（无匹配节点）');}
q.addEventListener('input',apply);sel.addEventListener('change',apply);
q.addEventListener('keydown',e=>{if(e.key==='Enter'&&hits.length)go(hits[0]);});
apply();
"""


def write_program_network(pg: PropertyGraph, out: Path, province: str | None = None,
                          program: str | None = None) -> Path:
    """Write the town–program network (optionally narrowed to a province and/or program) to `out`.

    One file with everything inlined, because the page is opened from file:// on machines without
    network access and archived next to the reports it was built from.
    """
    data = build_view(pg, province=province, program=program)
    title = "镇政府工作报告 · 政策/工程网络" + "".join(f" · {x}" for x in (province, program) if x)
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    parts = {"TITLE": html.escape(title), "APP": _APP, "DATA": payload, "VIS": _vis_js()}
    page = re.sub(r"__(TITLE|APP|DATA|VIS)__", lambda m: parts[m.group(1)], _PAGE)  # one pass: no rescans
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
