"""Named projects and engineering works (GUIDELINES §5), with investment, status and place.

Cues: a name ending in 项目/工程 (left boundary at the last verb or punctuation); named roads,
bridges and parks in a clause that builds them (新建/改造/开工/建成…); lists closed by 等项目.
Generic categories (高标准农田建设, 重点项目, 民生工程) are not projects. Investment counts only
in the same clause (总投资58亿元…); status from the clause's verbs, or 计划 in a plan section.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from kg.document import Document
from kg.extractors import component
from kg.extractors.lexicon import cut_left, is_common_word, is_specific, strip_function_words
from kg.extractors.numbers import parse_amount
from kg.extractors.scan import near
from kg.model import Extraction, Project
from kg.vocab import known_programs

NAME_CHARS = r"[\u4e00-\u9fffA-Za-z0-9()+\-·“”]"
ANCHOR_RE = re.compile(rf"{NAME_CHARS}{{2,30}}?(?:项目|工程)(?![\u4e00-\u9fff]{{0,2}}(?:管理|审批|招标|谋划|储备))")
FACILITY_RE = re.compile(
    rf"{NAME_CHARS}{{2,18}}?(?:产业园|工业园|创业园|孵化园|科技园|物流园|园区|综合体|生产线|公寓|酒店|水厂|广场|"
    r"园(?=\(?[一二三四五六七八九十]期)|佳园|佳苑|基地|纪念馆|展览馆|博物馆|新馆|院区|新院|文化公园|枢纽|作业区|港区|隧道|高铁|铁路|"
    r"机场|高速)(?:\([一二三四五六七八九十]期\)|[一二三四五六七八九十]期)?"
    r"(?:\([\u4e00-\u9fff]{2,8}\))?"
)
ROAD_RE = re.compile(r"(?<=[、,,:;。和及与])([\u4e00-\u9fffA-Z0-9()]{1,14}?(?:大道|大桥|公路|路|桥))(?=[、,,;。和及与(等]|改造|建设|新建|延伸|工程|设计)")
SECTION_RE = re.compile(r"[\u4e00-\u9fffA-Z0-9()]{2,20}至[\u4e00-\u9fff]{2,10}段")
SHARED_RE = re.compile(r"((?:(?:(?!等)[\u4e00-\u9fff]){2,8}、){1,6}(?:(?!等)[\u4e00-\u9fff]){2,8})(?:等[^,,;;。、]{0,5}?)?"
                       r"((?:新建|扩建|改造|提升|改建|维修|修缮){1,3}(?:工程|项目))")
ROAD_REJECT_RE = re.compile(r"思路|道路$|网路|线路|出路|路径|门路|之路|新路|老路|马路$|水路|陆路|^[一二三四五六七八九十]|^\d+条")
LIST_RE = re.compile(r"((?:[\u4e00-\u9fffA-Za-z0-9()]{2,16}、){1,12}[\u4e00-\u9fffA-Za-z0-9()]{2,16})等[^,,;;。、的]{0,6}?"
                     r"(项目|工程|道路|设施)")
INVEST_LEAD_RE = re.compile(
    rf"(?:总投资|投资)(?:约|达|超|近)?\d+(?:\.\d+)?(?:余|多)?(?:亿|万)?元的?({NAME_CHARS}{{2,30}}?)"
    r"(?=投入使用|启动|开工|进场|建成|成功|全面|正在|竣工|完工|顺利|签约|落地|开业|投产|如期|即将|已|和|及|、|,|;|。|等)")
QUOTED_RE = re.compile(r"“([^“”\n]{4,30})”(项目|工程)")
OBJECT_RE = re.compile(
    rf"(?:改造升级|改造提升|提档升级|新建|扩建|改建|建设|建成|启用|开工建设)({NAME_CHARS}{{3,20}}?"
    r"(?:市场|展览馆|纪念馆|博物馆|图书馆|文化馆|体育馆|中心|学校|小学|中学|幼儿园|医院|卫生院|公园|广场|站|厂房|公寓|驿站))"
    r"(?=[,,。;;、和])")
WORK_NEXT_RE = re.compile(rf"[、和]({NAME_CHARS}{{3,24}}?(?:改造|修复|白改黑|刷黑|新建|重建|提升))(?=[,、。;和]|等)")
NEW_RE = re.compile(rf"新建({NAME_CHARS}{{3,20}}?)(?=[,、。;])")
WORK_RE = re.compile(
    rf"(?:新建|完成|启动|推进|实施|重点推进|加快)({NAME_CHARS}{{3,24}}?(?:改造|修复|白改黑|刷黑|新建|重建|提升|(?<=[河道路桥园馆厂站])建设))(?=[,、。;和\d]|等)")
BUILD_RE = re.compile(r"启动|前期工作|征地|报批|完成|大中修|筹建|打造|新建|建成|改造|改建|开工|完工|竣工|通车|延伸|拓宽|修复|白改黑|刷黑|硬化|在建|续建|投运|投产|启用|建设|"
                      r"落户|签约|推进|实施|开业|提升|动工|重建|规划建设")
GENERIC_RE = re.compile(
    r"^(?:重点|重大|亿元|产业|工业|招商|在建|新建|续建|民生|省级|市级|县级|各类|一批|这些|该|其他|相关|所有|全部|已建|拟建|"
    r"基础设施|惠民|民心|实事|系统|高技术|服务业|康养|新型基础设施|中央预算内投资|专项债券|低效|工程化|关键技术|攻关|省市县三级|"
    r"农业|水利|交通|城建|技改|签约|开工|竣工|投产|政府投资|社会投资|\d+个|个|类|大|小|新|老|好|"
    r"高标准农田|农田|绿化|亮化|美化|硬化|道路|公路|村庄|河道|管网|污水|安全|扶贫|帮扶|示范|试点|储备|招引|引进|建设|服务|"
    r"文化|生态|环境|乡村|振兴|提升|改造|整治|升级|专项|配套|重点工程|十大|百项|千项|万项)+$")
REJECT_RE = re.compile(r"^[^(]*\)|\([^)]*$|等|首条|首个|首家|结束|全部|^高标准|^第\d+届|以上|重大项目$|"
                       r"\d+(?:\.\d+)?(?:万|亿)?(?:亩|公里|千米|米|个|户|平方米|吨|座|条|处|家)(?:以上)?$|^(?!\d{4}年|年产|\d+[A-Za-z]|\d+省道)[年月日个家项亩万亿元%\d]|\d+[个户家座条处项人]|已|完成|进行|设计并|改革$|^扩建|项目[为是]|^[的了和与并超谈每]|等$|[,、;:。]|审批|资金|申报|管理$|工作$|制度|机制|"
                       r"^(?:一批|优质|重要|重大|研发|全年|大抓|相关|多渠道|用于|推动|整合|获取|优选|新增|做实|每周|提档|整治提升)"
                       r"|(?:内资|外资|科创类?|产业|重特大|战略性|优质|民生|工业|农业农村)(?:项目|工程)$|亿元")
INVEST_RE = re.compile(r"(?:总投资|计划投资|投资|投入|总投入|估算投资)(?:约|达|超|近)?(\d+(?:\.\d+)?)(?:余|多)?(亿元|万元|亿|万)")
_AMOUNT = r"(?:约|达|超|近)?(\d+(?:\.\d+)?)(?:余|多)?(亿元|万元|亿|万)"
# 总投资58亿元南方水泥…, 总投资3亿元的人才公寓: the amount names the very next work, even inside a list
INVEST_ADJACENT_RE = re.compile(rf"(?:总投资|计划投资|投资|总投入|投入){_AMOUNT}的?$")
# 投入150余万元,完成2020年规模化供水工程: a verb after the comma hands the amount to one work
INVEST_VERB_RE = re.compile(rf"(?:总投资|计划投资|投资|总投入|投入){_AMOUNT}的?[,,]?"
                            r"(?:实施|完成|建设|启动|推进|新建|[\u4e00-\u9fff]{0,6}——)(?:\d+个)?$")
# 华鑫公司项目8个、总投资13.2亿元: the amount right after the work (or its count) is its own
INVEST_AFTER_RE = re.compile(rf"(?:项目|工程)?(?:\d+个)?[,,、]?(?:计划)?(?:总投资|投资){_AMOUNT}")
STATUS = (("签约", "签约"), ("开工", "开工"), ("动工", "开工"), ("投产", "投产"), ("建成", "建成"), ("竣工", "建成"),
          ("完工", "建成"), ("投运", "建成"), ("通车", "建成"), ("在建", "在建"), ("续建", "在建"), ("推进", "在建"))
# The name-led patterns, scanned from their tails (kg.extractors.scan: same matches, less work).
ANCHOR_SCAN = near(ANCHOR_RE, "(?:项目|工程)")
FACILITY_SCAN = near(FACILITY_RE, "(?:产业园")
SHARED_SCAN = near(SHARED_RE, "((?:新建")
LIST_SCAN = near(LIST_RE, "等[^")
# Compiled once (a pattern passed as a string is looked up in re's cache on every call).
_LEAD_YEAR_COUNT_RE = re.compile(r"^(?:年度|年(?!产)|\d+个|\d+项|“[^”]*$)")
_CLAUSE_END_RE = re.compile(r"[;。]")
_ROAD_TAIL_RE = re.compile(r"[路桥线园区]+$")
_FACILITY_END_RE = re.compile(r"(?:路|大道|桥|线|园|馆|中心|基地|工程|项目|厂|站|港|厕所)$")
_LEAD_WORK_VERBS_RE = re.compile(r"^(?:改造|新建|建设|提升|修复|改建|扩建|升级)+[和及]?")
_TAIL_WORK_VERB_RE = re.compile(r"(?:改造|修复|白改黑|刷黑|新建|重建|提升|建设)$")
_DIGIT_RE = re.compile(r"\d")
_NUMERAL_LEAD_RE = re.compile(r"^[一二三四五六七八九十百千万两双]")
VILLAGE_RE = re.compile(r"([\u4e00-\u9fff]{2,4}村)(?![民委级庄])")


def _investment(text: str, lo: int, a: int, b: int) -> tuple[float, str, float | None] | None:
    """The amount that belongs to the work text[a:b]: right before it (总投资58亿元南方水泥…),
    right after it (…项目8个、总投资13.2亿元), or handed over by a verb (投入150万元,完成…)
    unless the work is one item of a list (an amount spread over a list stays unassigned)."""
    in_list = text[b: b + 1] in ("、", "等") or text[a - 1: a] == "、"
    inv = (INVEST_ADJACENT_RE.search(text, max(lo, a - 24), a) or INVEST_AFTER_RE.match(text, b)
           or (None if in_list else INVEST_VERB_RE.search(text, max(lo, a - 30), a)))
    if not inv:
        return None
    value: float = float(inv.group(1))
    value = int(value) if value.is_integer() else value
    unit = inv.group(2) if inv.group(2).endswith("元") else inv.group(2) + "元"
    return value, unit, parse_amount(str(value), unit)[0]


_CLAUSE_MARKS = ",;。\n"
_CLAUSE_MARK_RE = re.compile(f"[{_CLAUSE_MARKS}]")
_MARKS: list[Any] = [None, []]  # the last text asked about, and where its clause marks are


def _clause(text: str, a: int, b: int) -> str:
    """The clause around text[a:b]: from the previous to the next , ; or 。 (a work is built in its own clause).

    The marks are found once per text and bisected: looking for each mark from each candidate ran
    to the ends of the report for a mark it did not hold (quadratic).
    """
    if _MARKS[0] is not text:
        _MARKS[:] = [text, [m.start() for m in _CLAUSE_MARK_RE.finditer(text)]]
    marks = _MARKS[1]
    i = bisect.bisect_left(marks, a)  # marks[i - 1] is the last one before a
    j = bisect.bisect_left(marks, b)  # marks[j] is the first one at or after b
    return text[marks[i - 1] + 1 if i else 0: marks[j] if j < len(marks) else len(text)]


def _clean(name: str) -> str:
    name = strip_function_words(cut_left(name, project=True))
    name = _LEAD_YEAR_COUNT_RE.sub("", name)
    if name.count("“") != name.count("”"):
        name = name.replace("“", "").replace("”", "")
    return name


def _is_named(name: str, suffix_len: int) -> bool:
    core = name[:-suffix_len] if suffix_len else name
    if len(name) < 3 or len(core) < 2 or REJECT_RE.search(name):
        return False
    return not GENERIC_RE.match(core)


class _Blob:
    """The kept names joined by NUL (absent from normalized text): `x in blob()` is "x is inside a kept
    name", one substring search instead of a loop over every name kept so far (quadratic in long reports)."""

    __slots__ = ("found", "text", "stale")

    def __init__(self, found: dict[str, Project]) -> None:
        self.found, self.text, self.stale = found, "\x00", False

    def add(self, name: str) -> None:
        if not self.stale:
            self.text += name + "\x00"

    def blob(self) -> str:
        if self.stale:  # a name was dropped: rebuild from what is kept
            self.text, self.stale = "\x00" + "".join(k + "\x00" for k in self.found), False
        return self.text


@component("projects", "1.0", produces=("projects",))
def extract_projects(doc: Document, ex: Extraction, stamp: str) -> None:
    text, lo, hi = doc.text, doc.body_start, doc.body_end
    found: dict[str, Project] = {}
    names = _Blob(found)

    def add_virtual(name: str, a: int, length: int) -> None:
        add(name, a, length)

    def add(name: str, a: int, length: int | None = None) -> None:
        if "及" in name and length is None:  # 大塘路及人才公寓: two works
            left, _, right = name.partition("及")
            if len(left) >= 3 and len(right) >= 3:
                add(left, a)
                add(right, a + len(left) + 1)
                return
        if name in known_programs():
            return
        b = a + (length if length is not None else len(name))
        amount = _investment(text, lo, a, b)
        if name in found or (name in names.blob() if name else any(found)):  # it, or a name holding it, is kept
            known = found.get(name)
            if known is not None and known.investment_value is None and amount:
                known.investment_value, known.investment_unit, known.investment_yuan = amount
            return  # a later mention may still supply the amount the first one lacked
        for other in list(found):  # a longer name for the same work replaces the shorter one
            if other in name:
                del found[other]
                names.stale = True
        sent = doc.sentence_at(a)
        clause_lo = max(sent.start if sent else lo, a - 30)
        cl = text[clause_lo: min(b + 30, sent.end if sent else hi)]
        clause = _CLAUSE_END_RE.split(cl)[0] if cl else ""
        value, unit, yuan = amount or (None, None, None)
        sec = doc.section_at(a)
        status = next((s for w, s in STATUS if w in clause), None)
        if sec and sec.kind == "plan" and status in (None, "在建"):
            status = "计划"
        village = VILLAGE_RE.search(cut_left(text[clause_lo:a]) or "")
        found[name] = Project(name, value, unit, yuan, status, village.group(1) if village else None,
                              prov=doc.provenance(a, b, stamp, sent))
        names.add(name)

    for m in ANCHOR_SCAN.finditer(text, lo, hi):
        raw = m.group(0)
        name = _clean(raw)
        suffix = 2
        if _is_named(name, suffix) and is_specific(name[:-suffix]):
            add(name, m.end() - len(name))
    for m in FACILITY_SCAN.finditer(text, lo, hi):
        clause = _clause(text, m.start(), m.end())
        if not BUILD_RE.search(clause):
            continue
        name = _clean(m.group(0))
        if _is_named(name, 0) and is_specific(name) and not GENERIC_RE.match(_ROAD_TAIL_RE.sub("", name) or "x"):
            add(name, m.end() - len(name))
    for m in ROAD_RE.finditer(text, lo, hi):
        name = strip_function_words(cut_left(m.group(1), project=True))
        clause = _clause(text, m.start(1), m.end(1))
        if (ROAD_REJECT_RE.search(name) or REJECT_RE.search(name) or len(name) < 3 or is_common_word(name)
                or not BUILD_RE.search(clause)):
            continue
        add(name, m.end(1) - len(name))
    for m in LIST_SCAN.finditer(text, lo, hi):
        items = m.group(1).split("、")
        items[0] = strip_function_words(cut_left(items[0], project=True))
        pos = m.start(1)
        for item in items:
            pos = text.find(item, pos)
            facility = _FACILITY_END_RE.search(item)
            if len(item) >= 2 and not GENERIC_RE.match(item) and not REJECT_RE.search(item) and (
                    facility or is_specific(item)):
                if m.group(2) == "项目" and not item.endswith(("项目", "工程")):
                    add_virtual(item + "项目", pos, len(item))
                else:
                    add(item, pos)
            pos += len(item)
    for m in INVEST_LEAD_RE.finditer(text, lo, hi):
        name = m.group(1)
        if text.startswith("等", m.end(1)):
            continue  # a list: the list rule names each element
        if len(name) >= 3 and not GENERIC_RE.match(name) and not REJECT_RE.search(name):
            add(name, m.start(1))
    for m in WORK_RE.finditer(text, lo, hi):
        # 推进王余公路白改黑、正中桥危桥改造和运北桥路宽桥窄改造: the verb governs the whole list
        # the verb is outside the group; a second work verb glued to it (新建改造和…) is not a name
        first = _LEAD_WORK_VERBS_RE.sub("", m.group(1))
        spans = [(first, m.end(1))]
        pos = m.end(1)
        while (nxt := WORK_NEXT_RE.match(text, pos)) is not None:
            spans.append((nxt.group(1), nxt.end(1)))
            pos = nxt.end(1)
        for name, end in spans:
            core = _TAIL_WORK_VERB_RE.sub("", name)
            if (len(core) >= 3 and is_specific(core) and not GENERIC_RE.match(core) and not REJECT_RE.search(name)
                    and "“" not in name and "”" not in name):
                add(name, end - len(name))
    for m in SECTION_RE.finditer(text, lo, hi):
        name = strip_function_words(cut_left(m.group(0), project=True))
        sent = doc.sentence_at(m.start())
        clause = text[max(sent.start if sent else lo, m.start() - 25): m.end() + 15]
        if len(name) >= 6 and BUILD_RE.search(clause) and not REJECT_RE.search(name):
            add(name, m.end() - len(name))
    for m in SHARED_SCAN.finditer(text, lo, hi):  # 湄池初中、阮市小学改造提升工程: one project per element
        items = m.group(1).split("、")
        items[0] = strip_function_words(cut_left(items[0], project=True))
        pos = m.start(1)
        for item in items:
            pos = text.find(item, pos)
            if len(item) >= 2 and is_specific(item) and not GENERIC_RE.match(item):
                add_virtual(item + m.group(2), pos, len(item))
            pos += len(item)
    for m in QUOTED_RE.finditer(text, lo, hi):  # “年产10万台精密RV减速机”项目
        inner = m.group(1)
        named = _DIGIT_RE.search(inner) or (len(inner) >= 5 and is_specific(inner))
        if named and not _NUMERAL_LEAD_RE.match(inner) and inner not in known_programs():
            add_virtual(inner + m.group(2), m.start(1), len(inner))
    for m in OBJECT_RE.finditer(text, lo, hi):  # 改造升级正余和王浩农贸市场, 建设红军小学展览馆
        name = m.group(1)
        if is_specific(name) and not GENERIC_RE.match(name) and not REJECT_RE.search(name):
            add(name, m.start(1))
    for m in NEW_RE.finditer(text, lo, hi):
        name = strip_function_words(m.group(1))
        if len(name) >= 4 and is_specific(name) and not GENERIC_RE.match(name) and not REJECT_RE.search(name):
            add(name, m.end(1) - len(name))
    ex.projects.extend(found.values())
