"""Failure paths of the stores, with real servers the tests kill (issue 9).

* A Bolt server (FalkorDB) killed mid-load: one clear line, and after a restart with what it had the
  rerun completes: every report has exactly its relationships, no duplicates.
* A SPARQL server (`oxigraph serve`) killed mid-load, for both write paths: one clear line naming where
  it stopped; after a restart no report graph is half-written (each is either the old or the new version,
  big graphs are staged and MOVEd in), and the rerun completes and leaves no staging graph.
* A `kg build` subprocess killed during the store-writing stage leaves the previous build byte-identical;
  the next build cleans up after it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import Triple

import kg.sparql_load
from kg.build import load_extractions
from kg.errors import TownKGError
from kg.graph import PropertyGraph, build_graph
from kg.sparql_load import (
    STAGING_BASE,
    Client,
    Target,
    build_graphs,
    count_graphs,
    load_graphs,
    staging_graph,
)
from kg.stores.base import conformant, graph_counts
from kg.stores.bolt_store import BoltSink
from tests.bolt_server import falkordb_server, save
from tests.sparql_servers import oxigraph_server

ROOT = Path(__file__).resolve().parents[1]


def _one_line(err: TownKGError, *words: str) -> str:
    msg = str(err)
    assert "\n" not in msg and msg.endswith("[E201]"), msg
    for w in words:
        assert w in msg, (w, msg)
    return msg


def _kill(pid: int) -> None:
    """SIGKILL a server this test started (by its PID) and wait until it is gone."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if Path(f"/proc/{pid}/stat").is_file() and " Z " in Path(f"/proc/{pid}/stat").read_text():
            return  # a zombie: dead, waiting for its parent (the server fixture) to reap it
        time.sleep(0.02)


@pytest.fixture(scope="module")
def seed_graph(seed_build: Path) -> PropertyGraph:
    return conformant(build_graph(load_extractions(seed_build)))[0]


# ------------------------------------------------------------------ Bolt


def _edges_per_report(sink: BoltSink) -> Counter[str]:
    rows = sink.query("MATCH ()-[e]->() WHERE e.report IS NOT NULL RETURN e.report AS r, count(e) AS n")
    return Counter({r["r"]: r["n"] for r in rows})


def test_bolt_server_killed_mid_load_then_rerun_completes(seed_graph: PropertyGraph, tmp_path: Path) -> None:
    work = tmp_path / "falkordb"
    want = graph_counts(seed_graph)
    want_per_report = Counter(str(e.props["report"]) for e in seed_graph.edges.values() if "report" in e.props)
    killed: dict[str, int] = {}
    with falkordb_server(work) as srv:

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "relationships" and done >= total // 2 and not killed:
                save(srv)  # what the server has now survives the kill (it has no append-only file)
                _kill(srv.pid)
                killed["at"] = done

        sink = BoltSink(srv.uri, batch_bytes=3000, progress=progress, retry_seconds=1)
        started = time.monotonic()
        with pytest.raises(TownKGError) as err:
            sink.write(seed_graph)
        assert time.monotonic() - started < 30
    assert killed
    _one_line(err.value, srv.uri, "writing", "stopped", "rerun")

    with falkordb_server(work) as srv:  # same directory: it comes back with the snapshot
        sink = BoltSink(srv.uri, batch_bytes=3000, retry_seconds=1)
        partial = sink.counts()
        assert partial["nodes"] == want["nodes"] and 0 < partial["edges"] < want["edges"], partial
        sink.write(seed_graph)
        got = sink.counts()
        assert {k: got[k] for k in want} == want
        assert _edges_per_report(sink) == want_per_report  # no report half-loaded, none doubled


# ------------------------------------------------------------------ SPARQL


def _changed(graphs: dict[str, list[Triple]]) -> dict[str, list[Triple]]:
    """A "new build": every graph loses its last third, so old and new versions count differently."""
    return {g: ts[: len(ts) * 2 // 3] for g, ts in graphs.items()}


def _counts(target: Target, graphs: Sequence[str]) -> dict[str, int]:
    client = Client(target)
    try:
        return count_graphs(client, list(graphs))
    finally:
        client.close()


@pytest.mark.parametrize("method", ["gsp", "update"])
def test_sparql_server_killed_mid_load_leaves_no_half_graph(seed_build: Path, tmp_path: Path, method: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    old = build_graphs(seed_build)
    new = _changed(old)
    names = list(old)
    batch = 400
    assert all(len(new[g]) > batch for g in names[:2]), "the test needs multi-batch graphs"
    kill_at = -(-len(new[names[0]]) // batch) + 2  # the 2nd graph, after two of its batches
    work = tmp_path / "oxigraph"

    def target(srv: Any) -> Target:
        return Target(srv.query, srv.update, srv.graph_store if method == "gsp" else None)

    with oxigraph_server(work) as srv:
        first = load_graphs(old, target(srv), batch_triples=batch)
        assert not first.mismatched and first.in_place == 0
        writes: list[str] = []
        real_put, real_update = Client.put_graph, Client.update

        def counted(client: Client) -> None:
            writes.append("w")
            if len(writes) == kill_at:
                _kill(srv.pid)

        def put_graph(self: Client, graph: str, triples: Sequence[Triple], *, replace: bool) -> None:
            counted(self)
            real_put(self, graph, triples, replace=replace)

        def update(self: Client, text: str) -> None:
            if not text.startswith("MOVE"):
                counted(self)
            real_update(self, text)

        monkeypatch.setattr(Client, "put_graph", put_graph)
        monkeypatch.setattr(Client, "update", update)
        with pytest.raises(TownKGError) as err:
            load_graphs(new, target(srv), batch_triples=batch)
        monkeypatch.undo()
    _one_line(err.value, "cannot reach the SPARQL server", f"stopped at graph 2 of {len(names)}",
              "1 graph(s) were replaced", "loading again finishes the job")

    with oxigraph_server(work) as srv:  # same store: what the server had when it was killed
        on_server = _counts(target(srv), [*names, staging_graph(names[1])])
        assert on_server[names[0]] == len(set(new[names[0]]))  # replaced before the kill
        for g in names[1:]:
            assert on_server[g] == len(set(old[g])), f"{g} is half-written"  # the rest as they were
        assert 0 < on_server[staging_graph(names[1])] < len(new[names[1]])  # the interrupted copy
        again = load_graphs(new, target(srv), batch_triples=batch)
        assert not again.mismatched and again.on_server == {g: len(set(t)) for g, t in new.items()}
        client = Client(target(srv))
        rows = client.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                             f"FILTER(STRSTARTS(STR(?g), '{STAGING_BASE}')) }}")
        client.close()
        assert rows == []  # the staging copy was moved in, nothing left behind


def test_staging_falls_back_to_writing_in_place_without_move(seed_build: Path, tmp_path: Path) -> None:
    """Graph Store Protocol with no update endpoint (the query URL refuses MOVE): written in place."""
    graphs = dict(list(build_graphs(seed_build).items())[:2])
    with oxigraph_server(tmp_path / "ox") as srv:
        res = load_graphs(graphs, Target(srv.query, None, srv.graph_store), batch_triples=1000)
        assert not res.mismatched and res.in_place == sum(len(t) > 1000 for t in graphs.values()) > 0
        assert _counts(Target(srv.query), [staging_graph(g) for g in graphs]) == {}
    assert kg.sparql_load.DEFAULT_BATCH == 1000


# ------------------------------------------------------------------ a killed build


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_build_killed_while_writing_stores_keeps_the_previous_build(
        seed_build: Path, tmp_path: Path, fake_extractor: Any, memory_sinks: list[object],
        reports_dir: Path) -> None:
    import shutil

    from kg.build import build

    out = tmp_path / "out"
    shutil.copytree(seed_build, out)
    before = _snapshot(out)
    kg_exe = Path(sys.executable).parent / "kg"
    proc = subprocess.Popen([str(kg_exe), "build", str(ROOT / "seeds"), "--out", str(out), "--no-validate"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    seen: Path | None = None
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            tmps = list(tmp_path.glob(f".out.tmp-{proc.pid}-*"))
            if tmps and (tmps[0] / "rdf").exists():  # the first store is being written
                seen = tmps[0]
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert seen is not None, f"the build ended ({proc.returncode}) before its store stage was seen"
    assert proc.returncode == -signal.SIGKILL
    assert not (seen / "summary.json").exists()  # killed before it was complete
    assert _snapshot(out) == before  # the previous build, untouched
    res = build([reports_dir], out)  # the next build tidies the dead build's temp directory up
    assert res.built and (out / "summary.json").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []
