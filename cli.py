"""The `kg` command: a thin typer shell over the library (parse options, call one function, render).

Every user-facing failure ends as one line on stderr (`error: <file>: <problem> [Exxx]`) and a
non-zero exit, never a traceback: `TownKGError` and `OSError` are expected and explained; anything
else is a bug, reported in one line too unless KG_DEBUG=1 asks for the traceback.
Exit codes: 0 ok, 1 failed (nothing built, bad input, store error), 2 usage or not yet available.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from kg import __version__
from kg.errors import Code, TownKGError

F = TypeVar("F", bound=Callable[..., Any])
SEEDS, BUILD = Path("seeds"), Path("build")

app = typer.Typer(
    name="kg",
    help="TownKG: build a knowledge graph (RDF + property graph) from Chinese town government work reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _err(message: str) -> None:
    typer.echo(f"error: {' '.join(message.split())}", err=True)


def guarded(fn: F) -> F:
    """Turn expected failures into one stderr line and an exit code (the CLI's only error policy)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except TownKGError as e:
            _err(str(e))
            raise typer.Exit(2 if e.code is Code.NOT_YET else 1) from None
        except OSError as e:
            where = f"{e.filename}: " if e.filename else ""
            _err(f"{where}{e.strerror or e}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            _err("interrupted")
            raise typer.Exit(130) from None
        except Exception as e:
            if os.environ.get("KG_DEBUG"):
                raise
            _err(f"internal error {type(e).__name__}: {e} (rerun with KG_DEBUG=1 for the traceback)")
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


def _bytes(mb: float) -> int:
    return int(mb * 1024 * 1024)


def _example(*lines: str) -> str:
    """Epilog shown under each command's --help; the suite checks every command has one."""
    return "[bold]Example[/bold]\n\n" + "\n\n".join(f"  $ {line}" for line in lines)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"townkg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """TownKG: build a knowledge graph (RDF + property graph) from Chinese town government work reports."""


# ---------------------------------------------------------------- build


@app.command(epilog=_example("kg build", "kg build seeds/ more/report.pdf --out build/ --max-mb 50"))
@guarded
def build(
    paths: Annotated[list[Path] | None, typer.Argument(help="Report files or directories (default: seeds/).",
                                                       show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Build directory, replaced atomically.")] = BUILD,
    max_mb: Annotated[float, typer.Option("--max-mb", min=0.001, help="Skip files larger than this.")] = 20,
    validate: Annotated[bool, typer.Option("--validate/--no-validate", help="Check the RDF against "
                                           "ontology/shapes.ttl (SHACL) and report the verdict.")] = True,
) -> None:
    """Build the graph stores and visualization from report files."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from kg.build import build as run_build
    from kg.summary import render

    err = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("[dim]{task.fields[item]}"), console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}
        labels = {"extract": "extract", "store": "stores ", "viz": "viz    ", "validate": "shacl  "}

        def progress(stage: str, done: int, total: int, item: str) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total, item="")
            bar.update(tasks[stage], completed=done, total=total, item=Path(item).name if item else "")

        result = run_build(paths or [SEEDS], out, progress=progress, max_bytes=_bytes(max_mb),
                           validate=validate)
    render(result.summary, Console(), err)
    if not result.built:
        n = len(result.failed)
        _err(f"nothing was built: all {n} input(s) failed; {out} was left unchanged")
        raise typer.Exit(1)
    typer.echo(f"Built {out}/ in {result.seconds:.1f} s: RDF store {out / 'rdf'}, property graph "
               f"{out / 'graph.lbug'}, extractions {out / 'extractions.jsonl'}")
    typer.echo(f"Visualization: {result.viz}")
    if "shacl" in result.summary:
        from kg.shacl import verdict_line

        typer.echo(verdict_line(result.summary["shacl"], out))


# ---------------------------------------------------------------- extract


class ExtractFormat(StrEnum):
    table = "table"
    json = "json"
    gold = "gold"


def _print_extraction(ex: Any, console: Console) -> None:
    from kg.summary import chain_short

    m = ex.meta
    town = ex.town.name if ex.town and ex.town.name else "?"
    console.print(f"[bold]{m.file}[/bold]  {town} ({chain_short(ex.superiors)})  year {m.report_year or '?'}",
                  highlight=False)
    if m.title or m.session:
        console.print(" ".join(x for x in (m.title, m.session, m.speaker) if x), highlight=False)

    def quote(p: Any) -> str:
        return p.prov.quote if p.prov else ""

    sections: list[tuple[str, list[str], list[list[str]]]] = [
        ("Programs", ["name", "stance", "quote"], [[p.name, p.stance, quote(p)] for p in ex.programs]),
        ("Political formulas", ["name", "quote"], [[f.name, quote(f)] for f in ex.formulas]),
        ("Projects", ["name", "investment", "status", "quote"],
         [[p.name, f"{p.investment_value:g} {p.investment_unit}" if p.investment_value is not None else "",
           p.status or "", quote(p)] for p in ex.projects]),
        ("Companies", ["name", "type", "quote"], [[c.name, c.type, quote(c)] for c in ex.companies]),
        ("Indicators", ["name", "value", "unit", "period", "growth %", "kind", "quote"],
         [[i.name, "" if i.value is None else f"{i.value:g}", i.unit or "", i.period or "",
           "" if i.growth_pct is None else f"{i.growth_pct:g}",
           i.kind + (f" ({i.modifier})" if i.modifier else ""),
           quote(i)] for i in ex.indicators]),
    ]
    for title, cols, rows in sections:
        table = Table(title=f"{title} ({len(rows)})", title_justify="left")
        for c in cols:
            table.add_column(c, overflow="fold")
        for r in rows:
            table.add_row(*r)
        console.print(table)
    for w in ex.warnings:
        console.print(f"warning: {w}", style="yellow", highlight=False)


def _lazy(module: str, issue: int) -> Any:
    """Import a module another issue delivers; until it lands, say so instead of crashing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        raise TownKGError(Code.NOT_YET, f"{module} is not available yet (issue #{issue})") from None


@app.command(epilog=_example("kg extract seeds/001_a58c2479b1a2dd6b.txt",
                             "kg extract report.pdf --format gold > report.json"))
@guarded
def extract(
    file: Annotated[Path, typer.Argument(help="One report file (.txt .html .pdf .docx).")],
    fmt: Annotated[ExtractFormat, typer.Option(
        "--format", "-f", help="table for reading, json for the full records, gold for the GUIDELINES shape "
        "with spans.")] = ExtractFormat.table,
    max_mb: Annotated[float, typer.Option("--max-mb", min=0.001, help="Refuse files larger than this.")] = 20,
) -> None:
    """Extract one report and print what was found in it."""
    from kg.extract import extract_file

    ex = extract_file(file, max_bytes=_bytes(max_mb))
    if fmt is ExtractFormat.table:
        _print_extraction(ex, Console())
    elif fmt is ExtractFormat.json:
        typer.echo(json.dumps(asdict(ex), ensure_ascii=False, indent=2))
    else:
        gold = _lazy("kg.gold", 3)
        typer.echo(json.dumps(gold.to_gold(ex), ensure_ascii=False, indent=2))


# ---------------------------------------------------------------- eval


class TableJson(StrEnum):
    table = "table"
    json = "json"


@app.command(name="eval",
             epilog=_example("kg eval tests/gold", "kg eval my-gold/ --raw my-reports/ --format json"))
@guarded
def eval_(
    gold_dir: Annotated[Path, typer.Argument(help="Directory of gold JSON files (GUIDELINES §1).")],
    raw: Annotated[Path | None, typer.Option("--raw", help="Directory of the raw reports named by the gold "
                                             "files' `file` (default: beside the gold files, then seeds/).",
                                             show_default=False)] = None,
    fmt: Annotated[TableJson, typer.Option("--format", "-f", help="Output format.")] = TableJson.table,
) -> None:
    """Score extraction against gold annotations (precision, recall, F1)."""
    if not gold_dir.is_dir():
        raise TownKGError(Code.UNREADABLE, "not a directory of gold files", str(gold_dir))
    evaluate = _lazy("kg.evaluate", 3)
    to_gold = _lazy("kg.gold", 3).to_gold
    from kg.extract import extract_file

    result = evaluate.score_dirs(gold_dir, lambda path: to_gold(extract_file(path)), raw_dir=raw)
    if fmt is TableJson.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    header, *rows = result.table_rows()
    table = Table(title=f"{len(result.reports)} report(s) scored against {gold_dir}")
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(*r)
    Console().print(table)


# ---------------------------------------------------------------- viz


class VizFormat(StrEnum):
    html = "html"
    png = "png"
    svg = "svg"


@app.command(epilog=_example("kg viz", "kg viz --province 浙江 --out build/zhejiang.html",
                             "kg viz --program 乡村振兴 --build build/",
                             "kg viz --format png --out build/figures/programs.png"))
@guarded
def viz(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="HTML file to write (default: "
                                             "<build>/programs.html); with --format png/svg the stem of "
                                             "<stem>-network/-cooccurrence/-indicators.<fmt>.",
                                             show_default=False)] = None,
    province: Annotated[str | None, typer.Option(help="Only towns in this province or under this "
                                                 "superior (浙江, 浙江省, 舟山市).")] = None,
    program: Annotated[str | None, typer.Option(help="Only programs whose name contains this, and their "
                                                "towns.")] = None,
    build_dir: Annotated[Path, typer.Option("--build", help="Build directory made by `kg build`.")] = BUILD,
    fmt: Annotated[VizFormat, typer.Option("--format", "-f", help="html: one self-contained page with the "
                                           "network, co-occurrence and indicator views; png/svg: three "
                                           "static pictures.")] = VizFormat.html,
) -> None:
    """Draw the town–program network, program co-occurrence and indicator comparison (HTML, PNG or SVG)."""
    import warnings

    from kg.build import load_extractions
    from kg.graph import build_graph
    from kg.viz import write_views

    extractions = load_extractions(build_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = write_views(build_graph(extractions), out or build_dir / f"programs.{fmt.value}", fmt.value,
                            province=province, program=program, extractions=extractions)
    for w in caught:
        if w.category.__name__ == "CJKFontWarning":
            typer.echo(f"warning: {w.message}", err=True)
    for path in paths:
        typer.echo(f"Visualization: {path}")


# ---------------------------------------------------------------- planned commands

_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
ArgsT = Annotated[list[str] | None, typer.Argument(help="(accepted and ignored until implemented)",
                                                   show_default=False)]


def _not_yet(what: str) -> None:
    raise TownKGError(Code.NOT_YET, f"not yet available: {what}")


# ---------------------------------------------------------------- query

class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


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
                             "kg query towns.cypher --format json"))
@guarded
def query(
    file: Annotated[Path | None, typer.Argument(help="Query file; its suffix picks the language "
                                                "(.rq, .sparql: SPARQL; .cypher, .cyp, .cql: Cypher).",
                                                show_default=False)] = None,
    sparql: Annotated[str | None, typer.Option(
        "--sparql", help="SPARQL query on the build's Oxigraph store; TownKG prefixes (tk:, prov:, qb:, "
        "skos:…) are predeclared and the default graph is the union of all graphs.",
        show_default=False)] = None,
    cypher: Annotated[str | None, typer.Option(
        "--cypher", help="Cypher query on the build's LadybugDB property graph (labels and types: "
        "ontology/property-graph.md).", show_default=False)] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="Cypher parameter NAME=VALUE (VALUE as JSON if it parses, else text); repeatable.",
        show_default=False)] = None,
    fmt: Annotated[QueryFormat, typer.Option("--format", "-f", help="table for reading; csv and json are the "
                                             "W3C SPARQL results formats (Cypher: CSV with a header, a JSON "
                                             "array of row objects).")] = QueryFormat.table,
    update: Annotated[bool, typer.Option("--update", help="Allow SPARQL updates (INSERT, DELETE, LOAD, "
                                         "CLEAR, DROP, CREATE…) or Cypher writes to modify the build's "
                                         "store.")] = False,
    build_dir: Annotated[Path, typer.Option("--build", help="Build directory made by `kg build`.")] = BUILD,
) -> None:
    """Query the built graph with SPARQL or Cypher (read-only unless --update)."""
    lang, text = _query_source(file, sparql=sparql, cypher=cypher)
    if lang == "sparql":
        from kg import sparql as sq

        result = sq.run(build_dir, text, update=update)
        if fmt is QueryFormat.json:
            typer.echo(sq.to_json(result))
        elif fmt is QueryFormat.csv:
            typer.echo(sq.to_csv(result), nl=False)
        else:
            Console().print(sq.to_table(result))
    elif lang == "cypher":
        from kg import cypher as cy

        rows = cy.run(build_dir, text, update=update, params=cy.parse_params(param))
        if fmt is QueryFormat.json:
            typer.echo(cy.to_json(rows))
        elif fmt is QueryFormat.csv:
            typer.echo(cy.to_csv(rows), nl=False)
        else:
            Console().print(cy.to_table(rows))


# ---------------------------------------------------------------- load (one subcommand per target)

load_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                       rich_markup_mode="rich")
app.add_typer(load_app, name="load", help="Load the graph into a SPARQL server or Neo4j (`kg load TARGET`).",
              epilog=_example("kg load sparql --endpoint http://127.0.0.1:7878/query "
                              "--update-endpoint http://127.0.0.1:7878/update "
                              "--graph-store http://127.0.0.1:7878/store",
                              "kg load neo4j --uri bolt://127.0.0.1:7687 --user neo4j --password secret"))


@load_app.command("sparql", epilog=_example(
    "kg load sparql --endpoint http://127.0.0.1:7878/query --update-endpoint http://127.0.0.1:7878/update "
    "--graph-store http://127.0.0.1:7878/store",
    "kg load sparql --endpoint http://127.0.0.1:8890/sparql-auth "
    "--graph-store http://127.0.0.1:8890/sparql-graph-crud-auth --user dba --password dba",
    "kg load sparql --endpoint http://127.0.0.1:3030/kg/query --update-endpoint http://127.0.0.1:3030/kg/update"))
@guarded
def load_sparql(
    endpoint: Annotated[str, typer.Option("--endpoint", help="SPARQL query endpoint (checked first, and "
                                          "used to count what was loaded).", show_default=False)],
    update_endpoint: Annotated[str | None, typer.Option("--update-endpoint", help="SPARQL update endpoint "
                                                        "(default: --endpoint).", show_default=False)] = None,
    graph_store: Annotated[str | None, typer.Option(
        "--graph-store", help="Graph Store Protocol endpoint: graphs are replaced with PUT (+ POST batches) "
        "instead of DROP + INSERT DATA.", show_default=False)] = None,
    user: Annotated[str | None, typer.Option("--user", help="User for HTTP Basic/Digest auth.",
                                             show_default=False)] = None,
    password: Annotated[str | None, typer.Option("--password", envvar="KG_SPARQL_PASSWORD",
                                                 help="Password for --user.",
                                                 show_default=False)] = None,
    batch_triples: Annotated[int, typer.Option("--batch-triples", min=1, help="Triples per request "
                                               "(Virtuoso refuses much more than 1,000).")] = 1000,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait per request.")] = 120,
    build_dir: Annotated[Path, typer.Option("--build", help="Build directory made by `kg build`.")] = BUILD,
) -> None:
    """Replace this build's named graphs on any SPARQL 1.1 server (idempotent)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from kg.sparql import compact
    from kg.sparql_load import Target, load_build

    target = Target(endpoint, update_endpoint, graph_store, user, password, timeout)
    with Progress(TextColumn("load   "), BarColumn(), MofNCompleteColumn(), TextColumn("triples"),
                  TimeElapsedColumn(), TextColumn("[dim]{task.fields[item]}"), console=Console(stderr=True),
                  transient=True) as bar:
        task = bar.add_task("load", total=None, item="")

        def progress(done: int, total: int, graph: str) -> None:
            from pyoxigraph import NamedNode

            bar.update(task, completed=done, total=total, item=compact(NamedNode(graph)))

        result = load_build(build_dir, target, batch_triples=batch_triples, progress=progress)
    typer.echo(result.line())
    if result.mismatched:
        g = result.mismatched[0]
        raise TownKGError(Code.STORE, f"{len(result.mismatched)} graph(s) differ after loading, e.g. {g}: "
                          f"sent {result.expected[g]} triples, the server holds {result.on_server.get(g, 0)}",
                          endpoint)


@load_app.command("neo4j", epilog=_example(
    "kg load neo4j --uri bolt://127.0.0.1:7687 --user neo4j --password secret",
    "NEO4J_PASSWORD=secret kg load neo4j --uri neo4j://db.example:7687 --database townkg --build build/",
    "kg load neo4j --uri bolt://127.0.0.1:7688 --batch-bytes 3000   # FalkorDB: no password, small requests"))
@guarded
def load_neo4j(
    uri: Annotated[str, typer.Option("--uri", help="Bolt URI: bolt://HOST:7687 (neo4j:// for a cluster, "
                                     "+s for TLS).", show_default=False)],
    user: Annotated[str, typer.Option("--user", envvar="NEO4J_USERNAME", help="User name.")] = "neo4j",
    password: Annotated[str, typer.Option("--password", envvar="NEO4J_PASSWORD", help="Password (or set "
                                          "NEO4J_PASSWORD); empty connects without credentials.",
                                          show_default=False)] = "",
    database: Annotated[str | None, typer.Option("--database", help="Database name (default: the server's "
                                                 "default database).", show_default=False)] = None,
    batch_bytes: Annotated[int, typer.Option("--batch-bytes", min=512, help="Largest request, in bytes of "
                                             "parameters (FalkorDB crashes above ~4 KB and is capped at "
                                             "3000).")] = 1 << 20,
    batch_rows: Annotated[int, typer.Option("--batch-rows", min=1, help="Most rows per request.")] = 10_000,
    build_dir: Annotated[Path, typer.Option("--build", help="Build directory made by `kg build`.")] = BUILD,
) -> None:
    """Load the property graph into Neo4j or another Bolt server (batched MERGE, idempotent)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from kg.stores.bolt_store import load_build

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{stage:<13}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = load_build(build_dir, uri, user, password, database=database, batch_bytes=batch_bytes,
                            batch_rows=batch_rows, progress=progress)
    typer.echo(result.line())
    if result.missing:
        raise TownKGError(Code.STORE, f"the server holds fewer than loaded: {result.missing}", uri)


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
