"""Where the project's own files live (not the user's data: that is `settings`)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
