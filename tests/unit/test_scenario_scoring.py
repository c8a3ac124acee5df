"""The accuracy measures, each checked against a small example worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from ltv_pipeline.scenarios.scoring import (
    decile_mape,
    interval_coverage,
    normalised_gini,
    roc_auc,
    score_customers,
    spearman,
    total_error,
)


def test_spearman_counts_one_swapped_pair():
    # ranks 1 2 3 4 against 1 3 2 4: sum of squared rank gaps 2, rho = 1 - 6*2 / (4*15)
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 30, 20, 40])) == pytest.approx(0.8)


def test_spearman_of_a_constant_prediction_is_undefined():
    assert math.isnan(spearman(np.ones(4), np.array([1.0, 2, 3, 4])))


def test_normalised_gini_of_a_worked_example():
    # By prediction: realised 40 20 30 10 -> cumulative shares .4 .6 .9 1 against .25 .5 .75 1,
    # mean gap .1; by realised itself: .4 .7 .9 1, mean gap .125; ratio .8
    assert normalised_gini(np.array([1.0, 2, 3, 4]), np.array([10.0, 30, 20, 40])) == pytest.approx(0.8)


def test_normalised_gini_is_one_for_the_true_order_and_minus_one_for_the_reverse():
    realised = np.array([0.0, 0, 10, 30])
    assert normalised_gini(realised, realised) == pytest.approx(1.0)
    assert normalised_gini(-realised, realised) == pytest.approx(-1.0)


def test_normalised_gini_breaks_ties_at_random_not_by_the_truth():
    # The truth falls with the row index: a stable sort of a constant prediction would keep
    # that order and score a perfect 1.
    realised = np.linspace(100.0, 0.0, 2_000)
    ginis = [normalised_gini(np.zeros(realised.size), realised, seed=s) for s in range(5)]
    assert all(abs(g) < 0.1 for g in ginis)
    assert normalised_gini(np.zeros(realised.size), realised, seed=3) == normalised_gini(np.zeros(realised.size), realised, seed=3)


def test_decile_mape_skips_deciles_worth_under_one_percent_of_the_mean():
    # Ten customers, one per decile. Realised mean 9.2; the last decile (realised 0) is skipped.
    # Errors: |10-20|/20 = .5, then |9-9|/9, |8-9|/9, ..., |2-9|/9 = 0..7 ninths: mean over 9 deciles.
    predicted = np.arange(10.0, 0.0, -1.0)
    realised = np.array([20.0, 9, 9, 9, 9, 9, 9, 9, 9, 0])
    assert decile_mape(predicted, realised) == pytest.approx((0.5 + 28 / 9) / 9)


def test_decile_mape_keeps_a_decile_just_above_the_skip_share():
    predicted = np.arange(10.0, 0.0, -1.0)
    realised = np.array([20.0, 9, 9, 9, 9, 9, 9, 9, 9, 1])  # 1 >= 1% of the mean 9.3
    assert decile_mape(predicted, realised) == pytest.approx((0.5 + 28 / 9 + 0.0) / 10)


def test_decile_mape_of_a_perfect_prediction_is_zero():
    realised = np.random.default_rng(1).gamma(0.5, 100.0, 1_000)
    assert decile_mape(realised, realised) == pytest.approx(0.0)


def test_total_error_is_the_bias_of_the_sum_in_percent():
    assert total_error(np.array([1.0, 2, 3]), np.array([2.0, 2, 2])) == pytest.approx(0.0)
    assert total_error(np.array([3.0, 3, 3]), np.array([2.0, 2, 2])) == pytest.approx(50.0)
    assert total_error(np.array([1.0, 1, 1]), np.array([2.0, 2, 2])) == pytest.approx(-50.0)


def test_roc_auc_of_a_worked_example_and_of_ties():
    # Pairs (positive, negative): .35>.1, .35<.4, .8>.1, .8>.4 -> 3 of 4
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert roc_auc(np.array([0.5, 0.5]), np.array([False, True])) == pytest.approx(0.5)
    assert math.isnan(roc_auc(np.array([0.1, 0.2]), np.array([True, True])))


def test_interval_coverage_counts_the_bounds_as_inside():
    lower, upper = np.zeros(4), np.array([1.0, 2, 3, 4])
    assert interval_coverage(lower, upper, np.array([0.5, 2.0, 3.5, -1.0])) == pytest.approx(0.5)


def _truth() -> pl.DataFrame:
    return pl.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "realised_ltv": [0.0, 10.0, 30.0, 60.0],
        "realised_revenue": [0.0, 20.0, 40.0, 80.0],
        "realised_orders": [0, 1, 2, 3],
        "churned": [True, False, False, False],
        "alive_at_as_of": [False, True, True, True],
        "oracle_ltv": [1.0, 12.0, 28.0, 59.0],
        "oracle_revenue": [2.0, 22.0, 38.0, 78.0],
        "oracle_orders": [0.1, 1.0, 2.0, 2.9],
        "oracle_p_no_order": [0.9, 0.3, 0.2, 0.1],
    })


def _scores(ids: list[str]) -> pl.DataFrame:
    table = {
        "a": (0.5, 5.0, 3.0, 0.2, 0.7),
        "b": (1.0, 30.0, 20.0, 0.6, 0.4),
        "c": (2.0, 30.0, 20.0, 0.9, 0.3),
        "d": (3.0, 90.0, 45.0, 0.8, 0.1),
    }
    rows = [(i, *table[i]) for i in ids]
    frame = pl.DataFrame(rows, schema=["customer_id", "predicted_orders", "predicted_revenue", "predicted_ltv",
                                       "p_alive", "churn_probability"], orient="row")
    return frame.with_columns(
        (pl.col("predicted_ltv") * 0.5).alias("ltv_lower"), (pl.col("predicted_ltv") * 1.5).alias("ltv_upper")
    )


def test_score_customers_joins_by_id_and_reports_the_scored_fraction():
    measures = score_customers(_scores(["d", "c", "b"]), _truth())
    model = measures["model"]
    assert model["scored_fraction"] == pytest.approx(0.75)
    # b, c, d: ltv 20 20 45 vs 10 30 60; orders 1 2 3 vs 1 2 3; revenue 150 vs 140
    assert model["ltv_total_error_pct"] == pytest.approx(100 * (85 / 100 - 1))
    assert model["orders_total_error_pct"] == pytest.approx(0.0)
    assert model["revenue_total_error_pct"] == pytest.approx(100 * (150 / 140 - 1))
    # intervals [10, 30], [10, 30], [22.5, 67.5] hold 10, 30, 60
    assert model["interval_coverage"] == pytest.approx(1.0)


def test_score_customers_measures_the_model_the_oracle_and_no_ceiling_without_its_columns():
    measures = score_customers(_scores(["a", "b", "c", "d"]), _truth())
    model, oracle = measures["model"], measures["oracle"]
    assert set(measures) == {"model", "oracle"}
    assert model["scored_fraction"] == 1.0
    assert model["churn_auc"] == pytest.approx(1.0)
    assert model["p_alive_auc"] == pytest.approx(1.0)
    # intervals [1.5, 4.5], [10, 30], [10, 30], [22.5, 67.5]: a's realised 0 falls outside
    assert model["interval_coverage"] == pytest.approx(0.75)
    assert oracle["ltv_spearman"] == pytest.approx(1.0)
    assert oracle["ltv_total_error_pct"] == pytest.approx(0.0)
    assert oracle["orders_total_error_pct"] == pytest.approx(0.0)
    assert oracle["revenue_total_error_pct"] == pytest.approx(0.0)
    assert oracle["churn_auc"] == pytest.approx(1.0)


def test_score_customers_with_a_ceiling_scores_it_separately():
    truth = _truth().with_columns(
        pl.Series("ceiling_ltv", [30.0, 20.0, 10.0, 0.0]), pl.Series("ceiling_p_no_order", [0.1, 0.2, 0.3, 0.9])
    )
    ceiling = score_customers(_scores(["a", "b", "c", "d"]), truth)["ceiling"]
    assert ceiling["ltv_spearman"] == pytest.approx(-1.0)
    assert ceiling["churn_auc"] == pytest.approx(0.0)
