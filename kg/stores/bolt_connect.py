"""Bolt connections for `kg.stores.bolt_store`: one driver per process, one-line errors, server detection.

Why it looks like this (NOTES-infra §1):
* One cached driver per (uri, user, password) for the process, closed at exit: FalkorDB's Bolt server
  hangs handshakes when connections come and go, and a long-lived driver never hits that.
* After any client says GOODBYE, FalkorDB never answers the next handshake (the one after works), so a
  throwaway handshake goes first, and connecting retries once more on a handshake timeout; connection
  acquisition gives up after 5 s either way.
* Every failure to connect is a `TownKGError` (E201) in one line: not a Bolt URI, bad credentials,
  unreachable server, or a server that refuses the login (FalkorDB refuses any password generically).
* FalkorDB answers Bolt as "Neo4j/5.13.0", so the server is told apart by procedures, not the agent.
"""

from __future__ import annotations

import atexit
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import neo4j
from neo4j import exceptions as nex

from kg import __version__
from kg.errors import Code, TownKGError

ACQUIRE_TIMEOUT = 5.0
_DRIVERS: dict[tuple[str, str, str], neo4j.Driver] = {}


def one_line(e: BaseException) -> str:
    """The driver's message without its line breaks: every CLI error is one line."""
    msg = getattr(e, "message", None) or str(e) or type(e).__name__
    return " ".join(str(msg).split())


def _close_all() -> None:
    for d in _DRIVERS.values():
        d.close()
    _DRIVERS.clear()


atexit.register(_close_all)


SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
# Bolt handshake: magic, then four version proposals (5.0–5.4, 4.2–4.4, none, none).
_HANDSHAKE = bytes.fromhex("6060b017" "00040405" "00020404" "00000000" "00000000")


def absorb_dropped_handshake(uri: str, timeout: float = 0.5) -> None:
    """Spend FalkorDB's dropped handshake on a throwaway socket, so the driver's own one goes through.

    After any client says GOODBYE, FalkorDB's Bolt server never answers the next handshake; the one after
    works. A plain handshake costs a healthy server ~1 ms. TLS URIs are left alone (no plain handshake).
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("bolt", "neo4j") or not parts.hostname:
        return
    try:
        with socket.create_connection((parts.hostname, parts.port or 7687), timeout=timeout) as s:
            s.sendall(_HANDSHAKE)
            s.recv(4)
    except OSError:
        pass  # refused/unreachable/timeout: the driver reports it (or, after a timeout, gets through)


def driver(uri: str, user: str = "neo4j", password: str = "") -> neo4j.Driver:
    """The process's driver for (uri, user, password), connected and verified; errors are one line.

    An empty password connects without credentials (FalkorDB, or Neo4j with auth disabled).
    """
    key = (uri, user, password)
    if key in _DRIVERS:
        return _DRIVERS[key]
    auth = (user, password) if password else None
    if urlsplit(uri).scheme not in SCHEMES:
        raise TownKGError(Code.STORE, f"not a Bolt URI; use one of {', '.join(s + '://' for s in SCHEMES)}",
                          uri)
    absorb_dropped_handshake(uri)
    try:
        d = neo4j.GraphDatabase.driver(uri, auth=auth, connection_acquisition_timeout=ACQUIRE_TIMEOUT,
                                       connection_timeout=ACQUIRE_TIMEOUT, max_transaction_retry_time=15,
                                       user_agent=f"townkg/{__version__}")
    except (nex.ConfigurationError, ValueError) as e:
        raise TownKGError(Code.STORE, f"not a Bolt URI ({one_line(e)}); use bolt://HOST:7687 or "
                          "neo4j://HOST:7687", uri) from None
    try:
        for attempt in range(3):
            try:
                d.verify_connectivity()
                break
            except nex.ServiceUnavailable as e:  # FalkorDB: retry a handshake it dropped
                if "handshake" not in str(e) or attempt == 2:
                    raise
    except nex.AuthError as e:
        d.close()
        raise TownKGError(Code.STORE, f"authentication failed for user {user!r}: {one_line(e)}",
                          uri) from None
    except (nex.ServiceUnavailable, nex.SessionExpired, OSError) as e:
        d.close()
        raise TownKGError(Code.STORE, f"cannot reach a Bolt server: {one_line(e)}", uri) from None
    except nex.Neo4jError as e:  # FalkorDB refuses logins with a generic DatabaseError
        d.close()
        raise TownKGError(Code.STORE, f"the server refused the login as {user!r}: {one_line(e)} (check "
                          "--user/--password; FalkorDB accepts only an empty password)", uri) from None
    _DRIVERS[key] = d
    return d


@dataclass(frozen=True, slots=True)
class ServerInfo:
    kind: str  # "neo4j", "falkordb" or "bolt" (something else speaking Bolt)
    agent: str
    version: str = ""
    edition: str = ""

    @property
    def constraints(self) -> bool:
        return self.kind == "neo4j"


def detect(session: neo4j.Session, agent: str) -> ServerInfo:
    """Which server this is: FalkorDB claims to be Neo4j in its agent string, so ask procedures."""
    try:
        rows = session.run("CALL dbms.components() YIELD name, versions, edition "
                           "RETURN name, versions, edition").data()
        if rows and "neo4j" in str(rows[0]["name"]).lower():
            return ServerInfo("neo4j", agent, ",".join(rows[0]["versions"] or []), rows[0]["edition"] or "")
    except nex.Neo4jError:
        pass
    try:
        names = [r["name"] for r in session.run("CALL dbms.procedures() YIELD name RETURN name").data()]
        if any(str(n).startswith(("db.idx.", "algo.")) for n in names):
            return ServerInfo("falkordb", agent)
    except nex.Neo4jError:
        pass
    return ServerInfo("bolt", agent)
