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


def atomic_write_bytes(data: bytes, path: Path) -> Path:
    """Write `data` to `path` so that the file is either the old one or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def raw_table_path(settings: Settings, source: str) -> Path:
    """The consolidated Parquet file of a source's raw table (see `raw_table_files`)."""
    return settings.raw_dir(source) / f"{source}.parquet"


PART_INFIX = ".part-"


def raw_part_path(settings: Settings, source: str, number: int) -> Path:
    """The `number`-th part appended to a source's raw table since its last consolidation."""
    return settings.raw_dir(source) / f"{source}{PART_INFIX}{number:06d}.parquet"


def raw_table_files(settings: Settings, source: str) -> list[Path]:
    """Every Parquet file of a source's raw table: the consolidated file, then its parts.

    A load that only adds records (the daily case) appends them as a part instead of
    rewriting the table; corrections of stored records and every `MAX_PARTS`-th part
    consolidate the table into one file again (ingest/table.py). Each record is in exactly
    one file, so the table is the union of the files: dbt reads `raw/<source>/*.parquet`.
    """
    base = raw_table_path(settings, source)
    parts = sorted(settings.raw_dir(source).glob(f"{source}{PART_INFIX}*.parquet"))
    return ([base] if base.exists() else []) + parts


def scan_raw_table(settings: Settings, source: str) -> pl.LazyFrame:
    """The whole raw table of `source` (every file of it), lazily; raises if it has no file."""
    files = raw_table_files(settings, source)
    if not files:
        raise FileNotFoundError(f"no raw {source} table under {settings.raw_dir(source)}: load {source} first")
    return pl.scan_parquet(files)


def read_raw_table(settings: Settings, source: str) -> pl.DataFrame:
    return scan_raw_table(settings, source).collect()


def resolve_as_of(settings: Settings) -> date:
    """The analysis date: the configured `as_of`, else the date of the latest loaded order."""
    if settings.as_of is not None:
        return settings.as_of
    path = raw_table_path(settings, "orders")
    if not raw_table_files(settings, "orders"):
        raise FileNotFoundError(f"no raw orders at {path}: load orders before resolving as_of")
    latest = scan_raw_table(settings, "orders").select(pl.col("order_ts").max()).collect().item()
    if latest is None:
        raise ValueError(f"{path} holds no orders: set as_of explicitly")
    return latest.date()
