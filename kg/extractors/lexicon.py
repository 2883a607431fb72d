"""Shared word lists for name boundaries: where an organisation or project name starts.

Reports run names into the verbs before them (成功与山西中兴…, 促成鑫腾环保落户…); cutting at
the last boundary word or punctuation is a cheap, general left boundary.
"""

from __future__ import annotations

import re
from functools import lru_cache

import rjieba

from kg.extractors.scan import trie


def _alternation(words: str) -> str:
    """Longest first, no empty alternative (an empty one would match everywhere)."""
    return "|".join(sorted({w for w in words.split("|") if w}, key=len, reverse=True))

BOUNDARY_WORDS = (
    "与|和|及|同|对|为|帮助|协助|完成|支持|促成|培育|引进|引导|推动|服务|签约|签订|落户|成功|指导|组织|依托|通过|由|在|将|把|被|"
    "等|的|了|新增|新建|扩建|续建|投资|入驻|加快|全力|积极|推进|协调|联合|携手|共建|做大|做强|扶持|鼓励|实现|包括|如|其中|打造|"
    "启动|开工|建成|建设|实施|争取|谋划|招引|洽谈|对接|走访|帮扶|助力|服务好|抓好|抓实|完善|提升|配合|保障|确保|力争|全面|"
    "有序|顺利|稳步|加速|加紧|持续|深入|大力|着力|重点|主要|包括|以|从|向|是|有|获|获评|成为|作为|助推|带动|依靠|利用|"
    "开展|举办|召开|参加|赴|前往|邀请|接待|考察|拜访|走进|进驻|实施了|推进了|完成了|建成了|成立|组建|注册|设立|"
    "一是|二是|三是|四是|五是|六是|七是|八是|九是|十是|已|正在|即将|全镇|我镇|本镇|全乡|积极|至|获评|入选|入围|紧盯|"
)
# Verbs and function words that precede a project name; words that also occur inside project
# names (提升, 建设, 改造, 新) are deliberately absent.
PROJECT_BOUNDARY_WORDS = (
    "推进|实施|启动|开工|建成|完成|加快|谋划|签约|引进|落地|落户|争取|招引|新建|续建|全力|积极|着力|做好|抓好|加速|开展|"
    "实现|确保|力争|其中|包括|以及|和|与|及|等|的|是|为|对|在|将|把|成功|全面|有序|顺利|稳步|深入|大力|重点|主要|助推|带动|"
    "一是|二是|三是|四是|五是|六是|七是|八是|九是|十是|已|正在|即将|投资|总投资|计划投资|申报|储备|对接|洽谈|包装|策划|"
    "做优|做强|做大|聚焦|围绕|依托|通过|利用|了|获批|获得|入选|列入|纳入|成为|作为|加紧|加大|组织|配合|协助|服务|保障"
)
# The word lists as prefix trees (kg.extractors.scan.trie): the same matches as `_alternation`, faster.
_PROJECT_BOUNDARY_RE = re.compile(
    rf"(?:[^\u4e00-\u9fffA-Za-z0-9()（）+\-·]|{trie(_alternation(PROJECT_BOUNDARY_WORDS).split('|'))})")



_BOUNDARY_RE = re.compile(rf"(?:[^\u4e00-\u9fffA-Za-z0-9()（）+\-]|\d+[家个]|{trie(_alternation(BOUNDARY_WORDS).split('|'))})")


@lru_cache(maxsize=1 << 16)
def cut_left(phrase: str, project: bool = False, min_len: int = 2) -> str:
    """Drop everything up to the last boundary word or punctuation in `phrase`.

    If that leaves fewer than `min_len` characters the boundary was part of the name (和泰船舶,
    新煌公司), so the previous boundary is used instead.
    """
    ends = [0]
    for m in (_PROJECT_BOUNDARY_RE if project else _BOUNDARY_RE).finditer(phrase):
        ends.append(m.end())
    for end in reversed(ends):
        if len(phrase) - end >= min_len:
            return phrase[end:]
    return phrase[ends[-1]:]


@lru_cache(maxsize=1)
def _jieba_dictionary() -> tuple[dict[str, str], dict[str, int]]:
    """jieba's dictionary (dict.txt: word, frequency, tag per line) as two plain dicts sharing their keys.

    Read from the file rather than through `jieba.dt`: jieba's own tables add every word's prefixes
    (498k keys for 349k words) and the HMM's, 120 MB per process, for the two lookups used here; these
    take about half, in each of the build's processes. A word listed twice keeps its last line, as in jieba.
    """
    from importlib.resources import files

    tags: dict[str, str] = {}
    freqs: dict[str, int] = {}
    tag_of: dict[str, str] = {}  # one string object per tag
    number: dict[str, int] = {}  # one int object per frequency
    with (files("jieba") / "dict.txt").open("r", encoding="utf-8") as fh:
        for line in fh:
            word, freq, tag = line.split()
            tags[word] = tag_of.setdefault(tag, tag)
            freqs[word] = number.setdefault(freq, int(freq))
    return tags, freqs


def word_tags() -> dict[str, str]:
    """jieba's part-of-speech tag per dictionary word (v verb, n noun, ns place, nr person…)."""
    return _jieba_dictionary()[0]


def is_brand(w: str) -> bool:
    """A plausible enterprise brand: not a dictionary verb, adverb or function word."""
    tag = word_tags().get(w)
    if tag is None:
        return not any(word_tags().get(w[i:i + 2], "n")[0] in "vdpcurqa" for i in range(len(w) - 1))
    return tag in ("nz", "nr", "ns", "nt", "nrt", "nrfg")


def common_words() -> dict[str, int]:
    """jieba's dictionary frequencies: a brand (宁兴) is rare, a common word (生态, 传统) is not."""
    return _jieba_dictionary()[1]


def is_common_word(w: str, threshold: int = 200) -> bool:
    return common_words().get(w, 0) >= threshold


# Governance verbs and manner words that jieba tags inconsistently (深化 is "j", 建设 "vn").
LEAD_VERBS_RE = re.compile(r"^(?:深化|推进|实施|加快|建好|建设|打造|推动|支持|做好|抓好|完善|健全|强化|提升|优化|深入|全面|"
                           r"高品质|高标准|高水平|高质量|扎实|持续|积极|大力|着力|加强|推广|启动|开展|加速|统筹|谋划|"
                           r"用好|办好|管好|建成|新建|争创|创建|落实|打赢|打好|编制好|编制|完成|新一轮)+(?=[\u4e00-\u9fff]{3})")


@lru_cache(maxsize=1 << 16)
def strip_function_words(name: str, numerals: bool = False) -> str:
    """Drop leading verbs, adverbs, numerals and function words by jieba's dictionary tags.

    Reports glue verbs to names (推动南通科创项目, 优选科创项目); cutting them by part of speech
    generalizes where a list of boundary words cannot. `numerals=True` keeps a leading numeral,
    which is part of program names (百万英才汇南粤, 三服务).
    """
    name = LEAD_VERBS_RE.sub("", name) or name
    tokens = rjieba.cut(name, hmm=False)
    tags = word_tags()
    k = 0
    while k < len(tokens) - 1:
        tok, tag = tokens[k], tags.get(tokens[k])
        if len(tok) == 1:
            if tok not in "在将把对向从以并已为与和及的了是有好":
                break  # a lone character is usually part of an out-of-vocabulary name (月日塘村)
        elif (tag is None or tag in ("nz", "nr", "ns", "nt", "nrt", "nrfg") or tag[0] not in "vdpcurqm"
              or (numerals and tag[0] == "m")
              or common_words().get(tok, 0) < 300):
            break  # rare "verbs" (炒货) are name parts
        k += 1
    return "".join(tokens[k:])


_SPECIFIC_MARK_RE = re.compile(r"[0-9A-Za-z]|[一二三四五六七八九十]期")
_PROPER_TAGS = ("ns", "nr", "nz", "nt", "nrt", "nrfg", "g")


@lru_cache(maxsize=1 << 16)
def is_specific(name: str, rare_threshold: int = 60) -> bool:
    """Does a name contain a proper part (place, brand, road name) rather than only common words?

    Named works carry one (茶前山金家岙厕所, 宏德广场); generic categories do not (调度项目,
    农村污水处理设施工程). Out-of-vocabulary names fall apart into single characters when
    segmented without HMM, and place/person/brand words carry proper-noun tags.
    """
    if _SPECIFIC_MARK_RE.search(name):
        return True
    tags, freq = word_tags(), common_words()
    for tok in rjieba.cut(name, hmm=False):
        tag = tags.get(tok)
        if tag in _PROPER_TAGS:
            return True
        if len(tok) == 1 and (tag is None or tag[0] not in "vpcudmqrf") and tok not in "的之和与及等新老大小":
            return True
        if len(tok) >= 2 and freq.get(tok, 0) < rare_threshold:
            return True  # a rare word (双合, 蝶变) is a name part, not vocabulary
    return False
