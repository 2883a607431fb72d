"""Render an `Extraction` in the gold JSON shape of GUIDELINES §1, so predictions and hand gold compare 1:1.

The gold shape is the contract between the extractor and `kg.evaluate`: one flat object per report,
one entry per entity (companies, projects, programs and formulas are listed once, at their first
mention), one entry per indicator statement, and every item carrying the raw `quote` and its raw
`span` = [start, end] so a scorer's false positive can be traced back to the exact characters.

Keys are emitted in a fixed order (dicts keep insertion order) and items in reading order, so two runs
over the same report produce byte-identical JSON and diffs between runs show only real changes.
"""

from __future__ import annotations

from typing import Any

from kg.model import Extraction, Government, Provenance

# Levels a superior may have in the gold shape (§1/§2). 中央 is kept only above a region (a
# provincial report answers to 国务院); town reports never list it, nor town-level entries.
SUPERIOR_LEVELS = frozenset({"县", "市", "区", "省"})
AMBIGUOUS_KEYS = ("indicators", "companies", "projects", "programs")


def _quote(prov: Provenance | None) -> str | None:
    return prov.quote if prov is not None else None


def _span(prov: Provenance | None) -> list[int] | None:
    return [prov.start, prov.end] if prov is not None else None


def _reading_order(items: list[Any]) -> list[Any]:
    """Sort by raw start offset (items without provenance last, original order kept among equals)."""
    return sorted(items, key=lambda it: it.prov.start if it.prov is not None else float("inf"))


def _superiors(govs: list[Government], region: bool = False) -> list[dict[str, Any]]:
    """Nearest first as the resolver ordered them; unnamed levels kept as {"name": null} (§2)."""
    levels = SUPERIOR_LEVELS | {"中央"} if region else SUPERIOR_LEVELS
    out: list[dict[str, Any]] = []
    seen: set[tuple[str | None, str]] = set()
    for gov in govs:
        key = (gov.name or None, gov.level)
        if gov.level not in levels or key in seen:
            continue
        seen.add(key)
        out.append({"name": gov.name or None, "level": gov.level})
    return out


def _entities(items: list[Any]) -> list[dict[str, Any]]:
    """One {name, quote, span} per distinct name, at its first mention (gold lists each entity once)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for it in _reading_order(items):
        if not it.name or it.name in seen:
            continue
        seen.add(it.name)
        out.append({"name": it.name, "quote": _quote(it.prov), "span": _span(it.prov)})
    return out


def _projects(ex: Extraction) -> list[dict[str, Any]]:
    """Projects once per name; the investment comes from whichever mention states it (§5)."""
    out: dict[str, dict[str, Any]] = {}
    for p in _reading_order(ex.projects):
        if not p.name:
            continue
        row = out.get(p.name)
        if row is None:
            out[p.name] = {
                "name": p.name,
                "investment_value": p.investment_value,
                "investment_unit": p.investment_unit if p.investment_value is not None else None,
                "quote": _quote(p.prov),
                "span": _span(p.prov),
            }
        elif row["investment_value"] is None and p.investment_value is not None:
            row["investment_value"], row["investment_unit"] = p.investment_value, p.investment_unit
    return list(out.values())


def _indicators(ex: Extraction) -> list[dict[str, Any]]:
    """Every indicator statement (no de-duplication: §3 asks for one item per distinct statement)."""
    return [
        {
            "name": ind.name,
            "value": ind.value,
            "unit": ind.unit,
            "period": ind.period,
            "growth_pct": ind.growth_pct,
            "kind": ind.kind,
            "modifier": ind.modifier,
            "quote": _quote(ind.prov),
            "span": _span(ind.prov),
        }
        for ind in _reading_order(ex.indicators)
    ]


def to_gold(ex: Extraction) -> dict[str, Any]:
    """The GUIDELINES §1 object for one report; `ambiguous` is always empty (only annotators use it)."""
    town = ex.town.name if ex.town is not None and ex.town.name else ex.meta.town
    region = {"region": ex.region.name} if ex.region is not None and ex.region.name else {}
    return {
        "file": ex.meta.file,
        "town": town,
        **region,
        "superiors": _superiors(ex.superiors, region=ex.region is not None),
        "report_year": ex.meta.report_year,
        "indicators": _indicators(ex),
        "companies": _entities(ex.companies),
        "projects": _projects(ex),
        "programs": _entities(ex.programs),
        "political_formulas": _entities(ex.formulas),
        "ambiguous": {key: [] for key in AMBIGUOUS_KEYS},
    }
