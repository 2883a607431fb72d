"""The co-occurrence and indicator views, the static pictures and `kg viz --format` (no browser here).

Graphs and reports are made by hand so each rule is pinned alone: paragraphs come from a real file read
back through kg.read/kg.document (the same path a build takes), the rest from hand-built graphs.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kg.viz_static
from cli import app
from kg.build import extraction_json
from kg.graph import PropertyGraph, build_graph, report_id
from kg.model import Extraction, Government, Program, Provenance, ReportMeta
from kg.viz import build_page_data, write_program_network, write_views
from kg.viz_cooc import LONG_PARAGRAPH, build_cooc_view, communities, cooccurrence_graph, mention_units
from kg.viz_indicators import chart_svg, comparable_groups, fmt, scale_for
from tests.conftest import make_extraction

REPORT = """青溪镇2023年政府工作报告
各位代表：
一、2022年工作回顾
深入实施乡村振兴战略，全面落实河长制。扎实推进千万工程。
持续深化“最多跑一次”改革，推进放管服改革。
"""


def _extraction(path: Path, text: str, programs: list[str], town: str = "青溪镇") -> Extraction:
    """What the extractor would record: each program's first mention as raw offsets, plus its sentence."""
    path.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def prov(name: str) -> Provenance:
        i = text.index(name)
        a = max(text.rfind("。", 0, i), text.rfind("\n", 0, i)) + 1
        b = min(x for x in (text.find("。", i) + 1, text.find("\n", i)) if x > 0)
        return Provenance(path.name, sha, i, i + len(name), name, text[a:b].strip(), "test@1")

    return Extraction(meta=ReportMeta(file=path.name, path=str(path), sha256=sha, report_year=2023),
                      town=Government(town, "镇"), superiors=[Government("岱山县", "县")],
                      programs=[Program(p, p, prov=prov(p)) for p in programs])


PROGS = ["乡村振兴", "河长制", "千万工程", "最多跑一次", "放管服"]


def test_paragraphs_from_the_report_file(tmp_path: Path) -> None:
    ex = _extraction(tmp_path / "r.txt", REPORT, PROGS)
    g = build_graph([ex])
    rid = report_id(ex.meta.sha256)
    units = mention_units(g, [ex])
    para = {p: units[(rid, f"program:{p}")] for p in PROGS}
    assert para["乡村振兴"] == para["河长制"] == para["千万工程"]  # one paragraph, two sentences
    assert para["最多跑一次"] == para["放管服"] != para["乡村振兴"]
    cg = cooccurrence_graph(g, units)
    assert cg.has_edge("program:乡村振兴", "program:千万工程")
    assert not cg.has_edge("program:乡村振兴", "program:放管服")


def test_sentence_fallback_without_the_file(tmp_path: Path) -> None:
    ex = _extraction(tmp_path / "r.txt", REPORT, PROGS)
    g = build_graph([ex])
    (tmp_path / "r.txt").write_text(REPORT + "改过了。", encoding="utf-8")  # changed since the build: not used
    for units in (mention_units(g), mention_units(g, [ex])):
        cg = cooccurrence_graph(g, units)
        assert cg.has_edge("program:乡村振兴", "program:河长制")  # same sentence
        assert not cg.has_edge("program:乡村振兴", "program:千万工程")  # next sentence


def test_flattened_report_uses_sentences(tmp_path: Path) -> None:
    filler = "全镇上下团结一心，各项事业取得新进展。" * (LONG_PARAGRAPH // 18)
    text = "青溪镇政府工作报告\n各位代表：" + filler + "深入实施乡村振兴战略。" + filler + "全面落实河长制，推进放管服改革。"
    ex = _extraction(tmp_path / "flat.txt", text, ["乡村振兴", "河长制", "放管服"])
    cg = cooccurrence_graph(build_graph([ex]), mention_units(build_graph([ex]), [ex]))
    assert {frozenset(e) for e in cg.edges} == {frozenset({"program:河长制", "program:放管服"})}


def _two_towns(tmp_path: Path) -> tuple[PropertyGraph, list[Extraction]]:
    a = _extraction(tmp_path / "a.txt", REPORT, PROGS)
    b_text = REPORT.replace("青溪镇", "新杭镇").replace("千万工程", "美丽乡村")
    b = _extraction(tmp_path / "b.txt", b_text, ["乡村振兴", "河长制", "美丽乡村", "最多跑一次", "放管服"], "新杭镇")
    return build_graph([a, b]), [a, b]


def test_weights_filters_and_communities(tmp_path: Path) -> None:
    g, exs = _two_towns(tmp_path)
    units = mention_units(g, exs)
    cg = cooccurrence_graph(g, units)
    assert cg.edges["program:乡村振兴", "program:河长制"]["weight"] == 2  # named together in both reports
    assert cg.edges["program:乡村振兴", "program:千万工程"]["weight"] == 1
    assert cg.nodes["program:乡村振兴"]["towns"] == 2
    comms = communities(cg)
    assert comms == communities(cg)  # seeded: same colours every build
    assert {"program:最多跑一次", "program:放管服"} in [set(c) for c in comms]
    one = cooccurrence_graph(g, units, towns={"town:新杭镇"})
    assert "program:千万工程" not in one and "program:美丽乡村" in one
    ego = cooccurrence_graph(g, units, program="放管")
    assert set(ego) == {"program:放管服", "program:最多跑一次"}


def test_cooc_view_colours_and_evidence(tmp_path: Path) -> None:
    g, exs = _two_towns(tmp_path)
    view = build_cooc_view(g, mention_units(g, exs))
    nodes = {n["label"]: n for n in view["nodes"]}
    assert nodes["乡村振兴"]["color"] == nodes["千万工程"]["color"] != "#b9b9b9"  # community of 4
    assert nodes["放管服"]["color"] == "#b9b9b9"  # a pair: grey, not in the legend
    assert [c["size"] for c in view["groups"]] == [4]
    assert nodes["乡村振兴"]["size"] > nodes["千万工程"]["size"]  # two towns name it
    link = next(x for x in view["facts"]["program:乡村振兴"]["links"] if x["name"] == "河长制")
    assert link["stance"] == "同段 2 次"
    assert "深入实施乡村振兴战略，全面落实河长制。" in {s["text"] for s in link["sentences"]}
    assert view["stats"] == {"programs": 6, "shown": 6, "isolated": 0, "communities": 2}


def _indicator_graph() -> PropertyGraph:
    g = PropertyGraph()
    towns = {"town:a": "甲镇", "town:b": "乙镇", "town:c": "丙镇"}
    for tid, name in towns.items():
        g.add_node(tid, "Town", name=name)
    g.add_node("indicator:财政总收入", "Indicator", name="财政总收入")
    rows = [("town:a", "财政总收入", 1.89, "亿元", 1.89e8, "CNY", "2022", "actual"),
            ("town:a", "镇本级财政总收入", 1.5, "亿元", 1.5e8, "CNY", "2022", "actual"),  # exact wording wins
            ("town:b", "财政收入", 9980, "万元", 9.98e7, "CNY", "2022", "actual"),
            ("town:c", "财政总收入", 3, "亿美元", 3e8, "USD", "2022", "actual"),  # not yuan: left out
            ("town:c", "财政总收入", 2.0, "亿元", 2e8, "CNY", "2022-01..2022-10", "actual"),  # other period
            ("town:b", "财政总收入", 1.2, "亿元", 1.2e8, "CNY", "2023", "target")]  # one town only
    for i, (tid, name, v, unit, norm, nu, period, kind) in enumerate(rows):
        oid = f"obs:{i}"
        g.add_node(oid, "Observation", name=name, value=v, unit=unit, normalized=norm, normalized_unit=nu,
                   period=period, kind=kind, sentence=f"<b>{name}</b>达到{v}{unit}。", report="report:x", start=i)
        g.add_edge(tid, "REPORTS", oid, report="report:x")
        g.add_edge(oid, "MEASURES", "indicator:财政总收入", report="report:x")
    return g


def test_indicator_groups_compare_like_with_like() -> None:
    towns = {t: {"label": t[-1], "color": "#123456"} for t in ("town:a", "town:b", "town:c")}
    groups = comparable_groups(_indicator_graph(), towns)
    assert len(groups) == 1
    grp = groups[0]
    assert (grp["concept"], grp["period"], grp["kind"], grp["unit"]) == ("财政总收入", "2022", "actual", "亿元")
    assert [(b["town"], b["shown"]) for b in grp["bars"]] == [("town:a", "1.89"), ("town:b", "0.998")]
    assert grp["bars"][0]["wording"] == "财政总收入 1.89 亿元"
    assert comparable_groups(_indicator_graph(), {"town:a": towns["town:a"]}) == []


def test_chart_svg_is_escaped_and_scaled() -> None:
    towns = {t: {"label": "<i>" + t, "color": "#123456"} for t in ("town:a", "town:b")}
    svg = chart_svg(comparable_groups(_indicator_graph(), towns)[0])
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "<i>" not in svg
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert widths[0] > widths[1] and abs(widths[1] / widths[0] - 0.998 / 1.89) < 0.01
    assert scale_for([5e3]) == (1.0, "元") and scale_for([2e4]) == (1e4, "万元") and fmt(2316.4) == "2,316"


def test_page_holds_all_three_views(tmp_path: Path) -> None:
    g, exs = _two_towns(tmp_path)
    page = write_program_network(g, tmp_path / "p.html", extractions=exs)
    text = page.read_text("utf-8")
    for marker in ('id="v-net"', 'id="v-cooc"', 'id="v-ind"', "政策共现与社群", "指标对比"):
        assert marker in text
    assert text.count("</script>") == 3
    data = build_page_data(g, extractions=exs)
    assert {"nodes", "edges", "facts", "groups", "cooc", "indicators"} <= set(data)
    assert len(text.encode()) < 1_000_000  # the page stays light (vis-network is ~470 KB of it)


def test_static_pictures_with_a_cjk_font(tmp_path: Path) -> None:
    assert kg.viz_static.cjk_font(), ("no CJK font for matplotlib: `make test` installs Debian "
                                      "fonts-wqy-microhei (Makefile SYSTEM_PACKAGES)")
    g, exs = _two_towns(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", kg.viz_static.CJKFontWarning)
        pngs = write_views(g, tmp_path / "fig.png", "png", extractions=exs)
        svgs = write_views(g, tmp_path / "fig.svg", "svg", extractions=exs)
    assert [p.name for p in pngs] == ["fig-network.png", "fig-cooccurrence.png", "fig-indicators.png"]
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
    for p in svgs:
        text = p.read_text("utf-8")
        assert text.lstrip().startswith("<?xml") and "<path" in text  # glyphs stored as paths


def test_missing_cjk_font_warns_and_still_draws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kg.viz_static, "cjk_font", lambda: None)
    g, _ = _two_towns(tmp_path)
    with pytest.warns(kg.viz_static.CJKFontWarning, match="fonts-wqy-microhei"):
        paths = write_views(g, tmp_path / "x.png", "png")
    assert all(p.is_file() for p in paths)


def test_cli_format_png_and_font_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = tmp_path / "build"
    build.mkdir()
    lines = [make_extraction("a.txt"), make_extraction("b.txt", "新杭镇", ("广德市", "宣城市", "安徽省"))]
    (build / "extractions.jsonl").write_text("".join(extraction_json(e) + "\n" for e in lines), "utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["viz", "--build", str(build), "--format", "svg", "--out", str(tmp_path / "f.svg")])
    assert res.exit_code == 0, res.output
    assert res.stdout.count("Visualization:") == 3 and (tmp_path / "f-indicators.svg").is_file()
    monkeypatch.setattr(kg.viz_static, "cjk_font", lambda: None)
    res = runner.invoke(app, ["viz", "--build", str(build), "-f", "png"])
    assert res.exit_code == 0 and "warning: no CJK font" in res.stderr
    assert (build / "programs-network.png").is_file()
    res = runner.invoke(app, ["viz", "--build", str(build), "--format", "gif"])
    assert res.exit_code == 2


def test_cjk_font_found_when_matplotlib_cache_predates_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib caches its font list once; a font apt installed later is only on disk. It must be found."""
    from matplotlib import font_manager as fm

    stale = [f for f in fm.fontManager.ttflist if f.name not in kg.viz_static.CJK_FAMILIES]
    monkeypatch.setattr(fm.fontManager, "ttflist", stale)
    family = kg.viz_static.cjk_font()
    assert family in kg.viz_static.CJK_FAMILIES, "no CJK font on disk: `make test` installs fonts-wqy-microhei"
    assert any(f.name == family for f in fm.fontManager.ttflist)  # registered again
