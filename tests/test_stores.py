"""Stores agree with each other on a small hand-built graph, and its RDF conforms to the shapes."""

from __future__ import annotations

import copy
from pathlib import Path

import pyarrow as pa
import pyoxigraph
import pytest

from kg.graph import EDGE_TYPES, LABELS, PropertyGraph, build_graph
from kg.model import Extraction, Government, Indicator, Program, Provenance, ReportMeta
from kg.rdf import ONTOLOGY_PATH, RDF_TYPE, TK, edge_predicate, graph_to_quads, node_iri, shacl_validate
from kg.stores.base import GraphSink, graph_counts
from kg.stores.ladybug_arrow import arrow_table, column
from kg.stores.ladybug_store import SCHEMA_PATH, LadybugSink, schema_ddl
from kg.stores.memory import MemorySink
from kg.stores.oxigraph_store import OxigraphSink

R1, R2 = "report:" + "a" * 16, "report:" + "b" * 16
T1, T2 = "town:330921:岱西镇", "town:330921:衢山镇"
PROG, PROJ, COMP = "program:乡村振兴", "project:0123456789abcdef", "company:上海卓然"
IND, OBS = "indicator:财政总收入", "obs:fedcba9876543210"
SENT = "全年完成财政总收入1.89亿元,同比增长5.2%。"


def prov(report: str, start: int, quote: str) -> dict[str, object]:
    return {"report": report, "file": report[-4:] + ".txt", "start": start, "end": start + len(quote),
            "quote": quote, "sentence": SENT, "extractor": "rules@0.1"}


def hand_graph() -> PropertyGraph:
    """2 reports, 2 towns sharing a county and a program, a project, a company and one observation."""
    g = PropertyGraph()
    for rid, sha, town, name in ((R1, "a", T1, "岱西镇"), (R2, "b", T2, "衢山镇")):
        g.add_node(rid, "Report", file=f"{sha}.txt", sha256=sha * 64, title=f"{name}政府工作报告", year=2023,
                   date="2023-02-10", session="第十八届人民代表大会第四次会议")
        g.add_node(town, "Town", name=name, level="镇")
        g.add_edge(rid, "ABOUT", town)
        g.add_edge(town, "SUBORDINATE_TO", "gov:330921", report=rid, level="县")
        g.add_edge(town, "IMPLEMENTS", PROG, stance="implemented", surface="乡村振兴",
                   **prov(rid, 120, "乡村振兴"))
    g.add_node("gov:330921", "Government", name="岱山县", level="县", code="330921")
    g.add_node("gov:330900", "Government", name="舟山市", level="市", code="330900")
    g.add_edge("gov:330921", "PART_OF", "gov:330900")
    g.add_node(PROG, "Program", name="乡村振兴", definition="实施乡村振兴战略。")
    g.add_node(PROJ, "Project", name="双合旅游提升项目", investment_value=1.2, investment_unit="亿元",
               investment_yuan=120000000.0, status="在建")
    g.add_node(COMP, "Company", name="上海卓然", type="company", aliases="卓然|卓然公司")
    g.add_edge(T1, "HAS_PROJECT", PROJ, **prov(R1, 300, "双合旅游提升项目"))
    g.add_edge(PROJ, "UNDER_PROGRAM", PROG, **prov(R1, 300, "双合旅游提升项目"))
    g.add_edge(PROJ, "INVOLVES", COMP, **prov(R1, 310, "上海卓然"))
    g.add_edge(T1, "HOSTS", COMP, **prov(R1, 310, "上海卓然"))
    g.add_node(IND, "Indicator", name="财政总收入")
    g.add_node(OBS, "Observation", name="财政总收入", value=1.89, unit="亿元", period="2022", growth_pct=5.2,
               kind="actual", normalized=189000000.0, normalized_unit="CNY",
               **prov(R1, 40, "财政总收入1.89亿元"))
    g.add_edge(T1, "REPORTS", OBS, report=R1)
    g.add_edge(OBS, "MEASURES", IND, report=R1)
    g.add_edge(OBS, "FROM_REPORT", R1, report=R1)
    return g


@pytest.fixture
def sinks(tmp_path: Path):
    made = [MemorySink(), OxigraphSink(tmp_path / "ox"),
            LadybugSink(tmp_path / "kg.lbug", buffer_pool_size=64 << 20)]
    yield made
    for s in made:
        s.close()


def test_counts_equal_across_stores(sinks: list[GraphSink]) -> None:
    g = hand_graph()
    expected = graph_counts(g)
    assert (expected["nodes"], expected["edges"]) == (11, 14)
    for s in sinks:
        assert isinstance(s, GraphSink)
        written = s.write(g)
        assert (written["nodes"], written["edges"]) == (11, 14), s.name
        counts = s.counts()
        assert {k: counts[k] for k in expected} == expected, s.name
    ox = sinks[1].counts()
    assert ox["graphs"] == 3  # two reports + the shared entities graph


def test_rewrite_is_idempotent(tmp_path: Path) -> None:
    g = hand_graph()
    once_quads, lb_once = 0, {}
    makers = (MemorySink, lambda: OxigraphSink(tmp_path / "ox"), lambda: LadybugSink(tmp_path / "db.lbug"))
    for make in makers:
        s = make()
        s.write(g)
        once = s.counts()
        once_quads = once.get("quads", once_quads)
        lb_once = once if s.name == "ladybug" else lb_once
        again = s.write(g)
        assert s.counts() == once, s.name
        if s.name != "oxigraph":  # oxigraph reports submitted quads; the set semantics dedupe them
            assert (again["nodes"], again["edges"]) == (0, 0), s.name
        s.close()
    first, second = OxigraphSink(tmp_path / "ox2"), LadybugSink(tmp_path / "db2.lbug")
    for s in (first, second):  # a deep copy into a fresh store: counts depend on content only
        s.write(copy.deepcopy(g))
    assert first.counts()["quads"] == once_quads
    assert second.counts() == lb_once
    first.close()
    second.close()


def test_sparql_answers(tmp_path: Path) -> None:
    with OxigraphSink(tmp_path / "ox") as ox:
        ox.write(hand_graph())
        rows = ox.query("SELECT ?name WHERE { ?t tk:implements ?p . ?p skos:prefLabel '乡村振兴'@zh ."
                        " ?t rdfs:label ?name } ORDER BY ?name")
        assert [r["name"] for r in rows] == ["岱西镇", "衢山镇"]
        rows = ox.query("SELECT ?g ?start ?exact WHERE { GRAPH ?g { ?f a tk:Fact ; rdf:subject ?t ;"
                        " rdf:predicate tk:implements ; tk:start ?start ; tk:quote ?exact } } ORDER BY ?g")
        assert [(r["g"].rsplit("/", 1)[1], r["start"], r["exact"]) for r in rows] == [
            (R1, 120, "乡村振兴"), (R2, 120, "乡村振兴")]
        rows = ox.query("SELECT ?v ?n ?period ?town WHERE { ?o a qb:Observation ; tk:measures/skos:prefLabel"
                        " '财政总收入'@zh ; tk:value ?v ; tk:normalizedValue ?n ; tk:period ?period ;"
                        " tk:refArea/rdfs:label ?town }")
        assert rows == [{"v": 1.89, "n": 189000000.0, "period": "2022", "town": "岱西镇"}]
        chain = ox.query("SELECT ?up WHERE { ?t rdfs:label '岱西镇'@zh ; org:subOrganizationOf+ ?g ."
                         " ?g rdfs:label ?up } ORDER BY ?up")
        assert {r["up"] for r in chain} == {"岱山县", "舟山市"}
        assert ox.query("ASK { GRAPH ?g { ?s ?p ?o } }", union=False) == [{"boolean": True}]


def test_cypher_answers(tmp_path: Path) -> None:
    with LadybugSink(tmp_path / "lb") as lb:
        lb.write(hand_graph())
        rows = lb.query("MATCH (t:Town)-[:IMPLEMENTS]->(p:Program {name: $p})"
                        " RETURN t.name AS town ORDER BY town", {"p": "乡村振兴"})
        assert [r["town"] for r in rows] == ["岱西镇", "衢山镇"]
        rows = lb.query("MATCH (t:Town)-[:REPORTS]->(o:Observation)-[:MEASURES]->(i:Indicator) "
                        "RETURN t.name AS town, i.name AS ind, o.value AS v, o.normalized AS n, o.`end` AS e")
        assert rows == [{"town": "岱西镇", "ind": "财政总收入", "v": 1.89, "n": 189000000.0, "e": 51}]
        rows = lb.query("MATCH (:Project)-[r:INVOLVES]->(c:Company)"
                        " RETURN r.quote AS q, r.report AS rep, c.aliases AS a")
        assert rows == [{"q": "上海卓然", "rep": R1, "a": "卓然|卓然公司"}]
        assert lb.path.name == "townkg.lbug"


def test_incremental_write_fills_gaps_and_adds_columns(tmp_path: Path) -> None:
    g1 = PropertyGraph()
    g1.add_node(PROG, "Program", name="乡村振兴")
    g2 = PropertyGraph()
    g2.add_node(PROG, "Program", name="改名不生效", definition="定义", popularity=3)
    g2.add_node("program:千万工程", "Program", name="千万工程")
    mem, lb = MemorySink(), LadybugSink(tmp_path / "x.lbug")
    for s in (mem, lb):
        s.write(g1)
        assert s.write(g2)["nodes"] == 1
    rows = lb.query("MATCH (p:Program) RETURN p.id AS id, p.name AS name, p.definition AS d,"
                    " p.popularity AS n ORDER BY id")
    want = {PROG: ("乡村振兴", "定义", 3), "program:千万工程": ("千万工程", None, None)}
    assert {r["id"]: (r["name"], r["d"], r["n"]) for r in rows} == want
    assert mem.graph.nodes[PROG].props == {"name": "乡村振兴", "definition": "定义", "popularity": 3}
    lb.close()


def test_schema_drops_are_consistent(tmp_path: Path) -> None:
    g = hand_graph()
    g.add_edge(T1, "IMPLEMENTS", "program:不存在", report=R1)  # dangling endpoint
    g.add_edge(T1, "HOSTS", PROG, report=R1)  # wrong label for the rel table
    g.add_node("x:1", "Village", name="某村")  # label outside the schema
    sinks = [MemorySink(), OxigraphSink(tmp_path / "o"), LadybugSink(tmp_path / "l.lbug")]
    for s in sinks:
        w = s.write(g)
        assert (w["skipped_nodes"], w["skipped_edges"]) == (1, 2)
        assert (s.counts()["nodes"], s.counts()["edges"]) == (11, 14)
        s.close()


def test_iris_are_deterministic_and_safe() -> None:
    a, b = node_iri("program:A/B#1 %"), node_iri("program:A%2FB#1 %")
    assert a != b and " " not in a.value and "#" not in a.value
    assert node_iri(T1).value == "https://townkg.org/id/town:330921:%E5%B2%B1%E8%A5%BF%E9%95%87"
    assert graph_to_quads(hand_graph()) == graph_to_quads(hand_graph())


def test_shacl_conforms_and_catches_broken_observation() -> None:
    ok, report = shacl_validate(graph_to_quads(hand_graph()))
    assert ok, report
    broken = hand_graph()
    for key in ("value", "growth_pct", "period"):
        del broken.nodes[OBS].props[key]
    broken.nodes[COMP].props["type"] = "bank"
    ok, report = shacl_validate(graph_to_quads(broken))
    assert not ok
    assert "tk:period" in report or "townkg.org/ns#period" in report
    assert "measure" in report and "bank" in report


def test_schema_file_is_generated() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_ddl()


def test_every_emitted_term_is_in_the_ontology() -> None:
    ontology = {str(t.subject.value) for t in pyoxigraph.parse(path=str(ONTOLOGY_PATH))}
    emitted = set()
    for quad in graph_to_quads(hand_graph()):
        emitted.add(quad.predicate.value)
        if quad.predicate == RDF_TYPE:
            emitted.add(quad.object.value)
    emitted.update(edge_predicate(t).value for t in EDGE_TYPES)
    own = {t for t in emitted if t.startswith(TK)}
    assert own and own <= ontology, own - ontology


def test_pipeline_graph_conforms() -> None:
    """What kg.graph.build_graph makes from an Extraction (not just the hand graph) passes the shapes."""
    p = Provenance("a.txt", "c" * 64, 10, 14, "乡村振兴", "实施乡村振兴战略。", "rules@0.1")
    ex = Extraction(meta=ReportMeta(file="a.txt", path="/x/a.txt", sha256="c" * 64, report_year=2023),
                    town=Government("岱西镇", "镇"), superiors=[Government("岱山县", "县", code="330921")],
                    programs=[Program("乡村振兴", "乡村振兴", prov=p)],
                    indicators=[Indicator("财政总收入", "财政总收入", None, None, "2023-01..2023-07",
                                          growth_pct=-3.5, prov=p)])
    ok, report = shacl_validate(graph_to_quads(build_graph([ex])))
    assert ok, report


def _ladybug_rows(lb: LadybugSink) -> dict[str, list[str]]:
    """Every node and relationship with all its properties (internal offsets left out), sorted."""
    out: dict[str, list[str]] = {}
    for lb_name in LABELS:
        rows = lb.query(f"MATCH (n:{lb_name}) RETURN n")
        out[lb_name] = sorted(repr(sorted((k, v) for k, v in r["n"].items() if k != "_ID")) for r in rows)
    for t in EDGE_TYPES:
        rows = lb.query(f"MATCH (a)-[r:{t}]->(b) RETURN a.id AS a, b.id AS b, r")
        out[t] = sorted(repr((r["a"], r["b"], sorted((k, v) for k, v in r["r"].items()
                                                        if k not in ("_ID", "_SRC", "_DST")))) for r in rows)
    return out


def test_copy_and_small_table_loads_store_the_same(tmp_path: Path) -> None:
    """Tables below `small_rows` load by LOAD FROM … CREATE, the others by COPY: same rows either way,
    and a second write in pieces (ids read back, gaps filled) ends where one write does."""
    g = hand_graph()
    g.add_node("program:千万工程", "Program", name="千万工程", popularity=3, pilot=True)
    g.add_edge(T2, "IMPLEMENTS", "program:千万工程", stance="planned", surface="千万工程", paragraph=4,
               **prov(R2, 200, "千万工程"))
    dumps = []
    for small in (0, 3, 10_000):
        with LadybugSink(tmp_path / f"s{small}.lbug") as lb:
            lb.small_rows = small
            assert lb.write(g)["edges"] == 15
            dumps.append(_ladybug_rows(lb))
    half = PropertyGraph(nodes=dict(list(g.nodes.items())[:7]), edges=dict(list(g.edges.items())[:5]))
    with LadybugSink(tmp_path / "pieces.lbug") as lb:
        lb.small_rows = 3
        lb.write(half)
        lb.write(g)
        dumps.append(_ladybug_rows(lb))
    assert dumps[0]["Program"] and dumps[0]["IMPLEMENTS"]
    assert all(d == dumps[0] for d in dumps[1:])


def test_arrow_tables_equal_value_by_value_conversion() -> None:
    """The one-pass struct conversion gives the columns `column` gives value by value, for values that
    do not fit their column (fractions, NaN, inf, huge ints, booleans, strings, lists) too."""
    values = [None, 0, -7, 2**53, 2**53 + 1, 2**60, 3.0, 3.5, -0.0, float("nan"), float("inf"), True, False,
              "12", "名字", [1, "a"], {"k": 1}]
    cols = [("s", "STRING"), ("i", "INT64"), ("d", "DOUBLE"), ("b", "BOOLEAN")]
    for v in values:
        for pad in ([], [{"s": "a", "i": 1, "d": 1.5, "b": True}]):
            props = [*pad, {c: v for c, _ in cols}, {}]
            ids = [str(i) for i in range(len(props))]
            want = pa.table([pa.array(ids)] + [column([p.get(c) for p in props], t) for c, t in cols],
                            names=["id"] + [c for c, _ in cols])
            assert arrow_table({"id": ids}, props, cols).equals(want), v
