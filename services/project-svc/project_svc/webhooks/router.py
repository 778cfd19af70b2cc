"""`/api/webhooks`: Label Studio's webhook endpoints, plus the delivery log, redelivery and
test-send (thin: policy, service, response)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response
from labelops_common.audit import changes_between, column_values, record_audit, values_summary
from labelops_common.auth.authenticate import CurrentUser
from labelops_common.auth.policies import authorize
from labelops_common.events import new_event_id
from labelops_common.http.errors import ValidationFailed
from labelops_common.http.params import parse_bool, parse_optional_int
from labelops_common.http.routing import ApiRouter
from labelops_common.outbound import OutboundPolicy

from project_svc.dependencies import DbSession, SecretKey, ServiceSettings
from project_svc.webhooks import jobs, policies
from project_svc.webhooks import service as webhooks
from project_svc.webhooks.actions import ACTIONS
from project_svc.webhooks.models import Webhook
from project_svc.webhooks.schemas import (
    ActionInfo,
    ActionsInfoAnswer,
    DeliveryAnswer,
    WebhookAnswer,
    WebhookCreate,
    WebhookCreatedAnswer,
    WebhookFields,
    WebhookReplace,
    delivery_answer,
    webhook_answer,
)

router = ApiRouter(tags=["webhooks"])


def _policy(request: Request) -> OutboundPolicy:
    policy: OutboundPolicy = request.app.state.outbound_policy
    return policy


def _answer(webhook: Webhook, secret_key: str) -> WebhookAnswer:
    names = list(webhooks.webhook_headers(webhook, secret_key=secret_key))
    return webhook_answer(webhook, header_names=names)


def _authorize(principal: CurrentUser, webhook: Webhook) -> None:
    authorize(
        policies.can_manage_webhooks(
            principal, organization_id=webhook.organization_id, project_id=webhook.project_id
        )
    )


@router.get("/api/webhooks", response_model=list[WebhookAnswer])
def list_webhooks(
    session: DbSession,
    principal: CurrentUser,
    secret_key: SecretKey,
    project: str | None = None,
) -> list[WebhookAnswer]:
    """`?project=P`: that project's webhooks; without it, the organization's (Label Studio)."""
    project_id = parse_optional_int(project, field="project") if project else None
    authorize(
        policies.can_manage_webhooks(
            principal, organization_id=principal.organization_id, project_id=project_id
        )
    )
    rows = webhooks.list_webhooks(
        session, organization_id=principal.organization_id, project_id=project_id
    )
    return [_answer(row, secret_key) for row in rows]


@router.post("/api/webhooks", status_code=201, response_model=WebhookCreatedAnswer)
def create_webhook(
    request: Request,
    body: WebhookCreate,
    session: DbSession,
    principal: CurrentUser,
    secret_key: SecretKey,
    settings: ServiceSettings,
) -> WebhookCreatedAnswer:
    if body.project is None and not settings.allow_organization_webhooks:
        raise ValidationFailed({"project": ["This field is required."]})
    authorize(
        policies.can_manage_webhooks(
            principal, organization_id=principal.organization_id, project_id=body.project
        )
    )
    webhook, generated = webhooks.create_webhook(
        session,
        organization_id=principal.organization_id,
        project_id=body.project,
        created_by_id=principal.user_id,
        fields=body,
        secret_key=secret_key,
        policy=_policy(request),
    )
    record_audit(
        session,
        principal,
        "webhook.created",
        ("webhook", webhook.id),
        project_id=webhook.project_id,
        changes=values_summary(_audited(webhook)),
    )
    session.commit()
    answer = _answer(webhook, secret_key)
    return WebhookCreatedAnswer(**answer.model_dump(), secret=generated)


@router.get(
    "/api/webhooks/info",
    response_model=ActionsInfoAnswer,
    response_model_by_alias=True,
)
def webhook_actions_info(
    principal: CurrentUser,
    organization_only: Annotated[str | None, Query(alias="organization-only")] = None,
) -> ActionsInfoAnswer:
    """The actions a webhook can send; `?organization-only=` filters on that flag."""
    only = (
        None
        if organization_only is None
        else parse_bool(organization_only, field="organization-only", default=False)
    )
    return ActionsInfoAnswer(
        {
            name: ActionInfo(
                name=action.name,
                description=action.description,
                key=action.key,
                organization_only=action.organization_only,
            )
            for name, action in ACTIONS.items()
            if only is None or action.organization_only == only
        }
    )


@router.get("/api/webhooks/{webhook_id:int}", response_model=WebhookAnswer)
def get_webhook(
    webhook_id: int, session: DbSession, principal: CurrentUser, secret_key: SecretKey
) -> WebhookAnswer:
    webhook = webhooks.get_webhook(
        session, webhook_id=webhook_id, organization_id=principal.organization_id
    )
    _authorize(principal, webhook)
    return _answer(webhook, secret_key)


def _audited(webhook: Webhook) -> dict[str, Any]:
    """What an entry shows of a webhook: its fields, the encrypted header values and
    signing secret as masked names only (`labelops_common.audit.changes`)."""
    return column_values(webhook, exclude=("created_by_id",))


def _update(
    request: Request,
    webhook_id: int,
    body: WebhookFields,
    session: DbSession,
    principal: CurrentUser,
    secret_key: str,
) -> WebhookAnswer:
    webhook = webhooks.get_webhook(
        session, webhook_id=webhook_id, organization_id=principal.organization_id
    )
    _authorize(principal, webhook)
    before = _audited(webhook)
    webhooks.update_webhook(
        session, webhook=webhook, fields=body, secret_key=secret_key, policy=_policy(request)
    )
    changes = changes_between(before, _audited(webhook))
    if changes:
        record_audit(
            session,
            principal,
            "webhook.updated",
            ("webhook", webhook.id),
            project_id=webhook.project_id,
            changes=changes,
        )
    session.commit()
    return _answer(webhook, secret_key)


@router.patch("/api/webhooks/{webhook_id:int}", response_model=WebhookAnswer)
def update_webhook(
    request: Request,
    webhook_id: int,
    body: WebhookFields,
    session: DbSession,
    principal: CurrentUser,
    secret_key: SecretKey,
) -> WebhookAnswer:
    return _update(request, webhook_id, body, session, principal, secret_key)


@router.put("/api/webhooks/{webhook_id:int}", response_model=WebhookAnswer)
def replace_webhook(
    request: Request,
    webhook_id: int,
    body: WebhookReplace,
    session: DbSession,
    principal: CurrentUser,
    secret_key: SecretKey,
) -> WebhookAnswer:
    return _update(request, webhook_id, body, session, principal, secret_key)


@router.delete("/api/webhooks/{webhook_id:int}", status_code=204)
def delete_webhook(webhook_id: int, session: DbSession, principal: CurrentUser) -> Response:
    webhook = webhooks.get_webhook(
        session, webhook_id=webhook_id, organization_id=principal.organization_id
    )
    _authorize(principal, webhook)
    record_audit(
        session,
        principal,
        "webhook.deleted",
        ("webhook", webhook.id),
        project_id=webhook.project_id,
    )
    webhooks.delete_webhook(session, webhook=webhook)
    session.commit()
    return Response(status_code=204)


@router.get("/api/webhooks/{webhook_id:int}/deliveries", response_model=list[DeliveryAnswer])
def list_deliveries(
    webhook_id: int,
    session: DbSession,
    principal: CurrentUser,
    limit: str | None = None,
    status: str | None = None,
) -> list[DeliveryAnswer]:
    """The webhook's deliveries, newest first (`?limit=`, at most 500; `?status=`)."""
    webhook = webhooks.get_webhook(
        session, webhook_id=webhook_id, organization_id=principal.organization_id
    )
    _authorize(principal, webhook)
    if status is not None and status not in {
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
    }:
        raise ValidationFailed(
            {"status": ["Must be one of queued, running, succeeded, failed, cancelled."]}
        )
    count = parse_optional_int(limit, field="limit") if limit else 100
    if count is None or count < 1:
        raise ValidationFailed({"limit": ["Must be a positive integer."]})
    rows = webhooks.list_deliveries(session, webhook=webhook, limit=count, status=status)
    return [delivery_answer(row) for row in rows]


@router.post(
    "/api/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/redeliver",
    status_code=201,
    response_model=DeliveryAnswer,
)
def redeliver(
    webhook_id: int,
    delivery_id: int,
    session: DbSession,
    principal: CurrentUser,
    settings: ServiceSettings,
) -> DeliveryAnswer:
    """Sends the delivery's event again, as a new delivery (the log keeps the first)."""
    webhook = webhooks.get_webhook(
        session, webhook_id=webhook_id, organization_id=principal.organization_id
    )
    _authorize(principal, webhook)
    delivery = webhooks.get_delivery(session, webhook=webhook, delivery_id=delivery_id)
    again = webhooks.redeliver(
        session, delivery=delivery, max_attempts=settings.webhook_max_attempts
    )
    jobs.deliver_webhook.enqueue_after_commit(session, again.id)
    session.commit()
    return delivery_answer(again)


@router.post("/api/webhooks/{webhook_id:int}/test", status_code=201, response_model=DeliveryAnswer)
def send_test(
    webhook_id: int,
    session: DbSession,
    principal: CurrentUser,
    settings: ServiceSettings,
) -> DeliveryAnswer:
    """Queues a `WEBHOOK_TEST` delivery (`{"action": "WEBHOOK_TEST"}`), signed like any."""
    webhook = webhooks.get_webhook(
        session, webhook_id=webhook_id, organization_id=principal.organization_id
    )
    _authorize(principal, webhook)
    delivery = webhooks.create_test_delivery(
        session, webhook=webhook, event_id=new_event_id(), max_attempts=1
    )
    jobs.deliver_webhook.enqueue_after_commit(session, delivery.id)
    session.commit()
    return delivery_answer(delivery)
