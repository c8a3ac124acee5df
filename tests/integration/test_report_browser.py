"""The report in a real browser: headless Chromium loads the page with no console error,
exception or failed load, every chart image decodes, and a screenshot is taken.

Chromium is driven over the DevTools protocol (with the `websockets` client), which reports
uncaught exceptions, console.error calls and browser-side errors (failed loads, CSP
violations) as events, instead of scraping log output whose format changes between
versions. A deliberately broken page proves the detector catches what it should.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_report import AS_OF, GENERATED_AT, full_inputs  # noqa: E402

from ltv_pipeline.publish.report import render_report, write_report  # noqa: E402

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
if CHROMIUM is None:
    pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium); "
                "the browser check of the HTML report needs it", allow_module_level=True)
ws_client = pytest.importorskip("websockets.sync.client", reason="the `websockets` package drives Chromium over DevTools")

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


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            assert process.poll() is None and time.monotonic() < deadline, "Chromium did not start"
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        with ws_client.connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as socket:
            target = _call(socket, "Target.createTarget", {"url": "about:blank"}, [], None, 1)["targetId"]
            session = _call(socket, "Target.attachToTarget", {"targetId": target, "flatten": True}, [], None, 2)["sessionId"]
            tab = Page(socket, session)
            for domain in ("Page", "Runtime", "Log"):
                tab.call(f"{domain}.enable")
            yield tab
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_detector_catches_script_errors_and_failed_loads(page: Page, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text('<img src="missing.png"><script>console.error("bad");throw new Error("boom")</script>')
    page.open(broken.as_uri())
    text = "\n".join(page.errors())
    assert "boom" in text and "bad" in text and "ERR_FILE_NOT_FOUND" in text, text


def test_report_renders_without_console_errors(page: Page, tmp_path: Path) -> None:
    html = render_report(full_inputs(), as_of=AS_OF, generated_at=GENERATED_AT, title="Customer lifetime value report")
    report = write_report(html, tmp_path / "report.html")
    page.open(report.as_uri())
    assert page.errors() == []
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.clientWidth])")
    assert len(images) == 9 and all(done and natural >= 300 and shown >= 300 for done, natural, shown in images), images
    assert page.evaluate("document.title") == "Customer lifetime value report"
    width, height = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert width <= 1200, "the page scrolls sideways"
    shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                     clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
    screenshot = tmp_path / "report.png"
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size > 50_000
    print(f"screenshot: {screenshot}")
