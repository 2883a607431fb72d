"""Run every registered extractor over one report: the read → normalize → extract stages."""

from __future__ import annotations

from pathlib import Path

from kg.document import build_document
from kg.model import Extraction
from kg.read import DEFAULT_MAX_BYTES, read_document


def extract_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Extraction:
    """Read, normalize and extract one report. Raises `kg.errors.TownKGError` on unusable input."""
    from kg.extractors import run_pipeline

    doc = build_document(read_document(path, max_bytes=max_bytes))
    return run_pipeline(doc)
