"""`/api/tasks/{id}/annotations` and `/api/annotations/{id}` (thin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.permissions import Action, can
from labelops_common.auth.policies import authorize
from labelops_common.db import utcnow
from labelops_common.directory import PersonAnswer, ProjectInfo
from labelops_common.http.answers import documented, json_answer
from labelops_common.http.errors import NotFound, PermissionDenied, ValidationFailed
from labelops_common.http.params import parse_bool
from labelops_common.http.routing import ApiRouter
from sqlalchemy import select

from task_svc import access
from task_svc.annotations import service as annotation_service
from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import (
    AnnotationCreate,
    AnnotationUpdate,
    AuthoredAnnotationAnswer,
    LabelBulkUpdate,
    LabelBulkUpdateAnswer,
    with_author,
)
from task_svc.audit import service as audit
from task_svc.dependencies import DbSession, Projects, Users
from task_svc.tasks.models import Task

router = ApiRouter(tags=["annotations"])


@router.get(
    "/api/projects/{project_id:int}/annotators",
    response_model=list[PersonAnswer],
    response_model_exclude_unset=True,
)
def list_annotators(
    project_id: int, session: DbSession, projects: Projects, principal: CurrentUser, users: Users
) -> list[dict[str, Any]]:
    """Everyone who has annotated in the project (skips included), by id."""
    project = access.project_for(projects, principal, project_id, access.can_view_tasks)
    user_ids = annotation_service.annotator_ids(session, project_id=project.id)
    described = users.describe(project.organization_id, user_ids)
    return [described[user_id] for user_id in user_ids]


def _answers(
    annotations: list[Annotation], users: Users, organization_id: int, expand: str | None
) -> list[dict[str, Any]]:
    """Annotations with their authors' names (one cached look-up for all of them)."""
    authors = users.describe(organization_id, [a.completed_by_id for a in annotations])
    now = utcnow()
    return [
        with_author(
            annotation,
            authors.get(annotation.completed_by_id or 0),
            expand=expand == "completed_by",
            now=now,
        )
        for annotation in annotations
    ]


#: `?expand=completed_by` makes `completed_by` the author's object (Label Studio's flex field).
Expand = Annotated[str | None, Query(description="`completed_by` to expand the author.")]


@router.get("/api/tasks/{task_id:int}/annotations", response_model=list[AuthoredAnnotationAnswer])
def list_annotations(
    task_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    expand: Expand = None,
) -> list[dict[str, Any]]:
    _, project = access.task_for(session, projects, principal, task_id, access.can_view_tasks)
    query = select(Annotation).where(Annotation.task_id == task_id, ~Annotation.was_cancelled)
    only = access.annotations_visible_to(principal, project)
    if only is not None:
        query = query.where(Annotation.completed_by_id == only)
    found = session.scalars(query.order_by(Annotation.id))
    return _answers(list(found), users, project.organization_id, expand)


@router.post(
    "/api/tasks/{task_id:int}/annotations",
    status_code=201,
    response_model=None,
    responses=documented(AuthoredAnnotationAnswer, 201),
)
def create_annotation(
    task_id: int,
    body: AnnotationCreate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    was_cancelled: Annotated[str | None, Query()] = None,
    expand: Expand = None,
) -> Response:
    """Labelling's hot write: the answer is built here and not validated (`documented`)."""
    task, project = access.task_for(
        session, projects, principal, task_id, access.can_annotate, lock=True
    )
    if was_cancelled is not None:
        body.was_cancelled = parse_bool(was_cancelled, field="was_cancelled", default=False)
    if body.ground_truth:
        _authorize_ground_truth(principal, project)
    annotation = annotation_service.create_annotation(
        session, task=task, project=project, body=body, user_id=principal.user_id
    )
    audit.annotation_created(session, principal, annotation)
    session.commit()
    [answer] = _answers([annotation], users, project.organization_id, expand)
    return json_answer(answer, status_code=201)


def _authorize_ground_truth(principal: CurrentUser, project: ProjectInfo) -> None:
    """Setting or changing `ground_truth` is a manager's call: a 403 naming the field."""
    if not access.can_mark_ground_truth(principal, project):
        raise PermissionDenied(
            validation_errors={"ground_truth": ["Only managers may set ground truth."]}
        )


def _changeable(
    session: DbSession, projects: Projects, principal: CurrentUser, annotation_id: int
) -> tuple[Annotation, Task, ProjectInfo]:
    """The annotation, if the caller may change it, with its task locked for the counters."""
    annotation = annotation_service.get_annotation(session, annotation_id)
    project = access.project_for(projects, principal, annotation.project_id, access.can_annotate)
    if not access.can_see_annotation(principal, project, annotation.completed_by_id):
        raise NotFound()
    authorize(access.can_change_annotation(principal, project, annotation.completed_by_id))
    task = access.lock_task(session, annotation.task_id)
    if task is None:
        raise NotFound()
    return annotation, task, project


@router.get("/api/annotations/{annotation_id:int}", response_model=AuthoredAnnotationAnswer)
def get_annotation(
    annotation_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    expand: Expand = None,
) -> dict[str, Any]:
    annotation = annotation_service.get_annotation(session, annotation_id)
    project = access.project_for(projects, principal, annotation.project_id, access.can_view_tasks)
    if not access.can_see_annotation(principal, project, annotation.completed_by_id):
        raise NotFound()
    return _answers([annotation], users, project.organization_id, expand)[0]


@router.patch("/api/annotations/{annotation_id:int}", response_model=AuthoredAnnotationAnswer)
def update_annotation(
    annotation_id: int,
    body: AnnotationUpdate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    expand: Expand = None,
) -> dict[str, Any]:
    annotation, task, project = _changeable(session, projects, principal, annotation_id)
    if body.ground_truth is not None and body.ground_truth != annotation.ground_truth:
        _authorize_ground_truth(principal, project)
    before = audit.annotation_state(annotation)
    annotation_service.update_annotation(
        session,
        annotation=annotation,
        task=task,
        project=project,
        body=body,
        user_id=principal.user_id,
    )
    audit.annotation_updated(session, principal, annotation, before=before)
    session.commit()
    return _answers([annotation], users, project.organization_id, expand)[0]


@router.delete("/api/annotations/{annotation_id:int}", status_code=204)
def delete_annotation(
    annotation_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> Response:
    annotation, task, project = _changeable(session, projects, principal, annotation_id)
    audit.annotation_deleted(session, principal, annotation)
    annotation_service.delete_annotation(
        session, annotation=annotation, task=task, project=project, user_id=principal.user_id
    )
    session.commit()
    return Response(status_code=204)


@router.post("/api/labels/bulk", response_model=LabelBulkUpdateAnswer)
def relabel_annotations(
    body: LabelBulkUpdate, session: DbSession, projects: Projects, principal: CurrentUser
) -> LabelBulkUpdateAnswer:
    """In one project, or in every project of the caller's organization the caller may
    manage; `annotations_updated` counts the regions changed (Label Studio's count)."""
    if body.old_label is None or body.new_label is None:
        raise ValidationFailed({"old_label": ["Both old_label and new_label are required."]})
    if body.project is not None:
        project_ids = [
            access.project_for(projects, principal, body.project, access.can_manage_tasks).id
        ]
    else:
        authorize(can(principal, Action.MANAGE_TASKS))
        project_ids = []
        for project_id in annotation_service.projects_holding_label(
            session, old_label=body.old_label
        ):
            found = projects.get(project_id)
            if found is not None and found.organization_id == principal.organization_id:
                project_ids.append(project_id)
    updated = annotation_service.relabel(
        session, project_ids=project_ids, old_label=body.old_label, new_label=body.new_label
    )
    session.commit()
    return LabelBulkUpdateAnswer(annotations_updated=updated)
