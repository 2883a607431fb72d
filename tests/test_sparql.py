"""`kg query` (SPARQL on the embedded Oxigraph store), `kg validate` and `kg export` on the real seed build."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import rdflib
from pyoxigraph import Store
from typer.testing import CliRunner

from cli import app
from kg.rdf import graph_to_quads
from kg.shacl import validate_quads
from kg.sparql import update_operations
from tests.test_stores import COMP, OBS, hand_graph

runner = CliRunner()

# Checked by hand in seeds/001 (岱西镇): "全镇实现财政总收入1.89亿元" for 2022 = 189,000,000 yuan.
DAIXI_FISCAL = ("SELECT ?v ?unit ?yuan ?nunit WHERE { ?o a qb:Observation ; tk:measures/skos:prefLabel '财政总收入'@zh ;"
                " tk:refArea/rdfs:label '岱西镇'@zh ; tk:period '2022'^^xsd:gYear ; tk:kind 'actual' ;"
                " tk:value ?v ; tk:unit ?unit ; tk:normalizedValue ?yuan ; tk:normalizedUnit ?nunit }")


def kg_(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200", "KG_DEBUG": ""})


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def quads(build: Path) -> int:
    return len(Store.read_only(str(build / "rdf")))


@pytest.fixture
def own_build(seed_build: Path, tmp_path: Path) -> Path:
    """A private copy of the seed build, for tests that write to its store."""
    return Path(shutil.copytree(seed_build, tmp_path / "build"))


def test_hand_checked_answer_in_every_format(seed_build: Path) -> None:
    res = kg_("query", "--build", seed_build, "--sparql", DAIXI_FISCAL, "--format", "json")
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.stdout)["results"]["bindings"]
    assert row["yuan"]["value"] == "189000000" and row["yuan"]["datatype"].endswith("#decimal")
    assert (row["v"]["value"], row["unit"]["value"], row["nunit"]["value"]) == ("1.89", "亿元", "CNY")
    res = kg_("query", "--build", seed_build, "--sparql", DAIXI_FISCAL, "-f", "csv")
    assert res.exit_code == 0 and list(csv.reader(io.StringIO(res.stdout))) == [
        ["v", "unit", "yuan", "nunit"], ["1.89", "亿元", "189000000", "CNY"]]
    res = kg_("query", "--build", seed_build, "--sparql", DAIXI_FISCAL)
    assert res.exit_code == 0 and "189000000" in res.stdout and "亿元" in res.stdout and "1 row" in res.stdout


def test_query_file_ask_construct_and_graphs(seed_build: Path, tmp_path: Path) -> None:
    rq = tmp_path / "towns.rq"
    rq.write_text("# towns and the report graph naming them\nSELECT ?name ?g WHERE { GRAPH ?g { ?r tk:about ?t } "
                  "?t rdfs:label ?name } ORDER BY ?name", encoding="utf-8")
    res = kg_("query", rq, "--build", seed_build, "--format", "json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["results"]["bindings"]
    assert {r["name"]["value"] for r in rows} == {"新杭镇", "岱西镇", "杨寨镇", "店口镇", "正余镇"}
    assert all(r["g"]["value"].startswith("https://townkg.org/graph/report:") for r in rows)
    res = kg_("query", "--build", seed_build, "--sparql", "ASK { ?t a tk:Town ; tk:level '镇' }", "-f", "json")
    assert json.loads(res.stdout) == {"head": {}, "boolean": True}
    res = kg_("query", "--build", seed_build, "--sparql",
              "CONSTRUCT { ?t rdfs:label ?n } WHERE { ?t a tk:Town ; rdfs:label ?n }", "-f", "csv")
    table = list(csv.reader(io.StringIO(res.stdout)))
    assert table[0] == ["subject", "predicate", "object"] and len(table) == 6
    res = kg_("query", "--build", seed_build, "--sparql", "SELECT ?t WHERE { ?t a tk:Town } LIMIT 1")
    assert "id:town:" in res.stdout  # table view: compact, percent-decoded IRIs


@pytest.mark.parametrize("update", [
    "INSERT DATA { <urn:x> <urn:y> <urn:z> }",
    "DELETE WHERE { ?s tk:value ?v }",
    "PREFIX ex: <http://example.org/> delete { ?s ex:p ?o } insert { ?s ex:q ?o } WHERE { ?s ex:p ?o }",
    "LOAD <http://127.0.0.1:9/data.ttl>",
    "CLEAR ALL",
    "DROP GRAPH <https://townkg.org/graph/entities>",
    "CREATE GRAPH <urn:new>",
    "COPY DEFAULT TO <urn:g>",
])
def test_updates_are_refused_without_flag(seed_build: Path, update: str) -> None:
    before = quads(seed_build)
    res = kg_("query", "--build", seed_build, "--sparql", update)
    assert res.exit_code == 1
    (line,) = lines(res.stderr)
    assert "E301" in line and "read-only" in line and "--update" in line
    assert quads(seed_build) == before


def test_keywords_inside_strings_iris_and_names_are_not_updates(seed_build: Path) -> None:
    text = ("SELECT ?delete WHERE { ?delete rdfs:label ?l FILTER(?l != 'DROP TABLE') "
            "FILTER(?delete != <urn:insert>) } # CLEAR ALL\nLIMIT 1")
    assert update_operations(text) == []
    res = kg_("query", "--build", seed_build, "--sparql", text, "-f", "json")
    assert res.exit_code == 0, res.output


def test_update_flag_modifies_only_a_writable_copy(own_build: Path) -> None:
    before = quads(own_build)
    res = kg_("query", "--build", own_build, "--update", "--sparql", "DELETE WHERE { GRAPH ?g { ?s tk:modifier ?m } }")
    assert res.exit_code == 0, res.output
    assert "update applied" in res.stdout and quads(own_build) < before
    res = kg_("query", "--build", own_build, "--sparql", "ASK { ?s tk:modifier ?m }", "-f", "json")
    assert json.loads(res.stdout)["boolean"] is False


def test_query_errors_are_one_line(seed_build: Path, tmp_path: Path) -> None:
    cases = [
        (("--sparql", "SELECT ?x WHERE { ?x }"), "E301", "syntax error"),
        ((), "E301", "give exactly one query"),
        ((tmp_path / "q.rq", "--sparql", "ASK {}"), "E301", "exactly one"),
        ((tmp_path / "missing.rq",), "E109", "not found"),
        ((tmp_path / "q.txt",), "E301", "suffix"),
        (("--build", tmp_path / "none", "--sparql", "ASK {}"), "E109", "kg build"),
    ]
    for args, code, text in cases:
        res = kg_("query", "--build", seed_build, *args)
        assert res.exit_code == 1, (args, res.output)
        (line,) = lines(res.stderr)
        assert line.startswith("error: ") and code in line and text in line, (args, line)
        assert "Traceback" not in res.output


# ------------------------------------------------------------------ validate


def test_seed_build_conforms(seed_build: Path) -> None:
    summary = json.loads((seed_build / "summary.json").read_text("utf-8"))
    assert summary["shacl"]["conforms"] is True and summary["shacl"]["violations"] == 0
    res = kg_("validate", "--build", seed_build)
    assert res.exit_code == 0, res.output
    assert lines(res.stdout) == [f"SHACL: conforms to ontology/shapes.ttl ({summary['shacl']['triples']} triples)"]


def test_broken_build_fails_validation_one_line_each(own_build: Path) -> None:
    """Break a stored build the way a buggy mapping would: a period dropped, an unknown company type."""
    broken = ("DELETE { GRAPH ?g { ?o tk:period ?p } } WHERE { GRAPH ?g { ?o tk:period ?p ; tk:value 1.89 } } ;"
              " DELETE { GRAPH ?g { ?c tk:companyType ?t } } INSERT { GRAPH ?g { ?c tk:companyType 'bank' } }"
              " WHERE { GRAPH ?g { ?c tk:companyType ?t } }")
    assert kg_("query", "--build", own_build, "--update", "--sparql", broken).exit_code == 0
    res = kg_("validate", "--build", own_build)
    assert res.exit_code == 1
    out = lines(res.stdout)
    assert out[-1].startswith("SHACL: ") and "violations of ontology/shapes.ttl" in out[-1]
    period = [ln for ln in out if " tk:period: " in ln]
    assert len(period) == 1 and period[0].startswith("id:obs:") and "exactly one period" in period[0]
    bank = [ln for ln in out if "tk:companyType" in ln]
    assert bank and all(ln.startswith("id:company:") and '"bank"' in ln for ln in bank)
    assert len(out) == 1 + len(period) + len(bank)


def test_broken_hand_graph_names_focus_path_and_message() -> None:
    g = hand_graph()
    del g.nodes[OBS].props["value"], g.nodes[OBS].props["growth_pct"]
    g.nodes[COMP].props["type"] = "bank"
    result = validate_quads(graph_to_quads(g))
    assert not result.conforms
    got = {(v.focus, v.path) for v in result.violations}
    assert got == {("id:obs:fedcba9876543210", "(node)"), ("id:company:上海卓然", "tk:companyType")}
    assert all("\n" not in v.line() for v in result.violations)


def test_build_reports_the_verdict(fake_extractor, memory_sinks, reports_dir: Path, tmp_path: Path) -> None:
    res = kg_("build", reports_dir, "--out", tmp_path / "b")
    assert res.exit_code == 0, res.output
    assert "SHACL: conforms to ontology/shapes.ttl" in res.stdout
    res = kg_("build", reports_dir, "--out", tmp_path / "b", "--no-validate")
    assert res.exit_code == 0 and "SHACL" not in res.stdout


# ------------------------------------------------------------------ export


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's own parsers use its deprecated APIs
@pytest.mark.parametrize(("fmt", "parse_as", "union"), [
    ("ttl", "turtle", True), ("trig", "trig", False), ("nq", "nquads", False), ("jsonld", "json-ld", False)])
def test_export_round_trips(seed_build: Path, tmp_path: Path, fmt: str, parse_as: str, union: bool) -> None:
    store = Store.read_only(str(seed_build / "rdf"))
    want_quads = len(store)
    want_triples = len({(q.subject, q.predicate, q.object) for q in store})
    want_graphs = sum(1 for _ in store.named_graphs())
    out = tmp_path / f"kg.{fmt}"
    res = kg_("export", "--format", fmt, "--out", out, "--build", seed_build)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("Exported ") and str(out) in res.stdout
    if union:
        g = rdflib.Graph().parse(out, format=parse_as)
        assert len(g) == want_triples
    else:
        ds = rdflib.Dataset().parse(out, format=parse_as)
        named = {str(c.identifier) for c in ds.graphs() if str(c.identifier).startswith("https://townkg.org/")}
        assert len(named) == want_graphs
        assert sum(1 for q in ds.quads((None, None, None, None)) if q[3] is not None) == want_quads
    if fmt == "nq":
        again = tmp_path / f"again.{fmt}"
        assert kg_("export", "-f", fmt, "-o", again, "--build", seed_build).exit_code == 0
        assert again.read_bytes() == out.read_bytes()  # deterministic


def test_export_to_stdout_and_errors(seed_build: Path, tmp_path: Path) -> None:
    res = kg_("export", "--format", "nq", "--build", seed_build)
    assert res.exit_code == 0
    assert res.stdout.count("\n") == quads(seed_build) and "Exported " in res.stderr
    res = kg_("export", "--format", "ttl", "--build", tmp_path / "none")
    assert res.exit_code == 1 and "E109" in res.stderr
    res = kg_("export", "--format", "xml", "--build", seed_build)
    assert res.exit_code == 2
