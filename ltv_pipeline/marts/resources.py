"""The `dbt` resource and the dbt vars every invocation shares."""

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


DBT_VARS_ENV = "LTV_DBT_VARS"
"""The environment variable that carries the pipeline's dbt vars (read by `ltv_var`, dbt_project/macros/run_vars.sql)."""


def dbt_vars_env(settings: Settings, as_of: date, extra: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The vars of every dbt command, from `Settings.dbt_vars` (the single definition) plus
    the per-build vars of `extra` (incremental window, feature history, partition days), as
    the environment variable `LTV_DBT_VARS` (a JSON object) for the dbt process.

    Not `--vars`: dbt re-parses the whole project when the command line's vars differ from
    those of its saved parse (`partial_parse.msgpack`), which every new as_of does. The
    project reads this variable only when it executes, never while it parses, so the saved
    parse stays valid from one run to the next (dbt_project/README.md has the figures).
    A `--vars` given by hand still wins over it.
    """
    return {DBT_VARS_ENV: json.dumps({**settings.dbt_vars(as_of), **(extra or {})}, sort_keys=True)}
