"""The two cadences: daily refresh (ingest, marts, scoring) and weekly retrain (everything).

Training assets carry the tag `ltv/cadence: weekly`; the daily job excludes them, so a
daily run re-scores with the last trained models rather than refitting them.
"""

import dagster as dg

WEEKLY_TAG = {"ltv/cadence": "weekly"}

daily_refresh_job = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.tag("ltv/cadence", "weekly"),
    description="Ingest new deliveries, rebuild the marts, re-score customers and refresh decisions.",
)

weekly_retrain_job = dg.define_asset_job(
    name="weekly_retrain",
    selection=dg.AssetSelection.all(),
    description="Everything, including refitting and back-testing the models.",
)
