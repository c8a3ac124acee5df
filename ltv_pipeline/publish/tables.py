"""Write the published tables: Parquet under `<lake>/published/`, and `published.*` in DuckDB."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

from ltv_pipeline.lake import atomic_write_parquet
from ltv_pipeline.settings import Settings

PUBLISHED_TABLES: tuple[str, ...] = (
    "customer_scores",
    "segment_summary",
    "channel_budget_allocation",
    "retention_targets",
    "model_evaluation",
    "model_parameters",
)
"""The contract's table names (section 5); identifiers are only ever taken from here."""


def published_path(settings: Settings, table: str) -> Path:
    return settings.published_dir / f"{table}.parquet"


def publish_tables(settings: Settings, tables: Mapping[str, pl.DataFrame]) -> dict[str, Path]:
    """Publish `tables` in one go: each Parquet file atomically, the DuckDB tables in one transaction."""
    unknown = set(tables) - set(PUBLISHED_TABLES)
    if unknown:
        raise ValueError(f"not a published table of the contract: {sorted(unknown)}")
    paths = {name: atomic_write_parquet(df, published_path(settings, name)) for name, df in tables.items()}
    build = settings.build_warehouse
    build.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(build)) as con:
        con.execute("create schema if not exists published")
        con.execute("begin transaction")
        for name, df in tables.items():
            con.register("incoming", df.to_arrow())
            con.execute(f'create or replace table published."{name}" as select * from incoming')
            con.unregister("incoming")
        con.execute("commit")
    return paths
