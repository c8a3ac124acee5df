"""The `model_evaluation` table of the contract: one row per model x target x metric.

Long format so that a new metric or model needs no schema change, and so that candidates
and baselines sit side by side. `is_champion` comes from the rule in `champion.py` and is
the same on every row of the flagged model for that target.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

import polars as pl

from ltv_pipeline.prediction.evaluation.champion import Target, pick_champion

Evaluation = Literal["out_of_time", "customer_holdout"]
EVALUATIONS: tuple[str, ...] = ("out_of_time", "customer_holdout")

MODEL_EVALUATION_SCHEMA: dict[str, pl.DataType] = {
    "as_of": pl.Date(),
    "model": pl.String(),
    "target": pl.String(),
    "metric": pl.String(),
    "value": pl.Float64(),
    "evaluation": pl.String(),
    "is_champion": pl.Boolean(),
}


def model_evaluation_table(
    as_of: date,
    evaluation: Evaluation,
    results: Mapping[Target, Mapping[str, Mapping[str, float]]],
) -> pl.DataFrame:
    """Rows in exactly the contract's columns, sorted by target, model and metric.

    `results` maps target -> model -> metric -> value, for one back-test of kind
    `evaluation`. NaN values (a metric undefined on this data) are kept as NaN.
    """
    if evaluation not in EVALUATIONS:
        raise ValueError(f"evaluation must be one of {EVALUATIONS}, got {evaluation!r}")
    rows = []
    for target, models in results.items():
        champion = pick_champion(models, target)
        rows += [
            (as_of, model, target, metric, float(value), evaluation, model == champion)
            for model, metrics in models.items()
            for metric, value in metrics.items()
        ]
    return pl.DataFrame(rows, schema=MODEL_EVALUATION_SCHEMA, orient="row").sort(["target", "model", "metric"])
