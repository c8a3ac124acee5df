"""Back-test every candidate against baselines, pick champions, and train the production models.

Out of time whenever the history allows: models trained on the `train` cutoff (labels
ending at as_of - horizon) are evaluated on the `evaluate` cutoff (labels = the last
horizon). When the `train` cutoff holds too few customers (a history under about two and a
half horizons) and the feature table has the shorter-window cutoffs, the same out-of-time
back-test runs over that window (`window_train` -> `window_evaluate`), so a model that
ignores seasonality, decay or a shift is still caught; the boosted models then learn the
window's labels and scoring carries them to the horizon (prediction/consistency.py).
Otherwise a customer holdout at the `evaluate` cutoff (70% train / 30% evaluate, split by
a hash of customer_id), and the table says so. Whatever cannot be trained is skipped with a
note; with no labelled cutoff at all, BG/NBD alone is fitted and scores everyone.

Targets: `orders` (purchase days), `ltv` (discounted margin), `churn` (no order). Pareto/NBD
is a candidate for `orders` only: it is fitted on the same rows as BG/NBD, and when it wins
the back-test the production Pareto/NBD is fitted on the `score` cutoff. The champion interval is stretched by a split-conformal factor found on the back-test's
held-out customers (evaluation/conformal.py).

Season-aligned training: with a horizon shorter than a year, the latest labels (the last
horizon) cover other calendar days than the forecast will. When the feature table has the
`aligned_train` and `aligned` cutoffs (labels on the same calendar days one year earlier),
the horizon-long back-test also trains XGBoost on `aligned_train`, whose labels fall on the
calendar days of the `evaluate` labels one year before, as the candidate `xgboost_aligned`.
Where it wins a target, its production model learns from the `aligned` rows (labels on the
forecast's calendar days one year earlier) instead of the latest ones.

Totals on the forecast's calendar: where the back-test's labels are shorter than the
horizon (the window) or fall on other calendar days (a horizon under a year), the LTV and
orders candidates are also judged on the total of labels as long as the forecast and on its
calendar days (the last labelled horizon, or the `aligned` rows), on held-out customers
(`_horizon_totals`); the champion rule's total bars read those figures (champion.py).

Production models are then fitted on the latest labelled data (labels ending at as_of), or
the aligned data for the `xgboost_aligned` champions: XGBoost for the targets it is
champion of, BG/NBD + Gamma-Gamma on the `score` cutoff.
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
    predict_orders,
    train_churn_model,
    train_ltv_model,
    train_orders_model,
)
from ltv_pipeline.prediction.btyd.pareto_nbd import ParetoNbdParams
from ltv_pipeline.prediction.consistency import (
    consistent_p_alive,
    margin_share,
    revenue_from_ltv,
    window_to_horizon,
)
from ltv_pipeline.prediction.evaluation import (
    CLASSIC_FORMULA,
    LAST_PERIOD,
    MODEL_EVALUATION_SCHEMA,
    RECENCY,
    calibration_table,
    churn_metrics,
    classic_formula_ltv,
    conformal_stretch,
    decile_table,
    last_period_ltv,
    ltv_metrics,
    model_evaluation_table,
    observed_churn_rate,
    orders_metrics,
    paired_mae_gain,
    pick_champion,
    recency_churn_score,
    stretch_band,
    total_error_pct,
)
from ltv_pipeline.prediction.probabilistic import (
    BtydModel,
    fit_btyd,
    fit_pareto,
    predict_btyd,
    predict_pareto_orders,
)
from ltv_pipeline.prediction.silence import silence_factors

BTYD = "bgnbd_gamma_gamma"
PARETO = "pareto_nbd"
XGBOOST = "xgboost"
XGBOOST_ALIGNED = "xgboost_aligned"
BOOSTED = (XGBOOST, XGBOOST_ALIGNED)
MIN_TRAIN_CUSTOMERS = 500
"""Fewer labelled customers than this at a cutoff: XGBoost is not trained there."""
MIN_CLASS_COUNT = 25
"""Each label class (buyers and churners) needs this many examples to train a classifier."""
HOLDOUT_SHARE = 0.3
HOLDOUT_SEED = 1
"""Seed of the holdout split's customer hash; not 0, the seed of the training sample."""
LONG_BACKTEST_SHARE = 0.25
"""The horizon-long back-test is preferred to the shorter window while its `train` cutoff
holds at least this share of the `evaluate` cutoff's customers."""

BASE_FEATURES: tuple[str, ...] = (
    "n_orders", "n_purchase_days", "frequency", "btyd_recency", "tenure_days", "recency_days",
    "total_net_revenue", "total_margin", "monetary_mean", "btyd_monetary", "first_order_margin",
    "first_order_value", "ipt_mean", "ipt_std", "days_first_to_second", "orders_first_30d",
    "orders_30d", "orders_90d", "orders_180d", "trend", "margin_90d", "margin_last_horizon",
    "refund_rate", "tickets_total", "tickets_90d", "csat_mean", "csat_last", "low_csat_tickets",
    "days_since_ticket", "days_since_low_csat",
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
    orders_model: BoostedModel | None = None
    label_days: int | None = None
    """Label window of the boosted models (the horizon unless the back-test ran on a shorter window)."""
    interval_stretch: float = 1.0
    """Split-conformal stretch of the published LTV interval (evaluation/conformal.py)."""
    pareto_nbd: ParetoNbdParams | None = None
    """Fitted on the `score` cutoff when Pareto/NBD is the orders champion."""
    deciles: dict[str, pl.DataFrame] = field(default_factory=dict)
    """LTV back-test: decile table per model."""
    calibration: dict[str, pl.DataFrame] = field(default_factory=dict)
    """Churn back-test: calibration table per model."""
    notes: list[str] = field(default_factory=list)
    trained_with: dict[str, Any] = field(default_factory=dict)
    """The settings and code version the models depend on (`prediction/reuse.py`): a later run
    reuses them only if its own are the same."""

    def parameters(self, as_of: date) -> pl.DataFrame:
        """Rows for `model_parameters`: BTYD's, and Pareto/NBD's when it predicts the orders."""
        frame = self.btyd.parameters(as_of)
        if self.pareto_nbd is None:
            return frame
        rows = [
            (as_of, "pareto_nbd", name, float(getattr(self.pareto_nbd, name)), self.pareto_nbd.time_unit)
            for name in ("r", "alpha", "s", "beta")
        ]
        return pl.concat([frame, pl.DataFrame(rows, schema=frame.schema, orient="row")])

    def to_bytes(self) -> bytes:
        """A zip of the boosters (XGBoost's own format) and the rest as JSON/Parquet: no pickle."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, model in (("ltv", self.ltv_model), ("churn", self.churn_model), ("orders", self.orders_model)):
                if model is not None:
                    zf.writestr(f"{name}.zip", model.to_bytes())
            meta = {
                "format": ARTIFACT_FORMAT,
                "as_of": self.as_of.isoformat(), "horizon_days": self.horizon_days, "champions": self.champions,
                "annual_discount_rate": self.annual_discount_rate,
                "evaluation_kind": self.evaluation_kind, "notes": self.notes, "trained_with": self.trained_with,
                "label_days": self.label_days, "interval_stretch": self.interval_stretch,
                "btyd": self.btyd.to_dict(),
                "pareto_nbd": None if self.pareto_nbd is None else dataclasses.asdict(self.pareto_nbd),
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

            btyd = BtydModel.from_dict(meta["btyd"])
            return cls(
                as_of=date.fromisoformat(meta["as_of"]), horizon_days=int(meta["horizon_days"]),
                annual_discount_rate=float(meta["annual_discount_rate"]), evaluation_kind=meta["evaluation_kind"],
                champions=dict(meta["champions"]), btyd=btyd, ltv_model=boosted("ltv"), churn_model=boosted("churn"),
                evaluation=table("model_evaluation"), deciles=by_model("deciles"), calibration=by_model("calibration"),
                notes=list(meta["notes"]), trained_with=dict(meta["trained_with"]),
                orders_model=boosted("orders"), label_days=meta["label_days"],
                interval_stretch=float(meta["interval_stretch"]),
                pareto_nbd=None if meta.get("pareto_nbd") is None else ParetoNbdParams(**meta["pareto_nbd"]),
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


_TRAINERS = {"ltv": train_ltv_model, "churn": train_churn_model, "orders": train_orders_model}


def _fit_boosted(
    frame: pl.DataFrame, targets: tuple[str, ...], *, horizon_days: int, as_of: date, sample_size: int, config: BoostConfig
) -> dict[str, BoostedModel]:
    """One XGBoost model per target, on a bounded sample; `horizon_days` is the label window."""
    sample = bounded_sample(frame, sample_size, seed=0)
    models = {}
    for target in targets:
        with span(f"xgboost_{target}_fit"):
            models[target] = _TRAINERS[target](sample, FEATURES, horizon_days=horizon_days, as_of=as_of, config=config)
    return models


@dataclass(frozen=True)
class Backtest:
    """Which rows the back-test trains and evaluates on, and over which label window."""

    kind: str | None
    train: pl.DataFrame
    evaluate: pl.DataFrame
    labelled: pl.DataFrame
    """The rows whose labels end at as_of: what the production models learn from."""
    window_days: int
    notes: list[str]
    labelled_days: int = 0
    """Label window of `labelled` (0: the back-test's window)."""
    aligned_train: pl.DataFrame | None = None
    """Training rows whose labels fall on the `evaluate` labels' calendar days a year earlier."""
    aligned: pl.DataFrame | None = None
    """Production rows whose labels fall on the forecast's calendar days a year earlier."""
    horizon_check: pl.DataFrame | None = None
    """Rows whose labels are as long as the forecast and on its calendar days, where the
    back-test's are not (a shorter window, or a horizon under a year): they judge the
    candidates' totals (`_horizon_totals`)."""


def _role(features: pl.DataFrame, role: str) -> pl.DataFrame:
    return features.filter(pl.col("cutoff_role") == role)


def _split_for_backtest(features: pl.DataFrame, horizon_days: int) -> Backtest:
    train, evaluate = _role(features, "train"), _role(features, "evaluate")
    window_train, window_evaluate = _role(features, "window_train"), _role(features, "window_evaluate")
    long_ok = not evaluate.is_empty() and train.height > 0 and _trainable(train) is None
    window_ok = not window_evaluate.is_empty() and window_train.height > 0 and _trainable(window_train) is None
    if long_ok and (not window_ok or train.height >= LONG_BACKTEST_SHARE * evaluate.height):
        aligned_train, aligned = _role(features, "aligned_train"), _role(features, "aligned")
        if _trainable(aligned_train) is None and _trainable(aligned) is None:
            # the evaluate labels fall on other calendar days than the forecast: the aligned
            # rows' labels (the forecast's days a year earlier) judge the totals
            return Backtest("out_of_time", train, evaluate, evaluate, horizon_days, [], 0, aligned_train, aligned,
                            horizon_check=aligned)
        return Backtest("out_of_time", train, evaluate, evaluate, horizon_days, [])
    if window_ok:
        days = int(window_evaluate["label_days"][0])
        note = f"history shorter than about two and a half horizons: the back-test is out of time over a {days}-day window"
        if _trainable(evaluate) is None:
            # A whole horizon of labels shows a whole season: the production models learn it,
            # and the totals are judged on it.
            note += "; totals are judged over the whole horizon on the customers of the last labelled horizon"
            return Backtest("out_of_time", window_train, window_evaluate, evaluate, days, [note], horizon_days,
                            horizon_check=evaluate)
        note += f"; the boosted models learn {days}-day labels, carried to the horizon by BG/NBD"
        return Backtest("out_of_time", window_train, window_evaluate, window_evaluate, days, [note])
    if evaluate.is_empty():
        note = "history shorter than one horizon: no back-test possible, BG/NBD alone scores"
        return Backtest(None, train, evaluate, evaluate, horizon_days, [note])
    in_holdout = pl.Series(hash_unit(evaluate["customer_id"], HOLDOUT_SEED) < HOLDOUT_SHARE)
    notes = ["history shorter than two horizons: the back-test is a customer holdout at as_of - horizon"]
    return Backtest("customer_holdout", evaluate.filter(~in_holdout), evaluate.filter(in_holdout), evaluate, horizon_days, notes)


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
    bt = _split_for_backtest(features, horizon_days)
    window, rate, notes = bt.window_days, annual_discount_rate, list(bt.notes)
    results: dict[str, dict[str, dict[str, float]]] = {"ltv": {}, "churn": {}, "orders": {}}
    deciles: dict[str, pl.DataFrame] = {}
    calibration: dict[str, pl.DataFrame] = {}
    bands: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    churns: dict[str, np.ndarray] = {}

    btyd_eval = eval_frame = None
    if bt.kind is not None:
        # BG/NBD is calibrated on history up to the evaluation cutoff and predicts its window.
        btyd_eval = fit_btyd(bt.evaluate if bt.kind == "out_of_time" else bt.labelled, window)
        btyd_preds = predict_btyd(btyd_eval, bt.evaluate, horizon_days=window, annual_discount_rate=rate)
        eval_frame = _with_btyd_columns(bt.evaluate, btyd_preds)
        actual = {
            "ltv": bt.evaluate["label_margin"].to_numpy(),
            "churn": bt.evaluate["label_churn"].to_numpy(),
            "orders": bt.evaluate["label_orders"].cast(pl.Float64).to_numpy(),
        }
        btyd_band = tuple(btyd_preds[c].to_numpy() for c in ("predicted_ltv", "ltv_lower", "ltv_upper"))
        # BG/NBD's orders: what the other orders models must beat beyond the back-test's noise
        reference = btyd_preds["predicted_orders"].to_numpy()
        _score_candidate(results, deciles, calibration, bands, churns, BTYD, actual, btyd_band, btyd_preds["churn_probability"].to_numpy(), reference)
        try:
            pareto_eval = fit_pareto(bt.evaluate if bt.kind == "out_of_time" else bt.labelled)
            pareto_orders = predict_pareto_orders(pareto_eval, bt.evaluate, window)
            results["orders"][PARETO] = orders_metrics(actual["orders"], pareto_orders) | paired_mae_gain(
                actual["orders"], reference, pareto_orders
            )
        except FloatingPointError as exc:
            notes.append(f"Pareto/NBD not back-tested: {exc}")
        _baselines(results, bt.evaluate, window, horizon_days, rate, notes)
        for name in (CLASSIC_FORMULA, LAST_PERIOD):
            if name in results["ltv"] and BTYD in bands:
                bands[name] = (_baseline_ltv(name, bt.evaluate, window, horizon_days, rate), *btyd_band[1:])

        reason = _trainable(bt.train)
        if reason is None:
            btyd_train = fit_btyd(bt.train, window) if bt.kind == "out_of_time" else btyd_eval
            train_frame = _with_btyd_features(btyd_train, bt.train, window, rate)
            boosted = _fit_boosted(
                train_frame, tuple(_TRAINERS), horizon_days=window, as_of=as_of, sample_size=sample_size, config=config
            )
            _score_boosted(results, deciles, calibration, bands, churns, XGBOOST, actual, boosted, eval_frame,
                           reference, btyd_eval, window, rate)
        else:
            notes.append(f"XGBoost not back-tested: {reason}")
        if bt.aligned_train is not None:
            aligned_frame = _with_btyd_features(fit_btyd(bt.aligned_train, window), bt.aligned_train, window, rate)
            boosted = _fit_boosted(
                aligned_frame, tuple(_TRAINERS), horizon_days=window, as_of=as_of, sample_size=sample_size, config=config
            )
            _score_boosted(results, deciles, calibration, bands, churns, XGBOOST_ALIGNED, actual, boosted, eval_frame,
                           reference, btyd_eval, window, rate)
        if bt.horizon_check is not None:
            # a booster trained on the latest labels is judged as its production model learns;
            # the aligned one (or, with a short history, the horizon-long one) on the other customers
            latest = eval_frame if bt.aligned is not None and XGBOOST in results["ltv"] else None
            held_out_name = XGBOOST_ALIGNED if bt.aligned is not None else XGBOOST
            _horizon_totals(results, bt.horizon_check, horizon_days, as_of, rate, sample_size, config, notes,
                            held_out_name=held_out_name, latest=latest)

    champions = {target: pick_champion(models, target) or BTYD for target, models in results.items() if models}
    champions = {target: champions.get(target, BTYD) for target in ("ltv", "churn", "orders")}
    stretch = 1.0
    if champions["ltv"] in bands:
        # Calibrated on the band as published: with 0 inside it wherever the churn
        # champion's probability of no order gives the value an atom at 0.
        churn_champion = churns.get(champions["churn"], churns.get(BTYD))
        if champions["churn"] == RECENCY:
            churn_champion = np.clip(recency_churn_score(bt.evaluate, window), 0, 1)
        stretch = conformal_stretch(actual["ltv"], *bands[champions["ltv"]], churn_probability=churn_champion)
    evaluation = model_evaluation_table(as_of, bt.kind, results) if bt.kind else _empty_evaluation()

    btyd_final = fit_btyd(_role(features, "score"), horizon_days)
    pareto_final = fit_pareto(_role(features, "score")) if champions["orders"] == PARETO else None
    production: dict[str, BoostedModel] = {}
    boosted_targets = tuple(t for t, champion in champions.items() if champion == XGBOOST)
    aligned_targets = tuple(t for t, champion in champions.items() if champion == XGBOOST_ALIGNED)
    if aligned_targets and bt.aligned is not None:
        # Labels on the forecast's calendar days one year earlier, BTYD features from a fit on those rows.
        aligned_frame = _with_btyd_features(fit_btyd(bt.aligned, window), bt.aligned, window, rate)
        production |= _fit_boosted(
            aligned_frame, aligned_targets, horizon_days=window, as_of=as_of, sample_size=sample_size, config=config
        )
    if boosted_targets and btyd_eval is not None:
        # The production models learn from the labels up to as_of, with BTYD features from
        # the fit on those same rows: the back-test's `btyd_eval`, and out of time its
        # `eval_frame` (the evaluate rows are then exactly the labelled rows).
        label_days = bt.labelled_days or window
        if label_days != window:
            label_frame = _with_btyd_features(fit_btyd(bt.labelled, label_days), bt.labelled, label_days, rate)
        elif bt.kind == "out_of_time":
            label_frame = eval_frame
        else:
            label_frame = _with_btyd_features(btyd_eval, bt.labelled, window, rate)
        production |= _fit_boosted(
            label_frame, boosted_targets, horizon_days=label_days, as_of=as_of, sample_size=sample_size, config=config,
        )
    return TrainedModels(
        as_of=as_of, horizon_days=horizon_days, annual_discount_rate=annual_discount_rate, evaluation_kind=bt.kind,
        champions=champions, btyd=btyd_final, ltv_model=production.get("ltv"), churn_model=production.get("churn"),
        orders_model=production.get("orders"), label_days=bt.labelled_days or window, interval_stretch=stretch,
        evaluation=evaluation, deciles=deciles, calibration=calibration, notes=notes, pareto_nbd=pareto_final,
    )


def _horizon_totals(
    results, rows: pl.DataFrame, horizon_days: int, as_of: date, rate: float, sample_size: int, config: BoostConfig,
    notes: list[str], *, held_out_name: str, latest: pl.DataFrame | None,
) -> None:
    """Add `horizon_total_error_pct` / `horizon_abs_total_error_pct` to the LTV and orders
    results: totals on the held-out customers of `rows`, whose labels are as long as the
    forecast and fall on its calendar days. The BTYD models are fitted on history up to the
    cutoff of `rows`, so their figure is out of time; `held_out_name`'s boosters learn the
    labels of the other customers of `rows`, as its production model does; a booster of the
    latest labels (`latest`, with its BTYD features) predicts the held-out customers as its
    production model would; the baselines predict from each customer's history."""
    held_out = pl.Series(hash_unit(rows["customer_id"], HOLDOUT_SEED) < HOLDOUT_SHARE)
    train, check = rows.filter(~held_out), rows.filter(held_out)
    actual = {"ltv": check["label_margin"].to_numpy(), "orders": check["label_orders"].cast(pl.Float64).to_numpy()}
    btyd = fit_btyd(rows, horizon_days)
    preds = predict_btyd(btyd, check, horizon_days=horizon_days, annual_discount_rate=rate, with_interval=False)
    frame = _with_btyd_columns(check, preds)
    predicted = {
        "ltv": {BTYD: preds["predicted_ltv"].to_numpy()},
        "orders": {BTYD: preds["predicted_orders"].to_numpy()},
    }
    for name in (CLASSIC_FORMULA, LAST_PERIOD):
        if name not in results["ltv"]:
            continue
        try:
            predicted["ltv"][name] = _baseline_ltv(name, check, horizon_days, horizon_days, rate)
        except ValueError:  # the classic formula needs customers a horizon old
            continue
    if PARETO in results["orders"]:
        try:
            predicted["orders"][PARETO] = predict_pareto_orders(fit_pareto(rows), check, horizon_days)
        except FloatingPointError as exc:  # without the figure Pareto/NBD does not clear the total bar
            notes.append(f"Pareto/NBD's horizon-long total not measured: {exc}")
    learners = {held_out_name: (_with_btyd_features(btyd, train, horizon_days, rate), _trainable(train))}
    if latest is not None:
        learners[XGBOOST] = (latest, None)
    for name, (learn_from, reason) in learners.items():
        if name not in results["ltv"]:
            continue
        if reason is not None:
            notes.append(f"{name}'s horizon-long totals not measured: {reason}")
            continue
        boosted = _fit_boosted(learn_from, ("ltv", "orders"), horizon_days=horizon_days, as_of=as_of,
                               sample_size=sample_size, config=config)
        carry = silence_factors(btyd, frame, boosted["ltv"], horizon_days, rate)
        predicted["ltv"][name] = predict_ltv(boosted["ltv"], frame)["predicted_ltv"].to_numpy() * carry["ltv"]
        predicted["orders"][name] = predict_orders(boosted["orders"], frame)["predicted_orders"].to_numpy() * carry["orders"]
    for target, models in predicted.items():
        for name, values in models.items():
            total = total_error_pct(actual[target], values)
            results[target][name] |= {"horizon_total_error_pct": total, "horizon_abs_total_error_pct": abs(total)}


def _score_boosted(results, deciles, calibration, bands, churns, name: str, actual, boosted: dict[str, BoostedModel], frame: pl.DataFrame,
                   reference: np.ndarray, btyd: BtydModel, window: int, rate: float) -> None:
    """Record the back-test figures of one set of boosted models predicting `frame`, carried
    beyond their support by `btyd` as in production."""
    carry = silence_factors(btyd, frame, boosted["ltv"], window, rate)
    ltv_pred = predict_ltv(boosted["ltv"], frame)
    band = tuple(ltv_pred[c].to_numpy() * carry["ltv"] for c in ("predicted_ltv", "ltv_lower", "ltv_upper"))
    buy = 1.0 - predict_churn(boosted["churn"], frame)["churn_probability"].to_numpy()
    churn = 1.0 - buy * carry["buy"]
    orders = predict_orders(boosted["orders"], frame)["predicted_orders"].to_numpy() * carry["orders"]
    _score_candidate(results, deciles, calibration, bands, churns, name, actual, band, churn, orders, reference)


def _score_candidate(results, deciles, calibration, bands, churns, name: str, actual: dict[str, np.ndarray], band, churn, orders,
                     reference: np.ndarray | None = None) -> None:
    """Record one candidate's back-test figures for the three targets (and its churn
    probabilities, which place the zero atom in the calibrated interval)."""
    has_band = bool(np.all(np.isfinite(band[1])) and np.all(np.isfinite(band[2])))
    results["ltv"][name] = ltv_metrics(actual["ltv"], *(band if has_band else band[:1]))
    results["churn"][name] = churn_metrics(actual["churn"], churn)
    results["orders"][name] = orders_metrics(actual["orders"], orders)
    if reference is not None and name != BTYD:
        results["orders"][name] |= paired_mae_gain(actual["orders"], reference, orders)
    calibration[name] = calibration_table(actual["churn"], churn)
    churns[name] = np.asarray(churn, dtype=np.float64)
    deciles[name] = decile_table(actual["ltv"], band[0])
    if has_band:
        bands[name] = band


def _baseline_ltv(name: str, frame: pl.DataFrame, window: int, horizon_days: int, rate: float) -> np.ndarray:
    """A baseline's LTV over `window` days; the last-period baseline repeats the last
    horizon's margin at its daily rate when the window is shorter."""
    if name == LAST_PERIOD:
        return last_period_ltv(frame, window, rate) * (window / horizon_days)
    return classic_formula_ltv(frame, window, rate)


def _baselines(results, evaluate: pl.DataFrame, window: int, horizon_days: int, rate: float, notes: list[str]) -> None:
    actual_ltv = evaluate["label_margin"].to_numpy()
    try:
        results["ltv"][CLASSIC_FORMULA] = ltv_metrics(actual_ltv, _baseline_ltv(CLASSIC_FORMULA, evaluate, window, horizon_days, rate))
    except ValueError as exc:
        notes.append(f"classic-formula baseline skipped: {exc}")
    results["ltv"][LAST_PERIOD] = ltv_metrics(actual_ltv, _baseline_ltv(LAST_PERIOD, evaluate, window, horizon_days, rate))
    results["churn"][RECENCY] = churn_metrics(evaluate["label_churn"].to_numpy(), recency_churn_score(evaluate, window))


def _horizon_churn_rate(rows: pl.DataFrame, horizon_days: int, window: int) -> float:
    """The one-horizon churn rate seen at the cutoff; when no customer is a horizon old, the
    label window's rate compounded to the horizon, 1 - (1 - c_window) ** (horizon / window)."""
    try:
        return observed_churn_rate(rows, horizon_days)
    except ValueError:
        return 1.0 - (1.0 - observed_churn_rate(rows, window)) ** (horizon_days / window)


def _empty_evaluation() -> pl.DataFrame:
    return pl.DataFrame(schema=MODEL_EVALUATION_SCHEMA)


def score_customers(models: TrainedModels, features: pl.DataFrame) -> pl.DataFrame:
    """Every customer at the `score` cutoff, with the champions' predictions made consistent.

    Each target comes from its champion: predicted_orders from the orders champion (BG/NBD,
    Pareto/NBD or XGBoost),
    predicted_ltv (+ interval) from the LTV champion, churn_probability from the churn
    champion; boosted models learnt over a shorter window are carried to the horizon by
    BG/NBD's per-customer ratios. predicted_revenue is the revenue whose discounted margin
    is predicted_ltv, p_alive the probability of being active that agrees with the churn
    probability (prediction/consistency.py), the next-order date BG/NBD's. A baseline
    champion has no interval of its own: the BG/NBD interval is kept then. The interval is
    finally stretched by the back-test's conformal factor, and starts at 0 wherever the
    published churn probability puts an atom at 0 inside it (evaluation/conformal.py).
    """
    rows = _role(features, "score")
    horizon, rate = models.horizon_days, models.annual_discount_rate
    window = models.label_days or horizon
    boosted = {
        target: model
        for target, model in (("ltv", models.ltv_model), ("churn", models.churn_model), ("orders", models.orders_model))
        if model is not None and models.champions.get(target) in BOOSTED
    }
    # The BTYD interval (a Monte Carlo run) is only computed where it is published.
    btyd = predict_btyd(models.btyd, rows, horizon_days=horizon, annual_discount_rate=rate, with_interval="ltv" not in boosted)
    ltv, lower, upper = (btyd[c].to_numpy() for c in ("predicted_ltv", "ltv_lower", "ltv_upper"))
    orders, churn = btyd["predicted_orders"].to_numpy(), btyd["churn_probability"].to_numpy()
    if models.champions.get("orders") == PARETO and models.pareto_nbd is not None:
        orders = predict_pareto_orders(models.pareto_nbd, rows, horizon)
    if boosted:
        btyd_window = btyd if window == horizon else predict_btyd(
            models.btyd, rows, horizon_days=window, annual_discount_rate=rate, with_interval=False
        )
        frame = _with_btyd_columns(rows, btyd_window)  # the features the boosters learnt with
        # BTYD carries each booster's label window to the horizon and its support to each customer's silence
        to_horizon = window_to_horizon(btyd, btyd_window)
        carried: dict[float, dict[str, np.ndarray]] = {}

        def factor(target: str, key: str) -> np.ndarray:
            model = boosted[target]
            limit = model.metrics.get("max_recency_days", np.inf)
            if limit not in carried:
                carried[limit] = silence_factors(models.btyd, frame, model, window, rate)
            return to_horizon[key] * carried[limit][key]

        if "ltv" in boosted:
            pred = predict_ltv(boosted["ltv"], frame)
            ltv, lower, upper = (pred[c].to_numpy() * factor("ltv", "ltv") for c in ("predicted_ltv", "ltv_lower", "ltv_upper"))
        if "orders" in boosted:
            orders = predict_orders(boosted["orders"], frame)["predicted_orders"].to_numpy() * factor("orders", "orders")
        if "churn" in boosted:
            buy = 1.0 - predict_churn(boosted["churn"], frame)["churn_probability"].to_numpy()
            churn = 1.0 - np.minimum(buy * factor("churn", "buy"), 1.0)
    if models.champions["ltv"] == LAST_PERIOD:
        ltv = _baseline_ltv(LAST_PERIOD, rows, horizon, horizon, rate)
    elif models.champions["ltv"] == CLASSIC_FORMULA:
        ltv = classic_formula_ltv(rows, horizon, rate, _horizon_churn_rate(rows, horizon, window))
    if models.champions["churn"] == RECENCY:
        churn = np.clip(recency_churn_score(rows, horizon), 0, 1)
    if np.isnan(lower).all():
        lower = upper = np.full(ltv.size, None)
    else:
        lower, upper = stretch_band(ltv, lower, upper, models.interval_stretch, churn_probability=churn)
    share = margin_share(rows)
    return btyd.select("customer_id").with_columns(
        pl.Series("predicted_orders", orders, dtype=pl.Float64),
        pl.Series("predicted_revenue", revenue_from_ltv(ltv, share, btyd, horizon, rate), dtype=pl.Float64),
        pl.Series("predicted_ltv", ltv, dtype=pl.Float64),
        pl.Series("p_alive", consistent_p_alive(btyd, churn), dtype=pl.Float64),
        pl.Series("churn_probability", churn, dtype=pl.Float64),
        pl.Series("next_order_days", btyd["next_order_days"].to_numpy(), dtype=pl.Float64),
        pl.Series("ltv_lower", lower, dtype=pl.Float64),
        pl.Series("ltv_upper", upper, dtype=pl.Float64),
    )
