"""Where a table that dbt built on Spark lives, for the readers outside dbt.

On DuckDB every model is a table of the warehouse file (`ltv_pipeline.marts.warehouse` reads it).
On Spark, dbt-spark writes each table as Parquet (`+file_format: parquet`) into Spark's
warehouse as a managed table of the Hive catalog: `<warehouse>/<schema>.db/<table>/`. The
Python steps read those files directly, lazily and in chunks if they like, without a JVM
or a connection to Spark (docs/scaling-out.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from ltv_pipeline.core.settings import Settings


def spark_warehouse_dir(settings: Settings) -> str:
    """Spark's table warehouse: `spark_warehouse_dir`, else `<spark_dir>/warehouse` (as dbt is told)."""
    return settings.spark_warehouse_dir or str(settings.spark_home / "warehouse")


def spark_table_location(settings: Settings, schema: str, table: str) -> str:
    """The folder (path or URI) of a managed Spark table: `<warehouse>/<schema>.db/<table>`."""
    return f"{spark_warehouse_dir(settings).rstrip('/')}/{schema}.db/{table}"


def spark_table_files(settings: Settings, schema: str, table: str) -> str:
    """A glob of the table's data files (Spark writes `part-*.parquet`, `_SUCCESS` and dot files beside them)."""
    return f"{spark_table_location(settings, schema, table)}/*.parquet"


def scan_spark_relation(settings: Settings, schema: str, table: str) -> pl.LazyFrame:
    """The table as a polars LazyFrame over its Parquet files (nothing read until collected)."""
    return pl.scan_parquet(spark_table_files(settings, schema, table))


def read_spark_relation(
    settings: Settings, schema: str, table: str, where: str | None = None, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """`select * (or columns) from schema.table [where ...]` over the Spark table's files, like
    `ltv_pipeline.marts.warehouse.read_relation` over the DuckDB file (same arguments); `where` and
    `columns` are constants of ours, never user input."""
    files = spark_table_files(settings, schema, table)
    if "://" not in files and not any(Path(files).parent.glob("*.parquet")):
        # Spark writes at least one (possibly empty) part file per table, so none means the
        # table was never built here: say so rather than DuckDB's "No files found".
        raise FileNotFoundError(
            f"no Spark table {schema}.{table} at {Path(files).parent}: build the marts with engine: spark first"
        )
    location = files.replace("'", "''")
    selected = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    sql = f"select {selected} from read_parquet('{location}')" + (f" where {where}" if where else "")
    with duckdb.connect() as con:
        return con.sql(sql).pl()
