"""The accuracy measures of published customer scores against a business's exact truth.

Each measure is a small pure function over numpy arrays, so that the figures a benchmark
reports mean exactly one thing: Spearman, normalised Gini (ties in the prediction broken
at random, never by the truth), decile MAPE (deciles whose realised mean is under 1% of
the overall mean are skipped), total error in percent, ROC-AUC (ties count one half),
interval coverage and the scored fraction. `score_customers` applies them to the model's
published columns and, where the truth carries them, to the oracle's and the observable
ceiling's expectations, which face the same future randomness as the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import polars as pl
from scipy.stats import rankdata, spearmanr

DECILES = 10
SKIP_DECILE_SHARE = 0.01
"""A decile whose realised mean is under this share of the overall mean is left out of the
MAPE: its relative error divides by almost nothing and says nothing about value."""


def spearman(predicted: np.ndarray, realised: np.ndarray) -> float:
    """Rank correlation (average ranks for ties); NaN when either side is constant."""
    if np.ptp(predicted) == 0 or np.ptp(realised) == 0:
        return math.nan
    return float(spearmanr(predicted, realised).statistic)


def _order_by_prediction(predicted: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices from the highest prediction to the lowest, ties in a random order."""
    return np.lexsort((rng.random(predicted.size), -predicted))


def _gini(realised_in_order: np.ndarray) -> float:
    """Mean gap between the cumulative share of value captured and the share of customers."""
    n = realised_in_order.size
    captured = np.cumsum(realised_in_order) / realised_in_order.sum()
    return float(np.mean(captured - np.arange(1, n + 1) / n))


def normalised_gini(predicted: np.ndarray, realised: np.ndarray, seed: int = 0) -> float:
    """Gini of realised value ordered by the prediction over Gini ordered by realised value
    itself: 1 = a perfect ranking, 0 = random. Ties in the prediction are broken by a
    seeded random order, so a constant prediction scores about 0, not the truth's order."""
    if realised.sum() <= 0:
        return math.nan
    best = _gini(np.sort(realised)[::-1])
    if best == 0:
        return math.nan
    order = _order_by_prediction(predicted, np.random.default_rng(seed))
    return _gini(realised[order]) / best


def decile_mape(predicted: np.ndarray, realised: np.ndarray, seed: int = 0) -> float:
    """Mean over the ten deciles of the prediction of |mean predicted - mean realised| /
    mean realised, skipping deciles whose realised mean is under 1% of the overall mean."""
    overall = realised.mean()
    if overall <= 0:
        return math.nan
    order = _order_by_prediction(predicted, np.random.default_rng(seed))
    errors = []
    for group in np.array_split(order, DECILES):
        if group.size == 0:
            continue
        mean_realised = realised[group].mean()
        if mean_realised < SKIP_DECILE_SHARE * overall:
            continue
        errors.append(abs(predicted[group].mean() - mean_realised) / mean_realised)
    return float(np.mean(errors)) if errors else math.nan


def total_error(predicted: np.ndarray, realised: np.ndarray) -> float:
    """100 x (sum predicted / sum realised - 1): the bias of the total, in percent."""
    total = realised.sum()
    return math.nan if total == 0 else float(100.0 * (predicted.sum() / total - 1.0))


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties: one half)."""
    label = label.astype(bool)
    positives, negatives = int(label.sum()), int((~label).sum())
    if positives == 0 or negatives == 0:
        return math.nan
    ranks = rankdata(score)
    return float((ranks[label].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def interval_coverage(lower: np.ndarray, upper: np.ndarray, realised: np.ndarray) -> float:
    """Share of customers whose realised value lies in [lower, upper]."""
    return float(np.mean((realised >= lower) & (realised <= upper)))


def mean_absolute_error(predicted: np.ndarray, realised: np.ndarray) -> float:
    return float(np.mean(np.abs(predicted - realised)))


def pearson(predicted: np.ndarray, realised: np.ndarray) -> float:
    if np.ptp(predicted) == 0 or np.ptp(realised) == 0:
        return math.nan
    return float(np.corrcoef(predicted, realised)[0, 1])


def _column(frame: pl.DataFrame, name: str) -> np.ndarray:
    return frame[name].cast(pl.Float64).to_numpy()


def _value_measures(frame: pl.DataFrame, ltv: str, seed: int) -> dict[str, float]:
    predicted, realised = _column(frame, ltv), _column(frame, "realised_ltv")
    return {
        "ltv_spearman": spearman(predicted, realised),
        "ltv_gini": normalised_gini(predicted, realised, seed),
        "ltv_decile_mape": decile_mape(predicted, realised, seed),
        "ltv_total_error_pct": total_error(predicted, realised),
    }


def _model_measures(joined: pl.DataFrame, seed: int) -> dict[str, float]:
    measures = _value_measures(joined, "predicted_ltv", seed)
    measures["revenue_total_error_pct"] = total_error(_column(joined, "predicted_revenue"), _column(joined, "realised_revenue"))
    measures["orders_total_error_pct"] = total_error(_column(joined, "predicted_orders"), _column(joined, "realised_orders"))
    measures["orders_mae"] = mean_absolute_error(_column(joined, "predicted_orders"), _column(joined, "realised_orders"))
    measures["orders_corr"] = pearson(_column(joined, "predicted_orders"), _column(joined, "realised_orders"))
    measures["churn_auc"] = roc_auc(_column(joined, "churn_probability"), joined["churned"].to_numpy())
    if "alive_at_as_of" in joined.columns:
        measures["p_alive_auc"] = roc_auc(_column(joined, "p_alive"), joined["alive_at_as_of"].to_numpy())
    measures["interval_coverage"] = interval_coverage(
        _column(joined, "ltv_lower"), _column(joined, "ltv_upper"), _column(joined, "realised_ltv")
    )
    return measures


def _expectation_measures(truth: pl.DataFrame, prefix: str, seed: int) -> dict[str, float]:
    """The measures of the `<prefix>_*` expectations of the truth (oracle or ceiling)."""
    measures = _value_measures(truth, f"{prefix}_ltv", seed)
    for target in ("revenue", "orders"):
        if f"{prefix}_{target}" in truth.columns:
            measures[f"{target}_total_error_pct"] = total_error(_column(truth, f"{prefix}_{target}"), _column(truth, f"realised_{target}"))
    if f"{prefix}_p_no_order" in truth.columns:
        measures["churn_auc"] = roc_auc(_column(truth, f"{prefix}_p_no_order"), truth["churned"].to_numpy())
    return measures


def score_customers(scores: pl.DataFrame, truth: pl.DataFrame, seed: int = 0) -> dict[str, dict[str, float]]:
    """Every customer measure: `model` (the published scores, on the customers they cover,
    with `scored_fraction` = covered share of the truth's population), and `oracle` and
    `ceiling` where the truth has their columns."""
    population = truth.height
    published = scores.select(
        pl.col("customer_id").cast(pl.String),
        "predicted_orders", "predicted_revenue", "predicted_ltv", "p_alive", "churn_probability",
        "ltv_lower", "ltv_upper",
    ).unique("customer_id", keep="first")
    joined = truth.with_columns(pl.col("customer_id").cast(pl.String)).join(published, on="customer_id", how="inner")
    complete = joined.drop_nulls(["predicted_ltv", "predicted_orders", "predicted_revenue"])
    result: dict[str, dict[str, float]] = {
        "model": {"scored_fraction": complete.height / population if population else math.nan,
                  **(_model_measures(complete, seed) if complete.height else {})},
    }
    for prefix in ("oracle", "ceiling"):
        if f"{prefix}_ltv" in truth.columns:
            result[prefix] = _expectation_measures(truth, prefix, seed)
    return result


def flat(measures: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """`{"model": {"ltv_spearman": ..}}` as `{"model.ltv_spearman": ..}` (one row of a table)."""
    return {f"{who}.{name}": value for who, values in measures.items() for name, value in values.items()}
