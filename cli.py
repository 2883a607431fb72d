"""The `kg` command: a thin typer shell over the library (parse options, call one function, render).

The app and its error policy live in `kg.cli_app`; each command group is a module of `kg.commands`
that registers itself on import. `kg = "cli:app"` in pyproject.toml points here.
"""

from kg.cli_app import app
from kg.commands import build_cmds, load_cmds, query_cmds  # noqa: F401  (registers the commands)

__all__ = ["app"]

if __name__ == "__main__":
    app()
