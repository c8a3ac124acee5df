"""The daily case: one more day of deliveries on a complete run, then `run_pipeline` as of
the next day. It reads and writes only what is new where it can: the raw tables get a part
each, the raw suites validate the new rows, and the models trained the day before are
reused (retrain_days) rather than refitted; everything downstream is as of the new day."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import dagster as dg
import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ltv_pipeline.commands.run import PipelineFailed, run_pipeline
from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import resolve_as_of
from ltv_pipeline.core.layout import raw_part_path, raw_table_files, raw_table_path
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.core.settings import load_settings
from ltv_pipeline.definitions import build_definitions
from ltv_pipeline.marts.incremental import plan_build, record_build
from ltv_pipeline.marts.project import dbt_project
from ltv_pipeline.marts.runner import DbtRunError, run_dbt
from ltv_pipeline.synthetic import generate_business
from ltv_pipeline.synthetic.next_day import write_next_day

pytestmark = pytest.mark.xdist_group("pipeline_incremental")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    generate_business(root / "landing", n_customers=2_000, seed=5)
    settings = load_settings(
        env={}, cwd=root,
        overrides={"landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb", "mode": "demo"},
    )
    full = run_pipeline(settings, log_level="WARNING")
    first_day = resolve_as_of(settings)
    stored = {source: raw_table_path(settings, source).read_bytes() for source in ("orders", "customers")}
    day = first_day + timedelta(days=1)
    delivered = write_next_day(settings, day)
    delivered["orders"] += _write_corrections(settings)
    daily = run_pipeline(replace(settings, as_of=day), log_level="WARNING")
    return settings, first_day, day, delivered, stored, full, daily


def _write_corrections(settings, n: int = 25) -> int:
    """A delivery correcting the revenue of old orders of `n` customers (their history changes)."""
    orders = pl.read_csv(sorted((settings.landing_dir / "orders").glob("*.csv*"))[0], infer_schema_length=0)
    corrected = orders.unique("customer_id", keep="first", maintain_order=True).head(n).with_columns(
        (pl.col("revenue").cast(pl.Float64) + 7.5).round(2).cast(pl.String).alias("revenue")
    )
    corrected.write_csv(settings.landing_dir / "orders" / "orders_zzzz_daily_zz_corrections.csv")
    return corrected.height


def _tables(warehouse) -> dict[tuple[str, str], pl.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in ('intermediate', 'marts', 'features')"
        ).fetchall()
        return {(schema, name): con.sql(f'select * from "{schema}"."{name}"').pl() for schema, name in names}


def _canonical(frame: pl.DataFrame) -> pl.DataFrame:
    keys = [c for c, t in frame.schema.items() if not t.is_float()]
    return frame.sort(keys, nulls_last=True).select(sorted(frame.columns))


def test_the_daily_run_appends_new_rows_and_consolidates_corrected_tables(runs):
    settings, _, _, delivered, stored, _, daily = runs
    assert daily.rejected.is_empty()
    assert daily.load_log.filter(pl.col("status") == "loaded")["rows_loaded"].sum() == sum(delivered.values())
    # customers only gained rows: a part next to the untouched stored file
    assert raw_table_path(settings, "customers").read_bytes() == stored["customers"]
    assert [p.name for p in raw_table_files(settings, "customers")] == ["customers.parquet", "customers.part-000001.parquet"]
    # orders had stored rows corrected: consolidated into one file again
    assert [p.name for p in raw_table_files(settings, "orders")] == ["orders.parquet"]
    assert raw_table_path(settings, "orders").read_bytes() != stored["orders"]


def test_the_daily_run_reuses_yesterdays_models_and_scores_as_of_today(runs):
    settings, first_day, day, _, _, full, daily = runs
    assert "ltv_models" in full.step_times and "ltv_models" in daily.step_times
    assert layout.artifact_path(settings, first_day).exists() and not layout.artifact_path(settings, day).exists()
    scores = pl.read_parquet(layout.published_dir(settings) / "customer_scores.parquet")
    assert scores["as_of"].unique().to_list() == [day]
    new_customers = scores.filter(pl.col("customer_id").str.contains(f"-n{day.isoformat()}"))
    assert new_customers.height > 0  # the day's sign-ups, who bought that day, are scored
    params = pl.read_parquet(layout.published_dir(settings) / "model_evaluation.parquet")
    assert params["as_of"].unique().to_list() == [first_day]  # the back-test of the reused models


def test_dbt_starts_right_after_ingest_ahead_of_the_raw_checks(runs):
    """The raw checks are not blocking: the marts step does not wait for them."""
    *_, full, daily = runs
    for outcome in (full, daily):
        dbt_start = outcome.step_times["ltv_dbt_models"][0]
        raw_checks = {step: start for step, (start, _) in outcome.step_times.items() if step.startswith("raw_") and step.endswith("_expectations")}
        assert len(raw_checks) == 4
        assert all(start > dbt_start for start in raw_checks.values()), raw_checks


def test_the_incremental_marts_equal_a_full_build_of_the_same_lake(runs, tmp_path):
    """The daily dbt build redoes only the changed customers; every table must still come out
    as a build from scratch makes it (a new day
    with new customers, and corrections of old orders of customers who bought nothing new)."""
    settings, _, day, *_ = runs
    state = json.loads(layout.build_state_path(settings).read_text())
    assert state["as_of"] == day.isoformat()
    scratch = replace(settings, warehouse=tmp_path / "scratch.duckdb")
    run_dbt(scratch, ["build", "--exclude-resource-type", "unit_test"], as_of=day)
    incremental, full = _tables(layout.build_warehouse(settings)), _tables(layout.build_warehouse(scratch))
    assert incremental.keys() == full.keys()
    # the daily run reused the models, so its features hold the score cutoff only
    key = ("features", "customer_features")
    full[key] = full[key].filter(pl.col("cutoff_role") == "score")
    assert incremental[key]["cutoff_role"].unique().to_list() == ["score"]
    for name in sorted(full):
        assert incremental[name].height == full[name].height, name
        assert_frame_equal(_canonical(incremental[name]), _canonical(full[name]), rel_tol=1e-9, abs_tol=1e-9), name


def _copy(settings, tmp_path, *, whole_lake: bool = False, with_build: bool = True):
    """Settings for a copy of the run's lake in `tmp_path` (its raw tables, or all of it) and,
    with `with_build`, of its build warehouse and the record of its last build."""
    copy = replace(settings, lake_dir=tmp_path / "lake", warehouse=tmp_path / "warehouse.duckdb")
    if whole_lake:
        shutil.copytree(settings.lake_dir, copy.lake_dir)
    else:
        shutil.copytree(settings.lake_dir / "raw", copy.lake_dir / "raw")
    if with_build:
        shutil.copy(layout.build_warehouse(settings), layout.build_warehouse(copy))
        shutil.copy(layout.build_state_path(settings), layout.build_state_path(copy))
    return copy


def test_orders_dated_after_the_last_builds_as_of_enter_an_incremental_build(runs, tmp_path):
    """Rows loaded before the last build but dated after its as_of (nothing new delivered,
    as_of moved three days): the orders mart reads them from staging, the older orders of
    their customers from itself, and every table equals a build from scratch."""
    settings, _, day, *_ = runs
    earlier = day - timedelta(days=3)
    copy = _copy(settings, tmp_path, with_build=False)
    run_dbt(copy, ["build", "--full-refresh", "--exclude-resource-type", "unit_test"], as_of=earlier)
    record_build(copy, plan_build(copy, earlier))
    plan = plan_build(copy, day)
    assert not plan.full_refresh and plan.dbt_vars()["previous_as_of"] == earlier.isoformat(), plan.reason
    with duckdb.connect(str(layout.build_warehouse(copy)), read_only=True) as con:
        later = con.execute(
            "select count(*) from staging.stg_raw__customer_changes where source_table = 'orders' "
            "and row_date > ? and row_date <= ? and loaded_at <= cast(? as timestamp)",
            [earlier, day, plan.dbt_vars()["changed_since"]],
        ).fetchone()[0]
    assert later > 0  # the case under test: orders already loaded, dated after the last as_of
    run_dbt(copy, ["build", "--exclude-resource-type", "unit_test"], as_of=day, extra_vars=plan.dbt_vars())
    scratch = replace(copy, warehouse=tmp_path / "scratch.duckdb")
    run_dbt(scratch, ["build", "--exclude-resource-type", "unit_test"], as_of=day)
    incremental, full = _tables(layout.build_warehouse(copy)), _tables(layout.build_warehouse(scratch))
    assert incremental.keys() == full.keys()
    for name in sorted(full):
        assert_frame_equal(_canonical(incremental[name]), _canonical(full[name]), rel_tol=1e-9, abs_tol=1e-9), name


def test_a_failed_full_refresh_leaves_no_base_for_an_incremental_build(runs, tmp_path):
    """A rebuild as of an earlier day that fails halfway (a raw order id twice): models as of
    two days would be left, so the next build, even back at the recorded day, is a full one."""
    settings, _, day, *_ = runs
    copy = _copy(settings, tmp_path, whole_lake=True)  # the run below needs the load log too
    stored = pl.read_parquet(raw_table_path(copy, "orders"))
    pl.concat([stored, stored.sort("order_ts").head(1)]).write_parquet(raw_table_path(copy, "orders"))  # in place: runs keep it
    earlier = day - timedelta(days=3)
    assert plan_build(copy, earlier).full_refresh
    with pytest.raises(PipelineFailed, match="ltv_dbt_models"):
        run_pipeline(replace(copy, as_of=earlier), log_level="CRITICAL")
    assert not layout.build_state_path(copy).exists()
    after = plan_build(copy, day)
    assert after.full_refresh and after.reason == "no earlier successful build in this warehouse"


def test_a_run_with_retrain_days_zero_refits(runs):
    settings, _, day, *_ = runs
    run_pipeline(replace(settings, as_of=day, retrain_days=0), log_level="WARNING")
    assert layout.artifact_path(settings, day).exists()
    evaluation = pl.read_parquet(layout.published_dir(settings) / "model_evaluation.parquet")
    assert evaluation["as_of"].unique().to_list() == [day]


def _compiled_test(run_id: str, test_name: str) -> str:
    """The SQL a run's marts step ran for a data test (its dbt target folder is named by the run)."""
    target = dbt_project().project_dir / dbt_project().target_path
    found = sorted(target.glob(f"ltv_dbt_models-{run_id[:7]}-*/run/**/{test_name}.sql"))
    assert len(found) == 1, found
    return found[0].read_text()


def test_a_daily_build_tests_only_the_changed_customers_of_the_incremental_models(runs):
    """Their other rows are the ones the last build tested (macros/incremental.sql); a full
    build, and the tests of the whole-base models, check every row."""
    *_, full, daily = runs
    assert "stg_raw__customer_changes" in _compiled_test(daily.run_id, "unique_orders_order_id")
    assert "stg_raw__customer_changes" not in _compiled_test(full.run_id, "unique_orders_order_id")
    assert "stg_raw__customer_changes" not in _compiled_test(daily.run_id, "unique_customers_customer_id")


def test_a_daily_build_still_fails_on_a_bad_row_of_a_changed_customer(runs, tmp_path):
    """Two raw rows with one order id (a broken ingest), an order of today by a known
    customer: the scoped uniqueness test of the orders mart fails the build."""
    settings, _, day, *_ = runs
    copy = _copy(settings, tmp_path)
    stored = pl.read_parquet(raw_table_path(settings, "orders")).head(1)
    duplicated = pl.concat([stored, stored]).with_columns(
        order_id=pl.lit("o-duplicated"), order_ts=pl.lit(datetime.combine(day, time(12))),
        _loaded_at=pl.lit(datetime.now(UTC).replace(tzinfo=None)),
    )
    duplicated.write_parquet(raw_part_path(copy, "orders", 99))
    plan = plan_build(copy, day)
    assert not plan.full_refresh, plan.reason
    with pytest.raises(DbtRunError) as failed:  # +orders: the staging views read the copy's lake
        run_dbt(copy, ["build", "--select", "+orders", "--exclude-resource-type", "unit_test"], as_of=day, extra_vars=plan.dbt_vars())
    assert "Failure in test unique_orders_order_id " in str(failed.value)


def test_the_daily_refresh_job_scores_with_the_lakes_models(runs, tmp_path):
    """A Dagster instance that never ran `ltv_models` (the lake was built by `ltv run`): its
    daily refresh job, which leaves training out, scores with the models in the lake
    (prediction/model_io.py) instead of failing to find them in the instance's storage."""
    settings, first_day, day, *_ = runs
    copy = _copy(settings, tmp_path, whole_lake=True)
    overrides = {"landing_dir": str(copy.landing_dir), "lake_dir": str(copy.lake_dir), "warehouse": str(copy.warehouse),
                 "mode": "demo", "as_of": day.isoformat()}
    job = build_definitions(SettingsResource(overrides=overrides)).resolve_job_def("daily_refresh")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    materialized = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert "ltv_models" not in materialized
    # the newest artifact in the lake: the first run's, or a later test's refit as of `day`
    newest = max(path.parent.name.removeprefix("as_of=") for path in (copy.lake_dir / "models").glob("as_of=*/models.zip"))
    assert materialized["customer_predictions"]["models_as_of"].value == newest >= first_day.isoformat()
    assert pl.read_parquet(layout.published_dir(copy) / "customer_scores.parquet")["as_of"].unique().to_list() == [day]


def test_the_daily_run_keeps_yesterdays_version_and_tracks_its_prediction(runs):
    settings, first_day, day, _, _, _, daily = runs
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        versions = con.sql("select as_of, count(*) as n from published.customer_scores_history group by as_of order by as_of").pl()
        tracking = con.sql("select * from published.prediction_tracking where group_type = 'all'").pl()
        yesterday = con.sql("select customer_id from published.customer_scores_history where as_of = $1", params=[first_day]).pl()
        bought = con.sql("select count(distinct (customer_id, order_date)) from marts.orders where order_date = $1 "
                         "and customer_id in (select customer_id from yesterday)", params=[day]).fetchall()[0][0]
    assert versions["as_of"].to_list() == [first_day, day]
    assert tracking["as_of"].to_list() == [first_day] and tracking["measured_through"].to_list() == [day]
    row = tracking.row(0, named=True)
    assert row["elapsed_days"] == 1 and row["customers"] == yesterday.height
    assert row["realised_orders"] == bought > 0  # the day's purchase days of yesterday's customers
    assert row["margin_lower"] <= row["predicted_margin"] <= row["margin_upper"]
    assert "published_tables:predictions_within_band" not in daily.failed_checks  # a day is too soon to judge
