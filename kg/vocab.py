"""Shipped dictionaries: indicator concepts, well-known programs, political formulas.

Plain text files under kg/data/ so analysts can extend them without touching code.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files


def _lines(name: str) -> list[str]:
    text = files("kg").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@lru_cache(maxsize=1)
def indicator_synonyms() -> list[tuple[str, str]]:
    """(synonym, concept) pairs, longest synonym first."""
    pairs = []
    for ln in _lines("indicators.tsv"):
        concept, syns = ln.split("\t")
        pairs.extend((s, concept) for s in syns.split("|"))
    return sorted(pairs, key=lambda p: -len(p[0]))


def indicator_concept(name: str) -> str | None:
    """Canonical concept of an indicator name (规工产值 → 规上工业产值), or None if unknown.

    >>> indicator_concept("全镇规工产值")
    '规上工业产值'
    """
    for syn, concept in indicator_synonyms():
        if name.endswith(syn) or name == syn:
            return concept
    for syn, concept in indicator_synonyms():
        if syn in name:
            return concept
    return None


@lru_cache(maxsize=1)
def formulas() -> frozenset[str]:
    return frozenset(_lines("formulas.txt"))


@lru_cache(maxsize=1)
def known_programs() -> dict[str, str]:
    """Surface form → canonical name for well-known initiatives."""
    out: dict[str, str] = {}
    for ln in _lines("programs.txt"):
        names = [n.replace("“", "").replace("”", "") for n in ln.split("|")]
        for n in names:
            out[n] = names[0]
    return out
