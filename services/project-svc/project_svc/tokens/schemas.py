"""Request and response shapes of the token API (Label Studio's fields)."""

from __future__ import annotations

from labelops_common.http.answers import Timestamp
from pydantic import BaseModel, ConfigDict


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    refresh: str


class JwtSettingsBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    api_tokens_enabled: bool | None = None
    legacy_api_tokens_enabled: bool | None = None
    api_token_ttl_days: int | None = None


class PersonalTokenAnswer(BaseModel):
    """A personal access token: in full when created, as a preview when listed."""

    token: str
    created_at: Timestamp
    expires_at: Timestamp


class AccessTokenAnswer(BaseModel):
    access: str


class RefreshTokenAnswer(BaseModel):
    refresh: str


class JwtSettingsAnswer(BaseModel):
    api_tokens_enabled: bool
    legacy_api_tokens_enabled: bool
    api_token_ttl_days: int
