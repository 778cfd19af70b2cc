"""`/api/projects`: Label Studio's project endpoints (thin: policy, service, response)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.http.answers import Page
from labelops_common.http.errors import ValidationFailed
from labelops_common.http.pagination import check_page_exists, page_envelope, page_request
from labelops_common.http.params import parse_int_list
from labelops_common.http.routing import ApiRouter
from sqlalchemy import select

from project_svc.audit import service as audit
from project_svc.dependencies import (
    CountsClient,
    DbSession,
    OverlapSetterDep,
    TasksDeleter,
    UsesInProjectDep,
)
from project_svc.projects import policies
from project_svc.projects import service as projects
from project_svc.projects.counts import COUNT_FIELDS
from project_svc.projects.models import Project
from project_svc.projects.schemas import (
    ConfigValidationAnswer,
    CreatorAnswer,
    LabelConfigBody,
    ProjectAnswer,
    ProjectCountsRow,
    ProjectFields,
    project_response,
)
from project_svc.users.models import User

router = ApiRouter(tags=["projects"])

PAGE_SIZE_DEFAULT = 30
PAGE_SIZE_MAX = 100


def _creators(session: DbSession, projects_: list[Project]) -> dict[int, CreatorAnswer]:
    ids = {p.created_by_id for p in projects_ if p.created_by_id is not None}
    if not ids:
        return {}
    users = session.scalars(select(User).where(User.id.in_(ids)))
    return {
        u.id: CreatorAnswer(
            id=u.id, first_name=u.first_name, last_name=u.last_name, email=u.email, avatar=None
        )
        for u in users
    }


def _responses(
    session: DbSession, counts: CountsClient, projects_: list[Project], include: set[str] | None
) -> list[ProjectAnswer]:
    fetched = counts([p.id for p in projects_])
    creators = _creators(session, projects_)
    results = []
    for project in projects_:
        project_counts: dict[str, Any] = dict.fromkeys(COUNT_FIELDS)
        project_counts.update(fetched.get(project.id, {}))
        if include is not None:
            project_counts = {k: v for k, v in project_counts.items() if k in include}
        results.append(
            project_response(
                project,
                counts=project_counts,
                created_by=creators.get(project.created_by_id or -1),
            )
        )
    return results


@router.get("/api/projects", response_model=Page[ProjectAnswer], response_model_exclude_unset=True)
def list_projects(
    request: Request,
    session: DbSession,
    counts: CountsClient,
    principal: CurrentUser,
    page: str | None = None,
    page_size: str | None = None,
    title: str | None = None,
    ids: Annotated[list[str], Query()] = [],  # noqa: B006
    filter: str = "all",
    include: str | None = None,
    search: str | None = None,
    ordering: str | None = None,
) -> Page[ProjectAnswer]:
    """`?include=` names the counters to serve; the others are left out of each project."""
    if filter not in {"all", "pinned_only", "exclude_pinned"}:
        raise ValidationFailed(
            {"filter": ['Must be one of "all", "pinned_only", "exclude_pinned".']}
        )
    paging = page_request(page, page_size, default_size=PAGE_SIZE_DEFAULT, max_size=PAGE_SIZE_MAX)
    query = projects.ProjectListQuery(
        principal=principal,
        title=title,
        ids=parse_int_list(ids, field="ids"),
        pinned=filter,
        search=search,
        ordering=ordering,
    )
    total = projects.count_projects(session, query=query)
    check_page_exists(paging, total)
    rows = projects.list_projects(
        session, query=query, offset=paging.offset, limit=paging.page_size
    )
    included = {part.strip() for part in include.split(",")} if include else None
    return Page[ProjectAnswer].model_validate(
        page_envelope(
            url=request.url,
            request=paging,
            total=total,
            results=_responses(session, counts, rows, included),
        )
    )


@router.post("/api/projects", status_code=201, response_model=ProjectAnswer)
def create_project(
    body: ProjectFields, session: DbSession, counts: CountsClient, principal: CurrentUser
) -> ProjectAnswer:
    authorize(policies.can_create_project(principal))
    project = projects.create_project(
        session,
        organization_id=principal.organization_id,
        created_by_id=principal.user_id,
        fields=body,
    )
    audit.project_created(session, principal, project)
    session.commit()
    return _responses(session, counts, [project], None)[0]


@router.post("/api/projects/validate", status_code=204)
def validate_config(body: LabelConfigBody) -> Response:
    """No authentication, as in Label Studio: it only parses the posted XML."""
    projects.validate_label_config(body.label_config)
    return Response(status_code=204)


@router.get("/api/projects/{project_id:int}", response_model=ProjectAnswer)
def get_project(
    project_id: int, session: DbSession, counts: CountsClient, principal: CurrentUser
) -> ProjectAnswer:
    project = projects.get_project(session, project_id=project_id, principal=principal)
    return _responses(session, counts, [project], None)[0]


def _task_rules(project: Project) -> tuple[object, ...]:
    """The settings task-svc applies to every task: overlap, counting, agreement routing."""
    return (
        project.maximum_annotations,
        project.skip_queue,
        project.overlap_cohort_percentage,
        project.agreement_threshold,
    )


@router.patch("/api/projects/{project_id:int}", response_model=ProjectAnswer)
def update_project(
    project_id: int,
    body: ProjectFields,
    session: DbSession,
    counts: CountsClient,
    principal: CurrentUser,
    set_overlap: OverlapSetterDep,
    uses_of: UsesInProjectDep,
) -> ProjectAnswer:
    """A new `label_config` must still fit what annotations and drafts hold."""
    project = projects.get_project(session, project_id=project_id, principal=principal)
    authorize(policies.can_update_project(principal, project.organization_id))
    new_config = body.label_config
    if new_config is not None and new_config != project.label_config:
        parsed = projects.validate_label_config(new_config)
        projects.check_config_fits_annotations(parsed, uses_of(project.id))
    rules_before = _task_rules(project)
    before = audit.project_state(project)
    projects.update_project(session, project=project, fields=body)
    audit.project_updated(session, principal, project, before=before)
    if _task_rules(project) != rules_before:
        # Tasks first: if task-svc cannot follow, the request fails (503) and nothing changes.
        set_overlap(
            project.id,
            project.maximum_annotations,
            project.skip_queue,
            overlap_cohort_percentage=project.overlap_cohort_percentage,
            agreement_threshold=project.agreement_threshold,
        )
    session.commit()
    return _responses(session, counts, [project], None)[0]


@router.delete("/api/projects/{project_id:int}", status_code=204)
def delete_project(
    project_id: int, session: DbSession, principal: CurrentUser, delete_tasks: TasksDeleter
) -> Response:
    project = projects.get_project(session, project_id=project_id, principal=principal)
    authorize(policies.can_delete_project(principal, project.organization_id))
    # Tasks first: if task-svc cannot delete them the request fails (503) and the project
    # stays, instead of leaving tasks behind with no project.
    delete_tasks(project.id)
    audit.project_deleted(session, principal, project)
    projects.delete_project(session, project=project)
    session.commit()
    return Response(status_code=204)


@router.post("/api/projects/{project_id:int}/validate", response_model=ConfigValidationAnswer)
def validate_config_for_project(
    project_id: int,
    body: LabelConfigBody,
    session: DbSession,
    principal: CurrentUser,
    uses_of: UsesInProjectDep,
) -> ConfigValidationAnswer:
    """Label Studio's strict check: the config, then what annotations and drafts hold."""
    project = projects.get_project(session, project_id=project_id, principal=principal)
    parsed = projects.validate_label_config(body.label_config)
    projects.check_config_fits_annotations(parsed, uses_of(project.id))
    return ConfigValidationAnswer(
        config_essential_data_has_changed=projects.config_essential_data_changed(project, parsed)
    )


@router.get("/api/projects/counts", response_model=Page[ProjectCountsRow])
def list_project_counts(
    request: Request,
    session: DbSession,
    counts: CountsClient,
    principal: CurrentUser,
    page: str | None = None,
    page_size: str | None = None,
) -> Page[ProjectCountsRow]:
    paging = page_request(page, page_size, default_size=PAGE_SIZE_DEFAULT, max_size=PAGE_SIZE_MAX)
    query = projects.ProjectListQuery(principal=principal)
    total = projects.count_projects(session, query=query)
    check_page_exists(paging, total)
    rows = projects.list_projects(
        session, query=query, offset=paging.offset, limit=paging.page_size
    )
    fetched = counts([p.id for p in rows])
    results = []
    for project in rows:
        item: dict[str, Any] = {"id": project.id, **dict.fromkeys(COUNT_FIELDS)}
        item.update(fetched.get(project.id, {}))
        results.append(item)
    return Page[ProjectCountsRow].model_validate(
        page_envelope(url=request.url, request=paging, total=total, results=results)
    )
