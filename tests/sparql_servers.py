"""Real SPARQL servers for the suite: `oxigraph serve` and Virtuoso, on free loopback ports in a temp dir.

Context managers, not fixtures, so any test module can wrap them in a fixture of the scope it needs.
Each starts the server, waits until its HTTP endpoint answers, yields the endpoint URLs and stops the
process by its PID. A missing binary is a test *failure* with the command that installs it, never a skip:
CI must not go green without having talked to the servers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# Virtuoso's own configuration for the tests: everything under DIR, loopback only, small buffers.
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
ServerThreads = 10
CheckpointInterval = 0
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
DirsAllowed = ., {dir}
ThreadCleanupInterval = 0
ResourcesCleanupInterval = 0

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}/www
ServerThreads = 10
MaxClientConnections = 10
KeepAliveTimeout = 10

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 400
DefaultGraph = urn:townkg:default
"""


@dataclass(frozen=True, slots=True)
class SparqlServer:
    """Endpoint URLs of a running server, in the shape `kg load sparql` takes them."""

    name: str
    query: str
    update: str
    graph_store: str
    pid: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_port_url(path: str = "/query") -> str:
    """A loopback URL nothing listens on (for the server-down tests)."""
    return f"http://127.0.0.1:{free_port()}{path}"


def _binary(name: str, install: str) -> str:
    here = Path(sys.executable).parent / name  # the venv's bin first (pip-installed oxigraph)
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"`{name}` not found: {install}", pytrace=False)
    return found


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            pytest.fail(f"server exited with {proc.returncode} before answering {url}\n{tail}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server did not answer {url} within {timeout:.0f} s", pytrace=False)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def oxigraph_server(workdir: Path) -> Iterator[SparqlServer]:
    """`oxigraph serve --location WORKDIR/db --bind 127.0.0.1:PORT` (the `oxigraph` pip package)."""
    exe = _binary("oxigraph", "install the dev extras (`make test`, or .venv/bin/pip install -e '.[dev]')")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "oxigraph.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, "serve", "--location", str(workdir / "db"), "--bind", f"127.0.0.1:{port}"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/query?query=ASK%7B%7D", proc, 30, log)
        yield SparqlServer("oxigraph", f"{base}/query", f"{base}/update", f"{base}/store", proc.pid)
    finally:
        _stop(proc)


@contextmanager
def virtuoso_server(workdir: Path) -> Iterator[SparqlServer]:
    """Virtuoso (Debian virtuoso-minimal) from VIRTUOSO_INI, with the one GRANT SPARQL updates need."""
    how = ("install Debian's virtuoso-minimal: `sudo apt-get install --no-install-recommends "
           "virtuoso-minimal` (`make test` does it when run as root)")
    exe, isql = _binary("virtuoso-t", how), _binary("isql-vt", how)
    sql_port, http_port = free_port(), free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "www").mkdir(exist_ok=True)
    ini = workdir / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=workdir, sql_port=sql_port, http_port=http_port), encoding="utf-8")
    log = workdir / "virtuoso.log"
    with (workdir / "stdout.log").open("wb") as out:
        proc = subprocess.Popen([exe, "+configfile", str(ini), "+foreground"], cwd=workdir, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env={**os.environ})
    base = f"http://127.0.0.1:{http_port}"
    try:
        _wait_http(f"{base}/sparql?query=ASK%7B%7D", proc, 90, log)
        grant = subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                               capture_output=True, text=True, timeout=60)
        if grant.returncode != 0:
            pytest.fail(f"isql-vt GRANT failed: {grant.stdout} {grant.stderr}", pytrace=False)
        yield SparqlServer("virtuoso", f"{base}/sparql", f"{base}/sparql", f"{base}/sparql-graph-crud", proc.pid)
    finally:
        _stop(proc)
