"""`ltv forget`: erase customers from every layer the pipeline owns, and record the erasure.

Erased: raw tables, quarantine files, predictions, decisions, segment snapshots, published
Parquet, every warehouse table with a `customer_id` column (build and readers' copy), and
the HTML report (re-rendered without them on the next run; the current one is removed if it
names them). Not erased: the landing zone, which holds the user's own exports — the command
says so, and the erasure log lets a later load be checked against it. The log stores only a
keyed hash of each id, never the id itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import atomic_write_parquet
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.ingest.privacy import hash_email
from ltv_pipeline.marts.snapshot import snapshot_warehouse

ERASURE_LOG_SCHEMA = {"customer_hash": pl.String, "erased_at": pl.Datetime("us"), "rows_erased": pl.Int64}


@dataclass
class ErasureReport:
    rows_by_location: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows_by_location.values())


def _lake_files(settings: Settings) -> Iterable[Path]:
    """Every Parquet file of the lake that can hold a customer row (not the load log)."""
    for path in sorted(settings.lake_dir.rglob("*.parquet")):
        if layout.meta_dir(settings) not in path.parents:
            yield path


def _erase_parquet(path: Path, ids: list[str]) -> int:
    frame = pl.read_parquet(path)
    if "customer_id" not in frame.columns:
        return 0
    kept = frame.filter(~pl.col("customer_id").is_in(ids))
    erased = frame.height - kept.height
    if erased:
        atomic_write_parquet(kept, path)
    return erased


def quote_identifier(name: str) -> str:
    """A DuckDB identifier as SQL text: in double quotes, any double quote in it doubled."""
    return '"' + name.replace('"', '""') + '"'


def _erase_warehouse(path: Path, ids: list[str]) -> dict[str, int]:
    """Delete the customers from every table with a customer_id column (views follow)."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(path)) as con:
        tables = con.execute(
            "select c.table_schema, c.table_name from information_schema.columns c "
            "join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name "
            "where c.column_name = 'customer_id' and t.table_type = 'BASE TABLE'"
        ).fetchall()
        con.register("forget_ids", pl.DataFrame({"customer_id": ids}).to_arrow())
        for schema, table in tables:
            # Identifiers come from the catalog, quoted (anyone who can write the warehouse can
            # name a table); the ids reach the SQL only through the registered relation.
            deleted = con.execute(
                f"delete from {quote_identifier(schema)}.{quote_identifier(table)} "
                "where customer_id in (select customer_id from forget_ids)"
            ).fetchone()
            if deleted and deleted[0]:
                counts[f"warehouse:{schema}.{table}"] = int(deleted[0])
        con.execute("checkpoint")
    return counts


def forget_customers(settings: Settings, customer_ids: list[str], *, now: datetime | None = None) -> ErasureReport:
    """Erase `customer_ids` everywhere the pipeline stores data, then log the erasure (hashed)."""
    ids = sorted({c.strip() for c in customer_ids if c.strip()})
    if not ids:
        raise ValueError("no customer id given")
    report = ErasureReport()
    for path in _lake_files(settings):
        erased = _erase_parquet(path, ids)
        if erased:
            report.rows_by_location[str(path.relative_to(settings.lake_dir))] = erased
    if layout.build_warehouse(settings).exists():
        report.rows_by_location.update(_erase_warehouse(layout.build_warehouse(settings), ids))
        snapshot_warehouse(settings)
    if layout.report_path(settings).exists() and any(i in layout.report_path(settings).read_text(encoding="utf-8") for i in ids):
        layout.report_path(settings).unlink()
        report.rows_by_location["reports/ltv_report.html (removed; the next run re-renders it)"] = 1
    _log_erasure(settings, ids, report.total, now or datetime.now(UTC))
    return report


def _log_erasure(settings: Settings, ids: list[str], rows: int, when: datetime) -> None:
    path = layout.meta_dir(settings) / "erasures.parquet"
    key = settings.effective_pii_key()
    entries = pl.DataFrame(
        {"customer_hash": [hash_email(i, key) for i in ids], "erased_at": [when.replace(tzinfo=None)] * len(ids), "rows_erased": [rows] * len(ids)},
        schema=ERASURE_LOG_SCHEMA,
    )
    log = pl.concat([pl.read_parquet(path), entries]) if path.exists() else entries
    atomic_write_parquet(log, path)
