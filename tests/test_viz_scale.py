"""programs.html stays bounded on a large graph (and says what it leaves out); a small graph is drawn whole.

The large graph is built the way a build builds it (`build_graph` over extractions), from 400 generated
town reports: programs drawn with Zipf-like popularity, four to a paragraph (the co-occurrence units a build
hands the page), and one 财政总收入 figure per town — half of them for the same year (one 200-town chart),
the rest spread over 50 years. Each bounded view is checked against the same graph drawn whole
(`bounded=False`): what is kept is the top of the stated ranking, with the same facts.
"""

from __future__ import annotations

import gc
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from kg.extract import extract_file
from kg.graph import PropertyGraph, build_graph, report_id
from kg.viz import build_page_data, write_program_network
from kg.viz_cooc import MAX_NODES, MAX_PAIRS, PAIR_QUOTES, cooccurrence_graph
from kg.viz_indicators import MAX_BARS, MAX_CHARTS
from kg.viz_select import LINK_QUOTES, NET_LINKS, NET_PROGRAMS, NET_TOWNS
from tests.conftest import make_extraction

ROOT = Path(__file__).resolve().parents[1]
TOWNS, PROGRAMS, PER_TOWN = 400, 900, 24


def large_graph() -> tuple[PropertyGraph, dict[tuple[str, str], str]]:
    """400 towns, 900 programs (~9,000 links), their paragraphs; deterministic."""
    rnd = random.Random(8)
    names = [f"政策{j:03d}工程" for j in range(PROGRAMS)]
    weights = [1 / (j + 1) for j in range(PROGRAMS)]
    exs, units = [], {}
    for i in range(TOWNS):
        progs = tuple(dict.fromkeys(rnd.choices(names, weights, k=PER_TOWN)))
        year = 2024 if i % 2 else 1900 + i % 100 // 2  # odd towns: one big group; even: 50 groups of 4
        ex = make_extraction(f"r{i}.txt", f"青{i:03d}镇", year=year, programs=progs)
        rid = report_id(ex.meta.sha256)
        units.update({(rid, f"program:{p}"): f"p:{k // 4}" for k, p in enumerate(progs)})
        exs.append(ex)
    return build_graph(exs), units


@pytest.fixture(scope="module")
def big() -> tuple[PropertyGraph, dict[tuple[str, str], str]]:
    return large_graph()


@pytest.fixture(scope="module")
def bounded(big: tuple[PropertyGraph, dict[tuple[str, str], str]]) -> dict[str, Any]:
    return build_page_data(big[0], units=big[1])


@pytest.fixture(scope="module")
def whole(big: tuple[PropertyGraph, dict[tuple[str, str], str]]) -> dict[str, Any]:
    return build_page_data(big[0], units=big[1], bounded=False)


def _quotes(view: dict[str, Any], link: dict[str, Any]) -> list[dict[str, str]]:
    """A link's sentences whether inline (small pages) or in the view's shared table (bounded pages)."""
    return link["sentences"] if "sentences" in link else view["quotes"][link["q"]]


def test_network_keeps_the_most_shared_programs(bounded: dict[str, Any], whole: dict[str, Any]) -> None:
    progs = [n for n in bounded["nodes"] if n["kind"] == "program"]
    towns = [n for n in bounded["nodes"] if n["kind"] == "town"]
    all_progs = [n for n in whole["nodes"] if n["kind"] == "program"]
    assert len(all_progs) > NET_PROGRAMS and len(whole["edges"]) > NET_LINKS  # the graph is over the bounds
    assert 0 < len(progs) <= NET_PROGRAMS and 0 < len(towns) <= NET_TOWNS and len(bounded["edges"]) <= NET_LINKS
    top = {n["id"] for n in sorted(all_progs, key=lambda n: (-n["towns"], n["id"]))[:NET_PROGRAMS]}
    assert {n["id"] for n in progs} <= top
    assert max(all_progs, key=lambda n: n["towns"])["id"] in {n["id"] for n in progs}
    full = {n["id"]: n for n in whole["nodes"]}
    assert all(n == full[n["id"]] for n in bounded["nodes"])  # drawn as they would be in the whole graph
    shown = {n["id"] for n in bounded["nodes"]}
    assert all(e["from"] in shown and e["to"] in shown for e in bounded["edges"])
    ends = {x for e in bounded["edges"] for x in (e["from"], e["to"])}
    assert ends == shown  # nothing floats unconnected
    # Towns: most links to the kept programs first, so no left-out town beats a kept one.
    kept = {n["id"] for n in progs}
    links = {t["id"]: sum(x["id"] in kept for x in whole["facts"][t["id"]]["links"])
             for t in whole["nodes"] if t["kind"] == "town"}
    assert min(links[t["id"]] for t in towns) >= max(v for k, v in links.items() if k not in shown)
    lim = bounded["limits"]
    assert lim["programs"] == [len(progs), len(all_progs)] and lim["links"] == [len(bounded["edges"]),
                                                                                 len(whole["edges"])]
    assert f"{len(progs)} / {len(all_progs)} 项政策/工程" in lim["text"]


def test_network_facts_are_the_whole_graphs(bounded: dict[str, Any], whole: dict[str, Any]) -> None:
    shown = {n["id"] for n in bounded["nodes"]}
    for nid, fact in bounded["facts"].items():
        full = whole["facts"][nid]
        assert fact["rows"] == full["rows"]  # counts are over the whole graph, not what is drawn
        same = {x["id"]: x for x in full["links"]}
        assert [x["id"] for x in fact["links"]] == [x["id"] for x in full["links"] if x["id"] in shown]
        for x in fact["links"]:
            assert _quotes(bounded, x) == same[x["id"]]["sentences"][:LINK_QUOTES]
    assert len(bounded["quotes"]) == len(bounded["edges"])  # each link's sentences stored once


def test_cooccurrence_keeps_the_strongest_pairs(big: tuple[PropertyGraph, dict[tuple[str, str], str]],
                                                bounded: dict[str, Any]) -> None:
    g, units = big
    full = cooccurrence_graph(g, units, bounded=False)
    cut = cooccurrence_graph(g, units)
    assert full.number_of_nodes() > MAX_NODES or full.number_of_edges() > MAX_PAIRS
    order = sorted(full.edges(data="weight"), key=lambda x: (-x[2], *sorted(x[:2])))
    kept = [tuple(sorted((a, b))) for a, b, _ in order[:cut.number_of_edges()]]
    assert sorted(tuple(sorted(e)) for e in cut.edges) == sorted(kept)  # a prefix of the ranking
    assert cut.number_of_edges() <= MAX_PAIRS and cut.number_of_nodes() <= MAX_NODES
    for a, b, d in cut.edges(data=True):
        assert d["weight"] == full.edges[a, b]["weight"]
        assert d["evidence"] == full.edges[a, b]["evidence"][:PAIR_QUOTES]
    view = bounded["cooc"]
    assert view["limits"]["pairs"] == [cut.number_of_edges(), full.number_of_edges()]
    assert view["stats"]["shown"] == cut.number_of_nodes() == len(view["nodes"])
    assert view["stats"]["isolated"] == view["stats"]["programs"] - full.number_of_nodes()
    link = view["facts"][view["nodes"][0]["id"]]["links"][0]
    assert 0 < len(_quotes(view, link)) <= 2 * PAIR_QUOTES


def test_indicator_charts_keep_the_largest_groups(bounded: dict[str, Any], whole: dict[str, Any]) -> None:
    charts, all_charts = bounded["indicators"], whole["indicators"]
    assert len(all_charts) > MAX_CHARTS and len(charts) == MAX_CHARTS
    assert [(c["concept"], c["period"]) for c in charts] == [(c["concept"], c["period"]) for c in all_charts][:MAX_CHARTS]
    big_chart = charts[0]
    assert big_chart["period"] == "2023" and big_chart["towns"] == TOWNS // 2
    assert big_chart["bars"] == all_charts[0]["bars"][:MAX_BARS]  # the largest values, worded the same
    assert all(len(c["bars"]) <= MAX_BARS for c in charts)
    assert bounded["indicatorLimits"]["charts"] == [MAX_CHARTS, len(all_charts)]


def test_bounded_page_says_what_it_leaves_out(big: tuple[PropertyGraph, dict[tuple[str, str], str]],
                                              tmp_path: Path) -> None:
    page = write_program_network(big[0], tmp_path / "big.html", units=big[1])
    text = page.read_text("utf-8")
    data = json.loads(re.search(r'<script id="kg-data" type="application/json">(.*?)</script>', text,
                                re.DOTALL).group(1))
    assert data["limits"]["text"].startswith("大图已截取") and data["cooc"]["limits"]["text"].startswith("大图已截取")
    assert f'<p class="note limit">{data["indicatorLimits"]["text"]}</p>' in text  # shown above the charts
    assert "数值最大的 25 个镇，共 200 个" in text  # the cut chart says so under its title
    assert "data.limits" in text and "data.quotes[l.q]" in text  # the app shows the note and shared quotes
    assert text.count("</script>") == 3
    assert len(text.encode()) < 4_000_000
    assert gc.isenabled()


def test_seeds_are_drawn_whole() -> None:
    """The five seed reports are within every bound: the page is the whole graph, as it always was."""
    exs = [extract_file(p) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    g = build_graph(exs)
    data = build_page_data(g, extractions=exs)
    assert data == build_page_data(g, extractions=exs, bounded=False)
    assert not {"limits", "quotes", "indicatorLimits"} & set(data) and not {"limits", "quotes"} & set(data["cooc"])
    assert all("sentences" in x for f in data["facts"].values() for x in f["links"])
    assert all("towns" not in c for c in data["indicators"])
    assert len([n for n in data["nodes"] if n["kind"] == "program"]) > 150  # close to the bound, still whole
