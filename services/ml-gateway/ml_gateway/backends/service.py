"""ML backend connections: create, check, refresh, change, delete. Callers commit.

Adding a backend calls its `/health` and `/setup` with the project's labeling config
first (Label Studio's check), so a URL that is refused by the outbound policy, does not
answer, or does not speak the protocol is never saved. Afterwards the state and model
version are refreshed on a schedule (`monitor.py`), never inside a person's request.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from labelops_common.auth.policies import Policy, project_for
from labelops_common.auth.principal import Principal
from labelops_common.db import utcnow
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.http.errors import ApiError, NotFound, ValidationFailed
from labelops_common.outbound import OutboundRefused
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ml_gateway.backends.metrics import BACKEND_UP
from ml_gateway.backends.models import AuthMethod, BackendState, MLBackend
from ml_gateway.backends.protocol import BackendCallFailed, Endpoint, ProtocolClient, masked_url
from ml_gateway.backends.schemas import MLBackendCreate, MLBackendUpdate, VersionsAnswer

logger = logging.getLogger(__name__)


class UrlRefused(ApiError):
    """The outbound address policy refuses the URL (Label Studio answers 403 too)."""

    status_code = 403


@dataclass(frozen=True)
class Connection:
    """What `/health` and `/setup` said about a backend."""

    state: BackendState
    model_version: str | None = None
    error: str | None = None


def project_key(project: ProjectInfo) -> str:
    """Label Studio's project string: `"<id>.<created_at epoch>"` (backends key models by it)."""
    return f"{project.id}.{project.created_at_unix}"


def endpoint_of(backend: MLBackend) -> Endpoint:
    """How to call `backend`. Credentials written into the URL (`http://user:pass@host`)
    are sent as basic auth and taken out of the URL, which HTTP libraries log."""
    url, inline = split_credentials(backend.url)
    auth = inline
    if backend.auth_method == AuthMethod.BASIC_AUTH.value and backend.basic_auth_user:
        auth = (backend.basic_auth_user, backend.basic_auth_pass or "")
    return Endpoint(backend_id=backend.id, url=url, basic_auth=auth, timeout=backend.timeout)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, (unquote(parts.username), unquote(parts.password or ""))


def setup_body(
    client: ProtocolClient, project: ProjectInfo, extra_params: dict[str, Any] | None
) -> dict[str, Any]:
    settings = client.settings
    return {
        "project": project_key(project),
        "schema": project.label_config,
        "hostname": settings.backend_callback_url or client.public_url,
        "access_token": settings.backend_access_token.get_secret_value(),
        "extra_params": extra_params,
    }


def check_connection(
    client: ProtocolClient,
    endpoint: Endpoint,
    project: ProjectInfo,
    extra_params: dict[str, Any] | None,
) -> Connection:
    try:
        client.health(endpoint)
    except BackendCallFailed as error:
        return Connection(BackendState.DISCONNECTED, error=f"health check failed: {error.reason}")
    try:
        answer = client.setup(endpoint, setup_body(client, project, extra_params))
    except BackendCallFailed as error:
        return Connection(BackendState.ERROR, error=f"setup failed: {error.reason}")
    version = answer.get("model_version")
    if version is not None and not isinstance(version, str | int | float):
        return Connection(
            BackendState.ERROR, error="setup answered a model_version that is not text"
        )
    return Connection(
        BackendState.CONNECTED, model_version=str(version)[:255] if version is not None else None
    )


def _check_url(client: ProtocolClient, url: str) -> None:
    try:
        client.policy.check_url(url)
    except OutboundRefused as error:
        raise UrlRefused(
            f"URL refused: {error.reason}", validation_errors={"url": [error.reason]}
        ) from None


def _require_connected(url: str, connection: Connection) -> None:
    if connection.state != BackendState.CONNECTED:
        reason = f"Can't connect to ML backend {masked_url(url)}: {connection.error}"
        raise ValidationFailed({"url": [reason]}, detail=reason)


def _check_auth(auth_method: str, user: str | None) -> None:
    if auth_method == AuthMethod.BASIC_AUTH.value and not user:
        raise ValidationFailed({"basic_auth_user": ["Required when auth_method is BASIC_AUTH."]})


def create_backend(
    session: Session, *, client: ProtocolClient, project: ProjectInfo, body: MLBackendCreate
) -> MLBackend:
    url = body.url.strip()
    auth_method = (body.auth_method or AuthMethod.NONE).value
    _check_auth(auth_method, body.basic_auth_user)
    _check_url(client, url)
    backend = MLBackend(
        project_id=project.id,
        organization_id=project.organization_id,
        url=url,
        title=body.title or "default",
        description=body.description or "",
        is_interactive=bool(body.is_interactive),
        auth_method=auth_method,
        basic_auth_user=body.basic_auth_user,
        basic_auth_pass=body.basic_auth_pass,
        extra_params=body.extra_params,
        timeout=body.timeout or client.settings.ml_timeout_predict,
        model_version=body.model_version or "",
        auto_update=True if body.auto_update is None else body.auto_update,
    )
    connection = check_connection(client, endpoint_of(backend), project, backend.extra_params)
    _require_connected(url, connection)
    apply_connection(backend, connection)
    session.add(backend)
    session.flush()
    BACKEND_UP.labels(str(backend.id)).set(1)
    return backend


def apply_connection(backend: MLBackend, connection: Connection) -> None:
    """Label Studio's state update: DI on a failed health, ER on a failed setup, else CO
    (keeping TR while a training runs) and, with `auto_update`, setup's model version."""
    now = utcnow()
    backend.checked_at = now
    backend.updated_at = now
    if connection.state == BackendState.CONNECTED:
        if backend.state != BackendState.TRAINING.value:
            backend.state = BackendState.CONNECTED.value
        backend.error_message = None
        if connection.model_version and (backend.auto_update or not backend.model_version):
            backend.model_version = connection.model_version
    else:
        backend.state = connection.state.value
        backend.error_message = connection.error
    if backend.id:
        BACKEND_UP.labels(str(backend.id)).set(
            0 if connection.state == BackendState.DISCONNECTED else 1
        )


def update_backend(
    session: Session,
    *,
    client: ProtocolClient,
    project: ProjectInfo,
    backend: MLBackend,
    body: MLBackendUpdate,
) -> MLBackend:
    """Change the fields sent; a new URL, credentials or extra params are checked live first
    (nothing changes if the backend does not answer)."""
    changed = body.model_dump(exclude_unset=True)
    for name in ("title", "description", "is_interactive", "timeout", "auto_update"):
        if name in changed and changed[name] is not None:
            setattr(backend, name, changed[name])
    if "model_version" in changed:
        backend.model_version = changed["model_version"] or ""
    reconnect = False
    if changed.get("url"):
        backend.url = changed["url"].strip()
        _check_url(client, backend.url)
        reconnect = True
    if changed.get("auth_method") is not None:
        backend.auth_method = changed["auth_method"].value
        reconnect = True
    if "basic_auth_user" in changed:
        backend.basic_auth_user = changed["basic_auth_user"]
        reconnect = True
    # Label Studio keeps the saved password when the form sends none.
    if changed.get("basic_auth_pass"):
        backend.basic_auth_pass = changed["basic_auth_pass"]
        reconnect = True
    if "extra_params" in changed:
        backend.extra_params = changed["extra_params"]
        reconnect = True
    _check_auth(backend.auth_method, backend.basic_auth_user)
    if reconnect:
        connection = check_connection(client, endpoint_of(backend), project, backend.extra_params)
        _require_connected(backend.url, connection)
        apply_connection(backend, connection)
        client.guards.forget(backend.id)
    backend.updated_at = utcnow()
    return backend


def delete_backend(session: Session, *, client: ProtocolClient, backend: MLBackend) -> None:
    client.guards.forget(backend.id)
    with contextlib.suppress(KeyError):
        BACKEND_UP.remove(str(backend.id))
    session.delete(backend)


def list_backends(
    session: Session, *, project_id: int, is_interactive: bool | None = None
) -> Sequence[MLBackend]:
    query = select(MLBackend).where(MLBackend.project_id == project_id)
    if is_interactive is not None:
        query = query.where(MLBackend.is_interactive.is_(is_interactive))
    return list(session.scalars(query.order_by(MLBackend.id)))


def get_backend(session: Session, *, backend_id: int, organization_id: int) -> MLBackend:
    """The backend if it belongs to the caller's organization (else 404: ids do not leak)."""
    backend = session.get(MLBackend, backend_id)
    if backend is None or backend.organization_id != organization_id:
        raise NotFound()
    return backend


def backend_for(
    session: Session,
    projects: ProjectDirectory,
    principal: Principal,
    backend_id: int,
    policy: Policy,
) -> tuple[MLBackend, ProjectInfo]:
    """The backend and its project, if the caller's organization owns it and `policy`
    allows (404 for another organization's, 403 for a role without the right)."""
    backend = get_backend(session, backend_id=backend_id, organization_id=principal.organization_id)
    return backend, project_for(projects, principal, backend.project_id, policy)


def first_backend(session: Session, *, project_id: int, backend_id: int = 0) -> MLBackend | None:
    """The backend a project's predictions come from: the one named, else the first
    (Label Studio uses a project's first backend)."""
    query = select(MLBackend).where(MLBackend.project_id == project_id)
    if backend_id:
        query = query.where(MLBackend.id == backend_id)
    return session.scalars(query.order_by(MLBackend.id).limit(1)).first()


def due_for_refresh(session: Session, *, interval_seconds: float, limit: int) -> list[int]:
    """Backends whose last check is older than the interval, claimed for this refresh:
    their `checked_at` moves to now in this transaction, so another replica's sweep skips
    them (rows another sweep holds are skipped, never waited for)."""
    cutoff = utcnow() - timedelta(seconds=interval_seconds)
    rows = list(
        session.scalars(
            select(MLBackend)
            .where(or_(MLBackend.checked_at.is_(None), MLBackend.checked_at < cutoff))
            .order_by(MLBackend.checked_at.asc().nulls_first(), MLBackend.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    now = utcnow()
    for backend in rows:
        backend.checked_at = now
    return [backend.id for backend in rows]


def mark_failure(backend: MLBackend, reason: str) -> None:
    """A job's calls failed: the backend shows it (state ER and the reason)."""
    if backend.state != BackendState.DISCONNECTED.value:
        backend.state = BackendState.ERROR.value
    backend.error_message = reason[:2000]
    backend.updated_at = utcnow()


def model_versions(
    client: ProtocolClient, *, backend: MLBackend, project: ProjectInfo
) -> VersionsAnswer:
    """The backend's `/versions`; a backend without it answers with its current version."""
    current = [backend.model_version] if backend.model_version else []
    try:
        answer = client.versions(endpoint_of(backend), project_key(project))
    except BackendCallFailed as error:
        return VersionsAnswer(versions=current, message=error.reason)
    versions = answer.get("versions")
    if not isinstance(versions, list):
        return VersionsAnswer(versions=current, message="/versions answered no versions list")
    return VersionsAnswer(versions=[str(version) for version in versions])
