"""Back-test every candidate against baselines, pick champions, and train the production models.

Out-of-time when history allows: models trained on the `train` cutoff (labels ending at
as_of - horizon) are evaluated on the `evaluate` cutoff (labels = the last horizon).
Otherwise a customer holdout at the `evaluate` cutoff (70% train / 30% evaluate, split by
a hash of customer_id), and the table says so. Whatever cannot be trained is skipped with a
note; with no labelled cutoff at all, BG/NBD alone is fitted and scores everyone.

Production models are then fitted on the latest labelled data: XGBoost on the `evaluate`
cutoff (labels up to as_of), BG/NBD + Gamma-Gamma on the `score` cutoff (history up to as_of).
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from ltv_pipeline.core.model_store import ARTIFACT_FORMAT
from ltv_pipeline.core.timing import span
from ltv_pipeline.prediction.boosted import (
    BoostConfig,
    BoostedModel,
    bounded_sample,
    hash_unit,
    predict_churn,
    predict_ltv,
    train_churn_model,
    train_ltv_model,
)
from ltv_pipeline.prediction.btyd import BgNbdParams, GammaGammaParams
from ltv_pipeline.prediction.evaluation import (
    CLASSIC_FORMULA,
    LAST_PERIOD,
    MODEL_EVALUATION_SCHEMA,
    RECENCY,
    calibration_table,
    churn_metrics,
    classic_formula_ltv,
    decile_table,
    last_period_ltv,
    ltv_metrics,
    model_evaluation_table,
    pick_champion,
    recency_churn_score,
)
from ltv_pipeline.prediction.probabilistic import BtydModel, fit_btyd, predict_btyd

BTYD = "bgnbd_gamma_gamma"
XGBOOST = "xgboost"
MIN_TRAIN_CUSTOMERS = 500
"""Fewer labelled customers than this at a cutoff: XGBoost is not trained there."""
MIN_CLASS_COUNT = 25
"""Each label class (buyers and churners) needs this many examples to train a classifier."""
HOLDOUT_SHARE = 0.3
HOLDOUT_SEED = 1
"""Seed of the holdout split's customer hash; not 0, the seed of the training sample."""

BASE_FEATURES: tuple[str, ...] = (
    "n_orders", "n_purchase_days", "frequency", "btyd_recency", "tenure_days", "recency_days",
    "total_net_revenue", "total_margin", "monetary_mean", "btyd_monetary", "first_order_margin",
    "first_order_value", "ipt_mean", "ipt_std", "days_first_to_second", "orders_first_30d",
    "orders_30d", "orders_90d", "orders_180d", "trend", "margin_90d", "margin_last_horizon",
    "refund_rate", "tickets_total", "tickets_90d", "csat_mean", "csat_last", "low_csat_tickets",
)
BTYD_FEATURES: tuple[str, ...] = ("btyd_expected_orders", "btyd_p_alive", "btyd_clv")
FEATURES = BASE_FEATURES + BTYD_FEATURES


@dataclass
class TrainedModels:
    """What the training asset hands to scoring: the artifact, with its provenance."""

    as_of: date
    horizon_days: int
    annual_discount_rate: float
    evaluation_kind: str | None
    champions: dict[str, str]
    btyd: BtydModel
    ltv_model: BoostedModel | None
    churn_model: BoostedModel | None
    evaluation: pl.DataFrame
    deciles: dict[str, pl.DataFrame] = field(default_factory=dict)
    """LTV back-test: decile table per model."""
    calibration: dict[str, pl.DataFrame] = field(default_factory=dict)
    """Churn back-test: calibration table per model."""
    notes: list[str] = field(default_factory=list)
    trained_with: dict[str, Any] = field(default_factory=dict)
    """The settings and code version the models depend on (`prediction/reuse.py`): a later run
    reuses them only if its own are the same."""

    def to_bytes(self) -> bytes:
        """A zip of the boosters (XGBoost's own format) and the rest as JSON/Parquet: no pickle."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, model in (("ltv", self.ltv_model), ("churn", self.churn_model)):
                if model is not None:
                    zf.writestr(f"{name}.zip", model.to_bytes())
            meta = {
                "format": ARTIFACT_FORMAT,
                "as_of": self.as_of.isoformat(), "horizon_days": self.horizon_days, "champions": self.champions,
                "annual_discount_rate": self.annual_discount_rate,
                "evaluation_kind": self.evaluation_kind, "notes": self.notes, "trained_with": self.trained_with,
                "bgnbd": dataclasses.asdict(self.btyd.bgnbd),
                "gamma_gamma": None if self.btyd.gamma_gamma is None else dataclasses.asdict(self.btyd.gamma_gamma),
                "btyd_cutoff": self.btyd.cutoff.isoformat(), "btyd_fallback_value": self.btyd.fallback_value,
            }
            zf.writestr("model.json", json.dumps(meta, indent=2, default=str))
            tables = {"model_evaluation": self.evaluation}
            tables |= {f"deciles/{name}": frame for name, frame in self.deciles.items()}
            tables |= {f"calibration/{name}": frame for name, frame in self.calibration.items()}
            for name, frame in tables.items():
                table = io.BytesIO()
                frame.write_parquet(table)
                zf.writestr(f"{name}.parquet", table.getvalue())
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, raw: bytes) -> TrainedModels:
        """The models `to_bytes` wrote; raises ValueError for an artifact of another format."""
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            meta = json.loads(zf.read("model.json"))
            if meta.get("format") != ARTIFACT_FORMAT:
                raise ValueError(f"unsupported models artifact format {meta.get('format')!r}")
            names = set(zf.namelist())

            def table(name: str) -> pl.DataFrame:
                return pl.read_parquet(io.BytesIO(zf.read(f"{name}.parquet")))

            def boosted(name: str) -> BoostedModel | None:
                return BoostedModel.from_bytes(zf.read(f"{name}.zip")) if f"{name}.zip" in names else None

            def by_model(folder: str) -> dict[str, pl.DataFrame]:
                found = sorted(n for n in names if n.startswith(f"{folder}/") and n.endswith(".parquet"))
                return {n[len(folder) + 1 : -len(".parquet")]: table(n[: -len(".parquet")]) for n in found}

            gg = meta["gamma_gamma"]
            btyd = BtydModel(
                bgnbd=BgNbdParams(**meta["bgnbd"]),
                gamma_gamma=None if gg is None else GammaGammaParams(**gg),
                cutoff=date.fromisoformat(meta["btyd_cutoff"]),
                fallback_value=float(meta["btyd_fallback_value"]),
            )
            return cls(
                as_of=date.fromisoformat(meta["as_of"]), horizon_days=int(meta["horizon_days"]),
                annual_discount_rate=float(meta["annual_discount_rate"]), evaluation_kind=meta["evaluation_kind"],
                champions=dict(meta["champions"]), btyd=btyd, ltv_model=boosted("ltv"), churn_model=boosted("churn"),
                evaluation=table("model_evaluation"), deciles=by_model("deciles"), calibration=by_model("calibration"),
                notes=list(meta["notes"]), trained_with=dict(meta["trained_with"]),
            )


def _with_btyd_features(model: BtydModel, frame: pl.DataFrame, horizon_days: int, rate: float) -> pl.DataFrame:
    preds = predict_btyd(model, frame, horizon_days=horizon_days, annual_discount_rate=rate, with_interval=False)
    return _with_btyd_columns(frame, preds)


def _with_btyd_columns(frame: pl.DataFrame, preds: pl.DataFrame) -> pl.DataFrame:
    """`frame` plus the BTYD features, from `predict_btyd` output for the same rows (same order)."""
    return frame.with_columns(
        btyd_expected_orders=preds["predicted_orders"],
        btyd_p_alive=preds["p_alive"],
        btyd_clv=preds["predicted_ltv"],
    )


def _trainable(frame: pl.DataFrame) -> str | None:
    """Why XGBoost cannot be trained on this labelled frame, or None."""
    if frame.height < MIN_TRAIN_CUSTOMERS:
        return f"only {frame.height} labelled customers (need {MIN_TRAIN_CUSTOMERS})"
    churners = int(frame["label_churn"].sum())
    buyers = frame.height - churners
    if min(churners, buyers) < MIN_CLASS_COUNT:
        return f"too few buyers ({buyers}) or churners ({churners}) to learn from (need {MIN_CLASS_COUNT} each)"
    return None


def _fit_boosted(frame: pl.DataFrame, *, horizon_days: int, as_of: date, sample_size: int, config: BoostConfig):
    sample = bounded_sample(frame, sample_size, seed=0)
    with span("xgboost_ltv_fit"):
        ltv = train_ltv_model(sample, FEATURES, horizon_days=horizon_days, as_of=as_of, config=config)
    with span("xgboost_churn_fit"):
        churn = train_churn_model(sample, FEATURES, horizon_days=horizon_days, as_of=as_of, config=config)
    return ltv, churn


def _split_for_backtest(features: pl.DataFrame) -> tuple[str | None, pl.DataFrame, pl.DataFrame, list[str]]:
    """(evaluation kind, training rows, evaluation rows, notes)."""
    train = features.filter(pl.col("cutoff_role") == "train")
    evaluate = features.filter(pl.col("cutoff_role") == "evaluate")
    if evaluate.is_empty():
        return None, train, evaluate, ["history shorter than one horizon: no back-test possible, BG/NBD alone scores"]
    if train.height and _trainable(train) is None:
        return "out_of_time", train, evaluate, []
    in_holdout = hash_unit(evaluate["customer_id"], HOLDOUT_SEED) < HOLDOUT_SHARE
    notes = ["history shorter than two horizons: the back-test is a customer holdout at as_of - horizon"]
    return "customer_holdout", evaluate.filter(~pl.Series(in_holdout)), evaluate.filter(pl.Series(in_holdout)), notes


def train_and_backtest(
    features: pl.DataFrame,
    *,
    as_of: date,
    horizon_days: int,
    annual_discount_rate: float,
    sample_size: int = 200_000,
    config: BoostConfig | None = None,
) -> TrainedModels:
    """The whole training step on `customer_features` rows (all cutoffs)."""
    config = config or BoostConfig()
    kind, train, evaluate, notes = _split_for_backtest(features)
    results: dict[str, dict[str, dict[str, float]]] = {"ltv": {}, "churn": {}}
    deciles: dict[str, pl.DataFrame] = {}
    calibration: dict[str, pl.DataFrame] = {}

    labelled = features.filter(pl.col("cutoff_role") == "evaluate")
    btyd_eval = None
    if kind is not None:
        # BG/NBD is calibrated on history up to the evaluation cutoff and predicts its horizon.
        btyd_eval = fit_btyd(labelled, horizon_days)
        btyd_preds = predict_btyd(btyd_eval, evaluate, horizon_days=horizon_days, annual_discount_rate=annual_discount_rate)
        eval_frame = _with_btyd_columns(evaluate, btyd_preds)
        actual_ltv = evaluate["label_margin"].to_numpy()
        actual_churn = evaluate["label_churn"].to_numpy()
        results["ltv"][BTYD] = ltv_metrics(
            actual_ltv, btyd_preds["predicted_ltv"].to_numpy(), btyd_preds["ltv_lower"].to_numpy(), btyd_preds["ltv_upper"].to_numpy()
        )
        results["churn"][BTYD] = churn_metrics(actual_churn, btyd_preds["churn_probability"].to_numpy())
        calibration[BTYD] = calibration_table(actual_churn, btyd_preds["churn_probability"].to_numpy())
        deciles[BTYD] = decile_table(actual_ltv, btyd_preds["predicted_ltv"].to_numpy())
        _baselines(results, evaluate, horizon_days, annual_discount_rate, notes)

        reason = _trainable(train)
        if reason is None:
            btyd_train = fit_btyd(train, horizon_days) if kind == "out_of_time" else btyd_eval
            train_frame = _with_btyd_features(btyd_train, train, horizon_days, annual_discount_rate)
            ltv_bt, churn_bt = _fit_boosted(train_frame, horizon_days=horizon_days, as_of=as_of, sample_size=sample_size, config=config)
            ltv_pred = predict_ltv(ltv_bt, eval_frame)
            churn_pred = predict_churn(churn_bt, eval_frame)
            results["ltv"][XGBOOST] = ltv_metrics(
                actual_ltv, ltv_pred["predicted_ltv"].to_numpy(), ltv_pred["ltv_lower"].to_numpy(), ltv_pred["ltv_upper"].to_numpy()
            )
            results["churn"][XGBOOST] = churn_metrics(actual_churn, churn_pred["churn_probability"].to_numpy())
            calibration[XGBOOST] = calibration_table(actual_churn, churn_pred["churn_probability"].to_numpy())
            deciles[XGBOOST] = decile_table(actual_ltv, ltv_pred["predicted_ltv"].to_numpy())
        else:
            notes.append(f"XGBoost not back-tested: {reason}")

    champions = {target: pick_champion(models, target) or BTYD for target, models in results.items() if models}
    champions = {"ltv": champions.get("ltv", BTYD), "churn": champions.get("churn", BTYD)}
    evaluation = model_evaluation_table(as_of, kind, results) if kind else _empty_evaluation()

    score_rows = features.filter(pl.col("cutoff_role") == "score")
    btyd_final = fit_btyd(score_rows, horizon_days)
    ltv_model = churn_model = None
    if XGBOOST in champions.values() and btyd_eval is not None:
        # The production models learn from the labels up to as_of, with BTYD features from
        # the fit on those same rows: the back-test's `btyd_eval`, and out of time its
        # `eval_frame` (the evaluate rows are then exactly the labelled rows).
        label_frame = (
            eval_frame if kind == "out_of_time"
            else _with_btyd_features(btyd_eval, labelled, horizon_days, annual_discount_rate)
        )
        ltv_model, churn_model = _fit_boosted(
            label_frame, horizon_days=horizon_days, as_of=as_of, sample_size=sample_size, config=config,
        )
    return TrainedModels(
        as_of=as_of, horizon_days=horizon_days, annual_discount_rate=annual_discount_rate, evaluation_kind=kind,
        champions=champions, btyd=btyd_final, ltv_model=ltv_model, churn_model=churn_model,
        evaluation=evaluation, deciles=deciles, calibration=calibration, notes=notes,
    )


def _baselines(results, evaluate: pl.DataFrame, horizon_days: int, rate: float, notes: list[str]) -> None:
    actual_ltv = evaluate["label_margin"].to_numpy()
    try:
        results["ltv"][CLASSIC_FORMULA] = ltv_metrics(actual_ltv, classic_formula_ltv(evaluate, horizon_days, rate))
    except ValueError as exc:
        notes.append(f"classic-formula baseline skipped: {exc}")
    results["ltv"][LAST_PERIOD] = ltv_metrics(actual_ltv, last_period_ltv(evaluate, horizon_days, rate))
    results["churn"][RECENCY] = churn_metrics(evaluate["label_churn"].to_numpy(), recency_churn_score(evaluate, horizon_days))


def _empty_evaluation() -> pl.DataFrame:
    return pl.DataFrame(schema=MODEL_EVALUATION_SCHEMA)


def score_customers(models: TrainedModels, features: pl.DataFrame) -> pl.DataFrame:
    """Every customer at the `score` cutoff, with the champions' predictions.

    predicted_orders, predicted_revenue, p_alive and the next-order date always come from
    BG/NBD (the only model of purchase counts); predicted_ltv (+ interval) and
    churn_probability from the champion of each target. A baseline champion has no interval:
    the BG/NBD interval is kept then.
    """
    rows = features.filter(pl.col("cutoff_role") == "score")
    boosted_ltv = models.champions["ltv"] == XGBOOST and models.ltv_model is not None
    boosted_churn = models.champions["churn"] == XGBOOST and models.churn_model is not None
    # The BTYD interval (a Monte Carlo run) is only computed where it is published: when
    # XGBoost is the LTV champion its own interval replaces it.
    btyd = predict_btyd(
        models.btyd, rows, horizon_days=models.horizon_days, annual_discount_rate=models.annual_discount_rate,
        with_interval=not boosted_ltv,
    )
    scores = btyd
    frame = _with_btyd_columns(rows, btyd) if boosted_ltv or boosted_churn else None
    if boosted_ltv:
        # predictions come back in the order of `frame`, which is the order of `scores`
        boosted = predict_ltv(models.ltv_model, frame)
        scores = scores.drop("predicted_ltv", "ltv_lower", "ltv_upper").hstack(
            boosted.select("predicted_ltv", "ltv_lower", "ltv_upper")
        )
    elif models.champions["ltv"] == LAST_PERIOD:
        scores = scores.with_columns(predicted_ltv=pl.Series(last_period_ltv(rows, models.horizon_days, models.annual_discount_rate)))
    elif models.champions["ltv"] == CLASSIC_FORMULA:
        scores = scores.with_columns(
            predicted_ltv=pl.Series(classic_formula_ltv(rows, models.horizon_days, models.annual_discount_rate))
        )
    if boosted_churn:
        churn = predict_churn(models.churn_model, frame).select("churn_probability")
        scores = scores.drop("churn_probability").hstack(churn)
    elif models.champions["churn"] == RECENCY:
        scores = scores.with_columns(churn_probability=pl.Series(np.clip(recency_churn_score(rows, models.horizon_days), 0, 1)))
    return scores
