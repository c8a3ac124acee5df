"""Every run's version of the published tables, kept by as_of for `history_days`.

One Parquet file per table and as_of (`<lake>/published_history/<table>/as_of=<date>.parquet`),
written in the same staged commit as the latest tables, so a version is there whole or not
at all and a re-run of an as_of replaces that version only. Analysts read them through the
views `published.<table>_history` (every kept as_of, with the run that wrote it), which are
globs over the folder: they need no rewrite when a version is added or dropped.

Plain as_of files rather than a Delta table: DuckDB cannot load its Delta extension here (no
extension downloads), so a Delta history would reach analysts only through a view over the
current version's file list, rewritten at every commit; a version per file needs no
compaction (each is written once, whole) and vacuuming is deleting the files past the
retention window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings

_VERSION = re.compile(r"as_of=(\d{4}-\d{2}-\d{2})\.parquet")


def versioned(frame: pl.DataFrame, as_of: date, run_id: str) -> pl.DataFrame:
    """`frame` as kept in the history: with its `as_of` (added where the table has none) and
    the id of the run that published it."""
    if "as_of" not in frame.columns:
        frame = frame.with_columns(pl.lit(as_of, pl.Date).alias("as_of"))
    return frame.with_columns(pl.lit(run_id, pl.String).alias("run_id"))


def kept_versions(settings: Settings, table: str) -> dict[date, Path]:
    """The as_of of every kept version of `table`, with its file."""
    folder = layout.history_dir(settings, table)
    found = (_VERSION.fullmatch(p.name) for p in folder.glob("as_of=*.parquet")) if folder.exists() else ()
    return {date.fromisoformat(m.group(1)): folder / m.group(0) for m in found if m}


def expire_versions(settings: Settings, tables: Iterable[str]) -> list[Path]:
    """Delete the versions whose as_of is more than `history_days` before the newest kept
    one; returns the files deleted."""
    deleted = []
    for table in tables:
        versions = kept_versions(settings, table)
        if not versions:
            continue
        oldest_kept = max(versions) - timedelta(days=settings.history_days)
        for as_of, path in sorted(versions.items()):
            if as_of < oldest_kept:
                path.unlink(missing_ok=True)
                deleted.append(path)
    return deleted


def history_view_sql(settings: Settings, table: str) -> str:
    """The `published.<table>_history` view: every kept version's rows."""
    files = str(layout.history_dir(settings, table).resolve() / "as_of=*.parquet").replace("'", "''")
    return (
        f'create or replace view published."{table}_history" as '
        f"select * from read_parquet('{files}', union_by_name = true)"
    )
