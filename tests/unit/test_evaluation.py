"""Back-test metrics against hand-computed values and the scipy/scikit-learn references,
the baselines' formulas, the champion rule (including a model losing to a baseline), the
`model_evaluation` table's shape and the decile chart."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from ltv_pipeline.prediction.evaluation import (
    CLASSIC_FORMULA,
    LAST_PERIOD,
    MODEL_EVALUATION_SCHEMA,
    brier,
    churn_metrics,
    classic_formula_ltv,
    decile_chart_png,
    decile_mape_pct,
    decile_table,
    expected_calibration_error,
    gini,
    horizon_discount_factor,
    interval_coverage,
    last_period_ltv,
    ltv_metrics,
    mae,
    model_evaluation_table,
    normalized_gini,
    observed_churn_rate,
    pick_champion,
    pr_auc,
    recency_churn_score,
    roc_auc,
    spearman,
    total_error_pct,
)

CONTRACT_COLUMNS = ["as_of", "model", "target", "metric", "value", "evaluation", "is_champion"]


@pytest.fixture(scope="module")
def tied_scores() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values with many ties (rounded), as zero-heavy LTV and coarse scores produce."""
    rng = np.random.default_rng(3)
    actual = np.where(rng.random(2_000) < 0.6, 0.0, rng.gamma(2.0, 50.0, 2_000)).round(-1)
    predicted = (actual + rng.normal(0.0, 40.0, actual.size)).round(-1)
    churned = (rng.random(2_000) < 1.0 / (1.0 + np.exp(-predicted / 50.0 + 0.5))).astype(int)
    return actual, predicted, churned


# ---- LTV metrics ------------------------------------------------------------------------
def test_gini_hand_computed_and_normalised_extremes():
    actual = np.array([0.0, 0.0, 1.0, 3.0])
    # perfect order: sorted actual 3,1,0,0; cumsum 3,4,4,4 = 15; (15/4 - 5/2) / 4
    assert gini(actual, np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.3125)
    assert gini(actual, np.array([4.0, 3.0, 2.0, 1.0])) == pytest.approx(-0.3125)
    assert normalized_gini(actual, np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(1.0)
    assert normalized_gini(actual, np.array([4.0, 3.0, 2.0, 1.0])) == pytest.approx(-1.0)
    assert gini(actual, np.full(4, 7.0)) == pytest.approx(0.0)
    assert math.isnan(normalized_gini(np.zeros(4), np.arange(4.0)))


def test_normalised_gini_is_one_for_any_perfect_ordering(tied_scores):
    actual, _, _ = tied_scores
    assert normalized_gini(actual, np.log1p(actual) * 3.0 + 1.0) == pytest.approx(1.0)


def test_ranking_metrics_do_not_depend_on_row_order_with_ties(tied_scores):
    actual, predicted, _ = tied_scores
    perm = np.random.default_rng(0).permutation(actual.size)
    for metric in (normalized_gini, spearman, decile_mape_pct):
        assert metric(actual[perm], predicted[perm]) == pytest.approx(metric(actual, predicted), rel=1e-12)


def test_spearman_matches_scipy_with_ties(tied_scores):
    actual, predicted, _ = tied_scores
    assert spearman(actual, predicted) == pytest.approx(spearmanr(actual, predicted).statistic, rel=1e-12)
    assert math.isnan(spearman(actual, np.ones_like(actual)))


def test_decile_table_and_mape_hand_computed():
    actual = np.arange(1.0, 101.0)
    table = decile_table(actual, actual * 1.1)
    assert table["decile"].to_list() == list(range(1, 11))
    assert table["customers"].to_list() == [10] * 10
    assert table.row(0, named=True)["actual_total"] == pytest.approx(sum(range(91, 101)))
    assert decile_mape_pct(actual, actual * 1.1) == pytest.approx(10.0)
    assert decile_mape_pct(actual, actual) == pytest.approx(0.0)


def test_tied_predictions_share_a_decile():
    predicted = np.r_[np.zeros(60), np.arange(1.0, 41.0)]
    table = decile_table(np.ones(100), predicted)
    assert table["customers"].sum() == 100
    assert table.filter(pl.col("customers") == 60).height == 1


def test_total_error_mae_and_coverage_hand_computed():
    actual, predicted = np.array([10.0, 0.0, 90.0]), np.array([20.0, 5.0, 85.0])
    assert total_error_pct(actual, predicted) == pytest.approx(10.0)
    assert mae(actual, predicted) == pytest.approx((10 + 5 + 5) / 3)
    assert interval_coverage(actual, np.array([0.0, 1.0, 90.0]), np.array([10.0, 2.0, 95.0])) == pytest.approx(2 / 3)
    metrics = ltv_metrics(actual, predicted, actual - 1, actual + 1)
    assert metrics["interval_coverage"] == 1.0 and metrics["interval_width_mean"] == pytest.approx(2.0)
    with pytest.raises(ValueError):
        mae(actual, np.array([1.0, np.nan, 2.0]))


# ---- churn metrics ----------------------------------------------------------------------
def test_churn_metrics_match_scikit_learn(tied_scores):
    _, predicted, churned = tied_scores
    probability = 1.0 / (1.0 + np.exp(-predicted / 60.0))
    assert roc_auc(churned, probability) == pytest.approx(roc_auc_score(churned, probability), rel=1e-12)
    assert pr_auc(churned, probability) == pytest.approx(average_precision_score(churned, probability), rel=1e-12)
    assert brier(churned, probability) == pytest.approx(brier_score_loss(churned, probability), rel=1e-12)


def test_expected_calibration_error_hand_computed():
    # bin [0.1, 0.2): p mean 0.15, churn rate 0.5 -> |gap| 0.35 on 2 of 4; bin [0.9, 1]: 0.95 vs 1 -> 0.05 on 2 of 4
    p, y = np.array([0.1, 0.2 - 1e-9, 0.9, 1.0]), np.array([0, 1, 1, 1])
    assert expected_calibration_error(y, p) == pytest.approx(0.5 * 0.35 + 0.5 * 0.05)
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0


def test_churn_metrics_keys_and_degenerate_cases():
    metrics = churn_metrics(np.array([1, 1, 0]), np.array([0.9, 0.8, 0.1]))
    assert set(metrics) == {"roc_auc", "pr_auc", "brier", "ece", "churn_rate", "n_customers"}
    assert metrics["roc_auc"] == 1.0 and metrics["pr_auc"] == 1.0
    assert math.isnan(roc_auc(np.ones(3), np.array([0.1, 0.2, 0.3])))
    with pytest.raises(ValueError):
        brier(np.array([0, 2]), np.array([0.1, 0.2]))


# ---- baselines --------------------------------------------------------------------------
@pytest.fixture()
def small_features() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "total_margin": [100.0, 30.0, None, 80.0],
            "n_orders": [4, 1, 0, 2],
            "tenure_days": [730.0, 100.0, 400.0, 500.0],
            "recency_days": [30.0, 100.0, 400.0, 450.0],
            "ipt_mean": [200.0, None, None, 50.0],
            "margin_last_horizon": [50.0, 30.0, 0.0, None],
        }
    )


def test_discount_factor_is_mean_daily_discount():
    assert horizon_discount_factor(1, 0.10) == pytest.approx(1.1 ** (-1 / 365))
    assert horizon_discount_factor(365, 0.0) == 1.0
    assert 1.1**-1 < horizon_discount_factor(365, 0.10) < 1.0


def test_classic_formula_hand_computed(small_features):
    # customers a, c, d are a horizon old; c and d have no order in the last 365 days
    assert observed_churn_rate(small_features, 365) == pytest.approx(2 / 3)
    c, H = 2 / 3, 365.0
    lifespan = H * c / -math.log(1 - c)
    discount = horizon_discount_factor(365, 0.10)
    expected = [
        100 / 4 * 4 / 730 * lifespan * discount,
        30 / 1 * 1 / 365 * lifespan * discount,
        0.0,
        80 / 2 * 2 / 500 * lifespan * discount,
    ]
    np.testing.assert_allclose(classic_formula_ltv(small_features, 365, 0.10), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="tenure"):
        classic_formula_ltv(small_features, 1000, 0.10)


def test_last_period_and_recency_baselines(small_features):
    discount = horizon_discount_factor(365, 0.10)
    np.testing.assert_allclose(last_period_ltv(small_features, 365, 0.10), [50 * discount, 30 * discount, 0, 0])
    # own gap for a and d; the median known gap (125) for b and c
    np.testing.assert_allclose(recency_churn_score(small_features, 365), [30 / 230, 100 / 225, 400 / 525, 450 / 500])
    with pytest.raises(KeyError, match="margin_last_horizon"):
        last_period_ltv(small_features.drop("margin_last_horizon"), 365, 0.10)


# ---- champion rule ----------------------------------------------------------------------
LTV_BASELINES = {
    CLASSIC_FORMULA: {"normalized_gini": 0.60, "spearman": 0.40, "abs_total_error_pct": 12.0},
    LAST_PERIOD: {"normalized_gini": 0.70, "spearman": 0.55, "abs_total_error_pct": 28.0},
}


def test_ltv_champion_is_the_best_candidate_that_beats_every_baseline():
    results = {
        **LTV_BASELINES,
        "xgb_ltv": {"normalized_gini": 0.85, "spearman": 0.66, "abs_total_error_pct": 3.0},
        "btyd": {"normalized_gini": 0.80, "spearman": 0.62, "abs_total_error_pct": 6.0},
    }
    assert pick_champion(results, "ltv") == "xgb_ltv"


def test_ltv_model_that_gets_the_total_worse_than_a_baseline_is_not_champion():
    results = {
        **LTV_BASELINES,
        "xgb_ltv": {"normalized_gini": 0.89, "spearman": 0.72, "abs_total_error_pct": 25.0},  # best ranking, bad total
        "btyd": {"normalized_gini": 0.88, "spearman": 0.70, "abs_total_error_pct": 6.0},
    }
    assert pick_champion(results, "ltv") == "btyd"


def test_a_baseline_whose_total_lands_closer_by_luck_does_not_bar_a_total_within_tolerance():
    lucky = {**LTV_BASELINES, LAST_PERIOD: {"normalized_gini": 0.63, "spearman": 0.52, "abs_total_error_pct": 1.6}}
    results = {
        **lucky,
        "xgb_aligned": {"normalized_gini": 0.73, "spearman": 0.58, "abs_total_error_pct": 3.3},
        "xgb_latest": {"normalized_gini": 0.74, "spearman": 0.59, "abs_total_error_pct": 46.0},
        "btyd": {"normalized_gini": 0.69, "spearman": 0.58, "abs_total_error_pct": 1.2},
    }
    assert pick_champion(results, "ltv") == "xgb_aligned"
    # beyond the tolerance the best baseline's total is the bar again
    results["xgb_aligned"]["abs_total_error_pct"] = 11.0
    assert pick_champion(results, "ltv") == "btyd"


def test_horizon_long_totals_judge_the_total_where_the_window_is_shorter():
    """A seasonal business: over a half-year window BTYD's total looks right and the
    window-trained booster's wrong; over the whole horizon it is the other way round."""
    results = {
        LAST_PERIOD: {"normalized_gini": 0.49, "spearman": 0.37, "abs_total_error_pct": 10.0,
                      "horizon_abs_total_error_pct": 12.0},
        "btyd": {"normalized_gini": 0.64, "spearman": 0.55, "abs_total_error_pct": 9.9,
                 "horizon_abs_total_error_pct": 135.0},
        "xgb": {"normalized_gini": 0.67, "spearman": 0.55, "abs_total_error_pct": 52.0,
                "horizon_abs_total_error_pct": 3.0},
    }
    assert pick_champion(results, "ltv") == "xgb"
    without_horizon = {m: {k: v for k, v in r.items() if not k.startswith("horizon_")} for m, r in results.items()}
    assert pick_champion(without_horizon, "ltv") == "btyd"
    # the ranking still comes from the window: a better horizon total does not outrank
    results["btyd"]["horizon_abs_total_error_pct"] = 1.0
    assert pick_champion(results, "ltv") == "xgb"


def test_ltv_model_that_loses_to_the_baseline_is_not_champion():
    results = {
        **LTV_BASELINES,
        "xgb_ltv": {"normalized_gini": 0.68, "spearman": 0.70},  # worse Gini than last period
        "btyd": {"normalized_gini": 0.90, "spearman": 0.50},  # worse Spearman than last period
    }
    assert pick_champion(results, "ltv") == LAST_PERIOD


def test_candidate_without_a_rule_metric_is_never_champion():
    results = {**LTV_BASELINES, "xgb_ltv": {"normalized_gini": 0.95, "spearman": float("nan")}}
    assert pick_champion(results, "ltv") == LAST_PERIOD


def test_churn_champion_needs_better_auc_and_no_worse_brier():
    baseline = {"baseline_recency": {"roc_auc": 0.84, "brier": 0.17}}
    assert pick_champion({**baseline, "xgb_churn": {"roc_auc": 0.89, "brier": 0.13}}, "churn") == "xgb_churn"
    assert pick_champion({**baseline, "xgb_churn": {"roc_auc": 0.89, "brier": 0.18}}, "churn") == "baseline_recency"
    assert pick_champion({**baseline, "xgb_churn": {"roc_auc": 0.84, "brier": 0.10}}, "churn") == "baseline_recency"


def test_champion_without_baselines_and_ties():
    assert (
        pick_champion({"b_model": {"roc_auc": 0.8, "brier": 0.2}, "a_model": {"roc_auc": 0.8, "brier": 0.1}}, "churn")
        == "a_model"
    )
    assert pick_champion({"xgb": {"roc_auc": float("nan")}}, "churn") is None


# ---- the model_evaluation table ---------------------------------------------------------
def test_model_evaluation_table_has_the_contract_columns_and_flags_the_champion():
    results = {
        "ltv": {**LTV_BASELINES, "xgb_ltv": {"normalized_gini": 0.65, "spearman": 0.70, "mae": 10.0}},
        "churn": {"baseline_recency": {"roc_auc": 0.84, "brier": 0.17}, "xgb_churn": {"roc_auc": 0.9, "brier": 0.1}},
    }
    table = model_evaluation_table(date(2025, 1, 1), "out_of_time", results)
    assert table.columns == CONTRACT_COLUMNS
    assert dict(table.schema) == MODEL_EVALUATION_SCHEMA
    assert table.height == 3 + 3 + 3 + 2 + 2
    champions = table.filter("is_champion").select("target", "model").unique().sort("target")
    assert champions.rows() == [("churn", "xgb_churn"), ("ltv", LAST_PERIOD)]
    assert table.filter(pl.col("model") == LAST_PERIOD)["is_champion"].all()
    assert set(table["evaluation"]) == {"out_of_time"} and set(table["as_of"]) == {date(2025, 1, 1)}
    with pytest.raises(ValueError):
        model_evaluation_table(date(2025, 1, 1), "in_sample", results)  # type: ignore[arg-type]


# ---- chart ------------------------------------------------------------------------------
def test_decile_chart_is_a_png(tied_scores):
    actual, predicted, _ = tied_scores
    png = decile_chart_png(decile_table(actual, predicted))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and 2_000 < len(png) < 200_000
