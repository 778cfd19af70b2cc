"""Data-manager actions: bulk operations on the selected tasks. Callers commit.

Each action works through the selection in chunks of task ids; every chunk's task rows
are locked first (as a single annotation write locks its task), the rows change, and the
chunk's tasks get their counters recounted from their own annotations or predictions, in
one grouped query, with the differences added to the project's counters. So counters stay
exact however many tasks an action touches and whatever annotators do meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from labelops.ml.v1 import ml_pb2, ml_pb2_grpc
from labelops_common.auth.principal import Principal
from labelops_common.db import utcnow
from labelops_common.directory import ProjectInfo
from labelops_common.grpcutil import peer_error, peer_stub
from labelops_common.http.errors import ApiError, NotFound, ValidationFailed
from labelops_common.http.params import parse_optional_int
from labelops_common.settings import CommonSettings
from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from task_svc import access
from task_svc.agreement import service as agreement
from task_svc.annotations.models import Annotation
from task_svc.assignments import members as project_members
from task_svc.assignments import service as assignments
from task_svc.assignments.schemas import KIND_BY_TYPE
from task_svc.counts import service as counts
from task_svc.datamanager import service as dm
from task_svc.drafts.models import Draft
from task_svc.predictions.models import Prediction
from task_svc.tasks import service as tasks
from task_svc.tasks.models import Task

logger = logging.getLogger(__name__)

#: Task ids per locked chunk (also keeps every IN list short).
CHUNK_SIZE = 500
#: Starting a prediction job is a row and a message in ml-gateway: quick.
START_PREDICTIONS_DEADLINE_SECONDS = 10.0


class ActionIdRequired(ApiError):
    """Label Studio answers a missing action id with 422."""

    status_code = 422
    default_detail = "Action id is required"


class BadGatewayAnswer(ApiError):
    status_code = 400


@dataclass(frozen=True)
class ActionContext:
    project: ProjectInfo
    principal: Principal
    selection: dm.CompiledSelection
    params: dict[str, Any]
    common: CommonSettings


ActionFunction = Callable[[Session, ActionContext], dict[str, Any]]


@dataclass(frozen=True)
class Action:
    id: str
    description: dict[str, Any]
    policy: access.Policy
    run: ActionFunction


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _chunks(ids: Sequence[int], size: int = CHUNK_SIZE) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _lock_tasks(session: Session, task_ids: Sequence[int]) -> None:
    """Lock the tasks' rows until commit, in id order (so two actions cannot deadlock)."""
    if not task_ids:
        return
    session.execute(
        select(Task.id).where(Task.id.in_(list(task_ids))).order_by(Task.id).with_for_update()
    )


def _model_versions(params: dict[str, Any]) -> list[str] | None:
    """`model_version`: one version, a list of them, or absent (every version)."""
    value = params.get("model_version")
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValidationFailed({"model_version": ["Must be a string or a list of strings."]})


# --------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------


def delete_tasks(session: Session, context: ActionContext) -> dict[str, Any]:
    project_id = context.project.id
    if context.selection.is_whole_project:
        deleted = tasks.delete_tasks(session, project_id=project_id, task_ids=None)
    else:
        deleted = 0
        for chunk in _chunks(dm.scope_ids(session, context.selection)):
            deleted += tasks.delete_tasks(session, project_id=project_id, task_ids=chunk)
    # As Label Studio does: a project left without tasks loses its tabs.
    reload = not tasks.has_tasks(session, project_id=project_id)
    if reload:
        dm.delete_project_views(session, project_id=project_id)
    return {"processed_items": deleted, "reload": reload, "detail": f"Deleted {deleted} tasks"}


def delete_tasks_annotations(session: Session, context: ActionContext) -> dict[str, Any]:
    """Delete the selected tasks' annotations (only `annotator`'s, if given) and drafts."""
    annotator = parse_optional_int(context.params.get("annotator"), field="annotator")
    deleted = 0
    for chunk in _chunks(dm.scope_ids(session, context.selection)):
        _lock_tasks(session, chunk)
        chosen: list[ColumnElement[bool]] = [Annotation.task_id.in_(chunk)]
        if annotator is not None:
            chosen.append(Annotation.completed_by_id == annotator)
        rows = session.execute(
            select(Annotation.id, Annotation.task_id, Annotation.ground_truth).where(*chosen)
        ).all()
        if rows:
            annotation_ids = [row[0] for row in rows]
            # Drafts go too (the annotator's, or all of these tasks'), and with them the
            # drafts of the deleted annotations (explicitly, not left to the FK's cascade).
            drafts: ColumnElement[bool] = Draft.task_id.in_(chunk)
            if annotator is not None:
                drafts = or_(
                    and_(drafts, Draft.user_id == annotator),
                    Draft.annotation_id.in_(annotation_ids),
                )
            session.execute(delete(Draft).where(drafts))
            session.execute(delete(Annotation).where(Annotation.id.in_(annotation_ids)))
            deleted += len(rows)
            counts.recount_annotations(
                session,
                project=context.project,
                task_ids=sorted({row[1] for row in rows}),
                ground_truth_delta=-sum(1 for row in rows if row[2]),
                touched_by=context.principal.user_id,
            )
            agreement.refresh_tasks(
                session, project=context.project, task_ids=sorted({row[1] for row in rows})
            )
        else:
            draft_query = delete(Draft).where(Draft.task_id.in_(chunk))
            if annotator is not None:
                draft_query = draft_query.where(Draft.user_id == annotator)
            session.execute(draft_query)
    return {"processed_items": deleted, "detail": f"Deleted {deleted} annotations"}


def delete_tasks_predictions(session: Session, context: ActionContext) -> dict[str, Any]:
    versions = _model_versions(context.params)
    deleted = 0
    for chunk in _chunks(dm.scope_ids(session, context.selection)):
        _lock_tasks(session, chunk)
        chosen: list[ColumnElement[bool]] = [Prediction.task_id.in_(chunk)]
        if versions is not None:
            chosen.append(Prediction.model_version.in_(versions))
        rows = session.execute(select(Prediction.id, Prediction.task_id).where(*chosen)).all()
        if not rows:
            continue
        session.execute(delete(Prediction).where(Prediction.id.in_([row[0] for row in rows])))
        deleted += len(rows)
        counts.recount_predictions(
            session, project_id=context.project.id, task_ids=sorted({row[1] for row in rows})
        )
    return {"processed_items": deleted, "detail": f"Deleted {deleted} predictions"}


def predictions_to_annotations(session: Session, context: ActionContext) -> dict[str, Any]:
    """An annotation by the caller from each prediction that has none made from it yet."""
    versions = _model_versions(context.params)
    user_id = context.principal.user_id
    created = 0
    for chunk in _chunks(dm.scope_ids(session, context.selection)):
        _lock_tasks(session, chunk)
        converted = select(Annotation.parent_prediction_id).where(
            Annotation.task_id.in_(chunk), Annotation.parent_prediction_id.is_not(None)
        )
        query = select(Prediction).where(
            Prediction.task_id.in_(chunk), Prediction.id.not_in(converted)
        )
        if versions is not None:
            query = query.where(Prediction.model_version.in_(versions))
        predictions = list(session.scalars(query.order_by(Prediction.id)))
        if not predictions:
            continue
        now = utcnow()
        session.add_all(
            Annotation(
                task_id=prediction.task_id,
                project_id=context.project.id,
                completed_by_id=user_id,
                updated_by_id=user_id,
                result=prediction.result,
                parent_prediction_id=prediction.id,
                last_action="prediction",
                created_at=now,
                updated_at=now,
            )
            for prediction in predictions
        )
        created += len(predictions)
        counts.recount_annotations(
            session,
            project=context.project,
            task_ids=sorted({p.task_id for p in predictions}),
            touched_by=user_id,
        )
        agreement.refresh_tasks(
            session, project=context.project, task_ids=sorted({p.task_id for p in predictions})
        )
    return {"response_code": 200, "detail": f"Created {created} annotations"}


def _start_predictions(
    context: ActionContext, *, task_ids: list[int] | None
) -> ml_pb2.PredictionJob:
    """Ask ml-gateway to queue a prediction job (it stores through `UpsertPredictions`)."""
    stub = peer_stub(
        ml_pb2_grpc.MLGatewayStub,
        target=context.common.peer_address("ml-gateway"),
        deadline_seconds=START_PREDICTIONS_DEADLINE_SECONDS,
    )
    request = ml_pb2.StartPredictionsRequest(
        project_id=context.project.id,
        task_ids=task_ids or [],
        all_tasks=task_ids is None,
        requested_by_id=context.principal.user_id,
    )
    try:
        job: ml_pb2.PredictionJob = stub.StartPredictions(request)
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
        logger.warning(
            "ml-gateway StartPredictions failed",
            extra={"grpc_code": code.name, "project_id": context.project.id},
        )
        if code == grpc.StatusCode.UNIMPLEMENTED:
            raise BadGatewayAnswer(
                "Predictions are not available: the ML gateway cannot make them."
            ) from None
        if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
            raise BadGatewayAnswer("No ML backend is connected to this project.") from None
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            raise BadGatewayAnswer("The ML backend refused these tasks.") from None
        raise peer_error("ml-gateway", exc) from None
    return job


def retrieve_tasks_predictions(session: Session, context: ActionContext) -> dict[str, Any]:
    """Queue a prediction job in ml-gateway for the selected tasks (or the whole project).

    Label Studio sends every selected task to the backend in one call inside the request
    (and times out on big selections); here the action answers at once and the `ml` queue
    predicts in batches, skipping tasks that already hold a prediction of the backend's
    model version. `job` and `/api/ml/{backend}/jobs` show its progress.
    """
    if context.selection.is_whole_project:
        task_ids: list[int] | None = None
        count = counts.get_project_counts(session, project_ids=[context.project.id])[
            context.project.id
        ]["task_number"]
    else:
        task_ids = dm.scope_ids(session, context.selection)
        count = len(task_ids)
    if count == 0:
        return {"processed_items": 0, "detail": "Retrieved 0 predictions"}
    job = _start_predictions(context, task_ids=task_ids)
    return {
        "processed_items": count,
        "detail": f"Retrieving predictions for {count} tasks in the background",
        "job": job.job_id,
        "ml_backend": job.ml_backend_id,
    }


def remove_duplicates(session: Session, context: ActionContext) -> dict[str, Any]:
    """Label Studio's "Remove Duplicated Tasks": of the selected tasks with identical `data`,
    keep the first; the others' annotations and drafts move onto it, then they go."""
    groups = session.execute(
        select(func.min(Task.id), func.array_agg(Task.id))
        .where(*context.selection.where)
        .group_by(Task.data)
        .having(func.count() > 1)
    ).all()
    keepers: list[int] = []
    removed: list[int] = []
    for keeper, members in groups:
        keepers.append(int(keeper))
        duplicates = [int(member) for member in members if member != keeper]
        removed.extend(duplicates)
        for chunk in _chunks(duplicates):
            _lock_tasks(session, [keeper, *chunk])
            for child in (Annotation, Draft):
                session.execute(
                    update(child).where(child.task_id.in_(chunk)).values(task_id=keeper)
                )
    for chunk in _chunks(removed):
        tasks.delete_tasks(session, project_id=context.project.id, task_ids=chunk)
    for chunk in _chunks(keepers):
        counts.recount_annotations(session, project=context.project, task_ids=chunk)
        agreement.refresh_tasks(session, project=context.project, task_ids=chunk)
    return {"processed_items": len(removed), "detail": f"Removed {len(removed)} tasks"}


def _assignment_params(params: dict[str, Any], *, users_required: bool) -> tuple[str, list[int]]:
    """`type` ("AN" or "RE", default "AN") and `users` (user ids) of an assignment action."""
    code = params.get("type", "AN")
    if code not in KIND_BY_TYPE:
        raise ValidationFailed({"type": ['Must be "AN" or "RE".']})
    users = params.get("users")
    if users is None and not users_required:
        return KIND_BY_TYPE[code], []
    if (
        not isinstance(users, list)
        or not users
        or not all(isinstance(u, int) and not isinstance(u, bool) for u in users)
    ):
        raise ValidationFailed({"users": ["Must be a non-empty list of user ids."]})
    return KIND_BY_TYPE[code], users


def assign_tasks(session: Session, context: ActionContext) -> dict[str, Any]:
    """Label Studio Enterprise's "Assign Annotators/Reviewers": one set-based insert."""
    kind, users = _assignment_params(context.params, users_required=True)
    roles = project_members.member_roles(
        context.common, project_id=context.project.id, user_ids=users
    )
    assignments.check_assignees(roles, kind=kind)
    made = assignments.assign(
        session,
        project=context.project,
        where=context.selection.where,
        user_ids=users,
        kind=kind,
        assigned_by=context.principal.user_id,
    )
    return {"processed_items": made, "detail": f"Made {made} assignments"}


def unassign_tasks(session: Session, context: ActionContext) -> dict[str, Any]:
    """Remove the selected tasks' assignments (of `type`, and only `users`, when given)."""
    kind, users = _assignment_params(context.params, users_required=False)
    removed = assignments.unassign(
        session,
        project=context.project,
        where=context.selection.where,
        user_ids=users or None,
        kind=kind,
    )
    return {"processed_items": removed, "detail": f"Removed {removed} assignments"}


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

ACTIONS: dict[str, Action] = {
    action.id: action
    for action in (
        Action(
            id="retrieve_tasks_predictions",
            description={
                "title": "Retrieve Predictions",
                "order": 90,
                "permission": "predictions.any",
                "dialog": {
                    "title": "Retrieve Predictions",
                    "text": "Send the selected tasks to the ML backend connected to the "
                    "project. Please confirm your action.",
                    "type": "confirm",
                },
            },
            policy=access.can_manage_tasks,
            run=retrieve_tasks_predictions,
        ),
        Action(
            id="predictions_to_annotations",
            description={
                "title": "Create Annotations From Predictions",
                "order": 91,
                "permission": "tasks.change",
                "dialog": {
                    "title": "Create Annotations From Predictions",
                    "text": "Create annotations from predictions using selected predictions "
                    "set for each selected task. Your account will be assigned as an owner "
                    "to those annotations. ",
                    "type": "confirm",
                    "form": None,
                },
            },
            policy=access.can_manage_tasks,
            run=predictions_to_annotations,
        ),
        Action(
            id="assign_tasks",
            description={
                "title": "Assign Tasks",
                "order": 92,
                "permission": "tasks.assign",
                "dialog": {
                    "title": "Assign Tasks",
                    "text": "Assign the selected tasks to the people you choose, to annotate "
                    "(type AN) or to review (type RE).",
                    "type": "confirm",
                    "form": None,
                },
            },
            policy=access.can_assign_tasks,
            run=assign_tasks,
        ),
        Action(
            id="unassign_tasks",
            description={
                "title": "Unassign Tasks",
                "order": 93,
                "permission": "tasks.assign",
                "dialog": {
                    "title": "Unassign Tasks",
                    "text": "Remove the assignments of the selected tasks.",
                    "type": "confirm",
                    "form": None,
                },
            },
            policy=access.can_assign_tasks,
            run=unassign_tasks,
        ),
        Action(
            id="remove_duplicates",
            description={
                "title": "Remove Duplicated Tasks",
                "order": 95,
                "permission": "projects.change",
                "dialog": {
                    "text": "Confirm that you want to remove duplicated tasks with the same "
                    "data fields. Duplicated tasks will be deleted and all their annotations "
                    "will be moved to the first of the duplicated tasks.",
                    "type": "confirm",
                },
            },
            policy=access.can_manage_tasks,
            run=remove_duplicates,
        ),
        Action(
            id="delete_tasks",
            description={
                "title": "Delete Tasks",
                "order": 100,
                "permission": "tasks.delete",
                "reload": True,
                "dialog": {
                    "text": "You are going to delete the selected tasks. "
                    "Please confirm your action.",
                    "type": "confirm",
                },
            },
            policy=access.can_manage_tasks,
            run=delete_tasks,
        ),
        Action(
            id="delete_tasks_annotations",
            description={
                "title": "Delete Annotations",
                "order": 101,
                "permission": ["tasks.change", "annotations.delete"],
                "dialog": {
                    "text": "You are going to delete annotations from the selected tasks.\n"
                    "You can select specific annotators to delete annotations for.\n"
                    "Please confirm your action.",
                    "type": "confirm",
                    "form": None,
                },
            },
            policy=access.can_manage_tasks,
            run=delete_tasks_annotations,
        ),
        Action(
            id="delete_tasks_predictions",
            description={
                "title": "Delete Predictions",
                "order": 102,
                "permission": "predictions.any",
                "dialog": {
                    "text": "You are going to delete all predictions from the selected "
                    "tasks. Please confirm your action.",
                    "type": "confirm",
                },
            },
            policy=access.can_manage_tasks,
            run=delete_tasks_predictions,
        ),
    )
}


def list_actions(principal: Principal, project: ProjectInfo) -> list[dict[str, Any]]:
    """The actions the caller may run, ordered as the data manager shows them."""
    allowed = [a for a in ACTIONS.values() if a.policy(principal, project)]
    return [
        {"id": a.id, **a.description}
        for a in sorted(allowed, key=lambda a: (a.description["order"], a.id))
    ]


def action_form(
    session: Session, *, action: Action, project: ProjectInfo
) -> list[dict[str, Any]] | None:
    """`GET /api/dm/actions/{id}/form/`: the fields an action's dialog asks for, built from
    the project's data as Label Studio builds them; null for an action with no form."""
    if action.id == "predictions_to_annotations":
        versions = session.scalars(
            select(Prediction.model_version)
            .where(Prediction.project_id == project.id)
            .distinct()
            .order_by(Prediction.model_version)
        )
        options: list[Any] = list(versions)
        field = {"type": "select", "name": "model_version", "label": "Choose predictions"}
    elif action.id == "delete_tasks_annotations":
        annotators = session.scalars(
            select(Annotation.completed_by_id)
            .where(Annotation.project_id == project.id, Annotation.completed_by_id.is_not(None))
            .distinct()
            .order_by(Annotation.completed_by_id)
        )
        options = [{"value": user_id, "label": str(user_id)} for user_id in annotators]
        field = {"type": "select", "name": "annotator", "label": "Annotator"}
    else:
        return None
    return [{"columnCount": 1, "fields": [{**field, "options": options}]}]


def get_action(action_id: str | None) -> Action:
    if not action_id:
        raise ActionIdRequired(validation_errors={"id": ["This field is required."]})
    action = ACTIONS.get(action_id)
    if action is None:
        raise NotFound(f"Can't find '{action_id}' in registered actions")
    return action
