"""Read the tables dbt built (marts, features) into polars, on whichever engine built them.

`engine: duckdb`: the pipeline's build warehouse file, read-only and closed promptly. Only
one step of a run touches that file at a time (in-process executor, and the
`duckdb_warehouse` pool), so a read-only connection never meets a writer's lock.

`engine: spark`: the Parquet files of Spark's managed tables (`marts/relations.py`), read
without a JVM or a connection to Spark. The DuckDB file then holds only the `published`
schema, which the publish step writes for BI readers on either engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings


def read_relation(
    settings: Settings, schema: str, table: str, where: str | None = None, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """`select * (or columns) from schema.table [where ...]`; `where` and `columns` are constants
    of ours, never user input. Naming the columns matters at scale: moving every feature of
    every customer into polars costs far more than the few a step needs."""
    if settings.engine == "spark":
        from ltv_pipeline.marts.relations import read_spark_relation

        return read_spark_relation(settings, schema, table, where=where, columns=columns)
    selected = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    sql = f'select {selected} from "{schema}"."{table}"' + (f" where {where}" if where else "")
    with duckdb.connect(str(layout.build_warehouse(settings)), read_only=True) as con:
        return con.sql(sql).pl()
