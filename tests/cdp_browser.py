"""A tiny Chrome DevTools Protocol driver for headless Debian Chromium, for the visualization tests.

Why CDP rather than `--screenshot` on the command line: the tests must *prove* things about the page, not
just look at it — every network request the page makes (`Network.requestWillBeSent`, including ones that
fail), every console error and uncaught exception (`Runtime.*`, `Log.entryAdded`), the page's own readiness
flag, and canvas pixels for the glyph check. `websocket-client` is a small pure-Python wheel; playwright
would add a Node driver and wants to download its own browser.

The browser runs with the flags from NOTES-infra §6 plus `--host-resolver-rules=MAP * ~NOTFOUND`, so even
a request that slipped through could not reach the network (it is still *seen* and reported).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
         "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-port=0", "--window-size=1400,900")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
MISSING = ("chromium not found: run `make test`, which installs the Debian packages in the Makefile's "
           "SYSTEM_PACKAGES (chromium fonts-wqy-microhei), or set KG_CHROMIUM to a Chromium binary")


def find_chromium() -> str | None:
    """KG_CHROMIUM, else Debian's `chromium` (or another Chromium-family binary on PATH)."""
    env = os.environ.get("KG_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    return next((p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None)


class Browser:
    """One headless Chromium process and one flattened CDP websocket to it."""

    def __init__(self, exe: str, env: dict[str, str] | None = None, timeout: float = 30.0) -> None:
        import websocket  # websocket-client (dev extra)

        self.profile = tempfile.mkdtemp(prefix="kg-chromium-")
        self.timeout = timeout
        self.proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, **(env or {})}, start_new_session=True)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"chromium did not start (exit code {self.proc.returncode})")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        # No Origin header: Chromium only accepts origin-less clients without --remote-allow-origins.
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=timeout,
                                              suppress_origin=True)
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def open(self, url: str, width: int = 1400, height: int = 900) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.send(f"{domain}.enable", session=sid)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                          "deviceScaleFactor": 1, "mobile": False}, sid)
        self.send("Page.navigate", {"url": url}, sid)
        return Page(self, sid, target)

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group (start_new_session)
                    self.proc.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(self.proc.pid, signal.SIGKILL)
            shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab: evaluate JavaScript, wait for a condition, take a screenshot, read what it logged."""

    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.b, self.sid, self.target = browser, session, target

    def eval(self, expression: str) -> Any:
        r = self.b.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, self.sid)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> float:
        """Poll until `expression` is truthy; returns the seconds it took."""
        start = time.monotonic()
        while not self.eval(expression):
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"page never satisfied {expression!r} within {timeout:.0f} s")
            time.sleep(0.1)
        return time.monotonic() - start

    def screenshot(self, path: Path | None = None) -> bytes:
        png = base64.b64decode(self.b.send("Page.captureScreenshot", {"format": "png"}, self.sid)["data"])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)
        return png

    def _mine(self, method: str) -> list[dict[str, Any]]:
        self.eval("0")  # flush: events that arrived before this round trip are now recorded
        return [e["params"] for e in self.b.events if e.get("sessionId") == self.sid and e["method"] == method]

    def requests(self) -> list[str]:
        return [e["request"]["url"] for e in self._mine("Network.requestWillBeSent")]

    def outbound(self) -> list[str]:
        """Requests for anything but local schemes (file:, data:, blob:, about:) — must stay empty."""
        return [u for u in self.requests() if not u.startswith(LOCAL_SCHEMES)]

    def errors(self) -> list[str]:
        """Uncaught exceptions, console.error/assert calls and browser log entries at level error."""
        out = [f"exception: {e['exceptionDetails'].get('exception', {}).get('description') or e['exceptionDetails']}"
               for e in self._mine("Runtime.exceptionThrown")]
        out += [f"console.{e['type']}: {' '.join(str(a.get('value', a.get('description'))) for a in e['args'])}"
                for e in self._mine("Runtime.consoleAPICalled") if e["type"] in ("error", "assert")]
        out += [f"log: {e['entry'].get('text')} {e['entry'].get('url', '')}"
                for e in self._mine("Log.entryAdded") if e["entry"].get("level") == "error"]
        return out

    def close(self) -> None:
        self.b.send("Target.closeTarget", {"targetId": self.target})
