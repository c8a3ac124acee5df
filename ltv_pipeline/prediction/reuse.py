"""Load the lake's trained models: the ones a run reuses, and the ones the scoring steps use.

Which artifact qualifies is decided from its manifest (core/model_store.py); here the
chosen artifact is loaded whole. The steps that score and publish read the models through
prediction/model_io.py.
"""

from __future__ import annotations

import zipfile
from datetime import date

import xgboost as xgb

from ltv_pipeline.core import layout
from ltv_pipeline.core.model_store import latest_artifact, reusable_artifact
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.prediction.training import TrainedModels


class DamagedModels(ValueError):
    """An artifact whose manifest qualifies it but whose models cannot be read."""


def _load(settings: Settings, trained: date | None) -> TrainedModels | None:
    if trained is None:
        return None
    path = layout.artifact_path(settings, trained)
    try:
        return TrainedModels.from_bytes(path.read_bytes())
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, xgb.core.XGBoostError) as exc:
        raise DamagedModels(
            f"the models artifact {path} cannot be read ({type(exc).__name__}: {exc}); "
            "delete it and materialise ltv_models (`ltv run` trains again)"
        ) from exc


def reusable_models(settings: Settings, as_of: date) -> TrainedModels | None:
    """The newest models this run may reuse instead of training, or None (also when that
    artifact is damaged: the run then trains again and replaces it)."""
    try:
        return _load(settings, reusable_artifact(settings, as_of))
    except DamagedModels:
        return None


def latest_models(settings: Settings, as_of: date) -> TrainedModels | None:
    """The newest models trained on or before `as_of` with this run's label and feature
    settings; raises DamagedModels, naming the file and what to do, when they cannot be read."""
    return _load(settings, latest_artifact(settings, as_of))
