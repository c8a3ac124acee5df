"""The same dbt project on Spark builds the same marts as on DuckDB.

One small generated business (the synthetic generator, through the real ingest) is built
twice from the same lake: on DuckDB (the embedded default) and on Spark (`engine: spark`,
dbt-spark `method: session`, local[*]), with nothing changed but the setting. Every mart
and `features.customer_features` must then hold the same rows with the same values (floats
to rounding: the engines sum in different orders). Spark's tables are read from the
Parquet files it wrote into its warehouse, as any reader outside Spark would read them.

Wall time is mostly Spark's fixed costs (JVM, metastore, per-query planning): one to two
minutes for the Spark build on 2 cores, which the DuckDB build overlaps. The Derby
metastore and the warehouse stay in the test's temp dir.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings, load_settings
from ltv_pipeline.ingest.loader import ingest_source
from ltv_pipeline.ingest.sources import SPECS
from ltv_pipeline.marts.dbt_resource import dbt_env
from ltv_pipeline.marts.project import prepare_dbt_manifest
from ltv_pipeline.marts.relations import read_spark_relation, spark_table_location
from ltv_pipeline.marts.runner import DbtRun, run_dbt
from ltv_pipeline.synthetic import generate_business

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark"), pytest.mark.usefixtures("spark_available")]

AS_OF = date(2026, 6, 30)
N_CUSTOMERS = 1_000
# What the pipeline's marts asset runs: every model, the seed, the data tests and the unit tests.
BUILD = ["build"]
# Short local runs: JIT warm-up, not the data, dominates, so the quick compiler pays off
# (with room in the code cache for the classes Spark generates per query).
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m"
COMPARED_SCHEMAS = ("marts", "features")


def _settings(root: Path, **overrides: object) -> Settings:
    return load_settings(
        env={},
        cwd=root,
        overrides={
            "landing_dir": root / "landing",
            "lake_dir": root / "lake",
            "warehouse": root / "warehouse.duckdb",
            "mode": "demo",
            "as_of": AS_OF.isoformat(),
            **overrides,
        },
    )


class Builds:
    def __init__(self, duckdb_settings: Settings, spark_settings: Settings, duckdb_run: DbtRun, spark_run: DbtRun):
        self.duckdb_settings = duckdb_settings
        self.spark_settings = spark_settings
        self.duckdb_run = duckdb_run
        self.spark_run = spark_run

    def duckdb_table(self, schema: str, table: str) -> pl.DataFrame:
        with duckdb.connect(str(layout.build_warehouse(self.duckdb_settings)), read_only=True) as con:
            return con.sql(f'select * from "{schema}"."{table}"').pl()

    def spark_table_dir(self, schema: str, table: str) -> Path:
        """A managed table's folder in Spark's warehouse (`<warehouse>/<schema>.db/<table>`)."""
        return Path(spark_table_location(self.spark_settings, schema, table))

    def spark_table(self, schema: str, table: str) -> pl.DataFrame | None:
        files = sorted(self.spark_table_dir(schema, table).glob("*.parquet"))
        return pl.read_parquet(files) if files else None


def _build(root: Path) -> tuple[Settings, Settings, DbtRun, DbtRun]:
    generate_business(root / "landing", n_customers=N_CUSTOMERS, seed=5)
    duckdb_settings = _settings(root)
    for source in SPECS:
        ingest_source(duckdb_settings, source)
    spark_settings = _spark_settings(root)
    prepare_dbt_manifest()
    # The JVM's start-up is mostly waiting on one core: the DuckDB build fits beside it.
    with ThreadPoolExecutor(max_workers=2) as pool:
        spark_run = pool.submit(run_dbt, spark_settings, BUILD)
        duckdb_run = pool.submit(run_dbt, duckdb_settings, BUILD)
        return duckdb_settings, spark_settings, duckdb_run.result(), spark_run.result()


def _spark_settings(root: Path) -> Settings:
    return _settings(root, engine="spark", spark_dir=root / "spark", spark_shuffle_partitions=2, spark_java_options=QUICK_JVM)


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """Both builds, once per test run: under pytest-xdist the first worker to get here builds
    into the run's shared temp dir while any other waits on a lock and reuses the result
    (the module's tests may be spread over workers, and a second Spark build would double
    the time). Without xdist, in this session's temp dir."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "spark_vs_duckdb"
    root.mkdir(exist_ok=True)
    done = root / "builds.json"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            runs = json.loads(done.read_text())
            as_of = date.fromisoformat(runs["as_of"])
            return Builds(
                _settings(root), _spark_settings(root),
                DbtRun(tuple(BUILD), as_of, "", runs["duckdb"]), DbtRun(tuple(BUILD), as_of, "", runs["spark"]),
            )
        for leftover in ("landing", "lake", "spark", "warehouse.duckdb", "warehouse.build.duckdb"):  # a failed earlier try
            path = root / leftover
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        duckdb_settings, spark_settings, duckdb_run, spark_run = _build(root)
        done.write_text(json.dumps({"as_of": AS_OF.isoformat(), "duckdb": duckdb_run.run_results, "spark": spark_run.run_results}))
        return Builds(duckdb_settings, spark_settings, duckdb_run, spark_run)


MODELS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models"


def compared_relations() -> list[tuple[str, str]]:
    """(schema, table) of every mart and feature model: one file per model in models/<schema>/.

    Read from the folders (cheap at collection time); the last test checks the list
    against the dbt manifest, so a model whose schema is not its folder's is caught.
    """
    return sorted((schema, path.stem) for schema in COMPARED_SCHEMAS for path in (MODELS_DIR / schema).glob("*.sql"))


def manifest_relations() -> list[tuple[str, str]]:
    """(schema, table) of every model the dbt manifest puts in a compared schema."""
    manifest = json.loads(prepare_dbt_manifest().read_text())
    return sorted(
        (node["config"]["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") in COMPARED_SCHEMAS
    )


def _kind(dtype: pl.DataType) -> str:
    if dtype.is_numeric():
        return "number"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "timestamp"
    if dtype in (pl.String, pl.Categorical):
        return "string"
    return str(dtype)


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    """Numbers as floats, timestamps as naive microseconds, rows in a canonical order."""
    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype.is_numeric():
            column = column.cast(pl.Float64)
        elif isinstance(dtype, pl.Datetime):
            column = (column.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if dtype.time_zone else column).cast(pl.Datetime("us"))
        columns.append(column)
    frame = frame.select(columns)
    # Float noise must not change the order: sort on floats rounded well above it.
    keys = [pl.col(n).round(6) if d == pl.Float64 else pl.col(n) for n, d in frame.schema.items()]
    return frame.sort(keys, nulls_last=True)


def test_both_engines_build_every_model_and_pass_the_same_tests(builds: Builds) -> None:
    on_duckdb, on_spark = builds.duckdb_run.statuses(), builds.spark_run.statuses()
    failed = {node: status for node, status in on_spark.items() if status not in ("success", "pass", "warn")}
    assert failed == {}
    assert any(node.startswith("model.") for node in on_spark) and any(node.startswith("test.") for node in on_spark)
    # the same nodes ran, and every test ended the same way (a warning on one is a warning on the other)
    assert on_spark == on_duckdb


def test_spark_keeps_its_metastore_and_warehouse_in_the_spark_dir(builds: Builds) -> None:
    spark_dir = builds.spark_settings.spark_home
    assert (spark_dir / "metastore_db").is_dir() and (spark_dir / "derby.log").is_file()
    assert builds.spark_table_dir("marts", "customers").is_dir()
    assert spark_table_location(builds.spark_settings, "marts", "customers").startswith(str(spark_dir / "warehouse"))


def test_python_steps_read_the_spark_features_like_the_duckdb_ones(builds: Builds) -> None:
    """What the scoring step reads: the score cutoff's rows, straight from Spark's files."""
    where = "cutoff_role = 'score'"
    on_spark = read_spark_relation(builds.spark_settings, "features", "customer_features", where=where)
    with duckdb.connect(str(layout.build_warehouse(builds.duckdb_settings)), read_only=True) as con:
        on_duckdb = con.sql(f"select * from features.customer_features where {where}").pl()
    assert on_spark.height == on_duckdb.height > 500
    assert on_spark.schema == on_duckdb.schema or {n: _kind(d) for n, d in on_spark.schema.items()} == {
        n: _kind(d) for n, d in on_duckdb.schema.items()
    }
    assert dbt_env(builds.spark_settings)["SPARK_LOCAL_IP"] == "127.0.0.1"


@pytest.mark.parametrize("schema, table", compared_relations(), ids=lambda value: value)
def test_mart_equals_the_duckdb_build(builds: Builds, schema: str, table: str) -> None:
    on_duckdb = builds.duckdb_table(schema, table)
    on_spark = builds.spark_table(schema, table)
    if on_spark is None:  # Spark writes no data file for an empty result
        assert on_duckdb.height == 0, f"{schema}.{table}: {on_duckdb.height} rows on DuckDB, no data on Spark"
        return
    assert on_spark.columns == on_duckdb.columns
    kinds = {name: (_kind(on_duckdb.schema[name]), _kind(on_spark.schema[name])) for name in on_duckdb.columns}
    assert {name: pair for name, pair in kinds.items() if pair[0] != pair[1]} == {}
    assert on_spark.height == on_duckdb.height
    if table in ("customers", "customer_features", "orders"):
        assert on_duckdb.height > 500  # the business is big enough for the comparison to mean something
    assert_frame_equal(_comparable(on_spark), _comparable(on_duckdb), check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


def test_every_mart_and_the_features_are_compared() -> None:
    relations = compared_relations()
    assert relations == manifest_relations()
    assert ("features", "customer_features") in relations
    assert {"orders", "customers", "customer_rfm", "cohort_retention", "retention_churn"} <= {t for s, t in relations if s == "marts"}
