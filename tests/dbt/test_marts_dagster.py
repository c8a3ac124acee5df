"""The dbt project as Dagster assets: keys, lineage to the ingest assets, checks, and a real run."""

from __future__ import annotations

import dagster as dg
import handmade_lake
import polars as pl
import pytest
from conftest import lake_overrides, lake_settings

from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.marts import marts_defs
from ltv_pipeline.marts.assets import marts_dbt_assets
from ltv_pipeline.marts.dbt_resource import dbt_resource

# One xdist worker builds the warehouses once (run with `--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("dbt_marts")

MARTS = [
    "campaign_cac_monthly",
    "channel_cac_monthly",
    "cohort_ltv_cac_payback",
    "cohort_retention",
    "customer_rfm",
    "customers",
    "orders",
    "retention_churn",
    "support_vs_value",
]
RAW_KEYS = {dg.AssetKey(["raw", s]) for s in ("orders", "customers", "marketing_spend", "support_tickets")}
ORPHAN_TICKET_CHECK = (
    "staging/stg_raw__support_tickets",
    "relationships_stg_raw__support_tickets_customer_id__customer_id__ref_customers_",
)


@pytest.fixture(scope="module")
def assets_def(dbt_manifest) -> dg.AssetsDefinition:
    return marts_dbt_assets()


def test_asset_keys_group_and_lineage(assets_def):
    keys = {key.to_user_string() for key in assets_def.keys}
    assert {f"marts/{name}" for name in MARTS} <= keys
    assert {"staging/stg_raw__orders", "intermediate/int_customers_unioned", "reference/rfm_segment_map"} <= keys
    groups = {key.to_user_string(): assets_def.group_names_by_key[key] for key in assets_def.keys}
    assert groups.pop("features/customer_features") == "prediction"
    assert set(groups.values()) == {"marts"}
    upstream = {dep for key in assets_def.keys for dep in assets_def.asset_deps[key]} - set(assets_def.keys)
    assert upstream == RAW_KEYS
    assert assets_def.asset_deps[dg.AssetKey(["staging", "stg_raw__orders"])] == {dg.AssetKey(["raw", "orders"])}
    assert assets_def.specs_by_key[dg.AssetKey(["marts", "customers"])].tags["layer"] == "marts"


def test_dbt_tests_are_asset_checks(assets_def):
    checks = {(c.asset_key.to_user_string(), c.name) for c in assets_def.check_keys}
    assert ("marts/orders", "assert_orders_net_revenue_matches_raw") in checks
    assert ("marts/cohort_retention", "assert_cohort_sizes_add_up") in checks
    assert ("marts/retention_churn", "assert_active_base_matches_customers") in checks
    assert ("marts/channel_cac_monthly", "assert_cac_spend_matches_spend") in checks
    assert ("marts/customers", "unique_customers_customer_id") in checks
    assert ORPHAN_TICKET_CHECK in checks
    # the raw sources' tests are checks of the raw assets; a singular test of several models
    # names the one it checks (meta.dagster.ref)
    assert ("raw/orders", "source_not_null_raw_orders_order_id") in checks
    assert ("raw/customers", "source_unique_raw_customers_customer_id") in checks
    assert ("features/customer_features", "assert_customer_features_score_cutoff_covers_every_purchaser") in checks


def test_definitions_load_when_merged_with_the_settings_resource(dbt_manifest):
    defs = dg.Definitions.merge(marts_defs(), dg.Definitions(resources={"settings": SettingsResource()}))
    assert dg.AssetKey(["marts", "customers"]) in defs.resolve_asset_graph().get_all_asset_keys()
    assert "dbt" in defs.resources


def test_materialize_builds_every_model_with_row_counts(materialized, assets_def):
    result = materialized.result
    assert result.success
    metadata = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert set(metadata) == set(assets_def.keys)
    assert metadata[dg.AssetKey(["marts", "orders"])]["dagster/row_count"].value == 7
    assert metadata[dg.AssetKey(["marts", "customers"])]["dagster/row_count"].value == 5
    assert metadata[dg.AssetKey(["marts", "customers"])]["as_of"].value == "2024-03-31"


def test_every_check_passes_but_the_orphan_ticket_warning(materialized, assets_def):
    evaluations = materialized.result.get_asset_check_evaluations()
    assert len(evaluations) == len(assets_def.check_keys)
    failed = {(c.asset_key.to_user_string(), c.check_name): c.severity for c in evaluations if not c.passed}
    # t6 belongs to a customer who exists nowhere: kept (contract), flagged as a warning.
    assert failed == {ORPHAN_TICKET_CHECK: dg.AssetCheckSeverity.WARN}


def test_rows_after_as_of_change_nothing(materialized, without_future_rows):
    """The full lake (rows after as_of included) and the same lake without them give identical marts."""
    for name in MARTS:
        sql = f"select * from marts.{name} order by all"
        assert materialized.query(sql) == without_future_rows.query(sql), name


def test_a_failing_dbt_test_fails_the_run_and_its_check(tmp_path, assets_def):
    """A duplicated order in the raw layer breaks the orders mart's grain: the run fails,
    the `unique` check says so, and the models that did build are still recorded."""
    settings = lake_settings(tmp_path)
    handmade_lake.write_lake(settings.lake_dir)
    orders_path = settings.lake_dir / "raw" / "orders" / "orders.parquet"
    orders = pl.read_parquet(orders_path)
    pl.concat([orders, orders.head(1)]).write_parquet(orders_path)

    selection = [
        dg.AssetKey(["staging", "stg_raw__orders"]),
        dg.AssetKey(["staging", "stg_raw__customers"]),
        dg.AssetKey(["marts", "orders"]),
    ]
    result = dg.materialize(
        [assets_def],
        selection=selection,
        resources={"dbt": dbt_resource(), "settings": SettingsResource(overrides=lake_overrides(tmp_path))},
        raise_on_error=False,
    )
    assert not result.success
    failed = {c.check_name for c in result.get_asset_check_evaluations() if not c.passed}
    assert "unique_orders_order_id" in failed
    assert dg.AssetKey(["marts", "orders"]) in {e.asset_key for e in result.get_asset_materialization_events()}


def test_a_build_of_some_models_runs_only_the_tests_it_can(tmp_path, assets_def):
    """Materialising `marts/orders` and what it reads on a new warehouse: the tests of the
    models it builds run and pass; tests that also read a model it leaves out (the
    `customers` mart, `daily_orders`) wait for a build of that model instead of failing on
    a table that is not there (`indirect_selection: buildable`, dbt_project.yml)."""
    settings = lake_settings(tmp_path)
    handmade_lake.write_lake(settings.lake_dir)
    result = dg.materialize(
        [assets_def],
        selection=dg.AssetSelection.assets(dg.AssetKey(["marts", "orders"])).upstream(),
        resources={"dbt": dbt_resource(), "settings": SettingsResource(overrides=lake_overrides(tmp_path))},
        raise_on_error=False,
    )
    assert result.success
    evaluated = {(c.asset_key.to_user_string(), c.check_name) for c in result.get_asset_check_evaluations()}
    assert ("marts/orders", "unique_orders_order_id") in evaluated
    assert ("marts/orders", "assert_orders_net_revenue_matches_raw") in evaluated
    assert ("marts/orders", "relationships_orders_customer_id__customer_id__ref_customers_") not in evaluated
    assert dg.AssetKey(["marts", "customers"]) not in {e.asset_key for e in result.get_asset_materialization_events()}
