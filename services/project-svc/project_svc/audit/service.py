"""project-svc's audit entries: what its handlers record, and the organization's whole log
merged from every service (`GET /api/audit-logs/`)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from labelops_common.audit import (
    AuditFilter,
    Before,
    changes_between,
    column_values,
    list_audit_entries,
    record_audit,
    values_summary,
)
from labelops_common.audit.rpc import from_microseconds, to_microseconds
from labelops_common.auth.principal import Principal
from sqlalchemy.orm import Session

from project_svc.projects.models import Project

#: Computed from `label_config`; the config's own entry says it changed.
PROJECT_DERIVED = ("parsed_label_config",)
#: This service's name in merged entries (ties at one instant are ordered by it).
SERVICE = "project-svc"


def project_state(project: Project) -> dict[str, Any]:
    return column_values(project, exclude=PROJECT_DERIVED)


def project_created(session: Session, principal: Principal, project: Project) -> None:
    record_audit(
        session,
        principal,
        "project.created",
        ("project", project.id),
        project_id=project.id,
        changes=values_summary(
            {k: v for k, v in project_state(project).items() if k in {"title", "label_config"}}
        ),
    )


def project_updated(
    session: Session, principal: Principal, project: Project, *, before: dict[str, Any]
) -> None:
    """One entry for the project's fields, one for its labeling config when that changed;
    none when nothing did (a PATCH repeating the current values)."""
    after = project_state(project)
    config_changed = before.get("label_config") != after.get("label_config")
    before = {k: v for k, v in before.items() if k != "label_config"}
    after = {k: v for k, v in after.items() if k != "label_config"}
    changes = changes_between(before, after)
    if changes:
        record_audit(
            session,
            principal,
            "project.updated",
            ("project", project.id),
            project_id=project.id,
            changes=changes,
        )
    if config_changed:
        record_audit(
            session,
            principal,
            "label_config.updated",
            ("project", project.id),
            project_id=project.id,
            changes={"label_config": {"changed": True}},
        )


def project_deleted(session: Session, principal: Principal, project: Project) -> None:
    record_audit(
        session,
        principal,
        "project.deleted",
        ("project", project.id),
        project_id=project.id,
        changes={"title": {"old": project.title, "new": None}},
    )


def object_updated(
    session: Session,
    principal: Principal,
    action: str,
    obj: tuple[str, int | str],
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    project_id: int | None = None,
) -> None:
    """An entry for an update that changed something (none for one that did not)."""
    changes = changes_between(before, after)
    if changes:
        record_audit(session, principal, action, obj, project_id=project_id, changes=changes)


#: Asks one peer service for a page of its entries: (filter, before, limit) → rows.
PeerLister = Callable[[AuditFilter, Before | None, int], list[dict[str, Any]]]


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts in the merged log: after this entry of this service."""

    created_us: int
    service: str
    id: int

    def encode(self) -> str:
        return f"{self.created_us}.{self.service}.{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        created, service, entry_id = text.split(".", 2)
        return cls(created_us=int(created), service=service, id=int(entry_id))


def _before_for(service: str, cursor: Cursor | None) -> Before | None:
    """The merged order is (created_at, service, id) descending: after the cursor, a
    service sorting below the cursor's keeps its entries at the cursor's instant, one
    sorting above does not, and the cursor's own service continues below its id."""
    if cursor is None:
        return None
    at = from_microseconds(cursor.created_us)
    if service == cursor.service:
        return Before(created_at=at, id=cursor.id)
    return Before(created_at=at, same_time=service < cursor.service)


def merged_entries(
    session: Session,
    *,
    where: AuditFilter,
    peers: dict[str, PeerLister],
    cursor: Cursor | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The newest `limit` entries after `cursor`, from this service and every peer,
    each with its `service`."""
    sources: dict[str, Sequence[dict[str, Any]]] = {
        SERVICE: list_audit_entries(
            session, where=where, before=_before_for(SERVICE, cursor), limit=limit
        )
    }
    for name, lister in peers.items():
        sources[name] = lister(where, _before_for(name, cursor), limit)

    def keyed(name: str, rows: Sequence[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
        for row in rows:
            yield (-to_microseconds(row["created_at"]), _descending(name), -row["id"], name, row)

    merged = heapq.merge(*(keyed(name, rows) for name, rows in sources.items()))
    page = []
    for *_key, name, row in merged:
        page.append({**row, "service": name})
        if len(page) == limit:
            break
    return page


def _descending(text: str) -> tuple[int, ...]:
    """A key sorting strings in reverse order, for the ascending heap merge."""
    return (*(-ord(ch) for ch in text), 1)


def cursor_after(entry: dict[str, Any]) -> Cursor:
    return Cursor(
        created_us=to_microseconds(entry["created_at"]), service=entry["service"], id=entry["id"]
    )
