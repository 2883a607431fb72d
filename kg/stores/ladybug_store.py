"""Embedded LadybugDB property-graph sink: one node table per label, one rel table per edge type.

Why it looks like this (NOTES-infra §2):
* Loading is `COPY <table> FROM $arrow_table`, ~100× faster than UNWIND/MERGE per row, which is
  quadratic on big tables; COPY maps columns by position, so tables are built in the DB's column order.
  Every statement outside a transaction commits (an fsync) and a COPY costs ~25 ms of CPU however small,
  so DDL runs in one transaction and tables under `SMALL_ROWS` rows load by `LOAD FROM … CREATE`, all
  in one transaction. Arrow tables are built on a helper thread while the DB copies (kg.stores.ladybug_arrow).
* A fresh store reads nothing back (the tables it just created are empty).
* Re-writing is idempotent without MERGE: existing node ids and edge keys (src, dst, report) are read
  once per table and only new rows are COPY'd; existing nodes get missing properties filled
  (`LOAD FROM $t MATCH … WHERE n.id = …`, first writer wins, like `PropertyGraph.add_node`).
* Columns are the union of the known props of `kg.graph` (fixed types) and whatever props the written
  graph carries (typed from values; new ones are added with ALTER TABLE). Every rel table carries the
  provenance props as columns. `end` is a Cypher keyword: write r.`end` in queries.
* The buffer pool defaults to 80% of RAM in the library; we cap it (256 MiB) so tests and laptops cope.
* One writer process at a time; readers open with `read_only=True` and see a snapshot.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ladybug
import pyarrow as pa

from kg.graph import EDGE_TYPES, LABELS, Edge, Node, PropertyGraph
from kg.stores.ladybug_arrow import INT, D, Job, S, column, extra_columns, job_table, slices
from kg.stores.ladybug_arrow import coerce as coerce  # re-exported for kg.pg_export

log = logging.getLogger(__name__)

PROV_COLUMNS: dict[str, str] = {"report": S, "file": S, "start": INT, "end": INT, "quote": S, "sentence": S,
                                "extractor": S}
# Known props per label, as kg.graph.add_extraction writes them; their types never change.
NODE_COLUMNS: dict[str, dict[str, str]] = {
    "Report": {"file": S, "sha256": S, "title": S, "year": INT, "date": S, "session": S, "speaker": S},
    "Town": {"name": S, "level": S},
    "Government": {"name": S, "level": S, "code": S},
    "Program": {"name": S, "definition": S},
    "Project": {"name": S, "investment_value": D, "investment_unit": S, "investment_yuan": D, "status": S,
                "location": S},
    "Company": {"name": S, "type": S, "aliases": S},
    "Indicator": {"name": S},
    "Observation": {"name": S, "value": D, "unit": S, "period": S, "growth_pct": D, "kind": S, "modifier": S,
                    "value_high": D, "normalized": D, "normalized_unit": S, **PROV_COLUMNS},
}
EDGE_COLUMNS: dict[str, dict[str, str]] = {t: dict(PROV_COLUMNS) for t in EDGE_TYPES}
EDGE_COLUMNS["IMPLEMENTS"].update(stance=S, surface=S, paragraph=INT)
EDGE_COLUMNS["SUBORDINATE_TO"].update(level=S)
EDGE_COLUMNS["CO_OCCURS"].update(paragraphs=INT, towns=INT)  # kg.aggregates
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "ontology" / "schema.cypher"
DEFAULT_BUFFER_POOL = 256 * 1024 * 1024
COPY_ROWS = 500_000  # rows per COPY statement (see LadybugSink._copy)
# Rows per Arrow table a write builds and COPYs (LadybugSink._load): each slice is ~20-50 MB of Arrow
# (10,000 reports: 1.3 M relationships, ~460 MB), and a COPY's own memory grows with its rows (10,000 reports:
# write peak +1.09 GB with slices of 200k, +0.83 GB with 100k, +0.73 GB with 50k but 40% slower, as a COPY
# into a non-empty rel table costs ~0.15 s).
LOAD_ROWS = 100_000
SMALL_ROWS = 2_000  # fewer rows load by LOAD FROM … CREATE, cheaper than a COPY (see LadybugSink._copy)


def q(name: str) -> str:
    """Backtick-quote an identifier (labels, columns like `end`)."""
    return "`" + name.replace("`", "``") + "`"


Columns = dict[str, dict[str, str]]  # table → column → Ladybug type


def columns_for(pg: PropertyGraph | None = None) -> tuple[Columns, Columns]:
    """Node and rel columns: the known ones, plus every other prop key found in `pg`."""
    nodes = {lb: dict(NODE_COLUMNS.get(lb, {})) for lb in LABELS}
    edges = {t: dict(EDGE_COLUMNS.get(t, PROV_COLUMNS)) for t in EDGE_TYPES}
    if pg is None:
        return nodes, edges
    props: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n in pg.nodes.values():
        props["n:" + n.label].append(n.props)
    for e in pg.edges.values():
        props["e:" + e.type].append(e.props)
    for lb, cols in nodes.items():
        extra_columns(cols, props.get("n:" + lb, []))
    for t, cols in edges.items():
        extra_columns(cols, props.get("e:" + t, []))
    return nodes, edges


def _group(pg: PropertyGraph) -> tuple[dict[str, list[Node]], dict[str, list[Edge]], dict[str, int]]:
    """Nodes per label and edges per type, in the graph's order, keeping what `conformant` keeps (the
    same check in one pass, without building a second graph) and counting what it drops."""
    label_of = {nid: n.label for nid, n in pg.nodes.items() if n.label in LABELS}
    by_label: dict[str, list[Node]] = defaultdict(list)
    by_type: dict[str, list[Edge]] = defaultdict(list)
    for n in pg.nodes.values():
        by_label[n.label].append(n)
    for lb in set(by_label) - set(LABELS):
        del by_label[lb]
    get, dropped = label_of.get, 0
    for e in pg.edges.values():
        src, t, dst, _ = e.key
        ends = EDGE_TYPES.get(t)
        if ends is not None and get(src) == ends[0] and get(dst) == ends[1]:
            by_type[t].append(e)
        else:
            dropped += 1
    skipped = {"skipped_nodes": len(pg.nodes) - len(label_of), "skipped_edges": dropped}
    if skipped["skipped_nodes"] or dropped:
        log.warning("dropping %(skipped_nodes)d nodes and %(skipped_edges)d edges outside the schema",
                    skipped)
    return by_label, by_type, skipped


def table_ddl(table: str, cols: dict[str, str]) -> str:
    """CREATE statement of one node or rel table (idempotent: IF NOT EXISTS)."""
    if table in EDGE_TYPES:
        src, dst = EDGE_TYPES[table]
        body = ", ".join([f"FROM {q(src)} TO {q(dst)}"] + [f"{q(c)} {ty}" for c, ty in cols.items()])
        return f"CREATE REL TABLE IF NOT EXISTS {q(table)}({body});"
    body = ", ".join(["id STRING PRIMARY KEY"] + [f"{q(c)} {t}" for c, t in cols.items()])
    return f"CREATE NODE TABLE IF NOT EXISTS {q(table)}({body});"


def schema_ddl(pg: PropertyGraph | None = None, columns: tuple[Columns, Columns] | None = None) -> str:
    """CREATE statements for the whole schema."""
    nodes, edges = columns or columns_for(pg)
    out = ["// TownKG LadybugDB schema, generated by kg.stores.ladybug_store.schema_ddl(); do not edit."]
    out += [table_ddl(t, cols) for t, cols in [*nodes.items(), *edges.items()]]
    return "\n".join(out) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    path.write_text(schema_ddl(), encoding="utf-8")
    return path


class _Tx:
    """`with sink._transaction():` BEGIN … COMMIT, rolled back on error (LadybugDB may already have)."""

    def __init__(self, conn: ladybug.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> _Tx:
        self.conn.execute("BEGIN TRANSACTION")
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.conn.execute("COMMIT")
            return
        with contextlib.suppress(RuntimeError):  # "No active transaction": the error rolled it back
            self.conn.execute("ROLLBACK")


class LadybugSink:
    """`GraphSink` writing into an embedded LadybugDB file (`*.lbug`, or `<dir>/townkg.lbug`)."""

    name = "ladybug"
    small_rows = SMALL_ROWS  # tables with fewer new rows load by LOAD FROM … CREATE (0: always COPY)
    copy_rows = LOAD_ROWS  # rows per Arrow table built and COPY'd by `write` (see `_load`)

    def __init__(self, path: str | Path, *, buffer_pool_size: int = DEFAULT_BUFFER_POOL,
                 read_only: bool = False) -> None:
        path = Path(path)
        if path.suffix != ".lbug":
            path.mkdir(parents=True, exist_ok=True)
            path = path / "townkg.lbug"
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db: ladybug.Database | None = ladybug.Database(str(path), buffer_pool_size=buffer_pool_size,
                                                            read_only=read_only, auto_checkpoint=read_only)
        self.read_only = read_only
        self.conn: ladybug.Connection | None = ladybug.Connection(self.db)

    def _conn(self) -> ladybug.Connection:
        if self.conn is None:
            raise RuntimeError(f"{self.name} sink at {self.path} is closed")
        return self.conn

    def query(self, cypher: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run Cypher and return rows as dicts (the last statement's rows if several are given)."""
        res = self._conn().execute(cypher, params or {})
        if isinstance(res, list):
            res = res[-1]
        cols = res.get_column_names()
        return [dict(zip(cols, row, strict=True)) for row in res.get_all()]

    def _columns(self, table: str) -> list[tuple[str, str]]:
        rows = self._conn().execute(f"CALL table_info('{table}') RETURN *").get_all()
        return [(r[1], r[2]) for r in rows if r[1] != "id"]

    def _ensure_schema(self, pg: PropertyGraph, groups: tuple[dict[str, list[Node]], dict[str, list[Edge]]]
                       | None = None) -> tuple[dict[str, list[tuple[str, str]]], set[str]]:
        """Create missing tables and add missing columns, so any prop of `pg` has a place. Returns every
        table's columns in the DB's order (what COPY maps by position) and the tables created just now
        (empty: nothing to read back). All DDL runs in one transaction (one commit instead of ~20)."""
        conn = self._conn()
        existing = {r[1] for r in conn.execute("CALL show_tables() RETURN *").get_all()}
        nodes = {lb: dict(NODE_COLUMNS.get(lb, {})) for lb in LABELS}
        edges = {t: dict(EDGE_COLUMNS.get(t, PROV_COLUMNS)) for t in EDGE_TYPES}
        by_label, by_type = groups or _group(pg)[:2]
        for lb, ns in by_label.items():
            if lb in nodes:
                extra_columns(nodes[lb], [n.props for n in ns])
        for t, es in by_type.items():
            if t in edges:
                extra_columns(edges[t], [e.props for e in es])
        out: dict[str, list[tuple[str, str]]] = {}
        ddl: list[str] = []
        for table, cols in [*nodes.items(), *edges.items()]:
            if table not in existing:
                ddl.append(table_ddl(table, cols))
                out[table] = list(cols.items())
                continue
            have = self._columns(table)
            names = {c for c, _ in have}
            for c, t in cols.items():
                if c not in names:
                    ddl.append(f"ALTER TABLE {q(table)} ADD {q(c)} {t}")
                    have.append((c, t))
            out[table] = have
        if ddl:
            self._transaction(ddl)
        return out, set(out) - existing

    def _transaction(self, statements: list[str] | None = None) -> _Tx:
        """A write transaction: one commit (and its fsync) for many statements instead of one each."""
        tx = _Tx(self._conn())
        if statements is not None:
            with tx:
                for stmt in statements:
                    tx.conn.execute(stmt)
        return tx

    def _count(self, table: str, rel: bool) -> int:
        pat = f"()-[x:{q(table)}]->()" if rel else f"(x:{q(table)})"
        return int(self._conn().execute(f"MATCH {pat} RETURN count(x)").get_all()[0][0])

    def _copy(self, table: str, arrays: dict[str, pa.Array] | pa.Table) -> None:
        """Load rows into `table`: LOAD FROM … CREATE for a few rows (a COPY costs ~25 ms of CPU however
        small), else COPY in slices of `COPY_ROWS` (one COPY holds its whole input in the buffer pool;
        `write` hands it slices of `copy_rows`, and `kg.build` sizes the pool to the graph)."""
        tbl = arrays if isinstance(arrays, pa.Table) else pa.table(arrays)
        conn = self._conn()
        if tbl.num_rows == 0:
            return
        if tbl.num_rows < self.small_rows:
            keys = tbl.rename_columns([f"k{i}" for i in range(tbl.num_columns)])
            names = tbl.column_names
            if table in EDGE_TYPES:
                src, dst = EDGE_TYPES[table]
                props = ", ".join(f"{q(c)}: k{i}" for i, c in enumerate(names[2:], 2))
                conn.execute(f"LOAD FROM $tbl MATCH (a:{q(src)}) WHERE a.id = k0 MATCH (b:{q(dst)}) WHERE "
                             f"b.id = k1 CREATE (a)-[:{q(table)} {{{props}}}]->(b)", {"tbl": keys})
            else:
                props = ", ".join(f"{q(c)}: k{i}" for i, c in enumerate(names))
                conn.execute(f"LOAD FROM $tbl CREATE (:{q(table)} {{{props}}})", {"tbl": keys})
            return
        for start in range(0, tbl.num_rows, COPY_ROWS):
            conn.execute(f"COPY {q(table)} FROM $tbl", {"tbl": tbl.slice(start, COPY_ROWS)})

    def _fill_gaps(self, label: str, nodes: list[Node], cols: list[tuple[str, str]]) -> int:
        """Set properties that are NULL in the DB but known now (first writer wins, like PropertyGraph)."""
        used = [(c, t) for c, t in cols if any(n.props.get(c) is not None for n in nodes)]
        if not used:
            return 0
        arrays = {"k0": pa.array([n.id for n in nodes], pa.string())}
        sets = []
        for i, (c, t) in enumerate(used, 1):
            arrays[f"k{i}"] = column([n.props.get(c) for n in nodes], t)
            sets.append(f"n.{q(c)} = coalesce(n.{q(c)}, k{i})")
        self._conn().execute(f"LOAD FROM $tbl MATCH (n:{q(label)}) WHERE n.id = k0 SET {', '.join(sets)}",
                             {"tbl": pa.table(arrays)})
        return len(nodes)

    def write(self, graph: PropertyGraph) -> dict[str, int]:
        """COPY new nodes and edges, fill gaps on known nodes; returns rows added per kind.

        Tables created by this write are known to be empty, so a fresh store never reads ids back."""
        by_label, by_type, skipped = _group(graph)
        columns, fresh = self._ensure_schema(graph, (by_label, by_type))
        conn = self._conn()
        node_jobs: list[Job] = []
        edge_jobs: list[Job] = []
        known: list[tuple[str, list[Node]]] = []
        for label in LABELS:  # read everything first: reads after uncommitted updates are slow
            nodes = by_label.get(label, [])
            if nodes and label not in fresh and self._count(label, rel=False):
                have = {r[0] for r in conn.execute(f"MATCH (n:{q(label)}) RETURN n.id").get_all()}
                known.append((label, [n for n in nodes if n.id in have]))
                nodes = [n for n in nodes if n.id not in have]
            if nodes:
                node_jobs.append((label, nodes, columns[label]))
        for t, edges in by_type.items():
            if t not in fresh and self._count(t, rel=True):
                have_e = {(a, b, r or "") for a, b, r in conn.execute(
                    f"MATCH (a)-[r:{q(t)}]->(b) RETURN a.id, b.id, r.report").get_all()}
                edges = [e for e in edges if e.key[:1] + e.key[2:] not in have_e]
            if edges:
                edge_jobs.append((t, edges, columns[t]))
        updated = 0
        if known:
            with self._transaction():
                for label, nodes in known:
                    updated += self._fill_gaps(label, nodes, columns[label])
        self._load(node_jobs, edge_jobs)
        return {"nodes": sum(len(j[1]) for j in node_jobs), "edges": sum(len(j[1]) for j in edge_jobs),
                "nodes_updated": updated, **skipped}

    def _load(self, *phases: list[Job]) -> None:
        """Load each phase's tables (all nodes before any relationship). A helper thread builds the
        Arrow tables while the database loads the previous one (it releases the GIL); a phase's small
        tables load first, in one transaction (one commit), then the big ones are COPY'd in slices of
        at most `copy_rows` rows. At most two slices' Arrow tables exist at a time (the one loading, the
        next one building), where all of them would be a second copy of every string of the graph."""
        with ThreadPoolExecutor(1, thread_name_prefix="lbug-arrow") as pool:
            for jobs in phases:
                small = [j for j in jobs if len(j[1]) < self.small_rows]
                big = (s for j in jobs if len(j[1]) >= self.small_rows for s in slices(j, self.copy_rows))
                ahead = next(big, None)
                building = pool.submit(job_table, ahead) if ahead is not None else None
                if small:
                    with self._transaction():
                        for job in small:
                            self._copy(job[0], job_table(job))
                while ahead is not None and building is not None:
                    table, tbl = ahead[0], building.result()
                    ahead = next(big, None)
                    building = pool.submit(job_table, ahead) if ahead is not None else None
                    self._copy(table, tbl)
                    del tbl
                    self._reconnect()  # the connection keeps every table bound to its statements
                self.checkpoint()

    def _reconnect(self) -> None:
        """A new connection to the same database: the library's connection keeps the Arrow tables of its
        past statements (its cache of prepared statements holds their parameters) until it is closed."""
        if self.db is not None and self.conn is not None:
            self.conn.close()
            self.conn = ladybug.Connection(self.db)

    def counts(self) -> dict[str, int]:
        existing = {r[1] for r in self._conn().execute("CALL show_tables() RETURN *").get_all()}
        out: dict[str, int] = {}
        for lb in LABELS:
            out[f"node:{lb}"] = self._count(lb, rel=False) if lb in existing else 0
        for t in EDGE_TYPES:
            out[f"edge:{t}"] = self._count(t, rel=True) if t in existing else 0
        out["nodes"] = sum(out[f"node:{lb}"] for lb in LABELS)
        out["edges"] = sum(out[f"edge:{t}"] for t in EDGE_TYPES)
        return out

    def checkpoint(self) -> None:
        """Write what is committed into the database file. A writer checkpoints itself (`_load` after each
        phase, `close`), not after every commit: with the library's automatic checkpoints each COPY was
        followed by one, a third of a 10,000-report load (26 → 19 s)."""
        if not self.read_only and self.conn is not None:
            self.conn.execute("CHECKPOINT")

    def optimize(self) -> None:
        """A checkpoint: what the write left in the write-ahead log goes into the database file (the
        sink's COPYs leave no other garbage to compact)."""
        self.checkpoint()

    def close(self) -> None:
        """Checkpoint, then close connection and database so the file lock is released for the next writer."""
        self.checkpoint()
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.db is not None:
            self.db.close()
            self.db = None

    def __enter__(self) -> LadybugSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":  # regenerate ontology/schema.cypher
    print(write_schema())
