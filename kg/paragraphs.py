"""Which paragraph first names each program: the `paragraph` property of IMPLEMENTS edges.

Why it exists: "programs named together in one paragraph" (the `program_cooccurrence` named query, issue
#6) must be answerable by SPARQL and Cypher alone, and the stores hold spans but no paragraphs. So the
build stores, on every IMPLEMENTS edge, the raw character offset at which the program's paragraph
starts; two programs co-occur when their edges share `report` and `paragraph`.

The rule is the co-occurrence view's (`kg.viz_cooc`), so the query and the picture agree:

* the program is placed by its provenance (`start` of the first mention the extractor recorded);
* paragraphs are re-derived with `kg.document.build_document` from the report file the build read
  (`meta.path`, checked against its sha256);
* a "paragraph" longer than `kg.viz_cooc.LONG_PARAGRAPH` characters is a report that lost its line
  breaks, and there the sentence is the unit (its raw start offset is stored instead).

When the file is gone or changed (a build moved elsewhere, then `kg load neo4j`), the edges get no
`paragraph` and that report contributes no pairs, rather than wrong ones.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kg.graph import PropertyGraph, report_id
from kg.model import Extraction, ReportMeta


def _document(meta: ReportMeta) -> Any:
    """The report re-read and structured as the build saw it, or None if the file is gone or changed."""
    from kg.document import build_document
    from kg.errors import TownKGError
    from kg.read import read_document

    path = Path(meta.path)
    if not path.is_file():
        return None
    try:
        raw = read_document(path, max_bytes=1 << 34)  # it was accepted once; the limit was checked then
    except (TownKGError, OSError):
        return None
    return build_document(raw) if raw.sha256 == meta.sha256 else None


def paragraph_starts(ex: Extraction, doc: Any = None) -> dict[str, int]:
    """Program id → raw offset where the paragraph (or, in a flattened report, sentence) naming it starts.

    `doc` is the report's `kg.document.Document` when the caller still has it (the build, right after
    extracting): then the file is not read and normalized a second time.
    """
    from kg.viz_cooc import LONG_PARAGRAPH

    doc = doc if doc is not None else _document(ex.meta)
    if doc is None:
        return {}
    lengths: Counter[int] = Counter()
    first: dict[int, int] = {}
    for s in doc.sentences:
        lengths[s.paragraph] += len(s.text)
        first.setdefault(s.paragraph, s.start)
    starts = doc.mapped.starts  # normalized index → raw offset, non-decreasing
    out: dict[str, int] = {}
    for p in ex.programs:
        if p.prov is None:
            continue
        sent = doc.sentence_at(max(bisect.bisect_right(starts, p.prov.start) - 1, 0))
        if sent is None:
            continue
        unit = sent.start if lengths[sent.paragraph] > LONG_PARAGRAPH else first[sent.paragraph]
        out[f"program:{p.name}"] = starts[unit] if unit < len(starts) else p.prov.start
    return out


def annotate_paragraphs(pg: PropertyGraph, extractions: Iterable[Extraction]) -> PropertyGraph:
    """Set `paragraph` on the IMPLEMENTS edges of `pg` read from `extractions` (in place; returns `pg`)."""
    edges: dict[tuple[str, str], list[Any]] = {}
    for e in pg.edges.values():
        if e.type == "IMPLEMENTS":
            edges.setdefault((str(e.props.get("report")), e.dst), []).append(e)
    for ex in extractions:
        rid = report_id(ex.meta.sha256)
        for pid, offset in paragraph_starts(ex).items():
            for e in edges.get((rid, pid), ()):
                e.props.setdefault("paragraph", offset)
    return pg
