"""Cypher on a build's embedded LadybugDB property graph (`kg query --cypher`, `kg query FILE.cypher`).

Read-only unless asked: the database is opened with `read_only=True`, so a query can never change a
build by accident and never takes the writer's lock (a running writer keeps working; a reader sees the
snapshot committed when it opened). A read-only LadybugDB still runs `COPY (…) TO 'file'`, `EXPORT
DATABASE` and `INSTALL`/`LOAD` of extensions (writing files, fetching code), and FalkorDB ignores a Bolt
session's read mode, so `check_read_only` also refuses writing clauses in the text itself (the same check
guards `kg.stores.bolt_store.BoltSink.query`). `update=True` opens it for writing instead. Parameters
(`$name`) always travel as driver parameters, never pasted into the text. Labels, relationship
types and properties are those of `kg.graph` (see `ontology/property-graph.md`); `end` is a keyword,
write r.`end`.

Results are plain Python rows; `to_json`, `to_csv` and `to_table` render them. Nodes and relationships
come back as maps of their properties plus `_LABEL` (LadybugDB's internal `_ID`/`_SRC`/`_DST` offsets
are dropped: they mean nothing outside one open database).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import Code, TownKGError

QUERY_SUFFIXES = (".cypher", ".cyp", ".cql")
GRAPH = "graph.lbug"
_INTERNAL = ("_ID", "_SRC", "_DST")
QUERY_BUFFER_POOL = 1 << 30  # at least; see query_pool


def query_pool(path: Path) -> int:
    """Buffer pool for querying a graph: joins over a 10,000-report graph (206 MB on disk) overflow 256 MiB
    ("buffer pool is full"). The pool is reserved address space, filled only as a query needs it, so it is
    sized generously: 4× the database on disk, at least QUERY_BUFFER_POOL, at most 8 GiB."""
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    size = sum(f.stat().st_size for f in files)
    return min(max(QUERY_BUFFER_POOL, 4 * size), 8 << 30)


# Clauses that change a database or write/fetch files (LOAD FROM and LOAD CSV only read, so LOAD is
# refused only when an extension follows).
WRITE_CLAUSES = ("CREATE", "MERGE", "SET", "DELETE", "REMOVE", "DROP", "ALTER", "COPY", "EXPORT", "IMPORT",
                 "INSTALL", "ATTACH", "DETACH", "TRUNCATE", "FOREACH")
# Strings, backtick identifiers and comments, which may contain keyword-looking text.
_SKIP = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`]|``)*`|//[^\n]*|/\*.*?\*/", re.S)
# A keyword is a clause, not a property (n.set), label (:Create), parameter ($delete) or map key ({set: 1}).
_WRITE = re.compile(r"(?<![\w.$:`])(" + "|".join(WRITE_CLAUSES) + r"|LOAD(?!\s+(?:FROM|CSV)\b))\b(?!\s*:)",
                    re.I)
_WRITE_CALL = re.compile(r"\bCALL\s+([\w.]*(?:create|drop|delete|set|remove|merge|add|clear)[\w.]*)", re.I)


@dataclass(slots=True)
class CypherResult:
    """Column names and rows of plain values (None = NULL), from the last statement that was run."""

    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)


def graph_path(build_dir: Path) -> Path:
    """The LadybugDB file of a build, or a one-line error saying how to make one."""
    path = build_dir / GRAPH if build_dir.suffix != ".lbug" else build_dir
    if not path.exists():
        raise TownKGError(Code.UNREADABLE, "no property graph here; run `kg build` first (or pass "
                          "--build DIR)", str(path))
    return path


def read_query_file(path: Path) -> str:
    """The text of a .cypher file, with a one-line error when it is missing or not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TownKGError(Code.UNREADABLE, "query file not found", str(path)) from None
    except UnicodeDecodeError:
        raise TownKGError(Code.UNDECODABLE, "query file is not UTF-8", str(path)) from None


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """`name=value` pairs; a value that parses as JSON (numbers, true, null, lists) is taken as JSON.

    >>> parse_params(["p=乡村振兴", "n=3", "xs=[1, 2]", 'q="3"'])
    {'p': '乡村振兴', 'n': 3, 'xs': [1, 2], 'q': '3'}
    """
    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise TownKGError(Code.QUERY, f"--param wants NAME=VALUE, got {item!r}")
        try:
            out[name.strip()] = json.loads(raw)
        except ValueError:
            out[name.strip()] = raw
    return out


def plain(value: Any) -> Any:
    """A JSON-ready value: internal ids dropped from nodes/relationships/paths, dates as ISO strings."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k not in _INTERNAL and v is not None}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta | uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def write_clauses(text: str) -> list[str]:
    """Writing clauses used as clauses (not inside strings, comments, names, properties or map keys).

    >>> write_clauses("MATCH (n:Create {set: 'DELETE'}) WHERE n.remove = $merge RETURN n // DROP")
    []
    >>> write_clauses("MATCH (n) DETACH DELETE n ; COPY (MATCH (t) RETURN t) TO 'x.csv'")
    ['DETACH', 'DELETE', 'COPY']
    >>> write_clauses("LOAD FROM 'a.csv' RETURN * ; LOAD json ; CALL db.idx.fulltext.createNodeIndex('X')")
    ['LOAD', 'CALL db.idx.fulltext.createNodeIndex']
    """
    stripped = _SKIP.sub(" ", text)
    found = [m.group(1).upper() for m in _WRITE.finditer(stripped)]
    found += [f"CALL {m.group(1)}" for m in _WRITE_CALL.finditer(stripped)]
    return list(dict.fromkeys(found))


def check_read_only(text: str) -> None:
    """Refuse Cypher that writes (or writes files) unless asked: queries must never change anything."""
    ops = write_clauses(text)
    if ops:
        raise TownKGError(Code.QUERY, f"this Cypher writes ({', '.join(ops)}), and queries are read-only; "
                          "pass --update to modify the store (the next `kg build` replaces it)")


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())


def _query_error(msg: str) -> TownKGError:
    if "read-only" in msg:
        return TownKGError(Code.QUERY, "this Cypher writes to the graph, and queries are read-only; pass "
                           "--update to modify the store (the next `kg build` replaces it)")
    return TownKGError(Code.QUERY, f"Cypher error: {msg}")


def run(build_dir: Path, text: str, *, update: bool = False, params: dict[str, Any] | None = None,
        buffer_pool_size: int | None = None) -> CypherResult:
    """Run Cypher (several `;`-separated statements are fine; the last one's rows are returned)."""
    import ladybug

    path = graph_path(build_dir)
    if not text.strip():
        raise TownKGError(Code.QUERY, "the Cypher query is empty")
    if not update:
        check_read_only(text)
    try:
        pool = buffer_pool_size or query_pool(path)
        db = ladybug.Database(str(path), read_only=not update, buffer_pool_size=pool)
    except RuntimeError as e:
        raise TownKGError(Code.STORE, f"cannot open the property graph: {_one_line(e)}", str(path)) from None
    conn = ladybug.Connection(db)
    try:
        try:
            res = conn.execute(text, params or {})
        except RuntimeError as e:
            raise _query_error(_one_line(e)) from None
        if isinstance(res, list):
            res = res[-1]
        columns = list(res.get_column_names())
        rows = [[plain(v) for v in row] for row in res.get_all()]
        return CypherResult(columns, rows)
    finally:
        conn.close()
        db.close()


# ------------------------------------------------------------------ output


def to_json(result: CypherResult) -> str:
    """A JSON array with one object per row (keys in column order)."""
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return json.dumps(rows, ensure_ascii=False, indent=1, default=str)


def cell(value: Any) -> str:
    """One value as text: NULL is empty, booleans are lower case, maps and lists compact JSON.

    >>> [cell(v) for v in (None, True, 1.5, "岱西镇", {"name": "岱山县"})]
    ['', 'true', '1.5', '岱西镇', '{"name":"岱山县"}']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def to_csv(result: CypherResult) -> str:
    """RFC 4180 CSV: a header of column names, then one line per row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(result.columns)
    w.writerows([cell(v) for v in row] for row in result.rows)
    return buf.getvalue()


def to_table(result: CypherResult, title: str | None = None) -> Any:
    """A rich Table of the result (import kept local: only the CLI renders tables)."""
    from rich.table import Table

    n = len(result.rows)
    table = Table(title=title, caption=f"{n} row{'s' if n != 1 else ''}", title_justify="left")
    for c in result.columns:
        table.add_column(c, overflow="fold")
    for row in result.rows:
        table.add_row(*(cell(v) for v in row))
    return table
