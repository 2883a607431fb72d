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
) -> None:
    """Build the graph stores and visualization from report files."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from kg.build import build as run_build
    from kg.summary import render

    err = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("[dim]{task.fields[item]}"), console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}
        labels = {"extract": "extract", "store": "stores ", "viz": "viz    "}

        def progress(stage: str, done: int, total: int, item: str) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total, item="")
            bar.update(tasks[stage], completed=done, total=total, item=Path(item).name if item else "")

        result = run_build(paths or [SEEDS], out, progress=progress, max_bytes=_bytes(max_mb))
    render(result.summary, Console(), err)
    if not result.built:
        n = len(result.failed)
        _err(f"nothing was built: all {n} input(s) failed; {out} was left unchanged")
        raise typer.Exit(1)
    typer.echo(f"Built {out}/ in {result.seconds:.1f} s: RDF store {out / 'rdf'}, property graph "
               f"{out / 'graph.lbug'}, extractions {out / 'extractions.jsonl'}")
    typer.echo(f"Visualization: {result.viz}")


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


@app.command(epilog=_example("kg viz", "kg viz --province 浙江 --out build/zhejiang.html",
                             "kg viz --program 乡村振兴 --build build/"))
@guarded
def viz(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="HTML file to write (default: "
                                             "<build>/programs.html).", show_default=False)] = None,
    province: Annotated[str | None, typer.Option(help="Only towns in this province or under this "
                                                 "superior (浙江, 浙江省, 舟山市).")] = None,
    program: Annotated[str | None, typer.Option(help="Only programs whose name contains this, and their "
                                                "towns.")] = None,
    build_dir: Annotated[Path, typer.Option("--build", help="Build directory made by `kg build`.")] = BUILD,
) -> None:
    """Draw the town–program network as one self-contained HTML page."""
    from kg.build import load_extractions
    from kg.graph import build_graph
    from kg.viz import write_program_network

    graph = build_graph(load_extractions(build_dir))
    path = write_program_network(graph, out or build_dir / "programs.html", province=province,
                                 program=program)
    typer.echo(f"Visualization: {path}")


# ---------------------------------------------------------------- planned commands

_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
ArgsT = Annotated[list[str] | None, typer.Argument(help="(accepted and ignored until implemented)",
                                                   show_default=False)]


def _not_yet(what: str) -> None:
    raise TownKGError(Code.NOT_YET, f"not yet available: {what}")


@app.command(context_settings=_PASS_THROUGH,
             epilog=_example("kg query --sparql 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'",
                             "kg query programs_shared --engine ladybug --format csv"))
@guarded
def query(args: ArgsT = None) -> None:
    """Query the built graph with SPARQL or Cypher (not yet: #4, #5, #6)."""
    _not_yet("kg query arrives with issue #4 (SPARQL on Oxigraph), #5 (Cypher on LadybugDB) "
             "and #6 (named queries)")


@app.command(context_settings=_PASS_THROUGH,
             epilog=_example("kg load sparql --endpoint http://127.0.0.1:7878/query",
                             "kg load neo4j --uri bolt://127.0.0.1:7687 --user neo4j --password secret"))
@guarded
def load(args: ArgsT = None) -> None:
    """Load the graph into a SPARQL server or Neo4j (not yet: #4, #5)."""
    _not_yet("kg load arrives with issue #4 (kg load sparql) and #5 (kg load neo4j)")


@app.command(context_settings=_PASS_THROUGH,
             epilog=_example("kg export --format ttl --out townkg.ttl",
                             "kg export --format graphml --out townkg.graphml"))
@guarded
def export(args: ArgsT = None) -> None:
    """Export as RDF, Neo4j CSV or GraphML (not yet: #4, #5)."""
    _not_yet("kg export arrives with issue #4 (ttl, trig, nq, jsonld) and #5 (neo4j-csv, graphml)")


@app.command(context_settings=_PASS_THROUGH, epilog=_example("kg validate", "kg validate --build build/"))
@guarded
def validate(args: ArgsT = None) -> None:
    """Validate the RDF graph against the SHACL shapes (not yet: #4)."""
    _not_yet("kg validate arrives with issue #4 (SHACL validation with pyshacl)")


if __name__ == "__main__":  # `python cli.py …` works without installing
    sys.exit(app())
