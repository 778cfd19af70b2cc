"""Typed settings shared by every process, and the base class each service extends.

Two layers: `CommonSettings` (env prefix `LABELOPS_`) holds what the whole suite agrees
on (data dir, secret key, broker, peers); each service's `Settings` subclasses
`ServiceSettings` with its own prefix (`LABELOPS_PROJECT_SVC_`, ...) for what only it owns.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from labelops_common.embedded_postgres import EmbeddedPostgres

#: The signing key older releases used when none was set. It is public, so it is never a
#: default any more, and production refuses it when someone sets it explicitly.
DEVELOPMENT_SECRET_KEY = "labelops-development-secret-key-change-me"  # noqa: S105

#: Where a data directory keeps the signing key generated for it when none is set.
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)

SERVICE_NAMES: tuple[str, ...] = (
    "project-svc",
    "task-svc",
    "storage-sync",
    "export-svc",
    "ml-gateway",
)

#: Default loopback gRPC ports, used when a service runs as its own process on a laptop.
DEFAULT_GRPC_PORTS: dict[str, int] = {
    "project-svc": 50051,
    "task-svc": 50052,
    "storage-sync": 50053,
    "export-svc": 50054,
    "ml-gateway": 50055,
}

Environment = Literal["development", "test", "production"]

#: The embedded queue's database, beside the services' own on the embedded PostgreSQL.
EMBEDDED_QUEUE_DATABASE = "labelops_queue"


def embedded_database_name(service: str) -> str:
    """`task-svc` -> `task_svc`: each service's database on the embedded PostgreSQL."""
    return service.replace("-", "_")


class CommonSettings(BaseSettings):
    """Settings every LabelOps process reads (env prefix `LABELOPS_`)."""

    model_config = SettingsConfigDict(env_prefix="LABELOPS_", extra="ignore")

    environment: Environment = "development"
    data_dir: Path = Path("./data")
    #: The built web app (`make web` writes `web/dist`); single-process mode serves it at `/`.
    web_dir: Path = Path("./web/dist")
    #: Signs sessions and tokens; unset means the key generated for `data_dir` (production
    #: requires it). Read it through `resolved_secret_key()`.
    secret_key: SecretStr | None = None
    #: Celery broker; empty means the embedded durable queue: kombu's SQLAlchemy transport
    #: on a database of the embedded PostgreSQL under `data_dir`.
    broker_url: str = ""
    #: Threads of the worker `serve` embeds in each process (`--no-worker` runs none): jobs
    #: wait on databases, brokers and HTTP more than on the CPU.
    embedded_worker_concurrency: int = Field(default=2, ge=1, le=32)
    #: gRPC addresses of the services, `{"task-svc": "host:port"}`; JSON in the environment.
    grpc_peers: dict[str, str] = Field(default_factory=dict)
    #: Who may read `/metrics` on a service's HTTP port: loopback and private networks (a
    #: cluster's Prometheus, this machine). Others get a 404.
    metrics_allow_networks: list[str] = Field(
        default_factory=lambda: [
            "127.0.0.0/8",
            "::1/128",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "fc00::/7",
        ]
    )
    #: Serve gRPC reflection (for `grpcurl` while developing); off, it maps nothing for others.
    grpc_reflection: bool = False
    #: Deadline applied to every gRPC client call, in seconds.
    grpc_deadline_seconds: float = 5.0
    #: How long a worker's claim on a job lasts; the worker renews it every third of this
    #: while the job runs. A job whose worker died is sent again by the first sweep after
    #: its lease ran out, so it resumes at most this plus `job_sweep_interval_seconds` later.
    job_lease_seconds: float = Field(default=60.0, gt=0)
    #: How often a worker process sends stale jobs again (and runs the other sweeps).
    job_sweep_interval_seconds: float = Field(default=30.0, gt=0)
    #: How long a queued job may wait for a worker before a sweep sends it again: a job
    #: whose message was lost (the broker was down when it was sent) waits this long.
    job_queued_grace_seconds: float = Field(default=120.0, gt=0)
    #: How long a process holds a committed event for others to share its message on the
    #: `events` queue. Under load a longer wait means fewer messages, and fewer runs of each
    #: consumer's batch handler (one transaction, one webhook attempt for the lot): at 0.5 s
    #: the events worker spends half the CPU per annotation it did at 0.2 s
    #: (`bench.webhooks`). Each event waits up to this long before any consumer sees it.
    events_linger_seconds: float = Field(default=0.5, ge=0, le=5)
    #: Public base URL, used to build absolute `next`/`previous` links.
    public_url: str = ""
    log_level: str = "INFO"
    #: Let server-side fetches (ML backends, webhooks, storage endpoints, URL imports) reach
    #: private, loopback and link-local addresses. `make run` sets it (a laptop's model
    #: server is on localhost); the chart does not. See `labelops_common.outbound`.
    outbound_allow_private_networks: bool = False
    log_json: bool = True
    #: OpenTelemetry exporter: "none" (default), "console" or "otlp".
    tracing_exporter: Literal["none", "console", "otlp"] = "none"
    tracing_otlp_endpoint: str = ""
    #: Seconds a legacy token resolved over gRPC stays cached in other services.
    token_cache_seconds: float = 30.0
    #: Lifetime of JWT access tokens (Label Studio's SimpleJWT default is 5 minutes).
    access_token_minutes: int = 5
    #: Days every service keeps its audit log entries; 0 keeps them for ever.
    audit_retention_days: int = Field(default=365, ge=0)
    #: Where artifacts (export files) live: local disk (one process, or a shared volume), or
    #: an object store that every pod reaches. See `labelops_common.artifacts`.
    artifact_storage: Literal["local", "s3", "gcs", "azure"] = "local"
    #: The bucket (S3, GCS) or container (Azure); required by the object stores.
    artifact_bucket: str = ""
    #: Prepended to every artifact key (`labelops/` puts exports under `labelops/exports/...`).
    artifact_prefix: str = ""

    @field_validator("grpc_peers", mode="before")
    @classmethod
    def _parse_peers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("artifact_prefix")
    @classmethod
    def _check_artifact_prefix(cls, value: str) -> str:
        segments = value.strip("/").split("/")
        if "\\" in value or ".." in segments or "" in segments[1:-1]:
            raise ValueError("LABELOPS_ARTIFACT_PREFIX must be a relative path like `labelops/`")
        return value

    @model_validator(mode="after")
    def _require_artifact_bucket(self) -> CommonSettings:
        if self.artifact_storage != "local" and not self.artifact_bucket.strip():
            raise ValueError(
                f"LABELOPS_ARTIFACT_BUCKET must be set when "
                f"LABELOPS_ARTIFACT_STORAGE={self.artifact_storage}"
            )
        return self

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> CommonSettings:
        if self.environment == "production":
            secret = self.secret_key.get_secret_value() if self.secret_key else ""
            if secret == DEVELOPMENT_SECRET_KEY or len(secret) < 32:
                raise ValueError(
                    "LABELOPS_SECRET_KEY must be set to a random value of at least 32 "
                    "characters when LABELOPS_ENVIRONMENT=production"
                )
        return self

    def resolved_secret_key(self) -> str:
        """The configured key, else the one generated for `data_dir` (created on first use).

        Every process of one data directory reads the same file, so a session signed by one
        is accepted by all; the key is kept here after the first read.
        """
        if self.secret_key is None:
            self.secret_key = SecretStr(data_dir_secret_key(self.data_dir))
        return self.secret_key.get_secret_value()

    def peer_address(self, service: str) -> str:
        """The gRPC address of `service`: configured, else its loopback default."""
        if service in self.grpc_peers:
            return self.grpc_peers[service]
        return f"127.0.0.1:{DEFAULT_GRPC_PORTS[service]}"

    def resolved_broker_url(self) -> str:
        """The broker URL, falling back to the embedded queue in the embedded PostgreSQL."""
        if self.broker_url:
            return self.broker_url
        return "sqla+" + self.embedded_postgres().url(EMBEDDED_QUEUE_DATABASE)

    def uses_embedded_queue(self) -> bool:
        return not self.broker_url

    def embedded_postgres(self) -> EmbeddedPostgres:
        """The cluster under `data_dir` that serves every database left unconfigured."""
        return EmbeddedPostgres(self.data_dir)


class ServiceSettings(BaseSettings):
    """What each service owns: its database and its listening addresses.

    Subclasses set `service_name` and an env prefix such as `LABELOPS_TASK_SVC_`.
    """

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = ""
    #: SQLAlchemy URL (PostgreSQL); empty means this service's database on the embedded
    #: PostgreSQL under the data dir.
    database_url: str = ""
    database_pool_size: int = 5
    #: Where this service's gRPC server listens; port 0 picks a free port.
    grpc_bind: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8080

    def resolved_database_url(self, common: CommonSettings) -> str:
        if self.database_url:
            return self.database_url
        return common.embedded_postgres().url(embedded_database_name(self.service_name))

    def uses_embedded_database(self) -> bool:
        return not self.database_url

    def resolved_grpc_bind(self) -> str:
        if self.grpc_bind:
            return self.grpc_bind
        return f"127.0.0.1:{DEFAULT_GRPC_PORTS[self.service_name]}"


def data_dir_secret_key(data_dir: Path) -> str:
    """The random signing key of `data_dir`, generated and kept there (mode 0600) the first
    time. Creation is atomic (a complete temporary file linked into place), so processes
    starting together all end up with the one key that won."""
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=data_dir, prefix=".secret_key-")
        try:
            with os.fdopen(descriptor, "w") as file:  # mkstemp creates it with mode 0600
                file.write(secrets.token_urlsafe(48))
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):  # another process won: its key it is
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds no usable key; delete it or set LABELOPS_SECRET_KEY")
    return secret


@lru_cache(maxsize=1)
def get_common_settings() -> CommonSettings:
    """The process-wide common settings (cached; tests call `cache_clear`)."""
    return CommonSettings()
