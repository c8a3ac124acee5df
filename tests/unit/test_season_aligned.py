"""Season-aligned training (prediction/training.py): with a horizon shorter than a year, the
back-test pits boosted models trained on the latest labels against ones trained on labels
from the same calendar days a year earlier, and the winner's production model learns from
the rows whose labels show the season the forecast will meet."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from ltv_feature_sim import trainer_rows

from ltv_pipeline.prediction.boosted import BoostConfig
from ltv_pipeline.prediction.training import XGBOOST, XGBOOST_ALIGNED, score_customers, train_and_backtest

AS_OF = date(2024, 12, 31)
HORIZON = 180
PEAK = 2.5
"""Label margin multiplier of a label window in the second half of a year (the peak season)."""


def _rows(role: str, days_before: int, seed: int, peak: bool) -> pl.DataFrame:
    """One cutoff's rows; a peak-season label window multiplies the future margin (the
    customers' features cannot tell)."""
    frame = trainer_rows(2_500, seed, role=role, cutoff=AS_OF - timedelta(days=days_before), horizon_days=HORIZON)
    return frame.with_columns(label_margin=pl.col("label_margin") * (PEAK if peak else 1.0))


@pytest.fixture(scope="module")
def features() -> pl.DataFrame:
    # Labels of the evaluate cutoff (Jul-Dec) and of aligned_train (Jul-Dec a year
    # earlier) are in the peak season; those of train and aligned (Jan-Jun) are not.
    return pl.concat(
        [
            _rows("score", 0, 1, False),
            _rows("evaluate", HORIZON, 2, True),
            _rows("train", 2 * HORIZON, 3, False),
            _rows("aligned", 365, 4, False),
            _rows("aligned_train", HORIZON + 365, 5, True),
        ],
        how="diagonal_relaxed",
    )


def test_the_back_test_chooses_the_season_aligned_labels_and_production_learns_the_forecasts_season(features):
    config = BoostConfig(nthread=1, max_rounds=60)
    models = train_and_backtest(features, as_of=AS_OF, horizon_days=HORIZON, annual_discount_rate=0.1, config=config)
    ltv = models.evaluation.filter((pl.col("target") == "ltv") & (pl.col("metric") == "total_error_pct"))
    errors = dict(zip(ltv["model"], ltv["value"], strict=True))
    # trained on off-season labels, the latest-label model misses the peak the aligned one learnt
    assert errors[XGBOOST] < -40 and abs(errors[XGBOOST_ALIGNED]) < 15
    assert models.champions["ltv"] == XGBOOST_ALIGNED
    # totals on the forecast's calendar days (the aligned rows, off season): the latest-label
    # booster, trained on peak labels, overshoots them
    horizon = models.evaluation.filter((pl.col("target") == "ltv") & (pl.col("metric") == "horizon_total_error_pct"))
    on_forecast_days = dict(zip(horizon["model"], horizon["value"], strict=True))
    assert {"bgnbd_gamma_gamma", XGBOOST, XGBOOST_ALIGNED} <= set(on_forecast_days)
    assert on_forecast_days[XGBOOST] > 60 and abs(on_forecast_days[XGBOOST_ALIGNED]) < 15

    # the forecast window (Jan-Jun) is off season: production learnt from the aligned rows,
    # so the published total is near an off-season total, not the latest (peak) labels'
    scores = score_customers(models, features)
    off_season = features.filter(pl.col("cutoff_role") == "aligned")["label_margin"].mean()
    peak = features.filter(pl.col("cutoff_role") == "evaluate")["label_margin"].mean()
    published = float(np.mean(scores["predicted_ltv"].to_numpy()))
    assert abs(published / off_season - 1) < 0.2
    assert published < 0.6 * peak


def test_without_aligned_cutoffs_only_the_latest_labels_are_candidates(features):
    config = BoostConfig(nthread=1, max_rounds=30)
    latest_only = features.filter(~pl.col("cutoff_role").is_in(["aligned", "aligned_train"]))
    models = train_and_backtest(latest_only, as_of=AS_OF, horizon_days=HORIZON, annual_discount_rate=0.1, config=config)
    assert XGBOOST_ALIGNED not in set(models.evaluation["model"])
