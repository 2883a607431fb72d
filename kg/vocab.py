"""Shipped dictionaries: indicator concepts, well-known programs, political formulas.

Plain text files under kg/data/ so analysts can extend them without touching code.
"""

from __future__ import annotations

import re
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

    A qualified name (重点企业固定资产投资, 镇本级财政总收入) measures something narrower, so it
    gets no concept: comparing it with the town-wide figure would mislead.

    >>> indicator_concept("全镇规工产值")
    '规上工业产值'
    >>> indicator_concept("重点企业固定资产投资") is None
    True
    """
    for syn, concept in indicator_synonyms():
        if name.endswith(syn) and _WHOLE_PREFIX_RE.fullmatch(name[: len(name) - len(syn)]):
            return concept
    return None


_WHOLE_PREFIX_RE = re.compile(r"(?:全镇|全乡|全街道|全县|全区|全市|全省|全社会|全年|地方|实现|完成|累计)*")


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
