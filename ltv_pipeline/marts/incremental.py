"""Whether a dbt build may be incremental, and the vars that say what changed since the last one.

A daily build on DuckDB redoes only the customers whose rows can have changed
(dbt_project/macros/incremental.sql). That is correct only on top of a build made with the
same SQL and vars and an earlier or equal as_of, so every successful build of all the
models records what it was made of next to the build warehouse
(`<warehouse>.build.state.json`; a build of a subset records nothing, since the models it
left out did not catch up), and the next build is incremental only when that record
matches; anything else (no record, another var, other SQL, an earlier as_of, another
engine) gets `--full-refresh`, and so does a build after a correction that moved an order
to another customer (`moved_orders`). A build that fails records nothing: after a failed
incremental build the next one redoes the same customers and more, and a full refresh
removes the record before it starts (`forget_builds`), so the one after a failed full
refresh is a full refresh too.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import atomic_write_bytes
from ltv_pipeline.core.layout import raw_table_files
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.marts.project import project_source_digest

CHANGE_SOURCES = ("orders", "customers")
"""The raw tables whose new rows make a customer's incremental rows change."""


@dataclass(frozen=True)
class BuildRecord:
    """What a successful build was made of."""

    as_of: str
    loaded_through: str | None
    """The latest `_loaded_at` of the raw tables the build read (ISO), None if they were empty."""
    fingerprint: str
    """Engine, vars other than as_of, and the dbt project's source digest."""


@dataclass(frozen=True)
class BuildPlan:
    """How to run the next `dbt build`."""

    full_refresh: bool
    reason: str
    record: BuildRecord
    """What this build is made of: written by `record_build` once it has succeeded."""
    previous: BuildRecord | None

    def dbt_args(self) -> list[str]:
        return ["--full-refresh"] if self.full_refresh else []

    def dbt_vars(self) -> dict[str, Any]:
        """`changed_since` and `previous_as_of` for an incremental build, nothing for a full one."""
        if self.full_refresh or self.previous is None or self.previous.loaded_through is None:
            return {}
        return {"changed_since": self.previous.loaded_through, "previous_as_of": self.previous.as_of}



def loaded_through(settings: Settings) -> datetime | None:
    """The latest `_loaded_at` over the raw tables whose changes the incremental models follow."""
    latest = [
        pl.scan_parquet(files).select(pl.col("_loaded_at").max()).collect().item()
        for source in CHANGE_SOURCES
        if (files := raw_table_files(settings, source))
    ]
    latest = [value for value in latest if value is not None]
    return max(latest) if latest else None


def moved_orders(settings: Settings, since: str) -> int:
    """Orders loaded after `since` that the last build's orders mart holds under another customer.

    The incremental models redo the customers of the new rows; the raw table keeps only an
    order's latest version, so the customer a correction took an order from would keep it
    in the marts too (a duplicate order, and a build that fails its tests from then on).
    Counted against the build warehouse before dbt opens it: one join of the new rows'
    keys with the mart's.
    """
    files = [str(f) for f in raw_table_files(settings, "orders")]
    if not files:
        return 0
    with duckdb.connect(str(layout.build_warehouse(settings)), read_only=True) as con:
        return con.execute(
            """
            select count(*)
            from marts.orders as built
            join (
                select cast(order_id as varchar) as order_id, cast(customer_id as varchar) as customer_id
                from read_parquet(?)
                where _loaded_at > cast(? as timestamp)
            ) as loaded
                on built.order_id = loaded.order_id
            where built.customer_id <> loaded.customer_id
            """,
            [files, since],
        ).fetchone()[0]


def fingerprint(settings: Settings, as_of: date) -> str:
    vars_ = {k: v for k, v in settings.dbt_vars(as_of).items() if k != "as_of"}
    return json.dumps({"engine": settings.engine, "vars": vars_, "dbt_project": project_source_digest()}, sort_keys=True)


def _read_record(path: Path) -> BuildRecord | None:
    """The record of the last build, re-formatted from parsed values (they end up in SQL),
    or None when missing or not a record of ours."""
    try:
        record = BuildRecord(**json.loads(path.read_text()))
        through = None if record.loaded_through is None else datetime.fromisoformat(record.loaded_through)
        return BuildRecord(
            as_of=date.fromisoformat(record.as_of).isoformat(),
            loaded_through=None if through is None else through.isoformat(sep=" "),
            fingerprint=str(record.fingerprint),
        )
    except (OSError, ValueError, TypeError):
        return None


def _moved_orders_reason(settings: Settings, since: str) -> str | None:
    """Why the orders mart cannot be updated incrementally since `since`, or None."""
    try:
        moved = moved_orders(settings, since)
    except duckdb.Error as exc:  # e.g. the mart was dropped by hand: rebuild it
        return f"the last build's orders mart could not be read ({str(exc).splitlines()[0]})"
    return f"{moved:,} order(s) loaded since the last build moved to another customer" if moved else None


def plan_build(settings: Settings, as_of: date) -> BuildPlan:
    """Full refresh or incremental, with the reason (logged by the dbt asset)."""
    through = loaded_through(settings)
    record = BuildRecord(
        as_of=as_of.isoformat(),
        loaded_through=None if through is None else through.isoformat(sep=" "),
        fingerprint=fingerprint(settings, as_of),
    )
    previous = _read_record(layout.build_state_path(settings)) if layout.build_warehouse(settings).exists() else None
    if settings.engine != "duckdb":
        reason = f"engine {settings.engine}: the models are tables, rebuilt whole"
    elif previous is None:
        reason = "no earlier successful build in this warehouse"
    elif previous.fingerprint != record.fingerprint:
        reason = "the dbt project or a var other than as_of changed since the last build"
    elif as_of < date.fromisoformat(previous.as_of):
        reason = f"as_of {as_of} is before the last build's {previous.as_of}"
    elif previous.loaded_through is None:
        reason = "the last build read no raw rows"
    elif (reason := _moved_orders_reason(settings, previous.loaded_through)) is None:
        return BuildPlan(False, f"incremental since the build as of {previous.as_of}", record, previous)
    return BuildPlan(True, reason, record, previous)


def forget_builds(settings: Settings) -> None:
    """No base for an incremental build until the next successful one: called before a full
    refresh, which replaces models one by one. Should it fail halfway, some models would be
    as of its as_of and others as of the recorded build's, and the next build, compared with
    the record alone, could be incremental on that mixture (e.g. after a rebuild as of an
    earlier day, back at the recorded day)."""
    layout.build_state_path(settings).unlink(missing_ok=True)


def record_build(settings: Settings, plan: BuildPlan) -> None:
    """Mark the build of `plan` as the base of the next incremental one (after it succeeded)."""
    atomic_write_bytes(json.dumps(asdict(plan.record), indent=2).encode(), layout.build_state_path(settings))
