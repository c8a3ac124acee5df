"""Reuse recently trained models instead of refitting them on every run.

Training is the back-test plus the production fit: at a million customers about a minute
of the run, for models that a day of new data barely moves. The scheduled daily job skips
it by excluding `ltv_models` (orchestration/jobs.py); `ltv run`, which materialises every
asset, gets the same effect here: the `ltv_models` asset loads the artifact that an earlier
run wrote to `<lake>/models/as_of=<date>/models.zip` when

- it was trained fewer than `retrain_days` days before this run's as_of (and not after
  it: a model that has seen later data is never used for an earlier date), and
- it was trained with the same settings that shape the labels and features
  (`training_fingerprint`) and by the same code version.

The newest such artifact wins; otherwise the models are refitted and back-tested, and the
new artifact is written. Scoring always runs on the current features, with the reused
models, exactly as the daily job does. `retrain_days: 0` refits on every run.

The steps that score and publish read the models from the same artifacts
(`latest_models`, through prediction/model_io.py): the newest trained on or before as_of
with the same label and feature settings, whatever its age (and, when none is by this code
version, whatever its version), since a job that does not train (the daily refresh) must
score with the last models trained.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from ltv_pipeline.prediction.boosted.artifact import code_version
from ltv_pipeline.prediction.training import TrainedModels
from ltv_pipeline.core.settings import Settings

ARTIFACT_NAME = "models.zip"


def models_dir(settings: Settings) -> Path:
    return settings.lake_dir / "models"


def artifact_path(settings: Settings, as_of: date) -> Path:
    return models_dir(settings) / f"as_of={as_of.isoformat()}" / ARTIFACT_NAME


def training_fingerprint(settings: Settings) -> dict[str, Any]:
    """What the trained models depend on besides the data: the label and feature settings
    (the dbt vars other than as_of) and the code version."""
    return {
        "horizon_days": settings.horizon_days,
        "annual_discount_rate": settings.annual_discount_rate,
        "margin_rate": settings.margin_rate,
        "support_cost_per_ticket": settings.support_cost_per_ticket,
        "training_sample_size": settings.training_sample_size,
        "code_version": code_version(),
    }


def _trained_dates(settings: Settings) -> list[date]:
    found = []
    for path in models_dir(settings).glob(f"as_of=*/{ARTIFACT_NAME}"):
        try:
            found.append(date.fromisoformat(path.parent.name.removeprefix("as_of=")))
        except ValueError:
            continue
    return sorted(found, reverse=True)


def _stored_models(settings: Settings, as_of: date, max_age_days: int | None = None) -> Iterator[TrainedModels]:
    """The artifacts trained on or before `as_of` (and fewer than `max_age_days` before it),
    newest first; those that do not load (an older format, or damaged) are skipped."""
    for trained in _trained_dates(settings):
        if trained > as_of or (max_age_days is not None and (as_of - trained).days >= max_age_days):
            continue
        try:
            yield TrainedModels.from_bytes(artifact_path(settings, trained).read_bytes())
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            continue


def reusable_models(settings: Settings, as_of: date) -> TrainedModels | None:
    """The newest models this run may reuse instead of training (see the module docstring), or None."""
    if settings.retrain_days <= 0:
        return None
    wanted = training_fingerprint(settings)
    return next((m for m in _stored_models(settings, as_of, settings.retrain_days) if m.trained_with == wanted), None)


def latest_models(settings: Settings, as_of: date) -> TrainedModels | None:
    """The newest models trained on or before `as_of` with this run's label and feature
    settings, of any age: by this code version if there are any (so in a run that trains,
    exactly what `ltv_models` trained or reused), else by any (a job that does not train
    keeps scoring after an upgrade until the next retrain)."""
    wanted = training_fingerprint(settings)
    same_code = next((m for m in _stored_models(settings, as_of) if m.trained_with == wanted), None)
    if same_code is not None:
        return same_code
    same_settings = without_code_version(wanted)
    return next((m for m in _stored_models(settings, as_of) if without_code_version(m.trained_with) == same_settings), None)


def without_code_version(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """The label and feature settings of a training fingerprint."""
    return {key: value for key, value in fingerprint.items() if key != "code_version"}


def models_need_training(settings: Settings, as_of: date) -> bool:
    """True when this run will fit models (so its features need the back-test cutoffs)."""
    return reusable_models(settings, as_of) is None
