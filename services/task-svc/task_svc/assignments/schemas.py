"""Request and answer shapes of assignments, with Label Studio Enterprise's names
(`type` "AN"/"RE", `users`, `selectedItems`, `assignee`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from task_svc.assignments.models import ANNOTATE, REVIEW, TaskAssignment

#: Label Studio's assignment types and this service's kinds.
KIND_BY_TYPE = {"AN": ANNOTATE, "RE": REVIEW}
TYPE_BY_KIND = {kind: code for code, kind in KIND_BY_TYPE.items()}

AssignmentType = Literal["AN", "RE"]


class AssigneesBody(BaseModel):
    """`POST|PATCH /api/projects/{id}/tasks/{task}/assignees`."""

    model_config = ConfigDict(extra="ignore")

    type: AssignmentType = "AN"
    users: list[int] = Field(min_length=1, max_length=1000)


class BulkAssigneesBody(BaseModel):
    """`POST /api/projects/{id}/tasks/assignees`: the data manager's selection (with
    `filters`, `ordering` and `view` as in its actions) and who gets it."""

    model_config = ConfigDict(extra="ignore")

    type: AssignmentType = "AN"
    users: list[int] = Field(min_length=1, max_length=1000)
    selectedItems: dict[str, Any]
    filters: dict[str, Any] | None = None
    view: int | None = None


class TaskAssignmentAnswer(BaseModel):
    id: int
    task: int
    assignee: int
    type: AssignmentType
    assigned_by: int | None
    created_at: str


class BulkAssignAnswer(BaseModel):
    """How many assignments the request made (or removed)."""

    assignments: int


class QueueAnswer(BaseModel):
    """One person's queue of one kind in a project: assigned tasks and those they finished."""

    user: int
    type: AssignmentType
    assigned: int
    done: int
    open: int


def assignment_fields(row: TaskAssignment) -> TaskAssignmentAnswer:
    return TaskAssignmentAnswer(
        id=row.id,
        task=row.task_id,
        assignee=row.user_id,
        type=TYPE_BY_KIND[row.kind],
        assigned_by=row.assigned_by_id,
        created_at=row.created_at.isoformat(),
    )
