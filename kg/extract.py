"""Run every registered extractor over one report: the read → normalize → extract stages."""

from __future__ import annotations

from pathlib import Path

from kg.document import Document, build_document
from kg.model import Extraction, ReportMeta
from kg.read import DEFAULT_MAX_BYTES, read_document

_LAST: list[Document] = []  # the document the last extract_file call built, in this process


def extract_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Extraction:
    """Read, normalize and extract one report. Raises `kg.errors.TownKGError` on unusable input."""
    from kg.extractors import run_pipeline

    doc = build_document(read_document(path, max_bytes=max_bytes))
    _LAST[:] = [doc]
    return run_pipeline(doc)


def last_document(meta: ReportMeta) -> Document | None:
    """The document the last `extract_file` here built, if it is `meta`'s report (same path and bytes).

    Why: the build derives more from a report right after extracting it (paragraph offsets for the
    stores and the page); reading and normalizing the file again would cost a fifth of extraction.
    """
    doc = _LAST[0] if _LAST else None
    if doc is not None and doc.raw.path == meta.path and doc.raw.sha256 == meta.sha256:
        return doc
    return None
