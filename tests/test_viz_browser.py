"""The visualization page in a real browser: headless Debian Chromium, driven over the DevTools Protocol.

For each view of a page built from the real seeds (real extractor, real paragraphs) the tests assert:
* **offline**: every request the page made (`Network.requestWillBeSent`) is file:/data:/blob:/about: —
  the browser also runs with `--host-resolver-rules=MAP * ~NOTFOUND`, so nothing could leave anyway;
* **no JavaScript errors**: no uncaught exception, console.error/assert or error-level log entry;
* **not blank**: the screenshot's drawing area has contrast (grey-level spread) and enough inked pixels;
* **Chinese renders as glyphs, not tofu**. Method: in the page, with the page's own font stack, draw each
  character of real labels on a canvas — the same Skia/fontconfig path vis-network uses for its labels —
  and compare the bitmaps. Without a CJK font every CJK character falls back to the same .notdef box, so
  distinct characters give *identical* bitmaps, equal to that of U+10FFFD (a code point no font maps).
  With a real font they all differ. Bitmaps are compared, not widths: a CJK font and a tofu box can both
  be square. `test_tofu_detector_sees_tofu` proves the check bites: the same page in a Chromium whose
  fontconfig only knows DejaVu must be judged tofu.

The controls (`test_monitor_catches_…`) make sure the network and console monitors would see a violation.
Nothing is skipped: without Chromium the tests fail and say how to get it (`make test` installs it).
Screenshots go to $KG_SCREENSHOTS when set (to look at them), else to a pytest temp directory.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.graph import build_graph
from kg.viz import write_program_network
from tests.cdp_browser import MISSING, Browser, Page, find_chromium
from tests.test_viz import _graph

ROOT = Path(__file__).resolve().parents[1]
VIEWS = ("net", "cooc", "ind")
NOTDEF = "\U0010fffd"
GLYPHS_JS = r"""((chars) => {
 const family = getComputedStyle(document.body).fontFamily;
 const c = document.createElement('canvas'); c.width = c.height = 48;
 const x = c.getContext('2d', {willReadFrequently: true});
 return chars.map(ch => { x.clearRect(0, 0, 48, 48); x.font = '36px ' + family; x.fillStyle = '#000';
  x.textBaseline = 'top'; x.fillText(ch, 4, 4); const d = x.getImageData(0, 0, 48, 48).data;
  let bits = '', ink = 0; for (let i = 3; i < d.length; i += 4) { const on = d[i] > 127; bits += on ? '1' : '0';
  ink += on; } return {ch, ink, bits}; }); })"""


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = find_chromium()
    if exe is None:
        pytest.fail(MISSING)
    return exe


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    b = Browser(chromium)
    yield b
    b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(os.environ["KG_SCREENSHOTS"]) if os.environ.get("KG_SCREENSHOTS") else \
        tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def seeds_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page `kg build seeds` writes, made with the real extractor (paragraphs from the seed files)."""
    from kg.extract import extract_file

    exs = [extract_file(p) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    return write_program_network(build_graph(exs), tmp_path_factory.mktemp("seeds") / "programs.html",
                                 extractions=exs)


def _open(browser: Browser, page: Path, view: str) -> Page:
    p = browser.open(page.resolve().as_uri() + "#" + view)
    p.wait_for(f"window.kgReady && window.kgReady.{view} === true && document.readyState === 'complete'")
    return p


def _ink(png: bytes, box: tuple[int, int, int, int]) -> tuple[float, float]:
    """(grey-level standard deviation, share of pixels darker than the page background) inside `box`."""
    from PIL import Image, ImageStat

    grey = Image.open(io.BytesIO(png)).convert("L").crop(box)
    dark = sum(grey.histogram()[:235]) / (grey.width * grey.height)
    return ImageStat.Stat(grey).stddev[0], dark


def glyph_verdict(page: Page, text: str) -> dict[str, Any]:
    """Render the distinct CJK characters of `text` (up to 12) and the .notdef reference; compare bitmaps."""
    chars = list(dict.fromkeys(c for c in text if "\u4e00" <= c <= "\u9fff"))[:12]
    assert len(chars) >= 3, f"need a few Chinese characters to compare, got {text!r}"
    got = page.eval(f"{GLYPHS_JS}({json.dumps([*chars, NOTDEF])})")
    ref, cjk = got[-1]["bits"], got[:-1]
    return {"chars": "".join(chars), "distinct": len({g["bits"] for g in cjk}), "n": len(cjk),
            "like_notdef": [g["ch"] for g in cjk if g["bits"] == ref], "blank": [g["ch"] for g in cjk if not g["ink"]]}


def _labels(page: Page, view: str) -> str:
    data = "D" if view == "net" else "D.cooc"
    return page.eval(f"{data}.nodes.slice(0, 8).map(n => n.label).join('')")


@pytest.mark.parametrize("view", VIEWS)
def test_view_renders_offline_without_errors(browser: Browser, seeds_page: Path, shots: Path, view: str) -> None:
    p = _open(browser, seeds_page, view)
    try:
        png = p.screenshot(shots / f"seeds-{view}.png")
        assert p.requests() and p.requests()[0].startswith("file://")  # the monitor saw the page itself
        assert p.outbound() == [], f"requests left the machine: {p.outbound()}"
        assert p.errors() == [], f"JavaScript errors: {p.errors()}"
        box = (345, 50, 1400, 900) if view != "ind" else (0, 50, 1400, 900)  # the drawing, not the side panel
        spread, dark = _ink(png, box)
        assert spread > 12 and dark > 0.01, f"{view} looks blank: grey stddev {spread:.1f}, inked {dark:.2%}"
        if view != "ind":
            assert p.eval(f"document.querySelector('#{view} canvas').width") > 600
            assert p.eval(f"document.getElementById('{view}-count').textContent").startswith("显示")
        else:
            assert p.eval("document.querySelectorAll('#charts figure svg rect').length") >= 4
    finally:
        p.close()


@pytest.mark.parametrize("view", ["net", "cooc"])
def test_chinese_labels_render_as_glyphs(browser: Browser, seeds_page: Path, view: str) -> None:
    p = _open(browser, seeds_page, view)
    try:
        v = glyph_verdict(p, _labels(p, view))
        assert v["distinct"] == v["n"] and not v["like_notdef"] and not v["blank"], (
            f"Chinese labels render as tofu ({v}); `make test` installs fonts-wqy-microhei (NOTES-infra §6)")
    finally:
        p.close()


def test_tofu_detector_sees_tofu(chromium: str, seeds_page: Path, tmp_path: Path) -> None:
    """Negative control: a Chromium whose fontconfig has only DejaVu draws every CJK label as tofu."""
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path}/fc</cachedir></fontconfig>")
    b = Browser(chromium, env={"FONTCONFIG_FILE": str(conf)})
    try:
        p = _open(b, seeds_page, "net")
        v = glyph_verdict(p, _labels(p, "net"))
        assert v["distinct"] == 1 or len(v["like_notdef"]) == v["n"], f"tofu not detected: {v}"
    finally:
        b.close()


def test_click_search_and_tabs(browser: Browser, seeds_page: Path) -> None:
    p = _open(browser, seeds_page, "net")
    try:
        town = p.eval("D.nodes.find(n => n.kind === 'town').id")
        x, y = p.eval(f"(() => {{const n = window.kgNet.net, c = n.canvasToDOM(n.getPosition({json.dumps(town)}));"
                      "const r = document.getElementById('net').getBoundingClientRect();"
                      "return [r.left + c.x, r.top + c.y];})()")
        for kind in ("mousePressed", "mouseReleased"):
            p.b.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
                     p.sid)
        p.wait_for("document.querySelectorAll('#net-info blockquote').length > 0", timeout=10)
        info = p.eval("document.getElementById('net-info').textContent")
        assert p.eval(f"D.facts[{json.dumps(town)}].title") in info and "报告" in info
        p.eval("(() => {const q = document.getElementById('net-q'); q.value = '乡村振兴';"
               "q.dispatchEvent(new Event('input'));})()")
        shown = p.eval("document.getElementById('net-count').textContent")
        assert shown.startswith("显示 ") and int(shown.split()[1]) < p.eval("D.nodes.length")
        p.eval("document.querySelector('nav button[data-view=cooc]').click()")
        p.wait_for("window.kgReady.cooc === true")
        assert p.eval("location.hash") == "#cooc" and p.eval("document.getElementById('v-cooc').offsetWidth") > 0
        assert p.errors() == [] and p.outbound() == []
    finally:
        p.close()


@pytest.mark.parametrize("province", [None, "西藏"])
def test_hostile_text_and_empty_filter(browser: Browser, tmp_path: Path, shots: Path, province: str | None) -> None:
    """Report text with </script> stays text; a filter matching nothing still gives a working page."""
    page = write_program_network(_graph(), tmp_path / "small.html", province=province)
    for view in VIEWS:
        p = _open(browser, page, view)
        try:
            p.screenshot(shots / f"small-{province or 'all'}-{view}.png")
            assert p.errors() == [] and p.outbound() == []
            assert p._mine("Page.javascriptDialogOpening") == []  # the alert(1) in the report never ran
            if province is None and view == "net":
                quoted = p.eval("D.facts['town:330110:塘栖镇'].links[0].sentences[0].text")
                assert "</script><script>alert(1)</script>" in quoted
        finally:
            p.close()


def test_monitor_catches_outbound_requests_and_errors(browser: Browser, tmp_path: Path) -> None:
    """Positive control: a page that does reach for a CDN and logs an error is caught by both monitors."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><script src="https://cdn.jsdelivr.net/npm/x.js"></script></head>'
                   '<body><script>console.error("boom"); window.kgReady = {net: true};</script></body></html>')
    p = _open(browser, bad, "net")
    try:
        assert p.outbound() == ["https://cdn.jsdelivr.net/npm/x.js"]
        assert any("boom" in e for e in p.errors())
    finally:
        p.close()


def test_bounded_page_shows_its_note_and_quotes(browser: Browser, tmp_path: Path, shots: Path) -> None:
    """A graph over the bounds (tests/test_viz_scale.py): each view shows what it leaves out, and a node's
    panel quotes its sources from the shared table (`q`) the bounded page stores them in."""
    from tests.test_viz_scale import large_graph

    g, units = large_graph()
    page = write_program_network(g, tmp_path / "big.html", units=units)
    for view in VIEWS:
        p = browser.open(page.resolve().as_uri() + "#" + view)
        try:
            p.wait_for(f"window.kgReady && window.kgReady.{view} === true && document.readyState === 'complete'",
                       timeout=120)
            p.screenshot(shots / f"bounded-{view}.png")
            note = p.eval("(() => {const n = document.querySelector('.view.on .limit');"
                          "return n ? [n.textContent, n.offsetHeight] : null;})()")
            assert note and note[1] > 0 and "截取" in note[0], f"{view}: no visible note ({note})"
            if view != "ind":
                data = "D" if view == "net" else "D.cooc"
                pid = p.eval(f"{data}.nodes.find(n => n.kind !== 'town').label")
                p.eval(f"(() => {{const q = document.getElementById('{view}-q'); q.value = {json.dumps(pid)};"
                       "q.dispatchEvent(new Event('input'));"
                       "q.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'}));})()")
                p.wait_for(f"document.querySelectorAll('#{view}-info blockquote').length > 0", timeout=10)
            assert p.errors() == [] and p.outbound() == []
        finally:
            p.close()
