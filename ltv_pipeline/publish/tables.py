"""Write the published tables: Parquet under `<lake>/published/` and their version under
`<lake>/published_history/`, and `published.*` (with the `_history` views) in DuckDB."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import LakeWriteError, StagedWrites, atomic_write_parquet
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.marts.snapshot import stage_warehouse_snapshot
from ltv_pipeline.publish.history import expire_versions, history_view_sql, kept_versions, versioned

PUBLISHED_TABLES: tuple[str, ...] = (
    "customer_scores",
    "segment_summary",
    "channel_budget_allocation",
    "retention_targets",
    "model_evaluation",
    "model_parameters",
)
"""The contract's table names (section 5); identifiers are only ever taken from here. Each
keeps a version per as_of, read through `published.<table>_history`."""
TRACKING_TABLES: tuple[str, ...] = ("prediction_tracking",)
"""The contract's tracking tables built so far: each run's is already over time, so no history."""


def publish_tables(settings: Settings, tables: Mapping[str, pl.DataFrame], *, as_of: date, run_id: str) -> dict[str, Path]:
    """Publish `tables` and their version for `as_of` all together or not at all (but for a
    table's very first version), hand readers the new warehouse, then drop the versions past
    `history_days`.

    The Parquet files (latest and version) and the copy of the build warehouse (with
    `published.*` written into it in one transaction) are staged first, then renamed over
    the readers' files in one go: when the disk fills up or the lake is read-only half-way,
    the readers keep the previous tables, in Parquet and in the warehouse alike, rather
    than new Parquet files next to an old warehouse.
    """
    unknown = set(tables) - set(PUBLISHED_TABLES) - set(TRACKING_TABLES)
    if unknown:
        raise ValueError(f"not a published table of the contract: {sorted(unknown)}")
    kept = [name for name in tables if name in PUBLISHED_TABLES]
    # The `_history` views need a file to bind to: a table's very first version (there is no
    # older one to keep consistent with) is written before the others are staged.
    first = [name for name in kept if not kept_versions(settings, name)]
    for name in first:
        atomic_write_parquet(versioned(tables[name], as_of, run_id), layout.history_path(settings, name, as_of))
    with StagedWrites() as staged:
        paths = {name: staged.parquet(df, layout.published_path(settings, name)) for name, df in tables.items()}
        for name in set(kept) - set(first):
            staged.parquet(versioned(tables[name], as_of, run_id), layout.history_path(settings, name, as_of))
        _write_published_schema(settings, tables, kept)
        stage_warehouse_snapshot(settings, staged)
        staged.commit()
    expire_versions(settings, kept)
    return paths


def _write_published_schema(settings: Settings, tables: Mapping[str, pl.DataFrame], kept: list[str]) -> None:
    """Replace `published.*` of the build warehouse (and the `_history` views of the `kept`
    tables) in one transaction."""
    build = layout.build_warehouse(settings)
    build.parent.mkdir(parents=True, exist_ok=True)
    try:
        with duckdb.connect(str(build)) as con:
            con.execute("create schema if not exists published")
            con.execute("begin transaction")
            for name, df in tables.items():
                con.register("incoming", df.to_arrow())
                con.execute(f'create or replace table published."{name}" as select * from incoming')
                con.unregister("incoming")
            for name in kept:
                con.execute(history_view_sql(settings, name))
            con.execute("commit")
    except duckdb.Error as exc:
        raise LakeWriteError(build, exc) from exc
