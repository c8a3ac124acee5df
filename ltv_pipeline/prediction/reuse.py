"""Load the lake's trained models: the ones a run reuses, and the ones the scoring steps use.

Which artifact qualifies is decided from its manifest (core/model_store.py); here the
chosen artifact is loaded whole. The steps that score and publish read the models through
prediction/model_io.py.
"""

from __future__ import annotations

from datetime import date

from ltv_pipeline.core import layout
from ltv_pipeline.core.model_store import latest_artifact, reusable_artifact
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.prediction.training import TrainedModels


def _load(settings: Settings, trained: date | None) -> TrainedModels | None:
    if trained is None:
        return None
    return TrainedModels.from_bytes(layout.artifact_path(settings, trained).read_bytes())


def reusable_models(settings: Settings, as_of: date) -> TrainedModels | None:
    """The newest models this run may reuse instead of training, or None."""
    return _load(settings, reusable_artifact(settings, as_of))


def latest_models(settings: Settings, as_of: date) -> TrainedModels | None:
    """The newest models trained on or before `as_of` with this run's label and feature settings."""
    return _load(settings, latest_artifact(settings, as_of))
