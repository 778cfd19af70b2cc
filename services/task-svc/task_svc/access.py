"""Who may do what to tasks, annotations and predictions, and loading a task for a caller.

Members of the project's organization may read tasks and annotate; owners,
administrators and managers may import, edit and delete tasks. A project of another
organization is not found rather than forbidden, so ids don't leak. Every domain of the
service checks access through this one module (`project_for` itself is shared with
export-svc through `labelops_common.auth.policies`).
"""

from __future__ import annotations

from labelops_common.auth.policies import MANAGER_ROLES, Policy, project_for
from labelops_common.auth.principal import Principal, Role
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.http.errors import NotFound
from sqlalchemy import select
from sqlalchemy.orm import Session

from task_svc.tasks.models import Task

__all__ = [
    "Policy",
    "can_annotate",
    "can_change_annotation",
    "can_manage_tasks",
    "can_mark_ground_truth",
    "can_review",
    "can_view_tasks",
    "lock_task",
    "project_for",
    "task_for",
]


def can_view_tasks(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id


def can_annotate(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id


def can_manage_tasks(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id and principal.role in MANAGER_ROLES


def can_mark_ground_truth(principal: Principal, project: ProjectInfo) -> bool:
    """Ground truth is the reference other annotators are measured against: managers and
    above set or clear it, never an annotator on their own work."""
    return principal.organization_id == project.organization_id and principal.role in MANAGER_ROLES


#: Who may accept, reject and fix annotations (the roles part's permission table takes
#: this over).
REVIEW_ROLES = MANAGER_ROLES | {Role.REVIEWER}


def can_review(principal: Principal, project: ProjectInfo) -> bool:
    """Reviewers, managers and above review a project's annotations (never their own:
    the reviews domain refuses that per annotation); annotators do not."""
    return principal.organization_id == project.organization_id and principal.role in REVIEW_ROLES


def can_change_annotation(
    principal: Principal, project: ProjectInfo, author_id: int | None
) -> bool:
    """Authors change their own annotations; managers change anyone's."""
    if principal.organization_id != project.organization_id:
        return False
    return principal.role in MANAGER_ROLES or author_id == principal.user_id


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
    return task, project_for(projects, principal, task.project_id, policy)
