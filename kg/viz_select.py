"""What keeps programs.html small and quick to build at any corpus size: the bounds, the ranking rules, and the
one walk over the graph that all three views share.

Why bounded: the page inlines all its data (it is opened from file:// offline). Drawn whole, 1,000 synthetic
reports gave a 57 MB page (30 MB of it quoted sentences in the side-panel facts) and 10,000 would give
~550 MB, which no browser opens; vis-network's physics layout of thousands of nodes would take minutes
anyway. So each view draws at most the sizes below, picked by a stated ranking, and says what it leaves out
("显示 X / Y …"); search and filters then work on what is drawn, and `kg viz --province/--program` narrows
the graph to see the rest whole. A graph within the bounds (the five seeds, a county's reports) is drawn
whole, exactly as before. With these bounds the page is ~4 MB at 1,000 reports or more (0.47 MB of it
vis-network) and the network tab lays out in a few seconds.

Why one walk: 10,000 reports make a graph of ~1.3 M edges; the views used to walk all of them three times,
so `index_graph` sorts out the few edge types they read once.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from kg.graph import Edge, PropertyGraph

# Town–program network. The five seeds have 181 programs, 5 towns and 205 links: drawn whole.
NET_PROGRAMS = 200  # most-shared programs kept; a canvas with ~200 labelled dots is still readable
NET_TOWNS = 150  # towns kept (most links to the kept programs first)
NET_LINKS = 2500  # town–program links kept: ~0.5 KB of page each (edge, two panel entries, its quotes once)
LINK_QUOTES = 3  # quoted sentences per town–program link (one per report; a town may have many years)


@dataclass(slots=True)
class GraphIndex:
    """The edges the views read, sorted by type in graph order (one walk over `pg.edges`)."""

    implements: list[Edge] = field(default_factory=list)  # IMPLEMENTS, in graph order
    up: dict[str, list[str]] = field(default_factory=dict)  # SUBORDINATE_TO / PART_OF: node → superiors
    reports: dict[str, list[str]] = field(default_factory=dict)  # ABOUT: town → reports
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (town, HAS_PROJECT|HOSTS|REPORTS) → n
    obs_town: dict[str, str] = field(default_factory=dict)  # REPORTS: observation → town
    obs_ind: dict[str, str] = field(default_factory=dict)  # MEASURES: observation → indicator


def index_graph(pg: PropertyGraph) -> GraphIndex:
    """One walk over the edges; later edges win in the observation maps, as the views always had it."""
    idx = GraphIndex()
    impl, up, reports, counts = idx.implements, idx.up, idx.reports, idx.counts
    obs_town, obs_ind = idx.obs_town, idx.obs_ind
    for e in pg.edges.values():
        t = e.type
        if t == "IMPLEMENTS":
            impl.append(e)
        elif t == "MEASURES":
            obs_ind[e.src] = e.dst
        elif t == "REPORTS":
            obs_town[e.dst] = e.src
            counts[(e.src, t)] += 1
        elif t in ("HAS_PROJECT", "HOSTS"):
            counts[(e.src, t)] += 1
        elif t in ("SUBORDINATE_TO", "PART_OF"):
            up.setdefault(e.src, []).append(e.dst)
        elif t == "ABOUT":
            reports.setdefault(e.dst, []).append(e.src)
    return idx


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while the page data is made.

    Why: making it allocates ~10⁵ small dicts and lists, and each burst of allocations triggers
    collections that walk every object the build holds — the whole graph, millions of objects at 10,000
    reports — which cost more than the page itself. The page data makes no reference cycles, so nothing is
    left for the collector to find; it runs again (and catches up) as soon as the block ends.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class ReportLabels:
    """report id → "2023年 <title>", memoized: the same few thousand reports are quoted ~10⁵ times."""

    def __init__(self, pg: PropertyGraph) -> None:
        self.pg = pg
        self.memo: dict[str, str] = {}

    def __call__(self, rid: str) -> str:
        got = self.memo.get(rid)
        if got is None:
            r = self.pg.nodes.get(rid)
            if r is None:
                got = rid
            else:
                year = f"{r.props['year']}年 " if r.props.get("year") else ""
                got = year + str(r.props.get("title") or r.props.get("file") or rid)
            self.memo[rid] = got
        return got


class Quotes:
    """The quoted sentences of a link: inline (`{"sentences": [...]}`, the shape small pages always had) or,
    on a bounded page, stored once in `table` and pointed to (`{"q": i}`) from both ends' panels — every
    link is listed by its two nodes, so this halves the largest part of the page."""

    def __init__(self, shared: bool) -> None:
        self.shared = shared
        self.table: list[list[dict[str, str]]] = []
        self.at: dict[Any, int] = {}

    def link(self, key: Any, sentences: list[dict[str, str]]) -> dict[str, Any]:
        if not self.shared:
            return {"sentences": sentences}
        i = self.at.get(key)
        if i is None:
            i = self.at[key] = len(self.table)
            self.table.append(sentences)
        return {"q": i}


def bound_network(prog_towns: dict[str, list[str]], town_progs: dict[str, list[str]],
                  n_towns: int) -> tuple[set[str], set[str], dict[str, Any]] | None:
    """(programs, towns, limits) to draw when the network is over the bounds, else None (draw it whole).

    Rule: the `NET_PROGRAMS` programs named by most towns (ties by id); then towns by how many of those
    programs they implement (ties by id), in that order until `NET_TOWNS` towns or `NET_LINKS` links;
    a kept program none of whose towns made it is dropped (it would float unconnected).
    """
    n_links = sum(len(v) for v in town_progs.values())
    if len(prog_towns) <= NET_PROGRAMS and n_towns <= NET_TOWNS and n_links <= NET_LINKS:
        return None
    top = set(sorted(prog_towns, key=lambda p: (-len(prog_towns[p]), p))[:NET_PROGRAMS])
    score = Counter(chain.from_iterable(prog_towns[p] for p in top))  # town → links to the top programs
    towns: set[str] = set()
    links = 0
    for t in sorted(score, key=lambda t: (-score[t], t)):
        if len(towns) == NET_TOWNS or links + score[t] > NET_LINKS:
            break
        towns.add(t)
        links += score[t]
    programs = {p for p in top if any(t in towns for t in prog_towns[p])}
    text = (f"大图已截取：显示被最多镇提及的 {len(programs)} / {len(prog_towns)} 项政策/工程，"
            f"及实施其中最多项的 {len(towns)} / {n_towns} 个镇（{links} / {n_links} 条连线）。"
            "搜索与筛选只在所示节点中进行；用 kg viz --province / --program 缩小范围可看全。")
    return programs, towns, {"text": text, "programs": [len(programs), len(prog_towns)],
                             "towns": [len(towns), n_towns], "links": [links, n_links]}
