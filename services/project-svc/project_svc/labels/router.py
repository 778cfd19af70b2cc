"""`/api/labels` and `/api/label_links`: the organization's label library (thin).

`POST /api/labels/bulk`, which rewrites labels inside saved annotations, is task-svc's
(it owns annotations); the route table sends it there.
"""

from __future__ import annotations

import json
from datetime import datetime

from fastapi import Request, Response
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.http.answers import Page
from labelops_common.http.errors import ValidationFailed
from labelops_common.http.pagination import check_page_exists, page_envelope, page_request
from labelops_common.http.params import parse_optional_int
from labelops_common.http.routing import ApiRouter

from project_svc.dependencies import DbSession, LabelUses
from project_svc.labels import policies
from project_svc.labels import service as labels
from project_svc.labels.models import LabelLink
from project_svc.labels.schemas import (
    LabelAnswer,
    LabelCreate,
    LabelCreatedAnswer,
    LabelLinkAnswer,
    LabelLinkCreate,
    LabelLinkUpdate,
    LabelUpdate,
    created_response,
    label_response,
    link_response,
)

router = ApiRouter(tags=["labels"])

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000


@router.get("/api/labels", response_model=Page[LabelAnswer])
def list_labels(
    request: Request,
    session: DbSession,
    principal: CurrentUser,
    page: str | None = None,
    page_size: str | None = None,
) -> Page[LabelAnswer]:
    authorize(policies.can_view_labels(principal))
    paging = page_request(page, page_size, default_size=PAGE_SIZE_DEFAULT, max_size=PAGE_SIZE_MAX)
    total = labels.count_labels(session, organization_id=principal.organization_id)
    check_page_exists(paging, total)
    found = labels.list_labels(
        session,
        organization_id=principal.organization_id,
        offset=paging.offset,
        limit=paging.page_size,
    )
    links = labels.links_of(session, label_ids=[label.id for label in found])
    results = [label_response(label, links[label.id]) for label in found]
    return Page[LabelAnswer].model_validate(
        page_envelope(url=request.url, request=paging, total=total, results=results)
    )


@router.post("/api/labels", status_code=201, response_model=list[LabelCreatedAnswer])
def create_labels(
    body: list[LabelCreate], session: DbSession, principal: CurrentUser
) -> list[LabelCreatedAnswer]:
    """A list, as Label Studio's (every item for one project); titles the organization
    has already reuse that label."""
    authorize(policies.can_change_labels(principal))
    created = labels.create_labels(
        session,
        organization_id=principal.organization_id,
        user_id=principal.user_id,
        items=body,
    )
    session.commit()
    projects = labels.links_of(session, label_ids=[label.id for label, _ in created])
    return [
        created_response(label, link, sorted({p.project_id for p in projects[label.id]}))
        for label, link in created
    ]


@router.get("/api/labels/{label_id:int}", response_model=LabelAnswer)
def get_label(label_id: int, session: DbSession, principal: CurrentUser) -> LabelAnswer:
    authorize(policies.can_view_labels(principal))
    label = labels.get_label(session, label_id=label_id, organization_id=principal.organization_id)
    return label_response(label, labels.links_of(session, label_ids=[label.id])[label.id])


@router.patch("/api/labels/{label_id:int}", response_model=LabelAnswer)
def update_label(
    label_id: int, body: LabelUpdate, session: DbSession, principal: CurrentUser
) -> LabelAnswer:
    authorize(policies.can_change_labels(principal))
    label = labels.get_label(session, label_id=label_id, organization_id=principal.organization_id)
    labels.update_label(session, label=label, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return label_response(label, labels.links_of(session, label_ids=[label.id])[label.id])


@router.delete("/api/labels/{label_id:int}", status_code=204)
def delete_label(label_id: int, session: DbSession, principal: CurrentUser) -> Response:
    authorize(policies.can_change_labels(principal))
    label = labels.get_label(session, label_id=label_id, organization_id=principal.organization_id)
    labels.delete_label(session, label=label)
    session.commit()
    return Response(status_code=204)


def _link_answers(
    session: DbSession, count_uses: LabelUses, links: list[LabelLink]
) -> list[LabelLinkAnswer]:
    values = labels.values_of(session, label_ids=[link.label_id for link in links])
    counted = count_uses([(link.project_id, json.dumps(values[link.label_id])) for link in links])
    return [
        link_response(link, counted[index] if counted is not None else None)
        for index, link in enumerate(links)
    ]


def _datetime(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed({field: ["Enter a valid date/time."]}) from None


@router.get("/api/label_links", response_model=Page[LabelLinkAnswer])
def list_label_links(
    request: Request,
    session: DbSession,
    principal: CurrentUser,
    count_uses: LabelUses,
    page: str | None = None,
    page_size: str | None = None,
) -> Page[LabelLinkAnswer]:
    authorize(policies.can_view_labels(principal))
    params = request.query_params
    paging = page_request(page, page_size, default_size=PAGE_SIZE_DEFAULT, max_size=PAGE_SIZE_MAX)
    total, found = labels.list_links(
        session,
        organization_id=principal.organization_id,
        project_id=parse_optional_int(params.get("project"), field="project"),
        created_by=parse_optional_int(params.get("label__created_by"), field="label__created_by"),
        created_at=_datetime(params.get("label__created_at"), "label__created_at"),
        created_after=_datetime(params.get("label__created_at__gte"), "label__created_at__gte"),
        created_before=_datetime(params.get("label__created_at__lte"), "label__created_at__lte"),
        offset=paging.offset,
        limit=paging.page_size,
    )
    check_page_exists(paging, total)
    return Page[LabelLinkAnswer].model_validate(
        page_envelope(
            url=request.url,
            request=paging,
            total=total,
            results=_link_answers(session, count_uses, found),
        )
    )


@router.post("/api/label_links", status_code=201, response_model=LabelLinkAnswer)
def create_label_link(
    body: LabelLinkCreate, session: DbSession, principal: CurrentUser, count_uses: LabelUses
) -> LabelLinkAnswer:
    authorize(policies.can_change_labels(principal))
    link = labels.create_link(
        session,
        organization_id=principal.organization_id,
        project_id=body.project,
        label_id=body.label,
        from_name=body.from_name,
    )
    session.commit()
    return _link_answers(session, count_uses, [link])[0]


@router.get("/api/label_links/{link_id:int}", response_model=LabelLinkAnswer)
def get_label_link(
    link_id: int, session: DbSession, principal: CurrentUser, count_uses: LabelUses
) -> LabelLinkAnswer:
    authorize(policies.can_view_labels(principal))
    link = labels.get_link(session, link_id=link_id, organization_id=principal.organization_id)
    return _link_answers(session, count_uses, [link])[0]


@router.patch("/api/label_links/{link_id:int}", response_model=LabelLinkAnswer)
def update_label_link(
    link_id: int,
    body: LabelLinkUpdate,
    session: DbSession,
    principal: CurrentUser,
    count_uses: LabelUses,
) -> LabelLinkAnswer:
    authorize(policies.can_change_labels(principal))
    link = labels.get_link(session, link_id=link_id, organization_id=principal.organization_id)
    labels.update_link(
        session,
        link=link,
        organization_id=principal.organization_id,
        changes=body.model_dump(exclude_none=True),
    )
    session.commit()
    return _link_answers(session, count_uses, [link])[0]


@router.delete("/api/label_links/{link_id:int}", status_code=204)
def delete_label_link(link_id: int, session: DbSession, principal: CurrentUser) -> Response:
    authorize(policies.can_change_labels(principal))
    link = labels.get_link(session, link_id=link_id, organization_id=principal.organization_id)
    labels.delete_link(session, link=link)
    session.commit()
    return Response(status_code=204)
