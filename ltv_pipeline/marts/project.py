"""The dbt project as Dagster sees it, and the one way its manifest gets built.

`@dbt_assets` reads `target/manifest.json` when the Definitions load, and
`DbtProject.prepare_if_dev()` only builds it under `dagster dev`. The CLI, the
Definitions and the test fixtures therefore all call `prepare_dbt_manifest()`, which runs
`dbt parse` when the manifest is missing or older than any file of the project.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
"""`dbt_project/` at the repository root, next to the `ltv_pipeline` package."""

_PROJECT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")

_PARSE_PLACEHOLDER_ENV = {"LTV_WAREHOUSE": ":memory:", "LTV_LAKE_DIR": "/nonexistent-ltv-lake"}
"""`dbt parse` renders profiles.yml and the sources' `env_var`s but opens nothing: when the
caller has not set them, any value does, and the manifest's nodes do not depend on it."""


@functools.cache
def dbt_project() -> DbtProject:
    """The one `DbtProject` of the pipeline (cached: it reads dbt_project.yml once)."""
    return DbtProject(project_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The `dbt` installed next to the running Python, so a venv need not be on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise FileNotFoundError(f"no dbt executable next to {sys.executable} nor on PATH: install dbt-duckdb")
    return found


@contextlib.contextmanager
def dbt_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set `env` in os.environ for the duration of a dbt invocation, then restore it.

    `DbtCliResource.cli` hands the dbt subprocess a copy of os.environ and has no
    parameter for extra variables; the settings' `dbt_env()` has to travel this way.
    Steps that touch the warehouse never run concurrently in one process (the warehouse
    is single-writer), so the temporary change is not observed by another step.
    """
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in _PROJECT_SOURCES:
        path = project_dir / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for file in path.rglob("*"):
                if file.is_file():
                    newest = max(newest, file.stat().st_mtime)
    return newest


def project_source_digest(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A hash of every file of the dbt project: a build made by other SQL is another build."""
    digest = hashlib.sha256()
    for name in _PROJECT_SOURCES:
        path = project_dir / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for file in files:
            digest.update(str(file.relative_to(project_dir)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def manifest_is_stale(project: DbtProject | None = None) -> bool:
    """True when the manifest is missing or older than a file of the dbt project."""
    project = project or dbt_project()
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(project.project_dir)


def prepare_dbt_manifest(force: bool = False) -> Path:
    """Build `dbt_project/target/manifest.json` with `dbt parse` when missing or stale.

    Safe to call from several processes at once (pytest-xdist workers, a CLI run next to
    `dagster dev`): one parses under a file lock, the others wait and find it fresh. The
    manifest is written to a temporary target folder and renamed into place, so a reader
    never sees half a file. Returns the manifest's path.
    """
    project = dbt_project()
    target_dir = project.project_dir / project.target_path
    if not force and not manifest_is_stale(project):
        return project.manifest_path
    target_dir.mkdir(parents=True, exist_ok=True)
    with open(target_dir / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and not manifest_is_stale(project):
            return project.manifest_path
        scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target_dir))
        try:
            env = {**_PARSE_PLACEHOLDER_ENV, **os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
            completed = subprocess.run(
                [
                    dbt_executable(), "parse", "--quiet",
                    "--project-dir", str(project.project_dir),
                    "--profiles-dir", str(project.profiles_dir),
                    "--target-path", str(scratch),
                    "--log-path", str(scratch),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if completed.returncode != 0 or not (scratch / "manifest.json").exists():
                output = (completed.stdout + completed.stderr).strip()
                raise RuntimeError(f"dbt parse failed in {project.project_dir}:\n{output}")
            for name in ("partial_parse.msgpack", "manifest.json"):  # manifest last: it marks completion
                if (scratch / name).exists():
                    os.replace(scratch / name, target_dir / name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return project.manifest_path
