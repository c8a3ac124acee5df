"""One run at a time per lake: the run lock, between `ltv` commands and Dagster runs.

Every holder here is another real process (a Python holding the lock, `ltv`, `dagster job
execute` running a job with the lake-locked executor), and the lock is an flock, so the
cases are the real ones: a second run fails at once naming the first, or waits a bounded
time; a holder killed with SIGKILL leaves no stale lock. Holding the lock, a run knows no
write is in progress and removes the temporary files of writes a killed run left.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from ltv_process import BIN, Process, ltv_env

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import StagedWrites
from ltv_pipeline.core.settings import Settings, load_settings
from ltv_pipeline.orchestration.run_lock import LakeBusy, hold_lake

LOCATION = Path(__file__).resolve().parents[2] / "ltv_pipeline" / "definitions.py"
ORDERS = "order_id,customer_id,order_ts,revenue\nO1,C1,2025-01-01,10\nO2,C2,2025-01-02,5\n"
TIMEOUT = 600.0
"""Seconds for a command to start and fail (loading Dagster and dbt takes a while on busy cores)."""


def _settings(root: Path) -> Settings:
    return load_settings(env={}, cwd=root, overrides={"landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb"})


def _landing(root: Path) -> Path:
    (root / "landing" / "orders").mkdir(parents=True)
    (root / "landing" / "orders" / "orders.csv").write_text(ORDERS)
    return root / "landing"


def _holder(settings: Settings, seconds: float = 600.0) -> Process:
    """Another process that takes the lake's lock, says so, and holds it for `seconds`."""
    code = textwrap.dedent(f"""
        import time
        from ltv_pipeline.orchestration.run_lock import hold_lake
        from ltv_pipeline.core.settings import load_settings
        settings = load_settings(env={{}}, overrides={{"lake_dir": {str(settings.lake_dir)!r}}})
        with hold_lake(settings, "the holder of the test"):
            print("holding", flush=True)
            time.sleep({seconds})
    """)
    holder = Process([str(BIN / "python"), "-c", code], ltv_env(settings.lake_dir, settings.warehouse), cwd=settings.lake_dir.parent)
    deadline = time.monotonic() + TIMEOUT
    while "holding" not in holder.lines:
        assert holder.popen.poll() is None and time.monotonic() < deadline, holder.tail()
        time.sleep(0.05)
    return holder


def _ltv(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "ltv"), *args], env=ltv_env(settings.lake_dir, settings.warehouse), cwd=settings.lake_dir.parent,
        capture_output=True, text=True, timeout=TIMEOUT,
    )


def _lock_record(settings: Settings) -> dict:
    try:
        return json.loads(layout.lock_path(settings).read_text())
    except (OSError, ValueError):
        return {}


def test_a_second_ltv_run_fails_at_once_naming_the_run_that_holds_the_lake(tmp_path: Path):
    settings = _settings(tmp_path)
    landing = _landing(tmp_path)
    holder = _holder(settings)
    try:
        started = time.monotonic()
        done = _ltv(settings, "run", "--landing", str(landing), "--as-of", "2025-01-31")
        waited = time.monotonic() - started
        with_wait = _ltv(settings, "run", "--landing", str(landing), "--wait", "2")
    finally:
        holder.stop()
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"ltv: error: another run is using the lake {settings.lake_dir}: the holder of the test, "
        f"pid {holder.popen.pid} on {os.uname().nodename}, started {_lock_record(settings)['started']}"
    ]
    assert waited < TIMEOUT / 2
    assert "(waited 2 s): the holder of the test" in with_wait.stderr and with_wait.returncode == 2
    assert sorted(p.name for p in settings.lake_dir.iterdir()) == ["_meta"]  # nothing loaded


def test_a_run_that_waits_starts_as_soon_as_the_holder_ends(tmp_path: Path):
    settings = _settings(tmp_path)
    holder = _holder(settings, seconds=1.0)
    try:
        with pytest.raises(LakeBusy, match="the holder of the test"):
            with hold_lake(settings, "impatient"):
                pass
        started = time.monotonic()
        with hold_lake(settings, "patient", wait_seconds=60):
            assert time.monotonic() - started < 30
            assert _lock_record(settings)["holder"] == "patient"
    finally:
        holder.stop()


def test_a_holder_killed_with_sigkill_leaves_no_stale_lock(tmp_path: Path):
    settings = _settings(tmp_path)
    holder = _holder(settings)
    holder.kill()
    assert _lock_record(settings)["pid"] == holder.popen.pid  # its record stays, but does not lock
    with hold_lake(settings, "next run"):
        assert _lock_record(settings)["holder"] == "next run"


def test_ltv_demo_does_not_empty_a_folder_whose_lake_is_in_use(tmp_path: Path):
    root = tmp_path / "demo"
    settings = _settings(root)
    (root / "precious.txt").parent.mkdir(parents=True)
    (root / "precious.txt").write_text("a running demo's file")
    holder = _holder(settings)
    try:
        done = _ltv(settings, "demo", "--dir", str(root), "--customers", "100")
    finally:
        holder.stop()
    assert done.returncode == 2 and "another run is using the lake" in done.stderr
    assert (root / "precious.txt").exists() and not (root / "landing").exists()


def test_the_next_run_removes_the_temporary_files_of_writes_a_killed_run_left(tmp_path: Path):
    settings = _settings(tmp_path)
    killed = StagedWrites()  # staged and never committed nor closed: a run killed in between
    killed.data(b"half a table", layout.raw_dir(settings, "orders") / "orders.parquet")
    killed.data(b"half a warehouse", settings.warehouse)
    left = sorted(tmp_path.rglob(".*.tmp"))
    assert len(left) == 2
    (settings.lake_dir / ".keep").write_text("not ours")
    done = _ltv(settings, "run", "--landing", str(tmp_path / "no-landing"))
    assert done.returncode == 2 and "orders are required" in done.stderr  # it ran, and failed on its input
    assert not any(path.exists() for path in left) and (settings.lake_dir / ".keep").exists()


# ---- Dagster runs ---------------------------------------------------------------------


def _dagster_job(settings: Settings, root: Path, job: str = "daily_refresh") -> Process:
    """`dagster job execute` of a job of the code location, as a run launched from the UI or a
    schedule executes it: with the job's executor, in its own process."""
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = ltv_env(settings.lake_dir, settings.warehouse, DAGSTER_HOME=str(home), LTV_LANDING_DIR=str(settings.landing_dir))
    argv = [str(BIN / "dagster"), "job", "execute", "-f", str(LOCATION), "-a", "defs", "-j", job]
    return Process(argv, env, cwd=root)


def test_a_dagster_run_does_not_start_while_an_ltv_run_holds_the_lake(tmp_path: Path):
    settings = _settings(tmp_path)
    _landing(tmp_path)
    holder = _holder(settings)
    try:
        run = _dagster_job(settings, tmp_path)
        code = run.finish(TIMEOUT)
    finally:
        holder.stop()
    assert code != 0
    assert f"LakeBusy: another run is using the lake {settings.lake_dir}: the holder of the test" in run.output
    assert not run.started, f"steps ran: {sorted(run.started)}"
    assert sorted(p.name for p in settings.lake_dir.iterdir()) == ["_meta"]


def test_ltv_run_fails_while_a_dagster_run_holds_the_lake_which_a_sigkill_frees(tmp_path: Path):
    from ltv_pipeline.synthetic import generate_business

    settings = _settings(tmp_path)
    generate_business(settings.landing_dir, n_customers=200, seed=3)  # enough for the run to last
    run = _dagster_job(settings, tmp_path)
    try:
        deadline = time.monotonic() + TIMEOUT
        while _lock_record(settings).get("pid") != run.popen.pid:
            assert run.popen.poll() is None and time.monotonic() < deadline, run.tail()
            time.sleep(0.1)
        record = _lock_record(settings)
        done = _ltv(settings, "run", "--landing", str(settings.landing_dir))
        still_running = run.popen.poll() is None
        run.kill()
    finally:
        run.stop()
    assert record["holder"].startswith("Dagster run ") and record["holder"].endswith(" of job daily_refresh")
    assert still_running, "the Dagster run ended before `ltv run` tried: the case was not tested"
    assert done.returncode == 2
    assert f"another run is using the lake {settings.lake_dir}: {record['holder']}, pid {run.popen.pid}" in done.stderr
    with hold_lake(settings, "after the kill"):
        pass
