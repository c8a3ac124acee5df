"""The cadences: daily refresh (ingest, marts, scoring), weekly retrain (everything), and the
daily order facts, which are partitioned by day.

Training assets carry the tag `ltv/cadence: weekly`; the daily job excludes them, so a
daily run re-scores with the last trained models rather than refitting them.

The daily-partitioned dbt models (`marts/daily_orders`) have a job of their own: in a job
that mixes them with unpartitioned assets the whole job takes a partition (its launchpad
asks for one), and a run without one materialises the partitioned asset with no partition,
which its partition history never shows. So the refresh and retrain jobs leave them out,
and `daily_orders` runs a day (or, as a backfill, a range of days) after the refresh has
rebuilt the `orders` mart they read.
"""

import dagster as dg

from ltv_pipeline.marts.partitions import DAILY_PARTITIONED_TAG, daily_partitions
from ltv_pipeline.prediction.assets import CADENCE_TAG, WEEKLY

DAILY_PARTITIONED = dg.AssetSelection.tag(DAILY_PARTITIONED_TAG, "")
"""The daily-partitioned dbt models (dbt tag `daily_partitioned`) and their checks."""

daily_refresh_job = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.tag(CADENCE_TAG, WEEKLY) - DAILY_PARTITIONED,
    description="Ingest new deliveries, rebuild the marts, re-score customers and refresh decisions.",
)

weekly_retrain_job = dg.define_asset_job(
    name="weekly_retrain",
    selection=dg.AssetSelection.all() - DAILY_PARTITIONED,
    description="Everything but the daily partitions, including refitting and back-testing the models.",
)

daily_orders_job = dg.define_asset_job(
    name="daily_orders",
    selection=DAILY_PARTITIONED,
    partitions_def=daily_partitions,
    description=(
        "Rebuild the daily order facts (marts/daily_orders) for a day, or a range of days in one run "
        "(a backfill), from the orders mart; then hand the warehouse to readers."
    ),
)
