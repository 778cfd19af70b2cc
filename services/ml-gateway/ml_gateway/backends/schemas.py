"""Request and response shapes of `/api/ml` (Label Studio's MLBackend fields)."""

from __future__ import annotations

import json
from typing import Any

from labelops_common.http.answers import Timestamp, timestamp
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ml_gateway.backends.models import READABLE_STATES, AuthMethod, BackendState, MLBackend
from ml_gateway.backends.protocol import masked_url

#: The longest a backend's own `timeout` may be (seconds): one hour.
MAX_TIMEOUT = 3600.0


def _extra_params(value: Any) -> Any:
    """A JSON object, or a string holding one (the web form sends text), or null."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("must be a JSON object") from None
    if value is not None and not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


class MLBackendFields(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    is_interactive: bool | None = None
    auth_method: AuthMethod | None = None
    basic_auth_user: str | None = Field(default=None, max_length=255)
    basic_auth_pass: str | None = Field(default=None, max_length=1024)
    extra_params: dict[str, Any] | None = None
    timeout: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT)
    model_version: str | None = Field(default=None, max_length=255)
    auto_update: bool | None = None

    @field_validator("extra_params", mode="before")
    @classmethod
    def _parse_extra_params(cls, value: Any) -> Any:
        return _extra_params(value)


class MLBackendCreate(MLBackendFields):
    url: str = Field(min_length=1, max_length=2048)
    project: int = Field(ge=1)


class MLBackendUpdate(MLBackendFields):
    url: str | None = Field(default=None, min_length=1, max_length=2048)


class MLBackendAnswer(BaseModel):
    id: int
    project: int
    url: str
    title: str
    description: str
    state: str
    readable_state: str
    error_message: str | None
    is_interactive: bool
    auth_method: str
    basic_auth_user: str | None
    basic_auth_pass_is_set: bool
    extra_params: dict[str, Any] | None
    timeout: float
    model_version: str | None
    auto_update: bool
    created_at: Timestamp
    updated_at: Timestamp


def backend_fields(backend: MLBackend) -> MLBackendAnswer:
    """The answer for `backend`: the password never leaves, the URL's user-info is masked."""
    state = BackendState(backend.state)
    return MLBackendAnswer(
        id=backend.id,
        project=backend.project_id,
        url=masked_url(backend.url),
        title=backend.title,
        description=backend.description,
        state=state.value,
        readable_state=READABLE_STATES[state],
        error_message=backend.error_message,
        is_interactive=backend.is_interactive,
        auth_method=backend.auth_method,
        basic_auth_user=backend.basic_auth_user,
        basic_auth_pass_is_set=bool(backend.basic_auth_pass),
        extra_params=backend.extra_params,
        timeout=backend.timeout,
        model_version=backend.model_version,
        auto_update=backend.auto_update,
        created_at=timestamp(backend.created_at) or "",
        updated_at=timestamp(backend.updated_at) or "",
    )


class InteractiveRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    task: int = Field(ge=1)
    context: dict[str, Any] | None = None


class InteractiveAnswer(BaseModel):
    """`{"data": <first result>}` on success, `{"errors": [...]}` otherwise (both 200)."""

    data: dict[str, Any] | None = None
    errors: list[str] | None = None


class VersionsAnswer(BaseModel):
    versions: list[str]
    message: str | None = None


class TestPredictAnswer(BaseModel):
    """The backend's `/predict` answer for one random task, as Label Studio passes it on."""

    model_config = ConfigDict(extra="allow")
