"""Materialise the whole asset graph in-process, as `ltv run` and `ltv demo` do.

The in-process executor saves a process start per step and runs one step at a time, so
only one step ever holds the DuckDB warehouse open. The run holds the lake's run
lock (run_lock.py) from start to end, so no other run writes the lake meanwhile; once it
has the lock it removes what a killed run's unfinished writes left behind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import remove_interrupted_writes
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.ingest.load_log import read_load_log
from ltv_pipeline.orchestration.run_lock import hold_lake


class PipelineFailed(RuntimeError):
    """A step failed; the message names it and the reason."""


@dataclass
class RunOutcome:
    settings: Settings
    load_log: pl.DataFrame
    """Load-log rows written by this run."""
    failed_checks: list[str]
    step_times: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Per Dagster step key, (start, end) as Unix timestamps, from the run's event log."""
    run_id: str = ""

    @property
    def rejected(self) -> pl.DataFrame:
        return self.load_log.filter(pl.col("status") == "rejected")


def _overrides(settings: Settings) -> dict[str, str]:
    """Pin every resolved setting so the run sees exactly what the CLI resolved."""
    out = {}
    for key, value in vars(settings).items():
        if value is None:
            continue
        out[key] = json.dumps(value) if isinstance(value, Mapping) else str(value)
    return out


def run_pipeline(
    settings: Settings, log_level: str = "INFO", *, holder: str = "run_pipeline", wait_seconds: float = 0.0
) -> RunOutcome:
    """Materialise every asset with `settings`; raise `PipelineFailed` if a step fails.

    Raises `LakeBusy` when another run holds the lake for longer than `wait_seconds`;
    `holder` is how this run is named to the runs that find the lake busy.
    """
    with hold_lake(settings, holder, wait_seconds):
        remove_interrupted_writes(settings)
        return _materialise(settings, log_level)


def _materialise(settings: Settings, log_level: str) -> RunOutcome:
    from ltv_pipeline.definitions import build_definitions

    started = datetime.now(UTC).replace(tzinfo=None)
    resource = SettingsResource(overrides=_overrides(settings))
    defs = build_definitions(resource)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [*defs.assets, *(defs.asset_checks or [])],  # type: ignore[list-item]
        resources={"settings": resource, **_extra_resources(defs)},
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        instance=instance,
    )
    if not result.success:
        failures = [f"{event.step_key}: {_root_cause(event)}" for event in result.all_events if event.is_step_failure]
        raise PipelineFailed("; ".join(failures) or "the run failed")
    skipped = skipped_steps(result)
    if skipped:
        # a step whose inputs were never produced (e.g. dbt reported no output for a model) is
        # a run that did not do its job, even though no step raised
        raise PipelineFailed(f"steps skipped because an upstream output is missing: {', '.join(skipped)}")
    failed_checks = [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
    ]
    log = read_load_log(layout.load_log_path(settings)).filter(pl.col("loaded_at") >= started)
    return RunOutcome(
        settings=settings, load_log=log, failed_checks=failed_checks,
        step_times=_step_times(instance, result.run_id), run_id=result.run_id,
    )


def skipped_steps(result: dg.ExecuteInProcessResult) -> list[str]:
    """The steps Dagster skipped because an input they need was never produced."""
    return sorted({event.step_key for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_SKIPPED})


def _step_times(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """(start, end) of every step that ran, from its STEP_START and STEP_SUCCESS/FAILURE events."""
    starts: dict[str, float] = {}
    times: dict[str, tuple[float, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            times[event.step_key] = (starts.get(event.step_key, entry.timestamp), entry.timestamp)
    return times


def _root_cause(event: dg.DagsterEvent) -> str:
    """The message of the step's own error, not of Dagster's wrappers around it (`Dagster...`
    classes): for an error raised from another (`raise LakeWriteError(...) from exc`), the one
    our code raised, which says what it was doing; its class is named without its module."""
    error = event.step_failure_data.error
    if error is None:
        return "failed"
    while error.cls_name.startswith("Dagster") and error.cause is not None:
        error = error.cause
    return re.sub(r"^(?:\w+\.)+(?=\w+: )", "", error.message.strip().splitlines()[0])


def _extra_resources(defs: dg.Definitions) -> dict[str, object]:
    return {k: v for k, v in (defs.resources or {}).items() if k != "settings"}
