"""Every run's version of the published tables, kept by as_of for `history_days`, and read
through `published.<table>_history` (publish/history.py, publish/tables.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ltv_pipeline.commands.forget import forget_customers
from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import SettingsError, load_settings
from ltv_pipeline.publish.history import kept_versions
from ltv_pipeline.publish.tables import PUBLISHED_TABLES, publish_tables


def _settings(root: Path, **overrides):
    return load_settings(env={}, cwd=root, overrides={
        "landing_dir": root / "landing", "lake_dir": root / "lake", "warehouse": root / "warehouse.duckdb",
        "mode": "demo", **overrides,
    })


def _tables(as_of: date, customers: list[str], extra_column: bool = False) -> dict[str, pl.DataFrame]:
    """One small frame per published table; `customer_scores` holds `customers`."""
    scores = pl.DataFrame({"customer_id": customers, "as_of": [as_of] * len(customers),
                           "predicted_ltv": [10.0 * (i + 1) for i in range(len(customers))]})
    if extra_column:
        scores = scores.with_columns(pl.lit("gold").alias("value_tier"))
    other = pl.DataFrame({"name": ["x"], "value": [1.0]})  # a table without as_of of its own
    return {t: scores if t == "customer_scores" else other for t in PUBLISHED_TABLES}


def _query(settings, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def test_every_as_of_is_kept_and_readers_query_the_latest_and_the_history(tmp_path):
    settings = _settings(tmp_path)
    publish_tables(settings, _tables(date(2024, 11, 30), ["a", "b"]), as_of=date(2024, 11, 30), run_id="run-1")
    publish_tables(settings, _tables(date(2024, 12, 31), ["a", "b", "c"], extra_column=True), as_of=date(2024, 12, 31), run_id="run-2")

    latest = _query(settings, "select * from published.customer_scores")
    assert latest["as_of"].unique().to_list() == [date(2024, 12, 31)] and latest.height == 3
    history = _query(settings, "select as_of, run_id, count(*) as n, count(value_tier) as tiered "
                               "from published.customer_scores_history group by all order by as_of")
    assert history.rows() == [(date(2024, 11, 30), "run-1", 2, 0), (date(2024, 12, 31), "run-2", 3, 3)]
    # a table without an as_of column gets the version's
    other = _query(settings, "select as_of from published.segment_summary_history order by as_of")
    assert other["as_of"].to_list() == [date(2024, 11, 30), date(2024, 12, 31)]


def test_a_rerun_of_an_as_of_replaces_that_version_only(tmp_path):
    settings = _settings(tmp_path)
    publish_tables(settings, _tables(date(2024, 11, 30), ["a"]), as_of=date(2024, 11, 30), run_id="run-1")
    publish_tables(settings, _tables(date(2024, 12, 31), ["a", "b"]), as_of=date(2024, 12, 31), run_id="run-2")
    publish_tables(settings, _tables(date(2024, 11, 30), ["a", "b", "c"]), as_of=date(2024, 11, 30), run_id="run-3")
    history = _query(settings, "select as_of, run_id, count(*) as n from published.customer_scores_history group by all order by as_of")
    assert history.rows() == [(date(2024, 11, 30), "run-3", 3), (date(2024, 12, 31), "run-2", 2)]


def test_versions_older_than_history_days_before_the_newest_are_dropped(tmp_path):
    settings = _settings(tmp_path, history_days=400)
    for day in (date(2024, 1, 1), date(2024, 6, 1), date(2025, 3, 1)):
        publish_tables(settings, _tables(day, ["a"]), as_of=day, run_id=str(day))
    # 2025-03-01 minus 400 days is 2024-01-26
    for table in PUBLISHED_TABLES:
        assert sorted(kept_versions(settings, table)) == [date(2024, 6, 1), date(2025, 3, 1)]
    kept = _query(settings, "select distinct as_of from published.model_parameters_history order by as_of")
    assert kept["as_of"].to_list() == [date(2024, 6, 1), date(2025, 3, 1)]

    only_newest = _settings(tmp_path, history_days=0)
    publish_tables(only_newest, _tables(date(2025, 3, 1), ["a"]), as_of=date(2025, 3, 1), run_id="again")
    assert sorted(kept_versions(only_newest, "customer_scores")) == [date(2025, 3, 1)]


def test_a_negative_history_days_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="history_days"):
        _settings(tmp_path, history_days=-1)


def test_forget_erases_a_customer_from_every_kept_version(tmp_path):
    settings = _settings(tmp_path)
    for day in (date(2024, 10, 31), date(2024, 11, 30)):
        publish_tables(settings, _tables(day, ["C-keep", "C-gone"]), as_of=day, run_id=str(day))
    forget_customers(settings, ["C-gone"])
    for path in kept_versions(settings, "customer_scores").values():
        assert pl.read_parquet(path)["customer_id"].to_list() == ["C-keep"]
    assert _query(settings, "select distinct customer_id from published.customer_scores_history")["customer_id"].to_list() == ["C-keep"]
    assert layout.history_dir(settings, "customer_scores").is_relative_to(settings.lake_dir)
