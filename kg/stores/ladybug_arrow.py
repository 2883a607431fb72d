"""Arrow tables for LadybugDB loads, built from PropertyGraph nodes and edges (`kg.stores.ladybug_store`).

Why: building the tables was half of a bulk load's Python time. `kg.graph.Props` keep their values in
tuples of a shared layout, so columns come from transposing each layout's tuples (`layout_table`); plain
dicts go through one struct conversion (Arrow does the per-value work in C). Values that do not fit a
column's type as-is fall back to `column`, value by value through `coerce`, so the result is the same.
"""

from __future__ import annotations

import json
import logging
import math
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from kg.graph import EDGE_TYPES, Props

log = logging.getLogger("kg.stores.ladybug_store")

S, INT, D, B = "STRING", "INT64", "DOUBLE", "BOOLEAN"
ARROW = {S: pa.string(), INT: pa.int64(), D: pa.float64(), B: pa.bool_()}


def coerce(value: Any, typ: str) -> Any:
    """A prop value in the column's type; values that cannot be converted become NULL (logged)."""
    if value is None:
        return None
    try:
        if typ == S:
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        if typ == B:
            return bool(value)
        if typ == INT:
            f = float(value)
            if f.is_integer():
                return int(f)
            raise ValueError("not an integer")
        if typ == D:
            f = float(value)
            return f if not math.isnan(f) else None
    except (TypeError, ValueError):
        log.warning("cannot store %r as %s; writing NULL", value, typ)
    return None


def column(values: list[Any], typ: str) -> pa.Array:
    """An Arrow column of `typ`: straight from the values when they already fit (the common case, no
    Python per value), else value by value through `coerce`."""
    try:
        arr = pa.array(values, ARROW[typ], from_pandas=True)  # from_pandas: NaN → NULL, as coerce does
        if typ == INT and any(isinstance(v, float | bool) for v in values):
            raise ValueError("floats or booleans in an integer column")
        if typ == B and any(not isinstance(v, bool) for v in values if v is not None):
            raise ValueError("non-booleans in a boolean column")
        return arr
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return pa.array([coerce(v, typ) for v in values], ARROW[typ])


EXACT = float(2**53)  # integers up to this size survive a round trip through DOUBLE


def _struct_columns(props: list[dict[str, Any]], cols: list[tuple[str, str]]) -> list[pa.Array | None] | None:
    """The STRING, INT64 and DOUBLE columns at once (None in the other places): Arrow converts the prop
    dicts to a struct array in C, ~2× faster than a list comprehension per column. None when a value
    does not fit its column as-is (then `column` handles the table value by value). INT64 columns are
    read as DOUBLE and cast when every value is a whole number below 2**53 (Arrow would truncate 1.5
    silently); NaN becomes NULL, as in `column`."""
    fast = [(i, c, t) for i, (c, t) in enumerate(cols) if t in (S, INT, D)]
    out: list[pa.Array | None] = [None] * len(cols)
    if not props or not fast:
        return out if props else None
    try:
        arrays = pa.array(props, pa.struct([(c, ARROW[D if t == INT else t]) for _, c, t in fast])).flatten()
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    for (i, _, t), arr in zip(fast, arrays, strict=True):
        if t != S and arr.null_count < len(arr):
            if t == INT:
                whole = pc.and_(pc.equal(pc.floor(arr), arr), pc.less_equal(pc.abs(arr), EXACT))
                if not pc.all(whole).as_py():  # NaN, inf, fractions or big integers: value by value
                    return None
                arr = arr.cast(pa.int64())
            elif pc.any(pc.is_nan(arr)).as_py():
                arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, pa.float64()), arr)
        out[i] = arr.cast(ARROW[t])
    return out


def arrow_table(head: dict[str, list[str]], props: list[dict[str, Any]],
                cols: list[tuple[str, str]]) -> pa.Table:
    """The table to load: `head` (id, or from/to) string columns, then `cols` in the DB's column order."""
    arrays = [pa.array(v, pa.string()) for v in head.values()]
    fast = _struct_columns(props, cols)
    body = [a if fast is not None and a is not None else column([p.get(c) for p in props], t)
            for a, (c, t) in zip(fast or [None] * len(cols), cols, strict=True)]
    return pa.table(arrays + list(body), names=[*head, *(c for c, _ in cols)])


def typed(values: list[Any], typ: str) -> pa.Array:
    """`column`, without its per-value checks when Arrow's own inference already gives the column's type
    (the common case: strings, ints, floats as `kg.graph` writes them); else `column` decides."""
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return column(values, typ)
    if arr.type == ARROW[typ]:
        return arr
    if arr.type == pa.null():
        return pa.nulls(len(values), ARROW[typ])
    return column(values, typ)


def layout_table(head: dict[str, list[str]], props: list[Props], cols: list[tuple[str, str]]) -> pa.Table:
    """`arrow_table` of `kg.graph.Props`: rows are grouped by layout, each column read positionally from
    the group's value tuples (`map(itemgetter(j), …)`, in C; `zip(*tuples)` over 100k tuples was 4× slower)
    and converted; with several layouts, the rows are put back in their order with one `take`. No dict
    per row is read, no struct is converted."""
    layouts = list(map(_LAYOUT, props))
    values = list(map(_VALUES, props))
    if len({id(s) for s in layouts}) <= 1:  # one layout (most slices): no grouping, no reordering
        groups = {layouts[0].t: list(range(len(props)))} if props else {}
        rows = {layouts[0].t: values} if props else {}
    else:
        groups = {}
        for i, s in enumerate(layouts):
            g = groups.get(s.t)
            if g is None:
                groups[s.t] = [i]
            else:
                g.append(i)
        rows = {lay: [values[i] for i in idx] for lay, idx in groups.items()}
    parts: list[list[pa.Array]] = [[] for _ in cols]
    for lay, idx in groups.items():
        where = {k: j for j, k in enumerate(lay)}
        for part, (c, t) in zip(parts, cols, strict=True):
            j = where.get(c)
            got = None if j is None else list(map(itemgetter(j), rows[lay]))
            part.append(pa.nulls(len(idx), ARROW[t]) if got is None else typed(got, t))
    body = [pa.concat_arrays(p) if len(p) > 1 else p[0] for p in parts] if groups else \
        [pa.array([], ARROW[t]) for _, t in cols]
    if len(groups) > 1:
        order = pc.sort_indices(pa.array([i for idx in groups.values() for i in idx], pa.int64()))
        body = [pc.take(a, order) for a in body]
    arrays = [pa.array(v, pa.string()) for v in head.values()]
    return pa.table(arrays + body, names=[*head, *(c for c, _ in cols)])


# A Props' layout and values, an edge's key: read in C (`map`)
_LAYOUT, _VALUES, _KEY = attrgetter("_k"), attrgetter("_v"), attrgetter("key")


Job = tuple[str, list[Any], list[tuple[str, str]]]  # table, its new nodes or edges, its columns


def infer_type(values: list[Any]) -> str:
    """Column type for a prop nobody declared: the narrowest of BOOLEAN < INT64 < DOUBLE < STRING."""
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {bool}:
        return B
    if kinds and kinds <= {int}:
        return INT
    if kinds and kinds <= {int, float}:
        return D
    return S


def extra_columns(cols: dict[str, str], props: list[Any]) -> None:
    """Add to `cols` each prop key of `props` it lacks, typed from the values, in key order. The key
    scan reads each `Props` layout once (a few dozen), else runs in C (`chain` over the dicts); values
    are gathered for new keys only."""
    layouts = {p.layout for p in props} if all(isinstance(p, Props) for p in props) else props
    keys = set(chain.from_iterable(layouts)) - cols.keys() - {"id"}
    for k in sorted(keys):
        cols[k] = infer_type([p[k] for p in props if k in p])


def slices(job: Job, rows: int) -> list[Job]:
    """`job` in consecutive slices of at most `rows` rows, of even sizes (no small remainder slice)."""
    table, items, cols = job
    n = max(1, -(-len(items) // max(1, rows)))
    size = -(-len(items) // n)
    return [(table, items[i:i + size], cols) for i in range(0, len(items), size)] if items else []


def job_table(job: Job) -> pa.Table:
    """The Arrow table of one job: positional from `Props` layouts (`layout_table`), else from dicts."""
    table, rows, cols = job
    props = [r.props for r in rows]
    if table in EDGE_TYPES:
        keys = list(map(_KEY, rows))
        head = {"from": [k[0] for k in keys], "to": [k[2] for k in keys]}
    else:
        head = {"id": [n.id for n in rows]}
    if table in EDGE_TYPES or all(isinstance(p, Props) for p in props):  # edges are their own Props
        return layout_table(head, props, cols)
    return arrow_table(head, [dict(p) for p in props], cols)
