"""Dagster assets of the `prediction` group: train + back-test (weekly), score (daily).

`ltv_models` writes its artifact to `<lake>/models/` (a zip of XGBoost boosters + JSON) and
hands it to `customer_predictions`, the published tables and the report through an IO
manager that reads that artifact back (prediction/model_io.py), so that a run that does not
train scores with the lake's models. Predictions go to the lake as Parquet.
"""

import base64

import dagster as dg
import polars as pl
from dagster_dbt import get_asset_key_for_model

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import atomic_write_bytes, atomic_write_parquet
from ltv_pipeline.core.model_store import training_fingerprint
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.marts.assets import marts_dbt_assets
from ltv_pipeline.marts.warehouse import read_relation
from ltv_pipeline.prediction.evaluation import decile_chart_png
from ltv_pipeline.prediction.model_io import MODEL_IO_MANAGER_KEY
from ltv_pipeline.prediction.probabilistic import next_order_date
from ltv_pipeline.prediction.reuse import reusable_models
from ltv_pipeline.prediction.training import TrainedModels, score_customers, train_and_backtest

CADENCE_TAG, WEEKLY = "ltv/cadence", "weekly"
"""Assets tagged `ltv/cadence: weekly` (training) are refitted by the weekly job; the daily one leaves them out."""

METRIC_FLOORS = {("ltv", "normalized_gini"): 0.2, ("ltv", "spearman"): 0.1, ("churn", "roc_auc"): 0.6}
"""The champion's back-test metrics must reach these, or the `champion_metric_floors` check fails."""


def features_key() -> dg.AssetKey:
    return get_asset_key_for_model([marts_dbt_assets()], "customer_features")



def _png_markdown(png: bytes) -> str:
    return f"![deciles](data:image/png;base64,{base64.b64encode(png).decode()})"


def _headline(models: TrainedModels) -> dict[str, float]:
    table = models.evaluation.filter(pl.col("is_champion"))
    return {f"{r['target']}_{r['metric']}": r["value"] for r in table.iter_rows(named=True)}


@dg.asset(
    group_name="prediction",
    deps=[features_key()],
    tags={CADENCE_TAG: WEEKLY},
    kinds={"xgboost", "python"},
    description=(
        "Back-tests BG/NBD + Gamma-Gamma, Pareto/NBD, XGBoost (two-part LTV, churn, orders) and the "
        "baselines on held-out history (out of time over a horizon when the history allows, else over "
        "the longest shorter window it allows), picks a champion per target (orders, LTV, churn; rules "
        "in prediction/evaluation/champion.py), calibrates the LTV interval on held-out customers, and "
        "fits the production models on the latest labelled data. Output: the model artifact. Models "
        "trained fewer than `retrain_days` days before as_of with the same settings and code are reused "
        "instead (prediction/reuse.py)."
    ),
    check_specs=[dg.AssetCheckSpec("champion_metric_floors", asset="ltv_models", description=str(METRIC_FLOORS))],
    io_manager_key=MODEL_IO_MANAGER_KEY,
)
def ltv_models(context: dg.AssetExecutionContext, settings: SettingsResource):
    resolved, as_of = settings.get(), settings.as_of()
    models = reusable_models(resolved, as_of)
    reused = models is not None
    if reused:
        artifact = layout.artifact_path(resolved, models.as_of)
        context.log.info(
            f"reusing the models trained as of {models.as_of} (retrain_days={resolved.retrain_days}): no refit"
        )
    else:
        features = read_relation(resolved, *features_key().path)
        models = train_and_backtest(
            features, as_of=as_of, horizon_days=resolved.horizon_days, annual_discount_rate=resolved.annual_discount_rate,
            sample_size=resolved.training_sample_size,
        )
        models.trained_with = training_fingerprint(resolved)
        for note in models.notes:
            context.log.warning(note)
        artifact = layout.artifact_path(resolved, as_of)
        artifact.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(models.to_bytes(), artifact)
    champion_deciles = models.deciles.get(models.champions["ltv"])
    metadata = {
        "as_of": as_of.isoformat(),
        "models_as_of": models.as_of.isoformat(),
        "models_reused": reused,
        "evaluation": models.evaluation_kind or "none",
        "champion_ltv": models.champions["ltv"],
        "champion_churn": models.champions["churn"],
        "champion_orders": models.champions["orders"],
        "artifact": dg.MetadataValue.path(str(artifact)),
        "notes": "; ".join(models.notes) or "none",
        "model_evaluation": dg.MetadataValue.md(models.evaluation.to_pandas().to_markdown(index=False) if models.evaluation.height else "no back-test"),
        **_headline(models),
    }
    if champion_deciles is not None:
        metadata["decile_chart"] = dg.MetadataValue.md(_png_markdown(decile_chart_png(champion_deciles)))
    yield dg.Output(models, metadata=metadata)
    yield _floor_check(models)


def _floor_check(models: TrainedModels) -> dg.AssetCheckResult:
    champions = models.evaluation.filter(pl.col("is_champion"))
    failures = []
    for (target, metric), floor in METRIC_FLOORS.items():
        row = champions.filter((pl.col("target") == target) & (pl.col("metric") == metric))
        if row.height and not row["value"][0] >= floor:
            failures.append(f"{target} champion {row['model'][0]}: {metric} = {row['value'][0]:.3f} < floor {floor}")
    return dg.AssetCheckResult(
        check_name="champion_metric_floors",
        passed=not failures,
        description="; ".join(failures) or ("all champion metrics above their floors" if champions.height else "no back-test to check"),
    )


@dg.asset(
    group_name="prediction",
    deps=[features_key()],
    kinds={"python", "parquet"},
    description=(
        "Every customer with an order up to as_of, scored with the champions, as one consistent "
        "prediction (prediction/consistency.py): expected orders, net revenue and discounted-margin LTV "
        "over horizon_days (the revenue is the one whose discounted margin is the LTV), an 80% interval, "
        "churn probability and the P(alive) that agrees with it, and the expected date of the next order "
        "for customers likely to be active. "
        "Written to <lake>/prediction/customer_predictions.parquet."
    ),
)
def customer_predictions(context: dg.AssetExecutionContext, settings: SettingsResource, ltv_models: TrainedModels):
    resolved, as_of = settings.get(), settings.as_of()
    features = read_relation(resolved, *features_key().path, where="cutoff_role = 'score'")
    scores = score_customers(ltv_models, features).with_columns(
        pl.lit(as_of).alias("as_of"),
        next_order_date(as_of, pl.col("next_order_days"), pl.col("p_alive")).alias("expected_next_order_date"),
    ).drop("next_order_days")
    path = atomic_write_parquet(scores, layout.predictions_path(resolved))
    context.log.info(f"scored {scores.height:,} customers as of {as_of}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": scores.height,
            "path": dg.MetadataValue.path(str(path)),
            "total_predicted_ltv": float(scores["predicted_ltv"].sum()),
            "mean_churn_probability": float(scores["churn_probability"].mean()),
            "models_as_of": ltv_models.as_of.isoformat(),
        }
    )


prediction_assets = [ltv_models, customer_predictions]
