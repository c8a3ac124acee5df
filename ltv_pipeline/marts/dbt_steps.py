"""What the two `@dbt_assets` definitions (marts/assets.py, marts/partitioned.py) share:
the translator, the warehouse's single-writer pool, the steps' priority, and the row
counts read once dbt has released the warehouse."""

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

WAREHOUSE_POOL = "duckdb_warehouse"
"""Concurrency pool shared by every step that writes the DuckDB file (single writer)."""

RUN_BEFORE_OTHER_READY_STEPS = {"dagster/priority": "1"}
"""Op tags of the dbt steps: in a run of the whole graph (`ltv run`) each starts as soon as it
is ready, ahead of the other ready steps (the raw expectation checks, which are not
blocking): the marts, and everything after them, do not wait for the checks, and the
daily-partitioned step is always done before `published_tables` hands the warehouse to
readers (which it does not depend on)."""


GROUP_BY_SCHEMA = {"features": "prediction"}
"""dbt schemas whose models belong to another Dagster group than `marts` (features feed the models)."""


class LtvDbtTranslator(DagsterDbtTranslator):
    """Puts dbt nodes in the `marts` group (features: `prediction`), otherwise dagster-dbt's defaults.

    Those defaults are what the rest of the pipeline relies on: a model's key is
    `[schema, model]` (e.g. `["marts", "customers"]`) because each layer sets its own
    schema, and a source's key is the ingest asset's key carried in its
    `meta.dagster.asset_key`, which is how lineage reaches the raw assets. A `layer` tag
    (staging / intermediate / marts / reference) lets the UI and selections filter by layer.
    The raw sources' dbt tests are checks of the raw assets they test; otherwise dagster-dbt
    logs each as an observation, with a warning in every run's output.
    """

    def __init__(self) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP_BY_SCHEMA.get(dbt_resource_props.get("config", {}).get("schema"), "marts")

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        schema = dbt_resource_props.get("config", {}).get("schema")
        if schema:
            tags["layer"] = schema
        return tags


def event_unique_id(event: dg.Output) -> str | None:
    value = event.metadata.get("unique_id")
    return getattr(value, "value", value)


def relations_by_unique_id(manifest: Mapping[str, Any], events: Iterable[Any]) -> dict[str, tuple[str, str]]:
    """(schema, table) of every dbt node that produced an Output in this run."""
    nodes = manifest["nodes"]
    return {
        unique_id: (nodes[unique_id]["schema"], nodes[unique_id]["alias"])
        for event in events
        if isinstance(event, dg.Output) and (unique_id := event_unique_id(event)) in nodes
    }


def row_counts(warehouse: str, relations: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Exact row counts of built relations, read once dbt has released the warehouse."""
    wanted = set(relations)
    if not wanted:
        return {}
    counts: dict[tuple[str, str], int] = {}
    with duckdb.connect(warehouse, read_only=True) as con:
        existing = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
        for schema, name in sorted(wanted & existing):
            counts[(schema, name)] = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
    return counts
