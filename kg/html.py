"""HTML → text without losing offsets: the page's main text, not its navigation.

Provenance must point at characters of the raw HTML, so no DOM library rewrites the page: a small
tolerant tokenizer builds an element tree with raw offsets, page chrome is chosen on that tree,
and the text is emitted as a `MappedText` whose every character maps back to the raw span it
came from (a text character to itself, `&ldquo;` to the entity, a block tag's line break to the
tag).

Which parts are chrome (dropped), judged on the tree rather than on words so it works on sites
it has never seen:

* never text: <script>, <style>, <noscript>, <template>, <svg>, <iframe>, <select>, <button>,
  <form> controls, comments;
* the **main element** is the deepest element holding ≥ 80 % of the page's sentence punctuation
  (。,;:!? outside links): the report's container, whatever its class name;
* outside the main element, an element is chrome when it is semantic chrome (<nav>, <header>,
  <footer>, <aside>, <menu>), or its class/id names chrome (nav, menu, breadcrumb, sidebar,
  footer, copyright, share, …), or it is link-dense (≥ 2 links, ≥ 50 % of its text in links:
  breadcrumbs, menus, "related articles" lists) — *unless* it holds a fifth or more of the
  page's punctuation: substantive prose is never dropped on a class name alone;
* inside the main element only link-dense blocks go (a "相关链接" list at the end of an article).

What stays outside the main element (the <title>, the article heading, the 发布日期/发布机构
table) is kept because report metadata lives there; leftover one-line chrome (版权所有, 扫一扫…)
is trimmed by the body finder in `kg.document` like for text files.

Text follows HTML rendering: whitespace runs in text collapse to one space (a paragraph wrapped
across source lines is one line), block elements and <br> end lines, table cells are separated by
a tab and rows by line ends, <pre> keeps its whitespace.

Spans that cross markup: a span of normalized text maps to raw[start:end] from its first to its
last character, so an item whose words straddle a tag or an entity (`<b>财政</b>总收入`,
`&ldquo;千万工程&rdquo;`) gets a quote containing that markup, still an exact raw slice; items
inside one text run (the usual case) quote exactly their own characters.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from kg.normalize import MappedText

# Elements whose content is never page text (scripts, styles, widgets).
_SKIP_CONTENT = {"script", "style", "noscript", "template", "svg", "iframe", "object", "select", "button",
                 "textarea", "math", "canvas"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
         "track", "wbr", "keygen", "basefont", "frame"}
_BLOCK = {"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "dir",
          "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
          "h5", "h6", "head", "header", "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre",
          "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "title", "ul", "caption"}
_CELL = {"td", "th"}
_CLOSES_P = _BLOCK - {"body", "html", "head", "title"}
# Opening one of these closes an open sibling of the same family (HTML's implied end tags).
_IMPLIED = {"li": ({"li"}, {"ul", "ol", "menu"}), "dt": ({"dt", "dd"}, {"dl"}), "dd": ({"dt", "dd"}, {"dl"}),
            "tr": ({"tr", "td", "th"}, {"table", "tbody", "thead", "tfoot"}),
            "td": ({"td", "th"}, {"tr", "table"}), "th": ({"td", "th"}, {"tr", "table"}),
            "option": ({"option"}, {"select", "datalist"}), "a": ({"a"}, set()),
            "tbody": ({"tbody", "thead", "tfoot", "tr", "td", "th"}, {"table"}),
            "tfoot": ({"tbody", "thead", "tr", "td", "th"}, {"table"}),
            "thead": ({"tbody", "tr", "td", "th"}, {"table"})}
_SEMANTIC_CHROME = {"nav", "header", "footer", "aside", "menu"}
# class/id tokens (split on - _ space, lower-cased) that name page chrome; prefixes catch navList, footerWrap.
_CHROME_TOKEN_RE = re.compile(
    r"^(?:nav|menu|breadcrumbs?|crumbs?|bread|sidebar|side|sidenav|leftnav|footer|foot|copyright|copy|share|"
    r"fenxiang|bdshare|banner|logo|search|login|related|relate|friendlinks?|links|yqlj|xglj|xgwz|xgxx|dqwz|wzdh|"
    r"position|location|weizhi|pager|pagination|page-?nav|qrcode|ewm|erweima|toolbar|tools|print|skip|wza|"
    r"top|topbar|top-?nav|header|head-?nav|bottom|prevnext|prev|next|pre-?next|page-?turn|fanye)$"
    r"|^(?:nav|menu|crumb|bread|sidebar|footer|copyright|share|friendlink|breadcrumb)",
)
_PUNCT_RE = re.compile(r"[。，；：！？,;:!?]")
_ENTITY_RE = re.compile(r"&(?:#\d{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};|nbsp(?![A-Za-z0-9]))")
_WS_RE = re.compile(r"[ \t\r\n\f]+")
_ENTITY_OR_WS_RE = re.compile(f"{_ENTITY_RE.pattern}|{_WS_RE.pattern}")
_TOKEN_RE = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comment (an unterminated one runs to the end, as in browsers)
    r"|<!\[CDATA\[.*?(?:\]\]>|\Z)"
    r"|<![^>]*>|<\?[^>]*>"  # doctype, xml declaration, processing instructions
    r"|<(?P<close>/)?(?P<name>[A-Za-z][A-Za-z0-9:-]*)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.S,
)
_ATTR_RE = re.compile(r"""\b(class|id)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
MAIN_SHARE = 0.8  # the main element holds this share of the page's punctuation
KEEP_SHARE = 0.2  # a block holding this share of the punctuation is prose, never chrome


@dataclass(slots=True, eq=False)
class Element:
    name: str
    start: int  # raw offset of '<' of the start tag
    end: int = -1  # raw offset just past the end tag (or where it was implicitly closed)
    names: str = ""  # class and id values, lower-cased
    parent: Element | None = None
    children: list[Element] = field(default_factory=list)
    text: int = 0  # non-space characters of text in the subtree
    link_text: int = 0  # … of them inside <a>
    punct: int = 0  # sentence punctuation outside links
    links: int = 0  # <a> elements in the subtree

    def contains(self, other: Element) -> bool:
        e: Element | None = other
        while e is not None:
            if e is self:
                return True
            e = e.parent
        return False


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # text | open | close | skip
    start: int
    end: int
    name: str = ""
    attrs: str = ""  # raw attribute text of a start tag


def _tokens(s: str) -> list[Token]:
    """Text runs and tags with raw offsets; skipped-content elements become one `skip` token each."""
    out: list[Token] = []
    pos = 0
    n = len(s)
    while pos < n:
        m = _TOKEN_RE.search(s, pos)
        if m is None:
            out.append(Token("text", pos, n))
            break
        if m.start() > pos:
            out.append(Token("text", pos, m.start()))
        name = (m.group("name") or "").lower()
        if not name:
            out.append(Token("skip", m.start(), m.end()))
        elif m.group("close"):
            out.append(Token("close", m.start(), m.end(), name))
        elif name in _SKIP_CONTENT or name == "title":
            close = re.compile(rf"</{name}\s*>", re.I).search(s, m.end())
            stop = close.end() if close else n
            if name == "title":  # RCDATA: its text is page text (the report title), not markup
                out.append(Token("open", m.start(), m.end(), name))
                out.append(Token("text", m.end(), close.start() if close else n))
                if close:
                    out.append(Token("close", close.start(), close.end(), name))
            else:
                out.append(Token("skip", m.start(), stop, name))
            pos = stop
            continue
        else:
            self_closing = m.group("attrs").rstrip().endswith("/")
            out.append(Token("open", m.start(), m.end(), name, m.group("attrs")))
            if self_closing and name not in _VOID:
                out.append(Token("close", m.end(), m.end(), name))
        pos = m.end()
    return out


def _names(attrs: str) -> str:
    return " ".join((a.group(2) or a.group(3) or a.group(4) or "") for a in _ATTR_RE.finditer(attrs)).lower()


def parse(s: str) -> tuple[Element, list[Token]]:
    """Tolerant tree of the page: implied end tags, stray end tags ignored, everything closed at EOF."""
    toks = _tokens(s)
    root = Element("#root", 0)
    stack = [root]

    def close_to(i: int, at: int) -> None:
        while len(stack) > i:
            stack.pop().end = at

    for t in toks:
        if t.kind == "open":
            if t.name in _IMPLIED:
                family, scope = _IMPLIED[t.name]
                for i in range(len(stack) - 1, 0, -1):
                    if stack[i].name in scope:
                        break
                    if stack[i].name in family:
                        close_to(i, t.start)
                        break
            if t.name in _CLOSES_P and stack[-1].name == "p":
                close_to(len(stack) - 1, t.start)
            el = Element(t.name, t.start, names=_names(t.attrs) if t.attrs else "", parent=stack[-1])
            stack[-1].children.append(el)
            if t.name in _VOID:
                el.end = t.end
            else:
                stack.append(el)
        elif t.kind == "close":
            for i in range(len(stack) - 1, 0, -1):
                if stack[i].name == t.name:
                    el = stack[i]
                    close_to(i, t.start)  # children left open end where their parent's end tag starts
                    el.end = t.end
                    break
        elif t.kind == "text":
            chunk = _ENTITY_RE.sub(lambda x: html.unescape(x.group(0)), s[t.start:t.end])
            visible = len(_WS_RE.sub("", chunk).replace("\xa0", ""))
            if not visible:
                continue
            punct = len(_PUNCT_RE.findall(chunk))
            in_link = any(e.name == "a" for e in stack)
            for e in stack:
                e.text += visible
                if in_link:
                    e.link_text += visible
                else:
                    e.punct += punct
        if t.kind == "open" and t.name == "a":
            for e in stack:
                e.links += 1
    close_to(1, len(s))
    root.end = len(s)
    return root, toks


def _walk(e: Element):  # noqa: ANN202 - generator of Element
    yield e
    for c in e.children:
        yield from _walk(c)


def main_element(root: Element) -> Element | None:
    """Deepest element holding ≥ MAIN_SHARE of the page's punctuation (None for a page with almost none)."""
    total = root.punct
    if total < 5:
        return None
    best = root
    while True:
        nxt = next((c for c in best.children if c.punct >= MAIN_SHARE * total), None)
        if nxt is None:
            return None if best is root else best
        best = nxt


def _is_chrome_name(names: str) -> bool:
    return any(_CHROME_TOKEN_RE.search(tok) for tok in re.split(r"[\s_\-]+", names) if tok)


def _link_dense(e: Element) -> bool:
    return e.links >= 2 and e.link_text >= 0.5 * e.text


def chrome_ranges(root: Element) -> list[tuple[int, int]]:
    """Raw [start, end) ranges of chrome elements, outermost only, in order (see module docstring)."""
    main = main_element(root)
    total = root.punct
    out: list[tuple[int, int]] = []

    def visit(e: Element, inside_main: bool) -> None:
        for c in e.children:
            c_in_main = inside_main or c is main
            holds_main = main is not None and c.contains(main)
            prose = total > 0 and c.punct >= KEEP_SHARE * total
            if not holds_main and not prose:
                # an article's own <header> holds its title and date: metadata, not site chrome
                semantic = c.name in _SEMANTIC_CHROME and not (inside_main and c.name == "header")
                if semantic or _is_chrome_name(c.names) or _link_dense(c):
                    out.append((c.start, c.end))
                    continue
            visit(c, c_in_main)

    visit(root, False)
    return out


class _Builder:
    """Accumulates output characters with their raw spans (the MappedText being built)."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def raw(self, s: str, a: int, b: int) -> None:
        self.chars.append(s[a:b])
        self.starts.extend(range(a, b))
        self.ends.extend(range(a + 1, b + 1))

    def put(self, r: str, a: int, b: int) -> None:
        self.chars.append(r)
        self.starts.extend([a] * len(r))
        self.ends.extend([b] * len(r))


def _emit_text(out: _Builder, s: str, a: int, b: int, pre: bool) -> None:
    """A text run: entities decoded, whitespace collapsed to one space (kept as is in <pre>)."""
    pos = a
    for m in (_ENTITY_RE if pre else _ENTITY_OR_WS_RE).finditer(s, a, b):
        if m.start() > pos:
            out.raw(s, pos, m.start())
        tok = m.group(0)
        if tok.startswith("&"):
            ch = html.unescape(tok)
            out.put(" " if ch == "\xa0" else ch, m.start(), m.end())
        else:
            out.put(" ", m.start(), m.end())
        pos = m.end()
    if pos < b:
        out.raw(s, pos, b)


def html_to_text(m: MappedText) -> MappedText:
    """Main text of an HTML page as a MappedText over the same raw string (see module docstring)."""
    s = m.text
    root, toks = parse(s)
    drops = chrome_ranges(root)
    out = _Builder()
    di = 0
    pre = 0
    for t in toks:
        while di < len(drops) and drops[di][1] <= t.start:
            di += 1
        if di < len(drops) and drops[di][0] <= t.start < drops[di][1]:
            if t.start == drops[di][0]:  # a dropped block still ends the line before it
                out.put("\n", t.start, t.end)
            continue
        if t.kind == "text":
            _emit_text(out, s, t.start, t.end, pre > 0)
        elif t.kind in ("open", "close"):
            if t.name == "pre":
                pre = pre + 1 if t.kind == "open" else max(0, pre - 1)
            if t.name in _BLOCK or t.name == "br":
                out.put("\n", t.start, t.end)
            elif t.name in _CELL and t.kind == "open":
                out.put("\t", t.start, t.end)
    text = "".join(out.chars)
    mapped = MappedText(m.raw, text, out.starts, out.ends)
    mapped = mapped.sub(re.compile(r"[ \t]*\n[ \t]*"), "\n")  # line-edge spaces and cell separators
    mapped = mapped.sub(re.compile(r"\n{2,}"), "\n")  # one paragraph per line, like the scraped .txt reports
    mapped = mapped.sub(re.compile(r"\A\n+|\n+\Z"), "")
    return _compose(m, mapped)


def _compose(outer: MappedText, inner: MappedText) -> MappedText:
    """`inner` indexes outer.text; re-point its spans at outer.raw."""
    starts = [outer.starts[i] if i < len(outer.starts) else len(outer.raw) for i in inner.starts]
    ends = [outer.ends[j - 1] if j > 0 else 0 for j in inner.ends]
    return MappedText(outer.raw, inner.text, starts, ends)
