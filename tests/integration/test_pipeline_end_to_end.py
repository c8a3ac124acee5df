"""The whole asset graph on a small generated business: the published tables of the contract."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import polars as pl
import pytest

from ltv_pipeline.commands.run import run_pipeline
from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import load_settings
from ltv_pipeline.synthetic import generate_business

pytestmark = pytest.mark.xdist_group("pipeline_e2e")

CONTRACT_COLUMNS = {
    "customer_scores": [
        "customer_id", "as_of", "predicted_orders", "predicted_revenue", "predicted_ltv", "p_alive",
        "churn_probability", "ltv_lower", "ltv_upper", "rfm_segment", "value_tier",
    ],
    "segment_summary": ["segment", "customers", "revenue", "avg_predicted_ltv", "churn_rate"],
    "channel_budget_allocation": [
        "channel", "current_spend", "recommended_spend", "expected_new_customers", "expected_ltv_per_customer",
        "cac", "ltv_to_cac", "marginal_roi", "p_better_than_current",
    ],
    "retention_targets": ["rank", "customer_id", "value_at_risk", "reason"],
    "model_evaluation": ["as_of", "model", "target", "metric", "value", "evaluation", "is_champion"],
    "model_parameters": ["as_of", "model", "parameter", "value", "time_unit"],
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    generate_business(root / "landing", n_customers=3_000, seed=11)
    settings = load_settings(
        env={},
        cwd=root,
        overrides={
            "landing_dir": root / "landing",
            "lake_dir": root / "lake",
            "warehouse": root / "warehouse.duckdb",
            "mode": "demo",
        },
    )
    outcome = run_pipeline(settings, log_level="WARNING")
    return settings, outcome


def _published(settings, table: str) -> pl.DataFrame:
    return pl.read_parquet(layout.published_dir(settings) / f"{table}.parquet")


def test_every_published_table_has_the_contract_columns_in_parquet_and_duckdb(pipeline):
    settings, outcome = pipeline
    assert outcome.rejected.is_empty()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        for table, columns in CONTRACT_COLUMNS.items():
            parquet = _published(settings, table)
            assert set(columns) <= set(parquet.columns), table
            in_duckdb = con.sql(f'select * from published."{table}"').pl()
            assert in_duckdb.height == parquet.height, table


def test_every_customer_with_an_order_is_scored(pipeline):
    settings, _ = pipeline
    scores = _published(settings, "customer_scores")
    buyers = pl.read_parquet(layout.raw_dir(settings, "orders") / "orders.parquet")["customer_id"].unique()
    assert scores["customer_id"].n_unique() == scores.height
    assert set(buyers) == set(scores["customer_id"])
    assert scores.select(pl.col("predicted_ltv", "p_alive", "churn_probability").null_count()).sum_horizontal().item() == 0
    assert (scores["ltv_lower"] <= scores["predicted_ltv"] + 1e-9).all()
    assert (scores["predicted_ltv"] <= scores["ltv_upper"] + 1e-9).all()
    assert scores["p_alive"].is_between(0, 1).all() and scores["churn_probability"].is_between(0, 1).all()
    assert set(scores["value_tier"]) <= {"High-Value", "At-Risk", "Growth Potential", "Low-Value"}


def test_model_evaluation_backtests_candidates_against_baselines_with_one_champion(pipeline):
    settings, _ = pipeline
    evaluation = _published(settings, "model_evaluation")
    assert set(evaluation["evaluation"]) == {"out_of_time"}
    for target in ("ltv", "churn"):
        rows = evaluation.filter(pl.col("target") == target)
        assert rows.filter(pl.col("model").str.starts_with("baseline_")).height > 0
        assert "bgnbd_gamma_gamma" in set(rows["model"])
        assert rows.filter(pl.col("is_champion"))["model"].n_unique() == 1
    gini = evaluation.filter((pl.col("target") == "ltv") & (pl.col("metric") == "normalized_gini"))
    champion = gini.filter(pl.col("is_champion"))["value"][0]
    best_baseline = gini.filter(pl.col("model").str.starts_with("baseline_"))["value"].max()
    assert champion > best_baseline


def test_model_parameters_and_budget_plan(pipeline):
    settings, _ = pipeline
    params = _published(settings, "model_parameters")
    bgnbd = dict(params.filter(pl.col("model") == "bg_nbd").select("parameter", "value").iter_rows())
    assert set(bgnbd) == {"r", "alpha", "a", "b"} and all(v > 0 for v in bgnbd.values())
    assert set(params["time_unit"]) == {"day"}
    plan = _published(settings, "channel_budget_allocation")
    assert plan.height >= 5
    assert plan["recommended_spend"].sum() <= plan["current_spend"].sum() * 1.001
    assert (plan["recommended_spend"] >= 0.5 * plan["current_spend"] - 1e-6).all()
    assert (plan["recommended_spend"] <= 2.0 * plan["current_spend"] + 1e-6).all()
    assert plan["reason"].str.len_chars().min() > 20
    assert set(plan["allocation_mode"]) == {"profit"}
    assert plan["p_better_than_current"].drop_nulls().is_between(0.0, 1.0).all()


def test_retention_targets_are_ranked_with_reasons(pipeline):
    settings, _ = pipeline
    targets = _published(settings, "retention_targets")
    assert targets.height > 0
    assert targets["value_at_risk"].is_sorted(descending=True)
    assert targets["reason"].str.contains("churn risk").all()


def test_a_reader_holding_the_warehouse_open_never_blocks_or_sees_half_a_table(pipeline):
    settings, _ = pipeline
    expected = _published(settings, "customer_scores").height
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, time
            con = duckdb.connect({str(settings.warehouse)!r}, read_only=True)
            counts, end = set(), time.time() + 600
            while time.time() < end:
                counts.add(con.execute('select count(*) from published.customer_scores').fetchone()[0])
                try:
                    open({str(settings.lake_dir / "stop_reader")!r}).close()
                    break
                except FileNotFoundError:
                    time.sleep(0.05)
            print(sorted(counts))
        """)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        outcome = run_pipeline(settings, log_level="WARNING")  # a full re-run while the reader holds the file
    finally:
        (settings.lake_dir / "stop_reader").touch()
        out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    assert out.strip() == f"[{expected}]"
    assert outcome.rejected.is_empty()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from published.customer_scores").fetchone()[0] == expected


def _strings_in_lake_and_warehouse(settings) -> str:
    """Every text value the pipeline stores, decoded (Parquet is compressed, so bytes won't do)."""
    chunks = []
    for path in settings.lake_dir.rglob("*"):
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            chunks += [" ".join(map(str, frame[c].to_list())) for c in frame.columns if frame[c].dtype == pl.String]
        elif path.is_file() and path.suffix in {".html", ".json", ".csv", ".md", ".txt"}:
            chunks.append(path.read_text(encoding="utf-8", errors="replace"))
    for warehouse in (settings.warehouse, layout.build_warehouse(settings)):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            columns = con.execute(
                "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
            ).fetchall()
            for schema, table, column in columns:
                values = con.execute(f'select "{column}" from "{schema}"."{table}"').fetchall()
                chunks.append(" ".join(str(v[0]) for v in values))
    return "\n".join(chunks)


def test_forget_erases_customers_everywhere_and_logs_it_hashed(pipeline):
    from ltv_pipeline.commands.cli import main

    settings, _ = pipeline
    targets = _published(settings, "retention_targets")["customer_id"].head(2).to_list()
    assert len(targets) == 2 and all(t in _strings_in_lake_and_warehouse(settings) for t in targets)
    env = {"LTV_LAKE_DIR": str(settings.lake_dir), "LTV_WAREHOUSE": str(settings.warehouse), "LTV_MODE": "demo"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        assert main(["forget", *targets]) == 0
    stored = _strings_in_lake_and_warehouse(settings)
    assert not any(t in stored for t in targets)
    log = pl.read_parquet(layout.meta_dir(settings) / "erasures.parquet")
    assert log.height == 2 and not set(targets) & set(log["customer_hash"])


def test_short_history_skips_the_backtest_and_still_scores_everyone(tmp_path):
    """Ten months of history, a one-year horizon: no labelled cutoff, BG/NBD alone scores."""
    generate_business(tmp_path / "landing", n_customers=600, seed=5)
    settings = load_settings(
        env={},
        cwd=tmp_path,
        overrides={
            "landing_dir": tmp_path / "landing", "lake_dir": tmp_path / "lake",
            "warehouse": tmp_path / "warehouse.duckdb", "mode": "demo", "as_of": "2024-10-31",
        },
    )
    run_pipeline(settings, log_level="WARNING")
    scores = _published(settings, "customer_scores")
    orders = pl.read_parquet(layout.raw_dir(settings, "orders") / "orders.parquet")
    buyers = orders.filter(pl.col("order_ts").dt.date() <= pl.date(2024, 10, 31))["customer_id"].unique()
    assert set(scores["customer_id"]) == set(buyers)
    assert _published(settings, "model_evaluation").is_empty()
    assert scores["predicted_ltv"].null_count() == 0
