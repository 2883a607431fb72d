"""Named cross-report queries (`queries/NAME.rq` + `queries/NAME.cypher`), run on any of the three engines.

Why it looks like this (issue #6):

* **One question, two languages, one answer.** Each question is a SPARQL file for the RDF store and a
  Cypher file for the property graphs, with the same header (question in Chinese and English,
  parameters, result columns). The Cypher text runs unchanged on LadybugDB and on Bolt servers (Neo4j;
  FalkorDB in the suite); `NAME.ladybug.cypher`, when present, replaces it on LadybugDB only, for a
  construct the two dialects spell differently (say why in its header).
* **Parameters never become query text by concatenation.** Cypher gets them as driver parameters
  (`$name`). SPARQL has no parameters and pyoxigraph's substitutions must be projected (SEP-0007), so a
  `$name` *token* outside strings, IRIs and comments is replaced by the value serialized as an RDF
  literal by pyoxigraph (`"…"` with every quote and backslash escaped, `"2"^^xsd:integer`): a value can
  only ever be one literal. FalkorDB turns Bolt parameters into a `CYPHER name='…'` text header without
  escaping (a `'` breaks the query or defines another parameter, `\\b` becomes a backspace), so string
  parameters are escaped for it, and only for it (Neo4j takes parameters as data).
* **Fast on Oxigraph at 10,000 reports (issue #8).** Oxigraph orders joins greedily from static guesses
  (a pattern with a constant object beats one without; VALUES beats both), then looks each next pattern up
  row by row (one RocksDB seek each) or, for sub-selects and OPTIONALs of three or more patterns, builds a
  hash table over *everything* the other side matches. So a question with a name starts from the name as
  literals — `VALUES ?l { $name@zh $name }` (the binder turns `$name@zh` into `"…"@zh`: names are `@zh` in
  TownKG RDF, kg/rdf.py) — never `FILTER(STR(?l) = $name)`, which reads every label; an OPTIONAL that
  must stay a per-row lookup is written `LATERAL { OPTIONAL { … } }` (SEP-0006, in Oxigraph); whole-store
  questions scan each property once (one sub-select per pattern: hash joins). Each `.rq` says its plan.
* **Comparable results.** `normalize` makes rows from any engine equal when the answers are: numbers to
  12 significant digits (integral ones as int: xsd:decimal 189000000 = DOUBLE 1.89e8), language tags
  dropped, rows sorted. Queries return plain values (names, ids, numbers), never IRIs or nodes.

Engines: `oxigraph` (the build's `rdf/`, read-only, union default graph, TownKG prefixes predeclared),
`ladybug` (the build's `graph.lbug`, read-only) and `neo4j` (any Bolt server, `kg load neo4j` first).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kg.errors import Code, TownKGError

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
ENGINES = ("oxigraph", "ladybug", "neo4j")
TYPES = ("string", "integer", "number")
LADYBUG_SUFFIX = ".ladybug.cypher"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_HEADER_KEYS = ("zh", "en", "param", "columns")
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_PARAM = re.compile(r"(?P<name>[a-z][a-z0-9_]*)\s+(?P<type>\w+)\s*=\s*(?P<default>[^|]*?)\s*"
                    r"(?:\|\s*(?P<help>.*))?\Z")
# SPARQL strings (long and short), comments and IRIs are copied as they are; `$name` elsewhere is a parameter.
_SPARQL_STRINGS = r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*"
_SPARQL_IRI = r"<[^<>\"{}|^`\\\s]*>"
_SPARQL_TOKEN = re.compile(f"{_SPARQL_STRINGS}|{_SPARQL_IRI}|[$?](?P<var>[A-Za-z_][A-Za-z0-9_]*)", re.S)
_SPARQL_TEXT = re.compile(f"{_SPARQL_STRINGS}|{_SPARQL_IRI}", re.S)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str  # string | integer | number
    default: Any
    help: str = ""

    def parse(self, raw: Any) -> Any:
        """A value of this parameter's type from CLI text (or an already typed value)."""
        if self.type == "string":
            return raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
        try:
            number = Decimal(str(raw).strip())
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise TownKGError(Code.QUERY, f"--param {self.name} wants a number ({self.type}), got {raw!r}") \
                from None
        if self.type == "integer":
            if number != number.to_integral_value():
                raise TownKGError(Code.QUERY, f"--param {self.name} wants an integer, got {raw!r}")
            return int(number)
        return float(number)


@dataclass(slots=True)
class NamedQuery:
    name: str
    question_zh: str
    question_en: str
    params: list[Param]
    columns: list[str]
    sparql: str
    cypher: str
    ladybug_cypher: str | None = None
    notes: list[str] = field(default_factory=list)

    def cypher_for(self, engine: str) -> str:
        return self.ladybug_cypher if engine == "ladybug" and self.ladybug_cypher else self.cypher

    def bind(self, given: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every parameter typed: the given value, else its default; unknown names are an error."""
        given = dict(given or {})
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            have = ", ".join(known) or "none"
            raise TownKGError(Code.QUERY, f"query {self.name} has no parameter {', '.join(unknown)} "
                              f"(parameters: {have})")
        return {n: p.parse(given[n]) if n in given else p.default for n, p in known.items()}


@dataclass(slots=True)
class Result:
    """Column names and rows of plain Python values (None = unbound/NULL), in the engine's order."""

    columns: list[str]
    rows: list[list[Any]]
    engine: str = ""
    more: bool = False  # rows were cut at the `limit` given to `run`


# ------------------------------------------------------------------ discovery


def parse_header(text: str, comment: str) -> tuple[dict[str, list[str]], list[str]]:
    """`key: value` lines of the leading comment block (keys zh, en, param, columns) and the other lines."""
    fields: dict[str, list[str]] = {k: [] for k in _HEADER_KEYS}
    notes: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith(comment):
            break
        body = s[len(comment):].strip()
        key, sep, value = body.partition(":")
        if sep and key.strip().lower() in fields:
            fields[key.strip().lower()].append(value.strip())
        elif body:
            notes.append(body)
    return fields, notes


def _param(spec: str, where: str) -> Param:
    m = _PARAM.match(spec)
    if m is None or m["type"] not in TYPES:
        raise TownKGError(Code.QUERY, f"bad parameter line {spec!r}; write `param: NAME {'|'.join(TYPES)} = "
                          "DEFAULT | help`", where)
    raw = m["default"]
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        raw = json.loads(raw)
    p = Param(m["name"], m["type"], raw, (m["help"] or "").strip())
    return Param(p.name, p.type, p.parse(raw), p.help)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TownKGError(Code.UNDECODABLE, "query file is not UTF-8", str(path)) from None


def load(name: str, directory: Path = QUERIES_DIR) -> NamedQuery:
    """One named query from `directory/NAME.rq` and `NAME.cypher`; their headers must agree."""
    rq, cy = directory / f"{name}.rq", directory / f"{name}.cypher"
    if not _NAME.match(name) or not rq.is_file() or not cy.is_file():
        names = ", ".join(discover(directory)) or "none"
        raise TownKGError(Code.QUERY, f"no named query {name!r} (named queries: {names}; `kg query --list`)")
    sparql, cypher = _read(rq), _read(cy)
    head, notes = parse_header(sparql, "#")
    other, _ = parse_header(cypher, "//")
    if head != other:
        diff = [k for k in _HEADER_KEYS if head[k] != other[k]]
        raise TownKGError(Code.QUERY, f"the headers of {rq.name} and {cy.name} differ in {', '.join(diff)}",
                          str(directory))
    if not head["zh"] or not head["en"] or not head["columns"]:
        raise TownKGError(Code.QUERY, "a named query needs zh:, en: and columns: header lines", str(rq))
    lb = directory / f"{name}{LADYBUG_SUFFIX}"
    return NamedQuery(
        name=name, question_zh=" ".join(head["zh"]), question_en=" ".join(head["en"]),
        params=[_param(p, str(rq)) for p in head["param"]],
        columns=[c.strip() for c in ",".join(head["columns"]).split(",") if c.strip()],
        sparql=sparql, cypher=cypher, ladybug_cypher=_read(lb) if lb.is_file() else None, notes=notes)


def discover(directory: Path = QUERIES_DIR) -> list[str]:
    """Names of the named queries in `directory` (a `.rq` with its `.cypher`), sorted."""
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.rq")
                  if _NAME.match(p.stem) and (directory / f"{p.stem}.cypher").is_file())


def load_all(directory: Path = QUERIES_DIR) -> list[NamedQuery]:
    return [load(n, directory) for n in discover(directory)]


# ------------------------------------------------------------------ binding


def sparql_literal(value: Any) -> str:
    r"""A parameter value as one SPARQL literal, serialized (and escaped) by pyoxigraph.

    >>> print(sparql_literal('乡村"振兴\\'), sparql_literal(2), sparql_literal(1e9))
    "乡村\"振兴\\" "2"^^<http://www.w3.org/2001/XMLSchema#integer> "1000000000"^^<http://www.w3.org/2001/XMLSchema#decimal>
    """
    from pyoxigraph import Literal, NamedNode

    if isinstance(value, bool):
        return str(Literal("true" if value else "false", datatype=NamedNode(_XSD + "boolean")))
    if isinstance(value, int):
        return str(Literal(str(value), datatype=NamedNode(_XSD + "integer")))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TownKGError(Code.QUERY, f"not a finite number: {value!r}")
        text = format(Decimal(repr(value)).normalize(), "f")
        return str(Literal(text, datatype=NamedNode(_XSD + "decimal")))
    return str(Literal(str(value)))


def bind_sparql(text: str, values: dict[str, Any]) -> str:
    r"""Replace each `$name` token of a declared parameter by its literal (strings/IRIs/comments untouched).

    >>> print(bind_sparql('SELECT ?x WHERE { ?x rdfs:label ?l FILTER(STR(?l) = $p) } # $p', {"p": 'x" }'}))
    SELECT ?x WHERE { ?x rdfs:label ?l FILTER(STR(?l) = "x\" }") } # $p
    >>> print(bind_sparql("VALUES ?l { $p@zh $p }", {"p": "乡村振兴"}))  # a name as @zh literal
    VALUES ?l { "乡村振兴"@zh "乡村振兴" }
    """
    def sub(m: re.Match[str]) -> str:
        var = m["var"]
        if var is not None and m.group(0)[0] == "$" and var in values:
            return sparql_literal(values[var])
        return m.group(0)

    bound = _SPARQL_TOKEN.sub(sub, text)
    # A `$name` left in the code sat in what looked like an IRI (`?a<$x&&?b>1`): it would silently be an
    # unbound variable, so refuse.
    code = _SPARQL_TEXT.sub(lambda m: m[0] if m[0].startswith("<") else " ", bound)  # IRIs kept
    left = sorted(set(re.findall(r"\$([A-Za-z_]\w*)", code)) & set(values))
    if left:
        raise TownKGError(Code.QUERY, f"cannot bind ${', $'.join(left)} in the SPARQL text (put spaces "
                          "around < and > so a comparison does not read as an IRI)")
    return bound


def cypher_params(text: str, values: dict[str, Any]) -> dict[str, Any]:
    """The parameters the Cypher text uses (LadybugDB refuses unused ones)."""
    used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", text))
    return {k: v for k, v in values.items() if k in used}


# ------------------------------------------------------------------ engines


def _run_oxigraph(text: str, build_dir: Path) -> Result:
    from pyoxigraph import Store

    from kg.sparql import check_read_only, query_store, store_dir
    from kg.stores.oxigraph_store import to_python

    check_read_only(text)
    res = query_store(Store.read_only(str(store_dir(build_dir))), text)
    if res.kind != "select":
        raise TownKGError(Code.QUERY, "a named SPARQL query must be a SELECT")
    return Result(res.columns, [[to_python(v) for v in row] for row in res.rows], "oxigraph")


def _run_ladybug(text: str, params: dict[str, Any], build_dir: Path) -> Result:
    from kg import cypher as cy

    res = cy.run(build_dir, text, params=cypher_params(text, params))
    return Result(res.columns, res.rows, "ladybug")


def _falkordb_escape(value: Any) -> Any:
    r"""A parameter as FalkorDB must get it: `\` and `'` escaped in every string (module docstring).

    >>> _falkordb_escape(["a'b", "c\\d", 2])
    ["a\\'b", 'c\\\\d', 2]
    """
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("'", "\\'")
    if isinstance(value, list | tuple):
        return [_falkordb_escape(v) for v in value]
    return value


def _run_bolt(text: str, params: dict[str, Any], uri: str, user: str, password: str,
              database: str | None) -> Result:
    from neo4j import exceptions as nex

    from kg.cypher import plain
    from kg.stores.bolt_connect import detect, driver, one_line

    d = driver(uri, user, password)
    params = cypher_params(text, params)
    with d.session(database=database) if database else d.session() as s:
        if detect(s, d.get_server_info().agent).kind == "falkordb":
            params = {k: _falkordb_escape(v) for k, v in params.items()}
        try:
            res = s.run(text, params)
            columns = list(res.keys())
            rows = [[plain(v) for v in rec.values()] for rec in res]
        except nex.Neo4jError as e:
            raise TownKGError(Code.QUERY, f"Cypher error: {one_line(e)}", uri) from None
        except (nex.DriverError, OSError) as e:
            raise TownKGError(Code.STORE, f"the Bolt server failed: {one_line(e)}", uri) from None
    return Result(columns, rows, "neo4j")


def run(query: NamedQuery | str, params: dict[str, Any] | None = None, *, engine: str = "oxigraph",
        build_dir: Path = Path("build"), uri: str = "bolt://127.0.0.1:7687", user: str = "neo4j",
        password: str = "", database: str | None = None, directory: Path = QUERIES_DIR,
        limit: int | None = None) -> Result:
    """Run a named query on one engine with its parameters bound (defaults filled in).

    `limit` > 0 keeps the first `limit` rows of a query that ends in ORDER BY (`Result.more` says whether
    rows were cut); whole-store questions return 10⁴–10⁵ rows at 10,000 reports, and the engines stop
    early (top-k sort, no row conversion) when they are told.
    """
    q = load(query, directory) if isinstance(query, str) else query
    if engine not in ENGINES:
        raise TownKGError(Code.QUERY, f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    values = q.bind(params)
    cypher = q.cypher_for(engine)
    if not (ends_ordered(q.sparql, "#") and ends_ordered(cypher, "//")):
        limit = None  # unordered: which rows come first is up to the engine, so never cut
    if engine == "oxigraph":
        res = _run_oxigraph(with_limit(bind_sparql(q.sparql, values), "#", limit), build_dir)
    elif engine == "ladybug":
        res = _run_ladybug(with_limit(cypher, "//", limit), values, build_dir)
    else:
        res = _run_bolt(with_limit(cypher, "//", limit), values, uri, user, password, database)
    if limit and limit > 0 and len(res.rows) > limit:
        res.rows, res.more = res.rows[:limit], True
    return res


_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.I)
_AFTER_ORDER = re.compile(r"\b(RETURN|UNION|SELECT|WITH|LIMIT|OFFSET)\b|[{}]", re.I)


def ends_ordered(text: str, comment: str) -> bool:
    r"""True when a query's last clause is ORDER BY (so a LIMIT may follow it: the first rows are defined).

    >>> ends_ordered("MATCH (n) RETURN n.a AS a\nORDER BY a // why", "//")
    True
    >>> ends_ordered("SELECT * {} ORDER BY ?a LIMIT 3", "#")
    False
    """
    body = "\n".join(ln.split(comment, 1)[0] if not ln.lstrip().startswith(comment) else ""
                     for ln in text.splitlines())
    found = list(_ORDER_BY.finditer(body))
    return bool(found) and not _AFTER_ORDER.search(body, found[-1].end())


def with_limit(text: str, comment: str, limit: int | None) -> str:
    """`text` asking for one row more than `limit` (to tell a cut answer from a complete one), when it ends in
    ORDER BY and `limit` > 0; otherwise `text` unchanged."""
    if not limit or limit <= 0 or not ends_ordered(text, comment):
        return text
    return f"{text.rstrip()}\nLIMIT {int(limit) + 1}\n"


# ------------------------------------------------------------------ comparable results


def normalize_value(v: Any) -> Any:
    """One value in the form every engine agrees on.

    >>> [normalize_value(x) for x in (189000000.0, 7945999999.999999, 66.17, "2022", None, True, 3)]
    [189000000, 7946000000, 66.17, '2022', None, True, 3]
    """
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int | float | Decimal):
        f = float(v)
        if not math.isfinite(f):
            return str(f)
        f = float(f"{f:.12g}")
        return int(f) if f.is_integer() and abs(f) < 2**53 else f
    if isinstance(v, list | tuple):
        return [normalize_value(x) for x in v]
    return str(v)


def _sort_key(row: list[Any]) -> list[tuple[int, Any]]:
    return [(0, "") if v is None else (1, v) if isinstance(v, int | float) and not isinstance(v, bool)
            else (2, str(v)) for v in row]


def normalize(result: Result, *, sort: bool = True) -> list[list[Any]]:
    """Rows with normalized values, sorted (the engine's order means nothing across engines)."""
    rows = [[normalize_value(v) for v in row] for row in result.rows]
    return sorted(rows, key=_sort_key) if sort else rows


def records(result: Result) -> list[dict[str, Any]]:
    """Normalized rows as dicts (column → value), in the engine's order: what tests and callers read."""
    return [dict(zip(result.columns, row, strict=True)) for row in normalize(result, sort=False)]


# ------------------------------------------------------------------ CLI helpers (rendering stays lazy)


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """`--param NAME=VALUE` pairs as text; each query's header gives the types.

    >>> parse_assignments(["program=乡村振兴", "min_towns=3", "q=a=b"])
    {'program': '乡村振兴', 'min_towns': '3', 'q': 'a=b'}
    """
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise TownKGError(Code.QUERY, f"--param wants NAME=VALUE, got {item!r}")
        out[name.strip()] = raw
    return out


def looks_like_name(arg: str) -> bool:
    """True when a `kg query` argument names a query rather than a file (no suffix, no directory)."""
    return bool(_NAME.match(arg))


def list_table(queries: list[NamedQuery]) -> Any:
    """`kg query --list`: name, question (zh + en), parameters with types and defaults."""
    from rich.table import Table

    table = Table(title="Named queries (queries/*.rq + *.cypher): kg query NAME [--param k=v …]",
                  title_justify="left", show_lines=True)
    table.add_column("name", no_wrap=True)
    table.add_column("question")
    table.add_column("parameters (type = default)")
    for q in queries:
        params = "\n".join(f"{p.name} {p.type} = {json.dumps(normalize_value(p.default), ensure_ascii=False)}"
                           for p in q.params) or "—"
        table.add_row(q.name, f"{q.question_zh}\n{q.question_en}", params)
    return table


def as_rows(result: Result) -> Any:
    """The result as a `kg.cypher.CypherResult` (normalized values, engine order) for its renderers."""
    from kg.cypher import CypherResult

    return CypherResult(result.columns, normalize(result, sort=False))
