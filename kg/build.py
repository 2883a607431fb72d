"""Build a TownKG output directory from report files: extract → graph → stores + visualization.

`build()` is what `kg build` and `make demo` run. Two promises shape it:

* **One bad file never sinks a run.** Each file is extracted on its own; a `TownKGError` (or an
  unexpected crash) is recorded in `BuildResult.failed` with a one-line reason and the rest carry on.
  Only when *no* file could be read is nothing built (and the previous output is left alone).
* **Output is replaced atomically.** Everything is written into a hidden sibling temp directory and
  swapped into place with two renames (`out` → `.out.old-…`, temp → `out`), so readers and a killed or
  failed build only ever see the complete previous build or the complete new one. Leftovers from a
  killed build (named after its PID) are cleaned up, or the previous build restored, by the next run.

Layout of `out/`: `extractions.jsonl` (one report per line, the exact `Extraction` records),
`rdf/` (Oxigraph store), `graph.lbug` (LadybugDB), `programs.html` (town–program network),
`summary.json` (per-town counts, store counts, SHACL verdict, failed files).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import extract as _extract
from kg.errors import Code, TownKGError
from kg.model import Extraction
from kg.read import DEFAULT_MAX_BYTES

SUFFIXES = (".txt", ".html", ".htm", ".pdf", ".docx")
EXTRACTIONS = "extractions.jsonl"
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
    def close(self) -> None: ...


def _oxigraph(root: Path) -> Sink:
    from kg.stores.oxigraph_store import OxigraphSink

    return OxigraphSink(root / "rdf")


def _ladybug(root: Path) -> Sink:
    from kg.stores.ladybug_store import LadybugSink

    return LadybugSink(root / "graph.lbug")


# Store name → factory(build root). Order is write order; tests swap this for in-memory or failing sinks.
SINKS: dict[str, Callable[[Path], Sink]] = {"oxigraph": _oxigraph, "ladybug": _ladybug}


@dataclass(slots=True)
class BuildResult:
    out: Path
    ok: list[Path] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    extractions: list[Extraction] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def built(self) -> bool:
        """True when `out` now holds a new build (at least one report was read)."""
        return bool(self.ok)

    @property
    def viz(self) -> Path:
        return self.out / VIZ


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


def extraction_json(ex: Extraction) -> str:
    """One JSONL line: dataclass field order (stable), real characters, no whitespace to drift."""
    return json.dumps(dataclasses.asdict(ex), ensure_ascii=False, separators=(",", ":"))


def _coerce(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        arg = next(a for a in typing.get_args(tp) if a is not type(None))
        return _coerce(arg, value)
    if origin is list:
        (arg,) = typing.get_args(tp)
        return [_coerce(arg, v) for v in value]
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_dict(tp, value)
    return value


def from_dict(cls: type[Any], data: dict[str, Any]) -> Any:
    """Rebuild a (nested) model dataclass from `dataclasses.asdict` output; unknown keys are ignored.

    >>> from kg.model import Government
    >>> from_dict(Government, {"name": "岱山县", "level": "县", "extra": 1})
    Government(name='岱山县', level='县', code=None, invoked=False, prov=None)
    """
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls) if f.name in data]
    return cls(**{name: _coerce(hints[name], data[name]) for name in fields})


def load_extractions(out: Path) -> list[Extraction]:
    """Read a build's extractions back, so views can be redrawn without extracting again."""
    path = out / EXTRACTIONS if out.is_dir() or not out.suffix else out
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TownKGError(Code.UNREADABLE, "no build found here; run `kg build` first", str(path)) from None
    result = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            result.append(from_dict(Extraction, json.loads(line)))
        except (ValueError, TypeError, KeyError) as e:
            raise TownKGError(Code.CORRUPT, f"line {n} is not an extraction record ({_one_line(str(e))}); "
                              "rebuild with `kg build`", str(path)) from None
    return result


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


def _write_stores(root: Path, graph: Any, progress: Progress) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for i, (name, factory) in enumerate(SINKS.items()):
        progress("store", i, len(SINKS), name)
        try:
            sink = factory(root)
            try:
                sink.write(graph)
                counts[name] = dict(sink.counts())
            finally:
                sink.close()
        except TownKGError:
            raise
        except Exception as e:
            raise TownKGError(Code.STORE, f"{name} store failed: {type(e).__name__}: {_one_line(str(e))}",
                              str(root)) from e
    progress("store", len(SINKS), len(SINKS), "")
    return counts


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _noop(stage: str, done: int, total: int, item: str) -> None:
    """Default progress callback."""


def _validate(graph: Any, progress: Progress) -> dict[str, Any]:
    """SHACL verdict for the graph's RDF (what the Oxigraph sink stores), for summary.json["shacl"]."""
    from kg.rdf import SHAPES_PATH, graph_to_quads
    from kg.shacl import validate_quads
    from kg.stores.base import conformant

    progress("validate", 0, 1, SHAPES_PATH.name)
    try:
        verdict: dict[str, Any] = validate_quads(graph_to_quads(conformant(graph)[0])).to_dict()
    except Exception as e:  # a validator bug must not cost the build; the summary says what happened
        verdict = {"conforms": None, "error": _one_line(f"{type(e).__name__}: {e}")}
    progress("validate", 1, 1, SHAPES_PATH.name)
    return verdict


def build(paths: Sequence[Path | str], out: Path | str, *, progress: Progress | None = None,
          max_bytes: int = DEFAULT_MAX_BYTES, validate: bool = True) -> BuildResult:
    """Extract every report under `paths` and write a complete build to `out` (atomically).

    Returns which files were read and which failed (with reasons). Raises `TownKGError` only for
    whole-build problems (a store refused the graph), in which case `out` is untouched. With
    `validate`, the RDF is checked against ontology/shapes.ttl and the verdict stored as
    `summary["shacl"]` (violations are reported, not fatal: `kg validate` lists them).
    """
    from kg.graph import build_graph
    from kg.paragraphs import annotate_paragraphs
    from kg.summary import summarize
    from kg.viz import write_program_network

    started = time.perf_counter()
    report = progress or _noop
    out = Path(out)
    files, failed = expand_paths([Path(p) for p in paths], exclude=[out])
    result = BuildResult(out=out, failed=failed)
    for i, path in enumerate(files):
        report("extract", i, len(files), str(path))
        try:
            ex = _extract.extract_file(path, max_bytes=max_bytes)
        except TownKGError as e:
            result.failed.append((path, _one_line(f"{e.message} [{e.code.value}]")))
        except Exception as e:  # a bug on one file must not lose the other reports
            result.failed.append((path, _one_line(f"internal error {type(e).__name__}: {e} "
                                                  "(please report this file)")))
        else:
            result.ok.append(path)
            result.extractions.append(ex)
    report("extract", len(files), len(files), "")
    if not result.ok:
        result.summary = summarize([], result.failed, {})
        result.seconds = time.perf_counter() - started
        return result

    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _recover(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it 0700; the build should look like any mkdir
        with (tmp / EXTRACTIONS).open("w", encoding="utf-8", newline="\n") as fh:
            for ex in result.extractions:
                fh.write(extraction_json(ex) + "\n")
        graph = annotate_paragraphs(build_graph(result.extractions), result.extractions)
        counts = _write_stores(tmp, graph, report)
        report("viz", 0, 1, VIZ)
        write_program_network(graph, tmp / VIZ, extractions=result.extractions)  # paragraphs: co-occurrence
        report("viz", 1, 1, VIZ)
        result.summary = summarize(result.extractions, result.failed, counts)
        if validate:
            result.summary["shacl"] = _validate(graph, report)
        (tmp / SUMMARY).write_text(json.dumps(result.summary, ensure_ascii=False, indent=1) + "\n",
                                   encoding="utf-8")
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.seconds = time.perf_counter() - started
    return result
