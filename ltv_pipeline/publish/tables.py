"""Write the published tables: Parquet under `<lake>/published/`, and `published.*` in DuckDB."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import LakeWriteError, StagedWrites
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.marts.snapshot import stage_warehouse_snapshot

PUBLISHED_TABLES: tuple[str, ...] = (
    "customer_scores",
    "segment_summary",
    "channel_budget_allocation",
    "retention_targets",
    "model_evaluation",
    "model_parameters",
)
"""The contract's table names (section 5); identifiers are only ever taken from here."""



def publish_tables(settings: Settings, tables: Mapping[str, pl.DataFrame]) -> dict[str, Path]:
    """Publish `tables` all together or not at all, and hand readers the new warehouse.

    The Parquet files and the copy of the build warehouse (with `published.*` written into
    it in one transaction) are staged first, then renamed over the readers' files in one go:
    when the disk fills up or the lake is read-only half-way, the readers keep the previous
    tables, in Parquet and in the warehouse alike, rather than new Parquet files next to an
    old warehouse.
    """
    unknown = set(tables) - set(PUBLISHED_TABLES)
    if unknown:
        raise ValueError(f"not a published table of the contract: {sorted(unknown)}")
    with StagedWrites() as staged:
        paths = {name: staged.parquet(df, layout.published_path(settings, name)) for name, df in tables.items()}
        _write_published_schema(layout.build_warehouse(settings), tables)
        stage_warehouse_snapshot(settings, staged)
        staged.commit()
    return paths


def _write_published_schema(build: Path, tables: Mapping[str, pl.DataFrame]) -> None:
    """Replace `published.*` of the build warehouse in one transaction."""
    build.parent.mkdir(parents=True, exist_ok=True)
    try:
        with duckdb.connect(str(build)) as con:
            con.execute("create schema if not exists published")
            con.execute("begin transaction")
            for name, df in tables.items():
                con.register("incoming", df.to_arrow())
                con.execute(f'create or replace table published."{name}" as select * from incoming')
                con.unregister("incoming")
            con.execute("commit")
    except duckdb.Error as exc:
        raise LakeWriteError(build, exc) from exc
