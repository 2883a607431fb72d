"""`kg load sparql` against real servers (no mocks): `oxigraph serve` and Virtuoso, started by the suite.

For each server and both write paths (Graph Store Protocol, SPARQL Update) the seed build is loaded,
the server's per-graph triple counts and a few answers are compared with the embedded store's, a second
load must change nothing, and a changed report must *replace* its graph (old facts gone).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Store
from typer.testing import CliRunner

from cli import app
from kg.rdf import GRAPH_BASE, SPARQL_PREFIXES
from kg.sparql import query_store
from kg.sparql_load import Client, Target, count_graphs
from kg.stores.oxigraph_store import to_python
from tests.sparql_servers import SparqlServer, closed_port_url, oxigraph_server, virtuoso_server

runner = CliRunner()

# Explicit GRAPH patterns: servers differ on what the default graph is (Virtuoso: all graphs, Oxigraph: none).
GRAPH_COUNTS = ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                f"FILTER(STRSTARTS(STR(?g), '{GRAPH_BASE}')) }} GROUP BY ?g")
DAIXI_FISCAL_2022 = ("SELECT ?yuan ?v ?unit WHERE { GRAPH ?g { ?o tk:measures ?i ; tk:refArea ?t ; tk:period ?p ;"
                     " tk:kind 'actual' ; tk:normalizedValue ?yuan ; tk:value ?v ; tk:unit ?unit }"
                     " GRAPH ?e { ?i skos:prefLabel '财政总收入'@zh . ?t rdfs:label '岱西镇'@zh } FILTER(STR(?p) = '2022') }")
PROGRAMS_PER_TOWN = ("SELECT ?town (COUNT(DISTINCT ?p) AS ?n) WHERE { GRAPH ?g { ?t tk:implements ?p }"
                     " GRAPH ?e { ?t rdfs:label ?town } } GROUP BY ?town")
EVIDENCE = ("SELECT ?town ?start ?exact WHERE { GRAPH ?g { ?o tk:measures ?i ; tk:refArea ?t ;"
            " tk:start ?start ; tk:quote ?exact }"
            " GRAPH ?e { ?i skos:prefLabel '财政总收入'@zh . ?t rdfs:label ?town } }")


def kg_(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200", "KG_DEBUG": ""})


def embedded(build: Path, query: str) -> list[dict[str, object]]:
    res = query_store(Store.read_only(str(build / "rdf")), SPARQL_PREFIXES + query, union=False)
    return [{c: to_python(v) for c, v in zip(res.columns, row, strict=True)} for row in res.rows]


def remote(server: SparqlServer, query: str) -> list[dict[str, object]]:
    client = Client(Target(server.query))
    try:
        return client.select(SPARQL_PREFIXES + query)
    finally:
        client.close()


def as_set(rows: list[dict[str, object]]) -> set[tuple[object, ...]]:
    return {tuple(sorted((k, float(v) if isinstance(v, int | float) else v) for k, v in r.items())) for r in rows}


def load_args(server: SparqlServer, method: str, build: Path) -> list[str | Path]:
    args: list[str | Path] = ["load", "sparql", "--endpoint", server.query, "--update-endpoint", server.update,
                              "--build", build]
    return [*args, "--graph-store", server.graph_store] if method == "gsp" else args


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlServer]:
    start = oxigraph_server if request.param == "oxigraph" else virtuoso_server
    workdir = tmp_path_factory.mktemp(request.param)
    with start(workdir) as srv:
        yield srv


@pytest.mark.parametrize("method", ["gsp", "update"])
def test_load_matches_the_embedded_store_and_is_idempotent(server: SparqlServer, seed_build: Path,
                                                           method: str) -> None:
    want = {r["g"]: r["n"] for r in embedded(seed_build, GRAPH_COUNTS)}
    assert len(want) == 6  # 5 reports + entities
    for attempt in (1, 2):
        res = kg_(*load_args(server, method, seed_build))
        assert res.exit_code == 0, (attempt, res.output)
        assert res.stdout.startswith(f"Loaded 6 graphs, {sum(want.values())} triples")
        got = {r["g"]: r["n"] for r in remote(server, GRAPH_COUNTS)}
        assert got == want, attempt
    (row,) = remote(server, DAIXI_FISCAL_2022)
    assert (row["yuan"], row["v"], row["unit"]) == (189000000, 1.89, "亿元")  # hand-checked: 1.89亿元
    for q in (DAIXI_FISCAL_2022, PROGRAMS_PER_TOWN, EVIDENCE):
        assert as_set(remote(server, q)) == as_set(embedded(seed_build, q)), q


def test_reload_replaces_a_changed_report_graph(server: SparqlServer, seed_build: Path, tmp_path: Path) -> None:
    """Change one report's facts in a copy of the build; loading it must drop the old facts on the server."""
    assert kg_(*load_args(server, "gsp", seed_build)).exit_code == 0
    changed = Path(shutil.copytree(seed_build, tmp_path / "changed"))
    edit = ("DELETE { GRAPH ?g { ?o tk:normalizedValue ?n } } INSERT { GRAPH ?g { ?o tk:normalizedValue 123.0 } }"
            " WHERE { GRAPH ?g { ?o tk:normalizedValue ?n ; tk:value 1.89 } } ;"
            " DELETE { GRAPH ?g { ?t tk:implements ?p } } WHERE { GRAPH ?g { ?r tk:about ?t . ?t tk:implements ?p }"
            " GRAPH ?e { ?t rdfs:label '岱西镇'@zh . ?p rdfs:label '乡村振兴'@zh } }")
    res = kg_("query", "--build", changed, "--update", "--sparql", edit)
    assert res.exit_code == 0, res.output
    before = {r["g"]: r["n"] for r in remote(server, GRAPH_COUNTS)}
    res = kg_(*load_args(server, "update" if server.name == "oxigraph" else "gsp", changed))
    assert res.exit_code == 0, res.output
    after = {r["g"]: r["n"] for r in remote(server, GRAPH_COUNTS)}
    assert after == {r["g"]: r["n"] for r in embedded(changed, GRAPH_COUNTS)} != before
    assert [r["yuan"] for r in remote(server, DAIXI_FISCAL_2022)] == [123]
    rural = ("SELECT ?t WHERE { GRAPH ?g { ?t tk:implements ?p } GRAPH ?e { ?t rdfs:label '岱西镇'@zh ."
             " ?p rdfs:label '乡村振兴'@zh } }")
    assert remote(server, rural) == []
    assert remote(server, rural.replace("岱西镇", "正余镇"))  # other reports' facts untouched
    assert kg_(*load_args(server, "gsp", seed_build)).exit_code == 0  # and back
    assert {r["g"]: r["n"] for r in remote(server, GRAPH_COUNTS)} == before


def test_server_errors_are_one_line(server: SparqlServer, seed_build: Path) -> None:
    down = closed_port_url("/sparql")
    res = kg_("load", "sparql", "--endpoint", down, "--graph-store", down, "--build", seed_build)
    assert res.exit_code == 1
    (line,) = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert line.startswith("error: ") and "E201" in line and "cannot reach" in line and down in line
    assert "Traceback" not in res.output
    if server.name == "oxigraph":  # the query endpoint does not take updates: the server refuses
        res = kg_("load", "sparql", "--endpoint", server.query, "--build", seed_build)
        assert res.exit_code == 1 and "E201" in res.stderr and "HTTP 4" in res.stderr
    else:  # Virtuoso's authenticated endpoints: digest auth works, a wrong password is a clear 401
        base = server.query.rsplit("/", 1)[0]
        auth = ["load", "sparql", "--endpoint", f"{base}/sparql-auth", "--graph-store",
                f"{base}/sparql-graph-crud-auth", "--user", "dba", "--build", seed_build]
        res = kg_(*auth, "--password", "wrong")
        assert res.exit_code == 1
        (line,) = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert "HTTP 401" in line and "E201" in line
        res = kg_(*auth, "--password", "dba")
        assert res.exit_code == 0, res.output
        client = Client(Target(server.query))
        graphs = [r["g"] for r in embedded(seed_build, GRAPH_COUNTS)]
        assert set(count_graphs(client, graphs)) == set(graphs)
        client.close()


def test_a_rebuilt_build_drops_the_report_graphs_it_no_longer_has(server: SparqlServer, seed_build: Path,
                                                                   tmp_path: Path) -> None:
    """A report removed (or changed: its graph is named by its content hash) since the last load leaves no
    graph behind; `--no-prune` keeps it."""
    from kg.build import build

    src = tmp_path / "in"
    shutil.copytree(Path(__file__).resolve().parents[1] / "seeds", src)
    (src / "002_5f24c9125324aedd.txt").unlink()  # 杨寨镇
    fewer = tmp_path / "fewer"
    build([src], fewer, validate=False)
    want = {r["g"]: r["n"] for r in embedded(fewer, GRAPH_COUNTS)}
    assert len(want) == 5
    for extra, kept in ((["--no-prune"], 6), ([], 5)):
        assert kg_(*load_args(server, "update", seed_build)).exit_code == 0
        res = kg_(*load_args(server, "update", fewer), *extra)
        assert res.exit_code == 0, res.output
        got = {r["g"]: r["n"] for r in remote(server, GRAPH_COUNTS)}
        assert len(got) == kept and ("dropped 1 report graph" in res.stdout) == (kept == 5), res.stdout
    assert got == want
    assert kg_(*load_args(server, "update", seed_build)).exit_code == 0  # as the other tests expect it
