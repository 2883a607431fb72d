"""Named programs and political formulas (GUIDELINES §6).

Candidates: (1) quoted names “…”, scored by shape and context — a program suffix inside the
quotes (行动/工程/计划/年/制…), a program word right after them (“三服务”活动), a numeral-led
campaign shape (三服务, 五水共治), a program verb before them (践行/实施/开展…); descriptive
phrases, slogans with clauses and honour titles score low; (2) well-known initiatives from the
shipped dictionary, even unquoted; (3) named plans written out in full (…三年行动计划).
Quoted national formulas (两个维护) go to political_formulas. A 名词解释 glossary entry
(1.“三重一大”: …) gives its program a definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import rjieba

from kg.document import Document
from kg.extractors import component
from kg.extractors.lexicon import cut_left, is_common_word, strip_function_words, word_tags
from kg.extractors.scan import near, trie
from kg.model import Extraction, Formula, Program
from kg.vocab import formulas, known_programs

QUOTE_RE = re.compile(r"[“\"「『]([^“”\"「」『』\n]{2,48})[”\"」』]")
IN_SUFFIX = ("行动", "工程", "计划", "战略", "改革", "机制", "活动", "制度", "模式", "攻坚", "攻坚战", "专项行动", "革命",
             "运动", "提升年", "突破年", "建设年", "巩固年", "强化年", "跨越年", "招商", "试点", "规划", "普法", "长制",
             "一件事", "创建", "工作法", "体系", "行动计划", "工作体系", "英才", "人才计划", "大比武", "清单", "网格", "生活圈",
             "服务圈", "医保圈", "缔造")
AFTER_WORDS = ("活动", "行动", "改革", "工程", "战略", "机制", "工作法", "模式", "计划", "攻坚战", "攻坚", "专项行动",
               "创建", "试点", "制度", "工作机制", "主题教育", "三年行动", "行动计划", "专项整治", "体系", "工作体系",
               "理念", "大走访", "系列活动", "经验", "战役", "会战", "规划", "工作法", "人才")
VERBS = ("践行", "推进", "实施", "开展", "深化", "落实", "推行", "创建", "争创", "打造", "启动", "推动", "围绕", "紧扣",
         "聚焦", "坚持", "持续", "抓好", "以", "深入", "全面", "扎实", "开展了", "贯彻", "组织", "做好", "强化", "探索", "建立",
         "实行", "完善", "健全", "深入推进", "扎实推进", "全力推进", "大力实施")
NUMERAL_RE = re.compile(r"^[一二三四五六七八九十百千万两双多\d]+[\u4e00-\u9fff+]")
NOT_PROGRAM_RE = re.compile(r"的$|^[的了和与]|[,。!?;:]|精神$|思想$|讲话|指示|重要论述|新发展理念|高质量发展$|新发展格局")
PLAN_NAME_RE = re.compile(r"[\u4e00-\u9fff“”0-9+]{2,16}?(?:三年行动计划|五年行动计划|行动计划|倍增计划|成长计划|三年行动方案|行动方案|"
                          r"发展规划|概念规划|协同规划|攻坚行动|专项行动|提升行动|百日行动|清洁行动|民心行动|强链行动|"
                          r"攻坚战|培育试点)")
PLAN_STOP_RE = re.compile(r".*(?:获|落实|实施|推进|编制|制定|出台|启动|完成|开展|深化|执行|印发|围绕|按照|根据|以|的|和|及|与|、)")
STANCE_PLAN_RE = re.compile(r"将|要|计划|力争|谋划|着力|确保|加快|争取")
# Unquoted named initiatives: a noun phrase ending in a program word (…提质行动, …综合改革, …强基工程).
UNQUOTED_RE = re.compile(r"[\u4e00-\u9fff“”·×—]{3,22}?(?:三年行动计划|行动计划|三年行动|专项行动|行动|培育计划|支持计划|孵化计划|"
                         r"提升计划|增收计划|振兴计划|专项计划|大比武|综合改革试点|综合改革|改革试点|(?<!考)试点|改革|战略|战役|保卫战|攻坚战|"
                         r"[提强培振扩打育固惠兴新优]\w?工程)(?![\u4e00-\u9fff]{0,1}(?:项目|建设$))")
UNQUOTED_GENERIC_RE = re.compile(r"^(?:各项|重大|重点|相关|这项|一批|一系列|全面|深化|深入|各类|多项|若干|系列|专项|综合|"
                                 r"体制|机制|制度|领域|重要|关键|基础|配套|有关|全方位|多层次|新一轮|新一批|本轮|首批|"
                                 r"全国|全省|全市|全县|全镇|我省|我市|我县|我镇|省级|市级|县级|区级|镇级|国家级|省首批|全省首批|首批)+")
PHYSICAL_RE = re.compile(r"(?:道路|水库|管网|大桥|桥梁|隧道|调蓄|河道|供水|污水|铁路|公路|高速|机场|管道|电站|水利|堤防|枢纽|灌区)")
# Name-led patterns scanned from their tails (kg.extractors.scan: same matches, less work).
PLAN_SUFFIX_RE = re.compile(r"(?:[一二三四五]年)?(?:行动计划|倍增计划|成长计划|行动方案|发展规划|概念规划|协同规划|攻坚行动|"
                            r"专项行动|提升行动|百日行动|清洁行动|民心行动|强链行动|攻坚战|培育试点)$")
QUANTITY_LEAD_RE = re.compile(r"[\d一二三四五六七八九十百千万两]+(?:余|多)?[项个条批家]|[个项家条]|多场")
PLAN_NAME_SCAN = near(PLAN_NAME_RE, "(?:三年行动计划")
UNQUOTED_SCAN = near(UNQUOTED_RE, "(?:三年行动计划")
GLOSSARY_RE = re.compile(r"(?:^|\n)\s*\d+[.、]\s*“([^”]{2,20})”[::]([^\n]{4,300})")

# Compiled once (a pattern passed as a string is looked up in re's cache on every call).
_PLAN_OR_PLUS_RE = re.compile(r"十[一二三四五六七八九]五|.*\+")
_ETC_PROGRAM_RE = re.compile(r"^等(?:工作)?(?:机制|活动|行动|模式|工程)")
_QUOTED_RUN_RE = re.compile(r"^[”\"]?(?:[“\"][^”\"]{1,12}[”\"])*")
_PRODUCT_AFTER_RE = re.compile(r"^等?(?:本地|地方|特色|优质)?(?:农产品|产品|品牌|特产|商品|商标|牌)|^相结合|^并重|^两手抓")
_CAPACITY_RE = re.compile(r"^(?:年产|\d+(?:\.\d+)?(?:万|亿|台|吨|千瓦|平方))")
_DESCRIPTION_END_RE = re.compile(r"(?:访|式|型|者|家庭|之乡|卫生镇|强镇|示范村|先进|标兵|学校|中学|小学|医院|幼儿园)$")
_SLOGAN_RE = re.compile(r"应.尽.|都是|为王")
_NEXT_QUOTE_RE = re.compile(r"^[”\"]?[“\"]")
_PREV_QUOTE_RE = re.compile(r"[”\"]$")
_BRANDED_CAMPAIGN_RE = re.compile(r"^(?:平安|法治|美丽|数字|智慧|健康|幸福|文明|清廉|生态|活力|品质)[\u4e00-\u9fff]{2,3}$")
_LIST_SEP_RE = re.compile(r"[、,]")
_MAXIM_RE = re.compile(r"为王|都是|就是|才是")
_UPGRADE_RE = re.compile(r"[\u4e00-\u9fff][升转][\u4e00-\u9fff]")
_NEGATION_RE = re.compile(r"[要不没无]")
_HONOUR_TITLE_RE = re.compile(r"^(?:全国|全省|省级|国家级|市级)?[\u4e00-\u9fff]{0,6}(?:强镇|示范镇|名镇|先进|优秀|标兵|单位|之乡|称号)$")
_AGAINST_RE = re.compile(r"(?:不搞|反对|杜绝|防止|严禁|不做|整治)$")
_FIVE_YEAR_PLAN_RE = re.compile(r"十[一二三四五六七八九]五")
_UNQUOTED_SUFFIX_RE = re.compile(r"(?:三年行动计划|行动计划|三年行动|专项行动|行动|计划|大比武|综合改革试点|综合改革|改革试点|试点|改革|战略|"
                                 r"战役|保卫战|攻坚战|工程)$")
_NOT_A_HEAD_RE = re.compile(r"\d|[年月日]$|的|深化|推进|实施|保持|解放|方式|思想|全面")
_DIVISION_SUFFIX_RE = re.compile(r"(?:街道|自治区|自治州|镇|乡|省|市|县|区)$")
# Town-branded campaigns (平安新杭): every brand word has two characters (see `_branded`).
CAMPAIGN_BRANDS = ("平安", "法治", "美丽", "数字", "幸福", "健康", "清廉", "文明", "书香", "智慧", "诚信")


QUOTE_THRESHOLD = 1
WEAK_AFTER = ("工作", "建设", "联系", "决策", "综合试点", "普法", "作用", "工程", "深入推进", "扎实推进", "全面推进", "有序推进",
              "持续推进", "招标试点")


def _score(text: str, inner: str, a: int, b: int) -> int:
    """Evidence that the quoted string text[a:b] (content `inner`) names a program."""
    if NOT_PROGRAM_RE.search(inner) or len(inner) > 20 or _PLAN_OR_PLUS_RE.fullmatch(inner):
        return -9
    after = text[b: b + 6]
    before = text[max(0, a - 6): a]
    score = 0
    if inner.endswith(IN_SUFFIX):
        score += 2
    if after.startswith(AFTER_WORDS) or _ETC_PROGRAM_RE.match(after):
        score += 2
    if NUMERAL_RE.match(inner) and len(inner) <= 9:
        score += 1
    if after.startswith(WEAK_AFTER):
        score += 1
    tail = _QUOTED_RUN_RE.sub("", text[b: b + 40])
    if _PRODUCT_AFTER_RE.match(tail) or _CAPACITY_RE.match(inner):
        score -= 3  # product brands and capacities are not programs
    first = rjieba.cut(inner, hmm=False)[0]
    if len(first) > 1 and (word_tags().get(first) or "n")[0] == "v" and is_common_word(first, 300) and not inner.endswith(IN_SUFFIX):
        score -= 2  # 做大龙头企业: a quoted verb phrase is a task, not a named program
    if _DESCRIPTION_END_RE.search(inner) or _SLOGAN_RE.search(inner):
        score -= 3  # 进京访, 一窗式, 担当型: descriptions; 文明家庭: honour titles; 应管尽管: slogans
    if before.endswith(VERBS):
        score += 1
    if _NEXT_QUOTE_RE.match(after) or _PREV_QUOTE_RE.search(before):
        score += 1  # adjacent quoted names: a list of campaigns (“一把手招商”“乡贤招商”)
    if "+" in inner:
        score += 1
    if _BRANDED_CAMPAIGN_RE.match(inner):
        score += 1  # 平安新杭, 法治店口: a town-branded campaign
    if is_common_word(inner, 20) or len(inner) <= 2:
        score -= 2  # a dictionary word in quotes is descriptive (“家门口”, “一条龙”, “店小二”)
    parts = _LIST_SEP_RE.split(inner)
    one_vision = len(parts) > 1 and all(2 <= len(p) <= 5 for p in parts) and (
        len({p[0] for p in parts}) == 1 or all(NUMERAL_RE.match(p) for p in parts))
    if ("、" in inner or "," in inner) and not one_vision:
        score -= 2  # 稳增长、保生产、促发展: a list of aims; 大排查、大整改、大提升 is one campaign
    elif one_vision:
        score += 1
    if _MAXIM_RE.search(inner):
        score -= 2
    if _UPGRADE_RE.fullmatch(inner):
        score += 2  # 小升规, 个转企, 下升上, 产转法: enterprise-upgrading programs
    if _NEGATION_RE.search(inner) and not inner.endswith(IN_SUFFIX):
        score -= 2  # 疫情要防住… : a slogan
    if _HONOUR_TITLE_RE.match(inner):
        score -= 3  # honour title
    if after.startswith(("称号", "荣誉", "奖")):
        score -= 3
    return score


def _canonical(inner: str) -> str:
    kp = known_programs()
    return kp.get(inner, inner)


def _split_list(inner: str) -> list[str]:
    """A quoted list splits when each element is a complete campaign (…年、…年)."""
    parts = [p for p in _LIST_SEP_RE.split(inner) if p]
    if len(parts) > 1 and all(len(p) >= 4 and p.endswith(IN_SUFFIX) for p in parts):
        return parts
    return [inner]


class _Names:
    """The names kept so far, indexed for `overlaps` (a linear scan per candidate was quadratic)."""

    def __init__(self) -> None:
        self.by_len: dict[int, set[str]] = {}  # names of 2+ characters, by length
        self.blob2 = "\x00"  # names of 2+ characters, \x00-separated: `x in blob` = x is inside one
        self.blob5 = "\x00"  # the same for names of 5+ characters

    def add(self, name: str) -> None:
        if len(name) >= 2:
            self.by_len.setdefault(len(name), set()).add(name)
            self.blob2 += name + "\x00"
            if len(name) >= 5:
                self.blob5 += name + "\x00"

    def overlaps(self, canon: str) -> bool:
        """True when a kept name k (2+ chars) contains or is contained in `canon` and one of them has
        5+ characters: `any(k in canon or canon in k ...)` over the kept names, without the loop."""
        if len(canon) < 5:  # then k must have 5+ characters, so only `canon in k` is possible
            return len(self.blob5) > 1 and canon in self.blob5
        if len(self.blob2) > 1 and canon in self.blob2:
            return True
        return any(canon[i:i + n] in names for n, names in self.by_len.items() if n <= len(canon)
                   for i in range(len(canon) - n + 1))


@component("programs", "1.0", produces=("programs", "political_formulas"))
def extract_programs(doc: Document, ex: Extraction, stamp: str) -> None:
    text = doc.text
    seen: dict[str, Program] = {}
    names = _Names()
    fseen: set[str] = set()
    form = formulas()

    def add(name: str, a: int, b: int, surface: str) -> None:
        if name in form:
            if name not in fseen:
                fseen.add(name)
                ex.formulas.append(Formula(name, doc.provenance(a, b, stamp)))
            return
        canon = _canonical(name)
        written = _as_written(text, b, surface)
        if canon in seen:
            known = seen[canon]
            if written != canon and written not in known.aliases:
                known.aliases.append(written)  # “放管服”改革 and 放管服 in one report
            return
        if names.overlaps(canon):
            return  # 三清 and 公共安全重大隐患三清专项行动 name one program: keep the first mention
        if _AGAINST_RE.search(text[max(0, a - 4): a]):
            return
        sec = doc.section_at(a)
        sent = doc.sentence_at(a)
        stance = "planned" if sec and sec.kind == "plan" else "implemented"
        if stance == "implemented" and sent and STANCE_PLAN_RE.search(sent.text[: a - sent.start]) and sec is None:
            stance = "planned"
        p = Program(canon, surface, stance, [written] if written != canon else [], None, doc.provenance(a, b, stamp, sent))
        seen[canon] = p
        names.add(canon)
        ex.programs.append(p)

    for m in QUOTE_RE.finditer(text, doc.body_start, doc.body_end):
        inner = m.group(1).strip()
        a, b = m.span()
        if _FIVE_YEAR_PLAN_RE.fullmatch(inner) and text.startswith("规划", b):
            add(inner + "规划", a, b + 2, inner + "规划")  # “十四五”规划
            continue
        if inner in form:
            add(inner, a, b, inner)
            continue
        if inner in known_programs():
            add(inner, a, b, inner)
            continue
        joined = next((inner + text[b: b + k] for k in (2, 3) if inner + text[b: b + k] in known_programs()), None)
        if joined:  # “八五”普法 → 八五普法
            add(joined, a, b + len(joined) - len(inner), joined)
            continue
        parts = _split_list(inner)
        off = m.start(1)
        for part in parts:
            k = inner.find(part)
            pa, pb = (a, b) if len(parts) == 1 else (off + k, off + k + len(part))
            if _score(text, part, pa, pb) < QUOTE_THRESHOLD:
                continue
            add(part, off + k, off + k + len(part), part)

    # well-known initiatives, quoted or not
    known = _known_programs_re()
    if known is not None:
        for m in known.finditer(text[doc.body_start: doc.body_end]):
            a = doc.body_start + m.start()
            add(m.group(0), a, a + len(m.group(0)), m.group(0))

    # named plans written in full: 数字经济五年倍增计划, 与杭同城三年行动计划
    for m in PLAN_NAME_SCAN.finditer(text, doc.body_start, doc.body_end):
        name = m.group(0)
        cut = PLAN_STOP_RE.match(name)
        start = m.start() + (cut.end() if cut else 0)
        name = strip_function_words(text[start: m.end()].replace("“", "").replace("”", ""), numerals=True)
        start = m.end() - len(name)
        core = PLAN_SUFFIX_RE.sub("", name)
        if (len(name) >= 5 and len(core) >= 2 and not name.startswith(("年", "的")) and not is_common_word(name, 1)
                and not QUANTITY_LEAD_RE.match(name)):
            add(name, start, m.end(), name)

    for m in UNQUOTED_SCAN.finditer(text, doc.body_start, doc.body_end):
        raw_name = m.group(0)
        name = strip_function_words(cut_left(raw_name), numerals=True).replace("“", "").replace("”", "")
        name = UNQUOTED_GENERIC_RE.sub("", name)
        if QUANTITY_LEAD_RE.match(name):
            continue  # 百余项国家级改革试点: a count of pilots, not one
        start = m.end() - len(name)
        core = name
        suffix_len = len(_UNQUOTED_SUFFIX_RE.search(name).group(0))
        head = core[:-suffix_len] if suffix_len < len(core) else ""
        generic_suffix = name.endswith(("改革", "战略", "试点", "工程", "行动"))
        if len(name) < 5 or len(head) < 2 or is_common_word(name, 1) or (generic_suffix and is_common_word(head, 3000)):
            continue
        if name.endswith("工程") and PHYSICAL_RE.search(name):
            continue  # a physical work is a project, not a program
        if _NOT_A_HEAD_RE.search(head) or name in seen:
            continue
        last = rjieba.cut(head, hmm=False)[-1]
        if name.endswith(("改革", "战略")) and (word_tags().get(last) or "n")[0] in "vdap" and len(last) > 1:
            continue  # 深化改革, 保持战略: a verb phrase, not a name
        add(name, start, m.end(), name)

    # 平安新杭, 法治店口: a campaign branded with the town's own name, quoted or not
    shorts = [_short_name(n) for n in (doc.meta.town, ex.region.name if ex.region else None) if n]
    for short in (s for s in shorts if len(s) >= 2):
        for start, name in _branded(text[doc.body_start: doc.body_end], short):
            a = doc.body_start + start
            add(name, a, a + len(name), name)

    _glossary(doc, seen)


_KNOWN_RE: dict[int, tuple[dict[str, str], re.Pattern[str] | None]] = {}


def _known_programs_re() -> re.Pattern[str] | None:
    """The well-known program names as one pattern, built once per dictionary, not once per report.

    A prefix tree matches what their longest-first alternation matched (kg.extractors.scan.trie).
    """
    kp = known_programs()
    hit = _KNOWN_RE.get(id(kp))
    if hit is None or hit[0] is not kp:
        hit = (kp, re.compile(trie(kp)) if kp else None)
        _KNOWN_RE.clear()
        _KNOWN_RE[id(kp)] = hit
    return hit[1]


def _branded(body: str, short: str) -> Iterator[tuple[int, str]]:
    """(start, text) of each match of `(?:平安|法治|…){short}` in `body`, in order, without compiling a
    pattern per town: every brand word has two characters, so a match is a brand word right before an
    occurrence of `short`; leftmost first and not overlapping the previous match, as `re.finditer`."""
    pos = 0  # where the previous match ended
    i = body.find(short, 2)
    while i >= 0:
        if body[i - 2: i] in CAMPAIGN_BRANDS:
            yield i - 2, body[i - 2: i + len(short)]
            pos = i + len(short)
            i = body.find(short, pos + 2)
        else:
            i = body.find(short, i + 1)


_GENERIC_TAIL_RE = re.compile(r"[”\"」』]?(改革|活动|行动|工程|战略|机制|制度|专项行动)")


def _as_written(text: str, b: int, surface: str) -> str:
    """The name with the generic word the text puts after the quotes: “放管服”改革 → 放管服改革 (an alias)."""
    m = _GENERIC_TAIL_RE.match(text, b)
    return surface + m.group(1) if m and not surface.endswith(m.group(1)) else surface


def _short_name(name: str) -> str:
    """新杭镇 → 新杭, 河南省 → 河南, 内蒙古自治区 → 内蒙古: the form campaigns are branded with."""
    return _DIVISION_SUFFIX_RE.sub("", name)


def _glossary(doc: Document, programs: dict[str, Program]) -> None:
    """名词解释: numbered “term”: definition lines after the body's end or in an appendix."""
    for m in GLOSSARY_RE.finditer(doc.text):
        term = _canonical(m.group(1).strip())
        if term in programs and programs[term].definition is None:
            programs[term].definition = m.group(2).strip()
