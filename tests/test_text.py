"""Reading (encodings, bad input) and offset-mapped normalization, against the real library behaviour."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.document import Document, build_document
from kg.errors import Code, TownKGError
from kg.normalize import MappedText, normalize
from kg.read import read_document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def doc(prefix: str) -> Document:
    return build_document(read_document(seed(prefix)))


# ---------------------------------------------------------------- normalize: properties

_SNIPPETS = ["鎮(zhèn)", "現(xiàn)在", "財政總收入", "(一)", "(S310)", "请各位代 表审议", "（社区）", "\r\n",
             "總?cè)蝿铡", "??", "e\u0301", "Ⅻ", "①", "\u3000", "\ufeff", "ＡＢＣ１２３", "，", "著力"]
_CHARS = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFFEE),  # fullwidth forms
    st.characters(min_codepoint=0x3000, max_codepoint=0x303F),
    st.characters(min_codepoint=0x00, max_codepoint=0x7F),  # ASCII incl. control chars
    st.sampled_from(list("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü()（）\n\t \u200b\u0301")),
    st.characters(),
)
_PIECE = st.one_of(st.sampled_from(_SNIPPETS), st.text(_CHARS, max_size=20))
_TEXT = st.lists(_PIECE, max_size=30).map("".join)


def _check_map(m: MappedText, raw: str) -> None:
    assert m.raw == raw
    n = len(m.text)
    assert len(m.starts) == n and len(m.ends) == n
    for s, e in zip(m.starts, m.ends, strict=True):
        assert 0 <= s <= e <= len(raw)
    assert all(a <= b for a, b in zip(m.starts, m.starts[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(_TEXT.filter(lambda t: len(t) <= 300))
def test_normalize_map_is_consistent(raw: str) -> None:
    m = normalize(raw)
    _check_map(m, raw)


@settings(max_examples=200, deadline=None)
@given(_TEXT.filter(lambda t: len(t) <= 300), st.data())
def test_normalize_quote_is_raw_slice(raw: str, data: st.DataObject) -> None:
    m = normalize(raw)
    if not m.text:
        return
    i = data.draw(st.integers(0, len(m.text) - 1))
    j = data.draw(st.integers(i + 1, len(m.text)))
    s, e = m.raw_span(i, j)
    q = m.quote(i, j)
    assert q == raw[s:e]
    assert q != ""


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_normalize_arbitrary_unicode(raw: str) -> None:
    _check_map(normalize(raw), raw)


# ---------------------------------------------------------------- normalize: examples


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("現(xiàn)在", "现在"),
        ("新杭鎮(zhèn)", "新杭镇"),
        ("財政總收入", "财政总收入"),
        ("请各位代 表审议", "请各位代表审议"),
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@pytest.mark.parametrize("keep", ["(一)", "(报告第5)", "(社区)", "(S310)"])
def test_real_parentheses_survive(keep: str) -> None:
    raw = f"推进建设{keep}工作"
    assert keep in normalize(raw).text


def test_raw_span_points_at_traditional_glossed_characters() -> None:
    raw = "全鎮(zhèn)累計完成財政總收入1.89億元"
    m = normalize(raw)
    assert m.text == "全镇累计完成财政总收入1.89亿元"
    i = m.text.index("镇")
    assert m.quote(i, i + 1) == "鎮"  # a trailing gloss belongs to no normalized character
    i = m.text.index("财政总收入")
    assert m.quote(i, i + 5) == "財政總收入"
    i = m.text.index("全镇累计")
    assert m.quote(i, i + 4) == "全鎮(zhèn)累計"  # interior glosses are inside the span
    i = m.text.index("亿元")
    assert m.quote(i - 4, i + 2) == "1.89億元"
    m2 = normalize("現(xiàn)在,请各位代 表审议")
    j = m2.text.index("代表")
    assert m2.quote(j, j + 2) == "代 表"


# ---------------------------------------------------------------- read_document

REPORT = ("各位代表:\n现在,我代表镇人民政府向大会报告工作,请予审议。\n一、2022年工作回顾\n"
          "过去的一年,全镇实现财政总收入1.89亿元,同比增长12%;规上工业产值26.1亿元。\n"
          "二、2023年工作安排\n深入实施乡村振兴战略,持续深化“最多跑一次”改革。\n")
REPORT_TRAD = ("各位代表:\n現在,我代表鎮人民政府向大會報告工作,請予審議。\n一、2022年工作回顧\n"
               "過去的一年,全鎮實現財政總收入1.89億元,同比增長12%;規上工業產值26.1億元。\n"
               "二、2023年工作安排\n深入實施鄉村振興戰略,持續深化改革,推進經濟高質量發展。\n")


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(
    "data",
    [REPORT.encode("utf-8"), b"\xef\xbb\xbf" + REPORT.encode("utf-8"), REPORT.encode("gb18030"),
     REPORT.encode("gbk"), REPORT.encode("utf-16")],
    ids=["utf8", "utf8-bom", "gb18030", "gbk", "utf16-bom"],
)
def test_read_encodings_decode_to_same_text(tmp_path: Path, data: bytes) -> None:
    rd = read_document(_write(tmp_path, "r.txt", data))
    assert rd.text == REPORT
    assert rd.format == "txt"


def test_read_big5(tmp_path: Path) -> None:
    rd = read_document(_write(tmp_path, "r.txt", REPORT_TRAD.encode("big5")))
    assert rd.text == REPORT_TRAD


def _assert_error(exc: pytest.ExceptionInfo[TownKGError], code: Code, path: Path) -> None:
    err = exc.value
    assert err.code == code
    msg = str(err)
    assert str(path) in msg
    assert "\n" not in msg
    assert msg.endswith(f"[{code.value}]")


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", "\u3000\n".encode()],
                         ids=["empty", "ws", "ideographic-ws"])
def test_read_empty_is_e101(tmp_path: Path, data: bytes) -> None:
    p = _write(tmp_path, "empty.txt", data)
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.EMPTY, p)


def test_read_binary_is_e102(tmp_path: Path) -> None:
    p = _write(tmp_path, "blob.txt", b"\x00\x01\x02\x03\xff\xfe\x00" + os.urandom(512))
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.BINARY, p)


def test_read_binary_without_bom_prefix_is_e102(tmp_path: Path) -> None:
    p = _write(tmp_path, "blob.txt", b"\x00\x01\x02\x03" + bytes(range(256)) * 4)
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.BINARY, p)


def test_read_unsupported_suffix_is_e104(tmp_path: Path) -> None:
    p = _write(tmp_path, "report.xlsx", REPORT.encode())
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.UNSUPPORTED, p)


def test_read_missing_is_e109(tmp_path: Path) -> None:
    p = tmp_path / "nope.txt"
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.UNREADABLE, p)


# ---------------------------------------------------------------- build_document on the seeds


def test_seed000_session_date() -> None:
    """The garbled session line '2023831日在…' is 2023-08-31, not the 发布日期 2023-09-01."""
    assert doc("000").meta.date == "2023-08-31"


def test_seed000_meta() -> None:
    m = doc("000").meta
    assert m.session == "第十八届人民代表大会第四次会议"
    assert m.speaker == "刘德怀"
    assert m.report_year == 2023


def test_seed004_meta() -> None:
    m = doc("004").meta
    assert m.date == "2023-02-10"
    assert m.speaker == "杨瑞"
    assert m.session == "第二十届人民代表大会第三次会议"


def test_seed003_report_year() -> None:
    assert doc("003").meta.report_year == 2020


def test_seed000_body_excludes_chrome_and_spam() -> None:
    d = doc("000")
    body = d.text[d.body_start:d.body_end]
    assert "国产" in d.text and "国产" not in body
    assert "您现在所在的位置" in d.text and "您现在所在的位置" not in body
    assert all("国产" not in s.text and "所在的位置" not in s.text for s in d.sentences)


def test_seed002_body_excludes_qr_chrome() -> None:
    d = doc("002")
    body = d.text[d.body_start:d.body_end]
    assert "扫一扫在手机上查看当前页面" in d.text
    assert "扫一扫在手机上查看当前页面" not in body
    assert all("扫一扫" not in s.text for s in d.sentences)


def test_seed002_sections() -> None:
    kinds = {(s.kind, s.year) for s in doc("002").sections}
    assert ("review", 2022) in kinds
    assert ("plan", 2023) in kinds


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seed_sentences_map_back_to_raw(prefix: str) -> None:
    d = doc(prefix)
    assert d.sentences
    for s in d.sentences:
        assert d.body_start <= s.start < s.end <= d.body_end
        assert d.text[s.start:s.end] == s.text
        q = d.mapped.quote(s.start, s.end)
        assert q and q in d.raw.text
    assert re.search(r"[\u4e00-\u9fff]", d.text)


def test_lone_surrogate_is_replaced_not_fatal() -> None:
    """Found by hypothesis: text decoded with errors='surrogateescape' used to crash OpenCC."""
    raw = "鎮(zhèn)\ud800"
    m = normalize(raw)
    assert m.text == "镇\ufffd"
    s, e = m.raw_span(0, 2)
    assert raw[s:e] == raw
