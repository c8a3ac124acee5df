"""Back-testing: metrics for LTV and churn predictions, the baselines every model must beat,
the champion rule and the contract's `model_evaluation` table, and the decile chart.

Pure functions on arrays and polars frames; the back-test asset decides which cutoff and
which customers they are applied to.
"""

from ltv_pipeline.prediction.evaluation.baselines import (
    CLASSIC_FORMULA,
    LAST_PERIOD,
    RECENCY,
    classic_formula_ltv,
    horizon_discount_factor,
    last_period_ltv,
    observed_churn_rate,
    recency_churn_score,
)
from ltv_pipeline.prediction.evaluation.champion import RULES, ChampionRule, Target, is_baseline, pick_champion
from ltv_pipeline.prediction.evaluation.chart import decile_chart_png
from ltv_pipeline.prediction.evaluation.churn_metrics import (
    brier,
    calibration_table,
    churn_metrics,
    expected_calibration_error,
    pr_auc,
    roc_auc,
)
from ltv_pipeline.prediction.evaluation.conformal import conformal_stretch, stretch_band
from ltv_pipeline.prediction.evaluation.evaluation_table import (
    EVALUATIONS,
    MODEL_EVALUATION_SCHEMA,
    Evaluation,
    model_evaluation_table,
)
from ltv_pipeline.prediction.evaluation.ltv_metrics import (
    decile_mape_pct,
    decile_table,
    gini,
    interval_coverage,
    ltv_metrics,
    mae,
    normalized_gini,
    spearman,
    total_error_pct,
)
from ltv_pipeline.prediction.evaluation.orders_metrics import orders_metrics, paired_mae_gain, pearson

__all__ = [
    "CLASSIC_FORMULA",
    "EVALUATIONS",
    "LAST_PERIOD",
    "MODEL_EVALUATION_SCHEMA",
    "RECENCY",
    "RULES",
    "ChampionRule",
    "Evaluation",
    "Target",
    "brier",
    "calibration_table",
    "churn_metrics",
    "classic_formula_ltv",
    "conformal_stretch",
    "decile_chart_png",
    "decile_mape_pct",
    "decile_table",
    "expected_calibration_error",
    "gini",
    "horizon_discount_factor",
    "interval_coverage",
    "is_baseline",
    "last_period_ltv",
    "ltv_metrics",
    "mae",
    "model_evaluation_table",
    "normalized_gini",
    "orders_metrics",
    "paired_mae_gain",
    "pearson",
    "observed_churn_rate",
    "pick_champion",
    "pr_auc",
    "recency_churn_score",
    "roc_auc",
    "spearman",
    "stretch_band",
    "total_error_pct",
]
