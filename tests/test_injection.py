"""Injection strings as data and as parameters, on every engine; queries are read-only by default (issue 9).

A hand-built graph names its programs, town, quotes and sentences with injection strings (quotes, braces,
backslashes, `'}) DETACH DELETE n //`, SPARQL `"} ; DROP ALL ; #`…). It is written to the embedded
Oxigraph and LadybugDB stores, loaded into FalkorDB over Bolt and into `oxigraph serve` over SPARQL
Update, then queried with the same strings as *parameters*: every engine must store them exactly, find
them exactly, and change nothing. Writing queries are refused unless asked for (E301).

FalkorDB pastes Bolt parameters unescaped into Cypher text (kg/stores/bolt_params.py): before the fix,
loading this graph ran `DETACH DELETE` on the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Triple
from typer.testing import CliRunner

from cli import app
from kg import cypher as cy
from kg import sparql as sq
from kg.errors import Code, TownKGError
from kg.graph import PropertyGraph
from kg.rdf import ENTITIES_GRAPH, SPARQL_PREFIXES, graph_to_quads
from kg.sparql_load import Client, Target, count_graphs, load_graphs
from kg.stores.base import graph_counts
from kg.stores.bolt_store import BoltSink
from kg.stores.ladybug_store import LadybugSink
from kg.stores.oxigraph_store import OxigraphSink
from tests.bolt_server import BoltServer, alive, falkordb_server
from tests.sparql_servers import SparqlServer, oxigraph_server

INJECTIONS = [
    "'}) DETACH DELETE n //",
    '"} ; DROP ALL ; #',
    "x' MATCH (m) DETACH DELETE m RETURN 1 AS c //",
    "'; DROP GRAPH <https://townkg.org/graph/entities> ; #",
    '> } } ; CLEAR ALL ; INSERT DATA { <x:a> <x:b> "c" } #',
    "a\\'b",
    "trailing backslash \\",
    "{}}{{ $p ${p} `x` ?x",
    "乡村'振兴\"工程",
    "line\nbreak\t\r end",
    "\\u0027) DELETE n //",
]
TOWN = "岱西镇'}) DETACH DELETE n //"
REPORT = "report:" + "c" * 16
FIND = "MATCH (t:Town)-[e:IMPLEMENTS]->(p:Program {name: $p}) RETURN t.name AS town, e.quote AS quote"
FIND_SPARQL = ("SELECT ?town ?quote WHERE { ?p a tk:Program ; rdfs:label ?name . FILTER(STR(?name) = ?x) "
               "?t tk:implements ?p ; rdfs:label ?town . ?f rdf:object ?p ; tk:quote ?quote }")
runner = CliRunner()


def hostile_graph() -> PropertyGraph:
    g = PropertyGraph()
    g.add_node(REPORT, "Report", file="hostile'.txt", sha256="c" * 64, title=INJECTIONS[0], year=2023)
    g.add_node("town:330921:" + TOWN, "Town", name=TOWN, level="镇")
    g.add_edge(REPORT, "ABOUT", "town:330921:" + TOWN)
    for i, name in enumerate(INJECTIONS):
        pid = f"program:{name}"
        g.add_node(pid, "Program", name=name, definition=name)
        g.add_edge("town:330921:" + TOWN, "IMPLEMENTS", pid, stance="implemented", surface=name, report=REPORT,
                   file="hostile'.txt", start=10 * i, end=10 * i + 5, quote=name, sentence=name + "。",
                   extractor="test@1")
    return g


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build directory (rdf/ + graph.lbug) holding the hostile graph."""
    d = tmp_path_factory.mktemp("hostile-build")
    for sink in (OxigraphSink(d / "rdf"), LadybugSink(d / "graph.lbug")):
        sink.write(hostile_graph())
        sink.close()
    return d


@pytest.fixture(scope="module")
def falkordb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoltServer]:
    with falkordb_server(tmp_path_factory.mktemp("falkordb-inj")) as srv:
        yield srv


@pytest.fixture(scope="module")
def sparql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlServer]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph-inj")) as srv:
        yield srv


def _embedded_counts(d: Path) -> tuple[dict[str, int], dict[str, int]]:
    with OxigraphSink(d / "rdf", read_only=True) as ox, LadybugSink(d / "graph.lbug", read_only=True) as lb:
        return ox.counts(), lb.counts()


def test_embedded_stores_keep_the_strings_and_parameters_find_them(build_dir: Path, tmp_path: Path) -> None:
    before = _embedded_counts(build_dir)
    want = graph_counts(hostile_graph())
    assert (before[0]["nodes"], before[0]["edges"]) == (before[1]["nodes"], before[1]["edges"]) == \
        (want["nodes"], want["edges"])
    names = cy.run(build_dir, "MATCH (p:Program) RETURN p.name AS n")
    assert sorted(r[0] for r in names.rows) == sorted(INJECTIONS)
    for name in INJECTIONS:
        rows = cy.run(build_dir, FIND, params={"p": name}).rows
        assert rows == [[TOWN, name]], name
        res = sq.run(build_dir, FIND_SPARQL, params={"x": name})
        assert [[t.value for t in row] for row in res.rows] == [[TOWN, name]], name
        # as text too: an exact, typed literal; nothing else matches
        assert sq.run(build_dir, FIND_SPARQL, params={"x": name + " "}).rows == []
    assert _embedded_counts(build_dir) == before


@pytest.mark.parametrize("text", [
    "MATCH (n) DETACH DELETE n",
    "CREATE (:Town {id: 'x', name: 'y'})",
    "MATCH (p:Program) SET p.name = 'x'",
    "MERGE (t:Town {id: $p}) RETURN t",
    "MATCH (p:Program) RETURN p.name AS n ; MATCH (n) DETACH DELETE n",
])
def test_cypher_writes_are_refused_without_update(build_dir: Path, text: str) -> None:
    before = _embedded_counts(build_dir)
    with pytest.raises(TownKGError) as e:
        cy.run(build_dir, text, params={"p": INJECTIONS[0]} if "$p" in text else None)
    assert e.value.code is Code.QUERY and "read-only" in str(e.value) and "--update" in str(e.value)
    assert _embedded_counts(build_dir) == before


def test_cypher_file_writes_and_extensions_are_refused(build_dir: Path, tmp_path: Path) -> None:
    """A read-only LadybugDB still writes files (COPY … TO, EXPORT DATABASE) and loads extensions."""
    leak = tmp_path / "leak.csv"
    for text in (f"COPY (MATCH (p:Program) RETURN p.name) TO '{leak}'", f"EXPORT DATABASE '{tmp_path / 'dump'}'",
                 "INSTALL json", "LOAD EXTENSION json"):
        with pytest.raises(TownKGError) as e:
            cy.run(build_dir, text)
        assert e.value.code is Code.QUERY, text
    assert not leak.exists() and not (tmp_path / "dump").exists()
    assert cy.run(build_dir, "MATCH (p:Program) WHERE p.name CONTAINS 'DELETE' RETURN count(p) AS n").rows[0][0] > 0


@pytest.mark.parametrize("text", [
    "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }",
    "DROP ALL",
    "CLEAR GRAPH <https://townkg.org/graph/entities>",
    "SELECT * WHERE { ?s ?p ?o } ; DROP ALL",
    "INSERT DATA { GRAPH <x:g> { <x:a> <x:b> <x:c> } }",
])
def test_sparql_updates_are_refused_without_update(build_dir: Path, text: str) -> None:
    before = _embedded_counts(build_dir)
    with pytest.raises(TownKGError) as e:
        sq.run(build_dir, text)
    assert e.value.code is Code.QUERY
    assert _embedded_counts(build_dir) == before


def test_parameter_names_are_checked(build_dir: Path) -> None:
    with pytest.raises(TownKGError) as e:
        sq.run(build_dir, "SELECT ?x WHERE { }", params={"x } ; DROP ALL ; #": 1})
    assert e.value.code is Code.QUERY


def test_cli_parameters_and_read_only(build_dir: Path) -> None:
    before = _embedded_counts(build_dir)
    for name in INJECTIONS[:4]:
        res = runner.invoke(app, ["query", "--build", str(build_dir), "--format", "json", "--cypher", FIND,
                                  "--param", f"p={name}"], env={"KG_DEBUG": ""})
        assert res.exit_code == 0, res.output
        assert TOWN in res.stdout
        res = runner.invoke(app, ["query", "--build", str(build_dir), "--format", "json", "--sparql", FIND_SPARQL,
                                  "--param", f"x={name}"], env={"KG_DEBUG": ""})
        assert res.exit_code == 0, res.output
        assert TOWN in res.stdout
    for args in (["--cypher", "MATCH (n) DETACH DELETE n"], ["--sparql", "DROP ALL"],
                 ["--cypher", f"MATCH (p:Program {{name: '{INJECTIONS[0]}'}}) RETURN p"]):
        res = runner.invoke(app, ["query", "--build", str(build_dir), *args], env={"KG_DEBUG": ""})
        assert res.exit_code == 1, (args, res.output)
        (line,) = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert line.startswith("error: ") and "[E301]" in line
    assert _embedded_counts(build_dir) == before


def test_bolt_loads_and_finds_injection_strings_intact(falkordb: BoltServer) -> None:
    g = hostile_graph()
    sink = BoltSink(falkordb.uri, batch_bytes=3000)
    sink.query("CREATE (:Sentinel {id: 'keep'})", write=True)
    for _ in range(2):  # and idempotent
        sink.write(g)
    assert alive(falkordb)
    want = graph_counts(g)
    got = sink.counts()
    assert {k: got[k] for k in want} == want
    assert sink.query("MATCH (s:Sentinel) RETURN count(s) AS n") == [{"n": 1}]
    names = sorted(r["n"] for r in sink.query("MATCH (p:Program) RETURN p.name AS n"))
    assert names == sorted(INJECTIONS)
    assert sink.query("MATCH (t:Town) RETURN t.name AS n") == [{"n": TOWN}]
    for name in INJECTIONS:
        assert sink.query(FIND, {"p": name}) == [{"town": TOWN, "quote": name}], name
    for text in ("MATCH (n) DETACH DELETE n", "MATCH (p:Program) SET p.name = 'x'",
                 "CALL db.idx.fulltext.createNodeIndex('Program', 'name')"):
        with pytest.raises(TownKGError) as e:
            sink.query(text)
        assert e.value.code is Code.QUERY
    with pytest.raises(TownKGError):
        sink.query("RETURN $x AS x", {"x = 1 MATCH (n) DETACH DELETE n //": 1})
    got = sink.counts()
    assert {k: got[k] for k in want} == want and alive(falkordb)


def test_sparql_server_load_keeps_injection_strings(sparql_server: SparqlServer) -> None:
    """SPARQL Update (DROP + INSERT DATA built from N-Triples) with hostile literals drops nothing else."""
    target = Target(sparql_server.query, sparql_server.update)
    sentinel = "https://example.org/sentinel"
    load_graphs({sentinel: [Triple(NamedNode("x:a"), NamedNode("x:b"), Literal("keep"))]}, target)
    graphs: dict[str, list[Triple]] = {}
    for q in graph_to_quads(hostile_graph()):
        assert isinstance(q, Quad)
        graphs.setdefault(q.graph_name.value, []).append(Triple(q.subject, q.predicate, q.object))
    for _ in range(2):
        res = load_graphs(graphs, target, batch_triples=50)
        assert not res.mismatched
    client = Client(target)
    try:
        assert count_graphs(client, [sentinel]) == {sentinel: 1}
        rows = client.select(SPARQL_PREFIXES + f"SELECT ?n WHERE {{ GRAPH <{ENTITIES_GRAPH.value}> {{ ?p a tk:Program ; "
                             "rdfs:label ?n } }")
    finally:
        client.close()
    assert sorted(r["n"] for r in rows) == sorted(INJECTIONS)


@pytest.mark.parametrize("engine", ["oxigraph", "ladybug", "neo4j"])
def test_named_query_parameters_are_data_on_every_engine(build_dir: Path, falkordb: BoltServer,
                                                         engine: str) -> None:
    """`kg query program_towns --param program=<injection>` finds the town named by that very string."""
    import json

    sink = BoltSink(falkordb.uri, batch_bytes=3000)
    sink.write(hostile_graph())
    before = (_embedded_counts(build_dir), sink.counts())
    for name in INJECTIONS:
        res = runner.invoke(app, ["query", "program_towns", "--param", f"program={name}", "--engine", engine,
                                  "--build", str(build_dir), "--uri", falkordb.uri, "--format", "json"],
                            env={"KG_DEBUG": ""})
        assert res.exit_code == 0, (name, res.output)
        assert [r["town"] for r in json.loads(res.stdout)] == [TOWN], name
    assert (_embedded_counts(build_dir), sink.counts()) == before and alive(falkordb)
