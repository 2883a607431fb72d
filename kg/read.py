"""Read a report file into text: detect the format and the encoding, never assume them.

The returned `RawDocument.text` is the "raw text" that all provenance offsets index: offsets are
code-point offsets into it. For .txt and .html it is the decoded file itself, byte order mark
excluded and line ends kept as they are (HTML markup is removed later, offset-mapped, by
`kg.html`); for .pdf and .docx, which have no character stream of their own, it is the
extracted text layer (pages joined so a sentence broken by a page end is one line break).

Encoding detection, in order (why: each step is exact where it applies, guessing comes last):

1. a byte order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) decides;
2. UTF-16 without a mark is recognised by its NUL-byte pattern (before the binary check, which
   would otherwise call it binary);
3. NULs or many control bytes: binary (E102);
4. strict UTF-8 (multi-byte UTF-8 almost never decodes by accident);
5. otherwise every legacy Chinese codec that decodes the bytes *strictly* (GB18030 ⊃ GBK ⊃ GB2312,
   Big5, CP950, Big5-HKSCS) is a candidate, and the one whose text reads as the most frequent
   Chinese characters wins (`hanzi_score`). Statistical detectors (charset-normalizer) get short
   Chinese texts wrong: on 3-character snippets of the seeds about half are misread, e.g.
   GBK "新杭镇" as Big5 "陔獐淜" and GBK "乡村振兴" as UTF-16; at 40 characters still 6 %.
   Big5 bytes always decode as GB18030 too (into rare characters), so frequency decides;
6. when no codec decodes strictly, the file is decoded leniently with the codec that needs the
   fewest replacement characters; a few bad bytes give U+FFFD and a warning in
   `RawDocument.warnings`, many give E103.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import math
import re
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kg.errors import Code, TownKGError

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MIB = 1024 * 1024

_BOMS = (  # UTF-32 first: its LE mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Legacy codecs tried strictly, preferred in this order when their texts score the same.
LEGACY_CODECS = ("gb18030", "big5", "cp950", "big5hkscs")
_LENIENT_CODECS = ("utf-8", "gb18030", "big5")
MAX_REPLACED = 0.02  # lenient decoding gives up (E103) above this share of replaced characters
MIN_SCORE = 1.0  # real reports score 3.4-3.6, misdecodings and other languages' bytes score below 0
MIN_HANZI_TO_JUDGE = 8  # too few characters to call a text noise
_SCORE_SAMPLE = 50_000  # characters scored per candidate: enough to decide, cheap on 20 MB files
_DECLARED_BONUS = 0.3  # an HTML page's own <meta charset> breaks near-ties
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-]+)""",
                         re.I)
_DECLARED = {"gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
             "euc-cn": "gb18030", "big5": "big5", "x-x-big5": "big5", "cp950": "cp950", "big5-hkscs": "big5hkscs",
             "utf-8": "utf-8", "utf8": "utf-8"}


@dataclass(frozen=True, slots=True)
class RawDocument:
    path: str
    name: str
    sha256: str
    text: str
    format: str  # txt | html | pdf | docx
    encoding: str  # codec name (utf-8, gb18030, big5, utf-16-le…), or pdf / docx
    warnings: tuple[str, ...] = ()  # recoverable reading problems (replaced bytes…), for the user


def read_document(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> RawDocument:
    """Read one report; raise `TownKGError` with a one-line reason for anything unusable."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED:
        raise TownKGError(Code.UNSUPPORTED, f"unsupported file type {suffix!r} (use .txt .html .pdf .docx)", str(p))
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the read forever, a device never end
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file (a pipe, socket or device)"
            raise TownKGError(Code.UNREADABLE, f"is {kind}", str(p))
        size = st.st_size
        if size > max_bytes:  # checked before reading: a 5 GB file must not be loaded to be refused
            raise TownKGError(Code.TOO_LARGE, f"file is {size / MIB:.1f} MB, above the {max_bytes / MIB:g} MB "
                              "limit (raise it with --max-mb)", str(p))
        data = p.read_bytes()
    except TownKGError:
        raise
    except FileNotFoundError:
        raise TownKGError(Code.UNREADABLE, "file not found (deleted or moved during the run?)", str(p)) from None
    except PermissionError:
        raise TownKGError(Code.UNREADABLE, "permission denied", str(p)) from None
    except IsADirectoryError:
        raise TownKGError(Code.UNREADABLE, "is a directory", str(p)) from None
    except OSError as e:
        raise TownKGError(Code.UNREADABLE, f"cannot read file ({e.strerror or e})", str(p)) from None
    sha = hashlib.sha256(data).hexdigest()
    warnings: tuple[str, ...] = ()
    if suffix == ".pdf":
        text, fmt, enc = _pdf_text(data, p), "pdf", "pdf"
    elif suffix == ".docx":
        text, fmt, enc = _docx_text(data, p), "docx", "docx"
    else:
        is_html = suffix in HTML_SUFFIXES
        decoded = decode(data, str(p), declared=declared_charset(data) if is_html or _sniff_html_bytes(data) else None)
        text, enc, warnings = decoded.text, decoded.encoding, decoded.warnings
        fmt = "html" if is_html or _sniff_html(text) else "txt"
    if not text.strip():
        raise TownKGError(Code.EMPTY, "no text (empty or whitespace only)", str(p))
    return RawDocument(str(p), p.name, sha, text, fmt, enc, warnings)


# ---------------------------------------------------------------- encodings


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


def decode_bytes(data: bytes, where: str = "") -> tuple[str, str]:
    """(text, encoding) of `decode`, for callers that do not need warnings."""
    d = decode(data, where)
    return d.text, d.encoding


def decode(data: bytes, where: str = "", declared: str | None = None) -> Decoded:
    """Decode report bytes by the steps in the module docstring; `declared` is an HTML meta charset."""
    if not data.strip():
        raise TownKGError(Code.EMPTY, "no text (empty or whitespace only)", where)
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom):].decode(enc), enc)
            except UnicodeDecodeError:
                raise TownKGError(Code.UNDECODABLE, f"bytes do not decode as {enc} despite its byte order mark",
                                  where) from None
    enc16 = _utf16_without_bom(data)
    if enc16:
        return Decoded(data.decode(enc16), enc16)
    if _is_binary(data):
        raise TownKGError(Code.BINARY, "binary file, not text", where)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.get((declared or "").lower())
    candidates: dict[str, str] = {}
    for enc in LEGACY_CODECS:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if text not in candidates.values():  # Big5 text decodes the same in its supersets: keep the plainest name
            candidates[enc] = text
    if candidates:
        enc = _best(candidates, declared)
        if _looks_chinese(candidates[enc]):
            return Decoded(candidates[enc], enc)
        raise TownKGError(Code.UNDECODABLE, "bytes decode only to rare characters: not Chinese text in UTF-8, "
                          "GB18030, Big5 or UTF-16", where)
    return _lenient(data, where)


def _best(candidates: dict[str, str], declared: str | None) -> str:
    """Candidate codec whose text reads as the most frequent characters (ties: LEGACY_CODECS order)."""
    order = list(LEGACY_CODECS)

    def key(enc: str) -> tuple[float, int]:
        bonus = _DECLARED_BONUS if enc == declared else 0.0
        return (hanzi_score(candidates[enc]) + bonus, -order.index(enc))

    return max(candidates, key=key)


def _lenient(data: bytes, where: str) -> Decoded:
    """No codec decodes strictly: replace the bad bytes of the codec that needs the fewest replacements."""
    tries = []
    for i, enc in enumerate(_LENIENT_CODECS):
        text = data.decode(enc, errors="replace")
        tries.append((text.count("\ufffd"), -hanzi_score(text), i, enc, text))
    bad, _, _, enc, text = min(tries)
    if bad > max(1, MAX_REPLACED * len(text)) or not _looks_chinese(text):
        raise TownKGError(Code.UNDECODABLE, "not decodable as UTF-8, GB18030, Big5 or UTF-16 "
                          f"({bad} undecodable byte sequences)", where)
    return Decoded(text, enc, (f"{bad} undecodable byte sequence(s) in otherwise {enc} text replaced by U+FFFD "
                               f"(first at character {text.index(chr(0xFFFD))}); the file may be damaged or "
                               "mix encodings",))


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a byte order mark: NULs in every other byte (its ASCII), and it decodes cleanly."""
    head = data[:8192]
    half = len(head) // 2
    if half < 2 or len(data) % 2:
        return None
    even = head[0::2].count(0)
    odd = head[1::2].count(0)
    if max(even, odd) < 0.2 * half or min(even, odd) > 0.02 * half:
        return None
    enc = "utf-16-le" if odd > even else "utf-16-be"
    try:
        text = data.decode(enc)
    except UnicodeDecodeError:
        return None
    ctrl = sum(1 for c in text[:4096] if ord(c) < 32 and c not in "\t\n\r\f")
    return enc if ctrl <= 0.01 * min(len(text), 4096) else None


_CTRL_BYTES = bytes(b for b in range(32) if b < 9 or b > 13)


def _is_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    ctrl = len(head) - len(head.translate(None, _CTRL_BYTES))  # bytes < 9 or 13 < b < 32, counted in C
    return ctrl > len(head) * 0.05


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first 4 KB (<meta charset>, http-equiv, <?xml?>)."""
    m = _CHARSET_RE.search(data[:4096])
    if not m:
        return None
    return (m.group(1) or m.group(2)).decode("ascii").lower()


def _sniff_html_bytes(data: bytes) -> bool:
    head = data[:2048].lower()
    return b"<html" in head or b"<!doctype html" in head


def _sniff_html(text: str) -> bool:
    head = text[:2048].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in head)


# ---------------------------------------------------------------- character frequency


@lru_cache(maxsize=1)
def _rank() -> dict[str, int]:
    path = Path(__file__).resolve().parent / "data" / "hanzi_rank.txt"
    chars = "".join(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip() and not line.startswith("#"))
    return {c: i for i, c in enumerate(chars)}


# Chinese punctuation and full-width forms are as common as the top characters in real text.
_PUNCT = set("，。：；、“”‘’（）《》〈〉【】！？％…—·　")
_NEUTRAL_RANGES = ((0x00C0, 0x02FF), (0x2000, 0x206F))  # pinyin tone letters, general punctuation


@lru_cache(maxsize=65536)
def _weight(c: str) -> float | None:
    """Log-frequency weight of one character: high for common hanzi, -1 for rare or odd ones, None to skip."""
    o = ord(c)
    if o < 128 or c.isspace() or any(a <= o <= b for a, b in _NEUTRAL_RANGES):
        return None
    rank = _rank()
    top = math.log(len(rank) + 1)
    if c in _PUNCT or 0xFF01 <= o <= 0xFF5E:
        return top - math.log(50)
    r = rank.get(c)
    if r is None and 0x3400 <= o <= 0x9FFF:  # a traditional character counts as its simplified form
        s = _t2s()(c)
        r = rank.get(s) if s != c else None
    return -1.0 if r is None else top - math.log(r + 1)


@lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202 - OpenCC's bound method
    import opencc

    return opencc.OpenCC("t2s").convert


def hanzi_score(text: str) -> float:
    """Mean log-frequency of the non-ASCII characters: about 3-4 for real Chinese, below 0.5 for misdecodings.

    >>> hanzi_score("新杭镇") > hanzi_score("陔獐淜")
    True
    >>> hanzi_score("just ASCII")
    0.0
    """
    weights = [w for w in map(_weight, text[:_SCORE_SAMPLE]) if w is not None]
    return sum(weights) / len(weights) if weights else 0.0


def _looks_chinese(text: str) -> bool:
    """False when a legacy decoding is mostly rare characters (bytes of some other encoding, or noise)."""
    n = len(re.findall(r"[\u3400-\u9fff\ue000-\uf8ff]", text[:_SCORE_SAMPLE]))
    return n < MIN_HANZI_TO_JUDGE or hanzi_score(text) >= MIN_SCORE


# ---------------------------------------------------------------- PDF

_PAGE_NUMBER_RE = re.compile(r"^\s*(?:[-—–－]\s*\d{1,4}\s*[-—–－]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?|"
                             r"\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$")


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs multi-line warnings for every repaired xref; the CLI promises one line per file."""
    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _pdf_text(data: bytes, p: Path) -> str:
    """Text layer of a PDF, pages joined; fails clearly on encrypted, truncated and image-only files."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    where = str(p)
    if not data.lstrip()[:1024].startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise TownKGError(Code.CORRUPT, "not a PDF (no %PDF- header)", where)
    if b"%%EOF" not in data[-2048:]:
        # pypdf would rebuild what it can of a cut file; a silently half-read report is worse than an error
        raise TownKGError(Code.CORRUPT, "PDF is truncated (no %%EOF end marker): the file is incomplete", where)
    try:
        with _quiet_pypdf():
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                try:
                    ok = reader.decrypt("")  # owner-password-only PDFs open with an empty user password
                except DependencyError:
                    raise TownKGError(Code.CORRUPT, "PDF is AES-encrypted; install 'cryptography' to open it",
                                      where) from None
                if not ok:
                    raise TownKGError(Code.CORRUPT, "PDF is encrypted with a password; decrypt it first "
                                      "(e.g. qpdf --decrypt --password=… in.pdf out.pdf)", where)
            pages = [page.extract_text() or "" for page in reader.pages]
    except TownKGError:
        raise
    except FileNotDecryptedError:
        raise TownKGError(Code.CORRUPT, "PDF is encrypted with a password; decrypt it first", where) from None
    except Exception as e:  # PdfReadError, and many other types on broken files
        first = f"cannot open PDF ({type(e).__name__}: {e}".splitlines()[0]
        raise TownKGError(Code.CORRUPT, first[:200] + ")", where) from None
    text = join_pages(pages)
    if not text.strip():
        raise TownKGError(Code.NO_TEXT_LAYER, f"PDF has no text layer ({len(pages)} page(s) without text: a scan?); "
                          "OCR it first", where)
    return text


def join_pages(pages: list[str]) -> str:
    """Join page texts with one line break, dropping page-number lines at page edges.

    A single break lets the normalizer rejoin a sentence that runs over a page end just like one
    that runs over a line end; a "- 3 -" footer between its halves would block that.

    >>> join_pages(["全镇实现财政总收入\\n- 1 -\\n", "1.89亿元。\\n2\\n"])
    '全镇实现财政总收入\\n1.89亿元。'
    """
    out: list[str] = []
    for text in pages:
        lines = text.strip("\n").split("\n")
        while lines and (not lines[0].strip() or _PAGE_NUMBER_RE.match(lines[0])):
            lines.pop(0)
        while lines and (not lines[-1].strip() or _PAGE_NUMBER_RE.match(lines[-1])):
            lines.pop()
        if lines:
            out.append("\n".join(line.rstrip() for line in lines))
    return "\n".join(out)


# ---------------------------------------------------------------- DOCX


def _docx_text(data: bytes, p: Path) -> str:
    """Body paragraphs and tables in document order (a row per line, cells tab-separated).

    Headers and footers are left out: they are page chrome (titles, page numbers), not the report.
    """
    where = str(p)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TownKGError(Code.CORRUPT, "this is a legacy Word .doc file renamed .docx; save it as .docx first", where)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TownKGError(Code.CORRUPT, "cannot open DOCX (not a zip container: damaged or not a Word file)", where)
    try:
        import docx
        from docx.table import Table

        d = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in d.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_table_rows(block))
            else:
                lines.append(block.text)
    except Exception as e:  # python-docx raises KeyError, BadZipFile, XML errors… on damaged files
        raise TownKGError(Code.CORRUPT, f"cannot open DOCX ({type(e).__name__}: damaged or not a Word file)",
                          where) from None
    return "\n".join(lines)


def _table_rows(table) -> list[str]:  # noqa: ANN001 - docx.table.Table
    """One line per row; merged cells (the same cell repeated by python-docx) appear once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split("\n")))
        rows.append("\t".join(cells))
    return rows
