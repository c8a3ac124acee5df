"""The lake's layout: where every file of a run lives, each path a function of the settings.

```
<lake_dir>/
  raw/<source>/<source>.parquet (+ <source>.part-NNNNNN.parquet)   loaded records
  quarantine/<source>/*.parquet                                     rejected rows, with reasons
  _meta/load_log.parquet, _meta/run.lock                            load log, the run lock
  models/as_of=<date>/models.zip                                    trained model artifacts
  prediction/customer_predictions.parquet                           scores of every customer
  decisions/<name>.parquet, decisions/segment_snapshots/            decision tables
  published/<table>.parquet                                         what readers see
  reports/ltv_report.html                                           the run's report
<warehouse>                           the readers' DuckDB file
<warehouse stem>.build.duckdb         the pipeline's working copy (dbt builds here)
<warehouse stem>.build.duckdb.state.json   the last complete dbt build (incremental builds)
```

Every module that reads or writes one of these asks here; none builds a lake path itself.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ltv_pipeline.core.settings import Settings

PART_INFIX = ".part-"
"""Parts appended to a raw table since its last consolidation: `<source>.part-000001.parquet`."""
MODELS_ARTIFACT = "models.zip"
LOCK_FILE = "run.lock"


def raw_dir(settings: Settings, source: str) -> Path:
    return settings.lake_dir / "raw" / source


def raw_table_path(settings: Settings, source: str) -> Path:
    """The consolidated Parquet file of a source's raw table (see `raw_table_files`)."""
    return raw_dir(settings, source) / f"{source}.parquet"


def raw_part_path(settings: Settings, source: str, number: int) -> Path:
    """The `number`-th part appended to a source's raw table since its last consolidation."""
    return raw_dir(settings, source) / f"{source}{PART_INFIX}{number:06d}.parquet"


def raw_table_files(settings: Settings, source: str) -> list[Path]:
    """Every Parquet file of a source's raw table: the consolidated file, then its parts.

    A load that only adds records (the daily case) appends them as a part instead of
    rewriting the table; corrections of stored records and every `MAX_PARTS`-th part
    consolidate the table into one file again (ingest/raw_table.py). Each record is in exactly
    one file, so the table is the union of the files: dbt reads `raw/<source>/*.parquet`.
    """
    base = raw_table_path(settings, source)
    parts = sorted(raw_dir(settings, source).glob(f"{source}{PART_INFIX}*.parquet"))
    return ([base] if base.exists() else []) + parts


def quarantine_dir(settings: Settings, source: str) -> Path:
    return settings.lake_dir / "quarantine" / source


def meta_dir(settings: Settings) -> Path:
    return settings.lake_dir / "_meta"


def load_log_path(settings: Settings) -> Path:
    return meta_dir(settings) / "load_log.parquet"


def lock_path(settings: Settings) -> Path:
    return meta_dir(settings) / LOCK_FILE


def models_dir(settings: Settings) -> Path:
    return settings.lake_dir / "models"


def artifact_path(settings: Settings, as_of: date) -> Path:
    """The model artifact trained as of `as_of`."""
    return models_dir(settings) / f"as_of={as_of.isoformat()}" / MODELS_ARTIFACT


def predictions_path(settings: Settings) -> Path:
    return settings.lake_dir / "prediction" / "customer_predictions.parquet"


def decisions_path(settings: Settings, name: str) -> Path:
    return settings.lake_dir / "decisions" / f"{name}.parquet"


def segment_snapshots_dir(settings: Settings) -> Path:
    return settings.lake_dir / "decisions" / "segment_snapshots"


def published_dir(settings: Settings) -> Path:
    return settings.lake_dir / "published"


def published_path(settings: Settings, table: str) -> Path:
    return published_dir(settings) / f"{table}.parquet"


def history_dir(settings: Settings, table: str) -> Path:
    """Every kept version of a published table: one `as_of=<date>.parquet` file per as_of."""
    return settings.lake_dir / "published_history" / table


def history_path(settings: Settings, table: str, as_of: date) -> Path:
    return history_dir(settings, table) / f"as_of={as_of.isoformat()}.parquet"


def report_path(settings: Settings) -> Path:
    return settings.lake_dir / "reports" / "ltv_report.html"


def build_warehouse(settings: Settings) -> Path:
    """The pipeline's working copy of the warehouse: dbt and publishing write here, and the
    end of a run replaces `warehouse` with it atomically (marts/snapshot.py)."""
    warehouse = settings.warehouse
    return warehouse.with_name(f"{warehouse.stem}.build{warehouse.suffix}")


def build_state_path(settings: Settings) -> Path:
    """The record of the last complete dbt build, beside the build warehouse it describes."""
    build = build_warehouse(settings)
    return build.with_name(f"{build.name}.state.json")
