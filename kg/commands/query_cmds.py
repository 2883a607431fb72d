"""`kg query`, `kg export`, `kg validate`: ask, serialize and check a built graph."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kg.cli_app import BUILD, SEEDS, _bytes, _err, _example, app, guarded  # noqa: F401
from kg.errors import Code, TownKGError

# Rows a named query prints unless told (--limit 0: all), as Datasette's max_returned_rows.
DEFAULT_LIMIT = 1000

# ---------------------------------------------------------------- query

class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Engine(StrEnum):
    oxigraph = "oxigraph"
    ladybug = "ladybug"
    neo4j = "neo4j"


# The query language comes from the flag (--sparql '…') or the file suffix; issue #5 adds "cypher"
# (--cypher, .cypher), issue #6 named queries from queries/.
QUERY_SUFFIXES: dict[str, str] = {".rq": "sparql", ".sparql": "sparql",
                                  ".cypher": "cypher", ".cyp": "cypher", ".cql": "cypher"}


def _query_source(file: Path | None, **inline: str | None) -> tuple[str, str]:
    """(language, text) from exactly one of the inline-query flags or FILE."""
    given = [(lang, text) for lang, text in inline.items() if text is not None]
    flags = " or ".join(f"--{lang} '…'" for lang in inline)
    if len(given) + (file is not None) != 1:
        raise TownKGError(Code.QUERY, f"give exactly one query: {flags}, or a query FILE "
                          f"({', '.join(QUERY_SUFFIXES)})")
    if file is None:
        return given[0]
    lang = QUERY_SUFFIXES.get(file.suffix.lower())
    if lang is None:
        raise TownKGError(Code.QUERY, f"cannot tell the query language from the file suffix; use "
                          f"{', '.join(QUERY_SUFFIXES)} or {flags}", str(file))
    from kg.sparql import read_query_file

    return lang, read_query_file(file)


@app.command(epilog=_example("kg query --sparql 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'",
                             "kg query my-query.rq --format csv > answer.csv",
                             "kg query --update --sparql 'DELETE WHERE { GRAPH ?g { ?s tk:modifier ?m } }'",
                             "kg query --cypher 'MATCH (t:Town)-[:IMPLEMENTS]->(:Program {name: $p}) "
                             "RETURN t.name' --param p=乡村振兴",
                             "kg query towns.cypher --format json",
                             "kg query --list",
                             "kg query shared_programs --param min_towns=3 --engine ladybug",
                             "kg query fact_provenance --param subject=岱西镇 --param object=财政总收入 "
                             "-f json"))
@guarded
def query(
    file: Annotated[Path | None, typer.Argument(help="A named query (`kg query --list`), or a query file "
                                                "whose suffix picks the language (.rq, .sparql: SPARQL; "
                                                ".cypher, .cyp, .cql: Cypher).", show_default=False)] = None,
    sparql: Annotated[str | None, typer.Option(
        "--sparql", help="SPARQL query on the build's Oxigraph store; TownKG prefixes (tk:, prov:, qb:, "
        "skos:…) are predeclared and the default graph is the union of all graphs.",
        show_default=False)] = None,
    cypher: Annotated[str | None, typer.Option(
        "--cypher", help="Cypher query on the build's LadybugDB property graph (labels and types: "
        "ontology/property-graph.md).", show_default=False)] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="Parameter NAME=VALUE, repeatable: of a named query (typed by its header), of Cypher "
        "($NAME) or SPARQL (?NAME); VALUE as JSON if it parses, else text (SPARQL: <iri>, \"text\"@zh).",
        show_default=False)] = None,
    fmt: Annotated[QueryFormat, typer.Option("--format", "-f", help="table for reading; csv and json are the "
                                             "W3C SPARQL results formats (Cypher: CSV with a header, a JSON "
                                             "array of row objects).")] = QueryFormat.table,
    update: Annotated[bool, typer.Option("--update", help="Allow SPARQL updates (INSERT, DELETE, LOAD, "
                                         "CLEAR, DROP, CREATE…) or Cypher writes to modify the build's "
                                         "store.")] = False,
    build_dir: Annotated[Path, typer.Option("--build", help="Build directory made by `kg build`.")] = BUILD,
    list_: Annotated[bool, typer.Option("--list", help="List the named queries: name, question, "
                                        "parameters.")] = False,
    engine: Annotated[Engine, typer.Option("--engine", help="Where a named query runs: the build's Oxigraph "
                                           "(SPARQL) or LadybugDB (Cypher), or a Bolt server (--uri).")]
    = Engine.oxigraph,
    uri: Annotated[str, typer.Option("--uri", help="Bolt URI for --engine neo4j.")] = "bolt://127.0.0.1:7687",
    user: Annotated[str, typer.Option("--user", envvar="NEO4J_USERNAME", help="User for --engine neo4j.")]
    = "neo4j",
    password: Annotated[str, typer.Option("--password", envvar="NEO4J_PASSWORD", help="Password for --engine "
                                          "neo4j (or NEO4J_PASSWORD).", show_default=False)] = "",
    database: Annotated[str | None, typer.Option("--database", help="Database for --engine neo4j.",
                                                 show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Named queries: at most this many rows, the "
                                       "first in the query's order (a note says when rows were left "
                                       "out); 0 = all.")] = DEFAULT_LIMIT,
) -> None:
    """Query the built graph: a named question, SPARQL or Cypher (read-only unless --update)."""
    from kg import named_queries as nq

    if list_:
        Console().print(nq.list_table(nq.load_all()))
        return
    if file is not None and sparql is None and cypher is None and nq.looks_like_name(str(file)):
        if update:
            raise TownKGError(Code.QUERY, "named queries are read-only; --update is for SPARQL or Cypher")
        q = nq.load(str(file))
        res = nq.run(q, nq.parse_assignments(param), engine=str(engine), build_dir=build_dir, uri=uri,
                     user=user, password=password, database=database, limit=limit)
        if fmt is QueryFormat.table:
            Console().print(f"[bold]{q.name}[/bold] ({res.engine}): {q.question_zh}\n{q.question_en}")
        _render_cypher(nq.as_rows(res), fmt)
        if res.more:
            typer.echo(f"kg query {q.name}: showing the first {limit} rows; --limit 0 shows all", err=True)
        return
    if engine is not Engine.oxigraph:
        raise TownKGError(Code.QUERY, "--engine is for named queries (`kg query --list`); --sparql runs on "
                          "the build's Oxigraph, --cypher on its LadybugDB")
    lang, text = _query_source(file, sparql=sparql, cypher=cypher)
    if lang == "sparql":
        from kg import sparql as sq
        from kg.cypher import parse_params

        result = sq.run(build_dir, text, update=update, params=parse_params(param))
        if fmt is QueryFormat.json:
            typer.echo(sq.to_json(result))
        elif fmt is QueryFormat.csv:
            typer.echo(sq.to_csv(result), nl=False)
        else:
            Console().print(sq.to_table(result))
    elif lang == "cypher":
        from kg import cypher as cy

        _render_cypher(cy.run(build_dir, text, update=update, params=cy.parse_params(param)), fmt)


def _render_cypher(rows: Any, fmt: QueryFormat) -> None:
    """Cypher and named-query results: a JSON array of row objects, CSV with a header, or a table."""
    from kg import cypher as cy

    if fmt is QueryFormat.json:
        typer.echo(cy.to_json(rows))
    elif fmt is QueryFormat.csv:
        typer.echo(cy.to_csv(rows), nl=False)
    else:
        Console().print(cy.to_table(rows))



# ---------------------------------------------------------------- export (formats: kg.export.EXPORTERS)


def _export_formats() -> dict[str, Any]:
    from kg.export import EXPORTERS

    return EXPORTERS


ExportFormat = StrEnum("ExportFormat", {k: k for k in _export_formats()})  # type: ignore[misc]


@app.command(epilog=_example("kg export --format ttl --out townkg.ttl",
                             "kg export --format trig --build build/ > townkg.trig",
                             "kg export --format jsonld --out townkg.jsonld",
                             "kg export --format neo4j-csv --out csv/   # then run csv/import.sh",
                             "kg export --format graphml --out townkg.graphml"))
@guarded
def export(
    fmt: Annotated[ExportFormat, typer.Option(  # type: ignore[valid-type]
        "--format", "-f", help="; ".join(f"{k}: {e.help}" for k, e in _export_formats().items()),
        show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: stdout).",
                                             show_default=False)] = None,
    build_dir: Annotated[Path, typer.Option("--build", help="Build directory made by `kg build`.")] = BUILD,
) -> None:
    """Export the built graph as RDF (Turtle, TriG, N-Quads, JSON-LD), Neo4j import CSV or GraphML."""
    from kg.export import export as run_export

    line = run_export(str(fmt), build_dir, out)
    typer.echo(f"Exported {line}", err=out is None)  # stdout carries the data when there is no --out



# ---------------------------------------------------------------- validate


@app.command(epilog=_example("kg validate", "kg validate --build build/ --shapes my-shapes.ttl"))
@guarded
def validate(
    build_dir: Annotated[Path, typer.Option("--build", help="Build directory made by `kg build`.")] = BUILD,
    shapes: Annotated[Path | None, typer.Option("--shapes", help="SHACL shapes file (default: "
                                                "ontology/shapes.ttl).", show_default=False)] = None,
) -> None:
    """Validate the built RDF graph against the SHACL shapes; one line per violation, exit 1 if any."""
    from kg.rdf import SHAPES_PATH
    from kg.shacl import validate_build

    shapes = shapes or SHAPES_PATH
    if not shapes.is_file():
        raise TownKGError(Code.UNREADABLE, "shapes file not found", str(shapes))
    result = validate_build(build_dir, shapes)
    for v in result.violations:
        typer.echo(v.line())
    typer.echo(result.summary_line())
    if not result.conforms:
        raise typer.Exit(1)


if __name__ == "__main__":  # `python cli.py …` works without installing
    sys.exit(app())
