"""A normalized report with its structure: body, paragraphs, sentences, sections, metadata.

Extractors only look at the body (the report, not the page around it), sentence by sentence,
and ask the section whether a figure is a review (actual) or a plan (target) and which year the
section is about. Metadata comes from the whole page, because chrome carries 发布日期/发布机构.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kg.model import Provenance, ReportMeta
from kg.normalize import MappedText, has_mojibake, normalize
from kg.read import RawDocument

CN_NUM = "一二三四五六七八九十"
_CHROME_RE = re.compile(
    r"扫一扫|手机上查看|当前页面|购物车|我的足迹|加入[Vv][Ii][Pp]|免费下载|立即下载|所在的位置|网站首页|"
    r"浏览次数|字体:|无障碍|长辈版|打印本页|关闭窗口|分享到|即将离开|是否继续|版权所有|主办单位|网站地图|"
    r"ICP备|公网安备|上一篇|下一篇|责任编辑|索引号|主题分类|组配分类|发布机构|成文日期|发布日期|生成日期|文号:"
)
_SPAM_RE = re.compile(r"国产|无码|欧美|一区二区|在线观看|久久|亚洲|日韩|精品视频|成人|午夜|人妻|偷拍|激情|av|AV|高清")
_SENT_END_RE = re.compile(r"[^。!?\n]*(?:[。!?]+[”’\"]?|\n|$)")
_HEAD_WORDS = (r"(回顾|成绩|工作安排|工作计划|工作打算|工作思路|总体要求|主要目标|预期目标|目标任务|重点工作|主要工作|"
               r"重点任务|主要任务)")
# A heading is a whole short line, or an enumerated "一、…" right after a sentence end (flattened PDFs).
_HEADING_RE = re.compile(
    rf"(?:^[ \t]*(?:[{CN_NUM}]+、|第[{CN_NUM}]+部分)?|(?<=[。:])[{CN_NUM}]+、)[^\n。\d]{{0,6}}"
    r"(?:(\d{4})年(?:度)?|上半年|下半年|今年|过去[一五]年|“十[四五六]五”)?[^\n。]{0,14}?" + _HEAD_WORDS
    + r"(?=[^\n。]{0,24}(?:\n|$)|\d{4}年)",
    re.M,
)
_PLAN_WORDS = ("安排", "计划", "打算", "思路", "要求", "目标", "任务", "重点工作")
_REVIEW_WORDS = ("回顾", "成绩")
_DATE_SESSION_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*在")
_DATE_GLUED_RE = re.compile(r"(20\d\d)(\d{2,4})日\s*在")  # 2023831日在 (年/月 lost in scraping)
_DATE_FIELD_RE = re.compile(r"(?:发布日期|成文日期|发布时间|生成日期)[::\s]*(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})")
_DATE_TITLE_RE = re.compile(r"[((](\d{4})[.\-]?(\d{1,2})[.\-]?(\d{1,2})[))]")
_SESSION_RE = re.compile(rf"第?([{CN_NUM}]+)届\s*人民代表大会\s*第([{CN_NUM}]+)次(?:全体)?会议")
_TITLE_RE = re.compile(r"[^\n:,。]{0,40}政府工作报告(?:[((][^))\n]{0,20}[))])?")


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int  # normalized offsets
    end: int
    text: str
    paragraph: int


@dataclass(frozen=True, slots=True)
class Section:
    start: int
    kind: str  # review | plan
    year: int | None
    half: bool  # 上半年/下半年 report


@dataclass(slots=True)
class Document:
    raw: RawDocument
    mapped: MappedText
    body_start: int
    body_end: int
    meta: ReportMeta
    sentences: list[Sentence] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _sentence_starts: list[int] = field(default_factory=list, repr=False)
    _section_starts: tuple[list[Section], int, list[int]] | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return self.mapped.text

    def provenance(self, i: int, j: int, extractor: str, sentence: Sentence | None = None) -> Provenance:
        s, e = self.mapped.raw_span(i, j)
        sent = sentence or self.sentence_at(i)
        return Provenance(self.raw.name, self.raw.sha256, s, e, self.raw.text[s:e],
                          sent.text.strip() if sent else self.text[i:j], extractor)

    def sentence_at(self, i: int) -> Sentence | None:
        if len(self._sentence_starts) != len(self.sentences):
            self._sentence_starts = [s.start for s in self.sentences]
        k = bisect.bisect_right(self._sentence_starts, i) - 1
        return self.sentences[k] if k >= 0 else None

    def section_at(self, i: int) -> Section | None:
        cached = self._section_starts  # extractors ask once per candidate: the starts are listed once
        if cached is None or cached[0] is not self.sections or cached[1] != len(self.sections):
            cached = self._section_starts = (self.sections, len(self.sections), [s.start for s in self.sections])
        k = bisect.bisect_right(cached[2], i) - 1
        return self.sections[k] if k >= 0 else None

    def body_sentences(self) -> list[Sentence]:
        return self.sentences


_BODY_START_RE = re.compile(r"各位代表|[一二]、[^\n。]{0,12}回顾|^[^\n]{0,12}工作回顾", re.M)
_SPEAKER_RE = re.compile(r"会议上\s*\n+\s*([\u4e00-\u9fff]{2,10})\s*\n")
_SPEAKER_TITLE_RE = re.compile(r"^[\u4e00-\u9fff]{0,6}?(?:省长|市长|县长|区长|镇长|乡长|主席|主任|书记)")
_SPEAKER_LINE_RE = re.compile(r"(?:^|\n)[^\n]{0,12}(?:省长|市长|县长|区长|镇长|乡长|主席|主任)\s*([\u4e00-\u9fff]{2,4})\s*(?:\n|$)")
_YEAR_TITLE_RE = re.compile(r"(\d{4})年(?:度)?[^\n]{0,12}政府工作报告")
_YEAR_PLAN_RE = re.compile(r"(\d{4})年(?:工作)?(?:计划|安排|打算|主要工作|重点工作)")
_YEAR_REVIEW_RE = re.compile(r"(\d{4})年(?:工作)?回顾")
_HEAD_WORD_RE = re.compile(_HEAD_WORDS)


def _body_range(text: str) -> tuple[int, int]:
    """Start at the salutation or first section heading; end before trailing chrome and spam."""
    starts = [m.start() for m in _BODY_START_RE.finditer(text)]
    start = min(starts) if starts else 0
    lines = text[start:].split("\n")
    end = len(text)
    for line in reversed(lines):
        stripped = line.strip()
        if stripped and not _is_chrome(stripped):
            break
        end -= len(line) + 1
    return start, max(start, min(end + 1, len(text)))


def _is_chrome(line: str) -> bool:
    if len(_SPAM_RE.findall(line)) >= 2:
        return True
    return bool(_CHROME_RE.search(line)) and len(line) < 80


def _hits(rx: re.Pattern[str], text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of `rx`'s matches in text[start:end], then a sentinel past every sentence.

    Why: `_CHROME_RE` and `_SPAM_RE` are context-free (no anchors or lookarounds), so a match inside a
    sentence overlaps some match of one scan over the whole body (that scan either matches at the same
    spot or is already inside an earlier match covering it). A sentence that no body match overlaps
    cannot be chrome, and most sentences are such: one scan replaces two searches per sentence.
    """
    return [m.span() for m in rx.finditer(text, start, end)] + [(end + 1, end + 1)]


def _split_sentences(text: str, start: int, end: int) -> list[Sentence]:
    out: list[Sentence] = []
    para = 0
    chrome, spam = _hits(_CHROME_RE, text, start, end), _hits(_SPAM_RE, text, start, end)
    ci = si = 0
    for m in _SENT_END_RE.finditer(text, start, end):
        a, b = m.span()
        if a == b:
            continue
        chunk = text[a:b]
        stripped = chunk.strip()
        if stripped:
            while chrome[ci][1] <= a:  # ends before this sentence: overlaps neither it nor any later one
                ci += 1
            while spam[si][1] <= a:
                si += 1
            if (chrome[ci][0] >= b and spam[si][0] >= b) or not _is_chrome(stripped):
                out.append(Sentence(a, b, chunk, para))
        if chunk.endswith("\n"):
            para += 1
    return out


def _heading_matches(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """`_HEADING_RE.finditer(text, start, end)`, tried only on the lines that hold a head word.

    Exact: a heading match never crosses a line break (no part of the pattern consumes one; its
    lookahead stops at the first), and it ends in a head word, so lines without one cannot hold a
    match. Each line is scanned with the line break after it, all the lookahead can see.
    """
    line_end = -1
    for h in _HEAD_WORD_RE.finditer(text, start, end):
        if h.start() < line_end:
            continue  # this line was scanned already
        line_start = max(start, text.rfind("\n", 0, h.start()) + 1)
        nl = text.find("\n", h.end(), end)
        line_end = end if nl < 0 else nl + 1
        yield from _HEADING_RE.finditer(text, line_start, line_end)


def _sections(text: str, start: int, end: int, report_year: int | None) -> list[Section]:
    out: list[Section] = []
    for m in _heading_matches(text, start, end):
        word = m.group(2)
        head = m.group(0)
        kind = "review" if word in _REVIEW_WORDS else "plan" if any(w in word for w in _PLAN_WORDS) else None
        if word == "主要工作":  # "2020年主要工作" is a plan only when about the report year or later
            kind = "plan" if m.group(1) and report_year and int(m.group(1)) >= report_year else "review"
        if kind is None or (out and out[-1].kind == kind and "年" not in head):
            continue
        year = int(m.group(1)) if m.group(1) else None
        half = "半年" in head
        if year is None and report_year:
            if kind == "review":
                year = report_year if (half or "今年" in head) else report_year - 1
            else:
                year = report_year
        out.append(Section(m.start(), kind, year, half))
    return out


_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DATE_CN_RE = re.compile(r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日\s*在")


def _cn_number(s: str) -> int:
    """一 → 1, 十二 → 12, 二十七 → 27, 二〇二六 → 2026 (digit by digit when there is no 十)."""
    if "十" not in s:
        return int("".join(str(_CN_DIGITS[c]) for c in s))
    tens, _, ones = s.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def _meta(raw: RawDocument, text: str, body_start: int) -> ReportMeta:
    meta = ReportMeta(file=raw.name, path=raw.path, sha256=raw.sha256, chars=len(raw.text))
    date = None
    for rx in (_DATE_SESSION_RE, _DATE_GLUED_RE, _DATE_TITLE_RE, _DATE_FIELD_RE):
        for m in rx.finditer(text):
            if rx is _DATE_GLUED_RE:  # "831" is 8-31 (or 83-1, invalid): try month/day splits in order
                digits = m.group(2)
                splits = [(digits[:k], digits[k:]) for k in (1, 2) if 0 < k < len(digits)]
            else:
                splits = [(m.group(2), m.group(3))]
            for mo_s, d_s in splits:
                y, mo, d = int(m.group(1)), int(mo_s), int(d_s)
                if 1949 < y < 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
                    date = f"{y:04d}-{mo:02d}-{d:02d}"
                    break
            if date:
                break
        if date:
            break
    cn = _DATE_CN_RE.search(text)
    if date is None and cn:
        y, mo, d = (_cn_number(g) for g in cn.groups())
        if 1 <= mo <= 12 and 1 <= d <= 31:
            date = f"{y:04d}-{mo:02d}-{d:02d}"
    meta.date = date
    titles = [t.group(0).strip().removeprefix("名称:") for t in _title_scan().finditer(text)]
    titles = [t for t in titles if not _CHROME_RE.search(t)] or titles
    if titles:
        meta.title = max(titles[:3], key=len).strip()
    session = _SESSION_RE.search(text)
    if session:
        meta.session = f"第{session.group(1)}届人民代表大会第{session.group(2)}次会议"
    sp = _SPEAKER_RE.search(text[: body_start + 200])
    if sp:
        meta.speaker = _SPEAKER_TITLE_RE.sub("", sp.group(1)) or None
    if meta.speaker is None:  # "广东省省长 孟凡利"
        sp = _SPEAKER_LINE_RE.search(text[: body_start + 200])
        if sp:
            meta.speaker = sp.group(1)
    if date:
        meta.report_year = int(date[:4])
    else:
        ty = _YEAR_TITLE_RE.search(text)
        py = _YEAR_PLAN_RE.search(text)
        ry = _YEAR_REVIEW_RE.search(text)
        if ty:
            meta.report_year = int(ty.group(1))
        elif py:
            meta.report_year = int(py.group(1))
        elif ry:
            meta.report_year = int(ry.group(1)) + 1
    return meta


_TITLE_SCAN: list[Any] = []


def _title_scan() -> Any:  # noqa: ANN401 - a kg.extractors.scan.Near, imported late (kg.extractors imports this module)
    """`_TITLE_RE` scanned from 政府工作报告 back: its 40-character lead made a plain scan try every position."""
    if not _TITLE_SCAN:
        from kg.extractors.scan import near

        _TITLE_SCAN.append(near(_TITLE_RE, "政府工作报告"))
    return _TITLE_SCAN[0]


def build_document(raw: RawDocument) -> Document:
    """Normalize and structure one report (pure function of the raw text)."""
    from kg.html import html_to_text

    mapped = normalize(raw.text) if raw.format != "html" else normalize_html(raw.text, html_to_text)
    text = mapped.text
    start, end = _body_range(text)
    meta = _meta(raw, text, start)
    doc = Document(raw, mapped, start, end, meta)
    doc.sentences = _split_sentences(text, start, end)
    doc.sections = _sections(text, start, end, meta.report_year)
    doc.warnings.extend(raw.warnings)
    if has_mojibake(raw.text):
        doc.warnings.append("source contains mojibake (characters destroyed by a broken pinyin injector)")
    return doc


def normalize_html(raw: str, strip) -> MappedText:  # noqa: ANN001 - strip maps MappedText→MappedText
    return normalize_mapped(strip(MappedText.identity(raw)))


def normalize_mapped(m: MappedText) -> MappedText:
    """Run the text normalizer on an already mapped text (HTML stripped), composing the maps."""
    inner = normalize(m.text)
    starts = [m.starts[i] for i in inner.starts]
    ends = [m.ends[j - 1] for j in inner.ends]
    return MappedText(m.raw, inner.text, starts, ends)
