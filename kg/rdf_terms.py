"""RDF terms of the TownKG mapping (`kg.rdf`) written as N-Triples text: IRIs and literals exactly as
N-Quads carries them.

Why text: a build maps ~1,550 quads per report. Formatting them as strings costs a fraction of making
pyoxigraph Term and Quad objects and serializing those (issue #8), and Oxigraph parses N-Quads in Rust
(`Store.bulk_load`); consumers that want objects parse the same text (`kg.rdf.iter_quads`), so there is one
mapping. Every term here is a complete N-Triples term: ``<iri>``, ``"lexical"@zh``, ``"lexical"^^<datatype>``.

>>> node_term("town:330282:泗门镇")
'<https://townkg.org/id/town:330282:%E6%B3%97%E9%97%A8%E9%95%87>'
>>> literal_term(12.50, "dec"), literal_term('说"好"', "zh"), literal_term("2023", "period")
('"12.5"^^<http://www.w3.org/2001/XMLSchema#decimal>', '"说\\\\"好\\\\""@zh', '"2023"^^<http://www.w3.org/2001/XMLSchema#gYear>')
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any
from urllib.parse import quote

from kg.graph import short_hash

TK = "https://townkg.org/ns#"
ID = "https://townkg.org/id/"
GRAPH_BASE = "https://townkg.org/graph/"

PREFIXES = {
    "tk": TK,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "qb": "http://purl.org/linked-data/cube#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "org": "http://www.w3.org/ns/org#",
    "oa": "http://www.w3.org/ns/oa#",
    "schema": "https://schema.org/",
}
XSD = PREFIXES["xsd"]


@cache
def iri(curie: str) -> str:
    """``tk:about`` → ``<https://townkg.org/ns#about>``."""
    prefix, local = curie.split(":", 1)
    return f"<{PREFIXES[prefix]}{local}>"


def term_value(term: str) -> str:
    """The IRI inside an IRI term (``<x>`` → ``x``)."""
    return term[1:-1]


# IRIs are immutable and the same ids recur (a report's graph on each of its quads, shared entities on every
# report's edges): caching them saves a quarter of the mapping's time (URL quoting).
@lru_cache(maxsize=1 << 16)
def node_term(node_id: str) -> str:
    return f"<{ID}{quote(node_id, safe=':')}>"


@lru_cache(maxsize=1 << 12)
def graph_term(report_id: str) -> str:
    return f"<{GRAPH_BASE}{quote(report_id, safe=':')}>"


ENTITIES = f"<{GRAPH_BASE}entities>"


@cache
def agent_term(extractor: str) -> str:
    return f"<{ID}agent/{quote(extractor, safe=':@')}>"


def fact_term(key: tuple[str, str, str, str]) -> str:
    return f"<{ID}fact/{short_hash(*key, n=24)}>"


def dataset_term(report_id: str) -> str:
    return f"<{ID}dataset/{quote(report_id, safe=':')}>"


def camel(key: str) -> str:
    head, *rest = re.split(r"[_\W]+", key.strip()) or [key]
    return quote(head[:1].lower() + head[1:] + "".join(w[:1].upper() + w[1:] for w in rest), safe="")


# ------------------------------------------------------------------ literals

_NEEDS_ESCAPE = re.compile(r'[\\"\n\r]')
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _quoted(text: str) -> str:
    return f'"{text.translate(_ESCAPES) if _NEEDS_ESCAPE.search(text) else text}"'


def plain_term(text: str) -> str:
    """A plain (xsd:string) literal."""
    return _quoted(text)


# Sentences and names recur on many facts of a report and across reports (the strings are interned).
@lru_cache(maxsize=1 << 14)
def zh_term(text: str) -> str:
    return _quoted(text) + "@zh"


def typed_term(lexical: str, datatype: str) -> str:
    return f'{_quoted(lexical)}^^<{XSD}{datatype}>'


def decimal_term(x: Any) -> str:
    """Numbers as xsd:decimal (exact lexical form); NaN/inf only fit xsd:double."""
    if isinstance(x, bool) or not isinstance(x, int | float | Decimal):
        try:
            x = float(str(x).strip())
        except ValueError:
            return plain_term(str(x))  # not a number: shapes will report the wrong datatype
    if isinstance(x, float) and not math.isfinite(x):
        return typed_term("NaN" if math.isnan(x) else ("INF" if x > 0 else "-INF"), "double")
    try:
        text = format(Decimal(repr(x) if isinstance(x, float) else x), "f")
    except InvalidOperation:
        return plain_term(str(x))
    return typed_term(text, "decimal")


_YEAR = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def literal_term(value: Any, kind: str) -> str:
    """The literal for a property value of the given kind (see `kg.rdf.PROPS`)."""
    if kind == "zh":
        return zh_term(str(value))
    if kind == "dec":
        return decimal_term(value)
    if kind == "nnint" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return f'"{value}"^^<{XSD}nonNegativeInteger>'
    if kind == "year" and _YEAR.match(str(value)):
        return typed_term(str(value), "gYear")
    if kind == "period":
        s = str(value)
        return typed_term(s, "gYear") if _YEAR.match(s) else plain_term(s)
    if kind == "date" and _DATE.match(str(value)):
        return typed_term(str(value), "date")
    return auto_term(value) if kind == "auto" else plain_term(str(value))


def auto_term(value: Any) -> str:
    """The literal for a prop the mapping does not know, typed from the Python value."""
    if isinstance(value, bool):
        return typed_term("true" if value else "false", "boolean")
    if isinstance(value, int):
        return typed_term(str(value), "integer")
    if isinstance(value, float | Decimal):
        return decimal_term(value)
    return plain_term(str(value))
