"""Data-manager actions: what each changes in the DB, the counters after, and who may run them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from labelops.ml.v1 import ml_pb2, ml_pb2_grpc
from labelops_common.db import utcnow
from labelops_common.grpcutil import build_grpc_server
from labelops_runtime.suite import free_loopback_port
from sqlalchemy import select
from task_svc.datamanager.models import View
from task_svc.drafts.models import Draft

from .conftest import World, choice, headers_of  # type: ignore[import-not-found]

ALL = {"selectedItems": {"all": True, "excluded": []}}


def included(*ids: int) -> dict[str, Any]:
    return {"selectedItems": {"all": False, "included": list(ids)}}


def _draft(world: World, task_id: int, user_id: int, annotation_id: int | None = None) -> int:
    with world.stack.task_runtime.database.session() as session:
        now = utcnow()
        draft = Draft(
            task_id=task_id,
            project_id=world.project,
            user_id=user_id,
            annotation_id=annotation_id,
            result=choice("Neutral"),
            created_at=now,
            updated_at=now,
        )
        session.add(draft)
        session.commit()
        return draft.id


def _drafts(world: World) -> list[tuple[int, int]]:
    with world.stack.task_runtime.database.session() as session:
        return [
            (d.task_id, d.user_id)
            for d in session.scalars(select(Draft).where(Draft.project_id == world.project))
        ]


def _views(world: World) -> list[int]:
    with world.stack.task_runtime.database.session() as session:
        return list(session.scalars(select(View.id).where(View.project_id == world.project)))


# --------------------------------------------------------------------------------------
# Listing and dispatch
# --------------------------------------------------------------------------------------

ACTION_IDS = [
    "retrieve_tasks_predictions",
    "predictions_to_annotations",
    "assign_tasks",
    "unassign_tasks",
    "remove_duplicates",
    "delete_tasks",
    "delete_tasks_annotations",
    "delete_tasks_predictions",
]


@pytest.mark.parametrize(
    ("who", "status", "ids"),
    [
        ("owner", 200, ACTION_IDS),
        ("manager", 200, ACTION_IDS),
        ("annotator", 200, []),
        ("outsider", 404, None),
        ("anonymous", 401, None),
    ],
)
def test_listing_actions(world: World, who: str, status: int, ids: list[str] | None) -> None:
    answer = world.client.get(
        f"/api/dm/actions?project={world.project}", headers=headers_of(world.cast, who)
    )
    assert answer.status_code == status
    if ids is not None:
        listed = answer.json()
        assert [a["id"] for a in listed] == ids
        for action in listed:
            assert {"id", "title", "order", "permission", "dialog"} <= set(action)
        if listed:
            delete = next(a for a in listed if a["id"] == "delete_tasks")
            assert delete["reload"] is True and delete["order"] == 100


def test_missing_and_unknown_action_ids(world: World) -> None:
    task = world.task()
    missing = world.action(None, ALL)
    assert missing.status_code == 422, missing.text
    assert "id" in missing.json()["validation_errors"]
    unknown = world.action("drop_everything", ALL)
    assert unknown.status_code == 404
    no_project = world.client.post(
        "/api/dm/actions?id=delete_tasks", json=ALL, headers=world.cast.owner.headers
    )
    assert no_project.status_code == 400
    assert set(world.task_rows()) == {task}


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("manager", 200), ("annotator", 403), ("outsider", 404), ("anonymous", 401)],
)
@pytest.mark.parametrize(
    "action_id",
    [
        "delete_tasks",
        "delete_tasks_annotations",
        "delete_tasks_predictions",
        "predictions_to_annotations",
    ],
)
def test_permission_matrix(world: World, who: str, expected: int, action_id: str) -> None:
    task = world.task()
    world.annotate(task)
    world.predict(task, model_version="m1")
    before = (world.counters(), len(world.annotation_rows()), len(world.prediction_rows()))
    answer = world.action(action_id, ALL, headers=headers_of(world.cast, who))
    assert answer.status_code == expected, answer.text
    after = (world.counters(), len(world.annotation_rows()), len(world.prediction_rows()))
    assert (after == before) == (expected != 200)
    world.assert_counters_exact()


def test_bad_filters_are_refused_and_change_nothing(world: World) -> None:
    task = world.task()
    answer = world.action(
        "delete_tasks",
        {
            **ALL,
            "filters": {
                "conjunction": "and",
                "items": [
                    {"filter": "filter:tasks:id", "operator": "nope", "type": "Number", "value": 1}
                ],
            },
        },
    )
    assert answer.status_code == 400
    assert "filters.items[0].operator" in answer.json()["validation_errors"]
    bad_selection = world.action("delete_tasks", {"selectedItems": {"all": False, "included": "1"}})
    assert bad_selection.status_code == 400
    assert set(world.task_rows()) == {task}


# --------------------------------------------------------------------------------------
# delete_tasks
# --------------------------------------------------------------------------------------


def test_delete_tasks_by_selection_and_filters(world: World) -> None:
    ids = [world.task(f"t{i}") for i in range(5)]
    world.annotate(ids[0], ground_truth=True)
    world.annotate(ids[1], world.cast.annotator)
    world.predict(ids[1])
    world.client.post(
        "/api/dm/views",
        json={"project": world.project, "data": {"title": "tab"}},
        headers=world.cast.owner.headers,
    )

    answer = world.action("delete_tasks", included(ids[0], ids[4]))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"processed_items": 2, "reload": False, "detail": "Deleted 2 tasks"}
    assert set(world.task_rows()) == {ids[1], ids[2], ids[3]}
    world.assert_counters_exact()
    assert world.counters()["ground_truth_number"] == 0

    annotated = {
        "selectedItems": {"all": True, "excluded": []},
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:total_annotations",
                    "operator": "equal",
                    "type": "Number",
                    "value": 0,
                }
            ],
        },
    }
    answer = world.action("delete_tasks", annotated)
    assert answer.json()["processed_items"] == 2
    assert set(world.task_rows()) == {ids[1]}
    world.assert_counters_exact()
    assert _views(world)

    # The last task: the project is empty, and (as in Label Studio) its tabs go too.
    answer = world.action("delete_tasks", {"selectedItems": {"all": True, "excluded": []}})
    assert answer.json() == {"processed_items": 1, "reload": True, "detail": "Deleted 1 tasks"}
    assert world.task_rows() == {}
    assert _views(world) == []
    world.assert_counters_exact()
    assert world.counters()["task_number"] == 0


def test_delete_tasks_with_a_view(world: World) -> None:
    ids = [world.task("keep"), world.task("drop me"), world.task("drop too")]
    view = world.client.post(
        "/api/dm/views",
        json={
            "project": world.project,
            "data": {
                "filters": {
                    "conjunction": "and",
                    "items": [
                        {
                            "filter": "filter:tasks:data.text",
                            "operator": "contains",
                            "type": "String",
                            "value": "drop",
                        }
                    ],
                }
            },
        },
        headers=world.cast.owner.headers,
    ).json()
    answer = world.client.post(
        f"/api/dm/actions?project={world.project}&id=delete_tasks&view={view['id']}",
        json={"selectedItems": {"all": True, "excluded": [ids[2]]}},
        headers=world.cast.owner.headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["processed_items"] == 1
    assert set(world.task_rows()) == {ids[0], ids[2]}
    world.assert_counters_exact()


def test_legacy_sdk_delete_tasks_call(world: World) -> None:
    """The legacy SDK posts `/api/dm/actions?project=P&id=delete_tasks` (no slash)."""
    ids = [world.task(), world.task()]
    answer = world.client.post(
        f"/api/dm/actions/?id=delete_tasks&project={world.project}",
        json={"selectedItems": {"all": False, "included": [ids[0]]}},
        headers=world.cast.owner.headers,
    )
    assert answer.status_code == 200
    assert set(world.task_rows()) == {ids[1]}


# --------------------------------------------------------------------------------------
# delete_tasks_annotations
# --------------------------------------------------------------------------------------


def test_delete_annotations_of_one_annotator(world: World) -> None:
    ids = [world.task(), world.task(), world.task()]
    world.annotate(ids[0], world.cast.annotator)
    kept = world.annotate(ids[0], world.cast.annotator2)
    truth = world.annotate(ids[1], world.cast.annotator)
    # Only a manager marks ground truth (an annotator's own `ground_truth` is a 403).
    marked = world.client.patch(
        f"/api/annotations/{truth}", json={"ground_truth": True}, headers=world.cast.owner.headers
    )
    assert marked.status_code == 200, marked.text
    world.annotate(ids[2], world.cast.annotator, was_cancelled=True, result=[])
    _draft(world, ids[0], world.cast.annotator.user_id)
    _draft(world, ids[0], world.cast.annotator2.user_id)
    world.assert_counters_exact()

    answer = world.action(
        "delete_tasks_annotations", {**ALL, "annotator": world.cast.annotator.user_id}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"processed_items": 3, "detail": "Deleted 3 annotations"}
    assert [a.id for a in world.annotation_rows()] == [kept]
    assert _drafts(world) == [(ids[0], world.cast.annotator2.user_id)]
    rows = world.task_rows()
    assert rows[ids[0]].is_labeled is True  # annotator2's annotation still finishes it
    assert rows[ids[1]].is_labeled is False and rows[ids[1]].completed_at is None
    assert rows[ids[2]].cancelled_annotations == 0
    assert rows[ids[1]].updated_by_id == world.cast.owner.user_id
    world.assert_counters_exact()
    counters = world.counters()
    assert counters["ground_truth_number"] == 0 and counters["finished_task_number"] == 1
    assert counters["skipped_annotations_number"] == 0


def test_delete_all_annotations_of_selected_tasks(world: World) -> None:
    ids = [world.task(), world.task()]
    for task in ids:
        world.annotate(task, world.cast.annotator)
        world.annotate(task, world.cast.annotator2, label="Negative")
    first = world.annotation_rows()[0].id
    _draft(world, ids[0], world.cast.owner.user_id, annotation_id=first)
    answer = world.action("delete_tasks_annotations", included(ids[0]))
    assert answer.json()["processed_items"] == 2
    assert {a.task_id for a in world.annotation_rows()} == {ids[1]}
    assert _drafts(world) == []
    world.assert_counters_exact()
    counters = world.counters()
    assert (counters["total_annotations_number"], counters["num_tasks_with_annotations"]) == (2, 1)
    bad = world.action("delete_tasks_annotations", {**ALL, "annotator": "someone"})
    assert bad.status_code == 400 and "annotator" in bad.json()["validation_errors"]
    assert len(world.annotation_rows()) == 2


# --------------------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------------------


def test_delete_predictions_by_model_version(world: World) -> None:
    ids = [world.task(), world.task()]
    world.predict(ids[0], model_version="old", score=0.2)
    world.predict(ids[0], model_version="new", score=0.8)
    world.predict(ids[1], model_version="old", score=0.4)
    answer = world.action("delete_tasks_predictions", {**ALL, "model_version": "old"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"processed_items": 2, "detail": "Deleted 2 predictions"}
    assert [p.model_version for p in world.prediction_rows()] == ["new"]
    rows = world.task_rows()
    assert rows[ids[0]].predictions_score == pytest.approx(0.8)
    assert rows[ids[1]].predictions_score is None and rows[ids[1]].total_predictions == 0
    world.assert_counters_exact()
    assert world.counters()["total_predictions_number"] == 1
    answer = world.action("delete_tasks_predictions", ALL)
    assert answer.json()["processed_items"] == 1
    world.assert_counters_exact()
    assert world.counters()["total_predictions_number"] == 0


def test_predictions_to_annotations(world: World) -> None:
    ids = [world.task(), world.task(), world.task()]
    first = world.predict(ids[0], label="Negative", model_version="m1")
    world.predict(ids[0], model_version="m2")
    world.predict(ids[1], model_version="m1")
    answer = world.action("predictions_to_annotations", {**ALL, "model_version": "m1"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"response_code": 200, "detail": "Created 2 annotations"}
    annotations = world.annotation_rows()
    assert (annotations[0].task_id, annotations[0].parent_prediction_id) == (ids[0], first)
    assert all(a.completed_by_id == world.cast.owner.user_id for a in annotations)
    assert all(a.last_action == "prediction" for a in annotations)
    assert annotations[0].result[0]["value"] == {"choices": ["Negative"]}
    rows = world.task_rows()
    assert rows[ids[0]].is_labeled and rows[ids[1]].is_labeled and not rows[ids[2]].is_labeled
    world.assert_counters_exact()
    # Converting again makes nothing new; a list of versions picks up m2.
    again = world.action("predictions_to_annotations", {**ALL, "model_version": "m1"})
    assert again.json()["detail"] == "Created 0 annotations"
    both = world.action("predictions_to_annotations", {**ALL, "model_version": ["m1", "m2"]})
    assert both.json()["detail"] == "Created 1 annotations"
    assert world.task_rows()[ids[0]].total_annotations == 2
    world.assert_counters_exact()
    bad = world.action("predictions_to_annotations", {**ALL, "model_version": 3})
    assert bad.status_code == 400 and "model_version" in bad.json()["validation_errors"]


# --------------------------------------------------------------------------------------
# retrieve_tasks_predictions through a real loopback ml-gateway
# --------------------------------------------------------------------------------------


class FakeGateway(ml_pb2_grpc.MLGatewayServicer):
    """Records the jobs asked for; ml-gateway's own tests run the jobs against real backends."""

    def __init__(self) -> None:
        self.requests: list[ml_pb2.StartPredictionsRequest] = []

    def StartPredictions(
        self, request: ml_pb2.StartPredictionsRequest, context: grpc.ServicerContext
    ) -> ml_pb2.PredictionJob:
        self.requests.append(request)
        return ml_pb2.PredictionJob(
            job_id=41 + len(self.requests),
            project_id=request.project_id,
            ml_backend_id=7,
            status="queued",
            total=len(request.task_ids),
        )


class Unimplemented(ml_pb2_grpc.MLGatewayServicer):
    pass


def _serve(world: World, servicer: ml_pb2_grpc.MLGatewayServicer) -> Iterator[None]:
    address = f"127.0.0.1:{free_loopback_port()}"
    handle = build_grpc_server(
        service_name="ml-gateway",
        bind=address,
        register=[lambda server: ml_pb2_grpc.add_MLGatewayServicer_to_server(servicer, server)],
        service_full_names=("labelops.ml.v1.MLGateway",),
    )
    handle.start()
    peers = world.stack.common.grpc_peers
    previous = peers.get("ml-gateway")
    peers["ml-gateway"] = address
    try:
        yield
    finally:
        if previous is None:
            peers.pop("ml-gateway", None)
        else:
            peers["ml-gateway"] = previous
        handle.stop(grace=0)


@pytest.fixture()
def gateway(world: World) -> Iterator[FakeGateway]:
    servicer = FakeGateway()
    yield from (servicer for _ in _serve(world, servicer))


def test_retrieve_predictions_queues_a_job_in_ml_gateway(
    world: World, gateway: FakeGateway
) -> None:
    ids = [world.task(), world.task(), world.task()]
    answer = world.action("retrieve_tasks_predictions", included(ids[0], ids[2]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["processed_items"] == 2
    assert body["job"] == 42 and body["ml_backend"] == 7
    assert "in the background" in body["detail"]
    first = gateway.requests[0]
    assert (first.project_id, list(first.task_ids), first.all_tasks) == (
        world.project,
        [ids[0], ids[2]],
        False,
    )
    assert first.requested_by_id > 0
    # The whole project goes as `all_tasks`, never as a list of every id.
    whole = world.action("retrieve_tasks_predictions", ALL)
    assert whole.status_code == 200, whole.text
    assert whole.json()["processed_items"] == 3
    assert gateway.requests[1].all_tasks and list(gateway.requests[1].task_ids) == []
    # Nothing is stored by task-svc itself: the job stores through UpsertPredictions.
    assert world.prediction_rows() == []


def test_retrieve_predictions_when_the_gateway_cannot(world: World) -> None:
    task = world.task()
    for _ in _serve(world, Unimplemented()):
        answer = world.action("retrieve_tasks_predictions", ALL)
        assert answer.status_code == 400, answer.text
        assert "ML gateway" in answer.json()["detail"]
    peers = world.stack.common.grpc_peers
    previous = peers.get("ml-gateway")
    peers["ml-gateway"] = f"127.0.0.1:{free_loopback_port()}"  # nothing listens there
    try:
        answer = world.action("retrieve_tasks_predictions", ALL)
    finally:
        if previous is None:
            peers.pop("ml-gateway", None)
        else:
            peers["ml-gateway"] = previous
    assert answer.status_code == 503, answer.text
    assert answer.json()["detail"] == "ml-gateway is unavailable, try again later."
    assert world.prediction_rows() == []
    assert world.task_rows()[task].total_predictions == 0
