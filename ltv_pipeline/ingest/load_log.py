"""The load log (`<lake>/_meta/load_log.parquet`): one row per delivery attempt.

It is the record of what was loaded, and the reason a delivery is never loaded twice:
a content hash with status `loaded` is skipped on every later run.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ltv_pipeline.core.lake import atomic_write_parquet

LOAD_LOG_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "delivery": pl.String(),
        "content_hash": pl.String(),
        "loaded_at": pl.Datetime("us"),
        "rows_read": pl.Int64(),
        "rows_loaded": pl.Int64(),
        "rows_quarantined": pl.Int64(),
        "rows_duplicate": pl.Int64(),
        "status": pl.String(),
        "message": pl.String(),
    }
)


def read_load_log(path: Path) -> pl.DataFrame:
    if not path.exists():
        return pl.DataFrame(schema=LOAD_LOG_SCHEMA)
    return pl.read_parquet(path).cast(dict(LOAD_LOG_SCHEMA))


def append_load_log(path: Path, entries: list[dict[str, object]]) -> pl.DataFrame:
    """Append entries and atomically replace the log; returns the new log."""
    log = read_load_log(path)
    if entries:
        log = pl.concat([log, pl.DataFrame(entries, schema=LOAD_LOG_SCHEMA)])
        atomic_write_parquet(log, path)
    return log


def loaded_hashes(log: pl.DataFrame, source: str) -> set[str]:
    """Content hashes whose rows are in the raw layer (status `loaded`)."""
    return set(log.filter((pl.col("source") == source) & (pl.col("status") == "loaded"))["content_hash"])
