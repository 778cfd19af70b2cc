"""Reading an entity's state history, and executing a manual transition by name.

The rows are written by the writers themselves (`fsm.records`); this module serves them.
Callers commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from labelops_common.http.errors import Conflict, NotFound, ValidationFailed
from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session

from task_svc.annotations.models import Annotation
from task_svc.counts import service as counts
from task_svc.fsm import records
from task_svc.fsm.models import StateRecord
from task_svc.tasks.models import Task

#: A manual transition's `transition_data` is kept in its row; past this it is refused.
TRANSITION_DATA_MAX_BYTES = 16_384


def check_entity_name(entity_name: str) -> None:
    if entity_name not in records.ENTITIES:
        raise ValidationFailed(
            {
                "entity_name": [
                    f"Unknown entity '{entity_name}': one of {', '.join(records.ENTITIES)}."
                ]
            }
        )


def _entity(entity_name: str, entity_id: int) -> list[ColumnElement[bool]]:
    table = StateRecord.__table__.c
    return [table.entity_name == entity_name, table.entity_id == entity_id]


def entity_project_id(session: Session, *, entity_name: str, entity_id: int) -> int:
    """The project a task, annotation or project belongs to (404 if there is none). A
    deleted task or annotation still has its history: its rows name its project."""
    if entity_name == records.PROJECT:
        return entity_id
    model: type[Task] | type[Annotation] = Task if entity_name == records.TASK else Annotation
    found = session.scalar(select(model.project_id).where(model.id == entity_id))
    if found is None:
        table = StateRecord.__table__.c
        found = session.scalar(
            select(table.project_id)
            .where(*_entity(entity_name, entity_id))
            .order_by(table.id.desc())
            .limit(1)
        )
    if found is None:
        raise NotFound()
    return int(found)


@dataclass(frozen=True)
class HistoryQuery:
    """Label Studio's history filters: dates inclusive, names case-insensitive."""

    entity_name: str
    entity_id: int
    project_id: int
    created_at_from: datetime | None = None
    created_at_to: datetime | None = None
    state: str | None = None
    previous_state: str | None = None
    transition_name: str | None = None
    triggered_by: int | None = None
    #: `id` (oldest first) or `-id` (newest first, the default).
    ordering: str = "-id"


ORDERINGS = ("id", "-id")


def _history(query: HistoryQuery) -> Select[Any]:
    table = StateRecord.__table__.c
    # The project too: a row is only ever served inside the project the caller may see.
    where = [*_entity(query.entity_name, query.entity_id), table.project_id == query.project_id]
    if query.created_at_from is not None:
        where.append(table.created_at >= query.created_at_from)
    if query.created_at_to is not None:
        where.append(table.created_at <= query.created_at_to)
    for column, value in (
        (table.state, query.state),
        (table.previous_state, query.previous_state),
        (table.transition_name, query.transition_name),
    ):
        if value is not None:
            where.append(func.lower(column) == value.lower())
    if query.triggered_by is not None:
        where.append(table.triggered_by_id == query.triggered_by)
    return select(StateRecord.__table__).where(*where)


def count_history(session: Session, *, query: HistoryQuery) -> int:
    counted = session.scalar(select(func.count()).select_from(_history(query).subquery()))
    return int(counted or 0)


def list_history(
    session: Session, *, query: HistoryQuery, offset: int, limit: int
) -> list[dict[str, Any]]:
    table = StateRecord.__table__.c
    order = table.id.asc() if query.ordering == "id" else table.id.desc()
    rows = session.execute(_history(query).order_by(order).offset(offset).limit(limit))
    return [dict(row) for row in rows.mappings()]


def execute_transition(
    session: Session,
    *,
    entity_name: str,
    entity_id: int,
    project_id: int,
    transition_name: str,
    transition_data: dict[str, Any] | None,
    user_id: int,
) -> dict[str, Any]:
    """Run a manual transition: refused (400) if the entity has no transition of that name
    or only writes trigger it, refused (409) from a state it does not leave; otherwise the
    entity's state becomes its target and a row records who did it. Returns the row."""
    transition = records.TRANSITIONS[entity_name].get(transition_name)
    if transition is None:
        known = ", ".join(
            name for name, t in records.TRANSITIONS[entity_name].items() if t.manual_from
        )
        raise ValidationFailed(
            {
                "transition_name": [
                    f"Unknown transition '{transition_name}' for {entity_name}"
                    + (f": one of {known}." if known else "; it has no manual transitions.")
                ]
            }
        )
    if not transition.manual_from:
        raise ValidationFailed(
            {
                "transition_name": [
                    f"'{transition_name}' is triggered by {entity_name} writes and cannot be "
                    "executed manually."
                ]
            }
        )
    if transition_data and len(json.dumps(transition_data)) > TRANSITION_DATA_MAX_BYTES:
        raise ValidationFailed(
            {"transition_data": [f"At most {TRANSITION_DATA_MAX_BYTES} bytes of JSON."]}
        )
    current = _current_state(session, entity_name=entity_name, entity_id=entity_id)
    if current not in transition.manual_from:
        raise Conflict(
            validation_errors={
                "transition_name": [
                    f"'{transition_name}' cannot run from state {current}; it runs from "
                    f"{', '.join(sorted(transition.manual_from))}."
                ]
            },
        )
    _store_state(session, entity_name=entity_name, entity_id=entity_id, state=transition.target)
    return records.record(
        session,
        entity_name=entity_name,
        entity_id=entity_id,
        project_id=project_id,
        transition=transition,
        previous_state=current,
        triggered_by=user_id,
        context={"manual": True, "transition_data": transition_data or {}},
    )


def _current_state(session: Session, *, entity_name: str, entity_id: int) -> str:
    """The entity's state as last recorded (or inferred), locked against concurrent writers."""
    if entity_name == records.PROJECT:
        return counts.project_state(session, project_id=entity_id)
    if entity_name == records.TASK:
        task = session.scalars(
            select(Task).where(Task.id == entity_id).with_for_update()
        ).one_or_none()
        if task is None:
            raise NotFound()
        return task.fsm_state or records.task_state(
            current=None,
            annotated=task.total_annotations + task.cancelled_annotations > 0,
            labeled=task.is_labeled,
        )
    # Annotations have no manual transitions, so this is never reached for them.
    raise ValidationFailed({"entity_name": [f"{entity_name} has no manual transitions."]})


def _store_state(session: Session, *, entity_name: str, entity_id: int, state: str) -> None:
    if entity_name == records.PROJECT:
        counts.store_project_state(session, project_id=entity_id, state=state)
        return
    table = Task.__table__
    session.execute(
        update(table).where(table.c.id == entity_id).values(fsm_state=state)  # type: ignore[arg-type]
    )
