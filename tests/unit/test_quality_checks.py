"""Expectation suites run on a bounded number of rows; raw suites only on the latest load."""

from __future__ import annotations

import warnings
from datetime import datetime

import dagster as dg
import polars as pl
import pytest

from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.ingest.assets import ingest_assets, latest_load_rows, raw_expectation_checks
from ltv_pipeline.quality.checks import bounded_rows
from ltv_pipeline.quality.expectations import load_suite_spec, run_suite

HEADER = "order_id,customer_id,order_ts,revenue,cost,refund\n"


def test_bounded_rows_keeps_small_frames_and_spreads_the_sample_over_large_ones():
    frame = pl.DataFrame({"i": range(10)})
    assert bounded_rows(frame, 10).equals(frame)
    assert bounded_rows(frame, 3)["i"].to_list() == [0, 4, 8]
    assert bounded_rows(frame, 5)["i"].to_list() == [0, 2, 4, 6, 8]
    with pytest.raises(ValueError):
        bounded_rows(frame, 0)


@pytest.mark.parametrize(("suite", "column"), [("raw_customers", "acquisition_channel"), ("raw_marketing_spend", "channel")])
def test_channel_names_must_be_lower_snake_case(suite, column):
    """The suites' channel regex, run by GX without pandas' warning about match groups."""
    [rule] = [
        e for e in load_suite_spec(suite)["expectations"]
        if e["type"] == "expect_column_values_to_match_regex" and e["kwargs"]["column"] == column
    ]
    names = ["paid_search", "email", "tv2", "Paid Search", "paid__search", "_email"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        [outcome] = run_suite(pl.DataFrame({column: names}), {"name": suite, "expectations": [rule]})
    assert not outcome.success and outcome.unexpected_count == 3
    assert sorted(outcome.examples) == ["Paid Search", "_email", "paid__search"]


def test_latest_load_rows_are_the_rows_of_the_last_load_whatever_file_holds_them(ws):
    ws.deliver("orders", "day1.csv", HEADER + "O1,C1,2025-01-01,10,,\nO2,C2,2025-01-02,20,,\n")
    ws.load()
    assert latest_load_rows(ws.settings, "orders")["order_id"].sort().to_list() == ["O1", "O2"]
    ws.deliver("orders", "day2.csv", HEADER + "O3,C3,2025-01-03,30,,\n")
    ws.load(now=datetime(2026, 1, 2))
    assert latest_load_rows(ws.settings, "orders")["order_id"].to_list() == ["O3"]


def test_the_raw_orders_suite_validates_the_new_delivery_only(ws):
    ws.deliver("orders", "day1.csv", HEADER + "O1,C1,2025-01-01,10,,\nO2,C2,2025-01-02,20,,\n")
    ws.load()
    ws.deliver("orders", "day2.csv", HEADER + "O3,C3,2025-01-03,30,,\n")
    resource = SettingsResource(
        overrides={"landing_dir": str(ws.landing), "lake_dir": str(ws.root / "lake"), "mode": "demo"}
    )
    result = dg.materialize(
        [ingest_assets[0], raw_expectation_checks[0]],
        resources={"settings": resource},
        instance=dg.DagsterInstance.ephemeral(),
    )
    evaluations = [e for e in result.get_asset_check_evaluations() if "rows_in_scope" in e.metadata]
    assert len(evaluations) == 7 and all(e.passed for e in evaluations)
    assert {e.metadata["rows_in_scope"].value for e in evaluations} == {1}
    assert all("latest load" in (e.description or "") for e in evaluations)
