"""Corrections delivered for a daily run that the incremental marts must not miss.

The incremental marts redo the customers of the rows loaded since the last build. Two kinds
of correction could leave a customer's old version in the marts, and since a failed build
records nothing, every later daily run would fail the same way:

- a correction that re-dates an order or a signup past as_of: staging drops the new
  version, so the raw tables say who changed (dbt_project/macros/incremental.sql);
- a correction that moves an order to another customer: the raw table keeps only the new
  owner, so nothing names the customer it was taken from: a full refresh
  (ltv_pipeline/marts/incremental.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import duckdb
import polars as pl
import pytest

from ltv_pipeline.commands.run import run_pipeline
from ltv_pipeline.core.lake import resolve_as_of
from ltv_pipeline.core.settings import load_settings
from ltv_pipeline.ingest.loader import ingest_source
from ltv_pipeline.marts.incremental import plan_build
from ltv_pipeline.synthetic import generate_business
from ltv_pipeline.synthetic.next_day import write_next_day

pytestmark = pytest.mark.xdist_group("pipeline_daily_corrections")


def _rows(settings, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _first_file(settings, source: str) -> pl.DataFrame:
    return pl.read_csv(sorted((settings.landing_dir / source).glob("*.csv"))[0], infer_schema_length=0)


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("corrections")
    generate_business(root / "landing", n_customers=600, seed=11)
    settings = load_settings(
        env={}, cwd=root,
        overrides={"landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb", "mode": "demo"},
    )
    run_pipeline(settings, log_level="WARNING")
    orders = _first_file(settings, "orders")
    buyers = orders.group_by("customer_id").len().filter(pl.col("len") > 1)["customer_id"].sort()
    return settings, resolve_as_of(settings), orders, buyers


@pytest.fixture(scope="module")
def redated(lake):
    """Day 1: an order and a signup (of two customers with orders) re-dated past as_of."""
    settings, first_day, orders, buyers = lake
    day = first_day + timedelta(days=1)
    write_next_day(settings, day)
    later = (day + timedelta(days=5)).isoformat()
    order = orders.filter(pl.col("customer_id") == buyers[0]).head(1).with_columns(order_ts=pl.lit(f"{later}T10:00:00"))
    order.write_csv(settings.landing_dir / "orders" / "orders_zzzz_daily_zz_redated.csv")
    customer = _first_file(settings, "customers").filter(pl.col("customer_id") == buyers[1])
    customer.with_columns(signup_ts=pl.lit(f"{later}T09:00:00Z")).write_csv(
        settings.landing_dir / "customers" / "customers_zzzz_daily_zz_redated.csv"
    )
    for source in ("orders", "customers"):
        ingest_source(settings, source)
    plan = plan_build(replace(settings, as_of=day), day)
    outcome = run_pipeline(replace(settings, as_of=day), log_level="WARNING")
    return settings, day, order["order_id"][0], buyers[1], plan, outcome


def test_an_order_redated_past_as_of_leaves_the_marts_in_an_incremental_build(redated):
    settings, _, order_id, _, plan, outcome = redated
    assert not plan.full_refresh and outcome.failed_checks == []
    assert _rows(settings, "select count(*) from marts.orders where order_id = ?", order_id) == [(0,)]


def test_a_customer_whose_signup_is_redated_past_as_of_is_known_from_orders_only(redated):
    settings, _, _, customer_id, _, _ = redated
    (row,) = _rows(
        settings,
        "select is_derived_from_orders, signup_ts = first_order_ts from intermediate.int_customers_unioned where customer_id = ?",
        customer_id,
    )
    assert row == (True, True)


@pytest.fixture(scope="module")
def moved(lake, redated):
    """Day 2: an order of one customer re-delivered under another."""
    settings, _, orders, buyers = lake
    day = redated[1] + timedelta(days=1)
    write_next_day(settings, day)
    order = orders.filter(pl.col("customer_id") == buyers[2]).head(1).with_columns(customer_id=pl.lit(buyers[3]))
    order.write_csv(settings.landing_dir / "orders" / "orders_zzzz_daily_zz_moved.csv")
    counts = "select customer_id, orders from intermediate.int_orders_aggregated_to_customers where customer_id in (?, ?)"
    before = dict(_rows(settings, counts, buyers[2], buyers[3]))
    for source in ("orders", "customers"):
        ingest_source(settings, source)
    plan = plan_build(replace(settings, as_of=day), day)
    outcome = run_pipeline(replace(settings, as_of=day), log_level="WARNING")
    after = dict(_rows(settings, counts, buyers[2], buyers[3]))
    return settings, order["order_id"][0], buyers[2], buyers[3], plan, outcome, before, after


def test_the_build_after_a_moved_order_is_a_full_refresh_that_says_why(moved):
    *_, plan, outcome, _, _ = moved
    assert plan.full_refresh
    assert plan.reason == "1 order(s) loaded since the last build moved to another customer"
    assert outcome.failed_checks == []


def test_the_moved_order_belongs_to_its_new_customer_only(moved):
    settings, order_id, source, target, _, _, before, after = moved
    assert _rows(settings, "select customer_id from marts.orders where order_id = ?", order_id) == [(target,)]
    assert after[source] == before[source] - 1
    assert after[target] >= before[target] + 1  # plus any order of the new day
