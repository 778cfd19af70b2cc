"""ml-gateway's audit entries: ML backend connections and training requests.

A backend's basic-auth password is masked by name; `extra_params` is listed as changed
without its values (it may hold a model server's keys)."""

from __future__ import annotations

from typing import Any

from labelops_common.audit import AuditActor, changes_between, column_values, record_audit
from sqlalchemy.orm import Session

from ml_gateway.backends.models import MLBackend

#: What the gateway keeps up to date itself (health checks, counters).
BACKEND_STATE = (
    "state",
    "error_message",
    "checked_at",
    "annotations_since_training",
    "organization_id",
)


def backend_state(backend: MLBackend) -> dict[str, Any]:
    return column_values(backend, exclude=BACKEND_STATE)


def backend_created(session: Session, actor: AuditActor, backend: MLBackend) -> None:
    shown = {
        k: v
        for k, v in backend_state(backend).items()
        if k in {"url", "title", "is_interactive", "auth_method", "basic_auth_pass"}
    }
    record_audit(
        session,
        actor,
        "ml_backend.created",
        ("ml_backend", backend.id),
        project_id=backend.project_id,
        changes=changes_between({}, {k: v for k, v in shown.items() if v not in (None, "")}),
    )


def backend_updated(
    session: Session, actor: AuditActor, backend: MLBackend, *, before: dict[str, Any]
) -> None:
    changes = changes_between(before, backend_state(backend))
    if changes:
        record_audit(
            session,
            actor,
            "ml_backend.updated",
            ("ml_backend", backend.id),
            project_id=backend.project_id,
            changes=changes,
        )


def backend_deleted(session: Session, actor: AuditActor, backend: MLBackend) -> None:
    record_audit(
        session,
        actor,
        "ml_backend.deleted",
        ("ml_backend", backend.id),
        project_id=backend.project_id,
        changes={"url": {"old": backend.url, "new": None}},
    )


def training_requested(
    session: Session, actor: AuditActor, backend: MLBackend, *, job_id: int
) -> None:
    record_audit(
        session,
        actor,
        "ml_backend.training_started",
        ("ml_backend", backend.id),
        project_id=backend.project_id,
        changes={"job": {"old": None, "new": job_id}},
    )
