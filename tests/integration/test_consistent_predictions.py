"""A short history run end to end: the back-test is out of time over a shorter window, and
the published orders, revenue and LTV describe one future."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from ltv_pipeline.commands.run import run_pipeline
from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import load_settings
from ltv_pipeline.synthetic import generate_business

pytestmark = pytest.mark.xdist_group("pipeline_short_history")
AS_OF = date(2025, 9, 30)
"""About a year and three quarters of the generated history: under two horizons of 365 days."""


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("short_history")
    generate_business(root / "landing", n_customers=4_000, seed=12)
    settings = load_settings(
        env={},
        cwd=root,
        overrides={
            "landing_dir": root / "landing",
            "lake_dir": root / "lake",
            "warehouse": root / "warehouse.duckdb",
            "mode": "demo",
            "as_of": AS_OF,
            "horizon_days": 365,
        },
    )
    run_pipeline(settings, log_level="WARNING")
    return {t: pl.read_parquet(layout.published_dir(settings) / f"{t}.parquet") for t in ("customer_scores", "model_evaluation")}


def test_a_short_history_is_back_tested_out_of_time_for_every_target(published):
    evaluation = published["model_evaluation"]
    assert set(evaluation["evaluation"]) == {"out_of_time"}
    assert set(evaluation["target"]) == {"ltv", "churn", "orders"}
    champions = evaluation.filter(pl.col("is_champion")).select("target", "model").unique()
    assert champions.height == 3


def test_published_orders_revenue_and_ltv_agree(published):
    scores = published["customer_scores"]
    share = (scores["total_margin"] / scores["total_net_revenue"]).fill_nan(1.0).fill_null(1.0).clip(0.05, 1.0)
    margin = (scores["predicted_revenue"] * share).to_numpy()
    ltv = scores["predicted_ltv"].to_numpy()
    buyers = margin > 1e-9
    # LTV is the discounted margin of the predicted revenue: the discount of a year at 10% is 0.91-1.
    ratio = ltv[buyers] / margin[buyers]
    assert np.all((ratio > 0.90) & (ratio <= 1.0 + 1e-9))
    assert 0.93 < ltv.sum() / margin.sum() < 0.97
    orders = scores["predicted_orders"].to_numpy()
    assert np.all(np.isfinite(orders)) and np.all(orders >= 0)
    churn, alive = scores["churn_probability"].to_numpy(), scores["p_alive"].to_numpy()
    assert np.all((alive >= 0) & (alive <= 1)) and np.all((churn >= 0) & (churn <= 1))
    # P(no order in the horizon) is at least P(no longer active)
    assert np.all(churn >= 1.0 - alive - 1e-9)


def test_totals_are_judged_over_the_whole_horizon(published):
    """The window is half a year; the horizon-long labels of the last labelled horizon judge
    every LTV and orders candidate's total, and the champion clears that bar."""
    evaluation = published["model_evaluation"]
    horizon = evaluation.filter(pl.col("metric") == "horizon_abs_total_error_pct")
    assert set(horizon["target"]) == {"ltv", "orders"}
    by_target = {t: dict(zip(g["model"], g["value"], strict=True)) for (t,), g in horizon.group_by("target")}
    assert {"bgnbd_gamma_gamma", "xgboost", "baseline_last_period"} <= set(by_target["ltv"])
    assert {"bgnbd_gamma_gamma", "pareto_nbd", "xgboost"} <= set(by_target["orders"])
    window = evaluation.filter(pl.col("metric") == "abs_total_error_pct")
    assert set(window["value"].round(6)) != set(horizon["value"].round(6))  # other labels, other figures
    for target, figures in by_target.items():
        champion = evaluation.filter((pl.col("target") == target) & pl.col("is_champion"))["model"][0]
        baselines = [v for m, v in figures.items() if m.startswith("baseline_")]
        candidates = [v for m, v in figures.items() if not m.startswith("baseline_")]
        bar = max(10.0, min(baselines) if baselines else min(candidates))
        assert figures[champion] <= bar
