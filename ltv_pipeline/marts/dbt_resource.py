"""The `dbt` resource and the dbt vars every invocation shares."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version

from ltv_pipeline.core import layout
from ltv_pipeline.core.project_files import DBT_PROJECT_DIR
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.marts.project import dbt_executable, dbt_project


class LtvDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two start-up costs of its `cli()` that this project
    never needs (docs/performance.md has what each costs a run):

    - `dbt --version` in a subprocess, once per resource, to learn the dbt version: the dbt
      next to this Python is the installed `dbt-core` package, whose version is known
      without it.
    - An in-process dbt adapter (profile, project, macros) for every command, which
      dagster-dbt uses only for `fetch_column_metadata()` and `fetch_row_counts()`; the
      assets here count rows themselves once dbt has released the warehouse
      (marts/dbt_steps.py), so none is made.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(installed_version("dbt-core"))
        return super()._cli_version  # a dbt found elsewhere on PATH: ask it

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def dbt_resource() -> DbtCliResource:
    """The dbt CLI resource: the project's own dbt, whatever PATH says."""
    return LtvDbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable())


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


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment for a dbt process: which profile target, where the (build) warehouse and the lake are."""
    env = {
        "LTV_DBT_TARGET": settings.dbt_target,
        "LTV_WAREHOUSE": str(layout.build_warehouse(settings)),
        "LTV_LAKE_DIR": str(settings.lake_dir),
    }
    if settings.engine == "spark":
        env.update({
            "LTV_SPARK_LAKE_URI": (settings.spark_lake_uri or str(settings.lake_dir)).rstrip("/"),
            "LTV_SPARK_MASTER": settings.spark_master,
            "LTV_SPARK_HOST": settings.spark_host,
            "LTV_SPARK_PORT": str(settings.spark_port),
            "LTV_SPARK_DIR": str(settings.spark_home),
            "LTV_SPARK_WAREHOUSE_DIR": settings.spark_warehouse_dir or str(settings.spark_home / "warehouse"),
            "LTV_SPARK_SHUFFLE_PARTITIONS": str(settings.spark_shuffle_partitions),
            "LTV_SPARK_DRIVER_MEMORY": settings.spark_driver_memory,
            "LTV_SPARK_JAVA_OPTIONS": settings.spark_java_options,
            "LTV_SPARK_LOG_CONFIG": str(DBT_PROJECT_DIR / "spark_log4j2.properties"),
            # Spark binds its driver to the host's address, which in containers and CI
            # sandboxes may not be reachable; a local session only needs the loopback.
            **({"SPARK_LOCAL_IP": "127.0.0.1"} if settings.spark_method == "session" and settings.spark_master.startswith("local") else {}),
        })
    return env
