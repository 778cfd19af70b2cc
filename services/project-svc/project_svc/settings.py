"""project-svc settings (env prefix `LABELOPS_PROJECT_SVC_`)."""

from __future__ import annotations

from labelops_common.settings import ServiceSettings
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LABELOPS_PROJECT_SVC_", extra="ignore")

    service_name: str = "project-svc"
    #: Whether `Authorization: Token <key>` is accepted for new organizations.
    legacy_api_tokens_enabled: bool = True
    #: Lifetime of personal access tokens (refresh JWTs); Label Studio's default is 200 years.
    api_token_ttl_days: int = 73_000
    #: Lifetime of the browser session cookie.
    session_days: int = 14
    #: Whether anyone may sign up without an invite. Off by default: the first user of an
    #: empty install always may (and becomes the owner); later users are added by an admin.
    allow_signup: bool = False


class AdminBootstrapSettings(BaseSettings):
    """The owner created at start-up from `LABELOPS_ADMIN_EMAIL/PASSWORD/TOKEN`, if set."""

    model_config = SettingsConfigDict(env_prefix="LABELOPS_ADMIN_", extra="ignore")

    email: str = ""
    password: SecretStr = SecretStr("")
    #: The legacy token's value, so scripts can use a known key.
    token: SecretStr = SecretStr("")
