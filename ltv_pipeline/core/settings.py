"""The one place where configuration is resolved (docs/contract.md, section 3).

Precedence, lowest to highest: built-in defaults < the YAML file (``ltv.yml`` in the
working directory, or ``LTV_CONFIG``) < environment variables ``LTV_<KEY>`` < CLI flags.
Nothing here runs at import time: callers pass the environment they want honoured, so
tests never have to reload modules.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

SOURCES: tuple[str, ...] = ("orders", "customers", "marketing_spend", "support_tickets")
MODES: tuple[str, ...] = ("production", "demo")
ENGINES: tuple[str, ...] = ("duckdb", "spark")
SPARK_METHODS: tuple[str, ...] = ("session", "thrift")
ALLOCATION_MODES: tuple[str, ...] = ("profit", "budget")
DEMO_PII_KEY = "ltv-demo-key-not-secret"


class SettingsError(ValueError):
    """A configuration value is missing, unknown or out of range; the message says which."""


@dataclass(frozen=True)
class Settings:
    """Every run-time knob of the pipeline. Field docs are the user-facing reference."""

    landing_dir: Path = Path("data/landing")
    """Folder with one sub-folder per source; every file in it is one delivery."""
    lake_dir: Path = Path("data/lake")
    """Parquet lake: raw/, quarantine/, _meta/, published/."""
    warehouse: Path = Path("data/warehouse.duckdb")
    """DuckDB file holding the dbt models and the `published` schema."""
    as_of: date | None = None
    """Analysis date (inclusive); default = the latest order date."""
    horizon_days: int = 365
    """Prediction horizon for LTV and churn labels."""
    margin_rate: float = 1.0
    """Margin as a share of net revenue where orders carry no `cost` (1.0 = revenue LTV)."""
    annual_discount_rate: float = 0.10
    """Discount rate applied per day as (1 + rate) ** (-days / 365)."""
    support_cost_per_ticket: float = 0.0
    """Cost of one support ticket, subtracted from LTV."""
    churn_days: int = 180
    """Descriptive churn in the marts: a customer with no order for this many days."""
    training_sample_size: int = 200_000
    """Customers the XGBoost models train on at most (a customer-hash sample): bounds the
    memory and time of training whatever the base's size (docs/performance.md shows its
    effect on the back-test)."""
    retrain_days: int = 7
    """Models trained (and back-tested) fewer than this many days before as_of, with the same
    settings and code, are reused by the next runs instead of refitted; scoring always uses
    the current data. 0 = refit on every run."""
    column_mapping: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per source, `their_name: our_name` renames applied before validation."""
    date_format: Mapping[str, str] = field(default_factory=dict)
    """Per source, a strptime format for dates that are not ISO-8601."""
    max_amount: float = 1e9
    """Amounts above this are quarantined as absurd."""
    total_budget: float | None = None
    """Marketing budget for the planning period; default = last 30 days' spend."""
    planning_days: int = 30
    """Length of the budget planning period."""
    budget_min_ratio: float = 0.5
    """Lowest recommended spend per channel, as a multiple of its current spend."""
    budget_max_ratio: float = 2.0
    """Highest recommended spend per channel, as a multiple of its current spend."""
    allocation_mode: str = "profit"
    """`profit`: spend up to `total_budget` only where the marginal dollar still returns at
    least a dollar of lifetime margin, leaving the rest unspent; `budget`: spend exactly
    `total_budget`, reallocated between the channels."""
    retention_budget: float | None = None
    """Money available for retention actions in the period; default: no cap (act where it pays)."""
    retention_cost_per_action: float = 5.0
    """Cost of one retention action (an offer, a call)."""
    retention_uplift: float = 0.15
    """Share of a customer's value at risk that one action is expected to save."""
    history_days: int = 400
    """Past versions of the published tables are kept while their as_of is within this many
    days of the newest kept one (0: only the newest)."""
    mode: str = "production"
    """`demo` uses a fixed, public key for hashing e-mails; `production` requires `pii_key`."""
    pii_key: str | None = None
    """Secret key for the keyed hash that replaces e-mail addresses at ingest."""
    engine: str = "duckdb"
    """Warehouse engine for dbt: `duckdb` (embedded, one machine) or `spark` (dbt-spark; docs/scaling-out.md)."""
    spark_method: str = "session"
    """engine spark: `session` runs a SparkSession inside the dbt process (local, or the driver of
    `spark_master`'s cluster); `thrift` connects to a running Spark Thrift Server (`spark_host`)."""
    spark_master: str = "local[*]"
    """engine spark, session: the Spark master (`local[*]`, `spark://host:7077`, `k8s://...`, `yarn`)."""
    spark_host: str = "localhost"
    """engine spark, thrift: the Spark Thrift Server's host."""
    spark_port: int = 10000
    """engine spark, thrift: the Spark Thrift Server's port."""
    spark_lake_uri: str | None = None
    """engine spark: the lake as Spark reads it, a path or an object-store URI (`s3a://bucket/lake`);
    default `lake_dir`. Spark reads `<spark_lake_uri>/raw/<source>/*.parquet`."""
    spark_dir: Path | None = None
    """engine spark, session: Spark's local state (Derby metastore, derby.log) and, unless
    `spark_warehouse_dir` says otherwise, its tables; default `<warehouse's folder>/spark`."""
    spark_warehouse_dir: str | None = None
    """engine spark, session: where Spark writes the tables (path or URI); default `<spark_dir>/warehouse`."""
    spark_shuffle_partitions: int = 8
    """engine spark: partitions of every shuffle (Spark's own default, 200, suits a cluster, not a laptop)."""
    spark_driver_memory: str = "4g"
    """engine spark, session: memory of the driver JVM (in local mode it also runs the tasks)."""
    spark_java_options: str = ""
    """engine spark, session: extra JVM options of the driver, e.g. `-XX:TieredStopAtLevel=1
    -XX:ReservedCodeCacheSize=256m` (quick JIT for short local runs, as the tests use)."""

    def effective_pii_key(self) -> str:
        """The key for e-mail hashing; a clear error instead of a silent weak default."""
        if self.pii_key:
            if self.mode == "production" and self.pii_key == DEMO_PII_KEY:
                raise SettingsError("pii_key is the public demo key: production needs a secret key of its own (LTV_PII_KEY)")
            return self.pii_key
        if self.mode == "demo":
            return DEMO_PII_KEY
        raise SettingsError(
            "pii_key is not set: set LTV_PII_KEY (or `pii_key` in ltv.yml) to hash e-mail "
            "addresses at ingest, or use mode: demo for synthetic data"
        )

    def dbt_vars(self, as_of: date) -> dict[str, Any]:
        """The dbt vars every model reads; one definition shared by CLI, Dagster and tests.

        They reach dbt in the environment variable LTV_DBT_VARS (`dbt_vars_env` in
        ltv_pipeline/marts/dbt_resource.py), which the models read through `ltv_var`."""
        return {
            "as_of": as_of.isoformat(),
            "horizon_days": self.horizon_days,
            "margin_rate": self.margin_rate,
            "annual_discount_rate": self.annual_discount_rate,
            "support_cost_per_ticket": self.support_cost_per_ticket,
            "churn_days": self.churn_days,
        }

    @property
    def dbt_target(self) -> str:
        """The output of dbt_project/profiles.yml that `engine` (and `spark_method`) selects."""
        if self.engine == "spark":
            return "spark" if self.spark_method == "session" else "spark_thrift"
        return self.engine

    @property
    def spark_home(self) -> Path:
        """engine spark, session: the folder of Spark's local state (`spark_dir`, or its default)."""
        return self.spark_dir if self.spark_dir is not None else self.warehouse.parent / "spark"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_PATH_KEYS = {"landing_dir", "lake_dir", "warehouse"}
_OPTIONAL_PATH_KEYS = {"spark_dir"}
"""Paths without a default of their own (derived from another setting when absent)."""
_MAPPING_KEYS = {"column_mapping", "date_format"}
_FLOAT_KEYS = {
    "margin_rate", "annual_discount_rate", "support_cost_per_ticket", "max_amount", "total_budget",
    "budget_min_ratio", "budget_max_ratio", "retention_budget", "retention_cost_per_action", "retention_uplift",
}


def _coerce(key: str, value: Any) -> Any:
    """Turn a YAML, env or CLI value into the field's type, or say clearly why not."""
    if value is None or (isinstance(value, str) and value.strip() == "" and key not in _PATH_KEYS):
        return None
    try:
        if key in _PATH_KEYS | _OPTIONAL_PATH_KEYS:
            text = str(value).strip()
            if not text:
                raise SettingsError(f"{key} must not be empty")
            return Path(text).expanduser()
        if key in _MAPPING_KEYS:
            if isinstance(value, str):
                value = json.loads(value) if value.lstrip().startswith("{") else yaml.safe_load(value)
            if not isinstance(value, Mapping):
                raise SettingsError(f"{key} must be a mapping, got {value!r}")
            return value
        if key == "as_of":
            return value if isinstance(value, date) else date.fromisoformat(str(value).strip())
        if key in {"horizon_days", "churn_days", "retrain_days", "training_sample_size", "planning_days", "history_days", "spark_port", "spark_shuffle_partitions"}:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(str(value).strip()) if not isinstance(value, int) else value
        if key in _FLOAT_KEYS:
            number = float(value)
            if not math.isfinite(number):
                raise SettingsError(f"{key} must be a finite number, got {value!r}")
            return number
        return str(value).strip()
    except SettingsError:
        raise
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{key}: cannot read {value!r} ({exc.__class__.__name__})") from None


def _validate(s: Settings) -> Settings:
    problems = []
    if s.horizon_days <= 0:
        problems.append(f"horizon_days must be a positive number of days, got {s.horizon_days}")
    if s.churn_days <= 0:
        problems.append(f"churn_days must be positive, got {s.churn_days}")
    if s.training_sample_size < 100:
        problems.append(f"training_sample_size must be at least 100 customers, got {s.training_sample_size}")
    if s.retrain_days < 0:
        problems.append(f"retrain_days must be 0 (refit every run) or more, got {s.retrain_days}")
    if s.planning_days <= 0:
        problems.append(f"planning_days must be positive, got {s.planning_days}")
    if s.history_days < 0:
        problems.append(f"history_days must be 0 (keep only the newest version) or more, got {s.history_days}")
    if not 0 <= s.margin_rate <= 1:
        problems.append(f"margin_rate must be between 0 and 1, got {s.margin_rate}")
    if not 0 <= s.annual_discount_rate < 1:
        problems.append(f"annual_discount_rate must be in [0, 1), got {s.annual_discount_rate}")
    if s.support_cost_per_ticket < 0:
        problems.append("support_cost_per_ticket must be >= 0")
    if s.max_amount <= 0:
        problems.append("max_amount must be > 0")
    if s.total_budget is not None and s.total_budget < 0:
        problems.append("total_budget must be >= 0")
    if not 0 <= s.budget_min_ratio <= 1 <= s.budget_max_ratio:
        problems.append(
            f"budget_min_ratio must be in [0, 1] and budget_max_ratio >= 1, got {s.budget_min_ratio} and {s.budget_max_ratio}"
        )
    if s.allocation_mode not in ALLOCATION_MODES:
        problems.append(f"allocation_mode must be one of {', '.join(ALLOCATION_MODES)}, got {s.allocation_mode!r}")
    if s.retention_budget is not None and s.retention_budget < 0:
        problems.append("retention_budget must be >= 0")
    if s.retention_cost_per_action < 0:
        problems.append("retention_cost_per_action must be >= 0")
    if not 0 < s.retention_uplift <= 1:
        problems.append(f"retention_uplift must be in (0, 1], got {s.retention_uplift}")
    if s.mode not in MODES:
        problems.append(f"mode must be one of {', '.join(MODES)}, got {s.mode!r}")
    if s.engine not in ENGINES:
        problems.append(f"engine must be one of {', '.join(ENGINES)}, got {s.engine!r}")
    if s.spark_method not in SPARK_METHODS:
        problems.append(f"spark_method must be one of {', '.join(SPARK_METHODS)}, got {s.spark_method!r}")
    if not 0 < s.spark_port < 65536:
        problems.append(f"spark_port must be a TCP port, got {s.spark_port}")
    if s.spark_shuffle_partitions <= 0:
        problems.append(f"spark_shuffle_partitions must be positive, got {s.spark_shuffle_partitions}")
    for key in _MAPPING_KEYS:
        unknown = set(getattr(s, key)) - set(SOURCES)
        if unknown:
            problems.append(f"{key} names unknown sources {sorted(unknown)}; sources are {', '.join(SOURCES)}")
    for source, mapping in s.column_mapping.items():
        if not isinstance(mapping, Mapping) or not all(isinstance(v, str) for v in mapping.values()):
            problems.append(f"column_mapping.{source} must map their column names to ours")
    problems.extend(_path_problems(s))
    if problems:
        raise SettingsError("; ".join(problems))
    return s


_UNSAFE_PATH_CHARACTERS = re.compile(r"[\'\"`\x00-\x1f\x7f]")
"""Quotes, backticks and control characters. The lake's path is written into SQL
(dbt-duckdb's `read_parquet('<lake>/raw/...')`, Spark's ``parquet.`<lake>/...` ``), the
warehouse's and Spark's into dbt's profile and the JVM's options: such a character in a path
would end the literal and let the rest of the path be read as SQL."""


def _real(path: Path) -> Path:
    """The path with symlinks resolved where they exist (the folders need not exist yet)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.normpath(path))


def _path_problems(s: Settings) -> list[str]:
    """Paths that would make the pipeline write where it must not, or build SQL from a path."""
    problems = []
    located = {
        "landing_dir": s.landing_dir, "lake_dir": s.lake_dir, "warehouse": s.warehouse, "spark_dir": s.spark_dir,
        "spark_lake_uri": s.spark_lake_uri, "spark_warehouse_dir": s.spark_warehouse_dir,
    }
    for key, value in located.items():
        if value is not None and _UNSAFE_PATH_CHARACTERS.search(str(value)):
            problems.append(f"{key} must not contain quotes, backticks or control characters "
                            f"(it is passed to SQL and to dbt's profile), got {str(value)!r}")
    for key in ("landing_dir", "lake_dir", "warehouse"):
        if not getattr(s, key).is_absolute():
            problems.append(f"{key} must be an absolute path, got {getattr(s, key)}")
    if problems:
        return problems
    landing, lake, warehouse = _real(s.landing_dir), _real(s.lake_dir), _real(s.warehouse)
    if lake == landing:
        problems.append(f"lake_dir and landing_dir are the same folder ({lake}): the landing zone holds your "
                        "exports, the lake is the pipeline's own and is rewritten by every run and by `ltv forget`")
    elif landing in lake.parents:
        problems.append(f"lake_dir ({lake}) is inside landing_dir ({landing}): keep the pipeline's lake out of the "
                        "landing zone, where every file is read as a delivery")
    elif lake in landing.parents:
        problems.append(f"landing_dir ({landing}) is inside lake_dir ({lake}): the pipeline rewrites the lake's "
                        "Parquet files (`ltv forget`, rebuilds) and must never touch your exports")
    for key, folder in (("landing_dir", landing), ("lake_dir", lake)):
        if folder.exists() and not folder.is_dir():
            problems.append(f"{key} ({folder}) is a file, not a folder")
    if warehouse in (landing, lake) or warehouse.is_dir():
        problems.append(f"warehouse must be the path of a DuckDB file, not a folder: {warehouse}")
    elif landing in warehouse.parents:
        problems.append(f"warehouse ({warehouse}) is inside landing_dir ({landing}): the landing zone holds only "
                        "deliveries; put the warehouse next to the lake (default data/warehouse.duckdb)")
    return problems


def load_settings(
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve settings from file < env < overrides (CLI flags; `None` values are ignored).

    Relative paths are made absolute against `cwd` (default: the current directory) so
    that every later step, including dbt in its own process, sees the same files.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    values: dict[str, Any] = {}

    path = Path(config_file) if config_file else None
    if path is None and env.get("LTV_CONFIG"):
        path = Path(env["LTV_CONFIG"])
    if path is None and (cwd / "ltv.yml").exists():
        path = cwd / "ltv.yml"
    if path is not None:
        path = path if path.is_absolute() else cwd / path
        if not path.is_file():
            raise SettingsError(f"config file {path} does not exist")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SettingsError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(loaded, Mapping):
            raise SettingsError(f"config file {path} must hold a mapping of keys to values")
        unknown = sorted(set(loaded) - set(_FIELDS))
        if unknown:
            raise SettingsError(f"unknown key(s) in {path}: {', '.join(map(str, unknown))}; known keys: {', '.join(_FIELDS)}")
        values.update({k: _coerce(k, v) for k, v in loaded.items()})

    for key in _FIELDS:
        env_value = env.get(f"LTV_{key.upper()}")
        if env_value is not None:
            values[key] = _coerce(key, env_value)
    for key, value in (overrides or {}).items():
        if key not in _FIELDS:
            raise SettingsError(f"unknown setting {key!r}")
        if value is not None:
            values[key] = _coerce(key, value)

    values = {k: v for k, v in values.items() if v is not None}
    for key in (_PATH_KEYS | _OPTIONAL_PATH_KEYS) & values.keys():
        if not values[key].is_absolute():
            values[key] = cwd / values[key]
    defaults = Settings()
    for key in _PATH_KEYS - values.keys():
        values[key] = cwd / getattr(defaults, key)
    for key in (_PATH_KEYS | _OPTIONAL_PATH_KEYS) & values.keys():
        values[key] = Path(os.path.normpath(values[key]))  # `a/../b` -> `b`: the path every step sees
    return _validate(Settings(**values))
