"""Resolve one report's raw extractions: aliases, and links between entities.

Within a town, short company names are aliases of full ones when the full name starts with the
short one's brand (华鑫公司 ≈ 华鑫冶金公司); a project is linked to programs named in its
sentence or paragraph and to companies whose name it contains. Cross-report identity comes from
canonical names (programs) and division codes (towns), assigned in `kg.graph`.
"""

from __future__ import annotations

import re

from kg.document import Document
from kg.model import Extraction

_CO_SUFFIX_RE = re.compile(r"(?:股份有限公司|有限公司|集团|公司)$")


def _brand(name: str) -> str:
    return _CO_SUFFIX_RE.sub("", name)


def resolve_extraction(doc: Document, ex: Extraction) -> Extraction:
    programs = {p.name for p in ex.programs} | {p.surface for p in ex.programs}
    ex.projects = [p for p in ex.projects if p.name not in programs]  # 立德树人工程 is a program, not a work
    _merge_company_aliases(ex)
    _link_projects(doc, ex)
    return ex


def _merge_company_aliases(ex: Extraction) -> None:
    keep = []
    for c in sorted(ex.companies, key=lambda c: -len(c.name)):
        brand = _brand(c.name)
        target = next((k for k in keep if k.name != c.name and len(brand) >= 2 and
                       (_brand(k.name).startswith(brand) or brand in _brand(k.name))), None)
        if target is not None:
            target.aliases.append(c.name)
        else:
            keep.append(c)
    order = {id(c): i for i, c in enumerate(ex.companies)}
    ex.companies = sorted(keep, key=lambda c: order[id(c)])


def _link_projects(doc: Document, ex: Extraction) -> None:
    paragraphs: dict[int, list[str]] = {}  # paragraph → its sentences' texts (built once, not per project)
    for s in doc.sentences:
        paragraphs.setdefault(s.paragraph, []).append(s.text)
    joined: dict[int, str] = {}
    named_in: dict[str, list[str]] = {}  # span text → programs it names (projects share paragraphs)
    firms = [(c, [n for n in (c.name, _brand(c.name), *c.aliases) if n and len(n) >= 2]) for c in ex.companies]
    for pr in ex.projects:
        if pr.prov is None:
            continue
        sent = doc.sentence_at(_norm_pos(doc, pr.prov.start))
        if sent is None:
            continue
        para = paragraphs[sent.paragraph]
        if len(para) <= 12:
            span_text = joined.get(sent.paragraph) or joined.setdefault(sent.paragraph, "".join(para))
        else:
            span_text = sent.text
        progs = named_in.get(span_text)
        if progs is None:
            progs = named_in[span_text] = [p.name for p in ex.programs if p.name in span_text or p.surface in span_text]
        pr.programs.extend(progs)
        for c, names in firms:
            if any(n in pr.name for n in names) or c.name in sent.text and c.name in pr.name:
                pr.companies.append(c.name)


def _norm_pos(doc: Document, raw_pos: int) -> int:
    """Normalized offset of the first character at or after a raw offset."""
    import bisect

    return min(bisect.bisect_left(doc.mapped.starts, raw_pos), max(0, len(doc.text) - 1))
