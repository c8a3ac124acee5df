"""Run dbt against the settings' lake and warehouse without Dagster.

For the test fixtures, the benchmark and an analyst's shell (`python -m ltv_pipeline.marts`).
A plain subprocess rather than `DbtCliResource`: outside a run there are no events to
stream, and the resource's start-up checks cost seconds per call.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import resolve_as_of
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.marts.dbt_resource import dbt_env, dbt_vars_env
from ltv_pipeline.marts.project import dbt_executable, dbt_project, prepare_dbt_manifest, reused_parse


class DbtRunError(RuntimeError):
    """dbt exited non-zero; the message holds the command and dbt's error summary."""


@dataclass(frozen=True)
class DbtRun:
    """What a finished dbt command left behind."""

    args: tuple[str, ...]
    as_of: date
    output: str
    run_results: dict[str, Any] = field(repr=False)

    def statuses(self) -> dict[str, str]:
        """dbt's status per node (`success`, `pass`, `warn`, `fail`, `error`, `skipped`)."""
        return {r["unique_id"]: r["status"] for r in self.run_results.get("results", [])}


def run_dbt(
    settings: Settings,
    args: Sequence[str] = ("build",),
    *,
    as_of: date | None = None,
    target_path: Path | None = None,
    echo: bool = False,
    extra_vars: Mapping[str, Any] | None = None,
) -> DbtRun:
    """Run `dbt <args>` with the settings' `dbt_env()` and their vars as of `as_of`.

    The vars (`settings.dbt_vars(as_of)` plus `extra_vars`, the per-build ones) go in the
    environment variable LTV_DBT_VARS, not `--vars` (see `dbt_vars_env`), and dbt starts
    from a saved parse (`reused_parse`), so it re-parses only what changed. `as_of` defaults to
    `resolve_as_of(settings)`. Artifacts go to a scratch target folder that is removed
    afterwards, unless `target_path` is given (e.g. the project's own `target/` for `docs
    generate`). `echo` lets dbt print to this process's terminal as it goes instead of
    capturing its output. Raises `DbtRunError` when dbt fails.
    """
    prepare_dbt_manifest()
    project = dbt_project()
    as_of = as_of or resolve_as_of(settings)
    layout.build_warehouse(settings).parent.mkdir(parents=True, exist_ok=True)
    scratch = None
    if target_path is None:
        scratch = Path(tempfile.mkdtemp(prefix=".run-", dir=project.project_dir / project.target_path))
        target_path = scratch
    command = [
        dbt_executable(), *args,
        "--project-dir", str(project.project_dir),
        "--profiles-dir", str(project.profiles_dir),
        "--target-path", str(target_path),
        "--log-path", str(target_path),
    ]
    env = {
        **os.environ, **dbt_env(settings), **dbt_vars_env(settings, as_of, extra_vars),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    try:
        with reused_parse(Path(target_path), dbt_env(settings)):
            completed = subprocess.run(command, env=env, capture_output=not echo, text=True, check=False)
        results_path = Path(target_path) / "run_results.json"
        run_results = json.loads(results_path.read_text()) if results_path.exists() else {}
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    output = (completed.stdout or "") + (completed.stderr or "")
    if completed.returncode != 0:
        # dbt reports on stdout; stderr is where an engine's own logging goes (on Spark,
        # pages of JVM warnings and stack traces that would bury dbt's summary).
        reported = (completed.stdout or "").strip() or output.strip()
        summary = "\n".join(reported.splitlines()[-40:]) or "(dbt's output is above)"
        raise DbtRunError(f"`dbt {' '.join(args)}` failed (exit {completed.returncode}) as of {as_of}:\n{summary}")
    return DbtRun(args=tuple(args), as_of=as_of, output=output, run_results=run_results)
