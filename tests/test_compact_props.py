"""Compact node and edge properties (issue 8, memory): `kg.graph.Props` behaves as the dict it replaces,
layouts are shared, edges hold their own properties, and everything survives pickling."""

from __future__ import annotations

import copy
import pickle

import pytest

from kg.graph import Edge, Node, PropertyGraph, Props


def test_props_reads_like_the_dict_it_replaces() -> None:
    d = {"report": "report:1", "start": 300, "end": 310, "quote": "乡村振兴", "flag": None}
    p = Props(d)
    assert p == d and d == p and dict(p) == d and {**p} == d
    assert list(p) == list(d) and list(p.keys()) == list(d) and list(p.values()) == list(d.values())
    assert list(p.items()) == list(d.items()) and len(p) == len(d) == len(p.items())
    assert p["start"] == 300 and p.get("end") == 310 and p.get("nope") is None and p.get("nope", 7) == 7
    assert "quote" in p and "nope" not in p and "flag" in p and ("quote", "乡村振兴") in p.items()
    with pytest.raises(KeyError):
        p["nope"]
    assert p != {**d, "start": 301} and p != {"report": "report:1"} and p != ["report"]
    assert Props(d) == Props(reversed(list(d.items())))  # dict equality: order does not matter
    assert Props() == {} and not Props() and Props(a=1) == {"a": 1}
    assert repr(p) == repr(d)


def test_layouts_are_shared_and_values_kept_in_a_tuple() -> None:
    a, b = Props({"x": 1, "y": "s"}), Props({"x": 2, "y": "t"})
    assert a.layout is b.layout == ("x", "y") and a.values_tuple == (1, "s")
    assert Props({"y": "s", "x": 1}).layout == ("y", "x")  # insertion order kept, as a dict keeps it
    assert Props.of(("x", "y"), (3, "u")) == {"x": 3, "y": "u"} and Props.of(("x", "y"), (3, "u")).layout is a.layout


def test_mutations_change_only_that_mapping() -> None:
    a, b = Props({"x": 1}), Props({"x": 1})
    assert a.setdefault("x", 9) == 1 and a.setdefault("p", 4) == 4 and a == {"x": 1, "p": 4}
    assert b == {"x": 1} and b.layout == ("x",)
    a["x"] = 5
    a["q"] = None
    assert list(a.items()) == [("x", 5), ("p", 4), ("q", None)]
    del a["p"]
    assert a == {"x": 5, "q": None} and a.layout == ("x", "q")
    assert a.pop("q") is None and a == {"x": 5}
    a.update(y=2)
    assert dict(a) == {"x": 5, "y": 2}
    with pytest.raises(KeyError):
        del a["nope"]
    c = a.copy()
    c["x"] = 0
    assert a["x"] == 5


def test_edges_hold_their_props_and_key() -> None:
    e = Edge("town:1", "IMPLEMENTS", "program:a", {"report": "report:r", "start": 5})
    assert (e.src, e.type, e.dst) == ("town:1", "IMPLEMENTS", "program:a")
    assert e.key == ("town:1", "IMPLEMENTS", "program:a", "report:r") and e.props is e
    assert e.props == {"report": "report:r", "start": 5} and e.props.get("start") == 5
    assert Edge("a", "T", "b").key == ("a", "T", "b", "") and Edge("a", "T", "b")  # truthy without props
    assert e == Edge("town:1", "IMPLEMENTS", "program:a", Props({"report": "report:r", "start": 5}))
    assert e != Edge("town:2", "IMPLEMENTS", "program:a", {"report": "report:r", "start": 5})
    assert e != Edge("town:1", "IMPLEMENTS", "program:a", {"report": "report:r", "start": 6})
    e.props.setdefault("paragraph", 40)  # what kg.assembly.annotate does
    assert e.props["paragraph"] == 40 and list(e.props)[-1] == "paragraph"
    assert repr(e).startswith("Edge(src='town:1', type='IMPLEMENTS'") and "'paragraph': 40" in repr(e)


def test_graph_edges_are_compact_and_keyed_as_before() -> None:
    g = PropertyGraph()
    g.add_edge("t", "HOSTS", "c", report="report:r", quote=None, start=1)
    g.add_edge("t", "HOSTS", "c", report="report:r", start=2)  # same key: the first one stays
    (key, e), = g.edges.items()
    assert key is e.key and key == ("t", "HOSTS", "c", "report:r")
    assert e.props == {"report": "report:r", "start": 1} and type(e).__slots__ == ("key",)
    g.add_node("n", "Town", name="镇", level=None)
    g.add_node("n", "Town", name="别的", level="镇")  # later writers only fill gaps
    assert type(g.nodes["n"].props) is Props and g.nodes["n"].props == {"name": "镇", "level": "镇"}
    assert Node("x", "Town", {"a": 1}).props == {"a": 1} and type(Node("x", "Town").props) is Props


def test_pickling_and_copying_keep_everything() -> None:
    g = PropertyGraph()
    for i in range(3):
        g.add_node(f"o{i}", "Observation", name="GDP", value=float(i), report="report:r")
        g.add_edge("t", "REPORTS", f"o{i}", report="report:r")
    got = pickle.loads(pickle.dumps(g, pickle.HIGHEST_PROTOCOL))
    assert got == g and list(got.edges) == list(g.edges)
    assert [type(e) for e in got.edges.values()] == [Edge] * 3
    layouts = {e.props.layout for e in got.edges.values()}
    assert len(layouts) == 1 and next(iter(layouts)) is g.edges[("t", "REPORTS", "o0", "report:r")].layout
    p = Props({"a": [1, 2]})
    assert pickle.loads(pickle.dumps(p)) == p and copy.copy(p) == p
    deep = copy.deepcopy(p)
    deep["a"].append(3)
    assert p["a"] == [1, 2]
