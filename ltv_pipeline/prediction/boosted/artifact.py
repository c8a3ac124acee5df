"""The trained-model artifact the training asset hands to the scoring asset.

Everything needed to score and to audit a model travels together: the boosters, the
feature spec with its categorical levels, the training cutoff, the horizon, the parameters,
the validation metrics, the run's `as_of` and the code version. The bytes form is a zip of
a JSON manifest and XGBoost's own UBJSON model files: portable across Python and XGBoost
versions (no pickle), deterministic (fixed zip timestamps, sorted keys), so the same model
gives the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl
import xgboost as xgb

from ltv_pipeline.prediction.boosted.boost import booster_from_bytes
from ltv_pipeline.prediction.boosted.design import FeatureSpec
from ltv_pipeline.prediction.evaluation.champion import Target

FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BoostedModel:
    """A trained XGBoost model with what it needs to score and what it was measured at.

    `boosters` maps a role (`p_buy`, `spend`, `tweedie`, `quantiles`, `churn`) to UBJSON
    bytes. `interval_offset` is the conformal widening of the quantile band (0 for churn).
    `metrics` are measured on the calibration customers, never seen in fitting.
    """

    target: Target
    method: str
    boosters: Mapping[str, bytes]
    spec: FeatureSpec
    training_cutoff: date
    horizon_days: int
    as_of: date
    params: Mapping[str, Any]
    metrics: Mapping[str, float]
    interval_offset: float
    code_version: str

    @property
    def nthread(self) -> int:
        """Threads to predict with: those it was trained with."""
        return int(self.params.get("nthread", 2))

    def beyond_support(self, frame: pl.DataFrame) -> np.ndarray:
        """Per row of `frame`: silent for longer than any customer the booster learnt from.
        Trees predict such a customer as the most silent ones they saw, so they overstate
        what a long-dormant customer will spend; BTYD's process extends to any silence."""
        limit = self.metrics.get("max_recency_days")
        if limit is None or "recency_days" not in frame.columns:
            return np.zeros(frame.height, dtype=bool)
        return frame["recency_days"].fill_null(0).to_numpy() > limit

    def load_boosters(self) -> dict[str, xgb.Booster]:
        """The boosters, ready to predict."""
        return {role: booster_from_bytes(raw, self.nthread) for role, raw in self.boosters.items()}

    def to_bytes(self) -> bytes:
        manifest = {
            "format_version": FORMAT_VERSION,
            "target": self.target,
            "method": self.method,
            "roles": sorted(self.boosters),
            "spec": self.spec.to_dict(),
            "training_cutoff": self.training_cutoff.isoformat(),
            "horizon_days": self.horizon_days,
            "as_of": self.as_of.isoformat(),
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "interval_offset": self.interval_offset,
            "code_version": self.code_version,
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(zipfile.ZipInfo(_MANIFEST, _ZIP_EPOCH), json.dumps(manifest, sort_keys=True, indent=1))
            for role in sorted(self.boosters):
                zf.writestr(zipfile.ZipInfo(f"{role}.ubj", _ZIP_EPOCH), self.boosters[role])
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> BoostedModel:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            manifest = json.loads(zf.read(_MANIFEST))
            if manifest.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"unsupported model artifact format {manifest.get('format_version')!r}")
            boosters = {role: zf.read(f"{role}.ubj") for role in manifest["roles"]}
        return cls(
            target=manifest["target"],
            method=manifest["method"],
            boosters=boosters,
            spec=FeatureSpec.from_dict(manifest["spec"]),
            training_cutoff=date.fromisoformat(manifest["training_cutoff"]),
            horizon_days=int(manifest["horizon_days"]),
            as_of=date.fromisoformat(manifest["as_of"]),
            params=manifest["params"],
            metrics=manifest["metrics"],
            interval_offset=float(manifest["interval_offset"]),
            code_version=manifest["code_version"],
        )
