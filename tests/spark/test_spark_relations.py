"""`read_relation` reads the engine's tables: the DuckDB file, or Spark's Parquet files.

No Spark needed: the tables are laid out as Spark writes managed tables
(`<spark_dir>/warehouse/<schema>.db/<table>/part-*.parquet`, with `_SUCCESS` beside them),
so these run everywhere, also where the `spark` tests skip.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings, load_settings
from ltv_pipeline.marts.relations import spark_table_location
from ltv_pipeline.marts.warehouse import read_relation

FEATURES = pl.DataFrame(
    {
        "customer_id": ["c1", "c2", "c3", "c1"],
        "cutoff_role": ["score", "score", "score", "evaluate"],
        "recency_days": [3, 40, 200, 10],
    }
)


def _settings(root: Path, engine: str) -> Settings:
    return load_settings(env={}, cwd=root, overrides={
        "landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb",
        "mode": "demo", "engine": engine, "spark_dir": root / "spark",
    })


def _write_spark_table(settings: Settings, schema: str, table: str, frame: pl.DataFrame) -> Path:
    folder = Path(spark_table_location(settings, schema, table))
    folder.mkdir(parents=True)
    frame.head(2).write_parquet(folder / "part-00000-a.snappy.parquet")
    frame.slice(2).write_parquet(folder / "part-00001-a.snappy.parquet")
    (folder / "_SUCCESS").touch()
    return folder


def test_on_spark_the_steps_read_the_spark_tables_files(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "spark")
    folder = _write_spark_table(settings, "features", "customer_features", FEATURES)
    assert folder == tmp_path / "spark" / "warehouse" / "features.db" / "customer_features"
    scored = read_relation(settings, "features", "customer_features", where="cutoff_role = 'score'", columns=("customer_id", "recency_days"))
    assert scored.columns == ["customer_id", "recency_days"]
    assert sorted(scored["customer_id"]) == ["c1", "c2", "c3"]
    assert read_relation(settings, "features", "customer_features").height == 4
    assert not layout.build_warehouse(settings).exists()  # nothing opened or created the DuckDB file


def test_a_spark_table_never_built_is_named_in_the_error(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "spark")
    with pytest.raises(FileNotFoundError, match=r"marts\.customer_rfm .*engine: spark"):
        read_relation(settings, "marts", "customer_rfm")


def test_on_duckdb_the_steps_read_the_build_warehouse(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "duckdb")
    _write_spark_table(settings, "features", "customer_features", FEATURES.head(1))  # must be ignored
    with duckdb.connect(str(layout.build_warehouse(settings))) as con:
        con.execute("create schema features")
        con.register("incoming", FEATURES.to_arrow())
        con.execute("create table features.customer_features as select * from incoming")
    assert read_relation(settings, "features", "customer_features", where="cutoff_role = 'score'").height == 3
