"""Loading twice, three times, in any order of reports gives the same counts in every store (issue 9).

The seed extractions are built three times, the reports given in three orders (the extractor is
replaced by a lookup, so this is only orchestration and stores). Every build's embedded Oxigraph and
LadybugDB hold the same node, relationship and quad counts, also after writing the graph again and
after writing it report by report in another order. The builds are then loaded into `oxigraph serve`
(SPARQL Update) and FalkorDB (Bolt) as A, A, B, C, A: the servers' per-graph triple counts and
per-label/per-type counts never move and equal the embedded ones.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

import kg.extract
from kg.build import build, load_extractions
from kg.graph import EDGE_TYPES, LABELS, build_graph
from kg.model import Extraction
from kg.rdf import SPARQL_PREFIXES
from kg.sparql_load import Client, Target, load_build
from kg.stores.bolt_store import BoltSink
from kg.stores.bolt_store import load_build as bolt_load_build
from kg.stores.ladybug_store import LadybugSink
from kg.stores.oxigraph_store import OxigraphSink
from tests.bolt_server import BoltServer, falkordb_server
from tests.sparql_servers import SparqlServer, oxigraph_server

KEYS = ["nodes", "edges", *(f"node:{lb}" for lb in LABELS), *(f"edge:{t}" for t in EDGE_TYPES)]
PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def _pick(counts: dict[str, int], extra: tuple[str, ...] = ()) -> dict[str, int]:
    return {k: counts[k] for k in (*KEYS, *extra)}


@pytest.fixture(scope="module")
def extractions(seed_build: Path) -> list[Extraction]:
    return load_extractions(seed_build)


@pytest.fixture(scope="module")
def order_builds(extractions: list[Extraction], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three builds of the seeds, reports given sorted, reversed and shuffled."""
    root = tmp_path_factory.mktemp("orders")
    src = root / "reports"
    src.mkdir()
    by_name = {ex.meta.file: ex for ex in extractions}
    for name in by_name:
        (src / name).write_text(name, encoding="utf-8")
    names = sorted(by_name)
    orders = [names, names[::-1], random.Random(7).sample(names, len(names))]
    assert len({tuple(o) for o in orders}) == 3
    outs = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kg.extract, "extract_file", lambda path, max_bytes=0: by_name[Path(path).name])
        for i, order in enumerate(orders):
            res = build([src / n for n in order], root / f"build-{i}", validate=False)
            assert res.built and not res.failed and [p.name for p in res.ok] == order
            outs.append(root / f"build-{i}")
    return outs


def _embedded(build_dir: Path) -> tuple[dict[str, int], dict[str, int]]:
    with OxigraphSink(build_dir / "rdf", read_only=True) as ox, LadybugSink(build_dir / "graph.lbug",
                                                                           read_only=True) as lb:
        return _pick(ox.counts(), ("quads", "graphs")), _pick(lb.counts())


def test_embedded_stores_agree_in_any_order_and_after_rewriting(order_builds: list[Path]) -> None:
    first = _embedded(order_builds[0])
    assert {k: first[0][k] for k in KEYS} == first[1]  # Oxigraph and LadybugDB agree
    for b in order_builds[1:]:
        assert _embedded(b) == first, b.name
    target = order_builds[2]
    for _ in range(2):  # the build's graph written a second and a third time
        graph = build_graph(load_extractions(target))
        with OxigraphSink(target / "rdf") as ox, LadybugSink(target / "graph.lbug") as lb:
            ox.write(graph)
            lb.write(graph)
        assert _embedded(target) == first


def test_report_by_report_writes_equal_one_write(extractions: list[Extraction], tmp_path: Path) -> None:
    """Written report by report, in another order and some twice, the stores hold what one write gives."""
    with OxigraphSink(tmp_path / "one" / "rdf") as ox, LadybugSink(tmp_path / "one" / "graph.lbug") as lb:
        ox.write(build_graph(extractions))
        lb.write(build_graph(extractions))
    order = random.Random(3).sample(extractions, len(extractions))
    with OxigraphSink(tmp_path / "each" / "rdf") as ox, LadybugSink(tmp_path / "each" / "graph.lbug") as lb:
        for ex in order + order[:1]:
            ox.write(build_graph([ex]))
        # LadybugDB: two overlapping halves (each COPY into a filled rel table costs ~0.15 s, so not 6 writes)
        lb.write(build_graph(order[2:]))
        lb.write(build_graph(order[:3]))
    assert _embedded(tmp_path / "each") == _embedded(tmp_path / "one")


@pytest.fixture(scope="module")
def sparql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlServer]:
    with oxigraph_server(tmp_path_factory.mktemp("ox-idem")) as srv:
        yield srv


@pytest.fixture(scope="module")
def falkordb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoltServer]:
    with falkordb_server(tmp_path_factory.mktemp("falkor-idem")) as srv:
        yield srv


def test_servers_hold_the_same_counts_after_any_sequence_of_loads(order_builds: list[Path],
                                                                   sparql_server: SparqlServer,
                                                                   falkordb: BoltServer) -> None:
    from pyoxigraph import Store

    from kg.sparql import query_store

    res = query_store(Store.read_only(str(order_builds[0] / "rdf")), PER_GRAPH, union=False)
    want_graphs = {g.value: int(n.value) for g, n in res.rows}
    want_bolt = _embedded(order_builds[0])[1]
    target = Target(sparql_server.query, sparql_server.update)
    for step, i in enumerate([0, 0, 1, 2, 0]):
        loaded = load_build(order_builds[i], target, batch_triples=50_000)  # one request per graph: fast
        assert not loaded.mismatched and loaded.on_server == want_graphs, step
        client = Client(target)
        on_server = {r["g"]: r["n"] for r in client.select(SPARQL_PREFIXES + PER_GRAPH)}
        client.close()
        assert on_server == want_graphs, step  # nothing else either (no staging graph left)
        bolt = bolt_load_build(order_builds[i], falkordb.uri, batch_bytes=3000)
        assert not bolt.missing
        assert _pick(BoltSink(falkordb.uri).counts()) == want_bolt, step
