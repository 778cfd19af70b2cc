"""A delivery's body: Label Studio's webhook payload for the event (contract §9).

`{"action": ACTION}`, plus, when the webhook sends payloads, the action's object under
its key and the project with its counters. Events carry ids only; the objects are read
when the delivery is sent (tasks and annotations from task-svc's `StreamTasks`), so a
retry sends the objects as they are then.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import grpc
from labelops.task.v1 import task_pb2, task_pb2_grpc
from labelops_common.grpcutil import peer_stub
from labelops_common.settings import CommonSettings
from sqlalchemy.orm import Session

from project_svc.projects.counts import COUNT_FIELDS, CountsFetcher
from project_svc.projects.models import Project
from project_svc.projects.schemas import CreatorAnswer, project_response
from project_svc.users.models import User
from project_svc.webhooks.actions import ACTIONS, TEST_ACTION

logger = logging.getLogger(__name__)


class TaskReader(Protocol):
    """Reads tasks of a project by id, as Label Studio's task fields (with `annotations`)."""

    def __call__(
        self, project_id: int, task_ids: Sequence[int], *, with_annotations: bool
    ) -> list[dict[str, Any]]: ...


class PayloadUnavailable(Exception):
    """The objects of the body could not be read now (task-svc down): retry later."""


def grpc_task_reader(common: CommonSettings) -> TaskReader:
    def read(
        project_id: int, task_ids: Sequence[int], *, with_annotations: bool
    ) -> list[dict[str, Any]]:
        if not task_ids:
            return []
        stub = peer_stub(
            task_pb2_grpc.TaskServiceStub,
            target=common.peer_address("task-svc"),
            deadline_seconds=common.grpc_deadline_seconds,
        )
        request = task_pb2.StreamTasksRequest(
            project_id=project_id,
            task_ids=list(task_ids),
            include_annotations=with_annotations,
        )
        tasks: list[dict[str, Any]] = []
        try:
            for batch in stub.StreamTasks(request):
                for message in batch.tasks:
                    task = {
                        "id": message.id,
                        "data": json.loads(message.data_json or b"{}"),
                        "meta": json.loads(message.meta_json or b"{}"),
                        "project": message.project_id,
                        "inner_id": message.inner_id,
                    }
                    if with_annotations:
                        task["annotations"] = json.loads(message.annotations_json or b"[]")
                    tasks.append(task)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return []
            raise PayloadUnavailable(f"task-svc: {error.code().name}") from None
        return tasks

    return read


class ProjectPayloads:
    """Project payloads kept for a moment: a burst of events of one project (8 annotators
    submitting) sends the project's fields and counters as read at most `ttl_seconds`
    before, instead of reading them (a gRPC call for the counters) once per delivery."""

    def __init__(self, counts: CountsFetcher, *, ttl_seconds: float = 1.0) -> None:
        self.counts = counts
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[float, dict[str, Any]]] = {}

    def __call__(self, session: Session, project_id: int) -> dict[str, Any] | None:
        """The project's payload, or None if it does not exist (as of the last read)."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(project_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        project = session.get(Project, project_id)
        if project is None:
            return None
        payload = project_payload(session, project, self.counts)
        with self._lock:
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[project_id] = (now + self.ttl_seconds, payload)
        return payload


def project_payload(session: Session, project: Project, counts: CountsFetcher) -> dict[str, Any]:
    """All project fields plus the counters, as the projects API serves them."""
    fetched: dict[str, Any] = dict.fromkeys(COUNT_FIELDS)
    fetched.update(counts([project.id]).get(project.id, {}))
    creator = session.get(User, project.created_by_id) if project.created_by_id else None
    created_by = (
        CreatorAnswer(
            id=creator.id,
            first_name=creator.first_name,
            last_name=creator.last_name,
            email=creator.email,
            avatar=None,
        )
        if creator is not None
        else None
    )
    answer = project_response(project, counts=fetched, created_by=created_by)
    return answer.model_dump(mode="json")


def task_ids_of(event: dict[str, Any]) -> list[int]:
    """The ids of the tasks an event names (a list, a range, or one task)."""
    if event.get("task_ids") is not None:
        return [int(i) for i in event["task_ids"]]
    first, last = event.get("first_task_id"), event.get("last_task_id")
    if first is None or last is None:
        return [int(event["task_id"])] if event.get("task_id") is not None else []
    return list(range(int(first), int(last) + 1))


def _without_annotations(task: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task.items() if k != "annotations"}


def build_body(
    session: Session,
    *,
    action: str,
    project_id: int | None,
    event: dict[str, Any],
    send_payload: bool,
    project_payloads: Callable[[Session, int], dict[str, Any] | None],
    read_tasks: TaskReader,
) -> dict[str, Any]:
    """The JSON body for one delivery (see the module's docstring)."""
    body: dict[str, Any] = {"action": action}
    if not send_payload or action == TEST_ACTION or action not in ACTIONS:
        return body
    key = ACTIONS[action].key
    project = (
        project_payloads(session, project_id)
        if project_id is not None and action != "PROJECT_DELETED"
        else None
    )
    if action == "PROJECT_DELETED" or (key == "project" and project is None):
        body["project"] = {"id": project_id}
        return body
    if action == "TASKS_DELETED":
        if event.get("task_ids") is not None:
            body["tasks"] = [{"id": int(task_id)} for task_id in event["task_ids"]]
        else:
            # task-svc names the ids of few tasks only; of many, their count and id range.
            body["tasks"] = []
            body.update(
                {k: event[k] for k in ("task_count", "first_task_id", "last_task_id") if k in event}
            )
    elif action == "ANNOTATIONS_DELETED":
        body["annotations"] = [{"id": int(i)} for i in event.get("annotation_ids", [])]
    elif action == "TASKS_CREATED":
        tasks = read_tasks(project_id or 0, task_ids_of(event), with_annotations=False)
        body["tasks"] = tasks
    elif action in {"ANNOTATION_CREATED", "ANNOTATION_UPDATED"}:
        annotation_id = int(event["annotation_id"])
        tasks = read_tasks(project_id or 0, task_ids_of(event), with_annotations=True)
        task = tasks[0] if tasks else None
        found = [a for a in (task or {}).get("annotations", []) if a.get("id") == annotation_id]
        body["annotation"] = found[0] if found else {"id": annotation_id}
        body["task"] = _without_annotations(task) if task else {"id": event.get("task_id")}
    elif action == "ANNOTATIONS_CREATED":
        wanted = {int(i) for i in event.get("annotation_ids", [])}
        tasks = read_tasks(project_id or 0, task_ids_of(event), with_annotations=True)
        body["annotation"] = [
            a for task in tasks for a in task.get("annotations", []) if a.get("id") in wanted
        ]
        body["task"] = [_without_annotations(task) for task in tasks]
    elif key == "review":
        # task-svc's payload names the review, its annotation and task, both people and
        # the verdict (Label Studio Enterprise's review object, ids only).
        body["review"] = {
            "id": event.get("review"),
            **{k: event.get(k) for k in ("annotation", "task", "reviewer", "annotator")},
            "accepted": event.get("accepted"),
        }
    elif key == "label_link":
        body["label_link"] = event.get("label_link") or {
            k: v for k, v in event.items() if k != "organization_id"
        }
    if project is not None:
        body["project"] = project
    return body
