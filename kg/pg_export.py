"""Property-graph exports (`kg export --format neo4j-csv|graphml`), registered in `kg.export.EXPORTERS`.

Both start from the build's extractions (`extractions.jsonl` → `kg.graph.build_graph` → the part every
store keeps, `kg.stores.base.conformant`), so they hold exactly the nodes and relationships of the
build's LadybugDB and of `kg load neo4j`. Property types are those of the LadybugDB tables
(`kg.stores.ladybug_store.columns_for`), so every column has one type.

* `neo4j-csv` is the fast path for very large graphs: a directory of `nodes_<Label>.csv` and
  `relationships_<TYPE>.csv` with `neo4j-admin database import` headers (`id:ID`, typed properties such
  as `year:long`, `:LABEL`; `:START_ID`, `:END_ID`, `:TYPE`), plus `import.sh` with the exact command.
* `graphml` is for Gephi and networkx: node attributes `labels` (":Town", as Neo4j writes it), `label`
  (the name, what Gephi displays) and the properties; edge attribute `label` (the type) and properties.
"""

from __future__ import annotations

import csv
import io
import shlex
from pathlib import Path
from typing import Any

from kg.errors import Code, TownKGError
from kg.graph import EDGE_TYPES, LABELS, PropertyGraph

# LadybugDB column type → neo4j-admin header type (STRING is the default and stays bare).
NEO4J_TYPES = {"STRING": "", "INT64": ":long", "DOUBLE": ":double", "BOOLEAN": ":boolean"}
ADMIN_ID, ADMIN_LABEL, ADMIN_START, ADMIN_END, ADMIN_TYPE = "id:ID", ":LABEL", ":START_ID", ":END_ID", ":TYPE"


def build_property_graph(build_dir: Path) -> PropertyGraph:
    """The graph a build's stores hold, rebuilt from its extractions."""
    from kg.aggregates import add_aggregates
    from kg.build import load_extractions
    from kg.graph import build_graph
    from kg.paragraphs import annotate_paragraphs
    from kg.stores.base import conformant

    extractions = load_extractions(build_dir)
    return conformant(add_aggregates(annotate_paragraphs(build_graph(extractions), extractions)))[0]


def _typed(pg: PropertyGraph) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    from kg.stores.ladybug_store import columns_for

    return columns_for(pg)


def _value(value: Any, typ: str) -> Any:
    from kg.stores.ladybug_store import coerce

    return coerce(value, typ)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def write_neo4j_csv(pg: PropertyGraph, out: Path) -> tuple[list[Path], list[Path], bool]:
    """Write node and relationship CSVs into `out`; returns (node files, relationship files, multiline)."""
    node_cols, edge_cols = _typed(pg)
    out.mkdir(parents=True, exist_ok=True)
    node_files, rel_files, multiline = [], [], False

    def write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
        nonlocal multiline
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            cells = [_csv_cell(v) for v in row]
            multiline = multiline or any(isinstance(c, str) and ("\n" in c or "\r" in c) for c in cells)
            w.writerow(cells)
        path.write_text(buf.getvalue(), encoding="utf-8")

    for label in LABELS:
        nodes = sorted((n for n in pg.nodes.values() if n.label == label), key=lambda n: n.id)
        if not nodes:
            continue
        cols = node_cols[label]
        header = [ADMIN_ID, *(c + NEO4J_TYPES[t] for c, t in cols.items()), ADMIN_LABEL]
        rows = [[n.id, *(_value(n.props.get(c), t) for c, t in cols.items()), label] for n in nodes]
        path = out / f"nodes_{label}.csv"
        write(path, header, rows)
        node_files.append(path)
    for etype in EDGE_TYPES:
        edges = sorted((e for e in pg.edges.values() if e.type == etype), key=lambda e: e.key)
        if not edges:
            continue
        cols = edge_cols[etype]
        header = [ADMIN_START, ADMIN_END, ADMIN_TYPE, *(c + NEO4J_TYPES[t] for c, t in cols.items())]
        rows = [[e.src, e.dst, etype, *(_value(e.props.get(c), t) for c, t in cols.items())] for e in edges]
        path = out / f"relationships_{etype}.csv"
        write(path, header, rows)
        rel_files.append(path)
    return node_files, rel_files, multiline


def import_command(node_files: list[Path], rel_files: list[Path], multiline: bool,
                   database: str = "neo4j") -> str:
    """The `neo4j-admin database import full` command line for these files (Neo4j 5)."""
    args = ["neo4j-admin", "database", "import", "full"]
    args += [f"--nodes={p.name}" for p in node_files]
    args += [f"--relationships={p.name}" for p in rel_files]
    if multiline:
        args.append("--multiline-fields=true")
    args += ["--overwrite-destination", database]
    return " ".join(shlex.quote(a) for a in args)


def neo4j_csv(build_dir: Path, out: Path | None) -> str:
    """Exporter: the CSV directory and its `import.sh`."""
    if out is None:
        raise TownKGError(Code.QUERY, "neo4j-csv writes a directory of CSV files: pass --out DIR")
    if out.exists() and not out.is_dir():
        raise TownKGError(Code.UNREADABLE, "exists and is not a directory", str(out))
    pg = build_property_graph(build_dir)
    nodes, rels, multiline = write_neo4j_csv(pg, out)
    cmd = import_command(nodes, rels, multiline)
    script = out / "import.sh"
    script.write_text("#!/bin/sh\n# Stop Neo4j first; this replaces the database `neo4j`.\n"
                      f'cd "$(dirname "$0")" && {cmd}\n', encoding="utf-8")
    script.chmod(0o755)
    return (f"{len(pg.nodes)} nodes in {len(nodes)} files and {len(pg.edges)} relationships in {len(rels)} "
            f"files as neo4j-admin CSV to {out}/ (load with {script})")


def to_networkx(pg: PropertyGraph) -> Any:
    """A networkx MultiDiGraph with typed attributes (GraphML needs one type per attribute)."""
    import networkx as nx

    node_cols, edge_cols = _typed(pg)
    g = nx.MultiDiGraph()
    for n in sorted(pg.nodes.values(), key=lambda n: n.id):
        cols = node_cols[n.label]
        attrs = {c: _value(n.props.get(c), t) for c, t in cols.items()}
        attrs = {k: v for k, v in attrs.items() if v is not None}
        g.add_node(n.id, **attrs, labels=f":{n.label}", label=str(n.props.get("name") or n.id))
    for e in sorted(pg.edges.values(), key=lambda e: e.key):
        cols = edge_cols[e.type]
        attrs = {c: _value(e.props.get(c), t) for c, t in cols.items()}
        g.add_edge(e.src, e.dst, **{k: v for k, v in attrs.items() if v is not None}, label=e.type)
    return g


def graphml(build_dir: Path, out: Path | None) -> str:
    """Exporter: one GraphML document (stdout when `out` is None)."""
    import networkx as nx

    from kg.export import output

    g = to_networkx(build_property_graph(build_dir))
    with output(out) as fh:
        for line in nx.generate_graphml(g, encoding="utf-8", prettyprint=True):
            fh.write((line + "\n").encode("utf-8"))
    return (f"{g.number_of_nodes()} nodes and {g.number_of_edges()} relationships as GraphML to "
            f"{out or 'stdout'}")
