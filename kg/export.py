"""`kg export`: write a build's graph as files for other tools, one registered exporter per `--format`.

`EXPORTERS` maps a format name to an `Exporter`; the CLI offers exactly its keys, so a new format is one
entry here (issue #5 adds `neo4j-csv` and `graphml` next to the RDF ones). An exporter gets the build
directory and the output path (None = stdout) and returns a one-line report of what it wrote.

The RDF formats go through rdflib's serializers, fed directly with terms from the build's Oxigraph store
(no re-parsing). `ttl` is the union of all named graphs (Turtle has no graphs); `trig`, `nq` and
`jsonld` keep one named graph per report plus the entities graph. Output is deterministic for a given
build, and a file is written atomically (temp file + rename).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kg.errors import Code, TownKGError
from kg.rdf import PREFIXES


@dataclass(frozen=True, slots=True)
class Exporter:
    help: str  # one line for `kg export --help`
    suffix: str  # conventional file suffix
    run: Callable[[Path, Path | None], str]  # (build dir, output file or None for stdout) → report


@contextmanager
def output(out: Path | None) -> Iterator[IO[bytes]]:
    """A binary stream to `out`, replaced atomically when the block succeeds; stdout when `out` is None."""
    if out is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as fh:
            yield fh
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def _to_rdflib(term: Any) -> Any:
    import rdflib
    from pyoxigraph import BlankNode, Literal, NamedNode

    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        dt = term.datatype.value
        # keep the lexical form exactly (normalize=False): 1.890 stays 1.890, as the store has it
        return rdflib.Literal(term.value, datatype=None if dt == PREFIXES["xsd"] + "string" else dt,
                              normalize=False)
    raise TownKGError(Code.STORE, f"cannot export RDF-star term {term}")


def rdflib_dataset(build_dir: Path) -> Any:
    """The build's named graphs as an rdflib Dataset, with the TownKG prefixes bound."""
    import rdflib
    from pyoxigraph import DefaultGraph, Store

    from kg.sparql import store_dir

    store = Store.read_only(str(store_dir(build_dir)))
    ds = rdflib.Dataset()
    for prefix, iri in PREFIXES.items():
        ds.bind(prefix, iri, override=True, replace=True)
    default = ds.default_graph
    graphs: dict[str, Any] = {}
    for q in store:
        if isinstance(q.graph_name, DefaultGraph):
            g = default
        else:
            g = graphs.get(q.graph_name.value)
            if g is None:
                g = graphs[q.graph_name.value] = ds.graph(rdflib.URIRef(q.graph_name.value))
        g.add((_to_rdflib(q.subject), _to_rdflib(q.predicate), _to_rdflib(q.object)))
    return ds


def _rdf(fmt: str, *, union: bool = False, sort_lines: bool = False) -> Callable[[Path, Path | None], str]:
    def run(build_dir: Path, out: Path | None) -> str:
        import rdflib

        ds = rdflib_dataset(build_dir)
        graphs = sum(1 for c in ds.graphs() if c.identifier != rdflib.graph.DATASET_DEFAULT_GRAPH_ID)
        if union:  # Turtle has no named graphs: one graph with every distinct triple
            g = rdflib.Graph(bind_namespaces="none")
            for prefix, iri in PREFIXES.items():
                g.bind(prefix, iri, override=True, replace=True)
            for s, p, o, _ in ds.quads((None, None, None, None)):
                g.add((s, p, o))
            data, count = g.serialize(format=fmt, encoding="utf-8"), len(g)
            what = f"{count} triples (union of {graphs} graphs)"
        else:
            kwargs: dict[str, Any] = {"context": dict(PREFIXES), "auto_compact": True} \
                if fmt == "json-ld" else {}
            with warnings.catch_warnings():  # rdflib's own TriG serializer calls its deprecated contexts()
                warnings.simplefilter("ignore", DeprecationWarning)
                data = ds.serialize(format=fmt, encoding="utf-8", **kwargs)
            count = sum(1 for _ in ds.quads((None, None, None, None)))
            what = f"{count} quads in {graphs} named graphs"
        if sort_lines:  # N-Quads: one statement per line, sorted so two exports of one build are equal
            data = b"".join(sorted(ln for ln in data.splitlines(keepends=True) if ln.strip()))
        with output(out) as fh:
            fh.write(data)
        return f"{what} as {fmt} to {out or 'stdout'}"

    return run


def _pg(name: str) -> Callable[[Path, Path | None], str]:
    """A property-graph exporter from kg.pg_export, imported only when used."""

    def run(build_dir: Path, out: Path | None) -> str:
        from kg import pg_export

        return str(getattr(pg_export, name)(build_dir, out))

    return run


# Format name → exporter.
EXPORTERS: dict[str, Exporter] = {
    "ttl": Exporter("Turtle, all graphs merged", ".ttl", _rdf("turtle", union=True)),
    "trig": Exporter("TriG, one named graph per report + entities", ".trig", _rdf("trig")),
    "nq": Exporter("N-Quads, sorted lines", ".nq", _rdf("nquads", sort_lines=True)),
    "jsonld": Exporter("JSON-LD with named graphs, compacted with the TownKG prefixes", ".jsonld",
                       _rdf("json-ld")),
    "neo4j-csv": Exporter("a directory (--out DIR) of node and relationship CSVs for neo4j-admin database "
                          "import, with import.sh", "", _pg("neo4j_csv")),
    "graphml": Exporter("GraphML property graph (Gephi, networkx)", ".graphml", _pg("graphml")),
}


def export(fmt: str, build_dir: Path, out: Path | None = None) -> str:
    """Write the build in `fmt` to `out` (stdout if None); returns what was written, in one line."""
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise TownKGError(Code.NOT_YET, f"unknown export format {fmt!r} (choose from {', '.join(EXPORTERS)})")
    return exporter.run(build_dir, out)
