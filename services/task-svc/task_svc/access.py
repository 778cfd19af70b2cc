"""Who may do what to tasks, annotations and predictions, and loading a task for a caller.

Members of the project's organization may read tasks and annotate; owners,
administrators and managers may import, edit and delete tasks. Where a project hands out
work by assignment (`assigned_only`), an annotator sees only the tasks assigned to them:
in lists (`visible_tasks`) and by id (`task_for` answers 404 for any other). A project of another
organization is not found rather than forbidden, so ids don't leak. Every domain of the
service checks access through this one module (`project_for` itself is shared with
export-svc through `labelops_common.auth.policies`).
"""

from __future__ import annotations

from labelops_common.auth.policies import MANAGER_ROLES, Policy, project_for
from labelops_common.auth.principal import Principal, Role
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.http.errors import NotFound
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from task_svc.assignments.models import ANNOTATE, TaskAssignment
from task_svc.tasks.models import Task

__all__ = [
    "Policy",
    "can_annotate",
    "can_assign_tasks",
    "can_change_annotation",
    "can_manage_tasks",
    "can_mark_ground_truth",
    "can_view_tasks",
    "lock_task",
    "project_for",
    "task_for",
    "visible_tasks",
]


def can_view_tasks(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id


def can_annotate(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id


def can_manage_tasks(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and principal.role in MANAGER_ROLES


def can_assign_tasks(principal: Principal, project: ProjectInfo) -> bool:
    """Managers and up hand out work; annotators and reviewers never assign themselves."""
    return principal.organization_id == project.organization_id and principal.role in MANAGER_ROLES


def can_mark_ground_truth(principal: Principal, project: ProjectInfo) -> bool:
    """Ground truth is the reference other annotators are measured against: managers and
    above set or clear it, never an annotator on their own work."""
    return principal.organization_id == project.organization_id and principal.role in MANAGER_ROLES


def can_change_annotation(
    principal: Principal, project: ProjectInfo, author_id: int | None
) -> bool:
    """Authors change their own annotations; managers change anyone's."""
    if principal.organization_id != project.organization_id:
        return False
    return principal.role in MANAGER_ROLES or author_id == principal.user_id


def sees_assigned_only(principal: Principal, project: ProjectInfo) -> bool:
    """In an `assigned_only` project an annotator works on their assigned tasks alone;
    reviewers and managers see every task."""
    return project.assigned_only and principal.role == Role.ANNOTATOR


def visible_tasks(principal: Principal, project: ProjectInfo) -> ColumnElement[bool] | None:
    """The condition on `tasks` for what the caller may see, or None when they see all.

    Driven from the person's queue index, so a million-task project costs the size of
    their queue."""
    if not sees_assigned_only(principal, project):
        return None
    return Task.id.in_(
        select(TaskAssignment.task_id).where(
            TaskAssignment.project_id == project.id,
            TaskAssignment.user_id == principal.user_id,
            TaskAssignment.kind == ANNOTATE,
        )
    )


def is_assigned(session: Session, *, task_id: int, user_id: int, kind: str = ANNOTATE) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    TaskAssignment.task_id == task_id,
                    TaskAssignment.user_id == user_id,
                    TaskAssignment.kind == kind,
                )
            )
        )
    )


def lock_task(session: Session, task_id: int) -> Task | None:
    """The task, locked until commit (SELECT ... FOR UPDATE; the read is current), as a
    writer of its annotations or predictions needs it for the counters to stay exact."""
    return session.scalars(
        select(Task)
        .where(Task.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def task_for(
    session: Session,
    projects: ProjectDirectory,
    principal: Principal,
    task_id: int,
    policy: Policy,
    *,
    lock: bool = False,
) -> tuple[Task, ProjectInfo]:
    """The task and its project, if the caller may see the project and the policy allows."""
    task = lock_task(session, task_id) if lock else session.get(Task, task_id)
    if task is None:
        raise NotFound()
    project = project_for(projects, principal, task.project_id, policy)
    if sees_assigned_only(principal, project) and not is_assigned(
        session, task_id=task.id, user_id=principal.user_id
    ):
        raise NotFound()
    return task, project
