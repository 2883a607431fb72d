"""China's administrative divisions down to towns, for resolving a report's town and superiors.

Data: `kg/data/divisions.tsv.gz` (43,104 towns with county/city/province names and codes),
derived from jionlp's division list by `scripts/build_gazetteer.py`. Town names repeat (3,900
names occur more than once), so resolution scores each candidate by the superior names the
report itself mentions (广水, 舟山, 诸暨…).

Lookup keys are the names as they appear in *normalized* report text: the normalizer converts
with OpenCC t2s, which rewrites some official names (乾务镇 → 干务镇, 鴜鷺树镇 → 𪉈鹭树镇), so each
name is indexed as written and as normalized. A few jionlp towns carry their county as a prefix
(四子王旗吉生太镇); reports write 吉生太镇, so that form is a key too. Results always give the
gazetteer's own name.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

SUFFIXES = ("街道", "镇", "乡")
_SUFFIX_RE = re.compile(r"街道|镇|乡")
_COUNTY_END = ("县", "旗", "市", "区")


# jionlp's placeholder for a missing level: 市直辖行政区划 (a prefecture city governing towns directly, with
# the city's own code) and 省直辖行政区划 (a county-level city under its province): not governments. Kept,
# the first became a superior with its city's code (a PART_OF self-loop: Cypher and SPARQL superior chains
# differed) and matched 市直 (市直机关) in text as county evidence.
PLACEHOLDER = "行政区划"


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
def records() -> tuple[TownRecord, ...]:
    """Every town row of the shipped data, in file order."""
    data = files("kg").joinpath("data/divisions.tsv.gz").read_bytes()
    out: list[TownRecord] = []
    for line in gzip.decompress(data).decode("utf-8").splitlines()[1:]:
        t, cn, cc, cs, ci, cic, cis, pn, pc, ps = line.split("\t")
        if cn.endswith(PLACEHOLDER):  # towns directly under a city without counties (中山市, 东莞市…)
            cn = cc = cs = ""
        if ci.endswith(PLACEHOLDER):  # county-level cities directly under a province (仙桃市, 五家渠市…)
            ci = cic = cis = ""
        out.append(TownRecord(
            t,
            Division(cn, cc, cs, _level(cn, "县")),
            Division(ci, cic, cis, _level(ci, "市")),
            Division(pn, pc, ps, "省"),
        ))
    return tuple(out)


@lru_cache(maxsize=1)
def _normalized() -> dict[str, str]:
    """Gazetteer name → its form in normalized text, for the few names normalization changes.

    Why not normalize every name: `kg.normalize.normalize` costs ~50 µs a call (2 s for all
    names). One t2s pass over all names joined, plus an NFKC check, finds the candidates; only
    those go through the real normalizer, so keys match the text exactly.
    """
    import opencc

    from kg.normalize import normalize

    seen: set[str] = set()
    for r in records():
        seen.update((r.town, r.county.name, r.county.short, r.city.name, r.city.short, r.province.name,
                     r.province.short))
    names = [n for n in seen if n]  # any order: each name maps to its own form
    converted = opencc.OpenCC("t2s").convert("\n".join(names)).split("\n")
    if len(converted) != len(names):  # a conversion swallowed a line break: check every name
        converted = [""] * len(names)
    out: dict[str, str] = {}
    for name, conv in zip(names, converted, strict=True):
        if conv != name or unicodedata.normalize("NFKC", name) != name or "著" in name:
            text = normalize(name).text
            if text != name:
                out[name] = text
    return out


def norm(name: str) -> str:
    """`name` as it reads in normalized report text (乾务镇 → 干务镇); most names are unchanged."""
    return _normalized().get(name, name)


def _county_prefix(rec: TownRecord) -> str | None:
    """The name without a county prefix jionlp glued on (化德县朝阳镇, 四平市铁东区叶赫满族镇), else None."""
    if rec.town[:2] not in (rec.county.name[:2], rec.city.name[:2]):
        return None  # nearly every name: no prefix
    for p in (rec.city.name + rec.county.name, rec.county.name, rec.county.short):
        rest = rec.town[len(p):] if p and p.endswith(_COUNTY_END) and rec.town.startswith(p) else ""
        if rest.endswith(SUFFIXES) and len(rest) >= 3 and not rest.startswith(SUFFIXES):
            return rest
    return None


@lru_cache(maxsize=1)
def load() -> dict[str, list[TownRecord]]:
    """Lookup key → every town record it may name: names as written and normalized, unprefixed forms."""
    index: dict[str, list[TownRecord]] = {}
    normalized = _normalized()
    for rec in records():
        index.setdefault(rec.town, []).append(rec)
        changed, bare = normalized.get(rec.town), _county_prefix(rec)
        if changed or bare:  # a few hundred names
            extra = {k for k in (changed, bare, norm(bare) if bare else None) if k and k != rec.town}
            for k in sorted(extra):
                index.setdefault(k, []).append(rec)
    return index


@lru_cache(maxsize=1)
def _key_lengths() -> dict[str, tuple[int, ...]]:
    """Suffix → lengths of the keys ending in it, longest first (a bare 街道 entry is no name)."""
    lengths: dict[str, set[int]] = {s: set() for s in SUFFIXES}
    for k in load():
        for s in SUFFIXES:
            if k.endswith(s) and len(k) > len(s):
                lengths[s].add(len(k))
                break
    return {s: tuple(sorted(v, reverse=True)) for s, v in lengths.items()}


def towns_in(text: str) -> list[tuple[str, int]]:
    """Gazetteer keys found in text with their first offsets, in text order.

    Each 镇/乡/街道 in the text ends at most one candidate, the longest key ending there (深镇镇, not
    镇镇; 禾丰布依族苗族乡 whole). Where candidates overlap, the longer wins: 南乡 in 南乡镇, 孙镇 in
    孙镇镇 and 县河镇 in 赫章县河镇彝族苗族乡 are not names.
    """
    idx = load()
    lengths = _key_lengths()
    spans: list[tuple[int, int, str]] = []
    for m in _SUFFIX_RE.finditer(text):
        e = m.end()
        for n in lengths[m.group(0)]:
            if n <= e and text[e - n: e] in idx:
                spans.append((e - n, e, text[e - n: e]))
                break
    if not spans:
        return []
    spans.sort(key=lambda sp: (sp[0] - sp[1], sp[0]))  # longest first, then leftmost
    taken = bytearray(len(text))
    found: dict[str, int] = {}
    for s, e, key in spans:
        if any(taken[s:e]):
            continue
        taken[s:e] = b"\x01" * (e - s)
        if s < found.get(key, len(text)):
            found[key] = s
    return sorted(found.items(), key=lambda kv: kv[1])


def canonical(key: str) -> str:
    """The gazetteer name a key stands for when all its records agree (干务镇 → 乾务镇), else the key."""
    names = {r.town for r in load().get(key, ())}
    return names.pop() if len(names) == 1 else key


def mentioned(name: str, text: str) -> int:
    """First offset of a division name in normalized text, as written or as normalized, else -1."""
    k = text.find(name)
    if k < 0 and norm(name) != name:
        k = text.find(norm(name))
    return k


def resolve(town: str, text: str) -> tuple[TownRecord | None, int]:
    """Pick the record for the key `town` best supported by superior names in `text`.

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
            if d.name and mentioned(d.name, text) >= 0:
                score += 2 * w
            elif d.short and len(d.short) >= 2 and mentioned(d.short, text) >= 0:
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
    for r in records():
        for d in (r.city, r.province):
            if d.short and len(d.short) >= 2:
                out.add(d.short)
    return frozenset(out)


@lru_cache(maxsize=1)
def regions() -> dict[str, list[Division]]:
    """County, city and province name (as written and as normalized) → the division and its superiors."""
    out: dict[str, list[Division]] = {}
    by_town: dict[str, list[TownRecord]] = {}
    for r in records():  # grouped by town name, the order the first name's chain wins in
        by_town.setdefault(r.town, []).append(r)
    for r in (r for recs in by_town.values() for r in recs):
        chain = r.chain()
        for k, d in enumerate(chain):
            out.setdefault(d.name, chain[k:])
    for name in list(out):
        out.setdefault(norm(name), out[name])
    return out
