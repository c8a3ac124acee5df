"""The `dbt` resource and the dbt arguments every invocation shares."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from dagster_dbt import DbtCliResource

from ltv_pipeline.marts.project import dbt_executable, dbt_project
from ltv_pipeline.settings import Settings


def dbt_resource() -> DbtCliResource:
    """The dbt CLI resource: the project's own dbt, whatever PATH says."""
    return DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable())


def dbt_vars_arg(settings: Settings, as_of: date, extra: Mapping[str, Any] | None = None) -> list[str]:
    """`--vars` for every dbt command, from `Settings.dbt_vars` (the single definition), plus
    the per-build vars of `extra` (incremental window, feature history)."""
    return ["--vars", json.dumps({**settings.dbt_vars(as_of), **(extra or {})}, sort_keys=True)]
