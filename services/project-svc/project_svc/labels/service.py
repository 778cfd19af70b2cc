"""The label library: labels kept once per organization (by title) and the links that
offer them to a project's control. Every change to links publishes Label Studio's
`LABEL_LINK_*` event after the commit, for webhooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from labelops_common.events import (
    LABEL_LINK_CREATED,
    LABEL_LINK_DELETED,
    LABEL_LINK_UPDATED,
    publish_after_commit,
)
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.labelconfig import LabelConfigError, parse_label_config
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from project_svc.labels.models import Label, LabelLink
from project_svc.labels.schemas import LabelCreate
from project_svc.projects.models import Project


def _missing(field: str, value: int) -> ValidationFailed:
    return ValidationFailed({field: [f'Invalid pk "{value}" - object does not exist.']})


def project_in_organization(
    session: Session, *, project_id: int, organization_id: int, field: str = "project"
) -> Project:
    project = session.get(Project, project_id)
    if project is None or project.organization_id != organization_id:
        raise _missing(field, project_id)
    return project


def check_from_name(project: Project, from_name: str, *, field: str = "from_name") -> None:
    """A link offers a label to a control the project's config has."""
    try:
        controls = parse_label_config(project.label_config).controls
    except LabelConfigError:
        controls = {}
    if from_name not in controls:
        raise ValidationFailed(
            {field: [f'"{from_name}" is not a control tag of project {project.id}\'s config.']}
        )


def _publish(session: Session, event: str, project_id: int, links: Sequence[int]) -> None:
    publish_after_commit(
        session, event, project_id=project_id, payload={"label_link_ids": sorted(links)}
    )


# ------------------------------------------------------------------------------ labels


def create_labels(
    session: Session, *, organization_id: int, user_id: int, items: Sequence[LabelCreate]
) -> list[tuple[Label, LabelLink]]:
    """Label Studio's bulk create: labels with a title the organization already has are
    reused; each gets a link to the (one) project's control, kept if it exists."""
    if not items:
        raise ValidationFailed({"non_field_errors": ["Send at least one label."]})
    if len({item.project for item in items}) > 1:
        raise ValidationFailed(
            {"project": ["Creating labels for different projects in one request not allowed"]}
        )
    project = project_in_organization(
        session, project_id=items[0].project, organization_id=organization_id
    )
    for index, item in enumerate(items):
        check_from_name(project, item.from_name, field=f"{index}.from_name")
    titles = [item.title for item in items]
    existing = {
        label.title: label
        for label in session.scalars(
            select(Label).where(Label.organization_id == organization_id, Label.title.in_(titles))
        )
    }
    for item in items:
        if item.title not in existing:
            label = Label(
                organization_id=organization_id,
                created_by_id=user_id,
                value=item.value,
                title=item.title,
                description=item.description,
                approved=item.approved,
                approved_by_id=item.approved_by,
            )
            session.add(label)
            existing[item.title] = label
    session.flush()
    rows = [
        {"project_id": project.id, "label_id": existing[item.title].id, "from_name": item.from_name}
        for item in items
    ]
    created = session.scalars(
        insert(LabelLink)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_label_links_project_label")
        .returning(LabelLink.id)
    ).all()
    links = {
        link.label_id: link
        for link in session.scalars(
            select(LabelLink).where(
                LabelLink.project_id == project.id,
                LabelLink.label_id.in_([existing[t].id for t in titles]),
            )
        )
    }
    if created:
        _publish(session, LABEL_LINK_CREATED, project.id, created)
    return [(existing[item.title], links[existing[item.title].id]) for item in items]


def count_labels(session: Session, *, organization_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Label).where(Label.organization_id == organization_id)
        )
        or 0
    )


def list_labels(session: Session, *, organization_id: int, offset: int, limit: int) -> list[Label]:
    return list(
        session.scalars(
            select(Label)
            .where(Label.organization_id == organization_id)
            .order_by(Label.id)
            .offset(offset)
            .limit(limit)
        )
    )


def links_of(session: Session, *, label_ids: Sequence[int]) -> dict[int, list[LabelLink]]:
    found: dict[int, list[LabelLink]] = {label_id: [] for label_id in label_ids}
    if label_ids:
        for link in session.scalars(
            select(LabelLink).where(LabelLink.label_id.in_(list(label_ids))).order_by(LabelLink.id)
        ):
            found[link.label_id].append(link)
    return found


def values_of(session: Session, *, label_ids: Sequence[int]) -> dict[int, Any]:
    if not label_ids:
        return {}
    rows = session.execute(select(Label.id, Label.value).where(Label.id.in_(list(label_ids))))
    return {int(row[0]): row[1] for row in rows}


def get_label(session: Session, *, label_id: int, organization_id: int) -> Label:
    label = session.get(Label, label_id)
    if label is None or label.organization_id != organization_id:
        raise NotFound()
    return label


def update_label(session: Session, *, label: Label, changes: dict[str, Any]) -> Label:
    title = changes.get("title")
    if title is not None and title != label.title:
        taken = session.scalar(
            select(Label.id).where(
                Label.organization_id == label.organization_id, Label.title == title
            )
        )
        if taken is not None:
            raise ValidationFailed({"title": ["A label with this title already exists."]})
    if "approved_by" in changes:
        changes["approved_by_id"] = changes.pop("approved_by")
    for name, value in changes.items():
        setattr(label, name, value)
    session.flush()
    for project_id, link_ids in _links_by_project(session, label_id=label.id).items():
        _publish(session, LABEL_LINK_UPDATED, project_id, link_ids)
    return label


def delete_label(session: Session, *, label: Label) -> None:
    """The label goes, and with it every link (each project is told)."""
    for project_id, link_ids in _links_by_project(session, label_id=label.id).items():
        _publish(session, LABEL_LINK_DELETED, project_id, link_ids)
    session.delete(label)
    session.flush()


def _links_by_project(session: Session, *, label_id: int) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = {}
    for link_id, project_id in session.execute(
        select(LabelLink.id, LabelLink.project_id).where(LabelLink.label_id == label_id)
    ):
        grouped.setdefault(int(project_id), []).append(int(link_id))
    return grouped


# ------------------------------------------------------------------------------ links


def _links_query(organization_id: int) -> Any:
    return (
        select(LabelLink)
        .join(Label, Label.id == LabelLink.label_id)
        .where(Label.organization_id == organization_id)
    )


def list_links(
    session: Session,
    *,
    organization_id: int,
    project_id: int | None,
    created_by: int | None,
    created_at: datetime | None,
    created_after: datetime | None,
    created_before: datetime | None,
    offset: int,
    limit: int,
) -> tuple[int, list[LabelLink]]:
    """Label Studio's filters: `project`, `label__created_by`, `label__created_at` (and
    `__gte`, `__lte`)."""
    query = _links_query(organization_id)
    if project_id is not None:
        query = query.where(LabelLink.project_id == project_id)
    if created_by is not None:
        query = query.where(Label.created_by_id == created_by)
    if created_at is not None:
        query = query.where(Label.created_at == created_at)
    if created_after is not None:
        query = query.where(Label.created_at >= created_after)
    if created_before is not None:
        query = query.where(Label.created_at <= created_before)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(LabelLink.id).offset(offset).limit(limit)))
    return total, rows


def get_link(session: Session, *, link_id: int, organization_id: int) -> LabelLink:
    link = session.scalars(_links_query(organization_id).where(LabelLink.id == link_id)).first()
    if link is None:
        raise NotFound()
    return link


def _check_unique(session: Session, *, project_id: int, label_id: int, link_id: int = 0) -> None:
    taken = session.scalar(
        select(LabelLink.id).where(
            LabelLink.project_id == project_id,
            LabelLink.label_id == label_id,
            LabelLink.id != link_id,
        )
    )
    if taken is not None:
        raise ValidationFailed(
            {"non_field_errors": ["The fields project, label must make a unique set."]}
        )


def create_link(
    session: Session, *, organization_id: int, project_id: int, label_id: int, from_name: str
) -> LabelLink:
    project = project_in_organization(
        session, project_id=project_id, organization_id=organization_id
    )
    label = session.get(Label, label_id)
    if label is None or label.organization_id != organization_id:
        raise _missing("label", label_id)
    check_from_name(project, from_name)
    _check_unique(session, project_id=project_id, label_id=label_id)
    link = LabelLink(project_id=project_id, label_id=label_id, from_name=from_name)
    session.add(link)
    session.flush()
    _publish(session, LABEL_LINK_CREATED, project_id, [link.id])
    return link


def update_link(
    session: Session, *, link: LabelLink, organization_id: int, changes: dict[str, Any]
) -> LabelLink:
    project_id = changes.get("project") or link.project_id
    label_id = changes.get("label") or link.label_id
    from_name = changes.get("from_name") or link.from_name
    project = project_in_organization(
        session, project_id=project_id, organization_id=organization_id
    )
    label = session.get(Label, label_id)
    if label is None or label.organization_id != organization_id:
        raise _missing("label", label_id)
    check_from_name(project, from_name)
    _check_unique(session, project_id=project_id, label_id=label_id, link_id=link.id)
    link.project_id, link.label_id, link.from_name = project_id, label_id, from_name
    session.flush()
    _publish(session, LABEL_LINK_UPDATED, project_id, [link.id])
    return link


def delete_link(session: Session, *, link: LabelLink) -> None:
    _publish(session, LABEL_LINK_DELETED, link.project_id, [link.id])
    session.delete(link)
    session.flush()
