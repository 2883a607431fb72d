"""Extract many reports in input order, in this process or in a process pool (`kg build --workers N`).

Why a process pool: extraction is pure Python regexes and dictionary lookups, so threads would share
one interpreter lock; processes scale with cores. Results come back in input order (a window of
submitted chunks, taken in order), and extraction of one file does not depend on any other, so any
number of workers writes byte-identical extractions.jsonl.

How: the first file is extracted here before the pool starts, which loads the segmenter dictionary,
the gazetteer and OpenCC once; workers are then forked (where the platform allows it), so they share
those tables copy-on-write instead of each loading them, and they see the same `kg.extract.extract_file`
(tests replace it with a stand-in). Each worker returns the extraction, its JSON line (serialized in
parallel, not in the parent) and the paragraph offsets of its programs (computed while the file is
at hand). A worker that dies (killed, out of memory) costs only the files it had: the rest are
extracted here, one by one.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg import extract as _extract
from kg.errors import Code, TownKGError
from kg.model import Extraction

if TYPE_CHECKING:
    from kg.assembly import ReportRdf

NOT_A_REPORT = "not a government work report (no town or region named)"


IN_FLIGHT = 3  # chunks of files submitted ahead per worker (`extract_all`)


def default_workers() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count, under taskset/cgroups)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


@dataclass(slots=True)
class Outcome:
    """What became of one input file: an extraction (with its JSON line) or a one-line failure."""

    path: Path
    ex: Extraction | None = None
    line: str | None = None
    paragraphs: dict[str, int] | None = None  # program id → raw offset of its paragraph (kg.paragraphs)
    units: dict[str, str] | None = None  # program id → co-occurrence unit on the page (kg.viz_cooc)
    nquads: ReportRdf | None = None  # the report's own RDF, when asked for (kg.assembly.report_nquads)
    error: str | None = None


def paragraphs(ex: Extraction, doc: Any = None) -> tuple[dict[str, int], dict[str, str]]:
    """What the stores (`paragraph` of IMPLEMENTS) and the page (co-occurrence units) need to know about
    where each program is first named; from `doc` when given, else from the report file, re-read."""
    from kg.paragraphs import paragraph_starts
    from kg.viz_cooc import paragraph_units

    units = {pid: unit for (_, pid), unit in paragraph_units(ex, doc).items()}
    return paragraph_starts(ex, doc), units


def extract_one(path: Path, max_bytes: int, rdf: bool = False) -> Outcome:
    """Extract one file; every failure becomes a one-line reason ending in its error code. With `rdf`,
    the report's own quads are mapped here too, in parallel (a full build streams them into Oxigraph)."""
    from kg.assembly import report_nquads
    from kg.records import extraction_json

    try:
        ex = _extract.extract_file(path, max_bytes=max_bytes)
        if ex.town is None and ex.region is None:
            raise TownKGError(Code.NOT_A_REPORT, NOT_A_REPORT, str(path))
        offsets, units = paragraphs(ex, _extract.last_document(ex.meta))
        nquads = report_nquads(ex, offsets) if rdf else None
        return Outcome(path, ex, extraction_json(ex), offsets, units, nquads)
    except TownKGError as e:
        return Outcome(path, error=one_line(f"{e.message} [{e.code.value}]"))
    except Exception as e:  # a bug on one file must not lose the other reports
        return Outcome(path, error=one_line(f"internal error {type(e).__name__}: {e} "
                                            "(please report this file)"))


def _jobs(paths: list[Path], max_bytes: int, rdf: bool) -> list[Outcome]:
    return [extract_one(p, max_bytes, rdf) for p in paths]


def _context() -> Any:
    """fork where available: workers inherit loaded dictionaries and the current `extract_file`."""
    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()


def outcomes(files: list[Path], prev: Any, max_bytes: int, workers: int,
             on_start: Callable[[int], None], rdf: bool = False) -> Iterator[tuple[Outcome, int | None]]:
    """(outcome, index of the previous build's line reused for it, or None), in input order.

    A file whose path and content hash are in `prev` (`kg.incremental.Previous`) is not read again.
    With `rdf`, extracted outcomes carry their report's N-Quads (`extract_one`).
    """
    from kg.incremental import file_key

    plan: list[int | None] = [None] * len(files)
    if prev is not None:
        for k, path in enumerate(files):
            key = file_key(path, max_bytes)
            plan[k] = prev.index.get(key) if key else None
    todo = [p for p, i in zip(files, plan, strict=True) if i is None]
    fresh = extract_all(todo, max_bytes, workers, rdf=rdf)
    for k, (path, idx) in enumerate(zip(files, plan, strict=True)):
        on_start(k)
        yield (next(fresh) if idx is None else Outcome(path, line=prev.line(idx))), idx


def extract_all(paths: Sequence[Path], max_bytes: int, workers: int,
                on_start: Callable[[int], None] | None = None, rdf: bool = False) -> Iterator[Outcome]:
    """Outcomes of `paths`, in order. `on_start(i)` is called before outcome i is produced."""
    start = on_start or (lambda i: None)
    if not paths:
        return
    start(0)
    yield extract_one(paths[0], max_bytes, rdf)  # warms every lazy table before the pool forks
    rest = list(paths[1:])
    workers = min(workers, len(rest))
    if workers <= 1:
        for i, p in enumerate(rest, 1):
            start(i)
            yield extract_one(p, max_bytes, rdf)
        return
    chunk = max(1, min(16, len(rest) // (workers * 8)))
    chunks = (rest[i:i + chunk] for i in range(0, len(rest), chunk))
    done = 0
    gc.freeze()  # the loaded tables stay shared: a worker's collector would otherwise touch (copy) them all
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context())
    try:
        # At most IN_FLIGHT chunks per worker are submitted ahead (`Executor.map` would submit them all):
        # when the parent is the slower side, finished outcomes (~1 MB each with their N-Quads) wait in
        # its memory, and at 10,000 reports that backlog was the peak of a build.
        ahead: deque[Future[list[Outcome]]] = deque(
            pool.submit(_jobs, c, max_bytes, rdf) for c in islice(chunks, IN_FLIGHT * workers))
        while ahead:
            batch = ahead.popleft().result()
            nxt = next(chunks, None)
            if nxt is not None:
                ahead.append(pool.submit(_jobs, nxt, max_bytes, rdf))
            for outcome in batch:
                start(done + 1)
                yield outcome
                done += 1
    except BrokenProcessPool:  # a worker died: finish the rest here
        for i, p in enumerate(rest[done:], done + 1):
            start(i)
            yield extract_one(p, max_bytes, rdf)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()
