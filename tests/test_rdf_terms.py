"""The N-Quads text kg.rdf writes by hand (kg.rdf_terms) parses back, in Oxigraph, to exactly the values mapped:
any string (quotes, backslashes, line breaks, control characters, astral characters), numbers, offsets and ids."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from kg.graph import PropertyGraph
from kg.rdf import PROV_KEYS, graph_to_nquads, graph_to_quads, iter_nquads, iter_quads, node_iri
from kg.rdf_terms import ENTITIES, XSD, literal_term, node_term, plain_term, zh_term

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)  # any character a Python str can encode
S, P = "<https://townkg.org/id/s>", "<https://townkg.org/ns#p>"


def object_of(term: str) -> Literal | NamedNode:
    quads = list(parse(f"{S} {P} {term} {ENTITIES} .\n".encode(), format=RdfFormat.N_QUADS))
    assert len(quads) == 1
    return quads[0].object


@settings(max_examples=300, deadline=None, derandomize=True)
@given(TEXT)
def test_strings_round_trip(text: str) -> None:
    assert object_of(plain_term(text)) == Literal(text)
    assert object_of(zh_term(text)) == Literal(text, language="zh")
    assert object_of(node_term(text)) == node_iri(text)  # ids of any spelling are valid IRIs


@pytest.mark.parametrize(("value", "kind", "expected"), [
    (12.5, "dec", Literal("12.5", datatype=NamedNode(XSD + "decimal"))),
    (1.89e8, "dec", Literal("189000000.0", datatype=NamedNode(XSD + "decimal"))),
    (Decimal("0.10"), "dec", Literal("0.10", datatype=NamedNode(XSD + "decimal"))),
    (float("nan"), "dec", Literal("NaN", datatype=NamedNode(XSD + "double"))),
    ("约3", "dec", Literal("约3")),  # not a number: kept as a string, and SHACL flags the datatype
    (120, "nnint", Literal("120", datatype=NamedNode(XSD + "nonNegativeInteger"))),
    (-1, "nnint", Literal("-1")),
    ("2023", "year", Literal("2023", datatype=NamedNode(XSD + "gYear"))),
    ("2023-H1", "period", Literal("2023-H1")),
    ("2024-01-15", "date", Literal("2024-01-15", datatype=NamedNode(XSD + "date"))),
    (True, "auto", Literal("true", datatype=NamedNode(XSD + "boolean"))),
    (7, "auto", Literal("7", datatype=NamedNode(XSD + "integer"))),
])
def test_typed_literals(value: object, kind: str, expected: Literal) -> None:
    assert object_of(literal_term(value, kind)) == expected


def _graph(quote: str, sentence: str) -> PropertyGraph:
    g = PropertyGraph()
    g.add_node("report:r1", "Report", file="a.txt", sha256="a" * 64, year=2023)
    g.add_node("town:1:甲镇", "Town", name="甲镇", level="镇")
    g.add_node("program:乡村振兴", "Program", name="乡村振兴")
    g.add_edge("town:1:甲镇", "IMPLEMENTS", "program:乡村振兴", report="report:r1", start=3, end=7, quote=quote,
               sentence=sentence, extractor="programs@1", stance="implemented", surface="乡村振兴")
    return g


@settings(max_examples=60, deadline=None, derandomize=True)
@given(TEXT.filter(bool), TEXT.filter(bool))
def test_fact_evidence_is_inline_and_exact(quote: str, sentence: str) -> None:
    quads = graph_to_quads(_graph(quote, sentence))
    fact = next(q.subject for q in quads if q.object == NamedNode("https://townkg.org/ns#Fact"))
    props = {q.predicate.value.rsplit("#", 1)[1]: q.object for q in quads if q.subject == fact}
    assert props["quote"] == Literal(quote)
    assert props["sentence"] == Literal(sentence, language="zh")
    assert (props["start"].value, props["end"].value) == ("3", "7")
    assert props["wasDerivedFrom"] == node_iri("report:r1")
    assert "evidence" not in props and "file" not in props  # the file is the report's tk:fileName
    assert set(PROV_KEYS) >= {"quote", "sentence", "start", "end"}


def test_chunks_are_the_whole_text_in_order() -> None:
    g = _graph("乡村振兴", "实施乡村振兴战略。")
    whole = graph_to_nquads(g)
    chunks = list(iter_nquads(g, batch=3))
    assert len(chunks) > 2 and b"".join(d for d, _ in chunks) == whole
    assert sum(n for _, n in chunks) == whole.count(b"\n") == len(graph_to_quads(g))
    assert [q for qs in iter_quads(g, batch=3) for q in qs] == graph_to_quads(g)
    assert all(isinstance(q, Quad) for q in graph_to_quads(g))
