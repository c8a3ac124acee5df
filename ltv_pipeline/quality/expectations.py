"""Run a Great Expectations 1.x suite (a JSON file in `expectations/`) on a polars frame.

`dagster-ge` requires Great Expectations below 1.0, so this is our small equivalent:
an ephemeral GX context, a whole-dataframe pandas batch, and one outcome per expectation.
GX is imported inside the function: importing it costs seconds, and every Dagster code
load would otherwise pay for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ltv_pipeline.core.project_files import EXPECTATIONS_DIR


@dataclass(frozen=True)
class ExpectationOutcome:
    name: str
    """Stable check name: `<expectation type>__<column>`."""
    success: bool
    unexpected_count: int | None
    examples: list[Any]
    description: str


def load_suite_spec(suite: str, folder: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    return json.loads((folder / f"{suite}.json").read_text(encoding="utf-8"))


def expectation_name(expectation: dict[str, Any]) -> str:
    kwargs = expectation.get("kwargs", {})
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs] or kwargs.get("column_list", [])
    target = "_".join(columns) or "table"
    return f"{expectation['type'].removeprefix('expect_')}__{target}"


def describe(expectation: dict[str, Any]) -> str:
    kwargs = ", ".join(f"{k}={v}" for k, v in expectation.get("kwargs", {}).items())
    return f"{expectation['type']}({kwargs})"


def run_suite(df: pl.DataFrame, spec: dict[str, Any]) -> list[ExpectationOutcome]:
    """Validate `df` against the suite; raise if the suite has a misspelled expectation."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = gx.ExpectationSuite(**spec)
    if len(suite.expectations) != len(spec["expectations"]):
        raise ValueError(
            f"suite {spec['name']}: {len(spec['expectations'])} expectations in the file but GX "
            f"understood {len(suite.expectations)} (misspelled expectation type?)"
        )
    batch = (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset(spec["name"])
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": df.to_pandas()})
    )
    result = batch.validate(suite)
    outcomes = []
    for expectation, res in zip(spec["expectations"], result.results, strict=True):
        details = res.result or {}
        outcomes.append(
            ExpectationOutcome(
                name=expectation_name(expectation),
                success=bool(res.success),
                unexpected_count=details.get("unexpected_count"),
                examples=[str(v) for v in (details.get("partial_unexpected_list") or [])[:5]],
                description=describe(expectation),
            )
        )
    return outcomes
