"""The report's town and its superior governments (GUIDELINES §2).

The town is the gazetteer town named where reports name themselves (title, session line,
"我代表…人民政府", 发布机构), falling back to the most frequent gazetteer town in the text.
Superiors come from the gazetteer chain when the town resolves unambiguously (homonyms are
disambiguated by superior names in the text); levels the report invokes (在县委、县政府…领导下)
are recorded, and a level that is invoked but unresolvable gets a null name.
"""

from __future__ import annotations

import re
from collections import Counter

from kg import gazetteer
from kg.document import Document
from kg.extractors import component
from kg.model import Extraction, Government

_SELF_RE = re.compile(r"(?:代表|名称:|发布机构:|来源:)\s*([\u4e00-\u9fff]{1,8}?(?:镇|乡|街道))(?:人民政府|人大|第|政府)?")
_INVOKE_RE = re.compile(r"(县|市|区|省|州|旗)委[、,和]?(?:\1)?(?:政府)?")
_LEVEL = {"县": "县", "旗": "县", "市": "市", "区": "区", "州": "市", "省": "省"}


def _pick_town(doc: Document) -> tuple[str | None, int]:
    text = doc.text
    head = text[: doc.body_start + 400]
    title = doc.meta.title or ""
    found = gazetteer.towns_in(text)
    if not found:
        return None, -1
    names = {n for n, _ in found}
    for src in (title, " ".join(m.group(1) for m in _SELF_RE.finditer(head)), doc.meta.session or ""):
        for n, _pos in gazetteer.towns_in(src):
            if n in names:
                return n, text.find(n)
    # Fallback: the most frequent town name that is not an ordinary word (小城镇, 中心镇 are
    # words; 高城乡 is the tail of 提高城乡) and that the text repeats.
    from kg.extractors.lexicon import is_common_word

    names = {n for n in names if not is_common_word(n, 1) and not is_common_word(n[1:], 1)}
    counts = Counter(m.group(0) for n in names for m in re.finditer(re.escape(n), text))
    names = {n for n in names if counts[n] >= 2}
    if not names:
        return None, -1
    best = max(sorted(names), key=lambda n: (counts[n], -text.find(n)))
    return best, text.find(best)


@component("town", "1.0", produces=("town", "superiors"))
def extract_town(doc: Document, ex: Extraction, stamp: str) -> None:
    name, pos = _pick_town(doc)
    body = doc.text[doc.body_start: doc.body_end]
    invoked: dict[str, int] = {}
    for m in _INVOKE_RE.finditer(body):
        invoked.setdefault(_LEVEL[m.group(1)], doc.body_start + m.start())
    if name is None:
        if not _extract_region(doc, ex, stamp):
            ex.warnings.append("no town or region found; is this a government work report?")
        return
    doc.meta.town = name
    prov = doc.provenance(pos, pos + len(name), stamp) if pos >= 0 else None
    suffix = "街道" if name.endswith("街道") else name[-1]
    ex.town = Government(name, suffix, None, True, prov)
    rec, n_cands = gazetteer.resolve(name, doc.text)
    if rec is None:
        if n_cands > 1:
            ex.warnings.append(f"{name} names {n_cands} towns in the gazetteer and the text does not say which")
        for level, at in sorted(invoked.items(), key=lambda kv: "县区市省".index(kv[0])):
            ex.superiors.append(Government(None, level, None, True, doc.provenance(at, at + 2, stamp)))
        return
    for d in rec.chain():
        hit = _mention(doc, d.name, d.short)
        inv = hit is not None or d.level in invoked
        at = hit if hit is not None else invoked.get(d.level)
        p = doc.provenance(at, at + 2, stamp) if at is not None else None
        ex.superiors.append(Government(d.name, d.level, d.code, inv, p))


def _mention(doc: Document, name: str, short: str) -> int | None:
    for s in (name, short):
        if s and len(s) >= 2:
            k = doc.text.find(s)
            if k >= 0:
                return k
    return None


_REGION_RE = re.compile(r"在([\u4e00-\u9fff]{2,10}?(?:省|自治区|市|县|区|旗|州))第?[一二三四五六七八九十]+届\s*人民代表大会"
                        r"|([\u4e00-\u9fff]{2,10}?(?:省|自治区|市|县|区|旗|州))(?:人民)?政府工作报告")


def _extract_region(doc: Document, ex: Extraction, stamp: str) -> bool:
    """County, city and provincial reports name their region in the session line or title (GUIDELINES §2)."""
    head = doc.text[: doc.body_start + 600]
    chains = gazetteer.regions()
    for m in _REGION_RE.finditer(head):
        name = re.sub(r"^.*?年度?", "", m.group(1) or m.group(2))
        chain = chains.get(name)
        if not chain:
            continue
        at = m.start(1) if m.group(1) else m.start(2)
        ex.region = Government(name, chain[0].level, chain[0].code, True, doc.provenance(at, at + len(name), stamp))
        for d in chain[1:]:
            hit = _mention(doc, d.name, d.short)
            ex.superiors.append(Government(d.name, d.level, d.code, hit is not None,
                                           doc.provenance(hit, hit + 2, stamp) if hit is not None else None))
        if chain[0].level == "省" or len(chain) == 1:
            central = re.search(r"党中央|国务院", doc.text[doc.body_start: doc.body_end])
            if central:
                a = doc.body_start + central.start()
                ex.superiors.append(Government("国务院", "中央", None, True, doc.provenance(a, a + 3, stamp)))
        return True
    return False
