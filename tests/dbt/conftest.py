"""Fixtures: hand-made raw lakes built into DuckDB warehouses by real dbt, once per session.

Three builds: the full lake through `dg.materialize` (the Dagster path), and two through
the plain runner - the same lake without its rows dated after as_of, and a lake with only
orders. The plain builds start in background threads as soon as the session needs any
of them, so their dbt processes overlap the materialisation instead of queueing behind it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import handmade_lake  # noqa: E402

from ltv_pipeline.core import layout
from ltv_pipeline.core.settings import Settings, load_settings  # noqa: E402
from ltv_pipeline.marts.project import prepare_dbt_manifest  # noqa: E402
from ltv_pipeline.marts.runner import DbtRun, run_dbt  # noqa: E402

Query = Callable[[str], list[dict[str, Any]]]


def lake_overrides(root: Path) -> dict[str, str]:
    return {**handmade_lake.SETTINGS_OVERRIDES, "lake_dir": str(root / "lake"), "warehouse": str(root / "warehouse.duckdb")}


def lake_settings(root: Path) -> Settings:
    """Settings for a lake and warehouse under `root`, untouched by the caller's environment."""
    return load_settings(env={}, cwd=root, overrides=lake_overrides(root))


def querier(warehouse: Path) -> Query:
    def query(sql: str) -> list[dict[str, Any]]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    return query


@dataclass(frozen=True)
class Build:
    settings: Settings
    run: DbtRun

    @property
    def query(self) -> Query:
        return querier(layout.build_warehouse(self.settings))


@dataclass(frozen=True)
class Materialization:
    settings: Settings
    result: dg.ExecuteInProcessResult

    @property
    def query(self) -> Query:
        return querier(layout.build_warehouse(self.settings))


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    return prepare_dbt_manifest()


@pytest.fixture(scope="session")
def background_builds(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Iterator[dict[str, Future[Build]]]:
    def build(settings: Settings, docs_target: Path | None = None) -> Build:
        built = Build(settings, run_dbt(settings))
        if docs_target is not None:
            run_dbt(settings, ["docs", "generate"], target_path=docs_target)
        return built

    # Lakes are written here, in the main thread: tmp_path_factory is not thread-safe.
    without_future_rows = lake_settings(tmp_path_factory.mktemp("without_future_rows"))
    handmade_lake.write_lake(without_future_rows.lake_dir, drop_after_as_of=True)
    orders_only = lake_settings(tmp_path_factory.mktemp("orders_only"))
    handmade_lake.write_lake(orders_only.lake_dir, sources=("orders",))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="dbt-build") as pool:
        yield {
            "without_future_rows": pool.submit(build, without_future_rows),
            "orders_only": pool.submit(build, orders_only, docs_target=orders_only.lake_dir.parent / "docs"),
        }


@pytest.fixture(scope="session")
def materialized(tmp_path_factory: pytest.TempPathFactory, background_builds: dict[str, Future[Build]]) -> Materialization:
    """The full lake (all sources, rows after as_of included) through `dg.materialize`."""
    from ltv_pipeline.core.resources import SettingsResource
    from ltv_pipeline.marts.assets import marts_dbt_assets
    from ltv_pipeline.marts.dbt_resource import dbt_resource

    root = tmp_path_factory.mktemp("full")
    settings = lake_settings(root)
    handmade_lake.write_lake(settings.lake_dir)
    result = dg.materialize(
        [marts_dbt_assets()],
        resources={"dbt": dbt_resource(), "settings": SettingsResource(overrides=lake_overrides(root))},
        raise_on_error=False,
    )
    return Materialization(settings, result)


@pytest.fixture(scope="session")
def query(materialized: Materialization) -> Query:
    return materialized.query


@pytest.fixture(scope="session")
def without_future_rows(background_builds: dict[str, Future[Build]]) -> Build:
    return background_builds["without_future_rows"].result()


@pytest.fixture(scope="session")
def orders_only(background_builds: dict[str, Future[Build]]) -> Build:
    return background_builds["orders_only"].result()
