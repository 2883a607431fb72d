"""What a build produced, per town, as data (`summary.json`) and as a rich table for the terminal.

The summary is computed once from the extractions and stored with the build, so `kg build` output,
`summary.json` and later tools agree. Per-town counts are distinct names (a program mentioned in
two reports of the same town counts once); the totals row counts distinct graph entities, which is
what the stores hold (programs and companies are shared across towns, projects are per town).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kg import __version__
from kg.model import Extraction, Government

UNKNOWN = "(town not found)"


def chain_short(superiors: Sequence[Government]) -> str:
    """Named superiors nearest first, compact enough for a table cell; unnamed levels show as `县?`.

    >>> chain_short([Government("岱山县", "县"), Government("舟山市", "市"), Government("浙江省", "省")])
    '岱山县›舟山市›浙江省'
    >>> chain_short([Government(None, "县"), Government(None, "市")])
    '县?›市?'
    >>> chain_short([])
    '—'
    """
    parts = [s.name or f"{s.level}?" for s in superiors]
    return "›".join(parts) or "—"


def _town_key(ex: Extraction) -> tuple[str, str]:
    if ex.town is None or not ex.town.name:
        return (f"{UNKNOWN} {ex.meta.file}", "")
    return (ex.town.name, chain_short(ex.superiors))


def summarize(extractions: Iterable[Extraction], failed: Sequence[tuple[Path | str, str]],
              stores: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Plain-JSON summary: one row per town (first-seen order), totals, store counts, failures.

    Deterministic for a given input (no timestamps), so two builds of the same files give the same file.
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    sets: dict[tuple[str, str], dict[str, set[str]]] = {}
    all_sets: dict[str, set[str]] = {"programs": set(), "companies": set(), "projects": set()}
    indicators_total = 0
    n_reports = 0
    warnings: list[dict[str, str]] = []
    for ex in extractions:
        n_reports += 1
        if ex.warnings:  # recoverable problems (replaced bytes, mojibake…): one line per file
            joined = "; ".join(dict.fromkeys(ex.warnings))
            warnings.append({"file": ex.meta.path or ex.meta.file, "warning": joined})
        key = _town_key(ex)
        row = rows.setdefault(key, {"town": key[0], "superiors": key[1], "reports": 0, "years": [],
                                    "programs": 0, "projects": 0, "companies": 0, "indicators": 0})
        s = sets.setdefault(key, {"programs": set(), "projects": set(), "companies": set()})
        row["reports"] += 1
        if ex.meta.report_year and ex.meta.report_year not in row["years"]:
            row["years"] = sorted([*row["years"], ex.meta.report_year])
        s["programs"].update(p.name for p in ex.programs)
        s["projects"].update(p.name for p in ex.projects)
        s["companies"].update(c.name for c in ex.companies)
        row["indicators"] += len(ex.indicators)
        indicators_total += len(ex.indicators)
        all_sets["programs"].update(p.name for p in ex.programs)
        all_sets["companies"].update(c.name for c in ex.companies)
        all_sets["projects"].update(f"{key}\x1f{p.name}" for p in ex.projects)
        for k in ("programs", "projects", "companies"):
            row[k] = len(s[k])
    totals = {"towns": sum(1 for k in rows if not k[0].startswith(UNKNOWN)), "reports": n_reports,
              "programs": len(all_sets["programs"]), "projects": len(all_sets["projects"]),
              "companies": len(all_sets["companies"]), "indicators": indicators_total,
              "failed": len(failed)}
    return {"townkg": __version__, "towns": list(rows.values()), "totals": totals, "stores": stores,
            "failed": [{"file": str(p), "error": msg} for p, msg in failed], "warnings": warnings}


def render(summary: dict[str, Any], console: Console, err_console: Console | None = None) -> None:
    """Per-town table and store counts to `console`; failed files, one line each, to `err_console`."""
    t = summary["totals"]
    table = Table(title=f"TownKG build: {t['reports']} report(s), {t['towns']} town(s)",
                  caption="per town: distinct names; total: distinct entities in the graph")
    table.add_column("Town", no_wrap=True)
    table.add_column("Superiors", overflow="fold", min_width=12)
    for col in ("Programs", "Projects", "Companies", "Indicators"):
        table.add_column(col, justify="right")
    for r in summary["towns"]:
        table.add_row(r["town"], r["superiors"], str(r["programs"]),
                      str(r["projects"]), str(r["companies"]), str(r["indicators"]))
    table.add_section()
    table.add_row("[bold]Total[/bold]", f"{t['reports']} report(s)", *(f"[bold]{t[k]}[/bold]" for k in
                  ("programs", "projects", "companies", "indicators")))
    console.print(table)
    for name, c in summary.get("stores", {}).items():
        extra = "".join(f", {c[k]} {k}" for k in ("quads", "graphs") if k in c)
        console.print(f"{name}: {c.get('nodes', 0)} nodes, {c.get('edges', 0)} edges{extra}")
    err = err_console or console
    for w in summary.get("warnings", []):
        err.print(f"warning: {w['file']}: {w['warning']}", soft_wrap=True, markup=False, highlight=False)
    if summary["failed"]:
        err.print(f"{len(summary['failed'])} file(s) failed:", style="bold red", highlight=False)
        for f in summary["failed"]:
            # soft_wrap: one physical line per file whatever the terminal width, so it can be grepped
            err.print(f"  {f['file']}: {f['error']}", soft_wrap=True, markup=False, highlight=False)
