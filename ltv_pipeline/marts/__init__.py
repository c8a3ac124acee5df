"""dbt marts for analysts: staging -> intermediate -> marts in the DuckDB warehouse.

Entry points: `marts_defs()` (Dagster), `prepare_dbt_manifest()` (before loading the
Definitions outside `dagster dev`), `run_dbt(settings, ...)` (plain Python), and
`python -m ltv_pipeline.marts <dbt command>` (an analyst's shell).
"""

from ltv_pipeline.marts.project import prepare_dbt_manifest

__all__ = ["marts_defs", "marts_dbt_assets", "prepare_dbt_manifest", "run_dbt"]


def __getattr__(name: str):
    # Lazy: `import ltv_pipeline.marts` should not pay for dagster_dbt's asset machinery.
    if name == "marts_defs":
        from ltv_pipeline.marts.definitions import marts_defs

        return marts_defs
    if name == "marts_dbt_assets":
        from ltv_pipeline.marts.assets import marts_dbt_assets

        return marts_dbt_assets
    if name == "run_dbt":
        from ltv_pipeline.marts.runner import run_dbt

        return run_dbt
    raise AttributeError(name)
