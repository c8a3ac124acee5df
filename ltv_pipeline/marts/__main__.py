"""`python -m ltv_pipeline.marts <dbt command...>`: dbt with the pipeline's settings.

Resolves the settings like every other entry point (ltv.yml < LTV_* environment), so the
analyst gets the same warehouse, lake and vars as the pipeline. Examples:

    python -m ltv_pipeline.marts build
    python -m ltv_pipeline.marts build --select marts.customers+
    python -m ltv_pipeline.marts docs generate      # then: dbt docs serve --project-dir dbt_project
"""

from __future__ import annotations

import sys

from ltv_pipeline.core.settings import SettingsError, load_settings
from ltv_pipeline.marts.project import dbt_project
from ltv_pipeline.marts.runner import DbtRunError, run_dbt


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv) or ["build"]
    try:
        settings = load_settings()
        project = dbt_project()
        run_dbt(settings, args, target_path=project.project_dir / project.target_path, echo=True)
    except (DbtRunError, SettingsError, FileNotFoundError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
