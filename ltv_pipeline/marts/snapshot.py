"""The warehouse readers open is a snapshot, replaced atomically; the pipeline writes a copy.

A DuckDB file held open by one process cannot be opened by another, not even read-only
(a conflicting lock). If the pipeline wrote `warehouse.duckdb` in place, a BI tool holding it
open would make the run fail, and a run would lock readers out for its whole duration.
So dbt and the publish step write `<warehouse>.build.duckdb`; at the end of a run the
build file is copied next to the warehouse and renamed over it. Readers with the old
file open keep reading the old version; new readers get the new one; nobody waits.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import LakeWriteError, StagedWrites
from ltv_pipeline.core.settings import Settings


def stage_warehouse_snapshot(settings: Settings, staged: StagedWrites) -> Path:
    """Copy the current build next to the readers' warehouse, to replace it on `staged.commit()`."""
    build = layout.build_warehouse(settings)
    if not build.exists():
        raise FileNotFoundError(f"no build warehouse at {build}: run the marts first")
    try:
        with duckdb.connect(str(build)) as con:  # fold any write-ahead log into the file
            con.execute("checkpoint")
    except duckdb.Error as exc:
        raise LakeWriteError(build, exc) from exc
    return staged.copy(build, settings.warehouse)


def snapshot_warehouse(settings: Settings) -> Path:
    """Atomically replace the readers' warehouse with the current build."""
    with StagedWrites() as staged:
        target = stage_warehouse_snapshot(settings, staged)
        staged.commit()
    return target
