"""How `ltv_models` hands its models to the steps that score and publish: through the lake.

Dagster's default IO manager pickles an output into the Dagster instance's own storage, so
a job that does not train (the daily refresh leaves `ltv_models` out) could only score with
models that a run of the same instance had trained: on a lake built by `ltv run` or
`ltv demo` its first run failed ("No such file ... storage/ltv_models"), and after a retrain
by `ltv run` it kept scoring with the instance's older models. The models already live in
the lake as an artifact with their metadata (`<lake>/models/as_of=<date>/models.zip`,
written by the asset, prediction/reuse.py), so that is what this IO manager hands on: the
newest artifact trained on or before the run's as_of with the run's label and feature
settings (`latest_models`), the one `ltv_models` produced when it ran in the same run.
"""

from __future__ import annotations

import dagster as dg

from ltv_pipeline.core import layout
from ltv_pipeline.core.model_store import training_fingerprint, without_code_version
from ltv_pipeline.core.resources import SettingsResource
from ltv_pipeline.core.settings import Settings
from ltv_pipeline.prediction.reuse import latest_models
from ltv_pipeline.prediction.training import TrainedModels

MODEL_IO_MANAGER_KEY = "model_artifacts"


class NoTrainedModels(LookupError):
    """No model artifact a step can score with: the models have to be trained first."""


class ModelArtifactIOManager(dg.IOManager):
    def __init__(self, settings: SettingsResource) -> None:
        self._settings = settings

    def handle_output(self, context: dg.OutputContext, obj: TrainedModels) -> None:
        """The asset has written (or reused) the artifact; make sure the next step finds it."""
        path = layout.artifact_path(self._settings.get(), obj.as_of)
        if not path.exists():
            raise FileNotFoundError(f"ltv_models returned models as of {obj.as_of} but wrote no artifact at {path}")

    def load_input(self, context: dg.InputContext) -> TrainedModels:
        settings, as_of = self._settings.get(), self._settings.as_of()
        models = latest_models(settings, as_of)
        if models is None:
            raise NoTrainedModels(
                f"no trained models in {layout.models_dir(settings)} on or before as_of {as_of} for these settings "
                f"({_settings_text(settings)}): materialise ltv_models first (the weekly_retrain job, or `ltv run`)"
            )
        age = (as_of - models.as_of).days
        if age >= settings.retrain_days > 0:
            context.log.warning(
                f"using the models trained as of {models.as_of}, {age} days before as_of {as_of} "
                f"(retrain_days={settings.retrain_days}): has the weekly retrain run?"
            )
        code, running = models.trained_with.get("code_version"), training_fingerprint(settings)["code_version"]
        if code != running:
            context.log.info(f"using the models trained by code version {code} (running {running}) until the next retrain")
        return models


def _settings_text(settings: Settings) -> str:
    return ", ".join(f"{key}={value}" for key, value in without_code_version(training_fingerprint(settings)).items())


@dg.io_manager(
    required_resource_keys={"settings"},
    description="Hands the trained models on as the lake's model artifact (<lake>/models/as_of=<date>/models.zip).",
)
def model_artifact_io_manager(init_context: dg.InitResourceContext) -> ModelArtifactIOManager:
    return ModelArtifactIOManager(init_context.resources.settings)
