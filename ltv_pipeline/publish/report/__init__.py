"""The static HTML report and its charts, as plain functions (the Dagster asset and `ltv report` wire them).

`render_report` builds one self-contained page from `ReportInputs`; `render_charts` gives
the same charts as PNG bytes for asset metadata; `write_report` puts the page on disk so
that a reader never sees a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ltv_pipeline.publish.report.charts import NoChartData
from ltv_pipeline.publish.report.headline import headline
from ltv_pipeline.publish.report.html import render_report
from ltv_pipeline.publish.report.sections import CHARTS, ReportInputs, chart_outcomes, render_charts


def write_report(html: str, path: str | os.PathLike[str]) -> Path:
    """Write `html` to `path` atomically: a temp file in the same folder, then os.replace."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


__all__ = [
    "CHARTS",
    "NoChartData",
    "ReportInputs",
    "chart_outcomes",
    "headline",
    "render_charts",
    "render_report",
    "write_report",
]
