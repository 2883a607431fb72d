"""Build a TownKG output directory from report files: extract → graph → stores + visualization.

`build()` is what `kg build` and `make demo` run. Its promises:

* **One bad file never sinks a run.** Each file is extracted on its own; a `TownKGError` (or an
  unexpected crash) is recorded in `BuildResult.failed` with a one-line reason and the rest carry on.
  A text in which no town and no region is named is not a government work report (E107). Only when
  *no* file could be read is nothing built (and the previous output is left alone).
* **Output is replaced atomically.** Everything is written into a hidden sibling temp directory and
  swapped into place with two renames (`out` → `.out.old-…`, temp → `out`), so readers and a killed or
  failed build only ever see the complete previous build or the complete new one. Leftovers from a
  killed build (named after its PID) are cleaned up, or the previous build restored, by the next run.
* **Parallel and identical.** `workers` processes extract (`kg.parallel`); results are taken in input
  order, so extractions.jsonl is byte-identical whatever the number of workers.
* **Incremental.** A file whose path and content are unchanged since the previous build of `out` is not
  read again; the previous stores are copied and patched: a changed report's facts replace its old
  ones, a removed report's facts go (`kg.incremental`, `kg.stores.delta`). The result equals a full
  rebuild; `incremental=False` (`kg build --full`) forces one.
* **Bounded memory.** Extractions are written out as they arrive and only what the summary and the
  page need is kept; the graph is the one large structure held (stores load it in chunks).

Layout of `out/`: `extractions.jsonl` (one report per line, the exact `Extraction` records),
`rdf/` (Oxigraph store), `graph.lbug` (LadybugDB), `programs.html` (town–program network),
`summary.json` (per-town counts, store counts, SHACL verdict, failed files), `manifest.json` (what the
next incremental build reuses).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import tempfile
import time
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from kg.errors import Code, TownKGError
from kg.model import Extraction
from kg.read import DEFAULT_MAX_BYTES
from kg.records import EXTRACTIONS, extraction_json, from_dict, load_extractions  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".html", ".htm", ".pdf", ".docx")
SUMMARY = "summary.json"
VIZ = "programs.html"

Failure = tuple[Path, str]  # (input path, one-line reason ending in its error code)
# progress(stage, done, total, item): stage is "extract" (item = file), "store" (item = store name), "viz"
# or "validate" (item = shapes file).
Progress = Callable[[str, int, int, str], None]


class Sink(typing.Protocol):
    """The part of `kg.stores.base.GraphSink` a build needs (kept local so tests can fake it)."""

    def write(self, graph: Any) -> dict[str, int]: ...
    def counts(self) -> dict[str, int]: ...
    def optimize(self) -> None: ...
    def close(self) -> None: ...


def _oxigraph(root: Path) -> Sink:
    from kg.stores.oxigraph_store import OxigraphSink

    return OxigraphSink(root / "rdf")


def _ladybug(root: Path, items: int = 0) -> Sink:
    """LadybugDB with a buffer pool sized to the graph (`items` nodes + edges): the database's pages and a
    COPY's slice (`LadybugSink.copy_rows`) must fit in it; 10,000 reports (1.6 M items) need ~0.5 GiB
    where the sink's default is 256 MiB. The pool is reserved, not used: RSS grows with what is loaded."""
    from kg.stores.ladybug_store import DEFAULT_BUFFER_POOL, LadybugSink

    pool = min(max(DEFAULT_BUFFER_POOL, 320 * items), 8 << 30)
    return LadybugSink(root / "graph.lbug", buffer_pool_size=pool)


# Store name → factory(build root). Order is write order; tests swap this for in-memory or failing sinks.
SINKS: dict[str, Callable[[Path], Sink]] = {"oxigraph": _oxigraph, "ladybug": _ladybug}
# Where each embedded store keeps its data inside a build, for incremental builds to carry it over.
STORE_PATHS = {"oxigraph": "rdf", "ladybug": "graph.lbug"}
# SHACL (pyshacl over rdflib) checks ~4,000 quads/s in memory: the build checks graphs up to about a
# minute's worth (~120 reports); `kg validate` checks any build on request.
VALIDATE_MAX_QUADS = 250_000


@dataclass(slots=True)
class BuildResult:
    out: Path
    ok: list[Path] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    reused: list[Path] = field(default_factory=list)  # unchanged since the previous build: not re-read
    workers: int = 1
    stores: dict[str, str] = field(default_factory=dict)  # store → "written" | "updated"
    _extractions: list[Extraction] | None = field(default=None, repr=False)

    @property
    def built(self) -> bool:
        """True when `out` now holds a new build (at least one report was read)."""
        return bool(self.ok)

    @property
    def viz(self) -> Path:
        return self.out / VIZ

    @property
    def extractions(self) -> list[Extraction]:
        """The build's extraction records, read back from `out` on first use (a build does not keep
        10,000 reports' records in memory just in case)."""
        if self._extractions is None:
            self._extractions = load_extractions(self.out) if self.built else []
        return self._extractions


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def expand_paths(paths: Iterable[Path], exclude: Sequence[Path] = ()) -> tuple[list[Path], list[Failure]]:
    """Files to read, in a stable order: explicit files as given, directories walked sorted.

    Directories contribute only report formats (`SUFFIXES`) and skip hidden entries and `exclude`
    (the output directory, so `kg build .` never eats its own programs.html). An explicit file is
    kept whatever its suffix so the reader can say why it is unsupported. A directory with nothing
    to read becomes a failure entry rather than silently building nothing.
    """
    skip = {p.resolve() for p in exclude}
    files: list[Path] = []
    failed: list[Failure] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            files.append(p)

    for root in paths:
        if not root.is_dir():
            add(root)  # missing files fail later, in the reader, with its message
            continue
        found = 0
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames
                                 if not d.startswith(".") and (here / d).resolve() not in skip)
            for name in sorted(filenames):
                if not name.startswith(".") and name.lower().endswith(SUFFIXES):
                    add(here / name)
                    found += 1
        if not found:
            kinds = "/".join(SUFFIXES)
            failed.append((root, f"directory holds no report files ({kinds}) [{Code.UNSUPPORTED.value}]"))
    return files, failed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _recover(out: Path) -> None:
    """Tidy what a killed build left next to `out`: restore a moved-aside build, drop temp dirs."""
    if not out.parent.is_dir():
        return
    for kind in ("old", "tmp"):  # "old" first: it may be the only copy of the previous build
        for p in sorted(out.parent.glob(f".{out.name}.{kind}-*")):
            pid = p.name.rsplit(f".{kind}-", 1)[1].split("-", 1)[0]
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue  # not ours or a concurrent build still running
            if kind == "old" and not out.exists():
                p.rename(out)
            else:
                shutil.rmtree(p, ignore_errors=True)


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a directory that is not a TownKG build (`--out ~` must not wipe a home)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise NotADirectoryError(20, "output path exists and is not a directory", str(out))
    if any(out.iterdir()) and not (out / SUMMARY).is_file():
        raise FileExistsError(17, "exists and is not a TownKG build (no summary.json); refusing to replace "
                              "it: choose another --out or remove it", str(out))


def _swap(tmp: Path, out: Path) -> None:
    """Move the finished build into place; on any failure the previous build is put back."""
    old: Path | None = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}-{tmp.name.rsplit('-', 1)[-1]}"
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _compact(sink: Sink, optimize: bool) -> None:
    """Compact a store (`Sink.optimize`) unless asked not to. Oxigraph: a bulk load in chunks, as the build
    streams it, leaves overlapping files, each with its chunk's copy of the strings, and an incremental update
    leaves deletion markers; at 10,000 reports compaction halved the store (5.0 → 2.7 GB) and made
    program_cooccurrence 3× faster after a full build, 35× after an incremental one."""
    if optimize:
        sink.optimize()


def _fill_store(name: str, factory: Callable[[Path], Sink], root: Path, graph: Any, previous: Path | None,
                delta: Any, stream: Any = None, optimize: bool = True) -> tuple[dict[str, int], str]:
    """Write one store: finish what was streamed during extraction, patch a copy of the previous store
    when possible, else write the whole graph; then compact it (`_compact`)."""
    from kg.stores.delta import carry_over, discard

    if stream is not None:
        try:
            stream.finish(graph)
            _compact(stream.sink, optimize)
            return dict(stream.sink.counts()), "written"
        finally:
            stream.close()

    if factory is _ladybug:
        factory = partial(_ladybug, items=len(graph.nodes) + len(graph.edges))
    rel = STORE_PATHS.get(name)
    if previous is not None and delta is not None and rel and carry_over(name, previous / rel, root / rel):
        from kg.stores.delta import apply_delta

        sink = factory(root)
        try:
            apply_delta(sink, delta)
            _compact(sink, optimize)
            return dict(sink.counts()), "updated"
        except Exception as e:  # a store the delta cannot patch is rebuilt, never left half-patched
            log.warning("%s: incremental update failed (%s: %s); writing it in full", name,
                        type(e).__name__, e)
        finally:
            sink.close()
        discard(root / rel)  # type: ignore[operator]
    sink = factory(root)
    try:
        sink.write(graph)
        _compact(sink, optimize)
        return dict(sink.counts()), "written"
    finally:
        sink.close()


def _write_stores(root: Path, graph: Any, progress: Progress, previous: Path | None = None,
                  delta: Any = None, streams: dict[str, Any] | None = None, optimize: bool = True
                  ) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    counts: dict[str, dict[str, int]] = {}
    how: dict[str, str] = {}
    from kg.assembly import trim_heap

    for i, (name, factory) in enumerate(SINKS.items()):
        progress("store", i, len(SINKS), name)
        try:
            counts[name], how[name] = _fill_store(name, factory, root, graph, previous, delta,
                                                  (streams or {}).get(name), optimize)
            trim_heap()  # what the store freed (load buffers) would otherwise stay under the next one's peak
        except TownKGError:
            raise
        except Exception as e:
            raise TownKGError(Code.STORE, f"{name} store failed: {type(e).__name__}: {_one_line(str(e))}",
                              str(root)) from e
    progress("store", len(SINKS), len(SINKS), "")
    return counts, how


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _noop(stage: str, done: int, total: int, item: str) -> None:
    """Default progress callback."""


def _validate(graph: Any, progress: Progress, quads: int | None = None) -> dict[str, Any]:
    """SHACL verdict for the graph's RDF (what the Oxigraph sink stores), for summary.json["shacl"].

    `quads` is the size of that RDF when a store already counted it; above `VALIDATE_MAX_QUADS` the
    verdict says the check was skipped and why, instead of spending an hour and gigabytes on it.
    """
    from kg.rdf import SHAPES_PATH, graph_to_quads
    from kg.shacl import validate_quads
    from kg.stores.base import conformant

    if quads is not None and quads > VALIDATE_MAX_QUADS:
        return {"conforms": None, "error": f"{quads:,} quads are more than the {VALIDATE_MAX_QUADS:,} a "
                "build checks; run `kg validate` to check them all"}
    progress("validate", 0, 1, SHAPES_PATH.name)
    try:
        verdict: dict[str, Any] = validate_quads(graph_to_quads(conformant(graph)[0])).to_dict()
    except Exception as e:  # a validator bug must not cost the build; the summary says what happened
        verdict = {"conforms": None, "error": _one_line(f"{type(e).__name__}: {e}")}
    progress("validate", 1, 1, SHAPES_PATH.name)
    return verdict


def build(paths: Sequence[Path | str], out: Path | str, *, progress: Progress | None = None,
          max_bytes: int = DEFAULT_MAX_BYTES, validate: bool = True, workers: int | None = None,
          incremental: bool = True, optimize: bool = True) -> BuildResult:
    """Extract every report under `paths` and write a complete build to `out` (atomically).

    Returns which files were read, reused and failed (with reasons). Raises `TownKGError` only for
    whole-build problems (a store refused the graph), in which case `out` is untouched. `workers`
    processes extract (default: one per core). With `incremental`, what the previous build of `out`
    already holds is reused (see the module docstring). With `validate`, the RDF is checked against
    ontology/shapes.ttl and the verdict stored as `summary["shacl"]` (violations are reported, not
    fatal: `kg validate` lists them). With `optimize`, the stores are compacted once written (`_compact`).
    """
    from kg import incremental as inc
    from kg.aggregates import add_aggregates
    from kg.assembly import Collector
    from kg.parallel import default_workers, outcomes
    from kg.summary import summarize
    from kg.viz import write_program_network

    started = time.perf_counter()
    report = progress or _noop
    out = Path(out)
    files, failed = expand_paths([Path(p) for p in paths], exclude=[out])
    result = BuildResult(out=out, failed=failed, workers=max(1, workers or default_workers()))
    if files:
        _check_replaceable(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        _recover(out)
    prev = inc.load_previous(out, EXTRACTIONS) if incremental and files else None
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent)) if files else None
    stream = None
    try:
        if tmp is not None and SINKS.get("oxigraph") is _oxigraph and not (
                prev is not None and (out / STORE_PATHS["oxigraph"]).exists()):
            from kg.assembly import RdfStream

            stream = RdfStream(_oxigraph(tmp))  # a full build: its RDF loads as reports arrive
        if tmp is not None:
            tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it 0700; the build should look like any mkdir
            with (tmp / EXTRACTIONS).open("wb") as fh:
                got = Collector(fh, prev, stream)
                for outcome, idx in outcomes(files, prev, max_bytes, result.workers,
                                             lambda k: report("extract", k, len(files), str(files[k])),
                                             rdf=stream is not None):
                    if outcome.error is not None:
                        result.failed.append((outcome.path, outcome.error))
                        continue
                    got.take(outcome, idx)
                    result.ok.append(outcome.path)
                    if idx is not None:
                        result.reused.append(outcome.path)
        report("extract", len(files), len(files), "")
        if tmp is not None:
            got.settle()  # the graph stays until the end; writing the stores need not re-scan it
        if not result.ok:
            result.summary = summarize([], result.failed, {})
            if stream is not None:
                stream.close()
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            result.seconds = time.perf_counter() - started
            return result
        assert tmp is not None
        graph = add_aggregates(got.graph)  # derived facts (CO_OCCURS) join the shared part
        registry = inc.Registry.of(graph)
        delta = None
        if prev is not None:
            dirty = inc.dirty_reports(((k[1], h) for k, h in zip(prev.keys, prev.hashes, strict=True)),
                                      ((k[1], h) for k, _, _, h in got.rows))
            delta = inc.diff(prev.registry, graph, dirty, registry)
        counts, result.stores = _write_stores(tmp, graph, report, prev.out if prev else None, delta,
                                              {"oxigraph": stream} if stream is not None else {}, optimize)
        report("viz", 0, 1, VIZ)
        write_program_network(graph, tmp / VIZ, units=got.units)  # paragraphs: co-occurrence
        report("viz", 1, 1, VIZ)
        result.summary = summarize(got.slims(), result.failed, counts)
        if validate:
            result.summary["shacl"] = _validate(graph, report, counts.get("oxigraph", {}).get("quads"))
        (tmp / SUMMARY).write_text(json.dumps(result.summary, ensure_ascii=False, indent=1) + "\n",
                                   encoding="utf-8")
        stats = {"reports": len(result.ok), "reused": len(result.reused), "workers": result.workers,
                 "stores": result.stores, **(delta.stats() if delta is not None else {})}
        inc.write_manifest(tmp, got.rows, got.where, registry, stats)
        _swap(tmp, out)
    except BaseException:
        if stream is not None:
            stream.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        gc.unfreeze()  # what the Collector froze (its graph) is collectable again
    result.seconds = time.perf_counter() - started
    return result
