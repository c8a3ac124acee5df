"""Start a refresh when new files land in the landing zone."""

import hashlib
from pathlib import Path

import dagster as dg

from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.ingest.sources import SPECS
from ltv_pipeline.orchestration.jobs import daily_refresh_job


def landing_fingerprint(landing_dir: Path) -> str:
    """A digest of every delivery's name, size and modification time (cheap: no reading)."""
    digest = hashlib.sha256()
    for source in SPECS:
        folder = landing_dir / source
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                digest.update(f"{source}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dg.sensor(
    job=daily_refresh_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests a daily_refresh run when a delivery is added to or changed in the landing zone.",
)
def new_deliveries_sensor(context: dg.SensorEvaluationContext, settings: SettingsResource):
    fingerprint = landing_fingerprint(settings.get().landing_dir)
    if fingerprint == context.cursor:
        return dg.SkipReason("no new deliveries")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)
