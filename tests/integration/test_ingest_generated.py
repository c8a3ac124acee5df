"""The ingest group materialised by Dagster on a small generated business, clean and messy."""

from __future__ import annotations

import json

import dagster as dg
import polars as pl
import pytest

from ltv_pipeline.core import layout
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.ingest.assets import ingest_assets, raw_expectation_checks
from ltv_pipeline.ingest.sources import SPECS
from ltv_pipeline.synthetic import generate_business


@pytest.fixture(scope="module")
def messy_business(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    summary = generate_business(root / "landing", n_customers=1_500, seed=7, messy=True)
    truth = json.loads((summary.truth_dir / "truth.json").read_text())
    resource = SettingsResource(
        overrides={"landing_dir": str(root / "landing"), "lake_dir": str(root / "lake"), "mode": "demo"}
    )
    result = dg.materialize(
        [*ingest_assets, *raw_expectation_checks],
        resources={"settings": resource},
        instance=dg.DagsterInstance.ephemeral(),
    )
    return root, truth, result, resource


def test_materialize_ingest_group_succeeds_with_metadata(messy_business):
    _, truth, result, _ = messy_business
    assert result.success
    for source in SPECS:
        events = result.asset_materializations_for_node(f"raw__{source}")
        metadata = events[0].metadata
        assert metadata["dagster/row_count"].value == truth["expected_raw_rows"][source]
        assert metadata["rows_read"].value == (
            metadata["rows_loaded"].value + metadata["rows_quarantined"].value + metadata["rows_duplicate"].value
        )


def test_every_delivery_matches_the_generators_expected_counts(messy_business):
    root, truth, _, resource = messy_business
    log = pl.read_parquet(layout.load_log_path(resource.get()))
    columns = ["status", "rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate"]
    for source, files in truth["deliveries"].items():
        for name, expected in files.items():
            row = log.filter((pl.col("source") == source) & (pl.col("delivery") == name))
            assert row.height == 1, (source, name)
            got = row.select(columns).row(0, named=True)
            assert got == {k: expected[k] for k in columns}, (source, name, got, expected)


def test_quarantine_keeps_file_line_reason_and_original_values(messy_business):
    root, truth, _, _ = messy_business
    files = list((root / "lake/quarantine/orders").glob("*.parquet"))
    q = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    expected = sum(f["expected"]["rows_quarantined"] for f in truth["messy"]["orders"].values())
    assert q.height == expected
    assert q["_reason"].null_count() == 0 and q["_line"].min() >= 2
    assert q["_source_file"].str.contains(r"\.(csv|csv\.gz|parquet)$").all()


def test_raw_expectations_pass_on_the_loaded_tables(messy_business):
    _, _, result, _ = messy_business
    evaluations = result.get_asset_check_evaluations()
    failed = [(e.asset_key.to_user_string(), e.check_name, e.description) for e in evaluations if not e.passed]
    assert len(evaluations) >= 25
    assert failed == []
