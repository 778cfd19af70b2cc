"""Project membership: who among annotators and reviewers may see a project.

Visibility is decided here once, for this service's own lists and checks
(`visible_projects`, `is_member`) and for other services, which get a project's member
ids with it over gRPC (`member_ids`) and apply `labelops_common.auth.policies`.
"""

from __future__ import annotations

from collections.abc import Sequence

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.principal import Principal
from labelops_common.http.errors import ValidationFailed
from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.orm import Session

from project_svc.members.models import ProjectMember
from project_svc.organizations.models import Membership
from project_svc.projects.models import Project
from project_svc.users.models import User


def member_ids(session: Session, *, project_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ProjectMember.user_id)
            .where(ProjectMember.project_id == project_id)
            .order_by(ProjectMember.user_id)
        )
    )


def is_member(session: Session, *, project_id: int, user_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
                )
            )
        )
    )


def visible_projects(principal: Principal) -> ColumnElement[bool]:
    """A condition on `Project`: the projects `principal` may see in their organization."""
    in_organization = Project.organization_id == principal.organization_id
    if can(principal, Action.VIEW_ALL_PROJECTS):
        return in_organization
    admitted = exists().where(
        ProjectMember.project_id == Project.id, ProjectMember.user_id == principal.user_id
    )
    return in_organization & admitted


def list_members(session: Session, *, project_id: int) -> Sequence[tuple[ProjectMember, User]]:
    rows = session.execute(
        select(ProjectMember, User)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id)
        .order_by(ProjectMember.id)
    )
    return [(member, user) for member, user in rows]


def add_member(
    session: Session, *, project: Project, user_id: int, added_by_id: int
) -> ProjectMember:
    """Admit a user of the project's organization; adding a member twice changes nothing."""
    in_organization = session.scalar(
        select(
            exists().where(
                Membership.organization_id == project.organization_id,
                Membership.user_id == user_id,
                Membership.is_active.is_(True),
            )
        )
    )
    if not in_organization:
        raise ValidationFailed({"user": [f"User {user_id} is not a member of this organization."]})
    existing = session.scalar(
        select(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == user_id
        )
    )
    if existing is not None:
        return existing
    member = ProjectMember(project_id=project.id, user_id=user_id, added_by_id=added_by_id)
    session.add(member)
    session.flush()
    return member


def remove_member(session: Session, *, project_id: int, user_id: int) -> bool:
    result = session.execute(
        delete(ProjectMember).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
