"""`/api/comments/` (Label Studio Enterprise's comments API; thin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.directory import ProjectInfo
from labelops_common.http.errors import NotFound, PermissionDenied, ValidationFailed
from labelops_common.http.pagination import check_page_exists, page_envelope, page_request
from labelops_common.http.params import parse_bool, parse_optional_int
from labelops_common.http.routing import ApiRouter

from task_svc import access
from task_svc.annotations import service as annotation_service
from task_svc.comments import service as comments
from task_svc.comments.models import Comment
from task_svc.comments.schemas import (
    CommentAnswer,
    CommentCreate,
    CommentPage,
    CommentUpdate,
    comment_fields,
)
from task_svc.dependencies import DbSession, Projects, Users
from task_svc.tasks.models import Task

router = ApiRouter(tags=["comments"])

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 1000

ExpandCreatedBy = Annotated[
    str | None, Query(description="`true`: `created_by` is the author's object, not the id.")
]


def _answers(
    found: list[Comment], users: Users, organization_id: int, expand: str | None
) -> list[dict[str, Any]]:
    if not parse_bool(expand, field="expand_created_by", default=False):
        return [comment_fields(c) for c in found]
    authors = users.describe(organization_id, [c.created_by_id for c in found])
    return [comment_fields(c, authors.get(c.created_by_id, {"id": c.created_by_id})) for c in found]


def _visible_comment(
    session: DbSession, projects: Projects, principal: CurrentUser, comment_id: int
) -> tuple[Comment, ProjectInfo]:
    """The comment if the caller sees it: its project, and the annotation it is on."""
    comment = comments.get_comment(session, comment_id)
    project = access.project_for(projects, principal, comment.project_id, access.can_comment)
    if comment.annotation_id is not None:
        annotation = annotation_service.get_annotation(session, comment.annotation_id)
        if not access.can_see_annotation(principal, project, annotation.completed_by_id):
            raise NotFound()
    return comment, project


def _scope(principal: CurrentUser, project: ProjectInfo) -> comments.Scope:
    return comments.Scope(
        project_id=project.id, annotations_by=access.annotations_visible_to(principal, project)
    )


@router.get(
    "/api/comments",
    response_model=list[CommentAnswer] | CommentPage,
    response_model_exclude_unset=True,
)
def list_comments(
    request: Request,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    project: str | None = None,
    projects_: Annotated[str | None, Query(alias="projects")] = None,
    task: str | None = None,
    annotation: str | None = None,
    ordering: str | None = None,
    expand_created_by: ExpandCreatedBy = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Any:
    """Comments of a task, an annotation or projects, oldest first; a plain list as Label
    Studio's SDK reads it, or `?page=` for the page envelope."""
    if ordering not in (None, "", *comments.ORDERINGS):
        raise ValidationFailed(
            {
                "ordering": [
                    f"Unknown ordering '{ordering}': one of {', '.join(comments.ORDERINGS)}."
                ]
            }
        )
    task_id = parse_optional_int(task, field="task")
    annotation_id = parse_optional_int(annotation, field="annotation")
    project_ids = [parse_optional_int(project, field="project")]
    for number, value in enumerate((projects_ or "").split(",")):
        if value.strip():
            project_ids.append(parse_optional_int(value.strip(), field=f"projects.{number}"))
    wanted = [p for p in project_ids if p is not None]
    if task_id is not None:
        found_task = session.get(Task, task_id)
        if found_task is None:
            raise NotFound()
        wanted.append(found_task.project_id)
    if annotation_id is not None:
        found = annotation_service.get_annotation(session, annotation_id)
        wanted.append(found.project_id)
        seen_in = access.project_for(projects, principal, found.project_id, access.can_comment)
        if not access.can_see_annotation(principal, seen_in, found.completed_by_id):
            raise NotFound()
    if not wanted:
        raise ValidationFailed({"project": ["Give project, projects, task or annotation."]})
    scoped = {
        project_id: access.project_for(projects, principal, project_id, access.can_comment)
        for project_id in wanted
    }
    scopes = [_scope(principal, p) for p in scoped.values()]
    organization_id = principal.organization_id
    order = ordering or "id"
    if page in (None, "") and page_size in (None, ""):
        listed = comments.list_comments(
            session,
            scopes=scopes,
            task_id=task_id,
            annotation_id=annotation_id,
            ordering=order,
            limit=PAGE_SIZE_MAX * 10,
        )
        return _answers(listed, users, organization_id, expand_created_by)
    paging = page_request(page, page_size, default_size=PAGE_SIZE_DEFAULT, max_size=PAGE_SIZE_MAX)
    total = comments.count_comments(
        session, scopes=scopes, task_id=task_id, annotation_id=annotation_id
    )
    check_page_exists(paging, total)
    listed = comments.list_comments(
        session,
        scopes=scopes,
        task_id=task_id,
        annotation_id=annotation_id,
        ordering=order,
        offset=paging.offset,
        limit=paging.page_size,
    )
    return page_envelope(
        url=request.url,
        request=paging,
        total=total,
        results=_answers(listed, users, organization_id, expand_created_by),
    )


@router.post(
    "/api/comments",
    status_code=201,
    response_model=CommentAnswer,
    response_model_exclude_unset=True,
)
def create_comment(
    body: CommentCreate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    expand_created_by: ExpandCreatedBy = None,
) -> dict[str, Any]:
    """On an annotation (its task follows) or on a task; the task's counters move with it."""
    if body.annotation is not None:
        annotation = annotation_service.get_annotation(session, body.annotation)
        if body.task is not None and body.task != annotation.task_id:
            raise ValidationFailed({"task": ["The annotation is not of this task."]})
        task, project = access.task_for(
            session, projects, principal, annotation.task_id, access.can_comment
        )
        if not access.can_see_annotation(principal, project, annotation.completed_by_id):
            raise NotFound()
    elif body.task is not None:
        task, project = access.task_for(session, projects, principal, body.task, access.can_comment)
    else:
        raise ValidationFailed({"annotation": ["Either annotation or task is required."]})
    comment = comments.create_comment(
        session,
        task=task,
        annotation_id=body.annotation,
        user_id=principal.user_id,
        text=body.text,
        region_ref=body.region_ref,
        is_resolved=body.is_resolved,
    )
    session.commit()
    return _answers([comment], users, project.organization_id, expand_created_by)[0]


@router.get(
    "/api/comments/{comment_id:int}",
    response_model=CommentAnswer,
    response_model_exclude_unset=True,
)
def get_comment(
    comment_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    expand_created_by: ExpandCreatedBy = None,
) -> dict[str, Any]:
    comment, project = _visible_comment(session, projects, principal, comment_id)
    return _answers([comment], users, project.organization_id, expand_created_by)[0]


@router.patch(
    "/api/comments/{comment_id:int}",
    response_model=CommentAnswer,
    response_model_exclude_unset=True,
)
def update_comment(
    comment_id: int,
    body: CommentUpdate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    expand_created_by: ExpandCreatedBy = None,
) -> dict[str, Any]:
    """The author changes the text; whoever sees the comment resolves or reopens it."""
    comment, project = _visible_comment(session, projects, principal, comment_id)
    if (body.text is not None or body.region_ref is not None) and not access.can_edit_comment(
        principal, comment.created_by_id
    ):
        raise PermissionDenied(
            validation_errors={"text": ["Only the comment's author may change its text."]}
        )
    comments.update_comment(
        session,
        comment=comment,
        text=body.text,
        region_ref=body.region_ref,
        is_resolved=body.is_resolved,
    )
    session.commit()
    return _answers([comment], users, project.organization_id, expand_created_by)[0]


@router.delete("/api/comments/{comment_id:int}", status_code=204)
def delete_comment(
    comment_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> Response:
    comment, project = _visible_comment(session, projects, principal, comment_id)
    authorize(access.can_delete_comment(principal, project, comment.created_by_id))
    comments.delete_comment(session, comment=comment)
    session.commit()
    return Response(status_code=204)
