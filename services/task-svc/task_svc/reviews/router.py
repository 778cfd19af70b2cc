"""`/api/annotation-reviews/` (Label Studio Enterprise's annotation reviews) and the
review stream `/api/projects/{id}/next-review/` (thin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.auth.principal import Principal
from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.http.answers import timestamp
from labelops_common.http.errors import NotFound, ValidationFailed
from labelops_common.http.pagination import page_request
from labelops_common.http.routing import ApiRouter

from task_svc import access
from task_svc.annotations import service as annotation_service
from task_svc.annotations.models import Annotation
from task_svc.annotations.schemas import with_author
from task_svc.audit import service as audit
from task_svc.dependencies import DbSession, Media, Projects, TaskSettings, Users
from task_svc.reviews import service as reviews
from task_svc.reviews.models import AnnotationReview
from task_svc.reviews.schemas import (
    NextReviewAnswer,
    ReviewAnswer,
    ReviewCreate,
    ReviewUpdate,
    review_fields,
)
from task_svc.tasks.models import Task
from task_svc.tasks.schemas import task_fields

router = ApiRouter(tags=["reviews"])

NOTHING_TO_REVIEW = "There are no more annotations to review in this project."
#: Reviews listed per request at most (an annotation's history is a handful).
MAX_LISTED = 1000


def _locked_task(session: DbSession, annotation: Annotation) -> Task:
    task = access.lock_task(session, annotation.task_id)
    if task is None:
        raise NotFound()
    return task


def _may_see(principal: Principal, project: ProjectInfo, review: AnnotationReview) -> bool:
    """Reviewers and managers see a project's reviews; an annotator those of their work."""
    return access.can_review(principal, project) or review.annotator_id == principal.user_id


@router.get("/api/annotation-reviews", response_model=list[ReviewAnswer])
def list_reviews(
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    annotation: int | None = None,
    task: int | None = None,
    project: int | None = None,
    project_of_task: Annotated[int | None, Query(alias="annotation__task__project")] = None,
    ordering: Annotated[str | None, Query(description="`id` or `-id`")] = None,
    page: Annotated[str | None, Query()] = None,
    page_size: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    """An annotation's, a task's or a project's reviews (`project` or Label Studio
    Enterprise's `annotation__task__project`), oldest first (its history) unless
    `ordering=-id`. One of `annotation`, `task` or `project` is required."""
    project = project if project is not None else project_of_task
    if ordering not in (None, "", "id", "-id", "created_at", "-created_at"):
        raise ValidationFailed({"ordering": ["Order by id or created_at (- for newest first)."]})
    if annotation is not None:
        found = annotation_service.get_annotation(session, annotation)
        project_id = found.project_id
    elif task is not None:
        found_task = session.get(Task, task)
        if found_task is None:
            raise NotFound()
        project_id = found_task.project_id
    elif project is not None:
        project_id = project
    else:
        raise ValidationFailed({"annotation": ["Give annotation, task or project."]})
    info = access.project_for(projects, principal, project_id, access.can_view_tasks)
    paging = page_request(page, page_size, default_size=MAX_LISTED, max_size=MAX_LISTED)
    listed = reviews.list_reviews(
        session,
        project_id=info.id,
        annotation_id=annotation,
        task_id=task,
        annotator_id=None if access.can_review(principal, info) else principal.user_id,
        limit=paging.page_size,
        offset=paging.offset,
        newest_first=bool(ordering and ordering.startswith("-")),
    )
    return [review_fields(review) for review in listed]


@router.post("/api/annotation-reviews", status_code=201, response_model=ReviewAnswer)
def create_review(
    body: ReviewCreate, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    """Accept, reject (`comment` says why) or fix and accept (`result`) an annotation."""
    annotation = annotation_service.get_annotation(session, body.annotation)
    project = access.project_for(projects, principal, annotation.project_id, access.can_review)
    task = _locked_task(session, annotation)
    session.refresh(annotation)  # as it is now that its task is ours
    review = reviews.create_review(
        session,
        annotation=annotation,
        task=task,
        project=project,
        reviewer_id=principal.user_id,
        verdict=reviews.Verdict(body.accepted, body.comment, body.result),
    )
    _audit(session, principal, "created", review, fixed=body.result is not None)
    session.commit()
    return review_fields(review)


def _audit(
    session: DbSession, principal: Principal, verb: str, review: AnnotationReview, *, fixed: bool
) -> None:
    """The review's audit entry, in its transaction (a fix says so, never the result)."""
    audit.review_recorded(
        session,
        principal,
        verb=verb,
        review_id=review.id,
        annotation_id=review.annotation_id,
        task_id=review.task_id,
        project_id=review.project_id,
        accepted=None if verb == "deleted" else review.accepted,
        changes={"result": {"changed": True}} if fixed else None,
    )


def _review_of(
    session: DbSession, projects: Projects, principal: Principal, review_id: int
) -> tuple[AnnotationReview, ProjectInfo]:
    review = reviews.get_review(session, review_id)
    if review is None:
        raise NotFound()
    project = access.project_for(projects, principal, review.project_id, access.can_view_tasks)
    if not _may_see(principal, project, review):
        raise NotFound()
    return review, project


@router.get("/api/annotation-reviews/{review_id:int}", response_model=ReviewAnswer)
def get_review(
    review_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> dict[str, Any]:
    review, _ = _review_of(session, projects, principal, review_id)
    return review_fields(review)


def _changeable(
    session: DbSession, projects: Projects, principal: Principal, review_id: int
) -> tuple[AnnotationReview, Annotation, Task, ProjectInfo]:
    """The review, if the caller may change it (its reviewer, or a manager), with its
    annotation and its task locked."""
    review, project = _review_of(session, projects, principal, review_id)
    authorize(access.can_review(principal, project))
    authorize(
        review.reviewer_id == principal.user_id or access.can_manage_tasks(principal, project)
    )
    annotation = annotation_service.get_annotation(session, review.annotation_id)
    task = _locked_task(session, annotation)
    session.refresh(annotation)
    session.refresh(review)
    return review, annotation, task, project


@router.patch("/api/annotation-reviews/{review_id:int}", response_model=ReviewAnswer)
def update_review(
    review_id: int,
    body: ReviewUpdate,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
) -> dict[str, Any]:
    review, annotation, task, project = _changeable(session, projects, principal, review_id)
    given = body.model_fields_set
    verdict = reviews.Verdict(
        accepted=body.accepted if body.accepted is not None else review.accepted,
        comment=body.comment if "comment" in given else review.comment,
        result=body.result if "result" in given else review.result,
    )
    reviews.update_review(
        session, review=review, annotation=annotation, task=task, project=project, verdict=verdict
    )
    _audit(session, principal, "updated", review, fixed="result" in given)
    session.commit()
    return review_fields(review)


@router.delete("/api/annotation-reviews/{review_id:int}", status_code=204)
def delete_review(
    review_id: int, session: DbSession, projects: Projects, principal: CurrentUser
) -> Response:
    review, annotation, task, project = _changeable(session, projects, principal, review_id)
    _audit(session, principal, "deleted", review, fixed=False)
    reviews.delete_review(session, review=review, annotation=annotation, task=task, project=project)
    session.commit()
    return Response(status_code=204)


@router.get("/api/projects/{project_id:int}/next-review", response_model=NextReviewAnswer)
def next_review(
    project_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    media: Media,
    settings: TaskSettings,
) -> dict[str, Any]:
    """The next annotation for the caller to review, held for them: unreviewed ones,
    oldest first, never their own, never one another reviewer holds."""
    project = access.project_for(projects, principal, project_id, access.can_review)
    picked = reviews.next_review(
        session,
        project=project,
        reviewer_id=principal.user_id,
        ttl_seconds=settings.review_lock_ttl_seconds,
    )
    if picked is None:
        session.rollback()
        raise NotFound(NOTHING_TO_REVIEW)
    session.commit()
    annotation = picked.annotation
    author = users.describe(project.organization_id, [annotation.completed_by_id])
    task = task_fields(picked.task)
    task["data"] = media.resolve_data(
        project_id=project.id, task_id=picked.task.id, data=task["data"]
    )
    history = reviews.list_reviews(
        session, project_id=project.id, annotation_id=annotation.id, limit=MAX_LISTED
    )
    return {
        "annotation": with_author(
            annotation, author.get(annotation.completed_by_id or 0), expand=False, now=utcnow()
        ),
        "task": task,
        "history": [review_fields(review) for review in history],
        "lock_expires_at": timestamp(picked.lock.expires_at),
    }
