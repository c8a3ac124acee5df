"""When a dbt build may be incremental (ltv_pipeline/marts/incremental.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import atomic_write_parquet
from ltv_pipeline.core.layout import raw_table_path
from ltv_pipeline.core.settings import load_settings
from ltv_pipeline.marts.incremental import plan_build, record_build

AS_OF = date(2026, 9, 30)


@pytest.fixture
def settings(tmp_path):
    s = load_settings(env={}, cwd=tmp_path, overrides={"lake_dir": tmp_path / "lake", "warehouse": tmp_path / "w.duckdb"})
    atomic_write_parquet(
        pl.DataFrame({"order_id": ["o1"], "customer_id": ["c1"], "_loaded_at": [datetime(2026, 9, 30, 6)]}),
        raw_table_path(s, "orders"),
    )
    atomic_write_parquet(pl.DataFrame({"customer_id": ["c1"], "_loaded_at": [datetime(2026, 9, 30, 7)]}), raw_table_path(s, "customers"))
    with duckdb.connect(str(layout.build_warehouse(s))) as con:  # what the last build made of the raw orders
        con.execute("create schema marts; create table marts.orders as select 'o1' as order_id, 'c1' as customer_id")
    return s


def _built(settings, as_of=AS_OF):
    plan = plan_build(settings, as_of)
    record_build(settings, plan)
    return plan


def test_the_first_build_is_a_full_refresh(settings):
    plan = plan_build(settings, AS_OF)
    assert plan.full_refresh and plan.dbt_args() == ["--full-refresh"] and plan.dbt_vars() == {}
    assert plan.record.loaded_through == "2026-09-30 07:00:00"


def test_a_later_build_with_the_same_settings_is_incremental_since_the_last_one(settings):
    _built(settings)
    plan = plan_build(settings, date(2026, 10, 1))
    assert not plan.full_refresh and plan.dbt_args() == []
    assert plan.dbt_vars() == {"changed_since": "2026-09-30 07:00:00", "previous_as_of": "2026-09-30"}


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda s: (replace(s, margin_rate=0.4), date(2026, 10, 1)), "var other than as_of"),
        (lambda s: (s, date(2026, 9, 29)), "before the last build"),
        (lambda s: (replace(s, engine="spark"), date(2026, 10, 1)), "engine spark"),
    ],
)
def test_anything_but_a_later_as_of_means_a_full_refresh(settings, change, reason):
    _built(settings)
    changed, as_of = change(settings)
    plan = plan_build(changed, as_of)
    assert plan.full_refresh and reason in plan.reason


def test_a_missing_warehouse_or_a_damaged_record_means_a_full_refresh(settings):
    _built(settings)
    layout.build_state_path(settings).write_text(json.dumps({"as_of": "2026-09-30'; drop table x; --", "loaded_through": None, "fingerprint": ""}))
    assert plan_build(settings, date(2026, 10, 1)).full_refresh
    _built(settings)
    layout.build_warehouse(settings).unlink()
    assert plan_build(settings, date(2026, 10, 1)).full_refresh


def test_an_order_moved_to_another_customer_since_the_last_build_means_a_full_refresh(settings):
    _built(settings)
    moved = pl.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["c2", "c2"], "_loaded_at": [datetime(2026, 10, 1, 6)] * 2})
    atomic_write_parquet(moved, raw_table_path(settings, "orders"))  # o1 corrected to c2, o2 new
    plan = plan_build(settings, date(2026, 10, 1))
    assert plan.full_refresh and plan.reason == "1 order(s) loaded since the last build moved to another customer"


def test_an_order_corrected_for_the_same_customer_keeps_the_build_incremental(settings):
    _built(settings)
    corrected = pl.DataFrame({"order_id": ["o1"], "customer_id": ["c1"], "_loaded_at": [datetime(2026, 10, 1, 6)]})
    atomic_write_parquet(corrected, raw_table_path(settings, "orders"))
    assert not plan_build(settings, date(2026, 10, 1)).full_refresh


def test_an_unreadable_orders_mart_means_a_full_refresh(settings):
    _built(settings)
    with duckdb.connect(str(layout.build_warehouse(settings))) as con:
        con.execute("drop table marts.orders")
    plan = plan_build(settings, date(2026, 10, 1))
    assert plan.full_refresh and plan.reason.startswith("the last build's orders mart could not be read")
