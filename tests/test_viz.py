"""kg.viz: the page is self-contained, carries the right data, and the filters narrow it.

The graph is built by hand (no extractor), so these tests pin the drawing logic alone and run in well under
a second; the embedded `kg-data` JSON block is parsed back instead of driving a browser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kg.graph import PropertyGraph
from kg.viz import build_view, write_program_network

SENT_A = "新杭镇深入实施乡村振兴战略，打造和美乡村。"


def _graph() -> PropertyGraph:
    """新杭镇 and 桃州镇 (安徽: 广德市 → 宣城市 → 安徽省) share 乡村振兴; 塘栖镇 (浙江, code only) plans 千万工程."""
    g = PropertyGraph()
    g.add_node("report:a", "Report", file="a.txt", title="新杭镇政府工作报告", year=2023)
    g.add_node("report:b", "Report", file="b.txt", title="桃州镇政府工作报告", year=2024)
    g.add_node("report:c", "Report", file="c.txt", title="塘栖镇政府工作报告", year=2024)
    g.add_node("gov:341882", "Government", name="广德市", level="市", code="341882")
    g.add_node("gov:341800", "Government", name="宣城市", level="市", code="341800")
    g.add_node("gov:340000", "Government", name="安徽省", level="省", code="340000")
    g.add_node("gov:330110", "Government", name="余杭区", level="区", code="330110")
    g.add_edge("gov:341882", "PART_OF", "gov:341800")
    g.add_edge("gov:341800", "PART_OF", "gov:340000")
    towns = {"新杭镇": ("town:341882:新杭镇", "gov:341882", "report:a"),
             "桃州镇": ("town:341882:桃州镇", "gov:341882", "report:b"),
             "塘栖镇": ("town:330110:塘栖镇", "gov:330110", "report:c")}
    for name, (tid, gid, rid) in towns.items():
        g.add_node(tid, "Town", name=name, level="镇")
        g.add_edge(rid, "ABOUT", tid)
        g.add_edge(tid, "SUBORDINATE_TO", gid, report=rid)
    for name in ("乡村振兴", "千万工程", "河长制"):
        g.add_node(f"program:{name}", "Program", name=name)
    g.add_edge("town:341882:新杭镇", "IMPLEMENTS", "program:乡村振兴", report="report:a", stance="implemented",
               quote="乡村振兴", sentence=SENT_A)
    g.add_edge("town:341882:桃州镇", "IMPLEMENTS", "program:乡村振兴", report="report:b", stance="implemented",
               quote="乡村振兴", sentence="桃州镇全面推进乡村振兴。")
    g.add_edge("town:341882:新杭镇", "IMPLEMENTS", "program:河长制", report="report:a", stance="implemented",
               quote="河长制", sentence="全面落实河长制。")
    g.add_edge("town:330110:塘栖镇", "IMPLEMENTS", "program:千万工程", report="report:c", stance="planned",
               quote="千万工程", sentence="明年将深化千万工程</script><script>alert(1)</script>。")
    return g


def _embedded(path: Path) -> dict[str, Any]:
    m = re.search(r'<script id="kg-data" type="application/json">(.*?)</script>', path.read_text("utf-8"),
                  re.DOTALL)
    assert m, "data block missing"
    return json.loads(m.group(1))


def _by_label(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["label"]: n for n in data["nodes"]}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_program_network(_graph(), tmp_path_factory.mktemp("viz") / "sub" / "net.html")


def test_file_is_self_contained(page: Path) -> None:
    text = page.read_text("utf-8")
    assert page.is_file() and text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.IGNORECASE)
    assert "<link" not in text and "@import" not in text
    assert "new vis.Network" in text and "vis.DataSet" in text  # vis-network is inlined, not fetched
    # Report text cannot close the data <script>: exactly 3 script blocks (vis, data, app).
    assert text.count("</script>") == 3


def test_names_present(page: Path) -> None:
    text = page.read_text("utf-8")
    for name in ("新杭镇", "桃州镇", "塘栖镇", "乡村振兴", "千万工程", "河长制"):
        assert name in text


def test_shared_program_stands_out(page: Path) -> None:
    nodes = _by_label(_embedded(page))
    shared, single = nodes["乡村振兴"], nodes["河长制"]
    assert shared["towns"] == 2 and single["towns"] == 1
    assert shared["size"] > single["size"]
    assert shared["color"] != single["color"]


def test_town_colour_from_nearest_city(page: Path) -> None:
    data = _embedded(page)
    nodes = _by_label(data)
    assert nodes["新杭镇"]["city"] == "广德市"  # nearest 市, not 宣城市
    assert nodes["新杭镇"]["color"] == nodes["桃州镇"]["color"]
    assert nodes["塘栖镇"]["city"] == "余杭区"  # no 市/省 known: nearest superior
    assert nodes["塘栖镇"]["color"] != nodes["新杭镇"]["color"]
    assert {g["name"] for g in data["groups"]} == {"广德市", "余杭区"}


def test_edges_and_facts(page: Path) -> None:
    data = _embedded(page)
    stances = {(e["from"], e["to"]): (e["label"], e["dashes"]) for e in data["edges"]}
    assert stances[("town:341882:新杭镇", "program:乡村振兴")] == ("已实施", False)
    assert stances[("town:330110:塘栖镇", "program:千万工程")] == ("计划", True)
    town = data["facts"]["town:341882:新杭镇"]
    rows = dict(town["rows"])
    assert rows["上级"] == "广德市 › 宣城市 › 安徽省" and rows["省份"] == "安徽省"
    assert "2023年 新杭镇政府工作报告" in rows["报告"]
    sents = [s["text"] for link in town["links"] for s in link["sentences"]]
    assert SENT_A in sents
    prog = data["facts"]["program:乡村振兴"]
    assert {link["name"] for link in prog["links"]} == {"新杭镇", "桃州镇"}
    assert dict(data["facts"]["town:330110:塘栖镇"]["rows"])["省份"] == "浙江"  # from the division code


def test_province_filter(tmp_path: Path) -> None:
    g = _graph()
    full = _by_label(build_view(g))
    for wanted in ("安徽", "安徽省"):
        out = write_program_network(g, tmp_path / f"{wanted}.html", province=wanted)
        nodes = _by_label(_embedded(out))
        assert set(nodes) == {"新杭镇", "桃州镇", "乡村振兴", "河长制"}
        assert len(nodes) < len(full)
    assert set(_by_label(build_view(g, province="浙江"))) == {"塘栖镇", "千万工程"}  # code-derived province
    assert build_view(g, province="西藏")["nodes"] == []


def test_program_filter(tmp_path: Path) -> None:
    g = _graph()
    out = write_program_network(g, tmp_path / "p.html", program="乡村振兴")
    data = _embedded(out)
    assert set(_by_label(data)) == {"新杭镇", "桃州镇", "乡村振兴"}
    assert {e["to"] for e in data["edges"]} == {"program:乡村振兴"}
    both = build_view(g, province="浙江", program="乡村振兴")
    assert both["nodes"] == [] and both["edges"] == []
    assert "乡村振兴" in out.read_text("utf-8").split("<title>")[1].split("</title>")[0]


def test_duplicate_town_names_disambiguated() -> None:
    g = _graph()
    g.add_node("gov:320000", "Government", name="苏州市", level="市", code="320500")
    g.add_node("town:320500:新杭镇", "Town", name="新杭镇", level="镇")
    g.add_edge("town:320500:新杭镇", "SUBORDINATE_TO", "gov:320000")
    labels = {n["label"] for n in build_view(g)["nodes"] if n["kind"] == "town"}
    assert {"新杭镇（广德市）", "新杭镇（苏州市）"} <= labels


def test_kg_viz_redraws_the_builds_page_without_the_report_files(tmp_path: Path) -> None:
    """`kg viz` takes co-occurrence units from the build's manifest, so it draws the page `kg build` drew even
    after the report files are gone (it would otherwise fall back to sentences for co-occurrence)."""
    import shutil

    from typer.testing import CliRunner

    from cli import app
    from kg.build import build

    src = tmp_path / "reports"
    shutil.copytree(Path(__file__).resolve().parents[1] / "seeds", src)
    out = tmp_path / "build"
    build([src], out, validate=False)
    shutil.rmtree(src)
    res = CliRunner().invoke(app, ["viz", "--build", str(out), "--out", str(tmp_path / "again.html")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "again.html").read_bytes() == (out / "programs.html").read_bytes()
