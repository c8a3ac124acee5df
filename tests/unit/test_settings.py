"""Configuration precedence and validation (contract, section 3)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from ltv_pipeline.settings import SettingsError, load_settings


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
