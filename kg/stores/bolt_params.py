"""Bolt request parameters: how big they are, and values every Bolt server stores intact.

Why a module of its own: the loader (`kg.stores.bolt_store`) and queries (`BoltSink.query`) both send
parameters, and two FalkorDB facts (NOTES-infra §1, issue 9) apply to all of them:

* FalkorDB's Bolt server turns the parameters into a `CYPHER name=value …` *text* header and segfaults when
  that text exceeds ~4 KB, so requests are sized by the larger of their PackStream and literal renderings.
* It pastes string parameters into that header between single quotes **without escaping them**: a `'` in a
  value ends the literal, so a report quoting `x' MATCH (n) DETACH DELETE n //` ran that Cypher and
  deleted the graph (tests/test_injection.py), and backslash sequences are interpreted (a backslash
  followed by `b` arrived as a backspace). `falkordb_value` escapes them so every string arrives as sent.
  Neo4j takes parameters as data and must get them unescaped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any


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
    """Cut a string into pieces of at most `max_bytes` bytes as a Cypher literal (UTF-8; a quote or a
    backslash counts twice, as FalkorDB gets it escaped), on character boundaries.

    >>> split_text("岱山县舟山市", 7)
    ['岱山', '县舟', '山市']
    >>> split_text("a'b'c", 3)
    ["a'", "b'", 'c']
    """
    pieces, cur, size = [], [], 0
    for ch in text:
        b = len(ch.encode("utf-8")) + (ch in "'\"\\")
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



def falkordb_value(value: Any) -> Any:
    r"""`value` with every string (in lists and maps too) escaped the way FalkorDB's Bolt server needs.

    The server wraps each string parameter in single quotes inside a Cypher text header and parses
    escapes there, so `\` and `'` must arrive as `\\` and `\'` (see the module docstring). A NUL cannot
    be escaped (the server cuts the string there): it becomes U+FFFD, the mark of an unreadable character.

    >>> falkordb_value({"rows": [{"k": "a'b", "n": 2}], "v": "c\\d"})
    {'rows': [{'k': "a\\'b", 'n': 2}], 'v': 'c\\\\d'}
    """
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("'", "\\'").replace("\0", "\ufffd")
    if isinstance(value, list | tuple):
        return [falkordb_value(v) for v in value]
    if isinstance(value, dict):
        return {k: falkordb_value(v) for k, v in value.items()}
    return value

