"""Read a report file into text: detect the format and the encoding, never assume them.

The returned `RawDocument.text` is the "raw text" that all provenance offsets index. For .txt
and .html it is the decoded file itself (HTML markup is removed later, offset-mapped, by the
normalizer); for .pdf and .docx, which have no character stream of their own, it is the
extracted text layer.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from kg.errors import Code, TownKGError

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawDocument:
    path: str
    name: str
    sha256: str
    text: str
    format: str  # txt | html | pdf | docx
    encoding: str


def read_document(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> RawDocument:
    """Read one report; raise `TownKGError` with a one-line reason for anything unusable."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED:
        raise TownKGError(Code.UNSUPPORTED, f"unsupported file type {suffix!r} (use .txt .html .pdf .docx)", str(p))
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise TownKGError(Code.TOO_LARGE, f"file is {size / 1e6:.1f} MB, above the {max_bytes / 1e6:.0f} MB limit "
                              "(raise it with --max-mb)", str(p))
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
    if suffix == ".pdf":
        text, fmt, enc = _pdf_text(data, p), "pdf", "pdf"
    elif suffix == ".docx":
        text, fmt, enc = _docx_text(data, p), "docx", "docx"
    else:
        text, enc = decode_bytes(data, str(p))
        fmt = "html" if suffix in HTML_SUFFIXES or _sniff_html(text) else "txt"
    if not text.strip():
        raise TownKGError(Code.EMPTY, "no text (empty or whitespace only)", str(p))
    return RawDocument(str(p), p.name, sha, text, fmt, enc)


def decode_bytes(data: bytes, where: str = "") -> tuple[str, str]:
    """Decode by BOM, then strict UTF-8, then the best of GB18030/Big5/UTF-16 by charset-normalizer."""
    if not data.strip():
        raise TownKGError(Code.EMPTY, "no text (empty or whitespace only)", where)
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                raise TownKGError(Code.UNDECODABLE, f"bytes do not decode as {enc} despite its BOM", where) from None
    if _is_binary(data):
        raise TownKGError(Code.BINARY, "binary file, not text", where)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_16_le", "utf_16_be", "utf_8"]).best()
    if best is None or best.encoding is None:
        raise TownKGError(Code.UNDECODABLE, "not decodable as UTF-8, GB18030, Big5 or UTF-16", where)
    return str(best), best.encoding


def _is_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    ctrl = sum(1 for b in head if b < 9 or 13 < b < 32)
    return ctrl > len(head) * 0.05


def _sniff_html(text: str) -> bool:
    head = text[:2048].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in head)


def _pdf_text(data: bytes, p: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise TownKGError(Code.CORRUPT, "PDF is encrypted with a password", str(p))
            except (NotImplementedError, PdfReadError) as e:
                raise TownKGError(Code.CORRUPT, f"PDF is encrypted ({e})", str(p)) from None
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except TownKGError:
        raise
    except Exception as e:  # pypdf raises many types on broken files
        raise TownKGError(Code.CORRUPT, f"cannot open PDF ({type(e).__name__}: {e})".splitlines()[0], str(p)) from None
    if not text.strip():
        raise TownKGError(Code.NO_TEXT_LAYER, "PDF has no text layer (scanned image?); OCR it first", str(p))
    return text


def _docx_text(data: bytes, p: Path) -> str:
    try:
        import docx

        d = docx.Document(io.BytesIO(data))
    except Exception as e:
        raise TownKGError(Code.CORRUPT, f"cannot open DOCX ({type(e).__name__})", str(p)) from None
    return "\n".join(par.text for par in d.paragraphs)
