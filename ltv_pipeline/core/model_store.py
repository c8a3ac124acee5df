"""The lake's trained-model artifacts: what each was trained with, and which a run may reuse.

Training is the back-test plus the production fit: at a million customers most of a full
run, for models that a day of new data barely moves. So a run reuses the artifact that an
earlier run wrote to `<lake>/models/as_of=<date>/models.zip` when

- it was trained fewer than `retrain_days` days before this run's as_of (and not after
  it: a model that has seen later data is never used for an earlier date), and
- it was trained with the same settings that shape the labels and features
  (`training_fingerprint`) and by the same code version.

The newest such artifact wins; otherwise the models are refitted. `retrain_days: 0` refits
on every run. The answer is known before the marts are built, from each artifact's
manifest alone, which is why it lives here: the marts build the back-test's feature
cutoffs only for a run that trains.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import date
from typing import Any

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.core.version import code_version

ARTIFACT_FORMAT = 4
"""The layout of `models.zip` (4: BTYD with its per-channel parameters); an artifact of another format is never loaded or reused."""
MANIFEST = "model.json"


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


def without_code_version(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """The label and feature settings of a training fingerprint."""
    return {key: value for key, value in fingerprint.items() if key != "code_version"}


def _trained_dates(settings: Settings) -> list[date]:
    found = []
    for path in layout.models_dir(settings).glob(f"as_of=*/{layout.MODELS_ARTIFACT}"):
        try:
            found.append(date.fromisoformat(path.parent.name.removeprefix("as_of=")))
        except ValueError:
            continue
    return sorted(found, reverse=True)


def stored_artifacts(settings: Settings, as_of: date, max_age_days: int | None = None) -> Iterator[tuple[date, dict[str, Any]]]:
    """(trained as of, trained with) of the artifacts of this format trained on or before
    `as_of` (and fewer than `max_age_days` before it), newest first; damaged ones are skipped."""
    for trained in _trained_dates(settings):
        if trained > as_of or (max_age_days is not None and (as_of - trained).days >= max_age_days):
            continue
        try:
            with zipfile.ZipFile(layout.artifact_path(settings, trained)) as zf:
                manifest = json.loads(zf.read(MANIFEST))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            continue
        if manifest.get("format") == ARTIFACT_FORMAT:
            yield trained, manifest.get("trained_with", {})


def reusable_artifact(settings: Settings, as_of: date) -> date | None:
    """The as_of of the newest artifact this run may reuse instead of training, or None."""
    if settings.retrain_days <= 0:
        return None
    wanted = training_fingerprint(settings)
    return next((d for d, used in stored_artifacts(settings, as_of, settings.retrain_days) if used == wanted), None)


def latest_artifact(settings: Settings, as_of: date) -> date | None:
    """The newest artifact trained on or before `as_of` with this run's label and feature
    settings, of any age: by this code version if there are any (so in a run that trains,
    exactly what it trained or reused), else by any (a job that does not train keeps
    scoring after an upgrade until the next retrain)."""
    wanted = training_fingerprint(settings)
    stored = list(stored_artifacts(settings, as_of))
    same_code = next((d for d, used in stored if used == wanted), None)
    if same_code is not None:
        return same_code
    same_settings = without_code_version(wanted)
    return next((d for d, used in stored if without_code_version(used) == same_settings), None)


def models_need_training(settings: Settings, as_of: date) -> bool:
    """True when this run will fit models (so its features need the back-test cutoffs)."""
    return reusable_artifact(settings, as_of) is None
