"""Headless Chromium over the DevTools protocol, for the browser tests (report, Dagster UI).

The protocol reports uncaught exceptions, console.error calls and browser-side errors
(failed loads, CSP violations) as events, instead of log output whose format changes
between versions.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
"""The Chromium executable, or None when it is not installed (the browser tests then skip)."""

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--remote-debugging-port=0", "--window-size=1200,900"]


class Page:
    """One browser tab over the DevTools protocol; keeps every event it receives."""

    def __init__(self, socket: Any, session: str):
        self.socket, self.session, self.events = socket, session, []
        self.ids = itertools.count(1000)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return _call(self.socket, method, params, self.events, self.session, next(self.ids))

    def wait_for(self, method: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events):
            self.events.append(json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic()))))

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.call("Runtime.evaluate", expression="1")  # drain events queued before the load

    def errors(self) -> list[str]:
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"]["value"]


def _call(socket: Any, method: str, params: dict[str, Any], events: list[dict[str, Any]], session: str | None,
          message_id: int) -> dict[str, Any]:
    message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
    if session:
        message["sessionId"] = session
    socket.send(json.dumps(message))
    while True:
        reply = json.loads(socket.recv(timeout=20))
        if reply.get("id") == message_id:
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return reply["result"]
        events.append(reply)


@contextlib.contextmanager
def chromium_page(profile: Path, stop: Callable[[subprocess.Popen], None] | None = None) -> Iterator[Page]:
    """A fresh headless Chromium (its profile in `profile`) with one tab whose Page, Runtime
    and Log events are on; `stop` ends the browser (default: terminate and wait)."""
    from websockets.sync.client import connect

    assert CHROMIUM is not None, "Chromium is not installed"
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            assert process.poll() is None and time.monotonic() < deadline, "Chromium did not start"
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as socket:
            target = _call(socket, "Target.createTarget", {"url": "about:blank"}, [], None, 1)["targetId"]
            session = _call(socket, "Target.attachToTarget", {"targetId": target, "flatten": True}, [], None, 2)["sessionId"]
            tab = Page(socket, session)
            for domain in ("Page", "Runtime", "Log"):
                tab.call(f"{domain}.enable")
            yield tab
    finally:
        if stop is not None:
            stop(process)
        else:
            process.terminate()
            process.wait(timeout=10)
