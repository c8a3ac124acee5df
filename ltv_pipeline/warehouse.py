"""Read tables of the pipeline's build warehouse into polars (read-only, closed promptly).

Only one step of a run touches the DuckDB file at a time (in-process executor, and the
`duckdb_warehouse` pool), so a read-only connection never meets a writer's lock.
"""

from __future__ import annotations

import duckdb
import polars as pl

from ltv_pipeline.settings import Settings


def read_relation(settings: Settings, schema: str, table: str, where: str | None = None) -> pl.DataFrame:
    """`select * from schema.table [where ...]`; `where` is a constant of ours, never user input."""
    sql = f'select * from "{schema}"."{table}"' + (f" where {where}" if where else "")
    with duckdb.connect(str(settings.build_warehouse), read_only=True) as con:
        return con.sql(sql).pl()
