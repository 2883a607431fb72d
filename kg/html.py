"""HTML → text without losing offsets: markup is removed by mapped regex substitutions.

A DOM parser would give cleaner text but no character offsets into the file; provenance must
point at the raw HTML, so tags, scripts and entities are rewritten in place on a `MappedText`.
Navigation blocks (<nav>, <header>, <footer>, <aside>) go too; the rest of the chrome is dropped
by the body finder like for text files.
"""

from __future__ import annotations

import html
import re

from kg.normalize import MappedText

_DROP_RE = re.compile(r"<(script|style|noscript|nav|header|footer|aside|template|svg)\b.*?</\1\s*>|<!--.*?-->",
                      re.S | re.I)
_BLOCK_RE = re.compile(r"<(?:/?(?:p|div|br|li|ul|ol|tr|table|h[1-6]|section|article|blockquote|pre)\b)[^>]*>", re.I)
_TAG_RE = re.compile(r"<[^>]*>")
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def html_to_text(m: MappedText) -> MappedText:
    m = m.sub(_DROP_RE, "")
    m = m.sub(_BLOCK_RE, "\n")
    m = m.sub(_TAG_RE, "")
    m = m.sub(_ENTITY_RE, lambda x: html.unescape(x.group(0)))
    return m.sub(re.compile(r"\n[ \t]*(?:\n[ \t]*)+"), "\n\n")
