"""Property-based tests (hypothesis) of the normalizer, the offset map and every extractor on hostile text.

Inputs mix scripts (CJK, Latin, Arabic, Hebrew, Cyrillic, emoji, combining marks), control and
bidi characters, lone surrogates (bytes read with `errors="surrogateescape"`), 10,000-character lines,
deeply nested brackets and quote marks, around real report phrases so the extractors' rules fire. For
every input: no exception, every offset inside the raw text, every quote equal to `raw[start:end]`.
Example counts are modest (CI time); tests/test_text.py and tests/test_formats.py hold the cheaper
map-consistency properties on plainer text.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.document import Document, build_document
from kg.errors import TownKGError
from kg.extractors import PIPELINE, REGISTRY, _load_builtin, run_pipeline
from kg.model import Extraction, Provenance
from kg.normalize import MappedText, normalize
from kg.read import RawDocument, decode

PHRASES = [
    "各位代表:", "现在,我代表青溪镇人民政府向大会报告工作,请予审议。", "一、2022年工作回顾", "二、2023年工作安排",
    "浙江省舟山市岱山县岱西镇", "在县委、县政府的坚强领导下,", "全年实现财政总收入1.89亿元,同比增长12%;",
    "规上工业产值26.1亿元", "深入实施乡村振兴战略", "全面落实河长制", "扎实推进“千万工程”", "海丰船舶有限公司",
    "青溪大桥改建工程顺利完工", "总投资1.2亿元的新建生产线项目开工建设", "家庭农场", "专业合作社", "预期目标是:增长8%左右",
    "——2023年2月10日在青溪镇第十八届人民代表大会第三次会议上", "二〇二三年二月十日在", "鎮(zhèn)", "總?cè)蝿铡",
    "<p>", "</div>", "&nbsp;", "<script>var a='x';</script>",
]
BRACKETS = [("(", ")"), ("（", "）"), ("“", "”"), ("‘", "’"), ("《", "》"), ("【", "】"), ("「", "」"), ("[", "]"),
            ("{", "}"), ('"', '"'), ("'", "'"), ("<", ">")]
ODD = ["\x00", "\x07", "\x1b[31m", "\x7f", "\u200b", "\u200e", "\u202e", "\u2028", "\ufeff", "\ufffd", "\u0301",
       "\ud800", "\udc80", "\udfff", "\r", "\r\n", "\t", "\u3000", "\xa0"]
_chars = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(codec="utf-8"),
    st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),  # Arabic
    st.characters(min_codepoint=0x0590, max_codepoint=0x05FF),  # Hebrew
    st.characters(min_codepoint=0x0400, max_codepoint=0x04FF),  # Cyrillic
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.sampled_from([c for c in ODD if len(c) == 1]),
    st.sampled_from(list("()（）“”‘’《》、,。;:!?%.0123456789\n ")),
)
_word = st.text(_chars, max_size=12)
_piece = st.one_of(st.sampled_from(PHRASES), st.sampled_from(ODD), _word)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """A phrase inside up to 2,000 levels of one bracket or quote kind (sometimes left unbalanced)."""
    o, c = draw(st.sampled_from(BRACKETS))
    depth = draw(st.one_of(st.sampled_from([2000, 500, 50]), st.integers(1, 2000)))
    closing = draw(st.sampled_from([depth, 0, depth // 2]))
    return o * depth + draw(_piece) + c * closing


@st.composite
def long_line(draw: st.DrawFn) -> str:
    """One line of up to 10,000 characters: a phrase repeated, with no line break."""
    unit = draw(st.sampled_from(PHRASES[1:18])).replace("\n", "")
    return (unit * (10_000 // len(unit) + 1))[: draw(st.sampled_from([10_000, 2_000]))]


@st.composite
def from_bytes(draw: st.DrawFn) -> str:
    """Report text mixed with raw bytes, decoded with an error handler (lone surrogates included)."""
    raw = b"".join(draw(st.lists(st.one_of(st.sampled_from(PHRASES).map(str.encode), st.binary(max_size=12)),
                                 max_size=12)))
    return raw.decode("utf-8", errors=draw(st.sampled_from(["surrogateescape", "replace", "ignore",
                                                            "backslashreplace"])))


TEXT = st.one_of(
    st.lists(_piece, max_size=40).map("".join),
    st.lists(st.one_of(_piece, nested(), long_line(), from_bytes()), min_size=1, max_size=5).map("\n".join),
    from_bytes(),
)
# The big cases on their own, so every run meets 10,000-character lines and 2,000-deep nesting.
BIG = st.lists(st.one_of(nested(), long_line()), min_size=1, max_size=3).map("\n".join)
HOSTILE = st.one_of(TEXT, BIG)
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _check_map(m: MappedText, raw: str) -> None:
    assert m.raw == raw
    assert len(m.starts) == len(m.ends) == len(m.text)
    for s, e in zip(m.starts, m.ends, strict=True):
        assert 0 <= s <= e <= len(raw)
    assert all(a <= b for a, b in zip(m.starts, m.starts[1:], strict=False))


def _document(text: str, fmt: str) -> Document:
    sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return build_document(RawDocument(f"/hostile/r.{fmt}", f"r.{fmt}", sha, text, fmt, "utf-8"))


def _provenances(obj: Any) -> Iterator[Provenance]:
    if isinstance(obj, Provenance):
        yield obj
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _provenances(getattr(obj, f.name))
    elif isinstance(obj, list):
        for x in obj:
            yield from _provenances(x)


def _check_extraction(ex: Extraction, doc: Document) -> None:
    raw = doc.raw.text
    for p in _provenances(ex):
        assert 0 <= p.start <= p.end <= len(raw), p
        assert p.quote == raw[p.start:p.end], p
        assert p.file == doc.raw.name and "@" in p.extractor


@SETTINGS
@given(HOSTILE, st.data())
def test_normalizer_map_and_quotes_on_hostile_text(raw: str, data: st.DataObject) -> None:
    m = normalize(raw)
    _check_map(m, raw)
    assert not any("\ud800" <= ch <= "\udfff" for ch in m.text)  # OpenCC and the stores never see surrogates
    if m.text:
        i = data.draw(st.integers(0, len(m.text) - 1))
        j = data.draw(st.integers(i + 1, len(m.text)))
        s, e = m.raw_span(i, j)
        assert m.quote(i, j) == raw[s:e] != ""


@SETTINGS
@given(HOSTILE, st.sampled_from(["txt", "html"]))
def test_document_structure_stays_inside_the_text(raw: str, fmt: str) -> None:
    doc = _document(raw, fmt)
    _check_map(doc.mapped, raw)
    assert 0 <= doc.body_start <= doc.body_end <= len(doc.text)
    for s in doc.sentences:
        assert doc.body_start <= s.start < s.end <= doc.body_end and doc.text[s.start:s.end] == s.text


@pytest.mark.parametrize("name", PIPELINE)
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=HOSTILE)
def test_each_extractor_alone_on_hostile_text(name: str, raw: str) -> None:
    """Every registered component on its own (no town found first, no other component's output)."""
    _load_builtin()
    comp = REGISTRY[name]
    doc = _document(raw, "txt")
    ex = Extraction(meta=doc.meta)
    comp.func(doc, ex, comp.stamp)
    _check_extraction(ex, doc)


def test_every_registered_extractor_is_covered() -> None:
    _load_builtin()
    assert set(REGISTRY) == set(PIPELINE)


@SETTINGS
@given(HOSTILE, st.sampled_from(["txt", "html"]))
def test_whole_pipeline_on_hostile_text(raw: str, fmt: str) -> None:
    doc = _document(raw, fmt)
    _check_extraction(run_pipeline(doc), doc)


@SETTINGS
@given(st.lists(st.one_of(st.binary(max_size=64), st.sampled_from(PHRASES).map(lambda p: p.encode("gbk"))),
                max_size=20).map(b"".join))
def test_decoding_arbitrary_bytes_reads_or_says_why(data: bytes) -> None:
    """The reader either decodes (no surrogates, no BOM) or raises a one-line TownKGError."""
    try:
        d = decode(data, "bytes.txt")
    except TownKGError as e:
        assert "\n" not in str(e) and str(e).startswith("bytes.txt: ")
        return
    assert not any("\ud800" <= ch <= "\udfff" for ch in d.text) and not d.text.startswith("\ufeff")
    assert all("\n" not in w for w in d.warnings)
