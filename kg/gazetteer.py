"""China's administrative divisions down to towns, for resolving a report's town and superiors.

Data: `kg/data/divisions.tsv.gz` (43,104 towns with county/city/province names and codes),
derived from jionlp's division list by `scripts/build_gazetteer.py`. Town names repeat (3,900
names occur more than once), so resolution scores each candidate by the superior names the
report itself mentions (广水, 舟山, 诸暨…).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

TOWN_NAME_RE = re.compile(r"[\u4e00-\u9fff]{1,6}?(?:镇|乡|街道)")


@dataclass(frozen=True, slots=True)
class Division:
    name: str
    code: str
    short: str
    level: str  # 县/市/区/省 per GUIDELINES (county-level and prefecture-level cities are both 市)


@dataclass(frozen=True, slots=True)
class TownRecord:
    town: str
    county: Division
    city: Division
    province: Division

    def chain(self) -> list[Division]:
        """Superiors nearest first, without repeats (municipalities are their own city)."""
        out: list[Division] = []
        for d in (self.county, self.city, self.province):
            if d.name and all(d.name != o.name for o in out):
                out.append(d)
        return out


def _level(name: str, default: str) -> str:
    if name.endswith("区"):
        return "区"
    if name.endswith(("县", "旗")):
        return "县"
    if name.endswith(("省", "自治区")) or default == "省":
        return "省"
    return "市"


@lru_cache(maxsize=1)
def load() -> dict[str, list[TownRecord]]:
    """Town name → every division record with that name (loaded once, ~0.1 s)."""
    data = files("kg").joinpath("data/divisions.tsv.gz").read_bytes()
    index: dict[str, list[TownRecord]] = {}
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    for line in lines[1:]:
        t, cn, cc, cs, ci, cic, cis, pn, pc, ps = line.split("\t")
        rec = TownRecord(
            t,
            Division(cn, cc, cs, _level(cn, "县")),
            Division(ci, cic, cis, _level(ci, "市")),
            Division(pn, pc, ps, "省"),
        )
        index.setdefault(t, []).append(rec)
    return index


def towns_in(text: str) -> list[tuple[str, int]]:
    """Gazetteer town names found in text, with their first offsets, longest suffix match first."""
    idx = load()
    found: dict[str, int] = {}
    for m in TOWN_NAME_RE.finditer(text):
        s = m.group(0)
        for k in range(len(s) - 2, -1, -1) if len(s) > 2 else [0]:
            cand = s[k:]
            if cand in idx and len(cand) >= 2 and cand not in found:
                found[cand] = m.start() + k
        # keep scanning: overlapping names are rare and cheap to ignore
    return sorted(found.items(), key=lambda kv: kv[1])


def resolve(town: str, text: str) -> tuple[TownRecord | None, int]:
    """Pick the record for `town` best supported by superior names in `text`.

    Returns (record, number of candidates). With several candidates and no evidence, None:
    an unsupported guess would invent superiors (GUIDELINES §2).
    """
    cands = load().get(town, [])
    if len(cands) == 1:
        return cands[0], 1
    best, best_score = None, 0
    for rec in cands:
        score = 0
        for d, w in ((rec.county, 3), (rec.city, 2), (rec.province, 1)):
            if d.name and d.name in text:
                score += 2 * w
            elif d.short and len(d.short) >= 2 and d.short in text:
                score += w
        if score > best_score:
            best, best_score = rec, score
        elif score == best_score:
            best = None if score else best
    return best, len(cands)


@lru_cache(maxsize=1)
def place_prefixes() -> frozenset[str]:
    """Short names of provinces and prefecture cities (上海, 南通, 苏州), used as brand prefixes."""
    out: set[str] = set()
    for recs in load().values():
        for r in recs:
            for d in (r.city, r.province):
                if d.short and len(d.short) >= 2:
                    out.add(d.short)
    return frozenset(out)


@lru_cache(maxsize=1)
def regions() -> dict[str, list[Division]]:
    """County, city and province name → the division and its superiors, nearest first."""
    out: dict[str, list[Division]] = {}
    for recs in load().values():
        for r in recs:
            chain = r.chain()
            for k, d in enumerate(chain):
                out.setdefault(d.name, chain[k:])
    return out
