"""The Dagster UI of the README (`make dagster`), checked the way a user meets it.

A real `dagster-webserver` serves the project's `workspace.yaml` (the same code location
`dagster dev` loads) from a throw-away DAGSTER_HOME, with the settings pointed at a
throw-away landing zone, lake and warehouse. Then:

- its GraphQL API (what the UI itself reads) must list every asset of `defs` in its group
  with a real description, every asset check, both jobs, both schedules and the sensor;
- headless Chromium opens the pages a user looks at (catalog, lineage, automation, jobs,
  code locations, an asset's checks), waits until the content has rendered, checks the
  text on screen, requires that the page logged no error (uncaught exception,
  console.error, failed load) and saves a screenshot under `test-reports/`.

The instance turns Dagster's telemetry off (the UI would otherwise load a script from
dagster.io, which fails offline and is an error in the console) and the first-visit
newsletter dialog (it would cover the screenshots).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cdp import CHROMIUM, chromium_page

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-reports"
LOCATION = "ltv_pipeline.definitions:defs"
"""The code location's name: workspace.yaml's module and attribute."""

# What the README promises a user of `make dagster` sees.
GROUPS = {"ingest", "marts", "prediction", "decisions", "publish"}
JOBS = {"daily_refresh", "weekly_retrain"}
SCHEDULES = {  # name: (job, cron)
    "daily_refresh_schedule": ("daily_refresh", "0 6 * * *"),
    "weekly_retrain_schedule": ("weekly_retrain", "0 2 * * 0"),
}
SENSORS = {"new_deliveries_sensor": "daily_refresh"}

STARTUP_TIMEOUT = 180.0
"""Seconds for the webserver to load the code location (about 20 s on 2 idle cores)."""
RENDER_TIMEOUT = 45.0


# ---- the webserver -------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """The definitions as Python loads them, to compare with what the server shows."""

    assets: dict[str, tuple[str | None, str]]  # "raw/orders": (group, description)
    checks: set[tuple[str, str]]  # ("raw/orders", "rows_accounted_for")
    jobs: set[str]
    schedules: dict[str, tuple[str, str]]
    sensors: dict[str, set[str]]


@dataclass(frozen=True)
class Webserver:
    url: str
    log: Path

    def graphql(self, query: str) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/graphql", data=json.dumps({"query": query}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


def _stop_group(process: subprocess.Popen, grace: float = 2.0) -> None:
    """Stop a process started with `start_new_session=True` and everything it started.

    The webserver's code server leaves a multiprocessing resource tracker behind, and a
    graceful shutdown takes about 7 s: ask politely, then kill what is left of the group.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=15)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _load_expected() -> Expected:
    from ltv_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    assets = {key.to_user_string(): (graph.get(key).group_name, graph.get(key).description or "")
              for key in graph.get_all_asset_keys()}
    return Expected(
        assets=assets,
        checks={(check.asset_key.to_user_string(), check.name) for check in graph.asset_check_keys},
        jobs={job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")},
        schedules={s.name: (s.job_name, s.cron_schedule) for s in defs.schedules},
        sensors={s.name: {t.job_name for t in s.targets} for s in defs.sensors},
    )


_LOCATION_STATUS = """{ workspaceOrError { __typename ... on PythonError { message }
  ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message stack } } } } } }"""


def _wait_until_loaded(server: Webserver, process: subprocess.Popen) -> None:
    """Until the code location has loaded: the HTTP port opens before that."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {process.returncode}:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"dagster-webserver did not load {LOCATION} within {STARTUP_TIMEOUT:.0f} s:\n{server.log_tail()}")
        try:
            workspace = server.graphql(_LOCATION_STATUS)["workspaceOrError"]
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
            continue
        assert workspace["__typename"] == "Workspace", workspace
        entries = {entry["name"]: entry for entry in workspace["locationEntries"]}
        assert set(entries) == {LOCATION}, f"workspace.yaml should define one code location, {LOCATION}: {entries}"
        entry = entries[LOCATION]
        if entry["loadStatus"] == "LOADED":
            loaded = entry["locationOrLoadError"]
            if loaded["__typename"] == "PythonError":
                pytest.fail(f"{LOCATION} failed to load in the webserver:\n{loaded['message']}\n{loaded['stack']}")
            return
        time.sleep(0.25)


@pytest.fixture(scope="module")
def expected() -> Expected:
    return _load_expected()


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Webserver]:
    root = tmp_path_factory.mktemp("dagster-ui")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LTV_", "DAGSTER_"))}
    env.update({
        "DAGSTER_HOME": str(home),
        # Nothing resolves settings when the code loads; the sensor would at a tick, and
        # whatever runs must never touch the repository's data/.
        "LTV_LANDING_DIR": str(root / "landing"),
        "LTV_LAKE_DIR": str(root / "lake"),
        "LTV_WAREHOUSE": str(root / "warehouse.duckdb"),
        "LTV_MODE": "demo",
        "PYTHONUNBUFFERED": "1",
    })
    server = Webserver(url=f"http://127.0.0.1:{_free_port()}", log=root / "webserver.log")
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dagster_webserver", "-w", str(REPO / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", server.url.rsplit(":", 1)[1]],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        request.getfixturevalue("expected")  # load defs here while the server loads them too
        _wait_until_loaded(server, process)
        yield server
    finally:
        _stop_group(process)


_REPOSITORY = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  ... on RepositoryLocation { repositories {
    jobs { name }
    schedules { name cronSchedule pipelineName executionTimezone scheduleState { status } }
    sensors { name targets { pipelineName } sensorState { status } }
    assetNodes { assetKey { path } groupName description isMaterializable
      assetChecksOrError { __typename ... on AssetChecks { checks { name } } } }
  } } } } } } }"""


@pytest.fixture(scope="module")
def repository(webserver: Webserver) -> dict[str, Any]:
    entries = webserver.graphql(_REPOSITORY)["workspaceOrError"]["locationEntries"]
    (repository,) = entries[0]["locationOrLoadError"]["repositories"]
    return repository


# ---- what the server reports ----------------------------------------------------------


def test_every_asset_is_listed_in_its_group_with_a_description(repository: dict[str, Any], expected: Expected) -> None:
    shown = {"/".join(node["assetKey"]["path"]): node for node in repository["assetNodes"]}
    assert set(shown) == set(expected.assets)
    assert {node["groupName"] for node in shown.values()} == GROUPS
    for key, node in shown.items():
        group, description = expected.assets[key]
        assert node["groupName"] == group, key
        assert node["isMaterializable"], f"{key} is not materializable in the UI"
        assert node["description"] == description, key
        text = (node["description"] or "").strip()
        # dagster-dbt's stand-in for a model without a description is "dbt model <name>"
        # followed by the raw SQL: that is not a description.
        assert text and not re.match(r"(dbt \w+ \w+\s*$|dbt \w+ \w+\s*\n|#### Raw SQL)", text), \
            f"{key} has no description of its own: {text[:80]!r}"


def test_asset_checks_are_listed(repository: dict[str, Any], expected: Expected) -> None:
    shown = set()
    for node in repository["assetNodes"]:
        checks = node["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", checks
        shown |= {("/".join(node["assetKey"]["path"]), check["name"]) for check in checks["checks"]}
    assert shown == expected.checks
    by_asset: dict[str, set[str]] = {}
    for key, name in shown:
        by_asset.setdefault(key, set()).add(name)
    # The three families of the README: GX suites and load accounting on the raw tables,
    # dbt tests on the marts, metric floors on the champion models.
    for source in ("orders", "customers", "marketing_spend", "support_tickets"):
        names = by_asset.get(f"raw/{source}", set())
        assert {"deliveries_readable", "rows_accounted_for"} <= names, source
        assert any(name.startswith("column_values_to_") for name in names), f"no GX expectation on raw/{source}"
    marts = [key for key in expected.assets if key.startswith("marts/")]
    assert marts and all(by_asset.get(key) for key in marts), [key for key in marts if not by_asset.get(key)]
    assert "champion_metric_floors" in by_asset.get("ltv_models", set())


def test_jobs_schedules_and_sensor_are_listed(repository: dict[str, Any], expected: Expected) -> None:
    # The README's cadences must be there as it describes them; anything added later must be
    # shown as defined too.
    jobs = {job["name"] for job in repository["jobs"] if not job["name"].startswith("__")}
    assert jobs == expected.jobs and JOBS <= jobs
    schedules = {s["name"]: s for s in repository["schedules"]}
    shown = {name: (s["pipelineName"], s["cronSchedule"]) for name, s in schedules.items()}
    assert shown == expected.schedules
    assert {name: shown.get(name) for name in SCHEDULES} == SCHEDULES
    assert all(s["executionTimezone"] == "UTC" and s["scheduleState"]["status"] == "STOPPED" for s in schedules.values())
    sensors = {s["name"]: s for s in repository["sensors"]}
    targets = {name: {t["pipelineName"] for t in s["targets"]} for name, s in sensors.items()}
    assert targets == expected.sensors
    assert {name: targets.get(name) for name in SENSORS} == {name: {job} for name, job in SENSORS.items()}
    assert all(s["sensorState"]["status"] == "STOPPED" for s in sensors.values())  # README: they start stopped


# ---- what a user sees in a browser ----------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium tab (tests/integration/cdp.py)."""
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium); "
                    "the browser check of the Dagster UI needs it")
    pytest.importorskip("websockets.sync.client", reason="the `websockets` package drives Chromium")
    with chromium_page(tmp_path_factory.mktemp("chromium-profile"), stop=_stop_group) as tab:
        yield tab


LOADING = re.compile(r"Loading(…|\.\.\.)")


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _display_name(key: str) -> str:
    return key.replace("/", " / ")


def _page_expectations(name: str, expected: Expected) -> list[str]:
    if name == "assets":
        # The catalog: every asset with its group and the start of its description.
        return [*GROUPS, *map(_display_name, expected.assets),
                *(_normalise(description)[:40] for _, description in expected.assets.values())]
    if name == "lineage":
        return sorted(GROUPS)
    if name == "automation":
        return [*expected.schedules, *expected.sensors, "Scheduled At 06:00 AM UTC", "Scheduled At 02:00 AM UTC, only on Sunday"]
    if name == "jobs":
        return sorted(expected.jobs)
    if name == "locations":
        return [LOCATION, "Loaded"]
    if name == "checks":
        return ["Checks (", *sorted(check for asset, check in expected.checks if asset == "raw/orders")]
    raise ValueError(name)


PAGES = {  # screenshot name: (path, viewport height); tall enough to render every row
    "assets": ("/assets", 2300),
    "lineage": ("/asset-groups", 900),
    "automation": ("/overview/automation", 900),
    "jobs": ("/jobs", 900),
    "locations": ("/locations", 900),
    "checks": ("/assets/raw/orders?view=checks", 1100),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_ui_page_renders_without_errors(name: str, browser: Any, webserver: Webserver, expected: Expected) -> None:
    path, height = PAGES[name]
    wanted = [_normalise(text) for text in _page_expectations(name, expected)]
    browser.call("Emulation.setDeviceMetricsOverride", width=1400, height=height, deviceScaleFactor=1, mobile=False)
    browser.open(webserver.url + path)
    deadline, missing = time.monotonic() + RENDER_TIMEOUT, wanted
    while time.monotonic() < deadline:
        time.sleep(0.25)
        text = _normalise(browser.evaluate("document.body ? document.body.innerText : ''"))
        missing = [item for item in wanted if item not in text]
        if not missing and not LOADING.search(text):  # statuses too, for the screenshot
            break
    time.sleep(0.5)  # let queries still in flight finish, then collect what they logged
    browser.evaluate("1")
    shot = browser.call("Page.captureScreenshot", format="png")
    SCREENSHOTS.mkdir(exist_ok=True)
    screenshot = SCREENSHOTS / f"dagster_ui_{name}.png"
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    assert not missing, f"{path} never showed {missing[:10]} ({len(missing)} missing); screenshot {screenshot}"
    assert browser.errors() == [], f"{path} logged errors; screenshot {screenshot}"
    assert "Unexpected GraphQL error" not in text and "Something went wrong" not in text, text[:2000]
