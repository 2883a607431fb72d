"""The one-file HTML page around the three views (network, co-occurrence, indicators): template and app JS.

Kept apart from the data code (`kg.viz`, `kg.viz_cooc`, `kg.viz_indicators`) so each module stays small and
the page can be read top to bottom. Everything is inlined — vis-network from the pyvis wheel, the JSON data,
the SVG charts — because the page is opened from file:// on machines without network access.

Views are tabs; a vis-network canvas inside a hidden tab has no size, so each network is created the first
time its tab is shown. `#cooc` / `#ind` in the URL open that tab directly (links, headless screenshots).
`window.kgReady[view]` turns true once a view has finished its layout and `window.kgNet[view]` is its
vis.Network, for tests driving a real browser (and for poking at the page from the console).
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

FONT_STACK = '"WenQuanYi Micro Hei","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif'

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
*{box-sizing:border-box}
body{margin:0;display:flex;flex-direction:column;height:100vh;font:13px __FONT__;color:#222}
header{display:flex;align-items:center;gap:18px;padding:0 12px;height:46px;border-bottom:1px solid #ddd;background:#fafafa}
header h1{font-size:16px;margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
nav button{font:inherit;font-size:14px;padding:6px 14px;margin-right:4px;border:1px solid #ccc;border-radius:4px 4px 0 0;
background:#eee;cursor:pointer}nav button.on{background:#fff;border-bottom-color:#fff;font-weight:bold}
main{flex:1;min-height:0;display:flex}
.view{display:none;flex:1;min-width:0}.view.on{display:flex}
.side{width:340px;flex:none;overflow:auto;border-right:1px solid #ddd;padding:10px}
.canvas{flex:1;min-width:0;height:100%;position:relative}
.nothing{position:absolute;top:40%;left:0;right:0;text-align:center;color:#a33;font-size:16px}
.side input,.side select{width:100%;margin:3px 0;padding:4px;font:inherit}
.lg{display:inline-block;margin:2px 8px 2px 0;cursor:default}.lg i{display:inline-block;width:10px;height:10px;
margin-right:3px;vertical-align:-1px}.lg i.dot{border-radius:50%}
.note{color:#555;margin:6px 0;line-height:1.5}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;margin:6px 0}dt{color:#666}dd{margin:0}
.fact{margin:6px 0;border-top:1px solid #eee;padding-top:4px}
blockquote{margin:3px 0 3px 8px;padding-left:6px;border-left:3px solid #ccc;color:#333}
cite{display:block;color:#888;font-size:11px}
.vis-tooltip{position:absolute;visibility:hidden;padding:5px;background:#fffbe6;border:1px solid #aaa;
border-radius:3px;white-space:pre-line;font-size:12px;pointer-events:none;z-index:5}
#v-ind{flex-direction:column;overflow:auto;padding:10px 16px}
#v-ind .bar{display:flex;gap:12px;align-items:center;flex-wrap:wrap}
#charts{display:flex;flex-wrap:wrap;gap:8px 18px;align-items:flex-start}
figure{margin:6px 0;border:1px solid #e4e4e4;border-radius:4px;padding:4px;background:#fff}
.chart text{font-family:__FONT__}.ct{font-size:14px;font-weight:bold}.cu{font-size:11px;fill:#777}
.bl{font-size:12px}.bv{font-size:12px;fill:#333}.bar:hover rect{opacity:.8}
.empty{color:#a33;font-size:14px}
.limit{background:#fff4d6;border:1px solid #e6c36a;border-radius:3px;padding:4px 6px}
#charts .limit{flex-basis:100%;margin:0}
</style></head><body>
<header><h1>__TITLE__</h1><nav id="tabs">
<button data-view="net">镇–政策网络</button><button data-view="cooc">政策共现与社群</button>
<button data-view="ind">指标对比</button></nav></header>
<main>
<section id="v-net" class="view"><aside class="side">
<input id="net-q" type="search" placeholder="搜索镇或政策/工程（回车定位）">
<select id="net-sel"><option value="">全部上级市</option></select>
<div id="net-count"></div><div id="net-legend"></div>
<div class="note">■ 镇（按上级市着色）● 政策/工程，越大、越红 = 越多镇提及：
<span class="lg"><i class="dot" style="background:#bab0ac"></i>1 镇</span><span class="lg"><i class="dot"
style="background:#edc948"></i>2 镇</span><span class="lg"><i class="dot" style="background:#f28e2b"></i>3–4 镇</span><span
class="lg"><i class="dot" style="background:#e15759"></i>≥5 镇</span><br>连线 = 已实施，橙色虚线 = 仅计划（放大可见文字）</div>
<div id="net-info" class="note">点击节点查看事实与原文句子</div></aside><div id="net" class="canvas"></div></section>
<section id="v-cooc" class="view"><aside class="side">
<input id="cooc-q" type="search" placeholder="搜索政策/工程（回车定位）">
<select id="cooc-sel"><option value="">全部社群</option></select>
<div id="cooc-count"></div><div id="cooc-legend"></div>
<div class="note">两项政策/工程在同一段落中被提及即相连（线越粗 = 同段次数越多）；颜色 = networkx Louvain 社群；
节点越大 = 越多镇提及。<span id="cooc-stats"></span></div>
<div id="cooc-info" class="note">点击节点查看同段出现的政策与原文</div></aside><div id="cooc" class="canvas"></div></section>
<section id="v-ind" class="view"><div class="bar"><select id="ind-sel"><option value="">全部指标</option></select>
<span class="note">同一指标、同一时期（实际与目标分开）、至少两个镇有人民币数值时比较；数值统一换算为元，每图按最大值选单位。
条形颜色 = 上级市（同网络视图）；悬停条形查看原文。</span></div><div id="charts">__CHARTS__</div></section>
</main>
<script>__VIS__</script>
<script id="kg-data" type="application/json">__DATA__</script>
<script>__APP__</script>
</body></html>
"""

_APP = r"""
const D=JSON.parse(document.getElementById('kg-data').textContent);
const FONT=__FONT_JS__;
window.kgReady={ind:true};window.kgNet={};
function el(t,x,c){const e=document.createElement(t);if(x!=null)e.textContent=x;if(c)e.className=c;return e;}
function legend(box,groups,onPick){groups.forEach(g=>{const s=el('span',g.name,'lg'),i=el('i');
 i.style.background=g.color;s.prepend(i);if(onPick){s.style.cursor='pointer';s.onclick=()=>onPick(g);}box.appendChild(s);});}
function view(key,data,opts,attr){
 const $=id=>document.getElementById(key+'-'+id),box=$('info'),q=$('q'),sel=$('sel');
 const nodes=new vis.DataSet(data.nodes),edges=new vis.DataSet(data.edges);
 if(data.limits)$('count').before(el('div',data.limits.text,'note limit'));
 const box0=document.getElementById(key),net=new vis.Network(box0,{nodes,edges},opts);window.kgNet[key]=net;
 if(!data.nodes.length)box0.appendChild(el('div','没有可显示的节点：放宽 --province / --program 过滤条件','nothing'));
 let done=false;const ready=()=>{if(done)return;done=true;net.setOptions({physics:false});window.kgReady[key]=true;};
 net.once('stabilizationIterationsDone',ready);if(!data.nodes.length)setTimeout(ready,0);setTimeout(ready,20000);
 const nb={};data.edges.forEach(e=>{(nb[e.from]=nb[e.from]||[]).push(e.to);(nb[e.to]=nb[e.to]||[]).push(e.from);});
 function show(id){const f=data.facts[id];box.replaceChildren();if(!f)return;
  box.appendChild(el('h4',f.title));const dl=el('dl');
  f.rows.forEach(([k,v])=>{dl.appendChild(el('dt',k));dl.appendChild(el('dd',v));});box.appendChild(dl);
  if(f.links.length)box.appendChild(el('h5',f.linksTitle));
  f.links.forEach(l=>{const d=el('div',null,'fact'),a=el('a',l.name+'（'+l.stance+'）');a.href='#';
   a.onclick=ev=>{ev.preventDefault();go(l.id);};d.appendChild(a);
   (l.sentences||data.quotes[l.q]).forEach(s=>{const b=el('blockquote',s.text);b.appendChild(el('cite',s.report));d.appendChild(b);});
   box.appendChild(d);});}
 function go(id){net.selectNodes([id]);net.focus(id,{scale:1.2,animation:false});show(id);}
 net.on('click',p=>{if(p.nodes.length)show(p.nodes[0]);});
 data.groups.forEach(g=>{const o=el('option',g.name);o.value=String(g.id!=null?g.id:g.name);sel.appendChild(o);});
 legend($('legend'),data.groups,g=>{sel.value=String(g.id!=null?g.id:g.name);apply();});
 let hits=[];
 function apply(){const s=q.value.trim().toLowerCase(),g=sel.value;let A=null;
  if(g){A=new Set();data.nodes.forEach(n=>{if(String(n[attr])===g){A.add(n.id);
   if(attr==='city')(nb[n.id]||[]).forEach(x=>A.add(x));}});}
  const ok=id=>!A||A.has(id);let keep=A;hits=[];
  if(s){keep=new Set();data.nodes.forEach(n=>{if(ok(n.id)&&n.label.toLowerCase().includes(s)){hits.push(n.id);
   keep.add(n.id);(nb[n.id]||[]).forEach(x=>{if(ok(x))keep.add(x);});}});}
  nodes.update(data.nodes.map(n=>({id:n.id,hidden:!!keep&&!keep.has(n.id)})));
  $('count').textContent=data.nodes.length?'显示 '+(keep?keep.size:data.nodes.length)+' / '+data.nodes.length+' 个节点':'无匹配节点';}
 q.addEventListener('input',apply);sel.addEventListener('change',apply);
 q.addEventListener('keydown',e=>{if(e.key==='Enter'&&hits.length)go(hits[0]);});
 apply();return net;}
// Labels smaller than ~6 px on screen are skipped (drawThreshold): the overview shows towns and shared
// programs; zooming in (wheel) reveals the rest. Hover always shows the name.
const base={nodes:{font:{face:FONT,strokeWidth:3,strokeColor:'#ffffff'},scaling:{label:{drawThreshold:7}}},
 interaction:{hover:true,tooltipDelay:150},edges:{smooth:false}};
const INIT={
 net:()=>view('net',D,{...base,layout:{randomSeed:7,improvedLayout:D.nodes.length<300},
  edges:{smooth:false,font:{face:FONT,size:10,color:'#666',strokeWidth:2},scaling:{label:{drawThreshold:9}}},
  physics:{solver:'forceAtlas2Based',forceAtlas2Based:{gravitationalConstant:-45,springLength:90,avoidOverlap:0.6},
   stabilization:{iterations:500}}},'city'),
 cooc:()=>{const C=D.cooc;const st=C.stats;document.getElementById('cooc-stats').textContent=' 共 '+st.programs+
  ' 项政策/工程，'+st.shown+' 项与其他政策同段出现（'+st.communities+' 个社群），'+st.isolated+' 项单独出现未画出。';
  return view('cooc',C,{...base,layout:{randomSeed:7,improvedLayout:C.nodes.length<300},
  edges:{smooth:false,scaling:{min:1,max:7}},
  physics:{solver:'forceAtlas2Based',forceAtlas2Based:{gravitationalConstant:-55,springLength:60,avoidOverlap:0.6},
   stabilization:{iterations:600}}},'community');},
 ind:()=>{const sel=document.getElementById('ind-sel'),figs=[...document.querySelectorAll('#charts figure')];
  [...new Set(figs.map(f=>f.dataset.concept))].forEach(c=>{const o=el('option',c);o.value=c;sel.appendChild(o);});
  sel.addEventListener('change',()=>figs.forEach(f=>{f.style.display=!sel.value||f.dataset.concept===sel.value?'':'none';}));}};
const started={};
function tab(k){if(!INIT[k])k='net';document.querySelectorAll('nav button').forEach(b=>b.classList.toggle('on',b.dataset.view===k));
 document.querySelectorAll('.view').forEach(v=>v.classList.toggle('on',v.id==='v-'+k));
 if(!started[k]){started[k]=true;INIT[k]();}if(location.hash!=='#'+k)history.replaceState(null,'','#'+k);}
document.querySelectorAll('nav button').forEach(b=>b.addEventListener('click',()=>tab(b.dataset.view)));
window.addEventListener('hashchange',()=>tab(location.hash.slice(1)));
tab(location.hash.slice(1));
"""


@cache
def vis_js() -> str:
    """vis-network 9.1.2 as shipped inside the pyvis wheel (package data; pyvis's Python code is not used).

    Found with `find_spec`, which locates the package without running it: importing pyvis would import
    jinja2 and networkx's drawing code, ~0.4 s of a page build."""
    spec = importlib.util.find_spec("pyvis")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - environment problem
        raise RuntimeError("kg.viz needs the vis-network bundle from pyvis: pip install pyvis")
    js = (Path(next(iter(spec.submodule_search_locations))) / "lib" / "vis-9.1.2" / "vis-network.min.js")
    return js.read_text("utf-8").replace("</script", "<\\/script")


def render_page(title: str, data: dict[str, Any], charts: str) -> str:
    """The whole page. `data` is embedded as JSON with every `<` escaped, so report text cannot close the tag."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    app = _APP.replace("__FONT_JS__", json.dumps(FONT_STACK))
    parts = {"TITLE": html.escape(title), "APP": app, "DATA": payload, "VIS": vis_js(), "CHARTS": charts,
             "FONT": FONT_STACK}
    return re.sub(r"__(TITLE|APP|DATA|VIS|CHARTS|FONT)__", lambda m: parts[m.group(1)], _PAGE)  # one pass
