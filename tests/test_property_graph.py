"""The property-graph side: the documented model, `kg query --cypher` on LadybugDB, neo4j-csv and GraphML.

Runs on the seeds built once per session (`seed_build`), through the CLI where a user would.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from cli import app
from kg.graph import EDGE_TYPES, LABELS
from kg.stores.ladybug_store import EDGE_COLUMNS, NODE_COLUMNS, PROV_COLUMNS, LadybugSink

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "ontology" / "property-graph.md"
runner = CliRunner()
TOWNS_WITH_PROGRAM = ("MATCH (t:Town)-[:IMPLEMENTS]->(:Program {name: $p}) RETURN DISTINCT t.name AS town "
                      "ORDER BY town")


def kg_(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200", "KG_DEBUG": ""})


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.fixture(scope="module")
def lb_counts(seed_build: Path) -> dict[str, int]:
    with LadybugSink(seed_build / "graph.lbug", read_only=True, buffer_pool_size=64 << 20) as lb:
        return lb.counts()


# ------------------------------------------------------------------ the documented model


def _table(section: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8").split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in text.splitlines() if ln.startswith("| `")]
    return [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", r.strip("|"))] for r in rows]


def _props(cell: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+): (STRING|INT64|DOUBLE|BOOLEAN)", cell))


def test_doc_lists_every_label_with_its_properties() -> None:
    rows = _table("Node labels")
    assert [r[0].strip("`") for r in rows] == list(LABELS)
    for r in rows:
        assert _props(r[2]) == NODE_COLUMNS[r[0].strip("`")], r[0]


def test_doc_lists_every_relationship_type_with_endpoints_and_properties() -> None:
    rows = _table("Relationship types")
    assert [r[0].strip("`") for r in rows] == list(EDGE_TYPES)
    for r in rows:
        t = r[0].strip("`")
        assert tuple(x.strip() for x in r[1].split("→")) == EDGE_TYPES[t], t
        assert {**PROV_COLUMNS, **_props(r[2])} == EDGE_COLUMNS[t], t
    prov = DOC.read_text(encoding="utf-8")
    assert all(c in prov for c in PROV_COLUMNS) and "Where provenance lives" in prov


# ------------------------------------------------------------------ kg query --cypher


def test_cypher_inline_formats(seed_build: Path) -> None:
    res = kg_("query", "--cypher", TOWNS_WITH_PROGRAM, "--param", "p=乡村振兴", "--build", seed_build,
              "--format", "json")
    assert res.exit_code == 0, res.output
    towns = [r["town"] for r in json.loads(res.stdout)]
    assert "岱西镇" in towns and towns == sorted(towns)
    res = kg_("query", "--cypher", TOWNS_WITH_PROGRAM, "--param", "p=乡村振兴", "--build", seed_build,
              "--format", "csv")
    assert res.exit_code == 0 and list(csv.reader(res.stdout.splitlines())) == [["town"], *[[t] for t in towns]]
    res = kg_("query", "--cypher", "MATCH (t:Town {name: '岱西镇'}) RETURN t", "--build", seed_build)
    assert res.exit_code == 0 and "town:330921:岱西镇" in res.stdout and "1 row" in res.stdout
    assert "_ID" not in res.stdout


def test_cypher_file_and_chain(seed_build: Path, tmp_path: Path) -> None:
    f = tmp_path / "chain.cypher"
    f.write_text("// 岱西镇's superiors, nearest first\n"
                 "MATCH (:Town {name: '岱西镇'})-[:SUBORDINATE_TO]->(c:Government)\n"
                 "MATCH p = (c)-[:PART_OF*1..3]->(g:Government)\n"
                 "RETURN c.name AS county, properties(nodes(p), 'name') AS chain ORDER BY length(p) DESC LIMIT 1;\n",
                 encoding="utf-8")
    res = kg_("query", f, "--build", seed_build, "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"county": "岱山县", "chain": ["岱山县", "舟山市", "浙江省"]}]


def test_cypher_is_read_only_unless_update(seed_build: Path, tmp_path: Path) -> None:
    write = "CREATE (:Program {id: 'program:测试', name: '测试'})"
    res = kg_("query", "--cypher", write, "--build", seed_build)
    assert res.exit_code == 1
    (line,) = _lines(res.stderr)
    assert "read-only" in line and "--update" in line and "E301" in line
    copy = tmp_path / "build"
    shutil.copytree(seed_build, copy)
    assert kg_("query", "--cypher", write, "--update", "--build", copy).exit_code == 0
    res = kg_("query", "--cypher", "MATCH (p:Program {name: '测试'}) RETURN count(p) AS n", "--build", copy,
              "--format", "csv")
    assert res.stdout.splitlines() == ["n", "1"]


@pytest.mark.parametrize("args, code", [
    (["--cypher", "MATCH (n RETURN n"], "E301"),
    (["--cypher", "MATCH (n:Nope) RETURN n"], "E301"),
    (["--cypher", "RETURN 1", "--param", "novalue"], "E301"),
    (["missing.cypher"], "E109"),
])
def test_cypher_errors_are_one_line(seed_build: Path, args: list[str], code: str) -> None:
    res = kg_("query", *args, "--build", seed_build)
    assert res.exit_code == 1
    (line,) = _lines(res.stderr)
    assert line.startswith("error: ") and code in line


def test_cypher_without_a_build(tmp_path: Path) -> None:
    res = kg_("query", "--cypher", "RETURN 1", "--build", tmp_path)
    assert res.exit_code == 1 and "kg build" in res.stderr


# ------------------------------------------------------------------ exports


def test_graphml_round_trips_with_the_stores_counts(seed_build: Path, lb_counts: dict[str, int],
                                                    tmp_path: Path) -> None:
    out = tmp_path / "townkg.graphml"
    res = kg_("export", "--format", "graphml", "--out", out, "--build", seed_build)
    assert res.exit_code == 0, res.output
    g = nx.read_graphml(out, force_multigraph=True)
    assert (g.number_of_nodes(), g.number_of_edges()) == (lb_counts["nodes"], lb_counts["edges"])
    labels = [d["labels"] for _, d in g.nodes(data=True)]
    assert {lb: labels.count(f":{lb}") for lb in LABELS} == {lb: lb_counts[f"node:{lb}"] for lb in LABELS}
    types = [d["label"] for *_, d in g.edges(data=True)]
    assert {t: types.count(t) for t in EDGE_TYPES} == {t: lb_counts[f"edge:{t}"] for t in EDGE_TYPES}
    town = g.nodes["town:330921:岱西镇"]
    assert town["label"] == "岱西镇"
    obs = next(d for _, d in g.nodes(data=True) if d["labels"] == ":Observation" and "start" in d)
    assert isinstance(obs["start"], int) and isinstance(obs["value"], float)


NEO4J_ADMIN_TYPES = {"", "string", "int", "long", "float", "double", "boolean", "byte", "short", "char",
                     "date", "localtime", "time", "localdatetime", "datetime", "duration", "point"}


def test_neo4j_csv_has_admin_import_headers(seed_build: Path, lb_counts: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "csv"
    res = kg_("export", "--format", "neo4j-csv", "--out", out, "--build", seed_build)
    assert res.exit_code == 0, res.output
    ids: set[str] = set()
    nodes = edges = 0
    for path in sorted(out.glob("nodes_*.csv")):
        header, *rows = list(csv.reader(path.open(encoding="utf-8")))
        assert header[0] == "id:ID" and header[-1] == ":LABEL" and header.count("id:ID") == 1, path
        assert all(len(r) == len(header) for r in rows)
        assert {r[-1] for r in rows} == {path.stem.removeprefix("nodes_")}
        assert all(h.partition(":")[2] in NEO4J_ADMIN_TYPES for h in header[1:-1]), header
        ids.update(r[0] for r in rows)
        nodes += len(rows)
    for path in sorted(out.glob("relationships_*.csv")):
        header, *rows = list(csv.reader(path.open(encoding="utf-8")))
        assert header[:3] == [":START_ID", ":END_ID", ":TYPE"], path
        assert all(h.partition(":")[2] in NEO4J_ADMIN_TYPES for h in header[3:]), header
        assert all(r[0] in ids and r[1] in ids for r in rows)
        edges += len(rows)
    assert (nodes, edges) == (lb_counts["nodes"], lb_counts["edges"]) == (len(ids), lb_counts["edges"])
    obs_header = next(csv.reader((out / "nodes_Observation.csv").open(encoding="utf-8")))
    assert "start:long" in obs_header and "value:double" in obs_header
    script = (out / "import.sh").read_text(encoding="utf-8")
    assert "neo4j-admin database import full" in script and "--nodes=nodes_Town.csv" in script
    res = kg_("export", "--format", "neo4j-csv", "--build", seed_build)
    assert res.exit_code == 1 and "--out DIR" in res.stderr


def test_query_buffer_pool_grows_with_the_graph(tmp_path: Path) -> None:
    """A 10,000-report graph (206 MB) overflowed a fixed 256 MiB query pool; the pool follows the file."""
    from kg.cypher import QUERY_BUFFER_POOL, query_pool

    db = tmp_path / "graph.lbug"
    db.write_bytes(b"x")
    assert query_pool(db) == QUERY_BUFFER_POOL
    os.truncate(db, 600 << 20)  # sparse: size without the disk
    assert query_pool(db) == 4 * (600 << 20)
    os.truncate(db, 10 << 30)
    assert query_pool(db) == 8 << 30
