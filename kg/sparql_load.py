"""`kg load sparql`: push a build's named graphs to any SPARQL 1.1 server, replacing each graph.

Loading is idempotent because every graph is *replaced*, never merged: the first batch of a graph is a
Graph Store Protocol `PUT` (or, without a graph store URL, `DROP SILENT GRAPH` + `INSERT DATA` in one
update request) and the following batches are appends (`POST` / `INSERT DATA`). Batches stay small
(`batch_triples`, default 1,000) because Virtuoso refuses larger update requests ("SP030 memory
exhausted", NOTES-infra §4).

No graph is ever left half-written (issue 9): a graph that fits one request is replaced by that one
request; a bigger one is written batch by batch into a *staging* graph (`urn:townkg:loading:<hash>`, outside
the TownKG graph namespace) and then swapped in with one `MOVE` update, so a server that stops or a load
that is killed midway leaves each report graph either as it was or complete. A staging graph left by a
killed load holds a copy of the graph being loaded; the next load of that graph replaces and moves it.
Without an update endpoint that accepts `MOVE` (Graph Store Protocol only), big graphs are written in
place, and an interrupted load is repaired by loading again.

Each report has its own graph, and the shared entities graph is replaced by this build's entities; a
report graph on the server that this build no longer has is left alone (drop it yourself).
After loading, the triples per graph are counted on the query endpoint and compared with what was sent.

Every failure (server down, refused, 401/403, HTTP error) is a one-line `TownKGError` (E201).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, RdfFormat, Store, Triple, serialize

from kg.errors import Code, TownKGError
from kg.rdf import ENTITIES_GRAPH, GRAPH_BASE, PREFIXES

DEFAULT_BATCH = 1000
STAGING_BASE = "urn:townkg:loading:"
_XSD = PREFIXES["xsd"]
_NUMERIC = {_XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger")}
# progress(triples sent so far, total triples, graph IRI being loaded)
LoadProgress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class Target:
    """Where to load: the query endpoint, plus update and Graph Store Protocol endpoints when they differ."""

    endpoint: str
    update_endpoint: str | None = None  # default: `endpoint` (Virtuoso /sparql, Fuseki /ds)
    graph_store: str | None = None  # GSP endpoint; when set, graphs are written with PUT/POST
    user: str | None = None
    password: str | None = None
    timeout: float = 120.0

    @property
    def method(self) -> str:
        return "graph store protocol" if self.graph_store else "SPARQL update"


@dataclass(slots=True)
class LoadResult:
    graphs: int = 0
    triples: int = 0
    requests: int = 0
    seconds: float = 0.0
    method: str = ""
    expected: dict[str, int] = field(default_factory=dict)  # graph IRI → triples sent
    on_server: dict[str, int] = field(default_factory=dict)  # graph IRI → triples counted afterwards
    in_place: int = 0  # graphs too big for one request written in place (no update endpoint for MOVE)
    dropped: int = 0  # report graphs of earlier loads that this build no longer has (`prune`)

    @property
    def mismatched(self) -> list[str]:
        return [g for g, n in self.expected.items() if self.on_server.get(g) != n]

    def line(self) -> str:
        held = sum(self.on_server.get(g, 0) for g in self.expected)
        return (f"Loaded {self.graphs} graphs, {self.triples} triples in {self.requests} requests "
                f"({self.method}, {self.seconds:.1f} s); the server holds {held} triples in them"
                + (f"; dropped {self.dropped} report graph(s) the build no longer has"
                   if self.dropped else ""))


def build_graphs(build_dir: Path) -> dict[str, list[Triple]]:
    """A build's named graphs from its Oxigraph store: entities first, then reports in IRI order."""
    from kg.sparql import store_dir

    store = Store.read_only(str(store_dir(build_dir)))
    graphs: dict[str, list[Triple]] = {}
    for q in store:
        if isinstance(q.graph_name, DefaultGraph):
            continue  # a build writes named graphs only; default-graph triples (manual updates) stay local
        graphs.setdefault(q.graph_name.value, []).append(Triple(q.subject, q.predicate, q.object))
    order = sorted(graphs, key=lambda g: (g != ENTITIES_GRAPH.value, g))
    return {g: sorted(graphs[g], key=str) for g in order}


def _one_line(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Client:
    """One HTTP session to a server: keep-alive; credentials sent the way the server's 401 challenge asks.

    Virtuoso's /sparql-auth wants Digest and answers a Basic attempt with a bare 401 (no challenge), so
    the first request goes without credentials and the challenge picks Basic or Digest for the session.
    """

    def __init__(self, target: Target) -> None:
        import requests

        self.target = target
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "townkg"
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def send(self, method: str, url: str, ok: tuple[int, ...] = (), **kwargs: Any) -> Any:
        """One request; any failure (but the statuses in `ok`) becomes a one-line E201 naming the server."""
        import requests

        try:
            resp = self.http.request(method, url, timeout=self.target.timeout, **kwargs)
            if resp.status_code == 401 and self.target.user is not None and self.http.auth is None:
                digest = resp.headers.get("WWW-Authenticate", "").lower().startswith("digest")
                scheme = requests.auth.HTTPDigestAuth if digest else requests.auth.HTTPBasicAuth
                self.http.auth = scheme(self.target.user, self.target.password or "")
                resp = self.http.request(method, url, timeout=self.target.timeout, **kwargs)
        except requests.ConnectionError as e:
            reason = "connection refused" if "refused" in str(e).lower() else _one_line(str(e), 160)
            raise TownKGError(Code.STORE, f"cannot reach the SPARQL server ({reason}); is it running?",
                              url) from None
        except requests.Timeout:
            raise TownKGError(Code.STORE, f"no answer within {self.target.timeout:g} s", url) from None
        except requests.RequestException as e:
            raise TownKGError(Code.STORE, f"request failed: {_one_line(str(e), 160)}", url) from None
        self.requests += 1
        if resp.status_code in ok:
            return resp
        if resp.status_code == 401:
            hint = "wrong --user/--password" if self.target.user else "pass --user and --password"
            raise TownKGError(Code.STORE, f"the server refused the request: HTTP 401 Unauthorized ({hint})",
                              url)
        if resp.status_code == 403:
            raise TownKGError(Code.STORE, "the server refused the request: HTTP 403 Forbidden (the account "
                              "may not write; on Virtuoso: GRANT SPARQL_UPDATE TO \"SPARQL\")", url)
        if resp.status_code >= 400:
            body = _one_line(resp.text) if resp.text else resp.reason
            raise TownKGError(Code.STORE, f"the server refused the request: HTTP {resp.status_code}: {body}",
                              url)
        return resp

    def update(self, text: str) -> None:
        url = self.target.update_endpoint or self.target.endpoint
        self.send("POST", url, data=text.encode("utf-8"),
                  headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def put_graph(self, graph: str, triples: Sequence[Triple], *, replace: bool) -> None:
        """GSP: PUT replaces the graph, POST appends to it (N-Triples body)."""
        assert self.target.graph_store
        self.send("PUT" if replace else "POST", self.target.graph_store, params={"graph": graph},
                  data=serialize(triples, format=RdfFormat.N_TRIPLES) or b"",
                  headers={"Content-Type": "application/n-triples"})

    def select(self, query: str) -> list[dict[str, Any]]:
        """A SELECT on the query endpoint, as plain Python values (numbers as numbers)."""
        resp = self.send("POST", self.target.endpoint, data={"query": query},
                         headers={"Accept": "application/sparql-results+json"})
        try:
            data = resp.json()
            return [{k: _value(v) for k, v in b.items()} for b in data["results"]["bindings"]]
        except (ValueError, KeyError, TypeError):
            raise TownKGError(Code.STORE, "the query endpoint did not answer with SPARQL JSON results "
                              "(is --endpoint the query URL?)", self.target.endpoint) from None


def _value(binding: dict[str, str]) -> Any:
    """One SPARQL-JSON binding as Python (also accepts Virtuoso's SPARQL 1.0 `typed-literal`)."""
    value, dt = binding.get("value", ""), binding.get("datatype", "")
    if binding.get("type") == "bnode":
        return "_:" + value
    if dt in _NUMERIC:
        try:
            return int(value) if dt.endswith(("integer", "int", "long", "Integer")) else float(value)
        except ValueError:
            return value
    return value


def insert_data(graph: str, triples: Iterable[Triple]) -> str:
    """INSERT DATA for one graph (N-Triples terms are valid SPARQL terms)."""
    body = (serialize(list(triples), format=RdfFormat.N_TRIPLES) or b"").decode("utf-8")
    return f"INSERT DATA {{ GRAPH <{graph}> {{\n{body}}} }}"


def staging_graph(graph: str) -> str:
    """Where a graph too big for one request is assembled before it is moved into place.

    >>> staging_graph("https://townkg.org/graph/entities")
    'urn:townkg:loading:b4679820f1789993'
    """
    return STAGING_BASE + hashlib.sha256(graph.encode("utf-8")).hexdigest()[:16]


def _write(client: Client, graph: str, batches: Sequence[Sequence[Triple]]) -> None:
    """Replace `graph` with the batches, in place: PUT/POST, or DROP+INSERT DATA then INSERT DATA."""
    for n, batch in enumerate(batches):
        if client.target.graph_store:
            client.put_graph(graph, batch, replace=n == 0)
        elif n == 0:
            client.update(f"DROP SILENT GRAPH <{graph}> ;\n" + insert_data(graph, batch))
        else:
            client.update(insert_data(graph, batch))


def replace_graph(client: Client, graph: str, batches: Sequence[Sequence[Triple]]) -> bool:
    """Replace one graph so that it is never seen half-written; False when it had to be written in place.

    One batch is one request (atomic on the server). More are staged and moved in with one update; a
    server whose update endpoint refuses the MOVE (Graph Store Protocol without an update endpoint) gets
    the graph written in place and the staging copy deleted.
    """
    if len(batches) <= 1:
        _write(client, graph, batches or [[]])
        return True
    stage = staging_graph(graph)
    _write(client, stage, batches)
    try:
        client.update(f"MOVE SILENT GRAPH <{stage}> TO GRAPH <{graph}>")
        return True
    except TownKGError as e:
        if not client.target.graph_store or "HTTP 4" not in e.message:
            raise
    _write(client, graph, batches)
    client.send("DELETE", client.target.graph_store, params={"graph": stage}, ok=(404,))
    return False


def count_graphs(client: Client, graphs: Sequence[str], chunk: int = 200) -> dict[str, int]:
    """Triples per named graph on the server (graphs it does not have are absent)."""
    out: dict[str, int] = {}
    for i in range(0, len(graphs), chunk):
        values = " ".join(f"<{g}>" for g in graphs[i:i + chunk])
        rows = client.select(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                             "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        out.update({str(r["g"]): int(r["n"]) for r in rows})
    return out


def stale_report_graphs(client: Client, keep: Iterable[str]) -> list[str]:
    """TownKG report graphs on the server that are not in `keep` (found by their tk:Report: an index lookup,
    not a scan of every quad)."""
    rows = client.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?r a <{PREFIXES['tk']}Report> }} "
                         f'FILTER(STRSTARTS(STR(?g), "{GRAPH_BASE}")) }}')
    return sorted({str(r["g"]) for r in rows} - set(keep))


def drop_graphs(client: Client, graphs: Sequence[str], chunk: int = 50) -> None:
    for i in range(0, len(graphs), chunk):
        client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs[i:i + chunk]))


def load_graphs(graphs: dict[str, Sequence[Triple]], target: Target, *, batch_triples: int = DEFAULT_BATCH,
                progress: LoadProgress | None = None, prune: bool = True) -> LoadResult:
    """Replace each named graph on the server with the given triples, in batches; verify the counts.

    With `prune`, report graphs an earlier load left that are not among `graphs` (changed or removed
    reports: a report's graph is named by its content hash) are dropped afterwards, so the server holds
    exactly this build's report graphs."""
    if batch_triples < 1:
        raise TownKGError(Code.STORE, "--batch-triples must be at least 1")
    started = time.perf_counter()
    total = sum(len(t) for t in graphs.values())
    result = LoadResult(method=target.method, expected={g: len(set(t)) for g, t in graphs.items()})
    client = Client(target)
    done = 0
    try:
        client.select("SELECT * WHERE { } LIMIT 1")  # fail fast (down, 401, wrong URL) before writing
        for graph, triples in graphs.items():
            if progress:
                progress(done, total, graph)
            batches = [triples[i:i + batch_triples] for i in range(0, len(triples), batch_triples)]
            try:
                if not replace_graph(client, graph, batches):
                    result.in_place += 1
            except TownKGError as e:
                where = f"graph {result.graphs + 1} of {len(graphs)} ({graph})"
                rest = ("the others (this one included) are as they were" if not result.in_place else
                        "graphs written in place (no MOVE on this server) may be partial")
                raise TownKGError(e.code, f"{e.message}; stopped at {where}: {result.graphs} graph(s) were "
                                  f"replaced, {rest}; loading again finishes the job", e.path) from None
            done += len(triples)
            if progress:
                progress(done, total, graph)
            result.graphs += 1
            result.triples += len(triples)
        if prune:
            stale = stale_report_graphs(client, graphs)
            drop_graphs(client, stale)
            result.dropped = len(stale)
        result.on_server = count_graphs(client, list(graphs))
    finally:
        result.requests = client.requests
        client.close()
    result.seconds = time.perf_counter() - started
    return result


def load_build(build_dir: Path, target: Target, *, batch_triples: int = DEFAULT_BATCH,
               progress: LoadProgress | None = None, prune: bool = True) -> LoadResult:
    """`kg load sparql`: every named graph of a build to the server (and, with `prune`, no other report's)."""
    return load_graphs(build_graphs(build_dir), target, batch_triples=batch_triples, progress=progress,
                       prune=prune)

