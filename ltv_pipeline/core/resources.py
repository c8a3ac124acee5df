"""Dagster resources: the settings every asset reads, resolved at run time, not import time."""

from __future__ import annotations

from datetime import date

import dagster as dg
from pydantic import Field, PrivateAttr

from ltv_pipeline.core.lake import resolve_as_of
from ltv_pipeline.core.settings import Settings, load_settings


class SettingsResource(dg.ConfigurableResource):
    """Resolves `ltv.yml` < `LTV_*` environment < these overrides once per run.

    Every asset, check and IO manager of a run asks this resource for the settings (`get`)
    and the analysis date (`as_of`), so all of them see the same values and the raw orders
    are scanned for the latest order date at most once a run.
    """

    config_file: str | None = Field(default=None, description="Path to an ltv.yml; default: ./ltv.yml or LTV_CONFIG.")
    overrides: dict[str, str] = Field(default_factory=dict, description="Settings that win over file and environment (as the CLI flags do).")

    _settings: Settings | None = PrivateAttr(default=None)
    _as_of: date | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = self._load()
        self._as_of = None

    def _load(self) -> Settings:
        return load_settings(self.config_file, overrides=self.overrides or None)

    def get(self) -> Settings:
        """The run's settings (outside a run, e.g. in a sensor, read afresh at each call)."""
        return self._settings if self._settings is not None else self._load()

    def as_of(self) -> date:
        """The run's analysis date: the configured `as_of`, else the latest loaded order's date,
        resolved at the first call (after ingest, which every step that asks depends on)."""
        if self._settings is None:
            return resolve_as_of(self._load())
        if self._as_of is None:
            self._as_of = resolve_as_of(self._settings)
        return self._as_of
