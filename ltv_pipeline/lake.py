"""Reading and writing the Parquet lake: atomic writes and the run's analysis date.

Every file is written to a temporary name in the same folder and renamed into place,
so a reader (or a run killed half-way) only ever sees the previous or the new version.
"""

from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path

import polars as pl

from ltv_pipeline.settings import Settings


def atomic_write_parquet(df: pl.DataFrame, path: Path) -> Path:
    """Write `df` to `path` so that the file is either the old one or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        df.write_parquet(tmp, compression="zstd", statistics=True)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def raw_table_path(settings: Settings, source: str) -> Path:
    """The single consolidated Parquet file holding a source's current raw records."""
    return settings.raw_dir(source) / f"{source}.parquet"


def resolve_as_of(settings: Settings) -> date:
    """The analysis date: the configured `as_of`, else the date of the latest loaded order."""
    if settings.as_of is not None:
        return settings.as_of
    path = raw_table_path(settings, "orders")
    if not path.exists():
        raise FileNotFoundError(f"no raw orders at {path}: load orders before resolving as_of")
    latest = pl.scan_parquet(path).select(pl.col("order_ts").max()).collect().item()
    if latest is None:
        raise ValueError(f"{path} holds no orders: set as_of explicitly")
    return latest.date()
