"""customer_features uses nothing after its cutoff: changing later data leaves features unchanged."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import atomic_write_parquet
from ltv_pipeline.core.layout import raw_table_path
from ltv_pipeline.core.settings import load_settings
from ltv_pipeline.ingest.loader import ingest_source
from ltv_pipeline.ingest.sources import SPECS
from ltv_pipeline.marts.runner import run_dbt
from ltv_pipeline.synthetic import generate_business

pytestmark = pytest.mark.xdist_group("features_leakage")

AS_OF = date(2026, 9, 30)
HORIZON = 365
LABELS = ("label_available", "label_days", "label_orders", "label_margin", "label_churn")


def _features(settings, as_of: date = AS_OF) -> pl.DataFrame:
    run_dbt(settings, ["run", "--select", "+customer_features"], as_of=as_of)
    with duckdb.connect(str(layout.build_warehouse(settings)), read_only=True) as con:
        return con.sql("select * from features.customer_features").pl().sort("customer_id", "cutoff_role")


def _settings(root):
    return load_settings(
        env={}, cwd=root,
        overrides={"landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "w.duckdb", "mode": "demo"},
    )


def test_changing_data_after_the_evaluate_cutoff_leaves_its_features_unchanged(tmp_path):
    generate_business(tmp_path / "landing", n_customers=800, seed=3)
    settings = _settings(tmp_path)
    for source in SPECS:
        ingest_source(settings, source)
    before = _features(settings)

    cutoff = AS_OF - timedelta(days=HORIZON)
    after_cutoff = pl.col("order_ts").dt.date() > cutoff
    orders = pl.read_parquet(raw_table_path(settings, "orders"))
    changed = orders.with_columns(
        pl.when(after_cutoff).then(pl.col("revenue") * 3).otherwise(pl.col("revenue")).alias("revenue"),
        pl.when(after_cutoff).then(pl.col("cost") * 0.5).otherwise(pl.col("cost")).alias("cost"),
    ).filter(~(after_cutoff & (pl.col("order_id").str.ends_with("7"))))  # also delete some later orders
    atomic_write_parquet(changed, raw_table_path(settings, "orders"))
    tickets = pl.read_parquet(raw_table_path(settings, "support_tickets"))
    late = pl.col("created_ts").dt.date() > cutoff
    atomic_write_parquet(
        tickets.with_columns(pl.when(late).then(pl.lit(1, pl.Int8)).otherwise(pl.col("csat")).alias("csat")),
        raw_table_path(settings, "support_tickets"),
    )
    after = _features(settings)

    for role in ("evaluate", "train"):
        old = before.filter(pl.col("cutoff_role") == role).drop(LABELS)
        new = after.filter(pl.col("cutoff_role") == role).drop(LABELS)
        assert old.height > 100
        # floats to 1e-9: DuckDB's parallel sums may differ in the last bits between builds
        assert_frame_equal(old, new, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    # the labels of the evaluate cutoff did see the change (the test can fail)
    old_labels = before.filter(pl.col("cutoff_role") == "evaluate")["label_margin"]
    new_labels = after.filter(pl.col("cutoff_role") == "evaluate")["label_margin"]
    assert not old_labels.equals(new_labels)


def test_the_score_cutoff_has_the_features_of_the_same_day_as_a_past_cutoff(tmp_path):
    """Training/serving skew guard: the score cutoff is computed from the per-customer
    history and recent orders, a past cutoff from every purchase day up to it
    (customer_features.sql). Scored as of day D, a customer must get exactly the features
    a later build trains on for day D."""
    generate_business(tmp_path / "landing", n_customers=800, seed=4)
    settings = _settings(tmp_path)
    for source in SPECS:
        ingest_source(settings, source)
    day = AS_OF - timedelta(days=HORIZON)
    scored = _features(settings, as_of=day).filter(pl.col("cutoff_role") == "score")
    later = _features(settings).filter(pl.col("cutoff_role") == "evaluate")
    assert later["cutoff_date"].unique().to_list() == [day]
    assert scored.height > 200 and scored["frequency"].max() >= 3 and scored["orders_30d"].sum() > 0
    assert scored["ipt_std"].drop_nulls().len() > 50
    columns = [c for c in scored.columns if c not in (*LABELS, "cutoff_role")]
    assert_frame_equal(scored.select(columns), later.select(columns), check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
