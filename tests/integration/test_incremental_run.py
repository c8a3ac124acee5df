"""The daily case: one more day of deliveries on a complete run, then `run_pipeline` as of
the next day. It reads and writes only what is new where it can: the raw tables get a part
each, the raw suites validate the new rows, and the models trained the day before are
reused (retrain_days) rather than refitted; everything downstream is as of the new day."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import polars as pl
import pytest

from ltv_pipeline.lake import raw_table_files, raw_table_path, resolve_as_of
from ltv_pipeline.prediction.reuse import artifact_path
from ltv_pipeline.runner import run_pipeline
from ltv_pipeline.settings import load_settings
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
    daily = run_pipeline(replace(settings, as_of=day), log_level="WARNING")
    return settings, first_day, day, delivered, stored, full, daily


def test_the_daily_run_appends_the_new_rows_and_leaves_the_stored_raw_files(runs):
    settings, _, _, delivered, stored, _, daily = runs
    assert daily.rejected.is_empty()
    assert daily.load_log.filter(pl.col("status") == "loaded")["rows_loaded"].sum() == sum(delivered.values())
    for source in ("orders", "customers"):
        assert raw_table_path(settings, source).read_bytes() == stored[source]
        assert [p.name for p in raw_table_files(settings, source)] == [f"{source}.parquet", f"{source}.part-000001.parquet"]


def test_the_daily_run_reuses_yesterdays_models_and_scores_as_of_today(runs):
    settings, first_day, day, _, _, full, daily = runs
    assert "ltv_models" in full.step_times and "ltv_models" in daily.step_times
    assert artifact_path(settings, first_day).exists() and not artifact_path(settings, day).exists()
    scores = pl.read_parquet(settings.published_dir / "customer_scores.parquet")
    assert scores["as_of"].unique().to_list() == [day]
    new_customers = scores.filter(pl.col("customer_id").str.contains(f"-n{day.isoformat()}"))
    assert new_customers.height > 0  # the day's sign-ups, who bought that day, are scored
    params = pl.read_parquet(settings.published_dir / "model_evaluation.parquet")
    assert params["as_of"].unique().to_list() == [first_day]  # the back-test of the reused models


def test_a_run_with_retrain_days_zero_refits(runs):
    settings, _, day, *_ = runs
    run_pipeline(replace(settings, as_of=day, retrain_days=0), log_level="WARNING")
    assert artifact_path(settings, day).exists()
    evaluation = pl.read_parquet(settings.published_dir / "model_evaluation.parquet")
    assert evaluation["as_of"].unique().to_list() == [day]
