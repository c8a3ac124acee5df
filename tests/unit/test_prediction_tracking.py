"""`prediction_tracking` (publish/tracking.py) on a hand-made history and orders mart: the
elapsed shares, the realised figures per group, the band and the churn AUC by hand."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl
import pytest

from ltv_pipeline.publish.tracking import (
    MIN_JUDGED_DAYS,
    Z80,
    elapsed_shares,
    outside_band,
    prediction_tracking,
    tracked_versions,
)

HORIZON = 100
RATE = 0.10


def _scores(as_of: date) -> pl.DataFrame:
    return pl.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "as_of": [as_of] * 4,
        "predicted_orders": [2.0, 1.0, 0.5, 0.2],
        "predicted_revenue": [200.0, 100.0, 50.0, 20.0],
        "predicted_ltv": [80.0, 40.0, 20.0, 8.0],
        "churn_probability": [0.1, 0.3, 0.6, 0.9],
        "ltv_lower": [40.0, 10.0, 0.0, 0.0],
        "ltv_upper": [120.0, 70.0, 40.0, 16.0],
        "value_tier": ["high", "high", "low", "low"],
        "acquisition_channel": ["search", "social", "search", None],
    })


@pytest.fixture()
def tracked(tmp_path):
    first, second, through = date(2024, 1, 1), date(2024, 3, 1), date(2024, 4, 30)
    versions = {}
    for as_of in (first, second, through):
        path = tmp_path / f"as_of={as_of}.parquet"
        _scores(as_of).write_parquet(path)
        versions[as_of] = path
    orders = pl.DataFrame({
        "customer_id": ["a", "a", "a", "b", "c", "a", "b"],
        # days after the first as_of: a 5 (two orders), 40 and 70; b 60 and 80; c 101, past that
        # horizon (the second as_of is day 60)
        "order_date": [first + timedelta(days=5), first + timedelta(days=5), first + timedelta(days=40),
                       first + timedelta(days=60), first + timedelta(days=101), second + timedelta(days=10),
                       second + timedelta(days=20)],
        "net_revenue": [30.0, 20.0, 60.0, 80.0, 40.0, 70.0, 10.0],
        "margin": [12.0, 8.0, 24.0, 32.0, 16.0, 28.0, 4.0],
    })
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.register("o", orders.to_arrow())
        con.execute("create table marts.orders as select * from o")
    return prediction_tracking(versions, warehouse, through, HORIZON, RATE), (first, second, through), orders


def _row(frame: pl.DataFrame, as_of: date, group_type: str, group: str) -> dict:
    rows = frame.filter((pl.col("as_of") == as_of) & (pl.col("group_type") == group_type) & (pl.col("group") == group))
    assert rows.height == 1
    return rows.row(0, named=True)


def test_a_prediction_whose_horizon_has_passed_is_judged_whole(tracked):
    frame, (first, second, through), orders = tracked
    assert set(frame["as_of"]) == {first, second}  # not the run's own as_of
    whole = _row(frame, first, "all", "all")
    assert whole["elapsed_days"] == HORIZON and whole["customers"] == 4
    assert whole["predicted_orders"] == pytest.approx(3.7) and whole["predicted_margin"] == pytest.approx(148.0)
    assert whole["realised_orders"] == 5  # purchase days: a 5, 40, 70; b 60, 80 (c's day 101 is past the horizon)
    assert whole["realised_revenue"] == pytest.approx(270.0)
    discounted = sum(m * (1 + RATE) ** (-d / 365) for m, d in ((12, 5), (8, 5), (24, 40), (32, 60), (28, 70), (4, 80)))
    assert whole["realised_margin"] == pytest.approx(discounted)
    # the band: per-customer sigmas (width / 2 Z80) summed in quadrature
    half = Z80 * np.sqrt(sum(((u - lo) / (2 * Z80)) ** 2 for lo, u in ((40, 120), (10, 70), (0, 40), (0, 16))))
    assert whole["margin_upper"] - whole["predicted_margin"] == pytest.approx(half)
    # churned (no order in the horizon): c and d, the two with the highest churn probability
    assert whole["churn_auc"] == pytest.approx(1.0)
    assert _row(frame, first, "value_tier", "low")["churn_auc"] is None  # both churned: no AUC
    assert _row(frame, first, "acquisition_channel", "unknown")["customers"] == 1


def test_a_prediction_under_way_is_judged_on_the_elapsed_part(tracked):
    frame, (first, second, through), orders = tracked
    part = _row(frame, second, "all", "all")
    elapsed = (through - second).days
    day_share, margin_share = elapsed_shares(elapsed, HORIZON, RATE)
    assert part["elapsed_days"] == elapsed and 0 < day_share < margin_share < 1  # discounting weighs early days more
    assert part["predicted_orders"] == pytest.approx(3.7 * day_share)
    assert part["predicted_margin"] == pytest.approx(148.0 * margin_share)
    assert part["realised_orders"] == 3 and part["realised_revenue"] == pytest.approx(120.0)  # a, b and c once each
    assert part["churn_auc"] is None
    # the band over the elapsed part: mean times the share, sigma times its square root
    whole = _row(frame, first, "all", "all")
    assert part["margin_upper"] - part["predicted_margin"] == pytest.approx(
        (whole["margin_upper"] - whole["predicted_margin"]) * margin_share**0.5)
    search = _row(frame, second, "acquisition_channel", "search")
    assert search["customers"] == 2 and search["realised_revenue"] == pytest.approx(110.0)


def test_no_past_prediction_gives_an_empty_table_with_the_columns(tmp_path):
    path = tmp_path / "only.parquet"
    _scores(date(2024, 4, 30)).write_parquet(path)
    frame = prediction_tracking({date(2024, 4, 30): path}, tmp_path / "unused.duckdb", date(2024, 4, 30), HORIZON, RATE)
    assert frame.is_empty() and "churn_auc" in frame.columns


def test_the_band_check_names_the_predictions_whose_margin_left_the_band(tracked):
    frame, (first, second, _), _ = tracked
    assert outside_band(frame).is_empty()
    moved = frame.with_columns(
        pl.when(pl.col("as_of") == second).then(pl.col("margin_upper") + 1e6).otherwise(pl.col("realised_margin")).alias("realised_margin"))
    assert outside_band(moved)["as_of"].to_list() == [second]
    too_soon = moved.with_columns(pl.lit(MIN_JUDGED_DAYS - 1).alias("elapsed_days"))
    assert outside_band(too_soon).is_empty()


def test_the_latest_version_of_each_week_is_tracked(tmp_path):
    paths = {d: tmp_path / f"{d}.parquet" for d in (date(2024, 1, 1), date(2024, 1, 3), date(2024, 1, 8), date(2024, 1, 9))}
    # Monday and Wednesday of one ISO week, then Monday of the next; the 9th is the run's own as_of
    assert tracked_versions(paths, date(2024, 1, 9)) == [(date(2024, 1, 3), paths[date(2024, 1, 3)]),
                                                        (date(2024, 1, 8), paths[date(2024, 1, 8)])]


def test_a_prediction_whose_horizon_had_passed_keeps_its_rows_from_the_last_table(tracked, tmp_path):
    frame, (first, second, through), _ = tracked
    versions = {d: tmp_path / f"as_of={d}.parquet" for d in (first, second, through)}
    # the last table's finished rows carry a mark a recomputation would not reproduce
    previous = frame.with_columns(
        pl.when(pl.col("as_of") == first).then(pl.lit(-1.0)).otherwise(pl.col("realised_margin")).alias("realised_margin"))
    again = prediction_tracking(versions, tmp_path / "w.duckdb", through, HORIZON, RATE, previous=previous)
    assert (again.filter(pl.col("as_of") == first)["realised_margin"] == -1.0).all()
    # the one still under way is computed again
    assert again.filter(pl.col("as_of") == second).equals(frame.filter(pl.col("as_of") == second))
