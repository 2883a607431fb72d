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

# Where a report names itself: 我代表XX镇人民政府 / XX街道办事处, the session line
# (在XX镇第十八届人民代表大会…), portal fields (名称: 发布机构: 来源:). The captured span is searched
# with the gazetteer, so a name that holds 镇/乡/街道 itself (深镇镇, 南乡镇) or an ethnic
# township (禾丰布依族苗族乡) is found whole.
_SELF_RE = re.compile(r"代表([\u4e00-\u9fff]{2,30}?)(?:人民政府|办事处|政府)"
                      r"|在([\u4e00-\u9fff]{2,30}?)\s*第?[一二三四五六七八九十]+届\s*人民代表大会"
                      r"|(?:名称|发布机构|来源)[:：]\s*([\u4e00-\u9fff]{2,30})")
_INVOKE_RE = re.compile(r"(县|市|区|省|州|旗)委[、,和]?(?:\1)?(?:政府)?")
_LEVEL = {"县": "县", "旗": "县", "市": "市", "区": "区", "州": "市", "省": "省"}


def _cue_towns(doc: Document) -> list[str]:
    """Towns where the report names itself, strongest first: the title, then self-naming lines.

    A title runs from the province down (江苏省镇江市镇江新区丁岗镇…政府工作报告), so its last town is
    the report's; earlier ones are tails of superiors' names (江市镇 in 镇江市镇江新区).
    """
    head = doc.text[: doc.body_start + 400]
    out = [n for n, _ in gazetteer.towns_in(doc.meta.title or "")][-1:]
    for m in _SELF_RE.finditer(head):
        out += [n for n, _ in gazetteer.towns_in("".join(g for g in m.groups() if g))][-1:]
    return out


def _pick_town(doc: Document) -> tuple[str | None, int]:
    """The gazetteer key (text form) of the report's town and its first offset."""
    text = doc.text
    cued = _cue_towns(doc)
    if cued:
        return cued[0], text.find(cued[0])
    found = gazetteer.towns_in(text)
    # Fallback: the most frequent town name that is not an ordinary word (小城镇, 中心镇 are
    # words; 高城乡 is the tail of 提高城乡) and that the text repeats.
    from kg.extractors.lexicon import is_common_word

    names = {n for n, _ in found}
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
    prov = doc.provenance(pos, pos + len(name), stamp) if pos >= 0 else None
    rec, n_cands = gazetteer.resolve(name, doc.text)
    key, name = name, rec.town if rec else gazetteer.canonical(name)  # the gazetteer's own spelling
    doc.meta.town = name
    suffix = "街道" if name.endswith("街道") else name[-1]
    ex.town = Government(name, suffix, None, True, prov)
    if rec is None:
        if n_cands > 1:
            ex.warnings.append(f"{key} names {n_cands} towns in the gazetteer and the text does not say which")
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
            k = gazetteer.mentioned(s, doc.text)
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
