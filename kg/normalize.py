"""Offset-mapped normalization: every normalized character remembers its raw character span.

Reports arrive traditional, glossed with pinyin, broken by PDF line ends and wrapped in web
chrome. Extractors want clean simplified text; provenance wants raw offsets. `MappedText`
gives both: each transform (regex substitution, 1:1 conversion) rewrites the text and carries
a per-character `(start, end)` map back to the raw string, so a span found in normalized text
is always `raw[start:end]` in the file's own characters.

>>> m = normalize("現(xiàn)在,请各位代 表审议")
>>> m.text
'现在,请各位代表审议'
>>> s, e = m.raw_span(0, 2); m.raw[s:e]
'現(xiàn)在'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\u2018-\u201f\u2026\u2014\u00b7"
TONE = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# A gloss is a pinyin syllable with a tone mark in parentheses right after a CJK character.
PINYIN_RE = re.compile(rf"(?<=[{CJK}])[(（][a-zü]{{0,5}}[{TONE}][a-zü]{{0,5}}[)）]")
# Mojibake left by a broken gloss injector (總?cè)蝿铡): characters there are already destroyed.
MOJIBAKE_RE = re.compile(rf"\?[a-zü]{{0,5}}[{TONE}]")
_COMBINING_RE = re.compile(r".[\u0300-\u036f]+")
_NEEDS_NFKC_RE = re.compile(r"[\u00a0\u2000-\u200b\u2160-\u217f\u2460-\u24ff\u3000\u3200-\u33ff\uf900-\ufaff\ufe30-\ufe6f\uff01-\uffee]")
# Horizontal whitespace inside Chinese text is a PDF/layout artefact (请各位代 表审议).
_ZH = rf"[{CJK}{CJK_PUNCT}]"
_INNER_SPACE_RE = re.compile(
    rf"(?<={_ZH})[ \t\u00a0\u3000]+(?=[{CJK}{CJK_PUNCT}0-9A-Za-z,.;:!?%()\"])"
    rf"|(?<=[0-9A-Za-z,.;:!?%()\"])[ \t\u00a0\u3000]+(?={_ZH})"
)
_HEADING_START = r"(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|第[一二三四五六七八九十]+(?:部分|章|节)|\d+[.、](?!\d))"
# A single line break between two CJK characters, after a full-width line, is a PDF soft wrap.
_SOFT_WRAP_RE = re.compile(rf"(?<=[^\n]{{14}}[{CJK},、])[ \t]*\n[ \t]*(?=[{CJK}0-9“(（])(?!{_HEADING_START}|各位代表|各位委员|同志们)")


class FirstChar:
    """`pattern.finditer` for a pattern whose every match starts with a character `first` matches.

    Why: a pattern that opens with a lookbehind (the pinyin gloss, spaces inside Chinese text) is
    tried at every position of a report; its matches can only start where `first` matches, which a
    character-class scan finds fast. Exact: a plain scan tries the positions in order and what it
    finds at one is `pattern.match` there (lookbehinds see the text before the position as usual);
    positions `first` rejects hold no match. Patterns must not match the empty string.
    """

    __slots__ = ("pattern", "first")

    def __init__(self, pattern: re.Pattern[str], first: str) -> None:
        self.pattern, self.first = pattern, re.compile(first)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        find, match = self.first.search, self.pattern.match
        pos = 0
        while (c := find(text, pos)) is not None:
            m = match(text, c.start())
            if m is None:
                pos = c.start() + 1
            else:
                yield m
                pos = m.end()


@dataclass(slots=True)
class MappedText:
    """Text plus, for each character, the raw span it came from (starts[i], ends[i])."""

    raw: str
    text: str
    starts: list[int]
    ends: list[int]

    @classmethod
    def identity(cls, raw: str) -> MappedText:
        n = len(raw)
        return cls(raw, raw, list(range(n)), list(range(1, n + 1)))

    def raw_span(self, i: int, j: int) -> tuple[int, int]:
        """Raw (start, end) covering normalized characters i..j (exclusive)."""
        if not self.text:
            return (0, 0)
        i = max(0, min(i, len(self.text) - 1))
        j = max(i + 1, min(j, len(self.text)))
        return self.starts[i], self.ends[j - 1]

    def quote(self, i: int, j: int) -> str:
        s, e = self.raw_span(i, j)
        return self.raw[s:e]

    def sub(self, pattern: re.Pattern[str] | FirstChar, repl: str | Callable[[re.Match[str]], str]) -> MappedText:
        """Regex substitution that keeps the map: a replacement maps onto the span it replaced.

        When every replacement is as long as what it replaces (t2s-like 1:1 rewrites, NFKC of most
        characters) the map is unchanged and is shared, not rebuilt.
        """
        text, starts, ends = self.text, self.starts, self.ends
        done: list[tuple[int, int, str]] = []
        same = True
        for m in pattern.finditer(text):
            a, b = m.span()
            r = repl if isinstance(repl, str) else repl(m)
            done.append((a, b, r))
            same = same and len(r) == b - a
        if not done:
            return self
        out: list[str] = []
        pos = 0
        if same:
            for a, b, r in done:
                out.append(text[pos:a])
                out.append(r)
                pos = b
            out.append(text[pos:])
            return MappedText(self.raw, "".join(out), starts, ends)
        new_s: list[int] = []
        new_e: list[int] = []
        for a, b, r in done:
            out.append(text[pos:a])
            new_s.extend(starts[pos:a])
            new_e.extend(ends[pos:a])
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
        out.append(text[pos:])
        new_s.extend(starts[pos:])
        new_e.extend(ends[pos:])
        return MappedText(self.raw, "".join(out), new_s, new_e)

    def convert(self, fn: Callable[[str], str]) -> MappedText:
        """Apply a mostly length-preserving converter (t2s) line by line, keeping the map."""
        converted = fn(self.text)
        if len(converted) == len(self.text):
            return MappedText(self.raw, converted, self.starts, self.ends)
        out: list[str] = []
        new_s: list[int] = []
        new_e: list[int] = []
        pos = 0
        for line in self.text.splitlines(keepends=True):
            seg = fn(line)
            a, b = pos, pos + len(line)
            if len(seg) == len(line):
                new_s.extend(self.starts[a:b])
                new_e.extend(self.ends[a:b])
            else:  # rare phrase conversion that changes length: spread the line's span evenly
                for k in range(len(seg)):
                    src = a + min(len(line) - 1, k * len(line) // max(1, len(seg)))
                    new_s.append(self.starts[src])
                    new_e.append(self.ends[src])
            out.append(seg)
            pos = b
        return MappedText(self.raw, "".join(out), new_s, new_e)


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    import opencc  # official OpenCC wheel; 't2s' (never 'tw2sp': it rewrites mainland terms)

    conv = opencc.OpenCC("t2s")
    return conv.convert


def _nfkc_char(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", m.group(0))


def _nfc(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFC", m.group(0))


_CRLF_RE = re.compile(r"\r\n?")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_COMBINING_CHAR_RE = re.compile(r"[\u0300-\u036f]")
_INVISIBLE_RE = re.compile(r"[\u200b-\u200f\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")
_ZHUO_RE = re.compile("著力|无著落")
_STRAY_QUESTION_RE = re.compile(r"\?{2,}|\?(?=[(（一二三四五六七八九十])")
# The lookbehind-led patterns, scanned from the only characters their matches can start with.
_PINYIN_SCAN = FirstChar(PINYIN_RE, r"[(（]")
_SOFT_WRAP_SCAN = FirstChar(_SOFT_WRAP_RE, r"[ \t\n]")
_INNER_SPACE_SCAN = FirstChar(_INNER_SPACE_RE, r"[ \t\u00a0\u3000]")


def normalize(raw: str) -> MappedText:
    """Raw report text → clean simplified text with an offset map (see module docstring)."""
    m = MappedText.identity(raw)
    if "\r" in raw:
        m = m.sub(_CRLF_RE, "\n")
    m = m.sub(_SURROGATE_RE, "\ufffd")  # lone surrogates (decoded with errors=) break OpenCC
    if _COMBINING_CHAR_RE.search(m.text):  # every match holds one
        m = m.sub(_COMBINING_RE, _nfc)
    m = m.sub(_PINYIN_SCAN, "")
    m = m.sub(_NEEDS_NFKC_RE, _nfkc_char)
    m = m.sub(_INVISIBLE_RE, "")
    if _HAN_RE.search(m.text):
        m = m.convert(_t2s())
        m = m.sub(_ZHUO_RE, lambda x: x.group(0).replace("著", "着"))
    if looks_wrapped(m.text):
        m = m.sub(_SOFT_WRAP_SCAN, _soft_wrap_joiner(m.text))
    m = m.sub(_INNER_SPACE_SCAN, "")
    if "?" in m.text:
        m = m.sub(_STRAY_QUESTION_RE, "")  # stray ?? bullets of bad encodings
    return m


def _soft_wrap_joiner(text: str) -> Callable[[re.Match[str]], str]:
    """Join a line break only after a line about as long as the page's full lines.

    A short line ending in a CJK character (…第三次会议上) is complete; a full-width one is wrapped.
    """
    lengths = sorted(len(ln.strip()) for ln in text.split("\n") if len(ln.strip()) >= 15)
    full = lengths[len(lengths) * 3 // 4] if lengths else 0

    def join(m: re.Match[str]) -> str:
        line_start = text.rfind("\n", 0, m.start()) + 1
        return "" if len(text[line_start: m.start()].strip()) >= 0.8 * full else m.group(0)

    return join


_OPEN_END_RE = re.compile(rf"[{CJK},、]")


def looks_wrapped(text: str) -> bool:
    """True for hard-wrapped text (PDF copy): most long lines end mid-sentence on a CJK character.

    Web pages put one paragraph per line, so joining their lines would glue headings to bodies.
    """
    lines = [ln.strip() for ln in text.split("\n") if len(ln.strip()) >= 15]
    if len(lines) < 5:
        return False
    open_ended = sum(1 for ln in lines if _OPEN_END_RE.match(ln[-1]))
    return open_ended / len(lines) > 0.4


def has_mojibake(s: str) -> bool:
    return MOJIBAKE_RE.search(s) is not None
