"""Deliveries on disk: per-period files in rotating formats, byte-for-byte reproducible.

Why rotate formats: ingestion must handle CSV, CSV.gz and Parquet, so every source gets
all three. Why so careful with bytes: a delivery's identity is its content hash, so the
same seed must give the same bytes (gzip without mtime or name, Parquet with fixed
settings and no timestamps in its metadata).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

FORMATS = ("csv", "csv.gz", "parquet")
PARQUET_ROW_GROUP = 262_144
GZIP_LEVEL = 1
"""Fast over small: gzip's default level dominates the generation time of large businesses."""


@dataclass(frozen=True)
class SourceStyle:
    """How one source system exports: period per file and timestamp spelling."""

    period_column: str
    period: str
    """"quarter" or "year"."""
    csv_datetime_format: str
    parquet_utc: bool = False
    """Parquet timestamps as tz-aware UTC (a warehouse export) instead of naive."""


STYLES: dict[str, SourceStyle] = {
    "orders": SourceStyle("order_ts", "quarter", "%Y-%m-%dT%H:%M:%S"),
    "customers": SourceStyle("signup_ts", "year", "%Y-%m-%dT%H:%M:%SZ", parquet_utc=True),
    "marketing_spend": SourceStyle("spend_date", "year", "%Y-%m-%dT%H:%M:%S"),
    "support_tickets": SourceStyle("created_ts", "year", "%Y-%m-%d %H:%M:%S"),
}


@dataclass(frozen=True)
class WrittenFile:
    source: str
    name: str
    format: str
    rows: int


def csv_text(frame: pl.DataFrame, source: str) -> str:
    """The frame as the source's CSV export spells it (also used to forge exact duplicates)."""
    return frame.write_csv(
        datetime_format=STYLES[source].csv_datetime_format, date_format="%Y-%m-%d", float_precision=2
    )


def _write(frame: pl.DataFrame, path: Path, source: str, fmt: str) -> None:
    if fmt == "parquet":
        if STYLES[source].parquet_utc:
            frame = frame.with_columns(pl.col(pl.Datetime).dt.replace_time_zone("UTC"))
        frame.write_parquet(path, compression="zstd", compression_level=3, statistics=True,
                            row_group_size=PARQUET_ROW_GROUP)
    elif fmt == "csv.gz":
        path.write_bytes(gzip.compress(csv_text(frame, source).encode(), compresslevel=GZIP_LEVEL, mtime=0))
    else:
        path.write_text(csv_text(frame, source), encoding="utf-8", newline="")


def split_periods(frame: pl.DataFrame, source: str) -> list[tuple[str, pl.DataFrame]]:
    """(period label, rows) in time order, e.g. ("2024q1", ...): names sort in delivery order.

    The tables come sorted by their period column, so each period is a zero-copy slice.
    """
    style = STYLES[source]
    if not frame[style.period_column].is_sorted():
        frame = frame.sort(style.period_column, maintain_order=True)
    col = frame[style.period_column]
    year = col.dt.year().to_numpy().astype(np.int64)
    key = year * 4 + col.dt.quarter().to_numpy() - 1 if style.period == "quarter" else year
    bounds = [0, *(np.flatnonzero(np.diff(key)) + 1).tolist(), frame.height]
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        label = f"{key[lo] // 4}q{key[lo] % 4 + 1}" if style.period == "quarter" else str(key[lo])
        parts.append((label, frame.slice(lo, hi - lo)))
    return parts


def write_source(landing: Path, source: str, frame: pl.DataFrame) -> list[WrittenFile]:
    """One file per period into `landing/<source>/`, formats rotating csv, csv.gz, parquet."""
    folder = landing / source
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (period, part) in enumerate(split_periods(frame, source)):
        fmt = FORMATS[i % len(FORMATS)]
        name = f"{source}_{period}.{fmt}"
        _write(part, folder / name, source, fmt)
        written.append(WrittenFile(source, name, fmt, part.height))
    return written
