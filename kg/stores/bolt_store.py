"""Bolt sink: load the property graph into Neo4j (or any Bolt server, e.g. FalkorDB) with the official driver.

Why it looks like this:
* Writes are `UNWIND $rows AS r MERGE (n:Label {id: r.id}) SET n += r.p` and, for relationships,
  `MATCH` both endpoints by id then `MERGE (a)-[e:TYPE {report: r.k}]->(b)` (the edge key of
  `kg.graph.Edge`: endpoints, type, report). Ids are deterministic, so loading twice changes no count.
  Labels, types and property names come from the fixed model (`kg.graph`); data only ever travels in
  parameters, never in Cypher text. No APOC.
* Batches are packed by *bytes* (PackStream size of the parameters) as well as rows: FalkorDB's Bolt
  server segfaults on requests whose parameters exceed ~4 KB (NOTES-infra §1), Neo4j is happiest with
  ~1 MB. A single row bigger than the budget is written slim, then its long strings are appended in
  chunks, so no request ever exceeds `batch_bytes`.
* Each batch is one managed write transaction (retried by the driver on transient errors).
* Neo4j gets `CREATE CONSTRAINT … IF NOT EXISTS` (unique `id` per label, which also indexes it); servers
  without constraints (FalkorDB answers Bolt as "Neo4j/5.13.0" but fails `dbms.components()`) get plain
  indexes, created only when `db.indexes()` lacks them.
* Connections (one driver per process, one-line errors, FalkorDB's handshake quirk, telling Neo4j from
  FalkorDB) live in `kg.stores.bolt_connect`.
* Values are Bolt primitives only: dates become ISO strings (FalkorDB crashes returning temporals).
  On FalkorDB every string parameter is escaped first (`kg.stores.bolt_params.falkordb_value`): its Bolt
  server pastes parameters unescaped into Cypher text, so a quote in a report was a Cypher injection.
* `query` is read-only unless asked: `kg.cypher.check_read_only` refuses writing clauses in the text, and
  Neo4j also gets a READ session (FalkorDB does not enforce read sessions, it answers them from an empty
  graph).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
from neo4j import exceptions as nex

from kg.errors import Code, TownKGError
from kg.graph import EDGE_TYPES, LABELS, PropertyGraph
from kg.stores.base import conformant
from kg.stores.bolt_connect import ServerInfo, detect, driver, one_line
from kg.stores.bolt_params import (  # noqa: F401 - re-exported: the sizes were defined here first
    bolt_value,
    falkordb_value,
    literal_size,
    pack,
    packstream_size,
    request_size,
    split_text,
)
from kg.stores.bolt_rows import IDENT, edge_cypher, group_rows, node_cypher, pack_table, q, tabled_columns

log = logging.getLogger(__name__)

DEFAULT_BATCH_BYTES = 1 << 20  # Neo4j: ~1 MB of parameters per transaction
DEFAULT_BATCH_ROWS = 10_000
FALKORDB_BATCH_BYTES = 3000  # FalkorDB's Bolt server crashes above ~4 KB of parameters
MIN_BATCH_BYTES = 512
# progress(stage, done, total): stage is "nodes" or "relationships"; done/total count rows.
Progress = Callable[[str, int, int], None]


def _report(props: dict[str, Any]) -> list[str]:
    return [str(props["report"])] if "report" in props else []


# ------------------------------------------------------------------ sink


class BoltSink:
    """`GraphSink` writing into a Bolt server with batched, idempotent MERGE."""

    name = "bolt"

    def __init__(self, uri: str, user: str = "neo4j", password: str = "", *, database: str | None = None,
                 batch_bytes: int = DEFAULT_BATCH_BYTES, batch_rows: int = DEFAULT_BATCH_ROWS,
                 progress: Progress | None = None, retry_seconds: float | None = None,
                 prune: bool = False) -> None:
        self.uri = uri
        self.prune = prune  # after a MERGE load, delete what the graph lacks (kg.stores.bolt_prune)
        self.retry_seconds = retry_seconds  # how long a write retries a lost server (None: the driver's 15 s)
        self.database = database or None
        self.driver = driver(uri, user, password)
        self.progress = progress
        self.batch_rows = max(1, batch_rows)
        with self._session() as s:
            self.server = detect(s, self.driver.get_server_info().agent)
        if self.server.kind == "falkordb" and batch_bytes > FALKORDB_BATCH_BYTES:
            log.info("FalkorDB detected: --batch-bytes lowered from %d to %d (its Bolt server crashes on "
                        "requests over ~4 KB)", batch_bytes, FALKORDB_BATCH_BYTES)
            batch_bytes = FALKORDB_BATCH_BYTES
        self.batch_bytes = max(MIN_BATCH_BYTES, batch_bytes)
        self.requests = 0

    def _session(self, read: bool = False) -> neo4j.Session:
        """A session; `read` asks for READ access where that is safe (Neo4j enforces it; FalkorDB answers
        READ sessions from an empty graph, so it gets the default mode and relies on the text check)."""
        access = neo4j.READ_ACCESS if read and self.server.kind == "neo4j" else neo4j.WRITE_ACCESS
        conf: dict[str, Any] = {"database": self.database} if self.database else {}
        if self.retry_seconds is not None:
            conf["max_transaction_retry_time"] = self.retry_seconds
        return self.driver.session(default_access_mode=access, **conf)

    def _safe(self, params: dict[str, Any]) -> dict[str, Any]:
        """Parameters as this server must get them: escaped for FalkorDB (see kg.stores.bolt_params)."""
        return falkordb_value(params) if self.server.kind == "falkordb" else params

    def _fail(self, e: Exception, what: str) -> TownKGError:
        if isinstance(e, nex.ServiceUnavailable | nex.SessionExpired | OSError):
            return TownKGError(Code.STORE, f"{what} failed: the server closed the connection or stopped "
                               f"({type(e).__name__}: {one_line(e)}); loading is idempotent: rerun `kg load "
                               "neo4j` when it is back (FalkorDB also crashes on large requests: lower "
                               "--batch-bytes)", self.uri)
        return TownKGError(Code.STORE, f"{what} failed: {type(e).__name__}: {one_line(e)}", self.uri)

    def query(self, cypher: str, params: dict[str, Any] | None = None, *,
              write: bool = False) -> list[dict[str, Any]]:
        """Run Cypher and return rows as dicts; read-only unless `write` (a write is refused with E301).

        Parameters travel as driver parameters (escaped for FalkorDB), never in the text. Don't return
        temporal values from FalkorDB.
        """
        from kg.cypher import check_read_only

        params = dict(params or {})
        bad = [k for k in params if not IDENT.match(k)]
        if bad:
            raise TownKGError(Code.QUERY, f"parameter names must be identifiers, got {bad[0]!r}")
        if not write:
            check_read_only(cypher)
        with self._session(read=not write) as s:
            return s.run(cypher, self._safe(params)).data()

    def ensure_schema(self) -> list[str]:
        """Unique `id` per label on Neo4j, a plain index elsewhere; returns the statements run."""
        done: list[str] = []
        with self._session() as s:
            if self.server.constraints:
                for lb in LABELS:
                    stmt = (f"CREATE CONSTRAINT townkg_{lb.lower()}_id IF NOT EXISTS "
                            f"FOR (n:{q(lb)}) REQUIRE n.id IS UNIQUE")
                    s.run(stmt).consume()
                    done.append(stmt)
                return done
            have: set[str] = set()
            try:
                for r in s.run("CALL db.indexes()").data():
                    if "id" in (r.get("properties") or []) and str(r.get("entitytype", "NODE")) == "NODE":
                        have.add(str(r.get("label")))
            except nex.Neo4jError:
                pass
            for lb in LABELS:
                if lb in have:
                    continue
                stmt = (f"CREATE INDEX FOR (n:{q(lb)}) ON (n.id)" if self.server.kind == "falkordb" else
                        f"CREATE INDEX townkg_{lb.lower()}_id IF NOT EXISTS FOR (n:{q(lb)}) ON (n.id)")
                try:
                    s.run(stmt).consume()
                    done.append(stmt)
                except nex.Neo4jError as e:
                    log.warning("could not index %s.id (%s); loading without it", lb, one_line(e))
        return done

    def _send(self, stage: str, jobs: Iterator[tuple[str, list[str], list[list[Any]], int]], total: int,
              stats: dict[str, int]) -> int:
        """Run (cypher, t, r, rows) requests in order on one connection; returns the rows done.

        FalkorDB gets auto-commit requests: it does not roll transactions back, so a transaction per batch
        bought nothing but two more round trips (BEGIN, COMMIT). One connection only: two connections
        writing at once deadlock FalkorDB 4.16 (its main thread waits forever for the module lock; seen in
        2 of ~10 loads of 130k relationships). Neo4j gets one retried write transaction per batch.
        """
        def work(tx: neo4j.ManagedTransaction, cypher: str, t: list[str], r: list[list[Any]]) -> Any:
            return tx.run(cypher, t=t, r=r).consume().counters

        done = 0
        with self._session() as s:
            for cypher, t, r, n in jobs:
                try:
                    c = (s.run(cypher, {"t": t, "r": r}).consume().counters if self.server.kind == "falkordb"
                         else s.execute_write(work, cypher, t, r))
                except (nex.Neo4jError, nex.DriverError, OSError) as e:
                    raise self._fail(e, f"writing {n} {stage}") from None
                self.requests += 1
                stats["nodes_created"] += c.nodes_created
                stats["relationships_created"] += c.relationships_created
                stats["properties_set"] += c.properties_set
                done += n
                if self.progress:
                    self.progress(stage, done, total)
        return done

    def _jobs(self, plan: list[tuple[str, tuple[bool, ...], list[list[Any]], list[list[Any]]]]
              ) -> Iterator[tuple[str, list[str], list[list[Any]], int]]:
        falkordb = self.server.kind == "falkordb"
        for cypher, tabled, rows, too_big in plan:
            loose = [i for i, tab in enumerate(tabled) if not tab]  # columns that may hold a string
            mixed = falkordb and any(isinstance(row[i], str) for row in rows for i in loose)
            for t, r, n in pack_table(rows, tabled, self.batch_bytes, self.batch_rows, too_big):
                if falkordb:  # escaped (see bolt_params): the table, and rows only where they hold strings
                    t, r = falkordb_value(t), (falkordb_value(r) if mixed else r)
                yield cypher, t, r, n

    def _fresh(self) -> bool:
        """True when the server holds no TownKG node: then rows are CREATEd, not MERGEd (no lookups)."""
        with self._session() as s:
            return all(s.run(f"MATCH (n:{q(lb)}) RETURN count(n) AS c").single(strict=True)["c"] == 0
                       for lb in LABELS)

    def _slim(self, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Move long strings out of a row that would not fit one request; they are appended in chunks."""
        props = dict(row["p"])
        row = {**row, "p": props}
        big: dict[str, str] = {}
        budget = self.batch_bytes - 64
        while request_size({"rows": [row]}) > budget:
            key = max((k for k, v in props.items() if isinstance(v, str) and k not in big),
                      key=lambda k: len(props[k].encode("utf-8")), default=None)
            if key is None:
                raise TownKGError(Code.STORE, f"a row is larger than --batch-bytes {self.batch_bytes} even "
                                  f"without its strings: {str(row)[:80]}", self.uri)
            big[key] = props.pop(key)
        return row, big

    def _write_big(self, stage: str, head: tuple[Any, ...], keys: tuple[str, ...], r: list[Any],
                   stats: dict[str, int]) -> None:
        """A row too big for one request: written slim (map form), then its long strings appended in
        chunks (`SET x.k = chunk₀`, then `x.k = x.k + chunkᵢ`), each request within budget."""
        if stage == "nodes":
            label = q(head[0])
            ids: dict[str, Any] = {"id": r[0]}
            cypher = f"UNWIND $rows AS r MERGE (n:{label} {{id: r.id}}) SET n += r.p"
            match = f"MATCH (x:{label} {{id: $id}})"
        else:
            etype, keyed = head
            src, dst = (q(x) for x in EDGE_TYPES[etype])
            ids = {"s": r[0], "d": r[1], **({"k": r[2]} if keyed else {})}
            cypher = (f"UNWIND $rows AS r MATCH (a:{src} {{id: r.s}}) MATCH (b:{dst} {{id: r.d}}) "
                      f"MERGE (a)-[e:{q(etype)}{' {report: r.k}' if keyed else ''}]->(b) SET e += r.p")
            rel = f"[x:{q(etype)} {{report: $k}}]" if keyed else f"[x:{q(etype)}]"
            match = f"MATCH (:{src} {{id: $s}})-{rel}->(:{dst} {{id: $d}})"
        slim, big = self._slim({**ids, "p": dict(zip(keys, r[len(ids):], strict=True))})

        def work(tx: neo4j.ManagedTransaction) -> None:
            c = tx.run(cypher, self._safe({"rows": [slim]})).consume().counters
            stats["nodes_created"] += c.nodes_created
            stats["relationships_created"] += c.relationships_created
            room = self.batch_bytes - request_size({**ids, "v": ""}) - 32
            for key, text in big.items():
                for i, chunk in enumerate(split_text(text, room)):
                    expr = "$v" if i == 0 else f"x.{q(key)} + $v"
                    tx.run(f"{match} SET x.{q(key)} = {expr}", self._safe({**ids, "v": chunk})).consume()
                    self.requests += 1

        with self._session() as s:
            try:
                s.execute_write(work)
            except (nex.Neo4jError, nex.DriverError) as e:
                raise self._fail(e, f"writing a long {stage[:-1]} property") from None
        self.requests += 1

    def write(self, graph: PropertyGraph) -> dict[str, int]:
        """Write every node and relationship of `graph` (MERGE, or CREATE into a server holding no TownKG
        node); returns rows sent and what the server created."""
        clean, skipped = conformant(graph)
        try:
            self.ensure_schema()
            create = self._fresh()
        except (nex.Neo4jError, nex.DriverError, OSError) as e:
            raise self._fail(e, "creating the id indexes") from None
        self.requests = 0
        stats: dict[str, int] = defaultdict(int)
        nodes = (((n.label,), [n.id], n.props) for n in clean.nodes.values())
        edges = (((e.type, "report" in e.props), [e.src, e.dst, *_report(e.props)], e.props)
                 for e in clean.edges.values())
        stages = (("nodes", len(clean.nodes), group_rows(nodes, "id")),
                  ("relationships", len(clean.edges), group_rows(edges, "report")))
        for stage, total, groups in stages:
            plan = []
            for (head, keys), rows in groups.items():
                tabled = tabled_columns(rows)
                stmt = node_cypher if stage == "nodes" else edge_cypher
                plan.append((stmt(*head, keys, tabled, create), tabled, rows, []))
            done = self._send(stage, self._jobs(plan), total, stats)
            for (head, keys), (*_, too_big) in zip(groups, plan, strict=True):
                for r in too_big:
                    self._write_big(stage, head, keys, r, stats)
                    done += 1
                    if self.progress:
                        self.progress(stage, done, total)
        if self.prune and not create:
            from kg.stores.bolt_prune import prune

            try:
                stats.update(prune(self, clean))
            except (nex.Neo4jError, nex.DriverError, OSError) as e:
                raise self._fail(e, "removing what the build no longer has") from None
        return {"nodes": len(clean.nodes), "edges": len(clean.edges), "requests": self.requests, **stats,
                **skipped}

    def counts(self) -> dict[str, int]:
        """Nodes per label and relationships per type of the TownKG model (other data is not counted)."""
        out: dict[str, int] = {}
        try:
            with self._session(read=True) as s:
                patterns = [(f"node:{lb}", f"(x:{q(lb)})") for lb in LABELS]
                patterns += [(f"edge:{t}", f"()-[x:{q(t)}]->()") for t in EDGE_TYPES]
                for key, pattern in patterns:
                    out[key] = int(s.run(f"MATCH {pattern} RETURN count(x) AS c").single(strict=True)["c"])
        except (nex.Neo4jError, nex.DriverError, OSError) as e:
            raise self._fail(e, "counting what the server holds") from None
        out["nodes"] = sum(out[f"node:{lb}"] for lb in LABELS)
        out["edges"] = sum(out[f"edge:{t}"] for t in EDGE_TYPES)
        return out

    def optimize(self) -> None:
        """Nothing to do from a client: the server manages its own storage."""

    def close(self) -> None:
        """The driver stays open for the process (one per process); it is closed at exit."""

    def __enter__(self) -> BoltSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------ a build → a server


@dataclass(slots=True)
class LoadResult:
    uri: str
    server: ServerInfo
    written: dict[str, int]
    counts: dict[str, int]
    expected: dict[str, int]
    batch_bytes: int
    seconds: float

    @property
    def missing(self) -> dict[str, int]:
        """Labels/types the server holds fewer of than the build has (should be empty)."""
        return {k: v - self.counts.get(k, 0) for k, v in self.expected.items() if self.counts.get(k, 0) < v}

    def line(self) -> str:
        w, c = self.written, self.counts
        name = {"neo4j": "Neo4j", "falkordb": "FalkorDB"}.get(self.server.kind, "Bolt server")
        return (f"Loaded {w['nodes']} nodes and {w['edges']} relationships into {name} at {self.uri} in "
                f"{self.seconds:.1f} s ({w['requests']} requests of ≤{self.batch_bytes:,} bytes; created "
                f"{w['nodes_created']} nodes, {w['relationships_created']} relationships); it now holds "
                f"{c['nodes']} nodes and {c['edges']} relationships with TownKG labels"
                + (f" (removed {w['stale_nodes_deleted']} nodes and {w['stale_relationships_deleted']} "
                   "relationships the build no longer has)"
                   if w.get("stale_nodes_deleted") or w.get("stale_relationships_deleted") else ""))


def load_build(build_dir: Path, uri: str, user: str = "neo4j", password: str = "", *,
               database: str | None = None, batch_bytes: int = DEFAULT_BATCH_BYTES,
               batch_rows: int = DEFAULT_BATCH_ROWS, progress: Progress | None = None,
               prune: bool = True) -> LoadResult:
    """Load a build's property graph (from its extractions) into a Bolt server and count what it holds.

    With `prune`, the server's TownKG part ends up equal to the build: what an earlier load left that this
    build no longer has (changed or removed reports, entities nobody names any more) is deleted."""
    from kg.pg_export import build_property_graph
    from kg.stores.base import graph_counts

    started = time.perf_counter()
    graph = build_property_graph(build_dir)
    sink = BoltSink(uri, user, password, database=database, batch_bytes=batch_bytes, batch_rows=batch_rows,
                    progress=progress, prune=prune)
    written = sink.write(graph)
    counts = sink.counts()
    return LoadResult(uri, sink.server, written, counts, graph_counts(graph), sink.batch_bytes,
                      time.perf_counter() - started)
