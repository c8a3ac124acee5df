"""How the pipeline hands dbt its vars and its saved parse (ltv_pipeline/marts/dbt_resource.py, project.py).

The dbt side (`ltv_var`'s precedence, no re-parse when the vars change) is exercised by
every dbt build of tests/dbt and tests/integration; these check the Python side without dbt.
"""

from __future__ import annotations

import json
import re
from datetime import date
from types import SimpleNamespace

import pytest

from ltv_pipeline.core.settings import load_settings
from ltv_pipeline.marts import project as project_module
from ltv_pipeline.marts.dbt_resource import dbt_vars_env
from ltv_pipeline.marts.project import DBT_PROJECT_DIR, PARTIAL_PARSE_FILE, reused_parse

AS_OF = date(2026, 9, 30)


def test_the_vars_travel_as_one_json_environment_variable(tmp_path):
    settings = load_settings(env={}, cwd=tmp_path, overrides={"churn_days": "60"})
    env = dbt_vars_env(settings, AS_OF, {"feature_history": False, "min_order_date": "2026-09-01"})
    assert list(env) == ["LTV_DBT_VARS"]
    assert json.loads(env["LTV_DBT_VARS"]) == {
        **settings.dbt_vars(AS_OF), "feature_history": False, "min_order_date": "2026-09-01",
    }
    assert json.loads(env["LTV_DBT_VARS"])["churn_days"] == 60


def test_models_and_macros_read_the_pipeline_vars_through_ltv_var_only():
    """A bare `var('x')` would miss what the pipeline passes in LTV_DBT_VARS."""
    offenders = [
        f"{path.relative_to(DBT_PROJECT_DIR)}:{number}"
        for folder in ("models", "macros")
        for path in sorted((DBT_PROJECT_DIR / folder).rglob("*.sql"))
        if path.name != "run_vars.sql"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"(?<![\w.])var\(", line)
    ]
    assert offenders == []


@pytest.fixture
def project(tmp_path, monkeypatch):
    fake = SimpleNamespace(project_dir=tmp_path / "dbt_project", target_path="target")
    (fake.project_dir / "target").mkdir(parents=True)
    monkeypatch.setattr(project_module, "dbt_project", lambda: fake)
    return fake


def _invoke(target, env, writes: bytes | None) -> bytes | None:
    """One fake dbt invocation: what it found in its target folder; it saves `writes`."""
    with reused_parse(target, env):
        found = (target / PARTIAL_PARSE_FILE).read_bytes() if (target / PARTIAL_PARSE_FILE).exists() else None
        if writes is not None:
            (target / PARTIAL_PARSE_FILE).write_bytes(writes)
    return found


def test_an_invocation_starts_from_the_last_parse_saved_with_the_same_settings(project):
    target = project.project_dir / "target"
    warehouse_a, warehouse_b = {"LTV_WAREHOUSE": "/a.duckdb"}, {"LTV_WAREHOUSE": "/b.duckdb"}
    assert _invoke(target / "run1", warehouse_a, b"parse of a") is None  # nothing saved yet
    (target / PARTIAL_PARSE_FILE).write_bytes(b"project parse")
    assert _invoke(target / "run2", warehouse_a, None) == b"parse of a"
    assert _invoke(target / "run3", warehouse_b, b"parse of b") == b"project parse"  # none for b: the project's
    assert _invoke(target / "run4", warehouse_b, None) == b"parse of b"
    assert _invoke(target / "run5", warehouse_a, None) == b"parse of a"
    # a target folder that already holds a parse (e.g. the project's own) keeps it
    (target / "run6").mkdir()
    (target / "run6" / PARTIAL_PARSE_FILE).write_bytes(b"own")
    assert _invoke(target / "run6", warehouse_a, None) == b"own"


def test_only_the_newest_saved_parses_are_kept(project):
    target = project.project_dir / "target"
    for n in range(project_module._SAVED_PARSES_KEPT + 3):
        _invoke(target / f"run{n}", {"LTV_WAREHOUSE": f"/w{n}.duckdb"}, b"parse")
    saved = list((target / "saved_parses").iterdir())
    assert len(saved) == project_module._SAVED_PARSES_KEPT and all(p.suffix == ".msgpack" for p in saved)
