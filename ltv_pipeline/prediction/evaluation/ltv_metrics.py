"""Back-test metrics for a predicted customer value against the realised one.

Ranking metrics (Spearman, normalised Gini) say whether the model finds the valuable
customers, which is what targeting and retention use; the decile MAPE and the total error
say whether the amounts are right, which is what budgets use; MAE is the per-customer
error. Ties in the prediction (a baseline that predicts 0 for most customers) are
resolved as the expectation over a random order of the tied customers, never by the
accident of input order, so a metric does not reward or punish a lucky row order.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import ArrayLike
from scipy.stats import rankdata

N_DECILES = 10


def _finite(name: str, values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _pair(actual: ArrayLike, predicted: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a, p = _finite("actual", actual), _finite("predicted", predicted)
    if a.size != p.size:
        raise ValueError(f"actual has {a.size} values but predicted has {p.size}")
    return a, p


def spearman(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Pearson correlation of the average ranks; NaN when either side is constant."""
    a, p = _pair(actual, predicted)
    ra, rp = rankdata(a) - (a.size + 1) / 2.0, rankdata(p) - (a.size + 1) / 2.0
    denominator = np.sqrt(np.dot(ra, ra) * np.dot(rp, rp))
    return float(np.dot(ra, rp) / denominator) if denominator > 0 else float("nan")


def gini(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Gini of `actual` ordered by `predicted`, highest first (the Lorenz-curve form).

    Within a group of tied predictions each customer's actual is replaced by the group's
    mean: by linearity that is the Gini's expected value over every order of the ties.
    """
    a, p = _pair(actual, predicted)
    total = a.sum()
    if a.size == 0 or total == 0:
        return float("nan")
    order = np.argsort(-p, kind="stable")
    p_sorted, a_sorted = p[order], a[order]
    group = np.cumsum(np.r_[True, p_sorted[1:] != p_sorted[:-1]]) - 1
    a_tied = (np.bincount(group, weights=a_sorted) / np.bincount(group))[group]
    n = a.size
    return float((np.cumsum(a_tied).sum() / total - (n + 1) / 2.0) / n)


def normalized_gini(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Gini by prediction over Gini of the perfect order: 1 = perfect ranking, 0 = random."""
    best = gini(actual, actual)
    return gini(actual, predicted) / best if np.isfinite(best) and best != 0 else float("nan")


def decile_table(actual: ArrayLike, predicted: ArrayLike) -> pl.DataFrame:
    """Customers in deciles of predicted value, decile 1 = the highest predictions.

    A customer's decile comes from its average rank, so tied predictions always share a
    decile; with heavy ties some deciles are larger than a tenth and some are empty
    (empty ones are left out). Columns: `decile`, `customers`, `predicted_mean`,
    `actual_mean`, `predicted_total`, `actual_total`.
    """
    a, p = _pair(actual, predicted)
    decile = (np.floor((rankdata(-p) - 1.0) * N_DECILES / max(a.size, 1)) + 1).astype(np.int32)
    return (
        pl.DataFrame({"decile": decile, "actual": a, "predicted": p})
        .group_by("decile")
        .agg(
            customers=pl.len().cast(pl.Int64),
            predicted_mean=pl.col("predicted").mean(),
            actual_mean=pl.col("actual").mean(),
            predicted_total=pl.col("predicted").sum(),
            actual_total=pl.col("actual").sum(),
        )
        .sort("decile")
    )


def decile_mape_pct(actual: ArrayLike, predicted: ArrayLike) -> float:
    """Mean over deciles of |predicted total - actual total| / |actual total|, in percent.

    Deciles whose actual total is 0 have no percentage error and are left out; NaN if all are.
    """
    table = decile_table(actual, predicted).filter(pl.col("actual_total") != 0)
    if table.height == 0:
        return float("nan")
    errors = (table["predicted_total"] - table["actual_total"]).abs() / table["actual_total"].abs()
    return float(errors.mean() * 100.0)


def total_error_pct(actual: ArrayLike, predicted: ArrayLike) -> float:
    """(sum predicted - sum actual) / |sum actual| in percent: + means over-forecast."""
    a, p = _pair(actual, predicted)
    total = a.sum()
    return float((p.sum() - total) / abs(total) * 100.0) if total != 0 else float("nan")


def mae(actual: ArrayLike, predicted: ArrayLike) -> float:
    a, p = _pair(actual, predicted)
    return float(np.mean(np.abs(p - a))) if a.size else float("nan")


def interval_coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of customers whose realised value lies in [lower, upper] (bounds included)."""
    a, lo = _pair(actual, lower)
    _, hi = _pair(actual, upper)
    return float(np.mean((a >= lo) & (a <= hi))) if a.size else float("nan")


def ltv_metrics(
    actual: ArrayLike,
    predicted: ArrayLike,
    lower: ArrayLike | None = None,
    upper: ArrayLike | None = None,
) -> dict[str, float]:
    """Every LTV metric under its `model_evaluation` name; interval ones only with bounds."""
    a, p = _pair(actual, predicted)
    metrics = {
        "spearman": spearman(a, p),
        "normalized_gini": normalized_gini(a, p),
        "decile_mape_pct": decile_mape_pct(a, p),
        "total_error_pct": total_error_pct(a, p),
        "abs_total_error_pct": abs(total_error_pct(a, p)),
        "mae": mae(a, p),
        "n_customers": float(a.size),
    }
    if lower is not None and upper is not None:
        lo, hi = _finite("lower", lower), _finite("upper", upper)
        metrics["interval_coverage"] = interval_coverage(a, lo, hi)
        metrics["interval_width_mean"] = float(np.mean(hi - lo)) if a.size else float("nan")
    return metrics
