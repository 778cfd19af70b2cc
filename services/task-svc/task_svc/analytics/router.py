"""`/api/projects/{id}/analytics/` (series) and `.../analytics/people/` (per person), thin.

Label Studio Enterprise keeps its dashboards in its paid edition without a public API, so
these paths are LabelOps' own. Members who may see the project see their own figures;
managers and up see the project's and everyone's (`?user=` narrows to one person). A
member asking for another person's figures gets 403; a project of another organization
is 404.
"""

from __future__ import annotations

from fastapi import Query
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.directory import ProjectInfo
from labelops_common.http.params import parse_optional_int
from labelops_common.http.routing import ApiRouter

from task_svc import access
from task_svc.analytics import policies, service
from task_svc.analytics.schemas import AnalyticsPeople, AnalyticsSeries, PersonFigures
from task_svc.dependencies import DbSession, Projects, Users

router = ApiRouter(tags=["analytics"])


def _whose(principal: CurrentUser, project: ProjectInfo, user: str | None) -> int | None:
    """The person whose figures to read: anyone (or the project, None) for managers, the
    caller themselves for everyone else."""
    user_id = parse_optional_int(user, field="user")
    if policies.can_view_everyones_analytics(principal, project):
        return user_id
    authorize(
        user_id in (None, principal.user_id),
        "Only managers see other people's figures.",
    )
    return principal.user_id


@router.get("/api/projects/{project_id:int}/analytics", response_model=AnalyticsSeries)
def project_analytics(
    project_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    interval: str | None = None,
    user: str | None = None,
) -> AnalyticsSeries:
    """Throughput, lead time, review outcomes and agreement per day or hour (UTC)."""
    project = access.project_for(projects, principal, project_id, policies.can_view_analytics)
    user_id = _whose(principal, project, user)
    span = service.parse_range(start=start, end=end, interval=interval)
    totals, points = service.series(session, project_id=project_id, span=span, user_id=user_id)
    return AnalyticsSeries(
        project=project_id,
        user=user_id,
        interval=span.interval,
        from_=span.start,
        to=span.end,
        totals=totals,
        series=points,
    )


@router.get("/api/projects/{project_id:int}/analytics/people", response_model=AnalyticsPeople)
def people_analytics(
    project_id: int,
    session: DbSession,
    projects: Projects,
    principal: CurrentUser,
    users: Users,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
) -> AnalyticsPeople:
    """Each person's figures over the range (default: the last 30 days)."""
    project = access.project_for(projects, principal, project_id, policies.can_view_analytics)
    user_id = (
        None if policies.can_view_everyones_analytics(principal, project) else principal.user_id
    )
    span = service.parse_range(start=start, end=end, interval="day")
    figures = service.people(session, project_id=project_id, span=span, user_id=user_id)
    described = users.describe(project.organization_id, [person for person, _ in figures])
    return AnalyticsPeople(
        project=project_id,
        from_=span.start,
        to=span.end,
        people=[
            PersonFigures(
                user=person,
                email=described.get(person, {}).get("email"),
                first_name=described.get(person, {}).get("first_name"),
                last_name=described.get(person, {}).get("last_name"),
                **values,
            )
            for person, values in figures
        ],
    )
