"""Configuration precedence and validation (docs/contract.md, section 3)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import DEMO_PII_KEY, SettingsError, load_settings


def _write(tmp_path, text):
    path = tmp_path / "ltv.yml"
    path.write_text(text)
    return path


def test_defaults_are_the_contracts(tmp_path):
    s = load_settings(env={}, cwd=tmp_path)
    assert s.landing_dir == tmp_path / "data/landing"
    assert s.lake_dir == tmp_path / "data/lake"
    assert s.warehouse == tmp_path / "data/warehouse.duckdb"
    assert (s.as_of, s.horizon_days, s.margin_rate, s.annual_discount_rate) == (None, 365, 1.0, 0.10)
    assert s.allocation_mode == "profit"


def test_file_then_env_then_cli(tmp_path):
    _write(tmp_path, "horizon_days: 180\nmargin_rate: 0.4\nas_of: 2025-01-31\n")
    s = load_settings(env={"LTV_HORIZON_DAYS": "90"}, cwd=tmp_path)
    assert (s.horizon_days, s.margin_rate, s.as_of) == (90, 0.4, date(2025, 1, 31))
    s = load_settings(env={"LTV_HORIZON_DAYS": "90"}, cwd=tmp_path, overrides={"horizon_days": "30", "as_of": None})
    assert (s.horizon_days, s.as_of) == (30, date(2025, 1, 31))


def test_config_file_from_env_and_mapping_keys(tmp_path):
    path = tmp_path / "custom.yml"
    path.write_text("column_mapping:\n  orders:\n    OrderNo: order_id\nlake_dir: /tmp/elsewhere\n")
    s = load_settings(env={"LTV_CONFIG": str(path)}, cwd=tmp_path)
    assert s.column_mapping == {"orders": {"OrderNo": "order_id"}}
    assert str(s.lake_dir) == "/tmp/elsewhere"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("horizon_dayz: 10\n", "unknown key(s)"),
        ("horizon_days: -5\n", "horizon_days must be a positive"),
        ("as_of: 31/01/2025\n", "as_of: cannot read"),
        ("margin_rate: lots\n", "margin_rate: cannot read"),
        ("margin_rate: 1.5\n", "margin_rate must be between 0 and 1"),
        ("column_mapping:\n  order: {a: b}\n", "unknown sources ['order']"),
        ("- just\n- a list\n", "must hold a mapping"),
        ("horizon_days: [\n", "not valid YAML"),
        ("retrain_days: -1\n", "retrain_days must be 0 (refit every run) or more"),
        ("retrain_days: weekly\n", "retrain_days: cannot read"),
        ("allocation_mode: spend_it_all\n", "allocation_mode must be one of profit, budget, got 'spend_it_all'"),
    ],
)
def test_bad_values_have_clear_messages(tmp_path, text, message):
    _write(tmp_path, text)
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(env={}, cwd=tmp_path)


def test_bad_env_value_is_named(tmp_path):
    with pytest.raises(SettingsError, match="horizon_days"):
        load_settings(env={"LTV_HORIZON_DAYS": "a year"}, cwd=tmp_path)


def test_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yml", env={}, cwd=tmp_path)


# ---- paths from config: resolved, and checked before anything is written -------------


def test_relative_paths_are_made_absolute_and_normalised(tmp_path):
    _write(tmp_path, "landing_dir: exports/../in\nlake_dir: ./lake\nwarehouse: db/../w.duckdb\n")
    s = load_settings(env={"LTV_SPARK_DIR": "spark/./state"}, cwd=tmp_path)
    assert (s.landing_dir, s.lake_dir, s.warehouse) == (tmp_path / "in", tmp_path / "lake", tmp_path / "w.duckdb")
    assert s.spark_dir == tmp_path / "spark/state"
    assert all(p.is_absolute() for p in (s.landing_dir, s.lake_dir, s.warehouse, layout.build_warehouse(s)))


def test_home_is_expanded(tmp_path):
    s = load_settings(env={}, cwd=tmp_path, overrides={"lake_dir": "~/ltv-lake"})
    assert s.lake_dir == Path.home() / "ltv-lake"


def test_the_usual_layouts_are_accepted(tmp_path):
    for overrides in (
        {},  # data/landing, data/lake, data/warehouse.duckdb
        {"landing_dir": "demo/landing", "lake_dir": "demo/lake", "warehouse": "demo/warehouse.duckdb"},  # ltv demo
        {"warehouse": "data/lake/warehouse.duckdb"},  # the warehouse may live in the lake
        {"landing_dir": "/srv/exports", "lake_dir": "lake", "spark_lake_uri": "s3a://bucket/lake"},
    ):
        load_settings(env={}, cwd=tmp_path, overrides=overrides)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"yaml": "lake_dir: ''\n"}, "lake_dir must not be empty"),
        ({"env": {"LTV_WAREHOUSE": "  "}}, "warehouse must not be empty"),
        ({"overrides": {"landing_dir": ""}}, "landing_dir must not be empty"),
        ({"overrides": {"lake_dir": "data/landing"}}, "lake_dir and landing_dir are the same folder"),
        ({"overrides": {"lake_dir": "data/landing/../landing/"}}, "lake_dir and landing_dir are the same folder"),
        ({"overrides": {"lake_dir": "data/landing/lake"}}, "is inside landing_dir"),
        ({"overrides": {"lake_dir": "."}}, "landing_dir ({root}/data/landing) is inside lake_dir"),
        ({"overrides": {"warehouse": "data/landing/orders/w.duckdb"}}, "warehouse ({root}/data/landing/orders/w.duckdb) is inside landing_dir"),
        ({"overrides": {"warehouse": "data/lake"}}, "warehouse must be the path of a DuckDB file, not a folder"),
        ({"overrides": {"lake_dir": "/tmp/o'brien/lake"}}, "lake_dir must not contain quotes"),
        ({"env": {"LTV_LAKE_DIR": "lake') union select 1 --"}}, "lake_dir must not contain quotes"),
        ({"overrides": {"warehouse": 'w".duckdb'}}, "warehouse must not contain quotes"),
        ({"overrides": {"landing_dir": "in\nbox"}}, "landing_dir must not contain quotes, backticks or control characters"),
        ({"overrides": {"spark_lake_uri": "s3a://b/lake`; drop"}}, "spark_lake_uri must not contain"),
        ({"overrides": {"spark_warehouse_dir": "/w'h"}}, "spark_warehouse_dir must not contain"),
        ({"overrides": {"spark_dir": "sp\x00rk"}}, "spark_dir must not contain"),
    ],
)
def test_nonsense_paths_are_rejected(tmp_path, source, message):
    _write(tmp_path, source.get("yaml", "{}\n"))
    with pytest.raises(SettingsError, match=re.escape(message.format(root=tmp_path))):
        load_settings(env=source.get("env", {}), cwd=tmp_path, overrides=source.get("overrides"))


def test_existing_files_and_folders_are_checked(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data/lake").write_text("not a folder")
    with pytest.raises(SettingsError, match=re.escape(f"lake_dir ({tmp_path}/data/lake) is a file, not a folder")):
        load_settings(env={}, cwd=tmp_path)
    (tmp_path / "data/lake").unlink()
    (tmp_path / "data/warehouse.duckdb").mkdir()
    with pytest.raises(SettingsError, match="warehouse must be the path of a DuckDB file, not a folder"):
        load_settings(env={}, cwd=tmp_path)


def test_a_symlink_to_the_landing_zone_is_the_landing_zone(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "lake").symlink_to(tmp_path / "exports")
    with pytest.raises(SettingsError, match="lake_dir and landing_dir are the same folder"):
        load_settings(env={}, cwd=tmp_path, overrides={"landing_dir": "exports", "lake_dir": "lake"})


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_number_is_refused(tmp_path, value):
    with pytest.raises(SettingsError, match="support_cost_per_ticket must be a finite number"):
        load_settings(env={}, cwd=tmp_path, overrides={"support_cost_per_ticket": value})


def test_production_refuses_the_public_demo_key(tmp_path):
    settings = load_settings(env={}, cwd=tmp_path, overrides={"mode": "production", "pii_key": DEMO_PII_KEY})
    with pytest.raises(SettingsError, match="public demo key"):
        settings.effective_pii_key()
