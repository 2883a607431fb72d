"""Faster code paths of reading and extraction (issue 8) give exactly what the plain code gave.

Each optimisation is compared with the straightforward form it replaced (written out here as the
reference) on the real reports (seeds, held-out dev set, provincial corpus) and on random text made of
the characters the patterns care about.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import document as D
from kg import normalize as N
from kg.extractors import indicators, lexicon, programs, projects
from kg.extractors.companies import PLACE_BRAND_RE
from kg.extractors.scan import trie
from kg.gazetteer import place_prefixes
from kg.normalize import MappedText
from kg.read import read_document
from kg.vocab import known_programs

ROOT = Path(__file__).resolve().parents[1]
PROVINCIAL = ROOT.parent / "shared" / "corpus" / "provincial-2026"
FILES = sorted((ROOT / "seeds").glob("*.txt")) + sorted((ROOT / "tests" / "dev").glob("*.txt"))
FILES += sorted(PROVINCIAL.glob("*.txt"))[:4] if PROVINCIAL.is_dir() else []
RAW = [read_document(f).text for f in FILES]
DOCS = [D.build_document(read_document(f)) for f in FILES]


# ---------------------------------------------------------------- the normalizer as it was written before


def _ref_sub(m: MappedText, pattern: re.Pattern[str], repl) -> MappedText:  # noqa: ANN001
    text, starts, ends = m.text, m.starts, m.ends
    out: list[str] = []
    new_s: list[int] = []
    new_e: list[int] = []
    pos = 0
    for x in pattern.finditer(text):
        a, b = x.span()
        out.append(text[pos:a])
        new_s.extend(starts[pos:a])
        new_e.extend(ends[pos:a])
        r = repl if isinstance(repl, str) else repl(x)
        if r:
            out.append(r)
            if len(r) == b - a:
                new_s.extend(starts[a:b])
                new_e.extend(ends[a:b])
            else:
                lo = starts[a] if a < len(starts) else (ends[-1] if ends else 0)
                hi = ends[b - 1] if b > a else lo
                new_s.extend([lo] * len(r))
                new_e.extend([hi] * len(r))
        pos = b
    if pos == 0 and not out:
        return m
    out.append(text[pos:])
    new_s.extend(starts[pos:])
    new_e.extend(ends[pos:])
    return MappedText(m.raw, "".join(out), new_s, new_e)


def _ref_normalize(raw: str) -> MappedText:
    m = MappedText.identity(raw)
    m = _ref_sub(m, re.compile(r"\r\n?"), "\n")
    m = _ref_sub(m, re.compile(r"[\ud800-\udfff]"), "\ufffd")
    m = _ref_sub(m, N._COMBINING_RE, lambda x: unicodedata.normalize("NFC", x.group(0)))
    m = _ref_sub(m, N.PINYIN_RE, "")
    m = _ref_sub(m, N._NEEDS_NFKC_RE, lambda x: unicodedata.normalize("NFKC", x.group(0)))
    m = _ref_sub(m, re.compile(r"[\u200b-\u200f\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"), "")
    if re.search(r"[\u4e00-\u9fff]", m.text):
        m = m.convert(N._t2s())
        m = _ref_sub(m, re.compile("著力|无著落"), lambda x: x.group(0).replace("著", "着"))
    if N.looks_wrapped(m.text):
        m = _ref_sub(m, N._SOFT_WRAP_RE, N._soft_wrap_joiner(m.text))
    m = _ref_sub(m, N._INNER_SPACE_RE, "")
    return _ref_sub(m, re.compile(r"\?{2,}|\?(?=[(（一二三四五六七八九十])"), "")


def _same_map(a: MappedText, b: MappedText) -> None:
    assert (a.text, a.starts, a.ends) == (b.text, b.starts, b.ends)


@pytest.mark.parametrize("k", range(len(RAW)), ids=[f.name for f in FILES])
def test_normalize_same_as_before_on_reports(k: int) -> None:
    _same_map(N.normalize(RAW[k]), _ref_normalize(RAW[k]))


_PIECES = ["鎮(zhèn)", "現(xiàn)在", "(一)", "请各位代 表审议", " 1.89 亿元", "\r\n", "??", "?(", "e\u0301", "Ⅻ", "①",
           "\u3000", "\ufeff", "ＡＢＣ１２３", "，", "著力", "\n", "\t", "全镇实现财政总收入一点八九亿元同比增长",
           "。", "、", "a", "5", "（", "）", "ǎ"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=80).map("".join))
def test_normalize_same_as_before_on_random_text(raw: str) -> None:
    _same_map(N.normalize(raw), _ref_normalize(raw))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["中", "文", " ", "\t", "\u3000", "(", "（", "ā", "a", ")", "\n", "1"]), max_size=60)
       .map("".join))
def test_first_char_scans_find_what_finditer_finds(text: str) -> None:
    for scan in (N._PINYIN_SCAN, N._SOFT_WRAP_SCAN, N._INNER_SPACE_SCAN):
        assert [m.span() for m in scan.finditer(text)] == [m.span() for m in scan.pattern.finditer(text)]


# ---------------------------------------------------------------- document structure


def _ref_split(text: str, start: int, end: int) -> list[D.Sentence]:
    out, para = [], 0
    for m in D._SENT_END_RE.finditer(text, start, end):
        a, b = m.span()
        if a == b:
            continue
        chunk = text[a:b]
        if chunk.strip() and not D._is_chrome(chunk.strip()):
            out.append(D.Sentence(a, b, chunk, para))
        if chunk.endswith("\n"):
            para += 1
    return out


def _structure_cases() -> list[tuple[str, int, int]]:
    cases = [(d.text, d.body_start, d.body_end) for d in DOCS]
    cases += [(d.text, 0, len(d.text)) for d in DOCS]  # chrome and spam live outside the body
    return cases


@pytest.mark.parametrize("case", _structure_cases())
def test_sentences_headings_titles_same_as_plain_scans(case: tuple[str, int, int]) -> None:
    text, lo, hi = case
    assert D._split_sentences(text, lo, hi) == _ref_split(text, lo, hi)
    assert [m.span() for m in D._heading_matches(text, lo, hi)] == [m.span() for m in D._HEADING_RE.finditer(text, lo, hi)]
    assert [m.group(0) for m in D._title_scan().finditer(text)] == D._TITLE_RE.findall(text)


_DOC_WORDS = ["扫一扫", "版权所有", "成人", "亚洲", "av", "工作回顾", "一、", "二、", "回顾", "2023年", "主要工作", "工作安排",
              "今年", "。", "\n", " ", "政府工作报告", "(2024年1月5日)", "镇", "各位代表", "发展", ":", "目标任务", "!"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_DOC_WORDS), max_size=80).map("".join), st.integers(0, 30), st.integers(0, 30))
def test_document_scans_on_random_text(text: str, cut_lo: int, cut_hi: int) -> None:
    lo = min(cut_lo, len(text))
    hi = max(lo, len(text) - cut_hi)
    assert D._split_sentences(text, lo, hi) == _ref_split(text, lo, hi)
    assert [m.span() for m in D._heading_matches(text, lo, hi)] == [m.span() for m in D._HEADING_RE.finditer(text, lo, hi)]
    assert [m.group(0) for m in D._title_scan().finditer(text)] == D._TITLE_RE.findall(text)


# ---------------------------------------------------------------- word lists as prefix trees


def _alternation(words: set[str]) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


@settings(max_examples=300, deadline=None)
@given(st.sets(st.text("abc的和及", max_size=4), max_size=12), st.text("abc的和及x", max_size=60))
def test_trie_matches_the_longest_first_alternation(words: set[str], text: str) -> None:
    for fmt in ("{}", "({})c", "x?({})(?=a)", "({})+b"):  # alone, then backtracking into it
        plain, tree = re.compile(fmt.format(_alternation(words))), re.compile(fmt.format(trie(words)))
        assert [(m.span(), m.groups()) for m in tree.finditer(text)] == [(m.span(), m.groups()) for m in plain.finditer(text)]


@pytest.mark.parametrize("k", range(len(RAW)), ids=[f.name for f in FILES])
def test_word_list_patterns_same_on_reports(k: int) -> None:
    text = DOCS[k].text
    for words, prefix in ((lexicon.BOUNDARY_WORDS, r"[^\u4e00-\u9fffA-Za-z0-9()（）+\-]|\d+[家个]|"),
                          (lexicon.PROJECT_BOUNDARY_WORDS, r"[^\u4e00-\u9fffA-Za-z0-9()（）+\-·]|")):
        plain = re.compile(f"(?:{prefix}{lexicon._alternation(words)})")
        fast = lexicon._BOUNDARY_RE if "家" in prefix else lexicon._PROJECT_BOUNDARY_RE
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]
    places = "|".join(sorted(place_prefixes(), key=len, reverse=True))
    plain = re.compile(rf"(?:(?<![\u4e00-\u9fff])|(?<=[元的与和及]))({places})([\u4e00-\u9fff]{{2,3}})"
                       r"(?=“|获评|入选|入围|等|、)")
    assert [(m.span(), m.groups()) for m in PLACE_BRAND_RE().finditer(text)] == [
        (m.span(), m.groups()) for m in plain.finditer(text)]
    kp = re.compile(_alternation(set(known_programs())))
    assert [m.span() for m in programs._known_programs_re().finditer(text)] == [m.span() for m in kp.finditer(text)]


# ---------------------------------------------------------------- small rewrites


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["平安", "法治", "新杭", "新", "杭", "平", "安新杭", "书香", "x", "。"]), max_size=40).map("".join),
       st.sampled_from(["新杭", "新新", "杭杭杭", "平安"]))
def test_branded_campaigns_as_the_regex(body: str, short: str) -> None:
    rx = re.compile(rf"(?:{'|'.join(programs.CAMPAIGN_BRANDS)}){re.escape(short)}")
    assert list(programs._branded(body, short)) == [(m.start(), m.group(0)) for m in rx.finditer(body)]


def _ref_clause_start(s: str, i: int) -> int:
    k = i
    while k > 0 and not indicators._CLAUSE_SPLIT_RE.match(s[k - 1]):
        k -= 1
    return k


@settings(max_examples=300, deadline=None)
@given(st.text(",;:。!?,;:!?ab中", max_size=30), st.integers(0, 40))
def test_clause_start_as_the_loop(s: str, i: int) -> None:
    i = min(i, len(s))
    assert indicators._clause_start(s, i) == _ref_clause_start(s, i)


def _ref_clause(text: str, a: int, b: int) -> str:
    lo = max(text.rfind(c, 0, a) for c in ",,;;。\n") + 1
    his = [k for k in (text.find(c, b) for c in ",,;;。\n") if k >= 0]
    return text[lo: min(his) if his else len(text)]


@settings(max_examples=300, deadline=None)
@given(st.text(",;。\n中a", max_size=40), st.integers(0, 45), st.integers(0, 10))
def test_project_clause_as_the_searches(text: str, a: int, width: int) -> None:
    a = min(a, len(text))
    b = min(a + width, len(text))
    assert projects._clause(text, a, b) == _ref_clause(text, a, b)
    assert projects._clause(text + "。", a, b) == _ref_clause(text + "。", a, b)  # a new text, not the cached one


@pytest.mark.parametrize("k", range(len(RAW)), ids=[f.name for f in FILES])
def test_project_clause_on_reports(k: int) -> None:
    text = DOCS[k].text
    for a in range(0, len(text), 97):
        assert projects._clause(text, a, min(len(text), a + 7)) == _ref_clause(text, a, min(len(text), a + 7))


# ---------------------------------------------------------------- extraction records (kg.records.plain)


@pytest.mark.parametrize("k", range(len(FILES)), ids=[f.name for f in FILES])
def test_records_line_as_dataclasses_asdict(k: int) -> None:
    """The JSONL line is exactly json.dumps of `dataclasses.asdict` (the reference), nested provenance and all."""
    import dataclasses
    import json

    from kg.extract import extract_file
    from kg.records import extraction_json

    ex = extract_file(FILES[k])
    assert ex.indicators or ex.programs or k >= 5  # the seeds have facts: the comparison is not vacuous
    assert extraction_json(ex) == json.dumps(dataclasses.asdict(ex), ensure_ascii=False, separators=(",", ":"))


def test_dictionary_tables_same_as_jiebas() -> None:
    """lexicon reads jieba's dict.txt itself (half the memory): the same tag and frequency per word."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    jieba.dt.check_initialized()
    tags, freqs = lexicon.word_tags(), lexicon.common_words()
    assert tags == jieba.posseg.dt.word_tag_tab
    assert freqs == {w: f for w, f in jieba.dt.FREQ.items() if f}  # jieba's extra keys are prefixes at 0
    assert all(freqs.get(w, 0) == f for w, f in jieba.dt.FREQ.items())
