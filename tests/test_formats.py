"""Input formats and bad input: HTML pages, PDF, DOCX, Chinese encodings, and a mixed directory built by the CLI.

Everything except the HTML page (tests/fixtures/gov_report.html, a realistic government page) is
generated here at test time: PDFs with reportlab's built-in CID font STSong-Light (no font file),
DOCX with python-docx, encodings with Python's codecs. Extraction is the real one, end to end.
"""

from __future__ import annotations

import html as htmllib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kg.document import Document, build_document, normalize_html
from kg.errors import Code, TownKGError
from kg.extract import extract_file
from kg.gold import to_gold
from kg.html import html_to_text, main_element, parse
from kg.model import Extraction
from kg.normalize import MappedText, normalize
from kg.read import MIB, RawDocument, decode, hanzi_score, join_pages, read_document
from tests.conftest import TOWN_REPORT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGE = FIXTURES / "gov_report.html"
CATEGORIES = ("indicators", "companies", "projects", "programs", "political_formulas")


def _assert_error(exc: pytest.ExceptionInfo[TownKGError], code: Code, path: Path, *words: str) -> None:
    """One line, names the file, ends with the code, says what is wrong."""
    err = exc.value
    msg = str(err)
    assert err.code == code, msg
    assert str(path) in msg and "\n" not in msg and msg.endswith(f"[{code.value}]"), msg
    for w in words:
        assert w in msg, (w, msg)


def _find(items: list[dict[str, Any]], **want: Any) -> list[dict[str, Any]]:
    return [it for it in items if all(it.get(k) == v for k, v in want.items())]


def _visible(fragment: str) -> str:
    """What a reader sees of a raw HTML fragment: tags removed, entities decoded (NBSP as space)."""
    return htmllib.unescape(re.sub(r"<[^>]*>", "", fragment)).replace("\xa0", " ")


# ================================================================ HTML


def _page(tmp_path: Path, encoding: str) -> tuple[Path, str]:
    """The fixture page saved in `encoding`, its meta charset saying so; returns (path, decoded raw)."""
    text = PAGE.read_text(encoding="utf-8")
    if encoding != "utf-8":
        text = text.replace("charset=utf-8", f"charset={encoding}")
    path = tmp_path / f"report-{encoding}.html"
    path.write_bytes(text.encode(encoding))
    return path, text


@dataclass(frozen=True)
class PageRun:
    raw: str  # the decoded page: what provenance offsets index
    gold: dict[str, Any]
    ex: Extraction
    rd: RawDocument
    doc: Document


@cache
def _run_page(encoding: str) -> PageRun:
    """Read, structure and extract the fixture page once per encoding (the suite reuses it)."""
    with tempfile.TemporaryDirectory() as d:
        path, raw = _page(Path(d), encoding)
        rd = read_document(path)
        ex = extract_file(path)
    return PageRun(raw, to_gold(ex), ex, rd, build_document(rd))


def _block(raw: str, start_marker: str, end_marker: str) -> tuple[int, int]:
    a = raw.index(start_marker)
    return a, raw.index(end_marker, a)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_html_page_extracts_the_report(encoding: str) -> None:
    run = _run_page(encoding)
    raw, g, ex, rd = run.raw, run.gold, run.ex, run.rd
    assert rd.format == "html" and rd.encoding == ("utf-8" if encoding == "utf-8" else "gb18030")
    assert rd.text == raw
    assert g["town"] == "岱西镇"
    assert [s["name"] for s in g["superiors"]] == ["岱山县", "舟山市", "浙江省"]
    assert g["report_year"] == 2023 and ex.meta.date == "2023-01-15"
    assert ex.meta.title == "2023年岱西镇政府工作报告"
    assert ex.meta.session == "第十八届人民代表大会第三次会议"
    ind = g["indicators"]
    assert _find(ind, name="财政总收入", value=1.89, unit="亿元", period="2022", kind="actual")
    assert _find(ind, name="工业总产值", value=27.8, unit="亿元", period="2022")
    assert _find(ind, name="规上工业产值", value=26.1, growth_pct=66.17, period="2022", kind="actual")
    assert _find(ind, name="规上工业产值", value=30, period="2023", kind="target")
    assert _find(ind, name="财政总收入", growth_pct=8.0, period="2023", kind="target")
    programs = {p["name"] for p in g["programs"]}
    assert {"八八战略", "乡村振兴", "千万工程", "河长制", "最多跑一次"} <= programs
    # only in the sidebar, the <style> comment, the <script> and the footer:
    assert not programs & {"林长制", "五水共治"}
    values = {i["value"] for i in ind}
    assert not values & {3.2, 50, 100, 6.5}, "a figure from the sidebar, <style> or <script> was extracted"
    companies = {c["name"] for c in g["companies"]}
    assert "海丰船舶有限公司" in companies and not any("人民政府" in c for c in companies)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_html_spans_slice_the_raw_page_and_stay_in_the_article(encoding: str) -> None:
    run = _run_page(encoding)
    raw, g, ex = run.raw, run.gold, run.ex
    article = _block(raw, '<div class="article"', '<div class="share"')
    chrome = [_block(raw, '<div class="top-bar"', '<div class="container"'),  # top bar, header, menu
              _block(raw, '<div class="breadcrumb"', '<div class="right-column"'),  # breadcrumb, sidebar
              _block(raw, '<div class="share"', "</body>")]  # share, prev/next, footer
    items = [(cat, it) for cat in CATEGORIES for it in g[cat]]
    assert len(items) >= 15
    crossing = []
    for cat, it in items:
        s, e = it["span"]
        assert raw[s:e] == it["quote"], (cat, it)
        assert article[0] < s < e < article[1], f"{cat} {it['name']} comes from outside the report body"
        vis = _visible(it["quote"])
        if "<" in it["quote"] or "&" in it["quote"]:
            crossing.append(it["quote"])
        else:
            assert vis == it["quote"]
        assert re.sub(r"\s", "", normalize(vis).text) in re.sub(r"\s", "", run.doc.text), (cat, it)
    # Spans that cross markup quote it, still as an exact raw slice (documented in kg/html.py).
    assert "其中规上工业产值<strong>26.1亿元</strong>，同比增长66.17%" in crossing
    assert "&ldquo;八八战略&rdquo;" in crossing
    assert any("</td><td>" in q for q in crossing)  # a table row: name cell + value cell
    # The town and superiors are never quoted from navigation, sidebar or footer (the town may be
    # quoted from the <title> or the heading: page metadata, kept on purpose).
    assert ex.town is not None and ex.town.prov is not None
    provs = [ex.town.prov] + [s.prov for s in ex.superiors if s.prov is not None]
    for p in provs:
        assert raw[p.start:p.end] == p.quote
        for a, b in chrome:
            assert not a <= p.start < b, p


def test_html_text_is_the_page_minus_chrome() -> None:
    text = _run_page("utf-8").doc.text
    for chrome in ("政务动态", "专题专栏", "信息公开目录", "当前位置", "欢迎访问", "新杭镇", "林长制", "网站地图",
                   "版权所有", "ICP备", "公网安备", "上一篇", "分享到", "打印本页", "siteName", "font-family",
                   "document.write", "_hmt", "请输入关键字"):
        assert chrome not in text, chrome
    # metadata around the article is kept: kg.document reads the date, title and publisher there
    for meta in ("2023年岱西镇政府工作报告", "发布日期", "发布机构:岱西镇人民政府"):
        assert meta in text, meta
    lines = text.split("\n")
    # a paragraph wrapped over several source lines is one line; table rows are lines of their own
    assert any(ln.startswith("2022年是极不平凡的一年。") and ln.endswith("其中地方财政收入1.58亿元。") for ln in lines)
    assert "固定资产投资3.5亿元12.5%" in lines


def test_html_every_character_maps_to_its_raw_source() -> None:
    raw = PAGE.read_text(encoding="utf-8")
    m = html_to_text(MappedText.identity(raw))
    assert len(m.starts) == len(m.ends) == len(m.text)
    assert all(a <= b for a, b in zip(m.starts, m.starts[1:], strict=False))
    for ch, s, e in zip(m.text, m.starts, m.ends, strict=True):
        src = raw[s:e]
        if ch in "\n\t ":
            continue  # line ends stand for tags, spaces for whitespace runs or &nbsp;
        if src.startswith("&"):
            assert htmllib.unescape(src) == ch, (ch, src)
        else:
            assert src == ch, (ch, src)


def _text(html: str) -> str:
    return html_to_text(MappedText.identity(html)).text


def test_html_whitespace_br_pre_and_entities() -> None:
    page = ("<body><p>财政总收入\n      1.89亿元，\r\n同比增长12%</p><p>一<br>二<br/>三</p>"
            "<pre>甲  乙\n丙</pre><p>A&nbsp;B &amp; C&nbsp D &#x4E00;&#20108;</p></body>")
    assert _text(page).split("\n") == ["财政总收入 1.89亿元, 同比增长12%".replace(",", "，"), "一", "二", "三",
                                       "甲  乙", "丙", "A B & C  D 一二"]


def test_html_implied_end_tags_and_broken_markup() -> None:
    page = ("<html><body><ul><li>甲项<li>乙项</ul><p>第一段<p>第二段<table><tr><td>指标<td>1.2亿元"
            "<tr><td>收入<td>3亿元</table></div></span><p>未闭合 <b>加粗<p>下一段<!-- 注释 <p>x</p>")
    lines = _text(page).split("\n")
    assert lines == ["甲项", "乙项", "第一段", "第二段", "指标\t1.2亿元", "收入\t3亿元", "未闭合 加粗", "下一段"]


def test_html_script_and_style_containing_tags_are_dropped() -> None:
    page = ("<html><head><style>p{color:red}</style><script>var s='<p>新杭镇</p></div>';</script></head>"
            "<body><p>岱西镇</p><script>document.write('</p><p>长涂镇')</script><noscript>请启用脚本</noscript>"
            "</body></html>")
    assert _text(page) == "岱西镇"


def test_html_without_a_container_keeps_text_and_drops_navigation() -> None:
    report = "".join(f"<p>第{i}段,全镇财政总收入增长{i}%,推进乡村振兴。</p>" for i in range(1, 8))
    page = (f"<body><div><a href=/>首页</a> | <a href=/a>政务公开</a> | <a href=/b>互动交流</a></div>{report}"
            "<footer>版权所有 岱西镇人民政府</footer></body>")
    text = _text(page)
    assert text.split("\n") == [f"第{i}段,全镇财政总收入增长{i}%,推进乡村振兴。" for i in range(1, 8)]
    assert "首页" not in text and "版权所有" not in text


def test_html_related_links_inside_the_article_go_but_prose_with_a_chrome_class_stays() -> None:
    report = "".join(f"<p>全镇第{i}项工作,圆满完成,同比增长{i}%。</p>" for i in range(1, 9))
    page = (f'<body><div class="sidebar-content">{report}'
            '<div class="box"><h4>相关文章</h4><a href=1>新杭镇报告</a><a href=2>岱西镇报告</a></div></div>'
            '<div class="side"><a href=x>乡村振兴专题</a><a href=y>河长制专题</a></div></body>')
    root, _ = parse(page)
    main = main_element(root)
    assert main is not None and main.names == "sidebar-content"
    text = _text(page)
    assert "全镇第1项工作" in text and "全镇第8项工作" in text  # prose kept despite the "sidebar" class
    assert "相关文章" not in text and "新杭镇" not in text and "乡村振兴专题" not in text


_HTML_PIECES = st.sampled_from([
    "<p>", "</p>", "<div class='nav'>", "</div>", "<a href=x>", "</a>", "<br>", "<td>", "<tr>", "<table>",
    "</table>", "<script>", "</script>", "<!--", "-->", "&nbsp;", "&ldquo;", "&#x4e00;", "&amp", "<", ">",
    "鎮(zhèn)", "财政总收入1.89亿元,", "。", "\n", "  ", "<pre>", "</pre>", "<style>x{}</style>", "<title>",
    "</title>", "<b>", "<p class='footer'>", "<li>", "请各位代 表审议",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_HTML_PIECES, st.text(max_size=8)), max_size=40).map("".join), st.data())
def test_html_map_is_consistent_on_any_markup(raw: str, data: st.DataObject) -> None:
    """Any string (broken markup included) gives a text whose spans are ordered raw slices."""
    m = normalize_html(raw, html_to_text)
    assert m.raw == raw and len(m.starts) == len(m.ends) == len(m.text)
    for s, e in zip(m.starts, m.ends, strict=True):
        assert 0 <= s <= e <= len(raw)
    assert all(a <= b for a, b in zip(m.starts, m.starts[1:], strict=False))
    if m.text:
        i = data.draw(st.integers(0, len(m.text) - 1))
        j = data.draw(st.integers(i + 1, len(m.text)))
        s, e = m.raw_span(i, j)
        assert m.quote(i, j) == raw[s:e] != ""


# ================================================================ PDF

PDF_PAGES = [
    ["长涂镇2023年政府工作报告",
     "——2023年2月16日在长涂镇第十八届人民代表大会第三次会议上",
     "各位代表:",
     "现在,我代表镇人民政府向大会报告工作,请予审",
     "议,并请列席会议的同志提出意见。",
     "一、2022年工作回顾",
     "过去的一年,在县委、县政府和镇党委的坚强领导下,全",
     "镇上下团结一心、攻坚克难,经济社会保持平稳健康发",
     "展。全年实现财政总收入2.35亿元,同比增长9.6%;规上",
     "工业产值完成31.2亿元,同比增长15.3%。深入实施乡村",
     "振兴战略,全面落实河长制,稳步推进美丽海岛建设,农",
     "村人居环境持续改善,群众获得感和幸福感不断增强。各",
     "项民生实事全部完成,海洋经济加快发展,渔业转型升级"],
    ["取得明显成效,全镇海洋渔业总产值达到12.6亿元。",
     "二、2023年工作安排",
     "2023年经济社会发展的主要预期目标是:财政总收入增",
     "长8%左右,规上工业产值力争达到35亿元。我们将坚定",
     "不移深化改革,持续擦亮海岛渔港特色品牌,奋力谱写",
     "长涂高质量发展新篇章。"],
]


def _pdf(pages: list[list[str]], *, numbers: bool = True) -> bytes:
    """A text PDF: one drawString per line (hard line breaks, as Word and WPS exports have), page numbers."""
    pytest.importorskip("reportlab")
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for n, lines in enumerate(pages, 1):
        c.setFont("STSong-Light", 12)
        y = 780.0
        for line in lines:
            c.drawString(60, y, line)
            y -= 20
        if numbers:
            c.drawCentredString(297, 40, f"- {n} -")
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("pdf") / "changtu.pdf"
    p.write_bytes(_pdf(PDF_PAGES))
    return p


def test_pdf_text_layer_is_read_and_broken_lines_rejoined(report_pdf: Path) -> None:
    rd = read_document(report_pdf)
    assert rd.format == "pdf"
    assert "请予审\n议" in rd.text and "渔业转型升级\n取得明显成效" in rd.text  # hard breaks, page break
    assert "- 1 -" not in rd.text and "- 2 -" not in rd.text  # page numbers between the halves dropped
    doc = build_document(rd)
    assert "请予审议,并请列席会议的同志提出意见。" in doc.text
    assert "农村人居环境持续改善" in doc.text
    assert "渔业转型升级取得明显成效" in doc.text  # a sentence running over the page end
    g = to_gold(extract_file(report_pdf))
    assert g["town"] == "长涂镇" and [s["name"] for s in g["superiors"]] == ["岱山县", "舟山市", "浙江省"]
    assert g["report_year"] == 2023
    ind = g["indicators"]
    assert _find(ind, name="财政总收入", value=2.35, unit="亿元", growth_pct=9.6, period="2022", kind="actual")
    assert _find(ind, name="规上工业产值", value=35, period="2023", kind="target")
    assert _find(ind, name="财政总收入", growth_pct=8.0, period="2023", kind="target")
    assert {"乡村振兴", "河长制"} <= {p["name"] for p in g["programs"]}
    for cat in CATEGORIES:
        for it in g[cat]:
            s, e = it["span"]
            assert rd.text[s:e] == it["quote"]


def test_pdf_line_break_before_a_number_is_rejoined(tmp_path: Path) -> None:
    pages = [[line.replace("规上", "规上工业产值").replace("工业产值完成31.2亿元", "31.2亿元") for line in PDF_PAGES[0]]]
    p = tmp_path / "r.pdf"
    p.write_bytes(_pdf(pages))
    assert "规上工业产值\n31.2亿元" in read_document(p).text
    assert _find(to_gold(extract_file(p))["indicators"], name="规上工业产值", value=31.2)


def test_pdf_short_complete_line_is_not_joined(report_pdf: Path) -> None:
    assert "第三次会议上\n各位代表" in build_document(read_document(report_pdf)).text


def test_join_pages_drops_page_numbers_at_page_edges() -> None:
    pages = ["  \n第 1 页\n财政总收入\n1/2\n", "- 2 -\n1.89亿元\n第2页,共2页", "", "3\n"]
    assert join_pages(pages) == "财政总收入\n1.89亿元"


def test_pdf_without_text_layer_is_e105(tmp_path: Path) -> None:
    pytest.importorskip("reportlab")
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("L", (120, 60), 255)
    for x in range(10, 110):
        img.putpixel((x, 30), 0)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawImage(ImageReader(img), 50, 500, width=400, height=200)  # a "scanned" page: an image, no text
    c.showPage()
    c.save()
    p = tmp_path / "scan.pdf"
    p.write_bytes(buf.getvalue())
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.NO_TEXT_LAYER, p, "no text layer", "OCR")


def _encrypted(data: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    w.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_password_protected_pdf_is_one_clear_line(tmp_path: Path, report_pdf: Path) -> None:
    p = tmp_path / "locked.pdf"
    p.write_bytes(_encrypted(report_pdf.read_bytes(), "secret"))
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.CORRUPT, p, "encrypted with a password")


def test_owner_password_only_pdf_is_read(tmp_path: Path, report_pdf: Path) -> None:
    """Printing/copy restrictions only (empty user password): the text is readable, so it is read."""
    p = tmp_path / "restricted.pdf"
    p.write_bytes(_encrypted(report_pdf.read_bytes(), ""))
    assert read_document(p).text == read_document(report_pdf).text


@pytest.mark.parametrize(
    ("make", "words"),
    [(lambda d: d[: len(d) // 2], ("truncated",)),
     (lambda d: d[:-200], ("truncated",)),
     (lambda d: b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n", ("cannot open PDF",)),
     (lambda d: b"<html><body>not a pdf</body></html>", ("not a PDF",))],
    ids=["half", "tail-cut", "garbage", "html-named-pdf"],
)
def test_corrupt_pdf_is_e106(tmp_path: Path, report_pdf: Path, make: Any, words: tuple[str, ...]) -> None:
    p = tmp_path / "broken.pdf"
    p.write_bytes(make(report_pdf.read_bytes()))
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.CORRUPT, p, *words)


# ================================================================ DOCX


def _docx(tmp_path: Path) -> Path:
    import docx

    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "内部资料 新杭镇"  # page header: chrome, not report text
    d.add_heading("长涂镇2023年政府工作报告", level=1)
    d.add_paragraph("——2023年2月16日在长涂镇第十八届人民代表大会第三次会议上")
    d.add_paragraph("各位代表:")
    d.add_paragraph("一、2022年工作回顾")
    d.add_paragraph("过去的一年,在县委、县政府的坚强领导下,全镇实现财政总收入2.35亿元,同比增长9.6%;"
                    "深入实施乡村振兴战略,全面落实河长制。")
    t = d.add_table(rows=3, cols=3)
    for r, row in enumerate([("指标", "2022年", "增长"), ("固定资产投资", "3.5亿元", "12.5%")]):
        for c, value in enumerate(row):
            t.cell(r, c).text = value
    t.cell(2, 0).merge(t.cell(2, 2)).text = "注:数据来源于镇统计站"
    d.add_paragraph("二、2023年工作安排")
    d.add_paragraph("2023年主要预期目标是:规上工业产值力争达到35亿元。")
    p = tmp_path / "changtu.docx"
    d.save(str(p))
    return p


def test_docx_paragraphs_and_table_in_document_order(tmp_path: Path) -> None:
    p = _docx(tmp_path)
    rd = read_document(p)
    assert rd.format == "docx"
    lines = rd.text.split("\n")
    i = lines.index("指标\t2022年\t增长")
    assert lines[i - 1].startswith("过去的一年")
    assert lines[i + 1] == "固定资产投资\t3.5亿元\t12.5%"
    assert lines[i + 2] == "注:数据来源于镇统计站"  # a merged row once, not three times
    assert lines[i + 3] == "二、2023年工作安排"
    assert "新杭镇" not in rd.text
    g = to_gold(extract_file(p))
    assert g["town"] == "长涂镇" and g["report_year"] == 2023
    assert _find(g["indicators"], name="财政总收入", value=2.35, growth_pct=9.6, kind="actual")
    assert _find(g["indicators"], name="规上工业产值", value=35, kind="target", period="2023")
    assert {"乡村振兴", "河长制"} <= {x["name"] for x in g["programs"]}
    for cat in CATEGORIES:
        for it in g[cat]:
            assert rd.text[it["span"][0]:it["span"][1]] == it["quote"]


def _zip_without_document() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a word file")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"PK\x03\x04" + os.urandom(600), ("not a zip",)),
     (_zip_without_document(), ("cannot open DOCX",)),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ("legacy Word .doc",))],
    ids=["zip-garbage", "zip-not-docx", "legacy-doc"],
)
def test_corrupt_docx_is_e106(tmp_path: Path, data: bytes, words: tuple[str, ...]) -> None:
    p = tmp_path / "broken.docx"
    p.write_bytes(data)
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.CORRUPT, p, *words)


def test_truncated_docx_is_e106(tmp_path: Path) -> None:
    good = _docx(tmp_path).read_bytes()
    p = tmp_path / "cut.docx"
    p.write_bytes(good[: len(good) // 2])
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.CORRUPT, p)


def test_empty_docx_is_e101(tmp_path: Path) -> None:
    import docx

    p = tmp_path / "empty.docx"
    docx.Document().save(str(p))
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.EMPTY, p)


# ================================================================ encodings

SIMPLIFIED = ("各位代表:\n现在,我代表新杭镇人民政府向大会报告工作。全镇实现财政总收入1.89亿元,同比增长12%;"
              "深入实施乡村振兴战略。\n")
TRADITIONAL = ("各位代表:\n現在,我代表新杭鎮人民政府向大會報告工作。全鎮實現財政總收入1.89億元,同比增長12%;"
               "深入實施鄉村振興戰略。\n")


EXT_B = "刘䶮、𠮷野家\n"  # characters outside GBK: 4-byte GB18030


@pytest.mark.parametrize(
    ("text", "codec", "bom", "expected"),
    [(SIMPLIFIED + EXT_B, "gb18030", b"", "gb18030"),
     (SIMPLIFIED, "gbk", b"", "gb18030"),
     (TRADITIONAL, "big5", b"", "big5"),
     (SIMPLIFIED, "utf-8", b"", "utf-8"),
     (SIMPLIFIED, "utf-8", b"\xef\xbb\xbf", "utf-8"),
     (SIMPLIFIED, "utf-16-le", b"\xff\xfe", "utf-16-le"),
     (SIMPLIFIED, "utf-16-be", b"\xfe\xff", "utf-16-be"),
     (SIMPLIFIED, "utf-16-le", b"", "utf-16-le"),  # no BOM: recognised by its NUL pattern, not called binary
     (SIMPLIFIED, "utf-16-be", b"", "utf-16-be"),
     (TRADITIONAL, "utf-32-le", b"\xff\xfe\x00\x00", "utf-32-le")],
    ids=["gb18030", "gbk", "big5", "utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be",
         "utf32le-bom"],
)
def test_encodings_are_detected_and_decode_to_the_source(tmp_path: Path, text: str, codec: str, bom: bytes,
                                                         expected: str) -> None:
    if codec == "gb18030":
        with pytest.raises(UnicodeEncodeError):
            EXT_B.encode("gbk")  # the test really needs GB18030, not GBK
    p = tmp_path / "r.txt"
    p.write_bytes(bom + text.encode(codec))
    rd = read_document(p)
    assert rd.text == text  # BOM excluded: offsets index the text, not the mark
    assert rd.encoding == expected and rd.warnings == ()


# Short texts charset-normalizer 3.5 misreads (GBK "新杭镇" as Big5 "陔獐淜", GBK "乡村振兴" as UTF-16).
SHORT = ["新杭镇", "乡村振兴", "河长制", "各位代表", "财政总收入", "镇政府工作报告", "规上工业产值26.1亿元",
         "深入实施乡村振兴战略", "同比增长12%", "岱西镇人民政府", "招商引资", "美丽乡村建设"]


@cache
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t").convert


@pytest.mark.parametrize("text", SHORT)
def test_short_texts_decode_right_in_gbk_and_big5(text: str) -> None:
    trad = _s2t()(text)
    assert decode(text.encode("gbk")).text == text
    assert decode(trad.encode("big5")).text == trad


def test_frequency_tie_break_prefers_real_chinese() -> None:
    assert hanzi_score("新杭镇") > 2 > 0 > hanzi_score("陔獐淜")
    for text in (SIMPLIFIED, TRADITIONAL):
        assert hanzi_score(text) > 3
    # Big5 bytes are valid GB18030 too; decoded that way they read as rare characters
    assert hanzi_score(TRADITIONAL.encode("big5").decode("gb18030")) < 0


def test_html_meta_charset_is_a_hint_not_an_assumption(tmp_path: Path) -> None:
    body = f"<html><head><meta charset=\"{{}}\"></head><body><p>{SIMPLIFIED}</p></body></html>"
    lying = tmp_path / "lying.html"  # says Big5, is GBK
    lying.write_bytes(body.format("big5").encode("gbk"))
    assert read_document(lying).encoding == "gb18030"
    utf8 = tmp_path / "utf8.html"  # says gb2312, is UTF-8 (a common server misconfiguration)
    utf8.write_bytes(body.format("gb2312").encode("utf-8"))
    rd = read_document(utf8)
    assert rd.encoding == "utf-8" and SIMPLIFIED in rd.text


def _with_bad_bytes(text: str, codec: str, n: int) -> bytes:
    """`text` in `codec` cut into n pieces on character boundaries, joined by a stray 0xFF byte."""
    parts = [text[i * len(text) // n:(i + 1) * len(text) // n].encode(codec) for i in range(n)]
    return b"\xff".join(parts)


def test_a_few_undecodable_bytes_are_replaced_with_a_warning(tmp_path: Path) -> None:
    text = TOWN_REPORT
    p = tmp_path / "damaged.txt"
    p.write_bytes(_with_bad_bytes(text, "gbk", 4))  # three stray 0xFF bytes in GBK text
    rd = read_document(p)
    assert rd.encoding == "gb18030"
    assert rd.text.count("\ufffd") == 3 and rd.text.replace("\ufffd", "") == text
    assert len(rd.warnings) == 1 and "3 undecodable" in rd.warnings[0] and "\n" not in rd.warnings[0]
    ex = extract_file(p)  # the damage does not stop extraction
    assert any(i.name == "财政总收入" and i.value == 1.89 for i in ex.indicators)


def test_utf8_cut_inside_its_last_character_keeps_the_text(tmp_path: Path) -> None:
    """Scraped files are often cut at a byte limit, inside a multi-byte character."""
    p = tmp_path / "cut.txt"
    p.write_bytes(TOWN_REPORT.encode("utf-8")[:-2])  # the last line ends "改革。\n": cut inside "。"
    rd = read_document(p)
    assert rd.encoding == "utf-8" and rd.text == TOWN_REPORT[:-2] + "\ufffd"
    assert rd.warnings and "1 undecodable" in rd.warnings[0]


def test_replaced_bytes_warning_reaches_the_extraction(tmp_path: Path) -> None:
    p = tmp_path / "damaged.txt"
    p.write_bytes(_with_bad_bytes(TOWN_REPORT, "gbk", 4))
    assert any("undecodable" in w for w in extract_file(p).warnings)


@pytest.mark.parametrize(
    "data",
    [b"\x80\xff" * 300 + b"abc\n",
     ("Le caf\u00e9 est tr\u00e8s bon. R\u00e9sum\u00e9 : \u00e9l\u00e8ve, gar\u00e7on, o\u00f9 \u00eates-vous ? " * 20).encode("cp1252"),
     ("政府工作报告" * 40).encode("gbk").replace(b"\xb8", b"\xff")],
    ids=["noise", "cp1252-french", "gbk-badly-damaged"],
)
def test_undecodable_is_e103(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "bad.txt"
    p.write_bytes(data)
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.UNDECODABLE, p)


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    p = tmp_path / "huge.txt"
    with p.open("wb") as fh:
        fh.truncate(50 * MIB)  # sparse: the size check must not need the bytes
    with pytest.raises(TownKGError) as exc:
        read_document(p)
    _assert_error(exc, Code.TOO_LARGE, p, "50.0 MB", "20 MB limit", "--max-mb")


# ================================================================ bad input in a CLI build

NEWS = ("新华社北京3月5日电 今天上午,十四届全国人大一次会议在人民大会堂开幕。会议听取了国务院总理所作的报告。"
        "代表们认真审议,一致认为报告实事求是,目标任务切实可行。\n记者 张三 李四\n")


@pytest.fixture
def mixed_dir(tmp_path: Path) -> Path:
    d = tmp_path / "reports"
    d.mkdir()
    (d / "good.html").write_bytes(PAGE.read_bytes())
    (d / "good.txt").write_text(TOWN_REPORT.replace("青溪", "衢山"), encoding="gb18030")
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.txt").write_bytes(b" \r\n\t\n\xe3\x80\x80\n")  # ideographic space too
    (d / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2048))
    (d / "noise.txt").write_bytes(b"\x80\xff" * 300)
    (d / "scan.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
    (d / "news.txt").write_text(NEWS, encoding="utf-8")
    chunk = TOWN_REPORT.encode("utf-8")
    with (d / "huge.txt").open("wb") as fh:  # 50 MB of real text, written, not sparse
        block = chunk * (MIB // len(chunk) + 1)
        for _ in range(50):
            fh.write(block[:MIB])
    return d


def _run_build(src: Path, out: Path) -> Any:
    from cli import app

    return CliRunner().invoke(app, ["build", str(src), "--out", str(out)], env={"COLUMNS": "200", "KG_DEBUG": ""})


def test_build_reports_each_bad_file_in_one_line_and_builds_the_good_ones(memory_sinks: list[object],
                                                                           mixed_dir: Path,
                                                                           tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = _run_build(mixed_dir, out)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    expected = {"empty.txt": "E101", "blank.txt": "E101", "binary.txt": "E102", "noise.txt": "E103",
                "scan.pdf": "E106", "huge.txt": "E108"}
    err_lines = res.stderr.splitlines()
    for name, code in expected.items():
        hits = [ln for ln in err_lines if name in ln]
        assert len(hits) == 1, (name, res.stderr)
        assert hits[0].rstrip().endswith(f"[{code}]") and str(mixed_dir / name) in hits[0], hits[0]
    assert "50.0 MB" in next(ln for ln in err_lines if "huge.txt" in ln)
    import json

    summary = json.loads((out / "summary.json").read_text("utf-8"))
    towns = {r["town"] for r in summary["towns"]}
    assert {"岱西镇", "衢山镇"} <= towns
    assert summary["totals"]["failed"] >= len(expected)


def test_build_names_a_news_article_as_not_a_report(memory_sinks: list[object], mixed_dir: Path,
                                                    tmp_path: Path) -> None:
    res = _run_build(mixed_dir, tmp_path / "out")
    hits = [ln for ln in res.stderr.splitlines() if "news.txt" in ln]
    assert len(hits) == 1 and hits[0].rstrip().endswith("[E107]")

