"""Label Studio's webhook actions (contract §9): what `/api/webhooks/info` lists.

`key` names the body field holding the action's object; an organization-only action is
sent to organization webhooks (no project) only, as Label Studio does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebhookAction:
    #: The action's id, as sent in the body's `action` field.
    action: str
    name: str
    description: str
    key: str
    organization_only: bool = False


ACTIONS: dict[str, WebhookAction] = {
    action.action: action
    for action in (
        WebhookAction(
            "PROJECT_CREATED", "Project created", "A project is created.", "project", True
        ),
        WebhookAction(
            "PROJECT_UPDATED", "Project updated", "A project's settings change.", "project"
        ),
        WebhookAction(
            "PROJECT_DELETED", "Project deleted", "A project is deleted.", "project", True
        ),
        WebhookAction("TASKS_CREATED", "Task created", "Tasks are imported or created.", "tasks"),
        WebhookAction("TASKS_DELETED", "Task deleted", "Tasks are deleted.", "tasks"),
        WebhookAction(
            "ANNOTATION_CREATED", "Annotation created", "An annotation is submitted.", "annotation"
        ),
        WebhookAction(
            "ANNOTATIONS_CREATED", "Annotations created", "Annotations are imported.", "annotation"
        ),
        WebhookAction(
            "ANNOTATION_UPDATED", "Annotation updated", "An annotation is changed.", "annotation"
        ),
        WebhookAction(
            "ANNOTATIONS_DELETED", "Annotation deleted", "Annotations are deleted.", "annotations"
        ),
        WebhookAction(
            "LABEL_LINK_CREATED",
            "Label link created",
            "A label is linked to a project.",
            "label_link",
        ),
        WebhookAction(
            "LABEL_LINK_UPDATED", "Label link updated", "A label link changes.", "label_link"
        ),
        WebhookAction(
            "LABEL_LINK_DELETED", "Label link deleted", "A label is unlinked.", "label_link"
        ),
        WebhookAction("REVIEW_CREATED", "Review created", "An annotation is reviewed.", "review"),
        WebhookAction("REVIEW_UPDATED", "Review updated", "A review is changed.", "review"),
        WebhookAction("REVIEWS_DELETED", "Review deleted", "Reviews are deleted.", "review"),
    )
}

#: Sent by "test-send" (`POST /api/webhooks/{id}/test`); never sent for an event.
TEST_ACTION = "WEBHOOK_TEST"
