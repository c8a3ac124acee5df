"""The report in a real browser: headless Chromium loads the page with no console error,
exception or failed load, every chart image decodes, and a screenshot is taken.

Chromium is driven over the DevTools protocol (with the `websockets` client), which reports
uncaught exceptions, console.error calls and browser-side errors (failed loads, CSP
violations) as events, instead of scraping log output whose format changes between
versions. A deliberately broken page proves the detector catches what it should.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from cdp import CHROMIUM, Page, chromium_page  # noqa: E402
from test_report import AS_OF, GENERATED_AT, full_inputs  # noqa: E402

from ltv_pipeline.publish.report import render_report, write_report  # noqa: E402

if CHROMIUM is None:
    pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium); "
                "the browser check of the HTML report needs it", allow_module_level=True)
pytest.importorskip("websockets.sync.client", reason="the `websockets` package drives Chromium over DevTools")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with chromium_page(tmp_path_factory.mktemp("chromium-profile")) as tab:
        yield tab


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
