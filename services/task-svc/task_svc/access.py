"""Who may do what to tasks, annotations and predictions, and loading a task for a caller.

Every policy here is a row of the permission table (`labelops_common.auth.permissions`)
plus what the table cannot say: the project is of the caller's organization, the caller
wrote the annotation, the project's `annotators_see_others_annotations` setting, and, where
a project hands out work by assignment (`assigned_only`), that an annotator sees only the
tasks assigned to them: in lists (`visible_tasks`) and by id (`task_for` answers 404 for
any other). A project of another organization is not found rather than forbidden, so ids
don't leak. Every domain of the service checks access through this one module
(`project_for` itself is shared with export-svc through `labelops_common.auth.policies`).
"""

from __future__ import annotations

from labelops_common.auth.permissions import Action, can
from labelops_common.auth.policies import Policy, project_for
from labelops_common.auth.principal import Principal, Role
from labelops_common.directory import ProjectDirectory, ProjectInfo
from labelops_common.http.errors import NotFound
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from task_svc.assignments.models import ANNOTATE, TaskAssignment
from task_svc.tasks.models import Task

__all__ = [
    "Policy",
    "annotations_visible_to",
    "can_annotate",
    "can_assign_tasks",
    "can_change_annotation",
    "can_comment",
    "can_delete_comment",
    "can_edit_comment",
    "can_manage_tasks",
    "can_mark_ground_truth",
    "can_review",
    "can_see_annotation",
    "can_view_tasks",
    "lock_task",
    "project_for",
    "task_for",
    "visible_tasks",
]


def _in_organization(principal: Principal, project: ProjectInfo) -> bool:
    return principal.organization_id == project.organization_id


def can_view_tasks(principal: Principal, project: ProjectInfo) -> bool:
    return _in_organization(principal, project) and can(principal, Action.VIEW_TASKS)


def can_annotate(principal: Principal, project: ProjectInfo) -> bool:
    return _in_organization(principal, project) and can(principal, Action.ANNOTATE)


def can_manage_tasks(principal: Principal, project: ProjectInfo) -> bool:
    return _in_organization(principal, project) and can(principal, Action.MANAGE_TASKS)


def can_assign_tasks(principal: Principal, project: ProjectInfo) -> bool:
    """Managers and up hand out work; annotators and reviewers never assign themselves."""
    return _in_organization(principal, project) and can(principal, Action.ASSIGN)


def can_mark_ground_truth(principal: Principal, project: ProjectInfo) -> bool:
    """Ground truth is the reference other annotators are measured against: managers and
    above set or clear it, never an annotator on their own work."""
    return _in_organization(principal, project) and can(principal, Action.MARK_GROUND_TRUTH)


def can_review(principal: Principal, project: ProjectInfo) -> bool:
    """Reviewers, managers and above review a project's annotations (never their own:
    the reviews domain refuses that per annotation); annotators do not."""
    return _in_organization(principal, project) and can(principal, Action.REVIEW)


def can_change_annotation(
    principal: Principal, project: ProjectInfo, author_id: int | None
) -> bool:
    """Authors change their own annotations; managers change anyone's."""
    if not _in_organization(principal, project):
        return False
    return can(principal, Action.CHANGE_OTHERS_ANNOTATIONS) or author_id == principal.user_id


def annotations_visible_to(principal: Principal, project: ProjectInfo) -> int | None:
    """None when the caller sees every annotation of the project's tasks (reviewers and up,
    or anyone when the project shows annotators each other's work); else the user id whose
    annotations alone they see: their own, so overlapping annotators label independently."""
    if can(principal, Action.VIEW_OTHERS_ANNOTATIONS) or project.annotators_see_others_annotations:
        return None
    return principal.user_id


def can_see_annotation(principal: Principal, project: ProjectInfo, author_id: int | None) -> bool:
    """Another's hidden annotation is answered 404 like a missing one, never 403."""
    only = annotations_visible_to(principal, project)
    return only is None or only == author_id


def can_comment(principal: Principal, project: ProjectInfo) -> bool:
    """Comment on, and resolve comments of, the tasks and annotations one sees."""
    return _in_organization(principal, project) and can(principal, Action.COMMENT)


def can_edit_comment(principal: Principal, author_id: int) -> bool:
    """A comment's words are its author's alone."""
    return principal.user_id == author_id


def can_delete_comment(principal: Principal, project: ProjectInfo, author_id: int) -> bool:
    """Authors delete their own comments; managers and up anyone's."""
    return _in_organization(principal, project) and (
        principal.user_id == author_id or can(principal, Action.MODERATE_COMMENTS)
    )


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
