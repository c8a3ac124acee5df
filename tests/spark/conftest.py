"""The Spark engine's tests: marker, and a skip only when Spark genuinely cannot run here.

Select them with `pytest -m spark` (or leave them out with `-m "not spark"`). They need
pyspark and dbt-spark (the `spark` extra) and a Java runtime (17 or newer).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "spark: builds the dbt project on Spark (dbt-spark session, pyspark, a JVM); `-m spark` selects them"
    )


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


@cache
def spark_unavailable_reason() -> str | None:
    """Why Spark cannot run on this machine, or None when it can."""
    missing = [name for name, module in (("pyspark", "pyspark"), ("dbt-spark", "dbt.adapters.spark")) if importlib.util.find_spec(module) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (pip install -e '.[spark]')"
    java = _java()
    if java is None:
        return "no Java runtime: neither $JAVA_HOME/bin/java nor java on PATH (Spark needs Java 17+)"
    try:
        completed = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{java} -version did not run: {exc}"
    if completed.returncode != 0:
        return f"{java} -version failed: {(completed.stderr or completed.stdout).strip()[:200]}"
    return None


@pytest.fixture(scope="session")
def spark_available() -> None:
    reason = spark_unavailable_reason()
    if reason is not None:
        pytest.skip(f"Spark engine not testable here: {reason}")
