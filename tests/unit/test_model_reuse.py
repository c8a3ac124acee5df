"""The models artifact round trip, and which earlier models a run may reuse (core/model_store.py, prediction/reuse.py)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date, timedelta

import dagster as dg
import numpy as np
import polars as pl
import pytest
from ltv_feature_sim import FEATURES, simulate_features
from polars.testing import assert_frame_equal

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import atomic_write_bytes
from ltv_pipeline.core.model_store import training_fingerprint
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.prediction.boosted import (
    BoostConfig,
    predict_ltv,
    train_churn_model,
    train_ltv_model,
)
from ltv_pipeline.prediction.btyd import BgNbdParams, GammaGammaParams
from ltv_pipeline.prediction.btyd.pareto_nbd import ParetoNbdParams
from ltv_pipeline.prediction.evaluation import MODEL_EVALUATION_SCHEMA
from ltv_pipeline.prediction.model_io import ModelArtifactIOManager, NoTrainedModels
from ltv_pipeline.prediction.probabilistic import BtydModel
from ltv_pipeline.prediction.reuse import DamagedModels, latest_models, reusable_models
from ltv_pipeline.prediction.training import TrainedModels

AS_OF = date(2025, 6, 30)
HORIZON = 365


@pytest.fixture(scope="module")
def models() -> TrainedModels:
    frame = simulate_features(3_000, seed=5, horizon_days=HORIZON)
    config = BoostConfig(nthread=1, max_rounds=30)
    btyd = BtydModel(
        bgnbd=BgNbdParams(0.243, 4.414, 0.793, 2.426, -9582.4, 2357.0, True, "day"),
        gamma_gamma=GammaGammaParams(6.25, 3.74, 15.44, -4000.0, 946.0, True),
        cutoff=AS_OF,
        fallback_value=12.5,
    )
    return TrainedModels(
        as_of=AS_OF, horizon_days=HORIZON, annual_discount_rate=0.1, evaluation_kind="out_of_time",
        champions={"ltv": "xgboost", "churn": "bgnbd_gamma_gamma", "orders": "pareto_nbd"}, btyd=btyd,
        pareto_nbd=ParetoNbdParams(0.55, 74.1, 0.61, 81.7, -14376.1, 2357.0, True, "day"),
        ltv_model=train_ltv_model(frame, FEATURES, horizon_days=HORIZON, as_of=AS_OF, config=config),
        churn_model=train_churn_model(frame, FEATURES, horizon_days=HORIZON, as_of=AS_OF, config=config),
        evaluation=pl.DataFrame(schema=MODEL_EVALUATION_SCHEMA),
        deciles={"xgboost": pl.DataFrame({"decile": [1, 2], "actual": [1.0, 2.0]})},
        calibration={"bgnbd_gamma_gamma": pl.DataFrame({"bin": [1], "observed": [0.5]})},
        notes=["a note"], trained_with={"horizon_days": HORIZON},
    )


def test_the_artifact_holds_everything_scoring_and_the_report_need(models):
    restored = TrainedModels.from_bytes(models.to_bytes())
    assert restored.btyd == models.btyd and restored.ltv_model == models.ltv_model and restored.churn_model == models.churn_model
    assert restored.pareto_nbd == models.pareto_nbd
    parameters = restored.parameters(AS_OF)
    assert parameters.filter(pl.col("model") == "pareto_nbd")["parameter"].to_list() == ["r", "alpha", "s", "beta"]
    assert set(parameters["model"]) == {"bg_nbd", "gamma_gamma", "pareto_nbd"}
    for field in ("as_of", "horizon_days", "annual_discount_rate", "evaluation_kind", "champions", "notes", "trained_with"):
        assert getattr(restored, field) == getattr(models, field), field
    assert_frame_equal(restored.evaluation, models.evaluation)
    assert restored.deciles.keys() == models.deciles.keys() and restored.calibration.keys() == models.calibration.keys()
    assert_frame_equal(restored.deciles["xgboost"], models.deciles["xgboost"])
    assert_frame_equal(restored.calibration["bgnbd_gamma_gamma"], models.calibration["bgnbd_gamma_gamma"])
    frame = simulate_features(500, seed=6, horizon_days=HORIZON)
    assert predict_ltv(restored.ltv_model, frame).equals(predict_ltv(models.ltv_model, frame))


def _store(settings, models: TrainedModels, trained: date, **trained_with) -> None:
    fingerprint = training_fingerprint(settings) | trained_with
    atomic_write_bytes(replace(models, as_of=trained, trained_with=fingerprint).to_bytes(), layout.artifact_path(settings, trained))


def test_the_newest_models_of_the_last_retrain_days_with_the_same_settings_are_reused(ws, models):
    settings = ws.settings  # retrain_days = 7 by default
    assert reusable_models(settings, AS_OF) is None  # nothing trained yet
    _store(settings, models, AS_OF - timedelta(days=3))
    _store(settings, models, AS_OF - timedelta(days=1), horizon_days=90)  # other settings: not these
    _store(settings, models, AS_OF + timedelta(days=1))  # trained on later data: never for an earlier date
    found = reusable_models(settings, AS_OF)
    assert found is not None and found.as_of == AS_OF - timedelta(days=3)
    assert reusable_models(settings, AS_OF + timedelta(days=3)).as_of == AS_OF + timedelta(days=1)
    # seven days on, the models are too old: the run retrains
    assert reusable_models(settings, AS_OF - timedelta(days=3) + timedelta(days=7)) .as_of == AS_OF + timedelta(days=1)
    assert reusable_models(settings, AS_OF + timedelta(days=8)) is None


def test_retrain_days_zero_always_retrains_and_other_code_never_reuses(ws, models):
    _store(ws.settings, models, AS_OF)
    assert reusable_models(ws.settings, AS_OF) is not None
    ws.overrides["retrain_days"] = 0
    assert reusable_models(ws.settings, AS_OF) is None
    ws.overrides["retrain_days"] = 7
    _store(ws.settings, models, AS_OF, code_version="0.0.1+gdeadbeef")  # trained by another version
    assert reusable_models(ws.settings, AS_OF) is None


def test_a_run_that_does_not_train_scores_with_the_newest_models_of_its_settings(ws, models):
    """`latest_models`, what the steps that score and publish read (prediction/model_io.py):
    any age and any code version, never later data, never other label or feature settings."""
    settings = ws.settings
    assert latest_models(settings, AS_OF) is None
    _store(settings, models, AS_OF - timedelta(days=30), code_version="0.0.1+gdeadbeef")
    _store(settings, models, AS_OF - timedelta(days=1), horizon_days=90)
    _store(settings, models, AS_OF + timedelta(days=1))
    assert latest_models(settings, AS_OF).as_of == AS_OF - timedelta(days=30)
    assert reusable_models(settings, AS_OF) is None  # too old, other code: `ltv_models` would retrain
    assert latest_models(settings, AS_OF + timedelta(days=1)).as_of == AS_OF + timedelta(days=1)
    # models by this code win over newer ones by another: what `ltv_models` reuses in the same run
    _store(settings, models, AS_OF - timedelta(days=5))
    _store(settings, models, AS_OF - timedelta(days=2), code_version="0.0.1+gdeadbeef")
    assert latest_models(settings, AS_OF).as_of == reusable_models(settings, AS_OF).as_of == AS_OF - timedelta(days=5)


def test_the_model_io_manager_says_what_to_run_when_nothing_was_trained(ws):
    lake = {"lake_dir": str(ws.root / "lake"), "warehouse": str(ws.root / "warehouse.duckdb"), "mode": "demo"}
    manager = ModelArtifactIOManager(SettingsResource(overrides=lake | {"as_of": AS_OF.isoformat()}))
    with pytest.raises(NoTrainedModels, match="materialise ltv_models first .*weekly_retrain"):
        manager.load_input(dg.build_input_context())


def test_a_damaged_or_older_artifact_is_skipped(ws, models):
    path = layout.artifact_path(ws.settings, AS_OF)
    atomic_write_bytes(b"not a zip", path)
    assert reusable_models(ws.settings, AS_OF) is None


def test_an_artifact_with_a_damaged_booster_is_retrained_and_named_where_it_is_read(ws, models):
    """The manifest qualifies it, the booster inside cannot be read: the training step trains
    again (nothing reusable), the scoring steps get an error naming the file and the fix."""
    settings = ws.settings
    _store(settings, models, AS_OF)
    path = layout.artifact_path(settings, AS_OF)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    assert "ltv.zip" in members
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, b"not a booster" if name == "ltv.zip" else data)
    atomic_write_bytes(damaged.getvalue(), path)
    assert reusable_models(settings, AS_OF) is None
    with pytest.raises(DamagedModels, match=r"models\.zip cannot be read .*materialise ltv_models"):
        latest_models(settings, AS_OF)


def test_a_short_history_is_back_tested_on_a_customer_holdout():
    # A base with labels at as_of - horizon but too few at as_of - 2 horizons: the holdout
    # split (a seeded customer hash) must run.
    from ltv_pipeline.prediction.training import _split_for_backtest

    ids = [f"C{i}" for i in range(2_000)]
    evaluate = pl.DataFrame({"customer_id": ids, "cutoff_role": "evaluate", "label_churn": [i % 2 for i in range(2_000)]})
    train = evaluate.head(100).with_columns(cutoff_role=pl.lit("train"))
    bt = _split_for_backtest(pl.concat([evaluate, train]), 365)
    kind, fit_on, held_out, notes = bt.kind, bt.train, bt.evaluate, bt.notes
    assert kind == "customer_holdout" and "customer holdout" in notes[0]
    assert fit_on.height + held_out.height == 2_000 and 0.25 < held_out.height / 2_000 < 0.35
    assert set(fit_on["customer_id"]).isdisjoint(held_out["customer_id"])


def test_published_orders_come_from_the_orders_champion(models):
    from ltv_pipeline.prediction.probabilistic import (
        predict_btyd,
        predict_pareto_orders,
    )
    from ltv_pipeline.prediction.training import score_customers

    rows = simulate_features(800, seed=7, horizon_days=HORIZON).with_columns(
        cutoff_role=pl.lit("score"),
        btyd_recency=pl.col("tenure_days") - pl.col("recency_days"),
        btyd_monetary=pl.col("monetary_mean"),
        total_net_revenue=pl.col("total_margin") * 2.0,
    )
    pareto_scores = score_customers(models, rows)
    expected = predict_pareto_orders(models.pareto_nbd, rows, HORIZON)
    assert pareto_scores["predicted_orders"].to_numpy() == pytest.approx(expected)
    bgnbd_scores = score_customers(replace(models, champions={**models.champions, "orders": "bgnbd_gamma_gamma"}), rows)
    bgnbd = predict_btyd(models.btyd, rows, horizon_days=HORIZON, annual_discount_rate=0.1, with_interval=False)
    assert bgnbd_scores["predicted_orders"].to_numpy() == pytest.approx(bgnbd["predicted_orders"].to_numpy())
    assert not np.allclose(expected, bgnbd["predicted_orders"].to_numpy())
    # the other columns do not depend on which model predicts the orders
    assert pareto_scores["predicted_ltv"].equals(bgnbd_scores["predicted_ltv"])
