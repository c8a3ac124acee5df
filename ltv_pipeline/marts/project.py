"""The dbt project as Dagster sees it, and the one way its manifest gets built.

`@dbt_assets` reads `target/manifest.json` when the Definitions load, and
`DbtProject.prepare_if_dev()` only builds it under `dagster dev`. The CLI, the
Definitions and the test fixtures therefore all call `prepare_dbt_manifest()`, which runs
`dbt parse` when the manifest is missing or older than any file of the project.

Every dbt invocation also starts from a saved parse (`reused_parse`), so that it re-parses
only the files that changed instead of the whole project.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

from dagster_dbt import DbtProject

from ltv_pipeline.core.project_files import DBT_PROJECT_DIR

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
"""dbt's saved parse, which a later invocation re-uses when its vars and profile are the same."""

_SAVED_PARSES_KEPT = 8
"""Saved parses kept per profile environment in `target/saved_parses/` (the newest)."""

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


def dbt_target_dir(name: str) -> Path:
    """A new, unique folder under the project's `target/` for one dbt invocation's artifacts."""
    project = dbt_project()
    return project.project_dir / project.target_path / f"{name}-{uuid.uuid4().hex[:7]}"


@contextlib.contextmanager
def dbt_invocation(name: str, dbt_env: Mapping[str, str], vars_env: Mapping[str, str]) -> Iterator[Path]:
    """Around one dbt invocation of an asset: yields a new target folder (`dbt_target_dir(name)`),
    with the settings' `dbt_env` and the run's vars (`dbt_vars_env`) in the environment, and
    the invocation starting from the saved parse for `dbt_env` (`reused_parse`)."""
    target_path = dbt_target_dir(name)
    with dbt_environment({**dbt_env, **vars_env}), reused_parse(target_path, dbt_env):
        yield target_path


def _saved_parse_for(env: Mapping[str, str]) -> Path:
    project = dbt_project()
    key = hashlib.sha256(json.dumps(dict(env), sort_keys=True).encode()).hexdigest()[:16]
    return project.project_dir / project.target_path / "saved_parses" / f"{key}.msgpack"


@contextlib.contextmanager
def reused_parse(target_path: Path, env: Mapping[str, str]) -> Iterator[None]:
    """Around one dbt invocation into `target_path`: start it from the saved parse of the
    last invocation with the same `env` (the settings' `dbt_env()`), and keep its own after.

    dbt re-uses a saved parse (`partial_parse.msgpack` in the target folder) only when the
    command line's vars and the profile's connection (for DuckDB the warehouse's path) are
    the ones it was saved with; otherwise it parses the whole project again (seconds). The
    vars are kept off the command line (`dbt_vars_env`), and the saved parses are kept per
    `env`, because `prepare_dbt_manifest` parses with a placeholder warehouse that no run
    uses. Without one for `env`, the project's own (`target/partial_parse.msgpack`) is
    copied, as dagster-dbt does. dbt checks every saved parse itself (version, vars,
    profile, each file's checksum) and re-parses what differs, so an outdated one costs
    time, never correctness.
    """
    target_path = Path(target_path)
    destination = target_path / PARTIAL_PARSE_FILE
    saved = _saved_parse_for(env)
    if not destination.exists():
        target_path.mkdir(parents=True, exist_ok=True)
        project = dbt_project()
        for candidate in (saved, project.project_dir / project.target_path / PARTIAL_PARSE_FILE):
            try:
                shutil.copy(candidate, destination)
                break
            except FileNotFoundError:  # none yet, or pruned meanwhile by another process
                continue
    try:
        yield
    finally:
        if destination.exists():
            saved.parent.mkdir(parents=True, exist_ok=True)
            partial = saved.with_name(f".{saved.stem}.{uuid.uuid4().hex[:7]}.tmp")
            try:
                shutil.copy(destination, partial)
                os.replace(partial, saved)  # atomic: a reader copies the old file or the new one
            finally:
                partial.unlink(missing_ok=True)
            for stale in sorted(saved.parent.glob("*.msgpack"), key=_mtime_or_zero, reverse=True)[_SAVED_PARSES_KEPT:]:
                stale.unlink(missing_ok=True)


def _mtime_or_zero(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


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
            for name in (PARTIAL_PARSE_FILE, "manifest.json"):  # manifest last: it marks completion
                if (scratch / name).exists():
                    os.replace(scratch / name, target_dir / name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return project.manifest_path
