"""project-svc settings (env prefix `LABELOPS_PROJECT_SVC_`)."""

from __future__ import annotations

from labelops_common.settings import ServiceSettings
from pydantic import Field, SecretStr, field_validator
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
    #: Failed sign-ins one account may have per window before `/user/login` answers 429
    #: for it, from any address; a successful sign-in clears them.
    login_failures_per_account: int = Field(default=5, ge=1)
    #: Failed sign-ins one client address may have per window, over all accounts.
    login_failures_per_address: int = Field(default=30, ge=1)
    #: The window the failures above are counted in, and how long a refusal lasts at most.
    login_failure_window_seconds: int = Field(default=900, ge=1)
    #: scrypt's cost N (a power of two) for new password hashes: OWASP's 2^17 by default.
    #: Lower values only for tests; production refuses less (`build_service`).
    password_scrypt_n: int = Field(default=2**17, ge=2**10)
    #: Whether webhooks without a project (fired for every project of the organization)
    #: may be created; Label Studio's `ALLOW_ORGANIZATION_WEBHOOKS`.
    allow_organization_webhooks: bool = True
    #: Seconds one webhook request may take (connect and read); Label Studio's is 1 s and
    #: never retried, ours is retried, so a slow receiver gets more room.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    #: Attempts per delivery, the first included.
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    #: The first retry waits this long; each next one twice as long, up to the maximum.
    webhook_retry_backoff_seconds: float = Field(default=1.0, gt=0)
    webhook_retry_max_backoff_seconds: float = Field(default=300.0, gt=0)
    #: After this long since the event, a failing delivery is given up whatever its attempts.
    webhook_retry_window_seconds: float = Field(default=3600.0, gt=0)
    #: Requests one delivery attempt sends side by side (to one webhook's URL).
    webhook_send_concurrency: int = Field(default=8, ge=1, le=64)

    @field_validator("password_scrypt_n")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("must be a power of two, like 131072 (2^17)")
        return value


#: The admin's legacy token is a bearer credential with the owner's rights: as long as a
#: secret key, so it cannot be guessed.
MIN_ADMIN_TOKEN_LENGTH = 32


class AdminBootstrapSettings(BaseSettings):
    """The owner created at start-up from `LABELOPS_ADMIN_EMAIL/PASSWORD/TOKEN`, if set."""

    model_config = SettingsConfigDict(env_prefix="LABELOPS_ADMIN_", extra="ignore")

    email: str = ""
    password: SecretStr = SecretStr("")
    #: The legacy token's value, so scripts can use a known key.
    token: SecretStr = SecretStr("")

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        length = len(value.get_secret_value())
        if 0 < length < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"LABELOPS_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters "
                f"(it has {length}); generate one with `openssl rand -hex 20`"
            )
        return value
