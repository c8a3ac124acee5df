"""The `ltv` command and the Dagster definitions, run for real on small files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from ltv_pipeline.commands.cli import main
from ltv_pipeline.definitions import defs

HEADER = "order_id,customer_id,order_ts,revenue,cost,refund\n"


def test_definitions_load_and_list_the_ingest_assets_and_checks():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw/orders", "raw/customers", "raw/marketing_spend", "raw/support_tickets"} <= keys
    for source in ("orders", "customers", "marketing_spend", "support_tickets"):
        node = graph.get(pl_key(source))
        assert node.group_name == "ingest" and node.description
    check_names = {c.name for c in graph.asset_check_keys if c.asset_key == pl_key("orders")}
    assert {"deliveries_readable", "rows_accounted_for", "column_values_to_be_unique__order_id"} <= check_names


def pl_key(source: str):
    import dagster as dg

    return dg.AssetKey(["raw", source])


def test_ltv_run_reports_rejected_deliveries_and_exits_nonzero(tmp_path, capsys, monkeypatch):
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    (landing / "orders" / "a.csv").write_text(HEADER + "O1,C1,2025-01-01,10,,\nO2,,2025-01-02,5,,\n")
    (landing / "orders" / "junk.csv").write_bytes(b"\x00\xff" * 100)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LTV_LAKE_DIR", str(tmp_path / "lake"))
    code = main(["run", "--landing", str(landing), "--as-of", "2025-01-31"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "rejected delivery orders/junk.csv: binary content" in err
    assert "orders" in out and "quarantine" in out
    raw = pl.read_parquet(tmp_path / "lake/raw/orders/orders.parquet")
    assert raw["order_id"].to_list() == ["O1"]


def test_ltv_cli_bad_config_is_one_line_on_stderr(tmp_path):
    (tmp_path / "ltv.yml").write_text("horizon_days: -1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTV_")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ltv"), "run"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["ltv: error: horizon_days must be a positive number of days, got -1"]
