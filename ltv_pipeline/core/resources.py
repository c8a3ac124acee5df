"""Dagster resources: the settings every asset reads, resolved at run time, not import time."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from ltv_pipeline.core.settings import Settings, load_settings


class SettingsResource(dg.ConfigurableResource):
    """Resolves `ltv.yml` < `LTV_*` environment < these overrides when a run starts."""

    config_file: str | None = Field(default=None, description="Path to an ltv.yml; default: ./ltv.yml or LTV_CONFIG.")
    overrides: dict[str, str] = Field(default_factory=dict, description="Settings that win over file and environment (as the CLI flags do).")

    def get(self) -> Settings:
        return load_settings(self.config_file, overrides=self.overrides or None)
