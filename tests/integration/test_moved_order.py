"""A correction that moves an order to another customer, delivered for a daily run.

The incremental marts redo the customers of the newly loaded rows; the raw table keeps only
the order's new version, so without a full refresh the customer it was taken from kept it
in the marts too: the orders mart held the order twice, its tests failed and every later
daily run failed the same way (the incremental window never moved on).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import duckdb
import polars as pl
import pytest

from ltv_pipeline.ingest.loader import ingest_source
from ltv_pipeline.lake import resolve_as_of
from ltv_pipeline.marts.incremental import plan_build
from ltv_pipeline.runner import run_pipeline
from ltv_pipeline.settings import load_settings
from ltv_pipeline.synthetic import generate_business
from ltv_pipeline.synthetic.next_day import write_next_day

pytestmark = pytest.mark.xdist_group("pipeline_moved_order")


def _order_counts(settings, customers: list[str]) -> dict[str, int]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        rows = con.execute(
            "select customer_id, orders from intermediate.int_orders_aggregated_to_customers where customer_id in (?, ?)",
            customers,
        ).fetchall()
    return dict(rows)


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    root = tmp_path_factory.mktemp("moved")
    generate_business(root / "landing", n_customers=600, seed=11)
    settings = load_settings(
        env={}, cwd=root,
        overrides={"landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb", "mode": "demo"},
    )
    run_pipeline(settings, log_level="WARNING")
    day = resolve_as_of(settings) + timedelta(days=1)
    write_next_day(settings, day)
    orders = pl.read_csv(sorted((settings.landing_dir / "orders").glob("*.csv*"))[0], infer_schema_length=0)
    repeat_buyers = orders.group_by("customer_id").len().filter(pl.col("len") > 1)["customer_id"].sort()
    source, target = repeat_buyers[0], repeat_buyers[1]
    order = orders.filter(pl.col("customer_id") == source).head(1).with_columns(customer_id=pl.lit(target))
    order.write_csv(settings.landing_dir / "orders" / "orders_zzzz_daily_zz_moved.csv")
    before = _order_counts(settings, [source, target])
    return settings, day, order["order_id"][0], source, target, before


def test_the_build_after_a_moved_order_is_a_full_refresh_that_says_why(moved):
    settings, day, *_ = moved
    for source in ("orders", "customers"):
        ingest_source(settings, source)
    plan = plan_build(replace(settings, as_of=day), day)
    assert plan.full_refresh
    assert plan.reason == "1 order(s) loaded since the last build moved to another customer"


def test_the_daily_run_moves_the_order_between_the_two_customers(moved):
    settings, day, order_id, source, target, before = moved
    outcome = run_pipeline(replace(settings, as_of=day), log_level="WARNING")
    assert outcome.failed_checks == []
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        owners = con.execute("select customer_id from marts.orders where order_id = ?", [order_id]).fetchall()
    assert owners == [(target,)]
    after = _order_counts(settings, [source, target])
    assert after[source] == before[source] - 1
    assert after[target] >= before[target] + 1  # plus any order of the new day
