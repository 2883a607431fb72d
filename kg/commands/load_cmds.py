"""`kg load sparql|neo4j`: push a built graph into a server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kg.cli_app import BUILD, SEEDS, _bytes, _err, _example, app, guarded  # noqa: F401
from kg.errors import Code, TownKGError

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
    prune: Annotated[bool, typer.Option("--prune/--no-prune", help="Afterwards drop the TownKG report graphs "
                                        "the build no longer has (changed or removed reports of an earlier "
                                        "load); --no-prune keeps them.")] = True,
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

        result = load_build(build_dir, target, batch_triples=batch_triples, progress=progress, prune=prune)
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
    prune: Annotated[bool, typer.Option("--prune/--no-prune", help="Afterwards delete the TownKG nodes and "
                                        "relationships the build no longer has (changed or removed reports "
                                        "of an earlier load); --no-prune keeps them, e.g. to load several "
                                        "builds into one database.")] = True,
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
                            batch_rows=batch_rows, progress=progress, prune=prune)
    typer.echo(result.line())
    if result.missing:
        raise TownKGError(Code.STORE, f"the server holds fewer than loaded: {result.missing}", uri)
