"""Compact Bolt batches: rows as lists, each string sent once per request, and the statements reading them.

Why (issue 8): FalkorDB's Bolt server takes ≤~3 KB of parameters per request, and every relationship of a
report repeats its report id, town id, file, extractor and often its sentence. Map rows spent half their
bytes on keys and the rest on repeats, so 6 relationships fitted a request; as lists whose strings sit in
a per-request table (`$t`) ~15 fit, and the server's work per request (≈0.25 ms whatever its size) and
the client's are spread over more rows. Rows of one label or type are grouped by the properties they
have, so a statement SETs exactly those (like `SET n += map` with the map's nulls left out).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

from kg.graph import EDGE_TYPES
from kg.stores.bolt_params import bolt_value, request_size

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def q(name: str) -> str:
    """Backtick-quote a label, type or property name from the model (never a data value)."""
    if not IDENT.match(name):
        raise ValueError(f"not a model identifier: {name!r}")
    return f"`{name}`"


def group_rows(items: Iterable[tuple[tuple[Hashable, ...], list[Any], dict[str, Any]]], skip: str
               ) -> dict[tuple[tuple[Hashable, ...], tuple[str, ...]], list[list[Any]]]:
    """(head, keys) → rows `[*ids, *values of keys]`: the items (head, ids, props) of one head (label or
    type) grouped by which properties they have (`skip` is already among the ids), in first-seen order."""
    out: dict[tuple[tuple[Hashable, ...], tuple[str, ...]], list[list[Any]]] = defaultdict(list)
    prim = (str, int, float)
    for head, ids, props in items:
        keys = tuple(k for k in props if k != skip)
        vals = [v if type(v) in prim else bolt_value(v) for v in (props[k] for k in keys)]
        out[(head, keys)].append(ids + vals)
    return out


def tabled_columns(rows: list[list[Any]]) -> tuple[bool, ...]:
    """Which columns hold only strings (sent once per batch in `$t`, see `pack_table`)."""
    if not rows:
        return ()
    return tuple(all(isinstance(r[i], str) for r in rows) for i in range(len(rows[0])))


def _col(i: int, tabled: tuple[bool, ...]) -> str:
    return f"$t[r[{i}]]" if tabled and tabled[i] else f"r[{i}]"


def node_cypher(label: str, keys: tuple[str, ...], tabled: tuple[bool, ...], create: bool) -> str:
    """Write rows `[id, *values of keys]` of one label: MERGE on id and SET the values, or CREATE."""
    vals = [f"{q(k)}: {_col(i, tabled)}" for i, k in enumerate(keys, 1)]
    if create:
        return f"UNWIND $r AS r CREATE (:{q(label)} {{{', '.join([f'id: {_col(0, tabled)}', *vals])}}})"
    sets = ", ".join(f"n.{v}".replace(": ", " = ", 1) for v in vals)
    return f"UNWIND $r AS r MERGE (n:{q(label)} {{id: {_col(0, tabled)}}})" + (f" SET {sets}" if sets else "")


def edge_cypher(etype: str, keyed: bool, keys: tuple[str, ...], tabled: tuple[bool, ...],
                create: bool) -> str:
    """Write rows `[src, dst, (report), *values of keys]` of one type: match both ends by id, then MERGE
    on the edge key (type, report) and SET the values, or CREATE."""
    src, dst = EDGE_TYPES[etype]
    first = 2 + keyed
    vals = [f"{q(k)}: {_col(i, tabled)}" for i, k in enumerate(keys, first)]
    key = [f"report: {_col(2, tabled)}"] if keyed else []
    head = (f"UNWIND $r AS r MATCH (a:{q(src)} {{id: {_col(0, tabled)}}}) "
            f"MATCH (b:{q(dst)} {{id: {_col(1, tabled)}}}) ")
    if create:
        props = ", ".join(key + vals)
        return head + f"CREATE (a)-[:{q(etype)}{' {' + props + '}' if props else ''}]->(b)"
    sets = ", ".join(f"e.{v}".replace(": ", " = ", 1) for v in vals)
    return (head + f"MERGE (a)-[e:{q(etype)}{' {' + key[0] + '}' if key else ''}]->(b)"
            + (f" SET {sets}" if sets else ""))


# ------------------------------------------------------------------ compact batches


def cost(value: Any) -> int:
    """An upper bound of `request_size(value)` that is cheap to compute (per leaf, the larger encoding)."""
    if isinstance(value, str):
        return len(value.encode("utf-8")) + 3 + value.count("'") + value.count('"') + value.count("\\")
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return len(str(value)) if -(2 ** 63) <= value < 2 ** 63 else 24
    if isinstance(value, float):
        return 24
    if isinstance(value, list | tuple):
        return 3 + sum(cost(v) + 2 for v in value)
    return request_size(value)


BATCH_BASE = 40  # `CYPHER t=[] r=[]`, list header growth, separators


def pack_table(rows: list[list[Any]], tabled: tuple[bool, ...], max_bytes: int, max_rows: int,
               too_big: list[list[Any]]) -> Iterator[tuple[list[str], list[list[Any]], int]]:
    """Batches of list rows as (t, r, n): the strings of `tabled` columns are sent once per batch in `t`
    and the row holds their index there (Cypher reads `$t[r[0]]`).

    Why: provenance repeats the same report id, town id, file, extractor and often sentence on every
    relationship of a report; sent once per request, ~3 times more rows fit FalkorDB's ~3 KB limit. Each
    batch's `cost` (its table plus rows, both encodings bounded) stays within `max_bytes`; a row that
    alone would not fit goes to `too_big` (to be sent another way).
    """
    table: dict[str, int] = {}
    batch: list[list[Any]] = []
    size = BATCH_BASE
    for row in rows:
        for attempt in (0, 1):
            enc: list[Any] = []
            new: list[str] = []
            add = 5  # the row's brackets and separator
            for v, tab in zip(row, tabled, strict=True):
                if tab:
                    i = table.get(v)
                    if i is None:
                        i = len(table) + len(new)
                        if v in new:
                            i = len(table) + new.index(v)
                        else:
                            new.append(v)
                            add += cost(v) + 2
                    enc.append(i)
                    add += len(str(i)) + 2
                else:
                    enc.append(v)
                    add += cost(v) + 2
            if batch and attempt == 0 and (size + add > max_bytes or len(batch) >= max_rows):
                yield list(table), batch, len(batch)
                table, batch, size = {}, [], BATCH_BASE
                continue
            break
        if not batch and size + add > max_bytes:
            too_big.append(row)
            continue
        for s in new:
            table[s] = len(table)
        batch.append(enc)
        size += add
    if batch:
        yield list(table), batch, len(batch)
