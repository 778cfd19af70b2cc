"""Projects as project-svc describes them, cached per process."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from labelops.project.v1 import project_pb2, project_pb2_grpc

from labelops_common.grpcutil import peer_error, peer_stub
from labelops_common.labelconfig import LabelConfig, LabelConfigError, parse_label_config
from labelops_common.settings import CommonSettings


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    organization_id: int
    label_config: str = ""
    title: str = ""
    maximum_annotations: int = 1
    skip_queue: str = "REQUEUE_FOR_OTHERS"
    sampling: str = "Sequential sampling"
    show_collab_predictions: bool = True
    model_version: str = ""
    #: When the project was made (Unix seconds): ML backends key models by `"<id>.<this>"`.
    created_at_unix: int = 0
    #: Every N-th new annotation trains the project's ML backends (0: never).
    min_annotations_to_start_training: int = 0
    #: Annotators and reviewers admitted to the project (managers and up need no admission).
    member_user_ids: frozenset[int] = frozenset()
    #: Annotators see others' annotations of the tasks they see (else only their own).
    annotators_see_others_annotations: bool = False
    #: "auto_distribution" or "assigned_only" (the label stream and task list show an
    #: annotator only the tasks assigned to them).
    label_stream_task_distribution: str = "auto_distribution"
    #: Most open tasks assigned to one person at once, per kind (0: no cap).
    max_tasks_per_person: int = 0
    #: Seconds a task handed out by the label stream stays reserved (0: service default).
    reservation_timeout_seconds: int = 0
    #: The share of tasks (1-100) that get `maximum_annotations` annotators; the rest get 1.
    overlap_cohort_percentage: int = 100
    #: Tasks whose agreement is below it need review; None: none is routed to review.
    agreement_threshold: float | None = None
    #: Boxes and polygons with the same label match at this IoU or more.
    agreement_iou_threshold: float = 0.5
    #: Label Studio's `parsed_label_config`: control name → type, to_name, inputs, labels.
    parsed: dict[str, Any] = field(default_factory=dict)
    config: LabelConfig | None = None

    @property
    def assigned_only(self) -> bool:
        return self.label_stream_task_distribution == "assigned_only"

    @classmethod
    def from_message(cls, message: project_pb2.Project) -> ProjectInfo:
        try:
            config = parse_label_config(message.label_config) if message.label_config else None
        except LabelConfigError:
            config = None
        return cls(
            id=message.id,
            organization_id=message.organization_id,
            label_config=message.label_config,
            title=message.title,
            maximum_annotations=max(message.maximum_annotations, 1),
            skip_queue=message.skip_queue or "REQUEUE_FOR_OTHERS",
            sampling=message.sampling or "Sequential sampling",
            show_collab_predictions=message.show_collab_predictions,
            model_version=message.model_version,
            created_at_unix=message.created_at_unix,
            min_annotations_to_start_training=message.min_annotations_to_start_training,
            member_user_ids=frozenset(message.member_user_ids),
            annotators_see_others_annotations=message.annotators_see_others_annotations,
            label_stream_task_distribution=message.label_stream_task_distribution
            or "auto_distribution",
            max_tasks_per_person=message.max_tasks_per_person,
            reservation_timeout_seconds=message.reservation_timeout_seconds,
            overlap_cohort_percentage=message.overlap_cohort_percentage or 100,
            agreement_threshold=(
                message.agreement_threshold if message.HasField("agreement_threshold") else None
            ),
            agreement_iou_threshold=message.agreement_iou_threshold or 0.5,
            parsed=json.loads(message.parsed_label_config_json or b"{}"),
            config=config,
        )


#: Project ids are int64 in project-svc's table and messages.
MAX_PROJECT_ID = 2**63 - 1


class ProjectDirectory:
    def __init__(self, common: CommonSettings, *, ttl_seconds: float = 5.0) -> None:
        self._common = common
        self._ttl = ttl_seconds
        self._cache: dict[int, tuple[float, ProjectInfo]] = {}
        self._lock = threading.Lock()

    def get(self, project_id: int) -> ProjectInfo | None:
        """The project, or None if project-svc does not know it; PeerError if it is down."""
        if not 0 < project_id <= MAX_PROJECT_ID:
            return None  # ids come from URLs; protobuf refuses one past int64 with ValueError
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(project_id)
        if cached and cached[0] > now:
            return cached[1]
        stub = peer_stub(
            project_pb2_grpc.ProjectServiceStub,
            target=self._common.peer_address("project-svc"),
            deadline_seconds=self._common.grpc_deadline_seconds,
        )
        try:
            message = stub.GetProject(project_pb2.GetProjectRequest(project_id=project_id))
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise peer_error("project-svc", exc) from None
            # Not cached: ids are handed out in order, so an id unknown now may be the
            # project someone creates next, and it must not answer 404 for a while after.
            return None
        info = ProjectInfo.from_message(message)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[project_id] = (now + self._ttl, info)
        return info

    def forget(self, project_id: int) -> None:
        with self._lock:
            self._cache.pop(project_id, None)
