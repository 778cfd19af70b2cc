"""ml-gateway settings (env prefix `LABELOPS_ML_GATEWAY_`).

The timeouts to ML backends keep Label Studio's defaults and also answer to Label Studio's
own environment names (`ML_TIMEOUT_PREDICT=300` works as it does there), so a deployment
moved from Label Studio keeps its tuning.
"""

from __future__ import annotations

from labelops_common.settings import ServiceSettings
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

_PREFIX = "LABELOPS_ML_GATEWAY_"


def _timeout(default: float, ls_name: str) -> float:
    return Field(
        default=default,
        gt=0,
        validation_alias=AliasChoices(_PREFIX + ls_name, ls_name),
    )


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix=_PREFIX, extra="ignore", populate_by_name=True)

    service_name: str = "ml-gateway"

    # Label Studio's timeouts (seconds), by its names.
    ml_connection_timeout: float = _timeout(1.0, "ML_CONNECTION_TIMEOUT")
    ml_timeout_default: float = _timeout(100.0, "ML_TIMEOUT_DEFAULT")
    ml_timeout_predict: float = _timeout(100.0, "ML_TIMEOUT_PREDICT")
    ml_timeout_train: float = _timeout(30.0, "ML_TIMEOUT_TRAIN")
    ml_timeout_health: float = _timeout(1.0, "ML_TIMEOUT_HEALTH")
    ml_timeout_setup: float = _timeout(3.0, "ML_TIMEOUT_SETUP")
    webhook_timeout: float = _timeout(1.0, "WEBHOOK_TIMEOUT")

    #: The short timeout of calls a person waits for: a pre-label on the label stream and
    #: interactive (smart tool) predictions. Slower answers are dropped, the person goes on.
    interactive_timeout_seconds: float = Field(default=3.0, gt=0)
    #: Tasks per `/predict` call of a prediction job (Label Studio sends all in one call).
    predict_batch_size: int = Field(default=16, ge=1, le=1000)
    #: Calls in flight to one backend from one process (prediction jobs and people alike).
    backend_concurrency: int = Field(default=4, ge=1, le=256)
    #: Attempts of one `/predict` batch in a job (first try included), with exponential
    #: backoff from `retry_backoff_seconds`.
    predict_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    #: Consecutive failures that open a backend's circuit, and how long it stays open before
    #: one trial call may pass.
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    #: How often every backend's `/health` and `/setup` are called to refresh its state and
    #: model version (seconds).
    refresh_interval_seconds: float = Field(default=60.0, gt=0)
    #: Lifetime of the presigned URLs storage URIs in task data become for `/predict`
    #: (seconds; a backend may queue a task a while before it downloads the media).
    media_url_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    #: Sent to backends as `hostname` in `/setup` (where they call back for media); empty
    #: means `LABELOPS_PUBLIC_URL`.
    backend_callback_url: str = ""
    #: Sent to backends as `access_token` in `/setup`. Label Studio sends the project
    #: creator's legacy token; ml-gateway never holds people's tokens, so an operator gives
    #: backends a token of a dedicated account here (or in the backend's own environment,
    #: `LABEL_STUDIO_API_KEY`). Never logged, never returned.
    backend_access_token: SecretStr = SecretStr("")
