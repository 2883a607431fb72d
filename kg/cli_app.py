"""The `kg` typer app and the CLI's single error policy, shared by the command modules in kg.commands.

Every user-facing failure ends as one line on stderr (`error: <file>: <problem> [Exxx]`) and a
non-zero exit, never a traceback: `TownKGError` and `OSError` are expected and explained; anything
else is a bug, reported in one line too unless KG_DEBUG=1 asks for the traceback.
Exit codes: 0 ok, 1 failed (nothing built, bad input, store error), 2 usage or not yet available.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

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
