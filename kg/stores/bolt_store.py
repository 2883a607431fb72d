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
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
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

log = logging.getLogger(__name__)

DEFAULT_BATCH_BYTES = 1 << 20  # Neo4j: ~1 MB of parameters per transaction
DEFAULT_BATCH_ROWS = 10_000
FALKORDB_BATCH_BYTES = 3000  # FalkorDB's Bolt server crashes above ~4 KB of parameters
MIN_BATCH_BYTES = 512
# progress(stage, done, total): stage is "nodes" or "relationships"; done/total count rows.
Progress = Callable[[str, int, int], None]
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def q(name: str) -> str:
    """Backtick-quote a label, type or property name from the model (never a data value)."""
    if not _IDENT.match(name):
        raise ValueError(f"not a model identifier: {name!r}")
    return f"`{name}`"


# ------------------------------------------------------------------ parameter size


def _head(n: int) -> int:
    return 1 if n < 16 else 2 if n < 256 else 3 if n < 65536 else 5


def packstream_size(value: Any) -> int:
    """Bytes `value` takes in a Bolt message (PackStream), to keep requests under a byte budget.

    >>> packstream_size({"id": "岱西镇", "n": 3, "x": 1.5, "ok": None})
    32
    """
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int):
        if -16 <= value < 128:
            return 1
        return 2 if -128 <= value < 128 else 3 if -32768 <= value < 32768 else \
            5 if -(2 ** 31) <= value < 2 ** 31 else 9
    if isinstance(value, float):
        return 9
    if isinstance(value, str):
        n = len(value.encode("utf-8"))
        return _head(n) + n
    if isinstance(value, dict):
        return _head(len(value)) + sum(packstream_size(k) + packstream_size(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return _head(len(value)) + sum(packstream_size(v) for v in value)
    return packstream_size(str(value))


def literal_size(value: Any) -> int:
    """Bytes of `value` written as a Cypher literal: FalkorDB turns Bolt parameters into a `CYPHER k=v …`
    text header, and that text, not the PackStream bytes, is what overflows its ~4 KB buffer.

    >>> literal_size({"id": "岱西镇", "n": 3, "x": 1.5, "ok": None})
    65
    """
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return len(str(value))
    if isinstance(value, float):
        return 24  # longest %.17g rendering
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return len(raw) + 2 + raw.count(b"'") + raw.count(b'"') + raw.count(b"\\")
    if isinstance(value, dict):
        return 2 + sum(len(str(k)) + 2 + literal_size(v) + 2 for k, v in value.items())
    if isinstance(value, list | tuple):
        return 2 + sum(literal_size(v) + 2 for v in value)
    return literal_size(str(value))


def request_size(value: Any) -> int:
    """What a parameter value costs against `batch_bytes`: the larger of its two encodings."""
    return max(packstream_size(value), literal_size(value))


def bolt_value(value: Any) -> Any:
    """A value every Bolt server stores safely: primitives as is, dates as ISO strings, the rest as JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple) and all(isinstance(v, str | int | float | bool) for v in value):
        types = {type(v) for v in value}
        return list(value) if len(types) <= 1 else json.dumps(list(value), ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def split_text(text: str, max_bytes: int) -> list[str]:
    """Cut a string into pieces of at most `max_bytes` UTF-8 bytes, on character boundaries.

    >>> split_text("岱山县舟山市", 7)
    ['岱山', '县舟', '山市']
    """
    pieces, cur, size = [], [], 0
    for ch in text:
        b = len(ch.encode("utf-8"))
        if cur and size + b > max_bytes:
            pieces.append("".join(cur))
            cur, size = [], 0
        cur.append(ch)
        size += b
    if cur or not pieces:
        pieces.append("".join(cur))
    return pieces


def pack(rows: list[dict[str, Any]], max_bytes: int, max_rows: int) -> Iterator[list[dict[str, Any]]]:
    """Greedy batches of rows whose `{"rows": [...]}` parameters stay within both budgets (`request_size`)."""
    base = request_size({"rows": []}) + 16  # list header growth, the `CYPHER ` prefix
    batch: list[dict[str, Any]] = []
    size = base
    for row in rows:
        n = request_size(row) + 2
        if batch and (size + n > max_bytes or len(batch) >= max_rows):
            yield batch
            batch, size = [], base
        batch.append(row)
        size += n
    if batch:
        yield batch


# ------------------------------------------------------------------ sink


class BoltSink:
    """`GraphSink` writing into a Bolt server with batched, idempotent MERGE."""

    name = "bolt"

    def __init__(self, uri: str, user: str = "neo4j", password: str = "", *, database: str | None = None,
                 batch_bytes: int = DEFAULT_BATCH_BYTES, batch_rows: int = DEFAULT_BATCH_ROWS,
                 progress: Progress | None = None) -> None:
        self.uri = uri
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

    def _session(self) -> neo4j.Session:
        return self.driver.session(database=self.database) if self.database else self.driver.session()

    def _fail(self, e: Exception, what: str) -> TownKGError:
        hint = " (if it is FalkorDB, lower --batch-bytes)" if isinstance(
            e, nex.ServiceUnavailable | nex.SessionExpired) else ""
        return TownKGError(Code.STORE, f"{what} failed: {type(e).__name__}: {one_line(e)}{hint}", self.uri)

    def query(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run read Cypher and return rows as dicts (don't return temporal values from FalkorDB)."""
        with self._session() as s:
            return s.run(cypher, params or {}).data()

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

    def _run_batches(self, stage: str, cypher: str, rows: list[dict[str, Any]], done: int, total: int,
                     stats: dict[str, int]) -> int:
        def work(tx: neo4j.ManagedTransaction, batch: list[dict[str, Any]]) -> Any:
            return tx.run(cypher, rows=batch).consume().counters

        with self._session() as s:
            for batch in pack(rows, self.batch_bytes, self.batch_rows):
                try:
                    c = s.execute_write(work, batch)
                except (nex.Neo4jError, nex.DriverError) as e:
                    raise self._fail(e, f"writing {len(batch)} {stage}") from None
                self.requests += 1
                stats["nodes_created"] += c.nodes_created
                stats["relationships_created"] += c.relationships_created
                stats["properties_set"] += c.properties_set
                done += len(batch)
                if self.progress:
                    self.progress(stage, done, total)
        return done

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

    def _append_strings(self, match: str, ids: dict[str, Any], big: dict[str, str]) -> None:
        """`SET x.k = chunk₀`, then `x.k = x.k + chunkᵢ`, in one transaction, each request within budget."""
        room = self.batch_bytes - request_size({**ids, "v": ""}) - 32

        def work(tx: neo4j.ManagedTransaction) -> None:
            for key, text in big.items():
                for i, chunk in enumerate(split_text(text, room)):
                    expr = "$v" if i == 0 else f"x.{q(key)} + $v"
                    tx.run(f"{match} SET x.{q(key)} = {expr}", **ids, v=chunk).consume()
                    self.requests += 1

        with self._session() as s:
            try:
                s.execute_write(work)
            except (nex.Neo4jError, nex.DriverError) as e:
                raise self._fail(e, "writing a long property") from None

    def write(self, graph: PropertyGraph) -> dict[str, int]:
        """MERGE every node and relationship of `graph`; returns rows sent and what the server created."""
        clean, skipped = conformant(graph)
        self.ensure_schema()
        self.requests = 0
        stats: dict[str, int] = defaultdict(int)
        nodes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for n in clean.nodes.values():
            props = {k: bolt_value(v) for k, v in n.props.items() if k != "id"}
            nodes[n.label].append({"id": n.id, "p": props})
        edges: dict[tuple[str, bool], list[dict[str, Any]]] = defaultdict(list)
        for e in clean.edges.values():
            p = {k: bolt_value(v) for k, v in e.props.items() if k != "report"}
            report = e.props.get("report")
            row: dict[str, Any] = {"s": e.src, "d": e.dst, "p": p}
            if report is not None:
                row["k"] = str(report)
            edges[(e.type, report is not None)].append(row)
        n_total, e_total = len(clean.nodes), len(clean.edges)
        done = 0
        for label in LABELS:
            rows, big_rows = self._split_big(nodes.get(label, []))
            cypher = f"UNWIND $rows AS r MERGE (n:{q(label)} {{id: r.id}}) SET n += r.p"
            done = self._run_batches("nodes", cypher, rows, done, n_total, stats)
            for row, big in big_rows:
                done = self._run_batches("nodes", cypher, [row], done, n_total, stats)
                self._append_strings(f"MATCH (x:{q(label)} {{id: $id}})", {"id": row["id"]}, big)
        done = 0
        for (etype, keyed), all_rows in sorted(edges.items()):
            src, dst = EDGE_TYPES[etype]
            key = " {report: r.k}" if keyed else ""
            cypher = (f"UNWIND $rows AS r MATCH (a:{q(src)} {{id: r.s}}) MATCH (b:{q(dst)} {{id: r.d}}) "
                      f"MERGE (a)-[e:{q(etype)}{key}]->(b) SET e += r.p")
            rows, big_rows = self._split_big(all_rows)
            done = self._run_batches("relationships", cypher, rows, done, e_total, stats)
            for row, big in big_rows:
                done = self._run_batches("relationships", cypher, [row], done, e_total, stats)
                ids = {"s": row["s"], "d": row["d"], **({"k": row["k"]} if keyed else {})}
                rel = f"[x:{q(etype)} {{report: $k}}]" if keyed else f"[x:{q(etype)}]"
                self._append_strings(f"MATCH (:{q(src)} {{id: $s}})-{rel}->(:{q(dst)} {{id: $d}})", ids, big)
        return {"nodes": n_total, "edges": e_total, "requests": self.requests, **stats, **skipped}

    def _split_big(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                               list[tuple[dict[str, Any], dict[str, str]]]]:
        fits, big = [], []
        limit = self.batch_bytes - request_size({"rows": []}) - 18
        for row in rows:
            if request_size(row) + 2 <= limit:
                fits.append(row)
            else:
                big.append(self._slim(row))
        return fits, big

    def counts(self) -> dict[str, int]:
        """Nodes per label and relationships per type of the TownKG model (other data is not counted)."""
        out: dict[str, int] = {}
        with self._session() as s:
            for lb in LABELS:
                out[f"node:{lb}"] = int(s.run(f"MATCH (n:{q(lb)}) RETURN count(n) AS c").single()["c"])
            for t in EDGE_TYPES:
                out[f"edge:{t}"] = int(s.run(f"MATCH ()-[r:{q(t)}]->() RETURN count(r) AS c").single()["c"])
        out["nodes"] = sum(out[f"node:{lb}"] for lb in LABELS)
        out["edges"] = sum(out[f"edge:{t}"] for t in EDGE_TYPES)
        return out

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
                f"{c['nodes']} nodes and {c['edges']} relationships with TownKG labels")


def load_build(build_dir: Path, uri: str, user: str = "neo4j", password: str = "", *,
               database: str | None = None, batch_bytes: int = DEFAULT_BATCH_BYTES,
               batch_rows: int = DEFAULT_BATCH_ROWS, progress: Progress | None = None) -> LoadResult:
    """Load a build's property graph (from its extractions) into a Bolt server and count what it holds."""
    from kg.pg_export import build_property_graph
    from kg.stores.base import graph_counts

    started = time.perf_counter()
    graph = build_property_graph(build_dir)
    sink = BoltSink(uri, user, password, database=database, batch_bytes=batch_bytes, batch_rows=batch_rows,
                    progress=progress)
    written = sink.write(graph)
    counts = sink.counts()
    return LoadResult(uri, sink.server, written, counts, graph_counts(graph), sink.batch_bytes,
                      time.perf_counter() - started)
