"""customer_features uses nothing after its cutoff: changing later data leaves features unchanged."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ltv_pipeline.ingest.loader import ingest_source
from ltv_pipeline.ingest.sources import SPECS
from ltv_pipeline.lake import atomic_write_parquet, raw_table_path
from ltv_pipeline.marts.runner import run_dbt
from ltv_pipeline.settings import load_settings
from ltv_pipeline.synthetic import generate_business

pytestmark = pytest.mark.xdist_group("features_leakage")

AS_OF = date(2026, 9, 30)
HORIZON = 365
LABELS = ("label_available", "label_orders", "label_margin", "label_churn")


def _features(settings) -> pl.DataFrame:
    run_dbt(settings, ["run", "--select", "+customer_features"], as_of=AS_OF)
    with duckdb.connect(str(settings.build_warehouse), read_only=True) as con:
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
