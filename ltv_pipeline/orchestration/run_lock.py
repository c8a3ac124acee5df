"""One run at a time per lake: an exclusive lock on `<lake>/_meta/run.lock`.

Two runs on one lake at once would interleave their writes: one run's dbt reading raw
files the other is replacing, two publish steps handing readers warehouses built from
different data in turn. So `ltv run`, `ltv demo` and `ltv forget` (runner.py, cli.py) and
every Dagster run (through `lake_locked_executor`) hold this lock from start to end; a
second one fails at once with the holder's name, or waits for it a bounded time.

It is an `flock`: the kernel releases it when the holding process exits, however it exits,
so a run killed with SIGKILL never leaves a stale lock behind. The file keeps the last
holder's description for the message; its content is never what locks. (flock is advisory
and not shared between machines on some network file systems: keep the lake on a local
disk, or on one whose locks are shared.)
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import dagster as dg

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import LakeWriteError, remove_interrupted_writes
from ltv_pipeline.core.settings import Settings

POLL_SECONDS = 0.2


class LakeBusy(RuntimeError):
    """Another run holds the lake's run lock; the message names it."""



_held: set[Path] = set()
"""Locks this process holds: `ltv demo` holds its lake's lock while it clears the demo folder,
then runs the pipeline, which asks for the same lock again and gets it at once."""


@contextmanager
def hold_lake(settings: Settings, holder: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the run lock of `settings.lake_dir` for the `with` block.

    Raises `LakeBusy` when another process holds it for longer than `wait_seconds`, and
    `LakeWriteError` when the lock file cannot be written (a read-only or full lake): a run
    that cannot record its lock could not write anything else either.
    """
    path = layout.lock_path(settings).absolute()
    if path in _held:
        yield
        return
    with _open(path) as fh:
        _acquire(fh, path, settings.lake_dir, wait_seconds)
        _record(fh, path, holder)
        _held.add(path)
        try:
            yield
        finally:
            _held.discard(path)
    # closing the file released the lock


def _open(path: Path) -> IO[str]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LakeWriteError(path, exc) from exc
    return os.fdopen(descriptor, "r+", encoding="utf-8")


def _acquire(fh: IO[str], path: Path, lake: Path, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                waited = f" (waited {wait_seconds:g} s)" if wait_seconds > 0 else ""
                raise LakeBusy(f"another run is using the lake {lake}{waited}: {_describe_holder(path)}") from None
            time.sleep(POLL_SECONDS)


def _record(fh: IO[str], path: Path, holder: str) -> None:
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    record = {"holder": holder, "pid": os.getpid(), "host": socket.gethostname(), "started": started}
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(record) + "\n")
        fh.flush()
    except OSError as exc:
        raise LakeWriteError(path, exc) from exc


def _describe_holder(path: Path) -> str:
    """Who holds the lock, from its file: "ltv run, pid 4242 on host-1, started 2026-11-23 16:30:01 UTC"."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return f"{record['holder']}, pid {record['pid']} on {record['host']}, started {record['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown (see the lock file)"


class _LakeLockedExecutor(dg.Executor):
    """Dagster's executor for the run, wrapped in the lake's run lock (see `lake_locked_executor`)."""

    def __init__(self, inner: dg.Executor):
        self._inner = inner

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan):
        settings = _run_settings(plan_context)
        holder = f"Dagster run {plan_context.run_id} of job {plan_context.job_name}"
        with hold_lake(settings, holder):
            remove_interrupted_writes(settings)
            yield from self._inner.execute(plan_context, execution_plan)


def _run_settings(plan_context) -> Settings:
    """The settings this run's `settings` resource resolves to (its code default, as the run's
    config may override it), resolved here, where the run starts, before any step."""
    resource_def = plan_context.job.get_definition().resource_defs["settings"]
    resource_config = dict(plan_context.run_config.get("resources") or {})
    config = {"settings": resource_config["settings"]} if "settings" in resource_config else None
    with dg.build_resources({"settings": resource_def}, resource_config=config) as resources:
        return resources.settings.get()


def _locked_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    return _LakeLockedExecutor(dg.multi_or_in_process_executor.executor_creation_fn(init_context))


lake_locked_executor = dg.ExecutorDefinition(
    name="lake_locked_executor",
    config_schema=dg.Field(dg.multi_or_in_process_executor.config_schema.config_type, default_value={"in_process": {}}),
    requirements=dg.multi_or_in_process_executor.get_requirements,
    executor_creation_fn=_locked_executor,
    description=(
        "Dagster's executor (in_process by default, as `ltv run`; multiprocess by config), run while holding "
        "the lake's run lock: a run does not start while `ltv run` or another Dagster run uses the same lake."
    ),
)
"""The executor of every Dagster run of the pipeline: the root `Definitions` sets it, so the
scheduled jobs, the sensor's runs and materialisations from the UI all take the lock in the
run's own process, for the whole run, before any step starts. A run that finds the lake in
use fails at once with the holder's name (and can be re-executed from the UI).

In process by default, as `ltv run` runs: a step process costs seconds of start-up, and
the steps share one warehouse they may not write at once anyway. A run's launch config can still ask for `multiprocess`."""
