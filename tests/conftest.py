"""Shared fixtures: a temporary project layout (landing zone, lake, warehouse) per test."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from ltv_pipeline.core import layout
from ltv_pipeline.core.lake import read_raw_table
from ltv_pipeline.core.settings import Settings, load_settings
from ltv_pipeline.ingest.loader import SourceLoadResult, ingest_source

LOAD_TIME = datetime(2026, 1, 1, 12, 0, 0)

# XGBoost's OpenMP threads spin-wait by default, which starves other work on few shared
# cores. Must be set before xgboost loads, so here rather than in a fixture.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Workspace:
    """A landing zone and lake in a temp dir, with helpers to deliver files and load them."""

    def __init__(self, root: Path):
        self.root = root
        self.landing = root / "landing"
        self.overrides: dict[str, object] = {"mode": "demo"}

    @property
    def settings(self) -> Settings:
        return load_settings(
            env={},
            cwd=self.root,
            overrides={
                "landing_dir": self.landing,
                "lake_dir": self.root / "lake",
                "warehouse": self.root / "warehouse.duckdb",
                **self.overrides,
            },
        )

    def deliver(self, source: str, name: str, content: str | bytes) -> Path:
        path = self.landing / source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    def load(self, source: str = "orders", now: datetime = LOAD_TIME) -> SourceLoadResult:
        return ingest_source(self.settings, source, now=now)

    def raw(self, source: str = "orders") -> pl.DataFrame:
        """The whole raw table: its consolidated file and any parts appended since."""
        return read_raw_table(self.settings, source)

    def quarantine(self, source: str = "orders") -> pl.DataFrame:
        files = sorted(layout.quarantine_dir(self.settings, source).glob("*.parquet"))
        if not files:
            return pl.DataFrame()
        return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)
