"""Town-wide statistics and targets (GUIDELINES §3): name, value as written, period, growth, kind.

Rules, clause by clause: an amount (亿元/万元/美元/%) whose preceding phrase ends in an indicator
head word (产值, 收入, 投资, 销售, 总额…) is an observation; a head phrase followed by 增长/增速 N%
is a growth-only observation; `A、B、C增速均…N%` and `分别增长a%、b%` distribute over the names.
The name is the head phrase minus fillers (全年/完成/实现/累计). Period comes from the sentence
(2022年1-10月, 上半年) or the section's year; kind from the section (plan → target).
"""

from __future__ import annotations

import re
from functools import lru_cache

from kg.document import Document, Sentence
from kg.extractors import component
from kg.extractors.numbers import AMOUNT_RE, NUM, as_number, parse_amount
from kg.model import Extraction, Indicator
from kg.vocab import indicator_concept

HEADS = (
    "生产总值|GDP|总产值|产值|增加值|总收入|收入|营收|投资|投资额|应税销售|销售收入|销售额|销售|零售总额|消费品零售总额|"
    "进出口额|进出口总额|进出口|出口额|出口|进口|到位资金|协议资金|资金|税金|税收|经费|利润|外资|内资|招商引资|引资|"
    "实际到账|到账|失业率|价格涨幅|价格|占比|比重|营业额|总额|产出|税收收入|总值|城镇化率|成交额|经费投入|研发投入|规模|支出|"
    "经济|CPI|居民消费价格|花费|总花费"
)
_HEAD_END_RE = re.compile(rf"(?:{HEADS})$")
_CONNECT_RE = re.compile(
    r"(?:完成|实现|达到|达|为|共计|累计|总计|合计|预计|力争|确保|超过|超|突破|近|约|增至|保持在|保持|稳定在|控制在|控制|共|了|分别)+$"
)
_MODIFIER_WORDS = ("力争", "确保", "超", "近", "约")
_FILLERS_RE = re.compile(r"^(?:[个家户名项座条所](?=[\u4e00-\u9fff]{3})|以来|截至目前|目前|投入|全年|全镇|全乡|全街道|全区|全县|全市|全省|全社会(?=[^固])|累计|共计|完成|实现|预计|其中|当年|今年|同期|"
                         r"力争|确保|实际)+")
_INNER_FILLER_RE = re.compile(r"累计|共计")
_VERB_SPLIT_RE = re.compile(r".*(?:完成|实现|达到|其中|以来|投入|新增)")
_NAME_CHARS_RE = re.compile(r"[\u4e00-\u9fffA-Za-z&]+$")
_GROWTH_AFTER_RE = re.compile(
    rf"^(?:[,,]?[^,,;;。\d%]{{0,12}}?)?(?:同比|比上年|较上年|较去年|比去年|年均)?(?:分别)?(?P<dir>增长|增加|提高|上升|增幅|增速|下降|减少|回落)"
    rf"(?:达到|达|为)?(?P<g>{NUM})%(?P<mod>左右|以上|以内)?"
)
_GROWTH_ONLY_RE = re.compile(
    rf"(?P<names>[\u4e00-\u9fffA-Za-z&、和及]{{2,60}}?)(?:预计|同比|比上年|较上年|力争|确保|年均)?"
    rf"(?P<dir>增长|增速|增幅|涨幅|下降|压减|降低)(?:均|分别)?(?:保持在|保持|达到|达|为|控制在)?(?P<g>{NUM}(?:%|个百分点)(?:[、,,和]{NUM}%)*)"
    rf"(?P<mod>左右|以上|以内)?"
)
_PERIOD_RE = re.compile(
    r"(?:(?P<y>\d{4})年)?(?:(?P<m1>\d{1,2})[-—~至到](?P<m2>\d{1,2})月|(?P<h>上半年|下半年)|(?P<q>前三季度|一季度)|(?P<full>全年))"
    r"|(?P<yo>\d{4})年(?![\d-])"
)
_SKIP_NAME_RE = re.compile(r"项目|工程|总投资|计划投资|融资|补助|奖励|慰问|资助|救助|帮扶|授信|贷款|债务|拨付|争取|(?<!经费)(?<!研发)投入(?!产)")
_CLAUSE_SPLIT_RE = re.compile(r"[,,;;:。!?]")


_CLAUSE_SPLIT_CHARS = "".join(sorted(set(_CLAUSE_SPLIT_RE.pattern[1:-1])))  # the class's characters, once each
# Compiled once (a pattern passed as a string is looked up in re's cache on every call).
_INCREMENT_RE = re.compile(r"(?:增加(?!值)|新增|增收|带动|拉动)[\u4e00-\u9fff]{0,12}$")
_TARGET_WORD_RE = re.compile(r"力争|确保|预期目标|目标为")
_DONE_WORD_RE = re.compile(r"完成|实现|预计")
_QUALIFIER_FILLER_RE = re.compile(r"^其中|完成|实现|为|达$")
_HAN_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
_RATE_NAME_RE = re.compile(r"率|占比|比重|涨幅|价格|增长|增速")
_LEAD_TO_NON_HAN_RE = re.compile(r"^.*?(?=[^\u4e00-\u9fff]|$)")
_PER_VILLAGE_RE = re.compile(r"\d+个(?:村|社区)")
_DIGIT_RE = re.compile(r"\d")
_NAME_SEP_RE = re.compile(r"[、和及]")
_NUM_RE = re.compile(NUM)
_concept = lru_cache(maxsize=8192)(indicator_concept)  # a pure function of the name, asked again and again
_GROWTH_WORD_RE = re.compile(r"增长|增速|增幅|涨幅|下降|压减|降低")
_FIVE_YEAR_RE = re.compile(r"“?十[一二三四五六七八九]五”?(?:时期|期间)|五年来|过去五年")


def _period(sentence: str, upto: int, year: int | None) -> str | None:
    """The last period expression before `upto` in the sentence, resolved against `year`."""
    period = str(year) if year else None
    if year and _FIVE_YEAR_RE.search(sentence[:upto]):
        period = f"{year - 4}..{year}"  # a five-year review: the plan period ending in the review year
    for m in _PERIOD_RE.finditer(sentence, 0, upto):
        y = int(m.group("y") or m.group("yo") or 0) or year
        if y is None:
            continue
        if m.group("m1"):
            a, b = int(m.group("m1")), int(m.group("m2"))
            if 1 <= a <= b <= 12:
                period = f"{y}-{a:02d}..{y}-{b:02d}"
        elif m.group("h"):
            period = f"{y}-H1" if m.group("h") == "上半年" else f"{y}-H2"
        elif m.group("q"):
            period = f"{y}-01..{y}-09" if m.group("q") == "前三季度" else f"{y}-01..{y}-03"
        else:
            period = str(y)
    return period


def _clause_start(s: str, i: int) -> int:
    """Start of the clause holding s[i]: just after the last of `_CLAUSE_SPLIT_CHARS` before i, or 0."""
    return max([s.rfind(c, 0, i) for c in _CLAUSE_SPLIT_CHARS]) + 1


def _name_before(s: str, end: int) -> tuple[str | None, str | None, int]:
    """Indicator name ending at `end` (after dropping connectors) → (name, modifier, start)."""
    start = _clause_start(s, end)
    phrase = s[start:end]
    modifier = None
    cm = _CONNECT_RE.search(phrase)
    if cm:
        modifier = next((w for w in _MODIFIER_WORDS if w in cm.group(0)), None)
        phrase = phrase[: cm.start()]
    if not _HEAD_END_RE.search(phrase):
        return None, modifier, start
    phrase = phrase.rsplit("的", 1)[-1]
    if _INCREMENT_RE.search(phrase):
        return None, modifier, start  # 增加村集体收入20万元: an increment, not the level
    m = _NAME_CHARS_RE.search(phrase)
    if not m:
        return None, modifier, start
    raw = m.group(0)
    vs = _VERB_SPLIT_RE.match(raw)
    if vs and len(raw) - vs.end() >= 2:
        raw = raw[vs.end():]
    name = _INNER_FILLER_RE.sub("", _FILLERS_RE.sub("", raw))
    # keep the last 16 characters: long runs are preambles, not names
    name = name[-24:]
    if len(name) < 2 or _SKIP_NAME_RE.search(name):
        return None, modifier, start
    if len(name) < 4 and _concept(name) is None:
        return None, modifier, start  # a bare head word (投资, 资金) is a single project's figure
    return name, modifier, start + m.start()


def _kind(doc: Document, pos: int, clause: str) -> tuple[str, int | None]:
    sec = doc.section_at(pos)
    year = sec.year if sec else doc.meta.report_year
    if sec and sec.kind == "plan":
        return "target", year
    if _TARGET_WORD_RE.search(clause) and not _DONE_WORD_RE.search(clause):
        return "target", year
    return "actual", year


@component("indicators", "1.0", produces=("indicators",))
def extract_indicators(doc: Document, ex: Extraction, stamp: str) -> None:
    seen: set[tuple] = set()
    for sent in doc.sentences:
        if _DIGIT_RE.search(sent.text) is None:
            continue  # amounts and growth rates both need a number: nothing to find, nothing to change
        used: list[tuple[int, int]] = []
        _amounts(doc, ex, sent, stamp, seen, used)
        _growth_only(doc, ex, sent, stamp, seen, used)


def _add(doc: Document, ex: Extraction, sent: Sentence, stamp: str, seen: set[tuple], ind: Indicator,
         a: int, b: int) -> None:
    key = (ind.name, ind.value, ind.unit, ind.period, ind.growth_pct, ind.kind)
    if key in seen:
        return
    seen.add(key)
    ind.prov = doc.provenance(sent.start + a, sent.start + b, stamp, sent)
    ex.indicators.append(ind)


def _amounts(doc: Document, ex: Extraction, sent: Sentence, stamp: str, seen: set[tuple],
             used: list[tuple[int, int]]) -> None:
    s = sent.text
    last_name = None
    for m in AMOUNT_RE.finditer(s):
        unit = m.group("u")
        if unit == "个百分点":
            continue
        name, modifier, nstart = _name_before(s, m.start())
        if name is None:
            clause = s[_clause_start(s, m.start()): m.start()]
            qual = _QUALIFIER_FILLER_RE.sub("", clause)
            if (last_name and unit != "%" and "其中" in clause and 2 <= len(qual) <= 6
                    and _HAN_RUN_RE.fullmatch(qual) and "增" not in qual):
                name, nstart = qual + last_name, _clause_start(s, m.start())
            else:
                continue
        if unit in ("%",) and not _RATE_NAME_RE.search(name):
            continue
        last_name = _LEAD_TO_NON_HAN_RE.sub("", name) or name
        after = s[m.end(): m.end() + 40]
        g = _GROWTH_AFTER_RE.match(after)
        growth = None
        end = m.end()
        if g:
            growth = float(g.group("g")) * (-1 if g.group("dir") in ("下降", "减少", "回落") else 1)
            end = m.end() + g.end()
            used.append((m.end(), end))
        mod = modifier or m.group("suffix") or ("余" if m.group("approx") else None)
        if mod in ("超", "以上") and _PER_VILLAGE_RE.search(s[_clause_start(s, m.start()): m.start()]):
            continue  # 5个村经营性收入超50万元: a per-village threshold, not a town statistic
        if mod == "以下":
            mod = "以内"
        clause = s[_clause_start(s, m.start()): end]
        kind, year = _kind(doc, sent.start + m.start(), clause)
        value = as_number(m.group("v"))
        normalized, base = parse_amount(m.group("v"), unit)
        high = float(m.group("v2")) if m.group("v2") else None
        ind = Indicator(name=name, concept=_concept(name), value=value, unit=unit,
                        period=_period(s, nstart, year), growth_pct=growth, kind=kind, modifier=mod,
                        value_high=high, normalized=normalized, normalized_unit=base)
        _add(doc, ex, sent, stamp, seen, ind, nstart, end)


def _growth_only(doc: Document, ex: Extraction, sent: Sentence, stamp: str, seen: set[tuple],
                 used: list[tuple[int, int]]) -> None:
    s = sent.text
    if not _GROWTH_WORD_RE.search(s):
        return
    for m in _GROWTH_ONLY_RE.finditer(s):
        if any(a <= m.start("g") < b for a, b in used):
            continue
        names_text = m.group("names")
        cs = _clause_start(s, m.start("names"))
        names_text = s[max(cs, m.start("names")): m.end("names")]
        offset = max(cs, m.start("names"))
        # The phrase must not hold an amount (then the growth belongs to that amount).
        if _DIGIT_RE.search(names_text):
            continue
        parts = [p for p in _NAME_SEP_RE.split(names_text) if p]
        if len(parts) > 1 and "等" in parts[-1]:
            last, shared = parts[-1].split("等", 1)
            if _HEAD_END_RE.search(shared):
                parts = [p + shared for p in parts[:-1]] + [last + shared]
        values = _NUM_RE.findall(m.group("g"))
        names: list[tuple[str, int]] = []
        pos = offset
        for p in parts:
            nm, _, _ = _name_before(p + "", len(p))
            if nm:
                names.append((nm, pos))
            pos += len(p) + 1
        if not names:
            continue
        if len(values) > 1 and len(values) != len(names):
            continue
        kind, year = _kind(doc, sent.start + m.start(), s[cs: m.end()])
        mod = m.group("mod")
        pre = s[cs: m.start("dir")]
        for w in ("力争", "确保"):
            if w in pre and mod is None:
                mod = None  # 力争 alone before a growth rate marks the target, not a modifier
        sign = -1 if m.group("dir") in ("下降", "压减", "降低") else 1
        five_year = "年均" in s[cs: m.end()]
        for k, (nm, npos) in enumerate(names):
            g = float(values[k] if len(values) > 1 else values[0]) * sign
            period = _period(s, npos, year)
            if five_year and year and period == str(year):
                # 年均增长 states a five-year plan rate: the plan just ended (review) or the next one
                period = f"{year - 4}..{year}" if kind == "actual" else f"{year}..{year + 4}"
            ind = Indicator(name=nm, concept=_concept(nm), value=None, unit=None,
                            period=period, growth_pct=g, kind=kind, modifier=mod)
            _add(doc, ex, sent, stamp, seen, ind, npos, m.end())
