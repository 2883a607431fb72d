"""SPARQL on a build's embedded Oxigraph store (`kg query --sparql`, `kg query FILE.rq`).

Queries are read-only unless the caller asks for an update: the store is opened read-only (so a running
build or another reader is never disturbed) and update operations are refused up front with a clear
message instead of pyoxigraph's "expected SELECT" syntax error. The TownKG prefixes (tk:, prov:, qb:,
skos:, org:, oa:, schema:, ...) are predeclared, and the default graph is the union of all named graphs,
so plain patterns see every report while `GRAPH ?g { … }` still tells which report said what.

Parameters are bound as RDF terms, never pasted into the query as text: `params={"p": "乡村振兴"}`
substitutes `?p` with pyoxigraph's `substitutions` (SPARQL SEP-0007), so a value such as `"} ; DROP ALL ; #`
is only ever a string to compare with. pyoxigraph substitutes projected variables only; any other `?p`/`$p`
token (outside strings, IRIs and comments) is replaced by the term as pyoxigraph serializes it, an escaped
N-Triples term that no value can break out of. `sparql_term` says how a value becomes an RDF term.

Results keep pyoxigraph terms (`SparqlResult`); `to_json` / `to_csv` write the W3C SPARQL 1.1 results
formats, `to_table` a rich table with compact, percent-decoded IRIs for reading.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from typing import Literal as Lit
from urllib.parse import unquote

from pyoxigraph import BlankNode, Literal, NamedNode, QueryBoolean, QuerySolutions, Store, Triple, Variable

from kg.errors import Code, TownKGError
from kg.rdf import GRAPH_BASE, ID, PREFIXES

# SPARQL 1.1 Update operations (INSERT/DELETE also cover DELETE WHERE and DELETE/INSERT … WHERE).
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY")
QUERY_SUFFIXES = (".rq", ".sparql")
# Display-only prefixes for the table view (the data's own IRIs are never rewritten).
DISPLAY_PREFIXES = {"graph": GRAPH_BASE, "id": ID, **PREFIXES}
_XSD = PREFIXES["xsd"]

# Strings (long and short), IRIs and comments, which may contain keyword-looking text.
_SKIP = re.compile(r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
                   r"|<[^<>\"{}|^`\\\s]*>|#[^\n]*", re.S)
_TOKEN = re.compile(_SKIP.pattern + r"|[?$]([A-Za-z_][A-Za-z0-9_]*)", re.S)
_KEYWORD = re.compile(r"(?<![\w?$:.-])(" + "|".join(UPDATE_KEYWORDS) + r")(?![\w:-])", re.I)

Kind = Lit["select", "ask", "graph", "update"]
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_LANG_LITERAL = re.compile(r'"(.*)"@([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)\Z', re.S)
_IRI = re.compile(r"<([^<>\"{}|^`\\\s]+)>\Z")


@dataclass(slots=True)
class SparqlResult:
    """Rows of pyoxigraph terms (None = unbound); ASK sets `boolean`, CONSTRUCT/DESCRIBE give s/p/o rows."""

    kind: Kind
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    boolean: bool | None = None
    message: str = ""


def update_operations(text: str) -> list[str]:
    """Update keywords used as keywords (not inside strings, IRIs, comments, variables or prefixed names).

    >>> update_operations("SELECT ?delete WHERE { ?s tk:create 'DROP' } # INSERT")
    []
    >>> update_operations("PREFIX x: <http://x/> delete where { ?s x:p ?o } ; Load <http://x/y>")
    ['DELETE', 'LOAD']
    """
    stripped = _SKIP.sub(" ", text)
    return list(dict.fromkeys(m.group(1).upper() for m in _KEYWORD.finditer(stripped)))


def check_read_only(text: str) -> None:
    """Refuse an update unless asked for: a query must never change the build by accident."""
    ops = update_operations(text)
    if ops:
        raise TownKGError(Code.QUERY, f"this is a SPARQL update ({', '.join(ops)}), and queries are "
                          "read-only; pass --update to modify the store")


def sparql_term(value: Any) -> Any:
    """A parameter value as an RDF term: `<iri>` an IRI, `"text"@lang` a language-tagged literal,
    other text a plain string, numbers and booleans typed literals; pyoxigraph terms pass through.

    >>> [str(sparql_term(v)) for v in ("乡村振兴", '"乡村振兴"@zh', "<https://townkg.org/ns#Town>")]
    ['"乡村振兴"', '"乡村振兴"@zh', '<https://townkg.org/ns#Town>']
    >>> sparql_term(3).datatype.value, sparql_term(1.5).datatype.value
    ('http://www.w3.org/2001/XMLSchema#integer', 'http://www.w3.org/2001/XMLSchema#double')
    """
    if isinstance(value, NamedNode | BlankNode | Literal | Triple):
        return value
    if isinstance(value, bool | int | float):
        return Literal(value)
    text = str(value)
    if m := _IRI.match(text):
        return NamedNode(m.group(1))
    if m := _LANG_LITERAL.match(text):
        return Literal(m.group(1), language=m.group(2))
    return Literal(text)


def substitutions(params: dict[str, Any] | None) -> dict[Variable, Any] | None:
    """`{name: value}` as pyoxigraph substitutions for `?name`; names must be SPARQL variable names."""
    if not params:
        return None
    out = {}
    for name, value in params.items():
        if not _NAME.match(name):
            raise TownKGError(Code.QUERY, f"parameter names must be variable names (p, town_1), got {name!r}")
        out[Variable(name)] = sparql_term(value)
    return out


def bind_terms(text: str, terms: dict[Variable, Any]) -> str:
    r"""`?name`/`$name` tokens (not inside strings, IRIs or comments) replaced by serialized terms.

    >>> print(bind_terms("SELECT ?t WHERE { ?t rdfs:label ?x } # ?x", {Variable("x"): Literal("a\" } #")}))
    SELECT ?t WHERE { ?t rdfs:label "a\" } #" } # ?x
    """
    by_name = {v.value: str(t) for v, t in terms.items()}

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        return by_name.get(name, m.group(0)) if name else m.group(0)

    return _TOKEN.sub(sub, text)


def read_query_file(path: Path) -> str:
    """The text of a .rq file, with a one-line error when it is missing or not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TownKGError(Code.UNREADABLE, "query file not found", str(path)) from None
    except UnicodeDecodeError:
        raise TownKGError(Code.UNDECODABLE, "query file is not UTF-8", str(path)) from None


def store_dir(build_dir: Path) -> Path:
    """The Oxigraph directory of a build, or a one-line error saying how to make one."""
    path = build_dir / "rdf"
    if not (path / "CURRENT").is_file():
        raise TownKGError(Code.UNREADABLE, "no RDF store here; run `kg build` first (or pass --build DIR)",
                          str(path))
    return path


def run(build_dir: Path, text: str, *, update: bool = False, union: bool = True,
        params: dict[str, Any] | None = None) -> SparqlResult:
    """Run one SPARQL query (or, with `update`, an update) against `build_dir/rdf`; `params` bind `?name`s."""
    path = store_dir(build_dir)
    if not update or not update_operations(text):
        check_read_only(text)
        return query_store(Store.read_only(str(path)), text, union=union, params=params)
    if params:
        raise TownKGError(Code.QUERY, "parameters bind queries only, not updates")
    store = Store(str(path))
    try:
        before = len(store)
        try:
            store.update(text, prefixes=PREFIXES)
        except SyntaxError as e:
            raise TownKGError(Code.QUERY, f"SPARQL update syntax error: {e}") from None
        store.flush()
        after = len(store)
    finally:
        del store  # RocksDB releases the directory lock only when the Store is freed
    return SparqlResult("update", message=f"update applied: {before} → {after} quads ({after - before:+d})")


def query_store(store: Store, text: str, *, union: bool = True,
                params: dict[str, Any] | None = None) -> SparqlResult:
    """Evaluate a read-only query on an open store; syntax errors become one-line TownKGErrors."""
    terms = substitutions(params)
    try:
        try:
            res = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=union, substitutions=terms)
        except RuntimeError as e:  # pyoxigraph substitutes projected variables only
            if not terms or "projection" not in str(e):
                raise
            res = store.query(bind_terms(text, terms), prefixes=PREFIXES, use_default_graph_as_union=union)
    except SyntaxError as e:
        raise TownKGError(Code.QUERY, f"SPARQL syntax error: {e}") from None
    if isinstance(res, QueryBoolean):
        return SparqlResult("ask", boolean=bool(res))
    if isinstance(res, QuerySolutions):
        names = [v.value for v in res.variables]
        return SparqlResult("select", names, [[sol[n] for n in names] for sol in res])
    return SparqlResult("graph", ["subject", "predicate", "object"],
                        [[t.subject, t.predicate, t.object] for t in res])


# ------------------------------------------------------------------ output


def _json_term(t: Any) -> dict[str, str]:
    if isinstance(t, NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, Literal):
        out = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != _XSD + "string":
            out["datatype"] = t.datatype.value
        return out
    if isinstance(t, Triple):
        return {"type": "triple", "value": json.dumps({"subject": _json_term(t.subject),  # type: ignore[dict-item]
                                                       "predicate": _json_term(t.predicate),
                                                       "object": _json_term(t.object)})}
    return {"type": "literal", "value": str(t)}


def to_json(result: SparqlResult) -> str:
    """SPARQL 1.1 Query Results JSON (graph results as subject/predicate/object bindings)."""
    if result.kind == "ask":
        return json.dumps({"head": {}, "boolean": result.boolean})
    if result.kind == "update":
        return json.dumps({"update": result.message}, ensure_ascii=False)
    bindings = [{c: _json_term(v) for c, v in zip(result.columns, row, strict=True) if v is not None}
                for row in result.rows]
    return json.dumps({"head": {"vars": result.columns}, "results": {"bindings": bindings}},
                      ensure_ascii=False, indent=1)


def _csv_value(t: Any) -> str:
    if t is None:
        return ""
    if isinstance(t, BlankNode):
        return "_:" + t.value
    if isinstance(t, NamedNode | Literal):
        return t.value
    return str(t)


def to_csv(result: SparqlResult) -> str:
    """SPARQL 1.1 Query Results CSV: a header of variable names, then plain values (CRLF line ends)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if result.kind == "ask":
        w.writerows([["boolean"], ["true" if result.boolean else "false"]])
    elif result.kind == "update":
        w.writerows([["update"], [result.message]])
    else:
        w.writerow(result.columns)
        w.writerows([_csv_value(v) for v in row] for row in result.rows)
    return buf.getvalue()


def compact(t: Any) -> str:
    """A term for reading: prefixed, percent-decoded IRIs and bare literal values.

    >>> compact(NamedNode("https://townkg.org/id/town:330921:%E5%B2%B1%E8%A5%BF%E9%95%87"))
    'id:town:330921:岱西镇'
    >>> compact(Literal("189000000", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#decimal")))
    '189000000'
    """
    if t is None:
        return ""
    if isinstance(t, NamedNode):
        for prefix, base in DISPLAY_PREFIXES.items():
            if t.value.startswith(base) and len(t.value) > len(base):
                return f"{prefix}:{unquote(t.value[len(base):])}"
        return f"<{unquote(t.value)}>"
    return _csv_value(t)


def to_table(result: SparqlResult, title: str | None = None) -> Any:
    """A rich Table of the result (import kept local: only the CLI renders tables)."""
    from rich.table import Table

    if result.kind in ("ask", "update"):
        table = Table(title=title, show_header=True)
        table.add_column("boolean" if result.kind == "ask" else "update")
        table.add_row(str(result.boolean).lower() if result.kind == "ask" else result.message)
        return table
    n = len(result.rows)
    table = Table(title=title, caption=f"{n} row{'s' if n != 1 else ''}", title_justify="left")
    for c in result.columns:
        table.add_column(c, overflow="fold")
    for row in result.rows:
        table.add_row(*(compact(v) for v in row))
    return table
