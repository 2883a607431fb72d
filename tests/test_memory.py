"""What bounds a build's memory changes nothing it writes (issue 8): LadybugDB loads in slices, and the
Arrow tables of loaded slices are released."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from kg.graph import PropertyGraph
from kg.stores.ladybug_store import LadybugSink, slices
from tests.test_stores import PROG, R1, R2, T1, T2, _ladybug_rows, hand_graph, prov


def _bigger_graph() -> PropertyGraph:
    """The hand graph and 40 more programs implemented by both towns (tables of a few dozen rows)."""
    g = hand_graph()
    for i in range(40):
        pid = f"program:计划{i}"
        g.add_node(pid, "Program", name=f"计划{i}", definition=None if i % 3 else f"定义{i}")
        for rid, town in ((R1, T1), (R2, T2)):
            g.add_edge(town, "IMPLEMENTS", pid, stance="implemented", surface=f"计划{i}", paragraph=i,
                       **prov(rid, 500 + i, f"计划{i}"))
    g.add_edge(T1, "IMPLEMENTS", PROG, stance="planned", surface="乡村振兴", **prov(R2, 9, "乡村振兴"))
    return g


def test_slices_cover_the_rows_in_order_in_even_sizes() -> None:
    rows = list(range(11))
    for size in (1, 2, 3, 5, 10, 11, 100):
        parts = slices(("T", rows, []), size)
        assert [r for _, part, _ in parts for r in part] == rows
        lengths = [len(part) for _, part, _ in parts]
        assert max(lengths) <= size and max(lengths) - min(lengths) <= 1
    assert slices(("T", [], []), 3) == []


def test_sliced_copy_stores_what_one_copy_stores(tmp_path: Path) -> None:
    """COPY in slices of a few rows (each a COPY into a non-empty table) gives the rows one COPY gives."""
    g = _bigger_graph()
    dumps = []
    for rows in (1_000_000, 7, 2):
        with LadybugSink(tmp_path / f"r{rows}.lbug", buffer_pool_size=64 << 20) as lb:
            lb.small_rows, lb.copy_rows = 0, rows
            got = lb.write(g)
            assert got["nodes"] == len(g.nodes) and got["edges"] == len(g.edges)
            dumps.append(_ladybug_rows(lb))
    assert len(dumps[0]["IMPLEMENTS"]) == 83 and len(dumps[0]["Program"]) == 41
    assert dumps[1] == dumps[0] and dumps[2] == dumps[0]


def test_loaded_arrow_tables_are_released(tmp_path: Path) -> None:
    """The library keeps the tables bound to a connection's statements until it closes; a write reconnects
    after each COPY, so the tables of a load do not pile up while the sink stays open."""
    g = _bigger_graph()
    with LadybugSink(tmp_path / "a.lbug", buffer_pool_size=64 << 20) as lb:
        lb.small_rows, lb.copy_rows = 0, 5
        before = pa.total_allocated_bytes()
        lb.write(g)
        assert pa.total_allocated_bytes() <= before
        assert lb.query("MATCH ()-[r:IMPLEMENTS]->() RETURN count(r) AS n")[0]["n"] == 83


def test_collector_keeps_compactly_what_it_took(tmp_path: Path) -> None:
    """The collector's compact forms give back what it took: the summary's slim records, the page's
    co-occurrence units (a report taken twice counts once), and a graph equal to `build_graph`'s."""
    from kg.assembly import Collector, annotate, slim
    from kg.graph import build_graph, report_id
    from kg.parallel import extract_one

    root = Path(__file__).resolve().parents[1] / "seeds"
    outcomes = [extract_one(p, 10 << 20) for p in sorted(root.glob("*.txt"))]
    assert all(o.ex is not None for o in outcomes)
    with (tmp_path / "x.jsonl").open("wb") as fh:
        got = Collector(fh, None, None)
        for o in [*outcomes, outcomes[0]]:
            got.take(o, None)
    exs = [o.ex for o in outcomes]
    assert list(got.slims()) == [slim(ex) for ex in [*exs, exs[0]]]  # type: ignore[arg-type]
    want = {}
    for o in outcomes:
        want.update({(report_id(o.ex.meta.sha256), pid): u for pid, u in (o.units or {}).items()})  # type: ignore[union-attr]
    assert got.units == want and list(got.units) == list(want) and want
    whole = build_graph(exs)  # type: ignore[arg-type]
    for o in outcomes:
        annotate(whole, o.ex, report_id(o.ex.meta.sha256), o.paragraphs)  # type: ignore[arg-type, union-attr]
    assert {k: (e.src, e.type, e.dst, e.props) for k, e in got.graph.edges.items()} == \
        {k: (e.src, e.type, e.dst, e.props) for k, e in whole.edges.items()}
    assert list(got.graph.edges) == list(whole.edges)
    assert {k: (n.label, n.props) for k, n in got.graph.nodes.items()} == \
        {k: (n.label, n.props) for k, n in whole.nodes.items()}


def test_the_build_graph_is_compact() -> None:
    """Edges hold their properties themselves (no dict, no second object) in tuples of a shared layout, and
    the edges of one fact share one values tuple: the seeds' graph stays within ~200 bytes of Python
    objects per edge (Edge, values tuple, key tuple; strings apart), where a props dict alone took ~240."""
    import sys

    from kg.graph import Edge, Props, build_graph
    from kg.parallel import extract_one

    root = Path(__file__).resolve().parents[1] / "seeds"
    g = build_graph([o.ex for o in (extract_one(p, 10 << 20) for p in sorted(root.glob("*.txt"))) if o.ex])
    edges = list(g.edges.values())
    assert len(edges) > 300 and all(type(e) is Edge and e.props is e for e in edges)
    assert all(k is e.key for k, e in g.edges.items())
    tuples = {id(e.values_tuple): e.values_tuple for e in edges}
    assert len(tuples) < 0.8 * len(edges)  # shared by the edges of one fact
    size = sum(map(sys.getsizeof, edges)) + sum(map(sys.getsizeof, tuples.values())) + \
        sum(sys.getsizeof(e.key) for e in edges)
    assert size / len(edges) < 200
    assert len({e.props.layout for e in edges}) < 30 and all(type(n.props) is Props for n in g.nodes.values())


def test_positional_tables_equal_the_dict_tables() -> None:
    """`layout_table` (Props, grouped by layout) gives the table `arrow_table` gives for the same rows as dicts,
    in the rows' order, including values that need coercion and columns no row has."""
    from kg.graph import Props
    from kg.stores.ladybug_arrow import arrow_table, layout_table

    rows = [Props({"a": "x", "n": 1}), Props({"n": 2.0, "a": "y"}), Props({"a": None}), Props({}),
            Props({"a": 3, "n": "4", "f": float("nan")}), Props({"n": True, "z": 1}), Props({"a": "z", "n": 5})]
    cols = [("a", "STRING"), ("n", "INT64"), ("f", "DOUBLE"), ("none", "STRING"), ("z", "BOOLEAN")]
    head = {"id": [str(i) for i in range(len(rows))]}
    want = arrow_table(head, [dict(p) for p in rows], cols)
    got = layout_table(head, rows, cols)
    assert got.equals(want) and got.schema == want.schema
    assert got.column("n").to_pylist() == [1, 2, None, None, 4, 1, 5]
    assert layout_table({"id": []}, [], cols).num_rows == 0
